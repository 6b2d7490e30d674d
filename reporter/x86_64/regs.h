/* x86_64/regs.h — the DWARF register numbering the unwinders use on x86_64 (System V psABI 3.6.2):
 * rax rdx rcx rbx rsi rdi rbp rsp r8-r15, then 16, the return address column, which holds the pc. */
#ifndef REP_X86_64_REGS_H
#define REP_X86_64_REGS_H

#define REP_NREGS 17
#define REP_DW_FP 6   /* rbp */
#define REP_DW_SP 7   /* rsp */
#define REP_DW_PC 16  /* the return address column */
/* A call pushes its return address, so every caller's sp is above its callee's. */
#define REP_SP_MAY_STAY 0

#endif
