/* unwind.c — in-process stack walks from a signal context: libunwind, then frame pointers.
 *
 * RULES (compromised context): runs only inside rep_guard_run, because libunwind reads memory
 * directly and takes the loader's lock (dl_iterate_phdr): a fault jumps out of the guard, a
 * deadlock is cut by the watchdog. Our own frame-pointer walk reads only through ss_memread.
 * libunwind is used with caching off (no shared state), and was exercised once at install so that
 * none of its symbols is bound lazily at crash time. At most `max` frames per thread.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "rep.h"

#define NAME_MAX_LEN 256

static void set_name(struct lg_frame_record *f, unw_cursor_t *cur, struct rep_strtab *st)
{
    char name[NAME_MAX_LEN];
    unw_word_t off = 0;
    int r = unw_get_proc_name(cur, name, sizeof name, &off);
    if (r != 0 && r != -UNW_ENOMEM) /* ENOMEM: name cut at the buffer size, still useful */
        return;
    name[sizeof name - 1] = 0;
    f->symbol_off = rep_strtab_add(st, name, ss_strlen(name));
    f->symbol_delta = (uint32_t)off;
}

static uint32_t walk_libunwind(const ucontext_t *uc, struct lg_frame_record *out, uint32_t max, struct rep_strtab *st)
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
        set_name(f, &cur, st);
        n++;
    } while (n < max && unw_step(&cur) > 0);
    return n;
}

/* Name a pc found by the frame-pointer walk: a cursor made from a one-register context. */
static void name_pc(struct lg_frame_record *f, int is_return_address, struct rep_strtab *st)
{
    ucontext_t fake;
    ss_memset(&fake, 0, sizeof fake);
    fake.uc_mcontext.gregs[REG_RIP] = (greg_t)(f->pc - (is_return_address ? 1 : 0));
    fake.uc_mcontext.gregs[REG_RSP] = (greg_t)f->sp;
    unw_cursor_t cur;
    if (unw_init_local2(&cur, (unw_context_t *)&fake, UNW_INIT_SIGNAL_FRAME) < 0)
        return;
    set_name(f, &cur, st);
    if (f->symbol_off != LG_NONE && is_return_address)
        f->symbol_delta += 1;
}

static uint32_t walk_frame_pointers(const ucontext_t *uc, uint64_t lo, uint64_t hi, struct lg_frame_record *out,
                                    uint32_t max, struct rep_strtab *st, int names)
{
    uint64_t fp = rep_context_fp(uc);
    uint32_t n = 0;
    out[n].pc = rep_context_pc(uc);
    out[n].sp = rep_context_sp(uc);
    out[n].trust = LG_TRUST_CONTEXT;
    out[n].symbol_off = LG_NONE;
    if (names)
        name_pc(&out[n], 0, st);
    n++;
    while (n < max && fp >= lo && fp + 16 <= hi && (fp & 7) == 0) {
        uint64_t next, ret;
        if (ss_memread_u64(fp, &next) < 0 || ss_memread_u64(fp + 8, &ret) < 0 || ret == 0)
            break;
        out[n].pc = ret;
        out[n].sp = fp + 16;
        out[n].trust = LG_TRUST_FP;
        out[n].symbol_off = LG_NONE;
        if (names)
            name_pc(&out[n], 1, st);
        n++;
        if (next <= fp)
            break;
        fp = next;
    }
    return n;
}

/* Handler path, reporting thread, inside a guard. Fills out[] innermost first; returns the count.
 * *used_libunwind tells whether libunwind produced the frames. */
uint32_t rep_unwind(const ucontext_t *uc, uint64_t stack_lo, uint64_t stack_hi, struct lg_frame_record *out,
                    uint32_t max, struct rep_strtab *st, int *used_libunwind)
{
    uint32_t n = 0;
    *used_libunwind = 0;
    if (rep_g.unwind_ok) {
        n = walk_libunwind(uc, out, max, st);
        *used_libunwind = n > 1;
    }
    if (n <= 1)
        n = walk_frame_pointers(uc, stack_lo, stack_hi, out, max, st, rep_g.unwind_ok);
    return n;
}

/* Frame-pointer walk without names, for when libunwind timed out or faulted. */
uint32_t rep_unwind_fp_only(const ucontext_t *uc, uint64_t stack_lo, uint64_t stack_hi, struct lg_frame_record *out,
                            uint32_t max, struct rep_strtab *st)
{
    return walk_frame_pointers(uc, stack_lo, stack_hi, out, max, st, 0);
}

/* Normal context, at install: walk our own stack once so libunwind's lazily bound calls (into
 * libc: dl_iterate_phdr, mmap, open) are bound now, and check that it works at all. */
int rep_unwind_warmup_nasync(void)
{
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_NONE);
    unw_context_t ctx;
    unw_cursor_t cur;
    if (unw_getcontext(&ctx) < 0 || unw_init_local(&cur, &ctx) < 0)
        return 0;
    int steps = 0;
    char name[64];
    unw_word_t off;
    unw_get_proc_name(&cur, name, sizeof name, &off);
    while (steps < 8 && unw_step(&cur) > 0)
        steps++;
    return steps > 0;
}
