"""linux/arm64: the library cross-built with `make ARCH=arm64` (build/arm64/), loaded into the C crasher built for
arm64, each scenario run under qemu-user on this machine without and with lastgasp
(`qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_PRELOAD=...`; Debian's qemu-user 7.2):

  - the same death (signal or exit status) and the same core presence (qemu writes the guest's core itself, as
    qemu_<program>_<time>_<pid>.core), no malloc or lock after the crash (the arm64 tripwire);
  - one dump that Breakpad's minidump_stackwalk, rust-minidump, LLDB and the amd64 `lastgasp json` all accept,
    with the announced signal, address and crashing thread, and the announced function as the first crasher
    frame; `lastgasp json` also gives the arm64 registers, the pc among them.

What qemu-user cannot do, or arm64 does not do, is asserted as a limit below (LIMITS), never skipped: each of
those scenarios must still end exactly as it says, with lastgasp as without.
"""
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from pylib import arm64 as A
from pylib import readers as R
from pylib import scenarios as S

ARM = A.BUILD
AT = A.TESTS
ALIB = A.LIB
SYSROOT = str(A.CROSS_SYSROOT)
QEMU = A.QEMU

# scenario: (death without and with lastgasp, why). Each is asserted, with lastgasp as without, and no dump.
LIMITS = {
    # arm64's sdiv/udiv give 0 for a zero divisor and never trap (Arm ARM, "SDIV"): the architecture's behaviour,
    # not qemu's. The crasher returns from the division and main exits 99.
    "divzero": (("exit", 99), "integer division by zero does not trap on arm64: no SIGFPE to report"),
    # qemu-user 7.2 refuses prctl(PR_SET_SECCOMP) (a guest filter cannot be put on qemu's own system calls):
    # the crasher's seccomp setup fails and it exits 98, before any fault.
    "sigsys": (("exit", 98), "qemu-user installs no seccomp filter"),
    "memread_denied_at_install": (("exit", 98), "qemu-user installs no seccomp filter"),
    "memread_denied_at_crash": (("exit", 98), "qemu-user installs no seccomp filter"),
}
SCENARIOS = {k: v for k, v in S.SCENARIOS.items() if k not in LIMITS}


@pytest.fixture(scope="module", autouse=True)
def arm64_build():
    """The arm64 library and programs, and the amd64 tool that reads their dumps (make is a no-op when they are
    up to date)."""
    for args in (["ARCH=arm64", "all", "arm64-test-bins"], ["all"]):
        p = subprocess.run(["make", "-s", *args], cwd=R.ROOT, capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, p.stdout + p.stderr


def run(scenario, lastgasp=True, binary="crasher", tripwire=True):
    return R.run_crasher(scenario, lastgasp=lastgasp, binary=binary, tripwire=tripwire, tests=AT, lib=ALIB,
                         wrap=A.wrap, timeout=120)


def qemu_cores(r):
    return sorted(Path(r.workdir).glob("qemu_*.core"))


def check_same_death(without, with_lg):
    assert with_lg.death == without.death, f"death changed: {without.death} -> {with_lg.death}\n{with_lg.stderr}"
    assert bool(qemu_cores(with_lg)) == bool(qemu_cores(without)), "core file presence changed"
    assert "TRIPWIRE:" not in with_lg.stderr, with_lg.stderr


def check_arm64_readers(dump, binary, sig, announced, check_addr):
    """The four readers agree with what the crasher announced (the arm64 binary for LLDB)."""
    return R.check_readers(dump, binary, sig, announced, check_addr, AT)


def test_arm64_artifacts_are_arm64():
    """What make ARCH=arm64 builds is aarch64 code: the library, the archive's objects and the test programs."""
    for path in (ALIB, AT / "crasher", AT / "crasher_linked", AT / "tripwire.so", AT / "unit/sigsafe/test_jmp"):
        out = subprocess.run(["readelf", "-h", str(path)], capture_output=True, text=True, check=True).stdout
        assert "AArch64" in out, (path, out)
    members = subprocess.run(["ar", "t", str(ARM / "liblastgasp.a")], capture_output=True, text=True,
                             check=True).stdout.split()
    assert "context.o" in members and "jmp.o" in members, members


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_arm64_scenario(scenario):
    binary, sig, check_addr, extra = SCENARIOS[scenario]
    without = run(scenario, lastgasp=False, binary=binary)
    with_lg = run(scenario, binary=binary, tripwire=extra.get("tripwire", True))
    try:
        check_same_death(without, with_lg)
        assert with_lg.death == ("signal", sig), with_lg.stderr
        assert len(with_lg.dumps) == 1, f"{len(with_lg.dumps)} dumps; stderr:\n{with_lg.stderr}"
        ann = with_lg.announced()
        assert ann, with_lg.stderr
        assert f"lastgasp: {sig.name}" in with_lg.stderr and str(with_lg.dumps[0]) in with_lg.stderr
        views = check_arm64_readers(with_lg.dumps[0], binary, sig, ann, check_addr)
        j = views["lastgasp"]["json"]
        crashed = next(t for t in j["threads"] if t["crashed"])
        # The registers are arm64's, and the first frame is the context's pc.
        assert crashed["registers"] and int(crashed["registers"]["pc"], 16) == int(crashed["frames"][0]["pc"], 16)
        assert set(crashed["registers"]) >= {"pc", "sp", "fp", "lr", "x0", "x28", "cpsr"}
        assert "rip" not in crashed["registers"]
        if scenario == "user_handler":
            assert "user handler ran" in with_lg.stderr and "user handler ran" in without.stderr
        if scenario == "malloc_lock":
            assert "malloc lock held=1" in with_lg.stderr, "the scenario did not manage to hold the malloc lock"
        if scenario == "threads500":
            assert views["rust-minidump"]["thread_count"] >= 501
            assert len(j["threads"]) >= 501
            # Every thread the program made answered the capture signal with its registers; what did not is
            # qemu's own thread (its RCU thread, a host thread in /proc/self/task), at most one.
            assert sum(t["status"] != "ok" for t in j["threads"]) <= 1, [t["status"] for t in j["threads"]]
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


@pytest.mark.parametrize("scenario", sorted(LIMITS))
def test_arm64_limit(scenario):
    """A scenario that qemu-user cannot reproduce, or arm64 does not have, ends as LIMITS says, with lastgasp as
    without, and leaves no dump: a change there (a qemu with seccomp, say) fails here and must be looked at."""
    binary, _, _, extra = S.SCENARIOS[scenario]
    death, why = LIMITS[scenario]
    without = run(scenario, lastgasp=False, binary=binary)
    with_lg = run(scenario, binary=binary, tripwire=extra.get("tripwire", True))
    try:
        assert without.death == death, f"{scenario}: {why}; but it died {without.death}\n{without.stderr}"
        check_same_death(without, with_lg)
        assert not with_lg.dumps, with_lg.stderr
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


def test_arm64_dump_under_qemu_says_what_qemu_took():
    """What qemu-user changes in an arm64 dump, asserted so that it is known: the thread names are qemu's own
    (PR_GET_NAME reads the host thread's comm), there is no helper task (qemu refuses the clone that shares memory
    without being a thread: the report runs on the crashing thread, and the dump's notes say so), and
    process_vm_readv is missing (the reads go through /proc/self/mem)."""
    r = run("thread_null")
    try:
        assert r.death == ("signal", signal.SIGSEGV) and len(r.dumps) == 1, r.stderr
        j = R.read_lastgasp(r.dumps[0])["json"]
        assert j["system"]["arch"] == "arm64", j["system"]
        assert {t["name"] for t in j["threads"]} == {"qemu-aarch64"}, [t["name"] for t in j["threads"]]
        notes = j["notes"] or ""
        assert "no helper task for the report (clone failed)" in notes, notes
        assert "no watchdog timer" not in notes, notes  # a sendable real-time signal was found
    finally:
        R.cleanup(r)


# One sigsafe test per sigsafe source (tests/unit/sigsafe/, found by folder as make finds them), and the walk.
SIGSAFE_UNITS = sorted("sigsafe/" + p.stem for p in (R.ROOT / "tests/unit/sigsafe").glob("test_*.c"))


@pytest.mark.parametrize("test", SIGSAFE_UNITS + ["test_unwind"])
def test_arm64_unit_under_qemu(test):
    """The unit tests of the architecture's code (sigsafe/aarch64/, the CFI walk with reporter/aarch64/), built for
    arm64 on the shipped handler objects and run under qemu; qemu's limits are asserted inside (LASTGASP_TEST_QEMU)."""
    p = subprocess.run([QEMU, "-L", SYSROOT, "-E", "LASTGASP_TEST_QEMU=1", str(AT / "unit" / test)],
                       capture_output=True, text=True, timeout=600, cwd=R.ROOT)
    assert p.returncode == 0 and " 0 failed" in p.stdout, p.stdout[-3000:] + p.stderr[-2000:]


def test_arm64_handler_symbols():
    """tests/check_symbols.sh on the arm64 handler objects (aarch64-linux-gnu-nm), against the same allow-list."""
    p = subprocess.run(["bash", "tests/check_symbols.sh"], cwd=R.ROOT, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, ARCH="arm64"))
    assert p.returncode == 0 and "check_symbols: all checks passed" in p.stdout, p.stdout + p.stderr
    assert "build/arm64/obj/reporter/aarch64/context.o" in subprocess.run(
        ["bash", "-c", "printf 'p:\\n\\t@echo $(SAFE_OBJ)\\n' | make -s ARCH=arm64 -f Makefile -f - p"],
        cwd=R.ROOT, capture_output=True, text=True).stdout
    assert shutil.which("aarch64-linux-gnu-nm")
