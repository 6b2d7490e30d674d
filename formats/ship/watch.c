/* watch.c — `lastgasp watch` (ship_watch(); its argv is parsed in formats/cli/upload.c): a small long-lived
 * process (a sidecar sharing the dump volume) that ships each new complete dump and keeps it until it is shipped.
 * What was shipped is logged on stdout; what failed, was refused or dropped, on stderr.
 *
 * Normal context, one thread. The loop: scan the directories (watch_int.h says what each holds), hold the
 * spool under its cap, upload what is due, bundle what is due, then sleep in poll() until inotify reports a
 * new *.dmp, SIGTERM/SIGINT arrive (a signalfd: no handler runs), or the next thing falls due (a retry, a
 * bundle, the periodic rescan that covers file systems where inotify says nothing). Every wait has a floor,
 * so a server that keeps failing costs a few requests a minute, never a busy loop.
 */
#define _FILE_OFFSET_BITS 64
#include "ship.h"
#include "watch_int.h"
#include "../bundle/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define STOP_GRACE_S 5.0         /* an upload under way at SIGTERM may finish within this, else it is dropped */
#define REQUEST_TIMEOUT_S 120.0
#define REFUSED_BASE_S 60.0      /* a dump the server refused (4xx) is tried again after 1 min, 2, 4... */
#define REFUSED_CAP_S 3600.0
#define RETRY_AFTER_CAP_S 3600.0 /* a Retry-After longer than this is taken as an hour */
#define MIN_SLEEP_S 0.05

/* A dump that is not to be tried now: the server refused it (retry later), or it was shipped but could not be
 * removed (never again, while it is the same file). */
struct hold {
    char *name;
    ino_t ino;
    unsigned fails;
    double next;
    int shipped;
};

static struct {
    /* options, set once */
    const char *dir, *bundle_dir, *url;
    char *state_path, *outbox, *shipped;
    struct ship_target target;
    int keep;
    double rescan, bundle_every, max_backoff;
    size_t max_dumps;
    uint64_t max_bytes;
    /* descriptors */
    int ifd, sfd;
    /* stopping: the signal and when it came (monotonic), 0 until then */
    int stop_sig;
    double stop_at;
    /* the server, as a whole: consecutive failures and when to try again */
    unsigned server_fails;
    double server_next;
    unsigned bundle_fails;
    double bundle_next;
    unsigned bundle_seq;
    struct hold *holds;
    size_t nholds;
    struct watch_counts counts;
    int counts_dirty;
} g;

/* Read a pending SIGTERM/SIGINT from the signalfd, if any. Called from the loop and from the transfer's
 * progress callback, so a signal is seen within a second even mid-upload. */
static void check_signal(void)
{
    struct signalfd_siginfo si;
    struct pollfd p = {.fd = g.sfd, .events = POLLIN};

    if (g.stop_sig || poll(&p, 1, 0) != 1 || read(g.sfd, &si, sizeof si) != (ssize_t)sizeof si)
        return;
    g.stop_sig = (int)si.ssi_signo;
    g.stop_at = ship_now();
    printf("lastgasp watch: %s: stopping\n", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
}

static int abandon_transfer(void *ctx)
{
    (void)ctx;
    check_signal();
    return g.stop_sig && ship_now() - g.stop_at >= STOP_GRACE_S;
}

static struct hold *hold_of(const struct spool_file *f)
{
    for (size_t i = 0; i < g.nholds; i++)
        if (g.holds[i].ino == f->ino && strcmp(g.holds[i].name, f->name) == 0)
            return &g.holds[i];
    return NULL;
}

static struct hold *hold_add(const struct spool_file *f)
{
    struct hold *h = hold_of(f);
    if (h)
        return h;
    struct hold *nh = realloc(g.holds, (g.nholds + 1) * sizeof *nh);
    if (!nh)
        return NULL;
    g.holds = nh;
    h = &g.holds[g.nholds];
    memset(h, 0, sizeof *h);
    h->name = strdup(f->name);
    h->ino = f->ino;
    if (!h->name)
        return NULL;
    g.nholds++;
    return h;
}

/* Forget holds whose file is gone (shipped meanwhile, dropped, removed by someone), so the table stays as
 * small as the spool. */
static void holds_prune(const struct spool_list *l)
{
    size_t k = 0;
    for (size_t i = 0; i < g.nholds; i++) {
        int live = 0;
        for (size_t j = 0; j < l->n && !live; j++)
            live = l->f[j].ino == g.holds[i].ino && strcmp(l->f[j].name, g.holds[i].name) == 0;
        if (live)
            g.holds[k++] = g.holds[i];
        else
            free(g.holds[i].name);
    }
    g.nholds = k;
}

/* The file, read whole through one descriptor (not through a symbolic link); f is updated to what was read. */
static uint8_t *read_dump(const char *path, struct spool_file *f, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    uint8_t *buf = NULL;
    size_t got = 0;

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= SHIP_MAX_DUMP &&
        (buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
        while (got < (size_t)st.st_size) {
            ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        if (got != (size_t)st.st_size) {
            free(buf);
            buf = NULL;
        }
        f->size = st.st_size;
        f->mtime = st.st_mtim;
        f->dev = st.st_dev;
        f->ino = st.st_ino;
    }
    close(fd);
    *len = got;
    return buf;
}

/* After a dump is uploaded: on to the outbox (to be bundled), to shipped/ (--keep), or removed. */
static void done_uploading(const char *path, struct spool_file *f)
{
    int rc;
    if (!spool_same(path, f)) {
        fprintf(stderr, "lastgasp watch: %s changed after it was read; left in place\n", path);
        rc = -1;
    } else if (g.bundle_dir) {
        rc = spool_move(path, g.outbox, f->name);
    } else if (g.keep) {
        rc = spool_move(path, g.shipped, f->name);
    } else {
        rc = unlink(path);
    }
    if (rc != 0) {
        fprintf(stderr, "lastgasp watch: %s was uploaded but could not be moved on (%s): not uploaded again\n",
                path, strerror(errno));
        struct hold *h = hold_add(f);
        if (h)
            h->shipped = 1;
    }
}

/* Upload one dump. Returns 0 to go on with the next dump, -1 to end this pass (the server is failing, or we
 * are stopping). */
static int upload_one(struct spool_file *f, size_t waiting)
{
    char *path = spool_path(g.dir, f), err[600];
    struct ship_dump_request r;
    struct ship_result res;
    size_t len = 0;
    uint8_t *buf = path ? read_dump(path, f, &len) : NULL;
    int rc = 0;

    if (!buf) {
        if (path && access(path, F_OK) == 0) { /* still there: unreadable, or too large; not every pass */
            struct hold *h = hold_add(f);
            double wait = ship_backoff(h ? ++h->fails : 1, REFUSED_BASE_S, REFUSED_CAP_S);
            if (h)
                h->next = ship_now() + wait;
            fprintf(stderr, "lastgasp watch: %s: cannot read it whole (or larger than %u MiB); kept, next try in "
                            "%.0f s\n", path, SHIP_MAX_DUMP >> 20, wait);
        }
        free(path);
        return 0;
    }
    int prep = ship_dump_request(&r, &g.target, f->name, buf, len, err, sizeof err);
    if (prep == SHIP_DUMP_NOT_MINIDUMP) {
        fprintf(stderr, "lastgasp watch: %s: not a minidump (%s); left alone\n", path, err);
        struct hold *h = hold_add(f);
        if (h)
            h->next = 1e300;
    }
    if (prep != 0)
        goto out;
    r.rq.timeout = REQUEST_TIMEOUT_S;
    r.rq.stop = abandon_transfer;
    ship_post(&r.rq, &res);
    double now = ship_now(), wait;
    switch (res.outcome) {
    case SHIP_ACCEPTED:
        ship_print_uploaded(f->name, &r, &res);
        g.server_fails = 0;
        g.counts.uploaded++;
        g.counts_dirty = 1;
        done_uploading(path, f);
        break;
    case SHIP_TRANSIENT:
        g.server_fails++;
        wait = ship_backoff(g.server_fails, 1.0, g.max_backoff);
        if (res.retry_after > wait)
            wait = res.retry_after < RETRY_AFTER_CAP_S ? res.retry_after : RETRY_AFTER_CAP_S;
        g.server_next = now + wait;
        fprintf(stderr, "lastgasp watch: %s: not uploaded: %s; %zu dump%s waiting; next try in %.1f s (failure %u "
                        "in a row)\n", f->name, res.reason, waiting, waiting == 1 ? "" : "s", wait, g.server_fails);
        rc = -1;
        break;
    case SHIP_REJECTED: {
        struct hold *h = hold_add(f);
        g.server_fails = 0; /* the server answered: it is up */
        wait = ship_backoff(h ? ++h->fails : 1, REFUSED_BASE_S, REFUSED_CAP_S);
        if (h)
            h->next = now + wait;
        fprintf(stderr, "lastgasp watch: %s: refused: %s; kept, next try in %.0f s\n", f->name, res.reason, wait);
        break;
    }
    case SHIP_STOPPED:
        fprintf(stderr, "lastgasp watch: %s: upload abandoned (stopping); kept, to be sent at the next start\n",
                f->name);
        rc = -1;
        break;
    }
    ship_dump_request_free(&r);
out:
    fflush(stdout);
    free(buf);
    free(path);
    return rc;
}

/* Upload what is due in DIR, oldest first. */
static void upload_pass(struct spool_list *l)
{
    size_t waiting = 0;
    for (size_t i = 0; i < l->n; i++)
        waiting += !l->f[i].in_outbox;
    for (size_t i = 0; i < l->n && !g.stop_sig; i++) {
        struct hold *h = hold_of(&l->f[i]);
        if (l->f[i].in_outbox || (h && (h->shipped || h->next > ship_now())))
            continue;
        if (ship_now() < g.server_next || upload_one(&l->f[i], waiting) != 0)
            break;
        waiting--;
        check_signal();
    }
}

/* Bundle the dumps waiting for it: those of the outbox (with --upload) or of DIR, with collect's code. The
 * dumps in the bundle are then removed by collect (only if unchanged) or, with --keep, moved to shipped/. */
static void bundle_pass(void)
{
    const char *src = g.url ? g.outbox : g.dir;
    char *out = NULL, when[32];
    struct utsname u;
    time_t now = time(NULL);
    struct tm tm;

    strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    if (uname(&u) != 0)
        snprintf(u.nodename, sizeof u.nodename, "host");
    for (int k = 0; k < 100 && !out; k++) {
        if (asprintf(&out, "%s/lastgasp-%s-%s-%ld-%u.zip", g.bundle_dir, u.nodename, when, (long)getpid(),
                     g.bundle_seq++) < 0)
            return;
        if (access(out, F_OK) == 0) {
            free(out);
            out = NULL;
        }
    }
    char *dirs[1] = {(char *)src};
    struct bundle_collect_options o = {.dirs = dirs, .ndirs = 1, .output = out, .remove = !g.keep};
    int st = bundle_collect(&o);
    double t = ship_now();
    if (st == BUNDLE_COLLECT_OK || st == BUNDLE_COLLECT_PARTIAL) {
        struct bundle b;
        char err[600];
        size_t n = 0;
        if (bundle_open(&b, out, err, sizeof err) == 0) {
            for (size_t i = 0; i < b.n; i++) {
                size_t len = strlen(b.names[i]);
                if (strchr(b.names[i], '/') || len < 5 || strcmp(b.names[i] + len - 4, ".dmp") != 0)
                    continue;
                n++;
                char *p = NULL;
                if (g.keep && asprintf(&p, "%s/%s", src, b.names[i]) >= 0 && spool_move(p, g.shipped, b.names[i]))
                    fprintf(stderr, "lastgasp watch: %s is bundled but could not be moved to %s: %s\n", p,
                            g.shipped, strerror(errno));
                free(p);
            }
        }
        bundle_close(&b);
        g.counts.bundled += n;
        g.counts.bundles++;
        g.counts_dirty = 1;
        g.bundle_fails = 0;
        g.bundle_next = t + g.bundle_every;
    } else if (st == BUNDLE_COLLECT_FAILED) {
        double wait = ship_backoff(++g.bundle_fails, 5.0, g.max_backoff);
        g.bundle_next = t + wait;
        fprintf(stderr, "lastgasp watch: bundling failed (failure %u in a row); dumps kept, next try in %.1f s\n",
                g.bundle_fails, wait);
    } else {
        g.bundle_next = t + g.bundle_every;
    }
    fflush(stdout);
    free(out);
}

/* Every dump not yet shipped, oldest first, held under the cap. */
static int scan(struct spool_list *l)
{
    if (spool_scan(g.dir, 0, l) != 0) {
        fprintf(stderr, "lastgasp watch: cannot read %s: %s\n", g.dir, strerror(errno));
        return -1;
    }
    if (g.url && g.bundle_dir && spool_scan(g.outbox, 1, l) != 0 && errno != ENOENT)
        fprintf(stderr, "lastgasp watch: cannot read %s: %s\n", g.outbox, strerror(errno));
    spool_sort(l);
    if (spool_cap(l, g.dir, g.max_dumps, g.max_bytes, "dropped", &g.counts.dropped, g.counts.last_dropped,
                  sizeof g.counts.last_dropped))
        g.counts_dirty = 1;
    if (g.keep) { /* shipped/ is held under the same cap, so --keep cannot fill the disk either */
        struct spool_list s = {0};
        if (spool_scan(g.shipped, 0, &s) == 0) {
            spool_sort(&s);
            if (spool_cap(&s, g.shipped, g.max_dumps, g.max_bytes, "pruned", &g.counts.pruned, NULL, 0))
                g.counts_dirty = 1;
        }
        spool_free(&s);
    }
    holds_prune(l);
    return 0;
}

/* When the loop has something to do next, at the latest the periodic rescan. */
static double next_due(const struct spool_list *l, double rescan_at)
{
    double due = rescan_at;
    int in_dir = 0, in_outbox = 0;

    for (size_t i = 0; i < l->n; i++) {
        const struct hold *h = hold_of(&l->f[i]);
        if (l->f[i].in_outbox) {
            in_outbox = 1;
        } else if (!h || !h->shipped) {
            in_dir = 1;
            if (g.url) {
                double t = h && h->next > g.server_next ? h->next : g.server_next;
                due = t < due ? t : due;
            }
        }
    }
    if (g.bundle_dir && ((g.url && in_outbox) || (!g.url && in_dir)))
        due = g.bundle_next < due ? g.bundle_next : due;
    return due;
}

/* Sleep until `due`, a new dump, or a signal. Other inotify events (other files, temporary names) are read
 * and ignored without waking the loop. */
static void wait_for(double due)
{
    char ev[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

    for (;;) {
        double left = due - ship_now();
        if (left < MIN_SLEEP_S)
            left = MIN_SLEEP_S;
        struct pollfd p[2] = {{.fd = g.sfd, .events = POLLIN}, {.fd = g.ifd, .events = POLLIN}};
        int n = poll(p, g.ifd >= 0 ? 2 : 1, (int)(left * 1000) + 1);
        if (n < 0 && errno != EINTR)
            return;
        if (n <= 0 || p[0].revents)
            return;
        ssize_t got = read(g.ifd, ev, sizeof ev);
        for (char *q = ev; got > 0 && q < ev + got;) {
            const struct inotify_event *e = (const struct inotify_event *)q;
            size_t len = e->len ? strlen(e->name) : 0;
            if (e->mask & (IN_Q_OVERFLOW | IN_IGNORED))
                return;
            if (len >= 5 && e->name[0] != '.' && strcmp(e->name + len - 4, ".dmp") == 0)
                return;
            q += sizeof *e + e->len;
        }
        if (ship_now() >= due)
            return;
    }
}

/* 1 when the directory bundles are made from holds a dump. */
static int bundle_pending(void)
{
    struct spool_list l = {0};
    int any = spool_scan(g.url ? g.outbox : g.dir, g.url != NULL, &l) == 0 && l.n > 0;
    spool_free(&l);
    return any;
}

static void run(void)
{
    while (!g.stop_sig) {
        struct spool_list l = {0};
        if (scan(&l) == 0 && g.url)
            upload_pass(&l);
        spool_free(&l);
        if (!g.stop_sig && g.bundle_dir && ship_now() >= g.bundle_next && bundle_pending())
            bundle_pass();
        /* What is left after the passes decides the state file's "waiting" and when to wake. */
        int ok = scan(&l) == 0;
        if (g.counts_dirty && watch_state_save(g.state_path, &g.counts, l.n) == 0)
            g.counts_dirty = 0;
        double due = ok ? next_due(&l, ship_now() + g.rescan) : ship_now() + g.rescan;
        spool_free(&l);
        check_signal();
        if (!g.stop_sig)
            wait_for(due);
        check_signal();
    }
}

static int setup(void)
{
    struct stat st;
    sigset_t set;

    if (stat(g.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "lastgasp watch: %s: not a directory\n", g.dir);
        return -1;
    }
    if (g.bundle_dir && (stat(g.bundle_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "lastgasp watch: --bundle-dir %s: not a directory\n", g.bundle_dir);
        return -1;
    }
    if ((!g.state_path && asprintf(&g.state_path, "%s/%s", g.dir, WATCH_STATE) < 0) ||
        asprintf(&g.outbox, "%s/%s", g.dir, WATCH_OUTBOX) < 0 ||
        asprintf(&g.shipped, "%s/%s", g.dir, WATCH_SHIPPED) < 0)
        return -1;
    if (g.url && g.bundle_dir && mkdir(g.outbox, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "lastgasp watch: cannot create %s: %s\n", g.outbox, strerror(errno));
        return -1;
    }
    char why[600];
    if (watch_state_load(g.state_path, &g.counts, why, sizeof why) != 0)
        fprintf(stderr, "lastgasp watch: %s; counting from 0\n", why);
    /* SIGTERM and SIGINT are read from a descriptor, never delivered: the loop and the transfer's progress
     * callback look at it, and nothing runs at an awkward moment. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    g.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (g.sfd < 0) {
        fprintf(stderr, "lastgasp watch: signalfd: %s\n", strerror(errno));
        return -1;
    }
    g.ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (g.ifd < 0 || inotify_add_watch(g.ifd, g.dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
        fprintf(stderr, "lastgasp watch: inotify unavailable (%s): looking every %.0f s only\n", strerror(errno),
                g.rescan);
        if (g.ifd >= 0)
            close(g.ifd);
        g.ifd = -1;
    }
    if (g.url && ship_global_init() != 0) {
        fprintf(stderr, "lastgasp watch: libcurl could not start\n");
        return -1;
    }
    return 0;
}

int ship_watch(const struct ship_watch_options *o)
{
    g.dir = o->dir;
    g.bundle_dir = o->bundle_dir;
    g.url = o->target.url;
    g.target = o->target;
    g.keep = o->keep;
    g.rescan = o->rescan;
    g.bundle_every = o->bundle_every;
    g.max_backoff = o->max_backoff;
    g.max_dumps = o->max_dumps;
    g.max_bytes = o->max_bytes;
    if (o->state_path && !(g.state_path = strdup(o->state_path)))
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (setup() != 0)
        return 1;
    /* The URL's host only: a Backtrace token or a DSN key in it has no business in a log. */
    if (g.url) {
        const char *h = strstr(g.url, "://");
        int n = h ? (int)(h + 3 - g.url + (long)strcspn(h + 3, "/?")) : 0;
        printf("lastgasp watch: watching %s; uploading to %.*s%s\n", g.dir, n, g.url,
               g.bundle_dir ? "; bundling too" : "");
    } else {
        printf("lastgasp watch: watching %s; bundling into %s\n", g.dir, g.bundle_dir);
    }
    run();
    struct spool_list l = {0};
    spool_scan(g.dir, 0, &l);
    if (g.url && g.bundle_dir)
        spool_scan(g.outbox, 1, &l);
    watch_state_save(g.state_path, &g.counts, l.n);
    printf("lastgasp watch: stopped; %zu dump%s not shipped yet, kept in %s\n", l.n, l.n == 1 ? "" : "s", g.dir);
    spool_free(&l);
    for (size_t i = 0; i < g.nholds; i++)
        free(g.holds[i].name);
    free(g.holds);
    free(g.state_path);
    free(g.outbox);
    free(g.shipped);
    return 0;
}
