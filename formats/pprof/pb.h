/* pb.h — a small protocol-buffers encoder: just what profile.proto needs (varints, length-delimited fields,
 * packed repeated varints, nested messages), in the wire format of https://protobuf.dev/programming-guides/
 * encoding/. No maintained C encoder fits the tool (protobuf-c needs generated code and a runtime library for
 * eight tiny messages), so this one is checked against known encodings (tests/unit/test_pprof.c) and, as a
 * whole profile, against `go tool pprof` (tests/go/test_pprof.py).
 *
 * Normal context (the `lastgasp` tool). The message is built in one growable buffer. A nested message is
 * written in place and then moved forward to make room for its tag and length (the way Go's runtime/pprof
 * does), so lengths are minimal varints and no size pass is needed. After an allocation failure every call is
 * a no-op and `nomem` stays set: check it once at the end.
 */
#ifndef LASTGASP_PPROF_PB_H
#define LASTGASP_PPROF_PB_H

#include <stddef.h>
#include <stdint.h>

struct pprof_pb {
    uint8_t *buf;
    size_t len, cap;
    int nomem;
};

/* The raw pieces: a base-128 varint, and a field's key (field number << 3 | wire type). */
void pprof_pb_varint(struct pprof_pb *b, uint64_t v);
void pprof_pb_key(struct pprof_pb *b, uint32_t field, unsigned wire_type);

/* Varint fields. proto3 leaves out a field equal to its default (0, false): the *_opt forms do that; the
 * plain form always writes it (a repeated field's element). int64 negatives take ten bytes, as in protobuf. */
void pprof_pb_uint64(struct pprof_pb *b, uint32_t field, uint64_t v);
void pprof_pb_uint64_opt(struct pprof_pb *b, uint32_t field, uint64_t v);
void pprof_pb_int64_opt(struct pprof_pb *b, uint32_t field, int64_t v);
void pprof_pb_bool_opt(struct pprof_pb *b, uint32_t field, int v);

/* A length-delimited field of n bytes (string, bytes); written even when n == 0 (a repeated string's "" entry). */
void pprof_pb_bytes(struct pprof_pb *b, uint32_t field, const void *p, size_t n);

/* A packed repeated varint field (proto3's default for repeated scalars); nothing when n == 0. */
void pprof_pb_packed(struct pprof_pb *b, uint32_t field, const uint64_t *v, size_t n);

/* A nested message: start, write its fields, end. Returns/takes the offset where its body starts; nesting is
 * the caller's stack of such offsets (end the inner one first). */
size_t pprof_pb_start(struct pprof_pb *b);
void pprof_pb_end(struct pprof_pb *b, uint32_t field, size_t start);

void pprof_pb_free(struct pprof_pb *b);

#endif
