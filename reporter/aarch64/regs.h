/* aarch64/regs.h — the DWARF register numbering the unwinders use on aarch64 (AAPCS64's DWARF
 * supplement): x0-x30 are 0-30 (x29 the frame pointer, x30 the link register, which CIEs name as the
 * return address column), sp is 31. The pc has no DWARF number: slot 32 holds it here. */
#ifndef REP_AARCH64_REGS_H
#define REP_AARCH64_REGS_H

#define REP_NREGS 33
#define REP_DW_FP 29  /* x29 */
#define REP_DW_LR 30  /* x30 */
#define REP_DW_SP 31
#define REP_DW_PC 32  /* not a DWARF register: where a step leaves the return address */
/* bl keeps the return address in x30, not on the stack: a function that saves nothing (a leaf) has the
 * same sp as its caller. */
#define REP_SP_MAY_STAY 1

#endif
