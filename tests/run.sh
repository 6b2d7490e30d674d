#!/usr/bin/env bash
# make test: every test of lastgasp, in order of cost. Installs what it needs first.
#   FUZZ_SECONDS (default 30) bounds the fuzzing run; `make fuzz` runs it longer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/tools/deps.sh test
make -s all test-bins

# make check: the unit tests (found by folder), the symbol check, goshim's units.
bash tests/check.sh

echo "== the unwinder against libunwind: the same frames on a generated chain, 4 build variants (tests/unwind)"
make -s unwind-bins
bash tests/unwind/run.sh

echo "== the glibc floor (no symbol version above GLIBC_2.17); the musl build (make LIBC=musl) and its promise checks"
bash tests/check_glibc_floor.sh
bash tests/check_glibc_floor.sh --selftest
make -s musl-test-bins
LIBC=musl bash tests/check_symbols.sh

echo "== arm64 (make ARCH=arm64): its promise checks; its crash matrix and unit tests run under qemu-user (test_arm64)"
make -s arm64-test-bins
ARCH=arm64 bash tests/check_symbols.sh
make -s ARCH=arm64 LIBC=musl all musl-test-bins  # musl on arm64 (build/arm64-musl/, test_arm64_musl)
ARCH=arm64 LIBC=musl bash tests/check_symbols.sh

echo "== clang: the library, the tool and the unit tests built with clang into build/clang/ (make CC=clang), the"
echo "   unit tests run, the symbol and glibc floor checks on its objects (its library and tool: tests/install)"
make -s CC=clang B=build/clang all unit-bins
for t in $(find build/clang/tests/unit -type f -name 'test_*' -perm -u+x | sort); do
  echo "-- $t"
  timeout 300 "$t"
done
B=build/clang bash tests/check_symbols.sh
bash tests/check_glibc_floor.sh build/clang/liblastgasp.so

echo "== fuzzing the reader for ${FUZZ_SECONDS:-30}s"
bash tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"

echo "== Go: the pclntab reader against the runtime's own symbolization (Go 1.26 and 1.22, 4 build modes)"
bash tests/go/pcln/run.sh

echo "== Go: the runtime offsets and wait reasons against DWARF and the binaries, every Go version from 1.22"
bash tests/go/offsets/run.sh

echo "== the Go package (goshim): gofmt, go vet, its own go test (Go 1.26 and 1.22)"
unformatted=$(gofmt -l goshim tests/go/matrix tests/go/pprof_live tests/bench/gohttp tests/bench/goinstall)
[ -z "$unformatted" ] || { echo "gofmt: not formatted: $unformatted"; exit 1; }
go vet ./goshim/...
go test -count=1 ./goshim/...
GOTOOLCHAIN=go1.22.12 go test -count=1 ./goshim/...

echo "== crash matrix (C and cgo) read back by Breakpad, rust-minidump, LLDB and lastgasp;"
echo "   Go dumps against the Go runtime's own traceback of the same crash; html pages in headless Chromium"
echo "   (screenshots in build/test-artifacts/); upload and watch against Bugsink on loopback; deploy files;"
echo "   the hardening suite (hostile environments, each with and without lastgasp); the C matrix and Go"
echo "   programs on musl (test_musl); the static musl tool against the glibc tool (test_musl_tool);"
echo "   the glibc library on glibc 2.31 in a Debian 11 tree (test_glibc_floor);"
echo "   the C matrix on arm64 under qemu-user, with the arm64 unit tests (test_arm64), and again on a real"
echo "   arm64 kernel booted in qemu-system, with the unit tests, the unwinder against libunwind and Go programs"
echo "   both ways in (test_arm64_kernel); the arm64 tool against the amd64 one, byte for byte, under qemu-user"
echo "   (test_arm64_tool, test_arm64_ship); the C matrix, cgo programs and goshim on arm64 musl (test_arm64_musl);"
echo "   make install into a staging tree, the gcc and clang builds, and the README's example built against it"
python3 -m pytest -q -p no:cacheprovider --durations=15 tests/crash tests/ship tests/hardening tests/go tests/html tests/deploy \
    tests/install
