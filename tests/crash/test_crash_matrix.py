"""The C crash matrix: each scenario dies twice, without and with lastgasp, in child processes.

For every scenario we require:
  - the same death (signal or exit status) and the same core-file presence, with and without;
  - exactly one dump, and no malloc/lock after the crash (the tripwire, preloaded before lastgasp);
  - Breakpad's minidump_stackwalk, rust-minidump's minidump-stackwalk, LLDB and `lastgasp json`
    name the right signal, address and crashing thread, and the first frame in the crasher is the
    function the crasher announced before dying.
"""
import os
import signal
import subprocess

import pytest

from pylib import readers as R
from pylib.scenarios import SCENARIOS, SEGV, check_same_death


@pytest.fixture(autouse=True)
def no_dump_holds_the_secret(monkeypatch):
    """Every dump of this matrix is searched for the secret run_crasher plants in the environment before it is
    deleted, unless the run asked for the environment (LASTGASP_ENVIRON=1)."""
    real = R.cleanup

    def checked(run):
        if "LASTGASP_ENVIRON" not in getattr(run, "env_asked", ""):
            for d in run.dumps:
                if d.exists():
                    R.assert_no_secret(d)
        real(run)

    monkeypatch.setattr(R, "cleanup", checked)


def test_environ_stream_holds_the_secret_when_asked():
    """The other side of the search: with LASTGASP_ENVIRON=1 the secret is in the dump (the environment
    stream), so the search in every other run would see it if it were there."""
    run = R.run_crasher("null_write", env={"LASTGASP_ENVIRON": "1"})
    try:
        assert run.death == ("signal", SEGV) and len(run.dumps) == 1, run.stderr
        assert R.holds_secret(run.dumps[0])
    finally:
        run.env_asked = "LASTGASP_ENVIRON"
        R.cleanup(run)


# What the "annotations" scenario leaves in the table: "build" replaced, "region" removed, a byte that is not
# UTF-8 stored as "?".
ANNOTATIONS = {"build": "5678", "user": "caf\u00e9", "long": "x" * 1023, "bytes": "a?b"}


def check_readers(dump, binary, sig, announced, check_addr):
    """All four readers agree with what the crasher announced."""
    return R.check_readers(dump, binary, sig, announced, check_addr, R.TESTS)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenario(scenario):
    binary, sig, check_addr, extra = SCENARIOS[scenario]
    without = R.run_crasher(scenario, lastgasp=False, binary=binary)
    with_lg = R.run_crasher(scenario, binary=binary, tripwire=extra.get("tripwire", True))
    try:
        check_same_death(without, with_lg)
        assert with_lg.death == ("signal", sig), with_lg.stderr
        assert len(with_lg.dumps) == 1, f"{len(with_lg.dumps)} dumps; stderr:\n{with_lg.stderr}"
        ann = with_lg.announced()
        assert ann, with_lg.stderr
        assert f"lastgasp: {sig.name}" in with_lg.stderr and str(with_lg.dumps[0]) in with_lg.stderr
        views = check_readers(with_lg.dumps[0], binary, sig, ann, check_addr)
        if scenario == "user_handler":
            assert "user handler ran" in with_lg.stderr and "user handler ran" in without.stderr
        if scenario == "malloc_lock":
            assert "malloc lock held=1" in with_lg.stderr, "the scenario did not manage to hold the malloc lock"
        if scenario == "threads500":
            assert views["rust-minidump"]["thread_count"] >= 501
            assert len(views["lastgasp"]["json"]["threads"]) >= 501
        if scenario.startswith("memread_denied"):
            # Stacks must still be captured: the crashing thread's stack bytes are not all zero.
            assert views["rust-minidump"]["frames"][1:], "no caller frames: stack memory was not captured"
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


@pytest.mark.parametrize("binary", ["crasher", "crasher_linked"])
def test_annotations(binary):
    """Annotations set before the crash are in the dump, as `lastgasp json`, rust-minidump and Breakpad's
    minidump_dump read them; preloaded they were set after the library installed itself, linked before
    lastgasp_install. All four readers still read the crash itself (check_readers)."""
    run = R.run_crasher("annotations", binary=binary, tripwire=binary == "crasher")
    try:
        assert run.death == ("signal", SEGV) and len(run.dumps) == 1, run.stderr
        assert "crasher: annotation errors OK" in run.stderr, run.stderr
        views = check_readers(run.dumps[0], binary, SEGV, run.announced(), True)
        j = views["lastgasp"]["json"]
        assert j["annotations"] == ANNOTATIONS
        assert "CrashpadInfo" in [s["name"] for s in j["streams"]] and not j["warnings"]
        assert R.read_rust_annotations(run.dumps[0]) == ANNOTATIONS
        assert R.read_breakpad_annotations(run.dumps[0]) == ANNOTATIONS
        show = R.run_cli("show", run.dumps[0])
        section = show.split("\nAnnotations:\n", 1)[1].split("\n\n", 1)[0].splitlines()
        assert sorted(section) == sorted(f"  {k}: {v}" for k, v in ANNOTATIONS.items()), show
    finally:
        R.cleanup(run)


def test_annotations_changing_at_the_crash():
    """Two threads change annotations without pause (taking the writers' lock) while the process crashes: one
    dump, no deadlock, the steady annotation in it and each counter either whole or left out with a note. (No
    tripwire: the writer threads lock a mutex by design.)"""
    run = R.run_crasher("annotations_busy", tripwire=False)
    try:
        assert run.death == ("signal", SEGV) and len(run.dumps) == 1, run.stderr
        j = check_readers(run.dumps[0], "crasher", SEGV, run.announced(), True)["lastgasp"]["json"]
        ann = j["annotations"]
        assert ann["build"] == "5678", ann
        counters = {k: v for k, v in ann.items() if k.startswith("counter")}
        assert all(v.isdigit() for v in counters.values()), ann
        assert len(counters) == 2 or "annotation(s) left out" in j["notes"], (ann, j["notes"])
    finally:
        R.cleanup(run)


def test_no_annotations_no_stream():
    """Without annotations the dump has no Crashpad info stream, and json says null."""
    run = R.run_crasher("null_write")
    try:
        j = R.read_lastgasp(run.dumps[0])["json"]
        assert j["annotations"] is None and "CrashpadInfo" not in [s["name"] for s in j["streams"]]
        assert R.read_rust_annotations(run.dumps[0]) is None
        assert R.read_breakpad_annotations(run.dumps[0]) is None
    finally:
        R.cleanup(run)


@pytest.mark.parametrize("scenario", ["deaf_thread", "loader_lock"])
def test_stuck_threads_do_not_stop_the_report(scenario):
    """A thread that blocks every signal cannot be captured; a thread holding the dynamic loader's
    lock must not stall the stack walk (lastgasp never takes that lock). Both end in a full dump."""
    without = R.run_crasher(scenario, lastgasp=False)
    with_lg = R.run_crasher(scenario, timeout=30)
    try:
        check_same_death(without, with_lg)
        assert len(with_lg.dumps) == 1, with_lg.stderr
        ann = with_lg.announced()
        views = check_readers(with_lg.dumps[0], "crasher", SEGV, ann, True)
        threads = views["lastgasp"]["json"]["threads"]
        other = [t for t in threads if not t["crashed"]]
        assert len(other) == 1
        if scenario == "deaf_thread":
            assert other[0]["status"] == "no_answer" and not other[0]["frames"]
            assert "did not answer" in views["lastgasp"]["json"]["notes"]
        else:
            assert other[0]["status"] == "ok"
            names = [f["function"] for f in other[0]["frames"]]
            assert "hold_in_callback" in names and "thread_hold_loader_lock" in names, names
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


def test_cgo_program_crashing_in_c():
    """A Go program (cgo, dynamically linked) that faults in C: one dump, read like any native one,
    and the death Go gives it: the runtime prints its own report and exits with status 2, with lastgasp
    as without (lastgasp reports first, then hands the fault back to the runtime)."""
    without = R.run_crasher("-", lastgasp=False, binary="cgocrash", tripwire=False)
    with_lg = R.run_crasher("-", binary="cgocrash", tripwire=False)
    try:
        assert without.death == ("exit", 2) and "signal arrived during cgo execution" in without.stderr
        assert with_lg.death == ("exit", 2), with_lg.stderr
        assert "signal arrived during cgo execution" in with_lg.stderr
        assert len(with_lg.dumps) == 1, with_lg.stderr
        ann = with_lg.announced()
        views = check_readers(with_lg.dumps[0], "cgocrash", SEGV, ann, True)
        assert len(views["lastgasp"]["json"]["threads"]) >= 3  # the Go runtime's threads are there too
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


def test_more_threads_than_the_cap():
    """1101 threads, a cap of 1024: the dump says it is cut, and still holds the crashing thread."""
    run = R.run_crasher("threads1100", timeout=120)
    try:
        assert run.death == ("signal", SEGV) and len(run.dumps) == 1, run.stderr
        ann = run.announced()
        views = check_readers(run.dumps[0], "crasher", SEGV, ann, True)
        j = views["lastgasp"]["json"]
        assert j["truncated"]["threads"] is True and "more than 1024 threads" in j["notes"]
        assert len(j["threads"]) == 1024 and j["crashing_tid"] == ann["tid"]
    finally:
        R.cleanup(run)


def test_report_goes_on_while_the_process_is_stopped():
    """Stop the process (SIGSTOP) while its report waits for a thread that cannot answer, and continue
    it 5 s later: the report runs in its own helper task (reporter/isolate.c), which the stop does not
    reach, so the dump is complete and the process dies with the original signal once continued. (A
    report that stalls for good is tests/hardening/test_hang.py's test_report_that_blocks_in_the_kernel.)"""
    run = R.run_crasher("deaf_thread", stall_after_announce=5.0)
    try:
        assert run.death == ("signal", SEGV), run.stderr
        assert "ran out of time" not in run.stderr, run.stderr
        assert len(run.dumps) == 1
    finally:
        R.cleanup(run)


def test_32_threads_crash_at_once():
    without = R.run_crasher("threads32", lastgasp=False)
    with_lg = R.run_crasher("threads32")
    try:
        check_same_death(without, with_lg)
        assert len(with_lg.dumps) == 1
        v = R.read_lastgasp(with_lg.dumps[0])
        assert v["signal"] == "SIGSEGV"
        assert R.first_in_module(v, "crasher") == "thread_crash_together"
        # Every thread is in the dump with its registers. (Whether another thread had reached its
        # own fault before the capture signal reached it is a race of the scheduler: when it had,
        # its fault context is what the dump holds, which the first frame shows; not asserted.)
        threads = v["json"]["threads"]
        assert len(threads) == 33 and all(t["status"] == "ok" and t["frames"] for t in threads)
        r = R.read_rust(with_lg.dumps[0], R.symbols_dir(with_lg.dumps[0]))
        assert r["crashing_tid"] == v["crashing_tid"]
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


def test_segv_sent_with_kill():
    without = R.run_crasher("kill", lastgasp=False, kill_after_announce=signal.SIGSEGV)
    with_lg = R.run_crasher("kill", kill_after_announce=signal.SIGSEGV)
    try:
        check_same_death(without, with_lg)
        assert with_lg.death == ("signal", SEGV)
        assert len(with_lg.dumps) == 1
        v = R.read_lastgasp(with_lg.dumps[0])
        assert v["signal"] == "SIGSEGV" and v["json"]["signal"]["code"] == 0  # SI_USER
        r = R.read_rust(with_lg.dumps[0], R.symbols_dir(with_lg.dumps[0]))
        assert r["signal"] == "SIGSEGV"
        assert "wait_for_kill" in [f for f in v["frames"] if f]
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


def test_crash_in_forked_child():
    with_lg = R.run_crasher("fork_child")
    without = R.run_crasher("fork_child", lastgasp=False)
    try:
        assert with_lg.death == without.death == ("exit", 0), with_lg.stderr
        assert len(with_lg.dumps) == 1
        child = int(with_lg.stderr.split("crasher: child ")[1].split()[0])
        v = R.read_lastgasp(with_lg.dumps[0])
        assert v["json"]["pid"] == child and v["crashing_tid"] == child
        assert R.first_in_module(v, "crasher") == "crash_null_write"
        r = R.read_rust(with_lg.dumps[0], R.symbols_dir(with_lg.dumps[0]))
        assert R.first_in_module(r, "crasher") == "crash_null_write"
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


@pytest.mark.parametrize("kind", ["missing", "not_a_directory"])
def test_unusable_dump_directory_at_install(kind, tmp_path):
    bad = tmp_path / "nope"
    if kind == "not_a_directory":
        bad.write_text("x")
    without = R.run_crasher("null_write", lastgasp=False)
    with_lg = R.run_crasher("null_write", dump_dir=bad)
    try:
        check_same_death(without, with_lg)
        assert "lastgasp:" in with_lg.stderr and "crash dumps are off" in with_lg.stderr, with_lg.stderr
        assert str(bad) in with_lg.stderr
    finally:
        R.cleanup(without)
        R.cleanup(with_lg)


def test_dump_directory_gone_at_crash_time(tmp_path):
    """The directory was fine at install and is removed before the crash: say so, die the same."""
    d = tmp_path / "dumps"
    d.mkdir()
    env = {"CRASHER_RMDIR": str(d)}
    with_lg = R.run_crasher("rmdir_then_crash", dump_dir=d, env=env)
    try:
        assert with_lg.death == ("signal", SEGV), with_lg.stderr
        assert "no dump written" in with_lg.stderr, with_lg.stderr
    finally:
        R.cleanup(with_lg)


def test_full_disk_keeps_what_fits(tmp_path):
    """A dump directory on a 8 KiB filesystem (a tmpfs in a private mount namespace): the file is
    cut, kept under a .truncated.dmp name, announced as such, and still opens; the death is the same."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    script = (f"mount -t tmpfs -o size=8k tmpfs {mnt} && LASTGASP_DIR={mnt} LD_PRELOAD={R.LIB} "
              f"{R.TESTS / 'crasher'} null_write; echo status=$?; "
              f"for f in {mnt}/*.dmp; do {R.CLI} json $f > {tmp_path}/out.json; echo json=$?; done; "
              f"ls {mnt}")
    p = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    assert "status=139" in p.stdout, p.stdout + p.stderr
    assert "dump TRUNCATED (error 28)" in p.stderr, p.stderr
    assert ".truncated.dmp" in p.stdout and "json=0" in p.stdout, p.stdout
    j = __import__("json").loads((tmp_path / "out.json").read_text())
    assert j["signal"]["name"] == "SIGSEGV" and j["crashing_tid"]


def test_unset_dir_is_reported_and_harmless():
    run = R.run_crasher("exit_normally", lastgasp=False, env={"LD_PRELOAD": str(R.LIB)})
    try:
        assert run.death == ("exit", 0)
        assert "LASTGASP_DIR is not set" in run.stderr
    finally:
        R.cleanup(run)


def test_normal_exit_leaves_no_dump():
    run = R.run_crasher("exit_normally")
    try:
        assert run.death == ("exit", 0) and not run.dumps and run.stderr == ""
    finally:
        R.cleanup(run)


def test_dump_file_is_private_and_complete():
    run = R.run_crasher("null_write")
    try:
        (dump,) = run.dumps
        assert (os.stat(dump).st_mode & 0o777) == 0o600
        assert not list(dump.parent.glob(".lastgasp-*")), "temporary file left behind"
        with open(dump, "rb") as f:
            assert f.read(4) == b"MDMP"
    finally:
        R.cleanup(run)
