/* A simulation run (see run.h).
 *
 * Nodes are machines whose clock is disciplined by an engine: node 0 is the client under
 * test, the others are servers of kind "engine" (stratum 2 syncing from another server).
 * Every engine call happens at the world's current time, with mono and real time read from
 * the node's own simulated clock; the engine's next timeout (in its mono time) is turned into
 * a true-time event, re-armed after every call.
 *
 * Packet path: engine io->send -> link up (delay or loss) -> server receives (rx timestamp
 * from the server's clock) -> after the processing time, core/server (the code tempusd
 * answers with) builds the reply, reading the transmit timestamp, and it enters the link down ->
 * the node receives it (rx timestamp = its local clock at the true arrival time) ->
 * engine_receive().
 */
#include "sim/run.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/prng.h"
#include "core/engine.h"
#include "core/server.h"
#include "sim/clock.h"
#include "sim/link.h"
#include "sim/refserver.h"
#include "sim/world.h"
#include "wire/ntp.h"

#define NS_PER_S  1000000000LL
#define MAX_NODES (SIMSCN_MAX_SERVERS + 1)
#define MAX_SLOTS SIMSCN_MAX_SERVERS
/* When an engine, right after running its timers, asks to be woken at a time already
 * passed, it is called again 1 ns later; after SPIN_LIMIT such calls in a row, SPIN_GUARD_NS
 * later (counted in spins). */
#define SPIN_GUARD_NS   1000000LL
#define SPIN_LIMIT      100
#define TIMER_EARLY_PPM 50.0

struct run;

struct slot {
    int server; /* 0-based server index */
    int id;     /* engine source id */
    struct simlink up, down;
};

struct node {
    struct run *run;
    int idx;
    int used;
    struct simclock clock;
    struct clock_ops ops;
    struct engine *eng;
    struct engine_io io;
    int nslots;
    struct slot slots[MAX_SLOTS];
    uint32_t timer_gen;
    int64_t timer_t; /* true time of the pending timer event, -1 none */
    uint64_t packets;
    uint64_t spins;
    int consec_spins;
};

struct server_state {
    struct run *run;
    int k;
    struct server core;   /* core/server: the answering code tempusd runs */
    struct clock_ops ops; /* reference server: reads server_clock_ns() */
    int up;
    double offset_s; /* reference server: clock - true at t_set */
    double freq_ppm;
    int64_t t_set_ns;
    int node; /* engine server: its node index, else -1 */
};

struct run {
    const struct simscn *s;
    struct simworld *w;
    struct prng rng;
    struct node nodes[MAX_NODES];
    struct server_state srv[SIMSCN_MAX_SERVERS];
    struct simclock truth; /* never adjusted: carries the world's leap second */
    FILE *csv;
    FILE *log;
    int last_steps, last_leaps;
    int64_t next_csv_ns;
    int selected; /* client's selected server (0-based), -1 none */
    int sched_failed;

    /* statistics */
    double sum_err2, sum_f2, max_err;
    uint64_t n_stat;
    int64_t last_bad_ns; /* last stat sample before the end of warm-up with |err| > 1 ms */
    int any_bad;
    int steps_at_warmup;
    double liar_sel_s, unsync_s;
    uint64_t events;
    int64_t timer_late_max_ns;
};

static void ev_timer(void *ctx, int a, int b, const uint8_t *data, size_t len);

static int64_t now_ns(const struct run *r)
{
    return simworld_now_ns(r->w);
}

static void sched(struct run *r, int64_t t, void (*fn)(void *, int, int, const uint8_t *, size_t),
                  int a, int b, const uint8_t *data, size_t len)
{
    struct simworld_cb cb = {fn, r};
    /* Only -ENOMEM can fail here: the run goes on but reports the failure. */
    if (simworld_schedule(r->w, t, cb, a, b, data, len) < 0)
        r->sched_failed = 1;
}

/* ---- the --log lines: what changed at the client ---- */

static void log_client_changes(struct run *r, int was_selected)
{
    struct simclock *c = &r->nodes[0].clock;
    double t = (double)now_ns(r) / NS_PER_S;
    if (r->selected != was_selected) {
        if (r->selected >= 0)
            fprintf(r->log, "# %.3f s: selected server %d (%s)\n", t, r->selected + 1,
                    r->s->servers[r->selected].name);
        else
            fprintf(r->log, "# %.3f s: no source selected\n", t);
    }
    if (c->steps != r->last_steps) {
        fprintf(r->log, "# %.3f s: clock stepped (step %d), error now %+.9f s\n", t, c->steps,
                simclock_error_s(c));
        r->last_steps = c->steps;
    }
    if (c->leaps_applied != r->last_leaps) {
        fprintf(r->log, "# %.3f s: the clock applied a leap second, error now %+.9f s\n", t,
                simclock_error_s(c));
        r->last_leaps = c->leaps_applied;
    }
}

/* With --log, the engines' own log messages, stamped with simulated time (from every node:
 * the client's and the engine servers'). */
static void log_sink(void *ctx, enum log_level level, const char *msg)
{
    struct run *r = ctx;
    fprintf(r->log, "# %.3f s: [%s] %s\n", (double)now_ns(r) / NS_PER_S, log_level_name(level),
            msg);
}

/* ---- engines ---- */

/* Re-arms n's timer after an engine call; ran_timers: the call was engine_run_timers(). */
static void after_engine_call(struct node *n, int ran_timers)
{
    struct run *r = n->run;
    int64_t m = engine_next_timeout_mono_ns(n->eng);
    int64_t t;
    if (m == INT64_MAX) {
        t = -1;
    } else {
        int64_t mono = simclock_mono_ns(&n->clock);
        t = simclock_true_at_mono(&n->clock, m);
        /* The estimate assumes today's rate; wander and the temperature swing change it a
         * little. Aim early by TIMER_EARLY_PPM of the wait: the engine then finds nothing
         * due and is re-armed with a fresh estimate, so it never runs late. */
        int64_t wait = t - now_ns(r);
        if (wait > 1000000)
            t -= (int64_t)((double)wait * TIMER_EARLY_PPM * 1e-6);
        if (m <= mono) {
            /* Due now: run it now, unless the engine has just run its timers and still
             * says so (then it would spin). */
            t = now_ns(r);
            if (ran_timers) {
                /* As a daemon's loop would, call again as soon as the clock has moved
                 * on; back off if the engine keeps asking for the past. */
                n->spins++;
                t += ++n->consec_spins > SPIN_LIMIT ? SPIN_GUARD_NS : 1;
            }
        } else if (ran_timers) {
            n->consec_spins = 0;
        }
    }
    if (t != n->timer_t) {
        n->timer_gen++;
        n->timer_t = t;
        if (t >= 0)
            sched(r, t, ev_timer, n->idx, (int)(n->timer_gen & 0x7fffffff), NULL, 0);
    }
    if (n->idx == 0) {
        struct report_tracking tr;
        engine_tracking(n->eng, simclock_mono_ns(&n->clock), &tr);
        int was = r->selected;
        r->selected = -1;
        for (int i = 0; i < n->nslots; i++)
            if (tr.selected_source_id >= 0 && n->slots[i].id == tr.selected_source_id)
                r->selected = n->slots[i].server;
        if (r->log)
            log_client_changes(r, was);
    }
}

static void ev_timer(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    struct run *r = ctx;
    struct node *n = &r->nodes[a];
    (void)data;
    (void)len;
    r->events++;
    if (b != (int)(n->timer_gen & 0x7fffffff))
        return; /* superseded */
    n->timer_t = -1;
    int64_t mono = simclock_mono_ns(&n->clock), due = engine_next_timeout_mono_ns(n->eng);
    if (mono >= due && mono - due > r->timer_late_max_ns)
        r->timer_late_max_ns = mono - due;
    engine_run_timers(n->eng, mono, &n->io);
    after_engine_call(n, 1);
}

static void ev_to_server(void *ctx, int a, int b, const uint8_t *data, size_t len);

static int node_send(void *ctx, int source_id, const uint8_t *pkt, size_t len)
{
    struct node *n = ctx;
    struct run *r = n->run;
    for (int i = 0; i < n->nslots; i++) {
        struct slot *sl = &n->slots[i];
        if (sl->id != source_id)
            continue;
        n->packets++;
        if (len > SIMWORLD_DATA_MAX)
            return -EMSGSIZE;
        int64_t d = simlink_transit_ns(&sl->up);
        if (d >= 0)
            sched(r, now_ns(r) + d, ev_to_server, sl->server, n->idx * MAX_SLOTS + i, pkt, len);
        return 0;
    }
    return -ENOENT;
}

static void ev_to_node(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    struct run *r = ctx;
    struct node *n = &r->nodes[a];
    r->events++;
    int64_t rx = simclock_real_ns(&n->clock);
    engine_receive(n->eng, n->slots[b].id, data, len, rx, simclock_mono_ns(&n->clock), &n->io);
    after_engine_call(n, 0);
}

/* ---- servers ---- */

static int64_t server_clock_ns(struct run *r, int k)
{
    struct server_state *st = &r->srv[k];
    if (st->node >= 0)
        return simclock_real_ns(&r->nodes[st->node].clock);
    return simref_clock_ns(&r->truth, now_ns(r), st->offset_s, st->freq_ppm, st->t_set_ns);
}

static int64_t ref_server_read(void *ctx)
{
    struct server_state *st = ctx;
    return server_clock_ns(st->run, st->k);
}

static void server_reference(struct run *r, int k, struct server_ref *ref)
{
    struct server_state *st = &r->srv[k];
    if (st->node >= 0) {
        struct node *n = &r->nodes[st->node];
        simref_engine(n->eng, simclock_mono_ns(&n->clock), ref);
    } else {
        simref_fixed(&r->s->servers[k], k, &r->truth, now_ns(r), server_clock_ns(r, k), ref);
    }
}

static void ev_server_tx(void *ctx, int a, int b, const uint8_t *data, size_t len);

/* A request arrives: the receive timestamp is taken now; the answer is built when it leaves
 * (ev_server_tx). The payload carries the timestamp ahead of the request. */
static void ev_to_server(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    struct run *r = ctx;
    r->events++;
    if (!r->srv[a].up || len + 8 > SIMWORLD_DATA_MAX)
        return;
    uint8_t buf[SIMWORLD_DATA_MAX];
    int64_t rx = server_clock_ns(r, a);
    memcpy(buf, &rx, 8);
    memcpy(buf + 8, data, len);
    int64_t proc = (int64_t)llround(r->s->servers[a].proc_s * NS_PER_S);
    sched(r, now_ns(r) + proc, ev_server_tx, a, b, buf, len + 8);
}

static void ev_server_tx(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    struct run *r = ctx;
    struct server_state *st = &r->srv[a];
    r->events++;
    if (!st->up)
        return;
    int node = b / MAX_SLOTS, slot = b % MAX_SLOTS;
    struct addr from;
    memset(&from, 0, sizeof(from));
    from.family = ADDR_INET4;
    from.bytes[0] = 10;
    from.bytes[1] = 1;
    from.bytes[3] = (uint8_t)node;
    from.port = NTP_PORT;
    struct server_rx rx = {.pkt = data + 8, .len = len - 8, .from = &from};
    memcpy(&rx.rx_ns, data, 8);
    struct server_ref ref;
    server_reference(r, a, &ref);
    const struct clock_ops *clk = st->node >= 0 ? &r->nodes[st->node].ops : &st->ops;
    uint8_t reply[SIMWORLD_DATA_MAX];
    size_t rl = 0;
    enum server_verdict v =
        server_respond(&st->core, &ref, NULL, &rx, clk, reply, sizeof(reply), &rl);
    if (!server_verdict_sends(v) || !rl)
        return;
    int64_t d = simlink_transit_ns(&r->nodes[node].slots[slot].down);
    if (d >= 0)
        sched(r, now_ns(r) + d, ev_to_node, node, slot, reply, rl);
}

/* ---- scripted events ---- */

static void set_link_state(struct run *r, int k, int down, double loss, int set_loss)
{
    struct node *n = &r->nodes[0];
    for (int i = 0; i < n->nslots; i++) {
        if (n->slots[i].server != k)
            continue;
        if (set_loss) {
            n->slots[i].up.p.loss = loss;
            n->slots[i].down.p.loss = loss;
        } else {
            n->slots[i].up.down = down;
            n->slots[i].down.down = down;
        }
    }
}

static void ev_script(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    struct run *r = ctx;
    const struct simscn_event *ev = &r->s->events[a];
    int k = ev->server - 1;
    (void)b;
    (void)data;
    (void)len;
    r->events++;
    if (r->log)
        fprintf(r->log, "# %.3f s: event %d (kind %d) server %d value %g\n",
                (double)now_ns(r) / NS_PER_S, a + 1, (int)ev->kind, ev->server, ev->value);
    switch (ev->kind) {
    case SIMSCN_EV_SERVER_DOWN:
        r->srv[k].up = 0;
        break;
    case SIMSCN_EV_SERVER_UP:
        r->srv[k].run = r;
        r->srv[k].k = k;
        r->srv[k].ops.ctx = &r->srv[k];
        r->srv[k].ops.read_real_ns = ref_server_read;
        r->srv[k].up = 1;
        break;
    case SIMSCN_EV_SERVER_OFFSET:
    case SIMSCN_EV_SERVER_FREQ: {
        struct server_state *st = &r->srv[k];
        int64_t t = now_ns(r);
        st->offset_s += st->freq_ppm * 1e-6 * (double)(t - st->t_set_ns) / NS_PER_S;
        st->t_set_ns = t;
        if (ev->kind == SIMSCN_EV_SERVER_OFFSET)
            st->offset_s = ev->value;
        else
            st->freq_ppm = ev->value;
        break;
    }
    case SIMSCN_EV_LINK_DOWN:
        set_link_state(r, k, 1, 0, 0);
        break;
    case SIMSCN_EV_LINK_UP:
        set_link_state(r, k, 0, 0, 0);
        break;
    case SIMSCN_EV_LINK_LOSS:
        set_link_state(r, k, 0, ev->value, 1);
        break;
    case SIMSCN_EV_CLOCK_STEP: {
        /* A disturbance from outside the engine: not counted as the engine's step. */
        struct simclock *c = &r->nodes[0].clock;
        (void)simclock_real_ns(c);
        c->x_s += ev->value;
        break;
    }
    case SIMSCN_EV_CLOCK_FREQ: {
        struct simclock *c = &r->nodes[0].clock;
        (void)simclock_real_ns(c);
        c->p.freq_ppm = ev->value;
        break;
    }
    }
}

/* ---- measurement ---- */

static void ev_stat(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    struct run *r = ctx;
    struct node *c = &r->nodes[0];
    int64_t t = now_ns(r);
    (void)a;
    (void)b;
    (void)data;
    (void)len;
    double err = simclock_error_s(&c->clock);
    if (r->log)
        log_client_changes(r, r->selected); /* a leap second happens between engine calls */
    /* During a leap second, POSIX time is ambiguous: a clock that repeats the second a few
     * microseconds before or after the world does is not a second off. Within 2 s of the
     * leap, the error is taken modulo 1 s; a leap that was not applied still shows as 1 s
     * from then on. */
    int64_t to_leap = t - r->truth.true_leap_ns;
    if (r->truth.true_leap_dir && to_leap > -2 * NS_PER_S && to_leap < 2 * NS_PER_S)
        err -= round(err);
    double f = simclock_freq_error_ppm(&c->clock);
    double step_s = (double)SIMRUN_STAT_STEP_NS / NS_PER_S;
    if (t <= r->s->warmup_ns) {
        if (fabs(err) > SIMRUN_SETTLE_S) {
            r->last_bad_ns = t;
            r->any_bad = 1;
        }
        if (t + SIMRUN_STAT_STEP_NS > r->s->warmup_ns) /* the last sample of warm-up */
            r->steps_at_warmup = c->clock.steps;
    }
    if (t > r->s->warmup_ns) {
        r->sum_err2 += err * err;
        r->sum_f2 += f * f;
        if (fabs(err) > r->max_err)
            r->max_err = fabs(err);
        r->n_stat++;
        if (r->selected < 0)
            r->unsync_s += step_s;
    }
    /* Judged by truth, not by a label: a selected source whose clock is more than 1 ms off
     * true time is a falseticker the engine is following. */
    if (r->selected >= 0 &&
        llabs(server_clock_ns(r, r->selected) - simclock_true_real_ns(&r->truth, t)) > 1000000)
        r->liar_sel_s += step_s;
    if (r->csv && t >= r->next_csv_ns) {
        int poll = 0;
        int sid = -1;
        for (int i = 0; i < c->nslots; i++)
            if (c->slots[i].server == r->selected)
                sid = c->slots[i].id;
        if (sid < 0 && c->nslots)
            sid = c->slots[0].id;
        struct report_source rs;
        int idx = sid >= 0 ? engine_source_index(c->eng, sid) : -1;
        if (idx >= 0 && engine_source_report(c->eng, idx, simclock_mono_ns(&c->clock), &rs) == 0)
            poll = rs.poll_log2;
        fprintf(r->csv, "%.1f,%.9f,%.6f,%d,%d,%d,%llu\n", (double)t / NS_PER_S, err, f, poll,
                r->selected + 1, c->clock.steps, (unsigned long long)c->packets);
        r->next_csv_ns += r->s->sample_ns;
    }
    if (t + SIMRUN_STAT_STEP_NS <= r->s->duration_ns)
        sched(r, t + SIMRUN_STAT_STEP_NS, ev_stat, 0, 0, NULL, 0);
}

/* ---- set-up ---- */

static struct addr server_addr(int k)
{
    struct addr a;
    memset(&a, 0, sizeof(a));
    a.family = ADDR_INET4;
    a.bytes[0] = 10;
    a.bytes[1] = 0;
    a.bytes[2] = (uint8_t)(k / 250);
    a.bytes[3] = (uint8_t)(1 + k % 250);
    a.port = NTP_PORT;
    return a;
}

static int node_init(struct run *r, int idx, const struct simclock_params *cp,
                     const struct engine_params *ep)
{
    struct node *n = &r->nodes[idx];
    n->run = r;
    n->idx = idx;
    n->used = 1;
    n->timer_t = -1;
    simclock_init(&n->clock, cp, simworld_now_ptr(r->w), r->s->epoch_real_ns,
                  prng_next_u64(&r->rng));
    simclock_set_true_leap(&n->clock, r->s->leap);
    n->ops = simclock_ops(&n->clock);
    n->io.ctx = n;
    n->io.send = node_send;
    n->eng = engine_new(ep, &n->ops, prng_next_u64(&r->rng), simclock_mono_ns(&n->clock));
    return n->eng ? 0 : -ENOMEM;
}

static int node_add_source(struct run *r, struct node *n, int server,
                           const struct engine_source_params *sp, const struct simlink_params *up,
                           const struct simlink_params *down)
{
    if (n->nslots >= MAX_SLOTS)
        return -ENOSPC;
    struct slot *sl = &n->slots[n->nslots];
    sl->server = server;
    simlink_init(&sl->up, up, &r->rng);
    simlink_init(&sl->down, down, &r->rng);
    struct addr a = server_addr(server);
    int id =
        engine_add_source(n->eng, sp, &a, r->s->servers[server].name, simclock_mono_ns(&n->clock));
    if (id < 0)
        return id;
    sl->id = id;
    n->nslots++;
    return 0;
}

static void run_free(struct run *r)
{
    for (int i = 0; i < MAX_NODES; i++)
        engine_free(r->nodes[i].eng);
    simworld_free(r->w);
}

int simrun_run(const struct simscn *s, uint64_t seed, FILE *csv, struct simrun_result *out)
{
    return simrun_run_log(s, seed, csv, NULL, out);
}

int simrun_run_log(const struct simscn *s, uint64_t seed, FILE *csv, FILE *log,
                   struct simrun_result *out)
{
    struct run *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    int rc = -ENOMEM;
    r->s = s;
    r->csv = csv;
    r->log = log;
    r->selected = -1;
    r->w = simworld_new();
    if (!r->w)
        goto done;
    if (log) {
        log_set_sink(log_sink, r);
        log_set_min_level(LOG_LEVEL_INFO);
    }
    prng_seed(&r->rng, seed);
    struct simclock_params perfect;
    simclock_params_default(&perfect);
    simclock_init(&r->truth, &perfect, simworld_now_ptr(r->w), s->epoch_real_ns, 0);
    simclock_set_true_leap(&r->truth, s->leap);

    /* The engine must know how its mono clock behaves (tempusd sets this for -x). */
    struct engine_params cp = s->client;
    cp.mono_is_raw = s->clock.mono_raw;
    /* Random streams are drawn in a fixed order: client, then each server's. */
    if ((rc = node_init(r, 0, &s->clock, &cp)) < 0)
        goto done;
    for (int k = 0; k < s->nservers; k++) {
        const struct simscn_server *sv = &s->servers[k];
        r->srv[k].run = r;
        r->srv[k].k = k;
        r->srv[k].ops.ctx = &r->srv[k];
        r->srv[k].ops.read_real_ns = ref_server_read;
        r->srv[k].up = 1;
        r->srv[k].offset_s = sv->offset_s;
        r->srv[k].freq_ppm = sv->freq_ppm;
        r->srv[k].node = -1;
        if ((rc = node_add_source(r, &r->nodes[0], k, &sv->source, &sv->up, &sv->down)) < 0)
            goto done;
    }
    for (int k = 0; k < s->nservers; k++) {
        const struct simscn_server *sv = &s->servers[k];
        if (!sv->sync)
            continue;
        struct engine_params ep;
        engine_params_default(&ep);
        ep.makestep_threshold_s = 1.0;
        ep.makestep_limit = 3;
        ep.mono_is_raw = sv->clock.mono_raw;
        int idx = 1 + k;
        if ((rc = node_init(r, idx, &sv->clock, &ep)) < 0)
            goto done;
        if ((rc = node_add_source(r, &r->nodes[idx], sv->sync - 1, &sv->sync_source, &sv->sync_up,
                                  &sv->sync_down)) < 0)
            goto done;
        r->srv[k].node = idx;
    }
    struct server_params spar;
    server_params_default(&spar);
    spar.precision_log2 = SIMREF_PRECISION_LOG2;
    for (int k = 0; k < s->nservers; k++)
        server_init(&r->srv[k].core, &spar, prng_next_u64(&r->rng));
    for (int i = 0; i < MAX_NODES; i++)
        if (r->nodes[i].used)
            after_engine_call(&r->nodes[i], 0);
    for (int i = 0; i < s->nevents; i++)
        sched(r, s->events[i].t_ns, ev_script, i, 0, NULL, 0);
    if (csv)
        fprintf(csv, "t_s,offset_s,freq_err_ppm,poll_log2,selected,steps,packets\n");
    sched(r, 0, ev_stat, 0, 0, NULL, 0);
    simworld_run_until(r->w, s->duration_ns);

    if (r->sched_failed) {
        rc = -ENOMEM;
        goto done;
    }
    struct node *c = &r->nodes[0];
    memset(out, 0, sizeof(*out));
    if (!r->any_bad)
        out->t_settle_s = 0;
    else if (r->last_bad_ns + SIMRUN_STAT_STEP_NS > s->warmup_ns)
        out->t_settle_s = -1;
    else
        out->t_settle_s = (double)(r->last_bad_ns + SIMRUN_STAT_STEP_NS) / NS_PER_S;
    out->rms_s = r->n_stat ? sqrt(r->sum_err2 / (double)r->n_stat) : 0;
    out->max_s = r->max_err;
    out->rms_freq_ppm = r->n_stat ? sqrt(r->sum_f2 / (double)r->n_stat) : 0;
    out->steps = c->clock.steps;
    out->late_steps = c->clock.steps - r->steps_at_warmup;
    out->packets = c->packets;
    out->liar_sel_s = r->liar_sel_s;
    out->unsync_s = r->unsync_s;
    out->final_err_s = simclock_error_s(&c->clock);
    out->events = r->events;
    out->timer_late_max_ns = r->timer_late_max_ns;
    for (int i = 0; i < MAX_NODES; i++)
        out->spins += r->nodes[i].spins;
    rc = 0;
done:
    if (log)
        log_set_sink(NULL, NULL);
    run_free(r);
    free(r);
    return rc;
}

void simrun_print_summary(FILE *out, const char *label, const struct simrun_result *r)
{
    fprintf(out,
            "summary %s t1ms_s=%.1f rms_us=%.2f max_us=%.2f rms_freq_ppm=%.4f steps=%d "
            "late_steps=%d packets=%llu liar_sel_s=%.1f unsync_s=%.1f final_us=%.2f\n",
            label, r->t_settle_s, r->rms_s * 1e6, r->max_s * 1e6, r->rms_freq_ppm, r->steps,
            r->late_steps, (unsigned long long)r->packets, r->liar_sel_s, r->unsync_s,
            r->final_err_s * 1e6);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void simrun_median(struct simrun_result *r, int n, struct simrun_result *med)
{
    double *v = malloc((size_t)n * sizeof(*v));
    memset(med, 0, sizeof(*med));
    if (!v || n < 1) {
        free(v);
        return;
    }
#define MED(field, type)                                                                           \
    do {                                                                                           \
        for (int i = 0; i < n; i++)                                                                \
            v[i] = (double)r[i].field;                                                             \
        med->field = (type)median_of(v, n);                                                        \
    } while (0)
    /* "Never settled" (-1) ranks above every time. */
    for (int i = 0; i < n; i++)
        v[i] = r[i].t_settle_s < 0 ? INFINITY : r[i].t_settle_s;
    med->t_settle_s = median_of(v, n);
    if (isinf(med->t_settle_s))
        med->t_settle_s = -1;
    MED(rms_s, double);
    MED(max_s, double);
    MED(rms_freq_ppm, double);
    MED(steps, int);
    MED(late_steps, int);
    MED(packets, uint64_t);
    MED(liar_sel_s, double);
    MED(unsync_s, double);
    MED(final_err_s, double);
    MED(events, uint64_t);
#undef MED
    free(v);
}
