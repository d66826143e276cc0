/* core/engine driven through its entry points against a small simulated world (engine_world.h):
 * a clock with a frequency error, servers answering from true time over delayed links. Packet
 * tests, KoD RATE, the reach register, poll adaptation, iburst, makestep and convergence. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/ntp_time.h"
#include "base/prng.h"
#include "core/engine.h"
#include "core/keys.h"
#include "engine_world.h"
#include "wire/ntp.h"

/* Default source options with iburst (`server ... iburst`). */
static struct engine_source_params iburst_source(void)
{
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.iburst = 1;
    return sp;
}

static void test_lan_converges(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 1, 11);
    w.x_s = 0.010;
    w.f0_ppm = 50.0;
    struct engine_params p;
    engine_params_default(&p);
    world_engine_new(&w, &p, 1);
    struct engine_source_params sp = iburst_source();
    assert_int_equal(world_add_src(&w, &sp, 1), 0);
    double rms = world_run(&w, &w.io, 4 * 3600 * 1000000000LL, 3600 * 1000000000LL);
    assert_true(rms < 30e-6);
    struct report_tracking tr;
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);
    assert_true(fabs(tr.freq_ppm - 50.0) < 0.1);
    assert_int_equal(tr.stratum, 2);
    assert_int_equal(tr.n_steps, 0);
    struct report_source rs;
    assert_int_equal(engine_source_report(w.e, 0, w.t_ns, &rs), 0);
    assert_int_equal(rs.state, REPORT_STATE_SELECTED);
    assert_int_equal(rs.reach, 0377);
    assert_true(rs.poll_log2 >= 6 && rs.poll_log2 <= 10);
    assert_int_equal(rs.test_flags, 0x3ff);
    assert_true(rs.n_samples >= 3);
    assert_string_equal(rs.reason, "");
    /* sources' adjusted offset allows for offset corrections since the sample, not for the
     * frequency compensation (50 ppm here: 1.5 ms over the 30 s below). */
    world_advance(&w, w.t_ns + 30 * 1000000000LL);
    assert_int_equal(engine_source_report(w.e, 0, w.t_ns, &rs), 0);
    assert_true(rs.since_sample_s >= 30);
    assert_true(fabs(rs.latest_meas_s - rs.orig_latest_meas_s) < 100e-6);
    assert_int_equal(engine_source_report(w.e, 1, w.t_ns, &rs), -ENOENT);
    struct report_reference ref;
    engine_reference(w.e, w.t_ns, &ref);
    assert_int_equal(ref.synced, 1);
    assert_int_equal(ref.stratum, 2);
    assert_int_equal(ref.ref_id, 0xC0000201u);
    engine_free(w.e);
}

static void test_iburst_makestep(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 1, 12);
    w.x_s = 100.0;
    w.f0_ppm = -30.0;
    struct engine_params p;
    engine_params_default(&p);
    p.makestep_threshold_s = 1.0;
    p.makestep_limit = 3;
    world_engine_new(&w, &p, 2);
    struct engine_source_params sp = iburst_source();
    world_add_src(&w, &sp, 1);
    world_run(&w, &w.io, 6 * 1000000000LL, 0);
    assert_int_equal(w.steps, 1);
    assert_true(fabs(w.x_s) < 1e-3);
    assert_true(w.sent[0] <= 8);
    world_run(&w, &w.io, 3600 * 1000000000LL, 0);
    assert_int_equal(w.steps, 1);
    assert_true(fabs(w.x_s) < 100e-6);
    engine_free(w.e);
}

static void test_falseticker_never_selected(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 4, 13);
    w.srv_offset_s[2] = 1.0;
    w.f0_ppm = 10.0;
    struct engine_params p;
    engine_params_default(&p);
    world_engine_new(&w, &p, 3);
    struct engine_source_params sp = iburst_source();
    for (int i = 0; i < 4; i++)
        world_add_src(&w, &sp, i + 1);
    for (int k = 0; k < 60; k++) {
        world_run(&w, &w.io, (int64_t)(k + 1) * 60 * 1000000000LL, 0);
        assert_true(fabs(w.x_s) < 0.01);
    }
    struct report_source rs;
    engine_source_report(w.e, 2, w.t_ns, &rs);
    assert_int_equal(rs.state, REPORT_STATE_FALSETICKER);
    assert_int_equal(rs.select_state_char, 'x');
    assert_true(strstr(rs.reason, "falseticker") != NULL);
    engine_free(w.e);
}

/* Builds a reply to the last request of source 0 by hand. */
static void make_reply(struct world *w, uint8_t *out, int64_t rx_true_ns)
{
    struct ntp_packet rq, rp;
    ntp_parse(w->last_req[0], 48, &rq, NULL);
    memset(&rp, 0, sizeof(rp));
    rp.version = 4;
    rp.mode = NTP_MODE_SERVER;
    rp.stratum = 2;
    rp.precision = -24;
    rp.refid = 0x0A000001;
    rp.origin = rq.transmit;
    rp.receive = ntp_time_from_ns(WORLD_EPOCH_NS + rx_true_ns - 50000);
    rp.transmit = ntp_time_from_ns(WORLD_EPOCH_NS + rx_true_ns - 40000);
    ntp_build(&rp, out, 48);
}

/* Advances to the engine's timeouts until it sends a new request. */
static void next_request(struct world *w)
{
    int sent = w->sent[0];
    while (w->sent[0] == sent) {
        world_advance(w, engine_next_timeout_mono_ns(w->e));
        engine_run_timers(w->e, w->t_ns, &w->io);
    }
}

static void test_packet_tests_and_reach(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 1, 14);
    w.drop_all[0] = 1; /* we answer by hand */
    world_engine_new(&w, NULL, 4);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.minpoll_log2 = 4;
    world_add_src(&w, &sp, 1);
    struct report_source rs;
    uint8_t pkt[48];

    /* Poll 1: answered correctly. */
    next_request(&w);
    assert_int_equal(w.sent[0], 1);
    world_advance(&w, w.t_ns + 100000);
    make_reply(&w, pkt, w.t_ns);
    engine_receive(w.e, 0, pkt, 48, world_read_ns(&w), w.t_ns, &w.io);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.total_valid, 1);
    assert_int_equal(rs.total_good, 1);
    assert_int_equal(rs.reach, 1);
    /* The same packet again: duplicate (test 1) and no request outstanding (test 2). */
    engine_receive(w.e, 0, pkt, 48, world_read_ns(&w), w.t_ns, &w.io);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.total_valid, 1);
    assert_int_equal(rs.test_flags & REPORT_TEST_1, 0);
    assert_int_equal(rs.test_flags & REPORT_TEST_2, 0);

    /* Poll 2: a reply with a wrong origin (bogus), then one with a zero receive stamp. */
    next_request(&w);
    world_advance(&w, w.t_ns + 100000);
    make_reply(&w, pkt, w.t_ns);
    pkt[NTP_OFF_ORIGIN + 7] ^= 1;
    engine_receive(w.e, 0, pkt, 48, world_read_ns(&w), w.t_ns, &w.io);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.total_valid, 1);
    assert_int_equal(rs.test_flags & REPORT_TEST_2, 0);
    assert_true(rs.test_flags & REPORT_TEST_1);
    make_reply(&w, pkt, w.t_ns);
    memset(pkt + NTP_OFF_RECEIVE, 0, 8);
    engine_receive(w.e, 0, pkt, 48, world_read_ns(&w), w.t_ns, &w.io);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.total_valid, 1);
    assert_int_equal(rs.test_flags & REPORT_TEST_3, 0);
    assert_int_equal(rs.total_rx, 4);

    /* Poll 3 is sent with poll 2 unanswered: reach shifts in a 0. */
    next_request(&w);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.reach, 2);
    world_advance(&w, w.t_ns + 100000);
    make_reply(&w, pkt, w.t_ns);
    engine_receive(w.e, 0, pkt, 48, world_read_ns(&w), w.t_ns, &w.io);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.reach, 5);
    assert_int_equal(rs.total_valid, 2);
    assert_int_equal(rs.pkt_stratum, 2);
    assert_int_equal(rs.stratum, 2);
    assert_int_equal(rs.pkt_ref_id, 0x0A000001u);
    assert_true(fabs(rs.response_time_s - 10e-6) < 1e-6);
    assert_true(rs.peer_delay_s > 0.0 && rs.peer_delay_s < 200e-6);

    /* A reply from the wrong mode is ignored entirely. */
    pkt[0] = (uint8_t)((pkt[0] & ~7) | NTP_MODE_BROADCAST);
    engine_receive(w.e, 0, pkt, 48, world_read_ns(&w), w.t_ns, &w.io);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.total_valid, 2);
    /* Garbage is counted and dropped. */
    engine_receive(w.e, 0, pkt, 20, world_read_ns(&w), w.t_ns, &w.io);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.total_rx, 7);
    engine_free(w.e);
}

/* engine_tx_timestamp(): a kernel transmit stamp that comes before the reply becomes T1 (the
 * offset and delay are those of the four timestamps with it); one that comes after the reply,
 * or names another request, or lies outside the plausible window, is refused and T1 stays the
 * clock read before the send. ntpdata's TX timestamping follows. */
static void test_tx_timestamp(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 1, 15);
    w.drop_all[0] = 1;
    world_engine_new(&w, NULL, 5);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.minpoll_log2 = 4;
    world_add_src(&w, &sp, 1);
    struct report_source rs;
    uint8_t pkt[48];
    assert_int_equal(engine_tx_timestamp(w.e, 7, NULL, 1), -ENOENT);
    assert_int_equal(engine_tx_timestamp(w.e, 0, NULL, world_read_ns(&w)), -ESTALE);

    /* Poll 1: a kernel stamp 30 us after the clock read, before the reply. */
    next_request(&w);
    int64_t t1_read = world_read_ns(&w);
    int64_t t1_kernel = t1_read + 30000;
    uint8_t other[8];
    memcpy(other, w.last_req[0] + NTP_OFF_TRANSMIT, 8);
    other[7] ^= 1;
    assert_int_equal(engine_tx_timestamp(w.e, 0, other, t1_kernel), -ESTALE);
    assert_int_equal(engine_tx_timestamp(w.e, 0, w.last_req[0] + NTP_OFF_TRANSMIT,
                                         t1_read - ENGINE_TX_TS_EARLY_NS - 1),
                     -ERANGE);
    assert_int_equal(engine_tx_timestamp(w.e, 0, w.last_req[0] + NTP_OFF_TRANSMIT,
                                         t1_read + ENGINE_TX_TS_LATE_NS + 1),
                     -ERANGE);
    assert_int_equal(engine_tx_timestamp(w.e, 0, w.last_req[0] + NTP_OFF_TRANSMIT, t1_kernel), 0);
    /* one stamp per request */
    assert_int_equal(engine_tx_timestamp(w.e, 0, NULL, t1_kernel + 1), -ESTALE);
    world_advance(&w, w.t_ns + 100000);
    make_reply(&w, pkt, w.t_ns);
    int64_t t4 = world_read_ns(&w);
    engine_receive(w.e, 0, pkt, 48, t4, w.t_ns, &w.io);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.total_good, 1);
    assert_int_equal(rs.tx_tss_char, 'K');
    assert_int_equal(rs.total_kernel_tx, 1);
    struct ntp_packet rp;
    assert_int_equal(ntp_parse(pkt, 48, &rp, NULL), NTP_OK);
    int64_t t2 = ntp_time_to_ns(rp.receive, t4), t3 = ntp_time_to_ns(rp.transmit, t4);
    double theta = ((double)(t2 - t1_kernel) + (double)(t3 - t4)) * 0.5e-9;
    double delay = (double)((t4 - t1_kernel) - (t3 - t2)) * 1e-9;
    assert_true(fabs(rs.offset_s - theta) < 1e-9);
    assert_true(fabs(rs.peer_delay_s - delay) < 1e-9);
    /* with the clock read as T1 the delay would have been 30 us longer */
    assert_true(delay < 100e-6 - 10e-6 - 29e-6);

    /* Poll 2: the reply first; the stamp after it is too late, T1 was the clock read. */
    next_request(&w);
    t1_read = world_read_ns(&w);
    world_advance(&w, w.t_ns + 100000);
    make_reply(&w, pkt, w.t_ns);
    t4 = world_read_ns(&w);
    engine_receive(w.e, 0, pkt, 48, t4, w.t_ns, &w.io);
    assert_int_equal(engine_tx_timestamp(w.e, 0, NULL, t1_read + 30000), -ESTALE);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.total_good, 2);
    assert_int_equal(rs.tx_tss_char, 'D');
    assert_int_equal(rs.total_kernel_tx, 1);
    assert_int_equal(ntp_parse(pkt, 48, &rp, NULL), NTP_OK);
    t2 = ntp_time_to_ns(rp.receive, t4);
    t3 = ntp_time_to_ns(rp.transmit, t4);
    delay = (double)((t4 - t1_read) - (t3 - t2)) * 1e-9;
    assert_true(fabs(rs.peer_delay_s - delay) < 1e-9);

    /* Poll 3: a stamp without the datagram (a socket per request) is the outstanding one's. */
    next_request(&w);
    assert_int_equal(engine_tx_timestamp(w.e, 0, NULL, world_read_ns(&w) + 5000), 0);
    world_advance(&w, w.t_ns + 100000);
    make_reply(&w, pkt, w.t_ns);
    engine_receive(w.e, 0, pkt, 48, world_read_ns(&w), w.t_ns, &w.io);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.tx_tss_char, 'K');
    assert_int_equal(rs.total_kernel_tx, 2);
    assert_int_equal(rs.total_tx, 3);
    engine_free(w.e);
}

static void test_kod_rate_backs_off(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 1, 15);
    world_engine_new(&w, NULL, 5);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.minpoll_log2 = 4;
    sp.maxpoll_log2 = 10;
    world_add_src(&w, &sp, 1);
    world_run(&w, &w.io, 200 * 1000000000LL, 0);
    int before = w.sent[0];
    struct report_source rs;
    engine_source_report(w.e, 0, w.t_ns, &rs);
    int poll_before = rs.poll_log2;
    w.kod_rate[0] = 1;
    world_run(&w, &w.io, 2000 * 1000000000LL, 0);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_true(rs.poll_log2 > poll_before);
    /* at poll 4 the 1800 s would take ~110 requests; backing off sends far fewer */
    assert_true(w.sent[0] - before < 25);
    engine_free(w.e);
}

static void test_poll_adapts_up_and_unreachable(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 1, 16);
    world_engine_new(&w, NULL, 6);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.minpoll_log2 = 4;
    sp.maxpoll_log2 = 8;
    world_add_src(&w, &sp, 1);
    world_run(&w, &w.io, 3 * 3600 * 1000000000LL, 0);
    struct report_source rs;
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.poll_log2, 8); /* a quiet clock and LAN: polls lengthen to maxpoll */
    w.drop_all[0] = 1;
    world_run(&w, &w.io, 6 * 3600 * 1000000000LL, 0);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.reach, 0);
    assert_int_equal(rs.state, REPORT_STATE_NONSELECTABLE);
    assert_true(rs.reason[0] != '\0');
    struct report_tracking tr;
    engine_tracking(w.e, w.t_ns, &tr);
    (void)tr;
    engine_free(w.e);
}

/* Packets: on a LAN with a wandering oscillator (0.001 ppm/sqrt(s), the sims'),
 * tempus's own rule alone would poll at about 2^6.5 s (~177 requests in 6 h, measured before
 * the ceiling, and with -DPOLL_RULE=0); chrony 4.3's rule, which the engine polls by, ~60. */
static void test_poll_no_faster_than_chrony_rule(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 1, 18);
    w.f0_ppm = 20.0;
    w.wander_ppm = 0.001;
    world_engine_new(&w, NULL, 8);
    struct engine_source_params sp = iburst_source();
    world_add_src(&w, &sp, 1);
    double rms = world_run(&w, &w.io, 6 * 3600 * 1000000000LL, 1800 * 1000000000LL);
    assert_true(w.sent[0] <= 90);
    assert_true(w.sent[0] >= 25); /* not stuck at maxpoll from the start either */
    assert_true(rms < 100e-6);
    struct report_source rs;
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_true(rs.poll_log2 >= 8);
    engine_free(w.e);
}

/* wan4's four WAN servers (2/8/14/20 ms base, 1/4/7/10 ms exponential jitter each way): set
 * up in w with seed, four iburst sources added, run for dur_s; returns the RMS error after
 * 30 min. */
static double run_wan_world(struct world *w, int nsrv, uint64_t seed, double dur_s, int budget)
{
    world_init(w, nsrv, seed);
    w->f0_ppm = 20.0;
    w->wander_ppm = 0.001;
    for (int i = 0; i < nsrv; i++) {
        w->base_s[i] = 0.002 + 0.006 * i;
        w->jit_up_s[i] = w->jit_down_s[i] = 0.001 + 0.003 * i;
    }
    struct engine_params p;
    engine_params_default(&p);
    p.no_request_budget = !budget;
    world_engine_new(w, &p, seed);
    for (int i = 0; i < nsrv; i++) {
        struct engine_source_params sp = iburst_source();
        assert_int_equal(world_add_src(w, &sp, i + 1), i);
    }
    return world_run(w, &w->io, (int64_t)(dur_s * 1e9), 1800 * 1000000000LL);
}

/* The request budget (engine.c budget_*): with four WAN sources the nearest one, which
 * carries the estimate, gets the requests the others save at maxpoll; all of them together
 * send no more than the same world with every source on chrony's rule. (The accuracy gain is
 * judged on 41 seeds by tests/sim's wan4 bounds: per seed the RMS spreads over a factor 3-10,
 * more than the gain.) */
static void test_budget_spends_where_it_counts(void **state)
{
    (void)state;
    const double dur_s = 6 * 3600.0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct world off, on;
        double rms_off = run_wan_world(&off, 4, 40 + seed, dur_s, 0);
        int total_off = off.sent[0] + off.sent[1] + off.sent[2] + off.sent[3];
        engine_free(off.e);
        double rms_on = run_wan_world(&on, 4, 40 + seed, dur_s, 1);
        int total_on = on.sent[0] + on.sent[1] + on.sent[2] + on.sent[3];
        print_message("seed %d: requests %d (%d %d %d %d) vs %d, rms %.1f vs %.1f us\n", (int)seed,
                      total_on, on.sent[0], on.sent[1], on.sent[2], on.sent[3], total_off,
                      rms_on * 1e6, rms_off * 1e6);
        assert_true(total_on <= total_off);
        for (int i = 1; i < 4; i++)
            assert_true(on.sent[0] >= 3 * on.sent[i] / 2);
        struct report_source rs;
        assert_int_equal(engine_source_report(on.e, 3, on.t_ns, &rs), 0);
        assert_int_equal(rs.poll_log2, 10); /* the farthest saves at maxpoll */
        engine_free(on.e);
    }
}

/* With three sources there is no budget (each one's samples count in the majority vote: a
 * drifting server on the best link was outvoted later, timeshift x1.34): every source polls
 * by chrony's rule. */
static void test_budget_needs_four_sources(void **state)
{
    (void)state;
    struct world w;
    run_wan_world(&w, 3, 45, 3 * 3600.0, 1);
    for (int i = 1; i < 3; i++)
        assert_true(w.sent[0] <= w.sent[i] * 5 / 4);
    engine_free(w.e);
}

/* chronyd 4.3's poll column, measured with sources that never answer: a minpoll -2
 * maxpoll -2 source polls at 1 s (poll 0) until it proves to be close; a source whose key
 * is missing sends nothing and stays at its first poll (no back-off); an answering LAN source
 * gets its sub-second poll. */
static void test_poll_floor_and_missing_key(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 3, 19);
    w.drop_all[0] = 1;
    world_engine_new(&w, NULL, 9);
    static const char keytext[] = "1 MD5 HEX:0102030405060708090A0B0C0D0E0F10\n";
    struct keys *keys = keys_parse(keytext, sizeof keytext - 1, "k", NULL, NULL);
    assert_non_null(keys);
    engine_set_keys(w.e, keys);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.minpoll_log2 = sp.maxpoll_log2 = -2;
    assert_int_equal(world_add_src(&w, &sp, 1), 0); /* never answers */
    engine_source_params_default(&sp);
    sp.minpoll_log2 = 0;
    sp.maxpoll_log2 = 4;
    sp.key_id = 99; /* not in the table */
    sp.iburst = 1;
    assert_int_equal(world_add_src(&w, &sp, 2), 1);
    engine_source_params_default(&sp);
    sp.minpoll_log2 = sp.maxpoll_log2 = -2;
    assert_int_equal(world_add_src(&w, &sp, 3), 2);
    struct report_source rs;
    assert_int_equal(engine_source_report(w.e, 0, 0, &rs), 0);
    assert_int_equal(rs.poll_log2, 0);
    world_run(&w, &w.io, 60 * 1000000000LL, 0);
    assert_int_equal(engine_source_report(w.e, 0, w.t_ns, &rs), 0);
    assert_int_equal(rs.reach, 0);
    assert_int_equal(rs.poll_log2, 0);
    assert_true(w.sent[0] >= 50 && w.sent[0] <= 62); /* one a second, not four */
    assert_int_equal(engine_source_report(w.e, 1, w.t_ns, &rs), 0);
    assert_int_equal(rs.poll_log2, 0);
    assert_int_equal(rs.total_tx, 0);
    assert_int_equal(w.sent[1], 0);
    assert_int_equal(engine_source_report(w.e, 2, w.t_ns, &rs), 0);
    assert_int_equal(rs.reach, 0377);
    assert_int_equal(rs.poll_log2, -2);
    engine_free(w.e);
    keys_free(keys);
}

/* The effective options authselect adds to source i (ENGINE_SELECT_* bits, as reported). */
static int eff_added(struct world *w, int i)
{
    struct report_source rs;
    assert_int_equal(engine_source_report(w->e, i, w->t_ns, &rs), 0);
    return rs.eff_options & ~rs.conf_options;
}

/* authselectmode is recounted over the sources present at each add and remove (chronyd 4.3:
 * a run-time or sourcedir source counts as a configured one), shown in eff_options only.
 * key_id 5 is not in any table: authenticated for the count, it sends nothing. */
static void test_authselect_recounted(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 3, 21);
    struct engine_params p;
    engine_params_default(&p);
    assert_int_equal(p.authselect, ENGINE_AUTHSELECT_IGNORE);
    const unsigned N = REPORT_OPT_NOSELECT, RT = REPORT_OPT_REQUIRE | REPORT_OPT_TRUST;

    /* prefer: an unauthenticated source is noselect once an authenticated one is there */
    p.authselect = ENGINE_AUTHSELECT_PREFER;
    world_engine_new(&w, &p, 12);
    struct engine_source_params sp = iburst_source();
    sp.minpoll_log2 = sp.maxpoll_log2 = 0;
    int a = world_add_src(&w, &sp, 1);
    assert_int_equal(eff_added(&w, 0), 0);
    world_run(&w, &w.io, 10 * 1000000000LL, 0);
    struct report_tracking tr;
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);
    sp.key_id = 5;
    int b = world_add_src(&w, &sp, 2);
    assert_int_equal(eff_added(&w, 0), (int)N);
    assert_int_equal(eff_added(&w, 1), 0);
    struct report_source rs;
    world_run(&w, &w.io, 20 * 1000000000LL, 0);
    assert_int_equal(engine_source_report(w.e, 0, w.t_ns, &rs), 0);
    assert_int_not_equal(rs.state, REPORT_STATE_SELECTED);
    /* a configured noselect source is not counted and gets nothing */
    engine_source_params_default(&sp);
    sp.noselect = 1;
    assert_true(world_add_src(&w, &sp, 3) >= 0);
    assert_int_equal(eff_added(&w, 2), 0);
    assert_int_equal(engine_remove_source(w.e, b), 0);
    assert_int_equal(eff_added(&w, 0), 0);
    (void)a;
    engine_free(w.e);

    /* mix (chronyd's default): with both kinds the authenticated ones require + trust */
    p.authselect = ENGINE_AUTHSELECT_MIX;
    world_engine_new(&w, &p, 13);
    engine_source_params_default(&sp);
    sp.key_id = 5;
    world_add_src(&w, &sp, 1);
    assert_int_equal(eff_added(&w, 0), 0);
    sp.key_id = 0;
    int u = world_add_src(&w, &sp, 2);
    assert_int_equal(eff_added(&w, 0), (int)RT);
    assert_int_equal(eff_added(&w, 1), 0);
    /* selectopts noselect on the unauthenticated one takes it out of the count */
    assert_int_equal(
        engine_set_select_opts(w.e, u, ENGINE_SELECT_NOSELECT, ENGINE_SELECT_NOSELECT, w.t_ns), 0);
    assert_int_equal(eff_added(&w, 0), 0);
    engine_free(w.e);

    /* require: unauthenticated ones are noselect even alone; ignore: nothing */
    p.authselect = ENGINE_AUTHSELECT_REQUIRE;
    world_engine_new(&w, &p, 14);
    engine_source_params_default(&sp);
    world_add_src(&w, &sp, 1);
    assert_int_equal(eff_added(&w, 0), (int)N);
    engine_free(w.e);
    p.authselect = ENGINE_AUTHSELECT_IGNORE;
    world_engine_new(&w, &p, 15);
    world_add_src(&w, &sp, 1);
    sp.key_id = 5;
    world_add_src(&w, &sp, 2);
    assert_int_equal(eff_added(&w, 0), 0);
    assert_int_equal(eff_added(&w, 1), 0);
    engine_free(w.e);
}

/* A reply in flight across a start-up step is used (T1 is moved with the step), as chronyd
 * uses it: with step100's three WAN paths the nearest server's reply steps the clock while
 * the others' requests are out, and each server still needs only its 4 burst requests (5
 * when such replies were dropped). */
static void test_reply_across_step_used(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 3, 21);
    w.x_s = 100.0;
    for (int i = 0; i < 3; i++) { /* step100's paths */
        w.base_s[i] = 0.002 + 0.006 * i;
        w.jit_up_s[i] = w.jit_down_s[i] = 0.001 + 0.003 * i;
    }
    struct engine_params p;
    engine_params_default(&p);
    p.makestep_threshold_s = 1.0;
    p.makestep_limit = 3;
    world_engine_new(&w, &p, 22);
    struct engine_source_params sp = iburst_source();
    for (int i = 0; i < 3; i++)
        world_add_src(&w, &sp, i + 1);
    world_run(&w, &w.io, 40 * 1000000000LL, 0);
    assert_int_equal(w.steps, 1);
    assert_true(fabs(w.x_s) < 10e-3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(w.sent[i], 4);
        struct report_source rs;
        engine_source_report(w.e, i, w.t_ns, &rs);
        assert_int_equal(rs.total_good, rs.total_valid); /* no reply wasted */
        assert_true(fabs(rs.offset_s) < 20e-3);          /* measured on the stepped clock */
    }
    engine_free(w.e);
}

/* The poll interval is 2^poll lengthened by a uniform 0..2 % (chronyd's intervals): at a
 * fixed poll 6 for 6 h, 21600 / (64 x 1.01) = 334 requests (340 with the former +-1/32,
 * whose lengthening half was cut off). */
static void test_poll_interval_randomness(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 1, 23);
    world_engine_new(&w, NULL, 24);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.minpoll_log2 = 6;
    sp.maxpoll_log2 = 6;
    world_add_src(&w, &sp, 1);
    world_run(&w, &w.io, 6 * 3600 * 1000000000LL, 0);
    assert_in_range(w.sent[0], 331, 337);
    engine_free(w.e);
}

/* A source claiming a time decades away (no makestep): the engine slews for centuries, but
 * its next timeout stays a valid future time (fuzzer finding: it overflowed to INT64_MIN). */
static void test_decades_offset_timeout_sane(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 1, 17);
    w.srv_offset_s[0] = 40.0 * 365 * 86400; /* 40 years ahead */
    world_engine_new(&w, NULL, 7);
    struct engine_source_params sp = iburst_source();
    world_add_src(&w, &sp, 1);
    world_run(&w, &w.io, 30 * 1000000000LL, 0);
    int64_t next = engine_next_timeout_mono_ns(w.e);
    assert_true(next > w.t_ns);
    assert_true(next - w.t_ns < 3600 * 1000000000LL); /* the polls go on */
    assert_int_equal(w.steps, 0);
    engine_free(w.e);
}

/* Orphan servers: n sources at stratum `stratum` (192.0.2.1 .. n), our own address towards
 * them 192.0.2.own (0: unknown), `local stratum 10 orphan` (or plain local); runs 20 min. */
static void orphan_world(struct world *w, const int *stratum, int n, int own, int orphan)
{
    world_init(w, n, 20);
    w->f0_ppm = 10.0;
    for (int i = 0; i < n; i++)
        w->srv_stratum[i] = stratum[i];
    struct engine_params p;
    engine_params_default(&p);
    p.local_stratum = 10;
    p.local_orphan = orphan;
    world_engine_new(w, &p, 9);
    struct engine_source_params sp = iburst_source();
    for (int i = 0; i < n; i++) {
        int id = world_add_src(w, &sp, i + 1);
        if (own)
            engine_set_source_local_refid(w->e, id, 0xC0000200u | (uint32_t)own);
    }
    world_run(w, &w->io, 1200 * 1000000000LL, 0);
}

static char sel_char(const struct world *w, int i)
{
    struct report_source rs;
    assert_int_equal(engine_source_report(w->e, i, w->t_ns, &rs), 0);
    return rs.select_state_char;
}

/* chrony's orphan mode: two orphan servers at the local stratum, our refid above both: the
 * one with the smallest refid is followed, the other is 'O'. */
static void test_orphan_follows_smallest_refid(void **state)
{
    (void)state;
    struct world w;
    const int st[] = {10, 10};
    orphan_world(&w, st, 2, 9, 1);
    struct report_tracking tr;
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);
    assert_int_equal(tr.ref_id, 0xC0000201u);
    assert_int_equal(tr.stratum, 11);
    assert_int_equal(sel_char(&w, 0), '*');
    assert_int_equal(sel_char(&w, 1), 'O');
    struct report_source rs;
    engine_source_report(w.e, 1, w.t_ns, &rs);
    assert_int_equal(rs.state, REPORT_STATE_NONSELECTABLE);
    assert_non_null(strstr(rs.reason, "orphan"));
    engine_free(w.e);
}

/* Our refid is the smallest: we are the orphan server, no source is selected. */
static void test_orphan_we_serve_when_smallest(void **state)
{
    (void)state;
    struct world w;
    const int st[] = {10, 10};
    orphan_world(&w, st, 2, 0, 1);
    /* own refid unknown (0): never follow an orphan */
    struct report_tracking tr;
    engine_tracking(w.e, w.t_ns, &tr);
    assert_false(tr.synced);
    engine_free(w.e);

    /* 192.0.2.1 is ours: the sources at .1 (equal) and .2 are not below it */
    orphan_world(&w, st, 2, 1, 1);
    engine_tracking(w.e, w.t_ns, &tr);
    assert_false(tr.synced);
    assert_int_equal(sel_char(&w, 0), 'O');
    assert_int_equal(sel_char(&w, 1), 'O');
    assert_int_equal(w.steps, 0);
    engine_free(w.e);
}

/* A source above the local stratum is never followed (it can only be following an orphan);
 * a real upstream below it is preferred to any orphan. */
static void test_orphan_strata(void **state)
{
    (void)state;
    struct world w;
    const int st1[] = {11};
    orphan_world(&w, st1, 1, 9, 1);
    struct report_tracking tr;
    engine_tracking(w.e, w.t_ns, &tr);
    assert_false(tr.synced);
    assert_int_equal(sel_char(&w, 0), 'O');
    engine_free(w.e);

    const int st2[] = {10, 3};
    orphan_world(&w, st2, 2, 9, 1);
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);
    assert_int_equal(tr.ref_id, 0xC0000202u);
    assert_int_equal(tr.stratum, 4);
    assert_int_equal(sel_char(&w, 0), 'O');
    assert_int_equal(sel_char(&w, 1), '*');
    engine_free(w.e);

    /* local without orphan: the stratum-11 source is an ordinary one */
    orphan_world(&w, st1, 1, 9, 0);
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);
    assert_int_equal(tr.stratum, 12);
    engine_free(w.e);

    /* orphan switched off at run time (chronyc local): followed at the next sample */
    orphan_world(&w, st1, 1, 9, 1);
    engine_set_local(w.e, 10, 0);
    world_run(&w, &w.io, 3000 * 1000000000LL, 0);
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);
    engine_free(w.e);
}

/* Test D: a server above stratum 1 whose reference ID is our own address is synchronised to
 * us; its replies are valid (reach) but give no sample. */
static void test_sync_loop_rejected(void **state)
{
    (void)state;
    struct world w;
    const int st[] = {3};
    world_init(&w, 1, 21);
    w.srv_stratum[0] = st[0];
    w.srv_refid[0] = 0xC0000209u;
    world_engine_new(&w, NULL, 10);
    struct engine_source_params sp = iburst_source();
    int id = world_add_src(&w, &sp, 1);
    assert_int_equal(engine_set_source_local_refid(w.e, id, 0xC0000209u), 0);
    assert_int_equal(engine_set_source_local_refid(w.e, id + 5, 1), -ENOENT);
    world_run(&w, &w.io, 600 * 1000000000LL, 0);
    struct report_source rs;
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_int_equal(rs.test_flags & REPORT_TEST_D, 0);
    assert_true(rs.test_flags & REPORT_TEST_A);
    assert_true(rs.total_valid > 0);
    assert_int_equal(rs.total_good, 0);
    assert_int_equal(rs.n_samples, 0);
    struct report_tracking tr;
    engine_tracking(w.e, w.t_ns, &tr);
    assert_false(tr.synced);
    /* another refid: the same server is followed */
    w.srv_refid[0] = 0xC0000208u;
    world_run(&w, &w.io, 1800 * 1000000000LL, 0);
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_true(rs.test_flags & REPORT_TEST_D);
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);
    engine_free(w.e);
}

/* A preferred source that stops answering no longer keeps the others out once it missed two
 * polls: the clock keeps being updated (by the others, combined with its aging prediction)
 * long before its reach register empties. */
static void test_prefer_lapses_when_silent(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 2, 22);
    w.f0_ppm = 10.0;
    world_engine_new(&w, NULL, 11);
    struct engine_source_params sp = iburst_source();
    sp.maxpoll_log2 = 8;
    sp.prefer = 1;
    world_add_src(&w, &sp, 1);
    sp.prefer = 0;
    world_add_src(&w, &sp, 2);
    world_run(&w, &w.io, 2 * 3600 * 1000000000LL, 0);
    assert_int_equal(sel_char(&w, 0), '*');
    assert_int_equal(sel_char(&w, 1), 'P');
    w.drop_all[0] = 1;
    /* one miss: still preferred */
    int sent = w.sent[0];
    while (w.sent[0] < sent + 2)
        world_run(&w, &w.io, w.t_ns + 1000000000LL, 0);
    assert_int_equal(sel_char(&w, 1), 'P');
    struct report_tracking tr;
    engine_tracking(w.e, w.t_ns, &tr);
    uint32_t updates = tr.n_updates;
    /* two misses (about 2 x 256 s): the other source takes part again */
    world_run(&w, &w.io, w.t_ns + 900 * 1000000000LL, 0);
    assert_true(sel_char(&w, 1) == '+' || sel_char(&w, 1) == '*');
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.n_updates > updates);
    assert_true(tr.synced);
    struct report_source rs;
    engine_source_report(w.e, 0, w.t_ns, &rs);
    assert_true(rs.reach != 0); /* long before the reach register empties */
    engine_free(w.e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lan_converges),
        cmocka_unit_test(test_iburst_makestep),
        cmocka_unit_test(test_falseticker_never_selected),
        cmocka_unit_test(test_packet_tests_and_reach),
        cmocka_unit_test(test_tx_timestamp),
        cmocka_unit_test(test_kod_rate_backs_off),
        cmocka_unit_test(test_poll_adapts_up_and_unreachable),
        cmocka_unit_test(test_poll_no_faster_than_chrony_rule),
        cmocka_unit_test(test_poll_floor_and_missing_key),
        cmocka_unit_test(test_authselect_recounted),
        cmocka_unit_test(test_reply_across_step_used),
        cmocka_unit_test(test_poll_interval_randomness),
        cmocka_unit_test(test_decades_offset_timeout_sane),
        cmocka_unit_test(test_orphan_follows_smallest_refid),
        cmocka_unit_test(test_orphan_we_serve_when_smallest),
        cmocka_unit_test(test_orphan_strata),
        cmocka_unit_test(test_sync_loop_rejected),
        cmocka_unit_test(test_prefer_lapses_when_silent),
        cmocka_unit_test(test_budget_spends_where_it_counts),
        cmocka_unit_test(test_budget_needs_four_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
