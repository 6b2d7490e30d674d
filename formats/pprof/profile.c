/* profile.c — the goroutine profile of a Go dump (pprof.h), as Go's runtime/pprof writes a live one: sample
 * type and period type "goroutine"/"count", period 1, one Location per physical frame whose Line entries are
 * its source frames innermost first (an inlined call and its caller share the pc, as pprof represents
 * inlining), Functions by name and file, Mappings from the dump's ModuleList (the executable first).
 *
 * Normal context. Two passes over the goroutines run the same code: the first interns every string, function
 * and location; the second writes the samples, looking the same keys up again. So the tables are complete
 * before anything is written and nothing per sample is kept between the passes. Lookups are hash tables:
 * a hostile dump costs O(frames referenced) time, and memory proportional to the distinct entries.
 *
 * Nothing is invented: a frame without a function name is a Location without a Line (pprof shows its
 * address), an unknown file is "", an unknown line 0; strings that are not valid UTF-8 (proto3 strings must
 * be) have each bad sequence replaced by U+FFFD.
 */
#include "pprof.h"
#include "../read/grow.h"

#include "../read/mdread.h"
#include "../minidump/minidump.h"
#include "../render/render.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* profile.proto field numbers. */
enum {
    PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
    PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9, PROFILE_PERIOD_TYPE = 11,
    PROFILE_PERIOD = 12, PROFILE_COMMENT = 13,
    VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2,
    SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
    LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3,
    MAPPING_ID = 1, MAPPING_MEMORY_START = 2, MAPPING_MEMORY_LIMIT = 3, MAPPING_FILENAME = 5,
    MAPPING_BUILD_ID = 6, MAPPING_HAS_FUNCTIONS = 7, MAPPING_HAS_FILENAMES = 8, MAPPING_HAS_LINE_NUMBERS = 9,
    MAPPING_HAS_INLINE_FRAMES = 10,
    LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4,
    LINE_FUNCTION_ID = 1, LINE_LINE = 2,
    FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4,
};

#define GO_STATUS_WAITING 4   /* runtime _Gwaiting: the only status with a wait reason */
#define MAX_REASON_COMMENTS 64 /* lines of the panic/fatal error text kept as comments */

/* Open addressing over entry indexes; each table's entries keep their hash for rehashing. */
struct table {
    uint32_t *slots;          /* entry index + 1; 0 is free */
    size_t nslots;            /* a power of two, at least twice the entries */
    uint64_t *hash;           /* hash of entry i */
    size_t n, cap;
};

struct str { char *s; size_t n; };
struct func { uint64_t name, file; };
struct line { uint64_t func; int64_t line; };
struct loc { uint64_t addr, mapping; size_t first_line; uint32_t nlines; };
struct mapflags { int functions, filenames, lines, inlines; };

struct builder {
    const struct mdr_dump *md;
    struct str *strs;         /* entry i of str_t, and so on */
    struct table str_t;
    struct func *funcs;
    struct table func_t;
    struct loc *locs;
    struct table loc_t;
    size_t cap_strs, cap_funcs, cap_locs;
    struct line *lines;       /* the lines of every location, each location's contiguous */
    size_t nlines, cap_lines;
    struct mapflags *maps;    /* per ModuleList entry */
    struct line *scratch;     /* one physical frame's lines, while it is looked up */
    uint64_t *ids;            /* one goroutine's location ids */
    int nomem;
};

/* ---- hashing and tables ---- */

/* MurmurHash3's finalizer: every input bit reaches the low bits that pick a slot, so keys that differ only
 * in high bits (addresses a hostile dump chose) do not all probe the same run of slots. */
static uint64_t fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    return fmix(h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2)));
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return fmix(h);
}

/* Room for one more entry; -1 when memory ran out. */
static int table_reserve(struct builder *b, struct table *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        uint64_t *h = realloc(t->hash, cap * sizeof *h);
        if (!h)
            return b->nomem = 1, -1;
        t->hash = h;
        t->cap = cap;
    }
    if ((t->n + 1) * 2 > t->nslots) {
        size_t ns = t->nslots ? t->nslots * 2 : 128;
        uint32_t *s = calloc(ns, sizeof *s);
        if (!s)
            return b->nomem = 1, -1;
        for (size_t i = 0; i < t->n; i++) {
            size_t k = t->hash[i] & (ns - 1);
            while (s[k])
                k = (k + 1) & (ns - 1);
            s[k] = (uint32_t)i + 1;
        }
        free(t->slots);
        t->slots = s;
        t->nslots = ns;
    }
    return 0;
}

/* The slot of the entry equal to key (*found = 1), or the free slot where it would go. */
static uint32_t *table_slot(const struct builder *b, const struct table *t, uint64_t h,
                            int (*eq)(const struct builder *, size_t, const void *), const void *key, int *found)
{
    size_t k = h & (t->nslots - 1);

    for (;;) {
        uint32_t *s = &t->slots[k];
        if (*s == 0) {
            *found = 0;
            return s;
        }
        if (t->hash[*s - 1] == h && eq(b, *s - 1, key)) {
            *found = 1;
            return s;
        }
        k = (k + 1) & (t->nslots - 1);
    }
}

/* Look key up, or claim the next entry index for it (the caller fills the entry). Returns the index, or -1
 * when memory ran out; *added says whether it is new. */
static long table_intern(struct builder *b, struct table *t, uint64_t h,
                         int (*eq)(const struct builder *, size_t, const void *), const void *key, int *added)
{
    int found;

    *added = 0;
    if (table_reserve(b, t) != 0)
        return -1;
    uint32_t *s = table_slot(b, t, h, eq, key, &found);
    if (found)
        return (long)*s - 1;
    t->hash[t->n] = h;
    *s = (uint32_t)++t->n;
    *added = 1;
    return (long)t->n - 1;
}

static void table_free(struct table *t)
{
    free(t->slots);
    free(t->hash);
}

/* Grow an array of entries to hold index i. */
static int grow(struct builder *b, void **arr, size_t i, size_t *cap, size_t size)
{
    if (mdr_grow(arr, cap, i + 1, size, 64) < 0)
        return b->nomem = 1, -1;
    return 0;
}

/* ---- strings ---- */

/* s[0..n) with each invalid UTF-8 sequence as U+FFFD, NUL-terminated, on the heap. */
static char *utf8_copy(const char *s, size_t n, size_t *outn)
{
    char *out = malloc(n * 3 + 1), *o = out;

    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = render_utf8_next((const unsigned char *)s + i, n - i, &cp);

        if (cp == 0xfffd && !(k == 3 && memcmp(s + i, "\xef\xbf\xbd", 3) == 0)) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
        } else {
            memcpy(o, s + i, k);
            o += k;
        }
        i += k;
    }
    *o = '\0';
    *outn = (size_t)(o - out);
    return out;
}

struct str_key { const char *s; size_t n; };

static int str_eq(const struct builder *b, size_t i, const void *key)
{
    const struct str_key *k = key;
    return b->strs[i].n == k->n && memcmp(b->strs[i].s, k->s, k->n) == 0;
}

/* The string table index of s (NULL and "" are index 0). 0 with nomem set when memory ran out. Each table's
 * entry array is grown before the table claims an index, so a claimed entry is always filled. */
static uint64_t intern(struct builder *b, const char *s)
{
    size_t n;
    char *clean;
    int added;

    if (!s)
        s = "";
    if (grow(b, (void **)&b->strs, b->str_t.n, &b->cap_strs, sizeof *b->strs) != 0)
        return 0;
    clean = utf8_copy(s, strlen(s), &n);
    if (!clean)
        return b->nomem = 1, 0;
    struct str_key key = { clean, n };
    long i = table_intern(b, &b->str_t, hash_bytes(clean, n), str_eq, &key, &added);
    if (added)
        b->strs[i] = (struct str){ clean, n };
    else
        free(clean);
    return i < 0 ? 0 : (uint64_t)i;
}

/* ---- functions and locations ---- */

static int func_eq(const struct builder *b, size_t i, const void *key)
{
    const struct func *k = key;
    return b->funcs[i].name == k->name && b->funcs[i].file == k->file;
}

/* Function ids are entry index + 1 (0 is reserved in profile.proto). */
static uint64_t function_id(struct builder *b, const char *name, const char *file)
{
    struct func key = { intern(b, name), intern(b, file) };
    int added;

    if (b->nomem || grow(b, (void **)&b->funcs, b->func_t.n, &b->cap_funcs, sizeof *b->funcs) != 0)
        return 0;
    long i = table_intern(b, &b->func_t, mix(mix(0, key.name), key.file), func_eq, &key, &added);
    if (i < 0)
        return 0;
    if (added)
        b->funcs[i] = key;
    return (uint64_t)i + 1;
}

struct loc_key { uint64_t addr, mapping; const struct line *lines; uint32_t nlines; };

static int loc_eq(const struct builder *b, size_t i, const void *key)
{
    const struct loc_key *k = key;
    const struct loc *l = &b->locs[i];

    return l->addr == k->addr && l->mapping == k->mapping && l->nlines == k->nlines &&
           (k->nlines == 0 || memcmp(&b->lines[l->first_line], k->lines, k->nlines * sizeof *k->lines) == 0);
}

/* The Location of the physical frame made of g's source frames [k, j] (the inlined ones, then the one they
 * were inlined into). Its id, or 0 with nomem set. */
static uint64_t location_id(struct builder *b, const struct mdr_go_goroutine *g, size_t k, size_t j)
{
    const struct mdr_dump *md = b->md;
    const struct mdr_go_frame *f = &g->frames[k];
    const struct mdr_module *m = render_go_frame_module_at(md, g, k);
    /* As Go's runtime/pprof: the address of a caller's frame is inside its call instruction (return address
     * - 1); the innermost frame's pc is where the goroutine stands. The same rule picks the module. */
    struct loc_key key = { f->pc != g->frames[0].pc && f->pc > 0 ? f->pc - 1 : f->pc,
                           m ? (uint64_t)(m - md->modules) + 1 : 0, b->scratch, 0 };
    uint64_t h;
    int added;

    for (size_t i = k; i <= j; i++) {
        if (!g->frames[i].function)
            continue; /* a line needs a function: an unnamed frame adds none */
        b->scratch[key.nlines++] = (struct line){ function_id(b, g->frames[i].function, g->frames[i].file),
                                                  g->frames[i].line };
    }
    if (b->nomem || grow(b, (void **)&b->locs, b->loc_t.n, &b->cap_locs, sizeof *b->locs) != 0 ||
        grow(b, (void **)&b->lines, b->nlines + key.nlines, &b->cap_lines, sizeof *b->lines) != 0)
        return 0;
    h = mix(mix(1, key.addr), key.mapping);
    for (uint32_t i = 0; i < key.nlines; i++)
        h = mix(mix(h, b->scratch[i].func), (uint64_t)b->scratch[i].line);
    long i = table_intern(b, &b->loc_t, h, loc_eq, &key, &added);
    if (i < 0)
        return 0;
    if (!added)
        return (uint64_t)i + 1;
    memcpy(&b->lines[b->nlines], b->scratch, key.nlines * sizeof *b->scratch);
    b->locs[i] = (struct loc){ key.addr, key.mapping, b->nlines, key.nlines };
    b->nlines += key.nlines;
    if (m) {
        struct mapflags *mf = &b->maps[key.mapping - 1];

        mf->inlines |= key.nlines > 1;
        for (uint32_t l = 0; l < key.nlines; l++) {
            mf->functions = 1;
            mf->filenames |= b->funcs[b->scratch[l].func - 1].file != 0;
            mf->lines |= b->scratch[l].line > 0;
        }
    }
    return (uint64_t)i + 1;
}

/* g's stack as location ids into b->ids, innermost first; the count. Elided-frame markers are not frames:
 * their total goes to *elided. A physical frame is a run of inlined frames sharing one pc, closed by the frame
 * they were inlined into; a run that the dump breaks off (a different pc, a marker, the end) closes there. */
static size_t stack_locations(struct builder *b, const struct mdr_go_goroutine *g, uint64_t *elided)
{
    size_t n = 0;

    *elided = 0;
    for (size_t k = 0; k < g->nframes;) {
        const struct mdr_go_frame *f = &g->frames[k];
        size_t j = k;

        if (f->elided) {
            *elided += f->elided;
            k++;
            continue;
        }
        while (j + 1 < g->nframes && g->frames[j].inlined && !g->frames[j + 1].elided &&
               g->frames[j + 1].pc == f->pc)
            j++;
        b->ids[n++] = location_id(b, g, k, j);
        k = j + 1;
    }
    return n;
}

/* ---- samples ---- */

static void label_str(struct builder *b, struct pprof_pb *pb, const char *key, const char *value)
{
    uint64_t k = intern(b, key), v = intern(b, value);

    if (!pb)
        return;
    size_t start = pprof_pb_start(pb);
    pprof_pb_uint64_opt(pb, LABEL_KEY, k);
    pprof_pb_uint64_opt(pb, LABEL_STR, v);
    pprof_pb_end(pb, SAMPLE_LABEL, start);
}

static void label_num(struct builder *b, struct pprof_pb *pb, const char *key, uint64_t num)
{
    uint64_t k = intern(b, key);

    if (!pb)
        return;
    size_t start = pprof_pb_start(pb);
    pprof_pb_uint64_opt(pb, LABEL_KEY, k);
    pprof_pb_uint64(pb, LABEL_NUM, num); /* written even when 0, so that pprof sees a numeric label */
    pprof_pb_end(pb, SAMPLE_LABEL, start);
}

/* One goroutine's sample. pb == NULL: the first pass, which only interns what the second one writes. */
static void sample(struct builder *b, struct pprof_pb *pb, const struct mdr_go_goroutine *g)
{
    const struct mdr_go_info *go = &b->md->go;
    uint64_t elided, one = 1;
    size_t n = stack_locations(b, g, &elided);
    const char *status = render_go_status_name(g->status);
    char num[32];
    size_t start = pb ? pprof_pb_start(pb) : 0;

    if (pb) {
        pprof_pb_packed(pb, SAMPLE_LOCATION_ID, b->ids, n);
        pprof_pb_packed(pb, SAMPLE_VALUE, &one, 1);
    }
    label_num(b, pb, "goroutine", g->goid);
    if (!status) {
        snprintf(num, sizeof num, "status %" PRIu32, g->status);
        status = num;
    }
    label_str(b, pb, "status", status);
    if (g->status == GO_STATUS_WAITING && g->wait_reason && g->wait_reason[0])
        label_str(b, pb, "wait_reason", g->wait_reason);
    if (render_go_crashed(go, g))
        label_str(b, pb, "crashed", "true");
    if (g->flags & LG_GOROUTINE_LOCKED)
        label_str(b, pb, "locked_to_thread", "true");
    if (g->created_by_function)
        label_str(b, pb, "created_by", g->created_by_function);
    if ((g->flags & LG_GOROUTINE_TRUNCATED) || elided)
        label_str(b, pb, "stack", "truncated");
    if (pb)
        pprof_pb_end(pb, PROFILE_SAMPLE, start);
}

/* ---- the profile ---- */

static void value_type(struct pprof_pb *pb, uint32_t field, uint64_t type, uint64_t unit)
{
    size_t start = pprof_pb_start(pb);
    pprof_pb_uint64_opt(pb, VALUE_TYPE_TYPE, type);
    pprof_pb_uint64_opt(pb, VALUE_TYPE_UNIT, unit);
    pprof_pb_end(pb, field, start);
}

/* Comments (`go tool pprof -comments`): where the profile comes from, the Go version and program, why it
 * died, and what the dump could not hold. Their string indexes go to ids[]; the count. */
static size_t comments(struct builder *b, uint64_t *ids, size_t max)
{
    const struct mdr_go_info *go = &b->md->go;
    size_t n = 0, plen = 0;
    const char *path = render_go_program_path(go->build_info, &plen);
    char line[600];

    ids[n++] = intern(b, "goroutines at the crash, from a lastgasp dump (not a live profile)");
    if (go->go_version)
        ids[n++] = intern(b, go->go_version);
    if (path) {
        snprintf(line, sizeof line, "program: %.*s", (int)(plen < 512 ? plen : 512), path);
        ids[n++] = intern(b, line);
    }
    if (go->crashing_goid) {
        snprintf(line, sizeof line, "crashing goroutine: %" PRIu64, go->crashing_goid);
        ids[n++] = intern(b, line);
    }
    for (const char *r = go->reason; r && *r && n < max - 3;) {
        const char *e = strchr(r, '\n');
        size_t len = e ? (size_t)(e - r) : strlen(r);

        snprintf(line, sizeof line, "%.*s", (int)(len < 512 ? len : 512), r);
        ids[n++] = intern(b, line);
        r = e ? e + 1 : r + len;
    }
    if (go->flags & LG_GO_NO_GOROUTINE_LIST)
        ids[n++] = intern(b, "no goroutine list in the dump: only goroutines running on threads");
    if (go->flags & LG_GO_GOROUTINES_TRUNCATED)
        ids[n++] = intern(b, "goroutines cut at the dump's cap: not every goroutine is here");
    if (b->md->nwarnings) {
        snprintf(line, sizeof line, "the dump is damaged: %zu problems (lastgasp show lists them)",
                 b->md->nwarnings + b->md->warnings_dropped);
        ids[n++] = intern(b, line);
    }
    return n;
}

static void emit(struct builder *b, struct pprof_pb *pb, const uint64_t *comment_ids, size_t ncomments)
{
    const struct mdr_dump *md = b->md;
    uint64_t goroutine = intern(b, "goroutine"), count = intern(b, "count");

    value_type(pb, PROFILE_SAMPLE_TYPE, goroutine, count);
    for (size_t i = 0; i < md->go.ngoroutines; i++)
        sample(b, pb, &md->go.goroutines[i]);
    for (size_t i = 0; i < md->nmodules; i++) {
        const struct mdr_module *m = &md->modules[i];
        const struct mapflags *mf = &b->maps[i];
        uint64_t file = intern(b, m->path), id = intern(b, m->build_id);
        size_t start = pprof_pb_start(pb);

        pprof_pb_uint64_opt(pb, MAPPING_ID, i + 1);
        pprof_pb_uint64_opt(pb, MAPPING_MEMORY_START, m->base);
        pprof_pb_uint64_opt(pb, MAPPING_MEMORY_LIMIT, m->base + m->size);
        pprof_pb_uint64_opt(pb, MAPPING_FILENAME, file);
        pprof_pb_uint64_opt(pb, MAPPING_BUILD_ID, id);
        pprof_pb_bool_opt(pb, MAPPING_HAS_FUNCTIONS, mf->functions);
        pprof_pb_bool_opt(pb, MAPPING_HAS_FILENAMES, mf->filenames);
        pprof_pb_bool_opt(pb, MAPPING_HAS_LINE_NUMBERS, mf->lines);
        pprof_pb_bool_opt(pb, MAPPING_HAS_INLINE_FRAMES, mf->inlines);
        pprof_pb_end(pb, PROFILE_MAPPING, start);
    }
    for (size_t i = 0; i < b->loc_t.n; i++) {
        const struct loc *l = &b->locs[i];
        size_t start = pprof_pb_start(pb);

        pprof_pb_uint64_opt(pb, LOCATION_ID, i + 1);
        pprof_pb_uint64_opt(pb, LOCATION_MAPPING_ID, l->mapping);
        pprof_pb_uint64_opt(pb, LOCATION_ADDRESS, l->addr);
        for (uint32_t k = 0; k < l->nlines; k++) {
            size_t ls = pprof_pb_start(pb);
            pprof_pb_uint64_opt(pb, LINE_FUNCTION_ID, b->lines[l->first_line + k].func);
            pprof_pb_int64_opt(pb, LINE_LINE, b->lines[l->first_line + k].line);
            pprof_pb_end(pb, LOCATION_LINE, ls);
        }
        pprof_pb_end(pb, PROFILE_LOCATION, start);
    }
    for (size_t i = 0; i < b->func_t.n; i++) {
        size_t start = pprof_pb_start(pb);

        pprof_pb_uint64_opt(pb, FUNCTION_ID, i + 1);
        pprof_pb_uint64_opt(pb, FUNCTION_NAME, b->funcs[i].name);
        pprof_pb_uint64_opt(pb, FUNCTION_SYSTEM_NAME, b->funcs[i].name);
        pprof_pb_uint64_opt(pb, FUNCTION_FILENAME, b->funcs[i].file);
        pprof_pb_end(pb, PROFILE_FUNCTION, start);
    }
    for (size_t i = 0; i < b->str_t.n; i++)
        pprof_pb_bytes(pb, PROFILE_STRING_TABLE, b->strs[i].s, b->strs[i].n);
    if (md->lg.present && md->lg.time_ns <= INT64_MAX)
        pprof_pb_int64_opt(pb, PROFILE_TIME_NANOS, (int64_t)md->lg.time_ns);
    value_type(pb, PROFILE_PERIOD_TYPE, goroutine, count);
    pprof_pb_int64_opt(pb, PROFILE_PERIOD, 1);
    pprof_pb_packed(pb, PROFILE_COMMENT, comment_ids, ncomments);
}

int pprof_profile_build(struct pprof_pb *out, const struct mdr_dump *md)
{
    struct builder *b = calloc(1, sizeof *b);
    uint64_t comment_ids[MAX_REASON_COMMENTS + 8];
    size_t ncomments, nstrs, maxframes = 1; /* frames in the longest stack (bounded by the reader) */
    int rc = -1;

    if (!b)
        return -1;
    b->md = md;
    for (size_t i = 0; i < md->go.ngoroutines; i++)
        maxframes = md->go.goroutines[i].nframes > maxframes ? md->go.goroutines[i].nframes : maxframes;
    b->maps = calloc(md->nmodules ? md->nmodules : 1, sizeof *b->maps);
    b->scratch = calloc(maxframes, sizeof *b->scratch);
    b->ids = calloc(maxframes, sizeof *b->ids);
    if (!b->maps || !b->scratch || !b->ids)
        goto done;
    intern(b, ""); /* index 0, as profile.proto requires */
    for (size_t i = 0; i < md->go.ngoroutines && !b->nomem; i++)
        sample(b, NULL, &md->go.goroutines[i]);
    for (size_t i = 0; i < md->nmodules; i++) {
        intern(b, md->modules[i].path);
        intern(b, md->modules[i].build_id);
    }
    intern(b, "goroutine");
    intern(b, "count");
    ncomments = comments(b, comment_ids, sizeof comment_ids / sizeof comment_ids[0]);
    if (b->nomem)
        goto done;
    nstrs = b->str_t.n;
    emit(b, out, comment_ids, ncomments);
    /* The second pass looked up what the first one interned: it must have found everything. */
    if (!b->nomem && !out->nomem && b->str_t.n == nstrs)
        rc = 0;
done:
    for (size_t i = 0; i < b->str_t.n; i++)
        free(b->strs[i].s);
    free(b->strs);
    free(b->funcs);
    free(b->locs);
    free(b->lines);
    free(b->maps);
    free(b->scratch);
    free(b->ids);
    table_free(&b->str_t);
    table_free(&b->func_t);
    table_free(&b->loc_t);
    free(b);
    return rc;
}
