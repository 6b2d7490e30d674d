"""Go crash cost: a program with N parked goroutines and a live heap, crashed by a nil dereference.

In one run, for each case, median of RUNS runs of each mode:
  traceback  GOTRACEBACK=crash alone, core dumps off (the runtime's text traceback is the output)
  core       GOTRACEBACK=crash with a kernel core dump (ulimit -c unlimited, core in the work dir)
  lastgasp   GOTRACEBACK=crash with lastgasp preloaded, core dumps off (output: the dump)
Crash-to-exit is measured as in run.py. Output size: stderr bytes, core file bytes, dump bytes.
"""
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROG = ROOT / "build/tests/gocrash"
LIB = ROOT / "build/liblastgasp.so"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
CASES = [(0, 0), (10000, 512)]


def once(n, heap, mode, work):
    r, w = os.pipe()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    env["GOTRACEBACK"] = "crash"
    if mode == "lastgasp":
        env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(work), LASTGASP_QUIET="1")
    core = resource.RLIM_INFINITY if mode == "core" else 0
    err = open(work / "stderr", "wb")
    p = subprocess.Popen([str(PROG), str(n), str(heap), str(w)], env=env, pass_fds=(w,), cwd=work, stderr=err,
                         stdout=subprocess.DEVNULL, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (core, core)))
    os.close(w)
    t0 = int.from_bytes(os.read(r, 8), "little")
    p.wait()
    t1 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    os.close(r)
    err.close()
    assert p.returncode < 0, p.returncode
    if mode == "lastgasp":
        size = sum(f.stat().st_size for f in work.glob("*.dmp"))
    elif mode == "core":
        size = sum(f.stat().st_size for f in work.glob("core*"))
    else:
        size = (work / "stderr").stat().st_size
    return (t1 - t0) / 1e6, size


def startup():
    """What loading lastgasp costs a Go program that starts and exits (install, Go inspection)."""
    def run(preload):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD"))}
        if preload:
            env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=tempfile.gettempdir())
        t = time.perf_counter_ns()
        subprocess.run([str(PROG), "-1"], env=env, check=True)
        return (time.perf_counter_ns() - t) / 1e6
    base, lg = [], []
    for _ in range(3 * RUNS):
        base.append(run(False))
        lg.append(run(True))
    b, w = statistics.median(base), statistics.median(lg)
    print(f"startup of a Go program, median of {3 * RUNS}: {b:.2f} ms without, {w:.2f} ms with lastgasp "
          f"(+{w - b:.2f} ms)")


def main():
    startup()
    print(f"Go crash-to-exit, median of {RUNS} runs each ({os.cpu_count()} CPUs); sizes are medians too")
    print(f"{'goroutines':>10} {'heap':>8} {'mode':>10} {'ms':>9} {'output':>12}")
    for n, heap in CASES:
        res = {m: ([], []) for m in ("traceback", "core", "lastgasp")}
        # traceback and lastgasp interleaved; core dumps after, with a sync after each: hundreds of
        # MiB of write-back would otherwise slow whatever runs next.
        for mode in ["traceback", "lastgasp"] * RUNS + ["core"] * RUNS:
            with tempfile.TemporaryDirectory() as d:
                ms, size = once(n, heap, mode, Path(d))
                res[mode][0].append(ms)
                res[mode][1].append(size)
            if mode == "core":
                os.sync()
        base = statistics.median(res["traceback"][0])
        for mode, (times, sizes) in res.items():
            t = statistics.median(times)
            extra = f" (+{t - base:.1f} ms)" if mode != "traceback" else ""
            print(f"{n:>10} {heap:>5} MiB {mode:>10} {t:>9.1f} {statistics.median(sizes) / 1024:>9.0f} KiB{extra}")


if __name__ == "__main__":
    main()
