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
import difflib
import json
import os
import re
import resource
import signal
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from pylib import go_traceback as gotb
from pylib import readers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIB = ROOT / "build/liblastgasp.so"
CLI = ROOT / "build/lastgasp"

CGO_CFLAGS = subprocess.run(["bash", str(ROOT / "tests/go/cgo_cflags.sh")], capture_output=True, text=True,
                            check=True).stdout.strip()
VERSIONS = os.environ.get("GO_MATRIX_VERSIONS", "local go1.22.12").split()
BUILD_MODES = {"default": [], "pie": ["-buildmode=pie"], "stripped": ["-ldflags=-s -w"]}
WAYS = ("preload", "goshim")

ABRT, SEGV, KILL = -signal.SIGABRT, -signal.SIGSEGV, -signal.SIGKILL

# scenario: (how it ends without lastgasp, the signal the dump names, a function the crashing goroutine's
# or thread's frames must contain). With lastgasp, both ways in, the process must end the same way, with
# the same stderr (after normalizing, see same_crash) and the same core presence, and leave one dump.
CRASH = {
    "nilderef": (2, signal.SIGABRT, "main.nilDeref"),
    "panic": (2, signal.SIGABRT, "main.main"),
    "goroutinepanic": (2, signal.SIGABRT, "main.main.func1"),
    "index": (2, signal.SIGABRT, "main.indexOut"),
    "nestedpanic": (2, signal.SIGABRT, "main.nestedPanic"),
    "mapwrites": (2, signal.SIGABRT, "main.mapWrites.func1"),
    "stackoverflow": (2, signal.SIGABRT, "main.recurse"),
    # The runtime's signal path: lastgasp reports the signal itself first, then gives it back.
    "cfault": (2, signal.SIGSEGV, "main.cFault"),
    "cgotraceback": (2, signal.SIGSEGV, "main.cFault"),  # after runtime.SetCgoTraceback
    "cabort": (2, signal.SIGABRT, "abort"),
    "killself": (2, signal.SIGSEGV, "syscall.Tgkill"),
    "breakpoint": (2, signal.SIGTRAP, "runtime.Breakpoint"),
    "callbackpanic": (2, signal.SIGABRT, "main.matrixGoCallback"),
    "cthread": (SEGV, signal.SIGSEGV, "c_thread"),
    "parked10k": (2, signal.SIGABRT, "main.nilDeref"),
}
# Where the runtime's own output differs from run to run (which racing writer it names first; which thread
# a signal from outside lands on), only its first line is compared.
FIRST_LINE_ONLY = {"mapwrites", "killsegv"}
# C functions are named from .symtab, which -ldflags='-s -w' removes: a stripped program's C-only
# thread has addresses, not names (a symbol server could name them from the build-id).
UNNAMED_WHEN_STRIPPED = {"cthread"}
NO_DUMP = {"exit3": 3, "recovered": 0}

_builds = {}


def build(version, mode, way):
    key = (version, mode, way)
    if key not in _builds:
        out = Path(tempfile.mkdtemp(prefix=f"lastgasp-matrix-{version}-{mode}-{way}-")) / "matrix"
        env = dict(os.environ, CGO_ENABLED="1", GOFLAGS="-buildvcs=false", CGO_CFLAGS=CGO_CFLAGS)
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


def cores_on():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def cores_observable():
    """Core files land in the working directory only with a plain core_pattern."""
    p = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    return bool(p) and not p.startswith("|") and "/" not in p


class Run:
    """One process of the matrix program, with or without lastgasp, and its dump directory (also its
    working directory, where a core file lands; core dumps are on)."""

    def __init__(self, binary, scenario, way, **extra_env):
        self.dir = Path(tempfile.mkdtemp(prefix="lastgasp-matrix-run-"))
        env = clean_env(**extra_env)
        env[readers.SECRET_NAME] = readers.SECRET  # a secret in the environment: no dump may hold it
        if way == "preload":
            env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(self.dir))
        elif way == "goshim":
            env.update(LASTGASP_DIR=str(self.dir))
        self.p = subprocess.Popen([str(binary), scenario], cwd=self.dir, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, preexec_fn=cores_on)

    def ready(self):
        line = self.p.stdout.readline()
        assert line.startswith("ready"), f"the program did not start: {line!r}"
        return line.split()

    def finish(self, timeout=60):
        out, err = self.p.communicate(timeout=timeout)
        self.stderr = err
        self.stdout = out
        self.dumps = sorted(self.dir.glob("*.dmp"))
        self.cores = sorted(self.dir.glob("core*"))
        return self.p.returncode

    def json(self):
        assert len(self.dumps) == 1, f"expected one dump, found {self.dumps}\n{self.stderr[-3000:]}"
        readers.assert_no_secret(self.dumps[0])
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


def normalized(stderr, first_line_only=False):
    """The runtime's crash output without lastgasp's line, in a form two runs of one crash share: addresses,
    m numbers and goroutine ids (the runtime numbers its own goroutines as they start, which timing decides)
    replaced; after the first two blocks (the reason, the crashing goroutine) the blocks sorted, since the
    order of the others follows their creation, and without the runtime's own background goroutines
    (finalizers, cleanups, GC workers: created by the runtime), whose state depends on whether they got to
    park before the crash, a matter of microseconds."""
    lines = [l for l in stderr.splitlines() if not l.startswith("lastgasp: ")]
    if first_line_only:
        return lines[:1]
    # At the user's crash level the runtime's signal path relays SIGQUIT and every thread prints its state
    # after a "-----" line: what each idle thread was doing then is a matter of timing.
    if "-----" in lines:
        lines = lines[:lines.index("-----") + 1]
    text = "\n".join(lines)
    text = re.sub(r"0x[0-9a-f]+", "0x?", text)
    text = re.sub(r"\bm=\d+", "m=?", text)
    text = re.sub(r"goroutine \d+", "goroutine ?", text)
    blocks = text.split("\n\n")
    return blocks[:2] + sorted(b for b in blocks[2:] if "\ncreated by runtime." not in b)


def same_crash(base, run, way, scenario):
    """With lastgasp the crash is the crash without it: exit status or signal, stderr, core presence."""
    assert run.p.returncode == base.p.returncode, \
        f"{way}: ended with {run.p.returncode}, without lastgasp {base.p.returncode}\n{run.stderr[-3000:]}"
    first = scenario in FIRST_LINE_ONLY
    a, b = normalized(base.stderr, first), normalized(run.stderr, first)
    assert a == b, f"{way}: stderr differs from the run without lastgasp:\n" + "\n".join(
        difflib.unified_diff("\n\n".join(a).splitlines(), "\n\n".join(b).splitlines(), "without", way, lineterm="", n=1))
    if cores_observable():
        assert bool(run.cores) == bool(base.cores), f"{way}: core file presence changed ({base.cores} -> {run.cores})"
    ours = [l for l in run.stderr.splitlines() if l.startswith("lastgasp: ")]
    assert len(ours) == 1, f"{way}: lastgasp printed {ours}"
    return ours[0]


CASES = [(v, m, s) for v in VERSIONS for m in BUILD_MODES for s in CRASH]


@pytest.mark.parametrize("version,mode,scenario", CASES)
def test_crash(version, mode, scenario):
    without, sig, function = CRASH[scenario]
    plain = build(version, mode, "preload")
    base = Run(plain, scenario, None)
    try:
        assert base.finish() == without, base.stderr[-2000:]
        assert not base.dumps
        for way in WAYS:
            run = Run(build(version, mode, way), scenario, way)
            try:
                run.finish()
                line = same_crash(base, run, way, scenario)
                if mode == "stripped" and scenario in UNNAMED_WHEN_STRIPPED:
                    function = None
                j = run.json()
                check_dump(run, j, sig, function, racing=scenario == "mapwrites")
                reason = (j.get("go") or {}).get("reason")
                if reason:  # the summary names the crash in the runtime's words
                    assert line.startswith("lastgasp: " + reason.splitlines()[0] + " [goroutine "), line
                if scenario == "parked10k":
                    assert len(run.stderr) < 64 << 10, "the runtime printed more than its default level"
            finally:
                run.close()
    finally:
        base.close()


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


def signalled(version, way, scenario, sig):
    """The program started, then sig sent from outside; returns the finished Run (caller closes)."""
    run = Run(build(version, "default", way or "preload"), scenario, way)
    run.ready()
    time.sleep(0.2)
    os.kill(run.p.pid, sig)
    run.finish()
    return run


@pytest.mark.parametrize("version", VERSIONS)
def test_kill_segv_from_outside(version):
    """SIGSEGV sent with kill: the runtime treats it as fatal (its signal path, exit 2). lastgasp sees it
    first in both ways in, reports it (SIGSEGV, SI_USER), then the runtime prints and exits as without."""
    base = signalled(version, None, "killsegv", signal.SIGSEGV)
    try:
        assert base.p.returncode == 2 and "SIGSEGV: segmentation violation" in base.stderr
        for way in WAYS:
            run = signalled(version, way, "killsegv", signal.SIGSEGV)
            try:
                same_crash(base, run, way, "killsegv")
                j = run.json()
                assert j["signal"]["number"] == signal.SIGSEGV and j["signal"]["code"] == 0  # SI_USER
            finally:
                run.close()
    finally:
        base.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_sigquit_to_a_busy_program(version):
    """SIGQUIT: the runtime prints every goroutine and exits 2. Not a signal lastgasp reports; with the crash
    bit it would relay SIGQUIT to every thread and abort, so lastgasp takes the bit away meanwhile."""
    base = signalled(version, None, "busy", signal.SIGQUIT)
    try:
        assert base.p.returncode == 2 and "SIGQUIT: quit" in base.stderr
        for way in WAYS:
            run = signalled(version, way, "busy", signal.SIGQUIT)
            try:
                assert run.p.returncode == 2, run.stderr[-2000:]
                assert "-----" not in run.stderr and "SIGQUIT: quit" in run.stderr
                assert not run.dumps and "lastgasp:" not in run.stderr
                # Busy goroutines are caught in different states each run: compare what the runtime printed
                # first, and which of the program's functions it showed.
                assert run.stderr.splitlines()[0] == base.stderr.splitlines()[0] == "SIGQUIT: quit"
                funcs = lambda r: set(re.findall(r"^(main\.[\w.]+)\(", r.stderr, re.M))
                assert funcs(run) == funcs(base)
            finally:
                run.close()
    finally:
        base.close()


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


@pytest.mark.parametrize("way", WAYS)
def test_sigquit_at_the_users_crash_level(way):
    """GOTRACEBACK=crash: SIGQUIT ends in the runtime's abort and a core, as the user asked, with or without
    lastgasp; lastgasp reports the SIGQUIT itself first, from its own context (not the later SIGABRT)."""
    base = Run(build("local", "default", "preload"), "busy", None, GOTRACEBACK="crash")
    run = Run(build("local", "default", way), "busy", way, GOTRACEBACK="crash")
    try:
        for r in (base, run):
            r.ready()
            time.sleep(0.2)
            os.kill(r.p.pid, signal.SIGQUIT)
            r.finish()
        assert run.p.returncode == base.p.returncode == ABRT, run.stderr[-2000:]
        if cores_observable():
            assert bool(run.cores) == bool(base.cores)
        j = run.json()
        assert j["signal"]["name"] == "SIGQUIT" and j["signal"]["code"] == 0
        assert normalized(run.stderr, True) == normalized(base.stderr, True) == ["SIGQUIT: quit"]
        ours = [l for l in run.stderr.splitlines() if l.startswith("lastgasp: ")]
        assert len(ours) == 1 and ours[0].startswith("lastgasp: SIGQUIT from pid "), ours
    finally:
        base.close()
        run.close()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("scenario,env,dump", [
    ("panic", {"LASTGASP_KEEP_TRACEBACK": "1"}, False),  # opted out: no crash bit, nothing to catch
    ("panic", {"LASTGASP_KEEP_TRACEBACK": "0"}, True),   # "0" is off, as for every flag
    ("panic", {"GOTRACEBACK": "none"}, True),            # the user's level, printed as they chose
    ("panic", {"GOTRACEBACK": "all"}, True),
    ("panic", {"GOTRACEBACK": "system"}, True),
    ("panic", {"GOTRACEBACK": "crash"}, True),           # the crash is theirs: SIGABRT and a core, as asked
    ("settraceback", {"MATRIX_LEVEL": "all"}, True),     # chosen at run time with debug.SetTraceback
    ("settraceback", {"MATRIX_LEVEL": "crash"}, True),
    ("cfault", {"GOTRACEBACK": "crash"}, True),           # the signal path at the user's crash level
    ("abortexit0", {"MATRIX_ABORT_EXIT0": "ctor"}, True),  # a C SIGABRT handler from before the runtime
])
def test_traceback_level_choices(version, way, scenario, env, dump):
    """Whatever level the user chose, the crash is the one Go makes at that level, plus a dump wherever the
    crash bit could be added without changing it."""
    base = Run(build(version, "default", "preload"), scenario, None, **env)
    try:
        base.finish()
        assert not base.dumps
        run = Run(build(version, "default", way), scenario, way, **env)
        try:
            run.finish()
            if dump:
                same_crash(base, run, way, scenario)
                assert len(run.dumps) == 1
            else:
                assert run.p.returncode == base.p.returncode and run.stderr == base.stderr and not run.dumps
        finally:
            run.close()
    finally:
        base.close()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("way", WAYS)
def test_c_abort_handler_installed_at_run_time(version, way):
    """A C SIGABRT handler installed after lastgasp (through cgo, at run time) that exits 0. Without
    lastgasp a panic exits 2 and the handler never runs. Preloaded, lastgasp sees the sigaction call and
    takes its crash bit back: the panic exits 2, without a dump. The Go package cannot see the call (a
    documented limit): the runtime's crash-bit SIGABRT reaches that handler, and the process exits 0."""
    base = Run(build(version, "default", "preload"), "abortexit0", None)
    run = Run(build(version, "default", way), "abortexit0", way)
    try:
        assert base.finish() == 2
        assert run.finish() == (2 if way == "preload" else 0) and not run.dumps
        assert normalized(run.stderr) == normalized(base.stderr)
    finally:
        base.close()
        run.close()


@pytest.mark.parametrize("way", WAYS)
def test_settraceback_system_at_run_time_is_taken_for_crash(way):
    """A documented difference: debug.SetTraceback("system") at run time ORs with lastgasp's floor into the
    same word as "crash" would, so lastgasp leaves the runtime's SIGABRT alone (a core where enabled)."""
    base = Run(build("local", "default", "preload"), "settraceback", None, MATRIX_LEVEL="system")
    run = Run(build("local", "default", way), "settraceback", way, MATRIX_LEVEL="system")
    try:
        assert base.finish() == 2
        assert run.finish() == ABRT and len(run.dumps) == 1
        assert normalized(run.stderr) == normalized(base.stderr)
    finally:
        base.close()
        run.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_both_ways_in_one_process(version):
    """goshim in a program that is also preloaded: the package leaves the crash to the preloaded
    library (which was there first) and says so; one crash, one dump."""
    run = Run(build(version, "default", "goshim"), "panic", "preload")
    try:
        assert run.finish() == 2
        assert len(run.dumps) == 1, run.dumps
        assert "already loaded with LD_PRELOAD" in run.stderr
        assert "crash dumps are off" not in run.stderr  # the preloaded library's dumps are on
    finally:
        run.close()


@pytest.mark.parametrize("way", WAYS)
def test_environment_the_program_sees(way):
    """lastgasp leaves the environment alone, both ways in: the program and its children see what they
    would see without it."""
    run = Run(build("local", "default", way), "env", way)
    try:
        assert run.finish() == 0, run.stderr
        assert run.stdout.strip() == f'GOTRACEBACK="" LASTGASP_DIR="{run.dir}"'
    finally:
        run.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_child_process_of_a_preloaded_program(version):
    """A preloaded program's child inherits LD_PRELOAD and the environment: its panic prints and ends as
    without lastgasp (exit 2, which the parent sees) and leaves its own dump; the parent prints nothing more."""
    base = Run(build(version, "default", "preload"), "child", None)
    run = Run(build(version, "default", "preload"), "child", "preload")
    try:
        assert base.finish() == 0 and run.finish() == 0
        assert base.stdout == run.stdout == "child exited 2\n"
        assert normalized(run.stderr) == normalized(base.stderr)
        assert len(run.dumps) == 1 and str(run.p.pid) not in run.dumps[0].name
        assert [l for l in run.stderr.splitlines() if l.startswith("lastgasp: ")][0].startswith("lastgasp: panic: ")
    finally:
        base.close()
        run.close()


def test_unsupported_go_version_keeps_go_s_crash(tmp_path):
    """Go 1.21, before the versions whose runtime lastgasp walks: the crash bit is still found, so a panic
    ends as Go ends it (exit 2, the same text) and leaves a native dump."""
    (tmp_path / "go.mod").write_text("module old\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text('package main\n\nimport "C"\n\ntype T struct{ x int }\n\n'
                                      'func main() {\n\tvar p *T\n\tp.x = 1\n}\n')
    env = dict(os.environ, CGO_ENABLED="1", GOTOOLCHAIN="go1.21.13", GOFLAGS="-buildvcs=false")
    subprocess.run(["go", "build", "-o", "old"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=600)
    base = Run(tmp_path / "old", "-", None)
    run = Run(tmp_path / "old", "-", "preload")
    try:
        assert base.finish() == 2
        run.finish()
        same_crash(base, run, "preload", "old")
        assert len(run.dumps) == 1 and run.json()["go"] is None
    finally:
        base.close()
        run.close()


def test_setuid_go_program_ignores_lastgasp_dir(tmp_path):
    """A setuid-root Go program with the Go package (goshim/auto), started by nobody with LASTGASP_DIR=/etc:
    the environment is not trusted (secure-execution mode), so nothing is installed and nothing is written;
    one line says so, and the program dies as the same setuid program without lastgasp."""
    d = tmp_path / "bin"
    d.mkdir()
    d.chmod(0o755)
    tmp_path.chmod(0o755)
    exes = {}
    for way in ("preload", "goshim"):  # "preload" is the plain build, run here without lastgasp
        exes[way] = d / way
        shutil.copy(build("local", "default", way), exes[way])
        os.chown(exes[way], 0, 0)
        exes[way].chmod(0o4755)
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    before = sorted(os.listdir("/etc"))
    env = clean_env(LASTGASP_DIR="/etc")
    runs = [subprocess.run(as_nobody + [str(exes[w]), "nilderef"], env=env, capture_output=True, text=True,
                           timeout=60, cwd=tmp_path) for w in ("preload", "goshim")]
    assert sorted(os.listdir("/etc")) == before, "lastgasp wrote into /etc"
    assert runs[1].returncode == runs[0].returncode == 2
    ours = [l for l in runs[1].stderr.splitlines() if l.startswith("lastgasp: ")]
    assert len(ours) == 1 and "secure-execution mode" in ours[0], runs[1].stderr
    assert normalized(runs[1].stderr) == normalized(runs[0].stderr)
