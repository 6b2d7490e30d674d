#!/usr/bin/env bash
# make bench: build the crash programs and measure (see run.py, gorun.py and collect.py for the methods).
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s build/tests/crashbench build/tests/gocrash build/tests/crasher
python3 tests/bench/run.py
python3 tests/bench/gorun.py
python3 tests/bench/collect.py
