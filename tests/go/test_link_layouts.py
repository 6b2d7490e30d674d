"""A Go program whose read-only data shares the executable segment (GNU ld without separate code: its default on
aarch64, `-z noseparate-code` elsewhere, older binutils) ends as without lastgasp, preloaded.

go_inspect finds the pclntab by segment; it refused executable segments on amd64, so in such a binary it found
no pclntab, lastgasp never went on top of the runtime's handlers, and a fault in C died of SIGSEGV (one lastgasp
line) instead of the runtime's report and exit 2. Each program runs without and with lastgasp: same exit status,
the runtime's stderr kept line for line (lastgasp adds its one line), no core either way, one dump with it.
"""
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
LIB = HERE.parents[1] / "build/liblastgasp.so"
LDFLAGS = "-linkmode=external -extldflags=-Wl,-z,noseparate-code"
_built = {}


def build(prog):
    if prog not in _built:
        out = Path(tempfile.mkdtemp(prefix="lastgasp-nosep-")) / prog
        subprocess.run(["go", "build", f"-ldflags={LDFLAGS}", "-o", str(out), "./" + prog], cwd=HERE / "corpus",
                       env=dict(os.environ, CGO_ENABLED="1"), check=True, capture_output=True, timeout=600)
        _built[prog] = out
    return _built[prog]


def run(binary, lastgasp):
    work = Path(tempfile.mkdtemp(prefix="lastgasp-nosep-run-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    if lastgasp:
        env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(work))
    p = subprocess.run([str(binary)], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    return p, sorted(work.glob("*.dmp")), sorted(work.glob("core*"))


@pytest.mark.parametrize("prog", ["cgofault", "panicstring"])
def test_shared_text_segment_ends_as_without(prog):
    binary = build(prog)
    segs = subprocess.run(["readelf", "-lW", str(binary)], capture_output=True, text=True, check=True).stdout
    loads = [l for l in segs.splitlines() if l.strip().startswith("LOAD")]
    assert not any(l.split()[-2] == "R" for l in loads), f"the link has a read-only segment after all:\n{segs}"
    base, lg = run(binary, False), run(binary, True)
    assert lg[0].returncode == base[0].returncode == 2, (base[0].returncode, lg[0].returncode, lg[0].stderr[-2000:])
    assert len(lg[1]) == 1 and not base[1], (lg[1], base[1])
    assert not lg[2] and not base[2]
    ours = [l for l in lg[0].stderr.splitlines() if l.startswith("lastgasp:")]
    assert len(ours) == 1, ours
    # The runtime's own report, up to the end of the crashing goroutine's block, is the same (its other
    # goroutines depend on timing; addresses and arguments vary run to run: first words, names before "(").
    theirs = [l for l in lg[0].stderr.splitlines() if not l.startswith("lastgasp:")]
    assert head(theirs) == head(base[0].stderr.splitlines()) != []


def head(lines):
    """The report up to the first blank line after its first goroutine header, each line's first word."""
    out, seen = [], False
    for l in lines:
        if seen and not l.strip():
            break
        seen = seen or l.startswith("goroutine ")
        out.append(l.split("(")[0].split(" ")[0])
    return out
