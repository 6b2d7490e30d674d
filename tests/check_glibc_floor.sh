#!/usr/bin/env bash
# check_glibc_floor.sh — the glibc build of liblastgasp.so loads into glibc FLOOR (default 2.17: RHEL 7,
# manylinux2014) and later: no symbol it needs has a GLIBC_x.y version above FLOOR (a loader older than that
# version refuses the library), and the libraries that held the versions it takes before glibc 2.34 (libdl.so.2,
# libpthread.so.0) are among its needed ones. reporter/preload/glibc_floor.c says how the build keeps to it.
#
# Usage: tests/check_glibc_floor.sh [LIB] [FLOOR]   (default build/liblastgasp.so 2.17)
#        tests/check_glibc_floor.sh --selftest      the check fails on a library linked plainly here
# Exit status 0 when the library keeps to the floor, 1 otherwise (each offending symbol named).
set -euo pipefail
cd "$(dirname "$0")/.."

# ver_gt A B: is glibc version A (x.y or x.y.z) above B?
ver_gt() { [[ $1 != "$2" && $(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1) == "$1" ]]; }

check() {
    local lib=$1 floor=$2 bad=0 highest=0 sym ver
    [[ -f $lib ]] || { echo "check_glibc_floor: missing $lib (build first: make)" >&2; return 1; }
    # objdump -T: "... *UND* ... (GLIBC_2.34) dlsym" or " GLIBC_2.2.5  name"
    while read -r ver sym; do
        ver_gt "$ver" "$highest" && highest=$ver
        if ver_gt "$ver" "$floor"; then
            echo "FAIL: $lib needs $sym@GLIBC_$ver, above the floor $floor"
            bad=1
        fi
    done < <(objdump -T "$lib" | awk '/\*UND\*/ && match($0, /GLIBC_[0-9.]+/) {
                 print substr($0, RSTART + 6, RLENGTH - 6), $NF }')
    local needed
    needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    for l in libdl.so.2 libpthread.so.0; do
        if ! grep -qx "$l" <<<"$needed"; then
            echo "FAIL: $lib does not name $l as needed: before glibc 2.34 dlsym and pthread_key_create live there"
            bad=1
        fi
    done
    echo "glibc floor: $lib needs at most GLIBC_$highest (floor $floor); needed: $(echo $needed)"
    return "$bad"
}

SELFTEST_TMP=""
selftest() {
    local tmp status=0 out
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_floor.XXXXXX")
    SELFTEST_TMP=$tmp
    trap 'rm -rf "$SELFTEST_TMP"' EXIT
    printf '#include <dlfcn.h>\nvoid *f(void) { return dlsym(RTLD_NEXT, "x"); }\n' >"$tmp/plain.c"
    gcc -shared -fPIC -o "$tmp/plain.so" "$tmp/plain.c" -ldl -lpthread
    if out=$(check "$tmp/plain.so" 2.17); then
        echo "SELFTEST FAILED: a library calling dlsym, linked plainly against glibc $(ldd --version | head -1 |
            awk '{print $NF}'), passed:"; status=1
    fi
    echo "$out" | sed 's/^/    /'
    [[ $out == *"needs dlsym@GLIBC_2.34"* || $(ldd --version | head -1 | awk '{print $NF}') < 2.34 ]] || {
        echo "SELFTEST FAILED: dlsym@GLIBC_2.34 not named"; status=1; }
    [[ $status -eq 0 ]] && echo "selftest: the check fails on a plainly linked library"
    return "$status"
}

if [[ ${1:-} == --selftest ]]; then
    selftest
else
    check "${1:-build/liblastgasp.so}" "${2:-2.17}"
fi
