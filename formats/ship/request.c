/* request.c — one dump made ready to send, the same way for `upload` and `watch`: parse it, its form fields
 * (what it says of itself, then the user's --field ones), and, when it goes as an event, the envelope.
 *
 * Normal context (the `lastgasp` tool).
 */
#include "ship.h"
#include "../bundle/sha256.h"
#include "../read/mdread.h"

#include <stdio.h>
#include <string.h>

int ship_dump_request(struct ship_dump_request *r, const struct ship_target *t, const char *filename,
                      const uint8_t *dump, size_t len, char *err, size_t errlen)
{
    struct bundle_sha256 sha;
    struct mdr_dump md;
    char hex[65];

    memset(r, 0, sizeof *r);
    if (mdr_open(&md, dump, len, err, errlen) != MDR_OK) {
        mdr_close(&md);
        return SHIP_DUMP_NOT_MINIDUMP;
    }
    bundle_sha256_init(&sha);
    bundle_sha256_update(&sha, dump, len);
    bundle_sha256_hex(&sha, hex);
    int bad = ship_fields_from_dump(&r->fields, &md, filename, hex);
    for (size_t i = 0; t->extra && i < t->extra->n && !bad; i++)
        bad = ship_fields_set(&r->fields, t->extra->names[i], t->extra->values[i]);
    r->as_event = bad ? 0 : ship_prepare(&r->ev, t->url, t->as, &md, &r->fields, t->extra, filename, dump, len);
    mdr_close(&md);
    if (bad || r->as_event < 0) {
        snprintf(err, errlen, "out of memory");
        ship_dump_request_free(r);
        return SHIP_DUMP_NOMEM;
    }
    r->rq = (struct ship_request){.url = t->url, .gzip = t->gzip, .fields = &r->fields, .filename = filename,
                                  .dump = dump, .len = len};
    if (r->as_event) {
        r->rq.url = r->ev.url;
        r->rq.body = (const uint8_t *)r->ev.body;
        r->rq.body_len = r->ev.body_len;
        r->rq.content_type = r->ev.content_type;
    }
    return 0;
}

void ship_dump_request_free(struct ship_dump_request *r)
{
    ship_fields_free(&r->fields);
    ship_payload_free(&r->ev);
    memset(r, 0, sizeof *r);
}

void ship_print_uploaded(const char *label, const struct ship_dump_request *r, const struct ship_result *res)
{
    printf("%s: uploaded%s (HTTP %ld%s%s)\n", label, r->as_event ? " as an event" : "", res->http_status,
           res->id[0] ? ", id " : "", res->id);
}
