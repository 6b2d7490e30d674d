/* aarch64/unwind_cfi.c — the aarch64 part of the CFI walk (unwind_cfi.c): registers from a context,
 * the kernel's signal trampoline, pointer authentication.
 *
 * RULES (compromised context): async-signal-safe; code and stack are read only through ss_memread
 * and rep_stack_read; no loops but fixed ones. Runs on the reporting thread.
 */
#include "../rep.h"

#include <ucontext.h>

void rep_cfi_regs_from_context(const ucontext_t *uc, struct rep_regs *r)
{
    for (int i = 0; i < 31; i++)
        r->v[i] = (uint64_t)uc->uc_mcontext.regs[i];
    r->v[REP_DW_SP] = (uint64_t)uc->uc_mcontext.sp;
    r->v[REP_DW_PC] = (uint64_t)uc->uc_mcontext.pc;
    for (int i = 0; i < REP_NREGS; i++)
        r->valid[i] = 1;
}

/* The kernel's __kernel_rt_sigreturn in the vdso, musl's __restore_rt and qemu-user's own trampoline are
 * the same two instructions: mov x8, #139 (rt_sigreturn); svc #0. A handler returns there (x30), with sp
 * at the kernel's struct rt_sigframe {siginfo (128 bytes), ucontext}. The vdso's CFI for it only
 * follows the frame record, which loses the interrupted pc: the ucontext is read instead. */
int rep_cfi_is_sigreturn(uint64_t pc)
{
    static const uint32_t code[2] = {0xd2801168u, 0xd4000001u};
    uint32_t got[2];
    return ss_memread(got, pc, sizeof got) == sizeof got && ss_memcmp(got, code, sizeof code) == 0;
}

#define SIGFRAME_UC 128 /* sizeof(siginfo_t): the ucontext follows it in the frame */

int rep_cfi_step_sigreturn(struct rep_regs *r)
{
    /* regs[31], sp, pc: contiguous in the kernel's sigcontext, as in glibc's and musl's mcontext_t */
    uint64_t g[33];
    uint64_t at = r->v[REP_DW_SP] + SIGFRAME_UC + __builtin_offsetof(ucontext_t, uc_mcontext.regs);
    if (rep_stack_read(g, at, sizeof g) < 0)
        return -1;
    for (int i = 0; i < 31; i++)
        r->v[i] = g[i];
    r->v[REP_DW_SP] = g[31];
    r->v[REP_DW_PC] = g[32];
    for (int i = 0; i < REP_NREGS; i++)
        r->valid[i] = 1;
    r->exact_pc = 1; /* the interrupted pc itself, not a return address */
    return 1;
}

/* With pointer authentication (-mbranch-protection=pac-ret, marked in the CFI by
 * DW_CFA_AARCH64_negate_ra_state), a saved return address carries a signature in its top bits. XPACLRI
 * strips it from x30 as this process's keys and address size say; it sits in the hint space, so on a CPU
 * without pointer authentication it does nothing, which is right there (nothing was signed). x30 is put
 * back before the asm ends: the compiler's own return address lives there in a leaf. */
uint64_t rep_cfi_return_address(uint64_t ra)
{
    uint64_t out;
    __asm__ volatile("mov x16, x30\n\t"
                     "mov x30, %1\n\t"
                     "hint #7\n\t" /* xpaclri */
                     "mov %0, x30\n\t"
                     "mov x30, x16"
                     : "=r"(out)
                     : "r"(ra)
                     : "x16");
    return out;
}
