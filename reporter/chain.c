/* chain.c — faults a handler installed before lastgasp may recover from, and children that share our memory.
 *
 * RULES (compromised context): async-signal-safe, sigsafe/ only, no libc, no locks, no allocation; reads
 * rep_g (written at install) and rep_fork_pid.
 *
 * Recovering handlers (issue 9). Probe-and-recover code, JITs and garbage collectors install a SIGSEGV or
 * SIGBUS handler that fixes the cause (mprotect, a siglongjmp out of a probe) and lets the program go on. Such
 * a fault is not a crash: lastgasp gives a kernel-raised fault to a handler that was there before it first,
 * and reports only when that handler shows the process is dying:
 *   - it jumps out (siglongjmp): we never see the fault again: no report, lastgasp stays armed;
 *   - it returns and left everything as it was: it fixed the cause (mprotect) and the instruction runs
 *     again, or it did not and the fault repeats, forever, as it would without lastgasp: no report either
 *     way (a write barrier faults at the same place again and again, each time fixed);
 *   - it returns having changed the disposition (SIG_DFL, SA_RESETHAND) or with a fatal signal pending (it
 *     re-raised): it decided the process dies: report now, and leave its disposition as it set it.
 * A handler that ends the process itself (_exit, abort() is reported as SIGABRT) leaves no dump of the fault.
 *
 * Shared-memory children (vfork, posix_spawn's child, clone(CLONE_VM)): a fault there would write our
 * one-shot claim into memory the parent shares, and the parent's own crash would then find lastgasp used up.
 * Such a child is recognized by its pid: neither the process that installed lastgasp nor a child of fork(),
 * whose pid the atfork handler records. It gets no dump and dies of its signal as without lastgasp.
 */
#include "rep.h"

#include <signal.h>

/* Written by the atfork child handler (install.c), read by any thread's handler: the pid of this process
 * when fork() made it, 0 otherwise. */
volatile int rep_fork_pid;

static uint64_t bit(int sig) { return 1ull << (sig - 1); }

/* Handler path, any thread: is this a child that shares the parent's memory? */
int rep_shared_memory_child(void)
{
    int pid = ss_getpid();
    return pid != rep_g.install_pid && pid != __atomic_load_n(&rep_fork_pid, __ATOMIC_ACQUIRE);
}

static int earlier_handler(int sig, const siginfo_t *si)
{
    void *h = rep_g.prev[sig].handler;
    int fault = si->si_code > 0 && si->si_code < 0x80 /* SI_KERNEL is not a fault */ &&
                (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP);
    return fault && !rep_g.go_first[sig] && h != (void *)0 /* SIG_DFL */ && h != (void *)1 /* SIG_IGN */;
}

/* Handler path, the faulting thread, before the claim. Returns REP_CHAIN_NONE (report as usual),
 * REP_CHAIN_RECOVERED (the earlier handler ran and the process goes on: return) or REP_CHAIN_DYING (report
 * now, and leave the disposition the earlier handler chose). ours: lastgasp's handler, which the earlier one
 * replaced if it changed the disposition (passed in, so this file needs nothing of handler.c). */
int rep_chain_first(int sig, siginfo_t *si, void *uc, const void *ours)
{
    if (!earlier_handler(sig, si))
        return REP_CHAIN_NONE;
    const struct ss_kaction *p = &rep_g.prev[sig];
    if (p->flags & SA_RESETHAND) { /* the kernel would have reset it on delivery */
        struct ss_kaction dfl;
        ss_memset(&dfl, 0, sizeof dfl);
        ss_sigaction_raw(sig, &dfl, 0);
    }
    uint64_t block = p->mask | ((p->flags & SA_NODEFER) ? 0 : bit(sig)), old, pending_before = 0, pending = 0;
    ss_sigpending(&pending_before);
    ss_sigprocmask(SIG_BLOCK, &block, &old);
    if (p->flags & SA_SIGINFO)
        ((void (*)(int, siginfo_t *, void *))p->handler)(sig, si, uc);
    else
        ((void (*)(int))p->handler)(sig);
    ss_sigpending(&pending);
    ss_sigprocmask(SIG_SETMASK, &old, 0);

    struct ss_kaction now;
    int changed = ss_sigaction_raw(sig, 0, &now) == 0 && now.handler != ours;
    uint64_t fatal = bit(SIGSEGV) | bit(SIGBUS) | bit(SIGFPE) | bit(SIGILL) | bit(SIGABRT) | bit(SIGTRAP) |
                     bit(SIGSYS) | bit(SIGKILL) | bit(SIGTERM);
    if (changed || (pending & ~pending_before & fatal))
        return REP_CHAIN_DYING;
    return REP_CHAIN_RECOVERED;
}
