/* upload.c — `lastgasp upload` (ship_upload(); its argv is parsed in formats/cli/upload.c): send each dump,
 * and each dump inside each bundle, to a crash server; one line per dump sent on stdout, one per dump not sent
 * on stderr; exit status all / some / none.
 *
 * Normal context. Each dump is tried up to --tries times within --max-time seconds: again after a connection
 * error, a timeout, HTTP 5xx, 429 or 408, waiting longer each time (backoff.c) or as long as the server's
 * Retry-After asks, whichever is longer; never again after another refusal (4xx), which would only repeat.
 */
#include "ship.h"
#include "../bundle/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A run's counts. */
struct tally {
    size_t ok, failed;
};

static void sleep_for(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Send one dump held in memory; print its result line (stdout when sent, stderr when not). */
static void upload_one(const struct ship_upload_options *o, struct tally *t, const char *label, const char *filename,
                       const uint8_t *buf, size_t len)
{
    struct ship_dump_request r;
    struct ship_result res = {0};
    char err[600];
    unsigned tries = 0;

    int rc = ship_dump_request(&r, &o->target, filename, buf, len, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, rc == SHIP_DUMP_NOT_MINIDUMP ? "lastgasp upload: %s: failed: not a minidump (%s); not sent\n"
                                                     : "lastgasp upload: %s: failed: %s\n", label, err);
        t->failed++;
        return;
    }
    double deadline = ship_now() + o->max_time;
    for (;;) {
        r.rq.timeout = deadline - ship_now();
        tries++;
        ship_post(&r.rq, &res);
        if (res.outcome != SHIP_TRANSIENT || tries >= o->tries)
            break;
        double wait = ship_backoff(tries, 1.0, 60.0);
        if (res.retry_after > wait)
            wait = res.retry_after;
        if (ship_now() + wait >= deadline) {
            snprintf(res.reason + strlen(res.reason), sizeof res.reason - strlen(res.reason),
                     "; the next try (in %.0f s) would pass --max-time", wait);
            break;
        }
        fprintf(stderr, "lastgasp upload: %s: try %u: %s; trying again in %.1f s\n", label, tries, res.reason, wait);
        sleep_for(wait);
    }
    if (res.outcome == SHIP_ACCEPTED) {
        ship_print_uploaded(label, &r, &res);
        t->ok++;
    } else {
        fprintf(stderr, "lastgasp upload: %s: failed after %u tr%s: %s\n", label, tries, tries == 1 ? "y" : "ies",
                res.reason);
        t->failed++;
    }
    fflush(stdout);
    ship_dump_request_free(&r);
}

static int read_whole(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    return bundle_read_regular_file(path, 1, SHIP_MAX_DUMP, &st, buf, len, err, errlen);
}

/* The dumps of a bundle: its top-level .dmp entries (binaries/ and the manifest are not dumps). */
static void upload_bundle(const struct ship_upload_options *o, struct tally *t, const char *path)
{
    struct bundle b;
    char err[600], label[4200];

    if (bundle_open(&b, path, err, sizeof err) != 0) {
        fprintf(stderr, "lastgasp upload: %s: failed: %s\n", path, err);
        t->failed++;
        bundle_close(&b);
        return;
    }
    for (size_t i = 0; i < b.n; i++) {
        const char *name = b.names[i];
        size_t n = strlen(name);
        uint8_t *buf;
        size_t len;
        if (strchr(name, '/') || n < 5 || strcmp(name + n - 4, ".dmp") != 0)
            continue;
        snprintf(label, sizeof label, "%s:%s", path, name);
        if (bundle_read(&b, name, &buf, &len, err, sizeof err) != 0) {
            fprintf(stderr, "lastgasp upload: %s: failed: %s; not sent\n", label, err);
            t->failed++;
            continue;
        }
        upload_one(o, t, label, name, buf, len);
        free(buf);
    }
    bundle_close(&b);
}

int ship_upload(const struct ship_upload_options *o)
{
    struct tally t = {0};
    char err[600];
    int status;

    signal(SIGPIPE, SIG_IGN); /* a server that hangs up mid-request is an error to report, not a death */
    if (ship_global_init() != 0) {
        fprintf(stderr, "lastgasp upload: libcurl could not start\n");
        return SHIP_UPLOAD_NONE;
    }
    for (size_t i = 0; i < o->npaths; i++) {
        const char *path = o->paths[i];
        uint8_t *buf;
        size_t len;
        if (bundle_is_zip(path)) {
            upload_bundle(o, &t, path);
        } else if (read_whole(path, &buf, &len, err, sizeof err) != 0) {
            fprintf(stderr, "lastgasp upload: %s: failed: %s\n", path, err);
            t.failed++;
        } else {
            const char *base = strrchr(path, '/');
            upload_one(o, &t, path, base ? base + 1 : path, buf, len);
            free(buf);
        }
    }
    status = t.ok + t.failed == 0 ? SHIP_UPLOAD_NOTHING
             : t.failed == 0      ? SHIP_UPLOAD_OK
             : t.ok == 0          ? SHIP_UPLOAD_NONE
                                  : SHIP_UPLOAD_PARTIAL;
    if (status == SHIP_UPLOAD_NOTHING)
        fprintf(stderr, "lastgasp upload: no dumps in what was given; nothing sent\n");
    return status;
}
