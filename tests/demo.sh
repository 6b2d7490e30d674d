#!/usr/bin/env bash
# make demo: crash a small program with lastgasp preloaded and render the dump it leaves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/tools/deps.sh build
make -s all build/tests/demo
dir=$(mktemp -d /tmp/lastgasp-demo.XXXXXX)
echo "\$ LD_PRELOAD=build/liblastgasp.so LASTGASP_DIR=$dir build/tests/demo"
set +e
LD_PRELOAD=build/liblastgasp.so LASTGASP_DIR=$dir build/tests/demo
status=$?
set -e
echo "(exit status $status: killed by signal $((status - 128)), exactly as without lastgasp)"
dump=$(ls "$dir"/*.dmp)
echo
echo "\$ build/lastgasp show $dump"
build/lastgasp show "$dump"

# The same for a Go program that crashes in C inside a cgo call: one stack, C below Go.
if command -v go >/dev/null; then
  make -s build/tests/cgocrash
  echo
  echo "\$ LD_PRELOAD=build/liblastgasp.so LASTGASP_DIR=$dir build/tests/cgocrash"
  set +e
  LD_PRELOAD=build/liblastgasp.so LASTGASP_DIR=$dir build/tests/cgocrash 2>&1 | grep -v '^crasher:'
  set -e
  dump=$(ls -t "$dir"/cgocrash-*.dmp | head -1)
  echo
  echo "\$ build/lastgasp show $dump   (the Go part)"
  build/lastgasp show "$dump" | sed -n '/^Go:/,/^Thread /p' | head -30
else
  echo "(no Go toolchain here: the Go half of the demo is skipped)"
fi
