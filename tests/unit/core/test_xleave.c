/* core/engine's client side of interleaved mode (`xleave`): the requests it builds, which
 * exchange each response measures, and the fall-backs. A hand-driven server in the test plays
 * chrony's interleaved server (one saved receive/transmit pair per client, as tempusd's) whose
 * basic replies carry a transmit time read 30 us before the datagram really leaves: basic
 * measurements are off by half of that, interleaved ones exact. */
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
#include "core/engine.h"
#include "core/report.h"
#include "engine_world.h"
#include "wire/ntp.h"

#define LINK_NS    50000 /* one way, both ways */
#define READ_NS    10000 /* server: receive to the clock read put in a basic reply */
#define TX_LATE_NS 30000 /* server: that read to the datagram really leaving */

/* The test's server, on true time (its clock is the world's true time). */
struct xsrv {
    int interleaves; /* 0: a basic-only server */
    int have;        /* a saved pair */
    struct ntp_ts64 saved_rx;
    int64_t saved_tx_ns; /* precise transmit time of the reply to the saved request */
};

/* What one exchange gave: the four timestamps as the client should use them. */
struct xchg {
    int64_t t1, t2, t3, t4;
};

static struct ntp_packet last_request(const struct world *w)
{
    struct ntp_packet rq;
    assert_int_equal(ntp_parse(w->last_req[0], 48, &rq, NULL), NTP_OK);
    return rq;
}

/* Advances to the engine's timeouts until it sends a new request; returns the client's clock
 * read at the send (the engine's T1, no kernel stamp here). */
static int64_t next_request(struct world *w, const struct engine_io *io)
{
    int sent = w->sent[0];
    while (w->sent[0] == sent) {
        world_advance(w, engine_next_timeout_mono_ns(w->e));
        engine_run_timers(w->e, w->t_ns, io);
    }
    return world_read_ns(w);
}

/* The server answers the last request (sent at true time t0_ns) as chrony's does; the reply
 * is built into out and *rx_true_ns is when it reaches the client. answered: the server saw
 * the request (0: lost on the way there, nothing changes). */
static void serve(struct xsrv *v, const struct world *w, int64_t t0_ns, uint8_t *out,
                  int64_t *arrive_ns, int *interleaved)
{
    struct ntp_packet rq = last_request(w), rp;
    int64_t rx_ns = WORLD_EPOCH_NS + t0_ns + LINK_NS;
    int64_t read_ns = rx_ns + READ_NS, tx_ns = read_ns + TX_LATE_NS;
    memset(&rp, 0, sizeof(rp));
    rp.version = 4;
    rp.mode = NTP_MODE_SERVER;
    rp.stratum = 1;
    rp.precision = -24;
    rp.refid = 0x47505300;
    rp.receive = ntp_time_from_ns(rx_ns);
    rp.receive.frac |= 1u; /* chrony's marking: receive LSB 1 */
    rp.transmit = ntp_time_from_ns(read_ns);
    rp.transmit.frac &= ~1u;
    *interleaved = v->interleaves && v->have && rq.version == 4 && (rq.origin.frac & 1u) &&
                   !ntp_time_equal(rq.receive, rq.transmit) &&
                   ntp_time_equal(rq.origin, v->saved_rx);
    if (*interleaved) {
        rp.origin = rq.receive;
        rp.transmit = ntp_time_from_ns(v->saved_tx_ns);
    } else {
        rp.origin = rq.transmit;
    }
    v->have = 1;
    v->saved_rx = rp.receive;
    v->saved_tx_ns = tx_ns;
    ntp_build(&rp, out, 48);
    *arrive_ns = tx_ns - WORLD_EPOCH_NS + LINK_NS;
}

struct fixture {
    struct world w;
    struct clock_ops ops;
    struct engine_io io;
    struct xsrv srv;
    int64_t tx_delay_ns; /* a request leaves this long after the engine's clock read (T1) */
};

static void setup(struct fixture *f, int xleave, int interleaves)
{
    memset(f, 0, sizeof(*f));
    world_init(&f->w, 1, 21);
    f->w.drop_all[0] = 1; /* the test answers */
    f->ops = world_clock_ops(&f->w);
    f->io = (struct engine_io){.ctx = &f->w, .send = world_send};
    f->w.e = engine_new(NULL, &f->ops, 9, 0);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.minpoll_log2 = 4;
    sp.maxpoll_log2 = 4;
    sp.xleave = xleave;
    world_add_src(&f->w, &sp, 1);
    f->srv.interleaves = interleaves;
}

/* One poll: the request, the server's reply (unless lost_request/lost_reply), delivered to
 * the engine. *x is the exchange's four timestamps as the server really had them (T3 the
 * precise one). Returns whether the reply was interleaved (-1 when nothing arrived). */
static int poll_once(struct fixture *f, int lost_request, int lost_reply, struct xchg *x)
{
    int64_t t1 = next_request(&f->w, &f->io);
    int64_t t0 = f->w.t_ns + f->tx_delay_ns;
    if (lost_request)
        return -1;
    uint8_t pkt[48];
    int64_t arrive;
    int il;
    serve(&f->srv, &f->w, t0, pkt, &arrive, &il);
    if (lost_reply)
        return -1;
    world_advance(&f->w, arrive);
    int64_t t4 = world_read_ns(&f->w);
    engine_receive(f->w.e, 0, pkt, 48, t4, f->w.t_ns, &f->io);
    if (x) {
        x->t1 = t1;
        x->t2 = WORLD_EPOCH_NS + t0 + LINK_NS;
        x->t3 = x->t2 + READ_NS + TX_LATE_NS;
        x->t4 = t4;
    }
    return il;
}

/* The report's offset and delay are those of exchange x (T3 precise, or the basic read). */
static void assert_measured(const struct fixture *f, const struct xchg *x, int precise_t3)
{
    struct report_source rs;
    engine_source_report(f->w.e, 0, f->w.t_ns, &rs);
    int64_t t3 = precise_t3 ? x->t3 : x->t3 - TX_LATE_NS;
    double theta = ((double)(x->t2 - x->t1) + (double)(t3 - x->t4)) * 0.5e-9;
    double delay = (double)((x->t4 - x->t1) - (t3 - x->t2)) * 1e-9;
    assert_true(fabs(rs.offset_s - theta) < 2e-9);
    assert_true(fabs(rs.peer_delay_s - delay) < 2e-9);
    if (precise_t3) /* the two links exactly, at the client's rate */
        assert_true(fabs(delay - 2 * LINK_NS * 1e-9) < 1e-7);
    else
        assert_true(fabs(delay - (2 * LINK_NS + TX_LATE_NS) * 1e-9) < 1e-7);
}

static void report(const struct fixture *f, struct report_source *rs)
{
    assert_int_equal(engine_source_report(f->w.e, 0, f->w.t_ns, rs), 0);
}

static void test_requests_and_sequence(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 1, 1);
    struct report_source rs;
    struct xchg x1, x2, x3, x5, x7, x8;

    /* 1: nothing to name yet: a basic request and a basic reply, measured as basic. */
    assert_int_equal(poll_once(&f, 0, 0, &x1), 0);
    struct ntp_packet rq = last_request(&f.w);
    assert_true(ntp_time_is_zero(rq.origin) && ntp_time_is_zero(rq.receive));
    report(&f, &rs);
    assert_int_equal(rs.total_valid, 1);
    assert_int_equal(rs.total_good, 1);
    assert_int_equal(rs.test_flags & REPORT_FLAG_INTERLEAVED, 0);
    assert_measured(&f, &x1, 0);
    struct ntp_ts64 rx1 = f.srv.saved_rx;

    /* 2: interleaved request naming reply 1's receive field; the interleaved reply carries
     * exchange 1's precise T3, but exchange 1 was measured (basic) already: valid, reach
     * grows, test A fails, no sample (chronyd 4.3's rule). */
    assert_int_equal(poll_once(&f, 0, 0, &x2), 1);
    rq = last_request(&f.w);
    assert_int_equal(rq.version, 4);
    assert_true(ntp_time_equal(rq.origin, rx1));
    assert_false(ntp_time_is_zero(rq.receive));
    assert_false(ntp_time_equal(rq.receive, rq.transmit));
    report(&f, &rs);
    assert_int_equal(rs.total_valid, 2);
    assert_int_equal(rs.total_good, 1);
    assert_int_equal(rs.reach, 3);
    assert_int_not_equal(rs.test_flags & REPORT_FLAG_INTERLEAVED, 0);
    assert_int_equal(rs.test_flags & REPORT_TEST_A, 0);

    /* 3: exchange 2 measured with its precise T3: exact offset, the two links as delay. */
    assert_int_equal(poll_once(&f, 0, 0, &x3), 1);
    report(&f, &rs);
    assert_int_equal(rs.total_good, 2);
    assert_int_not_equal(rs.test_flags & REPORT_TEST_A, 0);
    assert_int_not_equal(rs.test_flags & REPORT_FLAG_INTERLEAVED, 0);
    assert_measured(&f, &x2, 1);

    /* 4 lost before the server; 5 still names reply 3's receive, which the server holds:
     * exchange 3 is measured. */
    assert_int_equal(poll_once(&f, 1, 0, NULL), -1);
    assert_int_equal(poll_once(&f, 0, 0, &x5), 1);
    report(&f, &rs);
    assert_int_equal(rs.total_good, 3);
    assert_measured(&f, &x3, 1);
    assert_int_equal(rs.reach & 0x7u, 0x5u);

    /* 6 reaches the server (its pair moves on) but the reply is lost; 7 names reply 5's
     * receive, which the server no longer holds: a basic reply, measured as basic. */
    assert_int_equal(poll_once(&f, 0, 1, NULL), -1);
    assert_int_equal(poll_once(&f, 0, 0, &x7), 0);
    rq = last_request(&f.w);
    assert_false(ntp_time_is_zero(rq.origin)); /* 7 was sent interleaved */
    report(&f, &rs);
    assert_int_equal(rs.total_good, 4);
    assert_int_equal(rs.test_flags & REPORT_FLAG_INTERLEAVED, 0);
    assert_measured(&f, &x7, 0);
    (void)x5;

    /* 8: first interleaved after a basic one: no sample; 9: exchange 8, exact. */
    assert_int_equal(poll_once(&f, 0, 0, &x8), 1);
    report(&f, &rs);
    assert_int_equal(rs.total_good, 4);
    assert_int_equal(poll_once(&f, 0, 0, NULL), 1);
    report(&f, &rs);
    assert_int_equal(rs.total_good, 5);
    assert_measured(&f, &x8, 1);
    assert_int_equal(rs.total_tx, 9);
    engine_free(f.w.e);
}

/* A kernel TX stamp of an xleave request that comes after the reply (the executor held the
 * reply for 1 ms and gave up) is T1 of the exchange the next interleaved reply measures. */
static void test_late_kernel_tx_stamp(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 1, 1);
    f.tx_delay_ns = 20000; /* the datagram leaves 20 us after the clock read */
    struct report_source rs;
    struct xchg x2, x3, x4;
    assert_int_equal(poll_once(&f, 0, 0, NULL), 0);
    assert_int_equal(poll_once(&f, 0, 0, &x2), 1); /* first interleaved: no sample */
    uint8_t cookie[8];
    memcpy(cookie, f.w.last_req[0] + NTP_OFF_TRANSMIT, 8);
    uint8_t other[8];
    memcpy(other, cookie, 8);
    other[7] ^= 1;
    int64_t stamp = x2.t1 + f.tx_delay_ns;
    /* another request's stamp, or one far from the clock read: refused */
    assert_int_equal(engine_tx_timestamp(f.w.e, 0, other, stamp), -ESTALE);
    assert_int_equal(engine_tx_timestamp(f.w.e, 0, cookie, x2.t1 + ENGINE_TX_TS_LATE_NS + 1),
                     -ERANGE);
    assert_int_equal(engine_tx_timestamp(f.w.e, 0, cookie, stamp), 0);
    assert_int_equal(engine_tx_timestamp(f.w.e, 0, cookie, stamp), -ESTALE); /* once */
    report(&f, &rs);
    assert_int_equal(rs.total_kernel_tx, 1);

    /* 3 measures exchange 2 from the late stamp: exact, the two links as delay, 'K' */
    assert_int_equal(poll_once(&f, 0, 0, &x3), 1);
    x2.t1 = stamp;
    assert_measured(&f, &x2, 1);
    report(&f, &rs);
    assert_int_equal(rs.tx_tss_char, 'K');

    /* exchange 3's stamp never came: 4 measures it from the clock read, 20 us more delay */
    assert_int_equal(poll_once(&f, 0, 0, &x4), 1);
    report(&f, &rs);
    assert_int_equal(rs.tx_tss_char, 'D');
    double delay = (double)((x3.t4 - x3.t1) - (x3.t3 - x3.t2)) * 1e-9;
    assert_true(fabs(rs.peer_delay_s - delay) < 2e-9);
    assert_true(fabs(delay - (2 * LINK_NS + 20000) * 1e-9) < 1e-7);
    assert_int_equal(rs.total_kernel_tx, 1);
    (void)x4;
    engine_free(f.w.e);
}

/* Without xleave (and before any reply) a stamp after the reply is refused: a basic reply's
 * sample is never rewritten. */
static void test_late_stamp_basic_refused(void **state)
{
    (void)state;
    for (int xl = 0; xl <= 1; xl++) {
        struct fixture f;
        setup(&f, xl, 0);
        struct xchg x;
        assert_int_equal(poll_once(&f, 0, 0, &x), 0);
        if (xl)
            assert_int_equal(poll_once(&f, 0, 0, &x), 0);
        uint8_t cookie[8];
        memcpy(cookie, f.w.last_req[0] + NTP_OFF_TRANSMIT, 8);
        struct report_source before, after;
        report(&f, &before);
        int r = engine_tx_timestamp(f.w.e, 0, cookie, x.t1 + 20000);
        report(&f, &after);
        /* xleave to a basic-only server: taken for an exchange no reply will measure */
        assert_int_equal(r, xl ? 0 : -ESTALE);
        assert_true(before.offset_s == after.offset_s);
        assert_true(before.peer_delay_s == after.peer_delay_s);
        assert_int_equal(after.tx_tss_char, 'D');
        engine_free(f.w.e);
    }
}

/* chronyd 4.3's interleaved requests (captured on loopback, chronyd -x xleave client of
 * chronyd -x, replies and a request dropped): origin = the last valid reply's receive field,
 * receive = 64 fresh random bits in every request, also after lost replies; transmit random. */
static void test_request_fields_as_chronyd(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 1, 1);
    struct ntp_ts64 seen_rx[8], seen_tx[8];
    assert_int_equal(poll_once(&f, 0, 0, NULL), 0);
    struct ntp_ts64 named = f.srv.saved_rx;
    static const int lost_reply[8] = {0, 0, 1, 1, 0, 0, 0, 0};
    for (int i = 0; i < 8; i++) {
        int il = poll_once(&f, 0, lost_reply[i], NULL);
        struct ntp_packet rq = last_request(&f.w);
        assert_int_equal(rq.version, 4);
        assert_true(ntp_time_equal(rq.origin, named));
        assert_false(ntp_time_is_zero(rq.receive));
        assert_false(ntp_time_equal(rq.receive, rq.transmit));
        seen_rx[i] = rq.receive;
        seen_tx[i] = rq.transmit;
        for (int k = 0; k < i; k++) {
            assert_false(ntp_time_equal(seen_rx[k], rq.receive));
            assert_false(ntp_time_equal(seen_tx[k], rq.transmit));
        }
        if (!lost_reply[i]) {
            assert_int_not_equal(il, -1);
            named = f.srv.saved_rx;
        }
    }
    engine_free(f.w.e);
}

static void test_basic_after_missed(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 1, 1);
    assert_int_equal(poll_once(&f, 0, 0, NULL), 0);
    /* four unanswered requests are still sent interleaved, naming the last reply */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(poll_once(&f, 1, 0, NULL), -1);
        struct ntp_packet rq = last_request(&f.w);
        assert_false(ntp_time_is_zero(rq.origin));
    }
    /* then basic requests until one is answered */
    assert_int_equal(poll_once(&f, 1, 0, NULL), -1);
    struct ntp_packet rq = last_request(&f.w);
    assert_true(ntp_time_is_zero(rq.origin) && ntp_time_is_zero(rq.receive));
    struct xchg x;
    assert_int_equal(poll_once(&f, 0, 0, &x), 0);
    assert_measured(&f, &x, 0);
    /* answered: interleaved again */
    assert_int_equal(poll_once(&f, 0, 0, NULL), 1);
    engine_free(f.w.e);
}

/* A server that answers only in basic mode: every reply is a sample, none interleaved. */
static void test_basic_only_server(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 1, 0);
    struct report_source rs;
    for (int i = 1; i <= 5; i++) {
        struct xchg x;
        assert_int_equal(poll_once(&f, 0, 0, &x), 0);
        if (i > 1) {
            struct ntp_packet rq = last_request(&f.w);
            assert_false(ntp_time_is_zero(rq.origin)); /* still asking */
        }
        report(&f, &rs);
        assert_int_equal(rs.total_good, (uint32_t)i);
        assert_int_equal(rs.test_flags & REPORT_FLAG_INTERLEAVED, 0);
        assert_measured(&f, &x, 0);
    }
    engine_free(f.w.e);
}

/* Without xleave nothing changes: basic requests to an interleaving server. */
static void test_off_sends_basic(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 0, 1);
    struct report_source rs;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(poll_once(&f, 0, 0, NULL), 0);
        struct ntp_packet rq = last_request(&f.w);
        assert_true(ntp_time_is_zero(rq.origin) && ntp_time_is_zero(rq.receive));
    }
    report(&f, &rs);
    assert_int_equal(rs.total_good, 3);
    engine_free(f.w.e);
}

/* Test 2 in interleaved mode: only the receive field of the outstanding request counts. */
static void test_bogus_interleaved_origin(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 1, 1);
    struct report_source rs;
    assert_int_equal(poll_once(&f, 0, 0, NULL), 0);
    assert_int_equal(poll_once(&f, 0, 0, NULL), 1);
    struct ntp_packet old = last_request(&f.w); /* its receive field is spent */
    (void)next_request(&f.w, &f.io);
    struct ntp_packet rq = last_request(&f.w);
    uint8_t pkt[48];
    struct ntp_packet rp;
    memset(&rp, 0, sizeof(rp));
    rp.version = 4;
    rp.mode = NTP_MODE_SERVER;
    rp.stratum = 1;
    rp.precision = -24;
    rp.receive = ntp_time_from_ns(world_read_ns(&f.w));
    rp.transmit = ntp_time_from_ns(world_read_ns(&f.w) + 1000);
    rp.origin = old.receive; /* a replay of the previous exchange */
    ntp_build(&rp, pkt, 48);
    engine_receive(f.w.e, 0, pkt, 48, world_read_ns(&f.w), f.w.t_ns, &f.io);
    report(&f, &rs);
    assert_int_equal(rs.total_valid, 2);
    assert_int_equal(rs.test_flags & REPORT_TEST_2, 0);
    rp.origin = rq.receive; /* the right one */
    ntp_build(&rp, pkt, 48);
    engine_receive(f.w.e, 0, pkt, 48, world_read_ns(&f.w), f.w.t_ns, &f.io);
    report(&f, &rs);
    assert_int_equal(rs.total_valid, 3);
    assert_int_not_equal(rs.test_flags & REPORT_FLAG_INTERLEAVED, 0);
    engine_free(f.w.e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_and_sequence),
        cmocka_unit_test(test_basic_after_missed),
        cmocka_unit_test(test_basic_only_server),
        cmocka_unit_test(test_off_sends_basic),
        cmocka_unit_test(test_bogus_interleaved_origin),
        cmocka_unit_test(test_late_kernel_tx_stamp),
        cmocka_unit_test(test_late_stamp_basic_refused),
        cmocka_unit_test(test_request_fields_as_chronyd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
