"""The static musl tool (`make LIBC=musl`: build/musl/lastgasp) against the glibc tool (build/lastgasp), on the
same dumps: a C crash of the crasher and a Go crash of the cgo program, written by the glibc library, and a C
crash of the crasher built with musl-gcc, written by the musl library (the Alpine case).

  - it is one static file: no program interpreter, no dynamic section (so no DT_NEEDED), and it runs in an empty
    chroot holding nothing but itself and a dump;
  - show, json and html print what the glibc tool prints with LASTGASP_DEBUGINFO=off, byte for byte; with the
    debug-info pass on (the default), the one difference is that every module says where its lines came from:
    "none", with the note NOT_IN_BUILD (json: modules[].debug_info; show: one "lines:" line after each module;
    html: one note in each module's row), where the glibc tool finds file:line and inlined frames in DWARF (and
    does here: asserted, so that the comparison is not between two empty passes). LASTGASP_DEBUGINFO=on, which
    asks for what this build lacks, is refused with one line and exit 1;
  - pprof writes the same profile;
  - collect's bundle is read back by the glibc tool, every dump as the dump itself reads;
  - watch ships a dump that appears in its directory, and SIGTERM ends it with exit 0;
  - upload reaches the suites' local crash server (tests/ship/crashserver.py) over http, and over https with a
    certificate the test makes: the tool, in a chroot whose /etc/ssl/certs/ca-certificates.crt (the path libcurl
    is configured with, which Alpine and Debian share) is the test's CA, sends the dump; with another CA there,
    the upload fails on the certificate (so the TLS library does verify);
  - make install LIBC=musl installs the tool and the man page, which says what this build lacks.
"""
import gzip
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from pylib import readers as R

sys.path.insert(0, str(R.ROOT / "tests/ship"))
from crashserver import CrashServer  # noqa: E402

MUSL_CLI = R.ROOT / "build/musl/lastgasp"
GLIBC_CLI = R.CLI
NOT_IN_BUILD = ("not in this build: the static musl tool reads no DWARF (no file:line or inlined frames from "
                "debug info); the glibc tool does")
NO_DEBUGINFOD = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "DEBUGINFOD"))}


@pytest.fixture(scope="module", autouse=True)
def tools():
    """Both tools and the glibc test programs (make is a no-op when they are up to date)."""
    for args in (["LIBC=musl", "all", "musl-test-bins"], ["all", "test-bins"]):
        p = subprocess.run(["make", "-s", *args], cwd=R.ROOT, capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, p.stdout + p.stderr


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    """{'c': a dump of the crasher's null_write, 'go': one of the cgo program}, written by the glibc library, and
    'musl_c': the musl crasher's null_write, written by the musl library."""
    d = tmp_path_factory.mktemp("musl-tool-dumps")
    out = {}
    musl = {"tests": R.ROOT / "build/musl/tests", "lib": R.ROOT / "build/musl/liblastgasp.so"}
    for key, scenario, binary, where in (("c", "null_write", "crasher", {}), ("go", "-", "cgocrash", {}),
                                         ("musl_c", "null_write", "crasher", musl)):
        run = R.run_crasher(scenario, binary=binary, tripwire=binary == "crasher", **where)
        try:
            assert len(run.dumps) == 1, run.stderr
            out[key] = Path(shutil.copy2(run.dumps[0], d / f"{key}.dmp"))
        finally:
            R.cleanup(run)
    return out


def tool(cli, *args, debuginfo=None, check=True, **kw):
    env = dict(NO_DEBUGINFOD, **({"LASTGASP_DEBUGINFO": debuginfo} if debuginfo else {}))
    p = subprocess.run([str(cli), *map(str, args)], capture_output=True, env=env, timeout=120, **kw)
    if check:
        assert p.returncode == 0, (cli, args, p.stderr)
    return p


def test_static_binary():
    """No PT_INTERP (no loader to find in the image) and no dynamic section at all (no DT_NEEDED)."""
    prog = subprocess.run(["readelf", "-lW", str(MUSL_CLI)], capture_output=True, text=True, check=True).stdout
    dyn = subprocess.run(["readelf", "-dW", str(MUSL_CLI)], capture_output=True, text=True, check=True).stdout
    assert "INTERP" not in prog and "DYNAMIC" not in prog, prog
    assert "There is no dynamic section" in dyn and "NEEDED" not in dyn, dyn


def test_runs_in_an_empty_chroot(tmp_path, dumps):
    """A root holding only the tool and a dump: json (the dump as written) is the glibc tool's; show prints the
    crash with every module's "not in this build"."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy2(MUSL_CLI, root / "lastgasp")
    shutil.copy2(dumps["c"], root / "c.dmp")
    assert sorted(os.listdir(root)) == ["c.dmp", "lastgasp"]
    e = dict(NO_DEBUGINFOD, LASTGASP_DEBUGINFO="off")
    p = subprocess.run(["chroot", str(root), "/lastgasp", "json", "/c.dmp"], capture_output=True, env=e, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == tool(GLIBC_CLI, "json", dumps["c"], debuginfo="off").stdout
    p = subprocess.run(["chroot", str(root), "/lastgasp", "show", "/c.dmp"], capture_output=True, text=True,
                       env=NO_DEBUGINFOD, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "SIGSEGV" in p.stdout and f"lines: none: {NOT_IN_BUILD}" in p.stdout, p.stdout


@pytest.mark.parametrize("key", ["c", "go", "musl_c"])
def test_output_as_written_is_the_glibc_tools(dumps, key):
    """LASTGASP_DEBUGINFO=off: show, json and html are the glibc tool's, byte for byte."""
    for cmd in ("show", "json", "html"):
        musl = tool(MUSL_CLI, cmd, dumps[key], debuginfo="off")
        glibc = tool(GLIBC_CLI, cmd, dumps[key], debuginfo="off")
        assert (musl.stdout, musl.stderr) == (glibc.stdout, glibc.stderr), cmd


@pytest.mark.parametrize("key", ["c", "go", "musl_c"])
def test_only_difference_is_the_dwarf_part(dumps, key):
    """The debug-info pass on (the default): the musl tool's output is the glibc tool's without DWARF, plus
    "none: not in this build" on every module, and nothing else; the glibc tool's own pass does add file:line
    here, which the musl tool's frames do not have."""
    as_written = {cmd: tool(GLIBC_CLI, cmd, dumps[key], debuginfo="off").stdout.decode()
                  for cmd in ("show", "json", "html")}
    musl = {cmd: tool(MUSL_CLI, cmd, dumps[key]).stdout.decode() for cmd in ("show", "json", "html")}

    j, ref = json.loads(musl["json"]), json.loads(as_written["json"])
    assert ref["modules"] and all(m["debug_info"] is None for m in ref["modules"])
    for m in j["modules"]:
        assert m.pop("debug_info") == {"from": "none", "path": None, "url": None, "note": NOT_IN_BUILD}, m
    for m in ref["modules"]:
        del m["debug_info"]
    assert j == ref

    line = f"      lines: none: {NOT_IN_BUILD}\n"
    assert musl["show"].count(line) == len(ref["modules"])
    assert musl["show"].replace(line, "") == as_written["show"]
    note = f'<div class="note">lines: none: {NOT_IN_BUILD}</div>'
    assert musl["html"].count(note) == len(ref["modules"])
    assert musl["html"].replace(note, "") == as_written["html"]

    # The part that differs: the glibc tool's DWARF pass gives the crashing thread's C frames a file:line.
    glibc = json.loads(tool(GLIBC_CLI, "json", dumps[key]).stdout)
    def located(doc):
        return [(f["function"], f["file"], f["line"]) for t in doc["threads"] if t["crashed"] for f in t["frames"]
                if f["file"] and f["line"]]
    assert located(glibc), "the glibc tool found no file:line: nothing would tell the two builds apart"
    assert set(located(glibc)) - set(located(j)), (located(glibc), located(j))


def test_debuginfo_on_is_refused(dumps):
    """LASTGASP_DEBUGINFO=on asks for DWARF: one line on stderr, nothing on stdout, exit 1 (the glibc tool: 0)."""
    for cmd in ("show", "json", "html"):
        p = tool(MUSL_CLI, cmd, dumps["c"], debuginfo="on", check=False, text=True)
        assert (p.returncode, p.stdout) == (1, ""), (cmd, p.returncode, p.stderr)
        assert p.stderr == (f"lastgasp {cmd}: LASTGASP_DEBUGINFO=on: file:line from DWARF is not in this build "
                            "(the static musl tool); use the glibc tool, or unset it\n"), p.stderr
        assert tool(GLIBC_CLI, cmd, dumps["c"], debuginfo="on").returncode == 0


def test_pprof_is_the_glibc_tools(tmp_path, dumps):
    """The goroutine profile of the Go dump: the same bytes, once gunzipped (and a profile at all)."""
    out = {}
    for name, cli in (("musl", MUSL_CLI), ("glibc", GLIBC_CLI)):
        tool(cli, "pprof", "-o", tmp_path / f"{name}.pb.gz", dumps["go"])
        out[name] = gzip.decompress((tmp_path / f"{name}.pb.gz").read_bytes())
    assert len(out["musl"]) > 100 and out["musl"] == out["glibc"]


def test_collect_bundle_read_by_the_glibc_tool(tmp_path, dumps):
    """`collect` by the musl tool: the glibc tool reads the bundle, and each dump in it as the dump itself."""
    src = tmp_path / "in"
    src.mkdir()
    for d in dumps.values():
        shutil.copy2(d, src)
    names = sorted(d.name for d in dumps.values())
    bundle = tmp_path / "b.zip"
    tool(MUSL_CLI, "collect", "-o", bundle, src)
    with zipfile.ZipFile(bundle) as z:
        assert z.testzip() is None
        assert sorted(z.namelist()) == sorted(names + ["manifest.json"])
    listing = json.loads(tool(GLIBC_CLI, "json", bundle, debuginfo="off").stdout)
    assert sorted(d["name"] for d in listing["dumps"]) == names
    assert all(d["error"] is None for d in listing["dumps"]), listing["dumps"]
    for name in names:
        inside = tool(GLIBC_CLI, "json", f"{bundle}:{name}", debuginfo="off").stdout
        assert json.loads(inside) == json.loads(tool(GLIBC_CLI, "json", src / name, debuginfo="off").stdout)


def test_upload_over_http(dumps):
    """The minidump upload to the local crash server: the dump arrives whole, in upload_file_minidump."""
    with CrashServer() as server:
        p = tool(MUSL_CLI, "upload", "--as=minidump", server.url + "/submit", dumps["c"], text=True)
        assert "uploaded (HTTP 200" in p.stdout, p.stdout
    (req,) = server.requests
    assert req["files"]["upload_file_minidump"][2] == dumps["c"].read_bytes()


def test_watch_ships_a_new_dump(tmp_path, dumps):
    """`watch DIR --upload URL`, the sidecar's job: a dump that appears in DIR arrives at the server and leaves
    DIR; SIGTERM ends the tool with exit 0 (inotify, the timers and the signal handling of the static build)."""
    spool = tmp_path / "spool"
    spool.mkdir()
    with CrashServer() as server:
        w = subprocess.Popen([str(MUSL_CLI), "watch", str(spool), "--upload", server.url + "/submit", "--rescan", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=NO_DEBUGINFOD)
        try:
            shutil.copy2(dumps["c"], spool / "svc.tmp")
            os.rename(spool / "svc.tmp", spool / "svc.dmp")  # complete when it appears, as the library's dumps
            deadline = time.monotonic() + 30
            while not server.requests and time.monotonic() < deadline and w.poll() is None:
                time.sleep(0.05)
            w.send_signal(signal.SIGTERM)
            rc = w.wait(timeout=30)
        finally:
            if w.poll() is None:
                w.kill()
                w.wait()
        out = w.stdout.read().decode()
    assert rc == 0, out
    (req,) = server.requests
    assert req["files"]["upload_file_minidump"][2] == dumps["c"].read_bytes()
    assert "svc.dmp: uploaded (HTTP 200" in out and not (spool / "svc.dmp").exists(), out


def make_certs(d):
    """A CA; certificates signed by it for localhost (a DNS name) and for 127.0.0.1 (an IP address); an unrelated
    CA. openssl, as the tests' machine has it."""
    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    for ca in ("ca", "other"):
        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.crt",
             "-days", "2", "-subj", f"/CN=lastgasp test {ca}")
    for name, san in (("localhost", "DNS:localhost"), ("127.0.0.1", "IP:127.0.0.1")):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", f"/CN={name}")
        (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")


@pytest.mark.parametrize("host,ca,accepted", [("localhost", "ca", True), ("localhost", "other", False),
                                              ("127.0.0.1", "ca", False)])
def test_upload_over_https(tmp_path, dumps, host, ca, accepted):
    """Over TLS, from a chroot that holds the tool, the dump and /etc/ssl/certs/ca-certificates.crt (nothing
    else: the TLS library draws its entropy from getrandom(2), without /dev). With the CA that signed the
    server's certificate there, the dump arrives; with another CA, libcurl refuses the server (exit 1, a
    certificate error) and nothing arrives. A documented limit, asserted so that a change shows: mbedTLS 2.28
    matches no IP address in a certificate (subjectAltName iPAddress), so https://127.0.0.1 is refused even
    with the right CA (libcurl resolves "localhost" itself, without /etc/hosts)."""
    make_certs(tmp_path)
    root = tmp_path / "root"
    (root / "etc/ssl/certs").mkdir(parents=True)
    shutil.copy2(tmp_path / f"{ca}.crt", root / "etc/ssl/certs/ca-certificates.crt")
    shutil.copy2(MUSL_CLI, root / "lastgasp")
    shutil.copy2(dumps["c"], root / "c.dmp")
    with CrashServer() as server:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tmp_path / f"{host}.crt", tmp_path / f"{host}.key")
        server.httpd.socket = ctx.wrap_socket(server.httpd.socket, server_side=True)
        url = f"https://{host}:{server.port}/submit"
        p = subprocess.run(["chroot", str(root), "/lastgasp", "upload", "--as=minidump", "--tries=1", url, "/c.dmp"],
                           capture_output=True, text=True, env=NO_DEBUGINFOD, timeout=120)
    if accepted:
        assert p.returncode == 0 and "uploaded (HTTP 200" in p.stdout, p.stdout + p.stderr
        (req,) = server.requests
        assert req["files"]["upload_file_minidump"][2] == dumps["c"].read_bytes()
    else:
        assert p.returncode == 1 and not server.requests, p.stdout + p.stderr
        assert "SSL peer certificate or SSH remote key was not OK" in p.stderr, p.stderr


def test_install(tmp_path):
    """make install LIBC=musl: the musl library, and the static tool and its man page, which says what this
    build lacks."""
    p = subprocess.run(["make", "-s", "LIBC=musl", "install", f"DESTDIR={tmp_path}", "PREFIX=/usr"], cwd=R.ROOT,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "usr/bin/lastgasp").read_bytes() == MUSL_CLI.read_bytes()
    assert (tmp_path / "usr/lib/liblastgasp.a").is_file()
    man = (tmp_path / "usr/share/man/man1/lastgasp.1").read_text()
    assert "the static musl tool" in man.replace("\\-", "-")
