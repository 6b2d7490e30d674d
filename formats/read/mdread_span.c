/* mdread_span.c — the bounded reads every stream parser goes through: a range checked against the file, lists
 * whose count is checked against their bytes, MINIDUMP_STRINGs, allocations that fail into a warning, the
 * warnings themselves. A leaf of formats/read/: the parsers and the core call it, it calls none of them.
 *
 * Normal context (the tool), never the handler.
 */
#include "mdread_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mdr_warn(struct mdr_reader *rd, const char *fmt, ...)
{
    struct mdr_dump *md = rd->md;
    char line[512];
    va_list ap;

    if (md->nwarnings >= MDR_MAX_WARNINGS) {
        md->warnings_dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!md->warnings) {
        md->warnings = calloc(MDR_MAX_WARNINGS, sizeof *md->warnings);
        if (!md->warnings) {
            md->warnings_dropped++;
            return;
        }
    }
    md->warnings[md->nwarnings] = strdup(line);
    if (md->warnings[md->nwarnings])
        md->nwarnings++;
    else
        md->warnings_dropped++;
}

const uint8_t *mdr_at(const struct mdr_reader *rd, uint64_t off, uint64_t n)
{
    uint64_t len = rd->md->len;

    if (off > len || n > len - off)
        return NULL;
    return rd->md->buf + off;
}

void *mdr_calloc(struct mdr_reader *rd, size_t count, size_t size)
{
    void *p;

    if (count == 0)
        return NULL;
    p = calloc(count, size);
    if (!p)
        rd->nomem = 1;
    return p;
}

size_t mdr_list(struct mdr_reader *rd, const struct mdr_span *s, size_t entry_size, size_t *first)
{
    char label[64];
    uint32_t count;
    size_t fit;

    *first = 4;
    mdr_type_label(s->type, label, sizeof label);
    if (s->n < 4) {
        mdr_warn(rd, "stream %s is 0x%zx bytes, too short for its entry count", label, s->n);
        return 0;
    }
    memcpy(&count, s->p, 4);
    /* Some producers align the entries to 8 bytes, leaving 4 bytes of padding after the count; accept that
     * only when the sizes say so exactly, as Breakpad's processor does. */
    if (s->n == 8 + (uint64_t)count * entry_size)
        *first = 8;
    fit = (s->n - *first) / entry_size;
    if (count <= fit)
        return count;
    mdr_warn(rd, "stream %s: count %u needs 0x%llx bytes, stream has 0x%zx; reading %zu", label,
                (unsigned)count, (unsigned long long)(*first + (uint64_t)count * entry_size), s->n, fit);
    return fit;
}

/* Append code point cp as UTF-8; the caller sized out for 4 bytes per code point. */
static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

char *mdr_string(struct mdr_reader *rd, uint32_t rva, const char *who)
{
    const uint8_t *p = mdr_at(rd, rva, 4);
    uint32_t bytes;
    size_t units, i, o = 0;
    char *out;

    if (!p) {
        mdr_warn(rd, "%s: string at rva 0x%x passes end of file (size 0x%zx)", who, (unsigned)rva,
                    rd->md->len);
        return NULL;
    }
    memcpy(&bytes, p, 4);
    if (bytes & 1)
        mdr_warn(rd, "%s: string at rva 0x%x has odd byte length 0x%x; last byte ignored", who,
                    (unsigned)rva, (unsigned)bytes);
    p = mdr_at(rd, (uint64_t)rva + 4, bytes & ~1u);
    if (!p) {
        mdr_warn(rd, "%s: string at rva 0x%x length 0x%x passes end of file (size 0x%zx)", who,
                    (unsigned)rva, (unsigned)bytes, rd->md->len);
        return NULL;
    }
    units = bytes / 2;
    /* 3 bytes per unit covers everything: a surrogate pair is 2 units and 4 bytes. */
    out = mdr_calloc(rd, units * 3 + 1, 1);
    if (!out)
        return NULL;
    for (i = 0; i < units; i++) {
        uint32_t u = (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;

        if (u >= 0xd800 && u <= 0xdbff && i + 1 < units) {
            uint32_t lo = (uint32_t)p[2 * i + 2] | (uint32_t)p[2 * i + 3] << 8;

            if (lo >= 0xdc00 && lo <= 0xdfff) {
                o += put_utf8(out + o, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
                i++;
                continue;
            }
        }
        /* Unpaired surrogates are not characters; an embedded NUL would silently cut the C string. */
        if ((u >= 0xd800 && u <= 0xdfff) || u == 0)
            u = 0xfffd;
        o += put_utf8(out + o, u);
    }
    out[o] = '\0';
    return out;
}
