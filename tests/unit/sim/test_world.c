/* Unit tests of sim/world.c: events run in true-time order, ties in scheduling order, the
 * clock reads the event's time, payloads arrive intact, and the past cannot be scheduled. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/prng.h"
#include "sim/world.h"

struct log {
    struct simworld *w;
    int n;
    int a[4096];
    int64_t t[4096];
};

static void record(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    struct log *l = ctx;
    assert_true(l->n < 4096);
    l->a[l->n] = a;
    l->t[l->n] = simworld_now_ns(l->w);
    l->n++;
    (void)b;
    (void)data;
    (void)len;
}

static void test_order_and_ties(void **state)
{
    (void)state;
    struct log l = {0};
    l.w = simworld_new();
    assert_non_null(l.w);
    struct simworld_cb cb = {record, &l};
    assert_int_equal(simworld_schedule(l.w, 300, cb, 3, 0, NULL, 0), 0);
    assert_int_equal(simworld_schedule(l.w, 100, cb, 1, 0, NULL, 0), 0);
    assert_int_equal(simworld_schedule(l.w, 200, cb, 20, 0, NULL, 0), 0);
    assert_int_equal(simworld_schedule(l.w, 200, cb, 21, 0, NULL, 0), 0);
    assert_int_equal(simworld_schedule(l.w, 200, cb, 22, 0, NULL, 0), 0);
    assert_int_equal(simworld_next_ns(l.w), 100);
    assert_int_equal(simworld_run_until(l.w, 250), 4);
    assert_int_equal(simworld_now_ns(l.w), 250);
    int want[] = {1, 20, 21, 22};
    int64_t want_t[] = {100, 200, 200, 200};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(l.a[i], want[i]);
        assert_int_equal(l.t[i], want_t[i]);
    }
    assert_int_equal(simworld_pending(l.w), 1);
    /* The past is clamped to now. */
    assert_int_equal(simworld_schedule(l.w, 10, cb, 9, 0, NULL, 0), 0);
    assert_int_equal(simworld_next_ns(l.w), 250);
    assert_int_equal(simworld_run_one(l.w), 1);
    assert_int_equal(l.a[4], 9);
    assert_int_equal(l.t[4], 250);
    assert_int_equal(simworld_run_one(l.w), 1);
    assert_int_equal(l.a[5], 3);
    assert_int_equal(simworld_run_one(l.w), 0);
    assert_int_equal(simworld_next_ns(l.w), INT64_MAX);
    simworld_free(l.w);
}

static void test_random_order_sorted(void **state)
{
    (void)state;
    struct log l = {0};
    l.w = simworld_new();
    struct simworld_cb cb = {record, &l};
    struct prng p;
    prng_seed(&p, 42);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(simworld_schedule(l.w, (int64_t)prng_below(&p, 1000), cb, i, 0, NULL, 0),
                         0);
    assert_int_equal(simworld_run_until(l.w, INT64_MAX - 1), 3000);
    for (int i = 1; i < 3000; i++) {
        assert_true(l.t[i - 1] <= l.t[i]);
        if (l.t[i - 1] == l.t[i])
            assert_true(l.a[i - 1] < l.a[i]); /* same time: scheduling order */
    }
    simworld_free(l.w);
}

struct chain {
    struct simworld *w;
    int count;
    uint8_t last[8];
};

/* Schedules the next event from within a callback, with a payload, so the pool grows while
 * an event is being run. */
static void chain_cb(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    struct chain *c = ctx;
    assert_int_equal(len, 8);
    assert_int_equal(data[0], (uint8_t)a);
    memcpy(c->last, data, 8);
    c->count++;
    (void)b;
    if (a < 200) {
        uint8_t buf[8];
        memset(buf, a + 1, sizeof(buf));
        struct simworld_cb cb = {chain_cb, c};
        for (int k = 0; k < 3; k++) /* extra events force the pool to grow */
            assert_int_equal(
                simworld_schedule(c->w, simworld_now_ns(c->w) + 1 + k, cb, a + 1, 0, buf, 8), 0);
    }
}

static void test_payload_and_reentry(void **state)
{
    (void)state;
    struct chain c = {0};
    c.w = simworld_new();
    uint8_t buf[8];
    memset(buf, 0, sizeof(buf));
    struct simworld_cb cb = {chain_cb, &c};
    assert_int_equal(simworld_schedule(c.w, 0, cb, 0, 0, buf, 8), 0);
    /* Each event schedules three: stop after a bounded number. */
    for (int i = 0; i < 5000 && simworld_run_one(c.w); i++)
        ;
    assert_true(c.count >= 5000 || simworld_pending(c.w) == 0);
    assert_true(c.count > 200);
    assert_int_equal(simworld_schedule(c.w, 0, cb, 0, 0, buf, SIMWORLD_DATA_MAX + 1), -EINVAL);
    simworld_free(c.w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_ties),
        cmocka_unit_test(test_random_order_sorted),
        cmocka_unit_test(test_payload_and_reentry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
