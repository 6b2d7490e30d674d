"""harness.py — run one hostile scenario twice, without and with lastgasp, and compare.

A scenario is a command (usually a program of tests/hardening/, built into build/tests/hardening/) plus
how it is started (environment, limits, a preexec function, a wrapper such as unshare). `run` starts it in a
fresh working directory with a fresh dump directory and returns what an operator could observe: how it died,
whether it left a core, what it wrote on stderr, which files it left in the dump directory, and how long the
crash took to end. `same_death` asserts what "never worse than without us" means for any scenario.
"""
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
LIB = Path(os.environ.get("LASTGASP_TEST_LIB") or BUILD / "liblastgasp.so")  # another build, to show a test fails there
CLI = BUILD / "lastgasp"
BIN = BUILD / "tests" / "hardening"
TRIPWIRE = BUILD / "tests" / "tripwire.so"


class Outcome:
    def __init__(self, rc, stderr, files, cores, elapsed, workdir, dump_dir):
        self.rc, self.stderr, self.files, self.cores = rc, stderr, files, cores
        self.elapsed, self.workdir, self.dump_dir = elapsed, workdir, dump_dir

    @property
    def death(self):
        """('signal', N), ('exit', N), or ('timeout', None) when it had to be killed."""
        if self.rc is None:
            return ("timeout", None)
        return ("signal", -self.rc) if self.rc < 0 else ("exit", self.rc)

    @property
    def dumps(self):
        return [f for f in self.files if f.name.endswith(".dmp")]

    def our_lines(self):
        return [l for l in self.stderr.splitlines() if l.startswith("lastgasp:")]

    def stderr_without_ours(self):
        return "\n".join(l for l in self.stderr.splitlines() if not l.startswith("lastgasp:"))


def run(argv, *, lastgasp=True, env=None, dump_dir=None, preexec=None, timeout=30, tripwire=False,
        core=True, stdin=subprocess.DEVNULL, stderr_path=None):
    """Run argv (a list; argv[0] a name in build/tests/hardening/ or a path) once.

    lastgasp: preload build/liblastgasp.so with LASTGASP_DIR set to dump_dir (default: a fresh directory).
    env: added to a clean environment (no LASTGASP_*, no LD_PRELOAD from the caller).
    preexec: called in the child before exec (after the core limit is set).
    stderr_path: send stderr to this file instead of a pipe (for scenarios that play with stderr themselves).
    timeout: seconds before the process is killed (death then is ('timeout', None)).
    """
    work = Path(tempfile.mkdtemp(prefix="lastgasp-hard-"))
    dumps = Path(dump_dir) if dump_dir else work / "dumps"
    dumps.mkdir(exist_ok=True)
    e = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "CRASHER_", "GOTRACEBACK"))}
    if lastgasp:
        e["LASTGASP_DIR"] = str(dumps)
        e["LD_PRELOAD"] = " ".join(([str(TRIPWIRE)] if tripwire else []) + [str(LIB)])
        if tripwire:
            e["CRASHER_TRIPWIRE"] = "1"
    e.update(env or {})
    argv = [str(BIN / argv[0]) if "/" not in argv[0] and (BIN / argv[0]).exists() else argv[0]] + list(argv[1:])

    def child():
        lim = resource.RLIM_INFINITY if core else 0
        resource.setrlimit(resource.RLIMIT_CORE, (lim, lim))
        if preexec:
            preexec()

    err_f = open(stderr_path, "w+") if stderr_path else None
    t0 = time.monotonic()
    p = subprocess.Popen(argv, cwd=work, env=e, stdin=stdin, stdout=subprocess.DEVNULL,
                         stderr=err_f or subprocess.PIPE, text=True, preexec_fn=child)
    try:
        _, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        rc = None
    elapsed = time.monotonic() - t0
    if err_f:
        err_f.seek(0)
        err = err_f.read()
        err_f.close()
    files = sorted(dumps.iterdir()) if dumps.is_dir() else []
    cores = sorted(work.glob("core*"))
    return Outcome(rc, err or "", files, cores, elapsed, work, dumps)


def both(argv, **kw):
    """(without, with): the same scenario run without lastgasp, then with it."""
    return run(argv, lastgasp=False, **kw), run(argv, lastgasp=True, **kw)


def cores_observable():
    p = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    return bool(p) and not p.startswith("|") and "/" not in p


def normalized(text):
    """stderr with what differs between any two runs made alike: addresses, pids and tids, times."""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x?", text)
    return re.sub(r"\d{3,}", "N", text)


def same_death(without, with_lg, *, stderr=True):
    """The promise for every scenario: same death, same core presence, and (stderr=True) the same stderr apart
    from lastgasp's own lines, once normalized."""
    assert with_lg.death != ("timeout", None), f"hung with lastgasp:\n{with_lg.stderr[-3000:]}"
    assert with_lg.death == without.death, f"death changed: {without.death} -> {with_lg.death}\n{with_lg.stderr[-3000:]}"
    if cores_observable():
        assert bool(with_lg.cores) == bool(without.cores), "core file presence changed"
    if stderr:
        assert normalized(with_lg.stderr_without_ours()) == normalized(without.stderr_without_ours()), \
            f"stderr changed:\n--- without\n{without.stderr[-2000:]}\n--- with\n{with_lg.stderr[-2000:]}"


def cleanup(*outcomes):
    for o in outcomes:
        shutil.rmtree(o.workdir, ignore_errors=True)


def lastgasp_json(dump):
    """`lastgasp json DUMP` as a dict."""
    import json
    p = subprocess.run([str(CLI), "json", str(dump)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)
