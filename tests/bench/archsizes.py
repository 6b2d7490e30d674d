"""Dump sizes and system calls per crash, amd64 (native) beside arm64 (qemu-user), where times mean nothing.

For each architecture, the C crasher (tests/crash/crasher.c) preloaded with lastgasp:
  bytes per thread     (dump of `threads500` - dump of `null_write`) / (threads500's threads - null_write's),
                       thread counts read from the dumps themselves (`lastgasp json`)
  syscalls per crash   system calls the crash adds. amd64: the kernel's raw_syscalls:sys_enter count of the whole
                       process (perf stat, which also counts lastgasp's helper task: strace cannot follow it,
                       it is CLONE_UNTRACED), crash minus a run that installs lastgasp and exits at once, minus
                       the same difference without lastgasp. arm64: the guest's calls after the fault's
                       delivery (qemu-aarch64 -strace). qemu runs no helper task, has no process_vm_readv
                       (memory is read through /proc/self/mem, one pread each) and no vDSO clock (each
                       clock_gettime is a call): the arm64 count is qemu's, larger than a kernel's would be
And for Go on both, bytes per goroutine: (dump with 1000 parked goroutines - dump with none) / 1000 (gocrash).
Each figure is the median of RUNS runs (sizes vary with what the threads were doing when stopped).
"""
import json
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
TOOL = ROOT / "build/lastgasp"
ARCHES = {
    "amd64": (ROOT / "build/liblastgasp.so", ROOT / "build/tests/crasher", []),
    "arm64": (ROOT / "build/arm64/liblastgasp.so", ROOT / "build/arm64/tests/crasher",
              ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"]),
}


def perf_calls(argv, env, cwd):
    """The process's system calls (its tasks included) as the kernel counts them."""
    out = subprocess.run(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter"] + argv, env=env, cwd=cwd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300).stderr
    return int(next(l for l in out.splitlines() if "raw_syscalls" in l).split(",")[0])


def amd64_calls_per_crash():
    lib, prog, _ = ARCHES["amd64"]
    n = {}
    for lg in (True, False):
        for scenario in ("null_write", "no-such-scenario"):
            with tempfile.TemporaryDirectory() as d:
                env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD"))}
                if lg:
                    env.update(LD_PRELOAD=str(lib), LASTGASP_DIR=d, LASTGASP_QUIET="1")
                n[lg, scenario] = perf_calls([str(prog), scenario], env, d)
    return (n[True, "null_write"] - n[True, "no-such-scenario"]) - (n[False, "null_write"] - n[False, "no-such-scenario"])


def crash(arch, scenario, trace=False):
    """One preloaded crash: (dump bytes, threads in the dump, syscalls after the fault (arm64) or None)."""
    lib, prog, qemu = ARCHES[arch]
    with tempfile.TemporaryDirectory() as d:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD"))}
        log = Path(d) / "trace"
        trace = trace and bool(qemu)
        if qemu:
            argv = qemu + (["-strace"] if trace else []) + ["-E", f"LD_PRELOAD={lib}", "-E", f"LASTGASP_DIR={d}",
                                                             "-E", "LASTGASP_QUIET=1", str(prog), scenario]
        else:
            env.update(LD_PRELOAD=str(lib), LASTGASP_DIR=d, LASTGASP_QUIET="1")
            argv = [str(prog), scenario]
        with open(log if qemu and trace else os.devnull, "w") as err:
            subprocess.run(argv, env=env, cwd=d, stdout=subprocess.DEVNULL, stderr=err, timeout=300)
        dumps = list(Path(d).glob("*.dmp"))
        assert len(dumps) == 1, (arch, scenario, dumps)
        j = json.loads(subprocess.run([str(TOOL), "json", str(dumps[0])], capture_output=True, check=True).stdout)
        calls = count_after_fault(log.read_text(errors="replace")) if trace else None
        return dumps[0].stat().st_size, len(j["threads"]), calls


def count_after_fault(text):
    """System calls after the first fatal signal's delivery line, one per call (strace's 'resumed' halves and
    signal/exit lines are not calls)."""
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if re.search(r"--- SIG(SEGV|BUS|FPE|ILL|ABRT|TRAP|SYS) ", l))
    return sum(1 for l in lines[start + 1:] if "---" not in l and "+++" not in l and "resumed>" not in l
               and re.search(r"\b[a-z_0-9]+\(", l))


def go_per_goroutine(arch):
    """Bytes per parked goroutine: gocrash with 1000 goroutines minus with none, over 1000 (the arm64 build is
    cross-compiled here, as tests/go/test_arm64_go.py builds its programs)."""
    lib, _, qemu = ARCHES[arch]
    if arch == "amd64":
        prog = ROOT / "build/tests/gocrash"
    else:
        prog = ROOT / "build/arm64/tests/gocrash"
        env = dict(os.environ, CGO_ENABLED="1", GOARCH="arm64", CC="aarch64-linux-gnu-gcc")
        subprocess.run(["go", "build", "-o", str(prog), "."], cwd=ROOT / "tests/bench/gocrash", env=env, check=True)
    sizes = {}
    for n in (0, 1000):
        runs = []
        for _ in range(RUNS):
            with tempfile.TemporaryDirectory() as d:
                env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD"))}
                if qemu:
                    argv = qemu + ["-E", f"LD_PRELOAD={lib}", "-E", f"LASTGASP_DIR={d}", "-E", "LASTGASP_QUIET=1"]
                else:
                    argv = []
                    env.update(LD_PRELOAD=str(lib), LASTGASP_DIR=d, LASTGASP_QUIET="1")
                r, w = os.pipe()
                subprocess.run(argv + [str(prog), str(n), "0", str(w)], env=env, cwd=d, pass_fds=(w,),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
                os.close(w)
                os.close(r)
                runs.append(sum(f.stat().st_size for f in Path(d).glob("*.dmp")))
        assert all(runs), (arch, n, runs)
        sizes[n] = statistics.median(runs)
    return (sizes[1000] - sizes[0]) / 1000


def main():
    print(f"dump sizes and syscalls per crash, median of {RUNS} runs (arm64 under qemu-user)")
    print(f"{'arch':>6} {'1-thread dump':>14} {'bytes/thread':>13} {'syscalls/crash':>15}")
    for arch in ARCHES:
        one = [crash(arch, "null_write", trace=True) for _ in range(RUNS)]
        many = [crash(arch, "threads500") for _ in range(RUNS)]
        b1, t1 = statistics.median(x[0] for x in one), statistics.median(x[1] for x in one)
        bn, tn = statistics.median(x[0] for x in many), statistics.median(x[1] for x in many)
        calls = statistics.median(amd64_calls_per_crash() for _ in range(RUNS)) if arch == "amd64" else \
            statistics.median(x[2] for x in one)
        print(f"{arch:>6} {b1 / 1024:>12.1f}K {(bn - b1) / (tn - t1):>13.0f} {calls:>15.0f}")
    for arch in ARCHES:
        print(f"Go, {arch}: {go_per_goroutine(arch):.0f} bytes per parked goroutine (gocrash, 0 and 1000)")


if __name__ == "__main__":
    main()
