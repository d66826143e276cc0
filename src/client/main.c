/* tempusc: chronyc-compatible control client. */
#include "tempus_config.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "Usage: tempusc [OPTION]... [COMMAND]...\n\n"
                 "Options:\n"
                 "  -v, --version\tPrint version and exit\n"
                 "  -h, --help\tPrint usage and exit\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--version")) {
            printf("tempusc (tempus) version %s (+READLINE +SECHASH +IPV6 -DEBUG)\n",
                   TEMPUS_VERSION);
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
