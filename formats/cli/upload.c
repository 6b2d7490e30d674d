/* upload.c — `lastgasp upload [OPTIONS] URL|DSN DUMP|BUNDLE...` and `lastgasp watch [OPTIONS] DIR ...`: argv
 * into the options of ship_upload() and ship_watch() (formats/ship/, which do the work).
 *
 * Normal context (the `lastgasp` tool). What the user names as the server (a URL or a DSN) is resolved here,
 * once: a target that is not one is a usage error, as it always was.
 */
#include "cli.h"
#include "../ship/ship.h"

#include <stdlib.h>
#include <string.h>

/* The options upload and watch share. */
enum { OPT_GZIP = 256, OPT_NO_GZIP, OPT_AS, OPT_FIELD, OPT_TRIES, OPT_MAX_TIME, OPT_UPLOAD, OPT_BUNDLE_DIR,
       OPT_KEEP, OPT_RESCAN, OPT_BUNDLE_EVERY, OPT_MAX_DUMPS, OPT_MAX_SPOOL_MB, OPT_MAX_BACKOFF, OPT_STATE };

#define SHARED_OPTIONS                                                                                          \
    {"gzip", no_argument, NULL, OPT_GZIP}, {"no-gzip", no_argument, NULL, OPT_NO_GZIP},                        \
        {"as", required_argument, NULL, OPT_AS}, {"field", required_argument, NULL, OPT_FIELD},                \
        {"help", no_argument, NULL, 'h'}

/* What --gzip/--no-gzip, --as and --field set, and the server as given. */
struct shared {
    int gzip;                /* -1 until given */
    enum ship_as as;
    struct ship_fields extra;
    const char *server;
};

/* 1 when c was one of the shared options (0 done, -1 a usage error printed), else 0 with nothing done. */
static int shared_option(const char *cmd, int c, struct shared *s, int *bad)
{
    switch (c) {
    case OPT_GZIP:
    case OPT_NO_GZIP:
        s->gzip = c == OPT_GZIP;
        return 1;
    case OPT_AS:
        if (ship_as_parse(optarg, &s->as) != 0)
            *bad = cli_usage_error(cmd, "--as: not auto, event or minidump: %s", optarg);
        return 1;
    case OPT_FIELD:
        if (ship_fields_set_arg(&s->extra, optarg) != 0)
            *bad = cli_usage_error(cmd, "--field: not NAME=VALUE: %s", optarg);
        return 1;
    default:
        return 0;
    }
}

/* s->server into t: the endpoint (heap, the caller frees t->url) and gzip's default. 0, or a usage error. */
static int resolve(const char *cmd, const char *opt, struct shared *s, struct ship_target *t)
{
    char err[600];
    int is_dsn;
    char *url = ship_endpoint(s->server, &is_dsn, err, sizeof err);

    if (!url)
        return cli_usage_error(cmd, "%s%s", opt, err);
    t->url = url;
    t->gzip = s->gzip >= 0 ? s->gzip : ship_gzip_default(url, is_dsn);
    t->as = s->as;
    t->extra = &s->extra;
    return 0;
}

int cli_upload(int argc, char **argv)
{
    static const struct option longopts[] = {
        SHARED_OPTIONS,
        {"tries", required_argument, NULL, OPT_TRIES},
        {"max-time", required_argument, NULL, OPT_MAX_TIME},
        {NULL, 0, NULL, 0},
    };
    struct ship_upload_options o = {.tries = 5, .max_time = 120};
    struct shared s = {.gzip = -1};
    int c, bad = 0, status;
    double v;

    cli_opts_start();
    while (!bad && (c = cli_next_opt("upload", argc, argv, "", longopts)) != -1) {
        if (shared_option("upload", c, &s, &bad))
            continue;
        if (c == OPT_TRIES && cli_number("upload", "--tries", optarg, 1, 100, &v) == 0)
            o.tries = (unsigned)v;
        else if (c == OPT_MAX_TIME && cli_number("upload", "--max-time", optarg, 1, 86400, &v) == 0)
            o.max_time = v;
        else
            bad = c == CLI_HELP ? -1 : CLI_USAGE;
    }
    if (!bad)
        bad = cli_operands("upload", argc - optind, 1, -1, "URL|DSN", NULL) ||
              cli_operands("upload", argc - optind, 2, -1, "DUMP|BUNDLE", NULL);
    if (!bad) {
        s.server = argv[optind];
        bad = resolve("upload", "", &s, &o.target);
    }
    if (bad) {
        ship_fields_free(&s.extra);
        return bad < 0 ? SHIP_UPLOAD_OK : SHIP_UPLOAD_USAGE;
    }
    o.paths = argv + optind + 1;
    o.npaths = (size_t)(argc - optind - 1);
    status = ship_upload(&o);
    free((char *)o.target.url);
    ship_fields_free(&s.extra);
    return status;
}

int cli_watch(int argc, char **argv)
{
    static const struct option longopts[] = {
        SHARED_OPTIONS,
        {"upload", required_argument, NULL, OPT_UPLOAD},
        {"bundle-dir", required_argument, NULL, OPT_BUNDLE_DIR},
        {"keep", no_argument, NULL, OPT_KEEP},
        {"rescan", required_argument, NULL, OPT_RESCAN},
        {"bundle-every", required_argument, NULL, OPT_BUNDLE_EVERY},
        {"max-dumps", required_argument, NULL, OPT_MAX_DUMPS},
        {"max-spool-mb", required_argument, NULL, OPT_MAX_SPOOL_MB},
        {"max-backoff", required_argument, NULL, OPT_MAX_BACKOFF},
        {"state", required_argument, NULL, OPT_STATE},
        {NULL, 0, NULL, 0},
    };
    struct ship_watch_options o = {.rescan = 30, .bundle_every = 60, .max_backoff = 300, .max_dumps = 1000,
                                   .max_bytes = 512ull << 20};
    struct shared s = {.gzip = -1};
    int c, bad = 0, status;
    double v;

    cli_opts_start();
    while (!bad && (c = cli_next_opt("watch", argc, argv, "", longopts)) != -1) {
        if (shared_option("watch", c, &s, &bad))
            continue;
        switch (c) {
        case OPT_UPLOAD:
            s.server = optarg;
            break;
        case OPT_BUNDLE_DIR:
            o.bundle_dir = optarg;
            break;
        case OPT_KEEP:
            o.keep = 1;
            break;
        case OPT_STATE:
            o.state_path = optarg;
            break;
        case OPT_RESCAN:
            bad = cli_number("watch", "--rescan", optarg, 0.1, 86400, &o.rescan) ? CLI_USAGE : 0;
            break;
        case OPT_BUNDLE_EVERY:
            bad = cli_number("watch", "--bundle-every", optarg, 0, 86400, &o.bundle_every) ? CLI_USAGE : 0;
            break;
        case OPT_MAX_BACKOFF:
            bad = cli_number("watch", "--max-backoff", optarg, 1, 86400, &o.max_backoff) ? CLI_USAGE : 0;
            break;
        case OPT_MAX_DUMPS:
            bad = cli_number("watch", "--max-dumps", optarg, 1, 1e9, &v) ? CLI_USAGE : 0;
            o.max_dumps = (size_t)v;
            break;
        case OPT_MAX_SPOOL_MB:
            bad = cli_number("watch", "--max-spool-mb", optarg, 1, 1e9, &v) ? CLI_USAGE : 0;
            o.max_bytes = (uint64_t)v << 20;
            break;
        default:
            bad = c == CLI_HELP ? -1 : CLI_USAGE;
        }
    }
    if (!bad)
        bad = cli_operands("watch", argc - optind, 1, 1, "DIR", argv + optind);
    if (!bad && !s.server && !o.bundle_dir)
        bad = cli_usage_error("watch", "missing option --upload URL|DSN or --bundle-dir OUT (or both)");
    if (!bad && s.server)
        bad = resolve("watch", "--upload: ", &s, &o.target);
    if (bad) {
        ship_fields_free(&s.extra);
        return bad < 0 ? 0 : CLI_USAGE;
    }
    o.dir = argv[optind];
    status = ship_watch(&o);
    free((char *)o.target.url);
    ship_fields_free(&s.extra);
    return status;
}
