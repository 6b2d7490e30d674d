/* aarch64/unwind.c — the aarch64 part of unwind.c's fallbacks: where a call leaves its return address,
 * and which function a call instruction enters.
 *
 * RULES (compromised context): async-signal-safe; code is read only through ss_memread. Runs on the
 * reporting thread.
 */
#include "../rep.h"

/* A crash on a call through a bad pointer (blr) leaves the pc outside any code and the return address
 * in x30; the stack is untouched, so the caller's sp is the same. */
int rep_bad_call_step(struct rep_regs *r)
{
    if (!r->valid[REP_DW_LR] || r->v[REP_DW_LR] == 0)
        return -1;
    r->v[REP_DW_PC] = rep_cfi_return_address(r->v[REP_DW_LR]);
    r->exact_pc = 0;
    return 1;
}

static uint32_t insn_at(uint64_t at, int *ok)
{
    uint32_t i = 0;
    *ok = ss_memread(&i, at, 4) == 4;
    return i;
}

/* A pc in a PLT stub, which has no unwind table on aarch64 (GNU ld writes .eh_frame for the .plt of x86_64,
 * not of aarch64): the stubs leave sp, x29 and x30 alone (they use x16 and x17), so the caller is x30's, at the
 * same sp; in the header stub (PLT0), where lazily bound entries go, sp is 16 lower after its first instruction,
 * stp x16, x30, [sp, #-16]!. Without this the checked scan took a stale return address from the stack, and
 * the walk of a thread stopped in a stub skipped its callers. A stub is {bti c,} adrp x16; ldr x17, [x16, #];
 * add x16, x16, #; br x17, PLT0 that preceded by the stp. Returns 1 when stepped, 0 when pc is not in one. */
#define PLT_STP 0xa9bf7bf0u /* stp x16, x30, [sp, #-16]! */
static int plt_stub_at(uint64_t at)
{
    int ok[4];
    uint32_t adrp = insn_at(at, &ok[0]), ldr = insn_at(at + 4, &ok[1]), add = insn_at(at + 8, &ok[2]),
             br = insn_at(at + 12, &ok[3]);
    return ok[0] && ok[1] && ok[2] && ok[3] && (adrp & 0x9f00001fu) == 0x90000010u &&
           (ldr & 0xffc003ffu) == 0xf9400211u && (add & 0xffc003ffu) == 0x91000210u && br == 0xd61f0220u;
}

int rep_plt_step(struct rep_regs *r)
{
    uint64_t pc = r->v[REP_DW_PC], at = 0;
    int ok, sp_moved = 0;
    uint32_t here = insn_at(pc, &ok);
    if (!ok || !r->valid[REP_DW_LR])
        return 0;
    if ((here == 0xd503245fu || here == PLT_STP) && plt_stub_at(pc + 4)) { /* bti c, or PLT0's stp */
        at = pc + 4;
    } else {
        for (uint64_t k = 0; k < 4 && !at; k++)
            if (pc >= 4 * k && plt_stub_at(pc - 4 * k))
                at = pc - 4 * k;
        if (!at)
            return 0;
        sp_moved = insn_at(at - 4, &ok) == PLT_STP && ok;
    }
    r->v[REP_DW_PC] = rep_cfi_return_address(r->v[REP_DW_LR]);
    r->v[REP_DW_SP] += sp_moved ? 16 : 0;
    r->exact_pc = 0;
    return 1;
}

/* The function a direct call (bl imm26) that returns to ret enters, followed through one PLT stub
 * (optionally bti c; adrp x16, page; ldr x17, [x16, #off]; ...; br x17) to the function in the GOT slot;
 * 0 when the instruction before ret is not a bl. */
uint64_t rep_call_target(uint64_t ret)
{
    int ok;
    if (ret < 4)
        return 0;
    uint32_t bl = insn_at(ret - 4, &ok);
    if (!ok || (bl & 0xfc000000u) != 0x94000000u)
        return 0;
    int64_t off = (int64_t)((uint64_t)(bl & 0x03ffffffu) << 38) >> 36; /* imm26 * 4, sign-extended */
    uint64_t t = ret - 4 + (uint64_t)off, at = t;
    uint32_t i = insn_at(at, &ok);
    if (ok && i == 0xd503245fu) /* bti c */
        i = insn_at(at += 4, &ok);
    if (!ok || (i & 0x9f00001fu) != 0x90000010u) /* adrp x16 */
        return t;
    uint64_t imm = (uint64_t)((i >> 5) & 0x7ffffu) << 2 | ((i >> 29) & 3u);
    uint64_t page = (at & ~0xfffull) + (uint64_t)((int64_t)(imm << 43) >> 31); /* sign-extend 21 bits, << 12 */
    uint32_t ld = insn_at(at + 4, &ok);
    if (!ok || (ld & 0xffc003ffu) != 0xf9400211u) /* ldr x17, [x16, #imm12 * 8] */
        return t;
    uint64_t slot = page + ((ld >> 10) & 0xfffu) * 8, to;
    return ss_memread(&to, slot, sizeof to) == (ssize_t)sizeof to ? to : t;
}
