/* bundle_show.c — `lastgasp show BUNDLE.zip` (one line per dump, for a person to pick one) and
 * `lastgasp json BUNDLE.zip` (every dump's full `json` object, in one object, for tools).
 *
 * Normal context. The dumps themselves are read, not the manifest: what is shown is what the bundle holds.
 */
#include "bundle.h"
#include "../debuginfo/debuginfo.h"
#include "../read/mdread.h"
#include "../json/json.h"
#include "../render/render.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void summary_line(FILE *out, const char *name, const struct mdr_dump *md)
{
    struct render_report r;
    const char *sig = NULL, *fn = NULL;

    fputs("  ", out);
    render_put_text(out, name, NULL, 0);
    if (render_report_build(&r, md) != 0) {
        fputs("  (out of memory)\n", out);
        return;
    }
    if (r.has_signal)
        sig = md_signal_name(r.signo);
    for (size_t i = 0; i < r.nthreads; i++)
        if (r.threads[i].crashed && r.threads[i].nframes)
            fn = r.threads[i].frames[0].function;
    fprintf(out, "  %s in ", sig ? sig : r.has_signal ? "signal" : "no signal");
    render_put_text(out, fn, "??", 0);
    fputs(", ", out);
    render_put_text(out, md->process_name, "(process name unknown)", 0);
    if (r.has_pid)
        fprintf(out, " pid %" PRIu32, r.pid);
    if (r.has_time) {
        time_t secs = (time_t)(r.time_ns / 1000000000u);
        struct tm tm;
        char when[40];
        if (gmtime_r(&secs, &tm) && strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm))
            fprintf(out, ", %s", when);
    }
    if (md->hostname.data) {
        char host[80];
        snprintf(host, sizeof host, "%.*s", (int)md->hostname.len, (const char *)md->hostname.data);
        fputs(", host ", out);
        render_put_text(out, host, NULL, 0);
    }
    if (md->nwarnings)
        fprintf(out, " (%zu warning%s)", md->nwarnings, md->nwarnings == 1 ? "" : "s");
    fputc('\n', out);
    render_report_free(&r);
}

int bundle_show(FILE *out, const char *path, struct bundle *b)
{
    size_t ndumps = 0, nbin = 0, bad = 0;
    const char *example = NULL;
    char err[512];

    for (size_t i = 0; i < b->n; i++) {
        ndumps += bundle_is_dump(b->names[i]);
        nbin += strncmp(b->names[i], BUNDLE_BINARIES, 9) == 0;
    }
    fputs("Bundle ", out);
    render_put_text(out, path, NULL, 0);
    fprintf(out, ": %zu dump%s, %zu binar%s\n", ndumps, ndumps == 1 ? "" : "s", nbin, nbin == 1 ? "y" : "ies");
    for (size_t i = 0; i < b->n; i++) {
        struct mdr_dump md;
        if (!bundle_is_dump(b->names[i]))
            continue;
        if (bundle_read_dump(b, b->names[i], &md, err, sizeof err) != 0) {
            fprintf(stderr, "lastgasp: %s:%s: %s\n", path, b->names[i], err);
            bad++;
        } else {
            summary_line(out, b->names[i], &md);
            example = example ? example : b->names[i];
        }
        mdr_close(&md);
    }
    if (example) {
        fputs("One dump in full: lastgasp show ", out);
        render_put_text(out, path, NULL, 0);
        fputc(':', out);
        render_put_text(out, example, NULL, 0);
        fputc('\n', out);
    }
    return ferror(out) ? -1 : bad ? 1 : 0;
}

int bundle_json(FILE *out, const char *path, struct bundle *b)
{
    char err[512];
    size_t bad = 0;
    struct json_w w;

    json_w_init_file(&w, out);
    json_obj(&w);
    json_key(&w, "format");
    json_obj(&w);
    json_key(&w, "name");
    json_str(&w, BUNDLE_JSON_FORMAT);
    json_key(&w, "version");
    json_u64(&w, BUNDLE_JSON_VERSION);
    json_obj_end(&w);
    json_key(&w, "bundle");
    json_str(&w, path);
    json_key(&w, "dumps");
    json_arr(&w);
    for (size_t i = 0; i < b->n; i++) {
        struct mdr_dump md;
        char *one = NULL;
        size_t len = 0;
        if (!bundle_is_dump(b->names[i]))
            continue;
        json_obj(&w);
        json_key(&w, "name");
        json_str(&w, b->names[i]);
        int ok = bundle_read_dump(b, b->names[i], &md, err, sizeof err) == 0;
        if (ok && dbg_apply(&md) != 0) /* as `json NAME.dmp` prints it */
            fprintf(stderr, "lastgasp: %s: out of memory looking up debug info\n", b->names[i]);
        if (ok) {
            FILE *m = open_memstream(&one, &len);
            ok = m && render_json(m, &md) == 0;
            if (m && fclose(m) != 0)
                ok = 0;
            if (!(ok = ok && len > 0))
                snprintf(err, sizeof err, "could not render it");
        }
        if (ok) {
            json_key(&w, "error");
            json_null(&w);
            json_key(&w, "dump");
            json_raw(&w, one, len - 1); /* without the object's newline */
        } else {
            fprintf(stderr, "lastgasp: %s:%s: %s\n", path, b->names[i], err);
            json_key(&w, "error");
            json_str(&w, err);
            json_key(&w, "dump");
            json_null(&w);
            bad++;
        }
        json_obj_end(&w);
        free(one);
        mdr_close(&md);
    }
    json_arr_end(&w);
    json_obj_end(&w);
    if (json_w_finish(&w) != 0)
        return -1;
    fputc('\n', out);
    return ferror(out) ? -1 : bad ? 1 : 0;
}
