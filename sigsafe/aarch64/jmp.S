/* aarch64/jmp.S — ss_setjmp / ss_longjmp: a minimal non-local jump for the handler's fault guard.
 * Saves only what the AAPCS64 says a callee keeps: x19-x28, the frame pointer x29, the link register
 * x30 (the return address, as bl left it: never signed here, so no PAC instruction is needed), sp and
 * the low halves of v8-v15 (d8-d15). No signal mask (the guard restores the mask with a raw
 * rt_sigprocmask) and no glibc pointer mangling, which refuses jumps across our private stack.
 * ss_jmp_buf (sigsafe.h) holds 22 words: 0-9 x19-x28, 10 x29, 11 x30, 12 sp, 13-20 d8-d15. */
    .text
    .globl ss_setjmp
    .hidden ss_setjmp
    .type ss_setjmp, %function
ss_setjmp:
    stp x19, x20, [x0, #0]
    stp x21, x22, [x0, #16]
    stp x23, x24, [x0, #32]
    stp x25, x26, [x0, #48]
    stp x27, x28, [x0, #64]
    stp x29, x30, [x0, #80]
    mov x16, sp
    str x16, [x0, #96]
    stp d8, d9, [x0, #104]
    stp d10, d11, [x0, #120]
    stp d12, d13, [x0, #136]
    stp d14, d15, [x0, #152]
    mov w0, #0
    ret
    .size ss_setjmp, .-ss_setjmp

    .globl ss_longjmp
    .hidden ss_longjmp
    .type ss_longjmp, %function
ss_longjmp:
    ldp x19, x20, [x0, #0]
    ldp x21, x22, [x0, #16]
    ldp x23, x24, [x0, #32]
    ldp x25, x26, [x0, #48]
    ldp x27, x28, [x0, #64]
    ldp x29, x30, [x0, #80]
    ldr x16, [x0, #96]
    mov sp, x16
    ldp d8, d9, [x0, #104]
    ldp d10, d11, [x0, #120]
    ldp d12, d13, [x0, #136]
    ldp d14, d15, [x0, #152]
    /* setjmp returns v, or 1 when v is 0, as longjmp promises */
    cmp w1, #0
    csinc w0, w1, wzr, ne
    ret
    .size ss_longjmp, .-ss_longjmp

/* ss_call_on_stack(fn, arg, stack_top): call fn(arg) on another stack and come back.
 * The handler pivots here at once to its private guard-paged stack. The old sp lives in x29 across
 * the call (callee-saved), itself saved with x30 on the old stack. */
    .globl ss_call_on_stack
    .hidden ss_call_on_stack
    .type ss_call_on_stack, %function
ss_call_on_stack:
    stp x29, x30, [sp, #-16]!
    mov x29, sp
    and x2, x2, #~15
    mov sp, x2
    mov x16, x0
    mov x0, x1
    blr x16
    mov sp, x29
    ldp x29, x30, [sp], #16
    ret
    .size ss_call_on_stack, .-ss_call_on_stack

/* ss_clone_run(flags, stack_top, tid_word, fn, arg): clone(flags, stack_top, tid_word, 0, tid_word)
 * (arm64's order is flags, stack, parent_tid, tls, child_tid: the kernel's CLONE_BACKWARDS, as glibc's
 * and musl's clone pass it, not x86_64's); the child calls fn(arg)
 * on stack_top and then exits (that one task: SYS_exit, not exit_group). Returns the child's id, or
 * -errno, in the parent. fn and arg travel on the child's new stack, which the parent must not touch
 * until the child is gone; x29 and x30 are zeroed so that a walk of the child ends there. */
    .globl ss_clone_run
    .hidden ss_clone_run
    .type ss_clone_run, %function
ss_clone_run:
    and x1, x1, #~15
    sub x1, x1, #16
    stp x3, x4, [x1]
    mov x4, x2
    mov x3, #0
    mov x8, #220            /* SYS_clone */
    svc #0
    cbnz x0, 1f
    mov x29, #0
    mov x30, #0
    ldp x16, x0, [sp], #16
    blr x16
    mov x0, #0
    mov x8, #93             /* SYS_exit */
    svc #0
    brk #0
1:  ret
    .size ss_clone_run, .-ss_clone_run

    .section .note.GNU-stack,"",%progbits
