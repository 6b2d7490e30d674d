/* test_fmt.c — sigsafe/fmt.c: number formatting and parsing at every edge, the bounded string builder, escaping.
 *
 * Output: one line per failed check, then "N passed, M failed"; exit status 0 when M is 0. Also built
 * from source under ASan and UBSan (Makefile: build/tests/unit/sigsafe/test_fmt_asan).
 */
#include "sigsafe/sigsafe.h"
#include "tests/unit/check.h"
#include "tests/unit/sigsafe/sstest.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- fmt.c ---- */

static void edge_u64(uint64_t *v, size_t *n)
{
    uint64_t p = 1;
    *n = 0;
    v[(*n)++] = 0;
    for (int k = 0; k < 20; k++) {
        v[(*n)++] = p - 1;
        v[(*n)++] = p;
        v[(*n)++] = p + 1;
        if (k < 19)
            p *= 10;
    }
    v[(*n)++] = UINT64_MAX;
    v[(*n)++] = UINT64_MAX - 1;
    v[(*n)++] = (uint64_t)1 << 63;
    v[(*n)++] = ((uint64_t)1 << 63) - 1;
    v[(*n)++] = 0xf;
    v[(*n)++] = 0x10;
    v[(*n)++] = 0xdeadbeef;
    for (int k = 0; k < 500; k++)
        v[(*n)++] = rnd() >> (rnd() % 64);
}

static void test_fmt_numbers(void)
{
    uint64_t v[600];
    size_t nv;
    edge_u64(v, &nv);
    char buf[40], ref[40];
    int bad_u = 0, bad_i = 0, bad_h = 0;
    for (size_t i = 0; i < nv; i++) {
        memset(buf, '#', sizeof buf);
        size_t n = ss_fmt_u64(buf, v[i]);
        int rn = snprintf(ref, sizeof ref, "%" PRIu64, v[i]);
        if (n != (size_t)rn || memcmp(buf, ref, n) != 0 || buf[n] != '#')
            bad_u++;

        int64_t signed_values[] = {(int64_t)v[i], -(int64_t)(v[i] >> 1), (int64_t)(v[i] >> 1)};
        for (size_t k = 0; k < 3; k++) {
            memset(buf, '#', sizeof buf);
            n = ss_fmt_i64(buf, signed_values[k]);
            rn = snprintf(ref, sizeof ref, "%" PRId64, signed_values[k]);
            if (n != (size_t)rn || memcmp(buf, ref, n) != 0 || buf[n] != '#')
                bad_i++;
        }

        for (size_t min = 0; min <= 20; min++) {
            memset(buf, '#', sizeof buf);
            n = ss_fmt_hex(buf, v[i], min);
            /* min_digits is capped at 16; the value is never cut; 0 prints as "0" even with min 0. */
            rn = snprintf(ref, sizeof ref, "%0*" PRIx64, (int)(min > 16 ? 16 : min), v[i]);
            if (n != (size_t)rn || memcmp(buf, ref, n) != 0 || buf[n] != '#')
                bad_h++;
        }
    }
    CHECK_MSG(bad_u == 0, "ss_fmt_u64: %d mismatches with snprintf", bad_u);
    CHECK_MSG(bad_i == 0, "ss_fmt_i64: %d mismatches with snprintf", bad_i);
    CHECK_MSG(bad_h == 0, "ss_fmt_hex: %d mismatches with snprintf", bad_h);

    static const int64_t iedges[] = {0, 1, -1, 9, -9, 10, -10, INT64_MAX, INT64_MIN, INT64_MIN + 1, INT64_MAX - 1};
    for (size_t i = 0; i < sizeof iedges / sizeof iedges[0]; i++) {
        memset(buf, '#', sizeof buf);
        size_t n = ss_fmt_i64(buf, iedges[i]);
        snprintf(ref, sizeof ref, "%" PRId64, iedges[i]);
        CHECK_MSG(n == strlen(ref) && memcmp(buf, ref, n) == 0 && buf[n] == '#', "ss_fmt_i64(%s)", ref);
    }
    memset(buf, '#', sizeof buf);
    CHECK_EQ_U64(ss_fmt_u64(buf, UINT64_MAX), 20);
    CHECK(memcmp(buf, "18446744073709551615#", 21) == 0);
    CHECK_EQ_U64(ss_fmt_i64(buf, INT64_MIN), 20);
    CHECK(memcmp(buf, "-9223372036854775808", 20) == 0);
    CHECK_EQ_U64(ss_fmt_u64(buf, 0), 1);
    CHECK(buf[0] == '0');
    CHECK_EQ_U64(ss_fmt_hex(buf, 0, 0), 1);
    CHECK(buf[0] == '0');
    CHECK_EQ_U64(ss_fmt_hex(buf, 0xabc, 8), 8);
    CHECK(memcmp(buf, "00000abc", 8) == 0);
    CHECK_EQ_U64(ss_fmt_hex(buf, UINT64_MAX, 1), 16);
    CHECK(memcmp(buf, "ffffffffffffffff", 16) == 0);
    memset(buf, '#', sizeof buf);
    CHECK_EQ_U64(ss_fmt_hex(buf, 1, 100), 16); /* the 16-byte buffer is all a caller must provide */
    CHECK(memcmp(buf, "0000000000000001#", 17) == 0);
}

struct parse_case {
    const char *s;
    size_t n, consumed;
    uint64_t value;
};

static void test_fmt_parse(void)
{
    static const struct parse_case hex[] = {
        {"0", 1, 1, 0},
        {"f", 1, 1, 15},
        {"F", 1, 1, 15},
        {"deadBEEF", 8, 8, 0xdeadbeef},
        {"ffffffffffffffff", 16, 16, UINT64_MAX},
        {"10000000000000000", 17, 16, 0x1000000000000000u}, /* at most 16 digits */
        {"123g", 4, 3, 0x123},
        {"12345", 3, 3, 0x123}, /* n bounds the read */
        {"0x10", 4, 1, 0},       /* no prefix handling */
        {"", 0, 0, 0},
        {"g", 1, 0, 0},
        {"-1", 2, 0, 0},
        {" 1", 2, 0, 0},
        {"/", 1, 0, 0}, /* the neighbours of the digit ranges */
        {":", 1, 0, 0},
        {"@", 1, 0, 0},
        {"G", 1, 0, 0},
        {"`", 1, 0, 0},
        {"7fffc000-", 9, 8, 0x7fffc000},
    };
    for (size_t i = 0; i < sizeof hex / sizeof hex[0]; i++) {
        uint64_t out = 12345;
        char *copy = malloc(hex[i].n + 1); /* exactly n bytes of input, so an over-read is caught by ASan */
        memcpy(copy, hex[i].s, hex[i].n);
        size_t k = ss_parse_hex(copy, hex[i].n, &out);
        CHECK_MSG(k == hex[i].consumed && out == hex[i].value, "ss_parse_hex(\"%s\", %zu) = %zu, 0x%" PRIx64,
                  hex[i].s, hex[i].n, k, out);
        free(copy);
    }
    static const struct parse_case dec[] = {
        {"0", 1, 1, 0},
        {"9", 1, 1, 9},
        {"10", 2, 2, 10},
        {"007", 3, 3, 7},
        {"18446744073709551615", 20, 20, UINT64_MAX},
        {"18446744073709551616", 20, 19, 1844674407370955161u}, /* stops before the digit that would overflow */
        {"99999999999999999999", 20, 19, 9999999999999999999u},
        {"0000000000000000000000000042", 28, 28, 42},
        {"123abc", 6, 3, 123},
        {"12345", 2, 2, 12},
        {"", 0, 0, 0},
        {"-5", 2, 0, 0},
        {"+5", 2, 0, 0},
        {" 5", 2, 0, 0},
        {"/", 1, 0, 0},
        {":", 1, 0, 0},
        {"a", 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof dec / sizeof dec[0]; i++) {
        uint64_t out = 12345;
        char *copy = malloc(dec[i].n + 1);
        memcpy(copy, dec[i].s, dec[i].n);
        size_t k = ss_parse_u64(copy, dec[i].n, &out);
        CHECK_MSG(k == dec[i].consumed && out == dec[i].value, "ss_parse_u64(\"%s\", %zu) = %zu, %" PRIu64,
                  dec[i].s, dec[i].n, k, out);
        free(copy);
    }
    /* Round trips: what the formatters write, the parsers read back whole, as strtoull does. */
    uint64_t v[600];
    size_t nv;
    edge_u64(v, &nv);
    int bad = 0;
    for (size_t i = 0; i < nv; i++) {
        char buf[24];
        uint64_t out;
        size_t n = ss_fmt_u64(buf, v[i]);
        buf[n] = 0;
        if (ss_parse_u64(buf, n, &out) != n || out != v[i] || out != strtoull(buf, 0, 10))
            bad++;
        n = ss_fmt_hex(buf, v[i], 1);
        buf[n] = 0;
        if (ss_parse_hex(buf, n, &out) != n || out != v[i] || out != strtoull(buf, 0, 16))
            bad++;
    }
    CHECK_MSG(bad == 0, "%d round trips failed", bad);
}

static void test_str_builder(void)
{
    char g[16];
    struct ss_str s;
    /* cap 0: never written at all */
    memset(g, '#', sizeof g);
    ss_str_init(&s, g, 0);
    ss_str_add(&s, "abc");
    ss_str_u64(&s, 7);
    ss_str_hex(&s, 7);
    ss_str_i64(&s, -7);
    ss_str_addn(&s, "xyz", 3);
    CHECK(s.len == 0 && g[0] == '#');
    /* cap 1: only the terminator fits */
    ss_str_init(&s, g, 1);
    ss_str_add(&s, "abc");
    ss_str_u64(&s, 123);
    CHECK(s.len == 0 && g[0] == 0 && g[1] == '#');
    /* cap 8 inside a 16-byte array: fills to 7 chars, NUL at 7, nothing past it */
    memset(g, '#', sizeof g);
    ss_str_init(&s, g, 8);
    ss_str_add(&s, "hello");
    CHECK(s.len == 5 && strcmp(g, "hello") == 0);
    ss_str_add(&s, " world");
    CHECK(s.len == 7 && strcmp(g, "hello w") == 0);
    ss_str_add(&s, "more");
    ss_str_u64(&s, UINT64_MAX);
    ss_str_hex(&s, UINT64_MAX);
    ss_str_i64(&s, INT64_MIN);
    CHECK(s.len == 7 && g[7] == 0);
    int guard_ok = 1;
    for (size_t i = 8; i < sizeof g; i++)
        guard_ok &= g[i] == '#';
    CHECK(guard_ok);

    /* Every capacity against snprintf's truncation of the same text. */
    char full[256];
    snprintf(full, sizeof full, "pid %" PRIu64 " %" PRId64 " at 0x%" PRIx64 " 0x0 abc %" PRId64 " 0x%" PRIx64,
             UINT64_MAX, INT64_MIN, (uint64_t)0xdeadbeef, (int64_t)42, UINT64_MAX);
    int bad = 0;
    for (size_t cap = 1; cap <= strlen(full) + 3; cap++) {
        char b[300], ref[300];
        memset(b, '#', sizeof b);
        ss_str_init(&s, b, cap);
        ss_str_add(&s, "pid ");
        ss_str_u64(&s, UINT64_MAX);
        ss_str_add(&s, " ");
        ss_str_i64(&s, INT64_MIN);
        ss_str_add(&s, " at ");
        ss_str_hex(&s, 0xdeadbeef);
        ss_str_add(&s, " ");
        ss_str_hex(&s, 0);
        ss_str_addn(&s, " abcdef", 4);
        ss_str_addn(&s, " ", 1);
        ss_str_i64(&s, 42);
        ss_str_addn(&s, "", 0);
        ss_str_add(&s, " ");
        ss_str_hex(&s, UINT64_MAX);
        snprintf(ref, cap, "%s", full);
        if (s.len != strlen(ref) || strcmp(b, ref) != 0 || b[cap] != '#' || s.buf != b || s.cap != cap)
            bad++;
    }
    CHECK_MSG(bad == 0, "%d capacities disagree with snprintf's truncation", bad);
}

static void test_str_escaped(void)
{
    char b[128];
    struct ss_str s;
    ss_str_init(&s, b, sizeof b);
    ss_str_add_escaped(&s, "a\nb\tc\r\\d\x1b[2J\x7f\x01\xc3\xa9 z");
    CHECK_MSG(strcmp(b, "a\\nb\\tc\\r\\\\d\\x1b[2J\\x7f\\x01\xc3\xa9 z") == 0, "escaped: %s", b);
    /* Never a byte below 0x20 in the output, whatever the input. */
    char in[256], out[1200];
    for (int i = 0; i < 255; i++)
        in[i] = (char)(i + 1);
    in[255] = 0;
    ss_str_init(&s, out, sizeof out);
    ss_str_add_escaped(&s, in);
    int ctl = 0;
    for (size_t i = 0; i < s.len; i++)
        ctl += (unsigned char)out[i] < 0x20 || (unsigned char)out[i] == 0x7f;
    CHECK_MSG(ctl == 0, "%d control bytes left in the escaped output", ctl);
    /* Truncation stays inside the buffer. */
    char small[6];
    memset(small, '#', sizeof small);
    ss_str_init(&s, small, 5);
    ss_str_add_escaped(&s, "\n\n\n\n");
    CHECK(s.len == 4 && small[4] == 0 && small[5] == '#');
}

int main(void)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    test_fmt_numbers();
    test_fmt_parse();
    test_str_builder();
    test_str_escaped();
    return check_summary();
}
