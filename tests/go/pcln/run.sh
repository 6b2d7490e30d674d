#!/usr/bin/env bash
# tests/go/pcln/run.sh — lastgasp's Go pclntab reader against the Go runtime, in every build mode.
#
# First the C files alone, with the project's handler flags and -Werror, and the promise that
# reporter/go/go_pcln.o calls nothing but sigsafe (nm -u shows only ss_* symbols). Then the cgo program
# in this directory (main.go), built by each Go toolchain in each mode and run: it compares
# go_frames_at / go_findfunc / go_pcln_find_nasync with runtime.CallersFrames / FuncForPC / Version,
# and runs the reader on fenced, shortened and corrupted copies of the tables.
#
# Usage: tests/go/pcln/run.sh
#   PCLN_TOOLCHAINS  toolchains to test (default "local go1.22.12": the installed Go, and Go 1.22
#                    fetched through the module proxy by GOTOOLCHAIN)
#   PCLN_OUT         where binaries and logs go (default build/tests/go-pcln)
#   PCLN_ARM64_MODES modes also built for linux/arm64 (GOARCH=arm64, CC=aarch64-linux-gnu-gcc) and run under
#                    qemu-aarch64, for each toolchain (default "default stripped": the pclntab inside the
#                    executable segment, found by section or symbol, and by the scan for its magic)
# Prints one line per toolchain and mode, then "N passed, M failed"; exit status 1 if any failed.
set -uo pipefail

cd "$(dirname "$0")"
ROOT=$(cd ../../.. && pwd)
OUT=${PCLN_OUT:-$ROOT/build/tests/go-pcln}
mkdir -p "$OUT"
TOOLCHAINS=${PCLN_TOOLCHAINS:-local go1.22.12}
CC=${CC:-gcc}

passed=0
failed=0

# ---- the C files with the project's flags ----
SAFE=(-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -fno-omit-frame-pointer -fPIC -fvisibility=hidden
      -fno-builtin -fno-tree-loop-distribute-patterns -fno-stack-protector -fno-exceptions)
if "$CC" "${SAFE[@]}" -I"$ROOT" -c "$ROOT/reporter/go/go_pcln.c" -o "$OUT/go_pcln.o" 2>"$OUT/cc.log" &&
    "$CC" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -fPIC -I"$ROOT" -c "$ROOT/reporter/install/go_inspect.c" \
        -o "$OUT/go_inspect.o" 2>>"$OUT/cc.log"; then
    bad=$(nm -u "$OUT/go_pcln.o" | awk '{print $2}' | grep -v -E '^(ss_[a-z0-9_]+|_GLOBAL_OFFSET_TABLE_)$' || true)
    if [[ -z $bad ]]; then
        echo "PASS  C: go_pcln.c and go_inspect.c build with -Werror; go_pcln.o needs only: $(nm -u "$OUT/go_pcln.o" | awk '{print $2}' | tr '\n' ' ')"
        passed=$((passed + 1))
    else
        echo "FAIL  C: go_pcln.o needs symbols outside sigsafe: $(echo "$bad" | tr '\n' ' ')"
        failed=$((failed + 1))
    fi
else
    echo "FAIL  C: compile errors:"
    sed 's/^/      /' "$OUT/cc.log"
    failed=$((failed + 1))
fi
# In a process that is not Go: a clean failure that says so.
if "$CC" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$ROOT" -o "$OUT/notgo" notgo/notgo.c \
    "$ROOT/reporter/install/go_inspect.c" "$ROOT/reporter/go/go_pcln.c" "$ROOT/sigsafe/mem.c" >"$OUT/notgo.log" 2>&1 &&
    "$OUT/notgo" >>"$OUT/notgo.log" 2>&1; then
    echo "PASS  C: $(tail -1 "$OUT/notgo.log")"
else
    echo "FAIL  C: notgo (log: $OUT/notgo.log):"
    sed 's/^/      /' "$OUT/notgo.log" | tail -5
    failed=$((failed + 1))
fi
# That check is not a toolchain x mode combination: it is counted apart from them below.
c_failed=$failed
passed=0 failed=0

# ---- the cgo program, per toolchain and build mode ----
# The go command's build cache does not see the files that the lg_*.c wrappers #include from
# reporter/ and sigsafe/: a hash of them in CGO_CFLAGS makes any change to them rebuild the program.
CGO_CFLAGS=$(bash "$ROOT/tests/go/cgo_cflags.sh")
export CGO_CFLAGS
MODES=(default pie stripped noopt)
mode_flags() {
    case $1 in
    default) ;;
    pie) echo "-buildmode=pie" ;;
    stripped) echo "-ldflags=-s -w" ;;
    noopt) echo "-gcflags=all=-N -l" ;;
    esac
}

for tc in $TOOLCHAINS; do
    ver=$(GOTOOLCHAIN=$tc go env GOVERSION 2>"$OUT/toolchain-$tc.log") || {
        for m in "${MODES[@]}"; do
            echo "FAIL  $tc $m: toolchain unavailable: $(tail -1 "$OUT/toolchain-$tc.log")"
            failed=$((failed + 1))
        done
        continue
    }
    for m in "${MODES[@]}"; do
        bin="$OUT/pcln-$ver-$m"
        log="$OUT/pcln-$ver-$m.log"
        flags=$(mode_flags "$m")
        inline=yes
        [[ $m == noopt ]] && inline=no
        if ! GOTOOLCHAIN=$tc CGO_ENABLED=1 go build -buildvcs=false ${flags:+"$flags"} -o "$bin" . >"$log" 2>&1; then
            echo "FAIL  $ver $m: build failed:"
            sed 's/^/      /' "$log" | head -30
            failed=$((failed + 1))
            continue
        fi
        if timeout 600 "$bin" -inline="$inline" >"$log" 2>&1 && grep -q '^PASS$' "$log"; then
            echo "PASS  $ver $m: $(grep -E '^stacks:' "$log" | sed 's/^stacks: //'); $(grep -E '^found:' "$log" | sed 's/.*found by //')"
            passed=$((passed + 1))
        else
            echo "FAIL  $ver $m (log: $log):"
            grep -E '^(MISMATCH|FAIL|fatal|panic|SIG|signal|guarded|PC=)' "$log" | head -20 | sed 's/^/      /'
            tail -3 "$log" | sed 's/^/      /'
            failed=$((failed + 1))
        fi
    done
done

# ---- the same on linux/arm64, under qemu-user (GNU ld puts .gopclntab in the R+X segment there) ----
for tc in $TOOLCHAINS; do
    ver=$(GOTOOLCHAIN=$tc go env GOVERSION 2>/dev/null) || continue # counted as failed above
    for m in ${PCLN_ARM64_MODES-default stripped}; do
        bin="$OUT/pcln-$ver-$m-arm64"
        log="$bin.log"
        flags=$(mode_flags "$m")
        if ! GOTOOLCHAIN=$tc CGO_ENABLED=1 GOARCH=arm64 CC=aarch64-linux-gnu-gcc go build -buildvcs=false \
            ${flags:+"$flags"} -o "$bin" . >"$log" 2>&1; then
            echo "FAIL  $ver $m arm64: build failed:"
            sed 's/^/      /' "$log" | head -30
            failed=$((failed + 1))
            continue
        fi
        if timeout 900 qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin" -inline=yes >"$log" 2>&1 &&
            grep -q '^PASS$' "$log"; then
            echo "PASS  $ver $m arm64: $(grep -E '^stacks:' "$log" | sed 's/^stacks: //'); $(grep -E '^found:' "$log" | sed 's/.*found by //')"
            passed=$((passed + 1))
        else
            echo "FAIL  $ver $m arm64 (log: $log):"
            grep -E '^(MISMATCH|FAIL|fatal|panic|SIG|signal|guarded|PC=)' "$log" | head -20 | sed 's/^/      /'
            tail -3 "$log" | sed 's/^/      /'
            failed=$((failed + 1))
        fi
    done
done

if [[ $c_failed -ne 0 ]]; then
    echo "(the C build check failed as well)"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $c_failed -eq 0 ]]
