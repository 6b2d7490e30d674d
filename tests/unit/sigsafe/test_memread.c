/* test_memread.c — sigsafe/memread.c: the fault-tolerant read, by each method, on PROT_NONE pages, unmapped holes and
 * the top of the address space; across fork; denied by seccomp later; rechecked after its fds were closed;
 * excluded spans.
 *
 * Output: one line per failed check, then "N passed, M failed"; exit status 0 when M is 0. Also built
 * from source under ASan and UBSan (Makefile: build/tests/unit/sigsafe/test_memread_asan).
 */
#include "sigsafe/sigsafe.h"
#include "tests/unit/check.h"
#include "tests/unit/sigsafe/sstest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- memread.c ---- */

static const char *method_name(int m)
{
    return m == SS_MEMREAD_VM ? "vm" : m == SS_MEMREAD_PROCMEM ? "procmem" : m == SS_MEMREAD_PIPE ? "pipe" : "none";
}

/* Whether pread on /proc/self/mem reads a PROT_NONE page: the kernel reads /proc/<pid>/mem with FOLL_FORCE,
 * like a debugger, unless booted with proc_mem.force_override=never. Returns -1 if the file cannot be read. */
static int kernel_procmem_reads_prot_none(void)
{
    int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint8_t *p = map_pages(1);
    p[0] = 0x5a;
    mprotect(p, page_size(), PROT_NONE);
    uint8_t b = 0;
    ssize_t r = pread(fd, &b, 1, (off_t)(uintptr_t)p);
    close(fd);
    munmap(p, page_size());
    return r == 1 && b == 0x5a;
}

static void memread_suite(int method, int prot_none_readable)
{
    const char *name = method_name(method);
    const size_t pg = page_size();
    int bad = 0;

    /* A known buffer, whole and in pieces around every page boundary. */
    uint8_t *p = map_pages(4);
    fill_random(p, 4 * pg);
    static uint8_t out[4 * 4096 + 64];
    memset(out, 0, sizeof out);
    CHECK_MSG(ss_memread(out, (uint64_t)(uintptr_t)p, 4 * pg) == (ssize_t)(4 * pg) && memcmp(out, p, 4 * pg) == 0,
              "%s: whole buffer", name);
    static const size_t offs[] = {0, 1, 7, 8, 4095, 4088, 4096, 4097, 8191, 8192 + 100};
    static const size_t lens[] = {1, 2, 7, 8, 9, 100, 4095, 4096, 4097, 8192};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            if (offs[i] + lens[k] > 4 * pg)
                continue;
            memset(out, 0xcc, lens[k] + 16);
            ssize_t r = ss_memread(out, (uint64_t)(uintptr_t)(p + offs[i]), lens[k]);
            if (r != (ssize_t)lens[k] || memcmp(out, p + offs[i], lens[k]) != 0 || out[lens[k]] != 0xcc)
                bad++;
        }
    }
    CHECK_MSG(bad == 0, "%s: %d partial reads wrong", name, bad);
    CHECK_EQ_U64(ss_memread(out, (uint64_t)(uintptr_t)p, 0), 0);
    CHECK_EQ_U64(ss_memread(out, 8, 0), 0); /* nothing to read is never a fault */
    static const uint64_t known = 0x0123456789abcdefu;
    uint64_t v = 0;
    CHECK(ss_memread_u64((uint64_t)(uintptr_t)&known, &v) == 0 && v == known);

    /* Page 1 PROT_NONE, page 2 unmapped, page 3 mapped again. */
    mprotect(p + pg, pg, PROT_NONE);
    munmap(p + 2 * pg, pg);
    uint64_t base = (uint64_t)(uintptr_t)p;
    ssize_t r = ss_memread(out, base + pg - 8, 8);
    CHECK_MSG(r == 8 && memcmp(out, p + pg - 8, 8) == 0, "%s: the 8 bytes before a PROT_NONE page: %zd", name, r);
    r = ss_memread(out, base + pg - 8, 16);
    if (prot_none_readable) {
        /* Documented in memread.c: PROCMEM sees PROT_NONE pages as the kernel does. What matters here is
         * that the mapped part comes back right and nothing faults. */
        CHECK_MSG(r == 16 && memcmp(out, p + pg - 8, 8) == 0, "%s: across into PROT_NONE: %zd", name, r);
    } else {
        CHECK_MSG(r == -EFAULT, "%s: read across into a PROT_NONE page returned %zd", name, r);
        r = ss_memread(out, base + pg, 8);
        CHECK_MSG(r == -EFAULT, "%s: read inside a PROT_NONE page returned %zd", name, r);
        CHECK(ss_memread_u64(base + pg + 8, &v) == -EFAULT);
    }
    r = ss_memread(out, base + 2 * pg - 8, 16);
    CHECK_MSG(r == -EFAULT, "%s: read from PROT_NONE into a hole returned %zd", name, r);
    r = ss_memread(out, base + 2 * pg, 8);
    CHECK_MSG(r == -EFAULT, "%s: read inside an unmapped hole returned %zd", name, r);
    r = ss_memread(out, base + 3 * pg - 8, 16);
    CHECK_MSG(r == -EFAULT, "%s: read from a hole into a mapped page returned %zd", name, r);
    r = ss_memread(out, base + 3 * pg, 16);
    CHECK_MSG(r == 16 && memcmp(out, p + 3 * pg, 16) == 0, "%s: the page after the hole: %zd", name, r);
    /* A mapped page followed directly by an unmapped one. */
    uint8_t *q = map_pages(2);
    memset(q, 0x77, pg);
    munmap(q + pg, pg);
    r = ss_memread(out, (uint64_t)(uintptr_t)q + pg - 8, 16);
    CHECK_MSG(r == -EFAULT, "%s: read from a mapped page into an unmapped one returned %zd", name, r);
    r = ss_memread(out, (uint64_t)(uintptr_t)q + pg - 4096, 4096);
    CHECK_MSG(r == 4096 && out[0] == 0x77 && out[4095] == 0x77, "%s: last page before the unmapped one", name);
    munmap(q, pg);
    munmap(p, 4 * pg);

    /* Low addresses, kernel addresses, non-canonical ones, and ranges that wrap past the top. */
    static const struct {
        uint64_t src;
        size_t n;
    } never[] = {
        {0, 8},
        {8, 8},
        {8, 1},
        {4095, 2},
        {0x0000800000000000u, 8},
        {0x0000800000000000u - 4, 8},
        {0xffff800000000000u, 16},
        {0xffffffffff600000u, 8}, /* the vsyscall page, execute-only or absent */
        {UINT64_MAX - 3, 8},
        {UINT64_MAX - 7, 8}, /* src + n is exactly 2^64 */
        {UINT64_MAX, 1},
        {UINT64_MAX - 4095, 8192},
        {4096, SIZE_MAX - 4096},
    };
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        r = ss_memread(out, never[i].src, never[i].n);
        CHECK_MSG(r == -EFAULT, "%s: ss_memread(0x%" PRIx64 ", %zu) returned %zd", name, never[i].src, never[i].n, r);
    }
    CHECK(ss_memread_u64(8, &v) == -EFAULT);
    CHECK(ss_memread_u64(UINT64_MAX - 3, &v) == -EFAULT);

    /* A megabyte from the heap. */
    size_t big = 1u << 20;
    uint8_t *src = malloc(big), *dst = malloc(big);
    fill_random(src, big);
    CHECK_MSG(ss_memread(dst, (uint64_t)(uintptr_t)src, big) == (ssize_t)big && memcmp(src, dst, big) == 0,
              "%s: 1 MiB read", name);
    free(src);
    free(dst);
}

static volatile uint64_t fork_probe = 1;

/* reporter/report.c re-inits in a forked child "because /proc/self/mem was the parent's": the child must then
 * read its own memory, not its parent's. */
static void memread_fork(int method)
{
    fork_probe = 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        fork_probe = 2;
        if (ss_memread_init(ss_memread_method()) != method)
            _exit(3);
        uint64_t v = 0;
        if (ss_memread_u64((uint64_t)(uintptr_t)&fork_probe, &v) < 0)
            _exit(4);
        _exit(v == 2 ? 0 : v == 1 ? 1 : 5);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: forked child, status %d (1: it read its parent's memory)",
              method_name(method), WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* A seccomp filter that makes process_vm_readv fail with EPERM, as Docker's profile did before 19.03. */
#if defined(__aarch64__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#define THIS_AUDIT_ARCH AUDIT_ARCH_X86_64
#endif
static int deny_process_vm_readv(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* VM chosen at install, then denied by a filter installed later: reads fall back and still work, and a
 * new init neither picks nor accepts VM. Runs in a child, which keeps the filter to itself. */
static void memread_denied_later(void)
{
    if (ss_memread_init(SS_MEMREAD_VM) != SS_MEMREAD_VM)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (deny_process_vm_readv() != 0)
            _exit(10);
        uint64_t v = 0;
        if (ss_memread_u64((uint64_t)(uintptr_t)&fork_probe, &v) != 0 || v != fork_probe)
            _exit(1); /* the runtime fallback failed */
        if (ss_memread_method() == SS_MEMREAD_VM)
            _exit(2);
        if (ss_memread_u64(8, &v) != -EFAULT)
            _exit(3);
        if (ss_memread_init(SS_MEMREAD_VM) != -1)
            _exit(4); /* forced VM accepted although every VM read is refused */
        int m = ss_memread_init(0);
        if (m == SS_MEMREAD_VM || m < 0)
            _exit(5);
        if (ss_memread_u64((uint64_t)(uintptr_t)&fork_probe, &v) != 0 || v != fork_probe)
            _exit(6);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 10) {
        printf("note: cannot install a seccomp filter here; VM-denied fallback not tested\n");
        return;
    }
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "process_vm_readv denied after install: child status %d",
              WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void test_memread(void)
{
    int prot_none = kernel_procmem_reads_prot_none();
    static const int methods[] = {SS_MEMREAD_VM, SS_MEMREAD_PROCMEM, SS_MEMREAD_PIPE};
    int first_working = 0;
    for (size_t i = 0; i < 3; i++) {
        int m = methods[i];
        int r = ss_memread_init(m);
        if (r < 0) {
            /* VM may be denied by seccomp or Yama, PROCMEM by a missing /proc; a pipe always works. */
            printf("note: memread method %s unavailable here\n", method_name(m));
            CHECK(m != SS_MEMREAD_PIPE);
            CHECK(ss_memread_method() == SS_MEMREAD_NONE);
            uint64_t v;
            CHECK(ss_memread_u64((uint64_t)(uintptr_t)&fork_probe, &v) == -EFAULT);
            continue;
        }
        if (!first_working)
            first_working = m;
        CHECK_MSG(r == m && ss_memread_method() == m, "forced %s: init returned %d", method_name(m), r);
        memread_suite(m, m == SS_MEMREAD_PROCMEM && prot_none == 1);
        memread_fork(m);
    }
    memread_denied_later();
    /* An unknown method: nothing chosen, every read refused. */
    CHECK(ss_memread_init(99) == -1);
    CHECK(ss_memread_method() == SS_MEMREAD_NONE);
    uint8_t b[8];
    CHECK(ss_memread(b, (uint64_t)(uintptr_t)&fork_probe, 8) == -EFAULT);
    /* 0: the first method that works, in the documented order. */
    int r = ss_memread_init(0);
    CHECK(r > 0 && r == ss_memread_method());
    CHECK_EQ_U64(r, first_working);
    CHECK(ss_memread_init(0) == r); /* again: same answer, no fd leak checked below */
    int fds_before = 0, fds_after = 0;
    DIR *d = opendir("/proc/self/fd");
    while (d && readdir(d))
        fds_before++;
    if (d)
        closedir(d);
    for (int i = 0; i < 20; i++)
        ss_memread_init(0);
    d = opendir("/proc/self/fd");
    while (d && readdir(d))
        fds_after++;
    if (d)
        closedir(d);
    CHECK_MSG(fds_after == fds_before, "re-init leaks descriptors: %d before, %d after", fds_before, fds_after);
}

/* The fds of a memory-read method, closed behind its back and their numbers given to a file: the recheck
 * forgets them (never closes or writes the file), reopens its own, and reads still work. */
static void memread_recheck_after_closefrom(int method)
{
    int r = ss_memread_init(method);
    if (r != method) {
        printf("note: memread method %s unavailable here: recheck not tried\n", method_name(method));
        return;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/victim.log", tmpdir);
    int victim = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
    CHECK(victim >= 0 && write(victim, "log\n", 4) == 4);
    int replaced = 0;
    for (int fd = 3; fd < 256; fd++) {
        char link[64], target[128];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0 || fd == victim)
            continue;
        target[n] = 0;
        int mine = method == SS_MEMREAD_PIPE ? !strncmp(target, "pipe:", 5) : strstr(target, "/mem") != 0;
        if (mine && dup2(victim, fd) == fd) /* memread's fd (the mem file or a pipe end) is now the log */
            replaced++;
    }
    CHECK_MSG(replaced > 0, "%s: no fd of the method found", method_name(method));
    CHECK(ss_memread_recheck() == method);
    static const uint64_t known = 0x1122334455667788u;
    uint64_t v = 0;
    CHECK(ss_memread_u64((uint64_t)(uintptr_t)&known, &v) == 0 && v == known);
    uint8_t page[8192];
    CHECK(ss_memread(page, (uint64_t)(uintptr_t)page, sizeof page) == (ssize_t)sizeof page);
    struct stat st;
    CHECK_MSG(fstat(victim, &st) == 0 && st.st_size == 4, "%s: the file that took the fd numbers was written",
              method_name(method));
    for (int fd = 3; fd < 256; fd++) {
        struct stat s2;
        if (fd != victim && fstat(fd, &s2) == 0 && s2.st_dev == st.st_dev && s2.st_ino == st.st_ino)
            close(fd);
    }
    close(victim);
    unlink(path);
    ss_memread_init(0);
}

/* Last in main: excluded spans cannot be taken back. */
static void test_memread_excluded(void)
{
    static uint8_t buf[64];
    for (int i = 0; i < 64; i++)
        buf[i] = (uint8_t)i;
    uint64_t base = (uint64_t)(uintptr_t)buf;
    CHECK(ss_memread_exclude(base + 16, base + 32) == 0);
    CHECK(ss_memread_exclude(base + 40, base + 40) == 0); /* empty: nothing */
    int n = -1;
    const struct ss_span *x = ss_memread_excluded(&n);
    CHECK(n == 1 && x[0].lo == base + 16 && x[0].hi == base + 32);
    static const int methods[] = {SS_MEMREAD_VM, SS_MEMREAD_PROCMEM, SS_MEMREAD_PIPE};
    for (size_t i = 0; i < 3; i++) {
        if (ss_memread_init(methods[i]) != methods[i])
            continue;
        uint8_t out[64];
        CHECK(ss_memread(out, base, 16) == 16 && memcmp(out, buf, 16) == 0);       /* just below */
        CHECK(ss_memread(out, base + 32, 32) == 32 && memcmp(out, buf + 32, 32) == 0); /* just above */
        CHECK(ss_memread(out, base + 15, 2) == -EFAULT);                             /* one byte in */
        CHECK(ss_memread(out, base + 31, 1) == -EFAULT);
        CHECK(ss_memread(out, base, 64) == -EFAULT);                                 /* across it */
        CHECK(ss_memread(out, base + 20, 4) == -EFAULT);                             /* inside */
    }
    for (int i = 1; i < SS_MEMREAD_EXCLUDED_MAX; i++)
        CHECK(ss_memread_exclude(16u * (uint64_t)i, 16u * (uint64_t)i + 8) == 0);
    CHECK(ss_memread_exclude(1u << 20, (1u << 20) + 8) == -ENOSPC);
    ss_memread_excluded(&n);
    CHECK(n == SS_MEMREAD_EXCLUDED_MAX);
    ss_memread_init(0);
}

int main(void)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    tmpdir_create();
    test_memread();
    memread_recheck_after_closefrom(SS_MEMREAD_PROCMEM);
    memread_recheck_after_closefrom(SS_MEMREAD_PIPE);
    test_memread_excluded();
    tmpdir_remove();
    return check_summary();
}
