/* handler.c — the fatal-signal handler: claim, pivot, report, then die as before.
 *
 * The crash pipeline (one fatal signal, the files that handle it; the source map is reporter/README.md):
 *
 *   kernel: SIGSEGV/BUS/FPE/ILL/ABRT/TRAP/SYS, on the thread's alternate stack
 *     -> rep_on_fatal_signal (here)
 *          Go runtime's own business? (go/go_exit.c) ---------> hand_to_go: the runtime panics or prints
 *          a vfork child? an earlier handler recovers? (chain.c) -> return / die as before, no report
 *          claim: the first crasher reports, later ones wait_for_reporter (bounded)
 *     -> ss_call_on_stack: the private stack (install/altstack.c reserved it)
 *     -> rep_report_isolated (isolate.c): a helper task runs the report; this thread waits, with a deadline
 *     -> rep_report (report.c), every phase under the watchdog (guard.c: REP_TOTAL_NS, guarded phases)
 *          preflight.c      the dump directory, spare fds, free space
 *          capture.c        stop the other threads (capture signal), take their registers
 *          unwind.c, <arch>/unwind_cfi.c, symbols.c, modules.c   stacks, names, build-ids
 *          go/go_capture.c, go_pcln.c, go_reason.c   goroutines, Go frames, the runtime's message
 *          annotate_read.c  the process annotations, copied without a lock
 *          formats/minidump/mdwrite.c   streams -> temp file -> published name -> one stderr line
 *     -> rep_finish (here): the one exit path, below; or rep_go_end (go/go_exit.c): exit 2 as Go would
 *
 * RULES (compromised context): no malloc, no stdio, no locks, no libc (sigsafe/ only), no lazy
 * binding (the library is linked -z now). errno is not touched: sigsafe returns -errno. Every wait
 * has a deadline. The entry frame runs on whatever stack the kernel chose (a 64 KiB alternate
 * stack, or Go's 32 KiB one) and uses under 1 KiB of it before pivoting to the private stack.
 *
 * Before the claim, two kinds of signal are not reports: in a Go program, those the runtime handles
 * itself (go_exit.c: its own faults become panics, SIGQUIT), and faults a handler that was there before
 * lastgasp recovers from (chain.c); a vfork child dies without touching the claim.
 *
 * The one exit path (rep_finish): put the previous disposition back, then either return (a fault
 * raised by the kernel re-executes the faulting instruction and meets the previous handler or the
 * default action, core dump included) or re-queue the same siginfo to this thread so the previous
 * handler or default action sees exactly what we saw. The one exception: a Go panic or fatal error
 * that only reached us through the crash bit lastgasp added ends in exit status 2, as the runtime
 * would have ended it (rep_go_end).
 */
#include "rep.h"

#include <signal.h>

struct rep_crash rep_c = {.timer_id = -1};

static int raised_by_kernel_fault(int sig, const siginfo_t *si)
{
    /* Faults re-execute the faulting instruction when the handler returns; traps (SIGTRAP after
     * int3, SIGSYS after a denied syscall) and anything sent by a process do not. */
    return si->si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL);
}

/* Put back the previous disposition of every fatal signal whose handler is still ours, so that
 * nothing the dying process does next (Go's crash path raises SIGABRT) enters lastgasp again.
 * The signal being handled is always put back: under LD_PRELOAD in a Go program the kernel holds
 * Go's handler, which forwarded the signal to us, and the previous disposition (the default) is
 * what ends the process with this signal. */
static void restore_dispositions(int sig, int keep_sig)
{
    for (int s = 1; s < REP_NSIG; s++) {
        struct ss_kaction cur;
        if (!rep_g.ours[s] || (s == sig && keep_sig))
            continue;
        if (s == sig || (ss_sigaction_raw(s, 0, &cur) == 0 && cur.handler == (void *)rep_on_fatal_signal))
            ss_sigaction_raw(s, &rep_g.prev[s], 0);
    }
}

/* The single exit path for every thread that entered the fatal handler. keep_sig: a handler that was there
 * before lastgasp already chose this signal's disposition (chain.c): leave it as it set it. */
static void rep_finish(int sig, siginfo_t *si, int keep_sig)
{
    restore_dispositions(sig, keep_sig);
    if (raised_by_kernel_fault(sig, si))
        return;
    if (ss_tgsigqueueinfo(ss_getpid(), ss_gettid(), sig, si) < 0)
        ss_tgkill(ss_getpid(), ss_gettid(), sig);
}

/* Runs on the private stack: the report, in a helper task or, failing that, here (isolate.c). The
 * crashing thread itself changes neither its alternate stack nor its mask unless the report runs here:
 * every system call it makes is one a sandbox could kill it for. */
static void on_private_stack(void *arg)
{
    (void)arg;
    rep_report_isolated();
}

/* A thread that crashed while another one reports: offer its context to the reporter, wait for
 * the report to end (bounded), then leave through rep_finish. */
static void wait_for_reporter(ucontext_t *uc)
{
    int k = __atomic_fetch_add(&rep_c.crasher_count, 1, __ATOMIC_SEQ_CST);
    if (k < REP_MAX_CRASHERS) {
        rep_c.crashers[k].uc = uc;
        __atomic_store_n(&rep_c.crashers[k].tid, ss_gettid(), __ATOMIC_RELEASE);
    }
    ss_futex_wait_set(&rep_c.done, REP_CRASHER_WAIT_NS);
}

/* Give a signal to the Go runtime's handler (go_exit.c decides when). Go's handler runs with every
 * signal blocked (it installs itself so); ours does not, so block them around the call. The context
 * it edits is the kernel's: our return resumes there. */
static void hand_to_go(int sig, siginfo_t *si, void *uc)
{
    uint64_t all = ~0ull, old;
    ss_sigprocmask(SIG_SETMASK, &all, &old);
    ((void (*)(int, siginfo_t *, void *))rep_g.prev[sig].handler)(sig, si, uc);
    ss_sigprocmask(SIG_SETMASK, &old, 0);
}

/* The fatal-signal handler, installed with SA_SIGINFO|SA_ONSTACK for the seven fatal signals. */
void rep_on_fatal_signal(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    int path = rep_go_path(sig, si, uc);
    if (path == REP_PATH_GO_HANDLES) {
        hand_to_go(sig, si, ucv);
        return;
    }
    if (path == REP_PATH_GO_QUIET) {
        int ours = rep_go_crash_bit_take();
        hand_to_go(sig, si, ucv); /* returns only if the runtime did not end the process */
        if (ours)
            rep_go_crash_bit_put_back();
        return;
    }
    /* Our own helper task (isolate.c) shares the handlers: a fault there is one inside the report (below). */
    int helper = rep_in_helper();
    if (!helper && rep_shared_memory_child()) { /* a vfork child: the claim would use up the parent's lastgasp */
        struct ss_kaction cur;
        if (ss_sigaction_raw(sig, 0, &cur) == 0 && cur.handler == (void *)rep_on_fatal_signal)
            ss_sigaction_raw(sig, &rep_g.prev[sig], 0);
        rep_finish(sig, si, 1);
        return;
    }
    int chain = helper ? REP_CHAIN_NONE : rep_chain_first(sig, si, ucv, (const void *)rep_on_fatal_signal);
    if (chain == REP_CHAIN_RECOVERED)
        return;
    int tid = ss_gettid();
    int expected = 0;
    if (!__atomic_compare_exchange_n(&rep_c.claim_tid, &expected, tid, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        if (expected == tid || helper) {
            /* Only a fault the kernel raised in our own code (si_code > 0: SEGV_*, BUS_*, SI_KERNEL,
             * SYS_SECCOMP...) is a fault inside the report; a kill -SEGV or -ABRT sent meanwhile is
             * not, and must not cut the report short: the process is dying already. */
            if (si->si_code <= 0)
                return;
            /* Leave the guarded phase if there is one; otherwise end the report: the helper ends
             * itself, and the crashing thread ends the process with the signal it was dying of. */
            if (rep_c.guard_active) {
                rep_c.guard_active = 0;
                rep_c.guard_fired = 1;
                ss_longjmp(rep_c.guard_jb, 1);
            }
            if (helper)
                ss_exit_thread(1);
            rep_die_now(rep_c.sig);
        }
        wait_for_reporter(uc);
        rep_finish(sig, si, 0);
        return;
    }
    rep_c.sig = sig;
    rep_c.pid = ss_getpid();
    rep_c.tid = tid;
    ss_memcpy(&rep_c.si, si, sizeof rep_c.si);
    rep_copy_context(&rep_c.uc, uc);
    /* Every signal blocked before the pivot, not after it: a signal delivered while this thread runs on the
     * private stack, which is not its alternate stack, is framed at the top of the alternate stack, over this
     * frame and the first signal's (the Go runtime's preemption signal did exactly that, and the process died
     * of SIGSEGV after a complete report). rep_report_isolated and the exit path rely on the saved mask. */
    uint64_t all = ~0ull;
    ss_sigprocmask(SIG_SETMASK, &all, &rep_c.entry_mask);
    ss_call_on_stack(on_private_stack, 0, rep_g.stack + 4096 + REP_HANDLER_STACK);
    ss_sigprocmask(SIG_SETMASK, &rep_c.entry_mask, 0); /* on the first stack again: see rep_report_isolated */
    /* A Go panic that reached us only through our crash bit ends here, as soon as the report is written, as
     * the runtime ends it right after printing (exit 2: no core, nothing to give back). */
    rep_go_end(path);
    /* The report's pages back to the kernel before the process dies (a memory cgroup near its limit). One
     * call beyond what dying needs on this thread: allocators call madvise everywhere, so no sandbox that
     * lets the program run denies it. */
    rep_give_back();
    __atomic_store_n(&rep_c.done, 1, __ATOMIC_RELEASE);
    ss_futex_wake(&rep_c.done, 1 << 30);
    rep_finish(sig, si, chain == REP_CHAIN_DYING);
}
