/* pb_check.h — an independent reader of profile.proto for the tests (test_pprof.c) and the fuzzer: it decodes
 * the wire format with its own code (not formats/pprof/pb.c) and checks what `go tool pprof` relies on
 * (github.com/google/pprof profile.CheckValid and postDecode): well-formed fields of known wire types,
 * string_table[0] == "", every string index inside the table, every string valid UTF-8, ids nonzero and unique,
 * every location a sample names and every function a line names present, one value per sample type.
 *
 * Header-only, static. pbc_parse() keeps pointers into the caller's buffer; release with pbc_free().
 */
#ifndef LASTGASP_TESTS_PB_CHECK_H
#define LASTGASP_TESTS_PB_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pbc_span { const uint8_t *p; size_t n; };

struct pbc_list {
    struct pbc_span *v;
    size_t n, cap;
};

struct pbc_profile {
    struct pbc_list sample_type, sample, mapping, location, function, string, period_type;
    struct pbc_list comment;  /* string indexes, in .n (p is NULL) */
    uint64_t time_nanos, period;
};

struct pbc_reader { const uint8_t *p, *end; };

static int pbc_varint(struct pbc_reader *r, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end)
            return -1;
        uint8_t c = *r->p++;
        if (shift == 63 && c > 1)
            return -1;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return 0;
    }
    return -1;
}

/* The next field: number, wire type, value (varint) or span (length-delimited). 1 when one was read, 0 at the
 * end, -1 when malformed (a wire type other than 0 and 2, a length past the end). */
static int pbc_next(struct pbc_reader *r, uint32_t *field, unsigned *wt, uint64_t *v, struct pbc_span *s)
{
    uint64_t key;

    if (r->p == r->end)
        return 0;
    if (pbc_varint(r, &key) != 0 || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return -1;
    *field = (uint32_t)(key >> 3);
    *wt = key & 7;
    if (*wt == 0)
        return pbc_varint(r, v) == 0 ? 1 : -1;
    if (*wt != 2 || pbc_varint(r, v) != 0 || *v > (uint64_t)(r->end - r->p))
        return -1;
    s->p = r->p;
    s->n = (size_t)*v;
    r->p += s->n;
    return 1;
}

static int pbc_push(struct pbc_list *l, struct pbc_span s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct pbc_span *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

static void pbc_free(struct pbc_profile *pr)
{
    struct pbc_list *ls[] = { &pr->sample_type, &pr->sample, &pr->mapping, &pr->location, &pr->function,
                              &pr->string, &pr->period_type, &pr->comment };
    for (size_t i = 0; i < sizeof ls / sizeof ls[0]; i++)
        free(ls[i]->v);
    memset(pr, 0, sizeof *pr);
}

/* The varint values of field `want` in a message, packed or not, into out[0..max); the count, or -1. */
static long pbc_varints(struct pbc_span m, uint32_t want, uint64_t *out, size_t max)
{
    struct pbc_reader r = { m.p, m.p + m.n };
    uint32_t f;
    unsigned wt;
    uint64_t v;
    struct pbc_span s = { NULL, 0 };
    size_t n = 0;
    int rc;

    while ((rc = pbc_next(&r, &f, &wt, &v, &s)) == 1) {
        if (f != want)
            continue;
        if (wt == 0) {
            if (n < max)
                out[n] = v;
            n++;
            continue;
        }
        struct pbc_reader pr = { s.p, s.p + s.n };
        while (pr.p < pr.end) {
            if (pbc_varint(&pr, &v) != 0)
                return -1;
            if (n < max)
                out[n] = v;
            n++;
        }
    }
    return rc < 0 ? -1 : (long)n;
}

/* One varint field of a message (the last one wins, as in protobuf), 0 when absent. */
static uint64_t pbc_get(struct pbc_span m, uint32_t want)
{
    uint64_t v[1] = {0}, all[64];
    long n = pbc_varints(m, want, all, 64);
    if (n > 0)
        v[0] = all[(n <= 64 ? n : 64) - 1];
    return v[0];
}

/* The repeated sub-messages of field `want` of m, into l. */
static int pbc_subs(struct pbc_span m, uint32_t want, struct pbc_list *l)
{
    struct pbc_reader r = { m.p, m.p + m.n };
    uint32_t f;
    unsigned wt;
    uint64_t v;
    struct pbc_span s = { NULL, 0 };
    int rc;

    while ((rc = pbc_next(&r, &f, &wt, &v, &s)) == 1)
        if (f == want && (wt != 2 || pbc_push(l, s) != 0))
            return -1;
    return rc;
}

static int pbc_utf8_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        uint32_t cp;

        if (k == 0 || i + k > n)
            return 0;
        cp = k == 1 ? c : k == 2 ? c & 0x1f : k == 3 ? c & 0x0f : c & 0x07;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k;
    }
    return 1;
}

#define PBC_FAIL(...) do { snprintf(why, whylen, __VA_ARGS__); return -1; } while (0)

static int pbc_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* ids of a table, sorted into *out (caller frees): each nonzero and unique. */
static int pbc_ids(const struct pbc_list *l, uint64_t **out, char *why, size_t whylen, const char *what)
{
    uint64_t *ids = malloc((l->n + 1) * sizeof *ids);

    *out = ids;
    if (!ids)
        PBC_FAIL("out of memory");
    for (size_t i = 0; i < l->n; i++)
        if ((ids[i] = pbc_get(l->v[i], 1)) == 0)
            PBC_FAIL("%s %zu has id 0", what, i);
    qsort(ids, l->n, sizeof *ids, pbc_cmp_u64);
    for (size_t i = 1; i < l->n; i++)
        if (ids[i] == ids[i - 1])
            PBC_FAIL("%s id %llu twice", what, (unsigned long long)ids[i]);
    return 0;
}

static int pbc_has_id(const uint64_t *ids, size_t n, uint64_t id)
{
    return bsearch(&id, ids, n, sizeof id, pbc_cmp_u64) != NULL;
}

/* The references between the tables: mappings, functions and locations by id. */
static int pbc_check_tables(struct pbc_profile *pr, char *why, size_t whylen)
{
    uint64_t *mids = NULL, *fids = NULL, *lids = NULL;
    int rc = -1;

    if (pbc_ids(&pr->mapping, &mids, why, whylen, "mapping") || pbc_ids(&pr->function, &fids, why, whylen, "function")
        || pbc_ids(&pr->location, &lids, why, whylen, "location"))
        goto out;
#define PBC_BAD(...) do { snprintf(why, whylen, __VA_ARGS__); goto out; } while (0)
#define PBC_STR(x, what) do { if ((x) >= pr->string.n) PBC_BAD("%s: string index %llu outside the table", \
                                  what, (unsigned long long)(x)); } while (0)
    for (size_t i = 0; i < pr->mapping.n; i++) {
        PBC_STR(pbc_get(pr->mapping.v[i], 5), "mapping file");
        PBC_STR(pbc_get(pr->mapping.v[i], 6), "mapping build id");
    }
    for (size_t i = 0; i < pr->function.n; i++)
        for (uint32_t k = 2; k <= 4; k++)
            PBC_STR(pbc_get(pr->function.v[i], k), "function");
    for (size_t i = 0; i < pr->location.n; i++) {
        struct pbc_list lines = {0};
        uint64_t m = pbc_get(pr->location.v[i], 2);
        int ok = 1;

        if (m && !pbc_has_id(mids, pr->mapping.n, m))
            PBC_BAD("location %zu: mapping %llu missing", i, (unsigned long long)m);
        if (pbc_subs(pr->location.v[i], 4, &lines) != 0)
            ok = 0;
        for (size_t k = 0; k < lines.n; k++)
            ok &= pbc_has_id(fids, pr->function.n, pbc_get(lines.v[k], 1));
        free(lines.v);
        if (!ok)
            PBC_BAD("location %zu: bad lines, or a line's function missing", i);
    }
    for (size_t i = 0; i < pr->sample.n; i++) {
        uint64_t ids[4096], vals[8];
        long n = pbc_varints(pr->sample.v[i], 1, ids, 4096), nv = pbc_varints(pr->sample.v[i], 2, vals, 8);
        struct pbc_list labels = {0};
        int ok = 1;

        if (n < 0 || n > 4096 || nv < 0)
            PBC_BAD("sample %zu: malformed", i);
        if ((size_t)nv != pr->sample_type.n)
            PBC_BAD("sample %zu: %ld values for %zu types", i, nv, pr->sample_type.n);
        for (long k = 0; k < n; k++)
            if (!pbc_has_id(lids, pr->location.n, ids[k]))
                PBC_BAD("sample %zu: location %llu missing", i, (unsigned long long)ids[k]);
        if (pbc_subs(pr->sample.v[i], 3, &labels) != 0)
            ok = 0;
        for (size_t k = 0; k < labels.n; k++) {
            uint64_t key = pbc_get(labels.v[k], 1), str = pbc_get(labels.v[k], 2);
            ok &= key != 0 && key < pr->string.n && str < pr->string.n;
        }
        free(labels.v);
        if (!ok)
            PBC_BAD("sample %zu: bad labels", i);
    }
    rc = 0;
out:
    free(mids);
    free(fids);
    free(lids);
    return rc;
#undef PBC_BAD
#undef PBC_STR
}

/* Parse and check a whole Profile message. 0, or -1 with the reason in why. */
static int pbc_parse(struct pbc_profile *pr, const uint8_t *buf, size_t len, char *why, size_t whylen)
{
    struct pbc_reader r = { buf, buf + len };
    uint32_t f;
    unsigned wt;
    uint64_t v;
    struct pbc_span s = { NULL, 0 };
    int rc;

    memset(pr, 0, sizeof *pr);
    while ((rc = pbc_next(&r, &f, &wt, &v, &s)) == 1) {
        struct pbc_list *l = f == 1 ? &pr->sample_type : f == 2 ? &pr->sample : f == 3 ? &pr->mapping
                             : f == 4 ? &pr->location : f == 5 ? &pr->function : f == 6 ? &pr->string
                             : f == 11 ? &pr->period_type : NULL;
        if (l) {
            if (wt != 2)
                PBC_FAIL("field %u is not length-delimited", (unsigned)f);
            if (pbc_push(l, s) != 0)
                PBC_FAIL("out of memory");
        } else if (f == 9 && wt == 0) {
            pr->time_nanos = v;
        } else if (f == 12 && wt == 0) {
            pr->period = v;
        } else if (f == 13) { /* comment string indexes, packed or not: kept as spans of length index */
            struct pbc_reader cr = { s.p, s.p + (wt == 2 ? s.n : 0) };
            if (wt == 0 && pbc_push(&pr->comment, (struct pbc_span){ NULL, (size_t)v }) != 0)
                PBC_FAIL("out of memory");
            while (wt == 2 && cr.p < cr.end) {
                if (pbc_varint(&cr, &v) != 0 || pbc_push(&pr->comment, (struct pbc_span){ NULL, (size_t)v }) != 0)
                    PBC_FAIL("bad packed comment");
            }
        } else {
            PBC_FAIL("unexpected field %u wire type %u", (unsigned)f, wt);
        }
    }
    if (rc < 0)
        PBC_FAIL("malformed wire format at byte %zu", (size_t)(r.p - buf));
    if (pr->string.n == 0 || pr->string.v[0].n != 0)
        PBC_FAIL("string_table[0] is not \"\"");
    for (size_t i = 0; i < pr->string.n; i++)
        if (!pbc_utf8_ok(pr->string.v[i].p, pr->string.v[i].n))
            PBC_FAIL("string %zu is not valid UTF-8", i);
#define PBC_STR(x, what) do { if ((x) >= pr->string.n) PBC_FAIL("%s: string index %llu outside the table", \
                                  what, (unsigned long long)(x)); } while (0)
    for (size_t i = 0; i < pr->comment.n; i++)
        PBC_STR(pr->comment.v[i].n, "comment");
    for (size_t i = 0; i < pr->sample_type.n; i++) {
        PBC_STR(pbc_get(pr->sample_type.v[i], 1), "sample type");
        PBC_STR(pbc_get(pr->sample_type.v[i], 2), "sample type unit");
    }
    rc = pbc_check_tables(pr, why, whylen);
#undef PBC_STR
    return rc;
}

#undef PBC_FAIL

/* The string at index i (i < pr->string.n), as a span. */
static struct pbc_span pbc_str(const struct pbc_profile *pr, uint64_t i)
{
    return pr->string.v[i];
}

static int pbc_str_is(const struct pbc_profile *pr, uint64_t i, const char *s)
{
    return i < pr->string.n && pr->string.v[i].n == strlen(s) && memcmp(pr->string.v[i].p, s, strlen(s)) == 0;
}

#endif
