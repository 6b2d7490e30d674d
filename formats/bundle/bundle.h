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

#define FMT_BUNDLE_MANIFEST "manifest.json"
#define FMT_BUNDLE_BINARIES "binaries/"

/* Read the regular file at path whole into a new heap buffer (a symbolic link followed only if follow, a
 * FIFO not waited on, a file over max bytes refused); *st is its fstat. Returns 0, or -1 with why (and *buf
 * NULL). */
int fmt_read_regular_file(const char *path, int follow, uint64_t max, struct stat *st, uint8_t **buf, size_t *len,
                          char *why, size_t whylen);

/* Exit statuses of `lastgasp collect`. */
enum fmt_collect_status {
    FMT_COLLECT_OK = 0,      /* every dump found is in the bundle (and removed, with --remove) */
    FMT_COLLECT_FAILED = 1,  /* no bundle written; nothing removed */
    FMT_COLLECT_USAGE = 2,
    FMT_COLLECT_PARTIAL = 3, /* bundle written, but a file was skipped (not a dump, unreadable), not removed,
                                or (--with-binaries) a binary could not be included */
    FMT_COLLECT_NOTHING = 4, /* no dump to collect: no bundle written */
};

struct fmt_collect_options {
    char *const *dirs;
    size_t ndirs;
    const char *output;
    int remove;              /* unlink the collected dumps once the bundle is verified and in place */
    int with_binaries;       /* add the modules whose file on disk still has the dump's build-id */
};

/* Run `collect`; messages on stderr, a one-line summary on stdout. Returns an enum fmt_collect_status. */
int fmt_collect(const struct fmt_collect_options *o);

/* A bundle opened for reading. Opening checks every entry name: one that would escape an extraction
 * directory (absolute, or with a ".." component) makes the whole bundle refused. */
struct fmt_bundle {
    void *z;                 /* unzFile */
    char **names;            /* every entry, in the zip's order */
    size_t n;
};

/* 1 when the file at path starts like a zip archive ("PK\3\4", or "PK\5\6" for an empty one). */
int fmt_bundle_is_zip(const char *path);
/* 1 when an entry called name would land outside the directory it is extracted into. */
int fmt_bundle_name_escapes(const char *name);
/* 0, or -1 with the reason in err. Always release with fmt_bundle_close(). */
int fmt_bundle_open(struct fmt_bundle *b, const char *path, char *err, size_t errlen);
/* The whole entry called name, CRC checked, in a heap buffer the caller frees. 0, or -1 with err. */
int fmt_bundle_read(struct fmt_bundle *b, const char *name, uint8_t **buf, size_t *len, char *err, size_t errlen);
void fmt_bundle_close(struct fmt_bundle *b);

struct fmt_md;
/* 1 when the entry called name is one of the bundle's dumps (NAME.dmp, not under binaries/). */
int fmt_bundle_is_dump(const char *name);
/* Read and parse the entry called name; md owns the bytes afterwards and is always released with
 * fmt_md_close(). 0, or -1 with err. */
int fmt_bundle_read_dump(struct fmt_bundle *b, const char *name, struct fmt_md *md, char *err, size_t errlen);

/* `show BUNDLE`: one line per dump; `json BUNDLE`: {"bundle", "dumps": [{"name", "error", "dump"}]} where
 * "dump" is the dump's `json` object. 0, 1 when some dump could not be read (the others are printed), -1 on a
 * write error. */
int fmt_bundle_show(FILE *out, const char *path, struct fmt_bundle *b);
int fmt_bundle_json(FILE *out, const char *path, struct fmt_bundle *b);
/* `html BUNDLE`: one page, an index of the dumps, then each dump's section (bundle_html.c). Same returns. */
int fmt_bundle_html(FILE *out, const char *path, struct fmt_bundle *b);

#endif
