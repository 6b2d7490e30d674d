/* memread.c — read memory that may be unmapped, without faulting.
 *
 * RULES: ss_memread is async-signal-safe (raw syscalls only) and is the only way the handler path
 * reads memory it does not own. Init runs at install, and again in a forked child's handler.
 *
 * Methods, in order of preference:
 *   VM       process_vm_readv on ourselves: one syscall, no fd. Denied by some seccomp profiles
 *            (Docker's default before 19.03 and others) and by a strict Yama ptrace scope.
 *   PROCMEM  pread on /proc/self/mem, opened at install. The kernel reads this file with FOLL_FORCE,
 *            like a debugger (unless booted with proc_mem.force_override=never): PROT_NONE pages
 *            read as their contents here, where VM and PIPE answer EFAULT. Unmapped ranges fail alike.
 *   PIPE     write() the range into a pipe: the kernel copies it or answers EFAULT; read it back.
 * State: written at install, and by the reporting thread in a forked child (report.c re-inits there), at
 * the recheck of its fds, or when VM turns out denied; only the one reporting thread reads memory.
 * The fds are checked at crash time (ss_memread_recheck) before any use: a daemon may have closed them and
 * reused the numbers for its log file, which read_pipe would then fill with raw memory.
 * Excluded spans (written at install only): what must never be copied into a dump, whatever asks for it.
 */
#include "sigsafe.h"

#include <fcntl.h>

#define SS_EFAULT 14
#define SS_EINTR 4
#define PAGE 4096u

static struct {
    int method;
    int mem_fd;
    int pipe_fd[2];
    int pid;    /* the process that opened mem_fd and pipe_fd */
    int vm_pid; /* whom process_vm_readv reads, when not pid (ss_memread_target) */
    struct ss_fdid mem_id, pipe_id[2];
    struct ss_span excluded[SS_MEMREAD_EXCLUDED_MAX];
    int nexcluded;
} g_memread = {SS_MEMREAD_NONE, -1, {-1, -1}, 0, 0, {-1, 0, 0, 0}, {{-1, 0, 0, 0}, {-1, 0, 0, 0}}, {{0, 0}}, 0};

int ss_memread_exclude(uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return 0;
    if (g_memread.nexcluded >= SS_MEMREAD_EXCLUDED_MAX)
        return -28; /* ENOSPC */
    g_memread.excluded[g_memread.nexcluded].lo = lo;
    g_memread.excluded[g_memread.nexcluded].hi = hi;
    g_memread.nexcluded++;
    return 0;
}

const struct ss_span *ss_memread_excluded(int *n)
{
    *n = g_memread.nexcluded;
    return g_memread.excluded;
}

static int touches_excluded(uint64_t src, size_t n)
{
    for (int i = 0; i < g_memread.nexcluded; i++)
        if (src < g_memread.excluded[i].hi && src + n > g_memread.excluded[i].lo)
            return 1;
    return 0;
}

static ssize_t read_vm(void *dst, uint64_t src, size_t n)
{
    /* The pid is the one init saw (refreshed after a fork): one syscall a read, not two. */
    int pid = g_memread.vm_pid ? g_memread.vm_pid : g_memread.pid;
    ssize_t r = pid ? ss_process_vm_readv(pid, dst, src, n) : ss_process_vm_readv_self(dst, src, n);
    if (r < 0)
        return r;
    return (size_t)r == n ? r : -SS_EFAULT;
}

static ssize_t read_procmem(void *dst, uint64_t src, size_t n)
{
    size_t done = 0;
    for (int tries = 0; done < n && tries < 64; tries++) {
        ssize_t r = ss_pread(g_memread.mem_fd, (uint8_t *)dst + done, n - done, src + done);
        if (r == -SS_EINTR)
            continue;
        if (r <= 0)
            return -SS_EFAULT; /* /proc/self/mem answers EIO for unmapped ranges */
        done += (size_t)r;
    }
    return done == n ? (ssize_t)n : -SS_EFAULT;
}

/* One chunk never crosses a page, so the kernel copies all of it or none of it. */
static ssize_t read_pipe(void *dst, uint64_t src, size_t n)
{
    size_t done = 0;
    while (done < n) {
        uint64_t a = src + done;
        size_t chunk = PAGE - (size_t)(a % PAGE);
        if (chunk > n - done)
            chunk = n - done;
        ssize_t w;
        do
            w = ss_write(g_memread.pipe_fd[1], (const void *)a, chunk);
        while (w == -SS_EINTR);
        if (w < 0)
            return -SS_EFAULT;
        size_t got = 0;
        for (int tries = 0; got < (size_t)w && tries < 64; tries++) {
            ssize_t r = ss_read(g_memread.pipe_fd[0], (uint8_t *)dst + done + got, (size_t)w - got);
            if (r > 0)
                got += (size_t)r;
            else if (r != -SS_EINTR)
                break;
        }
        if (got != (size_t)w || (size_t)w != chunk)
            return -SS_EFAULT;
        done += chunk;
    }
    return (ssize_t)n;
}

#define SS_EPERM 1
#define SS_ENOSYS 38

ssize_t ss_memread(void *dst, uint64_t src, size_t n)
{
    if (n == 0)
        return 0;
    if (src + n < src || touches_excluded(src, n))
        return -SS_EFAULT;
    switch (g_memread.method) {
    case SS_MEMREAD_VM: {
        ssize_t r = read_vm(dst, src, n);
        if (r != -SS_EPERM && r != -SS_ENOSYS)
            return r < 0 ? -SS_EFAULT : r; /* EINVAL (n > SSIZE_MAX) and the rest: unreadable all the same */
        /* Denied since install (a seccomp filter installed later): fall back for good. */
        g_memread.method = g_memread.mem_fd >= 0 ? SS_MEMREAD_PROCMEM : SS_MEMREAD_PIPE;
        return ss_memread(dst, src, n);
    }
    case SS_MEMREAD_PROCMEM:
        return read_procmem(dst, src, n);
    case SS_MEMREAD_PIPE:
        return read_pipe(dst, src, n);
    default:
        return -SS_EFAULT;
    }
}

int ss_memread_u64(uint64_t src, uint64_t *out)
{
    return ss_memread(out, src, sizeof *out) == (ssize_t)sizeof *out ? 0 : -SS_EFAULT;
}

int ss_memread_method(void) { return g_memread.method; }

void ss_memread_target(int pid) { g_memread.vm_pid = pid; }

/* Check a method on memory we know is readable, and on a page we know is not. */
static int works(int method)
{
    static const uint64_t probe = 0x6c61737467617370u;
    uint64_t got = 0;
    int saved = g_memread.method;
    g_memread.method = method;
    int ok = ss_memread(&got, (uint64_t)(uintptr_t)&probe, sizeof got) == sizeof got && got == probe &&
             ss_memread(&got, 8, sizeof got) < 0;
    ok = ok && g_memread.method == method; /* VM denied: ss_memread fell back, so VM itself does not work */
    g_memread.method = saved;
    return ok;
}

/* Called by install, and by the fatal handler of a forked child (handler.c), so raw syscalls only.
 * forced = SS_MEMREAD_* to insist on one method (tests). */
int ss_memread_init(int forced)
{
    int pid = ss_getpid();
    if (g_memread.pid != pid) {
        /* A forked child: the inherited /proc/self/mem still reads the parent's memory, and the pipe is
         * shared with the parent. Open our own; leave the inherited ones alone (the child may have closed
         * them and reused the numbers). */
        g_memread.mem_fd = -1;
        g_memread.pipe_fd[0] = g_memread.pipe_fd[1] = -1;
        g_memread.pid = pid;
    }
    if (g_memread.mem_fd < 0) {
        g_memread.mem_fd = ss_openat(AT_FDCWD, "/proc/self/mem", O_RDONLY, 0);
        if (g_memread.mem_fd < 0 || ss_fdid_take(&g_memread.mem_id, g_memread.mem_fd) < 0)
            g_memread.mem_fd = -1;
    }
    if (g_memread.pipe_fd[0] < 0) {
        if (ss_pipe2(g_memread.pipe_fd, O_CLOEXEC | O_NONBLOCK) < 0 ||
            ss_fdid_take(&g_memread.pipe_id[0], g_memread.pipe_fd[0]) < 0 ||
            ss_fdid_take(&g_memread.pipe_id[1], g_memread.pipe_fd[1]) < 0)
            g_memread.pipe_fd[0] = g_memread.pipe_fd[1] = -1;
    }
    const int order[] = {SS_MEMREAD_VM, SS_MEMREAD_PROCMEM, SS_MEMREAD_PIPE};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (forced && order[i] != forced)
            continue;
        if (order[i] == SS_MEMREAD_PROCMEM && g_memread.mem_fd < 0)
            continue;
        if (order[i] == SS_MEMREAD_PIPE && g_memread.pipe_fd[0] < 0)
            continue;
        if (works(order[i])) {
            g_memread.method = order[i];
            return order[i];
        }
    }
    g_memread.method = SS_MEMREAD_NONE;
    return -1;
}

/* Crash time, reporting thread, before the first read. An fd that is no longer ours is forgotten, never
 * closed (its number belongs to the program now); the method that needed it is chosen again, which opens
 * fresh fds (the report released its reserve fds first, so this works even when the table was full). */
int ss_memread_recheck(void)
{
    if (g_memread.pid != ss_getpid())
        return ss_memread_init(g_memread.method); /* a forked child: init opens its own */
    if (g_memread.mem_fd >= 0 && !ss_fdid_same(&g_memread.mem_id))
        g_memread.mem_fd = -1;
    if (g_memread.pipe_fd[0] >= 0 &&
        (!ss_fdid_same(&g_memread.pipe_id[0]) || !ss_fdid_same(&g_memread.pipe_id[1])))
        g_memread.pipe_fd[0] = g_memread.pipe_fd[1] = -1;
    int m = g_memread.method;
    if ((m == SS_MEMREAD_PROCMEM && g_memread.mem_fd < 0) || (m == SS_MEMREAD_PIPE && g_memread.pipe_fd[0] < 0)) {
        if (ss_memread_init(m) < 0)
            ss_memread_init(0);
    }
    return g_memread.method;
}
