"""The glibc floor: build/liblastgasp.so, built here against glibc 2.36, needs no symbol version above GLIBC_2.17
(tests/check_glibc_floor.sh), and loads and works on an older glibc: Debian 11's (2.31, before dlsym and the
pthread key functions moved into libc proper in 2.34; the oldest release the Debian registry still serves), in
a tree made by tests/tools/deps.sh with debootstrap. There the C crasher, built with that tree's own gcc, runs
preloaded (the tripwire too) and without lastgasp: the same death and core presence, one dump that the
`lastgasp json` built here reads with the announced signal, thread and crashing function.

Not done on the old glibc: the Go cases (a cgo program built here needs glibc 2.34; the Go toolchain is not in the
tree) and older releases than 2.31 (buster's and older trees are no longer served).
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from pylib import readers as R

TREE = R.TOOLS / "bullseye"
SCENARIOS = {"null_write": signal.SIGSEGV, "thread_null": signal.SIGSEGV, "abort": signal.SIGABRT,
             "divzero": signal.SIGFPE}


def test_symbol_versions_keep_to_the_floor():
    p = subprocess.run(["bash", "tests/check_glibc_floor.sh"], cwd=R.ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "needs at most GLIBC_2.16 (floor 2.17)" in p.stdout, p.stdout


def in_tree(cmd, timeout=120):
    """Run a shell command chrooted into the old tree, with /proc mounted in a mount namespace of its own."""
    return subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t proc proc '{TREE}/proc' && "
                           f"exec chroot '{TREE}' /bin/sh -c \"$0\"", cmd],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def old_glibc():
    """A folder inside the tree with the library built here, and the crasher and tripwire built there."""
    assert (TREE / ".lastgasp-ready").exists(), f"no Debian 11 tree in {TREE}: run bash tests/tools/deps.sh test"
    work = Path(tempfile.mkdtemp(prefix="lg-floor-", dir=TREE / "tmp"))
    inside = "/" + str(work.relative_to(TREE))
    shutil.copy2(R.LIB, work / "liblastgasp.so")
    shutil.copy2(R.ROOT / "tests/crash/crasher.c", work)
    shutil.copy2(R.ROOT / "tests/crash/tripwire.c", work)
    p = in_tree(f"cd {inside} && ldd --version | head -1 && "
                "gcc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -o crasher crasher.c -lpthread -ldl && "
                "gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -shared -fPIC -o tripwire.so tripwire.c -ldl",
                timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.split()[-1] == "2.31", p.stdout
    try:
        yield work, inside
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_old(old_glibc, scenario, lastgasp):
    work, inside = old_glibc
    run = Path(tempfile.mkdtemp(prefix="run-", dir=work))
    (run / "dumps").mkdir()
    rin = f"{inside}/{run.name}"
    env = (f"CRASHER_TRIPWIRE=1 LASTGASP_DIR={rin}/dumps LD_PRELOAD='{inside}/tripwire.so {inside}/liblastgasp.so' "
           if lastgasp else "")
    p = in_tree(f"cd {rin} && ulimit -c unlimited; {env}{inside}/crasher {scenario}; echo status=$? >&2")
    status = int(re.findall(r"status=(\d+)", p.stderr)[-1])
    return {"status": status, "stderr": p.stderr, "dumps": sorted((run / "dumps").glob("*.dmp")),
            "cores": sorted(run.glob("core*")), "dir": rin}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_crash_on_glibc_2_31(old_glibc, scenario):
    sig = SCENARIOS[scenario]
    without, with_lg = run_old(old_glibc, scenario, False), run_old(old_glibc, scenario, True)
    assert without["status"] == 128 + sig, without["stderr"]
    assert with_lg["status"] == without["status"], with_lg["stderr"]
    assert "TRIPWIRE" not in with_lg["stderr"] and "version `GLIBC" not in with_lg["stderr"], with_lg["stderr"]
    if R.cores_observable():
        assert bool(with_lg["cores"]) == bool(without["cores"])
    assert len(with_lg["dumps"]) == 1, with_lg["stderr"]
    assert f"lastgasp: {sig.name}" in with_lg["stderr"], with_lg["stderr"]
    m = re.search(r"crasher: tid=(\d+) expect=(\w+)", with_lg["stderr"])
    v = R.read_lastgasp(with_lg["dumps"][0], debuginfo=False)
    assert v["signal"] == sig.name and v["crashing_tid"] == int(m.group(1)), v
    assert R.first_in_module(v, "crasher") == m.group(2), v["frames"]
    libc = [mod["path"] for mod in v["json"]["modules"] if "libc" in os.path.basename(mod["path"])]
    assert any("libc-2.31.so" in p or p.endswith("libc.so.6") for p in libc), libc
