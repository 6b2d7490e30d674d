/* go_pcln.c — symbolize Go pcs from the executable's in-memory pclntab (the runtime's own tables).
 *
 * RULES (compromised context): async-signal-safe; no libc, no malloc, no locks, no errno; only the
 * sigsafe/ helpers. Every loop is bounded (by a table length, an iteration cap or the caller's max).
 * The tables are read in place: callers run these functions inside rep_guard_run, because the
 * pages could be gone in a process that is dying. Every offset taken from the tables is checked
 * against the lengths that install recorded in struct go_pcln, so a corrupt table yields "unknown",
 * never a read outside [base, base + len) of the table the offset belongs to. Stack: < 200 bytes.
 *
 * Layouts (identical in Go 1.20 through 1.26; checked against runtime/symtab.go, runtime2.go and
 * symtabinl.go of go1.22.12, 1.23.0, 1.24.0, 1.25.0 and 1.26.8):
 *   ftab       {entryoff u32, funcoff u32} x (nfunc + 1); entryoff relative to moduledata.text; the
 *              last entry only ends the last function.
 *   _func      at pclntable[funcoff]: 0 entryOff u32, 4 nameOff i32, 8 args, 12 deferreturn,
 *              16 pcsp u32, 20 pcfile u32, 24 pcln u32, 28 npcdata u32, 32 cuOffset u32,
 *              36 startLine i32, 40 funcID u8, 41 flag u8, 42 pad, 43 nfuncdata u8; then
 *              pcdata[npcdata] u32 (offsets into pctab, 0 = none) and funcdata[nfuncdata] u32
 *              (offsets from moduledata.gofunc, ~0 = none).
 *   pc-value   pairs of varints: value delta (zig-zag), then pc delta (times minLC). Start at
 *              value -1, pc = entry. A first byte of 0 ends the table, except while pc is still
 *              the entry (runtime.step's "first" rule: an initial delta of 0 is data).
 *   inline     FUNCDATA_InlTree (3): entries of 16 bytes {funcID u8, pad[3], nameOff i32,
 *              parentPc i32, startLine i32}; PCDATA_InlTreeIndex (2) gives the entry at a pc,
 *              -1 for the physical function.
 *   files      pcfile gives a file number; the name is filetab[cutab[cuOffset + fileno]]
 *              (cutab holds u32 offsets, ~0 = none).
 */
#include "go.h"

#include "../../sigsafe/sigsafe.h"

#define GO_FUNC_HDR 44u           /* sizeof(runtime._func) before pcdata[] */
#define GO_INL_ENTRY 16u          /* sizeof(runtime.inlinedCall) */
#define GO_PCDATA_INLTREEINDEX 2u /* internal/abi.PCDATA_InlTreeIndex */
#define GO_FUNCDATA_INLTREE 3u    /* internal/abi.FUNCDATA_InlTree */
#define GO_VARINT_MAX 5           /* a u32 varint never needs more; more is corruption */
#define GO_NAME_MAX (64u << 10)   /* longest name we accept (generic instantiations run long) */

/* A u32 at off in [base, base + len), or -1 when the 4 bytes do not fit. */
static int read_u32(uint64_t base, uint64_t len, uint64_t off, uint32_t *out)
{
    if (base == 0 || off > len || len - off < 4)
        return -1;
    ss_memcpy(out, (const void *)(uintptr_t)(base + off), 4);
    return 0;
}

/* The NUL-terminated string at off in [base, base + len), or 0 when it does not end inside. */
static const char *table_string(uint64_t base, uint64_t len, uint64_t off)
{
    if (base == 0 || off >= len)
        return 0;
    const char *s = (const char *)(uintptr_t)(base + off);
    uint64_t room = len - off;
    if (room > GO_NAME_MAX)
        room = GO_NAME_MAX;
    return ss_memchr(s, 0, (size_t)room) ? s : 0;
}

/* Handler path (reporting thread, inside a guard). Name at name_off in funcnametab, or 0. */
const char *go_funcname(const struct go_pcln *t, int32_t name_off)
{
    if (!t || name_off < 0)
        return 0;
    return table_string(t->funcnametab, t->funcnametab_len, (uint64_t)name_off);
}

/* ftab[i].entryoff */
static int ftab_entry(const struct go_pcln *t, uint64_t i, uint32_t *entryoff)
{
    return read_u32(t->ftab, t->ftab_len, i * 8, entryoff);
}

/* Handler path (reporting thread, inside a guard). Finds the function whose code holds pc, as the
 * runtime's findfunc does (with a binary search instead of its findfunctab buckets). 0 or -1. */
int go_findfunc(const struct go_pcln *t, uint64_t pc, struct go_func *f)
{
    if (!t || !f || t->nfunc == 0 || t->ftab_len / 8 < (uint64_t)t->nfunc + 1)
        return -1;
    if (pc < t->minpc || pc >= t->maxpc || pc < t->text || pc - t->text > 0xffffffffull)
        return -1;
    uint32_t pcoff = (uint32_t)(pc - t->text);

    /* Largest i in [0, nfunc) with ftab[i].entryoff <= pcoff. At most 33 rounds: the range
     * halves each time whatever the table holds, so a corrupt (unsorted) table cannot loop. */
    uint64_t lo = 0, hi = t->nfunc; /* invariant: answer in [lo, hi) if any */
    uint32_t e;
    if (ftab_entry(t, 0, &e) != 0 || e > pcoff)
        return -1;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ftab_entry(t, mid, &e) != 0)
            return -1;
        if (e <= pcoff)
            lo = mid;
        else
            hi = mid;
    }
    uint32_t entryoff, next, funcoff;
    if (ftab_entry(t, lo, &entryoff) != 0 || ftab_entry(t, lo + 1, &next) != 0 ||
        read_u32(t->ftab, t->ftab_len, lo * 8 + 4, &funcoff) != 0)
        return -1;
    if (!(entryoff <= pcoff && pcoff < next)) /* an unsorted table led the search astray */
        return -1;

    /* The _func record and its pcdata/funcdata arrays must lie inside pclntable. */
    uint8_t hdr[GO_FUNC_HDR];
    if (t->pclntable == 0 || funcoff > t->pclntable_len || t->pclntable_len - funcoff < GO_FUNC_HDR)
        return -1;
    ss_memcpy(hdr, (const void *)(uintptr_t)(t->pclntable + funcoff), GO_FUNC_HDR);
    uint32_t rec_entry, npcdata;
    ss_memcpy(&rec_entry, hdr + 0, 4);
    ss_memcpy(&npcdata, hdr + 28, 4);
    uint8_t nfuncdata = hdr[43];
    uint64_t arrays = ((uint64_t)npcdata + nfuncdata) * 4;
    if (rec_entry != entryoff || arrays > t->pclntable_len - funcoff - GO_FUNC_HDR)
        return -1;

    f->entry = t->text + entryoff;
    f->funcoff = funcoff;
    ss_memcpy(&f->name_off, hdr + 4, 4);
    ss_memcpy(&f->pcsp, hdr + 16, 4);
    ss_memcpy(&f->pcfile, hdr + 20, 4);
    ss_memcpy(&f->pcln, hdr + 24, 4);
    f->npcdata = npcdata;
    ss_memcpy(&f->cu_offset, hdr + 32, 4);
    ss_memcpy(&f->start_line, hdr + 36, 4);
    f->func_id = hdr[40];
    f->flag = hdr[41];
    f->nfuncdata = nfuncdata;
    return 0;
}

/* One unsigned varint of at most GO_VARINT_MAX bytes from pctab at *pos; advances *pos. */
static int read_varint(const struct go_pcln *t, uint64_t *pos, uint32_t *out)
{
    const uint8_t *p = (const uint8_t *)(uintptr_t)t->pctab;
    uint32_t v = 0;
    for (int i = 0; i < GO_VARINT_MAX; i++) {
        if (*pos >= t->pctab_len)
            return -1;
        uint8_t b = p[(*pos)++];
        v |= (uint32_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Handler path (reporting thread, inside a guard). The value of the pc-value table at table_off
 * (in pctab) at pc, as runtime.pcvalue decodes it; 0 on success, -1 when there is no table, pc is
 * outside what the table covers, or the table is malformed. */
int go_pcvalue(const struct go_pcln *t, const struct go_func *f, uint32_t table_off, uint64_t pc, int32_t *value)
{
    if (!t || !f || !value || table_off == 0 || t->pctab == 0 || table_off >= t->pctab_len || pc < f->entry)
        return -1;
    const uint8_t *p = (const uint8_t *)(uintptr_t)t->pctab;
    uint32_t quantum = t->minlc ? t->minlc : 1;
    uint64_t pos = table_off;
    uint64_t cur = f->entry;
    uint32_t val = (uint32_t)-1; /* int32 arithmetic that wraps like Go's, without C's overflow UB */
    /* Every step consumes at least two bytes: the table's length bounds the loop. */
    for (uint64_t steps = 0; steps <= t->pctab_len - table_off; steps++) {
        if (pos >= t->pctab_len)
            return -1;
        if (p[pos] == 0 && cur != f->entry)
            return -1; /* the end of the table, and pc was not covered */
        uint32_t uv, pcdelta;
        if (read_varint(t, &pos, &uv) != 0 || read_varint(t, &pos, &pcdelta) != 0)
            return -1;
        val += (uint32_t)(-(uv & 1)) ^ (uv >> 1);
        cur += (uint32_t)(pcdelta * quantum); /* Go multiplies in uint32 too */
        if (pc < cur) {
            *value = (int32_t)val;
            return 0;
        }
    }
    return -1;
}

/* The u32 at index i of the pcdata (funcdata when after_pcdata) array following f's _func. */
static int func_array_u32(const struct go_pcln *t, const struct go_func *f, int after_pcdata, uint32_t i,
                          uint32_t *out)
{
    uint64_t n = after_pcdata ? f->nfuncdata : f->npcdata;
    if (i >= n)
        return -1;
    uint64_t idx = (after_pcdata ? (uint64_t)f->npcdata : 0) + i;
    return read_u32(t->pclntable, t->pclntable_len, f->funcoff + GO_FUNC_HDR + idx * 4, out);
}

/* runtime.funcline1: file and line at pc of the physical function f, or NULL and 0. */
static void file_line(const struct go_pcln *t, const struct go_func *f, uint64_t pc, const char **file,
                      int32_t *line)
{
    int32_t fileno, ln;
    uint32_t fileoff;
    *file = 0;
    *line = 0;
    /* As the runtime's funcline1: only -1 means unknown; another negative line (seen: -2, on an instruction
     * of a loop) is printed as it is, and so kept. */
    if (go_pcvalue(t, f, f->pcfile, pc, &fileno) != 0 || go_pcvalue(t, f, f->pcln, pc, &ln) != 0 || fileno < 0 ||
        ln == -1)
        return;
    uint64_t slot = ((uint64_t)f->cu_offset + (uint32_t)fileno) * 4;
    if (read_u32(t->cutab, t->cutab_len, slot, &fileoff) != 0 || fileoff == 0xffffffffu)
        return;
    const char *name = table_string(t->filetab, t->filetab_len, fileoff);
    if (!name)
        return;
    *file = name;
    *line = ln;
}

/* Handler path (reporting thread, inside a guard). The source frames at pc, innermost first, as the
 * runtime's inlineUnwinder walks them: the frame of inline-tree entry i is named by the entry and
 * placed at the current pc; its caller's pc is entry + parentPc; the walk ends with the physical
 * function (index -1). A frame is placed with the physical function's pcfile/pcln at its pc.
 * Returns how many frames were written (0 when pc is in no Go function); at most max, and when max
 * cuts the walk short the outer frames (the physical function last of all) are the ones left out. */
int go_frames_at(const struct go_pcln *t, uint64_t pc, struct go_frame_info *out, int max)
{
    struct go_func f;
    if (!out || max <= 0 || go_findfunc(t, pc, &f) != 0)
        return 0;

    /* The inline tree, if the function has one: [tree, tree + tree_len) inside the gofunc region. */
    uint64_t tree = 0, tree_len = 0;
    uint32_t tree_off, tab;
    if (func_array_u32(t, &f, 1, GO_FUNCDATA_INLTREE, &tree_off) == 0 && tree_off != 0xffffffffu && t->gofunc &&
        tree_off < t->gofunc_len) {
        tree = t->gofunc + tree_off;
        tree_len = t->gofunc_len - tree_off;
    }
    uint32_t index_table = 0;
    if (tree && func_array_u32(t, &f, 0, GO_PCDATA_INLTREEINDEX, &tab) == 0)
        index_table = tab;

    uint64_t cur = pc;
    int n = 0, physical = 0;
    while (n < max) { /* each round writes one frame */
        int32_t idx = -1;
        if (physical || (index_table && go_pcvalue(t, &f, index_table, cur, &idx) != 0))
            idx = -1; /* non-strict, as the runtime's unwinder: fall back to the physical frame */
        uint8_t ent[GO_INL_ENTRY];
        int inlined = idx >= 0 && (uint64_t)idx < tree_len / GO_INL_ENTRY;
        if (inlined)
            ss_memcpy(ent, (const void *)(uintptr_t)(tree + (uint64_t)idx * GO_INL_ENTRY), GO_INL_ENTRY);

        struct go_frame_info *o = &out[n++];
        int32_t name_off = f.name_off;
        if (inlined)
            ss_memcpy(&name_off, ent + 4, 4);
        o->function = go_funcname(t, name_off);
        file_line(t, &f, cur, &o->file, &o->line);
        o->inlined = inlined;
        o->entry = f.entry;
        if (!inlined)
            break;

        int32_t parent;
        ss_memcpy(&parent, ent + 8, 4);
        if (parent < 0)
            physical = 1; /* corrupt: the call site would lie before the function; end the walk here */
        else
            cur = f.entry + (uint32_t)parent;
    }
    return n;
}
