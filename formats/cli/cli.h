/* cli.h — the `lastgasp` command line: every argv parser of the tool, and the help texts from which both
 * `--help` and the man page (build/lastgasp.1, made by man/mkman.c) are printed.
 *
 * Normal context: the command-line tool only. Each subcommand's parser (show.c, collect.c, upload.c, watch.c,
 * pprof.c) turns argv into the options of a library that takes no argv (formats/bundle/, formats/ship/,
 * formats/pprof/) and returns that library's exit status. The conventions, written once in opts.c:
 * getopt_long, so `--opt=value` and `--opt value`, options before or after operands, `--` ends the options;
 * `-h`/`--help` on every subcommand (usage on stdout, exit 0); a usage error names the problem on stderr,
 * `lastgasp SUB: unknown option --foo`, with a one-line hint, and exits CLI_USAGE, as every usage error of the
 * tool always has. Data goes to stdout, diagnostics to stderr.
 */
#ifndef LASTGASP_CLI_H
#define LASTGASP_CLI_H

#include <getopt.h>
#include <stdio.h>

#define CLI_USAGE 2 /* every subcommand's usage error */

/* ---- help.c: the texts. Plain ASCII; paragraphs are filled by the printer (usage.c) and by groff. ---- */

struct cli_option {
    const char *flags;       /* "-o, --output=FILE", as shown */
    const char *text;        /* one paragraph */
};

struct cli_help {
    const char *name;        /* "show"; "" for lastgasp itself (the first entry) */
    const char *synopsis[4]; /* what follows "lastgasp NAME " on each usage line; NULL-terminated */
    const char *summary;     /* one sentence: the first of --help, and the command list of `lastgasp --help` */
    /* Paragraphs, separated by "\n\n". A paragraph whose every line starts with two spaces is shown as it
     * is (examples); any other is one line of text, filled to the width. */
    const char *body;
    const struct cli_option *options; /* ends with {NULL, NULL} */
    const char *exit_status; /* one paragraph, after "Exit status: " */
};

extern const struct cli_help cli_helps[];
extern const size_t cli_nhelps;

/* The entry of a subcommand ("" for lastgasp itself), or NULL. */
const struct cli_help *cli_help_of(const char *name);

/* ---- usage.c ---- */

/* The whole --help text of h, to f. */
void cli_print_help(FILE *f, const struct cli_help *h);
/* A usage error of `lastgasp NAME` ("" for lastgasp itself): "lastgasp NAME: WHAT" and the hint to run
 * --help, on stderr. Returns CLI_USAGE. */
int cli_usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- opts.c: getopt_long with the conventions above ---- */

/* The next option of argv, as getopt_long returns it (shortopts without the ':', which this adds; "+..." stops at
 * the first operand), but
 * with -h/--help answered here and every error reported here: returns -1 at the end of the options, CLI_HELP
 * after printing the help on stdout, CLI_BAD after printing a usage error, else the option's value. After -1,
 * argv[optind..argc) are the operands. Call cli_opts_start() first. */
enum { CLI_HELP = 0x10000, CLI_BAD = 0x10001 };
void cli_opts_start(void);
int cli_next_opt(const char *name, int argc, char **argv, const char *shortopts, const struct option *longopts);
/* `--opt VALUE`: a number in [lo, hi], else a usage error (returns -1 after printing it). */
int cli_number(const char *name, const char *opt, const char *value, double lo, double hi, double *out);
/* Operand count check: CLI_USAGE after "missing argument WHAT" / "too many arguments (ARG)", else 0. */
int cli_operands(const char *name, int have, int min, int max, const char *what, char **extra);

/* ---- input.c: what a FILE argument of show, json, html and pprof names ---- */

struct mdr_dump;

enum cli_input {
    CLI_INPUT_DUMP,          /* md is open (and owns its bytes) */
    CLI_INPUT_BUNDLE,        /* a bundle file at the path given (md untouched) */
    CLI_INPUT_FAILED,        /* err says why; md released */
};

/* Open arg as a dump: `-` reads standard input, a pipe or device (process substitution) is read into memory
 * (never looked at twice), BUNDLE.zip:NAME.dmp reads one dump of a bundle (the bundle is the longest prefix
 * before a ':' that is a file), a regular file starting like a zip is a bundle. *label is what to call it in
 * messages ("standard input" for -). */
enum cli_input cli_open_input(const char *arg, struct mdr_dump *md, const char **label, char *err,
                              size_t errlen);

/* ---- the subcommands: argv after "lastgasp", argv[0] the subcommand's name; the exit status ---- */

int cli_show(int argc, char **argv);    /* show, json, html */
int cli_collect(int argc, char **argv);
int cli_upload(int argc, char **argv);
int cli_watch(int argc, char **argv);
int cli_pprof(int argc, char **argv);

#endif
