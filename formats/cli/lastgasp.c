/* lastgasp.c — the `lastgasp` command: render a dump for a person (show) or a tool (json).
 *
 * Normal context. A thin main(): parsing lives in formats/mdread*.c, rendering in formats/render*.c, so the
 * fuzzer exercises exactly what this command runs. Exit status: 0 when the dump rendered (even with
 * warnings), 1 when the file could not be read or is not a minidump, 2 for a usage error.
 */
#include "../mdread.h"
#include "../render.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: lastgasp show FILE   print a crash report for a person\n"
    "       lastgasp json FILE   print the dump as one JSON object\n"
    "       lastgasp --help      print this help\n";

int main(int argc, char **argv)
{
    struct fmt_md md;
    char err[512];
    int json, rc, status = 0;
    const char *path;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc != 3 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "json") != 0)) {
        fputs(usage, stderr);
        return 2;
    }
    json = strcmp(argv[1], "json") == 0;
    path = argv[2];
    rc = fmt_md_open_file(&md, path, err, sizeof err);
    if (rc != FMT_MD_OK) {
        fprintf(stderr, "lastgasp: %s: %s\n", path, err);
        fmt_md_close(&md);
        return 1;
    }
    /* show: every warning on stderr, beside the report; json: the warnings are in the object, and stderr gets
     * one line so that a person running a tool still sees that something was wrong. */
    if (json && md.nwarnings) {
        size_t more = md.nwarnings - 1 + md.warnings_dropped;

        if (more)
            fprintf(stderr, "lastgasp: %s: %s (and %zu more warnings, see \"warnings\")\n", path, err, more);
        else
            fprintf(stderr, "lastgasp: %s: %s\n", path, err);
    } else if (!json) {
        for (size_t i = 0; i < md.nwarnings; i++)
            fprintf(stderr, "lastgasp: %s: warning: %s\n", path, md.warnings[i]);
        if (md.warnings_dropped)
            fprintf(stderr, "lastgasp: %s: warning: %zu more warnings not kept\n", path, md.warnings_dropped);
    }
    if ((json ? fmt_render_json(stdout, &md) : fmt_render_show(stdout, &md)) != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "lastgasp: %s: could not write the report\n", path);
        status = 1;
    }
    fmt_md_close(&md);
    return status;
}
