"""Never hang, always end with the original death (issue 9): seccomp kills, a stalled or closed stderr, no
watchdog timer, a report that blocks in the kernel, and signals that are not lastgasp's own.

Each scenario (tests/hardening/hang.c) runs without and with lastgasp; `same_death` asserts the same death,
core presence and (where stderr is the harness's) the same stderr. The run's timeout is only a hang detector.
Every run with lastgasp adds its crash-to-exit time to ELAPSED; test_zz_crash_to_exit_bound reports the worst.
"""
import json
import subprocess

import pytest

from pylib import harness as H

SIGSEGV, SIGABRT, SIGSYS = 11, 6, 31
HANG = 12  # seconds: a hang detector, not a budget (the promise is 5 s)
ELAPSED = []


def both(argv, **kw):
    without, with_lg = H.both(argv, timeout=HANG, **kw)
    ELAPSED.append((with_lg.elapsed, " ".join(argv)))
    return without, with_lg


def notes(dump):
    out = subprocess.run([str(H.CLI), "json", str(dump)], capture_output=True, text=True, check=True).stdout
    return json.loads(out).get("notes") or ""


# Syscalls the report makes at crash time. With KILL_THREAD, lastgasp used to lose the reporting thread and
# leave the process alive (the idle second thread of `mt`, made before the filter, keeps it so); with KILL_PROCESS,
# to die of SIGSYS.
RUNTIME = ["openat", "uname", "process_vm_readv", "getdents64", "write", "timer_create", "readlinkat", "prlimit64",
           "sigaltstack", "sendto", "ppoll", "fstat"]


@pytest.mark.parametrize("action", ["kill-thread", "kill-process", "trap"])
@pytest.mark.parametrize("syscall", RUNTIME)
def test_seccomp_filter_at_run_time(action, syscall):
    without, with_lg = both(["hang", "mt", "filter", action, syscall, "crash"])
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == ("signal", SIGSEGV)
    finally:
        H.cleanup(without, with_lg)


# Installed before exec: lastgasp's install runs under it (LD_PRELOAD, before main). process_vm_readv and
# pipe2 are what install's memory-read probe used; faccessat2 is not in allow-lists older than 2020. (Not
# sigaltstack: lastgasp gives every new thread an alternate stack, so a filter that kills for it ends the program
# at its first pthread_create: a documented limit.)
BEFORE_EXEC = ["process_vm_readv", "pipe2", "faccessat2", "uname", "timer_create"]


@pytest.mark.parametrize("action", ["kill-thread", "kill-process"])
@pytest.mark.parametrize("syscall", BEFORE_EXEC)
def test_seccomp_filter_before_exec(action, syscall):
    without, with_lg = both(["hang", "exec", action, syscall, str(H.BIN / "hang"), "mt", "crash"])
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == ("signal", SIGSEGV)
    finally:
        H.cleanup(without, with_lg)


def test_seccomp_filter_before_exec_still_reports():
    """A filter that denies process_vm_readv with EPERM (Docker's old default) before exec: install defers
    the memory-read probe, and the crash still gets a full dump through a fallback read."""
    without, with_lg = both(["hang", "exec", "errno", "process_vm_readv", str(H.BIN / "hang"), "crash"])
    try:
        H.same_death(without, with_lg)
        assert len(with_lg.dumps) == 1, with_lg.stderr
    finally:
        H.cleanup(without, with_lg)


@pytest.mark.parametrize("scenario", ["stderr_full", "stderr_closed"])
def test_stderr_that_cannot_be_written(scenario):
    """stderr a full pipe nobody reads (a hung log shipper): no write may block. stderr a pipe without a
    reader: no SIGPIPE (exit 141). The dump is written either way."""
    without, with_lg = both(["hang", scenario])
    try:
        H.same_death(without, with_lg, stderr=False)
        assert with_lg.death == ("signal", SIGSEGV)
        assert len(with_lg.dumps) == 1
    finally:
        H.cleanup(without, with_lg)


def test_report_that_blocks_in_the_kernel():
    """A parked thread's stack has pages above its sp that never arrive (userfaultfd with nobody serving
    it): reading that stack blocks uninterruptibly, where no timer signal reaches. The report is given up
    and the process dies of its own signal."""
    without, with_lg = both(["hang", "stall"], core=False)  # a core dump would wait for those pages too
    try:
        H.same_death(without, with_lg)
        assert any("ran out of time" in l for l in with_lg.our_lines()), with_lg.stderr
    finally:
        H.cleanup(without, with_lg)


def test_no_watchdog_timer_and_a_stalled_report():
    """timer_create denied (seccomp ERRNO) and a report that blocks: the deadline does not rest on it."""
    without, with_lg = both(["hang", "filter", "errno", "timer_create", "stall"], core=False)
    try:
        H.same_death(without, with_lg)
    finally:
        H.cleanup(without, with_lg)


def test_no_watchdog_timer_is_noted_in_the_dump():
    without, with_lg = both(["hang", "filter", "errno", "timer_create", "crash"])
    try:
        H.same_death(without, with_lg)
        assert len(with_lg.dumps) == 1
        assert "no watchdog timer" in notes(with_lg.dumps[0])
    finally:
        H.cleanup(without, with_lg)


def test_application_timer_on_sigrtmax_minus_1():
    """The application's own 2 ms timer on SIGRTMAX-1 while the report waits 1 s for a deaf thread: it
    is not lastgasp's watchdog, the report is not cut short, and the application's handler still gets it."""
    without, with_lg = both(["hang", "app_rt_timer"])
    try:
        H.same_death(without, with_lg)
        assert not any("ran out of time" in l for l in with_lg.our_lines()), with_lg.stderr
        assert len(with_lg.dumps) == 1
    finally:
        H.cleanup(without, with_lg)


@pytest.mark.parametrize("sig", [SIGABRT, SIGSEGV])
def test_signal_sent_during_the_report(sig):
    """kill -ABRT / -SEGV sent to the crashing thread while its report runs is not a fault inside lastgasp:
    the report is not dropped. Documented limit: a signal that arrives while the dying process still lives
    may be what ends it, so the death is the original signal or the one sent."""
    without, with_lg = both(["hang", "kill_during_report", str(sig)])
    try:
        assert with_lg.death in (("signal", SIGSEGV), ("signal", sig)), with_lg.stderr
        assert without.death == ("signal", SIGSEGV)
        assert len(with_lg.dumps) == 1, with_lg.stderr
    finally:
        H.cleanup(without, with_lg)


# No helper task (clone denied or out of pids: seccomp ERRNO on clone here; glibc makes threads with clone3):
# the report runs on the crashing thread, and the same promises hold, except that nothing can cut short a
# report blocked uninterruptibly in the kernel (test_report_that_blocks_in_the_kernel's case): a documented
# limit, not run here because it hangs.
NO_HELPER = ["filter", "errno", "clone"]


def test_no_helper_and_no_timer_are_noted_in_the_dump():
    without, with_lg = both(["hang"] + NO_HELPER + ["filter", "errno", "timer_create", "crash"])
    try:
        H.same_death(without, with_lg)
        assert len(with_lg.dumps) == 1
        n = notes(with_lg.dumps[0])
        assert "no helper task" in n and "no watchdog timer" in n, n
    finally:
        H.cleanup(without, with_lg)


@pytest.mark.parametrize("scenario", [["stderr_full"], ["stderr_closed"], ["app_rt_timer"],
                                      ["kill_during_report", "6"], ["kill_during_report", "11"]])
def test_no_helper(scenario):
    without, with_lg = both(["hang"] + NO_HELPER + scenario)
    try:
        assert without.death == ("signal", SIGSEGV)
        assert with_lg.death in (("signal", SIGSEGV), ("signal", int(scenario[-1]) if len(scenario) > 1 else 0))
        if with_lg.death == without.death:
            H.same_death(without, with_lg, stderr=False)
        assert len(with_lg.dumps) == 1, with_lg.stderr
        assert not any("ran out of time" in l for l in with_lg.our_lines()), with_lg.stderr
    finally:
        H.cleanup(without, with_lg)


def test_zz_crash_to_exit_bound():
    """The worst crash-to-exit time (process start to exit, with lastgasp) across this file's scenarios,
    printed for the README. The promise is 5 s; the check allows 1 s more for a loaded machine, and still
    catches a wait that outlives the report (a second crasher's 6 s wait for a report that never says done)."""
    if not ELAPSED:
        pytest.skip("run with the rest of the file")
    worst = max(ELAPSED)
    print(f"\ncrash-to-exit worst {worst[0]:.2f} s ({worst[1]}) over {len(ELAPSED)} runs")
    assert worst[0] < 6.0, worst
