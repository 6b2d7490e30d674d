/* bufw.c — a buffered writer on a file descriptor.
 *
 * RULES: async-signal-safe; retries EINTR and short writes with a bounded number of attempts
 * (a write that makes no progress 64 times in a row is an error, never a spin).
 */
#include "sigsafe.h"

#define SS_EINTR 4
#define SS_EAGAIN 11
#define SS_EIO 5

int ss_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    int stalls = 0;
    while (n > 0) {
        ssize_t r = ss_write(fd, b, n);
        if (r == -SS_EINTR || r == -SS_EAGAIN || r == 0) {
            if (++stalls > 64)
                return r < 0 ? (int)r : -SS_EIO;
            continue;
        }
        if (r < 0)
            return (int)r;
        stalls = 0;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

void ss_bufw_init(struct ss_bufw *w, int fd, void *buf, size_t cap)
{
    w->fd = fd;
    w->err = 0;
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->total = 0;
}

int ss_bufw_flush(struct ss_bufw *w)
{
    if (!w->err && w->len) {
        int r = ss_write_all(w->fd, w->buf, w->len);
        if (r < 0)
            w->err = r;
    }
    w->len = 0;
    return w->err;
}

int ss_bufw_put(struct ss_bufw *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    if (w->err)
        return w->err;
    w->total += n;
    if (n >= w->cap) {
        if (ss_bufw_flush(w) < 0)
            return w->err;
        int r = ss_write_all(w->fd, b, n);
        if (r < 0)
            w->err = r;
        return w->err;
    }
    if (w->len + n > w->cap && ss_bufw_flush(w) < 0)
        return w->err;
    ss_memcpy(w->buf + w->len, b, n);
    w->len += n;
    return 0;
}
