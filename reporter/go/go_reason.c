/* go_reason.c — why a Go program died, in the words its runtime printed first, read from memory at
 * crash time.
 *
 * RULES (compromised context): async-signal-safe; no libc, no malloc, no locks, no stdio. The
 * runtime's memory is read only through ss_memread (any pointer may be stale or garbage) and each
 * value is checked before use. Every loop is bounded: the stack windows (SCAN_BYTES), the panic
 * chain (CHAIN_MAX), strings (REP_GO_REASON_STRING_MAX), type names (NAME_CAP), the output
 * (REP_GO_REASON_CAP). Stack use: about 3 KiB (one scan chunk, one name, one panic chain).
 *
 * What the runtime prints before its first "goroutine N [" line, and from where (runtime/panic.go
 * and runtime/error.go of Go 1.22 to 1.27; the differences are named where they are handled):
 *
 *   fatal error   throw(s) and fatal(s) print "fatal error: " s from a closure they pass to
 *                 systemstack: runtime.throw.func1 / runtime.fatal.func1. The closure is a funcval
 *                 on throw's frame, {entry pc, captured variables}: throw's captures s; fatal's
 *                 captures s and, from 1.26, p (the goroutine's _panic, printed first: the panics a
 *                 deferred call was running for, then a tab). The frame is found by scanning up
 *                 from the crashing goroutine's saved sp (throw on a goroutine's stack) and from
 *                 the crashing thread's sp (throw on the system stack: "stack overflow"). s is the
 *                 first (pointer, length) pair after the entry pc that reads as printable text.
 *   panic         fatalpanic prints printpanics(g._panic): the chain oldest first, "panic: " value,
 *                 " [recovered]" (1.25: " [recovered, repanicked]"), a tab before every panic that
 *                 follows one, goexit records skipped. The value is what printpanicval prints;
 *                 errors and Stringers were already turned into strings by preprintpanics (their
 *                 Error()/String() ran in Go before the crash), so the string read is the
 *                 runtime's own text. Believed only when m.dying is set (startpanic_m ran, so the
 *                 runtime did print the panic rather than die of something else mid-panic).
 *   signal        dopanic_m, after either: "[signal " signame " code=" hex(g.sigcode0) " addr="
 *                 hex(g.sigcode1) " pc=" hex(g.sigpc) "]" when the dying g has g.sig set.
 *
 * printpanicval, exactly: nil; bool; signed and unsigned integers, uintptr; strings (from 1.23 a
 * newline in them is followed by a tab: printindented); a named type of one of those kinds as
 * T(v) or T("s"); any other type as "(T) 0x<data pointer>". Not decoded: float and complex values
 * (1.27 prints them shortest-round-trip, earlier versions in the runtime's own %e form): they are
 * written "(T) <value not decoded>", which the runtime never prints. A type whose name cannot be
 * read (made by reflect at run time, or a bad pointer) is written "(?) <value not decoded>".
 */
#include "go_reason.h"

#include "go_offsets.h"

#define SCAN_BYTES 8192u         /* of stack above each starting sp */
#define SCAN_CHUNK 1024u         /* read at a time: a window that runs off the stack stops there */
#define CLOSURE_WORDS 4          /* words after the entry pc where s may be */
#define CHAIN_MAX 64             /* panics in one chain (deeper: the oldest are left out, and said) */
#define NAME_CAP 512             /* of a type name */
#define SIGTABLE_LEN 65          /* len(runtime.sigtable) on linux */

/* Go kinds (internal/abi.Kind), the same in every supported version. */
enum { K_BOOL = 1, K_INT, K_INT8, K_INT16, K_INT32, K_INT64, K_UINT, K_UINT8, K_UINT16, K_UINT32, K_UINT64,
       K_UINTPTR, K_FLOAT32, K_FLOAT64, K_COMPLEX64, K_COMPLEX128, K_STRING = 24 };
#define TFLAG_EXTRA_STAR 2u

/* The runtime's name of each basic kind: a type of that kind with exactly this name is the builtin
 * one (every declared type's name has its package in front). */
static const char *const rr_basic_names[] = {
    [K_BOOL] = "bool", [K_INT] = "int", [K_INT8] = "int8", [K_INT16] = "int16", [K_INT32] = "int32",
    [K_INT64] = "int64", [K_UINT] = "uint", [K_UINT8] = "uint8", [K_UINT16] = "uint16",
    [K_UINT32] = "uint32", [K_UINT64] = "uint64", [K_UINTPTR] = "uintptr", [K_FLOAT32] = "float32",
    [K_FLOAT64] = "float64", [K_COMPLEX64] = "complex64", [K_COMPLEX128] = "complex128", [K_STRING] = "string",
};

/* runtime.sigtable's names (sigtab_linux_generic.go, unchanged 1.22–1.27); 32..64 are "signal N". */
static const char *const rr_signames[32] = {
    "SIGNONE: no trap", "SIGHUP: terminal line hangup", "SIGINT: interrupt", "SIGQUIT: quit",
    "SIGILL: illegal instruction", "SIGTRAP: trace trap", "SIGABRT: abort", "SIGBUS: bus error",
    "SIGFPE: floating-point exception", "SIGKILL: kill", "SIGUSR1: user-defined signal 1",
    "SIGSEGV: segmentation violation", "SIGUSR2: user-defined signal 2", "SIGPIPE: write to broken pipe",
    "SIGALRM: alarm clock", "SIGTERM: termination", "SIGSTKFLT: stack fault",
    "SIGCHLD: child status has changed", "SIGCONT: continue", "SIGSTOP: stop, unblockable",
    "SIGTSTP: keyboard stop", "SIGTTIN: background read from tty", "SIGTTOU: background write to tty",
    "SIGURG: urgent condition on socket", "SIGXCPU: cpu limit exceeded", "SIGXFSZ: file size limit exceeded",
    "SIGVTALRM: virtual alarm clock", "SIGPROF: profiling alarm clock", "SIGWINCH: window size change",
    "SIGIO: i/o now possible", "SIGPWR: power failure restart", "SIGSYS: bad system call",
};

struct rr_state {
    const struct rep_go *go;
    struct ss_str out;
    int minor;
};

static int rr_read(void *dst, uint64_t src, size_t n)
{
    return src && ss_memread(dst, src, n) == (ssize_t)n ? 0 : -1;
}

static int rr_u64(uint64_t src, uint64_t *v) { return rr_read(v, src, 8); }

static int rr_u8(uint64_t src, uint8_t *v) { return rr_read(v, src, 1); }

static int rr_u32(uint64_t src, uint32_t *v) { return rr_read(v, src, 4); }

static void rr_put(struct rr_state *s, const char *text) { ss_str_add(&s->out, text); }

/* A Go string's bytes, as the runtime prints them: from 1.23 through printindented (a tab after
 * every newline). At most REP_GO_REASON_STRING_MAX bytes; a longer one is cut and says so. */
static int rr_put_gostring(struct rr_state *s, uint64_t ptr, uint64_t len)
{
    char buf[256];
    uint64_t n = len < REP_GO_REASON_STRING_MAX ? len : REP_GO_REASON_STRING_MAX;
    if (len && !ptr)
        return -1;
    for (uint64_t at = 0; at < n;) {
        size_t k = n - at < sizeof buf ? (size_t)(n - at) : sizeof buf;
        if (rr_read(buf, ptr + at, k) < 0)
            return -1;
        for (size_t i = 0; i < k; i++) {
            ss_str_addn(&s->out, &buf[i], 1);
            if (buf[i] == '\n' && s->minor >= 23)
                ss_str_addn(&s->out, "\t", 1);
        }
        at += k;
    }
    if (n < len)
        rr_put(s, "[lastgasp: string cut]");
    return 0;
}

/* The type's name as runtime rtype.string() gives it: the name at moduledata.types + t.Str (an
 * abi.Name: flags byte, varint length, bytes), without its first byte under TFlagExtraStar. Only
 * for types inside the executable's type section (resolveNameOff's module check). */
static int rr_type_name(const struct rr_state *s, uint64_t t, char *name, size_t cap)
{
    const struct go_offsets *o = &s->go->off;
    uint8_t tflag, hdr[6];
    uint32_t str;
    if (!s->go->types || t < s->go->types || t >= s->go->etypes || rr_u8(t + o->type_tflag, &tflag) < 0 ||
        rr_u32(t + o->type_str, &str) < 0)
        return -1;
    if (str == 0 || str >= s->go->etypes - s->go->types)
        return -1;
    uint64_t a = s->go->types + str;
    uint64_t room = s->go->etypes - a;
    if (rr_read(hdr, a, room < sizeof hdr ? (size_t)room : sizeof hdr) < 0)
        return -1;
    uint64_t len = 0;
    int i = 1, shift = 0;
    for (; i < (int)sizeof hdr && (uint64_t)i < room; i++, shift += 7) {
        len |= (uint64_t)(hdr[i] & 0x7f) << shift;
        if (!(hdr[i] & 0x80))
            break;
    }
    if (i >= (int)sizeof hdr || (uint64_t)i >= room || len == 0 || len >= cap || len > room - (uint64_t)i - 1)
        return -1;
    if (rr_read(name, a + (uint64_t)i + 1, (size_t)len) < 0)
        return -1;
    name[len] = 0;
    if (tflag & TFLAG_EXTRA_STAR) {
        for (uint64_t k = 0; k < len; k++)
            name[k] = name[k + 1];
    }
    for (char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20)
            return -1; /* not a type name */
    return 0;
}

/* An integer value of kind k at data, as print() writes it. */
static int rr_put_int(struct rr_state *s, int kind, uint64_t data)
{
    static const uint8_t size[] = {[K_INT] = 8, [K_INT8] = 1, [K_INT16] = 2, [K_INT32] = 4, [K_INT64] = 8,
                                   [K_UINT] = 8, [K_UINT8] = 1, [K_UINT16] = 2, [K_UINT32] = 4,
                                   [K_UINT64] = 8, [K_UINTPTR] = 8};
    uint64_t v = 0;
    int n = size[kind];
    if (rr_read(&v, data, (size_t)n) < 0)
        return -1;
    if (kind >= K_INT && kind <= K_INT64) {
        int64_t x = (int64_t)(v << (64 - 8 * n)) >> (64 - 8 * n); /* sign-extend */
        ss_str_i64(&s->out, x);
    } else {
        ss_str_u64(&s->out, v);
    }
    return 0;
}

/* One panic value as printpanicval prints it (see the top of the file). */
static void rr_put_value(struct rr_state *s, uint64_t type, uint64_t data)
{
    char name[NAME_CAP];
    uint8_t kind = 0;
    if (!type) {
        rr_put(s, "nil");
        return;
    }
    if (rr_type_name(s, type, name, sizeof name) < 0 || rr_u8(type + s->go->off.type_kind, &kind) < 0) {
        rr_put(s, "(?) <value not decoded>");
        return;
    }
    kind &= 31;
    int basic = kind < sizeof rr_basic_names / sizeof rr_basic_names[0] && rr_basic_names[kind];
    int builtin = basic && ss_strcmp(name, rr_basic_names[kind]) == 0;
    size_t mark = s->out.len;
    int ok = 0;
    if (kind == K_FLOAT32 || kind == K_FLOAT64 || kind == K_COMPLEX64 || kind == K_COMPLEX128) {
        ok = -1;
    } else if (kind == K_STRING) {
        uint64_t sh[2];
        if (!builtin) {
            rr_put(s, name);
            rr_put(s, "(\"");
        }
        ok = rr_read(sh, data, sizeof sh) < 0 ? -1 : rr_put_gostring(s, sh[0], sh[1]);
        if (!builtin)
            rr_put(s, "\")");
    } else if (kind == K_BOOL || basic) {
        if (!builtin) {
            rr_put(s, name);
            rr_put(s, "(");
        }
        uint8_t b = 0;
        if (kind == K_BOOL && (ok = rr_u8(data, &b)) == 0)
            rr_put(s, b ? "true" : "false");
        else if (kind != K_BOOL)
            ok = rr_put_int(s, kind, data);
        if (!builtin)
            rr_put(s, ")");
    } else {
        rr_put(s, "(");
        rr_put(s, name);
        rr_put(s, ") ");
        ss_str_hex(&s->out, data);
    }
    if (ok < 0) {
        s->out.len = mark;
        s->out.buf[mark] = 0;
        rr_put(s, "(");
        rr_put(s, name);
        rr_put(s, ") <value not decoded>");
    }
}

/* One _panic record's fields. */
struct rr_panic {
    uint64_t type, data, link;
    uint8_t recovered, goexit, repanicked;
};

static int rr_read_panic(const struct rr_state *s, uint64_t p, struct rr_panic *r)
{
    const struct go_offsets *o = &s->go->off;
    ss_memset(r, 0, sizeof *r);
    if (!p || (p & 7) || rr_u64(p + o->panic_arg, &r->type) < 0 || rr_u64(p + o->panic_arg + 8, &r->data) < 0 ||
        rr_u64(p + o->panic_link, &r->link) < 0 || rr_u8(p + o->panic_recovered, &r->recovered) < 0 ||
        rr_u8(p + o->panic_goexit, &r->goexit) < 0)
        return -1;
    if (o->panic_repanicked != GO_OFF_ABSENT && rr_u8(p + o->panic_repanicked, &r->repanicked) < 0)
        return -1;
    return 0;
}

/* printpanics(p): the chain from the oldest panic to p. The runtime recurses to the oldest first;
 * here the chain is read newest first into a bounded array and printed backwards. Returns -1 when
 * not even p could be read. */
static int rr_put_panics(struct rr_state *s, uint64_t p)
{
    struct rr_panic chain[CHAIN_MAX];
    int n = 0;
    for (uint64_t at = p; at && n < CHAIN_MAX; at = chain[n - 1].link) {
        if (rr_read_panic(s, at, &chain[n]) < 0)
            break;
        n++;
    }
    if (n == 0)
        return -1;
    if (chain[n - 1].link) /* CHAIN_MAX reached, or an older record unreadable: say so */
        rr_put(s, "[lastgasp: older panics not shown]\n");
    for (int i = n - 1; i >= 0; i--) {
        const struct rr_panic *r = &chain[i];
        if (i < n - 1) {
            const struct rr_panic *l = &chain[i + 1]; /* p.link */
            if (s->minor >= 25 && l->repanicked)
                continue;
            if (!l->goexit)
                rr_put(s, "\t");
        }
        if (r->goexit)
            continue;
        rr_put(s, "panic: ");
        rr_put_value(s, r->type, r->data);
        if (s->minor >= 26 ? (r->recovered && r->repanicked) : (s->minor == 25 && r->repanicked))
            rr_put(s, " [recovered, repanicked]");
        else if (r->recovered)
            rr_put(s, " [recovered]");
        rr_put(s, "\n");
    }
    return 0;
}

/* dopanic_m's line for a g that a signal made panic (or throw). */
static void rr_put_signal(struct rr_state *s, uint64_t g)
{
    const struct go_offsets *o = &s->go->off;
    uint32_t sig;
    uint64_t code0, code1, pc;
    if (!g || rr_u32(g + o->g_sig, &sig) < 0 || sig == 0 || rr_u64(g + o->g_sigcode0, &code0) < 0 ||
        rr_u64(g + o->g_sigcode1, &code1) < 0 || rr_u64(g + o->g_sigpc, &pc) < 0)
        return;
    rr_put(s, "[signal ");
    if (sig < 32) {
        rr_put(s, rr_signames[sig]);
    } else if (sig < SIGTABLE_LEN) {
        rr_put(s, "signal ");
        ss_str_u64(&s->out, sig);
    } else {
        ss_str_hex(&s->out, sig);
    }
    rr_put(s, " code=");
    ss_str_hex(&s->out, code0);
    rr_put(s, " addr=");
    ss_str_hex(&s->out, code1);
    rr_put(s, " pc=");
    ss_str_hex(&s->out, pc);
    rr_put(s, "]\n");
}

/* Printable text of sane length at ptr: what a throw message is. */
static int rr_plausible_message(uint64_t ptr, uint64_t len)
{
    char buf[256];
    if (!ptr || (ptr >> 47) || len == 0 || len > REP_GO_REASON_STRING_MAX)
        return 0;
    for (uint64_t at = 0; at < len;) {
        size_t k = len - at < sizeof buf ? (size_t)(len - at) : sizeof buf;
        if (rr_read(buf, ptr + at, k) < 0)
            return 0;
        for (size_t i = 0; i < k; i++) {
            unsigned char c = (unsigned char)buf[i];
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                return 0;
        }
        at += k;
    }
    return 1;
}

/* The closure of throw or fatal on the stack above sp: its message, and for fatal from 1.26 the
 * panic it printed first. Returns 1 when found. */
struct rr_fatal {
    uint64_t msg, msg_len, panic;
};

static int rr_find_fatal(const struct rr_state *s, uint64_t sp, struct rr_fatal *f)
{
    uint64_t w[SCAN_CHUNK / 8 + CLOSURE_WORDS + 1];
    const uint64_t nw = SCAN_CHUNK / 8;
    if (!sp || (!s->go->fn_throw_closure && !s->go->fn_fatal_closure))
        return 0;
    sp &= ~7ull;
    for (uint64_t at = sp; at < sp + SCAN_BYTES; at += SCAN_CHUNK) {
        /* Each chunk with the words that follow it, so a closure at a chunk's end is whole. */
        size_t got = sizeof w;
        if (rr_read(w, at, got) < 0) {
            got = SCAN_CHUNK;
            if (rr_read(w, at, got) < 0)
                return 0;
        }
        uint64_t have = got / 8;
        for (uint64_t i = 0; i < nw && i < have; i++) {
            int is_throw = s->go->fn_throw_closure && w[i] == s->go->fn_throw_closure;
            int is_fatal = s->go->fn_fatal_closure && w[i] == s->go->fn_fatal_closure;
            if (!is_throw && !is_fatal)
                continue;
            /* fatal's closure from 1.26: {F, p, s}; otherwise {F, s}. */
            uint64_t first = (is_fatal && s->minor >= 26) ? i + 2 : i + 1;
            for (uint64_t j = first; j + 1 < have && j < i + 1 + CLOSURE_WORDS; j++) {
                if (rr_plausible_message(w[j], w[j + 1])) {
                    f->msg = w[j];
                    f->msg_len = w[j + 1];
                    f->panic = (is_fatal && s->minor >= 26 && j == i + 2) ? w[i + 1] : 0;
                    return 1;
                }
            }
        }
    }
    return 0;
}

static uint64_t rr_g_m(const struct rr_state *s, uint64_t g)
{
    uint64_t m = 0;
    if (!g || rr_u64(g + s->go->off.g_m, &m) < 0 || (m & 7))
        return 0;
    return m;
}

static int rr_on_stack(const struct rr_state *s, uint64_t g, uint64_t sp)
{
    uint64_t lo, hi;
    return g && rr_u64(g + s->go->off.g_stack_lo, &lo) == 0 && rr_u64(g + s->go->off.g_stack_hi, &hi) == 0 &&
           lo <= sp && sp < hi;
}

/* The g whose stack holds sp: the thread's g0 (throw on the system stack), its signal g, or the
 * goroutine. 0 when none of them claims it. */
static uint64_t rr_stack_owner(const struct rr_state *s, const struct rep_go_reason_in *in, uint64_t sp)
{
    uint64_t m = rr_g_m(s, in->tls_g ? in->tls_g : in->curg), g0 = 0, gsignal = 0;
    if (m) {
        rr_u64(m + s->go->off.m_g0, &g0);
        rr_u64(m + s->go->off.m_gsignal, &gsignal);
    }
    const uint64_t candidates[] = {g0, gsignal, in->curg, in->tls_g};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (rr_on_stack(s, candidates[i], sp))
            return candidates[i];
    return 0;
}

static int rr_fatal_reason(struct rr_state *s, const struct rep_go_reason_in *in)
{
    struct rr_fatal f;
    uint64_t g = 0, sp;
    /* throw on a goroutine's stack: its frame is above the sp that systemstack saved. */
    if (in->curg && rr_u64(in->curg + s->go->off.g_sched_sp, &sp) == 0 && rr_find_fatal(s, sp, &f))
        g = in->curg;
    else if (in->thread_sp && rr_find_fatal(s, in->thread_sp, &f))
        g = rr_stack_owner(s, in, in->thread_sp);
    if (!g)
        return 0; /* not found, or on a stack no g of this thread owns */
    /* fatalthrow marks the m before it prints the traceback and crashes. */
    uint32_t throwing = 0;
    uint64_t m = rr_g_m(s, g);
    if (!m || rr_u32(m + s->go->off.m_throwing, &throwing) < 0 || throwing == 0)
        return 0;
    if (f.panic && rr_put_panics(s, f.panic) == 0)
        rr_put(s, "\t"); /* printPreFatalDeferPanic: "the same indentation as non-first panics" */
    rr_put(s, "fatal error: ");
    rr_put_gostring(s, f.msg, f.msg_len);
    rr_put(s, "\n");
    rr_put_signal(s, g);
    return 1;
}

static int rr_panic_reason(struct rr_state *s, const struct rep_go_reason_in *in)
{
    uint64_t p = 0;
    int32_t dying = 0;
    uint64_t m = rr_g_m(s, in->curg);
    if (!in->curg || !m || rr_read(&dying, m + s->go->off.m_dying, 4) < 0 || dying == 0 ||
        rr_u64(in->curg + s->go->off.g_panic, &p) < 0 || !p)
        return 0;
    if (rr_put_panics(s, p) < 0)
        return 0;
    rr_put_signal(s, in->curg);
    return 1;
}

size_t rep_go_reason(const struct rep_go *go, const struct rep_go_reason_in *in, char *out, size_t cap)
{
    struct rr_state s;
    size_t cut = sizeof REP_GO_REASON_CUT; /* room kept for the marker and its NUL */
    if (!out || cap == 0)
        return 0;
    out[0] = 0;
    if (cap > REP_GO_REASON_CAP)
        cap = REP_GO_REASON_CAP;
    if (!go || !go->present || go->major != 1 || cap <= cut + 1)
        return 0;
    s.go = go;
    s.minor = go->minor;
    ss_str_init(&s.out, out, cap - cut);
    if (!rr_fatal_reason(&s, in) && !rr_panic_reason(&s, in)) {
        out[0] = 0;
        return 0;
    }
    if (s.out.len + 1 >= s.out.cap) {
        s.out.cap = cap;
        rr_put(&s, REP_GO_REASON_CUT);
    }
    return s.out.len;
}
