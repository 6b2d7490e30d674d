/* usage.c — --help as text (the man page is the same table through man/mkman.c), and usage errors.
 *
 * Normal context (the `lastgasp` tool).
 */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

#define WIDTH 79      /* columns of --help */
#define OPT_COLUMN 28 /* where an option's text starts when its flags leave room */

/* text filled between columns indent and WIDTH; the first line starts at column `at` (already printed). */
static void fill(FILE *f, const char *text, int indent, int at)
{
    int col = at;

    while (*text == ' ')
        text++;
    while (*text) {
        size_t n = strcspn(text, " ");
        if (col > indent && col + 1 + (int)n > WIDTH) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        } else if (col < indent) {
            fprintf(f, "%*s", indent - col, "");
            col = indent;
        }
        fwrite(text, 1, n, f);
        col += (int)n;
        text += n;
        while (*text == ' ')
            text++;
    }
    fputc('\n', f);
}

/* One entry of a two-column list: flags at column 2, text at OPT_COLUMN (on the next line when flags are wide). */
static void item(FILE *f, const char *flags, const char *text)
{
    int at = fprintf(f, "  %s", flags);
    if (at + 2 > OPT_COLUMN) {
        fputc('\n', f);
        at = 0;
    }
    fill(f, text, OPT_COLUMN, at);
}

static void body(FILE *f, const char *p)
{
    while (*p) {
        const char *end = strstr(p, "\n\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char para[2048];

        snprintf(para, sizeof para, "%.*s", (int)n, p);
        fputc('\n', f);
        if (strncmp(para, "  ", 2) == 0)
            fprintf(f, "%s\n", para); /* an example, as it is */
        else
            fill(f, para, 0, 0);
        p += n;
        while (*p == '\n')
            p++;
    }
}

void cli_print_help(FILE *f, const struct cli_help *h)
{
    for (int i = 0; i < 4 && h->synopsis[i]; i++)
        fprintf(f, "%s lastgasp%s%s %s\n", i ? "      " : "usage:", *h->name ? " " : "", h->name, h->synopsis[i]);
    fputc('\n', f);
    fill(f, h->summary, 0, 0);
    body(f, h->body);
    if (!*h->name)
        for (size_t i = 1; i < cli_nhelps; i++)
            item(f, cli_helps[i].name, cli_helps[i].summary);
    fprintf(f, "\nOptions:\n");
    for (const struct cli_option *o = h->options; o->flags; o++)
        item(f, o->flags, o->text);
    fputc('\n', f);
    fill(f, h->exit_status, 0, fprintf(f, "Exit status:"));
}

int cli_usage_error(const char *name, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "lastgasp%s%s: ", *name ? " " : "", name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ntry 'lastgasp%s%s --help' for usage\n", *name ? " " : "", name);
    return CLI_USAGE;
}
