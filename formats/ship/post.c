/* post.c — one upload: a multipart/form-data body built in memory (so it can be gzip'd whole, as Crashpad
 * does), or a body the caller made (an envelope), sent with libcurl, and the answer sorted into accepted /
 * worth retrying / refused.
 *
 * Normal context. No retries here: the callers own the schedule (upload.c retries at once with backoff;
 * watch.c spreads retries over its loop). Redirects are not followed: a 3xx is reported with where it points,
 * so the configured URL gets fixed instead of a dump going somewhere nobody chose.
 */
#include "ship.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define RESPONSE_MAX (64u << 10) /* of the server's answer kept: ids and error messages are short */
#define CONNECT_TIMEOUT_S 10L
#define STALL_S 30L              /* a transfer moving less than a byte a second for this long is dead */

struct buf {
    char *p;
    size_t n, cap;
};

static int put(struct buf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        while (ncap < b->n + n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

static int puts_(struct buf *b, const char *s) { return put(b, s, strlen(s)); }

/* A part's name as a quoted string: '"', CR and LF percent-encoded, as browsers encode form field names. */
static int put_name(struct buf *b, const char *name)
{
    int rc = puts_(b, "\"");
    for (const char *c = name; *c && !rc; c++)
        rc = *c == '"' ? puts_(b, "%22") : *c == '\r' ? puts_(b, "%0D") : *c == '\n' ? puts_(b, "%0A") : put(b, c, 1);
    return rc | puts_(b, "\"");
}

/* A boundary that occurs in none of the content: 128 random bits make a clash unlikely; checking makes it
 * impossible. */
static void make_boundary(char out[48], const struct ship_request *rq)
{
    for (int tries = 0; tries < 8; tries++) {
        unsigned char r[16];
        if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
            uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)out;
            for (int i = 0; i < 16; i++, t = t * 6364136223846793005ull + 1442695040888963407ull)
                r[i] = (unsigned char)(t >> 56);
        }
        int n = snprintf(out, 48, "lastgasp-");
        for (int i = 0; i < 16; i++)
            n += snprintf(out + n, (size_t)(48 - n), "%02x", r[i]);
        int clash = memmem(rq->dump, rq->len, out, (size_t)n) != NULL;
        for (size_t i = 0; rq->fields && i < rq->fields->n && !clash; i++)
            clash = strstr(rq->fields->values[i], out) || strstr(rq->fields->names[i], out);
        if (!clash)
            return;
    }
}

static int build_body(struct buf *b, const struct ship_request *rq, const char *boundary)
{
    int rc = 0;

    for (size_t i = 0; rq->fields && i < rq->fields->n; i++) {
        rc |= puts_(b, "--") | puts_(b, boundary) | puts_(b, "\r\nContent-Disposition: form-data; name=");
        rc |= put_name(b, rq->fields->names[i]) | puts_(b, "\r\n\r\n") | puts_(b, rq->fields->values[i]);
        rc |= puts_(b, "\r\n");
    }
    rc |= puts_(b, "--") | puts_(b, boundary);
    rc |= puts_(b, "\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; filename=");
    rc |= put_name(b, rq->filename) | puts_(b, "\r\nContent-Type: application/octet-stream\r\n\r\n");
    rc |= put(b, rq->dump, rq->len) | puts_(b, "\r\n--") | puts_(b, boundary) | puts_(b, "--\r\n");
    return rc;
}

/* The whole body as one gzip member (RFC 1952), which is what Content-Encoding: gzip means. */
static int gzip_body(const struct buf *in, struct buf *out)
{
    z_stream z;

    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    out->cap = deflateBound(&z, (uLong)in->n) + 1;
    out->p = malloc(out->cap);
    if (!out->p) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)in->p;
    z.avail_in = (uInt)in->n;
    z.next_out = (Bytef *)out->p;
    z.avail_out = (uInt)out->cap;
    int rc = deflate(&z, Z_FINISH);
    out->n = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct buf *b = ctx;
    size_t len = size * n, room = b->n < RESPONSE_MAX ? RESPONSE_MAX - b->n : 0;

    if (put(b, p, len < room ? len : room) != 0)
        return 0;
    return len; /* the rest is dropped, not an error */
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const struct ship_request *rq = ctx;
    (void)dt, (void)dn, (void)ut, (void)un;
    return rq->stop && rq->stop(rq->stop_ctx);
}

/* The report's id in the answer: JSON "id" (Sentry, Bugsink), "_rxid" (Backtrace), "crashId" (BugSplat), or
 * Socorro's "CrashID=bp-...". Kept to characters an id is made of. */
static void find_id(const char *body, char *id, size_t cap)
{
    static const char *const keys[] = {"\"id\"", "\"_rxid\"", "\"crashId\"", "\"crash_id\"", "CrashID="};
    const char *v = NULL;

    id[0] = '\0';
    for (size_t k = 0; k < sizeof keys / sizeof *keys && !v; k++) {
        const char *p = strstr(body, keys[k]);
        if (!p)
            continue;
        p += strlen(keys[k]);
        if (keys[k][0] == '"') {
            p += strspn(p, " \t\r\n");
            if (*p != ':')
                continue;
            p++;
            p += strspn(p, " \t\r\n");
            if (*p == '"')
                p++;
        }
        v = p;
    }
    size_t n = 0;
    static const char idchars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:";
    while (v && n + 1 < cap && v[n] && strchr(idchars, v[n]))
        n++;
    if (v)
        memcpy(id, v, n);
    id[n] = '\0';
}

/* The start of an error answer, on one line, printable. */
static void excerpt(const char *body, char *out, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)body; *c && n + 1 < cap && n < 160; c++)
        out[n++] = (*c == '\n' || *c == '\r' || *c == '\t') ? ' ' : (*c < 0x20 || *c == 0x7f) ? '?' : (char)*c;
    out[n] = '\0';
}

/* Errors that another try will not mend: the URL or the TLS setup is wrong. */
static int curl_error_is_final(CURLcode c)
{
    return c == CURLE_URL_MALFORMAT || c == CURLE_UNSUPPORTED_PROTOCOL || c == CURLE_PEER_FAILED_VERIFICATION ||
           c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CACERT_BADFILE || c == CURLE_LOGIN_DENIED ||
           c == CURLE_OUT_OF_MEMORY;
}

int ship_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static void classify(struct ship_result *res, CURL *c, CURLcode cc, const struct buf *answer, int stopped)
{
    const char *body = answer->p ? answer->p : "";
    curl_off_t ra = 0;
    char ex[200];

    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->http_status);
    if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        res->retry_after = (double)ra;
    if (cc != CURLE_OK) {
        res->outcome = stopped ? SHIP_STOPPED : curl_error_is_final(cc) ? SHIP_REJECTED : SHIP_TRANSIENT;
        snprintf(res->reason, sizeof res->reason, "%s", stopped ? "abandoned (stopping)" : curl_easy_strerror(cc));
        res->http_status = 0;
        return;
    }
    long s = res->http_status;
    excerpt(body, ex, sizeof ex);
    if (s >= 200 && s < 300) {
        res->outcome = SHIP_ACCEPTED;
        find_id(body, res->id, sizeof res->id);
        return;
    }
    res->outcome = (s == 408 || s == 429 || s >= 500) ? SHIP_TRANSIENT : SHIP_REJECTED;
    if (s >= 300 && s < 400) {
        char *where = NULL;
        curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &where);
        snprintf(res->reason, sizeof res->reason, "HTTP %ld: redirected to %s (not followed: give that URL)", s,
                 where ? where : "?");
    } else {
        snprintf(res->reason, sizeof res->reason, "HTTP %ld%s%s", s, ex[0] ? ": " : "", ex);
    }
}

void ship_post(const struct ship_request *rq, struct ship_result *res)
{
    struct buf body = {0}, zbody = {0}, answer = {0};
    char boundary[48], ctype[96];
    struct curl_slist *h = NULL;
    CURL *c = NULL;

    memset(res, 0, sizeof *res);
    res->retry_after = -1;
    res->outcome = SHIP_REJECTED;
    int bad;
    if (rq->body) { /* made by the caller (an envelope): sent as it is */
        bad = put(&body, rq->body, rq->body_len);
    } else {
        make_boundary(boundary, rq);
        bad = build_body(&body, rq, boundary);
    }
    if (bad || (rq->gzip && gzip_body(&body, &zbody) != 0)) {
        snprintf(res->reason, sizeof res->reason, "out of memory building the request");
        goto out;
    }
    const struct buf *send = rq->gzip ? &zbody : &body;
    res->body_bytes = send->n;
    if (rq->body)
        snprintf(ctype, sizeof ctype, "Content-Type: %s", rq->content_type);
    else
        snprintf(ctype, sizeof ctype, "Content-Type: multipart/form-data; boundary=%s", boundary);
    h = curl_slist_append(h, ctype);
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip: the body is small and ready */
    if (rq->gzip)
        h = curl_slist_append(h, "Content-Encoding: gzip");
    c = curl_easy_init();
    if (!c || !h) {
        snprintf(res->reason, sizeof res->reason, "libcurl could not start a request");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "lastgasp-upload/1");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, send->p);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)send->n);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(rq->timeout > 0.001 ? rq->timeout * 1000 : 1));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, STALL_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)rq);
    CURLcode cc = curl_easy_perform(c);
    classify(res, c, cc, &answer, cc == CURLE_ABORTED_BY_CALLBACK);
out:
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(body.p);
    free(zbody.p);
    free(answer.p);
}
