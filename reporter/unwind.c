/* unwind.c — a thread's frames from its signal context: unwind tables first, frame pointers
 * where a pc has none.
 *
 * RULES (compromised context): async-signal-safe; reads memory only through ss_memread (here and
 * in unwind_cfi.c and <arch>/; the stack through a window read with it once per thread), so a smashed
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

/* The frame-pointer step: the frame record is the caller's frame pointer, then the return address, on
 * x86_64 ([rbp], [rbp+8]) as on aarch64 ([x29], [x29+8]). The caller's sp is at least past the record. */
static int fp_step(struct rep_regs *r, uint64_t lo, uint64_t hi)
{
    uint64_t fp = r->v[REP_DW_FP], next, ret;
    if (!r->valid[REP_DW_FP] || fp < lo || fp + 16 > hi || (fp & 7) || rep_stack_read_u64(fp, &next) < 0 ||
        rep_stack_read_u64(fp + 8, &ret) < 0 || ret == 0)
        return -1;
    r->v[REP_DW_FP] = next;
    r->v[REP_DW_SP] = fp + 16;
    r->v[REP_DW_PC] = rep_cfi_return_address(ret);
    r->exact_pc = 0;
    return 1;
}

/* The last resort, where the pc lies in a module that has neither unwind tables for it nor a frame
 * pointer chain: musl, whose libc is built without either (its configure asks for
 * -fno-asynchronous-unwind-tables), so abort(), raise() and syscall() end every other walk. The caller's
 * return address is the first word above sp that follows a direct call of the function around the pc: the
 * call's target, through a PLT stub, is the start of the pc's function when the module's symbols name it,
 * else lies in the pc's module at most SCAN_FUNC_MAX below the pc. That check skips the stale return
 * addresses that earlier calls left on the stack (which a plain scan, as Breakpad's and rust-minidump's,
 * takes); a caller that called through a pointer is not found. Frames so found say "scan". Runs inside
 * report.c's guard, as the symbol lookup must. */
#define SCAN_WORDS 128
#define SCAN_FUNC_MAX (64u << 10)
static int scan_step(struct rep_regs *r, const struct mdw_module *mods, uint32_t nmods, uint64_t lo, uint64_t hi)
{
    uint64_t pc = r->v[REP_DW_PC], at = r->v[REP_DW_SP], w, start = 0;
    int mi = rep_module_index(mods, nmods, pc);
    int named = rep_symbolize(mods, mi, pc - !r->exact_pc, &start) != 0;
    for (int i = 0; i < SCAN_WORDS && at >= lo && at + 8 <= hi; i++, at += 8) {
        if (rep_stack_read_u64(at, &w) < 0)
            return -1;
        if (rep_module_index(mods, nmods, w) < 0)
            continue;
        uint64_t t = rep_call_target(w);
        if (named ? t == start : t && t <= pc && pc - t < SCAN_FUNC_MAX && rep_module_index(mods, nmods, t) == mi) {
            r->v[REP_DW_PC] = w;
            r->v[REP_DW_SP] = at + 8;
            r->exact_pc = 0;
            return 1;
        }
    }
    return -1;
}

/* In the Go module's text (written once at install, read-only since). */
static int is_go_code(uint64_t pc) { return pc >= rep_g.go.pcln.minpc && pc < rep_g.go.pcln.maxpc; }

/* Handler path, reporting thread. Fills out[] innermost first (names are added by the caller);
 * returns the count. [stack_lo, stack_hi) bounds the frame-pointer walk. */
uint32_t rep_unwind(const ucontext_t *uc, uint64_t stack_lo, uint64_t stack_hi, const struct mdw_module *mods,
                    uint32_t nmods, struct lg_frame_record *out, uint32_t max)
{
    struct rep_regs r;
    ss_memset(&r, 0, sizeof r);
    rep_cfi_regs_from_context(uc, &r);
    r.exact_pc = 1;
    window_fill(r.v[REP_DW_SP], stack_lo, stack_hi);
    uint32_t n = 0;
    uint8_t trust = LG_TRUST_CONTEXT;
    while (n < max) {
        out[n].pc = r.v[REP_DW_PC];
        out[n].sp = r.v[REP_DW_SP];
        out[n].trust = trust;
        out[n].symbol_off = LG_NONE;
        out[n].module_index = LG_NONE;
        n++;
        uint64_t sp = r.v[REP_DW_SP], pc = r.v[REP_DW_PC];
        int was_exact = r.exact_pc;
        int s = rep_cfi_step(mods, nmods, &r);
        trust = LG_TRUST_CFI;
        if (s == 0 && was_exact && rep_module_index(mods, nmods, r.v[REP_DW_PC]) < 0) {
            s = rep_bad_call_step(&r); /* the top frame's pc, or one a signal frame holds */
        } else if (s == 0 && was_exact && rep_plt_step(&r)) {
            s = 1; /* stopped in a PLT stub without unwind table (aarch64's): its caller is exact */
        } else if (s == 0) {
            /* No unwind tables for the pc. Go code keeps frame pointers; in other code of a module (musl's
             * libc) rbp is whatever the caller left there, so the checked scan goes first. */
            s = -1;
            if (rep_module_index(mods, nmods, r.v[REP_DW_PC]) >= 0 && !is_go_code(r.v[REP_DW_PC])) {
                s = scan_step(&r, mods, nmods, stack_lo, stack_hi);
                trust = LG_TRUST_SCAN;
            }
            if (s < 0) {
                s = fp_step(&r, stack_lo, stack_hi);
                trust = LG_TRUST_FP;
            }
        }
        /* A return address of 0 ends the stack; a pc of 0 that a signal frame holds is a call through a null
         * pointer in the interrupted code, walked out of as at the top (libunwind does too). */
        if (s < 0 || (r.v[REP_DW_PC] == 0 && !r.exact_pc))
            break;
        /* The stack grows down, so callers live higher; only a signal frame may jump elsewhere. Where a
         * caller may share its callee's sp (aarch64's leaf functions), the pc must change instead. */
        uint64_t nsp = r.v[REP_DW_SP];
        int same_ok = REP_SP_MAY_STAY && nsp == sp && r.v[REP_DW_PC] != pc;
        if (nsp <= sp && !same_ok && !(r.exact_pc && !was_exact))
            break;
        /* Stepped through a signal frame: the next pc is where the signal stopped it, not a return address,
         * and is named as the top frame's is (report.c looks a frame of trust "context" up at pc itself; at
         * pc-1 a signal at a function's first instruction was named after the function before it). */
        if (r.exact_pc && !was_exact)
            trust = LG_TRUST_CONTEXT;
    }
    g_window.len = 0;
    return n;
}
