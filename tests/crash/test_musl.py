"""musl (the Alpine case): the library built with Debian's musl-gcc (`make LIBC=musl`, build/musl/), loaded into
programs built against musl, each run without and with lastgasp.

  - the C crash matrix's scenarios (tests/crash/crasher.c built with musl-gcc, preloaded and linked with the musl
    liblastgasp.a): the same death and core presence, no malloc or lock after the crash (the tripwire, musl build),
    one dump that the glibc `lastgasp json` and rust-minidump read with the announced signal, address, thread and
    first crasher frame;
  - Go programs built with CC=musl-gcc (cgo, so dynamically linked against musl's loader, and LD_PRELOAD takes
    the musl library): a fault in C and a panic, each dumped, each exiting 2 as without lastgasp.

Not run against musl: malloc_lock (it holds glibc's arena lock through malloc_stats; musl has no such call),
LLDB and Breakpad (the dumps are the same format; the glibc matrix runs them).
"""
import os
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from pylib import readers as R
from pylib import scenarios as S

MUSL = R.ROOT / "build/musl"
MT = MUSL / "tests"
MLIB = MUSL / "liblastgasp.so"

GLIBC_ONLY = {"malloc_lock": "holds glibc's arena lock through malloc_stats(); musl's malloc has no such call"}
# Scenarios whose fault is inside musl's libc (abort -> raise, __assert_fail, syscall). musl is built without unwind
# tables and frame pointers, so lastgasp walks out of it by its checked stack scan (frames with trust "scan");
# rust-minidump's plain scan takes stale return addresses there (its first crasher frame is not the crashing
# function: a limit of that reader on musl, asserted below so that a change shows).
IN_MUSL_LIBC = {"abort", "assert", "sigsys"}
SCENARIOS = {k: v for k, v in S.SCENARIOS.items() if k not in GLIBC_ONLY}


@pytest.fixture(scope="module", autouse=True)
def musl_build():
    """The musl library and programs (make is a no-op when they are up to date)."""
    p = subprocess.run(["make", "-s", "LIBC=musl", "all", "musl-test-bins"], cwd=R.ROOT, capture_output=True,
                       text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr


def interpreter(path):
    out = subprocess.run(["readelf", "-l", str(path)], capture_output=True, text=True, check=True).stdout
    return out.split("[Requesting program interpreter: ", 1)[1].split("]", 1)[0] if "interpreter:" in out else None


def needed(path):
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]


def test_musl_artifacts_are_musl():
    """The musl library needs musl's libc.so and no glibc symbol version; the test programs run on musl's
    loader, the Go ones included (so LD_PRELOAD reaches them, with the musl library)."""
    assert needed(MLIB) == ["libc.so"], needed(MLIB)
    dyn = subprocess.run(["objdump", "-T", str(MLIB)], capture_output=True, text=True, check=True).stdout
    assert "GLIBC_" not in dyn
    assert (MUSL / "liblastgasp.a").is_file()
    for prog in ("crasher", "crasher_linked", "cgocrash", "gopanic"):
        assert interpreter(MT / prog) == "/lib/ld-musl-x86_64.so.1", prog


def check_musl_readers(dump, binary, sig, announced, check_addr, in_libc=False):
    """lastgasp json (the glibc tool) and rust-minidump agree with what the crasher announced. in_libc: the fault
    is inside musl's libc, where rust-minidump is held to the signal and the thread only."""
    symdir = R.symbols_dir(dump)
    views = {"lastgasp": R.read_lastgasp(dump), "rust-minidump": R.read_rust(dump, symdir)}
    if in_libc:
        rust = views["rust-minidump"]
        assert rust["signal"] == sig.name and rust["crashing_tid"] == announced["tid"], rust
        assert R.first_in_module(rust, binary) != announced["function"], "rust-minidump now walks out of musl: " \
            "hold it to the crashing function again"
        views = {"lastgasp": views["lastgasp"]}
        frames = [f for f in views["lastgasp"]["json"]["threads"] if f["crashed"]][0]["frames"]
        assert frames[0]["module"] == "libc.so" and frames[1]["trust"] == "scan", frames[:3]
    for name, v in views.items():
        assert v["signal"] == sig.name, f"{name} says {v['signal']}, expected {sig.name}"
        assert v["crashing_tid"] == announced["tid"] or announced["tid"] is None, f"{name}: {v['crashing_tid']}"
        if check_addr:
            assert v["address"] == announced["addr"], f"{name}: address {v['address']:#x} != {announced['addr']:#x}"
        top = R.first_in_module(v, binary)
        assert top == announced["function"], f"{name}: first {binary} frame is {top}; frames {v['frames'][:8]}"
    return views


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_musl_scenario(scenario):
    binary, sig, check_addr, extra = SCENARIOS[scenario]
    without = R.run_crasher(scenario, lastgasp=False, binary=binary, tests=MT, lib=MLIB)
    with_lg = R.run_crasher(scenario, binary=binary, tripwire=extra.get("tripwire", True), tests=MT, lib=MLIB)
    try:
        S.check_same_death(without, with_lg)
        assert with_lg.death == ("signal", sig), with_lg.stderr
        assert len(with_lg.dumps) == 1, f"{len(with_lg.dumps)} dumps; stderr:\n{with_lg.stderr}"
        ann = with_lg.announced()
        assert ann, with_lg.stderr
        assert f"lastgasp: {sig.name}" in with_lg.stderr and str(with_lg.dumps[0]) in with_lg.stderr
        views = check_musl_readers(with_lg.dumps[0], binary, sig, ann, check_addr, scenario in IN_MUSL_LIBC)
        j = views["lastgasp"]["json"]
        assert any(os.path.realpath(m["path"]) == os.path.realpath("/lib/ld-musl-x86_64.so.1") for m in j["modules"]), j["modules"]
        if scenario == "user_handler":
            assert "user handler ran" in with_lg.stderr and "user handler ran" in without.stderr
        if scenario == "threads500":
            assert R.read_rust(with_lg.dumps[0], R.symbols_dir())["thread_count"] >= 501 and len(j["threads"]) >= 501
        if scenario.startswith("memread_denied"):
            assert views["rust-minidump"]["frames"][1:], "no caller frames: stack memory was not captured"
        # Every thread answered the capture signal with its registers (musl's threads, its ucontext).
        assert all(t["status"] == "ok" for t in j["threads"]), [t["status"] for t in j["threads"]]
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


def test_musl_glibc_only_scenario_says_so():
    """The scenario left out above says on musl that it needs glibc, rather than passing for the wrong reason."""
    run = R.run_crasher("malloc_lock", lastgasp=False, tests=MT, lib=MLIB)
    try:
        assert run.death == ("exit", 95) and "malloc_lock needs glibc" in run.stderr, run.stderr
    finally:
        R.cleanup(run)


def test_musl_cgo_program_crashing_in_c():
    """A Go program built with CC=musl-gcc that faults in C: one dump read like a native one, and Go's death
    (exit 2, its own report) with lastgasp as without."""
    without = R.run_crasher("-", lastgasp=False, binary="cgocrash", tripwire=False, tests=MT, lib=MLIB)
    with_lg = R.run_crasher("-", binary="cgocrash", tripwire=False, tests=MT, lib=MLIB)
    try:
        assert without.death == ("exit", 2) and "signal arrived during cgo execution" in without.stderr
        assert with_lg.death == ("exit", 2), with_lg.stderr
        assert "signal arrived during cgo execution" in with_lg.stderr
        assert len(with_lg.dumps) == 1, with_lg.stderr
        views = check_musl_readers(with_lg.dumps[0], "cgocrash", signal.SIGSEGV, with_lg.announced(), True)
        assert len(views["lastgasp"]["json"]["threads"]) >= 3  # the Go runtime's threads are there too
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


def panic_line(stderr):
    return next(line for line in stderr.splitlines() if line.startswith("panic: "))


def gopanic_sites():
    """{name: line} of the lines marked "// SITE name" in tests/crash/gopanic/main.go."""
    src = R.ROOT / "tests/crash/gopanic/main.go"
    return {line.split("// SITE ", 1)[1].split()[0]: i
            for i, line in enumerate(src.read_text().splitlines(), 1) if "// SITE " in line}


def run_gopanic(args, lastgasp):
    """The musl gopanic program with ARGS, in a fresh directory, without or with the musl library preloaded."""
    work = Path(tempfile.mkdtemp(prefix="lastgasp-run-"))
    dumps = work / "dumps"
    dumps.mkdir()
    e = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    if lastgasp:
        e.update(LASTGASP_DIR=str(dumps), LD_PRELOAD=str(MLIB))
    p = subprocess.run([str(MT / "gopanic"), *args], cwd=work, env=e, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    return R.Run(p.returncode, p.stderr, sorted(dumps.glob("*.dmp")), [], work)


@pytest.mark.parametrize("site,args,function", [("nil_a", ["nil_a"], "main.loadA"),
                                                ("value", ["value", "7"], "main.job")])
def test_musl_go_panic(site, args, function):
    """A Go panic in a program built with CC=musl-gcc: exit 2 and the runtime's panic line with lastgasp as
    without; one dump whose Go stream holds that panic and the crashing goroutine at the panicking function and
    line (the "// SITE" marks of tests/crash/gopanic/main.go), as the glibc `lastgasp json` reads it."""
    without, with_lg = run_gopanic(args, False), run_gopanic(args, True)
    try:
        assert without.death == ("exit", 2) and not without.dumps, without.stderr
        assert with_lg.death == ("exit", 2), with_lg.stderr
        assert panic_line(with_lg.stderr) == panic_line(without.stderr)
        assert len(with_lg.dumps) == 1, with_lg.stderr
        go = R.read_lastgasp(with_lg.dumps[0])["json"]["go"]
        assert go["reason"].splitlines()[0] == panic_line(without.stderr), go["reason"]
        g = next(g for g in go["goroutines"] if g["id"] == go["crashing_goroutine"])
        names = [f["function"] for f in g["frames"]]
        assert function in names and "main.main" in names, names
        top = next(f for f in g["frames"] if f["function"].startswith("main."))
        assert top["function"] == function and top["file"].endswith("tests/crash/gopanic/main.go"), top
        assert top["line"] == gopanic_sites()[site], top
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)
