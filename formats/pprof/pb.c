/* pb.c — the protocol-buffers encoder (pb.h).
 *
 * Normal context. Wire types used: 0 varint, 2 length-delimited. Every write goes through reserve(), which
 * grows the buffer geometrically and turns a failure into b->nomem.
 */
#include "pb.h"

#include <stdlib.h>
#include <string.h>

#define PB_VARINT 0
#define PB_LEN 2
#define PB_MAX_VARINT 10 /* bytes of a 64-bit varint */

static int reserve(struct pprof_pb *b, size_t n)
{
    if (b->nomem)
        return -1;
    if (n > SIZE_MAX / 2 - b->len) {
        b->nomem = 1;
        return -1;
    }
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc(b->buf, cap);
    if (!p) {
        b->nomem = 1;
        return -1;
    }
    b->buf = p;
    b->cap = cap;
    return 0;
}

static size_t varint_to(uint8_t *out, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

void pprof_pb_varint(struct pprof_pb *b, uint64_t v)
{
    if (reserve(b, PB_MAX_VARINT) == 0)
        b->len += varint_to(b->buf + b->len, v);
}

void pprof_pb_key(struct pprof_pb *b, uint32_t field, unsigned wire_type)
{
    pprof_pb_varint(b, (uint64_t)field << 3 | wire_type);
}

void pprof_pb_uint64(struct pprof_pb *b, uint32_t field, uint64_t v)
{
    pprof_pb_key(b, field, PB_VARINT);
    pprof_pb_varint(b, v);
}

void pprof_pb_uint64_opt(struct pprof_pb *b, uint32_t field, uint64_t v)
{
    if (v)
        pprof_pb_uint64(b, field, v);
}

void pprof_pb_int64_opt(struct pprof_pb *b, uint32_t field, int64_t v)
{
    if (v)
        pprof_pb_uint64(b, field, (uint64_t)v); /* two's complement: a negative value is ten bytes */
}

void pprof_pb_bool_opt(struct pprof_pb *b, uint32_t field, int v)
{
    if (v)
        pprof_pb_uint64(b, field, 1);
}

void pprof_pb_bytes(struct pprof_pb *b, uint32_t field, const void *p, size_t n)
{
    pprof_pb_key(b, field, PB_LEN);
    pprof_pb_varint(b, n);
    if (n && reserve(b, n) == 0) {
        memcpy(b->buf + b->len, p, n);
        b->len += n;
    }
}

void pprof_pb_packed(struct pprof_pb *b, uint32_t field, const uint64_t *v, size_t n)
{
    if (n == 0)
        return;
    size_t start = pprof_pb_start(b);
    for (size_t i = 0; i < n; i++)
        pprof_pb_varint(b, v[i]);
    pprof_pb_end(b, field, start);
}

size_t pprof_pb_start(struct pprof_pb *b)
{
    return b->len;
}

/* The body [start, len) is moved forward by the size of its key and length, which are then written before
 * it: one memmove per message, so building is O(size x nesting depth), and depth is 2 in profile.proto. */
void pprof_pb_end(struct pprof_pb *b, uint32_t field, size_t start)
{
    uint8_t head[2 * PB_MAX_VARINT];
    size_t body, n;

    if (b->nomem || start > b->len)
        return;
    body = b->len - start;
    n = varint_to(head, (uint64_t)field << 3 | PB_LEN);
    n += varint_to(head + n, body);
    if (reserve(b, n) != 0)
        return;
    memmove(b->buf + start + n, b->buf + start, body);
    memcpy(b->buf + start, head, n);
    b->len += n;
}

void pprof_pb_free(struct pprof_pb *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}
