"""Crash-to-exit time and dump size: without lastgasp, with it, and with Breakpad's client, measured in
the same run.

Crash-to-exit = the parent's CLOCK_MONOTONIC when waitpid returns minus the child's, written just before
its fault (tests/bench/crashbench.c); core dumps off. Absolute times on a shared machine drift, so every
variant of a case runs interleaved with the others (without, lastgasp, Breakpad, without, ...) and we
report medians, the time each adds to the median without (added ms) and the ratio to it.

Two tables:
- lastgasp alone on a spread of thread counts and heap sizes (RUNS runs each, BENCH_RUNS, default 7);
- side by side with Breakpad's client (ExceptionHandler writing in-process, built from the Breakpad
  sources the npm `minidump` package ships, by tests/bench/breakpad_client.sh): 1, 64 and 256 parked
  threads with a 64 MiB heap, BENCH_SIDE_RUNS (default 9) rounds of the three variants back to back.
  Added ms is the median over the rounds of (variant - without) within a round, so a slow stretch of
  the machine weighs on both sides of each difference; spread is the lowest and highest of those
  differences; ratio is the variant's median over the median without. "vs Breakpad" is lastgasp's
  added time over Breakpad's.
BENCH_FIFO=1 runs every crash program under SCHED_FIFO (priority 10), all variants alike: on a machine
others share, their load then delays the measured process less (the spread shrinks); the figures say so.
A benchmark reports; it never fails on time (only on a wrong death or a missing dump).
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROG = ROOT / "build/tests/crashbench"
PROG_BREAKPAD = ROOT / "build/tests/crashbench_breakpad"
LIB = ROOT / "build/liblastgasp.so"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SIDE_RUNS = int(os.environ.get("BENCH_SIDE_RUNS", "9"))
CASES = [(1, 0), (64, 0), (500, 0), (1, 512), (64, 512)]
SIDE_CASES = [(1, 64), (64, 64), (256, 64)]
FIFO = os.environ.get("BENCH_FIFO") == "1"


def child_setup():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if FIFO:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))


def once(threads, heap, variant, dumps):
    """Crash-to-exit in ms of one run; variant is "without", "lastgasp" or "breakpad"."""
    r, w = os.pipe()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LASTGASP_", "LD_PRELOAD", "CRASHBENCH_"))}
    prog = PROG
    if variant == "lastgasp":
        env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(dumps), LASTGASP_QUIET="1")
    elif variant == "breakpad":
        prog = PROG_BREAKPAD
        env.update(CRASHBENCH_BREAKPAD_DIR=str(dumps))
    p = subprocess.Popen([str(prog), str(threads), str(heap), str(w)], env=env, pass_fds=(w,),
                         preexec_fn=child_setup, stderr=subprocess.DEVNULL)
    os.close(w)
    t0 = int.from_bytes(os.read(r, 8), "little")
    p.wait()
    t1 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    os.close(r)
    assert p.returncode == -11, (variant, p.returncode)
    return (t1 - t0) / 1e6


def one_dump(d):
    dumps = list(Path(d).glob("*.dmp"))
    assert len(dumps) == 1, dumps
    return dumps[0].stat().st_size


def lastgasp_table():
    print(f"crash-to-exit, median of {RUNS} runs each, core dumps off ({os.cpu_count()} CPUs"
          f"{', SCHED_FIFO' if FIFO else ''})")
    print(f"{'threads':>7} {'heap':>8} {'without ms':>11} {'with ms':>8} {'added ms':>9} {'ratio':>6} {'dump KiB':>9}")
    for threads, heap in CASES:
        base, lg, sizes = [], [], []
        for _ in range(RUNS):
            with tempfile.TemporaryDirectory() as d:
                base.append(once(threads, heap, "without", d))
                lg.append(once(threads, heap, "lastgasp", d))
                sizes.append(one_dump(d))
        b, w = statistics.median(base), statistics.median(lg)
        print(f"{threads:>7} {heap:>5} MiB {b:>11.2f} {w:>8.2f} {w - b:>9.2f} {w / b:>6.2f} "
              f"{statistics.median(sizes) / 1024:>9.1f}")
        sys.stdout.flush()


def side_by_side_table():
    print()
    print(f"side by side with Breakpad's client (in-process ExceptionHandler), parked threads, median of "
          f"{SIDE_RUNS} runs each, interleaved, core dumps off ({os.cpu_count()} CPUs"
          f"{', SCHED_FIFO' if FIFO else ''})")
    print(f"{'threads':>7} {'heap':>8} {'without ms':>11} | {'lastgasp +ms':>12} {'spread':>13} {'ratio':>6} "
          f"{'KiB':>6} | {'Breakpad +ms':>12} {'spread':>13} {'ratio':>6} {'KiB':>6} | {'vs Breakpad':>11}")
    for threads, heap in SIDE_CASES:
        t = {"without": [], "lastgasp": [], "breakpad": []}
        sizes = {"lastgasp": [], "breakpad": []}
        for _ in range(SIDE_RUNS):
            for variant in t:
                with tempfile.TemporaryDirectory() as d:
                    t[variant].append(once(threads, heap, variant, d))
                    if variant in sizes:
                        sizes[variant].append(one_dump(d))
        b = statistics.median(t["without"])
        cols = []
        added = {}
        for variant in ("lastgasp", "breakpad"):
            m = statistics.median(t[variant])
            diffs = [v - w for v, w in zip(t[variant], t["without"])]
            added[variant] = statistics.median(diffs)
            spread = f"{min(diffs):.1f}..{max(diffs):.1f}"
            cols.append(f"{added[variant]:>12.2f} {spread:>13} {m / b:>6.2f} "
                        f"{statistics.median(sizes[variant]) / 1024:>6.0f}")
        vs = added["lastgasp"] / added["breakpad"] if added["breakpad"] > 0 else float("nan")
        print(f"{threads:>7} {heap:>5} MiB {b:>11.2f} | {cols[0]} | {cols[1]} | {vs:>11.2f}")
        sys.stdout.flush()


def main():
    which = sys.argv[1:] or ["lastgasp", "side"]
    if "lastgasp" in which:
        lastgasp_table()
    if "side" in which:
        side_by_side_table()


if __name__ == "__main__":
    main()
