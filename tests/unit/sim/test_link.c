/* Unit tests of sim/link.c: delays are base + jitter with the stated mean per distribution,
 * the same seed gives the same delays, loss happens at the stated rate, outages drop all. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sim/link.h"

/* cmocka 1.1.5 has no double comparison: this one prints both values when it fails. */
#define assert_near(a, b, eps) assert_near_at((a), (b), (eps), __FILE__, __LINE__)
static void assert_near_at(double a, double b, double eps, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.15g != %.15g (+-%g)\n", a, b, eps);
        _fail(file, line);
    }
}

static void mean_of(enum simlink_dist d, double *mean_s, double *min_s)
{
    struct prng root;
    prng_seed(&root, 5);
    struct simlink l;
    struct simlink_params p = {.delay_s = 1e-3, .dist = d, .jitter_s = 100e-6, .loss = 0};
    simlink_init(&l, &p, &root);
    double sum = 0, mn = 1;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        int64_t ns = simlink_transit_ns(&l);
        assert_true(ns >= 0);
        sum += (double)ns * 1e-9;
        if ((double)ns * 1e-9 < mn)
            mn = (double)ns * 1e-9;
    }
    *mean_s = sum / n;
    *min_s = mn;
}

static void test_distributions(void **state)
{
    (void)state;
    double m, mn;
    mean_of(SIMLINK_DIST_NONE, &m, &mn);
    assert_near(m, 1e-3, 1e-12);
    mean_of(SIMLINK_DIST_EXP, &m, &mn);
    assert_near(m, 1.1e-3, 3e-6);
    assert_true(mn >= 1e-3);
    mean_of(SIMLINK_DIST_UNIFORM, &m, &mn);
    assert_near(m, 1.1e-3, 3e-6);
    assert_true(mn >= 1e-3);
    mean_of(SIMLINK_DIST_NORMAL, &m, &mn);
    /* half-normal mean = sd * sqrt(2/pi) */
    assert_near(m, 1e-3 + 100e-6 * sqrt(2 / M_PI), 3e-6);
    assert_true(mn >= 1e-3);
}

static void test_seeded_and_loss(void **state)
{
    (void)state;
    struct prng r1, r2, r3;
    prng_seed(&r1, 9);
    prng_seed(&r2, 9);
    prng_seed(&r3, 10);
    struct simlink a, b, c;
    struct simlink_params p = {
        .delay_s = 0, .dist = SIMLINK_DIST_EXP, .jitter_s = 1e-3, .loss = 0.2};
    simlink_init(&a, &p, &r1);
    simlink_init(&b, &p, &r2);
    simlink_init(&c, &p, &r3);
    int same = 1, differ = 0, lost = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t x = simlink_transit_ns(&a), y = simlink_transit_ns(&b), z = simlink_transit_ns(&c);
        same &= x == y;
        differ |= x != z;
        lost += x < 0;
    }
    assert_true(same);
    assert_true(differ);
    assert_true(lost > 1800 && lost < 2200);
    assert_int_equal(a.lost, (uint64_t)lost);
    assert_int_equal(a.sent, 10000);
    a.down = 1;
    for (int i = 0; i < 100; i++)
        assert_int_equal(simlink_transit_ns(&a), -1);
    assert_int_equal(simlink_dist_parse("exp"), SIMLINK_DIST_EXP);
    assert_int_equal(simlink_dist_parse("bogus"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distributions),
        cmocka_unit_test(test_seeded_and_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
