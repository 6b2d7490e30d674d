/* sigsafe.h — async-signal-safe primitives (prefix ss_).
 *
 * RULES for everything declared here: callable from a signal handler in a compromised process.
 * No malloc, no stdio, no locks, no libc call (raw syscalls only), no errno: functions return
 * -errno on failure. Every loop is bounded by its arguments. Fixed buffers are the caller's.
 */
#ifndef LASTGASP_SIGSAFE_H
#define LASTGASP_SIGSAFE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ---- system calls (sys.c) ---- */
long ss_sys(long n, long a, long b, long c, long d, long e, long f);
ssize_t ss_read(int fd, void *buf, size_t n);
ssize_t ss_write(int fd, const void *buf, size_t n);
ssize_t ss_pread(int fd, void *buf, size_t n, uint64_t off);
int ss_openat(int dirfd, const char *path, int flags, int mode);
int ss_close(int fd);
int ss_getpid(void);
int ss_gettid(void);
int ss_tgkill(int pid, int tid, int sig);
int ss_tgsigqueueinfo(int pid, int tid, int sig, const void *siginfo);
void *ss_mmap(void *addr, size_t len, int prot, int flags, int fd, uint64_t off); /* MAP_FAILED-free: returns (void*)-errno */
int ss_munmap(void *addr, size_t len);
int ss_mprotect(void *addr, size_t len, int prot);
int ss_sigprocmask(int how, const uint64_t *set, uint64_t *old);
int ss_sigaction_raw(int sig, const void *kact, void *koldact); /* kernel struct, see ss_kaction */
int ss_sigaltstack(const void *ss, void *old);
int ss_nanosleep_ns(uint64_t ns);
uint64_t ss_now_ns(int clock);
int ss_futex_wait(volatile int *addr, int val, uint64_t timeout_ns);
int ss_futex_wake(volatile int *addr, int n);
/* Wait until *flag is non-zero (acquire) or timeout_ns has passed; returns 1 if it was set. */
int ss_futex_wait_set(volatile int *flag, uint64_t timeout_ns);
int ss_getdents64(int fd, void *buf, size_t n);
/* flags 0: rename, replacing; 1: RENAME_NOREPLACE (EINVAL where the filesystem cannot) */
int ss_renameat2(int dirfd, const char *from, const char *to, unsigned flags);
int ss_linkat(int dirfd, const char *from, const char *to);
int ss_unlinkat(int dirfd, const char *path);
int64_t ss_lseek(int fd, int64_t off, int whence);
int ss_madvise(void *addr, size_t len, int advice);
/* Up to n random bytes from the kernel without ever blocking (GRND_NONBLOCK); bytes or -errno. */
ssize_t ss_getrandom(void *buf, size_t n);
int ss_sigpending(uint64_t *set);
/* Take one pending instance of sig (blocked) off this thread's or the process's queue, without
 * waiting: returns sig, or -EAGAIN when none is pending. */
int ss_sigtake(int sig);
ssize_t ss_readlink(const char *path, char *buf, size_t n);
int ss_uname(void *utsname);
int ss_fstat(int fd, struct stat *st); /* x86_64 and aarch64: the kernel's struct stat is glibc's */
int ss_prctl(int option, unsigned long arg2);
int ss_dup3(int fd, int to, int flags);
int ss_pipe2(int fds[2], int flags);
ssize_t ss_process_vm_readv_self(void *dst, uint64_t src, size_t n);
ssize_t ss_process_vm_readv(int pid, void *dst, uint64_t src, size_t n);
int ss_timer_create_tid(int clock, int sig, int tid, int *timer_id);
int ss_timer_settime_ns(int timer_id, uint64_t ns);
int ss_timer_delete(int timer_id);
uint64_t ss_thread_pointer(void); /* the calling thread's TLS base (x86_64: fs, aarch64: tpidr_el0), 0 if unknown */
int ss_exit_thread(int code) __attribute__((noreturn)); /* SYS_exit: this task only */
int ss_exit_group(int code) __attribute__((noreturn));  /* SYS_exit_group: the whole process */
int ss_set_core_limit(uint64_t bytes);                  /* RLIMIT_CORE of the calling process */
ssize_t ss_send_nowait(int fd, const void *buf, size_t n); /* MSG_DONTWAIT|MSG_NOSIGNAL; -ENOTSOCK off sockets */
int ss_poll_out(int fd);          /* 1 writable now, 0 not (full, or nobody reads), or -errno; never waits */
int ss_fd_is_fifo(int fd);        /* 1, 0, or -errno */
int ss_sigpipe_discard(void);     /* take a pending SIGPIPE (the caller blocks it) off this thread */
/* While non-zero, ss_openat opens "/proc/self/..." as "/proc/PID/...": a helper that runs in another
 * thread group (reporter/isolate.c) reads the crashed process, not itself. Set by that helper only. */
extern int ss_proc_self_pid;

/* The kernel's struct sigaction on x86_64 and aarch64 (what rt_sigaction takes). */
struct ss_kaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

/* ---- memory and strings (mem.c); each mirrors its libc namesake, return value included ---- */
void *ss_memcpy(void *dst, const void *src, size_t n);
void *ss_memmove(void *dst, const void *src, size_t n);
void *ss_memset(void *dst, int c, size_t n);
int ss_memcmp(const void *a, const void *b, size_t n);
void *ss_memchr(const void *p, int c, size_t n);
size_t ss_strlen(const char *s);
size_t ss_strnlen(const char *s, size_t max);
int ss_strcmp(const char *a, const char *b);
int ss_strncmp(const char *a, const char *b, size_t n);
size_t ss_strlcpy(char *dst, const char *src, size_t size); /* BSD semantics: returns strlen(src) */

/* ---- number formatting and parsing (fmt.c) ---- */
/* Write v into buf (no NUL), return the number of chars; buf needs 20 (dec) or 16 (hex) bytes. */
size_t ss_fmt_u64(char *buf, uint64_t v);
size_t ss_fmt_i64(char *buf, int64_t v);
size_t ss_fmt_hex(char *buf, uint64_t v, size_t min_digits);
/* Parse an unsigned hex/decimal prefix of [s, s+n); returns chars consumed, 0 if none. */
size_t ss_parse_hex(const char *s, size_t n, uint64_t *out);
size_t ss_parse_u64(const char *s, size_t n, uint64_t *out);

/* A bounded string builder over a caller's buffer: never overflows, always NUL-terminates. */
struct ss_str {
    char *buf;
    size_t cap;
    size_t len;
};
void ss_str_init(struct ss_str *s, char *buf, size_t cap);
void ss_str_add(struct ss_str *s, const char *text);
void ss_str_addn(struct ss_str *s, const char *text, size_t n);
void ss_str_u64(struct ss_str *s, uint64_t v);
void ss_str_i64(struct ss_str *s, int64_t v);
void ss_str_hex(struct ss_str *s, uint64_t v); /* with 0x prefix */
/* text, with every byte below 0x20, 0x7f and the backslash written as \n, \t, \\ or \xHH: a value that came
 * from outside (an environment variable) cannot forge a second log line or drive a terminal. */
void ss_str_add_escaped(struct ss_str *s, const char *text);

/* ---- file descriptor identity (fdid.c) ---- */
/* What an fd referred to when it was opened: a number may be closed behind our back (closefrom in a daemon)
 * and reused for a log file or a directory, so the handler uses an fd only after checking it still is this. */
struct ss_fdid {
    int fd; /* -1: none */
    uint32_t type; /* st_mode & S_IFMT */
    uint64_t dev, ino;
};
/* Record fd's identity; returns 0 or -errno (id->fd is then -1). */
int ss_fdid_take(struct ss_fdid *id, int fd);
/* 1 when id->fd is open and is still the object recorded, else 0. */
int ss_fdid_same(const struct ss_fdid *id);

/* ---- fault-tolerant memory reads (memread.c) ---- */
enum ss_memread_method { SS_MEMREAD_NONE, SS_MEMREAD_VM, SS_MEMREAD_PROCMEM, SS_MEMREAD_PIPE };
/* Choose the first method that works here (or the forced one). At install, and again in the
 * handler of a forked child (the fds it inherited read the parent): async-signal-safe. */
int ss_memread_init(int forced);
int ss_memread_method(void);
/* Read as process pid from now on (process_vm_readv); 0 = getpid(). A helper that shares the crashed
 * process's memory from another thread group reads itself: the same memory, and no ptrace check. */
void ss_memread_target(int pid);
/* Copy n bytes from address src; returns n, or -EFAULT when any byte is unreadable. */
ssize_t ss_memread(void *dst, uint64_t src, size_t n);
int ss_memread_u64(uint64_t src, uint64_t *out);
/* Never read [lo, hi): what must not reach a dump (the environment block the kernel put on the initial stack).
 * ss_memread answers -EFAULT for any request that touches it. Install time; returns 0 or -ENOSPC. */
#define SS_MEMREAD_EXCLUDED_MAX 8
struct ss_span {
    uint64_t lo, hi;
};
int ss_memread_exclude(uint64_t lo, uint64_t hi);
/* The excluded spans (count in *n), for callers that cut them out of ranges they copy. */
const struct ss_span *ss_memread_excluded(int *n);
/* At crash time, before the first read: check that the fds the chosen method uses are still the ones it
 * opened (a daemon may have closed them and reused the numbers); reopen or fall back to another method when
 * not. Returns the method in force. */
int ss_memread_recheck(void);

/* ---- page arena (arena.c): pages reserved at install, bump-allocated in the handler ---- */
struct ss_arena {
    uint8_t *base;
    size_t size;
    size_t used;
    size_t high; /* everything at or past this offset has never been handed out (still zero) */
};
int ss_arena_init_nasync(struct ss_arena *a, size_t size);
void *ss_arena_alloc(struct ss_arena *a, size_t n); /* 16-byte aligned, zeroed; NULL when full */
void ss_arena_reset(struct ss_arena *a);

/* ---- /proc readers (procfs.c) ---- */
/* Read a whole file into buf (at most cap bytes). Returns bytes read, or -errno.
 * *truncated is set when the file had more. */
ssize_t ss_read_file(int dirfd, const char *path, char *buf, size_t cap, int *truncated);
/* Iterate lines of [buf, buf+len): returns 1 and sets line/linelen, 0 at end. *pos starts at 0. */
int ss_next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *linelen);

struct ss_mapping {
    uint64_t start, end, offset, inode;
    uint32_t perms;           /* SS_PERM_* */
    const char *path;         /* points into the maps text, not NUL-terminated */
    uint32_t path_len;
};
#define SS_PERM_R 1u
#define SS_PERM_W 2u
#define SS_PERM_X 4u
/* Parse one /proc/self/maps line; returns 1 on success. */
int ss_parse_maps_line(const char *line, size_t len, struct ss_mapping *m);
/* List thread ids of this process (from /proc/self/task) into tids; returns count or -errno.
 * *truncated set when there were more than cap. buf is scratch for getdents. */
int ss_list_tids(int *tids, int cap, int *truncated, void *scratch, size_t scratch_len);

/* ---- buffered fd writer (bufw.c) ---- */
struct ss_bufw {
    int fd;
    int err;       /* first -errno seen; once set, further writes are dropped */
    uint8_t *buf;
    size_t cap, len;
    uint64_t total; /* bytes accepted */
};
void ss_bufw_init(struct ss_bufw *w, int fd, void *buf, size_t cap);
int ss_bufw_put(struct ss_bufw *w, const void *p, size_t n);
int ss_bufw_flush(struct ss_bufw *w);
/* Write all of p to fd, retrying on EINTR and short writes; returns 0 or -errno. */
int ss_write_all(int fd, const void *p, size_t n);
/* Write at most one PIPE_BUF-sized message to fd without ever waiting and without SIGPIPE: a socket
 * gets MSG_DONTWAIT|MSG_NOSIGNAL, a pipe or FIFO a non-blocking reopen of /proc/self/fd/N, anything
 * else one write after poll says it will not wait. Returns bytes written or -errno (-EAGAIN: full). */
ssize_t ss_write_nowait(int fd, const void *p, size_t n);

/* ---- non-local jump for the fault guard (<arch>/jmp.S) ---- */
typedef uint64_t ss_jmp_buf[22]; /* x86_64 uses 8 words, aarch64 all 22 (its jmp.S says which) */
int ss_setjmp(ss_jmp_buf jb) __attribute__((returns_twice));
__attribute__((noreturn)) void ss_longjmp(ss_jmp_buf jb, int v);
void ss_call_on_stack(void (*fn)(void *), void *arg, void *stack_top);
/* clone(flags, stack_top) with *tid_word as parent-set and child-cleared tid; the child runs fn(arg)
 * on stack_top, then exits. Returns the child's id or -errno. */
long ss_clone_run(unsigned long flags, void *stack_top, volatile int *tid_word, void (*fn)(void *), void *arg);

#endif
