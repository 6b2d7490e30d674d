/* unwind_cfi.c — stack walks from a signal context with the modules' own unwind tables.
 *
 * RULES (compromised context): async-signal-safe; every byte of the target process is read through
 * ss_memread, directly or from the stack window unwind.c filled with it (rep_stack_read) (a bad
 * table or a smashed stack gives "no frame", never a fault); no locks, no
 * allocation; all loops bounded (binary search by log2 of the table, CFA programs by their length,
 * expressions by MAX_EXPR_OPS, the remember stack by MAX_STATES). Runs on the reporting thread.
 *
 * Why our own and not libunwind: libunwind 1.6 finds tables with dl_iterate_phdr, which takes the
 * loader's lock, and it blocks every signal while it holds its own mutex, so neither the capture
 * deadline nor the watchdog can cut a wait on a lock held by a stopped thread (a crash during
 * dlopen). It also allocates in unw_get_proc_name. Here the tables are found from /proc/self/maps
 * and the ELF program headers (PT_GNU_EH_FRAME), which we read ourselves.
 *
 * What is understood: .eh_frame_hdr with the standard datarel|sdata4 table, CIE augmentations
 * z, R, P, L, S, the CFA instructions GCC and Clang emit, DWARF expressions used by PLT stubs and
 * glibc's signal trampoline, aarch64's DW_CFA_AARCH64_negate_ra_state (pointer authentication), and
 * signal frames (the trampoline's code is recognised). Where a pc has no table (JIT code, hand-written
 * assembly without CFI) the walk falls back to the frame pointer for that frame.
 *
 * The engine is the same on every architecture; the register numbering (<arch>/regs.h), the registers
 * of a context, the signal trampoline and what a return address holds besides the address are the
 * architecture's (<arch>/unwind_cfi.c).
 */
#include "rep.h"

#include <elf.h>
#include <ucontext.h>

#define NREGS REP_NREGS
#define MAX_STATES 8
#define MAX_EXPR_OPS 64
#define MAX_CFI_BYTES 4096

/* Per-module table location, found once per report. Entries of an earlier report (another gen)
 * count as unknown: the reset bumps g_cfi_gen instead of clearing the arrays, which would fault in
 * pages (32 KiB here, 146 KiB of rows below) that this report may never use. Reporting thread only. */
static uint32_t g_cfi_gen = 1;
struct ehtab {
    uint32_t gen;
    int state;        /* 1 ready, -1 none (when gen is g_cfi_gen) */
    uint64_t hdr;     /* address of .eh_frame_hdr */
    uint64_t table;   /* its search table */
    uint64_t count;
};

static struct ehtab g_tabs[REP_MAX_MODULES];

/* ---- reading ---- */

struct cursor {
    const uint8_t *p, *end;
    uint64_t addr; /* the target address of p, for pc-relative pointers */
    int bad;
};

static uint8_t rd_u8(struct cursor *c)
{
    if (c->p >= c->end) {
        c->bad = 1;
        return 0;
    }
    c->addr++;
    return *c->p++;
}

static uint64_t rd_bytes(struct cursor *c, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)rd_u8(c) << (8 * i);
    return v;
}

static uint64_t rd_uleb(struct cursor *c)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b = rd_u8(c);
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    c->bad = 1;
    return v;
}

static int64_t rd_sleb(struct cursor *c)
{
    int64_t v = 0;
    int shift = 0;
    uint8_t b;
    do {
        b = rd_u8(c);
        v |= (int64_t)(b & 0x7f) << shift;
        shift += 7;
    } while ((b & 0x80) && shift < 64);
    if (shift < 64 && (b & 0x40))
        v |= -((int64_t)1 << shift);
    return v;
}

/* A DW_EH_PE-encoded pointer. base_data is the datarel base (.eh_frame_hdr). */
static uint64_t rd_encoded(struct cursor *c, uint8_t enc, uint64_t base_data)
{
    if (enc == 0xff)
        return 0;
    uint64_t field = c->addr, v;
    switch (enc & 0x0f) {
    case 0x00: v = rd_bytes(c, 8); break;
    case 0x01: v = rd_uleb(c); break;
    case 0x02: v = rd_bytes(c, 2); break;
    case 0x03: v = rd_bytes(c, 4); break;
    case 0x04: v = rd_bytes(c, 8); break;
    case 0x09: v = (uint64_t)rd_sleb(c); break;
    case 0x0a: v = (uint64_t)(int64_t)(int16_t)rd_bytes(c, 2); break;
    case 0x0b: v = (uint64_t)(int64_t)(int32_t)rd_bytes(c, 4); break;
    case 0x0c: v = rd_bytes(c, 8); break;
    default: c->bad = 1; return 0;
    }
    switch (enc & 0x70) {
    case 0x00: break;
    case 0x10: v += field; break;
    case 0x30: v += base_data; break;
    default: c->bad = 1; return 0;
    }
    if (enc & 0x80) {
        uint64_t ind;
        if (ss_memread_u64(v, &ind) < 0)
            c->bad = 1;
        v = ind;
    }
    return v;
}

/* ---- finding the FDE ---- */

static int find_table(const struct mdw_module *m, struct ehtab *t)
{
    Elf64_Ehdr eh;
    t->state = -1;
    if (ss_memread(&eh, m->base, sizeof eh) < 0 || ss_memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 64)
        return -1;
    uint64_t bias = 0, frame = 0;
    int have_bias = 0;
    /* All headers in one read (a syscall each otherwise); static: the walk's stack budget is small. */
    static Elf64_Phdr phs[64];
    if (eh.e_phnum == 0 || ss_memread(phs, m->base + eh.e_phoff, eh.e_phnum * sizeof phs[0]) < 0)
        return -1;
    for (uint32_t i = 0; i < eh.e_phnum; i++) {
        const Elf64_Phdr ph = phs[i];
        if (ph.p_type == PT_LOAD && !have_bias) {
            bias = m->base - (ph.p_vaddr - ph.p_offset);
            have_bias = 1;
        }
        if (ph.p_type == PT_GNU_EH_FRAME)
            frame = ph.p_vaddr;
    }
    if (!have_bias || !frame)
        return -1;
    uint8_t h[4 + 8 + 8];
    t->hdr = bias + frame;
    if (ss_memread(h, t->hdr, sizeof h) < 0 || h[0] != 1 || h[3] != 0x3b /* datarel|sdata4 */)
        return -1;
    struct cursor c = {h + 4, h + sizeof h, t->hdr + 4, 0};
    rd_encoded(&c, h[1], t->hdr); /* eh_frame_ptr: not needed with a search table */
    t->count = rd_encoded(&c, h[2], t->hdr);
    t->table = c.addr;
    if (c.bad || t->count == 0 || t->count > (1u << 24))
        return -1;
    t->state = 1;
    return 0;
}

/* The FDE address for pc from the binary search table, or 0. Entry by entry while the range is
 * large, then the last FDE_BLOCK entries in one read: each read is a syscall, and a table of
 * libc's size took a dozen per frame. Reporting thread only (g_fde_block). */
#define FDE_BLOCK 512
static int32_t g_fde_block[FDE_BLOCK][2];

static uint64_t find_fde(const struct ehtab *t, uint64_t pc)
{
    uint64_t lo = 0, hi = t->count, found = 0, base = 0;
    int in_block = 0;
    while (lo < hi) {
        if (!in_block && hi - lo <= FDE_BLOCK) {
            if (ss_memread(g_fde_block, t->table + lo * 8, (hi - lo) * 8) < 0)
                return 0;
            base = lo;
            in_block = 1;
        }
        uint64_t mid = lo + (hi - lo) / 2;
        int32_t e[2];
        if (in_block) {
            e[0] = g_fde_block[mid - base][0];
            e[1] = g_fde_block[mid - base][1];
        } else if (ss_memread(e, t->table + mid * 8, 8) < 0) {
            return 0;
        }
        if (t->hdr + (uint64_t)(int64_t)e[0] <= pc) {
            found = t->hdr + (uint64_t)(int64_t)e[1];
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return found;
}

/* ---- CIE, FDE and the CFA program ---- */

enum rule_kind { R_SAME, R_UNDEF, R_OFFSET, R_VAL_OFFSET, R_REGISTER, R_EXPR, R_VAL_EXPR };

struct rule {
    uint8_t kind;
    int64_t value;          /* offset, or register number */
    const uint8_t *expr;    /* expression bytes (in the cfi buffer) */
    uint32_t expr_len;
};

struct row {
    int cfa_reg;            /* -1: CFA is an expression */
    int64_t cfa_off;
    const uint8_t *cfa_expr;
    uint32_t cfa_expr_len;
    struct rule r[NREGS];
};

struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint32_t ra;
    uint8_t fde_enc;
    int has_z, signal;
    const uint8_t *insns, *insns_end;
    uint64_t insns_addr;
};

/* Read the length-prefixed record at addr into buf; returns its body (after the length). */
static int read_record(uint64_t addr, uint8_t *buf, struct cursor *c)
{
    uint32_t len32;
    if (ss_memread(&len32, addr, 4) < 0 || len32 == 0 || len32 == 0xffffffffu || len32 > MAX_CFI_BYTES)
        return -1;
    if (ss_memread(buf, addr + 4, len32) < 0)
        return -1;
    c->p = buf;
    c->end = buf + len32;
    c->addr = addr + 4;
    c->bad = 0;
    return 0;
}

static int parse_cie(uint64_t addr, uint8_t *buf, struct cie *cie)
{
    struct cursor c;
    if (read_record(addr, buf, &c) < 0 || rd_bytes(&c, 4) != 0)
        return -1;
    uint8_t version = rd_u8(&c);
    char aug[8];
    int n = 0;
    for (uint8_t ch = rd_u8(&c); ch && !c.bad; ch = rd_u8(&c))
        if (n < (int)sizeof aug - 1)
            aug[n++] = (char)ch;
    aug[n] = 0;
    cie->code_align = rd_uleb(&c);
    cie->data_align = rd_sleb(&c);
    cie->ra = version == 1 ? rd_u8(&c) : (uint32_t)rd_uleb(&c);
    cie->fde_enc = 0;
    cie->signal = 0;
    cie->has_z = aug[0] == 'z';
    if (cie->has_z) {
        uint64_t len = rd_uleb(&c);
        const uint8_t *after = c.p + len;
        for (int i = 1; i < n && !c.bad; i++) {
            if (aug[i] == 'R')
                cie->fde_enc = rd_u8(&c);
            else if (aug[i] == 'P')
                rd_encoded(&c, rd_u8(&c), 0);
            else if (aug[i] == 'L')
                rd_u8(&c);
            else if (aug[i] == 'S')
                cie->signal = 1;
        }
        if (after > c.end)
            return -1;
        c.addr += (uint64_t)(after - c.p);
        c.p = after;
    } else if (n > 0 && !(n == 2 && aug[0] == 'e' && aug[1] == 'h')) {
        return -1; /* an augmentation we cannot skip */
    }
    if (c.bad || cie->ra >= NREGS)
        return -1;
    cie->insns = c.p;
    cie->insns_end = c.end;
    cie->insns_addr = c.addr;
    return 0;
}

/* Run CFA instructions [p, end) until the location passes target. */
static int run_cfa(struct cursor *c, const struct cie *cie, struct row *row, const struct row *initial,
                   uint64_t loc, uint64_t target)
{
    struct row stack[MAX_STATES];
    int depth = 0;
    while (c->p < c->end && !c->bad) {
        uint8_t op = rd_u8(c), low = op & 0x3f;
        uint64_t reg, delta = 0;
        switch (op >> 6) {
        case 1: delta = low * cie->code_align; break;
        case 2:
            if (low < NREGS)
                row->r[low] = (struct rule){R_OFFSET, (int64_t)rd_uleb(c) * cie->data_align, 0, 0};
            else
                rd_uleb(c);
            continue;
        case 3:
            if (low < NREGS)
                row->r[low] = initial->r[low];
            continue;
        default:
            switch (op) {
            case 0x00: continue; /* nop */
            case 0x01: loc = rd_encoded(c, cie->fde_enc, 0); continue;
            case 0x02: delta = rd_bytes(c, 1) * cie->code_align; break;
            case 0x03: delta = rd_bytes(c, 2) * cie->code_align; break;
            case 0x04: delta = rd_bytes(c, 4) * cie->code_align; break;
            case 0x05: /* offset_extended */
            case 0x11: /* offset_extended_sf */
            case 0x14: /* val_offset */
            case 0x15: /* val_offset_sf */ {
                reg = rd_uleb(c);
                int64_t off = (op == 0x05 || op == 0x14) ? (int64_t)rd_uleb(c) : rd_sleb(c);
                if (reg < NREGS)
                    row->r[reg] = (struct rule){op >= 0x14 ? R_VAL_OFFSET : R_OFFSET, off * cie->data_align, 0, 0};
                continue;
            }
            case 0x06: /* restore_extended */
                reg = rd_uleb(c);
                if (reg < NREGS)
                    row->r[reg] = initial->r[reg];
                continue;
            case 0x07: /* undefined */
            case 0x08: /* same_value */
                reg = rd_uleb(c);
                if (reg < NREGS)
                    row->r[reg] = (struct rule){op == 0x07 ? R_UNDEF : R_SAME, 0, 0, 0};
                continue;
            case 0x09: { /* register */
                reg = rd_uleb(c);
                uint64_t from = rd_uleb(c);
                if (reg < NREGS && from < NREGS)
                    row->r[reg] = (struct rule){R_REGISTER, (int64_t)from, 0, 0};
                continue;
            }
            case 0x0a: /* remember_state */
                if (depth == MAX_STATES)
                    return -1;
                ss_memcpy(&stack[depth++], row, sizeof *row);
                continue;
            case 0x0b: /* restore_state: the CFA rule too, as GCC's epilogues expect (remember; ret; restore) */
                if (depth == 0)
                    return -1;
                ss_memcpy(row, &stack[--depth], sizeof *row);
                continue;
            case 0x0c: row->cfa_reg = (int)rd_uleb(c); row->cfa_off = (int64_t)rd_uleb(c); continue;
            case 0x0d: row->cfa_reg = (int)rd_uleb(c); continue;
            case 0x0e: row->cfa_off = (int64_t)rd_uleb(c); continue;
            case 0x12: row->cfa_reg = (int)rd_uleb(c); row->cfa_off = rd_sleb(c) * cie->data_align; continue;
            case 0x13: row->cfa_off = rd_sleb(c) * cie->data_align; continue;
            case 0x0f: { /* def_cfa_expression */
                uint64_t len = rd_uleb(c);
                if (len > (uint64_t)(c->end - c->p))
                    return -1;
                row->cfa_reg = -1;
                row->cfa_expr = c->p;
                row->cfa_expr_len = (uint32_t)len;
                c->p += len;
                c->addr += len;
                continue;
            }
            case 0x10: /* expression */
            case 0x16: { /* val_expression */
                reg = rd_uleb(c);
                uint64_t len = rd_uleb(c);
                if (len > (uint64_t)(c->end - c->p))
                    return -1;
                if (reg < NREGS)
                    row->r[reg] = (struct rule){op == 0x10 ? R_EXPR : R_VAL_EXPR, 0, c->p, (uint32_t)len};
                c->p += len;
                c->addr += len;
                continue;
            }
            case 0x2e: rd_uleb(c); continue; /* GNU_args_size */
            case 0x2d: /* AARCH64_negate_ra_state (SPARC's GNU_window_save, never seen on x86_64): the
                        * return address is signed from here on; rep_cfi_return_address strips it */
                continue;
            case 0x2f: /* GNU_negative_offset_extended */
                reg = rd_uleb(c);
                if (reg < NREGS)
                    row->r[reg] = (struct rule){R_OFFSET, -(int64_t)rd_uleb(c) * cie->data_align, 0, 0};
                else
                    rd_uleb(c);
                continue;
            default:
                return -1;
            }
        }
        loc += delta;
        if (loc > target)
            return 0;
    }
    return c->bad ? -1 : 0;
}

/* Rows and register sets are copied with ss_memcpy, never by assignment: gcc turns an assignment of a
 * struct this large into a call to libc's memcpy on aarch64 (tests/check_symbols.sh). */

/* Rows already computed, by pc: threads parked in the same place (hundreds of workers in one
 * futex wait) share their frames, and a cached row needs no table reads at all. Only rows without
 * expressions are kept (an expression points into a buffer that is gone after the step). */
#define ROW_CACHE 256
static struct {
    uint32_t gen;      /* not g_cfi_gen: empty */
    uint64_t look;
    uint32_t ra;
    int sigreturn;     /* is_sigreturn(look + 1), asked before every step from a return address */
    struct row row;
} g_rows[ROW_CACHE];

static uint32_t row_slot(uint64_t look) { return (uint32_t)((look * 0x9e3779b97f4a7c15ull) >> 56) % ROW_CACHE; }

static int row_cacheable(const struct row *row)
{
    if (row->cfa_reg < 0)
        return 0;
    for (int i = 0; i < NREGS; i++)
        if (row->r[i].kind == R_EXPR || row->r[i].kind == R_VAL_EXPR)
            return 0;
    return 1;
}

void rep_cfi_reset(void) { g_cfi_gen++; }

/* ---- DWARF expressions (the subset unwind tables use) ---- */

static int eval_expr(const uint8_t *p, uint32_t len, const uint64_t *regs, const uint8_t *valid, uint64_t push,
                     int have_push, uint64_t *out)
{
    uint64_t st[16];
    int sp = 0;
    if (have_push)
        st[sp++] = push;
    struct cursor c = {p, p + len, 0, 0};
    for (int ops = 0; c.p < c.end && ops < MAX_EXPR_OPS && !c.bad; ops++) {
        uint8_t op = rd_u8(&c);
        uint64_t a, b;
        if (sp >= 15)
            return -1;
        if (op >= 0x30 && op <= 0x4f) { /* lit0..31 */
            st[sp++] = op - 0x30u;
            continue;
        }
        if (op >= 0x70 && op <= 0x8f) { /* breg0..31 */
            unsigned r = op - 0x70u;
            if (r >= NREGS || !valid[r])
                return -1;
            st[sp++] = regs[r] + (uint64_t)rd_sleb(&c);
            continue;
        }
        switch (op) {
        case 0x08: st[sp++] = rd_bytes(&c, 1); break;
        case 0x09: st[sp++] = (uint64_t)(int64_t)(int8_t)rd_bytes(&c, 1); break;
        case 0x0a: st[sp++] = rd_bytes(&c, 2); break;
        case 0x0b: st[sp++] = (uint64_t)(int64_t)(int16_t)rd_bytes(&c, 2); break;
        case 0x0c: st[sp++] = rd_bytes(&c, 4); break;
        case 0x0d: st[sp++] = (uint64_t)(int64_t)(int32_t)rd_bytes(&c, 4); break;
        case 0x0e: case 0x0f: st[sp++] = rd_bytes(&c, 8); break;
        case 0x10: st[sp++] = rd_uleb(&c); break;
        case 0x11: st[sp++] = (uint64_t)rd_sleb(&c); break;
        case 0x12: if (sp < 1) return -1; st[sp] = st[sp - 1]; sp++; break;      /* dup */
        case 0x13: if (sp < 1) return -1; sp--; break;                           /* drop */
        case 0x16: if (sp < 2) return -1; a = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = a; break;
        case 0x06: /* deref */
            if (sp < 1 || rep_stack_read_u64(st[sp - 1], &st[sp - 1]) < 0)
                return -1;
            break;
        case 0x23: if (sp < 1) return -1; st[sp - 1] += rd_uleb(&c); break;     /* plus_uconst */
        case 0x1a: case 0x1c: case 0x1e: case 0x21: case 0x22: case 0x24: case 0x25:
        case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e:
            if (sp < 2)
                return -1;
            b = st[--sp];
            a = st[sp - 1];
            switch (op) {
            case 0x1a: a &= b; break;
            case 0x1c: a -= b; break;
            case 0x1e: a *= b; break;
            case 0x21: a |= b; break;
            case 0x22: a += b; break;
            case 0x24: a = b < 64 ? a << b : 0; break;
            case 0x25: a = b < 64 ? a >> b : 0; break;
            case 0x29: a = a == b; break;
            case 0x2a: a = (int64_t)a >= (int64_t)b; break;
            case 0x2b: a = (int64_t)a > (int64_t)b; break;
            case 0x2c: a = (int64_t)a <= (int64_t)b; break;
            case 0x2d: a = (int64_t)a < (int64_t)b; break;
            case 0x2e: a = a != b; break;
            }
            st[sp - 1] = a;
            break;
        default:
            return -1;
        }
    }
    if (c.bad || sp < 1)
        return -1;
    *out = st[sp - 1];
    return 0;
}

/* ---- one step ---- */

static int apply_row(const struct row *row, uint32_t ra, struct rep_regs *r);

/* The row for look: from the cache, or by running the CIE and FDE programs. Returns 1 and fills
 * *row (whose expressions point into the caller's buffers), 0 when no table covers look. */
static int find_row(const struct mdw_module *mods, uint32_t nmods, uint64_t look, struct row *row, uint32_t *ra,
                    uint8_t *fbuf, uint8_t *cbuf)
{
    uint32_t slot = row_slot(look);
    if (g_rows[slot].gen == g_cfi_gen && g_rows[slot].look == look) {
        ss_memcpy(row, &g_rows[slot].row, sizeof *row);
        *ra = g_rows[slot].ra;
        return 1;
    }
    int mi = rep_module_index(mods, nmods, look);
    if (mi < 0)
        return 0;
    struct ehtab *t = &g_tabs[mi];
    if (t->gen != g_cfi_gen) {
        t->gen = g_cfi_gen;
        find_table(&mods[mi], t);
    }
    if (t->state != 1)
        return 0;
    uint64_t fde = find_fde(t, look);
    if (!fde)
        return 0;
    struct cursor c;
    struct cie cie;
    if (read_record(fde, fbuf, &c) < 0)
        return 0;
    uint64_t cie_ptr_at = c.addr;
    uint32_t cie_ptr = (uint32_t)rd_bytes(&c, 4);
    if (cie_ptr == 0 || parse_cie(cie_ptr_at - cie_ptr, cbuf, &cie) < 0)
        return 0;
    uint64_t start = rd_encoded(&c, cie.fde_enc, 0);
    uint64_t range = rd_encoded(&c, cie.fde_enc & 0x0f, 0);
    if (c.bad || look < start || look - start >= range)
        return 0;
    if (cie.has_z) {
        uint64_t aug = rd_uleb(&c);
        if (aug > (uint64_t)(c.end - c.p))
            return 0;
        c.p += aug;
        c.addr += aug;
    }
    struct row initial;
    ss_memset(row, 0, sizeof *row); /* every rule R_SAME (0) */
    row->cfa_reg = REP_DW_SP;
    struct cursor ci = {cie.insns, cie.insns_end, cie.insns_addr, 0};
    if (run_cfa(&ci, &cie, row, row, start, ~0ull) < 0)
        return 0;
    ss_memcpy(&initial, row, sizeof initial);
    if (run_cfa(&c, &cie, row, &initial, start, look) < 0)
        return 0;
    *ra = cie.ra;
    if (row_cacheable(row)) {
        g_rows[slot].gen = g_cfi_gen;
        g_rows[slot].look = look;
        g_rows[slot].ra = cie.ra;
        g_rows[slot].sigreturn = rep_cfi_is_sigreturn(look + 1);
        ss_memcpy(&g_rows[slot].row, row, sizeof *row);
    }
    return 1;
}

/* Step r from a frame to its caller with the unwind table of the module holding the pc.
 * Returns 1 when stepped, 0 when no table covers the pc, -1 at the end of the stack or on error. */
int rep_cfi_step(const struct mdw_module *mods, uint32_t nmods, struct rep_regs *r)
{
    uint64_t pc = r->v[REP_DW_PC];
    uint64_t look = r->exact_pc ? pc : pc - 1;
    /* A cached row knows whether its pc is a signal trampoline: no read of the code then. */
    uint32_t slot = row_slot(look);
    int cached = g_rows[slot].gen == g_cfi_gen && g_rows[slot].look == look;
    if (!r->exact_pc && (cached ? g_rows[slot].sigreturn : rep_cfi_is_sigreturn(pc)))
        return rep_cfi_step_sigreturn(r);
    uint8_t fbuf[MAX_CFI_BYTES], cbuf[MAX_CFI_BYTES];
    struct row row;
    uint32_t ra;
    if (!find_row(mods, nmods, look, &row, &ra, fbuf, cbuf))
        return 0;
    return apply_row(&row, ra, r);
}

/* Registers of the caller from the row's rules. */
static int apply_row(const struct row *row, uint32_t ra, struct rep_regs *r)
{
    uint64_t cfa;
    if (row->cfa_reg >= 0) {
        if (row->cfa_reg >= NREGS || !r->valid[row->cfa_reg])
            return -1;
        cfa = r->v[row->cfa_reg] + (uint64_t)row->cfa_off;
    } else if (eval_expr(row->cfa_expr, row->cfa_expr_len, r->v, r->valid, 0, 0, &cfa) < 0) {
        return -1;
    }
    struct rep_regs next;
    ss_memcpy(&next, r, sizeof next);
    for (int i = 0; i < NREGS; i++) {
        const struct rule *ru = &row->r[i];
        uint64_t v = 0, at;
        switch (ru->kind) {
        case R_SAME: continue;
        case R_UNDEF: next.valid[i] = 0; continue;
        case R_OFFSET:
            if (rep_stack_read_u64(cfa + (uint64_t)ru->value, &v) < 0)
                return -1;
            break;
        case R_VAL_OFFSET: v = cfa + (uint64_t)ru->value; break;
        case R_REGISTER:
            if (!r->valid[ru->value])
                return -1;
            v = r->v[ru->value];
            break;
        case R_EXPR:
            if (eval_expr(ru->expr, ru->expr_len, r->v, r->valid, cfa, 1, &at) < 0 || rep_stack_read_u64(at, &v) < 0)
                return -1;
            break;
        case R_VAL_EXPR:
            if (eval_expr(ru->expr, ru->expr_len, r->v, r->valid, cfa, 1, &v) < 0)
                return -1;
            break;
        }
        next.v[i] = v;
        next.valid[i] = 1;
    }
    if (ra != REP_DW_PC) { /* aarch64: the return address column is x30, the pc has a slot of its own */
        next.v[REP_DW_PC] = next.v[ra];
        next.valid[REP_DW_PC] = next.valid[ra];
    }
    if (!next.valid[REP_DW_PC] || row->r[ra].kind == R_UNDEF)
        return -1; /* the outermost frame (_start, clone) marks its return address undefined */
    next.v[REP_DW_PC] = rep_cfi_return_address(next.v[REP_DW_PC]);
    next.v[REP_DW_SP] = cfa;
    next.valid[REP_DW_SP] = 1;
    next.exact_pc = 0;
    ss_memcpy(r, &next, sizeof next);
    return 1;
}
