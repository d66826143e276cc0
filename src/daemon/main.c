/* tempusd: command line and start-up. Wiring only; the work is done in core/ and os/. */
#include "tempus_config.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "Usage: tempusd [OPTION]... [DIRECTIVE]...\n\n"
                 "Options:\n"
                 "  -f FILE\tSpecify configuration file (/etc/tempus.conf)\n"
                 "  -p\t\tPrint configuration and exit\n"
                 "  -v, --version\tPrint version and exit\n"
                 "  -h, --help\tPrint usage and exit\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--version")) {
            printf("tempusd (tempus) version %s (+CMDMON +NTP -REFCLOCK -RTC -PRIVDROP -SCFILTER "
                   "-SIGND -ASYNCDNS -NTS -SECHASH +IPV6 -DEBUG)\n",
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
