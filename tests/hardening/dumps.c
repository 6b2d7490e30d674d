/* dumps.c — scenarios for "never lose a dump" and the write and memory items of "never change the death"
 * (issue 9). One program, named scenarios:
 *
 *   dumps crash                 a null write on the main thread
 *   dumps crash_at NS           sleep until CLOCK_REALTIME NS, then the null write (several processes crash in
 *                               the same second: the same dump name)
 *   dumps threads N             N parked threads, then the null write on the main thread
 *   dumps fill MIB              touch MIB MiB of heap, then the null write (a memory cgroup near its limit)
 *   dumps near_limit KIB N CGROUP MIB  N parked threads and MIB MiB of heap; set CGROUP's memory.limit_in_bytes
 *                               to its usage plus KIB KiB, then the null write
 *   dumps measure N CGROUP      N parked threads; reset CGROUP's memory.max_usage_in_bytes, print the usage
 *                               then ("usage=BYTES"), and crash: the peak that follows is the report's
 *   dumps seccomp MODE          a seccomp filter makes the dump's naming calls fail (failures injected, as
 *                               filesystems answer): MODE noreplace, renameat2(RENAME_NOREPLACE) EINVAL; nolink,
 *                               that and linkat EPERM; norename, every renameat2 EINVAL and linkat EPERM; then crash
 *   dumps blocked_worker        a worker thread that blocks every signal makes the null write
 *   dumps blocked_worker_abort  the same worker calls abort()
 *
 * The crash goes through a volatile global pointer, never a literal NULL the compiler can see.
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int *volatile g_null;
static volatile int g_sink;

static void crash(void)
{
    *g_null = 42;
}

static void *parked(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return 0;
}

static void park_threads(int n)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 << 10);
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, &a, parked, 0) != 0) {
            perror("pthread_create");
            exit(3);
        }
    }
}

static void fill(long mib)
{
    size_t n = (size_t)mib << 20;
    char *p = malloc(n);
    if (!p) {
        perror("malloc");
        exit(3);
    }
    memset(p, 1, n); /* every page touched: charged to the memory cgroup */
    g_sink = p[n - 1];
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(3);
    }
}

static long read_number(const char *dir, const char *name)
{
    char path[512];
    long v = -1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f || fscanf(f, "%ld", &v) != 1)
        exit(3);
    fclose(f);
    return v;
}

static void inject_naming_failures(const char *mode)
{
    int all_renames = !strcmp(mode, "norename"), no_link = all_renames || !strcmp(mode, "nolink");
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_renameat2, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[4])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, all_renames ? 0xffffffffu : 1u, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, all_renames ? 0u : 0xffffffffu, 0, 3), /* flags 0 with norename */
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 22 /* EINVAL */),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_linkat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, no_link ? SECCOMP_RET_ERRNO | 1 /* EPERM */ : SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("seccomp");
        exit(3);
    }
}

static void *blocked_worker(void *arg)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, 0);
    if (arg)
        abort();
    crash();
    return 0;
}

int main(int argc, char **argv)
{
    const char *s = argc > 1 ? argv[1] : "";
    if (!strcmp(s, "crash")) {
        crash();
    } else if (!strcmp(s, "crash_at") && argc > 2) {
        uint64_t at = strtoull(argv[2], 0, 10);
        struct timespec ts = {(time_t)(at / 1000000000u), (long)(at % 1000000000u)};
        while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, 0) != 0)
            ;
        crash();
    } else if (!strcmp(s, "threads") && argc > 2) {
        park_threads(atoi(argv[2]));
        usleep(100000);
        crash();
    } else if (!strcmp(s, "fill") && argc > 2) {
        fill(atol(argv[2]));
        crash();
    } else if (!strcmp(s, "near_limit") && argc > 5) {
        park_threads(atoi(argv[3]));
        fill(atol(argv[5]));
        usleep(100000);
        char limit[32];
        snprintf(limit, sizeof limit, "%ld", read_number(argv[4], "memory.usage_in_bytes") + atol(argv[2]) * 1024);
        write_file(argv[4], "memory.limit_in_bytes", limit);
        crash();
    } else if (!strcmp(s, "measure") && argc > 3) {
        park_threads(atoi(argv[2]));
        usleep(100000); /* every thread parked */
        write_file(argv[3], "memory.max_usage_in_bytes", "0");
        fprintf(stderr, "usage=%ld\n", read_number(argv[3], "memory.usage_in_bytes"));
        crash();
    } else if (!strcmp(s, "seccomp") && argc > 2) {
        inject_naming_failures(argv[2]);
        crash();
    } else if (!strcmp(s, "blocked_worker") || !strcmp(s, "blocked_worker_abort")) {
        pthread_t t;
        pthread_create(&t, 0, blocked_worker, strcmp(s, "blocked_worker") ? (void *)1 : 0);
        pthread_join(t, 0);
    } else {
        fprintf(stderr, "usage: dumps crash|crash_at NS|threads N|fill MIB|near_limit KIB N CGROUP MIB|measure N CGROUP|"
                        "seccomp MODE|blocked_worker[_abort]\n");
        return 2;
    }
    return 0;
}
