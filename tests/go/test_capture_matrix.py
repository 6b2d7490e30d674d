"""Capture matrix: every way a Go service dies, or must not, in both ways in.

tests/go/matrix is one cgo program with named scenarios. It is built twice, as an unmodified
program (run with LD_PRELOAD=liblastgasp.so) and with `-tags goshim` (it imports goshim/auto), for
each Go toolchain of GO_MATRIX_VERSIONS and each build mode. Each run asserts:
  * how the process ends (exit status or death signal), as the README documents for that mode;
  * that the same program without lastgasp ends the way the README says it does without lastgasp
    (so "as without lastgasp" is measured, not assumed);
  * a dump exists exactly when one should, and it names the right signal, the crashed goroutine
    (the one the runtime's own traceback puts first, where the runtime prints one) and the
    function the crash came from.
No GOTRACEBACK is set anywhere: catching panics without it is part of what is tested.
"""
import importlib.util
import json
import os
import signal
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIB = ROOT / "build/liblastgasp.so"
CLI = ROOT / "build/lastgasp"

_spec = importlib.util.spec_from_file_location("go_traceback", HERE / "traceback.py")
gotb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gotb)

VERSIONS = os.environ.get("GO_MATRIX_VERSIONS", "local go1.22.12").split()
BUILD_MODES = {"default": [], "pie": ["-buildmode=pie"], "stripped": ["-ldflags=-s -w"]}
WAYS = ("preload", "goshim")

ABRT, SEGV, KILL = -signal.SIGABRT, -signal.SIGSEGV, -signal.SIGKILL

# scenario: (ending without lastgasp, ending with LD_PRELOAD, ending with goshim, dump signal or
# None for "no dump", a function the crashing goroutine's or thread's frames must contain).
# Without lastgasp the runtime's default traceback level applies: a panic exits with status 2.
# With lastgasp the level is "crash" in both ways in, so the runtime ends such crashes with SIGABRT.
# A fault in C code: under LD_PRELOAD the runtime forwards it to lastgasp, whose handler was there
# before the runtime's, and the process dies of the fault itself; with goshim the runtime's handler
# runs after lastgasp's and ends it with SIGABRT, as GOTRACEBACK=crash would.
CRASH = {
    "nilderef": (2, ABRT, ABRT, signal.SIGABRT, "main.nilDeref"),
    "panic": (2, ABRT, ABRT, signal.SIGABRT, "main.main"),
    "goroutinepanic": (2, ABRT, ABRT, signal.SIGABRT, "main.main.func1"),
    "index": (2, ABRT, ABRT, signal.SIGABRT, "main.indexOut"),
    "nestedpanic": (2, ABRT, ABRT, signal.SIGABRT, "main.nestedPanic"),
    "mapwrites": (2, ABRT, ABRT, signal.SIGABRT, "main.mapWrites.func1"),
    "stackoverflow": (2, ABRT, ABRT, signal.SIGABRT, "main.recurse"),
    "cfault": (2, SEGV, ABRT, signal.SIGSEGV, "main.cFault"),
    "cgotraceback": (2, SEGV, ABRT, signal.SIGSEGV, "main.cFault"),  # after runtime.SetCgoTraceback
    "cabort": (2, ABRT, ABRT, signal.SIGABRT, "abort"),
    "callbackpanic": (2, ABRT, ABRT, signal.SIGABRT, "main.matrixGoCallback"),
    "cthread": (SEGV, SEGV, SEGV, signal.SIGSEGV, "c_thread"),
}
# C functions are named from .symtab, which -ldflags='-s -w' removes: a stripped program's C-only
# thread has addresses, not names (a symbol server could name them from the build-id).
UNNAMED_WHEN_STRIPPED = {"cthread"}
NO_DUMP = {"exit3": 3, "recovered": 0}

_builds = {}


def build(version, mode, way):
    key = (version, mode, way)
    if key not in _builds:
        out = Path(tempfile.mkdtemp(prefix=f"lastgasp-matrix-{version}-{mode}-{way}-")) / "matrix"
        env = dict(os.environ, CGO_ENABLED="1", GOFLAGS="-buildvcs=false")
        if version != "local":
            env["GOTOOLCHAIN"] = version
        tags = ["-tags", "goshim"] if way == "goshim" else []
        subprocess.run(["go", "build", *tags, *BUILD_MODES[mode], "-o", str(out), "."], cwd=HERE / "matrix",
                       env=env, check=True, capture_output=True, timeout=900)
        _builds[key] = out
    return _builds[key]


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    env.update(extra)
    return env


class Run:
    """One process of the matrix program, with or without lastgasp, and its dump directory."""

    def __init__(self, binary, scenario, way, **extra_env):
        self.dir = Path(tempfile.mkdtemp(prefix="lastgasp-matrix-run-"))
        env = clean_env(**extra_env)
        if way == "preload":
            env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(self.dir))
        elif way == "goshim":
            env.update(LASTGASP_DIR=str(self.dir))
        self.p = subprocess.Popen([str(binary), scenario], cwd=self.dir, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)

    def ready(self):
        line = self.p.stdout.readline()
        assert line.startswith("ready"), f"the program did not start: {line!r}"
        return line.split()

    def finish(self, timeout=60):
        out, err = self.p.communicate(timeout=timeout)
        self.stderr = err
        self.stdout = out
        self.dumps = sorted(self.dir.glob("*.dmp"))
        return self.p.returncode

    def json(self):
        assert len(self.dumps) == 1, f"expected one dump, found {self.dumps}\n{self.stderr[-3000:]}"
        r = subprocess.run([str(CLI), "json", str(self.dumps[0])], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def crashed_frames(j):
    """Function names of the crashed goroutine (with its thread's C frames) or else crashed thread."""
    names = []
    for g in (j.get("go") or {}).get("goroutines") or []:
        if g.get("crashed"):
            names += [f.get("function") or "" for f in g["frames"]]
    for t in j["threads"]:
        if t.get("crashed"):
            names += [f.get("function") or "" for f in t["frames"]]
    return names


def check_dump(run, j, want_signal, want_function, racing=False):
    assert j["signal"]["number"] == want_signal, j["signal"]
    names = crashed_frames(j)
    assert names, "no frames for the crashed goroutine or thread"
    assert want_function is None or any(n == want_function or n.startswith(want_function + "(") or n.split("+")[0] == want_function
               for n in names), f"{want_function} not among the crashed frames: {names}"
    tb = gotb.parse(run.stderr) if "goroutine " in run.stderr else None
    first = gotb.crashing_goroutine(tb) if tb and tb["sections"] else None
    crashed = [g["id"] for g in (j.get("go") or {}).get("goroutines") or [] if g.get("crashed")]
    if first is not None:  # the runtime printed a traceback: its current goroutine is ours
        if racing:
            # Writers racing into "concurrent map writes": before Go 1.24 fatal() had no print lock
            # (golang/go#69447), so the goroutine printed first may be the other racer. Ours must be
            # one the runtime shows running the same writer.
            running = [g["id"] for sec in tb["sections"] for g in sec["goroutines"] if g["status"] == "running"]
            assert len(crashed) == 1 and crashed[0] in running, f"dump says {crashed}, running: {running}"
        else:
            assert crashed == [first["id"]], f"dump says {crashed}, the runtime says {first['id']}"


CASES = [(v, m, s) for v in VERSIONS for m in BUILD_MODES for s in CRASH]


@pytest.mark.parametrize("version,mode,scenario", CASES)
def test_crash(version, mode, scenario):
    without, preload, goshim, sig, function = CRASH[scenario]
    plain = build(version, mode, "preload")
    base = Run(plain, scenario, None)
    try:
        assert base.finish() == without, base.stderr[-2000:]
        assert not base.dumps
    finally:
        base.close()
    for way, want in (("preload", preload), ("goshim", goshim)):
        run = Run(build(version, mode, way), scenario, way)
        try:
            rc = run.finish()
            assert rc == want, f"{way}: ended with {rc}, expected {want}\n{run.stderr[-3000:]}"
            if mode == "stripped" and scenario in UNNAMED_WHEN_STRIPPED:
                function = None
            check_dump(run, run.json(), sig, function, racing=scenario == "mapwrites")
        finally:
            run.close()


@pytest.mark.parametrize("version,mode,scenario", [(v, m, s) for v in VERSIONS for m in BUILD_MODES for s in NO_DUMP])
def test_no_dump(version, mode, scenario):
    for way in WAYS:
        run = Run(build(version, mode, way), scenario, way)
        try:
            assert run.finish() == NO_DUMP[scenario], run.stderr[-2000:]
            assert not run.dumps, f"{way}: a dump for {scenario}"
            if scenario == "recovered":
                assert "recovered: true" in run.stdout
        finally:
            run.close()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("way", WAYS)
def test_kill_segv_from_outside(version, way):
    """SIGSEGV sent with kill: the runtime treats it as fatal; the dump names SIGSEGV when lastgasp
    sees it first (goshim), and the runtime's own SIGABRT when the runtime does (LD_PRELOAD: it
    prints its traceback, then raises SIGABRT, which it forwards)."""
    run = Run(build(version, "default", way), "killsegv", way)
    try:
        run.ready()
        os.kill(run.p.pid, signal.SIGSEGV)
        rc = run.finish()
        assert rc == ABRT, run.stderr[-2000:]
        j = run.json()
        want = signal.SIGSEGV if way == "goshim" else signal.SIGABRT
        assert j["signal"]["number"] == want
        if want == signal.SIGSEGV:
            assert j["signal"]["code"] == 0  # SI_USER: sent by a process
        assert "SIGSEGV: segmentation violation" in run.stderr  # the runtime's own report still comes
    finally:
        run.close()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("way", WAYS)
def test_sigterm_handled_by_notify(version, way):
    run = Run(build(version, "default", way), "sigterm", way)
    try:
        run.ready()
        os.kill(run.p.pid, signal.SIGTERM)
        assert run.finish() == 0
        assert "stopping on SIGTERM" in run.stdout
        assert not run.dumps
    finally:
        run.close()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("way", WAYS)
def test_deadlock_is_not_a_crash_in_cgo_programs(version, way):
    """A cgo program's runtime does not detect "all goroutines are asleep" (golang/go#25538): the
    process sleeps forever, with or without lastgasp, and no dump is written."""
    for w in (None, way):
        run = Run(build(version, "default", way if w else "preload"), "deadlock", w)
        try:
            run.ready()
            time.sleep(2)
            assert run.p.poll() is None, "the process ended: the runtime detected the deadlock"
            run.p.kill()
            assert run.finish() == KILL
            assert not run.dumps
        finally:
            run.close()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("way", WAYS)
def test_recovered_panics_in_http_middleware(version, way):
    """A server whose middleware recovers handler panics keeps serving: 1,000 requests after a
    panicking one all succeed, no dump appears, and SIGTERM still stops it cleanly."""
    run = Run(build(version, "default", way), "recoverhttp", way)
    try:
        port = int(run.ready()[1])
        base = f"http://127.0.0.1:{port}"
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(base + "/panic", timeout=10)
        assert e.value.code == 500 and b"recovered" in e.value.read()
        ok = 0
        for i in range(1000):
            path = "/panic" if i % 100 == 99 else "/ok"
            try:
                with urllib.request.urlopen(base + path, timeout=10) as r:
                    ok += r.status == 200 and r.read() == b"ok\n"
            except urllib.error.HTTPError as err:
                assert path == "/panic" and err.code == 500
        assert ok == 990
        assert run.p.poll() is None
        os.kill(run.p.pid, signal.SIGTERM)
        assert run.finish() == 0
        assert not run.dumps
    finally:
        run.close()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("env,want,dump", [
    ({"LASTGASP_KEEP_TRACEBACK": "1"}, 2, False),  # opted out: the runtime exits, nothing to catch
    ({"GOTRACEBACK": "single"}, 2, False),        # the user's own level is left alone
    ({"GOTRACEBACK": "crash"}, ABRT, True),
    ({"LASTGASP_KEEP_TRACEBACK": "0"}, ABRT, True),  # "0" is off, as for every flag
])
def test_traceback_level_choices(version, way, env, want, dump):
    run = Run(build(version, "default", way), "panic", way, **env)
    try:
        assert run.finish() == want, run.stderr[-2000:]
        assert len(run.dumps) == (1 if dump else 0)
        assert "panic: explicit panic" in run.stderr
    finally:
        run.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_both_ways_in_one_process(version):
    """goshim in a program that is also preloaded: the package leaves the crash to the preloaded
    library (which was there first) and says so; one crash, one dump."""
    run = Run(build(version, "default", "goshim"), "panic", "preload")
    try:
        assert run.finish() == ABRT
        assert len(run.dumps) == 1, run.dumps
        assert "already loaded with LD_PRELOAD" in run.stderr
    finally:
        run.close()


@pytest.mark.parametrize("way", WAYS)
def test_environment_the_program_sees(way):
    """Under LD_PRELOAD the slot of LASTGASP_DIR in the initial environment becomes GOTRACEBACK=crash
    (the README says so): the program and its children see that instead of LASTGASP_DIR. The Go
    package raises the level with debug.SetTraceback and leaves the environment as it was."""
    run = Run(build("local", "default", way), "env", way)
    try:
        assert run.finish() == 0, run.stderr
        if way == "preload":
            assert run.stdout.strip() == 'GOTRACEBACK="crash" LASTGASP_DIR=""'
        else:
            assert run.stdout.strip() == f'GOTRACEBACK="" LASTGASP_DIR="{run.dir}"'
    finally:
        run.close()
