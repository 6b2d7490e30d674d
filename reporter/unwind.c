/* unwind.c — a thread's frames from its signal context: unwind tables first, frame pointers
 * where a pc has none.
 *
 * RULES (compromised context): async-signal-safe; reads memory only through ss_memread (here and
 * in x86_64/unwind_cfi.c), so a smashed stack ends the walk instead of faulting; at most `max`
 * frames; the stack pointer must grow from frame to frame (except across a signal frame), so a
 * loop in corrupted frames cannot go on. report.c still runs it inside rep_guard_run, as a second
 * line of defence against a bug of ours.
 */
#include "rep.h"

/* The frame-pointer step: [rbp] is the caller's rbp, [rbp+8] its return address. */
static int fp_step(struct rep_regs *r, uint64_t lo, uint64_t hi)
{
    uint64_t fp = r->v[6], next, ret;
    if (!r->valid[6] || fp < lo || fp + 16 > hi || (fp & 7) || ss_memread_u64(fp, &next) < 0 ||
        ss_memread_u64(fp + 8, &ret) < 0 || ret == 0)
        return -1;
    r->v[6] = next;
    r->v[7] = fp + 16;
    r->v[16] = ret;
    r->exact_pc = 0;
    return 1;
}

/* A crash on a call through a bad pointer leaves the pc outside any code, with the return address
 * still at the top of the stack. */
static int bad_call_step(struct rep_regs *r)
{
    uint64_t ret;
    if (ss_memread_u64(r->v[7], &ret) < 0 || ret == 0)
        return -1;
    r->v[16] = ret;
    r->v[7] += 8;
    r->exact_pc = 0;
    return 1;
}

/* Handler path, reporting thread. Fills out[] innermost first (names are added by the caller);
 * returns the count. [stack_lo, stack_hi) bounds the frame-pointer walk. */
uint32_t rep_unwind(const ucontext_t *uc, uint64_t stack_lo, uint64_t stack_hi, const struct fmt_module *mods,
                    uint32_t nmods, struct lg_frame_record *out, uint32_t max)
{
    struct rep_regs r;
    ss_memset(&r, 0, sizeof r);
    rep_cfi_regs_from_context(uc, &r);
    r.exact_pc = 1;
    uint32_t n = 0;
    uint8_t trust = LG_TRUST_CONTEXT;
    while (n < max) {
        out[n].pc = r.v[16];
        out[n].sp = r.v[7];
        out[n].trust = trust;
        out[n].symbol_off = LG_NONE;
        out[n].module_index = LG_NONE;
        n++;
        uint64_t sp = r.v[7];
        int was_exact = r.exact_pc;
        int s = rep_cfi_step(mods, nmods, &r);
        trust = LG_TRUST_CFI;
        if (s == 0 && n == 1 && rep_module_index(mods, nmods, r.v[16]) < 0) {
            s = bad_call_step(&r);
        } else if (s == 0) {
            s = fp_step(&r, stack_lo, stack_hi);
            trust = LG_TRUST_FP;
        }
        if (s < 0 || r.v[16] == 0)
            break;
        /* The stack grows down, so callers live higher; only a signal frame may jump elsewhere. */
        if (r.v[7] <= sp && !(r.exact_pc && !was_exact))
            break;
    }
    return n;
}
