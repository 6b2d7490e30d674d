"""Capture cost (issue 9, "Capture cost"): a report's work per thread, counted, not timed.

A slow report is a slow restart, and what made it slow was work repeated for every thread: a procfs file
opened per thread for its name, a syscall for every saved register read during the walk, a symbol table
rescanned for every frame, the watchdog re-armed twice per thread. Time on a shared machine is noise
(make bench reports it, side by side with Breakpad's client); the number of system calls a report makes is
not. So the test traces the crash of a process with few and with many parked threads (strace -f), counts the
system calls of every thread after the fault arrives, and bounds what each additional thread costs.

Each scenario also runs plainly without and with lastgasp: same death, one dump, every thread in it
under the name it gave itself (the threads now read their own names when they answer the capture).
"""
import collections
import json
import re
import shutil
import subprocess

import pytest

from pylib.harness import BIN, CLI, both, cleanup, run, same_death

FEW, MANY = 4, 68
# System calls the report may make for each additional parked thread, both sides counted: the reporter, and
# the thread answering the capture signal. About 19 after this work: tgkill; the thread's gettid,
# arch_prctl, prctl (its name), process_vm_readv (its FPU state), futex wait with its clock reads,
# rt_sigreturn and its return to pause; the reporter's guarded walk (signal mask and watchdog timer, twice
# each, with their clock reads), one read of the stack for the walk and two for its copy in the dump.
# Before, about 44: a procfs open, read and close for the name, twelve process_vm_readv for the walk,
# two guarded runs, a futex wake of the reporter per answer.
PER_THREAD_MAX = 25


def syscalls_after_fault(n):
    """{syscall: count} made by `capture_cost parked n` and its threads after its SIGSEGV arrives."""
    o = run(["strace", "-f", "-qq", "-o", "trace.txt", str(BIN / "capture_cost"), "parked", str(n)],
            core=False, timeout=60)
    try:
        lines = (o.workdir / "trace.txt").read_text().splitlines()
        assert len(o.dumps) == 1, f"{n} threads under strace: {o.files}\n{o.stderr[-2000:]}"
    finally:
        cleanup(o)
    fault = next(i for i, l in enumerate(lines) if "--- SIGSEGV" in l)
    calls = collections.Counter()
    for line in lines[fault + 1:]:
        m = re.match(r"^\d+\s+([a-z_0-9]+)\(", line)  # "<... resumed>" lines are the same call's end
        if m:
            calls[m.group(1)] += 1
    return calls


def test_syscalls_per_thread_bounded():
    assert shutil.which("strace"), "strace missing: bash tests/tools/deps.sh test installs it"
    few, many = syscalls_after_fault(FEW), syscalls_after_fault(MANY)
    per_thread = (sum(many.values()) - sum(few.values())) / (MANY - FEW)
    by_call = {k: round((many[k] - few[k]) / (MANY - FEW), 2) for k in many if many[k] != few[k]}
    assert per_thread <= PER_THREAD_MAX, \
        f"the report makes {per_thread:.1f} syscalls per parked thread (at most {PER_THREAD_MAX}): {by_call}"


@pytest.mark.parametrize("n", [1, 64])
def test_parked_threads_same_death_every_name(n):
    without, with_lg = both(["capture_cost", "parked", str(n)])
    try:
        same_death(without, with_lg)
        assert len(with_lg.dumps) == 1, with_lg.files
        p = subprocess.run([str(CLI), "json", str(with_lg.dumps[0])], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        threads = json.loads(p.stdout)["threads"]
        names = sorted(t.get("name") or "" for t in threads if not t["crashed"])
        assert names == sorted(f"parked-{k}" for k in range(n)), names
        assert all(t["frames"] for t in threads), "a thread without frames"
    finally:
        cleanup(without, with_lg)
