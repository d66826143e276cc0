/* Fuzz target: the client reply path, core/engine's engine_receive, with a fake clock, over a
 * sequence of replies from two sources so that filtering, selection and the discipline are
 * reached, not only the packet checks.
 *
 * Input: 2 option bytes, then records of [ctl][len/4][len bytes of datagram] (at most
 * FUZZ_MAX_RECORDS):
 *   opt0: bit 0 makestep 1 s (else never step), bit 1 source 1 is a peer, bit 2 xleave on
 *         source 0, bit 3 iburst, bits 4-5 minpoll -2..1, bit 6 maxdelayratio 2, bit 7
 *         minsources 2
 *   opt1: bits 0-1 polltarget/filter variations, bits 2-7 part of the engine seed
 *   ctl:  bit 0 source 0 or 1, bit 1 put the transmit timestamp of our last request to that
 *         source into the origin field (so that the reply can be accepted), bit 2 relative
 *         timestamps: the receive field's first word is a signed offset in ns from our
 *         request's send time and the transmit field's first word (>> 8) the server's delay in ns,
 * the reference time is receive - 1 s; bit 3 run the engine's timers up to its next timeout first;
 * bits 4-7 the reply's round trip in steps of 50 us. Checks: no crash, no sanitizer report, the
 * engine's reports stay callable; what a reply does to the clock is the engine's unit tests'
 * business. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/addr.h"
#include "base/ntp_time.h"
#include "core/clock_ops.h"
#include "core/engine.h"
#include "core/report.h"
#include "fuzz_common.h"
#include "wire/ntp.h"

#define FUZZ_START_NS    1795564800000000000LL /* 2026-11-25 00:00:00 UTC */
#define FUZZ_MAX_RECORDS 200
#define FUZZ_N_SOURCES   2

struct world {
    int64_t mono_ns;
    int64_t step_ns;                         /* sum of the steps the engine made */
    struct ntp_ts64 last_tx[FUZZ_N_SOURCES]; /* as sent: may be a random cookie */
    int64_t last_tx_real_ns[FUZZ_N_SOURCES]; /* when it was sent, on the fake clock */
    int64_t last_tx_mono_ns[FUZZ_N_SOURCES];
    unsigned sent;
};

static int64_t w_read(void *ctx)
{
    struct world *w = ctx;
    return FUZZ_START_NS + w->mono_ns + w->step_ns;
}

static int w_freq(void *ctx, double ppm)
{
    (void)ctx;
    FUZZ_CHECK(!isnan(ppm));
    return 0;
}

static int w_step(void *ctx, double off_s)
{
    struct world *w = ctx;
    FUZZ_CHECK(!isnan(off_s));
    if (!(fabs(off_s) < 1e9)) /* a real clock would refuse a step of decades too */
        return -EINVAL;
    w->step_ns += (int64_t)(off_s * 1e9);
    return 0;
}

static int w_leap(void *ctx, enum clock_leap leap)
{
    (void)ctx;
    FUZZ_CHECK(leap == CLOCK_LEAP_NONE || leap == CLOCK_LEAP_INSERT || leap == CLOCK_LEAP_DELETE);
    return 0;
}

static int w_sync(void *ctx, int synced, double est_s, double max_s)
{
    (void)ctx;
    (void)synced;
    FUZZ_CHECK(!isnan(est_s) && !isnan(max_s));
    return 0;
}

static int w_send(void *ctx, int id, const uint8_t *pkt, size_t len)
{
    struct world *w = ctx;
    FUZZ_CHECK(id >= 0 && id < FUZZ_N_SOURCES);
    FUZZ_CHECK(len >= NTP_HEADER_LEN && len <= NTP_MAX_PACKET_LEN);
    struct ntp_packet p;
    FUZZ_CHECK(ntp_parse(pkt, len, &p, NULL) == NTP_OK);
    w->last_tx[id] = ntp_get_ts(pkt + NTP_OFF_TRANSMIT);
    w->last_tx_mono_ns[id] = w->mono_ns;
    w->last_tx_real_ns[id] = w_read(w);
    w->sent++;
    return 0;
}

static void run_timers(struct engine *e, struct world *w, const struct engine_io *io)
{
    int64_t t = engine_next_timeout_mono_ns(e);
    if (t > w->mono_ns)
        w->mono_ns = t;
    engine_run_timers(e, w->mono_ns, io);
    /* Everything due has run: a deadline in the past would make the daemon spin (the
     * finding fixed in d1d19b1, where an overflow gave INT64_MIN). */
    FUZZ_CHECK(engine_next_timeout_mono_ns(e) >= w->mono_ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    uint8_t o0 = fuzz_u8(&in), o1 = fuzz_u8(&in);

    struct world w;
    memset(&w, 0, sizeof w);
    struct clock_ops ops = {&w, w_read, w_freq, w_step, w_leap, w_sync, 500.0, NULL, NULL};
    struct engine_io io = {.ctx = &w, .send = w_send};

    struct engine_params ep;
    engine_params_default(&ep);
    if (o0 & 1) {
        ep.makestep_threshold_s = 1.0;
        ep.makestep_limit = -1;
    }
    if (o0 & 0x80)
        ep.minsources = 2;
    struct engine *e = engine_new(&ep, &ops, 0x5eed00 + (uint64_t)(o1 >> 2), 0);
    FUZZ_CHECK(e != NULL);

    int ids[FUZZ_N_SOURCES];
    for (int i = 0; i < FUZZ_N_SOURCES; i++) {
        struct engine_source_params sp;
        engine_source_params_default(&sp);
        sp.kind = (i == 1 && (o0 & 2)) ? ENGINE_SOURCE_PEER : ENGINE_SOURCE_SERVER;
        sp.xleave = i == 0 && (o0 & 4);
        sp.iburst = (o0 >> 3) & 1;
        sp.minpoll_log2 = ((o0 >> 4) & 3) - 2;
        sp.maxpoll_log2 = sp.minpoll_log2 + 4;
        if (o0 & 0x40)
            sp.maxdelayratio = 2.0;
        if (o1 & 1)
            sp.polltarget = 6;
        if (o1 & 2)
            sp.filter = 3;
        struct addr a;
        memset(&a, 0, sizeof a);
        a.family = ADDR_INET4;
        a.bytes[0] = 192;
        a.bytes[2] = 2;
        a.bytes[3] = (uint8_t)(1 + i);
        a.port = 123;
        ids[i] = engine_add_source(e, &sp, &a, i ? "s1" : "s0", 0);
        FUZZ_CHECK(ids[i] == i);
    }
    /* Until both sources have sent a first request (bounded). */
    for (int k = 0; k < 16 && w.sent < FUZZ_N_SOURCES; k++)
        run_timers(e, &w, &io);

    for (int r = 0; r < FUZZ_MAX_RECORDS && in.n > 0; r++) {
        uint8_t ctl = fuzz_u8(&in);
        size_t want = (size_t)fuzz_u8(&in) * 4, got;
        const uint8_t *raw = fuzz_bytes(&in, want, &got);
        int src = ctl & 1;
        if (ctl & 8)
            run_timers(e, &w, &io);
        uint8_t pkt[NTP_MAX_PACKET_LEN];
        memcpy(pkt, raw, got);
        int64_t rtt_ns = (int64_t)(1 + (ctl >> 4)) * 50000;
        int64_t req_real_ns = w.last_tx_real_ns[src];
        if (got >= NTP_HEADER_LEN && (ctl & 2))
            ntp_put_ts(pkt + NTP_OFF_ORIGIN, w.last_tx[src]);
        if (got >= NTP_HEADER_LEN && (ctl & 4)) {
            int64_t rx_ns = req_real_ns + (int32_t)ntp_get_u32(pkt + NTP_OFF_RECEIVE);
            int64_t tx_ns = rx_ns + (ntp_get_u32(pkt + NTP_OFF_TRANSMIT) >> 8);
            ntp_put_ts(pkt + NTP_OFF_REFERENCE, ntp_time_from_ns(rx_ns - 1000000000));
            ntp_put_ts(pkt + NTP_OFF_RECEIVE, ntp_time_from_ns(rx_ns));
            ntp_put_ts(pkt + NTP_OFF_TRANSMIT, ntp_time_from_ns(tx_ns));
        }
        if (w.mono_ns < w.last_tx_mono_ns[src] + rtt_ns)
            w.mono_ns = w.last_tx_mono_ns[src] + rtt_ns;
        engine_receive(e, ids[src], pkt, got, w_read(&w), w.mono_ns, &io);
    }

    struct report_tracking tr;
    engine_tracking(e, w.mono_ns, &tr);
    FUZZ_CHECK(tr.stratum >= 0 && tr.stratum <= 16);
    FUZZ_CHECK(engine_source_count(e) == FUZZ_N_SOURCES);
    for (int i = 0; i < FUZZ_N_SOURCES; i++) {
        struct report_source rs;
        FUZZ_CHECK(engine_source_report(e, i, w.mono_ns, &rs) == 0);
    }
    struct report_reference ref;
    engine_reference(e, w.mono_ns, &ref);
    engine_free(e);
    return 0;
}
