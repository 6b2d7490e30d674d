/* hang.c — hostile conditions that could keep a crashed process alive or change its death (issue 9,
 * "Never hang"). One program, named scenarios:
 *
 *   hang filter ACTION SYSCALL SCENARIO...   install a seccomp filter (raw BPF: ACTION kill-thread,
 *                                          kill-process, trap or errno, on SYSCALL by name), then run
 *                                          SCENARIO in this process (at run time)
 *   hang exec ACTION SYSCALL PROG ARGS...    install the filter, then exec PROG (as systemd's
 *                                          SystemCallFilter= or a container allow-list does)
 *   hang crash                             a plain null write
 *   hang mt SCENARIO...                    start an idle second thread, then run SCENARIO
 *   hang stall                             a thread parked with pages above its stack pointer that never
 *                                          arrive (userfaultfd, nobody serving it), then a crash: reading
 *                                          that stack blocks the report in the kernel, uninterruptibly
 *   hang stderr_full | stderr_closed       stderr a pipe that is full and never read / has no reader
 *   hang app_rt_timer                      the application runs a 2 ms timer on SIGRTMAX-1 with its own
 *                                          handler, and a thread that is slow to answer, then crashes
 *   hang kill_during_report SIG            a thread that ignores the capture signal keeps the report busy
 *                                          for a second; meanwhile another thread sends SIG to the
 *                                          crashing thread
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

volatile int *volatile g_null;
static volatile int g_crash_tid;

static void crash(void)
{
    g_crash_tid = (int)syscall(SYS_gettid);
    *g_null = 42;
}

static const struct {
    const char *name;
    int nr;
} syscalls[] = {
    {"openat", SYS_openat}, {"uname", SYS_uname}, {"process_vm_readv", SYS_process_vm_readv},
    {"timer_create", SYS_timer_create}, {"getdents64", SYS_getdents64}, {"write", SYS_write},
    {"readlinkat", SYS_readlinkat}, {"pipe2", SYS_pipe2}, {"prlimit64", SYS_prlimit64},
    {"sendto", SYS_sendto}, {"clone", SYS_clone}, {"tgkill", SYS_tgkill}, {"sigaltstack", SYS_sigaltstack},
    {"ppoll", SYS_ppoll}, {"fstat", SYS_fstat}, {"rt_sigtimedwait", SYS_rt_sigtimedwait},
    {"faccessat2", SYS_faccessat2}, {"arch_prctl", SYS_arch_prctl},
};

static void install_filter(const char *action, const char *name)
{
    int nr = -1;
    for (size_t i = 0; i < sizeof syscalls / sizeof syscalls[0]; i++)
        if (!strcmp(syscalls[i].name, name))
            nr = syscalls[i].nr;
    int known = 1;
    uint32_t act = !strcmp(action, "kill-thread")    ? SECCOMP_RET_KILL_THREAD /* 0 */
                   : !strcmp(action, "kill-process") ? SECCOMP_RET_KILL_PROCESS
                   : !strcmp(action, "trap")         ? SECCOMP_RET_TRAP
                   : !strcmp(action, "errno")        ? SECCOMP_RET_ERRNO | EPERM
                                                     : (known = 0);
    if (nr < 0 || !known) {
        fprintf(stderr, "hang: unknown filter %s %s\n", action, name);
        exit(90);
    }
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, act),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("hang: seccomp");
        exit(91);
    }
}

/* ---- stall: a stack whose upper pages never arrive ---- */
#define STALL_SIZE (1u << 20)
static ucontext_t g_main_uc, g_stall_uc;
static volatile int g_parked;

static void parked(void)
{
    g_parked = 1;
    for (;;)
        pause();
}

static void *stall_thread(void *arg)
{
    (void)arg;
    uint8_t *r = mmap(0, STALL_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED)
        exit(92);
    memset(r, 1, STALL_SIZE / 2); /* the lower half, where this thread's stack will grow, is there */
    int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
    struct uffdio_api api = {.api = UFFD_API};
    struct uffdio_register reg = {.range = {(uintptr_t)r, STALL_SIZE}, .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) != 0 || ioctl(uffd, UFFDIO_REGISTER, &reg) != 0) {
        perror("hang: userfaultfd");
        exit(93);
    }
    getcontext(&g_stall_uc);
    g_stall_uc.uc_stack.ss_sp = r;
    g_stall_uc.uc_stack.ss_size = STALL_SIZE / 2; /* sp starts in the middle: above it, nothing */
    g_stall_uc.uc_link = 0;
    makecontext(&g_stall_uc, parked, 0);
    swapcontext(&g_main_uc, &g_stall_uc);
    return 0;
}

/* ---- stderr ---- */
static void stderr_pipe(int full)
{
    int p[2];
    if (pipe(p) != 0)
        exit(94);
    if (full) {
        fcntl(p[1], F_SETFL, O_NONBLOCK);
        char buf[4096];
        memset(buf, 'x', sizeof buf);
        while (write(p[1], buf, sizeof buf) > 0)
            ;
        while (write(p[1], buf, 1) > 0)
            ;
        fcntl(p[1], F_SETFL, 0);
    } else {
        close(p[0]);
    }
    dup2(p[1], 2);
    close(p[1]);
    /* full: the read end stays open here and nobody reads it, like a hung log shipper */
}

/* ---- signals that are not lastgasp's ---- */
static volatile long g_app_ticks;
static void app_tick(int sig) { (void)sig; g_app_ticks++; }

static void *deaf_thread(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, 0); /* does not answer the capture signal: the report waits 1 s */
    for (;;)
        pause();
    return 0;
}

static int g_kill_sig;
static void *killer_thread(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, 0); /* free to send while the report runs */
    while (!g_crash_tid)
        usleep(1000);
    usleep(300000);
    syscall(SYS_tgkill, getpid(), g_crash_tid, g_kill_sig);
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, 0);
}

static void *idle_thread(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return 0;
}

static int scenario(int argc, char **argv)
{
    const char *s = argv[0];
    pthread_t t;
    if (!strcmp(s, "filter") && argc >= 4) {
        install_filter(argv[1], argv[2]);
        return scenario(argc - 3, argv + 3);
    }
    if (!strcmp(s, "exec") && argc >= 4) {
        install_filter(argv[1], argv[2]);
        execv(argv[3], argv + 3);
        perror("hang: exec");
        return 95;
    }
    if (!strcmp(s, "mt") && argc >= 2) {
        pthread_create(&t, 0, idle_thread, 0); /* a thread left alive if only the crashing one is killed */
        sleep_ms(20);
        return scenario(argc - 1, argv + 1);
    }
    if (!strcmp(s, "crash")) {
        crash();
    } else if (!strcmp(s, "stall")) {
        pthread_create(&t, 0, stall_thread, 0);
        while (!g_parked)
            sleep_ms(1);
        sleep_ms(50);
        crash();
    } else if (!strcmp(s, "stderr_full") || !strcmp(s, "stderr_closed")) {
        stderr_pipe(!strcmp(s, "stderr_full"));
        crash();
    } else if (!strcmp(s, "app_rt_timer")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = app_tick;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGRTMAX - 1, &sa, 0);
        timer_t tm;
        struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMAX - 1};
        struct itimerspec its = {{0, 2000000}, {0, 2000000}};
        if (timer_create(CLOCK_MONOTONIC, &ev, &tm) != 0 || timer_settime(tm, 0, &its, 0) != 0)
            return 96;
        pthread_create(&t, 0, deaf_thread, 0);
        sleep_ms(20);
        crash();
    } else if (!strcmp(s, "kill_during_report") && argc >= 2) {
        g_kill_sig = atoi(argv[1]);
        pthread_create(&t, 0, deaf_thread, 0);
        pthread_create(&t, 0, killer_thread, 0);
        sleep_ms(20);
        crash();
    } else {
        fprintf(stderr, "hang: unknown scenario %s\n", s);
        return 97;
    }
    return 98;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: hang SCENARIO...\n");
        return 99;
    }
    return scenario(argc - 1, argv + 1);
}
