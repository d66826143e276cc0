/* tempusd's command line, as chronyd's (getopt string "46df:F:hl:L:mnpP:qQrRst:u:Uvx";
 * ../shared/spec/chronyd-chronyc-cli.md §1.1). Options may be mixed with directives (GNU
 * getopt permutes); "--" ends the options; --help/--version are recognised anywhere first.
 * Pure: argv in, struct out; main() acts on it. */
#ifndef TEMPUS_DAEMON_OPTIONS_H
#define TEMPUS_DAEMON_OPTIONS_H

#include <stddef.h>

#define OPTIONS_MAX_DIRECTIVES 64

struct options {
    int family;            /* -4 / -6: 4 or 6; 0 = both */
    int debug;             /* -d count: foreground, log to stderr */
    int nofork;            /* -n (also set by -d, -q, -Q, -p) */
    const char *conf_file; /* -f FILE; NULL = default */
    const char *log_file;  /* -l FILE */
    int log_level;         /* -L 0..3 (0 info, 1 warning, 2 error, 3 fatal) */
    int print_config;      /* -p */
    int oneshot;           /* 0, 'q' (set clock once) or 'Q' (print offset only) */
    int reload_dump;       /* -r */
    int restart;           /* -R */
    int set_from_rtc;      /* -s */
    int timeout_s;         /* -t SEC; -1 = none */
    const char *user;      /* -u USER; NULL = the user directive or the default */
    int no_root_check;     /* -U */
    int scfilter;          /* -F LEVEL (-2..2) */
    int sched_priority;    /* -P PRIO */
    int mlock;             /* -m */
    int no_clock_control;  /* -x (also implied by -Q) */
    int help;              /* -h / --help */
    int version;           /* -v / --version */
    /* Non-option arguments: each one config line (then no config file is read). Borrowed
     * from argv. */
    const char *directives[OPTIONS_MAX_DIRECTIVES];
    int n_directives;
};

/* Parses argv. Returns 0, or -1 with a chronyd-like message in err ("invalid option -- 'z'",
 * "option requires an argument -- 'f'", "Invalid ... "); main() then prints usage, exits 1. */
int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);

/* Writes tempusd's usage text (chronyd's, with tempusd's name) into buf. */
void options_usage(char *buf, size_t len);

#endif
