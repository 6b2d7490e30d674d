/* install.c — everything the handler will need, prepared in normal context.
 *
 * Install is a small state machine that rolls back: on any failure nothing stays installed (no
 * handler, no mapping, no fd) and the caller gets an error code. Functions here may use libc.
 */
#include "../rep.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

struct rep_state rep_g = {.dir_fd = -1, .dir_id = {.fd = -1}, .reserve = {{.fd = -1}, {.fd = -1}},
                          .secure_dir_id = {.fd = -1},
                          .crash_text_fd = -1, .crash_text_id = {.fd = -1}};

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
#define NFATAL (sizeof fatal_signals / sizeof fatal_signals[0])

const char *lastgasp_version(void)
{
    return LASTGASP_VERSION;
}

const char *lastgasp_strerror(int err)
{
    switch (err) {
    case LASTGASP_OK: return "success";
    case LASTGASP_ERR_NO_DIR: return "no dump directory given";
    case LASTGASP_ERR_DIR: return "the dump directory cannot be opened";
    case LASTGASP_ERR_DIR_WRITE: return "the dump directory is not writable";
    case LASTGASP_ERR_MEMORY: return "cannot reserve memory for the crash handler";
    case LASTGASP_ERR_SIGNALS: return "cannot install signal handlers";
    case LASTGASP_ERR_MEMREAD: return "no fault-tolerant memory read works in this process";
    case LASTGASP_ERR_INSTALLED: return "lastgasp is already installed";
    case LASTGASP_ERR_ANNOTATION: return "annotation key empty or too long, or value too long";
    case LASTGASP_ERR_ANNOTATION_FULL: return "too many annotations";
    case LASTGASP_ERR_SECURE: return "secure-execution mode: the environment is not trusted";
    default: return "unknown error";
    }
}

/* libc sets its own restorer (__restore_rt) when we call sigaction(); the kernel hands it back in
 * the raw struct. The handler path needs it to install handlers with raw rt_sigaction. glibc and musl
 * on aarch64 set none: the kernel returns through the vdso's __kernel_rt_sigreturn, and so do we. */
static void learn_restorer_nasync(void)
{
    struct sigaction sa, old;
    struct ss_kaction k;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    if (sigaction(REP_CAPTURE_SIG, &sa, &old) != 0)
        return;
    if (ss_sigaction_raw(REP_CAPTURE_SIG, 0, &k) == 0) {
        rep_g.restorer_flag = k.flags & SA_RESTORER;
        rep_g.restorer = rep_g.restorer_flag ? k.restorer : 0;
        rep_g.restorer_known = !rep_g.restorer_flag || rep_g.restorer;
    }
    sigaction(REP_CAPTURE_SIG, &old, 0);
}

/* Is a seccomp filter (or strict mode) in force? A filter may kill the process for any system call
 * it does not expect, before main when we are preloaded; reading this file uses only what the dynamic
 * loader itself used to load us (openat, read, close). When one is, install leaves out what such
 * filters are known to lack (process_vm_readv and pipe2 in the memory-read probe, faccessat2): the
 * probe runs at crash time in the report's helper task, where a kill ends only that task. */
static int seccomp_on_nasync(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *p = strstr(buf, "\nSeccomp:");
    return p && strtol(p + 9, 0, 10) != 0;
}

static int map_stacks_nasync(void)
{
    /* [guard][handler stack][guard][nested altstack] */
    size_t total = 4096 + REP_HANDLER_STACK + 4096 + REP_NESTED_ALTSTACK;
    uint8_t *p = mmap(0, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    mprotect(p, 4096, PROT_NONE);
    mprotect(p + 4096 + REP_HANDLER_STACK, 4096, PROT_NONE);
    rep_g.stack = p;
    rep_g.nested_altstack = p + 4096 + REP_HANDLER_STACK + 4096;
    return 0;
}

static void unmap_stacks_nasync(void)
{
    if (rep_g.stack)
        munmap(rep_g.stack, 4096 + REP_HANDLER_STACK + 4096 + REP_NESTED_ALTSTACK);
    rep_g.stack = 0;
}

static int memread_choice_nasync(void)
{
    const char *m = getenv("LASTGASP_MEMREAD"); /* tests force a method with this */
    if (!m || !*m)
        return 0;
    if (!strcmp(m, "vm"))
        return SS_MEMREAD_VM;
    if (!strcmp(m, "procmem"))
        return SS_MEMREAD_PROCMEM;
    if (!strcmp(m, "pipe"))
        return SS_MEMREAD_PIPE;
    return 0;
}

/* Installed after the Go runtime (goshim's Install), the previous handler is Go's: its code lies
 * in the Go text. The handler hands Go's own faults back to it (see go_handles in handler.c). */
static int is_go_handler_nasync(const struct ss_kaction *k)
{
    uint64_t h = (uint64_t)(uintptr_t)k->handler;
    return rep_g.go.pcln.maxpc && (k->flags & SA_SIGINFO) && h >= rep_g.go.pcln.minpc && h < rep_g.go.pcln.maxpc;
}

/* A memory file the Go runtime copies its crash output to (debug.SetCrashOutput, set by the goshim
 * package); the handler reads it back into the dump. Returns the fd (kept for the process's life)
 * or -errno. A memfd never blocks the writer, unlike a pipe, and costs nothing until written. */
int rep_crash_text_fd_nasync(void)
{
    if (rep_g.crash_text_fd >= 0)
        return rep_g.crash_text_fd;
    int fd = memfd_create("lastgasp-go-crash-output", MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    rep_g.crash_text_fd = fd;
    ss_fdid_take(&rep_g.crash_text_id, fd);
    return fd;
}

static void uninstall_signals_nasync(size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int sig = fatal_signals[i];
        if (rep_g.ours[sig])
            ss_sigaction_raw(sig, &rep_g.prev[sig], 0);
        rep_g.ours[sig] = 0;
    }
    if (rep_g.ours[SIGQUIT])
        ss_sigaction_raw(SIGQUIT, &rep_g.prev[SIGQUIT], 0);
    rep_g.ours[SIGQUIT] = 0;
}

/* In the child of fork() (not vfork: no atfork handler runs there): this process has memory of its own, so a
 * crash here is reported (chain.c). Async-signal-safe: fork() in a threaded program leaves only that. */
static void after_fork_in_child_nasync(void) { __atomic_store_n(&rep_fork_pid, ss_getpid(), __ATOMIC_RELEASE); }

/* Put lastgasp's handler on every fatal signal, remembering what was there. All or nothing. */
static int install_signals_nasync(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = rep_on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NFATAL; i++) {
        int sig = fatal_signals[i];
        if (ss_sigaction_raw(sig, 0, &rep_g.prev[sig]) < 0 || sigaction(sig, &sa, 0) != 0) {
            int saved_errno = errno;
            uninstall_signals_nasync(i);
            errno = saved_errno;
            return -1;
        }
        rep_g.ours[sig] = 1;
        rep_g.go_first[sig] = is_go_handler_nasync(&rep_g.prev[sig]);
    }
    /* On top of the Go runtime, SIGQUIT too: our crash bit must not change what it does (go_exit.c). */
    if (rep_g.go_first[SIGSEGV] && ss_sigaction_raw(SIGQUIT, 0, &rep_g.prev[SIGQUIT]) == 0 &&
        is_go_handler_nasync(&rep_g.prev[SIGQUIT]) && sigaction(SIGQUIT, &sa, 0) == 0) {
        rep_g.ours[SIGQUIT] = 1;
        rep_g.go_first[SIGQUIT] = 1;
    }
    return 0;
}

/* Install; with after_go (the LD_PRELOAD constructor) in a Go executable, everything but the signal
 * handlers, which rep_arm_after_go_nasync puts on top of the runtime's once it has installed them. */
static int install_nasync(const struct lastgasp_options *opts, int after_go)
{
    int err = LASTGASP_OK, saved_errno = 0;
    if (rep_g.installed)
        return LASTGASP_ERR_INSTALLED;
    if (!opts || !opts->dir || !opts->dir[0])
        return LASTGASP_ERR_NO_DIR;
    rep_g.dir_fd = open(opts->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rep_g.dir_fd < 0)
        return LASTGASP_ERR_DIR;
    int sandboxed = seccomp_on_nasync();
    if (!sandboxed && faccessat(rep_g.dir_fd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
        err = LASTGASP_ERR_DIR_WRITE;
        goto fail_dir;
    }
    snprintf(rep_g.dir_path, sizeof rep_g.dir_path, "%s", opts->dir);
    rep_g.include_environ = opts->include_environ;
    rep_g.quiet = opts->quiet;
    rep_g.install_pid = getpid();
    rep_g.at_phdr = getauxval(AT_PHDR);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    rep_g.cpu_count = ncpu > 0 ? (uint32_t)ncpu : 1;
    if (!sandboxed && ss_memread_init(memread_choice_nasync()) < 0) {
        err = LASTGASP_ERR_MEMREAD;
        goto fail_dir;
    }
    rep_exclude_secrets_nasync();
    rep_fds_prepare_nasync();
    rep_secure_dir_prepare_nasync();
    if (map_stacks_nasync() < 0) {
        err = LASTGASP_ERR_MEMORY;
        goto fail_dir;
    }
    if (ss_arena_init_nasync(&rep_g.arena, 16u << 20) < 0) {
        err = LASTGASP_ERR_MEMORY;
        goto fail_stacks;
    }
    learn_restorer_nasync();
    static int atfork_done;
    if (!atfork_done)
        atfork_done = pthread_atfork(0, 0, after_fork_in_child_nasync) == 0;
    rep_go_install_nasync(&rep_g.go);
    rep_altstack_ensure_nasync();
    if (after_go && rep_g.go.pcln.maxpc) {
        __atomic_store_n(&rep_g.arm_pending, 1, __ATOMIC_RELEASE);
    } else if (install_signals_nasync() < 0) {
        saved_errno = errno;
        err = LASTGASP_ERR_SIGNALS;
        goto fail_arena;
    }
    rep_g.installed = 1;
    return LASTGASP_OK;

fail_arena:
    munmap(rep_g.arena.base, rep_g.arena.size);
    rep_g.arena.base = 0;
fail_stacks:
    unmap_stacks_nasync();
fail_dir:
    saved_errno = saved_errno ? saved_errno : errno;
    rep_fds_release_nasync();
    rep_secure_dir_release_nasync();
    close(rep_g.dir_fd);
    rep_g.dir_fd = -1;
    errno = saved_errno;
    return err;
}

int lastgasp_install(const struct lastgasp_options *opts) { return install_nasync(opts, 0); }

/* The goshim package, after lastgasp_install (the runtime is running, GOTRACEBACK parsed). */
int rep_arm_crash_bit_nasync(int keep)
{
    rep_g.keep_traceback = keep;
    return rep_go_crash_bit_arm_nasync(&rep_g.go, keep);
}

/* Preloaded into a Go executable: called by our pthread_create wrapper until the runtime has installed
 * its signal handlers (initsig, after it parsed GOTRACEBACK, before its first thread and before any
 * user code). Then lastgasp goes on top of them, as the goshim package does, so the runtime holds no
 * handler of ours (its forwarding table stays as without lastgasp), and adds the crash bit. One
 * rt_sigaction per thread creation until then; a program whose runtime never installs a SIGSEGV
 * handler is never armed. */
void rep_arm_after_go_nasync(void)
{
    struct ss_kaction k;
    if (ss_sigaction_raw(SIGSEGV, 0, &k) < 0 || !is_go_handler_nasync(&k))
        return;
    if (!__atomic_exchange_n(&rep_g.arm_pending, 0, __ATOMIC_ACQ_REL))
        return; /* another thread armed it */
    if (install_signals_nasync() < 0) {
        fprintf(stderr, "lastgasp: cannot install signal handlers after the Go runtime's: %s; crash dumps are off\n",
                strerror(errno));
        return;
    }
    rep_go_crash_bit_arm_nasync(&rep_g.go, rep_g.keep_traceback);
}

static int env_flag_nasync(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

int lastgasp_install_from_env(void) { return rep_install_from_env_nasync(0); }

int rep_install_from_env_nasync(int after_go)
{
    /* setuid, setgid or file capabilities: the environment is the unprivileged caller's, who must not
     * choose where a privileged process writes (nor read what it held). As the loader does with LD_*. */
    struct lastgasp_options o;
    if (getauxval(AT_SECURE)) {
        static char dir[256];
        if (rep_secure_dir_nasync(dir, sizeof dir) != 0) {
            fprintf(stderr, "lastgasp: secure-execution mode (setuid, setgid or capabilities): LASTGASP_* "
                            "ignored; crash dumps are off (no secure_dir in %s)\n", REP_CONF_PATH);
            return LASTGASP_ERR_SECURE;
        }
        fprintf(stderr, "lastgasp: secure-execution mode (setuid, setgid or capabilities): LASTGASP_* "
                        "ignored; dumps go to secure_dir %s (%s)\n", dir, REP_CONF_PATH);
        memset(&o, 0, sizeof o);
        o.dir = dir;
        return lastgasp_install(&o);
    }
    memset(&o, 0, sizeof o);
    o.dir = getenv("LASTGASP_DIR");
    o.include_environ = env_flag_nasync("LASTGASP_ENVIRON");
    o.quiet = env_flag_nasync("LASTGASP_QUIET");
    rep_g.keep_traceback = env_flag_nasync("LASTGASP_KEEP_TRACEBACK");
    int err = install_nasync(&o, after_go);
    if (err == LASTGASP_ERR_NO_DIR) {
        fprintf(stderr, "lastgasp: LASTGASP_DIR is not set; crash dumps are off\n");
    } else if (err != LASTGASP_OK && err != LASTGASP_ERR_INSTALLED) {
        int e = errno;
        char dir[2048];
        fprintf(stderr, "lastgasp: %s (%s%s%s): %s; crash dumps are off\n", lastgasp_strerror(err),
                o.dir ? "LASTGASP_DIR=" : "", o.dir ? rep_escape_nasync(dir, sizeof dir, o.dir) : "", "",
                e ? strerror(e) : "no detail");
    }
    return err;
}
