"""Handlers that were there before lastgasp, and vfork children (issue 9, "Never change the death").

chain.c is built linked with liblastgasp.a (it installs its own SIGSEGV handler, then lastgasp: the order of
probe-and-recover code, JITs and garbage collectors that set up before a crash reporter), and the plain
build is the same program without lastgasp. Every scenario runs both ways and is compared.
"""
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from pylib import harness as H

SEGV = ("signal", 11)


@pytest.fixture(scope="module")
def linked():
    d = Path(tempfile.mkdtemp(prefix="lastgasp-chain-"))
    exe = d / "chain_linked"
    subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-g", "-DCHAIN_LINKED", "-o", str(exe),
                    str(Path(__file__).with_name("chain.c")), str(H.BUILD / "liblastgasp.a"), "-lpthread", "-ldl"],
                   check=True)
    return exe


def linked_run(linked, what):
    """The linked program with LASTGASP_DIR set to its run's dump directory."""
    d = Path(tempfile.mkdtemp(prefix="lastgasp-chain-dumps-"))
    return H.run([str(linked), what], lastgasp=False, env={"LASTGASP_DIR": str(d)}, dump_dir=d)


def test_recovered_probes_are_not_crashes(linked):
    """100 faults the program's own handler recovers from (siglongjmp), then a real crash it gives up on: no
    dump for the probes, one for the crash (lastgasp stayed armed), the same death and output."""
    without = H.run(["chain", "probes"], lastgasp=False)
    with_lg = linked_run(linked, "probes")
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == SEGV and "100 probes recovered" in with_lg.stderr
        assert len(with_lg.dumps) == 1, with_lg.files
        assert with_lg.stderr.count("handler gives up") == 1
        j = H.lastgasp_json(with_lg.dumps[0])
        (t,) = [t for t in j["threads"] if t["crashed"]]
        assert j["signal"]["name"] == "SIGSEGV" and t["frames"][0]["function"] == "real_crash", t["frames"][:2]
    finally:
        H.cleanup(without, with_lg)


def test_a_fault_the_handler_fixes_is_not_a_crash(linked):
    without = H.run(["chain", "fixes"], lastgasp=False)
    with_lg = linked_run(linked, "fixes")
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == ("exit", 0) and not with_lg.dumps and "fixed, wrote 1" in with_lg.stderr
    finally:
        H.cleanup(without, with_lg)


def test_a_fault_the_handler_gives_up_on_later_is_reported_once(linked):
    """The handler returns twice without fixing anything (the fault repeats), then gives up: one dump, when it
    gives up; the handler ran as often as without lastgasp; same death."""
    without = H.run(["chain", "unfixed"], lastgasp=False)
    with_lg = linked_run(linked, "unfixed")
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == SEGV and len(with_lg.dumps) == 1
        assert with_lg.stderr.count("handler gives up") == without.stderr.count("handler gives up") == 1
    finally:
        H.cleanup(without, with_lg)


@pytest.mark.parametrize("way", ["preload", "linked"])
def test_vfork_child_leaves_the_parent_armed(linked, way):
    """A vfork child faults (it shares the parent's memory): it dies of its signal, and the parent's own crash
    afterwards still gets its dump. The child gets none (documented)."""
    without = H.run(["chain", "vfork"], lastgasp=False)
    with_lg = H.run(["chain", "vfork"]) if way == "preload" else linked_run(linked, "vfork")
    try:
        H.same_death(without, with_lg)
        m = re.search(r"chain: child signal 11; child pid (\d+), parent pid (\d+)", with_lg.stderr)
        assert m, with_lg.stderr
        assert len(with_lg.dumps) == 1, with_lg.stderr
        assert H.lastgasp_json(with_lg.dumps[0])["pid"] == int(m.group(2)), "the dump is not the parent's"
        assert len(with_lg.our_lines()) == 1
    finally:
        H.cleanup(without, with_lg)
