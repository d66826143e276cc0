/* core/engine's saved registers (engine_source_export/import, the dump files' samples):
 * a register saved by one engine and loaded by a fresh one over the same clock (a restart)
 * gives the same estimates at once, for a kept (kernel) clock and for a virtual one. The
 * world harness is test_engine.c's. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/ntp_time.h"
#include "base/prng.h"
#include "core/engine.h"
#include "wire/ntp.h"

#define EPOCH_NS 1780000000000000000LL /* 2026-05-28 */
#define MAXQ     64

struct reply {
    int64_t at_ns; /* true time of arrival at the client */
    int src;
    uint8_t pkt[48];
};

struct world {
    int64_t t_ns; /* true time since start; also the client's mono clock */
    double x_s;   /* local - true */
    double f0_ppm, adj_ppm;
    double wander_ppm; /* random walk of f0: sd of the change per second (0 = none) */
    int steps;
    struct prng rng;
    int nsrv;
    double srv_offset_s[8];
    double base_s[8], jit_up_s[8], jit_down_s[8];
    int drop_all[8];
    int kod_rate[8];
    struct reply q[MAXQ];
    int nq;
    int sent[8];
    uint8_t last_req[8][48];
    struct engine *e;
};

static void advance(struct world *w, int64_t t)
{
    if (t > w->t_ns) {
        w->x_s += (w->f0_ppm + w->adj_ppm) * 1e-6 * (double)(t - w->t_ns) * 1e-9;
        w->t_ns = t;
    }
}

static int64_t c_read(void *ctx)
{
    struct world *w = ctx;
    return EPOCH_NS + w->t_ns + (int64_t)llround(w->x_s * 1e9);
}

static int c_freq(void *ctx, double ppm)
{
    struct world *w = ctx;
    w->adj_ppm = ppm;
    return 0;
}

static int c_step(void *ctx, double off)
{
    struct world *w = ctx;
    w->x_s += off;
    w->steps++;
    return 0;
}

static int c_leap(void *ctx, enum clock_leap l)
{
    (void)ctx;
    (void)l;
    return 0;
}

static int c_sync(void *ctx, int synced, double est, double max)
{
    (void)ctx;
    (void)synced;
    (void)est;
    (void)max;
    return 0;
}

static int w_send(void *ctx, int id, const uint8_t *pkt, size_t len)
{
    struct world *w = ctx;
    assert_int_equal(len, 48);
    w->sent[id]++;
    memcpy(w->last_req[id], pkt, 48);
    if (w->drop_all[id] || w->nq >= MAXQ)
        return 0;
    struct ntp_packet rq, rp;
    assert_int_equal(ntp_parse(pkt, len, &rq, NULL), NTP_OK);
    assert_int_equal(rq.mode, NTP_MODE_CLIENT);
    double up = w->base_s[id] + prng_exponential(&w->rng, w->jit_up_s[id]);
    double down = w->base_s[id] + prng_exponential(&w->rng, w->jit_down_s[id]);
    int64_t srv_rx = w->t_ns + (int64_t)(up * 1e9);
    int64_t srv_tx = srv_rx + 20000;
    memset(&rp, 0, sizeof(rp));
    rp.version = 4;
    rp.mode = NTP_MODE_SERVER;
    rp.stratum = 1;
    rp.precision = -20;
    rp.refid = NTP_REFID('G', 'P', 'S', 0);
    rp.origin = rq.transmit;
    int64_t so = (int64_t)(w->srv_offset_s[id] * 1e9);
    rp.reference = ntp_time_from_ns(EPOCH_NS + srv_rx - 1000000000 + so);
    rp.receive = ntp_time_from_ns(EPOCH_NS + srv_rx + so);
    rp.transmit = ntp_time_from_ns(EPOCH_NS + srv_tx + so);
    if (w->kod_rate[id]) {
        rp.stratum = 0;
        rp.leap = NTP_LEAP_UNSYNC;
        rp.refid = NTP_KISS_RATE;
    }
    struct reply *r = &w->q[w->nq++];
    r->at_ns = srv_tx + (int64_t)(down * 1e9);
    r->src = id;
    ntp_build(&rp, r->pkt, sizeof(r->pkt));
    return 0;
}

static struct clock_ops w_ops(struct world *w)
{
    struct clock_ops o = {
        .ctx = w,
        .read_real_ns = c_read,
        .set_freq_ppm = c_freq,
        .step_s = c_step,
        .set_leap = c_leap,
        .set_sync_status = c_sync,
        .max_freq_ppm = 100000.0,
    };
    return o;
}

/* Runs the world until true time end_ns. Returns the RMS of x over samples every second
 * after from_ns (0 if none). */
static double run(struct world *w, const struct engine_io *io, int64_t end_ns, int64_t from_ns)
{
    double sum = 0.0;
    long n = 0;
    int64_t next_sample = from_ns;
    while (w->t_ns < end_ns) {
        int64_t t = engine_next_timeout_mono_ns(w->e);
        int qi = -1;
        for (int i = 0; i < w->nq; i++)
            if (w->q[i].at_ns < t && (qi < 0 || w->q[i].at_ns < w->q[qi].at_ns))
                qi = i;
        if (qi >= 0)
            t = w->q[qi].at_ns;
        if (t > end_ns)
            t = end_ns;
        while (next_sample <= t && next_sample < end_ns) {
            advance(w, next_sample);
            if (w->wander_ppm > 0.0)
                w->f0_ppm += w->wander_ppm * prng_normal(&w->rng);
            sum += w->x_s * w->x_s;
            n++;
            next_sample += 1000000000;
        }
        advance(w, t);
        if (qi >= 0) {
            struct reply r = w->q[qi];
            w->q[qi] = w->q[--w->nq];
            engine_receive(w->e, r.src, r.pkt, 48, c_read(w), w->t_ns, io);
        } else if (t >= engine_next_timeout_mono_ns(w->e)) {
            engine_run_timers(w->e, w->t_ns, io);
        }
    }
    return n ? sqrt(sum / (double)n) : 0.0;
}

static void world_init(struct world *w, int nsrv, uint64_t seed)
{
    memset(w, 0, sizeof(*w));
    prng_seed(&w->rng, seed);
    w->nsrv = nsrv;
    for (int i = 0; i < nsrv; i++) {
        w->base_s[i] = 50e-6;
        w->jit_up_s[i] = 10e-6;
        w->jit_down_s[i] = 10e-6;
    }
}

static int add_src(struct world *w, struct engine_source_params *sp, int last_octet)
{
    struct addr a = {.family = ADDR_INET4, .bytes = {192, 0, 2, (uint8_t)last_octet}, .port = 123};
    char name[16];
    snprintf(name, sizeof(name), "s%d", last_octet);
    return engine_add_source(w->e, sp, &a, name, w->t_ns);
}

/* One engine runs an hour against a server, its register is saved; a second engine over the
 * same world (a restart: the kernel clock kept the first one's adjustment, or with kept = 0
 * the raw clock is the world's clock itself) loads it and must estimate the same offset
 * and frequency before any new packet. */
static void restart_keeps_estimates(int kept)
{
    struct world w;
    world_init(&w, 1, 21);
    w.x_s = 0.004;
    w.f0_ppm = 30.0;
    struct clock_ops ops = w_ops(&w);
    struct engine_io io = {.ctx = &w, .send = w_send};
    struct engine_params p;
    engine_params_default(&p);
    p.mono_is_raw = !kept; /* as tempusd -x */
    w.e = engine_new(&p, &ops, 1, 0);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.iburst = 1;
    sp.maxpoll_log2 = 6;
    int id = add_src(&w, &sp, 1);
    assert_int_equal(id, 0);
    run(&w, &io, 3600 * 1000000000LL, 0);
    struct report_source before;
    assert_int_equal(engine_source_report(w.e, 0, w.t_ns, &before), 0);
    assert_true(before.n_samples >= 8);
    struct report_tracking tr;
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);

    struct engine_saved_sample saved[256];
    int n = engine_source_export(w.e, id, kept, w.t_ns, saved, 256);
    assert_int_equal(n, (int)before.n_samples);
    for (int k = 1; k < n; k++)
        assert_true(saved[k].real_ns > saved[k - 1].real_ns);
    assert_true(saved[n - 1].real_ns <= c_read(&w));
    assert_int_equal(engine_source_export(w.e, id + 7, kept, w.t_ns, saved, 256), -ENOENT);
    /* A smaller buffer gets the newest samples. */
    struct engine_saved_sample few[3];
    assert_int_equal(engine_source_export(w.e, id, kept, w.t_ns, few, 3), 3);
    assert_int_equal(few[2].real_ns, saved[n - 1].real_ns);
    engine_free(w.e);

    /* Down for 60 s. A kept clock runs on with its adjustment; the virtual one (kept = 0)
     * vanishes: the world's clock is then the raw clock, so the world drops the
     * adjustment and its offset returns to the raw clock's. */
    double adj = w.adj_ppm;
    if (!kept) {
        w.x_s = 0.004 + 30.0e-6 * (double)w.t_ns * 1e-9;
        w.adj_ppm = 0.0;
    }
    advance(&w, w.t_ns + 60 * 1000000000LL);
    w.nq = 0;
    int64_t start = w.t_ns;
    struct engine_params p2;
    engine_params_default(&p2);
    p2.mono_is_raw = !kept;
    p2.have_initial_freq = 1;
    p2.initial_freq_ppm = tr.freq_ppm;
    p2.initial_skew_ppm = tr.skew_ppm;
    w.e = engine_new(&p2, &ops, 2, start);
    if (kept)
        assert_true(fabs(w.adj_ppm - adj) < 0.5); /* the drift file's value */
    id = add_src(&w, &sp, 1);
    assert_int_equal(engine_source_import(w.e, id, kept, saved, n, start), n);
    struct report_source after;
    assert_int_equal(engine_source_report(w.e, 0, start, &after), 0);
    assert_int_equal(after.n_samples, before.n_samples);
    assert_int_equal(after.reach, 0); /* not selectable before a reply */
    assert_true(after.since_sample_s >= 60 && after.since_sample_s < 200);
    assert_true(fabs(after.resid_freq_ppm - before.resid_freq_ppm) < 0.2);
    assert_true(fabs(after.skew_ppm - before.skew_ppm) < 0.05);
    /* The estimate of the local clock's offset now is the world's truth. */
    assert_true(fabs(after.est_offset_s - w.x_s) < 20e-6);

    /* Bad input leaves the register alone. */
    struct engine_saved_sample bad[2] = {saved[n - 1], saved[n - 2]};
    assert_int_equal(engine_source_import(w.e, id, kept, bad, 2, start), -EINVAL);
    bad[0] = saved[n - 2];
    bad[1] = saved[n - 1];
    bad[1].offset_s = NAN;
    assert_int_equal(engine_source_import(w.e, id, kept, bad, 2, start), -EINVAL);
    bad[1] = saved[n - 1];
    bad[1].real_ns = c_read(&w) + 1000000000LL; /* from the future */
    assert_int_equal(engine_source_import(w.e, id, kept, bad, 2, start), -EINVAL);
    bad[1] = saved[n - 1];
    bad[1].stratum = 17;
    assert_int_equal(engine_source_import(w.e, id, kept, bad, 2, start), -EINVAL);
    assert_int_equal(engine_source_import(w.e, id, kept, bad, 0, start), -EINVAL);
    assert_int_equal(engine_source_import(w.e, id + 5, kept, saved, n, start), -ENOENT);
    assert_int_equal(engine_source_report(w.e, 0, start, &after), 0);
    assert_int_equal(after.n_samples, before.n_samples);

    /* And it synchronises from the first new reply, near the truth. */
    run(&w, &io, start + 20 * 1000000000LL, start);
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);
    assert_true(fabs(w.x_s) < 200e-6);
    engine_free(w.e);
}

static void test_restart_kernel_clock(void **state)
{
    (void)state;
    restart_keeps_estimates(1);
}

static void test_restart_virtual_clock(void **state)
{
    (void)state;
    restart_keeps_estimates(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_kernel_clock),
        cmocka_unit_test(test_restart_virtual_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
