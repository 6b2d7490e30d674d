"""The C crasher's scenarios (tests/crash/crasher.c) and how the crash matrix judges a death: shared by the
matrix (tests/crash/test_crash_matrix.py) and the suites that rerun its scenarios elsewhere (test_musl.py on
musl, tests/hardening/test_sanitizers.py under sanitizers)."""
import re
import signal

from pylib import readers as R

SEGV, ABRT, FPE, ILL, TRAP, SYS, BUS = (signal.SIGSEGV, signal.SIGABRT, signal.SIGFPE, signal.SIGILL,
                                        signal.SIGTRAP, signal.SIGSYS, signal.SIGBUS)

# scenario: (binary, signal, check the announced fault address?, extra)
SCENARIOS = {
    "null_write": ("crasher", SEGV, True, {}),
    "thread_null": ("crasher", SEGV, True, {}),
    "abort": ("crasher", ABRT, False, {}),
    # __assert_fail formats its message with malloc before abort(): no tripwire for this one.
    "assert": ("crasher", ABRT, False, {"tripwire": False}),
    "divzero": ("crasher", FPE, False, {}),
    "illegal": ("crasher", ILL, False, {}),
    "trap": ("crasher", TRAP, False, {}),
    "sigsys": ("crasher", SYS, False, {}),
    "sigbus": ("crasher", BUS, True, {}),
    "overflow_main": ("crasher", SEGV, False, {}),
    "overflow_thread": ("crasher", SEGV, False, {}),
    "malloc_lock": ("crasher", SEGV, True, {}),
    "smashed_frames": ("crasher", SEGV, True, {}),
    "user_handler": ("crasher_linked", SEGV, True, {}),
    "memread_denied_at_install": ("crasher_linked", SEGV, True, {"tripwire": False}),
    "memread_denied_at_crash": ("crasher", SEGV, True, {}),
    "threads500": ("crasher", SEGV, True, {}),
    "annotations": ("crasher", SEGV, True, {}),
}


def check_same_death(without, with_lg):
    assert with_lg.death == without.death, f"death changed: {without.death} -> {with_lg.death}\n{with_lg.stderr}"
    if R.cores_observable():
        assert bool(with_lg.cores) == bool(without.cores), "core file presence changed"
    assert "TRIPWIRE:" not in with_lg.stderr, with_lg.stderr


def same_stderr(without, with_lg):
    """stderr with lastgasp is stderr without it plus lastgasp's own lines: numbers (tids, addresses) aside, the
    crasher's (and qemu's or the shell's) lines are the same, in the same order. The one line that depends on
    lastgasp being there, the annotations scenario's verdict on the API (without lastgasp there is no API to
    answer), is left out."""
    def norm(text):
        return [re.sub(r"0x[0-9a-f]+|\d+", "N", l) for l in text.splitlines()
                if not l.startswith(("lastgasp: ", "crasher: annotation errors "))]
    assert norm(with_lg.stderr) == norm(without.stderr), (without.stderr, with_lg.stderr)
