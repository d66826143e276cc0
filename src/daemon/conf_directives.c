/* The directive table and every handler but server/pool/peer (conf_sources.c).
 *
 * Number syntax follows chronyd 4.3 because it uses the C library's sscanf() the same way:
 * a one-value directive ("maxupdateskew 1x") reads a leading number and ignores the rest of
 * the word; the values of a multi-value directive must be separated cleanly except the last;
 * option values (local, ratelimit, hwtimestamp) must be whole words. Measured with chronyd -p
 * (docs/design/config.md); the differential test in tests/system/conf holds us to it. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "daemon/conf.h"
#include "daemon/conf_internal.h"

enum kind {
    K_NULL,     /* no arguments: sets an int flag to 1 */
    K_INT,      /* one argument, leading %d */
    K_DOUBLE,   /* one argument, leading %lf */
    K_ULONG,    /* one argument, leading %lu */
    K_STRING,   /* one argument, kept as is */
    K_STRLIST,  /* one argument, appended */
    K_FUNC,     /* handler */
    K_IGNORED,  /* any arguments, silently ignored (dumponexit) */
    K_OBSOLETE, /* any arguments, warned about and ignored */
};

struct directive {
    const char *name;
    enum kind kind;
    size_t off; /* offset of the value in struct conf (K_NULL .. K_STRLIST) */
    int (*fn)(struct conf_parser *P, const char *word, const char *args);
    /* 1 when tempusd acts on it (daemon.c, conf_engine.c). The rest are parsed and stored
     * but draw a warning; flip the flag when the runtime implements one. */
    int implemented;
};

#define OFF(field) offsetof(struct conf, field)

static int word_int(const char *w, int *out)
{
    int n = 0;
    return sscanf(w, "%d%n", out, &n) == 1 && w[n] == '\0' ? 0 : -1;
}

static int word_double(const char *w, double *out)
{
    int n = 0;
    return sscanf(w, "%lf%n", out, &n) == 1 && w[n] == '\0' ? 0 : -1;
}

static int check_args(struct conf_parser *P, const char *word, const char *args, int min, int max)
{
    int n = conf_count_words(args);
    if (n < min)
        return conf_fail(P, "Missing arguments for %s directive", word);
    if (n > max)
        return conf_fail(P, "Too many arguments for %s directive", word);
    return 0;
}

static int set_string(struct conf_parser *P, char **dst, const char *value)
{
    char *s = conf_strdup(value);
    if (s == NULL)
        return conf_fail(P, "Out of memory");
    free(*dst);
    *dst = s;
    return 0;
}

/* ---- handlers ---- */

static int h_makestep(struct conf_parser *P, const char *word, const char *args)
{
    double t;
    int l;
    if (check_args(P, word, args, 2, 2) < 0)
        return -1;
    if (sscanf(args, "%lf %d", &t, &l) != 2)
        return conf_fail_parse(P, word);
    P->c->makestep_set = 1;
    P->c->makestep_threshold_s = t;
    P->c->makestep_limit = l;
    return 0;
}

static int h_maxchange(struct conf_parser *P, const char *word, const char *args)
{
    double o;
    int s, i;
    if (check_args(P, word, args, 3, 3) < 0)
        return -1;
    if (sscanf(args, "%lf %d %d", &o, &s, &i) != 3)
        return conf_fail_parse(P, word);
    P->c->maxchange_set = 1;
    P->c->maxchange_offset_s = o;
    P->c->maxchange_start = s;
    P->c->maxchange_ignore = i;
    return 0;
}

static int h_fallbackdrift(struct conf_parser *P, const char *word, const char *args)
{
    int a, b;
    if (check_args(P, word, args, 2, 2) < 0)
        return -1;
    if (sscanf(args, "%d %d", &a, &b) != 2)
        return conf_fail_parse(P, word);
    P->c->fallbackdrift_min = a;
    P->c->fallbackdrift_max = b;
    return 0;
}

static int h_mailonchange(struct conf_parser *P, const char *word, const char *args)
{
    char addr[CONF_MAX_LINE];
    const char *p = args;
    double t;
    if (check_args(P, word, args, 2, 2) < 0)
        return -1;
    conf_next_word(&p, addr, sizeof addr);
    if (sscanf(p, "%lf", &t) != 1)
        return conf_fail_parse(P, word);
    P->c->mailonchange_threshold_s = t;
    return set_string(P, &P->c->mailonchange_addr, addr);
}

static int h_smoothtime(struct conf_parser *P, const char *word, const char *args)
{
    double f, w;
    char third[32] = "";
    const char *p = args;
    int n = conf_count_words(args);

    if (check_args(P, word, args, 2, 3) < 0)
        return -1;
    if (sscanf(args, "%lf %lf", &f, &w) != 2)
        return conf_fail_parse(P, word);
    if (n == 3) {
        conf_next_word(&p, NULL, 0);
        conf_next_word(&p, NULL, 0);
        conf_next_word(&p, third, sizeof third);
        if (strcasecmp(third, "leaponly") != 0)
            return conf_fail_parse(P, word);
    }
    P->c->smoothtime_set = 1;
    P->c->smoothtime_max_freq_ppm = f;
    P->c->smoothtime_max_wander_ppm_per_s = w;
    P->c->smoothtime_leaponly = n == 3;
    return 0;
}

static int h_tempcomp(struct conf_parser *P, const char *word, const char *args)
{
    char file[CONF_MAX_LINE], points[CONF_MAX_LINE];
    double iv, t0, k0, k1, k2;
    const char *p = args;
    int n = conf_count_words(args);

    if (n < 3 || n == 4 || n == 5)
        return conf_fail(P, "Missing arguments for %s directive", word);
    if (n > 6)
        return conf_fail(P, "Too many arguments for %s directive", word);
    conf_next_word(&p, file, sizeof file);
    if (n == 3) {
        if (sscanf(p, "%lf %2047s", &iv, points) != 2)
            return conf_fail_parse(P, word);
        if (set_string(P, &P->c->tempcomp_points, points) < 0)
            return -1;
    } else {
        if (sscanf(p, "%lf %lf %lf %lf %lf", &iv, &t0, &k0, &k1, &k2) != 5)
            return conf_fail_parse(P, word);
        P->c->tempcomp_t0 = t0;
        P->c->tempcomp_k0 = k0;
        P->c->tempcomp_k1 = k1;
        P->c->tempcomp_k2 = k2;
    }
    P->c->tempcomp_interval_s = iv;
    return set_string(P, &P->c->tempcomp_file, file);
}

static int h_broadcast(struct conf_parser *P, const char *word, const char *args)
{
    char w[3][CONF_MAX_LINE];
    const char *p = args;
    int n = conf_count_words(args);
    struct conf_broadcast b = {0, {0}, 123};

    if (n < 2 || n > 3)
        return conf_fail_parse(P, word);
    for (int i = 0; i < n; i++)
        conf_next_word(&p, w[i], sizeof w[i]);
    if (sscanf(w[0], "%d", &b.interval_s) != 1 || addr_parse(w[1], &b.addr) < 0 ||
        (n == 3 && sscanf(w[2], "%d", &b.port) != 1))
        return conf_fail_parse(P, word);
    struct conf_broadcast *v = realloc(P->c->broadcasts, (P->c->n_broadcasts + 1) * sizeof *v);
    if (v == NULL)
        return conf_fail(P, "Out of memory");
    P->c->broadcasts = v;
    v[P->c->n_broadcasts++] = b;
    return 0;
}

static int h_initstepslew(struct conf_parser *P, const char *word, const char *args)
{
    char host[CONF_MAX_LINE];
    const char *p = args;
    double t;

    if (conf_count_words(args) < 1 || sscanf(args, "%lf", &t) != 1)
        return conf_fail_parse(P, word);
    conf_next_word(&p, NULL, 0);
    conf_strings_free(&P->c->initstepslew_hosts); /* each occurrence replaces the list */
    while (conf_next_word(&p, host, sizeof host) == 0) {
        if (conf_strings_add(&P->c->initstepslew_hosts, host) < 0)
            return conf_fail(P, "Out of memory");
    }
    P->c->initstepslew_set = 1;
    P->c->initstepslew_threshold_s = t;
    return 0;
}

static int h_hwtimestamp(struct conf_parser *P, const char *word, const char *args)
{
    char iface[CONF_MAX_LINE], opt[64], val[CONF_MAX_LINE];
    const char *p = args;
    struct conf_hwtimestamp h = {NULL, 0, 2, 16, 100e-9, 0, 0, 0, CONF_RXFILTER_ANY};

    if (conf_next_word(&p, iface, sizeof iface) < 0)
        return conf_fail_parse(P, word);
    while (conf_next_word(&p, opt, sizeof opt) == 0) {
        int *ip = NULL;
        double *dp = NULL;
        if (strcasecmp(opt, "nocrossts") == 0) {
            h.nocrossts = 1;
            continue;
        }
        if (strcasecmp(opt, "minpoll") == 0)
            ip = &h.minpoll;
        else if (strcasecmp(opt, "minsamples") == 0)
            ip = &h.min_samples;
        else if (strcasecmp(opt, "maxsamples") == 0)
            ip = &h.max_samples;
        else if (strcasecmp(opt, "precision") == 0)
            dp = &h.precision_s;
        else if (strcasecmp(opt, "txcomp") == 0)
            dp = &h.tx_comp_s;
        else if (strcasecmp(opt, "rxcomp") == 0)
            dp = &h.rx_comp_s;
        else if (strcasecmp(opt, "rxfilter") != 0)
            return conf_fail_parse(P, word);
        if (conf_next_word(&p, val, sizeof val) < 0)
            return conf_fail_parse(P, word);
        if (ip != NULL) {
            if (word_int(val, ip) < 0)
                return conf_fail_parse(P, word);
        } else if (dp != NULL) {
            if (word_double(val, dp) < 0)
                return conf_fail_parse(P, word);
        } else if (strcasecmp(val, "all") == 0) {
            h.rxfilter = CONF_RXFILTER_ALL;
        } else if (strcasecmp(val, "ntp") == 0) {
            h.rxfilter = CONF_RXFILTER_NTP;
        } else if (strcasecmp(val, "ptp") == 0) {
            h.rxfilter = CONF_RXFILTER_PTP;
        } else if (strcasecmp(val, "none") == 0) {
            h.rxfilter = CONF_RXFILTER_NONE;
        } else {
            return conf_fail_parse(P, word);
        }
    }
    struct conf_hwtimestamp *v =
        realloc(P->c->hwtimestamps, (P->c->n_hwtimestamps + 1) * sizeof *v);
    if (v == NULL || (h.iface = conf_strdup(iface)) == NULL) {
        if (v != NULL)
            P->c->hwtimestamps = v;
        return conf_fail(P, "Out of memory");
    }
    P->c->hwtimestamps = v;
    v[P->c->n_hwtimestamps++] = h;
    return 0;
}

static int parse_ratelimit(struct conf_parser *P, const char *word, const char *args,
                           struct conf_ratelimit *rl)
{
    char opt[64], val[CONF_MAX_LINE];
    const char *p = args;
    struct conf_ratelimit r = *rl;

    while (conf_next_word(&p, opt, sizeof opt) == 0) {
        int *dst;
        if (strcasecmp(opt, "interval") == 0)
            dst = &r.interval;
        else if (strcasecmp(opt, "burst") == 0)
            dst = &r.burst;
        else if (strcasecmp(opt, "leak") == 0)
            dst = &r.leak;
        else if (strcasecmp(opt, "kod") == 0 && rl == &P->c->ratelimit)
            dst = &r.kod; /* tempus extension (chrony 4.3 has no kod) */
        else
            return conf_fail_parse(P, word);
        if (conf_next_word(&p, val, sizeof val) < 0 || word_int(val, dst) < 0)
            return conf_fail_parse(P, word);
    }
    r.enabled = 1;
    *rl = r;
    return 0;
}

static int h_ratelimit(struct conf_parser *P, const char *word, const char *args)
{
    return parse_ratelimit(P, word, args, &P->c->ratelimit);
}

static int h_cmdratelimit(struct conf_parser *P, const char *word, const char *args)
{
    return parse_ratelimit(P, word, args, &P->c->cmdratelimit);
}

static int h_ntsratelimit(struct conf_parser *P, const char *word, const char *args)
{
    return parse_ratelimit(P, word, args, &P->c->ntsratelimit);
}

static int h_local(struct conf_parser *P, const char *word, const char *args)
{
    char opt[64], val[CONF_MAX_LINE];
    const char *p = args;
    int stratum = 10, orphan = 0;
    double distance = 1.0, activate = 0.0, waitsynced = 0.0, waitunsynced = 0.0;

    while (conf_next_word(&p, opt, sizeof opt) == 0) {
        if (strcasecmp(opt, "orphan") == 0) {
            orphan = 1;
        } else if (strcasecmp(opt, "stratum") == 0) {
            if (conf_next_word(&p, val, sizeof val) < 0 || word_int(val, &stratum) < 0 ||
                stratum < 1 || stratum > 15)
                return conf_fail_parse(P, word);
        } else if (strcasecmp(opt, "distance") == 0) {
            if (conf_next_word(&p, val, sizeof val) < 0 || word_double(val, &distance) < 0)
                return conf_fail_parse(P, word);
        } else if (strcasecmp(opt, "activate") == 0 || strcasecmp(opt, "waitsynced") == 0 ||
                   strcasecmp(opt, "waitunsynced") == 0) {
            /* chrony 4.6's activate and 4.7's waitsynced/waitunsynced (seconds >= 0) */
            double v;
            if (conf_next_word(&p, val, sizeof val) < 0 || word_double(val, &v) < 0 || v < 0.0)
                return conf_fail_parse(P, word);
            *(opt[0] == 'a' || opt[0] == 'A'   ? &activate
              : opt[4] == 's' || opt[4] == 'S' ? &waitsynced
                                               : &waitunsynced) = v;
        } else {
            return conf_fail_parse(P, word);
        }
    }
    P->c->local_enabled = 1;
    P->c->local_stratum = stratum;
    P->c->local_orphan = orphan;
    P->c->local_distance_s = distance;
    P->c->local_activate_s = activate;
    P->c->local_waitsynced_s = waitsynced;
    P->c->local_waitunsynced_s = waitunsynced;
    return 0;
}

static int h_leapsecmode(struct conf_parser *P, const char *word, const char *args)
{
    static const char *const names[] = {"system", "step", "slew", "ignore"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(args, names[i]) == 0) {
            P->c->leapsecmode = (enum conf_leapsec_mode)i;
            return 0;
        }
    }
    return conf_fail_parse(P, word);
}

static int h_authselectmode(struct conf_parser *P, const char *word, const char *args)
{
    static const char *const names[] = {"mix", "require", "prefer", "ignore"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(args, names[i]) == 0) {
            P->c->authselectmode = (enum conf_authselect_mode)i;
            return 0;
        }
    }
    return conf_fail_parse(P, word);
}

/* bindaddress/bindacqaddress: an address literal, one kept per family. */
static int parse_bind(struct conf_parser *P, const char *word, const char *args, struct addr *v4,
                      struct addr *v6)
{
    struct addr a;
    if (check_args(P, word, args, 1, 1) < 0)
        return -1;
    if (addr_parse(args, &a) < 0)
        return conf_fail_parse(P, word);
    *(a.family == ADDR_INET4 ? v4 : v6) = a;
    return 0;
}

static int h_bindaddress(struct conf_parser *P, const char *word, const char *args)
{
    return parse_bind(P, word, args, &P->c->bindaddress4, &P->c->bindaddress6);
}

static int h_bindacqaddress(struct conf_parser *P, const char *word, const char *args)
{
    return parse_bind(P, word, args, &P->c->bindacqaddress4, &P->c->bindacqaddress6);
}

static int h_bindcmdaddress(struct conf_parser *P, const char *word, const char *args)
{
    if (check_args(P, word, args, 1, 1) < 0)
        return -1;
    if (args[0] == '/')
        return set_string(P, &P->c->bindcmdpath, strcmp(args, "/") == 0 ? "" : args);
    return parse_bind(P, word, args, &P->c->bindcmdaddress4, &P->c->bindcmdaddress6);
}

static int h_ntstrustedcerts(struct conf_parser *P, const char *word, const char *args)
{
    char first[CONF_MAX_LINE];
    const char *p = args;
    struct conf_ntscert cert = {0, NULL};

    if (check_args(P, word, args, 1, 2) < 0)
        return -1;
    if (conf_count_words(args) == 2) {
        conf_next_word(&p, first, sizeof first);
        if (sscanf(first, "%" SCNu32, &cert.set_id) != 1)
            return conf_fail_parse(P, word);
    }
    struct conf_ntscert *v =
        realloc(P->c->ntstrustedcerts, (P->c->n_ntstrustedcerts + 1) * sizeof *v);
    if (v == NULL)
        return conf_fail(P, "Out of memory");
    P->c->ntstrustedcerts = v;
    if ((cert.path = conf_strdup(p)) == NULL)
        return conf_fail(P, "Out of memory");
    v[P->c->n_ntstrustedcerts++] = cert;
    return 0;
}

static int h_log(struct conf_parser *P, const char *word, const char *args)
{
    static const struct {
        const char *name;
        int flag;
    } opts[] = {
        {"rawmeasurements", CONF_LOG_RAWMEASUREMENTS},
        {"measurements", CONF_LOG_MEASUREMENTS},
        {"statistics", CONF_LOG_STATISTICS},
        {"tracking", CONF_LOG_TRACKING},
        {"rtc", CONF_LOG_RTC},
        {"refclocks", CONF_LOG_REFCLOCKS},
        {"tempcomp", CONF_LOG_TEMPCOMP},
        {"selection", CONF_LOG_SELECTION},
    };
    char opt[64];
    const char *p = args;
    (void)word;

    while (conf_next_word(&p, opt, sizeof opt) == 0) {
        size_t i;
        for (i = 0; i < sizeof opts / sizeof opts[0]; i++) {
            if (strcmp(opt, opts[i].name) == 0) /* case-sensitive, as in chronyd */
                break;
        }
        if (i == sizeof opts / sizeof opts[0])
            return conf_fail(P, "Invalid log parameter");
        P->c->log_flags |= opts[i].flag;
    }
    return 0;
}

static int h_sourcedir(struct conf_parser *P, const char *word, const char *args)
{
    char dir[CONF_MAX_LINE];
    const char *p = args;
    (void)word;
    while (conf_next_word(&p, dir, sizeof dir) == 0) {
        if (conf_strings_add(&P->c->sourcedirs, dir) < 0)
            return conf_fail(P, "Out of memory");
    }
    return 0;
}

/* allow/deny/cmdallow/cmddeny: [all] [SUBNET]. A name is resolved now (first address), as
 * chronyd does; one that does not resolve is a parse error. */
static int parse_access(struct conf_parser *P, const char *word, const char *args, int cmd,
                        int allow)
{
    char w[CONF_MAX_LINE];
    const char *p = args;
    struct conf_access a;

    memset(&a, 0, sizeof a);
    a.cmd = cmd;
    a.allow = allow;
    a.line = P->line;
    if (strncmp(p, "all", 3) == 0 && (p[3] == ' ' || p[3] == '\0')) {
        a.all = 1;
        conf_next_word(&p, NULL, 0);
    }
    if (*p == '\0') {
        a.any_family = 1;
    } else {
        if (conf_count_words(p) != 1)
            return conf_fail_parse(P, word);
        conf_next_word(&p, w, sizeof w);
        int r = addr_subnet_parse(w, &a.subnet);
        if (r == ADDR_SUBNET_BAD)
            return conf_fail_parse(P, word);
        if (r == ADDR_SUBNET_NOT_ADDR) {
            /* A ':' makes it an IPv6 literal that inet_pton refused (e.g. with a scope). */
            if (strchr(w, ':') != NULL || P->env->resolve == NULL ||
                P->env->resolve(P->env->ctx, w, &a.subnet.addr) < 0)
                return conf_fail_parse(P, word);
            a.subnet.addr.port = 0;
            a.subnet.prefix_len = a.subnet.addr.family == ADDR_INET4 ? 32 : 128;
        }
    }
    struct conf_access *v = realloc(P->c->access, (P->c->n_access + 1) * sizeof *v);
    if (v == NULL)
        return conf_fail(P, "Out of memory");
    P->c->access = v;
    v[P->c->n_access++] = a;
    return 0;
}

static int h_allow(struct conf_parser *P, const char *word, const char *args)
{
    return parse_access(P, word, args, 0, 1);
}

static int h_deny(struct conf_parser *P, const char *word, const char *args)
{
    return parse_access(P, word, args, 0, 0);
}

static int h_cmdallow(struct conf_parser *P, const char *word, const char *args)
{
    return parse_access(P, word, args, 1, 1);
}

static int h_cmddeny(struct conf_parser *P, const char *word, const char *args)
{
    return parse_access(P, word, args, 1, 0);
}

/* refclock DRIVER PARAM [option]...: values are read with sscanf from the rest of the line
 * like chronyd does, so "poll 3x" leaves "x" to be read as the next option. */
static int h_refclock(struct conf_parser *P, const char *word, const char *args)
{
    char driver[CONF_MAX_LINE], param[CONF_MAX_LINE], opt[64];
    const char *p = args;
    struct conf_refclock r;

    memset(&r, 0, sizeof r);
    r.poll = 4;
    r.filter = 64;
    r.rate = 1;
    r.min_samples = -1;
    r.max_samples = -1;
    r.max_lock_age = 2;
    r.delay_s = 1e-9;
    r.line = P->line;
    if (conf_next_word(&p, driver, sizeof driver) < 0 ||
        conf_next_word(&p, param, sizeof param) < 0)
        return conf_fail_parse(P, word);
    while (conf_next_word(&p, opt, sizeof opt) == 0) {
        static const struct {
            const char *name;
            size_t off;
        } ints[] =
            {
                {"poll", offsetof(struct conf_refclock, poll)},
                {"dpoll", offsetof(struct conf_refclock, dpoll)},
                {"filter", offsetof(struct conf_refclock, filter)},
                {"rate", offsetof(struct conf_refclock, rate)},
                {"minsamples", offsetof(struct conf_refclock, min_samples)},
                {"maxsamples", offsetof(struct conf_refclock, max_samples)},
                {"maxlockage", offsetof(struct conf_refclock, max_lock_age)},
                {"stratum", offsetof(struct conf_refclock, stratum)},
            },
          doubles[] =
              {
                  {"offset", offsetof(struct conf_refclock, offset_s)},
                  {"delay", offsetof(struct conf_refclock, delay_s)},
                  {"precision", offsetof(struct conf_refclock, precision_s)},
                  {"maxdispersion", offsetof(struct conf_refclock, max_dispersion_s)},
                  {"width", offsetof(struct conf_refclock, pulse_width_s)},
              },
          flags[] = {
              {"local", offsetof(struct conf_refclock, local)},
              {"noselect", offsetof(struct conf_refclock, noselect)},
              {"pps", offsetof(struct conf_refclock, pps)},
              {"prefer", offsetof(struct conf_refclock, prefer)},
              {"require", offsetof(struct conf_refclock, require)},
              {"tai", offsetof(struct conf_refclock, tai)},
              {"trust", offsetof(struct conf_refclock, trust)},
          };
        int n = 0, done = 0;
        char *base = (char *)&r;

        for (size_t i = 0; i < sizeof ints / sizeof ints[0] && !done; i++) {
            if (strcasecmp(opt, ints[i].name) != 0)
                continue;
            int *v = (int *)(base + ints[i].off);
            if (sscanf(p, "%d%n", v, &n) != 1)
                return conf_fail_parse(P, word);
            if (v == &r.stratum && (r.stratum < 0 || r.stratum > 15))
                return conf_fail_parse(P, word);
            done = 1;
        }
        for (size_t i = 0; i < sizeof doubles / sizeof doubles[0] && !done; i++) {
            if (strcasecmp(opt, doubles[i].name) != 0)
                continue;
            if (sscanf(p, "%lf%n", (double *)(base + doubles[i].off), &n) != 1)
                return conf_fail_parse(P, word);
            done = 1;
        }
        for (size_t i = 0; i < sizeof flags / sizeof flags[0] && !done; i++) {
            if (strcasecmp(opt, flags[i].name) == 0) {
                *(int *)(base + flags[i].off) = 1;
                done = 1;
            }
        }
        if (!done && (strcasecmp(opt, "refid") == 0 || strcasecmp(opt, "lock") == 0)) {
            char *dst = strcasecmp(opt, "refid") == 0 ? r.refid : r.lock;
            if (sscanf(p, "%4s%n", dst, &n) != 1)
                return conf_fail_parse(P, word);
            done = 1;
        }
        if (!done)
            return conf_fail(P, "Invalid refclock option");
        p += n;
    }
    struct conf_refclock *v = realloc(P->c->refclocks, (P->c->n_refclocks + 1) * sizeof *v);
    if (v == NULL)
        return conf_fail(P, "Out of memory");
    P->c->refclocks = v;
    r.driver = conf_strdup(driver);
    r.parameter = conf_strdup(param);
    v[P->c->n_refclocks++] = r;
    if (r.driver == NULL || r.parameter == NULL)
        return conf_fail(P, "Out of memory");
    return 0;
}

static int h_source(struct conf_parser *P, const char *word, const char *args)
{
    return conf_parse_source_line(P, word, args);
}

/* serverworkers N (tempus extension): 0 (off, the default) .. CONF_MAX_SERVERWORKERS. */
static int h_serverworkers(struct conf_parser *P, const char *word, const char *args)
{
    int n, end = 0;
    if (check_args(P, word, args, 1, 1) < 0)
        return -1;
    if (sscanf(args, "%d %n", &n, &end) != 1 || args[end] != '\0' || n < 0 ||
        n > CONF_MAX_SERVERWORKERS)
        return conf_fail_parse(P, word);
    P->c->serverworkers = n;
    return 0;
}

static int h_ntscachedir(struct conf_parser *P, const char *word, const char *args)
{
    if (check_args(P, word, args, 1, 1) < 0)
        return -1;
    return set_string(P, &P->c->ntsdumpdir, args);
}

/* Sorted by name for reading; looked up linearly (a few dozen entries, once per line). */
static const struct directive directives[] = {
    {"acquisitionport", K_INT, OFF(acquisitionport), NULL, 1},
    {"allow", K_FUNC, 0, h_allow, 1},
    {"authselectmode", K_FUNC, 0, h_authselectmode, 1},
    {"batchreplies", K_NULL, OFF(batchreplies), NULL, 1}, /* tempus extension */
    {"bindacqaddress", K_FUNC, 0, h_bindacqaddress, 1},
    {"bindacqdevice", K_STRING, OFF(bindacqdevice), NULL, 0},
    {"bindaddress", K_FUNC, 0, h_bindaddress, 1},
    {"bindcmdaddress", K_FUNC, 0, h_bindcmdaddress, 1},
    {"bindcmddevice", K_STRING, OFF(bindcmddevice), NULL, 0},
    {"binddevice", K_STRING, OFF(binddevice), NULL, 0},
    {"broadcast", K_FUNC, 0, h_broadcast, 0},
    {"clientloglimit", K_ULONG, OFF(clientloglimit), NULL, 1},
    {"clockprecision", K_DOUBLE, OFF(clockprecision_s), NULL, 0},
    {"cmdallow", K_FUNC, 0, h_cmdallow, 1},
    {"cmddeny", K_FUNC, 0, h_cmddeny, 1},
    {"cmdport", K_INT, OFF(cmdport), NULL, 1},
    {"cmdratelimit", K_FUNC, 0, h_cmdratelimit, 1},
    {"combinelimit", K_DOUBLE, OFF(combinelimit), NULL, 1},
    {"commandkey", K_OBSOLETE, 0, NULL, 0},
    {"corrtimeratio", K_DOUBLE, OFF(corrtimeratio), NULL, 1},
    {"deny", K_FUNC, 0, h_deny, 1},
    {"driftfile", K_STRING, OFF(driftfile), NULL, 1},
    {"dscp", K_INT, OFF(dscp), NULL, 0},
    {"dumpdir", K_STRING, OFF(dumpdir), NULL, 1},
    {"dumponexit", K_IGNORED, 0, NULL, 1},
    {"fallbackdrift", K_FUNC, 0, h_fallbackdrift, 0},
    {"generatecommandkey", K_OBSOLETE, 0, NULL, 0},
    {"hwclockfile", K_STRING, OFF(hwclockfile), NULL, 0},
    {"hwtimestamp", K_FUNC, 0, h_hwtimestamp, 0},
    {"initstepslew", K_FUNC, 0, h_initstepslew, 0},
    {"keyfile", K_STRING, OFF(keyfile), NULL, 1},
    {"leapsecmode", K_FUNC, 0, h_leapsecmode, 0},
    {"leapsectz", K_STRING, OFF(leapsectz), NULL, 1},
    {"linux_freq_scale", K_OBSOLETE, 0, NULL, 0},
    {"linux_hz", K_OBSOLETE, 0, NULL, 0},
    {"local", K_FUNC, 0, h_local, 1},
    {"lock_all", K_NULL, OFF(lock_all), NULL, 1},
    {"log", K_FUNC, 0, h_log, 1},
    {"logbanner", K_INT, OFF(logbanner), NULL, 1},
    {"logchange", K_DOUBLE, OFF(logchange_s), NULL, 1},
    {"logdir", K_STRING, OFF(logdir), NULL, 1},
    {"mailonchange", K_FUNC, 0, h_mailonchange, 0},
    {"makestep", K_FUNC, 0, h_makestep, 1},
    {"manual", K_NULL, OFF(manual), NULL, 0},
    {"maxchange", K_FUNC, 0, h_maxchange, 1},
    {"maxclockerror", K_DOUBLE, OFF(maxclockerror_ppm), NULL, 1},
    {"maxdistance", K_DOUBLE, OFF(maxdistance_s), NULL, 1},
    {"maxdrift", K_DOUBLE, OFF(maxdrift_ppm), NULL, 1},
    {"maxjitter", K_DOUBLE, OFF(maxjitter_s), NULL, 1},
    {"maxntsconnections", K_INT, OFF(maxntsconnections), NULL, 0},
    {"maxsamples", K_INT, OFF(maxsamples), NULL, 1},
    {"maxslewrate", K_DOUBLE, OFF(maxslewrate_ppm), NULL, 1},
    {"maxupdateskew", K_DOUBLE, OFF(maxupdateskew_ppm), NULL, 1},
    {"minsamples", K_INT, OFF(minsamples), NULL, 1},
    {"minsources", K_INT, OFF(minsources), NULL, 1},
    {"nocerttimecheck", K_INT, OFF(nocerttimecheck), NULL, 0},
    {"nobatchreplies", K_NULL, OFF(nobatchreplies), NULL, 1}, /* tempus extension */
    {"noclientlog", K_NULL, OFF(noclientlog), NULL, 1},
    {"nosystemcert", K_NULL, OFF(nosystemcert), NULL, 0},
    {"ntpsigndsocket", K_STRING, OFF(ntpsigndsocket), NULL, 0},
    {"ntscachedir", K_FUNC, 0, h_ntscachedir, 0},
    {"ntsdumpdir", K_STRING, OFF(ntsdumpdir), NULL, 0},
    {"ntsntpserver", K_STRING, OFF(ntsntpserver), NULL, 0},
    {"ntsport", K_INT, OFF(ntsport), NULL, 0},
    {"ntsprocesses", K_INT, OFF(ntsprocesses), NULL, 0},
    {"ntsratelimit", K_FUNC, 0, h_ntsratelimit, 0},
    {"ntsrefresh", K_INT, OFF(ntsrefresh_s), NULL, 0},
    {"ntsrotate", K_INT, OFF(ntsrotate_s), NULL, 0},
    {"ntsservercert", K_STRLIST, OFF(ntsservercerts), NULL, 0},
    {"ntsserverkey", K_STRLIST, OFF(ntsserverkeys), NULL, 0},
    {"ntstrustedcerts", K_FUNC, 0, h_ntstrustedcerts, 0},
    {"peer", K_FUNC, 0, h_source, 1},
    {"pidfile", K_STRING, OFF(pidfile), NULL, 1},
    {"pool", K_FUNC, 0, h_source, 1},
    {"port", K_INT, OFF(port), NULL, 1},
    {"ptpport", K_INT, OFF(ptpport), NULL, 0},
    {"ratelimit", K_FUNC, 0, h_ratelimit, 1},
    {"refclock", K_FUNC, 0, h_refclock, 0},
    {"reselectdist", K_DOUBLE, OFF(reselectdist_s), NULL, 1},
    {"rtcautotrim", K_DOUBLE, OFF(rtcautotrim_s), NULL, 0},
    {"rtcdevice", K_STRING, OFF(rtcdevice), NULL, 0},
    {"rtcfile", K_STRING, OFF(rtcfile), NULL, 0},
    {"rtconutc", K_NULL, OFF(rtconutc), NULL, 0},
    {"rtcsync", K_NULL, OFF(rtcsync), NULL, 1},
    {"sched_priority", K_INT, OFF(sched_priority), NULL, 0},
    {"server", K_FUNC, 0, h_source, 1},
    {"serverworkers", K_FUNC, 0, h_serverworkers, 1}, /* tempus extension */
    {"smoothtime", K_FUNC, 0, h_smoothtime, 1},
    {"sourcedir", K_FUNC, 0, h_sourcedir, 1},
    {"stratumweight", K_DOUBLE, OFF(stratumweight_s), NULL, 1},
    {"tempcomp", K_FUNC, 0, h_tempcomp, 0},
    {"user", K_STRING, OFF(user), NULL, 1},
};

int conf_directive(struct conf_parser *P, const char *word, const char *args)
{
    const struct directive *d = NULL;
    char *base = (char *)P->c;

    for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++) {
        if (strcasecmp(word, directives[i].name) == 0) {
            d = &directives[i];
            break;
        }
    }
    if (d == NULL)
        return conf_fail(P, "Invalid directive");

    switch (d->kind) {
    case K_NULL:
        if (check_args(P, word, args, 0, 0) < 0)
            return -1;
        *(int *)(base + d->off) = 1;
        break;
    case K_INT:
        if (check_args(P, word, args, 1, 1) < 0)
            return -1;
        if (sscanf(args, "%d", (int *)(base + d->off)) != 1)
            return conf_fail_parse(P, word);
        break;
    case K_DOUBLE:
        if (check_args(P, word, args, 1, 1) < 0)
            return -1;
        if (sscanf(args, "%lf", (double *)(base + d->off)) != 1)
            return conf_fail_parse(P, word);
        break;
    case K_ULONG:
        if (check_args(P, word, args, 1, 1) < 0)
            return -1;
        if (sscanf(args, "%lu", (unsigned long *)(base + d->off)) != 1)
            return conf_fail_parse(P, word);
        break;
    case K_STRING:
        if (check_args(P, word, args, 1, 1) < 0 || set_string(P, (char **)(base + d->off), args))
            return -1;
        break;
    case K_STRLIST:
        if (check_args(P, word, args, 1, 1) < 0)
            return -1;
        if (conf_strings_add((struct conf_strings *)(base + d->off), args) < 0)
            return conf_fail(P, "Out of memory");
        break;
    case K_FUNC:
        if (d->fn(P, word, args) < 0)
            return -1;
        break;
    case K_IGNORED:
        return 0;
    case K_OBSOLETE:
        P->c->n_warnings++;
        log_warn("%s directive is no longer supported", d->name);
        return 0;
    }
    if (!d->implemented) {
        char what[96];
        snprintf(what, sizeof what, "%s directive", d->name);
        conf_warn_unimplemented(P, what);
    }
    return 0;
}
