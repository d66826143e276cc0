/* cmdmon: reply bodies (§8), both directions. Offsets are from the start of the body. */
#include <string.h>

#include "wire/cmdmon.h"
#include "wire/cmdmon_bytes.h"

#define CLIENT_REC_LEN 60
#define MANUAL_REC_LEN 24

static void put_source_data(const struct cmdmon_rep_source_data *s, uint8_t *b)
{
    cmdmon_put_ip(b, 0, &s->ip_addr);
    cmdmon_put16(b, 20, (uint16_t)s->poll);
    cmdmon_put16(b, 22, s->stratum);
    cmdmon_put16(b, 24, s->state);
    cmdmon_put16(b, 26, s->mode);
    cmdmon_put16(b, 28, s->flags);
    cmdmon_put16(b, 30, s->reachability);
    cmdmon_put32(b, 32, s->since_sample);
    cmdmon_putf(b, 36, s->orig_latest_meas);
    cmdmon_putf(b, 40, s->latest_meas);
    cmdmon_putf(b, 44, s->latest_meas_err);
}

static void get_source_data(const uint8_t *b, struct cmdmon_rep_source_data *s)
{
    cmdmon_get_ip(b, 0, &s->ip_addr);
    s->poll = cmdmon_geti16(b, 20);
    s->stratum = cmdmon_get16(b, 22);
    s->state = cmdmon_get16(b, 24);
    s->mode = cmdmon_get16(b, 26);
    s->flags = cmdmon_get16(b, 28);
    s->reachability = cmdmon_get16(b, 30);
    s->since_sample = cmdmon_get32(b, 32);
    s->orig_latest_meas = cmdmon_getf(b, 36);
    s->latest_meas = cmdmon_getf(b, 40);
    s->latest_meas_err = cmdmon_getf(b, 44);
}

static void put_tracking(const struct cmdmon_rep_tracking *t, uint8_t *b)
{
    cmdmon_put32(b, 0, t->ref_id);
    cmdmon_put_ip(b, 4, &t->ip_addr);
    cmdmon_put16(b, 24, t->stratum);
    cmdmon_put16(b, 26, t->leap_status);
    cmdmon_put_ts(b, 28, &t->ref_time);
    cmdmon_putf(b, 40, t->current_correction);
    cmdmon_putf(b, 44, t->last_offset);
    cmdmon_putf(b, 48, t->rms_offset);
    cmdmon_putf(b, 52, t->freq_ppm);
    cmdmon_putf(b, 56, t->resid_freq_ppm);
    cmdmon_putf(b, 60, t->skew_ppm);
    cmdmon_putf(b, 64, t->root_delay);
    cmdmon_putf(b, 68, t->root_dispersion);
    cmdmon_putf(b, 72, t->last_update_interval);
}

static void get_tracking(const uint8_t *b, struct cmdmon_rep_tracking *t)
{
    t->ref_id = cmdmon_get32(b, 0);
    cmdmon_get_ip(b, 4, &t->ip_addr);
    t->stratum = cmdmon_get16(b, 24);
    t->leap_status = cmdmon_get16(b, 26);
    cmdmon_get_ts(b, 28, &t->ref_time);
    t->current_correction = cmdmon_getf(b, 40);
    t->last_offset = cmdmon_getf(b, 44);
    t->rms_offset = cmdmon_getf(b, 48);
    t->freq_ppm = cmdmon_getf(b, 52);
    t->resid_freq_ppm = cmdmon_getf(b, 56);
    t->skew_ppm = cmdmon_getf(b, 60);
    t->root_delay = cmdmon_getf(b, 64);
    t->root_dispersion = cmdmon_getf(b, 68);
    t->last_update_interval = cmdmon_getf(b, 72);
}

static void put_sourcestats(const struct cmdmon_rep_sourcestats *s, uint8_t *b)
{
    cmdmon_put32(b, 0, s->ref_id);
    cmdmon_put_ip(b, 4, &s->ip_addr);
    cmdmon_put32(b, 24, s->n_samples);
    cmdmon_put32(b, 28, s->n_runs);
    cmdmon_put32(b, 32, s->span_seconds);
    cmdmon_putf(b, 36, s->sd);
    cmdmon_putf(b, 40, s->resid_freq_ppm);
    cmdmon_putf(b, 44, s->skew_ppm);
    cmdmon_putf(b, 48, s->est_offset);
    cmdmon_putf(b, 52, s->est_offset_err);
}

static void get_sourcestats(const uint8_t *b, struct cmdmon_rep_sourcestats *s)
{
    s->ref_id = cmdmon_get32(b, 0);
    cmdmon_get_ip(b, 4, &s->ip_addr);
    s->n_samples = cmdmon_get32(b, 24);
    s->n_runs = cmdmon_get32(b, 28);
    s->span_seconds = cmdmon_get32(b, 32);
    s->sd = cmdmon_getf(b, 36);
    s->resid_freq_ppm = cmdmon_getf(b, 40);
    s->skew_ppm = cmdmon_getf(b, 44);
    s->est_offset = cmdmon_getf(b, 48);
    s->est_offset_err = cmdmon_getf(b, 52);
}

static void put_ntp_data(const struct cmdmon_rep_ntp_data *n, uint8_t *b, int v2)
{
    cmdmon_put_ip(b, 0, &n->remote_addr);
    cmdmon_put_ip(b, 20, &n->local_addr);
    cmdmon_put16(b, 40, n->remote_port);
    cmdmon_put8(b, 42, n->leap);
    cmdmon_put8(b, 43, n->version);
    cmdmon_put8(b, 44, n->mode);
    cmdmon_put8(b, 45, n->stratum);
    cmdmon_put8(b, 46, (uint8_t)n->poll);
    cmdmon_put8(b, 47, (uint8_t)n->precision);
    cmdmon_putf(b, 48, n->root_delay);
    cmdmon_putf(b, 52, n->root_dispersion);
    cmdmon_put32(b, 56, n->ref_id);
    cmdmon_put_ts(b, 60, &n->ref_time);
    cmdmon_putf(b, 72, n->offset);
    cmdmon_putf(b, 76, n->peer_delay);
    cmdmon_putf(b, 80, n->peer_dispersion);
    cmdmon_putf(b, 84, n->response_time);
    cmdmon_putf(b, 88, n->jitter_asymmetry);
    cmdmon_put16(b, 92, n->flags);
    cmdmon_put8(b, 94, n->tx_tss_char);
    cmdmon_put8(b, 95, n->rx_tss_char);
    cmdmon_put32(b, 96, n->total_tx_count);
    cmdmon_put32(b, 100, n->total_rx_count);
    cmdmon_put32(b, 104, n->total_valid_count);
    cmdmon_put32(b, 108, n->total_good_count);
    if (v2) {
        cmdmon_put32(b, 112, n->total_kernel_tx_ts);
        cmdmon_put32(b, 116, n->total_kernel_rx_ts);
        cmdmon_put32(b, 120, n->total_hw_tx_ts);
        cmdmon_put32(b, 124, n->total_hw_rx_ts);
        memset(b + 128, 0xFF, 16); /* reserved[4] */
    } else {
        memset(b + 112, 0xFF, 12); /* reserved[3] */
    }
}

static void get_ntp_data(const uint8_t *b, struct cmdmon_rep_ntp_data *n, int v2)
{
    cmdmon_get_ip(b, 0, &n->remote_addr);
    cmdmon_get_ip(b, 20, &n->local_addr);
    n->remote_port = cmdmon_get16(b, 40);
    n->leap = cmdmon_get8(b, 42);
    n->version = cmdmon_get8(b, 43);
    n->mode = cmdmon_get8(b, 44);
    n->stratum = cmdmon_get8(b, 45);
    n->poll = cmdmon_geti8(b, 46);
    n->precision = cmdmon_geti8(b, 47);
    n->root_delay = cmdmon_getf(b, 48);
    n->root_dispersion = cmdmon_getf(b, 52);
    n->ref_id = cmdmon_get32(b, 56);
    cmdmon_get_ts(b, 60, &n->ref_time);
    n->offset = cmdmon_getf(b, 72);
    n->peer_delay = cmdmon_getf(b, 76);
    n->peer_dispersion = cmdmon_getf(b, 80);
    n->response_time = cmdmon_getf(b, 84);
    n->jitter_asymmetry = cmdmon_getf(b, 88);
    n->flags = cmdmon_get16(b, 92);
    n->tx_tss_char = cmdmon_get8(b, 94);
    n->rx_tss_char = cmdmon_get8(b, 95);
    n->total_tx_count = cmdmon_get32(b, 96);
    n->total_rx_count = cmdmon_get32(b, 100);
    n->total_valid_count = cmdmon_get32(b, 104);
    n->total_good_count = cmdmon_get32(b, 108);
    if (v2) {
        n->total_kernel_tx_ts = cmdmon_get32(b, 112);
        n->total_kernel_rx_ts = cmdmon_get32(b, 116);
        n->total_hw_tx_ts = cmdmon_get32(b, 120);
        n->total_hw_rx_ts = cmdmon_get32(b, 124);
    }
}

static void put_client(const struct cmdmon_rep_client *c, uint8_t *b)
{
    cmdmon_put_ip(b, 0, &c->ip);
    cmdmon_put32(b, 20, c->ntp_hits);
    cmdmon_put32(b, 24, c->nke_hits);
    cmdmon_put32(b, 28, c->cmd_hits);
    cmdmon_put32(b, 32, c->ntp_drops);
    cmdmon_put32(b, 36, c->nke_drops);
    cmdmon_put32(b, 40, c->cmd_drops);
    cmdmon_put8(b, 44, (uint8_t)c->ntp_interval);
    cmdmon_put8(b, 45, (uint8_t)c->nke_interval);
    cmdmon_put8(b, 46, (uint8_t)c->cmd_interval);
    cmdmon_put8(b, 47, (uint8_t)c->ntp_timeout_interval);
    cmdmon_put32(b, 48, c->last_ntp_hit_ago);
    cmdmon_put32(b, 52, c->last_nke_hit_ago);
    cmdmon_put32(b, 56, c->last_cmd_hit_ago);
}

static void get_client(const uint8_t *b, struct cmdmon_rep_client *c)
{
    cmdmon_get_ip(b, 0, &c->ip);
    c->ntp_hits = cmdmon_get32(b, 20);
    c->nke_hits = cmdmon_get32(b, 24);
    c->cmd_hits = cmdmon_get32(b, 28);
    c->ntp_drops = cmdmon_get32(b, 32);
    c->nke_drops = cmdmon_get32(b, 36);
    c->cmd_drops = cmdmon_get32(b, 40);
    c->ntp_interval = cmdmon_geti8(b, 44);
    c->nke_interval = cmdmon_geti8(b, 45);
    c->cmd_interval = cmdmon_geti8(b, 46);
    c->ntp_timeout_interval = cmdmon_geti8(b, 47);
    c->last_ntp_hit_ago = cmdmon_get32(b, 48);
    c->last_nke_hit_ago = cmdmon_get32(b, 52);
    c->last_cmd_hit_ago = cmdmon_get32(b, 56);
}

static void put_select_data(const struct cmdmon_rep_select_data *s, uint8_t *b)
{
    cmdmon_put32(b, 0, s->ref_id);
    cmdmon_put_ip(b, 4, &s->ip_addr);
    cmdmon_put8(b, 24, s->state_char);
    cmdmon_put8(b, 25, s->authentication);
    cmdmon_put8(b, 26, s->leap);
    cmdmon_put16(b, 28, s->conf_options);
    cmdmon_put16(b, 30, s->eff_options);
    cmdmon_put32(b, 32, s->last_sample_ago);
    cmdmon_putf(b, 36, s->score);
    cmdmon_putf(b, 40, s->lo_limit);
    cmdmon_putf(b, 44, s->hi_limit);
}

static void get_select_data(const uint8_t *b, struct cmdmon_rep_select_data *s)
{
    s->ref_id = cmdmon_get32(b, 0);
    cmdmon_get_ip(b, 4, &s->ip_addr);
    s->state_char = cmdmon_get8(b, 24);
    s->authentication = cmdmon_get8(b, 25);
    s->leap = cmdmon_get8(b, 26);
    s->conf_options = cmdmon_get16(b, 28);
    s->eff_options = cmdmon_get16(b, 30);
    s->last_sample_ago = cmdmon_get32(b, 32);
    s->score = cmdmon_getf(b, 36);
    s->lo_limit = cmdmon_getf(b, 40);
    s->hi_limit = cmdmon_getf(b, 44);
}

/* SERVER_STATS (14, ≤3.5) carries five counters in its own order. */
static const enum cmdmon_server_stat ss_v1_order[5] = {CMDMON_SS_NTP_HITS, CMDMON_SS_CMD_HITS,
                                                       CMDMON_SS_NTP_DROPS, CMDMON_SS_CMD_DROPS,
                                                       CMDMON_SS_LOG_DROPS};

static unsigned server_stats_fields(unsigned reply)
{
    switch (reply) {
    case CMDMON_REP_SERVER_STATS:
        return 5;
    case CMDMON_REP_SERVER_STATS2:
        return 8;
    case CMDMON_REP_SERVER_STATS3:
        return 11;
    default:
        return CMDMON_SERVER_STATS_MAX;
    }
}

static void put_server_stats(const struct cmdmon_rep_server_stats *s, unsigned reply, uint8_t *b)
{
    unsigned n = server_stats_fields(reply);
    for (unsigned i = 0; i < n; i++) {
        unsigned field = reply == CMDMON_REP_SERVER_STATS ? (unsigned)ss_v1_order[i] : i;
        if (reply == CMDMON_REP_SERVER_STATS4)
            cmdmon_put64(b, 8 * i, s->v[field]);
        else /* the 32-bit formats wrap like chronyd's counters */
            cmdmon_put32(b, 4 * i, (uint32_t)(s->v[field] & 0xFFFFFFFFu));
    }
    if (reply == CMDMON_REP_SERVER_STATS4)
        memset(b + 8 * CMDMON_SERVER_STATS_MAX, 0xFF, 32); /* reserved[4] */
}

static void get_server_stats(const uint8_t *b, unsigned reply, struct cmdmon_rep_server_stats *s)
{
    unsigned n = server_stats_fields(reply);
    s->n_fields = n;
    for (unsigned i = 0; i < n; i++) {
        unsigned field = reply == CMDMON_REP_SERVER_STATS ? (unsigned)ss_v1_order[i] : i;
        s->v[field] =
            reply == CMDMON_REP_SERVER_STATS4 ? cmdmon_get64(b, 8 * i) : cmdmon_get32(b, 4 * i);
    }
}

void cmdmon_rep_body_put(const struct cmdmon_reply *rep, uint8_t *b)
{
    switch (rep->reply) {
    case CMDMON_REP_N_SOURCES:
        cmdmon_put32(b, 0, rep->u.n_sources);
        break;
    case CMDMON_REP_SOURCE_DATA:
        put_source_data(&rep->u.source_data, b);
        break;
    case CMDMON_REP_TRACKING:
        put_tracking(&rep->u.tracking, b);
        break;
    case CMDMON_REP_SOURCESTATS:
        put_sourcestats(&rep->u.sourcestats, b);
        break;
    case CMDMON_REP_RTC:
        cmdmon_put_ts(b, 0, &rep->u.rtc.ref_time);
        cmdmon_put16(b, 12, rep->u.rtc.n_samples);
        cmdmon_put16(b, 14, rep->u.rtc.n_runs);
        cmdmon_put32(b, 16, rep->u.rtc.span_seconds);
        cmdmon_putf(b, 20, rep->u.rtc.rtc_seconds_fast);
        cmdmon_putf(b, 24, rep->u.rtc.rtc_gain_rate_ppm);
        break;
    case CMDMON_REP_ACTIVITY:
        cmdmon_puti32(b, 0, rep->u.activity.online);
        cmdmon_puti32(b, 4, rep->u.activity.offline);
        cmdmon_puti32(b, 8, rep->u.activity.burst_online);
        cmdmon_puti32(b, 12, rep->u.activity.burst_offline);
        cmdmon_puti32(b, 16, rep->u.activity.unresolved);
        break;
    case CMDMON_REP_SMOOTHING:
        cmdmon_put32(b, 0, rep->u.smoothing.flags);
        cmdmon_putf(b, 4, rep->u.smoothing.offset);
        cmdmon_putf(b, 8, rep->u.smoothing.freq_ppm);
        cmdmon_putf(b, 12, rep->u.smoothing.wander_ppm);
        cmdmon_putf(b, 16, rep->u.smoothing.last_update_ago);
        cmdmon_putf(b, 20, rep->u.smoothing.remaining_time);
        break;
    case CMDMON_REP_SERVER_STATS:
    case CMDMON_REP_SERVER_STATS2:
    case CMDMON_REP_SERVER_STATS3:
    case CMDMON_REP_SERVER_STATS4:
        put_server_stats(&rep->u.server_stats, rep->reply, b);
        break;
    case CMDMON_REP_NTP_DATA:
    case CMDMON_REP_NTP_DATA2:
        put_ntp_data(&rep->u.ntp_data, b, rep->reply == CMDMON_REP_NTP_DATA2);
        break;
    case CMDMON_REP_MANUAL_TIMESTAMP2:
        cmdmon_putf(b, 0, rep->u.manual_timestamp.offset);
        cmdmon_putf(b, 4, rep->u.manual_timestamp.dfreq_ppm);
        cmdmon_putf(b, 8, rep->u.manual_timestamp.new_afreq_ppm);
        break;
    case CMDMON_REP_MANUAL_LIST2: {
        const struct cmdmon_rep_manual_list *m = &rep->u.manual_list;
        uint32_t n = m->n_samples < CMDMON_MAX_MANUAL ? m->n_samples : CMDMON_MAX_MANUAL;
        cmdmon_put32(b, 0, n);
        for (uint32_t i = 0; i < n; i++) {
            size_t off = 4 + MANUAL_REC_LEN * i;
            cmdmon_put_ts(b, off, &m->samples[i].when);
            cmdmon_putf(b, off + 12, m->samples[i].slewed_offset);
            cmdmon_putf(b, off + 16, m->samples[i].orig_offset);
            cmdmon_putf(b, off + 20, m->samples[i].residual);
        }
        break;
    }
    case CMDMON_REP_NTP_SOURCE_NAME:
        memcpy(b, rep->u.ntp_source_name, strnlen(rep->u.ntp_source_name, CMDMON_NAME_LEN - 1));
        break;
    case CMDMON_REP_AUTH_DATA:
        cmdmon_put16(b, 0, rep->u.auth_data.mode);
        cmdmon_put16(b, 2, rep->u.auth_data.key_type);
        cmdmon_put32(b, 4, rep->u.auth_data.key_id);
        cmdmon_put16(b, 8, rep->u.auth_data.key_length);
        cmdmon_put16(b, 10, rep->u.auth_data.ke_attempts);
        cmdmon_put32(b, 12, rep->u.auth_data.last_ke_ago);
        cmdmon_put16(b, 16, rep->u.auth_data.cookies);
        cmdmon_put16(b, 18, rep->u.auth_data.cookie_length);
        cmdmon_put16(b, 20, rep->u.auth_data.nak);
        break;
    case CMDMON_REP_CLIENT_ACCESSES_BY_INDEX3: {
        const struct cmdmon_rep_client_accesses *c = &rep->u.client_accesses;
        uint32_t n = c->n_clients < CMDMON_MAX_CLIENTS ? c->n_clients : CMDMON_MAX_CLIENTS;
        cmdmon_put32(b, 0, c->n_indices);
        cmdmon_put32(b, 4, c->next_index);
        cmdmon_put32(b, 8, n);
        for (uint32_t i = 0; i < n; i++)
            put_client(&c->clients[i], b + 12 + CLIENT_REC_LEN * i);
        break;
    }
    case CMDMON_REP_SELECT_DATA:
        put_select_data(&rep->u.select_data, b);
        break;
    default:
        break; /* NULL: no body */
    }
}

void cmdmon_rep_body_get(const uint8_t *b, struct cmdmon_reply *rep)
{
    switch (rep->reply) {
    case CMDMON_REP_N_SOURCES:
        rep->u.n_sources = cmdmon_get32(b, 0);
        break;
    case CMDMON_REP_SOURCE_DATA:
        get_source_data(b, &rep->u.source_data);
        break;
    case CMDMON_REP_TRACKING:
        get_tracking(b, &rep->u.tracking);
        break;
    case CMDMON_REP_SOURCESTATS:
        get_sourcestats(b, &rep->u.sourcestats);
        break;
    case CMDMON_REP_RTC:
        cmdmon_get_ts(b, 0, &rep->u.rtc.ref_time);
        rep->u.rtc.n_samples = cmdmon_get16(b, 12);
        rep->u.rtc.n_runs = cmdmon_get16(b, 14);
        rep->u.rtc.span_seconds = cmdmon_get32(b, 16);
        rep->u.rtc.rtc_seconds_fast = cmdmon_getf(b, 20);
        rep->u.rtc.rtc_gain_rate_ppm = cmdmon_getf(b, 24);
        break;
    case CMDMON_REP_ACTIVITY:
        rep->u.activity.online = cmdmon_geti32(b, 0);
        rep->u.activity.offline = cmdmon_geti32(b, 4);
        rep->u.activity.burst_online = cmdmon_geti32(b, 8);
        rep->u.activity.burst_offline = cmdmon_geti32(b, 12);
        rep->u.activity.unresolved = cmdmon_geti32(b, 16);
        break;
    case CMDMON_REP_SMOOTHING:
        rep->u.smoothing.flags = cmdmon_get32(b, 0);
        rep->u.smoothing.offset = cmdmon_getf(b, 4);
        rep->u.smoothing.freq_ppm = cmdmon_getf(b, 8);
        rep->u.smoothing.wander_ppm = cmdmon_getf(b, 12);
        rep->u.smoothing.last_update_ago = cmdmon_getf(b, 16);
        rep->u.smoothing.remaining_time = cmdmon_getf(b, 20);
        break;
    case CMDMON_REP_SERVER_STATS:
    case CMDMON_REP_SERVER_STATS2:
    case CMDMON_REP_SERVER_STATS3:
    case CMDMON_REP_SERVER_STATS4:
        get_server_stats(b, rep->reply, &rep->u.server_stats);
        break;
    case CMDMON_REP_NTP_DATA:
    case CMDMON_REP_NTP_DATA2:
        get_ntp_data(b, &rep->u.ntp_data, rep->reply == CMDMON_REP_NTP_DATA2);
        break;
    case CMDMON_REP_MANUAL_TIMESTAMP2:
        rep->u.manual_timestamp.offset = cmdmon_getf(b, 0);
        rep->u.manual_timestamp.dfreq_ppm = cmdmon_getf(b, 4);
        rep->u.manual_timestamp.new_afreq_ppm = cmdmon_getf(b, 8);
        break;
    case CMDMON_REP_MANUAL_LIST2: {
        struct cmdmon_rep_manual_list *m = &rep->u.manual_list;
        m->n_samples = cmdmon_get32(b, 0);
        for (uint32_t i = 0; i < CMDMON_MAX_MANUAL; i++) {
            size_t off = 4 + MANUAL_REC_LEN * i;
            cmdmon_get_ts(b, off, &m->samples[i].when);
            m->samples[i].slewed_offset = cmdmon_getf(b, off + 12);
            m->samples[i].orig_offset = cmdmon_getf(b, off + 16);
            m->samples[i].residual = cmdmon_getf(b, off + 20);
        }
        break;
    }
    case CMDMON_REP_NTP_SOURCE_NAME:
        memcpy(rep->u.ntp_source_name, b, CMDMON_NAME_LEN);
        break;
    case CMDMON_REP_AUTH_DATA:
        rep->u.auth_data.mode = cmdmon_get16(b, 0);
        rep->u.auth_data.key_type = cmdmon_get16(b, 2);
        rep->u.auth_data.key_id = cmdmon_get32(b, 4);
        rep->u.auth_data.key_length = cmdmon_get16(b, 8);
        rep->u.auth_data.ke_attempts = cmdmon_get16(b, 10);
        rep->u.auth_data.last_ke_ago = cmdmon_get32(b, 12);
        rep->u.auth_data.cookies = cmdmon_get16(b, 16);
        rep->u.auth_data.cookie_length = cmdmon_get16(b, 18);
        rep->u.auth_data.nak = cmdmon_get16(b, 20);
        break;
    case CMDMON_REP_CLIENT_ACCESSES_BY_INDEX3: {
        struct cmdmon_rep_client_accesses *c = &rep->u.client_accesses;
        c->n_indices = cmdmon_get32(b, 0);
        c->next_index = cmdmon_get32(b, 4);
        c->n_clients = cmdmon_get32(b, 8);
        for (uint32_t i = 0; i < CMDMON_MAX_CLIENTS; i++)
            get_client(b + 12 + CLIENT_REC_LEN * i, &c->clients[i]);
        break;
    }
    case CMDMON_REP_SELECT_DATA:
        get_select_data(b, &rep->u.select_data);
        break;
    default:
        break;
    }
}
