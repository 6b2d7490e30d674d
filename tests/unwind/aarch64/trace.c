/* aarch64/trace.c — the trace scenario's sampler for the unwinder's differential test (unwdiff.h says what it
 * does): arm64 has no user-space single-step (no trap flag; the kernel single-steps only for ptrace), so a timer
 * stops the chain instead, over and over while it runs again and again.
 *
 * One timer on CLOCK_MONOTONIC, aimed at the calling thread (SIGEV_THREAD_ID), armed one shot at a time: the next
 * sample is armed when the handler has done its walks (unwdiff_trace_next), at a pseudo-random delay, so that the
 * samples fall anywhere in a run of the chain. A periodic timer would not do: the walks take longer than any
 * useful period, and the signal that came due meanwhile would be taken at the very instruction the handler returns
 * to, sample after sample, the chain never moving on. Under qemu-user a signal is taken at the next boundary of a
 * translation block; with `-singlestep` every instruction is a block of its own (tests/unwind/run.sh runs it so),
 * and a sample can stop the chain at any instruction. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../unwdiff.h"

const int unwdiff_trace_sig = SIGPROF;

/* The delays, drawn uniformly from (0, UNWDIFF_SPREAD_NS] (it overrides the default): mostly longer than the rest
 * of the handler and its sigreturn, so that the chain moves on between samples; a delay that ends sooner gives
 * a sample at the same pc again, harmless. How far apart the samples fall depends on the machine's speed, not
 * where: they fall anywhere in a run. */
#define SPREAD_NS 300000
/* Samples taken per program (UNWDIFF_SAMPLES overrides it), and the runs of the chain that may take them. */
#define SAMPLES 300
#define MAX_RUNS 200000

static timer_t g_timer;
static int g_armed;
static unsigned long g_spread = SPREAD_NS, g_samples = SAMPLES, g_taken;
static uint64_t g_rand = 0x9e3779b97f4a7c15ull; /* fixed seed: the same delays every run */

static unsigned long env_or(const char *name, unsigned long def)
{
    const char *v = getenv(name);
    return v && atol(v) > 0 ? (unsigned long)atol(v) : def;
}

static void arm(void)
{
    g_rand ^= g_rand << 13;
    g_rand ^= g_rand >> 7;
    g_rand ^= g_rand << 17;
    long ns = 1 + (long)(g_rand % g_spread);
    struct itimerspec its = {{0, 0}, {0, ns}};
    timer_settime(g_timer, 0, &its, 0);
}

int unwdiff_trace(int on)
{
    if (on && !g_armed) {
        g_spread = env_or("UNWDIFF_SPREAD_NS", SPREAD_NS);
        g_samples = env_or("UNWDIFF_SAMPLES", SAMPLES);
        struct sigevent sev = {0};
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = unwdiff_trace_sig;
        sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
        if (timer_create(CLOCK_MONOTONIC, &sev, &g_timer) < 0)
            return -1;
        g_armed = 1;
        arm();
    } else if (!on && g_armed) {
        timer_delete(g_timer);
        g_armed = 0;
    }
    return 0;
}

void unwdiff_trace_next(void)
{
    if (g_armed && ++g_taken < g_samples)
        arm();
}

/* The lazy binder runs in every run, not in the first only, so that the samples reach it as often as the rest:
 * before each run the library's GOT slot for getppid gets back the value it had before its first call (PLT0's
 * address, which sends the call to the loader's _dl_runtime_resolve), and unwdiff_plt_bind_late is set again.
 * The slot is found from the code: the first bl in unwdiff_plt_call enters getppid's PLT stub, whose adrp x16 and
 * ldr x17, [x16, #off] name it. The library is bound lazily and not linked -z now, so the slot is writable. */
static uint64_t *g_slot, g_unbound;

static uint32_t insn(uint64_t at) { return *(const uint32_t *)(uintptr_t)at; }

static uint64_t *getppid_slot(void)
{
    uint64_t f = (uint64_t)(uintptr_t)&unwdiff_plt_call;
    for (uint64_t at = f; at < f + 4 * 64; at += 4) {
        uint32_t bl = insn(at);
        if ((bl & 0xfc000000u) != 0x94000000u)
            continue;
        uint64_t stub = at + (uint64_t)((int64_t)((uint64_t)(bl & 0x03ffffffu) << 38) >> 36);
        uint32_t adrp = insn(stub), ldr = insn(stub + 4);
        if ((adrp & 0x9f00001fu) != 0x90000010u || (ldr & 0xffc003ffu) != 0xf9400211u)
            return 0;
        uint64_t imm = (uint64_t)((adrp >> 5) & 0x7ffffu) << 2 | ((adrp >> 29) & 3u);
        uint64_t page = (stub & ~0xfffull) + (uint64_t)((int64_t)(imm << 43) >> 31);
        return (uint64_t *)(uintptr_t)(page + ((ldr >> 10) & 0xfffu) * 8);
    }
    return 0;
}

int unwdiff_trace_again(unsigned long runs)
{
    if (runs == 0 && (g_slot = getppid_slot()) != 0)
        g_unbound = *g_slot;
    if (runs > 0 && g_slot) {
        *g_slot = g_unbound;
        unwdiff_plt_bind_late = 1;
    }
    return g_taken < g_samples && runs < MAX_RUNS;
}
