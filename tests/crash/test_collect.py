"""`lastgasp collect` and bundles, on real dumps: the crasher (and the cgo program) crash with lastgasp
preloaded, and the bundle made of their dumps is checked with Python's zipfile and hashlib, and against
`lastgasp json` of each dump.

The promises checked: the bundle holds exactly the complete dumps (never temporary files), each entry's
bytes and CRC are right, the manifest says what `json` says; files that are not dumps are skipped and
kept; --remove removes only what the bundle holds; a collect killed at any moment loses nothing; a
bundle with an entry name that escapes is refused; more than 65,535 entries make a zip64 bundle.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from pylib import readers as R

SCENARIOS = ["null_write", "abort", "divzero", "thread_null"]


@pytest.fixture(scope="module")
def real_dumps(tmp_path_factory):
    """Dumps of four crasher scenarios and one cgo (Go) program, in a directory of their own."""
    d = tmp_path_factory.mktemp("dumps")
    runs = [R.run_crasher(s) for s in SCENARIOS] + [R.run_crasher("-", binary="cgocrash", tripwire=False)]
    try:
        for run in runs:
            assert len(run.dumps) == 1, run.stderr
            shutil.copy2(run.dumps[0], d)
    finally:
        for run in runs:
            R.cleanup(run)
    return sorted(d.glob("*.dmp"))


def fresh(real_dumps, tmp_path, name="dumps"):
    d = tmp_path / name
    d.mkdir()
    for p in real_dumps:
        shutil.copy2(p, d)
    return d


def collect(*args, timeout=300):
    return subprocess.run([str(R.CLI), "collect", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def cli(*args):
    return subprocess.run([str(R.CLI), *map(str, args)], capture_output=True, text=True, timeout=120)


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def manifest(bundle):
    with zipfile.ZipFile(bundle) as z:
        return json.loads(z.read("manifest.json"))


def test_round_trip(real_dumps, tmp_path):
    d = fresh(real_dumps, tmp_path)
    (d / ".lastgasp-4242-0.tmp").write_bytes(real_dumps[0].read_bytes())  # a dump being written
    (d / "README.txt").write_text("not a dump")
    bundle = tmp_path / "out" / "b.zip"
    bundle.parent.mkdir()
    p = collect(d, "-o", bundle)
    assert p.returncode == 0, p.stderr
    assert "collected 5 dumps" in p.stdout
    assert sorted(os.listdir(bundle.parent)) == ["b.zip"], "temporary file left beside the bundle"
    assert (bundle.stat().st_mode & 0o777) == 0o600
    names = sorted(x.name for x in real_dumps)

    with zipfile.ZipFile(bundle) as z:
        assert z.testzip() is None  # every entry inflates and matches its CRC-32
        assert z.namelist() == names + ["manifest.json"]
        for n in names:
            assert z.read(n) == (d / n).read_bytes()
            assert (z.getinfo(n).external_attr >> 16) & 0o777 == 0o600
    m = manifest(bundle)
    assert m["format"] == "lastgasp-bundle" and m["version"] == 1 and m["skipped"] == []
    assert m["binaries"] is None and m["collected_on"] == os.uname().nodename
    assert [e["name"] for e in m["dumps"]] == names
    cgroup = Path("/proc/self/cgroup").read_text().splitlines()
    for e in m["dumps"]:
        src = d / e["name"]
        j = R.read_lastgasp(src)["json"]
        crashed = [t for t in j["threads"] if t["crashed"]][0]
        assert e["source"] == str(src.resolve())
        assert e["size"] == src.stat().st_size and e["sha256"] == sha(src)
        assert e["signal"] == j["signal"] and e["pid"] == j["pid"] and e["time"] == j["time"]
        # what the dump names, before `lastgasp json` adds what debug info found (inlined frames, names)
        raw = json.loads(subprocess.run([str(R.CLI), "json", str(src)], capture_output=True, text=True, timeout=60,
                                        env=dict(os.environ, LASTGASP_DEBUGINFO="off")).stdout)
        raw_crashed = [t for t in raw["threads"] if t["crashed"]][0]
        assert e["crashing_function"] == (raw_crashed["frames"][0]["function"] if raw_crashed["frames"] else None)
        assert e["process_name"] == j["process_name"] and e["process_name"] in ("crasher", "cgocrash")
        assert e["modules"] == [{"path": x["path"], "build_id": x["build_id"]} for x in j["modules"]]
        assert e["go_version"] == (j["go"]["version"] if j["go"] else None)
        assert e["container"] == j["container"]
        assert e["container"] == {"hostname": os.uname().nodename, "cgroup": cgroup}
        assert e["warnings"] == len(j["warnings"])
    by_process = {e["process_name"]: e for e in m["dumps"]}
    assert by_process["cgocrash"]["go_version"].startswith("go1.")
    assert by_process["crasher"]["go_version"] is None
    assert {e["crashing_function"] for e in m["dumps"]} >= {"crash_null_write", "crash_divzero"}

    # show and json of one entry say exactly what they say of the file itself.
    for n in names:
        for cmd in ("show", "json"):
            inside, outside = cli(cmd, f"{bundle}:{n}"), cli(cmd, d / n)
            assert inside.returncode == 0 and inside.stdout == outside.stdout, inside.stderr
    listing = cli("show", bundle)
    assert listing.returncode == 0
    assert f"Bundle {bundle}: 5 dumps, 0 binaries" in listing.stdout
    for e in m["dumps"]:
        assert e["name"] in listing.stdout
    assert "crash_null_write" in listing.stdout and "SIGFPE in crash_divzero" in listing.stdout
    whole = json.loads(cli("json", bundle).stdout)
    assert [x["name"] for x in whole["dumps"]] == names
    for x in whole["dumps"]:
        assert x["error"] is None and x["dump"] == R.read_lastgasp(d / x["name"])["json"]
    # Nothing was removed without --remove.
    assert sorted(p.name for p in d.glob("*.dmp")) == names


def test_files_that_are_not_dumps_are_skipped_and_kept(real_dumps, tmp_path):
    d = fresh(real_dumps, tmp_path)
    (d / "garbage.dmp").write_bytes(b"this is not a minidump at all")
    (d / "empty.dmp").write_bytes(b"")
    (d / "link.dmp").symlink_to(real_dumps[0])
    cut = d / "cut.dmp"  # a dump cut short (a full disk): still a dump, read with warnings
    cut.write_bytes(real_dumps[0].read_bytes()[:3000])
    bundle = tmp_path / "b.zip"
    p = collect(d, "-o", bundle, "--remove")
    assert p.returncode == 3, p.stderr  # partial
    for bad in ("garbage.dmp", "empty.dmp", "link.dmp"):
        assert f"skipped {d / bad}" in p.stderr
        assert os.path.lexists(d / bad), f"{bad} was removed"
    m = manifest(bundle)
    reasons = {Path(s["source"]).name: s["reason"] for s in m["skipped"]}
    assert set(reasons) == {"garbage.dmp", "empty.dmp", "link.dmp"}
    assert "not a minidump" in reasons["garbage.dmp"] and "symbolic link" in reasons["link.dmp"]
    assert sorted(e["name"] for e in m["dumps"]) == sorted([x.name for x in real_dumps] + ["cut.dmp"])
    cut_entry = [e for e in m["dumps"] if e["name"] == "cut.dmp"][0]
    assert cut_entry["warnings"] > 0 and cut_entry["signal"]["name"]
    with zipfile.ZipFile(bundle) as z:
        assert z.testzip() is None
    # --remove took what the bundle holds, and only that.
    assert sorted(os.listdir(d)) == ["empty.dmp", "garbage.dmp", "link.dmp"]


def test_remove(real_dumps, tmp_path):
    d = fresh(real_dumps, tmp_path)
    tmp = d / ".lastgasp-77-0.tmp"
    tmp.write_bytes(b"MDMP partial")
    bundle = tmp_path / "b.zip"
    p = collect(d, "-o", bundle, "--remove")
    assert p.returncode == 0 and "5 removed" in p.stdout, p.stderr
    assert os.listdir(d) == [tmp.name]  # a dump still being written is not a dump
    with zipfile.ZipFile(bundle) as z:
        for src in real_dumps:
            assert hashlib.sha256(z.read(src.name)).hexdigest() == sha(src)


def test_same_name_in_two_directories(real_dumps, tmp_path):
    a, b = fresh(real_dumps[:1], tmp_path, "a"), fresh(real_dumps[:1], tmp_path, "b")
    bundle = tmp_path / "b.zip"
    assert collect(a, b, "-o", bundle).returncode == 0
    stem = real_dumps[0].stem
    m = manifest(bundle)
    assert [e["name"] for e in m["dumps"]] == [f"{stem}.dmp", f"{stem}~2.dmp"]
    assert [Path(e["source"]).parent.name for e in m["dumps"]] == ["a", "b"]


def test_refusals_and_exit_statuses(real_dumps, tmp_path):
    d = fresh(real_dumps, tmp_path)
    bundle = tmp_path / "b.zip"
    bundle.write_text("an earlier bundle")
    p = collect(d, "-o", bundle)
    assert p.returncode == 1 and "already exists" in p.stderr
    assert bundle.read_text() == "an earlier bundle"
    empty = tmp_path / "empty"
    empty.mkdir()
    p = collect(empty, "-o", tmp_path / "x.zip")
    assert p.returncode == 4 and not (tmp_path / "x.zip").exists()
    assert collect(tmp_path / "missing", "-o", tmp_path / "x.zip").returncode == 1
    assert collect(d).returncode == 2 and collect("-o", tmp_path / "x.zip").returncode == 2
    assert collect(d, "-o", tmp_path / "x.zip", "--bogus").returncode == 2
    assert not list(tmp_path.glob(".x.zip*")) and not list(tmp_path.glob(".b.zip*"))


def test_with_binaries(real_dumps, tmp_path):
    """The modules go in once per build-id, only when the file on disk still has that build-id."""
    d = tmp_path / "dumps"
    d.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD"))}
    env.update(LD_PRELOAD=str(R.LIB), LASTGASP_DIR=str(d), LASTGASP_QUIET="1")
    # Two programs with build-ids of their own, crashed, then one replaced (a deploy) and one deleted.
    app, gone = tmp_path / "app", tmp_path / "gone"
    for prog, bid in ((app, "ab" * 20), (gone, "cd" * 20)):
        subprocess.run(["gcc", "-O2", "-o", str(prog), str(R.ROOT / "tests/crash/crasher.c"), "-lpthread", "-ldl",
                        f"-Wl,--build-id=0x{bid}"], check=True, timeout=120)
        subprocess.run([str(prog), "null_write"], env=env, capture_output=True, timeout=60)
    shutil.copy2("/bin/true", app)
    gone.unlink()
    for p in real_dumps:
        shutil.copy2(p, d)
    bundle = tmp_path / "b.zip"
    p = collect(d, "-o", bundle, "--with-binaries")
    assert p.returncode == 3, p.stderr  # two binaries could not go in: said, never a silent 0
    assert f"binary {app} ({'ab' * 20}) not included" in p.stderr and f"binary {gone} " in p.stderr
    m = manifest(bundle)
    wanted = {}
    for e in m["dumps"]:
        for mod in e["modules"]:
            if mod["path"].startswith("/") and mod["build_id"]:
                wanted.setdefault(mod["build_id"], set()).add(mod["path"])
    bins = {b["build_id"]: b for b in m["binaries"]}
    missing = {x["path"]: x for x in m["missing_binaries"]}
    assert missing[str(app)]["build_id"] == "ab" * 20 and "another build-id" in missing[str(app)]["reason"]
    assert missing[str(gone)]["build_id"] == "cd" * 20 and "No such file" in missing[str(gone)]["reason"]
    assert set(bins) | {"ab" * 20, "cd" * 20} == set(wanted)
    assert len(m["binaries"]) == len(bins)  # once per build-id
    crasher_id = [b for b in bins.values() if b["path"] == str(R.TESTS / "crasher")]
    assert crasher_id, "the crasher binary is missing from the bundle"
    with zipfile.ZipFile(bundle) as z:
        assert z.testzip() is None
        for b in bins.values():
            assert b["name"] == f"binaries/{b['build_id']}/{os.path.basename(b['path'])}"
            data = z.read(b["name"])
            assert hashlib.sha256(data).hexdigest() == b["sha256"] == sha(b["path"])
            assert len(data) == b["size"]
    listing = cli("show", bundle).stdout
    assert f"{len(bins)} binaries" in listing


def write_zip(path, names):
    with zipfile.ZipFile(path, "w") as z:
        for n in names:
            z.writestr(zipfile.ZipInfo(n), b"MDMP" + bytes(28))


@pytest.mark.parametrize("evil", ["../escape.dmp", "dumps/../../escape.dmp", "/etc/escape.dmp",
                                  "..\\escape.dmp", "C:\\escape.dmp"])
def test_entry_names_that_escape_are_refused(real_dumps, tmp_path, evil):
    bundle = tmp_path / "evil.zip"
    write_zip(bundle, ["fine.dmp", evil])
    assert zipfile.ZipFile(bundle).namelist()[1] == evil  # written as crafted
    for args in (["show", bundle], ["json", bundle], ["show", f"{bundle}:fine.dmp"], ["json", f"{bundle}:{evil}"]):
        p = cli(*args)
        assert p.returncode == 1 and p.stdout == "", p.stdout
        assert "refusing the bundle" in p.stderr and "would escape" in p.stderr, p.stderr


def test_harmless_names_with_dots_are_not_refused(tmp_path):
    bundle = tmp_path / "ok.zip"
    write_zip(bundle, ["a..b.dmp", "dir/.hidden.dmp", "x/..y/z.dmp"])
    p = cli("json", bundle)
    assert p.returncode == 0, p.stderr
    assert [x["name"] for x in json.loads(p.stdout)["dumps"]] == ["a..b.dmp", "dir/.hidden.dmp", "x/..y/z.dmp"]


def test_damaged_entry_is_reported(real_dumps, tmp_path):
    d = fresh(real_dumps[:1], tmp_path)
    bundle = tmp_path / "b.zip"
    assert collect(d, "-o", bundle).returncode == 0
    data = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as z:
        info = z.getinfo(real_dumps[0].name)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0x55  # flip bits in the middle of the deflated bytes
    bundle.write_bytes(bytes(data))
    p = cli("show", f"{bundle}:{real_dumps[0].name}")
    assert p.returncode == 1 and "damaged" in p.stderr, p.stderr


def many_copies(real_dumps, d, n):
    """n dumps: copies of the real ones under distinct names (hard links, so n costs no disk)."""
    d.mkdir()
    names = []
    for i in range(n):
        name = f"c{i:05d}-{real_dumps[i % len(real_dumps)].name}"
        os.link(real_dumps[i % len(real_dumps)], d / name)
        names.append(name)
    return names


def test_kill_9_at_any_moment_loses_nothing(real_dumps, tmp_path):
    """Kill collect --remove with SIGKILL at times spread over a whole run: whatever the moment, every
    dump is either still in the directory or in a complete bundle, and a bundle never exists half-written."""
    src = tmp_path / "src"
    names = many_copies(real_dumps, src, 1500)
    digests = [sha(p) for p in real_dumps]
    expected = {n: digests[i % len(real_dumps)] for i, n in enumerate(names)}

    def content_ok(name, data):
        return hashlib.sha256(data).hexdigest() == expected[name]

    # How long one run takes here, to spread the kills over it.
    t0 = time.monotonic()
    assert collect(src, "-o", tmp_path / "timing.zip").returncode == 0
    whole = time.monotonic() - t0
    outcomes = set()
    # Fractions of a run (writing, checking), then "as soon as the bundle is in place" (removing).
    for k, frac in enumerate((0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, None)):
        d = tmp_path / f"run{k}"
        shutil.copytree(src, d, copy_function=os.link)
        bundle = tmp_path / f"b{k}.zip"
        proc = subprocess.Popen([str(R.CLI), "collect", str(d), "-o", str(bundle), "--remove"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if frac is not None:
            time.sleep(whole * frac)
        else:
            deadline = time.monotonic() + 10 * whole + 10
            while not bundle.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.0005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        left = set(os.listdir(d))
        assert left <= set(names)
        if bundle.exists():
            with zipfile.ZipFile(bundle) as z:
                assert z.testzip() is None
                held = [n for n in z.namelist() if n.endswith(".dmp")]
                assert set(held) == set(names), "a bundle in place holds every dump"
                assert all(content_ok(n, z.read(n)) for n in held[:50])
            outcomes.add("bundle" if left else "bundle, all removed")
        else:
            assert left == set(names), f"{len(set(names) - left)} dumps removed without a bundle"
            outcomes.add("no bundle")
        for n in list(left)[:50]:
            assert content_ok(n, (d / n).read_bytes())
        # A temporary file may stay behind (SIGKILL cannot be caught); it is hidden and never a bundle.
        assert all(x.startswith(f".b{k}.zip.lastgasp-collect-") for x in os.listdir(tmp_path)
                   if x.startswith(f".b{k}"))
    # Some kills landed before the bundle was in place, one after.
    assert "no bundle" in outcomes and outcomes & {"bundle", "bundle, all removed"}, outcomes


def test_sigterm_removes_the_temporary_file(real_dumps, tmp_path):
    src = tmp_path / "src"
    many_copies(real_dumps, src, 1500)
    bundle = tmp_path / "b.zip"
    proc = subprocess.Popen([str(R.CLI), "collect", str(src), "-o", str(bundle)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".b.zip.lastgasp-collect-*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait() == -signal.SIGTERM
    assert not bundle.exists() and not list(tmp_path.glob(".b.zip*"))
    assert len(list(src.glob("*.dmp"))) == 1500


def test_zip64_with_more_than_65535_entries(tmp_path):
    """66,000 dumps make a zip64 bundle: the entry count no longer fits the end record's 16 bits. The
    dumps are valid but empty minidumps (a header and no streams; hard links to two files, since ext4
    allows 65,000 links to one), so the test costs seconds; what is checked is the zip64 structure,
    read back by Python's zipfile and by lastgasp itself (minizip). Entries over 4 GiB (zip64 sizes)
    would take minutes and gigabytes to test; minidumps cannot be that large anyway."""
    d = tmp_path / "d"
    d.mkdir()
    header = b"MDMP" + (0xA793).to_bytes(4, "little") + (0).to_bytes(4, "little") + (32).to_bytes(4, "little")
    header += bytes(16)
    n = 66000
    for k in range(2):
        (tmp_path / f"empty{k}").write_bytes(header)
    for i in range(n):
        os.link(tmp_path / f"empty{i % 2}", d / f"e{i:05d}.dmp")
    bundle = tmp_path / "b.zip"
    p = collect(d, "-o", bundle)
    assert p.returncode == 0, p.stderr
    data = bundle.read_bytes()
    eocd = data.rfind(b"PK\x05\x06")
    assert data[eocd - 20:eocd - 16] == b"PK\x06\x07", "no zip64 end of central directory locator"
    rec = int.from_bytes(data[eocd - 12:eocd - 4], "little")
    assert data[rec:rec + 4] == b"PK\x06\x06"
    assert int.from_bytes(data[rec + 32:rec + 40], "little") == n + 1  # entries, manifest included
    with zipfile.ZipFile(bundle) as z:
        infos = z.infolist()
        assert len(infos) == n + 1 and z.testzip() is None
        assert json.loads(z.read("manifest.json"))["dumps"][-1]["name"] == f"e{n - 1:05d}.dmp"
    p = cli("json", f"{bundle}:e{n - 1:05d}.dmp")
    assert p.returncode == 0 and json.loads(p.stdout)["signal"] is None
