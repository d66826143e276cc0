/* daemon/options: chronyd's command line (see options.h). */
#include "daemon/options.h"
#include "daemon/conf.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Options that take an argument, as in chronyd's getopt string. */
static const char with_arg[] = "fFlLPtu";
static const char flags[] = "46dhmnpqQrRsUvx";

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    if (!s) /* an option's argument missing: not reachable through getopt, refused anyway */
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int apply(struct options *o, char c, const char *arg, char *err, size_t errlen)
{
    switch (c) {
    case '4':
        o->family = 4;
        break;
    case '6':
        o->family = 6;
        break;
    case 'd':
        o->debug++;
        o->nofork = 1;
        break;
    case 'f':
        o->conf_file = arg;
        break;
    case 'F':
        if (parse_int(arg, -2, 2, &o->scfilter)) {
            snprintf(err, errlen, "Bad syscall filter level");
            return -1;
        }
        break;
    case 'h':
        o->help = 1;
        break;
    case 'l':
        o->log_file = arg;
        break;
    case 'L':
        if (parse_int(arg, 0, 3, &o->log_level)) {
            snprintf(err, errlen, "Bad log level");
            return -1;
        }
        break;
    case 'm':
        o->mlock = 1;
        break;
    case 'n':
        o->nofork = 1;
        break;
    case 'p':
        o->print_config = 1;
        o->nofork = 1;
        break;
    case 'P':
        if (parse_int(arg, INT_MIN, INT_MAX, &o->sched_priority)) {
            snprintf(err, errlen, "Bad scheduler priority");
            return -1;
        }
        break;
    case 'q':
    case 'Q':
        o->oneshot = c;
        o->nofork = 1;
        break;
    case 'r':
        o->reload_dump = 1;
        break;
    case 'R':
        o->restart = 1;
        break;
    case 's':
        o->set_from_rtc = 1;
        break;
    case 't':
        if (parse_int(arg, 0, INT_MAX, &o->timeout_s)) {
            snprintf(err, errlen, "Bad timeout");
            return -1;
        }
        break;
    case 'u':
        o->user = arg;
        break;
    case 'U':
        o->no_root_check = 1;
        break;
    case 'v':
        o->version = 1;
        break;
    case 'x':
        o->no_clock_control = 1;
        break;
    default:
        snprintf(err, errlen, "invalid option -- '%c'", c);
        return -1;
    }
    return 0;
}

int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->timeout_s = -1;
    if (errlen)
        err[0] = '\0';
    /* chronyd checks these before getopt, anywhere on the line. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help"))
            o->help = 1;
        else if (!strcmp(argv[i], "--version"))
            o->version = 1;
    }
    if (o->help || o->version)
        return 0;

    int only_directives = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_directives && !strcmp(a, "--")) {
            only_directives = 1;
            continue;
        }
        if (only_directives || a[0] != '-' || a[1] == '\0') {
            if (o->n_directives >= OPTIONS_MAX_DIRECTIVES) {
                snprintf(err, errlen, "Too many directives on the command line");
                return -1;
            }
            o->directives[o->n_directives++] = a;
            continue;
        }
        if (a[1] == '-') {
            snprintf(err, errlen, "unrecognized option '%s'", a);
            return -1;
        }
        /* A cluster of flags (-dx); an option with an argument takes the rest of the word or
         * the next word (-fFILE, -f FILE). */
        for (const char *p = a + 1; *p; p++) {
            if (strchr(with_arg, *p)) {
                const char *arg = p[1] ? p + 1 : (i + 1 < argc ? argv[++i] : NULL);
                if (!arg) {
                    snprintf(err, errlen, "option requires an argument -- '%c'", *p);
                    return -1;
                }
                if (apply(o, *p, arg, err, errlen))
                    return -1;
                break;
            }
            if (!strchr(flags, *p)) {
                snprintf(err, errlen, "invalid option -- '%c'", *p);
                return -1;
            }
            if (apply(o, *p, NULL, err, errlen))
                return -1;
        }
    }
    /* -Q never touches the clock (chronyd: "Disabled control of system clock"). */
    if (o->oneshot == 'Q')
        o->no_clock_control = 1;
    return 0;
}

void options_usage(char *buf, size_t len)
{
    snprintf(buf, len,
             "Usage: tempusd [OPTION]... [DIRECTIVE]...\n"
             "\n"
             "Options:\n"
             "  -4\t\tUse IPv4 addresses only\n"
             "  -6\t\tUse IPv6 addresses only\n"
             "  -f FILE\tSpecify configuration file (%s)\n"
             "  -n\t\tDon't run as daemon\n"
             "  -d\t\tDon't run as daemon and log to stderr\n"
             "  -l FILE\tLog to file\n"
             "  -L LEVEL\tSpecify logging level\n"
             "  -q\t\tSet clock and exit\n"
             "  -Q\t\tLog offset and exit\n"
             "  -r\t\tReload dump files\n"
             "  -R\t\tAdapt configuration for restart\n"
             "  -s\t\tSet clock from RTC\n"
             "  -t SECONDS\tExit after elapsed time\n"
             "  -u USER\tSpecify user (%s)\n"
             "  -U\t\tDon't check for root\n"
             "  -F LEVEL\tSet system call filter level (0)\n"
             "  -P PRIORITY\tSet process priority (0)\n"
             "  -m\t\tLock memory\n"
             "  -x\t\tDon't control clock\n"
             "  -p\t\tPrint configuration and exit\n"
             "  -v, --version\tPrint version and exit\n"
             "  -h, --help\tPrint usage and exit\n",
             CONF_DEFAULT_FILE, CONF_DEFAULT_USER);
}
