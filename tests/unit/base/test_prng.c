/* base/prng: xoshiro256** seeded by splitmix64: exact sequence, ranges, distributions. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/prng.h"

static void test_reference_sequence(void **state)
{
    /* Values from an independent implementation of the published algorithms. */
    static const uint64_t seed0[3] = {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL,
                                      0x1a5f849d4933e6e0ULL};
    static const uint64_t seed12345[3] = {0xbe6a36374160d49bULL, 0x214aaa0637a688c6ULL,
                                          0xf69d16de9954d388ULL};
    struct prng p;
    (void)state;
    prng_seed(&p, 0);
    for (int i = 0; i < 3; i++)
        assert_true(prng_next_u64(&p) == seed0[i]);
    prng_seed(&p, 12345);
    for (int i = 0; i < 3; i++)
        assert_true(prng_next_u64(&p) == seed12345[i]);
    prng_seed(&p, 12345);
    assert_int_equal(prng_next_u32(&p), (uint32_t)(seed12345[0] >> 32));
}

static void test_deterministic_and_distinct(void **state)
{
    struct prng a, b, c, child1, child2;
    int same = 0;
    (void)state;
    prng_seed(&a, 42);
    prng_seed(&b, 42);
    prng_seed(&c, 43);
    for (int i = 0; i < 1000; i++) {
        uint64_t va = prng_next_u64(&a);
        assert_true(va == prng_next_u64(&b));
        same += va == prng_next_u64(&c);
    }
    assert_int_equal(same, 0);
    prng_seed(&a, 42);
    prng_split(&a, &child1);
    prng_split(&a, &child2);
    assert_true(prng_next_u64(&child1) != prng_next_u64(&child2));
}

static void test_below_and_uniform(void **state)
{
    struct prng p;
    unsigned counts[10] = {0};
    double sum = 0;
    const int n = 200000;
    (void)state;
    prng_seed(&p, 1);
    assert_int_equal(prng_below(&p, 0), 0);
    assert_int_equal(prng_below(&p, 1), 0);
    for (int i = 0; i < n; i++) {
        uint64_t v = prng_below(&p, 10);
        assert_true(v < 10);
        counts[v]++;
    }
    for (int i = 0; i < 10; i++) /* expected 20000, sd ~134 */
        assert_true(counts[i] > 19000 && counts[i] < 21000);
    for (int i = 0; i < n; i++) {
        double u = prng_uniform(&p);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
    }
    assert_true(fabs(sum / n - 0.5) < 0.005);
    for (int i = 0; i < 1000; i++) {
        double u = prng_uniform_range(&p, -3.0, 5.0);
        assert_true(u >= -3.0 && u < 5.0);
    }
}

static void test_normal_and_exponential(void **state)
{
    struct prng p;
    double sum = 0, sum2 = 0, esum = 0;
    const int n = 200000;
    int within1 = 0;
    (void)state;
    prng_seed(&p, 99);
    for (int i = 0; i < n; i++) {
        double x = prng_normal(&p);
        assert_true(isfinite(x));
        sum += x;
        sum2 += x * x;
        within1 += fabs(x) < 1.0;
    }
    assert_true(fabs(sum / n) < 0.01);
    assert_true(fabs(sqrt(sum2 / n) - 1.0) < 0.01);
    assert_true(fabs((double)within1 / n - 0.6827) < 0.005);
    for (int i = 0; i < n; i++) {
        double x = prng_exponential(&p, 2.0);
        assert_true(x >= 0.0 && isfinite(x));
        esum += x;
    }
    assert_true(fabs(esum / n - 2.0) < 0.03);
    assert_true(prng_exponential(&p, 0.0) == 0.0);
    sum = 0;
    for (int i = 0; i < n; i++)
        sum += prng_gaussian(&p, 10.0, 0.5);
    assert_true(fabs(sum / n - 10.0) < 0.01);
}

static void test_fill(void **state)
{
    struct prng a, b;
    uint8_t buf[21];
    uint64_t v0, v1, v2;
    (void)state;
    prng_seed(&a, 5);
    prng_seed(&b, 5);
    memset(buf, 0xAA, sizeof buf);
    prng_fill(&a, buf, 19);
    v0 = prng_next_u64(&b);
    v1 = prng_next_u64(&b);
    v2 = prng_next_u64(&b);
    /* Little-endian bytes of consecutive outputs, whatever the host. */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(buf[i], (uint8_t)(v0 >> (8 * i)));
        assert_int_equal(buf[8 + i], (uint8_t)(v1 >> (8 * i)));
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(buf[16 + i], (uint8_t)(v2 >> (8 * i)));
    assert_int_equal(buf[19], 0xAA);
    assert_int_equal(buf[20], 0xAA);
    /* The generators are in step again. */
    assert_true(prng_next_u64(&a) == prng_next_u64(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_sequence),
        cmocka_unit_test(test_deterministic_and_distinct),
        cmocka_unit_test(test_below_and_uniform),
        cmocka_unit_test(test_normal_and_exponential),
        cmocka_unit_test(test_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
