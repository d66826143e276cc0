/* The client log: a fixed-size table of the clients that sent us requests, with per-client
 * hit/drop counts, average request intervals, response rate limiting (chrony's `ratelimit`,
 * `ntsratelimit`, `cmdratelimit`), the timestamps server interleaved mode needs, and the
 * server-wide counters `serverstats` reports.
 *
 * Memory is allocated once in clientlog_new() from `clientloglimit` bytes and never grows:
 * CLIENTLOG_RECORD_BYTES per record (record + hash head), a power of two of records between
 * 16 and 2^24 (chrony: default 524288 bytes ~ 4096 clients). When the table is full the
 * least recently seen client is evicted (counted as "Client log records dropped").
 * Lookup is O(1) expected: a keyed hash (seeded, so remote hosts cannot aim collisions)
 * with chaining by index, and an LRU list by index.
 *
 * Rate limiting (per service): a token bucket, one token per 2^interval s, at most `burst`
 * tokens, one token per response, implemented as a GCRA (a "theoretical arrival time" per
 * client, so no division on the hot path). A request without a token is dropped, except that
 * 1 in 2^leak of them is answered anyway at random, so a limited client still sees a
 * response now and then (chrony's leak). If a client's request rate while being dropped is
 * more than twice its rate while answered (a client that retries faster when not answered),
 * the leak is inverted and most requests are answered, as chrony does, to reduce traffic.
 * chrony 4.3 never sends a RATE kiss-o'-death; optional `kod_log2` >= 0 replaces 1 in
 * 2^kod_log2 of the silent drops with one (off by default).
 *
 * Times are the local real clock in ns (the receive timestamps of the requests).
 * Pure: no clock reads; randomness from the seeded PRNG.
 */
#ifndef TEMPUS_CORE_CLIENTLOG_H
#define TEMPUS_CORE_CLIENTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/ntp_time.h"

/* Bytes of `clientloglimit` each record accounts for (chrony's default 524288 -> 4096). */
#define CLIENTLOG_RECORD_BYTES  128
#define CLIENTLOG_MIN_RECORDS   16
#define CLIENTLOG_MAX_RECORDS   (1u << 24)
#define CLIENTLOG_DEFAULT_LIMIT 524288

/* chrony's interval clamp for ratelimit (log2 s) and the burst/leak ranges. */
#define CLIENTLOG_MIN_INTERVAL_LOG2 (-19)
#define CLIENTLOG_MAX_INTERVAL_LOG2 12

/* Report value of an interval with no data (CLIENT_ACCESSES_BY_INDEX3). */
#define CLIENTLOG_NO_INTERVAL 127
/* Report value of a "last hit ago" that never happened. */
#define CLIENTLOG_NEVER 0xFFFFFFFFu

enum clientlog_service {
    CLIENTLOG_NTP = 0,
    CLIENTLOG_NKE = 1, /* NTS-KE */
    CLIENTLOG_CMD = 2, /* control protocol */
    CLIENTLOG_N_SERVICES
};

/* One service's `ratelimit interval I burst B leak L` (chrony defaults when present: 3, 8,
 * 2; values are clamped to chrony's ranges by clientlog_new()). */
struct clientlog_ratelimit {
    int enabled;
    int interval_log2; /* -19..12 */
    int burst;         /* 1..255 */
    int leak;          /* 1..4: 1 in 2^leak excess requests answered */
    int kod_log2;      /* -1: never send RATE KoD (chrony 4.3); else 1 in 2^kod_log2 drops */
};

struct clientlog_params {
    size_t limit_bytes; /* clientloglimit; default 524288 */
    int disabled;       /* noclientlog: no records (counters still count) */
    struct clientlog_ratelimit limit[CLIENTLOG_N_SERVICES];
    uint64_t seed; /* hash key and leak/KoD randomness */
};

/* Defaults: 524288 bytes, logging on, all rate limits off (kod_log2 -1). */
void clientlog_params_default(struct clientlog_params *p);

/* Fills r with chrony's defaults for a bare `ratelimit` line: enabled, 3, 8, 2, no KoD. */
void clientlog_ratelimit_default(struct clientlog_ratelimit *r);

struct clientlog;

/* Allocates the table (the only allocation). NULL on ENOMEM. */
struct clientlog *clientlog_new(const struct clientlog_params *p);
void clientlog_free(struct clientlog *cl);

/* Number of record slots (0 when disabled): CLIENT_ACCESSES_BY_INDEX3's n_indices. */
uint32_t clientlog_capacity(const struct clientlog *cl);

/* Records in use. */
uint32_t clientlog_count(const struct clientlog *cl);

/* Logs a request of service from addr (port ignored) received at now_ns: counts the hit,
 * updates the client's interval average and tokens, makes it most recently used, creating
 * (and if needed evicting) a record. Returns the record index, or -1 when logging is
 * disabled (the server-wide hit counter still counts). */
int32_t clientlog_access(struct clientlog *cl, enum clientlog_service service,
                         const struct addr *addr, int64_t now_ns);

enum clientlog_limit {
    CLIENTLOG_ANSWER = 0, /* within the limit, or leaked */
    CLIENTLOG_DROP = 1,   /* over the limit: say nothing */
    CLIENTLOG_KOD = 2,    /* over the limit: send a RATE kiss-o'-death instead */
};

/* Decides whether to answer the request just logged at index (from clientlog_access(); -1
 * always answers). Counts drops and KoDs. Call once per request, after clientlog_access(). */
enum clientlog_limit clientlog_limit(struct clientlog *cl, enum clientlog_service service,
                                     int32_t index);

/* clientlog_access(CLIENTLOG_NTP, ...) then clientlog_limit() in one call (the server's per
 * request path): sets *index (-1 when logging is disabled) and returns the verdict. */
enum clientlog_limit clientlog_ntp_request(struct clientlog *cl, const struct addr *addr,
                                           int64_t now_ns, int32_t *index);

/* A hint before a batch of requests, with no effect on any state or result: starts loading
 * the hash buckets of n addresses, then the records those buckets lead to, so that the
 * clientlog_ntp_request() calls that follow find their lines in the cache (a server that got
 * its CPU back from another process finds them evicted). The addresses are `stride` bytes
 * apart (a field of the caller's array of structs). For IPv4 clients (another address only
 * loads a line its request will not need). */
void clientlog_prefetch(const struct clientlog *cl, const struct addr *first, size_t stride, int n);

/* Minimum poll the server announces: the NTP ratelimit interval when enabled, else -128. */
int clientlog_ntp_min_poll(const struct clientlog *cl);

/* Server interleaved mode: the TX time saved for the request whose receive timestamp (as
 * sent on the wire, our RX) was rx_wire. Returns 1 and sets *tx_ns if record index holds
 * exactly that rx_wire, else 0. */
int clientlog_get_tx(const struct clientlog *cl, int32_t index, struct ntp_ts64 rx_wire,
                     int64_t *tx_ns);

/* Saves (rx_wire, tx_ns) for the response just sent from record index (replacing the
 * previous pair). index -1 is ignored. */
void clientlog_save_ts(struct clientlog *cl, int32_t index, struct ntp_ts64 rx_wire, int64_t tx_ns);

/* Replaces the saved TX time with a better one (a kernel TX timestamp that arrived after
 * sending) if addr's record still holds rx_wire. Returns 1 if updated. */
int clientlog_update_tx(struct clientlog *cl, const struct addr *addr, struct ntp_ts64 rx_wire,
                        int64_t tx_ns);

/* Counts an interleaved response / an authenticated request (serverstats). */
void clientlog_note_interleaved(struct clientlog *cl);
void clientlog_note_auth(struct clientlog *cl);

/* Server-wide counters (SERVER_STATS3/4 names). Counters wrap only past 2^64. */
struct clientlog_stats {
    uint64_t ntp_hits;
    uint64_t nke_hits;
    uint64_t cmd_hits;
    uint64_t ntp_drops; /* rate-limited (dropped or answered with KoD) */
    uint64_t nke_drops;
    uint64_t cmd_drops;
    uint64_t log_drops; /* records evicted to make room */
    uint64_t ntp_auth_hits;
    uint64_t ntp_interleaved_hits;
    uint64_t ntp_timestamps;   /* records holding interleaved timestamps */
    uint64_t ntp_span_seconds; /* newest - oldest saved TX time */
    uint64_t ntp_kod_sent;     /* RATE KoDs (tempus extension, not in chrony's reply) */
};

/* Snapshot of the counters (timestamps held and span are computed by a scan). */
void clientlog_get_stats(const struct clientlog *cl, struct clientlog_stats *out);

/* One `clients` row (CLIENT_ACCESSES_BY_INDEX3 record). */
struct clientlog_report {
    struct addr addr; /* port 0 */
    uint32_t ntp_hits, nke_hits, cmd_hits;
    uint32_t ntp_drops, nke_drops, cmd_drops;
    int8_t ntp_interval; /* log2 s of the average interval; CLIENTLOG_NO_INTERVAL = none */
    int8_t nke_interval;
    int8_t cmd_interval;
    int8_t ntp_timeout_interval; /* the same for requests that followed a drop */
    uint32_t last_ntp_hit_ago;   /* s; CLIENTLOG_NEVER */
    uint32_t last_nke_hit_ago;
    uint32_t last_cmd_hit_ago;
};

/* Fills *out from slot index (0 .. capacity-1) at now_ns. Returns 1 if the slot holds a
 * client, 0 if it is empty or out of range. */
int clientlog_report(const struct clientlog *cl, uint32_t index, int64_t now_ns,
                     struct clientlog_report *out);

/* Resets slot index's counters and intervals (the `clients -r` option); the client stays. */
void clientlog_reset_record(struct clientlog *cl, uint32_t index);

#endif
