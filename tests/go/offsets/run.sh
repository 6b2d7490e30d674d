#!/usr/bin/env bash
# run.sh — check reporter/go/go_offsets.c (and go_traceback.c's decoding) against real Go binaries.
#
# For each Go toolchain (GO_VERSIONS, default below; "local" is the installed go) and each of amd64
# and arm64, build probe/ and compare what its DWARF and its runtime.waitReasonStrings and
# runtime.gStatusStrings say (dwarfoffsets) with what the table says for the binary's version
# (print_table). Also: the table's unit tests (test_go_offsets.c), and a check that go_offsets.c
# built with the handler flags calls nothing at all.
#
# Toolchains come from the Go module proxy through GOTOOLCHAIN (cached in the module cache); one
# that cannot be had is reported as skipped. Prints one line per check, then "N passed, M failed"
# (", K skipped" when some were); exit 1 on any failure.
#   GO_VERSIONS="go1.22.12 local" bash tests/go/offsets/run.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
# The latest patch of each minor, and both sides of each patch release that changed something
# (1.23.4 added a wait reason; 1.23.12 and 1.24.6 moved m's fields).
GO_VERSIONS=${GO_VERSIONS:-"go1.22.12 go1.23.3 go1.23.10 go1.23.12 go1.24.5 go1.24.13 go1.25.14 local go1.27.4"}
CC=${CC:-gcc}
export GOFLAGS=-buildvcs=false

work=$(mktemp -d "${TMPDIR:-/tmp}/go_offsets.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 skipped=0
pass() { echo "ok    $*"; passed=$((passed + 1)); }
fail() { echo "FAIL  $*"; failed=$((failed + 1)); }

cflags=(-I"$root" -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror)
if ! "$CC" "${cflags[@]}" -o "$work/print_table" "$here/print_table.c" "$root/reporter/go/go_offsets.c" \
        "$root/formats/json/json_write.c" "$root/formats/json/json_utf8.c" ||
    ! "$CC" "${cflags[@]}" -o "$work/tbwords" "$here/tbwords.c" "$root/reporter/install/go_traceback.c" ||
    ! "$CC" "${cflags[@]}" -o "$work/test_go_offsets" "$here/test_go_offsets.c" "$root/reporter/go/go_offsets.c"; then
    fail "building the C test programs"
    echo "$passed passed, $failed failed"
    exit 1
fi

if out=$("$work/test_go_offsets"); then
    pass "unit tests of go_offsets.c ($(tail -n1 <<<"$out"))"
else
    echo "$out" | sed 's/^/      /'
    fail "unit tests of go_offsets.c"
fi

# Handler-path promise: with the handler flags (as the Makefile's CFLAGS_SAFE) the object needs no
# symbol from anywhere, not even memcpy.
if "$CC" "${cflags[@]}" -fPIC -fvisibility=hidden -fno-builtin -fno-tree-loop-distribute-patterns \
    -fno-stack-protector -c -o "$work/go_offsets.o" "$root/reporter/go/go_offsets.c"; then
    undef=$(nm -u "$work/go_offsets.o" | awk '{print $NF}' | grep -v '^_GLOBAL_OFFSET_TABLE_$' || true)
    if [ -z "$undef" ]; then
        pass "go_offsets.o (handler flags) references no outside symbol"
    else
        fail "go_offsets.o (handler flags) references: $(echo $undef)"
    fi
else
    fail "compiling go_offsets.c with the handler flags"
fi

if ! (cd "$here" && GOTOOLCHAIN=local go build -o "$work/dwarfoffsets" ./dwarfoffsets); then
    fail "building dwarfoffsets"
    echo "$passed passed, $failed failed"
    exit 1
fi

tested=()
for v in $GO_VERSIONS; do
    tc=$v
    [ "$v" = local ] && tc=local
    if ! ver=$(cd "$here" && GOTOOLCHAIN=$tc go env GOVERSION 2>"$work/err"); then
        echo "skip  $v: toolchain unavailable ($(tail -n1 "$work/err"))"
        skipped=$((skipped + 1))
        continue
    fi
    tested+=("$ver")
    for arch in amd64 arm64; do
        bin=$work/probe-$ver-$arch
        if ! (cd "$here" && GOTOOLCHAIN=$tc GOOS=linux GOARCH=$arch CGO_ENABLED=0 go build -o "$bin" ./probe) \
            2>"$work/err"; then
            fail "$ver $arch: build: $(tail -n1 "$work/err")"
            continue
        fi
        binver=$("$work/dwarfoffsets" -version "$bin") || { fail "$ver $arch: no build info"; continue; }
        if ! "$work/print_table" "$binver" >"$work/table.json" 2>"$work/err"; then
            fail "$ver $arch: $(cat "$work/err")"
            continue
        fi
        if diffs=$("$work/dwarfoffsets" -want "$work/table.json" "$bin" 2>&1); then
            pass "$ver $arch: $diffs"
        else
            echo "$diffs" | sed 's/^/      /'
            fail "$ver $arch: the table differs from the binary"
        fi
        # The traceback word a stripped binary's code leads to (amd64 decoding) is the one its symbols name.
        if [ "$arch" = amd64 ]; then
            if tb=$("$work/tbwords" "$bin"); then pass "$ver $arch: $tb"; else fail "$ver $arch: traceback word: $tb"; fi
        fi
    done
done
echo "toolchains tested: ${tested[*]:-none}"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
