/* core/server: replies against the request and the snapshot (and against a captured chrony
 * reply), unsynchronised answers, the reply-length rule, what is dropped and counted, rate
 * limiting and KoD, interleaved mode, and the late clock read. */
#include <inttypes.h>
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
#include "base/prng.h"
#include "core/clientlog.h"
#include "core/keys.h"
#include "core/server.h"
#include "wire/ntp.h"

#define NS  1000000000LL
#define T0  (1795626870LL * NS)
#define EPS 16 /* 2^-26 s = 64 fraction units: fuzz allowance in fraction units, +-.. */

struct fake_clock {
    int64_t now;
    int reads;
};

static int64_t fake_read(void *ctx)
{
    struct fake_clock *c = ctx;
    c->reads++;
    return c->now;
}

static struct clock_ops make_clock(struct fake_clock *fc)
{
    struct clock_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.ctx = fc;
    ops.read_real_ns = fake_read;
    return ops;
}

static struct addr client_addr(uint16_t port)
{
    struct addr a;
    memset(&a, 0, sizeof a);
    a.family = ADDR_INET4;
    a.bytes[0] = 127;
    a.bytes[3] = 1;
    a.port = port;
    return a;
}

static void synced_ref(struct server_ref *r)
{
    memset(r, 0, sizeof *r);
    r->synced = 1;
    r->leap = NTP_LEAP_NONE;
    r->stratum = 3;
    r->refid = 0xC0000201u;
    r->ref_time_ns = T0 - 30 * NS;
    r->root_delay = 0x00000123u;
    r->root_disp_ns = 1000000; /* 1 ms */
    r->disp_rate_ppb = 15000;  /* 15 ppm */
}

static void request(uint8_t *buf, unsigned version, unsigned mode, int8_t poll, uint64_t tx)
{
    struct ntp_packet p;
    memset(&p, 0, sizeof p);
    p.version = (uint8_t)version;
    p.mode = (uint8_t)mode;
    p.poll = poll;
    p.precision = 32;
    p.transmit = ntp_time_ts_from_u64(tx);
    ntp_header_encode(&p, buf);
}

/* |a - b| in fraction units, within the same era. */
static int64_t ts_dist(struct ntp_ts64 a, struct ntp_ts64 b)
{
    int64_t d = (int64_t)(ntp_time_ts_to_u64(a) - ntp_time_ts_to_u64(b));
    return d < 0 ? -d : d;
}

static enum server_verdict answer(struct server *s, const struct server_ref *ref,
                                  struct clientlog *cl, const uint8_t *pkt, size_t len,
                                  const struct addr *from, int64_t rx_ns, struct fake_clock *fc,
                                  uint8_t *out, size_t *out_len)
{
    struct server_rx rx = {pkt, len, from, rx_ns, 0};
    struct clock_ops ops = make_clock(fc);
    return server_respond(s, ref, cl, &rx, &ops, out, 128, out_len);
}

static void test_reply_fields(void **state)
{
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0 + 50000, 0};
    struct addr from = client_addr(40000);
    uint8_t req[48], out[128];
    size_t out_len;
    struct ntp_packet q, r;
    (void)state;
    server_params_default(&sp);
    sp.precision_log2 = -26;
    server_init(&s, &sp, 1);
    synced_ref(&ref);
    request(req, 4, NTP_MODE_CLIENT, 6, 0x0123456789ABCDEFULL);
    assert_int_equal(answer(&s, &ref, NULL, req, 48, &from, T0, &fc, out, &out_len), SERVER_REPLY);
    assert_int_equal(out_len, 48);
    assert_int_equal(fc.reads, 1);
    assert_int_equal(ntp_parse(out, out_len, &r, NULL), NTP_OK);
    ntp_header_decode(req, &q);
    assert_int_equal(r.leap, NTP_LEAP_NONE);
    assert_int_equal(r.version, 4);
    assert_int_equal(r.mode, NTP_MODE_SERVER);
    assert_int_equal(r.stratum, 3);
    assert_int_equal(r.poll, 6);
    assert_int_equal(r.precision, -26);
    assert_int_equal(r.refid, 0xC0000201u);
    assert_int_equal(r.root_delay, 0x123u);
    /* 1 ms + 30 s * 15 ppm = 1.45 ms -> ceil(0.00145 * 65536) = 96 */
    assert_int_equal(r.root_dispersion, 96);
    assert_true(ntp_time_equal(r.reference, ntp_time_from_ns(T0 - 30 * NS)));
    assert_true(ntp_time_equal(r.origin, q.transmit));
    assert_true(ts_dist(r.receive, ntp_time_from_ns(T0)) < 64);
    assert_true(ts_dist(r.transmit, ntp_time_from_ns(T0 + 50000)) < 64);
    assert_int_equal(r.receive.frac & 1, 1);
    assert_int_equal(r.transmit.frac & 1, 0);
    assert_int_equal(s.counts[SERVER_REPLY], 1);

    /* Leap announcements and other versions are echoed. */
    ref.leap = NTP_LEAP_INSERT;
    request(req, 3, NTP_MODE_CLIENT, -3, 1);
    assert_int_equal(answer(&s, &ref, NULL, req, 48, &from, T0, &fc, out, &out_len), SERVER_REPLY);
    ntp_header_decode(out, &r);
    assert_int_equal(r.leap, NTP_LEAP_INSERT);
    assert_int_equal(r.version, 3);
    assert_int_equal(r.poll, -3); /* no rate limiting: the request's poll */
    assert_int_equal(out[0], 0x5C);

    /* A published stratum of 16 or more goes out as 0. */
    ref.stratum = 16;
    assert_int_equal(answer(&s, &ref, NULL, req, 48, &from, T0, &fc, out, &out_len), SERVER_REPLY);
    assert_int_equal(out[1], 0);
    ref.stratum = 3;

    /* Root dispersion grows with |now - ref time| and saturates. */
    assert_int_equal(server_root_dispersion(&ref, ref.ref_time_ns), 66); /* ceil(65.536) */
    assert_int_equal(server_root_dispersion(&ref, ref.ref_time_ns - 30 * NS), 96);
    ref.disp_rate_ppb = 0; /* already grown by the publisher: no growth here */
    assert_int_equal(server_root_dispersion(&ref, ref.ref_time_ns + 1000 * NS), 66);
    ref.disp_rate_ppb = 0xFFFFFFFFu;
    assert_int_equal(server_root_dispersion(&ref, ref.ref_time_ns + 1000000 * NS), 0xFFFFFFFFu);
}

static void test_unsynchronised(void **state)
{
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0 + 1000, 0};
    struct addr from = client_addr(40000);
    uint8_t req[48], out[128];
    size_t out_len;
    struct ntp_packet r;
    (void)state;
    server_params_default(&sp);
    server_init(&s, &sp, 2);
    synced_ref(&ref);
    ref.synced = 0; /* whatever the other fields say */
    request(req, 4, NTP_MODE_CLIENT, 4, 77);
    assert_int_equal(answer(&s, &ref, NULL, req, 48, &from, T0, &fc, out, &out_len), SERVER_REPLY);
    ntp_header_decode(out, &r);
    assert_int_equal(out[0], 0xE4); /* LI 3, v4, mode 4 */
    assert_int_equal(r.stratum, 0);
    assert_int_equal(r.refid, 0);
    assert_int_equal(r.root_delay, 0x10000u);
    assert_int_equal(r.root_dispersion, 0x10000u);
    assert_true(ntp_time_is_zero(r.reference));
    assert_int_equal(r.origin.frac, 77);
    assert_false(ntp_time_is_zero(r.receive));
    assert_false(ntp_time_is_zero(r.transmit));
}

/* Answer the captured chrony request as chrony's server A did (local stratum 10, precision
 * -26, the same reference, RX and TX times): the same bytes, but for the random bits below
 * the precision. */
static void test_matches_captured_reply(void **state)
{
    static const char req_hex[] =
        "23000020000000000000000000000000000000000000000000000000000000000000000000000000007c01"
        "1ddca11066";
    static const char rep_hex[] =
        "240a00e600000000000000007f7f0101eeb195f4850b7a6d007c011ddca11066eeb195f671804d03eeb1"
        "95f671962af4";
    uint8_t req[48], rep[48], out[128];
    struct ntp_packet want, got;
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc;
    struct addr from = client_addr(46798);
    size_t out_len;
    int64_t pivot = T0;
    (void)state;
    for (int i = 0; i < 48; i++) {
        unsigned v;
        sscanf(req_hex + 2 * i, "%2x", &v);
        req[i] = (uint8_t)v;
        sscanf(rep_hex + 2 * i, "%2x", &v);
        rep[i] = (uint8_t)v;
    }
    ntp_header_decode(rep, &want);
    server_params_default(&sp);
    sp.precision_log2 = -26;
    server_init(&s, &sp, 3);
    memset(&ref, 0, sizeof ref);
    ref.synced = 1;
    ref.stratum = 10;
    ref.refid = NTP_REFID_LOCAL;
    ref.ref_time_ns = ntp_time_to_ns(want.reference, pivot);
    fc.now = ntp_time_to_ns(want.transmit, pivot);
    fc.reads = 0;
    assert_int_equal(answer(&s, &ref, NULL, req, 48, &from, ntp_time_to_ns(want.receive, pivot),
                            &fc, out, &out_len),
                     SERVER_REPLY);
    assert_int_equal(out_len, 48);
    /* Header up to and including the origin: byte-exact but the reference's sub-ns bits. */
    assert_memory_equal(out, rep, 16);
    assert_memory_equal(out + 24, rep + 24, 8);
    ntp_header_decode(out, &got);
    assert_true(ts_dist(got.reference, want.reference) <= 2);
    assert_true(ts_dist(got.receive, want.receive) < 64);
    assert_true(ts_dist(got.transmit, want.transmit) < 64);
}

static void test_length_rule_and_extensions(void **state)
{
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0, 0};
    struct addr from = client_addr(40000);
    uint8_t req[128], out[128];
    size_t len, out_len;
    (void)state;
    server_params_default(&sp);
    server_init(&s, &sp, 4);
    synced_ref(&ref);
    /* Unknown extension fields are ignored, not echoed. */
    request(req, 4, NTP_MODE_CLIENT, 6, 5);
    len = ntp_append_ef(req, sizeof req, 48, 0x7777, "hello", 5, 0);
    len = ntp_append_ef(req, sizeof req, len, 0x8888, NULL, 0, NTP_EF_MIN_LAST_LEN);
    assert_int_equal(len, 48 + 16 + 28);
    assert_int_equal(answer(&s, &ref, NULL, req, len, &from, T0, &fc, out, &out_len), SERVER_REPLY);
    assert_int_equal(out_len, 48);
    /* NTS requests are dropped: we have no NTS keys. */
    request(req, 4, NTP_MODE_CLIENT, 6, 5);
    len = ntp_append_ef(req, sizeof req, 48, NTP_EF_NTS_UNIQUE_ID, "0123456789abcdef", 16, 0);
    len = ntp_append_ef(req, sizeof req, len, NTP_EF_NTS_AUTH, NULL, 0, NTP_EF_MIN_LAST_LEN);
    assert_int_equal(answer(&s, &ref, NULL, req, len, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_NTS);
    assert_int_equal(out_len, 0);
    /* A MAC and no keys: dropped (chronyd 4.3 drops it too; RFC 5905 would send a
     * crypto-NAK). */
    request(req, 4, NTP_MODE_CLIENT, 6, 6);
    memset(req + 48, 0x5A, 20);
    assert_int_equal(answer(&s, &ref, NULL, req, 68, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_AUTH);
    assert_int_equal(out_len, 0);
    /* A plain 48-octet request gets 48. In all cases: reply <= request. */
    request(req, 4, NTP_MODE_CLIENT, 6, 7);
    assert_int_equal(answer(&s, &ref, NULL, req, 48, &from, T0, &fc, out, &out_len), SERVER_REPLY);
    assert_int_equal(out_len, 48);
    /* The caller's buffer must hold 52. */
    {
        struct server_rx rx = {req, 48, &from, T0, 0};
        assert_int_equal(server_respond(&s, &ref, NULL, &rx, NULL, out, 51, &out_len),
                         SERVER_DROP_NO_SPACE);
        assert_int_equal(out_len, 0);
        /* No clock: transmit = receive time. */
        assert_int_equal(server_respond(&s, &ref, NULL, &rx, NULL, out, 52, &out_len),
                         SERVER_REPLY);
    }
}

static void test_drops(void **state)
{
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0, 0};
    struct addr from = client_addr(40000), from123 = client_addr(123);
    uint8_t req[64], out[128];
    size_t out_len;
    struct ntp_packet r;
    (void)state;
    server_params_default(&sp);
    server_init(&s, &sp, 5);
    synced_ref(&ref);

    /* Modes we never answer. */
    for (unsigned mode = 0; mode < 8; mode++) {
        if (mode == NTP_MODE_CLIENT)
            continue;
        request(req, 4, mode, 6, 9);
        assert_int_equal(answer(&s, &ref, NULL, req, 48, &from, T0, &fc, out, &out_len),
                         SERVER_DROP_MODE);
        assert_int_equal(out_len, 0);
    }
    /* Versions 0 and 5..7. */
    for (unsigned v = 0; v < 8; v++) {
        if (v >= 1 && v <= 4)
            continue;
        request(req, v, NTP_MODE_CLIENT, 6, 9);
        assert_int_equal(answer(&s, &ref, NULL, req, 48, &from, T0, &fc, out, &out_len),
                         SERVER_DROP_VERSION);
    }
    /* Short, unaligned, bad extension field. */
    request(req, 4, NTP_MODE_CLIENT, 6, 9);
    assert_int_equal(answer(&s, &ref, NULL, req, 47, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_MALFORMED);
    assert_int_equal(answer(&s, &ref, NULL, req, 50, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_MALFORMED);
    memset(req + 48, 0, 16);
    req[51] = 12;
    assert_int_equal(answer(&s, &ref, NULL, req, 64, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_MALFORMED);
    assert_int_equal(fc.reads, 0); /* drops never read the clock */
    assert_int_equal(s.counts[SERVER_DROP_MODE], 7);
    assert_int_equal(s.counts[SERVER_DROP_VERSION], 4);
    assert_int_equal(s.counts[SERVER_DROP_MALFORMED], 3);
    assert_int_equal(s.counts[SERVER_REPLY], 0);

    /* Mode 1 from a configured peer gets mode 2. */
    {
        struct server_rx rx = {req, 48, &from123, T0, 1};
        struct clock_ops ops = make_clock(&fc);
        request(req, 4, NTP_MODE_ACTIVE, 6, 9);
        assert_int_equal(server_respond(&s, &ref, NULL, &rx, &ops, out, sizeof out, &out_len),
                         SERVER_REPLY);
        ntp_header_decode(out, &r);
        assert_int_equal(r.mode, NTP_MODE_PASSIVE);
        /* From anyone when configured so (chrony's behaviour). */
        rx.from_peer = 0;
        assert_int_equal(server_respond(&s, &ref, NULL, &rx, &ops, out, sizeof out, &out_len),
                         SERVER_DROP_MODE);
        s.params.answer_unknown_active = 1;
        assert_int_equal(server_respond(&s, &ref, NULL, &rx, &ops, out, sizeof out, &out_len),
                         SERVER_REPLY);
    }
    /* NTPv1 mode 0 from a port other than 123 is a client; from 123 it is not. */
    request(req, 1, NTP_MODE_RESERVED, 6, 9);
    assert_int_equal(answer(&s, &ref, NULL, req, 48, &from, T0, &fc, out, &out_len), SERVER_REPLY);
    ntp_header_decode(out, &r);
    assert_int_equal(r.mode, NTP_MODE_SERVER);
    assert_int_equal(r.version, 1);
    assert_int_equal(answer(&s, &ref, NULL, req, 48, &from123, T0, &fc, out, &out_len),
                     SERVER_DROP_MODE);
    request(req, 2, NTP_MODE_RESERVED, 6, 9);
    assert_int_equal(answer(&s, &ref, NULL, req, 48, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_MODE);

    assert_string_equal(server_verdict_name(SERVER_REPLY), "reply");
    assert_string_equal(server_verdict_name(SERVER_DROP_RATELIMIT), "rate limited");
    assert_string_equal(server_verdict_name(SERVER_VERDICT_COUNT), "?");
    assert_true(server_verdict_sends(SERVER_REPLY_KOD));
    assert_false(server_verdict_sends(SERVER_DROP_MODE));
}

static struct clientlog *limited_log(int kod_log2)
{
    struct clientlog_params p;
    struct clientlog *cl;
    clientlog_params_default(&p);
    clientlog_ratelimit_default(&p.limit[CLIENTLOG_NTP]); /* interval 3 burst 8 leak 2 */
    p.limit[CLIENTLOG_NTP].kod_log2 = kod_log2;
    p.seed = 99;
    cl = clientlog_new(&p);
    assert_non_null(cl);
    return cl;
}

static void test_rate_limiting(void **state)
{
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0, 0};
    struct addr from = client_addr(40000);
    struct clientlog *cl = limited_log(-1);
    struct clientlog_stats st;
    uint8_t req[48], out[128];
    size_t out_len;
    struct ntp_packet r;
    int replies = 0, drops = 0;
    (void)state;
    server_params_default(&sp);
    server_init(&s, &sp, 6);
    synced_ref(&ref);
    /* The poll field announces the limit. */
    request(req, 4, NTP_MODE_CLIENT, 0, 1);
    assert_int_equal(answer(&s, &ref, cl, req, 48, &from, T0, &fc, out, &out_len), SERVER_REPLY);
    ntp_header_decode(out, &r);
    assert_int_equal(r.poll, 3);
    request(req, 4, NTP_MODE_CLIENT, 10, 2);
    assert_int_equal(answer(&s, &ref, cl, req, 48, &from, T0, &fc, out, &out_len), SERVER_REPLY);
    ntp_header_decode(out, &r);
    assert_int_equal(r.poll, 10);
    /* A burst of 100: 8 answered in all (2 above), then about 1 in 4. */
    for (int i = 0; i < 98; i++) {
        enum server_verdict v;
        request(req, 4, NTP_MODE_CLIENT, 0, 100 + (uint64_t)i);
        v = answer(&s, &ref, cl, req, 48, &from, T0 + i, &fc, out, &out_len);
        assert_true(v == SERVER_REPLY || v == SERVER_DROP_RATELIMIT);
        replies += v == SERVER_REPLY;
        drops += v == SERVER_DROP_RATELIMIT;
        if (v == SERVER_DROP_RATELIMIT)
            assert_int_equal(out_len, 0);
        if (i < 6)
            assert_int_equal(v, SERVER_REPLY);
    }
    assert_true(drops > 50 && drops < 85);
    clientlog_get_stats(cl, &st);
    assert_int_equal(st.ntp_hits, 100);
    assert_int_equal(st.ntp_drops, (uint64_t)drops);
    assert_int_equal(s.counts[SERVER_DROP_RATELIMIT], (uint64_t)drops);
    assert_int_equal(s.counts[SERVER_REPLY], (uint64_t)replies + 2);
    /* Another client is served. */
    {
        struct addr other = client_addr(40001);
        other.bytes[3] = 2;
        assert_int_equal(answer(&s, &ref, cl, req, 48, &other, T0 + 100, &fc, out, &out_len),
                         SERVER_REPLY);
    }
    clientlog_free(cl);

    /* With kod 0 every non-leaked drop becomes a RATE KoD that passes the origin check. */
    cl = limited_log(0);
    server_init(&s, &sp, 7);
    for (int i = 0; i < 8; i++) {
        request(req, 4, NTP_MODE_CLIENT, 0, 1);
        assert_int_equal(answer(&s, &ref, cl, req, 48, &from, T0, &fc, out, &out_len),
                         SERVER_REPLY);
    }
    {
        int kods = 0;
        for (int i = 0; i < 50; i++) {
            enum server_verdict v;
            request(req, 4, NTP_MODE_CLIENT, 0, 0xABCDEF00ULL + (uint64_t)i);
            v = answer(&s, &ref, cl, req, 48, &from, T0 + 1, &fc, out, &out_len);
            if (v != SERVER_REPLY_KOD)
                continue;
            kods++;
            assert_int_equal(out_len, 48);
            assert_int_equal(ntp_parse(out, out_len, &r, NULL), NTP_OK);
            assert_true(ntp_is_kod(&r));
            assert_int_equal(r.leap, NTP_LEAP_UNSYNC);
            assert_int_equal(r.refid, NTP_KISS_RATE);
            assert_int_equal(r.poll, 3);
            assert_int_equal(ntp_time_ts_to_u64(r.origin), 0xABCDEF00ULL + (uint64_t)i);
        }
        assert_true(kods > 25);
    }
    clientlog_free(cl);
}

static void test_interleaved(void **state)
{
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0 + 100000, 0};
    struct addr from = client_addr(40000);
    struct clientlog_params cp;
    struct clientlog *cl;
    struct clientlog_stats st;
    uint8_t req[48], out[128], reply1[48];
    size_t out_len;
    struct ntp_packet r1, r2, q;
    int64_t kernel_tx = T0 + 90000; /* the precise TX time of reply 1 */
    (void)state;
    clientlog_params_default(&cp);
    cl = clientlog_new(&cp);
    server_params_default(&sp);
    sp.precision_log2 = -30;
    server_init(&s, &sp, 8);
    synced_ref(&ref);

    /* 1: basic request. */
    request(req, 4, NTP_MODE_CLIENT, 6, 0x1111111111111111ULL);
    assert_int_equal(answer(&s, &ref, cl, req, 48, &from, T0, &fc, out, &out_len), SERVER_REPLY);
    memcpy(reply1, out, 48);
    ntp_header_decode(reply1, &r1);
    server_tx_timestamp(cl, &from, reply1, 48, kernel_tx);

    /* 2: interleaved request: origin = our RX of 1, receive = client's RX of reply 1. */
    memset(&q, 0, sizeof q);
    q.version = 4;
    q.mode = NTP_MODE_CLIENT;
    q.poll = 6;
    q.origin = r1.receive;
    q.receive = ntp_time_ts_from_u64(0x2222222222222222ULL);
    q.transmit = ntp_time_ts_from_u64(0x3333333333333333ULL);
    ntp_header_encode(&q, req);
    fc.now = T0 + 16 * NS + 100000;
    assert_int_equal(answer(&s, &ref, cl, req, 48, &from, T0 + 16 * NS, &fc, out, &out_len),
                     SERVER_REPLY_INTERLEAVED);
    ntp_header_decode(out, &r2);
    assert_true(ntp_time_equal(r2.origin, q.receive));
    assert_true(ts_dist(r2.receive, ntp_time_from_ns(T0 + 16 * NS)) < 4);
    assert_true(ts_dist(r2.transmit, ntp_time_from_ns(kernel_tx)) < 4); /* reply 1's TX */
    clientlog_get_stats(cl, &st);
    assert_int_equal(st.ntp_interleaved_hits, 1);
    assert_int_equal(st.ntp_timestamps, 1);

    /* 3: an origin we no longer hold (the reply was lost and a new one sent): basic. */
    q.origin = r1.receive; /* reply 2's RX is the one held now */
    q.transmit = ntp_time_ts_from_u64(0x4444444444444444ULL);
    ntp_header_encode(&q, req);
    assert_int_equal(answer(&s, &ref, cl, req, 48, &from, T0 + 32 * NS, &fc, out, &out_len),
                     SERVER_REPLY);
    ntp_header_decode(out, &r2);
    assert_true(ntp_time_equal(r2.origin, q.transmit));

    /* 4: receive == transmit (a basic client that copies), or v3: basic. */
    q.origin = r2.receive;
    q.receive = q.transmit;
    ntp_header_encode(&q, req);
    assert_int_equal(answer(&s, &ref, cl, req, 48, &from, T0 + 48 * NS, &fc, out, &out_len),
                     SERVER_REPLY);
    /* 5: interleaving off: basic. */
    ntp_header_decode(out, &r2);
    q.origin = r2.receive;
    q.receive = ntp_time_ts_from_u64(0x5555555555555555ULL);
    ntp_header_encode(&q, req);
    s.params.interleaved = 0;
    assert_int_equal(answer(&s, &ref, cl, req, 48, &from, T0 + 64 * NS, &fc, out, &out_len),
                     SERVER_REPLY);
    clientlog_free(cl);
}

static void test_fuzz_bits(void **state)
{
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0, 0};
    struct addr from = client_addr(40000);
    uint8_t req[48], out[128];
    size_t out_len;
    struct ntp_packet r;
    uint32_t seen_or = 0, seen_and = 0xFFFFFFFFu;
    (void)state;
    server_params_default(&sp);
    sp.precision_log2 = -20; /* 12 random bits */
    server_init(&s, &sp, 9);
    synced_ref(&ref);
    request(req, 4, NTP_MODE_CLIENT, 6, 1);
    for (int i = 0; i < 64; i++) {
        answer(&s, &ref, NULL, req, 48, &from, T0, &fc, out, &out_len);
        ntp_header_decode(out, &r);
        seen_or |= r.receive.frac;
        seen_and &= r.receive.frac;
        assert_int_equal(r.receive.frac & 1, 1);
        assert_int_equal(r.transmit.frac & 1, 0);
        assert_int_equal(r.receive.frac >> 12, ntp_time_from_ns(T0).frac >> 12);
    }
    /* The 11 bits above the marker vary; everything above the precision does not. */
    assert_int_equal((seen_or ^ seen_and) & 0xFFEu, 0xFFEu);
    assert_int_equal((seen_or ^ seen_and) & ~0xFFFu, 0);
}

/* Random datagrams (mostly near-valid requests): never a reply longer than the request, a
 * reply only with a sending verdict, counts add up. Run under ASan for the memory side. */
static void test_random_requests(void **state)
{
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0, 0};
    struct clientlog *cl = limited_log(1);
    struct prng p;
    uint64_t total = 0;
    int sent = 0;
    (void)state;
    server_params_default(&sp);
    sp.answer_unknown_active = 1;
    server_init(&s, &sp, 10);
    synced_ref(&ref);
    prng_seed(&p, 11);
    for (int i = 0; i < 50000; i++) {
        size_t len = (size_t)prng_below(&p, 5) == 0 ? (size_t)prng_below(&p, 200)
                                                    : 48 + 4 * (size_t)prng_below(&p, 20);
        uint8_t *pkt = malloc(len ? len : 1), out[128];
        struct addr from = client_addr((uint16_t)prng_below(&p, 65536));
        size_t out_len = 999;
        enum server_verdict v;
        prng_fill(&p, pkt, len);
        from.bytes[2] = (uint8_t)prng_below(&p, 4);
        if (len > 0 && prng_below(&p, 2))
            pkt[0] = (uint8_t)((pkt[0] & 0xC0) | 0x23);
        if (len >= 52 && prng_below(&p, 2))
            pkt[50] = 0, pkt[51] = (uint8_t)(len - 48);
        fc.now = T0 + i * 1000000LL;
        v = answer(&s, &ref, cl, pkt, len, &from, fc.now, &fc, out, &out_len);
        assert_true((unsigned)v < SERVER_VERDICT_COUNT);
        if (server_verdict_sends(v)) {
            sent++;
            assert_true(out_len >= 48 && out_len <= len);
            assert_int_equal(ntp_check(out, out_len, NULL), NTP_OK);
        } else {
            assert_int_equal(out_len, 0);
        }
        free(pkt);
    }
    for (int v = 0; v < SERVER_VERDICT_COUNT; v++)
        total += s.counts[v];
    assert_int_equal(total, 50000);
    assert_true(sent > 1000);
    clientlog_free(cl);
}

/* The integer conversion of the fast path against base/ntp_time's (rounded to nearest): never
 * more than one fraction unit apart, seconds equal, over random and edge instants. */
static void test_ntp_from_ns(void **state)
{
    struct prng p;
    static const int64_t edges[] = {
        0, 1, 999999999, 1000000000, T0, T0 + 999999999, 4294967295LL * NS, 4294967296LL * NS - 1};
    (void)state;
    prng_seed(&p, 3);
    for (int i = 0; i < 200000 + 8; i++) {
        int64_t ns = i < 8 ? edges[i] : (int64_t)(prng_next_u64(&p) >> 2);
        struct ntp_ts64 a = server_ntp_from_ns(ns), b = ntp_time_from_ns(ns);
        assert_true(ts_dist(a, b) <= 1);
    }
    /* negative instants take the general path */
    assert_true(ts_dist(server_ntp_from_ns(-5 * NS), ntp_time_from_ns(-5 * NS)) == 0);
}

/* The root dispersion a reply carries, from the template's integer growth, against the
 * floating-point formula it replaces (chrony's: root dispersion + elapsed * rate, rounded up
 * to the short format), at many instants and rates: at most one short unit (15 us) apart. */
static void test_dispersion_vs_float(void **state)
{
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0, 0};
    struct prng p;
    (void)state;
    server_params_default(&sp);
    server_init(&s, &sp, 1);
    prng_seed(&p, 5);
    for (int k = 0; k < 2000; k++) {
        uint8_t req[48], out[128];
        size_t out_len;
        synced_ref(&ref);
        ref.root_disp_ns = (int64_t)prng_below(&p, 2000000000u);
        ref.disp_rate_ppb = (uint32_t)prng_below(&p, 1000000); /* up to 1000 ppm */
        ref.ref_time_ns = T0 - (int64_t)prng_below(&p, 100000) * 1000000LL;
        if (k % 3 == 0)
            ref.disp_time_ns = ref.ref_time_ns + 5 * NS;
        int64_t rx = T0 + (int64_t)prng_below(&p, 1000000000u) * 1000;
        request(req, 4, 3, 6, 0x1234);
        fc.now = rx;
        assert_int_equal(answer(&s, &ref, NULL, req, 48, &(struct addr){.family = ADDR_INET4}, rx,
                                &fc, out, &out_len),
                         SERVER_REPLY);
        int64_t at = ref.disp_time_ns ? ref.disp_time_ns : ref.ref_time_ns;
        double disp_s = ref.root_disp_ns * 1e-9 + fabs((rx - at) * 1e-9) * ref.disp_rate_ppb * 1e-9;
        double want = ceil(disp_s * 65536.0);
        double got = ntp_get_u32(out + NTP_OFF_ROOT_DISP);
        assert_true(fabs(got - want) <= 1.0);
        assert_int_equal(ntp_get_u32(out + NTP_OFF_ROOT_DISP), server_root_dispersion(&ref, rx));
    }
}

/* With one reference and many requests (the template's cached millisecond window reused),
 * every reply carries server_root_dispersion() of its receive time: at and 1 ns around
 * whole-millisecond boundaries on both sides of the dispersion's time, back and forth, and far
 * away. */
static void test_dispersion_cache_window(void **state)
{
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0, 0};
    struct prng p;
    (void)state;
    server_params_default(&sp);
    server_init(&s, &sp, 1);
    prng_seed(&p, 9);
    synced_ref(&ref);
    ref.root_disp_ns = 123456789;
    /* 4 %: 2.6 short units a millisecond, so that every millisecond gives another value */
    ref.disp_rate_ppb = 40000000;
    ref.ref_time_ns = T0 - 7 * NS;
    ref.disp_time_ns = T0;
    int64_t base = T0;
    for (int k = 0; k < 40000; k++) {
        static const int64_t steps[] = {-1000001, -1000000, -999999, -1,     0,
                                        1,        999999,   1000000, 1000001};
        uint8_t req[48], out[128];
        size_t out_len;
        int64_t rx;
        if (k % 8 == 0) {
            /* a new base at a whole millisecond from the dispersion's time, or 1 ns either
             * side, within +-100 ms, or (1 in 16) far away: up to ~100 days either side
             * (saturation past 49.7 days) */
            int64_t ms = (int64_t)prng_below(&p, 200) - 100;
            base = T0 + ms * 1000000LL + (int64_t)prng_below(&p, 3) - 1;
            if (k % 128 == 0)
                base = T0 + ((int64_t)prng_below(&p, 2000000000u) - 1000000000LL) * 8640000LL;
            rx = base;
        } else {
            /* the base's cached window and its edges */
            rx = base + steps[prng_below(&p, 9)];
        }
        request(req, 4, 3, 6, 0x1234);
        fc.now = rx;
        assert_int_equal(answer(&s, &ref, NULL, req, 48, &(struct addr){.family = ADDR_INET4}, rx,
                                &fc, out, &out_len),
                         SERVER_REPLY);
        assert_int_equal(ntp_get_u32(out + NTP_OFF_ROOT_DISP), server_root_dispersion(&ref, rx));
    }
}

/* server_answer + server_finish (the daemon's split around its own clock read) give the same
 * bytes as server_respond with the clock read in between; a reference change is picked up;
 * the local reference puts the receive time in the reference timestamp. */
static void test_answer_finish_split(void **state)
{
    struct server a, b;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0 + 777, 0};
    struct server_pending pend;
    struct addr from = client_addr(40000);
    uint8_t req[48], out1[128], out2[128];
    size_t l1, l2;
    (void)state;
    server_params_default(&sp);
    server_init(&a, &sp, 42);
    server_init(&b, &sp, 42);
    synced_ref(&ref);
    request(req, 4, 3, 6, 0x99);
    assert_int_equal(answer(&a, &ref, NULL, req, 48, &from, T0, &fc, out1, &l1), SERVER_REPLY);
    server_prepare(&b, &ref);
    struct server_rx rx = {req, 48, &from, T0, 0};
    assert_int_equal(server_answer(&b, NULL, &rx, out2, sizeof out2, &l2, &pend), SERVER_REPLY);
    assert_int_equal(pend.kind, 1);
    server_finish(&b, NULL, out2, &pend, T0 + 777);
    assert_int_equal(l1, l2);
    assert_memory_equal(out1, out2, l1);

    /* new stratum: server_respond notices the changed reference */
    ref.stratum = 7;
    assert_int_equal(answer(&a, &ref, NULL, req, 48, &from, T0, &fc, out1, &l1), SERVER_REPLY);
    assert_int_equal(out1[NTP_OFF_STRATUM], 7);

    /* local reference: reference time = receive time (fuzz and marker aside) */
    ref.ref_time_is_rx = 1;
    ref.refid = 0x7F7F0101u;
    assert_int_equal(answer(&a, &ref, NULL, req, 48, &from, T0 + 5 * NS, &fc, out1, &l1),
                     SERVER_REPLY);
    assert_memory_equal(out1 + NTP_OFF_REFERENCE, out1 + NTP_OFF_RECEIVE, 8);
    assert_true(ts_dist(ntp_get_ts(out1 + NTP_OFF_REFERENCE), ntp_time_from_ns(T0 + 5 * NS)) <
                (1u << 12));
}

/* server_answer_now() (the daemon's batched path) gives the bytes of server_answer() +
 * server_finish() with the same seed, with and without a client log, in basic and
 * interleaved mode; and its receive and transmit timestamps, converted from a cached second,
 * are the exact conversion but for the fuzzed bits, on receive times that jump back and forth
 * across seconds and transmit times that differ reply by reply (the daemon's send pace). */
static void test_answer_now(void **state)
{
    struct server a, b;
    struct server_params sp;
    struct server_ref ref;
    struct server_pending pend;
    struct clientlog_params cp;
    uint8_t req[48], out1[128], out2[128];
    size_t l1, l2;
    struct prng p;
    (void)state;
    server_params_default(&sp);
    server_init(&a, &sp, 9);
    server_init(&b, &sp, 9);
    synced_ref(&ref);
    server_prepare(&a, &ref);
    server_prepare(&b, &ref);
    clientlog_params_default(&cp);
    struct clientlog *ca = clientlog_new(&cp), *cb = clientlog_new(&cp);
    assert_non_null(ca);
    assert_non_null(cb);
    prng_seed(&p, 3);
    memset(out1, 0, sizeof out1); /* the first "previous RX" copied into an origin */
    memset(out2, 0, sizeof out2);
    int64_t t = T0;
    uint32_t fuzz = ((1u << (32 + sp.precision_log2)) - 1) & ~1u;
    for (int i = 0; i < 20000; i++) {
        struct addr from = client_addr((uint16_t)(1024 + prng_below(&p, 4)));
        from.bytes[3] = (uint8_t)prng_below(&p, 8);
        /* mostly forward within a second, sometimes seconds away either way */
        uint64_t jump = prng_below(&p, 10);
        t += jump == 0   ? -(int64_t)prng_below(&p, 5 * NS)
             : jump == 1 ? (int64_t)prng_below(&p, 5 * NS)
                         : (int64_t)prng_below(&p, 300000);
        request(req, 4, 3, 6, prng_next_u64(&p));
        if (i % 3 == 0) /* an interleaved request: origin = our last RX for this client, maybe */
            memcpy(req + NTP_OFF_ORIGIN, out1 + NTP_OFF_RECEIVE, 8);
        struct clientlog *la = i < 10000 ? ca : NULL, *lb = i < 10000 ? cb : NULL;
        struct server_rx rx = {req, 48, &from, t, 0};
        enum server_verdict va = server_answer(&a, la, &rx, out1, sizeof out1, &l1, &pend);
        const int64_t tx = t + 5000 + (int64_t)(i % 64) * 1367;
        server_finish(&a, la, out1, &pend, tx);
        enum server_verdict vb = server_answer_now(&b, lb, &rx, out2, sizeof out2, &l2, tx);
        assert_int_equal(va, vb);
        assert_int_equal(l1, l2);
        assert_memory_equal(out1, out2, l1);
        struct ntp_ts64 want = server_ntp_from_ns(t), got = ntp_get_ts(out2 + NTP_OFF_RECEIVE);
        if (vb == SERVER_REPLY) {
            assert_int_equal(got.sec, want.sec);
            assert_int_equal(got.frac & ~(fuzz | 1u), want.frac & ~(fuzz | 1u));
            assert_int_equal(got.frac & 1u, 1u);
            want = server_ntp_from_ns(tx);
            got = ntp_get_ts(out2 + NTP_OFF_TRANSMIT);
            assert_int_equal(got.sec, want.sec);
            assert_int_equal(got.frac & ~(fuzz | 1u), want.frac & ~(fuzz | 1u));
        }
    }
    assert_true(a.counts[SERVER_REPLY_INTERLEAVED] > 100);
    clientlog_free(ca);
    clientlog_free(cb);
}

/* Symmetric keys: a good MAC gets a reply with a MAC of the same key and length (checked
 * with the key, and byte for byte against the digest of the reply's header); an unknown key,
 * a bad digest, a wrong digest length and a crypto-NAK are dropped and counted; the reply is
 * never longer than the request. */
static void test_auth(void **state)
{
    static const char keytext[] = "1 MD5 HEX:0102030405060708090A0B0C0D0E0F10\n"
                                  "3 SHA256 ASCII:sha256key\n"
                                  "5 SHA512 sha512key\n";
    struct server s;
    struct server_params sp;
    struct server_ref ref;
    struct fake_clock fc = {T0 + 1000, 0};
    struct addr from = client_addr(40000);
    struct clientlog *cl;
    struct clientlog_stats st;
    struct keys *keys = keys_parse(keytext, strlen(keytext), "k", NULL, NULL);
    uint8_t req[200], out[200];
    size_t out_len, len;
    static const struct {
        uint32_t id;
        unsigned version;
        size_t reply_len;
    } good[] = {{1, 4, 68}, {1, 3, 68}, {3, 4, 72}, {3, 3, 84}, {5, 4, 72}, {5, 3, 116}};
    struct clientlog_params cp;
    (void)state;
    assert_int_equal(keys_count(keys), 3);
    clientlog_params_default(&cp);
    cl = clientlog_new(&cp);
    assert_non_null(cl);
    server_params_default(&sp);
    server_init(&s, &sp, 5);
    s.keys = keys;
    synced_ref(&ref);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const struct keys_key *k = keys_find(keys, good[i].id);
        struct ntp_packet r;
        struct ntp_layout lay;
        uint8_t check[200];
        request(req, good[i].version, NTP_MODE_CLIENT, 6, 100 + i);
        len = keys_sign(k, good[i].version, req, 48, sizeof req);
        assert_int_equal(len, good[i].reply_len);
        assert_int_equal(answer(&s, &ref, cl, req, len, &from, T0, &fc, out, &out_len),
                         SERVER_REPLY);
        assert_int_equal(out_len, len);
        assert_int_equal(ntp_parse(out, out_len, &r, &lay), NTP_OK);
        assert_int_equal(r.version, good[i].version);
        assert_int_equal(lay.mac_off, 48);
        assert_int_equal(ntp_get_u32(out + 48), good[i].id);
        assert_true(keys_check(k, good[i].version, out, 48, out + 48, out_len - 48));
        /* the digest is over the finished header (transmit timestamp included) */
        memcpy(check, out, 48);
        assert_int_equal(keys_sign(k, good[i].version, check, 48, sizeof check), out_len);
        assert_memory_equal(check, out, out_len);
        /* ... and the reply is otherwise the unauthenticated one */
        assert_true(ntp_time_equal(r.origin, ntp_get_ts(req + NTP_OFF_TRANSMIT)));
    }
    clientlog_get_stats(cl, &st);
    assert_int_equal(st.ntp_auth_hits, 6);

    /* With extension fields before the MAC: the MAC covers them, the reply drops them. */
    request(req, 4, NTP_MODE_CLIENT, 6, 200);
    len = ntp_append_ef(req, sizeof req, 48, 0x7777, "hello", 5, 0);
    len = keys_sign(keys_find(keys, 1), 4, req, len, sizeof req);
    assert_int_equal(len, 48 + 16 + 20);
    assert_int_equal(answer(&s, &ref, cl, req, len, &from, T0, &fc, out, &out_len), SERVER_REPLY);
    assert_int_equal(out_len, 68);
    /* ... and a changed field breaks it */
    req[53] ^= 1;
    assert_int_equal(answer(&s, &ref, cl, req, len, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_AUTH);

    /* Unknown key 2, a flipped digest bit, SHA256 whole in NTPv4 (36 octets: not a MAC there,
     * a malformed field), SHA256 truncated in NTPv3, a crypto-NAK: none answered. */
    request(req, 4, NTP_MODE_CLIENT, 6, 300);
    len = keys_sign(keys_find(keys, 1), 4, req, 48, sizeof req);
    ntp_put_u32(req + 48, 2);
    assert_int_equal(answer(&s, &ref, cl, req, len, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_AUTH);
    assert_int_equal(out_len, 0);
    request(req, 4, NTP_MODE_CLIENT, 6, 301);
    len = keys_sign(keys_find(keys, 1), 4, req, 48, sizeof req);
    req[len - 1] ^= 0x40;
    assert_int_equal(answer(&s, &ref, cl, req, len, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_AUTH);
    request(req, 4, NTP_MODE_CLIENT, 6, 302);
    len = keys_sign(keys_find(keys, 3), 3, req, 48, sizeof req);
    req[0] = (uint8_t)(4 << 3 | NTP_MODE_CLIENT);
    assert_int_equal(len, 84);
    assert_int_equal(answer(&s, &ref, cl, req, len, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_MALFORMED);
    request(req, 3, NTP_MODE_CLIENT, 6, 303);
    len = keys_sign(keys_find(keys, 3), 4, req, 48, sizeof req);
    req[0] = (uint8_t)(3 << 3 | NTP_MODE_CLIENT);
    assert_int_equal(answer(&s, &ref, cl, req, len, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_AUTH);
    request(req, 4, NTP_MODE_CLIENT, 6, 304);
    memset(req + 48, 0, 4);
    assert_int_equal(answer(&s, &ref, cl, req, 52, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_AUTH);
    assert_int_equal(s.counts[SERVER_DROP_AUTH], 5);
    clientlog_get_stats(cl, &st);
    assert_int_equal(st.ntp_auth_hits, 7);

    /* The keys go away (rekey to an empty file): the same good request is dropped. */
    request(req, 4, NTP_MODE_CLIENT, 6, 400);
    len = keys_sign(keys_find(keys, 1), 4, req, 48, sizeof req);
    s.keys = NULL;
    assert_int_equal(answer(&s, &ref, cl, req, len, &from, T0, &fc, out, &out_len),
                     SERVER_DROP_AUTH);
    /* A reply with a MAC needs room for it. */
    s.keys = keys;
    {
        struct server_rx rx = {req, len, &from, T0, 0};
        assert_int_equal(server_respond(&s, &ref, cl, &rx, NULL, out, 60, &out_len),
                         SERVER_DROP_AUTH);
        assert_int_equal(server_respond(&s, &ref, cl, &rx, NULL, out, 68, &out_len), SERVER_REPLY);
        assert_int_equal(out_len, 68);
    }
    clientlog_free(cl);
    keys_free(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_reply_fields),
        cmocka_unit_test(test_unsynchronised),
        cmocka_unit_test(test_matches_captured_reply),
        cmocka_unit_test(test_length_rule_and_extensions),
        cmocka_unit_test(test_drops),
        cmocka_unit_test(test_rate_limiting),
        cmocka_unit_test(test_interleaved),
        cmocka_unit_test(test_fuzz_bits),
        cmocka_unit_test(test_random_requests),
        cmocka_unit_test(test_ntp_from_ns),
        cmocka_unit_test(test_dispersion_vs_float),
        cmocka_unit_test(test_dispersion_cache_window),
        cmocka_unit_test(test_answer_finish_split),
        cmocka_unit_test(test_answer_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
