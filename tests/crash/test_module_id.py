"""Every module of a dump carries the identity the ecosystem uses (issue 11): the GNU build-id wherever the
file has one, in a PT_NOTE or only in the `.note.gnu.build-id` section (Go's internal linker), else Breakpad's
fallback (the first page of .text hashed). Checked the way a crash server checks it: the debug id that
Breakpad's minidump_stackwalk reads from the dump equals the one dump_syms writes for the file on disk. And
`collect --with-binaries` then takes the crashed Go binary, and says so when it cannot take one."""
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from pylib import readers as R

PROGS = Path(__file__).resolve().parent / "progs"
C_SRC = "#include <stdio.h>\nint *volatile p;\nint main(void) { puts(\"x\"); return *p; }\n"


def env_for(dumps):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD"))}
    e.update(LD_PRELOAD=str(R.LIB), LASTGASP_DIR=str(dumps), LASTGASP_QUIET="1")
    return e


def crash(prog, *args, dumps):
    dumps.mkdir(exist_ok=True)
    before = set(dumps.glob("*.dmp"))
    p = subprocess.run([str(prog), *args], env=env_for(dumps), capture_output=True, text=True, timeout=120)
    new = sorted(set(dumps.glob("*.dmp")) - before)
    assert p.returncode != 0 and len(new) == 1, (p.returncode, p.stderr[-2000:])
    return new[0]


def build_go(out, *, cgo, linkmode=None):
    """The test Go program: with cgo (import "C"), or with only package net using cgo."""
    work = out.parent / (out.name + "-src")
    work.mkdir()
    for f in ["go.mod", "goid_main.go"] + (["goid_cgo.go"] if cgo else []):
        shutil.copy(PROGS / f, work / f)
    argv = ["go", "build", "-o", str(out)]
    if cgo:
        argv += ["-tags", "withcgo"]
    if linkmode:
        argv += ["-ldflags=-linkmode=" + linkmode]
    e = dict(os.environ, CGO_ENABLED="1", GOFLAGS="-mod=mod")
    subprocess.run(argv + ["."], cwd=work, env=e, check=True, timeout=600, capture_output=True)
    return out


def dump_syms_id(path):
    out = subprocess.run([str(R.BREAKPAD / "dump_syms"), str(path)], capture_output=True, text=True,
                         timeout=300).stdout
    head = out.splitlines()[0].split()
    assert head[0] == "MODULE", out[:200]
    return head[3]


def stackwalk_ids(dump):
    """{module basename: debug id} as Breakpad reads them from the dump (machine-readable output)."""
    out = subprocess.run([str(R.BREAKPAD / "minidump_stackwalk"), "-m", str(dump)], capture_output=True,
                         text=True, timeout=120).stdout
    ids = {}
    for line in out.splitlines():
        f = line.split("|")
        if f[0] == "Module":
            ids[f[1]] = f[4]
    return ids


@pytest.fixture(scope="module")
def progs(tmp_path_factory):
    d = tmp_path_factory.mktemp("modid")
    out = {}
    for name, flags in (("c_buildid", ["-no-pie"]), ("c_pie", ["-pie"]),
                        ("c_noid", ["-no-pie", "-Wl,--build-id=none"]),
                        ("c_noid_pie", ["-pie", "-Wl,--build-id=none"])):
        src = d / "c.c"
        src.write_text(C_SRC)
        subprocess.run(["gcc", "-O2", "-g", *flags, "-o", str(d / name), str(src)], check=True, timeout=120)
        out[name] = d / name
    out["go_internal"] = build_go(d / "go_internal", cgo=False)
    out["cgo_external"] = build_go(d / "cgo_external", cgo=True)
    out["cgo_forced_internal"] = build_go(d / "cgo_forced_internal", cgo=True, linkmode="internal")
    return out


GO_KINDS = ("go_internal", "cgo_external", "cgo_forced_internal")


@pytest.mark.parametrize("kind", ("c_buildid", "c_pie", "c_noid", "c_noid_pie") + GO_KINDS)
def test_debug_id_equals_dump_syms(progs, tmp_path, kind):
    prog = progs[kind]
    dump = crash(prog, *(["nil"] if kind in GO_KINDS else []), dumps=tmp_path / "d")
    ids = stackwalk_ids(dump)
    assert ids.get(prog.name) == dump_syms_id(prog), ids
    # every module with a file on disk, libc and the loader included
    for m in json.loads(R.run_cli("json", dump))["modules"]:
        if m["path"].startswith("/") and os.path.exists(m["path"]):
            assert ids[os.path.basename(m["path"])] == dump_syms_id(m["path"]), m["path"]
    mod = json.loads(R.run_cli("json", dump))["modules"][0]
    assert mod["path"] == str(prog)
    if kind in ("c_noid", "c_noid_pie"):
        assert len(mod["build_id"]) == 32  # Breakpad's 16-byte fallback
    else:
        assert len(mod["build_id"]) == 40  # the GNU build-id, whole


def note_segments(path):
    """The sections inside each PT_NOTE segment of the file (readelf's section-to-segment mapping)."""
    out = subprocess.run(["readelf", "-lW", str(path)], capture_output=True, text=True).stdout.splitlines()
    types = [l.split()[0] for l in out[out.index("Program Headers:") + 2:] if l.startswith("  ") and l.split()
             and l.split()[0].isupper()]
    mapping = [l.split()[1:] for l in out[out.index(" Section to Segment mapping:") + 2:] if l.strip()]
    return [secs for t, secs in zip(types, mapping) if t == "NOTE"]


def test_go_internal_linker_writes_build_id_outside_pt_note(progs):
    """The premise of the Go cases: the file's build-id is only in a section (else the test proves little)."""
    for kind in ("go_internal", "cgo_forced_internal"):
        segs = note_segments(progs[kind])
        assert segs and not any(".note.gnu.build-id" in s for s in segs), segs
        assert "Build ID" in subprocess.run(["readelf", "-n", str(progs[kind])], capture_output=True,
                                            text=True).stdout
    assert any(".note.gnu.build-id" in s for s in note_segments(progs["cgo_external"]))


def collect(*args):
    return subprocess.run([str(R.CLI), "collect", *map(str, args)], capture_output=True, text=True, timeout=120)


def test_collect_takes_the_go_binary(progs, tmp_path):
    d = tmp_path / "d"
    crash(progs["go_internal"], "nil", dumps=d)
    bundle = tmp_path / "b.zip"
    p = collect(d, "-o", bundle, "--with-binaries")
    assert p.returncode == 0, p.stderr
    m = json.loads(zipfile.ZipFile(bundle).read("manifest.json"))
    paths = {b["path"] for b in m["binaries"]}
    assert str(progs["go_internal"]) in paths, m["missing_binaries"]
    assert m["missing_binaries"] == []


def test_collect_says_when_a_binary_is_missing(progs, tmp_path):
    """A binary it cannot include is exit 3 and a line on stderr, never a silent 0."""
    prog = tmp_path / "gone"
    shutil.copy2(progs["c_noid"], prog)
    d = tmp_path / "d"
    crash(prog, dumps=d)
    prog.unlink()
    bundle = tmp_path / "b.zip"
    p = collect(d, "-o", bundle, "--with-binaries")
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert f"binary {prog} " in p.stderr and "not included" in p.stderr
    assert "1 binary missing" in p.stdout
    m = json.loads(zipfile.ZipFile(bundle).read("manifest.json"))
    assert [x["path"] for x in m["missing_binaries"]] == [str(prog)]


def test_collect_takes_a_file_without_build_id(progs, tmp_path):
    """Breakpad's fallback id is an identity too: the file on disk is matched by it."""
    d = tmp_path / "d"
    crash(progs["c_noid_pie"], dumps=d)
    bundle = tmp_path / "b.zip"
    p = collect(d, "-o", bundle, "--with-binaries")
    assert p.returncode == 0, p.stderr
    m = json.loads(zipfile.ZipFile(bundle).read("manifest.json"))
    assert str(progs["c_noid_pie"]) in {b["path"] for b in m["binaries"]}
