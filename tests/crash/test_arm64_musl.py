"""musl on linux/arm64 (Alpine on Graviton): the library built with `make ARCH=arm64 LIBC=musl`
(build/arm64-musl/: aarch64-linux-gnu-gcc driven by its own musl specs, against Debian's musl-dev:arm64 in the arm64
tree of tests/tools/arm64_sysroot.sh), loaded into programs built the same way, each run under qemu-user without
and with lastgasp (`qemu-aarch64 -L <that tree>`, where /lib/ld-musl-aarch64.so.1 is musl's loader):

  - the C crash matrix (tests/crash/crasher.c, preloaded and linked with the arm64 musl liblastgasp.a): the same
    death, core presence and stderr (lastgasp's line aside) as without lastgasp, no malloc or lock after the crash
    (the tripwire), one dump that Breakpad, rust-minidump, LLDB and the amd64 `lastgasp json` read with the
    announced signal, address, thread and first crasher frame (pylib's check_readers, as test_arm64.py), arm64
    registers, musl's loader among the modules. The aborts inside musl's libc are held to that too: on arm64 all
    four readers name the crashing function there (test_musl.py's amd64 exception, IN_MUSL_LIBC, is not needed);
  - Go for GOARCH=arm64 with the same compiler (cgo, so dynamically linked against musl): a fault in C and a panic
    with the library preloaded (test_musl.py's cases), and goshim's way in (tests/go/matrix -tags goshim), each
    ending as without lastgasp, goshim's dump against the runtime's own traceback.

What qemu-user cannot reproduce, or arm64 does not do, is test_arm64.py's: its LIMITS (seccomp, a division by zero)
asserted here too, on musl, and what qemu changes in a dump (no helper task, qemu's thread names); the glibc-only
scenario is test_musl.py's.
"""
import json
import os
import signal
import shutil
import subprocess
import tempfile
from functools import partial
from pathlib import Path

import pytest

from pylib import arm64 as A
from pylib import go_fidelity as fidelity
from pylib import go_traceback as gotb
from pylib import readers as R
from pylib import scenarios as S
from pylib import suites

HERE = Path(__file__).resolve().parent
AM = R.ROOT / "build/arm64-musl"
AMT = AM / "tests"
AMLIB = AM / "liblastgasp.so"
TREE = A.SYSROOT
LOADER = "/lib/ld-musl-aarch64.so.1"


# pylib's qemu runner, on the tree that holds musl's loader; the arm64 suite's death check and limits, the musl
# suite's lists and Go helpers, the C matrix's annotations (modules loaded by path under their own names: their
# tests are not collected twice).
arm = suites.load("arm64_for_musl", HERE / "test_arm64.py")
musl = suites.load("musl_for_arm64", HERE / "test_musl.py")
crash_matrix = suites.load("crash_matrix_for_arm64_musl", HERE / "test_crash_matrix.py")
matrix = suites.load("capture_matrix_arm64_musl", HERE.parent / "go/test_capture_matrix.py")
qemu = partial(A.wrap, sysroot=TREE)

SCENARIOS = {k: v for k, v in S.SCENARIOS.items() if k not in arm.LIMITS and k not in musl.GLIBC_ONLY}


@pytest.fixture(scope="module", autouse=True)
def arm64_musl_build():
    """The arm64 musl library and programs, and the amd64 tool that reads their dumps."""
    for args in (["ARCH=arm64", "LIBC=musl", "all", "musl-test-bins"], ["all"]):
        p = subprocess.run(["make", "-s", *args], cwd=R.ROOT, capture_output=True, text=True, timeout=1800)
        assert p.returncode == 0, p.stdout + p.stderr


def run(scenario, lastgasp=True, binary="crasher", tripwire=True):
    return R.run_crasher(scenario, lastgasp=lastgasp, binary=binary, tripwire=tripwire, tests=AMT, lib=AMLIB,
                         wrap=qemu, timeout=120)


def test_arm64_musl_artifacts_are_arm64_musl():
    """The library is aarch64 code that needs musl's libc.so and no glibc symbol version, the archive holds the
    arm64 objects, and every test program runs on musl's arm64 loader (the Go ones too, so LD_PRELOAD reaches
    them)."""
    out = subprocess.run(["readelf", "-h", str(AMLIB)], capture_output=True, text=True, check=True).stdout
    assert "AArch64" in out, out
    assert musl.needed(AMLIB) == ["libc.so"], musl.needed(AMLIB)
    dyn = subprocess.run(["aarch64-linux-gnu-objdump", "-T", str(AMLIB)], capture_output=True, text=True,
                         check=True).stdout
    assert "GLIBC_" not in dyn and "*UND*" in dyn
    members = subprocess.run(["ar", "t", str(AM / "liblastgasp.a")], capture_output=True, text=True,
                             check=True).stdout.split()
    assert "context.o" in members and "jmp.o" in members, members
    for prog in ("crasher", "crasher_linked", "cgocrash", "gopanic", "matrix", "matrix_goshim"):
        assert musl.interpreter(AMT / prog) == LOADER, prog


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_arm64_musl_scenario(scenario):
    binary, sig, check_addr, extra = SCENARIOS[scenario]
    without = run(scenario, lastgasp=False, binary=binary)
    with_lg = run(scenario, binary=binary, tripwire=extra.get("tripwire", True))
    try:
        arm.check_same_death(without, with_lg)
        S.same_stderr(without, with_lg)
        assert with_lg.death == ("signal", sig), with_lg.stderr
        assert len(with_lg.dumps) == 1, f"{len(with_lg.dumps)} dumps; stderr:\n{with_lg.stderr}"
        ann = with_lg.announced()
        assert ann, with_lg.stderr
        assert f"lastgasp: {sig.name}" in with_lg.stderr and str(with_lg.dumps[0]) in with_lg.stderr
        views = R.check_readers(with_lg.dumps[0], binary, sig, ann, check_addr, AMT)
        j = views["lastgasp"]["json"]
        assert j["system"]["arch"] == "arm64", j["system"]
        # musl's loader, which is its libc, is the module the program runs on (qemu maps it from the tree).
        assert any(os.path.realpath(m["path"]) == os.path.realpath(TREE / LOADER.lstrip("/")) for m in j["modules"]), \
            [m["path"] for m in j["modules"]]
        crashed = next(t for t in j["threads"] if t["crashed"])
        assert crashed["registers"] and int(crashed["registers"]["pc"], 16) == int(crashed["frames"][0]["pc"], 16)
        assert set(crashed["registers"]) >= {"pc", "sp", "fp", "lr", "x0", "x28", "cpsr"}
        if scenario == "user_handler":
            assert "user handler ran" in with_lg.stderr and "user handler ran" in without.stderr
        if scenario == "annotations":
            assert "crasher: annotation errors OK" in with_lg.stderr, with_lg.stderr
            assert j["annotations"] == crash_matrix.ANNOTATIONS, j["annotations"]
            assert R.read_rust_annotations(with_lg.dumps[0]) == crash_matrix.ANNOTATIONS
        if scenario == "threads500":
            assert views["rust-minidump"]["thread_count"] >= 501 and len(j["threads"]) >= 501
            # qemu's own thread (a host thread in /proc/self/task) is the one that may not answer (test_arm64.py).
            assert sum(t["status"] != "ok" for t in j["threads"]) <= 1, [t["status"] for t in j["threads"]]
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


@pytest.mark.parametrize("scenario", sorted(arm.LIMITS))
def test_arm64_musl_limit(scenario):
    """What qemu-user or arm64 cannot reproduce (test_arm64.py's LIMITS) ends the same way on musl, with lastgasp
    as without, and leaves no dump."""
    binary, _, _, extra = S.SCENARIOS[scenario]
    death, why = arm.LIMITS[scenario]
    without = run(scenario, lastgasp=False, binary=binary)
    with_lg = run(scenario, binary=binary, tripwire=extra.get("tripwire", True))
    try:
        assert without.death == death, f"{scenario}: {why}; but it died {without.death}\n{without.stderr}"
        arm.check_same_death(without, with_lg)
        S.same_stderr(without, with_lg)
        assert not with_lg.dumps, with_lg.stderr
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


def test_arm64_musl_glibc_only_scenario_says_so():
    run_ = run("malloc_lock", lastgasp=False)
    try:
        assert run_.death == ("exit", 95) and "malloc_lock needs glibc" in run_.stderr, run_.stderr
    finally:
        R.cleanup(run_)


def test_arm64_musl_dump_under_qemu_says_what_qemu_took():
    """What qemu-user changes in a dump (test_arm64.py's list), on musl too, so that it is known rather than taken
    for the arm64 musl library's doing: qemu's thread names, no helper task (qemu refuses the clone; the report
    runs on the crashing thread and the notes say so); the watchdog's real-time signal is there."""
    r = run("thread_null")
    try:
        assert r.death == ("signal", signal.SIGSEGV) and len(r.dumps) == 1, r.stderr
        j = R.read_lastgasp(r.dumps[0])["json"]
        assert {t["name"] for t in j["threads"]} == {"qemu-aarch64"}, [t["name"] for t in j["threads"]]
        notes = j["notes"] or ""
        assert "no helper task for the report (clone failed)" in notes, notes
        assert "no watchdog timer" not in notes, notes
    finally:
        R.cleanup(r)


def test_arm64_musl_dump_read_by_the_static_musl_tool():
    """No arm64 musl tool is built: the amd64 ones read the dumps. The static musl tool (build/musl/lastgasp, the
    one that runs in any image) prints what the glibc tool prints with LASTGASP_DEBUGINFO=off, byte for byte, for
    show, json and html (test_musl_tool.py's comparison, on an arm64 musl dump)."""
    p = subprocess.run(["make", "-s", "LIBC=musl", "build/musl/lastgasp"], cwd=R.ROOT, capture_output=True,
                       text=True, timeout=1800)
    assert p.returncode == 0, p.stdout + p.stderr
    r = run("thread_null")
    try:
        assert len(r.dumps) == 1, r.stderr
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "DEBUGINFOD"))}
        env["LASTGASP_DEBUGINFO"] = "off"
        said = {}
        for cmd in ("show", "json", "html"):
            out = [subprocess.run([str(cli), cmd, str(r.dumps[0])], capture_output=True, env=env, timeout=60)
                   for cli in (R.ROOT / "build/musl/lastgasp", R.CLI)]
            assert out[0].returncode == out[1].returncode == 0, (out[0].stderr, out[1].stderr)
            assert (out[0].stdout, out[0].stderr) == (out[1].stdout, out[1].stderr), cmd
            said[cmd] = out[0].stdout.decode()
        j = json.loads(said["json"])
        assert j["system"]["arch"] == "arm64" and j["signal"]["name"] == "SIGSEGV", j["system"]
        assert r.announced()["function"] in said["show"], said["show"]
    finally:
        R.cleanup(r)


def test_arm64_musl_handler_symbols():
    """tests/check_symbols.sh on the arm64 musl objects: the allow-list, the exports, BIND_NOW."""
    p = subprocess.run(["bash", "tests/check_symbols.sh"], cwd=R.ROOT, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, ARCH="arm64", LIBC="musl"))
    assert p.returncode == 0 and "check_symbols: all checks passed" in p.stdout, p.stdout + p.stderr
    assert "exports of build/arm64-musl/liblastgasp.so:" in p.stdout, p.stdout


# ---- Go for GOARCH=arm64, built with the musl compiler ----

def run_go(prog, args, lastgasp, preload=True, level=None):
    """An arm64 musl Go program under qemu, in a fresh directory: without lastgasp, or with it (LD_PRELOAD of the
    arm64 musl library, or preload=False for a goshim program, which installs itself from LASTGASP_DIR)."""
    work = Path(tempfile.mkdtemp(prefix="lastgasp-a64musl-go-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    if lastgasp:
        env["LASTGASP_DIR"] = str(work)
        if preload:
            env["LD_PRELOAD"] = str(AMLIB)
    if level:
        env["GOTRACEBACK"] = level
    argv, env = qemu([str(AMT / prog), *args], env)
    p = subprocess.run(argv, cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=180)
    return R.Run(p.returncode, p.stderr, sorted(work.glob("*.dmp")), [], work)


def test_arm64_musl_cgo_program_crashing_in_c():
    """test_musl.py's cgo case on arm64: a fault in C, one dump the four readers read like a native one, and Go's
    death (exit 2, its report) with lastgasp as without."""
    without, with_lg = run_go("cgocrash", ["-"], False), run_go("cgocrash", ["-"], True)
    try:
        assert without.death == ("exit", 2) and "signal arrived during cgo execution" in without.stderr
        assert with_lg.death == ("exit", 2), with_lg.stderr
        assert "signal arrived during cgo execution" in with_lg.stderr
        assert len(with_lg.dumps) == 1, with_lg.stderr
        views = R.check_readers(with_lg.dumps[0], "cgocrash", signal.SIGSEGV, with_lg.announced(), True, AMT)
        assert len(views["lastgasp"]["json"]["threads"]) >= 3  # the Go runtime's threads are there too
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


@pytest.mark.parametrize("site,args,function", [("nil_a", ["nil_a"], "main.loadA"),
                                                ("value", ["value", "7"], "main.job")])
def test_arm64_musl_go_panic(site, args, function):
    """test_musl.py's panic case on arm64: exit 2 and the runtime's panic line with lastgasp as without; the dump's
    Go stream holds that panic and the crashing goroutine at the panicking function and line."""
    without, with_lg = run_go("gopanic", args, False), run_go("gopanic", args, True)
    try:
        assert without.death == ("exit", 2) and not without.dumps, without.stderr
        assert with_lg.death == ("exit", 2), with_lg.stderr
        assert musl.panic_line(with_lg.stderr) == musl.panic_line(without.stderr)
        assert len(with_lg.dumps) == 1, with_lg.stderr
        j = R.read_lastgasp(with_lg.dumps[0])["json"]
        assert j["system"]["arch"] == "arm64", j["system"]
        go = j["go"]
        assert go["reason"].splitlines()[0] == musl.panic_line(without.stderr), go["reason"]
        g = next(g for g in go["goroutines"] if g["id"] == go["crashing_goroutine"])
        names = [f["function"] for f in g["frames"]]
        assert function in names and "main.main" in names, names
        top = next(f for f in g["frames"] if f["function"].startswith("main."))
        assert top["function"] == function and top["file"].endswith("tests/crash/gopanic/main.go"), top
        assert top["line"] == musl.gopanic_sites()[site], top
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


# scenario of tests/go/matrix: the signal lastgasp reports (test_arm64_go.py's GOSHIM).
GOSHIM = {"panic": signal.SIGABRT, "nilderef": signal.SIGABRT, "cfault": signal.SIGSEGV}


@pytest.mark.parametrize("scenario", sorted(GOSHIM))
def test_arm64_musl_goshim(scenario):
    """goshim's way in on arm64 musl: tests/go/matrix built with -tags goshim ends as the same program built
    without it (exit 2, the runtime's report), one dump that the four readers read, and at GOTRACEBACK=system a Go
    stream that is the runtime's own traceback (every goroutine, frame, status and wait reason)."""
    sig = GOSHIM[scenario]
    base = run_go("matrix", [scenario], False)
    got = run_go("matrix_goshim", [scenario], True, preload=False)
    full = run_go("matrix_goshim", [scenario], True, preload=False, level="system")
    try:
        assert base.death == got.death == ("exit", 2), (base.stderr[-2000:], got.stderr[-2000:])
        assert matrix.normalized(got.stderr) == matrix.normalized(base.stderr), got.stderr[-3000:]
        assert "crash dumps are off" not in got.stderr and "ErrUnsupported" not in got.stderr
        ours = [l for l in got.stderr.splitlines() if l.startswith("lastgasp: ")]
        assert len(ours) == 1, got.stderr[-3000:]
        assert len(got.dumps) == 1, got.stderr[-3000:]
        dump = got.dumps[0]
        symdir = R.symbols_dir(dump)
        views = {"lastgasp": R.read_lastgasp(dump), "breakpad": R.read_breakpad(dump, symdir),
                 "rust-minidump": R.read_rust(dump, symdir), "lldb": R.read_lldb(dump, AMT / "matrix_goshim")}
        for name, v in views.items():
            assert v["signal"] == sig.name, f"{name} says {v['signal']}"
        assert views["rust-minidump"]["crashing_tid"] == views["lldb"]["crashing_tid"] == \
            views["lastgasp"]["crashing_tid"]
        j = views["lastgasp"]["json"]
        assert j["system"]["arch"] == "arm64" and j["go"], j.get("notes")
        crashed = next(g for g in j["go"]["goroutines"] if g["id"] == j["go"]["crashing_goroutine"])
        assert "main.main" in [f["function"] for f in crashed["frames"]], crashed["frames"]
        assert full.death == ("exit", 2) and len(full.dumps) == 1, full.stderr[-3000:]
        fgo = R.read_lastgasp(full.dumps[0])["json"]["go"]
        tb = fidelity.without_runtime_background(gotb.parse_goroutines(full.stderr), fgo["crashing_goroutine"])
        assert any(g["id"] == fgo["crashing_goroutine"] and g["frames"] for g in tb), full.stderr[-3000:]
        problems = fidelity.compare(tb, fgo, fgo["crashing_goroutine"])
        assert not problems, "\n".join(problems[:10])
    finally:
        for r in (base, got, full):
            shutil.rmtree(r.workdir, ignore_errors=True)
