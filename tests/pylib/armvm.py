"""An arm64 machine with a real Linux kernel, for what qemu-user cannot show (tests/crash/test_arm64_kernel.py):
qemu-system-aarch64 (software emulation, the `virt` board) boots Debian's arm64 cloud kernel with an initramfs
holding a static busybox, the arm64 C library from the sysroot (tests/tools/arm64_sysroot.sh), the programs to run
and a shell script as init. The script runs each program in a folder of its own, with core dumps on, and prints
on the serial console what the host needs, between markers: the exit status, stderr, the core files' names and
the dumps (base64). One boot runs a whole list of programs."""
import base64
import shlex
import shutil
import subprocess
from pathlib import Path

from pylib import readers as R

SYSROOT = R.TOOLS / "arm64-sysroot"
CROSS_LIBS = Path("/usr/aarch64-linux-gnu/lib")


class VmRun:
    """One program's run in the machine, in the shape of readers.Run (death, stderr, dumps, cores, announced)."""

    def __init__(self, status, stderr, dumps, cores):
        self.status, self.stderr, self.dumps, self.cores = status, stderr, dumps, cores

    @property
    def death(self):
        """The shell's status: 128+N for a death by signal N (no program here exits above 127)."""
        return ("signal", self.status - 128) if self.status > 128 else ("exit", self.status)

    announced = R.Run.announced


def kernel():
    found = sorted((SYSROOT / "boot").glob("vmlinuz-*"))
    assert found, f"no arm64 kernel in {SYSROOT}/boot: run bash tests/tools/deps.sh test"
    return found[-1]


def _needed(path):
    out = subprocess.run(["aarch64-linux-gnu-readelf", "-d", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return [l.split("[")[1].rstrip("]") for l in out.splitlines() if "(NEEDED)" in l]


def _libraries(binaries, provided=()):
    """The library files the binaries need, transitively, from the sysroot (the loader among them): the C library's
    in lib/, the others' (the tool's minizip, libcurl, libdw, libunwind) in usr/lib/; names in provided come with
    the programs."""
    libdir = SYSROOT / "lib/aarch64-linux-gnu"
    libdirs = (libdir, SYSROOT / "usr/lib/aarch64-linux-gnu")
    todo, found = [n for b in binaries for n in _needed(b)], {"ld-linux-aarch64.so.1": libdir / "ld-linux-aarch64.so.1"}
    while todo:
        name = todo.pop()
        if name in found or name in provided:
            continue
        path = next((d / name for d in libdirs if (d / name).exists()), libdir / name)
        assert path.exists(), f"{name}: not in {' or '.join(map(str, libdirs))}"
        found[name] = path
        todo += _needed(path.resolve())
    return found


def _script(runs):
    lines = ["#!/bin/busybox sh",
             "/bin/busybox --install -s /bin",
             "mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev",
             "echo 0 >/proc/sys/debug/exception-trace",  # no kernel line per fault on the console
             "echo core >/proc/sys/kernel/core_pattern; ulimit -c unlimited",
             'echo "=== KERNEL $(uname -srm)"']
    for name, argv, env in runs:
        envs = " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
        cmd = " ".join(shlex.quote(a) for a in argv)
        lines += [f"mkdir -p /w/{name}/dumps; cd /w/{name}",
                  f"env -i {envs} timeout -s KILL 300 {cmd} </dev/null >/dev/null 2>/w/{name}.err",
                  f'echo "=== RUN {name} $?"; base64 /w/{name}.err; echo "=== CORES" core*',
                  "for f in dumps/*.dmp; do [ -e \"$f\" ] && { echo \"=== DUMP ${f#dumps/}\"; base64 \"$f\"; }; done",
                  f'echo "=== END {name}"; rm -rf /w/{name}; cd /']
    lines += ["poweroff -f"]
    return "\n".join(lines) + "\n"


def boot(runs, files, work, timeout=1800):
    """runs: [(name, argv, env)]; files: {guest path: host path} (the programs, the library). Boots once, runs
    each in order, and returns (kernel line, {name: VmRun}); the dumps are written to work/<name>/."""
    work = Path(work)
    root = work / "initramfs"
    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "proc", "sys", "dev", "tmp", "w", "lib/aarch64-linux-gnu"):
        (root / d).mkdir(parents=True)
    shutil.copy(SYSROOT / "bin/busybox", root / "bin/busybox")
    for guest, host in files.items():
        dst = root / guest.lstrip("/")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(host).resolve(), dst)
    elves = [h for h in files.values() if Path(h).read_bytes()[:4] == b"\x7fELF"]  # not the data files (dumps)
    for name, path in _libraries(elves, {Path(g).name for g in files}).items():
        shutil.copy(path.resolve(), root / "lib/aarch64-linux-gnu" / name)
    (root / "lib/ld-linux-aarch64.so.1").symlink_to("aarch64-linux-gnu/ld-linux-aarch64.so.1")
    (root / "init").write_text(_script(runs))
    (root / "init").chmod(0o755)
    image = work / "initramfs.cpio.gz"
    subprocess.run(f"cd {shlex.quote(str(root))} && find . | cpio -o -H newc --quiet | gzip -1 >{image}",
                   shell=True, check=True)
    p = subprocess.run(["qemu-system-aarch64", "-M", "virt", "-cpu", "max", "-smp", "2", "-m", "1024",
                        "-nographic", "-nic", "none", "-no-reboot", "-kernel", str(kernel()), "-initrd", str(image),
                        "-append", "console=ttyAMA0 panic=-1 quiet loglevel=0"],
                       capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    console = p.stdout.decode("utf-8", "replace").replace("\r", "")
    (work / "console.txt").write_text(console)
    return _parse(console, work)


def _parse(console, work):
    kernel_line, results, cur = None, {}, None
    for line in console.splitlines():
        if line.startswith("=== KERNEL "):
            kernel_line = line[len("=== KERNEL "):]
        elif line.startswith("=== RUN "):
            _, _, name, status = line.split()
            cur = {"name": name, "status": int(status), "err": [], "dump": None, "dumps": {}, "cores": []}
            section = cur["err"]
        elif cur is None:
            continue
        elif line.startswith("=== CORES"):
            cur["cores"] = [c for c in line.split()[2:] if c != "core*"]
        elif line.startswith("=== DUMP "):
            section = cur["dumps"].setdefault(line.split()[2], [])
        elif line.startswith("=== END "):
            out = work / cur["name"]
            out.mkdir(exist_ok=True)
            dumps = []
            for fname, b64 in cur["dumps"].items():
                (out / fname).write_bytes(base64.b64decode("".join(b64)))
                dumps.append(out / fname)
            stderr = base64.b64decode("".join(cur["err"])).decode("utf-8", "replace")
            results[cur["name"]] = VmRun(cur["status"], stderr, sorted(dumps), cur["cores"])
            cur = None
        else:
            section.append(line.strip())
    return kernel_line, results
