/* bundle_html.c — `lastgasp html BUNDLE.zip`: one page for a bundle, an index of its dumps (a row each, linking
 * to its section), then each dump's section exactly as `lastgasp html` renders that dump alone.
 *
 * Normal context. As `show BUNDLE` does, the dumps themselves are read, not the manifest. Each dump is read
 * twice, for its index row and for its section, so that one parsed dump at a time is in memory whatever the
 * bundle's size. Sections are written for the first HTML_MAX_DUMPS dumps only (a bundle may hold 66,000);
 * the index lists every dump, and the page names the command that renders any one of them.
 */
#include "bundle.h"
#include "../debuginfo/debuginfo.h"
#include "../read/mdread.h"
#include "../render/render.h"

#include <inttypes.h>
#include <string.h>

#define HTML_MAX_DUMPS 100

static void cell(FILE *out, const char *s)
{
    fputs("<td>", out);
    render_html_text(out, s, NULL);
    fputs("</td>", out);
}

static void index_row(FILE *out, size_t k, const char *name, const struct mdr_dump *md)
{
    struct render_report r;
    const char *sig, *file, *fn;
    int32_t line;
    char when[64];

    fprintf(out, "<tr><td class=\"n\">%zu</td><td class=\"m\">", k);
    if (k <= HTML_MAX_DUMPS)
        fprintf(out, "<a href=\"#d%zu\">", k);
    render_html_text(out, name, NULL);
    fputs(k <= HTML_MAX_DUMPS ? "</a></td>" : "</td>", out);
    if (render_report_build(&r, md) != 0) {
        fputs("<td colspan=\"7\">(out of memory)</td></tr>\n", out);
        return;
    }
    sig = r.has_signal ? md_signal_name(r.signo) : NULL;
    if (sig || !r.has_signal)
        cell(out, sig);
    else
        fprintf(out, "<td>signal %" PRIu32 "</td>", r.signo);
    fn = render_crash_site(&r, md, &file, &line);
    fputs("<td class=\"m\">", out);
    render_html_text(out, fn, NULL);
    fputs("</td>", out);
    cell(out, md->process_name);
    if (r.has_pid)
        fprintf(out, "<td>%" PRIu32 "</td>", r.pid);
    else
        fputs("<td></td>", out);
    cell(out, r.has_time && render_time_utc(r.time_ns, when, sizeof when) == 0 ? when : NULL);
    fputs("<td>", out);
    if (md->hostname.data)
        render_html_text_n(out, (const char *)md->hostname.data, md->hostname.len, 0);
    fputs("</td>", out);
    fprintf(out, "<td>%zu</td></tr>\n", md->nwarnings + md->warnings_dropped);
    render_report_free(&r);
}

int bundle_html(FILE *out, const char *path, struct bundle *b)
{
    size_t ndumps = 0, nbin = 0, bad = 0, k = 0;
    const char *example = NULL;
    char title[300], err[512];
    int rc = 0;

    for (size_t i = 0; i < b->n; i++) {
        ndumps += bundle_is_dump(b->names[i]);
        nbin += strncmp(b->names[i], BUNDLE_BINARIES, 9) == 0;
    }
    snprintf(title, sizeof title, "Bundle %s — lastgasp", render_path_basename(path));
    render_html_begin(out, title);
    fputs("<h1>Bundle <code>", out);
    render_html_text(out, path, NULL);
    fprintf(out, "</code></h1>\n<p>%zu dump%s, %zu binar%s</p>\n", ndumps, ndumps == 1 ? "" : "s", nbin,
            nbin == 1 ? "y" : "ies");
    if (ndumps)
        fputs("<table class=\"grid\"><tr><th>#</th><th>dump</th><th>signal</th><th>crashed in</th>"
              "<th>process</th><th>pid</th><th>time</th><th>host</th><th>warnings</th></tr>\n",
              out);
    for (size_t i = 0; i < b->n; i++) {
        struct mdr_dump md;

        if (!bundle_is_dump(b->names[i]))
            continue;
        k++;
        if (bundle_read_dump(b, b->names[i], &md, err, sizeof err) != 0) {
            fprintf(stderr, "lastgasp: %s:%s: %s\n", path, b->names[i], err);
            fprintf(out, "<tr><td class=\"n\">%zu</td><td class=\"m\">", k);
            render_html_text(out, b->names[i], NULL);
            fputs("</td><td colspan=\"7\" class=\"note\">could not be read: ", out);
            render_html_text(out, err, NULL);
            fputs("</td></tr>\n", out);
            bad++;
        } else {
            index_row(out, k, b->names[i], &md);
            example = example ? example : b->names[i];
        }
        mdr_close(&md);
    }
    if (ndumps)
        fputs("</table>\n", out);
    else
        fputs("<p>No dumps in the bundle.</p>\n", out);
    k = 0;
    for (size_t i = 0; i < b->n && k < HTML_MAX_DUMPS && rc == 0; i++) {
        struct mdr_dump md;
        char id[32];

        if (!bundle_is_dump(b->names[i]))
            continue;
        snprintf(id, sizeof id, "d%zu", ++k);
        if (bundle_read_dump(b, b->names[i], &md, err, sizeof err) == 0) {
            if (dbg_apply(&md) != 0) /* as `html NAME.dmp` shows it */
                fprintf(stderr, "lastgasp: %s: out of memory looking up debug info\n", b->names[i]);
            rc = render_html_dump(out, &md, id, b->names[i]);
        }
        mdr_close(&md); /* one that cannot be read is said once, in the index */
    }
    if (ndumps > HTML_MAX_DUMPS && example) {
        fprintf(out, "<p class=\"note\">The %zu dumps after the first %d are in the index only. One dump alone: "
                     "<code>lastgasp html ",
                ndumps - HTML_MAX_DUMPS, HTML_MAX_DUMPS);
        render_html_text(out, path, NULL);
        fputc(':', out);
        render_html_text(out, example, NULL);
        fputs("</code></p>\n", out);
    }
    render_html_end(out);
    return rc != 0 || ferror(out) ? -1 : bad ? 1 : 0;
}
