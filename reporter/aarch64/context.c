/* aarch64/context.c — Linux ucontext to the minidump's ARM64 context; the context's self-contained copy.
 *
 * RULES (compromised context): async-signal-safe, no libc; reads only the given ucontext and its own
 * bounded record area.
 */
#include "../rep.h"

#include <ucontext.h>

/* Read-only constants: what the writer is told about this architecture. Breakpad's Linux client writes
 * the "old" ARM64 layout with architecture 0x8003, and that is the one all three readers lastgasp is
 * checked with decode (formats/minidump.h says how each takes it). */
const uint16_t rep_md_cpu_arch = MD_CPU_ARCHITECTURE_ARM64;
const uint32_t rep_md_context_size = sizeof(struct md_context_arm64);

/* The kernel's records in mcontext's __reserved area (arch/arm64/include/uapi/asm/sigcontext.h): a
 * chain of {magic, size} headers ended by magic 0. The FP/SIMD record comes first and is always there. */
#define REC_FPSIMD 0x46508001u /* FPSIMD_MAGIC, which glibc's headers define and musl's do not */
struct fp_record_head {
    uint32_t magic, size;
};

/* The kernel's signal frame holds the whole ucontext, __reserved's 4096 bytes included, and glibc's and
 * musl's ucontext_t have the kernel's layout: one copy makes it self-contained (the FP/SIMD record is
 * inside). Records that need more room (SVE, ZA) live past it through an extra_context record and are
 * not kept. Handler path, any thread. */
void rep_copy_context(ucontext_t *dst, const ucontext_t *src) { ss_memcpy(dst, src, sizeof *dst); }

uint64_t rep_context_pc(const ucontext_t *uc) { return (uint64_t)uc->uc_mcontext.pc; }
uint64_t rep_context_sp(const ucontext_t *uc) { return (uint64_t)uc->uc_mcontext.sp; }
uint64_t rep_context_fp(const ucontext_t *uc) { return (uint64_t)uc->uc_mcontext.regs[29]; }

/* The FP/SIMD record in the context's own __reserved area, or 0. At most one pass over the area. */
static const uint8_t *fpsimd_record(const ucontext_t *uc)
{
    const uint8_t *area = (const uint8_t *)uc->uc_mcontext.__reserved;
    size_t cap = sizeof uc->uc_mcontext.__reserved, at = 0;
    while (at + sizeof(struct fp_record_head) <= cap) {
        struct fp_record_head h;
        ss_memcpy(&h, area + at, sizeof h);
        if (h.magic == 0 || h.size < sizeof h || h.size > cap - at || (h.size & 15))
            return 0;
        if (h.magic == REC_FPSIMD)
            return h.size >= 16 + 32 * 16 ? area + at : 0;
        at += h.size;
    }
    return 0;
}

void rep_context_to_md(const ucontext_t *uc, void *out)
{
    struct md_context_arm64 c;
    ss_memset(&c, 0, sizeof c);
    c.context_flags = MD_CONTEXT_ARM64_OLD_FULL;
    for (int i = 0; i < 31; i++)
        c.iregs[i] = (uint64_t)uc->uc_mcontext.regs[i];
    c.iregs[MD_ARM64_REG_SP] = (uint64_t)uc->uc_mcontext.sp;
    c.iregs[MD_ARM64_REG_PC] = (uint64_t)uc->uc_mcontext.pc;
    c.cpsr = (uint32_t)uc->uc_mcontext.pstate;
    const uint8_t *fp = fpsimd_record(uc);
    if (fp) { /* {magic, size, fpsr, fpcr}, then v0-v31 at 16 */
        ss_memcpy(&c.fpsr, fp + 8, 4);
        ss_memcpy(&c.fpcr, fp + 12, 4);
        ss_memcpy(c.vregs, fp + 16, sizeof c.vregs);
    } else {
        c.context_flags &= ~0x4u; /* no floating-point state in this context */
    }
    ss_memcpy(out, &c, sizeof c);
}

/* The minidump's CPU identification for ARM is {MIDR, AT_HWCAP}. Reading MIDR_EL1 traps to the kernel,
 * which emulates it only when AT_HWCAP says HWCAP_CPUID, and qemu-user's support varies: left 0 (unknown)
 * rather than risk a SIGILL inside the handler. */
void rep_cpuid(uint32_t vendor[3], uint32_t *version, uint32_t *features, uint32_t *amd_features)
{
    vendor[0] = vendor[1] = vendor[2] = 0;
    *version = 0;
    *features = 0;
    *amd_features = 0;
}
