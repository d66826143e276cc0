/* The engine unit tests' simulated world (engine_world.h). */
#include "engine_world.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/addr.h"
#include "base/ntp_time.h"
#include "wire/ntp.h"

void world_advance(struct world *w, int64_t t)
{
    if (t > w->t_ns) {
        w->x_s += (w->f0_ppm + w->adj_ppm) * 1e-6 * (double)(t - w->t_ns) * 1e-9;
        w->t_ns = t;
    }
}

int64_t world_read_ns(void *ctx)
{
    struct world *w = ctx;
    return w->epoch_ns + w->t_ns + (int64_t)llround(w->x_s * 1e9);
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
    if (!(fabs(off) < 1e6))
        return -ERANGE;
    w->x_s += off;
    w->steps++;
    return 0;
}

static int c_leap(void *ctx, enum clock_leap l)
{
    struct world *w = ctx;
    w->armed_leap = (int)l;
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

int world_send(void *ctx, int id, const uint8_t *pkt, size_t len)
{
    struct world *w = ctx;
    assert_int_equal(len, 48);
    w->sent[id]++;
    memcpy(w->last_req[id], pkt, 48);
    if (w->drop_all[id] || w->nq >= WORLD_MAXQ)
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
    rp.leap = (uint8_t)w->srv_leap;
    rp.mode = NTP_MODE_SERVER;
    rp.stratum = (uint8_t)(w->srv_stratum[id] ? w->srv_stratum[id] : 1);
    rp.precision = -20;
    rp.refid = w->srv_refid[id] ? w->srv_refid[id] : NTP_REFID('G', 'P', 'S', 0);
    rp.origin = rq.transmit;
    int64_t so = (int64_t)(w->srv_offset_s[id] * 1e9);
    rp.reference = ntp_time_from_ns(w->epoch_ns + srv_rx - 1000000000 + so);
    rp.receive = ntp_time_from_ns(w->epoch_ns + srv_rx + so);
    rp.transmit = ntp_time_from_ns(w->epoch_ns + srv_tx + so);
    if (w->kod_rate[id]) {
        rp.stratum = 0;
        rp.leap = NTP_LEAP_UNSYNC;
        rp.refid = NTP_KISS_RATE;
    }
    struct world_reply *r = &w->q[w->nq++];
    r->at_ns = srv_tx + (int64_t)(down * 1e9);
    r->src = id;
    ntp_build(&rp, r->pkt, sizeof(r->pkt));
    return 0;
}

struct clock_ops world_clock_ops(struct world *w)
{
    struct clock_ops o = {
        .ctx = w,
        .read_real_ns = world_read_ns,
        .set_freq_ppm = c_freq,
        .step_s = c_step,
        .set_leap = c_leap,
        .set_sync_status = c_sync,
        .max_freq_ppm = 100000.0,
    };
    return o;
}

double world_run(struct world *w, const struct engine_io *io, int64_t end_ns, int64_t from_ns)
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
            world_advance(w, next_sample);
            if (w->wander_ppm > 0.0)
                w->f0_ppm += w->wander_ppm * prng_normal(&w->rng);
            sum += w->x_s * w->x_s;
            n++;
            next_sample += 1000000000;
        }
        world_advance(w, t);
        if (w->max_events > 0 && w->events >= w->max_events) {
            world_advance(w, end_ns);
            break;
        }
        w->events++;
        if (qi >= 0) {
            struct world_reply r = w->q[qi];
            w->q[qi] = w->q[--w->nq];
            engine_receive(w->e, r.src, r.pkt, 48, world_read_ns(w), w->t_ns, io);
        } else if (t >= engine_next_timeout_mono_ns(w->e)) {
            engine_run_timers(w->e, w->t_ns, io);
        }
    }
    return n ? sqrt(sum / (double)n) : 0.0;
}

void world_init(struct world *w, int nsrv, uint64_t seed)
{
    memset(w, 0, sizeof(*w));
    w->epoch_ns = WORLD_EPOCH_NS;
    w->armed_leap = -1;
    prng_seed(&w->rng, seed);
    w->nsrv = nsrv;
    for (int i = 0; i < nsrv; i++) {
        w->base_s[i] = 50e-6;
        w->jit_up_s[i] = 10e-6;
        w->jit_down_s[i] = 10e-6;
    }
}

struct engine *world_engine_new(struct world *w, const struct engine_params *p, uint64_t seed)
{
    w->ops = world_clock_ops(w);
    w->io = (struct engine_io){.ctx = w, .send = world_send};
    w->e = engine_new(p, &w->ops, seed, 0);
    return w->e;
}

int world_add_src(struct world *w, struct engine_source_params *sp, int last_octet)
{
    struct addr a = {.family = ADDR_INET4, .bytes = {192, 0, 2, (uint8_t)last_octet}, .port = 123};
    char name[16];
    snprintf(name, sizeof(name), "s%d", last_octet);
    return engine_add_source(w->e, sp, &a, name, w->t_ns);
}
