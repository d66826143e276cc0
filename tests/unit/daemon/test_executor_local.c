/* daemon/executor: the `local` rule (executor_local_rule): distance, orphan, activate,
 * waitsynced and waitunsynced, as a pure function of the engine's state over time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/executor.h"

#define S 1000000000LL

static struct executor_params local_params(int stratum)
{
    struct executor_params p;
    memset(&p, 0, sizeof p);
    p.local_enabled = 1;
    p.local_stratum = stratum;
    p.local_distance_s = 1.0;
    return p;
}

/* synced to a stratum-1 source at distance d (0: unsynchronised), at time t seconds */
static int step(const struct executor_params *p, struct executor_local_state *st, double d,
                int64_t t)
{
    struct executor_local_in in = {
        .synced = d > 0.0,
        .root_distance_s = d,
        .source_stratum = 1,
        .source_refid = 0x0a000001u,
        .own_refid = 0x0a000002u,
        .now_mono_ns = t * S,
    };
    return executor_local_rule(p, st, &in);
}

static void test_distance_and_disabled(void **state)
{
    (void)state;
    struct executor_params p = local_params(10);
    struct executor_local_state st = {0};
    assert_int_equal(step(&p, &st, 0.0, 0), 1);  /* unsynchronised: local */
    assert_int_equal(step(&p, &st, 0.5, 1), 0);  /* good upstream */
    assert_int_equal(step(&p, &st, 1.0, 2), 0);  /* at the distance: still upstream */
    assert_int_equal(step(&p, &st, 1.01, 3), 1); /* beyond it: local */
    p.local_enabled = 0;
    assert_int_equal(step(&p, &st, 0.0, 4), 0);
    /* the old two-argument rule agrees */
    assert_int_equal(executor_local_in_use(0, 0.0, 1, 1.0), 1);
    assert_int_equal(executor_local_in_use(1, 0.5, 1, 1.0), 0);
    assert_int_equal(executor_local_in_use(1, 1.5, 1, 1.0), 1);
    assert_int_equal(executor_local_in_use(0, 0.0, 0, 1.0), 0);
}

static void test_activate(void **state)
{
    (void)state;
    struct executor_params p = local_params(10);
    p.local_activate_s = 0.1;
    struct executor_local_state st = {0};
    assert_int_equal(step(&p, &st, 0.0, 0), 0);  /* never synchronised: no local */
    assert_int_equal(step(&p, &st, 0.5, 1), 0);  /* synced, but 0.5 s is not below 0.1 s */
    assert_int_equal(step(&p, &st, 0.0, 2), 0);  /* lost: still never activated */
    assert_int_equal(step(&p, &st, 0.05, 3), 0); /* below activate: armed, upstream in use */
    assert_int_equal(step(&p, &st, 0.0, 4), 1);  /* lost: local from now on */
    assert_int_equal(step(&p, &st, 2.0, 5), 1);  /* too far: local */
}

static void test_waitsynced_waitunsynced(void **state)
{
    (void)state;
    struct executor_params p = local_params(10);
    p.local_waitunsynced_s = 100;
    p.local_waitsynced_s = 30;
    struct executor_local_state st = {.start_mono_ns = 1000 * S};
    assert_int_equal(step(&p, &st, 0.0, 1000), 0);
    assert_int_equal(step(&p, &st, 0.0, 1099), 0);
    assert_int_equal(step(&p, &st, 0.0, 1100), 1); /* 100 s after start, never synced */
    assert_int_equal(step(&p, &st, 0.2, 1200), 0); /* synced */
    assert_int_equal(step(&p, &st, 0.0, 1210), 0); /* lost 10 s ago (waitsynced 30) */
    assert_int_equal(step(&p, &st, 5.0, 1229), 0); /* far away counts as lost too */
    assert_int_equal(step(&p, &st, 0.0, 1230), 1); /* 30 s after the last good update */
    assert_int_equal(step(&p, &st, 0.3, 1231), 0);
}

/* Orphan mode: a source at the local stratum is followed only when its refid is below ours;
 * a source above the local stratum never. */
static void test_orphan(void **state)
{
    (void)state;
    struct executor_params p = local_params(5);
    p.local_orphan = 1;
    struct executor_local_state st = {0};
    struct executor_local_in in = {
        .synced = 1,
        .root_distance_s = 0.001,
        .source_stratum = 5,
        .source_refid = 0xc0a80001u, /* 192.168.0.1 */
        .own_refid = 0xc0a80002u,    /* 192.168.0.2 */
        .now_mono_ns = S,
    };
    assert_int_equal(executor_local_rule(&p, &st, &in), 0); /* lower refid: follow it */
    assert_int_equal(st.upstream_usable, 1);
    in.source_refid = 0xc0a80003u;
    assert_int_equal(executor_local_rule(&p, &st, &in), 1); /* higher: we are the orphan */
    assert_int_equal(st.upstream_usable, 0);
    in.source_refid = in.own_refid;
    assert_int_equal(executor_local_rule(&p, &st, &in), 1); /* equal: not lower */
    in.source_refid = 0xc0a80001u;
    in.own_refid = 0; /* our address unknown: no deferring */
    assert_int_equal(executor_local_rule(&p, &st, &in), 1);
    in.own_refid = 0xc0a80002u;
    in.source_stratum = 6; /* a client of the orphan server */
    assert_int_equal(executor_local_rule(&p, &st, &in), 1);
    in.source_stratum = 4; /* a real upstream */
    assert_int_equal(executor_local_rule(&p, &st, &in), 0);
    /* without orphan, the stratum of the source does not matter */
    p.local_orphan = 0;
    in.source_stratum = 6;
    in.source_refid = 0xc0a80003u;
    assert_int_equal(executor_local_rule(&p, &st, &in), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance_and_disabled),
        cmocka_unit_test(test_activate),
        cmocka_unit_test(test_waitsynced_waitunsynced),
        cmocka_unit_test(test_orphan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
