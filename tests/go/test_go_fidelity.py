"""Go fidelity: the dump of a Go crash against the Go runtime's own traceback of the same crash.

Every corpus program (tests/go/corpus) is built with cgo (dynamically linked) in four build modes
and with each Go toolchain of GO_FIDELITY_VERSIONS, run with lastgasp preloaded and
GOTRACEBACK=system, and compared goroutine by goroutine with fidelity.compare (ids, statuses and wait
reasons, function sequences with file:line, created-by); its go.reason is compared with the
runtime's first lines (fidelity.runtime_reason), its signal with the one the runtime names.

Why GOTRACEBACK=system: it is the level at which the runtime prints every goroutine with every frame
(runtime frames and the runtime's own goroutines included), and it has no crash bit of its own, so the
run is what a user at that level sees: the runtime's whole report, exit status 2, plus lastgasp's
dump and line (lastgasp adds the crash bit itself and ends the process as the runtime would have).
At the default level (single) or at all, the runtime prints fewer goroutines or hides runtime
frames; the dump is the same. GOTRACEBACK=crash (the user's crash bit, death by SIGABRT) is
tests/go/test_traceback.py's level and a row of the capture matrix.
"""
import json
import os
import re
import select
import signal
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from pylib import go_fidelity as fidelity
from pylib import go_traceback as gotb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIB = ROOT / "build/liblastgasp.so"
CLI = ROOT / "build/lastgasp"

VERSIONS = os.environ.get("GO_FIDELITY_VERSIONS", "local go1.22.12").split()
MODES = {
    "default": [],
    "pie": ["-buildmode=pie"],
    "stripped": ["-ldflags=-s -w"],
    "noopt": ["-gcflags=all=-N -l"],
}
LEVEL = "system"
# Not compared here, and why:
#  deadlock  static by necessity (cgo turns the runtime's deadlock detector off, golang/go#25538):
#            LD_PRELOAD cannot reach it, and a process that has lastgasp through cgo never dies
#            this way. It stays in the corpus for the traceback parser's own tests.
#  sigquit   SIGQUIT is left to the runtime (no dump): test_sigquit_is_the_runtimes checks that.
NOT_COMPARED = {"deadlock", "sigquit"}
PROGRAMS = sorted(p.name for p in (HERE / "corpus").iterdir()
                  if p.is_dir() and (p / "main.go").exists() and p.name not in NOT_COMPARED)

_builds = {}


def build(version, mode, prog):
    key = (version, mode)
    if key not in _builds:
        _builds[key] = Path(tempfile.mkdtemp(prefix=f"lastgasp-go-{version}-{mode}-"))
    out = _builds[key] / prog
    if not out.exists():
        env = dict(os.environ, CGO_ENABLED="1")
        if version != "local":
            env["GOTOOLCHAIN"] = version
        subprocess.run(["go", "build", *MODES[mode], "-o", str(out), "./" + prog], cwd=HERE / "corpus", env=env,
                       check=True, capture_output=True, timeout=600)
    return out


_runs = {}


def crash_once(version, mode, prog):
    """crash(build(...)) once per program, build mode and version: the tests below share the run."""
    key = (version, mode, prog)
    if key not in _runs:
        _runs[key] = crash(build(version, mode, prog))
    return _runs[key]


def crash(binary, level=LEVEL):
    work = Path(tempfile.mkdtemp(prefix="lastgasp-go-run-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(work), GOTRACEBACK=level)
    p = subprocess.run([str(binary)], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    dumps = [d.read_bytes() for d in work.glob("*.dmp")]  # the dumps' contents
    j = None
    if len(dumps) == 1:
        (work / "dump.dmp").write_bytes(dumps[0])
        out = subprocess.run([str(CLI), "json", str(work / "dump.dmp")], capture_output=True, timeout=60)
        j = json.loads(out.stdout)
    shutil.rmtree(work, ignore_errors=True)
    return p, dumps, j


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("prog", PROGRAMS)
def test_dump_matches_go_traceback(version, mode, prog):
    p, dumps, j = crash_once(version, mode, prog)
    # As without lastgasp at this level: the runtime's exit(2), whether the crash was a panic, a
    # fatal error or a signal the runtime reports itself.
    assert p.returncode == 2, f"{prog} ended with {p.returncode}, not exit 2\n{p.stderr[-3000:]}"
    assert len(dumps) == 1, f"{len(dumps)} dumps\n{p.stderr[-3000:]}"
    go = j["go"]
    assert go, f"no Go stream; notes: {j.get('notes')}"
    want_version = subprocess.run(["go", "version"], capture_output=True, text=True,
                                  env=dict(os.environ, **({"GOTOOLCHAIN": version} if version != "local" else {})))
    assert go["version"] in want_version.stdout
    assert go["build_info"]["path"] == f"lastgasp.test/corpus/{prog}", go["build_info"]
    assert go["build_info"]["settings"]["CGO_ENABLED"] == "1"
    tb = gotb.parse_goroutines(p.stderr)
    printed = [g for g in tb if g["frames"]]
    assert printed, "the runtime printed no goroutine with a stack"
    crashed = go["crashing_goroutine"]
    problems = fidelity.compare(tb, go, crashed)
    assert not problems, "\n".join(problems[:10])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("prog", PROGRAMS)
def test_reason_matches_go_output(version, mode, prog):
    """go.reason is what the runtime printed first (fidelity.runtime_reason), byte for byte, but for
    the values lastgasp does not decode, which must read as documented (fidelity.REASON_FALLBACKS)."""
    p, dumps, j = crash_once(version, mode, prog)
    assert len(dumps) == 1 and j["go"], f"no Go dump\n{p.stderr[-3000:]}"
    want = fidelity.expected_reason(prog, p.stderr, j["go"]["version"])
    # A signal the runtime reports itself (a fault in C, a signal sent, a trap) is no panic and no
    # fatal error: no reason on either side, the signal says it (test_dump_names_the_signal).
    assert want or runtime_signal(p.stderr), f"the runtime printed no reason:\n{p.stderr[:2000]}"
    assert j["go"]["reason"] == want, f"\n  dump:    {j['go']['reason']!r}\n  runtime: {want!r}"


def runtime_signal(stderr):
    """The signal the runtime names in its first line ("SIGTRAP: trace trap"), when it reports a
    signal itself; None for a panic or a fatal error."""
    m = re.search(r"^(SIG[A-Z0-9]+): ", stderr, re.M)  # the first line but lastgasp's own
    return m and m.group(1)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("prog", PROGRAMS)
def test_dump_names_the_signal(version, mode, prog, tmp_path):
    """The dump names the signal the crash started as: the one the runtime reports (SIGSEGV sent by
    tgkill, SIGTRAP, a C fault's SIGSEGV), or SIGABRT, the runtime's own crash() after a panic or a
    fatal error; `lastgasp show` says it too."""
    p, dumps, j = crash_once(version, mode, prog)
    assert len(dumps) == 1, p.stderr[-2000:]
    want = runtime_signal(p.stderr) or "SIGABRT"
    assert j["signal"]["name"] == want, (j["signal"], p.stderr[:300])
    (tmp_path / "dump.dmp").write_bytes(dumps[0])
    shown = subprocess.run([str(CLI), "show", str(tmp_path / "dump.dmp")], capture_output=True, text=True,
                           timeout=60).stdout
    assert shown.startswith(want + " "), shown[:400]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("prog", PROGRAMS)
def test_no_thread_lost(version, mode, prog):
    """Every thread of the process is in the dump with its registers and a stack, and every goroutine
    running on a thread has frames, including those the runtime itself cannot show ("goroutine running
    on other thread; stack unavailable": lastgasp walks them from their thread's registers)."""
    p, dumps, j = crash_once(version, mode, prog)
    assert len(dumps) == 1, p.stderr[-2000:]
    threads = j["threads"]
    assert len(threads) >= 2, threads
    assert all(t["frames"] for t in threads), [(t["tid"], t["crashed"], len(t["frames"])) for t in threads]
    by_id = {g["id"]: g for g in j["go"]["goroutines"]}
    for tg in gotb.parse_goroutines(p.stderr):
        if tg.get("unavailable"):
            dg = by_id.get(tg["id"])
            assert dg and dg["frames"], f"goroutine {tg['id']}: {dg}"
    for g in j["go"]["goroutines"]:
        if g["thread"]:
            assert g["frames"], g


def marker_line(prog, marker):
    for i, line in enumerate((HERE / "corpus" / prog / "main.go").read_text().splitlines(), 1):
        if marker in line:
            return i
    raise AssertionError(f"no {marker} in {prog}")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", sorted(MODES))
def test_cgo_fault_goroutine(version, mode):
    """A fault in C called through cgo: one stack, C frames (the crashing thread's) below the Go
    frames of the goroutine in the cgo call, with the lines of the source."""
    p, dumps, j = crash_once(version, mode, "cgofault")
    assert p.returncode == 2 and len(dumps) == 1, p.stderr[-2000:]
    go = j["go"]
    (g,) = [g for g in go["goroutines"] if g["crashed"]]
    assert g["id"] == go["crashing_goroutine"] and g["status"] == "syscall"
    # A fault in C: no panic and no fatal error, so no reason (the signal says it).
    assert go["reason"] is None, go["reason"]
    native = [f for f in g["frames"] if f["native"]]
    frames = [(f["function"], f["line"]) for f in g["frames"] if not f["native"]]
    src = str(HERE / "corpus/cgofault/main.go")
    # One stack: the C frames of the cgo call first (a static function has no name when stripped)...
    assert g["frames"][0]["native"] and len(native) >= 1, g["frames"][:3]
    assert native[0]["function"] == (None if mode == "stripped" else "store_in_c"), native
    # ...then the Go frames, from the call into C up to main.
    assert frames[0][0] == "runtime.cgocall", frames
    assert ("main.callC", marker_line("cgofault", "CALLER-HERE")) in frames, frames
    assert ("main.main", marker_line("cgofault", "MAIN-CALLS")) in frames, frames
    go_frames = [f for f in g["frames"] if not f["native"]]
    assert all(f["file"] for f in go_frames) and any(f["file"] == src for f in go_frames)
    (t,) = [t for t in j["threads"] if t["crashed"]]
    names = [f["function"] or "" for f in t["frames"]]
    # A static C function has no name in a stripped binary (no .symtab): null, never a wrong one.
    assert names[0] == ("" if mode == "stripped" else "store_in_c"), names
    assert any(n.startswith("runtime.asmcgocall") for n in names), names  # the pclntab names it


def _goroutine_summary(stderr):
    """What must be the same in two SIGQUIT reports of the same program: the parked goroutines, each
    with its status and frames (function, line). Not the spinner (running), nor main, which may still
    be writing "ready" or be past it; not the ids either: the runtime hands ids out in batches per P,
    so which goroutine gets which depends on the P that made it."""
    return sorted((g["status"], g["wait_reason"] or "", [(f["function"], f["line"]) for f in g["frames"]])
                  for g in gotb.parse_goroutines(stderr)
                  if g["status"] == "waiting" and not any(f["function"] == "main.main" for f in g["frames"]))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", sorted(MODES))
def test_sigquit_is_the_runtimes(version, mode):
    """SIGQUIT to a busy program is the runtime's: lastgasp writes no dump, and the runtime prints
    "SIGQUIT: quit" and every goroutine and exits 2, as without lastgasp."""
    binary = build(version, mode, "sigquit")
    ends = []
    for preload in (False, True):
        work = Path(tempfile.mkdtemp(prefix="lastgasp-go-quit-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
        env.update(GOTRACEBACK=LEVEL, LASTGASP_DIR=str(work))
        if preload:
            env["LD_PRELOAD"] = str(LIB)
        p = subprocess.Popen([str(binary)], cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            ready, _, _ = select.select([p.stdout], [], [], 60)  # a hang detector, not a budget
            assert ready and p.stdout.readline() == "ready\n", "the program never said it was ready"
            p.send_signal(signal.SIGQUIT)
            _, err = p.communicate(timeout=60)
        finally:
            p.kill()
        ends.append((p.returncode, err, list(work.glob("*.dmp"))))
        shutil.rmtree(work, ignore_errors=True)
    (rc0, err0, _), (rc1, err1, dumps) = ends
    assert rc0 == rc1 == 2, (rc0, rc1, err1[-2000:])
    assert dumps == [], dumps
    assert err0.startswith("SIGQUIT: quit\n") and err1.startswith("SIGQUIT: quit\n"), err1[:500]
    assert "lastgasp" not in err1
    want, got = _goroutine_summary(err0), _goroutine_summary(err1)
    assert len(want) >= 8 and got == want, (want, got)


def test_unsupported_go_version_gives_a_native_dump_that_says_why(tmp_path):
    """Go 1.21 (before the versions lastgasp knows the runtime of): a native dump, no Go stream, and a
    note naming the version."""
    (tmp_path / "go.mod").write_text("module old\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text('package main\n\nimport "C"\n\ntype T struct{ x int }\n\n'
                                      'func main() {\n\tvar p *T\n\tp.x = 1\n}\n')
    env = dict(os.environ, CGO_ENABLED="1", GOTOOLCHAIN="go1.21.13")
    subprocess.run(["go", "build", "-o", "old"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=600)
    p, dumps, j = crash(tmp_path / "old", level="crash")  # not armed for 1.21: the crash bit must be the user's
    assert p.returncode < 0 and len(dumps) == 1, p.stderr[-2000:]
    assert j["go"] is None
    assert "go1.21.13 is not supported" in j["notes"], j["notes"]
    assert any(t["crashed"] and t["frames"] for t in j["threads"])


def _goroutine(frames, status="waiting", reason="GC worker (active)"):
    return {"id": 22, "status": status, "wait_reason": reason,
            "frames": [{"function": f, "file": "x.go", "line": 1} for f in frames]}


def test_compare_leaves_vdso_frames_to_timing():
    """fidelity.compare's one allowance (VDSO_CALLERS): a goroutine the runtime printed from its M's vDSO call on
    the system stack may have other frames in the dump; any other difference of a parked goroutine is reported."""
    dump = {"goroutines": [_goroutine(["runtime.systemstack_switch", "runtime.gcBgMarkWorker", "runtime.goexit"])]}
    vdso = _goroutine(["runtime.nanotime", "runtime.suspendG", "runtime.markroot", "runtime.systemstack"])
    assert fidelity.compare([vdso], dump, 1) == []
    for frames in (["runtime.suspendG", "runtime.markroot", "runtime.systemstack"],  # not in a vDSO call
                   ["runtime.nanotime", "runtime.suspendG", "runtime.gcBgMarkWorker"]):  # not the system stack
        problems = fidelity.compare([_goroutine(frames)], dump, 1)
        assert len(problems) == 1 and "frames differ" in problems[0], problems
    other = _goroutine(["runtime.nanotime", "runtime.systemstack"], reason="GC worker (idle)")
    assert fidelity.compare([other], dump, 1) == ["goroutine 22: status 'GC worker (active)', the runtime says "
                                                  "'GC worker (idle)'"]
