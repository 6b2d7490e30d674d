/* x86_64/unwind.c — the x86_64 part of unwind.c's fallbacks: where a call leaves its return address,
 * and which function a call instruction enters.
 *
 * RULES (compromised context): async-signal-safe; code and stack are read only through ss_memread
 * and rep_stack_read. Runs on the reporting thread.
 */
#include "../rep.h"

/* A crash on a call through a bad pointer leaves the pc outside any code, with the return address
 * still at the top of the stack. */
int rep_bad_call_step(struct rep_regs *r)
{
    uint64_t ret;
    if (rep_stack_read_u64(r->v[REP_DW_SP], &ret) < 0 || ret == 0)
        return -1;
    r->v[REP_DW_PC] = ret;
    r->v[REP_DW_SP] += 8;
    r->exact_pc = 0;
    return 1;
}

/* GNU ld writes unwind tables for x86_64's PLT stubs (.eh_frame covers .plt): nothing to recognise here. */
int rep_plt_step(struct rep_regs *r)
{
    (void)r;
    return 0;
}

/* The function a direct call (e8 rel32) that returns to ret enters, followed through one PLT stub
 * (ff 25: jmp through the GOT, possibly after endbr64 and a bnd prefix) to the function itself; 0 when the
 * bytes before ret are not such a call. */
uint64_t rep_call_target(uint64_t ret)
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
