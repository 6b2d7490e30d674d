/* sys.c — raw system calls for the handler path.
 *
 * RULES: async-signal-safe. No libc call, no errno (return -errno), no locks, no allocation.
 * Each wrapper is one syscall; loops on EINTR live in the callers that need them.
 */
#include "sigsafe.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>

#if defined(__x86_64__)
#include "x86_64/syscall.h"
#elif defined(__aarch64__)
#include "aarch64/syscall.h"
#else
#error "lastgasp: unsupported architecture"
#endif

long ss_sys(long n, long a, long b, long c, long d, long e, long f)
{
    return ss_syscall6(n, a, b, c, d, e, f);
}

#define SYS0(n) ss_syscall6((n), 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) ss_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) ss_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) ss_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) ss_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(n, a, b, c, d, e) ss_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define SYS6(n, a, b, c, d, e, f) \
    ss_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

ssize_t ss_read(int fd, void *buf, size_t n) { return SYS3(SYS_read, fd, buf, n); }
ssize_t ss_write(int fd, const void *buf, size_t n) { return SYS3(SYS_write, fd, buf, n); }
ssize_t ss_pread(int fd, void *buf, size_t n, uint64_t off) { return SYS4(SYS_pread64, fd, buf, n, off); }
int ss_proc_self_pid;

int ss_openat(int dirfd, const char *path, int flags, int mode)
{
    char buf[256];
    int pid = ss_proc_self_pid;
    if (pid > 0 && path[0] == '/' && !ss_strncmp(path, "/proc/self", 10) && (path[10] == '/' || !path[10]) &&
        ss_strnlen(path, 200) < 200) {
        size_t n = 6;
        ss_memcpy(buf, "/proc/", 6);
        n += ss_fmt_u64(buf + n, (uint64_t)pid);
        size_t rest = ss_strlen(path + 10);
        ss_memcpy(buf + n, path + 10, rest + 1);
        path = buf;
    }
    return (int)SYS4(SYS_openat, dirfd, path, flags | O_CLOEXEC, mode);
}
int ss_close(int fd) { return (int)SYS1(SYS_close, fd); }
int ss_getpid(void) { return (int)SYS0(SYS_getpid); }
int ss_gettid(void) { return (int)SYS0(SYS_gettid); }
int ss_tgkill(int pid, int tid, int sig) { return (int)SYS3(SYS_tgkill, pid, tid, sig); }
int ss_tgsigqueueinfo(int pid, int tid, int sig, const void *si)
{
    return (int)SYS4(SYS_rt_tgsigqueueinfo, pid, tid, sig, si);
}

void *ss_mmap(void *addr, size_t len, int prot, int flags, int fd, uint64_t off)
{
    return (void *)SYS6(SYS_mmap, addr, len, prot, flags, fd, off);
}
int ss_munmap(void *addr, size_t len) { return (int)SYS2(SYS_munmap, addr, len); }
int ss_mprotect(void *addr, size_t len, int prot) { return (int)SYS3(SYS_mprotect, addr, len, prot); }

int ss_sigprocmask(int how, const uint64_t *set, uint64_t *old)
{
    return (int)SYS4(SYS_rt_sigprocmask, how, set, old, 8);
}
int ss_sigaction_raw(int sig, const void *kact, void *koldact)
{
    return (int)SYS4(SYS_rt_sigaction, sig, kact, koldact, 8);
}
int ss_sigaltstack(const void *ss, void *old) { return (int)SYS2(SYS_sigaltstack, ss, old); }

int ss_nanosleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    return (int)SYS2(SYS_nanosleep, &ts, 0);
}

uint64_t ss_now_ns(int clock)
{
    struct timespec ts = {0, 0};
    if (SYS2(SYS_clock_gettime, clock, &ts) < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int ss_futex_wait(volatile int *addr, int val, uint64_t timeout_ns)
{
    struct timespec ts = {(time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u)};
    return (int)SYS4(SYS_futex, addr, FUTEX_WAIT, val, &ts);
}
int ss_futex_wake(volatile int *addr, int n) { return (int)SYS3(SYS_futex, addr, FUTEX_WAKE, n); }

int ss_futex_wait_set(volatile int *flag, uint64_t timeout_ns)
{
    uint64_t end = ss_now_ns(CLOCK_MONOTONIC) + timeout_ns;
    /* Each wait is at most 100 ms and the deadline is rechecked, so spurious wakeups and EINTR
     * cannot stretch it; the count is a second bound in case the clock cannot be read. */
    for (int i = 0; i < 100000 && !__atomic_load_n(flag, __ATOMIC_ACQUIRE); i++) {
        uint64_t now = ss_now_ns(CLOCK_MONOTONIC);
        if (now >= end || now == 0)
            break;
        ss_futex_wait(flag, 0, end - now < 100000000u ? end - now : 100000000u);
    }
    return __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
}

int ss_getdents64(int fd, void *buf, size_t n) { return (int)SYS3(SYS_getdents64, fd, buf, n); }

int ss_renameat2(int dirfd, const char *from, const char *to, unsigned flags)
{
    return (int)SYS5(SYS_renameat2, dirfd, from, dirfd, to, flags);
}
int ss_linkat(int dirfd, const char *from, const char *to) { return (int)SYS5(SYS_linkat, dirfd, from, dirfd, to, 0); }
int ss_unlinkat(int dirfd, const char *path) { return (int)SYS3(SYS_unlinkat, dirfd, path, 0); }
int64_t ss_lseek(int fd, int64_t off, int whence) { return SYS3(SYS_lseek, fd, off, whence); }
int ss_madvise(void *addr, size_t len, int advice) { return (int)SYS3(SYS_madvise, addr, len, advice); }
ssize_t ss_getrandom(void *buf, size_t n) { return SYS3(SYS_getrandom, buf, n, 1 /* GRND_NONBLOCK */); }
int ss_sigpending(uint64_t *set) { return (int)SYS2(SYS_rt_sigpending, set, 8); }
int ss_sigtake(int sig)
{
    uint64_t set = 1ull << (sig - 1);
    struct timespec zero = {0, 0};
    return (int)SYS4(SYS_rt_sigtimedwait, &set, 0, &zero, 8);
}
ssize_t ss_readlink(const char *path, char *buf, size_t n)
{
    return SYS4(SYS_readlinkat, AT_FDCWD, path, buf, n);
}
int ss_uname(void *utsname) { return (int)SYS1(SYS_uname, utsname); }
int ss_fstat(int fd, struct stat *st) { return (int)SYS2(SYS_fstat, fd, st); }
int ss_prctl(int option, unsigned long arg2) { return (int)SYS5(SYS_prctl, option, arg2, 0, 0, 0); }
int ss_dup3(int fd, int to, int flags) { return (int)SYS3(SYS_dup3, fd, to, flags); }
int ss_pipe2(int fds[2], int flags) { return (int)SYS2(SYS_pipe2, fds, flags); }

ssize_t ss_process_vm_readv(int pid, void *dst, uint64_t src, size_t n)
{
    struct { void *base; size_t len; } local = {dst, n}, remote = {(void *)src, n};
    return SYS6(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0);
}

ssize_t ss_process_vm_readv_self(void *dst, uint64_t src, size_t n)
{
    return ss_process_vm_readv((int)SYS0(SYS_getpid), dst, src, n);
}

/* The kernel's struct sigevent for SIGEV_THREAD_ID: deliver the timer's signal to one thread. */
struct ss_ksigevent {
    uint64_t value;
    int signo;
    int notify;
    int tid;
    int pad[11];
};

int ss_timer_create_tid(int clock, int sig, int tid, int *timer_id)
{
    struct ss_ksigevent ev;
    for (size_t i = 0; i < sizeof ev.pad / sizeof ev.pad[0]; i++)
        ev.pad[i] = 0;
    ev.value = 0;
    ev.signo = sig;
    ev.notify = 4; /* SIGEV_THREAD_ID */
    ev.tid = tid;
    return (int)SYS3(SYS_timer_create, clock, &ev, timer_id);
}

int ss_timer_settime_ns(int timer_id, uint64_t ns)
{
    struct itimerspec its = {{0, 0}, {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)}};
    return (int)SYS4(SYS_timer_settime, timer_id, 0, &its, 0);
}
int ss_timer_delete(int timer_id) { return (int)SYS1(SYS_timer_delete, timer_id); }

int ss_exit_group(int code)
{
    for (;;)
        SYS1(SYS_exit_group, code);
}

int ss_exit_thread(int code)
{
    for (;;)
        SYS1(SYS_exit, code);
}

int ss_set_core_limit(uint64_t bytes)
{
    uint64_t lim[2] = {bytes, bytes};
    return (int)SYS4(SYS_prlimit64, 0, 4 /* RLIMIT_CORE */, lim, 0);
}

ssize_t ss_send_nowait(int fd, const void *buf, size_t n)
{
    return SYS6(SYS_sendto, fd, buf, n, 0x40 /* MSG_DONTWAIT */ | 0x4000 /* MSG_NOSIGNAL */, 0, 0);
}

int ss_poll_out(int fd)
{
    struct { int fd; short events, revents; } p = {fd, 4 /* POLLOUT */, 0};
    struct timespec zero = {0, 0};
    long r = SYS5(SYS_ppoll, &p, 1, &zero, 0, 8);
    if (r < 0)
        return (int)r;
    return r == 1 && (p.revents & 4) && !(p.revents & (8 /* POLLERR */ | 16 /* POLLHUP */ | 32 /* POLLNVAL */));
}

int ss_fd_is_fifo(int fd)
{
    struct stat st;
    long r = SYS2(SYS_fstat, fd, &st);
    if (r < 0)
        return (int)r;
    return (st.st_mode & 0170000) == 0010000;
}

int ss_sigpipe_discard(void)
{
    uint64_t set = 1ull << (13 /* SIGPIPE */ - 1);
    struct timespec zero = {0, 0};
    uint8_t info[128];
    return (int)SYS4(SYS_rt_sigtimedwait, &set, info, &zero, 8);
}

uint64_t ss_thread_pointer(void)
{
#if defined(__aarch64__)
    return (uint64_t)ss_tp_read();
#else
    uint64_t base = 0;
    if (SYS2(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &base) < 0)
        return 0;
    return base;
#endif
}
