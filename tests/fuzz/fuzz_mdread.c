/* fuzz_mdread.c — libFuzzer target for the minidump reader and both renderers.
 *
 * Each input is parsed with mdr_open() and rendered with `show`, `json`, `html` and as a crash server's event
 * (formats/ship/event.c) into memory; beyond "no
 * crash, no out-of-bounds read" (ASan/UBSan), the target checks the promises the reader and the renderers make
 * about hostile input: every goroutine's frames lie inside the Go stream's frame records, within the reader's
 * bound; the JSON (and the event's) is one valid JSON object (strict RFC 8259, valid UTF-8); the text report holds no control
 * characters but newlines and tabs, so a dump cannot drive the terminal that shows it; and the HTML page holds
 * none either, and no markup but the renderer's own tags (tests/unit/html_check.h), so a dump cannot put
 * markup or script on the page. For a dump with a Go stream, the `lastgasp pprof` profile is built and read
 * back by pb_check.h: well-formed, every reference inside its table, every string valid UTF-8. The input
 * itself also goes to the JSON reader (formats/json/), whose verdict must be the checker's below.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE formats/read/ formats/render/
 *        formats/minidump/signames.c formats/ship/event.c tests/fuzz/fuzz_mdread.c
 * Run on a copy of tests/fuzz/corpus (libFuzzer adds its finds to the first directory) with
 * -dict=tests/fuzz/mdread.dict. The seeds are rebuilt by `test_mdread --write-corpus tests/fuzz/corpus`.
 */
#include "../../formats/json/json.h"
#include "../../formats/read/mdread.h"
#include "../../formats/pprof/pprof.h"
#include "../../formats/render/render.h"
#include "../../formats/ship/ship.h"
#include "../unit/html_check.h"
#include "../unit/pb_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a strict JSON checker ---- */

struct js {
    const unsigned char *p, *end;
    int depth;
};

static int js_value(struct js *j);

static void js_ws(struct js *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int js_hex4(struct js *j, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++, j->p++) {
        unsigned char c = j->p < j->end ? *j->p : 0;

        if (c >= '0' && c <= '9')
            *v = *v * 16 + (c - '0');
        else if (c >= 'a' && c <= 'f')
            *v = *v * 16 + (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v = *v * 16 + (c - 'A' + 10);
        else
            return 0;
    }
    return 1;
}

static int js_string(struct js *j)
{
    if (j->p >= j->end || *j->p != '"')
        return 0;
    j->p++;
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = *j->p;

        if (c < 0x20)
            return 0;
        if (c == '\\') {
            unsigned v, lo;

            if (++j->p >= j->end)
                return 0;
            c = *j->p++;
            if (strchr("\"\\/bfnrt", c) && c)
                continue;
            if (c != 'u' || !js_hex4(j, &v))
                return 0;
            if (v >= 0xdc00 && v <= 0xdfff)
                return 0; /* lone low surrogate */
            if (v >= 0xd800 && v <= 0xdbff) {
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                    return 0;
                j->p += 2;
                if (!js_hex4(j, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return 0;
            }
            continue;
        }
        if (c >= 0x80) {
            uint32_t cp;
            size_t k = render_utf8_next(j->p, (size_t)(j->end - j->p), &cp);

            /* U+FFFD is fine only as the real 3-byte character, never as a stand-in for bad bytes. */
            if (cp == 0xfffd && !(k == 3 && j->p[0] == 0xef))
                return 0;
            j->p += k;
            continue;
        }
        j->p++;
    }
    if (j->p >= j->end)
        return 0;
    j->p++;
    return 1;
}

static int js_digits(struct js *j)
{
    const unsigned char *start = j->p;

    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > start;
}

static int js_number(struct js *j)
{
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (!js_digits(j))
        return 0;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!js_digits(j))
            return 0;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!js_digits(j))
            return 0;
    }
    return 1;
}

static int js_word(struct js *j, const char *w)
{
    size_t n = strlen(w);

    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return 0;
    j->p += n;
    return 1;
}

/* Object or array: open/close brackets, members separated by commas. */
static int js_container(struct js *j, int object)
{
    int first = 1;

    if (++j->depth > 64)
        return 0;
    j->p++;
    for (;;) {
        js_ws(j);
        if (j->p < j->end && *j->p == (object ? '}' : ']')) {
            j->p++;
            j->depth--;
            return 1;
        }
        if (!first) {
            if (j->p >= j->end || *j->p != ',')
                return 0;
            j->p++;
            js_ws(j);
        }
        first = 0;
        if (object) {
            if (!js_string(j))
                return 0;
            js_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return 0;
            j->p++;
        }
        if (!js_value(j))
            return 0;
    }
}

static int js_value(struct js *j)
{
    js_ws(j);
    if (j->p >= j->end)
        return 0;
    switch (*j->p) {
    case '{': return js_container(j, 1);
    case '[': return js_container(j, 0);
    case '"': return js_string(j);
    case 't': return js_word(j, "true");
    case 'f': return js_word(j, "false");
    case 'n': return js_word(j, "null");
    default: return js_number(j);
    }
}

/* The checker above is this target's own, independent of formats/json/: every document the writer makes
 * must pass it, and the tool's reader must take it too. */
static void check_json(const char *buf, size_t len)
{
    struct js j = { (const unsigned char *)buf, (const unsigned char *)buf + len, 0 };
    static struct json_tok tok[1 << 16];
    struct json_doc d;

    if (len == 0 || buf[0] != '{' || !js_value(&j)) {
        fprintf(stderr, "invalid JSON near offset %zu\n", (size_t)((const char *)j.p - buf));
        abort();
    }
    js_ws(&j);
    if (j.p != j.end) {
        fprintf(stderr, "trailing bytes after the JSON object at offset %zu\n", (size_t)((const char *)j.p - buf));
        abort();
    }
    if (json_parse(&d, buf, len, tok, sizeof tok / sizeof *tok) != 0 && !strstr(d.error, "room")) {
        fprintf(stderr, "the JSON reader refuses the writer's JSON: %s\n", d.error);
        abort();
    }
}

/* The reader (formats/json/json_read.c) on the raw input, against the checker above: both must say the same
 * of any text, except past the reader's nesting limit (the checker allows 64) and for \uD800-\uDFFF escapes,
 * which the checker refuses unpaired and the reader takes (as U+FFFD). One token per byte is always room. */
static void check_json_reader(const uint8_t *data, size_t size)
{
    static struct json_tok tok[8192 + 1];
    struct json_doc d;
    struct js j = { data, data + size, 0 };

    if (size + 1 > sizeof tok / sizeof *tok)
        return;
    int mine = json_parse(&d, (const char *)data, size, tok, size + 1) == 0;
    int theirs = js_value(&j);
    js_ws(&j);
    theirs = theirs && j.p == j.end;
    int surrogate = 0;
    for (size_t i = 0; i + 3 < size && !surrogate; i++)
        surrogate = data[i] == '\\' && data[i + 1] == 'u' && (data[i + 2] | 0x20) == 'd' &&
                    strchr("89abcdefABCDEF", data[i + 3]) && data[i + 3];
    if (mine == theirs || (!mine && strstr(d.error, "nested deeper")) || surrogate)
        return;
    fprintf(stderr, "the JSON reader %s what the checker %s (%s)\n", mine ? "takes" : "refuses",
            theirs ? "takes" : "refuses", mine ? "" : d.error);
    abort();
}

/* The text report: valid UTF-8, no C0/C1 control characters but newline and tab. */
static void check_text(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;

    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = render_utf8_next(p + i, len - i, &cp);

        if ((cp == 0xfffd && !(k == 3 && p[i] == 0xef)) || (cp < 0x20 && cp != '\n' && cp != '\t') ||
            cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
            fprintf(stderr, "bad character U+%04x at offset %zu of the text report\n", (unsigned)cp, i);
            abort();
        }
        i += k;
    }
}

/* The reader's promise about the Go stream: frame ranges may overlap (shared stacks), but each one lies
 * inside frames[] and holds at most MDR_GO_MAX_GOROUTINE_FRAMES frames. */
static void check_go(const struct mdr_dump *md)
{
    const struct mdr_go_info *go = &md->go;

    for (size_t i = 0; i < go->ngoroutines; i++) {
        const struct mdr_go_goroutine *g = &go->goroutines[i];

        if (g->nframes > MDR_GO_MAX_GOROUTINE_FRAMES || (g->nframes && !g->frames) ||
            (g->nframes && (g->frames < go->frames || (size_t)(g->frames - go->frames) > go->nframes ||
                            g->nframes > go->nframes - (size_t)(g->frames - go->frames)))) {
            fprintf(stderr, "goroutine %zu: frames outside the Go stream's frame records\n", i);
            abort();
        }
        /* The lookups on values taken from the file itself. */
        if (i < 16 && g->nframes)
            (void)mdr_module_at(md, g->frames[0].pc);
    }
}

/* The goroutine profile of a hostile dump is a valid profile (pb_check.h), one sample per goroutine. */
static void check_pprof(const struct mdr_dump *md)
{
    struct pprof_pb pb = {0};
    struct pbc_profile pr;
    char why[256];

    if (!md->go.present || pprof_profile_build(&pb, md) != 0) {
        pprof_pb_free(&pb);
        return;
    }
    if (pbc_parse(&pr, pb.buf, pb.len, why, sizeof why) != 0 || pr.sample.n != md->go.ngoroutines) {
        fprintf(stderr, "pprof profile not valid: %s (%zu samples, %zu goroutines)\n", why, pr.sample.n,
                md->go.ngoroutines);
        abort();
    }
    pbc_free(&pr);
    pprof_pb_free(&pb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mdr_dump md;
    char err[256], *buf = NULL;
    size_t len = 0;
    FILE *out;

    check_json_reader(data, size);
    if (mdr_open(&md, data, size, err, sizeof err) == MDR_OK) {
        /* The lookups on values taken from the file itself. */
        for (size_t i = 0; i < md.lg.nframes && i < 16; i++)
            (void)mdr_module_at(&md, md.lg.frames[i].pc);
        for (size_t i = 0; i < md.lg.nthreads && i < 16; i++)
            (void)mdr_thread_by_tid(&md, md.lg.threads[i].tid);
        check_go(&md);

        out = open_memstream(&buf, &len);
        if (out && render_json(out, &md) == 0 && fflush(out) == 0)
            check_json(buf, len);
        if (out)
            fclose(out);
        free(buf);
        buf = NULL;

        /* The crash-server event (formats/ship/event.c) of the same dump: one valid JSON object too. */
        buf = ship_event(&md, NULL, NULL, "00000000000000000000000000000000", &len);
        if (buf)
            check_json(buf, len);
        free(buf);
        buf = NULL;

        out = open_memstream(&buf, &len);
        if (out && render_show(out, &md) == 0 && fflush(out) == 0)
            check_text(buf, len);
        if (out)
            fclose(out);
        free(buf);
        buf = NULL;

        out = open_memstream(&buf, &len);
        if (out && render_html(out, &md) == 0 && fflush(out) == 0) {
            size_t where;

            check_text(buf, len);
            if (!html_check_page(buf, len, &where)) {
                fprintf(stderr, "markup that is not the renderer's at offset %zu of the page: %.80s\n", where,
                        where < len ? buf + where : "(tags unbalanced)");
                abort();
            }
        }
        if (out)
            fclose(out);
        free(buf);
        check_pprof(&md);
    }
    mdr_close(&md);
    return 0;
}
