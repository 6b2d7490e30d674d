/* test_walk.c — unit tests for the reader's CPU contexts of every architecture (formats/read/mdread_context.c)
 * and its stack walk of threads without lastgasp frames (formats/read/mdread_walk.c), through `show` and `json`.
 *
 * Foreign dumps (no lastgasp stream, as Breakpad or Crashpad write them) are built byte by byte here, one per
 * context layout: amd64, x86, arm, arm64 in Breakpad's 796-byte layout and in the 912-byte MD_CONTEXT_ARM64 one,
 * each with and without SystemInfo (the layout then comes from the context's size or flags). Every one holds the
 * same known stack: a frame-pointer chain of two links that breaks on a misaligned frame pointer, then, above
 * decoys the scan must skip (a pointer into a module's data, a pointer into no module), one return address only a
 * scan finds, under which a saved frame pointer starts the chain again, up to the outermost record (saved frame
 * pointer 0). The walk must give exactly those frames with their trust, and stop there.
 *
 * `test_walk --write-corpus DIR` also writes the built dumps as fuzzing seeds (tests/fuzz/corpus).
 */
#include "../../formats/read/mdread.h"
#include "../../formats/render/render.h"
#include "../../formats/minidump/minidump.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the known process ---- */

#define APP_BASE 0x10000000u    /* /usr/bin/app: code in the first 0x8000 bytes, data after */
#define LIBC_BASE 0x20000000u   /* /lib/libc.so.6: code */
#define MOD_SIZE 0x10000u
#define STACK 0x7ff000u         /* the crashing thread's stack memory, STACK_SIZE bytes */
#define STACK_SIZE 0x200u

#define PC 0x10001000u          /* the crash */
#define LR 0x10001100u          /* arm, arm64: the link register, the first return address */
#define RET1 0x10002000u        /* in the frame record at fp0 */
#define RET2 0x20003000u        /* in the frame record at fp1, whose saved fp is misaligned */
#define RET3 0x10004000u        /* found by the scan only; the word under it is a frame pointer again */
#define RET4 0x20005000u        /* in the frame record at fp2 */
#define RET5 0x10006000u        /* in the outermost record at fp3, {0, RET5}: the walk ends with it */
#define DATA_PTR 0x1000a000u    /* inside app, outside its code: not a return address */
#define NO_MODULE 0x30000000u
#define PAC_BITS 0x002d000000000000ull /* arm64 pointer-authentication bits on RET1 */

enum layout { AMD64, X86, ARM, ARM64_OLD, ARM64_MS };

static const struct arch_case {
    const char *name;
    enum layout layout;
    uint16_t sysinfo_arch;
    unsigned word;
    const char *gp0_name;      /* the first general-purpose register, set to 0xa0 */
    const char *flags_name;    /* the flags register, set to 0x246 */
} cases[] = {
    { "amd64", AMD64, 9, 8, "rax", "eflags" },
    { "x86", X86, 0, 4, "eax", "eflags" },
    { "arm", ARM, 5, 4, "r0", "cpsr" },
    { "arm64 (Breakpad's layout)", ARM64_OLD, 0x8003, 8, "x0", "cpsr" },
    { "arm64 (MD_CONTEXT_ARM64 layout)", ARM64_MS, 12, 8, "x0", "cpsr" },
    /* Breakpad's processor takes either layout under either architecture value (by size, then flags). */
    { "arm64 (Breakpad's layout, architecture 12)", ARM64_OLD, 12, 8, "x0", "cpsr" },
    { "arm64 (MD_CONTEXT_ARM64 layout, architecture 0x8003)", ARM64_MS, 0x8003, 8, "x0", "cpsr" },
};
#define NCASES (sizeof cases / sizeof cases[0])

static int has_lr(enum layout l) { return l == ARM || l == ARM64_OLD || l == ARM64_MS; }

/* ---- building a dump ---- */

#define MAX_DUMP 16384

struct dump {
    uint8_t b[MAX_DUMP];
    size_t len;
};

static size_t add(struct dump *d, const void *p, size_t n)
{
    size_t off = (d->len + 7) & ~(size_t)7;

    if (off + n > MAX_DUMP) {
        fprintf(stderr, "test dump too big\n");
        exit(1);
    }
    memset(d->b + d->len, 0, off - d->len);
    if (p)
        memcpy(d->b + off, p, n);
    else
        memset(d->b + off, 0, n);
    d->len = off + n;
    return off;
}

static uint32_t add_string(struct dump *d, const char *ascii)
{
    uint32_t n = (uint32_t)strlen(ascii), bytes = n * 2;
    size_t off = add(d, NULL, 4 + bytes + 2);

    memcpy(d->b + off, &bytes, 4);
    for (uint32_t i = 0; i < n; i++)
        d->b[off + 4 + 2 * i] = (uint8_t)ascii[i];
    return (uint32_t)off;
}

static void put_word(uint8_t *stack, unsigned word, uint32_t off, uint64_t v)
{
    memcpy(stack + off, &v, word); /* little-endian: the low bytes */
}

/* The known stack, in words of the architecture: fp0 = STACK + 0x40, fp1 = STACK + 0x80. */
static void fill_stack(uint8_t *s, const struct arch_case *c)
{
    unsigned w = c->word;
    uint64_t ret1 = RET1;

    if (c->layout == ARM64_OLD || c->layout == ARM64_MS)
        ret1 |= PAC_BITS;
    memset(s, 0, STACK_SIZE);
    put_word(s, w, 0x18, DATA_PTR);          /* below the chain: the walk never scans here */
    put_word(s, w, 0x40, STACK + 0x80);      /* fp0: {fp1, RET1} */
    put_word(s, w, 0x40 + w, ret1);
    put_word(s, w, 0x80, 0x11);              /* fp1: {misaligned, RET2}: the chain ends after RET2 */
    put_word(s, w, 0x80 + w, RET2);
    put_word(s, w, 0x80 + 2 * w, DATA_PTR);  /* the scan from fp1 + 2w skips these three */
    put_word(s, w, 0x80 + 3 * w, NO_MODULE);
    put_word(s, w, 0x80 + 4 * w, STACK + 0x100);
    put_word(s, w, 0x80 + 5 * w, RET3);      /* and takes this one; the chain goes on from the word under it */
    put_word(s, w, 0x100, STACK + 0x140);    /* fp2: {fp3, RET4} */
    put_word(s, w, 0x100 + w, RET4);
    put_word(s, w, 0x140, 0);                /* fp3: {0, RET5}, the outermost record: the walk ends with it */
    put_word(s, w, 0x140 + w, RET5);
    put_word(s, w, 0x180, RET1);             /* so no scan may find this one */
}

/* The context at the crash: pc, sp = STACK + 0x10, fp = STACK + 0x40, lr, and two marker registers. */
static size_t add_context(struct dump *d, enum layout l, size_t *size)
{
    uint64_t sp = STACK + 0x10, fp = STACK + 0x40;

    switch (l) {
    case AMD64: {
        struct md_context_amd64 c;
        memset(&c, 0, sizeof c);
        c.context_flags = MD_CONTEXT_AMD64_FULL;
        c.rip = PC, c.rsp = sp, c.rbp = fp, c.rax = 0xa0, c.eflags = 0x246, c.r15 = 0xf15;
        *size = sizeof c;
        return add(d, &c, sizeof c);
    }
    case X86: {
        struct md_context_x86 c;
        memset(&c, 0, sizeof c);
        c.context_flags = MD_CONTEXT_X86 | 0x3f;
        c.eip = PC, c.esp = (uint32_t)sp, c.ebp = (uint32_t)fp, c.eax = 0xa0, c.eflags = 0x246, c.edi = 0xd1;
        *size = sizeof c;
        return add(d, &c, sizeof c);
    }
    case ARM: {
        struct md_context_arm c;
        memset(&c, 0, sizeof c);
        c.context_flags = MD_CONTEXT_ARM | 0x6;
        c.iregs[MD_ARM_REG_PC] = PC, c.iregs[MD_ARM_REG_SP] = (uint32_t)sp, c.iregs[MD_ARM_REG_FP] = (uint32_t)fp;
        c.iregs[MD_ARM_REG_LR] = LR, c.iregs[0] = 0xa0, c.iregs[12] = 0xc12, c.cpsr = 0x246;
        *size = sizeof c;
        return add(d, &c, sizeof c);
    }
    case ARM64_OLD: {
        struct md_context_arm64 c;
        uint64_t x[33] = { 0 };
        memset(&c, 0, sizeof c);
        c.context_flags = MD_CONTEXT_ARM64_OLD_FULL;
        x[0] = 0xa0, x[28] = 0x28, x[MD_ARM64_REG_FP] = fp, x[MD_ARM64_REG_LR] = LR | PAC_BITS;
        x[MD_ARM64_REG_SP] = sp, x[MD_ARM64_REG_PC] = PC;
        memcpy((uint8_t *)&c + offsetof(struct md_context_arm64, iregs), x, sizeof x);
        c.cpsr = 0x246;
        *size = sizeof c;
        return add(d, &c, sizeof c);
    }
    case ARM64_MS: {
        struct md_context_arm64_ms c;
        uint64_t x[31] = { 0 };
        memset(&c, 0, sizeof c);
        c.context_flags = MD_CONTEXT_ARM64 | 0x7;
        x[0] = 0xa0, x[28] = 0x28, x[MD_ARM64_REG_FP] = fp, x[MD_ARM64_REG_LR] = LR;
        memcpy((uint8_t *)&c + offsetof(struct md_context_arm64_ms, iregs), x, sizeof x);
        c.sp = sp, c.pc = PC, c.cpsr = 0x246;
        *size = sizeof c;
        return add(d, &c, sizeof c);
    }
    }
    return 0;
}

struct build_opts {
    int sysinfo;               /* write SystemInfo */
    int maps;                  /* write LinuxMaps (else a module's whole range counts as code) */
};

/* A foreign dump: Exception, SystemInfo, ThreadList (the crashing thread with its stack, a second thread with
 * a context but no stack memory), ModuleList, LinuxMaps, MemoryList. No lastgasp stream. */
static void build(struct dump *d, const struct arch_case *c, const struct build_opts *o)
{
    struct md_header h = { MD_SIGNATURE, MD_VERSION, 0, 32, 0, 1700000000, 0 };
    struct md_directory dir[7];
    struct md_thread th[2];
    struct md_module mod[2];
    struct md_exception_stream ex;
    struct md_system_info si;
    struct md_memory_descriptor mem;
    uint8_t stack[STACK_SIZE];
    static const char maps[] = "10000000-10008000 r-xp 00000000 08:01 42 /usr/bin/app\n"
                               "10008000-10010000 rw-p 00008000 08:01 42 /usr/bin/app\n"
                               "20000000-20010000 r-xp 00000000 08:01 43 /lib/libc.so.6\n";
    size_t n = 0, dir_off, ctx, ctx_size, ctx2, stk, off;
    uint32_t count;

    memset(d, 0, sizeof *d);
    add(d, &h, sizeof h);
    dir_off = add(d, NULL, sizeof dir);
    memset(dir, 0, sizeof dir);

    ctx = add_context(d, c->layout, &ctx_size);
    ctx2 = add_context(d, c->layout, &ctx_size);
    fill_stack(stack, c);
    stk = add(d, stack, sizeof stack);

    memset(th, 0, sizeof th);
    th[0].thread_id = 100;
    th[0].stack = (struct md_memory_descriptor){ STACK, { STACK_SIZE, (uint32_t)stk } };
    th[0].thread_context = (struct md_location){ (uint32_t)ctx_size, (uint32_t)ctx };
    th[1].thread_id = 101;
    th[1].thread_context = (struct md_location){ (uint32_t)ctx_size, (uint32_t)ctx2 };
    count = 2;
    off = add(d, NULL, 4 + sizeof th);
    memcpy(d->b + off, &count, 4);
    memcpy(d->b + off + 4, th, sizeof th);
    dir[n++] = (struct md_directory){ MD_THREAD_LIST_STREAM, { 4 + sizeof th, (uint32_t)off } };

    memset(&ex, 0, sizeof ex);
    ex.thread_id = 100;
    ex.exception_code = 11;
    ex.exception_flags = 1;
    ex.thread_context = th[0].thread_context;
    off = add(d, &ex, sizeof ex);
    dir[n++] = (struct md_directory){ MD_EXCEPTION_STREAM, { sizeof ex, (uint32_t)off } };

    if (o->sysinfo) {
        memset(&si, 0, sizeof si);
        si.processor_architecture = c->sysinfo_arch;
        si.number_of_processors = 2;
        si.platform_id = MD_OS_LINUX;
        si.csd_version_rva = add_string(d, "Linux");
        off = add(d, &si, sizeof si);
        dir[n++] = (struct md_directory){ MD_SYSTEM_INFO_STREAM, { sizeof si, (uint32_t)off } };
    }

    memset(mod, 0, sizeof mod);
    mod[0].base_of_image = APP_BASE;
    mod[0].size_of_image = MOD_SIZE;
    mod[0].module_name_rva = add_string(d, "/usr/bin/app");
    mod[1].base_of_image = LIBC_BASE;
    mod[1].size_of_image = MOD_SIZE;
    mod[1].module_name_rva = add_string(d, "/lib/libc.so.6");
    count = 2;
    off = add(d, NULL, 4 + sizeof mod);
    memcpy(d->b + off, &count, 4);
    memcpy(d->b + off + 4, mod, sizeof mod);
    dir[n++] = (struct md_directory){ MD_MODULE_LIST_STREAM, { 4 + sizeof mod, (uint32_t)off } };

    if (o->maps) {
        off = add(d, maps, sizeof maps - 1);
        dir[n++] = (struct md_directory){ MD_LINUX_MAPS, { sizeof maps - 1, (uint32_t)off } };
    }

    mem = th[0].stack;
    count = 1;
    off = add(d, NULL, 4 + sizeof mem);
    memcpy(d->b + off, &count, 4);
    memcpy(d->b + off + 4, &mem, sizeof mem);
    dir[n++] = (struct md_directory){ MD_MEMORY_LIST_STREAM, { 4 + sizeof mem, (uint32_t)off } };

    memcpy(d->b + dir_off, dir, sizeof dir);
    h.stream_count = (uint32_t)n;
    memcpy(d->b, &h, sizeof h);
}

/* ---- checks ---- */

static uint64_t reg(const struct mdr_context *ctx, const char *name)
{
    for (uint32_t i = 0; i < ctx->nregs; i++)
        if (strcmp(ctx->reg_names[i], name) == 0)
            return ctx->reg[i];
    return 0xdeadbeefdeadbeefull;
}

static char *render(int json, const struct mdr_dump *md)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    if ((json ? render_json(f, md) : render_show(f, md)) != 0)
        printf("render returned an error\n");
    fclose(f);
    return buf;
}

static const enum mdr_arch arch_of[] = {
    [AMD64] = MDR_ARCH_AMD64, [X86] = MDR_ARCH_X86, [ARM] = MDR_ARCH_ARM,
    [ARM64_OLD] = MDR_ARCH_ARM64, [ARM64_MS] = MDR_ARCH_ARM64,
};

static void check_case(const struct arch_case *c, const struct build_opts *o)
{
    static struct dump d;
    struct mdr_dump md;
    struct mdr_walk_frame wf[MDR_WALK_MAX_FRAMES];
    const struct mdr_context *ctx;
    const char *how = o->sysinfo ? "with SystemInfo" : "without SystemInfo";
    char err[256], want[256];
    size_t n, k = 0;
    char *out;

    build(&d, c, o);
    CHECK_MSG(mdr_open(&md, d.b, d.len, err, sizeof err) == MDR_OK, "%s %s", c->name, how);
    CHECK_MSG(md.nwarnings == 0, "%s %s: %s", c->name, how, md.nwarnings ? md.warnings[0] : "");
    CHECK_MSG(md.nthreads == 2 && md.exception.present, "%s %s", c->name, how);
    if (md.nthreads != 2 || !md.exception.present) {
        mdr_close(&md);
        return;
    }
    ctx = &md.exception.ctx;
    CHECK_MSG(ctx->arch == arch_of[c->layout] && md.threads[1].ctx.arch == arch_of[c->layout], "%s %s: arch %d",
              c->name, how, (int)ctx->arch);
    CHECK_MSG(mdr_context_pc(ctx) == PC && mdr_context_sp(ctx) == STACK + 0x10 &&
              mdr_context_fp(ctx) == STACK + 0x40, "%s %s: pc/sp/fp", c->name, how);
    CHECK_MSG(mdr_context_word(ctx) == c->word, "%s %s", c->name, how);
    CHECK_MSG(reg(ctx, c->gp0_name) == 0xa0 && reg(ctx, c->flags_name) == 0x246, "%s %s: %s, %s", c->name, how,
              c->gp0_name, c->flags_name);
    if (has_lr(c->layout))
        CHECK_MSG((mdr_context_lr(ctx) & ~PAC_BITS) == LR && reg(ctx, "lr") == mdr_context_lr(ctx), "%s %s: lr",
                  c->name, how);
    else
        CHECK_MSG(mdr_context_lr(ctx) == 0, "%s %s: no lr", c->name, how);

    /* The walk: the context frame, (lr), RET1 and RET2 by the chain, RET3 by the scan, RET4 and RET5 by the
     * chain. */
    n = mdr_walk(&md, &md.threads[0], ctx, wf, MDR_WALK_MAX_FRAMES, NULL);
    CHECK_MSG(n == 6u + has_lr(c->layout), "%s %s: %zu frames", c->name, how, n);
    if (n == 6u + has_lr(c->layout)) {
        CHECK_MSG(wf[k].pc == PC && wf[k].trust == LG_TRUST_CONTEXT, "%s %s: frame 0", c->name, how);
        k++;
        if (has_lr(c->layout)) {
            CHECK_MSG(wf[k].pc == LR && wf[k].trust == LG_TRUST_FP, "%s %s: lr frame", c->name, how);
            k++;
        }
        CHECK_MSG(wf[k].pc == RET1 && wf[k].trust == LG_TRUST_FP && wf[k].sp == STACK + 0x40 + 2 * c->word,
                  "%s %s: RET1 0x%llx", c->name, how, (unsigned long long)wf[k].pc);
        k++;
        CHECK_MSG(wf[k].pc == RET2 && wf[k].trust == LG_TRUST_FP && wf[k].sp == STACK + 0x80 + 2 * c->word,
                  "%s %s: RET2", c->name, how);
        k++;
        CHECK_MSG(wf[k].pc == RET3 && wf[k].trust == LG_TRUST_SCAN && wf[k].sp == STACK + 0x80 + 6 * c->word,
                  "%s %s: RET3 0x%llx", c->name, how, (unsigned long long)wf[k].pc);
        k++;
        CHECK_MSG(wf[k].pc == RET4 && wf[k].trust == LG_TRUST_FP && wf[k].sp == STACK + 0x100 + 2 * c->word,
                  "%s %s: RET4 0x%llx", c->name, how, (unsigned long long)wf[k].pc);
        k++;
        CHECK_MSG(wf[k].pc == RET5 && wf[k].trust == LG_TRUST_FP && wf[k].sp == STACK + 0x140 + 2 * c->word,
                  "%s %s: RET5 0x%llx", c->name, how, (unsigned long long)wf[k].pc);
        for (size_t i = 1; i < n; i++)
            CHECK_MSG(wf[i].sp >= wf[i - 1].sp, "%s %s: sp of frame %zu goes down", c->name, how, i);
    }
    /* The bound is the caller's. */
    CHECK_MSG(mdr_walk(&md, &md.threads[0], ctx, wf, 2, NULL) == 2, "%s %s", c->name, how);
    /* No stack memory: the context frame, and on arm the lr. */
    n = mdr_walk(&md, &md.threads[1], &md.threads[1].ctx, wf, MDR_WALK_MAX_FRAMES, NULL);
    CHECK_MSG(n == 1u + has_lr(c->layout), "%s %s: %zu frames without stack memory", c->name, how, n);

    out = render(1, &md);
    snprintf(want, sizeof want, "{\"pc\":\"0x%x\",\"function\":null,\"offset\":null,\"file\":null,\"line\":null,"
             "\"module\":\"app\",\"inlined\":false,\"trust\":\"scan\"},{\"pc\":\"0x%x\"", RET3, RET4);
    CHECK_MSG(out && strstr(out, want), "%s %s: json has the scan frame:\n%s", c->name, how, out ? out : "");
    snprintf(want, sizeof want, "{\"pc\":\"0x%x\",\"function\":null,\"offset\":null,\"file\":null,\"line\":null,"
             "\"module\":\"libc.so.6\",\"inlined\":false,\"trust\":\"fp\"}", RET2);
    CHECK_MSG(out && strstr(out, want), "%s %s: json RET2", c->name, how);
    snprintf(want, sizeof want, "\"%s\":\"0xa0\"", c->gp0_name);
    CHECK_MSG(out && strstr(out, want), "%s %s: json registers", c->name, how);
    free(out);
    out = render(0, &md);
    snprintf(want, sizeof want, "0x%016x in ?? (app", RET3);
    CHECK_MSG(out && strstr(out, want), "%s %s: show:\n%s", c->name, how, out ? out : "");
    snprintf(want, sizeof want, "%6s 0x%016x", c->gp0_name, 0xa0);
    CHECK_MSG(out && strstr(out, want) && !strstr(out, "no frames"), "%s %s: show registers", c->name, how);
    free(out);
    mdr_close(&md);
}

/* Without LinuxMaps a module's whole range counts as code: the pointer into app's data is then taken by the
 * scan, which stops there. */
static void test_without_maps(void)
{
    static struct dump d;
    struct build_opts o = { 1, 0 };
    struct mdr_dump md;
    struct mdr_walk_frame wf[MDR_WALK_MAX_FRAMES];
    char err[256];
    size_t n;

    build(&d, &cases[0], &o);
    CHECK(mdr_open(&md, d.b, d.len, err, sizeof err) == MDR_OK && md.ncode == 0);
    CHECK(mdr_is_code(&md, DATA_PTR) && !mdr_is_code(&md, NO_MODULE));
    n = mdr_walk(&md, &md.threads[0], &md.exception.ctx, wf, MDR_WALK_MAX_FRAMES, NULL);
    CHECK(n >= 4 && wf[3].pc == DATA_PTR && wf[3].trust == LG_TRUST_SCAN);
    mdr_close(&md);
    o.maps = 1;
    build(&d, &cases[0], &o);
    CHECK(mdr_open(&md, d.b, d.len, err, sizeof err) == MDR_OK && md.ncode == 2); /* app's and libc's code */
    CHECK(!mdr_is_code(&md, DATA_PTR) && mdr_is_code(&md, RET1) && mdr_is_code(&md, RET2));
    mdr_close(&md);
}

/* A chain that loops (a frame record pointing at itself) is cut at once; a stack full of return addresses
 * gives one frame a word up to the end of the stack memory, and no more than the caller's bound. */
static void test_hostile_stacks(void)
{
    static struct dump d;
    struct build_opts o = { 1, 1 };
    struct mdr_dump md;
    struct mdr_walk_frame wf[MDR_WALK_MAX_FRAMES + 8];
    uint8_t *s;
    char err[256];
    size_t n, stk;

    build(&d, &cases[0], &o);
    /* The stack bytes are the only STACK_SIZE run of the known pattern: find them by the record at fp0. */
    for (stk = 0; stk + STACK_SIZE <= d.len; stk += 8) {
        uint64_t v;
        memcpy(&v, d.b + stk + 0x40, 8);
        if (v == STACK + 0x80 && d.b[stk + 0x80] == 0x11)
            break;
    }
    CHECK(stk + STACK_SIZE <= d.len);
    s = d.b + stk;
    put_word(s, 8, 0x140, STACK + 0x1c0);    /* fp3: {a frame pointer, no return address}: the walk ends */
    put_word(s, 8, 0x148, 0);
    CHECK(mdr_open(&md, d.b, d.len, err, sizeof err) == MDR_OK);
    n = mdr_walk(&md, &md.threads[0], &md.exception.ctx, wf, MDR_WALK_MAX_FRAMES, NULL);
    CHECK_MSG(n == 5 && wf[4].pc == RET4, "%zu frames", n); /* the context, RET1, RET2, RET3, RET4 */
    mdr_close(&md);
    put_word(s, 8, 0x40, STACK + 0x40);       /* fp0 points at itself */
    CHECK(mdr_open(&md, d.b, d.len, err, sizeof err) == MDR_OK);
    n = mdr_walk(&md, &md.threads[0], &md.exception.ctx, wf, MDR_WALK_MAX_FRAMES, NULL);
    CHECK(n >= 3 && wf[1].pc == RET1 && wf[1].trust == LG_TRUST_FP);
    CHECK(n >= 3 && wf[2].pc == RET2 && wf[2].trust == LG_TRUST_SCAN); /* not fp0's record again */
    for (size_t i = 2; i < n; i++)
        CHECK(wf[i].sp > wf[i - 1].sp);
    mdr_close(&md);
    for (uint32_t off = 0; off < STACK_SIZE; off += 8)
        put_word(s, 8, off, RET3);
    CHECK(mdr_open(&md, d.b, d.len, err, sizeof err) == MDR_OK);
    n = mdr_walk(&md, &md.threads[0], &md.exception.ctx, wf, MDR_WALK_MAX_FRAMES, NULL);
    CHECK_MSG(n == 2 + (STACK_SIZE - 0x50) / 8, "%zu frames", n); /* the context, RET3 at fp0, then every word */
    CHECK(mdr_walk(&md, &md.threads[0], &md.exception.ctx, wf, 7, NULL) == 7);
    mdr_close(&md);
}

/* The caller's budget of stack words: each read costs one, and a walk out of budget ends where it is (the lr
 * needs no memory). */
static void test_budget(void)
{
    static struct dump d;
    struct build_opts o = { 1, 1 };
    struct mdr_dump md;
    struct mdr_walk_frame wf[MDR_WALK_MAX_FRAMES];
    char err[256];
    size_t budget;

    build(&d, &cases[0], &o);
    CHECK(mdr_open(&md, d.b, d.len, err, sizeof err) == MDR_OK);
    budget = 0;
    CHECK(mdr_walk(&md, &md.threads[0], &md.exception.ctx, wf, MDR_WALK_MAX_FRAMES, &budget) == 1);
    budget = 4; /* the two frame records of RET1 and RET2, not the scan for RET3 */
    CHECK(mdr_walk(&md, &md.threads[0], &md.exception.ctx, wf, MDR_WALK_MAX_FRAMES, &budget) == 3 && budget == 0);
    budget = 1000;
    CHECK(mdr_walk(&md, &md.threads[0], &md.exception.ctx, wf, MDR_WALK_MAX_FRAMES, &budget) == 6);
    CHECK_MSG(budget == 1000 - 13, "read %zu words", 1000 - budget); /* records 2 + 2, scan 4, under RET3 1, records 2 + 2 */
    mdr_close(&md);
    build(&d, &cases[3], &o);
    CHECK(mdr_open(&md, d.b, d.len, err, sizeof err) == MDR_OK);
    budget = 0;
    CHECK(mdr_walk(&md, &md.threads[0], &md.exception.ctx, wf, MDR_WALK_MAX_FRAMES, &budget) == 2);
    mdr_close(&md);
}

/* A context whose size matches no layout and no SystemInfo to say: not decoded, said once. */
static void test_unknown_layout(void)
{
    static struct dump d;
    struct build_opts o = { 0, 1 };
    struct mdr_dump md;
    char err[256];
    char *out;

    build(&d, &cases[1], &o);
    /* Clear the x86 CPU bit of both contexts (their flags are the first word of each, 0x1003f). */
    for (size_t i = 0; i + 4 <= d.len; i += 8) {
        uint32_t v;
        memcpy(&v, d.b + i, 4);
        if (v == (MD_CONTEXT_X86 | 0x3f)) {
            v = 0x3f;
            memcpy(d.b + i, &v, 4);
        }
    }
    CHECK(mdr_open(&md, d.b, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "CPU context: unsupported architecture (no SystemInfo, context size 0x2cc); registers not "
                      "decoded") == 0);
    CHECK(md.exception.ctx.arch == MDR_ARCH_UNSUPPORTED && md.nwarnings == 1);
    out = render(0, &md);
    CHECK(out && strstr(out, "(no frames: CPU context of unsupported architecture (unknown))"));
    free(out);
    mdr_close(&md);
}

static int write_corpus(const char *dir)
{
    static struct dump d;
    struct build_opts o = { 1, 1 };
    char path[4096];
    int rc = 0;

    for (size_t i = 0; i < 5; i++) {
        static const char *const names[] = { "amd64", "x86", "arm", "arm64_old", "arm64_ms" };
        FILE *f;

        build(&d, &cases[i], &o);
        snprintf(path, sizeof path, "%s/foreign_%s.dmp", dir, names[i]);
        f = fopen(path, "wb");
        if (!f || fwrite(d.b, 1, d.len, f) != d.len || fclose(f) != 0)
            rc = 1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return write_corpus(argv[2]);
    for (size_t i = 0; i < NCASES; i++) {
        struct build_opts with = { 1, 1 }, without = { 0, 1 };

        check_case(&cases[i], &with);
        check_case(&cases[i], &without);
    }
    test_without_maps();
    test_hostile_stacks();
    test_budget();
    test_unknown_layout();
    return check_summary();
}
