/* mdread_walk.c — the tool's stack walk, for threads the dump has no lastgasp frames for (other writers'
 * dumps: Breakpad, Crashpad, or a minidump without lastgasp's stream).
 *
 * Normal context (heap at open, none while walking). What Breakpad's minidump_stackwalk and rust-minidump do
 * without symbol files, minus CFI, which would need the modules' files: the context frame; the frame-pointer
 * chain (on arm and arm64 the link register is the first return address, as Breakpad's GetCallerByFramePointer
 * takes it); where the chain breaks, a scan of a bounded number of stack words for one that is a return address
 * into code (Breakpad's ScanForReturnAddress). Only the thread's own stack bytes are read, every read is checked
 * against them, every frame's sp is above the one before, and the frame count is bounded, so a hostile dump
 * costs at most MDR_WALK_MAX_FRAMES x 4 x MDR_WALK_SCAN_WORDS word reads a thread, and the caller's budget
 * bounds the dump.
 */
#include "mdread_int.h"
#include "grow.h"

#include <stdlib.h>
#include <string.h>

/* ---- tables built at open ---- */

static int range_cmp(const void *a, const void *b)
{
    const struct mdr_range *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

/* Lowercase hex number at *p (at most 16 digits); 0 digits read means no number. */
static int hex(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    int digits = 0;

    *v = 0;
    for (; *p < end && digits < 16; (*p)++, digits++) {
        uint8_t c = **p;

        if (c >= '0' && c <= '9')
            *v = *v << 4 | (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v = *v << 4 | (uint64_t)(c - 'a' + 10);
        else
            break;
    }
    return digits;
}

/* The executable mappings of LinuxMaps ("start-end perms ..."), sorted and merged so that lookups are one
 * binary search. A line that does not parse is skipped: the maps are a hint that narrows a module's range. */
static void code_ranges(struct mdr_reader *rd)
{
    struct mdr_dump *md = rd->md;
    const uint8_t *p = md->maps.data, *end;
    size_t cap = 0, n = 0;

    if (!p)
        return;
    end = p + md->maps.len;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *eol = nl ? nl : end, *q = p;
        uint64_t start, stop;

        if (hex(&q, eol, &start) && q < eol && *q++ == '-' && hex(&q, eol, &stop) && eol - q >= 5 && *q == ' ' &&
            q[3] == 'x' && stop > start) {
            if (mdr_grow((void **)&md->code, &cap, n + 1, sizeof *md->code, 64) != 0) {
                rd->nomem = 1;
                return;
            }
            md->code[n].start = start;
            md->code[n].end = stop;
            n++;
        }
        p = eol + 1;
    }
    if (n == 0)
        return;
    qsort(md->code, n, sizeof *md->code, range_cmp);
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        if (md->code[i].start <= md->code[k].end) {
            if (md->code[i].end > md->code[k].end)
                md->code[k].end = md->code[i].end;
        } else {
            md->code[++k] = md->code[i];
        }
    }
    md->ncode = k + 1;
}

void mdr_index_code(struct mdr_reader *rd)
{
    struct mdr_dump *md = rd->md;
    uint64_t top = 0;

    code_ranges(rd);
    for (size_t i = 0; i < md->nmodules; i++) {
        const struct mdr_module *m = &md->modules[i];
        uint64_t last = m->size ? m->base + (m->size - 1) : m->base;

        if (last >= m->base && last > top)
            top = last;
    }
    /* arm64 return addresses may carry a pointer-authentication code in their top bits: keep the bits any
     * module needs (as rust-minidump's arm64 walker derives its mask from the modules). */
    md->module_mask = top;
    for (int s = 1; s < 64; s <<= 1)
        md->module_mask |= md->module_mask >> s;
}

int mdr_is_code(const struct mdr_dump *md, uint64_t addr)
{
    size_t lo = 0, hi = md->ncode;

    if (!mdr_module_at(md, addr))
        return 0;
    if (md->ncode == 0)
        return 1;
    while (lo < hi) { /* first range whose start > addr */
        size_t mid = lo + (hi - lo) / 2;

        if (md->code[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && addr < md->code[lo - 1].end;
}

/* ---- the walk ---- */

struct walk {
    const struct mdr_dump *md;
    const uint8_t *bytes;     /* the thread's stack memory, [lo, hi) */
    uint64_t lo, hi;
    unsigned word;            /* 8 or 4 */
    int arm64;
    size_t *budget;           /* words left to read, or NULL */
};

/* The pointer-sized word at addr, when all of it lies in the stack memory and the budget allows one more. */
static int word_at(const struct walk *w, uint64_t addr, uint64_t *v)
{
    uint32_t v32;

    if (!w->bytes || addr < w->lo || addr > w->hi || w->hi - addr < w->word)
        return 0;
    if (w->budget) {
        if (*w->budget == 0)
            return 0;
        (*w->budget)--;
    }
    if (w->word == 4) {
        memcpy(&v32, w->bytes + (addr - w->lo), 4);
        *v = v32;
    } else {
        memcpy(v, w->bytes + (addr - w->lo), 8);
    }
    return 1;
}

/* A value as a return address: arm64's signed pointers reduced to the bits the modules use. */
static uint64_t code_address(const struct walk *w, uint64_t v)
{
    return w->arm64 && w->md->module_mask ? v & w->md->module_mask : v;
}

enum step { STEP_NONE, STEP_FRAME, STEP_END };

/* One link of the frame-pointer chain: the record at fp is {caller's fp, return address} on every architecture
 * here (x86 and amd64 by push/mov, arm64 by AAPCS64's frame record, arm by the layout Breakpad assumes). */
static enum step fp_step(const struct walk *w, uint64_t fp, uint64_t sp, uint64_t *next_fp, uint64_t *ret)
{
    if (fp % w->word != 0 || fp < sp || !word_at(w, fp, next_fp) || !word_at(w, fp + w->word, ret))
        return STEP_NONE;
    *ret = code_address(w, *ret);
    if (*ret == 0)
        return STEP_END; /* a record with no return address: nothing called this frame */
    return mdr_is_code(w->md, *ret) ? STEP_FRAME : STEP_NONE;
}

/* The first of `words` stack words from sp up that is a return address into code: its address in *slot. */
static int scan_step(const struct walk *w, uint64_t sp, unsigned words, uint64_t *slot, uint64_t *ret)
{
    uint64_t a = sp + (w->word - sp % w->word) % w->word, v;

    if (a < sp)
        return 0;
    for (unsigned i = 0; i < words && word_at(w, a, &v); i++, a += w->word) {
        v = code_address(w, v);
        if (v != 0 && mdr_is_code(w->md, v)) {
            *slot = a;
            *ret = v;
            return 1;
        }
    }
    return 0;
}

static void put(struct mdr_walk_frame *out, size_t *n, uint64_t pc, uint64_t sp, uint8_t trust)
{
    out[*n].pc = pc;
    out[*n].sp = sp;
    out[*n].trust = trust;
    (*n)++;
}

size_t mdr_walk(const struct mdr_dump *md, const struct mdr_thread *t, const struct mdr_context *ctx,
                struct mdr_walk_frame *out, size_t max, size_t *budget)
{
    struct walk w = { .md = md, .word = mdr_context_word(ctx), .arm64 = ctx->arch == MDR_ARCH_ARM64,
                      .budget = budget };
    uint64_t sp = mdr_context_sp(ctx), fp = mdr_context_fp(ctx), next, ret, slot;
    unsigned words = 4 * MDR_WALK_SCAN_WORDS;
    size_t n = 0;

    if (w.word == 0 || max == 0)
        return 0;
    if (t && t->stack && t->stack_size >= w.word && t->stack_start <= UINT64_MAX - t->stack_size) {
        w.bytes = t->stack;
        w.lo = t->stack_start;
        w.hi = t->stack_start + t->stack_size;
    }
    put(out, &n, mdr_context_pc(ctx), sp, LG_TRUST_CONTEXT);
    if (ctx->arch == MDR_ARCH_ARM64 || ctx->arch == MDR_ARCH_ARM) {
        uint64_t lr = code_address(&w, mdr_context_lr(ctx));

        if (n < max && lr != 0 && mdr_is_code(md, lr))
            put(out, &n, lr, sp, LG_TRUST_FP);
    }
    while (n < max) {
        enum step s = fp_step(&w, fp, sp, &next, &ret);

        if (s == STEP_END)
            break;
        if (s == STEP_FRAME) {
            sp = fp + 2 * w.word;
            put(out, &n, ret, sp, LG_TRUST_FP);
            /* A saved frame pointer of 0 is the outermost record: _start clears rbp / x29 (both ABIs) before
             * it calls into libc, so its return address is the program's entry and nothing above is a frame. */
            if (next == 0)
                break;
            fp = next;
            words = MDR_WALK_SCAN_WORDS;
            continue;
        }
        if (!scan_step(&w, sp, words, &slot, &ret))
            break;
        sp = slot + w.word;
        put(out, &n, ret, sp, LG_TRUST_SCAN);
        /* A chain that broke below this frame may go on from here: the word under a return address is where
         * a prologue saves the caller's frame pointer. */
        if (fp <= slot && (slot < w.word || !word_at(&w, slot - w.word, &fp)))
            fp = 0;
        words = MDR_WALK_SCAN_WORDS;
    }
    return n;
}
