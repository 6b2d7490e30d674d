"""test_foreign.py — `lastgasp show/json` on a dump written by another writer: Breakpad's own client.

tests/crash/foreign.c, linked with Breakpad's Linux client (built from the sources the npm minidump package
carries, tests/bench/breakpad_client.sh) and built with frame pointers, crashes in foreign_inner <-
foreign_middle <- foreign_outer <- main. Its dump has no lastgasp stream, so the tool's frames come from its own
walk of the dump's stack memory (formats/read/mdread_walk.c). They are compared with Breakpad's
minidump_stackwalk on the same dump:
  - without symbol files, Breakpad walks the frame-pointer chain, then scans: the same pcs, frame by frame;
  - with symbol files (dump_syms of the program and of libc), Breakpad unwinds by call frame info: the tool's
    first frames must be those exact frames (which Breakpad names foreign_inner ... main, then libc's caller of
    main), although the tool reads no CFI, because the program keeps frame pointers.
"""
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from pylib import foreign as F
from pylib import readers as R

PROG = F.PROG
STACKWALK = R.BREAKPAD / "minidump_stackwalk"

# Breakpad's "Found by" words and the trust the tool gives the same frame. Where Breakpad scans because the
# caller's frame pointer is not one (main's record holds libc's rbp, and libc has no frame pointers), the tool
# takes the return address from the record all the same: "fp". It never gives "scan" where Breakpad follows
# the chain.
TRUST = {
    "given as instruction pointer in context": {"context"},
    "previous frame's frame pointer": {"fp"},
    "stack scanning": {"scan", "fp"},
}


@pytest.fixture(scope="module")
def foreign_dump(tmp_path_factory):
    """The Breakpad dump of foreign.c's crash."""
    return F.breakpad_dump(tmp_path_factory.mktemp("foreign"))


def ours(dump):
    """The crashing thread's frames from `lastgasp json`, [(pc, trust, module)], and the whole JSON."""
    j = R.read_lastgasp(dump, debuginfo=False)["json"]
    crashed = [t for t in j["threads"] if t["crashed"]]
    assert len(crashed) == 1, j["threads"]
    return [(int(f["pc"], 16), f["trust"], f["module"]) for f in crashed[0]["frames"]], j


def breakpad(dump, symbols=None):
    """The crashed thread's frames as minidump_stackwalk prints them: [(rip, found_by, name)]."""
    args = [str(STACKWALK), str(dump)] + ([str(symbols)] if symbols else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=120).stdout
    frames, inside = [], False
    for line in out.splitlines():
        if line.startswith("Thread "):
            inside = "(crashed)" in line
            continue
        if not inside:
            continue
        head = line[:2].strip()  # "%2d  name"
        if head.isdigit() and line[2:4] == "  ":
            frames.append([None, None, line[4:].strip()])
        elif frames and "rip = 0x" in line:
            frames[-1][0] = int(line.split("rip = ")[1].split()[0], 16)
        elif frames and "Found by: " in line:
            frames[-1][1] = line.split("Found by: ")[1].strip()
        elif line.strip() == "" and frames:
            break
    return [tuple(f) for f in frames]


def test_without_symbols_same_frames_as_breakpad(foreign_dump):
    mine, _ = ours(foreign_dump)
    theirs = breakpad(foreign_dump)
    assert len(theirs) >= 5, theirs
    assert [pc for pc, _, _ in mine] == [rip for rip, _, _ in theirs], (
        "tool:\n" + "\n".join(f"  {pc:#x} {t}" for pc, t, _ in mine) +
        "\nminidump_stackwalk:\n" + "\n".join(f"  {rip:#x} {how}" for rip, how, _ in theirs))
    for (pc, trust, _), (rip, how, _) in zip(mine, theirs):
        assert trust in TRUST[how], f"{pc:#x}: tool says {trust}, Breakpad found it by {how}"


def test_with_symbols_same_frames_as_breakpad_cfi(foreign_dump):
    syms = Path(tempfile.mkdtemp(prefix="lastgasp-foreign-syms-"))
    _, j = ours(foreign_dump)
    for m in [str(PROG)] + [m["path"] for m in j["modules"] if m["path"] and "libc.so" in m["path"]]:
        out = subprocess.run([str(R.BREAKPAD / "dump_syms"), m], capture_output=True, text=True).stdout
        assert out.startswith("MODULE"), f"dump_syms {m}"
        head = out.splitlines()[0].split()
        (syms / head[4] / head[3]).mkdir(parents=True, exist_ok=True)
        (syms / head[4] / head[3] / (head[4] + ".sym")).write_text(out)
    theirs = breakpad(foreign_dump, syms)
    names = [name.split(" [")[0] for _, _, name in theirs[:5]]
    assert names[:4] == ["foreign_breakpad!foreign_inner", "foreign_breakpad!foreign_middle",
                         "foreign_breakpad!foreign_outer", "foreign_breakpad!main"], theirs
    assert names[4].startswith("libc.so.6!"), theirs
    assert [h for _, h, _ in theirs[1:5]] == ["call frame info"] * 4, theirs
    mine, _ = ours(foreign_dump)
    assert [pc for pc, _, _ in mine[:5]] == [rip for rip, _, _ in theirs[:5]], (mine[:5], theirs[:5])
    assert [t for _, t, _ in mine[:5]] == ["context", "fp", "fp", "fp", "fp"]
    assert [m for _, _, m in mine[:5]] == ["foreign_breakpad"] * 4 + ["libc.so.6"]


def test_show_prints_the_walk_and_registers(foreign_dump):
    out = R.run_cli("show", foreign_dump)
    assert "Thread " in out and " crashed:\n#0  0x" in out, out
    assert "#4  0x" in out and "(libc.so.6+0x" in out, out
    assert "(no frames" not in out.split("Modules:")[0], out
    for reg in ("rip", "rsp", "rbp", "eflags"):
        assert f" {reg} 0x" in out, out
