"""Go on linux/arm64 (issue 12): corpus programs (tests/go/corpus) cross-built with
`CGO_ENABLED=1 GOARCH=arm64 CC=aarch64-linux-gnu-gcc`, run under qemu-user on this machine without and with
the arm64 library preloaded (build/arm64/liblastgasp.so, `make ARCH=arm64`).

  - the process ends as without lastgasp: exit status 2 and the runtime's own stderr (test_capture_matrix's
    normalization: addresses, m numbers and goroutine ids are a matter of timing), for a Go panic, a fault in
    Go code and a fault in C code called through cgo; one dump, which Breakpad, rust-minidump, LLDB and the amd64
    `lastgasp json` all read, with the same signal and crashing thread.

  - the goroutines (test_go_fidelity.py's comparison at GOTRACEBACK=system): every goroutine the runtime
    printed, with the same frames, status and wait reason, and the same reason, for every corpus program with
    Go 1.26 and 1.22, and some stripped (the traceback word decoded from arm64 code, allgs found by its shape);
  - goshim built for arm64 (tests/go/matrix with -tags goshim): the same death as the program without it, a dump
    the four readers read, and goroutines that match the runtime's traceback.

qemu-user changes the dump as tests/crash/test_arm64.py asserts (no helper task, qemu's thread names, qemu's
own thread not answering the capture signal); nothing here depends on those, and no scenario is skipped.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from pylib import go_fidelity as fidelity
from pylib import go_traceback as gotb
from pylib import readers as R
from pylib import suites

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ALIB = ROOT / "build/arm64/liblastgasp.so"
CLI = ROOT / "build/lastgasp"
SYSROOT = "/usr/aarch64-linux-gnu"


# The capture matrix's normalization of the runtime's report (a test module, loaded by path).
matrix = suites.load("capture_matrix_arm64", HERE / "test_capture_matrix.py")

# program: (the signal lastgasp reports, the first frame of the crashing thread inside the program, or None
# when that is the runtime's raise, which only a Go-aware reader names).
PROGRAMS = {
    "panicstring": (signal.SIGABRT, None),  # an unrecovered panic: the crash bit's SIGABRT after Go's report
    "nilderef": (signal.SIGABRT, None),     # a nil dereference in Go: a panic of the runtime's
    "cgofault": (signal.SIGSEGV, "store_in_c"),  # a fault in C: reported from the signal, then Go's own report
}


@pytest.fixture(scope="module", autouse=True)
def arm64_build():
    for args in (["ARCH=arm64", "all"], ["all"]):
        p = subprocess.run(["make", "-s", *args], cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, p.stdout + p.stderr


_bins = Path(tempfile.mkdtemp(prefix="lastgasp-goarm64-"))


# Build modes: "stripped" has no .symtab, so the runtime's traceback word comes from decoding arm64 code
# (go_traceback_words_arm64) and runtime.allgs from its shape.
MODES = {"default": [], "stripped": ["-ldflags=-s -w"]}


# Toolchains of the goroutine comparison (test_go_fidelity.py's variable): the installed Go and an older release.
VERSIONS = os.environ.get("GO_FIDELITY_VERSIONS", "local go1.22.12").split()


def build(prog, mode="default", version="local"):
    out = _bins / (f"{prog}-{mode}" if version == "local" else f"{prog}-{mode}-{version}")
    if not out.exists():
        env = dict(os.environ, CGO_ENABLED="1", GOARCH="arm64", CC="aarch64-linux-gnu-gcc")
        if version != "local":
            env["GOTOOLCHAIN"] = version
        subprocess.run(["go", "build", *MODES[mode], "-o", str(out), "./" + prog], cwd=HERE / "corpus", env=env,
                       check=True, capture_output=True, timeout=600)
    return out


class Run:
    def __init__(self, p, dumps, work):
        self.p, self.dumps, self.workdir = p, dumps, work
        self.stderr = p.stderr


def run(prog, lastgasp=True, level=None, mode="default", version="local"):
    """The arm64 program under qemu-aarch64; LD_PRELOAD goes to the guest only (-E), as in test_arm64.py."""
    work = Path(tempfile.mkdtemp(prefix="lastgasp-goarm64-run-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    argv = ["qemu-aarch64", "-L", SYSROOT]
    if lastgasp:
        env["LASTGASP_DIR"] = str(work)
        argv += ["-E", f"LD_PRELOAD={ALIB}"]
    if level:
        env["GOTRACEBACK"] = level
    p = subprocess.run([*argv, str(build(prog, mode, version))], cwd=work, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=180)
    return Run(p, sorted(work.glob("*.dmp")), work)


def go_json(dump):
    p = subprocess.run([str(CLI), "json", str(dump)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def said(sig, stderr):
    """What lastgasp's line starts with: the runtime's first line for a panic (found from the crashing
    goroutine), else the signal."""
    reason = fidelity.runtime_reason(stderr) if sig == signal.SIGABRT else None
    return reason.splitlines()[0] if reason else sig.name


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("prog", sorted(PROGRAMS))
def test_arm64_go_ends_as_without_lastgasp(prog, mode):
    """Exit 2 and the runtime's own report, with lastgasp as without; one dump that the four readers read."""
    sig, top = PROGRAMS[prog]
    base, with_lg = run(prog, lastgasp=False, mode=mode), run(prog, mode=mode)
    try:
        assert base.p.returncode == 2, base.stderr[-3000:]
        assert with_lg.p.returncode == 2, with_lg.stderr[-3000:]
        assert matrix.normalized(with_lg.stderr) == matrix.normalized(base.stderr), with_lg.stderr[-3000:]
        ours = [l for l in with_lg.stderr.splitlines() if l.startswith("lastgasp: ")]
        assert len(ours) == 1 and ours[0].startswith(f"lastgasp: {said(sig, base.stderr)}"), ours
        assert len(with_lg.dumps) == 1, with_lg.stderr[-3000:]
        dump = with_lg.dumps[0]
        symdir = R.symbols_dir(dump)
        views = {"lastgasp": R.read_lastgasp(dump), "breakpad": R.read_breakpad(dump, symdir),
                 "rust-minidump": R.read_rust(dump, symdir), "lldb": R.read_lldb(dump, build(prog, mode))}
        tid = views["lastgasp"]["crashing_tid"]
        assert tid and f"thread {tid}" in ours[0], ours
        for name, v in views.items():
            assert v["signal"] == sig.name, f"{name} says {v['signal']}"
            assert v["crashing_tid"] in (None, tid), f"{name}: crashing thread {v['crashing_tid']}, not {tid}"
            if top and mode == "default":  # stripped: no symbol for a static C function
                assert R.first_in_module(v, f"{prog}-{mode}") == top, f"{name}: frames {v['frames'][:8]}"
        assert views["rust-minidump"]["crashing_tid"] == views["lldb"]["crashing_tid"] == tid
        j = views["lastgasp"]["json"]
        assert j["system"]["arch"] == "arm64" and j["go"], j.get("notes")
        assert j["go"]["version"].startswith("go1."), j["go"]
    finally:
        for r in (base, with_lg):
            shutil.rmtree(r.workdir, ignore_errors=True)

# Corpus programs compared with the runtime's own traceback on arm64 (test_go_fidelity.py's comparison, at its
# level, GOTRACEBACK=system: every goroutine with every frame).
FIDELITY = sorted(p.name for p in (HERE / "corpus").iterdir()
                  if p.is_dir() and (p / "main.go").exists() and p.name not in {"deadlock", "sigquit"})


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("prog,mode", [(p, "default") for p in FIDELITY] +
                         [(p, "stripped") for p in ("cgofault", "mapwrites", "panicstring", "parked1000")])
def test_arm64_goroutines_match_go_traceback(prog, mode, version):
    """Every goroutine the runtime printed, with its id, status, wait reason and frames (file:line, inlined frames
    included), is in the dump's Go stream, walked by the arm64 rules (lr-based frames, g from TPIDR_EL0); the
    reason is the runtime's first lines."""
    r = run(prog, level="system", mode=mode, version=version)
    try:
        assert r.p.returncode == 2, r.stderr[-3000:]
        assert len(r.dumps) == 1, r.stderr[-3000:]
        j = go_json(r.dumps[0])
        go = j["go"]
        assert go and go["goroutines"], j.get("notes")
        tb = gotb.parse_goroutines(r.stderr)
        assert [g for g in tb if g["frames"]], "the runtime printed no goroutine with a stack"
        problems = fidelity.compare(tb, go, go["crashing_goroutine"])
        assert not problems, "\n".join(problems[:10])
        assert go["reason"] == fidelity.expected_reason(prog, r.stderr, go["version"])
    finally:
        shutil.rmtree(r.workdir, ignore_errors=True)


def build_matrix(goshim):
    """tests/go/matrix for arm64: plain (run without lastgasp) or with -tags goshim (goshim/auto installs it from
    LASTGASP_DIR)."""
    out = _bins / ("matrix_goshim" if goshim else "matrix")
    if not out.exists():
        env = dict(os.environ, CGO_ENABLED="1", GOARCH="arm64", CC="aarch64-linux-gnu-gcc")
        p = subprocess.run(["go", "build", *(["-tags", "goshim"] if goshim else []), "-o", str(out), "."],
                           cwd=HERE / "matrix", env=env, capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, p.stderr[-3000:]
    return out


def run_matrix(scenario, goshim, level=None):
    work = Path(tempfile.mkdtemp(prefix="lastgasp-goarm64-shim-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    if goshim:
        env["LASTGASP_DIR"] = str(work)
    if level:
        env["GOTRACEBACK"] = level
    p = subprocess.run(["qemu-aarch64", "-L", SYSROOT, str(build_matrix(goshim)), scenario], cwd=work, env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    return Run(p, sorted(work.glob("*.dmp")), work)


# scenario: the signal lastgasp reports and a function of the program on the crashing goroutine's stack.
GOSHIM = {"panic": (signal.SIGABRT, "main.main"), "nilderef": (signal.SIGABRT, "main.main"),
          "cfault": (signal.SIGSEGV, "main.main")}


@pytest.mark.parametrize("scenario", sorted(GOSHIM))
def test_arm64_goshim_crashes_into_a_dump(scenario):
    """goshim built for linux/arm64 (its build tags, the arm64 C units of tests/goshim_unity.sh): the program that
    imports it ends as the same program without it (exit 2, the runtime's report), with one dump that the four
    readers read, and whose Go stream is the runtime's traceback at GOTRACEBACK=system."""
    sig, fn = GOSHIM[scenario]
    base, got = run_matrix(scenario, False), run_matrix(scenario, True)
    full = run_matrix(scenario, True, level="system")
    try:
        assert base.p.returncode == got.p.returncode == 2, (base.stderr[-2000:], got.stderr[-2000:])
        assert matrix.normalized(got.stderr) == matrix.normalized(base.stderr), got.stderr[-3000:]
        assert "crash dumps are off" not in got.stderr and "ErrUnsupported" not in got.stderr
        ours = [l for l in got.stderr.splitlines() if l.startswith("lastgasp: ")]
        assert len(ours) == 1 and ours[0].startswith(f"lastgasp: {said(sig, base.stderr)}"), ours
        assert len(got.dumps) == 1, got.stderr[-3000:]
        dump = got.dumps[0]
        symdir = R.symbols_dir(dump)
        views = {"lastgasp": R.read_lastgasp(dump), "breakpad": R.read_breakpad(dump, symdir),
                 "rust-minidump": R.read_rust(dump, symdir), "lldb": R.read_lldb(dump, build_matrix(True))}
        for name, v in views.items():
            assert v["signal"] == sig.name, f"{name} says {v['signal']}"
        assert views["rust-minidump"]["crashing_tid"] == views["lldb"]["crashing_tid"] == \
            views["lastgasp"]["crashing_tid"]
        go = views["lastgasp"]["json"]["go"]
        crashed = next(g for g in go["goroutines"] if g["id"] == go["crashing_goroutine"])
        assert fn in [f["function"] for f in crashed["frames"]], crashed["frames"]
        assert full.p.returncode == 2 and len(full.dumps) == 1, full.stderr[-3000:]
        fgo = go_json(full.dumps[0])["go"]
        tb = gotb.parse_goroutines(full.stderr)
        if scenario == "cfault":  # a fault in C: see without_runtime_background
            tb = fidelity.without_runtime_background(tb, fgo["crashing_goroutine"])
        problems = fidelity.compare(tb, fgo, fgo["crashing_goroutine"])
        assert not problems, "\n".join(problems[:10])
    finally:
        for r in (base, got, full):
            shutil.rmtree(r.workdir, ignore_errors=True)
