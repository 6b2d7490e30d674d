/* show.c — `lastgasp show|json|html [--] FILE`: a dump rendered for a person (show, html) or a tool (json).
 *
 * Normal context (the `lastgasp` tool). Parsing lives in formats/read/, rendering in formats/render/ (so the
 * fuzzer exercises exactly what this command runs), bundles in formats/bundle/. Exit status: 0 when the dump
 * rendered (even with warnings), 1 when a file could not be read or is not a minidump (or a bundle was
 * refused, or one of its dumps could not be read), CLI_USAGE for a usage error.
 */
#include "cli.h"
#include "../bundle/bundle.h"
#include "../debuginfo/debuginfo.h"
#include "../read/mdread.h"
#include "../render/render.h"

#include <string.h>

/* What show, json and html print. json and html carry the reader's warnings in their output. */
enum out { OUT_SHOW, OUT_JSON, OUT_HTML };

static int render(enum out how, const char *label, struct mdr_dump *md)
{
    int json = how != OUT_SHOW;
    char first[512];
    int status = 0;

    snprintf(first, sizeof first, "%s", md->nwarnings ? md->warnings[0] : "");
    /* show: every warning on stderr, beside the report; json: the warnings are in the object, and stderr gets
     * one line so that a person running a tool still sees that something was wrong. */
    if (json && md->nwarnings) {
        size_t more = md->nwarnings - 1 + md->warnings_dropped;

        if (more)
            fprintf(stderr, "lastgasp: %s: %s (and %zu more warnings, see \"warnings\")\n", label, first, more);
        else
            fprintf(stderr, "lastgasp: %s: %s\n", label, first);
    } else if (!json) {
        for (size_t i = 0; i < md->nwarnings; i++)
            fprintf(stderr, "lastgasp: %s: warning: %s\n", label, md->warnings[i]);
        if (md->warnings_dropped)
            fprintf(stderr, "lastgasp: %s: warning: %zu more warnings not kept\n", label, md->warnings_dropped);
    }
    if (dbg_apply(md) != 0) /* file:line from debug info; the dump as it is when memory runs out */
        fprintf(stderr, "lastgasp: %s: out of memory looking up debug info\n", label);
    int rc = how == OUT_JSON ? render_json(stdout, md)
             : how == OUT_HTML ? render_html(stdout, md) : render_show(stdout, md);
    if (rc != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "lastgasp: %s: could not write the report\n", label);
        status = 1;
    }
    return status;
}

static int render_bundle(enum out how, const char *path)
{
    struct bundle b;
    char err[600];
    int status;

    if (bundle_open(&b, path, err, sizeof err) != 0) {
        fprintf(stderr, "lastgasp: %s: %s\n", path, err);
        status = 1;
    } else {
        status = how == OUT_JSON ? bundle_json(stdout, path, &b)
                 : how == OUT_HTML ? bundle_html(stdout, path, &b) : bundle_show(stdout, path, &b);
        if (status < 0 || fflush(stdout) != 0)
            fprintf(stderr, "lastgasp: %s: could not write the report\n", path);
        status = status != 0;
    }
    bundle_close(&b);
    return status;
}

int cli_show(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *name = argv[0], *label;
    enum out how = strcmp(name, "json") == 0 ? OUT_JSON : strcmp(name, "html") == 0 ? OUT_HTML : OUT_SHOW;
    struct mdr_dump md;
    char err[600];
    int c, status;

    cli_opts_start();
    if ((c = cli_next_opt(name, argc, argv, "", longopts)) != -1)
        return c == CLI_HELP ? 0 : CLI_USAGE; /* -h is the only option */
    if (cli_operands(name, argc - optind, 1, 1, "FILE", argv + optind))
        return CLI_USAGE;
    const char *why;
    if (dbg_check_env(&why) != 0) { /* asked for what this build lacks: a build without DWARF (musl) */
        fprintf(stderr, "lastgasp %s: %s\n", name, why);
        return 1;
    }
    switch (cli_open_input(argv[optind], &md, &label, err, sizeof err)) {
    case CLI_INPUT_BUNDLE:
        return render_bundle(how, argv[optind]);
    case CLI_INPUT_FAILED:
        fprintf(stderr, "lastgasp: %s: %s\n", label, err);
        return 1;
    case CLI_INPUT_DUMP:
        break;
    }
    status = render(how, label, &md);
    mdr_close(&md);
    return status;
}
