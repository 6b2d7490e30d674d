/* go_capture.c — every goroutine of a Go process, walked and symbolized at crash time.
 *
 * RULES (compromised context): async-signal-safe; runtime structures (g, m, allgs) are read only
 * through ss_memread and every pointer is validated before it is followed (m.g0.m == m, goid and
 * status in range, sp inside the goroutine's stack); the pclntab is read directly by go_pcln.c, so
 * report.c runs all of this inside rep_guard_run. All memory from the arena; every loop bounded
 * (REP_GO_MAX_GOROUTINES, REP_GO_MAX_FRAMES, the TLS scan by the executable's TLS block size).
 *
 * Where each goroutine's walk starts (the runtime's own rules, runtime/traceback.go):
 *   running on a captured thread, sp inside its stack  the thread's registers (an exact pc, as
 *                                                       tracebacktrap starts from the signal's)
 *   g.syscallsp set                                     g.syscallpc / g.syscallsp: in a system call
 *                                                       or a cgo call, and also after one while it
 *                                                       waits for a P (runnable in exitsyscall; the
 *                                                       runtime clears syscallsp only once it runs)
 *   anything else (parked, runnable, on systemstack)    g.sched.pc / g.sched.sp
 * A frame's caller is at sp + pcsp(pc): on amd64 +8 more, the return address the call pushed just
 * below it; on arm64 the return address is the lr the frame's prologue saved at 0(sp), or still in
 * the lr register for the innermost frame before its prologue (pcsp 0), as unwinder.resolveInternal
 * reads it (usesLR). Return addresses are looked up at pc-1 except above a call the runtime injects
 * at a pc (runtime.sigpanic, runtime.asyncPreempt, runtime.debugCallV2: unwinder.next's injectedCall),
 * whose caller's pc is the interrupted instruction itself.
 */
#include "go_capture.h"

#include "go_offsets.h"
#include "go_reason.h"
#include "../rep.h"

#define G_STATUS_IDLE 0
#define G_STATUS_SYSCALL 3
#define G_STATUS_DEAD 6
#define G_STATUS_SCAN 0x1000u
#define G_STATUS_MAX 11
#define GOID_MAX (1ull << 48)
#define STACK_HASH_SLOTS 8192

struct pc_entry;

struct gview {
    uint64_t addr, stack_lo, stack_hi, m, sched_sp, sched_pc, sched_lr, syscallsp, syscallpc, goid, parent, gopc;
    uint64_t lockedm;
    uint64_t waitsince;
    uint32_t status;
    uint8_t waitreason;
};

static struct {
    const struct rep_go *go;
    struct mdw_go *out;
    struct lg_go_goroutine *gs;
    struct lg_go_frame *frames;
    uint32_t ng, nf;
    struct rep_strtab st;
    struct stack_slot { uint32_t first, count; } *stack_slots; /* frame sequences seen, by hash */
    struct ss_str *notes;
    const struct rep_go_thread *threads;
    int nthreads;
    uint64_t curg[REP_MAX_THREADS]; /* the user goroutine found on each thread, 0 if none */
    int64_t tls_slot;               /* offset of g from the thread pointer, once one thread showed it */
    struct pc_entry *pcs;           /* PC_CACHE entries, in the arena */
    uint8_t *win;                   /* STACK_WINDOW bytes of the stack being walked, in the arena */
    uint64_t win_base, win_len;
} C;

static int rd64(uint64_t addr, uint64_t *v) { return ss_memread_u64(addr, v); }

/* A field of a g image read in one piece (a g is a few hundred bytes: one syscall, not fifteen). */
#define G_IMAGE 1024

static int rd_field(const uint8_t *img, uint16_t off, uint64_t *v, int size)
{
    *v = 0;
    if (off == GO_OFF_ABSENT || off + size > G_IMAGE)
        return -1;
    ss_memcpy(v, img + off, (size_t)size);
    return 0;
}

/* Read and check one g. Returns 0 when it looks like a real goroutine. */
static int read_g(uint64_t addr, struct gview *g)
{
    const struct go_offsets *o = &C.go->off;
    uint8_t img[G_IMAGE];
    size_t len = o->g_size && o->g_size <= G_IMAGE ? o->g_size : G_IMAGE;
    uint64_t v;
    ss_memset(g, 0, sizeof *g);
    g->addr = addr;
    if (!addr || (addr & 7) || ss_memread(img, addr, len) < 0)
        return -1;
    if (len < G_IMAGE)
        ss_memset(img + len, 0, G_IMAGE - len);
    if (rd_field(img, o->g_stack_lo, &g->stack_lo, 8) < 0 || rd_field(img, o->g_stack_hi, &g->stack_hi, 8) < 0 ||
        rd_field(img, o->g_goid, &g->goid, 8) < 0 || rd_field(img, o->g_atomicstatus, &v, 4) < 0)
        return -1;
    g->status = (uint32_t)v & ~G_STATUS_SCAN;
    if (g->status > G_STATUS_MAX || g->goid >= GOID_MAX)
        return -1;
    rd_field(img, o->g_m, &g->m, 8);
    rd_field(img, o->g_sched_sp, &g->sched_sp, 8);
    rd_field(img, o->g_sched_pc, &g->sched_pc, 8);
    rd_field(img, o->g_sched_lr, &g->sched_lr, 8); /* set by the runtime on arm64 only (usesLR) */
    rd_field(img, o->g_syscallsp, &g->syscallsp, 8);
    rd_field(img, o->g_syscallpc, &g->syscallpc, 8);
    rd_field(img, o->g_parent_goid, &g->parent, 8);
    rd_field(img, o->g_gopc, &g->gopc, 8);
    rd_field(img, o->g_lockedm, &g->lockedm, 8);
    rd_field(img, o->g_waitsince, &g->waitsince, 8);
    if (rd_field(img, o->g_waitreason, &v, 1) == 0)
        g->waitreason = (uint8_t)v;
    return g->status == G_STATUS_DEAD || g->stack_lo < g->stack_hi ? 0 : -1;
}

/* The goroutines the runtime's traceback shows: not idle, not dead, not a dead g parked on an extra
 * M for cgo callbacks (_Gdeadextra, Go 1.26+). */
static int printable(const struct gview *g)
{
    if (g->status == G_STATUS_IDLE || g->status == G_STATUS_DEAD)
        return 0;
    const char *name = go_status_name(C.go->major, C.go->minor, C.go->patch, g->status);
    return !(name && ss_strcmp(name, "waiting for cgo callback") == 0);
}

/* A g found in TLS is believed when its m agrees: m.g0.m == m, and m.curg (if any) is on m. */
static int valid_g_on_thread(uint64_t g, int tid, uint64_t *curg)
{
    const struct go_offsets *o = &C.go->off;
    uint64_t m, g0, g0m, gsig, cur, procid = 0, curm;
    if (!g || (g & 7) || rd64(g + o->g_m, &m) < 0 || !m || (m & 7) || rd64(m + o->m_g0, &g0) < 0 || !g0 ||
        rd64(g0 + o->g_m, &g0m) < 0 || g0m != m)
        return 0;
    if (o->m_procid != GO_OFF_ABSENT && rd64(m + o->m_procid, &procid) == 0 && procid && procid != (uint64_t)tid)
        return 0;
    rd64(m + o->m_gsignal, &gsig);
    rd64(m + o->m_curg, &cur);
    if (g != g0 && g != gsig) {
        *curg = g; /* a user goroutine itself */
        return 1;
    }
    if (cur && (rd64(cur + o->g_m, &curm) < 0 || curm != m))
        cur = 0;
    *curg = cur;
    return 1;
}

/* The g of a thread: Go keeps it in a TLS slot of the executable's static TLS block (runtime.tlsg on
 * amd64, runtime.tls_g on arm64, where load_g reads it in cgo binaries: the goshim and LD_PRELOAD
 * cases, so R28 is not needed). The block is just below the thread pointer on x86_64 (TLS variant
 * II) and above it, after the 16-byte TCB rounded up to the block's alignment, on aarch64 (variant
 * I). Its exact offset depends on the linker; try each slot of the block and keep the one that
 * validates (then remember it for the other threads). */
static uint64_t thread_g(const struct rep_go_thread *t, uint64_t *curg)
{
    *curg = 0;
    if (!t->fs_base)
        return 0;
    uint64_t g;
    if (C.tls_slot && rd64(t->fs_base + (uint64_t)C.tls_slot, &g) == 0 && valid_g_on_thread(g, t->tid, curg))
        return g;
    int64_t span = (int64_t)C.go->tls_block;
#if defined(__aarch64__)
    for (int64_t off = 16; off < 16 + 64 + span && off <= 4096; off += 8) { /* 64: the alignment padding */
#else
    for (int64_t off = -8; off >= -span && off >= -4096; off -= 8) {
#endif
        if (rd64(t->fs_base + (uint64_t)off, &g) == 0 && valid_g_on_thread(g, t->tid, curg)) {
            C.tls_slot = off;
            return g;
        }
    }
    return 0;
}

/* ---- stacks ---- */

static uint32_t add_string(const char *s)
{
    return s ? rep_strtab_add(&C.st, s, ss_strnlen(s, 4096)) : LG_NONE;
}

static int is_func(const struct go_func *f, uint64_t entry) { return entry && f->entry == entry; }

/* What the walk learns at one pc, kept by pc: thousands of goroutines parked in the same few
 * places then cost one table decoding each, not one per goroutine. */
#define PC_CACHE 2048
#define PC_FRAMES 16
struct pc_entry {
    uint64_t key;            /* pc * 2 + trap, 0 = empty */
    int32_t spdelta;         /* -1: the walk stops here */
    uint8_t injected, nframes, valid; /* injected: the caller's pc is exact (see the top) */
    struct { uint32_t function, file; int32_t line; uint8_t inlined; } fr[PC_FRAMES];
};

static int lookup_pc(uint64_t pc, int trap, struct pc_entry **out)
{
    static struct pc_entry none;
    uint64_t key = pc * 2 + (trap ? 1 : 0);
    struct pc_entry *e = C.pcs ? &C.pcs[(key * 0x9e3779b97f4a7c15ull) >> 53 & (PC_CACHE - 1)] : &none;
    *out = e;
    if (e->key == key && key)
        return e->valid;
    ss_memset(e, 0, sizeof *e);
    e->key = key;
    const struct go_pcln *t = &C.go->pcln;
    struct go_func f;
    if (go_findfunc(t, pc, &f) < 0)
        return 0;
    uint64_t look = (trap || pc == f.entry) ? pc : pc - 1;
    struct go_frame_info info[PC_FRAMES];
    int k = go_frames_at(t, look, info, PC_FRAMES);
    for (int i = 0; i < k; i++) {
        e->fr[i].function = add_string(info[i].function);
        e->fr[i].file = add_string(info[i].file);
        e->fr[i].line = info[i].line;
        e->fr[i].inlined = (uint8_t)(info[i].inlined != 0);
    }
    e->nframes = (uint8_t)k;
    int32_t spdelta;
    if (is_func(&f, C.go->fn_goexit) || (f.flag & 1 /* TOPFRAME */) || go_pcvalue(t, &f, f.pcsp, pc, &spdelta) < 0 ||
        spdelta < 0)
        spdelta = -1;
    e->spdelta = spdelta;
    e->injected = (uint8_t)(is_func(&f, C.go->fn_sigpanic) || is_func(&f, C.go->fn_asyncpreempt) ||
                            is_func(&f, C.go->fn_debugcall));
    e->valid = 1;
    return 1;
}

/* The goroutine's stack, read a window at a time: a deep recursion is millions of frames, and one
 * system call per return address would take seconds. */
#define STACK_WINDOW (64u << 10)
static int rd_stack(uint64_t addr, uint64_t hi, uint64_t *v)
{
    if (!C.win || addr < C.win_base || addr + 8 > C.win_base + C.win_len) {
        uint64_t len = hi - addr < STACK_WINDOW ? hi - addr : STACK_WINDOW;
        if (!C.win || len < 8 || ss_memread(C.win, addr, len) < 0)
            return rd64(addr, v);
        C.win_base = addr;
        C.win_len = len;
    }
    ss_memcpy(v, C.win + (addr - C.win_base), 8);
    return 0;
}

static void put_frame(uint64_t pc, uint32_t function, uint32_t file, int32_t line, uint8_t flags, int *truncated)
{
    if (C.nf >= REP_GO_MAX_FRAMES) {
        *truncated = 1;
        return;
    }
    struct lg_go_frame *fr = &C.frames[C.nf++];
    fr->pc = pc;
    fr->function_off = function;
    fr->file_off = file;
    fr->line = line;
    fr->flags = flags;
}

/* The caller of the frame at sp whose pcsp is spdelta: its sp, and where the return address is
 * (*slot, or lr when slot is 0). lr is the link register's value for the innermost frame, 0 after
 * (the runtime's frame.lr). See the top of this file. */
static uint64_t caller_of(uint64_t sp, int32_t spdelta, uint64_t lr, uint64_t *slot)
{
#if defined(__aarch64__)
    *slot = spdelta > 0 || !lr ? sp : 0;
    return sp + (uint64_t)spdelta;
#else
    (void)lr;
    *slot = sp + (uint64_t)spdelta;
    return *slot + 8;
#endif
}

/* Below a call the runtime injected (sigpanic, asyncPreempt, debugCallV2) on arm64, the runtime's signal
 * handler stored lr at sp - 16 and moved sp there (sigctxt.preparePanic, pushCall): the interrupted frame's
 * sp is 16 higher, and that lr is its return address if it had no frame yet (unwinder.next). Returns the
 * lr for the interrupted frame, or -1 when the word cannot be read; amd64 has nothing to undo. */
static int after_injected(uint64_t *sp, uint64_t stack_hi, uint64_t *lr)
{
#if defined(__aarch64__)
    if (*sp + 16 > stack_hi || rd_stack(*sp, stack_hi, lr) < 0)
        return -1;
    *sp += 16;
#else
    (void)sp, (void)stack_hi, (void)lr;
#endif
    return 0;
}

/* Walk from (pc, sp) and append the frames; returns how many records were appended. Like the
 * runtime's traceback, a stack of more than 100 source-level frames keeps its innermost 50 and its
 * outermost 50, with one LG_GO_FRAME_ELIDED record between them saying how many were left out. */
static uint32_t walk(uint64_t pc, uint64_t sp, uint64_t lr, int trap, uint64_t stack_lo, uint64_t stack_hi,
                     int *truncated)
{
    struct { uint64_t pc; uint32_t function, file; int32_t line; uint8_t flags; } ring[REP_GO_OUTER_FRAMES];
    uint32_t start = C.nf;
    uint64_t logical = 0;
    C.win_len = 0;
    for (uint64_t depth = 0; depth < REP_GO_MAX_WALK; depth++) {
        struct pc_entry *e;
        if (!lookup_pc(pc, trap, &e))
            break;
        for (int i = 0; i < e->nframes; i++, logical++) {
            if (logical < REP_GO_INNER_FRAMES) {
                put_frame(pc, e->fr[i].function, e->fr[i].file, e->fr[i].line, e->fr[i].inlined, truncated);
                continue;
            }
            uint64_t k = (logical - REP_GO_INNER_FRAMES) % REP_GO_OUTER_FRAMES;
            ring[k].pc = pc;
            ring[k].function = e->fr[i].function;
            ring[k].file = e->fr[i].file;
            ring[k].line = e->fr[i].line;
            ring[k].flags = e->fr[i].inlined;
        }
        if (e->spdelta < 0)
            break;
        uint64_t slot, ret = lr, fp = caller_of(sp, e->spdelta, lr, &slot);
        if (fp < sp || fp > stack_hi || (slot && (slot < stack_lo || slot + 8 > stack_hi ||
                                                  rd_stack(slot, stack_hi, &ret) < 0)) || !ret)
            break;
        lr = 0;
        trap = e->injected;
        pc = ret;
        sp = fp;
        if (trap && after_injected(&sp, stack_hi, &lr) < 0)
            break;
        if (depth + 1 == REP_GO_MAX_WALK)
            *truncated = 1; /* deeper than we walk: the outermost frames are not the stack's last */
    }
    if (logical > REP_GO_INNER_FRAMES) {
        uint64_t after = logical - REP_GO_INNER_FRAMES;
        uint64_t tail = after < REP_GO_OUTER_FRAMES ? after : REP_GO_OUTER_FRAMES;
        uint64_t elided = after - tail;
        if (elided)
            put_frame(0, LG_NONE, LG_NONE, elided > 0x7fffffff ? 0x7fffffff : (int32_t)elided, LG_GO_FRAME_ELIDED,
                      truncated);
        for (uint64_t k = after - tail; k < after; k++) {
            uint64_t j = k % REP_GO_OUTER_FRAMES;
            put_frame(ring[j].pc, ring[j].function, ring[j].file, ring[j].line, ring[j].flags, truncated);
        }
    }
    return C.nf - start;
}

/* A goroutine in a cgo call: its thread is running C code on the system stack, below
 * runtime.asmcgocall. Those C frames come first, so the goroutine reads as one stack: C below, Go
 * above, as the users asked ("Go's traceback says nothing about C frames in cgo calls"). */
static void put_cgo_frames(const struct rep_go_thread *t, int *truncated)
{
    if (!t->native || !C.go->fn_asmcgocall)
        return;
    uint32_t k;
    for (k = 0; k < t->nnative; k++) {
        struct go_func f;
        if (go_findfunc(&C.go->pcln, t->native[k].pc - (k > 0), &f) == 0 && f.entry == C.go->fn_asmcgocall)
            break;
    }
    if (k == t->nnative)
        return; /* not in a cgo call after all */
    for (uint32_t i = 0; i < k; i++) {
        const struct lg_frame_record *n = &t->native[i];
        uint32_t name = n->symbol_off != LG_NONE && t->native_strings ? add_string(t->native_strings + n->symbol_off)
                                                                         : LG_NONE;
        put_frame(n->pc, name, LG_NONE, 0, LG_GO_FRAME_NATIVE, truncated);
    }
}

static uint32_t hash_frames(uint32_t first, uint32_t n)
{
    uint64_t h = 1469598103934665603ull ^ n;
    for (uint32_t i = first; i < first + n; i++)
        h = (h ^ C.frames[i].pc ^ ((uint64_t)C.frames[i].function_off << 32)) * 1099511628211ull;
    return (uint32_t)(h ^ (h >> 32));
}

/* Share identical stacks: if the frames just appended equal an earlier goroutine's, drop them and
 * point at the earlier ones. 10,000 goroutines parked in one place cost one stack. */
static void dedupe(struct lg_go_goroutine *r)
{
    if (!r->frame_count || !C.stack_slots)
        return;
    uint32_t h = hash_frames(r->first_frame, r->frame_count);
    for (uint32_t probe = 0; probe < 16; probe++) {
        struct stack_slot *slot = &C.stack_slots[(h + probe) % STACK_HASH_SLOTS];
        if (slot->count == 0) {
            slot->first = r->first_frame;
            slot->count = r->frame_count;
            return;
        }
        if (slot->count != r->frame_count)
            continue;
        int same = 1;
        for (uint32_t i = 0; i < r->frame_count && same; i++) {
            const struct lg_go_frame *a = &C.frames[slot->first + i], *b = &C.frames[r->first_frame + i];
            same = a->pc == b->pc && a->function_off == b->function_off && a->line == b->line &&
                   a->flags == b->flags;
        }
        if (same) {
            C.nf = r->first_frame;
            r->first_frame = slot->first;
            return;
        }
    }
}

static int thread_of(uint64_t g)
{
    for (int i = 0; i < C.nthreads; i++)
        if (C.curg[i] == g)
            return i;
    return -1;
}

static void add_goroutine(const struct gview *g, int crashed)
{
    if (C.ng >= REP_GO_MAX_GOROUTINES) {
        C.out->h.flags |= LG_GO_GOROUTINES_TRUNCATED;
        return;
    }
    struct lg_go_goroutine *r = &C.gs[C.ng];
    ss_memset(r, 0, sizeof *r);
    r->goid = g->goid;
    r->parent_goid = g->parent;
    r->status = g->status;
    r->wait_since_ns = g->waitsince > 0 ? g->waitsince : 0;
    /* What the runtime prints in the brackets: the wait reason when it overrides the status word
     * (waiting, and from 1.26 leaked, with a reason), else nothing: the status says it. */
    const char *text = go_status_text(C.go->major, C.go->minor, C.go->patch, g->status, g->waitreason);
    const char *name = go_status_name(C.go->major, C.go->minor, C.go->patch, g->status);
    r->wait_reason_off = text && text != name ? add_string(text) : LG_NONE;
    r->flags = (crashed ? LG_GOROUTINE_CRASHED : 0) | (g->lockedm ? LG_GOROUTINE_LOCKED : 0);
    r->created_by_function_off = r->created_by_file_off = LG_NONE;
    if (g->gopc && g->goid != 1) { /* the runtime never prints who created the main goroutine */
        struct go_frame_info info[16];
        struct go_func f;
        int k = go_findfunc(&C.go->pcln, g->gopc, &f) == 0
                    ? go_frames_at(&C.go->pcln, g->gopc > f.entry ? g->gopc - 1 : g->gopc, info, 16)
                    : 0;
        if (k > 0) {
            /* "created by" names the physical function, with the file:line of the go statement. */
            r->created_by_function_off = add_string(info[k - 1].function);
            r->created_by_file_off = add_string(info[0].file);
            r->created_by_line = info[0].line;
        }
    }
    int ti = thread_of(g->addr);
    r->thread_tid = ti >= 0 ? (uint32_t)C.threads[ti].tid : 0;
    r->first_frame = C.nf;
    int truncated = 0;
    uint64_t sp = 0, pc = 0, lr = 0;
    int trap = 0;
    const ucontext_t *uc = ti >= 0 ? C.threads[ti].uc : 0;
    if (uc && rep_context_sp(uc) >= g->stack_lo && rep_context_sp(uc) < g->stack_hi) {
        pc = rep_context_pc(uc);
        sp = rep_context_sp(uc);
        lr = rep_context_lr(uc);
        trap = 1;
    } else if (g->syscallsp) {
        pc = g->syscallpc;
        sp = g->syscallsp;
    } else {
        pc = g->sched_pc;
        sp = g->sched_sp;
        lr = g->sched_lr;
    }
    if (g->status == G_STATUS_SYSCALL && ti >= 0 && !trap)
        put_cgo_frames(&C.threads[ti], &truncated);
    if (sp && pc)
        walk(pc, sp, lr, trap, g->stack_lo, g->stack_hi, &truncated);
    r->frame_count = C.nf - r->first_frame;
    if (truncated) {
        r->flags |= LG_GOROUTINE_TRUNCATED;
        C.out->h.flags |= LG_GO_FRAMES_TRUNCATED;
    }
    dedupe(r);
    C.ng++;
    /* Publish as each record completes: a guard that cuts the walk short leaves whole records. */
    C.out->h.goroutine_count = C.ng;
    C.out->h.frame_count = C.nf;
    C.out->h.strings_size = C.st.len;
}

/* Stripped binaries have no symbol for runtime.allgs. Find it the way a debugger would: a slice
 * header {ptr, len, cap} in the executable's writable segment whose first element is the main
 * goroutine (goid 1) and which holds the crashing goroutine. Returns the slice header's address. */
static uint64_t find_allgs(uint64_t crash_g)
{
    uint64_t buf[4096 + 2];
    uint64_t lo = C.go->data_lo, hi = C.go->data_hi;
    if (!lo || hi <= lo || hi - lo > (64u << 20))
        return 0;
    for (uint64_t at = lo; at + 24 <= hi; at += 4096 * 8) {
        uint64_t words = (hi - at) / 8 < 4096 + 2 ? (hi - at) / 8 : 4096 + 2;
        if (ss_memread(buf, at, words * 8) < 0)
            continue;
        for (uint64_t i = 0; i + 2 < words; i++) {
            uint64_t p = buf[i], len = buf[i + 1], cap = buf[i + 2], first;
            struct gview g;
            if (!p || (p & 7) || !len || len > cap || cap > (1u << 24) || rd64(p, &first) < 0 ||
                read_g(first, &g) < 0 || g.goid != 1)
                continue;
            if (crash_g) { /* the crashing goroutine must be in it */
                int found = 0;
                uint64_t chunk[512];
                for (uint64_t k = 0; k < len && k < (1u << 20) && !found; k += 512) {
                    uint64_t m = len - k < 512 ? len - k : 512;
                    if (ss_memread(chunk, p + k * 8, m * 8) < 0)
                        break;
                    for (uint64_t j = 0; j < m; j++)
                        found |= chunk[j] == crash_g;
                }
                if (!found)
                    continue;
            }
            return at + i * 8;
        }
    }
    return 0;
}

/* Handler path, reporting thread, inside a guard (see report.c). */
void rep_go_capture(const struct rep_go_thread *threads, int nthreads, int crashing, struct mdw_go *out,
                    struct ss_arena *arena, struct ss_str *notes)
{
    ss_memset(&C, 0, sizeof C);
    C.go = &rep_g.go;
    C.out = out;
    C.notes = notes;
    C.threads = threads;
    C.nthreads = nthreads < REP_MAX_THREADS ? nthreads : REP_MAX_THREADS;
    C.gs = ss_arena_alloc(arena, REP_GO_MAX_GOROUTINES * sizeof *C.gs);
    C.frames = ss_arena_alloc(arena, REP_GO_MAX_FRAMES * sizeof *C.frames);
    char *strings = ss_arena_alloc(arena, REP_GO_STRINGS_CAP);
    uint32_t *slots = ss_arena_alloc(arena, REP_GO_STRINGS_SLOTS * sizeof *slots);
    C.stack_slots = ss_arena_alloc(arena, STACK_HASH_SLOTS * sizeof *C.stack_slots);
    C.pcs = ss_arena_alloc(arena, PC_CACHE * sizeof *C.pcs);
    C.win = ss_arena_alloc(arena, STACK_WINDOW);
    if (!C.gs || !C.frames || !strings || !slots) {
        ss_str_add(notes, "Go: arena exhausted, no goroutines\n");
        return;
    }
    rep_strtab_init(&C.st, strings, REP_GO_STRINGS_CAP, slots, REP_GO_STRINGS_SLOTS);
    ss_memset(&out->h, 0, sizeof out->h);
    out->present = 1;
    out->goroutines = C.gs;
    out->frames = C.frames;
    out->strings = C.st.buf;
    out->h.go_version_off = add_string(C.go->version);
    out->h.build_info_off = add_string(C.go->build_info);
    out->h.now_ns = ss_now_ns(1);
    out->h.notes_off = LG_NONE;

    /* Threads first: which goroutine each one runs, and the crashing one. */
    uint64_t crash_g = 0, crash_tls_g = 0;
    for (int i = 0; i < C.nthreads; i++) {
        uint64_t cur, tg = thread_g(&threads[i], &cur);
        if (i == crashing)
            crash_tls_g = tg;
        if (tg && cur) {
            C.curg[i] = cur;
            if (i == crashing)
                crash_g = cur;
        }
    }
    /* Why it died, before the goroutines: a guard that cuts the walk short keeps it. */
    char *reason = ss_arena_alloc(arena, REP_GO_REASON_CAP);
    out->h.reason_off = LG_NONE;
    if (reason && crashing >= 0 && crashing < C.nthreads) {
        const ucontext_t *uc = threads[crashing].uc;
        struct rep_go_reason_in in = {.curg = crash_g, .tls_g = crash_tls_g,
                                      .thread_sp = uc ? rep_context_sp(uc) : 0};
        size_t n = rep_go_reason(C.go, &in, reason, REP_GO_REASON_CAP);
        if (n)
            out->h.reason_off = rep_strtab_add(&C.st, reason, n);
        out->h.strings_size = C.st.len;
    }
    struct gview g;
    if (crash_g && read_g(crash_g, &g) == 0) {
        out->h.crashing_goid = g.goid;
        add_goroutine(&g, 1);
    } else {
        ss_str_add(notes, "Go: no goroutine was running on the crashing thread (a C thread, or the scheduler)\n");
    }

    uint64_t n = 0, arr = 0, allgs = C.go->allgs, allglen = C.go->allglen;
    if (!allgs) {
        allgs = find_allgs(crash_g);
        allglen = allgs ? allgs + 8 : 0;
        if (allgs)
            ss_str_add(notes, "Go: runtime.allgs found by its shape (stripped binary)\n");
    }
    if (!allgs || rd64(allglen ? allglen : allgs + 8, &n) < 0 || rd64(allgs, &arr) < 0 || !arr) {
        out->h.flags |= LG_GO_NO_GOROUTINE_LIST;
        ss_str_add(notes, "Go: the list of goroutines (runtime.allgs) was not found: only goroutines running on "
                          "threads are shown\n");
        for (int i = 0; i < C.nthreads; i++)
            if (C.curg[i] && C.curg[i] != crash_g && read_g(C.curg[i], &g) == 0)
                add_goroutine(&g, 0);
    } else {
        if (n > REP_GO_MAX_GOROUTINES * 4ull)
            n = REP_GO_MAX_GOROUTINES * 4ull;
        uint64_t chunk[512];
        for (uint64_t i = 0; i < n; i++) {
            if (i % 512 == 0) {
                uint64_t k = n - i < 512 ? n - i : 512;
                if (ss_memread(chunk, arr + i * 8, k * 8) < 0)
                    break;
            }
            uint64_t p = chunk[i % 512];
            if (p == crash_g || read_g(p, &g) < 0 || !printable(&g))
                continue;
            add_goroutine(&g, 0);
        }
    }
    if (C.st.full)
        ss_str_add(notes, "Go: string table full: some names are missing\n");
    out->h.strings_size = C.st.len;
}
