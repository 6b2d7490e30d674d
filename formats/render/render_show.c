/* render_show.c — `lastgasp show`: the human report.
 *
 * Normal context. Strings in a dump come from the crashed process and may hold anything: every one goes
 * through render_put_text() (render_text.c), which keeps valid UTF-8 and neutralizes control characters, so
 * that a thread named "\033]..." cannot drive the reader's terminal.
 */
#include "render.h"
#include "../minidump/minidump.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static const struct render_thread *crashing_thread(const struct render_report *r)
{
    for (size_t i = 0; i < r->nthreads; i++)
        if (r->threads[i].crashed)
            return &r->threads[i];
    return NULL;
}

static void headline(FILE *out, const struct render_report *r)
{
    const struct render_thread *ct = crashing_thread(r);

    if (!r->has_signal) {
        fputs("No crash signal recorded (the dump has neither an Exception nor a lastgasp stream)", out);
    } else {
        render_put_signal_line(out, r);
        if (r->code <= 0 && r->has_sender)
            fprintf(out, " from pid %" PRIu32 " (uid %" PRIu32 ")", r->sender_pid, r->sender_uid);
    }
    if (r->has_crashing_tid) {
        fprintf(out, " in thread %" PRIu32, r->crashing_tid);
        if (ct && ct->tid == r->crashing_tid && ct->name) {
            fputs(" (", out);
            render_put_text(out, ct->name, NULL, 0);
            fputc(')', out);
        }
    }
    if (r->has_pid)
        fprintf(out, ", pid %" PRIu32, r->pid);
    fputc('\n', out);
}

static void details(FILE *out, const struct render_report *r, const struct mdr_dump *md)
{
    const struct mdr_sysinfo *si = &md->sysinfo;

    char when[64];
    const char *path;
    size_t path_n;

    if (r->has_time && render_time_utc(r->time_ns, when, sizeof when) == 0)
        fprintf(out, "Time: %s\n", when);
    if (md->cmdline.data && md->cmdline.len) {
        size_t n = md->cmdline.len;

        while (n > 0 && md->cmdline.data[n - 1] == '\0')
            n--;
        fputs("Command line: ", out);
        render_put_text_n(out, (const char *)md->cmdline.data, n, 0, 1);
        fputc('\n', out);
    }
    if (md->hostname.data || md->cgroup.data) {
        const struct mdr_bytes *c = &md->cgroup;

        fputs("Host: ", out);
        if (md->hostname.data)
            render_put_text_n(out, (const char *)md->hostname.data, md->hostname.len, 0, 0);
        else
            fputs("(unknown)", out);
        /* cgroup v1 has a line per hierarchy: one line of output, separated by "; ". */
        for (size_t i = 0; c->data && i < c->len;) {
            const uint8_t *nl = memchr(c->data + i, '\n', c->len - i);
            size_t n = nl ? (size_t)(nl - (c->data + i)) : c->len - i;

            fputs(i ? "; " : ", cgroup ", out);
            render_put_text_n(out, (const char *)c->data + i, n, 0, 0);
            i += n + 1;
        }
        fputc('\n', out);
    }
    if (si->present) {
        const char *arch = mdr_arch_name(si->arch);

        fputs("System: ", out);
        render_put_text(out, si->csd_version, "(no version string)", 0);
        fprintf(out, " (%s, %u CPU%s%s%s)\n", arch ? arch : "unknown architecture", (unsigned)si->cpu_count,
                si->cpu_count == 1 ? "" : "s", si->cpu_vendor[0] ? ", " : "", si->cpu_vendor);
    }
    if (md->lg.flags & LG_FLAG_THREADS_TRUNCATED)
        fputs("Note: more threads than the writer's bound; the rest were not captured\n", out);
    if (md->lg.flags & LG_FLAG_FRAMES_TRUNCATED)
        fputs("Note: some stacks were cut at the writer's frame bound\n", out);
    if (md->go.present) {
        fputs("Go: ", out);
        render_put_text(out, md->go.go_version, "(version unreadable)", 0);
        fprintf(out, ", %zu goroutine%s\n", md->go.ngoroutines, md->go.ngoroutines == 1 ? "" : "s");
        if ((path = render_go_program_path(md->go.build_info, &path_n)) != NULL) {
            fputs("Program: ", out);
            render_put_text_n(out, path, path_n, 0, 0);
            fputc('\n', out);
        }
        if (md->go.flags & LG_GO_GOROUTINES_TRUNCATED)
            fputs("Note: more goroutines than the writer's bound; the rest were not captured\n", out);
        if (md->go.flags & LG_GO_FRAMES_TRUNCATED)
            fputs("Note: some goroutine stacks were cut at the writer's frame bound\n", out);
        if (md->go.flags & LG_GO_NO_GOROUTINE_LIST)
            fputs("Note: the runtime's goroutine list was not found; only goroutines running on threads were "
                  "captured\n", out);
    }
}

static void frame_line(FILE *out, size_t i, const struct render_frame *f)
{
    fprintf(out, "#%-3zu0x%016" PRIx64 " in ", i, f->pc);
    render_put_text(out, f->function, "??", 0);
    if (f->function && f->has_offset)
        fprintf(out, "+0x%" PRIx32, f->offset);
    if (f->inlined)
        fputs(" [inlined]", out);
    if (f->file) {
        fputs(" at ", out);
        render_put_text(out, f->file, NULL, 0);
        if (f->line)
            fprintf(out, ":%" PRId32, f->line);
    }
    if (f->module) {
        fputs(" (", out);
        render_put_text(out, f->module, NULL, 0);
        if (!f->function)
            fprintf(out, "+0x%" PRIx64, f->pc - f->module_base);
        fputc(')', out);
    }
    fputc('\n', out);
}

static void registers(FILE *out, const struct mdr_context *ctx)
{
    for (uint32_t i = 0; i < ctx->nregs; i++)
        fprintf(out, "  %6s 0x%016" PRIx64 "%s", ctx->reg_names[i], ctx->reg[i],
                i % 3 == 2 || i == ctx->nregs - 1 ? "\n" : "");
}

/* The JSON status words, as a person would say them. */
static const char *status_text(const char *status)
{
    if (strcmp(status, "no_answer") == 0)
        return "did not answer";
    if (strcmp(status, "gone") == 0)
        return "exited";
    return status;
}

static void thread_block(FILE *out, const struct render_thread *t, const struct mdr_dump *md)
{
    fprintf(out, "\nThread %" PRIu32, t->tid);
    if (t->name) {
        fputs(" (", out);
        render_put_text(out, t->name, NULL, 0);
        fputc(')', out);
    }
    if (t->status && strcmp(t->status, "ok") != 0)
        fprintf(out, " [%s]", status_text(t->status));
    fputs(t->crashed ? " crashed:\n" : ":\n", out);
    for (size_t i = 0; i < t->nframes; i++)
        frame_line(out, i, &t->frames[i]);
    if (t->ctx && t->ctx->arch == MDR_ARCH_UNSUPPORTED && (t->crashed || t->nframes == 0)) {
        const char *arch = md->sysinfo.present ? mdr_arch_name(md->sysinfo.arch) : NULL;

        fprintf(out, "  (%s: CPU context of unsupported architecture %s)\n",
                t->nframes ? "registers not decoded" : "no frames", arch ? arch : "(unknown)");
    } else if (t->nframes == 0) {
        fprintf(out, "  (no frames: %s)\n", t->no_frames_why ? t->no_frames_why : "none recorded");
    }
    if (t->crashed && t->ctx && t->ctx->nregs)
        registers(out, t->ctx);
}

static void modules(FILE *out, const struct mdr_dump *md)
{
    if (md->nmodules == 0)
        return;
    fputs("\nModules:\n", out);
    for (size_t i = 0; i < md->nmodules; i++) {
        const struct mdr_module *m = &md->modules[i];

        fprintf(out, "  0x%016" PRIx64 " 0x%08" PRIx32 "  %-40s  ", m->base, m->size,
                m->build_id ? m->build_id : "(no build-id)");
        render_put_text(out, m->path, "(name unreadable)", 0);
        fputc('\n', out);
        if (m->debug_from) { /* where the file:line of its frames came from (the tool's debug-info pass) */
            fputs("      lines: ", out);
            render_put_text(out, m->debug_from, NULL, 0);
            if (m->debug_url) {
                fputc(' ', out);
                render_put_text(out, m->debug_url, NULL, 0);
            }
            if (m->debug_path) {
                fputs(", ", out);
                render_put_text(out, m->debug_path, NULL, 0);
            }
            if (m->debug_note) {
                fputs(": ", out);
                render_put_text(out, m->debug_note, NULL, 0);
            }
            fputc('\n', out);
        }
    }
}

/* The Go runtime's own crash output, as it printed it. With the Go stream present, `show` prints the
 * goroutines itself (in Go's format, below), so only the text's head is shown: the lines before the first
 * "goroutine N [...]:" line, i.e. the panic as Go printed it; and not even that when it is already all in
 * the reason read from memory (which has the "fatal error:" line the copy lacks). Without the Go stream,
 * its first lines. `lastgasp json` has the text whole. */
#define GO_TEXT_SHOW_LINES 40

static void go_crash_text(FILE *out, const struct mdr_bytes *b, const struct mdr_go_info *go)
{
    size_t shown = 0, left = 0, head_len = 0, lines = 0;

    if (!b->data || b->len == 0)
        return;
    const char *text = (const char *)b->data, *p = text, *end = p + b->len;
    /* the head: whole lines, up to the first goroutine header (Go stream) or GO_TEXT_SHOW_LINES */
    while (p < end && lines < GO_TEXT_SHOW_LINES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

        if (go->present && n >= 10 && memcmp(p, "goroutine ", 10) == 0)
            break;
        p += n + (nl != NULL);
        lines++;
        if (n)
            head_len = (size_t)(p - text);
    }
    for (const char *q = text + head_len; q < end; q++)
        left += *q == '\n' || q + 1 == end;
    if (go->present && go->reason && head_len && memmem(go->reason, strlen(go->reason), text, head_len))
        return; /* the reason below says it all */
    fputs("\nGo runtime output:\n", out);
    for (p = text; p < text + head_len; shown++) {
        const char *nl = memchr(p, '\n', (size_t)(text + head_len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(text + head_len - p);

        fputs("  ", out);
        render_put_text_n(out, p, n, 1, 0); /* one line: keeps its tabs */
        fputc('\n', out);
        p += n + (nl != NULL);
    }
    if (left)
        fprintf(out, "  ... %zu more line%s%s (lastgasp json has them all)\n", left, left == 1 ? "" : "s",
                go->present ? ": the goroutines, shown below" : "");
}

/* The process annotations (lastgasp_set_annotation), one "key: value" a line. */
static void annotations(FILE *out, const struct mdr_crashpad *cp)
{
    if (cp->nannotations == 0)
        return;
    fputs("\nAnnotations:\n", out);
    for (size_t i = 0; i < cp->nannotations; i++) {
        const struct mdr_annotation *a = &cp->annotations[i];

        fputs("  ", out);
        render_put_text_n(out, a->key, a->key_len, 0, 0);
        fputs(": ", out);
        render_put_text_n(out, a->value, a->value_len, 0, 0);
        fputc('\n', out);
    }
}

/* The notes of the crash-info stream, then those of the Go stream, under one heading. */
static void notes(FILE *out, const char *text, const char *go_text)
{
    const char *texts[2] = { text, go_text };
    int heading = 0;

    for (int k = 0; k < 2; k++) {
        const char *line = texts[k];

        if (!line || !*line)
            continue;
        if (!heading++)
            fputs("\nNotes:\n", out);
        while (*line) {
            const char *nl = strchr(line, '\n');
            size_t n = nl ? (size_t)(nl - line) : strlen(line);

            fputs("  ", out);
            render_put_text_n(out, line, n, 0, 0);
            fputc('\n', out);
            line += n + (nl != NULL);
        }
    }
}

int render_show(FILE *out, const struct mdr_dump *md)
{
    struct render_report r;

    if (render_report_build(&r, md) != 0)
        return -1;
    headline(out, &r);
    details(out, &r, md);
    go_crash_text(out, &md->go_crash_text, &md->go);
    annotations(out, &md->crashpad);
    /* A Go program's goroutines first: they are what its programmer reads; the native threads follow, as the
     * crashing thread's C frames are what explains a crash in cgo. */
    if (render_show_go(out, md) != 0) {
        render_report_free(&r);
        return -1;
    }
    for (size_t i = 0; i < r.nthreads; i++)
        thread_block(out, &r.threads[i], md);
    if (r.nthreads == 0)
        fputs("\nNo threads in the dump.\n", out);
    modules(out, md);
    notes(out, r.notes, md->go.notes);
    render_report_free(&r);
    return ferror(out) ? -1 : 0;
}
