/* pprof_main.c — `lastgasp pprof DUMP [-o FILE]` (pprof.h): read the dump (a file, or `-` for standard input),
 * build the goroutine profile, write it gzipped to FILE or to standard output.
 *
 * Normal context (the `lastgasp` tool). With -o the profile is written under a temporary name beside FILE
 * (mode 0600, like the dumps it comes from) and renamed when complete, so FILE is never a partial profile.
 * Without -o it goes to standard output, unless that is a terminal: binary there helps nobody.
 */
#include "pprof.h"

#include "../bundle/bundle.h"
#include "../read/mdread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: lastgasp pprof DUMP [-o FILE]\n"
    "Write the goroutines of a Go dump as a pprof goroutine profile (profile.proto, gzipped): one sample per\n"
    "goroutine, labels goroutine, status, wait_reason, crashed, locked_to_thread, created_by. Read it with\n"
    "  go tool pprof -traces FILE      every goroutine's stack and labels\n"
    "  go tool pprof -top FILE         goroutines per function\n"
    "  go tool pprof -http=:8080 FILE  the web UI\n"
    "DUMP `-` reads the dump from standard input; BUNDLE.zip:NAME.dmp reads one dump of a bundle. Without -o\n"
    "the profile goes to standard output, which must not be a terminal. Exit status: 0 written, 1 the dump\n"
    "could not be read, has no Go stream, or the profile could not be written, 2 usage.\n";

#define MAX_STDIN_DUMP ((size_t)UINT32_MAX + 1) /* the largest file mdr_open_file() reads */

/* The whole of standard input into md (which then owns the bytes). As mdr_open_file(). */
static int open_stdin(struct mdr_dump *md, char *err, size_t errlen)
{
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;

    memset(md, 0, sizeof *md);
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            uint8_t *nbuf = len < MAX_STDIN_DUMP ? realloc(buf, ncap) : NULL;

            if (!nbuf) {
                free(buf);
                snprintf(err, errlen, len < MAX_STDIN_DUMP ? "out of memory reading standard input"
                                                           : "standard input is larger than any minidump");
                return len < MAX_STDIN_DUMP ? MDR_NOMEM : MDR_NOT_MINIDUMP;
            }
            buf = nbuf;
            cap = ncap;
        }
        ssize_t k = read(0, buf + len, cap - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            snprintf(err, errlen, "cannot read standard input: %s", strerror(errno));
            free(buf);
            return MDR_IO;
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    int rc = mdr_open(md, buf, len, err, errlen);
    md->owned = buf;
    return rc;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* BUNDLE.zip:NAME.dmp, as show, json and html take it: the bundle is the longest prefix before a ':' that is
 * a file (paths may hold ':'). As mdr_open_file(). */
static int open_entry(struct mdr_dump *md, const char *arg, char *err, size_t errlen)
{
    char *path = strdup(arg), *colon = path ? strrchr(path, ':') : NULL;
    struct bundle b;
    int rc = MDR_IO;

    memset(md, 0, sizeof *md);
    while (colon) {
        *colon = '\0';
        if (is_file(path))
            break;
        char *prev = strrchr(path, ':');
        *colon = ':';
        colon = prev;
    }
    if (!colon)
        snprintf(err, errlen, "no such file, and no BUNDLE:ENTRY whose bundle exists");
    else if (bundle_open(&b, path, err, errlen) == 0)
        rc = bundle_read_dump(&b, colon + 1, md, err, errlen) == 0 ? MDR_OK : MDR_IO;
    if (colon)
        bundle_close(&b);
    free(path);
    return rc;
}

static int write_file(const void *p, size_t n, void *ctx)
{
    return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

/* gzip the profile into path (temporary name, then rename), or stdout when path is NULL. 0, or -1 with a
 * message printed. */
static int output(const struct pprof_pb *pb, const char *path)
{
    char *tmp = NULL;
    FILE *f = stdout;
    int fd = -1;

    if (path) {
        size_t n = strlen(path) + sizeof ".tmp.XXXXXX";
        tmp = malloc(n);
        if (!tmp) {
            fprintf(stderr, "lastgasp pprof: out of memory\n");
            return -1;
        }
        snprintf(tmp, n, "%s.tmp.XXXXXX", path);
        fd = mkstemp(tmp);
        if (fd < 0 || !(f = fdopen(fd, "wb"))) {
            fprintf(stderr, "lastgasp pprof: %s: cannot create: %s\n", path, strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
            free(tmp);
            return -1;
        }
    }
    int rc = pprof_gzip(pb->buf, pb->len, write_file, f);
    if (fflush(f) != 0)
        rc = -1;
    if (path) {
        if (fclose(f) != 0)
            rc = -1;
        if (rc == 0 && rename(tmp, path) != 0) {
            fprintf(stderr, "lastgasp pprof: %s: cannot rename %s into place: %s\n", path, tmp, strerror(errno));
            unlink(tmp);
            free(tmp);
            return -1;
        }
        if (rc != 0)
            unlink(tmp);
        free(tmp);
    }
    if (rc != 0)
        fprintf(stderr, "lastgasp pprof: %s: could not write the profile: %s\n", path ? path : "standard output",
                errno ? strerror(errno) : "compression failed");
    return rc;
}

int pprof_main(int argc, char **argv)
{
    const char *dump = NULL, *out = NULL, *label;
    struct mdr_dump md;
    struct pprof_pb pb = {0};
    char err[600];
    int status = 1, rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc && !out) {
            out = argv[++i];
        } else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && !dump) {
            dump = argv[i];
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!dump) {
        fputs(usage, stderr);
        return 2;
    }
    if (!out && isatty(1)) {
        fprintf(stderr, "lastgasp pprof: not writing a gzipped profile to a terminal: give -o FILE, or redirect "
                        "(lastgasp pprof %s > goroutines.pb.gz), then: go tool pprof -traces goroutines.pb.gz\n",
                strcmp(dump, "-") == 0 ? "-" : dump);
        return 2;
    }
    label = strcmp(dump, "-") == 0 ? "standard input" : dump;
    if (is_file(dump) && bundle_is_zip(dump)) {
        fprintf(stderr, "lastgasp pprof: %s: a bundle: name one of its dumps, %s:NAME.dmp (lastgasp show %s lists "
                        "them)\n", dump, dump, dump);
        return 1;
    }
    if (strcmp(dump, "-") == 0)
        rc = open_stdin(&md, err, sizeof err);
    else if (!is_file(dump) && strchr(dump, ':'))
        rc = open_entry(&md, dump, err, sizeof err);
    else
        rc = mdr_open_file(&md, dump, err, sizeof err);
    if (rc != MDR_OK) {
        fprintf(stderr, "lastgasp pprof: %s: %s\n", label, err);
        mdr_close(&md);
        return 1;
    }
    if (md.nwarnings)
        fprintf(stderr, "lastgasp pprof: %s: warning: %s (%zu warnings in all: lastgasp show lists them)\n", label,
                md.warnings[0], md.nwarnings + md.warnings_dropped);
    if (!md.go.present) {
        fprintf(stderr, "lastgasp pprof: %s: no goroutines: the dump has no lastgasp Go stream (%s)\n", label,
                md.go_crash_text.data ? "it holds the Go runtime's crash text only: a Go version lastgasp cannot "
                                        "walk; lastgasp show prints that text"
                : md.lg.present ? "not a Go program, or the dump's notes say why the goroutines were not captured"
                                : "not a lastgasp dump of a Go program");
        goto done;
    }
    if (md.go.ngoroutines == 0)
        fprintf(stderr, "lastgasp pprof: %s: the Go stream holds no goroutines: the profile has no samples\n",
                label);
    if (pprof_profile_build(&pb, &md) != 0) {
        fprintf(stderr, "lastgasp pprof: %s: out of memory building the profile\n", label);
        goto done;
    }
    errno = 0;
    if (output(&pb, out) == 0)
        status = 0;
done:
    pprof_pb_free(&pb);
    mdr_close(&md);
    return status;
}
