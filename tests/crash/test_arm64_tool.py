"""The arm64 `lastgasp` tool (build/arm64/lastgasp, `make ARCH=arm64`) does what the amd64 tool does: each is run
on the same input, the arm64 one under qemu-user (tests/pylib/arm64.py: qemu-aarch64 -L with the tree of Debian's
arm64 libraries it links), and they must give the same result.

"The same" here means byte for byte: for the same arguments, environment and working directory, the arm64 tool's
exit status, standard output and standard error are the amd64 tool's, with no normalization. Nothing needs one:
the tool names itself "lastgasp" in its messages whatever argv[0] is, and the modules a dump names (for symbols
and DWARF file:line) are read at the same paths by both, since qemu's -L tree holds none of them. The only
allowed differences are those of any two runs of one tool: the process id in a temporary file's name (in a
message that names it), a bundle's creation time and what it changes (collect's manifest.json and the bundle's
size), and a multipart boundary and what it changes (upload, tests/ship/test_arm64_ship.py).

Inputs: dumps of the C crash matrix's scenarios on arm64 (under qemu, as tests/crash/test_arm64.py makes them)
and on amd64, of two Go programs on both (a fault in C under cgo, tests/crash/cgo; a panic in Go with goroutines
parked, tests/bench/gocrash), and Breakpad's own dump (tests/pylib/foreign.py, as
test_foreign.py reads it); broken inputs and outputs; the command line itself. Upload and watch: tests/ship/
test_arm64_ship.py. Installing the arm64 tool: tests/install/test_install.py.

The same tool on a real arm64 kernel (Debian's, in a machine emulated by qemu-system-aarch64, one boot): show,
json, html and pprof of arm64, amd64, Go and Breakpad dumps, --version, a missing file and collect, against the
amd64 tool here (test_on_an_arm64_kernel_*).
"""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from pylib import arm64 as A
from pylib import foreign as F
from pylib import readers as R
from pylib import scenarios as S

# The crash matrix's scenarios whose dumps are compared: one of each kind of death arm64 has under qemu
# (test_arm64.py's LIMITS says which it has not), and the linked build chaining to a user handler.
# threads500 is left out for its cost under qemu only.
SCENARIOS = ["null_write", "thread_null", "abort", "illegal", "trap", "sigbus", "overflow_main", "smashed_frames",
             "annotations", "user_handler"]
# Go: the cgo program's fault in C (tests/crash/cgo, "go"), and a panic in Go code with 50 goroutines parked
# (tests/bench/gocrash, "gopanic").
GO = ["go", "gopanic"]
DUMPS = [f"{arch}-{s}" for arch in ("arm64", "amd64") for s in SCENARIOS + GO] + ["breakpad"]
COMMANDS = ["show", "json", "html", "pprof"]
# Both tools read DWARF from the modules' files (file:line is compared too), never from the network.
ENV = {"LASTGASP_DEBUGINFOD": "off"}


@pytest.fixture(scope="module")
def built():
    """Both tools, the programs, and the Go programs cross-built for arm64 beside the arm64 crasher."""
    for args in (["all", "test-bins", "build/tests/gocrash"], ["ARCH=arm64", "all", "arm64-test-bins"]):
        p = subprocess.run(["make", "-s", *args], cwd=R.ROOT, capture_output=True, text=True, timeout=1800)
        assert p.returncode == 0, p.stdout + p.stderr
    A.go_build(R.ROOT / "tests/crash/cgo", A.TESTS / "cgocrash")
    A.go_build(R.ROOT / "tests/bench/gocrash", A.TESTS / "gocrash")


def go_panic(arch, work):
    """gocrash with lastgasp preloaded: 50 goroutines parked, then a nil dereference in main, which the runtime
    reports as a panic (exit 2, as without lastgasp); the dump it leaves."""
    tests = A.TESTS if arch == "arm64" else R.TESTS
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    env.update(LASTGASP_DIR=str(work), LD_PRELOAD=str(A.LIB if arch == "arm64" else R.LIB))
    argv = [str(tests / "gocrash"), "50", "0", "1"]  # fd 1: where it writes the time of the fault
    if arch == "arm64":
        argv, env = A.wrap(argv, env)
    p = subprocess.run(argv, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=180)
    found = sorted(work.glob("*.dmp"))
    assert p.returncode == 2 and len(found) == 1, (arch, p.returncode, p.stderr[-2000:])
    return found[0]


@pytest.fixture(scope="module")
def dumps(built, tmp_path_factory):
    """{name in DUMPS: the path of its dump}, all in one directory (collect bundles it as a whole)."""
    d = tmp_path_factory.mktemp("arm64-tool-dumps")
    out = {}
    for arch in ("arm64", "amd64"):
        kw = {"tests": A.TESTS, "lib": A.LIB, "wrap": A.wrap, "timeout": 120} if arch == "arm64" else {}
        for scenario in SCENARIOS + ["go"]:
            if scenario == "go":
                run = R.run_crasher("-", binary="cgocrash", tripwire=False, **kw)
            else:
                binary, _, _, extra = S.SCENARIOS[scenario]
                run = R.run_crasher(scenario, binary=binary, tripwire=extra.get("tripwire", True), **kw)
            try:
                assert len(run.dumps) == 1, f"{arch} {scenario}: {run.stderr}"
                out[f"{arch}-{scenario}"] = Path(shutil.copy2(run.dumps[0], d / f"{arch}-{scenario}.dmp"))
            finally:
                R.cleanup(run)
        work = tmp_path_factory.mktemp(f"{arch}-gopanic")
        out[f"{arch}-gopanic"] = Path(shutil.copy2(go_panic(arch, work), d / f"{arch}-gopanic.dmp"))
    foreign = tmp_path_factory.mktemp("arm64-tool-foreign")
    out["breakpad"] = Path(shutil.copy2(F.breakpad_dump(foreign), d / "breakpad.dmp"))
    assert sorted(out) == sorted(DUMPS)
    return out


def amd64(*args, cwd=None, env=None, stdout=subprocess.PIPE, timeout=120):
    return subprocess.run([str(R.CLI), *map(str, args)], stdout=stdout, stderr=subprocess.PIPE, cwd=cwd,
                          env=dict(os.environ, **ENV, **(env or {})), timeout=timeout)


def arm64(*args, cwd=None, env=None, stdout=subprocess.PIPE, timeout=120):
    return subprocess.run(A.tool_argv(*args), stdout=stdout, stderr=subprocess.PIPE, cwd=cwd,
                          env=dict(os.environ, **ENV, **(env or {})), timeout=timeout)


# A temporary file's name holds the process id of the tool that made it.
TEMPORARY = re.compile(rb"(\.lastgasp-[a-z]+-)\d+(\.tmp)")


def both(*args, between=None, **kw):
    """(amd64's result, arm64's result) of `lastgasp ARGS`, asserted the same byte for byte; amd64's returned.
    between: called between the two runs (to remove what the first wrote)."""
    a = amd64(*args, **kw)
    if between:
        between()
    b = arm64(*args, **kw)
    a.stderr, b.stderr = (TEMPORARY.sub(rb"\1PID\2", x.stderr) for x in (a, b))
    what = "lastgasp " + " ".join(map(str, args))
    assert b.returncode == a.returncode, f"{what}: exit {a.returncode} on amd64, {b.returncode} on arm64\n" \
                                         f"{a.stderr.decode()[-2000:]}\n---\n{b.stderr.decode()[-2000:]}"
    assert b.stderr == a.stderr, \
        f"{what}: stderr differs\n{a.stderr.decode()[-2000:]}\n---\n{b.stderr.decode()[-2000:]}"
    assert b.stdout == a.stdout, f"{what}: stdout differs:\n" + first_difference(a.stdout, b.stdout)
    return a


def first_difference(x, y):
    if x is None or y is None:
        return ""
    at = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
    return f"lengths {len(x)} and {len(y)}; first difference at byte {at}:\n{x[max(0, at - 200):at + 200]!r}\n---\n" \
           f"{y[max(0, at - 200):at + 200]!r}"


def test_the_tool_is_arm64_code_linking_debians_arm64_libraries(built):
    """What the comparisons run is the arm64 build: aarch64 code, linked with the libraries of the arm64 tree
    (so a test that passes cannot be the amd64 tool compared with itself)."""
    head = subprocess.run(["readelf", "-h", str(A.CLI)], capture_output=True, text=True, check=True).stdout
    assert "AArch64" in head, head
    dyn = subprocess.run(["readelf", "-d", str(A.CLI)], capture_output=True, text=True, check=True).stdout
    for lib in ("libminizip.so", "libz.so", "libcurl.so", "libdw.so", "libc.so.6"):
        assert f"[{lib}" in dyn, (lib, dyn)
    assert A.tool_argv("--version")[0] == A.QEMU


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", DUMPS)
def test_same_output(dumps, name, command):
    """show, json, html and pprof of one dump: the same bytes, the same messages, the same exit status."""
    a = both(command, dumps[name])
    go = name.split("-")[-1] in GO
    if command == "pprof" and not go:
        # A dump without goroutines has no profile: both refuse it alike.
        assert a.returncode == 1 and b"no goroutines" in a.stderr, a.stderr
        return
    assert a.returncode == 0 and len(a.stdout) > 100, a.stderr
    if command == "show" and name.startswith("arm64-") and not go:
        # The comparison covers DWARF too: arm64 frames with the crasher's file:line.
        assert "crasher.c:" in a.stdout.decode(), a.stdout.decode()[:3000]
    if command == "json":
        j = json.loads(a.stdout)
        assert j["system"]["arch"] == ("arm64" if name.startswith("arm64-") else "amd64"), j["system"]
        if name.endswith("-gopanic"):  # the goroutines are compared too: main and the 50 parked ones at least
            assert len(j["go"]["goroutines"]) >= 51 and j["go"]["reason"].startswith("panic: "), j["go"]["reason"]


def test_same_output_from_standard_input(dumps):
    """A dump on standard input (-), as an operator pipes it."""
    for name in ("arm64-null_write", "amd64-go"):
        data = dumps[name].read_bytes()
        ra = subprocess.run([str(R.CLI), "json", "-"], input=data, capture_output=True, env=dict(os.environ, **ENV))
        rb = subprocess.run(A.tool_argv("json", "-"), input=data, capture_output=True, env=dict(os.environ, **ENV))
        assert ra.returncode == 0 and (rb.returncode, rb.stdout, rb.stderr) == (ra.returncode, ra.stdout, ra.stderr)


# ---- collect: a bundle made by one tool is read by the other ----

def sha(data):
    return hashlib.sha256(data).hexdigest()


def test_collect_bundles_read_back_across(dumps, tmp_path):
    """collect --with-binaries by each tool over the same dumps: the same summary, the same entries with the same
    bytes, the same manifest but its creation time; each tool reads the other's bundle as its own, and a dump
    taken out of either bundle renders as the original file does."""
    d = tmp_path / "dumps"
    d.mkdir()
    for p in dumps.values():
        shutil.copy2(p, d)
    out = {}
    for arch, run in (("amd64", amd64), ("arm64", arm64)):
        bundle = tmp_path / arch / "b.zip"
        bundle.parent.mkdir()
        p = run("collect", "--with-binaries", "-o", "b.zip", d, cwd=bundle.parent)
        # Exit 3: the sigbus scenario's mapped file was deleted, so its binary cannot be included; nothing else.
        lines = p.stderr.decode().splitlines()
        assert p.returncode == 3 and lines and all("/lastgasp-sigbus-" in x for x in lines), p.stderr.decode()
        out[arch] = (bundle, p)
    (ba, pa), (bb, pb) = out["amd64"], out["arm64"]
    # The summary gives the bundle's size, which its manifest's creation time changes (by a few bytes of deflate).
    size = re.compile(rb"\(\d+ bytes\)")
    assert (pb.returncode, size.sub(b"", pb.stdout), pb.stderr) == (pa.returncode, size.sub(b"", pa.stdout), pa.stderr)
    assert f"collected {len(dumps)} dumps into b.zip".encode() in pa.stdout + pa.stderr, pa.stdout + pa.stderr

    entries, infos = {}, {}
    for arch, (bundle, _) in out.items():
        with zipfile.ZipFile(bundle) as z:
            assert z.testzip() is None, f"{arch}: a damaged entry"
            entries[arch] = {n: z.read(n) for n in z.namelist()}
            infos[arch] = {i.filename: (i.compress_type, i.compress_size, i.CRC) for i in z.infolist()
                           if i.filename != "manifest.json"}
    # Compressed alike too: the arm64 build's zlib deflates each entry to the same bytes.
    assert infos["arm64"] == infos["amd64"]
    assert sorted(entries["arm64"]) == sorted(entries["amd64"])
    for name in entries["amd64"]:
        if name.endswith(".dmp"):
            assert entries["arm64"][name] == (d / name).read_bytes(), name
        elif name != "manifest.json":
            assert entries["arm64"][name] == entries["amd64"][name], name
    assert any(n.startswith("binaries/") and "crasher" in n for n in entries["arm64"]), sorted(entries["arm64"])
    man = {arch: json.loads(e["manifest.json"]) for arch, e in entries.items()}
    for m in man.values():
        m.pop("created")
    assert man["arm64"] == man["amd64"]
    assert {x["name"]: x["sha256"] for x in man["arm64"]["dumps"]} == {p.name: sha(p.read_bytes()) for p in d.iterdir()}

    # Across: each tool reads both bundles, and says the same of each.
    for bundle in (ba, bb):
        for command in ("show", "json"):
            both(command, bundle.name, cwd=bundle.parent)
        # One dump of the bundle, as the original file renders.
        for name in ("arm64-go.dmp", "amd64-abort.dmp", "breakpad.dmp"):
            a = both("show", f"{bundle}:{name}")
            assert a.returncode == 0 and a.stdout == amd64("show", d / name).stdout, name
    # And the two bundles read alike: the same text but the bundle's own name.
    sa = amd64("show", ba).stdout.decode().replace(str(ba), "B")
    sb = amd64("show", bb).stdout.decode().replace(str(bb), "B")
    assert sa == sb


# ---- bad input, bad output ----

@pytest.fixture(scope="module")
def broken(dumps, tmp_path_factory):
    """Inputs no tool can read whole: a dump cut after its header, one cut in half, a file that is not a dump,
    and a directory with a file that is not a dump among dumps."""
    d = tmp_path_factory.mktemp("arm64-tool-broken")
    data = dumps["arm64-null_write"].read_bytes()
    (d / "header.dmp").write_bytes(data[:40])
    (d / "half.dmp").write_bytes(data[:len(data) // 2])
    go = dumps["arm64-go"].read_bytes()
    (d / "go-half.dmp").write_bytes(go[:len(go) // 2])
    (d / "text.dmp").write_text("not a minidump\n")
    (d / "mixed").mkdir()
    shutil.copy2(dumps["amd64-abort"], d / "mixed")
    (d / "mixed" / "junk.dmp").write_text("not a minidump\n")
    (d / "empty").mkdir()
    return d


BAD = {
    # name: (arguments, with {d} the directory of `broken` and {go} a Go dump, the exit status amd64 must give)
    "missing_show": (["show", "{d}/none.dmp"], 1),
    "missing_json": (["json", "{d}/none.dmp"], 1),
    "missing_html": (["html", "{d}/none.dmp"], 1),
    "missing_pprof": (["pprof", "{d}/none.dmp"], 1),
    "missing_dir_collect": (["collect", "-o", "{d}/out-missing.zip", "{d}/none"], None),
    "header_only_show": (["show", "{d}/header.dmp"], None),
    "header_only_json": (["json", "{d}/header.dmp"], None),
    "half_show": (["show", "{d}/half.dmp"], None),
    "half_json": (["json", "{d}/half.dmp"], None),
    "half_html": (["html", "{d}/half.dmp"], None),
    "go_half_pprof": (["pprof", "{d}/go-half.dmp"], None),
    "text_show": (["show", "{d}/text.dmp"], 1),
    "text_json": (["json", "{d}/text.dmp"], 1),
    "not_a_bundle_member": (["show", "{d}/half.dmp:x.dmp"], None),
    "collect_skips_junk": (["collect", "-o", "{d}/out-mixed.zip", "{d}/mixed"], 3),
    "collect_nothing": (["collect", "-o", "{d}/out-empty.zip", "{d}/empty"], 4),
    "collect_unwritable": (["collect", "-o", "{d}/no/such/dir/b.zip", "{d}/mixed"], 1),
    "collect_existing": (["collect", "-o", "{d}/text.dmp", "{d}/mixed"], 1),
    "pprof_unwritable": (["pprof", "-o", "{d}/no/such/dir/p.pb.gz", "{go}"], 1),
    "usage_missing_file": (["show"], 2),
    "usage_unknown_option": (["json", "--frob", "x"], 2),
    "usage_unknown_command": (["frobnicate"], 2),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_same_message_and_status(broken, dumps, case):
    args, status = BAD[case]
    args = [a.format(d=broken, go=dumps["arm64-go"]) for a in args]
    def clean():  # collect never replaces a bundle: each run starts without one
        for out in broken.glob("out-*.zip"):
            out.unlink()

    clean()
    a = both(*args, between=clean)
    if status is not None:
        assert a.returncode == status, (a.returncode, a.stderr.decode())
    else:
        assert a.returncode in (0, 1), (a.returncode, a.stderr.decode())  # a cut dump: rendered with warnings, or not
    assert a.returncode == 0 or a.stderr.startswith(b"lastgasp"), a.stderr


def test_unwritable_standard_output(dumps):
    """Output that cannot be written (a full device): the same message and status, never a success."""
    for command in ("show", "json", "html", "pprof"):
        name = "arm64-go" if command == "pprof" else "arm64-abort"
        with open("/dev/full", "wb") as full:
            a = both(command, dumps[name], stdout=full)
        assert a.returncode == 1 and a.stderr.startswith(b"lastgasp"), (command, a.returncode, a.stderr)


# ---- the command line ----

@pytest.mark.parametrize("args", [["--version"], ["--help"], ["-h"], []] +
                         [[sub, "--help"] for sub in ("show", "json", "html", "collect", "upload", "watch", "pprof")],
                         ids=lambda a: "_".join(a) or "none")
def test_help_and_version(args, tmp_path):
    a = both(*args, cwd=tmp_path)
    if not args:  # a usage error
        assert a.returncode == 2 and a.stdout == b"" and a.stderr.startswith(b"lastgasp: missing command"), a
    elif args == ["--version"]:
        assert a.returncode == 0 and a.stdout.startswith(b"lastgasp ") and a.stderr == b"", a
    else:
        assert a.returncode == 0 and a.stdout.startswith(b"usage: lastgasp ") and a.stderr == b"", a


# ---- on a real arm64 kernel ----
# qemu-user runs the arm64 tool on this machine's kernel, translating its system calls. The same tool also runs
# on Debian's arm64 kernel in an emulated machine (tests/pylib/armvm.py, one boot): there it must print what the
# amd64 tool prints here. The modules a dump names are not in that machine, so both run with
# LASTGASP_DEBUGINFO=off (the dump as written: no file:line), and both read the dump on standard input, so that
# no path differs. No network there: upload and watch are tested under qemu-user only.
VM_DUMPS = ["arm64-null_write", "arm64-gopanic", "amd64-abort", "amd64-go", "breakpad"]
VM_CASES = ([(name, command) for name in VM_DUMPS for command in ("show", "json", "html")] +
            [("arm64-gopanic", "pprof"), ("amd64-go", "pprof"), (None, "--version"),
             (None, "show /lastgasp-vm/none.dmp")])
VM_ENV = {"LASTGASP_DEBUGINFO": "off", "LASTGASP_DEBUGINFOD": "off"}
MARK = "--- stdout\n"


def vm_command(name, command):
    """The tool's command line in the machine: stdout, base64'd after a mark, follows what it said on stderr."""
    run = f"/lastgasp {command}" + (f" - </d/{name}.dmp" if name else "")
    return f"{run} >/tmp/out; s=$?; printf '{MARK[:-1]}\\n' >&2; base64 /tmp/out >&2; exit $s"


@pytest.fixture(scope="module")
def vm(dumps, tmp_path_factory):
    """{case: (status, stdout, stderr)} of VM_CASES, and the bundle collect wrote there, from one boot."""
    from pylib import armvm

    runs = [(f"c{i}", ["/bin/sh", "-c", vm_command(*case)], VM_ENV) for i, case in enumerate(VM_CASES)]
    runs.append(("collect", ["/bin/sh", "-c", f"/lastgasp collect -o /tmp/b.zip /d >&2; s=$?; "
                                              f"printf '{MARK[:-1]}\\n' >&2; base64 /tmp/b.zip >&2; exit $s"], VM_ENV))
    files = {"/lastgasp": A.CLI, **{f"/d/{n}.dmp": dumps[n] for n in VM_DUMPS}}
    kernel, results = armvm.boot(runs, files, tmp_path_factory.mktemp("arm64-tool-vm"), timeout=900)
    assert kernel and "aarch64" in kernel, kernel
    out = {}
    for (name, _, _), case in zip(runs, VM_CASES + [(None, "collect")]):
        r = results[name]
        err, mark, b64 = r.stderr.partition(MARK)
        assert mark, f"{case}: the machine's run did not finish:\n{r.stderr[-2000:]}"
        out[case] = (r.status, base64.b64decode(b64), err.encode())
    return out


@pytest.mark.parametrize("case", VM_CASES, ids=lambda c: f"{c[0]}-{c[1].split()[0]}" if c[0] else c[1].split()[0])
def test_on_an_arm64_kernel_same_output(dumps, vm, case):
    name, command = case
    status, stdout, stderr = vm[case]
    a = subprocess.run([str(R.CLI), *command.split(), *(["-"] if name else [])],
                       input=dumps[name].read_bytes() if name else None, capture_output=True,
                       env=dict(os.environ, **VM_ENV), timeout=120)
    assert (status, stderr) == (a.returncode, a.stderr), (status, stderr, a.returncode, a.stderr)
    assert stdout == a.stdout, first_difference(a.stdout, stdout)
    assert a.returncode == (1 if "none.dmp" in command else 0) and (a.stdout or a.stderr), a


def test_on_an_arm64_kernel_collect(dumps, vm, tmp_path):
    """collect in the machine: a bundle with every dump intact, which the amd64 tool reads here."""
    status, bundle, said = vm[(None, "collect")]
    assert status == 0 and f"collected {len(VM_DUMPS)} dumps into /tmp/b.zip".encode() in said, said
    (tmp_path / "b.zip").write_bytes(bundle)
    with zipfile.ZipFile(tmp_path / "b.zip") as z:
        assert z.testzip() is None
        assert {n: z.read(n) for n in z.namelist() if n.endswith(".dmp")} == \
            {f"{n}.dmp": dumps[n].read_bytes() for n in VM_DUMPS}
    for name in VM_DUMPS:
        p = amd64("show", f"{tmp_path / 'b.zip'}:{name}.dmp")
        assert p.returncode == 0 and p.stdout == amd64("show", dumps[name]).stdout, name
