#!/usr/bin/env bash
# Fuzz the reader and both renderers for SECONDS (default 30). The kept corpus is copied first:
# libFuzzer writes what it finds into its first directory, and the tree's corpus stays as it is.
# `make fuzz FUZZ_SECONDS=3600` for a long run; add anything it finds worth keeping to corpus/.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
make -s build/tests/fuzz_mdread
work=$(mktemp -d /tmp/lastgasp-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp tests/fuzz/corpus/* "$work"/
build/tests/fuzz_mdread -max_total_time="$secs" -dict=tests/fuzz/mdread.dict -max_len=8192 \
    -print_final_stats=1 "$work" 2>"$work.log" || { tail -50 "$work.log"; rm -f "$work.log"; exit 1; }
grep -E "stat::number_of_executed_units|Done" "$work.log" | sed 's/^/fuzz: /'
rm -f "$work.log"
