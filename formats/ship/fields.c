/* fields.c — the form fields sent beside a dump: what the dump says of the crash, in the names crash servers
 * already know (Breakpad's prod and ver), then the dump's annotations, then what the user set with --field.
 *
 * Normal context. Values come from the same reader and the same merged view as `lastgasp json`, so a server
 * shows what `json` prints; a value the dump does not hold is left out, never invented.
 */
#include "ship.h"
#include "../read/mdread.h"
#include "../render/render.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int set_n(struct ship_fields *f, const char *name, size_t name_n, const char *value, size_t value_n)
{
    char *v = dup_n(value, value_n);

    if (!v)
        return -1;
    for (size_t i = 0; i < f->n; i++) {
        if (strlen(f->names[i]) == name_n && memcmp(f->names[i], name, name_n) == 0) {
            free(f->values[i]);
            f->values[i] = v;
            return 0;
        }
    }
    if (f->n == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 16;
        char **nn = realloc(f->names, ncap * sizeof *nn);
        if (nn)
            f->names = nn;
        char **nv = nn ? realloc(f->values, ncap * sizeof *nv) : NULL;
        if (!nv) {
            free(v);
            return -1;
        }
        f->values = nv;
        f->cap = ncap;
    }
    f->names[f->n] = dup_n(name, name_n);
    if (!f->names[f->n]) {
        free(v);
        return -1;
    }
    f->values[f->n++] = v;
    return 0;
}

int ship_fields_set(struct ship_fields *f, const char *name, const char *value)
{
    return set_n(f, name, strlen(name), value, strlen(value));
}

int ship_fields_set_arg(struct ship_fields *f, const char *arg)
{
    const char *eq = strchr(arg, '=');

    if (!eq || eq == arg)
        return -1;
    return set_n(f, arg, (size_t)(eq - arg), eq + 1, strlen(eq + 1));
}

void ship_fields_free(struct ship_fields *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->names[i]);
        free(f->values[i]);
    }
    free(f->names);
    free(f->values);
    memset(f, 0, sizeof *f);
}

/* The version of a Go program's main module ("mod\tPATH\tVERSION\tSUM" in its build info), unless it is
 * "(devel)", which says only that it was built from a checkout. */
static int go_main_version(const char *bi, const char **v, size_t *n)
{
    for (const char *l = bi; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t len = strcspn(l, "\n");
        if (len > 4 && strncmp(l, "mod\t", 4) == 0) {
            const char *t = memchr(l + 4, '\t', len - 4);
            if (!t)
                return 0;
            *v = t + 1;
            *n = strcspn(*v, "\t\n");
            return *n > 0 && !(*n == 7 && strncmp(*v, "(devel)", 7) == 0);
        }
    }
    return 0;
}

static const char *crashing_function(const struct render_report *r)
{
    for (size_t i = 0; i < r->nthreads; i++)
        if (r->threads[i].crashed)
            return r->threads[i].nframes ? r->threads[i].frames[0].function : NULL;
    return NULL;
}

/* The dump's annotations (Crashpad's process annotations, lastgasp_set_annotation()), each as a field of its own
 * name. They come after the derived fields, so an annotation the program set (say "ver") wins over what was
 * derived, and --field, set by the caller afterwards, wins over both. A field cannot carry a NUL: a hostile
 * dump's key or value with one inside is cut there. No annotation may pose as the dump's own part. */
static int add_annotations(struct ship_fields *f, const struct mdr_dump *md)
{
    int rc = 0;

    for (size_t i = 0; md->crashpad.present && i < md->crashpad.nannotations; i++) {
        const struct mdr_annotation *a = &md->crashpad.annotations[i];
        size_t kn = strnlen(a->key, a->key_len), vn = strnlen(a->value, a->value_len);
        if (kn == 0 || (kn == 20 && memcmp(a->key, "upload_file_minidump", 20) == 0))
            continue;
        rc |= set_n(f, a->key, kn, a->value, vn);
    }
    return rc;
}

int ship_fields_from_dump(struct ship_fields *f, const struct mdr_dump *md, const char *dump_name,
                              const char *sha256_hex)
{
    struct render_report r;
    char num[64];
    int rc = 0;

    if (render_report_build(&r, md) != 0)
        return -1;
    /* Breakpad's names: Socorro, BugSplat and simple collectors group by them. */
    if (md->process_name)
        rc |= ship_fields_set(f, "prod", md->process_name);
    const char *v;
    size_t vn;
    if (md->go.present && md->go.build_info && go_main_version(md->go.build_info, &v, &vn))
        rc |= set_n(f, "ver", 3, v, vn);
    if (r.has_signal) {
        const char *name = md_signal_name(r.signo), *code = md_si_code_name(r.signo, r.code);
        snprintf(num, sizeof num, "%" PRIu32, r.signo);
        rc |= ship_fields_set(f, "signal", name ? name : num);
        rc |= ship_fields_set(f, "signal_number", num);
        if (code)
            rc |= ship_fields_set(f, "signal_code", code);
        snprintf(num, sizeof num, "0x%" PRIx64, r.address);
        rc |= ship_fields_set(f, "fault_address", num);
    }
    if (r.has_pid) {
        snprintf(num, sizeof num, "%" PRIu32, r.pid);
        rc |= ship_fields_set(f, "pid", num);
    }
    const char *fn = crashing_function(&r);
    if (fn)
        rc |= ship_fields_set(f, "crashing_function", fn);
    if (md->hostname.data && md->hostname.len)
        rc |= set_n(f, "hostname", 8, (const char *)md->hostname.data, strnlen((const char *)md->hostname.data,
                                                                               md->hostname.len));
    if (md->go.present && md->go.go_version)
        rc |= ship_fields_set(f, "go_version", md->go.go_version);
    char when[96];
    if (render_time_rfc3339(&r, when, sizeof when) == 0)
        rc |= ship_fields_set(f, "crash_time", when);
    rc |= ship_fields_set(f, "dump_name", dump_name);
    if (sha256_hex)
        rc |= ship_fields_set(f, "dump_sha256", sha256_hex);
    rc |= add_annotations(f, md);
    render_report_free(&r);
    return rc ? -1 : 0;
}
