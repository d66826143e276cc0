/* The server side of NTP: answers client requests (mode 3; mode 1 from a peer; NTPv1 mode 0)
 * with mode 4 (or 2) replies built from a published snapshot of the reference state, as
 * chrony 4.3 answers them (spec: ntp-essentials §8-§9).
 *
 * The caller (daemon executor, simulator) does the access check (allow/deny) first, then:
 *   v = server_respond(&srv, &ref, clientlog, &rx, &clock, out, sizeof out, &out_len);
 *   if (server_verdict_sends(v)) send out[0..out_len) to rx.from;
 *   later, if a kernel TX timestamp of that reply arrives: server_tx_timestamp(...).
 *
 * Rules implemented:
 * - valid requests: length >= 48 and a multiple of 4, extension fields well formed (wire/ntp),
 *   version 1..4, mode 3; mode 1 if rx->from_peer (or params.answer_unknown_active); mode 0
 *   only from an NTPv1 client on a source port other than 123 (answered as mode 3).
 * - reply: LI = our leap (3 when unsynchronised), VN = request's VN, mode 4 (2 to mode 1),
 *   stratum (0 when unsynchronised), poll = max(request poll, ratelimit interval if
 *   enabled), our precision, root delay, root dispersion grown to now, refid, reference time,
 *   origin = request transmit, receive = RX timestamp, transmit = the clock read as late as
 *   possible (through clock->read_real_ns, just before the bytes are finished).
 *   Unsynchronised (ref->synced == 0): LI 3, stratum 0, refid 0, root delay and dispersion
 *   1.0 s, reference 0 (chrony without `local`).
 * - RX/TX timestamps: bits below our precision are random; the receive LSB is forced to 1
 *   and the transmit LSB to 0 (chrony's marks: a request's origin with LSB 1 may be an
 *   interleaved one).
 * - interleaved mode (chrony): a v4 request whose origin has LSB 1, whose receive differs
 *   from its transmit, and whose origin equals the RX timestamp we saved for this client,
 *   gets origin = request receive, receive = this RX, transmit = the saved (precise) TX of
 *   our previous reply. Needs the client log.
 * - the reply is 48 octets, never longer than the request; extension fields of the request
 *   are ignored (not echoed). A request with NTS extension fields is dropped (no NTS keys;
 *   the client would reject an unauthenticated answer).
 * - symmetric keys (core/keys, s->keys): a request with a MAC whose key we hold and whose
 *   digest checks gets a reply with a MAC made with the same key and the same digest length
 *   (so exactly as long as the request without its extension fields: never longer), and is
 *   counted in the client log's authenticated requests. A MAC with an unknown key, a wrong
 *   digest or length, and a crypto-NAK (4 zero octets) are dropped: chronyd 4.3 does the
 *   same (measured; RFC 5905 would answer an unknown key with a crypto-NAK). The check
 *   comes after the rate limit, as in chronyd.
 * - rate limiting through the client log: dropped silently, or a RATE KoD if configured.
 *
 * No allocation, no logging, no floating point on this path.
 */
#ifndef TEMPUS_CORE_SERVER_H
#define TEMPUS_CORE_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/ntp_time.h"
#include "base/prng.h"
#include "core/clientlog.h"
#include "core/clock_ops.h"
#include "core/keys.h"

/* The reference state the server answers from, published by the engine after each clock
 * update (and by the daemon when `local` takes over). Plain values: copy it freely. */
struct server_ref {
    int synced;             /* 0: answer as unsynchronised, the fields below are ignored */
    uint8_t leap;           /* enum ntp_leap to announce: 0, 1 (insert), 2 (delete), 3 */
    uint8_t stratum;        /* 1..15 */
    uint32_t refid;         /* host order */
    int64_t ref_time_ns;    /* last clock update, local real time; 0 = unset */
    uint32_t root_delay;    /* NTP short 16.16 s */
    int64_t root_disp_ns;   /* root dispersion at ref_time_ns */
    uint32_t disp_rate_ppb; /* growth of root dispersion: skew + |residual freq| +
                             * maxclockerror, in ns per s */
    double freq_ppm;        /* informational (reports); unused on the packet path */
    int64_t disp_time_ns;   /* when root_disp_ns held (0: at ref_time_ns) */
    int ref_time_is_rx;     /* reference time = each request's receive time (the local
                             * reference, which is "now"); ref_time_ns is then ignored */
};

/* Our clock's precision is a property of the server, not of the snapshot. */
struct server_params {
    int8_t precision_log2;     /* e.g. -26 on Linux with ns timestamps */
    int interleaved;           /* answer interleaved requests (chrony: always); default 1 */
    int answer_unknown_active; /* answer mode 1 from hosts that are not configured peers
                                * (chrony does, as symmetric passive); default 0 */
};

void server_params_default(struct server_params *p);

/* Outcome of one request. Keep server_verdict_name() in step. */
enum server_verdict {
    SERVER_REPLY = 0,         /* basic reply in out */
    SERVER_REPLY_INTERLEAVED, /* interleaved reply in out */
    SERVER_REPLY_KOD,         /* RATE kiss-o'-death in out (rate limited, kod on) */
    SERVER_DROP_MALFORMED,    /* short, not a multiple of 4, bad extension fields/MAC */
    SERVER_DROP_VERSION,      /* version 0 or 5..7 */
    SERVER_DROP_MODE,         /* not a request we answer (mode 2, 4..7, 1 not from a peer) */
    SERVER_DROP_RATELIMIT,    /* over the client's rate limit */
    SERVER_DROP_NO_SPACE,     /* out_size < 52 (caller bug) */
    SERVER_DROP_NTS,          /* an NTS request: we have no NTS keys (chrony drops too) */
    SERVER_DROP_AUTH,         /* a MAC with an unknown key or a bad digest, or a crypto-NAK */
    SERVER_VERDICT_COUNT
};

const char *server_verdict_name(enum server_verdict v);

/* 1 if the verdict leaves a datagram in out to send (inline: once per request). */
static inline int server_verdict_sends(enum server_verdict v)
{
    return v <= SERVER_REPLY_KOD;
}

/* What server_prepare() precomputes from a struct server_ref: the reply's first 24 octets
 * (LI, stratum, precision, root delay, refid, reference time; VN, mode and poll are the
 * request's) and the root dispersion's integer growth, so that a reply costs no floating
 * point and no conversion that the reference alone decides. */
struct server_template {
    uint8_t hdr[24];
    int synced;
    int ref_time_is_rx;
    int64_t disp_time_ns; /* root_disp_ns holds at this time */
    int64_t root_disp_ns;
    uint32_t disp_rate_ppb; /* 0: no growth */
    int64_t disp_cache_ms;  /* last whole ms of elapsed time asked for, and its answer */
    uint32_t disp_cache_short;
    int64_t disp_win_ns; /* the times that get disp_cache_short: [this, this + 1 ms) */
};

/* Server state: parameters, randomness for timestamp fuzz, per-verdict counters, the reply
 * template. Plain struct, no heap. */
struct server {
    struct server_params params;
    struct prng prng;
    uint64_t counts[SERVER_VERDICT_COUNT];
    uint32_t fuzz_mask;
    uint64_t fuzz_state; /* xorshift64* state for the timestamp fuzz, seeded from prng */
    struct server_template tmpl;
    struct server_ref tmpl_ref; /* what tmpl was built from */
    int tmpl_valid;
    const struct keys *keys; /* borrowed, NULL: none (every MAC is dropped); the daemon sets
                              * it after reading the key file and on `rekey` */
    /* the client log's minimum poll (its ratelimit interval), read once per client log */
    const struct clientlog *min_poll_of;
    int min_poll;
    /* the second the last receive (or transmit) timestamp fell in: its start and its NTP
     * seconds (a batch's timestamps share it: each conversion a subtraction and a multiply) */
    int64_t rx_sec_start_ns;
    uint32_t rx_sec_ntp;
};

/* Initialises s with params (copied) and a seed for the timestamp fuzz. */
void server_init(struct server *s, const struct server_params *params, uint64_t seed);

/* One received request. */
struct server_rx {
    const uint8_t *pkt; /* borrowed */
    size_t len;
    const struct addr *from; /* source address and port (borrowed) */
    int64_t rx_ns;           /* receive timestamp on the local real clock */
    int from_peer;           /* from a configured `peer`: mode 1 is answered */
};

/* Answers rx into out (out_size >= 52 bytes, and >= the request's length for a reply with a
 * MAC). Reads the clock once, last, via
 * clock->read_real_ns (clock may be NULL: transmit = rx->rx_ns, for tests and the
 * simulator's instantaneous server). clientlog may be NULL (no rate limit, no interleaved).
 * Sets *out_len (0 when nothing is to be sent). Counts the verdict in s->counts. */
enum server_verdict server_respond(struct server *s, const struct server_ref *ref,
                                   struct clientlog *clientlog, const struct server_rx *rx,
                                   const struct clock_ops *clock, uint8_t *out, size_t out_size,
                                   size_t *out_len);

/* Builds s's reply template from ref (the published snapshot). Call after every change of
 * the reference (the daemon: after each engine call); server_respond() does it itself when
 * its ref differs from the last one. */
void server_prepare(struct server *s, const struct server_ref *ref);

/* What server_answer() leaves for server_finish(): the transmit side of one reply. */
struct server_pending {
    int32_t clientlog_index;    /* -1: none */
    int kind;                   /* 0 nothing to finish (KoD, drop), 1 basic, 2 interleaved */
    uint32_t rnd;               /* fuzz of the transmit timestamp */
    int64_t prev_tx_ns;         /* interleaved: the TX time of our previous reply */
    const struct keys_key *key; /* non-NULL: append a MAC with this key (borrowed from
                                 * s->keys, valid until the keys change) */
    unsigned version;           /* the reply's NTP version (for the MAC's length) */
};

/* The fast path, split around the clock read: server_answer() does all of server_respond()
 * from s's template (server_prepare() first) except the transmit timestamp; the caller reads
 * the clock as late as it can and calls server_finish(), which writes the transmit timestamp
 * (tx_ns, or the saved one in interleaved mode) and saves the pair the client log keeps for
 * interleaved mode. clientlog must be the same in both calls. Replies of one batch may be
 * answered first and finished later, in order. */
enum server_verdict server_answer(struct server *s, struct clientlog *clientlog,
                                  const struct server_rx *rx, uint8_t *out, size_t out_size,
                                  size_t *out_len, struct server_pending *pend);
void server_finish(struct server *s, struct clientlog *clientlog, uint8_t *out,
                   const struct server_pending *pend, int64_t tx_ns);

/* server_answer() and server_finish() in one call, for a caller that read the clock for the
 * transmit timestamp before the request (tx_ns >= the request's receive time): the daemon's
 * batched send, which reads it once per chunk of replies. The same bytes as the two calls. */
enum server_verdict server_answer_now(struct server *s, struct clientlog *clientlog,
                                      const struct server_rx *rx, uint8_t *out, size_t out_size,
                                      size_t *out_len, int64_t tx_ns);

/* NTP timestamp of a real time in ns (>= 0), integer multiply and shift only: within one
 * fraction unit of ntp_time_from_ns(). */
struct ntp_ts64 server_ntp_from_ns(int64_t real_ns);

/* A kernel (or hardware) TX timestamp tx_ns of a reply we sent to `to` (reply bytes
 * borrowed, reply_len >= 48) arrived: keep it for that client's next interleaved reply.
 * Returns 1 when the client's record still held that reply's receive timestamp and took it,
 * else 0. */
int server_tx_timestamp(struct clientlog *clientlog, const struct addr *to, const uint8_t *reply,
                        size_t reply_len, int64_t tx_ns);

/* Root dispersion of ref at now_ns as NTP short format (what a reply would carry). */
uint32_t server_root_dispersion(const struct server_ref *ref, int64_t now_ns);

#endif
