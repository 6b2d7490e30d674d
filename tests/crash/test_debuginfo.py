"""C frames get file:line and inlined frames from DWARF (issue 11), in `lastgasp show`, `json` and `html`:
from the module's file when its identity is the dump's, else from a debuginfod server. The server here is
elfutils' own `debuginfod`, started by the tests on a free port and asked through 127.0.0.1 only; the debug
file it serves exists nowhere else (objcopy --only-keep-debug into the server's directory, then the binary is
stripped), so a line that shows up can only have come from it."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from pylib import readers as R
from test_module_id import PROGS, build_go, crash

C_SRC = r"""
#include <stdio.h>
int *volatile target;

static inline __attribute__((always_inline)) int store(int v)
{
    *target = v; /* FAULT */
    return v + 1;
}

__attribute__((noinline)) int outer(int v)
{
    int r = store(v) * 3; /* CALL */
    return r;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    return outer(7) + 1; /* MAIN */
}
"""


def line_of(text, marker):
    return next(i for i, l in enumerate(text.splitlines(), 1) if marker in l)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_id(path):
    out = subprocess.run(["readelf", "-n", str(path)], capture_output=True, text=True).stdout
    return next(l.split()[-1] for l in out.splitlines() if "Build ID" in l)


class Debuginfod:
    """elfutils' debuginfod serving the files of one directory; never federating (DEBUGINFOD_URLS unset)."""

    def __init__(self, work):
        self.dir = work / "served"
        self.dir.mkdir()
        self.work = work
        self.proc = None

    def start(self):
        self.port = free_port()
        e = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD")}
        self.log = open(self.work / "debuginfod.log", "w")
        self.proc = subprocess.Popen(["debuginfod", "-F", str(self.dir), "-p", str(self.port),
                                      "-d", str(self.work / "db.sqlite"), "-t", "1", "-g", "0"],
                                     env=e, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, bid, timeout=60):
        """Until the server has scanned the file with this build-id (its scan runs in the background)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.work / "debuginfod.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{self.url}/buildid/{bid}/debuginfo", timeout=5) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            time.sleep(0.3)
        raise AssertionError("debuginfod never served " + bid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self.log.close()


def split_debug(binary, served):
    """Move binary's DWARF into the server's directory only, and strip the binary."""
    debug = served / (binary.name + ".debug")
    subprocess.run(["objcopy", "--only-keep-debug", str(binary), str(debug)], check=True)
    subprocess.run(["strip", str(binary)], check=True)
    out = subprocess.run(["readelf", "-S", str(binary)], capture_output=True, text=True).stdout
    assert ".debug_info" not in out and ".symtab" not in out
    return debug


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A stripped C program and a stripped cgo program (external linking), their debug files served by a
    debuginfod on 127.0.0.1, and a dump of each crashing in an inlined static C function."""
    work = tmp_path_factory.mktemp("debuginfo")
    server = Debuginfod(work)
    try:
        src = work / "inl.c"
        src.write_text(C_SRC)
        cprog = work / "inl"
        subprocess.run(["gcc", "-O2", "-g", "-o", str(cprog), str(src)], check=True)
        split_debug(cprog, server.dir)
        goprog = build_go(work / "cgoinl", cgo=True)
        split_debug(goprog, server.dir)
        server.start()
        for p in (cprog, goprog):
            server.wait_for(build_id(p))
        dumps = work / "dumps"
        yield {"server": server, "c": cprog, "c_src": src, "c_dump": crash(cprog, dumps=dumps),
               "go": goprog, "go_dump": crash(goprog, "cfault", dumps=dumps), "work": work}
    finally:
        server.stop()


def cli(command, dump, *, urls=None, cache, extra=None, timeout=120):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUGINFOD", "LASTGASP_"))}
    e["DEBUGINFOD_CACHE_PATH"] = str(cache)
    if urls:
        e["DEBUGINFOD_URLS"] = urls
    e.update(extra or {})
    p = subprocess.run([str(R.CLI), command, str(dump)], env=e, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr
    return p.stdout


def crashing_frames(j):
    t = next(t for t in j["threads"] if t["crashed"])
    return t["frames"]


def module(j, path):
    return next(m for m in j["modules"] if m["path"] == str(path))


def test_stripped_c_program_lines_from_debuginfod(served, tmp_path):
    s = served
    j = json.loads(cli("json", s["c_dump"], urls=s["server"].url, cache=tmp_path / "cache"))
    text = s["c_src"].read_text()
    f = crashing_frames(j)
    assert [(x["function"], x["inlined"], os.path.basename(x["file"] or ""), x["line"]) for x in f[:3]] == [
        ("store", True, "inl.c", line_of(text, "FAULT")),
        ("outer", False, "inl.c", line_of(text, "CALL")),
        ("main", False, "inl.c", line_of(text, "MAIN")),
    ], f[:3]
    assert f[0]["pc"] == f[1]["pc"] and f[0]["offset"] is None and f[1]["offset"] is not None
    m = module(j, s["c"])
    assert m["debug_info"]["from"] == "debuginfod" and m["debug_info"]["url"].startswith(s["server"].url), m
    # show and html say the same, and where the lines came from
    show = cli("show", s["c_dump"], urls=s["server"].url, cache=tmp_path / "cache")
    assert f"in store [inlined] at {s['c_src']}:{line_of(text, 'FAULT')}" in show, show
    assert f"lines: debuginfod {s['server'].url}" in show
    html = cli("html", s["c_dump"], urls=s["server"].url, cache=tmp_path / "cache")
    assert f"inl.c:{line_of(text, 'FAULT')}" in html and "lines: debuginfod" in html


def test_without_debug_info_frames_stay_as_the_dump_has_them(served, tmp_path):
    s = served
    j = json.loads(cli("json", s["c_dump"], cache=tmp_path / "cache"))
    off = json.loads(cli("json", s["c_dump"], urls=s["server"].url, cache=tmp_path / "cache",
                         extra={"LASTGASP_DEBUGINFO": "off"}))
    f = [x for x in crashing_frames(j) if x["module"] == "inl"]  # (libc may have a distribution debug file)
    assert len(f) == 3 and not any(x["inlined"] or x["file"] for x in f), f
    assert f == [x for x in crashing_frames(off) if x["module"] == "inl"]  # as with the pass off
    m = module(j, s["c"])
    assert m["debug_info"]["from"] == "none" and "DEBUGINFOD_URLS is not set" in m["debug_info"]["note"], m
    assert module(off, s["c"])["debug_info"] is None


def test_cgo_inlined_static_c_function_from_debuginfod(served, tmp_path):
    s = served
    j = json.loads(cli("json", s["go_dump"], urls=s["server"].url, cache=tmp_path / "cache"))
    text = (PROGS / "goid_cgo.go").read_text()
    fault, call = line_of(text, "*lg_target = v;"), line_of(text, "return lg_store(v) * 3;")
    g = j["go"]["goroutines"][0]
    assert g["crashed"]
    want = [("lg_store", True, "goid_cgo.go", fault), ("lg_crash_in_c", True, "goid_cgo.go", call)]
    got = [(x["function"], x["inlined"], os.path.basename(x["file"] or ""), x["line"]) for x in g["frames"][:2]]
    assert got == want and all(x["native"] for x in g["frames"][:3]), g["frames"][:4]
    assert g["frames"][2]["function"].endswith("_Cfunc_lg_crash_in_c") and not g["frames"][2]["inlined"]
    f = crashing_frames(j)
    assert [(x["function"], x["inlined"], os.path.basename(x["file"] or ""), x["line"]) for x in f[:2]] == want
    assert module(j, s["go"])["debug_info"]["from"] == "debuginfod"
    show = cli("show", s["go_dump"], urls=s["server"].url, cache=tmp_path / "cache")
    assert f"lg_store (inlined)\n\t(C) {PROGS}" not in show  # the build's copy of the source, not ours
    assert f"lg_store (inlined)\n\t(C) " in show and f"goid_cgo.go:{fault} pc=" in show


def test_cached_and_time_bounded(served, tmp_path):
    """A second run takes the debug file from libdebuginfod's cache (the server is not asked: its port is
    closed then); a server that never answers costs at most LASTGASP_DEBUGINFOD_TIMEOUT."""
    s = served
    cache = tmp_path / "cache"
    cli("json", s["c_dump"], urls=s["server"].url, cache=cache)
    dead = f"http://127.0.0.1:{free_port()}"
    j = json.loads(cli("json", s["c_dump"], urls=dead, cache=cache))
    assert crashing_frames(j)[0]["function"] == "store"
    with socket.socket() as mute:  # accepts connections, never answers
        mute.bind(("127.0.0.1", 0))
        mute.listen(16)
        url = f"http://127.0.0.1:{mute.getsockname()[1]}"
        t0 = time.monotonic()
        j = json.loads(cli("json", s["c_dump"], urls=url, cache=tmp_path / "cold",
                           extra={"LASTGASP_DEBUGINFOD_TIMEOUT": "2"}, timeout=60))
        took = time.monotonic() - t0
    m = module(j, s["c"])
    assert m["debug_info"]["from"] == "none" and "timed out" in m["debug_info"]["note"], m
    assert took < 30, took  # a hang detector, not a budget
    assert crashing_frames(j)[0]["file"] is None
    # a query cut short is not remembered as "not found": the next run with a server that answers gets lines
    j = json.loads(cli("json", s["c_dump"], urls=s["server"].url, cache=tmp_path / "cold"))
    assert crashing_frames(j)[0]["function"] == "store"


def test_local_file_with_matching_build_id(tmp_path):
    """Not stripped: the lines come from the module's own file, and the output says so."""
    src = tmp_path / "inl.c"
    src.write_text(C_SRC)
    prog = tmp_path / "inl"
    subprocess.run(["gcc", "-O2", "-g", "-o", str(prog), str(src)], check=True)
    dump = crash(prog, dumps=tmp_path / "d")
    j = json.loads(cli("json", dump, cache=tmp_path / "cache"))
    f = crashing_frames(j)
    assert (f[0]["function"], f[0]["inlined"], f[0]["line"]) == ("store", True, line_of(C_SRC, "FAULT"))
    assert module(j, prog)["debug_info"] == {"from": "file", "path": str(prog), "url": None, "note": None}
    # rebuilt with another build-id: its lines would be wrong, so they are not used
    subprocess.run(["gcc", "-O2", "-g", "-DOTHER", "-Wl,--build-id=0x" + "ee" * 20, "-o", str(prog), str(src)],
                   check=True)
    j = json.loads(cli("json", dump, cache=tmp_path / "cache"))
    assert crashing_frames(j)[0]["file"] is None
    assert "not the one that ran" in module(j, prog)["debug_info"]["note"]
