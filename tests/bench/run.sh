#!/usr/bin/env bash
# make bench: build the benchmark programs and measure (each .py says its method).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/tools/deps.sh bench
ARCH=arm64 bash tests/tools/deps.sh build  # the cross compiler and qemu-user, for archsizes.py
make -s build/tests/crashbench build/tests/gocrash build/tests/gocrash_goshim build/tests/crasher build/tests/gohttp build/tests/gohttp_goshim build/tests/installbench build/tests/goinstall
bash tests/bench/breakpad_client.sh
python3 tests/bench/run.py
python3 tests/bench/gorun.py
python3 tests/bench/install.py
python3 tests/bench/gohttp.py
python3 tests/bench/collect.py
make -s all arm64-test-bins
python3 tests/bench/archsizes.py
