/* Fuzz target: the whole server request path, core/server with core/clientlog, over a
 * sequence of requests so that rate limiting, record eviction and interleaved mode are
 * reached.
 *
 * Input: 4 option bytes, then records of [ctl][len/4][len bytes of datagram]:
 *   opt0: reference (bit 0 synced, bits 1-2 leap, bits 3-6 stratum), bit 7: the harness
 *         re-signs each request whose MAC names one of the server's keys (1 MD5, 2 SHA1,
 *         3 SHA256, 5 SHA512) with that key, so that authenticated requests get through
 *         (bad MACs are what the fuzzer makes by itself)
 *   opt1: rate limit (bit 0 on, bits 1-3 interval -4..3, bits 4-7 burst 1..16)
 *   opt2: client log (bit 0 off, bit 1 the smallest table (16 records), bits 2-3 leak 1..4,
 *         bit 4 RATE KoD 1 in 2, bits 5-7 the table seed)
 *   opt3: server (bit 0 interleaved, bit 1 answer unknown active, bit 2 no clock, bits 3-7
 *         precision -32..-1)
 *   ctl:  bits 0-1 low bits of the length, bit 2 from a configured peer, bits 3-5 which of 8
 *         client addresses (bit 5 picks IPv6), bits 6-7 time advance (0, 1 ms, 1 s, 1000 s)
 *   and bit 7 of len/4 set: report a kernel TX timestamp for the reply.
 * Checks: a reply is a valid NTP packet no longer than its request, mode 4 (2 to a mode 1),
 * the request's version, a MAC of the request's key (checked) exactly when the request had a
 * good one; every request gets exactly one verdict. */
#include <stdint.h>
#include <string.h>

#include "base/addr.h"
#include "core/clientlog.h"
#include "core/keys.h"
#include "core/server.h"
#include "fuzz_common.h"
#include "wire/ntp.h"

/* 2026-11-25 00:00:00 UTC: a start time inside NTP era 0 that is near the vectors'. */
#define FUZZ_START_NS 1795564800000000000LL

struct fake_clock {
    int64_t now_ns;
};

static int64_t fake_read(void *ctx)
{
    struct fake_clock *c = ctx;
    return c->now_ns;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    uint8_t o0 = fuzz_u8(&in), o1 = fuzz_u8(&in), o2 = fuzz_u8(&in), o3 = fuzz_u8(&in);

    struct server_ref ref;
    memset(&ref, 0, sizeof ref);
    ref.synced = o0 & 1;
    ref.leap = (uint8_t)((o0 >> 1) & 3);
    ref.stratum = (uint8_t)(1 + ((o0 >> 3) & 15) % 15);
    ref.refid = 0xC0000201u;
    ref.ref_time_ns = FUZZ_START_NS - 10000000000LL;
    ref.root_delay = 0x00000123u;
    ref.root_disp_ns = 1000000;
    ref.disp_rate_ppb = 15000;

    struct clientlog_params cp;
    clientlog_params_default(&cp);
    cp.disabled = o2 & 1;
    if (o2 & 2)
        cp.limit_bytes = CLIENTLOG_MIN_RECORDS * CLIENTLOG_RECORD_BYTES;
    else /* small enough to keep a run fast, large enough for 8 clients */
        cp.limit_bytes = 256 * CLIENTLOG_RECORD_BYTES;
    cp.seed = 0x5eed0000u + (uint64_t)(o2 >> 5);
    clientlog_ratelimit_default(&cp.limit[CLIENTLOG_NTP]);
    cp.limit[CLIENTLOG_NTP].enabled = o1 & 1;
    cp.limit[CLIENTLOG_NTP].interval_log2 = ((o1 >> 1) & 7) - 4;
    cp.limit[CLIENTLOG_NTP].burst = 1 + (o1 >> 4);
    cp.limit[CLIENTLOG_NTP].leak = 1 + ((o2 >> 2) & 3);
    cp.limit[CLIENTLOG_NTP].kod_log2 = (o2 & 16) ? 1 : -1;
    struct clientlog *cl = clientlog_new(&cp);
    FUZZ_CHECK(cl != NULL);

    struct server_params sp;
    server_params_default(&sp);
    sp.interleaved = o3 & 1;
    sp.answer_unknown_active = (o3 >> 1) & 1;
    sp.precision_log2 = (int8_t)(-1 - (o3 >> 3));
    struct server srv;
    server_init(&srv, &sp, 42);
    static const char keytext[] = "1 HEX:0102030405060708090A0B0C0D0E0F10\n"
                                  "2 SHA1 ASCII:sha1key\n"
                                  "3 SHA256 sha256key\n"
                                  "5 SHA512 sha512key\n";
    struct keys *keys = keys_parse(keytext, sizeof keytext - 1, "fuzz", NULL, NULL);
    FUZZ_CHECK(keys != NULL && keys_count(keys) == 4);
    srv.keys = keys;

    struct fake_clock fc = {FUZZ_START_NS};
    struct clock_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.ctx = &fc;
    ops.read_real_ns = fake_read;
    const struct clock_ops *clock = (o3 & 4) ? NULL : &ops;

    int64_t now_ns = FUZZ_START_NS;
    uint64_t n_requests = 0;
    static const int64_t steps_ns[4] = {0, 1000000, 1000000000, 1000000000000LL};
    while (in.n > 0) {
        uint8_t ctl = fuzz_u8(&in);
        uint8_t lb = fuzz_u8(&in);
        size_t want = (size_t)(lb & 0x7f) * 4 + (ctl & 3), got;
        const uint8_t *pkt = fuzz_bytes(&in, want, &got);
        uint8_t signed_pkt[NTP_MAX_PACKET_LEN];
        struct ntp_layout rlay;
        const struct keys_key *rkey = NULL;
        int good_mac = 0;
        if (got <= sizeof signed_pkt && ntp_check(pkt, got, &rlay) == NTP_OK && rlay.mac_len > 0) {
            unsigned ver = (pkt[0] >> 3) & 7u;
            rkey = keys_find(keys, ntp_get_u32(pkt + rlay.mac_off));
            if (rkey && (o0 & 0x80) && rlay.mac_len == 4 + keys_digest_len(rkey, ver)) {
                memcpy(signed_pkt, pkt, got);
                FUZZ_CHECK(keys_sign(rkey, ver, signed_pkt, rlay.mac_off, got) == got);
                pkt = signed_pkt;
            }
            good_mac =
                rkey && keys_check(rkey, ver, pkt, rlay.mac_off, pkt + rlay.mac_off, rlay.mac_len);
        }

        struct addr from;
        memset(&from, 0, sizeof from);
        unsigned who = (ctl >> 3) & 7;
        if (who & 4) {
            from.family = ADDR_INET6;
            from.bytes[0] = 0x20;
            from.bytes[1] = 0x01;
            from.bytes[2] = 0x0d;
            from.bytes[3] = 0xb8;
            from.bytes[15] = (uint8_t)who;
        } else {
            from.family = ADDR_INET4;
            from.bytes[0] = 192;
            from.bytes[1] = 0;
            from.bytes[2] = 2;
            from.bytes[3] = (uint8_t)(1 + who);
        }
        from.port = (who & 1) ? 123 : (uint16_t)(40000 + who);

        now_ns += steps_ns[ctl >> 6];
        fc.now_ns = now_ns + 20000;
        struct server_rx rx = {pkt, got, &from, now_ns, (ctl >> 2) & 1};
        uint8_t out[NTP_MAX_PACKET_LEN];
        size_t out_len = 12345;
        enum server_verdict v =
            server_respond(&srv, &ref, cl, &rx, clock, out, sizeof out, &out_len);
        n_requests++;
        FUZZ_CHECK((int)v >= 0 && v < SERVER_VERDICT_COUNT);
        FUZZ_CHECK(server_verdict_name(v)[0] != '?');
        if (!server_verdict_sends(v)) {
            FUZZ_CHECK(out_len == 0);
            continue;
        }
        FUZZ_CHECK(out_len >= NTP_HEADER_LEN && out_len <= got);
        struct ntp_packet q, r;
        struct ntp_layout lay;
        FUZZ_CHECK(ntp_parse(out, out_len, &r, &lay) == NTP_OK);
        FUZZ_CHECK(got >= NTP_HEADER_LEN);
        ntp_header_decode(pkt, &q);
        FUZZ_CHECK(r.version == q.version);
        FUZZ_CHECK(r.mode == (q.mode == NTP_MODE_ACTIVE ? NTP_MODE_PASSIVE : NTP_MODE_SERVER));
        FUZZ_CHECK(lay.n_ef == 0 && !lay.crypto_nak);
        if (v == SERVER_REPLY_KOD) {
            FUZZ_CHECK(lay.mac_len == 0);
        } else {
            /* a good MAC in, a MAC of the same key out, and only then */
            FUZZ_CHECK(good_mac == (lay.mac_len > 0));
            if (good_mac)
                FUZZ_CHECK(keys_check(rkey, r.version, out, 48, out + 48, lay.mac_len) &&
                           out_len == 48 + rlay.mac_len);
        }
        if (v == SERVER_REPLY)
            FUZZ_CHECK(ntp_time_equal(r.origin, q.transmit));
        if (lb & 0x80)
            server_tx_timestamp(cl, &from, out, out_len, now_ns + 30000);
    }
    uint64_t sum = 0;
    for (int i = 0; i < SERVER_VERDICT_COUNT; i++)
        sum += srv.counts[i];
    FUZZ_CHECK(sum == n_requests);

    struct clientlog_stats st;
    clientlog_get_stats(cl, &st);
    for (uint32_t i = 0; i < clientlog_capacity(cl); i++) {
        struct clientlog_report rep;
        (void)clientlog_report(cl, i, now_ns, &rep);
    }
    clientlog_free(cl);
    keys_free(keys);
    return 0;
}
