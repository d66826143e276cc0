/* The engine's saved registers (chronyd's dumpdir): a source's samples exported to and
 * imported from struct engine_saved_sample, in the frame of the clock as it will run on. */
#include "core/engine.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "core/discipline.h"
#include "core/engine_int.h"
#include "core/srcstats.h"

/* The saved frame: with kept, the steered clock continuing after now at the rate it runs
 * with now (local = raw + corr, corr growing at applied_ppm; nothing resets it at exit);
 * without, the raw clock itself, which is then the untouched system clock. frame(t) is what
 * is added to a raw offset at engine time t. */
static double saved_frame_s(const struct engine *e, int kept, double t_now, double t)
{
    if (!kept)
        return 0.0;
    return e->d.corr_s + e->d.applied_ppm * 1e-6 * (t - t_now);
}

int engine_source_export(struct engine *e, int source_id, int kept, int64_t now_mono_ns,
                         struct engine_saved_sample *out, int cap)
{
    int i = find_index(e, source_id);
    if (i < 0)
        return -ENOENT;
    double t_now = tsec(e, now_mono_ns);
    discipline_advance(&e->d, t_now);
    int64_t now_real = read_real(e);
    const struct srcstats *st = &e->src[i]->st;
    int n = st->n < cap ? st->n : cap;
    int first = st->n - n; /* the newest cap samples */
    for (int k = 0; k < n; k++) {
        const struct srcstats_sample *sm = &st->s[first + k];
        struct engine_saved_sample *o = &out[k];
        o->real_ns = now_real - (int64_t)llround((t_now - sm->t_s) * 1e9);
        o->offset_s = sm->y_s + saved_frame_s(e, kept, t_now, sm->t_s);
        o->delay_s = sm->delay_s;
        o->disp_s = sm->disp_s;
        o->root_delay_s = sm->root_delay_s;
        o->root_disp_s = sm->root_disp_s;
        o->stratum = sm->stratum;
        o->leap = sm->leap;
    }
    return n;
}

static int saved_sample_ok(const struct engine_saved_sample *in, int64_t prev_real,
                           int64_t now_real)
{
    return in->real_ns > prev_real && in->real_ns <= now_real && isfinite(in->offset_s) &&
           fabs(in->offset_s) < 1e9 && isfinite(in->delay_s) && in->delay_s >= 0.0 &&
           in->delay_s < 1e9 && isfinite(in->disp_s) && in->disp_s >= 0.0 && in->disp_s < 1e9 &&
           isfinite(in->root_delay_s) && in->root_delay_s >= 0.0 && in->root_delay_s < 1e9 &&
           isfinite(in->root_disp_s) && in->root_disp_s >= 0.0 && in->root_disp_s < 1e9 &&
           in->stratum >= 0 && in->stratum <= 16 && in->leap >= 0 && in->leap <= 3;
}

int engine_source_import(struct engine *e, int source_id, int kept,
                         const struct engine_saved_sample *in, int n, int64_t now_mono_ns)
{
    int i = find_index(e, source_id);
    if (i < 0)
        return -ENOENT;
    if (n < 1 || !in)
        return -EINVAL;
    double t_now = tsec(e, now_mono_ns);
    discipline_advance(&e->d, t_now);
    int64_t now_real = read_real(e);
    int64_t prev = INT64_MIN;
    for (int k = 0; k < n; k++) {
        if (!saved_sample_ok(&in[k], prev, now_real))
            return -EINVAL;
        prev = in[k].real_ns;
    }
    struct source *s = e->src[i];
    struct srcstats *st = &s->st;
    int first = n > st->max_samples ? n - st->max_samples : 0;
    srcstats_clear(st);
    for (int k = first; k < n; k++) {
        const struct engine_saved_sample *sv = &in[k];
        struct srcstats_sample *sm = &st->s[st->n++];
        memset(sm, 0, sizeof *sm);
        sm->t_s = t_now - (double)(now_real - sv->real_ns) * 1e-9;
        /* Back from the saved frame to this engine's raw clock, whose local clock was at
         * corr (extrapolated at the current rate) from it. */
        sm->y_s = sv->offset_s - saved_frame_s(e, kept, t_now, sm->t_s);
        sm->meas_s = sm->y_s + e->d.corr_s + e->d.applied_ppm * 1e-6 * (sm->t_s - t_now);
        sm->delay_s = sv->delay_s;
        sm->disp_s = sv->disp_s;
        sm->root_delay_s = sv->root_delay_s;
        sm->root_disp_s = sv->root_disp_s;
        sm->stratum = sv->stratum;
        sm->leap = sv->leap;
    }
    srcstats_set_model(st, e->q_choice.index);
    srcstats_fit(st);
    const struct srcstats_sample *last = srcstats_last(st);
    s->stratum = last->stratum;
    s->leap = last->leap;
    s->have_sample = 1;
    s->last_sample_t = last->t_s;
    s->last_meas_s = last->meas_s;
    s->last_meas_corr_s = last->meas_s - last->y_s;
    s->last_err_s = last->root_delay_s / 2.0 + last->root_disp_s;
    return st->n;
}
