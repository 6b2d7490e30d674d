"""bugsink.py — a real crash server for the upload tests: Bugsink (installed by tests/tools/deps.sh into
$LASTGASP_TOOLS/bugsink-venv), run on 127.0.0.1 with SQLite, configured without a person:

1. `bugsink-create-conf --template=local` writes the settings module; we add FEATURE_MINIDUMPS (the
   minidump endpoint is off by default), PHONEHOME off (no traffic leaves the machine), and paths inside
   the test's directory (databases, ingestion store).
2. `bugsink-manage migrate` (both databases), then one `bugsink-manage shell -c` creates a team, the
   projects and a full-access API token (the ORM, as Bugsink's own create_auth_token command does).
3. gunicorn serves bugsink.wsgi on a free port; /health/ready says when it is up. The test stops it.

Events are read back through Bugsink's API (/api/canonical/0/issues/?project=N, /events/?issue=ID,
/events/ID/), with the token. Debug files go up the way sentry-cli sends them (chunk-upload, then
difs/assemble), which is what lets Bugsink name the frames of a minidump.
"""
import ctypes
import hashlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from pylib import readers as R

VENV = R.TOOLS / "bugsink-venv"
START_TIMEOUT = 90


def _die_with_parent():
    """In the child before exec: SIGTERM when the test process goes, however it goes, so that a killed test
    run leaves no server behind."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def breakpad_debug_id(build_id_hex):
    """The debug id Breakpad (and so Bugsink) derives from a GNU build-id: its first 16 bytes as a GUID,
    the first three fields byte-swapped."""
    raw = bytes.fromhex(build_id_hex)[:16].ljust(16, b"\0")
    guid = raw[3::-1] + raw[5:3:-1] + raw[7:5:-1] + raw[8:]
    return str(uuid.UUID(bytes=guid))


class Bugsink:
    def __init__(self, workdir, projects=("crashes",)):
        self.work = Path(workdir)
        self.projects = projects
        self.proc = None
        self.port = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD"))}
        self.env.update(DJANGO_SETTINGS_MODULE="bugsink_conf", PYTHONPATH=str(self.work))

    def _manage(self, *args, timeout=120):
        p = subprocess.run([str(VENV / "bin/bugsink-manage"), *args], cwd=self.work, env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        assert p.returncode == 0, f"bugsink-manage {args[0]}: {p.stdout}\n{p.stderr}"
        return p.stdout

    def start(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        conf = self.work / "bugsink_conf.py"
        subprocess.run([str(VENV / "bin/bugsink-create-conf"), "--template=local", "--host=127.0.0.1",
                        f"--port={self.port}", "-o", str(conf)], check=True, capture_output=True, timeout=60)
        with open(conf, "a") as f:
            f.write(f"""
BUGSINK["FEATURE_MINIDUMPS"] = True
BUGSINK["PHONEHOME"] = False
BUGSINK["INGEST_STORE_BASE_DIR"] = {str(self.work / "ingest")!r}
DATABASES["default"]["NAME"] = {str(self.work / "db.sqlite3")!r}
DATABASES["snappea"]["NAME"] = {str(self.work / "snappea.sqlite3")!r}
""")
        self._manage("migrate", "-v0")
        self._manage("migrate", "snappea", "--database=snappea", "-v0")
        script = f"""
import json
from teams.models import Team
from projects.models import Project
from bsmain.models import AuthToken
team = Team.objects.create(name="lastgasp")
out = {{"projects": {{}}}}
for slug in {list(self.projects)!r}:
    p = Project.objects.create(team=team, name=slug, slug=slug)
    out["projects"][slug] = {{"id": p.id, "dsn": p.dsn}}
out["token"] = AuthToken.create_full_access().token
print("LASTGASP-SETUP " + json.dumps(out))
"""
        out = self._manage("shell", "-c", script)
        setup = json.loads(out.split("LASTGASP-SETUP ", 1)[1].splitlines()[0])
        self.token = setup["token"]
        self.project = setup["projects"]
        self.log = open(self.work / "gunicorn.log", "w")
        self.proc = subprocess.Popen(
            [str(VENV / "bin/gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "4",
             "--timeout", "60", "--no-control-socket", "--access-logfile", "-", "bugsink.wsgi"],
            cwd=self.work, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.work / "gunicorn.log").read_text()
            try:
                if urllib.request.urlopen(self.base + "/health/ready", timeout=2).read() == b"OK":
                    return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise AssertionError("Bugsink did not come up in time")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.proc:
            self.log.close()

    def dsn(self, slug):
        return self.project[slug]["dsn"]

    def _request(self, path, data=None, ctype=None):
        headers = {"Authorization": "Bearer " + self.token}
        if ctype:
            headers["Content-Type"] = ctype
        req = urllib.request.Request(self.base + path, data=data, headers=headers)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read()

    def api(self, path):
        return json.loads(self._request("/api/canonical/0/" + path))

    def issues(self, slug):
        return self.api(f"issues/?project={self.project[slug]['id']}")["results"]

    def events(self, slug):
        """Every event of the project, each with its issue and its full data."""
        out = []
        for issue in self.issues(slug):
            for e in self.api(f"events/?issue={issue['id']}")["results"]:
                full = self.api(f"events/{e['id']}/")
                full["issue_data"] = issue
                out.append(full)
        return out

    def event_count(self, slug):
        return sum(i["digested_event_count"] for i in self.issues(slug))

    def upload_debug_file(self, slug, path, build_id):
        """Send a debug file as sentry-cli does: the bytes as one chunk named by its SHA-1, then the
        assemble call that ties the file to its debug id in the project."""
        data = Path(path).read_bytes()
        sha = hashlib.sha1(data).hexdigest()
        b = "lastgasp" + uuid.uuid4().hex
        body = (f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="{sha}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{b}--\r\n".encode()
        self._request("/api/0/organizations/lastgasp/chunk-upload/", body, f"multipart/form-data; boundary={b}")
        req = {sha: {"name": Path(path).name, "debug_id": breakpad_debug_id(build_id), "chunks": [sha]}}
        answer = json.loads(self._request(f"/api/0/projects/lastgasp/{slug}/files/difs/assemble/",
                                          json.dumps(req).encode(), "application/json"))
        assert answer[sha]["missingChunks"] == [], answer
