#!/usr/bin/env bash
# The unwinder against libunwind (tests/unwind/README.md): every build variant of the generated chain, each
# program comparing the two walks itself. Run by `make unwind-test` and by tests/run.sh; build first with
# `make unwind-bins`.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${UNWDIFF_DIR:-build/tests/unwind}
fail=0
for v in O0-fp O0-nofp O2-fp O2-nofp; do
  echo "-- unwdiff-$v"
  timeout 600 "$dir/unwdiff-$v" "$v" || fail=1
done
exit $fail
