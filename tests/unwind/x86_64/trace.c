/* x86_64/trace.c — instruction tracing for the unwinder's differential test (unwdiff.h says what it does):
 * the trap flag (EFLAGS.TF, bit 8) raises a debug exception, SIGTRAP, after each instruction.
 *
 * Written in assembly with its own CFI: the flags go through the stack (pushfq/popfq), and every instruction
 * after the first popfq is traced, the rest of this function included, so its unwind table must be exact
 * (inline asm in a C function would move the stack under a CFA rule that the compiler does not update). */
#include <signal.h>

#include "../unwdiff.h"

const int unwdiff_trace_sig = SIGTRAP;

/* Every instruction is traced: one run of the chain, nothing to arm. */
int unwdiff_trace_again(unsigned long runs) { return runs == 0; }
void unwdiff_trace_next(void) {}

__asm__(".text\n"
        ".globl unwdiff_trace\n"
        ".type unwdiff_trace, @function\n"
        "unwdiff_trace:\n"
        "  .cfi_startproc\n"
        "  pushfq\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  testl %edi, %edi\n"
        "  jz 1f\n"
        "  orq $0x100, (%rsp)\n"
        "  jmp 2f\n"
        "1:\n"
        "  andq $~0x100, (%rsp)\n"
        "2:\n"
        "  popfq\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  xorl %eax, %eax\n"
        "  ret\n"
        "  .cfi_endproc\n"
        ".size unwdiff_trace, .-unwdiff_trace\n");
