/* Unit tests of sim/scenario.c (units, links, source options, events, errors with line
 * numbers) and of sim/run.c's determinism (same seed, same run; another seed, another). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/ntp_time.h"
#include "sim/run.h"
#include "sim/scenario.h"

#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static const char *const example = "# a comment\n"
                                   "duration = 2h\n"
                                   "warmup = 10m\n"
                                   "sample = 5s\n"
                                   "epoch = 2026-12-31T22:00:00Z\n"
                                   "leap = insert\n"
                                   "[client]\n"
                                   "makestep = 1.0 3\n"
                                   "maxslewrate = 500\n"
                                   "drift = -12.5 0.1\n"
                                   "[clock]\n"
                                   "offset = 100s\n"
                                   "freq = -50ppm\n"
                                   "wander = 1ppb\n"
                                   "temp = 2.5ppm\n"
                                   "temp_period = 2h\n"
                                   "[server]\n"
                                   "name = a  # trailing comment\n"
                                   "source = iburst minpoll 4 maxpoll 6 prefer\n"
                                   "up = 50us exp 10us loss 0.2\n"
                                   "down = 1ms\n"
                                   "[server]\n"
                                   "offset = 1.0\n"
                                   "link = 2ms uniform 1ms\n"
                                   "sync = 1\n"
                                   "clock.freq = 3ppm\n"
                                   "at 3h: server 1 down\n"
                                   "at 90m: link 2 loss 0.5\n"
                                   "at 1.5s: clock step -0.25\n";

static void test_parse_example(void **state)
{
    (void)state;
    static struct simscn s;
    char err[128];
    simscn_default(&s);
    assert_int_equal(simscn_parse(&s, example, err, sizeof(err)), 0);
    assert_int_equal(s.duration_ns, 7200 * 1000000000LL);
    assert_int_equal(s.warmup_ns, 600 * 1000000000LL);
    assert_int_equal(s.sample_ns, 5 * 1000000000LL);
    assert_int_equal(s.epoch_real_ns, ntp_time_ns_from_civil(2026, 12, 31, 22, 0, 0));
    assert_int_equal(s.leap, 1);
    assert_near(s.client.makestep_threshold_s, 1.0, 0);
    assert_int_equal(s.client.makestep_limit, 3);
    assert_near(s.client.maxslewrate_ppm, 500, 0);
    assert_int_equal(s.client.have_initial_freq, 1);
    assert_near(s.client.initial_freq_ppm, -12.5, 0);
    assert_near(s.clock.offset_s, 100, 0);
    assert_near(s.clock.freq_ppm, -50, 0);
    assert_near(s.clock.wander_ppm_per_sqrt_s, 1e-3, 1e-15);
    assert_near(s.clock.temp_period_s, 7200, 0);
    assert_int_equal(s.nservers, 2);
    const struct simscn_server *a = &s.servers[0], *b = &s.servers[1];
    assert_string_equal(a->name, "a");
    assert_int_equal(a->source.iburst, 1);
    assert_int_equal(a->source.prefer, 1);
    assert_int_equal(a->source.minpoll_log2, 4);
    assert_int_equal(a->source.maxpoll_log2, 6);
    assert_near(a->up.delay_s, 50e-6, 1e-15);
    assert_int_equal(a->up.dist, SIMLINK_DIST_EXP);
    assert_near(a->up.jitter_s, 10e-6, 1e-15);
    assert_near(a->up.loss, 0.2, 0);
    assert_near(a->down.delay_s, 1e-3, 1e-15);
    assert_int_equal(a->down.dist, SIMLINK_DIST_NONE);
    assert_string_equal(b->name, "server2");
    assert_near(b->offset_s, 1.0, 0);
    assert_int_equal(b->up.dist, SIMLINK_DIST_UNIFORM);
    assert_near(b->down.delay_s, 2e-3, 1e-15);
    assert_int_equal(b->sync, 1);
    assert_near(b->clock.freq_ppm, 3, 0);
    assert_int_equal(s.nevents, 3);
    assert_int_equal(s.events[0].kind, SIMSCN_EV_SERVER_DOWN);
    assert_int_equal(s.events[0].server, 1);
    assert_int_equal(s.events[0].t_ns, 3 * 3600 * 1000000000LL);
    assert_int_equal(s.events[1].kind, SIMSCN_EV_LINK_LOSS);
    assert_near(s.events[1].value, 0.5, 0);
    assert_int_equal(s.events[2].kind, SIMSCN_EV_CLOCK_STEP);
    assert_int_equal(s.events[2].t_ns, 1500000000LL);
    assert_near(s.events[2].value, -0.25, 0);
}

static void expect_error(const char *text, const char *want)
{
    static struct simscn s;
    char err[128];
    simscn_default(&s);
    assert_int_equal(simscn_parse(&s, text, err, sizeof(err)), -1);
    if (!strstr(err, want)) {
        print_error("error '%s' does not contain '%s'\n", err, want);
        fail();
    }
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("duration = 6x\n", "line 1: bad value for 'duration'");
    expect_error("\n\nbogus = 1\n", "line 3: unknown key 'bogus'");
    expect_error("[server]\nsource = iburst minpoll\n", "line 2: bad value for source option");
    expect_error("[server]\nsource = sometimes\n", "unknown source option 'sometimes'");
    expect_error("[server]\nup = 1ms gamma 2ms\n", "line 2: bad value for 'up'");
    expect_error("[server]\nup = 1ms loss 1.5\n", "bad value for 'up'");
    expect_error("at 1h: server 1 down\n", "no server 1");
    expect_error("[server]\nat 1h: server 1 explode\n", "line 2: bad event");
    expect_error("[server]\nsync = 1\n", "bad value for 'sync'");
    expect_error("[server]\nsync = 3\n", "sync = 3 is not another server");
    expect_error("no equals sign\n", "expected 'key = value'");
}

static void test_units(void **state)
{
    (void)state;
    double v;
    assert_int_equal(simscn_parse_duration_s("250ms", &v), 0);
    assert_near(v, 0.25, 1e-15);
    assert_int_equal(simscn_parse_duration_s("1d", &v), 0);
    assert_near(v, 86400, 0);
    assert_int_equal(simscn_parse_duration_s("7", &v), 0);
    assert_near(v, 7, 0);
    assert_int_equal(simscn_parse_duration_s("7 s", &v), -1);
    assert_int_equal(simscn_parse_duration_s("ms", &v), -1);
}

static const char *const small = "duration = 40m\n"
                                 "warmup = 10m\n"
                                 "[clock]\n"
                                 "freq = 30ppm\n"
                                 "wander = 0.001ppm\n"
                                 "[server]\n"
                                 "source = iburst\n"
                                 "link = 1ms exp 200us loss 0.1\n";

static void test_run_deterministic(void **state)
{
    (void)state;
    static struct simscn s;
    char err[128];
    simscn_default(&s);
    assert_int_equal(simscn_parse(&s, small, err, sizeof(err)), 0);
    struct simrun_result a, b, c;
    assert_int_equal(simrun_run(&s, 7, NULL, &a), 0);
    assert_int_equal(simrun_run(&s, 7, NULL, &b), 0);
    assert_int_equal(simrun_run(&s, 8, NULL, &c), 0);
    assert_true(a.rms_s == b.rms_s && a.max_s == b.max_s && a.packets == b.packets &&
                a.events == b.events && a.final_err_s == b.final_err_s);
    assert_true(a.final_err_s != c.final_err_s);
    assert_true(a.packets > 10);
    /* The client really synchronised: a 30 ppm clock left alone would be 72 ms off. */
    assert_true(fabs(a.final_err_s) < 5e-3);
    assert_true(a.steps == 0);
    assert_true(a.spins < 100); /* an engine that keeps asking for the past would show */
}

/* Engine timers run on time (in the engine's mono time) even while the clock's rate swings
 * and slews at tens of thousands of ppm. */
static void test_run_timers_on_time(void **state)
{
    (void)state;
    static struct simscn s;
    char err[128];
    simscn_default(&s);
    assert_int_equal(simscn_parse(&s,
                                  "duration = 2h\n[clock]\noffset = 0.5\nfreq = 200ppm\n"
                                  "temp = 20ppm\ntemp_period = 10m\nwander = 0.01ppm\n"
                                  "[server]\nsource = iburst minpoll 2 maxpoll 8\n"
                                  "link = 1ms exp 100us\n",
                                  err, sizeof(err)),
                     0);
    struct simrun_result r;
    assert_int_equal(simrun_run(&s, 3, NULL, &r), 0);
    if (r.timer_late_max_ns >= 1000)
        print_error("late by %lld ns\n", (long long)r.timer_late_max_ns);
    assert_true(r.timer_late_max_ns < 1000);
    assert_true(r.spins < 100);
}

static double final_error(const char *text, uint64_t seed)
{
    static struct simscn s;
    char err[128];
    simscn_default(&s);
    assert_int_equal(simscn_parse(&s, text, err, sizeof(err)), 0);
    struct simrun_result r;
    assert_int_equal(simrun_run(&s, seed, NULL, &r), 0);
    return r.final_err_s;
}

/* End to end through the packet path: the client ends up where its server's timestamps put
 * it. A server 0.2 s ahead pulls the clock 0.2 s ahead; a path 2 ms slower upstream than
 * downstream makes the client 1 ms fast ((up - down) / 2, NTP's asymmetry error). */
static void test_run_follows_server(void **state)
{
    (void)state;
    double e = final_error("duration = 30m\nwarmup = 0\n[server]\noffset = 0.2\n"
                           "source = iburst\nlink = 1ms\n",
                           1);
    assert_near(e, 0.2, 20e-6);
    e = final_error("duration = 30m\nwarmup = 0\n[server]\nsource = iburst\nup = 3ms\n"
                    "down = 1ms\n",
                    1);
    assert_near(e, 1e-3, 20e-6);
    /* Through a stratum-2 engine server that is itself 0.1 s behind its upstream's reference:
     * both follow the stratum-1 server. */
    e = final_error("duration = 1h\nwarmup = 0\n[server]\noffset = -0.05\nsource = noselect\n"
                    "link = 1ms\n[server]\nsync = 1\nclock.offset = 0.1\nsource = iburst\n"
                    "link = 1ms\nsync_link = 1ms\n",
                    1);
    assert_near(e, -0.05, 50e-6);
}

/* The statistics against a clock nobody disciplines (no servers): 5 ms ahead, losing 10 us
 * per second, so |error| <= 1 ms from t = 400 s to 600 s; a scripted step at 450 s. */
static void test_measurement(void **state)
{
    (void)state;
    static struct simscn s;
    char err[128];
    simscn_default(&s);
    assert_int_equal(simscn_parse(&s,
                                  "duration = 550s\nwarmup = 500s\n[clock]\noffset = 5ms\n"
                                  "freq = -10ppm\nat 450s: clock step 0.0002\n",
                                  err, sizeof(err)),
                     0);
    struct simrun_result r;
    assert_int_equal(simrun_run(&s, 1, NULL, &r), 0);
    assert_near(r.t_settle_s, 400.0, 1e-9);
    /* After warm-up: error = 5.2 ms - 10 us/s * t for t in (500, 550]: 0.2 .. -0.3 ms. */
    double sum = 0;
    int n = 0;
    for (int i = 5001; i <= 5500; i++, n++) {
        double e = 5.2e-3 - 1e-5 * (i / 10.0);
        sum += e * e;
    }
    assert_near(r.rms_s, sqrt(sum / n), 1e-9);
    assert_near(r.max_s, 0.3e-3, 1e-9);
    assert_near(r.rms_freq_ppm, 10, 1e-9);
    assert_int_equal(r.steps, 0); /* a scripted disturbance is not the engine's step */
    assert_int_equal(r.packets, 0);
    assert_near(r.unsync_s, 50, 1e-6);
    assert_near(r.final_err_s, -0.3e-3, 1e-9);
    /* Never settled: the step pushes it out again before the end of warm-up. */
    s.events[0].value = 0.002;
    assert_int_equal(simrun_run(&s, 1, NULL, &r), 0);
    assert_near(r.t_settle_s, -1, 0);
}

static void test_median(void **state)
{
    (void)state;
    struct simrun_result r[3];
    memset(r, 0, sizeof(r));
    r[0].rms_s = 3;
    r[1].rms_s = 1;
    r[2].rms_s = 2;
    r[0].t_settle_s = -1; /* never: ranks highest */
    r[1].t_settle_s = 5;
    r[2].t_settle_s = 9;
    r[0].packets = 10;
    r[1].packets = 30;
    r[2].packets = 20;
    struct simrun_result m;
    simrun_median(r, 3, &m);
    assert_near(m.rms_s, 2, 0);
    assert_near(m.t_settle_s, 9, 0);
    assert_int_equal(m.packets, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_example),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_run_deterministic),
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_run_follows_server),
        cmocka_unit_test(test_run_timers_on_time),
        cmocka_unit_test(test_measurement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
