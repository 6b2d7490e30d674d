/* test_pprof.c — `lastgasp pprof` without Go: the protobuf encoder (formats/pprof/pb.c) against encodings
 * written out by hand from the protobuf encoding guide (https://protobuf.dev/programming-guides/encoding/),
 * the profile of a fixture dump decoded back by an independent reader (pb_check.h), and the gzip wrapper
 * inflated back by zlib. `go tool pprof` reading real dumps' profiles is tests/go/test_pprof.py.
 */
#include "../../formats/pprof/pprof.h"
#include "check.h"
#include "pb_check.h"
#include "render_fixtures.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* b's bytes equal the n bytes of want. */
static int bytes_are(const struct pprof_pb *b, const char *want, size_t n)
{
    if (b->nomem || b->len != n || (n && memcmp(b->buf, want, n) != 0)) {
        printf("    got %zu bytes:", b->len);
        for (size_t i = 0; i < b->len && i < 32; i++)
            printf(" %02x", b->buf[i]);
        printf("\n");
        return 0;
    }
    return 1;
}

#define ENC(stmt, want)                                                                            \
    do {                                                                                           \
        struct pprof_pb b_ = {0};                                                                  \
        struct pprof_pb *b = &b_;                                                                  \
        stmt;                                                                                      \
        CHECK_MSG(bytes_are(b, want, sizeof want - 1), "%s", #stmt);                              \
        pprof_pb_free(b);                                                                          \
    } while (0)

static void test_varints(void)
{
    ENC(pprof_pb_varint(b, 0), "\x00");
    ENC(pprof_pb_varint(b, 1), "\x01");
    ENC(pprof_pb_varint(b, 127), "\x7f");
    ENC(pprof_pb_varint(b, 128), "\x80\x01");
    ENC(pprof_pb_varint(b, 150), "\x96\x01");
    ENC(pprof_pb_varint(b, 300), "\xac\x02");
    ENC(pprof_pb_varint(b, UINT64_MAX), "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
    /* The guide's Test1 {a: 150}. */
    ENC(pprof_pb_uint64(b, 1, 150), "\x08\x96\x01");
    /* int64 -2: two's complement, ten bytes (the guide's negative int32 example). */
    ENC(pprof_pb_int64_opt(b, 1, -2), "\x08\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01");
    /* Field numbers from 16 need a two-byte key. */
    ENC(pprof_pb_uint64(b, 16, 1), "\x80\x01\x01");
    ENC(pprof_pb_key(b, 13, 2), "\x6a");
    /* proto3 defaults are left out by the _opt forms, written by the plain one. */
    ENC((pprof_pb_uint64_opt(b, 1, 0), pprof_pb_int64_opt(b, 2, 0), pprof_pb_bool_opt(b, 3, 0)), "");
    ENC(pprof_pb_uint64(b, 3, 0), "\x18\x00");
    ENC(pprof_pb_bool_opt(b, 7, 1), "\x38\x01");
}

static void test_length_delimited(void)
{
    /* The guide's Test2 {b: "testing"}. */
    ENC(pprof_pb_bytes(b, 2, "testing", 7), "\x12\x07testing");
    /* "" is written: string_table[0] must be there. */
    ENC(pprof_pb_bytes(b, 6, "", 0), "\x32\x00");
    /* The guide's Test3 {c: {a: 150}}. */
    ENC((void)0; size_t s = pprof_pb_start(b); pprof_pb_uint64(b, 1, 150); pprof_pb_end(b, 3, s),
        "\x1a\x03\x08\x96\x01");
    /* The guide's packed repeated field: f = 6, [3, 270, 86942]. */
    uint64_t packed[] = { 3, 270, 86942 };
    ENC(pprof_pb_packed(b, 6, packed, 3), "\x32\x06\x03\x8e\x02\x9e\xa7\x05");
    ENC(pprof_pb_packed(b, 6, packed, 0), "");
    /* Two levels, as a Location with one Line: {id 1, line {function_id 2, line 3}} as field 4. */
    ENC((void)0; size_t s = pprof_pb_start(b); pprof_pb_uint64(b, 1, 1); size_t l = pprof_pb_start(b);
        pprof_pb_uint64(b, 1, 2); pprof_pb_uint64(b, 2, 3); pprof_pb_end(b, 4, l); pprof_pb_end(b, 4, s),
        "\x22\x08\x08\x01\x22\x04\x08\x02\x10\x03");
    /* An empty nested message still has its key and a zero length. */
    ENC((void)0; size_t s = pprof_pb_start(b); pprof_pb_end(b, 2, s), "\x12\x00");

    /* A body of 133 bytes: its length takes two bytes, and the body moves by three. */
    {
        struct pprof_pb b = {0};
        char x[130], want[3 + 3 + 130];

        memset(x, 'x', sizeof x);
        pprof_pb_uint64(&b, 9, 5); /* something before, which must stay put */
        size_t s = pprof_pb_start(&b);
        pprof_pb_bytes(&b, 1, x, sizeof x);
        pprof_pb_end(&b, 2, s);
        memcpy(want, "\x12\x85\x01\x0a\x82\x01", 6);
        memcpy(want + 6, x, sizeof x);
        CHECK(b.len == 2 + sizeof want && memcmp(b.buf, "\x48\x05", 2) == 0 &&
              memcmp(b.buf + 2, want, sizeof want) == 0);
        pprof_pb_free(&b);
    }
    /* Growth past the first allocation keeps every byte. */
    {
        struct pprof_pb b = {0};
        int ok = 1;

        for (uint64_t i = 0; i < 10000; i++)
            pprof_pb_varint(&b, i & 0x7f);
        for (size_t i = 0; i < 10000; i++)
            ok &= b.buf[i] == (i & 0x7f);
        CHECK(!b.nomem && b.len == 10000 && ok);
        pprof_pb_free(&b);
    }
}

/* ---- the profile of a fixture ---- */

/* The label values of sample s for key, joined: "v" for a string label, "#n" for a numeric one. */
static void label(const struct pbc_profile *pr, struct pbc_span s, const char *key, char *out, size_t outlen)
{
    struct pbc_list labels = {0};

    out[0] = '\0';
    pbc_subs(s, 3, &labels);
    for (size_t i = 0; i < labels.n; i++) {
        if (!pbc_str_is(pr, pbc_get(labels.v[i], 1), key))
            continue;
        uint64_t str = pbc_get(labels.v[i], 2);
        struct pbc_span v = pbc_str(pr, str);
        size_t len = strlen(out);
        if (str)
            snprintf(out + len, outlen - len, "%s%.*s", len ? "," : "", (int)v.n, (const char *)v.p);
        else
            snprintf(out + len, outlen - len, "%s#%llu", len ? "," : "",
                     (unsigned long long)pbc_get(labels.v[i], 3));
    }
    free(labels.v);
}

static struct pbc_span by_id(const struct pbc_list *l, uint64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (pbc_get(l->v[i], 1) == id)
            return l->v[i];
    return (struct pbc_span){ NULL, 0 };
}

/* "fn@file:line" of each Line of location id, innermost first, joined by " < ". */
static void lines_of(const struct pbc_profile *pr, uint64_t id, char *out, size_t outlen)
{
    struct pbc_list lines = {0};

    out[0] = '\0';
    pbc_subs(by_id(&pr->location, id), 4, &lines);
    for (size_t i = 0; i < lines.n; i++) {
        struct pbc_span fn = by_id(&pr->function, pbc_get(lines.v[i], 1));
        struct pbc_span name = pbc_str(pr, pbc_get(fn, 2)), file = pbc_str(pr, pbc_get(fn, 4));
        size_t len = strlen(out);

        snprintf(out + len, outlen - len, "%s%.*s@%.*s:%lld", i ? " < " : "", (int)name.n, (const char *)name.p,
                 (int)file.n, (const char *)file.p, (long long)pbc_get(lines.v[i], 2));
    }
    free(lines.v);
}

static int build(const struct mdr_dump *md, struct pbc_profile *pr, struct pprof_pb *pb)
{
    char why[200];

    memset(pb, 0, sizeof *pb);
    if (pprof_profile_build(pb, md) != 0) {
        printf("    build failed\n");
        return -1;
    }
    if (pbc_parse(pr, pb->buf, pb->len, why, sizeof why) != 0) {
        printf("    not a valid profile: %s\n", why);
        return -1;
    }
    return 0;
}

static void test_fixture_profile(void)
{
    struct gomodel g;
    struct pbc_profile pr;
    struct pprof_pb pb;
    char s[512];
    uint64_t ids[2][16];
    long n[5];

    fill_go(&g);
    g.m.md.lg.time_ns = 1764950000123456789ull;
    g.m.md.go.reason = "panic: boom\n[signal SIGSEGV: segmentation violation]\n";
    CHECK(build(&g.m.md, &pr, &pb) == 0);
    CHECK_EQ_U64(pr.sample.n, 5);
    CHECK(pr.sample_type.n == 1 && pbc_str_is(&pr, pbc_get(pr.sample_type.v[0], 1), "goroutine") &&
          pbc_str_is(&pr, pbc_get(pr.sample_type.v[0], 2), "count"));
    CHECK(pr.period_type.n == 1 && pbc_str_is(&pr, pbc_get(pr.period_type.v[0], 1), "goroutine"));
    CHECK_EQ_U64(pr.period, 1);
    CHECK_EQ_U64(pr.time_nanos, 1764950000123456789ull);
    int has_reason = 0, has_version = 0;
    for (size_t i = 0; i < pr.comment.n; i++) {
        has_reason |= pbc_str_is(&pr, pr.comment.v[i].n, "panic: boom") &&
                      i + 1 < pr.comment.n &&
                      pbc_str_is(&pr, pr.comment.v[i + 1].n, "[signal SIGSEGV: segmentation violation]");
        has_version |= pbc_str_is(&pr, pr.comment.v[i].n, "go1.26.8");
    }
    CHECK(has_reason && has_version);

    /* Samples in dump order, one per goroutine, value 1, labelled. */
    for (size_t i = 0; i < 5 && i < pr.sample.n; i++) {
        uint64_t v[2];
        CHECK(pbc_varints(pr.sample.v[i], 2, v, 2) == 1 && v[0] == 1);
        n[i] = pbc_varints(pr.sample.v[i], 1, i < 2 ? ids[i] : ids[0] + 8, 8);
    }
    label(&pr, pr.sample.v[0], "goroutine", s, sizeof s);
    CHECK(strcmp(s, "#7") == 0);
    label(&pr, pr.sample.v[0], "status", s, sizeof s);
    CHECK(strcmp(s, "waiting") == 0);
    label(&pr, pr.sample.v[0], "wait_reason", s, sizeof s);
    CHECK(strcmp(s, "chan receive") == 0);
    label(&pr, pr.sample.v[0], "created_by", s, sizeof s);
    CHECK(strcmp(s, "main.main") == 0);
    label(&pr, pr.sample.v[0], "crashed", s, sizeof s);
    CHECK(strcmp(s, "") == 0);
    label(&pr, pr.sample.v[1], "crashed", s, sizeof s);
    CHECK(strcmp(s, "true") == 0);
    label(&pr, pr.sample.v[1], "locked_to_thread", s, sizeof s);
    CHECK(strcmp(s, "true") == 0);
    label(&pr, pr.sample.v[1], "status", s, sizeof s);
    CHECK(strcmp(s, "running") == 0);
    label(&pr, pr.sample.v[1], "wait_reason", s, sizeof s);
    CHECK(strcmp(s, "") == 0);
    label(&pr, pr.sample.v[4], "status", s, sizeof s);
    CHECK(strcmp(s, "syscall") == 0);

    /* The crashing goroutine: main.crash inlined into main.main is one Location with two Lines, at the pc. */
    CHECK(n[1] == 1);
    lines_of(&pr, ids[1][0], s, sizeof s);
    CHECK_MSG(strcmp(s, "main.crash@/src/app/main.go:12 < main.main@/src/app/main.go:20") == 0, "%s", s);
    CHECK_EQ_U64(pbc_get(by_id(&pr.location, ids[1][0]), 3), 0x55d0c0de2100);
    CHECK_EQ_U64(pbc_get(by_id(&pr.location, ids[1][0]), 2), 1);
    /* Goroutine 7: gopark at its pc, then main.worker's call instruction (return address - 1). */
    CHECK(n[0] == 2);
    lines_of(&pr, ids[0][0], s, sizeof s);
    CHECK(strcmp(s, "runtime.gopark@/usr/local/go/src/runtime/proc.go:435") == 0);
    lines_of(&pr, ids[0][1], s, sizeof s);
    CHECK(strcmp(s, "main.worker@/src/app/main.go:30") == 0);
    CHECK_EQ_U64(pbc_get(by_id(&pr.location, ids[0][0]), 3), 0x55d0c0de1800);
    CHECK_EQ_U64(pbc_get(by_id(&pr.location, ids[0][1]), 3), 0x55d0c0de2200 - 1);
    /* Goroutine 9 has its own copy of the same frames: the same Locations. */
    {
        uint64_t nine[4];
        CHECK(pbc_varints(pr.sample.v[3], 1, nine, 4) == 2 && nine[0] == ids[0][0] && nine[1] == ids[0][1]);
    }
    /* Goroutine 10's C frame has no name: a Location without Lines, in libc's mapping. */
    {
        uint64_t ten[2];
        CHECK(pbc_varints(pr.sample.v[4], 1, ten, 2) == 1);
        lines_of(&pr, ten[0], s, sizeof s);
        CHECK(strcmp(s, "") == 0);
        CHECK_EQ_U64(pbc_get(by_id(&pr.location, ten[0]), 2), 2);
    }
    /* Three distinct locations, four functions; mappings from the ModuleList, flags from what they hold. */
    CHECK_EQ_U64(pr.location.n, 4);
    CHECK_EQ_U64(pr.function.n, 4);
    CHECK_EQ_U64(pr.mapping.n, 2);
    {
        struct pbc_span m1 = by_id(&pr.mapping, 1), m2 = by_id(&pr.mapping, 2);
        CHECK(pbc_str_is(&pr, pbc_get(m1, 5), "/usr/bin/crasher"));
        CHECK_EQ_U64(pbc_get(m1, 2), 0x55d0c0de0000);
        CHECK_EQ_U64(pbc_get(m1, 3), 0x55d0c0de5000);
        CHECK(pbc_get(m1, 7) == 1 && pbc_get(m1, 8) == 1 && pbc_get(m1, 9) == 1 && pbc_get(m1, 10) == 1);
        CHECK(pbc_get(m2, 7) == 0 && pbc_get(m2, 10) == 0);
    }
    pbc_free(&pr);
    pprof_pb_free(&pb);
}

/* What a hostile or odd dump holds: no goroutines; a bad UTF-8 name; an elided marker; a broken inline run. */
static void test_edges(void)
{
    struct gomodel g;
    struct pbc_profile pr;
    struct pprof_pb pb;
    char s[512];

    fill_go(&g);
    g.m.md.go.ngoroutines = 0;
    CHECK(build(&g.m.md, &pr, &pb) == 0);
    CHECK(pr.sample.n == 0 && pr.location.n == 0 && pr.sample_type.n == 1);
    pbc_free(&pr);
    pprof_pb_free(&pb);

    fill_go(&g);
    struct mdr_go_frame fr[4] = {
        { 0x55d0c0de2100, "main.\xff\xfe(bad)", "/src/\xc3", 1, 1, 0, 0 }, /* inlined, but its caller... */
        { 0x55d0c0de2000, "main.other", "/src/app/main.go", 2, 0, 0, 0 },  /* ...has another pc */
        { 0, NULL, NULL, 0, 0, 7, 0 },                                     /* 7 frames elided */
        { 0x55d0c0de2300, "main.main", "/src/app/main.go", 3, 0, 0, 0 },
    };
    g.gs[0].frames = fr;
    g.gs[0].nframes = 4;
    g.m.md.go.ngoroutines = 1;
    CHECK(build(&g.m.md, &pr, &pb) == 0);
    {
        uint64_t ids[8];
        CHECK(pbc_varints(pr.sample.v[0], 1, ids, 8) == 3);
        lines_of(&pr, ids[0], s, sizeof s);
        CHECK_MSG(strcmp(s, "main.\xef\xbf\xbd\xef\xbf\xbd(bad)@/src/\xef\xbf\xbd:1") == 0, "%s", s);
        lines_of(&pr, ids[2], s, sizeof s);
        CHECK(strcmp(s, "main.main@/src/app/main.go:3") == 0);
        label(&pr, pr.sample.v[0], "stack", s, sizeof s);
        CHECK(strcmp(s, "truncated") == 0);
    }
    pbc_free(&pr);
    pprof_pb_free(&pb);

    /* A goroutine without frames (running elsewhere, stack unavailable): a sample without locations. */
    fill_go(&g);
    g.gs[0].frames = NULL;
    g.gs[0].nframes = 0;
    g.m.md.go.ngoroutines = 1;
    CHECK(build(&g.m.md, &pr, &pb) == 0);
    CHECK(pr.sample.n == 1 && pbc_varints(pr.sample.v[0], 1, (uint64_t[1]){0}, 1) == 0);
    pbc_free(&pr);
    pprof_pb_free(&pb);
}

/* The most a dump can ask for: goroutines of MDR_GO_MAX_GOROUTINE_FRAMES frames each, every frame another
 * location, at addresses that differ only in their high bits (a poor hash would put them all in one run of
 * slots). The profile is complete; alarm() is a hang detector, not a budget. */
static void test_big_hostile(void)
{
    enum { NG = 64, NF = MDR_GO_MAX_GOROUTINE_FRAMES };
    struct gomodel g;
    struct mdr_go_frame *fr = calloc((size_t)NG * NF, sizeof *fr);
    struct mdr_go_goroutine *gs = calloc(NG, sizeof *gs);
    struct pprof_pb pb = {0};

    fill_go(&g);
    for (size_t i = 0; i < (size_t)NG * NF; i++)
        fr[i] = (struct mdr_go_frame){ (uint64_t)(i + 1) << 32, "main.f", "/src/app/main.go", (int32_t)(i % 7),
                                       (int)(i % 3 == 0), 0, 0 };
    for (size_t k = 0; k < NG; k++)
        gs[k] = (struct mdr_go_goroutine){ .goid = k + 1, .status = 4, .frames = &fr[k * NF], .nframes = NF };
    g.m.md.go.goroutines = gs;
    g.m.md.go.ngoroutines = NG;
    g.m.md.go.frames = fr;
    g.m.md.go.nframes = (size_t)NG * NF;
    alarm(120);
    CHECK(pprof_profile_build(&pb, &g.m.md) == 0);
    alarm(0);
    /* Every pc differs, so an "inlined" frame's run is broken off at once: one location per frame. */
    struct pbc_profile pr;
    char why[200];
    CHECK(pbc_parse(&pr, pb.buf, pb.len, why, sizeof why) == 0);
    CHECK_EQ_U64(pr.sample.n, NG);
    CHECK_EQ_U64(pr.location.n, (size_t)NG * NF);
    CHECK_EQ_U64(pr.function.n, 1);
    pbc_free(&pr);
    pprof_pb_free(&pb);
    free(fr);
    free(gs);
}

/* ---- gzip ---- */

struct mem { uint8_t *p; size_t n, cap; int fail_after; };

static int mem_sink(const void *p, size_t n, void *ctx)
{
    struct mem *m = ctx;

    if (m->fail_after >= 0 && m->fail_after-- == 0)
        return -1;
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->n, p, n);
    m->n += n;
    return 0;
}

static void test_gzip(void)
{
    size_t n = 300000;
    uint8_t *in = malloc(n), *back = malloc(n + 1);
    struct mem m = { NULL, 0, 0, -1 };
    uint32_t x = 1;

    for (size_t i = 0; i < n; i++) { /* half compressible, half noise: several output chunks */
        x = x * 1103515245 + 12345;
        in[i] = i < n / 2 ? (uint8_t)(i % 7) : (uint8_t)(x >> 16);
    }
    CHECK(pprof_gzip(in, n, mem_sink, &m) == 0);
    CHECK(m.n > 18 && m.p[0] == 0x1f && m.p[1] == 0x8b && m.p[2] == 8);
    CHECK(m.n > 8 && m.p[4] == 0 && m.p[5] == 0 && m.p[6] == 0 && m.p[7] == 0); /* mtime 0 */
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK(inflateInit2(&z, 15 + 16) == Z_OK);
    z.next_in = m.p;
    z.avail_in = (uInt)m.n;
    z.next_out = back;
    z.avail_out = (uInt)n + 1;
    CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
    CHECK(z.total_out == n && memcmp(in, back, n) == 0);
    inflateEnd(&z);
    free(m.p);

    /* A sink that fails is an error, not a short file called a success. */
    m = (struct mem){ NULL, 0, 0, 1 };
    CHECK(pprof_gzip(in, n, mem_sink, &m) == -1);
    free(m.p);
    /* An empty input is still a whole gzip member. */
    m = (struct mem){ NULL, 0, 0, -1 };
    CHECK(pprof_gzip(in, 0, mem_sink, &m) == 0 && m.n == 20);
    free(m.p);
    free(in);
    free(back);
}

int main(void)
{
    test_varints();
    test_length_delimited();
    test_fixture_profile();
    test_edges();
    test_big_hostile();
    test_gzip();
    return check_summary();
}
