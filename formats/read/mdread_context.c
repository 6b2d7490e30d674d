/* mdread_context.c — CPU contexts: every layout Linux minidumps carry, decoded into one struct mdr_context.
 *
 * Normal context (heap, stdio). The layouts are in formats/minidump/minidump.h. Which layout a context has is
 * decided as Breakpad's processor decides it (processor/minidump.cc, MinidumpContext::Read): SystemInfo's
 * architecture names the family; inside the arm64 family the CPU-type bits of context_flags tell Breakpad's
 * 796-byte layout (0x80000000, which Breakpad's Linux client writes) from the 912-byte MD_CONTEXT_ARM64 one
 * (0x00400000, Crashpad's); without SystemInfo the sizes unique to amd64 (1232) and old arm64 (796) decide,
 * then the CPU-type bits. rust-minidump is stricter (architecture 12 must be the new layout, 0x8003 the old
 * one); taking both in both families reads every dump either of them reads.
 */
#include "mdread_int.h"

#include <stddef.h>
#include <string.h>

const char *const mdr_reg_names[MDR_NREGS] = {
    "rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "eflags",
};

const char *const mdr_reg_names_arm64[MDR_ARM64_NREGS] = {
    "pc", "sp", "fp", "lr", "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
    "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27",
    "x28", "cpsr",
};

const char *const mdr_reg_names_x86[MDR_X86_NREGS] = {
    "eip", "esp", "ebp", "eax", "ebx", "ecx", "edx", "esi", "edi", "eflags",
};

const char *const mdr_reg_names_arm[MDR_ARM_NREGS] = {
    "pc", "sp", "lr", "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "cpsr",
};

uint64_t mdr_context_pc(const struct mdr_context *ctx)
{
    switch (ctx->arch) {
    case MDR_ARCH_AMD64: return ctx->reg[MDR_RIP];
    case MDR_ARCH_ARM64: return ctx->reg[MDR_ARM64_PC];
    case MDR_ARCH_X86: return ctx->reg[MDR_X86_EIP];
    case MDR_ARCH_ARM: return ctx->reg[MDR_ARM_PC];
    default: return 0;
    }
}

uint64_t mdr_context_sp(const struct mdr_context *ctx)
{
    switch (ctx->arch) {
    case MDR_ARCH_AMD64: return ctx->reg[MDR_RSP];
    case MDR_ARCH_ARM64: return ctx->reg[MDR_ARM64_SP];
    case MDR_ARCH_X86: return ctx->reg[MDR_X86_ESP];
    case MDR_ARCH_ARM: return ctx->reg[MDR_ARM_SP];
    default: return 0;
    }
}

uint64_t mdr_context_fp(const struct mdr_context *ctx)
{
    switch (ctx->arch) {
    case MDR_ARCH_AMD64: return ctx->reg[MDR_RBP];
    case MDR_ARCH_ARM64: return ctx->reg[MDR_ARM64_FP];
    case MDR_ARCH_X86: return ctx->reg[MDR_X86_EBP];
    case MDR_ARCH_ARM: return ctx->reg[MDR_ARM_R0 + MD_ARM_REG_FP];
    default: return 0;
    }
}

uint64_t mdr_context_lr(const struct mdr_context *ctx)
{
    switch (ctx->arch) {
    case MDR_ARCH_ARM64: return ctx->reg[MDR_ARM64_LR];
    case MDR_ARCH_ARM: return ctx->reg[MDR_ARM_LR];
    default: return 0;
    }
}

unsigned mdr_context_word(const struct mdr_context *ctx)
{
    switch (ctx->arch) {
    case MDR_ARCH_AMD64: case MDR_ARCH_ARM64: return 8;
    case MDR_ARCH_X86: case MDR_ARCH_ARM: return 4;
    default: return 0;
    }
}

/* The layouts this file decodes. */
enum layout { L_NONE, L_AMD64, L_X86, L_ARM, L_ARM64_OLD, L_ARM64 };

static const struct layout_info {
    const char *name;
    size_t size;
    uint32_t cpu_bit;         /* the CPU-type bit its context_flags must carry */
} layouts[] = {
    [L_NONE] = { NULL, 0, 0 },
    [L_AMD64] = { "amd64", sizeof(struct md_context_amd64), 0x00100000u },
    [L_X86] = { "x86", sizeof(struct md_context_x86), MD_CONTEXT_X86 },
    [L_ARM] = { "arm", sizeof(struct md_context_arm), MD_CONTEXT_ARM },
    [L_ARM64_OLD] = { "arm64", sizeof(struct md_context_arm64), MD_CONTEXT_ARM64_OLD },
    [L_ARM64] = { "arm64", sizeof(struct md_context_arm64_ms), MD_CONTEXT_ARM64 },
};

static enum layout arm64_layout(uint32_t flags, uint32_t size)
{
    if ((flags & MD_CONTEXT_CPU_MASK) == MD_CONTEXT_ARM64)
        return L_ARM64;
    if ((flags & MD_CONTEXT_ARM64_OLD) || size < sizeof(struct md_context_arm64_ms))
        return L_ARM64_OLD;
    return L_ARM64;
}

static enum layout choose(const struct mdr_sysinfo *si, uint32_t flags, uint32_t size)
{
    if (si->present) {
        switch (si->arch) {
        case MD_CPU_ARCHITECTURE_AMD64: return L_AMD64;
        case MD_CPU_ARCHITECTURE_X86: return L_X86;
        case MD_CPU_ARCHITECTURE_ARM: return L_ARM;
        case MD_CPU_ARCHITECTURE_ARM64: case MD_CPU_ARCHITECTURE_ARM64_MS: return arm64_layout(flags, size);
        default: return L_NONE;
        }
    }
    if (size == sizeof(struct md_context_amd64))
        return L_AMD64;
    if (size == sizeof(struct md_context_arm64))
        return L_ARM64_OLD;
    switch (flags & MD_CONTEXT_CPU_MASK) {
    case MD_CONTEXT_X86: return L_X86;
    case MD_CONTEXT_ARM: return L_ARM;
    case MD_CONTEXT_ARM64: return L_ARM64;
    default: return L_NONE;
    }
}

static void set_arch(struct mdr_context *ctx, enum mdr_arch arch, uint32_t nregs, const char *const *names)
{
    ctx->arch = arch;
    ctx->nregs = nregs;
    ctx->reg_names = names;
}

static void decode_amd64(const uint8_t *p, struct mdr_context *ctx)
{
    struct md_context_amd64 c;
    uint64_t *r = ctx->reg;

    memcpy(&c, p, sizeof c);
    set_arch(ctx, MDR_ARCH_AMD64, MDR_NREGS, mdr_reg_names);
    r[MDR_RIP] = c.rip, r[MDR_RSP] = c.rsp, r[MDR_RBP] = c.rbp;
    r[MDR_RAX] = c.rax, r[MDR_RBX] = c.rbx, r[MDR_RCX] = c.rcx, r[MDR_RDX] = c.rdx;
    r[MDR_RSI] = c.rsi, r[MDR_RDI] = c.rdi;
    r[MDR_R8] = c.r8, r[MDR_R9] = c.r9, r[MDR_R10] = c.r10, r[MDR_R11] = c.r11;
    r[MDR_R12] = c.r12, r[MDR_R13] = c.r13, r[MDR_R14] = c.r14, r[MDR_R15] = c.r15;
    r[MDR_EFLAGS] = c.eflags;
}

static void decode_x86(const uint8_t *p, struct mdr_context *ctx)
{
    struct md_context_x86 c;
    uint64_t *r = ctx->reg;

    memcpy(&c, p, sizeof c);
    set_arch(ctx, MDR_ARCH_X86, MDR_X86_NREGS, mdr_reg_names_x86);
    r[MDR_X86_EIP] = c.eip, r[MDR_X86_ESP] = c.esp, r[MDR_X86_EBP] = c.ebp;
    r[MDR_X86_EAX] = c.eax, r[MDR_X86_EBX] = c.ebx, r[MDR_X86_ECX] = c.ecx, r[MDR_X86_EDX] = c.edx;
    r[MDR_X86_ESI] = c.esi, r[MDR_X86_EDI] = c.edi, r[MDR_X86_EFLAGS] = c.eflags;
}

static void decode_arm(const uint8_t *p, struct mdr_context *ctx)
{
    struct md_context_arm c;
    uint64_t *r = ctx->reg;

    memcpy(&c, p, sizeof c);
    set_arch(ctx, MDR_ARCH_ARM, MDR_ARM_NREGS, mdr_reg_names_arm);
    r[MDR_ARM_PC] = c.iregs[MD_ARM_REG_PC];
    r[MDR_ARM_SP] = c.iregs[MD_ARM_REG_SP];
    r[MDR_ARM_LR] = c.iregs[MD_ARM_REG_LR];
    for (int i = 0; i < 13; i++)
        r[MDR_ARM_R0 + i] = c.iregs[i];
    r[MDR_ARM_CPSR] = c.cpsr;
}

/* Both arm64 layouts hold the same integer registers: x0-x30, sp, pc, cpsr. */
static void arm64_regs(struct mdr_context *ctx, const uint64_t *x, uint64_t sp, uint64_t pc, uint32_t cpsr)
{
    uint64_t *r = ctx->reg;

    set_arch(ctx, MDR_ARCH_ARM64, MDR_ARM64_NREGS, mdr_reg_names_arm64);
    r[MDR_ARM64_PC] = pc;
    r[MDR_ARM64_SP] = sp;
    r[MDR_ARM64_FP] = x[MD_ARM64_REG_FP];
    r[MDR_ARM64_LR] = x[MD_ARM64_REG_LR];
    for (int i = 0; i < 29; i++)
        r[MDR_ARM64_X0 + i] = x[i];
    r[MDR_ARM64_CPSR] = cpsr;
}

static void decode_arm64_old(const uint8_t *p, struct mdr_context *ctx)
{
    struct md_context_arm64 c;
    uint64_t x[33];

    memcpy(&c, p, sizeof c);
    memcpy(x, p + offsetof(struct md_context_arm64, iregs), sizeof x); /* packed: not through a pointer */
    arm64_regs(ctx, x, x[MD_ARM64_REG_SP], x[MD_ARM64_REG_PC], c.cpsr);
}

static void decode_arm64(const uint8_t *p, struct mdr_context *ctx)
{
    struct md_context_arm64_ms c;
    uint64_t x[31];

    memcpy(&c, p, sizeof c);
    memcpy(x, p + offsetof(struct md_context_arm64_ms, iregs), sizeof x); /* packed: not through a pointer */
    arm64_regs(ctx, x, c.sp, c.pc, c.cpsr);
}

static void (*const decoders[])(const uint8_t *, struct mdr_context *) = {
    [L_AMD64] = decode_amd64, [L_X86] = decode_x86, [L_ARM] = decode_arm,
    [L_ARM64_OLD] = decode_arm64_old, [L_ARM64] = decode_arm64,
};

void mdr_read_context(struct mdr_reader *rd, const struct md_location *loc, struct mdr_context *ctx,
                    const char *who)
{
    const struct mdr_sysinfo *si = &rd->md->sysinfo;
    const struct layout_info *li;
    const uint8_t *p;
    uint32_t flags = 0;
    enum layout l;

    memset(ctx, 0, sizeof *ctx);
    if (loc->data_size == 0)
        return;
    p = mdr_at(rd, loc->rva, loc->data_size);
    if (!p) {
        mdr_warn(rd, "%s: context at rva 0x%x size 0x%x passes end of file (size 0x%zx)", who,
                    (unsigned)loc->rva, (unsigned)loc->data_size, rd->md->len);
        return;
    }
    if (loc->data_size >= 4)
        memcpy(&flags, p, 4);
    /* amd64's context_flags are not its first field (p_home[6] comes first). */
    if (loc->data_size >= sizeof(struct md_context_amd64) && (!si->present || si->arch == MD_CPU_ARCHITECTURE_AMD64))
        memcpy(&flags, p + offsetof(struct md_context_amd64, context_flags), 4);
    l = choose(si, flags, loc->data_size);
    if (l == L_NONE) {
        const char *name = si->present ? mdr_arch_name(si->arch) : NULL;

        ctx->arch = MDR_ARCH_UNSUPPORTED;
        if (!rd->arch_warned) {
            rd->arch_warned = 1;
            if (si->present)
                mdr_warn(rd, "CPU context: unsupported architecture %s (0x%x); registers not decoded",
                            name ? name : "unknown", (unsigned)si->arch);
            else
                mdr_warn(rd, "CPU context: unsupported architecture (no SystemInfo, context size 0x%x); "
                            "registers not decoded", (unsigned)loc->data_size);
        }
        return;
    }
    li = &layouts[l];
    if (loc->data_size < li->size) {
        mdr_warn(rd, "%s: context size 0x%x is smaller than the %s context (0x%zx); not decoded", who,
                    (unsigned)loc->data_size, li->name, li->size);
        return;
    }
    /* Breakpad rejects a context without its CPU-type bit; decoding it anyway keeps a pc that is usually
     * right, and the warning says not to trust it blindly. */
    if ((flags & li->cpu_bit) == 0)
        mdr_warn(rd, "%s: context_flags 0x%x lack the %s bit 0x%x; decoded as %s anyway", who, (unsigned)flags,
                    li->name, (unsigned)li->cpu_bit, li->name);
    decoders[l](p, ctx);
    ctx->context_flags = flags;
}
