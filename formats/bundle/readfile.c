/* readfile.c — a dump file read whole, for collect and upload. Normal context (heap, libc). */
#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bundle_read_regular_file(const char *path, int follow, uint64_t max, struct stat *st, uint8_t **buf, size_t *len,
                          char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | (follow ? 0 : O_NOFOLLOW) | O_NONBLOCK | O_CLOEXEC);
    size_t got = 0;

    *buf = NULL;
    if (fd < 0) {
        snprintf(why, whylen, errno == ELOOP ? "a symbolic link, not followed" : "cannot open: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || (uint64_t)st->st_size > max) {
        if (S_ISREG(st->st_mode))
            snprintf(why, whylen, "larger than %llu MiB", (unsigned long long)(max >> 20));
        else
            snprintf(why, whylen, "not a regular file");
        close(fd);
        return -1;
    }
    *len = (size_t)st->st_size;
    *buf = malloc(*len ? *len : 1);
    while (*buf && got < *len) {
        ssize_t k = read(fd, *buf + got, *len - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (!*buf || got != *len) {
        snprintf(why, whylen, "%s", *buf ? "cannot read it whole (short read)" : "out of memory");
        free(*buf);
        *buf = NULL;
        return -1;
    }
    return 0;
}
