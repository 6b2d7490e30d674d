/* helpers.c — test-only: guarded copies of the pclntab tables (see helpers.h). */
#include "helpers.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t *field_base(struct go_pcln *t, int k)
{
    switch (k) {
    case PT_FUNCNAMETAB: return &t->funcnametab;
    case PT_CUTAB: return &t->cutab;
    case PT_FILETAB: return &t->filetab;
    case PT_PCTAB: return &t->pctab;
    case PT_PCLNTABLE: return &t->pclntable;
    case PT_FTAB: return &t->ftab;
    default: return &t->gofunc;
    }
}

static uint64_t *field_len(struct go_pcln *t, int k)
{
    switch (k) {
    case PT_FUNCNAMETAB: return &t->funcnametab_len;
    case PT_CUTAB: return &t->cutab_len;
    case PT_FILETAB: return &t->filetab_len;
    case PT_PCTAB: return &t->pctab_len;
    case PT_PCLNTABLE: return &t->pclntable_len;
    case PT_FTAB: return &t->ftab_len;
    default: return &t->gofunc_len;
    }
}

uint64_t pt_table_base(const struct go_pcln *t, int k)
{
    return *field_base((struct go_pcln *)t, k);
}

uint64_t pt_table_len(const struct go_pcln *t, int k)
{
    return *field_len((struct go_pcln *)t, k);
}

static int copy_tables(struct pt_copy *c, const struct go_pcln *orig, int end_aligned, const uint64_t *lens,
                       int only)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    memset(c, 0, sizeof *c);
    c->t = *orig;
    for (int k = 0; k < PT_NTABLES; k++) {
        if (only >= 0 && k != only)
            continue;
        uint64_t len = pt_table_len(orig, k);
        if (lens && lens[k] && lens[k] < len)
            len = lens[k];
        size_t data = (len + page - 1) / page * page;
        if (data == 0)
            data = page;
        size_t total = data + 2 * page;
        uint8_t *r = mmap(0, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (r == MAP_FAILED)
            return -1;
        if (mprotect(r, page, PROT_NONE) != 0 || mprotect(r + page + data, page, PROT_NONE) != 0)
            return -1;
        c->region[k] = r;
        c->region_len[k] = total;
        c->orig[k] = pt_table_base(orig, k);
        c->len[k] = len;
        uint8_t *base = end_aligned ? r + page + data - len : r + page;
        *field_base(&c->t, k) = (uint64_t)(uintptr_t)base;
        *field_len(&c->t, k) = len;
    }
    pt_copy_restore(c);
    return 0;
}

int pt_copy_make(struct pt_copy *c, const struct go_pcln *orig, int end_aligned, const uint64_t *lens)
{
    return copy_tables(c, orig, end_aligned, lens, -1);
}

int pt_copy_make_one(struct pt_copy *c, const struct go_pcln *orig, int k, uint64_t len)
{
    uint64_t lens[PT_NTABLES] = {0};
    if (k < 0 || k >= PT_NTABLES)
        return -1;
    lens[k] = len;
    return copy_tables(c, orig, 1, lens, k);
}

void pt_copy_restore(struct pt_copy *c)
{
    for (int k = 0; k < PT_NTABLES; k++)
        if (c->region[k])
            memcpy((void *)(uintptr_t)pt_table_base(&c->t, k), (const void *)(uintptr_t)c->orig[k], c->len[k]);
}

void pt_copy_free(struct pt_copy *c)
{
    for (int k = 0; k < PT_NTABLES; k++)
        if (c->region[k])
            munmap(c->region[k], c->region_len[k]);
    memset(c, 0, sizeof *c);
}

uint64_t pt_rand(uint64_t *rng)
{
    uint64_t x = *rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *rng = x;
}

void pt_corrupt(struct pt_copy *c, int k, uint64_t *rng, int n)
{
    uint8_t *base = (uint8_t *)(uintptr_t)pt_table_base(&c->t, k);
    uint64_t len = c->len[k];
    if (len == 0)
        return;
    for (int i = 0; i < n; i++) {
        uint64_t at = pt_rand(rng) % len;
        static const uint8_t special[] = {0x00, 0x80, 0xff, 0x7f};
        uint64_t r = pt_rand(rng);
        base[at] = (r & 1) ? (uint8_t)(r >> 8) : special[(r >> 8) % 4];
    }
}

void pt_corrupt_near(struct pt_copy *c, int k, uint64_t *rng, int n, uint64_t center, uint64_t span)
{
    uint8_t *base = (uint8_t *)(uintptr_t)pt_table_base(&c->t, k);
    uint64_t len = c->len[k];
    if (len == 0 || span == 0)
        return;
    if (center >= len)
        center = len - 1;
    if (span > len - center)
        span = len - center;
    for (int i = 0; i < n; i++) {
        uint64_t at = center + pt_rand(rng) % span;
        static const uint8_t special[] = {0x00, 0x80, 0xff, 0x7f};
        uint64_t r = pt_rand(rng);
        base[at] = (r & 1) ? (uint8_t)(r >> 8) : special[(r >> 8) % 4];
    }
}

static uint32_t u32_at(uint64_t base, uint64_t off)
{
    uint32_t v;
    memcpy(&v, (const void *)(uintptr_t)(base + off), 4);
    return v;
}

int pt_targets(const struct go_pcln *t, uint64_t pc, uint64_t center[PT_NTABLES], uint64_t span[PT_NTABLES])
{
    struct go_func f;
    if (go_findfunc(t, pc, &f) != 0)
        return -1;
    uint64_t arrays = f.funcoff + 44;
    center[PT_FUNCNAMETAB] = (uint64_t)f.name_off;
    span[PT_FUNCNAMETAB] = 64;
    center[PT_CUTAB] = (uint64_t)f.cu_offset * 4;
    span[PT_CUTAB] = 64;
    center[PT_FILETAB] = 0;
    span[PT_FILETAB] = 0;
    /* Functions without source files (linker-made ones) have cuOffset ~0: no CU slot to aim at. */
    uint64_t slot = (uint64_t)f.cu_offset * 4;
    uint32_t fileoff = slot + 4 <= t->cutab_len ? u32_at(t->cutab, slot) : 0xffffffffu;
    if (fileoff != 0xffffffffu && fileoff < t->filetab_len) {
        center[PT_FILETAB] = fileoff;
        span[PT_FILETAB] = 64;
    }
    uint32_t tables[4] = {f.pcsp, f.pcfile, f.pcln, f.npcdata > 2 ? u32_at(t->pclntable, arrays + 8) : 0};
    uint32_t pick = tables[pc % 4] ? tables[pc % 4] : f.pcln;
    center[PT_PCTAB] = pick;
    span[PT_PCTAB] = 128;
    center[PT_PCLNTABLE] = f.funcoff;
    span[PT_PCLNTABLE] = 44 + 4 * ((uint64_t)f.npcdata + f.nfuncdata);
    /* the ftab entry: find it by binary search on the original */
    uint64_t lo = 0, hi = t->nfunc;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (t->text + u32_at(t->ftab, mid * 8) <= pc)
            lo = mid;
        else
            hi = mid;
    }
    center[PT_FTAB] = lo > 2 ? (lo - 2) * 8 : 0;
    span[PT_FTAB] = 40;
    center[PT_GOFUNC] = 0;
    span[PT_GOFUNC] = 0;
    if (f.nfuncdata > 3) {
        uint32_t inl = u32_at(t->pclntable, arrays + 4 * ((uint64_t)f.npcdata + 3));
        if (inl != 0xffffffffu && inl < t->gofunc_len) {
            center[PT_GOFUNC] = inl;
            span[PT_GOFUNC] = 16 * 8;
        }
    }
    return 0;
}

static int string_inside(const char *s, uint64_t base, uint64_t len)
{
    uint64_t a = (uint64_t)(uintptr_t)s;
    if (a < base || a >= base + len)
        return 0;
    return memchr(s, 0, (size_t)(base + len - a)) != 0;
}

int pt_frames_checked(const struct go_pcln *t, uint64_t pc, struct go_frame_info *out, int max, char *err,
                      size_t errlen)
{
    memset(out, 0x5a, sizeof *out * (size_t)max); /* stale values must not pass for results */
    int n = go_frames_at(t, pc, out, max);
    if (n < 0 || n > max) {
        snprintf(err, errlen, "go_frames_at(0x%llx) returned %d (max %d)", (unsigned long long)pc, n, max);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (out[i].function && !string_inside(out[i].function, t->funcnametab, t->funcnametab_len)) {
            snprintf(err, errlen, "pc 0x%llx frame %d: function name outside funcnametab", (unsigned long long)pc, i);
            return -1;
        }
        if (out[i].file && !string_inside(out[i].file, t->filetab, t->filetab_len)) {
            snprintf(err, errlen, "pc 0x%llx frame %d: file name outside filetab", (unsigned long long)pc, i);
            return -1;
        }
        if ((out[i].inlined != 0 && out[i].inlined != 1) || (!out[i].file && out[i].line != 0)) {
            snprintf(err, errlen, "pc 0x%llx frame %d: inlined=%d file=%p line=%d", (unsigned long long)pc, i,
                     out[i].inlined, (const void *)out[i].file, out[i].line);
            return -1;
        }
    }
    return n;
}
