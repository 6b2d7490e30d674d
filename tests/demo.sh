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
