/* render_html.c — `lastgasp html`: one self-contained HTML page of a dump, for a person with a browser.
 *
 * Normal context. Built on the same merged view as `show` and `json` (struct render_report) and the same Go
 * helpers (render_go.c); the summary is in render_html_summary.c, the goroutines in render_html_go.c. The
 * escaping, the document's head and the frame tables are in render_html_parts.c. The page loads nothing: the style sheet is inline, there is no script, and a Content-Security-Policy forbids
 * scripts and every external resource, so that even a mistake in escaping could not run code or reach the
 * network. Collapsing is <details>.
 *
 * Every string from the dump goes through render_html_text_n(): a crashed process names its threads, modules
 * and frames, and a dump may come from anywhere. Nothing is invented: a value the dump does not hold is
 * left out of the page (no row, an empty cell), never guessed.
 */
#include "render.h"
#include "../minidump/minidump.h"

#include <inttypes.h>
#include <string.h>

#define HTML_MAX_THREADS 1000 /* other threads shown; the writer keeps at most 1024 */
#define HTML_MAX_MODULES 2000
#define HTML_OPEN_MODULES 20  /* the module list starts open up to this many */

static void thread_frames(FILE *out, const struct render_thread *t)
{
    if (t->nframes == 0) {
        fputs("<p class=\"note\">No frames: ", out);
        render_html_text(out, t->no_frames_why, "none recorded");
        fputs("</p>\n", out);
        return;
    }
    render_html_frames_begin(out);
    for (size_t i = 0; i < t->nframes && i < RENDER_HTML_MAX_FRAMES; i++) {
        const struct render_frame *rf = &t->frames[i];
        struct render_html_frame f = {
            .function = rf->function, .has_offset = rf->has_offset, .offset = rf->offset,
            .module = rf->module_entry, .pc = rf->pc, .note = rf->inlined ? "inlined" : rf->trust,
            .file = rf->file, .line = rf->line,
        };
        render_html_frame_row(out, i, &f);
    }
    if (t->nframes > RENDER_HTML_MAX_FRAMES) {
        char more[80];

        snprintf(more, sizeof more, "%zu more frames not shown (lastgasp json has them)",
                 t->nframes - RENDER_HTML_MAX_FRAMES);
        render_html_frames_note(out, more);
    }
    render_html_frames_end(out);
}

static void registers(FILE *out, const struct mdr_context *ctx)
{
    if (!ctx || !ctx->nregs)
        return;
    fputs("<details><summary>Registers</summary><table class=\"kv\">", out);
    for (uint32_t i = 0; i < ctx->nregs; i++)
        fprintf(out, "%s<th>%s</th><td class=\"m\">0x%016" PRIx64 "</td>%s", i % 3 == 0 ? "<tr>" : "",
                ctx->reg_names[i], ctx->reg[i], i % 3 == 2 || i == ctx->nregs - 1 ? "</tr>\n" : "");
    fputs("</table></details>\n", out);
}

/* "1234 (worker) [did not answer]" */
static void thread_title(FILE *out, const struct render_thread *t)
{
    fprintf(out, "%" PRIu32, t->tid);
    if (t->name) {
        fputs(" (", out);
        render_html_text(out, t->name, NULL);
        fputc(')', out);
    }
    if (t->status && strcmp(t->status, "no_answer") == 0)
        fputs(" [did not answer]", out);
    else if (t->status && strcmp(t->status, "gone") == 0)
        fputs(" [exited]", out);
}

static void threads(FILE *out, const struct render_report *r, const char *id)
{
    size_t others = 0, shown = 0;

    for (size_t i = 0; i < r->nthreads; i++) {
        const struct render_thread *t = &r->threads[i];

        if (!t->crashed)
            continue;
        fprintf(out, "<h2 id=\"%s-thread\">Crashing thread ", id);
        thread_title(out, t);
        fputs("</h2>\n", out);
        thread_frames(out, t);
        registers(out, t->ctx);
    }
    for (size_t i = 0; i < r->nthreads; i++)
        others += !r->threads[i].crashed;
    if (r->nthreads == 0)
        fputs("<h2>Threads</h2>\n<p>No threads in the dump.</p>\n", out);
    if (others == 0)
        return;
    fprintf(out, "<h2 id=\"%s-threads\">Other threads (%zu)</h2>\n", id, others);
    for (size_t i = 0; i < r->nthreads && shown < HTML_MAX_THREADS; i++) {
        const struct render_thread *t = &r->threads[i];

        if (t->crashed)
            continue;
        shown++;
        fputs("<details><summary>Thread ", out);
        thread_title(out, t);
        if (t->nframes) { /* where it was: the function, or at least the module */
            fputs(" <span class=\"dim\">in</span> <code>", out);
            render_html_text(out, t->frames[0].function, "??");
            if (!t->frames[0].function && t->frames[0].module) {
                fputs(" (", out);
                render_html_text(out, t->frames[0].module, NULL);
                fputc(')', out);
            }
            fputs("</code>", out);
        }
        fputs("</summary>\n", out);
        thread_frames(out, t);
        fputs("</details>\n", out);
    }
    if (others > shown)
        fprintf(out, "<p class=\"note\">%zu more threads not shown (lastgasp json has them).</p>\n",
                others - shown);
}

/* ---- modules, annotations, notes, warnings ---- */

static void modules(FILE *out, const struct mdr_dump *md, const char *id)
{
    if (md->nmodules == 0)
        return;
    /* A short list is open; a long one (hundreds of libraries) waits for a click. */
    fprintf(out, "<h2 id=\"%s-modules\">Modules (%zu)</h2>\n<details%s><summary>name, base, size, build-id, "
                 "path</summary>\n<table class=\"grid\"><tr><th>name</th><th>base</th><th>size</th>"
                 "<th>build-id</th><th>path</th></tr>\n",
            id, md->nmodules, md->nmodules <= HTML_OPEN_MODULES ? " open" : "");
    for (size_t i = 0; i < md->nmodules && i < HTML_MAX_MODULES; i++) {
        const struct mdr_module *m = &md->modules[i];

        fputs("<tr><td class=\"m\">", out);
        render_html_text(out, render_path_basename(m->path), "(name unreadable)");
        fprintf(out, "</td><td class=\"m\">0x%" PRIx64 "</td><td class=\"m\">0x%" PRIx32 "</td><td class=\"m\">",
                m->base, m->size);
        render_html_text(out, m->build_id, NULL); /* lowercase hex by the reader; escaped all the same */
        fputs("</td><td class=\"m\">", out);
        render_html_text(out, m->path, NULL);
        if (m->debug_from) { /* where the file:line of its frames came from (the tool's debug-info pass) */
            fputs("<div class=\"note\">lines: ", out);
            render_html_text(out, m->debug_from, NULL);
            if (m->debug_url) {
                fputs(" ", out);
                render_html_text(out, m->debug_url, NULL);
            }
            if (m->debug_path) {
                fputs(", ", out);
                render_html_text(out, m->debug_path, NULL);
            }
            if (m->debug_note) {
                fputs(": ", out);
                render_html_text(out, m->debug_note, NULL);
            }
            fputs("</div>", out);
        }
        fputs("</td></tr>\n", out);
    }
    if (md->nmodules > HTML_MAX_MODULES)
        fprintf(out, "<tr><td colspan=\"5\" class=\"note\">%zu more modules not shown</td></tr>\n",
                md->nmodules - HTML_MAX_MODULES);
    fputs("</table>\n</details>\n", out);
}

/* The process annotations (lastgasp_set_annotation): key and value, as the program set them. */
static void annotations(FILE *out, const struct mdr_dump *md, const char *id)
{
    const struct mdr_crashpad *cp = &md->crashpad;

    if (cp->nannotations == 0)
        return;
    fprintf(out, "<h2 id=\"%s-annotations\">Annotations</h2>\n<table>\n", id);
    for (size_t i = 0; i < cp->nannotations; i++) {
        fputs("<tr><th>", out);
        render_html_text_n(out, cp->annotations[i].key, cp->annotations[i].key_len, 0);
        fputs("</th><td>", out);
        render_html_text_n(out, cp->annotations[i].value, cp->annotations[i].value_len, 0);
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

/* The writer's notes (crash-info, then Go), one item per line. */
static void notes(FILE *out, const struct render_report *r, const struct mdr_dump *md, const char *id)
{
    const char *texts[2] = { r->notes, md->go.notes };
    int heading = 0;

    for (int k = 0; k < 2; k++) {
        const char *line = texts[k];

        while (line && *line) {
            const char *nl = strchr(line, '\n');
            size_t n = nl ? (size_t)(nl - line) : strlen(line);

            if (!heading++)
                fprintf(out, "<h2 id=\"%s-notes\">What the writer could not capture</h2>\n<ul>\n", id);
            fputs("<li>", out);
            render_html_text_n(out, line, n, 0);
            fputs("</li>\n", out);
            line += n + (nl != NULL);
        }
    }
    if (heading)
        fputs("</ul>\n", out);
}

static void warnings(FILE *out, const struct mdr_dump *md, const char *id)
{
    if (md->nwarnings == 0 && md->warnings_dropped == 0)
        return;
    fprintf(out, "<h2 id=\"%s-warnings\">Reader warnings (%zu)</h2>\n<ul class=\"warn\">\n", id,
            md->nwarnings + md->warnings_dropped);
    for (size_t i = 0; i < md->nwarnings; i++) {
        fputs("<li>", out);
        render_html_text(out, md->warnings[i], NULL);
        fputs("</li>\n", out);
    }
    if (md->warnings_dropped)
        fprintf(out, "<li>%zu more warnings not kept</li>\n", md->warnings_dropped);
    fputs("</ul>\n", out);
}

int render_html_dump(FILE *out, const struct mdr_dump *md, const char *id, const char *heading)
{
    struct render_report r;
    int rc;

    if (render_report_build(&r, md) != 0)
        return -1;
    fprintf(out, "<section class=\"dump\" id=\"%s\">\n", id);
    if (heading) {
        fputs("<h2 class=\"dumphead\">", out);
        render_html_text(out, heading, NULL);
        fputs("</h2>\n", out);
    }
    render_html_summary(out, &r, md);
    /* A Go program's goroutines first, as in `show`: they are what its programmer reads; the native threads
     * follow, as the crashing thread's C frames are what explains a crash in cgo. */
    rc = render_html_go(out, md, id);
    threads(out, &r, id);
    modules(out, md, id);
    annotations(out, md, id);
    notes(out, &r, md, id);
    warnings(out, md, id);
    fputs("</section>\n", out);
    render_report_free(&r);
    return rc;
}

int render_html(FILE *out, const struct mdr_dump *md)
{
    struct render_report r;
    char title[256];
    const char *file, *fn, *sig;

    if (render_report_build(&r, md) != 0)
        return -1;
    sig = r.has_signal ? md_signal_name(r.signo) : NULL;
    fn = render_crash_site(&r, md, &file, &(int32_t){ 0 });
    /* The tab's title: what died of what. snprintf may cut a long name inside a UTF-8 sequence; the escaper
     * turns the broken tail into U+FFFD. */
    snprintf(title, sizeof title, "%s%s%s%s%s — lastgasp", sig ? sig : r.has_signal ? "signal" : "no signal",
             fn ? " in " : "", fn ? fn : "", md->process_name ? ", " : "", md->process_name ? md->process_name : "");
    render_report_free(&r);
    render_html_begin(out, title);
    if (render_html_dump(out, md, "d", NULL) != 0)
        return -1;
    render_html_end(out);
    return ferror(out) ? -1 : 0;
}
