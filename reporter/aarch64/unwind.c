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
