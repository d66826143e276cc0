/* Fuzz target: tempusd's control-request path, daemon/cmdsrv's cmdsrv_handle (access rules,
 * decoding, dispatch, every handler, reply encoding), request bytes in, reply bytes out, over
 * a daemon state built in-process: a real engine with two sources synchronised to a fake
 * server (so reports, selectopts, offset, reset sources ... act on samples), an NTP client
 * log with a few clients (so `clients` merges rows), `local`, cmdallow/allow rules, and a
 * fake daemon hook (add/delete/allow/local/shutdown answered as the daemon does, no
 * sockets).
 *
 * Input: 1 option byte, then records of [ctl][len_hi][len_lo][len bytes of request] (at most
 * FUZZ_MAX_REQUESTS; len capped at 1024), all handled by the same cmdsrv, so a request can
 * change what the next one sees (allow then accheck, offline then activity, ...):
 *   opt:  bit 0 cmdratelimit on, bit 1 noclientlog, bit 2 clock_fixed (-x), bit 3 the hook
 *         answers FAILED, bits 4-7 seconds (x 16) to run the engine before the first request
 *   ctl:  bits 0-1 transport/sender: 0 Unix, 1 UDP from 127.0.0.1, 2 UDP from ::1, 3 UDP
 *         from 192.0.2.77 (allowed by cmdallow only when bit 2 is set), bit 2 cmdallow
 *         192.0.2.0/24 for this request's check (added once), bits 3-7 seconds to run the
 *         engine before the request.
 * Invariants: no crash or sanitizer report; a reply is never longer than its request, never
 * longer than CMDMON_MAX_REP_LEN, and carries the request's sequence and command. */
#include <stdint.h>
#include <string.h>

#include "base/addr.h"
#include "base/log.h"
#include "base/ntp_time.h"
#include "core/clientlog.h"
#include "core/clock_ops.h"
#include "core/engine.h"
#include "daemon/cmdsrv.h"
#include "fuzz_common.h"
#include "wire/cmdmon.h"
#include "wire/ntp.h"

#include "../unit/core/engine_world.h"

#define FUZZ_START_NS     1795564800000000000LL /* 2026-11-25 00:00:00 UTC */
#define FUZZ_SEC          1000000000LL
#define FUZZ_MAX_REQUESTS 64
#define FUZZ_MAX_LEN      1024
#define FUZZ_MAX_EVENTS   200 /* engine calls per input: each reply refits the regression */

/* The engine in tests/unit/core's world (two servers answering from true time, the second
 * 20 us ahead, 90 us each way), within an event budget per input (each reply refits the
 * regression); the daemon hook's answer. */
struct fixture {
    struct world w;
    int fail_hook;
};

/* Runs the engine (and the fake servers) for secs seconds, within the input's budget (time
 * still moves on when it is spent). */
static void run_for(struct fixture *f, int64_t secs)
{
    struct engine_io io = {.ctx = &f->w, .send = world_send};
    (void)world_run(&f->w, &io, f->w.t_ns + secs * FUZZ_SEC, INT64_MAX);
}

/* The daemon's side, faked: what cmdsrv_io's run hook answers, without sockets. */
static int hook_run(void *ctx, const struct cmdmon_request *req)
{
    struct fixture *f = ctx;
    if (f->fail_hook)
        return CMDMON_STT_FAILED;
    switch (req->command) {
    case CMDMON_REQ_ADD_SOURCE:
        return CMDMON_STT_SOURCEALREADYKNOWN;
    case CMDMON_REQ_DEL_SOURCE: {
        /* The real hook removes the engine source: do it, so later reports see fewer. */
        int n = engine_source_count(f->w.e);
        for (int i = 0; i < n; i++) {
            struct report_source r;
            struct addr a;
            memset(&a, 0, sizeof a);
            a.family = req->u.ip.family == CMDMON_FAMILY_INET6 ? ADDR_INET6 : ADDR_INET4;
            memcpy(a.bytes, req->u.ip.addr, a.family == ADDR_INET6 ? 16 : 4);
            if (engine_source_report(f->w.e, i, f->w.t_ns, &r) == 0 && addr_equal(&r.remote, &a)) {
                (void)engine_remove_source(f->w.e, r.id);
                return CMDMON_STT_SUCCESS;
            }
        }
        return CMDMON_STT_NOSUCHSOURCE;
    }
    case CMDMON_REQ_MODIFY_MINPOLL: /* cmdsrv's own work: never here */
    case CMDMON_REQ_MODIFY_MAKESTEP:
    case CMDMON_REQ_DFREQ:
    case CMDMON_REQ_MODIFY_SELECTOPTS:
        FUZZ_CHECK(0);
        return CMDMON_STT_FAILED;
    default:
        return CMDMON_STT_SUCCESS;
    }
}

static void quiet(void *ctx, enum log_level level, const char *msg)
{
    (void)ctx;
    (void)level;
    (void)msg;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_sink(quiet, NULL);
    struct fuzz_in in = {data, size};
    uint8_t opt = fuzz_u8(&in);

    struct fixture f;
    memset(&f, 0, sizeof f);
    struct world *w = &f.w;
    world_init(w, 2, 1);
    w->epoch_ns = FUZZ_START_NS;
    w->x_s = 0.01;
    w->max_events = FUZZ_MAX_EVENTS;
    for (int i = 0; i < 2; i++) {
        w->base_s[i] = 90e-6;
        w->jit_up_s[i] = w->jit_down_s[i] = 0.0;
    }
    w->srv_offset_s[1] = 20e-6;
    f.fail_hook = (opt & 8) != 0;
    struct clock_ops ops = world_clock_ops(w);
    struct engine_params ep;
    engine_params_default(&ep);
    ep.mono_is_raw = 1;
    w->e = engine_new(&ep, &ops, 11, 0);
    FUZZ_CHECK(w->e != NULL);
    for (int i = 0; i < 2; i++) {
        struct engine_source_params sp;
        engine_source_params_default(&sp);
        sp.iburst = 1;
        sp.minpoll_log2 = 0;
        sp.maxpoll_log2 = 2;
        struct addr a = {.family = ADDR_INET4, .bytes = {127, 0, 0, (uint8_t)(1 + i)}, .port = 123};
        FUZZ_CHECK(engine_add_source(w->e, &sp, &a, i ? "127.0.0.2" : "127.0.0.1", 0) == i);
    }
    run_for(&f, 16 * (opt >> 4));

    struct clientlog_params lp;
    clientlog_params_default(&lp);
    lp.limit_bytes = 64 * CLIENTLOG_RECORD_BYTES;
    lp.disabled = (opt & 2) != 0;
    struct clientlog *ntp = clientlog_new(&lp);
    FUZZ_CHECK(ntp != NULL);
    const char *clients[3] = {"127.0.0.1", "192.0.2.77", "::1"};
    for (int i = 0; i < 3; i++) {
        struct addr a;
        FUZZ_CHECK(addr_parse(clients[i], &a) == 0);
        for (int k = 0; k <= i; k++)
            (void)clientlog_access(ntp, CLIENTLOG_NTP, &a,
                                   world_read_ns(w) - (int64_t)k * FUZZ_SEC);
    }

    struct cmdsrv_params p;
    memset(&p, 0, sizeof p);
    p.seed = 5;
    p.noclientlog = (opt & 2) != 0;
    p.clock_fixed = (opt & 4) != 0;
    p.cmdratelimit.enabled = opt & 1;
    p.cmdratelimit.interval_log2 = -1;
    p.cmdratelimit.burst = 4;
    p.cmdratelimit.leak = 2;
    p.cmdratelimit.kod_log2 = -1;
    p.local_enabled = 1;
    p.local_stratum = 10;
    p.local_distance_s = 3.0;
    p.n_ntp_rules = 1;
    p.ntp_rules[0].allow = 1;
    FUZZ_CHECK(addr_parse("127.0.0.0", &p.ntp_rules[0].subnet.addr) == 0);
    p.ntp_rules[0].subnet.prefix_len = 8;
    struct cmdsrv_hooks h = {&f, hook_run, NULL, NULL};
    struct cmdsrv *s = cmdsrv_new(&p, w->e, ntp, &h);
    FUZZ_CHECK(s != NULL);

    static uint8_t out[CMDMON_MAX_REP_LEN + 64];
    int allowed = 0;
    for (int r = 0; r < FUZZ_MAX_REQUESTS && in.n > 0; r++) {
        uint8_t ctl = fuzz_u8(&in);
        uint8_t lb[2] = {fuzz_u8(&in), fuzz_u8(&in)};
        size_t len = be16(lb) % (FUZZ_MAX_LEN + 1), got;
        const uint8_t *req = fuzz_bytes(&in, len, &got);
        run_for(&f, ctl >> 3);
        if ((ctl & 4) && !allowed) {
            /* cmdallow 192.0.2.0/24, as a run-time CMDALLOW would add it. */
            uint8_t b[CMDMON_MAX_REQ_LEN];
            struct cmdmon_request q;
            memset(&q, 0, sizeof q);
            q.version = CMDMON_PROTO_VERSION;
            q.command = CMDMON_REQ_CMDALLOW;
            q.u.subnet.ip.family = CMDMON_FAMILY_INET4;
            q.u.subnet.ip.addr[0] = 192;
            q.u.subnet.ip.addr[2] = 2;
            q.u.subnet.subnet_bits = 24;
            int n = cmdmon_request_encode(&q, b, sizeof b);
            FUZZ_CHECK(n > 0);
            (void)cmdsrv_handle(s, CMDSRV_UNIX, NULL, b, (size_t)n, w->t_ns, world_read_ns(w), out,
                                CMDMON_MAX_REP_LEN);
            allowed = 1;
        }
        struct addr from;
        const struct addr *fp = NULL;
        enum cmdsrv_transport t = CMDSRV_UNIX;
        if (ctl & 3) {
            t = CMDSRV_UDP;
            const char *names[4] = {"", "127.0.0.1", "::1", "192.0.2.77"};
            FUZZ_CHECK(addr_parse(names[ctl & 3], &from) == 0);
            from.port = 40000;
            fp = &from;
        }
        memset(out, 0xA5, sizeof out);
        size_t m =
            cmdsrv_handle(s, t, fp, req, got, w->t_ns, world_read_ns(w), out, CMDMON_MAX_REP_LEN);
        FUZZ_CHECK(m <= got);
        FUZZ_CHECK(m <= CMDMON_MAX_REP_LEN);
        FUZZ_CHECK(out[CMDMON_MAX_REP_LEN] == 0xA5); /* nothing written past cap */
        if (m > 0) {
            FUZZ_CHECK(m >= 28);
            FUZZ_CHECK(out[4] == req[4] && out[5] == req[5]); /* command */
            FUZZ_CHECK(memcmp(out + 16, req + 8, 4) == 0);    /* sequence */
        }
    }
    cmdsrv_free(s);
    clientlog_free(ntp);
    engine_free(w->e);
    return 0;
}
