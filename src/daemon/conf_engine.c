/* conf -> engine parameters (conf_engine.h). Clamping ranges are chrony 4.3's
 * (../shared/spec/chrony-conf-directives.md section 4.1). */
#include "daemon/conf_engine.h"

#include <math.h>
#include <string.h>

static double clamp(double v, double lo, double hi)
{
    if (isnan(v))
        return lo;
    return v < lo ? lo : v > hi ? hi : v;
}

void conf_engine_params(const struct conf *c, struct engine_params *p)
{
    memset(p, 0, sizeof *p);
    p->makestep_threshold_s = c->makestep_set ? c->makestep_threshold_s : 0.0;
    p->makestep_limit = c->makestep_set ? c->makestep_limit : 0;
    p->maxchange_offset_s = c->maxchange_set ? c->maxchange_offset_s : 0.0;
    p->maxchange_delay = c->maxchange_set ? c->maxchange_start : 0;
    p->maxchange_ignore = c->maxchange_set ? c->maxchange_ignore : 0;
    p->maxslewrate_ppm = c->maxslewrate_ppm;
    p->maxupdateskew_ppm = c->maxupdateskew_ppm;
    p->corrtimeratio = c->corrtimeratio;
    p->maxclockerror_ppm = c->maxclockerror_ppm;
    p->maxdrift_ppm = c->maxdrift_ppm;
    p->minsources = c->minsources;
    p->maxdistance_s = c->maxdistance_s;
    p->maxjitter_s = c->maxjitter_s;
    p->reselectdist_s = c->reselectdist_s;
    p->stratumweight_s = c->stratumweight_s;
    p->combinelimit = c->combinelimit;
    p->have_initial_freq = 0;
    /* orphan mode is the engine's selection rule (sources at the local stratum or above) */
    p->local_stratum = c->local_enabled ? c->local_stratum : 0;
    p->local_orphan = c->local_enabled && c->local_orphan;
    /* authselectmode is the engine's: chronyd recounts it over all sources (configured,
     * sourcedir, run-time) whenever one is added or removed. */
    p->authselect = c->authselectmode == CONF_AUTHSELECT_MIX       ? ENGINE_AUTHSELECT_MIX
                    : c->authselectmode == CONF_AUTHSELECT_PREFER  ? ENGINE_AUTHSELECT_PREFER
                    : c->authselectmode == CONF_AUTHSELECT_REQUIRE ? ENGINE_AUTHSELECT_REQUIRE
                                                                   : ENGINE_AUTHSELECT_IGNORE;
}

static int clamp_poll(int v, int dflt)
{
    if (v < -7)
        return dflt;
    return v > 24 ? 24 : v;
}

void conf_engine_source_params(const struct conf *c, const struct conf_source *s,
                               struct engine_source_params *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->kind = s->type == CONF_SOURCE_PEER ? ENGINE_SOURCE_PEER : ENGINE_SOURCE_SERVER;
    sp->minpoll_log2 = clamp_poll(s->minpoll, 6);
    sp->maxpoll_log2 = clamp_poll(s->maxpoll, 10);
    if (sp->maxpoll_log2 < sp->minpoll_log2)
        sp->maxpoll_log2 = sp->minpoll_log2;
    /* Bursts and presend need a server that answers on demand; peers ignore them. */
    sp->iburst = s->type != CONF_SOURCE_PEER && s->iburst;
    sp->burst = s->type != CONF_SOURCE_PEER && s->burst;
    sp->presend_log2 = s->type != CONF_SOURCE_PEER && s->presend != 100 ? s->presend : 0;
    sp->prefer = s->prefer;
    sp->noselect = s->noselect;
    sp->trust = s->trust;
    sp->require = s->require;
    sp->xleave = s->xleave;
    /* Unset: 4, or 3 with a key whose digest is longer than 20 octets (the engine decides
     * when it knows the key), as chronyd. */
    sp->version = s->version < 1 ? 0 : s->version > 4 ? 4 : s->version;
    if (s->xleave || s->extfields)
        sp->version = 4;
    sp->key_id = s->key_id;
    sp->minstratum = s->minstratum > 15 ? 15 : s->minstratum;
    sp->polltarget = s->polltarget;
    sp->minsamples = s->minsamples >= 0 ? s->minsamples : c->minsamples;
    sp->maxsamples = s->maxsamples >= 0 ? s->maxsamples : c->maxsamples > 0 ? c->maxsamples : -1;
    sp->filter = s->filter > 0 ? s->filter : 0;
    sp->maxdelay_s = clamp(s->maxdelay_s, 0.0, 1000.0);
    sp->maxdelayratio = clamp(s->maxdelayratio, 0.0, 1e6);
    sp->maxdelaydevratio = clamp(s->maxdelaydevratio, 0.0, 1e6);
    sp->mindelay_s = s->mindelay_s;
    sp->asymmetry = s->asymmetry == 1.0 ? 1.0 : clamp(s->asymmetry, -0.5, 0.5);
    sp->offset_s = s->offset_s;
}

/* Before, cmdsrv_io translated the request field by field onto the engine's defaults, and a
 * source added at run time ignored the global `minsamples`/`maxsamples`, its own presend,
 * mindelay and asymmetry, and chronyd's clamping. */
void conf_source_from_cmdmon(const struct cmdmon_req_add_source *a, struct conf_source *cs)
{
    conf_source_init(cs);
    cs->type = a->type == CMDMON_ADD_PEER   ? CONF_SOURCE_PEER
               : a->type == CMDMON_ADD_POOL ? CONF_SOURCE_POOL
                                            : CONF_SOURCE_SERVER;
    cs->port = (int)a->port;
    cs->minpoll = a->minpoll;
    cs->maxpoll = a->maxpoll;
    cs->presend = a->presend_minpoll;
    cs->minstratum = (int)a->min_stratum;
    cs->polltarget = (int)a->poll_target;
    cs->version = a->version <= 4 ? (int)a->version : 4;
    cs->minsamples = a->min_samples >= 0 ? (int)a->min_samples : -1;
    cs->maxsamples = a->max_samples >= 0 ? (int)a->max_samples : -1;
    cs->filter = a->filter_length > 0 ? (int)a->filter_length : 0;
    cs->key_id = a->authkey; /* signed requests, test 5, authselectmode */
    cs->iburst = (a->flags & CMDMON_ADD_FLAG_IBURST) != 0;
    cs->burst = (a->flags & CMDMON_ADD_FLAG_BURST) != 0;
    cs->prefer = (a->flags & CMDMON_ADD_FLAG_PREFER) != 0;
    cs->noselect = (a->flags & CMDMON_ADD_FLAG_NOSELECT) != 0;
    cs->trust = (a->flags & CMDMON_ADD_FLAG_TRUST) != 0;
    cs->require = (a->flags & CMDMON_ADD_FLAG_REQUIRE) != 0;
    cs->xleave = (a->flags & CMDMON_ADD_FLAG_INTERLEAVED) != 0;
    /* 0 (or less) for the delays means "not given" to older clients: the default stays */
    if (a->max_delay > 0)
        cs->maxdelay_s = a->max_delay;
    cs->maxdelayratio = a->max_delay_ratio;
    if (a->max_delay_dev_ratio > 0)
        cs->maxdelaydevratio = a->max_delay_dev_ratio;
    cs->mindelay_s = a->min_delay;
    cs->asymmetry = a->asymmetry;
    cs->offset_s = a->offset;
}
