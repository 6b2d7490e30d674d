/* collect.c — `lastgasp collect DIR... -o BUNDLE.zip [--remove] [--with-binaries]`: the complete dumps of
 * some directories in one zip, with a manifest.json describing each (formats/README.md).
 *
 * Normal context (the `lastgasp` tool). The order of things is what makes it safe: every dump is read once
 * into memory, and the bytes parsed, hashed and zipped are the same bytes; the bundle is checked and renamed
 * into place (zipout.c) before any dump is removed, and a dump is removed only if the file at its path is
 * still the one that was read. Files that are not minidumps are reported and skipped, never lost: they stay.
 */
#include "bundle_int.h"
#include "../read/grow.h"
#include "../read/mdread.h"
#include "../json/json.h"
#include "../render/render.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Every offset in a minidump is 32-bit: a larger file is not one. */
#define MAX_DUMP ((uint64_t)UINT32_MAX + 1)

struct dump {
    char *path;              /* absolute: DIR made absolute, then the file name */
    char *name;              /* the entry's name in the bundle */
    int collected;
    struct stat st;          /* of the file that was read, to remove only that file */
};

struct run {
    const struct bundle_collect_options *o;
    struct dump *dumps;
    size_t n, cap;
    struct bundle_modref *refs;
    size_t nrefs, refcap;
    size_t ncollected, nskipped;
    char err[1024];
};

static int add_dump(struct run *r, const char *dir, const char *name)
{
    if (mdr_grow((void **)&r->dumps, &r->cap, r->n + 1, sizeof *r->dumps, 256) < 0)
        return -1;
    struct dump *d = &r->dumps[r->n];
    memset(d, 0, sizeof *d);
    if (asprintf(&d->path, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name) < 0)
        return -1;
    d->name = strdup(name);
    if (!d->name) {
        free(d->path);
        return -1;
    }
    r->n++;
    return 0;
}

/* The *.dmp files of each directory. Temporary files (.lastgasp-*.tmp) and other hidden files are not
 * dumps: the reporter renames a dump to its .dmp name only once it is complete. */
static int scan(struct run *r)
{
    for (size_t i = 0; i < r->o->ndirs; i++) {
        char abs[PATH_MAX];
        DIR *dir;
        struct dirent *e;

        if (!realpath(r->o->dirs[i], abs) || !(dir = opendir(abs))) {
            fprintf(stderr, "lastgasp: collect: %s: %s\n", r->o->dirs[i], strerror(errno));
            return -1;
        }
        while ((e = readdir(dir))) {
            size_t len = strlen(e->d_name);
            if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".dmp") != 0)
                continue;
            if (add_dump(r, abs, e->d_name) != 0) {
                closedir(dir);
                fprintf(stderr, "lastgasp: collect: out of memory\n");
                return -1;
            }
        }
        closedir(dir);
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    const struct dump *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->path, y->path);
}

/* Sorted by name; a name met in two directories gets "~2", "~3" before ".dmp" in the bundle. */
static int name_entries(struct run *r)
{
    qsort(r->dumps, r->n, sizeof *r->dumps, by_name);
    for (size_t i = 1, k = 2; i < r->n; i++) {
        const char *prev = strrchr(r->dumps[i - 1].path, '/') + 1;
        if (strcmp(r->dumps[i].name, prev) != 0) {
            k = 2;
            continue;
        }
        char *renamed;
        size_t stem = strlen(r->dumps[i].name) - 4;
        if (asprintf(&renamed, "%.*s~%zu.dmp", (int)stem, r->dumps[i].name, k++) < 0)
            return -1;
        free(r->dumps[i].name);
        r->dumps[i].name = renamed;
    }
    return 0;
}

/* collect never follows a symbolic link: it may remove what it collected. */
static int read_file(struct dump *d, uint8_t **buf, size_t *len, char *why, size_t whylen)
{
    return bundle_read_regular_file(d->path, 0, MAX_DUMP, &d->st, buf, len, why, whylen);
}

static void skipped(struct run *r, struct json_w *json, const struct dump *d, const char *why)
{
    fprintf(stderr, "lastgasp: collect: skipped %s: %s\n", d->path, why);
    r->nskipped++;
    json_obj(json);
    json_key(json, "source");
    json_str(json, d->path);
    json_key(json, "reason");
    json_str(json, why);
    json_obj_end(json);
}

static int remember_modules(struct run *r, const struct mdr_dump *md)
{
    for (size_t i = 0; i < md->nmodules; i++) {
        const struct mdr_module *m = &md->modules[i];
        if (!m->path || m->path[0] != '/')
            continue; /* [vdso] and unreadable names are not files */
        if (mdr_grow((void **)&r->refs, &r->refcap, r->nrefs + 1, sizeof *r->refs, 256) < 0)
            return -1;
        struct bundle_modref *ref = &r->refs[r->nrefs];
        ref->path = strdup(m->path);
        ref->build_id = m->build_id ? strdup(m->build_id) : NULL;
        if (!ref->path || (m->build_id && !ref->build_id))
            return -1;
        r->nrefs++;
    }
    return 0;
}

/* Read, parse, zip and describe one dump. 0 (collected or skipped), or -1 when the bundle failed. */
static int collect_one(struct run *r, struct bundle_zout *zo, struct dump *d, struct json_w *dumps_json,
                       struct json_w *skipped_json)
{
    uint8_t *buf;
    size_t len;
    char why[600], sha[65];
    struct mdr_dump md;

    if (read_file(d, &buf, &len, why, sizeof why) != 0) {
        skipped(r, skipped_json, d, why);
        return 0;
    }
    if (mdr_open(&md, buf, len, why, sizeof why) != MDR_OK) {
        skipped(r, skipped_json, d, why);
        mdr_close(&md);
        free(buf);
        return 0;
    }
    int rc = bundle_zout_add_mem(zo, d->name, buf, len, d->st.st_mtime, d->st.st_mode, sha, r->err, sizeof r->err);
    if (rc == 0) {
        r->ncollected++;
        bundle_manifest_dump(dumps_json, d->name, d->path, len, sha, &md);
        d->collected = 1;
        if (r->o->with_binaries && remember_modules(r, &md) != 0) {
            snprintf(r->err, sizeof r->err, "out of memory");
            rc = -1;
        }
    }
    mdr_close(&md);
    free(buf);
    return rc;
}

/* manifest.json: the arrays built while collecting (each a complete JSON array), inside the one object. */
static int add_manifest(struct run *r, struct bundle_zout *zo, char *const parts[4], const size_t plen[4])
{
    char *text = NULL, when[32], sha[65];
    size_t len = 0;
    time_t now = time(NULL);
    struct tm tm;
    struct utsname u;
    struct json_w w;
    FILE *m = open_memstream(&text, &len);
    static const char *const keys[4] = {"dumps", "skipped", "binaries", "missing_binaries"};

    if (!m)
        return -1;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    json_w_init_file(&w, m);
    json_obj(&w);
    json_key(&w, "format");
    json_str(&w, "lastgasp-bundle");
    json_key(&w, "version");
    json_u64(&w, 1);
    json_key(&w, "created");
    json_str(&w, when);
    json_key(&w, "collected_on");
    json_str(&w, uname(&u) == 0 ? u.nodename : NULL);
    for (int k = 0; k < 4; k++) {
        json_key(&w, keys[k]);
        if (k < 2 || r->o->with_binaries)
            json_raw(&w, parts[k], plen[k]);
        else
            json_null(&w);
    }
    json_obj_end(&w);
    int bad = json_w_finish(&w) != 0 || fputc('\n', m) == EOF;
    if (fclose(m) != 0 || bad) {
        free(text);
        return -1;
    }
    int rc = bundle_zout_add_mem(zo, BUNDLE_MANIFEST, text, len, now, 0600, sha, r->err, sizeof r->err);
    free(text);
    return rc;
}

/* Remove what the bundle holds, only if the file at the path is still the one read. Returns failures. */
static size_t remove_collected(struct run *r, size_t *removed)
{
    size_t failed = 0;

    for (size_t i = 0; i < r->n; i++) {
        const struct dump *d = &r->dumps[i];
        struct stat now;
        if (!d->collected)
            continue;
        if (lstat(d->path, &now) != 0 || now.st_dev != d->st.st_dev || now.st_ino != d->st.st_ino ||
            now.st_size != d->st.st_size || now.st_mtim.tv_sec != d->st.st_mtim.tv_sec ||
            now.st_mtim.tv_nsec != d->st.st_mtim.tv_nsec) {
            fprintf(stderr, "lastgasp: collect: not removing %s: it changed after it was collected\n", d->path);
            failed++;
        } else if (unlink(d->path) != 0) {
            fprintf(stderr, "lastgasp: collect: cannot remove %s: %s\n", d->path, strerror(errno));
            failed++;
        } else {
            (*removed)++;
        }
    }
    return failed;
}

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->dumps[i].path);
        free(r->dumps[i].name);
    }
    for (size_t i = 0; i < r->nrefs; i++) {
        free(r->refs[i].path);
        free(r->refs[i].build_id);
    }
    free(r->dumps);
    free(r->refs);
}

int bundle_collect(const struct bundle_collect_options *o)
{
    struct run r = {.o = o};
    struct bundle_zout zo;
    struct stat st;
    char *parts[4] = {0};
    size_t plen[4];
    FILE *pf[4] = {0};
    struct json_w pw[4]; /* the manifest's four arrays, written while collecting */
    int status = BUNDLE_COLLECT_FAILED, zip_open = 0;

    if (lstat(o->output, &st) == 0) {
        fprintf(stderr, "lastgasp: collect: %s already exists; not overwritten\n", o->output);
        return BUNDLE_COLLECT_FAILED;
    }
    if (scan(&r) != 0 || name_entries(&r) != 0)
        goto out;
    if (r.n == 0) {
        fprintf(stderr, "lastgasp: collect: no dumps to collect; no bundle written\n");
        status = BUNDLE_COLLECT_NOTHING;
        goto out;
    }
    for (int k = 0; k < 4; k++) {
        if (!(pf[k] = open_memstream(&parts[k], &plen[k])))
            goto fail;
        json_w_init_file(&pw[k], pf[k]);
        json_arr(&pw[k]);
    }
    zip_open = 1; /* from here on, bundle_zout_abort() removes whatever part of the bundle exists */
    if (bundle_zout_open(&zo, o->output, r.err, sizeof r.err) != 0)
        goto fail;
    for (size_t i = 0; i < r.n; i++)
        if (collect_one(&r, &zo, &r.dumps[i], &pw[0], &pw[1]) != 0)
            goto fail;
    if (r.ncollected == 0) {
        fprintf(stderr, "lastgasp: collect: none of the %zu files is a readable dump; no bundle written\n", r.n);
        status = BUNDLE_COLLECT_NOTHING;
        goto out;
    }
    size_t nmissing = 0;
    if (o->with_binaries &&
        bundle_collect_binaries(&zo, r.refs, r.nrefs, &pw[2], &pw[3], &nmissing, r.err, sizeof r.err) != 0)
        goto fail;
    size_t nbin = zo.n - r.ncollected;
    for (int k = 0; k < 4; k++) {
        json_arr_end(&pw[k]);
        int bad = json_w_finish(&pw[k]) != 0;
        bad |= fclose(pf[k]) != 0;
        pf[k] = NULL;
        if (bad)
            goto fail;
    }
    if (add_manifest(&r, &zo, parts, plen) != 0)
        goto fail;
    zip_open = 0;
    if (bundle_zout_finish(&zo, o->output, r.err, sizeof r.err) != 0)
        goto fail;
    size_t removed = 0, not_removed = o->remove ? remove_collected(&r, &removed) : 0;
    stat(o->output, &st);
    printf("lastgasp: collected %zu dump%s into %s (%lld bytes)", r.ncollected, r.ncollected == 1 ? "" : "s",
           o->output, (long long)st.st_size);
    if (o->with_binaries)
        printf(", %zu binar%s", nbin, nbin == 1 ? "y" : "ies");
    if (nmissing)
        printf(", %zu binar%s missing", nmissing, nmissing == 1 ? "y" : "ies");
    if (r.nskipped)
        printf(", %zu skipped", r.nskipped);
    if (o->remove)
        printf(", %zu removed", removed);
    printf("\n");
    status = r.nskipped || not_removed || nmissing ? BUNDLE_COLLECT_PARTIAL : BUNDLE_COLLECT_OK;
    goto out;
fail:
    fprintf(stderr, "lastgasp: collect: %s; no bundle written, nothing removed\n", r.err[0] ? r.err : "out of memory");
out:
    if (zip_open)
        bundle_zout_abort(&zo);
    for (int k = 0; k < 4; k++) {
        if (pf[k])
            fclose(pf[k]);
        free(parts[k]);
    }
    run_free(&r);
    return status;
}
