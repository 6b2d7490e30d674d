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
  sysroot=${ARM64_SYSROOT:-$HOME/.cache/lastgasp-tools/arm64-sysroot}
  # qemu 7.2 calls it -singlestep; later versions -one-insn-per-tb.
  one=-singlestep
  qemu-aarch64 -h | grep -q -- -one-insn-per-tb && one=-one-insn-per-tb
  run=(qemu-aarch64 "$one" -L "$sysroot")
fi
fail=0
for v in O0-fp O0-nofp O2-fp O2-nofp; do
  echo "-- unwdiff-$v"
  timeout 600 "${run[@]}" "$dir/unwdiff-$v" "$v" || fail=1
done
exit $fail
