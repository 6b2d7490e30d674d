/* envelope.c — how one dump goes to the server: as its own event in a Sentry envelope (event.c), or as a
 * Breakpad minidump upload (post.c's multipart body), and where.
 *
 * Normal context. The envelope (develop.sentry.dev/sdk/data-model/envelopes) is a header line, then items, each
 * a header line and its bytes:
 *     {"event_id":"...","sent_at":"..."}
 *     {"type":"event","length":N,"content_type":"application/json"}   the event
 *     {"type":"attachment","length":M,"filename":"NAME.dmp",...}      the dump, a plain attachment
 * The dump goes as a plain attachment, not as attachment_type "event.minidump": Sentry and Bugsink would turn a
 * minidump attachment into an event of their own and merge it over ours (Bugsink then titles it "Fatal Error:
 * SIGABRT" with bare addresses). Sentry keeps a plain attachment beside the event, for download; Bugsink drops it.
 */
#include "ship.h"
#include "../read/mdread.h"
#include "../json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int ship_as_parse(const char *s, enum ship_as *as)
{
    if (!strcmp(s, "auto"))
        *as = SHIP_AS_AUTO;
    else if (!strcmp(s, "event"))
        *as = SHIP_AS_EVENT;
    else if (!strcmp(s, "minidump"))
        *as = SHIP_AS_MINIDUMP;
    else
        return -1;
    return 0;
}

char *ship_event_endpoint(const char *url)
{
    const char *api = url;
    while ((api = strstr(api, "/api/")) != NULL) {
        const char *p = api + 5;
        size_t n = strspn(p, "0123456789");
        if (n && !strncmp(p + n, "/minidump/", 10)) {
            char *out = NULL;
            if (asprintf(&out, "%.*s/envelope/%s", (int)(p + n - url), url, p + n + 10) < 0)
                return NULL;
            return out;
        }
        api = p;
    }
    return NULL;
}

/* 32 hex digits: a UUID4 without dashes, as event ids are written. */
static void new_event_id(char out[33])
{
    unsigned char r[16];
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)clock();
        for (int i = 0; i < 16; i++, t = t * 6364136223846793005ull + 1442695040888963407ull)
            r[i] = (unsigned char)(t >> 56);
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* An item's header line: {"type", "length", "filename" (when given), "content_type"}. 0, or -1. */
static int item_header(FILE *o, const char *type, size_t length, const char *filename, const char *content_type)
{
    struct json_w w;

    json_w_init_file(&w, o);
    json_obj(&w);
    json_key(&w, "type");
    json_str(&w, type);
    json_key(&w, "length");
    json_u64(&w, length);
    if (filename) {
        json_key(&w, "filename");
        json_str(&w, filename);
    }
    json_key(&w, "content_type");
    json_str(&w, content_type);
    json_obj_end(&w);
    return json_w_finish(&w) == 0 && fputc('\n', o) != EOF ? 0 : -1;
}

static int envelope(struct ship_payload *p, const char *event_id, const char *event, size_t event_len,
                    const char *filename, const uint8_t *dump, size_t dump_len)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    FILE *o = open_memstream(&p->body, &p->body_len);

    if (!o)
        return -1;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    struct json_w w;
    json_w_init_file(&w, o);
    json_obj(&w);
    json_key(&w, "event_id");
    json_str(&w, event_id);
    json_key(&w, "sent_at");
    json_str(&w, when);
    json_obj_end(&w);
    int bad = json_w_finish(&w) != 0 || fputc('\n', o) == EOF;
    bad |= item_header(o, "event", event_len, NULL, "application/json") != 0;
    fwrite(event, 1, event_len, o);
    fputc('\n', o);
    bad |= item_header(o, "attachment", dump_len, filename, "application/octet-stream") != 0;
    fwrite(dump, 1, dump_len, o);
    fputc('\n', o);
    return fclose(o) == 0 && !bad ? 0 : -1;
}

int ship_prepare(struct ship_payload *p, const char *url, enum ship_as as, const struct mdr_dump *md,
                     const struct ship_fields *fields, const struct ship_fields *user, const char *filename,
                     const uint8_t *dump, size_t len)
{
    memset(p, 0, sizeof *p);
    if (as == SHIP_AS_MINIDUMP || (as == SHIP_AS_AUTO && !md->go.present))
        return 0;
    char *ev_url = ship_event_endpoint(url);
    if (!ev_url && as == SHIP_AS_AUTO)
        return 0; /* not a Sentry-style server: it takes minidumps only */
    if (!ev_url && !(ev_url = strdup(url)))
        return -1;
    size_t ev_len;
    new_event_id(p->event_id);
    char *ev = ship_event(md, fields, user, p->event_id, &ev_len);
    if (!ev) { /* no crash named (neither a Go reason nor a signal), or no memory: the minidump upload */
        free(ev_url);
        return 0;
    }
    int rc = envelope(p, p->event_id, ev, ev_len, filename, dump, len);
    p->event_bytes = ev_len;
    free(ev);
    if (rc != 0) {
        free(ev_url);
        free(p->body);
        memset(p, 0, sizeof *p);
        return -1;
    }
    p->url = ev_url;
    p->content_type = "application/x-sentry-envelope";
    return 1;
}

void ship_payload_free(struct ship_payload *p)
{
    free(p->url);
    free(p->body);
    memset(p, 0, sizeof *p);
}
