/* json.h — the one JSON writer and the one JSON reader of the tool (prefix json_).
 *
 * Normal context (the tool and its tests; never the handler). Every JSON document lastgasp writes goes through
 * the writer: `lastgasp json`, the bundle's manifest.json, the crash server's event and envelope headers, the
 * state file of `lastgasp watch`. The reader reads that state file back.
 *
 * The writer streams into a sink (a FILE *, a memory buffer in tests, anything), places commas and colons
 * itself, and refuses what would not be JSON: a value where a key is due, a key outside an object, a close
 * that does not match, nesting past JSON_MAX_DEPTH, a second top-level value. A refusal or a failed sink write
 * is sticky: nothing more is written, and json_w_finish() says what went wrong. Strings come out as valid UTF-8:
 * '"', '\\' and every control character escaped (\n \r \t \b \f, else \u00XX; DEL as \u007f), each byte that
 * is not part of valid UTF-8 replaced by U+FFFD (written \ufffd) — json_utf8_next() decides, maximal subparts
 * as Unicode recommends. Integers are exact decimal JSON numbers, u64 included; addresses are "0x..." strings
 * (lower-case hex), as `lastgasp json` has always written them, because many JSON readers turn numbers into
 * doubles and lose every bit past 2^53.
 *
 * The reader is strict RFC 8259 (UTF-8 text, no trailing commas, no comments, one value): it checks the whole
 * text, then indexes it into a caller-supplied array of tokens, in document order, so lookups need no memory.
 */
#ifndef LASTGASP_JSON_H
#define LASTGASP_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Deepest nesting of arrays and objects either side accepts. The deepest document the tool writes, the crash
 * server's event, needs 7; `lastgasp json` needs 6. */
#define JSON_MAX_DEPTH 32

/* ---- the writer ---- */

/* Where the bytes go: 0, or nonzero when they could not be written (the writer then stops). */
typedef int (*json_sink)(const void *p, size_t n, void *ctx);

enum json_w_error {
    JSON_W_OK = 0,
    JSON_W_SINK,      /* the sink failed */
    JSON_W_DEPTH,     /* nesting past JSON_MAX_DEPTH */
    JSON_W_MISUSE,    /* a call that would not make JSON (see above) */
};

struct json_w {
    json_sink sink;
    void *ctx;
    uint64_t bytes;                        /* written so far: budgets are counted in it */
    enum json_w_error err;
    unsigned depth;
    unsigned char in_object[JSON_MAX_DEPTH];
    unsigned char has_member[JSON_MAX_DEPTH]; /* a comma goes before the next member */
    unsigned char want_value;              /* a key was written: a value must follow */
    unsigned char done;                    /* the top-level value is complete */
};

void json_w_init(struct json_w *w, json_sink sink, void *ctx);
/* Into a stdio stream (fwrite). */
void json_w_init_file(struct json_w *w, FILE *f);
/* 0 when one complete value was written with no error; else -1. */
int json_w_finish(const struct json_w *w);
/* What went wrong, in words ("nesting deeper than 32"...), or NULL. */
const char *json_w_strerror(const struct json_w *w);

void json_obj(struct json_w *w);
void json_obj_end(struct json_w *w);
void json_arr(struct json_w *w);
void json_arr_end(struct json_w *w);
/* The next member's key (inside an object, before each value). */
void json_key(struct json_w *w, const char *k);
void json_key_n(struct json_w *w, const char *k, size_t n);

void json_null(struct json_w *w);
void json_bool(struct json_w *w, int b);
void json_u64(struct json_w *w, uint64_t v);
void json_i64(struct json_w *w, int64_t v);
/* A string; NULL gives null. _n: n bytes, NULs included (escaped). */
void json_str(struct json_w *w, const char *s);
void json_str_n(struct json_w *w, const char *s, size_t n);
/* An address or other 64-bit bit pattern: the string "0x1f" (no leading zeros). */
void json_hex(struct json_w *w, uint64_t v);
/* A value's text made elsewhere (by another json_w), written as it is in this value's place. */
void json_raw(struct json_w *w, const char *text, size_t n);

/* One code point of UTF-8 at s (n > 0 bytes): returns the bytes it takes and sets *cp, or U+FFFD for an
 * invalid sequence and returns the length of its maximal subpart (at least 1). */
size_t json_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* ---- the reader ---- */

enum json_type { JSON_NULL = 1, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

/* One value of the text. An object's members are its key (a JSON_STRING token) followed by the value's tokens. */
struct json_tok {
    uint8_t type;                          /* enum json_type */
    uint32_t off, len;                     /* its text; for a string, the bytes between the quotes */
    uint32_t count;                        /* an array's elements, an object's members */
    uint32_t next;                         /* the index of the token after this value and all it holds */
};

struct json_doc {
    const char *text;
    size_t len;
    struct json_tok *tok;
    size_t ntok;
    char error[128];                       /* why json_parse failed: "offset 12: expected ':'" */
};

/* Check and index text[0..len) into tok[0..cap): 0, or -1 with d->error set (malformed, deeper than
 * JSON_MAX_DEPTH, more values than cap, larger than 4 GiB). tok[0] is the top-level value. */
int json_parse(struct json_doc *d, const char *text, size_t len, struct json_tok *tok, size_t cap);

/* The index of the value of obj's member named key (the first, if the text repeats it), or -1. */
int json_member(const struct json_doc *d, int obj, const char *key);
/* A non-negative integer that fits in 64 bits (no fraction, no exponent): 0, or -1. */
int json_get_u64(const struct json_doc *d, int t, uint64_t *v);
/* A string, unescaped (a lone surrogate escape becomes U+FFFD), NUL-terminated in buf: 0 with its length in
 * *n (NULs inside count), or -1 when t is not a string or it does not fit in cap - 1 bytes. */
int json_get_str(const struct json_doc *d, int t, char *buf, size_t cap, size_t *n);

#endif
