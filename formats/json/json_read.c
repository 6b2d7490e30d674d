/* json_read.c — the strict JSON reader (json.h says what it accepts).
 *
 * Normal context. Recursive descent, bounded by JSON_MAX_DEPTH, over the whole text before anything is used:
 * a file cut short or with a stray byte is refused as a whole, never half read. The tokens land in the
 * caller's array; the reader allocates nothing.
 */
#include "json.h"

#include <stdio.h>
#include <string.h>

struct parser {
    const unsigned char *s;
    size_t len, pos;
    struct json_doc *d;
    size_t cap;
    int failed;
};

static int bad(struct parser *p, const char *what)
{
    if (!p->failed)
        snprintf(p->d->error, sizeof p->d->error, "offset %zu: %s", p->pos, what);
    p->failed = 1;
    return -1;
}

static void ws(struct parser *p)
{
    while (p->pos < p->len &&
           (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

/* A new token of type at the current position: its index, or -1. */
static int token(struct parser *p, enum json_type type)
{
    if (p->d->ntok == p->cap)
        return bad(p, "more values than the reader has room for");
    struct json_tok *t = &p->d->tok[p->d->ntok];
    memset(t, 0, sizeof *t);
    t->type = (uint8_t)type;
    t->off = (uint32_t)p->pos;
    return (int)p->d->ntok++;
}

static int hex4(const unsigned char *s, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    return 0;
}

static int string(struct parser *p)
{
    int t = token(p, JSON_STRING);

    if (t < 0)
        return -1;
    p->pos++; /* the opening quote */
    p->d->tok[t].off = (uint32_t)p->pos;
    for (;;) {
        if (p->pos >= p->len)
            return bad(p, "the text ends inside a string");
        unsigned char c = p->s[p->pos];
        if (c == '"')
            break;
        if (c < 0x20)
            return bad(p, "a control character inside a string (it must be escaped)");
        if (c == '\\') {
            uint32_t v;
            if (p->pos + 1 >= p->len)
                return bad(p, "the text ends inside a string");
            c = p->s[p->pos + 1];
            if (c == 'u') {
                if (p->len - p->pos < 6 || hex4(p->s + p->pos + 2, &v) != 0)
                    return bad(p, "\\u must be followed by four hex digits");
                p->pos += 6;
            } else if (c && strchr("\"\\/bfnrt", c)) {
                p->pos += 2;
            } else {
                return bad(p, "an unknown escape in a string");
            }
            continue;
        }
        if (c < 0x80) {
            p->pos++;
            continue;
        }
        uint32_t cp;
        size_t k = json_utf8_next(p->s + p->pos, p->len - p->pos, &cp);
        if (cp == 0xfffd && !(k == 3 && c == 0xef)) /* bad bytes, not the character U+FFFD itself */
            return bad(p, "bytes that are not UTF-8 inside a string");
        p->pos += k;
    }
    p->d->tok[t].len = (uint32_t)(p->pos - p->d->tok[t].off);
    p->pos++;
    p->d->tok[t].next = (uint32_t)p->d->ntok;
    return t;
}

static size_t digit_run(struct parser *p)
{
    size_t start = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++;
    return p->pos - start;
}

static int number(struct parser *p)
{
    int t = token(p, JSON_NUMBER);

    if (t < 0)
        return -1;
    if (p->s[p->pos] == '-')
        p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '0')
        p->pos++; /* a leading zero stands alone */
    else if (!digit_run(p))
        return bad(p, "not a JSON value");
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        if (!digit_run(p))
            return bad(p, "a digit must follow the decimal point");
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (!digit_run(p))
            return bad(p, "a digit must follow the exponent");
    }
    p->d->tok[t].len = (uint32_t)(p->pos - p->d->tok[t].off);
    p->d->tok[t].next = (uint32_t)p->d->ntok;
    return t;
}

static int word(struct parser *p, const char *w, enum json_type type)
{
    size_t n = strlen(w);

    if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
        return bad(p, "not a JSON value");
    int t = token(p, type);
    if (t < 0)
        return -1;
    p->pos += n;
    p->d->tok[t].len = (uint32_t)n;
    p->d->tok[t].next = (uint32_t)p->d->ntok;
    return t;
}

static int value(struct parser *p, unsigned depth);

static int container(struct parser *p, unsigned depth, int object)
{
    unsigned char close = object ? '}' : ']';

    if (depth >= JSON_MAX_DEPTH)
        return bad(p, "nested deeper than the reader's limit");
    int t = token(p, object ? JSON_OBJECT : JSON_ARRAY);
    if (t < 0)
        return -1;
    p->pos++;
    ws(p);
    uint32_t count = 0;
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            ws(p);
            if (object) {
                if (p->pos >= p->len || p->s[p->pos] != '"')
                    return bad(p, "expected a member's name (a string)");
                if (string(p) < 0)
                    return -1;
                ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':')
                    return bad(p, "expected ':' after a member's name");
                p->pos++;
            }
            if (value(p, depth + 1) < 0)
                return -1;
            count++;
            ws(p);
            if (p->pos < p->len && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->len && p->s[p->pos] == close) {
                p->pos++;
                break;
            }
            return bad(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    p->d->tok[t].count = count;
    p->d->tok[t].len = (uint32_t)(p->pos - p->d->tok[t].off);
    p->d->tok[t].next = (uint32_t)p->d->ntok;
    return t;
}

static int value(struct parser *p, unsigned depth)
{
    ws(p);
    if (p->pos >= p->len)
        return bad(p, "the text ends where a value should be");
    switch (p->s[p->pos]) {
    case '{': return container(p, depth, 1);
    case '[': return container(p, depth, 0);
    case '"': return string(p);
    case 't': return word(p, "true", JSON_TRUE);
    case 'f': return word(p, "false", JSON_FALSE);
    case 'n': return word(p, "null", JSON_NULL);
    default:
        if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
            return number(p);
        return bad(p, "not a JSON value");
    }
}

int json_parse(struct json_doc *d, const char *text, size_t len, struct json_tok *tok, size_t cap)
{
    struct parser p = {.s = (const unsigned char *)text, .len = len, .d = d, .cap = cap};

    memset(d, 0, sizeof *d);
    d->text = text;
    d->len = len;
    d->tok = tok;
    if (len > UINT32_MAX) /* token offsets are 32 bits */
        return bad(&p, "larger than 4 GiB");
    if (value(&p, 0) < 0)
        return -1;
    ws(&p);
    if (p.pos != len)
        return bad(&p, "more text after the value");
    return 0;
}

/* One character of string token t from *i on, unescaped into out (UTF-8); its length. The text was checked. */
static size_t unit(const struct json_doc *d, const struct json_tok *t, size_t *i, char out[4])
{
    const unsigned char *s = (const unsigned char *)d->text + t->off;
    uint32_t cp, lo;

    if (s[*i] != '\\') {
        out[0] = (char)s[(*i)++];
        return 1;
    }
    char c = (char)s[*i + 1];
    *i += 2;
    switch (c) {
    case 'b': out[0] = '\b'; return 1;
    case 'f': out[0] = '\f'; return 1;
    case 'n': out[0] = '\n'; return 1;
    case 'r': out[0] = '\r'; return 1;
    case 't': out[0] = '\t'; return 1;
    case 'u': break;
    default: out[0] = c; return 1; /* " \ / */
    }
    hex4(s + *i, &cp);
    *i += 4;
    if (cp >= 0xd800 && cp <= 0xdbff && *i + 6 <= t->len && s[*i] == '\\' && s[*i + 1] == 'u' &&
        hex4(s + *i + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        *i += 6;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
        cp = 0xfffd; /* a lone surrogate is no character */
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static int str_eq(const struct json_doc *d, const struct json_tok *t, const char *s)
{
    size_t i = 0, k = 0, sn = strlen(s);
    char u[4];

    while (i < t->len) {
        size_t n = unit(d, t, &i, u);
        if (k + n > sn || memcmp(s + k, u, n) != 0)
            return 0;
        k += n;
    }
    return k == sn;
}

int json_member(const struct json_doc *d, int obj, const char *key)
{
    if (obj < 0 || (size_t)obj >= d->ntok || d->tok[obj].type != JSON_OBJECT)
        return -1;
    size_t i = (size_t)obj + 1;
    for (uint32_t m = 0; m < d->tok[obj].count; m++) {
        if (str_eq(d, &d->tok[i], key))
            return (int)i + 1;
        i = d->tok[i + 1].next;
    }
    return -1;
}

int json_get_u64(const struct json_doc *d, int t, uint64_t *v)
{
    if (t < 0 || (size_t)t >= d->ntok || d->tok[t].type != JSON_NUMBER)
        return -1;
    const char *s = d->text + d->tok[t].off;
    uint64_t x = 0;
    for (uint32_t i = 0; i < d->tok[t].len; i++) {
        if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return -1; /* a sign, a fraction, an exponent, or past 2^64 - 1 */
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return 0;
}

int json_get_str(const struct json_doc *d, int t, char *buf, size_t cap, size_t *n)
{
    if (t < 0 || (size_t)t >= d->ntok || d->tok[t].type != JSON_STRING || cap == 0)
        return -1;
    size_t i = 0, k = 0;
    char u[4];
    while (i < d->tok[t].len) {
        size_t m = unit(d, &d->tok[t], &i, u);
        if (k + m >= cap)
            return -1;
        memcpy(buf + k, u, m);
        k += m;
    }
    buf[k] = '\0';
    *n = k;
    return 0;
}
