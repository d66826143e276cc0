/* core/clientlog: fixed capacity with LRU eviction, per-client counters and intervals, rate
 * limiting (burst, refill, leak, KoD, retry-storm inversion), interleaved timestamps,
 * server counters and the index-based report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clientlog.h"

#define NS 1000000000LL
#define T0 (1795626870LL * NS)

static struct addr v4(uint32_t ip)
{
    struct addr a;
    memset(&a, 0, sizeof a);
    a.family = ADDR_INET4;
    a.bytes[0] = (uint8_t)(ip >> 24);
    a.bytes[1] = (uint8_t)(ip >> 16);
    a.bytes[2] = (uint8_t)(ip >> 8);
    a.bytes[3] = (uint8_t)ip;
    a.port = 123;
    return a;
}

static struct clientlog *make(size_t limit, int ratelimit, int interval, int burst, int leak,
                              int kod)
{
    struct clientlog_params p;
    struct clientlog *cl;
    clientlog_params_default(&p);
    p.limit_bytes = limit;
    p.seed = 1234;
    if (ratelimit) {
        p.limit[CLIENTLOG_NTP].enabled = 1;
        p.limit[CLIENTLOG_NTP].interval_log2 = interval;
        p.limit[CLIENTLOG_NTP].burst = burst;
        p.limit[CLIENTLOG_NTP].leak = leak;
        p.limit[CLIENTLOG_NTP].kod_log2 = kod;
    }
    cl = clientlog_new(&p);
    assert_non_null(cl);
    return cl;
}

/* One NTP request; returns the limit decision. */
static enum clientlog_limit hit(struct clientlog *cl, const struct addr *a, int64_t now)
{
    int32_t i = clientlog_access(cl, CLIENTLOG_NTP, a, now);
    return clientlog_limit(cl, CLIENTLOG_NTP, i);
}

static void test_capacity(void **state)
{
    struct clientlog *cl;
    struct clientlog_params p;
    (void)state;
    cl = make(CLIENTLOG_DEFAULT_LIMIT, 0, 0, 0, 0, -1);
    assert_int_equal(clientlog_capacity(cl), 4096); /* chrony: default ~4096 clients */
    clientlog_free(cl);
    cl = make(0, 0, 0, 0, 0, -1);
    assert_int_equal(clientlog_capacity(cl), CLIENTLOG_MIN_RECORDS);
    clientlog_free(cl);
    cl = make(1000000, 0, 0, 0, 0, -1); /* not a power of two: rounds down */
    assert_int_equal(clientlog_capacity(cl), 4096);
    clientlog_free(cl);
    cl = make(1 << 20, 0, 0, 0, 0, -1);
    assert_int_equal(clientlog_capacity(cl), 8192);
    clientlog_free(cl);

    clientlog_params_default(&p);
    p.disabled = 1;
    cl = clientlog_new(&p);
    assert_int_equal(clientlog_capacity(cl), 0);
    {
        struct addr a = v4(0x0A000001);
        struct clientlog_stats st;
        assert_int_equal(clientlog_access(cl, CLIENTLOG_NTP, &a, T0), -1);
        assert_int_equal(clientlog_limit(cl, CLIENTLOG_NTP, -1), CLIENTLOG_ANSWER);
        clientlog_get_stats(cl, &st);
        assert_int_equal(st.ntp_hits, 1); /* still counted, as chrony */
    }
    clientlog_free(cl);
    clientlog_free(NULL);
}

static void test_lru_eviction_100000(void **state)
{
    struct clientlog *cl = make(16 * 1024, 0, 0, 0, 0, -1);
    uint32_t cap = clientlog_capacity(cl);
    struct addr keep = v4(0xC0A80001);
    struct clientlog_stats st;
    uint32_t seen = 0;
    int keep_found = 0;
    (void)state;
    assert_int_equal(cap, 128);
    for (uint32_t i = 0; i < 100000; i++) {
        struct addr a = v4(0x0A000000 + i);
        int32_t idx = clientlog_access(cl, CLIENTLOG_NTP, &a, T0 + (int64_t)i * 1000);
        assert_true(idx >= 0 && (uint32_t)idx < cap);
        assert_true(clientlog_count(cl) <= cap);
        if (i % 50 == 0) /* a regular client stays recently used */
            clientlog_access(cl, CLIENTLOG_NTP, &keep, T0 + (int64_t)i * 1000);
    }
    assert_int_equal(clientlog_count(cl), cap);
    clientlog_get_stats(cl, &st);
    assert_int_equal(st.ntp_hits, 100000 + 2000);
    assert_int_equal(st.log_drops, 100000 + 1 - cap);
    /* What is left: the regular client and the 127 most recent addresses. */
    for (uint32_t i = 0; i < cap; i++) {
        struct clientlog_report r;
        uint32_t ip;
        assert_int_equal(clientlog_report(cl, i, T0 + 100 * NS, &r), 1);
        assert_int_equal(r.addr.family, ADDR_INET4);
        ip = (uint32_t)r.addr.bytes[0] << 24 | (uint32_t)r.addr.bytes[1] << 16 |
             (uint32_t)r.addr.bytes[2] << 8 | r.addr.bytes[3];
        if (ip == 0xC0A80001) {
            keep_found = 1;
            assert_int_equal(r.ntp_hits, 2000);
        } else {
            assert_true(ip >= 0x0A000000 + 100000 - (cap - 1));
            assert_int_equal(r.ntp_hits, 1);
            seen++;
        }
    }
    assert_true(keep_found);
    assert_int_equal(seen, cap - 1);
    assert_int_equal(clientlog_report(cl, cap, T0, &(struct clientlog_report){0}), 0);
    clientlog_free(cl);
}

static void test_addresses_and_counters(void **state)
{
    struct clientlog *cl = make(CLIENTLOG_DEFAULT_LIMIT, 0, 0, 0, 0, -1);
    struct addr a = v4(0x7F000001), a_noise = a, b;
    struct clientlog_report r;
    int32_t ia, ib;
    (void)state;
    memset(a_noise.bytes + 4, 0xAB, 12); /* bytes past an IPv4 address are not part of it */
    a_noise.port = 5555;
    memset(&b, 0, sizeof b);
    b.family = ADDR_INET6;
    b.bytes[0] = 0x7F; /* same first bytes as a, other family */
    b.bytes[3] = 1;
    ia = clientlog_access(cl, CLIENTLOG_NTP, &a, T0);
    assert_int_equal(clientlog_access(cl, CLIENTLOG_NTP, &a_noise, T0 + 8 * NS), ia);
    ib = clientlog_access(cl, CLIENTLOG_NTP, &b, T0);
    assert_true(ib != ia);
    assert_int_equal(clientlog_access(cl, CLIENTLOG_CMD, &b, T0 + NS), ib);
    /* Unknown family: not logged. */
    {
        struct addr u;
        memset(&u, 0, sizeof u);
        assert_int_equal(clientlog_access(cl, CLIENTLOG_NTP, &u, T0), -1);
    }

    assert_int_equal(clientlog_report(cl, (uint32_t)ia, T0 + 20 * NS, &r), 1);
    assert_int_equal(r.addr.family, ADDR_INET4);
    assert_int_equal(r.addr.bytes[4], 0);
    assert_int_equal(r.ntp_hits, 2);
    assert_int_equal(r.cmd_hits, 0);
    assert_int_equal(r.ntp_interval, 3); /* 8 s */
    assert_int_equal(r.ntp_timeout_interval, CLIENTLOG_NO_INTERVAL);
    assert_int_equal(r.cmd_interval, CLIENTLOG_NO_INTERVAL);
    assert_int_equal(r.last_ntp_hit_ago, 12);
    assert_int_equal(r.last_cmd_hit_ago, CLIENTLOG_NEVER);
    assert_int_equal(clientlog_report(cl, (uint32_t)ib, T0 + 20 * NS, &r), 1);
    assert_int_equal(r.addr.family, ADDR_INET6);
    assert_int_equal(r.ntp_hits, 1);
    assert_int_equal(r.cmd_hits, 1);
    assert_int_equal(r.ntp_interval, CLIENTLOG_NO_INTERVAL);
    assert_int_equal(r.last_cmd_hit_ago, 19);

    /* Reset clears counters and intervals, keeps the client. */
    clientlog_reset_record(cl, (uint32_t)ia);
    assert_int_equal(clientlog_report(cl, (uint32_t)ia, T0 + 20 * NS, &r), 1);
    assert_int_equal(r.ntp_hits, 0);
    assert_int_equal(r.ntp_interval, CLIENTLOG_NO_INTERVAL);
    assert_int_equal(clientlog_access(cl, CLIENTLOG_NTP, &a, T0 + 30 * NS), ia);
    clientlog_free(cl);
}

static void test_interval_average(void **state)
{
    static const struct {
        int64_t period_ns;
        int expect_log2;
    } cases[] = {
        {NS, 0},          {8 * NS, 3},     {NS / 4, -2}, {64 * NS, 6},
        {NS / 1024, -10}, {1024 * NS, 10}, {3 * NS, 2}, /* log2 3 = 1.58 */
    };
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct clientlog *cl = make(CLIENTLOG_DEFAULT_LIMIT, 0, 0, 0, 0, -1);
        struct addr a = v4(0x0A0000FF);
        struct clientlog_report r;
        int32_t idx = -1;
        for (int i = 0; i < 40; i++)
            idx = clientlog_access(cl, CLIENTLOG_NTP, &a, T0 + i * cases[c].period_ns);
        assert_int_equal(clientlog_report(cl, (uint32_t)idx, T0, &r), 1);
        assert_int_equal(r.ntp_interval, cases[c].expect_log2);
        /* The average moves towards a new rate. */
        for (int i = 0; i < 40; i++)
            idx = clientlog_access(cl, CLIENTLOG_NTP, &a,
                                   T0 + 40 * cases[c].period_ns + (i + 1) * 16 * NS);
        clientlog_report(cl, (uint32_t)idx, T0, &r);
        assert_int_equal(r.ntp_interval, 4);
        clientlog_free(cl);
    }
}

static void test_burst_and_refill(void **state)
{
    /* ratelimit interval 3 burst 8 leak 2 (chrony's defaults) */
    struct clientlog *cl = make(CLIENTLOG_DEFAULT_LIMIT, 1, 3, 8, 2, -1);
    struct addr a = v4(0x0A000001), other = v4(0x0A000002);
    struct clientlog_stats st;
    struct clientlog_report r;
    int answered = 0, dropped = 0;
    (void)state;
    assert_int_equal(clientlog_ntp_min_poll(cl), 3);
    /* 8 back-to-back requests are all answered. */
    for (int i = 0; i < 8; i++)
        assert_int_equal(hit(cl, &a, T0 + i), CLIENTLOG_ANSWER);
    /* Then 1 in 4 at random (leak 2). */
    for (int i = 0; i < 400; i++) {
        enum clientlog_limit l = hit(cl, &a, T0 + 8 + i);
        assert_true(l == CLIENTLOG_ANSWER || l == CLIENTLOG_DROP);
        answered += l == CLIENTLOG_ANSWER;
        dropped += l == CLIENTLOG_DROP;
    }
    assert_true(answered > 60 && answered < 140); /* expected 100 */
    assert_int_equal(answered + dropped, 400);
    /* Another client is not affected. */
    assert_int_equal(hit(cl, &other, T0 + 500), CLIENTLOG_ANSWER);
    clientlog_get_stats(cl, &st);
    assert_int_equal(st.ntp_drops, (uint64_t)dropped);
    assert_int_equal(st.ntp_kod_sent, 0);
    clientlog_report(cl, (uint32_t)clientlog_access(cl, CLIENTLOG_NTP, &a, T0 + 1000), T0, &r);
    assert_int_equal(r.ntp_drops, (uint32_t)dropped);

    /* After 8 intervals (64 s) of silence the bucket is full again: 8 answers. */
    for (int i = 0; i < 8; i++)
        assert_int_equal(hit(cl, &a, T0 + 70 * NS + i), CLIENTLOG_ANSWER);
    /* One request per 8 s is always within the limit. */
    for (int i = 1; i <= 100; i++)
        assert_int_equal(hit(cl, &a, T0 + 200 * NS + i * 8 * NS), CLIENTLOG_ANSWER);
    clientlog_free(cl);
}

/* Exactly `burst` back-to-back requests fit: over 400 clients the 9th request is answered
 * only by the 1-in-4 leak. */
static void test_burst_is_exact(void **state)
{
    struct clientlog *cl = make(CLIENTLOG_DEFAULT_LIMIT, 1, 3, 8, 2, -1);
    int ninth = 0;
    (void)state;
    for (uint32_t c = 0; c < 400; c++) {
        struct addr a = v4(0x0B000000 + c);
        for (int i = 0; i < 8; i++)
            assert_int_equal(hit(cl, &a, T0 + i), CLIENTLOG_ANSWER);
        ninth += hit(cl, &a, T0 + 8) == CLIENTLOG_ANSWER;
    }
    assert_true(ninth > 60 && ninth < 140);
    clientlog_free(cl);
}

/* A backward clock step must not leave a client limited until the clock catches up. */
static void test_clock_step_back(void **state)
{
    struct clientlog *cl = make(CLIENTLOG_DEFAULT_LIMIT, 1, 3, 2, 4, -1);
    struct addr a = v4(0x0A00000A);
    int answered = 0;
    (void)state;
    /* Exhaust the bucket well into the future... */
    for (int i = 0; i < 50; i++)
        hit(cl, &a, T0 + i);
    /* ...then the clock is stepped back an hour: requests every 8 s are answered. */
    for (int i = 0; i < 20; i++)
        answered += hit(cl, &a, T0 - 3600 * NS + (int64_t)i * 8 * NS) == CLIENTLOG_ANSWER;
    assert_int_equal(answered, 20);
    clientlog_free(cl);
}

static void test_steady_overload(void **state)
{
    /* One request every 4 s against an 8 s limit: after the burst, every other request is
     * within the limit and 1 in 4 of the rest leaks: 1/2 + 1/8 answered. */
    struct clientlog *cl = make(CLIENTLOG_DEFAULT_LIMIT, 1, 3, 8, 2, -1);
    struct addr a = v4(0x0A000003);
    int answered = 0;
    (void)state;
    for (int i = 0; i < 4000; i++)
        answered += hit(cl, &a, T0 + (int64_t)i * 4 * NS) == CLIENTLOG_ANSWER;
    assert_true(answered > 2300 && answered < 2700); /* 2500 expected */
    clientlog_free(cl);
}

static void test_kod(void **state)
{
    /* kod_log2 0: every over-limit request that does not leak gets a KoD. */
    struct clientlog *cl = make(CLIENTLOG_DEFAULT_LIMIT, 1, 3, 1, 4, 0);
    struct addr a = v4(0x0A000004);
    struct clientlog_stats st;
    int kods = 0, drops = 0;
    (void)state;
    assert_int_equal(hit(cl, &a, T0), CLIENTLOG_ANSWER);
    for (int i = 1; i < 200; i++) {
        enum clientlog_limit l = hit(cl, &a, T0 + i);
        kods += l == CLIENTLOG_KOD;
        drops += l == CLIENTLOG_DROP;
    }
    assert_int_equal(drops, 0);
    assert_true(kods > 150);
    clientlog_get_stats(cl, &st);
    assert_int_equal(st.ntp_kod_sent, (uint64_t)kods);
    assert_int_equal(st.ntp_drops, (uint64_t)kods);
    clientlog_free(cl);

    /* kod_log2 -1 (chrony 4.3): never. */
    cl = make(CLIENTLOG_DEFAULT_LIMIT, 1, 3, 1, 4, -1);
    for (int i = 0; i < 200; i++)
        assert_int_not_equal(hit(cl, &a, T0 + i), CLIENTLOG_KOD);
    clientlog_free(cl);
}

/* A client that retries 4 times a second when not answered, and waits 16 s after an
 * answer: limiting it would multiply its traffic, so most requests are answered. A client
 * that does not speed up stays limited. */
static void test_retry_storm_inversion(void **state)
{
    struct clientlog *cl = make(CLIENTLOG_DEFAULT_LIMIT, 1, 5, 1, 2, -1);
    struct addr storm = v4(0x0A000005), calm = v4(0x0A000006);
    struct clientlog_report r;
    int64_t t = T0;
    int answered = 0, n = 2000, calm_answered = 0;
    int32_t idx = -1;
    (void)state;
    for (int i = 0; i < n; i++) {
        idx = clientlog_access(cl, CLIENTLOG_NTP, &storm, t);
        if (clientlog_limit(cl, CLIENTLOG_NTP, idx) == CLIENTLOG_ANSWER) {
            answered++;
            t += 16 * NS;
        } else {
            t += NS / 4;
        }
    }
    clientlog_report(cl, (uint32_t)idx, t, &r);
    assert_int_equal(r.ntp_timeout_interval, -2);
    assert_true(r.ntp_interval >= 2);
    assert_true(answered > n / 2);
    /* Every 16 s against a 32 s limit: no speed-up, half answered plus leaks. */
    for (int i = 0; i < n; i++)
        calm_answered += hit(cl, &calm, T0 + (int64_t)i * 16 * NS) == CLIENTLOG_ANSWER;
    assert_true(calm_answered < n * 7 / 10);
    clientlog_free(cl);
}

static void test_interleaved_timestamps(void **state)
{
    struct clientlog *cl = make(CLIENTLOG_DEFAULT_LIMIT, 0, 0, 0, 0, -1);
    struct addr a = v4(0x0A000007), b = v4(0x0A000008);
    struct ntp_ts64 rx1 = {0xeeb195f6u, 0x71804d03u}, rx2 = {0xeeb195f7u, 0x11111111u};
    struct clientlog_stats st;
    int64_t tx = 0;
    int32_t ia, ib;
    (void)state;
    ia = clientlog_access(cl, CLIENTLOG_NTP, &a, T0);
    ib = clientlog_access(cl, CLIENTLOG_NTP, &b, T0);
    assert_false(clientlog_get_tx(cl, ia, rx1, &tx));
    clientlog_save_ts(cl, ia, rx1, T0 + 5000);
    assert_true(clientlog_get_tx(cl, ia, rx1, &tx));
    assert_int_equal(tx, T0 + 5000);
    assert_false(clientlog_get_tx(cl, ia, rx2, &tx));
    assert_false(clientlog_get_tx(cl, ib, rx1, &tx)); /* another client's */
    assert_false(clientlog_get_tx(cl, -1, rx1, &tx));
    /* A better TX timestamp replaces it, only for the matching RX. */
    assert_true(clientlog_update_tx(cl, &a, rx1, T0 + 4000));
    assert_false(clientlog_update_tx(cl, &a, rx2, T0 + 1));
    assert_false(clientlog_update_tx(cl, &b, rx1, T0 + 1));
    assert_true(clientlog_get_tx(cl, ia, rx1, &tx));
    assert_int_equal(tx, T0 + 4000);
    clientlog_save_ts(cl, ib, rx2, T0 + 30 * NS + 4000);
    clientlog_note_interleaved(cl);
    clientlog_note_auth(cl);
    clientlog_get_stats(cl, &st);
    assert_int_equal(st.ntp_timestamps, 2);
    assert_int_equal(st.ntp_span_seconds, 30);
    assert_int_equal(st.ntp_interleaved_hits, 1);
    assert_int_equal(st.ntp_auth_hits, 1);
    clientlog_free(cl);
}

static void test_services_counted(void **state)
{
    struct clientlog_params p;
    struct clientlog *cl;
    struct addr a = v4(0x0A000009);
    struct clientlog_stats st;
    struct clientlog_report r;
    int32_t idx = -1;
    (void)state;
    clientlog_params_default(&p);
    clientlog_ratelimit_default(&p.limit[CLIENTLOG_CMD]);
    p.limit[CLIENTLOG_CMD].burst = 1;
    p.limit[CLIENTLOG_CMD].leak = 4;
    cl = clientlog_new(&p);
    assert_non_null(cl);
    assert_int_equal(clientlog_ntp_min_poll(cl), -128); /* NTP not limited */
    for (int i = 0; i < 10; i++) {
        idx = clientlog_access(cl, CLIENTLOG_CMD, &a, T0 + i);
        clientlog_limit(cl, CLIENTLOG_CMD, idx);
        clientlog_access(cl, CLIENTLOG_NKE, &a, T0 + i);
        assert_int_equal(
            clientlog_limit(cl, CLIENTLOG_NTP, clientlog_access(cl, CLIENTLOG_NTP, &a, T0 + i)),
            CLIENTLOG_ANSWER);
    }
    clientlog_get_stats(cl, &st);
    assert_int_equal(st.cmd_hits, 10);
    assert_int_equal(st.nke_hits, 10);
    assert_int_equal(st.ntp_hits, 10);
    assert_true(st.cmd_drops >= 5);
    assert_int_equal(st.ntp_drops, 0);
    clientlog_report(cl, (uint32_t)idx, T0 + 10, &r);
    assert_int_equal(r.cmd_drops, (uint32_t)st.cmd_drops);
    assert_int_equal(r.nke_hits, 10);
    clientlog_free(cl);
}

/* A record's key is split between its hot half (first 8 bytes) and its cold half (the last 8,
 * which only IPv6 uses): IPv6 clients differing only in their last 8 bytes are distinct, are
 * reported with all 16 bytes, and are found again after evictions of their neighbours unlinked
 * them from shared hash chains. */
static void test_ipv6_split_key(void **state)
{
    struct clientlog *cl = make(16 * CLIENTLOG_RECORD_BYTES, 0, 0, 0, 0, -1);
    struct addr a[40];
    int32_t idx[40];
    struct clientlog_report r;
    (void)state;
    assert_int_equal(clientlog_capacity(cl), 16);
    for (int i = 0; i < 40; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].family = ADDR_INET6;
        a[i].bytes[0] = 0x20;
        a[i].bytes[1] = 0x01; /* 2001::/64, the same first 8 bytes for all */
        a[i].bytes[8] = (uint8_t)(i * 7);
        a[i].bytes[15] = (uint8_t)i;
    }
    for (int i = 0; i < 16; i++)
        idx[i] = clientlog_access(cl, CLIENTLOG_NTP, &a[i], T0 + i);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(clientlog_access(cl, CLIENTLOG_NTP, &a[i], T0 + 100 + i), idx[i]);
        assert_int_equal(clientlog_report(cl, (uint32_t)idx[i], T0 + 200, &r), 1);
        assert_int_equal(r.addr.family, ADDR_INET6);
        assert_memory_equal(r.addr.bytes, a[i].bytes, 16);
        assert_int_equal(r.ntp_hits, 2);
    }
    /* 24 more: each evicts the least recently used, so at the end 24..39 are held and 0..23
     * are not (a lookup of one of them makes a new record with one hit). */
    for (int i = 16; i < 40; i++)
        idx[i] = clientlog_access(cl, CLIENTLOG_NTP, &a[i], T0 + 300 + i);
    for (int i = 24; i < 40; i++) {
        assert_int_equal(clientlog_report(cl, (uint32_t)idx[i], T0 + 400, &r), 1);
        assert_memory_equal(r.addr.bytes, a[i].bytes, 16);
        assert_int_equal(r.ntp_hits, 1);
    }
    for (int i = 24; i < 40; i++)
        assert_int_equal(clientlog_access(cl, CLIENTLOG_NTP, &a[i], T0 + 500 + i), idx[i]);
    {
        int32_t j = clientlog_access(cl, CLIENTLOG_NTP, &a[3], T0 + 600);
        assert_int_equal(clientlog_report(cl, (uint32_t)j, T0 + 600, &r), 1);
        assert_memory_equal(r.addr.bytes, a[3].bytes, 16);
        assert_int_equal(r.ntp_hits, 1);
    }
    clientlog_free(cl);
}

/* clientlog_ntp_request() is clientlog_access(NTP) + clientlog_limit(): the same indices,
 * verdicts (drops, leaks, KoDs from the same PRNG) and counters, over IPv4 and IPv6 clients
 * that overflow the table (evictions) and exceed the rate limit. */
static void test_ntp_request_equals_access_limit(void **state)
{
    struct clientlog *a = make(32 * 2 * CLIENTLOG_RECORD_BYTES, 1, -4, 4, 2, 1);
    struct clientlog *b = make(32 * 2 * CLIENTLOG_RECORD_BYTES, 1, -4, 4, 2, 1);
    struct clientlog_stats sa, sb;
    int drops = 0, answers = 0;
    (void)state;
    for (int64_t n = 0; n < 4000; n++) {
        /* 20 regular IPv4 clients, 3 IPv6 ones, and a new IPv4 one every 50th request */
        struct addr c = v4(0x0A000000u + (uint32_t)(n % 50 == 0 ? 1000 + n : n * 7 % 20));
        if (n % 5 == 1) {
            c.family = ADDR_INET6;
            c.bytes[15] = (uint8_t)(n % 3);
        }
        int64_t now = T0 + n * 100000;
        int32_t ia = clientlog_access(a, CLIENTLOG_NTP, &c, now);
        enum clientlog_limit la = clientlog_limit(a, CLIENTLOG_NTP, ia);
        int32_t ib = -2;
        enum clientlog_limit lb = clientlog_ntp_request(b, &c, now, &ib);
        assert_int_equal(ia, ib);
        assert_int_equal(la, lb);
        drops += la != CLIENTLOG_ANSWER;
        answers += la == CLIENTLOG_ANSWER;
    }
    assert_true(drops > 0 && answers > 0);
    clientlog_get_stats(a, &sa);
    clientlog_get_stats(b, &sb);
    assert_int_equal(sa.ntp_hits, 4000);
    assert_int_equal(sa.ntp_hits, sb.ntp_hits);
    assert_int_equal(sa.ntp_drops, sb.ntp_drops);
    assert_int_equal(sa.ntp_kod_sent, sb.ntp_kod_sent);
    assert_true(sa.log_drops > 0);
    assert_int_equal(sa.log_drops, sb.log_drops);
    clientlog_free(a);
    clientlog_free(b);
}

/* clientlog_prefetch() is a hint: a log that gets it before every batch of requests makes
 * exactly the same decisions (indices, drops, leaks, KoDs from the same PRNG), keeps the same
 * records, reports and counters as one that does not, with IPv4, IPv6 and unusable addresses
 * in the batches, evictions and rate limiting. */
static void test_prefetch_changes_nothing(void **state)
{
    struct clientlog *a = make(32 * 2 * CLIENTLOG_RECORD_BYTES, 1, -4, 4, 2, 1);
    struct clientlog *b = make(32 * 2 * CLIENTLOG_RECORD_BYTES, 1, -4, 4, 2, 1);
    struct clientlog_params off;
    struct clientlog *none;
    struct clientlog_stats sa, sb;
    /* the addresses inside a caller's array of structs, as the daemon's batch has them */
    struct msg {
        int len;
        struct addr from;
        int64_t rx_ns;
    } batch[70];
    int drops = 0, answers = 0;
    (void)state;
    for (int64_t r = 0; r < 60; r++) {
        int n = (int)(1 + r * 13 % 70); /* 1..70: beyond the 64 of one pass, too */
        for (int k = 0; k < n; k++) {
            int64_t q = r * 70 + k;
            batch[k].from = v4(0x0A000000u + (uint32_t)(q % 50 == 0 ? 1000 + q : q * 7 % 24));
            if (q % 5 == 1) {
                batch[k].from.family = ADDR_INET6;
                batch[k].from.bytes[15] = (uint8_t)(q % 3);
            }
            if (q % 97 == 3)
                batch[k].from.family = ADDR_UNSPEC;
            batch[k].rx_ns = T0 + q * 100000;
        }
        clientlog_prefetch(b, &batch[0].from, sizeof batch[0], n);
        for (int k = 0; k < n; k++) {
            int32_t ia = -2, ib = -2;
            enum clientlog_limit la = clientlog_ntp_request(a, &batch[k].from, batch[k].rx_ns, &ia);
            enum clientlog_limit lb = clientlog_ntp_request(b, &batch[k].from, batch[k].rx_ns, &ib);
            assert_int_equal(ia, ib);
            assert_int_equal(la, lb);
            drops += la != CLIENTLOG_ANSWER;
            answers += la == CLIENTLOG_ANSWER;
        }
    }
    assert_true(drops > 0 && answers > 0);
    clientlog_get_stats(a, &sa);
    clientlog_get_stats(b, &sb);
    assert_true(sa.log_drops > 0);
    assert_memory_equal(&sa, &sb, sizeof sa);
    assert_int_equal(clientlog_count(a), clientlog_count(b));
    for (uint32_t i = 0; i < clientlog_capacity(a); i++) {
        struct clientlog_report ra, rb;
        int ha = clientlog_report(a, i, T0 + 3600 * NS, &ra);
        int hb = clientlog_report(b, i, T0 + 3600 * NS, &rb);
        assert_int_equal(ha, hb);
        assert_memory_equal(&ra, &rb, sizeof ra);
    }
    /* noclientlog: nothing to load, and nothing changes */
    clientlog_params_default(&off);
    off.disabled = 1;
    none = clientlog_new(&off);
    assert_non_null(none);
    clientlog_prefetch(none, &batch[0].from, sizeof batch[0], 8);
    clientlog_prefetch(b, &batch[0].from, sizeof batch[0], 0);
    assert_int_equal(clientlog_count(none), 0);
    clientlog_free(none);
    clientlog_free(a);
    clientlog_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_lru_eviction_100000),
        cmocka_unit_test(test_addresses_and_counters),
        cmocka_unit_test(test_interval_average),
        cmocka_unit_test(test_burst_and_refill),
        cmocka_unit_test(test_burst_is_exact),
        cmocka_unit_test(test_clock_step_back),
        cmocka_unit_test(test_steady_overload),
        cmocka_unit_test(test_kod),
        cmocka_unit_test(test_retry_storm_inversion),
        cmocka_unit_test(test_interleaved_timestamps),
        cmocka_unit_test(test_services_counted),
        cmocka_unit_test(test_ntp_request_equals_access_limit),
        cmocka_unit_test(test_ipv6_split_key),
        cmocka_unit_test(test_prefetch_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
