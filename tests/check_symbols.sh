#!/usr/bin/env bash
# check_symbols.sh — three promises of the build, checked by machine rather than by review:
#   (a) the handler-path objects call nothing outside themselves but the allow-list (tests/handler_allowlist.txt):
#       no memcpy the compiler slipped in, no malloc, no stdio, no stack-protector calls, no pthread_*. They may
#       read data that install-time objects define (rep_g, written at install), never call their functions.
#       An LTO object fails: nm lists its IR's symbols, not those of the code a link generates from it;
#   (b) build/liblastgasp.so exports exactly the public API (and the pthread_create, sigaction and
#       signal wrappers of the preloaded library);
#   (c) build/liblastgasp.so is linked with BIND_NOW, so the handler never enters the lazy binder;
#   (d) (a) again for the Go package: goshim/ compiles the same handler sources as one unit with the
#       flags cgo allows (no -fno-builtin there); built here exactly as `go build` builds it.
#
# Usage: tests/check_symbols.sh             check the objects in build/ (build them first: make)
#        LIBC=musl tests/check_symbols.sh   (a) to (c) for the musl build in build/musl/ (make LIBC=musl)
#        ARCH=arm64 tests/check_symbols.sh  (a) to (d) for the arm64 build in build/arm64/ (make ARCH=arm64),
#                                           read with aarch64-linux-gnu-nm, against the same allow-list ((d): goshim's arm64 units)
#        ARCH=arm64 LIBC=musl tests/check_symbols.sh   (a) to (c) for build/arm64-musl/ (make ARCH=arm64 LIBC=musl)
#        B=build/clang tests/check_symbols.sh   (a) to (c) for another build dir (make CC=clang B=build/clang)
#        tests/check_symbols.sh --selftest  show that each check can fail, on small objects built in a temp dir
# Exit status 0 when every check passes; otherwise 1, with every offending object and symbol named.
set -euo pipefail

cd "$(dirname "$0")/.."
LIBC=${LIBC:-glibc}
ARCH=${ARCH:-amd64}
B=${B:-build}
NM=nm
[[ $LIBC == musl ]] && B=build/musl
if [[ $ARCH == arm64 ]]; then
    B=build/arm64
    NM=aarch64-linux-gnu-nm
    [[ $LIBC == musl ]] && B=build/arm64-musl
fi
nm() { command "$NM" "$@"; }
ALLOWLIST=tests/handler_allowlist.txt
EXPORTS=(lastgasp_install lastgasp_install_from_env lastgasp_set_annotation lastgasp_strerror lastgasp_version pthread_create sigaction signal)

# make_var NAME: the value of a Makefile variable, without editing the Makefile ("" if make cannot say).
make_var() {
    printf 'print-var:\n\t@echo $(%s)\n' "$1" | make -s --no-print-directory LIBC="$LIBC" ARCH="$ARCH" B="$B" -f Makefile -f - print-var 2>/dev/null ||
        true
}

# The handler-path objects: whatever the Makefile compiles as handler code (SAFE_OBJ: found by folder), so a
# new handler file is checked the day it is added. Fails when make cannot say (an empty list checks nothing).
handler_objects() {
    local from_make
    from_make=$(make_var SAFE_OBJ)
    if [[ -z ${from_make// /} ]]; then
        echo "check_symbols: make did not give SAFE_OBJ" >&2
        return 1
    fi
    printf '%s\n' $from_make
}

# The allow-list's symbols, one a line. Fails on a line that gives no reason.
allowlist_symbols() {
    local file=$1 line sym bad=0
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        sym=$(awk '{print $1}' <<<"$line")
        if [[ $line != *"#"* ]]; then
            echo "check_symbols: $file: '$sym' has no '# why' comment" >&2
            bad=1
        fi
        printf '%s\n' "$sym"
    done <"$file"
    return "$bad"
}

# The library's other objects (install, alternate stack, preload): normal-context code whose globals the
# handler reads. Only their data symbols are allowed to the handler objects.
install_objects() {
    local objs
    objs="$(make_var INSTALL_OBJ) $(make_var PRELOAD_OBJ)"
    [[ -n ${objs// /} ]] || { echo "check_symbols: make did not give INSTALL_OBJ" >&2; return 1; }
    local o
    for o in $objs; do
        [[ -f $o ]] && echo "$o"
    done
    return 0
}

# Set by main: also name allow-list entries that no object uses (not when checking a few test objects).
NOTE_STALE=0
# Set by main: objects whose global data (not functions) the handler objects may reference.
DATA_OBJECTS=()

# check_undefined ALLOWLIST OBJECT...: every undefined symbol of every object must be defined by one of the
# objects, be data defined by DATA_OBJECTS, or be on the allow-list. Prints each offender as
# "FAIL: object needs symbol"; returns 1 if there was any.
check_undefined() {
    local allowlist=$1
    shift
    local objs=("$@") o sym type
    for o in "${objs[@]}"; do
        if [[ ! -f $o ]]; then
            echo "check_symbols: missing object $o (build first: make build/liblastgasp.so)" >&2
            return 1
        fi
        # An LTO object's symbols, as nm lists them, are its IR's: the calls code generation adds (memcpy for a
        # structure copy, __stack_chk_fail) exist only in the code a link makes from it, which no check reads.
        if readelf -S "$o" 2>/dev/null | grep -q '\.gnu\.lto_' || ! readelf -h "$o" >/dev/null 2>&1; then
            echo "FAIL: $o holds LTO bytecode (or is not ELF): its symbols are not those of the code that ships"
            return 1
        fi
    done
    local -A defined=() data=() allowed=() used=()
    while read -r sym; do
        defined[$sym]=1
    done < <(nm -A -P --defined-only "${objs[@]}" | awk '{print $2}')
    if [[ ${#DATA_OBJECTS[@]} -gt 0 ]]; then
        while read -r sym; do
            data[$sym]=1
        done < <(nm -A -P --defined-only "${DATA_OBJECTS[@]}" | awk '$3 ~ /^[BDRCGSV]$/ {print $2}')
    fi
    local list
    list=$(allowlist_symbols "$allowlist") || return 1
    while read -r sym; do
        [[ -n $sym ]] && allowed[$sym]=1
    done <<<"$list"

    local refs=0 inside=0 install_data=0 listed=0 bad=0
    local -A distinct=()
    for o in "${objs[@]}"; do
        while read -r sym type; do
            [[ -z $sym ]] && continue
            refs=$((refs + 1))
            distinct[$sym]=1
            if [[ -n ${defined[$sym]:-} ]]; then
                inside=$((inside + 1))
            elif [[ -n ${data[$sym]:-} ]]; then
                install_data=$((install_data + 1))
            elif [[ -n ${allowed[$sym]:-} ]]; then
                listed=$((listed + 1))
                used[$sym]=1
            else
                echo "FAIL: $o needs $sym, which is neither defined by a handler-path object nor on $allowlist"
                bad=$((bad + 1))
            fi
        done < <(nm -u -P "$o")
    done
    if [[ $NOTE_STALE -eq 1 ]]; then
        for sym in "${!allowed[@]}"; do
            [[ -z ${used[$sym]:-} ]] && echo "note: $allowlist lists $sym, which no handler object uses any more"
        done
    fi
    echo "handler objects: ${#objs[@]} objects, $refs undefined references to ${#distinct[@]} symbols:" \
        "$inside to each other, $install_data to install-time data, $listed allow-listed, $bad forbidden"
    [[ $bad -eq 0 ]]
}

# check_exports LIB NAME...: LIB's dynamic symbol table defines exactly NAME... (symbol-version entries,
# type A, are not symbols and are ignored).
check_exports() {
    local lib=$1
    shift
    if [[ ! -f $lib ]]; then
        echo "check_symbols: missing $lib (build first: make build/liblastgasp.so)" >&2
        return 1
    fi
    local want got extra missing
    want=$(printf '%s\n' "$@" | sort -u)
    got=$(nm -D --defined-only "$lib" | awk '$(NF-1) != "A" {print $NF}' | sed 's/@.*//' | sort -u)
    extra=$(comm -13 <(echo "$want") <(echo "$got"))
    missing=$(comm -23 <(echo "$want") <(echo "$got"))
    local ok=0 s
    for s in $extra; do
        echo "FAIL: $lib exports $s, which is not public API (reporter/exports.map)"
        ok=1
    done
    for s in $missing; do
        echo "FAIL: $lib does not export $s"
        ok=1
    done
    echo "exports of $lib: $(echo "$got" | grep -c . || true) symbols, expected $#"
    return "$ok"
}

# check_bind_now LIB: linked with -z now (FLAGS has BIND_NOW, or FLAGS_1 has NOW).
check_bind_now() {
    local lib=$1 dyn
    if [[ ! -f $lib ]]; then
        echo "check_symbols: missing $lib (build first: make build/liblastgasp.so)" >&2
        return 1
    fi
    dyn=$(readelf -d "$lib")
    if grep -Eq '\(FLAGS\).*BIND_NOW' <<<"$dyn" || grep -Eq '\(FLAGS_1\).*[[:space:]]NOW([[:space:]]|$)' <<<"$dyn"; then
        echo "bind now: $lib binds every symbol at load time"
        return 0
    fi
    echo "FAIL: $lib is not linked with -z now (no BIND_NOW in FLAGS, no NOW in FLAGS_1): the handler could enter the lazy binder"
    return 1
}

# Each check must fail on something made to fail it, and pass on something clean.
SELFTEST_TMP=""
selftest() {
    local tmp status=0
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_symbols.XXXXXX")
    SELFTEST_TMP=$tmp
    trap 'rm -rf "$SELFTEST_TMP"' EXIT
    local cc=${CC:-gcc}
    local safe=(-std=c11 -O2 -fPIC -fno-builtin -fno-tree-loop-distribute-patterns -fno-stack-protector)

    cat >"$tmp/calls_memcpy.c" <<'EOF'
#include <string.h>
void copy(char *d, const char *s, unsigned long n) { memcpy(d, s, n); }
EOF
    cat >"$tmp/loop.c" <<'EOF'
void clear(char *d, unsigned long n) { for (unsigned long i = 0; i < n; i++) d[i] = 0; }
EOF
    cat >"$tmp/a.c" <<'EOF'
int b(int);
int a(int x) { return b(x) + 1; }
EOF
    cat >"$tmp/b.c" <<'EOF'
int a(int);
int b(int x) { return x > 0 ? a(x - 1) : 0; }
EOF
    "$cc" "${safe[@]}" -c "$tmp/calls_memcpy.c" -o "$tmp/calls_memcpy.o"
    "$cc" -std=c11 -O3 -fPIC -c "$tmp/loop.c" -o "$tmp/loop_plain.o"  # loop becomes memset
    "$cc" "${safe[@]}" -O3 -c "$tmp/loop.c" -o "$tmp/loop_safe.o"      # with our flags it stays a loop
    "$cc" -std=c11 -O2 -fPIC -fstack-protector-all -c "$tmp/a.c" -o "$tmp/a_ssp.o"
    "$cc" -std=c11 -O2 -fPIC -fstack-protector-all -flto -c "$tmp/a.c" -o "$tmp/a_lto.o"
    "$cc" "${safe[@]}" -c "$tmp/a.c" -o "$tmp/a.o"
    "$cc" "${safe[@]}" -c "$tmp/b.c" -o "$tmp/b.o"
    printf 'only_this   # a reason\n_GLOBAL_OFFSET_TABLE_   # PIC code reaching a global\n' >"$tmp/allow.txt"
    printf 'memcpy\n' >"$tmp/allow_noreason.txt"

    # expect NAME WANT(pass|fail) MENTION COMMAND...: run a check, show its output indented, compare the
    # outcome; a failure must also print MENTION (e.g. "x.o needs memcpy") when MENTION is not empty.
    expect() {
        local name=$1 want=$2 mention=$3 got out
        shift 3
        if out=$("$@" 2>&1); then got=pass; else got=fail; fi
        sed 's/^/      /' <<<"$out"
        if [[ $got != "$want" ]]; then
            echo "  SELFTEST FAILED: $name should ${want} but did not"
            status=1
        elif [[ -n $mention && $out != *"$mention"* ]]; then
            echo "  SELFTEST FAILED: $name: the output does not say \"$mention\""
            status=1
        else
            local verb=passes
            [[ $want == fail ]] && verb=fails
            echo "  ok: $name: $verb"
        fi
    }
    echo "selftest: the handler-object check"
    expect "an object calling memcpy" fail "calls_memcpy.o needs memcpy" \
        check_undefined "$ALLOWLIST" "$tmp/calls_memcpy.o"
    expect "a zeroing loop built without -fno-builtin (the compiler calls memset)" fail "loop_plain.o needs memset" \
        check_undefined "$ALLOWLIST" "$tmp/loop_plain.o"
    expect "the same loop built with the handler flags" pass "" check_undefined "$ALLOWLIST" "$tmp/loop_safe.o"
    expect "-fstack-protector-all" fail "a_ssp.o needs __stack_chk_fail" \
        check_undefined "$ALLOWLIST" "$tmp/a_ssp.o" "$tmp/b.o"
    expect "the same built with -flto (nm shows no __stack_chk_fail there)" fail "a_lto.o holds LTO bytecode" \
        check_undefined "$ALLOWLIST" "$tmp/a_lto.o" "$tmp/b.o"
    expect "a.o alone (b is defined elsewhere)" fail "a.o needs b" check_undefined "$tmp/allow.txt" "$tmp/a.o"
    expect "a.o with b.o (cross-object references)" pass "" \
        check_undefined "$tmp/allow.txt" "$tmp/a.o" "$tmp/b.o"
    expect "an allow-list line without a reason" fail "no '# why' comment" \
        check_undefined "$tmp/allow_noreason.txt" "$tmp/b.o"
    # Data defined by install-time objects may be read; their functions may not be called.
    printf 'int state_word = 1;\nint install_fn(void) { return state_word; }\n' >"$tmp/state.c"
    printf 'extern int state_word;\nint handler_reads(void) { return state_word; }\n' >"$tmp/reads_state.c"
    printf 'int install_fn(void);\nint handler_calls(void) { return install_fn(); }\n' >"$tmp/calls_install.c"
    "$cc" "${safe[@]}" -c "$tmp/state.c" -o "$tmp/state.o"
    "$cc" "${safe[@]}" -c "$tmp/reads_state.c" -o "$tmp/reads_state.o"
    "$cc" "${safe[@]}" -c "$tmp/calls_install.c" -o "$tmp/calls_install.o"
    DATA_OBJECTS=("$tmp/state.o")
    expect "reading a global an install-time object defines" pass "" \
        check_undefined "$tmp/allow.txt" "$tmp/reads_state.o"
    expect "calling a function an install-time object defines" fail "calls_install.o needs install_fn" \
        check_undefined "$tmp/allow.txt" "$tmp/calls_install.o"
    DATA_OBJECTS=()

    echo "selftest: the export and BIND_NOW checks"
    # A stand-in library defining the API (from EXPORTS, so a new export needs no edit here) and one helper.
    local sym globals=""
    : >"$tmp/lib.c"
    for sym in "${EXPORTS[@]}"; do
        printf 'int %s(void) { return 0; }\n' "$sym" >>"$tmp/lib.c"
        globals+="$sym; "
    done
    printf 'int leaked_helper(void) { return 1; }\n' >>"$tmp/lib.c"
    printf '{ global: %slocal: *; };\n' "$globals" >"$tmp/exports.map"
    printf 'LG_1.0 { global: %slocal: *; };\n' "$globals" >"$tmp/versioned.map"
    "$cc" -shared -fPIC -o "$tmp/lazy_all.so" "$tmp/lib.c" -Wl,-z,lazy
    "$cc" -shared -fPIC -o "$tmp/now_exact.so" "$tmp/lib.c" -Wl,-z,now -Wl,--version-script="$tmp/exports.map"
    "$cc" -shared -fPIC -o "$tmp/now_versioned.so" "$tmp/lib.c" -Wl,-z,now \
        -Wl,--version-script="$tmp/versioned.map"
    expect "a library exporting an extra symbol" fail "exports leaked_helper" \
        check_exports "$tmp/lazy_all.so" "${EXPORTS[@]}"
    expect "a library missing one export" fail "does not export lastgasp_more" \
        check_exports "$tmp/now_exact.so" "${EXPORTS[@]}" lastgasp_more
    expect "a library exporting exactly the API" pass "" check_exports "$tmp/now_exact.so" "${EXPORTS[@]}"
    expect "the same with a version node (its A entry is ignored)" pass "" \
        check_exports "$tmp/now_versioned.so" "${EXPORTS[@]}"
    expect "a library linked -z lazy" fail "not linked with -z now" check_bind_now "$tmp/lazy_all.so"
    expect "a library linked -z now" pass "" check_bind_now "$tmp/now_exact.so"

    if [[ $status -eq 0 ]]; then
        echo "selftest: every check failed where it should and passed where it should"
    else
        echo "selftest: FAILED"
    fi
    return "$status"
}

# check_goshim: compile goshim's C units with the compiler and flags `go build` uses (GOGCCFLAGS,
# CGO_CFLAGS, the package's #cgo CFLAGS) and check the handler unit like (a).
check_goshim() {
    local tmp cc flags
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_goshim.XXXXXX")
    # ARCH=arm64: the arm64 units, as `CGO_ENABLED=1 GOARCH=arm64 CC=aarch64-linux-gnu-gcc go build` builds them.
    local -x CGO_ENABLED=1 GOARCH=$ARCH
    [[ $ARCH == arm64 ]] && local -x CC=aarch64-linux-gnu-gcc
    cc=$(go env CC)
    # shellcheck disable=SC2207 # the flags are words
    flags=($(go env GOGCCFLAGS) $(go env CGO_CFLAGS) $(cd goshim && go list -f '{{join .CgoCFLAGS " "}}' .))
    if ! "$cc" "${flags[@]}" -c "goshim/c_handler_linux_$ARCH.c" -o "$tmp/handler.o" ||
        ! "$cc" "${flags[@]}" -c "goshim/c_jmp_linux_$ARCH.S" -o "$tmp/jmp.o" ||
        ! "$cc" "${flags[@]}" -c "goshim/c_install_linux_$ARCH.c" -o "$tmp/install.o"; then
        echo "FAIL: goshim's C units do not compile"
        rm -rf "$tmp"
        return 1
    fi
    local saved=("${DATA_OBJECTS[@]}") status=0
    DATA_OBJECTS=("$tmp/install.o")
    NOTE_STALE=0
    check_undefined "$ALLOWLIST" "$tmp/handler.o" "$tmp/jmp.o" || status=1
    DATA_OBJECTS=("${saved[@]}")
    rm -rf "$tmp"
    return "$status"
}

main() {
    if [[ ${1:-} == --selftest ]]; then
        NM=nm
        selftest
        return
    fi
    if [[ $# -gt 0 ]]; then
        echo "usage: $0 [--selftest]" >&2
        return 2
    fi
    local objs status=0
    mapfile -t objs < <(handler_objects)
    mapfile -t DATA_OBJECTS < <(install_objects)
    if [[ ${#objs[@]} -lt 10 || ${#DATA_OBJECTS[@]} -lt 5 ]]; then
        echo "check_symbols: FAILED: make named ${#objs[@]} handler and ${#DATA_OBJECTS[@]} install objects"
        return 1
    fi
    NOTE_STALE=1
    echo "(a) handler-path objects against $ALLOWLIST"
    check_undefined "$ALLOWLIST" "${objs[@]}" || status=1
    echo "(b) exported symbols"
    check_exports "$B/liblastgasp.so" "${EXPORTS[@]}" || status=1
    echo "(c) BIND_NOW"
    check_bind_now "$B/liblastgasp.so" || status=1
    if [[ $LIBC != musl && ($ARCH == arm64 || $B == build) ]]; then
        echo "(d) goshim's handler unit, built as go build builds it"
        check_goshim || status=1
    fi
    if [[ $status -eq 0 ]]; then
        echo "check_symbols: all checks passed"
    else
        echo "check_symbols: FAILED (see the FAIL lines above)"
    fi
    return "$status"
}

main "$@"
