/* unwind.c — in-process stack walks from a signal context: libunwind, then frame pointers.
 *
 * RULES (compromised context): runs only inside rep_guard_run, because libunwind reads memory
 * directly and takes the loader's lock (dl_iterate_phdr): a fault jumps out of the guard, a
 * deadlock is cut by the watchdog. Our own frame-pointer walk reads only through ss_memread.
 * Only unw_init_local2, unw_step and unw_get_reg are used: unw_get_proc_name allocates (see
 * symbols.c). libunwind runs with caching off (no shared state) and was exercised once at install
 * so that none of its calls is bound lazily at crash time. At most `max` frames per thread.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "rep.h"

static uint32_t walk_libunwind(const ucontext_t *uc, struct lg_frame_record *out, uint32_t max)
{
    ucontext_t copy;
    ss_memcpy(&copy, uc, sizeof copy);
    unw_cursor_t cur;
    if (unw_init_local2(&cur, (unw_context_t *)&copy, UNW_INIT_SIGNAL_FRAME) < 0)
        return 0;
    uint32_t n = 0;
    do {
        unw_word_t ip = 0, sp = 0;
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        unw_get_reg(&cur, UNW_REG_SP, &sp);
        if (ip == 0)
            break;
        struct lg_frame_record *f = &out[n];
        f->pc = ip;
        f->sp = sp;
        f->trust = n == 0 ? LG_TRUST_CONTEXT : LG_TRUST_CFI;
        f->symbol_off = LG_NONE;
        n++;
    } while (n < max && unw_step(&cur) > 0);
    return n;
}

static uint32_t walk_frame_pointers(const ucontext_t *uc, uint64_t lo, uint64_t hi, struct lg_frame_record *out,
                                    uint32_t max)
{
    uint64_t fp = rep_context_fp(uc);
    uint32_t n = 0;
    out[n].pc = rep_context_pc(uc);
    out[n].sp = rep_context_sp(uc);
    out[n].trust = LG_TRUST_CONTEXT;
    out[n].symbol_off = LG_NONE;
    n++;
    while (n < max && fp >= lo && fp + 16 <= hi && (fp & 7) == 0) {
        uint64_t next, ret;
        if (ss_memread_u64(fp, &next) < 0 || ss_memread_u64(fp + 8, &ret) < 0 || ret == 0)
            break;
        out[n].pc = ret;
        out[n].sp = fp + 16;
        out[n].trust = LG_TRUST_FP;
        out[n].symbol_off = LG_NONE;
        n++;
        if (next <= fp)
            break;
        fp = next;
    }
    return n;
}

/* Handler path, reporting thread, inside a guard. Fills out[] innermost first (names are added
 * later by the caller); returns the count. *used_libunwind tells which walk produced the frames. */
uint32_t rep_unwind(const ucontext_t *uc, uint64_t stack_lo, uint64_t stack_hi, struct lg_frame_record *out,
                    uint32_t max, int *used_libunwind)
{
    uint32_t n = 0;
    *used_libunwind = 0;
    if (rep_g.unwind_ok) {
        n = walk_libunwind(uc, out, max);
        *used_libunwind = n > 1;
    }
    if (n <= 1)
        n = walk_frame_pointers(uc, stack_lo, stack_hi, out, max);
    return n;
}

/* The frame-pointer walk alone, for when libunwind faulted or timed out. Reads only through
 * ss_memread, so it needs no guard. */
uint32_t rep_unwind_fp_only(const ucontext_t *uc, uint64_t stack_lo, uint64_t stack_hi, struct lg_frame_record *out,
                            uint32_t max)
{
    return walk_frame_pointers(uc, stack_lo, stack_hi, out, max);
}

/* Normal context, at install: walk our own stack once so libunwind's lazily bound calls into libc
 * (dl_iterate_phdr and friends) are bound now, and check that it works at all. */
int rep_unwind_warmup_nasync(void)
{
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_NONE);
    unw_context_t ctx;
    unw_cursor_t cur;
    if (unw_getcontext(&ctx) < 0 || unw_init_local(&cur, &ctx) < 0)
        return 0;
    int steps = 0;
    while (steps < 8 && unw_step(&cur) > 0)
        steps++;
    return steps > 0;
}
