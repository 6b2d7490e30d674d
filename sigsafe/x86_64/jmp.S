/* x86_64/jmp.S — ss_setjmp / ss_longjmp: a minimal non-local jump for the handler's fault guard.
 * Saves only the callee-saved registers, the stack pointer and the return address; no signal mask
 * (the guard restores the mask with a raw rt_sigprocmask) and no glibc pointer mangling or
 * stack-frame checks, which refuse jumps across our private stack. */
    .text
    .globl ss_setjmp
    .hidden ss_setjmp
    .type ss_setjmp, @function
ss_setjmp:
    movq %rbx, 0(%rdi)
    movq %rbp, 8(%rdi)
    movq %r12, 16(%rdi)
    movq %r13, 24(%rdi)
    movq %r14, 32(%rdi)
    movq %r15, 40(%rdi)
    leaq 8(%rsp), %rdx
    movq %rdx, 48(%rdi)
    movq (%rsp), %rdx
    movq %rdx, 56(%rdi)
    xorl %eax, %eax
    ret
    .size ss_setjmp, .-ss_setjmp

    .globl ss_longjmp
    .hidden ss_longjmp
    .type ss_longjmp, @function
ss_longjmp:
    movl %esi, %eax
    testl %eax, %eax
    jnz 1f
    incl %eax
1:  movq 0(%rdi), %rbx
    movq 8(%rdi), %rbp
    movq 16(%rdi), %r12
    movq 24(%rdi), %r13
    movq 32(%rdi), %r14
    movq 40(%rdi), %r15
    movq 48(%rdi), %rsp
    jmpq *56(%rdi)
    .size ss_longjmp, .-ss_longjmp

/* ss_call_on_stack(fn, arg, stack_top): call fn(arg) on another stack and come back.
 * The handler pivots here at once to its private guard-paged stack. */
    .globl ss_call_on_stack
    .hidden ss_call_on_stack
    .type ss_call_on_stack, @function
ss_call_on_stack:
    pushq %rbp
    movq %rsp, %rbp
    andq $-16, %rdx
    movq %rdx, %rsp
    movq %rdi, %rax
    movq %rsi, %rdi
    callq *%rax
    movq %rbp, %rsp
    popq %rbp
    ret
    .size ss_call_on_stack, .-ss_call_on_stack

/* ss_clone_run(flags, stack_top, tid_word, fn, arg): clone(flags, stack_top, tid_word, tid_word, 0);
 * the child calls fn(arg) on stack_top and then exits (that one task: SYS_exit, not exit_group).
 * Returns the child's id, or -errno, in the parent. The child starts with no frame: fn and arg
 * travel on its new stack, which the parent must not touch until the child is gone. */
    .globl ss_clone_run
    .hidden ss_clone_run
    .type ss_clone_run, @function
ss_clone_run:
    andq $-16, %rsi
    subq $16, %rsi
    movq %rcx, 0(%rsi)
    movq %r8, 8(%rsi)
    movq %rdx, %r10
    xorl %r8d, %r8d
    movl $56, %eax
    syscall
    testq %rax, %rax
    jnz 1f
    xorl %ebp, %ebp
    popq %rax
    popq %rdi
    callq *%rax
    movl $60, %eax
    xorl %edi, %edi
    syscall
    hlt
1:  ret
    .size ss_clone_run, .-ss_clone_run

    .section .note.GNU-stack,"",@progbits
