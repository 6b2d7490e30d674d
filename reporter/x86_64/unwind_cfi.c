/* x86_64/unwind_cfi.c — the x86_64 part of the CFI walk (unwind_cfi.c): registers from a context,
 * glibc's and musl's signal trampoline.
 *
 * RULES (compromised context): async-signal-safe; code and stack are read only through ss_memread
 * and rep_stack_read; no loops but fixed ones. Runs on the reporting thread.
 */
#include "../rep.h"

#include <ucontext.h>

/* DWARF numbering (regs.h) to glibc gregs. */
static const int greg_of[REP_NREGS] = {REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI, REG_RBP, REG_RSP,
                                       REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
                                       REG_RIP};

void rep_cfi_regs_from_context(const ucontext_t *uc, struct rep_regs *r)
{
    for (int i = 0; i < REP_NREGS; i++) {
        r->v[i] = (uint64_t)uc->uc_mcontext.gregs[greg_of[i]];
        r->valid[i] = 1;
    }
}

/* glibc's __restore_rt (and musl's): mov $15, %rax; syscall. A frame whose pc is here is a signal
 * frame whose ucontext starts at its sp. */
int rep_cfi_is_sigreturn(uint64_t pc)
{
    static const uint8_t code[9] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
    uint8_t got[9];
    return ss_memread(got, pc, sizeof got) == sizeof got && ss_memcmp(got, code, sizeof code) == 0;
}

int rep_cfi_step_sigreturn(struct rep_regs *r)
{
    greg_t g[NGREG];
    if (rep_stack_read(g, r->v[REP_DW_SP] + __builtin_offsetof(ucontext_t, uc_mcontext.gregs), sizeof g) < 0)
        return -1;
    for (int i = 0; i < REP_NREGS; i++) {
        r->v[i] = (uint64_t)g[greg_of[i]];
        r->valid[i] = 1;
    }
    r->exact_pc = 1; /* the interrupted pc itself, not a return address */
    return 1;
}

/* A return address on x86_64 is the address itself. */
uint64_t rep_cfi_return_address(uint64_t ra) { return ra; }
