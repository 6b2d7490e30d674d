/* upload.c — `lastgasp upload [options] URL DUMP|BUNDLE...`: send each dump, and each dump inside each
 * bundle, to a crash server; one result line per dump on stdout; exit status all / some / none.
 *
 * Normal context. Each dump is tried up to --tries times within --max-time seconds: again after a connection
 * error, a timeout, HTTP 5xx, 429 or 408, waiting longer each time (backoff.c) or as long as the server's
 * Retry-After asks, whichever is longer; never again after another refusal (4xx), which would only repeat.
 */
#include "ship.h"
#include "../bundle/bundle.h"
#include "../bundle/sha256.h"
#include "../read/mdread.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct upload_opts {
    char *url;
    int gzip;
    enum ship_as as;
    unsigned tries;
    double max_time;
    struct ship_fields extra; /* --field: set last, so they win */
    size_t ok, failed;
};

static const char usage[] =
    "usage: lastgasp upload [--gzip|--no-gzip] [--tries N] [--max-time SECONDS] [--field NAME=VALUE]...\n"
    "                       [--as auto|event|minidump] URL|DSN DUMP|BUNDLE...\n"
    "Sends each dump (each .dmp of each bundle) as a Breakpad/Crashpad upload (multipart/form-data, the dump in\n"
    "upload_file_minidump). A Sentry-style DSN (https://KEY@HOST/PROJECT_ID) is turned into its minidump\n"
    "endpoint. --tries (default 5) and --max-time (default 120) bound each dump's tries; gzip is on by default\n"
    "for DSNs and Sentry/Bugsink/Backtrace minidump URLs. Exit: 0 all uploaded, 3 some, 1 none, 4 nothing to\n"
    "upload, 2 usage.\n"
    "--as (default auto): a Go dump goes to a Sentry-style server (a DSN, a .../api/N/minidump/ URL) as the\n"
    "server's own event (a Sentry envelope: the Go crash as an event, the dump attached); other dumps, and any\n"
    "dump to other servers, as a minidump. event: always an event (to the URL as given when it is not\n"
    "Sentry-style); minidump: always the minidump upload.\n";

static void sleep_for(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Send one dump held in memory; print its result line. */
static void upload_one(struct upload_opts *o, const char *label, const char *filename, const uint8_t *buf,
                       size_t len)
{
    struct ship_fields f = {0};
    struct ship_result res = {0};
    struct bundle_sha256 sha;
    struct mdr_dump md;
    char err[600], hex[65];
    unsigned tries = 0;

    if (mdr_open(&md, buf, len, err, sizeof err) != MDR_OK) {
        printf("%s: failed: not a minidump (%s); not sent\n", label, err);
        mdr_close(&md);
        o->failed++;
        return;
    }
    bundle_sha256_init(&sha);
    bundle_sha256_update(&sha, buf, len);
    bundle_sha256_hex(&sha, hex);
    struct ship_payload ev = {0};
    int bad = ship_fields_from_dump(&f, &md, filename, hex);
    for (size_t i = 0; i < o->extra.n && !bad; i++)
        bad = ship_fields_set(&f, o->extra.names[i], o->extra.values[i]);
    int as_event = bad ? 0 : ship_prepare(&ev, o->url, o->as, &md, &f, &o->extra, filename, buf, len);
    mdr_close(&md);
    if (bad || as_event < 0) {
        printf("%s: failed: out of memory\n", label);
        ship_fields_free(&f);
        o->failed++;
        return;
    }
    struct ship_request rq = {.url = o->url, .gzip = o->gzip, .fields = &f, .filename = filename,
                                  .dump = buf, .len = len};
    if (as_event) {
        rq.url = ev.url;
        rq.body = (const uint8_t *)ev.body;
        rq.body_len = ev.body_len;
        rq.content_type = ev.content_type;
    }
    double deadline = ship_now() + o->max_time;
    for (;;) {
        rq.timeout = deadline - ship_now();
        tries++;
        ship_post(&rq, &res);
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
        fprintf(stderr, "lastgasp: upload: %s: try %u: %s; trying again in %.1f s\n", label, tries, res.reason, wait);
        sleep_for(wait);
    }
    if (res.outcome == SHIP_ACCEPTED) {
        printf("%s: uploaded%s (HTTP %ld%s%s)\n", label, as_event ? " as an event" : "", res.http_status,
               res.id[0] ? ", id " : "", res.id);
        o->ok++;
    } else {
        printf("%s: failed after %u tr%s: %s\n", label, tries, tries == 1 ? "y" : "ies", res.reason);
        o->failed++;
    }
    fflush(stdout);
    ship_fields_free(&f);
    ship_payload_free(&ev);
}

static int read_whole(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    return bundle_read_regular_file(path, 1, SHIP_MAX_DUMP, &st, buf, len, err, errlen);
}

/* The dumps of a bundle: its top-level .dmp entries (binaries/ and the manifest are not dumps). */
static void upload_bundle(struct upload_opts *o, const char *path)
{
    struct bundle b;
    char err[600], label[4200];

    if (bundle_open(&b, path, err, sizeof err) != 0) {
        printf("%s: failed: %s\n", path, err);
        o->failed++;
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
            printf("%s: failed: %s; not sent\n", label, err);
            o->failed++;
            continue;
        }
        upload_one(o, label, name, buf, len);
        free(buf);
    }
    bundle_close(&b);
}

int ship_upload_main(int argc, char **argv)
{
    struct upload_opts o = {.gzip = -1, .tries = 5, .max_time = 120};
    const char *target = NULL;
    char **paths = calloc((size_t)argc + 1, sizeof *paths);
    size_t npaths = 0;
    int bad = !paths, is_dsn = 0, status;
    double v;
    char err[600];

    if (argc == 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        fputs(usage, stdout);
        free(paths);
        return SHIP_UPLOAD_OK;
    }
    for (int i = 0; i < argc && !bad; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--gzip") || !strcmp(a, "--no-gzip"))
            o.gzip = !strcmp(a, "--gzip");
        else if (!strcmp(a, "--tries") && i + 1 < argc && !ship_parse_number(argv[i + 1], 1, 100, &v))
            o.tries = (unsigned)v, i++;
        else if (!strcmp(a, "--max-time") && i + 1 < argc && !ship_parse_number(argv[i + 1], 1, 86400, &v))
            o.max_time = v, i++;
        else if (!strcmp(a, "--as") && i + 1 < argc)
            bad = ship_as_parse(argv[++i], &o.as) != 0;
        else if (!strcmp(a, "--field") && i + 1 < argc)
            bad = ship_fields_set_arg(&o.extra, argv[++i]) != 0;
        else if (a[0] == '-' && a[1])
            bad = 1;
        else if (!target)
            target = a;
        else
            paths[npaths++] = argv[i];
    }
    if (bad || !target || npaths == 0) {
        fputs(usage, stderr);
        status = SHIP_UPLOAD_USAGE;
        goto out;
    }
    if (!(o.url = ship_endpoint(target, &is_dsn, err, sizeof err))) {
        fprintf(stderr, "lastgasp: upload: %s\n", err);
        status = SHIP_UPLOAD_USAGE;
        goto out;
    }
    if (o.gzip < 0)
        o.gzip = ship_gzip_default(o.url, is_dsn);
    signal(SIGPIPE, SIG_IGN); /* a server that hangs up mid-request is an error to report, not a death */
    if (ship_global_init() != 0) {
        fprintf(stderr, "lastgasp: upload: libcurl could not start\n");
        status = SHIP_UPLOAD_NONE;
        goto out;
    }
    for (size_t i = 0; i < npaths; i++) {
        uint8_t *buf;
        size_t len;
        if (bundle_is_zip(paths[i])) {
            upload_bundle(&o, paths[i]);
        } else if (read_whole(paths[i], &buf, &len, err, sizeof err) != 0) {
            printf("%s: failed: %s\n", paths[i], err);
            o.failed++;
        } else {
            const char *base = strrchr(paths[i], '/');
            upload_one(&o, paths[i], base ? base + 1 : paths[i], buf, len);
            free(buf);
        }
    }
    status = o.ok + o.failed == 0 ? SHIP_UPLOAD_NOTHING
             : o.failed == 0      ? SHIP_UPLOAD_OK
             : o.ok == 0          ? SHIP_UPLOAD_NONE
                                  : SHIP_UPLOAD_PARTIAL;
    if (status == SHIP_UPLOAD_NOTHING)
        fprintf(stderr, "lastgasp: upload: no dumps in what was given; nothing sent\n");
out:
    free(paths);
    free(o.url);
    ship_fields_free(&o.extra);
    return status;
}
