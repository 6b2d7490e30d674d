/* test_sys.c — sigsafe/sys.c: the raw system calls against what libc and the kernel say, ss_exit_group included.
 *
 * Output: one line per failed check, then "N passed, M failed"; exit status 0 when M is 0. Also built
 * from source under ASan and UBSan (Makefile: build/tests/unit/sigsafe/test_sys_asan).
 */
#include "sigsafe/sigsafe.h"
#include "tests/unit/check.h"
#include "tests/unit/sigsafe/sstest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- sys.c ---- */

static volatile int sig_tid, sig_code, sig_value;
static volatile sig_atomic_t sig_hits;

static void on_usr(int sig)
{
    (void)sig;
    sig_tid = ss_gettid();
    sig_hits++;
}

static void on_usr_info(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    sig_tid = ss_gettid();
    sig_code = si->si_code;
    sig_value = si->si_value.sival_int;
    sig_hits++;
}

static void *gettid_thread(void *arg)
{
    int *out = arg;
    out[0] = ss_gettid();
    out[1] = (int)syscall(SYS_gettid);
    out[2] = ss_getpid();
    return 0;
}

static volatile int futex_word;

static void *futex_setter(void *arg)
{
    (void)arg;
    usleep(20000);
    __atomic_store_n(&futex_word, 1, __ATOMIC_RELEASE);
    ss_futex_wake(&futex_word, 1);
    return 0;
}

static void *futex_waiter(void *arg)
{
    int *result = arg;
    *result = ss_futex_wait(&futex_word, 0, 5000000000u);
    return 0;
}

struct timer_thread {
    volatile int tid, done;
};

static void *timer_thread_main(void *arg)
{
    struct timer_thread *t = arg;
    __atomic_store_n(&t->tid, ss_gettid(), __ATOMIC_RELEASE);
    for (int i = 0; i < 5000 && !sig_hits; i++)
        usleep(1000);
    t->done = 1;
    return 0;
}

static void test_sys_basics(void)
{
    CHECK_EQ_U64(ss_gettid(), syscall(SYS_gettid));
    CHECK_EQ_U64(ss_gettid(), getpid()); /* the main thread */
    CHECK_EQ_U64(ss_getpid(), getpid());
    CHECK_EQ_U64(ss_sys(SYS_getppid, 0, 0, 0, 0, 0, 0), getppid());
    CHECK(ss_sys(SYS_close, -1, 0, 0, 0, 0, 0) == -EBADF);
    int ids[3];
    pthread_t t;
    pthread_create(&t, 0, gettid_thread, ids);
    pthread_join(t, 0);
    CHECK(ids[0] == ids[1] && ids[0] != getpid() && ids[2] == getpid());

    /* -errno, and errno itself untouched. */
    errno = 4242;
    CHECK(ss_openat(AT_FDCWD, "/nonexistent/lastgasp", O_RDONLY, 0) == -ENOENT);
    CHECK(ss_openat(-1, "relative", O_RDONLY, 0) == -EBADF);
    CHECK(ss_close(-1) == -EBADF);
    char b[16];
    CHECK(ss_read(-1, b, 1) == -EBADF);
    CHECK(ss_write(-1, b, 1) == -EBADF);
    CHECK(ss_pread(-1, b, 1, 0) == -EBADF);
    CHECK(errno == 4242);

    write_file("hello", "hello world", 11);
    int fd = ss_openat(tmpdir_fd, "hello", O_RDONLY, 0);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC); /* always added */
    memset(b, 0, sizeof b);
    CHECK(ss_read(fd, b, 5) == 5 && memcmp(b, "hello", 5) == 0);
    CHECK(ss_pread(fd, b, 5, 6) == 5 && memcmp(b, "world", 5) == 0);
    CHECK(ss_pread(fd, b, 5, 100) == 0);
    CHECK(ss_read(fd, (void *)8, 5) == -EFAULT);
    CHECK(ss_close(fd) == 0);
    CHECK(ss_close(fd) == -EBADF);
    fd = ss_openat(tmpdir_fd, "newfile", O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0 && ss_write(fd, "abc", 3) == 3);
    ss_close(fd);
    CHECK(ss_openat(tmpdir_fd, "newfile", O_WRONLY | O_CREAT | O_EXCL, 0600) == -EEXIST);

    int pf[2];
    CHECK(ss_pipe2(pf, O_CLOEXEC) == 0);
    CHECK(ss_write(pf[1], "ping", 4) == 4 && ss_read(pf[0], b, 4) == 4 && memcmp(b, "ping", 4) == 0);
    CHECK(fcntl(pf[0], F_GETFD) & FD_CLOEXEC);
    close(pf[0]);
    close(pf[1]);
    CHECK(ss_pipe2(pf, 0x7fffffff) == -EINVAL);

    char l1[PATH_MAX], l2[PATH_MAX];
    ssize_t n1 = ss_readlink("/proc/self/exe", l1, sizeof l1), n2 = readlink("/proc/self/exe", l2, sizeof l2);
    CHECK(n1 > 0 && n1 == n2 && memcmp(l1, l2, (size_t)n1) == 0);
    CHECK(ss_readlink("/proc/self/exe", l1, 4) == 4); /* truncated, as readlink does */
    CHECK(ss_readlink("/nonexistent/x", l1, sizeof l1) == -ENOENT);

    struct utsname u1, u2;
    CHECK(ss_uname(&u1) == 0 && uname(&u2) == 0);
    CHECK(strcmp(u1.release, u2.release) == 0 && strcmp(u1.sysname, u2.sysname) == 0);

    uint64_t val = 0x1122334455667788u, got = 0;
    if (under_qemu()) {
        CHECK(ss_process_vm_readv_self(&got, (uint64_t)(uintptr_t)&val, 8) == -ENOSYS);
    } else {
        CHECK(ss_process_vm_readv_self(&got, (uint64_t)(uintptr_t)&val, 8) == 8 && got == val);
        CHECK(ss_process_vm_readv_self(&got, 8, 8) == -EFAULT);
    }

    /* getdents64 over a directory with two known names. */
    mkdirat(tmpdir_fd, "d", 0700);
    int dfd = openat(tmpdir_fd, "d", O_RDONLY | O_DIRECTORY);
    close(openat(dfd, "one", O_CREAT | O_WRONLY, 0600));
    close(openat(dfd, "two", O_CREAT | O_WRONLY, 0600));
    uint64_t dents[256];
    int found = 0, nd, rounds = 0;
    while ((nd = ss_getdents64(dfd, dents, sizeof dents)) > 0 && rounds++ < 10) {
        for (int off = 0; off < nd;) {
            const char *ent = (const char *)dents + off;
            unsigned short reclen;
            memcpy(&reclen, ent + 16, sizeof reclen);
            found += !strcmp(ent + 19, "one") + !strcmp(ent + 19, "two");
            off += reclen;
        }
    }
    CHECK(nd == 0 && found == 2);
    CHECK(ss_getdents64(-1, dents, sizeof dents) == -EBADF);
    unlinkat(dfd, "one", 0);
    unlinkat(dfd, "two", 0);
    close(dfd);
    unlinkat(tmpdir_fd, "d", AT_REMOVEDIR);
}

static void test_sys_memory(void)
{
    size_t pg = page_size();
    uint8_t *p = ss_mmap(0, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK((uintptr_t)p < (uintptr_t)-4096);
    p[0] = 1;
    p[2 * pg - 1] = 2;
    CHECK(ss_mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == (void *)(intptr_t)-EINVAL);
    CHECK(ss_mmap(0, pg, PROT_READ, MAP_PRIVATE, -1, 0) == (void *)(intptr_t)-EBADF);
    uint8_t b;
    CHECK(ss_mprotect(p + pg, pg, PROT_NONE) == 0);
    int vm = !under_qemu(); /* qemu: no process_vm_readv (test_sys_misc asserts ENOSYS) */
    CHECK(!vm || ss_process_vm_readv_self(&b, (uint64_t)(uintptr_t)(p + pg), 1) == -EFAULT);
    CHECK(!vm || (ss_process_vm_readv_self(&b, (uint64_t)(uintptr_t)p, 1) == 1 && b == 1));
    CHECK(ss_mprotect(p + 1, pg, PROT_READ) == -EINVAL);
    CHECK(ss_munmap(p + 1, pg) == -EINVAL);
    CHECK(ss_munmap(p, 2 * pg) == 0);
    CHECK(!vm || ss_process_vm_readv_self(&b, (uint64_t)(uintptr_t)p, 1) == -EFAULT);
}

static void test_sys_signals(void)
{
    /* Masks: block SIGUSR2 through the raw call, see it in libc's view, put the old mask back. */
    uint64_t set = (uint64_t)1 << (SIGUSR2 - 1), old = 0, now = 0;
    CHECK(ss_sigprocmask(SIG_BLOCK, &set, &old) == 0);
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, 0, &cur);
    CHECK(sigismember(&cur, SIGUSR2) == 1);
    CHECK((old & set) == 0);
    CHECK(ss_sigprocmask(SIG_SETMASK, &old, 0) == 0);
    CHECK(ss_sigprocmask(SIG_BLOCK, 0, &now) == 0 && now == old);
    CHECK(ss_sigprocmask(12345, &set, 0) == -EINVAL);

    /* Dispositions: the raw query sees what libc installed; SIGKILL cannot be caught. */
    install_handler(SIGUSR1, on_usr, 0);
    struct ss_kaction ka;
    memset(&ka, 0, sizeof ka);
    CHECK(ss_sigaction_raw(SIGUSR1, 0, &ka) == 0);
    CHECK(ka.handler == (void *)on_usr);
    CHECK(ss_sigaction_raw(SIGKILL, &ka, 0) == -EINVAL);
    CHECK(ss_sigaction_raw(0, 0, &ka) == -EINVAL);

    stack_t s1, s2;
    CHECK(ss_sigaltstack(0, &s1) == 0 && sigaltstack(0, &s2) == 0);
    CHECK(s1.ss_sp == s2.ss_sp && s1.ss_size == s2.ss_size && s1.ss_flags == s2.ss_flags);

    /* tgkill: delivered to this very thread before the call returns. */
    sig_hits = 0;
    sig_tid = 0;
    CHECK(ss_tgkill(getpid(), ss_gettid(), SIGUSR1) == 0);
    CHECK(sig_hits == 1 && sig_tid == ss_gettid());
    CHECK(ss_tgkill(getpid(), ss_gettid(), 0) == 0);
    CHECK(ss_tgkill(getpid(), 0x3ffffff0, SIGUSR1) == -ESRCH);
    CHECK(ss_tgkill(getpid(), ss_gettid(), 1000) == -EINVAL);

    /* tgsigqueueinfo: our siginfo arrives as sent. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr_info;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = 777;
    sig_hits = 0;
    CHECK(ss_tgsigqueueinfo(getpid(), ss_gettid(), SIGUSR1, &si) == 0);
    CHECK(sig_hits == 1 && sig_code == SI_QUEUE && sig_value == 777 && sig_tid == ss_gettid());
    install_handler(SIGUSR1, SIG_DFL, 0);
}

static void test_sys_time(void)
{
    uint64_t prev = ss_now_ns(CLOCK_MONOTONIC), backwards = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t t = ss_now_ns(CLOCK_MONOTONIC);
        backwards += t < prev;
        prev = t;
    }
    CHECK(backwards == 0);
    uint64_t a = mono_ns(), b = ss_now_ns(CLOCK_MONOTONIC), c = mono_ns();
    CHECK(a <= b && b <= c);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    uint64_t real = ss_now_ns(CLOCK_REALTIME);
    CHECK(real / 1000000000u - (uint64_t)rt.tv_sec <= 1);
    CHECK(ss_now_ns(12345) == 0); /* a clock that does not exist */

    uint64_t t0 = mono_ns();
    CHECK(ss_nanosleep_ns(2000000) == 0);
    CHECK(mono_ns() - t0 >= 2000000);

    /* Futexes: timeout, value mismatch, and a real wake. */
    futex_word = 0;
    t0 = mono_ns();
    CHECK(ss_futex_wait(&futex_word, 0, 10000000) == -ETIMEDOUT);
    CHECK(mono_ns() - t0 >= 10000000);
    CHECK(ss_futex_wait(&futex_word, 1, 10000000) == -EAGAIN);
    CHECK(ss_futex_wake(&futex_word, 1) == 0);
    int result = 99;
    pthread_t t;
    pthread_create(&t, 0, futex_waiter, &result);
    int woken = 0;
    for (int i = 0; i < 5000 && !woken; i++) {
        usleep(1000);
        woken = ss_futex_wake(&futex_word, 1);
    }
    pthread_join(t, 0);
    CHECK(woken == 1 && result == 0);

    /* ss_futex_wait_set: a flag set by another thread ends the wait; an unset one times out. */
    futex_word = 0;
    t0 = mono_ns();
    CHECK(ss_futex_wait_set(&futex_word, 20000000) == 0);
    CHECK(mono_ns() - t0 >= 20000000);
    pthread_create(&t, 0, futex_setter, 0);
    CHECK(ss_futex_wait_set(&futex_word, 5000000000u) == 1); /* 1: the flag, not the deadline */
    pthread_join(t, 0);
}

static void test_sys_timer(void)
{
    /* A thread-directed timer: the signal lands on the chosen thread, not on the one that armed it. */
    install_handler(SIGUSR2, on_usr, 0);
    sig_hits = 0;
    sig_tid = 0;
    struct timer_thread tt = {0, 0};
    pthread_t t;
    pthread_create(&t, 0, timer_thread_main, &tt);
    while (!__atomic_load_n(&tt.tid, __ATOMIC_ACQUIRE))
        usleep(100);
    int id = -1;
    CHECK(ss_timer_create_tid(CLOCK_MONOTONIC, SIGUSR2, tt.tid, &id) == 0 && id >= 0);
    CHECK(ss_timer_settime_ns(id, 5000000) == 0);
    pthread_join(t, 0);
    CHECK_MSG(sig_hits == 1 && sig_tid == tt.tid, "timer signal: %d hits, on tid %d, wanted tid %d", (int)sig_hits,
              sig_tid, tt.tid);
    CHECK(ss_timer_delete(id) == 0);
    CHECK(ss_timer_delete(id) == -EINVAL);

    /* Disarming with 0: nothing arrives. */
    sig_hits = 0;
    CHECK(ss_timer_create_tid(CLOCK_MONOTONIC, SIGUSR2, ss_gettid(), &id) == 0);
    CHECK(ss_timer_settime_ns(id, 30000000) == 0);
    CHECK(ss_timer_settime_ns(id, 0) == 0);
    usleep(60000);
    CHECK(sig_hits == 0);
    /* And armed on ourselves, it arrives here. */
    CHECK(ss_timer_settime_ns(id, 1000000) == 0);
    for (int i = 0; i < 2000 && !sig_hits; i++)
        usleep(1000);
    CHECK(sig_hits == 1 && sig_tid == ss_gettid());
    ss_timer_delete(id);
    CHECK(ss_timer_create_tid(CLOCK_MONOTONIC, SIGUSR2, 0x3ffffff0, &id) == -EINVAL);
    install_handler(SIGUSR2, SIG_DFL, 0);
}

static void test_sys_rename(void)
{
    write_file("a", "A", 1);
    write_file("b", "B", 1);
    char c = 0;
    CHECK(ss_renameat2(tmpdir_fd, "a", "b", RENAME_NOREPLACE) == -EEXIST);
    CHECK(slurp("a", &c, 1) == 1 && c == 'A');
    CHECK(slurp("b", &c, 1) == 1 && c == 'B');
    CHECK(ss_renameat2(tmpdir_fd, "a", "c", RENAME_NOREPLACE) == 0);
    CHECK(slurp("a", &c, 1) == -1 && errno == ENOENT);
    CHECK(slurp("c", &c, 1) == 1 && c == 'A');
    CHECK(ss_renameat2(tmpdir_fd, "missing", "d", RENAME_NOREPLACE) == -ENOENT);
    CHECK(ss_renameat2(-1, "c", "d", RENAME_NOREPLACE) == -EBADF);
    CHECK(ss_renameat2(tmpdir_fd, "c", "d", 0x80000000u) == -EINVAL); /* what a filesystem without the flag says */
    /* Flags 0: the plain rename, which replaces; as libc's renameat does. */
    CHECK(ss_renameat2(tmpdir_fd, "c", "b", 0) == 0);
    CHECK(slurp("b", &c, 1) == 1 && c == 'A' && slurp("c", &c, 1) == -1);
    /* linkat: a second name, never replacing; as libc's linkat. */
    CHECK(ss_linkat(tmpdir_fd, "b", "e") == 0 && linkat(tmpdir_fd, "b", tmpdir_fd, "f", 0) == 0);
    CHECK(slurp("e", &c, 1) == 1 && c == 'A');
    CHECK(ss_linkat(tmpdir_fd, "b", "e") == -EEXIST && linkat(tmpdir_fd, "b", tmpdir_fd, "e", 0) == -1 &&
          errno == EEXIST);
    CHECK(ss_linkat(tmpdir_fd, "missing", "g") == -ENOENT);
    CHECK(ss_unlinkat(tmpdir_fd, "e") == 0 && ss_unlinkat(tmpdir_fd, "f") == 0);
    CHECK(ss_unlinkat(tmpdir_fd, "e") == -ENOENT);
    CHECK(ss_unlinkat(tmpdir_fd, "b") == 0);
}

static void test_sys_files(void)
{
    /* lseek: the offset a short write left, as libc's lseek reports it. */
    int fd = openat(tmpdir_fd, "seek", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "hello", 5) == 5);
    CHECK(ss_lseek(fd, 0, SEEK_CUR) == 5 && lseek(fd, 0, SEEK_CUR) == 5);
    CHECK(ss_lseek(fd, 2, SEEK_SET) == 2 && lseek(fd, 0, SEEK_CUR) == 2);
    CHECK(ss_lseek(fd, 0, SEEK_END) == 5);
    CHECK(ss_lseek(fd, -10, SEEK_SET) == -EINVAL && lseek(fd, -10, SEEK_SET) == -1 && errno == EINVAL);
    CHECK(ss_lseek(-1, 0, SEEK_CUR) == -EBADF);
    close(fd);
    unlinkat(tmpdir_fd, "seek", 0);

    /* madvise(MADV_DONTNEED) on private anonymous pages: they read back as zeros and are no longer resident. */
    size_t pg = page_size();
    uint8_t *p = mmap(0, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(p, 0xab, 4 * pg);
    unsigned char vec[4];
    CHECK(mincore(p, 4 * pg, vec) == 0 && (vec[0] & vec[1] & vec[2] & vec[3] & 1));
    CHECK(ss_madvise(p + pg, 2 * pg, MADV_DONTNEED) == 0);
    CHECK(mincore(p, 4 * pg, vec) == 0 && (vec[0] & 1) && !(vec[1] & 1) && !(vec[2] & 1) && (vec[3] & 1));
    CHECK(p[0] == 0xab && p[pg] == 0 && p[3 * pg - 1] == 0 && p[3 * pg] == 0xab);
    CHECK(ss_madvise(p + 1, pg, MADV_DONTNEED) == -EINVAL && madvise(p + 1, pg, MADV_DONTNEED) == -1 &&
          errno == EINVAL);
    munmap(p, 4 * pg);

    /* getrandom: the bytes asked for, different from one call to the next. */
    uint64_t r1 = 0, r2 = 0;
    CHECK(ss_getrandom(&r1, sizeof r1) == 8 && ss_getrandom(&r2, sizeof r2) == 8);
    CHECK(r1 != r2);
    CHECK(ss_getrandom((void *)1, 8) == -EFAULT);
}

static void test_sys_sigtake(void)
{
    /* A blocked signal raised at this thread is pending; ss_sigtake takes it off without running anything,
     * and a second take finds nothing (standard signals do not queue). */
    install_handler(SIGXFSZ, on_usr, 0);
    uint64_t bit = 1ull << (SIGXFSZ - 1), old = 0, pend = 0;
    CHECK(ss_sigprocmask(SIG_BLOCK, &bit, &old) == 0);
    CHECK(ss_sigpending(&pend) == 0 && !(pend & bit));
    CHECK(ss_sigtake(SIGXFSZ) == -EAGAIN);
    sig_hits = 0;
    raise(SIGXFSZ);
    raise(SIGXFSZ);
    sigset_t libc_pend;
    CHECK(ss_sigpending(&pend) == 0 && (pend & bit) && sigpending(&libc_pend) == 0 &&
          sigismember(&libc_pend, SIGXFSZ) == 1);
    CHECK(ss_sigtake(SIGXFSZ) == SIGXFSZ);
    CHECK(ss_sigtake(SIGXFSZ) == -EAGAIN);
    CHECK(ss_sigpending(&pend) == 0 && !(pend & bit));
    /* A process-directed one is taken too. */
    kill(getpid(), SIGXFSZ);
    CHECK(ss_sigtake(SIGXFSZ) == SIGXFSZ);
    CHECK(ss_sigprocmask(SIG_SETMASK, &old, 0) == 0);
    CHECK(sig_hits == 0); /* nothing was left to run when it was unblocked */
    install_handler(SIGXFSZ, SIG_DFL, 0);
}

/* ss_openat reads /proc/self/... as /proc/PID/... while ss_proc_self_pid is set. */
static void test_proc_self_pid(void)
{
    char a[64] = {0}, b[64] = {0};
    int trunc;
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    ss_read_file(AT_FDCWD, "/proc/self/stat", a, sizeof a - 1, &trunc);
    ss_proc_self_pid = child;
    ss_read_file(AT_FDCWD, "/proc/self/stat", b, sizeof b - 1, &trunc);
    ss_proc_self_pid = 0;
    CHECK(atoi(a) == getpid());
    CHECK(atoi(b) == child);
    kill(child, SIGKILL);
    waitpid(child, 0, 0);
}

/* ss_exit_group ends the whole process, other threads included, with its status (the number of the system
 * call differs by architecture: 231 on x86_64, 94 on aarch64). A second thread sleeps; the alarm ends a child
 * whose exit did not. */
static void *sleep_forever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return 0;
}

static void test_exit_group(void)
{
    pid_t child = fork();
    if (child == 0) {
        pthread_t t;
        alarm(10);
        pthread_create(&t, 0, sleep_forever, 0);
        ss_exit_group(42);
    }
    int status = 0;
    CHECK(child > 0 && waitpid(child, &status, 0) == child);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 42, "status %#x", status);
}

int main(void)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    tmpdir_create();
    test_sys_basics();
    test_sys_memory();
    test_sys_signals();
    test_sys_time();
    test_sys_timer();
    test_sys_rename();
    test_sys_files();
    test_sys_sigtake();
    test_proc_self_pid();
    test_exit_group();
    tmpdir_remove();
    return check_summary();
}
