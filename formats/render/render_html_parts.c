/* render_html_parts.c — the pieces every page of `lastgasp html` is made of: escaped text, the document's
 * head (inline style, the Content-Security-Policy that forbids scripts and external resources) and end, and
 * frame tables. A leaf of formats/render/: the pages (render_html.c, render_html_go.c,
 * render_html_summary.c, and the bundle page) call it, it calls none of them.
 *
 * Normal context. Every string from the dump goes through render_html_text_n().
 */
#include "render.h"

#include <inttypes.h>
#include <string.h>

/* ---- text ---- */

/* Bidirectional embeddings, overrides and isolates: a name holding them would reorder the text after it on
 * screen, so that what a person reads is not what the dump says (the "Trojan Source" problem). */
static int is_bidi_control(uint32_t cp)
{
    return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void render_html_text_n(FILE *out, const char *s, size_t n, int keep_newlines)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        uint32_t cp;
        size_t k = render_utf8_next(p + i, n - i, &cp);

        switch (cp) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        case 0xfffd: fputs("\xef\xbf\xbd", out); break;
        default:
            if (keep_newlines && (cp == '\n' || cp == '\t'))
                fputc((int)cp, out);
            else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || is_bidi_control(cp))
                fputc('?', out);
            else
                fwrite(p + i, 1, k, out);
        }
        i += k;
    }
}

void render_html_text(FILE *out, const char *s, const char *fallback)
{
    if (!s)
        s = fallback;
    if (s)
        render_html_text_n(out, s, strlen(s), 0);
}

/* ---- the document ---- */

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;padding:1em 1.5em;max-width:1300px;color:#1d1d1f;"
    "background:#fff}\n"
    "h1{font-size:1.35em;margin:.2em 0 .6em;color:#a40000}h2{font-size:1.1em;margin:1.4em 0 .4em;"
    "border-bottom:1px solid #ddd;padding-bottom:.15em}h3{font-size:1em;margin:1em 0 .3em}\n"
    "code,pre,td.m,span.m{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}\n"
    "pre{background:#f6f6f6;padding:.6em;overflow:auto;white-space:pre-wrap;margin:.3em 0}\n"
    "table{border-collapse:collapse;margin:.3em 0}td,th{padding:.12em .6em;text-align:left;vertical-align:top}\n"
    "table.kv th{color:#555;font-weight:600;white-space:nowrap}\n"
    "table.grid th{border-bottom:1px solid #ccc;color:#555;font-weight:600}\n"
    "table.grid tr:nth-child(even) td{background:#fafafa}\n"
    "table.frames td.fn{font-weight:600;word-break:break-all}td.n{color:#888;text-align:right}\n"
    "span.off,td.note,span.dim{color:#777}\n"
    "details{margin:.25em 0;border-left:3px solid #ddd;padding-left:.6em}"
    "details[open]{border-left-color:#999}summary{cursor:pointer}\n"
    "div.crash{border-left:4px solid #c00;padding:.2em .9em;background:#fff7f7;margin:.5em 0}\n"
    "p.note{color:#8a5a00;margin:.2em 0}ul.warn li{color:#8a5a00}\n"
    "section.dump{margin-bottom:3em}h2.dumphead{background:#eef1f5;border:0;padding:.3em .5em;margin-top:2em}\n";

void render_html_begin(FILE *out, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          /* No script, nothing fetched: the page is a document, whatever the dump holds. The favicon is
           * inline so that the browser does not ask the file system or a server for one. */
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
          "img-src data:\">\n"
          "<link rel=\"icon\" href=\"data:,\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          out);
    render_html_text(out, title, "lastgasp");
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", style);
}

void render_html_end(FILE *out)
{
    fputs("<p class=\"note\"><span class=\"dim\">Written by lastgasp html. The dump holds more than this page "
          "(memory, registers of every thread): <code>lastgasp json</code> prints it all.</span></p>\n"
          "</body>\n</html>\n",
          out);
}

/* ---- frames ---- */

void render_html_frames_begin(FILE *out)
{
    fputs("<table class=\"grid frames\"><tr><th>#</th><th>function</th><th>source</th><th>module + offset</th>"
          "<th>pc</th><th></th></tr>\n",
          out);
}

void render_html_frame_row(FILE *out, size_t index, const struct render_html_frame *f)
{
    fprintf(out, "<tr><td class=\"n\">%zu</td><td class=\"m fn\">", index);
    render_html_text(out, f->function, "??");
    if (f->function && f->has_offset)
        fprintf(out, "<span class=\"off\">+0x%" PRIx32 "</span>", f->offset);
    fputs("</td><td class=\"m\">", out);
    if (f->file) {
        render_html_text(out, f->file, NULL);
        if (f->line)
            fprintf(out, ":%" PRId32, f->line);
    }
    fputs("</td><td class=\"m\">", out);
    if (f->module) {
        render_html_text(out, render_path_basename(f->module->path), "(name unreadable)");
        fprintf(out, "+0x%" PRIx64, f->pc - f->module->base);
    }
    fprintf(out, "</td><td class=\"m\">0x%" PRIx64 "</td><td class=\"note\">", f->pc);
    render_html_text(out, f->note, NULL);
    fputs("</td></tr>\n", out);
}

void render_html_frames_note(FILE *out, const char *text)
{
    fprintf(out, "<tr><td></td><td colspan=\"5\" class=\"note\">%s</td></tr>\n", text);
}

void render_html_frames_end(FILE *out) { fputs("</table>\n", out); }
