"""The `lastgasp` command line behaves as C tools do (issue 13): --version from the header, -h/--help on every
subcommand (usage on stdout, exit 0), usage errors that name the problem on stderr with a one-line hint (exit
2), --opt=value and --opt value, -- ends the options, - reads a dump from standard input and a pipe or process
substitution works as a path, data on stdout and diagnostics on stderr, every exit status as --help documents
it, and a man page made from the same table as --help, which groff renders without a warning.
"""
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest

from pylib import readers as R

SUBCOMMANDS = ["show", "json", "html", "collect", "upload", "watch", "pprof"]
MAN = R.BUILD / "lastgasp.1"


def cli(*args, input=None, cwd=None, timeout=60, **kw):
    return subprocess.run([str(R.CLI), *map(str, args)], capture_output=True, input=input, cwd=cwd,
                          timeout=timeout, **kw)


def text(p):
    return p.stdout.decode(), p.stderr.decode()


def hint(sub):
    return f"try 'lastgasp{' ' + sub if sub else ''} --help' for usage\n"


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    """{'c': a C crash (crasher null_write), 'go': a Go crash (cgocrash)}, copied out of their runs."""
    d = tmp_path_factory.mktemp("cli-dumps")
    out = {}
    for key, scenario, binary in (("c", "null_write", "crasher"), ("go", "-", "cgocrash")):
        run = R.run_crasher(scenario, binary=binary, tripwire=binary == "crasher")
        try:
            assert len(run.dumps) == 1, run.stderr
            out[key] = Path(shutil.copy2(run.dumps[0], d / f"{key}.dmp"))
        finally:
            R.cleanup(run)
    return out


def test_version_matches_header():
    v = re.search(r'#define LASTGASP_VERSION "([^"]+)"', (R.ROOT / "reporter/lastgasp.h").read_text()).group(1)
    p = cli("--version")
    assert p.returncode == 0 and text(p) == (f"lastgasp {v}\n", ""), p


@pytest.mark.parametrize("sub", SUBCOMMANDS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(sub, flag, tmp_path):
    # In an empty directory: `show --help` once tried to open a file named --help.
    p = cli(sub, flag, cwd=tmp_path)
    out, err = text(p)
    assert p.returncode == 0 and err == "", err
    assert out.startswith(f"usage: lastgasp {sub} ") and "\n\nOptions:\n" in out, out
    assert re.search(r"\n  -h, --help +print this help and exit\n", out), out
    assert re.search(r"\nExit status: 0 ", out), out
    assert all(len(line) <= 79 for line in out.splitlines()), out
    # --help anywhere among other arguments still only prints the help
    p = cli(sub, "x", flag, cwd=tmp_path)
    assert p.returncode == 0 and text(p)[0] == out


def test_top_level_help_and_errors():
    out, err = text(p := cli("--help"))
    assert p.returncode == 0 and err == "" and out.startswith("usage: lastgasp COMMAND ")
    for sub in SUBCOMMANDS:
        assert re.search(rf"^  {sub} +\S", out, re.M), sub
    assert text(cli("-h"))[0] == out
    for args, what in (((), "missing command (show, json, html, collect, upload, watch or pprof)"),
                       (("frobnicate",), "unknown command frobnicate"), (("--frob",), "unknown option --frob")):
        p = cli(*args)
        assert p.returncode == 2 and text(p) == ("", f"lastgasp: {what}\n{hint('')}"), (args, p)


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_unknown_option(sub):
    for opt, named in (("--frob", "--frob"), ("--frob=1", "--frob"), ("-Z", "-Z")):
        p = cli(sub, opt, "x", "y")
        assert p.returncode == 2 and text(p) == ("", f"lastgasp {sub}: unknown option {named}\n{hint(sub)}"), p


@pytest.mark.parametrize("args,what", [
    (("show",), "missing argument FILE"),
    (("json", "a", "b"), "too many arguments (b)"),
    (("html", "a", "b", "c"), "too many arguments (b)"),
    (("collect", "d"), "missing option -o BUNDLE.zip"),
    (("collect", "-o", "x.zip"), "missing argument DIR"),
    (("collect", "d", "-o"), "missing argument to -o"),
    (("collect", "d", "--output"), "missing argument to --output"),
    (("collect", "d", "-o", "x.zip", "--remove=yes"), "option --remove takes no argument"),
    (("collect", "d", "-o", "x.zip", "--rem=yes"), "option --remove takes no argument"),  # abbreviated
    (("upload",), "missing argument URL|DSN"),
    (("upload", "http://127.0.0.1:1/"), "missing argument DUMP|BUNDLE"),
    (("upload", "--tries"), "missing argument to --tries"),
    (("upload", "--tries=0", "http://127.0.0.1:1/", "d"), "--tries: not a number from 1 to 100: 0"),
    (("upload", "--as", "fax", "http://127.0.0.1:1/", "d"), "--as: not auto, event or minidump: fax"),
    (("upload", "--field", "novalue", "http://127.0.0.1:1/", "d"), "--field: not NAME=VALUE: novalue"),
    (("upload", "ftp://127.0.0.1/x", "d"), "only http:// and https:// URLs or a DSN are taken"),
    (("watch", "d"), "missing option --upload URL|DSN or --bundle-dir OUT (or both)"),
    (("watch", "--bundle-dir", "o"), "missing argument DIR"),
    (("watch", "d", "e", "--bundle-dir", "o"), "too many arguments (e)"),
    (("watch", "d", "--max", "3"), "ambiguous option --max (--max-dumps, --max-spool-mb, --max-backoff)"),
    (("watch", "d", "--upload"), "missing argument to --upload"),
    (("watch", "d", "--bundle-dir=o", "--rescan=0"), "--rescan: not a number from 0.1 to 86400: 0"),
    (("pprof",), "missing argument DUMP"),
    (("pprof", "a", "b"), "too many arguments (b)"),
    (("pprof", "a", "-o"), "missing argument to -o"),
])
def test_usage_errors_name_the_problem(args, what, tmp_path):
    p = cli(*args, cwd=tmp_path)
    out, err = text(p)
    assert p.returncode == 2 and out == "", (p.returncode, out)
    if args[1:2] == ("ftp://127.0.0.1/x",):  # the endpoint's own words, whatever they are, then the hint
        assert err.startswith("lastgasp upload: ") and err.endswith("\n" + hint("upload")), err
    else:
        assert err == f"lastgasp {args[0]}: {what}\n{hint(args[0])}", err


def test_opt_equals_value_and_options_anywhere(dumps, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy2(dumps["c"], src)
    # --opt=value, --opt value, -o value, before or after the operand: the same bundle each time
    for i, args in enumerate((["--output=" + str(tmp_path / "a.zip"), src],
                              [src, "--output", tmp_path / "b.zip"],
                              ["-o", tmp_path / "c.zip", src],
                              [src, "-o" + str(tmp_path / "d.zip")])):
        p = cli("collect", *args)
        assert p.returncode == 0, (args, p.stderr)
    names = {n: zipfile.ZipFile(tmp_path / f"{n}.zip").namelist() for n in "abcd"}
    assert all(v == ["c.dmp", "manifest.json"] for v in names.values()), names
    go = dumps["go"]
    a, b = tmp_path / "a.pb.gz", tmp_path / "b.pb.gz"
    assert cli("pprof", f"--output={a}", go).returncode == 0
    assert cli("pprof", go, "--output", b).returncode == 0
    assert a.read_bytes() == b.read_bytes() and a.read_bytes()[:2] == b"\x1f\x8b"


def test_double_dash_ends_options(dumps, tmp_path):
    shutil.copy2(dumps["c"], tmp_path / "-x.dmp")
    want = cli("show", dumps["c"])
    p = cli("show", "--", "-x.dmp", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == want.stdout, p.stderr
    p = cli("show", "-x.dmp", cwd=tmp_path)
    assert p.returncode == 2 and text(p)[1].startswith("lastgasp show: unknown option -x\n")
    # after --, even --help is a file name
    p = cli("json", "--", "--help", cwd=tmp_path)
    assert p.returncode == 1 and text(p) == ("", "lastgasp: --help: cannot open: No such file or directory\n")


@pytest.mark.parametrize("sub", ["show", "json", "html"])
def test_stdin_and_pipes(sub, dumps, tmp_path):
    dump = dumps["c"]
    data = dump.read_bytes()
    want = cli(sub, dump)
    assert want.returncode == 0 and want.stdout
    # - is standard input
    p = cli(sub, "-", input=data)
    assert p.returncode == 0 and p.stdout == want.stdout, p.stderr
    # process substitution, as a shell gives it: /dev/fd/63, a pipe
    p = subprocess.run(["bash", "-c", f'exec "$0" {sub} <(cat "$1")', R.CLI, dump], capture_output=True, timeout=60)
    assert p.returncode == 0 and p.stdout == want.stdout, p.stderr
    # a named pipe
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    t = threading.Thread(target=lambda: fifo.write_bytes(data))
    t.start()
    p = cli(sub, fifo)
    t.join(timeout=30)
    assert p.returncode == 0 and p.stdout == want.stdout, p.stderr


def test_pprof_stdin_and_pipe(dumps):
    go = dumps["go"]
    want = cli("pprof", go)
    assert want.returncode == 0 and want.stdout[:2] == b"\x1f\x8b", want.stderr
    p = cli("pprof", "-", input=go.read_bytes())
    assert p.returncode == 0 and p.stdout == want.stdout, p.stderr
    p = subprocess.run(["bash", "-c", 'exec "$0" pprof <(cat "$1")', R.CLI, go], capture_output=True, timeout=60)
    assert p.returncode == 0 and p.stdout == want.stdout, p.stderr


def test_streams_that_are_not_dumps(dumps, tmp_path):
    # a bundle needs seeking: through a pipe it is refused by name, not as "not a minidump"
    bundle = tmp_path / "b.zip"
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy2(dumps["c"], src)
    assert cli("collect", src, "-o", bundle).returncode == 0
    p = cli("show", "-", input=bundle.read_bytes())
    assert p.returncode == 1 and text(p) == (
        "", "lastgasp: standard input: a zip bundle, read as a stream: give a bundle as a file (it is read by "
            "seeking)\n")
    # empty input, and a device that never ends: "not a minidump", promptly
    for args, kw in ((("show", "-"), {"input": b""}), (("json", "/dev/zero"), {}), (("show", "/dev/null"), {})):
        p = cli(*args, **kw)
        assert p.returncode == 1 and "not a minidump" in text(p)[1] and p.stdout == b"", (args, p.stderr)


def test_stdout_is_data_stderr_is_diagnostics(dumps, tmp_path):
    # A dump cut short: the report on stdout, the reader's warnings on stderr and only there.
    data = dumps["c"].read_bytes()
    cut = tmp_path / "cut.dmp"
    cut.write_bytes(data[:len(data) * 2 // 3])
    p = cli("show", cut)
    out, err = text(p)
    assert p.returncode == 0 and out.startswith("SIG") and "warning" not in out, out
    assert err and all(line.startswith(f"lastgasp: {cut}: warning: ") for line in err.splitlines()), err
    # upload: a dump not sent is a diagnostic (stderr); stdout holds only what was sent, here nothing
    with socket_closed() as url:
        p = cli("upload", "--tries", "1", url, dumps["c"])
    assert p.returncode == 1 and text(p) == (
        "", f"lastgasp upload: {dumps['c']}: failed after 1 try: Couldn't connect to server\n"), p


class socket_closed:
    """A loopback URL on which nothing listens (a port taken, then released)."""

    def __enter__(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return f"http://127.0.0.1:{port}/submit"

    def __exit__(self, *a):
        return False


def test_watch_failures_on_stderr(dumps, tmp_path):
    d = tmp_path / "spool"
    d.mkdir()
    shutil.copy2(dumps["c"], d)
    (d / "junk.dmp").write_bytes(b"not a dump")
    with socket_closed() as url:
        p = subprocess.Popen([str(R.CLI), "watch", d, "--upload", url], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    err_lines = []
    t = threading.Thread(target=lambda: err_lines.extend(p.stderr))
    t.start()
    deadline = time.monotonic() + 20
    while not any("not uploaded" in x for x in err_lines) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=20)
    t.join(timeout=5)
    assert p.returncode == 0
    assert any(x.startswith("lastgasp watch: c.dmp: not uploaded: Couldn't connect") for x in err_lines), err_lines
    assert any(x == f"lastgasp watch: {d}/junk.dmp is not a minidump; left alone\n" for x in err_lines), err_lines
    lines = out.splitlines()
    assert lines[0].startswith(f"lastgasp watch: watching {d}; uploading to http://127.0.0.1:"), out
    assert lines[-1] == f"lastgasp watch: stopped; 1 dump not shipped yet, kept in {d}", out
    assert "not uploaded" not in out and "not a minidump" not in out, out


def exit_statuses(sub):
    """The statuses --help documents for sub: the numbers that open each clause of "Exit status:"."""
    out = text(cli(sub, "--help") if sub else cli("--help"))[0]
    para = " ".join(out.split("\nExit status: ", 1)[1].split())
    return {int(n) for n in re.findall(r"(?:^|; |, )(\d) ", para)}


def test_exit_statuses_as_documented(dumps, tmp_path):
    """Each status a command can end with, produced here, and each one in its --help."""
    empty = tmp_path / "empty"
    empty.mkdir()
    junk = tmp_path / "junk.dmp"
    junk.write_bytes(b"junk")
    nodumps = tmp_path / "nodumps.zip"
    with zipfile.ZipFile(nodumps, "w") as z:
        z.writestr("manifest.json", "{}")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy2(dumps["c"], mixed)
    shutil.copy2(junk, mixed)
    with socket_closed() as url:
        seen = {
            "": {0: cli("--version"), 2: cli("nope")},
            "show": {0: cli("show", dumps["c"]), 1: cli("show", junk), 2: cli("show")},
            "json": {0: cli("json", dumps["c"]), 1: cli("json", tmp_path / "missing.dmp"), 2: cli("json", "-q")},
            "html": {0: cli("html", dumps["c"]), 1: cli("html", junk), 2: cli("html")},
            "collect": {0: cli("collect", "-o", tmp_path / "0.zip", dumps["c"].parent),
                        1: cli("collect", "-o", tmp_path / "1.zip", tmp_path / "missing"),
                        2: cli("collect", empty),
                        3: cli("collect", "-o", tmp_path / "3.zip", mixed),
                        4: cli("collect", "-o", tmp_path / "4.zip", empty)},
            "upload": {1: cli("upload", "--tries", "1", url, dumps["c"]), 2: cli("upload", url),
                       4: cli("upload", url, nodumps)},
            "watch": {1: cli("watch", tmp_path / "missing", "--bundle-dir", empty), 2: cli("watch", empty)},
            "pprof": {0: cli("pprof", dumps["go"], "-o", tmp_path / "p.pb.gz"), 1: cli("pprof", dumps["c"]),
                      2: cli("pprof")},
        }
    for sub, by_status in seen.items():
        for status, p in by_status.items():
            assert p.returncode == status, (sub, status, p.stderr)
        assert set(by_status) <= exit_statuses(sub), (sub, exit_statuses(sub))
    # the ones that need a server or a terminal are documented too: upload 0 and 3, watch 0, pprof's tty
    assert exit_statuses("upload") == {0, 1, 2, 3, 4} and exit_statuses("watch") == {0, 1, 2}
    assert exit_statuses("collect") == {0, 1, 2, 3, 4} and exit_statuses("show") == {0, 1, 2}


def test_pprof_refuses_a_terminal(dumps):
    import pty
    master, slave = pty.openpty()
    try:
        p = subprocess.run([str(R.CLI), "pprof", dumps["go"]], stdout=slave, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    assert p.returncode == 2 and b"not writing a gzipped profile to a terminal" in p.stderr


def man_text():
    """The man page as man(1) shows it, in plain ASCII without overstriking."""
    p = subprocess.run(["groff", "-man", "-Tascii", "-P-c", "-P-b", "-P-u", "-ww", str(MAN)], capture_output=True,
                       timeout=60)
    assert p.returncode == 0 and p.stderr == b"", p.stderr
    return p.stdout.decode("ascii")


def words(s):
    return " ".join(s.split())


def test_man_page_renders_without_warnings():
    assert MAN.is_file(), "make all writes build/lastgasp.1"
    for cmd in (["groff", "-man", "-ww", "-z", str(MAN)], ["man", "--warnings", "-l", str(MAN)]):
        env = dict(os.environ, MANWIDTH="80", MAN_KEEP_STDERR="1")  # man-db: the formatters' stderr kept
        p = subprocess.run(cmd, capture_output=True, timeout=60, env=env)
        assert p.returncode == 0 and p.stderr == b"", (cmd, p.stderr)
    v = text(cli("--version"))[0].split()[1]
    assert re.search(rf'^\.TH LASTGASP 1 "" "lastgasp {re.escape(v)}"', MAN.read_text(), re.M)


@pytest.mark.parametrize("sub", [""] + SUBCOMMANDS)
def test_man_page_holds_every_help_text(sub):
    help_text = text(cli(sub, "--help") if sub else cli("--help"))[0]
    assert help_text.isascii()
    body = words(help_text.removeprefix("usage: "))
    assert body in words(man_text()), body
