/* Scenario file parser (see scenario.h and docs/design/simulator.md). */
#include "sim/scenario.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ntp_time.h"

#define LINE_MAX_LEN 512

struct unit {
    const char *name;
    double scale;
};

static const struct unit time_units[] = {
    {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1},
    {"m", 60},    {"h", 3600},  {"d", 86400}, {"", 1},
};

static const struct unit freq_units[] = {{"ppm", 1}, {"ppb", 1e-3}, {"", 1}};

static int parse_with_units(const char *text, const struct unit *units, size_t n, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || !isfinite(v))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(end, units[i].name)) {
            *out = v * units[i].scale;
            return 0;
        }
    }
    return -1;
}

int simscn_parse_duration_s(const char *text, double *out_s)
{
    return parse_with_units(text, time_units, sizeof(time_units) / sizeof(time_units[0]), out_s);
}

static int parse_freq_ppm(const char *text, double *out)
{
    return parse_with_units(text, freq_units, sizeof(freq_units) / sizeof(freq_units[0]), out);
}

static int parse_double(const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *text, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < -1000000 || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_dur_ns(const char *text, int64_t *out)
{
    double s;
    if (simscn_parse_duration_s(text, &s) < 0 || s < 0 || s > 1e8)
        return -1;
    *out = (int64_t)llround(s * 1e9);
    return 0;
}

/* Splits text (modified in place) into at most max words; returns the count. */
static int split_words(char *text, char **words, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(text, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (n == max)
            return max + 1;
        words[n++] = w;
    }
    return n;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int simscn_parse_source_opts(const char *text, struct engine_source_params *sp, char *err,
                             size_t errlen)
{
    char buf[LINE_MAX_LEN];
    char *w[64];
    snprintf(buf, sizeof(buf), "%s", text);
    int n = split_words(buf, w, 64);
    if (n > 64) {
        set_err(err, errlen, "too many options");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const char *o = w[i];
        int *flag = NULL, *ival = NULL;
        double *dval = NULL;
        if (!strcmp(o, "iburst"))
            flag = &sp->iburst;
        else if (!strcmp(o, "burst"))
            flag = &sp->burst;
        else if (!strcmp(o, "prefer"))
            flag = &sp->prefer;
        else if (!strcmp(o, "noselect"))
            flag = &sp->noselect;
        else if (!strcmp(o, "trust"))
            flag = &sp->trust;
        else if (!strcmp(o, "require"))
            flag = &sp->require;
        else if (!strcmp(o, "xleave"))
            flag = &sp->xleave;
        else if (!strcmp(o, "minpoll"))
            ival = &sp->minpoll_log2;
        else if (!strcmp(o, "maxpoll"))
            ival = &sp->maxpoll_log2;
        else if (!strcmp(o, "version"))
            ival = &sp->version;
        else if (!strcmp(o, "minstratum"))
            ival = &sp->minstratum;
        else if (!strcmp(o, "polltarget"))
            ival = &sp->polltarget;
        else if (!strcmp(o, "minsamples"))
            ival = &sp->minsamples;
        else if (!strcmp(o, "maxsamples"))
            ival = &sp->maxsamples;
        else if (!strcmp(o, "filter"))
            ival = &sp->filter;
        else if (!strcmp(o, "presend"))
            ival = &sp->presend_log2;
        else if (!strcmp(o, "maxdelay"))
            dval = &sp->maxdelay_s;
        else if (!strcmp(o, "maxdelayratio"))
            dval = &sp->maxdelayratio;
        else if (!strcmp(o, "maxdelaydevratio"))
            dval = &sp->maxdelaydevratio;
        else if (!strcmp(o, "mindelay"))
            dval = &sp->mindelay_s;
        else if (!strcmp(o, "asymmetry"))
            dval = &sp->asymmetry;
        else if (!strcmp(o, "offset"))
            dval = &sp->offset_s;
        if (flag) {
            *flag = 1;
            continue;
        }
        if (!ival && !dval) {
            set_err(err, errlen, "unknown source option '%s'", o);
            return -1;
        }
        if (i + 1 >= n || (ival && parse_int(w[i + 1], ival) < 0) ||
            (dval && parse_double(w[i + 1], dval) < 0)) {
            set_err(err, errlen, "bad value for source option '%s'", o);
            return -1;
        }
        i++;
    }
    return 0;
}

int simscn_parse_link(const char *text, struct simlink_params *lp)
{
    char buf[LINE_MAX_LEN];
    char *w[8];
    snprintf(buf, sizeof(buf), "%s", text);
    int n = split_words(buf, w, 8);
    if (n < 1 || n > 8)
        return -1;
    double v;
    if (simscn_parse_duration_s(w[0], &v) < 0 || v < 0)
        return -1;
    lp->delay_s = v;
    int i = 1;
    if (i < n && strcmp(w[i], "loss") != 0) {
        int d = simlink_dist_parse(w[i]);
        if (d < 0 || i + 1 >= n || simscn_parse_duration_s(w[i + 1], &v) < 0 || v < 0)
            return -1;
        lp->dist = (enum simlink_dist)d;
        lp->jitter_s = v;
        i += 2;
    }
    if (i < n) {
        if (strcmp(w[i], "loss") != 0 || i + 2 != n || parse_double(w[i + 1], &v) < 0 || v < 0 ||
            v > 1)
            return -1;
        lp->loss = v;
    }
    return 0;
}

static int parse_epoch(const char *text, int64_t *out)
{
    int y, mo, d, h, mi, s;
    char z;
    if (sscanf(text, "%d-%d-%dT%d:%d:%d%c", &y, &mo, &d, &h, &mi, &s, &z) == 7 && z == 'Z') {
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
            return -1;
        *out = ntp_time_ns_from_civil(y, mo, d, h, mi, s);
        return 0;
    }
    double v;
    if (parse_double(text, &v) < 0 || v < 0 || v > 9e9)
        return -1;
    *out = (int64_t)llround(v * 1e9);
    return 0;
}

static int parse_clock_key(struct simclock_params *c, const char *key, const char *val)
{
    double v;
    if (!strcmp(key, "offset"))
        return simscn_parse_duration_s(val, &c->offset_s);
    if (!strcmp(key, "freq"))
        return parse_freq_ppm(val, &c->freq_ppm);
    if (!strcmp(key, "wander"))
        return parse_freq_ppm(val, &c->wander_ppm_per_sqrt_s);
    if (!strcmp(key, "temp"))
        return parse_freq_ppm(val, &c->temp_ppm);
    if (!strcmp(key, "temp_period"))
        return simscn_parse_duration_s(val, &c->temp_period_s);
    if (!strcmp(key, "temp_phase"))
        return parse_double(val, &c->temp_phase_rad);
    if (!strcmp(key, "max_freq"))
        return parse_freq_ppm(val, &c->max_freq_ppm);
    if (!strcmp(key, "mono")) {
        if (!strcmp(val, "raw"))
            c->mono_raw = 1;
        else if (!strcmp(val, "adjusted"))
            c->mono_raw = 0;
        else
            return -1;
        return 0;
    }
    if (!strcmp(key, "resolution")) {
        if (parse_freq_ppm(val, &v) < 0)
            return -1;
        c->resolution_ppm = v > 0 ? v : -1;
        return 0;
    }
    return -2;
}

static int parse_client_key(struct engine_params *p, const char *key, char *val)
{
    char *w[4];
    int n = split_words(val, w, 4);
    double d[3];
    for (int i = 0; i < n && i < 3; i++)
        if (parse_double(w[i], &d[i]) < 0)
            return -1;
    struct {
        const char *name;
        double *dst;
    } dbl[] = {
        {"maxslewrate", &p->maxslewrate_ppm},   {"maxupdateskew", &p->maxupdateskew_ppm},
        {"corrtimeratio", &p->corrtimeratio},   {"maxclockerror", &p->maxclockerror_ppm},
        {"maxdrift", &p->maxdrift_ppm},         {"maxdistance", &p->maxdistance_s},
        {"maxjitter", &p->maxjitter_s},         {"reselectdist", &p->reselectdist_s},
        {"stratumweight", &p->stratumweight_s}, {"combinelimit", &p->combinelimit},
    };
    for (size_t i = 0; i < sizeof(dbl) / sizeof(dbl[0]); i++) {
        if (!strcmp(key, dbl[i].name)) {
            if (n != 1)
                return -1;
            *dbl[i].dst = d[0];
            return 0;
        }
    }
    if (!strcmp(key, "minsources")) {
        if (n != 1 || d[0] < 1 || d[0] > 16)
            return -1;
        p->minsources = (int)d[0];
        return 0;
    }
    if (!strcmp(key, "makestep")) {
        if (n != 2)
            return -1;
        p->makestep_threshold_s = d[0];
        p->makestep_limit = (int)d[1];
        return 0;
    }
    if (!strcmp(key, "maxchange")) {
        if (n != 3)
            return -1;
        p->maxchange_offset_s = d[0];
        p->maxchange_delay = (int)d[1];
        p->maxchange_ignore = (int)d[2];
        return 0;
    }
    if (!strcmp(key, "drift")) { /* a drift file's content: FREQ_PPM SKEW_PPM */
        if (n != 2)
            return -1;
        p->have_initial_freq = 1;
        p->initial_freq_ppm = d[0];
        p->initial_skew_ppm = d[1];
        return 0;
    }
    return -2;
}

static struct simscn_server *new_server(struct simscn *s)
{
    if (s->nservers >= SIMSCN_MAX_SERVERS)
        return NULL;
    struct simscn_server *sv = &s->servers[s->nservers++];
    memset(sv, 0, sizeof(*sv));
    snprintf(sv->name, sizeof(sv->name), "server%d", s->nservers);
    sv->stratum = 1;
    sv->proc_s = 10e-6;
    engine_source_params_default(&sv->source);
    engine_source_params_default(&sv->sync_source);
    /* An engine server's upstream path: a LAN-like default. */
    sv->sync_up.delay_s = sv->sync_down.delay_s = 200e-6;
    sv->sync_up.dist = sv->sync_down.dist = SIMLINK_DIST_EXP;
    sv->sync_up.jitter_s = sv->sync_down.jitter_s = 20e-6;
    simclock_params_default(&sv->clock);
    return sv;
}

static int parse_server_key(struct simscn *s, struct simscn_server *sv, const char *key, char *val,
                            char *err, size_t errlen)
{
    if (!strcmp(key, "name")) {
        snprintf(sv->name, sizeof(sv->name), "%s", val);
        return 0;
    }
    if (!strcmp(key, "offset"))
        return simscn_parse_duration_s(val, &sv->offset_s);
    if (!strcmp(key, "freq"))
        return parse_freq_ppm(val, &sv->freq_ppm);
    if (!strcmp(key, "stratum"))
        return parse_int(val, &sv->stratum) < 0 || sv->stratum < 1 || sv->stratum > 15 ? -1 : 0;
    if (!strcmp(key, "proc"))
        return simscn_parse_duration_s(val, &sv->proc_s);
    if (!strcmp(key, "source"))
        return simscn_parse_source_opts(val, &sv->source, err, errlen);
    if (!strcmp(key, "sync_source"))
        return simscn_parse_source_opts(val, &sv->sync_source, err, errlen);
    if (!strcmp(key, "up"))
        return simscn_parse_link(val, &sv->up);
    if (!strcmp(key, "down"))
        return simscn_parse_link(val, &sv->down);
    if (!strcmp(key, "link"))
        return simscn_parse_link(val, &sv->up) < 0 ? -1 : simscn_parse_link(val, &sv->down);
    if (!strcmp(key, "sync_link"))
        return simscn_parse_link(val, &sv->sync_up) < 0 ? -1
                                                        : simscn_parse_link(val, &sv->sync_down);
    if (!strcmp(key, "sync")) {
        if (parse_int(val, &sv->sync) < 0 || sv->sync < 1 || sv->sync > SIMSCN_MAX_SERVERS ||
            sv->sync == s->nservers)
            return -1;
        return 0;
    }
    if (!strncmp(key, "clock.", 6))
        return parse_clock_key(&sv->clock, key + 6, val);
    return -2;
}

static int parse_event(struct simscn *s, char *text, char *err, size_t errlen)
{
    /* "at TIME: WHAT ..." */
    char *colon = strchr(text, ':');
    if (!colon) {
        set_err(err, errlen, "event needs 'at TIME: ...'");
        return -1;
    }
    *colon = '\0';
    char *w[6];
    int n = split_words(text, w, 6);
    struct simscn_event ev = {0};
    if (n != 2 || parse_dur_ns(w[1], &ev.t_ns) < 0) {
        set_err(err, errlen, "bad event time");
        return -1;
    }
    n = split_words(colon + 1, w, 6);
    if (s->nevents >= SIMSCN_MAX_EVENTS) {
        set_err(err, errlen, "too many events");
        return -1;
    }
    int ok = 0;
    if (n >= 3 && (!strcmp(w[0], "server") || !strcmp(w[0], "link"))) {
        int is_link = !strcmp(w[0], "link");
        if (parse_int(w[1], &ev.server) < 0 || ev.server < 1 || ev.server > s->nservers) {
            set_err(err, errlen, "event: no server %s (define servers first)", w[1]);
            return -1;
        }
        if (n == 3 && !strcmp(w[2], "down")) {
            ev.kind = is_link ? SIMSCN_EV_LINK_DOWN : SIMSCN_EV_SERVER_DOWN;
            ok = 1;
        } else if (n == 3 && !strcmp(w[2], "up")) {
            ev.kind = is_link ? SIMSCN_EV_LINK_UP : SIMSCN_EV_SERVER_UP;
            ok = 1;
        } else if (n == 4 && !is_link && !strcmp(w[2], "offset")) {
            ev.kind = SIMSCN_EV_SERVER_OFFSET;
            ok = simscn_parse_duration_s(w[3], &ev.value) == 0;
        } else if (n == 4 && !is_link && !strcmp(w[2], "freq")) {
            ev.kind = SIMSCN_EV_SERVER_FREQ;
            ok = parse_freq_ppm(w[3], &ev.value) == 0;
        } else if (n == 4 && is_link && !strcmp(w[2], "loss")) {
            ev.kind = SIMSCN_EV_LINK_LOSS;
            ok = parse_double(w[3], &ev.value) == 0 && ev.value >= 0 && ev.value <= 1;
        }
    } else if (n == 3 && !strcmp(w[0], "clock")) {
        if (!strcmp(w[1], "step")) {
            ev.kind = SIMSCN_EV_CLOCK_STEP;
            ok = simscn_parse_duration_s(w[2], &ev.value) == 0;
        } else if (!strcmp(w[1], "freq")) {
            ev.kind = SIMSCN_EV_CLOCK_FREQ;
            ok = parse_freq_ppm(w[2], &ev.value) == 0;
        }
    }
    if (!ok) {
        set_err(err, errlen, "bad event");
        return -1;
    }
    s->events[s->nevents++] = ev;
    return 0;
}

void simscn_default(struct simscn *s)
{
    memset(s, 0, sizeof(*s));
    s->duration_ns = 6 * 3600 * 1000000000LL;
    s->warmup_ns = 1800 * 1000000000LL;
    s->sample_ns = 1000000000LL;
    s->epoch_real_ns = ntp_time_ns_from_civil(2026, 1, 1, 0, 0, 0);
    engine_params_default(&s->client);
    simclock_params_default(&s->clock);
}

static char *trim(char *t)
{
    while (isspace((unsigned char)*t))
        t++;
    size_t n = strlen(t);
    while (n && isspace((unsigned char)t[n - 1]))
        t[--n] = '\0';
    return t;
}

enum section { SEC_TOP, SEC_CLIENT, SEC_CLOCK, SEC_SERVER };

static int parse_line(struct simscn *s, enum section *sec, char *line, char *err, size_t errlen)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    line = trim(line);
    if (!*line)
        return 0;
    if (!strcmp(line, "[client]")) {
        *sec = SEC_CLIENT;
        return 0;
    }
    if (!strcmp(line, "[clock]")) {
        *sec = SEC_CLOCK;
        return 0;
    }
    if (!strcmp(line, "[server]")) {
        if (!new_server(s)) {
            set_err(err, errlen, "too many servers");
            return -1;
        }
        *sec = SEC_SERVER;
        return 0;
    }
    if (!strncmp(line, "at ", 3))
        return parse_event(s, line, err, errlen);
    char *eq = strchr(line, '=');
    if (!eq) {
        set_err(err, errlen, "expected 'key = value'");
        return -1;
    }
    *eq = '\0';
    char *key = trim(line), *val = trim(eq + 1);
    int r = -2;
    err[0] = '\0';
    switch (*sec) {
    case SEC_TOP:
        if (!strcmp(key, "duration"))
            r = parse_dur_ns(val, &s->duration_ns);
        else if (!strcmp(key, "warmup"))
            r = parse_dur_ns(val, &s->warmup_ns);
        else if (!strcmp(key, "sample"))
            r = parse_dur_ns(val, &s->sample_ns) < 0 || s->sample_ns < 1000000 ? -1 : 0;
        else if (!strcmp(key, "epoch"))
            r = parse_epoch(val, &s->epoch_real_ns);
        else if (!strcmp(key, "leap")) {
            r = 0;
            if (!strcmp(val, "insert"))
                s->leap = 1;
            else if (!strcmp(val, "delete"))
                s->leap = -1;
            else if (!strcmp(val, "none"))
                s->leap = 0;
            else
                r = -1;
        }
        break;
    case SEC_CLIENT:
        r = parse_client_key(&s->client, key, val);
        break;
    case SEC_CLOCK:
        r = parse_clock_key(&s->clock, key, val);
        break;
    case SEC_SERVER:
        r = parse_server_key(s, &s->servers[s->nservers - 1], key, val, err, errlen);
        break;
    }
    if (r == -2) {
        set_err(err, errlen, "unknown key '%s'", key);
        return -1;
    }
    if (r < 0) {
        if (!err[0])
            set_err(err, errlen, "bad value for '%s'", key);
        return -1;
    }
    return 0;
}

int simscn_parse(struct simscn *s, const char *text, char *err, size_t errlen)
{
    char line[LINE_MAX_LEN];
    char msg[200];
    enum section sec = SEC_TOP;
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (len >= sizeof(line)) {
            set_err(err, errlen, "line %d: too long", lineno);
            return -1;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        if (parse_line(s, &sec, line, msg, sizeof(msg)) < 0) {
            set_err(err, errlen, "line %d: %s", lineno, msg);
            return -1;
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    for (int i = 0; i < s->nservers; i++) {
        if (s->servers[i].sync > s->nservers || s->servers[i].sync == i + 1) {
            set_err(err, errlen, "server %d: sync = %d is not another server", i + 1,
                    s->servers[i].sync);
            return -1;
        }
    }
    if (s->warmup_ns > s->duration_ns)
        s->warmup_ns = s->duration_ns;
    return 0;
}
