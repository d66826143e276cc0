/* The engine's reports: tracking, the source list and ntpdata (engine_source_report), and the
 * reference our server and symmetric packets carry (engine_reference). Read-only. */
#include "core/engine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/discipline.h"
#include "core/engine_int.h"
#include "core/select.h"
#include "core/srcstats.h"
#include "wire/ntp.h"

static uint32_t secs_u32(double s)
{
    if (!(s >= 0.0))
        return 0;
    if (s >= 4294967294.0)
        return 4294967294u;
    return (uint32_t)s;
}

void engine_tracking(const struct engine *e, int64_t now_mono_ns, struct report_tracking *r)
{
    memset(r, 0, sizeof(*r));
    double t = tsec(e, now_mono_ns);
    r->synced = e->synced;
    r->selected_source_id = e->synced && e->selected >= 0 ? e->src[e->selected]->id : -1;
    if (e->synced) {
        r->ref_id = e->ref_id;
        r->ref_addr = e->ref_addr;
        r->stratum = e->stratum;
        r->leap_status = e->leap;
    } else {
        r->ref_addr.family = ADDR_UNSPEC;
        r->leap_status = 3;
    }
    r->ref_time_real_ns = e->ref_time_real_ns;
    r->current_correction_s = discipline_remaining(&e->d, t);
    r->last_offset_s = e->last_offset_s;
    r->rms_offset_s = sqrt(e->rms_offset2);
    r->freq_ppm = -e->d.base_ppm;
    if (e->synced && e->selected >= 0)
        r->resid_freq_ppm = (e->src[e->selected]->st.b - e->freq) * 1e6;
    r->skew_ppm = e->skew * 1e6;
    r->root_delay_s = e->root_delay_s;
    double age = e->n_updates ? t - e->last_update_t : 0.0;
    r->root_dispersion_s = e->root_disp_s + fabs(age) * (e->skew + e->p.maxclockerror_ppm * 1e-6);
    r->last_update_interval_s = e->n_updates > 1 ? e->last_update_t - e->prev_update_t : 0.0;
    r->n_updates = e->n_updates;
    r->n_steps = e->d.n_steps;
    r->applied_freq_ppm = e->d.applied_ppm;

    /* Current estimate of our offset: the combined model of the selected sources now. */
    double so = 0.0, sw = 0.0, sv = 0.0;
    struct discipline d = e->d;
    discipline_advance(&d, t);
    for (int i = 0; i < e->nsrc; i++) {
        const struct source *s = e->src[i];
        if (s->weight <= 0.0 || s->st.n == 0)
            continue;
        double var;
        double y = srcstats_predict(&s->st, t, WANDER_PPM, &var);
        so += s->weight * (y + d.corr_s);
        sw += s->weight;
        sv += s->weight * s->weight * var;
    }
    if (sw > 0.0) {
        r->est_offset_s = so / sw;
        r->est_offset_err_s = sqrt(sv) / sw;
    }
}

int engine_source_count(const struct engine *e)
{
    return e->nsrc;
}

int engine_source_index(const struct engine *e, int source_id)
{
    int i = find_index(e, source_id);
    return i < 0 ? -ENOENT : i;
}

static int state_of(int sel)
{
    switch (sel) {
    case SELECT_BEST:
        return REPORT_STATE_SELECTED;
    case SELECT_COMBINED:
        return REPORT_STATE_UNSELECTED;
    case SELECT_FALSETICKER:
    case SELECT_UNTRUSTED:
        return REPORT_STATE_FALSETICKER;
    case SELECT_JITTERY:
        return REPORT_STATE_JITTERY;
    case SELECT_DISTANT:
    case SELECT_NOT_PREFERRED:
    case SELECT_WAITS:
    case SELECT_WAITS_REQUIRE:
    case SELECT_WAITS_UPDATE:
        return REPORT_STATE_SELECTABLE;
    default:
        return REPORT_STATE_NONSELECTABLE;
    }
}

int engine_source_report(const struct engine *e, int index, int64_t now_mono_ns,
                         struct report_source *r)
{
    if (index < 0 || index >= e->nsrc)
        return -ENOENT;
    const struct source *s = e->src[index];
    double t = tsec(e, now_mono_ns);
    struct discipline d = e->d;
    discipline_advance(&d, t);
    memset(r, 0, sizeof(*r));
    r->id = s->id;
    snprintf(r->name, sizeof(r->name), "%s", s->name);
    r->remote = s->remote;
    r->ref_id = s->remote_refid;
    r->mode = s->sp.kind == ENGINE_SOURCE_PEER ? 1 : 0;
    r->state = s->sel_state == SELECT_BEST && !e->synced ? REPORT_STATE_SELECTABLE
                                                         : state_of(s->sel_state);
    r->poll_log2 = s->poll;
    r->stratum = s->have_pkt ? s->stratum : 0;
    r->reach = s->reach;
    r->since_sample_s = s->have_sample ? secs_u32(t - s->last_sample_t) : UINT32_MAX;
    r->orig_latest_meas_s = s->last_meas_s;
    /* Adjusted for corrections made since the sample was taken: what moved the clock away
     * from the timeline the current frequency defines (slews, steps, frequency changes), not
     * the frequency compensation itself, as chronyd's adjusted offset. */
    r->latest_meas_s = s->have_sample ? s->last_meas_s + (d.corr_s - s->last_meas_corr_s) -
                                            d.base_ppm * 1e-6 * (t - s->last_sample_t)
                                      : s->last_meas_s;
    r->latest_meas_err_s = s->last_err_s;

    r->n_samples = (uint32_t)s->st.n;
    r->n_runs = (uint32_t)s->st.runs;
    r->span_s = s->st.n > 1 ? secs_u32(s->st.s[s->st.n - 1].t_s - s->st.s[0].t_s) : 0;
    r->sd_s = s->st.n > 0 ? s->st.sd_s : 4.0;
    /* Source's frequency relative to our clock as now corrected. */
    r->resid_freq_ppm =
        s->st.n > 1 ? (s->st.b - discipline_freq_for_base(&d, d.base_ppm)) * 1e6 : 0.0;
    r->skew_ppm = s->st.skew * 1e6;
    if (s->st.n > 0) {
        double var;
        double y = srcstats_predict(&s->st, t, WANDER_PPM, &var);
        r->est_offset_s = y + d.corr_s;
        r->est_offset_err_s = sqrt(var);
    }

    r->remote_port = s->remote.port;
    if (s->have_pkt) {
        r->leap = s->pkt.leap;
        r->version = s->pkt.version;
        r->pkt_mode = s->pkt.mode;
        r->pkt_stratum = s->pkt.stratum;
        r->pkt_poll = s->pkt.poll;
        r->precision = s->pkt.precision;
        r->root_delay_s = ntp_root_delay_s(&s->pkt);
        r->root_dispersion_s = ntp_root_dispersion_s(&s->pkt);
        r->pkt_ref_id = s->pkt.refid;
        r->pkt_ref_time_real_ns =
            ntp_time_is_zero(s->pkt.reference) ? 0 : ntp_time_to_ns(s->pkt.reference, read_real(e));
    } else {
        r->leap = 3;
    }
    r->offset_s = s->offset_theta_s;
    r->peer_delay_s = s->delay_s;
    r->peer_dispersion_s = s->disp_s;
    r->response_time_s = s->resp_s;
    r->jitter_asymmetry = s->st.has_alpha ? s->st.alpha : 0.0;
    r->test_flags = s->test_flags;
    r->key_id = s->sp.key_id;
    r->tx_tss_char = s->last_tx_kernel ? 'K' : 'D';
    r->rx_tss_char = 'D';
    r->total_kernel_tx = s->total_kernel_tx;
    r->total_tx = s->total_tx;
    r->total_rx = s->total_rx;
    r->total_valid = s->total_valid;
    r->total_good = s->total_good;

    r->select_state_char = (char)s->sel_state;
    r->conf_options =
        (s->sp.noselect ? REPORT_OPT_NOSELECT : 0) | (s->sp.prefer ? REPORT_OPT_PREFER : 0) |
        (s->sp.trust ? REPORT_OPT_TRUST : 0) | (s->sp.require ? REPORT_OPT_REQUIRE : 0);
    r->eff_options = r->conf_options |
                     (s->auth_opts & ENGINE_SELECT_NOSELECT ? REPORT_OPT_NOSELECT : 0) |
                     (s->auth_opts & ENGINE_SELECT_TRUST ? REPORT_OPT_TRUST : 0) |
                     (s->auth_opts & ENGINE_SELECT_REQUIRE ? REPORT_OPT_REQUIRE : 0);
    r->last_sample_ago_s = r->since_sample_s == UINT32_MAX ? 0 : r->since_sample_s;
    r->score = s->sel_score < 1.0 ? 1.0 : s->sel_score; /* 0 before the first selection */
    r->lo_limit_s = s->lo_s;
    r->hi_limit_s = s->hi_s;
    r->select_leap = s->leap;
    if (s->sel_state != SELECT_BEST) {
        const char *why = select_state_text(s->sel_state);
        if (s->sel_state == SELECT_STALE && s->reach == 0)
            why = "unreachable: no valid reply to the last 8 requests";
        if (!s->online)
            why = "offline";
        snprintf(r->reason, sizeof(r->reason), "%s", why);
    } else if (!e->synced) {
        snprintf(r->reason, sizeof(r->reason), "%s", "best, but the clock is not updated yet");
    }
    return 0;
}

void engine_reference(const struct engine *e, int64_t now_mono_ns, struct report_reference *r)
{
    struct report_tracking tr;
    engine_tracking(e, now_mono_ns, &tr);
    memset(r, 0, sizeof(*r));
    r->synced = e->synced;
    if (e->synced) {
        r->leap = tr.leap_status;
        r->stratum = tr.stratum > 15 ? 15 : tr.stratum;
        r->ref_id = tr.ref_id;
    } else {
        r->leap = 3;
        r->stratum = 16;
        r->ref_id = 0;
    }
    r->ref_time_real_ns = tr.ref_time_real_ns;
    r->root_delay_s = tr.root_delay_s;
    r->root_dispersion_s = tr.root_dispersion_s;
    r->freq_ppm = tr.freq_ppm;
}
