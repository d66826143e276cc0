/* core/engine's symmetric mode (`peer`), hand-driven as chronyd 4.3 runs it (observed on
 * loopback): both sides send mode 1 on their own schedules; each packet carries the other's
 * last transmit field as origin, our receive time of it, and our real transmit time; a packet
 * whose origin is our last transmit measures that exchange. The test plays the peer on true
 * time; our clock is 2 ms ahead. */
#include <errno.h>
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
#include "core/engine.h"
#include "core/report.h"
#include "engine_world.h"
#include "wire/ntp.h"

#define LINK_NS  40000LL /* one way */
#define AHEAD_S  0.002   /* our clock - true time */
#define PEER_REF 0x0A000001u

/* The header our peer packets announce: the daemon's hook in tempusd. */
static void hdr_hook(void *ctx, int64_t now_mono_ns, struct ntp_packet *p)
{
    (void)ctx;
    (void)now_mono_ns;
    p->leap = 0;
    p->stratum = 3;
    p->precision = -22;
    p->refid = PEER_REF;
    p->root_delay = 0x100;
}

struct fixture {
    struct world w;
    struct clock_ops ops;
    struct engine_io io;
};

static void setup_xl(struct fixture *f, int poll, int xleave);

static void setup(struct fixture *f, int poll)
{
    setup_xl(f, poll, 0);
}

static void setup_xl(struct fixture *f, int poll, int xleave)
{
    memset(f, 0, sizeof(*f));
    world_init(&f->w, 1, 31);
    f->w.x_s = AHEAD_S;
    f->w.drop_all[0] = 1; /* the test is the peer */
    f->ops = world_clock_ops(&f->w);
    f->io = (struct engine_io){.ctx = &f->w, .send = world_send, .peer_header = hdr_hook};
    f->w.e = engine_new(NULL, &f->ops, 7, 0);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.kind = ENGINE_SOURCE_PEER;
    sp.minpoll_log2 = poll;
    sp.maxpoll_log2 = poll;
    sp.xleave = xleave;
    world_add_src(&f->w, &sp, 1);
}

/* Runs the engine's timers until it sends; returns the true time (ns) of the send. */
static int64_t next_packet(struct fixture *f, struct ntp_packet *out)
{
    int sent = f->w.sent[0];
    while (f->w.sent[0] == sent) {
        world_advance(&f->w, engine_next_timeout_mono_ns(f->w.e));
        engine_run_timers(f->w.e, f->w.t_ns, &f->io);
    }
    assert_int_equal(ntp_parse(f->w.last_req[0], 48, out, NULL), NTP_OK);
    return f->w.t_ns;
}

/* The peer's packet sent at true time t_ns (mode 1, stratum 2), delivered LINK_NS later. */
static void peer_sends_tx(struct fixture *f, int64_t t_ns, struct ntp_ts64 origin,
                          struct ntp_ts64 receive, struct ntp_ts64 transmit, int poll);

static void peer_sends(struct fixture *f, int64_t t_ns, struct ntp_ts64 origin,
                       struct ntp_ts64 receive, int poll)
{
    peer_sends_tx(f, t_ns, origin, receive, ntp_time_from_ns(WORLD_EPOCH_NS + t_ns), poll);
}

/* The same with a given transmit field (interleaved: the precise time of its previous one). */
static void peer_sends_tx(struct fixture *f, int64_t t_ns, struct ntp_ts64 origin,
                          struct ntp_ts64 receive, struct ntp_ts64 transmit, int poll)
{
    struct ntp_packet p;
    memset(&p, 0, sizeof(p));
    p.version = 4;
    p.mode = NTP_MODE_ACTIVE;
    p.stratum = 2;
    p.poll = (int8_t)poll;
    p.precision = -24;
    p.refid = 0x47505300;
    p.reference = ntp_time_from_ns(WORLD_EPOCH_NS + t_ns - 1000000000LL);
    p.origin = origin;
    p.receive = receive;
    p.transmit = transmit;
    uint8_t buf[48];
    ntp_build(&p, buf, sizeof(buf));
    world_advance(&f->w, t_ns + LINK_NS);
    engine_receive(f->w.e, 0, buf, 48, world_read_ns(&f->w), f->w.t_ns, &f->io);
}

static struct ntp_ts64 true_ts(int64_t t_ns)
{
    return ntp_time_from_ns(WORLD_EPOCH_NS + t_ns);
}

static void report(const struct fixture *f, struct report_source *rs)
{
    assert_int_equal(engine_source_report(f->w.e, 0, f->w.t_ns, rs), 0);
}

static void test_basic_exchange(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 4);
    struct ntp_ts64 zero = {0, 0};
    /* the peer speaks first: no origin yet, so not valid, but our next packet answers it */
    peer_sends(&f, 100000000LL, zero, zero, 4);
    int64_t rx0_local = WORLD_EPOCH_NS + f.w.t_ns + (int64_t)(AHEAD_S * 1e9);
    struct report_source rs;
    report(&f, &rs);
    assert_int_equal(rs.total_valid, 0);
    assert_int_equal(rs.total_rx, 1);

    struct ntp_packet q;
    int64_t tq = next_packet(&f, &q);
    assert_int_equal(q.mode, NTP_MODE_ACTIVE);
    assert_int_equal(q.stratum, 3); /* the hook's header */
    assert_int_equal(q.refid, PEER_REF);
    assert_int_equal(q.precision, -22);
    assert_true(ntp_time_equal(q.origin, true_ts(100000000LL)));
    assert_true(llabs(ntp_time_to_ns(q.receive, rx0_local) - rx0_local) <= 1);
    /* the transmit field is our clock at the send: the peer's T3 */
    int64_t tx_local = WORLD_EPOCH_NS + tq + (int64_t)(AHEAD_S * 1e9);
    assert_true(llabs(ntp_time_to_ns(q.transmit, tx_local) - tx_local) <= 1);

    /* the peer answers on its own schedule, 5 s later: longer than a server's response time
     * limit (test A's 4 s), normal in symmetric mode */
    int64_t t2 = tq + LINK_NS, t3 = t2 + 5000000000LL;
    peer_sends(&f, t3, q.transmit, true_ts(t2), 4);
    report(&f, &rs);
    assert_int_equal(rs.total_valid, 1);
    assert_int_equal(rs.total_good, 1);
    assert_int_equal(rs.test_flags & 0x3ff, 0x3ff);
    assert_int_equal(rs.pkt_mode, 1);
    assert_int_equal(rs.mode, 1);
    assert_int_equal(rs.reach, 1);
    assert_int_equal(rs.pkt_stratum, 2);
    /* theta = -(our offset) to the nanosecond rounding; delay = the two links */
    assert_true(fabs(rs.offset_s + AHEAD_S) < 5e-9);
    assert_true(fabs(rs.peer_delay_s - 2e-9 * (double)LINK_NS) < 5e-9);
    assert_true(fabs(rs.latest_meas_s - AHEAD_S) < 1e-6);

    /* the same origin again (the peer polled before our next packet): test 2 fails, the
     * packet still becomes what our next one answers */
    int64_t t5 = t3 + 8000000000LL;
    peer_sends(&f, t5, q.transmit, true_ts(t2), 4);
    report(&f, &rs);
    assert_int_equal(rs.total_valid, 1);
    assert_int_equal(rs.total_rx, 3);
    assert_int_equal(rs.test_flags & REPORT_TEST_2, 0);
    struct ntp_packet q2;
    next_packet(&f, &q2);
    assert_true(ntp_time_equal(q2.origin, true_ts(t5)));
    /* a replayed packet (same transmit field) is not stored again */
    peer_sends(&f, t5, q2.transmit, true_ts(t5), 4);
    report(&f, &rs);
    assert_int_equal(rs.test_flags & REPORT_TEST_1, 0);
    assert_int_equal(rs.total_valid, 1);
    engine_free(f.w.e);
}

/* Without the hook the engine announces its own reference: unsynchronised at the start. */
static void test_own_header_unsynced(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 4);
    f.io.peer_header = NULL;
    struct ntp_packet q;
    next_packet(&f, &q);
    assert_int_equal(q.mode, NTP_MODE_ACTIVE);
    assert_int_equal(q.leap, NTP_LEAP_UNSYNC);
    assert_int_equal(q.stratum, 0);
    assert_true(ntp_time_is_zero(q.origin));
    assert_true(ntp_time_is_zero(q.receive));
    assert_false(ntp_time_is_zero(q.transmit));
    engine_free(f.w.e);
}

/* The phase rule: after a new packet of the peer our next packet goes at least half an
 * interval after it (then the two alternate and each answers the other's last); one already
 * due later is not moved; a peer polling faster than we do moves nothing. */
static void test_phase_half_interval(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 4);
    struct ntp_packet q;
    int64_t tq = next_packet(&f, &q);
    /* the peer answers 15 s after ours: we were due 1 s later, now 8 s after its packet */
    int64_t tp = tq + 15000000000LL;
    peer_sends(&f, tp, q.transmit, true_ts(tq + LINK_NS), 4);
    struct report_source rs;
    report(&f, &rs);
    assert_int_equal(rs.total_good, 1);
    int64_t t = next_packet(&f, &q);
    assert_int_equal(t, tp + LINK_NS + 8000000000LL);

    /* its next packet 8 s after ours (half an interval): our schedule stays */
    int64_t tp2 = t + 8000000000LL;
    peer_sends(&f, tp2, q.transmit, true_ts(t + LINK_NS), 4);
    int64_t t2 = next_packet(&f, &q);
    assert_true(t2 - t >= 16000000000LL && t2 - t <= 16320000000LL); /* 2^4 s + 0..2 % */

    /* a peer polling at 2^2 s right before our poll: not moved */
    int64_t tp3 = t2 + 15000000000LL;
    peer_sends(&f, tp3, q.transmit, true_ts(t2 + LINK_NS), 2);
    int64_t t3 = next_packet(&f, &q);
    assert_true(t3 - t2 >= 16000000000LL && t3 - t2 <= 16320000000LL);
    engine_free(f.w.e);
}

/* Interleaved symmetric mode (`peer ... xleave`), as chronyd 4.3 with xleave runs it: once
 * the peer's packets name their receive time of ours, our packet carries origin = that
 * receive field and transmit = our previous packet's transmit time; the peer's interleaved
 * answer (origin = our receive field) measures our last packet's trip out and its previous
 * packet's trip back, exact here although its basic transmit fields are read 30 us early. */
static void test_interleaved(void **state)
{
    (void)state;
    struct fixture f;
    setup_xl(&f, 4, 1);
    struct ntp_ts64 zero = {0, 0};
    const int64_t early = 30000; /* the peer's basic transmit field: read this early */
    int64_t tp0 = 100000000LL;
    peer_sends_tx(&f, tp0, zero, zero, true_ts(tp0 - early), 4);
    struct ntp_packet q1;
    int64_t tq1 = next_packet(&f, &q1); /* basic: nothing to interleave yet */
    assert_true(ntp_time_equal(q1.origin, true_ts(tp0 - early)));
    int64_t tx1_local = WORLD_EPOCH_NS + tq1 + (int64_t)(AHEAD_S * 1e9);
    /* the peer answers in basic mode 8 s later */
    int64_t tp1 = tq1 + 8000000000LL;
    peer_sends_tx(&f, tp1, q1.transmit, true_ts(tq1 + LINK_NS), true_ts(tp1 - early), 4);
    int64_t rx1_local = WORLD_EPOCH_NS + f.w.t_ns + (int64_t)(AHEAD_S * 1e9);
    struct report_source rs;
    report(&f, &rs);
    assert_int_equal(rs.total_good, 1);
    assert_int_equal(rs.test_flags & REPORT_FLAG_INTERLEAVED, 0);
    /* basic: off by half the early read */
    assert_true(fabs(rs.offset_s + AHEAD_S + 0.5e-9 * (double)early) < 5e-9);

    struct ntp_packet q2;
    int64_t tq2 = next_packet(&f, &q2);                             /* interleaved now */
    assert_true(ntp_time_equal(q2.origin, true_ts(tq1 + LINK_NS))); /* its receive field */
    assert_true(llabs(ntp_time_to_ns(q2.receive, rx1_local) - rx1_local) <= 1);
    assert_true(llabs(ntp_time_to_ns(q2.transmit, tx1_local) - tx1_local) <= 1);
    /* the peer's interleaved answer: origin = our receive field, receive = when ours came,
     * transmit = the precise time its previous packet left */
    int64_t tp2 = tq2 + 8000000000LL;
    peer_sends_tx(&f, tp2, q2.receive, true_ts(tq2 + LINK_NS), true_ts(tp1), 4);
    report(&f, &rs);
    assert_int_equal(rs.total_valid, 2);
    assert_int_equal(rs.total_good, 2);
    assert_int_equal(rs.test_flags & REPORT_FLAG_INTERLEAVED, REPORT_FLAG_INTERLEAVED);
    assert_int_equal(rs.test_flags & 0x3ff, 0x3ff);
    assert_true(fabs(rs.offset_s + AHEAD_S) < 5e-9);
    assert_true(fabs(rs.peer_delay_s - 2e-9 * (double)LINK_NS) < 5e-9);
    /* the same origin again: stale */
    peer_sends_tx(&f, tp2 + 1000000000LL, q2.receive, true_ts(tq2 + LINK_NS), true_ts(tp2), 4);
    report(&f, &rs);
    assert_int_equal(rs.total_valid, 2);
    assert_int_equal(rs.test_flags & REPORT_TEST_2, 0);
    engine_free(f.w.e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_exchange),
        cmocka_unit_test(test_own_header_unsynced),
        cmocka_unit_test(test_phase_half_interval),
        cmocka_unit_test(test_interleaved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
