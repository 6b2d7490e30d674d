"""The unwinder against libunwind (tests/unwind/README.md) on a real arm64 kernel (tests/pylib/armvm.py), where
tests/unwind/run.sh runs it under qemu-user: here the signal handlers return to the vDSO's __kernel_rt_sigreturn
(not to qemu-user's own trampoline page), and the sampler's timer is the kernel's (the emulated machine, too, takes
an interrupt only between translation blocks: fewer distinct pcs are sampled than under qemu-user -singlestep). The four build variants in one boot, each with its 300 samples (about three minutes with the boot).
The machine's kernel is Debian's arm64 cloud kernel, its libc and libunwind Debian's, as under qemu-user."""
import tempfile
import subprocess
from pathlib import Path

from pylib import armvm
from pylib import readers as R

UW = R.ROOT / "build/arm64/tests/unwind"
VARIANTS = ("O0-fp", "O0-nofp", "O2-fp", "O2-nofp")
SAMPLES = 300


def test_unwdiff_on_arm64_kernel():
    p = subprocess.run(["make", "-s", "ARCH=arm64", "unwind-bins"], cwd=R.ROOT, capture_output=True, text=True,
                       timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    work = Path(tempfile.mkdtemp(prefix="lastgasp-arm64-unwind-"))
    files, runs = {}, []
    for v in VARIANTS:
        prog, lib = f"unwdiff-{v}", f"libunwdiff_plt-{v}.so"
        files.update({f"/lg/{prog}": UW / prog, f"/lg/{lib}": UW / lib})
        runs.append((prog, ["/bin/sh", "-c", f"exec /lg/{prog} {v} 1>&2"], {"PATH": "/bin"}))
    kernel, results = armvm.boot(runs, files, work)
    assert kernel and "aarch64" in kernel, f"the machine did not start: {work / 'console.txt'}"
    for v in VARIANTS:
        r = results[f"unwdiff-{v}"]
        out = r.stderr
        # The program's own verdict: every stack the same but for the allowed differences, every check held.
        assert r.status == 0, out[-6000:]
        assert f"unwdiff {v}: sampled {SAMPLES} instructions" in out, out[-3000:]
        # The handlers return to the vDSO (lastgasp's module name for it: linux-gate.so), and both walks climb
        # through it (the program compared them above).
        assert "the signal handlers return to a trampoline at" in out, out[-3000:]
        assert "in linux-gate.so; both walks climb through it" in out, out[-3000:]
