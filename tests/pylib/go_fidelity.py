"""go_fidelity.py — compare a dump's goroutines with the Go runtime's own traceback of the same crash.

The crash program runs with lastgasp preloaded and GOTRACEBACK=system (every goroutine, every frame),
so in one process the runtime prints its traceback (stderr) and lastgasp writes its dump. For every
goroutine the runtime printed with a stack, the dump must have the same goroutine id, status and
wait reason, and the same sequence of functions with the same file:line, inlined frames included.

Two differences are by construction, not by error, and are the only ones allowed:
  - after a panic or a fatal error the runtime prints its traceback before it raises SIGABRT; the
    dump is taken after, so the crashing goroutine's dump stack may have extra runtime frames on
    top (fatalpanic, the switch to the system stack): the runtime's frames must be a suffix of the
    dump's. The same holds for a goroutine the runtime printed as running on another thread: it ran
    on between the two moments (a second writer of a racing map reaching its own throw). (A signal
    the runtime reports itself, a fault in C, a signal sent, a trap, is the other way round: the
    dump is taken first, from the signal's own context, which is where the runtime's traceback of
    the crashing goroutine starts too: the frames are equal.)
  - the runtime prints runtime.gopanic as "panic". (A stack of more than 100 frames is cut the same
    way on both sides: the innermost 50, "...N frames elided...", the outermost 50; N must agree.)
"""

import re

RUNTIME_PRINT_NAMES = {"runtime.gopanic": "panic"}

REASON_START = ("panic: ", "fatal error: ")


def runtime_reason(stderr):
    """Why the program died, as the runtime printed it: what the dump's go.reason must equal.

    It is the text from the first line that starts with "panic: " or "fatal error: " up to the blank
    line the runtime prints before its traceback ("goroutine N [...]:" or "runtime stack:"), each
    line with its newline. That takes in nested panics ("\tpanic: ..."), the "\tfatal error: ..."
    that follows the panics in flight (Go 1.26+), the continuation lines of a value with newlines in
    it, and the "[signal ...]" line. It leaves out what comes before: the program's own output, and
    the diagnostics a throw site prints before it throws ("runtime: goroutine stack exceeds
    1048576-byte limit", "runtime: sp=... stack=[...]"), which come from that site's local
    variables and are not in the dump. None when there is no such line (a fault in C code).
    """
    lines = stderr.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith(REASON_START):
            out = []
            for l in lines[i:]:
                if l.strip("\n") == "":
                    break
                out.append(l if l.endswith("\n") else l + "\n")
            return "".join(out)
    return None


# Values lastgasp does not decode, and the text it writes in their place. Only in the programs named:
# the pattern matches the whole line as the runtime prints it (Go 1.22-1.25 print a float in their
# own %e form, 1.26 and later shortest-round-trip), and the replacement is what the dump says.
REASON_FALLBACKS = {
    "panicvalues": [(r"^(\tpanic: )(\+2\.500000e\+000|2\.5)$", r"\1(float64) <value not decoded>")],
}


def collapse_racing_fatal_lines(reason):
    """Before Go 1.24, fatal() took no print lock (golang/go#69447): two threads that hit the same
    fatal error at once (the two writers of mapwrites) may each print their "fatal error: ..." line
    before one of them prints the traceback. The dump's reason is the crashing thread's own, one
    line; the other thread's copy is dropped here. Only a line equal to the one before it goes."""
    if reason is None:
        return None  # a signal the runtime reports itself: no reason at all
    out = []
    for line in (reason or "").splitlines(keepends=True):
        if out and line.startswith("fatal error: ") and line == out[-1]:
            continue
        out.append(line)
    return "".join(out)


def expected_reason(prog, stderr, go_version):
    """runtime_reason with the documented fallbacks applied; each fallback must apply exactly once."""
    want = runtime_reason(stderr)
    minor = int(re.match(r"go1\.(\d+)", go_version).group(1))
    if minor < 24:
        want = collapse_racing_fatal_lines(want)
    for pattern, repl in REASON_FALLBACKS.get(prog, []):
        want, n = re.subn(pattern, repl, want or "", flags=re.M)
        assert n == 1, f"{prog}: the runtime's output no longer has the line {pattern!r}:\n{want}"
    return want


def printed_name(function):
    return RUNTIME_PRINT_NAMES.get(function, function)


def dump_frames(goroutine):
    """The Go frames (C frames of a cgo call are the dump's own addition)."""
    return [(printed_name(f["function"]), f["file"], f["line"]) for f in goroutine["frames"] if not f.get("native")]


def tb_frames(goroutine):
    return [(f["function"], f["file"], f["line"]) for f in goroutine["frames"] if not f.get("elided")]


def tb_elided(goroutine):
    return sum(f.get("count", 0) for f in goroutine["frames"] if f.get("elided"))


# The functions that set m.vdsoSP around a vDSO call. While an M is inside one, the runtime's traceback of the
# goroutine that M serves starts at m.vdsoPC/vdsoSP (traceback.go, traceback1), on whatever stack the M is on: a
# GC worker parked on the system stack is printed with the g0 frames of that instant (nanotime, suspendG,
# markroot, ..., systemstack; seen under qemu-user, Go 1.22, 1 run in many). The dump, written after the runtime
# printed, sees the M elsewhere and the goroutine at its own saved frames: such a goroutine's frames are a matter
# of timing, and only its presence and state are compared.
VDSO_CALLERS = {"runtime.nanotime", "runtime.nanotime1", "runtime.walltime", "runtime.walltime1"}


def without_runtime_background(traceback_goroutines, crashed_id):
    """The traceback's goroutines but the runtime's own background ones (created by runtime.*: cleanups,
    finalizers, GC workers), as test_capture_matrix's normalization leaves them out. For a fault in C under
    emulation: the dump comes first and the runtime prints much later, and one of them was seen parking in between
    (1 run in 25 under qemu-user: runnable in runtime.runCleanups in the dump, 'cleanup wait' in the traceback)."""
    return [g for g in traceback_goroutines if g["id"] == crashed_id
            or not (g["created_by"] or {}).get("function", "").startswith("runtime.")]


def compare(traceback_goroutines, dump_go, crashed_id):
    """Return a list of human-readable mismatches (empty when the dump agrees)."""
    problems = []
    by_id = {g["id"]: g for g in dump_go["goroutines"]}
    for tg in traceback_goroutines:
        if not tg["frames"]:
            continue  # "goroutine running on other thread; stack unavailable"
        dg = by_id.get(tg["id"])
        if dg is None:
            problems.append(f"goroutine {tg['id']}: in the traceback, not in the dump")
            continue
        if tg["id"] != crashed_id and tg["status"] != "running":
            want_status = tg["wait_reason"] or tg["status"]
            got_status = dg["wait_reason"] or dg["status"]
            if want_status != got_status:
                problems.append(f"goroutine {tg['id']}: status {got_status!r}, the runtime says {want_status!r}")
        want = tb_frames(tg)
        got = dump_frames(dg)
        if tb_elided(tg) != (dg.get("elided_frames") or 0):
            problems.append(f"goroutine {tg['id']}: {dg.get('elided_frames')} frames elided, the runtime says "
                            f"{tb_elided(tg)}")
        if tg["id"] == crashed_id or tg["status"] == "running":
            ok = len(got) >= len(want) and got[len(got) - len(want):] == want
        elif want and want[0][0] in VDSO_CALLERS and want[-1][0] == "runtime.systemstack":
            ok = True  # the M's stack in a vDSO call when the runtime printed (VDSO_CALLERS)
        else:
            ok = got == want
        if not ok:
            problems.append(f"goroutine {tg['id']}: frames differ\n  runtime: {want}\n  dump:    {got}")
        if tg.get("created_by") and dg.get("created_by"):
            w, d = tg["created_by"], dg["created_by"]
            if (w["function"], w["file"], w["line"]) != (d["function"], d["file"], d["line"]):
                problems.append(f"goroutine {tg['id']}: created by {d}, the runtime says {w}")
    return problems
