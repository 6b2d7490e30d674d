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

#define SS_ENOTSOCK 88
#define SS_EPIPE 32
#define SS_ENXIO 6
#define SS_PIPE_BUF 4096

/* A pipe's reader may have stalled (a hung log shipper) or gone: a plain write would then block
 * forever or raise SIGPIPE. A reopened FIFO gets its own open file description, so O_NONBLOCK there
 * leaves the shared one (and every other process writing to it) alone; a write of at most PIPE_BUF
 * to it is all or nothing. The caller keeps SIGPIPE blocked: a reader that leaves between the open
 * and the write still queues one, which is taken back here. */
static ssize_t write_fifo(int fd, const void *p, size_t n)
{
    char path[32];
    size_t k = 14;
    ss_memcpy(path, "/proc/self/fd/", 14);
    k += ss_fmt_u64(path + k, (uint64_t)fd);
    path[k] = 0;
    int nb = ss_openat(-100 /* AT_FDCWD */, path, 01 /* O_WRONLY */ | 04000 /* O_NONBLOCK */, 0);
    if (nb == -SS_ENXIO)
        return -SS_EPIPE; /* no reader */
    if (nb < 0)
        return ss_poll_out(fd) == 1 ? ss_write(fd, p, n) : -SS_EAGAIN; /* no /proc: the next best */
    ssize_t r = ss_write(nb, p, n);
    ss_close(nb);
    if (r == -SS_EPIPE)
        ss_sigpipe_discard();
    return r;
}

ssize_t ss_write_nowait(int fd, const void *p, size_t n)
{
    if (n > SS_PIPE_BUF)
        n = SS_PIPE_BUF;
    ssize_t r = ss_send_nowait(fd, p, n);
    if (r != -SS_ENOTSOCK)
        return r;
    if (ss_fd_is_fifo(fd) == 1)
        return write_fifo(fd, p, n);
    /* A file, a terminal, /dev/null: poll first, so a terminal stopped by ^S is not waited for. */
    int ready = ss_poll_out(fd);
    if (ready != 1)
        return ready < 0 ? ready : -SS_EAGAIN;
    return ss_write(fd, p, n);
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
