/* crasher.c — one program, many named ways to die. Used by tests/crash/test_crash_matrix.py.
 *
 *   crasher SCENARIO
 *
 * Before dying it prints "crasher: tid=T expect=FUNCTION addr=0x..." on stderr so the test knows
 * which thread crashes, in which function and at what address, without trusting the dump for it.
 * Crashes go through volatile globals, never a NULL the compiler can see. Built twice: `crasher`
 * (used with LD_PRELOAD) and `crasher_linked` (linked with liblastgasp.a, installs in main).
 */
#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef CRASHER_LINKED
#include "../../reporter/lastgasp.h"
#endif

#define NOINLINE __attribute__((noinline))

volatile int *volatile g_null;
volatile int g_zero;
volatile int g_one = 1;
static pthread_barrier_t g_barrier;

static void arm_tripwire(void);

/* Announce the crash, then (under the tripwire) forbid malloc and locks from here to the death. */
static void say(const char *expect, uintptr_t addr)
{
    fprintf(stderr, "crasher: tid=%ld expect=%s addr=0x%lx\n", (long)syscall(SYS_gettid), expect, (unsigned long)addr);
    fflush(stderr);
    if (getenv("CRASHER_TRIPWIRE"))
        arm_tripwire();
}

NOINLINE void crash_null_write(void)
{
    say("crash_null_write", (uintptr_t)g_null);
    *g_null = 42;
}

NOINLINE static void *thread_crash_main(void *arg)
{
    (void)arg;
    crash_null_write();
    return 0;
}

NOINLINE void crash_abort(void)
{
    say("crash_abort", 0);
    abort();
}

NOINLINE void crash_assert(void)
{
    say("crash_assert", 0);
    assert(g_zero == 1);
}

NOINLINE void crash_divzero(void)
{
    say("crash_divzero", 0);
    volatile int x = g_one / g_zero;
    (void)x;
}

NOINLINE void crash_illegal(void)
{
    say("crash_illegal", 0);
#if defined(__aarch64__)
    __asm__ volatile("udf #0"); /* permanently undefined: SIGILL, ILL_ILLOPC */
#else
    __asm__ volatile("ud2");
#endif
}

NOINLINE void crash_trap(void)
{
    say("crash_trap", 0);
#if defined(__aarch64__)
    __asm__ volatile("brk #0"); /* SIGTRAP, as int3 */
#else
    __asm__ volatile("int3");
#endif
}

NOINLINE void crash_sigbus(void)
{
    char path[] = "/tmp/lastgasp-sigbus-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, 8192) != 0)
        exit(90);
    volatile char *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED || ftruncate(fd, 0) != 0)
        exit(91);
    unlink(path);
    say("crash_sigbus", (uintptr_t)(p + 4096));
    p[4096] = 1;
}

volatile int g_forever = 1;

NOINLINE int recurse_forever(int depth)
{
    volatile char pad[256];
    pad[0] = (char)depth;
    if (!g_forever) /* always true at run time; the compiler cannot know */
        return 0;
    return recurse_forever(depth + 1) + pad[0];
}

NOINLINE static void *thread_overflow_main(void *arg)
{
    (void)arg;
    say("recurse_forever", 0);
    recurse_forever(0);
    return 0;
}

static void run_in_thread(void *(*fn)(void *), size_t stack)
{
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    if (stack)
        pthread_attr_setstacksize(&a, stack);
    if (pthread_create(&t, &a, fn, 0) != 0)
        exit(92);
    pthread_join(t, 0);
}

NOINLINE static void *thread_crash_together(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&g_barrier);
    *g_null = 1;
    return 0;
}

static void crash_32_threads(void)
{
    enum { N = 32 };
    pthread_t t[N];
    pthread_barrier_init(&g_barrier, 0, N);
    fprintf(stderr, "crasher: tid=any expect=thread_crash_together addr=0x0\n");
    for (int i = 0; i < N; i++)
        pthread_create(&t[i], 0, thread_crash_together, 0);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], 0);
}

static volatile int g_parked;

static void *thread_park(void *arg)
{
    (void)arg;
    __atomic_fetch_add(&g_parked, 1, __ATOMIC_SEQ_CST);
    for (;;)
        pause();
    return 0;
}

static void start_parked_threads(int n)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 << 10);
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, &a, thread_park, 0) != 0)
            exit(93);
    }
    while (__atomic_load_n(&g_parked, __ATOMIC_SEQ_CST) < n)
        usleep(1000);
}

#ifdef __GLIBC__
/* Hold glibc's main-arena lock in another thread: malloc_stats() takes it and then writes to
 * stderr, which we point at a pipe nobody reads. */
static void *thread_hold_malloc_lock(void *arg)
{
    (void)arg;
    malloc_stats();
    return 0;
}

static volatile int g_try_malloc_go;

static void *thread_try_malloc(void *arg)
{
    volatile int *done = arg;
    while (!g_try_malloc_go)
        usleep(1000);
    void *p = malloc(64);
    *done = p != 0;
    return 0;
}

static void crash_holding_malloc_lock(void)
{
    mallopt(M_ARENA_MAX, 1); /* one arena for all threads, so the probe below meets the held lock */
    int p[2];
    if (pipe(p) != 0)
        exit(94);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    while (write(p[1], buf, sizeof buf) > 0)
        ;
    fcntl(p[1], F_SETFL, 0);
    FILE *full = fdopen(p[1], "w");
    setvbuf(full, 0, _IONBF, 0);
    FILE *real = stderr;
    stderr = full;
    /* Every thread exists before the lock is taken: creating one needs malloc too. */
    pthread_t holder, prober;
    static volatile int malloc_done;
    pthread_create(&prober, 0, thread_try_malloc, (void *)&malloc_done);
    pthread_create(&holder, 0, thread_hold_malloc_lock, 0);
    usleep(200000);
    g_try_malloc_go = 1;
    usleep(200000);
    stderr = real;
    fprintf(stderr, "crasher: malloc lock held=%d\n", !malloc_done);
    crash_null_write();
}
#else
/* musl: its malloc has no call that holds the allocator's lock while it blocks, and stderr is not
 * assignable; the scenario needs glibc (tests/crash/test_musl.py says so). */
static void crash_holding_malloc_lock(void)
{
    fprintf(stderr, "crasher: malloc_lock needs glibc\n");
    exit(95);
}
#endif

/* A thread that blocks every signal: it cannot answer the capture signal. */
static void *thread_deaf(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, 0);
    __atomic_fetch_add(&g_parked, 1, __ATOMIC_SEQ_CST);
    for (;;)
        pause();
    return 0;
}

/* Hold the dynamic loader's lock: dl_iterate_phdr keeps it while our callback sleeps. An unwinder
 * that finds its tables through dl_iterate_phdr (libunwind, libgcc) would wait for it forever. */
static int hold_in_callback(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)info;
    (void)size;
    (void)arg;
    __atomic_fetch_add(&g_parked, 1, __ATOMIC_SEQ_CST);
    for (;;)
        pause();
    return 0;
}

static void *thread_hold_loader_lock(void *arg)
{
    (void)arg;
    dl_iterate_phdr(hold_in_callback, 0);
    return 0;
}

static void crash_with_helper_thread(void *(*fn)(void *))
{
    pthread_t t;
    pthread_create(&t, 0, fn, 0);
    while (__atomic_load_n(&g_parked, __ATOMIC_SEQ_CST) < 1)
        usleep(1000);
    crash_null_write();
}

NOINLINE void crash_smashed_frames(void)
{
    /* Overwrite every saved frame pointer and return address above us with garbage. */
    volatile uintptr_t *fp = __builtin_frame_address(0);
    say("crash_smashed_frames", 0);
    for (int i = 0; i < 64; i++)
        fp[i] = (uintptr_t)0x4141414141414141ull;
    *g_null = 7;
}

static void user_segv_handler(int sig)
{
    static const char msg[] = "crasher: user handler ran\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    signal(sig, SIG_DFL); /* return: the fault repeats and the default action ends the process */
}

NOINLINE static void wait_for_kill(void)
{
    say("wait_for_kill", 0);
    for (int i = 0; i < 100; i++)
        usleep(100000);
    exit(95);
}

static void crash_in_forked_child(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        crash_null_write();
        _exit(96);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    fprintf(stderr, "crasher: child %d %s %d\n", (int)pid, WIFSIGNALED(st) ? "signal" : "exit",
            WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    exit(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? 0 : 97);
}

typedef int (*set_annotation_fn)(const char *, const char *);

/* Stands in for lastgasp_set_annotation when the crasher runs without lastgasp, so that it dies the same way. */
__attribute__((unused)) static int no_annotations(const char *key, const char *value)
{
    (void)key, (void)value;
    return 0;
}

/* lastgasp_set_annotation: linked, directly; preloaded, through dlsym; without lastgasp, a no-op. */
static set_annotation_fn annotation_setter(void)
{
#ifdef CRASHER_LINKED
    return lastgasp_set_annotation;
#else
    set_annotation_fn set = (set_annotation_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "lastgasp_set_annotation");
    return set ? set : no_annotations;
#endif
}

/* Set, replace and remove annotations, and check the API's refusals, before the crash. Linked, this runs
 * before lastgasp_install (the table needs no install); preloaded, the library installed itself already.
 * Prints "crasher: annotation errors OK" when every call returned what it should. */
static void set_annotations(void)
{
    set_annotation_fn set = annotation_setter();
    static char long_value[1024], long_key[65];
    memset(long_value, 'x', 1023);
    memset(long_key, 'k', 64);
    int rc = set("build", "1234");
    rc |= set("region", "eu-west-1");
    rc |= set("user", "caf\xc3\xa9");
    rc |= set("build", "5678");    /* replaced */
    rc |= set("region", NULL);     /* removed */
    rc |= set("long", long_value); /* the longest value */
    rc |= set("bytes", "a\xff" "b"); /* not UTF-8: stored as "a?b" */
    int refused = set("", "x") == 8 && set(long_key, "x") == 8; /* LASTGASP_ERR_ANNOTATION */
    fprintf(stderr, "crasher: annotation errors %s\n", rc == 0 && refused ? "OK" : "WRONG");
}

/* Threads that change an annotation without pause while the process crashes: the handler must copy the
 * table without their lock, and keep every annotation it could read whole. */
static volatile int g_annotating;

static void *thread_annotate_forever(void *arg)
{
    set_annotation_fn set = annotation_setter();
    char key[16], value[32];
    snprintf(key, sizeof key, "counter%d", (int)(intptr_t)arg);
    for (unsigned long i = 0;; i++) {
        snprintf(value, sizeof value, "%lu", i);
        set(key, value);
        if (i == 0)
            __atomic_add_fetch(&g_annotating, 1, __ATOMIC_SEQ_CST);
    }
    return 0;
}

static void crash_while_annotating(void)
{
    annotation_setter()("build", "5678");
    for (int i = 0; i < 2; i++) {
        pthread_t t;
        pthread_create(&t, 0, thread_annotate_forever, (void *)(intptr_t)i);
    }
    while (__atomic_load_n(&g_annotating, __ATOMIC_SEQ_CST) < 2) /* both counters exist */
        usleep(1000);
    usleep(10000);
    crash_null_write();
}

/* Deny process_vm_readv (EPERM), as container seccomp profiles do. */
static void deny_process_vm_readv(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        exit(98);
}

/* SIGSYS: a seccomp filter that traps getppid. */
NOINLINE void crash_sigsys(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        exit(98);
    say("crash_sigsys", 0);
    syscall(SYS_getppid);
}

#ifdef CRASHER_LINKED
static void install(void)
{
    if (lastgasp_install_from_env() != LASTGASP_OK && getenv("LASTGASP_DIR"))
        fprintf(stderr, "crasher: lastgasp_install failed\n");
}
#else
static void install(void) {}
#endif

/* Arm the malloc tripwire (tests/crash/tripwire.c): from here on, a malloc or a mutex lock
 * anywhere in this process ends it with exit status 77 and a TRIPWIRE line. */
static void arm_tripwire(void)
{
    void (*arm)(void) = (void (*)(void))(uintptr_t)dlsym(RTLD_DEFAULT, "tripwire_arm");
    if (!arm) {
        fprintf(stderr, "crasher: CRASHER_TRIPWIRE set but tripwire not loaded\n");
        exit(78);
    }
    arm();
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: crasher SCENARIO\n");
        return 2;
    }
    const char *s = argv[1];
    if (!strcmp(s, "user_handler"))
        signal(SIGSEGV, user_segv_handler); /* before lastgasp: it must still run */
    if (!strcmp(s, "memread_denied_at_install"))
        deny_process_vm_readv();
    if (!strcmp(s, "annotations"))
        set_annotations();
    install();
    if (!strcmp(s, "null_write") || !strcmp(s, "user_handler") || !strcmp(s, "memread_denied_at_install") ||
        !strcmp(s, "annotations"))
        crash_null_write();
    else if (!strcmp(s, "memread_denied_at_crash")) {
        deny_process_vm_readv();
        crash_null_write();
    } else if (!strcmp(s, "thread_null"))
        run_in_thread(thread_crash_main, 0);
    else if (!strcmp(s, "abort"))
        crash_abort();
    else if (!strcmp(s, "assert"))
        crash_assert();
    else if (!strcmp(s, "divzero"))
        crash_divzero();
    else if (!strcmp(s, "illegal"))
        crash_illegal();
    else if (!strcmp(s, "trap"))
        crash_trap();
    else if (!strcmp(s, "sigsys"))
        crash_sigsys();
    else if (!strcmp(s, "sigbus"))
        crash_sigbus();
    else if (!strcmp(s, "overflow_main")) {
        say("recurse_forever", 0);
        recurse_forever(0);
    } else if (!strcmp(s, "overflow_thread"))
        run_in_thread(thread_overflow_main, 64 << 10);
    else if (!strcmp(s, "threads32"))
        crash_32_threads();
    else if (!strcmp(s, "malloc_lock"))
        crash_holding_malloc_lock();
    else if (!strcmp(s, "smashed_frames"))
        crash_smashed_frames();
    else if (!strcmp(s, "kill"))
        wait_for_kill();
    else if (!strcmp(s, "fork_child"))
        crash_in_forked_child();
    else if (!strcmp(s, "threads500")) {
        start_parked_threads(500);
        crash_null_write();
    } else if (!strcmp(s, "threads1100")) {
        start_parked_threads(1100);
        crash_null_write();
    } else if (!strcmp(s, "deaf_thread")) {
        crash_with_helper_thread(thread_deaf);
    } else if (!strcmp(s, "annotations_busy")) {
        crash_while_annotating();
    } else if (!strcmp(s, "loader_lock")) {
        crash_with_helper_thread(thread_hold_loader_lock);
    } else if (!strcmp(s, "rmdir_then_crash")) {
        const char *d = getenv("CRASHER_RMDIR");
        if (!d || rmdir(d) != 0)
            exit(89);
        crash_null_write();
    } else if (!strcmp(s, "exit_normally")) {
        return 0;
    } else {
        fprintf(stderr, "crasher: unknown scenario %s\n", s);
        return 2;
    }
    return 99;
}
