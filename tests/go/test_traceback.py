"""The ground truth of the Go fidelity tests: Go's own crash traceback, parsed by pylib/go_traceback.py.

Builds every program of corpus/ with the installed Go (1.26 here) and with Go 1.22
(GOTOOLCHAIN=go1.22.12, fetched once through the module proxy), runs each with
GOTRACEBACK=crash, parses its stderr and checks what is true by construction of the program: the
crash message, the crashing goroutine, its top frame at the source line marked "// CRASH-HERE",
who created it, the wait reasons of the others. That proves the parser on real output of both
versions (whose goroutine headers differ) before it is used to judge lastgasp's dumps.

Every line of every output must be understood: a line the parser does not recognise fails the
test (traceback.parse() puts it in "other").

Environment: GO_TRACEBACK_VERSIONS (default "local go1.22.12") lists the toolchains, as
GOTOOLCHAIN values; a toolchain that cannot be had is skipped, with the reason.
"""

import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile

import pytest

from pylib import go_traceback as tb

HERE = os.path.dirname(os.path.realpath(__file__))
CORPUS = os.path.join(HERE, "corpus")

VERSIONS = os.environ.get("GO_TRACEBACK_VERSIONS", "local go1.22.12").split()
# sigquit runs until the test stops it with SIGQUIT (test_go_fidelity.test_sigquit_is_the_runtimes).
PROGRAMS = sorted(d for d in os.listdir(CORPUS) if os.path.isfile(os.path.join(CORPUS, d, "main.go"))
                  and d != "sigquit")
STATIC = {"deadlock"}  # no cgo: see corpus/deadlock/main.go
RUN_TIMEOUT = 60


def _go_env(toolchain):
    env = dict(os.environ)
    env.update(GOTOOLCHAIN=toolchain, CGO_ENABLED="1", GOFLAGS="-buildvcs=false")
    for k in ("GOTRACEBACK", "GODEBUG", "LD_PRELOAD", "GOOS", "GOARCH"):
        env.pop(k, None)
    return env


class Build:
    """The corpus built with one toolchain: binaries in a temp dir, outputs of runs cached."""

    def __init__(self, toolchain, root):
        self.toolchain = toolchain
        self.dir = os.path.join(root, toolchain)
        self.runs = {}
        self.error = None
        self.go_version = None
        if shutil.which("go") is None:
            self.error = "no go command"
            return
        env = _go_env(toolchain)
        v = subprocess.run(["go", "env", "GOVERSION"], cwd=CORPUS, env=env, capture_output=True,
                           text=True, timeout=600)
        if v.returncode != 0:
            self.error = "toolchain %s unavailable: %s" % (toolchain, v.stderr.strip()[-300:])
            return
        self.go_version = v.stdout.strip()
        os.makedirs(self.dir)
        b = subprocess.run(["go", "build", "-o", self.dir + os.sep, "./..."], cwd=CORPUS, env=env,
                           capture_output=True, text=True, timeout=900)
        if b.returncode != 0:
            raise AssertionError("building the corpus with %s failed:\n%s" % (toolchain, b.stderr))

    def binary(self, prog):
        return os.path.join(self.dir, prog)

    def run(self, prog, level="crash"):
        """Run prog once at GOTRACEBACK=level; returns (returncode, stdout, stderr, parsed)."""
        key = (prog, level)
        if key not in self.runs:
            env = _go_env(self.toolchain)
            env["GOTRACEBACK"] = level
            p = subprocess.run([self.binary(prog)], cwd=self.dir, env=env, capture_output=True,
                               timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
            err = p.stderr.decode("utf-8", "replace")
            self.runs[key] = (p.returncode, p.stdout, err, tb.parse(err))
        return self.runs[key]


@pytest.fixture(scope="session")
def builds():
    """Build(toolchain), made once per session."""
    root = tempfile.mkdtemp(prefix="lastgasp-go-corpus.")
    cache = {}

    def get(toolchain):
        if toolchain not in cache:
            try:
                cache[toolchain] = Build(toolchain, root)
            except AssertionError as e:
                cache[toolchain] = e
        return cache[toolchain]

    yield get
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=VERSIONS)
def build(request, builds):
    b = builds(request.param)
    if isinstance(b, AssertionError):
        pytest.fail(str(b))
    if b.error:
        pytest.skip(b.error)
    return b


def marker_lines(prog, marker, filename="main.go"):
    """Line numbers (1-based) of the lines of corpus/prog/filename that carry '// MARKER'."""
    path = os.path.join(CORPUS, prog, filename)
    with open(path) as f:
        found = [i + 1 for i, line in enumerate(f) if re.search(r"//\s*" + re.escape(marker) + r"\b", line)]
    assert found, "%s has no // %s" % (path, marker)
    return found


def marker_line(prog, marker, filename="main.go"):
    found = marker_lines(prog, marker, filename)
    assert len(found) == 1, "// %s is on lines %s of %s" % (marker, found, prog)
    return found[0]


def source(prog, filename="main.go"):
    return os.path.join(CORPUS, prog, filename)


def at(frame, prog, marker, function=None):
    """frame is at the marked line of prog's main.go (and is function, when given)."""
    assert frame is not None, "no frame for // %s" % marker
    where = (frame["function"], frame["file"], frame["line"])
    want = (function or frame["function"], source(prog), marker_line(prog, marker))
    assert where == want, "frame %s, want %s" % (where, want)


def frame_of(g, function):
    """The first frame of g that is function."""
    for f in g["frames"]:
        if f.get("function") == function:
            return f
    raise AssertionError("goroutine %s has no frame %s: %s" %
                         (g["id"], function, [f.get("function") for f in g["frames"]]))


def by_id(t, goid):
    for g in t["goroutines"]:
        if g["id"] == goid:
            return g
    raise AssertionError("no goroutine %d" % goid)


def minor(build):
    m = re.match(r"go1\.(\d+)", build.go_version)
    return int(m.group(1))


def has_interp(path):
    """The ELF file has a PT_INTERP program header: it is dynamically linked."""
    with open(path, "rb") as f:
        head = f.read(64)
        assert head[:4] == b"\x7fELF" and head[4] == 2, "not a 64-bit ELF file"
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return any(struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum))


# ---- what holds for every program ----

@pytest.mark.parametrize("prog", PROGRAMS)
def test_every_program(build, prog):
    rc, out, err, t = build.run(prog)
    assert rc == -signal.SIGABRT, "exit %s, want death by SIGABRT (GOTRACEBACK=crash)\n%s" % (rc, err[-3000:])
    assert out == b"", "the program printed to stdout"
    assert t["other"] == [], "lines the parser does not understand: %s" % t["other"][:10]
    assert t["panics"] or t["fatal_error"] or t["signal"], "no crash message"
    assert t["goroutines"], "no goroutine parsed"
    assert has_interp(build.binary(prog)) == (prog not in STATIC), "dynamic linking"
    blocks = [g for s in t["sections"] for g in s["goroutines"]]
    for g in blocks:
        assert g["frames"] or g["unavailable"], "goroutine %d [%s] has no frame" % (g["id"], g["status_text"])
        assert g["status"] in tb.STATUS_NAMES and g["status_extra"] == [], g["status_text"]
        assert g["gp"] is not None, "level crash prints gp= for every goroutine"
        for f in g["frames"]:
            if f.get("elided") or f.get("non_go"):
                continue
            assert f["function"] and f["file"] and f["line"] > 0, f
            assert f["inlined"] == (f["args"] == "...")
            assert f["inlined"] or f["pc"] is not None, "level crash prints pc= for physical frames"
        cb = g["created_by"]
        if cb is not None:
            assert cb["function"] and cb["file"] and cb["line"] > 0
    ids = [g["id"] for g in t["goroutines"]]
    assert len(ids) == len(set(ids)) and 0 not in ids
    # Section 0 is the crashing thread's; each later one a thread that printed on SIGQUIT.
    for s in t["sections"][1:]:
        assert s["signal"] and s["signal"]["name"] == "SIGQUIT"
        assert s["registers"], "a SIGQUIT section without registers"


# ---- program by program ----

def test_nilderef(build):
    t = build.run("nilderef")[3]
    assert [p["message"] for p in t["panics"]] == [
        "runtime error: invalid memory address or nil pointer dereference"]
    assert t["signal"]["name"] == "SIGSEGV" and t["signal"]["description"] == "segmentation violation"
    assert t["signal"]["addr"] < 4096
    g = tb.crashing_goroutine(t)
    assert g["id"] == 1 and g["status"] == "running" and g["created_by"] is None
    assert g["m"] is not None and g["mp"] is not None
    at(tb.top_user_frame(g), "nilderef", "CRASH-HERE", "main.main")
    names = [f["function"] for f in g["frames"]]
    assert names.index("panic") < names.index("runtime.sigpanic") < names.index("main.main")
    assert frame_of(g, "panic")["symbol"] == "runtime.gopanic"
    # The fault pc of the signal line is the pc of main.main's frame.
    assert frame_of(g, "main.main")["pc"] == t["signal"]["pc"]


def test_panicstring(build):
    t = build.run("panicstring")[3]
    assert [p["message"] for p in t["panics"]] == ["worker 7 gave up"]
    assert t["signal"] is None and t["fatal_error"] is None
    g = tb.crashing_goroutine(t)
    assert g["id"] != 1
    at(tb.top_user_frame(g), "panicstring", "CRASH-HERE", "main.worker")
    cb = g["created_by"]
    assert (cb["function"], cb["file"], cb["line"], cb["goroutine"]) == (
        "main.main", source("panicstring"), marker_line("panicstring", "GO-HERE"), 1)
    main = by_id(t, 1)
    assert (main["status"], main["wait_reason"]) == ("waiting", "chan receive")
    at(tb.top_user_frame(main), "panicstring", "MAIN-WAITS", "main.main")


def test_panicerror(build):
    t = build.run("panicerror")[3]
    assert [p["message"] for p in t["panics"]] == ["fetch http://127.0.0.1/status: status 503"]
    g = tb.crashing_goroutine(t)
    at(tb.top_user_frame(g), "panicerror", "CRASH-HERE", "main.fetch")
    cb = g["created_by"]
    assert (cb["function"], cb["line"]) == ("main.dispatch", marker_line("panicerror", "GO-HERE"))
    dispatcher = by_id(t, cb["goroutine"])
    assert dispatcher["id"] not in (1, g["id"])
    wg_wait = "semacquire" if minor(build) < 24 else "sync.WaitGroup.Wait"
    assert dispatcher["wait_reason"] == wg_wait
    assert frame_of(dispatcher, "main.dispatch")["line"] == marker_line("panicerror", "GO-HERE") + 1
    dcb = dispatcher["created_by"]
    assert (dcb["function"], dcb["line"], dcb["goroutine"]) == (
        "main.main", marker_line("panicerror", "DISPATCH-HERE"), 1)
    assert by_id(t, 1)["wait_reason"] == wg_wait


def test_indexinline(build):
    t = build.run("indexinline")[3]
    assert [p["message"] for p in t["panics"]] == ["runtime error: index out of range [5] with length 3"]
    g = tb.crashing_goroutine(t)
    user = [f for f in g["frames"] if f["function"].startswith("main.")]
    assert [f["function"] for f in user] == ["main.pick", "main.main"]
    at(user[0], "indexinline", "CRASH-HERE")
    at(user[1], "indexinline", "CALLER-HERE")
    # pick was inlined into main: its frame has no pc of its own and prints "(...)".
    assert user[0]["inlined"] and user[0]["args"] == "..." and user[0]["pc"] is None
    assert not user[1]["inlined"] and user[1]["pc"] is not None


def test_doublepanic(build):
    t = build.run("doublepanic")[3]
    assert [(p["message"], p["recovered"]) for p in t["panics"]] == [
        ("first failure", False), ("cleanup failed", False)]
    g = tb.crashing_goroutine(t)
    names = [f["function"] for f in g["frames"]]
    assert names.count("panic") == 2
    at(frame_of(g, "main.cleanup"), "doublepanic", "CRASH-HERE")
    at(frame_of(g, "main.run"), "doublepanic", "FIRST-PANIC")
    at(frame_of(g, "main.main"), "doublepanic", "CALLER-HERE")
    assert names.index("main.cleanup") < names.index("main.run") < names.index("main.main")


def test_mapwrites(build):
    t = build.run("mapwrites")[3]
    assert t["fatal_error"] == "concurrent map writes" and t["panics"] == []
    g = tb.crashing_goroutine(t)
    at(tb.top_user_frame(g), "mapwrites", "CRASH-HERE", "main.writer")
    assert g["created_by"]["function"] == "main.main"
    assert g["created_by"]["line"] in marker_lines("mapwrites", "GO-HERE")
    writers = [x for x in t["goroutines"] if x["created_by"] and x["created_by"]["function"] == "main.main"]
    assert len(writers) == 2
    other = [x for x in writers if x is not g][0]
    assert other["unavailable"] or tb.top_user_frame(other)["function"] == "main.writer"
    main = by_id(t, 1)
    assert main["wait_reason"] == "select (no cases)"
    at(tb.top_user_frame(main), "mapwrites", "MAIN-WAITS", "main.main")


def test_deadlock(build):
    t = build.run("deadlock")[3]
    assert t["fatal_error"] == "all goroutines are asleep - deadlock!"
    assert tb.crashing_goroutine(t) is None
    # Thrown by the scheduler: the system stack is printed, no goroutine is running.
    stack = t["sections"][0]["runtime_stack"]
    assert stack and "runtime.checkdead" in [f["function"] for f in stack]
    assert all(g["status"] != "running" for g in t["goroutines"])
    main = by_id(t, 1)
    assert main["wait_reason"] == "chan receive" and main["m"] is None
    at(tb.top_user_frame(main), "deadlock", "CRASH-HERE", "main.main")
    sender = [g for g in t["goroutines"] if g["wait_reason"] == "chan send"]
    assert len(sender) == 1
    at(tb.top_user_frame(sender[0]), "deadlock", "SEND-HERE", "main.send")
    assert sender[0]["created_by"]["line"] == marker_line("deadlock", "GO-HERE")


def test_stackoverflow(build):
    t = build.run("stackoverflow")[3]
    assert t["fatal_error"] == "stack overflow"
    assert "runtime: goroutine stack exceeds 1048576-byte limit" in t["runtime_messages"]
    assert "runtime.morestack" in [f["function"] for f in t["sections"][0]["runtime_stack"]]
    g = tb.crashing_goroutine(t)
    assert g["elided"] and g["elided_frames"] > 1000
    real = [f for f in g["frames"] if not f.get("elided")]
    # traceback1 prints the innermost 50 logical frames and the outermost 50 (tracebackInnerFrames,
    # tracebackOuterFrames), and one line for what it left out between them.
    assert len(real) == 100
    assert [i for i, f in enumerate(g["frames"]) if f.get("elided")] == [50]
    # The overflow is found in descend's prologue: the top frame is at the function's first line.
    at(real[0], "stackoverflow", "CRASH-HERE", "main.descend")
    recurse = marker_line("stackoverflow", "RECURSE-HERE")
    assert all(f["line"] == recurse for f in real[1:50])
    assert real[-1]["function"] == "runtime.goexit"
    assert g["created_by"]["function"] == "main.main"
    assert g["created_by"]["line"] == marker_line("stackoverflow", "GO-HERE")


def test_cgofault(build):
    t = build.run("cgofault")[3]
    # A fault in C is no panic: the runtime prints the signal and dies (no "fatal error" line).
    assert t["panics"] == [] and t["fatal_error"] is None
    s0 = t["sections"][0]
    assert s0["signal"]["name"] == "SIGSEGV" and s0["signal"]["addr"] == 0
    assert s0["notes"] == ["signal arrived during cgo execution"]
    assert s0["registers"]["rip"] == s0["signal"]["pc"]
    assert len(t["sections"]) >= 2, "no SIGQUIT relay to other threads"
    g = tb.crashing_goroutine(t)
    assert g["id"] == 1 and g["status"] == "syscall"
    names = [f["function"] for f in g["frames"]]
    assert names[:2] == ["runtime.cgocall", "main._Cfunc_store_in_c"]
    assert frame_of(g, "main._Cfunc_store_in_c")["file"] == "_cgo_gotypes.go"
    at(frame_of(g, "main.callC"), "cgofault", "CALLER-HERE")
    at(frame_of(g, "main.main"), "cgofault", "MAIN-CALLS")
    # Every other thread printed its own system stack as "goroutine 0".
    for s in t["sections"][1:]:
        g0 = [x for x in s["goroutines"] if x["id"] == 0]
        assert g0 and g0[0]["frames"] and g0[0]["m"] == s["signal"]["m"]


def test_cgocallback(build):
    t = build.run("cgocallback")[3]
    assert [p["message"] for p in t["panics"]] == ["handler 3 failed"]
    g = tb.crashing_goroutine(t)
    assert g["id"] == 1
    at(tb.top_user_frame(g), "cgocallback", "CRASH-HERE", "main.goHandler")
    names = [f["function"] for f in g["frames"]]
    # The stack crosses C: Go -> cgocall -> C -> cgocallback -> Go.
    for fn in ("runtime.cgocallbackg", "runtime.cgocallback", "runtime.cgocall", "main._Cfunc_call_into_go"):
        assert fn in names
    at(frame_of(g, "main.main"), "cgocallback", "CALLER-HERE")
    assert names.index("main.goHandler") < names.index("runtime.cgocallback") < names.index("main.main")


def test_cgothread(build):
    t = build.run("cgothread")[3]
    assert [p["message"] for p in t["panics"]] == ["called from a C thread"]
    g = tb.crashing_goroutine(t)
    # A goroutine of a foreign thread: locked to it, created by nobody, its stack ends in cgocallback.
    assert g["id"] != 1 and g["locked"] and g["created_by"] is None
    at(tb.top_user_frame(g), "cgothread", "CRASH-HERE", "main.goFromCThread")
    assert [f["function"] for f in g["frames"]][-2:] == ["runtime.cgocallback", "runtime.goexit"]
    main = by_id(t, 1)
    assert main["status"] == "syscall" and not main["locked"]
    at(frame_of(main, "main.main"), "cgothread", "CALLER-HERE")


def test_parked1000(build):
    t = build.run("parked1000")[3]
    assert [p["message"] for p in t["panics"]] == ["1000 goroutines parked"]
    g = tb.crashing_goroutine(t)
    assert g["id"] == 1
    at(tb.top_user_frame(g), "parked1000", "CRASH-HERE", "main.main")
    assert len(t["goroutines"]) >= 1001
    kinds = {
        "chan receive": ("main.receive", "RECV-HERE", "GO-RECV"),
        "select": ("main.choose", "SELECT-HERE", "GO-SELECT"),
        "sync.Mutex.Lock": ("main.lockMutex", "MUTEX-HERE", "GO-MUTEX"),
        "sleep": ("main.nap", "SLEEP-HERE", "GO-SLEEP"),
        "IO wait": ("main.read", "READ-HERE", "GO-READ"),
    }
    for reason, (function, where, go_line) in kinds.items():
        mine = [x for x in t["goroutines"] if x["wait_reason"] == reason
                and tb.top_user_frame(x) and tb.top_user_frame(x)["function"] == function]
        assert len(mine) == 200, "%d goroutines in %s at %s" % (len(mine), reason, function)
        for x in mine:
            assert x["status"] == "waiting"
            at(tb.top_user_frame(x), "parked1000", where)
            cb = x["created_by"]
            assert (cb["function"], cb["line"], cb["goroutine"]) == ("main.main", marker_line("parked1000", go_line), 1)
    locked = [x for x in t["goroutines"] if x["locked"]]
    assert len(locked) == 3 and all(x["wait_reason"] == "chan receive" for x in locked)
    # The accept loop is one more goroutine in IO wait.
    assert sum(x["wait_reason"] == "IO wait" for x in t["goroutines"]) == 201


def test_busyloop(build):
    t = build.run("busyloop")[3]
    assert [p["message"] for p in t["panics"]] == ["main gives up while a goroutine spins"]
    g = tb.crashing_goroutine(t)
    at(tb.top_user_frame(g), "busyloop", "CRASH-HERE", "main.main")
    spinner = [x for x in t["goroutines"] if x["unavailable"]]
    assert len(spinner) == 1, "the spinner's stack should be unavailable"
    s = spinner[0]
    assert s["status"] == "running" and s["frames"] == [] and s["m"] is not None
    assert (s["created_by"]["function"], s["created_by"]["line"]) == ("main.main", marker_line("busyloop", "GO-HERE"))


# ---- the other traceback levels: the shorter headers of Go 1.22 and later ----

def test_level_all(build):
    rc, out, err, t = build.run("panicstring", level="all")
    assert rc == 2 and t["other"] == []
    assert t["sections"][1:] == []
    for g in t["goroutines"]:
        # Below level crash only a throwing goroutine gets gp=/m=, and frames no fp/sp/pc.
        assert g["gp"] is None and g["m"] is None
        assert all(f["pc"] is None and f["fp"] is None for f in g["frames"])
        assert g["frames"]
    g = tb.crashing_goroutine(t)
    at(tb.top_user_frame(g), "panicstring", "CRASH-HERE", "main.worker")
    assert by_id(t, 1)["wait_reason"] == "chan receive"
    assert re.search(r"^goroutine \d+ \[running\]:$", err, re.M)


def test_level_single(build):
    # The default level: a user throw prints no gp= and m=. (Go 1.22 also prints the others, and
    # both writers may throw at once: two "fatal error" lines, a goroutine printed twice.)
    rc, out, err, t = build.run("mapwrites", level="single")
    assert rc == 2 and t["other"] == [] and t["fatal_error"] == "concurrent map writes"
    assert set(t["fatal_errors"]) == {"concurrent map writes"}
    g = tb.crashing_goroutine(t)
    assert all(x["gp"] is None and x["m"] is None for x in t["goroutines"])
    at(tb.top_user_frame(g), "mapwrites", "CRASH-HERE", "main.writer")
    # A runtime throw raises the level to 2 by itself: every goroutine, gp= and m=, fp/sp/pc.
    rc, out, err, t = build.run("stackoverflow", level="single")
    assert rc == 2 and t["other"] == [] and t["fatal_error"] == "stack overflow"
    assert len(t["goroutines"]) > 1 and all(x["gp"] is not None for x in t["goroutines"])
    assert tb.crashing_goroutine(t)["frames"][0]["pc"] is not None


# ---- the parser on lines the corpus does not produce (formats from runtime/traceback.go) ----

@pytest.mark.parametrize("bracket,want", [
    ("running", {"status": "running", "wait_reason": None}),
    ("chan receive", {"status": "waiting", "wait_reason": "chan receive"}),
    ("chan receive, 12 minutes, locked to thread",
     {"wait_reason": "chan receive", "wait_minutes": 12, "locked": True}),
    ("syscall, 3 minutes", {"status": "syscall", "wait_minutes": 3}),
    ("select (no cases)", {"status": "waiting", "wait_reason": "select (no cases)"}),
    ("runnable (scan)", {"status": "runnable", "scan": True}),
    ("sleep (scan), locked to thread", {"wait_reason": "sleep", "scan": True, "locked": True}),
    ("chan receive (leaked)", {"status": "leaked", "wait_reason": "chan receive", "leaked": True}),
    ("chan receive (durable)", {"wait_reason": "chan receive (durable)", "durable": True}),
    ("sync.Cond.Wait (durable), synctest bubble 7",
     {"wait_reason": "sync.Cond.Wait", "durable": True, "bubble": 7}),
    ("chan send (synctest), synctest group 19", {"wait_reason": "chan send (synctest)", "bubble": 19}),
    ("waiting for cgo callback", {"status": "waiting for cgo callback", "wait_reason": None}),
    ("preempted", {"status": "preempted", "wait_reason": None}),
    ("select, something new", {"wait_reason": "select", "status_extra": ["something new"]}),
])
def test_parse_status(bracket, want):
    got = tb.parse_status(bracket)
    for k, v in want.items():
        assert got[k] == v, (k, got)


def test_parse_synthetic():
    text = "\n".join([
        "panic: line one",
        "\tline two [recovered]",
        "\tpanic: again [recovered, repanicked]",
        "\tpanic: a value of",
        "three lines, as Go 1.22 prints it",
        "\tand 1.23 [recovered]",
        "[signal SIGSEGV: segmentation violation code=0x2 addr=0x1000 pc=0x4601d8]",
        "",
        "goroutine 7 gp=0xc000007a40 m=nil [chan receive, locked to thread] labels:{\"k\": \"v\"}:",
        "main.(*T[...]).m(...)",
        "\t/src/a.go:10",
        "main.f(0x1, {0x2, 0x3}, ...)",
        "\t/src/a.go:20 +0x1f",
        "non-Go function at pc=0x7f0000001234",
        "...additional frames elided...",
        "created by main.g",
        "\t/src/b.go:5 +0x2a",
        "[originating from goroutine 3]:",
        "main.h(...)",
        "\t/src/b.go:9 +0x10",
        "created by main.a",
        "\t/src/c.go:1 +0x5",
        "",
        "goroutine 8 [running]:",
        "\tgoroutine running on other thread; stack unavailable",
        "created by main.g in goroutine 7",
        "\t/src/b.go:6 +0x3b",
        "",
        "goroutine 9 [running]:",
        "main.spin()",  # a pc the line table marks -2 (seen on a goroutine stopped mid-loop)
        "\t/src/d.go:-2 +0x10 fp=0xc000100fe0 sp=0xc000100fd8 pc=0x48dbd0",
        "",
    ])
    t = tb.parse(text)
    assert t["other"] == []
    assert [(p["message"], p["recovered"], p["repanicked"]) for p in t["panics"]] == [
        ("line one\nline two", True, False), ("again", True, True),
        ("a value of\nthree lines, as Go 1.22 prints it\nand 1.23", True, False)]
    assert t["signal"] == {"name": "SIGSEGV", "description": "segmentation violation", "code": 2,
                           "addr": 0x1000, "pc": 0x4601d8}
    g7, g8, g9 = t["goroutines"]
    assert [(f["function"], f["line"]) for f in g9["frames"]] == [("main.spin", -2)]
    assert (g7["id"], g7["m"], g7["wait_reason"], g7["locked"], g7["labels"]) == (
        7, None, "chan receive", True, 'labels:{"k": "v"}')
    assert [(f["function"], f["file"], f["line"], f["inlined"]) for f in g7["frames"][:2]] == [
        ("main.(*T[...]).m", "/src/a.go", 10, True), ("main.f", "/src/a.go", 20, False)]
    assert g7["frames"][1]["args"] == "0x1, {0x2, 0x3}, ..." and g7["frames"][1]["offset"] == 0x1f
    assert g7["frames"][2] == {"function": None, "file": None, "line": None, "non_go": True, "pc": 0x7f0000001234}
    assert g7["elided"] and g7["elided_frames"] is None
    assert g7["created_by"] == {"function": "main.g", "file": "/src/b.go", "line": 5, "goroutine": None, "offset": 0x2a}
    assert g7["ancestors"][0]["id"] == 3 and g7["ancestors"][0]["frames"][0]["function"] == "main.h"
    assert g7["ancestors"][0]["created_by"]["function"] == "main.a"
    assert g8["unavailable"] and g8["frames"] == [] and g8["created_by"]["goroutine"] == 7


def test_parse_cut_short():
    # A crash output cut anywhere parses as far as it goes, without an exception.
    text = "\n".join(["panic: x", "", "goroutine 5 [running]:", "main.f(...)", "\t/a.go:1",
                      "created by main.g in goroutine 1"])
    for n in range(len(text) + 1):
        tb.parse(text[:n])
    t = tb.parse(text)
    assert t["goroutines"][0]["created_by"] == {"function": "main.g", "file": None, "line": None,
                                                "goroutine": 1, "offset": None}
