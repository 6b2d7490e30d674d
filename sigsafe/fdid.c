/* fdid.c — is this fd still the file we opened?
 *
 * RULES: async-signal-safe (one raw fstat each), no errno, no allocation. A daemon that closes every fd
 * from 3 up (closefrom, close_range) and then opens its log file or a directory gets our numbers back:
 * writing through them would put raw memory into its log. The handler checks before each use.
 */
#include "sigsafe.h"

int ss_fdid_take(struct ss_fdid *id, int fd)
{
    struct stat st;
    int r = fd < 0 ? -9 /* EBADF */ : ss_fstat(fd, &st);
    if (r < 0) {
        id->fd = -1;
        return r;
    }
    id->fd = fd;
    id->type = st.st_mode & S_IFMT;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    return 0;
}

int ss_fdid_same(const struct ss_fdid *id)
{
    struct stat st;
    if (id->fd < 0 || ss_fstat(id->fd, &st) < 0)
        return 0;
    return (st.st_mode & S_IFMT) == id->type && st.st_dev == id->dev && st.st_ino == id->ino;
}
