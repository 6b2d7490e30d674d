/* debuginfo.h — file:line and inlined frames for the native frames of a dump, from DWARF (prefix dbg_).
 *
 * The command-line tool only (it links elfutils' libdw and libdebuginfod); never the library or the handler,
 * and not the reader or the renderers either, which only print what this pass puts into the model. Normal
 * context.
 *
 * For each module a native frame lies in, debug info is looked for by the module's identity in the dump
 * (its GNU build-id), in this order:
 *   1. the module's file on disk, when its identity is still the dump's and it has DWARF ("file");
 *   2. /usr/lib/debug/.build-id/xx/yyyy.debug, the distributions' layout ("debug file");
 *   3. a debuginfod server from DEBUGINFOD_URLS ("debuginfod"), unless LASTGASP_DEBUGINFOD=off. All queries
 *      of one run share one deadline (LASTGASP_DEBUGINFOD_TIMEOUT seconds, default 20); libdebuginfod keeps
 *      what it fetched (and what it did not find) in its cache ($DEBUGINFOD_CACHE_PATH, else
 *      ~/.cache/debuginfod_client), so a second run does not ask the server again.
 * LASTGASP_DEBUGINFO=off turns the whole pass off. A frame without debug info stays as the dump has it.
 *
 * The static musl tool (make LIBC=musl) has no elfutils, which does not build on musl without Alpine's patches:
 * the Makefile links none/debuginfo.c in place of debuginfo.c, which looks nothing up and says so in every
 * module ("not in this build").
 */
#ifndef LASTGASP_DEBUGINFO_H
#define LASTGASP_DEBUGINFO_H

#include "../read/mdread.h"

/* Add file:line to the native frames of md (thread frames, and the C frames of goroutines) and insert a frame
 * for each inlined function, marked inlined; record in each module looked up where its lines came from
 * (debug_from, debug_path, debug_url, debug_note). 0, or -1 when memory ran out (md is then unchanged). */
int dbg_apply(struct mdr_dump *md);

/* Whether this build can do what the environment asks: 0, or -1 with a one-line reason in *why when the
 * environment explicitly asks for DWARF (LASTGASP_DEBUGINFO=on) from a build without it (none/debuginfo.c). */
int dbg_check_env(const char **why);

#endif
