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

/* The function a direct call (e8 rel32) that returns to ret enters, followed through one PLT stub
 * (ff 25: jmp through the GOT, possibly after endbr64 and a bnd prefix) to the function itself; 0 when the
 * bytes before ret are not such a call. */
static uint64_t call_target(uint64_t ret)
{
    uint8_t b[5], p[11];
    if (ret < 5 || ss_memread(b, ret - 5, 5) != 5 || b[0] != 0xe8)
        return 0;
    uint64_t t = ret + (uint64_t)(int64_t)(int32_t)((uint32_t)b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16 |
                                                     (uint32_t)b[4] << 24);
    if (ss_memread(p, t, sizeof p) != (ssize_t)sizeof p)
        return t;
    uint32_t at = 0;
    if (p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa)
        at = 4;
    if (p[at] == 0xf2)
        at++;
    uint64_t slot, to;
    if (p[at] != 0xff || p[at + 1] != 0x25)
        return t;
    slot = t + at + 6 + (uint64_t)(int64_t)(int32_t)((uint32_t)p[at + 2] | (uint32_t)p[at + 3] << 8 |
                                                      (uint32_t)p[at + 4] << 16 | (uint32_t)p[at + 5] << 24);
    return ss_memread(&to, slot, sizeof to) == (ssize_t)sizeof to ? to : t;
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
    uint64_t pc = r->v[16], at = r->v[7], w, start = 0;
    int mi = rep_module_index(mods, nmods, pc);
    int named = rep_symbolize(mods, mi, pc - !r->exact_pc, &start) != 0;
    for (int i = 0; i < SCAN_WORDS && at >= lo && at + 8 <= hi; i++, at += 8) {
        if (rep_stack_read_u64(at, &w) < 0)
            return -1;
        if (rep_module_index(mods, nmods, w) < 0)
            continue;
        uint64_t t = call_target(w);
        if (named ? t == start : t && t <= pc && pc - t < SCAN_FUNC_MAX && rep_module_index(mods, nmods, t) == mi) {
            r->v[16] = w;
            r->v[7] = at + 8;
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
        if (s == 0 && was_exact && rep_module_index(mods, nmods, r.v[16]) < 0) {
            s = bad_call_step(&r); /* the top frame's pc, or one a signal frame holds */
        } else if (s == 0) {
            /* No unwind tables for the pc. Go code keeps frame pointers; in other code of a module (musl's
             * libc) rbp is whatever the caller left there, so the checked scan goes first. */
            s = -1;
            if (rep_module_index(mods, nmods, r.v[16]) >= 0 && !is_go_code(r.v[16])) {
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
        if (s < 0 || (r.v[16] == 0 && !r.exact_pc))
            break;
        /* The stack grows down, so callers live higher; only a signal frame may jump elsewhere. */
        if (r.v[7] <= sp && !(r.exact_pc && !was_exact))
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
