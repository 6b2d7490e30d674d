#!/usr/bin/env bash
# The unwinder against libunwind (tests/unwind/README.md): every build variant of the generated chain, each
# program comparing the two walks itself. Run by `make unwind-test` and by tests/run.sh; build first with
# `make unwind-bins` (ARCH=arm64: `make ARCH=arm64 unwind-bins`, run under qemu-user with -singlestep, so that the
# trace scenario's timer samples can stop the chain at any instruction, and with the arm64 sysroot, which holds
# Debian's arm64 libunwind).
set -euo pipefail
cd "$(dirname "$0")/../.."
run=()
dir=${UNWDIFF_DIR:-build/tests/unwind}
if [ "${ARCH:-amd64}" = arm64 ]; then
  dir=${UNWDIFF_DIR:-build/arm64/tests/unwind}
  sysroot=${ARM64_SYSROOT:-${LASTGASP_TOOLS:-$HOME/.cache/lastgasp-tools}/arm64-sysroot}
  # qemu 7.2 calls it -singlestep; later versions -one-insn-per-tb.
  one=-singlestep
  qemu-aarch64 -h | grep -q -- -one-insn-per-tb && one=-one-insn-per-tb
  run=(qemu-aarch64 "$one" -L "$sysroot")
fi
# arm64: the sampler's coverage, the distinct pcs its samples stopped at in the chain's functions (the program's
# chain_* and the library's unwdiff_plt_call) over the instructions those functions have (their sizes / 4).
coverage() {
  local n
  n=$( (aarch64-linux-gnu-nm -S --defined-only "$dir/unwdiff-$1" | awk '$4 ~ /^chain_/'
        aarch64-linux-gnu-nm -S --defined-only "$dir/libunwdiff_plt-$1.so" | awk '$4 == "unwdiff_plt_call"') |
       python3 -c 'import sys; print(sum(int(l.split()[1], 16) for l in sys.stdin) // 4)')
  sed -n "s/.* \([0-9]*\) distinct pcs in the chain's functions/\1/p" "$2" |
    python3 -c "import sys; d = int(sys.stdin.read()); print('unwdiff $1: coverage %d of the %d instructions of the chain\'s functions (%.1f%%)' % (d, $n, 100.0 * d / $n))"
}
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for v in O0-fp O0-nofp O2-fp O2-nofp; do
  echo "-- unwdiff-$v"
  timeout 600 "${run[@]}" "$dir/unwdiff-$v" "$v" | tee "$out" || fail=1
  [ "${ARCH:-amd64}" != arm64 ] || coverage "$v" "$out"
done
exit $fail
