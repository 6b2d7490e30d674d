"""readers.py — run the crasher and read its dumps with every reader we answer to.

Each reader function returns a small, uniform view of a dump:
    {"signal": "SIGSEGV", "address": int or None, "crashing_tid": int or None,
     "frames": [function names of the crashing thread, innermost first, None when unknown]}
so the tests can compare what Breakpad, rust-minidump, LLDB and `lastgasp json` say with what the
crasher announced before dying.
"""
import glob
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
TESTS = BUILD / "tests"
TOOLS = Path(os.environ.get("LASTGASP_TOOLS", Path.home() / ".cache/lastgasp-tools"))
BREAKPAD = TOOLS / "npm/node_modules/minidump/bin/linux-x64"
RUST_STACKWALK = TOOLS / "cargo/bin/minidump-stackwalk"
LIB = BUILD / "liblastgasp.so"
CLI = BUILD / "lastgasp"


class Run:
    """One run of a crasher scenario: how it died and what it left behind."""

    def __init__(self, proc_rc, stderr, dumps, cores, workdir):
        self.rc = proc_rc
        self.stderr = stderr
        self.dumps = dumps
        self.cores = cores
        self.workdir = workdir

    @property
    def death(self):
        """('signal', N) or ('exit', N)."""
        return ("signal", -self.rc) if self.rc < 0 else ("exit", self.rc)

    def announced(self):
        """The crasher's own statement of what is about to happen (tid, function, address)."""
        m = re.search(r"crasher: tid=(\w+) expect=(\w+) addr=0x([0-9a-f]+)", self.stderr)
        if not m:
            return None
        tid = int(m.group(1)) if m.group(1).isdigit() else None
        return {"tid": tid, "function": m.group(2), "addr": int(m.group(3), 16)}


def core_pattern():
    try:
        return Path("/proc/sys/kernel/core_pattern").read_text().strip()
    except OSError:
        return ""


def cores_observable():
    """Core files land in the working directory only with a plain core_pattern."""
    p = core_pattern()
    return bool(p) and not p.startswith("|") and "/" not in p


# A secret planted in the environment of every crasher run (issue 9, "never leak"): without LASTGASP_ENVIRON=1
# no dump may hold it. Unique per test session, so that nothing but the environment can hold it.
SECRET_NAME = "LASTGASP_TEST_SECRET"
SECRET = "lgsecret-" + os.urandom(12).hex()


def assert_no_secret(dump_path, secret=SECRET):
    """Fail if the dump holds the planted secret, as raw bytes or as UTF-16 (either byte order)."""
    data = Path(dump_path).read_bytes()
    for enc in ("utf-8", "utf-16-le", "utf-16-be"):
        needle = secret.encode(enc)
        at = data.find(needle)
        assert at < 0, f"{dump_path} holds the environment secret ({enc}) at offset {at:#x}"


def holds_secret(dump_path, secret=SECRET):
    return secret.encode() in Path(dump_path).read_bytes()


def run_crasher(scenario, *, lastgasp=True, binary="crasher", tripwire=True, env=None, dump_dir=None,
                kill_after_announce=None, stall_after_announce=None, timeout=60, tests=TESTS, lib=LIB, wrap=None):
    """Run `binary scenario` in a fresh directory with core dumps enabled.

    lastgasp: load it (LD_PRELOAD, except `crasher_linked`, which installs it itself from the env).
    kill_after_announce: a signal to send from outside once the crasher has announced itself.
    stall_after_announce: seconds to keep the crasher stopped (SIGSTOP, then SIGCONT) 0.3 s after
    it announced itself, that is while its report runs.
    tests, lib: where the binaries and tripwire.so are, and the library to preload (the musl build's, for
    tests/crash/test_musl.py).
    wrap: a function (argv, env) -> (argv, env) that runs the program through something else (qemu-user for
    tests/crash/test_arm64.py), given the command line and environment the crasher would get.
    """
    work = Path(tempfile.mkdtemp(prefix="lastgasp-run-"))
    dumps = Path(dump_dir) if dump_dir else work / "dumps"
    if not dump_dir:
        dumps.mkdir()
    e = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "CRASHER_"))}
    if lastgasp:
        e["LASTGASP_DIR"] = str(dumps)
        preload = [] if binary == "crasher_linked" else [str(lib)]
        if tripwire:
            preload.insert(0, str(tests / "tripwire.so"))
        if preload:
            e["LD_PRELOAD"] = " ".join(preload)
        if tripwire:
            e["CRASHER_TRIPWIRE"] = "1"
    e[SECRET_NAME] = SECRET
    e.update(env or {})

    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    argv = [str(tests / binary), scenario]
    if wrap:
        argv, e = wrap(argv, e)
    p = subprocess.Popen(argv, cwd=work, env=e, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=limits)
    if kill_after_announce or stall_after_announce:
        line = ""
        deadline = time.monotonic() + timeout
        while "expect=" not in line and time.monotonic() < deadline:
            line = p.stderr.readline()
            if not line:
                break
        if kill_after_announce:
            time.sleep(0.1)
            os.kill(p.pid, kill_after_announce)
        else:
            time.sleep(0.3)
            os.kill(p.pid, signal.SIGSTOP)
            time.sleep(stall_after_announce)
            os.kill(p.pid, signal.SIGCONT)
        rest = p.stderr.read()
        p.wait(timeout=timeout)
        err = line + rest
    else:
        _, err = p.communicate(timeout=timeout)
    found = sorted(dumps.glob("*.dmp")) if dumps.is_dir() else []
    cores = sorted(glob.glob(str(work / "core*")))
    return Run(p.returncode, err, found, cores, work)


def cleanup(run):
    shutil.rmtree(run.workdir, ignore_errors=True)


# ---- symbols for the external readers ----

_symdir = None
_symbolized = set()


def symbols_dir(dump=None, root=None):
    """A Breakpad symbol tree made with dump_syms: the crasher binaries, and every module of
    `dump` (libc too: without its CFI, Breakpad falls back to stack scanning past libc frames). root: a folder
    that holds the files of the machine that wrote the dump at their paths (another machine's dumps)."""
    global _symdir
    if not _symdir:
        _symdir = Path(tempfile.mkdtemp(prefix="lastgasp-syms-"))
    paths = [] if root else [str(TESTS / "crasher"), str(TESTS / "crasher_linked")]
    if dump:
        mods = [m["path"] for m in read_lastgasp(dump)["json"]["modules"]]
        paths += [str(Path(root) / p.lstrip("/")) if root and p.startswith("/") else p for p in mods]
    for path in paths:
        if path in _symbolized or not path.startswith("/") or not os.path.exists(path):
            continue
        _symbolized.add(path)
        out = subprocess.run([str(BREAKPAD / "dump_syms"), path], capture_output=True, text=True).stdout
        if not out.startswith("MODULE"):
            continue
        head = out.splitlines()[0].split()  # MODULE Linux x86_64 ID name
        target = _symdir / head[4] / head[3]
        target.mkdir(parents=True, exist_ok=True)
        (target / (head[4] + ".sym")).write_text(out)
    return _symdir


# ---- the readers ----

SIGNALS = {s.value: s.name for s in signal.Signals}


def run_cli(command, dump):
    """`lastgasp COMMAND DUMP`'s output; it must succeed."""
    p = subprocess.run([str(CLI), command, str(dump)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"lastgasp {command} failed: {p.stderr}"
    return p.stdout


def read_lastgasp(dump, debuginfo=True):
    """debuginfo=False: the frames as the dump holds them (LASTGASP_DEBUGINFO=off), without DWARF lookups."""
    env = dict(os.environ, LASTGASP_DEBUGINFO="on" if debuginfo else "off")
    p = subprocess.run([str(CLI), "json", str(dump)], capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, f"lastgasp json failed: {p.stderr}"
    j = json.loads(p.stdout)
    crashed = [t for t in j["threads"] if t["crashed"]]
    frames = [f["function"] for f in crashed[0]["frames"]] if crashed else []
    modules = [f["module"] for f in crashed[0]["frames"]] if crashed else []
    return {"signal": j["signal"]["name"], "address": int(j["signal"]["address"], 16), "crashing_tid": j["crashing_tid"],
            "frames": frames, "modules": modules, "json": j}


def read_breakpad(dump, symdir):
    p = subprocess.run([str(BREAKPAD / "minidump_stackwalk"), "-m", str(dump), str(symdir)], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, f"minidump_stackwalk failed: {p.stderr[-2000:]}"
    crash = None
    frames = {}
    for line in p.stdout.splitlines():
        parts = line.split("|")
        if parts[0] == "Crash" and len(parts) >= 4:
            crash = parts
        elif parts[0].isdigit() and len(parts) >= 7:
            frames.setdefault(int(parts[0]), []).append((parts[2], parts[3] or None))
    assert crash, f"no Crash line from minidump_stackwalk:\n{p.stdout[:2000]}"
    idx = int(crash[3]) if crash[3].isdigit() else None
    th = frames.get(idx, [])
    return {"signal": crash[1].split()[0].strip(), "address": int(crash[2], 16), "crashing_tid": None,
            "frames": [f for _, f in th], "modules": [m for m, _ in th], "stderr": p.stderr}


def read_rust(dump, symdir):
    p = subprocess.run([str(RUST_STACKWALK), "--json", "--symbols-path", str(symdir), str(dump)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"minidump-stackwalk failed: {p.stderr[-2000:]}"
    j = json.loads(p.stdout)
    ci = j["crash_info"]
    idx = ci.get("crashing_thread")
    th = j["threads"][idx] if idx is not None else {"frames": [], "thread_id": None}
    return {"signal": ci["type"].split()[0], "address": int(ci["address"], 16), "crashing_tid": th.get("thread_id"),
            "frames": [f.get("function") for f in th["frames"]], "modules": [f.get("module") for f in th["frames"]],
            "thread_count": len(j["threads"])}


def _crashpad_annotations(text):
    """{key: value} from the 'MDRawCrashpadInfo' block that Breakpad's minidump_dump and rust-minidump's
    `minidump-stackwalk --dump` both print; None when there is no such block."""
    if "MDRawCrashpadInfo" not in text:
        return None
    return dict(re.findall(r'^  simple_annotations\["(.*)"\] = (.*)$', text, re.M))


def read_rust_annotations(dump):
    """The Crashpad annotations as rust-minidump reads them (`--dump`; its --json leaves them out)."""
    p = subprocess.run([str(RUST_STACKWALK), "--dump", str(dump)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"minidump-stackwalk --dump failed: {p.stderr[-2000:]}"
    assert "MinidumpCrashpadInfo cannot print invalid data" not in p.stdout
    return _crashpad_annotations(p.stdout)


def read_breakpad_annotations(dump):
    """The Crashpad annotations as Breakpad's minidump_dump reads them."""
    p = subprocess.run([str(BREAKPAD / "minidump_dump"), str(dump)], capture_output=True, text=True, timeout=120)
    return _crashpad_annotations(p.stdout)


def read_lldb(dump, binary, root=None):
    """root: as symbols_dir's; LLDB looks for the dump's modules in root's folders of their paths."""
    search = []
    if root:
        dirs = sorted({str(Path(root) / os.path.dirname(m["path"]).lstrip("/"))
                       for m in read_lastgasp(dump)["json"]["modules"] if m["path"].startswith("/")})
        search = ["-O", "settings set target.exec-search-paths " + " ".join(dirs)]
    p = subprocess.run(["lldb", "--no-lldbinit", "-b", *search, "-c", str(dump), str(binary), "-o", "thread list",
                        "-o", "bt"], capture_output=True, text=True, timeout=180)
    out = p.stdout
    assert "error:" not in out.split("(lldb) thread list")[0], f"lldb could not load the dump:\n{out[:3000]}"
    m = re.search(r"^\* thread #\d+: tid = (\d+).*stop reason = signal (SIG\w+)", out, re.M)
    frames, modules = [], []
    bt = out.split("(lldb) bt", 1)[1] if "(lldb) bt" in out else ""
    for fm in re.finditer(r"frame #\d+: 0x[0-9a-f]+ ([^`\s]+)`([A-Za-z_][\w.]*)", bt):
        modules.append(fm.group(1))
        frames.append(fm.group(2))
    return {"signal": m.group(2) if m else None, "address": None, "crashing_tid": int(m.group(1)) if m else None,
            "frames": frames, "modules": modules, "raw": out}


def first_in_module(view, module):
    """The first frame of the crashing thread that lies in `module` (a basename)."""
    for f, m in zip(view["frames"], view["modules"]):
        if m and os.path.basename(m) == module:
            return f
    return None


def check_readers(dump, binary, sig, announced, check_addr, bin_dir, root=None):
    """All four readers agree with what the crasher announced: signal, crashing thread, address (check_addr) and
    the first frame in binary; bin_dir holds binary for LLDB (build/tests, or the arm64 build's); root, the files
    of the machine that wrote the dump, for Breakpad's symbols (symbols_dir)."""
    symdir = symbols_dir(dump, root)
    views = {
        "lastgasp": read_lastgasp(dump),
        "breakpad": read_breakpad(dump, symdir),
        "rust-minidump": read_rust(dump, symdir),
        "lldb": read_lldb(dump, Path(bin_dir) / binary, root),
    }
    for name, v in views.items():
        assert v["signal"] == sig.name, f"{name} says {v['signal']}, expected {sig.name}"
        if announced["tid"] is not None and v["crashing_tid"] is not None:
            assert v["crashing_tid"] == announced["tid"], f"{name}: crashing thread {v['crashing_tid']}"
        if check_addr and v["address"] is not None:
            assert v["address"] == announced["addr"], f"{name}: address {v['address']:#x} != {announced['addr']:#x}"
        top = first_in_module(v, binary)
        assert top == announced["function"], f"{name}: first {binary} frame is {top}; frames {v['frames'][:8]}"
    # Readers that report the crashing tid must all have one.
    assert views["lastgasp"]["crashing_tid"] and views["rust-minidump"]["crashing_tid"]
    assert views["lldb"]["crashing_tid"] == views["lastgasp"]["crashing_tid"]
    return views
