/* manifest.c — one dump's object in the bundle's manifest.json (format in formats/README.md).
 *
 * Normal context. Every value comes from the same parsed model and the same JSON pieces as `lastgasp json`,
 * so a tool can trust the manifest to say what `json` says of each dump; unknown values are null.
 */
#include "bundle_int.h"
#include "../read/mdread.h"
#include "../render/render.h"
#include "../json/json.h"


/* The innermost frame of the crashing thread: the function `json` names first for it. */
static const char *crashing_function(const struct render_report *r)
{
    for (size_t i = 0; i < r->nthreads; i++)
        if (r->threads[i].crashed)
            return r->threads[i].nframes ? r->threads[i].frames[0].function : NULL;
    return NULL;
}

void bundle_manifest_dump(struct json_w *w, const char *name, const char *source, uint64_t size, const char *sha,
                          const struct mdr_dump *md)
{
    struct render_report r;
    int have = render_report_build(&r, md) == 0;

    json_obj(w);
    json_key(w, "name");
    json_str(w, name);
    json_key(w, "source");
    json_str(w, source);
    json_key(w, "size");
    json_u64(w, size);
    json_key(w, "sha256");
    json_str(w, sha);
    json_key(w, "signal");
    if (have)
        render_json_signal(w, &r);
    else
        json_null(w);
    json_key(w, "crashing_function");
    json_str(w, have ? crashing_function(&r) : NULL);
    json_key(w, "process_name");
    json_str(w, md->process_name);
    json_key(w, "pid");
    if (have && r.has_pid)
        json_u64(w, r.pid);
    else
        json_null(w);
    json_key(w, "time");
    if (have)
        render_json_time(w, &r);
    else
        json_null(w);
    json_key(w, "modules");
    json_arr(w);
    for (size_t i = 0; i < md->nmodules; i++) {
        json_obj(w);
        json_key(w, "path");
        json_str(w, md->modules[i].path);
        json_key(w, "build_id");
        json_str(w, md->modules[i].build_id);
        json_obj_end(w);
    }
    json_arr_end(w);
    json_key(w, "go_version");
    json_str(w, md->go.present ? md->go.go_version : NULL);
    json_key(w, "container");
    render_json_container(w, md);
    json_key(w, "warnings");
    json_u64(w, md->nwarnings + md->warnings_dropped);
    json_obj_end(w);
    if (have)
        render_report_free(&r);
}
