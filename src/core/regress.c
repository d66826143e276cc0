#include "core/regress.h"

#include <math.h>
#include <stdlib.h>

int regress_wls(const double *x, const double *y, const double *w, int n, int p, double *b,
                double *cov)
{
    double m[REGRESS_MAX_PARAMS][2 * REGRESS_MAX_PARAMS];
    double v[REGRESS_MAX_PARAMS];

    if (p < 1 || p > REGRESS_MAX_PARAMS || n < p)
        return -1;
    for (int j = 0; j < p; j++) {
        v[j] = 0.0;
        for (int k = 0; k < 2 * p; k++)
            m[j][k] = (k == p + j) ? 1.0 : 0.0;
    }
    for (int i = 0; i < n; i++) {
        const double *xi = x + (size_t)i * (size_t)p;
        for (int j = 0; j < p; j++) {
            v[j] += w[i] * xi[j] * y[i];
            for (int k = 0; k < p; k++)
                m[j][k] += w[i] * xi[j] * xi[k];
        }
    }
    /* Gauss-Jordan with partial pivoting on [X'WX | I]; p <= 4 so this is exact enough. */
    for (int c = 0; c < p; c++) {
        int piv = c;
        for (int r = c + 1; r < p; r++)
            if (fabs(m[r][c]) > fabs(m[piv][c]))
                piv = r;
        if (!(fabs(m[piv][c]) > 1e-300))
            return -1;
        if (piv != c) {
            for (int k = 0; k < 2 * p; k++) {
                double t = m[c][k];
                m[c][k] = m[piv][k];
                m[piv][k] = t;
            }
        }
        double d = m[c][c];
        for (int k = 0; k < 2 * p; k++)
            m[c][k] /= d;
        for (int r = 0; r < p; r++) {
            if (r == c)
                continue;
            double f = m[r][c];
            if (f == 0.0)
                continue;
            for (int k = 0; k < 2 * p; k++)
                m[r][k] -= f * m[c][k];
        }
    }
    for (int j = 0; j < p; j++) {
        b[j] = 0.0;
        for (int k = 0; k < p; k++) {
            b[j] += m[j][p + k] * v[k];
            if (cov)
                cov[j * p + k] = m[j][p + k];
        }
        if (!isfinite(b[j]))
            return -1;
    }
    return 0;
}

int regress_runs(const double *r, int n)
{
    int runs = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || ((r[i] < 0.0) != (r[i - 1] < 0.0)))
            runs++;
    return runs;
}

int regress_runs_critical(int n)
{
    /* Under the null hypothesis runs - 1 ~ Binomial(n - 1, 1/2): the critical value is the
     * smallest r with P(runs < r) > 5 %, so fewer than r runs happen by chance <= 5 %. */
    if (n < 3)
        return 1;
    double term = pow(0.5, n - 1), cdf = 0.0; /* P(X = 0) */
    for (int k = 0; k < n; k++) {
        cdf += term;
        if (cdf > 0.05)
            return k + 1; /* runs >= k + 1 accepted */
        term = term * (double)(n - 1 - k) / (double)(k + 1);
    }
    return n;
}

int regress_runs_pass_chrony(int runs, int n)
{
    /* Inferred from measurements, not from chrony's code: with this form the shadow of
     * chrony's register (core/srcstats) sends per seed what the real chronyd sends under the
     * syscall-level simulator (wan4 seeds 1-3: 199/208/200 vs chronyd's 199/204/200, lan
     * 101 vs 105, liar_late 225 vs 222); with the plain test it kept more samples and polled
     * slower than chronyd (lan 81). */
    if (n < 8)
        return 1;
    return runs > regress_runs_critical(n);
}

/* log C(n, k) */
static double log_choose(int n, int k)
{
    if (k < 0 || k > n)
        return -HUGE_VAL;
    return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
}

double regress_runs_p(const double *r, int n)
{
    int n1 = 0;
    for (int i = 0; i < n; i++)
        n1 += r[i] >= 0.0;
    int n2 = n - n1, runs = regress_runs(r, n);
    if (n1 == 0 || n2 == 0)
        return 1.0;
    /* P(R = 2k) = 2 C(n1-1, k-1) C(n2-1, k-1) / C(n, n1);
     * P(R = 2k+1) = (C(n1-1, k) C(n2-1, k-1) + C(n1-1, k-1) C(n2-1, k)) / C(n, n1). */
    double lt = log_choose(n, n1), p = 0.0;
    for (int x = 2; x <= runs; x++) {
        int k = x / 2;
        if (x % 2 == 0)
            p += 2.0 * exp(log_choose(n1 - 1, k - 1) + log_choose(n2 - 1, k - 1) - lt);
        else
            p += exp(log_choose(n1 - 1, k) + log_choose(n2 - 1, k - 1) - lt) +
                 exp(log_choose(n1 - 1, k - 1) + log_choose(n2 - 1, k) - lt);
    }
    return p < 1.0 ? p : 1.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double regress_median(double *v, int n)
{
    if (n <= 0)
        return 0.0;
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return (n & 1) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double regress_band_at(const double *t, const double *y, const double *h, int n, double b,
                       double *lo, double *hi)
{
    double l = -HUGE_VAL, u = HUGE_VAL;
    for (int i = 0; i < n; i++) {
        double c = y[i] - b * t[i];
        if (c - h[i] > l)
            l = c - h[i];
        if (c + h[i] < u)
            u = c + h[i];
    }
    if (lo)
        *lo = l;
    if (hi)
        *hi = u;
    return u - l;
}

double regress_band(const double *t, const double *y, const double *h, int n, double b_lo,
                    double b_hi, double *b, double *lo, double *hi)
{
    /* Golden-section search: U - L is a minimum of lines minus a maximum of lines, so
     * concave; 100 steps shrink the bracket by 1e-21, below any slope that matters. */
    const double g = 0.6180339887498949;
    double x0 = b_lo, x3 = b_hi;
    double x1 = x3 - g * (x3 - x0), x2 = x0 + g * (x3 - x0);
    double f1 = regress_band_at(t, y, h, n, x1, NULL, NULL);
    double f2 = regress_band_at(t, y, h, n, x2, NULL, NULL);
    for (int k = 0; k < 100 && x3 - x0 > 0.0; k++) {
        if (f1 >= f2) {
            x3 = x2;
            x2 = x1;
            f2 = f1;
            x1 = x3 - g * (x3 - x0);
            f1 = regress_band_at(t, y, h, n, x1, NULL, NULL);
        } else {
            x0 = x1;
            x1 = x2;
            f1 = f2;
            x2 = x0 + g * (x3 - x0);
            f2 = regress_band_at(t, y, h, n, x2, NULL, NULL);
        }
    }
    double bb = 0.5 * (x0 + x3);
    if (b)
        *b = bb;
    return regress_band_at(t, y, h, n, bb, lo, hi);
}
