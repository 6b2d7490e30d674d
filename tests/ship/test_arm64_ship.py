"""`lastgasp upload` and `lastgasp watch` from the arm64 tool (build/arm64/lastgasp, `make ARCH=arm64`, under
qemu-user: tests/pylib/arm64.py), as tests/crash/test_arm64_tool.py checks its other commands:

  - against our own collector (crashserver.py): each upload the arm64 tool makes arrives intact (the dump's bytes,
    the fields, the endpoint, the encoding) and is the request the amd64 tool makes for the same command, but for
    what differs between any two uploads (the multipart boundary, and with it the lengths; an event's id, and the
    envelope's sent_at, the time of the upload to the second); the same words and exit status on stdout and
    stderr, for a refusing or a dead server too;
  - against a real server (Bugsink on loopback): an arm64 dump sent by the arm64 tool becomes an event with the
    crash reason and the pc that lastgasp recorded;
  - watch runs under qemu-user (inotify, timers, SIGTERM are qemu's to emulate, and do): dumps dropped into its
    directory are uploaded and bundled once each, intact, and SIGTERM stops it with exit 0, as the amd64 tool
    does in the same run.
"""
import json
import re
import shutil
import signal
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest

from bugsink import free_port
from crashserver import CrashServer
from pylib import arm64 as A
from pylib import readers as R


@pytest.fixture(scope="module")
def arm64_dump(tmp_path_factory):
    """A dump of the arm64 crasher (null_write, under qemu), beside the arm64 tool that will send it."""
    for args in (["all", "test-bins"], ["ARCH=arm64", "all", "arm64-test-bins"]):
        p = subprocess.run(["make", "-s", *args], cwd=R.ROOT, capture_output=True, text=True, timeout=1800)
        assert p.returncode == 0, p.stdout + p.stderr
    run = R.run_crasher("null_write", tests=A.TESTS, lib=A.LIB, wrap=A.wrap, timeout=120)
    try:
        assert len(run.dumps) == 1, run.stderr
        return Path(shutil.copy2(run.dumps[0], tmp_path_factory.mktemp("arm64-ship")))
    finally:
        R.cleanup(run)


def upload(tool, *args):
    argv = A.tool_argv("upload", *args) if tool == "arm64" else [str(R.CLI), "upload", *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def wire(rec):
    """What a request says, without what differs between any two uploads of one tool."""
    headers = {k: v for k, v in rec["headers"].items() if k not in ("Host", "Content-Length", "Content-Type")}
    ctype = re.sub(r"boundary=\S+", "boundary=B", rec["headers"]["Content-Type"])
    out = {"path": rec["path"], "query": rec["query"], "headers": headers, "content_type": ctype,
           "fields": rec["fields"], "files": rec["files"]}
    if "envelope" in rec:
        env = rec["envelope"]
        out["envelope"] = ({k: v for k, v in env["headers"].items() if k not in ("event_id", "sent_at")},
                           [(h, json.loads(body) if h.get("type") == "event" else body) for h, body in env["items"]])
        for _, body in out["envelope"][1]:
            if isinstance(body, dict):
                body.pop("event_id", None)
    return out


def test_upload_arrives_intact_and_as_amd64_sends_it(arm64_dump, ship_dumps):
    """The arm64 dump and the amd64 C and Go dumps, to a plain URL, a DSN's minidump endpoint (gzip) and a DSN
    (where a Go dump goes as an event); each tool sends to a server of its own, so that the servers' answers (the
    ids) are the same too."""
    go, c = ship_dumps["go"], ship_dumps["null_write"]
    by_name = {d.name: d for d in (arm64_dump, go, c)}

    def commands(s):
        dsn = f"http://k3y@127.0.0.1:{s.port}/prefix/42"
        return [(f"{s.url}/submit", arm64_dump), ("--as", "minidump", dsn, arm64_dump, go),
                ("--field", "build=7", f"{s.url}/submit", c), (dsn, go)]

    def port(text, s):
        return text.replace(str(s.port), "PORT")

    with CrashServer() as sa, CrashServer() as sb:
        for args_a, args_b in zip(commands(sa), commands(sb)):
            pa, pb = upload("amd64", *args_a), upload("arm64", *args_b)
            ok = re.search(r": uploaded (as an event )?\(HTTP 200, id ", pa.stdout)
            assert pa.returncode == 0 and ok, pa.stdout + pa.stderr
            assert (pb.returncode, port(pb.stdout, sb), port(pb.stderr, sb)) == \
                (pa.returncode, port(pa.stdout, sa), port(pa.stderr, sa)), args_b
        assert len(sa.requests) == len(sb.requests) == 5
        for x, y in zip(sa.requests, sb.requests):
            assert wire(y) == wire(x), (y["path"], y["fields"])
        # Intact: the minidump uploads carry the dump's bytes.
        sent = [f for r in sb.requests for f in r["files"].values()]
        assert len(sent) == 4 and all(data == by_name[name].read_bytes() for name, _, data in sent)
        assert sum(name == arm64_dump.name for name, _, _ in sent) == 2
        # The Go dump to a DSN: an event, with the minidump attached.
        [event] = [r for r in sb.requests if "envelope" in r]
        attached = [body for h, body in event["envelope"]["items"] if h.get("type") == "attachment"]
        assert go.read_bytes() in attached, [h for h, _ in event["envelope"]["items"]]


def test_upload_failures_say_the_same(arm64_dump):
    """A server that refuses, one that is down: the same words and exit status."""
    with CrashServer() as s:
        s.script = [(400, {}, "bad"), (400, {}, "bad")]
        pa, pb = (upload(t, "--tries", "1", f"{s.url}/submit", arm64_dump) for t in ("amd64", "arm64"))
        assert (pb.returncode, pb.stdout, pb.stderr) == (pa.returncode, pa.stdout, pa.stderr)
        assert pa.returncode != 0 and "400" in pa.stdout + pa.stderr, pa
    port = free_port()
    pa, pb = (upload(t, "--tries", "1", f"http://127.0.0.1:{port}/submit", arm64_dump) for t in ("amd64", "arm64"))
    assert (pb.returncode, pb.stdout, pb.stderr) == (pa.returncode, pa.stdout, pa.stderr)
    assert pa.returncode != 0 and pa.stderr, pa


def test_bugsink_shows_the_arm64_tools_arm64_upload(bugsink, arm64_dump):
    j = R.read_lastgasp(arm64_dump)["json"]
    pc = int([t for t in j["threads"] if t["crashed"]][0]["frames"][0]["pc"], 16)
    p = upload("arm64", bugsink.dsn("arm64"), arm64_dump)
    assert p.returncode == 0, p.stdout + p.stderr
    m = re.fullmatch(rf"{re.escape(str(arm64_dump))}: uploaded \(HTTP 200, id ([0-9a-f]{{32}})\)\n", p.stdout)
    assert m, p.stdout
    [e] = bugsink.events("arm64")
    assert e["event_id"].replace("-", "") == m.group(1)
    exc = e["data"]["exception"]["values"][0]
    assert exc["value"] == "Fatal Error: SIGSEGV /SEGV_MAPERR"
    assert int(exc["stacktrace"]["frames"][-1]["instruction_addr"], 16) == pc
    assert e["data"]["extra"]["crashing_function"] == "crash_null_write"


class Watch:
    """`lastgasp watch ARGS` by one tool, its output read as it comes."""

    def __init__(self, tool, *args):
        argv = A.tool_argv("watch", *args) if tool == "arm64" else [str(R.CLI), "watch", *map(str, args)]
        self.lines = []
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  text=True)
        self.t = threading.Thread(target=lambda: self.lines.extend(x.rstrip("\n") for x in self.p.stdout),
                                  daemon=True)
        self.t.start()

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=30)
        self.t.join(timeout=5)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(timeout=10)


def drop(src, d):
    """Put a dump into d as the library does: written under another name, then renamed."""
    tmp = d / (".tmp-" + src.name)
    shutil.copy2(src, tmp)
    tmp.rename(d / src.name)


def watch_session(tool, tmp_path, dumps):
    """One watch of an empty directory, uploading and bundling; dumps dropped in once it runs. Returns
    (exit status, its lines, the requests, the bundles' dumps {name: bytes})."""
    d, out = tmp_path / tool / "dumps", tmp_path / tool / "out"
    d.mkdir(parents=True)
    out.mkdir()
    with CrashServer() as s:
        w = Watch(tool, d, "--upload", f"{s.url}/submit", "--bundle-dir", out, "--bundle-every", "0")
        try:
            deadline = time.monotonic() + 30
            while not any(x.startswith("lastgasp watch: watching ") for x in w.lines):
                assert time.monotonic() < deadline and w.p.poll() is None, w.lines
                time.sleep(0.05)
            for src in dumps:
                drop(src, d)
            while len(s.requests) < len(dumps) or list(d.glob("*.dmp")) or list(d.glob(".lastgasp-outbox/*.dmp")):
                assert time.monotonic() < deadline and w.p.poll() is None, w.lines
                time.sleep(0.1)
            rc = w.stop()
        finally:
            w.kill()
        requests = list(s.requests)
    bundled = {}
    for b in out.glob("*.zip"):
        with zipfile.ZipFile(b) as z:
            bundled.update({n: z.read(n) for n in z.namelist() if n.endswith(".dmp")})
    # What differs between two runs of one tool: the directories, the port; the order in which the two dumps were
    # seen, with the ids the server gave in that order; and whether they went into one bundle or two (which
    # depends on when each was seen: the bundles' lines are left out, their contents compared instead).
    text = [x.replace(str(d), "DIR").replace(str(out), "OUT").replace(str(s.port), "PORT") for x in w.lines]
    text = [re.sub(r"id event\d+", "id event", x) for x in text if not x.startswith("lastgasp: collected ")]
    return rc, text, requests, bundled


def test_watch_uploads_and_bundles_each_dump_once_intact(arm64_dump, ship_dumps, tmp_path):
    dumps = [arm64_dump, ship_dumps["go"]]
    runs = {tool: watch_session(tool, tmp_path, dumps) for tool in ("amd64", "arm64")}
    rc, lines, requests, bundled = runs["arm64"]
    assert rc == 0, lines
    assert sorted(f["upload_file_minidump"][0] for f in (r["files"] for r in requests)) == sorted(
        p.name for p in dumps), lines
    for r in requests:
        name, _, data = r["files"]["upload_file_minidump"]
        assert data == {p.name: p for p in dumps}[name].read_bytes(), name
    assert bundled == {p.name: p.read_bytes() for p in dumps}, lines
    # The amd64 tool, in the same session: the same result and the same lines (watch_session says what differs).
    rc0, lines0, requests0, bundled0 = runs["amd64"]
    assert rc0 == 0 and bundled0 == bundled
    def same(rs):
        return sorted(json.dumps(wire(r), default=repr, sort_keys=True) for r in rs)

    assert same(requests0) == same(requests)
    assert sorted(lines) == sorted(lines0)
