/* event.c — a crash as the crash server's own event: Sentry's event payload (which Bugsink and GlitchTip read
 * too), built from what the dump holds, so that a Go crash arrives as a Go crash.
 *
 * Normal context. Only what `lastgasp json` shows goes in (the same reader, the same merged view): a value the
 * dump does not hold is left out, never invented. For a dump with a Go stream:
 *   exception  type and value in Go's words: "panic" / "runtime error: index out of range [5] with length 3",
 *              "fatal error" / "concurrent map writes", or for a fault without a reason (C code in a cgo call)
 *              the runtime's signal line "SIGSEGV" / "segmentation violation" with PC, sigcode and addr;
 *   stacktrace the crashing goroutine, outermost first as Sentry wants it: module (the package path) and function
 *              split as sentry-go splits them, file and line, in_app for the main module's packages;
 *   threads    one per goroutine: id, "goroutine N [state]", crashed, state (the status);
 *   fingerprint the crash site: the error's kind, then the first function outside the runtime and the in-app
 *              functions under it. Servers group by type and value otherwise, and every nil dereference has the
 *              same value; a panic value that varies (an index, an id) must not split one bug into many.
 * A dump without one (C) gets the same from the merged view: the signal, the crashing thread's frames as the
 * dump names them, every thread, and debug_meta so a server holding debug files can symbolize it.
 * Written with the JSON writer (formats/json/): strings valid UTF-8, control characters escaped.
 */
#include "ship.h"
#include "../read/mdread.h"
#include "../minidump/minidump.h"
#include "../render/render.h"
#include "../json/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EV_CRASH_FRAMES 200        /* innermost frames of the crashing stack sent (Sentry shows 250 at most) */
#define EV_THREAD_FRAMES 50        /* innermost frames of every other stack */
/* Servers take events up to 1 MiB (Sentry; Bugsink's MAX_EVENT_SIZE). Threads get stacks until their text
 * passes the first bound, then come without one until it passes the second; the rest are counted in extra. A
 * goroutine costs ~2 KB with its stack, ~110 bytes without: about 200 stacks, then some 2500 goroutines. */
#define EV_STACKS_BUDGET (384u << 10)
#define EV_THREADS_BUDGET (640u << 10)
#define EV_FINGERPRINT_CALLERS 4   /* in-app functions under the crash site that join the fingerprint */
#define EV_TAG_KEY_MAX 32          /* Sentry's limits for a tag: longer keys or values are dropped by it */
#define EV_TAG_VALUE_MAX 200

struct ev {
    struct json_w *w;
    const struct mdr_dump *md;
    struct render_report r;
    const char *mainmod;           /* the main module's path ("mod" line of the build info), or NULL */
    size_t mainmod_n;
    size_t stackless;              /* threads sent without their stack (over EV_STACKS_BUDGET) */
};

/* ---- the build info: "path\tP", "mod\tP\tV\tSUM", "dep\tP\tV\tSUM", "build\tK=V" ---- */

/* Field `col` (0-based, tab-separated) of the first line starting with `tag` and a tab; NULL when absent. */
static const char *bi_field(const char *bi, const char *tag, int col, size_t *n)
{
    size_t tn = strlen(tag);
    for (const char *l = bi; l && *l;) {
        size_t len = strcspn(l, "\n");
        if (len > tn && !strncmp(l, tag, tn) && l[tn] == '\t') {
            const char *f = l + tn + 1, *end = l + len;
            for (int c = 0; c < col && f; c++) {
                f = memchr(f, '\t', (size_t)(end - f));
                f = f ? f + 1 : NULL;
            }
            if (!f)
                return NULL;
            const char *t = memchr(f, '\t', (size_t)(end - f));
            *n = (size_t)((t ? t : end) - f);
            return f;
        }
        l += len + (l[len] == '\n');
    }
    return NULL;
}

/* The value of "build\tKEY=VALUE"; NULL when absent. */
static const char *bi_setting(const char *bi, const char *k, size_t *n)
{
    size_t kn = strlen(k);
    for (const char *l = bi; l && *l;) {
        size_t len = strcspn(l, "\n");
        if (len > 6 + kn && !strncmp(l, "build\t", 6) && !strncmp(l + 6, k, kn) && l[6 + kn] == '=') {
            *n = len - 7 - kn;
            return l + 7 + kn;
        }
        l += len + (l[len] == '\n');
    }
    return NULL;
}

/* The release: the main module's version, unless "(devel)" (a build from a checkout), then the VCS revision. */
static const char *go_release(const char *bi, size_t *n)
{
    const char *v = bi_field(bi, "mod", 1, n);
    if (v && *n && !(*n == 7 && !strncmp(v, "(devel)", 7)))
        return v;
    return bi_setting(bi, "vcs.revision", n);
}

/* ---- Go frames ---- */

/* Go's own split of a function name into package path and the rest (runtime/symtab.go funcpkgpath): the
 * package ends at the first '.' after the last '/'. 0 when the name has no package (a C function). */
static int go_split(const char *fn, size_t *pkg_n)
{
    const char *slash = strrchr(fn, '/');
    const char *dot = strchr(slash ? slash + 1 : fn, '.');
    if (!dot || dot == fn || !dot[1])
        return 0;
    *pkg_n = (size_t)(dot - fn);
    return 1;
}

static int is_runtime(const char *fn)
{
    return fn && (!strncmp(fn, "runtime.", 8) || !strncmp(fn, "internal/runtime/", 17));
}

/* The program's own code: package main, or a package of the main module. */
static int go_in_app(const struct ev *e, const char *fn)
{
    size_t pn;
    if (!fn || !go_split(fn, &pn))
        return 0;
    if (pn == 4 && !strncmp(fn, "main", 4))
        return 1;
    return e->mainmod && pn >= e->mainmod_n && !strncmp(fn, e->mainmod, e->mainmod_n) &&
           (pn == e->mainmod_n || fn[e->mainmod_n] == '/');
}

static int frame_in_app(const struct ev *e, const struct mdr_go_goroutine *g, size_t k)
{
    const struct mdr_go_frame *f = &g->frames[k];
    if (f->native) /* C code of the program itself (cgo), not of a shared library */
        return e->md->nmodules && render_go_frame_module_at(e->md, g, k) == &e->md->modules[0];
    return go_in_app(e, f->function);
}

static void go_frame(struct ev *e, const struct mdr_go_goroutine *g, size_t k)
{
    const struct mdr_go_frame *f = &g->frames[k];
    const struct mdr_module *m = render_go_frame_module_at(e->md, g, k);
    struct json_w *w = e->w;
    size_t pn;

    json_obj(w);
    if (f->function && !f->native && go_split(f->function, &pn)) {
        json_key(w, "module");
        json_str_n(w, f->function, pn);
        json_key(w, "function");
        json_str(w, f->function + pn + 1);
    } else if (f->function) {
        json_key(w, "function");
        json_str(w, f->function);
    }
    if (f->file) {
        json_key(w, "filename");
        json_str(w, f->file);
        json_key(w, "abs_path");
        json_str(w, f->file);
    }
    if (f->line > 0) {
        json_key(w, "lineno");
        json_i64(w, f->line);
    }
    if (m && m->path) {
        json_key(w, "package");
        json_str(w, m->path);
    }
    if (!f->inlined) { /* an inlined frame shares its caller's pc: the address belongs to the physical frame */
        json_key(w, "instruction_addr");
        json_hex(w, f->pc);
    }
    json_key(w, "in_app");
    json_bool(w, frame_in_app(e, g, k));
    json_obj_end(w);
}

/* "frames":[...] of g, outermost first; at most `max` of the innermost frames (elision markers skipped). */
static void go_frames(struct ev *e, const struct mdr_go_goroutine *g, size_t max)
{
    size_t n = 0, last = 0;
    for (size_t k = 0; k < g->nframes && n < max; k++)
        if (!g->frames[k].elided)
            n++, last = k + 1;
    json_obj(e->w);
    json_key(e->w, "frames");
    json_arr(e->w);
    for (size_t k = last; k-- > 0;)
        if (!g->frames[k].elided)
            go_frame(e, g, k);
    json_arr_end(e->w);
    json_obj_end(e->w);
}

static const struct mdr_go_goroutine *go_crashing(const struct mdr_dump *md)
{
    for (size_t i = 0; i < md->go.ngoroutines; i++)
        if (render_go_crashed(&md->go, &md->go.goroutines[i]))
            return &md->go.goroutines[i];
    return NULL;
}

/* The frames of the runtime's own crash path: the innermost run of runtime frames above the crash site. */
static size_t go_crash_path(const struct mdr_go_goroutine *g)
{
    size_t n = 0;
    while (n < g->nframes && (g->frames[n].elided || is_runtime(g->frames[n].function)))
        n++;
    return n < g->nframes ? n : 0; /* a goroutine all in the runtime has no crash site to set apart */
}

/* ---- the exception ---- */

/* The runtime's word for a fatal signal, as in "SIGSEGV: segmentation violation" (sigtab_linux_generic.go). */
static const char *go_signal_words(uint32_t sig)
{
    switch (sig) {
    case 4: return "illegal instruction";
    case 5: return "trace trap";
    case 6: return "abort";
    case 7: return "bus error";
    case 8: return "floating-point exception";
    case 11: return "segmentation violation";
    case 31: return "bad system call";
    default: return NULL;
    }
}

/* type and value, each a heap string (value may be NULL). 0, or -1 when the dump names no crash. */
static int exception_words(const struct ev *e, char **type, char **value)
{
    const struct mdr_go_info *go = &e->md->go;
    const struct render_report *r = &e->r;
    char *v = NULL;
    size_t vn = 0;

    *type = *value = NULL;
    if (go->present && go->reason && go->reason[0]) {
        const char *l = go->reason;
        /* "[lastgasp: older panics not shown]" is lastgasp's note, not the runtime's words: the next line is */
        while (!strncmp(l, "[lastgasp:", 10) && strchr(l, '\n') && strchr(l, '\n')[1])
            l = strchr(l, '\n') + 1;
        size_t len = strlen(l);
        while (len && l[len - 1] == '\n')
            len--;
        size_t first = strcspn(l, "\n");
        const char *colon = memchr(l, ':', first < len ? first : len);
        if (colon && colon[1] == ' ') { /* "panic: VALUE", "fatal error: MESSAGE"; the later lines follow */
            *type = strndup(l, (size_t)(colon - l));
            *value = strndup(colon + 2, len - (size_t)(colon + 2 - l));
        } else {
            *type = strndup(l, first);
            if (first < len)
                *value = strndup(l + first + 1, len - first - 1);
        }
        return *type ? 0 : -1;
    }
    if (!r->has_signal)
        return -1;
    const char *name = md_signal_name(r->signo);
    FILE *m = open_memstream(&v, &vn);
    if (!m)
        return -1;
    if (go->present) {
        /* As the runtime prints a fatal signal: "SIGSEGV: segmentation violation", "PC=... sigcode=N addr=...",
         * then "signal arrived during cgo execution" when it came in C code (the m number is not in the dump). */
        const struct mdr_go_goroutine *g = go_crashing(e->md);
        const char *words = go_signal_words(r->signo);
        fputs(words ? words : "", m);
        if (r->nthreads && r->threads[0].crashed && r->threads[0].nframes)
            fprintf(m, "\nPC=0x%" PRIx64 " sigcode=%" PRId32, r->threads[0].frames[0].pc, r->code);
        else
            fprintf(m, "\nsigcode=%" PRId32, r->code);
        if (r->code > 0)
            fprintf(m, " addr=0x%" PRIx64, r->address);
        if (g && g->nframes && g->frames[0].native)
            fputs("\nsignal arrived during cgo execution", m);
    } else {
        const char *code = md_si_code_name(r->signo, r->code);
        fprintf(m, "%s", code ? code : "");
        if (!code)
            fprintf(m, "si_code %" PRId32, r->code);
        if (r->code > 0)
            fprintf(m, " at 0x%" PRIx64, r->address);
        else if (r->has_sender)
            fprintf(m, " sent by pid %" PRIu32 " (uid %" PRIu32 ")", r->sender_pid, r->sender_uid);
    }
    if (fclose(m) != 0) {
        free(v);
        return -1;
    }
    char num[32];
    snprintf(num, sizeof num, "signal %" PRIu32, r->signo);
    *type = strdup(name ? name : num);
    *value = v;
    return *type ? 0 : -1;
}

/* The signal is the crash's cause only without a Go reason: for a panic or fatal error it is the runtime's (or
 * lastgasp's) way of dying, not what went wrong. */
static int signal_is_cause(const struct ev *e)
{
    return e->r.has_signal && !(e->md->go.present && e->md->go.reason && e->md->go.reason[0]);
}

static void mechanism(struct ev *e, size_t crash_path)
{
    struct json_w *w = e->w;
    const struct render_report *r = &e->r;

    json_key(w, "mechanism");
    json_obj(w);
    json_key(w, "type");
    json_str(w, "lastgasp");
    json_key(w, "handled");
    json_bool(w, 0);
    if (signal_is_cause(e)) {
        const char *name = md_signal_name(r->signo), *code = md_si_code_name(r->signo, r->code);
        json_key(w, "meta");
        json_obj(w);
        json_key(w, "signal");
        json_obj(w);
        json_key(w, "number");
        json_u64(w, r->signo);
        json_key(w, "code");
        json_i64(w, r->code);
        if (name) {
            json_key(w, "name");
            json_str(w, name);
        }
        if (code) {
            json_key(w, "code_name");
            json_str(w, code);
        }
        json_obj_end(w);
        json_obj_end(w);
    }
    if (crash_path) { /* the innermost frames are the runtime dying, not the bug: said once, here */
        json_key(w, "data");
        json_obj(w);
        json_key(w, "runtime_crash_path_frames");
        json_u64(w, crash_path);
        json_obj_end(w);
    }
    json_obj_end(w);
}

/* ---- native (no Go stream) ---- */

static int main_module(const struct ev *e, const struct render_frame *f)
{
    return f->module_entry && e->md->nmodules && f->module_entry == &e->md->modules[0];
}

static void native_frames(struct ev *e, const struct render_thread *t, size_t max)
{
    struct json_w *w = e->w;
    size_t n = t->nframes < max ? t->nframes : max;

    json_obj(w);
    json_key(w, "frames");
    json_arr(w);
    for (size_t k = n; k-- > 0;) {
        const struct render_frame *f = &t->frames[k];
        json_obj(w);
        if (f->function) {
            json_key(w, "function");
            json_str(w, f->function);
        }
        if (f->module_entry && f->module_entry->path) {
            json_key(w, "package");
            json_str(w, f->module_entry->path);
        }
        json_key(w, "instruction_addr");
        json_hex(w, f->pc);
        json_key(w, "in_app");
        json_bool(w, main_module(e, f));
        json_obj_end(w);
    }
    json_arr_end(w);
    json_obj_end(w);
}

/* Breakpad's debug id of a GNU build-id: its first 16 bytes as a GUID (first three fields byte-swapped),
 * then age 0: what Sentry and Bugsink look debug files up by. */
static int debug_id(const char *hex, char out[41])
{
    unsigned char b[16] = {0};
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n && i < 16; i++)
        if (sscanf(hex + 2 * i, "%2hhx", &b[i]) != 1)
            return -1;
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    char *p = out;
    for (int i = 0; i < 16; i++) {
        p += sprintf(p, "%02x", b[order[i]]);
        if (i == 3 || i == 5 || i == 7 || i == 9)
            *p++ = '-';
    }
    strcpy(p, "-0"); /* 36 + 2 + NUL */
    return 0;
}

/* "debug_meta": {"images": [...]}, the modules with a build-id; left out when there is none. */
static void debug_meta(struct ev *e)
{
    struct json_w *w = e->w;
    int any = 0;
    char id[41];

    for (size_t i = 0; i < e->md->nmodules; i++) {
        const struct mdr_module *m = &e->md->modules[i];
        if (!m->build_id || !m->path || debug_id(m->build_id, id) != 0)
            continue;
        if (!any) {
            json_key(w, "debug_meta");
            json_obj(w);
            json_key(w, "images");
            json_arr(w);
            any = 1;
        }
        json_obj(w);
        json_key(w, "type");
        json_str(w, "elf");
        json_key(w, "code_file");
        json_str(w, m->path);
        json_key(w, "code_id");
        json_str(w, m->build_id);
        json_key(w, "debug_id");
        json_str(w, id);
        json_key(w, "image_addr");
        json_hex(w, m->base);
        json_key(w, "image_size");
        json_u64(w, m->size);
        json_obj_end(w);
    }
    if (any) {
        json_arr_end(w);
        json_obj_end(w);
    }
}

/* ---- threads ---- */

/* Every goroutine (every thread for a native dump) until the budgets are spent; returns how many were left out.
 * The crashing one carries no stack of its own: the exception's is the same (as Sentry's SDKs send it). */
static size_t threads(struct ev *e)
{
    struct json_w *w = e->w;
    size_t left = 0, stackless = 0;
    const struct mdr_go_info *go = &e->md->go;

    json_key(w, "threads");
    json_obj(w);
    json_key(w, "values");
    json_arr(w);
    uint64_t start = w->bytes; /* the budgets count the text of the threads alone */
    size_t n = go->present ? go->ngoroutines : e->r.nthreads;
    for (size_t i = 0; i < n; i++) {
        uint64_t len = w->bytes - start;
        if (len > EV_THREADS_BUDGET) {
            left = n - i;
            break;
        }
        int stack = len <= EV_STACKS_BUDGET;
        stackless += !stack;
        json_obj(w);
        if (go->present) {
            const struct mdr_go_goroutine *g = &go->goroutines[i];
            const char *state = render_go_state(g), *status = render_go_status_name(g->status);
            int crashed = render_go_crashed(go, g);
            uint64_t minutes;
            json_key(w, "id");
            json_u64(w, g->goid);
            json_key(w, "name");
            char *name = NULL;
            size_t nn = 0;
            FILE *m = open_memstream(&name, &nn);
            if (m) {
                fprintf(m, "goroutine %" PRIu64 " [", g->goid);
                if (state)
                    fputs(state, m);
                else
                    fprintf(m, "status %" PRIu32, g->status);
                if (render_go_shows_wait(go, g, &minutes))
                    fprintf(m, ", %" PRIu64 " minutes", minutes);
                if (g->flags & LG_GOROUTINE_LOCKED)
                    fputs(", locked to thread", m);
                fputc(']', m);
                fclose(m);
            }
            json_str(w, name);
            free(name);
            json_key(w, "crashed");
            json_bool(w, crashed);
            json_key(w, "current");
            json_bool(w, crashed);
            if (g->goid == 1) {
                json_key(w, "main");
                json_bool(w, 1);
            }
            if (status) {
                json_key(w, "state");
                json_str(w, status);
            }
            if (!crashed && g->nframes && stack) {
                json_key(w, "stacktrace");
                go_frames(e, g, EV_THREAD_FRAMES);
            }
        } else {
            const struct render_thread *th = &e->r.threads[i];
            json_key(w, "id");
            json_u64(w, th->tid);
            if (th->name) {
                json_key(w, "name");
                json_str(w, th->name);
            }
            json_key(w, "crashed");
            json_bool(w, th->crashed);
            json_key(w, "current");
            json_bool(w, th->crashed);
            if (!th->crashed && th->nframes && stack) {
                json_key(w, "stacktrace");
                native_frames(e, th, EV_THREAD_FRAMES);
            }
        }
        json_obj_end(w);
    }
    json_arr_end(w);
    json_obj_end(w);
    e->stackless = stackless;
    return left;
}

/* ---- fields: tags, extra, top-level overrides ---- */

static const char *field(const struct ship_fields *f, const char *name)
{
    for (size_t i = 0; f && i < f->n; i++)
        if (!strcmp(f->names[i], name))
            return f->values[i];
    return NULL;
}

/* What Sentry keeps as a tag; anything else stays in extra only. */
static int tag_ok(const char *k, size_t kn, const char *v, size_t vn)
{
    if (kn == 0 || kn > EV_TAG_KEY_MAX || vn == 0 || vn > EV_TAG_VALUE_MAX || memchr(v, '\n', vn))
        return 0;
    for (size_t i = 0; i < kn; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-", k[i]))
            return 0;
    return 1;
}

/* Names that set the event's own attributes rather than tags (from an annotation or --field). */
static int top_level(const char *k, size_t kn)
{
    static const char *const names[] = {"release", "environment", "dist", "server_name"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == kn && !strncmp(k, names[i], kn))
            return 1;
    return 0;
}

static void tag(struct json_w *w, const char *k, size_t kn, const char *v, size_t vn)
{
    if (!tag_ok(k, kn, v, vn) || top_level(k, kn))
        return;
    json_key_n(w, k, kn);
    json_str_n(w, v, vn);
}

/* A tag set twice is sent once (the last value wins, as with form fields): a key is skipped here when a later
 * source sets it again. */
static int set_later(const struct mdr_crashpad *cp, size_t from, const struct ship_fields *user, const char *k,
                     size_t kn)
{
    for (size_t i = from; cp && i < cp->nannotations; i++)
        if (cp->annotations[i].key_len == kn && !memcmp(cp->annotations[i].key, k, kn))
            return 1;
    for (size_t i = 0; user && i < user->n; i++)
        if (strlen(user->names[i]) == kn && !memcmp(user->names[i], k, kn))
            return 1;
    return 0;
}

static void tags(struct ev *e, const struct ship_fields *user)
{
    struct json_w *w = e->w;
    const struct mdr_dump *md = e->md;
    const struct mdr_crashpad *cp = md->crashpad.present ? &md->crashpad : NULL;
    const char *v;
    size_t n;

    json_key(w, "tags");
    json_obj(w);
    if (md->process_name && !set_later(cp, 0, user, "process", 7))
        tag(w, "process", 7, md->process_name, strlen(md->process_name));
    if (signal_is_cause(e) && md_signal_name(e->r.signo) && !set_later(cp, 0, user, "signal", 6))
        tag(w, "signal", 6, md_signal_name(e->r.signo), strlen(md_signal_name(e->r.signo)));
    if (md->go.present && md->go.go_version && !set_later(cp, 0, user, "go_version", 10))
        tag(w, "go_version", 10, md->go.go_version, strlen(md->go.go_version));
    if (md->go.present && (v = bi_setting(md->go.build_info, "vcs.revision", &n)) &&
        !set_later(cp, 0, user, "vcs.revision", 12))
        tag(w, "vcs.revision", 12, v, n);
    if (md->go.present && (v = bi_setting(md->go.build_info, "vcs.modified", &n)) &&
        !set_later(cp, 0, user, "vcs.modified", 12))
        tag(w, "vcs.modified", 12, v, n);
    for (size_t i = 0; cp && i < cp->nannotations; i++) {
        const struct mdr_annotation *a = &cp->annotations[i];
        size_t kn = strnlen(a->key, a->key_len), vn = strnlen(a->value, a->value_len);
        if (!set_later(cp, i + 1, user, a->key, kn))
            tag(w, a->key, kn, a->value, vn);
    }
    for (size_t i = 0; user && i < user->n; i++)
        tag(w, user->names[i], strlen(user->names[i]), user->values[i], strlen(user->values[i]));
    json_obj_end(w);
}

/* The form fields of the minidump upload (fields.c: derived, then annotations, then --field), as extra. */
static void extra(struct ev *e, const struct ship_fields *f, size_t left_out)
{
    struct json_w *w = e->w;

    json_key(w, "extra");
    json_obj(w);
    for (size_t i = 0; f && i < f->n; i++) {
        json_key(w, f->names[i]);
        json_str(w, f->values[i]);
    }
    if (e->md->go.present && e->md->go.reason && !field(f, "go_reason")) {
        json_key(w, "go_reason");
        json_str(w, e->md->go.reason);
    }
    if (e->stackless && !field(f, "stacks_not_sent")) {
        json_key(w, "stacks_not_sent");
        json_u64(w, e->stackless);
    }
    if (left_out && !field(f, e->md->go.present ? "goroutines_not_sent" : "threads_not_sent")) {
        json_key(w, e->md->go.present ? "goroutines_not_sent" : "threads_not_sent");
        json_u64(w, left_out);
    }
    json_obj_end(w);
}

/* ---- contexts ---- */

static void contexts(struct ev *e)
{
    struct json_w *w = e->w;
    const struct mdr_dump *md = e->md;
    const struct mdr_sysinfo *si = &md->sysinfo;

    json_key(w, "contexts");
    json_obj(w);
    if (si->present && si->platform == MD_OS_LINUX) {
        json_key(w, "os");
        json_obj(w);
        json_key(w, "name");
        json_str(w, "Linux");
        if (si->csd_version) { /* "Linux 6.1.0-18-amd64 #1 SMP ... x86_64": uname's sysname release version machine */
            const char *rel = strchr(si->csd_version, ' ');
            if (rel && rel[1]) {
                json_key(w, "kernel_version");
                json_str_n(w, rel + 1, strcspn(rel + 1, " "));
            }
            json_key(w, "raw_description");
            json_str(w, si->csd_version);
        }
        json_obj_end(w);
    }
    if (si->present) {
        json_key(w, "device");
        json_obj(w);
        if (mdr_arch_name(si->arch)) {
            json_key(w, "arch");
            json_str(w, mdr_arch_name(si->arch));
        }
        if (si->cpu_count) {
            json_key(w, "processor_count");
            json_u64(w, si->cpu_count);
        }
        json_obj_end(w);
    }
    if (md->go.present) {
        json_key(w, "runtime");
        json_obj(w);
        json_key(w, "name");
        json_str(w, "go");
        if (md->go.go_version) {
            json_key(w, "version");
            json_str(w, md->go.go_version);
        }
        json_obj_end(w);
        size_t n;
        const char *path = render_go_program_path(md->go.build_info, &n);
        json_key(w, "go");
        json_obj(w);
        json_key(w, "type");
        json_str(w, "go");
        if (path) {
            json_key(w, "program");
            json_str_n(w, path, n);
        }
        if (e->mainmod) {
            json_key(w, "main_module");
            json_str_n(w, e->mainmod, e->mainmod_n);
        }
        json_key(w, "goroutines");
        json_u64(w, md->go.ngoroutines);
        if (md->go.crashing_goid) {
            json_key(w, "crashing_goroutine");
            json_u64(w, md->go.crashing_goid);
        }
        json_obj_end(w);
    }
    if (md->hostname.data || md->cgroup.data) {
        json_key(w, "container");
        json_obj(w);
        json_key(w, "type");
        json_str(w, "container");
        if (md->hostname.data) {
            json_key(w, "hostname");
            json_str_n(w, (const char *)md->hostname.data, strnlen((const char *)md->hostname.data, md->hostname.len));
        }
        if (md->cgroup.data) {
            size_t n = md->cgroup.len;
            while (n && md->cgroup.data[n - 1] == '\n')
                n--;
            json_key(w, "cgroup");
            json_str_n(w, (const char *)md->cgroup.data, n);
        }
        json_obj_end(w);
    }
    json_obj_end(w);
}

/* The dependencies as Sentry's "modules" (name -> version), as sentry-go sends them. */
/* The next "dep\tPATH\tVERSION[\tSUM]" line of the build info from *l on: 1 with its path and version, advancing
 * *l past it; 0 at the end. */
static int next_dep(const char **l, const char **path, size_t *pn, const char **ver, size_t *vn)
{
    while (**l) {
        const char *line = *l;
        size_t len = strcspn(line, "\n");
        *l += len + (line[len] == '\n');
        if (len > 4 && !strncmp(line, "dep\t", 4)) {
            const char *p = line + 4, *end = line + len, *t = memchr(p, '\t', (size_t)(end - p));
            if (t) {
                const char *v = t + 1, *t2 = memchr(v, '\t', (size_t)(end - v));
                *path = p;
                *pn = (size_t)(t - p);
                *ver = v;
                *vn = (size_t)((t2 ? t2 : end) - v);
                return 1;
            }
        }
    }
    return 0;
}

/* The dependencies as Sentry's "modules" (name -> version), as sentry-go sends them; left out when none. */
static void modules(struct ev *e)
{
    const char *bi = e->md->go.build_info, *l, *p, *v;
    size_t pn, vn;

    if (!bi)
        return;
    l = bi;
    if (!next_dep(&l, &p, &pn, &v, &vn))
        return;
    json_key(e->w, "modules");
    json_obj(e->w);
    for (l = bi; next_dep(&l, &p, &pn, &v, &vn);) {
        json_key_n(e->w, p, pn);
        json_str_n(e->w, v, vn);
    }
    json_obj_end(e->w);
}

/* ---- the fingerprint ---- */

static void fingerprint(struct ev *e, const char *type)
{
    struct json_w *w = e->w;
    const struct mdr_go_goroutine *g = e->md->go.present ? go_crashing(e->md) : NULL;

    if (g) {
        size_t k = go_crash_path(g), callers = 0;
        while (k < g->nframes && (g->frames[k].elided || !g->frames[k].function))
            k++;
        if (k >= g->nframes)
            return; /* no crash site: the server's own grouping */
        json_key(w, "fingerprint");
        json_arr(w);
        json_str(w, "lastgasp-go");
        json_str(w, type);
        json_str(w, g->frames[k].function);
        for (size_t j = k + 1; j < g->nframes && callers < EV_FINGERPRINT_CALLERS; j++) {
            const struct mdr_go_frame *f = &g->frames[j];
            if (f->elided || !f->function || !frame_in_app(e, g, j))
                continue;
            json_str(w, f->function);
            callers++;
        }
        json_arr_end(w);
        return;
    }
    /* Native: the innermost named frame of the program itself (an abort() lands in libc first), else of any
     * module. */
    for (size_t i = 0; i < e->r.nthreads; i++) {
        const struct render_thread *t = &e->r.threads[i];
        if (!t->crashed)
            continue;
        size_t pick = t->nframes;
        for (size_t k = 0; k < t->nframes && pick == t->nframes; k++)
            if (t->frames[k].function && main_module(e, &t->frames[k]))
                pick = k;
        for (size_t k = 0; k < t->nframes && pick == t->nframes; k++)
            if (t->frames[k].function)
                pick = k;
        if (pick < t->nframes) {
            json_key(w, "fingerprint");
            json_arr(w);
            json_str(w, "lastgasp-native");
            json_str(w, type);
            json_str(w, t->frames[pick].function);
            json_arr_end(w);
            return;
        }
    }
}

/* ---- the event ---- */

char *ship_event(const struct mdr_dump *md, const struct ship_fields *fields,
                     const struct ship_fields *user, const char *event_id, size_t *len)
{
    struct ev e = {.md = md};
    struct json_w w;
    char *out = NULL, *type = NULL, *value = NULL;
    size_t n;
    FILE *o;

    *len = 0;
    if (render_report_build(&e.r, md) != 0)
        return NULL;
    if (exception_words(&e, &type, &value) != 0 || !(o = open_memstream(&out, len))) {
        free(type);
        free(value);
        render_report_free(&e.r);
        return NULL;
    }
    json_w_init_file(&w, o);
    e.w = &w;
    if (md->go.present && md->go.build_info)
        e.mainmod = bi_field(md->go.build_info, "mod", 0, &e.mainmod_n);
    json_obj(&w);
    json_key(&w, "event_id");
    json_str(&w, event_id);
    json_key(&w, "level");
    json_str(&w, "fatal");
    json_key(&w, "platform");
    json_str(&w, md->go.present ? "go" : "native");
    if (e.r.has_time) {
        json_key(&w, "timestamp");
        render_json_time(&w, &e.r);
    }
    json_key(&w, "sdk");
    json_obj(&w);
    json_key(&w, "name");
    json_str(&w, "lastgasp");
    json_key(&w, "version");
    json_str(&w, "1");
    json_obj_end(&w);
    const char *v;
    if ((v = field(fields, "server_name"))) {
        json_key(&w, "server_name");
        json_str(&w, v);
    } else if (md->hostname.data) {
        json_key(&w, "server_name");
        json_str_n(&w, (const char *)md->hostname.data, strnlen((const char *)md->hostname.data, md->hostname.len));
    }
    if ((v = field(fields, "release"))) {
        json_key(&w, "release");
        json_str(&w, v);
    } else if (md->go.present && md->go.build_info && (v = go_release(md->go.build_info, &n))) {
        json_key(&w, "release");
        json_str_n(&w, v, n);
    }
    if ((v = field(fields, "environment"))) {
        json_key(&w, "environment");
        json_str(&w, v);
    }
    if ((v = field(fields, "dist"))) {
        json_key(&w, "dist");
        json_str(&w, v);
    }

    /* the exception, with the crashing stack */
    const struct mdr_go_goroutine *g = md->go.present ? go_crashing(md) : NULL;
    const struct render_thread *ct = NULL;
    for (size_t i = 0; i < e.r.nthreads && !ct; i++)
        if (e.r.threads[i].crashed)
            ct = &e.r.threads[i];
    json_key(&w, "exception");
    json_obj(&w);
    json_key(&w, "values");
    json_arr(&w);
    json_obj(&w);
    json_key(&w, "type");
    json_str(&w, type);
    if (value) {
        json_key(&w, "value");
        json_str(&w, value);
    }
    if (g) {
        json_key(&w, "thread_id");
        json_u64(&w, g->goid);
        mechanism(&e, go_crash_path(g));
        json_key(&w, "stacktrace");
        go_frames(&e, g, EV_CRASH_FRAMES);
    } else { /* a native dump, or a Go crash on a thread without a goroutine (a C thread, the scheduler) */
        if (ct && !md->go.present) { /* thread ids: goroutine ids in a Go event, tids here */
            json_key(&w, "thread_id");
            json_u64(&w, ct->tid);
        }
        mechanism(&e, 0);
        if (ct && ct->nframes) {
            json_key(&w, "stacktrace");
            native_frames(&e, ct, EV_CRASH_FRAMES);
        }
    }
    json_obj_end(&w);
    json_arr_end(&w);
    json_obj_end(&w);
    fingerprint(&e, type);
    size_t left = threads(&e);
    tags(&e, user);
    extra(&e, fields, left);
    contexts(&e);
    modules(&e);
    if (!md->go.present)
        debug_meta(&e);
    json_obj_end(&w);
    int bad = json_w_finish(&w) != 0;
    if (fclose(o) != 0 || bad) {
        free(out);
        out = NULL;
        *len = 0;
    }
    free(type);
    free(value);
    render_report_free(&e.r);
    return out;
}
