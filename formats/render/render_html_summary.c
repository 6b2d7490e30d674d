/* render_html_summary.c — the crash summary that opens a dump's section on the page of `lastgasp html`.
 *
 * Normal context. What died of what, where, when and on which host, first, in a box a person reads before
 * anything else: the signal and its code, the fault address (or who sent the signal), the function it
 * crashed in, the process, its pid and thread, the time, the host and container, the command line, the
 * system, the Go version and program, and the writer's own notes about what it had to cut. A row appears
 * only when the dump holds its value. Every string from the dump goes through render_html_text().
 */
#include "render.h"
#include "../minidump/minidump.h"

#include <inttypes.h>
#include <string.h>

const char *render_crash_site(const struct render_report *r, const struct mdr_dump *md, const char **file, int32_t *line)
{
    *file = NULL;
    *line = 0;
    for (size_t i = 0; md->go.present && i < md->go.ngoroutines; i++) {
        const struct mdr_go_goroutine *g = &md->go.goroutines[i];

        if (!render_go_crashed(&md->go, g))
            continue;
        for (size_t k = 0; k < g->nframes; k++) {
            const struct mdr_go_frame *f = &g->frames[k];

            if (f->elided || !f->function || strncmp(f->function, "runtime.", 8) == 0)
                continue;
            *file = f->file;
            *line = f->line;
            return f->function;
        }
    }
    for (size_t i = 0; i < r->nthreads; i++)
        if (r->threads[i].crashed)
            return r->threads[i].nframes ? r->threads[i].frames[0].function : NULL;
    return NULL;
}

/* "SIGSEGV (SEGV_MAPERR) at 0x0", as show's first line says it. */
static void headline(FILE *out, const struct render_report *r, const struct mdr_dump *md)
{
    const char *file, *fn = render_crash_site(r, md, &file, &(int32_t){ 0 });

    fputs("<h1>", out);
    if (!r->has_signal) {
        fputs("No crash signal recorded (the dump has neither an Exception nor a lastgasp stream)</h1>\n", out);
        return;
    }
    render_put_signal_line(out, r);
    if (fn) {
        fputs(" in <code>", out);
        render_html_text(out, fn, NULL);
        fputs("</code>", out);
    }
    fputs("</h1>\n", out);
}

static void row_begin(FILE *out, const char *key) { fprintf(out, "<tr><th>%s</th><td>", key); }
static void row_end(FILE *out) { fputs("</td></tr>\n", out); }

static void row_bytes(FILE *out, const char *key, const struct mdr_bytes *b)
{
    if (!b->data)
        return;
    row_begin(out, key);
    render_html_text_n(out, (const char *)b->data, b->len, 0);
    row_end(out);
}

static void summary_signal(FILE *out, const struct render_report *r, const struct mdr_dump *md)
{
    const char *sig = md_signal_name(r->signo), *code = md_si_code_name(r->signo, r->code);
    const char *file, *fn;
    int32_t line;

    if (r->has_signal) {
        row_begin(out, "Signal");
        fprintf(out, "%s%s%" PRIu32 "%s", sig ? sig : "", sig ? " (" : "signal ", r->signo, sig ? ")" : "");
        row_end(out);
        row_begin(out, "Code");
        fprintf(out, "%s%s%" PRId32 "%s", code ? code : "", code ? " (" : "si_code ", r->code, code ? ")" : "");
        row_end(out);
        if (r->code > 0) {
            row_begin(out, "Address");
            fprintf(out, "<code>0x%" PRIx64 "</code>", r->address);
            row_end(out);
        } else if (r->has_sender) {
            row_begin(out, "Sent by");
            fprintf(out, "pid %" PRIu32 " (uid %" PRIu32 ")", r->sender_pid, r->sender_uid);
            row_end(out);
        }
    }
    /* The headline names the function; this row adds its source, which Go frames have. */
    if ((fn = render_crash_site(r, md, &file, &line)) != NULL && file) {
        row_begin(out, "Crashed in");
        fputs("<code>", out);
        render_html_text(out, fn, NULL);
        fputs("</code> <span class=\"dim\">", out);
        render_html_text(out, file, NULL);
        if (line)
            fprintf(out, ":%" PRId32, line);
        fputs("</span>", out);
        row_end(out);
    }
}

static void summary_process(FILE *out, const struct render_report *r, const struct mdr_dump *md)
{
    const struct mdr_sysinfo *si = &md->sysinfo;
    char when[64];

    if (md->process_name) {
        row_begin(out, "Process");
        render_html_text(out, md->process_name, NULL);
        row_end(out);
    }
    if (r->has_pid) {
        row_begin(out, "PID");
        fprintf(out, "%" PRIu32, r->pid);
        row_end(out);
    }
    if (r->has_crashing_tid) {
        row_begin(out, "Thread");
        fprintf(out, "%" PRIu32, r->crashing_tid);
        for (size_t i = 0; i < r->nthreads; i++)
            if (r->threads[i].crashed && r->threads[i].tid == r->crashing_tid && r->threads[i].name) {
                fputs(" (", out);
                render_html_text(out, r->threads[i].name, NULL);
                fputc(')', out);
                break;
            }
        row_end(out);
    }
    if (r->has_time && render_time_utc(r->time_ns, when, sizeof when) == 0) {
        row_begin(out, "Time");
        fputs(when, out);
        row_end(out);
    }
    row_bytes(out, "Host", &md->hostname);
    if (md->cgroup.data) { /* cgroup v1 has a line per hierarchy: one paragraph, separated by "; " as in show */
        row_begin(out, "Container");
        fputs("cgroup <span class=\"m\">", out);
        for (size_t i = 0; i < md->cgroup.len;) {
            const uint8_t *nl = memchr(md->cgroup.data + i, '\n', md->cgroup.len - i);
            size_t n = nl ? (size_t)(nl - (md->cgroup.data + i)) : md->cgroup.len - i;

            if (i)
                fputs("; ", out);
            render_html_text_n(out, (const char *)md->cgroup.data + i, n, 0);
            i += n + 1;
        }
        fputs("</span>", out);
        row_end(out);
    }
    if (md->cmdline.data && md->cmdline.len) {
        size_t n = md->cmdline.len;

        while (n > 0 && md->cmdline.data[n - 1] == '\0')
            n--;
        row_begin(out, "Command line");
        fputs("<code>", out);
        for (size_t i = 0; i < n;) { /* NUL-separated arguments, shown separated by spaces */
            const uint8_t *nul = memchr(md->cmdline.data + i, '\0', n - i);
            size_t len = nul ? (size_t)(nul - (md->cmdline.data + i)) : n - i;

            if (i)
                fputc(' ', out);
            render_html_text_n(out, (const char *)md->cmdline.data + i, len, 0);
            i += len + 1;
        }
        fputs("</code>", out);
        row_end(out);
    }
    if (si->present) {
        const char *arch = mdr_arch_name(si->arch);

        row_begin(out, "System");
        render_html_text(out, si->csd_version, "(no version string)");
        fprintf(out, " (%s, %u CPU%s", arch ? arch : "unknown architecture", (unsigned)si->cpu_count,
                si->cpu_count == 1 ? "" : "s");
        if (si->cpu_vendor[0]) {
            fputs(", ", out);
            render_html_text(out, si->cpu_vendor, NULL);
        }
        fputc(')', out);
        row_end(out);
    }
}

/* Why a Go program died, as the runtime's first lines said it (read from its memory), and the runtime's own
 * crash output when it was captured (goshim, Go 1.23+), collapsed: it repeats the goroutines shown below. */
static void summary_go_reason(FILE *out, const struct mdr_dump *md)
{
    if (md->go.reason && md->go.reason[0]) {
        row_begin(out, "Reason");
        fputs("<pre>", out);
        render_html_text_n(out, md->go.reason, strlen(md->go.reason), 1);
        fputs("</pre>", out);
        row_end(out);
    }
    if (md->go_crash_text.data && md->go_crash_text.len) {
        row_begin(out, "Go runtime output");
        fprintf(out, "<details><summary>%zu bytes, as the runtime printed them</summary><pre>", md->go_crash_text.len);
        render_html_text_n(out, (const char *)md->go_crash_text.data, md->go_crash_text.len, 1);
        fputs("</pre></details>", out);
        row_end(out);
    }
}

static void summary_go(FILE *out, const struct mdr_dump *md)
{
    const char *path;
    size_t n;

    if (!md->go.present) {
        summary_go_reason(out, md); /* the crash text can come without the Go stream */
        return;
    }
    row_begin(out, "Go");
    render_html_text(out, md->go.go_version, "(version unreadable)");
    fprintf(out, ", %zu goroutine%s", md->go.ngoroutines, md->go.ngoroutines == 1 ? "" : "s");
    row_end(out);
    if ((path = render_go_program_path(md->go.build_info, &n)) != NULL) {
        row_begin(out, "Program");
        render_html_text_n(out, path, n, 0);
        row_end(out);
    }
    summary_go_reason(out, md);
}

/* What the writer could not keep, from the flags it set. */
static void summary_cuts(FILE *out, const struct mdr_dump *md)
{
    static const char *const cuts[] = {
        "more threads than the writer's bound; the rest were not captured",
        "some stacks were cut at the writer's frame bound",
        "more goroutines than the writer's bound; the rest were not captured",
        "some goroutine stacks were cut at the writer's frame bound",
        "the runtime's goroutine list was not found; only goroutines running on threads were captured",
    };
    const int set[] = {
        (md->lg.flags & LG_FLAG_THREADS_TRUNCATED) != 0, (md->lg.flags & LG_FLAG_FRAMES_TRUNCATED) != 0,
        md->go.present && (md->go.flags & LG_GO_GOROUTINES_TRUNCATED),
        md->go.present && (md->go.flags & LG_GO_FRAMES_TRUNCATED),
        md->go.present && (md->go.flags & LG_GO_NO_GOROUTINE_LIST),
    };

    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        if (set[i])
            fprintf(out, "<p class=\"note\">Note: %s.</p>\n", cuts[i]);
}

void render_html_summary(FILE *out, const struct render_report *r, const struct mdr_dump *md)
{
    fputs("<div class=\"crash\">\n", out);
    headline(out, r, md);
    fputs("<table class=\"kv\">\n", out);
    summary_signal(out, r, md);
    summary_process(out, r, md);
    summary_go(out, md);
    fputs("</table>\n", out);
    summary_cuts(out, md);
    fputs("</div>\n", out);
}
