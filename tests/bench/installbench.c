/* installbench.c — what lastgasp_install() costs one process: wall time and resident memory.
 * One install per process (install is once per process by contract); tests/bench/install.py runs
 * this many times and takes medians. Prints one line of key=value pairs:
 *   install_ns; VmRSS, RssAnon, RssFile, VmSize (status) and Rss, Anonymous (smaps_rollup), in KiB,
 *   each as before,after.
 *   installbench DIR */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lastgasp.h"

struct mem {
    long rss, anon, file, size; /* /proc/self/status: VmRSS, RssAnon, RssFile, VmSize */
    long exact_rss, exact_anon; /* /proc/self/smaps_rollup: Rss, Anonymous */
};

/* Files are read into static buffers with read(2): no stdio, no heap, so the reading itself does
 * not move the figures it reads between "before" and "after". */
static char g_buf[8192];

static long field_kib(const char *name)
{
    size_t n = strlen(name);
    for (const char *p = g_buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : 0)
        if (!strncmp(p, name, n) && p[n] == ':')
            return strtol(p + n + 1, 0, 10);
    return -1;
}

static int read_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t got = read(fd, g_buf, sizeof g_buf - 1);
    close(fd);
    if (got <= 0)
        return -1;
    g_buf[got] = 0;
    return 0;
}

/* status's counters are kept per CPU and summed lazily (Linux 6.2 on), so they may lag by some
 * pages; smaps_rollup walks the page tables and is exact. Both are printed. */
static int read_mem(struct mem *m)
{
    if (read_file("/proc/self/status") != 0)
        return -1;
    m->rss = field_kib("VmRSS");
    m->anon = field_kib("RssAnon");
    m->file = field_kib("RssFile");
    m->size = field_kib("VmSize");
    if (read_file("/proc/self/smaps_rollup") != 0)
        return -1;
    m->exact_rss = field_kib("Rss");
    m->exact_anon = field_kib("Anonymous");
    return m->rss < 0 || m->anon < 0 || m->file < 0 || m->size < 0 || m->exact_rss < 0 || m->exact_anon < 0 ? -1 : 0;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: installbench DIR\n");
        return 2;
    }
    struct lastgasp_options o = {.dir = argv[1], .quiet = 1};
    struct mem before, after;
    /* A first read faults in the pages of the reading code and buffer, so they count in neither. */
    if (read_mem(&before) != 0 || read_mem(&before) != 0)
        return 3;
    long long t0 = now_ns();
    int err = lastgasp_install(&o);
    long long t1 = now_ns();
    if (read_mem(&after) != 0)
        return 3;
    if (err) {
        fprintf(stderr, "installbench: %s\n", lastgasp_strerror(err));
        return 1;
    }
    printf("install_ns=%lld rss=%ld,%ld anon=%ld,%ld file=%ld,%ld size=%ld,%ld exact_rss=%ld,%ld exact_anon=%ld,%ld\n",
           t1 - t0, before.rss, after.rss, before.anon, after.anon, before.file, after.file, before.size, after.size,
           before.exact_rss, after.exact_rss, before.exact_anon, after.exact_anon);
    return 0;
}
