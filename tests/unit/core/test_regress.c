/* core/regress: weighted least squares recovers known lines; the runs test tells random
 * residuals from a trend. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/prng.h"
#include "core/regress.h"

static void test_exact_line(void **state)
{
    (void)state;
    double x[10 * 2], y[10], w[10], b[2], cov[4];
    for (int i = 0; i < 10; i++) {
        x[2 * i] = 1.0;
        x[2 * i + 1] = i;
        y[i] = 3.0 - 0.5 * i;
        w[i] = 1.0 + i;
    }
    assert_int_equal(regress_wls(x, y, w, 10, 2, b, cov), 0);
    assert_true(fabs(b[0] - 3.0) < 1e-12);
    assert_true(fabs(b[1] + 0.5) < 1e-12);
    assert_true(cov[0] > 0.0 && cov[3] > 0.0);
}

static void test_noisy_line_within_tolerance(void **state)
{
    (void)state;
    struct prng r;
    prng_seed(&r, 42);
    enum { N = 200 };
    double x[N * 3], y[N], w[N], b[3], cov[9];
    /* offset 1 ms, slope 20 ppm, plus a term proportional to a third regressor */
    for (int i = 0; i < N; i++) {
        double t = i * 16.0, e = prng_exponential(&r, 1e-4);
        x[3 * i] = 1.0;
        x[3 * i + 1] = t;
        x[3 * i + 2] = e;
        y[i] = 1e-3 + 20e-6 * t + 0.4 * e + prng_gaussian(&r, 0.0, 1e-6);
        w[i] = 1.0;
    }
    assert_int_equal(regress_wls(x, y, w, N, 3, b, cov), 0);
    assert_true(fabs(b[0] - 1e-3) < 1e-6);
    assert_true(fabs(b[1] - 20e-6) < 1e-9);
    assert_true(fabs(b[2] - 0.4) < 0.02);
}

static void test_singular_and_too_few(void **state)
{
    (void)state;
    double x[4] = {1, 2, 1, 2}, y[2] = {1, 1}, w[2] = {1, 1}, b[2];
    assert_int_equal(regress_wls(x, y, w, 2, 2, b, NULL), -1);
    assert_int_equal(regress_wls(x, y, w, 1, 2, b, NULL), -1);
}

static void test_runs(void **state)
{
    (void)state;
    double r1[8] = {1, -1, 1, -1, 1, -1, 1, -1};
    double r2[8] = {1, 1, 1, 1, -1, -1, -1, -1};
    assert_int_equal(regress_runs(r1, 8), 8);
    assert_int_equal(regress_runs(r2, 8), 2);
    assert_int_equal(regress_runs(r1, 0), 0);
    /* 1 run among 8 is rare (1/128), 2 runs are not (8/128) */
    assert_int_equal(regress_runs_critical(8), 2);
    /* 16: P(runs <= 4) = 576/32768 < 5 %, P(runs <= 5) > 5 % */
    assert_int_equal(regress_runs_critical(16), 5);
    assert_true(regress_runs_critical(64) > 20);
    /* random signs pass in the vast majority of cases */
    struct prng r;
    prng_seed(&r, 7);
    int pass = 0;
    for (int k = 0; k < 200; k++) {
        double v[32];
        for (int i = 0; i < 32; i++)
            v[i] = prng_normal(&r);
        pass += regress_runs(v, 32) >= regress_runs_critical(32);
    }
    assert_true(pass >= 180);
}

/* chronyd's form of the runs test: runs equal to the binomial critical value already fail,
 * and below 8 residuals nothing fails. */
static void test_runs_pass_chrony(void **state)
{
    (void)state;
    assert_int_equal(regress_runs_pass_chrony(1, 7), 1);
    assert_int_equal(regress_runs_pass_chrony(1, 3), 1);
    /* 8 residuals: critical value 2 */
    assert_int_equal(regress_runs_pass_chrony(2, 8), 0);
    assert_int_equal(regress_runs_pass_chrony(3, 8), 1);
    /* 16: critical value 5; the plain test accepts 5 runs, chronyd's form does not */
    assert_true(5 >= regress_runs_critical(16));
    assert_int_equal(regress_runs_pass_chrony(5, 16), 0);
    assert_int_equal(regress_runs_pass_chrony(6, 16), 1);
}

/* The exact runs distribution given the sign counts (Wald-Wolfowitz): 5 + and 5 - in two
 * runs happen in 2 of C(10,5) = 252 orders, in three runs in 8 more; alternating signs are
 * the most runs possible (p = 1); one sign gives no evidence (1). */
static void test_runs_p(void **state)
{
    (void)state;
    double two[10] = {1, 1, 1, 1, 1, -1, -1, -1, -1, -1};
    assert_true(fabs(regress_runs_p(two, 10) - 2.0 / 252.0) < 1e-12);
    double three[10] = {1, 1, 1, -1, -1, -1, -1, -1, 1, 1};
    assert_true(fabs(regress_runs_p(three, 10) - 10.0 / 252.0) < 1e-12);
    double alt[10] = {1, -1, 1, -1, 1, -1, 1, -1, 1, -1};
    assert_true(fabs(regress_runs_p(alt, 10) - 1.0) < 1e-12);
    double same[4] = {1, 2, 3, 0};
    assert_true(regress_runs_p(same, 4) == 1.0);
    /* Unbalanced signs make few runs likely: 1 - among 9 + in 3 runs is the usual case. */
    double one[10] = {1, 1, 1, 1, -1, 1, 1, 1, 1, 1};
    assert_true(fabs(regress_runs_p(one, 10) - 1.0) < 1e-12);
    double edge[10] = {-1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_true(fabs(regress_runs_p(edge, 10) - 0.2) < 1e-12);
}

static void test_median(void **state)
{
    (void)state;
    double v[5] = {5, 1, 4, 2, 3}, u[4] = {4, 1, 3, 2};
    assert_true(regress_median(v, 5) == 3.0);
    assert_true(regress_median(u, 4) == 2.5);
}

/* The band at a given slope: the offsets every bound allows, exactly. */
static void test_band_at(void **state)
{
    (void)state;
    double t[3] = {-2.0, -1.0, 0.0}, y[3] = {1.0 - 2.0 * 0.5, 1.2 - 0.5, 0.9},
           h[3] = {0.3, 0.1, 0.2};
    double lo, hi;
    /* at slope 0.5 the centres are 1.0, 1.2, 0.9: [0.7,1.3] & [1.1,1.3] & [0.7,1.1] = [1.1,1.1] */
    assert_true(fabs(regress_band_at(t, y, h, 3, 0.5, &lo, &hi)) < 1e-12);
    assert_true(fabs(lo - 1.1) < 1e-12 && fabs(hi - 1.1) < 1e-12);
    /* a slope the bounds exclude: negative width */
    assert_true(regress_band_at(t, y, h, 3, 0.0, &lo, &hi) < 0.0);
}

/* Offsets of a line through a path queueing exp(1 ms) each way, bounded by half the delay
 * excess (the base delay known): the truth is always inside the band, and the band's centre
 * line beats the excess-weighted least squares (weights 1 / (floor^2 + e^2 / 12)) because
 * the tightest bounds shrink like 1/n (32 samples: ~0.75 of its RMS error). */
static void test_band_exponential_queueing(void **state)
{
    (void)state;
    enum { N = 32, SEEDS = 200 };
    double se_band = 0.0, se_wls = 0.0, sb_band = 0.0, sb_wls = 0.0;
    for (int seed = 1; seed <= SEEDS; seed++) {
        struct prng r;
        prng_seed(&r, (uint64_t)seed);
        double t[N], y[N], h[N], x[2 * N], w[N], b[2], cov[4];
        const double a0 = 1e-3, b0 = 20e-6;
        for (int i = 0; i < N; i++) {
            double up = prng_exponential(&r, 1e-3), down = prng_exponential(&r, 1e-3);
            t[i] = (i - (N - 1)) * 64.0;
            y[i] = a0 + b0 * t[i] + (up - down) / 2.0;
            h[i] = (up + down) / 2.0;
            x[2 * i] = 1.0;
            x[2 * i + 1] = t[i];
            w[i] = 1.0 / (1e-8 + (up + down) * (up + down) / 12.0);
        }
        double lo, hi, bb;
        assert_true(regress_band_at(t, y, h, N, b0, &lo, &hi) >= 0.0);
        assert_true(lo <= a0 + 1e-12 && a0 <= hi + 1e-12);
        assert_true(regress_band(t, y, h, N, b0 - 1e-6, b0 + 1e-6, &bb, &lo, &hi) >= 0.0);
        double ab = 0.5 * (lo + hi);
        assert_int_equal(regress_wls(x, y, w, N, 2, b, cov), 0);
        se_band += (ab - a0) * (ab - a0);
        se_wls += (b[0] - a0) * (b[0] - a0);
        sb_band += (bb - b0) * (bb - b0);
        sb_wls += (b[1] - b0) * (b[1] - b0);
    }
    print_message("offset RMS band %.1f us, wls %.1f us; slope band %.4f ppm, wls %.4f ppm\n",
                  sqrt(se_band / SEEDS) * 1e6, sqrt(se_wls / SEEDS) * 1e6,
                  sqrt(sb_band / SEEDS) * 1e6, sqrt(sb_wls / SEEDS) * 1e6);
    /* measured: offset 76 vs 102 us, slope 0.064 vs 0.090 ppm (200 seeds of 32 samples) */
    assert_true(sqrt(se_band / SEEDS) < 0.85 * sqrt(se_wls / SEEDS));
    assert_true(sqrt(sb_band / SEEDS) < 0.85 * sqrt(sb_wls / SEEDS));
}

/* A step in the path's asymmetry (every later offset 1.5 ms higher, the delays unchanged)
 * makes the bounds contradict each other: no line meets them all. */
static void test_band_empty_after_step(void **state)
{
    (void)state;
    enum { N = 24 };
    struct prng r;
    prng_seed(&r, 7);
    double t[N], y[N], h[N], b, lo, hi;
    for (int i = 0; i < N; i++) {
        double up = prng_exponential(&r, 0.3e-3), down = prng_exponential(&r, 0.3e-3);
        t[i] = (i - (N - 1)) * 64.0;
        y[i] = (up - down) / 2.0 + (i >= N / 2 ? 1.5e-3 : 0.0);
        h[i] = (up + down) / 2.0;
    }
    assert_true(regress_band(t, y, h, N, -1e-6, 1e-6, &b, &lo, &hi) < 0.0);
    /* the newer half alone is consistent again */
    assert_true(regress_band(t + N / 2, y + N / 2, h + N / 2, N / 2, -1e-6, 1e-6, &b, &lo, &hi) >=
                0.0);
    assert_true(lo <= 1.5e-3 + 1e-12 && 1.5e-3 <= hi + 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_line),
        cmocka_unit_test(test_band_at),
        cmocka_unit_test(test_band_exponential_queueing),
        cmocka_unit_test(test_band_empty_after_step),
        cmocka_unit_test(test_noisy_line_within_tolerance),
        cmocka_unit_test(test_singular_and_too_few),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_runs_p),
        cmocka_unit_test(test_runs_pass_chrony),
        cmocka_unit_test(test_median),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
