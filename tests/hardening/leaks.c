/* leaks.c — scenarios of issue 9's "never leak": fds closed and reused, a full fd table, a process that made
 * itself non-dumpable, and the program the setuid/setcap tests make privileged.
 *
 *   leaks crash                     die of SIGSEGV at once
 *   leaks closefrom                 close every fd from 3 up (a daemon's start), then crash
 *   leaks closefrom_reuse A B       close every fd from 3 up, open A and B in turn (a directory as one, a file
 *                                   for appending otherwise) so they take every number up to 64, then crash
 *   leaks emfile                    RLIMIT_NOFILE 64, open /dev/null until EMFILE, then crash
 *   leaks nondumpable               prctl(PR_SET_DUMPABLE, 0), then crash
 *   leaks block [thread]            print where the kernel's block is (argv/environment bounds from
 *                                   /proc/self/stat, AT_RANDOM's address and bytes), then crash in main or in a
 *                                   second thread while main waits
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
#include <pthread.h>
#include <sys/auxv.h>
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

static void *crash_thread(void *arg)
{
    (void)arg;
    crash();
    return 0;
}

/* "leaks: block arg_start=.. env_end=.. random=ADDR bytes=HEX" from /proc/self/stat fields 48 and 51. */
static void print_block(void)
{
    char buf[4096];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    unsigned long long v[52] = {0};
    char *p = strrchr(buf, ')');
    for (int field = 3; p && field <= 51; field++) {
        p = strchr(p, ' ');
        if (p)
            v[field] = strtoull(++p, 0, 10);
    }
    const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
    fprintf(stderr, "leaks: block arg_start=0x%llx env_end=0x%llx random=0x%lx bytes=0x", v[48], v[51], (unsigned long)r);
    for (int i = 0; i < 16; i++)
        fprintf(stderr, "%02x", r[i]);
    fprintf(stderr, "\n");
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
    } else if (!strcmp(s, "block")) {
        print_block();
        if (argc > 2 && !strcmp(argv[2], "thread")) {
            pthread_t t;
            pthread_create(&t, 0, crash_thread, 0);
            pthread_join(t, 0);
        }
        crash();
    } else if (!strcmp(s, "nondumpable")) {
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
            return 1;
        crash();
    }
    fprintf(stderr, "leaks: unknown scenario %s\n", s);
    return 2;
}
