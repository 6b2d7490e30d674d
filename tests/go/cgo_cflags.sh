#!/usr/bin/env bash
# cgo_cflags.sh — the CGO_CFLAGS every build of the goshim package should use: the caller's (or Go's
# default -O2 -g) plus a hash of lastgasp's C sources. goshim compiles them through #includes that reach
# outside its folder, which Go's build cache does not see, so a changed source would otherwise leave a
# stale package in the cache; the cache does key on CGO_CFLAGS. Used by the Makefile and the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
hash=$(cat $(ls sigsafe/*.[chS] sigsafe/*/*.[chS] reporter/*.[ch] reporter/*/*.[ch] formats/minidump/*.[ch] | sort) |
       sha1sum | cut -c1-16)
flags=$(printf '%s\n' ${CGO_CFLAGS:--O2 -g} | grep -v '^-DLASTGASP_SRC_HASH=' | tr '\n' ' ')
echo "${flags}-DLASTGASP_SRC_HASH=$hash"
