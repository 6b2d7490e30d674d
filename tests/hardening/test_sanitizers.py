"""Issue 9, "a sanitizer run of the handler path under the C crash matrix": the handler and install code built
with UBSan or ASan (`make san`: build/san/), run in real crashes of the crash matrix's scenarios.

Each scenario dies without lastgasp and with the sanitized lastgasp, and must die the same way, leave exactly one
dump that `lastgasp json` reads with the scenario's signal, name the sanitized library and its sanitizer runtime
among the dump's modules (so the sanitized code is the one that wrote it), and print no sanitizer report: a report
is undefined behaviour or a memory error in sigsafe/ or reporter/ while it ran in a crash (-fno-sanitize-recover,
so the first one also changes the death).

How each sanitizer is loaded into the uninstrumented crasher:
  - UBSan: build/san/liblastgasp-ubsan.so names libubsan itself; LD_PRELOAD of it alone works.
  - ASan: libasan must come first in the library list, so LD_PRELOAD=libasan.so, then ours. ASAN_OPTIONS:
    detect_leaks=0 (a crash is no exit to check leaks at), disable_coredump=0 (or ASan sets RLIMIT_CORE to 0 and
    the core presence changes), and handle_segv/sigbus/sigfpe/sigill/abort=0 so ASan leaves fatal signals to
    lastgasp (ASAN_HANDS_OFF). With ASan's defaults, ASan keeps them: test_asan_default_options_keep_the_signal
    asserts what that is. The handler's private stack does not confuse ASan: the stack-overflow scenarios run,
    and a bug planted in a local array of the handler is reported on every scenario.
  - crasher_linked scenarios: build/san/crasher_linked-<kind>, the crasher linked with the sanitized sources
    (libasan then comes first by itself).
LASTGASP_SAN_DIR points the test at another build (to show it fails on a handler with a planted bug).
"""
import os
import subprocess
from pathlib import Path

import pytest

from pylib import readers as R
from pylib import scenarios as S

SAN = Path(os.environ.get("LASTGASP_SAN_DIR") or R.BUILD / "san").resolve()
ASAN_HANDS_OFF = ("detect_leaks=0:disable_coredump=0:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:"
                  "handle_abort=0:allow_user_segv_handler=1")
UBSAN_OPTIONS = "print_stacktrace=1:halt_on_error=1"
REPORT_MARKS = ("runtime error:", "Sanitizer", "SUMMARY:")


def libasan():
    path = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    assert os.path.isabs(path) and os.path.exists(path), f"no libasan.so from gcc: {path!r}"
    return os.path.realpath(path)


def sanitized_run(kind, scenario, asan_options=ASAN_HANDS_OFF):
    """The scenario with the `kind` build of lastgasp; returns the readers.Run and the code that ran (the .so,
    or the linked executable). No tripwire: the crash matrix runs it; here it would hide the sanitizer's report,
    which allocates (UBSan's does), behind a TRIPWIRE line."""
    binary = S.SCENARIOS[scenario][0]
    env = {"UBSAN_OPTIONS": UBSAN_OPTIONS, "ASAN_OPTIONS": asan_options}
    if binary == "crasher_linked":
        exe = SAN / f"crasher_linked-{kind}"
        env["LD_PRELOAD"] = ""  # it installs itself; run_crasher would preload build/liblastgasp.so too
        return R.run_crasher(scenario, binary=os.path.relpath(exe, R.TESTS), tripwire=False, env=env), exe
    lib = SAN / f"liblastgasp-{kind}.so"
    env["LD_PRELOAD"] = " ".join(([libasan()] if kind == "asan" else []) + [str(lib)])
    return R.run_crasher(scenario, binary=binary, tripwire=False, env=env), lib


_without = {}


def without(scenario):
    """The scenario's death without lastgasp (and without any sanitizer), once per scenario."""
    if scenario not in _without:
        run = R.run_crasher(scenario, lastgasp=False, binary=S.SCENARIOS[scenario][0])
        _without[scenario] = (run.death, bool(run.cores))
        R.cleanup(run)
    return _without[scenario]


@pytest.mark.parametrize("kind", ["ubsan", "asan"])
@pytest.mark.parametrize("scenario", sorted(S.SCENARIOS))
def test_sanitized_handler(kind, scenario):
    sig = S.SCENARIOS[scenario][1]
    death, core = without(scenario)
    run, code = sanitized_run(kind, scenario)
    try:
        assert not any(m in run.stderr for m in REPORT_MARKS), f"sanitizer report:\n{run.stderr}"
        assert run.death == death == ("signal", sig), f"death {death} -> {run.death}\n{run.stderr}"
        if R.cores_observable():
            assert bool(run.cores) == core, "core file presence changed"
        assert len(run.dumps) == 1, f"{len(run.dumps)} dumps; stderr:\n{run.stderr}"
        # Its one line, naming the dump: a sanitizer's report that blocks (UBSan's, with the malloc lock held by
        # another thread in malloc_lock) shows instead as the report running out of time.
        ours = [l for l in run.stderr.splitlines() if l.startswith("lastgasp:")]
        assert len(ours) == 1 and ours[0].startswith(f"lastgasp: {sig.name}") and str(run.dumps[0]) in ours[0], \
            run.stderr
        view = R.read_lastgasp(run.dumps[0], debuginfo=False)
        assert view["signal"] == sig.name
        modules = [os.path.realpath(m["path"]) for m in view["json"]["modules"] if m["path"].startswith("/")]
        assert str(code) in modules, f"{code} is not among the dump's modules: {modules}"
        runtime = "libasan.so" if kind == "asan" else "libubsan.so"
        assert any(runtime in os.path.basename(m) for m in modules), f"no {runtime} in the dump's modules: {modules}"
    finally:
        R.cleanup(run)


def test_asan_default_options_keep_the_signal():
    """The documented limit: with ASan's default options (leaks off only), ASan's own deadly-signal handler
    takes the crash, prints its report and exits with status 1, whether or not lastgasp is loaded after it;
    lastgasp writes no dump. ASan here is a tool for testing lastgasp, not a setup lastgasp serves."""
    opts = "detect_leaks=0"
    env = {"ASAN_OPTIONS": opts, "LD_PRELOAD": libasan()}
    plain = R.run_crasher("null_write", lastgasp=False, env=env)
    run, _ = sanitized_run("asan", "null_write", asan_options=opts)
    try:
        for r in (plain, run):
            assert r.death == ("exit", 1), r.stderr
            assert "ERROR: AddressSanitizer: SEGV" in r.stderr, r.stderr
        assert run.dumps == [], run.stderr
    finally:
        R.cleanup(plain)
        R.cleanup(run)

