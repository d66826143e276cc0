/* tempusd: command line and start-up. Wiring only; the work is done in core/ and os/. */
#include "tempus_config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "daemon/conf.h"
#include "daemon/conf_files.h"
#include "daemon/conf_print.h"
#include "daemon/daemon.h"
#include "daemon/options.h"

/* chronyd's stderr format: "2026-11-25T17:12:15Z message". */
static void stderr_sink(void *ctx, enum log_level level, const char *msg)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    (void)ctx;
    (void)level;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s %s\n", stamp, msg);
}

/* Reads the configuration: the directives given as arguments (then no file is read, as
 * chronyd does), else the file (-f, default /etc/tempus.conf). With -p prints what was read
 * (up to and including a bad line, as chronyd -p). On error logs it and returns -1. */
static int load_config(const struct options *o, struct conf *c)
{
    struct conf_env env;
    struct conf_error err;
    int r;

    conf_files_env(&env, o->family);
    if (o->n_directives > 0)
        r = conf_parse_args(c, &env, o->n_directives, (const char *const *)o->directives, &err);
    else
        r = conf_parse_file(c, &env, o->conf_file != NULL ? o->conf_file : CONF_DEFAULT_FILE, &err);
    if (o->print_config)
        conf_print_lines(c, stdout);
    if (r < 0)
        log_error("Fatal error : %s", err.msg);
    return r;
}

int main(int argc, char **argv)
{
    struct options o;
    struct conf c;
    char text[2048];

    if (options_parse(argc, argv, &o, text, sizeof text) < 0) {
        fprintf(stderr, "%s\n", text);
        options_usage(text, sizeof text);
        fputs(text, stderr);
        return 1;
    }
    if (o.version) {
        printf("tempusd (tempus) version %s (%s)\n", TEMPUS_VERSION, DAEMON_FEATURES);
        return 0;
    }
    if (o.help) {
        options_usage(text, sizeof text);
        fputs(text, stdout);
        return 0;
    }

    /* chronyd's order: root check, detach, log, configuration (-U skips the check; -p and
     * -Q need no root). */
    if (!o.no_root_check && !o.print_config && o.oneshot != 'Q' && geteuid() != 0) {
        stderr_sink(NULL, LOG_LEVEL_ERR, "Fatal error : Not superuser");
        return 1;
    }
    if (o.print_config) {
        log_set_sink(stderr_sink, NULL);
        log_set_min_level(LOG_LEVEL_WARN);
    } else {
        /* stderr with -d and in the one-shot modes, -l FILE, else syslog; -L level. */
        daemon_setup_logging(o.debug || o.oneshot, o.log_file, o.log_level);
        if (!o.nofork)
            daemon_detach();
    }
    conf_init(&c);
    int r = load_config(&o, &c);
    if (r < 0 || o.print_config) {
        conf_free(&c);
        daemon_detach_finish();
        return r < 0 ? 1 : 0;
    }

    r = daemon_run(&o, &c);
    conf_free(&c);
    daemon_detach_finish();
    return r;
}
