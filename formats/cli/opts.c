/* opts.c — getopt_long for every subcommand, with one way of answering --help and of naming what was wrong.
 *
 * Normal context (the `lastgasp` tool). GNU getopt_long permutes argv, so options may come after operands
 * (`collect DIR -o X.zip`, as the tool always took them) and `--` ends the options; `-` alone is an operand.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cli_opts_start(void)
{
    optind = 0; /* glibc: 0 starts a new scan (argv[0], the subcommand, is skipped) */
    opterr = 0; /* we name the problem ourselves */
}

/* The long option spelled in argv ("--max=3" -> "max"), into name. */
static void long_name(const char *arg, char *name, size_t cap)
{
    snprintf(name, cap, "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
}

/* "--NAME": unknown, ambiguous (a prefix of several), or given a value it does not take (spelled whole or, as
 * getopt_long allows, abbreviated). */
static int bad_long(const char *cmd, const char *arg, const struct option *longopts)
{
    const struct option *hit = NULL;
    char name[128], list[512] = "";
    size_t n = 0, len;
    int matches = 0;

    long_name(arg, name, sizeof name);
    len = strlen(name);
    for (const struct option *o = longopts; o->name && !(hit && strcmp(hit->name, name) == 0); o++) {
        if (strncmp(o->name, name, len) != 0)
            continue;
        hit = o;
        matches++;
        n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s--%s", n ? ", " : "", o->name);
    }
    if (hit && (matches == 1 || strcmp(hit->name, name) == 0) && hit->has_arg == no_argument && strchr(arg, '='))
        return cli_usage_error(cmd, "option --%s takes no argument", hit->name);
    if (matches > 1)
        return cli_usage_error(cmd, "ambiguous option --%s (%s)", name, list);
    return cli_usage_error(cmd, "unknown option --%s", name);
}

int cli_next_opt(const char *cmd, int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    char optstring[64];
    int c;

    /* ':' first (after a '+', which must lead): a missing argument is told apart from an unknown option. */
    int plus = shortopts[0] == '+';
    snprintf(optstring, sizeof optstring, "%s:h%s", plus ? "+" : "", shortopts + plus);
    c = getopt_long(argc, argv, optstring, longopts, NULL);
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    switch (c) {
    case 'h':
        cli_print_help(stdout, cli_help_of(cmd));
        fflush(stdout);
        return CLI_HELP;
    case ':':
        if (strncmp(arg, "--", 2) == 0) {
            char name[128];
            long_name(arg, name, sizeof name);
            cli_usage_error(cmd, "missing argument to --%s", name);
        } else {
            cli_usage_error(cmd, "missing argument to -%c", optopt);
        }
        return CLI_BAD;
    case '?':
        /* An unknown long option leaves optopt 0; a long option that takes no value but got one leaves its
         * value there; an unknown short option, itself. */
        if (strncmp(arg, "--", 2) == 0 && (optopt == 0 || strchr(arg, '=')))
            bad_long(cmd, arg, longopts);
        else
            cli_usage_error(cmd, "unknown option -%c", optopt);
        return CLI_BAD;
    default:
        return c;
    }
}

int cli_number(const char *cmd, const char *opt, const char *value, double lo, double hi, double *out)
{
    char *end;

    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end || !(v >= lo && v <= hi)) {
        cli_usage_error(cmd, "%s: not a number from %g to %g: %s", opt, lo, hi, value);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_operands(const char *cmd, int have, int min, int max, const char *what, char **extra)
{
    if (have < min)
        return cli_usage_error(cmd, "missing argument %s", what);
    if (max >= 0 && have > max)
        return cli_usage_error(cmd, "too many arguments (%s)", extra[max]);
    return 0;
}
