/* lastgasp.c — the `lastgasp` command: render a dump for a person (show, html) or a tool (json); pack dumps
 * into a zip bundle (collect).
 *
 * Normal context. A thin main(): parsing lives in formats/read/, rendering in formats/render/ (so the
 * fuzzer exercises exactly what this command runs), bundles in formats/bundle/. Exit status of show, json, html:
 * 0 when the dump rendered (even with warnings), 1 when a file could not be read or is not a minidump (or a
 * bundle was refused, or one of its dumps could not be read), 2 for a usage error. collect: see bundle.h.
 * upload and watch (sending dumps to a crash server) live in formats/ship/.
 */
#include "../bundle/bundle.h"
#include "../debuginfo/debuginfo.h"
#include "../read/mdread.h"
#include "../pprof/pprof.h"
#include "../render/render.h"
#include "../ship/ship.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: lastgasp show FILE   print a crash report for a person\n"
    "       lastgasp json FILE   print the dump as one JSON object\n"
    "       lastgasp html FILE   print one self-contained HTML page (lastgasp html FILE > report.html)\n"
    "       lastgasp collect DIR... -o BUNDLE.zip [--remove] [--with-binaries]\n"
    "                            pack the dumps of DIR... into a zip bundle with a manifest.json\n"
    "       lastgasp upload URL|DSN DUMP|BUNDLE...   send dumps to a crash server, Go crashes as the server's\n"
    "                            own events (upload --help: --as auto|event|minidump)\n"
    "       lastgasp watch DIR --upload URL|DSN [--bundle-dir OUT]   ship new dumps as they come (watch --help)\n"
    "       lastgasp pprof DUMP [-o FILE]   the goroutines as a pprof goroutine profile (pprof --help)\n"
    "       lastgasp --help      print this help\n"
    "FILE is a dump, a bundle (show lists its dumps, json and html print them all), or BUNDLE.zip:NAME.dmp.\n"
    "collect exits 0 when every dump is in the bundle, 3 when some file was skipped or not removed\n"
    "or a binary (--with-binaries) could not be included, 4 when there was nothing to collect, 1 when\n"
    "no bundle was written.\n";

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

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* BUNDLE.zip:NAME.dmp — the bundle is the longest prefix before a ':' that is a file (paths may hold ':'). */
static int show_entry(enum out how, const char *arg)
{
    char *path = strdup(arg), err[600];
    char *colon = path ? strrchr(path, ':') : NULL;
    struct bundle b;
    struct mdr_dump md;
    uint8_t *buf;
    size_t len;
    int status = 1;

    while (colon) {
        *colon = '\0';
        if (is_file(path))
            break;
        char *prev = strrchr(path, ':');
        *colon = ':';
        colon = prev;
    }
    if (!colon) {
        fprintf(stderr, "lastgasp: %s: no such file, and no BUNDLE:ENTRY whose bundle exists\n", arg);
        free(path);
        return 1;
    }
    if (bundle_open(&b, path, err, sizeof err) != 0) {
        fprintf(stderr, "lastgasp: %s: %s\n", path, err);
    } else if (bundle_read(&b, colon + 1, &buf, &len, err, sizeof err) != 0) {
        fprintf(stderr, "lastgasp: %s: %s\n", path, err);
    } else {
        int rc = mdr_open(&md, buf, len, err, sizeof err);
        md.owned = buf;
        if (rc != MDR_OK)
            fprintf(stderr, "lastgasp: %s: %s\n", arg, err);
        else
            status = render(how, arg, &md);
        mdr_close(&md);
    }
    bundle_close(&b);
    free(path);
    return status;
}

static int show(enum out how, const char *path)
{
    struct mdr_dump md;
    char err[600];
    int status;

    if (!is_file(path) && strchr(path, ':'))
        return show_entry(how, path);
    if (bundle_is_zip(path)) {
        struct bundle b;
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
    if (mdr_open_file(&md, path, err, sizeof err) != MDR_OK) {
        fprintf(stderr, "lastgasp: %s: %s\n", path, err);
        mdr_close(&md);
        return 1;
    }
    status = render(how, path, &md);
    mdr_close(&md);
    return status;
}

static int collect(int argc, char **argv)
{
    struct bundle_collect_options o = {0};
    char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    int bad = 0;

    if (!dirs)
        return BUNDLE_COLLECT_FAILED;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            o.output = argv[++i];
        else if (strcmp(argv[i], "--remove") == 0)
            o.remove = 1;
        else if (strcmp(argv[i], "--with-binaries") == 0)
            o.with_binaries = 1;
        else if (argv[i][0] == '-')
            bad = 1;
        else
            dirs[o.ndirs++] = argv[i];
    }
    if (bad || !o.output || o.ndirs == 0) {
        fputs(usage, stderr);
        free(dirs);
        return BUNDLE_COLLECT_USAGE;
    }
    o.dirs = dirs;
    int status = bundle_collect(&o);
    free(dirs);
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "collect") == 0)
        return collect(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "upload") == 0)
        return ship_upload_main(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "watch") == 0)
        return ship_watch_main(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "pprof") == 0)
        return pprof_main(argc - 2, argv + 2);
    if (argc != 3 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "json") != 0 &&
                      strcmp(argv[1], "html") != 0)) {
        fputs(usage, stderr);
        return 2;
    }
    return show(strcmp(argv[1], "json") == 0 ? OUT_JSON : strcmp(argv[1], "html") == 0 ? OUT_HTML : OUT_SHOW,
                argv[2]);
}
