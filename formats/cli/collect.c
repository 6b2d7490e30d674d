/* collect.c — `lastgasp collect [--remove] [--with-binaries] -o BUNDLE.zip DIR...`: argv into
 * bundle_collect()'s options (formats/bundle/collect.c does the work and says what each exit status means).
 *
 * Normal context (the `lastgasp` tool).
 */
#include "cli.h"
#include "../bundle/bundle.h"

enum { OPT_REMOVE = 256, OPT_WITH_BINARIES };

int cli_collect(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"remove", no_argument, NULL, OPT_REMOVE},
        {"with-binaries", no_argument, NULL, OPT_WITH_BINARIES},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bundle_collect_options o = {0};
    int c;

    cli_opts_start();
    while ((c = cli_next_opt("collect", argc, argv, "o:", longopts)) != -1) {
        switch (c) {
        case 'o':
            o.output = optarg;
            break;
        case OPT_REMOVE:
            o.remove = 1;
            break;
        case OPT_WITH_BINARIES:
            o.with_binaries = 1;
            break;
        case CLI_HELP:
            return BUNDLE_COLLECT_OK;
        default:
            return BUNDLE_COLLECT_USAGE;
        }
    }
    if (cli_operands("collect", argc - optind, 1, -1, "DIR", NULL))
        return BUNDLE_COLLECT_USAGE;
    if (!o.output)
        return cli_usage_error("collect", "missing option -o BUNDLE.zip");
    o.dirs = argv + optind;
    o.ndirs = (size_t)(argc - optind);
    return bundle_collect(&o);
}
