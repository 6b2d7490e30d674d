/* input.c — what a FILE argument of show, json, html and pprof names (cli.h).
 *
 * Normal context (the `lastgasp` tool). Only a regular file is looked at more than once (its first bytes to
 * tell a bundle, then the whole of it): a pipe, a terminal or a process substitution (/dev/fd/63) is read into
 * memory once and parsed from there, since a second look would find the first bytes gone.
 */
#include "cli.h"
#include "../bundle/bundle.h"
#include "../read/mdread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The whole of fd (a pipe, a device) into md, which then owns the bytes. A stream that does not start as a
 * minidump is not read on (/dev/zero ends here). */
static enum cli_input open_stream(int fd, struct mdr_dump *md, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    if (mdr_read_fd(fd, &buf, &len, err, errlen) != MDR_OK)
        return CLI_INPUT_FAILED;
    if (len >= 4 && memcmp(buf, "PK", 2) == 0) {
        snprintf(err, errlen, "a zip bundle, read as a stream: give a bundle as a file (it is read by seeking)");
        free(buf);
        return CLI_INPUT_FAILED;
    }
    int rc = mdr_open(md, buf, len, err, errlen);
    md->owned = buf;
    if (rc != MDR_OK) {
        mdr_close(md);
        return CLI_INPUT_FAILED;
    }
    return CLI_INPUT_DUMP;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* BUNDLE.zip:NAME.dmp — the bundle is the longest prefix before a ':' that is a file (paths may hold ':'). */
static enum cli_input open_entry(const char *arg, struct mdr_dump *md, char *err, size_t errlen)
{
    char *path = strdup(arg), *colon = path ? strrchr(path, ':') : NULL;
    enum cli_input r = CLI_INPUT_FAILED;
    struct bundle b;

    while (colon) {
        *colon = '\0';
        if (is_file(path))
            break;
        char *prev = strrchr(path, ':');
        *colon = ':';
        colon = prev;
    }
    if (!colon) {
        snprintf(err, errlen, "%s", path ? "no such file, and no BUNDLE:ENTRY whose bundle exists" : "out of memory");
    } else {
        if (bundle_open(&b, path, err, errlen) == 0 && bundle_read_dump(&b, colon + 1, md, err, errlen) == 0)
            r = CLI_INPUT_DUMP;
        else
            mdr_close(md);
        bundle_close(&b);
    }
    free(path);
    return r;
}

enum cli_input cli_open_input(const char *arg, struct mdr_dump *md, const char **label, char *err, size_t errlen)
{
    struct stat st;
    enum cli_input r;

    memset(md, 0, sizeof *md);
    *label = arg;
    if (strcmp(arg, "-") == 0) {
        *label = "standard input";
        return open_stream(0, md, err, errlen);
    }
    if (stat(arg, &st) != 0)
        return strchr(arg, ':') ? open_entry(arg, md, err, errlen)
                                : (snprintf(err, errlen, "cannot open: %s", strerror(errno)), CLI_INPUT_FAILED);
    if (S_ISREG(st.st_mode)) {
        if (bundle_is_zip(arg))
            return CLI_INPUT_BUNDLE;
        r = mdr_open_file(md, arg, err, errlen) == MDR_OK ? CLI_INPUT_DUMP : CLI_INPUT_FAILED;
        if (r == CLI_INPUT_FAILED)
            mdr_close(md);
        return r;
    }
    int fd = open(arg, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return CLI_INPUT_FAILED;
    }
    r = open_stream(fd, md, err, errlen);
    close(fd);
    return r;
}
