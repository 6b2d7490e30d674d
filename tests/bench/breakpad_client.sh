#!/usr/bin/env bash
# breakpad_client.sh — build Breakpad's Linux client (ExceptionHandler and the minidump writer) as
# build/bench/breakpad/libbreakpad_client.a, for the crash benchmark only: lastgasp neither links
# nor ships it. The sources are the ones the npm `minidump` package carries (tests/tools/deps.sh
# bench installs it), with the linux_syscall_support header beside them. The file list is
# Breakpad's own (Makefile.am, libbreakpad_client_a_SOURCES), minus the out-of-process crash
# server and the core-file dumper, which the in-process client does not use.
# Then links build/tests/crashbench_breakpad: tests/bench/crashbench.c with that client installed.
# Idempotent: the library is built once (again when this script changes); the program is relinked.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOOLS=${LASTGASP_TOOLS:-$HOME/.cache/lastgasp-tools}
DEPS=$TOOLS/npm/node_modules/minidump/deps
SRC=$DEPS/breakpad/src
OUT=build/bench/breakpad
LIB=$OUT/libbreakpad_client.a
link() {
  mkdir -p build/tests
  gcc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -DCRASHBENCH_BREAKPAD -c tests/bench/crashbench.c \
      -o "$OUT/crashbench.o"
  g++ -std=c++17 -O2 -g -w -I"$SRC" -I"$DEPS" -c tests/bench/breakpad_on.cc -o "$OUT/breakpad_on.o"
  g++ -o build/tests/crashbench_breakpad "$OUT/crashbench.o" "$OUT/breakpad_on.o" "$LIB" -lpthread
}
if [ -e "$LIB" ] && [ "$LIB" -nt "$0" ]; then link; exit 0; fi
[ -d "$SRC/client/linux" ] && [ -e "$DEPS/third_party/lss/linux_syscall_support.h" ] || {
  echo "breakpad_client: Breakpad's sources not found under $DEPS (run: bash tests/tools/deps.sh bench)" >&2
  exit 1
}
files=(
  client/linux/crash_generation/crash_generation_client.cc
  client/linux/dump_writer_common/thread_info.cc
  client/linux/dump_writer_common/ucontext_reader.cc
  client/linux/handler/exception_handler.cc
  client/linux/handler/minidump_descriptor.cc
  client/linux/log/log.cc
  client/linux/microdump_writer/microdump_writer.cc
  client/linux/minidump_writer/linux_dumper.cc
  client/linux/minidump_writer/linux_ptrace_dumper.cc
  client/linux/minidump_writer/minidump_writer.cc
  client/linux/minidump_writer/pe_file.cc
  client/minidump_file_writer.cc
  common/convert_UTF.cc
  common/md5.cc
  common/string_conversion.cc
  common/linux/elfutils.cc
  common/linux/file_id.cc
  common/linux/guid_creator.cc
  common/linux/linux_libc_support.cc
  common/linux/memory_mapped_file.cc
  common/linux/safe_readlink.cc
)
echo "breakpad_client: building Breakpad's client from $SRC (once)"
mkdir -p "$OUT/obj"
objs=()
pids=()
for f in "${files[@]}"; do
  o=$OUT/obj/$(echo "$f" | tr / _).o
  objs+=("$o")
  g++ -std=c++17 -O2 -g -fPIC -w -DHAVE_GETCONTEXT=1 -I"$SRC" -I"$DEPS" -c "$SRC/$f" -o "$o" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
rm -f "$LIB"
ar rcs "$LIB" "${objs[@]}"
link
