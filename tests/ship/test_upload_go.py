"""Go crashes reach a crash server as Go crashes: `lastgasp upload` and `lastgasp watch` send a dump with a Go
stream to a Sentry-style server as the server's own event (a Sentry envelope: the event, the dump as a plain
attachment), and everything else as before (the minidump upload).

Against the real Bugsink (tests/ship/bugsink.py): each issue's title is the first line the Go runtime itself
printed on stderr for that crash; the stack is the crashing goroutine's Go functions with file:line (the line
found by its marker in the source); grouping follows the crash site (the same panic twice is one issue, two nil
dereferences at two sites are two issues although their messages are equal, a panic whose value varies stays one
issue). What Bugsink shows is written to build/tests/bugsink-go-events.txt (and printed) for the README. Against
our own collector (crashserver.py): the envelope's framing, the endpoint, the event's fields and their JSON
(checked against Bugsink's copy of Sentry's event schema), the choice and its overrides (--as), watch.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from pylib import readers as R
from bugsink import VENV
from crashserver import CrashServer

HERE = Path(__file__).resolve().parent
GOPANIC = HERE.parent / "crash" / "gopanic"
CGO_SRC = HERE.parent / "crash" / "cgo" / "main.go"
RECORD = R.TESTS / "bugsink-go-events.txt"
# run -> the program's arguments ("value 2" panics with a quote, a backslash and UTF-8 in its message)
RUNS = {"nil_a": ["nil_a"], "nil_a#2": ["nil_a"], "nil_b": ["nil_b"], "index": ["index"], "value 1": ["value", "1"],
        "value 2": ["value", '2 "\u00e9\\'], "mapwrites": ["mapwrites"]}


def marker_lines(path, pattern):
    """{name: line} of the lines of path with `// SITE name` (or whatever pattern's group 1 is)."""
    out = {}
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        m = re.search(pattern, line)
        if m:
            out[m.group(1)] = i
    return out


SITES = marker_lines(GOPANIC / "main.go", r"// SITE (\w+)")


def upload(*args, timeout=120):
    return subprocess.run([str(R.CLI), "upload", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def go_first_line(stderr):
    """The first line the Go runtime printed about the crash: "panic: ...", "fatal error: ...", "SIGSEGV: ..."."""
    for line in stderr.splitlines():
        if re.match(r"(panic|fatal error): |SIG[A-Z]+: ", line):
            return line
    raise AssertionError("no Go crash line in:\n" + stderr)


@pytest.fixture(scope="module")
def go_crashes(tmp_path_factory, ship_dumps):
    """{run: (dump, Go's first line)} for each run of RUNS (tests/crash/gopanic, built here with cgo and run with
    the library preloaded: a panic exits 2 and leaves one dump), and "cgo": the cgo program's C fault."""
    d = tmp_path_factory.mktemp("gopanic")
    exe = d / "gopanic"
    b = subprocess.run(["go", "build", "-o", str(exe), "."], cwd=GOPANIC, env=dict(os.environ, CGO_ENABLED="1"),
                       capture_output=True, text=True, timeout=600)
    assert b.returncode == 0, b.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    out = {}
    for run in RUNS:
        dumps = d / run.replace(" ", "_").replace("#", "_")
        dumps.mkdir()
        p = subprocess.run([str(exe), *RUNS[run]], env=dict(env, LD_PRELOAD=str(R.LIB),
                           LASTGASP_DIR=str(dumps)), capture_output=True, text=True, timeout=60)
        found = list(dumps.glob("*.dmp"))
        assert p.returncode == 2 and len(found) == 1, (run, p.returncode, p.stderr[-2000:])
        out[run] = (found[0], go_first_line(p.stderr))
    c = R.run_crasher("-", binary="cgocrash", tripwire=False)
    try:
        assert len(c.dumps) == 1, c.stderr
        out["cgo"] = (Path(shutil.copy2(c.dumps[0], d)), go_first_line(c.stderr))
    finally:
        R.cleanup(c)
    return out


def title(issue):
    """Bugsink's title of an issue (issues/utils.py get_title_for_exception_type_and_value)."""
    t, v = issue["calculated_type"], issue["calculated_value"]
    return f"{t}: {v.splitlines()[0]}" if v else t


def innermost(frames, pred):
    """The innermost frame of an exception's frames (Sentry's order: outermost first) that pred accepts."""
    return next(f for f in reversed(frames) if pred(f))


# ---- a real server: Bugsink ----

def test_bugsink_shows_go_crashes_as_go_crashes(bugsink, go_crashes):
    runs = list(go_crashes)
    p = upload(bugsink.dsn("goevents"), *(go_crashes[r][0] for r in runs))
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(re.findall(r": uploaded as an event \(HTTP 200, id [0-9a-f]{32}\)\n", p.stdout)) == len(runs), p.stdout

    # Grouping: by crash site, not by message.
    events = bugsink.events("goevents")
    assert len(events) == len(runs)
    by_dump = {e["data"]["extra"]["dump_name"]: e for e in events}
    issue_of = {r: by_dump[go_crashes[r][0].name]["issue_data"]["id"] for r in runs}
    assert issue_of["nil_a"] == issue_of["nil_a#2"]      # the same panic from two runs: one issue
    assert issue_of["nil_a"] != issue_of["nil_b"]        # same message, another site: another issue
    assert go_crashes["nil_a"][1] == go_crashes["nil_b"][1]
    assert issue_of["value 1"] == issue_of["value 2"]    # the value varies, the site does not: one issue
    assert go_crashes["value 1"][1] != go_crashes["value 2"][1]
    assert len(set(issue_of.values())) == len(runs) - 2
    issues = bugsink.issues("goevents")
    assert len(issues) == len(runs) - 2 and bugsink.event_count("goevents") == len(runs)

    record = [f"Bugsink {bugsink_version()}: {len(runs)} Go crashes uploaded, {len(issues)} issues"]
    for r in runs:
        e = by_dump[go_crashes[r][0].name]
        issue = e["issue_data"]
        # The title: what the Go runtime printed first (the issue takes it from its latest event).
        assert title(issue) in {go_crashes[x][1] for x in runs if issue_of[x] == issue["id"]}, (r, title(issue))
        exc = e["data"]["exception"]["values"][0]
        assert f"{exc['type']}: {exc['value'].splitlines()[0]}" == go_crashes[r][1]
        frames = exc["stacktrace"]["frames"]
        if r == "cgo":
            # The C function that faulted, then the Go function that called it, with its file and line.
            c = innermost(frames, lambda f: f.get("in_app"))
            assert c["function"] == "c_crash" and "module" not in c
            go = innermost(frames, lambda f: f.get("module") == "main" and f.get("filename") != "_cgo_gotypes.go")
            assert go["function"] == "goCaller" and go["filename"] == str(CGO_SRC)
            assert go["lineno"] == marker_lines(CGO_SRC, r"^func (goCaller)\(")["goCaller"]
        else:
            # The innermost in-app frame is the crash site, a Go function of package main at its marked line.
            site = innermost(frames, lambda f: f.get("in_app"))
            name = r.split()[0].split("#")[0]
            fn = {"nil_a": "loadA", "nil_b": "loadB", "index": "pick", "value": "job", "mapwrites": "mapwrites.func1"}
            assert (site["module"], site["function"]) == ("main", fn[name]), site
            assert site["filename"] == str(GOPANIC / "main.go") and site["lineno"] == SITES[name], site
            # Above it, the runtime's own frames (not in-app), innermost first as the runtime prints them.
            above = frames[frames.index(site) + 1:]
            assert above and all(f["module"] in ("runtime", "internal/runtime/maps") and not f["in_app"]
                                 for f in above), above
        # Every goroutine is a thread; the crashing one is flagged and named like a traceback header.
        threads = e["data"]["threads"]["values"]
        crashed = [t for t in threads if t["crashed"]]
        assert len(crashed) == 1 and crashed[0]["id"] == exc["thread_id"]
        state = "syscall" if r == "cgo" else "running"  # in a cgo call, a goroutine is in syscall state
        assert crashed[0]["name"] == f"goroutine {exc['thread_id']} [{state}]"
        md = e["stacktrace_md"].split("\n# Threads", 1)[0]  # Bugsink's own rendering of the exception's stack
        shown = [ln for ln in md.splitlines() if ln.startswith("### ")]
        record.append(f"\n{r}: issue {issue['friendly_id']} \"{title(issue)}\" ({issue['digested_event_count']} "
                      f"event{'s' if issue['digested_event_count'] > 1 else ''})")
        in_app = [ln for ln in shown if ln.endswith("[in-app]")]
        record += ["    " + ln[4:] for ln in (shown if r == runs[0] else in_app[:3] or shown[:3])]
    text = "\n".join(record) + "\n"
    RECORD.write_text(text)
    print("\n" + text)


def bugsink_version():
    p = subprocess.run([str(VENV / "bin/pip"), "show", "bugsink"], capture_output=True, text=True, timeout=60)
    m = re.search(r"^Version: (\S+)", p.stdout, re.M)
    return m.group(1) if m else "?"


# ---- the wire: our own collector ----

def envelope_of(req):
    """(headers, event, attachment headers, attachment bytes) of a recorded envelope request."""
    env = req["envelope"]
    (eh, ev), (ah, att) = env["items"]
    assert eh == {"type": "event", "length": len(ev), "content_type": "application/json"}
    assert ah["type"] == "attachment" and "attachment_type" not in ah  # plain: not event.minidump
    return env["headers"], json.loads(ev.decode("utf-8")), ah, att


def validate(events):
    """Every event against Bugsink's copy of Sentry's event schema (api/event.schema.json), in Bugsink's venv."""
    schema = next(VENV.glob("lib/python3*/site-packages/api/event.schema.json"))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(events, f)
    try:
        p = subprocess.run([str(VENV / "bin/python"), "-c",
                            "import json, sys, jsonschema\n"
                            "s = json.load(open(sys.argv[1]))\n"
                            "for e in json.load(open(sys.argv[2])): jsonschema.validate(e, s)\n",
                            str(schema), f.name], capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(f.name)
    assert p.returncode == 0, p.stderr[-3000:]


def test_envelope_on_the_wire(go_crashes, ship_dumps):
    nil_a, _ = go_crashes["nil_a"]
    with CrashServer() as s:
        dsn = f"http://k3y@127.0.0.1:{s.port}/prefix/42"
        p = upload("--field", 'note=a"b\\c\nd\x01', "--field", "environment=staging", dsn, nil_a,
                   ship_dumps["null_write"])
        assert p.returncode == 0, p.stdout + p.stderr
        assert p.stdout == (f"{nil_a}: uploaded as an event (HTTP 200, id event1)\n"
                            f"{ship_dumps['null_write']}: uploaded (HTTP 200, id event2)\n")
        g, c = s.requests
        # The Go dump: an envelope to the DSN's envelope endpoint, gzip'd, the key as sentry_key.
        assert g["path"] == "/prefix/api/42/envelope/" and g["query"] == {"sentry_key": ["k3y"]}
        assert g["headers"]["Content-Type"] == "application/x-sentry-envelope"
        assert g["headers"]["Content-Encoding"] == "gzip"
        head, ev, ah, att = envelope_of(g)
        assert re.fullmatch(r"[0-9a-f]{32}", head["event_id"]) and ev["event_id"] == head["event_id"]
        assert ah["filename"] == nil_a.name and att == nil_a.read_bytes()
        # The C dump: the minidump upload, as before.
        assert c["path"] == "/prefix/api/42/minidump/" and c["files"]["upload_file_minidump"][2] == \
            ship_dumps["null_write"].read_bytes()

        j = R.read_lastgasp(nil_a)["json"]
        assert ev["platform"] == "go" and ev["level"] == "fatal" and ev["timestamp"] == j["time"]
        exc = ev["exception"]["values"][0]
        assert (exc["type"], exc["value"].splitlines()[0]) == ("panic", "runtime error: invalid memory address or "
                                                               "nil pointer dereference")
        assert exc["value"] == j["go"]["reason"].split(": ", 1)[1].rstrip("\n")  # the whole reason, [signal ...] too
        assert exc["thread_id"] == j["go"]["crashing_goroutine"] and exc["mechanism"]["handled"] is False
        assert "meta" not in exc["mechanism"]  # the SIGABRT of the crash path is not the cause of a panic
        # Every goroutine, named as a traceback names it; the stacks are the dump's goroutines.
        gs = {x["id"]: x for x in j["go"]["goroutines"]}
        ts = ev["threads"]["values"]
        assert [t["id"] for t in ts] == list(gs)
        for t in ts:
            x = gs[t["id"]]
            state = x["wait_reason"] if x["status"] == "waiting" and x["wait_reason"] else x["status"]
            assert t["name"].startswith(f"goroutine {x['id']} [{state}") and t["state"] == x["status"]
            assert t["crashed"] == x["crashed"]
            if not x["crashed"]:
                want = [(f["function"], f["file"], f["line"]) for f in x["frames"]][::-1]
                got = [(f"{f['module']}.{f['function']}", f["filename"], f["lineno"]) for f in
                       t["stacktrace"]["frames"]]
                assert got == want
        crashing = gs[exc["thread_id"]]
        assert [f"{f['module']}.{f['function']}" for f in exc["stacktrace"]["frames"]] == \
            [f["function"] for f in crashing["frames"]][::-1]
        # Release and the rest from the build info; contexts; the fields as extra, --field as tags too.
        settings = j["go"]["build_info"]["settings"]
        assert ev.get("release") == settings.get("vcs.revision")  # version "(devel)": the revision, if any
        assert ev["environment"] == "staging" and "environment" not in ev["tags"]
        assert ev["contexts"]["runtime"] == {"name": "go", "version": j["go"]["version"]}
        assert ev["contexts"]["go"]["main_module"] == j["go"]["build_info"]["main"]["path"]
        assert ev["contexts"]["os"]["name"] == "Linux" and ev["contexts"]["device"]["arch"] == "amd64"
        assert ev["contexts"]["container"]["hostname"] == j["container"]["hostname"]
        assert ev["server_name"] == j["container"]["hostname"]
        assert ev["tags"]["go_version"] == j["go"]["version"] and "signal" not in ev["tags"]
        assert "note" not in ev["tags"]  # a newline: not a tag
        assert ev["extra"]["note"] == 'a"b\\c\nd\x01' and ev["extra"]["dump_name"] == nil_a.name
        assert ev["extra"]["go_reason"] == j["go"]["reason"]
        assert ev["fingerprint"] == ["lastgasp-go", "panic", "main.loadA", "main.main"]

        # --as minidump: the Go dump as before; --as event: a C dump as an event too (its signal, its frames).
        annotated = ship_dumps["annotations"]
        p = upload("--as", "minidump", dsn, nil_a)
        p2 = upload("--as", "event", dsn, annotated)
        assert p.returncode == 0 and p2.returncode == 0, p.stdout + p2.stdout
        m, e = s.requests[2:]
        assert m["path"] == "/prefix/api/42/minidump/" and "go_version" in m["fields"]
        _, cev, _, catt = envelope_of(e)
        assert catt == annotated.read_bytes() and cev["platform"] == "native"
        cj = R.read_lastgasp(annotated, debuginfo=False)["json"]  # the event names what the dump names
        cexc = cev["exception"]["values"][0]
        assert cexc["type"] == cj["signal"]["name"]
        crashed = [t for t in cj["threads"] if t["crashed"]][0]
        assert [f.get("function") for f in cexc["stacktrace"]["frames"]][::-1] == \
            [f["function"] for f in crashed["frames"]]
        assert {k: cev["tags"][k] for k in ("build", "user", "bytes")} == \
            {k: cj["annotations"][k] for k in ("build", "user", "bytes")}
        assert "long" not in cev["tags"] and cev["extra"]["long"] == cj["annotations"]["long"]  # > 200: extra only
        own = [f["function"] for f in crashed["frames"] if f["module"] == "crasher" and f["function"]]
        assert cev["fingerprint"] == ["lastgasp-native", cexc["type"], own[0]]  # the program's frame, not libc's
        images = {i["code_file"]: i for i in cev["debug_meta"]["images"]}
        exe = [x for x in cj["modules"] if x["path"].endswith("/crasher")][0]
        assert images[exe["path"]]["code_id"] == exe["build_id"]

        # A server that is not Sentry-style gets the minidump even for a Go dump (auto).
        p = upload(f"{s.url}/submit", nil_a)
        assert p.returncode == 0 and s.requests[-1]["path"] == "/submit" and s.requests[-1]["files"]
    validate([ev, cev])


def test_fingerprints_follow_the_crash_site(go_crashes):
    with CrashServer() as s:
        runs = list(go_crashes)
        p = upload(f"http://k@127.0.0.1:{s.port}/1", *(go_crashes[r][0] for r in runs))
        assert p.returncode == 0, p.stdout
        evs = {r: envelope_of(req)[1] for r, req in zip(runs, s.requests)}
    fp = {r: tuple(evs[r]["fingerprint"]) for r in runs}
    assert fp["nil_a"] == fp["nil_a#2"] and fp["value 1"] == fp["value 2"]
    assert len(set(fp.values())) == len(runs) - 2
    assert fp["mapwrites"][:3] == ("lastgasp-go", "fatal error", "main.mapwrites.func1")
    assert (evs["mapwrites"]["exception"]["values"][0]["type"],
            evs["mapwrites"]["exception"]["values"][0]["value"]) == ("fatal error", "concurrent map writes")
    cgo = evs["cgo"]["exception"]["values"][0]
    assert cgo["type"] == "SIGSEGV" and cgo["value"].splitlines()[0] == "segmentation violation"
    assert cgo["value"].splitlines()[-1] == "signal arrived during cgo execution"
    assert cgo["mechanism"]["meta"]["signal"] == {"number": 11, "code": 1, "name": "SIGSEGV",
                                                  "code_name": "SEGV_MAPERR"}
    validate(list(evs.values()))


def test_watch_sends_go_dumps_as_events(go_crashes, ship_dumps, tmp_path):
    from test_watch import Watch
    d = tmp_path / "dumps"
    d.mkdir()
    shutil.copy2(go_crashes["index"][0], d)
    shutil.copy2(ship_dumps["null_write"], d)
    with CrashServer() as s:
        w = Watch(d, "--upload", f"http://k@127.0.0.1:{s.port}/7")
        try:
            w.wait_for(r": uploaded", count=2)
            assert w.stop()[0] == 0
        finally:
            w.kill()
        by_path = {r["path"]: r for r in s.requests}
    assert set(by_path) == {"/api/7/envelope/", "/api/7/minidump/"}
    _, ev, ah, att = envelope_of(by_path["/api/7/envelope/"])
    assert ah["filename"] == go_crashes["index"][0].name and att == go_crashes["index"][0].read_bytes()
    exc = ev["exception"]["values"][0]
    assert f"{exc['type']}: {exc['value']}" == go_crashes["index"][1]
    assert w.matching(re.escape(go_crashes["index"][0].name) + r": uploaded as an event \(HTTP 200")


# ---- the cost ----

def test_cost_of_the_event_upload(bugsink, go_crashes):
    """Bytes on the wire (gzip'd, as sent) and time of one upload, the event envelope against the minidump
    upload of the same dump, median of 7 runs each against Bugsink on loopback. Figures only: no budget."""
    dump = go_crashes["nil_a"][0]
    with CrashServer() as s:
        for mode in ("minidump", "event"):
            assert upload("--as", mode, f"http://k@127.0.0.1:{s.port}/1", dump).returncode == 0
        wire = {mode: r["raw_len"] for mode, r in zip(("minidump", "event"), s.requests)}
        event_json = s.requests[1]["envelope"]["items"][0][0]["length"]
    times = {"minidump": [], "event": []}
    for _ in range(7):
        for mode in times:
            t0 = time.monotonic()
            p = upload("--as", mode, bugsink.dsn("gocost"), dump)
            times[mode].append(time.monotonic() - t0)
            assert p.returncode == 0, p.stdout + p.stderr
    med = {m: statistics.median(v) * 1000 for m, v in times.items()}
    text = (f"dump {dump.stat().st_size} bytes; sent (gzip'd): minidump upload {wire['minidump']} bytes, "
            f"event envelope {wire['event']} bytes (+{wire['event'] - wire['minidump']}; the event's JSON is "
            f"{event_json} bytes before gzip); `lastgasp upload` to Bugsink on loopback, median of 7: minidump "
            f"{med['minidump']:.0f} ms, event {med['event']:.0f} ms\n")
    with open(RECORD, "a") as f:
        f.write("\n" + text)
    print("\n" + text)


def test_a_thousand_goroutines_fit_in_one_event(tmp_path):
    """Every goroutine is a thread of the event, within the size servers accept (1 MiB): stacks while a budget
    lasts, then goroutines without their stack, counted in extra.stacks_not_sent."""
    exe = tmp_path / "parked1000"
    b = subprocess.run(["go", "build", "-o", str(exe), "./parked1000"], cwd=HERE.parent / "go" / "corpus",
                       env=dict(os.environ, CGO_ENABLED="1"), capture_output=True, text=True, timeout=600)
    assert b.returncode == 0, b.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    p = subprocess.run([str(exe)], env=dict(env, LD_PRELOAD=str(R.LIB), LASTGASP_DIR=str(tmp_path)),
                       capture_output=True, text=True, timeout=120)
    [dump] = list(tmp_path.glob("*.dmp"))
    j = R.read_lastgasp(dump)["json"]
    with CrashServer() as s:
        assert upload(f"http://k@127.0.0.1:{s.port}/1", dump).returncode == 0
        (eh, raw), _ = s.requests[0]["envelope"]["items"]
    ev = json.loads(raw)
    threads = ev["threads"]["values"]
    assert eh["length"] < 1 << 20 and len(j["go"]["goroutines"]) > 1000, p.stderr[-2000:]
    assert [t["id"] for t in threads] == [g["id"] for g in j["go"]["goroutines"]]
    with_stack = sum("stacktrace" in t for t in threads)
    assert with_stack > 100 and with_stack + 1 + ev["extra"]["stacks_not_sent"] == len(threads)
    text = (f"{len(threads)} goroutines: event JSON {eh['length']} bytes ({with_stack} stacks sent), envelope "
            f"{s.requests[0]['raw_len']} bytes gzip'd, dump {dump.stat().st_size} bytes\n")
    with open(RECORD, "a") as f:
        f.write(text)
    print("\n" + text)
