/* none/debuginfo.c — the debug-info pass of a tool built without elfutils (see ../debuginfo.h): the static musl
 * tool (make LIBC=musl), for which libdw does not build without Alpine's patches. The Makefile links this file
 * in place of ../debuginfo.c.
 *
 * Normal context. Nothing is looked up; every module of the dump says so in its debug_info ("none", with the
 * note below), which show, json and html print, so that frames without file:line are never a silent
 * difference from the glibc tool. LASTGASP_DEBUGINFO=off prints the dump as written, as in every build; an
 * explicit LASTGASP_DEBUGINFO=on is refused (dbg_check_env), since this build cannot do it.
 */
#include "../debuginfo.h"

#include <stdlib.h>
#include <string.h>

#define DBG_NOT_IN_BUILD "not in this build: the static musl tool reads no DWARF (no file:line or inlined " \
                         "frames from debug info); the glibc tool does"

static int env_is(const char *name, const char *const *values)
{
    const char *v = getenv(name);
    for (; v && *values; values++)
        if (strcmp(v, *values) == 0)
            return 1;
    return 0;
}

static const char *const off_values[] = {"off", "0", "no", NULL}; /* as ../debuginfo.c reads them */
static const char *const on_values[] = {"on", "1", "yes", NULL};

int dbg_check_env(const char **why)
{
    if (!env_is("LASTGASP_DEBUGINFO", on_values))
        return 0;
    *why = "LASTGASP_DEBUGINFO=on: file:line from DWARF is not in this build (the static musl tool); use the "
           "glibc tool, or unset it";
    return -1;
}

int dbg_apply(struct mdr_dump *md)
{
    if (env_is("LASTGASP_DEBUGINFO", off_values))
        return 0;
    for (size_t i = 0; i < md->nmodules; i++) {
        md->modules[i].debug_from = "none";
        md->modules[i].debug_note = DBG_NOT_IN_BUILD;
    }
    return 0;
}
