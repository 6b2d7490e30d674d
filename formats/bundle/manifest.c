/* manifest.c — one dump's object in the bundle's manifest.json (format in formats/README.md).
 *
 * Normal context. Every value comes from the same parsed model and the same JSON pieces as `lastgasp json`,
 * so a tool can trust the manifest to say what `json` says of each dump; unknown values are null.
 */
#include "bundle_int.h"
#include "../read/mdread.h"
#include "../render/render.h"

#include <inttypes.h>
#include <string.h>

static void str(FILE *out, const char *s) { render_json_str_n(out, s, s ? strlen(s) : 0); }

/* The innermost frame of the crashing thread: the function `json` names first for it. */
static const char *crashing_function(const struct render_report *r)
{
    for (size_t i = 0; i < r->nthreads; i++)
        if (r->threads[i].crashed)
            return r->threads[i].nframes ? r->threads[i].frames[0].function : NULL;
    return NULL;
}

void bundle_manifest_dump(FILE *out, const char *name, const char *source, uint64_t size, const char *sha,
                       const struct mdr_dump *md)
{
    struct render_report r;
    int have = render_report_build(&r, md) == 0;

    fputs("{\"name\":", out);
    str(out, name);
    fputs(",\"source\":", out);
    str(out, source);
    fprintf(out, ",\"size\":%" PRIu64 ",\"sha256\":\"%s\",\"signal\":", size, sha);
    if (have)
        render_json_signal(out, &r);
    else
        fputs("null", out);
    fputs(",\"crashing_function\":", out);
    str(out, have ? crashing_function(&r) : NULL);
    fputs(",\"process_name\":", out);
    str(out, md->process_name);
    fputs(",\"pid\":", out);
    if (have && r.has_pid)
        fprintf(out, "%" PRIu32, r.pid);
    else
        fputs("null", out);
    fputs(",\"time\":", out);
    if (have)
        render_json_time(out, &r);
    else
        fputs("null", out);
    fputs(",\"modules\":[", out);
    for (size_t i = 0; i < md->nmodules; i++) {
        fputs(i ? ",{\"path\":" : "{\"path\":", out);
        str(out, md->modules[i].path);
        fputs(",\"build_id\":", out);
        str(out, md->modules[i].build_id);
        fputc('}', out);
    }
    fputs("],\"go_version\":", out);
    str(out, md->go.present ? md->go.go_version : NULL);
    fputs(",\"container\":", out);
    render_json_container(out, md);
    fprintf(out, ",\"warnings\":%zu}", md->nwarnings + md->warnings_dropped);
    if (have)
        render_report_free(&r);
}
