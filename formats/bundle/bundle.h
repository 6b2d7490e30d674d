/* bundle.h — zip bundles of dumps: `lastgasp collect` writes them, `lastgasp show|json` read them.
 *
 * Normal context: the command-line tool only (heap, stdio, minizip on zlib). The bundle's layout and its
 * manifest.json are specified in formats/README.md.
 */
#ifndef LASTGASP_BUNDLE_H
#define LASTGASP_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#define BUNDLE_MANIFEST "manifest.json"
#define BUNDLE_BINARIES "binaries/"

/* Read the regular file at path whole into a new heap buffer (a symbolic link followed only if follow, a
 * FIFO not waited on, a file over max bytes refused); *st is its fstat. Returns 0, or -1 with why (and *buf
 * NULL). */
int bundle_read_regular_file(const char *path, int follow, uint64_t max, struct stat *st, uint8_t **buf, size_t *len,
                          char *why, size_t whylen);

/* Exit statuses of `lastgasp collect`. */
enum bundle_collect_status {
    BUNDLE_COLLECT_OK = 0,      /* every dump found is in the bundle (and removed, with --remove) */
    BUNDLE_COLLECT_FAILED = 1,  /* no bundle written; nothing removed */
    BUNDLE_COLLECT_USAGE = 2,
    BUNDLE_COLLECT_PARTIAL = 3, /* bundle written, but a file was skipped (not a dump, unreadable), not removed,
                                or (--with-binaries) a binary could not be included */
    BUNDLE_COLLECT_NOTHING = 4, /* no dump to collect: no bundle written */
};

struct bundle_collect_options {
    char *const *dirs;
    size_t ndirs;
    const char *output;
    int remove;              /* unlink the collected dumps once the bundle is verified and in place */
    int with_binaries;       /* add the modules whose file on disk still has the dump's build-id */
};

/* Run `collect`; messages on stderr, a one-line summary on stdout. Returns an enum bundle_collect_status. */
int bundle_collect(const struct bundle_collect_options *o);

/* A bundle opened for reading. Opening checks every entry name: one that would escape an extraction
 * directory (absolute, or with a ".." component) makes the whole bundle refused. */
struct bundle {
    void *z;                 /* unzFile */
    char **names;            /* every entry, in the zip's order */
    size_t n;
};

/* 1 when the file at path starts like a zip archive ("PK\3\4", or "PK\5\6" for an empty one). */
int bundle_is_zip(const char *path);
/* 1 when an entry called name would land outside the directory it is extracted into. */
int bundle_name_escapes(const char *name);
/* 0, or -1 with the reason in err. Always release with bundle_close(). */
int bundle_open(struct bundle *b, const char *path, char *err, size_t errlen);
/* The whole entry called name, CRC checked, in a heap buffer the caller frees. 0, or -1 with err. */
int bundle_read(struct bundle *b, const char *name, uint8_t **buf, size_t *len, char *err, size_t errlen);
void bundle_close(struct bundle *b);

struct mdr_dump;
/* 1 when the entry called name is one of the bundle's dumps (NAME.dmp, not under binaries/). */
int bundle_is_dump(const char *name);
/* Read and parse the entry called name; md owns the bytes afterwards and is always released with
 * mdr_close(). 0, or -1 with err. */
int bundle_read_dump(struct bundle *b, const char *name, struct mdr_dump *md, char *err, size_t errlen);

/* `show BUNDLE`: one line per dump; `json BUNDLE`: {"format", "bundle", "dumps": [{"name", "error", "dump"}]}
 * where "dump" is the dump's `json` object and "format" names this document (formats/README.md). 0, 1 when some dump could not be read (the others are printed), -1 on a
 * write error. */
int bundle_show(FILE *out, const char *path, struct bundle *b);
#define BUNDLE_JSON_FORMAT "lastgasp-json-bundle"
#define BUNDLE_JSON_VERSION 1
int bundle_json(FILE *out, const char *path, struct bundle *b);
/* `html BUNDLE`: one page, an index of the dumps, then each dump's section (bundle_html.c). Same returns. */
int bundle_html(FILE *out, const char *path, struct bundle *b);

#endif
