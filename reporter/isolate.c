/* isolate.c — run the report where it cannot take the process's death with it.
 *
 * RULES (compromised context): no malloc, no stdio, no locks, no libc (sigsafe/ only). Every wait
 * has a deadline, and the deadline does not rest on one system call: futex waits are counted in
 * slices, and if futex itself fails the slices are slept with nanosleep instead.
 *
 * Why a helper. A seccomp filter may kill a thread (SECCOMP_RET_KILL_THREAD) or the whole thread
 * group (KILL_PROCESS) for any system call the report makes (openat, uname, process_vm_readv...),
 * and a stalled log reader or a page that never arrives (userfaultfd) may block one for ever. If the
 * crashing thread made those calls itself, the first would leave the process alive without the
 * thread that was meant to end it, the second would turn its death into SIGSYS, the third would
 * hang it. So the crashing thread makes only calls it needs to die anyway (rt_sigprocmask,
 * rt_sigaction, tgkill, futex, clone; nanosleep if futex fails) and hands the report to a helper: a task created with
 * CLONE_VM|CLONE_FILES|CLONE_SIGHAND but not CLONE_THREAD, a thread group of its own that shares
 * the memory, the descriptors and the handlers. A kill, a SIGPIPE or a core limit in the helper ends
 * only the helper; the crashing thread waits for it with a deadline (the kernel clears and wakes
 * rep_c.helper_tid when it is gone, however it ends), kills it if it overruns, and goes on to die of
 * its own signal. The helper reads "/proc/self" as the crashed process (ss_proc_self_pid), its own
 * memory for the crashed process's (the same mm: no ptrace check), and sends the capture signal
 * to the crashed process's threads, which accept it from rep_c.report_pid.
 *
 * When no helper can be made (clone denied or out of pids), the report runs on the crashing thread
 * as before, under the watchdog timer and the clock checks of rep_watchdog_arm.
 *
 * Stacks: the top REP_CRASHER_STACK of the private stack stays the crashing thread's; below it a
 * small one for the messenger (the helper that prints the time-out line), then the helper's.
 */
#include "rep.h"

#include <signal.h>

#define REP_CRASHER_STACK (32u << 10)
#define REP_MESSENGER_STACK (16u << 10)
#define HELPER_SLICE_NS 100000000ull            /* one futex wait */
#define HELPER_SLICES 44                        /* the helper's whole time: 4.4 s, above its own 4 s */
#define HELPER_KILL_SLICES 3                    /* after SIGKILL, for it to be gone */
#define MESSENGER_SLICES 2
#define CLONE_FLAGS                                                                                          \
    (0x00000100 /* CLONE_VM */ | 0x00000200 /* CLONE_FS */ | 0x00000400 /* CLONE_FILES */ |                   \
     0x00000800 /* CLONE_SIGHAND */ | 0x00100000 /* CLONE_PARENT_SETTID */ |                                 \
     0x00200000 /* CLONE_CHILD_CLEARTID */ | 0x00800000 /* CLONE_UNTRACED */)
/* exit signal 0: the application's SIGCHLD handler and wait(-1) never see the helper */

static const uint64_t iso_fatal = (1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)) | (1ull << (SIGFPE - 1)) |
                                  (1ull << (SIGILL - 1)) | (1ull << (SIGABRT - 1)) | (1ull << (SIGTRAP - 1)) |
                                  (1ull << (SIGSYS - 1));

static volatile int iso_messenger_tid; /* futex, cleared by the kernel when the messenger is gone */

/* Handler path, crashing thread: wait until the task whose id is in *word is gone, at most slices
 * of HELPER_SLICE_NS. Returns 1 if it is gone. */
static int iso_wait_gone(volatile int *word, int slices)
{
    for (int i = 0; i < slices; i++) {
        int v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
        if (v == 0)
            return 1;
        int r = ss_futex_wait(word, v, HELPER_SLICE_NS);
        if (r < 0 && r != -110 /* ETIMEDOUT */ && r != -11 /* EAGAIN */ && r != -4 /* EINTR */)
            ss_nanosleep_ns(HELPER_SLICE_NS); /* futex denied: the deadline still holds */
    }
    return __atomic_load_n(word, __ATOMIC_ACQUIRE) == 0;
}

/* Handler path: the helper's body. Never returns into the crashed thread's frames: ss_clone_run
 * exits the task when this returns. */
static void iso_helper_main(void *arg)
{
    (void)arg;
    ss_set_core_limit(1); /* 1, not 0: a core_pattern pipe ignores 0 but honours 1 (no core) */
    int me = ss_getpid();
    rep_c.report_pid = me;
    /* /proc/PID names the crashed process only if /proc belongs to our pid namespace: check that
     * /proc/self there is the pid we know ourselves by. */
    char self[24];
    ssize_t n = ss_readlink("/proc/self", self, sizeof self - 1);
    uint64_t seen = 0;
    if (n > 0 && ss_parse_u64(self, (size_t)n, &seen) == (size_t)n && seen == (uint64_t)me)
        ss_proc_self_pid = rep_c.pid;
    else
        rep_note_early("/proc is another pid namespace's: the helper reads its own /proc/self");
    /* The memory read's fds: still ours (a daemon may have closed them and reused the numbers), and this
     * task's own (its pid differs). Before any read. */
    ss_memread_recheck();
    if (ss_memread_method() == SS_MEMREAD_NONE || rep_c.pid != rep_g.install_pid)
        ss_memread_init(0); /* deferred at install (seccomp), or a forked child */
    ss_memread_target(me);
    stack_t nested = {rep_g.nested_altstack, 0, REP_NESTED_ALTSTACK};
    ss_sigaltstack(&nested, 0);
    uint64_t mask = ~iso_fatal;
    ss_sigprocmask(SIG_SETMASK, &mask, 0);
    rep_watchdog_start();
    rep_report(0);
    rep_watchdog_stop();
}

static void iso_messenger_main(void *arg)
{
    const char *msg = arg;
    ss_set_core_limit(1);
    ss_write_nowait(2, msg, ss_strlen(msg));
}

/* Handler path, crashing thread: print msg from a task of its own, waited for briefly. */
static void iso_say(const char *msg)
{
    if (rep_g.quiet)
        return;
    uint8_t *top = rep_g.stack + 4096 + REP_HANDLER_STACK - REP_CRASHER_STACK;
    iso_messenger_tid = 0;
    long pid = ss_clone_run(CLONE_FLAGS, top, &iso_messenger_tid, iso_messenger_main, (void *)msg);
    if (pid > 0 && !iso_wait_gone(&iso_messenger_tid, MESSENGER_SLICES))
        ss_tgkill((int)pid, (int)pid, SIGKILL);
}

/* Handler path, crashing thread, on the private stack, entered with every signal blocked (the handler blocks
 * them before the pivot and keeps the entry mask in rep_c.entry_mask). Runs the report in the helper, or here
 * when no helper can be made, and returns when it is over, with every signal blocked (see the end). */
void rep_report_isolated(void)
{
    uint64_t all = ~0ull;
    rep_pick_signals();
    rep_c.report_pid = rep_c.pid;
    uint8_t *top = rep_g.stack + 4096 + REP_HANDLER_STACK - REP_CRASHER_STACK - REP_MESSENGER_STACK;
    rep_c.helper_tid = 0;
    long pid = ss_clone_run(CLONE_FLAGS, top, &rep_c.helper_tid, iso_helper_main, 0);
    if (pid < 0) {
        rep_note_early_err("no helper task for the report (clone failed): it ran on the crashing thread",
                           pid);
        /* Nested faults go to an alternate stack of their own, away from the first signal frame. */
        stack_t old, nested = {rep_g.nested_altstack, 0, REP_NESTED_ALTSTACK};
        int have_old = ss_sigaltstack(&nested, &old) == 0;
        uint64_t mask = ~iso_fatal; /* SIGPIPE and the rest stay blocked: only faults and the watchdog */
        ss_sigprocmask(SIG_SETMASK, &mask, 0);
        ss_memread_recheck(); /* the fds still ours: a daemon may have closed them and reused the numbers */
        if (rep_c.pid != rep_g.install_pid || ss_memread_method() == SS_MEMREAD_NONE)
            ss_memread_init(ss_memread_method()); /* a forked child, or deferred at install (seccomp) */
        rep_watchdog_start();
        rep_report(0);
        rep_watchdog_stop();
        ss_sigprocmask(SIG_SETMASK, &all, 0);
        if (have_old)
            ss_sigaltstack(&old, 0);
    } else if (!iso_wait_gone(&rep_c.helper_tid, HELPER_SLICES)) {
        ss_tgkill((int)pid, (int)pid, SIGKILL);
        iso_wait_gone(&rep_c.helper_tid, HELPER_KILL_SLICES); /* a task stuck in the kernel may stay */
        iso_say(__atomic_load_n(&rep_c.dump_kept, __ATOMIC_ACQUIRE)
                    ? "lastgasp: the crash report ran out of time after writing its dump; the process ends now\n"
                    : "lastgasp: the crash report ran out of time; the process ends now, without a complete dump\n");
    }
    rep_release_threads(); /* the helper may have ended before letting captured threads go */
    /* Every signal stays blocked until the handler is back on its first stack (rep_on_fatal_signal puts
     * rep_c.entry_mask back there): one that arrived meanwhile, delivered here, on the private stack,
     * would be framed at the top of the alternate stack, over the first signal's frame. */
}

/* Can signal s be sent at all? qemu-user keeps the guest's top real-time signals for itself: their
 * disposition reads as default and can be set, but tgkill and timer_create refuse them (EINVAL). One
 * sent to this thread while every signal is blocked (rep_report_isolated blocks them first) stays
 * pending, and is taken back at once. */
static int iso_signal_sendable(int s)
{
    if (ss_tgkill(ss_getpid(), ss_gettid(), s) < 0)
        return 0;
    ss_sigtake(s);
    return 1;
}

/* Handler path, crashing thread, every signal blocked: choose the capture and watchdog signals among the
 * real-time ones nobody has a handler for now (the application may have taken SIGRTMAX-1 for its own
 * timers since install) and that can be sent, from SIGRTMAX down; glibc keeps 32 and 33, and 34 is
 * SIGRTMIN. When fewer than two are free (the Go runtime holds a handler for every signal), the first
 * sendable ones from SIGRTMAX down, taken or not: SIGRTMAX and SIGRTMAX-1 on a kernel, lower ones under
 * qemu-user. The handlers check who sent what they get either way. */
void rep_pick_signals(void)
{
    int found[2] = {0, 0}, k = 0;
    for (int s = 64; s >= 35 && k < 2; s--) {
        struct ss_kaction cur;
        if (ss_sigaction_raw(s, 0, &cur) == 0 && cur.handler == 0 /* SIG_DFL */ && iso_signal_sendable(s))
            found[k++] = s;
    }
    for (int s = 64; s >= 35 && k < 2; s--)
        if (s != found[0] && iso_signal_sendable(s))
            found[k++] = s;
    rep_c.capture_sig = k > 0 ? found[0] : REP_CAPTURE_SIG;
    rep_c.watchdog_sig = k > 1 ? found[1] : found[0] == REP_WATCHDOG_SIG ? REP_CAPTURE_SIG : REP_WATCHDOG_SIG;
}
