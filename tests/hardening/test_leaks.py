"""Issue 9, "never leak": what a dump may hold, and where lastgasp may write, in hostile but ordinary setups.

Each scenario runs without and with lastgasp (harness.both) and must die the same way. The environment secret
of the crash matrix is searched in every dump here too (readers.assert_no_secret).
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from pylib import harness as H
from pylib import readers as R

SEGV = ("signal", 11)


def secret_env(extra=None):
    e = {R.SECRET_NAME: R.SECRET}
    e.update(extra or {})
    return e


def check_dumps(o, count):
    assert len(o.dumps) == count, f"{len(o.dumps)} dumps, files {o.files}; stderr:\n{o.stderr}"
    for d in o.dumps:
        R.assert_no_secret(d)
        j = subprocess.run([str(H.CLI), "json", str(d)], capture_output=True, text=True, timeout=60)
        assert j.returncode == 0, j.stderr


def snapshot(path):
    """Every file under path with its bytes, and every directory: what "untouched" compares."""
    p = Path(path)
    if p.is_file():
        return p.read_bytes()
    return {str(f.relative_to(p)): (f.read_bytes() if f.is_file() else None) for f in sorted(p.rglob("*"))} | {
        ".": sorted(os.listdir(p))}


def test_closefrom_then_crash_writes_the_dump():
    """A daemon closes every fd from 3 up at start: the dump directory's fd is gone, reopened by its path."""
    without, with_lg = H.both(["leaks", "closefrom"], env=secret_env())
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == SEGV
        check_dumps(with_lg, 1)
        assert str(with_lg.dumps[0]) in with_lg.stderr
    finally:
        H.cleanup(without, with_lg)


@pytest.mark.parametrize("memread", ["", "procmem", "pipe"])
@pytest.mark.parametrize("first", ["dir", "log"])
def test_closefrom_reused_numbers_are_left_alone(memread, first, tmp_path):
    """After closefrom the program opens its log file and a directory, which take every number up to 64 (the dump
    directory's, /proc/self/mem's, the memory-read pipe's, the reserve's), in both orders: the log and the
    directory are untouched byte for byte, and the dump is where LASTGASP_DIR says. With each memory-read
    method (the pipe one writes memory into its fd: into the log, before the fix)."""
    log, d = tmp_path / "daemon.log", tmp_path / "daemon-dir"
    log.write_bytes(b"first line of the daemon's log\n")
    d.mkdir()
    (d / "state").write_bytes(b"daemon state\n")
    before = (snapshot(log), snapshot(d))
    env = secret_env({"LASTGASP_MEMREAD": memread} if memread else None)
    order = [str(d), str(log)] if first == "dir" else [str(log), str(d)]
    without, with_lg = H.both(["leaks", "closefrom_reuse"] + order, env=env)
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == SEGV
        assert (snapshot(log), snapshot(d)) == before, "the log file or the directory that reused our fds changed"
        check_dumps(with_lg, 1)
        j = R.read_lastgasp(with_lg.dumps[0])
        assert j["frames"], "no frames in the dump"
    finally:
        H.cleanup(without, with_lg)


def test_full_fd_table_still_dumps():
    """RLIMIT_NOFILE used up at the crash (itself a common cause of crashes): the reserve fds give the report
    the slots it needs, and the dump is complete (threads, maps, frames)."""
    without, with_lg = H.both(["leaks", "emfile"], env=secret_env())
    try:
        H.same_death(without, with_lg)
        assert "fd table full (EMFILE)" in with_lg.stderr
        assert with_lg.death == SEGV
        check_dumps(with_lg, 1)
        j = R.read_lastgasp(with_lg.dumps[0])
        assert j["frames"] and j["json"]["threads"], "the dump lacks threads or frames"
    finally:
        H.cleanup(without, with_lg)


def test_nondumpable_process_gets_no_dump():
    """prctl(PR_SET_DUMPABLE, 0) (ssh-agent, gpg-agent and other holders of keys do it): the kernel writes no
    core, and lastgasp writes no dump, with one line saying why."""
    without, with_lg = H.both(["leaks", "nondumpable"], env=secret_env())
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == SEGV
        assert with_lg.files == [], with_lg.files
        assert not with_lg.cores and not without.cores
        assert any("not dumpable" in l for l in with_lg.our_lines()), with_lg.stderr
    finally:
        H.cleanup(without, with_lg)


FORGED = "lastgasp: SIGSEGV at 0x0 in forged; dump: /tmp/forged.dmp"


def test_control_characters_in_lastgasp_dir_are_escaped_at_install(tmp_path):
    """A LASTGASP_DIR holding a newline cannot forge a second log line when install reports it."""
    bad = str(tmp_path / "no-such") + "\n" + FORGED + "\x1b[2J"
    without, with_lg = H.both(["leaks", "crash"], env={"LASTGASP_DIR": bad})
    try:
        H.same_death(without, with_lg)
        lines = with_lg.stderr.splitlines()
        assert FORGED not in lines, with_lg.stderr
        assert "\x1b" not in with_lg.stderr
        ours = with_lg.our_lines()
        assert len(ours) == 1 and "\\n" + FORGED + "\\x1b[2J" in ours[0], ours
    finally:
        H.cleanup(without, with_lg)


def test_control_characters_in_lastgasp_dir_are_escaped_at_crash(tmp_path):
    """A dump directory whose name holds a newline (it exists, so the dump is written): the crash-time summary
    line names it escaped, on one line."""
    d = tmp_path / ("dumps\n" + FORGED.replace("/", "_"))
    d.mkdir()
    without, with_lg = H.both(["leaks", "crash"], dump_dir=d)
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == SEGV and len(with_lg.dumps) == 1, with_lg.stderr
        lines = with_lg.stderr.splitlines()
        assert FORGED.replace("/", "_") not in lines, with_lg.stderr
        ours = with_lg.our_lines()
        assert len(ours) == 1 and "dumps\\n" + FORGED.replace("/", "_") in ours[0], ours
    finally:
        H.cleanup(without, with_lg)


# ---- privileged programs: setuid root, file capabilities (AT_SECURE), run by an unprivileged user ----

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
LIBA = H.BUILD / "liblastgasp.a"


@pytest.fixture(scope="module")
def privileged_bins():
    """leaks (plain) and leaks_linked (calls lastgasp_install_from_env: a privileged program ignores
    LD_PRELOAD), in a directory nobody can reach, made setuid-root and setcap by the test itself."""
    if not shutil.which("setcap") or not shutil.which("setpriv"):
        pytest.fail("setcap (Debian libcap2-bin) and setpriv are needed: bash tests/tools/deps.sh test")
    d = Path(tempfile.mkdtemp(prefix="lastgasp-priv-"))
    d.chmod(0o755)
    src = Path(__file__).with_name("leaks.c")
    out = {}
    for kind in ("setuid", "setcap"):
        for linked in (False, True):
            exe = d / f"leaks_{kind}{'_linked' if linked else ''}"
            cmd = ["cc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-g", "-o", str(exe), str(src)]
            if linked:
                cmd[1:1] = ["-DLEAKS_LINKED"]
                cmd += [str(LIBA)]
            subprocess.run(cmd + ["-lpthread", "-ldl"], check=True)
            if kind == "setuid":
                os.chown(exe, 0, 0)
                exe.chmod(0o4755)
            else:
                exe.chmod(0o755)
                # What lets a program write where its caller cannot: the way a setcap tool gets at root's files.
                subprocess.run(["setcap", "cap_dac_override,cap_dac_read_search+ep", str(exe)], check=True)
            out[(kind, linked)] = exe
    yield out
    shutil.rmtree(d, ignore_errors=True)


def ours_anywhere(d):
    """Names lastgasp could have left in d: dumps and temporary files."""
    return sorted(n for n in os.listdir(d) if n.endswith(".dmp") or n.startswith(".lastgasp-"))


@pytest.mark.parametrize("kind", ["setuid", "setcap"])
@pytest.mark.parametrize("target", ["private", "etc"])
def test_privileged_program_ignores_lastgasp_dir(privileged_bins, kind, target, tmp_path):
    """A setuid-root or setcap program started by nobody with LASTGASP_DIR naming a directory only root may
    write (or /etc): no file is created anywhere, the death is the same as without lastgasp, and install says
    in one line that LASTGASP_* is ignored (secure-execution mode, AT_SECURE)."""
    if target == "etc":
        dest = Path("/etc")
    else:
        dest = tmp_path / "root-only"
        dest.mkdir(mode=0o700)
    before = sorted(os.listdir(dest))
    env = {"LASTGASP_DIR": str(dest), R.SECRET_NAME: R.SECRET}
    without = H.run(AS_NOBODY + [str(privileged_bins[(kind, False)]), "crash"], lastgasp=False, env=env)
    with_lg = H.run(AS_NOBODY + [str(privileged_bins[(kind, True)]), "crash"], lastgasp=False, env=env)
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == SEGV
        assert ours_anywhere(dest) == [], f"lastgasp wrote into {dest}"
        if target == "private":
            assert sorted(os.listdir(dest)) == before
        assert ours_anywhere(with_lg.workdir) == [] and with_lg.files == []
        ours = with_lg.our_lines()
        assert len(ours) == 1 and "secure-execution mode" in ours[0], with_lg.stderr
    finally:
        for n in ours_anywhere(dest):
            os.unlink(dest / n)
        H.cleanup(without, with_lg)


# ---- the opt-in: /etc/lastgasp.conf's secure_dir, tried in a mount namespace (the host's /etc is not touched) ----

def with_conf(tmp_path, text, mode=0o644):
    """A command prefix that runs the rest in a private mount namespace whose /etc is the host's with
    lastgasp.conf (text, mode, owned by root) laid over it (a read-only overlay)."""
    layer = tmp_path / "etc-layer"
    layer.mkdir()
    conf = layer / "lastgasp.conf"
    conf.write_text(text)
    conf.chmod(mode)
    script = f'mount -t overlay overlay -o lowerdir={layer}:/etc /etc && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh"]


def root_only_dir(path):
    path.mkdir(mode=0o700)
    path.chmod(0o700)
    return path


def test_setuid_program_dumps_into_the_configured_secure_dir(privileged_bins, tmp_path):
    """With secure_dir in a root-owned /etc/lastgasp.conf, a setuid-root program started by nobody writes its dump
    there (mode 0600), never into the LASTGASP_DIR its caller chose (here a directory anyone may write)."""
    secure = root_only_dir(tmp_path / "secure")
    caller = tmp_path / "caller"
    caller.mkdir()
    caller.chmod(0o1777)
    pre = with_conf(tmp_path, f"# dumps of privileged programs\nsecure_dir = {secure}\n") + AS_NOBODY
    env = {"LASTGASP_DIR": str(caller), R.SECRET_NAME: R.SECRET}
    without = H.run(pre + [str(privileged_bins[("setuid", False)]), "crash"], lastgasp=False, env=env)
    with_lg = H.run(pre + [str(privileged_bins[("setuid", True)]), "crash"], lastgasp=False, env=env)
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == SEGV
        assert os.listdir(caller) == []
        dumps = [secure / n for n in ours_anywhere(secure)]
        assert len(dumps) == 1 and dumps[0].name.endswith(".dmp"), (os.listdir(secure), with_lg.stderr)
        st = dumps[0].stat()
        assert st.st_uid == 0 and st.st_mode & 0o777 == 0o600
        R.assert_no_secret(dumps[0])
        assert f"dumps go to secure_dir {secure}" in with_lg.stderr
        assert str(dumps[0]) in with_lg.stderr
    finally:
        H.cleanup(without, with_lg)


@pytest.mark.parametrize("conf_mode", [0o644, 0o666])
def test_nondumpable_process_dumps_only_into_the_secure_dir(conf_mode, tmp_path):
    """A process that made itself non-dumpable writes its dump into the configured secure_dir (LASTGASP_DIR gets
    nothing); a configuration others may write (0666) is ignored, with one line, and then there is no dump."""
    secure = root_only_dir(tmp_path / "secure")
    pre = with_conf(tmp_path, f"secure_dir={secure}\n", conf_mode)
    without, with_lg = H.both(pre + [str(H.BIN / "leaks"), "nondumpable"], env=secret_env())
    try:
        H.same_death(without, with_lg)
        assert with_lg.death == SEGV and with_lg.files == []
        dumps = ours_anywhere(secure)
        if conf_mode == 0o644:
            assert len(dumps) == 1, (dumps, with_lg.stderr)
            R.assert_no_secret(secure / dumps[0])
            assert str(secure / dumps[0]) in with_lg.stderr
        else:
            assert dumps == []
            assert any("lastgasp.conf ignored" in l for l in with_lg.our_lines()), with_lg.stderr
            assert any("not dumpable" in l for l in with_lg.our_lines()), with_lg.stderr
    finally:
        H.cleanup(without, with_lg)


# ---- the kernel's block at the top of the initial stack ----

def memory_ranges(dump):
    """(start, size) of every MINIDUMP_MEMORY_DESCRIPTOR in the dump's memory list (stream type 5)."""
    import struct
    data = Path(dump).read_bytes()
    _sig, _ver, count, dir_rva = struct.unpack_from("<IIII", data, 0)
    out = []
    for i in range(count):
        stype, _size, rva = struct.unpack_from("<III", data, dir_rva + 12 * i)
        if stype == 5:
            (n,) = struct.unpack_from("<I", data, rva)
            for k in range(n):
                start, size, _ = struct.unpack_from("<QII", data, rva + 4 + 16 * k)
                out.append((start, size))
    return out


@pytest.mark.parametrize("where", ["main", "thread"])
def test_no_range_reaches_the_kernel_block(where):
    """The strings and bytes the kernel put at the top of the initial stack (argv and environment strings,
    AT_EXECFN, AT_PLATFORM, AT_RANDOM) are in no memory range of the dump, whether the main thread crashes or
    another one does (then the main thread's stack is captured from its own sp); the main thread's stack is still
    there, and the 16 AT_RANDOM bytes are nowhere in the file."""
    import re
    argv = ["leaks", "block"] + (["thread"] if where == "thread" else [])
    without, with_lg = H.both(argv, env=secret_env())
    try:
        H.same_death(without, with_lg)
        check_dumps(with_lg, 1)
        m = re.search(r"leaks: block arg_start=0x(\w+) env_end=0x(\w+) random=0x(\w+) bytes=0x(\w+)", with_lg.stderr)
        assert m, with_lg.stderr
        arg_start, env_end, rnd = (int(m.group(i), 16) for i in (1, 2, 3))
        lo, hi = min(arg_start, rnd), env_end
        ranges = memory_ranges(with_lg.dumps[0])
        assert ranges
        bad = [(hex(s), n) for s, n in ranges if s < hi and s + n > lo]
        assert not bad, f"ranges reach [{lo:#x}, {hi:#x}): {bad}"
        # The main thread's stack, just below the block, is in the dump.
        assert any(s < lo and s + n > lo - 4096 for s, n in ranges), [(hex(s), n) for s, n in ranges]
        assert bytes.fromhex(m.group(4)) not in Path(with_lg.dumps[0]).read_bytes()
    finally:
        H.cleanup(without, with_lg)
