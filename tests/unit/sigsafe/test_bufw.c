/* test_bufw.c — sigsafe/bufw.c: the buffered writer against slow and stalling readers, EINTR, errors; and
 * ss_write_nowait on full and closed pipes, sockets and files.
 *
 * Output: one line per failed check, then "N passed, M failed"; exit status 0 when M is 0. Also built
 * from source under ASan and UBSan (Makefile: build/tests/unit/sigsafe/test_bufw_asan).
 */
#include "sigsafe/sigsafe.h"
#include "tests/unit/check.h"
#include "tests/unit/sigsafe/sstest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- bufw.c ---- */

enum drain_mode {
    DRAIN_FAST,   /* read whatever is there, at once */
    DRAIN_SLOW,   /* small random reads, with short pauses */
    DRAIN_STALLS, /* fast, but stop for 3 ms every 256 KiB: the writer waits on a full pipe, so SIGALRM
                   * interrupts writes that made no progress at all (EINTR) as well as ones that did */
};

struct drain {
    int fd;
    uint8_t *out;
    size_t cap, got, extra; /* extra: bytes past cap, which must not exist */
    enum drain_mode mode;
};

static void *drain_main(void *arg)
{
    struct drain *d = arg;
    uint64_t local_rng = 0x1234567;
    size_t paused_at = 0;
    for (;;) {
        if (d->got == d->cap) {
            char sink[256];
            ssize_t r = read(d->fd, sink, sizeof sink);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            d->extra += (size_t)r;
            continue;
        }
        size_t want = d->cap - d->got;
        if (d->mode == DRAIN_SLOW) {
            local_rng = local_rng * 6364136223846793005u + 1442695040888963407u;
            size_t chunk = 1 + (size_t)(local_rng >> 33) % 1500;
            if (chunk < want)
                want = chunk;
            if ((local_rng >> 20) % 16 == 0)
                usleep(200);
        } else if (d->mode == DRAIN_STALLS && d->got / (256 * 1024) != paused_at) {
            paused_at = d->got / (256 * 1024);
            usleep(3000);
        }
        ssize_t r = read(d->fd, d->out + d->got, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        d->got += (size_t)r;
    }
    return 0;
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void pipe_small(int p[2])
{
    if (pipe(p) != 0) {
        perror("pipe");
        exit(2);
    }
    fcntl(p[1], F_SETPIPE_SZ, 4096);
}

static void test_bufw_slow_reader(void)
{
    enum { TOTAL = 256 * 1024 };
    uint8_t *data = malloc(TOTAL), *out = malloc(TOTAL);
    fill_random(data, TOTAL);
    int p[2];
    pipe_small(p);
    struct drain d = {p[0], out, TOTAL, 0, 0, DRAIN_SLOW};
    pthread_t t;
    pthread_create(&t, 0, drain_main, &d);
    uint8_t buf[1000];
    struct ss_bufw w;
    ss_bufw_init(&w, p[1], buf, sizeof buf);
    size_t off = 0;
    int err = 0;
    while (off < TOTAL) {
        size_t n = (size_t)(rnd() % 3000); /* below, at and above the buffer's capacity, and 0 */
        if (n > TOTAL - off)
            n = TOTAL - off;
        err |= ss_bufw_put(&w, data + off, n);
        off += n;
    }
    err |= ss_bufw_flush(&w);
    close(p[1]);
    pthread_join(t, 0);
    close(p[0]);
    CHECK(err == 0 && w.err == 0);
    CHECK_EQ_U64(w.total, TOTAL);
    CHECK(d.got == TOTAL && d.extra == 0);
    CHECK(memcmp(out, data, TOTAL) == 0);
    free(data);
    free(out);
}

static void test_bufw_eintr(void)
{
    install_handler(SIGALRM, on_alarm, 0); /* no SA_RESTART: a blocked write returns early */

    /* First prove the setup: a write to a full pipe that nobody drains comes back with -EINTR. */
    int p[2];
    pipe_small(p);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    static uint8_t block[65536];
    while (write(p[1], block, sizeof block) > 0)
        ;
    fcntl(p[1], F_SETFL, 0);
    struct itimerval it = {{0, 0}, {0, 20000}};
    alarms = 0;
    setitimer(ITIMER_REAL, &it, 0);
    ssize_t r = ss_write(p[1], block, 100);
    CHECK_MSG(r == -EINTR && alarms == 1, "write to a full pipe under SIGALRM: %zd, %d alarms", r, (int)alarms);
    close(p[0]);
    close(p[1]);

    /* Then ss_write_all and the writer: a 4 KiB pipe drained by a thread that stalls now and then, SIGALRM
     * every millisecond on the writing thread, so writes stop short and fail with EINTR over and over. */
    enum { TOTAL = 8 << 20 };
    uint8_t *data = malloc(TOTAL), *out = malloc(TOTAL);
    fill_random(data, TOTAL);
    sigset_t alrm, old;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    for (int round = 0; round < 2; round++) {
        pipe_small(p);
        memset(out, 0, TOTAL);
        struct drain d = {p[0], out, TOTAL, 0, 0, DRAIN_STALLS};
        pthread_t t;
        pthread_sigmask(SIG_BLOCK, &alrm, &old); /* the drainer inherits the block: alarms hit the writer */
        pthread_create(&t, 0, drain_main, &d);
        pthread_sigmask(SIG_SETMASK, &old, 0);
        alarms = 0;
        struct itimerval every = {{0, 1000}, {0, 1000}};
        setitimer(ITIMER_REAL, &every, 0);
        int err;
        uint64_t total = 0;
        if (round == 0) {
            err = ss_write_all(p[1], data, TOTAL);
            total = TOTAL;
        } else {
            uint8_t buf[3000];
            struct ss_bufw w;
            ss_bufw_init(&w, p[1], buf, sizeof buf);
            size_t off = 0;
            err = 0;
            while (off < TOTAL) {
                size_t n = 1 + (size_t)(rnd() % 70000);
                if (n > TOTAL - off)
                    n = TOTAL - off;
                err |= ss_bufw_put(&w, data + off, n);
                off += n;
            }
            err |= ss_bufw_flush(&w);
            total = w.total;
        }
        struct itimerval stop = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &stop, 0);
        close(p[1]);
        pthread_join(t, 0);
        close(p[0]);
        const char *what = round == 0 ? "ss_write_all" : "ss_bufw";
        CHECK_MSG(err == 0, "%s under SIGALRM: %d", what, err);
        CHECK_MSG(alarms > 0, "%s: no SIGALRM arrived during the transfer", what);
        CHECK_EQ_U64(total, TOTAL);
        CHECK_MSG(d.got == TOTAL && d.extra == 0 && memcmp(out, data, TOTAL) == 0,
                  "%s: %zu (+%zu) of %d bytes arrived, or out of order", what, d.got, d.extra, (int)TOTAL);
    }
    install_handler(SIGALRM, SIG_DFL, 0);
    free(data);
    free(out);
}

static void test_bufw_errors(void)
{
    /* EPIPE: the reader is gone (SIGPIPE ignored, as the handler path would see it blocked). */
    install_handler(SIGPIPE, SIG_IGN, 0);
    int p[2];
    pipe_small(p);
    close(p[0]);
    CHECK(ss_write_all(p[1], "x", 1) == -EPIPE);
    uint8_t buf[64];
    struct ss_bufw w;
    ss_bufw_init(&w, p[1], buf, sizeof buf);
    CHECK(ss_bufw_put(&w, "abc", 3) == 0); /* buffered, not yet written */
    CHECK(ss_bufw_flush(&w) == -EPIPE && w.err == -EPIPE);
    CHECK(ss_bufw_put(&w, "more", 4) == -EPIPE && w.len == 0);
    close(p[1]);
    install_handler(SIGPIPE, SIG_DFL, 0);

    /* EBADF, from the buffered path and from the direct path. */
    int closed = open("/dev/null", O_WRONLY);
    close(closed);
    CHECK(ss_write_all(-1, "x", 1) == -EBADF);
    CHECK(ss_write_all(closed, "x", 1) == -EBADF);
    CHECK(ss_write_all(-1, "x", 0) == 0); /* nothing to write: no syscall, no error */
    ss_bufw_init(&w, closed, buf, sizeof buf);
    CHECK(ss_bufw_put(&w, "abc", 3) == 0 && w.len == 3);
    CHECK(ss_bufw_flush(&w) == -EBADF);
    CHECK(w.err == -EBADF);
    uint64_t total = w.total;
    CHECK(ss_bufw_put(&w, "dropped", 7) == -EBADF);
    CHECK(w.len == 0 && w.total == total);
    CHECK(ss_bufw_flush(&w) == -EBADF);
    ss_bufw_init(&w, -1, buf, sizeof buf);
    uint8_t large[200] = {0};
    CHECK(ss_bufw_put(&w, large, sizeof large) == -EBADF && w.err == -EBADF);
    CHECK(ss_bufw_put(&w, "x", 1) == -EBADF && w.len == 0);

    /* A non-blocking pipe that stays full: a bounded number of attempts, then -EAGAIN, never a hang. */
    pipe_small(p);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    static uint8_t block[65536];
    while (write(p[1], block, sizeof block) > 0)
        ;
    CHECK(ss_write_all(p[1], "x", 1) == -EAGAIN); /* returning at all is the point */
    close(p[0]);
    close(p[1]);
}

/* Buffering exactly: small puts wait in the buffer, big ones go straight through, order is kept. */
static void test_bufw_file(void)
{
    int fd = openat(tmpdir_fd, "bufw", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    uint8_t buf[16];
    struct ss_bufw w;
    ss_bufw_init(&w, fd, buf, sizeof buf);
    CHECK(w.fd == fd && w.err == 0 && w.len == 0 && w.total == 0 && w.cap == sizeof buf);
    uint8_t expect[4096];
    size_t elen = 0;
    static const size_t sizes[] = {5, 10, 1, 0, 16, 15, 17, 3, 100, 1, 16, 2};
    int bad = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t piece[128];
        fill_random(piece, sizes[i]);
        if (ss_bufw_put(&w, piece, sizes[i]) != 0)
            bad++;
        memcpy(expect + elen, piece, sizes[i]);
        elen += sizes[i];
        if (w.len > w.cap)
            bad++;
    }
    CHECK(bad == 0);
    struct stat st;
    fstat(fd, &st);
    CHECK((size_t)st.st_size + w.len == elen); /* what is not in the file yet is in the buffer */
    CHECK(ss_bufw_flush(&w) == 0 && w.len == 0);
    CHECK_EQ_U64(w.total, elen);
    CHECK(ss_bufw_flush(&w) == 0); /* nothing buffered: nothing written */
    close(fd);
    uint8_t got[4096];
    CHECK(slurp("bufw", got, sizeof got) == (ssize_t)elen && memcmp(got, expect, elen) == 0);
    fd = openat(tmpdir_fd, "bufw", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ss_bufw_init(&w, fd, buf, sizeof buf);
    CHECK(ss_bufw_put(&w, "abc", 3) == 0);
    fstat(fd, &st);
    CHECK(st.st_size == 0);
    CHECK(ss_bufw_flush(&w) == 0);
    fstat(fd, &st);
    CHECK(st.st_size == 3);
    close(fd);
}

/* ss_write_nowait: a full pipe answers EAGAIN at once (the fd stays blocking for everyone else), a pipe
 * without a reader answers EPIPE with no SIGPIPE left behind, a socket and a file take the bytes. */
static void test_write_nowait(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(ss_write_nowait(p[1], "hello", 5) == 5);
    char got[8] = {0};
    CHECK(read(p[0], got, sizeof got) == 5 && !memcmp(got, "hello", 5));
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    while (write(p[1], buf, sizeof buf) > 0)
        ;
    while (write(p[1], buf, 1) > 0)
        ;
    fcntl(p[1], F_SETFL, 0);
    CHECK(ss_write_nowait(p[1], "full", 4) == -EAGAIN);
    CHECK((fcntl(p[1], F_GETFL) & O_NONBLOCK) == 0); /* the shared description is untouched */
    close(p[0]);
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_set, &old);
    CHECK(ss_write_nowait(p[1], "gone", 4) == -EPIPE);
    sigpending(&pending);
    CHECK(!sigismember(&pending, SIGPIPE));
    sigprocmask(SIG_SETMASK, &old, 0);
    close(p[1]);

    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(ss_write_nowait(sv[0], "sock", 4) == 4);
    int sndbuf = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    ssize_t r;
    for (int i = 0; i < 100000 && (r = ss_write_nowait(sv[0], buf, sizeof buf)) > 0; i++)
        ;
    CHECK(r == -EAGAIN);
    close(sv[1]);
    CHECK(ss_write_nowait(sv[0], "x", 1) == -EPIPE); /* MSG_NOSIGNAL: this process is still here */
    close(sv[0]);

    int fd = open("/dev/null", O_WRONLY);
    CHECK(ss_write_nowait(fd, "null", 4) == 4);
    close(fd);
}

int main(void)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    tmpdir_create();
    test_bufw_file();
    test_bufw_slow_reader();
    test_bufw_eintr();
    test_bufw_errors();
    test_write_nowait();
    tmpdir_remove();
    return check_summary();
}
