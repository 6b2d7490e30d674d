"""Never lose a dump, and the write and memory items of "never change the death" (issue 9).

Every scenario runs without and with lastgasp and compares the deaths. What each test proves is in its docstring.
Root features (pid and mount namespaces, tmpfs, FUSE, setuid, memory cgroups) are created here; nothing is skipped.
"""
import ctypes
import errno
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

import pytest

from pylib.harness import BIN, CLI, LIB, both, cleanup, cores_observable, run, same_death

DUMPS = BIN / "dumps"
NOLINKFS = Path(__file__).resolve().parent / "nolinkfs.py"
RUST_STACKWALK = Path(os.environ.get("LASTGASP_TOOLS", Path.home() / ".cache/lastgasp-tools")) / \
    "cargo/bin/minidump-stackwalk"
SEGV = signal.SIGSEGV


# ---- helpers ----

def clean_env():
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("LASTGASP_", "LD_PRELOAD", "CRASHER_", "GOTRACEBACK"))}


def crash_time():
    """A CLOCK_REALTIME instant (ns) 1.5 to 2.5 s ahead, at .5 of a second: processes started now and told to
    crash then all crash within the same second."""
    return (int(time.time()) + 2) * 10**9 + 500_000_000


def stamp(ns):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ns // 10**9))


def pid1(argv, *, lastgasp, dump_dir, user=None):
    """argv run as PID 1 of a new pid namespace (a container's init), as root or as uid/gid `user`. lastgasp is
    preloaded into that program only, not into unshare or setpriv."""
    pre = ["env"] + ([f"LD_PRELOAD={LIB}", f"LASTGASP_DIR={dump_dir}"] if lastgasp else [])
    who = [f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user is not None else None
    return ["unshare", "--pid", "--fork", "--mount-proc"] + (["setpriv"] + who if who else []) + pre + argv


def run_together(argvs, *, cwd_mode=0o700):
    """Start every argv at once (each in its own working directory, core dumps on) and wait for all of them.
    Returns [(death, stderr)]."""
    procs = []
    for argv in argvs:
        cwd = Path(tempfile.mkdtemp(prefix="lastgasp-dumps-"))
        os.chmod(cwd, cwd_mode)

        def child():
            resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

        procs.append((cwd, subprocess.Popen([str(a) for a in argv], cwd=cwd, env=clean_env(), preexec_fn=child,
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE, text=True)))
    out = []
    for cwd, p in procs:
        try:
            _, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        rc = p.returncode
        out.append((("signal", -rc) if rc is not None and rc < 0 else ("exit", rc), err))
        shutil.rmtree(cwd, ignore_errors=True)
    return out


def opens(dump):
    """The dump opens in `lastgasp json` and in rust-minidump, both naming the SIGSEGV. Returns the JSON."""
    p = subprocess.run([str(CLI), "json", str(dump)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"lastgasp json {dump}: {p.stderr}"
    j = json.loads(p.stdout)
    assert j["signal"]["name"] == "SIGSEGV", j["signal"]
    r = subprocess.run([str(RUST_STACKWALK), str(dump)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "SIGSEGV" in r.stdout, f"rust-minidump on {dump}:\n{r.stderr[-2000:]}"
    return j


def our_line(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith("lastgasp:")]
    assert len(lines) == 1, stderr
    return lines[0]


def files_in(d):
    return sorted(p.name for p in Path(d).iterdir())


# ---- same name: PID 1 of restarting containers, replicas sharing a volume ----

def test_three_pid1_crashes_in_the_same_second_keep_three_dumps(tmp_path):
    """Three PID 1 processes (each in its own pid namespace) of the same program crash in the same second into
    one dump directory: their dumps have the same name. All three are kept, as NAME.dmp, NAME-2.dmp, NAME-3.dmp,
    each whole and each announced under its own name. (Before: the rename failed with EEXIST and two complete
    dumps were deleted.)"""
    shared = tmp_path / "dumps"
    shared.mkdir()
    t = crash_time()
    without = run_together([pid1([DUMPS, "crash_at", t], lastgasp=False, dump_dir=shared)] * 3)
    t = crash_time()
    with_lg = run_together([pid1([DUMPS, "crash_at", t], lastgasp=True, dump_dir=shared)] * 3)
    assert [d for d, _ in with_lg] == [d for d, _ in without] == [("signal", SEGV)] * 3, (without, with_lg)
    base = f"dumps-1-{stamp(t)}"
    assert files_in(shared) == sorted([f"{base}.dmp", f"{base}-2.dmp", f"{base}-3.dmp"]), files_in(shared)
    announced = sorted(re.search(r"; dump: (\S+)$", our_line(err)).group(1) for _, err in with_lg)
    assert announced == sorted(str(shared / f) for f in files_in(shared))
    for f in files_in(shared):
        assert opens(shared / f)["pid"] == 1


# ---- no hard links, no RENAME_NOREPLACE: a real FUSE filesystem ----

@pytest.fixture
def nolink_mount(tmp_path):
    """A FUSE passthrough (tests/hardening/nolinkfs.py on Debian's python3-fusepy, libfuse 2) that has neither
    hard links nor RENAME_NOREPLACE; checked here, so the test proves what it says."""
    backing, mnt = tmp_path / "backing", tmp_path / "mnt"
    backing.mkdir()
    mnt.mkdir()
    os.chmod(backing, 0o1777)
    assert subprocess.run(["/usr/bin/python3", "-c", "import fusepy"]).returncode == 0, \
        "python3-fusepy is missing: run bash tests/tools/deps.sh test"
    server = subprocess.Popen(["/usr/bin/python3", str(NOLINKFS), str(backing), str(mnt)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not os.path.ismount(mnt) and time.monotonic() < deadline and server.poll() is None:
        time.sleep(0.05)
    assert os.path.ismount(mnt), server.stderr.read() if server.poll() is not None else "not mounted in 10 s"
    try:
        (mnt / "probe").write_text("x")
        with pytest.raises(OSError) as e:
            os.link(mnt / "probe", mnt / "probe2")
        assert e.value.errno == errno.EROFS
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.renameat2(-100, str(mnt / "probe").encode(), -100, str(mnt / "probe3").encode(), 1) == -1
        assert ctypes.get_errno() == errno.EINVAL
        (mnt / "probe").unlink()
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)])
        server.wait(timeout=10)


def test_filesystem_without_link_or_noreplace_keeps_every_dump_and_replaces_nothing(nolink_mount):
    """On a FUSE filesystem without hard links or RENAME_NOREPLACE, dumps are kept under their names: two PID 1
    crashes in the same second, and a file already holding the first name (planted), which is left as it was.
    (Before: the dump was deleted and stderr said "read-only file system".)"""
    mnt = nolink_mount
    t = crash_time()
    base = f"dumps-1-{stamp(t)}"
    (mnt / f"{base}.dmp").write_bytes(b"PLANTED, must stay")
    without = run_together([pid1([DUMPS, "crash_at", t], lastgasp=False, dump_dir=mnt)] * 2)
    with_lg = run_together([pid1([DUMPS, "crash_at", t], lastgasp=True, dump_dir=mnt)] * 2)
    assert [d for d, _ in with_lg] == [d for d, _ in without] == [("signal", SEGV)] * 2, (without, with_lg)
    assert (mnt / f"{base}.dmp").read_bytes() == b"PLANTED, must stay"
    assert files_in(mnt) == sorted([f"{base}.dmp", f"{base}-2.dmp", f"{base}-3.dmp"]), files_in(mnt)
    for _, err in with_lg:
        assert re.search(rf"; dump: {re.escape(str(mnt))}/{base}-[23]\.dmp$", our_line(err)), err
    for f in (f"{base}-2.dmp", f"{base}-3.dmp"):
        assert opens(mnt / f)["pid"] == 1


def test_injected_no_noreplace_names_the_dump_with_a_hard_link():
    """Injected (a seccomp filter answers renameat2(RENAME_NOREPLACE) with EINVAL, as 9p, NFS and FUSE without
    rename2 do; hard links work): the dump gets its name through a hard link, never replacing anything, and no
    temporary file is left."""
    without, with_lg = both(["dumps", "seccomp", "noreplace"])
    try:
        same_death(without, with_lg)
        (dump,) = with_lg.dumps
        assert with_lg.files == [dump] and dump.stat().st_nlink == 1
        assert re.search(r"; dump: \S+/dumps-\d+-\d{8}T\d{6}Z\.dmp$", our_line(with_lg.stderr))
        opens(dump)
    finally:
        cleanup(without, with_lg)


def test_injected_no_rename_at_all_keeps_the_complete_dump_under_its_temporary_name():
    """Injected (every renameat2 fails with EINVAL, linkat with EPERM): the complete dump cannot be named, so it
    stays under its temporary name, announced as such, instead of being deleted; the placeholder made for its
    name is removed again."""
    without, with_lg = both(["dumps", "seccomp", "norename"])
    try:
        same_death(without, with_lg)
        (kept,) = with_lg.files
        assert re.fullmatch(r"\.lastgasp-\d+-[0-9a-f]{16}\.tmp", kept.name), kept.name
        line = our_line(with_lg.stderr)
        assert f"; dump written but not named, error 22; kept as {kept}" in line, line
        opens(kept)
    finally:
        cleanup(without, with_lg)


# ---- a shared 1777 directory with names planted by another user ----

def test_names_planted_by_another_user_do_not_stop_a_dump(tmp_path):
    """A world-writable sticky directory where user nobody planted every name an old lastgasp would use for
    PID 1 (temporary names .lastgasp-1-0..7.tmp, some as symlinks, and the dump's name with -2..-16) and every
    name it would try: a dump is still written, as root and as another user, under an unpredictable name;
    nothing planted is changed, nothing outside the directory is touched. (Before: no dump.)"""
    shared = Path(tempfile.mkdtemp(prefix="lastgasp-shared-"))
    victim = tmp_path / "victim"
    victim.write_text("victim")
    try:
        os.chmod(shared, 0o1777)
        t = crash_time()
        base = f"dumps-1-{stamp(t)}"
        names = [f".lastgasp-1-{k}.tmp" for k in range(8)] + [f"{base}.dmp"] + \
                [f"{base}-{k}.dmp" for k in range(2, 17)]
        plant = "; ".join((f"ln -s {victim} {n}" if i % 3 == 1 else f"printf planted > {n}")
                          for i, n in enumerate(names))
        subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c",
                        f"cd {shared} && {plant}"], check=True)
        planted = {n: (os.lstat(shared / n).st_uid, os.readlink(shared / n) if (shared / n).is_symlink()
                       else (shared / n).read_text()) for n in names}
        assert all(uid == 65534 for uid, _ in planted.values())
        argvs = [pid1([DUMPS, "crash_at", t], lastgasp=lg, dump_dir=shared, user=u) for lg in (False, True)
                 for u in (None, 12345)]
        (w_root, w_user, l_root, l_user) = run_together(argvs, cwd_mode=0o777)
        assert [w_root[0], w_user[0], l_root[0], l_user[0]] == [("signal", SEGV)] * 4
        for n, (uid, content) in planted.items():
            assert os.lstat(shared / n).st_uid == uid
            assert (os.readlink(shared / n) if (shared / n).is_symlink() else (shared / n).read_text()) == content
        assert victim.read_text() == "victim"
        new = sorted(set(files_in(shared)) - set(names))
        assert len(new) == 2 and all(re.fullmatch(rf"{base}-[0-9a-f]{{8}}\.dmp", n) for n in new), new
        owners = sorted(os.stat(shared / n).st_uid for n in new)
        assert owners == [0, 12345]
        for err in (l_root[1], l_user[1]):
            assert re.search(rf"; dump: {re.escape(str(shared))}/{base}-[0-9a-f]{{8}}\.dmp$", our_line(err)), err
        for n in new:
            assert opens(shared / n)["pid"] == 1
    finally:
        shutil.rmtree(shared, ignore_errors=True)


# ---- a full disk, RLIMIT_FSIZE ----

def in_small_tmpfs(script_after_mount, size, tmp_path):
    """Run `sh -c` in a private mount namespace where $MNT is a fresh tmpfs of the given size."""
    mnt = tmp_path / "small"
    mnt.mkdir(exist_ok=True)
    script = f"MNT={mnt}; mount -t tmpfs -o size={size} tmpfs $MNT && {script_after_mount}"
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60,
                          env=clean_env(), cwd=tmp_path)


def test_full_disk_before_the_first_byte_leaves_no_file(tmp_path):
    """The dump directory is full before the first byte: no file at all is left (not a 0-byte .truncated.dmp
    every reader rejects), stderr says no dump was written and why, and the death is the same."""
    fill = "(dd if=/dev/zero of=$MNT/fill bs=4k 2>/dev/null || true)"
    outs = {}
    for lg in (False, True):
        pre = f"LD_PRELOAD={LIB} LASTGASP_DIR=$MNT " if lg else ""
        p = in_small_tmpfs(f"{fill}; ulimit -c 0; env {pre}{DUMPS} crash; echo status=$?; ls -A $MNT",
                           "64k", tmp_path)
        outs[lg] = p
    assert "status=139" in outs[False].stdout and "status=139" in outs[True].stdout, outs
    assert outs[True].stdout.split("status=139")[1].split() == ["fill"], outs[True].stdout
    line = our_line(outs[True].stderr)
    assert "; no dump written to " in line and "error 28 (no space left on device)" in line, line


def test_disk_full_midway_keeps_a_dump_every_reader_opens(tmp_path):
    """The disk fills up after the head of the file: the .truncated.dmp kept opens in lastgasp and in
    rust-minidump (the existing matrix test checks lastgasp json only)."""
    out = tmp_path / "copy.dmp"
    p = in_small_tmpfs(f"ulimit -c 0; env LD_PRELOAD={LIB} LASTGASP_DIR=$MNT {DUMPS} threads 4; echo status=$?; "
                       f"cp $MNT/*.truncated.dmp {out}", "8k", tmp_path)
    assert "status=139" in p.stdout, p.stdout + p.stderr
    assert "dump TRUNCATED (error 28) at 8192 bytes: no space left on device" in our_line(p.stderr)
    assert opens(out)["warnings"], "a cut file should come with the reader's warnings"


def fsize(limit):
    def pre():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def test_rlimit_fsize_smaller_than_the_dump_keeps_the_death_and_what_fits():
    """RLIMIT_FSIZE of 16 KiB, a dump of more: the process still dies of its SIGSEGV (not SIGXFSZ, which the
    write past the limit raises), with the same core behaviour; the first 16 KiB are kept as .truncated.dmp,
    which opens in lastgasp and rust-minidump, and stderr says so."""
    without, with_lg = both(["dumps", "threads", "8"], preexec=fsize(16384))
    try:
        same_death(without, with_lg)
        assert with_lg.death == ("signal", SEGV)
        (dump,) = with_lg.dumps
        assert dump.name.endswith(".truncated.dmp") and dump.stat().st_size == 16384, with_lg.files
        assert "dump TRUNCATED (error 27) at 16384 bytes: file size limit, RLIMIT_FSIZE" in our_line(with_lg.stderr)
        assert opens(dump)["warnings"], "a cut file should come with the reader's warnings"
    finally:
        cleanup(without, with_lg)


def test_rlimit_fsize_too_small_to_open_leaves_no_file():
    """RLIMIT_FSIZE of 1 KiB, less than the head readers need: same death, no file, and stderr says why."""
    without, with_lg = both(["dumps", "crash"], preexec=fsize(1024))
    try:
        same_death(without, with_lg)
        assert with_lg.files == [], with_lg.files
        line = our_line(with_lg.stderr)
        assert "; no dump written to " in line and "error 27 (file size limit, RLIMIT_FSIZE)" in line, line
    finally:
        cleanup(without, with_lg)


# ---- memory: what the report used is given back; its peak ----

def core_segments(core):
    """(vaddr, memsz, flags, bytes) of each PT_LOAD of an ELF64 core file."""
    data = core.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2, "not an ELF64 core"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    segs = []
    for i in range(phnum):
        ptype, flags, off, vaddr, _, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if ptype == 1:
            segs.append((vaddr, memsz, flags, data[off:off + filesz]))
    return segs


def test_report_memory_is_given_back_before_the_core_dump():
    """After the report, the pages it used are given back before the process dies: the kernel's core dump
    (written after lastgasp's handler returns) holds none of the report's data: not the dump's bytes, which the
    write buffer in the arena held (its "MDMP" header), nor the temporary file name kept on the private stack.
    (Before: both were there, pages still charged to the memory cgroup while the core was written.)"""
    assert cores_observable(), "this test reads the core file: core_pattern must name a file in the cwd"
    with_lg = run(["dumps", "crash"])
    try:
        assert with_lg.death == ("signal", SEGV) and with_lg.cores, with_lg.stderr
        (dump,) = with_lg.dumps
        assert dump.stat().st_size < 64 << 10, "the dump must fit the write buffer for this test to mean anything"
        pid = int(dump.name.split("-")[1])
        core = with_lg.cores[0].read_bytes()
        assert len(core) > 1 << 20 and b"/hardening/dumps" in core, "not the crashed program's core"
        assert core.count(b"MDMP\x93\xa7") == 0, "the report's write buffer is still in the core"
        assert core.count(b".lastgasp-%d-" % pid) == 0, "the report's private stack is still in the core"
    finally:
        cleanup(with_lg)


@pytest.fixture
def memcg():
    """A child of this process's own memory cgroup (cgroup v1), removed afterwards."""
    line = [l for l in Path("/proc/self/cgroup").read_text().splitlines() if l.split(":")[1] == "memory"]
    assert line, "no cgroup v1 memory controller"
    cg = Path("/sys/fs/cgroup/memory" + line[0].split(":", 2)[2]) / f"lastgasp-test-{os.getpid()}"
    cg.mkdir()
    try:
        yield cg
    finally:
        for _ in range(100):
            try:
                cg.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def into(cg, core):
    def pre():
        lim = resource.RLIM_INFINITY if core else 0
        resource.setrlimit(resource.RLIMIT_CORE, (lim, lim))
        (cg / "cgroup.procs").write_text(str(os.getpid()))
    return pre


def report_peak(cg, threads):
    """Peak memory a crash of `dumps measure` (cores off) charged to the cgroup beyond what it had before, with
    lastgasp, less the same without it; and the dump's size. The program resets the cgroup's peak just before it
    crashes: what follows is the crash's (the report, its dump's page cache, the captured threads' signal frames).
    """
    peaks, size = [], 0
    for lg in (False, True):
        o = run(["dumps", "measure", str(threads), str(cg)], lastgasp=lg, core=False, preexec=into(cg, False))
        try:
            assert o.death == ("signal", SEGV), o.stderr
            before = int(re.search(r"usage=(\d+)", o.stderr).group(1))
            peaks.append(int((cg / "memory.max_usage_in_bytes").read_text()) - before)
            if lg:
                (dump,) = o.dumps
                size = dump.stat().st_size
        finally:
            cleanup(o)
    return peaks[1] - peaks[0], size


def test_report_peak_memory_is_bounded(memcg, capsys):
    """The memory a report adds at its peak, measured in a memory cgroup, stays within the documented bound:
    1 MiB, plus 16 KiB per captured thread, plus the dump's own size (its page cache)."""
    for threads in (1, 256):
        peak, size = report_peak(memcg, threads)
        bound = (1 << 20) + threads * (16 << 10) + size
        with capsys.disabled():
            print(f"\n  report peak, {threads} thread(s): +{peak / 2**20:.2f} MiB, of which the dump's page cache "
                  f"{size / 2**20:.2f} MiB")
        assert peak <= bound, f"{threads} threads: {peak} bytes, bound {bound}"


def test_memory_cgroup_near_its_limit_still_dies_of_its_signal_with_a_core(memcg):
    """A program with 256 threads and 48 MiB of heap, whose memory cgroup is left with only the headroom the
    README asks for, the report's measured peak (measured first, on this machine): it dies of SIGSEGV with a core,
    without and with lastgasp, three times in a row. (The report's pages stayed charged while the kernel wrote
    the core before they were given back, which with less headroom could meet the OOM killer: SIGKILL.)"""
    assert cores_observable(), "this test looks for the core file: core_pattern must name a file in the cwd"
    peak, _ = report_peak(memcg, 256)
    headroom_kib = str(peak // 1024)
    for i in range(3):
        without, with_lg = both(["dumps", "near_limit", headroom_kib, "256", str(memcg), "48"],
                                preexec=into(memcg, True))
        try:
            assert without.death == ("signal", SEGV) and without.cores, without.stderr
            same_death(without, with_lg)
            assert with_lg.dumps, with_lg.stderr
        finally:
            cleanup(without, with_lg)
        (memcg / "memory.limit_in_bytes").write_text("-1")


# ---- worker threads that block every signal ----

def test_worker_blocking_every_signal_dies_as_without_and_leaves_no_dump():
    """A worker thread that blocks every signal (a common server pattern) and makes a null write: the kernel
    forces the default action (it unblocks SIGSEGV and resets it to SIG_DFL), so no handler runs. The documented
    limit: the same death and core as without lastgasp, no dump, nothing on stderr."""
    without, with_lg = both(["dumps", "blocked_worker"])
    try:
        same_death(without, with_lg)
        assert with_lg.death == ("signal", SEGV)
        assert with_lg.files == [] and with_lg.our_lines() == [], (with_lg.files, with_lg.stderr)
    finally:
        cleanup(without, with_lg)


def test_worker_blocking_every_signal_that_calls_abort_is_reported():
    """The same worker calling abort(): glibc unblocks SIGABRT before raising it, so lastgasp's handler runs:
    a dump, and the same death (SIGABRT)."""
    without, with_lg = both(["dumps", "blocked_worker_abort"])
    try:
        same_death(without, with_lg)
        assert with_lg.death == ("signal", signal.SIGABRT) and len(with_lg.dumps) == 1, with_lg.stderr
    finally:
        cleanup(without, with_lg)
