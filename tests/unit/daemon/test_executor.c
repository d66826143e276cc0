/* daemon/executor: allow/deny semantics, and two executors in one process on loopback — a
 * server with `local stratum 2` and a client engine on a null clock — so that the whole
 * request/reply path (fresh random-port sockets, kernel timestamps, core/server answers,
 * engine_receive) runs without the daemon around it. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/prng.h"
#include "core/access.h"
#include "core/engine.h"
#include "core/report.h"
#include "daemon/executor.h"
#include "os/clock_null.h"
#include "os/loop.h"

#include "../addr_util.h"

static void test_access_rules(void **state)
{
    (void)state;
    struct addr none;
    memset(&none, 0, sizeof none);
    struct addr h1 = tu_v4(192, 168, 1, 10), h2 = tu_v4(192, 168, 2, 10), h3 = tu_v4(10, 0, 0, 1);
    /* no rules: deny */
    assert_int_equal(executor_access_allowed(NULL, 0, &h1), 0);
    /* allow 192.168/16, deny 192.168.1/24: the more specific one wins either order */
    struct access_rule r1[] = {tu_rule(1, 0, tu_v4(192, 168, 0, 0), 16),
                               tu_rule(0, 0, tu_v4(192, 168, 1, 0), 24)};
    assert_int_equal(executor_access_allowed(r1, 2, &h1), 0);
    assert_int_equal(executor_access_allowed(r1, 2, &h2), 1);
    assert_int_equal(executor_access_allowed(r1, 2, &h3), 0);
    struct access_rule r2[] = {tu_rule(0, 0, tu_v4(192, 168, 1, 0), 24),
                               tu_rule(1, 0, tu_v4(192, 168, 0, 0), 16)};
    assert_int_equal(executor_access_allowed(r2, 2, &h1), 0);
    /* equally specific: the later wins */
    struct access_rule r3[] = {tu_rule(1, 0, tu_v4(192, 168, 1, 0), 24),
                               tu_rule(0, 0, tu_v4(192, 168, 1, 0), 24)};
    assert_int_equal(executor_access_allowed(r3, 2, &h1), 0);
    /* "allow all 192.168/16" overrides the earlier more specific deny */
    struct access_rule r4[] = {tu_rule(0, 0, tu_v4(192, 168, 1, 0), 24),
                               tu_rule(1, 1, tu_v4(192, 168, 0, 0), 16)};
    assert_int_equal(executor_access_allowed(r4, 2, &h1), 1);
    /* bare "allow" (every address), then "deny" of one host */
    struct access_rule r5[] = {tu_rule(1, 0, none, -1), tu_rule(0, 0, tu_v4(10, 0, 0, 1), 32)};
    assert_int_equal(executor_access_allowed(r5, 2, &h3), 0);
    assert_int_equal(executor_access_allowed(r5, 2, &h2), 1);
}

struct side {
    struct clocknull *null;
    struct clock_ops ops;
    struct engine *engine;
    struct executor *ex;
    int after_calls;
};

static int64_t map_rx(void *ctx, int64_t system_ns)
{
    struct side *s = ctx;
    return clocknull_from_system_ns(s->null, system_ns);
}

static void after(void *ctx)
{
    ((struct side *)ctx)->after_calls++;
}

static void side_init(struct side *s, struct loop *l, const struct executor_params *xp,
                      uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->null = clocknull_new(NULL, NULL);
    assert_non_null(s->null);
    clocknull_ops(s->null, &s->ops);
    struct engine_params ep;
    engine_params_default(&ep);
    s->engine = engine_new(&ep, &s->ops, seed, loop_mono_ns());
    assert_non_null(s->engine);
    struct executor_callbacks cb = {s, map_rx, after, NULL, NULL};
    s->ex = executor_new(xp, l, s->engine, &s->ops, &cb);
    assert_non_null(s->ex);
}

static void side_free(struct side *s)
{
    executor_free(s->ex);
    engine_free(s->engine);
    clocknull_free(s->null);
}

static void test_client_syncs_to_local_server(void **state)
{
    (void)state;
    struct loop *l = loop_new();
    struct executor_params sp;
    memset(&sp, 0, sizeof sp);
    sp.server_port = 0; /* filled below: an ephemeral port is found by binding port 0 */
    sp.family = 4;
    sp.bind4 = tu_v4(127, 0, 0, 1);
    sp.local_enabled = 1;
    sp.local_stratum = 2;
    sp.local_distance_s = 1.0;
    sp.rules[0] = tu_rule(1, 0, tu_v4(127, 0, 0, 1), 32);
    sp.n_rules = 1;
    sp.seed = 1;
    /* The server needs a fixed port to be named by the client: try a few derived ones. */
    struct side srv;
    int port = 0;
    for (int k = 0; k < 20 && !port; k++) {
        sp.server_port = 40000 + (int)((loop_mono_ns() / 1000) % 20000) + k;
        side_init(&srv, l, &sp, 1);
        if (executor_open_server(srv.ex) == 1)
            port = sp.server_port;
        else
            side_free(&srv);
    }
    assert_true(port > 0);
    assert_int_equal(executor_server_port(srv.ex, 4), port);
    assert_int_equal(executor_server_port(srv.ex, 6), 0);

    struct executor_params cp;
    memset(&cp, 0, sizeof cp);
    cp.family = 4;
    cp.acquisition_port = -1;
    cp.seed = 2;
    struct side cli;
    side_init(&cli, l, &cp, 2);
    struct engine_source_params esp;
    engine_source_params_default(&esp);
    esp.iburst = 1;
    /* poll -6 (1/64 s): each phase below needs a few samples, so the test takes about a
     * second of wall-clock time, most of it iburst's start */
    esp.minpoll_log2 = -6;
    esp.maxpoll_log2 = -6;
    struct addr remote = tu_v4(127, 0, 0, 1);
    remote.port = (uint16_t)port;
    int id = engine_add_source(cli.engine, &esp, &remote, "127.0.0.1", loop_mono_ns());
    assert_true(id >= 0);
    assert_int_equal(executor_add_source(cli.ex, id, &remote, 0), 0);
    assert_int_equal(executor_add_source(cli.ex, id, &remote, 0), -EEXIST);
    executor_start(cli.ex);
    executor_start(srv.ex);

    struct report_tracking t;
    int64_t t0 = loop_mono_ns();
    do {
        assert_true(loop_run_once(l, 100000000) >= 0);
        engine_tracking(cli.engine, loop_mono_ns(), &t);
    } while (!(t.synced && t.n_updates >= 3) && loop_mono_ns() - t0 < 20000000000LL);
    assert_true(t.synced);
    assert_int_equal(t.stratum, 3);
    assert_int_equal(t.ref_id, 0x7F000001u);
    /* same host clock on both sides: loopback noise only */
    assert_true(fabs(t.last_offset_s) < 1e-3);

    struct executor_stats cs, ss;
    executor_get_stats(cli.ex, &cs);
    executor_get_stats(srv.ex, &ss);
    assert_true(cs.source_rx >= 3);
    assert_int_equal(cs.source_ignored, 0);
    assert_int_equal(cs.send_errors, 0);
    assert_true(ss.server.ntp_rx >= cs.source_rx);
    assert_true(ss.server.ntp_replies >= cs.source_rx);
    assert_int_equal(ss.server.ntp_denied, 0);
    assert_true(cli.after_calls > 0);

    struct report_source rs;
    assert_int_equal(engine_source_report(cli.engine, 0, loop_mono_ns(), &rs), 0);
    assert_int_equal(rs.pkt_stratum, 2);
    assert_int_equal(rs.pkt_ref_id, 0x7F7F0101u); /* the local reference's refid */
    assert_true(rs.reach != 0);
    assert_int_equal(executor_last_rx_kernel(cli.ex, id), 1); /* SO_TIMESTAMPING on loopback */
    assert_int_equal(executor_last_rx_kernel(cli.ex, id + 100), -ENOENT);
    /* kernel transmit timestamps (loopback gives software ones): every request but perhaps
     * the first has one, each came before its reply, none was held */
    assert_int_equal(rs.tx_tss_char, 'K');
    assert_true(cs.kernel_tx_ts + 1 >= rs.total_tx);
    assert_true(rs.total_kernel_tx + 1 >= rs.total_tx);
    assert_int_equal(cs.tx_ts_held, 0);
    assert_int_equal(cs.tx_ts_missed, 0);

    /* The reply read before its request's stamp: held, then released by the stamp. */
    executor_test_txts_order(cli.ex, 1);
    uint32_t tx0 = rs.total_tx, good0 = rs.total_good;
    while (rs.total_good < good0 + 4 && loop_mono_ns() - t0 < 30000000000LL) {
        assert_true(loop_run_once(l, 100000000) >= 0);
        assert_int_equal(engine_source_report(cli.engine, 0, loop_mono_ns(), &rs), 0);
    }
    executor_get_stats(cli.ex, &cs);
    assert_true(rs.total_good >= good0 + 4);
    assert_true(cs.tx_ts_held >= 4);
    assert_int_equal(cs.tx_ts_missed, 0);
    assert_int_equal(rs.tx_tss_char, 'K');
    assert_true(rs.total_kernel_tx + 1 >= rs.total_tx);
    assert_true(rs.total_tx > tx0);

    /* Stamps that never come: each held reply goes to the engine after the hold (a valid
     * reply, T1 the clock read before the send). Those samples' delay is the clock read's,
     * several times the kernel-stamped minimum, so the engine's delay test may refuse them
     * until that minimum leaves its sample window (tens of samples): whether they are good
     * is the engine's business, not the executor's. */
    executor_test_txts_order(cli.ex, 2);
    uint32_t valid0 = rs.total_valid;
    uint64_t held0 = cs.tx_ts_held, missed0 = cs.tx_ts_missed;
    while (!(rs.total_valid >= valid0 + 4 && cs.tx_ts_missed >= missed0 + 4) &&
           loop_mono_ns() - t0 < 40000000000LL) {
        assert_true(loop_run_once(l, 100000000) >= 0);
        assert_int_equal(engine_source_report(cli.engine, 0, loop_mono_ns(), &rs), 0);
        executor_get_stats(cli.ex, &cs);
    }
    assert_true(rs.total_valid >= valid0 + 4);
    assert_true(cs.tx_ts_missed >= missed0 + 4);
    assert_true(cs.tx_ts_held >= held0 + 4);
    assert_int_equal(rs.tx_tss_char, 'D');
    assert_int_equal(cs.source_ignored, 0);

    /* ... and the source keeps working: with the stamps back, good samples again (the reply
     * to the request in flight still has no stamp: 'D' once, then 'K'). */
    executor_test_txts_order(cli.ex, 0);
    good0 = rs.total_good;
    while (rs.total_good < good0 + 4 && loop_mono_ns() - t0 < 50000000000LL) {
        assert_true(loop_run_once(l, 100000000) >= 0);
        assert_int_equal(engine_source_report(cli.engine, 0, loop_mono_ns(), &rs), 0);
    }
    executor_get_stats(cli.ex, &cs);
    assert_true(rs.total_good >= good0 + 4);
    assert_int_equal(rs.tx_tss_char, 'K');
    assert_int_equal(cs.source_ignored, 0);
    assert_int_equal(cs.send_errors, 0);

    side_free(&cli);
    side_free(&srv);
    loop_free(l);
}

/* The packet path's compiled table (core/access) against executor_access_allowed(), the rule
 * walk cmdsrv and the executor used before: random nested IPv4/IPv6/family-less rules, with
 * and without `all`, random addresses next to the rules' edges. */
static void test_compiled_rules_match_walk(void **state)
{
    (void)state;
    struct prng p;
    prng_seed(&p, 5);
    static struct access_rule rules[EXECUTOR_MAX_RULES];
    static struct access_rule ar[EXECUTOR_MAX_RULES];
    long n_checks = 0, n_allowed = 0;
    for (int round = 0; round < 300; round++) {
        size_t n = round < 250 ? 1 + prng_below(&p, 10) : prng_below(&p, EXECUTOR_MAX_RULES + 1);
        for (size_t i = 0; i < n; i++) {
            struct access_rule *r = &rules[i];
            memset(r, 0, sizeof *r);
            r->allow = (int)prng_below(&p, 2);
            r->all = prng_below(&p, 5) == 0;
            uint64_t kind = prng_below(&p, 8);
            if (kind == 0) {
                r->subnet.prefix_len = -1;
            } else if (kind < 5) {
                r->subnet.addr = tu_v4(10, (int)prng_below(&p, 2), (int)prng_below(&p, 4),
                                       (int)prng_below(&p, 256));
                r->subnet.prefix_len = (int)prng_below(&p, 36);
            } else {
                r->subnet.addr.family = ADDR_INET6;
                r->subnet.addr.bytes[0] = 0x20;
                r->subnet.addr.bytes[1] = 0x01;
                r->subnet.addr.bytes[8] = (uint8_t)prng_below(&p, 2);
                r->subnet.addr.bytes[15] = (uint8_t)prng_below(&p, 256);
                r->subnet.prefix_len = (int)prng_below(&p, 130);
            }
            ar[i] = (struct access_rule){r->allow, r->all, r->subnet};
        }
        struct access_table *t = access_compile(ar, n);
        assert_non_null(t);
        for (int k = 0; k < 200; k++) {
            struct addr a;
            memset(&a, 0, sizeof a);
            if (prng_below(&p, 2)) {
                a = tu_v4(10, (int)prng_below(&p, 2), (int)prng_below(&p, 4),
                          (int)prng_below(&p, 256));
                if (prng_below(&p, 8) == 0)
                    prng_fill(&p, a.bytes, 4);
            } else {
                a.family = ADDR_INET6;
                a.bytes[0] = 0x20;
                a.bytes[1] = 0x01;
                a.bytes[8] = (uint8_t)prng_below(&p, 2);
                a.bytes[15] = (uint8_t)prng_below(&p, 256);
                if (prng_below(&p, 8) == 0)
                    prng_fill(&p, a.bytes, 16);
            }
            int want = executor_access_allowed(rules, n, &a);
            assert_int_equal(access_check(t, &a), want);
            n_checks++;
            n_allowed += want;
        }
        access_free(t);
    }
    assert_true(n_allowed > n_checks / 10 && n_allowed < n_checks * 9 / 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_rules),
        cmocka_unit_test(test_compiled_rules_match_walk),
        cmocka_unit_test(test_client_syncs_to_local_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
