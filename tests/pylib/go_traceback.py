"""go_traceback.py — parse the Go runtime's crash output (stderr), the ground truth of the Go fidelity tests.

What the runtime prints when a Go program dies, read from runtime/panic.go, runtime/traceback.go and
runtime/signal_unix.go of Go 1.22 to 1.27 and checked on real output of those versions
(tests/go/test_traceback.py). At GOTRACEBACK=crash (level 2) the output is made of sections:

    panic: MSG                                  \\ the header: panics (nested ones indented by a tab,
        panic: MSG2 [recovered]                  | " [recovered]" or " [recovered, repanicked]" after),
    fatal error: MSG                             | a throw, "runtime: ..." diagnostics before it,
    [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4601d8]
    SIGSEGV: segmentation violation              | or a signal the runtime could not turn into a panic
    PC=0x47e629 m=0 sigcode=1 addr=0x0           | (a fault in C code, SIGQUIT), with notes such as
    signal arrived during cgo execution         /  "signal arrived during cgo execution"

    runtime stack:                              the system stack of a throw, frames only
    FRAMES

    goroutine 1 gp=0xc0000061c0 m=0 mp=0x4e5480 [chan receive, 2 minutes, locked to thread]:
    FRAMES                                      a goroutine block (without gp=/m= below level 2, and for
    created by main.main in goroutine 1         goroutines not running at level 1)
    \t/path/main.go:12 +0x1f

    rax    0x2a ...                             registers of the thread the signal came to (level 2)

    -----                                       then, at level crash, one section for each other
                                                thread, made to print by the SIGQUIT the runtime
    SIGQUIT: quit                               relays: its g0 or gsignal stack ("goroutine 0") and
    PC=0x45e103 m=2 sigcode=0                   registers, and the goroutine it was running
    ...

A frame is a function line and a file line:

    main.f(0x1, {0x4b1c20, 0x5})                 function and arguments ("..." for an inlined frame;
    \t/path/file.go:123 +0x1d fp=0x.. sp=0x.. pc=0x..   runtime.gopanic prints as "panic")

and also "non-Go function at pc=0x..." (cgo callers), "...N frames elided..." (the middle of a deep
stack), and "\tgoroutine running on other thread; stack unavailable".

parse(text) returns the whole picture as a dict; parse_goroutines(text) the list of goroutines, each:

    {id, status, wait_reason, wait_minutes, locked, frames: [{function, file, line, ...}],
     created_by: {function, file, line, goroutine} or None, elided, ...}

Values are what the runtime printed, exactly (function names as printed, file paths as printed,
line numbers as ints); nothing is guessed. Extra keys are documented where they are made.

Command line: python3 tests/pylib/go_traceback.py [FILE]  prints parse() of FILE (or stdin) as JSON.

Named go_traceback, not traceback, which is a standard Python module: `from pylib import go_traceback`.
"""

import json
import re
import sys

# gStatusStrings of every version (traceback.go); anything else in the brackets is a wait reason.
# "preempted" is both a status and a wait reason (waitReasonPreempted): the text cannot tell them
# apart, and it is read as the status.
STATUS_NAMES = frozenset([
    "idle", "runnable", "running", "syscall", "waiting", "dead", "copystack", "preempted",
    "leaked", "waiting for cgo callback", "", "???",
])

# Wait reasons whose own text ends in "(durable)" (1.25+): that suffix is part of the reason there,
# not the " (durable)" the runtime appends for other reasons of goroutines idle in a synctest bubble.
DURABLE_REASONS = frozenset([
    "chan receive (durable)", "chan send (durable)", "select (durable)",
    "sync.WaitGroup.Wait (durable)",
])

# How the traceback prints a function whose symbol name differs (printFuncName).
PRINTED_AS = {"panic": "runtime.gopanic"}

_HEX = r"0x[0-9a-f]+"
_GOROUTINE = re.compile(
    r"^goroutine (?P<id>\d+)"
    r"(?: gp=(?P<gp>" + _HEX + r") m=(?:(?P<m>\d+) mp=(?P<mp>" + _HEX + r")|nil))?"
    r" \[(?P<bracket>[^\]]*)\](?P<labels>.*):$")
_FILE_LINE = re.compile(
    r"^\t(?P<file>.*):(?P<line>-?\d+)"
    r"(?: \+0x(?P<off>[0-9a-f]+))?"
    r"(?: fp=(?P<fp>" + _HEX + r") sp=(?P<sp>" + _HEX + r") pc=(?P<pc>" + _HEX + r"))?$")
_CREATED_BY = re.compile(r"^created by (?P<function>.+?)(?: in goroutine (?P<goroutine>\d+))?$")
_ELIDED = re.compile(r"^\.\.\.(?:(?P<n>\d+)|additional) frames elided\.\.\.$")
_NON_GO = re.compile(r"^non-Go function at pc=(?P<pc>" + _HEX + r")$")
_SIGNAL_LINE = re.compile(
    r"^\[signal (?P<name>SIG\w+|" + _HEX + r")(?:: (?P<description>.*?))?"
    r" code=(?P<code>\S+) addr=(?P<addr>\S+) pc=(?P<pc>\S+)\]$")
_SIGNAL_HEADER = re.compile(r"^(?P<name>SIG[A-Z0-9]+): (?P<description>.+)$")
_PC_LINE = re.compile(
    r"^PC=(?P<pc>" + _HEX + r") m=(?P<m>\d+) sigcode=(?P<code>-?\d+)(?: addr=(?P<addr>" + _HEX + r"))?$")
_REGISTER = re.compile(r"^(?P<name>[a-z][a-z0-9]*) +(?P<value>" + _HEX + r")$")
_ANCESTOR = re.compile(r"^\[originating from goroutine (?P<id>\d+)\]:$")
_MINUTES = re.compile(r"^(?P<n>\d+) minutes$")


def _int(s, base=10):
    return None if s is None else int(s, base)


def parse_status(bracket):
    """Split the bracket text of a goroutine header into its parts.

    "chan receive, 2 minutes, locked to thread" gives status "waiting", wait reason "chan receive",
    2 minutes, locked. Suffixes the runtime adds to the first part: " (leaked)" (1.26+),
    " (scan)", " (durable)" (1.25+ synctest); items after it: "N minutes", "locked to thread",
    "synctest group N" (1.24) or "synctest bubble N" (1.25+). Any other item is kept in
    status_extra.
    """
    parts = bracket.split(", ")
    text = parts[0]
    out = {"status_text": text, "status": None, "wait_reason": None, "wait_minutes": 0,
           "locked": False, "scan": False, "leaked": False, "durable": False, "bubble": None,
           "status_extra": []}
    if text.endswith(" (durable)") and text not in DURABLE_REASONS:
        out["durable"] = True
        text = text[:-len(" (durable)")]
    elif text in DURABLE_REASONS:
        out["durable"] = True
    if text.endswith(" (scan)"):
        out["scan"] = True
        text = text[:-len(" (scan)")]
    if text.endswith(" (leaked)"):
        out["leaked"] = True
        text = text[:-len(" (leaked)")]
    if out["leaked"]:
        out["status"] = "leaked"
        out["wait_reason"] = None if text == "leaked" else text
    elif text in STATUS_NAMES:
        out["status"] = text
    else:
        out["status"] = "waiting"
        out["wait_reason"] = text
    for item in parts[1:]:
        m = _MINUTES.match(item)
        if m:
            out["wait_minutes"] = int(m.group("n"))
        elif item == "locked to thread":
            out["locked"] = True
        elif item.startswith("synctest group ") or item.startswith("synctest bubble "):
            out["bubble"] = int(item.rsplit(" ", 1)[1])
        else:
            out["status_extra"].append(item)  # unknown to this parser: tests check it is empty
    return out


def parse_function_line(line):
    """'main.f(0x1, ...)' -> (function, args). Names may hold parentheses ("runtime.(*T).m") but
    arguments never do, so the arguments start at the last '('."""
    if not line.endswith(")"):
        return None
    i = line.rfind("(")
    if i <= 0:
        return None
    return line[:i], line[i + 1:-1]


class _Lines:
    def __init__(self, text):
        self.lines = text.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.i = 0

    def peek(self):
        return self.lines[self.i] if self.i < len(self.lines) else None

    def next(self):
        line = self.lines[self.i]
        self.i += 1
        return line


def _parse_frames(src, block):
    """Read frame lines into block['frames'] until a line that is not part of a stack. Sets
    block['elided'] (and 'elided_frames', the count the runtime gave, None for the older
    "...additional frames elided...") and, for goroutines, 'created_by', 'unavailable' and
    'ancestors' (GODEBUG=tracebackancestors: each with its own frames, elided and created_by)."""
    target = block
    target.setdefault("frames", [])
    while True:
        line = src.peek()
        if line is None or line == "":
            return
        if line == "\tgoroutine running on other thread; stack unavailable":
            src.next()
            block["unavailable"] = True
            continue
        m = _ELIDED.match(line)
        if m:
            src.next()
            target["elided"] = True
            target["elided_frames"] = _int(m.group("n"))
            target["frames"].append({"function": None, "file": None, "line": None, "elided": True,
                                     "count": _int(m.group("n"))})
            continue
        m = _NON_GO.match(line)
        if m:
            src.next()
            target["frames"].append({"function": None, "file": None, "line": None, "non_go": True,
                                     "pc": int(m.group("pc"), 16)})
            continue
        m = _CREATED_BY.match(line)
        if m:
            src.next()
            fl = _FILE_LINE.match(src.peek() or "")
            if fl:  # missing only when the output was cut short
                src.next()
            target["created_by"] = {
                "function": m.group("function"), "file": fl and fl.group("file"),
                "line": fl and int(fl.group("line")), "goroutine": _int(m.group("goroutine")),
                "offset": fl and _int(fl.group("off"), 16),
            }
            continue
        m = _ANCESTOR.match(line)
        if m:
            src.next()
            target = {"id": int(m.group("id")), "frames": [], "created_by": None, "elided": False,
                      "elided_frames": None}
            block.setdefault("ancestors", []).append(target)
            continue
        fn = parse_function_line(line) if not line.startswith("\t") else None
        if fn is None:
            return
        after = src.lines[src.i + 1] if src.i + 1 < len(src.lines) else ""
        fl = _FILE_LINE.match(after)
        if not fl:
            return  # not a frame: a register line, a header, ...
        src.next()
        src.next()
        function, args = fn
        target["frames"].append({
            "function": function,
            "symbol": PRINTED_AS.get(function, function),
            "file": fl.group("file"),
            "line": int(fl.group("line")),
            "args": args,
            "inlined": args == "...",
            "offset": _int(fl.group("off"), 16),
            "fp": _int(fl.group("fp"), 16),
            "sp": _int(fl.group("sp"), 16),
            "pc": _int(fl.group("pc"), 16),
        })


def _new_section():
    return {"signal": None, "notes": [], "runtime_stack": None, "goroutines": [], "registers": {}}


def parse(text):
    """Parse the whole crash output. Returns a dict:

    panics        [{message, recovered, repanicked}], outermost first ("panic: " lines)
    fatal_error   the "fatal error: " message, or None (the first, when two threads threw at once)
    fatal_errors  every "fatal error: " message
    runtime_messages  the "runtime: ..." lines before it
    signal        {name, description, code, addr, pc} from "[signal ...]" or from the first
                  section's signal header, or None (code/addr/pc as ints)
    sections      [{signal, notes, runtime_stack, goroutines, registers}]: the first is the
                  crashing thread's, one more for each thread that printed on SIGQUIT
    goroutines    parse_goroutines(): every goroutine block with an id above 0 across sections,
                  one per id; a block with frames wins over one whose stack was unavailable
    other         lines outside the grammar, kept rather than rejected (program output, or a
                  form this parser does not know: tests check it is empty)

    It raises nothing on odd input: a cut-short output parses as far as it goes.
    """
    src = _Lines(text)
    out = {"panics": [], "fatal_error": None, "fatal_errors": [], "runtime_messages": [], "signal": None,
           "sections": [], "goroutines": [], "other": []}
    section = _new_section()
    out["sections"].append(section)
    last_text = None  # the message a continuation line belongs to (multi-line panic values)

    while src.peek() is not None:
        line = src.next()
        if line == "":
            last_text = None
            continue
        if line == "-----":
            section = _new_section()
            out["sections"].append(section)
            last_text = None
            continue
        if line.startswith("panic: ") or line.startswith("\tpanic: "):
            msg = line.split("panic: ", 1)[1]
            p = {"message": msg, "recovered": False, "repanicked": False}
            out["panics"].append(p)
            last_text = p
            _panic_suffix(p)
            continue
        if last_text is not None and not line.startswith(("fatal error: ", "runtime: ", "goroutine ")) \
                and not _SIGNAL_LINE.match(line):
            # The rest of a multi-line panic value: the runtime indents it by a tab from 1.23
            # (printindented) and prints it as it is before.
            last_text["message"] += "\n" + (line[1:] if line.startswith("\t") else line)
            _panic_suffix(last_text)
            continue
        last_text = None
        if line.startswith("fatal error: "):
            out["fatal_errors"].append(line[len("fatal error: "):])
            out["fatal_error"] = out["fatal_errors"][0]
            continue
        if line.startswith("runtime: "):
            out["runtime_messages"].append(line)
            continue
        m = _SIGNAL_LINE.match(line)
        if m:
            out["signal"] = {"name": m.group("name"), "description": m.group("description"),
                             "code": int(m.group("code"), 0), "addr": int(m.group("addr"), 0),
                             "pc": int(m.group("pc"), 0)}
            continue
        m = _SIGNAL_HEADER.match(line)
        pcl = m and _PC_LINE.match(src.peek() or "")
        if pcl:
            src.next()
            section["signal"] = {"name": m.group("name"), "description": m.group("description"),
                                 "pc": int(pcl.group("pc"), 16), "m": int(pcl.group("m")),
                                 "code": int(pcl.group("code")), "addr": _int(pcl.group("addr"), 16)}
            continue
        if line.startswith("signal arrived during "):
            section["notes"].append(line)
            continue
        if line == "runtime stack:":
            stack = {}
            _parse_frames(src, stack)
            section["runtime_stack"] = stack["frames"]
            continue
        m = _GOROUTINE.match(line)
        if m:
            g = {"id": int(m.group("id")), "gp": _int(m.group("gp"), 16),
                 "m": _int(m.group("m")), "mp": _int(m.group("mp"), 16),
                 "labels": m.group("labels").strip() or None}
            g.update(parse_status(m.group("bracket")))
            g.update({"frames": [], "created_by": None, "elided": False, "elided_frames": None,
                      "unavailable": False, "section": len(out["sections"]) - 1})
            _parse_frames(src, g)
            section["goroutines"].append(g)
            continue
        m = _REGISTER.match(line)
        if m:
            section["registers"][m.group("name")] = int(m.group("value"), 16)
            continue
        out["other"].append(line)

    if out["signal"] is None and out["sections"][0]["signal"] is not None:
        s = out["sections"][0]["signal"]
        out["signal"] = {"name": s["name"], "description": s["description"], "code": s["code"],
                         "addr": s["addr"], "pc": s["pc"]}
    out["goroutines"] = _merge_goroutines(out["sections"])
    return out


def _panic_suffix(p):
    msg = p["message"]
    if msg.endswith(" [recovered, repanicked]"):
        p["message"] = msg[:-len(" [recovered, repanicked]")]
        p["recovered"] = p["repanicked"] = True
    elif msg.endswith(" [recovered]"):
        p["message"] = msg[:-len(" [recovered]")]
        p["recovered"] = True


def _merge_goroutines(sections):
    by_id = {}
    order = []
    for sec in sections:
        for g in sec["goroutines"]:
            if g["id"] == 0:
                continue  # a thread's g0 or gsignal stack, not a goroutine
            old = by_id.get(g["id"])
            if old is None:
                by_id[g["id"]] = g
                order.append(g["id"])
            elif not old["frames"] and g["frames"]:
                g["created_by"] = g["created_by"] or old["created_by"]
                by_id[g["id"]] = g
    return [by_id[i] for i in order]


def parse_goroutines(text):
    """The goroutines of a crash output: see parse()['goroutines']."""
    return parse(text)["goroutines"]


def top_user_frame(goroutine, prefix="main."):
    """The first frame whose function starts with prefix (default: the main package)."""
    for f in goroutine["frames"]:
        if f.get("function") and f["function"].startswith(prefix):
            return f
    return None


def crashing_goroutine(tb):
    """The goroutine the crash happened on, or None. The runtime prints the current goroutine
    first: running, or in a syscall when the fault came in C code called through cgo. A throw
    from the scheduler (a deadlock) has no current goroutine: its first block is a parked one."""
    first = tb["sections"][0]["goroutines"]
    if first and first[0]["id"] != 0 and first[0]["status"] in ("running", "syscall"):
        return first[0]
    return None


def main(argv):
    text = open(argv[1], errors="replace").read() if len(argv) > 1 else sys.stdin.read()
    json.dump(parse(text), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
