/* Simulated clock (see clock.h). The frequency error is integrated exactly over true time:
 * piecewise constant parts (oscillator offset, wander, adjustment) times the interval, plus
 * the closed-form integral of the sine swing; the wander changes only at fixed true-time
 * grid points, so the clock's path does not depend on when it is read. */
#include "sim/clock.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define NS_PER_S 1000000000LL
#define DAY_S    86400LL

void simclock_params_default(struct simclock_params *p)
{
    memset(p, 0, sizeof(*p));
}

static double max_freq(const struct simclock *c)
{
    return c->p.max_freq_ppm > 0 ? c->p.max_freq_ppm : SIMCLOCK_MAX_FREQ_PPM;
}

static double sine_ppm(const struct simclock *c, int64_t t_ns)
{
    if (c->p.temp_period_s <= 0 || c->p.temp_ppm == 0)
        return 0;
    double w = 2 * M_PI / c->p.temp_period_s;
    return c->p.temp_ppm * sin(w * ((double)t_ns / NS_PER_S) + c->p.temp_phase_rad);
}

/* Integral of the sine swing over [t0, t1], in ppm * s. */
static double sine_integral(const struct simclock *c, int64_t t0_ns, int64_t t1_ns)
{
    if (c->p.temp_period_s <= 0 || c->p.temp_ppm == 0)
        return 0;
    double w = 2 * M_PI / c->p.temp_period_s, ph = c->p.temp_phase_rad;
    double a = w * ((double)t0_ns / NS_PER_S) + ph, b = w * ((double)t1_ns / NS_PER_S) + ph;
    return c->p.temp_ppm / w * (cos(a) - cos(b));
}

static void integrate(struct simclock *c, int64_t t1_ns)
{
    double dt_s = (double)(t1_ns - c->t_ns) / NS_PER_S;
    double ppm_s =
        (c->p.freq_ppm + c->wander_ppm + c->adj_ppm) * dt_s + sine_integral(c, c->t_ns, t1_ns);
    c->x_s += ppm_s * 1e-6;
    c->y_s += (c->p.mono_raw ? ppm_s - c->adj_ppm * dt_s : ppm_s) * 1e-6;
    c->t_ns = t1_ns;
}

static int64_t local_cont_ns(const struct simclock *c)
{
    return c->epoch_real_ns + c->t_ns + (int64_t)llround(c->x_s * NS_PER_S);
}

/* Applies an armed leap once the local real clock has reached the end of its UTC day, as
 * the kernel does: an insertion repeats the last second (23:59:60 reads as 23:59:59), a
 * deletion skips 23:59:59. */
static void local_leap(struct simclock *c)
{
    if (c->armed == CLOCK_LEAP_NONE)
        return;
    int64_t real = local_cont_ns(c) - c->local_leaps_s * NS_PER_S;
    if (c->armed == CLOCK_LEAP_INSERT && real >= c->leap_boundary_ns) {
        c->local_leaps_s++;
        c->armed = CLOCK_LEAP_NONE;
        c->leaps_applied++;
    } else if (c->armed == CLOCK_LEAP_DELETE && real >= c->leap_boundary_ns - NS_PER_S) {
        c->local_leaps_s--;
        c->armed = CLOCK_LEAP_NONE;
        c->leaps_applied++;
    }
}

static void advance(struct simclock *c)
{
    int64_t now = *c->now_ns;
    if (now <= c->t_ns) {
        local_leap(c);
        return;
    }
    while (c->next_wander_ns <= now) {
        integrate(c, c->next_wander_ns);
        if (c->p.wander_ppm_per_sqrt_s > 0)
            c->wander_ppm += prng_gaussian(&c->rng, 0,
                                           c->p.wander_ppm_per_sqrt_s *
                                               sqrt((double)SIMCLOCK_WANDER_STEP_NS / NS_PER_S));
        c->next_wander_ns += SIMCLOCK_WANDER_STEP_NS;
    }
    integrate(c, now);
    local_leap(c);
}

void simclock_init(struct simclock *c, const struct simclock_params *p, const int64_t *now_ns,
                   int64_t epoch_real_ns, uint64_t seed)
{
    memset(c, 0, sizeof(*c));
    c->p = *p;
    c->now_ns = now_ns;
    c->epoch_real_ns = epoch_real_ns;
    /* Any origin will do; a large one catches code that assumes mono starts at 0. */
    c->mono_origin_ns = 1000 * NS_PER_S;
    prng_seed(&c->rng, seed);
    c->t_ns = *now_ns;
    c->x_s = p->offset_s;
    c->next_wander_ns = c->t_ns + SIMCLOCK_WANDER_STEP_NS;
    c->true_leap_ns = INT64_MAX;
    c->leap_boundary_ns = INT64_MAX;
}

void simclock_set_true_leap(struct simclock *c, int dir)
{
    int64_t day_end_real =
        (c->epoch_real_ns / (DAY_S * NS_PER_S) + 1) * DAY_S * NS_PER_S; /* next 00:00:00 */
    if (dir > 0) {
        c->true_leap_ns = day_end_real - c->epoch_real_ns;
        c->true_leap_dir = 1;
    } else if (dir < 0) {
        c->true_leap_ns = day_end_real - NS_PER_S - c->epoch_real_ns;
        c->true_leap_dir = -1;
    } else {
        c->true_leap_ns = INT64_MAX;
        c->true_leap_dir = 0;
    }
}

int64_t simclock_true_real_ns(const struct simclock *c, int64_t t_ns)
{
    int64_t r = c->epoch_real_ns + t_ns;
    if (t_ns >= c->true_leap_ns)
        r -= c->true_leap_dir * NS_PER_S;
    return r;
}

int64_t simclock_real_ns(struct simclock *c)
{
    advance(c);
    return local_cont_ns(c) - c->local_leaps_s * NS_PER_S;
}

int64_t simclock_mono_ns(struct simclock *c)
{
    advance(c);
    return c->mono_origin_ns + c->t_ns + (int64_t)llround(c->y_s * NS_PER_S);
}

double simclock_error_s(struct simclock *c)
{
    advance(c);
    /* Computed from the double offset rather than from rounded instants, so sub-ns
     * errors survive; the leap seconds are whole. */
    double leaps = (double)(-c->local_leaps_s);
    if (c->t_ns >= c->true_leap_ns)
        leaps += c->true_leap_dir;
    return c->x_s + leaps;
}

double simclock_osc_freq_ppm(struct simclock *c)
{
    advance(c);
    return c->p.freq_ppm + c->wander_ppm + sine_ppm(c, c->t_ns);
}

double simclock_freq_error_ppm(struct simclock *c)
{
    return simclock_osc_freq_ppm(c) + c->adj_ppm;
}

int64_t simclock_true_at_mono(struct simclock *c, int64_t mono_ns)
{
    int64_t now_mono = simclock_mono_ns(c);
    if (mono_ns <= now_mono)
        return c->t_ns;
    double rate =
        1 + (c->p.mono_raw ? simclock_osc_freq_ppm(c) : simclock_freq_error_ppm(c)) * 1e-6;
    if (rate < 0.5)
        rate = 0.5;
    double dt = ceil((double)(mono_ns - now_mono) / rate);
    if (dt > 9e18)
        return INT64_MAX;
    return c->t_ns + (int64_t)dt;
}

static int64_t op_read(void *ctx)
{
    return simclock_real_ns(ctx);
}

static int op_set_freq(void *ctx, double freq_ppm)
{
    struct simclock *c = ctx;
    if (!isfinite(freq_ppm))
        return -EINVAL; /* as adjtimex would reject garbage */
    advance(c);
    double lim = max_freq(c);
    if (freq_ppm > lim)
        freq_ppm = lim;
    if (freq_ppm < -lim)
        freq_ppm = -lim;
    double res = c->p.resolution_ppm == 0 ? SIMCLOCK_FREQ_RESOLUTION_PPM : c->p.resolution_ppm;
    if (res > 0)
        freq_ppm = round(freq_ppm / res) * res;
    c->adj_ppm = freq_ppm;
    c->freq_sets++;
    return 0;
}

static int op_step(void *ctx, double offset_s)
{
    struct simclock *c = ctx;
    if (!isfinite(offset_s))
        return -EINVAL;
    advance(c);
    c->x_s += offset_s;
    c->steps++;
    c->steps_abs_s += fabs(offset_s);
    return 0;
}

static int op_set_leap(void *ctx, enum clock_leap leap)
{
    struct simclock *c = ctx;
    advance(c);
    c->armed = leap;
    if (leap != CLOCK_LEAP_NONE) {
        int64_t real = local_cont_ns(c) - c->local_leaps_s * NS_PER_S;
        c->leap_boundary_ns = (real / (DAY_S * NS_PER_S) + 1) * DAY_S * NS_PER_S;
    }
    return 0;
}

static int op_sync(void *ctx, int synced, double est_error_s, double max_error_s)
{
    struct simclock *c = ctx;
    c->synced = synced;
    c->est_error_s = est_error_s;
    c->max_error_s = max_error_s;
    return 0;
}

struct clock_ops simclock_ops(struct simclock *c)
{
    struct clock_ops ops = {
        .ctx = c,
        .read_real_ns = op_read,
        .set_freq_ppm = op_set_freq,
        .step_s = op_step,
        .set_leap = op_set_leap,
        .set_sync_status = op_sync,
        .max_freq_ppm = max_freq(c),
    };
    return ops;
}
