/* tempus-sim: runs a simulator scenario and prints CSV of the true clock error. */
#include "tempus_config.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "Usage: tempus-sim SCENARIO [--seed N | --seeds N]\n"
                 "  -v, --version\tPrint version and exit\n"
                 "  -h, --help\tPrint usage and exit\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--version")) {
            printf("tempus-sim (tempus) version %s\n", TEMPUS_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
    }
    usage(stderr);
    return 1;
}
