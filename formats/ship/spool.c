/* spool.c — the directories `lastgasp watch` keeps (watch_int.h): listing the complete dumps, holding them
 * under a cap (oldest out first), moving them on, and the state file with the counts that outlive a restart.
 *
 * Normal context. The reporter writes a dump under a hidden temporary name (.lastgasp-*.tmp) and renames it
 * to NAME.dmp only when complete, so a non-hidden *.dmp is complete; hidden names are never looked at.
 */
#define _FILE_OFFSET_BITS 64
#include "watch_int.h"
#include "../read/grow.h"
#include "../json/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Inodes of *.dmp files already reported as not being minidumps: each is reported once, not every scan.
 * A small ring: forgetting one only means reporting it again. */
static struct {
    dev_t dev;
    ino_t ino;
} g_told[256];
static size_t g_ntold;

static int told(dev_t dev, ino_t ino)
{
    for (size_t i = 0; i < g_ntold && i < 256; i++)
        if (g_told[i].dev == dev && g_told[i].ino == ino)
            return 1;
    g_told[g_ntold % 256].dev = dev;
    g_told[g_ntold % 256].ino = ino;
    g_ntold++;
    return 0;
}

static int is_minidump(int dfd, const char *name)
{
    char magic[4];
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, magic, 4, 0) : -1;

    if (fd >= 0)
        close(fd);
    return n == 4 && memcmp(magic, "MDMP", 4) == 0;
}

static int add(struct spool_list *l, const char *name, int in_outbox, const struct stat *st)
{
    if (mdr_grow((void **)&l->f, &l->cap, l->n + 1, sizeof *l->f, 64) < 0)
        return -1;
    struct spool_file *f = &l->f[l->n];
    f->name = strdup(name);
    if (!f->name)
        return -1;
    f->in_outbox = in_outbox;
    f->size = st->st_size;
    f->mtime = st->st_mtim;
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    l->n++;
    return 0;
}

int spool_scan(const char *dir, int in_outbox, struct spool_list *l)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return -1;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        struct stat st;
        if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".dmp") != 0)
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (!is_minidump(dirfd(d), e->d_name)) {
            if (!told(st.st_dev, st.st_ino))
                fprintf(stderr, "lastgasp watch: %s/%s is not a minidump; left alone\n", dir, e->d_name);
            continue;
        }
        if (add(l, e->d_name, in_outbox, &st) != 0) {
            closedir(d);
            errno = ENOMEM;
            return -1;
        }
    }
    closedir(d);
    return 0;
}

static int oldest_first(const void *a, const void *b)
{
    const struct spool_file *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

void spool_sort(struct spool_list *l)
{
    if (l->n)
        qsort(l->f, l->n, sizeof *l->f, oldest_first);
}

void spool_free(struct spool_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->f[i].name);
    free(l->f);
    memset(l, 0, sizeof *l);
}

char *spool_path(const char *base, const struct spool_file *f)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s%s", base, f->in_outbox ? WATCH_OUTBOX "/" : "", f->name) < 0)
        return NULL;
    return p;
}

int spool_same(const char *path, const struct spool_file *f)
{
    struct stat st;
    return lstat(path, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino && st.st_size == f->size &&
           st.st_mtim.tv_sec == f->mtime.tv_sec && st.st_mtim.tv_nsec == f->mtime.tv_nsec;
}

size_t spool_cap(struct spool_list *l, const char *base, size_t max_files, uint64_t max_bytes, const char *what,
                 uint64_t *removed, char *last, size_t lastcap)
{
    uint64_t bytes = 0;
    size_t gone = 0, k = 0;

    for (size_t i = 0; i < l->n; i++)
        bytes += (uint64_t)l->f[i].size;
    /* l is oldest first: remove from the front while over either bound. */
    while (k < l->n && (l->n - gone > max_files || bytes > max_bytes)) {
        struct spool_file *f = &l->f[k++];
        char *p = spool_path(base, f);
        if (p && unlink(p) == 0) {
            bytes -= (uint64_t)f->size;
            gone++;
            (*removed)++;
            if (last)
                snprintf(last, lastcap, "%s", f->name);
            fprintf(stderr, "lastgasp watch: %s %s: over the cap (%zu dumps, %" PRIu64 " MiB); %" PRIu64 " %s in all\n",
                    what, p, max_files, max_bytes >> 20, *removed, what);
        } else if (p) {
            fprintf(stderr, "lastgasp watch: cannot remove %s: %s\n", p, strerror(errno));
        }
        free(p);
        free(f->name);
        f->name = NULL;
    }
    /* Close the gap left at the front. */
    memmove(l->f, l->f + k, (l->n - k) * sizeof *l->f);
    l->n -= k;
    return gone;
}

int spool_move(const char *path, const char *dir, const char *name)
{
    char *to = NULL;
    size_t stem = strlen(name) > 4 ? strlen(name) - 4 : strlen(name);

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    for (int k = 1; k < 1000; k++) {
        int rc = k == 1 ? asprintf(&to, "%s/%s", dir, name)
                        : asprintf(&to, "%s/%.*s~%d%s", dir, (int)stem, name, k, name + stem);
        if (rc < 0)
            return -1;
        /* link + unlink: a rename that never replaces what is already there. */
        if (link(path, to) == 0) {
            free(to);
            return unlink(path);
        }
        int e = errno;
        free(to);
        if (e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

/* The state file: one JSON object (formats/README.md, "lastgasp watch"), read with the JSON reader. */
#define STATE_MAX (64u << 10) /* a state file is some 300 bytes: anything far larger is not one */
#define STATE_TOKENS 256

static const char *const state_counts[] = {"uploaded", "bundled", "bundles", "dropped", "pruned"};

static uint64_t *count_of(struct watch_counts *c, size_t i)
{
    uint64_t *const fields[] = {&c->uploaded, &c->bundled, &c->bundles, &c->dropped, &c->pruned};
    return fields[i];
}

/* text[0..n) as a version 1 state file into *c: 0, or -1 with why. */
static int state_parse(const char *text, size_t n, struct watch_counts *c, char *why, size_t whylen)
{
    struct json_tok tok[STATE_TOKENS];
    struct json_doc d;
    char format[64];
    size_t len;
    uint64_t version;
    int t;

    if (json_parse(&d, text, n, tok, STATE_TOKENS) != 0) {
        snprintf(why, whylen, "not JSON (%s)", d.error);
        return -1;
    }
    if (tok[0].type != JSON_OBJECT || json_get_str(&d, json_member(&d, 0, "format"), format, sizeof format, &len) ||
        strcmp(format, "lastgasp-watch-state") != 0) {
        snprintf(why, whylen, "not a lastgasp-watch-state object");
        return -1;
    }
    if (json_get_u64(&d, json_member(&d, 0, "version"), &version) != 0 || version != 1) {
        snprintf(why, whylen, "a state file of another version than 1 (a newer lastgasp's?)");
        return -1;
    }
    for (size_t i = 0; i < sizeof state_counts / sizeof *state_counts; i++) {
        if (json_get_u64(&d, json_member(&d, 0, state_counts[i]), count_of(c, i)) != 0) {
            snprintf(why, whylen, "\"%s\" is missing or not a count", state_counts[i]);
            return -1;
        }
    }
    t = json_member(&d, 0, "last_dropped");
    if (t >= 0 && tok[t].type != JSON_NULL &&
        (json_get_str(&d, t, c->last_dropped, sizeof c->last_dropped, &len) != 0 || strlen(c->last_dropped) != len)) {
        snprintf(why, whylen, "\"last_dropped\" is not a file name");
        return -1;
    }
    return 0;
}

int watch_state_load(const char *path, struct watch_counts *c, char *why, size_t whylen)
{
    char *text = malloc(STATE_MAX + 1);
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int err = errno;

    memset(c, 0, sizeof *c);
    if (!f && err == ENOENT) {
        free(text);
        return 0; /* the first run */
    }
    if (!f || !text) {
        snprintf(why, whylen, "cannot read %s: %s", path, strerror(f ? ENOMEM : err));
        if (f)
            fclose(f);
        free(text);
        return -1;
    }
    n = fread(text, 1, STATE_MAX + 1, f);
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (rerr) {
        snprintf(why, whylen, "cannot read %s: %s", path, strerror(rerr));
        free(text);
        return -1;
    }
    char what[200];
    int rc = n > STATE_MAX ? (snprintf(what, sizeof what, "larger than %u KiB", STATE_MAX >> 10), -1)
                           : state_parse(text, n, c, what, sizeof what);
    free(text);
    if (rc == 0)
        return 0;
    /* A damaged file is kept for whoever wants to look, out of the way of the next save. */
    memset(c, 0, sizeof *c);
    char *aside = NULL;
    int kept = asprintf(&aside, "%s.bad", path) >= 0 && rename(path, aside) == 0;
    snprintf(why, whylen, "%s is not a usable state file: %s%s%s", path, what, kept ? "; kept as " : "",
             kept ? aside : "");
    free(aside);
    return -1;
}

int watch_state_save(const char *path, const struct watch_counts *c, size_t waiting)
{
    char *tmp = NULL;
    time_t now = time(NULL);
    struct tm tm;
    char when[32];
    struct json_w w;

    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    if (asprintf(&tmp, "%s.%ld.tmp", path, (long)getpid()) < 0)
        return -1;
    FILE *f = fopen(tmp, "w");
    int rc = -1;
    if (f) {
        const uint64_t counts[] = {c->uploaded, c->bundled, c->bundles, c->dropped, c->pruned};
        json_w_init_file(&w, f);
        json_obj(&w);
        json_key(&w, "format");
        json_str(&w, "lastgasp-watch-state");
        json_key(&w, "version");
        json_u64(&w, 1);
        json_key(&w, "updated");
        json_str(&w, when);
        json_key(&w, "waiting");
        json_u64(&w, waiting);
        for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
            json_key(&w, state_counts[i]);
            json_u64(&w, counts[i]);
        }
        json_key(&w, "last_dropped");
        json_str(&w, c->last_dropped[0] ? c->last_dropped : NULL);
        json_obj_end(&w);
        rc = json_w_finish(&w) == 0 && fputc('\n', f) != EOF && fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
        rc |= fclose(f);
        if (rc == 0)
            rc = rename(tmp, path);
        if (rc != 0)
            unlink(tmp);
    }
    free(tmp);
    return rc;
}
