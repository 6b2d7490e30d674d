"""Shared by every pytest suite: the tests use no network beyond loopback. A Debian login shell exports
DEBUGINFOD_URLS (libdebuginfod-common), which would make `lastgasp show|json|html` ask a public debuginfod
server for the debug info of libc and friends; the tests that exercise debuginfod start their own server on
127.0.0.1 and set the variable themselves (tests/crash/test_debuginfo.py)."""
import os

os.environ.pop("DEBUGINFOD_URLS", None)
