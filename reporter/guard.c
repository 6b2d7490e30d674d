/* guard.c — the report's deadlines: the watchdog timer, guarded phases, and the way out when time is up.
 *
 * RULES (compromised context): no malloc, no stdio, no locks, no libc (sigsafe/ only); errno is not touched.
 * A leaf of the handler path: it calls sigsafe/ only and reads the crash state (rep_c, rep_g), so every other
 * handler file may use it and it uses none of them. The whole report has REP_TOTAL_NS; a guarded phase (symbol
 * files, the Go walk) has its own budget, and a fault or overrun inside one abandons that phase alone.
 */
#include "rep.h"

#include <signal.h>

#define FATAL_MASK                                                                                           \
    ((1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)) | (1ull << (SIGFPE - 1)) | (1ull << (SIGILL - 1)) |     \
     (1ull << (SIGABRT - 1)) | (1ull << (SIGTRAP - 1)) | (1ull << (SIGSYS - 1)))

static uint64_t sigbit(int sig) { return 1ull << (sig - 1); }

/* Handler path, any task: is the caller the report's helper? */
int rep_in_helper(void)
{
    int h = __atomic_load_n(&rep_c.helper_tid, __ATOMIC_ACQUIRE);
    return h > 0 && ss_gettid() == h;
}

/* Handler path: lines for the dump's notes from before rep_report starts (the watchdog, the helper).
 * Written by the one reporting thread, or by the crashing thread before the helper exists. */
void rep_note_early_err(const char *what, long err)
{
    struct ss_str s = {rep_c.early_notes, sizeof rep_c.early_notes, 0};
    s.len = ss_strnlen(rep_c.early_notes, sizeof rep_c.early_notes - 1);
    ss_str_add(&s, what);
    if (err) {
        ss_str_add(&s, ": error ");
        ss_str_i64(&s, -err);
    }
    ss_str_add(&s, "\n");
}

void rep_note_early(const char *what) { rep_note_early_err(what, 0); }

/* Handler path, any thread: end the process with sig now, with no further reporting. */
void rep_die_now(int sig)
{
    struct ss_kaction dfl;
    ss_memset(&dfl, 0, sizeof dfl); /* SIG_DFL */
    ss_sigaction_raw(sig, &dfl, 0);
    uint64_t unblock = sigbit(sig);
    ss_sigprocmask(SIG_UNBLOCK, &unblock, 0);
    ss_tgkill(ss_getpid(), ss_gettid(), sig);
    ss_exit_group(128 + sig);
}

static void out_of_time(void) __attribute__((noreturn));

/* Handler path, reporting thread: (re)start the watchdog so it fires in ns, capped by the total
 * deadline. */
void rep_watchdog_arm(uint64_t ns)
{
    uint64_t now = ss_now_ns(1 /* CLOCK_MONOTONIC */);
    if (rep_c.timer_id < 0) {
        /* No timer: the clock, read at every phase boundary, is the deadline that is left. */
        if (rep_c.deadline_ns && now >= rep_c.deadline_ns)
            out_of_time();
        return;
    }
    uint64_t left = rep_c.deadline_ns > now ? rep_c.deadline_ns - now : 1;
    ss_timer_settime_ns(rep_c.timer_id, ns < left ? ns : left);
}

/* The whole report is out of time: say so without waiting on stderr, then end. The helper ends
 * itself (the crashing thread, waiting for it, then dies of its own signal); without a helper the
 * reporting thread is the crashing thread and dies now. */
static void out_of_time(void)
{
    static const char none[] = "lastgasp: the crash report ran out of time (4 s); the process ends now, "
                               "without a dump\n";
    static const char kept[] = "lastgasp: the crash report ran out of time (4 s) after writing its dump; the "
                               "process ends now\n";
    int k = __atomic_load_n(&rep_c.dump_kept, __ATOMIC_ACQUIRE);
    if (!rep_g.quiet)
        ss_write_nowait(2, k ? kept : none, k ? sizeof kept - 1 : sizeof none - 1);
    if (rep_in_helper())
        ss_exit_thread(1);
    rep_die_now(rep_c.sig);
}

/* Runs on whichever thread the watchdog signal reaches. Only lastgasp's own timer, firing on the
 * reporting thread, counts: another sender of this number (an application timer, a kill) is passed
 * to the handler that was there before the report, or dropped when there was none (the default, for
 * a real-time signal, would end the process, which is ending anyway). For ours: abandon the guarded
 * phase if one is running (symbol files on a stuck disk, a bug of ours), else the whole report is out
 * of time. */
static void on_watchdog(int sig, siginfo_t *si, void *uc)
{
    if (si->si_code != SI_TIMER || si->si_timerid != rep_c.timer_id || rep_c.timer_id < 0 ||
        ss_gettid() != rep_c.report_tid) {
        void *h = rep_c.watchdog_prev.handler;
        if (h != 0 && h != (void *)1 /* SIG_IGN */)
            ((void (*)(int, siginfo_t *, void *))h)(sig, si, uc);
        return;
    }
    if (rep_c.guard_active) {
        rep_c.guard_active = 0;
        rep_c.guard_fired = 2;
        ss_longjmp(rep_c.guard_jb, 2);
    }
    out_of_time();
}

/* Handler path, reporting thread: run fn(arg) so that a fault inside it, or a budget overrun,
 * abandons fn and returns here. Returns 0, 1 (faulted) or 2 (timed out). Not nestable. */
int rep_guard_run(void (*fn)(void *), void *arg, uint64_t budget_ns)
{
    uint64_t mask;
    ss_sigprocmask(SIG_BLOCK, 0, &mask);
    rep_c.guard_fired = 0;
    if (ss_setjmp(rep_c.guard_jb) == 0) {
        rep_watchdog_arm(budget_ns);
        __atomic_store_n(&rep_c.guard_active, 1, __ATOMIC_SEQ_CST);
        fn(arg);
        __atomic_store_n(&rep_c.guard_active, 0, __ATOMIC_SEQ_CST);
    }
    ss_sigprocmask(SIG_SETMASK, &mask, 0); /* the jump left a handler: its mask is still in force */
    rep_watchdog_arm(REP_TOTAL_NS);
    return rep_c.guard_fired;
}

/* Handler path, the thread that runs the report (helper or crashing thread): install the watchdog
 * signal's handler and a timer aimed at this thread. The handler is not SA_ONSTACK: it must land on
 * the stack the report runs on, not on the alternate stack that holds the first signal frame. When
 * the timer cannot be made (timer_create denied or failing), the deadline still holds: the crashing
 * thread's wait bounds a helper, and rep_watchdog_arm reads the clock at every phase. */
void rep_watchdog_start(void)
{
    struct ss_kaction ka;
    ss_memset(&ka, 0, sizeof ka);
    ka.handler = (void *)on_watchdog;
    ka.flags = SA_SIGINFO | rep_g.restorer_flag;
    ka.restorer = rep_g.restorer;
    ka.mask = ~0ull & ~(FATAL_MASK);
    rep_c.deadline_ns = ss_now_ns(1) + REP_TOTAL_NS;
    rep_c.report_tid = ss_gettid();
    rep_c.timer_id = -1;
    int sig = rep_c.watchdog_sig ? rep_c.watchdog_sig : REP_WATCHDOG_SIG;
    int r = rep_g.restorer_known ? ss_sigaction_raw(sig, &ka, &rep_c.watchdog_prev) : -22;
    if (r == 0) {
        int id = -1;
        r = ss_timer_create_tid(1, sig, rep_c.report_tid, &id);
        if (r == 0)
            rep_c.timer_id = id;
    }
    if (r < 0) {
        rep_note_early_err(rep_in_helper() ? "no watchdog timer: phases are not cut short; the crashing thread's "
                                             "deadline bounds the report"
                                           : "no watchdog timer: the report checks the clock between phases",
                           r);
        return;
    }
    rep_watchdog_arm(REP_TOTAL_NS);
    uint64_t unblock = sigbit(sig);
    ss_sigprocmask(SIG_UNBLOCK, &unblock, 0);
}

void rep_watchdog_stop(void)
{
    int sig = rep_c.watchdog_sig ? rep_c.watchdog_sig : REP_WATCHDOG_SIG;
    if (rep_c.timer_id >= 0) {
        ss_timer_delete(rep_c.timer_id);
        uint64_t block = sigbit(sig);
        ss_sigprocmask(SIG_BLOCK, &block, 0);
        ss_sigaction_raw(sig, &rep_c.watchdog_prev, 0);
    }
    rep_c.timer_id = -1;
}
