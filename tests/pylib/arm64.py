"""arm64.py — run what `make ARCH=arm64` builds (build/arm64/) on this x86_64 machine, under qemu-user.

    wrap          for readers.run_crasher(wrap=...): the crash programs and the arm64 library, preloaded into the
                  guest only (qemu's -E), against the cross C library (Debian's libc6-dev-arm64-cross)
    tool          the arm64 `lastgasp` tool, against Debian's arm64 libraries that it links (minizip, zlib, libcurl,
                  libdw: the tree tests/tools/arm64_sysroot.sh makes, where `make ARCH=arm64` linked it)
    go_build      a cgo program cross-built for arm64, as Go's documentation says (CGO_ENABLED=1 GOARCH=arm64
                  CC=aarch64-linux-gnu-gcc)

qemu-user opens a guest's absolute path in the -L tree first and on this machine when the tree has no such file,
so the arm64 tool reads dumps, bundles and the modules named in dumps at their real paths.
"""
import os
import subprocess
from pathlib import Path

from pylib import readers as R

QEMU = "qemu-aarch64"
BUILD = R.BUILD / "arm64"
TESTS = BUILD / "tests"
LIB = BUILD / "liblastgasp.so"
# LASTGASP_TEST_ARM64_CLI: another arm64 tool in its place (a build broken on purpose, to see the tests fail).
CLI = Path(os.environ.get("LASTGASP_TEST_ARM64_CLI") or BUILD / "lastgasp")
CROSS_SYSROOT = Path("/usr/aarch64-linux-gnu")
SYSROOT = R.TOOLS / "arm64-sysroot"


def wrap(argv, env, sysroot=CROSS_SYSROOT):
    """(argv, env) run under qemu-aarch64. LD_PRELOAD goes to the guest only (-E): in qemu's own environment the
    host's loader would try to preload the arm64 library into qemu and complain."""
    env = dict(env)
    guest = []
    if "LD_PRELOAD" in env:
        guest += ["-E", "LD_PRELOAD=" + env.pop("LD_PRELOAD")]
    return [QEMU, "-L", str(sysroot), *guest, *argv], env


def tool_argv(*args, cli=CLI):
    """The command line that runs the arm64 tool with ARGS (for Popen, when the caller reads as it goes)."""
    return wrap([str(cli), *map(str, args)], {}, SYSROOT)[0]


def tool(*args, timeout=120, **kw):
    """`lastgasp ARGS` run by the arm64 tool: a CompletedProcess (bytes unless text=True is given)."""
    return subprocess.run(tool_argv(*args), capture_output=True, timeout=timeout, **kw)


def go_build(src, out, *flags):
    """Cross-build the Go main package in directory SRC for arm64 into OUT (go's cache makes a rebuild quick)."""
    env = dict(os.environ, CGO_ENABLED="1", GOARCH="arm64", CC="aarch64-linux-gnu-gcc")
    subprocess.run(["go", "build", *flags, "-o", str(out), "."], cwd=src, env=env, check=True, capture_output=True,
                   timeout=600)
    return Path(out)
