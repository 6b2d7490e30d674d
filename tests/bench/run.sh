#!/usr/bin/env bash
# make bench: build the crash program and measure (see run.py for the method).
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s build/tests/crashbench build/tests/gocrash
python3 tests/bench/run.py
python3 tests/bench/gorun.py
