/* Weighted least squares for small models (up to REGRESS_MAX_PARAMS parameters) and the
 * runs test that tells when a model no longer fits the data's oldest part. Pure maths. */
#ifndef TEMPUS_CORE_REGRESS_H
#define TEMPUS_CORE_REGRESS_H

#define REGRESS_MAX_PARAMS 4

/* Minimises sum w[i] (y[i] - sum_j x[i*p+j] b[j])^2 over n rows of p regressors (row-major).
 * Fills b[p] and cov[p*p] = (X'WX)^-1, the parameters' covariance when w[i] = 1/var[i].
 * All arrays borrowed. Returns 0, or -1 when n < p or the system is singular. */
int regress_wls(const double *x, const double *y, const double *w, int n, int p, double *b,
                double *cov);

/* Number of runs of equal sign in r[0..n-1] (zero counts as positive); 0 when n == 0. */
int regress_runs(const double *r, int n);

/* Fewest runs that n independent residuals of random sign show with 95 % probability
 * (exact: runs - 1 is Binomial(n - 1, 1/2)). Fewer runs than this means the residuals are
 * not random: the model is wrong. */
int regress_runs_critical(int n);

/* The runs test as chronyd 4.3's register applies it (the shadow of chrony's register in
 * core/srcstats): n residuals with `runs` runs pass when runs exceed regress_runs_critical(n)
 * (runs equal to the critical value already fail: one run stricter than the plain 5 % test)
 * and always below 8 residuals. 1 = random enough (keep the samples), 0 = trim. */
int regress_runs_pass_chrony(int runs, int n);

/* Probability, for residuals of random order with the signs r[0..n-1] shows (zero counts as
 * positive), of no more runs than r has: the exact Wald-Wolfowitz distribution given the
 * numbers of positive and negative residuals. 1 when n < 2 or all signs are equal (no
 * evidence either way). A small value means the residuals are not random. */
double regress_runs_p(const double *r, int n);

/* Median of v[0..n-1] (scratch: v is reordered). 0 for n == 0. */
double regress_median(double *v, int n);

/* Bounded-error line: each of n samples says the line a + b t[i] lies within [y[i] - h[i],
 * y[i] + h[i]] (h[i] >= 0: a half-width that bounds the sample's error, e.g. half a delay
 * excess). For a slope b the feasible offsets form [L(b), U(b)], L = max(y - b t - h), U =
 * min(y - b t + h); regress_band_at returns U - L (negative: no line with that slope meets
 * every bound) and stores L and U (either pointer may be NULL). n >= 1; arrays borrowed. */
double regress_band_at(const double *t, const double *y, const double *h, int n, double b,
                       double *lo, double *hi);

/* The slope in [b_lo, b_hi] where U(b) - L(b) (concave in b) is largest: the centre line
 * of the feasible (a, b) set when it is not empty, the minimax line (smallest worst-case
 * bound violation) when it is. Stores that slope in *b and L, U there in *lo, *hi; returns
 * U - L (negative: the bounds contradict each other: a step, a route change or margins
 * too tight). n >= 1, b_lo <= b_hi. */
double regress_band(const double *t, const double *y, const double *h, int n, double b_lo,
                    double b_hi, double *b, double *lo, double *hi);

#endif
