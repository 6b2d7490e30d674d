"""Go fidelity: the dump of a Go crash against the Go runtime's own traceback of the same crash.

Every corpus program (tests/go/corpus) is built with cgo (dynamically linked) in four build modes
and with each Go toolchain of GO_FIDELITY_VERSIONS, run with lastgasp preloaded and GOTRACEBACK=crash,
and compared goroutine by goroutine with fidelity.compare (ids, statuses and wait reasons, function
sequences with file:line, created-by); its go.reason is compared with the runtime's first lines
(fidelity.runtime_reason).
"""
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIB = ROOT / "build/liblastgasp.so"
CLI = ROOT / "build/lastgasp"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)  # "traceback" would shadow the stdlib
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gotb = _load("go_traceback", HERE / "traceback.py")
fidelity = _load("go_fidelity", HERE / "fidelity.py")

VERSIONS = os.environ.get("GO_FIDELITY_VERSIONS", "local go1.22.12").split()
MODES = {
    "default": [],
    "pie": ["-buildmode=pie"],
    "stripped": ["-ldflags=-s -w"],
    "noopt": ["-gcflags=all=-N -l"],
}
# Not compared here, and why:
#  deadlock  static by necessity (cgo turns the runtime's deadlock detector off, golang/go#25538):
#            LD_PRELOAD cannot reach it, and a process that has lastgasp through cgo never dies
#            this way. It stays in the corpus for the traceback parser's own tests.
#  cgofault  the runtime forwards a fault in C code to the handler installed before it (lastgasp)
#            and prints nothing: there is no traceback to compare; test_cgo_fault_goroutine checks
#            the dump against the source instead.
NOT_COMPARED = {"deadlock", "cgofault"}
PROGRAMS = sorted(p.name for p in (HERE / "corpus").iterdir()
                  if p.is_dir() and (p / "main.go").exists() and p.name not in NOT_COMPARED)

_builds = {}


def build(version, mode, prog):
    key = (version, mode)
    if key not in _builds:
        _builds[key] = Path(tempfile.mkdtemp(prefix=f"lastgasp-go-{version}-{mode}-"))
    out = _builds[key] / prog
    if not out.exists():
        env = dict(os.environ, CGO_ENABLED="1")
        if version != "local":
            env["GOTOOLCHAIN"] = version
        subprocess.run(["go", "build", *MODES[mode], "-o", str(out), "./" + prog], cwd=HERE / "corpus", env=env,
                       check=True, capture_output=True, timeout=600)
    return out


_runs = {}


def crash_once(version, mode, prog):
    """crash(build(...)) once per program, build mode and version: the tests below share the run."""
    key = (version, mode, prog)
    if key not in _runs:
        _runs[key] = crash(build(version, mode, prog))
    return _runs[key]


def crash(binary):
    work = Path(tempfile.mkdtemp(prefix="lastgasp-go-run-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    env.update(LD_PRELOAD=str(LIB), LASTGASP_DIR=str(work), GOTRACEBACK="crash")
    p = subprocess.run([str(binary)], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    dumps = list(work.glob("*.dmp"))
    j = None
    if len(dumps) == 1:
        out = subprocess.run([str(CLI), "json", str(dumps[0])], capture_output=True, text=True, timeout=60)
        j = json.loads(out.stdout)
    shutil.rmtree(work, ignore_errors=True)
    return p, dumps, j


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("prog", PROGRAMS)
def test_dump_matches_go_traceback(version, mode, prog):
    p, dumps, j = crash_once(version, mode, prog)
    assert p.returncode < 0, f"{prog} did not die of a signal: {p.returncode}\n{p.stderr[-3000:]}"
    assert len(dumps) == 1, f"{len(dumps)} dumps\n{p.stderr[-3000:]}"
    go = j["go"]
    assert go, f"no Go stream; notes: {j.get('notes')}"
    want_version = subprocess.run(["go", "version"], capture_output=True, text=True,
                                  env=dict(os.environ, **({"GOTOOLCHAIN": version} if version != "local" else {})))
    assert go["version"] in want_version.stdout
    assert go["build_info"]["path"] == f"lastgasp.test/corpus/{prog}", go["build_info"]
    assert go["build_info"]["settings"]["CGO_ENABLED"] == "1"
    tb = gotb.parse_goroutines(p.stderr)
    printed = [g for g in tb if g["frames"]]
    assert printed, "the runtime printed no goroutine with a stack"
    crashed = go["crashing_goroutine"]
    problems = fidelity.compare(tb, go, crashed)
    assert not problems, "\n".join(problems[:10])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("prog", PROGRAMS)
def test_reason_matches_go_output(version, mode, prog):
    """go.reason is what the runtime printed first (fidelity.runtime_reason), byte for byte, but for
    the values lastgasp does not decode, which must read as documented (fidelity.REASON_FALLBACKS)."""
    p, dumps, j = crash_once(version, mode, prog)
    assert len(dumps) == 1 and j["go"], f"no Go dump\n{p.stderr[-3000:]}"
    want = fidelity.expected_reason(prog, p.stderr, j["go"]["version"])
    assert want, f"the runtime printed no reason:\n{p.stderr[:2000]}"
    assert j["go"]["reason"] == want, f"\n  dump:    {j['go']['reason']!r}\n  runtime: {want!r}"


def marker_line(prog, marker):
    for i, line in enumerate((HERE / "corpus" / prog / "main.go").read_text().splitlines(), 1):
        if marker in line:
            return i
    raise AssertionError(f"no {marker} in {prog}")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", sorted(MODES))
def test_cgo_fault_goroutine(version, mode):
    """A fault in C called through cgo: one stack, C frames (the crashing thread's) below the Go
    frames of the goroutine in the cgo call, with the lines of the source."""
    p, dumps, j = crash_once(version, mode, "cgofault")
    assert p.returncode == -11 and len(dumps) == 1, p.stderr[-2000:]
    go = j["go"]
    (g,) = [g for g in go["goroutines"] if g["crashed"]]
    assert g["id"] == go["crashing_goroutine"] and g["status"] == "syscall"
    # A fault in C: no panic and no fatal error, so no reason (the signal says it).
    assert go["reason"] is None, go["reason"]
    native = [f for f in g["frames"] if f["native"]]
    frames = [(f["function"], f["line"]) for f in g["frames"] if not f["native"]]
    src = str(HERE / "corpus/cgofault/main.go")
    # One stack: the C frames of the cgo call first (a static function has no name when stripped)...
    assert g["frames"][0]["native"] and len(native) >= 1, g["frames"][:3]
    assert native[0]["function"] == (None if mode == "stripped" else "store_in_c"), native
    # ...then the Go frames, from the call into C up to main.
    assert frames[0][0] == "runtime.cgocall", frames
    assert ("main.callC", marker_line("cgofault", "CALLER-HERE")) in frames, frames
    assert ("main.main", marker_line("cgofault", "MAIN-CALLS")) in frames, frames
    go_frames = [f for f in g["frames"] if not f["native"]]
    assert all(f["file"] for f in go_frames) and any(f["file"] == src for f in go_frames)
    (t,) = [t for t in j["threads"] if t["crashed"]]
    names = [f["function"] or "" for f in t["frames"]]
    # A static C function has no name in a stripped binary (no .symtab): null, never a wrong one.
    assert names[0] == ("" if mode == "stripped" else "store_in_c"), names
    assert any(n.startswith("runtime.asmcgocall") for n in names), names  # the pclntab names it


def test_unsupported_go_version_gives_a_native_dump_that_says_why(tmp_path):
    """Go 1.21 (before the versions lastgasp knows the runtime of): a native dump, no Go stream, and a
    note naming the version."""
    (tmp_path / "go.mod").write_text("module old\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text('package main\n\nimport "C"\n\ntype T struct{ x int }\n\n'
                                      'func main() {\n\tvar p *T\n\tp.x = 1\n}\n')
    env = dict(os.environ, CGO_ENABLED="1", GOTOOLCHAIN="go1.21.13")
    subprocess.run(["go", "build", "-o", "old"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=600)
    p, dumps, j = crash(tmp_path / "old")
    assert p.returncode < 0 and len(dumps) == 1, p.stderr[-2000:]
    assert j["go"] is None
    assert "go1.21.13 is not supported" in j["notes"], j["notes"]
    assert any(t["crashed"] and t["frames"] for t in j["threads"])
