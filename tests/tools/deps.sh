#!/usr/bin/env bash
# deps.sh — install what lastgasp needs, idempotently. Tools are reused when present.
#   deps.sh build   what `make` needs: a C compiler, make, pkg-config, minizip on zlib (the `lastgasp
#                   collect` bundles), libcurl (`lastgasp upload|watch`) and elfutils' libdw and libdebuginfod
#                   (file:line of C frames); the library links none of them
#   deps.sh demo    also curl, which `make demo` uses to send requests to the demo service
#   deps.sh bench   also what `make bench` needs: wrk (the HTTP load generator) and Go
#   deps.sh test    also what the tests need: lldb, clang (libFuzzer), chromium (the html pages), strace (the
#                   capture-cost count), debuginfod (a local debug-info server), pytest,
#                   Breakpad's tools (npm minidump@0.26.0) and rust-minidump (cargo), PyYAML (the deploy
#                   files' check), Bugsink 2.6.2 in a venv (a real crash server for the upload tests), musl-gcc
#                   (make LIBC=musl), a Debian 11 tree made with debootstrap (glibc 2.31, the floor's load test),
#                   libunwind (the reference of the unwinder's differential test, tests/unwind), groff and
#                   man-db (build/lastgasp.1 rendered by test_cli), and the arm64 cross toolchain with qemu-user
#                   (make ARCH=arm64 and its tests under qemu)
#   ARCH=arm64 deps.sh build   also the arm64 cross toolchain and Debian's arm64 libraries for the tool
#                   (tests/tools/arm64_sysroot.sh; `test` makes them too)
#   LIBC=musl deps.sh build    also musl-gcc and the static musl tool's libraries, built from Debian's sources
#                   (tests/tools/musl_deps.sh; `test` makes them too)
# Downloaded tools go to $LASTGASP_TOOLS (default ~/.cache/lastgasp-tools), outside the tree.
set -euo pipefail
mode=${1:-test}
case $mode in build|demo|bench|test) ;; *) echo "usage: deps.sh [build|demo|bench|test]" >&2; exit 2;; esac
TOOLS=${LASTGASP_TOOLS:-$HOME/.cache/lastgasp-tools}

pkgs=(gcc make pkg-config libminizip-dev zlib1g-dev libcurl4-openssl-dev libdw-dev libdebuginfod-dev)
[ "$mode" = demo ] && pkgs+=(curl)
[ "$mode" = test ] && pkgs+=(lldb clang chromium libcap2-bin strace python3-fusepy debuginfod)  # setcap; syscall counts; FUSE
[ "$mode" = test ] && pkgs+=(musl-tools debootstrap)  # make LIBC=musl (test_musl); an older glibc's tree (test_glibc_floor)
[ "$mode" = test ] && pkgs+=(libunwind-dev)  # the reference unwinder of tests/unwind (never linked into the library)
[ "$mode" = test ] && pkgs+=(groff-base man-db)  # the man page rendered and checked for warnings (test_cli)
[ "$mode" = bench ] && pkgs+=(wrk)
# make ARCH=arm64 (build/arm64/) and its tests, which run the arm64 programs under qemu-user on this machine
if [ "$mode" = test ] || { [ "$mode" = build ] && [ "${ARCH:-}" = arm64 ]; }; then
  pkgs+=(qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
fi
[ "$mode" = test ] && pkgs+=(qemu-system-arm cpio)  # an arm64 machine with a real kernel (test_arm64_kernel)
# make LIBC=musl's static tool: its libraries built from source with musl-gcc (patch applies Debian's fixes;
# the tarballs are .tar.xz and .tar.bz2)
musl_tool() { [ "$mode" = test ] || { [ "$mode" = build ] && [ "${LIBC:-}" = musl ]; }; }
musl_tool && pkgs+=(musl-tools patch xz-utils bzip2)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "deps: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "deps: missing Debian packages; as root run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
# make ARCH=arm64's tool links Debian's arm64 libraries, and the arm64 tests run against them and the arm64
# libunwind and musl: a tree of their own, beside the machine's packages (arm64_sysroot.sh says why).
if [ "$mode" = test ] || { [ "$mode" = build ] && [ "${ARCH:-}" = arm64 ]; }; then
  if [ ! -e "$TOOLS/arm64-sysroot/.ready" ]; then echo "deps: Debian's arm64 libraries into $TOOLS/arm64-sysroot"; fi
  bash "$(dirname "$0")/arm64_sysroot.sh" "$TOOLS/arm64-sysroot"
fi
if musl_tool && [ ! -e "$TOOLS/musl-deps/.ready" ]; then
  echo "deps: zlib, minizip, mbedTLS and libcurl for musl into $TOOLS/musl-deps (built from Debian's sources)"
fi
musl_tool && bash "$(dirname "$0")/musl_deps.sh" "$TOOLS/musl-deps"
[ "$mode" = build ] && exit 0

command -v go >/dev/null || { echo "deps: the tests build a cgo program and need Go (golang.org toolchain)" >&2; exit 1; }
# make bench builds Breakpad's client from the sources the npm minidump package ships (tests/bench/breakpad_client.sh).
if [ "$mode" = bench ] && [ ! -d "$TOOLS/npm/node_modules/minidump/deps/breakpad/src/client/linux" ]; then
  echo "deps: npm install minidump@0.26.0 (Breakpad's sources, for the crash benchmark)"
  mkdir -p "$TOOLS/npm"
  (cd "$TOOLS/npm" && npm install --silent --ignore-scripts --no-audit --no-fund minidump@0.26.0 >/dev/null)
fi
[ "$mode" = bench ] || [ "$mode" = demo ] && exit 0
if ! python3 -m pytest --version >/dev/null 2>&1; then
  echo "deps: pip install pytest"
  python3 -m pip install -q pytest
fi

if ! python3 -c 'import yaml' >/dev/null 2>&1; then
  echo "deps: pip install pyyaml"
  python3 -m pip install -q pyyaml
fi

# Bugsink, in a venv of its own so the system Python is not touched. 2.6.2, because 2.6.0 and 2.6.1 lose the
# dump on the standalone minidump endpoint (the digest step opens a file the view never wrote). 2.6.2 asks for
# certifi >= 2026.10.19, newer than the package registry here holds; certifi is a CA bundle, which plays no
# part for a server on 127.0.0.1 over http: so 2.6.1 brings the pinned dependency set, and 2.6.2 goes on top.
bs=$TOOLS/bugsink-venv
if [ ! -e "$bs/.lastgasp-bugsink-2.6.2" ]; then
  echo "deps: Bugsink 2.6.2 into $bs (once)"
  rm -rf "$bs"
  python3 -m venv "$bs"
  "$bs/bin/pip" install -q bugsink==2.6.1
  "$bs/bin/pip" install -q --no-deps bugsink==2.6.2
  touch "$bs/.lastgasp-bugsink-2.6.2"
fi

# An older glibc for the glibc floor's load test (tests/crash/test_glibc_floor.py): a Debian 11 tree (glibc 2.31,
# the oldest release the Debian registry still serves; buster's files are gone) with gcc in it, made once.
old=$TOOLS/bullseye
if [ ! -e "$old/.lastgasp-ready" ]; then
  echo "deps: a Debian 11 tree with gcc into $old (glibc 2.31; a few minutes, once)"
  rm -rf "$old"
  debootstrap --variant=minbase bullseye "$old" >/dev/null
  unshare -m sh -c "mount -t proc proc '$old/proc' && chroot '$old' sh -c 'apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null'"
  touch "$old/.lastgasp-ready"
fi

bp=$TOOLS/npm/node_modules/minidump/bin/linux-x64
if [ ! -x "$bp/minidump_stackwalk" ]; then
  echo "deps: npm install minidump@0.26.0 (Breakpad's minidump_stackwalk, minidump_dump, dump_syms)"
  mkdir -p "$TOOLS/npm"
  (cd "$TOOLS/npm" && npm install --silent --ignore-scripts --no-audit --no-fund minidump@0.26.0 >/dev/null)
fi
chmod +x "$bp"/* 2>/dev/null || true

if [ ! -x "$TOOLS/cargo/bin/minidump-stackwalk" ]; then
  echo "deps: cargo install minidump-stackwalk 0.27.0 (a few minutes, once)"
  cargo install --quiet --root "$TOOLS/cargo" --version 0.27.0 minidump-stackwalk
fi
echo "deps: ready (tools in $TOOLS)"
