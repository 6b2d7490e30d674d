"""`lastgasp collect` on 1,000 real dumps: median wall time of several runs, and the bundle's size
against the sum of the dumps' sizes.

The dumps are made here, by crashing the crasher 1,000 times with lastgasp preloaded (five scenarios in
turn: a null write, abort, a division by zero, a fault in a second thread, 33 threads crashing at once),
so each is a distinct real dump. Each run writes a new bundle (the whole path: read, parse, hash,
deflate, fsync, read back, rename); the page cache is warm, as it is for a collect that follows crashes.
Wall time depends on what else the machine runs; CPU time (user + system, from getrusage) less so:
both are printed.
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "build/lastgasp"
CRASHER = ROOT / "build/tests/crasher"
LIB = ROOT / "build/liblastgasp.so"
DUMPS = int(os.environ.get("BENCH_DUMPS", "1000"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SCENARIOS = ["null_write", "abort", "divzero", "thread_null", "threads32"]


def crash(i, dumps):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD"))}
    env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(dumps), LASTGASP_QUIET="1")
    subprocess.run([str(CRASHER), SCENARIOS[i % len(SCENARIOS)]], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed_collect(dumps, out, *extra):
    """(wall seconds, CPU seconds) of one collect."""
    c0, t0 = cpu_children(), time.monotonic()
    p = subprocess.run([str(CLI), "collect", str(dumps), "-o", str(out), *extra], capture_output=True, text=True)
    elapsed = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    return elapsed, cpu_children() - c0


def main():
    with tempfile.TemporaryDirectory() as tmp:
        dumps = Path(tmp) / "dumps"
        dumps.mkdir()
        with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            list(pool.map(lambda i: crash(i, dumps), range(DUMPS)))
        files = list(dumps.glob("*.dmp"))
        assert len(files) == DUMPS, f"{len(files)} dumps of {DUMPS}"
        total = sum(f.stat().st_size for f in files)
        times, cpus, size = [], [], 0
        for k in range(RUNS):
            out = Path(tmp) / f"b{k}.zip"
            wall, cpu = timed_collect(dumps, out)
            times.append(wall)
            cpus.append(cpu)
            size = out.stat().st_size
            out.unlink()
        bin_out = Path(tmp) / "bin.zip"
        bin_wall, bin_cpu = timed_collect(dumps, bin_out, "--with-binaries")
        med, med_cpu = statistics.median(times), statistics.median(cpus)
        print(f"collect: {DUMPS} dumps, {total / 2**20:.1f} MiB ({total / DUMPS / 1024:.1f} KiB each on average), "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        print(f"  median of {RUNS} runs: {med * 1000:.0f} ms wall ({med / DUMPS * 1e6:.0f} us a dump; "
              f"min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}), {med_cpu * 1000:.0f} ms CPU")
        print(f"  bundle: {size / 2**20:.2f} MiB = {100 * size / total:.1f}% of the dumps' {total / 2**20:.1f} MiB")
        print(f"  --with-binaries (one run): {bin_wall * 1000:.0f} ms wall, {bin_cpu * 1000:.0f} ms CPU, "
              f"bundle {bin_out.stat().st_size / 2**20:.2f} MiB")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
