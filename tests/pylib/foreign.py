"""foreign.py — a dump written by another writer: Breakpad's own Linux client, linked into tests/crash/foreign.c
(built from the sources the npm minidump package carries, tests/bench/breakpad_client.sh), which crashes in
foreign_inner <- foreign_middle <- foreign_outer <- main. Read by test_foreign.py (the tool's walk against
Breakpad's) and test_arm64_tool.py (the arm64 tool against the amd64 one)."""
import signal
import subprocess

from pylib import readers as R

PROG = R.TESTS / "foreign_breakpad"
BREAKPAD_OUT = R.BUILD / "bench/breakpad"


def breakpad_dump(d):
    """Build the program (and Breakpad's client, once), crash it in directory d: the path of its one dump."""
    subprocess.run(["bash", str(R.ROOT / "tests/bench/breakpad_client.sh")], check=True, cwd=R.ROOT,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-o", str(PROG),
                    str(R.ROOT / "tests/crash/foreign.c"), str(BREAKPAD_OUT / "breakpad_on.o"),
                    str(BREAKPAD_OUT / "libbreakpad_client.a"), "-lstdc++", "-lpthread"], check=True)
    p = subprocess.run([str(PROG), str(d)], cwd=d, capture_output=True, text=True, timeout=60)
    assert p.returncode == -signal.SIGSEGV, f"foreign: {p.returncode} {p.stderr}"
    dumps = sorted(d.glob("*.dmp"))
    assert len(dumps) == 1, f"Breakpad wrote {dumps}"
    return dumps[0]
