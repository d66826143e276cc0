/* Per-source sample statistics: a register of samples and a weighted regression of the
 * source's offset against time that estimates offset, frequency and skew.
 *
 * Offsets stored here are of the *raw* clock, the local clock minus every correction the
 * engine has applied (core/discipline.h), positive = raw clock ahead of the source. A raw
 * clock drifts smoothly, so steps and slews never invalidate samples and nothing has to be
 * re-written when the clock is corrected.
 *
 * Model: y(t) = a + b (t - t_ref) + alpha * excess, where excess = delay - min delay. Each
 * sample's weight is 1 / (floor^2 + excess^2 / 12): a sample delayed by queueing has an
 * offset error of up to excess/2 (uniform when both directions queue alike). alpha captures
 * asymmetric queueing (the error is then a fixed fraction of the excess), so the
 * intercept is the offset a sample with the minimum delay would show. Old samples count
 * less: the oscillator's frequency wanders (a random walk of rate q), which adds q age^3/3
 * to a sample's variance as a predictor of now. q belongs to the local oscillator, so the
 * caller chooses it for all sources from a grid by one-step-ahead prediction errors
 * (srcstats_cv) accumulated over time. Outliers (|residual|
 * > SRCSTATS_OUTLIER_SIGMA scaled sigmas) get no weight; a runs test drops the oldest
 * samples while the residuals are not random (the frequency changed).
 */
#ifndef TEMPUS_CORE_SRCSTATS_H
#define TEMPUS_CORE_SRCSTATS_H

#ifndef SRCSTATS_MAX_SAMPLES
#define SRCSTATS_MAX_SAMPLES 128 /* chrony: 64; more helps when the clock is stable */
#endif
#define SRCSTATS_OUTLIER_SIGMA 4.0
#ifdef Q_GRID_FINE
#define SRCSTATS_N_LIN 19
#else
#define SRCSTATS_N_LIN 10 /* candidate wander rates of the straight-line model */
#endif
#define SRCSTATS_N_Q     (SRCSTATS_N_LIN + 6) /* candidate models: lines, then quadratics (drift) */
#define SRCSTATS_CHR_MAX 64                   /* chrony's register size */
#ifndef SRCSTATS_HIST
#define SRCSTATS_HIST 64 /* delays remembered for the path's base delay */
#endif

struct srcstats_sample {
    double t_s;          /* engine time of the sample (midpoint of request and response) */
    double y_s;          /* raw clock offset, positive = raw clock ahead of the source */
    double meas_s;       /* offset measured against the local clock, positive = ahead */
    double delay_s;      /* round-trip delay */
    double disp_s;       /* peer dispersion */
    double root_delay_s; /* server's root delay + delay */
    double root_disp_s;  /* server's root dispersion + peer dispersion */
    int stratum;
    int leap;
    int suspect; /* set by srcstats_add: +-1 far above/below the prediction (not fitted) */
};

struct srcstats {
    int min_samples;          /* kept through runs-test trimming (>= 3) */
    int max_samples;          /* register size (<= SRCSTATS_MAX_SAMPLES) */
    double fixed_min_delay_s; /* mindelay option, 0 = use the register's minimum */
    int n;
    struct srcstats_sample s[SRCSTATS_MAX_SAMPLES]; /* oldest first */
    unsigned char used[SRCSTATS_MAX_SAMPLES];       /* 0 = rejected as outlier in the fit */

    /* Results of srcstats_fit(). */
    int nfit_prev;  /* nfit of the previous fit (its alpha is reused by the wander choice) */
    int nfit;       /* parameters fitted: 0 none, 1 offset only, 2 +frequency, 3 +alpha */
    double t_ref_s; /* time the intercept refers to (the newest sample's) */
    double a_s;     /* raw offset at t_ref */
    double b;       /* raw clock frequency error, s/s (positive = fast) */
    double alpha;   /* asymmetry: offset error per second of excess delay */
    double var_a, var_b, cov_ab; /* scaled parameter covariances */
    double var_alpha;            /* variance of alpha (0 when not fitted) */
    int has_alpha;               /* alpha was fitted (else fixed: 0 or +-0.5) */
    int has_quad;                /* the drift term c was fitted */
    double c;                    /* frequency drift: y gains c dt^2 (s/s^2 / 2) */
    double var_c, cov_ac, cov_bc;
    double sd_s; /* residual standard deviation (weighted) */
    double skew; /* frequency error bound, s/s */
    double min_delay_s;
    /* The last hist_n samples (a ring, next at hist_i), kept through the runs test's
     * trimming: the path's base delay and asymmetry outlast a frequency change. */
    double hist_t_s[SRCSTATS_HIST], hist_y_s[SRCSTATS_HIST], hist_delay_s[SRCSTATS_HIST];
    int hist_n, hist_i;
    double path_alpha, path_alpha_se; /* asymmetry from the history's differences */
    int has_path_alpha;               /* path_alpha is significant and in use */
    int runs;
    double n_eff;     /* samples that count, given the wander (<= n) */
    double floor_s;   /* weight floor of the last fit */
    double asym_g;    /* share of e^2/12 in the weights (1 symmetric, 0 one-way queueing) */
    double k2;        /* reduced chi^2 of the last fit (noise scale) */
    double wander_q;  /* frequency random-walk rate in use, (s/s)^2 per s (set by caller) */
    double wander_q3; /* drift random-walk rate of the quadratic model, (s/s^2)^2 per s */
    int quad;         /* the caller chose the quadratic (frequency drift) model */

    /* chrony 4.3's register as its own rules would keep it, for chrony's poll rule (the
     * packet bar): every good sample, a straight line without a wander term, a runs test
     * over the fitted samples plus up to as many older ones (chrony's "runs samples"), and
     * samples the runs test trims never come back into the fit. Oldest first: chr_n
     * samples, of which the newest n_chr are chrony's register. */
    int chr_n;
    int n_chr;
    double chr_a_s, chr_b, chr_tref_s; /* chrony's line: offset at chr_tref, frequency */
    double chr_alpha; /* chrony's asymmetry: offset error per second of peer distance excess */
    double chr_mind;  /* the shadow register's minimum peer distance */
    double chr_t[2 * SRCSTATS_CHR_MAX], chr_y[2 * SRCSTATS_CHR_MAX], chr_d[2 * SRCSTATS_CHR_MAX];
};

/* Empty register. min/max samples <= 0 take the defaults (6, SRCSTATS_MAX_SAMPLES). */
void srcstats_init(struct srcstats *st, int min_samples, int max_samples);

/* Adds a sample (copied), dropping the oldest when full. Refits. */
void srcstats_add(struct srcstats *st, const struct srcstats_sample *smp);

/* Drops every sample (e.g. after a source is reset). */
void srcstats_clear(struct srcstats *st);

/* Refits the model from the register, trimming old samples by the runs test. */
void srcstats_fit(struct srcstats *st);

/* Predicted raw offset at t_s; *var_s2 (if non-NULL) gets its variance, including growth
 * by the fitted frequency wander (and wander_ppm, an extra allowance in ppm) since the
 * newest sample. 0 when empty. */
double srcstats_predict(const struct srcstats *st, double t_s, double wander_ppm, double *var_s2);

/* Frequency (s/s) of the raw clock at t_s: b, plus the drift term's change since t_ref. */
double srcstats_freq(const struct srcstats *st, double t_s);

/* Root distance of the newest sample at t_s: root_delay/2 + root_disp, grown by
 * (skew + clock_error) over its age. A large value when empty. */
double srcstats_distance(const struct srcstats *st, double t_s, double clock_error_ppm);

/* The k-th candidate model's frequency wander rate q (k in 0 .. SRCSTATS_N_Q-1), (s/s)^2
 * per second (0 for the quadratic models, k >= SRCSTATS_N_LIN). */
double srcstats_q_value(int k);

/* Uses the k-th candidate model for the next fits: k < SRCSTATS_N_LIN a straight line whose
 * samples age by the wander rate q_value(k), else a line plus a frequency drift term whose
 * samples age by a random walk of the drift (variance q3 age^5 / 20). */
void srcstats_set_model(struct srcstats *st, int k);

/* Prediction errors of smp (not yet added) by the register fitted with each candidate model:
 * z2[k] = error^2 / smp's measurement variance. 0, or -1 when too few samples. */
int srcstats_cv(const struct srcstats *st, const struct srcstats_sample *smp,
                double z2[SRCSTATS_N_Q]);

/* The model chooser: for every candidate a decaying sum (memory ~SRCSTATS_Q_MEMORY
 * samples) of its normalised one-step prediction errors (srcstats_cv, each capped at 16),
 * and the candidate in use. A zeroed struct is a valid start (candidate 0, nothing scored). */
#define SRCSTATS_Q_MEMORY 50.0
struct srcstats_chooser {
    double score[SRCSTATS_N_Q];
    int n_scored; /* samples scored so far */
    int index;    /* the candidate in use (srcstats_set_model) */
};

/* Scores one sample's prediction errors z2 (srcstats_cv) and returns the candidate to use:
 * the best straight line, or the best quadratic one when its score is clearly (a margin)
 * below the best line's after enough samples; a quadratic in use is kept while it scores
 * below the best line. */
int srcstats_chooser_update(struct srcstats_chooser *c, const double z2[SRCSTATS_N_Q]);

/* chrony's prediction of the raw offset at t_s from its own register (its poll rule's
 * "error in estimate"): the line, or the newest sample while fewer than 3. 0 when empty. */
double srcstats_chr_predict(const struct srcstats *st, double t_s);

/* The newest sample, or NULL. */
const struct srcstats_sample *srcstats_last(const struct srcstats *st);

#endif
