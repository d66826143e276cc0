/* The engine's sources and settings: default parameters, adding and removing sources (with
 * authselect's options), and the run-time commands (burst, online/offline, makestep, source
 * parameters, local, dfreq/doffset, selectopts, offset, leap table, reset sources). */
#include "core/engine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"
#include "core/discipline.h"
#include "core/engine_int.h"
#include "core/select.h"
#include "core/sfilter.h"
#include "core/srcstats.h"

#define INITIAL_DELAY_S 0.2 /* first poll after start (chrony) */

void engine_params_default(struct engine_params *p)
{
    memset(p, 0, sizeof(*p));
    p->makestep_threshold_s = 0.0;
    p->makestep_limit = 0;
    p->maxslewrate_ppm = 83333.333;
    p->maxupdateskew_ppm = 1000.0;
    p->corrtimeratio = 3.0;
    p->maxclockerror_ppm = 1.0;
    p->maxdrift_ppm = 500000.0;
    p->minsources = 1;
    p->maxdistance_s = 3.0;
    p->maxjitter_s = 1.0;
    p->reselectdist_s = 100e-6;
    p->stratumweight_s = 1e-3;
    p->combinelimit = 3.0;
}

void engine_set_keys(struct engine *e, const struct keys *keys)
{
    e->keys = keys;
}

const struct keys *engine_keys(const struct engine *e)
{
    return e->keys;
}

void engine_source_params_default(struct engine_source_params *p)
{
    memset(p, 0, sizeof(*p));
    p->kind = ENGINE_SOURCE_SERVER;
    p->minpoll_log2 = 6;
    p->maxpoll_log2 = 10;
    p->version = 4;
    p->polltarget = 8;
    p->minsamples = -1;
    p->maxsamples = -1;
    p->maxdelay_s = 3.0;
    p->maxdelayratio = 0.0;
    p->maxdelaydevratio = 10.0;
    p->asymmetry = 1.0;
}

/* authselectmode over the current sources (chronyd recounts at each add, remove and
 * selectopts): configured noselect sources are not counted and get nothing added. */
static void update_auth_opts(struct engine *e)
{
    int n_auth = 0, n_unauth = 0;
    for (int i = 0; i < e->nsrc; i++) {
        if (e->src[i]->sp.noselect)
            continue;
        if (e->src[i]->sp.key_id != 0)
            n_auth++;
        else
            n_unauth++;
    }
    unsigned auth = 0, unauth = 0;
    switch (e->p.authselect) {
    case ENGINE_AUTHSELECT_MIX:
        if (n_auth > 0 && n_unauth > 0)
            auth = ENGINE_SELECT_REQUIRE | ENGINE_SELECT_TRUST;
        break;
    case ENGINE_AUTHSELECT_PREFER:
        if (n_auth > 0)
            unauth = ENGINE_SELECT_NOSELECT;
        break;
    case ENGINE_AUTHSELECT_REQUIRE:
        unauth = ENGINE_SELECT_NOSELECT;
        break;
    default:
        break;
    }
    for (int i = 0; i < e->nsrc; i++) {
        struct source *s = e->src[i];
        s->auth_opts = s->sp.noselect ? 0 : s->sp.key_id != 0 ? auth : unauth;
    }
}

int engine_add_source(struct engine *e, const struct engine_source_params *sp,
                      const struct addr *remote, const char *name, int64_t now_mono_ns)
{
    if (e->nsrc >= ENGINE_MAX_SOURCES)
        return -ENOSPC;
    for (int i = 0; i < e->nsrc; i++)
        if (remote && addr_equal(&e->src[i]->remote, remote) && remote->family != ADDR_UNSPEC)
            return -EEXIST;
    struct source *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    if (sp)
        s->sp = *sp;
    else
        engine_source_params_default(&s->sp);
    s->sp.minpoll_log2 = clamp_int(s->sp.minpoll_log2, -6, 24);
    s->sp.maxpoll_log2 = clamp_int(s->sp.maxpoll_log2, -6, 24);
    if (s->sp.maxpoll_log2 < s->sp.minpoll_log2)
        s->sp.maxpoll_log2 = s->sp.minpoll_log2;
    if (s->sp.polltarget < 6)
        s->sp.polltarget = 6;
    if (s->sp.version < 0 || s->sp.version > 4)
        s->sp.version = 4; /* 0 stays: chosen per request from the key */
    s->id = e->next_id++;
    if (remote)
        s->remote = *remote;
    s->remote_refid = ntp_refid_from_addr(&s->remote);
    snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
    s->online = 1;
    /* Sub-second polls only once the source proves to be close (LAN, chrony's rule): 1 s
     * before that, even when maxpoll is below 0 (chronyd 4.3 shows poll 0 for an
     * unreachable minpoll -2 maxpoll -2 source). */
    s->poll = s->sp.minpoll_log2 < 0 ? 0 : s->sp.minpoll_log2;
    s->own_poll = s->chr_poll = s->poll;
    s->iv_factor = 1.0;
    srcstats_init(&s->st, s->sp.minsamples, s->sp.maxsamples);
    s->st.fixed_min_delay_s = s->sp.mindelay_s;
    sfilter_init(&s->flt, s->sp.filter);
    s->next_tx_mono = now_mono_ns + (int64_t)(INITIAL_DELAY_S * 1e9) +
                      (int64_t)prng_below(&e->prng, 20000000); /* spread sources 0-20 ms */
    if (s->sp.iburst) {
        start_burst(s, 4, 8);
        s->initial_burst = 1;
    }
    s->sel_state = SELECT_MISSING;
    s->stratum = 16;
    s->leap = 3;
    e->src[e->nsrc++] = s;
    update_auth_opts(e);
    return s->id;
}

int engine_remove_source(struct engine *e, int source_id)
{
    int i = find_index(e, source_id);
    if (i < 0)
        return -ENOENT;
    if (e->selected == i)
        e->selected = -1;
    else if (e->selected > i)
        e->selected--;
    free(e->src[i]);
    memmove(&e->src[i], &e->src[i + 1], sizeof(e->src[0]) * (size_t)(e->nsrc - i - 1));
    e->nsrc--;
    update_auth_opts(e);
    return 0;
}

int engine_burst(struct engine *e, int source_id, int n_good, int n_total, int64_t now_mono_ns)
{
    int i = find_index(e, source_id);
    if (i < 0)
        return -ENOENT;
    struct source *s = e->src[i];
    start_burst(s, n_good > 0 ? n_good : 1, n_total > 0 ? n_total : 1);
    s->next_tx_mono = now_mono_ns;
    return 0;
}

int engine_set_online(struct engine *e, int source_id, int online, int64_t now_mono_ns)
{
    int i = find_index(e, source_id);
    if (i < 0)
        return -ENOENT;
    struct source *s = e->src[i];
    if (online && !s->online) {
        s->next_tx_mono = now_mono_ns;
        if (s->sp.iburst) {
            start_burst(s, 4, 8);
            s->initial_burst = 1;
        }
    }
    s->online = online ? 1 : 0;
    return 0;
}

void engine_makestep(struct engine *e)
{
    e->makestep_pending = 1;
}

static double clamp_double(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int engine_set_source_param(struct engine *e, int source_id, enum engine_source_param which,
                            double value)
{
    int i = find_index(e, source_id);
    if (i < 0)
        return -ENOENT;
    if (isnan(value))
        return -EINVAL;
    struct source *s = e->src[i];
    int iv = (int)clamp_double(value, -1e6, 1e6);
    switch (which) {
    case ENGINE_PARAM_MINPOLL:
        s->sp.minpoll_log2 = clamp_int(iv, -6, 24);
        if (s->sp.maxpoll_log2 < s->sp.minpoll_log2)
            s->sp.maxpoll_log2 = s->sp.minpoll_log2;
        engine_poll_adjust(s, 0.0);
        return 0;
    case ENGINE_PARAM_MAXPOLL:
        s->sp.maxpoll_log2 = clamp_int(iv, -6, 24);
        if (s->sp.minpoll_log2 > s->sp.maxpoll_log2)
            s->sp.minpoll_log2 = s->sp.maxpoll_log2;
        engine_poll_adjust(s, 0.0);
        return 0;
    case ENGINE_PARAM_MAXDELAY:
        s->sp.maxdelay_s = clamp_double(value, 0.0, 1e3);
        return 0;
    case ENGINE_PARAM_MAXDELAYRATIO:
        s->sp.maxdelayratio = clamp_double(value, 0.0, 1e6);
        return 0;
    case ENGINE_PARAM_MAXDELAYDEVRATIO:
        s->sp.maxdelaydevratio = clamp_double(value, 0.0, 1e6);
        return 0;
    case ENGINE_PARAM_MINSTRATUM:
        s->sp.minstratum = clamp_int(iv, 0, 15);
        return 0;
    case ENGINE_PARAM_POLLTARGET:
        s->sp.polltarget = clamp_int(iv, 6, 60);
        return 0;
    }
    return -EINVAL;
}

int engine_set_source_local_refid(struct engine *e, int source_id, uint32_t refid)
{
    int i = find_index(e, source_id);
    if (i < 0)
        return -ENOENT;
    e->src[i]->local_refid = refid;
    return 0;
}

void engine_set_local(struct engine *e, int stratum, int orphan)
{
    e->p.local_stratum = stratum > 0 ? stratum : 0;
    e->p.local_orphan = stratum > 0 && orphan;
}

/* ---- Run-time changes (chronyc makestep/maxupdateskew/dfreq/doffset/selectopts/offset/
 * reset sources) ---- */

int engine_set_makestep(struct engine *e, double threshold_s, int limit)
{
    if (isnan(threshold_s))
        return -EINVAL;
    /* chronyd counts the limit down from now; here it is compared with n_updates. */
    e->p.makestep_threshold_s = threshold_s > 0.0 ? threshold_s : 1e-300;
    if (limit < 0 || e->n_updates > 1000000000u || limit > 1000000000)
        e->p.makestep_limit = -1;
    else
        e->p.makestep_limit = (int)e->n_updates + limit;
    return 0;
}

int engine_set_maxupdateskew(struct engine *e, double ppm)
{
    if (!(ppm >= 0.0))
        return -EINVAL;
    e->p.maxupdateskew_ppm = ppm;
    return 0;
}

int engine_set_reselectdist(struct engine *e, double distance_s)
{
    if (!(distance_s >= 0.0))
        return -EINVAL;
    e->p.reselectdist_s = distance_s;
    return 0;
}

int engine_adjust_freq(struct engine *e, double dfreq_ppm, int64_t now_mono_ns)
{
    if (isnan(dfreq_ppm))
        return -EINVAL;
    double t = tsec(e, now_mono_ns);
    discipline_advance(&e->d, t);
    /* chronyd's frequency is the clock's error (minus the adjustment): new = old + dfreq
     * (1 - old), in ppm; the running slew keeps its end. */
    double base = e->d.base_ppm - dfreq_ppm * (1.0 + e->d.base_ppm * 1e-6);
    double left = -discipline_remaining(&e->d, t);
    double dur = e->d.slew_ppm != 0.0 ? e->d.slew_end_s - t : 1.0;
    int failed = e->d.control_failed;
    e->d.control_failed = 0;
    discipline_correct(&e->d, t, left, dur, base);
    int r = e->d.control_failed ? -EIO : 0;
    e->d.control_failed |= failed;
    return r;
}

int engine_adjust_offset(struct engine *e, double offset_s, int64_t now_mono_ns)
{
    if (isnan(offset_s))
        return -EINVAL;
    double t = tsec(e, now_mono_ns);
    discipline_advance(&e->d, t);
    /* What the running slew still has to remove, plus the new offset, at the fastest
     * allowed rate (discipline_correct lengthens a too short duration). */
    double x = offset_s - discipline_remaining(&e->d, t);
    int failed = e->d.control_failed;
    e->d.control_failed = 0;
    discipline_correct(&e->d, t, x, 1e-3, e->d.base_ppm);
    int r = e->d.control_failed ? -EIO : 0;
    e->d.control_failed |= failed;
    return r;
}

int engine_set_select_opts(struct engine *e, int source_id, unsigned mask, unsigned options,
                           int64_t now_mono_ns)
{
    int i = find_index(e, source_id);
    if (i < 0)
        return -ENOENT;
    struct engine_source_params *sp = &e->src[i]->sp;
    if (mask & ENGINE_SELECT_NOSELECT)
        sp->noselect = (options & ENGINE_SELECT_NOSELECT) != 0;
    if (mask & ENGINE_SELECT_PREFER)
        sp->prefer = (options & ENGINE_SELECT_PREFER) != 0;
    if (mask & ENGINE_SELECT_TRUST)
        sp->trust = (options & ENGINE_SELECT_TRUST) != 0;
    if (mask & ENGINE_SELECT_REQUIRE)
        sp->require = (options & ENGINE_SELECT_REQUIRE) != 0;
    update_auth_opts(e);
    engine_select_now(e, tsec(e, now_mono_ns));
    return 0;
}

int engine_set_source_offset(struct engine *e, int source_id, double offset_s)
{
    int i = find_index(e, source_id);
    if (i < 0)
        return -ENOENT;
    if (!isfinite(offset_s))
        return -EINVAL;
    struct source *s = e->src[i];
    /* theta gains the change, so the local-clock offsets (-theta) lose it. */
    double d = offset_s - s->sp.offset_s;
    s->sp.offset_s = offset_s;
    for (int k = 0; k < s->st.n; k++) {
        s->st.s[k].y_s -= d;
        s->st.s[k].meas_s -= d;
    }
    sfilter_shift(&s->flt, d);
    if (s->have_sample)
        s->last_meas_s -= d;
    if (s->st.n > 0)
        srcstats_fit(&s->st);
    return 0;
}

void engine_set_leap_table(struct engine *e, const struct tzif_leaps *table)
{
    e->leap_table = table;
}

void engine_reset_sources(struct engine *e, int64_t now_mono_ns)
{
    for (int i = 0; i < e->nsrc; i++) {
        struct source *s = e->src[i];
        srcstats_clear(&s->st);
        sfilter_clear(&s->flt);
        s->have_sample = 0;
        s->reach = 0;
        s->stratum = 16;
        s->leap = 3;
    }
    engine_select_now(e, tsec(e, now_mono_ns));
}
