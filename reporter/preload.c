/* preload.c — the LD_PRELOAD entry: install from the environment before main (and before the
 * Go runtime, whose initialisation runs after shared-library constructors). Built into
 * liblastgasp.so only: a program that links liblastgasp.a calls lastgasp_install() itself.
 *
 * Normal context. In a Go program it also raises the runtime's traceback level to "crash", so
 * that an unrecovered panic or fatal error ends in SIGABRT, which the runtime forwards to us,
 * instead of exit(2), which nothing can see. The runtime reads its environment from the kernel's
 * envp array, not from libc's environ (setenv here would not be seen), and that array cannot
 * grow; so lastgasp gives its own LASTGASP_DIR entry, already read, to "GOTRACEBACK=crash".
 * Not done when GOTRACEBACK is set (the user chose) or LASTGASP_KEEP_TRACEBACK=1 (opt-out).
 */
#include "rep.h"

#include <stdlib.h>
#include <string.h>

static void go_traceback_crash_nasync(char **envp)
{
    static char crash[] = "GOTRACEBACK=crash";
    char **slot = 0;
    const char *keep = getenv("LASTGASP_KEEP_TRACEBACK");
    if (!rep_g.go.version[0] || !envp || (keep && *keep && strcmp(keep, "0") != 0))
        return;
    for (char **e = envp; *e; e++) {
        if (!strncmp(*e, "GOTRACEBACK=", 12))
            return;
        if (!slot && !strncmp(*e, "LASTGASP_DIR=", 13))
            slot = e;
    }
    if (slot)
        *slot = crash;
}

/* glibc calls shared-library constructors with (argc, argv, envp): the kernel's arrays. */
__attribute__((constructor)) static void lastgasp_preload_nasync(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    if (lastgasp_install_from_env() == LASTGASP_OK)
        go_traceback_crash_nasync(envp);
}
