/* render_json.c — `lastgasp json`: one JSON object describing the dump, for tools.
 *
 * Normal context. Contract: a value the dump does not hold is null, never a guess; 64-bit addresses are
 * "0x..." strings (JSON numbers lose precision past 2^53); every string is valid UTF-8 with control
 * characters escaped, bytes that are not UTF-8 becoming U+FFFD (the writer, formats/json/, sees to both).
 * Every field is documented in formats/README.md ("`lastgasp json`"), and tests/json/ checks the two agree.
 */
#include "render.h"
#include "../json/json.h"
#include "../minidump/minidump.h"

#include <string.h>
#include <time.h>

/* The document's name and version, first in the object. The version changes only when a field is removed,
 * renamed, or changes its type or meaning; new fields come without a change (readers skip unknown keys). */
#define RENDER_JSON_FORMAT "lastgasp-json"
#define RENDER_JSON_VERSION 1

static void u32_or_null(struct json_w *w, int has, uint32_t v)
{
    if (has)
        json_u64(w, v);
    else
        json_null(w);
}

static void u64_or_null(struct json_w *w, int has, uint64_t v)
{
    if (has)
        json_u64(w, v);
    else
        json_null(w);
}

/* Line numbers: 0 is "unknown" in the dump. */
static void line_or_null(struct json_w *w, int32_t line)
{
    if (line)
        json_i64(w, line);
    else
        json_null(w);
}

/* n bytes of data that may be absent (NULL: null). */
static void bytes_or_null(struct json_w *w, const uint8_t *data, size_t n)
{
    json_str_n(w, (const char *)data, n);
}

void render_json_signal(struct json_w *w, const struct render_report *r)
{
    if (!r->has_signal) {
        json_null(w);
        return;
    }
    json_obj(w);
    json_key(w, "number");
    json_u64(w, r->signo);
    json_key(w, "name");
    json_str(w, md_signal_name(r->signo));
    json_key(w, "code");
    json_i64(w, r->code);
    json_key(w, "code_name");
    json_str(w, md_si_code_name(r->signo, r->code));
    json_key(w, "address");
    json_hex(w, r->address);
    json_obj_end(w);
}

static void frame(struct json_w *w, const struct render_frame *f)
{
    json_obj(w);
    json_key(w, "pc");
    json_hex(w, f->pc);
    json_key(w, "function");
    json_str(w, f->function);
    json_key(w, "offset");
    u32_or_null(w, f->has_offset, f->offset);
    json_key(w, "file");
    json_str(w, f->file);
    json_key(w, "line");
    u32_or_null(w, f->line > 0, (uint32_t)f->line);
    json_key(w, "module");
    json_str(w, f->module);
    json_key(w, "inlined");
    json_bool(w, f->inlined);
    json_key(w, "trust");
    json_str(w, f->trust);
    json_obj_end(w);
}

static void registers(struct json_w *w, const struct mdr_context *ctx)
{
    if (!ctx || !ctx->nregs) {
        json_null(w);
        return;
    }
    json_obj(w);
    for (uint32_t i = 0; i < ctx->nregs; i++) {
        json_key(w, ctx->reg_names[i]);
        json_hex(w, ctx->reg[i]);
    }
    json_obj_end(w);
}

static void threads(struct json_w *w, const struct render_report *r)
{
    json_arr(w);
    for (size_t i = 0; i < r->nthreads; i++) {
        const struct render_thread *t = &r->threads[i];

        json_obj(w);
        json_key(w, "tid");
        json_u64(w, t->tid);
        json_key(w, "name");
        json_str(w, t->name);
        json_key(w, "crashed");
        json_bool(w, t->crashed);
        json_key(w, "status");
        json_str(w, t->status);
        json_key(w, "frames");
        json_arr(w);
        for (size_t k = 0; k < t->nframes; k++)
            frame(w, &t->frames[k]);
        json_arr_end(w);
        json_key(w, "registers");
        registers(w, t->ctx);
        json_obj_end(w);
    }
    json_arr_end(w);
}

static void modules(struct json_w *w, const struct mdr_dump *md)
{
    json_arr(w);
    for (size_t i = 0; i < md->nmodules; i++) {
        const struct mdr_module *m = &md->modules[i];

        json_obj(w);
        json_key(w, "base");
        json_hex(w, m->base);
        json_key(w, "size");
        json_u64(w, m->size);
        json_key(w, "path");
        json_str(w, m->path);
        json_key(w, "build_id");
        json_str(w, m->build_id);
        /* where file:line of its frames came from: null when nothing was looked up */
        json_key(w, "debug_info");
        if (m->debug_from) {
            json_obj(w);
            json_key(w, "from");
            json_str(w, m->debug_from);
            json_key(w, "path");
            json_str(w, m->debug_path);
            json_key(w, "url");
            json_str(w, m->debug_url);
            json_key(w, "note");
            json_str(w, m->debug_note);
            json_obj_end(w);
        } else {
            json_null(w);
        }
        json_obj_end(w);
    }
    json_arr_end(w);
}

static void system_info(struct json_w *w, const struct mdr_dump *md)
{
    const struct mdr_sysinfo *si = &md->sysinfo;

    if (!si->present) {
        json_null(w);
        return;
    }
    json_obj(w);
    json_key(w, "arch");
    json_str(w, mdr_arch_name(si->arch));
    json_key(w, "os");
    json_str(w, si->platform == MD_OS_LINUX ? "linux" : NULL);
    json_key(w, "cpu_count");
    json_u64(w, si->cpu_count);
    json_key(w, "cpu_vendor");
    json_str(w, si->cpu_vendor[0] ? si->cpu_vendor : NULL);
    json_key(w, "os_version");
    json_str(w, si->csd_version);
    json_obj_end(w);
}

/* The NUL-separated command line as an array of arguments. */
static void cmdline(struct json_w *w, const struct mdr_bytes *b)
{
    size_t i = 0, n = b->len;

    if (!b->data) {
        json_null(w);
        return;
    }
    while (n > 0 && b->data[n - 1] == '\0')
        n--;
    json_arr(w);
    while (i < n) {
        const uint8_t *nul = memchr(b->data + i, '\0', n - i);
        size_t len = nul ? (size_t)(nul - (b->data + i)) : n - i;

        json_str_n(w, (const char *)b->data + i, len);
        i += len + 1;
    }
    json_arr_end(w);
}

/* Where the process ran: {"hostname": "...", "cgroup": ["0::/...", ...]} (the lines of /proc/self/cgroup),
 * each null when its stream is absent; null when the dump has neither (older dumps, other producers). */
void render_json_container(struct json_w *w, const struct mdr_dump *md)
{
    const struct mdr_bytes *c = &md->cgroup;

    if (!md->hostname.data && !c->data) {
        json_null(w);
        return;
    }
    json_obj(w);
    json_key(w, "hostname");
    bytes_or_null(w, md->hostname.data, md->hostname.len);
    json_key(w, "cgroup");
    if (!c->data) {
        json_null(w);
    } else {
        json_arr(w);
        for (size_t i = 0; i < c->len;) {
            const uint8_t *nl = memchr(c->data + i, '\n', c->len - i);
            size_t n = nl ? (size_t)(nl - (c->data + i)) : c->len - i;

            json_str_n(w, (const char *)c->data + i, n);
            i += n + 1;
        }
        json_arr_end(w);
    }
    json_obj_end(w);
}

int render_time_rfc3339(const struct render_report *r, char *buf, size_t n)
{
    time_t secs = (time_t)(r->time_ns / 1000000000u);
    struct tm tm;
    char when[64];

    if (!r->has_time || !gmtime_r(&secs, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm))
        return -1;
    int k = snprintf(buf, n, "%s.%09uZ", when, (unsigned)(r->time_ns % 1000000000u));
    return k > 0 && (size_t)k < n ? 0 : -1;
}

void render_json_time(struct json_w *w, const struct render_report *r)
{
    char when[96];

    json_str(w, render_time_rfc3339(r, when, sizeof when) == 0 ? when : NULL);
}

static void go_frames(struct json_w *w, const struct mdr_dump *md, const struct mdr_go_goroutine *g)
{
    json_arr(w);
    for (size_t k = 0; k < g->nframes; k++) {
        const struct mdr_go_frame *f = &g->frames[k];

        if (f->elided)
            continue; /* said once, in the goroutine's "elided_frames" */
        json_obj(w);
        json_key(w, "pc");
        json_hex(w, f->pc);
        json_key(w, "function");
        json_str(w, f->function);
        json_key(w, "file");
        json_str(w, f->file);
        json_key(w, "line");
        line_or_null(w, f->line);
        json_key(w, "module");
        json_str(w, render_go_frame_module(md, g, k));
        json_key(w, "inlined");
        json_bool(w, f->inlined);
        json_key(w, "native");
        json_bool(w, f->native);
        json_obj_end(w);
    }
    json_arr_end(w);
}

static void goroutine(struct json_w *w, const struct mdr_dump *md, const struct mdr_go_goroutine *g)
{
    uint64_t minutes = 0;
    int has_minutes = render_go_wait_minutes(&md->go, g, &minutes);
    uint32_t elided = 0;

    for (size_t k = 0; k < g->nframes; k++)
        elided += g->frames[k].elided;
    json_obj(w);
    json_key(w, "id");
    json_u64(w, g->goid);
    json_key(w, "status");
    json_str(w, render_go_status_name(g->status));
    json_key(w, "wait_reason");
    json_str(w, g->wait_reason);
    json_key(w, "wait_minutes");
    u64_or_null(w, has_minutes, minutes);
    json_key(w, "crashed");
    json_bool(w, render_go_crashed(&md->go, g));
    json_key(w, "locked_to_thread");
    json_bool(w, (g->flags & LG_GOROUTINE_LOCKED) != 0);
    json_key(w, "thread");
    u32_or_null(w, g->thread_tid != 0, g->thread_tid);
    json_key(w, "frames");
    go_frames(w, md, g);
    json_key(w, "elided_frames");
    u32_or_null(w, elided != 0, elided);
    json_key(w, "created_by");
    if (g->created_by_function || g->created_by_file) {
        json_obj(w);
        json_key(w, "function");
        json_str(w, g->created_by_function);
        json_key(w, "file");
        json_str(w, g->created_by_file);
        json_key(w, "line");
        line_or_null(w, g->created_by_line);
        json_key(w, "goroutine");
        u64_or_null(w, g->parent_goid != 0, g->parent_goid);
        json_obj_end(w);
    } else {
        json_null(w);
    }
    json_obj_end(w);
}

/* The next line of *l (without its newline) in *n; advances *l. Returns 0 at the end. */
static int next_line(const char **l, const char **line, size_t *n)
{
    if (!**l)
        return 0;
    const char *e = strchr(*l, '\n');
    *line = *l;
    *n = e ? (size_t)(e - *l) : strlen(*l);
    *l += *n + (e != NULL);
    return 1;
}

/* "build_info": {"path", "main": {"path","version","sum"} or null, "settings": {key: value}} from the
 * lines of `go version -m`: "path\tP", "mod\tP\tV\tSUM", "build\tKEY=VALUE" (dependencies left out). */
static void build_info(struct json_w *w, const char *bi)
{
    if (!bi) {
        json_null(w);
        return;
    }
    const char *path = NULL, *mod = NULL;
    size_t path_n = 0, mod_n = 0;
    const char *cur = bi, *l;
    size_t n;
    while (next_line(&cur, &l, &n)) {
        if (n > 5 && !strncmp(l, "path\t", 5)) {
            path = l + 5;
            path_n = n - 5;
        } else if (n > 4 && !strncmp(l, "mod\t", 4)) {
            mod = l + 4;
            mod_n = n - 4;
        }
    }
    json_obj(w);
    json_key(w, "path");
    json_str_n(w, path, path_n);
    json_key(w, "main");
    if (mod) { /* P \t V \t SUM */
        const char *f[3] = {mod, NULL, NULL};
        size_t fn[3] = {mod_n, 0, 0};
        for (int k = 1; k < 3; k++) {
            const char *t = memchr(f[k - 1], '\t', fn[k - 1]);
            if (!t)
                break;
            f[k] = t + 1;
            fn[k] = fn[k - 1] - (size_t)(f[k] - f[k - 1]);
            fn[k - 1] = (size_t)(t - f[k - 1]);
        }
        static const char *const keys[3] = {"path", "version", "sum"};
        json_obj(w);
        for (int k = 0; k < 3; k++) {
            json_key(w, keys[k]);
            json_str_n(w, f[k], fn[k]);
        }
        json_obj_end(w);
    } else {
        json_null(w);
    }
    json_key(w, "settings");
    json_obj(w);
    for (cur = bi; next_line(&cur, &l, &n);) {
        const char *eq = n > 6 && !strncmp(l, "build\t", 6) ? memchr(l + 6, '=', n - 6) : NULL;
        if (eq) {
            json_key_n(w, l + 6, (size_t)(eq - (l + 6)));
            json_str_n(w, eq + 1, n - (size_t)(eq + 1 - l));
        }
    }
    json_obj_end(w);
    json_obj_end(w);
}

/* The Go runtime's own crash output: a string, null when the dump has none. */
static void go_crash_text(struct json_w *w, const struct mdr_dump *md)
{
    json_key(w, "crash_text");
    bytes_or_null(w, md->go_crash_text.data, md->go_crash_text.len);
}

/* The Go stream, or null for a program that is not Go (or a dump without the stream). */
static void go(struct json_w *w, const struct mdr_dump *md)
{
    const struct mdr_go_info *go = &md->go;
    int frames_cut = (go->flags & LG_GO_FRAMES_TRUNCATED) != 0;

    if (!go->present && md->go_crash_text.data) {
        /* The runtime's text without the Go stream (Go not supported, say): what is known, the rest null. */
        static const char *const unknown[] = {"version", "build_info", "crashing_goroutine", "truncated",
                                              "goroutine_list", "goroutines"};
        json_obj(w);
        for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
            json_key(w, unknown[i]);
            json_null(w);
        }
        go_crash_text(w, md);
        json_obj_end(w);
        return;
    }
    if (!go->present) {
        json_null(w);
        return;
    }
    for (size_t i = 0; i < go->ngoroutines && !frames_cut; i++)
        frames_cut = (go->goroutines[i].flags & LG_GOROUTINE_TRUNCATED) != 0;
    json_obj(w);
    json_key(w, "version");
    json_str(w, go->go_version);
    json_key(w, "build_info");
    build_info(w, go->build_info);
    json_key(w, "reason");
    json_str(w, go->reason);
    json_key(w, "crashing_goroutine");
    u64_or_null(w, go->crashing_goid != 0, go->crashing_goid);
    json_key(w, "truncated");
    json_obj(w);
    json_key(w, "goroutines");
    json_bool(w, (go->flags & LG_GO_GOROUTINES_TRUNCATED) != 0);
    json_key(w, "frames");
    json_bool(w, frames_cut);
    json_obj_end(w);
    json_key(w, "goroutine_list");
    json_bool(w, !(go->flags & LG_GO_NO_GOROUTINE_LIST));
    json_key(w, "goroutines");
    json_arr(w);
    for (size_t i = 0; i < go->ngoroutines; i++)
        goroutine(w, md, &go->goroutines[i]);
    json_arr_end(w);
    go_crash_text(w, md);
    json_obj_end(w);
}

/* The process annotations as one object, key -> value (the reader made keys unique); null when the dump has no
 * Crashpad info stream. */
static void annotations(struct json_w *w, const struct mdr_crashpad *cp)
{
    if (!cp->present) {
        json_null(w);
        return;
    }
    json_obj(w);
    for (size_t i = 0; i < cp->nannotations; i++) {
        json_key_n(w, cp->annotations[i].key, cp->annotations[i].key_len);
        json_str_n(w, cp->annotations[i].value, cp->annotations[i].value_len);
    }
    json_obj_end(w);
}

static const char *const stream_states[] = {
    [MDR_STREAM_READ] = "read", [MDR_STREAM_PARTIAL] = "partial", [MDR_STREAM_BAD] = "bad",
    [MDR_STREAM_DUPLICATE] = "duplicate", [MDR_STREAM_UNKNOWN] = "unknown",
    [MDR_STREAM_UNUSED] = "unused",
};

static void streams(struct json_w *w, const struct mdr_dump *md)
{
    json_arr(w);
    for (size_t i = 0; i < md->nstreams; i++) {
        const struct mdr_stream *st = &md->streams[i];

        json_obj(w);
        json_key(w, "type");
        json_u64(w, st->type);
        json_key(w, "name");
        json_str(w, mdr_stream_name(st->type));
        json_key(w, "rva");
        json_u64(w, st->rva);
        json_key(w, "size");
        json_u64(w, st->size);
        json_key(w, "state");
        json_str(w, stream_states[st->state]);
        json_obj_end(w);
    }
    json_arr_end(w);
}

static void warnings(struct json_w *w, const struct mdr_dump *md)
{
    json_arr(w);
    for (size_t i = 0; i < md->nwarnings; i++)
        json_str(w, md->warnings[i]);
    if (md->warnings_dropped) {
        char more[64];
        snprintf(more, sizeof more, "%zu more warnings not kept", md->warnings_dropped);
        json_str(w, more);
    }
    json_arr_end(w);
}

int render_json(FILE *out, const struct mdr_dump *md)
{
    struct render_report r;
    struct json_w w;

    if (render_report_build(&r, md) != 0)
        return -1;
    json_w_init_file(&w, out);
    json_obj(&w);
    json_key(&w, "format");
    json_obj(&w);
    json_key(&w, "name");
    json_str(&w, RENDER_JSON_FORMAT);
    json_key(&w, "version");
    json_u64(&w, RENDER_JSON_VERSION);
    json_obj_end(&w);
    json_key(&w, "signal");
    render_json_signal(&w, &r);
    json_key(&w, "pid");
    u32_or_null(&w, r.has_pid, r.pid);
    json_key(&w, "crashing_tid");
    u32_or_null(&w, r.has_crashing_tid, r.crashing_tid);
    json_key(&w, "sender");
    if (r.has_sender) {
        json_obj(&w);
        json_key(&w, "pid");
        json_u64(&w, r.sender_pid);
        json_key(&w, "uid");
        json_u64(&w, r.sender_uid);
        json_obj_end(&w);
    } else {
        json_null(&w);
    }
    json_key(&w, "time");
    render_json_time(&w, &r);
    json_key(&w, "threads");
    threads(&w, &r);
    json_key(&w, "modules");
    modules(&w, md);
    json_key(&w, "notes");
    json_str(&w, r.notes);
    json_key(&w, "system");
    system_info(&w, md);
    json_key(&w, "cmdline");
    cmdline(&w, &md->cmdline);
    json_key(&w, "process_name");
    json_str(&w, md->process_name);
    json_key(&w, "container");
    render_json_container(&w, md);
    json_key(&w, "annotations");
    annotations(&w, &md->crashpad);
    json_key(&w, "truncated");
    if (md->lg.present) {
        json_obj(&w);
        json_key(&w, "threads");
        json_bool(&w, (md->lg.flags & LG_FLAG_THREADS_TRUNCATED) != 0);
        json_key(&w, "frames");
        json_bool(&w, (md->lg.flags & LG_FLAG_FRAMES_TRUNCATED) != 0);
        json_obj_end(&w);
    } else {
        json_null(&w);
    }
    json_key(&w, "streams");
    streams(&w, md);
    json_key(&w, "warnings");
    warnings(&w, md);
    json_key(&w, "go");
    go(&w, md);
    json_obj_end(&w);
    render_report_free(&r);
    if (json_w_finish(&w) != 0)
        return -1;
    fputc('\n', out);
    return ferror(out) ? -1 : 0;
}
