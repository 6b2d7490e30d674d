/* capture.c — every other thread's registers, without ptrace.
 *
 * RULES (compromised context): async-signal-safe, sigsafe/ only, every wait has a deadline.
 *
 * The reporting thread (isolate.c: a helper task, or the crashing thread) lists the crashed
 * process's /proc/self/task, gives each thread a slot and sends it rep_c.capture_sig with tgkill.
 * Each thread's handler copies its own interrupted context into its slot, says so (release store + futex wake), and then waits, stopped, until the reporter has read
 * its stack (rep_release_threads) or a deadline passes. A thread that blocks the signal, or is
 * stuck in the kernel uninterruptibly, does not answer: the dump marks it LG_THREAD_NO_ANSWER.
 * The capture handler is installed only for the duration of a report (raw rt_sigaction with
 * libc's restorer learnt at install), so lastgasp holds no real-time signal in normal times.
 */
#include "rep.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define RELEASE_WAIT_NS 8000000000ull
static volatile int g_answered; /* futex: count of threads that have answered */
/* How many threads were signalled, published once all were (until then more than any count): only
 * the thread that completes the count wakes the reporter, which otherwise woke up for every answer
 * and took the CPU from the threads still answering. Written by the reporter, read by handlers. */
static volatile int g_asked = 1 << 30;
/* The slots' tids, contiguous (the reporter's list): a thread finds its slot by scanning these
 * ints, not the 1 KiB slots (a cache miss per slot, for every one of hundreds of threads).
 * Written before slot_count is published, read by handlers after they load it. */
static const int *g_tids;

static const ucontext_t *crasher_context(int tid)
{
    int n = __atomic_load_n(&rep_c.crasher_count, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n && i < REP_MAX_CRASHERS; i++)
        if (__atomic_load_n(&rep_c.crashers[i].tid, __ATOMIC_ACQUIRE) == tid)
            return rep_c.crashers[i].uc;
    return 0;
}

/* The calling thread's name, the same 16 bytes as /proc/self/task/TID/comm: one syscall in the
 * thread itself, where the reporter opened, read and closed a procfs file for every thread (a
 * seventh of a report with hundreds of threads). "" when the call fails. Handler path, any thread. */
static void own_name(char name[16])
{
    if (ss_sys(SYS_prctl, PR_GET_NAME, (long)name, 0, 0, 0, 0) < 0)
        name[0] = 0;
    name[15] = 0;
}

/* Handler path, on every thread the reporter signals. */
void rep_capture_signal_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    if (si->si_code != SI_TKILL || si->si_pid != rep_c.report_pid)
        return; /* not sent by our reporter (the helper task, or the crashing thread) */
    int tid = ss_gettid();
    struct rep_slot *slot = 0;
    int n = __atomic_load_n(&rep_c.slot_count, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++) {
        if (g_tids[i] == tid) {
            slot = &rep_c.slots[i];
            break;
        }
    }
    if (!slot || slot->state)
        return;
    /* A thread that crashed too and waits in the fatal handler hands over its fault context. */
    const ucontext_t *fault = crasher_context(tid);
    rep_copy_context(&slot->uc, fault ? fault : (const ucontext_t *)ucv);
    slot->fs_base = ss_thread_pointer();
    own_name(slot->name);
    __atomic_store_n(&slot->state, 1, __ATOMIC_RELEASE);
    if (__atomic_add_fetch(&g_answered, 1, __ATOMIC_SEQ_CST) >= __atomic_load_n(&g_asked, __ATOMIC_SEQ_CST))
        ss_futex_wake(&g_answered, 1);
    ss_futex_wait_set(&rep_c.release, RELEASE_WAIT_NS);
}

/* Handler path, reporting thread: fill rep_c.slots for tids[0..count) (the reporter's own slot is
 * filled from the crash context) and wait for answers until budget_ns. Returns how many answered. */
int rep_capture_threads(int *tids, int count, uint64_t budget_ns)
{
    struct ss_kaction ka;
    ss_memset(&ka, 0, sizeof ka);
    ka.handler = (void *)rep_capture_signal_handler;
    ka.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART | rep_g.restorer_flag;
    ka.restorer = rep_g.restorer;
    ka.mask = ~0ull;
    if (!rep_g.restorer_known || ss_sigaction_raw(rep_c.capture_sig, &ka, 0) < 0)
        return 0;
    for (int i = 0; i < count; i++) {
        rep_c.slots[i].tid = tids[i];
        rep_c.slots[i].state = 0;
    }
    g_tids = tids;
    __atomic_store_n(&g_asked, 1 << 30, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_answered, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&rep_c.slot_count, count, __ATOMIC_RELEASE);
    int asked = 0;
    for (int i = 0; i < count; i++) {
        if (tids[i] == rep_c.tid) {
            rep_copy_context(&rep_c.slots[i].uc, &rep_c.uc);
            rep_c.slots[i].fs_base = ss_thread_pointer();
            own_name(rep_c.slots[i].name);
            rep_c.slots[i].state = 1;
            continue;
        }
        if (ss_tgkill(rep_c.pid, tids[i], rep_c.capture_sig) == 0)
            asked++;
        else
            rep_c.slots[i].state = -1; /* gone */
    }
    /* Seq-cst store then load here, add then load in the handler: either the last thread sees
     * the count published and wakes us, or we see its answer before waiting. */
    __atomic_store_n(&g_asked, asked, __ATOMIC_SEQ_CST);
    uint64_t end = ss_now_ns(1) + budget_ns;
    for (int i = 0; i < 10000; i++) {
        int got = __atomic_load_n(&g_answered, __ATOMIC_ACQUIRE);
        uint64_t now = ss_now_ns(1);
        if (got >= asked || now >= end)
            break;
        ss_futex_wait(&g_answered, got, end - now < 10000000u ? end - now : 10000000u);
    }
    return __atomic_load_n(&g_answered, __ATOMIC_ACQUIRE);
}

/* Handler path, reporting thread: let captured threads return from the capture handler. */
void rep_release_threads(void)
{
    __atomic_store_n(&rep_c.release, 1, __ATOMIC_RELEASE);
    ss_futex_wake(&rep_c.release, 1 << 30);
}
