/* aarch64/syscall.h — raw system calls, no libc and no errno.
 * Returns the kernel's value: >= 0 on success, -errno on failure. The number goes in x8, the
 * arguments in x0-x5, the result comes back in x0; svc clobbers nothing else. */
#ifndef SS_AARCH64_SYSCALL_H
#define SS_AARCH64_SYSCALL_H

static inline long ss_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}

/* The thread pointer, TPIDR_EL0 (where glibc, musl and Go's runtime.tls_g find their TLS): readable
 * from user space, so no system call as on x86_64. */
static inline unsigned long ss_tp_read(void)
{
    unsigned long tp;
    __asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp));
    return tp;
}

#endif
