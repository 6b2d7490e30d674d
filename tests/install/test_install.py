"""make install and make uninstall into a staging tree (DESTDIR), as a packager or a user runs them, and what a
user then builds against the result. Nothing here writes outside DESTDIR and the build directory.

- the files install writes, their modes and links, the SONAME, the versions (pkg-config, the header's macros,
  lastgasp_version(), the tool's --version, its man page, the library's file name and SONAME) all one, derived
  from the header, never copied here;
- LIBDIR, BINDIR, INCLUDEDIR, MANDIR and PKGCONFIGDIR each move their files, and lastgasp.pc follows;
- the README's C example, compiled with `pkg-config --cflags --libs lastgasp` against the staging tree (as
  written, then with its dump directory swapped for a temporary one to run it): it dies of the same signal
  as without lastgasp, leaves a dump, and the installed tool reads it; the installed shared library, preloaded
  by its SONAME, does the same for an unmodified program. For the gcc build, the clang one (make CC=clang) and
  the arm64 one (make ARCH=arm64: its library, tool and man page; the programs cross-built with
  aarch64-linux-gnu-gcc and, with the installed tool, run under qemu-user as tests/pylib/arm64.py runs them);
- a packager's CPPFLAGS, CFLAGS and LDFLAGS reach the library and the tool, and cannot undo the flags the signal
  handler's code needs: the symbol check and the glibc floor's check pass on a build whose flags try to (stack
  protector, builtins, LTO, lazy binding);
- uninstall removes every file install wrote, and nothing else.
"""
import json
import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from pylib import arm64 as A

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/usr/local"
# The builds the end-to-end tests install: the default one, and the clang and arm64 ones make test also builds.
BUILDS = {"gcc": [], "clang": ["CC=clang", "B=build/clang"], "arm64": ["ARCH=arm64"]}


def arm64(args):
    return "ARCH=arm64" in args


def cc_of(args):
    """The compiler of programs built against a build's installed files."""
    return "aarch64-linux-gnu-gcc" if arm64(args) else "cc"


def runnable(args, argv, env=None):
    """(argv, env) that run a program built for the build's architecture (under qemu-user for arm64)."""
    return A.wrap(argv, env or {}) if arm64(args) else (argv, env or {})


def tool_argv(args, tool, *tool_args):
    """The installed tool's command line (the arm64 tool with the arm64 libraries it links)."""
    return A.tool_argv(*tool_args, cli=tool) if arm64(args) else [str(tool), *map(str, tool_args)]


def make(*args, env=None, timeout=1800):
    p = subprocess.run(["make", "-s", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=timeout, env=env)
    assert p.returncode == 0, f"make {' '.join(args)}: exit {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


def tree(root):
    """Every file and link under root (directories left out): relative path -> ("file", mode) or ("link", target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = ("link", os.readlink(path))
            else:
                out[rel] = ("file", os.stat(path).st_mode & 0o7777)
    return out


def header_version():
    """LASTGASP_VERSION and its three parts as the header spells them (checked equal to each other here)."""
    text = (ROOT / "reporter" / "lastgasp.h").read_text()
    full = re.search(r'^#define LASTGASP_VERSION "([^"]*)"$', text, re.M).group(1)
    parts = [re.search(rf"^#define LASTGASP_VERSION_{p} (\d+)$", text, re.M).group(1)
             for p in ("MAJOR", "MINOR", "PATCH")]
    assert ".".join(parts) == full, f"LASTGASP_VERSION {full} but its parts say {'.'.join(parts)}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", full)
    return full


def pkg_config(destdir, *args, pcdir=None):
    env = dict(os.environ, PKG_CONFIG_PATH=pcdir or f"{destdir}{PREFIX}/lib/pkgconfig",
               PKG_CONFIG_SYSROOT_DIR=str(destdir))
    env.pop("PKG_CONFIG_LIBDIR", None)
    p = subprocess.run(["pkg-config", *args, "lastgasp"], capture_output=True, text=True, env=env, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def readme_c_example():
    """The C example of the README's "A C or C++ program that links it", as written."""
    text = (ROOT / "README.md").read_text()
    m = re.search(r"\*\*A C or C\+\+ program that links it\*\*.*?```c\n(.*?)```", text, re.S)
    assert m, "README.md has no C example under 'A C or C++ program that links it'"
    return m.group(1)


def cc_against(destdir, src, out, cc="cc"):
    """Compile src with the staging tree's pkg-config flags; -Werror so that the example is clean as well."""
    flags = pkg_config(destdir, "--cflags", "--libs")
    p = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-x", "c", str(src), "-x", "none",
                        *shlex.split(flags), "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"{cc} {src} {flags}:\n{p.stderr}"
    return out


def needed(binary):
    dyn = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\).*\[(.*)\]", dyn), dyn


def run_dies(cmd, env=None, args=()):
    """Run cmd (built for the build of make arguments args) to its death, without lastgasp's variables of the
    environment; returns (returncode, pid, stderr)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("LASTGASP_") and k != "LD_PRELOAD"}
    cmd, env = runnable(args, cmd, {**base, **(env or {})})
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    _, err = p.communicate(timeout=120)
    if arm64(args):  # qemu-user's own line about the guest's death, which a native run has not
        err = "".join(x for x in err.splitlines(True) if not x.startswith("qemu: uncaught target signal"))
    return p.returncode, p.pid, err


def read_dump(tool, dump, args=()):
    show = subprocess.run(tool_argv(args, tool, "show", dump), capture_output=True, text=True, timeout=120)
    assert show.returncode == 0, show.stderr
    js = subprocess.run(tool_argv(args, tool, "json", dump), capture_output=True, text=True, timeout=120)
    assert js.returncode == 0, js.stderr
    return show.stdout, json.loads(js.stdout)


@pytest.fixture(scope="module", params=sorted(BUILDS))
def installed(request, tmp_path_factory):
    """`make install` of one build into a fresh DESTDIR: (destdir, the build's make arguments, its directory)."""
    args = BUILDS[request.param]
    destdir = tmp_path_factory.mktemp(f"destdir-{request.param}")
    make(*args, "install", f"PREFIX={PREFIX}", f"DESTDIR={destdir}")
    build = ROOT / next((a[2:] for a in args if a.startswith("B=")), "build/arm64" if arm64(args) else "build")
    return destdir, args, build


def test_install_writes_the_library_header_pc_tool_and_man_page(installed):
    destdir, args, build = installed
    version = header_version()
    major = version.split(".")[0]
    p = PREFIX.lstrip("/")
    want = {
        f"{p}/lib/liblastgasp.so.{version}": ("file", 0o644),
        f"{p}/lib/liblastgasp.so.{major}": ("link", f"liblastgasp.so.{version}"),
        f"{p}/lib/liblastgasp.so": ("link", f"liblastgasp.so.{major}"),
        f"{p}/lib/liblastgasp.a": ("file", 0o644),
        f"{p}/lib/pkgconfig/lastgasp.pc": ("file", 0o644),
        f"{p}/include/lastgasp.h": ("file", 0o644),
        f"{p}/bin/lastgasp": ("file", 0o755),
        f"{p}/share/man/man1/lastgasp.1": ("file", 0o644),
    }
    assert tree(destdir) == want

    lib = destdir / p / "lib"
    dyn = needed(lib / "liblastgasp.so")[1]
    assert re.search(rf"\(SONAME\).*\[liblastgasp\.so\.{major}\]", dyn), dyn
    assert re.search(r"\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*\bNOW\b", dyn), dyn
    # The links lead to the one library, which is the build's.
    assert (lib / "liblastgasp.so").resolve() == (lib / f"liblastgasp.so.{version}").resolve()
    assert (lib / f"liblastgasp.so.{version}").read_bytes() == (build / "liblastgasp.so").read_bytes()
    assert (destdir / p / "include" / "lastgasp.h").read_bytes() == (ROOT / "reporter" / "lastgasp.h").read_bytes()
    assert (destdir / p / "bin" / "lastgasp").read_bytes() == (build / "lastgasp").read_bytes()
    assert (destdir / p / "share/man/man1/lastgasp.1").read_bytes() == (build / "lastgasp.1").read_bytes()
    # The build's architecture, and one man page for all: it is made from the help table on this machine.
    machine = "AArch64" if arm64(args) else "X86-64"
    for f in (lib / f"liblastgasp.so.{version}", destdir / p / "bin" / "lastgasp"):
        head = subprocess.run(["readelf", "-h", str(f)], capture_output=True, text=True, check=True).stdout
        assert re.search(rf"Machine:\s+.*{machine}", head), (f, head)
    assert (destdir / p / "share/man/man1/lastgasp.1").read_bytes() == (ROOT / "build/lastgasp.1").read_bytes()


def test_versions_agree(installed, tmp_path):
    """pkg-config's version, the header's macros, lastgasp_version() of the installed library, the installed tool's
    --version and its man page, the file name and the SONAME: one version, the header's."""
    destdir, args, _ = installed
    version = header_version()
    assert pkg_config(destdir, "--modversion") == version
    tool = subprocess.run(tool_argv(args, destdir / PREFIX.lstrip("/") / "bin" / "lastgasp", "--version"),
                          capture_output=True, text=True, timeout=30)
    assert tool.returncode == 0 and tool.stdout == f"lastgasp {version}\n", (tool.returncode, tool.stdout)
    man = (destdir / PREFIX.lstrip("/") / "share/man/man1/lastgasp.1").read_text()
    assert re.search(rf'^\.TH LASTGASP 1 .*"lastgasp {re.escape(version)}"', man, re.M), man[:300]
    src = tmp_path / "version.c"
    src.write_text('#include <lastgasp.h>\n#include <stdio.h>\n'
                   'int main(void) { printf("%s %d.%d.%d %s\\n", LASTGASP_VERSION, LASTGASP_VERSION_MAJOR, '
                   'LASTGASP_VERSION_MINOR, LASTGASP_VERSION_PATCH, lastgasp_version()); return 0; }\n')
    exe = cc_against(destdir, src, tmp_path / "version", cc_of(args))
    argv, env = runnable(args, [str(exe)], dict(os.environ))
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True, env=env).stdout.split()
    assert out == [version] * 3


def test_pkg_config_links_the_static_library(installed):
    """The shared library is the LD_PRELOAD form (its constructor installs from the environment): a program that
    calls lastgasp_install() gets liblastgasp.a, and so needs no liblastgasp at run time."""
    destdir, _, _ = installed
    flags = pkg_config(destdir, "--cflags", "--libs").split()
    assert f"-I{destdir}{PREFIX}/include" in flags
    assert f"-L{destdir}{PREFIX}/lib" in flags and "-l:liblastgasp.a" in flags
    assert "-llastgasp" not in flags


def test_readme_example_crashes_into_a_dump_the_installed_tool_reads(installed, tmp_path):
    destdir, args, _ = installed
    example = readme_c_example()
    assert example.count('"/var/crash"') == 1, "the example's dump directory is expected once, as a string"
    # As written: it compiles and links against the installed header and library, and nothing else.
    (tmp_path / "as_written.c").write_text(example)
    exe = cc_against(destdir, tmp_path / "as_written.c", tmp_path / "as_written", cc_of(args))
    libs, _ = needed(exe)
    assert not [n for n in libs if "lastgasp" in n], libs

    # To run it: the same text with the dump directory a fresh one (and, for the run without lastgasp, one that
    # does not exist: lastgasp_install fails and says why, and the program dies as it would without it).
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (tmp_path / "crash.c").write_text(example.replace('"/var/crash"', f'"{dumps}"'))
    (tmp_path / "off.c").write_text(example.replace('"/var/crash"', f'"{tmp_path}/missing"'))
    crash = cc_against(destdir, tmp_path / "crash.c", tmp_path / "crash", cc_of(args))
    off = cc_against(destdir, tmp_path / "off.c", tmp_path / "off", cc_of(args))

    rc_off, _, err_off = run_dies([str(off)], args=args)
    assert err_off.startswith("lastgasp: ") and err_off.count("\n") == 1 and not list(dumps.iterdir())
    rc, pid, err = run_dies([str(crash)], args=args)
    assert rc_off == rc == -signal.SIGABRT, (rc_off, err_off, rc, err)
    [dump] = list(dumps.iterdir())
    comm = A.QEMU if arm64(args) else "crash"  # the process's name: under qemu-user, qemu's
    assert dump.name.startswith(f"{comm}-{pid}-") and dump.name.endswith(".dmp")
    assert f"dump: {dump}" in err  # the one line at crash time, which names the file

    tool = destdir / PREFIX.lstrip("/") / "bin" / "lastgasp"
    text, js = read_dump(tool, dump, args)
    assert js["pid"] == pid and js["signal"]["name"] == "SIGABRT"
    [crashed] = [t for t in js["threads"] if t.get("crashed")]
    functions = [f.get("function") for f in crashed["frames"]]
    assert "abort" in functions and "main" in functions, functions
    assert functions.index("abort") < functions.index("main")
    assert text.startswith("SIGABRT") and " in main+" in text


def test_installed_shared_library_preloads_by_its_soname(installed, tmp_path):
    destdir, args, _ = installed
    src = tmp_path / "plain.c"
    src.write_text("#include <stdlib.h>\nint main(void) { abort(); }\n")
    plain = tmp_path / "plain"
    subprocess.run([cc_of(args), "-o", str(plain), str(src)], check=True, timeout=120)
    lib = destdir / PREFIX.lstrip("/") / "lib" / f"liblastgasp.so.{header_version().split('.')[0]}"
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    rc_without, _, _ = run_dies([str(plain)], args=args)
    rc, pid, err = run_dies([str(plain)], env={"LD_PRELOAD": str(lib), "LASTGASP_DIR": str(dumps)}, args=args)
    assert rc_without == rc == -signal.SIGABRT, err
    [dump] = list(dumps.iterdir())
    _, js = read_dump(destdir / PREFIX.lstrip("/") / "bin" / "lastgasp", dump, args)
    assert js["pid"] == pid and js["signal"]["name"] == "SIGABRT"


def test_directories_can_each_be_set(tmp_path):
    """GNU conventions: each directory variable moves its files (Debian's multiarch LIBDIR, for one), and
    lastgasp.pc names the directories the files went to."""
    dirs = {"BINDIR": "/opt/lg/sbin", "LIBDIR": "/usr/lib/x86_64-linux-gnu", "INCLUDEDIR": "/opt/lg/inc",
            "MANDIR": "/opt/lg/man", "PKGCONFIGDIR": "/usr/share/pkgconfig"}
    make("install", "PREFIX=/opt/lg", f"DESTDIR={tmp_path}", *[f"{k}={v}" for k, v in dirs.items()])
    got = tree(tmp_path)
    version = header_version()
    assert set(got) == {
        "opt/lg/sbin/lastgasp", f"usr/lib/x86_64-linux-gnu/liblastgasp.so.{version}",
        f"usr/lib/x86_64-linux-gnu/liblastgasp.so.{version.split('.')[0]}", "usr/lib/x86_64-linux-gnu/liblastgasp.so",
        "usr/lib/x86_64-linux-gnu/liblastgasp.a", "opt/lg/inc/lastgasp.h", "usr/share/pkgconfig/lastgasp.pc",
        "opt/lg/man/man1/lastgasp.1"}
    pcdir = f"{tmp_path}/usr/share/pkgconfig"
    assert pkg_config(tmp_path, "--variable=libdir", pcdir=pcdir) == f"{tmp_path}{dirs['LIBDIR']}"
    assert pkg_config(tmp_path, "--variable=includedir", pcdir=pcdir) == f"{tmp_path}{dirs['INCLUDEDIR']}"
    assert pkg_config(tmp_path, "--variable=prefix", pcdir=pcdir) == f"{tmp_path}/opt/lg"
    # uninstall with the same variables leaves no file behind
    make("uninstall", "PREFIX=/opt/lg", f"DESTDIR={tmp_path}", *[f"{k}={v}" for k, v in dirs.items()])
    assert tree(tmp_path) == {}


def test_uninstall_removes_what_install_wrote_and_nothing_else(tmp_path):
    # Files of other packages in the same directories, which uninstall must leave.
    others = ["usr/local/lib/libother.so.1", "usr/local/include/other.h", "usr/local/bin/other",
              "usr/local/lib/pkgconfig/other.pc", "usr/local/share/man/man1/other.1"]
    for rel in others:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("not lastgasp's\n")
    before = tree(tmp_path)
    make("install", f"PREFIX={PREFIX}", f"DESTDIR={tmp_path}")
    assert len(tree(tmp_path)) == len(before) + 8
    make("uninstall", f"PREFIX={PREFIX}", f"DESTDIR={tmp_path}")
    assert tree(tmp_path) == before


# A packager's flags that, were they last, would undo what the handler needs: a stack protector (its failure
# path calls __stack_chk_fail), builtins and loop distribution (loops into memset/memcpy calls), LTO (code the
# symbol check never sees), no frame pointers, lazy binding. Each also leaves a mark that shows it was honoured.
PACKAGER = {
    "CPPFLAGS": "-D_FORTIFY_SOURCE=2",
    "CFLAGS": "-O2 -g -fstack-protector-strong -fbuiltin -ftree-loop-distribute-patterns -flto=auto "
              "-ffat-lto-objects -fomit-frame-pointer -fcf-protection",
    "LDFLAGS": "-Wl,-z,lazy -Wl,-rpath,/lastgasp-packager-ldflags",
}


def test_packager_flags_are_honoured_and_cannot_undo_the_handlers_flags(tmp_path):
    # A fresh build directory every time: make does not rebuild an object whose flags changed.
    build = tmp_path / "build"
    b = str(build)
    make(f"B={b}", "all", *[f"{k}={v}" for k, v in PACKAGER.items()])

    # Honoured: the stack protector in the library (its install-time code), _FORTIFY_SOURCE in the library and the
    # tool, the run path on both links. (The linked files, not the objects: nm lists an LTO object's IR symbols.)
    def imports(f):
        return subprocess.run(["nm", "-D", "--undefined-only", str(f)], capture_output=True, text=True,
                              check=True).stdout
    assert "__stack_chk_fail" in imports(build / "liblastgasp.so"), "CFLAGS did not reach the library"
    for f in (build / "liblastgasp.so", build / "lastgasp"):
        assert re.search(r"__\w+_chk\b", imports(f)), f"CPPFLAGS (_FORTIFY_SOURCE) did not reach {f}"
    for f in (build / "liblastgasp.so", build / "lastgasp"):
        assert "/lastgasp-packager-ldflags" in needed(f)[1], f"LDFLAGS did not reach the link of {f}"

    # Not undone: the handler objects call nothing outside the allow-list, the exports are the API, and the
    # library binds now (tests/check_symbols.sh (a) to (c) on this build).
    p = subprocess.run(["bash", "tests/check_symbols.sh"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, B=b))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "check_symbols: all checks passed" in p.stdout
    # Nor the glibc floor (LTO and toplevel .symver are known not to mix): no symbol version above it.
    p = subprocess.run(["bash", "tests/check_glibc_floor.sh", f"{b}/liblastgasp.so"], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
