/* x86_64/context.c — Linux ucontext to the minidump's AMD64 context; the context's self-contained copy; cpuid.
 *
 * RULES (compromised context): async-signal-safe, no libc; reads only the given ucontext (and, in
 * rep_copy_context, the FP state the kernel's frame holds next to it).
 */
#include "../rep.h"

#include <ucontext.h>

/* Read-only constants: what the writer is told about this architecture. */
const uint16_t rep_md_cpu_arch = MD_CPU_ARCHITECTURE_AMD64;
const uint32_t rep_md_context_size = sizeof(struct md_context_amd64);

/* glibc's ucontext_t keeps the FXSAVE image in __fpregs_mem; the kernel's frame keeps it elsewhere.
 * Copy both and point the copy's fpregs at its own image. musl's ucontext_t has the same 512 bytes
 * there, typed as unsigned long[64] (hence the cast). Handler path, any thread. */
void rep_copy_context(ucontext_t *dst, const ucontext_t *src)
{
    ss_memcpy(dst, src, sizeof *dst);
    /* The kernel puts the FP state just above the ucontext in the same signal frame, which it has
     * just written: copy that directly. ss_memread would make the crashing thread and every captured
     * thread call process_vm_readv, which a seccomp filter may kill them (or the process) for. */
    uint64_t fp = (uint64_t)(uintptr_t)src->uc_mcontext.fpregs, at = (uint64_t)(uintptr_t)src;
    if (fp > at && fp - at < (64u << 10))
        ss_memcpy(&dst->__fpregs_mem, (const void *)(uintptr_t)fp, sizeof dst->__fpregs_mem);
    else if (fp && ss_memread(&dst->__fpregs_mem, fp, sizeof dst->__fpregs_mem) < 0)
        ss_memset(&dst->__fpregs_mem, 0, sizeof dst->__fpregs_mem);
    dst->uc_mcontext.fpregs = (void *)&dst->__fpregs_mem;
}

uint64_t rep_context_pc(const ucontext_t *uc) { return (uint64_t)uc->uc_mcontext.gregs[REG_RIP]; }
uint64_t rep_context_sp(const ucontext_t *uc) { return (uint64_t)uc->uc_mcontext.gregs[REG_RSP]; }
uint64_t rep_context_fp(const ucontext_t *uc) { return (uint64_t)uc->uc_mcontext.gregs[REG_RBP]; }

void rep_context_to_md(const ucontext_t *uc, void *out)
{
    struct md_context_amd64 *c = out;
    const greg_t *g = uc->uc_mcontext.gregs;
    ss_memset(c, 0, sizeof *c);
    c->context_flags = MD_CONTEXT_AMD64_FULL;
    c->cs = (uint16_t)(g[REG_CSGSFS] & 0xffff);
    c->gs = (uint16_t)((g[REG_CSGSFS] >> 16) & 0xffff);
    c->fs = (uint16_t)((g[REG_CSGSFS] >> 32) & 0xffff);
    c->eflags = (uint32_t)g[REG_EFL];
    c->rax = (uint64_t)g[REG_RAX];
    c->rcx = (uint64_t)g[REG_RCX];
    c->rdx = (uint64_t)g[REG_RDX];
    c->rbx = (uint64_t)g[REG_RBX];
    c->rsp = (uint64_t)g[REG_RSP];
    c->rbp = (uint64_t)g[REG_RBP];
    c->rsi = (uint64_t)g[REG_RSI];
    c->rdi = (uint64_t)g[REG_RDI];
    c->r8 = (uint64_t)g[REG_R8];
    c->r9 = (uint64_t)g[REG_R9];
    c->r10 = (uint64_t)g[REG_R10];
    c->r11 = (uint64_t)g[REG_R11];
    c->r12 = (uint64_t)g[REG_R12];
    c->r13 = (uint64_t)g[REG_R13];
    c->r14 = (uint64_t)g[REG_R14];
    c->r15 = (uint64_t)g[REG_R15];
    c->rip = (uint64_t)g[REG_RIP];
    /* Linux's fpstate starts with the 512-byte FXSAVE image, byte for byte what the minidump wants. */
    if (uc->uc_mcontext.fpregs) {
        ss_memcpy(c->flt_save, uc->uc_mcontext.fpregs, sizeof c->flt_save);
        c->mx_csr = uc->uc_mcontext.fpregs->mxcsr;
    }
}

void rep_cpuid(uint32_t vendor[3], uint32_t *version, uint32_t *features, uint32_t *amd_features)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
    vendor[0] = b;
    vendor[1] = d;
    vendor[2] = c;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    *version = a;
    *features = d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u), "c"(0));
    *amd_features = d;
}
