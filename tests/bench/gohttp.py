"""Steady-state cost of lastgasp in a Go HTTP service, and what loading it costs the service's start.

The service is tests/bench/gohttp (cgo, so LD_PRELOAD reaches it): GET /item?id=N, a map lookup and
a JSON encoding per request. The load generator is wrk on loopback (127.0.0.1 only), one thread,
CONNS connections, SECONDS per run after a 1 s warm-up run on the same service process.

Modes: "without" (no lastgasp), "lastgasp" (LD_PRELOAD, LASTGASP_DIR set) and "goshim" (the same
service built with -tags goshim, LASTGASP_DIR set). For each of ROUNDS
rounds each mode gets a fresh service process and one measured run, the two runs back to back, in
an order that alternates between rounds, so drift on this shared machine hits both modes alike.
Many short rounds rather than a few long ones: other work on the machine comes in bursts, and the
median of many paired ratios stands through a burst that spoils a few rounds.

Reported per mode: median requests/s, median p99 latency, median CPU time of the service per
request (its threads' run time over the measured run, divided by the requests wrk counted:
contention from other processes moves it less than it moves requests/s and latency) and median
resident memory after the load; then the ratio lastgasp/without of the medians, the per-round
(paired) ratios, and the spread of the baseline's own rounds (max/min): what noise looks like here.

Pinning: by default the service runs on CPU 1 (so GOMAXPROCS is 1) and wrk on CPU 0, set with
sched_setaffinity as taskset does: the two do not take each other's CPU, and the service's
parallelism is the same in every run. GOHTTP_PIN=0 leaves both to the scheduler.

Startup: STARTS fresh processes per mode, interleaved: wall time from spawn to the first response,
the CPU time the process has used by then, and its resident memory right after that response.
"""
import contextlib
import http.client
import os
import re
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROG = ROOT / "build/tests/gohttp"
PROG_GOSHIM = ROOT / "build/tests/gohttp_goshim"
LIB = ROOT / "build/liblastgasp.so"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
ROUNDS = 2 * RUNS + 1
SECONDS = int(os.environ.get("GOHTTP_SECONDS", "2"))
CONNS = int(os.environ.get("GOHTTP_CONNS", "32"))
STARTS = 3 * RUNS
PINNED = os.environ.get("GOHTTP_PIN", "1") != "0" and os.cpu_count() >= 2
SERVICE_CPU, LOAD_CPU = 1, 0
MODES = ("without", "lastgasp", "goshim")


def pin(cpu):
    """preexec_fn pinning the child to one CPU, or None when pinning is off."""
    if not PINNED:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


class Service:
    """The service in one mode; `with` ends it (stdin closed, then killed if it lingers)."""

    def __init__(self, mode, dumps):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOMAXPROCS"))}
        if mode == "lastgasp":
            env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(dumps), LASTGASP_QUIET="1")
        elif mode == "goshim":  # the same service built with -tags goshim: lastgasp's Go package inside
            env.update(LASTGASP_DIR=str(dumps), LASTGASP_QUIET="1")
        elif mode == "loaded":  # the library loads, its install stops at the missing LASTGASP_DIR
            env.update(LD_PRELOAD=str(LIB))
        self.p = subprocess.Popen([str(PROG_GOSHIM if mode == "goshim" else PROG)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL if mode == "loaded" else None,
                                  preexec_fn=pin(SERVICE_CPU))
        sel = selectors.DefaultSelector()
        sel.register(self.p.stdout, selectors.EVENT_READ)
        ready = sel.select(timeout=10)
        sel.close()
        line = self.p.stdout.readline().decode() if ready else ""
        m = re.match(r"listening (127\.0\.0\.1):(\d+) pid (\d+)", line)
        if not m:
            self.close()
            raise RuntimeError(f"gohttp did not start ({mode}): {line!r}")
        self.host, self.port = m.group(1), int(m.group(2))
        assert int(m.group(3)) == self.p.pid

    def memory(self):
        """Resident KiB: VmRSS, RssAnon and RssFile from /proc/PID/status."""
        status = Path(f"/proc/{self.p.pid}/status").read_text()
        return {k: int(re.search(rf"^{k}:\s+(\d+) kB", status, re.M).group(1)) for k in ("VmRSS", "RssAnon", "RssFile")}

    def cpu_s(self):
        """CPU seconds the process's threads have run so far: the sum of their schedstat run times
        (nanoseconds; /proc/PID/stat counts in 10 ms ticks, too coarse for a start-up)."""
        tasks = Path(f"/proc/{self.p.pid}/task")
        return sum(int((t / "schedstat").read_text().split()[0]) for t in tasks.iterdir()) / 1e9

    def close(self):
        self.p.stdin.close()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.p.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(svc, seconds):
    """One wrk run against the service: (requests/s, p99 ms, requests). Errors and non-2xx fail it."""
    url = f"http://{svc.host}:{svc.port}/item?id=42"
    cmd = ["wrk", "-t1", f"-c{CONNS}", f"-d{seconds}s", "--timeout", "2s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True,
                         preexec_fn=pin(LOAD_CPU)).stdout
    if "Socket errors" in out or "Non-2xx" in out:
        raise RuntimeError(f"wrk reported errors:\n{out}")
    rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M).group(1))
    v, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    n = int(re.search(r"^\s+(\d+) requests in", out, re.M).group(1))
    return rps, float(v) * UNIT_MS[unit], n


def first_response(mode, dumps):
    """Spawn to the first answered request: wall and CPU ms, and the memory right after it."""
    t0 = time.perf_counter_ns()
    with Service(mode, dumps) as svc:
        c = http.client.HTTPConnection(svc.host, svc.port, timeout=10)
        c.request("GET", "/item?id=1")
        r = c.getresponse()
        r.read()
        t1 = time.perf_counter_ns()
        c.close()
        assert r.status == 200, r.status
        return {"wall ms": (t1 - t0) / 1e6, "CPU ms": svc.cpu_s() * 1e3, **svc.memory()}


def startup(dumps):
    """Also a third mode, "loaded": LD_PRELOAD without LASTGASP_DIR, so what loading the library
    costs is told apart from what installing it (Go inspection included) costs."""
    modes = ("without", "loaded", "lastgasp", "goshim")
    res = {m: [] for m in modes}
    for _ in range(STARTS):
        for mode in modes:
            res[mode].append(first_response(mode, dumps))
    keys = list(res["without"][0])
    med = {m: {k: statistics.median(r[k] for r in res[m]) for k in keys} for m in modes}
    print(f"Go HTTP service, spawn to first response; median of {STARTS} fresh processes per mode, interleaved;")
    print("loaded = LD_PRELOAD without LASTGASP_DIR (install stops at once); lastgasp = LD_PRELOAD;")
    print("goshim = built with the Go package. +X = X - without; paired = median of that difference over")
    print("consecutive starts; noise = the baseline's middle half")
    print(f"{'':>8} {'without':>9} {'loaded':>9} {'lastgasp':>9} {'goshim':>9} {'+lastgasp':>9} {'paired':>9} "
          f"{'+goshim':>9} {'paired':>9} {'noise':>15}")
    for k in keys:
        b, l, w, g = (med[m][k] for m in modes)
        paired = {m: statistics.median(x[k] - base[k] for base, x in zip(res["without"], res[m]))
                  for m in ("lastgasp", "goshim")}
        base = sorted(r[k] for r in res["without"])
        fmt = ".2f" if k.endswith("ms") else ".0f"
        print(f"{k:>8} {b:>9{fmt}} {l:>9{fmt}} {w:>9{fmt}} {g:>9{fmt}} {w - b:>+9{fmt}} {paired['lastgasp']:>+9{fmt}} "
              f"{g - b:>+9{fmt}} {paired['goshim']:>+9{fmt}} "
              f"{base[len(base) // 4]:>7{fmt}}..{base[3 * len(base) // 4]:<7{fmt}}")
    print("(memory in KiB)")
    sys.stdout.flush()


def steady(dumps):
    """ROUNDS rounds of both modes; per round and mode: req/s, p99 ms, service CPU us per request."""
    rounds = []
    rss = {m: [] for m in MODES}
    for i in range(ROUNDS):
        order = MODES if i % 2 == 0 else MODES[::-1]
        r = {}
        # Both processes start together and idle while the other is measured: the two measured
        # runs of a round are back to back, so what else the machine does hits both alike.
        with contextlib.ExitStack() as stack:
            svcs = {mode: stack.enter_context(Service(mode, dumps)) for mode in order}
            for mode in order:
                wrk(svcs[mode], 1)  # warm-up: connections, heap and scheduler settle
            for mode in order:
                svc = svcs[mode]
                cpu0 = svc.cpu_s()
                rps, p99, n = wrk(svc, SECONDS)
                r[mode] = {"req/s": rps, "p99 ms": p99, "CPU us/req": (svc.cpu_s() - cpu0) * 1e6 / n}
                rss[mode].append(svc.memory()["VmRSS"])
        rounds.append(r)
    load = os.getloadavg()[0]
    where = f"service on CPU {SERVICE_CPU} (GOMAXPROCS 1), wrk on CPU {LOAD_CPU}" if PINNED else "not pinned"
    print(f"Go HTTP service under load: wrk -t1 -c{CONNS} -d{SECONDS}s on 127.0.0.1 after a 1 s warm-up, {where};")
    print(f"{ROUNDS} rounds, fresh processes each round, modes measured back to back in alternating order;")
    print(f"medians over rounds. Load average (1 min) at the end: {load:.1f} on {os.cpu_count()} CPUs, about 2 of it ours.")
    print("ratio = X/without of the medians, X = lastgasp (LD_PRELOAD) or goshim (the Go package);")
    print("paired = the per-round ratios, median [min..max]; noise = the baseline against itself: max/min")
    print(f"{'':>11} {'without':>9} {'mode':>9} {'value':>9} {'ratio':>6} {'paired':>21} {'noise':>6}")
    for k in ("req/s", "p99 ms", "CPU us/req"):
        base = [r["without"][k] for r in rounds]
        b = statistics.median(base)
        for m in ("lastgasp", "goshim"):
            per = [r[m][k] / r["without"][k] for r in rounds]
            w = statistics.median(r[m][k] for r in rounds)
            print(f"{k:>11} {b:>9.2f} {m:>9} {w:>9.2f} {w / b:>6.3f} {statistics.median(per):>6.3f} "
                  f"[{min(per):.3f}..{max(per):.3f}] {max(base) / min(base):>6.3f}")
    b = statistics.median(rss["without"])
    for m in ("lastgasp", "goshim"):
        w = statistics.median(rss[m])
        print(f"{'VmRSS KiB':>11} {b:>9.0f} {m:>9} {w:>9.0f}   (after the load; {w - b:+.0f} KiB)")
    sys.stdout.flush()


def main():
    with tempfile.TemporaryDirectory() as d:
        startup(d)
        steady(d)
        assert not list(Path(d).iterdir()), "a dump was written: the service crashed"


if __name__ == "__main__":
    main()
