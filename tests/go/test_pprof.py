"""lastgasp pprof: the goroutines of real Go dumps, read back by `go tool pprof` and compared with `lastgasp json`.

Corpus programs (tests/go/corpus) are built with cgo (default, stripped, PIE), run with lastgasp preloaded
(a panic exits 2 and leaves a dump), and their dump turned into a profile. `go tool pprof -raw` of the profile
must show what `lastgasp json` shows of the same dump: one sample per goroutine, each with the goroutine's
function/file/line sequence, one Location per physical frame (inlined frames as several Lines of one
Location), and the labels goroutine, status, wait_reason, crashed, created_by. `-traces` and `-top` must read
it as they read a live goroutine profile (tests/go/pprof_live writes one): the same sample and period types.
Edge cases: a dump without a Go stream, a Go stream without goroutines, a truncated dump, stdin, a bundle
entry, a terminal.
"""
import gzip
import json
import os
import pty
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIB = ROOT / "build/liblastgasp.so"
CLI = ROOT / "build/lastgasp"
CRASHER = ROOT / "build/tests/crasher"

MODES = {"default": [], "stripped": ["-ldflags=-s -w"], "pie": ["-buildmode=pie"]}
# panicstring: goroutines created by main; parked1000: 1000 parked goroutines in five wait reasons, three
# locked to their thread; indexinline: an inlined frame; cgofault: C frames (no file) of a cgo call;
# stackoverflow: a stack with elided frames.
PROGRAMS = ["panicstring", "parked1000", "indexinline", "cgofault", "stackoverflow"]
CASES = [(m, p) for m in ("default", "stripped") for p in PROGRAMS] + [("pie", "parked1000"), ("pie", "indexinline")]

WORK = Path(tempfile.mkdtemp(prefix="lastgasp-pprof-"))
_built, _dumps = {}, {}


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    shutil.rmtree(WORK, ignore_errors=True)


def build(mode, prog):
    out = WORK / f"bin-{mode}" / prog
    if not out.exists():
        subprocess.run(["go", "build", *MODES[mode], "-o", str(out), "./" + prog], cwd=HERE / "corpus",
                       env=dict(os.environ, CGO_ENABLED="1"), check=True, capture_output=True, timeout=600)
    return out


def crash(mode, prog):
    """The one dump of prog's crash (built in mode), shared by the tests below."""
    key = (mode, prog)
    if key not in _dumps:
        d = WORK / f"dumps-{mode}-{prog}"
        d.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
        env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(d))
        p = subprocess.run([str(build(mode, prog))], cwd=d, env=env, capture_output=True, text=True, timeout=120)
        dumps = list(d.glob("*.dmp"))
        assert len(dumps) == 1, f"{prog}: exit {p.returncode}, {len(dumps)} dumps\n{p.stderr[-2000:]}"
        _dumps[key] = dumps[0]
    return _dumps[key]


def lg_json(dump):
    # The profile holds the frames as the dump names them: compare with json without its DWARF lookups.
    p = subprocess.run([str(CLI), "json", str(dump)], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, LASTGASP_DEBUGINFO="off"))
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def lg_pprof(dump, out):
    p = subprocess.run([str(CLI), "pprof", str(dump), "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert out.exists() and not list(out.parent.glob(out.name + ".tmp*"))
    return p


def go_pprof(*args):
    p = subprocess.run(["go", "tool", "pprof", *map(str, args)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


LOC = re.compile(r"^\s*(\d+): (0x[0-9a-f]+) (?:M=(\d+) )?(?:\[F\] )?(.*)$")
LINE = re.compile(r"^(\S+) (.*):(-?\d+):(-?\d+) s=(\d+)$")
LABEL = re.compile(r"(\S+?):\[(.*?)\]")


def parse_raw(text):
    """`go tool pprof -raw` (profile.String()): header lines, samples, locations, mappings."""
    lines = text.splitlines()
    header, samples, locs, maps = [], [], {}, []
    i = 0
    while lines[i] != "Samples:":
        header.append(lines[i])
        i += 1
    sample_types = lines[i + 1]
    i += 2
    while lines[i] != "Locations":
        m = re.match(r"^\s+(\d+): ?([\d ]*)$", lines[i])
        assert m, f"not a sample line: {lines[i]!r}"
        s = {"value": int(m.group(1)), "locs": [int(x) for x in m.group(2).split()], "labels": {}}
        i += 1
        while lines[i].startswith("                ") and not LOC.match(lines[i]):
            for k, v in LABEL.findall(lines[i]):
                s["labels"][k] = v
            i += 1
        samples.append(s)
    i += 1
    cur = None
    while lines[i] != "Mappings":
        m = LOC.match(lines[i])
        if m and not lines[i].startswith("             " + " "):
            cur = {"addr": int(m.group(2), 16), "mapping": int(m.group(3) or 0), "lines": []}
            locs[int(m.group(1))] = cur
            rest = m.group(4)
        else:
            rest = lines[i].strip()
        if rest:
            lm = LINE.match(rest)
            assert lm, f"not a line: {rest!r}"
            cur["lines"].append((lm.group(1), lm.group(2), int(lm.group(3))))
        i += 1
    maps = lines[i + 1:]
    return {"header": header, "sample_types": sample_types, "samples": samples, "locations": locs, "mappings": maps}


def expected_lines(g):
    """What pprof should show of a json goroutine: its named frames as (function, file, line)."""
    return [(f["function"], f["file"] or "", f["line"] or 0) for f in g["frames"] if f["function"]]


@pytest.mark.parametrize("mode,prog", CASES)
def test_profile_matches_json(mode, prog, tmp_path):
    dump = crash(mode, prog)
    j = lg_json(dump)
    go = j["go"]
    assert go and go["goroutines"], f"no goroutines in the dump; notes: {j.get('notes')}"
    out = tmp_path / "g.pb.gz"
    lg_pprof(dump, out)
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    raw = parse_raw(go_pprof("-raw", "-symbolize=none", out))
    assert raw["sample_types"] == "goroutine/count"
    assert "PeriodType: goroutine count" in raw["header"] and "Period: 1" in raw["header"]

    # One sample per goroutine, value 1, found by its goroutine label.
    assert len(raw["samples"]) == len(go["goroutines"])
    by_id = {}
    for s in raw["samples"]:
        assert s["value"] == 1
        gid = int(s["labels"]["goroutine"])
        assert gid not in by_id, f"goroutine {gid} twice"
        by_id[gid] = s
    assert set(by_id) == {g["id"] for g in go["goroutines"]}

    inlined_seen = 0
    for g in go["goroutines"]:
        s = by_id[g["id"]]
        got = [ln for lid in s["locs"] for ln in raw["locations"][lid]["lines"]]
        assert got == expected_lines(g), f"goroutine {g['id']}:\n pprof {got}\n json  {expected_lines(g)}"
        # One Location per physical frame: the inlined frames ride in their caller's Location.
        assert len(s["locs"]) == sum(1 for f in g["frames"] if not f["inlined"]), f"goroutine {g['id']}"
        inlined_seen += sum(1 for lid in s["locs"] if len(raw["locations"][lid]["lines"]) > 1)
        lab = s["labels"]
        assert lab["status"] == g["status"]
        if g["status"] == "waiting" and g["wait_reason"]:
            assert lab["wait_reason"] == g["wait_reason"]
        else:
            assert "wait_reason" not in lab
        assert ("crashed" in lab) == g["crashed"]
        assert lab.get("locked_to_thread") == ("true" if g["locked_to_thread"] else None)
        want_creator = g["created_by"]["function"] if g["created_by"] else None
        assert lab.get("created_by") == want_creator
        assert (lab.get("stack") == "truncated") == bool(g["elided_frames"]) or g["elided_frames"] is None
    if prog == "indexinline":
        assert inlined_seen, "no Location with inlined Lines"
        crashed = next(g for g in go["goroutines"] if g["crashed"])
        s = by_id[crashed["id"]]
        pick = [raw["locations"][lid]["lines"] for lid in s["locs"]
                if any(ln[0] == "main.pick" for ln in raw["locations"][lid]["lines"])]
        assert pick and [ln[0] for ln in pick[0]] == ["main.pick", "main.main"], pick
    if prog == "stackoverflow":
        assert any(g["elided_frames"] for g in go["goroutines"]), "expected a stack with elided frames"
        assert any(s["labels"].get("stack") == "truncated" for s in raw["samples"])
    if prog == "cgofault":
        native = [f for g in go["goroutines"] for f in g["frames"] if f["native"]]
        assert native, "no C frame in the dump"
        names = {ln[0] for loc in raw["locations"].values() for ln in loc["lines"]}
        assert {f["function"] for f in native if f["function"]} <= names
        if mode == "default":
            assert all(f["function"] for f in native), native
        else:  # stripped: C functions have no names; their Locations are addresses, nothing invented
            unnamed = {int(f["pc"], 16) for f in native if not f["function"]}
            assert unnamed, native
            bare = {loc["addr"] for loc in raw["locations"].values() if not loc["lines"]}
            assert all(pc in bare or pc - 1 in bare for pc in unnamed), (unnamed, bare)
    if prog == "parked1000":
        reasons = {s["labels"].get("wait_reason") for s in raw["samples"]}
        assert {"chan receive", "select", "sync.Mutex.Lock", "sleep", "IO wait"} <= reasons, reasons
        assert sum(1 for s in raw["samples"] if s["labels"].get("locked_to_thread")) >= 3

    # Mappings: the dump's modules, the executable first, with their build-ids.
    first = raw["mappings"][0]
    assert j["modules"][0]["path"] in first
    if j["modules"][0]["build_id"]:
        assert j["modules"][0]["build_id"] in first
    assert len(raw["mappings"]) == len(j["modules"])


@pytest.mark.parametrize("mode,prog", [("default", "parked1000"), ("stripped", "panicstring")])
def test_traces_and_top_as_users_run_them(mode, prog, tmp_path):
    """The default commands (local symbolization on): every goroutine a trace with its labels, -top counting
    goroutines; the output equals -symbolize=none's, so pprof took the profile's symbols as they are."""
    dump = crash(mode, prog)
    go = lg_json(dump)["go"]
    out = tmp_path / "g.pb.gz"
    lg_pprof(dump, out)
    traces = go_pprof("-traces", out)
    assert traces == go_pprof("-traces", "-symbolize=none", out)
    assert "Type: goroutine" in traces
    n = len(go["goroutines"])
    assert traces.count("-----------+") == n + 1  # one before each trace, one after the last
    assert len(re.findall(r"^\s+goroutine:\s+\d+$", traces, re.M)) == n
    assert len(re.findall(r"^\s+status:\s+\S+", traces, re.M)) == n
    assert re.search(r"^\s+crashed:\s+true$", traces, re.M)
    top = go_pprof("-top", out)
    assert re.search(rf"of {n} total", top), top[:600]
    # The crashing goroutine's program frame is named in both.
    crashed = next(g for g in go["goroutines"] if g["crashed"])
    user = next(f["function"] for f in crashed["frames"] if f["function"] and f["function"].startswith("main."))
    assert user in traces and user in top
    # Label filters work as on a live profile: one goroutine by its id.
    one = go_pprof(f"-tagfocus=goroutine={crashed['id']}", "-traces", out)
    assert one.count("-----------+") == 2 and user in one
    # Comments carry the panic message and the Go version.
    comments = go_pprof("-comments", out)
    assert go["version"] in comments
    assert go["reason"].splitlines()[0] in comments


def test_web_ui(tmp_path):
    """`go tool pprof -http`: the top and flame graph pages of the profile name the goroutines' functions and
    count every goroutine (the graph page needs Graphviz, which the web UI does without)."""
    dump = crash("default", "parked1000")
    go = lg_json(dump)["go"]
    out = tmp_path / "g.pb.gz"
    lg_pprof(dump, out)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ui = subprocess.Popen(["go", "tool", "pprof", f"-http=127.0.0.1:{port}", "-no_browser", str(out)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        top = None
        for _ in range(300):  # a hang detector, not a budget
            try:
                top = urllib.request.urlopen(f"http://127.0.0.1:{port}/ui/top", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert top, "the web UI did not answer"
        assert f"of {len(go['goroutines'])} total" in top
        assert "runtime.gopark" in top and "main.main" in top
        flame = urllib.request.urlopen(f"http://127.0.0.1:{port}/ui/flamegraph", timeout=30).read().decode()
        assert all(f"main.{fn}" in flame for fn in ("receive", "choose", "lockMutex", "nap", "read"))
    finally:
        ui.terminate()
        ui.wait(timeout=30)


def test_same_types_as_a_live_goroutine_profile(tmp_path):
    """Go's own /debug/pprof/goroutine profile of a live process and ours: the same sample type, period type
    and period, so every pprof view treats ours as a goroutine profile."""
    live_bin = tmp_path / "pprof_live"
    subprocess.run(["go", "build", "-o", str(live_bin), "."], cwd=HERE / "pprof_live", check=True,
                   capture_output=True, timeout=600, env=dict(os.environ, CGO_ENABLED="0"))
    live = tmp_path / "live.pb.gz"
    subprocess.run([str(live_bin), str(live)], check=True, timeout=60)
    ours = tmp_path / "ours.pb.gz"
    lg_pprof(crash("default", "panicstring"), ours)
    a, b = parse_raw(go_pprof("-raw", live)), parse_raw(go_pprof("-raw", "-symbolize=none", ours))
    assert a["sample_types"] == b["sample_types"] == "goroutine/count"
    pick = lambda r: [h for h in r["header"] if h.startswith(("PeriodType:", "Period:"))]
    assert pick(a) == pick(b) == ["PeriodType: goroutine count", "Period: 1"]
    assert gzip.decompress(live.read_bytes()) and gzip.decompress(ours.read_bytes())


def test_stdin_and_determinism(tmp_path):
    dump = crash("default", "panicstring")
    out = tmp_path / "a.pb.gz"
    lg_pprof(dump, out)
    with open(dump, "rb") as f:
        p = subprocess.run([str(CLI), "pprof", "-"], stdin=f, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == out.read_bytes(), "stdin and -o differ, or the output is not deterministic"


def test_bundle_entry(tmp_path):
    """BUNDLE.zip:NAME.dmp, as show and json take it: the same profile as from the dump itself."""
    dump = crash("default", "panicstring")
    direct = tmp_path / "a.pb.gz"
    lg_pprof(dump, direct)
    bundle = tmp_path / "b.zip"
    p = subprocess.run([str(CLI), "collect", str(dump.parent), "-o", str(bundle)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    via = tmp_path / "b.pb.gz"
    lg_pprof(f"{bundle}:{dump.name}", via)
    assert via.read_bytes() == direct.read_bytes()
    p = subprocess.run([str(CLI), "pprof", str(bundle), "-o", str(tmp_path / "x")], capture_output=True, text=True)
    assert p.returncode == 1 and f"{bundle}:NAME.dmp" in p.stderr, p.stderr


def test_not_to_a_terminal(tmp_path):
    dump = crash("default", "panicstring")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(str(CLI), [str(CLI), "pprof", str(dump)])
    got = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 2
    assert b"-o FILE" in got and b"\x1f\x8b" not in got, got[:300]


def test_dump_without_go_stream(tmp_path):
    d = tmp_path / "dumps"
    d.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD"))}
    env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(d))
    subprocess.run([str(CRASHER), "null_write"], env=env, capture_output=True, timeout=60)
    dumps = list(d.glob("*.dmp"))
    assert len(dumps) == 1
    out = tmp_path / "c.pb.gz"
    p = subprocess.run([str(CLI), "pprof", str(dumps[0]), "-o", str(out)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1
    assert "no lastgasp Go stream" in p.stderr and "not a Go program" in p.stderr, p.stderr
    assert not out.exists() and not list(tmp_path.glob("c.pb.gz.tmp*"))


def test_not_a_dump_and_bad_output(tmp_path):
    junk = tmp_path / "junk.dmp"
    junk.write_text("hello\n")
    p = subprocess.run([str(CLI), "pprof", str(junk), "-o", str(tmp_path / "x")], capture_output=True, text=True)
    assert p.returncode == 1 and "minidump" in p.stderr, p.stderr
    p = subprocess.run([str(CLI), "pprof", str(crash("default", "panicstring")), "-o",
                        str(tmp_path / "no/such/dir/x.pb.gz")], capture_output=True, text=True)
    assert p.returncode == 1 and "cannot create" in p.stderr, p.stderr
    p = subprocess.run([str(CLI), "pprof"], capture_output=True, text=True)
    assert p.returncode == 2 and "lastgasp pprof: missing argument DUMP" in p.stderr, p.stderr  # issue 13


def go_stream(data):
    """(offset, size) of the lastgasp Go stream (0x476F0002) in a minidump."""
    count, rva = struct.unpack_from("<II", data, 8)
    for k in range(count):
        t, size, off = struct.unpack_from("<III", data, rva + 12 * k)
        if t == 0x476F0002:
            return off, size
    raise AssertionError("no Go stream")


def test_go_stream_without_goroutines(tmp_path):
    """A real dump whose Go stream says 0 goroutines: a valid profile without samples, and a note."""
    data = bytearray(crash("default", "panicstring").read_bytes())
    off, _ = go_stream(data)
    struct.pack_into("<I", data, off + 32, 0)  # lg_go_header.goroutine_count
    dump = tmp_path / "empty.dmp"
    dump.write_bytes(bytes(data))
    out = tmp_path / "e.pb.gz"
    p = lg_pprof(dump, out)
    assert "no goroutines" in p.stderr
    raw = parse_raw(go_pprof("-raw", "-symbolize=none", out))
    assert raw["samples"] == [] and raw["sample_types"] == "goroutine/count"


def test_truncated_dumps(tmp_path):
    """A dump cut anywhere: never a crash; either an error (exit 1) or a profile that pprof reads."""
    data = crash("default", "parked1000").read_bytes()
    off, size = go_stream(data)
    for cut in (off + 40, off + 200, off + size // 2, off + size - 3, len(data) // 2):
        dump = tmp_path / f"cut{cut}.dmp"
        dump.write_bytes(data[:cut])
        out = tmp_path / f"cut{cut}.pb.gz"
        p = subprocess.run([str(CLI), "pprof", str(dump), "-o", str(out)], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode in (0, 1), p.stderr
        if p.returncode == 0:
            parse_raw(go_pprof("-raw", "-symbolize=none", out))
        else:
            assert "no lastgasp Go stream" in p.stderr or "no goroutines" in p.stderr, p.stderr
