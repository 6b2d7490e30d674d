/* install.c — everything the handler will need, prepared in normal context.
 *
 * Install is a small state machine that rolls back: on any failure nothing stays installed (no
 * handler, no mapping, no fd) and the caller gets an error code. Functions here may use libc.
 */
#include "rep.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

struct rep_state rep_g = {.dir_fd = -1, .crash_text_fd = -1};

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
#define NFATAL (sizeof fatal_signals / sizeof fatal_signals[0])


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
    default: return "unknown error";
    }
}

/* libc sets its own restorer (__restore_rt) when we call sigaction(); the kernel hands it back in
 * the raw struct. The handler path needs it to install handlers with raw rt_sigaction. */
static void learn_restorer_nasync(void)
{
    struct sigaction sa, old;
    struct ss_kaction k;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    if (sigaction(REP_CAPTURE_SIG, &sa, &old) != 0)
        return;
    if (ss_sigaction_raw(REP_CAPTURE_SIG, 0, &k) == 0)
        rep_g.restorer = k.restorer;
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
}

int lastgasp_install(const struct lastgasp_options *opts)
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
    if (map_stacks_nasync() < 0) {
        err = LASTGASP_ERR_MEMORY;
        goto fail_dir;
    }
    if (ss_arena_init_nasync(&rep_g.arena, 16u << 20) < 0) {
        err = LASTGASP_ERR_MEMORY;
        goto fail_stacks;
    }
    learn_restorer_nasync();
    rep_go_install_nasync(&rep_g.go);
    rep_altstack_ensure_nasync();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = rep_on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NFATAL; i++) {
        int sig = fatal_signals[i];
        if (ss_sigaction_raw(sig, 0, &rep_g.prev[sig]) < 0 || sigaction(sig, &sa, 0) != 0) {
            saved_errno = errno;
            uninstall_signals_nasync(i);
            err = LASTGASP_ERR_SIGNALS;
            goto fail_arena;
        }
        rep_g.ours[sig] = 1;
        rep_g.go_first[sig] = is_go_handler_nasync(&rep_g.prev[sig]);
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
    close(rep_g.dir_fd);
    rep_g.dir_fd = -1;
    errno = saved_errno;
    return err;
}

static int env_flag_nasync(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

int lastgasp_install_from_env(void)
{
    struct lastgasp_options o;
    memset(&o, 0, sizeof o);
    o.dir = getenv("LASTGASP_DIR");
    o.include_environ = env_flag_nasync("LASTGASP_ENVIRON");
    o.quiet = env_flag_nasync("LASTGASP_QUIET");
    int err = lastgasp_install(&o);
    if (err == LASTGASP_ERR_NO_DIR) {
        fprintf(stderr, "lastgasp: LASTGASP_DIR is not set; crash dumps are off\n");
    } else if (err != LASTGASP_OK && err != LASTGASP_ERR_INSTALLED) {
        int e = errno;
        fprintf(stderr, "lastgasp: %s (%s%s%s): %s; crash dumps are off\n", lastgasp_strerror(err),
                o.dir ? "LASTGASP_DIR=" : "", o.dir ? o.dir : "", "", e ? strerror(e) : "no detail");
    }
    return err;
}
