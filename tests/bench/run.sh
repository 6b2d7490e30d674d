#!/usr/bin/env bash
# make bench: build the benchmark programs and measure (each .py says its method).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/tools/deps.sh bench
make -s build/tests/crashbench build/tests/gocrash build/tests/gocrash_goshim build/tests/crasher build/tests/gohttp build/tests/gohttp_goshim build/tests/installbench build/tests/goinstall
bash tests/bench/breakpad_client.sh
python3 tests/bench/run.py
python3 tests/bench/gorun.py
python3 tests/bench/install.py
python3 tests/bench/gohttp.py
python3 tests/bench/collect.py
