/* test_procfs.c — sigsafe/procfs.c: whole-file reads of files bigger than the buffer, line splitting, /proc/self/maps
 * lines (malformed ones too, each parsed from an exactly sized heap copy), thread listing.
 *
 * Output: one line per failed check, then "N passed, M failed"; exit status 0 when M is 0. Also built
 * from source under ASan and UBSan (Makefile: build/tests/unit/sigsafe/test_procfs_asan).
 */
#include "sigsafe/sigsafe.h"
#include "tests/unit/check.h"
#include "tests/unit/sigsafe/sstest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- procfs.c ---- */

static void test_read_file(void)
{
    static char buf[1 << 16];
    int trunc = 7;
    ssize_t n = ss_read_file(AT_FDCWD, "/proc/self/status", buf, sizeof buf - 1, &trunc);
    CHECK(n > 0 && trunc == 0);
    if (n > 0) {
        buf[n] = 0;
        char pidline[64];
        snprintf(pidline, sizeof pidline, "\nPid:\t%d\n", (int)getpid());
        CHECK(strncmp(buf, "Name:\t", 6) == 0);
        CHECK(strstr(buf, pidline) != NULL);
    }

    /* A file bigger than the buffer. */
    static uint8_t data[10000];
    fill_random(data, sizeof data);
    write_file("big", data, sizeof data);
    char path[128];
    snprintf(path, sizeof path, "%s/big", tmpdir);
    memset(buf, '#', 4200);
    n = ss_read_file(AT_FDCWD, path, buf, 4096, &trunc);
    CHECK(n == 4096 && trunc == 1 && memcmp(buf, data, 4096) == 0 && buf[4096] == '#');
    n = ss_read_file(tmpdir_fd, "big", buf, sizeof data, &trunc); /* exactly the size: complete */
    CHECK(n == (ssize_t)sizeof data && trunc == 0 && memcmp(buf, data, sizeof data) == 0);
    n = ss_read_file(tmpdir_fd, "big", buf, sizeof data + 1, &trunc);
    CHECK(n == (ssize_t)sizeof data && trunc == 0);
    n = ss_read_file(tmpdir_fd, "big", buf, sizeof data - 1, &trunc);
    CHECK(n == (ssize_t)sizeof data - 1 && trunc == 1);
    n = ss_read_file(tmpdir_fd, "big", buf, 0, &trunc);
    CHECK(n == 0 && trunc == 1);
    write_file("empty", "", 0);
    n = ss_read_file(tmpdir_fd, "empty", buf, 0, &trunc);
    CHECK(n == 0 && trunc == 0);
    n = ss_read_file(tmpdir_fd, "empty", buf, 10, &trunc);
    CHECK(n == 0 && trunc == 0);
    /* A /proc file bigger than the buffer. */
    n = ss_read_file(AT_FDCWD, "/proc/self/maps", buf, 16, &trunc);
    CHECK(n == 16 && trunc == 1);

    trunc = 7;
    n = ss_read_file(AT_FDCWD, "/nonexistent/lastgasp-test", buf, 100, &trunc);
    CHECK_MSG(n == -ENOENT && trunc == 0, "nonexistent: %zd", n);
    n = ss_read_file(tmpdir_fd, "missing", buf, 100, &trunc);
    CHECK(n == -ENOENT);
    n = ss_read_file(AT_FDCWD, tmpdir, buf, 100, &trunc);
    CHECK_MSG(n == -EISDIR, "a directory: %zd", n);
    n = ss_read_file(-1, "relative", buf, 100, &trunc);
    CHECK(n == -EBADF);
}

/* The reference: split at '\n'; a final '\n' ends the last line rather than starting an empty one. */
static size_t ref_lines(const char *t, size_t len, size_t *starts, size_t *lens)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '\n') {
            starts[n] = start;
            lens[n++] = i - start;
            start = i + 1;
        }
    }
    if (start < len) {
        starts[n] = start;
        lens[n++] = len - start;
    }
    return n;
}

static void test_next_line(void)
{
    int bad = 0;
    /* Every text of up to 10 characters over {'a', '\n'}. */
    for (size_t len = 0; len <= 10; len++) {
        for (unsigned bits = 0; bits < (1u << len); bits++) {
            char *t = malloc(len + 1); /* exactly len bytes are read */
            for (size_t i = 0; i < len; i++)
                t[i] = (bits >> i) & 1 ? '\n' : 'a';
            size_t starts[12], lens[12], nref = ref_lines(t, len, starts, lens);
            size_t pos = 0, n = 0;
            const char *line;
            size_t linelen;
            while (n <= 11 && ss_next_line(t, len, &pos, &line, &linelen)) {
                if (n >= nref || line != t + starts[n] || linelen != lens[n])
                    bad++;
                n++;
            }
            if (n != nref || ss_next_line(t, len, &pos, &line, &linelen) != 0)
                bad++;
            free(t);
        }
    }
    CHECK_MSG(bad == 0, "%d texts split differently from the reference", bad);

    const char *text = "one\n\nthree";
    size_t pos = 0, linelen;
    const char *line;
    CHECK(ss_next_line(text, strlen(text), &pos, &line, &linelen) == 1 && linelen == 3 && line == text);
    CHECK(ss_next_line(text, strlen(text), &pos, &line, &linelen) == 1 && linelen == 0 && line == text + 4);
    CHECK(ss_next_line(text, strlen(text), &pos, &line, &linelen) == 1 && linelen == 5 && line == text + 5);
    CHECK(ss_next_line(text, strlen(text), &pos, &line, &linelen) == 0);
    text = "x\n";
    pos = 0;
    CHECK(ss_next_line(text, 2, &pos, &line, &linelen) == 1 && linelen == 1);
    CHECK(ss_next_line(text, 2, &pos, &line, &linelen) == 0);
    pos = 0;
    CHECK(ss_next_line("", 0, &pos, &line, &linelen) == 0);
}

struct maps_case {
    const char *line;
    int ok;
    uint64_t start, end, offset, inode;
    uint32_t perms;
    const char *path;
};

/* Parses from an exactly sized heap copy, so ASan sees any read past the end. */
static int parse_maps_copy(const char *line, size_t len, struct ss_mapping *m, char **copy)
{
    *copy = malloc(len ? len : 1);
    memcpy(*copy, line, len);
    return ss_parse_maps_line(*copy, len, m);
}

static void test_parse_maps(void)
{
    /* Every line of our own maps, against sscanf. */
    FILE *f = fopen("/proc/self/maps", "r");
    char *line = 0;
    size_t cap = 0;
    ssize_t len;
    int lines = 0, bad = 0, stack = 0, anon = 0;
    while (f && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = 0;
        uint64_t start, end, off, ino;
        unsigned maj, min;
        char perms[5];
        int pathpos = -1;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n", &start, &end, perms, &off,
                   &maj, &min, &ino, &pathpos) != 7 || pathpos < 0) {
            printf("note: sscanf could not read maps line: %s\n", line);
            continue;
        }
        lines++;
        uint32_t want = (perms[0] == 'r' ? SS_PERM_R : 0) | (perms[1] == 'w' ? SS_PERM_W : 0) |
                        (perms[2] == 'x' ? SS_PERM_X : 0);
        struct ss_mapping m;
        char *copy;
        int ok = parse_maps_copy(line, (size_t)len, &m, &copy);
        if (!ok || m.start != start || m.end != end || m.offset != off || m.inode != ino || m.perms != want ||
            m.path != copy + pathpos || m.path_len != (uint32_t)(len - pathpos)) {
            bad++;
            printf("    maps line parsed differently: %s\n", line);
        }
        stack += m.path_len == 7 && memcmp(m.path, "[stack]", 7) == 0;
        anon += ok && m.path_len == 0;
        free(copy);
    }
    free(line);
    if (f)
        fclose(f);
    CHECK(lines > 5);
    CHECK_MSG(bad == 0, "%d of %d lines of /proc/self/maps parsed differently from sscanf", bad, lines);
    CHECK(stack == 1);
    CHECK(anon > 0); /* there is always one: libc's zero-filled data, if nothing else */

    static const struct maps_case cases[] = {
        {"7f0000000000-7f0000001000 r-xp 00001000 fe:00 1234                       /tmp/my lib.so", 1,
         0x7f0000000000u, 0x7f0000001000u, 0x1000, 1234, SS_PERM_R | SS_PERM_X, "/tmp/my lib.so"},
        {"7f0000000000-7f0000001000 r--p 00000000 fe:00 99   /tmp/a  b  ", 1, 0x7f0000000000u, 0x7f0000001000u, 0,
         99, SS_PERM_R, "/tmp/a  b  "},
        {"55d0c0000000-55d0c0021000 rw-p 00002000 08:01 4242                     /usr/lib/x.so (deleted)", 1,
         0x55d0c0000000u, 0x55d0c0021000u, 0x2000, 4242, SS_PERM_R | SS_PERM_W, "/usr/lib/x.so (deleted)"},
        {"7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]", 1, 0x7ffc00000000u,
         0x7ffc00021000u, 0, 0, SS_PERM_R | SS_PERM_W, "[stack]"},
        {"7f06772be000-7f0677382000 rw-p 00000000 00:00 0 ", 1, 0x7f06772be000u, 0x7f0677382000u, 0, 0,
         SS_PERM_R | SS_PERM_W, ""},
        {"7f06772be000-7f0677382000 ---p 00000000 00:00 0", 1, 0x7f06772be000u, 0x7f0677382000u, 0, 0, 0, ""},
        {"1000-2000 rwxs 0 00:00 18446744073709551615 /dev/shm/x", 1, 0x1000, 0x2000, 0, UINT64_MAX,
         SS_PERM_R | SS_PERM_W | SS_PERM_X, "/dev/shm/x"},
        {"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]", 1,
         0xffffffffff600000u, 0xffffffffff601000u, 0, 0, SS_PERM_X, "[vsyscall]"},
        /* malformed: each must give 0 */
        {"", 0, 0, 0, 0, 0, 0, 0},
        {"garbage", 0, 0, 0, 0, 0, 0, 0},
        {"1000", 0, 0, 0, 0, 0, 0, 0},
        {"1000-", 0, 0, 0, 0, 0, 0, 0},
        {"-2000 r--p 0 00:00 0", 0, 0, 0, 0, 0, 0, 0},
        {"1000 2000 r--p 0 00:00 0", 0, 0, 0, 0, 0, 0, 0},
        {"1000-2000", 0, 0, 0, 0, 0, 0, 0},
        {"1000-2000 ", 0, 0, 0, 0, 0, 0, 0},
        {"1000-2000 rw", 0, 0, 0, 0, 0, 0, 0},
        {"1000-2000 rw-p", 0, 0, 0, 0, 0, 0, 0},
        {"1000-2000 rw-p ", 0, 0, 0, 0, 0, 0, 0},
        {"1000-2000 rw-p zz 00:00 0", 0, 0, 0, 0, 0, 0, 0},
        {"1000-2000 rw-p 0 00:00", 0, 0, 0, 0, 0, 0, 0},
        {"1000-2000 rw-p 0 00:00 x /a", 0, 0, 0, 0, 0, 0, 0},
        {"2000-1000 rw-p 0 00:00 0", 0, 0, 0, 0, 0, 0, 0}, /* end before start */
        {"1000-1000 r--p 0 00:00 0", 0, 0, 0, 0, 0, 0, 0}, /* empty */
        {"10000000000000000-10000000000001000 r--p 0 00:00 0", 0, 0, 0, 0, 0, 0, 0}, /* 17 hex digits */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct maps_case *c = &cases[i];
        struct ss_mapping m;
        char *copy;
        size_t n = strlen(c->line);
        int ok = parse_maps_copy(c->line, n, &m, &copy);
        if (!c->ok) {
            CHECK_MSG(ok == 0, "malformed line accepted: \"%s\"", c->line);
        } else {
            size_t plen = strlen(c->path);
            CHECK_MSG(ok == 1 && m.start == c->start && m.end == c->end && m.offset == c->offset &&
                          m.inode == c->inode && m.perms == c->perms && m.path_len == plen &&
                          m.path == copy + n - plen && memcmp(m.path, c->path, plen) == 0,
                      "line \"%s\": ok %d start %" PRIx64 " end %" PRIx64 " off %" PRIx64 " inode %" PRIu64
                      " perms %u path \"%.*s\"",
                      c->line, ok, m.start, m.end, m.offset, m.inode, m.perms, (int)m.path_len, m.path);
        }
        free(copy);
    }
    /* Every prefix of a good line: no over-read (ASan), and no success before the inode's first digit. */
    const char *good = "7f0000000000-7f0000001000 r-xp 00001000 fe:00 1234   /lib/libz.so";
    size_t inode_at = (size_t)(strstr(good, "1234") - good);
    int early = 0;
    for (size_t n = 0; n < strlen(good); n++) {
        struct ss_mapping m;
        char *copy;
        int ok = parse_maps_copy(good, n, &m, &copy);
        if (ok && n <= inode_at)
            early++;
        if (ok && (m.start != 0x7f0000000000u || m.end != 0x7f0000001000u))
            early++;
        free(copy);
    }
    CHECK_MSG(early == 0, "%d prefixes of a maps line misparsed", early);
}

struct tid_thread {
    pthread_t t;
    volatile int tid;
};
static volatile int tid_threads_release;

static void *tid_thread_main(void *arg)
{
    struct tid_thread *t = arg;
    __atomic_store_n(&t->tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
    while (!__atomic_load_n(&tid_threads_release, __ATOMIC_ACQUIRE))
        usleep(1000);
    return 0;
}

static int has_tid(const int *tids, int n, int tid)
{
    for (int i = 0; i < n; i++)
        if (tids[i] == tid)
            return 1;
    return 0;
}

static void test_list_tids(void)
{
    struct tid_thread th[3];
    memset(th, 0, sizeof th);
    tid_threads_release = 0;
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i].t, 0, tid_thread_main, &th[i]);
    for (int wait = 0; wait < 5000; wait++) {
        if (__atomic_load_n(&th[0].tid, __ATOMIC_ACQUIRE) && __atomic_load_n(&th[1].tid, __ATOMIC_ACQUIRE) &&
            __atomic_load_n(&th[2].tid, __ATOMIC_ACQUIRE))
            break;
        usleep(1000);
    }
    uint64_t scratch[512]; /* 8-byte aligned, as the kernel's dirents are */
    int tids[64], trunc = 7;
    int n = ss_list_tids(tids, 64, &trunc, scratch, sizeof scratch);
    CHECK_MSG(n >= 4 && trunc == 0, "ss_list_tids: %d, truncated %d", n, trunc);
    CHECK(has_tid(tids, n, getpid()));
    for (int i = 0; i < 3; i++)
        CHECK_MSG(has_tid(tids, n, th[i].tid), "thread tid %d not listed", th[i].tid);
    /* Against readdir, for the whole set. */
    int count = 0, listed = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        count++;
        listed += has_tid(tids, n, atoi(e->d_name));
    }
    if (d)
        closedir(d);
    CHECK(count == n && listed == n);

    /* A scratch buffer that holds one or two entries per getdents: more rounds, same answer. */
    int tids2[64];
    int n2 = ss_list_tids(tids2, 64, &trunc, scratch, 64);
    CHECK(n2 == n && trunc == 0);
    int same = 1;
    for (int i = 0; i < n2; i++)
        same &= has_tid(tids, n, tids2[i]);
    CHECK(same);

    trunc = 0;
    n2 = ss_list_tids(tids2, 1, &trunc, scratch, sizeof scratch);
    CHECK(n2 == 1 && trunc == 1 && has_tid(tids, n, tids2[0]));
    trunc = 0;
    n2 = ss_list_tids(tids2, 0, &trunc, scratch, sizeof scratch);
    CHECK(n2 == 0 && trunc == 1);
    n2 = ss_list_tids(tids2, n, &trunc, scratch, sizeof scratch);
    CHECK(n2 == n && trunc == 0);

    __atomic_store_n(&tid_threads_release, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i].t, 0);
}

int main(void)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    tmpdir_create();
    test_read_file();
    test_next_line();
    test_parse_maps();
    test_list_tids();
    tmpdir_remove();
    return check_summary();
}
