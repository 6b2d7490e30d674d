/* helpers.h — test-only C for tests/go/pcln (normal context, libc allowed; prefix pt_).
 *
 * Copies of the seven tables go_pcln.c reads, each in its own mapping with a PROT_NONE page on both
 * sides, so a read one byte outside a table faults instead of reading the neighbour. A table is
 * placed against the guard after it (end_aligned) or the guard before it, and may be shortened.
 */
#ifndef PCLN_TEST_HELPERS_H
#define PCLN_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "reporter/go/go.h"

enum { PT_FUNCNAMETAB, PT_CUTAB, PT_FILETAB, PT_PCTAB, PT_PCLNTABLE, PT_FTAB, PT_GOFUNC, PT_NTABLES };

struct pt_copy {
    struct go_pcln t;                 /* the original's fields, with the tables pointing at the copies */
    uint8_t *region[PT_NTABLES];      /* guard page, data pages, guard page */
    size_t region_len[PT_NTABLES];
    uint64_t orig[PT_NTABLES];        /* the original tables, to restore from */
    uint64_t len[PT_NTABLES];         /* bytes copied */
};

/* Copy orig's tables. lens[k] (when lens is not NULL and lens[k] != 0) shortens table k. 0 or -1. */
int pt_copy_make(struct pt_copy *c, const struct go_pcln *orig, int end_aligned, const uint64_t *lens);
/* Copy only table k (shortened to len when 0 < len < its length); the others stay the originals. */
int pt_copy_make_one(struct pt_copy *c, const struct go_pcln *orig, int k, uint64_t len);
/* Copy the original bytes back over the copies (undo pt_corrupt). */
void pt_copy_restore(struct pt_copy *c);
void pt_copy_free(struct pt_copy *c);
/* Overwrite n bytes of table k at random places (xorshift state *rng) with random, 0, 0x80 or 0xff. */
void pt_corrupt(struct pt_copy *c, int k, uint64_t *rng, int n);
/* The same, at n places within [center, center + span) of table k (clamped to the table). */
void pt_corrupt_near(struct pt_copy *c, int k, uint64_t *rng, int n, uint64_t center, uint64_t span);
/* For the function at pc in t: where each table holds data about it (the offsets its records and
 * tables start at), and how far that data extends, so corruption can aim at what a lookup reads. */
int pt_targets(const struct go_pcln *t, uint64_t pc, uint64_t center[PT_NTABLES], uint64_t span[PT_NTABLES]);
uint64_t pt_rand(uint64_t *rng);
/* The base address and length of table k of t. */
uint64_t pt_table_base(const struct go_pcln *t, int k);
uint64_t pt_table_len(const struct go_pcln *t, int k);

/* go_frames_at, then a check that every string it returned starts inside funcnametab (function) or
 * filetab (file) of t and ends inside it. Returns the frame count, or -1 with err set. */
int pt_frames_checked(const struct go_pcln *t, uint64_t pc, struct go_frame_info *out, int max, char *err,
                      size_t errlen);

/* go_pcln_find_nasync restricted to some methods (GO_FIND_* of go_inspect.c). */
int go_pcln_find_methods_nasync(struct go_pcln *t, char *version, size_t version_len, char *why, size_t why_len,
                                unsigned methods);
int go_pcln_find_nasync(struct go_pcln *t, char *version, size_t version_len, char *why, size_t why_len);

#endif
