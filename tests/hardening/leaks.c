/* leaks.c — scenarios of issue 9's "never leak": fds closed and reused, a full fd table, a process that made
 * itself non-dumpable, and the program the setuid/setcap tests make privileged.
 *
 *   leaks crash                     die of SIGSEGV at once
 *   leaks closefrom                 close every fd from 3 up (a daemon's start), then crash
 *   leaks closefrom_reuse A B       close every fd from 3 up, open A and B in turn (a directory as one, a file
 *                                   for appending otherwise) so they take every number up to 64, then crash
 *   leaks emfile                    RLIMIT_NOFILE 64, open /dev/null until EMFILE, then crash
 *   leaks nondumpable               prctl(PR_SET_DUMPABLE, 0), then crash
 *
 * Built as tests/hardening/leaks (lastgasp comes by LD_PRELOAD); the setuid/setcap tests also compile it
 * with -DLEAKS_LINKED against build/liblastgasp.a (a privileged program ignores LD_PRELOAD), and then main
 * calls lastgasp_install_from_env() first. Crashes go through a volatile pointer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef LEAKS_LINKED
#include "../../reporter/lastgasp.h"
#endif

volatile int *volatile g_null;

static void crash(void)
{
    *g_null = 42;
}

static void close_from_3(void)
{
    if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) { /* Linux 5.9+; else the classic loop */
        for (int fd = 3; fd < 65536; fd++)
            close(fd);
    }
}

int main(int argc, char **argv)
{
#ifdef LEAKS_LINKED
    lastgasp_install_from_env();
#endif
    const char *s = argc > 1 ? argv[1] : "crash";
    if (!strcmp(s, "crash")) {
        crash();
    } else if (!strcmp(s, "closefrom")) {
        close_from_3();
        crash();
    } else if (!strcmp(s, "closefrom_reuse") && argc > 3) {
        close_from_3();
        for (int i = 0;; i++) {
            const char *path = argv[2 + i % 2];
            struct stat st;
            int fd = stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? open(path, O_RDONLY | O_DIRECTORY)
                                                                 : open(path, O_WRONLY | O_APPEND);
            if (fd < 0) {
                perror("leaks: open");
                return 1;
            }
            if (fd >= 64)
                break;
        }
        crash();
    } else if (!strcmp(s, "emfile")) {
        struct rlimit rl = {64, 64};
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            return 1;
        int n = 0;
        while (open("/dev/null", O_RDONLY) >= 0)
            n++;
        if (errno != EMFILE)
            return 1;
        fprintf(stderr, "leaks: fd table full (%s)\n", n > 0 ? "EMFILE" : "none opened");
        crash();
    } else if (!strcmp(s, "nondumpable")) {
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
            return 1;
        crash();
    }
    fprintf(stderr, "leaks: unknown scenario %s\n", s);
    return 2;
}
