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
 * State: written at install, and by the reporting thread in a forked child (report.c re-inits there) or
 * when VM turns out denied; only the one reporting thread reads memory.
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
} g_memread = {SS_MEMREAD_NONE, -1, {-1, -1}, 0, 0};

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
    if (src + n < src)
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
    if (g_memread.mem_fd < 0)
        g_memread.mem_fd = ss_openat(AT_FDCWD, "/proc/self/mem", O_RDONLY, 0);
    if (g_memread.pipe_fd[0] < 0 && ss_pipe2(g_memread.pipe_fd, O_CLOEXEC | O_NONBLOCK) < 0)
        g_memread.pipe_fd[0] = g_memread.pipe_fd[1] = -1;
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
