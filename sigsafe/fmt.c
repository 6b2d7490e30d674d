/* fmt.c — number formatting and parsing, and a bounded string builder.
 *
 * RULES: async-signal-safe, no libc, no allocation; the builder never writes past its buffer.
 */
#include "sigsafe.h"

size_t ss_fmt_u64(char *buf, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

size_t ss_fmt_i64(char *buf, int64_t v)
{
    if (v >= 0)
        return ss_fmt_u64(buf, (uint64_t)v);
    buf[0] = '-';
    return 1 + ss_fmt_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
}

size_t ss_fmt_hex(char *buf, uint64_t v, size_t min_digits)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = 1;
    while (n < 16 && (v >> (4 * n)))
        n++;
    if (min_digits > 16)
        min_digits = 16;
    if (n < min_digits)
        n = min_digits;
    for (size_t i = 0; i < n; i++)
        buf[i] = digits[(v >> (4 * (n - 1 - i))) & 0xf];
    return n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t ss_parse_hex(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && i < 16 && hexval(s[i]) >= 0)
        v = (v << 4) | (uint64_t)hexval(s[i++]);
    *out = v;
    return i;
}

size_t ss_parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    /* Stop before the digit that would overflow (not after 19 digits: 20-digit values up to UINT64_MAX
     * must round-trip with ss_fmt_u64, and leading zeros cost nothing). */
    while (i < n && s[i] >= '0' && s[i] <= '9' && v <= (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
        v = v * 10 + (uint64_t)(s[i++] - '0');
    *out = v;
    return i;
}

void ss_str_init(struct ss_str *s, char *buf, size_t cap)
{
    s->buf = buf;
    s->cap = cap;
    s->len = 0;
    if (cap)
        buf[0] = 0;
}

void ss_str_addn(struct ss_str *s, const char *text, size_t n)
{
    if (!s->cap)
        return;
    for (size_t i = 0; i < n && s->len + 1 < s->cap; i++)
        s->buf[s->len++] = text[i];
    s->buf[s->len] = 0;
}

void ss_str_add(struct ss_str *s, const char *text) { ss_str_addn(s, text, ss_strlen(text)); }

void ss_str_u64(struct ss_str *s, uint64_t v)
{
    char b[20];
    ss_str_addn(s, b, ss_fmt_u64(b, v));
}

void ss_str_i64(struct ss_str *s, int64_t v)
{
    char b[21];
    ss_str_addn(s, b, ss_fmt_i64(b, v));
}

void ss_str_hex(struct ss_str *s, uint64_t v)
{
    char b[18] = {'0', 'x'};
    ss_str_addn(s, b, 2 + ss_fmt_hex(b + 2, v, 1));
}

void ss_str_add_escaped(struct ss_str *s, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        unsigned char c = *p;
        char e[4] = {'\\', 0, 0, 0};
        if (c == '\n' || c == '\t' || c == '\r' || c == '\\') {
            e[1] = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : '\\';
            ss_str_addn(s, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            e[1] = 'x';
            ss_fmt_hex(e + 2, c, 2);
            ss_str_addn(s, e, 4);
        } else {
            ss_str_addn(s, (const char *)p, 1);
        }
    }
}
