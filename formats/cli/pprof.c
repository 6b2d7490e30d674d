/* pprof.c — `lastgasp pprof [-o FILE] [--] DUMP`: argv, the dump opened, then pprof_write() (formats/pprof/).
 *
 * Normal context (the `lastgasp` tool). Without -o the profile goes to standard output, unless that is a
 * terminal: binary there helps nobody, and that is refused as a usage error (exit 2), as it always was.
 */
#include "cli.h"
#include "../pprof/pprof.h"
#include "../read/mdread.h"

#include <string.h>
#include <unistd.h>

int cli_pprof(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *dump, *label;
    struct mdr_dump md;
    char err[600];
    int c;

    cli_opts_start();
    while ((c = cli_next_opt("pprof", argc, argv, "o:", longopts)) != -1) {
        if (c != 'o')
            return c == CLI_HELP ? 0 : CLI_USAGE;
        out = optarg;
    }
    if (cli_operands("pprof", argc - optind, 1, 1, "DUMP", argv + optind))
        return CLI_USAGE;
    dump = argv[optind];
    if (!out && isatty(1)) {
        fprintf(stderr, "lastgasp pprof: not writing a gzipped profile to a terminal: give -o FILE, or redirect "
                        "(lastgasp pprof %s > goroutines.pb.gz), then: go tool pprof -traces goroutines.pb.gz\n",
                dump);
        return CLI_USAGE;
    }
    switch (cli_open_input(dump, &md, &label, err, sizeof err)) {
    case CLI_INPUT_BUNDLE:
        fprintf(stderr, "lastgasp pprof: %s: a bundle: name one of its dumps, %s:NAME.dmp (lastgasp show %s lists "
                        "them)\n", dump, dump, dump);
        return 1;
    case CLI_INPUT_FAILED:
        fprintf(stderr, "lastgasp pprof: %s: %s\n", label, err);
        return 1;
    case CLI_INPUT_DUMP:
        break;
    }
    int status = pprof_write(&md, label, out);
    mdr_close(&md);
    return status;
}
