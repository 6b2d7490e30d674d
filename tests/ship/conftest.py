"""Fixtures shared by the shipping tests (test_upload.py, test_watch.py): real dumps, made once, and one
Bugsink server for the session, started on first use and stopped at the end."""
import shutil
from pathlib import Path

import pytest

from pylib import readers as R
from bugsink import Bugsink

# One project per test that counts events, so that counts are exact.
PROJECTS = ("raw", "symbols", "bundle", "watch", "goevents", "gocost", "arm64")


@pytest.fixture(scope="session")
def ship_dumps(tmp_path_factory):
    """{'null_write', 'abort', 'annotations', 'go'}: paths of real dumps of the crasher's scenarios (the
    annotations one sets build, user, long and bytes before crashing) and of the cgo program."""
    d = tmp_path_factory.mktemp("ship-dumps")
    out = {}
    for key, scenario, binary in (("null_write", "null_write", "crasher"), ("abort", "abort", "crasher"),
                                  ("annotations", "annotations", "crasher"), ("go", "-", "cgocrash")):
        run = R.run_crasher(scenario, binary=binary, tripwire=binary == "crasher")
        try:
            assert len(run.dumps) == 1, run.stderr
            out[key] = Path(shutil.copy2(run.dumps[0], d))
        finally:
            R.cleanup(run)
    return out


@pytest.fixture(scope="session")
def bugsink(tmp_path_factory):
    server = Bugsink(tmp_path_factory.mktemp("bugsink"), PROJECTS).start()
    try:
        yield server
    finally:
        server.stop()

