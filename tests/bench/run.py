"""Crash-to-exit time and dump size, with and without lastgasp, measured in the same run.

For each case (threads, heap MiB) the crash program runs RUNS times without lastgasp and RUNS times
with it, interleaved, core dumps off. Crash-to-exit = the parent's CLOCK_MONOTONIC when waitpid
returns minus the child's, written just before its fault. We report medians, the added time
(median with - median without) and the ratio; absolute times on shared machines drift, the
difference within one run is what matters.
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
LIB = ROOT / "build/liblastgasp.so"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
CASES = [(1, 0), (64, 0), (500, 0), (1, 512), (64, 512)]


def once(threads, heap, lastgasp, dumps):
    r, w = os.pipe()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD"))}
    if lastgasp:
        env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(dumps), LASTGASP_QUIET="1")
    p = subprocess.Popen([str(PROG), str(threads), str(heap), str(w)], env=env, pass_fds=(w,),
                         preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)),
                         stderr=subprocess.DEVNULL)
    os.close(w)
    t0 = int.from_bytes(os.read(r, 8), "little")
    p.wait()
    t1 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    os.close(r)
    assert p.returncode == -11, p.returncode
    return (t1 - t0) / 1e6


def main():
    print(f"crash-to-exit, median of {RUNS} runs each, core dumps off ({os.cpu_count()} CPUs)")
    print(f"{'threads':>7} {'heap':>8} {'without ms':>11} {'with ms':>8} {'added ms':>9} {'ratio':>6} {'dump KiB':>9}")
    for threads, heap in CASES:
        base, lg, sizes = [], [], []
        for _ in range(RUNS):
            with tempfile.TemporaryDirectory() as d:
                base.append(once(threads, heap, False, d))
                lg.append(once(threads, heap, True, d))
                dumps = list(Path(d).glob("*.dmp"))
                assert len(dumps) == 1, dumps
                sizes.append(dumps[0].stat().st_size)
        b, w = statistics.median(base), statistics.median(lg)
        print(f"{threads:>7} {heap:>5} MiB {b:>11.2f} {w:>8.2f} {w - b:>9.2f} {w / b:>6.2f} "
              f"{statistics.median(sizes) / 1024:>9.1f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
