/* render_html_go.c — the goroutines on the page of `lastgasp html`.
 *
 * Normal context. The crashing goroutine comes first, expanded; the others are grouped exactly as `show`
 * groups them (render_go_group: same state, creator and stack), one collapsed <details> per group, so that ten
 * thousand goroutines parked in one place are one line on the page. The page stays bounded whatever the dump
 * holds: at most HTML_MAX_GROUPS groups, HTML_MAX_IDS ids a group, RENDER_HTML_MAX_FRAMES rows a stack, each cut
 * said in a "N more" line. Every string from the dump goes through render_html_text().
 */
#include "render.h"
#include "../minidump/minidump.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define HTML_MAX_GROUPS 500 /* groups shown in full; the rest are counted */
#define HTML_MAX_IDS 100    /* goroutine ids listed in a group */

static void go_frames(FILE *out, const struct mdr_dump *md, const struct mdr_go_goroutine *g)
{
    size_t rows = 0, k = 0, index = 0; /* index counts frames, not the elided-frames lines */
    char text[96];

    if (g->nframes == 0) {
        fputs("<p class=\"note\">No frames recorded.</p>\n", out);
        return;
    }
    render_html_frames_begin(out);
    for (; k < g->nframes && rows < RENDER_HTML_MAX_FRAMES; k++, rows++) {
        const struct mdr_go_frame *f = &g->frames[k];
        struct render_html_frame h = {
            .function = f->function, .file = f->file, .line = f->line,
            .module = render_go_frame_module_at(md, g, k), .pc = f->pc,
            /* "C": a frame of the C code the goroutine called through cgo (file and line only from debug info
             * the tool found: formats/debuginfo/debuginfo.c) */
            .note = f->native ? (f->inlined ? "C, inlined" : "C") : f->inlined ? "inlined" : NULL,
        };

        if (f->elided) {
            snprintf(text, sizeof text, "...%" PRIu32 " frames elided...", f->elided);
            render_html_frames_note(out, text);
            continue;
        }
        render_html_frame_row(out, index++, &h);
    }
    if (k < g->nframes) {
        snprintf(text, sizeof text, "%zu more frames not shown (lastgasp json has them)", g->nframes - k);
        render_html_frames_note(out, text);
    }
    if (g->flags & LG_GOROUTINE_TRUNCATED)
        render_html_frames_note(out, "...additional frames elided (the writer's bound)...");
    render_html_frames_end(out);
}

/* "chan receive, 3 minutes, locked to thread", as the runtime's goroutine header says it; a group of several
 * says only the state they share. */
static void state(FILE *out, const struct mdr_go_info *go, const struct mdr_go_goroutine *g, int one)
{
    const char *word = render_go_state(g);
    uint64_t minutes;

    if (word)
        render_html_text(out, word, NULL);
    else
        fprintf(out, "status %" PRIu32, g->status);
    if (one && render_go_shows_wait(go, g, &minutes))
        fprintf(out, ", %" PRIu64 " minutes", minutes);
    if (one && (g->flags & LG_GOROUTINE_LOCKED))
        fputs(", locked to thread", out);
}

/* The first frame outside the runtime: where the program itself was (runtime.gopark says nothing). */
static const char *where(const struct mdr_go_goroutine *g)
{
    for (size_t k = 0; k < g->nframes; k++)
        if (!g->frames[k].elided && g->frames[k].function && strncmp(g->frames[k].function, "runtime.", 8) != 0)
            return g->frames[k].function;
    return g->nframes && !g->frames[0].elided ? g->frames[0].function : NULL;
}

static void created_by(FILE *out, const struct mdr_go_goroutine *g, uint64_t parent)
{
    if (!g->created_by_function && !g->created_by_file)
        return;
    fputs("<p>created by <code>", out);
    render_html_text(out, g->created_by_function, "??");
    fputs("</code>", out);
    if (parent)
        fprintf(out, " in goroutine %" PRIu64, parent);
    fputs(" <span class=\"dim m\">", out);
    render_html_text(out, g->created_by_file, "??");
    if (g->created_by_line)
        fprintf(out, ":%" PRId32, g->created_by_line);
    fputs("</span></p>\n", out);
}

static void crashed(FILE *out, const struct mdr_dump *md, const char *id)
{
    const struct mdr_go_info *go = &md->go;
    size_t n = 0;

    for (size_t i = 0; i < go->ngoroutines; i++) {
        const struct mdr_go_goroutine *g = &go->goroutines[i];

        if (!render_go_crashed(go, g))
            continue;
        fprintf(out, "<h2 id=\"%s-goroutine%s\">Crashing goroutine %" PRIu64 " [", id, n ? "-more" : "", g->goid);
        state(out, go, g, 1);
        fputs("]</h2>\n", out);
        go_frames(out, md, g);
        created_by(out, g, g->parent_goid);
        n++;
    }
    if (n == 0 && go->crashing_goid == 0)
        fputs("<h2>Crashing goroutine</h2>\n<p>No goroutine was running on the crashing thread (a C thread, or "
              "the Go scheduler).</p>\n",
              out);
    else if (n == 0)
        fprintf(out, "<h2>Crashing goroutine</h2>\n<p>The crashing goroutine %" PRIu64 " is not in the dump.</p>\n",
                go->crashing_goid);
}

static void group(FILE *out, const struct mdr_dump *md, const struct render_go_group *gr)
{
    const struct mdr_go_goroutine *g = gr->members[0];
    const char *fn = where(g);

    if (gr->count == 1)
        fprintf(out, "<details><summary>goroutine %" PRIu64 " [", g->goid);
    else
        fprintf(out, "<details><summary><b>%zu goroutines</b> [", gr->count);
    state(out, &md->go, g, gr->count == 1);
    fputc(']', out);
    if (fn) {
        fputs(" <span class=\"dim\">in</span> <code>", out);
        render_html_text(out, fn, NULL);
        fputs("</code>", out);
    }
    fputs("</summary>\n", out);
    if (gr->count > 1) {
        fputs("<p class=\"m\">", out);
        for (size_t i = 0; i < gr->count && i < HTML_MAX_IDS; i++)
            fprintf(out, "%s%" PRIu64, i ? ", " : "", gr->members[i]->goid);
        if (gr->count > HTML_MAX_IDS)
            fprintf(out, " and %zu more", gr->count - HTML_MAX_IDS);
        fputs("</p>\n", out);
    }
    go_frames(out, md, g);
    created_by(out, g, gr->parent_goid);
    fputs("</details>\n", out);
}

int render_html_go(FILE *out, const struct mdr_dump *md, const char *id)
{
    struct render_go_groups gs;
    size_t others = 0, hidden = 0;

    if (!md->go.present)
        return 0;
    if (md->go.ngoroutines == 0) {
        fputs("<h2>Goroutines</h2>\n<p>No goroutines in the Go stream.</p>\n", out);
        return 0;
    }
    if (render_go_group(&gs, &md->go) != 0)
        return -1;
    crashed(out, md, id);
    for (size_t i = 0; i < gs.ngroups; i++) {
        others += gs.groups[i].count;
        hidden += i >= HTML_MAX_GROUPS ? gs.groups[i].count : 0;
    }
    if (gs.ngroups)
        fprintf(out, "<h2 id=\"%s-goroutines\">Other goroutines (%zu, in %zu group%s of identical stacks)</h2>\n",
                id, others, gs.ngroups, gs.ngroups == 1 ? "" : "s");
    for (size_t i = 0; i < gs.ngroups && i < HTML_MAX_GROUPS; i++)
        group(out, md, &gs.groups[i]);
    if (gs.ngroups > HTML_MAX_GROUPS)
        fprintf(out, "<p class=\"note\">%zu more groups (%zu goroutines) not shown (lastgasp show and json have "
                     "them).</p>\n",
                gs.ngroups - HTML_MAX_GROUPS, hidden);
    render_go_groups_free(&gs);
    return 0;
}
