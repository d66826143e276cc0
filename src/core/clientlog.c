/* The client log: see clientlog.h for the semantics. */
#include "core/clientlog.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"

/* The per-request helpers: inlined, a call's register saves cost as much as their bodies. */
#define INLINE __attribute__((always_inline)) static inline

#define NONE     UINT32_MAX
#define NO_RATE  INT8_MIN
#define NEVER_NS INT64_MIN
#define NS_PER_S 1000000000LL

/* Intervals are kept as log2(seconds) in quarter steps ("q4"): int8 covers 2^-32..2^31 s.
 *
 * A record is split in two: what an NTP request reads and writes (the lookup, the LRU links,
 * the NTP service's counters, interval, rate-limit state and interleaved timestamps) in one
 * 64-byte, line-aligned `struct hot`, and the rest (the key's last 8 bytes, which only IPv6
 * uses, and the NKE and command services) in `struct cold`. A request then touches one cache
 * line of the record instead of the two or three a 120-byte record straddles; with more
 * clients than the caches hold, each of those lines is a miss (session 6, docs/design/bench.md).
 * hot + cold + the hash head still fit CLIENTLOG_RECORD_BYTES (chrony's records per
 * clientloglimit byte). */
struct hot {
    int64_t last_ns;             /* last NTP request */
    int64_t tat_ns;              /* NTP GCRA theoretical arrival time */
    int64_t ts_tx_ns;            /* interleaved: the TX time of the reply whose RX is ts_rx */
    struct ntp_ts64 ts_rx;       /* interleaved: our RX timestamp as sent (0: none) */
    uint8_t key_lo[8];           /* the key's first 8 bytes (IPv4: the address, then zeros) */
    uint32_t chain;              /* next record in the same hash bucket */
    uint32_t lru_prev, lru_next; /* towards most / least recently used */
    uint32_t hits;               /* NTP requests */
    uint32_t ntp_drops;
    uint8_t family;         /* 0: empty slot, 4 or 6 */
    uint8_t drop_flags;     /* bit per service: the previous request was not answered */
    int8_t rate_q4;         /* NTP interval */
    int8_t timeout_rate_q4; /* NTP only: interval of requests that followed a drop */
};

/* The NKE (index 0) and command (1) services, and the key's last 8 bytes. */
struct cold {
    int64_t last_ns[2];
    int64_t tat_ns[2];
    uint32_t hits[2];
    uint16_t drops16[2]; /* saturating (rarely limited) */
    uint8_t key_hi[8];
    int8_t rate_q4[2];
};

#define HOT_ALIGN 64
_Static_assert(sizeof(struct hot) == HOT_ALIGN, "the hot part is one cache line");
_Static_assert(sizeof(struct hot) + sizeof(struct cold) + sizeof(uint32_t) <=
                   CLIENTLOG_RECORD_BYTES,
               "a record must fit the per-record share of clientloglimit");

struct limit_cfg {
    int enabled;
    int interval_log2;
    int64_t period_ns; /* one token per period */
    int64_t tau_ns;    /* (burst - 1) periods of credit */
    uint32_t leak_mask;
    int kod;
    uint32_t kod_mask;
};

struct clientlog {
    struct hot *hot; /* HOT_ALIGN-aligned, within hot_mem */
    void *hot_mem;
    struct cold *cold;
    uint32_t *heads;
    uint32_t cap, count, mask;
    unsigned shift;              /* 64 - log2(cap): hash_v4 keeps the top bits */
    uint32_t lru_head, lru_tail; /* most, least recently used */
    uint64_t k0, k1;             /* hash key */
    struct prng prng;
    struct limit_cfg lim[CLIENTLOG_N_SERVICES];
    struct clientlog_stats st;
};

void clientlog_ratelimit_default(struct clientlog_ratelimit *r)
{
    r->enabled = 1;
    r->interval_log2 = 3;
    r->burst = 8;
    r->leak = 2;
    r->kod_log2 = -1;
}

void clientlog_params_default(struct clientlog_params *p)
{
    memset(p, 0, sizeof *p);
    p->limit_bytes = CLIENTLOG_DEFAULT_LIMIT;
    for (int i = 0; i < CLIENTLOG_N_SERVICES; i++) {
        clientlog_ratelimit_default(&p->limit[i]);
        p->limit[i].enabled = 0;
    }
}

static int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void setup_limit(struct limit_cfg *c, const struct clientlog_ratelimit *r)
{
    int interval =
        clamp_int(r->interval_log2, CLIENTLOG_MIN_INTERVAL_LOG2, CLIENTLOG_MAX_INTERVAL_LOG2);
    int burst = clamp_int(r->burst, 1, 255);
    int leak = clamp_int(r->leak, 1, 4);
    c->enabled = r->enabled;
    c->interval_log2 = interval;
    c->period_ns = interval >= 0 ? NS_PER_S << interval : NS_PER_S >> -interval;
    c->tau_ns = (int64_t)(burst - 1) * c->period_ns;
    c->leak_mask = (1u << leak) - 1;
    c->kod = r->kod_log2 >= 0;
    c->kod_mask = c->kod ? (1u << clamp_int(r->kod_log2, 0, 16)) - 1 : 0;
}

static uint32_t records_for(size_t limit_bytes)
{
    uint32_t n = CLIENTLOG_MIN_RECORDS;
    while (n < CLIENTLOG_MAX_RECORDS && (size_t)n * 2 * CLIENTLOG_RECORD_BYTES <= limit_bytes)
        n *= 2;
    return n;
}

struct clientlog *clientlog_new(const struct clientlog_params *p)
{
    struct clientlog *cl = calloc(1, sizeof *cl);
    if (!cl)
        return NULL;
    prng_seed(&cl->prng, p->seed);
    cl->k0 = prng_next_u64(&cl->prng);
    cl->k1 = prng_next_u64(&cl->prng);
    for (int i = 0; i < CLIENTLOG_N_SERVICES; i++)
        setup_limit(&cl->lim[i], &p->limit[i]);
    cl->lru_head = cl->lru_tail = NONE;
    if (!p->disabled) {
        cl->cap = records_for(p->limit_bytes);
        cl->mask = cl->cap - 1;
        cl->shift = 64;
        for (uint32_t n = cl->cap; n > 1; n /= 2)
            cl->shift--;
        /* calloc, not aligned_alloc + memset: a large table comes zeroed from mmap and its
         * pages count in RSS only once clients use them (as before the split); one spare
         * record's room to align the start to a cache line. */
        cl->hot_mem = calloc(cl->cap + 1, sizeof *cl->hot);
        cl->cold = calloc(cl->cap, sizeof *cl->cold);
        cl->heads = malloc(cl->cap * sizeof *cl->heads);
        if (!cl->hot_mem || !cl->cold || !cl->heads) {
            clientlog_free(cl);
            return NULL;
        }
        cl->hot =
            (struct hot *)(void *)((char *)cl->hot_mem +
                                   (HOT_ALIGN - (uintptr_t)cl->hot_mem % HOT_ALIGN) % HOT_ALIGN);
        assert((uintptr_t)cl->hot % HOT_ALIGN == 0);
        memset(cl->heads, 0xFF, cl->cap * sizeof *cl->heads); /* all NONE */
    }
    return cl;
}

void clientlog_free(struct clientlog *cl)
{
    if (!cl)
        return;
    free(cl->hot_mem);
    free(cl->cold);
    free(cl->heads);
    free(cl);
}

uint32_t clientlog_capacity(const struct clientlog *cl)
{
    return cl->cap;
}

uint32_t clientlog_count(const struct clientlog *cl)
{
    return cl->count;
}

/* IPv4, the common case: one keyed multiply of the 32-bit address; the table index is the
 * product's top bits (Fibonacci hashing), which depend on all the address bits and on the key.
 * (Session 2 took bits 32 and up, which spread neighbouring addresses less well: 21
 * instructions a lookup on respond-bench's 2000 addresses, from longer chains.) */
INLINE uint32_t hash_v4(const struct clientlog *cl, uint32_t ip)
{
    uint64_t h = ((uint64_t)ip ^ cl->k0) * 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(h >> cl->shift); /* the top bits: the best mixed of a product */
}

static uint32_t hash_key(const struct clientlog *cl, uint8_t family, const uint8_t key[16])
{
    uint64_t a, b, h;
    if (family == 4) {
        uint32_t ip;
        memcpy(&ip, key, 4);
        return hash_v4(cl, ip);
    }
    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    h = (a ^ cl->k0) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    h = (h ^ b ^ cl->k1 ^ family) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return (uint32_t)h & cl->mask;
}

INLINE void lru_unlink(struct clientlog *cl, uint32_t i)
{
    struct hot *r = &cl->hot[i];
    if (r->lru_prev != NONE)
        cl->hot[r->lru_prev].lru_next = r->lru_next;
    else
        cl->lru_head = r->lru_next;
    if (r->lru_next != NONE)
        cl->hot[r->lru_next].lru_prev = r->lru_prev;
    else
        cl->lru_tail = r->lru_prev;
}

INLINE void lru_push_front(struct clientlog *cl, uint32_t i)
{
    struct hot *r = &cl->hot[i];
    r->lru_prev = NONE;
    r->lru_next = cl->lru_head;
    if (cl->lru_head != NONE)
        cl->hot[cl->lru_head].lru_prev = i;
    else
        cl->lru_tail = i;
    cl->lru_head = i;
}

/* Record i's 16-byte key. */
static void record_key(const struct clientlog *cl, uint32_t i, uint8_t key[16])
{
    memcpy(key, cl->hot[i].key_lo, 8);
    memcpy(key + 8, cl->cold[i].key_hi, 8);
}

static void chain_remove(struct clientlog *cl, uint32_t i)
{
    uint8_t key[16];
    uint32_t *link;
    record_key(cl, i, key);
    link = &cl->heads[hash_key(cl, cl->hot[i].family, key)];
    while (*link != i) {
        /* The record is in its bucket's chain by construction. */
        link = &cl->hot[*link].chain;
    }
    *link = cl->hot[i].chain;
}

static void record_init(struct clientlog *cl, uint32_t i, uint8_t family, const uint8_t key[16])
{
    struct hot *h = &cl->hot[i];
    struct cold *c = &cl->cold[i];
    memset(h, 0, sizeof *h);
    memset(c, 0, sizeof *c);
    h->family = family;
    memcpy(h->key_lo, key, 8);
    memcpy(c->key_hi, key + 8, 8);
    h->rate_q4 = NO_RATE;
    h->timeout_rate_q4 = NO_RATE;
    h->last_ns = NEVER_NS;
    h->tat_ns = NEVER_NS;
    for (int s = 0; s < 2; s++) {
        c->rate_q4[s] = NO_RATE;
        c->last_ns[s] = NEVER_NS;
        c->tat_ns[s] = NEVER_NS;
    }
}

/* Normalises an address to (family byte, 16-byte key). 0 if the family is unknown. */
static uint8_t make_key(const struct addr *a, uint8_t key[16])
{
    if (a->family == ADDR_INET4) {
        uint64_t zero = 0;
        memcpy(key, a->bytes, 4);
        memset(key + 4, 0, 4);
        memcpy(key + 8, &zero, 8);
        return 4;
    }
    if (a->family == ADDR_INET6) {
        memcpy(key, a->bytes, 16);
        return 6;
    }
    memset(key, 0, 16);
    return 0;
}

/* Record i holds (family, key): the hot half first, the cold half (IPv6's) only if needed. */
static int key_equal(const struct clientlog *cl, uint32_t i, uint8_t family, const uint8_t *key)
{
    uint64_t a0, a1, b0, b1;
    if (cl->hot[i].family != family)
        return 0;
    memcpy(&a0, cl->hot[i].key_lo, 8);
    memcpy(&b0, key, 8);
    if (a0 != b0)
        return 0;
    memcpy(&a1, cl->cold[i].key_hi, 8);
    memcpy(&b1, key + 8, 8);
    return a1 == b1;
}

static uint32_t find(const struct clientlog *cl, uint8_t family, const uint8_t key[16],
                     uint32_t bucket)
{
    uint32_t i = cl->heads[bucket];
    while (i != NONE) {
        if (key_equal(cl, i, family, key))
            return i;
        i = cl->hot[i].chain;
    }
    return NONE;
}

/* find() for IPv4: one 32-bit compare per record (the other 12 key bytes are zero), hot
 * half only. */
INLINE uint32_t find_v4(const struct clientlog *cl, uint32_t ip, uint32_t bucket)
{
    uint32_t i = cl->heads[bucket];
    while (i != NONE) {
        const struct hot *r = &cl->hot[i];
        uint32_t rip;
        memcpy(&rip, r->key_lo, 4);
        if (rip == ip && r->family == 4)
            return i;
        i = r->chain;
    }
    return NONE;
}

/* log2(ns / 1e9) in quarter steps, rounded; a piecewise-linear log2 is plenty here. */
INLINE int8_t interval_q4(int64_t ns)
{
    int e, m, q16, q4;
    uint64_t v;
    if (ns <= 0)
        return -127;
    v = (uint64_t)ns;
    e = 63 - __builtin_clzll(v);
    m = (int)((e >= 4 ? v >> (e - 4) : v << (4 - e)) & 15);
    q16 = e * 16 + m; /* log2(ns) in 1/16 */
    /* 478 = 16 log2(1e9); floor division (q16 >= 0: the dividend is positive, so a shift) */
    q4 = (int)((unsigned)(q16 - 478 + 2 + 1024) >> 2) - 256;
    return (int8_t)clamp_int(q4, -127, 127);
}

INLINE void update_rate(int8_t *rate, int8_t sample)
{
    int r = *rate, d, step;
    if (r == NO_RATE) {
        *rate = sample;
        return;
    }
    /* Exponential moving average with weight 1/4, moving at least one step. */
    d = sample - r;
    step = d / 4;
    if (step == 0 && d != 0)
        step = d > 0 ? 1 : -1;
    *rate = (int8_t)(r + step);
}

/* Where service's per-client state lives: the hot half for NTP, the cold one otherwise. */
struct svc_ref {
    uint32_t *hits;
    int64_t *last_ns;
    int64_t *tat_ns;
    int8_t *rate_q4;
};

INLINE struct svc_ref svc_of(struct clientlog *cl, uint32_t i, enum clientlog_service service)
{
    struct svc_ref s;
    if (service == CLIENTLOG_NTP) {
        struct hot *h = &cl->hot[i];
        s.hits = &h->hits;
        s.last_ns = &h->last_ns;
        s.tat_ns = &h->tat_ns;
        s.rate_q4 = &h->rate_q4;
    } else {
        struct cold *c = &cl->cold[i];
        int k = service - 1;
        s.hits = &c->hits[k];
        s.last_ns = &c->last_ns[k];
        s.tat_ns = &c->tat_ns[k];
        s.rate_q4 = &c->rate_q4[k];
    }
    return s;
}

/* clientlog_access() without the hit counter; inlined into both entry points (with service
 * a constant in clientlog_ntp_request()). */
INLINE int32_t access_record(struct clientlog *cl, enum clientlog_service service,
                             const struct addr *addr, int64_t now_ns)
{
    uint8_t key[16], family;
    uint32_t bucket, i;
    struct svc_ref sv;
    int64_t last;

    if (cl->cap == 0)
        return -1;
    if (addr->family == ADDR_INET4) {
        uint32_t ip;
        memcpy(&ip, addr->bytes, 4);
        bucket = hash_v4(cl, ip);
        i = find_v4(cl, ip, bucket);
    } else {
        family = make_key(addr, key);
        if (family == 0)
            return -1;
        bucket = hash_key(cl, family, key);
        i = find(cl, family, key, bucket);
    }
    if (i != NONE) {
        if (cl->lru_head != i) {
            lru_unlink(cl, i);
            lru_push_front(cl, i);
        }
    } else {
        family = make_key(addr, key);
        if (cl->count < cl->cap) {
            i = cl->count++;
        } else {
            i = cl->lru_tail;
            lru_unlink(cl, i);
            chain_remove(cl, i);
            cl->st.log_drops++;
        }
        record_init(cl, i, family, key);
        cl->hot[i].chain = cl->heads[bucket];
        cl->heads[bucket] = i;
        lru_push_front(cl, i);
    }

    sv = svc_of(cl, i, service);
    (*sv.hits)++;
    last = *sv.last_ns;
    *sv.last_ns = now_ns;
    if (last != NEVER_NS && now_ns >= last) {
        struct hot *h = &cl->hot[i];
        int dropped = service == CLIENTLOG_NTP && (h->drop_flags & (1u << service));
        update_rate(dropped ? &h->timeout_rate_q4 : sv.rate_q4, interval_q4(now_ns - last));
    }
    return (int32_t)i;
}

int32_t clientlog_access(struct clientlog *cl, enum clientlog_service service,
                         const struct addr *addr, int64_t now_ns)
{
    assert((unsigned)service < CLIENTLOG_N_SERVICES);
    if (service == CLIENTLOG_NTP)
        cl->st.ntp_hits++;
    else if (service == CLIENTLOG_NKE)
        cl->st.nke_hits++;
    else
        cl->st.cmd_hits++;
    return access_record(cl, service, addr, now_ns);
}

INLINE enum clientlog_limit limit_record(struct clientlog *cl, enum clientlog_service service,
                                         int32_t index)
{
    const struct limit_cfg *c = &cl->lim[service];
    struct hot *h;
    struct svc_ref sv;
    int64_t now, tat;
    uint32_t rnd, bit = 1u << service;
    int answer;

    assert((unsigned)service < CLIENTLOG_N_SERVICES);
    if (!c->enabled || index < 0)
        return CLIENTLOG_ANSWER;
    h = &cl->hot[index];
    sv = svc_of(cl, (uint32_t)index, service);
    now = *sv.last_ns;
    tat = *sv.tat_ns;
    /* An answer at t leaves tat <= t + tau + period; more than that ahead of now means the
     * clock went back: forget the debt rather than silence the client until it catches up. */
    if (tat < now || tat - now > c->tau_ns + c->period_ns)
        tat = now;
    if (tat - now <= c->tau_ns) {
        *sv.tat_ns = tat + c->period_ns;
        h->drop_flags &= (uint8_t)~bit;
        return CLIENTLOG_ANSWER;
    }

    rnd = prng_next_u32(&cl->prng);
    answer = (rnd & c->leak_mask) == 0;
    /* A client that retries more than twice as fast when not answered: limiting makes
     * more traffic than it saves, so answer most of its requests instead. */
    if (service == CLIENTLOG_NTP && h->timeout_rate_q4 != NO_RATE && h->rate_q4 != NO_RATE &&
        h->timeout_rate_q4 < h->rate_q4 - 4)
        answer = !answer;
    if (answer) {
        h->drop_flags &= (uint8_t)~bit;
        return CLIENTLOG_ANSWER;
    }

    h->drop_flags |= (uint8_t)bit;
    if (service == CLIENTLOG_NTP) {
        h->ntp_drops++;
        cl->st.ntp_drops++;
    } else {
        uint16_t *d = &cl->cold[index].drops16[service - 1];
        if (*d < UINT16_MAX)
            (*d)++;
        if (service == CLIENTLOG_NKE)
            cl->st.nke_drops++;
        else
            cl->st.cmd_drops++;
    }
    if (c->kod && ((rnd >> 8) & c->kod_mask) == 0) {
        cl->st.ntp_kod_sent++;
        return CLIENTLOG_KOD;
    }
    return CLIENTLOG_DROP;
}

enum clientlog_limit clientlog_limit(struct clientlog *cl, enum clientlog_service service,
                                     int32_t index)
{
    return limit_record(cl, service, index);
}

enum clientlog_limit clientlog_ntp_request(struct clientlog *cl, const struct addr *addr,
                                           int64_t now_ns, int32_t *index)
{
    cl->st.ntp_hits++;
    *index = access_record(cl, CLIENTLOG_NTP, addr, now_ns);
    return limit_record(cl, CLIENTLOG_NTP, *index);
}

#define PREFETCH_MAX 64 /* addresses per pass (the daemon's batch) */

void clientlog_prefetch(const struct clientlog *cl, const struct addr *first, size_t stride, int n)
{
    uint32_t bucket[PREFETCH_MAX];
    const char *p = (const char *)first;
    if (cl->cap == 0)
        return;
    /* Every step without a branch it can do without (this runs once per request and counts
     * against the 600 instructions a reply): any address is hashed as if IPv4 and a chain's
     * end (NONE) masked into the table, since loading a line no request needs is harmless. */
    while (n > 0) {
        int m = n < PREFETCH_MAX ? n : PREFETCH_MAX;
        /* the buckets first, all of them, so that their misses overlap; then the records
         * they head (the first of each chain: almost always the client's own) */
        for (int k = 0; k < m; k++, p += stride) {
            uint32_t ip;
            memcpy(&ip, ((const struct addr *)(const void *)p)->bytes, 4);
            bucket[k] = hash_v4(cl, ip);
            __builtin_prefetch(&cl->heads[bucket[k]], 0, 3);
        }
        for (int k = 0; k < m; k++)
            __builtin_prefetch(&cl->hot[cl->heads[bucket[k]] & cl->mask], 1, 3);
        n -= m;
    }
}

int clientlog_ntp_min_poll(const struct clientlog *cl)
{
    const struct limit_cfg *c = &cl->lim[CLIENTLOG_NTP];
    return c->enabled ? c->interval_log2 : -128;
}

int clientlog_get_tx(const struct clientlog *cl, int32_t index, struct ntp_ts64 rx_wire,
                     int64_t *tx_ns)
{
    const struct hot *r;
    if (index < 0 || (uint32_t)index >= cl->cap || ntp_time_is_zero(rx_wire))
        return 0;
    r = &cl->hot[index];
    if (!ntp_time_equal(r->ts_rx, rx_wire))
        return 0;
    *tx_ns = r->ts_tx_ns;
    return 1;
}

void clientlog_save_ts(struct clientlog *cl, int32_t index, struct ntp_ts64 rx_wire, int64_t tx_ns)
{
    if (index < 0 || (uint32_t)index >= cl->cap)
        return;
    cl->hot[index].ts_rx = rx_wire;
    cl->hot[index].ts_tx_ns = tx_ns;
}

int clientlog_update_tx(struct clientlog *cl, const struct addr *addr, struct ntp_ts64 rx_wire,
                        int64_t tx_ns)
{
    uint8_t key[16], family;
    uint32_t i;
    if (cl->cap == 0 || ntp_time_is_zero(rx_wire))
        return 0;
    family = make_key(addr, key);
    if (family == 0)
        return 0;
    i = find(cl, family, key, hash_key(cl, family, key));
    if (i == NONE || !ntp_time_equal(cl->hot[i].ts_rx, rx_wire))
        return 0;
    cl->hot[i].ts_tx_ns = tx_ns;
    return 1;
}

void clientlog_note_interleaved(struct clientlog *cl)
{
    cl->st.ntp_interleaved_hits++;
}

void clientlog_note_auth(struct clientlog *cl)
{
    cl->st.ntp_auth_hits++;
}

void clientlog_get_stats(const struct clientlog *cl, struct clientlog_stats *out)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    *out = cl->st;
    out->ntp_timestamps = 0;
    for (uint32_t i = 0; i < cl->count; i++) {
        const struct hot *r = &cl->hot[i];
        if (r->family == 0 || ntp_time_is_zero(r->ts_rx))
            continue;
        out->ntp_timestamps++;
        if (r->ts_tx_ns < lo)
            lo = r->ts_tx_ns;
        if (r->ts_tx_ns > hi)
            hi = r->ts_tx_ns;
    }
    out->ntp_span_seconds = out->ntp_timestamps > 0 ? (uint64_t)((hi - lo) / NS_PER_S) : 0;
}

static int8_t report_interval(int8_t q4)
{
    if (q4 == NO_RATE)
        return CLIENTLOG_NO_INTERVAL;
    return (int8_t)((q4 + 2 + 512) / 4 - 128); /* nearest, floor division */
}

static uint32_t ago_s(int64_t last_ns, int64_t now_ns)
{
    int64_t d;
    if (last_ns == NEVER_NS)
        return CLIENTLOG_NEVER;
    d = now_ns >= last_ns ? (now_ns - last_ns) / NS_PER_S : 0;
    return d >= (int64_t)CLIENTLOG_NEVER ? CLIENTLOG_NEVER - 1 : (uint32_t)d;
}

int clientlog_report(const struct clientlog *cl, uint32_t index, int64_t now_ns,
                     struct clientlog_report *out)
{
    const struct hot *h;
    const struct cold *c;
    uint8_t key[16];
    memset(out, 0, sizeof *out);
    if (index >= cl->cap)
        return 0;
    h = &cl->hot[index];
    c = &cl->cold[index];
    if (h->family == 0)
        return 0;
    record_key(cl, index, key);
    out->addr.family = h->family == 4 ? ADDR_INET4 : ADDR_INET6;
    memcpy(out->addr.bytes, key, 16);
    out->ntp_hits = h->hits;
    out->nke_hits = c->hits[0];
    out->cmd_hits = c->hits[1];
    out->ntp_drops = h->ntp_drops;
    out->nke_drops = c->drops16[0];
    out->cmd_drops = c->drops16[1];
    out->ntp_interval = report_interval(h->rate_q4);
    out->nke_interval = report_interval(c->rate_q4[0]);
    out->cmd_interval = report_interval(c->rate_q4[1]);
    out->ntp_timeout_interval = report_interval(h->timeout_rate_q4);
    out->last_ntp_hit_ago = ago_s(h->last_ns, now_ns);
    out->last_nke_hit_ago = ago_s(c->last_ns[0], now_ns);
    out->last_cmd_hit_ago = ago_s(c->last_ns[1], now_ns);
    return 1;
}

void clientlog_reset_record(struct clientlog *cl, uint32_t index)
{
    struct hot *h;
    struct cold *c;
    if (index >= cl->cap || cl->hot[index].family == 0)
        return;
    h = &cl->hot[index];
    c = &cl->cold[index];
    h->hits = 0;
    h->rate_q4 = NO_RATE;
    h->ntp_drops = 0;
    h->timeout_rate_q4 = NO_RATE;
    h->drop_flags = 0;
    for (int s = 0; s < 2; s++) {
        c->hits[s] = 0;
        c->rate_q4[s] = NO_RATE;
        c->drops16[s] = 0;
    }
}
