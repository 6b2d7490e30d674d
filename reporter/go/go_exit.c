/* go_exit.c — which fatal signals of a Go program lastgasp reports, and how the process ends after.
 *
 * RULES (compromised context): async-signal-safe, sigsafe/ only, no libc, no locks, no allocation;
 * reads only rep_g (written at install and arm) and the runtime's traceback word (an aligned uint32
 * validated at install).
 *
 * Both ways into a Go program (the goshim package, and LD_PRELOAD, which arms at the runtime's first
 * thread) install lastgasp's handlers on top of the runtime's, so lastgasp sees each fatal signal
 * before the runtime does, and the runtime holds no handler of ours (exactly as without lastgasp).
 * The goal (issue 10): the same crash as without lastgasp, plus one dump and one line.
 *
 *   GO_HANDLES  a fault the kernel raised in Go code: the runtime turns it into a panic that recover()
 *               may catch. Hand it over at once; no report. If the panic is not recovered, the crash
 *               bit (go_traceback.c) ends it in the runtime's crash() -> SIGABRT: GO_ABORT.
 *   GO_ABORT    SIGABRT the runtime raised itself (tgkill from this process, pc in Go text): it has
 *               printed its report at the user's level. Report; then exit 2, as the runtime would
 *               have without the crash bit we added; or, when the bit is the user's, die of SIGABRT.
 *   GO_SIGNAL   anything else (a C fault in a cgo call, C abort(), a signal from outside, SIGTRAP,
 *               SIGILL, SIGSYS): the runtime would handle it in its signal path, where the crash bit
 *               changes what it prints (docrash relays SIGQUIT to every thread). Report first, drop
 *               our crash bit, then give the signal back to the runtime, which prints and exits as
 *               without lastgasp.
 *   GO_QUIET    SIGQUIT: the runtime prints every goroutine and exits 2, or hands it to os/signal.
 *               Not one of the fatal signals lastgasp reports, but our crash bit would make the
 *               runtime relay it and abort: take the bit away while the runtime's handler runs (a
 *               direct call), and put it back if that handler returns. SIGQUIT that the runtime
 *               relays to its own threads (from this process) is simply handed over. At the user's
 *               own crash level (GOTRACEBACK=crash) SIGQUIT ends in an abort and a core as asked, so
 *               it is reported first, as GO_SIGNAL (a program that catches SIGQUIT with os/signal at
 *               that level then leaves a dump it did not need).
 *   NATIVE      not a Go program, or the runtime holds no handler for this signal.
 */
#include "../rep.h"

#include <signal.h>

static int in_go_text(uint64_t pc) { return pc >= rep_g.go.pcln.minpc && pc < rep_g.go.pcln.maxpc; }

static int crash_bit_is_users(void)
{
    if (!rep_g.go.tb_cache)
        return 0;
    uint32_t c = __atomic_load_n((volatile uint32_t *)(uintptr_t)rep_g.go.tb_cache, __ATOMIC_SEQ_CST);
    return (c & REP_GO_TB_CRASH) && !rep_go_crash_bit_ours();
}

/* Handler path, any thread, before the claim. */
int rep_go_path(int sig, const siginfo_t *si, const ucontext_t *uc)
{
    if (!rep_g.go_first[sig])
        return REP_PATH_NATIVE;
    if (sig == SIGQUIT) {
        if (si->si_code <= 0 && si->si_pid == ss_getpid())
            return REP_PATH_GO_HANDLES; /* the runtime relaying it to its own threads */
        return crash_bit_is_users() ? REP_PATH_GO_SIGNAL : REP_PATH_GO_QUIET;
    }
    uint64_t pc = rep_context_pc(uc);
    if (si->si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE) && in_go_text(pc))
        return REP_PATH_GO_HANDLES;
    if (sig == SIGABRT && si->si_code == SI_TKILL && si->si_pid == ss_getpid() && in_go_text(pc))
        return REP_PATH_GO_ABORT;
    return REP_PATH_GO_SIGNAL;
}

/* Handler path: is the crash bit in the runtime's word now lastgasp's? It was, if arming added it; a
 * debug.SetTraceback at run time recomputes the word as level | traceback_env, and since our bit is in
 * the floor, "crash" and "system" then look alike: a level of 2 or more with "all" is taken for the
 * user's crash (SIGABRT), anything else stays ours (exit 2). */
int rep_go_crash_bit_ours(void)
{
    if (__atomic_load_n(&rep_g.go.crash_bit, __ATOMIC_ACQUIRE) != REP_GO_CRASH_BIT_OURS)
        return 0;
    uint32_t c = __atomic_load_n((volatile uint32_t *)(uintptr_t)rep_g.go.tb_cache, __ATOMIC_SEQ_CST);
    if (c == rep_g.go.tb_armed)
        return 1;
    return !((c >> 2) >= 2 && (c & REP_GO_TB_ALL));
}

/* Handler path: take our crash bit out of the runtime's word (returns 1 if it was ours), or put it back. */
int rep_go_crash_bit_take(void)
{
    if (!rep_go_crash_bit_ours())
        return 0;
    __atomic_fetch_and((volatile uint32_t *)(uintptr_t)rep_g.go.tb_env, ~REP_GO_TB_CRASH, __ATOMIC_SEQ_CST);
    __atomic_fetch_and((volatile uint32_t *)(uintptr_t)rep_g.go.tb_cache, ~REP_GO_TB_CRASH, __ATOMIC_SEQ_CST);
    return 1;
}

void rep_go_crash_bit_put_back(void)
{
    __atomic_fetch_or((volatile uint32_t *)(uintptr_t)rep_g.go.tb_env, REP_GO_TB_CRASH, __ATOMIC_SEQ_CST);
    __atomic_fetch_or((volatile uint32_t *)(uintptr_t)rep_g.go.tb_cache, REP_GO_TB_CRASH, __ATOMIC_SEQ_CST);
}

/* Handler path, reporting thread, after the report: for GO_SIGNAL, take our crash bit back so the
 * runtime's signal path ends as without lastgasp (exit 2, no SIGQUIT relay); for GO_ABORT with our
 * bit, end the process as the runtime would have. Returns only when the caller should finish. */
void rep_go_end(int path)
{
    if (path == REP_PATH_GO_SIGNAL)
        rep_go_crash_bit_take();
    if (path == REP_PATH_GO_ABORT && rep_go_crash_bit_ours())
        ss_exit_group(2); /* the runtime's own exit(2) of a panic */
}
