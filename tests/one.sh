#!/usr/bin/env bash
# Run one test file (or a few), building what it needs first: `make test-one TEST=FILE` runs this.
#   tests/one.sh tests/unit/sigsafe/test_mem.c     a C unit test: builds and runs its programs (here test_mem and
#                                                  test_mem_asan; test_annotate.c also runs test_annotate_tsan)
#   tests/one.sh tests/crash/test_collect.py [-k collect_twice ...]
#                                                  pytest files, folders or test ids, with any pytest options after
#                                                  them: installs what the tests need (tests/tools/deps.sh test,
#                                                  quick once done), builds the library, the tool and the test
#                                                  programs, then runs pytest
# Exit status: the tests'; 2 for a file this script does not know how to run.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: make test-one TEST='FILE...', or tests/one.sh FILE...: C unit tests (tests/unit/.../test_X.c), or" \
    "pytest files, folders or ids (tests/<suite>/test_X.py[::name]) with pytest options after them" >&2
  exit 2
}
[[ $# -gt 0 ]] || usage

make_var() {
  printf 'print-var:\n\t@echo $(%s)\n' "$1" | make -s --no-print-directory -f Makefile -f - print-var
}

if [[ $1 == tests/unit/* ]]; then
  read -r -a all <<<"$(make_var UNIT_BINS)"
  bins=()
  for src in "$@"; do
    [[ $src == tests/unit/*.c && -f $src ]] || usage
    stem=build/tests/unit/${src#tests/unit/}
    stem=${stem%.c}
    # The test's program and its sanitizer builds: test_X, test_X_asan, test_X_tsan.
    for b in "${all[@]}"; do
      [[ $b == "$stem" || $b == "${stem}_asan" || $b == "${stem}_tsan" ]] && bins+=("$b")
    done
  done
  [[ ${#bins[@]} -gt 0 ]] || { echo "one.sh: make builds no program from $*" >&2; exit 2; }
  make -s "${bins[@]}"
  status=0
  for b in "${bins[@]}"; do
    echo "-- $b"
    timeout 300 "$b" || status=1
  done
  exit "$status"
fi

[[ $1 == tests/* ]] || usage
bash tests/tools/deps.sh test
make -s all test-bins
exec python3 -m pytest -q -p no:cacheprovider "$@"
