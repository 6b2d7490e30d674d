/* write.c — `lastgasp pprof` (pprof_write(); its argv is parsed in formats/cli/pprof.c): build a dump's
 * goroutine profile and write it gzipped to FILE or to standard output.
 *
 * Normal context (the `lastgasp` tool). With -o the profile is written under a temporary name beside FILE
 * (mode 0600, like the dumps it comes from) and renamed when complete, so FILE is never a partial profile.
 */
#include "pprof.h"

#include "../read/mdread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int pprof_write(const struct mdr_dump *md, const char *label, const char *path)
{
    struct pprof_pb pb = {0};
    int status = 1;

    if (md->nwarnings)
        fprintf(stderr, "lastgasp pprof: %s: warning: %s (%zu warnings in all: lastgasp show lists them)\n", label,
                md->warnings[0], md->nwarnings + md->warnings_dropped);
    if (!md->go.present) {
        fprintf(stderr, "lastgasp pprof: %s: no goroutines: the dump has no lastgasp Go stream (%s)\n", label,
                md->go_crash_text.data ? "it holds the Go runtime's crash text only: a Go version lastgasp cannot "
                                         "walk; lastgasp show prints that text"
                : md->lg.present ? "not a Go program, or the dump's notes say why the goroutines were not captured"
                                 : "not a lastgasp dump of a Go program");
        return 1;
    }
    if (md->go.ngoroutines == 0)
        fprintf(stderr, "lastgasp pprof: %s: the Go stream holds no goroutines: the profile has no samples\n",
                label);
    if (pprof_profile_build(&pb, md) != 0) {
        fprintf(stderr, "lastgasp pprof: %s: out of memory building the profile\n", label);
    } else {
        errno = 0;
        if (output(&pb, path) == 0)
            status = 0;
    }
    pprof_pb_free(&pb);
    return status;
}
