"""Go crash cost: a program with N parked goroutines and a live heap, crashed by a nil dereference.

In one run, for each case, median of RUNS runs of each mode, interleaved, core dumps off:
  default    no lastgasp, Go's default traceback level (single): exit 2, the baseline
  preload    lastgasp preloaded (default level: it adds only the crash bit), exit 2
  goshim     the program built with lastgasp's Go package (-tags goshim), exit 2
  crash      GOTRACEBACK=crash alone, no lastgasp (what lastgasp used to set): SIGABRT
Crash-to-exit is measured as in run.py. Output: stderr bytes, plus the dump's bytes with lastgasp.
BENCH_FIFO=1 runs the crash programs under SCHED_FIFO, as run.py does (for a shared machine).
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
PROG_GOSHIM = ROOT / "build/tests/gocrash_goshim"
FIFO = os.environ.get("BENCH_FIFO") == "1"
MODES = ("default", "preload", "goshim", "crash")
LIB = ROOT / "build/liblastgasp.so"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
CASES = [(0, 0), (10000, 512)]


def child_setup():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if FIFO:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))


def once(n, heap, mode, work):
    r, w = os.pipe()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    if mode == "crash":
        env["GOTRACEBACK"] = "crash"
    if mode == "preload":
        env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(work), LASTGASP_QUIET="1")
    if mode == "goshim":
        env.update(LASTGASP_DIR=str(work), LASTGASP_QUIET="1")
    err = open(work / "stderr", "wb")
    p = subprocess.Popen([str(PROG_GOSHIM if mode == "goshim" else PROG), str(n), str(heap), str(w)], env=env,
                         pass_fds=(w,), cwd=work, stderr=err, stdout=subprocess.DEVNULL,
                         preexec_fn=lambda: child_setup())
    os.close(w)
    t0 = int.from_bytes(os.read(r, 8), "little")
    p.wait()
    t1 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    os.close(r)
    err.close()
    assert p.returncode == (-6 if mode == "crash" else 2), (mode, p.returncode)
    dumps = list(work.glob("*.dmp"))
    assert len(dumps) == (1 if mode in ("preload", "goshim") else 0), (mode, dumps)
    return (t1 - t0) / 1e6, (work / "stderr").stat().st_size, sum(f.stat().st_size for f in dumps)


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
    print(f"Go crash-to-exit, median of {RUNS} runs each ({os.cpu_count()} CPUs), modes interleaved")
    print(f"{'goroutines':>10} {'heap':>8} {'mode':>8} {'ms':>9} {'added':>9} {'ratio':>6} {'stderr':>10} {'dump':>9}")
    for n, heap in CASES:
        res = {m: [] for m in MODES}
        for _ in range(RUNS):
            for mode in MODES:
                with tempfile.TemporaryDirectory() as d:
                    res[mode].append(once(n, heap, mode, Path(d)))
        base = statistics.median(t for t, _, _ in res["default"])
        for mode in MODES:
            t = statistics.median(x[0] for x in res[mode])
            err = statistics.median(x[1] for x in res[mode])
            dump = statistics.median(x[2] for x in res[mode])
            print(f"{n:>10} {heap:>5} MiB {mode:>8} {t:>9.1f} {t - base:>+9.1f} {t / base:>6.2f} "
                  f"{err / 1024:>8.1f}K {dump / 1024:>7.0f}K")


if __name__ == "__main__":
    main()
