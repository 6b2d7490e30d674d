/* test_go_reason.c — reporter/go/go_reason.c (the handler's object as shipped) on runtime structures laid out
 * in this process's memory the way each Go version lays them out (go_offsets.c): panic chains printed as
 * printpanics prints them per version, each kind of value, the signal line, the fatal-error closure on a
 * goroutine's stack and on the system stack, and what must give no reason at all. The real runtime is
 * tested end to end by tests/go/test_go_fidelity.py; this pins each rule down alone. Normal context.
 */
#include "check.h"
#include "reporter/go/go_reason.h"

#include <stdlib.h>
#include <string.h>

#define THROW_PC 0x401000u
#define FATAL_PC 0x402000u

/* The fake runtime: one goroutine, its m, the system stack, panics, and a type section. */
static uint64_t g_img[128], m_img[512], g0_img[128];
static uint64_t g_stack[256], g0_stack[256];
static uint64_t panics[8][16];
static uint8_t types[4096] __attribute__((aligned(8)));
static uint64_t values[16];
static struct rep_go go;
static char out[REP_GO_REASON_CAP];

static uint64_t A(const void *p) { return (uint64_t)(uintptr_t)p; }

static void set8(void *base, uint16_t off, uint8_t v) { memcpy((uint8_t *)base + off, &v, 1); }
static void set32(void *base, uint16_t off, uint32_t v) { memcpy((uint8_t *)base + off, &v, 4); }
static void set64(void *base, uint16_t off, uint64_t v) { memcpy((uint8_t *)base + off, &v, 8); }

/* A type descriptor at types + at, named name (stored with a leading '*' when extra_star), of kind kind. */
static uint64_t type_at(size_t at, const char *name, uint8_t kind, int extra_star)
{
    static size_t name_at = 2048;
    uint8_t *t = types + at;
    size_t n = strlen(name) + (extra_star != 0);
    memset(t, 0, 48);
    set8(t, go.off.type_tflag, extra_star ? 2 : 0);
    set8(t, go.off.type_kind, kind);
    set32(t, go.off.type_str, (uint32_t)name_at);
    types[name_at] = 1;
    types[name_at + 1] = (uint8_t)n; /* names here are short: a one-byte varint */
    if (extra_star)
        types[name_at + 2] = '*';
    memcpy(types + name_at + 2 + (extra_star != 0), name, strlen(name));
    name_at += 2 + n + 1;
    return A(t);
}

static void setup(int minor)
{
    memset(g_img, 0, sizeof g_img);
    memset(m_img, 0, sizeof m_img);
    memset(g0_img, 0, sizeof g0_img);
    memset(g_stack, 0, sizeof g_stack);
    memset(g0_stack, 0, sizeof g0_stack);
    memset(panics, 0, sizeof panics);
    memset(&go, 0, sizeof go);
    go.present = 1;
    go.major = 1;
    go.minor = minor;
    if (go_offsets_for_version(1, minor, 0, &go.off) != 0)
        abort();
    go.types = A(types);
    go.etypes = A(types) + sizeof types;
    go.fn_throw_closure = THROW_PC;
    go.fn_fatal_closure = FATAL_PC;
    set64(g_img, go.off.g_m, A(m_img));
    set64(g_img, go.off.g_stack_lo, A(g_stack));
    set64(g_img, go.off.g_stack_hi, A(g_stack) + sizeof g_stack);
    set64(g0_img, go.off.g_m, A(m_img));
    set64(g0_img, go.off.g_stack_lo, A(g0_stack));
    set64(g0_img, go.off.g_stack_hi, A(g0_stack) + sizeof g0_stack);
    set64(m_img, go.off.m_g0, A(g0_img));
    set64(m_img, go.off.m_curg, A(g_img));
}

/* Panic k: value (type, data), older panic link, flags. */
static uint64_t panic_rec(int k, uint64_t type, uint64_t data, uint64_t link, int recovered, int repanicked,
                          int goexit)
{
    set64(panics[k], go.off.panic_arg, type);
    set64(panics[k], go.off.panic_arg + 8, data);
    set64(panics[k], go.off.panic_link, link);
    set8(panics[k], go.off.panic_recovered, (uint8_t)recovered);
    set8(panics[k], go.off.panic_goexit, (uint8_t)goexit);
    if (go.off.panic_repanicked != GO_OFF_ABSENT)
        set8(panics[k], go.off.panic_repanicked, (uint8_t)repanicked);
    return A(panics[k]);
}

static const char *reason(void)
{
    struct rep_go_reason_in in = { .curg = A(g_img), .tls_g = A(g0_img), .thread_sp = A(g0_stack) };
    size_t n = rep_go_reason(&go, &in, out, sizeof out);
    CHECK(n == strlen(out));
    return out;
}

static void dying(uint64_t newest)
{
    set64(g_img, go.off.g_panic, newest);
    set32(m_img, go.off.m_dying, 1);
}

#define CHECK_REASON(want)                                                                         \
    do {                                                                                           \
        const char *got_ = reason();                                                               \
        CHECK_MSG(strcmp(got_, want) == 0, "got \"%s\"", got_);                                   \
    } while (0)

/* A string panic that interrupted a recovered int panic: oldest first, a tab before the newer, and the
 * string's newline followed by a tab from 1.23 (printindented). */
static void test_chain(void)
{
    static const char s[] = "b\nc";
    for (int minor = 22; minor <= 27; minor++) {
        setup(minor);
        uint64_t tint = type_at(0, "int", 2, 0), tstr = type_at(64, "string", 24, 0);
        values[0] = (uint64_t)-5;
        values[1] = A(s);
        values[2] = 3;
        uint64_t older = panic_rec(1, tint, A(&values[0]), 0, 1, 0, 0);
        dying(panic_rec(0, tstr, A(&values[1]), older, 0, 0, 0));
        CHECK_REASON(minor == 22 ? "panic: -5 [recovered]\n\tpanic: b\nc\n" : "panic: -5 [recovered]\n\tpanic: b\n\tc\n");
    }
}

/* The same value panicked again after recover: from 1.25 one line, "[recovered, repanicked]"; 1.26 says
 * so only if the record is also recovered. Before 1.25 there is no such field and both lines print. */
static void test_repanicked(void)
{
    static const char s[] = "reset";
    for (int minor = 24; minor <= 26; minor++) {
        setup(minor);
        uint64_t tstr = type_at(64, "string", 24, 0);
        values[1] = A(s);
        values[2] = 5;
        uint64_t older = panic_rec(1, tstr, A(&values[1]), 0, 1, 1, 0);
        dying(panic_rec(0, tstr, A(&values[1]), older, 0, 0, 0));
        CHECK_REASON(minor == 24 ? "panic: reset [recovered]\n\tpanic: reset\n" : "panic: reset [recovered, repanicked]\n");
    }
    setup(25); /* 1.25 says repanicked without recovered; 1.26 does not */
    uint64_t tstr = type_at(64, "string", 24, 0);
    values[1] = A(s);
    values[2] = 5;
    dying(panic_rec(1, tstr, A(&values[1]), 0, 0, 1, 0));
    CHECK_REASON("panic: reset [recovered, repanicked]\n");
    setup(26);
    tstr = type_at(64, "string", 24, 0);
    dying(panic_rec(1, tstr, A(&values[1]), 0, 0, 1, 0));
    CHECK_REASON("panic: reset\n");
}

/* A Goexit record prints nothing, and no tab follows it. */
static void test_goexit(void)
{
    setup(26);
    uint64_t tint = type_at(0, "int", 2, 0);
    values[0] = 7;
    uint64_t oldest = panic_rec(2, 0, 0, 0, 0, 0, 1);
    dying(panic_rec(0, tint, A(&values[0]), oldest, 0, 0, 0));
    CHECK_REASON("panic: 7\n");
}

/* One value of each kind, printed as printpanicval does; floats and unreadable types as documented. */
static void test_values(void)
{
    static const char s[] = "a\nb";
    struct value_case { uint64_t type; uint64_t data; const char *want; } cases[8];
    setup(26);
    values[0] = (uint64_t)-40;
    values[1] = A(s);
    values[2] = 3;
    values[3] = 1;
    values[4] = 0xc8; /* uint8 200; the bytes after it must not matter */
    values[5] = 0x4004000000000000ull; /* 2.5 */
    cases[0] = (struct value_case){ type_at(0, "main.celsius", 2, 0), A(&values[0]), "main.celsius(-40)" };
    cases[1] = (struct value_case){ type_at(64, "main.label", 24, 0), A(&values[1]), "main.label(\"a\n\tb\")" };
    cases[2] = (struct value_case){ type_at(128, "bool", 1, 0), A(&values[3]), "true" };
    cases[3] = (struct value_case){ type_at(192, "uint8", 8, 0), A(&values[4]), "200" };
    cases[4] = (struct value_case){ type_at(256, "float64", 14, 0), A(&values[5]), "(float64) <value not decoded>" };
    cases[5] = (struct value_case){ type_at(320, "main.point", 25, 0), 0xc000012340, "(main.point) 0xc000012340" };
    cases[6] = (struct value_case){ type_at(384, "main.T", 22, 1), 0xc000012350, "(main.T) 0xc000012350" };
    cases[7] = (struct value_case){ A(&values[8]), 0x1, "(?) <value not decoded>" }; /* outside the types */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[128];
        dying(panic_rec(0, cases[i].type, cases[i].data, 0, 0, 0, 0));
        snprintf(want, sizeof want, "panic: %s\n", cases[i].want);
        CHECK_REASON(want);
    }
    dying(panic_rec(0, 0, 0, 0, 0, 0, 0));
    CHECK_REASON("panic: nil\n");
    /* int8 -1 read as one byte, sign-extended; int32 likewise. */
    values[6] = 0xff;
    dying(panic_rec(0, type_at(448, "int8", 3, 0), A(&values[6]), 0, 0, 0, 0));
    CHECK_REASON("panic: -1\n");
}

/* dopanic_m's line after the panic when a signal caused it; a signal past 31 has no name of its own. */
static void test_signal(void)
{
    static const char s[] = "runtime error: invalid memory address or nil pointer dereference";
    setup(22);
    values[1] = A(s);
    values[2] = sizeof s - 1;
    set32(g_img, go.off.g_sig, 11);
    set64(g_img, go.off.g_sigcode0, 1);
    set64(g_img, go.off.g_sigcode1, 0);
    set64(g_img, go.off.g_sigpc, 0x45dae1);
    dying(panic_rec(0, type_at(64, "string", 24, 0), A(&values[1]), 0, 0, 0, 0));
    CHECK_REASON("panic: runtime error: invalid memory address or nil pointer dereference\n"
                 "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x45dae1]\n");
    set32(g_img, go.off.g_sig, 40);
    CHECK_REASON("panic: runtime error: invalid memory address or nil pointer dereference\n"
                 "[signal signal 40 code=0x1 addr=0x0 pc=0x45dae1]\n");
}

/* The fatal error's closure: on the goroutine's stack above its saved sp, or on the system stack. */
static void test_fatal(void)
{
    static const char msg[] = "concurrent map writes";
    setup(23);
    set64(g_img, go.off.g_sched_sp, A(&g_stack[4]));
    g_stack[20] = THROW_PC;
    g_stack[21] = A(msg);
    g_stack[22] = sizeof msg - 1;
    set32(m_img, go.off.m_throwing, 1);
    CHECK_REASON("fatal error: concurrent map writes\n");
    /* Not marked as throwing: no reason (the closure alone is not believed). */
    set32(m_img, go.off.m_throwing, 0);
    CHECK_REASON("");
    /* On the system stack: g0 owns it; its signal fields, not the goroutine's, go with it. */
    set32(m_img, go.off.m_throwing, 2);
    memset(g_stack, 0, sizeof g_stack);
    set64(g_img, go.off.g_sched_sp, 0);
    set32(g_img, go.off.g_sig, 11);
    g0_stack[100] = THROW_PC;
    g0_stack[101] = 0x7;           /* not a string: skipped */
    g0_stack[102] = A("stack overflow");
    g0_stack[103] = 14;
    CHECK_REASON("fatal error: stack overflow\n");
    /* fatal from 1.26 captures the panic in flight first: printed raw, then a tab. */
    setup(26);
    set64(g_img, go.off.g_sched_sp, A(&g_stack[0]));
    set32(m_img, go.off.m_throwing, 1);
    uint64_t tp = type_at(0, "*errors.errorString", 22, 0);
    g_stack[3] = FATAL_PC;
    g_stack[4] = panic_rec(0, tp, 0xc000010000, 0, 0, 0, 0);
    g_stack[5] = A("sync: unlock of unlocked mutex");
    g_stack[6] = 30;
    CHECK_REASON("panic: (*errors.errorString) 0xc000010000\n\tfatal error: sync: unlock of unlocked mutex\n");
    g_stack[4] = 0; /* no panic in flight */
    CHECK_REASON("fatal error: sync: unlock of unlocked mutex\n");
}

/* What must give no reason: a panic the runtime has not started to print (m.dying 0), no goroutine,
 * garbage pointers, an unsupported major version. */
static void test_none(void)
{
    struct rep_go_reason_in in = { .curg = 0x10, .tls_g = 0x18, .thread_sp = 0x20 };
    setup(24);
    values[0] = 1;
    set64(g_img, go.off.g_panic, panic_rec(0, type_at(0, "int", 2, 0), A(&values[0]), 0, 0, 0, 0));
    CHECK_REASON("");
    CHECK(rep_go_reason(&go, &in, out, sizeof out) == 0 && out[0] == 0);
    set32(m_img, go.off.m_dying, 1);
    CHECK_REASON("panic: 1\n");
    set64(panics[0], go.off.panic_link, 0x8); /* an unreadable older panic: the readable part, and a word */
    CHECK_REASON("[lastgasp: older panics not shown]\npanic: 1\n");
    go.major = 2;
    CHECK_REASON("");
}

/* A reason longer than the buffer ends with the cut marker; a long string says it was cut. */
static void test_cut(void)
{
    static char big[REP_GO_REASON_STRING_MAX + 10];
    char small[200];
    struct rep_go_reason_in in = { .curg = A(g_img) };
    memset(big, 'x', sizeof big);
    setup(26);
    values[1] = A(big);
    values[2] = sizeof big;
    dying(panic_rec(0, type_at(64, "string", 24, 0), A(&values[1]), 0, 0, 0, 0));
    size_t n = rep_go_reason(&go, &in, small, sizeof small);
    CHECK(n == strlen(small) && n < sizeof small);
    CHECK(strncmp(small, "panic: xxx", 10) == 0);
    CHECK(n > strlen(REP_GO_REASON_CUT) && strcmp(small + n - strlen(REP_GO_REASON_CUT), REP_GO_REASON_CUT) == 0);
    n = rep_go_reason(&go, &in, out, sizeof out);
    CHECK(strstr(out, "x[lastgasp: string cut]\n") != NULL && n == strlen(out));
}

int main(void)
{
    if (ss_memread_init(0) < 0)
        return 1;
    test_chain();
    test_repanicked();
    test_goexit();
    test_values();
    test_signal();
    test_fatal();
    test_none();
    test_cut();
    return check_summary();
}
