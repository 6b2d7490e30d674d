/* json_write.c — the streaming JSON writer (json.h says what it promises).
 *
 * Normal context. State is one small struct on the caller's stack: a stack of JSON_MAX_DEPTH open containers,
 * each remembering whether it is an object and whether it has a member yet (so the writer, not the caller,
 * places every comma). Any refusal sets w->err once and every later call returns at once, so the output is
 * always a prefix of valid JSON and the caller checks one thing at the end: json_w_finish().
 */
#include "json.h"

#include <string.h>

static int file_sink(const void *p, size_t n, void *ctx)
{
    return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

void json_w_init(struct json_w *w, json_sink sink, void *ctx)
{
    memset(w, 0, sizeof *w);
    w->sink = sink;
    w->ctx = ctx;
}

void json_w_init_file(struct json_w *w, FILE *f) { json_w_init(w, file_sink, f); }

int json_w_finish(const struct json_w *w)
{
    return w->err == JSON_W_OK && w->done && w->depth == 0 ? 0 : -1;
}

const char *json_w_strerror(const struct json_w *w)
{
    switch (w->err) {
    case JSON_W_OK: return w->done && w->depth == 0 ? NULL : "the value is not complete";
    case JSON_W_SINK: return "write error";
    case JSON_W_DEPTH: return "nesting deeper than the writer's limit";
    case JSON_W_MISUSE: return "a call that would not make JSON";
    }
    return "unknown error";
}

static void put(struct json_w *w, const void *p, size_t n)
{
    if (w->err || n == 0)
        return;
    if (w->sink(p, n, w->ctx) != 0) {
        w->err = JSON_W_SINK;
        return;
    }
    w->bytes += n;
}

static void fail(struct json_w *w, enum json_w_error e)
{
    if (!w->err)
        w->err = e;
}

/* Before a value: is one allowed here (after a key in an object, anywhere in an array, once at the top), and
 * the comma before it in an array. 0 to go on. */
static int value_begins(struct json_w *w)
{
    if (w->err)
        return -1;
    if (w->depth == 0) {
        if (w->done)
            fail(w, JSON_W_MISUSE);
    } else if (w->in_object[w->depth - 1]) {
        if (!w->want_value)
            fail(w, JSON_W_MISUSE);
        w->want_value = 0;
    } else if (w->has_member[w->depth - 1]) {
        put(w, ",", 1);
    } else {
        w->has_member[w->depth - 1] = 1;
    }
    return w->err ? -1 : 0;
}

static void value_ends(struct json_w *w)
{
    if (w->depth == 0 && !w->err)
        w->done = 1;
}

static void container_open(struct json_w *w, int object)
{
    if (value_begins(w) != 0)
        return;
    if (w->depth == JSON_MAX_DEPTH) {
        fail(w, JSON_W_DEPTH);
        return;
    }
    put(w, object ? "{" : "[", 1);
    w->in_object[w->depth] = (unsigned char)object;
    w->has_member[w->depth] = 0;
    w->depth++;
}

static void container_close(struct json_w *w, int object)
{
    if (w->err)
        return;
    if (w->depth == 0 || w->in_object[w->depth - 1] != object || w->want_value) {
        fail(w, JSON_W_MISUSE);
        return;
    }
    put(w, object ? "}" : "]", 1);
    w->depth--;
    value_ends(w);
}

void json_obj(struct json_w *w) { container_open(w, 1); }
void json_obj_end(struct json_w *w) { container_close(w, 1); }
void json_arr(struct json_w *w) { container_open(w, 0); }
void json_arr_end(struct json_w *w) { container_close(w, 0); }

/* The quoted, escaped text of s[0..n). Runs of bytes that need nothing go to the sink in one piece. */
static void quoted(struct json_w *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;

    put(w, "\"", 1);
    while (i < n && !w->err) {
        uint32_t cp;
        size_t k = json_utf8_next(p + i, n - i, &cp);
        char esc[6];
        size_t en = 2;

        esc[0] = '\\';
        switch (cp) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            /* U+FFFD is escaped whether it stood in the text or stands for bad bytes: one form for both. */
            if (cp < 0x20 || cp == 0x7f || cp == 0xfffd) {
                esc[1] = 'u';
                esc[2] = hex[cp >> 12 & 0xf];
                esc[3] = hex[cp >> 8 & 0xf];
                esc[4] = hex[cp >> 4 & 0xf];
                esc[5] = hex[cp & 0xf];
                en = 6;
            } else {
                en = 0;
            }
        }
        if (en) {
            put(w, p + i - run, run);
            put(w, esc, en);
            run = 0;
        } else {
            run += k;
        }
        i += k;
    }
    put(w, p + i - run, run);
    put(w, "\"", 1);
}

void json_key_n(struct json_w *w, const char *k, size_t n)
{
    if (w->err)
        return;
    if (w->depth == 0 || !w->in_object[w->depth - 1] || w->want_value || !k) {
        fail(w, JSON_W_MISUSE);
        return;
    }
    if (w->has_member[w->depth - 1])
        put(w, ",", 1);
    w->has_member[w->depth - 1] = 1;
    quoted(w, k, n);
    put(w, ":", 1);
    w->want_value = 1;
}

void json_key(struct json_w *w, const char *k) { json_key_n(w, k, k ? strlen(k) : 0); }

static void scalar(struct json_w *w, const char *text, size_t n)
{
    if (value_begins(w) != 0)
        return;
    put(w, text, n);
    value_ends(w);
}

void json_null(struct json_w *w) { scalar(w, "null", 4); }
void json_bool(struct json_w *w, int b) { scalar(w, b ? "true" : "false", b ? 4 : 5); }

/* Decimal digits of v at the end of buf[0..24), returns where they start. */
static char *digits(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

void json_u64(struct json_w *w, uint64_t v)
{
    char buf[24], *end = buf + sizeof buf, *p = digits(end, v);
    scalar(w, p, (size_t)(end - p));
}

void json_i64(struct json_w *w, int64_t v)
{
    char buf[24], *end = buf + sizeof buf;
    /* -(v + 1) + 1 keeps INT64_MIN representable */
    char *p = v < 0 ? digits(end, (uint64_t)(-(v + 1)) + 1) : digits(end, (uint64_t)v);

    if (v < 0)
        *--p = '-';
    scalar(w, p, (size_t)(end - p));
}

void json_hex(struct json_w *w, uint64_t v)
{
    char buf[24], *end = buf + sizeof buf, *p = end;

    *--p = '"';
    do {
        *--p = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    } while (v);
    *--p = 'x';
    *--p = '0';
    *--p = '"';
    scalar(w, p, (size_t)(end - p));
}

void json_str_n(struct json_w *w, const char *s, size_t n)
{
    if (!s) {
        json_null(w);
        return;
    }
    if (value_begins(w) != 0)
        return;
    quoted(w, s, n);
    value_ends(w);
}

void json_str(struct json_w *w, const char *s) { json_str_n(w, s, s ? strlen(s) : 0); }

void json_raw(struct json_w *w, const char *text, size_t n)
{
    if (!text || n == 0) {
        fail(w, JSON_W_MISUSE);
        return;
    }
    scalar(w, text, n);
}
