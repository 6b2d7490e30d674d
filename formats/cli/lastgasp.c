/* lastgasp.c — main() of the `lastgasp` tool: `lastgasp --help`, `--version`, and each subcommand to its
 * parser (cli.h says the conventions every parser keeps; help.c holds what --help and the man page say).
 *
 * Normal context. Exit status: the subcommand's; 0 for --help and --version; CLI_USAGE when no command, an
 * unknown one or an unknown option is given.
 */
#include "cli.h"
#include "../../reporter/lastgasp.h"

#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"show", cli_show},       {"json", cli_show},     {"html", cli_show},   {"collect", cli_collect},
    {"upload", cli_upload},   {"watch", cli_watch},   {"pprof", cli_pprof},
};

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };

    /* Options of lastgasp itself come before the command; "+": the first operand (the command) ends them. */
    cli_opts_start();
    int c = cli_next_opt("", argc, argv, "+", longopts);
    if (c == CLI_HELP)
        return 0;
    if (c == 'V') {
        printf("lastgasp %s\n", LASTGASP_VERSION);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (c != -1)
        return CLI_USAGE;
    if (optind >= argc)
        return cli_usage_error("", "missing command (show, json, html, collect, upload, watch or pprof)");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[optind], commands[i].name) == 0)
            return commands[i].run(argc - optind, argv + optind);
    return cli_usage_error("", "unknown command %s", argv[optind]);
}
