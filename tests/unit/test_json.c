/* test_json.c — unit tests for formats/json/: the writer and the reader.
 *
 * The writer's string escaping is checked against references that do not share its code: every code point
 * from U+0000 to U+10FFFF, encoded here and expected in the form RFC 8259 and json.h prescribe; the example
 * of Unicode's chapter 3 ("U+FFFD Substitution of Maximal Subparts", table 3-8) for bad bytes; and random byte
 * strings against a second decoder written from RFC 3629's grammar. Then the nesting limit, every value type at
 * its extremes, every misuse, a failing sink; and the reader on what it must refuse and on what the writer
 * writes (every output parses, every string comes back).
 */
#include "../../formats/json/json.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

/* ---- a memory sink, optionally failing after `limit` bytes ---- */

struct mem {
    char buf[1 << 16];
    size_t n, limit;
    int calls_after_fail;
    int failed;
};

static int mem_sink(const void *p, size_t n, void *ctx)
{
    struct mem *m = ctx;
    if (m->failed) {
        m->calls_after_fail++;
        return -1;
    }
    if (m->n + n > m->limit || m->n + n > sizeof m->buf - 1) {
        m->failed = 1;
        return -1;
    }
    memcpy(m->buf + m->n, p, n);
    m->n += n;
    m->buf[m->n] = '\0';
    return 0;
}

static void mem_init(struct mem *m, struct json_w *w)
{
    m->n = 0;
    m->buf[0] = '\0';
    m->calls_after_fail = m->failed = 0;
    m->limit = (size_t)-1;
    json_w_init(w, mem_sink, m);
}

/* The writer's JSON for one string of n bytes. */
static const char *written(const char *s, size_t n)
{
    static struct mem m;
    struct json_w w;
    mem_init(&m, &w);
    json_str_n(&w, s, n);
    return json_w_finish(&w) == 0 ? m.buf : "(failed)";
}

/* ---- references ---- */

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80)
        return o[0] = (char)cp, 1;
    if (cp < 0x800)
        return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000)
        return o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
               o[2] = (char)(0x80 | (cp & 0x3f)), 3;
    return o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
           o[2] = (char)(0x80 | (cp >> 6 & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f)), 4;
}

/* The JSON json.h promises for the character cp (a valid scalar value), appended to out. */
static size_t expected_char(char *out, uint32_t cp)
{
    switch (cp) {
    case '"': return memcpy(out, "\\\"", 2), 2;
    case '\\': return memcpy(out, "\\\\", 2), 2;
    case '\b': return memcpy(out, "\\b", 2), 2;
    case '\f': return memcpy(out, "\\f", 2), 2;
    case '\n': return memcpy(out, "\\n", 2), 2;
    case '\r': return memcpy(out, "\\r", 2), 2;
    case '\t': return memcpy(out, "\\t", 2), 2;
    }
    if (cp < 0x20 || cp == 0x7f || cp == 0xfffd)
        return (size_t)sprintf(out, "\\u%04x", (unsigned)cp);
    return put_utf8(out, cp);
}

/* RFC 3629's UTF8-char grammar, written out: the length of the valid sequence at s, or 0. */
static size_t rfc3629_char(const unsigned char *s, size_t n)
{
#define T(i) (n > (i) && s[i] >= 0x80 && s[i] <= 0xbf)
#define R(i, lo, hi) (n > (i) && s[i] >= (lo) && s[i] <= (hi))
    if (s[0] <= 0x7f)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf && T(1))
        return 2;
    if (s[0] == 0xe0 && R(1, 0xa0, 0xbf) && T(2))
        return 3;
    if (((s[0] >= 0xe1 && s[0] <= 0xec) || s[0] == 0xee || s[0] == 0xef) && T(1) && T(2))
        return 3;
    if (s[0] == 0xed && R(1, 0x80, 0x9f) && T(2))
        return 3;
    if (s[0] == 0xf0 && R(1, 0x90, 0xbf) && T(2) && T(3))
        return 4;
    if (s[0] >= 0xf1 && s[0] <= 0xf3 && T(1) && T(2) && T(3))
        return 4;
    if (s[0] == 0xf4 && R(1, 0x80, 0x8f) && T(2) && T(3))
        return 4;
    return 0;
#undef T
#undef R
}

/* How many bytes of an invalid sequence at s one U+FFFD replaces: its longest prefix that some valid
 * sequence starts with (at least 1). Past the second byte any continuation byte will do, so trying every one
 * for the next byte and 0x80 for the rest tries every completion that matters. */
static size_t maximal_subpart(const unsigned char *s, size_t n)
{
    size_t best = 1;
    for (size_t have = 1; have < 4 && have <= n; have++) {
        int ok = 0;
        for (unsigned a = 0x80; a <= 0xbf && !ok; a++) {
            unsigned char u[4] = {0x80, 0x80, 0x80, 0x80};
            memcpy(u, s, have);
            u[have] = (unsigned char)a;
            ok = rfc3629_char(u, 4) > have;
        }
        if (!ok)
            break;
        best = have;
    }
    return best;
}

static size_t expected_json(const unsigned char *s, size_t n, char *out)
{
    size_t o = 0, i = 0;
    out[o++] = '"';
    while (i < n) {
        size_t k = rfc3629_char(s + i, n - i);
        uint32_t cp;
        if (k == 0) {
            o += expected_char(out + o, 0xfffd);
            i += maximal_subpart(s + i, n - i);
            continue;
        }
        cp = k == 1 ? s[i] : k == 2 ? (uint32_t)(s[i] & 0x1f) << 6 | (s[i + 1] & 0x3f)
           : k == 3 ? (uint32_t)(s[i] & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 | (s[i + 2] & 0x3f)
                    : (uint32_t)(s[i] & 0x07) << 18 | (uint32_t)(s[i + 1] & 0x3f) << 12 |
                      (uint32_t)(s[i + 2] & 0x3f) << 6 | (s[i + 3] & 0x3f);
        o += expected_char(out + o, cp);
        i += k;
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

/* ---- the reader, on the writer's output ---- */

static int parses(const char *text, size_t n)
{
    static struct json_tok tok[4096];
    struct json_doc d;
    return json_parse(&d, text, n, tok, 4096) == 0;
}

/* The string the reader gets back from the writer's JSON for s. */
static int round_trip(const char *s, size_t n, char *back, size_t cap, size_t *bn)
{
    const char *j = written(s, n);
    struct json_tok tok[2];
    struct json_doc d;
    return json_parse(&d, j, strlen(j), tok, 2) == 0 && json_get_str(&d, 0, back, cap, bn) == 0 ? 0 : -1;
}

static void test_escaping_every_code_point(void)
{
    char in[4], exp[16];
    size_t bad = 0, unparsed = 0, lost = 0;

    for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff)
            continue; /* surrogates are not characters: no valid UTF-8 holds them */
        size_t n = put_utf8(in, cp);
        size_t e = 1;
        exp[0] = '"';
        e += expected_char(exp + e, cp);
        exp[e++] = '"';
        exp[e] = '\0';
        const char *got = written(in, n);
        if (strcmp(got, exp) != 0 && bad++ < 5)
            printf("    U+%04X: got %s, expected %s\n", (unsigned)cp, got, exp);
        if (!parses(got, strlen(got)))
            unparsed++;
        char back[8];
        size_t bn;
        if (round_trip(in, n, back, sizeof back, &bn) != 0 || bn != n || memcmp(back, in, n) != 0)
            lost++;
    }
    CHECK_EQ_U64(bad, 0);
    CHECK_EQ_U64(unparsed, 0);
    CHECK_EQ_U64(lost, 0);
    /* A few by hand, so that a wrong reference above cannot hide a wrong writer. */
    CHECK(strcmp(written("a\"b\\c/", 6), "\"a\\\"b\\\\c/\"") == 0);
    CHECK(strcmp(written("\x01\x1f\x7f\n", 4), "\"\\u0001\\u001f\\u007f\\n\"") == 0);
    CHECK(strcmp(written("\0x", 2), "\"\\u0000x\"") == 0);
    CHECK(strcmp(written("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"") == 0);
    CHECK(strcmp(written("\xef\xbf\xbd", 3), "\"\\ufffd\"") == 0);
    CHECK(strcmp(written("", 0), "\"\"") == 0);
}

static void test_escaping_bad_bytes(void)
{
    /* Unicode 15, chapter 3, table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 gives
     * a, FFFD, FFFD, FFFD, b, FFFD, c, FFFD, FFFD, d. */
    static const char t38[] = "\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64";
    CHECK(strcmp(written(t38, sizeof t38 - 1),
                 "\"a\\ufffd\\ufffd\\ufffdb\\ufffdc\\ufffd\\ufffdd\"") == 0);
    /* overlong, surrogate, past U+10FFFF, cut short, stray continuation, 0xff */
    CHECK(strcmp(written("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"") == 0);
    CHECK(strcmp(written("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"") == 0);
    CHECK(strcmp(written("\xf4\x90\x80\x80", 4), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"") == 0);
    CHECK(strcmp(written("\xe2\x82", 2), "\"\\ufffd\"") == 0);
    CHECK(strcmp(written("\xff", 1), "\"\\ufffd\"") == 0);

    /* Random bytes, biased towards the interesting ones, against the grammar-built reference. */
    unsigned seed = 12345;
    size_t bad = 0, unparsed = 0;
    for (int round = 0; round < 20000; round++) {
        unsigned char s[24];
        char exp[24 * 6 + 3];
        size_t n = (size_t)(round % 24);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            static const unsigned char pick[] = {0x00, 0x0a, 0x22, 0x5c, 0x41, 0x7f, 0x80, 0x9f, 0xa0, 0xbf,
                                                 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4,
                                                 0xf5, 0xff, 0x8f, 0x90};
            s[i] = (seed >> 16) & 1 ? pick[(seed >> 17) % sizeof pick] : (unsigned char)(seed >> 20);
        }
        expected_json(s, n, exp);
        const char *got = written((const char *)s, n);
        if (strcmp(got, exp) != 0 && bad++ < 5) {
            printf("    bytes");
            for (size_t i = 0; i < n; i++)
                printf(" %02x", s[i]);
            printf(": got %s, expected %s\n", got, exp);
        }
        unparsed += !parses(got, strlen(got));
    }
    CHECK_EQ_U64(bad, 0);
    CHECK_EQ_U64(unparsed, 0);
}

static void test_values(void)
{
    struct mem m;
    struct json_w w;

    mem_init(&m, &w);
    json_obj(&w);
    json_key(&w, "n");
    json_null(&w);
    json_key(&w, "t");
    json_bool(&w, 7);
    json_key(&w, "f");
    json_bool(&w, 0);
    json_key(&w, "u");
    json_arr(&w);
    json_u64(&w, 0);
    json_u64(&w, 9);
    json_u64(&w, 10);
    json_u64(&w, UINT64_MAX);
    json_arr_end(&w);
    json_key(&w, "i");
    json_arr(&w);
    json_i64(&w, INT64_MIN);
    json_i64(&w, -1);
    json_i64(&w, 0);
    json_i64(&w, INT64_MAX);
    json_arr_end(&w);
    json_key(&w, "x");
    json_arr(&w);
    json_hex(&w, 0);
    json_hex(&w, 0xabcdef);
    json_hex(&w, UINT64_MAX);
    json_arr_end(&w);
    json_key(&w, "s");
    json_str(&w, NULL);
    json_key_n(&w, "k\"\n\0", 4);
    json_str(&w, "v");
    json_key(&w, "e");
    json_obj(&w);
    json_obj_end(&w);
    json_key(&w, "a");
    json_arr(&w);
    json_arr(&w);
    json_arr_end(&w);
    json_obj(&w);
    json_obj_end(&w);
    json_raw(&w, "{\"r\":[1,2]}", 11);
    json_arr_end(&w);
    json_obj_end(&w);
    CHECK(json_w_finish(&w) == 0);
    CHECK(json_w_strerror(&w) == NULL);
    static const char want[] =
        "{\"n\":null,\"t\":true,\"f\":false,\"u\":[0,9,10,18446744073709551615],"
        "\"i\":[-9223372036854775808,-1,0,9223372036854775807],"
        "\"x\":[\"0x0\",\"0xabcdef\",\"0xffffffffffffffff\"],\"s\":null,\"k\\\"\\n\\u0000\":\"v\",\"e\":{},"
        "\"a\":[[],{},{\"r\":[1,2]}]}";
    CHECK_MSG(strcmp(m.buf, want) == 0, "got %s", m.buf);
    CHECK_EQ_U64(w.bytes, strlen(want));

    /* The reader reads every value back. */
    struct json_tok tok[64];
    struct json_doc d;
    uint64_t v;
    char s[16];
    size_t n;
    CHECK(json_parse(&d, m.buf, m.n, tok, 64) == 0);
    CHECK(tok[json_member(&d, 0, "n")].type == JSON_NULL);
    CHECK(tok[json_member(&d, 0, "t")].type == JSON_TRUE);
    CHECK(tok[json_member(&d, 0, "f")].type == JSON_FALSE);
    int u = json_member(&d, 0, "u");
    CHECK(tok[u].type == JSON_ARRAY && tok[u].count == 4);
    CHECK(json_get_u64(&d, u + 4, &v) == 0 && v == UINT64_MAX);
    CHECK(json_get_u64(&d, u + 3, &v) == 0 && v == 10);
    int i = json_member(&d, 0, "i");
    CHECK(json_get_u64(&d, i + 1, &v) == -1); /* negative: not a count */
    CHECK(json_get_str(&d, json_member(&d, 0, "k\"\n"), s, sizeof s, &n) == -1); /* the key has a NUL: no match */
    int k = json_member(&d, 0, "s") + 1;
    CHECK(tok[k].type == JSON_STRING && json_get_str(&d, k, s, sizeof s, &n) == 0 && n == 4 &&
          memcmp(s, "k\"\n\0", 4) == 0);
    int a = json_member(&d, 0, "a");
    CHECK(tok[a].count == 3 && tok[a + 1].type == JSON_ARRAY && tok[a + 2].type == JSON_OBJECT);
    CHECK(tok[a + 3].type == JSON_OBJECT && json_member(&d, a + 3, "r") == a + 5);
    CHECK(tok[a].next == d.ntok);
    CHECK(json_member(&d, 0, "missing") == -1 && json_member(&d, u, "n") == -1);
}

static void test_nesting_limit(void)
{
    struct mem m;
    struct json_w w;

    mem_init(&m, &w);
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        json_arr(&w);
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        json_arr_end(&w);
    CHECK(json_w_finish(&w) == 0 && m.n == 2 * JSON_MAX_DEPTH);
    CHECK(parses(m.buf, m.n));

    mem_init(&m, &w);
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        json_obj(&w), json_key(&w, "k");
    size_t before = m.n;
    json_arr(&w); /* one too deep */
    CHECK(w.err == JSON_W_DEPTH);
    CHECK(m.n == before);
    json_null(&w);
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        json_obj_end(&w);
    CHECK(m.n == before); /* nothing more once refused */
    CHECK(json_w_finish(&w) == -1 && json_w_strerror(&w) != NULL);

    /* The reader's limit is the same. */
    char deep[2 * JSON_MAX_DEPTH + 3];
    memset(deep, '[', JSON_MAX_DEPTH);
    memset(deep + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
    CHECK(parses(deep, 2 * JSON_MAX_DEPTH));
    memset(deep, '[', JSON_MAX_DEPTH + 1);
    memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
    CHECK(!parses(deep, 2 * JSON_MAX_DEPTH + 2));
}

/* Each misuse is refused, leaves the output a prefix of what was written before, and sticks. */
static void test_misuse(void)
{
    struct mem m;
    struct json_w w;
    size_t before;

#define REFUSED(setup, bad)                                                                        \
    do {                                                                                           \
        mem_init(&m, &w);                                                                          \
        setup;                                                                                     \
        before = m.n;                                                                              \
        bad;                                                                                       \
        CHECK_MSG(w.err == JSON_W_MISUSE && m.n == before, "%s then %s: err %d, wrote %s", #setup, \
                  #bad, (int)w.err, m.buf);                                                        \
        json_null(&w);                                                                             \
        json_arr_end(&w);                                                                          \
        json_obj_end(&w);                                                                          \
        CHECK(m.n == before && json_w_finish(&w) == -1);                                           \
    } while (0)

    REFUSED(json_obj(&w), json_null(&w));                  /* a value where a key is due */
    REFUSED(json_arr(&w), json_key(&w, "k"));              /* a key in an array */
    REFUSED((void)0, json_key(&w, "k"));                   /* a key at the top */
    REFUSED(json_obj(&w), json_arr_end(&w));               /* the wrong close */
    REFUSED(json_arr(&w), json_obj_end(&w));
    REFUSED((json_obj(&w), json_key(&w, "k")), json_obj_end(&w)); /* a key without its value */
    REFUSED((json_obj(&w), json_key(&w, "k")), json_key(&w, "j"));
    REFUSED(json_null(&w), json_null(&w));                 /* a second top-level value */
    REFUSED((void)0, json_arr_end(&w));                    /* a close with nothing open */
    REFUSED(json_arr(&w), json_raw(&w, "", 0));            /* an empty raw value */
    REFUSED(json_obj(&w), json_key(&w, NULL));
#undef REFUSED

    /* Not finished: an open container, or nothing at all. */
    mem_init(&m, &w);
    CHECK(json_w_finish(&w) == -1);
    json_arr(&w);
    CHECK(json_w_finish(&w) == -1 && w.err == JSON_W_OK);
}

static void test_failing_sink(void)
{
    struct mem m;
    struct json_w w;

    for (size_t limit = 0; limit < 30; limit++) {
        mem_init(&m, &w);
        m.limit = limit;
        json_obj(&w);
        json_key(&w, "key");
        json_str(&w, "a value that is long enough");
        json_key(&w, "n");
        json_u64(&w, 12345);
        json_obj_end(&w);
        CHECK(json_w_finish(&w) == -1 && w.err == JSON_W_SINK);
        CHECK(m.calls_after_fail == 0); /* the writer stopped at the first failure */
        CHECK(w.bytes == m.n);
    }
}

static void test_reader_refuses(void)
{
    static const char *const bad[] = {
        "", " ", "{", "}", "[", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":}", "{a:1}", "{'a':1}",
        "[1 2]", "{\"a\":1 \"b\":2}", "01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity",
        "tru", "nul", "True", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"a\nb\"", "\"tab\there\"",
        "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xe2\x82\"", "1 2", "{} {}", "[1]x", "/* c */ 1",
        "[1]\x00", "\xef\xbb\xbf{}", "{\"a\":1}\n,",
    };
    static const char *const good[] = {
        "0", "-0", "1.5e-7", "-12.0E+3", "true", "false", "null", "\"\"", "[]", "{}", " \t\r\n[ 1 , 2 ] \n",
        "{\"a\":{\"b\":[null,true,{\"c\":\"\\u00e9\\ud83d\\ude00\\/\"}]}}", "\"\xef\xbf\xbd\"",
        "\"\\udc00\"", /* a lone surrogate escape: allowed by the grammar, read as U+FFFD */
    };
    struct json_tok tok[64];
    struct json_doc d;

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t n = strlen(bad[i]) + (i == sizeof bad / sizeof *bad - 3 ? 1 : 0); /* the one with a NUL */
        CHECK_MSG(json_parse(&d, bad[i], n, tok, 64) == -1 && d.error[0], "accepted %s", bad[i]);
    }
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK_MSG(json_parse(&d, good[i], strlen(good[i]), tok, 64) == 0, "refused %s: %s", good[i], d.error);

    /* Every proper prefix of a document is refused: a file cut short is never half read. */
    static const char doc[] = "{\"format\":\"x\",\"n\":[1,2,{\"s\":\"\\u00e9\"}],\"t\":true}";
    size_t cut = 0;
    for (size_t n = 0; n < sizeof doc - 1; n++)
        cut += json_parse(&d, doc, n, tok, 64) == 0;
    CHECK_EQ_U64(cut, 0);
    CHECK(json_parse(&d, doc, sizeof doc - 1, tok, 64) == 0);

    /* Room for the tokens: 3 values need 3. */
    CHECK(json_parse(&d, "[1,2]", 5, tok, 2) == -1 && strstr(d.error, "room") != NULL);
    CHECK(json_parse(&d, "[1,2]", 5, tok, 3) == 0 && d.ntok == 3);

    /* The error names where. */
    CHECK(json_parse(&d, "{\"a\" 1}", 7, tok, 64) == -1 && strncmp(d.error, "offset 5:", 9) == 0);
}

static void test_reader_values(void)
{
    static const char text[] =
        "{\"big\":18446744073709551615,\"over\":18446744073709551616,\"neg\":-1,\"frac\":1.0,\"exp\":1e3,"
        "\"zero\":0,\"s\":\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\ud800x\",\"dup\":1,\"dup\":2,"
        "\"nest\":{\"dup\":3},\"esc\\u0061ped\":4}";
    struct json_tok tok[64];
    struct json_doc d;
    uint64_t v;
    char s[64];
    size_t n;

    CHECK(json_parse(&d, text, sizeof text - 1, tok, 64) == 0);
    CHECK(json_get_u64(&d, json_member(&d, 0, "big"), &v) == 0 && v == UINT64_MAX);
    CHECK(json_get_u64(&d, json_member(&d, 0, "over"), &v) == -1);
    CHECK(json_get_u64(&d, json_member(&d, 0, "neg"), &v) == -1);
    CHECK(json_get_u64(&d, json_member(&d, 0, "frac"), &v) == -1);
    CHECK(json_get_u64(&d, json_member(&d, 0, "exp"), &v) == -1);
    CHECK(json_get_u64(&d, json_member(&d, 0, "zero"), &v) == 0 && v == 0);
    CHECK(json_get_u64(&d, json_member(&d, 0, "s"), &v) == -1);
    CHECK(json_get_u64(&d, -1, &v) == -1);
    static const char want[] = "a\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbdx";
    CHECK(json_get_str(&d, json_member(&d, 0, "s"), s, sizeof s, &n) == 0 && n == sizeof want - 1 &&
          memcmp(s, want, n) == 0 && s[n] == '\0');
    CHECK(json_get_str(&d, json_member(&d, 0, "s"), s, sizeof want - 1, &n) == -1); /* no room for the NUL */
    CHECK(json_get_str(&d, json_member(&d, 0, "s"), s, sizeof want, &n) == 0);
    CHECK(json_get_str(&d, json_member(&d, 0, "zero"), s, sizeof s, &n) == -1);
    CHECK(json_get_u64(&d, json_member(&d, 0, "dup"), &v) == 0 && v == 1); /* the first */
    CHECK(json_get_u64(&d, json_member(&d, 0, "escaped"), &v) == 0 && v == 4);
    CHECK(json_member(&d, json_member(&d, 0, "nest"), "dup") > 0);
    CHECK(json_member(&d, json_member(&d, 0, "big"), "x") == -1); /* not an object */
}

int main(void)
{
    test_escaping_every_code_point();
    test_escaping_bad_bytes();
    test_values();
    test_nesting_limit();
    test_misuse();
    test_failing_sink();
    test_reader_refuses();
    test_reader_values();
    return check_summary();
}
