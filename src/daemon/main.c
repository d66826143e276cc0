/* tempusd: command line and start-up. Wiring only; the work is done in core/ and os/. */
#include "tempus_config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "daemon/conf.h"
#include "daemon/conf_files.h"
#include "daemon/conf_print.h"
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

    conf_files_env(&env);
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
        printf("tempusd (tempus) version %s (+CMDMON +NTP -REFCLOCK -RTC -PRIVDROP -SCFILTER "
               "-SIGND -ASYNCDNS -NTS -SECHASH +IPV6 -DEBUG)\n",
               TEMPUS_VERSION);
        return 0;
    }
    if (o.help) {
        options_usage(text, sizeof text);
        fputs(text, stdout);
        return 0;
    }

    log_set_sink(stderr_sink, NULL);
    log_set_min_level(o.print_config ? LOG_LEVEL_WARN : LOG_LEVEL_INFO);
    conf_init(&c);
    int r = load_config(&o, &c);
    if (r < 0 || o.print_config) {
        conf_free(&c);
        return r < 0 ? 1 : 0;
    }

    /* The daemon runtime (sockets, engine, control) is wired here. */
    log_error("Fatal error : the daemon runtime is not implemented yet (use -p)");
    conf_free(&c);
    return 1;
}
