"""linux/arm64 on a real arm64 Linux kernel: an arm64 machine under qemu-system-aarch64 (software emulation;
tests/pylib/armvm.py), where test_arm64.py's qemu-user runs the programs on this machine's x86_64 kernel.

What only a kernel of the architecture shows, and qemu-user hides: the report's helper task (qemu-user refuses its
clone, so there the report runs on the crashing thread), the watchdog's and the capture's real-time signals, the
kernel's own signal frames and threads' names, seccomp (qemu-user installs no filter). Every scenario of the C
crash matrix runs in one boot (about two minutes) without and with lastgasp (the arm64 library preloaded, or
linked), and must:

  - die the same way (signal or exit status) with the same core presence, with no malloc or lock after the
    crash (the tripwire), and say one `lastgasp:` line, never that the report ran out of time;
  - leave one dump that Breakpad, rust-minidump, LLDB and lastgasp read as the crasher announced, made by the
    helper task (its notes say nothing of a failed clone), with the program's own thread names, and every
    thread's registers (the capture signal answered).

The arm64 unit tests run there too (ss_clone_run with the helper's flags among them), the unwinder against
libunwind (through the vDSO's signal trampoline), and Go programs both ways in
(preloaded: a panic, a fault in C through cgo; goshim: a fault in C): exit 2 and the runtime's own report with
lastgasp as without, and every goroutine of the runtime's traceback in the dump.
"""
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from pylib import arm64
from pylib import armvm
from pylib import go_fidelity as fidelity
from pylib import go_traceback as gotb
from pylib import readers as R
from pylib import scenarios as S
from pylib import suites

ROOT = R.ROOT
ARM = ROOT / "build/arm64"
AT = ARM / "tests"
# Go programs, both ways in: name: (package folder, arguments, way in). Preloaded: a corpus program (a panic, a
# fault in C through cgo), without and with the library; goshim: tests/go/matrix without and with -tags goshim.
GO_PROGRAMS = {"panicstring": (ROOT / "tests/go/corpus/panicstring", [], "preload"),
               "cgofault": (ROOT / "tests/go/corpus/cgofault", [], "preload"),
               "goshim-cfault": (ROOT / "tests/go/matrix", ["cfault"], "goshim")}

# The architecture's limit (test_arm64.py says why): the division returns and main exits 99, with lastgasp as
# without. The seccomp scenarios, limits under qemu-user, run here.
LIMITS = {"divzero": ("exit", 99)}
# Emulated, the machine runs some hundred times slower than this one: the report of 500 threads (40 ms here) can
# outlast the report's deadline, 4 s of real time, and then the watchdog ends it. test_arm64_kernel_watchdog
# asserts both outcomes exactly; test_arm64.py has the scenario's dump under qemu-user.
SLOW = {"threads500"}
SCENARIOS = {k: v for k, v in S.SCENARIOS.items() if k not in LIMITS and k not in SLOW}


# The unwinder against libunwind (tests/unwind/README.md), whose run.sh samples 300 instructions per variant under
# qemu-user -singlestep: here the signal handlers return to the vDSO's __kernel_rt_sigreturn, not to qemu-user's
# own trampoline page, and the sampler's timer is the kernel's. The emulated machine takes an interrupt only
# between translation blocks, so its samples reach fewer distinct pcs: fewer of them, for the trampoline's sake.
UW = ARM / "tests/unwind"
UNWDIFF_VARIANTS = ("O0-fp", "O0-nofp", "O2-fp", "O2-nofp")
UNWDIFF_SAMPLES = 100

# test_arm64.py's unit tests of the architecture's code, here without qemu-user's limits (the helper task's clone).
UNITS = sorted("sigsafe/" + p.stem for p in (ROOT / "tests/unit/sigsafe").glob("test_*.c")) + ["test_unwind"]


matrix = suites.load("capture_matrix_arm64_kernel", ROOT / "tests/go/test_capture_matrix.py")


def _crasher_env(binary, lastgasp, tripwire):
    env = {"PATH": "/bin", R.SECRET_NAME: R.SECRET}
    if lastgasp:
        env["LASTGASP_DIR"] = "dumps"
        preload = [] if binary == "crasher_linked" else ["/lg/liblastgasp.so"]
        if tripwire:
            preload.insert(0, "/lg/tripwire.so")
            env["CRASHER_TRIPWIRE"] = "1"
        if preload:
            env["LD_PRELOAD"] = " ".join(preload)
    return env


@pytest.fixture(scope="module")
def vm():
    """One boot that runs everything; its console is kept in the work folder."""
    for args in (["ARCH=arm64", "all", "arm64-test-bins", "unwind-bins"], ["all"]):
        p = subprocess.run(["make", "-s", *args], cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, p.stdout + p.stderr
    work = Path(tempfile.mkdtemp(prefix="lastgasp-arm64-kernel-"))
    files = {"/lg/liblastgasp.so": ARM / "liblastgasp.so", "/lg/tripwire.so": AT / "tripwire.so",
             "/lg/crasher": AT / "crasher", "/lg/crasher_linked": AT / "crasher_linked"}
    runs = []
    for scenario, (binary, _, _, extra) in sorted(S.SCENARIOS.items()):
        for lastgasp in (False, True):
            env = _crasher_env(binary, lastgasp, extra.get("tripwire", True))
            runs.append((f"{scenario}-{'with' if lastgasp else 'without'}", [f"/lg/{binary}", scenario], env))
    for unit in UNITS:
        files[f"/lg/unit/{unit}"] = AT / "unit" / unit
        runs.append((f"unit-{unit.replace('/', '-')}", ["/bin/sh", "-c", f"exec /lg/unit/{unit} 1>&2"],
                     {"PATH": "/bin"}))
    for v in UNWDIFF_VARIANTS:
        prog, lib = f"unwdiff-{v}", f"libunwdiff_plt-{v}.so"
        files.update({f"/lg/{prog}": UW / prog, f"/lg/{lib}": UW / lib})
        runs.append((prog, ["/bin/sh", "-c", f"exec /lg/{prog} {v} 1>&2"],
                     {"PATH": "/bin", "UNWDIFF_SAMPLES": str(UNWDIFF_SAMPLES)}))
    for prog, (folder, args, way) in GO_PROGRAMS.items():
        arm64.go_build(folder, work / prog)
        files[f"/lg/{prog}"] = work / prog
        runs.append((f"{prog}-without", [f"/lg/{prog}", *args], {"PATH": "/bin"}))
        if way == "goshim":
            arm64.go_build(folder, work / f"{prog}-goshim", "-tags", "goshim")
            files[f"/lg/{prog}-goshim"] = work / f"{prog}-goshim"
            argv, env = [f"/lg/{prog}-goshim", *args], {"PATH": "/bin", "LASTGASP_DIR": "dumps"}
        else:
            argv, env = [f"/lg/{prog}", *args], {"PATH": "/bin", "LASTGASP_DIR": "dumps",
                                                  "LD_PRELOAD": "/lg/liblastgasp.so"}
        runs.append((f"{prog}-with", argv, env))
        runs.append((f"{prog}-system", argv, dict(env, GOTRACEBACK="system")))
    kernel, results = armvm.boot(runs, files, work)
    assert kernel and "aarch64" in kernel, f"the machine did not start: {work / 'console.txt'}"
    missing = [name for name, _, _ in runs if name not in results]
    assert not missing, f"no result for {missing}: {work / 'console.txt'}"
    return kernel, results, work / "initramfs"


def test_arm64_kernel_is_arm64(vm):
    kernel, _, _ = vm
    assert kernel.startswith("Linux ") and kernel.endswith(" aarch64"), kernel


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_arm64_kernel_scenario(vm, scenario):
    _, results, vm_root = vm
    binary, sig, check_addr, extra = SCENARIOS[scenario]
    without, with_lg = results[f"{scenario}-without"], results[f"{scenario}-with"]
    assert without.death == ("signal", sig), without.stderr
    assert with_lg.death == without.death, f"death changed: {without.death} -> {with_lg.death}\n{with_lg.stderr}"
    assert bool(with_lg.cores) == bool(without.cores), (without.cores, with_lg.cores)
    assert "TRIPWIRE:" not in with_lg.stderr, with_lg.stderr
    S.same_stderr(without, with_lg)
    ours = [l for l in with_lg.stderr.splitlines() if l.startswith("lastgasp:")]
    assert len(ours) == 1 and ours[0].startswith(f"lastgasp: {sig.name}"), with_lg.stderr
    assert len(with_lg.dumps) == 1, with_lg.stderr
    R.assert_no_secret(with_lg.dumps[0])
    ann = with_lg.announced()
    assert ann, with_lg.stderr
    views = R.check_readers(with_lg.dumps[0], binary, sig, ann, check_addr, AT, root=vm_root)
    j = views["lastgasp"]["json"]
    notes = j["notes"] or ""
    # The helper task made the report, and the watchdog was armed: what qemu-user cannot show.
    assert "clone failed" not in notes and "no watchdog" not in notes, notes
    names = {t["name"] for t in j["threads"]}
    assert binary in names, names  # the kernel's names of the program's threads (qemu-user: its own)
    assert all(t["status"] == "ok" for t in j["threads"]), [(t["tid"], t["status"]) for t in j["threads"]]
    if scenario == "user_handler":
        assert "user handler ran" in with_lg.stderr and "user handler ran" in without.stderr


def test_arm64_kernel_watchdog(vm):
    """threads500 (SLOW): the same death and core with lastgasp as without, and either a whole dump (every thread
    answered the capture signal) or, when the emulated report outlasted its deadline, the watchdog's end: its one
    line, no dump left behind. Either way no hang and no changed death, on a real arm64 kernel's timers."""
    _, results, vm_root = vm
    without, with_lg = results["threads500-without"], results["threads500-with"]
    assert without.death == with_lg.death == ("signal", signal.SIGSEGV), (without.death, with_lg.death)
    assert bool(with_lg.cores) == bool(without.cores), (without.cores, with_lg.cores)
    ours = [l for l in with_lg.stderr.splitlines() if l.startswith("lastgasp:")]
    if with_lg.dumps:
        assert len(with_lg.dumps) == 1 and len(ours) == 1 and ours[0].startswith("lastgasp: SIGSEGV"), ours
        j = R.read_lastgasp(with_lg.dumps[0])["json"]
        assert len(j["threads"]) == 501 and all(t["status"] == "ok" for t in j["threads"]), len(j["threads"])
        print("threads500 on the emulated arm64 kernel: the report finished within its deadline")
    else:
        assert ours == ["lastgasp: the crash report ran out of time (4 s); the process ends now, without a dump"], ours
        print("threads500 on the emulated arm64 kernel: the watchdog ended the report at its deadline")


@pytest.mark.parametrize("scenario", sorted(LIMITS))
def test_arm64_kernel_limit(vm, scenario):
    _, results, _ = vm
    without, with_lg = results[f"{scenario}-without"], results[f"{scenario}-with"]
    assert without.death == LIMITS[scenario] == with_lg.death, (without.death, with_lg.death)
    assert not with_lg.dumps, with_lg.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_arm64_kernel_unit(vm, unit):
    _, results, _ = vm
    r = results[f"unit-{unit.replace('/', '-')}"]
    assert r.death == ("exit", 0) and " 0 failed" in r.stderr, r.stderr[-3000:]


@pytest.mark.parametrize("variant", UNWDIFF_VARIANTS)
def test_arm64_kernel_unwdiff(vm, variant):
    _, results, _ = vm
    out = results[f"unwdiff-{variant}"].stderr
    # The program's own verdict: every stack the same but for the allowed differences, every check held.
    assert results[f"unwdiff-{variant}"].status == 0, out[-6000:]
    assert f"unwdiff {variant}: sampled {UNWDIFF_SAMPLES} instructions" in out, out[-3000:]
    # The handlers return to the vDSO (lastgasp's module name for it: linux-gate.so), and both walks climb through
    # it (the program compared them).
    assert "in linux-gate.so; both walks climb through it" in out, out[-3000:]


@pytest.mark.parametrize("prog", sorted(GO_PROGRAMS))
def test_arm64_kernel_go(vm, prog):
    """The runtime's own death with lastgasp as without (test_capture_matrix's normalization), and at
    GOTRACEBACK=system every goroutine the runtime printed in the dump (test_go_fidelity's comparison)."""
    _, results, _ = vm
    base, with_lg, system = results[f"{prog}-without"], results[f"{prog}-with"], results[f"{prog}-system"]
    for r in (base, with_lg, system):
        assert r.death == ("exit", 2), r.stderr[-3000:]
    assert matrix.normalized(with_lg.stderr) == matrix.normalized(base.stderr), with_lg.stderr[-3000:]
    assert len([l for l in with_lg.stderr.splitlines() if l.startswith("lastgasp: ")]) == 1, with_lg.stderr
    assert len(with_lg.dumps) == 1 and len(system.dumps) == 1, system.stderr[-3000:]
    j = R.read_lastgasp(system.dumps[0])["json"]
    go = j["go"]
    assert j["system"]["arch"] == "arm64" and go and go["goroutines"], j.get("notes")
    assert "clone failed" not in (j["notes"] or "")
    tb = gotb.parse_goroutines(system.stderr)
    if prog in ("cgofault", "goshim-cfault"):  # faults in C: see without_runtime_background
        tb = fidelity.without_runtime_background(tb, go["crashing_goroutine"])
    assert [g for g in tb if g["frames"]], "the runtime printed no goroutine with a stack"
    problems = fidelity.compare(tb, go, go["crashing_goroutine"])
    assert not problems, "\n".join(problems[:10])
    assert go["reason"] == fidelity.expected_reason(prog, system.stderr, go["version"])
