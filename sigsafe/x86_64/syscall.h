/* x86_64/syscall.h — raw system calls, no libc and no errno.
 * Returns the kernel's value: >= 0 on success, -errno on failure. */
#ifndef SS_X86_64_SYSCALL_H
#define SS_X86_64_SYSCALL_H

static inline long ss_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#endif
