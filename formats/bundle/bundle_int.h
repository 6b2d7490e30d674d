/* bundle_int.h — internals shared by the files of `lastgasp collect` (collect.c, zipout.c, manifest.c,
 * binaries.c). Normal context.
 */
#ifndef LASTGASP_BUNDLE_INT_H
#define LASTGASP_BUNDLE_INT_H

#include "bundle.h"

#include <stdio.h>
#include <sys/types.h>
#include <time.h>

struct mdr_dump;

/* ---- zipout.c: the bundle file, written under a temporary name, checked, then put in place ---- */

struct bundle_zentry {
    char *name;
    uint64_t size;
    char sha256[65];
};

struct bundle_zout {
    void *z;                 /* zipFile */
    FILE *f;                 /* the stream minizip writes through; it closes it */
    int sync_fd;             /* a second descriptor of the file, to fsync it once minizip has closed f */
    char *tmp;               /* the temporary path, beside the output */
    struct bundle_zentry *entries; /* what was written, to check against what is read back */
    size_t n, cap;
};

/* Create the temporary file beside output (mode 0600) and start the zip. 0, or -1 with err. */
int bundle_zout_open(struct bundle_zout *zo, const char *output, char *err, size_t errlen);
/* Add an entry from memory / from a file open at fd (read to its end); sha256 of the bytes in sha.
 * 0, or -1 with err: the bundle is then unusable and must be abandoned. */
int bundle_zout_add_mem(struct bundle_zout *zo, const char *name, const void *p, size_t n, time_t mtime, mode_t mode,
                     char sha[65], char *err, size_t errlen);
int bundle_zout_add_fd(struct bundle_zout *zo, const char *name, int fd, time_t mtime, mode_t mode, uint64_t *size,
                    char sha[65], char *err, size_t errlen);
/* Close the zip, fsync it, read every entry back (minizip checks each CRC; sizes and SHA-256 are compared
 * with what was written), then rename it to output (never over an existing file) and fsync the directory.
 * 0, or -1 with err and the temporary file removed. */
int bundle_zout_finish(struct bundle_zout *zo, const char *output, char *err, size_t errlen);
/* Abandon the bundle: close and remove the temporary file. */
void bundle_zout_abort(struct bundle_zout *zo);

/* ---- manifest.c ---- */

/* One object of the manifest's "dumps" array, from the parsed dump. */
struct json_w;
void bundle_manifest_dump(struct json_w *w, const char *name, const char *source, uint64_t size, const char *sha,
                       const struct mdr_dump *md);

/* ---- binaries.c: --with-binaries ---- */

/* A module named by a collected dump. */
struct bundle_modref {
    char *build_id;          /* lowercase hex, or NULL when the dump has none */
    char *path;
};

/* The identity a dump gives the ELF file open at fd, as lowercase hex: its GNU build-id (a PT_NOTE, else a
 * note section), else Breakpad's 16-byte hash of .text. 0, or -1 when the file is not a 64-bit ELF file or
 * has neither. */
int bundle_elf_build_id(int fd, char *hex, size_t hexcap);

/* Add binaries/<build-id>/<basename> once per build-id, from the first path whose file has that build-id;
 * add each entry of the manifest's "binaries" and "missing_binaries" arrays to bins and missing (open arrays).
 * refs are sorted in place. *nmissing counts the files that could not go in (each also said on stderr).
 * 0, or -1 with err when the zip could not be written. */
int bundle_collect_binaries(struct bundle_zout *zo, struct bundle_modref *refs, size_t n, struct json_w *bins,
                            struct json_w *missing, size_t *nmissing, char *err, size_t errlen);

#endif
