/* help.c — what `lastgasp --help` and `lastgasp SUB --help` print, and what the man page says (man/mkman.c
 * makes build/lastgasp.1 from this table alone, so the two cannot drift; tests/crash/test_cli.py checks that
 * every --help text is in the rendered page).
 *
 * Normal context: the command-line tool, and the man page generator at build time. Plain ASCII only.
 */
#include "cli.h"

#include <string.h>

static const struct cli_option help_only[] = {
    {"-h, --help", "print this help and exit"},
    {NULL, NULL},
};

static const struct cli_option top_options[] = {
    {"-h, --help", "print this help and exit"},
    {"--version", "print the version of lastgasp and exit"},
    {NULL, NULL},
};

#define FILE_TEXT                                                                                               \
    "FILE is a dump, a bundle made by lastgasp collect, BUNDLE.zip:NAME.dmp (one dump of a bundle), or - for a " \
    "dump on standard input; a pipe or process substitution, <(zcat x.dmp.gz), works as a path."

/* The static musl tool (make LIBC=musl, which defines LASTGASP_NO_DWARF) links formats/debuginfo/none/debuginfo.c:
 * its help and man page say what it does instead. */
#ifndef LASTGASP_NO_DWARF
#define DEBUGINFO_TEXT                                                                                           \
    "C frames get file:line and inlined frames from DWARF found by the module's build-id: in the module's file, " \
    "in /usr/lib/debug/.build-id/, or from the debuginfod servers of DEBUGINFOD_URLS. LASTGASP_DEBUGINFOD=off "  \
    "keeps it off the network, LASTGASP_DEBUGINFOD_TIMEOUT (seconds, default 20) bounds all its queries, "       \
    "LASTGASP_DEBUGINFO=off shows the dump exactly as written."
#define SHOW_EXIT_NO_DWARF ""
#else
#define DEBUGINFO_TEXT                                                                                           \
    "This build (the static musl tool) reads no DWARF: C frames have no file:line or inlined frames from debug " \
    "info, and every module says \"not in this build\" where the glibc tool says where its lines came from. "     \
    "LASTGASP_DEBUGINFO=off shows the dump exactly as written (as the glibc tool does); LASTGASP_DEBUGINFO=on "    \
    "is refused."
#define SHOW_EXIT_NO_DWARF " 1 also when LASTGASP_DEBUGINFO=on asks for DWARF, which this build lacks."
#endif

#define SHOW_EXIT                                                                                                \
    "0 the dump was rendered (even with warnings, which go to stderr); 1 a file could not be read or is not a "  \
    "minidump, a bundle was refused or one of its dumps could not be read, or the output could not be written; " \
    "2 a usage error." SHOW_EXIT_NO_DWARF

static const struct cli_option collect_options[] = {
    {"-o, --output=BUNDLE.zip", "the bundle to write (required); an existing file is never replaced"},
    {"--remove", "remove each collected dump once the bundle is complete and verified, if it is still the "
                 "file that was read"},
    {"--with-binaries", "add each module file whose build-id on disk is the one a dump recorded, under "
                        "binaries/BUILD-ID/"},
    {"-h, --help", "print this help and exit"},
    {NULL, NULL},
};

static const struct cli_option upload_options[] = {
    {"--as=auto|event|minidump", "what a dump is sent as (default auto): auto sends a Go dump to a "
                                 "Sentry-style server (a DSN, a .../api/N/minidump/ URL) as the server's own event "
                                 "(a Sentry envelope: the Go crash as an event, the dump attached), and any other "
                                 "dump, or any dump to another server, as a minidump; event always sends an event "
                                 "(to the URL as given when it is not Sentry-style); minidump always the minidump "
                                 "upload"},
    {"--field=NAME=VALUE", "add or replace a form field (repeatable; set last, so it wins)"},
    {"--gzip, --no-gzip", "send the body gzip'd or not; the default is on for DSNs and Sentry, Bugsink and "
                          "Backtrace minidump URLs, off for anything else"},
    {"--max-time=SECONDS", "bound each dump's tries to this long, 1 to 86400 (default 120)"},
    {"--tries=N", "try each dump at most N times, 1 to 100 (default 5)"},
    {"-h, --help", "print this help and exit"},
    {NULL, NULL},
};

static const struct cli_option watch_options[] = {
    {"--upload=URL|DSN", "upload each dump, as lastgasp upload does"},
    {"--bundle-dir=OUT", "pack dumps into OUT/lastgasp-HOST-TIME-PID-N.zip, as lastgasp collect does; with "
                         "--upload too, each dump is uploaded, then bundled"},
    {"--keep", "move each shipped dump to DIR/shipped/ instead of removing it"},
    {"--rescan=S", "look at DIR every S seconds even when inotify says nothing (default 30)"},
    {"--bundle-every=S", "make at most one bundle every S seconds (default 60)"},
    {"--max-dumps=N", "keep at most N unshipped dumps, the oldest dropped first (default 1000)"},
    {"--max-spool-mb=N", "keep at most N MiB of unshipped dumps (default 512)"},
    {"--max-backoff=S", "wait at most S seconds between tries while the server fails (default 300)"},
    {"--state=FILE", "where the counts are kept across restarts (default DIR/.lastgasp-watch.state)"},
    {"--gzip, --no-gzip", "as for lastgasp upload"},
    {"--field=NAME=VALUE", "as for lastgasp upload (repeatable)"},
    {"--as=auto|event|minidump", "as for lastgasp upload (default auto: Go dumps as events to Sentry-style "
                                 "servers)"},
    {"-h, --help", "print this help and exit"},
    {NULL, NULL},
};

static const struct cli_option pprof_options[] = {
    {"-o, --output=FILE", "write the profile to FILE (mode 0600, under a temporary name renamed when complete) "
                          "instead of standard output, which must then not be a terminal"},
    {"-h, --help", "print this help and exit"},
    {NULL, NULL},
};

const struct cli_help cli_helps[] = {
    {
        .name = "",
        .synopsis = {"COMMAND [OPTIONS] [ARGUMENTS]", "COMMAND --help", "--version"},
        .summary = "Read, bundle and ship the crash dumps that the lastgasp library writes.",
        .body = "Commands:",
        .options = top_options,
        .exit_status = "0 success, 2 a usage error (no command, an unknown command or option); each command "
                       "documents its own.",
    },
    {
        .name = "show",
        .synopsis = {"[--] FILE"},
        .summary = "Print a crash report for a person: the crash, the threads and goroutines with their "
                   "symbolized frames, the modules.",
        .body = FILE_TEXT " A bundle is listed one line per dump.\n\n" DEBUGINFO_TEXT,
        .options = help_only,
        .exit_status = SHOW_EXIT,
    },
    {
        .name = "json",
        .synopsis = {"[--] FILE"},
        .summary = "Print the dump as one JSON object (fields in formats/README.md).",
        .body = FILE_TEXT " A bundle prints {\"bundle\", \"dumps\": [{\"name\", \"error\", \"dump\"}]}. The "
                "reader's warnings are in the object, and the first of them on stderr.\n\n" DEBUGINFO_TEXT,
        .options = help_only,
        .exit_status = SHOW_EXIT,
    },
    {
        .name = "html",
        .synopsis = {"[--] FILE > report.html"},
        .summary = "Print one self-contained HTML page (inline style, no script) for a browser.",
        .body = FILE_TEXT " A bundle's page is an index of its dumps, then each dump.\n\n" DEBUGINFO_TEXT,
        .options = help_only,
        .exit_status = SHOW_EXIT,
    },
    {
        .name = "collect",
        .synopsis = {"[--remove] [--with-binaries] -o BUNDLE.zip DIR..."},
        .summary = "Pack the dumps of DIR... into a zip bundle with a manifest.json.",
        .body = "Every complete *.dmp of each directory (not subdirectories, never a dump still being written) "
                "goes into the bundle, which is written under a temporary name, read back and checked, then "
                "renamed into place. A file named *.dmp that is not a minidump is reported on stderr, listed "
                "under skipped in the manifest, and left where it is. A summary line goes to stdout.",
        .options = collect_options,
        .exit_status = "0 every dump is in the bundle (and removed, with --remove); 3 the bundle was written, "
                       "but a file was skipped or not removed, or a binary could not be included; 4 there was "
                       "nothing to collect (no bundle written); 1 no bundle was written; 2 a usage error.",
    },
    {
        .name = "upload",
        .synopsis = {"[OPTIONS] URL|DSN DUMP|BUNDLE..."},
        .summary = "Send dumps to a crash server, Go crashes as the server's own events.",
        .body = "Each dump (each .dmp of each bundle) goes as a Breakpad/Crashpad upload (multipart/form-data, "
                "the dump in upload_file_minidump). A Sentry-style DSN (https://KEY@HOST/PROJECT_ID) is turned "
                "into its minidump endpoint. A connection error, a timeout, HTTP 5xx, 429 or 408 is tried again "
                "after 1, 2, 4... seconds or the server's Retry-After; a refusal (another 4xx) is not repeated. "
                "One line per dump sent goes to stdout (NAME: uploaded (HTTP 200, id ID)); one per dump not "
                "sent to stderr (lastgasp upload: NAME: failed ...).",
        .options = upload_options,
        .exit_status = "0 every dump was accepted; 3 some were; 1 none was (or libcurl could not start); 4 "
                       "there was nothing to send; 2 a usage error (a URL that is neither http nor https, or a "
                       "malformed DSN, among them).",
    },
    {
        .name = "watch",
        .synopsis = {"[OPTIONS] DIR --upload URL|DSN", "[OPTIONS] DIR --bundle-dir OUT"},
        .summary = "Ship each complete dump that is or appears in DIR, as a long-lived sidecar.",
        .body = "Each dump is uploaded (as lastgasp upload) and/or bundled into OUT (as lastgasp collect), then "
                "removed. Dumps wait in DIR while the server is down; over --max-dumps or --max-spool-mb the "
                "oldest are dropped and counted in the state file. What was shipped goes to stdout; what failed, "
                "was refused or dropped, to stderr. SIGTERM or SIGINT: an upload under way gets 5 s to finish, "
                "then watch exits 0.",
        .options = watch_options,
        .exit_status = "0 stopped by SIGTERM or SIGINT; 1 could not start (DIR or OUT not a directory, the "
                       "outbox not made, libcurl could not start); 2 a usage error.",
    },
    {
        .name = "pprof",
        .synopsis = {"[-o FILE] [--] DUMP"},
        .summary = "Write the goroutines of a Go dump as a pprof goroutine profile (profile.proto, gzipped).",
        .body = "One sample per goroutine, labels goroutine, status, wait_reason, crashed, locked_to_thread, "
                "created_by. Read it with:\n\n"
                "  go tool pprof -traces FILE      every goroutine's stack and labels\n"
                "  go tool pprof -top FILE         goroutines per function\n"
                "  go tool pprof -http=:8080 FILE  the web UI\n\n"
                "DUMP is a dump, - for standard input (a pipe or process substitution works as a path too), or "
                "BUNDLE.zip:NAME.dmp, one dump of a bundle.",
        .options = pprof_options,
        .exit_status = "0 written; 1 the dump could not be read, has no Go stream, or the profile could not be "
                       "written; 2 a usage error, or no -o with standard output a terminal.",
    },
};

const size_t cli_nhelps = sizeof cli_helps / sizeof cli_helps[0];

const struct cli_help *cli_help_of(const char *name)
{
    for (size_t i = 0; i < cli_nhelps; i++)
        if (strcmp(cli_helps[i].name, name) == 0)
            return &cli_helps[i];
    return NULL;
}
