/* core/select: falseticker rejection, no-majority, prefer/noselect/require/trust/minsources,
 * hysteresis and combining. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/select.h"

static struct select_params params(void)
{
    struct select_params p = {
        .minsources = 1,
        .reselectdist_s = 100e-6,
        .stratumweight_s = 1e-3,
        .combinelimit = 3.0,
        .clock_error = 1e-6,
        .sys_frac = 0.0,
    };
    return p;
}

static void cand(struct select_cand *c, double off, double dist, double sd)
{
    *c = (struct select_cand){
        .state = SELECT_CANDIDATE,
        .offset_s = off,
        .var_s2 = sd * sd,
        .distance_s = dist,
        .freq = 1e-6,
        .skew = 0.01e-6,
        .stratum = 2,
    };
}

static void test_falseticker_among_four(void **state)
{
    (void)state;
    struct select_cand c[4];
    struct select_result r;
    struct select_params p = params();
    cand(&c[0], 0.001, 0.010, 1e-4);
    cand(&c[1], -0.002, 0.012, 1e-4);
    cand(&c[2], 1.0, 0.011, 1e-4); /* 1 s off */
    cand(&c[3], 0.0005, 0.015, 1e-4);
    select_run(c, 4, &p, -1, &r);
    assert_int_equal(c[2].state, SELECT_FALSETICKER);
    assert_int_equal(r.best, 0); /* smallest distance */
    assert_int_equal(r.n_survivors, 3);
    assert_true(fabs(r.offset_s) < 0.003);
    assert_int_equal(r.n_combined, 3);
    assert_true(c[2].weight == 0.0);
}

static void test_no_majority(void **state)
{
    (void)state;
    struct select_cand c[2];
    struct select_result r;
    struct select_params p = params();
    cand(&c[0], 0.0, 0.01, 1e-4);
    cand(&c[1], 1.0, 0.01, 1e-4);
    select_run(c, 2, &p, -1, &r);
    assert_int_equal(r.best, -1);
    assert_int_equal(c[0].state, SELECT_FALSETICKER);
    assert_int_equal(c[1].state, SELECT_FALSETICKER);
    assert_string_not_equal(r.why, "");
}

static void test_prefer_and_noselect(void **state)
{
    (void)state;
    struct select_cand c[3];
    struct select_result r;
    struct select_params p = params();
    cand(&c[0], 0.0, 0.001, 1e-5);
    cand(&c[1], 0.0, 0.005, 1e-5);
    cand(&c[2], 0.0, 0.0001, 1e-5);
    c[1].prefer = 1;
    c[2].state = SELECT_NOSELECT; /* the caller marks noselect sources */
    select_run(c, 3, &p, -1, &r);
    assert_int_equal(r.best, 1);
    assert_int_equal(c[0].state, SELECT_NOT_PREFERRED);
    assert_int_equal(c[2].state, SELECT_NOSELECT);
    assert_int_equal(c[1].state, SELECT_BEST);
}

static void test_require_and_minsources(void **state)
{
    (void)state;
    struct select_cand c[3];
    struct select_result r;
    struct select_params p = params();
    cand(&c[0], 0.0, 0.001, 1e-5);
    cand(&c[1], 0.0, 0.002, 1e-5);
    cand(&c[2], 0.0, 0.003, 1e-5);
    c[2].require = 1;
    c[2].state = SELECT_STALE; /* the required source is not selectable */
    select_run(c, 3, &p, -1, &r);
    assert_int_equal(r.best, -1);
    assert_int_equal(c[0].state, SELECT_WAITS_REQUIRE);

    cand(&c[0], 0.0, 0.001, 1e-5);
    cand(&c[1], 0.0, 0.002, 1e-5);
    cand(&c[2], 0.0, 0.003, 1e-5);
    c[2].require = 1;
    select_run(c, 3, &p, -1, &r);
    assert_int_equal(r.best, 0);

    p.minsources = 4;
    cand(&c[0], 0.0, 0.001, 1e-5);
    cand(&c[1], 0.0, 0.002, 1e-5);
    cand(&c[2], 0.0, 0.003, 1e-5);
    select_run(c, 3, &p, -1, &r);
    assert_int_equal(r.best, -1);
    assert_int_equal(c[1].state, SELECT_WAITS);
}

static void test_trust(void **state)
{
    (void)state;
    /* Two untrusted sources agree with each other but not with the trusted one: the trusted
     * one wins and the others are not trusted. */
    struct select_cand c[3];
    struct select_result r;
    struct select_params p = params();
    cand(&c[0], 0.5, 0.01, 1e-4);
    cand(&c[1], 0.5, 0.01, 1e-4);
    cand(&c[2], 0.0, 0.01, 1e-4);
    c[2].trust = 1;
    select_run(c, 3, &p, -1, &r);
    assert_int_equal(r.best, 2);
    assert_int_equal(c[0].state, SELECT_UNTRUSTED);
    assert_int_equal(c[1].state, SELECT_UNTRUSTED);
}

/* chronyd's "fully agree": a source without trust must lie inside the trusted interval; one
 * that only overlaps it is T. After a T, it is not combined (D) for the penalty's runs. */
static void test_trust_inside_and_penalty(void **state)
{
    (void)state;
    struct select_cand c[3];
    struct select_result r;
    struct select_params p = params();
    /* distances within reselectdist: the trusted current best stays best */
    cand(&c[0], 0.0, 0.010, 1e-5); /* [-10, +10] ms */
    c[0].trust = 1;
    cand(&c[1], 0.0005, 0.00996, 1e-5);  /* [-9.46, +10.46] ms: overlaps only */
    cand(&c[2], 0.00001, 0.00995, 1e-5); /* [-9.94, +9.96] ms: inside */
    select_run(c, 3, &p, 0, &r);
    assert_int_equal(r.best, 0);
    assert_int_equal(c[1].state, SELECT_UNTRUSTED);
    assert_int_equal(c[2].state, SELECT_COMBINED);
    assert_int_equal(r.n_combined, 2);

    /* c[1] moves inside, with the penalty the caller set for its T: D for 31 runs */
    int pen = SELECT_UNTRUSTED_PENALTY;
    for (int k = 1; k <= SELECT_UNTRUSTED_PENALTY; k++) {
        cand(&c[0], 0.0, 0.010, 1e-5);
        c[0].trust = 1;
        cand(&c[1], 0.00001, 0.00996, 1e-5);
        c[1].untrusted_penalty = pen;
        cand(&c[2], 0.00001, 0.00995, 1e-5);
        select_run(c, 3, &p, 0, &r);
        assert_int_equal(r.best, 0);
        pen = c[1].untrusted_penalty;
        assert_int_equal(pen, SELECT_UNTRUSTED_PENALTY - k);
        assert_int_equal(c[1].state,
                         k < SELECT_UNTRUSTED_PENALTY ? SELECT_DISTANT : SELECT_COMBINED);
        assert_int_equal(c[2].state, SELECT_COMBINED);
    }
    /* the penalty does not keep out the selected source; a trusted source only has to
     * overlap the trusted interval */
    cand(&c[0], 0.0, 0.010, 1e-5);
    c[0].trust = 1;
    cand(&c[1], 0.0, 0.001, 1e-6);
    c[1].untrusted_penalty = 5;
    cand(&c[2], 0.005, 0.010, 1e-5); /* trusted interval [-5, +10] ms */
    c[2].trust = 1;
    select_run(c, 3, &p, -1, &r);
    assert_int_equal(r.best, 1);
    assert_int_equal(c[1].state, SELECT_BEST);
    assert_int_equal(c[1].untrusted_penalty, 5);
    assert_int_not_equal(c[2].state, SELECT_FALSETICKER);
}

static void test_hysteresis_and_combine_weights(void **state)
{
    (void)state;
    struct select_cand c[2];
    struct select_result r;
    struct select_params p = params();
    cand(&c[0], 0.0001, 0.0100, 1e-5);
    cand(&c[1], 0.0003, 0.0101, 1e-5 / 3.0);
    /* current best 1 is only 100 us worse than 0: it stays */
    select_run(c, 2, &p, 1, &r);
    assert_int_equal(r.best, 1);
    assert_int_equal(c[0].state, SELECT_COMBINED);
    /* inverse variance: source 1 has 9x the weight of source 0 */
    assert_true(fabs(c[1].weight / c[0].weight - 9.0) < 1e-6);
    assert_true(fabs(r.offset_s - (0.1 * 0.0001 + 0.9 * 0.0003)) < 1e-9);
    /* a source too far to combine is marked distant */
    cand(&c[0], 0.0001, 0.001, 1e-5);
    cand(&c[1], 0.0003, 0.05, 1e-5);
    select_run(c, 2, &p, -1, &r);
    assert_int_equal(r.best, 0);
    assert_int_equal(c[1].state, SELECT_DISTANT);
    assert_true(select_state_text(SELECT_DISTANT)[0] != '\0');
}

/* chronyd's reselection score (chronyc selectdata's Score, observed with chronyd 4.3 -x and
 * three local servers: 1.0 for the selected source, 4.5 and 5.0 for two better ones, all 1.0
 * after a reselection): a survivor's score is multiplied by the selected one's distance over
 * its own plus reselectdist at each run where either has a new sample, floored at 1; above
 * 10 it is selected and every score is 1 again. */
static void test_reselection_score(void **state)
{
    (void)state;
    struct select_cand c[3];
    struct select_result r;
    struct select_params p = params();
    double sc[3] = {0.0, 0.0, 0.0}; /* kept between runs, as the engine does */
    int best = 0;
    const double d_best = 1011e-6, d_good = 257e-6, d_close = 950e-6;
    const double ratio = d_best / (d_good + p.reselectdist_s); /* 2.83 */
    for (int run = 1; run <= 4; run++) {
        cand(&c[0], 0.0, d_best, 10e-6);
        cand(&c[1], 0.0, d_good, 10e-6);
        cand(&c[2], 0.0, d_close, 10e-6); /* better, but by less than reselectdist */
        for (int i = 0; i < 3; i++)
            c[i].score = sc[i];
        c[1].updated = run != 2; /* run 2: a sample of nobody involved, nothing moves */
        c[2].updated = 1;
        select_run(c, 3, &p, best, &r);
        for (int i = 0; i < 3; i++)
            sc[i] = c[i].score;
        best = r.best;
        if (run < 4) {
            int n_up = run == 1 ? 1 : run - 1;
            assert_int_equal(r.best, 0);
            assert_true(fabs(c[1].score - pow(ratio, n_up)) < 1e-9 * c[1].score);
            assert_true(c[0].score == 1.0); /* the selected source's own */
            assert_true(c[2].score == 1.0); /* 1011/(950+100) < 1: floored */
        } else {
            /* 2.83^3 = 22.7 > 10: reselected, all reset */
            assert_int_equal(r.best, 1);
            for (int i = 0; i < 3; i++)
                assert_true(c[i].score == 1.0);
        }
    }
    /* A score falls again when the better source gets worse. */
    cand(&c[0], 0.0, d_best, 10e-6);
    cand(&c[1], 0.0, d_good, 10e-6);
    c[1].updated = 1;
    c[1].score = 8.0;
    c[1].distance_s = 2 * d_best;
    select_run(c, 2, &p, 0, &r);
    assert_int_equal(r.best, 0);
    assert_true(fabs(c[1].score - 8.0 * d_best / (2 * d_best + p.reselectdist_s)) < 1e-9);
    /* The selected source no longer a survivor: the best by distance at once, scores reset. */
    cand(&c[0], 0.0, d_best, 10e-6);
    cand(&c[1], 0.0, d_close, 10e-6);
    cand(&c[2], 0.0, d_good, 10e-6);
    c[0].state = SELECT_NOSELECT;
    c[0].score = 3.0;
    c[1].score = 5.0;
    select_run(c, 3, &p, 0, &r);
    assert_int_equal(r.best, 2);
    for (int i = 0; i < 3; i++)
        assert_true(c[i].score == 1.0);
}

/* Two colluding liars (narrow intervals, 0.2 s off) and three honest sources, one of them
 * fresh with a wide interval that overlaps both groups (falseticker_2of5 64 s after the
 * iburst): the liars' region and the honest region each hold 3 of 5 intervals. The region
 * nearest to the current best's offset wins; with no current best, the lowest. */
static void tie_world(struct select_cand *c, double liars)
{
    cand(&c[0], liars, 0.003, 1e-4);
    cand(&c[1], liars - 0.001, 0.004, 1e-4);
    cand(&c[2], 0.000, 0.006, 1e-4);
    cand(&c[3], 0.001, 0.010, 1e-4);
    cand(&c[4], liars * 0.45, 0.150, 1e-3); /* covers both groups */
}

static void test_tie_goes_to_current(void **state)
{
    (void)state;
    struct select_cand c[5];
    struct select_result r;
    struct select_params p = params();
    /* liars below: with no current best the lowest region (theirs) wins, as before */
    tie_world(c, -0.2);
    select_run(c, 5, &p, -1, &r);
    assert_int_equal(c[2].state, SELECT_FALSETICKER);
    assert_int_equal(c[3].state, SELECT_FALSETICKER);
    assert_true(r.offset_s < -0.19);
    /* an honest source selected: its region keeps the majority */
    tie_world(c, -0.2);
    select_run(c, 5, &p, 3, &r);
    assert_int_equal(c[0].state, SELECT_FALSETICKER);
    assert_int_equal(c[1].state, SELECT_FALSETICKER);
    assert_true(r.best == 2 || r.best == 3);
    assert_true(fabs(r.offset_s) < 0.01);
    /* liars above: the lowest region is the honest one */
    tie_world(c, 0.2);
    select_run(c, 5, &p, -1, &r);
    assert_int_equal(c[0].state, SELECT_FALSETICKER);
    assert_int_equal(c[1].state, SELECT_FALSETICKER);
    assert_true(fabs(r.offset_s) < 0.01);
    /* the rule keeps what is in place either way: a liar selected keeps its region */
    tie_world(c, 0.2);
    select_run(c, 5, &p, 0, &r);
    assert_int_equal(c[2].state, SELECT_FALSETICKER);
    assert_int_equal(c[3].state, SELECT_FALSETICKER);
}

/* timeshift at poll 10 (engine.md): a source running fast, fresh, on the best link, beside
 * two honest ones whose samples are ~1000 s old. The ranking distance of the old ones has
 * grown with maxclockerror x age (1 ppm x 1000 s), their correctness intervals only with
 * their skew: judged by the intervals the fast source is a falseticker and takes no weight;
 * judged by the aged distances (interval_s 0) it survives, is best and dominates. */
static void test_interval_apart_from_distance(void **state)
{
    (void)state;
    struct select_cand c[3];
    struct select_result r;
    struct select_params p = params();
    for (int pass = 0; pass < 2; pass++) {
        cand(&c[0], -1189e-6, 257e-6, 20e-6);
        cand(&c[1], -3e-6, 1011e-6, 60e-6);
        cand(&c[2], 8e-6, 1036e-6, 60e-6);
        if (pass == 0) {
            c[0].interval_s = 257e-6;
            c[1].interval_s = 366e-6;
            c[2].interval_s = 390e-6;
        }
        /* pass 1 starts with nothing selected: the switch by score is test_reselection_score's */
        select_run(c, 3, &p, pass == 0 ? 1 : -1, &r);
        if (pass == 0) {
            assert_int_equal(c[0].state, SELECT_FALSETICKER);
            assert_true(c[0].weight == 0.0);
            assert_int_equal(r.best, 1);
            assert_true(fabs(r.offset_s) < 10e-6);
            assert_true(fabs(c[1].hi_s - c[1].lo_s - 2 * 366e-6) < 1e-12);
        } else {
            assert_int_equal(r.best, 0);
            assert_true(c[0].weight > 0.75);
            assert_true(r.offset_s < -800e-6);
            assert_true(fabs(c[1].hi_s - c[1].lo_s - 2 * 1011e-6) < 1e-12);
        }
    }
}

/* A survivor whose offset disagrees statistically with the others (its interval still
 * overlaps theirs) is a falseticker when the rest are a majority (consist_k); not with two
 * sources, not when the rest do not agree either, not within consist_k sigmas. */
static void test_statistical_outlier(void **state)
{
    (void)state;
    struct select_cand c[4];
    struct select_result r;
    struct select_params p = params();
    p.consist_k = 10.0;
    /* the shifter 500 us off at sd 10 us, the honest pair 15 us apart at sd 20 us */
    cand(&c[0], -500e-6, 250e-6, 10e-6);
    cand(&c[1], 5e-6, 360e-6, 20e-6);
    cand(&c[2], -10e-6, 400e-6, 20e-6);
    select_run(c, 3, &p, 0, &r);
    assert_int_equal(c[0].state, SELECT_FALSETICKER);
    assert_int_equal(r.best, 1);
    assert_int_equal(r.n_survivors, 2);
    assert_true(fabs(r.offset_s + 2.5e-6) < 1e-9);
    /* off: the intervals overlap, the shifter is best and dominates */
    p.consist_k = 0.0;
    cand(&c[0], -500e-6, 250e-6, 10e-6);
    cand(&c[1], 5e-6, 360e-6, 20e-6);
    cand(&c[2], -10e-6, 400e-6, 20e-6);
    select_run(c, 3, &p, 0, &r);
    assert_int_equal(r.best, 0);
    assert_true(r.offset_s < -300e-6);
    p.consist_k = 10.0;
    /* within 10 sigmas of one of two others: kept */
    cand(&c[0], -150e-6, 250e-6, 10e-6);
    cand(&c[1], 5e-6, 360e-6, 20e-6);
    cand(&c[2], -300e-6, 400e-6, 20e-6);
    select_run(c, 3, &p, 0, &r);
    assert_int_equal(r.n_survivors, 3);
    /* all three disagree pairwise: no majority agrees, nobody is singled out */
    cand(&c[0], -500e-6, 1e-3, 10e-6);
    cand(&c[1], 5e-6, 1e-3, 10e-6);
    cand(&c[2], 400e-6, 1e-3, 10e-6);
    select_run(c, 3, &p, 1, &r);
    assert_int_equal(r.n_survivors, 3);
    /* two sources: nothing to outvote with */
    cand(&c[0], -300e-6, 250e-6, 10e-6);
    cand(&c[1], 5e-6, 360e-6, 10e-6);
    select_run(c, 2, &p, 0, &r);
    assert_int_equal(r.n_survivors, 2);
    /* four: one off is outvoted; two against two is not */
    cand(&c[0], -500e-6, 250e-6, 10e-6);
    cand(&c[1], 5e-6, 360e-6, 10e-6);
    cand(&c[2], 0.0, 360e-6, 10e-6);
    cand(&c[3], 10e-6, 360e-6, 10e-6);
    select_run(c, 4, &p, 1, &r);
    assert_int_equal(c[0].state, SELECT_FALSETICKER);
    assert_int_equal(r.n_survivors, 3);
    cand(&c[0], -500e-6, 250e-6, 10e-6);
    cand(&c[1], -490e-6, 250e-6, 10e-6);
    cand(&c[2], 0.0, 360e-6, 10e-6);
    cand(&c[3], 10e-6, 360e-6, 10e-6);
    select_run(c, 4, &p, 2, &r);
    assert_int_equal(r.n_survivors, 4);
}

static void test_leap_vote(void **state)
{
    (void)state;
    struct select_cand c[3];
    struct select_result r;
    struct select_params p = params();
    for (int i = 0; i < 3; i++)
        cand(&c[i], 0.0, 0.01, 1e-4);
    c[0].leap = 1;
    c[1].leap = 1;
    select_run(c, 3, &p, -1, &r);
    assert_int_equal(r.leap, 1);
    for (int i = 0; i < 3; i++)
        cand(&c[i], 0.0, 0.01, 1e-4);
    c[0].leap = 1;
    select_run(c, 3, &p, -1, &r);
    assert_int_equal(r.leap, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_falseticker_among_four),
        cmocka_unit_test(test_no_majority),
        cmocka_unit_test(test_prefer_and_noselect),
        cmocka_unit_test(test_require_and_minsources),
        cmocka_unit_test(test_trust),
        cmocka_unit_test(test_trust_inside_and_penalty),
        cmocka_unit_test(test_hysteresis_and_combine_weights),
        cmocka_unit_test(test_reselection_score),
        cmocka_unit_test(test_leap_vote),
        cmocka_unit_test(test_tie_goes_to_current),
        cmocka_unit_test(test_interval_apart_from_distance),
        cmocka_unit_test(test_statistical_outlier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
