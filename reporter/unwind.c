/* unwind.c — a thread's frames from its signal context: unwind tables first, frame pointers
 * where a pc has none.
 *
 * RULES (compromised context): async-signal-safe; reads memory only through ss_memread (here and
 * in x86_64/unwind_cfi.c; the stack through a window read with it once per thread), so a smashed
 * stack ends the walk instead of faulting; at most `max` frames; the stack pointer must grow from
 * frame to frame (except across a signal frame), so a loop in corrupted frames cannot go on.
 * report.c still runs it inside rep_guard_run, as a second line of defence against a bug of ours.
 */
#include "rep.h"

/* The stack just above the interrupted sp, read once per thread: the walk reads the saved
 * registers and return addresses there, each one an ss_memread (a syscall) otherwise, a dozen per
 * parked thread. The threads are stopped while the reporter walks them, so the copy stays true.
 * Reporting thread only; valid during one rep_unwind (emptied at its start and end). */
#define UNWIND_STACK_WINDOW 4096
static struct {
    uint64_t base, len;
    uint8_t buf[UNWIND_STACK_WINDOW];
} g_window;

/* Handler path, reporting thread: n bytes at addr from the window when it holds them, else
 * through ss_memread. Returns 0 or -1. */
int rep_stack_read(void *dst, uint64_t addr, size_t n)
{
    if (addr >= g_window.base && n <= g_window.len && addr - g_window.base <= g_window.len - n) {
        ss_memcpy(dst, g_window.buf + (addr - g_window.base), n);
        return 0;
    }
    return ss_memread(dst, addr, n) == (ssize_t)n ? 0 : -1;
}

int rep_stack_read_u64(uint64_t addr, uint64_t *out) { return rep_stack_read(out, addr, sizeof *out); }

/* Fill the window from sp up to the end of its stack (at most UNWIND_STACK_WINDOW). One read: the range
 * is inside one mapping, so it is all readable or the window stays empty. */
static void window_fill(uint64_t sp, uint64_t lo, uint64_t hi)
{
    g_window.len = 0;
    if (sp < lo || sp >= hi)
        return;
    uint64_t len = hi - sp < UNWIND_STACK_WINDOW ? hi - sp : UNWIND_STACK_WINDOW;
    if (ss_memread(g_window.buf, sp, len) == (ssize_t)len) {
        g_window.base = sp;
        g_window.len = len;
    }
}

/* The frame-pointer step: [rbp] is the caller's rbp, [rbp+8] its return address. */
static int fp_step(struct rep_regs *r, uint64_t lo, uint64_t hi)
{
    uint64_t fp = r->v[6], next, ret;
    if (!r->valid[6] || fp < lo || fp + 16 > hi || (fp & 7) || rep_stack_read_u64(fp, &next) < 0 ||
        rep_stack_read_u64(fp + 8, &ret) < 0 || ret == 0)
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
    if (rep_stack_read_u64(r->v[7], &ret) < 0 || ret == 0)
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
    window_fill(r.v[7], stack_lo, stack_hi);
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
    g_window.len = 0;
    return n;
}
