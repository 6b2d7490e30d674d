/* test_jmp.c — sigsafe/<arch>/jmp.S, x86_64 or aarch64: ss_setjmp/ss_longjmp (callee-saved registers and the
 * stack pointer restored), ss_call_on_stack, ss_clone_run.
 *
 * Output: one line per failed check, then "N passed, M failed"; exit status 0 when M is 0. Also built
 * from source under ASan and UBSan (Makefile: build/tests/unit/sigsafe/test_jmp_asan).
 */
#include "sigsafe/sigsafe.h"
#include "tests/unit/check.h"
#include "tests/unit/sigsafe/sstest.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "test_jmp.c tests sigsafe/<arch>/jmp.S: x86_64 or aarch64"
#endif

/* ---- <arch>/jmp.S ---- */

static ss_jmp_buf jb;

/* Under ASan the compiler precedes each call of a noreturn function such as ss_longjmp with
 * __asan_handle_no_return, which unpoisons the stack the jump abandons. */
__attribute__((noinline, noreturn)) static void jump_out(ss_jmp_buf to, int v) { ss_longjmp(to, v); }

/* Three frames deep, each with a local the jump must skip. */
__attribute__((noinline, noreturn)) static void jump_depth3(int v)
{
    volatile char pad[64];
    pad[0] = 3;
    jump_out(jb, pad[0] == 3 ? v : -2);
}

__attribute__((noinline, noreturn)) static void jump_depth2(int v)
{
    volatile char pad[64];
    pad[0] = 2;
    jump_depth3(pad[0] == 2 ? v : -2);
}

__attribute__((noinline, noreturn)) static void jump_depth1(int v)
{
    volatile char pad[64];
    pad[0] = 1;
    jump_depth2(pad[0] == 1 ? v : -2);
}

/* Leaves garbage in every callee-saved register it may touch, then jumps without restoring them. */
__attribute__((noinline)) static void clobber_and_jump(int v)
{
#if defined(__aarch64__)
    __asm__ volatile("mov x19, #-1\n\tmov x20, #-1\n\tmov x21, #-1\n\tmov x22, #-1\n\tmov x23, #-1\n\t"
                     "mov x24, #-1\n\tmov x25, #-1\n\tmov x26, #-1\n\tmov x27, #-1\n\tmov x28, #-1\n\t"
                     "movi d8, #-1\n\tmovi d9, #-1\n\tmovi d10, #-1\n\tmovi d11, #-1\n\t"
                     "movi d12, #-1\n\tmovi d13, #-1\n\tmovi d14, #-1\n\tmovi d15, #-1\n\t" ::
                         : "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "d8", "d9",
                           "d10", "d11", "d12", "d13", "d14", "d15");
#else
    __asm__ volatile("movq $-1, %%rbx\n\t"
                     "movq $-1, %%r12\n\t"
                     "movq $-1, %%r13\n\t"
                     "movq $-1, %%r14\n\t"
                     "movq $-1, %%r15\n\t" ::
                         : "rbx", "r12", "r13", "r14", "r15");
#endif
    jump_out(jb, v);
}

#if defined(__aarch64__)
/* int sstest_jmp_regs(ss_jmp_buf jb, uint64_t out[20]): puts known values in x19-x29 and d8-d15, calls
 * ss_setjmp, overwrites all of them and calls ss_longjmp(jb, 5); on the second return stores x19-x29
 * (out[0..10]), d8-d15 (out[11..18]) and the stack pointer's distance from its value at the ss_setjmp call
 * (out[19]), and returns 5. */
__asm__(".text\n"
        ".globl sstest_jmp_regs\n"
        ".hidden sstest_jmp_regs\n"
        ".type sstest_jmp_regs, %function\n"
        "sstest_jmp_regs:\n"
        "    stp x29, x30, [sp, #-192]!\n"
        "    stp x19, x20, [sp, #16]\n"
        "    stp x21, x22, [sp, #32]\n"
        "    stp x23, x24, [sp, #48]\n"
        "    stp x25, x26, [sp, #64]\n"
        "    stp x27, x28, [sp, #80]\n"
        "    stp d8, d9, [sp, #96]\n"
        "    stp d10, d11, [sp, #112]\n"
        "    stp d12, d13, [sp, #128]\n"
        "    stp d14, d15, [sp, #144]\n"
        "    stp x0, x1, [sp, #160]\n"
        "    mov x9, sp\n"
        "    str x9, [sp, #176]\n"
        "    ldr x19, =0x1919191919191919\n"
        "    ldr x20, =0x2020202020202020\n"
        "    ldr x21, =0x2121212121212121\n"
        "    ldr x22, =0x2222222222222222\n"
        "    ldr x23, =0x2323232323232323\n"
        "    ldr x24, =0x2424242424242424\n"
        "    ldr x25, =0x2525252525252525\n"
        "    ldr x26, =0x2626262626262626\n"
        "    ldr x27, =0x2727272727272727\n"
        "    ldr x28, =0x2828282828282828\n"
        "    ldr x29, =0x2929292929292929\n"
        "    ldr x9, =0x0808080808080808\n"
        "    fmov d8, x9\n"
        "    ldr x9, =0x0909090909090909\n"
        "    fmov d9, x9\n"
        "    ldr x9, =0x1010101010101010\n"
        "    fmov d10, x9\n"
        "    ldr x9, =0x1111111111111111\n"
        "    fmov d11, x9\n"
        "    ldr x9, =0x1212121212121212\n"
        "    fmov d12, x9\n"
        "    ldr x9, =0x1313131313131313\n"
        "    fmov d13, x9\n"
        "    ldr x9, =0x1414141414141414\n"
        "    fmov d14, x9\n"
        "    ldr x9, =0x1515151515151515\n"
        "    fmov d15, x9\n"
        "    ldr x0, [sp, #160]\n"
        "    bl ss_setjmp\n"
        "    cbnz w0, 1f\n"
        "    mov x19, #-1\n    mov x20, #-1\n    mov x21, #-1\n    mov x22, #-1\n    mov x23, #-1\n"
        "    mov x24, #-1\n    mov x25, #-1\n    mov x26, #-1\n    mov x27, #-1\n    mov x28, #-1\n"
        "    mov x29, #-1\n"
        "    movi d8, #-1\n    movi d9, #-1\n    movi d10, #-1\n    movi d11, #-1\n"
        "    movi d12, #-1\n    movi d13, #-1\n    movi d14, #-1\n    movi d15, #-1\n"
        "    ldr x0, [sp, #160]\n"
        "    mov w1, #5\n"
        "    bl ss_longjmp\n"
        "1:  ldr x9, [sp, #168]\n"
        "    stp x19, x20, [x9, #0]\n"
        "    stp x21, x22, [x9, #16]\n"
        "    stp x23, x24, [x9, #32]\n"
        "    stp x25, x26, [x9, #48]\n"
        "    stp x27, x28, [x9, #64]\n"
        "    str x29, [x9, #80]\n"
        "    stp d8, d9, [x9, #88]\n"
        "    stp d10, d11, [x9, #104]\n"
        "    stp d12, d13, [x9, #120]\n"
        "    stp d14, d15, [x9, #136]\n"
        "    mov x10, sp\n"
        "    ldr x11, [sp, #176]\n"
        "    sub x10, x10, x11\n"
        "    str x10, [x9, #152]\n"
        "    ldp x19, x20, [sp, #16]\n"
        "    ldp x21, x22, [sp, #32]\n"
        "    ldp x23, x24, [sp, #48]\n"
        "    ldp x25, x26, [sp, #64]\n"
        "    ldp x27, x28, [sp, #80]\n"
        "    ldp d8, d9, [sp, #96]\n"
        "    ldp d10, d11, [sp, #112]\n"
        "    ldp d12, d13, [sp, #128]\n"
        "    ldp d14, d15, [sp, #144]\n"
        "    ldp x29, x30, [sp], #192\n"
        "    ret\n"
        "    .ltorg\n"
        ".size sstest_jmp_regs, .-sstest_jmp_regs\n");
int sstest_jmp_regs(ss_jmp_buf buf, uint64_t out[20]);
#else
/* int sstest_jmp_regs(ss_jmp_buf jb, uint64_t out[7]): puts known values in rbx, rbp, r12-r15, calls
 * ss_setjmp, overwrites all six with -1 and calls ss_longjmp(jb, 5); on the second return stores the six
 * registers and the stack pointer's distance from its value at the ss_setjmp call in out, and returns 5. */
__asm__(".text\n"
        ".globl sstest_jmp_regs\n"
        ".hidden sstest_jmp_regs\n"
        ".type sstest_jmp_regs, @function\n"
        "sstest_jmp_regs:\n"
        "    pushq %rbx\n"
        "    pushq %rbp\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $24, %rsp\n" /* 8 + 6*8 + 24: aligned to 16 at the calls below */
        "    movq %rdi, 0(%rsp)\n"
        "    movq %rsi, 8(%rsp)\n"
        "    movq %rsp, 16(%rsp)\n"
        "    movabsq $0x1111111111111111, %rbx\n"
        "    movabsq $0x2222222222222222, %rbp\n"
        "    movabsq $0x3333333333333333, %r12\n"
        "    movabsq $0x4444444444444444, %r13\n"
        "    movabsq $0x5555555555555555, %r14\n"
        "    movabsq $0x6666666666666666, %r15\n"
        "    movq 0(%rsp), %rdi\n"
        "    call ss_setjmp\n"
        "    testl %eax, %eax\n"
        "    jnz 1f\n"
        "    movq $-1, %rbx\n"
        "    movq $-1, %rbp\n"
        "    movq $-1, %r12\n"
        "    movq $-1, %r13\n"
        "    movq $-1, %r14\n"
        "    movq $-1, %r15\n"
        "    movq 0(%rsp), %rdi\n"
        "    movl $5, %esi\n"
        "    call ss_longjmp\n"
        "1:  movq 8(%rsp), %rcx\n"
        "    movq %rbx, 0(%rcx)\n"
        "    movq %rbp, 8(%rcx)\n"
        "    movq %r12, 16(%rcx)\n"
        "    movq %r13, 24(%rcx)\n"
        "    movq %r14, 32(%rcx)\n"
        "    movq %r15, 40(%rcx)\n"
        "    movq %rsp, %rdx\n"
        "    subq 16(%rsp), %rdx\n"
        "    movq %rdx, 48(%rcx)\n"
        "    addq $24, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbp\n"
        "    popq %rbx\n"
        "    ret\n"
        ".size sstest_jmp_regs, .-sstest_jmp_regs\n");
int sstest_jmp_regs(ss_jmp_buf buf, uint64_t out[7]);
#endif

/* ss_setjmp, then ss_longjmp(v) from three frames down; returns what the second ss_setjmp return gave. */
__attribute__((noinline)) static int setjmp_roundtrip(int v, int *first)
{
    volatile int jumped = 0;
    volatile int r = ss_setjmp(jb);
    if (!jumped) {
        jumped = 1;
        *first = r;
        jump_depth1(v);
    }
    return r;
}

static void test_setjmp(void)
{
    static const int values[] = {42, 0, 1, -1, INT_MAX, INT_MIN, 7};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        int first = -1;
        int r = setjmp_roundtrip(values[i], &first);
        int want = values[i] == 0 ? 1 : values[i];
        CHECK_MSG(first == 0 && r == want, "ss_longjmp(jb, %d): ss_setjmp returned %d then %d", values[i], first, r);
    }

    /* Values held across the call in callee-saved registers come back though the jumping function
     * left garbage in those registers. */
    volatile uint64_t seed = 0x1234;
    uint64_t a = seed * 3, b = seed ^ 0xff, c = seed + 77, d = seed << 7, e = seed * seed, f = ~seed;
    volatile int phase = 0;
    if (ss_setjmp(jb) == 0) {
        phase = 1;
        clobber_and_jump(9);
    }
    CHECK(phase == 1);
    CHECK_EQ_U64(a, 0x1234u * 3);
    CHECK_EQ_U64(b, 0x1234u ^ 0xff);
    CHECK_EQ_U64(c, 0x1234u + 77);
    CHECK_EQ_U64(d, 0x1234u << 7);
    CHECK_EQ_U64(e, 0x1234u * 0x1234u);
    CHECK_EQ_U64(f, ~(uint64_t)0x1234);

    /* The same at the register level, where no compiler can hide a mistake. */
#if defined(__aarch64__)
    static const uint64_t want[19] = {0x1919191919191919u, 0x2020202020202020u, 0x2121212121212121u,
                                      0x2222222222222222u, 0x2323232323232323u, 0x2424242424242424u,
                                      0x2525252525252525u, 0x2626262626262626u, 0x2727272727272727u,
                                      0x2828282828282828u, 0x2929292929292929u, 0x0808080808080808u,
                                      0x0909090909090909u, 0x1010101010101010u, 0x1111111111111111u,
                                      0x1212121212121212u, 0x1313131313131313u, 0x1414141414141414u,
                                      0x1515151515151515u};
    uint64_t regs[20];
    memset(regs, 0, sizeof regs);
    ss_jmp_buf local;
    CHECK(sstest_jmp_regs(local, regs) == 5);
    for (int i = 0; i < 19; i++)
        CHECK_MSG(regs[i] == want[i], "%s%d after ss_longjmp: %#llx, want %#llx", i < 11 ? "x" : "d",
                  i < 11 ? 19 + i : i - 3, (unsigned long long)regs[i], (unsigned long long)want[i]);
    CHECK_EQ_U64(regs[19], 0); /* the stack pointer, exactly as at the call */
#else
    uint64_t regs[7];
    memset(regs, 0, sizeof regs);
    ss_jmp_buf local;
    CHECK(sstest_jmp_regs(local, regs) == 5);
    CHECK_EQ_U64(regs[0], 0x1111111111111111u);
    CHECK_EQ_U64(regs[1], 0x2222222222222222u);
    CHECK_EQ_U64(regs[2], 0x3333333333333333u);
    CHECK_EQ_U64(regs[3], 0x4444444444444444u);
    CHECK_EQ_U64(regs[4], 0x5555555555555555u);
    CHECK_EQ_U64(regs[5], 0x6666666666666666u);
    CHECK_EQ_U64(regs[6], 0); /* the stack pointer, exactly as at the call */
#endif
}

struct on_stack {
    uintptr_t local, frame;
    void *arg;
    int ran;
};

__attribute__((noinline)) static void on_stack_fn(void *arg)
{
    struct on_stack *o = arg;
    volatile char local[32];
    local[0] = 1;
    uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
    __asm__ volatile("" : "+r"(frame)); /* hide the frame's alignment from the optimiser */
    o->local = (uintptr_t)&local[0];
    o->frame = frame;
    o->arg = arg;
    o->ran++;
}

/* No ASan here: it would try to unpoison the frames "below" us on a stack it does not know, and warn. */
__attribute__((noinline, no_sanitize_address)) static void on_stack_jump(void *arg)
{
    struct on_stack *o = arg;
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    __asm__ volatile("" : "+r"(here));
    o->frame = here;
    o->ran++;
    ss_longjmp(jb, 3); /* out of the private stack, as the fault guard does */
}

static void test_call_on_stack(void)
{
    size_t size = 64 * 1024;
    uint8_t *stack = map_pages(size / page_size());
    volatile uint64_t canary = 0xfeedface;
    struct on_stack o;
    memset(&o, 0, sizeof o);
    ss_call_on_stack(on_stack_fn, &o, stack + size - 3); /* an unaligned top is rounded down */
    CHECK(o.ran == 1 && o.arg == &o);
    CHECK_MSG(o.local >= (uintptr_t)stack && o.local < (uintptr_t)stack + size,
              "a local of the called function is at %#lx, the stack is [%p, %p)", (unsigned long)o.local,
              (void *)stack, (void *)(stack + size));
    CHECK((o.frame & 15) == 0); /* rsp was 16-byte aligned at the call, as the ABI wants */
    CHECK(o.frame >= (uintptr_t)stack && o.frame < (uintptr_t)stack + size);
    CHECK(canary == 0xfeedface);
    /* Twice, from the same stack: it comes back each time with our own stack intact. */
    ss_call_on_stack(on_stack_fn, &o, stack + size);
    CHECK(o.ran == 2 && canary == 0xfeedface);

    memset(&o, 0, sizeof o);
    volatile int jumped = 0;
    volatile int r = ss_setjmp(jb);
    if (r == 0 && !jumped) {
        jumped = 1;
        ss_call_on_stack(on_stack_jump, &o, stack + size);
        CHECK(!"on_stack_jump returned");
    }
    CHECK(r == 3 && o.ran == 1 && o.frame >= (uintptr_t)stack && o.frame < (uintptr_t)stack + size);
    CHECK(canary == 0xfeedface);
    munmap(stack, size);
}

/* ss_clone_run: the child shares memory, runs on the stack given, and its end clears and wakes the tid. */
static volatile int clone_tid, clone_seen;
static void clone_body(void *arg) { clone_seen = *(int *)arg + (int)syscall(SYS_getpid); }
static void test_clone_run(void)
{
    size_t size = 64 << 10;
    uint8_t *stack = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int arg = 1000000;
    /* As a thread first (CLONE_THREAD | CLONE_SYSVSEM too), which qemu-user emulates as well: the same entry
     * and exit code, the child's pid is ours. */
    clone_seen = 0;
    long tid = ss_clone_run(0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x100000 | 0x200000,
                            stack + size, &clone_tid, clone_body, &arg);
    CHECK(tid > 0);
    for (int i = 0; i < 500 && clone_tid; i++)
        ss_futex_wait(&clone_tid, (int)tid, 10000000);
    /* Cleared and woken by the kernel (or qemu-user) at the child's end: the word must reach it as the child's
     * tid pointer, which arm64 and x86_64 take in different argument slots. */
    CHECK_MSG(clone_tid == 0, "clone_tid %d, tid %ld", clone_tid, tid);
    CHECK(clone_seen == arg + getpid());
    /* The helper's flags: a task of its own that shares our memory. qemu-user refuses them (EINVAL), and the
     * handler then reports on the crashing thread (reporter/isolate.c). */
    clone_seen = 0;
    long pid = ss_clone_run(0x100 | 0x200 | 0x400 | 0x800 | 0x100000 | 0x200000, stack + size, &clone_tid,
                            clone_body, &arg);
    if (under_qemu()) {
        CHECK(pid == -EINVAL);
        munmap(stack, size);
        return;
    }
    CHECK(pid > 0);
    for (int i = 0; i < 500 && clone_tid; i++)
        ss_futex_wait(&clone_tid, pid, 10000000);
    CHECK(clone_tid == 0);
    CHECK(clone_seen == arg + pid); /* its own process id, our memory */
    waitpid((pid_t)pid, 0, __WALL);
    munmap(stack, size);
}

int main(void)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    test_setjmp();
    test_call_on_stack();
    test_clone_run();
    return check_summary();
}
