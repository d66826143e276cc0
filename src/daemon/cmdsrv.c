/* daemon/cmdsrv: the control-protocol dispatcher (see cmdsrv.h). */
#include "daemon/cmdsrv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/report.h"
#include "daemon/conf.h"
#include "daemon/executor.h"

struct cmdsrv {
    struct cmdsrv_params p;
    struct engine *engine;
    const struct clientlog *ntp_log;
    struct clientlog *cmd_log; /* owned: cmd hits, cmdratelimit */
    struct cmdsrv_hooks hooks;
    struct cmdsrv_ex_hooks ex_hooks;
    int (*smoothing)(void *ctx, int option, struct cmdmon_rep_smoothing *out);
    void *smoothing_ctx;
    uint8_t offline[CMDSRV_MAX_SOURCES]; /* 1: set offline by a command */
};

static void copy_rules(const struct conf *c, int cmd, struct access_rule *rules, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < c->n_access && *n < CMDSRV_MAX_RULES; i++) {
        const struct conf_access *a = &c->access[i];
        if (a->cmd != cmd)
            continue;
        struct access_rule *r = &rules[(*n)++];
        memset(r, 0, sizeof *r);
        r->allow = a->allow;
        r->all = a->all;
        if (!a->any_family)
            r->subnet = a->subnet;
    }
}

void cmdsrv_params_from_conf(const struct conf *c, uint64_t seed, struct cmdsrv_params *p)
{
    memset(p, 0, sizeof *p);
    copy_rules(c, 1, p->cmd_rules, &p->n_cmd_rules);
    copy_rules(c, 0, p->ntp_rules, &p->n_ntp_rules);
    p->cmdratelimit.enabled = c->cmdratelimit.enabled;
    p->cmdratelimit.interval_log2 = c->cmdratelimit.interval;
    p->cmdratelimit.burst = c->cmdratelimit.burst;
    p->cmdratelimit.leak = c->cmdratelimit.leak;
    p->cmdratelimit.kod_log2 = -1;
    p->clientloglimit = c->clientloglimit;
    p->noclientlog = c->noclientlog;
    p->local_enabled = c->local_enabled;
    p->local_stratum = c->local_stratum;
    p->local_distance_s = c->local_distance_s;
    p->seed = seed;
}

struct cmdsrv *cmdsrv_new(const struct cmdsrv_params *p, struct engine *engine,
                          const struct clientlog *ntp_log, const struct cmdsrv_hooks *hooks)
{
    struct cmdsrv *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = *p;
    s->engine = engine;
    s->ntp_log = ntp_log;
    if (hooks)
        s->hooks = *hooks;
    struct clientlog_params cp;
    clientlog_params_default(&cp);
    cp.disabled = p->noclientlog;
    if (p->clientloglimit)
        cp.limit_bytes = p->clientloglimit;
    /* Command clients are few (chronyc on a handful of hosts): a small log keeps the
     * per-address merge of `clients` cheap. */
    if (cp.limit_bytes > CMDSRV_CMD_LOG_BYTES)
        cp.limit_bytes = CMDSRV_CMD_LOG_BYTES;
    cp.limit[CLIENTLOG_CMD] = p->cmdratelimit;
    cp.seed = p->seed ^ 0x636d6473727600ULL; /* not the NTP log's hash key */
    s->cmd_log = clientlog_new(&cp);
    if (!s->cmd_log) {
        free(s);
        return NULL;
    }
    return s;
}

void cmdsrv_set_ex_hooks(struct cmdsrv *s, const struct cmdsrv_ex_hooks *h)
{
    if (h)
        s->ex_hooks = *h;
    else
        memset(&s->ex_hooks, 0, sizeof s->ex_hooks);
}

void cmdsrv_set_smoothing(struct cmdsrv *s,
                          int (*fn)(void *ctx, int option, struct cmdmon_rep_smoothing *out),
                          void *ctx)
{
    s->smoothing = fn;
    s->smoothing_ctx = ctx;
}

void cmdsrv_free(struct cmdsrv *s)
{
    if (!s)
        return;
    clientlog_free(s->cmd_log);
    free(s);
}

static int is_localhost(const struct addr *a)
{
    static const uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (a->family == ADDR_INET4)
        return a->bytes[0] == 127 && a->bytes[1] == 0 && a->bytes[2] == 0 && a->bytes[3] == 1;
    if (a->family == ADDR_INET6)
        return memcmp(a->bytes, v6, 16) == 0;
    return 0;
}

int cmdsrv_udp_allowed(const struct cmdsrv *s, const struct addr *addr)
{
    return is_localhost(addr) ||
           executor_access_allowed(s->p.cmd_rules, s->p.n_cmd_rules, addr) == 1;
}

/* ---- conversions ---- */

static void to_ip(const struct addr *a, struct cmdmon_ip *ip)
{
    memset(ip, 0, sizeof *ip);
    if (a->family == ADDR_INET4) {
        ip->family = CMDMON_FAMILY_INET4;
        memcpy(ip->addr, a->bytes, 4);
    } else if (a->family == ADDR_INET6) {
        ip->family = CMDMON_FAMILY_INET6;
        memcpy(ip->addr, a->bytes, 16);
    }
}

static int from_ip(const struct cmdmon_ip *ip, struct addr *a)
{
    memset(a, 0, sizeof *a);
    if (ip->family == CMDMON_FAMILY_INET4) {
        a->family = ADDR_INET4;
        memcpy(a->bytes, ip->addr, 4);
        return 0;
    }
    if (ip->family == CMDMON_FAMILY_INET6) {
        a->family = ADDR_INET6;
        memcpy(a->bytes, ip->addr, 16);
        return 0;
    }
    return -1;
}

static void to_ts(int64_t real_ns, struct cmdmon_timespec *ts)
{
    if (real_ns <= 0) {
        ts->sec = 0;
        ts->nsec = 0;
        return;
    }
    ts->sec = (uint64_t)(real_ns / 1000000000);
    ts->nsec = (uint32_t)(real_ns % 1000000000);
}

/* Index (report order) of the source with address ip, or -1. */
static int find_source(const struct cmdsrv *s, const struct cmdmon_ip *ip, int64_t now,
                       struct report_source *out)
{
    struct addr a;
    if (!s->engine || from_ip(ip, &a) != 0)
        return -1;
    int n = engine_source_count(s->engine);
    for (int i = 0; i < n; i++) {
        if (engine_source_report(s->engine, i, now, out) == 0 && addr_equal(&out->remote, &a))
            return i;
    }
    return -1;
}

static int source_count(const struct cmdsrv *s)
{
    return s->engine ? engine_source_count(s->engine) : 0;
}

static int get_source(const struct cmdsrv *s, uint32_t index, int64_t now, struct report_source *r)
{
    if (!s->engine || index > (uint32_t)INT32_MAX)
        return -1;
    return engine_source_report(s->engine, (int)index, now, r) == 0 ? 0 : -1;
}

/* Whether source address a matches the request's mask and address (ONLINE, OFFLINE, BURST):
 * an unspecified address selects every source (chronyc sends that without an argument). */
static int mask_match(const struct cmdmon_req_mask_addr *m, const struct addr *a)
{
    struct addr want, mask;
    if (from_ip(&m->address, &want) != 0)
        return 1;
    if (want.family != a->family)
        return 0;
    int has_mask = from_ip(&m->mask, &mask) == 0 && mask.family == a->family;
    size_t n = a->family == ADDR_INET4 ? 4 : 16;
    for (size_t i = 0; i < n; i++) {
        uint8_t mk = has_mask ? mask.bytes[i] : 0xFF;
        if ((a->bytes[i] & mk) != (want.bytes[i] & mk))
            return 0;
    }
    return 1;
}

/* ---- handlers: each fills rep (reply code, body) and returns a status ---- */

/* chronyc minpoll/maxpoll/maxdelay/...: applied to the engine source with that address;
 * chronyd 4.3 answers SUCCESS (an out-of-range value is clamped, as it logs and ignores). */
static int h_modify(struct cmdsrv *s, const struct cmdmon_request *req, int64_t now)
{
    struct report_source r;
    if (find_source(s, &req->u.modify.address, now, &r) < 0)
        return CMDMON_STT_NOSUCHSOURCE;
    enum engine_source_param which;
    double v = req->u.modify.fval;
    switch (req->command) {
    case CMDMON_REQ_MODIFY_MINPOLL:
        which = ENGINE_PARAM_MINPOLL;
        v = req->u.modify.ival;
        break;
    case CMDMON_REQ_MODIFY_MAXPOLL:
        which = ENGINE_PARAM_MAXPOLL;
        v = req->u.modify.ival;
        break;
    case CMDMON_REQ_MODIFY_MINSTRATUM:
        which = ENGINE_PARAM_MINSTRATUM;
        v = req->u.modify.ival;
        break;
    case CMDMON_REQ_MODIFY_POLLTARGET:
        which = ENGINE_PARAM_POLLTARGET;
        v = req->u.modify.ival;
        break;
    case CMDMON_REQ_MODIFY_MAXDELAY:
        which = ENGINE_PARAM_MAXDELAY;
        break;
    case CMDMON_REQ_MODIFY_MAXDELAYRATIO:
        which = ENGINE_PARAM_MAXDELAYRATIO;
        break;
    default:
        which = ENGINE_PARAM_MAXDELAYDEVRATIO;
        break;
    }
    if (engine_set_source_param(s->engine, r.id, which, v) != 0)
        return CMDMON_STT_FAILED;
    if (s->hooks.engine_changed)
        s->hooks.engine_changed(s->hooks.ctx);
    return CMDMON_STT_SUCCESS;
}

/* MODIFY_MAKESTEP, MODIFY_MAXUPDATESKEW, RESELECTDISTANCE, DFREQ, DOFFSET2, MODIFY_SELECTOPTS,
 * MODIFY_OFFSET, RESET_SOURCES: on the engine, as chronyd's handlers (SUCCESS; an unknown address,
 * or a refclock selected by ref_id, is NOSUCHSOURCE; a clock that refused doffset is FAILED). */
static int h_engine_change(struct cmdsrv *s, const struct cmdmon_request *req, int64_t now)
{
    struct report_source r;
    int rc;
    if (!s->engine)
        return CMDMON_STT_FAILED;
    switch (req->command) {
    case CMDMON_REQ_MODIFY_MAKESTEP:
        rc = engine_set_makestep(s->engine, req->u.makestep.threshold_s, req->u.makestep.limit);
        break;
    case CMDMON_REQ_MODIFY_MAXUPDATESKEW:
        rc = engine_set_maxupdateskew(s->engine, req->u.fval);
        break;
    case CMDMON_REQ_RESELECTDISTANCE:
        rc = engine_set_reselectdist(s->engine, req->u.fval);
        break;
    case CMDMON_REQ_DFREQ:
        rc = engine_adjust_freq(s->engine, req->u.fval, now);
        break;
    case CMDMON_REQ_DOFFSET2:
        rc = engine_adjust_offset(s->engine, req->u.fval, now);
        break;
    case CMDMON_REQ_MODIFY_SELECTOPTS: {
        const struct cmdmon_req_selectopts *q = &req->u.selectopts;
        if (find_source(s, &q->address, now, &r) < 0)
            return CMDMON_STT_NOSUCHSOURCE;
        /* The mask uses SELECT_DATA's bits, the options ADD_SOURCE's flags (spec §7). */
        unsigned opts = ((q->options & CMDMON_ADD_FLAG_NOSELECT) ? ENGINE_SELECT_NOSELECT : 0u) |
                        ((q->options & CMDMON_ADD_FLAG_PREFER) ? ENGINE_SELECT_PREFER : 0u) |
                        ((q->options & CMDMON_ADD_FLAG_TRUST) ? ENGINE_SELECT_TRUST : 0u) |
                        ((q->options & CMDMON_ADD_FLAG_REQUIRE) ? ENGINE_SELECT_REQUIRE : 0u);
        unsigned mask = ((q->mask & CMDMON_SELECT_NOSELECT) ? ENGINE_SELECT_NOSELECT : 0u) |
                        ((q->mask & CMDMON_SELECT_PREFER) ? ENGINE_SELECT_PREFER : 0u) |
                        ((q->mask & CMDMON_SELECT_TRUST) ? ENGINE_SELECT_TRUST : 0u) |
                        ((q->mask & CMDMON_SELECT_REQUIRE) ? ENGINE_SELECT_REQUIRE : 0u);
        rc = engine_set_select_opts(s->engine, r.id, mask, opts, now);
        break;
    }
    case CMDMON_REQ_MODIFY_OFFSET:
        if (find_source(s, &req->u.offset.address, now, &r) < 0)
            return CMDMON_STT_NOSUCHSOURCE;
        rc = engine_set_source_offset(s->engine, r.id, req->u.offset.new_offset_s);
        break;
    default: /* RESET_SOURCES */
        engine_reset_sources(s->engine, now);
        rc = 0;
        break;
    }
    if (rc != 0)
        return CMDMON_STT_FAILED;
    if (s->hooks.engine_changed)
        s->hooks.engine_changed(s->hooks.ctx);
    return CMDMON_STT_SUCCESS;
}

static int h_tracking(struct cmdsrv *s, int64_t now, int64_t now_real, struct cmdmon_reply *rep)
{
    struct report_tracking t;
    memset(&t, 0, sizeof t);
    t.leap_status = 3;
    if (s->engine)
        engine_tracking(s->engine, now, &t);
    int local = s->ex_hooks.local_active
                    ? s->ex_hooks.local_active(s->ex_hooks.ctx, now)
                    : executor_local_in_use(t.synced, t.root_delay_s / 2 + t.root_dispersion_s,
                                            s->p.local_enabled, s->p.local_distance_s);
    if (local) {
        /* chronyd's tracking while the local reference is in use: the local reference
         * (refid 127.127.1.1, no address, local stratum, leap normal, reference time now,
         * zero root delay and dispersion), the clock's own fields unchanged. */
        t.ref_id = 0x7F7F0101u;
        memset(&t.ref_addr, 0, sizeof t.ref_addr);
        t.stratum = s->p.local_stratum;
        t.leap_status = 0;
        t.ref_time_real_ns = now_real;
        t.root_delay_s = 0.0;
        t.root_dispersion_s = 0.0;
    }
    struct cmdmon_rep_tracking *o = &rep->u.tracking;
    rep->reply = CMDMON_REP_TRACKING;
    o->ref_id = t.ref_id;
    to_ip(&t.ref_addr, &o->ip_addr);
    o->stratum = (uint16_t)t.stratum;
    o->leap_status = (uint16_t)t.leap_status;
    to_ts(t.ref_time_real_ns, &o->ref_time);
    o->current_correction = t.current_correction_s;
    o->last_offset = t.last_offset_s;
    o->rms_offset = t.rms_offset_s;
    o->freq_ppm = t.freq_ppm;
    o->resid_freq_ppm = t.resid_freq_ppm;
    o->skew_ppm = t.skew_ppm;
    o->root_delay = t.root_delay_s;
    o->root_dispersion = t.root_dispersion_s;
    o->last_update_interval = t.last_update_interval_s;
    return CMDMON_STT_SUCCESS;
}

static int h_source_data(struct cmdsrv *s, uint32_t index, int64_t now, struct cmdmon_reply *rep)
{
    struct report_source r;
    if (get_source(s, index, now, &r) != 0)
        return CMDMON_STT_NOSUCHSOURCE;
    struct cmdmon_rep_source_data *o = &rep->u.source_data;
    rep->reply = CMDMON_REP_SOURCE_DATA;
    to_ip(&r.remote, &o->ip_addr);
    o->poll = (int16_t)r.poll_log2;
    o->stratum = (uint16_t)r.stratum;
    o->state = (uint16_t)r.state;
    o->mode = (uint16_t)(r.mode == 1 ? CMDMON_SRC_MODE_PEER : CMDMON_SRC_MODE_CLIENT);
    o->flags = 0;
    o->reachability = (uint16_t)(r.reach & 0xFF);
    o->since_sample = r.since_sample_s;
    o->orig_latest_meas = r.orig_latest_meas_s;
    o->latest_meas = r.latest_meas_s;
    o->latest_meas_err = r.latest_meas_err_s;
    return CMDMON_STT_SUCCESS;
}

static int h_sourcestats(struct cmdsrv *s, uint32_t index, int64_t now, struct cmdmon_reply *rep)
{
    struct report_source r;
    if (get_source(s, index, now, &r) != 0)
        return CMDMON_STT_NOSUCHSOURCE;
    struct cmdmon_rep_sourcestats *o = &rep->u.sourcestats;
    rep->reply = CMDMON_REP_SOURCESTATS;
    o->ref_id = r.ref_id;
    to_ip(&r.remote, &o->ip_addr);
    o->n_samples = r.n_samples;
    o->n_runs = r.n_runs;
    o->span_seconds = r.span_s;
    o->sd = r.sd_s;
    o->resid_freq_ppm = r.resid_freq_ppm;
    o->skew_ppm = r.skew_ppm;
    o->est_offset = r.est_offset_s;
    o->est_offset_err = r.est_offset_err_s;
    return CMDMON_STT_SUCCESS;
}

static int h_select_data(struct cmdsrv *s, uint32_t index, int64_t now, struct cmdmon_reply *rep)
{
    struct report_source r;
    if (get_source(s, index, now, &r) != 0)
        return CMDMON_STT_NOSUCHSOURCE;
    struct cmdmon_rep_select_data *o = &rep->u.select_data;
    rep->reply = CMDMON_REP_SELECT_DATA;
    o->ref_id = r.ref_id;
    to_ip(&r.remote, &o->ip_addr);
    o->state_char = (uint8_t)(r.select_state_char ? r.select_state_char : 'N');
    /* chronyd's Auth column: the source has a key (counted by authselectmode) */
    o->authentication = r.key_id != 0;
    o->leap = (uint8_t)r.select_leap;
    o->conf_options = (uint16_t)r.conf_options;
    o->eff_options = (uint16_t)r.eff_options;
    o->last_sample_ago = r.last_sample_ago_s;
    o->score = r.score;
    o->lo_limit = r.lo_limit_s;
    o->hi_limit = r.hi_limit_s;
    return CMDMON_STT_SUCCESS;
}

static int h_ntp_data(struct cmdsrv *s, const struct cmdmon_request *req, size_t len, int64_t now,
                      struct cmdmon_reply *rep)
{
    struct report_source r;
    if (find_source(s, &req->u.ip, now, &r) < 0)
        return CMDMON_STT_NOSUCHSOURCE;
    struct cmdmon_rep_ntp_data *o = &rep->u.ntp_data;
    rep->reply = (uint16_t)cmdmon_reply_code_for(CMDMON_REQ_NTP_DATA, len);
    to_ip(&r.remote, &o->remote_addr);
    /* Our address its replies arrived on (IP_PKTINFO), as chronyd prints; unknown (no
     * reply yet): the unspecified address of the remote's family. */
    struct addr local;
    if (s->ex_hooks.source_local_addr &&
        s->ex_hooks.source_local_addr(s->ex_hooks.ctx, &r.remote, &local) == 0 &&
        local.family == r.remote.family)
        to_ip(&local, &o->local_addr);
    else
        o->local_addr.family = o->remote_addr.family;
    o->remote_port = r.remote_port ? r.remote_port : r.remote.port;
    o->leap = (uint8_t)r.leap;
    o->version = (uint8_t)r.version;
    o->mode = (uint8_t)r.pkt_mode;
    o->stratum = (uint8_t)r.pkt_stratum;
    o->poll = (int8_t)r.pkt_poll;
    o->precision = (int8_t)r.precision;
    o->root_delay = r.root_delay_s;
    o->root_dispersion = r.root_dispersion_s;
    o->ref_id = r.pkt_ref_id;
    to_ts(r.pkt_ref_time_real_ns, &o->ref_time);
    o->offset = r.offset_s;
    o->peer_delay = r.peer_delay_s;
    o->peer_dispersion = r.peer_dispersion_s;
    o->response_time = r.response_time_s;
    o->jitter_asymmetry = r.jitter_asymmetry;
    o->flags = r.test_flags;
    o->tx_tss_char = (uint8_t)(r.tx_tss_char ? r.tx_tss_char : 'D');
    o->rx_tss_char = (uint8_t)(r.rx_tss_char ? r.rx_tss_char : 'D');
    /* The engine sees only times; which clock took the receive time is the executor's. */
    int last_kernel = 0;
    uint32_t n_kernel = 0;
    if (s->ex_hooks.source_rx_ts &&
        s->ex_hooks.source_rx_ts(s->ex_hooks.ctx, &r.remote, &last_kernel, &n_kernel) == 0) {
        o->rx_tss_char = last_kernel ? 'K' : 'D';
        o->total_kernel_rx_ts = n_kernel;
    }
    o->total_kernel_tx_ts = r.total_kernel_tx;
    o->total_tx_count = r.total_tx;
    o->total_rx_count = r.total_rx;
    o->total_valid_count = r.total_valid;
    o->total_good_count = r.total_good;
    return CMDMON_STT_SUCCESS;
}

static int h_activity(struct cmdsrv *s, struct cmdmon_reply *rep)
{
    struct cmdmon_rep_activity *o = &rep->u.activity;
    rep->reply = CMDMON_REP_ACTIVITY;
    int n = source_count(s);
    for (int i = 0; i < n; i++) {
        struct report_source r;
        if (engine_source_report(s->engine, i, 0, &r) != 0)
            continue;
        if (r.id >= 0 && r.id < CMDSRV_MAX_SOURCES && s->offline[r.id])
            o->offline++;
        else
            o->online++;
    }
    return CMDMON_STT_SUCCESS;
}

static int h_server_stats(struct cmdsrv *s, size_t len, struct cmdmon_reply *rep)
{
    struct clientlog_stats ntp, cmd;
    memset(&ntp, 0, sizeof ntp);
    if (s->hooks.ntp_stats)
        s->hooks.ntp_stats(s->hooks.ctx, &ntp);
    else if (s->ntp_log)
        clientlog_get_stats(s->ntp_log, &ntp);
    clientlog_get_stats(s->cmd_log, &cmd);
    rep->reply = (uint16_t)cmdmon_reply_code_for(CMDMON_REQ_SERVER_STATS, len);
    struct cmdmon_rep_server_stats *o = &rep->u.server_stats;
    o->n_fields = CMDMON_SERVER_STATS_MAX;
    o->v[CMDMON_SS_NTP_HITS] = ntp.ntp_hits;
    o->v[CMDMON_SS_NKE_HITS] = ntp.nke_hits;
    o->v[CMDMON_SS_CMD_HITS] = cmd.cmd_hits;
    o->v[CMDMON_SS_NTP_DROPS] = ntp.ntp_drops;
    o->v[CMDMON_SS_NKE_DROPS] = ntp.nke_drops;
    o->v[CMDMON_SS_CMD_DROPS] = cmd.cmd_drops;
    o->v[CMDMON_SS_LOG_DROPS] = ntp.log_drops + cmd.log_drops;
    o->v[CMDMON_SS_NTP_AUTH_HITS] = ntp.ntp_auth_hits;
    o->v[CMDMON_SS_NTP_INTERLEAVED_HITS] = ntp.ntp_interleaved_hits;
    o->v[CMDMON_SS_NTP_TIMESTAMPS] = ntp.ntp_timestamps;
    o->v[CMDMON_SS_NTP_SPAN_SECONDS] = ntp.ntp_span_seconds;
    if (s->ex_hooks.ntp_ts_stats) {
        uint64_t ts[6] = {0};
        s->ex_hooks.ntp_ts_stats(s->ex_hooks.ctx, ts);
        for (int i = 0; i < 6; i++)
            o->v[CMDMON_SS_NTP_DAEMON_RX_TS + i] = ts[i];
    }
    return CMDMON_STT_SUCCESS;
}

static void client_row(const struct clientlog_report *r, struct cmdmon_rep_client *c)
{
    to_ip(&r->addr, &c->ip);
    c->ntp_hits = r->ntp_hits;
    c->nke_hits = r->nke_hits;
    c->cmd_hits = r->cmd_hits;
    c->ntp_drops = r->ntp_drops;
    c->nke_drops = r->nke_drops;
    c->cmd_drops = r->cmd_drops;
    c->ntp_interval = r->ntp_interval;
    c->nke_interval = r->nke_interval;
    c->cmd_interval = r->cmd_interval;
    c->ntp_timeout_interval = r->ntp_timeout_interval;
    c->last_ntp_hit_ago = r->last_ntp_hit_ago;
    c->last_nke_hit_ago = r->last_nke_hit_ago;
    c->last_cmd_hit_ago = r->last_cmd_hit_ago;
}

/* Slot of log holding address a, or -1 (a scan: the command log is small, see cmdsrv_new). */
static int64_t find_client(const struct clientlog *log, const struct addr *a, int64_t now_real)
{
    uint32_t cap = clientlog_capacity(log);
    for (uint32_t i = 0; i < cap; i++) {
        struct clientlog_report r;
        if (clientlog_report(log, i, now_real, &r) && addr_equal(&r.addr, a))
            return i;
    }
    return -1;
}

/* The NTP server's client records: the executor's hooks (server workers) or ntp_log. */
static uint32_t ntp_capacity(const struct cmdsrv *s)
{
    if (s->ex_hooks.ntp_clients_capacity && s->ex_hooks.ntp_client_report)
        return s->ex_hooks.ntp_clients_capacity(s->ex_hooks.ctx);
    return s->ntp_log ? clientlog_capacity(s->ntp_log) : 0;
}

static int ntp_report(const struct cmdsrv *s, uint32_t index, int64_t now_real,
                      struct clientlog_report *r)
{
    if (s->ex_hooks.ntp_clients_capacity && s->ex_hooks.ntp_client_report)
        return s->ex_hooks.ntp_client_report(s->ex_hooks.ctx, index, now_real, r);
    return s->ntp_log ? clientlog_report(s->ntp_log, index, now_real, r) : 0;
}

/* 1 when the NTP server has a record of a (a scan, as find_client()). */
static int ntp_has_client(const struct cmdsrv *s, const struct addr *a, int64_t now_real)
{
    uint32_t cap = ntp_capacity(s);
    for (uint32_t i = 0; i < cap; i++) {
        struct clientlog_report r;
        if (ntp_report(s, i, now_real, &r) && addr_equal(&r.addr, a))
            return 1;
    }
    return 0;
}

/* chronyd keeps one record per address for every service: a row carries its NTP and its
 * command counters. Here the NTP server's log (the executor's, read only) and cmdsrv's
 * command log are two: one index space over both (the NTP log's slots, then the command
 * log's), an NTP row takes the command counters of the same address, and a command slot
 * whose address has an NTP row is skipped (an empty slot), so each address is one row. */
static int h_clients(struct cmdsrv *s, const struct cmdmon_req_clients *q, int64_t now_real,
                     struct cmdmon_reply *rep)
{
    struct cmdmon_rep_client_accesses *o = &rep->u.client_accesses;
    rep->reply = CMDMON_REP_CLIENT_ACCESSES_BY_INDEX3;
    uint32_t ntp_cap = ntp_capacity(s);
    uint32_t cap = ntp_cap + clientlog_capacity(s->cmd_log);
    uint32_t want = q->n_clients < CMDMON_MAX_CLIENTS ? q->n_clients : CMDMON_MAX_CLIENTS;
    uint32_t i = q->first_index;
    o->n_indices = cap;
    for (; i < cap && o->n_clients < want; i++) {
        struct clientlog_report r, c;
        int64_t cmd_slot = -1;
        if (i < ntp_cap) {
            if (!ntp_report(s, i, now_real, &r))
                continue;
            cmd_slot = find_client(s->cmd_log, &r.addr, now_real);
            if (cmd_slot >= 0 && clientlog_report(s->cmd_log, (uint32_t)cmd_slot, now_real, &c)) {
                r.cmd_hits = c.cmd_hits;
                r.cmd_drops = c.cmd_drops;
                r.cmd_interval = c.cmd_interval;
                r.last_cmd_hit_ago = c.last_cmd_hit_ago;
            }
        } else {
            cmd_slot = i - ntp_cap;
            if (!clientlog_report(s->cmd_log, (uint32_t)cmd_slot, now_real, &r))
                continue;
            if (ntp_has_client(s, &r.addr, now_real))
                continue; /* shown with its NTP row */
        }
        uint64_t hits = (uint64_t)r.ntp_hits + r.nke_hits + r.cmd_hits;
        if (hits < q->min_hits)
            continue;
        /* -r resets the command counters; the NTP log is the executor's (read only here:
         * its records also drive rate limiting). */
        if (q->reset && cmd_slot >= 0)
            clientlog_reset_record(s->cmd_log, (uint32_t)cmd_slot);
        client_row(&r, &o->clients[o->n_clients++]);
    }
    o->next_index = i;
    return CMDMON_STT_SUCCESS;
}

/* BURST, ONLINE, OFFLINE on every source the mask/address selects. */
static int h_mask_cmd(struct cmdsrv *s, const struct cmdmon_request *req, int64_t now)
{
    const struct cmdmon_req_mask_addr *m = &req->u.mask_addr;
    int n = source_count(s), any = 0;
    for (int i = 0; i < n; i++) {
        struct report_source r;
        if (engine_source_report(s->engine, i, now, &r) != 0 || !mask_match(m, &r.remote))
            continue;
        any = 1;
        if (req->command == CMDMON_REQ_BURST) {
            (void)engine_burst(s->engine, r.id, m->n_good_samples, m->n_total_samples, now);
        } else {
            int online = req->command == CMDMON_REQ_ONLINE;
            (void)engine_set_online(s->engine, r.id, online, now);
            if (r.id >= 0 && r.id < CMDSRV_MAX_SOURCES)
                s->offline[r.id] = (uint8_t)!online;
        }
    }
    if (!any)
        return CMDMON_STT_NOSUCHSOURCE;
    if (s->hooks.engine_changed)
        s->hooks.engine_changed(s->hooks.ctx);
    return CMDMON_STT_SUCCESS;
}

/* cmdallow/cmddeny at run time: appended to the rule list (the lookup gives the most
 * specific match, and an `all` rule overrides earlier more specific ones). */
/* CMDALLOW..CMDDENYALL (cmd = 1) or ALLOW..DENYALL (cmd = 0): one more rule at the end of
 * the set, as a directive in the file would be. */
static int h_access(struct cmdsrv *s, const struct cmdmon_request *req, int cmd)
{
    const struct cmdmon_req_subnet *q = &req->u.subnet;
    struct access_rule *rules = cmd ? s->p.cmd_rules : s->p.ntp_rules;
    size_t *n = cmd ? &s->p.n_cmd_rules : &s->p.n_ntp_rules;
    if (*n >= CMDSRV_MAX_RULES)
        return CMDMON_STT_FAILED;
    unsigned c = req->command;
    struct access_rule r;
    memset(&r, 0, sizeof r);
    r.allow = c == CMDMON_REQ_CMDALLOW || c == CMDMON_REQ_CMDALLOWALL || c == CMDMON_REQ_ALLOW ||
              c == CMDMON_REQ_ALLOWALL;
    r.all = c == CMDMON_REQ_CMDALLOWALL || c == CMDMON_REQ_CMDDENYALL || c == CMDMON_REQ_ALLOWALL ||
            c == CMDMON_REQ_DENYALL;
    if (q->ip.family != CMDMON_FAMILY_UNSPEC) {
        if (from_ip(&q->ip, &r.subnet.addr) != 0)
            return CMDMON_STT_BADSUBNET;
        int max = r.subnet.addr.family == ADDR_INET4 ? 32 : 128;
        int bits = q->subnet_bits < 0 ? max : q->subnet_bits;
        if (bits > max)
            return CMDMON_STT_BADSUBNET;
        r.subnet.prefix_len = bits;
    }
    rules[(*n)++] = r;
    return CMDMON_STT_SUCCESS;
}

const struct access_rule *cmdsrv_ntp_rules(const struct cmdsrv *s, size_t *n)
{
    *n = s->p.n_ntp_rules;
    return s->p.ntp_rules;
}

static int h_accheck(const struct access_rule *rules, size_t n, const struct cmdmon_ip *ip)
{
    struct addr a;
    if (from_ip(ip, &a) != 0)
        return CMDMON_STT_BADSUBNET;
    return executor_access_allowed(rules, n, &a) == 1 ? CMDMON_STT_ACCESSALLOWED
                                                      : CMDMON_STT_ACCESSDENIED;
}

static int run_hook(struct cmdsrv *s, const struct cmdmon_request *req)
{
    if (!s->hooks.run)
        return CMDMON_STT_FAILED;
    int st = s->hooks.run(s->hooks.ctx, req);
    if (st == CMDMON_STT_SUCCESS && s->hooks.engine_changed)
        s->hooks.engine_changed(s->hooks.ctx);
    return st;
}

static int dispatch(struct cmdsrv *s, const struct cmdmon_request *req, size_t len, int64_t now,
                    int64_t now_real, struct cmdmon_reply *rep)
{
    switch (req->command) {
    case CMDMON_REQ_NULL:
        return CMDMON_STT_SUCCESS;
    case CMDMON_REQ_LOGON: /* obsolete: chronyd 4.3 answers FAILED (edge-cases/logon-cmd-10) */
        return CMDMON_STT_FAILED;
    case CMDMON_REQ_N_SOURCES:
        rep->reply = CMDMON_REP_N_SOURCES;
        rep->u.n_sources = (uint32_t)source_count(s);
        return CMDMON_STT_SUCCESS;
    case CMDMON_REQ_SOURCE_DATA:
        return h_source_data(s, req->u.index, now, rep);
    case CMDMON_REQ_TRACKING:
        return h_tracking(s, now, now_real, rep);
    case CMDMON_REQ_SOURCESTATS:
        return h_sourcestats(s, req->u.index, now, rep);
    case CMDMON_REQ_SELECT_DATA:
        return h_select_data(s, req->u.index, now, rep);
    case CMDMON_REQ_NTP_DATA:
        return h_ntp_data(s, req, len, now, rep);
    case CMDMON_REQ_NTP_SOURCE_NAME: {
        struct report_source r;
        if (find_source(s, &req->u.ip, now, &r) < 0)
            return CMDMON_STT_NOSUCHSOURCE;
        rep->reply = CMDMON_REP_NTP_SOURCE_NAME;
        memset(rep->u.ntp_source_name, 0, sizeof rep->u.ntp_source_name);
        memcpy(rep->u.ntp_source_name, r.name, strnlen(r.name, sizeof r.name));
        return CMDMON_STT_SUCCESS;
    }
    case CMDMON_REQ_AUTH_DATA: {
        struct report_source r;
        if (find_source(s, &req->u.ip, now, &r) < 0)
            return CMDMON_STT_NOSUCHSOURCE;
        rep->reply = CMDMON_REP_AUTH_DATA;          /* mode 0: no authentication */
        rep->u.auth_data.last_ke_ago = 0xFFFFFFFFu; /* no NTS-KE ever: chronyc prints "-" */
        if (r.key_id != 0) {
            /* chronyd: mode SK with the key's hash id and bits; a missing key shows 0, 0 */
            const struct keys_key *key = keys_find(engine_keys(s->engine), r.key_id);
            rep->u.auth_data.mode = 1;
            rep->u.auth_data.key_id = r.key_id;
            if (key) {
                rep->u.auth_data.key_type = (uint16_t)key->alg;
                rep->u.auth_data.key_length =
                    (uint16_t)(key->len * 8 > 0xFFFF ? 0xFFFF : key->len * 8);
            }
        }
        return CMDMON_STT_SUCCESS;
    }
    case CMDMON_REQ_ACTIVITY:
        return h_activity(s, rep);
    case CMDMON_REQ_SERVER_STATS:
        return h_server_stats(s, len, rep);
    case CMDMON_REQ_CLIENT_ACCESSES_BY_INDEX3:
        return h_clients(s, &req->u.clients, now_real, rep);
    case CMDMON_REQ_MANUAL_LIST:
        rep->reply = CMDMON_REP_MANUAL_LIST2; /* no manual samples */
        return CMDMON_STT_SUCCESS;
    case CMDMON_REQ_RTCREPORT:
    case CMDMON_REQ_WRITERTC:
    case CMDMON_REQ_TRIMRTC:
        return CMDMON_STT_NORTC; /* no RTC driver (chronyd without rtcfile) */
    case CMDMON_REQ_SMOOTHING:
        if (!s->smoothing)
            return CMDMON_STT_NOTENABLED; /* no smoothtime */
        rep->reply = CMDMON_REP_SMOOTHING;
        return s->smoothing(s->smoothing_ctx, -1, &rep->u.smoothing);
    case CMDMON_REQ_SMOOTHTIME:
        if (!s->smoothing)
            return CMDMON_STT_NOTENABLED;
        if (req->u.ival != 0 && req->u.ival != 1)
            return CMDMON_STT_INVALID; /* chronyd: only reset (0) and activate (1) */
        return s->smoothing(s->smoothing_ctx, req->u.ival, NULL);
    case CMDMON_REQ_MANUAL:
    case CMDMON_REQ_SETTIME:
        return CMDMON_STT_NOTENABLED; /* no `manual` */
    case CMDMON_REQ_MANUAL_DELETE:
        return CMDMON_STT_BADSAMPLE; /* there is no sample to delete (chronyd 4.3 alike) */
    case CMDMON_REQ_BURST:
    case CMDMON_REQ_ONLINE:
    case CMDMON_REQ_OFFLINE:
        return h_mask_cmd(s, req, now);
    case CMDMON_REQ_ONOFFLINE:
        /* chronyd: sources go online/offline with the routes; here every source is
         * reachable on loopback-style setups, so all go online. */
        for (int i = 0; i < CMDSRV_MAX_SOURCES; i++)
            s->offline[i] = 0;
        for (int i = 0, n = source_count(s); i < n; i++) {
            struct report_source r;
            if (engine_source_report(s->engine, i, now, &r) == 0)
                (void)engine_set_online(s->engine, r.id, 1, now);
        }
        if (s->hooks.engine_changed)
            s->hooks.engine_changed(s->hooks.ctx);
        return CMDMON_STT_SUCCESS;
    case CMDMON_REQ_MAKESTEP:
        if (!s->engine || s->p.clock_fixed)
            return CMDMON_STT_FAILED;
        engine_makestep(s->engine);
        if (s->hooks.engine_changed)
            s->hooks.engine_changed(s->hooks.ctx);
        return CMDMON_STT_SUCCESS;
    case CMDMON_REQ_CMDALLOW:
    case CMDMON_REQ_CMDALLOWALL:
    case CMDMON_REQ_CMDDENY:
    case CMDMON_REQ_CMDDENYALL:
        return h_access(s, req, 1);
    case CMDMON_REQ_ALLOW:
    case CMDMON_REQ_ALLOWALL:
    case CMDMON_REQ_DENY:
    case CMDMON_REQ_DENYALL: {
        /* The daemon takes the new set (cmdsrv_ntp_rules()) in its hook; without one the
         * rule stays unapplied: FAILED, and the set is left as it was. */
        size_t before = s->p.n_ntp_rules;
        int st = h_access(s, req, 0);
        if (st == CMDMON_STT_SUCCESS) {
            st = run_hook(s, req);
            if (st != CMDMON_STT_SUCCESS)
                s->p.n_ntp_rules = before;
        }
        return st;
    }
    case CMDMON_REQ_CMDACCHECK:
        return h_accheck(s->p.cmd_rules, s->p.n_cmd_rules, &req->u.ip);
    case CMDMON_REQ_ACCHECK:
        return h_accheck(s->p.ntp_rules, s->p.n_ntp_rules, &req->u.ip);
    case CMDMON_REQ_MODIFY_MINPOLL:
    case CMDMON_REQ_MODIFY_MAXPOLL:
    case CMDMON_REQ_MODIFY_MAXDELAY:
    case CMDMON_REQ_MODIFY_MAXDELAYRATIO:
    case CMDMON_REQ_MODIFY_MAXDELAYDEVRATIO:
    case CMDMON_REQ_MODIFY_MINSTRATUM:
    case CMDMON_REQ_MODIFY_POLLTARGET:
        return h_modify(s, req, now);
    case CMDMON_REQ_MODIFY_MAKESTEP:
    case CMDMON_REQ_MODIFY_MAXUPDATESKEW:
    case CMDMON_REQ_RESELECTDISTANCE:
    case CMDMON_REQ_DFREQ:
    case CMDMON_REQ_DOFFSET2:
    case CMDMON_REQ_MODIFY_SELECTOPTS:
    case CMDMON_REQ_MODIFY_OFFSET:
    case CMDMON_REQ_RESET_SOURCES:
        return h_engine_change(s, req, now);
    case CMDMON_REQ_LOCAL2:
    case CMDMON_REQ_LOCAL3: {
        /* The daemon's server follows in the hook; tracking here. */
        int st = run_hook(s, req);
        if (st == CMDMON_STT_SUCCESS) {
            const struct cmdmon_req_local *l = &req->u.local;
            s->p.local_enabled = l->on_off != 0;
            if (l->on_off) {
                s->p.local_stratum = l->stratum < 1 ? 1 : l->stratum > 15 ? 15 : (int)l->stratum;
                s->p.local_distance_s = l->distance_s;
            }
        }
        return st;
    }
    case CMDMON_REQ_DEL_SOURCE: {
        struct report_source r;
        if (find_source(s, &req->u.ip, now, &r) < 0)
            return CMDMON_STT_NOSUCHSOURCE;
        return run_hook(s, req);
    }
    default:
        return run_hook(s, req);
    }
}

size_t cmdsrv_handle(struct cmdsrv *s, enum cmdsrv_transport t, const struct addr *from,
                     const uint8_t *buf, size_t len, int64_t now_mono_ns, int64_t now_real_ns,
                     uint8_t *out, size_t cap)
{
    int local = t == CMDSRV_UNIX || (from && is_localhost(from));
    /* §4.4 step 1: UDP from a host cmdallow does not allow: silence. */
    if (t == CMDSRV_UDP && (!from || !cmdsrv_udp_allowed(s, from)))
        return 0;
    struct cmdmon_request req;
    memset(&req, 0, sizeof req);
    enum cmdmon_req_verdict v = cmdmon_request_decode(buf, len, &req);
    if (v == CMDMON_REQ_DROP) /* steps 2, 3 and versions below 5 */
        return 0;
    /* Step 4: counted; cmdratelimit applies to UDP from other hosts. */
    if (t == CMDSRV_UDP && from) {
        int32_t idx = clientlog_access(s->cmd_log, CLIENTLOG_CMD, from, now_real_ns);
        if (!local && clientlog_limit(s->cmd_log, CLIENTLOG_CMD, idx) != CLIENTLOG_ANSWER)
            return 0;
    }
    struct cmdmon_reply rep;
    memset(&rep, 0, sizeof rep);
    cmdmon_reply_init(&req, &rep);
    int status = cmdmon_verdict_status(v);
    if (status < 0) {
        if (t == CMDSRV_UDP && !cmdmon_request_open_udp(req.command))
            status = CMDMON_STT_UNAUTH;
        else
            status = dispatch(s, &req, len, now_mono_ns, now_real_ns, &rep);
    }
    if (status != CMDMON_STT_SUCCESS && status != CMDMON_STT_ACCESSALLOWED &&
        status != CMDMON_STT_ACCESSDENIED) {
        /* Failures carry reply NULL and an empty body (step 10). */
        uint32_t seq = rep.sequence;
        uint16_t cmd = rep.command;
        memset(&rep, 0, sizeof rep);
        cmdmon_reply_init(&req, &rep);
        rep.sequence = seq;
        rep.command = cmd;
    }
    rep.status = (uint16_t)status;
    int n = cmdmon_reply_encode(&rep, out, cap);
    if (n <= 0 || (size_t)n > len) /* step 11: never longer than the request */
        return 0;
    return (size_t)n;
}
