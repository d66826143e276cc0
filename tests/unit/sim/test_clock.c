/* Unit tests of sim/clock.c: the frequency error integrates exactly over true time (constant,
 * sine, adjustments from the instant they are made), the kernel-like limits (clamp,
 * 2^-16 ppm quantum), steps move real time but not mono, wander has the stated spread and
 * does not depend on how often the clock is read, leap seconds happen when armed. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/ntp_time.h"
#include "sim/clock.h"

/* cmocka 1.1.5 has no double comparison: this one prints both values when it fails. */
#define assert_near(a, b, eps) assert_near_at((a), (b), (eps), __FILE__, __LINE__)
static void assert_near_at(double a, double b, double eps, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.15g != %.15g (+-%g)\n", a, b, eps);
        _fail(file, line);
    }
}

#define S 1000000000LL

static void test_constant_freq_and_adjust(void **state)
{
    (void)state;
    int64_t now = 0;
    struct simclock c;
    struct simclock_params p;
    simclock_params_default(&p);
    p.freq_ppm = 10;
    p.offset_s = 0.25;
    simclock_init(&c, &p, &now, 1700000000 * S, 1);
    struct clock_ops ops = simclock_ops(&c);
    assert_int_equal(ops.read_real_ns(ops.ctx), 1700000000 * S + 250000000);
    now = 1000 * S;
    assert_near(simclock_error_s(&c), 0.25 + 10e-3, 1e-12);
    assert_near(simclock_freq_error_ppm(&c), 10, 1e-12);
    /* Cancel the error from now on: the error stays where it is. */
    assert_int_equal(ops.set_freq_ppm(ops.ctx, -10), 0);
    now = 5000 * S;
    assert_near(simclock_error_s(&c), 0.26, 1e-12);
    assert_near(simclock_freq_error_ppm(&c), 0, 1e-9);
    /* Slew: +500 ppm for 100 s adds exactly 50 ms. */
    assert_int_equal(ops.set_freq_ppm(ops.ctx, 490), 0);
    now += 100 * S;
    assert_near(simclock_error_s(&c), 0.31, 1e-12);
    int64_t want = 1700000000 * S + now + 310000000;
    assert_true(llabs(ops.read_real_ns(ops.ctx) - want) <= 1);
}

static void test_limits(void **state)
{
    (void)state;
    int64_t now = 0;
    struct simclock c;
    struct simclock_params p;
    simclock_params_default(&p);
    simclock_init(&c, &p, &now, 0, 1);
    struct clock_ops ops = simclock_ops(&c);
    assert_near(ops.max_freq_ppm, SIMCLOCK_MAX_FREQ_PPM, 0);
    assert_int_equal(ops.set_freq_ppm(ops.ctx, 250000), 0);
    assert_near(c.adj_ppm, SIMCLOCK_MAX_FREQ_PPM, 0);
    assert_int_equal(ops.set_freq_ppm(ops.ctx, -250000), 0);
    assert_near(c.adj_ppm, -SIMCLOCK_MAX_FREQ_PPM, 0);
    /* Below the kernel's 2^-16 ppm quantum, nothing changes. */
    assert_int_equal(ops.set_freq_ppm(ops.ctx, 1e-6), 0);
    assert_near(c.adj_ppm, 0, 0);
    assert_int_equal(ops.set_freq_ppm(ops.ctx, 3.3), 0);
    assert_near(c.adj_ppm, round(3.3 * 65536) / 65536, 0);
    assert_int_not_equal(ops.set_freq_ppm(ops.ctx, NAN), 0);
    assert_int_not_equal(ops.step_s(ops.ctx, INFINITY), 0);
    /* A smaller limit from the parameters. */
    p.max_freq_ppm = 500;
    simclock_init(&c, &p, &now, 0, 1);
    ops = simclock_ops(&c);
    assert_near(ops.max_freq_ppm, 500, 0);
    ops.set_freq_ppm(ops.ctx, 1000);
    now = 10 * S;
    assert_near(simclock_error_s(&c), 500e-6 * 10, 1e-12);
}

static void test_step_moves_real_not_mono(void **state)
{
    (void)state;
    int64_t now = 5 * S;
    struct simclock c;
    struct simclock_params p;
    simclock_params_default(&p);
    simclock_init(&c, &p, &now, 1000 * S, 1);
    struct clock_ops ops = simclock_ops(&c);
    int64_t m0 = simclock_mono_ns(&c), r0 = ops.read_real_ns(ops.ctx);
    assert_int_equal(ops.step_s(ops.ctx, -100.0), 0);
    assert_int_equal(ops.read_real_ns(ops.ctx), r0 - 100 * S);
    assert_int_equal(simclock_mono_ns(&c), m0);
    assert_near(simclock_error_s(&c), -100.0, 1e-12);
    assert_int_equal(c.steps, 1);
    now += S;
    assert_int_equal(simclock_mono_ns(&c), m0 + S);
}

static void test_sine_integral(void **state)
{
    (void)state;
    int64_t now = 0;
    struct simclock c;
    struct simclock_params p;
    simclock_params_default(&p);
    p.temp_ppm = 5;
    p.temp_period_s = 7200;
    simclock_init(&c, &p, &now, 0, 1);
    now = 1800 * S; /* quarter period: frequency at its peak */
    assert_near(simclock_osc_freq_ppm(&c), 5, 1e-9);
    now = 3600 * S; /* half: integral of A sin = A P / pi */
    assert_near(simclock_error_s(&c), 5e-6 * 7200 / M_PI, 1e-12);
    now = 7200 * S;
    assert_near(simclock_error_s(&c), 0, 1e-12);
}

/* Two clocks with the same seed, one read every 0.37 s and one read once, agree: the wander
 * does not depend on how often the clock is read. */
static void test_read_pattern_independent(void **state)
{
    (void)state;
    int64_t now = 0;
    struct simclock a, b;
    struct simclock_params p;
    simclock_params_default(&p);
    p.freq_ppm = -3;
    p.wander_ppm_per_sqrt_s = 0.01;
    p.temp_ppm = 2;
    p.temp_period_s = 3000;
    simclock_init(&a, &p, &now, 0, 77);
    simclock_init(&b, &p, &now, 0, 77);
    for (now = 0; now < 2000 * S; now += 370000000)
        (void)simclock_error_s(&a);
    now = 2000 * S;
    double ea = simclock_error_s(&a), eb = simclock_error_s(&b);
    assert_near(ea, eb, 1e-12);
    assert_near(simclock_freq_error_ppm(&a), simclock_freq_error_ppm(&b), 1e-12);
    /* And the wander really moved the clock away from the deterministic part. */
    struct simclock d;
    p.wander_ppm_per_sqrt_s = 0;
    simclock_init(&d, &p, &now, 0, 77);
    assert_true(fabs(simclock_osc_freq_ppm(&a) - (-3 + 2 * sin(2 * M_PI * 2000 / 3000))) > 1e-4);
}

static void test_wander_spread(void **state)
{
    (void)state;
    /* Random walk: after T s the frequency has sd w * sqrt(T). */
    const int n = 400;
    const double w = 0.01, T = 100;
    double sum2 = 0;
    for (int i = 0; i < n; i++) {
        int64_t now = 0;
        struct simclock c;
        struct simclock_params p;
        simclock_params_default(&p);
        p.wander_ppm_per_sqrt_s = w;
        simclock_init(&c, &p, &now, 0, (uint64_t)i + 1000);
        now = (int64_t)T * S;
        double f = simclock_osc_freq_ppm(&c);
        sum2 += f * f;
    }
    double sd = sqrt(sum2 / n);
    assert_true(sd > 0.85 * w * sqrt(T));
    assert_true(sd < 1.15 * w * sqrt(T));
}

static void test_leap_insert(void **state)
{
    (void)state;
    int64_t epoch = ntp_time_ns_from_civil(2026, 12, 31, 23, 59, 0);
    int64_t now = 0;
    struct simclock armed, unarmed;
    struct simclock_params p;
    simclock_params_default(&p);
    simclock_init(&armed, &p, &now, epoch, 1);
    simclock_init(&unarmed, &p, &now, epoch, 1);
    simclock_set_true_leap(&armed, 1);
    simclock_set_true_leap(&unarmed, 1);
    struct clock_ops ops = simclock_ops(&armed);
    assert_int_equal(ops.set_leap(ops.ctx, CLOCK_LEAP_INSERT), 0);
    now = 59 * S + 500000000;
    assert_int_equal(simclock_true_real_ns(&armed, now), epoch + now);
    assert_near(simclock_error_s(&armed), 0, 1e-12);
    now = 60 * S + 500000000; /* 23:59:60.5: POSIX time repeats 23:59:59 */
    assert_int_equal(simclock_true_real_ns(&armed, now), epoch + now - S);
    assert_int_equal(ops.read_real_ns(ops.ctx), epoch + now - S);
    assert_near(simclock_error_s(&armed), 0, 1e-12);
    assert_near(simclock_error_s(&unarmed), 1.0, 1e-12);
    assert_int_equal(armed.leaps_applied, 1);
    assert_int_equal(armed.armed, CLOCK_LEAP_NONE);
    now = 3600 * S;
    assert_near(simclock_error_s(&armed), 0, 1e-12);
}

static void test_leap_delete(void **state)
{
    (void)state;
    int64_t epoch = ntp_time_ns_from_civil(2026, 6, 30, 23, 59, 0);
    int64_t now = 0;
    struct simclock c;
    struct simclock_params p;
    simclock_params_default(&p);
    simclock_init(&c, &p, &now, epoch, 1);
    simclock_set_true_leap(&c, -1);
    struct clock_ops ops = simclock_ops(&c);
    ops.set_leap(ops.ctx, CLOCK_LEAP_DELETE);
    now = 58 * S + 900000000;
    assert_near(simclock_error_s(&c), 0, 1e-12);
    now = 59 * S + 100000000; /* 23:59:59 is skipped: already 00:00:00.1 */
    assert_int_equal(ops.read_real_ns(ops.ctx),
                     ntp_time_ns_from_civil(2026, 7, 1, 0, 0, 0) + 100000000);
    assert_near(simclock_error_s(&c), 0, 1e-12);
}

/* mono = raw: mono follows the oscillator only, not the adjustment (CLOCK_MONOTONIC_RAW, or
 * tempusd -x's virtual clock over an untouched system clock). */
static void test_mono_raw(void **state)
{
    (void)state;
    int64_t now = 0;
    struct simclock c;
    struct simclock_params p;
    simclock_params_default(&p);
    p.freq_ppm = 10;
    p.mono_raw = 1;
    simclock_init(&c, &p, &now, 0, 1);
    struct clock_ops ops = simclock_ops(&c);
    int64_t m0 = simclock_mono_ns(&c);
    assert_int_equal(ops.set_freq_ppm(ops.ctx, 990), 0);
    now = 10 * S;
    assert_near(simclock_error_s(&c), 1000e-6 * 10, 1e-12);       /* real gains 1000 ppm */
    assert_int_equal(simclock_mono_ns(&c) - m0, 10 * S + 100000); /* mono only 10 ppm */
    /* The conversion back uses the oscillator's rate too. */
    int64_t target = simclock_mono_ns(&c) + 100 * S;
    now = simclock_true_at_mono(&c, target);
    assert_true(llabs(simclock_mono_ns(&c) - target) <= 2);
}

static void test_true_at_mono(void **state)
{
    (void)state;
    int64_t now = 0;
    struct simclock c;
    struct simclock_params p;
    simclock_params_default(&p);
    p.freq_ppm = 50000; /* 5 %: mono runs fast, so the target comes early in true time */
    simclock_init(&c, &p, &now, 0, 1);
    int64_t target = simclock_mono_ns(&c) + 1000 * S;
    int64_t t = simclock_true_at_mono(&c, target);
    assert_true(t < 1000 * S);
    now = t;
    int64_t m = simclock_mono_ns(&c);
    assert_true(m >= target);
    assert_true(m - target <= 2);
    assert_int_equal(simclock_true_at_mono(&c, target - S), now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_freq_and_adjust),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_step_moves_real_not_mono),
        cmocka_unit_test(test_sine_integral),
        cmocka_unit_test(test_read_pattern_independent),
        cmocka_unit_test(test_wander_spread),
        cmocka_unit_test(test_leap_insert),
        cmocka_unit_test(test_leap_delete),
        cmocka_unit_test(test_true_at_mono),
        cmocka_unit_test(test_mono_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
