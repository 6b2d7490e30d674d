/* procfs.c — readers for /proc/self files: whole files, lines, maps entries, thread ids.
 *
 * RULES: async-signal-safe; raw syscalls only; every loop bounded by a buffer size or a cap.
 */
#include "sigsafe.h"

#include <fcntl.h>

#define SS_EINTR 4

ssize_t ss_read_file(int dirfd, const char *path, char *buf, size_t cap, int *truncated)
{
    *truncated = 0;
    int fd = ss_openat(dirfd, path, O_RDONLY, 0);
    if (fd < 0)
        return fd;
    size_t len = 0;
    int intr = 0;
    while (len < cap) {
        ssize_t r = ss_read(fd, buf + len, cap - len);
        if (r == -SS_EINTR && ++intr < 64)
            continue;
        if (r < 0) {
            ss_close(fd);
            return r;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    if (len == cap) {
        char extra;
        if (ss_read(fd, &extra, 1) > 0)
            *truncated = 1;
    }
    ss_close(fd);
    return (ssize_t)len;
}

int ss_next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *linelen)
{
    if (*pos >= len)
        return 0;
    const char *start = buf + *pos;
    const char *nl = ss_memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *line = start;
    *linelen = n;
    *pos += n + (nl ? 1 : 0);
    return 1;
}

static size_t skip_spaces(const char *s, size_t i, size_t n)
{
    while (i < n && s[i] == ' ')
        i++;
    return i;
}

static size_t skip_field(const char *s, size_t i, size_t n)
{
    while (i < n && s[i] != ' ')
        i++;
    return skip_spaces(s, i, n);
}

/* "start-end perms offset dev inode   path" */
int ss_parse_maps_line(const char *s, size_t n, struct ss_mapping *m)
{
    size_t i = 0, k;
    ss_memset(m, 0, sizeof *m);
    if (!(k = ss_parse_hex(s, n, &m->start)) || k >= n || s[k] != '-')
        return 0;
    i = k + 1;
    if (!(k = ss_parse_hex(s + i, n - i, &m->end)))
        return 0;
    i = skip_spaces(s, i + k, n);
    if (i + 4 > n)
        return 0;
    m->perms = (s[i] == 'r' ? SS_PERM_R : 0) | (s[i + 1] == 'w' ? SS_PERM_W : 0) | (s[i + 2] == 'x' ? SS_PERM_X : 0);
    i = skip_field(s, i, n);
    if (!(k = ss_parse_hex(s + i, n - i, &m->offset)))
        return 0;
    i = skip_field(s, i, n); /* offset */
    i = skip_field(s, i, n); /* dev */
    if (!(k = ss_parse_u64(s + i, n - i, &m->inode)))
        return 0;
    i = skip_field(s, i, n); /* inode */
    m->path = s + i;
    m->path_len = (uint32_t)(n - i);
    return m->end > m->start;
}

struct ss_dirent64 {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

int ss_list_tids(int *tids, int cap, int *truncated, void *scratch, size_t scratch_len)
{
    *truncated = 0;
    int fd = ss_openat(AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return fd;
    int count = 0;
    for (int rounds = 0; rounds < 1 << 16; rounds++) {
        int n = ss_getdents64(fd, scratch, scratch_len);
        if (n == -SS_EINTR)
            continue;
        if (n <= 0)
            break;
        for (int off = 0; off < n;) {
            struct ss_dirent64 *d = (struct ss_dirent64 *)((char *)scratch + off);
            if (d->reclen == 0)
                break;
            off += d->reclen;
            uint64_t tid;
            size_t len = ss_strlen(d->name);
            if (ss_parse_u64(d->name, len, &tid) != len || len == 0)
                continue; /* "." and ".." */
            if (count == cap) {
                *truncated = 1;
                continue;
            }
            tids[count++] = (int)tid;
        }
    }
    ss_close(fd);
    return count;
}
