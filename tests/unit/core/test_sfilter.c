/* core/sfilter (the `filter N` option) on its own, then inside the engine: one sample per N
 * polls, unanswered polls counted, the smallest peer distance chosen. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/engine.h"
#include "core/sfilter.h"
#include "engine_world.h"

static struct srcstats_sample smp(double t, double y, double delay, int stratum)
{
    struct srcstats_sample s;
    memset(&s, 0, sizeof(s));
    s.t_s = t;
    s.y_s = y;
    s.meas_s = y + 1.0;
    s.delay_s = delay;
    s.disp_s = 1e-6;
    s.stratum = stratum;
    return s;
}

static void test_off_passes_through(void **state)
{
    (void)state;
    struct sfilter f;
    sfilter_init(&f, 0);
    struct srcstats_sample in = smp(1.0, 2e-3, 1e-4, 2), out;
    assert_int_equal(sfilter_add(&f, &in, &out), 1);
    assert_true(out.t_s == 1.0 && out.y_s == 2e-3 && out.delay_s == 1e-4);
    sfilter_init(&f, -3);
    assert_int_equal(f.length, 0);
    assert_int_equal(sfilter_add(&f, &in, &out), 1);
}

static void test_smallest_distance_of_n_polls(void **state)
{
    (void)state;
    struct sfilter f;
    sfilter_init(&f, 4);
    const double delays[4] = {300e-6, 120e-6, 250e-6, 180e-6};
    struct srcstats_sample out;
    for (int i = 0; i < 4; i++) {
        sfilter_poll(&f);
        struct srcstats_sample in = smp(i, 1e-3 * (i + 1), delays[i], i == 3 ? 3 : 2);
        in.leap = i == 3 ? 1 : 0;
        int r = sfilter_add(&f, &in, &out);
        assert_int_equal(r, i == 3);
    }
    /* the second sample (120 us), at its own time and offset */
    assert_true(out.t_s == 1.0);
    assert_true(out.y_s == 2e-3);
    assert_true(out.meas_s == 2e-3 + 1.0);
    assert_true(out.delay_s == 120e-6);
    /* the newest reply's stratum and leap */
    assert_int_equal(out.stratum, 3);
    assert_int_equal(out.leap, 1);
    /* empty again: the next output needs four more polls */
    assert_int_equal(f.polls, 0);
    assert_int_equal(f.n, 0);
    sfilter_poll(&f);
    struct srcstats_sample in = smp(5.0, 0.0, 500e-6, 2);
    assert_int_equal(sfilter_add(&f, &in, &out), 0);
}

static void test_unanswered_polls_count(void **state)
{
    (void)state;
    struct sfilter f;
    sfilter_init(&f, 4);
    struct srcstats_sample out, a = smp(0.0, 1e-3, 200e-6, 2), b = smp(3.0, 2e-3, 210e-6, 2);
    sfilter_poll(&f);
    assert_int_equal(sfilter_add(&f, &a, &out), 0);
    sfilter_poll(&f); /* lost */
    sfilter_poll(&f); /* lost */
    sfilter_poll(&f);
    assert_int_equal(sfilter_add(&f, &b, &out), 1);
    assert_true(out.t_s == 0.0); /* the smaller distance, though older */
    /* Many polls without a reply: the count stops at N and the next reply goes out at once,
     * alone. */
    for (int i = 0; i < 10; i++)
        sfilter_poll(&f);
    assert_int_equal(f.polls, 4);
    assert_int_equal(sfilter_add(&f, &b, &out), 1);
    assert_true(out.t_s == 3.0);
}

static void test_tie_newer_clear_shift(void **state)
{
    (void)state;
    struct sfilter f;
    sfilter_init(&f, 2);
    struct srcstats_sample out, a = smp(0.0, 1e-3, 200e-6, 2), b = smp(1.0, 3e-3, 200e-6, 2);
    sfilter_poll(&f);
    assert_int_equal(sfilter_add(&f, &a, &out), 0);
    sfilter_poll(&f);
    assert_int_equal(sfilter_add(&f, &b, &out), 1);
    assert_true(out.t_s == 1.0); /* equal distances: the fresher sample */

    sfilter_poll(&f);
    assert_int_equal(sfilter_add(&f, &a, &out), 0);
    sfilter_shift(&f, 0.5e-3); /* `offset` raised by 0.5 ms: offsets fall by it */
    assert_true(fabs(f.best.y_s - 0.5e-3) < 1e-15);
    assert_true(fabs(f.best.meas_s - (1.0 + 0.5e-3)) < 1e-12);
    sfilter_clear(&f); /* a step: the held sample was measured on the old clock */
    sfilter_poll(&f);
    assert_int_equal(sfilter_add(&f, &b, &out), 0);
    sfilter_poll(&f);
    assert_int_equal(sfilter_add(&f, &b, &out), 1);
}

/* Samples in the engine's register, through the report. */
static uint32_t samples(struct world *w)
{
    struct report_source rs;
    assert_int_equal(engine_source_report(w->e, 0, w->t_ns, &rs), 0);
    return rs.n_samples;
}

/* Runs until the server has answered `polls` requests (or dropped them) and the last reply
 * has arrived. */
static void run_polls(struct world *w, const struct engine_io *io, int polls)
{
    while (w->sent[0] < polls || w->nq > 0)
        world_run(w, io, w->t_ns + 50000000LL, 0);
}

static void test_engine_one_sample_per_n_polls(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 1, 5);
    w.f0_ppm = 10.0;
    struct clock_ops ops = world_clock_ops(&w);
    struct engine_io io = {.ctx = &w, .send = world_send};
    struct engine_params p;
    engine_params_default(&p);
    w.e = engine_new(&p, &ops, 1, 0);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.minpoll_log2 = 0;
    sp.maxpoll_log2 = 0;
    sp.filter = 4;
    assert_int_equal(world_add_src(&w, &sp, 1), 0);

    run_polls(&w, &io, 3);
    assert_int_equal(samples(&w), 0);
    struct report_source rs;
    assert_int_equal(engine_source_report(w.e, 0, w.t_ns, &rs), 0);
    assert_int_equal(rs.reach, 07); /* every reply still counts in reach */
    run_polls(&w, &io, 4);
    assert_int_equal(samples(&w), 1);

    /* A lost reply counts as one of the four polls. */
    run_polls(&w, &io, 6);
    w.drop_all[0] = 1;
    run_polls(&w, &io, 7);
    w.drop_all[0] = 0;
    assert_int_equal(samples(&w), 1);
    run_polls(&w, &io, 8);
    assert_int_equal(samples(&w), 2);

    /* Over a few minutes: one sample per four polls, and the clock follows. */
    world_run(&w, &io, w.t_ns + 400 * 1000000000LL, 0);
    assert_int_equal(engine_source_report(w.e, 0, w.t_ns, &rs), 0);
    assert_true(rs.n_samples >= 6 && rs.n_samples <= (uint32_t)(w.sent[0] / 4) + 1);
    assert_int_equal(rs.state, REPORT_STATE_SELECTED);
    assert_true(fabs(w.x_s) < 100e-6);
    engine_free(w.e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_passes_through),
        cmocka_unit_test(test_smallest_distance_of_n_polls),
        cmocka_unit_test(test_unanswered_polls_count),
        cmocka_unit_test(test_tie_newer_clear_shift),
        cmocka_unit_test(test_engine_one_sample_per_n_polls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
