/* The NTP server path: see server.h for the rules and where they come from. */
#include "core/server.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "base/ntp_time.h"
#include "wire/ntp.h"

#define NS_PER_MS 1000000LL
#define SHORT_1S  0x00010000u /* 1.0 s in NTP short format */

static const char *const verdict_names[SERVER_VERDICT_COUNT] = {
    [SERVER_REPLY] = "reply",
    [SERVER_REPLY_INTERLEAVED] = "interleaved reply",
    [SERVER_REPLY_KOD] = "RATE kiss-o'-death",
    [SERVER_REPLY_CRYPTO_NAK] = "crypto-NAK",
    [SERVER_DROP_MALFORMED] = "malformed",
    [SERVER_DROP_VERSION] = "bad version",
    [SERVER_DROP_MODE] = "not a request",
    [SERVER_DROP_RATELIMIT] = "rate limited",
    [SERVER_DROP_NO_SPACE] = "no space",
};

const char *server_verdict_name(enum server_verdict v)
{
    if ((unsigned)v >= SERVER_VERDICT_COUNT)
        return "?";
    return verdict_names[v];
}

int server_verdict_sends(enum server_verdict v)
{
    return v <= SERVER_REPLY_CRYPTO_NAK;
}

void server_params_default(struct server_params *p)
{
    p->precision_log2 = -20;
    p->interleaved = 1;
    p->answer_unknown_active = 0;
}

void server_init(struct server *s, const struct server_params *params, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->params = *params;
    prng_seed(&s->prng, seed);
}

uint32_t server_root_dispersion(const struct server_ref *ref, int64_t now_ns)
{
    int64_t elapsed = now_ns - ref->ref_time_ns;
    uint64_t ms;
    if (elapsed < 0)
        elapsed = -elapsed;
    ms = (uint64_t)(elapsed / NS_PER_MS);
    if (ms > 0xFFFFFFFFu) /* 49 days: keeps ms * rate within 64 bits */
        ms = 0xFFFFFFFFu;
    /* ms * (ns per s) / 1000 = ns of growth */
    return ntp_time_short_from_ns(ref->root_disp_ns + (int64_t)(ms * ref->disp_rate_ppb / 1000));
}

/* Random bits below our precision, then chrony's marker bit. */
static struct ntp_ts64 fuzz_ts(struct server *s, int64_t ns, uint32_t lsb)
{
    struct ntp_ts64 ts = ntp_time_from_ns(ns);
    int bits = 32 + s->params.precision_log2;
    uint32_t mask;
    if (bits < 1)
        bits = 1;
    if (bits > 31)
        bits = 31;
    mask = (1u << bits) - 1;
    ts.frac = (ts.frac & ~mask) | (prng_next_u32(&s->prng) & mask);
    ts.frac = (ts.frac & ~1u) | lsb;
    return ts;
}

enum server_verdict server_respond(struct server *s, const struct server_ref *ref,
                                   struct clientlog *clientlog, const struct server_rx *rx,
                                   const struct clock_ops *clock, uint8_t *out, size_t out_size,
                                   size_t *out_len)
{
    struct ntp_packet req, rep;
    struct ntp_layout lay;
    enum ntp_verdict pv;
    enum server_verdict v;
    enum clientlog_limit lim = CLIENTLOG_ANSWER;
    int32_t idx = -1;
    int min_poll = -128, interleaved = 0;
    int64_t prev_tx_ns = 0, tx_ns;
    struct ntp_ts64 rx_ts, tx_ts;
    uint8_t reply_mode;

    *out_len = 0;
    pv = ntp_parse(rx->pkt, rx->len, &req, &lay);
    if (pv != NTP_OK) {
        v = pv == NTP_BAD_VERSION ? SERVER_DROP_VERSION : SERVER_DROP_MALFORMED;
        goto done;
    }
    switch (req.mode) {
    case NTP_MODE_CLIENT:
        reply_mode = NTP_MODE_SERVER;
        break;
    case NTP_MODE_ACTIVE:
        if (!rx->from_peer && !s->params.answer_unknown_active) {
            v = SERVER_DROP_MODE;
            goto done;
        }
        reply_mode = NTP_MODE_PASSIVE;
        break;
    case NTP_MODE_RESERVED:
        /* NTPv1 had no mode field: a client is told by its port (chrony does the same). */
        if (req.version == 1 && rx->from->port != NTP_PORT) {
            reply_mode = NTP_MODE_SERVER;
            break;
        }
        v = SERVER_DROP_MODE;
        goto done;
    default:
        v = SERVER_DROP_MODE;
        goto done;
    }
    if (out_size < NTP_HEADER_LEN + 4) {
        v = SERVER_DROP_NO_SPACE;
        goto done;
    }

    if (clientlog) {
        idx = clientlog_access(clientlog, CLIENTLOG_NTP, rx->from, rx->rx_ns);
        lim = clientlog_limit(clientlog, CLIENTLOG_NTP, idx);
        if (lim == CLIENTLOG_DROP) {
            v = SERVER_DROP_RATELIMIT;
            goto done;
        }
        min_poll = clientlog_ntp_min_poll(clientlog);
    }

    rep.version = req.version;
    rep.mode = reply_mode;
    rep.poll = (int8_t)(req.poll > min_poll ? req.poll : min_poll);
    rep.precision = s->params.precision_log2;
    rx_ts = fuzz_ts(s, rx->rx_ns, 1);

    if (lim == CLIENTLOG_KOD) {
        rep.leap = NTP_LEAP_UNSYNC;
        rep.stratum = NTP_STRATUM_KOD;
        rep.refid = NTP_KISS_RATE;
        rep.root_delay = 0;
        rep.root_dispersion = 0;
        memset(&rep.reference, 0, sizeof rep.reference);
        rep.origin = req.transmit;
        rep.receive = rx_ts;
        rep.transmit = rx_ts;
        rep.transmit.frac &= ~1u;
        ntp_header_encode(&rep, out);
        *out_len = NTP_HEADER_LEN;
        v = SERVER_REPLY_KOD;
        goto done;
    }

    if (ref->synced) {
        rep.leap = ref->leap & 3u;
        rep.stratum = ref->stratum;
        rep.refid = ref->refid;
        rep.root_delay = ref->root_delay;
        rep.root_dispersion = server_root_dispersion(ref, rx->rx_ns);
        if (ref->ref_time_ns != 0) {
            rep.reference = ntp_time_from_ns(ref->ref_time_ns);
        } else {
            memset(&rep.reference, 0, sizeof rep.reference);
        }
    } else {
        rep.leap = NTP_LEAP_UNSYNC;
        rep.stratum = NTP_STRATUM_KOD; /* 16 is sent as 0 */
        rep.refid = NTP_REFID_UNSYNC;
        rep.root_delay = SHORT_1S;
        rep.root_dispersion = SHORT_1S;
        memset(&rep.reference, 0, sizeof rep.reference);
    }

    if (s->params.interleaved && idx >= 0 && req.version == 4 && (req.origin.frac & 1u) &&
        !ntp_time_equal(req.receive, req.transmit) &&
        clientlog_get_tx(clientlog, idx, req.origin, &prev_tx_ns))
        interleaved = 1;
    rep.origin = interleaved ? req.receive : req.transmit;
    rep.receive = rx_ts;
    memset(&rep.transmit, 0, sizeof rep.transmit);
    ntp_header_encode(&rep, out);
    *out_len = NTP_HEADER_LEN;
    v = interleaved ? SERVER_REPLY_INTERLEAVED : SERVER_REPLY;
    if (lay.mac_len > 0) {
        /* We hold no keys: answer with a crypto-NAK (key ID 0, no digest). 52 < 68. */
        memset(out + NTP_HEADER_LEN, 0, 4);
        *out_len = NTP_HEADER_LEN + 4;
        v = SERVER_REPLY_CRYPTO_NAK;
    }

    /* The clock is read last, as close to sending as this layer can get. */
    tx_ns = clock ? clock->read_real_ns(clock->ctx) : rx->rx_ns;
    tx_ts = fuzz_ts(s, interleaved ? prev_tx_ns : tx_ns, 0);
    ntp_put_ts(out + NTP_OFF_TRANSMIT, tx_ts);
    if (clientlog) {
        clientlog_save_ts(clientlog, idx, rx_ts, tx_ns);
        if (interleaved)
            clientlog_note_interleaved(clientlog);
    }

done:
    s->counts[v]++;
    return v;
}

void server_tx_timestamp(struct clientlog *clientlog, const struct addr *to, const uint8_t *reply,
                         size_t reply_len, int64_t tx_ns)
{
    if (!clientlog || reply_len < NTP_HEADER_LEN)
        return;
    clientlog_update_tx(clientlog, to, ntp_get_ts(reply + NTP_OFF_RECEIVE), tx_ns);
}
