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

/* The delays, drawn uniformly from (0, UNWDIFF_SPREAD_NS]: about one run of the chain under qemu -singlestep, so
 * that every part of a run is as likely to be stopped (UNWDIFF_SPREAD_NS overrides it). */
#define SPREAD_NS 300000
/* Samples taken per program (UNWDIFF_SAMPLES overrides it), and the runs of the chain that may take them. */
#define SAMPLES 200
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

int unwdiff_trace_again(unsigned long runs) { return g_taken < g_samples && runs < MAX_RUNS; }
