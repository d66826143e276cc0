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
    [SERVER_DROP_MALFORMED] = "malformed",
    [SERVER_DROP_VERSION] = "bad version",
    [SERVER_DROP_MODE] = "not a request",
    [SERVER_DROP_RATELIMIT] = "rate limited",
    [SERVER_DROP_NO_SPACE] = "no space",
    [SERVER_DROP_NTS] = "NTS not supported",
    [SERVER_DROP_AUTH] = "bad authentication",
};

const char *server_verdict_name(enum server_verdict v)
{
    if ((unsigned)v >= SERVER_VERDICT_COUNT)
        return "?";
    return verdict_names[v];
}

void server_params_default(struct server_params *p)
{
    p->precision_log2 = -20;
    p->interleaved = 1;
    p->answer_unknown_active = 0;
}

/* Bits of the fraction below our precision (they get random values), without the LSB. */
static uint32_t fuzz_mask(int precision_log2)
{
    int bits = 32 + precision_log2;
    if (bits < 1)
        bits = 1;
    if (bits > 31)
        bits = 31;
    return ((1u << bits) - 1) & ~1u;
}

void server_init(struct server *s, const struct server_params *params, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->params = *params;
    s->fuzz_mask = fuzz_mask(params->precision_log2);
    prng_seed(&s->prng, seed);
    s->fuzz_state = prng_next_u64(&s->prng) | 1u; /* xorshift: any state but 0 */
    s->rx_sec_start_ns = INT64_MIN / 2;           /* no second yet */
}

/* xorshift64* (Vigna): 64 random bits in a few instructions, inline. The fuzz below the
 * precision needs no more than that; the client log's leak and KoD draws keep base/prng. */
static inline uint64_t fuzz_next(struct server *s)
{
    uint64_t x = s->fuzz_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->fuzz_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

uint32_t server_root_dispersion(const struct server_ref *ref, int64_t now_ns)
{
    int64_t at = ref->disp_time_ns ? ref->disp_time_ns : ref->ref_time_ns;
    int64_t elapsed = now_ns - at;
    uint64_t ms;
    if (ref->disp_rate_ppb == 0) /* published already grown */
        return ntp_time_short_from_ns(ref->root_disp_ns);
    if (elapsed < 0)
        elapsed = -elapsed;
    ms = (uint64_t)(elapsed / NS_PER_MS);
    if (ms > 0xFFFFFFFFu) /* 49 days: keeps ms * rate within 64 bits */
        ms = 0xFFFFFFFFu;
    /* ms * (ns per s) / 1000 = ns of growth */
    return ntp_time_short_from_ns(ref->root_disp_ns + (int64_t)(ms * ref->disp_rate_ppb / 1000));
}

/* server_ntp_from_ns(), inlined into the reply path (two calls per reply). */
__attribute__((always_inline)) static inline struct ntp_ts64 ntp_from_ns(int64_t real_ns)
{
    uint64_t ns = (uint64_t)real_ns;
    uint64_t sec = ns / 1000000000u; /* a multiply by the compiler: no division */
    uint64_t rem = ns - sec * 1000000000u;
    struct ntp_ts64 ts;
    if (real_ns < 0)
        return ntp_time_from_ns(real_ns);
    ts.sec = (uint32_t)((sec + NTP_TIME_UNIX_OFFSET_S) & 0xFFFFFFFFu);
    /* rem * 2^32 / 1e9 as rem * ceil(2^64 / 1e9) / 2^32: rem < 2^30 and the factor < 2^35,
     * so no overflow; the excess of the factor is under 0.3 / 2^32, so the result is the
     * rounded-down exact value or one above it. */
    ts.frac = (uint32_t)((rem * 18446744074ull) >> 32);
    return ts;
}

struct ntp_ts64 server_ntp_from_ns(int64_t real_ns)
{
    return ntp_from_ns(real_ns);
}

/* ntp_from_ns() for the receive and transmit timestamps of a batch, which fall in the same
 * second: the second's start is kept, so a conversion is a subtraction and a multiply. */
__attribute__((always_inline)) static inline struct ntp_ts64 rx_ntp(struct server *s, int64_t ns)
{
    uint64_t rem = (uint64_t)(ns - s->rx_sec_start_ns);
    struct ntp_ts64 ts;
    if (rem >= 1000000000u) { /* another second, or before this one */
        if (ns < 0)
            return ntp_time_from_ns(ns);
        uint64_t sec = (uint64_t)ns / 1000000000u;
        s->rx_sec_start_ns = (int64_t)(sec * 1000000000u);
        s->rx_sec_ntp = (uint32_t)((sec + NTP_TIME_UNIX_OFFSET_S) & 0xFFFFFFFFu);
        rem = (uint64_t)ns - sec * 1000000000u;
    }
    ts.sec = s->rx_sec_ntp;
    ts.frac = (uint32_t)((rem * 18446744074ull) >> 32); /* as ntp_from_ns() */
    return ts;
}

/* Writes ts with random bits below the precision and chrony's marker bit. */
__attribute__((always_inline)) static inline void
put_fuzzed(uint8_t *buf, int64_t ns, uint32_t mask, uint32_t rnd, uint32_t lsb)
{
    struct ntp_ts64 ts = ntp_from_ns(ns);
    ts.frac = (ts.frac & ~(mask | 1u)) | (rnd & mask) | lsb;
    ntp_put_ts(buf, ts);
}

static int has_nts_field(const uint8_t *pkt, const struct ntp_layout *lay)
{
    struct ntp_ef_iter it;
    struct ntp_ef ef;
    ntp_ef_iter_init(&it, pkt, lay);
    while (ntp_ef_next(&it, &ef))
        if (ef.type == NTP_EF_NTS_UNIQUE_ID || ef.type == NTP_EF_NTS_COOKIE ||
            ef.type == NTP_EF_NTS_COOKIE_PLACEH || ef.type == NTP_EF_NTS_AUTH)
            return 1;
    return 0;
}

/* The key of a request's MAC if we hold it and the MAC checks, else NULL (a crypto-NAK,
 * key ID 0, never checks). */
static const struct keys_key *request_key(const struct server *s, const uint8_t *pkt,
                                          const struct ntp_layout *lay, unsigned version)
{
    const struct keys_key *key;
    if (lay->mac_len == 0)
        return NULL;
    key = keys_find(s->keys, ntp_get_u32(pkt + lay->mac_off));
    if (!key || !keys_check(key, version, pkt, lay->mac_off, pkt + lay->mac_off, lay->mac_len))
        return NULL;
    return key;
}

static int8_t s8(uint8_t v)
{
    return (int8_t)(v < 128 ? (int)v : (int)v - 256);
}

void server_prepare(struct server *s, const struct server_ref *ref)
{
    struct server_template *t = &s->tmpl;
    uint8_t *h = t->hdr;
    memset(t, 0, sizeof *t);
    s->tmpl_ref = *ref;
    s->tmpl_valid = 1;
    t->synced = ref->synced;
    t->disp_cache_ms = -1;
    h[NTP_OFF_PRECISION] = (uint8_t)s->params.precision_log2;
    if (!ref->synced) {
        /* chrony without `local`: LI 3, stratum 0 (16 on the wire), refid 0, 1 s, 1 s. */
        h[NTP_OFF_LVM] = (uint8_t)(NTP_LEAP_UNSYNC << 6);
        ntp_put_u32(h + NTP_OFF_ROOT_DELAY, SHORT_1S);
        t->root_disp_ns = 1000000000LL;
        return;
    }
    h[NTP_OFF_LVM] = (uint8_t)((ref->leap & 3u) << 6);
    /* RFC 5905 §7.3: 16 (unsynchronised) and above are sent as 0. */
    h[NTP_OFF_STRATUM] = ref->stratum < NTP_STRATUM_UNSYNC ? ref->stratum : 0;
    ntp_put_u32(h + NTP_OFF_ROOT_DELAY, ref->root_delay);
    ntp_put_u32(h + NTP_OFF_REFID, ref->refid);
    t->ref_time_is_rx = ref->ref_time_is_rx;
    if (!ref->ref_time_is_rx && ref->ref_time_ns != 0)
        ntp_put_ts(h + NTP_OFF_REFERENCE, ntp_time_from_ns(ref->ref_time_ns));
    t->root_disp_ns = ref->root_disp_ns;
    t->disp_rate_ppb = ref->disp_rate_ppb;
    t->disp_time_ns = ref->disp_time_ns ? ref->disp_time_ns : ref->ref_time_ns;
}

/* Root dispersion at now_ns as NTP short, from the template: the same arithmetic as
 * server_root_dispersion(), redone only when the elapsed whole milliseconds change. The
 * nanoseconds with the cached answer form one window [disp_win_ns, disp_win_ns + 1 ms), so
 * a request within it costs a subtraction and a compare (no division). */
__attribute__((always_inline)) static inline uint32_t tmpl_dispersion(struct server_template *t,
                                                                      int64_t now_ns)
{
    int64_t elapsed;
    if ((uint64_t)now_ns - (uint64_t)t->disp_win_ns < (uint64_t)NS_PER_MS && t->disp_cache_ms >= 0)
        return t->disp_cache_short;
    if (t->disp_rate_ppb == 0) {
        if (t->disp_cache_ms < 0) {
            t->disp_cache_short = ntp_time_short_from_ns(t->root_disp_ns);
            t->disp_cache_ms = 0;
        }
        return t->disp_cache_short;
    }
    elapsed = now_ns - t->disp_time_ns;
    if (elapsed < 0) {
        elapsed = -elapsed / NS_PER_MS;
        /* now in (disp_time - (ms + 1) ms, disp_time - ms ms] */
        t->disp_win_ns = t->disp_time_ns - (elapsed + 1) * NS_PER_MS + 1;
    } else {
        elapsed /= NS_PER_MS;
        t->disp_win_ns = t->disp_time_ns + elapsed * NS_PER_MS;
    }
    if (elapsed > 0xFFFFFFFFLL) {
        elapsed = 0xFFFFFFFFLL;
        t->disp_win_ns = INT64_MIN; /* saturated (49 days): no window */
    }
    if (elapsed != t->disp_cache_ms) {
        t->disp_cache_ms = elapsed;
        t->disp_cache_short = ntp_time_short_from_ns(
            t->root_disp_ns + (int64_t)((uint64_t)elapsed * t->disp_rate_ppb / 1000));
    }
    return t->disp_cache_short;
}

/* server_answer()'s body, inlined into it and into server_answer_now() (where pend stays in
 * registers). */
__attribute__((always_inline)) static inline enum server_verdict
answer(struct server *s, struct clientlog *clientlog, const struct server_rx *rx, uint8_t *out,
       size_t out_size, size_t *out_len, struct server_pending *pend)
{
    const uint8_t *pkt = rx->pkt;
    struct ntp_layout lay;
    size_t n_ef, mac_len;
    int crypto_nak;
    enum ntp_verdict pv;
    enum server_verdict v;
    enum clientlog_limit lim = CLIENTLOG_ANSWER;
    int32_t idx = -1;
    int min_poll = -128, interleaved = 0, req_poll;
    int64_t prev_tx_ns = 0;
    unsigned version, mode, reply_mode;
    uint64_t rnd;
    uint32_t mask = s->fuzz_mask;

    *out_len = 0;
    pend->kind = 0;
    pend->clientlog_index = -1;
    pend->key = NULL;
    assert(s->tmpl_valid);
    if (rx->len == NTP_HEADER_LEN) {
        version = (pkt[0] >> 3) & 7u;
        /* the common case as ntp_check() has it, without the call: a bare header (lay is
         * then not filled in: only n_ef and mac_len are looked at, through these two) */
        if (version < NTP_MIN_VERSION || version > NTP_VERSION) {
            v = SERVER_DROP_VERSION;
            goto done;
        }
        n_ef = 0;
        mac_len = 0;
        crypto_nak = 0;
    } else {
        pv = ntp_check(pkt, rx->len, &lay);
        if (pv != NTP_OK) {
            v = pv == NTP_BAD_VERSION ? SERVER_DROP_VERSION : SERVER_DROP_MALFORMED;
            goto done;
        }
        /* read only now: a datagram may be shorter than one octet (an empty one) */
        version = (pkt[0] >> 3) & 7u;
        n_ef = lay.n_ef;
        mac_len = lay.mac_len;
        crypto_nak = lay.crypto_nak;
    }
    mode = pkt[0] & 7u;
    if (mode == NTP_MODE_CLIENT) {
        reply_mode = NTP_MODE_SERVER;
    } else if (mode == NTP_MODE_ACTIVE && (rx->from_peer || s->params.answer_unknown_active)) {
        reply_mode = NTP_MODE_PASSIVE;
    } else if (mode == NTP_MODE_RESERVED && version == 1 && rx->from->port != NTP_PORT) {
        /* NTPv1 had no mode field: a client is told by its port (chrony does the same). */
        reply_mode = NTP_MODE_SERVER;
    } else {
        v = SERVER_DROP_MODE;
        goto done;
    }
    if (n_ef > 0 && has_nts_field(pkt, &lay)) {
        v = SERVER_DROP_NTS;
        goto done;
    }
    if (out_size < NTP_HEADER_LEN + 4) {
        v = SERVER_DROP_NO_SPACE;
        goto done;
    }

    if (clientlog) {
        lim = clientlog_ntp_request(clientlog, rx->from, rx->rx_ns, &idx);
        if (lim == CLIENTLOG_DROP) {
            v = SERVER_DROP_RATELIMIT;
            goto done;
        }
        if (s->min_poll_of != clientlog) {
            s->min_poll_of = clientlog;
            s->min_poll = clientlog_ntp_min_poll(clientlog);
        }
        min_poll = s->min_poll;
    }

    if (mac_len > 0 || crypto_nak) {
        /* After the rate limit, as chronyd: a flood of bad MACs costs a lookup, not a hash. */
        pend->key = request_key(s, pkt, &lay, version);
        if (!pend->key || out_size < NTP_HEADER_LEN + mac_len) {
            pend->key = NULL;
            v = SERVER_DROP_AUTH;
            goto done;
        }
        pend->version = version;
        if (clientlog)
            clientlog_note_auth(clientlog);
    }

    rnd = fuzz_next(s);
    req_poll = s8(pkt[NTP_OFF_POLL]);
    if (lim == CLIENTLOG_KOD) {
        memset(out, 0, NTP_OFF_ORIGIN);
        out[NTP_OFF_LVM] = (uint8_t)(NTP_LEAP_UNSYNC << 6 | version << 3 | reply_mode);
        out[NTP_OFF_POLL] = (uint8_t)(req_poll > min_poll ? req_poll : min_poll);
        out[NTP_OFF_PRECISION] = (uint8_t)s->params.precision_log2;
        ntp_put_u32(out + NTP_OFF_REFID, NTP_KISS_RATE);
        put_fuzzed(out + NTP_OFF_RECEIVE, rx->rx_ns, mask, (uint32_t)rnd, 1);
        memcpy(out + NTP_OFF_ORIGIN, pkt + NTP_OFF_TRANSMIT, 8);
        memcpy(out + NTP_OFF_TRANSMIT, out + NTP_OFF_RECEIVE, 8);
        out[NTP_OFF_TRANSMIT + 7] &= 0xFE;
        *out_len = NTP_HEADER_LEN;
        v = SERVER_REPLY_KOD;
        goto done;
    }

    /* The reference's part comes ready-made; the rest is this request's. */
    memcpy(out, s->tmpl.hdr, NTP_OFF_ORIGIN);
    out[NTP_OFF_LVM] = (uint8_t)(out[NTP_OFF_LVM] | version << 3 | reply_mode);
    out[NTP_OFF_POLL] = (uint8_t)(req_poll > min_poll ? req_poll : min_poll);
    ntp_put_u32(out + NTP_OFF_ROOT_DISP, tmpl_dispersion(&s->tmpl, rx->rx_ns));
    {
        struct ntp_ts64 rts = rx_ntp(s, rx->rx_ns);
        rts.frac = (rts.frac & ~(mask | 1u)) | ((uint32_t)rnd & mask) | 1u;
        ntp_put_ts(out + NTP_OFF_RECEIVE, rts);
    }
    if (s->tmpl.ref_time_is_rx)
        memcpy(out + NTP_OFF_REFERENCE, out + NTP_OFF_RECEIVE, 8);

    /* Interleaved: v4, origin carries our RX marker, receive != transmit, and we hold the
     * TX time of the reply whose RX timestamp the origin is. */
    if (version == 4 && (pkt[NTP_OFF_ORIGIN + 7] & 1u) && idx >= 0 && s->params.interleaved &&
        memcmp(pkt + NTP_OFF_RECEIVE, pkt + NTP_OFF_TRANSMIT, 8) != 0 &&
        clientlog_get_tx(clientlog, idx, ntp_get_ts(pkt + NTP_OFF_ORIGIN), &prev_tx_ns))
        interleaved = 1;
    memcpy(out + NTP_OFF_ORIGIN, pkt + (interleaved ? NTP_OFF_RECEIVE : NTP_OFF_TRANSMIT), 8);
    /* With a MAC: as long as the request's MAC (checked to be the key's digest length). */
    *out_len = NTP_HEADER_LEN + (pend->key ? mac_len : 0);
    v = interleaved ? SERVER_REPLY_INTERLEAVED : SERVER_REPLY;
    pend->kind = interleaved ? 2 : 1;
    pend->clientlog_index = idx;
    pend->rnd = (uint32_t)(rnd >> 32);
    pend->prev_tx_ns = prev_tx_ns;

done:
    s->counts[v]++;
    return v;
}

enum server_verdict server_answer(struct server *s, struct clientlog *clientlog,
                                  const struct server_rx *rx, uint8_t *out, size_t out_size,
                                  size_t *out_len, struct server_pending *pend)
{
    return answer(s, clientlog, rx, out, out_size, out_len, pend);
}

/* server_finish()'s body (see answer()). */
__attribute__((always_inline)) static inline void finish(struct server *s,
                                                         struct clientlog *clientlog, uint8_t *out,
                                                         const struct server_pending *pend,
                                                         int64_t tx_ns)
{
    struct ntp_ts64 ts;
    if (pend->kind == 0)
        return;
    if (pend->kind == 2) {
        ts = ntp_from_ns(pend->prev_tx_ns);
    } else {
        /* a chunk's replies carry the clock read + their place x the send pace (daemon/
         * ntpserve): distinct times in the receive times' second */
        ts = rx_ntp(s, tx_ns);
    }
    ts.frac = (ts.frac & ~(s->fuzz_mask | 1u)) | (pend->rnd & s->fuzz_mask);
    ntp_put_ts(out + NTP_OFF_TRANSMIT, ts);
    if (pend->key) /* the MAC covers the finished header; server_answer() checked the room */
        (void)keys_sign(pend->key, pend->version, out, NTP_HEADER_LEN,
                        NTP_HEADER_LEN + 4 + keys_digest_len(pend->key, pend->version));
    if (clientlog) {
        clientlog_save_ts(clientlog, pend->clientlog_index, ntp_get_ts(out + NTP_OFF_RECEIVE),
                          tx_ns);
        if (pend->kind == 2)
            clientlog_note_interleaved(clientlog);
    }
}

void server_finish(struct server *s, struct clientlog *clientlog, uint8_t *out,
                   const struct server_pending *pend, int64_t tx_ns)
{
    finish(s, clientlog, out, pend, tx_ns);
}

enum server_verdict server_answer_now(struct server *s, struct clientlog *clientlog,
                                      const struct server_rx *rx, uint8_t *out, size_t out_size,
                                      size_t *out_len, int64_t tx_ns)
{
    struct server_pending pend;
    enum server_verdict v = answer(s, clientlog, rx, out, out_size, out_len, &pend);
    finish(s, clientlog, out, &pend, tx_ns);
    return v;
}

/* Field by field: the struct has padding, which callers need not have cleared. */
static int ref_equal(const struct server_ref *a, const struct server_ref *b)
{
    return a->synced == b->synced && a->leap == b->leap && a->stratum == b->stratum &&
           a->refid == b->refid && a->ref_time_ns == b->ref_time_ns &&
           a->root_delay == b->root_delay && a->root_disp_ns == b->root_disp_ns &&
           a->disp_rate_ppb == b->disp_rate_ppb && a->freq_ppm == b->freq_ppm &&
           a->disp_time_ns == b->disp_time_ns && a->ref_time_is_rx == b->ref_time_is_rx;
}

enum server_verdict server_respond(struct server *s, const struct server_ref *ref,
                                   struct clientlog *clientlog, const struct server_rx *rx,
                                   const struct clock_ops *clock, uint8_t *out, size_t out_size,
                                   size_t *out_len)
{
    struct server_pending pend;
    enum server_verdict v;
    if (!s->tmpl_valid || !ref_equal(&s->tmpl_ref, ref))
        server_prepare(s, ref);
    v = server_answer(s, clientlog, rx, out, out_size, out_len, &pend);
    /* The clock is read last, as close to sending as this layer can get. */
    if (pend.kind != 0)
        server_finish(s, clientlog, out, &pend,
                      clock ? clock->read_real_ns(clock->ctx) : rx->rx_ns);
    return v;
}

int server_tx_timestamp(struct clientlog *clientlog, const struct addr *to, const uint8_t *reply,
                        size_t reply_len, int64_t tx_ns)
{
    if (!clientlog || reply_len < NTP_HEADER_LEN)
        return 0;
    return clientlog_update_tx(clientlog, to, ntp_get_ts(reply + NTP_OFF_RECEIVE), tx_ns);
}
