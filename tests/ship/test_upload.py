"""`lastgasp upload`, on real dumps: against a real crash server (Bugsink on 127.0.0.1, tests/ship/bugsink.py),
which must show each crash as an event with its crash reason and, once it has the crasher's debug file, the
crashing function; and against a minimal collector of our own (crashserver.py) for what only the wire shows:
the multipart framing, the fields, gzip, the DSN's endpoint, retries, Retry-After, exit statuses.
"""
import hashlib
import os
import re
import subprocess
import time
import zipfile

from pylib import readers as R
from crashserver import CrashServer

# What the crasher's "annotations" scenario leaves set (test_crash_matrix.ANNOTATIONS).
ANNOTATIONS = {"build": "5678", "user": "caf\u00e9", "long": "x" * 1023, "bytes": "a?b"}
C_FIELDS = {"prod", "signal", "signal_number", "signal_code", "fault_address", "pid", "crashing_function",
            "hostname", "crash_time", "dump_name", "dump_sha256"}


def upload(*args, timeout=120):
    return subprocess.run([str(R.CLI), "upload", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def crashed_thread(dump):
    j = R.read_lastgasp(dump)["json"]
    return j, [t for t in j["threads"] if t["crashed"]][0]


def endpoint(bugsink, slug):
    """The minidump endpoint written out, as a user of a plain Breakpad URL would give it."""
    key = bugsink.dsn(slug).split("//", 1)[1].split("@", 1)[0]
    return f"{bugsink.base}/api/{bugsink.project[slug]['id']}/minidump/?sentry_key={key}"


# ---- a real server: Bugsink ----

def test_bugsink_names_the_crashing_function_given_the_debug_file(bugsink, ship_dumps, tmp_path):
    dump = ship_dumps["null_write"]
    j, crashed = crashed_thread(dump)
    exe = [m for m in j["modules"] if m["path"].endswith("/crasher")][0]
    debug = tmp_path / "crasher.debug"
    subprocess.run(["objcopy", "--only-keep-debug", exe["path"], str(debug)], check=True, timeout=60)
    bugsink.upload_debug_file("symbols", debug, exe["build_id"])

    p = upload(bugsink.dsn("symbols"), dump)  # the DSN, as Bugsink shows it
    assert p.returncode == 0, p.stderr
    m = re.fullmatch(rf"{re.escape(str(dump))}: uploaded \(HTTP 200, id ([0-9a-f]{{32}})\)\n", p.stdout)
    assert m, p.stdout
    events = bugsink.events("symbols")
    assert len(events) == 1
    e = events[0]
    assert e["event_id"].replace("-", "") == m.group(1)
    exc = e["data"]["exception"]["values"][0]
    assert exc["value"] == "Fatal Error: SIGSEGV /SEGV_MAPERR"
    frames = exc["stacktrace"]["frames"][::-1]  # Sentry's order is outermost first
    assert frames[0]["function"] == "crash_null_write" and frames[0]["filename"].endswith("crasher.c")
    assert frames[1]["function"] == "main"
    assert int(frames[0]["instruction_addr"], 16) == int(crashed["frames"][0]["pc"], 16)
    assert e["issue_data"]["calculated_type"] == "crash_null_write"  # the issue is named for it
    extra = e["data"]["extra"]
    assert set(extra) == C_FIELDS
    assert extra["prod"] == "crasher" and extra["signal"] == "SIGSEGV" and extra["signal_code"] == "SEGV_MAPERR"
    assert extra["signal_number"] == "11" and extra["fault_address"] == "0x0"
    assert extra["pid"] == str(j["pid"]) and extra["crash_time"] == j["time"]
    assert extra["crashing_function"] == "crash_null_write" and extra["hostname"] == os.uname().nodename
    assert extra["dump_name"] == dump.name
    assert extra["dump_sha256"] == hashlib.sha256(dump.read_bytes()).hexdigest()


def test_bugsink_without_debug_files_shows_the_signal_and_addresses(bugsink, ship_dumps):
    """Bugsink names frames only from debug files it was given (it does not read lastgasp's own stream):
    without them the event has the crash reason and the stack as addresses, the innermost being the pc
    lastgasp recorded."""
    dump = ship_dumps["null_write"]
    _, crashed = crashed_thread(dump)
    p = upload("--no-gzip", "--field", "ver=1.2.3", endpoint(bugsink, "raw"), dump)
    assert p.returncode == 0 and ": uploaded (HTTP 200, id " in p.stdout, p.stdout + p.stderr
    [e] = bugsink.events("raw")
    assert e["issue_data"]["calculated_type"] == "SIGSEGV /SEGV_MAPERR"
    frames = e["data"]["exception"]["values"][0]["stacktrace"]["frames"][::-1]
    assert all("function" not in f for f in frames)
    assert int(frames[0]["instruction_addr"], 16) == int(crashed["frames"][0]["pc"], 16)
    assert e["data"]["extra"]["ver"] == "1.2.3" and e["data"]["extra"]["prod"] == "crasher"


def test_bundle_to_bugsink(bugsink, ship_dumps, tmp_path):
    d = tmp_path / "dumps"
    d.mkdir()
    for p in ship_dumps.values():
        (d / p.name).write_bytes(p.read_bytes())
    bundle = tmp_path / "b.zip"
    c = subprocess.run([str(R.CLI), "collect", str(d), "-o", str(bundle)], capture_output=True, text=True,
                       timeout=120)
    assert c.returncode == 0, c.stderr
    p = upload(bugsink.dsn("bundle"), bundle)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert sorted(line.split(": uploaded")[0] for line in lines) == sorted(f"{bundle}:{x.name}"
                                                                         for x in ship_dumps.values())
    events = bugsink.events("bundle")
    assert len(events) == len(ship_dumps) and bugsink.event_count("bundle") == len(ship_dumps)
    by_name = {e["data"]["extra"]["dump_name"]: e for e in events}
    assert by_name[ship_dumps["abort"].name]["data"]["exception"]["values"][0]["value"].startswith(
        "Fatal Error: SIGABRT")
    go = by_name[ship_dumps["go"].name]["data"]["extra"]
    assert go["prod"] == "cgocrash" and go["go_version"].startswith("go1.")
    annotated = by_name[ship_dumps["annotations"].name]["data"]["extra"]
    assert {k: annotated[k] for k in ANNOTATIONS} == ANNOTATIONS  # each annotation is a field of its own


# ---- the wire: our own collector ----

def test_wire_format_dsn_gzip_and_fields(ship_dumps):
    dump, go = ship_dumps["null_write"], ship_dumps["go"]
    with CrashServer() as s:
        # --as minidump: a Go dump would go to a DSN as an event (test_upload_go.py); here, the minidump upload.
        p = upload("--as", "minidump", f"http://k3y@127.0.0.1:{s.port}/prefix/42", dump, go)
        assert p.returncode == 0, p.stdout + p.stderr
        assert p.stdout == f"{dump}: uploaded (HTTP 200, id event1)\n{go}: uploaded (HTTP 200, id event2)\n"
        c, g = s.requests
        assert c["path"] == "/prefix/api/42/minidump/" and c["query"] == {"sentry_key": ["k3y"]}
        assert c["headers"]["Content-Encoding"] == "gzip" and c["headers"]["User-Agent"] == "lastgasp-upload/1"
        assert c["files"] == {"upload_file_minidump": (dump.name, "application/octet-stream", dump.read_bytes())}
        assert set(c["fields"]) == C_FIELDS
        assert c["raw_len"] < len(dump.read_bytes()) / 2  # gzip'd
        j = R.read_lastgasp(go)["json"]
        assert set(g["fields"]) == C_FIELDS | {"go_version"}
        assert g["fields"]["go_version"] == j["go"]["version"] and g["fields"]["prod"] == "cgocrash"

        # The dump's annotations, each as a field; --field wins over an annotation of the same name.
        annotated = ship_dumps["annotations"]
        p = upload("--field", "build=override", f"{s.url}/submit", annotated)
        assert p.returncode == 0, p.stdout + p.stderr
        a = s.requests.pop()["fields"]
        assert set(a) == C_FIELDS | set(ANNOTATIONS)
        assert {k: a[k] for k in ANNOTATIONS} == dict(ANNOTATIONS, build="override")

        # A plain URL: as given, no gzip unless asked; --field adds and overrides.
        p = upload("--field", "prod=svc", "--field", "build=42", f"{s.url}/submit", dump)
        p2 = upload("--gzip", f"{s.url}/submit", dump)
        assert p.returncode == 0 and p2.returncode == 0
        plain, forced = s.requests[2:]
        assert plain["path"] == "/submit" and "Content-Encoding" not in plain["headers"]
        assert plain["fields"]["prod"] == "svc" and plain["fields"]["build"] == "42"
        assert forced["headers"]["Content-Encoding"] == "gzip"

        # Credentials for some other server are not a DSN: sent as HTTP basic auth to the URL as given.
        p = upload(f"http://user:pw@127.0.0.1:{s.port}/submit", dump)
        assert p.returncode == 0 and s.requests[4]["path"] == "/submit"
        assert s.requests[4]["headers"]["Authorization"].startswith("Basic ")


def test_retries_back_off_and_honour_retry_after(ship_dumps):
    dump = ship_dumps["null_write"]
    with CrashServer() as s:
        s.script = [(503, {}, "down"), (503, {}, "down")]
        p = upload(f"{s.url}/submit", dump)
        assert p.returncode == 0 and p.stdout == f"{dump}: uploaded (HTTP 200, id event3)\n", p.stdout + p.stderr
        assert "try 1: HTTP 503: down; trying again in" in p.stderr and "try 2: HTTP 503" in p.stderr
        t = [r["time"] for r in s.requests]
        assert t[1] - t[0] >= 0.7 and t[2] - t[1] >= 1.4  # 1 s then 2 s, less at most a quarter

        s.script = [(429, {"Retry-After": "3"}, "slow down")]
        p = upload(f"{s.url}/submit", dump)
        assert p.returncode == 0, p.stderr
        assert s.requests[-1]["time"] - s.requests[-2]["time"] >= 2.9

        s.script = [(400, {}, '{"detail":"invalid minidump"}')]
        n = len(s.requests)
        p = upload(f"{s.url}/submit", dump)
        assert p.returncode == 1 and len(s.requests) == n + 1  # a refusal is not repeated
        # issue 13: a dump not sent is a diagnostic, on stderr; stdout keeps only what was sent
        assert p.stdout == "" and p.stderr.endswith(
            f'lastgasp upload: {dump}: failed after 1 try: HTTP 400: {{"detail":"invalid minidump"}}\n')

        s.script = [(301, {"Location": "http://127.0.0.1:1/elsewhere"}, "")]
        p = upload(f"{s.url}/submit", dump)
        assert p.returncode == 1 and "redirected to http://127.0.0.1:1/elsewhere (not followed" in p.stderr


def test_server_down_is_bounded_in_tries_and_time(ship_dumps):
    dump = ship_dumps["null_write"]
    with CrashServer() as s:
        closed = s.url
    t0 = time.monotonic()
    p = upload("--tries", "3", f"{closed}/submit", dump)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.endswith(f"lastgasp upload: {dump}: failed after 3 tries: Couldn't connect to server\n"), p.stderr
    assert time.monotonic() - t0 < 6
    t0 = time.monotonic()
    p = upload("--tries", "50", "--max-time", "2", f"{closed}/submit", dump)
    assert p.returncode == 1 and "would pass --max-time" in p.stderr
    assert time.monotonic() - t0 < 4


def test_exit_statuses(ship_dumps, tmp_path):
    dump = ship_dumps["null_write"]
    garbage = tmp_path / "garbage.dmp"
    garbage.write_bytes(b"not a minidump")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("manifest.json", "{}")
    with CrashServer() as s:
        p = upload(f"{s.url}/submit", dump, garbage)
        assert p.returncode == 3, p.stdout  # partial
        assert f"lastgasp upload: {garbage}: failed: not a minidump" in p.stderr and str(garbage) not in p.stdout
        assert upload(f"{s.url}/submit", garbage).returncode == 1
        assert upload(f"{s.url}/submit", empty).returncode == 4
        assert upload(f"{s.url}/submit").returncode == 2
        assert upload("ftp://127.0.0.1/x", dump).returncode == 2
        assert len(s.requests) == 1  # only the one good dump was ever sent
