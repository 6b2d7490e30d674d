/* mdread_crashpad.c — parser for Crashpad's info stream (MD_CRASHPAD_INFO_STREAM): the process annotations.
 *
 * Normal context. The stream is Crashpad's fixed struct; the dictionary and its MinidumpUTF8Strings lie
 * wherever their rvas say, each checked with mdr_at(). A bad entry is skipped with a warning and the others
 * are kept (rust-minidump drops the whole dictionary instead; being kinder costs nothing here). Duplicate keys
 * are dropped, the first one wins, so that `lastgasp json` can print the dictionary as a JSON object; they are
 * found by sorting, so a hostile dictionary costs O(n log n) comparisons, not O(n^2).
 */
#include "mdread_int.h"

#include <stdlib.h>
#include <string.h>

/* A MinidumpUTF8String at rva as a heap copy (NUL-terminated, length in *len), cut at the reader's bound. */
static char *utf8_string(struct mdr_reader *rd, uint32_t rva, size_t *len, size_t idx, const char *what)
{
    const uint8_t *p = mdr_at(rd, rva, 4);
    uint32_t n;
    size_t keep;
    char *out;

    if (!p) {
        mdr_warn(rd, "CrashpadInfo: annotation %zu %s: string at rva 0x%x passes end of file (size 0x%zx)",
                    idx, what, (unsigned)rva, rd->md->len);
        return NULL;
    }
    memcpy(&n, p, 4);
    p = mdr_at(rd, (uint64_t)rva + 4, n);
    if (!p) {
        mdr_warn(rd, "CrashpadInfo: annotation %zu %s: string at rva 0x%x length 0x%x passes end of file "
                    "(size 0x%zx)", idx, what, (unsigned)rva, (unsigned)n, rd->md->len);
        return NULL;
    }
    keep = n;
    if (keep > MDR_MAX_ANNOTATION_LEN) {
        mdr_warn(rd, "CrashpadInfo: annotation %zu %s: %u bytes, cut at the reader's bound of %u", idx, what,
                    (unsigned)n, MDR_MAX_ANNOTATION_LEN);
        keep = MDR_MAX_ANNOTATION_LEN;
    } else {
        /* Crashpad's readers insist on the terminator; say so when a producer left it out, and read on. */
        const uint8_t *nul = mdr_at(rd, (uint64_t)rva + 4 + n, 1);

        if (!nul || *nul != 0)
            mdr_warn(rd, "CrashpadInfo: annotation %zu %s: string at rva 0x%x lacks its NUL terminator", idx,
                        what, (unsigned)rva);
    }
    out = mdr_calloc(rd, keep + 1, 1);
    if (!out)
        return NULL;
    memcpy(out, p, keep);
    *len = keep;
    return out;
}

static int key_cmp(const void *a, const void *b)
{
    const struct mdr_annotation *x = *(const struct mdr_annotation *const *)a;
    const struct mdr_annotation *y = *(const struct mdr_annotation *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);

    if (c)
        return c;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    return x < y ? -1 : x > y; /* equal keys: dictionary order, so the first one sorts first */
}

/* Drop every annotation whose key an earlier one already has; keeps the order of the rest. */
static void drop_duplicates(struct mdr_reader *rd, struct mdr_crashpad *cp)
{
    struct mdr_annotation **order = mdr_calloc(rd, cp->nannotations, sizeof *order);
    size_t i, out = 0, dropped = 0;

    if (!order)
        return;
    for (i = 0; i < cp->nannotations; i++)
        order[i] = &cp->annotations[i];
    qsort(order, cp->nannotations, sizeof *order, key_cmp);
    /* Equal keys sort together, the dictionary's first one ahead of the others. */
    const struct mdr_annotation *kept = order[0];
    for (i = 1; i < cp->nannotations; i++) {
        struct mdr_annotation *a = order[i];

        if (a->key_len == kept->key_len && memcmp(a->key, kept->key, a->key_len) == 0) {
            free(a->key);
            free(a->value);
            a->key = NULL; /* dropped; compacted below */
            dropped++;
        } else {
            kept = a;
        }
    }
    free(order);
    if (!dropped)
        return;
    mdr_warn(rd, "CrashpadInfo: %zu annotations repeat an earlier key; dropped (the first one wins)", dropped);
    for (i = 0; i < cp->nannotations; i++)
        if (cp->annotations[i].key)
            cp->annotations[out++] = cp->annotations[i];
    cp->nannotations = out;
}

void mdr_read_crashpad(struct mdr_reader *rd, const struct mdr_span *s)
{
    struct mdr_crashpad *cp = &rd->md->crashpad;
    struct md_crashpad_info ci;
    const struct md_location *loc = &ci.simple_annotations;
    const uint8_t *dict;
    uint32_t count;
    size_t fit, n, i;

    if (s->n < sizeof ci) {
        mdr_warn(rd, "CrashpadInfo: stream is 0x%zx bytes, needs 0x%zx; ignored", s->n, sizeof ci);
        return;
    }
    memcpy(&ci, s->p, sizeof ci);
    if (ci.version == 0) {
        mdr_warn(rd, "CrashpadInfo: version 0 is not a version; ignored");
        return;
    }
    cp->present = 1;
    cp->version = ci.version;
    if (loc->data_size == 0)
        return;
    dict = mdr_at(rd, loc->rva, loc->data_size);
    if (!dict || loc->data_size < 4) {
        mdr_warn(rd, "CrashpadInfo: annotation dictionary at rva 0x%x size 0x%x %s", (unsigned)loc->rva,
                    (unsigned)loc->data_size, dict ? "is too short for its count" : "passes end of file");
        return;
    }
    memcpy(&count, dict, 4);
    fit = (loc->data_size - 4) / sizeof(struct md_simple_string_dictionary_entry);
    n = count;
    if (n > fit) {
        mdr_warn(rd, "CrashpadInfo: annotation count %u does not fit the dictionary's 0x%x bytes; reading %zu",
                    (unsigned)count, (unsigned)loc->data_size, fit);
        n = fit;
    }
    if (n > MDR_MAX_ANNOTATIONS) {
        mdr_warn(rd, "CrashpadInfo: %zu annotations, more than the reader's bound of %u; the rest ignored", n,
                    MDR_MAX_ANNOTATIONS);
        n = MDR_MAX_ANNOTATIONS;
    }
    cp->annotations = mdr_calloc(rd, n, sizeof *cp->annotations);
    if (!cp->annotations)
        return;
    for (i = 0; i < n; i++) {
        struct mdr_annotation *a = &cp->annotations[cp->nannotations];
        struct md_simple_string_dictionary_entry e;

        memcpy(&e, dict + 4 + i * sizeof e, sizeof e);
        a->key = utf8_string(rd, e.key_rva, &a->key_len, i, "key");
        a->value = a->key ? utf8_string(rd, e.value_rva, &a->value_len, i, "value") : NULL;
        if (a->key && a->key_len == 0)
            mdr_warn(rd, "CrashpadInfo: annotation %zu has an empty key; ignored", i);
        if (!a->key || !a->value || a->key_len == 0) {
            free(a->key);
            free(a->value);
            memset(a, 0, sizeof *a);
            continue;
        }
        cp->nannotations++;
    }
    drop_duplicates(rd, cp);
}
