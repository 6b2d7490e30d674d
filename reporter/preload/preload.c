/* preload.c — the LD_PRELOAD entry: install from the environment before main. Built into
 * liblastgasp.so only: a program that links liblastgasp.a calls lastgasp_install() itself.
 *
 * Normal context. In a Go executable the constructor runs before the Go runtime starts; lastgasp then
 * prepares everything but its signal handlers, which go on top of the runtime's at its first thread
 * (rep_arm_after_go_nasync, from our pthread_create wrapper), so that the runtime sees the process as
 * it would without lastgasp. The environment is left as it is.
 */
#include "../rep.h"

#include <dlfcn.h>

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef void (*(*signal_fn)(int, void (*)(int)))(int);
/* libc's functions, looked up by the constructor: sigaction() is async-signal-safe and programs call it
 * from signal handlers, where dlsym (the loader's lock) must not run. */
static sigaction_fn real_sigaction;
static signal_fn real_signal;

static void resolve_nasync(void)
{
    if (!__atomic_load_n(&real_sigaction, __ATOMIC_ACQUIRE))
        __atomic_store_n(&real_sigaction, (sigaction_fn)dlsym(RTLD_NEXT, "sigaction"), __ATOMIC_RELEASE);
    if (!__atomic_load_n(&real_signal, __ATOMIC_ACQUIRE))
        __atomic_store_n(&real_signal, (signal_fn)dlsym(RTLD_NEXT, "signal"), __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void lastgasp_preload_nasync(void)
{
    resolve_nasync();
    rep_install_from_env_nasync(1);
}

/* In a Go program, the crash bit lastgasp adds makes the runtime end a panic with SIGABRT, which it
 * expects to catch. A SIGABRT handler the program installs later would get it instead (a C handler
 * that exits 0 would turn exit 2 into 0): when one is set, lastgasp takes its bit back, and panics
 * are then not dumped but end as without lastgasp. Preloaded only: the Go package cannot see such
 * calls (README, "Go programs"). */
static void sigabrt_changed_nasync(int sig, int changed)
{
    if (changed && sig == SIGABRT && rep_g.ours[SIGABRT] && rep_go_crash_bit_take())
        __atomic_store_n(&rep_g.go.crash_bit, REP_GO_CRASH_BIT_NONE, __ATOMIC_RELEASE);
}

/* Called before our constructor (by another library's), the lookup happens here, in normal context. */
__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!__atomic_load_n(&real_sigaction, __ATOMIC_ACQUIRE))
        resolve_nasync();
    int rc = real_sigaction(sig, act, old);
    sigabrt_changed_nasync(sig, rc == 0 && act && act->sa_sigaction != rep_on_fatal_signal);
    return rc;
}

__attribute__((visibility("default"))) void (*signal(int sig, void (*handler)(int)))(int)
{
    if (!__atomic_load_n(&real_signal, __ATOMIC_ACQUIRE))
        resolve_nasync();
    void (*prev)(int) = real_signal(sig, handler);
    sigabrt_changed_nasync(sig, prev != SIG_ERR);
    return prev;
}
