#include "core/srcstats.h"

#include <math.h>
#include <string.h>

#include "core/regress.h"

/* The weight floor as a fraction of the median delay excess: the minimum-delay sample's own
 * queueing is unknown but small. */
#ifndef FLOOR_FRAC
#define FLOOR_FRAC 0.1
#endif

/* Wander rate assumed until the engine has chosen one: 0.001 ppm/sqrt(s), a common
 * uncompensated crystal. */
#ifndef Q_DEFAULT
#define Q_DEFAULT 1e-18
#endif

/* Frequency bound assumed before a line can be fitted: chrony's skew of a new source is of
 * this order and selection must not trust an unknown frequency. */
#define SKEW_UNKNOWN 2000e-6
/* Fitting alpha needs enough samples and some spread of delays. */
#ifndef SHIFT_RUN
#define SHIFT_RUN 3 /* consecutive same-side suspect samples that mean a level shift */
#endif
#ifndef SHIFT_Z
#define SHIFT_Z 5.0 /* a sample this many sigmas from the prediction is suspect */
#endif
/* 1: SHIFT_Z is scaled by the fit's Student t factor (t95(n - p) / 1.96). A line through the
 * 4 iburst samples of a 14 ms WAN server (6 s apart, 2 degrees of freedom) claimed
 * -1436 +- 236 ppm; extrapolated 64 s its 5th sample was 7 "sigmas" off, suspect, and so was
 * the 6th: the register kept its wild frequency for 3 polls, its interval swept over the two
 * colluding liars' and gave them a majority (falseticker_2of5 seed 12: a liar selected for
 * 65 s). With 2 degrees of freedom 7 of those sigmas happen 2 % of the time. */
#ifndef SHIFT_T
#define SHIFT_T 1
#endif
#ifndef QUAD_MIN_SAMPLES
#define QUAD_MIN_SAMPLES 6 /* the quadratic model fits a drift term from this many samples */
#endif
#ifndef QUAD_MODELS
#define QUAD_MODELS 1 /* 0: the chooser never picks a quadratic model */
#endif
/* A quadratic candidate replaces the best line only when its score is below (1 - QUAD_MARGIN)
 * of the line's: the extra parameter must pay for itself. The ratio of the best quadratic's
 * score to the best line's after the warm-up (tempus-sim, 5 seeds each): temp_lan 0.27 ..
 * 0.51 (geometric means 0.41 .. 0.51), lan 0.62 .. 1.3, stratum2 0.76 .. 1.2, temp 0.84 ..
 * 1.3, seed 0.95 .. 1.1, outage 1.3 .. 1.9. */
#ifndef QUAD_MARGIN
#define QUAD_MARGIN 0.4
#endif
/* ... and a quadratic in use is left when its score exceeds QUAD_EXIT x the best line's. */
#ifndef QUAD_EXIT
#define QUAD_EXIT 1.0
#endif
/* Samples scored before a quadratic can be chosen: early sums of a few errors decide by
 * chance (outage seed 32: a quadratic chosen at 201 s from 5 scores, 193 -> 317 us RMS). */
#ifndef QUAD_MIN_SCORED
#define QUAD_MIN_SCORED 20
#endif
#ifndef QUAD_T
#define QUAD_T 0.0 /* the drift term is kept when |c| > QUAD_T standard errors */
#endif
#ifndef K2_PRED_MIN
#define K2_PRED_MIN 0.0
#endif
#ifndef ALPHA_T
#define ALPHA_T 3.0 /* alpha is kept when |alpha| > ALPHA_T standard errors */
#endif
#ifndef ALPHA_MIN_SAMPLES
#define ALPHA_MIN_SAMPLES 8
#endif

#ifndef HIST_MIN
#define HIST_MIN 1 /* 1: the minimum delay is the history's (the path's base delay) */
#endif

#ifndef PATH_ALPHA
#define PATH_ALPHA 1 /* 1: alpha from the history's differences (path_alpha) */
#endif
#ifndef PATH_ALPHA_MIN
#define PATH_ALPHA_MIN 12 /* history samples needed */
#endif
#ifndef PATH_ALPHA_T
/* Robust standard errors: the symmetric WAN worlds' chance values reach 9-12 in windows of
 * 64 samples (exponential queueing has heavy tails), the asymmetric world's are 20-300. */
#define PATH_ALPHA_T 10.0
#endif

#ifndef ASYM_W
#define ASYM_W 1 /* 1: an asymmetric path's excess counts less in the weights */
#endif
#ifndef ASYM_K
#define ASYM_K 3.0 /* alpha's lower confidence bound, in standard errors, sets the weights */
#endif

#ifndef CHR_ASYM
#define CHR_ASYM 1 /* the chrony-register shadow corrects offsets by chrony's asymmetry */
#endif
#ifndef CHR_ASYM_MIN
#define CHR_ASYM_MIN 10
#endif
#ifndef CHR_ASYM_T
#define CHR_ASYM_T 3.0
#endif

#ifndef CHR_RUNS_ALL
#define CHR_RUNS_ALL 0 /* 1: the shadow's runs test covers every stored older sample */
#endif
#ifndef CHR_RUNS_KEEP
#define CHR_RUNS_KEEP 1 /* older samples kept for the runs test, per register sample */
#endif
/* 1: the shadow's runs test in chronyd's form (regress_runs_pass_chrony: one run stricter than
 * the plain 5 % test) from CHR_RUNS_STRICT_MIN residuals on (8 fitted samples and as many runs
 * samples); smaller registers keep the plain test. With chronyd's form everywhere the shadow
 * polls as the real chronyd does seed by seed (wan4 under simhost, seeds 1-4: tempusd 199/208/
 * 200/196 requests, chronyd 199/204/200/188), but its medians exceed chronyd's by 1-4 % (wan4
 * 196 vs 192, temp 155 vs 149, step100 149 vs 145); from 16 residuals its medians stay within
 * chronyd's in the worlds of tests/sim/chronyd-simhost.ref (seed 1408 vs 1407 as before) and
 * keep most of the gain (41 seeds,
 * per-seed RMS ratio (geometric mean) against the plain test, requests: lan 0.83 (83 -> 93),
 * iburst1 0.92 (30 -> 31), asymmetric 0.91 (69 -> 81), temp 0.89 (146 -> 145), all worlds
 * 0.94; from 0 / 12 residuals lan 0.75 / 0.78 but temp 153 / 153, stratum2 279 / 270
 * requests). docs/design/engine.md, "The shadow's runs test". */
#ifndef CHR_RUNS_STRICT
#define CHR_RUNS_STRICT 1
#endif
#ifndef CHR_RUNS_STRICT_MIN
#define CHR_RUNS_STRICT_MIN 16
#endif
/* > 0: the exact runs test (regress_runs_p) at this level, per mille */
#ifndef CHR_RUNS_PERMILLE
#define CHR_RUNS_PERMILLE 0
#endif

/* The bounded-error estimate (band_adjust; docs/design/engine.md, "Session 7: bounded
 * errors"). Margins of each sample's bound: the wander since it and the slope's error over
 * its age at BAND_K standard deviations (0.5, 1.5, 2, 3 measured worse on the WAN worlds);
 * the minimum delay's own queueing, BAND_DMIN_K median excesses / sqrt(n) for n remembered
 * delays (two exponential queues of mean mu: the excess is Gamma(2), P(e < x) ~ x^2 / 2 mu^2
 * for small x, the smallest of n ~ 1.25 mu / sqrt(n), the median 1.68 mu), at least the
 * weight floor. A slope no line meets every bound with moves to the nearest that does,
 * searched within BAND_BK of the fit's standard deviations. */
#define BAND_K      1.0
#define BAND_DMIN_K 0.75
#define BAND_MIN    4 /* samples needed */
#define BAND_BK     5.0

static void chr_add(struct srcstats *st, double t, double y, double d);
static double t95(int df);

/* A sample's measurement variance for its delay excess e: floor^2 + g e^2 / 12, g the
 * register's asymmetry factor (srcstats_fit). */
static double meas_var(const struct srcstats *st, double floor, double e)
{
    return floor * floor + st->asym_g * e * e / 12.0;
}

void srcstats_init(struct srcstats *st, int min_samples, int max_samples)
{
    memset(st, 0, sizeof(*st));
    st->min_samples = min_samples > 0 ? min_samples : 6;
    if (st->min_samples < 3)
        st->min_samples = 3;
    st->max_samples =
        max_samples > 0 && max_samples <= SRCSTATS_MAX_SAMPLES ? max_samples : SRCSTATS_MAX_SAMPLES;
    if (st->min_samples > st->max_samples)
        st->min_samples = st->max_samples;
    st->skew = SKEW_UNKNOWN;
    st->wander_q = Q_DEFAULT;
    st->asym_g = 1.0;
}

void srcstats_clear(struct srcstats *st)
{
    double q = st->wander_q, q3 = st->wander_q3, md = st->fixed_min_delay_s;
    int quad = st->quad;
    srcstats_init(st, st->min_samples, st->max_samples);
    st->wander_q = q;
    st->wander_q3 = q3;
    st->quad = quad;
    st->fixed_min_delay_s = md;
}

const struct srcstats_sample *srcstats_last(const struct srcstats *st)
{
    return st->n > 0 ? &st->s[st->n - 1] : NULL;
}

/* Remembers a sample in the history ring (a suspect one for its delay only). */
static void hist_push(struct srcstats *st, const struct srcstats_sample *smp)
{
    st->hist_delay_s[st->hist_i] = smp->delay_s;
    st->hist_t_s[st->hist_i] = smp->t_s;
    st->hist_y_s[st->hist_i] = smp->suspect ? NAN : smp->y_s;
    st->hist_i = (st->hist_i + 1) % SRCSTATS_HIST;
    if (st->hist_n < SRCSTATS_HIST)
        st->hist_n++;
}

void srcstats_add(struct srcstats *st, const struct srcstats_sample *in)
{
    struct srcstats_sample sm = *in, *smp = &sm;
    sm.suspect = 0;
    /* A sample far outside the model's prediction is suspect: left out of the fit. When
     * the newest SHIFT_RUN samples are all suspect on the same side, the source's offset (or
     * its path) changed: the register restarts with them. */
    if (st->n >= 4 && st->nfit >= 2) {
        double var;
        double pred = srcstats_predict(st, sm.t_s, 0.0, &var);
        double e = sm.delay_s - st->min_delay_s;
        double vm = meas_var(st, st->floor_s, e) * (st->k2 > 1.0 ? st->k2 : 1.0);
        /* The fit's alpha explains part of a delayed sample's error (with the weights
         * above, all of what they allow). */
        double z = (sm.y_s - (st->asym_g < 1.0 ? st->alpha * e : 0.0) - pred) / sqrt(var + vm);
        if (fabs(z) > SHIFT_Z * (SHIFT_T ? t95(st->n - st->nfit) / 1.96 : 1.0))
            sm.suspect = z > 0 ? 1 : -1;
        if (sm.suspect) {
            int k = 1;
            for (int i = st->n - 1; i >= 0 && st->s[i].suspect == sm.suspect; i--)
                k++;
            if (k >= SHIFT_RUN) {
                int keep = k - 1;
                memmove(st->s, st->s + st->n - keep, sizeof(st->s[0]) * (size_t)keep);
                st->n = keep;
                /* The path may have changed too: its history restarts with the register. */
                st->hist_n = st->hist_i = 0;
                for (int i = 0; i < st->n; i++) {
                    st->s[i].suspect = 0;
                    hist_push(st, &st->s[i]);
                }
                sm.suspect = 0;
            }
        }
    }
    if (st->n >= st->max_samples) {
        int drop = st->n - st->max_samples + 1;
        memmove(st->s, st->s + drop, sizeof(st->s[0]) * (size_t)(st->n - drop));
        st->n -= drop;
    }
    st->s[st->n++] = *smp;
    hist_push(st, smp);
    chr_add(st, smp->t_s, smp->y_s, smp->delay_s / 2.0 + smp->disp_s);
    srcstats_fit(st);
}

/* Candidate wander rates q, (s/s)^2 per second: sqrt(q) from 0.0001 to 1 ppm/sqrt(s)
 * (a good TCXO .. a clock in a draughty room). */
#ifdef Q_GRID_FINE
static const double q_grid[] = {0.0,   1e-20, 3e-20, 1e-19, 3e-19, 1e-18, 3e-18,
                                1e-17, 3e-17, 1e-16, 3e-16, 1e-15, 3e-15, 1e-14,
                                3e-14, 1e-13, 3e-13, 1e-12, 3e-12};
#else
static const double q_grid[] = {0.0, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12};
#endif
#define N_Q   SRCSTATS_N_Q
#define N_LIN SRCSTATS_N_LIN
_Static_assert(sizeof(q_grid) / sizeof(q_grid[0]) == SRCSTATS_N_LIN, "grid size");
/* Drift random-walk rates q3 of the quadratic models, (s/s^2)^2 per s. A sine swing of
 * amplitude A and period P has a drift changing at up to A (2 pi / P)^3: 5 ppm peak to peak
 * over 2 h is 1.9e-12 /s^2, about q3 = 4e-21 over 1000 s. */
static const double q3_grid[] = {1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19};
_Static_assert(sizeof(q3_grid) / sizeof(q3_grid[0]) == SRCSTATS_N_Q - SRCSTATS_N_LIN, "grid size");

double srcstats_q_value(int k)
{
    return k >= 0 && k < N_LIN ? q_grid[k] : k >= N_LIN && k < N_Q ? 0.0 : Q_DEFAULT;
}

void srcstats_set_model(struct srcstats *st, int k)
{
    st->wander_q = srcstats_q_value(k);
    st->quad = k >= N_LIN && k < N_Q;
    st->wander_q3 = st->quad ? q3_grid[k - N_LIN] : 0.0;
}

/* A sample's variance as a predictor of a time tau later, beyond its measurement's. */
static double age_var(double q, double q3, double tau)
{
    double t3 = tau * tau * tau;
    return q * t3 / 3.0 + q3 * t3 * tau * tau / 20.0;
}

int srcstats_cv(const struct srcstats *st, const struct srcstats_sample *smp,
                double z2[SRCSTATS_N_Q])
{
    double vb[SRCSTATS_MAX_SAMPLES + 1], ex[SRCSTATS_MAX_SAMPLES];
    int n = st->n;
    if (n < 4 || st->nfit < 2)
        return -1;
    for (int i = 0; i < n; i++)
        ex[i] = st->s[i].delay_s - st->min_delay_s;
    double floor = fmax(FLOOR_FRAC * regress_median(ex, n), 1e-9);
    for (int i = 0; i < n; i++) {
        vb[i] = meas_var(st, floor, st->s[i].delay_s - st->min_delay_s);
    }
    double e = smp->delay_s - st->min_delay_s;
    if (e < 0.0)
        e = 0.0;
    double vj = meas_var(st, floor, e);
    double alpha = st->has_alpha ? st->alpha : 0.0;
    for (int g = 0; g < N_LIN; g++) {
        double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < n; i++) {
            double tau = smp->t_s - st->s[i].t_s;
            double w = 1.0 / (vb[i] + age_var(q_grid[g], 0.0, tau));
            double x = -tau;
            double y = st->s[i].y_s - alpha * (st->s[i].delay_s - st->min_delay_s);
            sw += w;
            sx += w * x;
            sy += w * y;
            sxx += w * x * x;
            sxy += w * x * y;
        }
        double det = sw * sxx - sx * sx;
        if (!(det > 0.0))
            return -1;
        double pred = (sxx * sy - sx * sxy) / det;
        double d = smp->y_s - alpha * e - pred;
        z2[g] = d * d / vj;
    }
    /* Quadratic models: until they can be fitted they score as the plain line. */
    for (int g = N_LIN; g < N_Q; g++) {
        double xm[SRCSTATS_MAX_SAMPLES * 3], ym[SRCSTATS_MAX_SAMPLES], wm[SRCSTATS_MAX_SAMPLES];
        double b[3], cov[9];
        z2[g] = QUAD_MODELS ? z2[0] : 1e300;
        if (!QUAD_MODELS || n < QUAD_MIN_SAMPLES)
            continue;
        for (int i = 0; i < n; i++) {
            double tau = smp->t_s - st->s[i].t_s;
            xm[3 * i] = 1.0;
            xm[3 * i + 1] = -tau;
            xm[3 * i + 2] = tau * tau;
            ym[i] = st->s[i].y_s - alpha * (st->s[i].delay_s - st->min_delay_s);
            wm[i] = 1.0 / (vb[i] + age_var(0.0, q3_grid[g - N_LIN], tau));
        }
        if (regress_wls(xm, ym, wm, n, 3, b, cov) < 0)
            continue;
        double d = smp->y_s - alpha * e - b[0];
        z2[g] = d * d / vj;
    }
    return 0;
}

int srcstats_chooser_update(struct srcstats_chooser *c, const double z2[SRCSTATS_N_Q])
{
    int kl = 0, kq = N_LIN;
    for (int k = 0; k < N_Q; k++) {
        c->score[k] = c->score[k] * (1.0 - 1.0 / SRCSTATS_Q_MEMORY) + (z2[k] < 16.0 ? z2[k] : 16.0);
        if (k < N_LIN && c->score[k] < c->score[kl])
            kl = k;
        if (k >= N_LIN && c->score[k] < c->score[kq])
            kq = k;
    }
    c->n_scored++;
    int in_quad = c->index >= N_LIN;
    double limit = in_quad ? QUAD_EXIT : 1.0 - QUAD_MARGIN;
    c->index = QUAD_MODELS && c->n_scored >= QUAD_MIN_SCORED && c->score[kq] < limit * c->score[kl]
                   ? kq
                   : kl;
    return c->index;
}

/* Two-sided 95 % Student t quantile, close enough for a bound (exact at df = 1, 2, inf). */
static double t95(int df)
{
    if (df <= 1)
        return 12.71;
    if (df == 2)
        return 4.30;
    return 1.96 + 2.5 / df + 2.8 / ((double)df * df);
}

/* One weighted fit over samples [start, n) with p parameters; fills results. -1 on failure. */
/* One weighted fit over samples [start, n): columns 1, dt, [excess], [dt^2]. Without the
 * alpha column, fixed_alpha x excess is removed from y. Fills results; -1 on failure. */
static int fit_range(struct srcstats *st, int start, int ua, int uq, const double *var,
                     double fixed_alpha, double *resid)
{
    enum { MAXP = 4 };
    double x[SRCSTATS_MAX_SAMPLES * MAXP], y[SRCSTATS_MAX_SAMPLES], w[SRCSTATS_MAX_SAMPLES];
    double b[MAXP], cov[MAXP * MAXP];
    int m = 0, idx[SRCSTATS_MAX_SAMPLES];
    int p = 2 + ua + uq, ia = ua ? 2 : -1, iq = uq ? 2 + ua : -1;
    double tref = st->s[st->n - 1].t_s;

    for (int i = start; i < st->n; i++) {
        if (!st->used[i])
            continue;
        double e = st->s[i].delay_s - st->min_delay_s, dt = st->s[i].t_s - tref;
        x[m * p + 0] = 1.0;
        x[m * p + 1] = dt;
        if (ua)
            x[m * p + ia] = e;
        if (uq)
            x[m * p + iq] = dt * dt;
        y[m] = st->s[i].y_s - (ua ? 0.0 : fixed_alpha * e);
        w[m] = 1.0 / var[i];
        idx[m] = i;
        m++;
    }
    if (m < p + 1 || regress_wls(x, y, w, m, p, b, cov) < 0)
        return -1;
    double chi2 = 0.0, sw = 0.0;
    for (int k = 0; k < m; k++) {
        double r = y[k];
        for (int j = 0; j < p; j++)
            r -= b[j] * x[k * p + j];
        resid[idx[k]] = r;
        chi2 += w[k] * r * r;
        sw += w[k];
    }
    double k2 = chi2 / (m - p);
    st->k2 = k2;
    /* The prediction's variance never claims more precision than the weights' absolute
     * model gives (k2 >= K2_PRED_MIN): a few dominant samples that happen to agree would
     * otherwise look exact. alpha's significance test keeps the plain k2. */
    double kp = k2 > K2_PRED_MIN ? k2 : K2_PRED_MIN;
    st->t_ref_s = tref;
    st->a_s = b[0];
    st->b = b[1];
    st->has_alpha = ua;
    st->alpha = ua ? b[ia] : fixed_alpha;
    st->var_alpha = ua ? cov[ia * p + ia] * k2 : 0.0;
    st->has_quad = uq;
    st->c = uq ? b[iq] : 0.0;
    st->var_c = uq ? cov[iq * p + iq] * kp : 0.0;
    st->cov_ac = uq ? cov[iq] * kp : 0.0;
    st->cov_bc = uq ? cov[p + iq] * kp : 0.0;
    st->var_a = cov[0] * kp;
    st->var_b = cov[p + 1] * kp;
    st->cov_ab = cov[1] * kp;
    st->sd_s = sqrt(chi2 / sw * m / (m - p));
    st->skew = t95(m - p) * sqrt(st->var_b);
    st->nfit = p;
    /* Residuals of samples outside the fit (outliers) for the caller's sigma test. */
    for (int i = start; i < st->n; i++) {
        if (st->used[i])
            continue;
        double e = st->s[i].delay_s - st->min_delay_s, dt = st->s[i].t_s - tref;
        resid[i] = st->s[i].y_s - st->a_s - st->b * dt - st->c * dt * dt - st->alpha * e;
    }
    return 0;
}

static int fit_model(struct srcstats *st, int start, const double *var, double *resid)
{
    int m = st->n - start;
    int ua = m >= ALPHA_MIN_SAMPLES, uq = st->quad && m >= QUAD_MIN_SAMPLES;
#if PATH_ALPHA
    if (st->has_path_alpha) {
        /* The path's asymmetry is known from the history: the register fits only the
         * offset's line (and drift), so a wandering offset cannot leak into alpha. */
        if (uq && fit_range(st, start, 0, 1, var, st->path_alpha, resid) == 0 &&
            st->c * st->c < QUAD_T * QUAD_T * st->var_c)
            uq = 0;
        int rc = fit_range(st, start, 0, uq, var, st->path_alpha, resid);
        st->has_alpha = 1;
        st->var_alpha = st->path_alpha_se * st->path_alpha_se;
        return rc;
    }
#endif
    if (uq && fit_range(st, start, ua, 1, var, 0.0, resid) == 0) {
        /* A frequency drift (temperature) term, kept only when clearly there. */
        if (st->c * st->c < QUAD_T * QUAD_T * st->var_c)
            uq = 0;
    } else {
        uq = 0;
    }
    if (ua && fit_range(st, start, 1, uq, var, 0.0, resid) == 0) {
        /* Keep alpha only when the data show it clearly: an insignificant alpha adds its
         * noise to the intercept (symmetric WAN paths: 254 -> 161 us RMS without it). */
        if (st->alpha * st->alpha < ALPHA_T * ALPHA_T * st->var_alpha)
            return fit_range(st, start, 0, uq, var, 0.0, resid);
        if (fabs(st->alpha) <= 0.5)
            return 0;
        double a = st->alpha > 0 ? 0.5 : -0.5;
        return fit_range(st, start, 0, uq, var, a, resid);
    }
    return fit_range(st, start, 0, uq, var, 0.0, resid);
}

/* chrony's register after adding a sample (t, y, peer distance d): a weighted straight
 * line over the register, trimmed from the oldest while its residuals over the register
 * plus as many older samples fail the runs test, never below min_samples. Weights are
 * chrony's: a variance growing with the square of the distance's excess over the minimum
 * in units of sd = (median - min) / 0.7 (spec/ntp-essentials.md §14). */
#if CHR_ASYM
/* chrony's asymmetry for the shadow register's samples [k0, n): an unweighted fit of the
 * offsets on time and peer distance over the register, the distance coefficient kept
 * (clamped to +-1 per second of distance, i.e. +-0.5 per second of delay) when it is
 * beyond CHR_ASYM_T standard errors and the register holds CHR_ASYM_MIN samples, else 0
 * (a smaller register keeps the previous estimate). The coefficient multiplies the distance excess
 * over the register's minimum (chr_mind). */
static void chr_asym(struct srcstats *st, int k0, int n)
{
    enum { CAP = 2 * SRCSTATS_CHR_MAX };
    double x[CAP * 3], w[CAP], yy[CAP], b[3], cov[9];
    int m = n - k0;
    double mind = HUGE_VAL;
    for (int i = k0; i < n; i++)
        mind = fmin(mind, st->chr_d[i]);
    st->chr_mind = mind;
    if (m < CHR_ASYM_MIN)
        return;
    double t = st->chr_t[n - 1];
    for (int i = 0; i < m; i++) {
        x[3 * i] = 1.0;
        x[3 * i + 1] = st->chr_t[k0 + i] - t;
        x[3 * i + 2] = st->chr_d[k0 + i] - mind;
        yy[i] = st->chr_y[k0 + i];
        w[i] = 1.0;
    }
    if (regress_wls(x, yy, w, m, 3, b, cov) < 0)
        return;
    double chi2 = 0.0;
    for (int i = 0; i < m; i++) {
        double r = yy[i] - b[0] - b[1] * x[3 * i + 1] - b[2] * x[3 * i + 2];
        chi2 += r * r;
    }
    double var = cov[8] * chi2 / (m - 3);
    st->chr_alpha = b[2] * b[2] > CHR_ASYM_T * CHR_ASYM_T * var ? fmax(-1.0, fmin(1.0, b[2])) : 0.0;
}
#endif

static void chr_add(struct srcstats *st, double t, double y, double d)
{
    enum { CAP = 2 * SRCSTATS_CHR_MAX };
    double x[CAP * 2], w[CAP], r[CAP], tmp[CAP], yy[CAP];
    if (st->chr_n == CAP || st->n_chr == SRCSTATS_CHR_MAX) {
        /* The oldest register sample becomes a runs sample; the oldest runs sample goes. */
        int drop = st->chr_n == CAP ? 1 : 0;
        if (st->n_chr == SRCSTATS_CHR_MAX)
            st->n_chr--;
        if (drop) {
            memmove(st->chr_t, st->chr_t + 1, sizeof(double) * (size_t)(CAP - 1));
            memmove(st->chr_y, st->chr_y + 1, sizeof(double) * (size_t)(CAP - 1));
            memmove(st->chr_d, st->chr_d + 1, sizeof(double) * (size_t)(CAP - 1));
            st->chr_n--;
        }
    }
    st->chr_t[st->chr_n] = t;
    st->chr_y[st->chr_n] = y;
    st->chr_d[st->chr_n] = d;
    st->chr_n++;
    st->n_chr++;

    int n = st->chr_n, k0 = n - st->n_chr, minn = st->min_samples;
#if CHR_ASYM
    /* chrony 4.3 estimates the jitter asymmetry (statistics.log's last column, -0.5 on
     * the asymmetric world) and corrects the register's offsets by it before the line and
     * the runs test: the residuals are then the downstream queueing only, and the runs test
     * sees the wander. yy holds the corrected offsets of the whole register. */
    chr_asym(st, k0, n);
#endif
    st->chr_a_s = y;
    st->chr_b = 0.0;
    st->chr_tref_s = t;
    for (int start = k0;; start++) {
        int m = n - start;
        if (m <= minn || m <= 3) {
            k0 = start;
            break;
        }
        double mind = HUGE_VAL;
        for (int i = 0; i < m; i++) {
            tmp[i] = st->chr_d[start + i];
            if (tmp[i] < mind)
                mind = tmp[i];
        }
        double sd = (regress_median(tmp, m) - mind) / 0.7;
        for (int i = 0; i < m; i++) {
            double v = sd > 0.0 ? 1.0 + (st->chr_d[start + i] - mind) / sd : 1.0;
            w[i] = 1.0 / (v * v);
            x[2 * i] = 1.0;
            x[2 * i + 1] = st->chr_t[start + i] - t;
            yy[i] = st->chr_y[start + i] - st->chr_alpha * (st->chr_d[start + i] - st->chr_mind);
        }
        double b[2], cov[4];
        k0 = start;
        if (regress_wls(x, yy, w, m, 2, b, cov) < 0)
            break;
        st->chr_a_s = b[0];
        st->chr_b = b[1];
        st->chr_tref_s = t;
        int first = CHR_RUNS_ALL ? 0 : (start - m > 0 ? start - m : 0), nr = 0;
        for (int i = first; i < n; i++)
            r[nr++] = st->chr_y[i] - st->chr_alpha * (st->chr_d[i] - st->chr_mind) - b[0] -
                      b[1] * (st->chr_t[i] - t);
#if CHR_RUNS_PERMILLE > 0
        if (regress_runs_p(r, nr) > CHR_RUNS_PERMILLE * 1e-3)
            break;
#else
        if (CHR_RUNS_STRICT && nr >= CHR_RUNS_STRICT_MIN
                ? regress_runs_pass_chrony(regress_runs(r, nr), nr)
                : regress_runs(r, nr) >= regress_runs_critical(nr))
            break;
#endif
    }
    st->n_chr = n - k0;
    /* Keep at most as many runs samples as register samples. */
    if (k0 > CHR_RUNS_KEEP * st->n_chr) {
        int drop = k0 - CHR_RUNS_KEEP * st->n_chr;
        memmove(st->chr_t, st->chr_t + drop, sizeof(double) * (size_t)(n - drop));
        memmove(st->chr_y, st->chr_y + drop, sizeof(double) * (size_t)(n - drop));
        memmove(st->chr_d, st->chr_d + drop, sizeof(double) * (size_t)(n - drop));
        st->chr_n -= drop;
    }
}

/* The path's asymmetry from the history: consecutive samples' differences dy = b dt +
 * alpha de + noise. Differencing removes the offset's slow wander, so alpha can come from
 * every remembered sample instead of the runs-trimmed register, where a wandering offset
 * leaks into alpha (an offset drift of 30 us over a register with one 900 us excess sample
 * moved alpha by 0.035). Sets has_path_alpha when |alpha| > PATH_ALPHA_T standard errors. */
static void path_alpha(struct srcstats *st)
{
    enum { P = 2 };
    double x[SRCSTATS_HIST * P], y[SRCSTATS_HIST], w[SRCSTATS_HIST], b[P], cov[P * P];
    int m = 0;
    st->has_path_alpha = 0;
    if (st->hist_n < PATH_ALPHA_MIN)
        return;
    int first = st->hist_n < SRCSTATS_HIST ? 0 : st->hist_i;
    for (int k = 1; k < st->hist_n; k++) {
        int i0 = (first + k - 1) % SRCSTATS_HIST, i1 = (first + k) % SRCSTATS_HIST;
        if (isnan(st->hist_y_s[i0]) || isnan(st->hist_y_s[i1]))
            continue;
        x[m * P] = st->hist_t_s[i1] - st->hist_t_s[i0];
        x[m * P + 1] = st->hist_delay_s[i1] - st->hist_delay_s[i0];
        y[m] = st->hist_y_s[i1] - st->hist_y_s[i0];
        w[m] = 1.0;
        m++;
    }
    if (m < PATH_ALPHA_MIN - 1 || regress_wls(x, y, w, m, P, b, cov) < 0)
        return;
    /* alpha's variance by the sandwich (heteroscedasticity-consistent) estimator: on a
     * symmetric path a pair's offset difference scatters in proportion to its delays, so
     * the plain least-squares variance understates it and a chance alpha looks real. */
    double bm[P * P] = {0};
    for (int k = 0; k < m; k++) {
        double r = y[k] - b[0] * x[k * P] - b[1] * x[k * P + 1];
        for (int i = 0; i < P; i++)
            for (int j = 0; j < P; j++)
                bm[i * P + j] += r * r * x[k * P + i] * x[k * P + j];
    }
    /* (cov bm cov)[1][1], cov symmetric; scaled by m / (m - P) for the fitted parameters */
    double c0 = cov[2], c1 = cov[3];
    double va = c0 * c0 * bm[0] + 2.0 * c0 * c1 * bm[1] + c1 * c1 * bm[3];
    double se = sqrt(va * m / (m - P));
    st->path_alpha = fmax(-0.5, fmin(0.5, b[1]));
    st->path_alpha_se = se;
    st->has_path_alpha = fabs(b[1]) > PATH_ALPHA_T * se;
}

/* Each sample bounds the offset: a round trip longer than the path's minimum by e queued
 * for e in total, so its offset is off by at most e/2 (by (1/2 + |alpha|) e after an
 * asymmetry correction), plus the unknown queueing of the minimum itself, plus a margin for
 * the wander since and the fit's slope error over the age. Where the bounds overlap the
 * truth lies in a band whose width shrinks like 1/n under exponential queueing, faster than
 * the regression's 1/sqrt(n): the intercept becomes the band's centre at the fit's slope
 * and its variance at most the band's (width^2 / 12, as if uniform). An empty band (a step
 * in asymmetry, a route change) leaves the regression as it is. Not with a fitted drift
 * term (temp_lan's chooser moved) or an asymmetry in use (lan and temp fit chance alphas
 * and lost 1-2 % with the band). */
static void band_adjust(struct srcstats *st)
{
    double t[SRCSTATS_MAX_SAMPLES], y[SRCSTATS_MAX_SAMPLES], h[SRCSTATS_MAX_SAMPLES];
    int m = 0;
    if (st->nfit < 2 || st->n < BAND_MIN || st->has_quad || st->alpha != 0.0)
        return;
    double tref = st->t_ref_s;
    double margin = st->floor_s;
    if (st->hist_n > 0)
        margin = fmax(margin, BAND_DMIN_K * st->floor_s / FLOOR_FRAC / sqrt(st->hist_n));
    for (int i = 0; i < st->n; i++) {
        const struct srcstats_sample *s = &st->s[i];
        if (!st->used[i] || s->suspect)
            continue;
        double e = fmax(s->delay_s - st->min_delay_s, 0.0), dt = s->t_s - tref;
        double v = age_var(st->wander_q, st->wander_q3, -dt) + st->var_b * dt * dt;
        t[m] = dt;
        y[m] = s->y_s;
        h[m] = 0.5 * e + margin + BAND_K * sqrt(v);
        m++;
    }
    if (m < BAND_MIN)
        return;
    double lo, hi;
    if (regress_band_at(t, y, h, m, st->b, NULL, NULL) < 0.0) {
        /* The fit's slope meets no line through every bound: the nearest slope that does,
         * by bisection between it and the widest band's slope. */
        double bw = BAND_BK * sqrt(st->var_b) + 1e-12, bc;
        if (regress_band(t, y, h, m, st->b - bw, st->b + bw, &bc, NULL, NULL) < 0.0)
            return;
        double bo = st->b, bi = bc;
        for (int k = 0; k < 60; k++) {
            double bm = 0.5 * (bo + bi);
            if (regress_band_at(t, y, h, m, bm, NULL, NULL) >= 0.0)
                bi = bm;
            else
                bo = bm;
        }
        st->b = bi;
    }
    if (regress_band_at(t, y, h, m, st->b, &lo, &hi) < 0.0)
        return;
    st->a_s = 0.5 * (lo + hi);
    double vb = (hi - lo) * (hi - lo) / 12.0;
    if (vb < st->var_a) {
        double r = vb / st->var_a;
        st->var_a *= r;
        st->cov_ab *= sqrt(r);
    }
}

void srcstats_fit(struct srcstats *st)
{
    double var[SRCSTATS_MAX_SAMPLES], resid[SRCSTATS_MAX_SAMPLES], ex[SRCSTATS_MAX_SAMPLES];

    st->nfit_prev = st->nfit;
    st->nfit = 0;
    st->runs = 0;
    st->skew = SKEW_UNKNOWN;
    if (st->n == 0)
        return;
    double mind = st->s[0].delay_s;
    for (int i = 1; i < st->n; i++)
        if (st->s[i].delay_s < mind)
            mind = st->s[i].delay_s;
    if (st->fixed_min_delay_s > 0.0 && st->fixed_min_delay_s < mind)
        mind = st->fixed_min_delay_s;
#if HIST_MIN
    for (int i = 0; i < st->hist_n; i++)
        if (st->hist_delay_s[i] < mind)
            mind = st->hist_delay_s[i];
#endif
    st->min_delay_s = mind;

    const struct srcstats_sample *last = &st->s[st->n - 1];
    if (st->n < 3) {
        /* Too few for a line with a noise estimate: offset from the newest sample (or the two
         * averaged), frequency from the pair but with an unknown-size error. */
        st->t_ref_s = last->t_s;
        st->a_s = last->y_s;
        st->b = 0.0;
        st->alpha = 0.0;
        st->has_alpha = st->has_quad = 0;
        st->c = st->var_c = st->cov_ac = st->cov_bc = 0.0;
        st->var_a = last->delay_s * last->delay_s / 12.0 + 1e-18;
        st->var_b = SKEW_UNKNOWN * SKEW_UNKNOWN;
        st->cov_ab = 0.0;
        st->sd_s = last->delay_s / 2.0;
        st->nfit = 1;
        st->runs = st->n;
        st->n_eff = st->n;
        if (st->n == 2) {
            const struct srcstats_sample *f = &st->s[0];
            double dt = last->t_s - f->t_s;
            if (dt > 0.0) {
                st->b = (last->y_s - f->y_s) / dt;
                double e = (last->delay_s + f->delay_s) / 2.0;
                st->var_b = e * e / (dt * dt) + 1e-18;
                st->skew = fmin(SKEW_UNKNOWN, 2.0 * sqrt(st->var_b));
                st->nfit = 2;
            }
        }
        return;
    }

    /* Weights from the delay excess; the floor keeps minimum-delay samples from getting
     * unbounded weight (their own error is not zero). */
    for (int i = 0; i < st->n; i++)
        ex[i] = st->s[i].delay_s - mind;
    double med = regress_median(ex, st->n);
    double floor = fmax(FLOOR_FRAC * med, 1e-9);
    st->floor_s = floor;
    double vbase[SRCSTATS_MAX_SAMPLES];
    for (int i = 0; i < st->n; i++) {
        vbase[i] = meas_var(st, floor, st->s[i].delay_s - mind);
    }
    double tl = st->s[st->n - 1].t_s;
    for (int i = 0; i < st->n; i++) {
        double tau = tl - st->s[i].t_s;
        var[i] = vbase[i] + age_var(st->wander_q, st->wander_q3, tau);
    }
    /* Asymmetric queueing: the excess splits between the directions and the offset error
     * is half the difference, up to e/2, variance e^2/12 when every split is as likely.
     * When one direction does most of the queueing the error is mostly alpha x e, which
     * the fit removes, and what is left is (1 - 4 alpha^2) of it: at alpha = +-0.5 (all
     * queueing upstream, e.g. a saturated uplink) a long-delayed sample is as good as a
     * short one, and weighting it by e^2/12 throws most samples away. alpha for the
     * weights comes from a probe fit with the symmetric weights over the whole register
     * (never from weights it set itself: a chance alpha on a symmetric path must not
     * reinforce itself), and only its lower confidence bound |alpha| - ASYM_K se counts. */
    st->asym_g = 1.0;
#if PATH_ALPHA
    path_alpha(st);
#endif
    if (ASYM_W && st->n >= ALPHA_MIN_SAMPLES) {
        for (int i = 0; i < st->n; i++)
            st->used[i] = st->s[i].suspect == 0;
        int pa = PATH_ALPHA && st->has_path_alpha;
        if (fit_range(st, 0, !pa, 0, var, pa ? st->path_alpha : 0.0, resid) == 0) {
            if (pa)
                st->var_alpha = st->path_alpha_se * st->path_alpha_se;
            double al = fmin(fabs(st->alpha) - ASYM_K * sqrt(st->var_alpha), 0.5);
            if (al > 0.0) {
                st->asym_g = 1.0 - 4.0 * al * al;
                for (int i = 0; i < st->n; i++) {
                    vbase[i] = meas_var(st, floor, st->s[i].delay_s - mind);
                    var[i] = vbase[i] + age_var(st->wander_q, st->wander_q3, tl - st->s[i].t_s);
                }
            }
        }
    }
    /* Effective number of samples within the wander horizon (as if all had the median
     * measurement variance): the poll adaptation keeps this near polltarget. */
    {
        double vm = floor * floor + med * med / 12.0, s1 = 0.0, s2 = 0.0;
        for (int i = 0; i < st->n; i++) {
            double tau = tl - st->s[i].t_s;
            double w = 1.0 / (vm + age_var(st->wander_q, st->wander_q3, tau));
            s1 += w;
            s2 += w * w;
        }
        st->n_eff = s1 * s1 / s2;
    }

    int start = 0;
    for (;;) {
        for (int i = start; i < st->n; i++)
            st->used[i] = st->s[i].suspect == 0;
        if (fit_model(st, start, var, resid) < 0) {
            if (st->n - start > 3) {
                start++;
                continue;
            }
            break;
        }
        /* One pass of outlier rejection at SRCSTATS_OUTLIER_SIGMA scaled sigmas. */
        double chi = 0.0;
        int m = 0;
        for (int i = start; i < st->n; i++) {
            chi += resid[i] * resid[i] / var[i];
            m++;
        }
        double k2 = chi / (m - st->nfit);
        int dropped = 0;
        for (int i = start; i < st->n; i++) {
            double z2 = resid[i] * resid[i] / (var[i] * k2);
            if (z2 > SRCSTATS_OUTLIER_SIGMA * SRCSTATS_OUTLIER_SIGMA && m - dropped > 4) {
                st->used[i] = 0;
                dropped++;
            }
        }
        if (dropped)
            fit_model(st, start, var, resid);
        double rr[SRCSTATS_MAX_SAMPLES];
        int nr = 0;
        for (int i = start; i < st->n; i++)
            if (st->used[i])
                rr[nr++] = resid[i];
        st->runs = regress_runs(rr, nr);
        if (st->runs >= regress_runs_critical(nr) || st->n - start <= st->min_samples)
            break;
        start++;
    }
    if (start > 0) {
        memmove(st->s, st->s + start, sizeof(st->s[0]) * (size_t)(st->n - start));
        memmove(st->used, st->used + start, (size_t)(st->n - start));
        st->n -= start;
        if (st->n_eff > st->n)
            st->n_eff = st->n;
        /* t_ref stays the newest sample's time; parameters are unchanged by the shift. */
    }
    band_adjust(st);
}

double srcstats_predict(const struct srcstats *st, double t_s, double wander_ppm, double *var_s2)
{
    if (st->n == 0 || st->nfit == 0) {
        if (var_s2)
            *var_s2 = 1e6;
        return 0.0;
    }
    double dt = t_s - st->t_ref_s, d2 = dt * dt;
    double y = st->a_s + st->b * dt + st->c * d2;
    if (var_s2) {
        double v = st->var_a + 2.0 * dt * st->cov_ab + d2 * st->var_b + 2.0 * d2 * st->cov_ac +
                   2.0 * dt * d2 * st->cov_bc + d2 * d2 * st->var_c;
        double age = t_s - st->s[st->n - 1].t_s;
        if (age < 0.0)
            age = 0.0;
        double wd = wander_ppm * 1e-6 * age;
        double q = st->nfit >= 2 ? st->wander_q : Q_DEFAULT;
        *var_s2 = v + wd * wd + age_var(q, st->wander_q3, age);
    }
    return y;
}

double srcstats_chr_predict(const struct srcstats *st, double t_s)
{
    if (st->chr_n == 0)
        return 0.0;
    if (st->n_chr < 3)
        return st->chr_y[st->chr_n - 1];
    return st->chr_a_s + st->chr_b * (t_s - st->chr_tref_s);
}

double srcstats_freq(const struct srcstats *st, double t_s)
{
    return st->b + 2.0 * st->c * (t_s - st->t_ref_s);
}

double srcstats_distance(const struct srcstats *st, double t_s, double clock_error_ppm)
{
    double best = 1e6;
    for (int i = 0; i < st->n; i++) {
        const struct srcstats_sample *s = &st->s[i];
        double age = t_s - s->t_s;
        if (age < 0.0)
            age = 0.0;
        double d =
            s->root_delay_s / 2.0 + s->root_disp_s + (st->skew + clock_error_ppm * 1e-6) * age;
        if (d < best)
            best = d;
    }
    return best;
}
