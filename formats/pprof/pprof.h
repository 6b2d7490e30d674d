/* pprof.h — `lastgasp pprof`: the goroutines of a Go dump as a pprof goroutine profile (profile.proto, the
 * format of https://github.com/google/pprof/blob/main/proto/profile.proto, gzipped), so that `go tool pprof`
 * shows a crashed service's goroutines the way it shows a live one's `/debug/pprof/goroutine`.
 *
 * Normal context: the command-line tool only (heap, stdio, zlib). The profile is built from the parsed model
 * (formats/read/mdread.h), so a malformed dump reaches this code only through the bounds-checked reader; the
 * fuzzer (tests/fuzz/fuzz_mdread.c) runs the builder on every input.
 */
#ifndef LASTGASP_PPROF_H
#define LASTGASP_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "pb.h"

struct mdr_dump;

/* The Profile message of md's goroutines (md->go.present must be set), ungzipped, into out (empty on entry).
 * One sample per goroutine, value 1, in dump order; labels and comments as formats/README.md says.
 * 0, or -1 when memory ran out. */
int pprof_profile_build(struct pprof_pb *out, const struct mdr_dump *md);

/* Write p[0..n) gzipped (RFC 1952, modification time 0: the same dump gives the same bytes) through sink,
 * which returns 0 or -1. 0, or -1 when zlib or the sink failed. */
int pprof_gzip(const uint8_t *p, size_t n, int (*sink)(const void *p, size_t n, void *ctx), void *ctx);

/* `lastgasp pprof` (write.c): md's goroutine profile, gzipped, to path (written under a temporary name beside it,
 * then renamed) or to standard output when path is NULL. label names the dump in messages (stderr). Exit
 * status: 0 written; 1 md holds no Go stream, or the profile could not be built or written. */
int pprof_write(const struct mdr_dump *md, const char *label, const char *path);

#endif
