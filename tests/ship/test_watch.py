"""`lastgasp watch`, a long-lived process over a dump directory, on real dumps: it must ship every dump
exactly once across a server outage (counted in Bugsink), ship new dumps as they appear, ignore the
reporter's temporary files, keep what is not shipped, never busy-loop against a failing server, stop
cleanly and promptly on SIGTERM/SIGINT, and hold its spool under a cap, oldest out first, counting what it
dropped in its state file. Servers are on 127.0.0.1 and every wait is bounded.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import zipfile
from pathlib import Path

from pylib import readers as R
from bugsink import free_port
from crashserver import CrashServer


class Watch:
    """`lastgasp watch ARGS` with its output read as it comes."""

    def __init__(self, *args):
        self.lines = []
        self.p = subprocess.Popen([str(R.CLI), "watch", *map(str, args)], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))

    def matching(self, pattern):
        return [x for x in list(self.lines) if re.search(pattern, x)]

    def wait_for(self, pattern, count=1, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.matching(pattern)) >= count:
                return self.matching(pattern)
            assert self.p.poll() is None, "\n".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no {count} x {pattern!r} in {timeout} s:\n" + "\n".join(self.lines))

    def stop(self, sig=signal.SIGTERM, timeout=15):
        t0 = time.monotonic()
        self.p.send_signal(sig)
        rc = self.p.wait(timeout=timeout)
        self.t.join(timeout=5)
        return rc, time.monotonic() - t0

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(timeout=10)


class Forwarder:
    """A TCP relay from 127.0.0.1:port to another loopback port: the server "comes up" when it starts."""

    def __init__(self, port, target):
        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target), timeout=30)
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.sock.close()


def dumps_in(d):
    return sorted(p.name for p in Path(d).glob("*.dmp"))


def spool(tmp_path, ship_dumps, names_mtimes):
    """A dump directory holding copies of a real dump under the given names and modification times."""
    d = tmp_path / "dumps"
    d.mkdir(exist_ok=True)
    data = ship_dumps["null_write"].read_bytes()
    for name, mtime in names_mtimes:
        (d / name).write_bytes(data)
        os.utime(d / name, (mtime, mtime))
    return d


def crash_into(d, scenario):
    """Crash the crasher with its dumps going to d; the new dump's name (from the reporter's own line: a
    watch may have shipped the file before we look)."""
    run = R.run_crasher(scenario, dump_dir=d)
    R.cleanup(run)
    m = re.search(r"; dump: (\S+\.dmp)", run.stderr)
    assert m and Path(m.group(1)).parent == Path(d), run.stderr
    return Path(m.group(1)).name


def state(d):
    return json.loads((d / ".lastgasp-watch.state").read_text())


def test_outage_then_recovery_ships_everything_exactly_once(bugsink, ship_dumps, tmp_path):
    d = tmp_path / "dumps"
    d.mkdir()
    for key in ("null_write", "abort"):
        shutil.copy2(ship_dumps[key], d)
    tmp = d / ".lastgasp-4242-0.tmp"  # the reporter's name for a dump being written: never touched
    tmp.write_bytes(ship_dumps["null_write"].read_bytes()[:5000])
    (d / "notes.txt").write_text("not a dump")
    port = free_port()  # nothing listens there yet: the server is down
    key_host, project = bugsink.dsn("watch").split("//", 1)[1].split("/", 1)
    dsn = f"http://{key_host.split('@')[0]}@127.0.0.1:{port}/{project}"
    w = Watch(d, "--upload", dsn, "--max-backoff", "2", "--rescan", "1")
    fwd = None
    try:
        w.wait_for(r"not uploaded: Couldn't connect to server", count=2)
        crash_into(d, "divzero")  # a crash while the server is down
        time.sleep(3)
        down_for = time.monotonic()
        failures = len(w.matching(r"not uploaded"))
        # Backoff 1, 2, 2, 2... s (less up to a quarter): a few tries in ~5 s, never a busy loop.
        assert 2 <= failures <= 8, "\n".join(w.lines)
        assert len(dumps_in(d)) == 3

        fwd = Forwarder(port, bugsink.port)  # the server comes up
        w.wait_for(r": uploaded \(HTTP 200, id ", count=3, timeout=30)
        assert time.monotonic() - down_for < 10

        name = crash_into(d, "thread_null")  # a crash while it runs: shipped at once (inotify)
        t_crash = time.monotonic()
        w.wait_for(re.escape(name) + r": uploaded", timeout=20)
        assert time.monotonic() - t_crash < 5
        time.sleep(2.5)  # two more rescans: nothing is sent twice
        uploaded = [x.split(":")[0] for x in w.matching(r": uploaded \(HTTP 200")]
        assert len(uploaded) == 4 and len(set(uploaded)) == 4, "\n".join(w.lines)
        assert bugsink.event_count("watch") == 4
        assert sorted(e["data"]["extra"]["dump_name"] for e in bugsink.events("watch")) == sorted(uploaded)
        assert dumps_in(d) == []  # shipped dumps are removed (no --keep)
        assert tmp.read_bytes() == ship_dumps["null_write"].read_bytes()[:5000] and (d / "notes.txt").exists()
        rc, took = w.stop()
        assert rc == 0 and took < 2, "\n".join(w.lines)
        assert w.lines[-1] == f"lastgasp watch: stopped; 0 dumps not shipped yet, kept in {d}"
        s = state(d)
        assert s["uploaded"] == 4 and s["dropped"] == 0 and s["waiting"] == 0
    finally:
        w.kill()
        if fwd:
            fwd.close()


def test_sigterm_during_an_upload_stops_within_the_grace(ship_dumps, tmp_path):
    d = spool(tmp_path, ship_dumps, [("svc-1-20260101T000000Z.dmp", 1_700_000_000)])
    with CrashServer() as s:
        s.script = ["hang"]  # accepts the request and never answers
        w = Watch(d, "--upload", f"{s.url}/submit")
        try:
            deadline = time.monotonic() + 20
            while not s.requests and time.monotonic() < deadline:
                time.sleep(0.05)
            assert s.requests
            rc, took = w.stop()
            assert rc == 0 and 4.5 <= took < 8, (took, w.lines)
            assert w.matching(r"upload abandoned \(stopping\); kept")
            assert dumps_in(d) == ["svc-1-20260101T000000Z.dmp"]  # not shipped: kept for the next start
        finally:
            w.kill()
        # Idle, SIGINT stops it at once.
        w = Watch(d, "--upload", f"{s.url}/submit", "--keep")
        try:
            w.wait_for(r"svc-1-20260101T000000Z.dmp: uploaded")
            assert dumps_in(d) == [] and dumps_in(d / "shipped") == ["svc-1-20260101T000000Z.dmp"]
            rc, took = w.stop(signal.SIGINT)
            assert rc == 0 and took < 1.5
        finally:
            w.kill()


def test_a_failing_server_gets_few_requests_and_little_cpu(ship_dumps, tmp_path):
    d = spool(tmp_path, ship_dumps, [("a-1-20260101T000000Z.dmp", 1_700_000_000)])
    with CrashServer() as s:
        s.script = [(503, {}, "overloaded")] * 100
        w = Watch(d, "--upload", f"{s.url}/submit", "--max-backoff", "2", "--rescan", "0.5")
        try:
            time.sleep(6)
            cpu = sum(int(x) for x in Path(f"/proc/{w.p.pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13])
            assert len(s.requests) <= 7, len(s.requests)  # 1 + 2 + 2 + ... s apart
            assert cpu / os.sysconf("SC_CLK_TCK") < 0.5
            assert w.matching(r"a-1-20260101T000000Z.dmp: not uploaded: HTTP 503: overloaded; 1 dump waiting")
            assert w.stop()[0] == 0
        finally:
            w.kill()
        assert dumps_in(d) == ["a-1-20260101T000000Z.dmp"]

        # A refusal (4xx) keeps the dump and tries it again only much later (1 min, 2, 4... up to 1 h).
        s.script = [(400, {}, "invalid minidump")]
        n = len(s.requests)
        w = Watch(d, "--upload", f"{s.url}/submit", "--rescan", "0.5")
        try:
            w.wait_for(r"refused: HTTP 400: invalid minidump; kept, next try in \d+ s")
            time.sleep(2)
            assert len(s.requests) == n + 1
            assert w.stop()[0] == 0
        finally:
            w.kill()
        assert dumps_in(d) == ["a-1-20260101T000000Z.dmp"]


def test_spool_cap_drops_the_oldest_and_counts_them(ship_dumps, tmp_path):
    t0 = 1_700_000_000
    names = [(f"svc-{i}-20260101T00000{i}Z.dmp", t0 + i) for i in range(6)]
    d = spool(tmp_path, ship_dumps, names)
    with CrashServer() as s:
        closed = s.url  # the server is down throughout
    w = Watch(d, "--upload", f"{closed}/submit", "--max-dumps", "4")
    try:
        w.wait_for(r"dropped .*: over the cap \(4 dumps, 512 MiB\); 2 dropped in all")
        assert dumps_in(d) == sorted(n for n, _ in names[2:])  # the newest four stay
        assert w.stop()[0] == 0
    finally:
        w.kill()
    s = state(d)
    assert s["dropped"] == 2 and s["last_dropped"] == names[1][0] and s["waiting"] == 4

    # Two newer dumps, a restart: two more dropped, and the count goes on from the state file.
    spool(tmp_path, ship_dumps, [(f"svc-{i}-20260101T00000{i}Z.dmp", t0 + i) for i in (6, 7)])
    w = Watch(d, "--upload", f"{closed}/submit", "--max-dumps", "4")
    try:
        w.wait_for(r"4 dropped in all")
        assert w.stop()[0] == 0
    finally:
        w.kill()
    assert state(d)["dropped"] == 4 and dumps_in(d) == [f"svc-{i}-20260101T00000{i}Z.dmp" for i in range(4, 8)]

    # The byte cap: 100 dumps of ~16 KiB under 1 MiB.
    d2 = tmp_path / "big"
    d2.mkdir()
    data = ship_dumps["null_write"].read_bytes()
    for i in range(100):
        (d2 / f"x-{i:03d}.dmp").write_bytes(data)
        os.utime(d2 / f"x-{i:03d}.dmp", (t0 + i, t0 + i))
    keep = (1 << 20) // len(data)
    w = Watch(d2, "--upload", f"{closed}/submit", "--max-spool-mb", "1")
    try:
        w.wait_for(rf"{100 - keep} dropped in all")
        assert w.stop()[0] == 0
    finally:
        w.kill()
    assert dumps_in(d2) == [f"x-{i:03d}.dmp" for i in range(100 - keep, 100)]
    assert state(d2)["dropped"] == 100 - keep


# Byte for byte what watch wrote before its state file was read with a JSON reader (fprintf, '?' for quotes).
OLD_STATE = ('{"format":"lastgasp-watch-state","version":1,"updated":"2026-11-22T04:03:15Z","waiting":0,'
             '"uploaded":3,"bundled":0,"bundles":0,"dropped":7,"pruned":0,"last_dropped":"svc-?x.dmp"}\n')


def test_state_file_of_the_earlier_code_is_read_and_a_damaged_one_set_aside(ship_dumps, tmp_path):
    t0 = 1_700_000_000
    names = [(f"svc-{i}-20260101T00000{i}Z.dmp", t0 + i) for i in range(6)]
    d = spool(tmp_path, ship_dumps, names)
    (d / ".lastgasp-watch.state").write_text(OLD_STATE)
    with CrashServer() as s:
        closed = s.url  # the server is down throughout
    w = Watch(d, "--upload", f"{closed}/submit", "--max-dumps", "4")
    try:
        w.wait_for(r"9 dropped in all")  # 7 from the file, 2 now
        assert w.stop()[0] == 0
    finally:
        w.kill()
    s = state(d)
    assert s["dropped"] == 9 and s["uploaded"] == 3 and s["last_dropped"] == names[1][0]
    assert not (d / ".lastgasp-watch.state.bad").exists()

    # Cut short (as a full disk or a bad copy might leave it): counted from 0, said once, the bytes kept aside.
    cut = OLD_STATE[:60]
    (d / ".lastgasp-watch.state").write_text(cut)
    w = Watch(d, "--upload", f"{closed}/submit", "--max-dumps", "4")
    try:
        line = w.wait_for(r"not a usable state file")[0]
        assert "counting from 0" in line and ".lastgasp-watch.state.bad" in line, line
        assert w.stop()[0] == 0
    finally:
        w.kill()
    assert (d / ".lastgasp-watch.state.bad").read_text() == cut
    s = state(d)
    assert s["format"] == "lastgasp-watch-state" and s["dropped"] == 0 and s["uploaded"] == 0


def test_bundle_dir_with_and_without_upload(ship_dumps, tmp_path):
    # Bundles only, --keep: each dump lands in a bundle in OUT, then in DIR/shipped/.
    d, out = tmp_path / "dumps", tmp_path / "out"
    d.mkdir()
    out.mkdir()
    w = Watch(d, "--bundle-dir", out, "--bundle-every", "0", "--keep")
    try:
        time.sleep(0.5)
        name = crash_into(d, "null_write")
        data = ((d / name) if (d / name).exists() else (d / "shipped" / name)).read_bytes()
        w.wait_for(r"collected 1 dump into ")
        assert dumps_in(d) == [] and (d / "shipped" / name).read_bytes() == data
        [bundle] = list(out.glob("*.zip"))
        with zipfile.ZipFile(bundle) as z:
            assert z.read(name) == data
            assert [e["name"] for e in json.loads(z.read("manifest.json"))["dumps"]] == [name]
        assert w.stop()[0] == 0
    finally:
        w.kill()
    assert state(d)["bundled"] == 1 and state(d)["bundles"] == 1

    # Upload, then bundle: uploaded once, bundled once, nothing left behind.
    d2, out2 = tmp_path / "dumps2", tmp_path / "out2"
    d2.mkdir()
    out2.mkdir()
    for key in ("null_write", "abort"):
        shutil.copy2(ship_dumps[key], d2)
    with CrashServer() as s:
        w = Watch(d2, "--upload", f"{s.url}/submit", "--bundle-dir", out2, "--bundle-every", "0")
        try:
            w.wait_for(r"collected 2 dumps into |collected 1 dump into ", timeout=20)
            deadline = time.monotonic() + 10
            while len(dumps_in(d2 / ".lastgasp-outbox")) + len(dumps_in(d2)) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert w.stop()[0] == 0
        finally:
            w.kill()
        assert len(s.requests) == 2
    names = []
    for b in out2.glob("*.zip"):
        with zipfile.ZipFile(b) as z:
            names += [n for n in z.namelist() if n.endswith(".dmp")]
    assert sorted(names) == sorted(p.name for p in (ship_dumps["null_write"], ship_dumps["abort"]))
    assert dumps_in(d2) == [] and dumps_in(d2 / ".lastgasp-outbox") == []
    s2 = state(d2)
    assert s2["uploaded"] == 2 and s2["bundled"] == 2
