/* ship.h — getting dumps to a crash server: `lastgasp upload` (one run over some dumps and bundles) and
 * `lastgasp watch` (a long-lived sidecar over a dump directory).
 *
 * Normal context: the command-line tool only (heap, stdio, libcurl, zlib). The library never links any of
 * this. The wire protocol is Breakpad's and Crashpad's: one HTTP POST of multipart/form-data per dump, the
 * dump in the part `upload_file_minidump`, metadata as plain form fields; Sentry, Bugsink, Socorro, Backtrace
 * and BugSplat all accept it (README: "Shipping dumps to a crash server"). A Go dump bound for a Sentry-style
 * server goes instead as that server's own event, in a Sentry envelope (event.c, envelope.c): the minidump
 * endpoint would show a Go crash as a SIGABRT in runtime.raise, with neither the panic nor Go's frames.
 */
#ifndef LASTGASP_SHIP_H
#define LASTGASP_SHIP_H

#include <stddef.h>
#include <stdint.h>

struct mdr_dump;

/* Exit statuses of `lastgasp upload`, in the manner of collect's. */
enum ship_upload_status {
    SHIP_UPLOAD_OK = 0,       /* every dump was accepted by the server */
    SHIP_UPLOAD_NONE = 1,     /* no dump was accepted */
    SHIP_UPLOAD_USAGE = 2,
    SHIP_UPLOAD_PARTIAL = 3,  /* some were accepted, some were not */
    SHIP_UPLOAD_NOTHING = 4,  /* nothing to upload (bundles without dumps) */
};

/* Dumps larger than this are not sent: every server named above refuses far smaller bodies (Sentry: 100 MB
 * files), and both commands hold one dump and its request body in memory at a time. */
#define SHIP_MAX_DUMP (256u << 20)

/* ---- fields.c: the form fields sent beside a dump ---- */

/* An ordered set of (name, value) pairs; setting a name again replaces its value in place. */
struct ship_fields {
    char **names, **values;
    size_t n, cap;
};

/* 0, or -1 when memory ran out. */
int ship_fields_set(struct ship_fields *f, const char *name, const char *value);
/* "NAME=VALUE" from the command line (--field). 0, or -1 when there is no '=' or memory ran out. */
int ship_fields_set_arg(struct ship_fields *f, const char *arg);
/* What the dump says of itself: prod, ver, signal, pid, hostname, go_version... (README lists them), then
 * every annotation of the dump under its own name. dump_name is the file's name. 0, or -1 (memory). */
int ship_fields_from_dump(struct ship_fields *f, const struct mdr_dump *md, const char *dump_name,
                              const char *sha256_hex);
void ship_fields_free(struct ship_fields *f);

/* ---- endpoint.c: where to send ---- */

/* The upload URL for what the user gave: a Sentry-style DSN (SCHEME://KEY@HOST[:PORT][/PREFIX]/PROJECT_ID)
 * becomes SCHEME://HOST[:PORT][/PREFIX]/api/PROJECT_ID/minidump/?sentry_key=KEY; any other http(s) URL is
 * used as it is. *is_dsn says which. Heap string, or NULL with why in err (not http/https, malformed). */
char *ship_endpoint(const char *arg, int *is_dsn, char *err, size_t errlen);

/* --gzip default: on for endpoints known to take a gzip'd body (Content-Encoding: gzip): DSNs and Sentry-style
 * .../api/N/minidump/ URLs (Sentry, Bugsink), Backtrace's .../minidump submit URLs; off for anything else,
 * since Breakpad's own collectors do not all decode it. */
int ship_gzip_default(const char *url, int is_dsn);

/* ---- post.c: one HTTP request ---- */

enum ship_outcome {
    SHIP_ACCEPTED,       /* 2xx */
    SHIP_TRANSIENT,      /* worth trying again: no connection, timeout, 5xx, 429, 408 */
    SHIP_REJECTED,       /* the server said no (other 4xx, 3xx): trying again will not help by itself */
    SHIP_STOPPED,        /* abandoned because the caller asked to stop */
};

struct ship_result {
    enum ship_outcome outcome;
    long http_status;        /* 0 when no response came */
    double retry_after;      /* seconds the server asked us to wait (Retry-After), or -1 */
    char id[128];            /* the server's id for the report, "" when it gave none we recognise */
    char reason[400];        /* why it was not accepted, for a person */
    size_t body_bytes;       /* bytes sent (after gzip) */
};

struct ship_request {
    const char *url;
    int gzip;
    const struct ship_fields *fields;
    const char *filename;    /* the part's filename, NAME.dmp */
    const uint8_t *dump;
    size_t len;
    double timeout;          /* whole-request bound in seconds */
    /* A body made elsewhere (an envelope): sent as it is, with this Content-Type, instead of the multipart
     * upload of fields and dump. NULL: the multipart upload. */
    const char *content_type;
    const uint8_t *body;
    size_t body_len;
    /* Polled during the transfer (at least once a second): nonzero abandons it. NULL: never. */
    int (*stop)(void *ctx);
    void *stop_ctx;
};

/* Set up libcurl once per process (before threads; the tool has none). 0, or -1. */
int ship_global_init(void);
/* POST one dump. Always fills res. */
void ship_post(const struct ship_request *rq, struct ship_result *res);

/* ---- event.c, envelope.c: a crash as the server's own event ---- */

/* --as: what a dump is sent as. AUTO: a dump with a Go stream goes as an event to a Sentry-style server (a DSN,
 * or a .../api/N/minidump/ URL), anything else as a minidump. */
enum ship_as { SHIP_AS_AUTO = 0, SHIP_AS_EVENT, SHIP_AS_MINIDUMP };

/* "auto", "event", "minidump": 0, or -1 for anything else. */
int ship_as_parse(const char *s, enum ship_as *as);

/* The dump as Sentry's event payload (JSON, event.c says what goes in): a heap string of *len bytes, or NULL
 * when memory ran out or the dump names no crash (neither a Go reason nor a signal). fields: the form fields of
 * the minidump upload (sent as extra); user: the --field ones (tags too). event_id: 32 hex digits. */
char *ship_event(const struct mdr_dump *md, const struct ship_fields *fields,
                     const struct ship_fields *user, const char *event_id, size_t *len);

/* The envelope endpoint of a Sentry-style minidump URL (.../api/N/minidump/?QUERY -> .../api/N/envelope/?QUERY,
 * the sentry_key kept), or NULL when url has not that shape (or memory ran out). */
char *ship_event_endpoint(const char *url);

/* What goes to the server for one dump when it is an event. */
struct ship_payload {
    char *url;               /* heap */
    char *body;              /* heap: the envelope */
    size_t body_len;
    size_t event_bytes;      /* of which the event's JSON */
    const char *content_type;
    char event_id[33];
};

/* Decide how a dump goes (`as`, the server's URL, what the dump holds) and, for an event, build it: 1 with p
 * filled (free it with ship_payload_free()), 0 for the minidump upload (p empty), -1 when memory ran out.
 * md must be the dump at dump[0..len). */
int ship_prepare(struct ship_payload *p, const char *url, enum ship_as as, const struct mdr_dump *md,
                     const struct ship_fields *fields, const struct ship_fields *user, const char *filename,
                     const uint8_t *dump, size_t len);
void ship_payload_free(struct ship_payload *p);

/* ---- backoff.c ---- */

/* The wait before try number `attempt` (1 = the first retry): base * 2^(attempt-1), at most cap, less up to
 * a quarter at random so that a fleet that lost its server does not come back in step. */
double ship_backoff(unsigned attempt, double base, double cap);
/* Monotonic seconds. */
double ship_now(void);

/* ---- request.c: one dump made ready to send (upload and watch alike) ---- */

/* Where and how every dump of a run goes. */
struct ship_target {
    const char *url;                 /* the endpoint: ship_endpoint() of what the user gave */
    int gzip;                        /* 0 or 1: ship_gzip_default() unless the user said */
    enum ship_as as;
    const struct ship_fields *extra; /* the user's --field ones, set last so they win; NULL: none */
};

/* A dump's request: rq points into fields and ev, so the struct is used where it was filled, never copied. */
struct ship_dump_request {
    struct ship_fields fields;
    struct ship_payload ev;
    int as_event;                    /* 1 when it goes as an event (ev), 0 as the minidump upload */
    struct ship_request rq;          /* all but timeout and stop, which are the caller's */
};

enum { SHIP_DUMP_NOT_MINIDUMP = -1, SHIP_DUMP_NOMEM = -2 };

/* Parse dump[0..len) (which must outlive r), build its fields and, when it goes as an event, the envelope;
 * filename is the dump's NAME.dmp. 0, or SHIP_DUMP_NOT_MINIDUMP / SHIP_DUMP_NOMEM with why in err (r empty).
 * Release with ship_dump_request_free(). */
int ship_dump_request(struct ship_dump_request *r, const struct ship_target *t, const char *filename,
                      const uint8_t *dump, size_t len, char *err, size_t errlen);
void ship_dump_request_free(struct ship_dump_request *r);
/* "LABEL: uploaded[ as an event] (HTTP 200, id ID)" on stdout: the line both commands print for a dump sent. */
void ship_print_uploaded(const char *label, const struct ship_dump_request *r, const struct ship_result *res);

/* ---- the commands (upload.c, watch.c); their argv is parsed in formats/cli/ ---- */

/* `lastgasp upload`: each dump of paths (a dump, or a bundle whose every .dmp is sent), tried up to `tries`
 * times within `max_time` seconds each. One line per dump sent on stdout, one per dump not sent on stderr.
 * Returns an enum ship_upload_status (never SHIP_UPLOAD_USAGE). */
struct ship_upload_options {
    struct ship_target target;
    unsigned tries;
    double max_time;
    char *const *paths;
    size_t npaths;
};
int ship_upload(const struct ship_upload_options *o);

/* `lastgasp watch`: ship the dumps of dir until SIGTERM or SIGINT (README: "watch"). url (with target) and/or
 * bundle_dir must be set. Returns 0 when stopped by a signal, 1 when it could not start (messages on stderr). */
struct ship_watch_options {
    const char *dir;
    struct ship_target target;       /* target.url NULL: no uploads */
    const char *bundle_dir;          /* NULL: no bundles */
    const char *state_path;          /* NULL: DIR/.lastgasp-watch.state */
    int keep;                        /* move shipped dumps to DIR/shipped/ instead of removing them */
    double rescan, bundle_every, max_backoff; /* seconds */
    size_t max_dumps;
    uint64_t max_bytes;
};
int ship_watch(const struct ship_watch_options *o);

#endif
