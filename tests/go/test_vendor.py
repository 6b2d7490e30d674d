"""The Go package as a user's module gets it: vendored, outside this repository, with the README's snippet.

A module in a temporary directory requires github.com/lastgasp/lastgasp through a `replace` to this checkout,
runs `go mod vendor` and builds with -mod=vendor, so goshim's C units compile from vendor/ alone (their
#includes reach ${SRCDIR}/.., which vendoring copies only because of goshim/csources.go). Its main() is the
README's Go snippet, taken from README.md, then a nil dereference. Each run is compared with the same program
run without lastgasp (the snippet skipped): the same exit status and the runtime's same panic text, plus one
dump. Also run with LD_PRELOAD as well: the snippet must not log "crash dumps are off" (the preloaded library
writes the dump, one crash, one dump).
"""
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIB = ROOT / "build/liblastgasp.so"
CLI = ROOT / "build/lastgasp"
VERSIONS = os.environ.get("GO_MATRIX_VERSIONS", "local go1.22.12").split()
MODULE = "github.com/lastgasp/lastgasp"


def readme_snippet():
    """The body of main() in the README's Go snippet, up to its `...`, with the dump directory made a
    variable (the test cannot write /dumps)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```go\n(import lastgasp .*?)```", text, re.S)
    assert block, "README.md has no Go snippet starting with the import"
    body = block.group(1).split("func main() {\n", 1)[1].split("\t...\n", 1)[0]
    assert '"/dumps"' in body
    return body.replace('"/dumps"', "dumpDir")


MAIN = """package main

import (
	"fmt"
	"log"
	"os"

	lastgasp "github.com/lastgasp/lastgasp/goshim"
)

var node *struct{ next *int }

func main() {
	dumpDir := os.Getenv("VENDOR_TEST_DIR")
	if os.Getenv("VENDOR_TEST_INSTALL") == "1" {
		snippet(dumpDir)
	}
	fmt.Println(*node.next)
}

func snippet(dumpDir string) {
%s}
"""


def go_env(version, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK", "GOFLAGS", "CGO_CFLAGS"))}
    env.update(CGO_ENABLED="1", GOFLAGS="-buildvcs=false", **extra)
    if version != "local":
        env["GOTOOLCHAIN"] = version
    return env


@pytest.fixture(scope="module", params=VERSIONS)
def vendored(request):
    """The user's module, vendored and built; yields (binary, go build -x output)."""
    version = request.param
    work = Path(tempfile.mkdtemp(prefix=f"lastgasp-vendor-{version}-"))
    (work / "go.mod").write_text(f"module example.com/vendored\n\ngo 1.22\n\nrequire {MODULE} v0.0.0\n\n"
                                 f"replace {MODULE} => {ROOT}\n")
    (work / "main.go").write_text(MAIN % readme_snippet())
    env = go_env(version)
    r = subprocess.run(["go", "mod", "vendor"], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["go", "build", "-mod=vendor", "-x", "-o", "prog", "."], cwd=work, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    yield work / "prog", r.stderr, work
    shutil.rmtree(work, ignore_errors=True)


def run(binary, install, preload=False):
    d = Path(tempfile.mkdtemp(prefix="lastgasp-vendor-run-"))
    env = go_env("local", VENDOR_TEST_DIR=str(d), VENDOR_TEST_INSTALL="1" if install else "0")
    if preload:
        env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(d))
    p = subprocess.run([str(binary)], cwd=d, env=env, capture_output=True, text=True, timeout=60)
    dumps = sorted(d.glob("*.dmp"))
    return p, dumps, d


def panic_text(stderr):
    """The runtime's report without lastgasp's own line and the goroutine's addresses and ids."""
    lines = [l for l in stderr.splitlines() if not l.startswith("lastgasp: ")]
    return [re.sub(r"0x[0-9a-f]+|goroutine \d+", "_", l) for l in lines]


def test_vendor_tree_is_what_the_build_used(vendored):
    """The C units were compiled from vendor/: the include path cgo passed is the vendored goshim's parent, and
    every C source folder goshim includes is there, with no other part of the repository."""
    _, log, work = vendored
    top = work / "vendor" / MODULE
    assert f"-I {top}/goshim/.." in log or f"-I{top}/goshim/.." in log, "cgo did not compile goshim from vendor/"
    for unit in ("c_handler_linux_amd64.c", "c_install_linux_amd64.c", "c_jmp_linux_amd64.S",
                 "c_handler_linux_arm64.c", "c_install_linux_arm64.c", "c_jmp_linux_arm64.S"):
        for inc in re.findall(r'#include "([^"]+)"', (top / "goshim" / unit).read_text()):
            assert (top / inc).is_file(), f"{inc} is not vendored"
    assert not (top / "formats/cli").exists() and not (top / "tests").exists()


def test_vendored_program_crashes_into_a_dump(vendored):
    binary = vendored[0]
    base, base_dumps, _ = run(binary, install=False)
    got, dumps, d = run(binary, install=True)
    assert base.returncode == 2 and not base_dumps, base.stderr
    assert got.returncode == base.returncode, got.stderr
    assert "crash dumps are off" not in got.stderr
    assert panic_text(got.stderr) == panic_text(base.stderr)
    assert "nil pointer dereference" in base.stderr
    assert len(dumps) == 1, (dumps, got.stderr)
    assert dumps[0].read_bytes()[:4] == b"MDMP"
    assert b"tenant" in dumps[0].read_bytes() and b"acme" in dumps[0].read_bytes(), "the snippet's annotation"
    if CLI.exists():
        show = subprocess.run([str(CLI), "show", str(dumps[0])], capture_output=True, text=True, timeout=60)
        assert show.returncode == 0 and "nil pointer dereference" in show.stdout, show.stdout + show.stderr
    shutil.rmtree(d)


def test_readme_snippet_in_a_preloaded_process(vendored):
    """LD_PRELOAD and the package both: the preloaded library (there first) writes the one dump, with the
    annotation the snippet set through the package, and the README's snippet, which logs only on error, stays
    silent: dumps are on."""
    assert LIB.exists(), "build/liblastgasp.so is built by make all"
    binary = vendored[0]
    base, _, _ = run(binary, install=False)
    got, dumps, d = run(binary, install=True, preload=True)
    assert got.returncode == base.returncode == 2, got.stderr
    assert "crash dumps are off" not in got.stderr, got.stderr
    assert panic_text(got.stderr) == panic_text(base.stderr)
    assert len(dumps) == 1, (dumps, got.stderr)
    assert b"acme" in dumps[0].read_bytes(), "the snippet's annotation is not in the preloaded library's dump"
    shutil.rmtree(d)
