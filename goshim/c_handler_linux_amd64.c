/* The handler-path sources of lastgasp, compiled by cgo as one translation unit.
 *
 * `go build` compiles only the C files of the package directory, so this file includes the sources
 * the Makefile builds into liblastgasp (SAFE_SRC there; keep the lists equal). cgo accepts only a
 * list of allowed compiler flags, which lacks -fno-builtin and -fno-tree-loop-distribute-patterns:
 * the pragma below keeps GCC from turning byte loops into memset/memcpy calls, and
 * tests/check_symbols.sh (d) proves that this unit calls no libc function (it fails without the pragma).
 */
#pragma GCC optimize("no-tree-loop-distribute-patterns")

#include "sigsafe/sys.c"
#include "sigsafe/mem.c"
#include "sigsafe/fmt.c"
#include "sigsafe/memread.c"
#include "sigsafe/arena.c"
#include "sigsafe/procfs.c"
#include "sigsafe/bufw.c"
#include "formats/mdwrite.c"
#include "reporter/handler.c"
#include "reporter/isolate.c"
#include "reporter/capture.c"
#include "reporter/report.c"
#include "reporter/unwind.c"
#include "reporter/symbols.c"
#include "reporter/strtab.c"
#include "reporter/modules.c"
#include "reporter/x86_64/context.c"
#include "reporter/x86_64/unwind_cfi.c"
#include "reporter/go_pcln.c"
#include "reporter/go_offsets.c"
#include "reporter/go_capture.c"
#include "reporter/go_reason.c"
#include "reporter/go_exit.c"
#include "reporter/annotate_read.c"
#include "sigsafe/fdid.c"
#include "reporter/preflight.c"
#include "reporter/chain.c"
