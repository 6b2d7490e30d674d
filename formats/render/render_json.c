/* render_json.c — `lastgasp json`: one JSON object describing the dump, for tools.
 *
 * Normal context. Contract: a value the dump does not hold is null, never a guess; 64-bit addresses are
 * "0x..." strings (JSON numbers lose precision past 2^53); every string is valid UTF-8 with control
 * characters escaped, bytes that are not UTF-8 becoming U+FFFD.
 */
#include "render.h"
#include "../minidump/minidump.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static void json_str_n(FILE *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    fputc('"', out);
    while (i < n) {
        uint32_t cp;
        size_t k = render_utf8_next(p + i, n - i, &cp);

        switch (cp) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        case 0xfffd: fputs("\\ufffd", out); break;
        default:
            if (cp < 0x20 || cp == 0x7f)
                fprintf(out, "\\u%04" PRIx32, cp);
            else
                fwrite(p + i, 1, k, out);
        }
        i += k;
    }
    fputc('"', out);
}

static void json_str(FILE *out, const char *s)
{
    if (s)
        json_str_n(out, s, strlen(s));
    else
        fputs("null", out);
}

static void json_hex(FILE *out, uint64_t v)
{
    fprintf(out, "\"0x%" PRIx64 "\"", v);
}

static void json_u32_or_null(FILE *out, int has, uint32_t v)
{
    if (has)
        fprintf(out, "%" PRIu32, v);
    else
        fputs("null", out);
}

static void json_signal(FILE *out, const struct render_report *r)
{
    if (!r->has_signal) {
        fputs("null", out);
        return;
    }
    fprintf(out, "{\"number\":%" PRIu32 ",\"name\":", r->signo);
    json_str(out, md_signal_name(r->signo));
    fprintf(out, ",\"code\":%" PRId32 ",\"code_name\":", r->code);
    json_str(out, md_si_code_name(r->signo, r->code));
    fputs(",\"address\":", out);
    json_hex(out, r->address);
    fputc('}', out);
}

static void json_frame(FILE *out, const struct render_frame *f)
{
    fputs("{\"pc\":", out);
    json_hex(out, f->pc);
    fputs(",\"function\":", out);
    json_str(out, f->function);
    fputs(",\"offset\":", out);
    json_u32_or_null(out, f->has_offset, f->offset);
    fputs(",\"file\":", out);
    json_str(out, f->file);
    fputs(",\"line\":", out);
    json_u32_or_null(out, f->line > 0, (uint32_t)f->line);
    fputs(",\"module\":", out);
    json_str(out, f->module);
    fputs(f->inlined ? ",\"inlined\":true,\"trust\":" : ",\"inlined\":false,\"trust\":", out);
    json_str(out, f->trust);
    fputc('}', out);
}

static void json_registers(FILE *out, const struct mdr_context *ctx)
{
    if (!ctx || !ctx->nregs) {
        fputs("null", out);
        return;
    }
    fputc('{', out);
    for (uint32_t i = 0; i < ctx->nregs; i++) {
        fprintf(out, "%s\"%s\":", i ? "," : "", ctx->reg_names[i]);
        json_hex(out, ctx->reg[i]);
    }
    fputc('}', out);
}

static void json_threads(FILE *out, const struct render_report *r)
{
    fputc('[', out);
    for (size_t i = 0; i < r->nthreads; i++) {
        const struct render_thread *t = &r->threads[i];

        fprintf(out, "%s{\"tid\":%" PRIu32 ",\"name\":", i ? "," : "", t->tid);
        json_str(out, t->name);
        fprintf(out, ",\"crashed\":%s,\"status\":", t->crashed ? "true" : "false");
        json_str(out, t->status);
        fputs(",\"frames\":[", out);
        for (size_t k = 0; k < t->nframes; k++) {
            if (k)
                fputc(',', out);
            json_frame(out, &t->frames[k]);
        }
        fputs("],\"registers\":", out);
        json_registers(out, t->ctx);
        fputc('}', out);
    }
    fputc(']', out);
}

static void json_modules(FILE *out, const struct mdr_dump *md)
{
    fputc('[', out);
    for (size_t i = 0; i < md->nmodules; i++) {
        const struct mdr_module *m = &md->modules[i];

        fputs(i ? ",{\"base\":" : "{\"base\":", out);
        json_hex(out, m->base);
        fprintf(out, ",\"size\":%" PRIu32 ",\"path\":", m->size);
        json_str(out, m->path);
        fputs(",\"build_id\":", out);
        json_str(out, m->build_id);
        /* where file:line of its frames came from: null when nothing was looked up */
        fputs(",\"debug_info\":", out);
        if (m->debug_from) {
            fputs("{\"from\":", out);
            json_str(out, m->debug_from);
            fputs(",\"path\":", out);
            json_str(out, m->debug_path);
            fputs(",\"url\":", out);
            json_str(out, m->debug_url);
            fputs(",\"note\":", out);
            json_str(out, m->debug_note);
            fputc('}', out);
        } else {
            fputs("null", out);
        }
        fputc('}', out);
    }
    fputc(']', out);
}

static void json_system(FILE *out, const struct mdr_dump *md)
{
    const struct mdr_sysinfo *si = &md->sysinfo;

    if (!si->present) {
        fputs("null", out);
        return;
    }
    fputs("{\"arch\":", out);
    json_str(out, mdr_arch_name(si->arch));
    fputs(",\"os\":", out);
    json_str(out, si->platform == MD_OS_LINUX ? "linux" : NULL);
    fprintf(out, ",\"cpu_count\":%u,\"cpu_vendor\":", (unsigned)si->cpu_count);
    json_str(out, si->cpu_vendor[0] ? si->cpu_vendor : NULL);
    fputs(",\"os_version\":", out);
    json_str(out, si->csd_version);
    fputc('}', out);
}

/* The NUL-separated command line as an array of arguments. */
static void json_cmdline(FILE *out, const struct mdr_bytes *b)
{
    size_t i = 0, n = b->len;

    if (!b->data) {
        fputs("null", out);
        return;
    }
    while (n > 0 && b->data[n - 1] == '\0')
        n--;
    fputc('[', out);
    while (i < n) {
        const uint8_t *nul = memchr(b->data + i, '\0', n - i);
        size_t len = nul ? (size_t)(nul - (b->data + i)) : n - i;

        if (i)
            fputc(',', out);
        json_str_n(out, (const char *)b->data + i, len);
        i += len + 1;
    }
    fputc(']', out);
}

/* Where the process ran: {"hostname": "...", "cgroup": ["0::/...", ...]} (the lines of /proc/self/cgroup),
 * each null when its stream is absent; null when the dump has neither (older dumps, other producers). */
static void json_container(FILE *out, const struct mdr_dump *md)
{
    const struct mdr_bytes *c = &md->cgroup;

    if (!md->hostname.data && !c->data) {
        fputs("null", out);
        return;
    }
    fputs("{\"hostname\":", out);
    if (md->hostname.data)
        json_str_n(out, (const char *)md->hostname.data, md->hostname.len);
    else
        fputs("null", out);
    fputs(",\"cgroup\":", out);
    if (!c->data) {
        fputs("null", out);
    } else {
        fputc('[', out);
        for (size_t i = 0; i < c->len;) {
            const uint8_t *nl = memchr(c->data + i, '\n', c->len - i);
            size_t n = nl ? (size_t)(nl - (c->data + i)) : c->len - i;

            if (i)
                fputc(',', out);
            json_str_n(out, (const char *)c->data + i, n);
            i += n + 1;
        }
        fputc(']', out);
    }
    fputc('}', out);
}

static void json_time(FILE *out, const struct render_report *r)
{
    time_t secs = (time_t)(r->time_ns / 1000000000u);
    struct tm tm;
    char when[64];

    if (r->has_time && gmtime_r(&secs, &tm) && strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm))
        fprintf(out, "\"%s.%09uZ\"", when, (unsigned)(r->time_ns % 1000000000u));
    else
        fputs("null", out);
}

static void json_u64_or_null(FILE *out, int has, uint64_t v)
{
    if (has)
        fprintf(out, "%" PRIu64, v);
    else
        fputs("null", out);
}

/* Line numbers: 0 is "unknown" in the dump. */
static void json_line(FILE *out, int32_t line)
{
    if (line)
        fprintf(out, "%" PRId32, line);
    else
        fputs("null", out);
}

static void json_go_frames(FILE *out, const struct mdr_dump *md, const struct mdr_go_goroutine *g)
{
    fputc('[', out);
    int first = 1;
    for (size_t k = 0; k < g->nframes; k++) {
        const struct mdr_go_frame *f = &g->frames[k];

        if (f->elided)
            continue; /* said once, in the goroutine's "elided_frames" */
        fputs(first ? "{\"pc\":" : ",{\"pc\":", out);
        first = 0;
        json_hex(out, f->pc);
        fputs(",\"function\":", out);
        json_str(out, f->function);
        fputs(",\"file\":", out);
        json_str(out, f->file);
        fputs(",\"line\":", out);
        json_line(out, f->line);
        fputs(",\"module\":", out);
        json_str(out, render_go_frame_module(md, g, k));
        fprintf(out, ",\"inlined\":%s,\"native\":%s}", f->inlined ? "true" : "false", f->native ? "true" : "false");
    }
    fputc(']', out);
}

static void json_goroutine(FILE *out, const struct mdr_dump *md, const struct mdr_go_goroutine *g)
{
    uint64_t minutes = 0;
    int has_minutes = render_go_wait_minutes(&md->go, g, &minutes);

    fprintf(out, "{\"id\":%" PRIu64 ",\"status\":", g->goid);
    json_str(out, render_go_status_name(g->status));
    fputs(",\"wait_reason\":", out);
    json_str(out, g->wait_reason);
    fputs(",\"wait_minutes\":", out);
    json_u64_or_null(out, has_minutes, minutes);
    fprintf(out, ",\"crashed\":%s,\"locked_to_thread\":%s,\"thread\":",
            render_go_crashed(&md->go, g) ? "true" : "false", g->flags & LG_GOROUTINE_LOCKED ? "true" : "false");
    json_u32_or_null(out, g->thread_tid != 0, g->thread_tid);
    fputs(",\"frames\":", out);
    json_go_frames(out, md, g);
    uint32_t elided = 0;
    for (size_t k = 0; k < g->nframes; k++)
        elided += g->frames[k].elided;
    if (elided)
        fprintf(out, ",\"elided_frames\":%" PRIu32, elided);
    else
        fputs(",\"elided_frames\":null", out);
    fputs(",\"created_by\":", out);
    if (g->created_by_function || g->created_by_file) {
        fputs("{\"function\":", out);
        json_str(out, g->created_by_function);
        fputs(",\"file\":", out);
        json_str(out, g->created_by_file);
        fputs(",\"line\":", out);
        json_line(out, g->created_by_line);
        fputs(",\"goroutine\":", out);
        json_u64_or_null(out, g->parent_goid != 0, g->parent_goid);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fputc('}', out);
}

/* The Go stream, or null for a program that is not Go (or a dump without the stream). */
/* "build_info": {"path", "main": {"path","version","sum"} or null, "settings": {key: value}} from the
 * lines of `go version -m`: "path\tP", "mod\tP\tV\tSUM", "build\tKEY=VALUE" (dependencies left out). */
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

static void json_build_info(FILE *out, const char *bi)
{
    fputs(",\"build_info\":", out);
    if (!bi) {
        fputs("null", out);
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
    fputs("{\"path\":", out);
    if (path)
        json_str_n(out, path, path_n);
    else
        fputs("null", out);
    fputs(",\"main\":", out);
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
        for (int k = 0; k < 3; k++) {
            fprintf(out, "%s\"%s\":", k ? "," : "{", keys[k]);
            if (f[k])
                json_str_n(out, f[k], fn[k]);
            else
                fputs("null", out);
        }
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fputs(",\"settings\":{", out);
    int first = 1;
    for (cur = bi; next_line(&cur, &l, &n);) {
        const char *eq = n > 6 && !strncmp(l, "build\t", 6) ? memchr(l + 6, '=', n - 6) : NULL;
        if (eq) {
            fputs(first ? "" : ",", out);
            first = 0;
            json_str_n(out, l + 6, (size_t)(eq - (l + 6)));
            fputc(':', out);
            json_str_n(out, eq + 1, n - (size_t)(eq + 1 - l));
        }
    }
    fputs("}}", out);
}

/* The Go runtime's own crash output: a string, null when the dump has none. */
static void json_go_crash_text(FILE *out, const struct mdr_dump *md)
{
    fputs(",\"crash_text\":", out);
    if (md->go_crash_text.data)
        json_str_n(out, (const char *)md->go_crash_text.data, md->go_crash_text.len);
    else
        fputs("null", out);
}

static void json_go(FILE *out, const struct mdr_dump *md)
{
    const struct mdr_go_info *go = &md->go;
    int frames_cut = (go->flags & LG_GO_FRAMES_TRUNCATED) != 0;

    if (!go->present && md->go_crash_text.data) {
        /* The runtime's text without the Go stream (Go not supported, say): what is known, the rest null. */
        fputs("{\"version\":null,\"build_info\":null,\"crashing_goroutine\":null,\"truncated\":null,"
              "\"goroutine_list\":null,\"goroutines\":null", out);
        json_go_crash_text(out, md);
        fputc('}', out);
        return;
    }
    if (!go->present) {
        fputs("null", out);
        return;
    }
    for (size_t i = 0; i < go->ngoroutines && !frames_cut; i++)
        frames_cut = (go->goroutines[i].flags & LG_GOROUTINE_TRUNCATED) != 0;
    fputs("{\"version\":", out);
    json_str(out, go->go_version);
    json_build_info(out, go->build_info);
    fputs(",\"reason\":", out);
    json_str(out, go->reason);
    fputs(",\"crashing_goroutine\":", out);
    json_u64_or_null(out, go->crashing_goid != 0, go->crashing_goid);
    fprintf(out, ",\"truncated\":{\"goroutines\":%s,\"frames\":%s},\"goroutine_list\":%s,\"goroutines\":[",
            go->flags & LG_GO_GOROUTINES_TRUNCATED ? "true" : "false", frames_cut ? "true" : "false",
            go->flags & LG_GO_NO_GOROUTINE_LIST ? "false" : "true");
    for (size_t i = 0; i < go->ngoroutines; i++) {
        if (i)
            fputc(',', out);
        json_goroutine(out, md, &go->goroutines[i]);
    }
    fputc(']', out);
    json_go_crash_text(out, md);
    fputc('}', out);
}

/* The process annotations as one object, key -> value (the reader made keys unique); null when the dump has no
 * Crashpad info stream. */
static void json_annotations(FILE *out, const struct mdr_crashpad *cp)
{
    if (!cp->present) {
        fputs("null", out);
        return;
    }
    fputc('{', out);
    for (size_t i = 0; i < cp->nannotations; i++) {
        if (i)
            fputc(',', out);
        json_str_n(out, cp->annotations[i].key, cp->annotations[i].key_len);
        fputc(':', out);
        json_str_n(out, cp->annotations[i].value, cp->annotations[i].value_len);
    }
    fputc('}', out);
}

static const char *const stream_states[] = {
    [MDR_STREAM_READ] = "read", [MDR_STREAM_PARTIAL] = "partial", [MDR_STREAM_BAD] = "bad",
    [MDR_STREAM_DUPLICATE] = "duplicate", [MDR_STREAM_UNKNOWN] = "unknown",
    [MDR_STREAM_UNUSED] = "unused",
};

static void json_streams(FILE *out, const struct mdr_dump *md)
{
    fputc('[', out);
    for (size_t i = 0; i < md->nstreams; i++) {
        const struct mdr_stream *st = &md->streams[i];

        fprintf(out, "%s{\"type\":%" PRIu32 ",\"name\":", i ? "," : "", st->type);
        json_str(out, mdr_stream_name(st->type));
        fprintf(out, ",\"rva\":%" PRIu32 ",\"size\":%" PRIu32 ",\"state\":\"%s\"}", st->rva, st->size,
                stream_states[st->state]);
    }
    fputc(']', out);
}

static void json_warnings(FILE *out, const struct mdr_dump *md)
{
    fputc('[', out);
    for (size_t i = 0; i < md->nwarnings; i++) {
        if (i)
            fputc(',', out);
        json_str(out, md->warnings[i]);
    }
    if (md->warnings_dropped)
        fprintf(out, "%s\"%zu more warnings not kept\"", md->nwarnings ? "," : "", md->warnings_dropped);
    fputc(']', out);
}

int render_json(FILE *out, const struct mdr_dump *md)
{
    struct render_report r;

    if (render_report_build(&r, md) != 0)
        return -1;
    fputs("{\"signal\":", out);
    json_signal(out, &r);
    fputs(",\"pid\":", out);
    json_u32_or_null(out, r.has_pid, r.pid);
    fputs(",\"crashing_tid\":", out);
    json_u32_or_null(out, r.has_crashing_tid, r.crashing_tid);
    if (r.has_sender)
        fprintf(out, ",\"sender\":{\"pid\":%" PRIu32 ",\"uid\":%" PRIu32 "}", r.sender_pid, r.sender_uid);
    else
        fputs(",\"sender\":null", out);
    fputs(",\"time\":", out);
    json_time(out, &r);
    fputs(",\"threads\":", out);
    json_threads(out, &r);
    fputs(",\"modules\":", out);
    json_modules(out, md);
    fputs(",\"notes\":", out);
    json_str(out, r.notes);
    fputs(",\"system\":", out);
    json_system(out, md);
    fputs(",\"cmdline\":", out);
    json_cmdline(out, &md->cmdline);
    fputs(",\"process_name\":", out);
    json_str(out, md->process_name);
    fputs(",\"container\":", out);
    json_container(out, md);
    fputs(",\"annotations\":", out);
    json_annotations(out, &md->crashpad);
    if (md->lg.present)
        fprintf(out, ",\"truncated\":{\"threads\":%s,\"frames\":%s}",
                md->lg.flags & LG_FLAG_THREADS_TRUNCATED ? "true" : "false",
                md->lg.flags & LG_FLAG_FRAMES_TRUNCATED ? "true" : "false");
    else
        fputs(",\"truncated\":null", out);
    fputs(",\"streams\":", out);
    json_streams(out, md);
    fputs(",\"warnings\":", out);
    json_warnings(out, md);
    fputs(",\"go\":", out);
    json_go(out, md);
    fputs("}\n", out);
    render_report_free(&r);
    return ferror(out) ? -1 : 0;
}

void render_json_str_n(FILE *out, const char *s, size_t n)
{
    if (s)
        json_str_n(out, s, n);
    else
        fputs("null", out);
}

void render_json_signal(FILE *out, const struct render_report *r) { json_signal(out, r); }
void render_json_time(FILE *out, const struct render_report *r) { json_time(out, r); }
void render_json_container(FILE *out, const struct mdr_dump *md) { json_container(out, md); }
