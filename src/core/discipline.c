#include "core/discipline.h"

#include <math.h>

static void apply(struct discipline *d, double ppm)
{
    if (ppm > d->max_ppm)
        ppm = d->max_ppm;
    if (ppm < -d->max_ppm)
        ppm = -d->max_ppm;
    if (ppm == d->applied_ppm)
        return;
    if (d->clock && d->clock->set_freq_ppm && d->clock->set_freq_ppm(d->clock->ctx, ppm) == 0)
        d->applied_ppm = ppm;
    else
        d->control_failed = 1;
}

void discipline_init(struct discipline *d, const struct clock_ops *clock, double t_s,
                     double base_ppm, double max_ppm, double maxslew_ppm)
{
    d->clock = clock;
    d->t_s = t_s;
    d->corr_s = 0.0;
    d->base_ppm = base_ppm;
    d->slew_ppm = 0.0;
    d->slew_end_s = t_s;
    d->max_ppm = max_ppm > 0.0 ? max_ppm : 500.0;
    d->maxslew_ppm = maxslew_ppm > 0.0 ? maxslew_ppm : 83333.333;
    d->control_failed = 0;
    d->n_steps = 0;
    d->steps_s = 0.0;
    d->leap = CLOCK_LEAP_NONE;
    d->mono_is_raw = 0;
    /* Force the first set_freq_ppm(): the clock's previous setting is unknown. */
    d->applied_ppm = NAN;
    apply(d, base_ppm);
    if (isnan(d->applied_ppm))
        d->applied_ppm = 0.0;
}

/* Correction gained per second of engine time at adjustment ppm. Engine time is the
 * monotonic clock, which (like Linux CLOCK_MONOTONIC) runs at the disciplined rate, so a
 * mono second lasts 1/(1 + a) true seconds: at 83333 ppm this is 8 % of the slew. */
static double gain_per_s(const struct discipline *d, double ppm)
{
    double a = ppm * 1e-6;
    return d->mono_is_raw ? a : a / (1.0 + a);
}

void discipline_advance(struct discipline *d, double t_s)
{
    if (t_s <= d->t_s)
        return;
    /* The clock runs at the slew's rate until this call sets the base frequency back, so a
     * slew ended late (the daemon's timer: poll() waits whole milliseconds, up to 1 ms late,
     * 83 us of correction at the largest slew rate) overshoots, and the correction says so:
     * the overshoot is then measured as offset and corrected like any other. Counting the
     * slew as ended on time instead made every later sample disagree with the ones before
     * by that much (slew05 under simhost: 18-72 us, a level shift that chrony's runs test
     * trimmed, polls held at 6: 39 requests to chronyd's 32). */
    d->corr_s += gain_per_s(d, d->applied_ppm) * (t_s - d->t_s);
    d->t_s = t_s;
    if (d->slew_ppm != 0.0 && d->slew_end_s <= t_s) {
        d->slew_ppm = 0.0;
        apply(d, d->base_ppm);
    }
}

double discipline_remaining(const struct discipline *d, double t_s)
{
    if (d->slew_ppm == 0.0 || d->slew_end_s <= t_s)
        return 0.0;
    return (gain_per_s(d, d->applied_ppm) - gain_per_s(d, d->base_ppm)) * (d->slew_end_s - t_s);
}

/* Tells the clock's optional observer what discipline_correct() started. */
static void notify_corrected(const struct discipline *d, double t_s)
{
    if (d->clock && d->clock->corrected)
        d->clock->corrected(d->clock->ctx, discipline_remaining(d, t_s),
                            fmax(0.0, d->slew_end_s - t_s), d->base_ppm);
}

double discipline_correct(struct discipline *d, double t_s, double offset_s, double duration_s,
                          double base_ppm)
{
    discipline_advance(d, t_s);
    if (base_ppm > d->max_ppm)
        base_ppm = d->max_ppm;
    if (base_ppm < -d->max_ppm)
        base_ppm = -d->max_ppm;
    d->base_ppm = base_ppm;
    double room = fmin(d->maxslew_ppm, d->max_ppm - fabs(base_ppm));
    if (room < 1e-3)
        room = 1e-3;
    if (duration_s < 1e-3)
        duration_s = 1e-3;
    double rate = fabs(offset_s) / duration_s * 1e6;
    if (rate > room)
        duration_s = fabs(offset_s) * 1e6 / room;
    if (offset_s == 0.0) {
        d->slew_ppm = 0.0;
        d->slew_end_s = t_s;
        apply(d, base_ppm);
        notify_corrected(d, t_s);
        return 0.0;
    }
    d->slew_ppm = -offset_s / duration_s * 1e6;
    apply(d, base_ppm + d->slew_ppm);
    /* The slew ends when the correction is done at the rate the clock actually runs with
     * (it may have clamped), in engine (mono) time. */
    double g = gain_per_s(d, d->applied_ppm) - gain_per_s(d, base_ppm);
    if (g != 0.0 && (g > 0) == (d->slew_ppm > 0)) {
        d->slew_ppm = d->applied_ppm - base_ppm;
        d->slew_end_s = t_s + fabs(offset_s) / fabs(g);
    } else {
        d->slew_ppm = 0.0;
        d->slew_end_s = t_s;
        apply(d, base_ppm);
    }
    notify_corrected(d, t_s);
    return d->slew_end_s - t_s;
}

int discipline_step(struct discipline *d, double t_s, double offset_s)
{
    discipline_advance(d, t_s);
    if (!d->clock || !d->clock->step_s) {
        d->control_failed = 1;
        return -1;
    }
    int r = d->clock->step_s(d->clock->ctx, -offset_s);
    if (r != 0) {
        d->control_failed = 1;
        return r;
    }
    d->corr_s -= offset_s;
    d->steps_s -= offset_s;
    d->n_steps++;
    d->slew_ppm = 0.0;
    d->slew_end_s = t_s;
    apply(d, d->base_ppm);
    return 0;
}

void discipline_set_leap(struct discipline *d, int leap)
{
    if (leap == d->leap)
        return;
    if (d->clock && d->clock->set_leap &&
        d->clock->set_leap(d->clock->ctx, (enum clock_leap)leap) == 0)
        d->leap = leap;
}

double discipline_base_for_freq(const struct discipline *d, double raw_freq)
{
    if (d->mono_is_raw)
        return -raw_freq * 1e6;
    return -raw_freq * (1e6 + d->base_ppm);
}

double discipline_freq_for_base(const struct discipline *d, double base_ppm)
{
    double a = base_ppm * 1e-6;
    if (d->mono_is_raw || a <= -1.0)
        return -a;
    return -a / (1.0 + a);
}

double discipline_next_event(const struct discipline *d)
{
    return d->slew_ppm != 0.0 ? d->slew_end_s : 1e300;
}

void discipline_freq_prior(double f, double v, double centre, double narrow, double wide,
                           double p_wide, double *f_out, double *v_out)
{
    *f_out = f;
    *v_out = v;
    if (!(v > 0.0) || !(narrow > 0.0))
        return;
    const double sd[2] = {narrow, wide > 0.0 ? wide : narrow};
    const double pk[2] = {1.0 - p_wide, wide > 0.0 ? p_wide : 0.0};
    double lw[2], m[2], pv[2];
    for (int k = 0; k < 2; k++) {
        double v0 = sd[k] * sd[k];
        double tot = v0 + v;
        double z = f - centre;
        /* log of the prior weight times the estimate's marginal density under part k */
        lw[k] = (pk[k] > 0.0 ? log(pk[k]) : -INFINITY) - 0.5 * log(tot) - 0.5 * z * z / tot;
        m[k] = centre + z * v0 / tot;
        pv[k] = v0 * v / tot;
    }
    double top = fmax(lw[0], lw[1]);
    double w0 = exp(lw[0] - top), w1 = exp(lw[1] - top);
    double ws = w0 + w1;
    w0 /= ws;
    w1 /= ws;
    double mean = w0 * m[0] + w1 * m[1];
    *f_out = mean;
    *v_out =
        w0 * (pv[0] + (m[0] - mean) * (m[0] - mean)) + w1 * (pv[1] + (m[1] - mean) * (m[1] - mean));
}
