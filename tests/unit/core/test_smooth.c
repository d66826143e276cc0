/* core/smooth: the smoothtime spline, with known answers and its limits. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/smooth.h"

#define S  1000000000LL
#define T0 (1700000000LL * S)

/* cmocka 1.1.5's assert_float_equal compares floats (24 bits): these figures need doubles */
#define assert_near(a, b, eps) near_((a), (b), (eps), #a, __LINE__)
static void near_(double a, double b, double eps, const char *what, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("line %d: %s = %.17g, want %.17g +- %g\n", line, what, a, b, eps);
        fail();
    }
}

static int64_t at(double t_s)
{
    return T0 + (int64_t)llround(t_s * 1e9);
}

/* chronyd 4.3 (measured, `smoothtime 400 0.001`): offset +0.000002016 s, frequency +0.651376
 * ppm -> wander -0.001 ppm/s, remaining 1576.9 s. The same state here gives the same plan. */
static void test_chronyd_figure(void **state)
{
    (void)state;
    struct smooth s;
    smooth_init(&s, 400, 0.001, 0);
    assert_int_equal(smooth_activate(&s, at(0)), 1);
    /* a frequency change of -0.651376 ppm makes the served time run 0.651376 ppm faster;
     * then an offset change of -2.016 us (of which the frequency adds ~0 in 0 s) */
    smooth_freq_change(&s, at(0), -0.651376);
    smooth_offset_change(&s, at(0), -0.000002016);
    struct smooth_report r;
    smooth_report(&s, at(0), &r);
    assert_true(r.active);
    assert_false(r.leap_only);
    assert_near(r.offset_s, 0.000002016, 1e-12);
    assert_near(r.freq_ppm, 0.651376, 1e-9);
    assert_near(r.wander_ppm_per_s, -0.001, 1e-12);
    assert_near(r.remaining_s, 1576.9, 0.05);
    assert_near(r.last_update_ago_s, 0.0, 0.0);
    smooth_report(&s, at(10), &r);
    assert_near(r.last_update_ago_s, 10.0, 1e-9);
    assert_near(r.remaining_s, 1566.9, 0.05);
}

/* The leap smear of chrony.conf's example: `smoothtime 400 0.001024 leaponly`, one inserted
 * second: sqrt(4/wander) = 62500 s, peak frequency 32 ppm at half time, 0.5 s then. */
static void test_leap_smear(void **state)
{
    (void)state;
    struct smooth s;
    smooth_init(&s, 400, 0.001024, 1);
    smooth_leap(&s, at(0), 1); /* inactive: ignored */
    assert_near(smooth_offset_s(&s, at(0)), 0.0, 0.0);
    assert_false(smooth_serving(&s, at(0)));
    smooth_activate(&s, at(0));
    smooth_freq_change(&s, at(0), 50.0); /* leap only: ignored */
    smooth_offset_change(&s, at(0), 0.5);
    assert_false(smooth_serving(&s, at(1)));
    smooth_leap(&s, at(100), 1);
    assert_true(smooth_serving(&s, at(100)));
    struct smooth_report r;
    smooth_report(&s, at(100), &r);
    assert_true(r.leap_only);
    assert_near(r.offset_s, 1.0, 0.0);
    assert_near(r.remaining_s, 62500.0, 1e-6);
    assert_near(r.wander_ppm_per_s, -0.001024, 1e-12);
    smooth_report(&s, at(100 + 31250), &r);
    assert_near(r.offset_s, 0.5, 1e-9);
    assert_near(r.freq_ppm, -32.0, 1e-6);
    smooth_report(&s, at(100 + 31250.5), &r);
    assert_near(r.wander_ppm_per_s, +0.001024, 1e-12);
    smooth_report(&s, at(100 + 62500 - 1), &r);
    assert_true(r.offset_s > 0.0 && r.offset_s < 1e-9);
    smooth_report(&s, at(100 + 62500), &r);
    assert_near(r.offset_s, 0.0, 0.0);
    assert_near(r.freq_ppm, 0.0, 0.0);
    assert_near(r.remaining_s, 0.0, 0.0);
    assert_false(smooth_serving(&s, at(100 + 62500)));
    /* a deleted second: the mirror image */
    smooth_leap(&s, at(70000), -1);
    assert_near(smooth_offset_s(&s, at(70000 + 31250)), -0.5, 1e-9);
}

/* A frequency cap that binds: 1 s at 10 ppm, 0.001 ppm/s: 10000 s up to 10 ppm (0.05 s),
 * 90000 s at 10 ppm (0.9 s), 10000 s down (0.05 s): 110000 s. */
static void test_capped(void **state)
{
    (void)state;
    struct smooth s;
    smooth_init(&s, 10, 0.001, 0);
    smooth_activate(&s, at(0));
    smooth_offset_change(&s, at(0), -1.0); /* the clock jumped back 1 s: served +1 s */
    struct smooth_report r;
    smooth_report(&s, at(0), &r);
    assert_near(r.offset_s, 1.0, 0.0);
    assert_near(r.remaining_s, 110000.0, 1e-6);
    assert_near(smooth_offset_s(&s, at(10000)), 0.95, 1e-9);
    assert_near(smooth_freq(&s, at(50000)) * 1e6, -10.0, 1e-9);
    assert_near(smooth_offset_s(&s, at(100000)), 0.05, 1e-9);
    assert_near(smooth_offset_s(&s, at(110000)), 0.0, 1e-15);
    assert_near(smooth_offset_s(&s, at(110000.001)), 0.0, 0.0);
}

/* A frequency change above the cap comes down at the wander limit and never exceeds it
 * again; the offset is continuous through every change. */
static void test_limits_random(void **state)
{
    (void)state;
    struct smooth s;
    const double F = 50.0, W = 0.01;
    smooth_init(&s, F, W, 0);
    smooth_activate(&s, at(0));
    uint64_t x = 88172645463325252ull;
    double t = 0.0;
    for (int k = 0; k < 200; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double df = ((double)(x % 2001) - 1000.0) / 100.0; /* -10 .. +10 ppm */
        double before = smooth_offset_s(&s, at(t)), fbefore = smooth_freq(&s, at(t));
        smooth_freq_change(&s, at(t), df);
        assert_near(smooth_offset_s(&s, at(t)), before, 1e-12);
        assert_near(smooth_freq(&s, at(t)), fbefore - df * 1e-6, 1e-15);
        double gap = (double)(x % 600) + 1.0, prev_f = smooth_freq(&s, at(t));
        double prev_o = smooth_offset_s(&s, at(t));
        for (double u = 0.5; u <= gap; u += 0.5) {
            double f = smooth_freq(&s, at(t + u)), o = smooth_offset_s(&s, at(t + u));
            /* wander within the limit (1e-9 of float slack) */
            assert_true(fabs(f - prev_f) <= W * 1e-6 * 0.5 * (1 + 1e-9) + 1e-18);
            /* the offset moves with the mean frequency (exact within a piece; a piece boundary
             * inside the step costs at most W dt^2 / 4) */
            assert_near(o - prev_o, 0.5 * (f + prev_f) * 0.5, 1e-9);
            /* within the cap once back under it */
            if (fabs(prev_f) <= F * 1e-6)
                assert_true(fabs(f) <= F * 1e-6 * (1 + 1e-9));
            prev_f = f;
            prev_o = o;
        }
        t += gap;
    }
    /* left alone, it ends at 0 */
    struct smooth_report r;
    smooth_report(&s, at(t), &r);
    smooth_report(&s, at(t + r.remaining_s + 1), &r);
    assert_near(r.offset_s, 0.0, 0.0);
    assert_near(r.freq_ppm, 0.0, 0.0);
}

static void test_inactive_reset_step(void **state)
{
    (void)state;
    struct smooth s;
    smooth_init(&s, 400, 0.001, 0);
    struct smooth_report r;
    smooth_report(&s, at(5), &r);
    assert_false(r.active);
    assert_near(r.last_update_ago_s, 0.0, 0.0); /* never: 0.0 as chronyd */
    smooth_freq_change(&s, at(1), 3.0);
    assert_near(smooth_freq(&s, at(2)), 0.0, 0.0);
    assert_int_equal(smooth_activate(&s, at(3)), 1);
    assert_int_equal(smooth_activate(&s, at(4)), 0);
    smooth_freq_change(&s, at(5), 3.0);
    assert_true(smooth_serving(&s, at(6)));
    assert_true(smooth_offset_s(&s, at(6)) < 0.0); /* the clock gains: served lags it */
    smooth_reset(&s, at(7));
    smooth_report(&s, at(7), &r);
    assert_true(r.active);
    assert_near(r.offset_s, 0.0, 0.0);
    assert_near(r.remaining_s, 0.0, 0.0);
    assert_false(smooth_serving(&s, at(7)));
    smooth_freq_change(&s, at(8), -1.0);
    assert_true(smooth_serving(&s, at(9)));
    smooth_step(&s, at(9));
    assert_false(smooth_serving(&s, at(9)));
    assert_near(smooth_offset_s(&s, at(10)), 0.0, 0.0);
}

static void test_skew_rule(void **state)
{
    (void)state;
    struct smooth s;
    smooth_init(&s, 400, 0.001, 0);
    /* chronyd 4.3 activated at a skew of 4.961 ppm, not at 47.381 ppm */
    assert_true(smooth_skew_activates(&s, 4.961));
    assert_true(smooth_skew_activates(&s, 9.9));
    assert_false(smooth_skew_activates(&s, 10.1));
    assert_false(smooth_skew_activates(&s, 47.381));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chronyd_figure),
        cmocka_unit_test(test_leap_smear),
        cmocka_unit_test(test_capped),
        cmocka_unit_test(test_limits_random),
        cmocka_unit_test(test_inactive_reset_step),
        cmocka_unit_test(test_skew_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
