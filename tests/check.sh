#!/usr/bin/env bash
# make check: the fast loop. Every unit test (tests/unit, found by folder: the Makefile's UNIT_BINS), the symbol
# check (tests/check_symbols.sh) and goshim's generated units (tests/goshim_unity.sh --check). Seconds on a built
# tree, no network, and nothing installed: it needs what `make` needs for the library (a C compiler, binutils) plus
# gcc's sanitizer runtimes, zlib's header (test_pprof) and Go (the symbol check builds goshim's unit as go build
# does). A missing one is named before anything is built. `make test` runs this first, then everything else.
#   tests/check.sh            build what the checks need, run them all (a failing unit test does not stop the rest)
# Exit status 0 when everything passed, 1 otherwise (every failing program is named at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-gcc}

# What a missing tool is, and where it comes from; all are named, not only the first.
missing=()
for tool in "$CC" nm readelf make go; do
  command -v "$tool" >/dev/null || missing+=("$tool (the command)")
done
if command -v "$CC" >/dev/null; then
  for rt in asan ubsan tsan; do
    # gcc prints the bare name back when it has no such library.
    [[ $("$CC" -print-file-name="lib$rt.so") == */* ]] || missing+=("lib$rt.so ($CC's runtime for -fsanitize)")
  done
  echo '#include <zlib.h>' | "$CC" -E -x c - >/dev/null 2>&1 || missing+=("zlib.h (Debian: zlib1g-dev; test_pprof)")
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "make check: missing: ${missing[*]}" >&2
  echo "make check: bash tests/tools/deps.sh build installs the C side; Go comes from go.dev/dl" >&2
  exit 1
fi

# make_var NAME: a Makefile variable's value, as tests/check_symbols.sh reads it.
make_var() {
  printf 'print-var:\n\t@echo $(%s)\n' "$1" | make -s --no-print-directory -f Makefile -f - print-var
}
read -r -a bins <<<"$(make_var UNIT_BINS)"
[[ ${#bins[@]} -gt 0 ]] || { echo "make check: make named no unit test (UNIT_BINS)" >&2; exit 1; }
make -s build/liblastgasp.so "${bins[@]}"

echo "== unit tests (${#bins[@]} programs)"
failed=()
for t in "${bins[@]}"; do
  # Each program ends with "N passed, M failed"; the generous timeout only catches a hang.
  if out=$(timeout 300 "$t" 2>&1); then
    echo "ok   $t: $(tail -n 1 <<<"$out")"
  else
    status=$?
    printf '%s\n' "$out"
    echo "FAIL $t (exit status $status)"
    failed+=("$t")
  fi
done

echo "== promise checks (handler symbols, exports, bind-now; goshim's units derived from the Makefile's folders)"
bash tests/check_symbols.sh || failed+=(tests/check_symbols.sh)
bash tests/goshim_unity.sh --check || failed+=("tests/goshim_unity.sh --check")

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "make check: FAILED: ${failed[*]}"
  exit 1
fi
echo "make check: all passed"
