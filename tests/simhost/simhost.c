/* libtempus-simhost.so: a syscall-level simulator for a real time daemon (tempusd or
 * chronyd), loaded with LD_PRELOAD. The whole world lives inside the daemon's process: the
 * node's clock (sim/clock.c, the oscillator tempus-sim uses), a kernel-like adjtimex over it,
 * the NTP servers of a tempus-sim scenario (core/server answering, sim/link paths) and the
 * event queue (sim/world.c). The library interposes the libc functions a daemon reads time,
 * steers the clock, uses UDP and waits with; simulated time advances only while the daemon
 * waits (poll/select/sleep) and by SIMHOST_READ_NS per clock read (a clock read costs time,
 * and chronyd measures its clock's precision by reading until the value changes).
 *
 * Environment:
 *   SIMHOST_SCENARIO  the .scn file (tests/sim format)              (required)
 *   SIMHOST_SEED      the run's seed (default 1): the same streams as tempus-sim --seed N
 *   SIMHOST_OUT       file for the summary line (default: stderr)
 *   SIMHOST_CSV       file for a row every `sample`: t_s,offset_s,freq_err_ppm,steps,packets
 *   SIMHOST_LOG       file for a log of clock-control calls and scripted events
 *   SIMHOST_DURATION  overrides the scenario's duration (seconds, units allowed)
 *   SIMHOST_READ_NS   true time a clock read takes (default 20)
 *
 * Safety (the host's clock must never change): every clock-setting entry point of libc is
 * interposed and never forwarded; the library refuses to start when the process still has
 * CAP_SYS_TIME (effective or permitted), so a call it missed fails in the kernel; every
 * AF_INET/AF_INET6 datagram socket is simulated (a real eventfd stands in for its fd number),
 * other IP sockets are refused, and a datagram to any address other than a simulated server
 * (127.0.0.N:123, N = 1..servers) aborts the process. At the end of the scenario the library
 * writes the summary and calls _exit(0).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/net_tstamp.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/prng.h"
#include "core/engine.h"
#include "core/server.h"
#include "sim/clock.h"
#include "sim/link.h"
#include "sim/refserver.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "wire/ntp.h"

#define NS_PER_S     1000000000LL
#define MAX_FDS      1024
#define QUEUE_LEN    16
#define PKT_MAX      1024
#define NTP_PORT_NUM 123
/* Linux USER_HZ and the tick range adjtimex accepts (900000/HZ .. 1100000/HZ us). */
#define KERNEL_HZ        100
#define NOMINAL_TICK_US  10000L
#define KERNEL_MAXFREQ   (500L << 16)
#define CAP_BIT_SYS_TIME 25

/* ---- real libc functions ---- */

/* Interposed functions may run before the constructor (other libraries' initialisers). */
#define REAL(name)                   (real_##name ? real_##name : (resolve_reals(), real_##name))
#define DECLARE_REAL(ret, name, ...) static ret (*real_##name)(__VA_ARGS__)
DECLARE_REAL(int, clock_gettime, clockid_t, struct timespec *);
DECLARE_REAL(int, socket, int, int, int);
DECLARE_REAL(int, close, int);
DECLARE_REAL(int, poll, struct pollfd *, nfds_t, int);
DECLARE_REAL(int, select, int, fd_set *, fd_set *, fd_set *, struct timeval *);
DECLARE_REAL(int, bind, int, const struct sockaddr *, socklen_t);
DECLARE_REAL(int, connect, int, const struct sockaddr *, socklen_t);
DECLARE_REAL(int, getsockname, int, struct sockaddr *, socklen_t *);
DECLARE_REAL(int, getpeername, int, struct sockaddr *, socklen_t *);
DECLARE_REAL(int, setsockopt, int, int, int, const void *, socklen_t);
DECLARE_REAL(int, getsockopt, int, int, int, void *, socklen_t *);
DECLARE_REAL(ssize_t, recvmsg, int, struct msghdr *, int);
DECLARE_REAL(int, recvmmsg, int, struct mmsghdr *, unsigned int, int, struct timespec *);
DECLARE_REAL(ssize_t, recvfrom, int, void *, size_t, int, struct sockaddr *, socklen_t *);
DECLARE_REAL(ssize_t, recv, int, void *, size_t, int);
DECLARE_REAL(ssize_t, sendmsg, int, const struct msghdr *, int);
DECLARE_REAL(int, sendmmsg, int, struct mmsghdr *, unsigned int, int);
DECLARE_REAL(ssize_t, sendto, int, const void *, size_t, int, const struct sockaddr *, socklen_t);
DECLARE_REAL(ssize_t, send, int, const void *, size_t, int);
DECLARE_REAL(long, syscall, long, long, long, long, long, long, long);
DECLARE_REAL(int, fcntl, int, int, long);
static void resolve_reals(void);

static void *must_sym(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (!p) {
        fprintf(stderr, "simhost: no libc symbol %s\n", name);
        _exit(2);
    }
    return p;
}

static void resolve_reals(void)
{
#define R(name)                                                                                    \
    do {                                                                                           \
        void *p_ = must_sym(#name);                                                                \
        memcpy(&real_##name, &p_, sizeof(p_));                                                     \
    } while (0)
    R(clock_gettime);
    R(socket);
    R(close);
    R(poll);
    R(select);
    R(bind);
    R(connect);
    R(getsockname);
    R(getpeername);
    R(setsockopt);
    R(getsockopt);
    R(recvmsg);
    R(recvmmsg);
    R(recvfrom);
    R(recv);
    R(sendmsg);
    R(sendmmsg);
    R(sendto);
    R(send);
    R(syscall);
    R(fcntl);
#undef R
}

/* ---- the world ---- */

struct pkt {
    int server; /* 0-based */
    size_t len;
    int64_t rx_real_ns; /* the node's clock when it arrived */
    uint8_t data[PKT_MAX];
};

struct ssock {
    int used;
    uint32_t id; /* never reused: replies to a closed socket are dropped */
    int family;
    int connected, peer_server;
    uint16_t lport;
    int ts_flags, ts_ns, ts_us, pktinfo;
    int head, n;
    struct pkt q[QUEUE_LEN];
};

/* An engine server (`sync = k` in the scenario): a tempus engine on its own simulated clock,
 * syncing from server k over its own links, as in tempus-sim (sim/run.c). */
struct enode {
    struct simclock clock;
    struct clock_ops ops;
    struct engine *eng;
    struct engine_io io;
    int k;        /* the server it is */
    int upstream; /* 0-based server it syncs from */
    int src_id;   /* its engine's source id for upstream */
    struct simlink up, down;
    uint32_t timer_gen;
    int64_t timer_t; /* true time of the pending timer event, -1 none */
    int consec_spins;
};

struct srvstate {
    struct server core;
    struct enode *node; /* engine server, or NULL: a reference server */
    struct clock_ops ops;
    int k;
    int up;
    double offset_s, freq_ppm;
    int64_t t_set_ns;
    struct simlink up_link, down_link;
    uint64_t requests; /* datagrams the daemon sent to this server */
};

struct host {
    int active;
    struct simscn s;
    uint64_t seed;
    struct simworld *w;
    struct prng rng, rand_rng;
    struct simclock clk;   /* the node: REALTIME and (adjusted) MONOTONIC */
    struct simclock raw;   /* the same oscillator, never adjusted: MONOTONIC_RAW */
    struct simclock truth; /* never adjusted: carries the world's leap second */
    struct clock_ops ops;
    struct srvstate srv[SIMSCN_MAX_SERVERS];
    struct enode enodes[SIMSCN_MAX_SERVERS];
    struct ssock *socks[MAX_FDS];
    uint32_t next_sock_id;
    uint16_t next_port;
    int64_t read_ns;
    FILE *out, *csv, *log;

    /* the simulated kernel's adjtimex state */
    long k_freq, k_tick, k_maxerror, k_esterror, k_constant;
    long k_tai; /* TAI - UTC, s: ADJ_TAI's constant (the kernel's time_tai) */
    int k_status;

    /* statistics, as sim/run.c's */
    double sum_err2, sum_f2, max_err;
    uint64_t n_stat;
    int64_t last_bad_ns;
    int any_bad, steps_at_warmup;
    int64_t next_csv_ns;
    uint64_t packets, replies, reads, waits, adj_calls, adj_set_calls, unsupported;
    int settime_steps;
};

static struct host H;
static struct ssock sock_pool[64];

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "simhost: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (H.log) {
        va_start(ap, fmt);
        vfprintf(H.log, fmt, ap);
        fprintf(H.log, "\n");
        fflush(H.log);
        va_end(ap);
    }
    abort();
}

static void hlog(const char *fmt, ...)
{
    if (!H.log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(H.log, "%.6f ", (double)simworld_now_ns(H.w) / NS_PER_S);
    vfprintf(H.log, fmt, ap);
    fprintf(H.log, "\n");
    va_end(ap);
}

static int64_t now_ns(void)
{
    return simworld_now_ns(H.w);
}

static void sched(int64_t t, void (*fn)(void *, int, int, const uint8_t *, size_t), int a, int b,
                  const uint8_t *data, size_t len)
{
    struct simworld_cb cb = {fn, &H};
    if (simworld_schedule(H.w, t, cb, a, b, data, len) < 0)
        die("event queue: out of memory");
}

/* ---- servers (reference servers, as sim/run.c's) ---- */

static int64_t server_clock_ns(int k)
{
    struct srvstate *st = &H.srv[k];
    if (st->node)
        return simclock_real_ns(&st->node->clock);
    return simref_clock_ns(&H.truth, now_ns(), st->offset_s, st->freq_ppm, st->t_set_ns);
}

static int64_t ref_server_read(void *ctx)
{
    return server_clock_ns(((struct srvstate *)ctx)->k);
}

/* sim/run.c's server_reference, over this file's state. */
static void server_reference(int k, struct server_ref *ref)
{
    struct enode *n = H.srv[k].node;
    if (n)
        simref_engine(n->eng, simclock_mono_ns(&n->clock), ref);
    else
        simref_fixed(&H.s.servers[k], k, &H.truth, now_ns(), server_clock_ns(k), ref);
}

static struct ssock *sock_by_id(uint32_t id)
{
    for (int fd = 0; fd < MAX_FDS; fd++)
        if (H.socks[fd] && H.socks[fd]->id == id)
            return H.socks[fd];
    return NULL;
}

static void ev_to_node(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    (void)ctx;
    struct ssock *s = sock_by_id((uint32_t)b);
    if (!s || s->n >= QUEUE_LEN || len > PKT_MAX)
        return; /* closed since (the kernel would answer port unreachable) or full */
    struct pkt *p = &s->q[(s->head + s->n) % QUEUE_LEN];
    p->server = a;
    p->len = len;
    p->rx_real_ns = simclock_real_ns(&H.clk);
    memcpy(p->data, data, len);
    s->n++;
    H.replies++;
}

/* ---- engine servers (as sim/run.c's nodes) ---- */

/* When an engine, right after running its timers, still asks for a time already passed, it
 * is called again 1 ns later, after SPIN_LIMIT such calls SPIN_GUARD_NS later; timers are
 * aimed TIMER_EARLY_PPM of the wait early and re-armed, so they never run late. */
#define SPIN_GUARD_NS   1000000LL
#define SPIN_LIMIT      100
#define TIMER_EARLY_PPM 50.0

static void ev_enode_timer(void *ctx, int a, int b, const uint8_t *data, size_t len);
static void ev_to_server(void *ctx, int a, int b, const uint8_t *data, size_t len);

static void enode_after_call(struct enode *n, int ran_timers)
{
    int64_t m = engine_next_timeout_mono_ns(n->eng);
    int64_t t = -1;
    if (m != INT64_MAX) {
        int64_t mono = simclock_mono_ns(&n->clock);
        t = simclock_true_at_mono(&n->clock, m);
        int64_t wait = t - now_ns();
        if (wait > 1000000)
            t -= (int64_t)((double)wait * TIMER_EARLY_PPM * 1e-6);
        if (m <= mono) {
            t = now_ns();
            if (ran_timers)
                t += ++n->consec_spins > SPIN_LIMIT ? SPIN_GUARD_NS : 1;
        } else if (ran_timers) {
            n->consec_spins = 0;
        }
    }
    if (t != n->timer_t) {
        n->timer_gen++;
        n->timer_t = t;
        if (t >= 0)
            sched(t, ev_enode_timer, n->k, (int)(n->timer_gen & 0x7fffffff), NULL, 0);
    }
}

static void ev_enode_timer(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)data;
    (void)len;
    struct enode *n = &H.enodes[a];
    if (b != (int)(n->timer_gen & 0x7fffffff))
        return; /* superseded */
    n->timer_t = -1;
    engine_run_timers(n->eng, simclock_mono_ns(&n->clock), &n->io);
    enode_after_call(n, 1);
}

static void ev_to_enode(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)b;
    struct enode *n = &H.enodes[a];
    int64_t rx = simclock_real_ns(&n->clock);
    engine_receive(n->eng, n->src_id, data, len, rx, simclock_mono_ns(&n->clock), &n->io);
    enode_after_call(n, 0);
}

static int enode_send(void *ctx, int source_id, const uint8_t *pkt, size_t len)
{
    struct enode *n = ctx;
    if (source_id != n->src_id)
        return -ENOENT;
    if (len + 2 > SIMWORLD_DATA_MAX - 8)
        return -EMSGSIZE;
    uint8_t buf[SIMWORLD_DATA_MAX];
    uint16_t port = NTP_PORT_NUM;
    memcpy(buf, &port, 2);
    memcpy(buf + 2, pkt, len);
    int64_t d = simlink_transit_ns(&n->up);
    if (d >= 0)
        sched(now_ns() + d, ev_to_server, n->upstream, -(n->k + 1), buf, len + 2);
    return 0;
}

static void ev_server_tx(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    (void)ctx;
    struct srvstate *st = &H.srv[a];
    if (!st->up)
        return;
    struct addr from;
    memset(&from, 0, sizeof(from));
    from.family = ADDR_INET4;
    from.bytes[0] = 127;
    from.bytes[3] = 1;
    uint16_t lport;
    memcpy(&lport, data + 8, 2);
    from.port = lport;
    if (b < 0) /* from engine server -b-1 */
        from.bytes[2] = (uint8_t)(-b);
    struct server_rx rx = {.pkt = data + 10, .len = len - 10, .from = &from};
    memcpy(&rx.rx_ns, data, 8);
    struct server_ref ref;
    server_reference(a, &ref);
    uint8_t reply[SIMWORLD_DATA_MAX];
    size_t rl = 0;
    const struct clock_ops *clk = st->node ? &st->node->ops : &st->ops;
    enum server_verdict v =
        server_respond(&st->core, &ref, NULL, &rx, clk, reply, sizeof(reply), &rl);
    if (!server_verdict_sends(v) || !rl)
        return;
    if (b < 0) {
        struct enode *n = &H.enodes[-b - 1];
        int64_t d = simlink_transit_ns(&n->down);
        if (d >= 0)
            sched(now_ns() + d, ev_to_enode, -b - 1, 0, reply, rl);
        return;
    }
    int64_t d = simlink_transit_ns(&st->down_link);
    if (d >= 0)
        sched(now_ns() + d, ev_to_node, a, b, reply, rl);
}

/* A request arrives: receive timestamp now, the reply leaves after the processing time.
 * Payload: rx timestamp (8), the client's port (2), the request. */
static void ev_to_server(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (!H.srv[a].up || len + 8 > SIMWORLD_DATA_MAX)
        return;
    uint8_t buf[SIMWORLD_DATA_MAX];
    int64_t rx = server_clock_ns(a);
    memcpy(buf, &rx, 8);
    memcpy(buf + 8, data, len);
    int64_t proc = (int64_t)llround(H.s.servers[a].proc_s * NS_PER_S);
    sched(now_ns() + proc, ev_server_tx, a, b, buf, len + 8);
}

/* ---- scripted events (as sim/run.c's) ---- */

static void ev_script(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)b;
    (void)data;
    (void)len;
    const struct simscn_event *ev = &H.s.events[a];
    int k = ev->server - 1;
    hlog("event %d kind %d server %d value %g", a + 1, (int)ev->kind, ev->server, ev->value);
    switch (ev->kind) {
    case SIMSCN_EV_SERVER_DOWN:
        H.srv[k].up = 0;
        break;
    case SIMSCN_EV_SERVER_UP:
        H.srv[k].up = 1;
        break;
    case SIMSCN_EV_SERVER_OFFSET:
    case SIMSCN_EV_SERVER_FREQ: {
        struct srvstate *st = &H.srv[k];
        int64_t t = now_ns();
        st->offset_s += st->freq_ppm * 1e-6 * (double)(t - st->t_set_ns) / NS_PER_S;
        st->t_set_ns = t;
        if (ev->kind == SIMSCN_EV_SERVER_OFFSET)
            st->offset_s = ev->value;
        else
            st->freq_ppm = ev->value;
        break;
    }
    case SIMSCN_EV_LINK_DOWN:
    case SIMSCN_EV_LINK_UP:
        H.srv[k].up_link.down = H.srv[k].down_link.down = ev->kind == SIMSCN_EV_LINK_DOWN;
        break;
    case SIMSCN_EV_LINK_LOSS:
        H.srv[k].up_link.p.loss = H.srv[k].down_link.p.loss = ev->value;
        break;
    case SIMSCN_EV_CLOCK_STEP:
        (void)simclock_real_ns(&H.clk);
        H.clk.x_s += ev->value;
        break;
    case SIMSCN_EV_CLOCK_FREQ:
        (void)simclock_real_ns(&H.clk);
        (void)simclock_real_ns(&H.raw);
        H.clk.p.freq_ppm = ev->value;
        H.raw.p.freq_ppm = ev->value;
        break;
    }
}

/* ---- measurement and the end ---- */

/* The process's CapEff and CapPrm from /proc/self/status (all ones when unreadable). */
static void read_caps(unsigned long long *eff, unsigned long long *prm)
{
    *eff = *prm = ~0ULL;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        unsigned long long v;
        if (sscanf(line, "CapEff: %llx", &v) == 1)
            *eff = v;
        else if (sscanf(line, "CapPrm: %llx", &v) == 1)
            *prm = v;
    }
    fclose(f);
}

static void finish(void)
{
    struct simrun_result r;
    memset(&r, 0, sizeof(r));
    if (!H.any_bad)
        r.t_settle_s = 0;
    else if (H.last_bad_ns + SIMRUN_STAT_STEP_NS > H.s.warmup_ns)
        r.t_settle_s = -1;
    else
        r.t_settle_s = (double)(H.last_bad_ns + SIMRUN_STAT_STEP_NS) / NS_PER_S;
    r.rms_s = H.n_stat ? sqrt(H.sum_err2 / (double)H.n_stat) : 0;
    r.max_s = H.max_err;
    r.rms_freq_ppm = H.n_stat ? sqrt(H.sum_f2 / (double)H.n_stat) : 0;
    r.steps = H.clk.steps;
    r.late_steps = H.clk.steps - H.steps_at_warmup;
    r.packets = H.packets;
    r.final_err_s = simclock_error_s(&H.clk);
    unsigned long long eff, prm; /* the daemon's capabilities at the end of its run */
    read_caps(&eff, &prm);
    /* The requests per server (n1/n2/...): each daemon's real poll behaviour. */
    char per[SIMSCN_MAX_SERVERS * 21 + 1] = "-";
    size_t pl = 0;
    for (int k = 0; k < H.s.nservers; k++)
        pl += (size_t)snprintf(per + pl, sizeof(per) - pl, "%s%llu", k ? "/" : "",
                               (unsigned long long)H.srv[k].requests);
    FILE *o = H.out ? H.out : stderr;
    fprintf(o,
            "summary seed=%llu t1ms_s=%.1f rms_us=%.2f max_us=%.2f rms_freq_ppm=%.4f steps=%d "
            "late_steps=%d packets=%llu final_us=%.2f replies=%llu clock_reads=%llu waits=%llu "
            "adjtimex=%llu adjtimex_set=%llu unsupported=%llu capeff=%llx capprm=%llx "
            "per_server=%s tai=%ld\n",
            (unsigned long long)H.seed, r.t_settle_s, r.rms_s * 1e6, r.max_s * 1e6, r.rms_freq_ppm,
            r.steps, r.late_steps, (unsigned long long)r.packets, r.final_err_s * 1e6,
            (unsigned long long)H.replies, (unsigned long long)H.reads, (unsigned long long)H.waits,
            (unsigned long long)H.adj_calls, (unsigned long long)H.adj_set_calls,
            (unsigned long long)H.unsupported, eff, prm, per, H.k_tai);
    fflush(o);
    if (H.csv)
        fflush(H.csv);
    if (H.log)
        fflush(H.log);
    _exit(0);
}

static void ev_end(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)a;
    (void)b;
    (void)data;
    (void)len;
    finish();
}

static void ev_stat(void *ctx, int a, int b, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)a;
    (void)b;
    (void)data;
    (void)len;
    int64_t t = now_ns();
    double err = simclock_error_s(&H.clk);
    int64_t to_leap = t - H.truth.true_leap_ns;
    if (H.truth.true_leap_dir && to_leap > -2 * NS_PER_S && to_leap < 2 * NS_PER_S)
        err -= round(err);
    double f = simclock_freq_error_ppm(&H.clk);
    if (t <= H.s.warmup_ns) {
        if (fabs(err) > SIMRUN_SETTLE_S) {
            H.last_bad_ns = t;
            H.any_bad = 1;
        }
        if (t + SIMRUN_STAT_STEP_NS > H.s.warmup_ns)
            H.steps_at_warmup = H.clk.steps;
    }
    if (t > H.s.warmup_ns) {
        H.sum_err2 += err * err;
        H.sum_f2 += f * f;
        if (fabs(err) > H.max_err)
            H.max_err = fabs(err);
        H.n_stat++;
    }
    if (H.csv && t >= H.next_csv_ns) {
        fprintf(H.csv, "%.1f,%.9f,%.6f,%d,%llu\n", (double)t / NS_PER_S, err, f, H.clk.steps,
                (unsigned long long)H.packets);
        H.next_csv_ns += H.s.sample_ns;
    }
    if (t + SIMRUN_STAT_STEP_NS <= H.s.duration_ns)
        sched(t + SIMRUN_STAT_STEP_NS, ev_stat, 0, 0, NULL, 0);
}

/* ---- time ---- */

/* Runs the world's events up to true time t (not beyond the end of the run). */
static void advance_to(int64_t t)
{
    while (simworld_next_ns(H.w) <= t)
        simworld_run_one(H.w);
    simworld_run_until(H.w, t);
}

/* A clock read takes a little time. */
static void read_tick(void)
{
    H.reads++;
    if (H.read_ns > 0)
        advance_to(now_ns() + H.read_ns);
}

static int64_t mono_now(void)
{
    return simclock_mono_ns(&H.clk);
}

static int64_t ns_of(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * NS_PER_S + ts->tv_nsec;
}

static void ts_of(int64_t ns, struct timespec *ts)
{
    int64_t s = ns / NS_PER_S, r = ns % NS_PER_S;
    if (r < 0) {
        r += NS_PER_S;
        s--;
    }
    ts->tv_sec = (time_t)s;
    ts->tv_nsec = (long)r;
}

/* Waits, in simulated time, until ready() or until the node's monotonic clock reaches
 * mono_target (INT64_MAX: forever). Returns 1 if ready, 0 on timeout. */
static int wait_until(int64_t mono_target, int (*ready)(void *), void *ctx)
{
    H.waits++;
    for (;;) {
        if (ready && ready(ctx))
            return 1;
        if (mono_target != INT64_MAX && mono_now() >= mono_target)
            return 0;
        int64_t t_target =
            mono_target == INT64_MAX ? INT64_MAX : simclock_true_at_mono(&H.clk, mono_target);
        if (t_target <= now_ns())
            t_target = now_ns() + 1;
        int64_t next = simworld_next_ns(H.w);
        if (next <= t_target)
            simworld_run_one(H.w); /* the end event is always pending: never INT64_MAX */
        else
            simworld_run_until(H.w, t_target);
    }
}

/* ---- the simulated kernel clock ---- */

static void apply_kernel_freq(void)
{
    double ppm = (double)H.k_freq / 65536.0 +
                 (double)(H.k_tick - NOMINAL_TICK_US) * 1e6 / (double)NOMINAL_TICK_US;
    H.ops.set_freq_ppm(H.ops.ctx, ppm);
}

/* A step of the clock. Like the kernel (ntp_clear()), any setting of the clock resets
 * maxerror/esterror to 16 s and marks it unsynchronised: chronyd checks for this to learn
 * whether ADJ_SETOFFSET works. A zero step is not counted. */
static void do_step_ns(int64_t d_ns, const char *how)
{
    H.k_maxerror = H.k_esterror = 16000000;
    H.k_status |= STA_UNSYNC;
    if (d_ns == 0)
        return;
    H.ops.step_s(H.ops.ctx, (double)d_ns * 1e-9);
    hlog("%s step %+.9f s", how, (double)d_ns * 1e-9);
}

static int sim_adjtimex(struct timex *tx)
{
    H.adj_calls++;
    unsigned modes = tx->modes;
    if (modes)
        H.adj_set_calls++;
    if (modes == ADJ_OFFSET_SINGLESHOT || modes == ADJ_OFFSET_SS_READ) {
        /* adjtime()'s slew is not modelled: a zero offset (chronyd's reset at start) or a
         * read is a no-op, anything else is counted as unsupported. */
        if (modes == ADJ_OFFSET_SINGLESHOT && tx->offset != 0) {
            H.unsupported++;
            hlog("adjtimex unsupported modes 0x%x offset %ld", modes, tx->offset);
        }
        modes = 0;
    }
    if (modes & ADJ_TICK) {
        if (tx->tick < 900000 / KERNEL_HZ || tx->tick > 1100000 / KERNEL_HZ) {
            errno = EINVAL;
            return -1;
        }
    }
    if (modes & ADJ_SETOFFSET) {
        int64_t sub = tx->time.tv_usec;
        if (!(modes & ADJ_NANO))
            sub *= 1000;
        if (sub < 0 || sub >= NS_PER_S) {
            errno = EINVAL;
            return -1;
        }
        do_step_ns((int64_t)tx->time.tv_sec * NS_PER_S + sub, "ADJ_SETOFFSET");
    }
    if (modes & ADJ_STATUS) {
        int old = H.k_status;
        H.k_status = (H.k_status & STA_RONLY) | (tx->status & ~STA_RONLY);
        int leap_old = old & (STA_INS | STA_DEL), leap_new = H.k_status & (STA_INS | STA_DEL);
        if (leap_old != leap_new) {
            H.ops.set_leap(H.ops.ctx, leap_new == STA_INS   ? CLOCK_LEAP_INSERT
                                      : leap_new == STA_DEL ? CLOCK_LEAP_DELETE
                                                            : CLOCK_LEAP_NONE);
            hlog("leap status %s", leap_new == STA_INS   ? "insert"
                                   : leap_new == STA_DEL ? "delete"
                                                         : "none");
        }
    }
    if (modes & ADJ_NANO)
        H.k_status |= STA_NANO;
    if (modes & ADJ_MICRO)
        H.k_status &= ~STA_NANO;
    if ((modes & ADJ_OFFSET) && !(modes & ADJ_OFFSET_SINGLESHOT & ~ADJ_OFFSET)) {
        /* With the PLL off the kernel ignores the offset; the PLL is not modelled. */
        if ((H.k_status & (STA_PLL | STA_FLL)) && tx->offset != 0) {
            H.unsupported++;
            hlog("adjtimex unsupported: PLL offset %ld", tx->offset);
        }
    }
    int freq_changed = 0;
    if (modes & ADJ_FREQUENCY) {
        long f = tx->freq;
        if (f > KERNEL_MAXFREQ)
            f = KERNEL_MAXFREQ;
        if (f < -KERNEL_MAXFREQ)
            f = -KERNEL_MAXFREQ;
        freq_changed |= f != H.k_freq;
        H.k_freq = f;
    }
    if (modes & ADJ_TICK) {
        freq_changed |= tx->tick != H.k_tick;
        H.k_tick = tx->tick;
    }
    if (freq_changed)
        apply_kernel_freq();
    if (modes & ADJ_MAXERROR)
        H.k_maxerror = tx->maxerror;
    if (modes & ADJ_ESTERROR)
        H.k_esterror = tx->esterror;
    if (modes & ADJ_TIMECONST)
        H.k_constant = tx->constant;
    /* Like the kernel: ADJ_TAI takes the constant field, 0..MAX_TAI_OFFSET (100000). */
    if ((modes & ADJ_TAI) && tx->constant >= 0 && tx->constant <= 100000)
        H.k_tai = tx->constant;
    if (modes & ~(unsigned)(ADJ_OFFSET | ADJ_FREQUENCY | ADJ_MAXERROR | ADJ_ESTERROR | ADJ_STATUS |
                            ADJ_TIMECONST | ADJ_TAI | ADJ_SETOFFSET | ADJ_MICRO | ADJ_NANO |
                            ADJ_TICK | ADJ_OFFSET_SINGLESHOT))
        H.unsupported++;
    if (modes && H.log)
        hlog("adjtimex modes 0x%x freq %ld tick %ld status 0x%x maxerr %ld esterr %ld", modes,
             H.k_freq, H.k_tick, H.k_status, H.k_maxerror, H.k_esterror);

    memset(tx, 0, sizeof(*tx));
    tx->freq = H.k_freq;
    tx->tick = H.k_tick;
    tx->status = H.k_status;
    tx->maxerror = H.k_maxerror;
    tx->esterror = H.k_esterror;
    tx->constant = H.k_constant;
    tx->tai = (int)H.k_tai;
    tx->precision = 1;
    tx->tolerance = KERNEL_MAXFREQ;
    int64_t real = simclock_real_ns(&H.clk);
    tx->time.tv_sec = (time_t)(real / NS_PER_S);
    tx->time.tv_usec = (H.k_status & STA_NANO) ? real % NS_PER_S : real % NS_PER_S / 1000;
    if (H.k_status & STA_UNSYNC)
        return TIME_ERROR;
    if (H.k_status & STA_INS)
        return TIME_INS;
    if (H.k_status & STA_DEL)
        return TIME_DEL;
    return TIME_OK;
}

static int sim_settime_real(int64_t real_ns, const char *how)
{
    int64_t d = real_ns - simclock_real_ns(&H.clk);
    H.settime_steps++;
    do_step_ns(d, how);
    return 0;
}

/* ---- sockets ---- */

static struct ssock *ssock_of(int fd)
{
    return H.active && fd >= 0 && fd < MAX_FDS ? H.socks[fd] : NULL;
}

/* 0-based server for a destination, or -1. */
static int server_of_sockaddr(const struct sockaddr *sa, socklen_t len)
{
    const uint8_t *a4 = NULL;
    uint16_t port = 0;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        a4 = (const uint8_t *)&sin->sin_addr;
        port = ntohs(sin->sin_port);
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
            a4 = &sin6->sin6_addr.s6_addr[12];
        port = ntohs(sin6->sin6_port);
    }
    if (!a4 || port != NTP_PORT_NUM || a4[0] != 127 || a4[1] != 0 || a4[2] != 0 || a4[3] < 1 ||
        a4[3] > H.s.nservers)
        return -1;
    return a4[3] - 1;
}

static void describe_sockaddr(const struct sockaddr *sa, char *buf, size_t len)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        const uint8_t *b = (const uint8_t *)&sin->sin_addr;
        snprintf(buf, len, "%u.%u.%u.%u:%u", b[0], b[1], b[2], b[3], ntohs(sin->sin_port));
    } else {
        snprintf(buf, len, "family %d", sa->sa_family);
    }
}

static uint16_t ensure_port(struct ssock *s)
{
    if (!s->lport)
        s->lport = H.next_port++;
    return s->lport;
}

static socklen_t fill_sockaddr(const struct ssock *s, const uint8_t a4[4], uint16_t port,
                               struct sockaddr *sa, socklen_t cap)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t l;
    if (s->family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sin6->sin6_addr.s6_addr[10] = 0xff;
        sin6->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&sin6->sin6_addr.s6_addr[12], a4, 4);
        l = sizeof(*sin6);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, a4, 4);
        l = sizeof(*sin);
    }
    if (sa && cap > 0)
        memcpy(sa, &ss, cap < l ? cap : l);
    return l;
}

static ssize_t sim_send(struct ssock *s, const struct iovec *iov, size_t iovlen,
                        const struct sockaddr *to, socklen_t tolen)
{
    int k;
    if (to) {
        k = server_of_sockaddr(to, tolen);
        if (k < 0) {
            char d[64];
            describe_sockaddr(to, d, sizeof d);
            die("refusing a datagram to %s: not a simulated server", d);
        }
    } else if (s->connected) {
        k = s->peer_server;
    } else {
        errno = EDESTADDRREQ;
        return -1;
    }
    uint8_t buf[PKT_MAX];
    size_t len = 0;
    for (size_t i = 0; i < iovlen; i++) {
        if (len + iov[i].iov_len > sizeof(buf) - 16) {
            errno = EMSGSIZE;
            return -1;
        }
        memcpy(buf + 2 + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    uint16_t port = ensure_port(s);
    memcpy(buf, &port, 2);
    H.packets++;
    H.srv[k].requests++;
    hlog("request to server %d (%llu)", k + 1, (unsigned long long)H.srv[k].requests);
    int64_t d = simlink_transit_ns(&H.srv[k].up_link);
    if (d >= 0)
        sched(now_ns() + d, ev_to_server, k, (int)s->id, buf, len + 2);
    return (ssize_t)len;
}

static void put_cmsg(struct msghdr *m, size_t *used, int level, int type, const void *data,
                     size_t len)
{
    size_t space = CMSG_SPACE(len);
    if (!m->msg_control || *used + space > m->msg_controllen) {
        m->msg_flags |= MSG_CTRUNC;
        return;
    }
    struct cmsghdr *c = (struct cmsghdr *)((char *)m->msg_control + *used);
    memset(c, 0, space);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    memcpy(CMSG_DATA(c), data, len);
    *used += space;
}

static int sock_ready_cb(void *ctx)
{
    return ((struct ssock *)ctx)->n > 0;
}

static ssize_t sim_recv(int fd, struct ssock *s, struct msghdr *m, int flags)
{
    if (flags & MSG_ERRQUEUE) {
        /* No transmit timestamps: the daemons fall back to their own. */
        errno = EAGAIN;
        return -1;
    }
    if (s->n == 0) {
        int fl = REAL(fcntl)(fd, F_GETFL, 0);
        if ((flags & MSG_DONTWAIT) || (fl >= 0 && (fl & O_NONBLOCK))) {
            errno = EAGAIN;
            return -1;
        }
        wait_until(INT64_MAX, sock_ready_cb, s);
    }
    struct pkt *p = &s->q[s->head];
    size_t off = 0;
    for (size_t i = 0; i < m->msg_iovlen && off < p->len; i++) {
        size_t c = p->len - off < m->msg_iov[i].iov_len ? p->len - off : m->msg_iov[i].iov_len;
        memcpy(m->msg_iov[i].iov_base, p->data + off, c);
        off += c;
    }
    m->msg_flags = off < p->len ? MSG_TRUNC : 0;
    uint8_t a4[4] = {127, 0, 0, (uint8_t)(p->server + 1)};
    if (m->msg_name)
        m->msg_namelen = fill_sockaddr(s, a4, NTP_PORT_NUM, m->msg_name, m->msg_namelen);
    size_t used = 0;
    if (s->pktinfo && s->family == AF_INET) {
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof(pi));
        pi.ipi_ifindex = 1;
        uint8_t lo[4] = {127, 0, 0, 1};
        memcpy(&pi.ipi_spec_dst, lo, 4);
        memcpy(&pi.ipi_addr, lo, 4);
        put_cmsg(m, &used, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
    }
    if (s->ts_flags & SOF_TIMESTAMPING_RX_SOFTWARE) {
        struct timespec ts[3];
        memset(ts, 0, sizeof(ts));
        ts_of(p->rx_real_ns, &ts[0]);
        put_cmsg(m, &used, SOL_SOCKET, SO_TIMESTAMPING, ts, sizeof(ts));
    } else if (s->ts_ns) {
        struct timespec ts;
        ts_of(p->rx_real_ns, &ts);
        put_cmsg(m, &used, SOL_SOCKET, SO_TIMESTAMPNS, &ts, sizeof(ts));
    } else if (s->ts_us) {
        struct timeval tv;
        tv.tv_sec = (time_t)(p->rx_real_ns / NS_PER_S);
        tv.tv_usec = (suseconds_t)(p->rx_real_ns % NS_PER_S / 1000);
        put_cmsg(m, &used, SOL_SOCKET, SO_TIMESTAMP, &tv, sizeof(tv));
    }
    m->msg_controllen = used;
    size_t len = p->len;
    if (!(flags & MSG_PEEK)) {
        s->head = (s->head + 1) % QUEUE_LEN;
        s->n--;
    }
    return (ssize_t)(off < len ? off : len);
}

/* ---- set-up ---- */

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static FILE *env_file(const char *name, const char *mode)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return NULL;
    FILE *f = fopen(v, mode);
    if (!f)
        die("cannot open %s=%s: %s", name, v, strerror(errno));
    return f;
}

/* The kernel must refuse any clock change we might miss: no CAP_SYS_TIME. */
static void check_caps(void)
{
    unsigned long long eff, prm;
    read_caps(&eff, &prm);
    if ((eff | prm) & (1ULL << CAP_BIT_SYS_TIME))
        die("the process has CAP_SYS_TIME (or no readable /proc/self/status): refusing to run "
            "(start it with setpriv --bounding-set=-sys_time --inh-caps=-sys_time)");
}

__attribute__((constructor)) static void simhost_init(void)
{
    resolve_reals();
    const char *path = getenv("SIMHOST_SCENARIO");
    if (!path || !*path) {
        fprintf(stderr, "simhost: SIMHOST_SCENARIO is not set\n");
        _exit(2);
    }
    H.log = env_file("SIMHOST_LOG", "w");
    check_caps();
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open %s", path);
    static char text[1 << 16];
    size_t got = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[got] = 0;
    char err[256];
    simscn_default(&H.s);
    if (simscn_parse(&H.s, text, err, sizeof err) != 0)
        die("%s: %s", path, err);
    const char *dur = getenv("SIMHOST_DURATION");
    if (dur && *dur) {
        double d;
        if (simscn_parse_duration_s(dur, &d) != 0 || d <= 0)
            die("bad SIMHOST_DURATION %s", dur);
        H.s.duration_ns = (int64_t)llround(d * NS_PER_S);
    }
    H.seed = env_u64("SIMHOST_SEED", 1);
    H.read_ns = (int64_t)env_u64("SIMHOST_READ_NS", 20);
    H.out = env_file("SIMHOST_OUT", "w");
    H.csv = env_file("SIMHOST_CSV", "w");
    if (H.csv)
        fprintf(H.csv, "t_s,offset_s,freq_err_ppm,steps,packets\n");
    H.w = simworld_new();
    if (!H.w)
        die("out of memory");

    /* Random streams in tempus-sim's order (sim/run.c), so that a seed gives the same
     * oscillator and the same link delay streams: client clock, (client engine), then each
     * server's up and down links, then each server's timestamp fuzz. */
    prng_seed(&H.rng, H.seed);
    struct simclock_params perfect;
    simclock_params_default(&perfect);
    simclock_init(&H.truth, &perfect, simworld_now_ptr(H.w), H.s.epoch_real_ns, 0);
    simclock_set_true_leap(&H.truth, H.s.leap);
    struct simclock_params cp = H.s.clock;
    cp.mono_raw = 0; /* CLOCK_MONOTONIC runs at the adjusted rate; RAW is H.raw */
    uint64_t clock_seed = prng_next_u64(&H.rng);
    simclock_init(&H.clk, &cp, simworld_now_ptr(H.w), H.s.epoch_real_ns, clock_seed);
    simclock_set_true_leap(&H.clk, H.s.leap);
    cp.mono_raw = 1;
    simclock_init(&H.raw, &cp, simworld_now_ptr(H.w), H.s.epoch_real_ns, clock_seed);
    H.ops = simclock_ops(&H.clk);
    (void)prng_next_u64(&H.rng); /* tempus-sim's engine seed */
    for (int k = 0; k < H.s.nservers; k++) {
        const struct simscn_server *sv = &H.s.servers[k];
        struct srvstate *st = &H.srv[k];
        st->k = k;
        st->up = 1;
        st->offset_s = sv->offset_s;
        st->freq_ppm = sv->freq_ppm;
        st->ops.ctx = st;
        st->ops.read_real_ns = ref_server_read;
        simlink_init(&st->up_link, &sv->up, &H.rng);
        simlink_init(&st->down_link, &sv->down, &H.rng);
    }
    /* Engine servers: their clock and engine seeds, then their links (sim/run.c's order). */
    for (int k = 0; k < H.s.nservers; k++) {
        const struct simscn_server *sv = &H.s.servers[k];
        if (!sv->sync)
            continue;
        if (sv->sync < 1 || sv->sync > H.s.nservers || sv->sync - 1 == k)
            die("server %d: bad sync = %d", k + 1, sv->sync);
        struct enode *n = &H.enodes[k];
        n->k = k;
        n->upstream = sv->sync - 1;
        n->timer_t = -1;
        simclock_init(&n->clock, &sv->clock, simworld_now_ptr(H.w), H.s.epoch_real_ns,
                      prng_next_u64(&H.rng));
        simclock_set_true_leap(&n->clock, H.s.leap);
        n->ops = simclock_ops(&n->clock);
        n->io.ctx = n;
        n->io.send = enode_send;
        struct engine_params ep;
        engine_params_default(&ep);
        ep.makestep_threshold_s = 1.0;
        ep.makestep_limit = 3;
        ep.mono_is_raw = sv->clock.mono_raw;
        n->eng = engine_new(&ep, &n->ops, prng_next_u64(&H.rng), simclock_mono_ns(&n->clock));
        if (!n->eng)
            die("out of memory");
        simlink_init(&n->up, &sv->sync_up, &H.rng);
        simlink_init(&n->down, &sv->sync_down, &H.rng);
        struct addr a;
        memset(&a, 0, sizeof(a));
        a.family = ADDR_INET4;
        a.bytes[0] = 10;
        a.bytes[3] = (uint8_t)(1 + n->upstream);
        a.port = NTP_PORT_NUM;
        n->src_id = engine_add_source(n->eng, &sv->sync_source, &a, H.s.servers[n->upstream].name,
                                      simclock_mono_ns(&n->clock));
        if (n->src_id < 0)
            die("server %d: engine_add_source: %d", k + 1, n->src_id);
        H.srv[k].node = n;
    }
    struct server_params spar;
    server_params_default(&spar);
    spar.precision_log2 = SIMREF_PRECISION_LOG2;
    for (int k = 0; k < H.s.nservers; k++)
        server_init(&H.srv[k].core, &spar, prng_next_u64(&H.rng));
    prng_seed(&H.rand_rng, H.seed ^ 0x5eed5eed5eedULL);

    H.k_tick = NOMINAL_TICK_US;
    H.k_status = STA_UNSYNC;
    H.k_maxerror = 16000000;
    H.k_esterror = 16000000;
    H.k_constant = 2;
    H.next_sock_id = 1;
    H.next_port = 40000;
    for (int k = 0; k < H.s.nservers; k++)
        if (H.srv[k].node)
            enode_after_call(H.srv[k].node, 0);
    for (int i = 0; i < H.s.nevents; i++)
        sched(H.s.events[i].t_ns, ev_script, i, 0, NULL, 0);
    sched(0, ev_stat, 0, 0, NULL, 0);
    sched(H.s.duration_ns, ev_end, 0, 0, NULL, 0);
    H.active = 1;
    hlog("simhost: %s seed %llu duration %.0f s, %d servers", path, (unsigned long long)H.seed,
         (double)H.s.duration_ns / NS_PER_S, H.s.nservers);
}

/* ---- interposed: time ---- */

int clock_gettime(clockid_t id, struct timespec *ts)
{
    if (!H.active)
        return REAL(clock_gettime)(id, ts);
    int64_t v;
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        read_tick();
        v = simclock_real_ns(&H.clk);
        break;
    case CLOCK_TAI:
        read_tick();
        v = simclock_real_ns(&H.clk) + 37 * NS_PER_S;
        break;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        read_tick();
        v = mono_now();
        break;
    case CLOCK_MONOTONIC_RAW:
        read_tick();
        v = simclock_mono_ns(&H.raw);
        break;
    default:
        return REAL(clock_gettime)(id, ts);
    }
    ts_of(v, ts);
    return 0;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    if (tz)
        memset(tz, 0, sizeof(struct timezone));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (t)
        *t = ts.tv_sec;
    return ts.tv_sec;
}

/* Never forwarded: the host's clock is not ours to change. */
int clock_settime(clockid_t id, const struct timespec *ts)
{
    if (!H.active || id != CLOCK_REALTIME) {
        errno = EPERM;
        return -1;
    }
    return sim_settime_real(ns_of(ts), "clock_settime");
}

int settimeofday(const struct timeval *tv, const struct timezone *tz)
{
    (void)tz;
    if (!H.active) {
        errno = EPERM;
        return -1;
    }
    if (!tv)
        return 0;
    return sim_settime_real((int64_t)tv->tv_sec * NS_PER_S + (int64_t)tv->tv_usec * 1000,
                            "settimeofday");
}

int stime(const time_t *t);
int stime(const time_t *t)
{
    if (!H.active) {
        errno = EPERM;
        return -1;
    }
    return sim_settime_real((int64_t)*t * NS_PER_S, "stime");
}

int adjtime(const struct timeval *delta, struct timeval *olddelta)
{
    if (olddelta)
        memset(olddelta, 0, sizeof(*olddelta));
    if (H.active && delta && (delta->tv_sec || delta->tv_usec)) {
        H.unsupported++;
        hlog("adjtime() unsupported");
    }
    if (!H.active) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

int adjtimex(struct timex *tx)
{
    if (!H.active) {
        errno = EPERM;
        return -1;
    }
    return sim_adjtimex(tx);
}

int __adjtimex(struct timex *tx);
int __adjtimex(struct timex *tx)
{
    return adjtimex(tx);
}

int ntp_adjtime(struct timex *tx)
{
    return adjtimex(tx);
}

int clock_adjtime(clockid_t id, struct timex *tx)
{
    if (!H.active || id != CLOCK_REALTIME) {
        errno = H.active ? EINVAL : EPERM;
        return -1;
    }
    return sim_adjtimex(tx);
}

/* tempusd asks the kernel whether it may set the clock (capget through syscall()): the
 * simulated kernel says yes, the real one keeps refusing. The clock-setting system calls are
 * simulated here too, in case a daemon calls them through syscall(). */
long syscall(long n, ...)
{
    va_list ap;
    va_start(ap, n);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (H.active) {
        switch (n) {
        case SYS_capget: {
            long r = REAL(syscall)(n, a1, a2, a3, a4, a5, a6);
            struct __user_cap_data_struct *d = (struct __user_cap_data_struct *)a2;
            if (r == 0 && d) {
                d[0].effective |= 1u << CAP_BIT_SYS_TIME;
                d[0].permitted |= 1u << CAP_BIT_SYS_TIME;
            }
            return r;
        }
        case SYS_capset: {
            /* The simulated CAP_SYS_TIME that capget reported: a daemon that keeps it when it
             * drops privileges asks the real kernel for a capability the process does not
             * hold (EPERM). Keep it in the simulation only: strip it from the real request. */
            struct __user_cap_data_struct *d = (struct __user_cap_data_struct *)a2;
            struct __user_cap_data_struct c[2];
            if (!d)
                break;
            memcpy(c, d, sizeof c);
            c[0].effective &= ~(1u << CAP_BIT_SYS_TIME);
            c[0].permitted &= ~(1u << CAP_BIT_SYS_TIME);
            c[0].inheritable &= ~(1u << CAP_BIT_SYS_TIME);
            return REAL(syscall)(n, a1, (long)c, a3, a4, a5, a6);
        }
        case SYS_adjtimex:
            return sim_adjtimex((struct timex *)a1);
        case SYS_clock_adjtime:
            return clock_adjtime((clockid_t)a1, (struct timex *)a2);
        case SYS_clock_settime:
            return clock_settime((clockid_t)a1, (const struct timespec *)a2);
        case SYS_settimeofday:
            return settimeofday((const struct timeval *)a1, (const struct timezone *)a2);
        case SYS_clock_gettime:
            return clock_gettime((clockid_t)a1, (struct timespec *)a2);
        case SYS_getrandom:
            return getrandom((void *)a1, (size_t)a2, (unsigned)a3);
        default:
            break;
        }
    } else if (n == SYS_adjtimex || n == SYS_clock_adjtime || n == SYS_clock_settime ||
               n == SYS_settimeofday) {
        errno = EPERM;
        return -1;
    }
    return REAL(syscall)(n, a1, a2, a3, a4, a5, a6);
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
    (void)flags;
    if (!H.active) {
        /* Before the constructor ran (another library's initialiser): the kernel's. */
        return (ssize_t)REAL(syscall)(SYS_getrandom, (long)buf, (long)len, (long)flags, 0, 0, 0);
    }
    prng_fill(&H.rand_rng, buf, len);
    return (ssize_t)len;
}

/* chronyd seeds random() from the time and its pid: from the run's seed instead. */
void srandom(unsigned int seed)
{
    static void (*real_srandom)(unsigned int);
    if (!real_srandom) {
        void *p = must_sym("srandom");
        memcpy(&real_srandom, &p, sizeof(p));
    }
    real_srandom(H.active ? (unsigned int)(H.seed * 2654435761u) : seed);
}

int getentropy(void *buf, size_t len)
{
    if (len > 256) {
        errno = EIO;
        return -1;
    }
    return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

/* ---- interposed: waiting ---- */

struct poll_ctx {
    struct pollfd *fds;
    nfds_t n;
};

static int poll_ready(void *ctx)
{
    struct poll_ctx *p = ctx;
    for (nfds_t i = 0; i < p->n; i++) {
        struct ssock *s = ssock_of(p->fds[i].fd);
        if (s && (((p->fds[i].events & POLLIN) && s->n > 0) || (p->fds[i].events & POLLOUT)))
            return 1;
    }
    return 0;
}

static int64_t mono_deadline(int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return INT64_MAX;
    return mono_now() + timeout_ns;
}

/* Real file descriptors (a control socket, a pipe) are never ready in the simulation. */
int poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    if (!H.active)
        return REAL(poll)(fds, n, timeout_ms);
    struct poll_ctx p = {fds, n};
    wait_until(mono_deadline(timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000), poll_ready, &p);
    int count = 0;
    for (nfds_t i = 0; i < n; i++) {
        fds[i].revents = 0;
        struct ssock *s = ssock_of(fds[i].fd);
        if (!s)
            continue;
        if ((fds[i].events & POLLIN) && s->n > 0)
            fds[i].revents |= POLLIN;
        if (fds[i].events & POLLOUT)
            fds[i].revents |= POLLOUT;
        count += fds[i].revents != 0;
    }
    return count;
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *sigmask)
{
    (void)sigmask;
    int64_t t = tmo ? ns_of(tmo) : -1;
    /* poll() in ms would round; do it in ns here */
    if (!H.active) {
        errno = ENOSYS;
        return -1;
    }
    struct poll_ctx p = {fds, n};
    wait_until(mono_deadline(t), poll_ready, &p);
    int count = 0;
    for (nfds_t i = 0; i < n; i++) {
        fds[i].revents = 0;
        struct ssock *s = ssock_of(fds[i].fd);
        if (s && (fds[i].events & POLLIN) && s->n > 0)
            fds[i].revents |= POLLIN;
        if (s && (fds[i].events & POLLOUT))
            fds[i].revents |= POLLOUT;
        count += fds[i].revents != 0;
    }
    return count;
}

struct select_ctx {
    int nfds;
    fd_set *r, *w;
};

static int select_ready(void *ctx)
{
    struct select_ctx *c = ctx;
    for (int fd = 0; fd < c->nfds; fd++) {
        struct ssock *s = ssock_of(fd);
        if (!s)
            continue;
        if (c->r && FD_ISSET(fd, c->r) && s->n > 0)
            return 1;
        if (c->w && FD_ISSET(fd, c->w))
            return 1;
    }
    return 0;
}

static int sim_select(int nfds, fd_set *r, fd_set *w, fd_set *e, int64_t timeout_ns)
{
    if (nfds > FD_SETSIZE)
        nfds = FD_SETSIZE;
    struct select_ctx c = {nfds, r, w};
    wait_until(mono_deadline(timeout_ns), select_ready, &c);
    int count = 0;
    for (int fd = 0; fd < nfds; fd++) {
        struct ssock *s = ssock_of(fd);
        if (r && FD_ISSET(fd, r)) {
            if (s && s->n > 0)
                count++;
            else
                FD_CLR(fd, r);
        }
        if (w && FD_ISSET(fd, w)) {
            if (s)
                count++;
            else
                FD_CLR(fd, w);
        }
        if (e && FD_ISSET(fd, e))
            FD_CLR(fd, e);
    }
    return count;
}

int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    if (!H.active)
        return REAL(select)(nfds, r, w, e, tv);
    int64_t t = tv ? (int64_t)tv->tv_sec * NS_PER_S + (int64_t)tv->tv_usec * 1000 : -1;
    int64_t m0 = mono_now();
    int rc = sim_select(nfds, r, w, e, t);
    if (tv && t >= 0) {
        /* Linux writes back the time not slept. */
        int64_t left = t - (mono_now() - m0);
        if (left < 0)
            left = 0;
        tv->tv_sec = (time_t)(left / NS_PER_S);
        tv->tv_usec = (suseconds_t)(left % NS_PER_S / 1000);
    }
    return rc;
}

int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
            const sigset_t *sigmask)
{
    (void)sigmask;
    if (!H.active) {
        errno = ENOSYS;
        return -1;
    }
    return sim_select(nfds, r, w, e, ts ? ns_of(ts) : -1);
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    if (rem)
        memset(rem, 0, sizeof(*rem));
    if (H.active)
        wait_until(mono_deadline(ns_of(req)), NULL, NULL);
    return 0;
}

int clock_nanosleep(clockid_t id, int flags, const struct timespec *req, struct timespec *rem)
{
    if (rem)
        memset(rem, 0, sizeof(*rem));
    if (!H.active)
        return ENOSYS;
    int64_t t = ns_of(req);
    if (flags & TIMER_ABSTIME) {
        struct timespec now;
        clock_gettime(id, &now);
        t -= ns_of(&now);
    }
    if (t > 0)
        wait_until(mono_deadline(t), NULL, NULL);
    return 0;
}

int usleep(useconds_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    return nanosleep(&ts, NULL);
}

unsigned int sleep(unsigned int s)
{
    struct timespec ts = {(time_t)s, 0};
    nanosleep(&ts, NULL);
    return 0;
}

/* ---- interposed: sockets ---- */

int socket(int domain, int type, int protocol)
{
    if (!H.active || (domain != AF_INET && domain != AF_INET6))
        return REAL(socket)(domain, type, protocol);
    if ((type & 0xf) != SOCK_DGRAM) {
        hlog("refused socket(%d, %d, %d)", domain, type, protocol);
        errno = EACCES;
        return -1;
    }
    struct ssock *s = NULL;
    for (size_t i = 0; i < sizeof(sock_pool) / sizeof(sock_pool[0]); i++)
        if (!sock_pool[i].used) {
            s = &sock_pool[i];
            break;
        }
    if (!s) {
        errno = EMFILE;
        return -1;
    }
    /* A real descriptor keeps the number valid and unique; nothing ever reaches it. */
    int fd = eventfd(0, ((type & SOCK_CLOEXEC) ? EFD_CLOEXEC : 0) |
                            ((type & SOCK_NONBLOCK) ? EFD_NONBLOCK : 0));
    if (fd < 0)
        return -1;
    if (fd >= MAX_FDS) {
        REAL(close)(fd);
        errno = EMFILE;
        return -1;
    }
    memset(s, 0, sizeof(*s));
    s->used = 1;
    s->id = H.next_sock_id++;
    s->family = domain;
    H.socks[fd] = s;
    return fd;
}

int close(int fd)
{
    struct ssock *s = ssock_of(fd);
    if (s) {
        s->used = 0;
        H.socks[fd] = NULL;
    }
    return REAL(close)(fd);
}

int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    const struct sockaddr *sa = addr.__sockaddr__;
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(bind)(fd, sa, len);
    uint16_t port = 0;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
        port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
        port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    if (port)
        s->lport = port;
    else
        ensure_port(s);
    return 0;
}

int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    const struct sockaddr *sa = addr.__sockaddr__;
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(connect)(fd, sa, len);
    if (sa->sa_family == AF_UNSPEC) {
        s->connected = 0;
        return 0;
    }
    int k = server_of_sockaddr(sa, len);
    if (k < 0) {
        char d[64];
        describe_sockaddr(sa, d, sizeof d);
        die("refusing connect() to %s: not a simulated server", d);
    }
    s->connected = 1;
    s->peer_server = k;
    ensure_port(s);
    return 0;
}

int getsockname(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
    struct sockaddr *sa = addr.__sockaddr__;
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(getsockname)(fd, sa, len);
    uint8_t a4[4] = {0, 0, 0, 0};
    if (s->connected)
        a4[0] = 127, a4[3] = 1;
    *len = fill_sockaddr(s, a4, ensure_port(s), sa, *len);
    return 0;
}

int getpeername(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
    struct sockaddr *sa = addr.__sockaddr__;
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(getpeername)(fd, sa, len);
    if (!s->connected) {
        errno = ENOTCONN;
        return -1;
    }
    uint8_t a4[4] = {127, 0, 0, (uint8_t)(s->peer_server + 1)};
    *len = fill_sockaddr(s, a4, NTP_PORT_NUM, sa, *len);
    return 0;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(setsockopt)(fd, level, name, val, len);
    int v = 0;
    if (val && len >= (socklen_t)sizeof(int))
        memcpy(&v, val, sizeof(int));
    if (level == SOL_SOCKET && name == SO_TIMESTAMPING)
        s->ts_flags = v;
    else if (level == SOL_SOCKET && name == SO_TIMESTAMPNS)
        s->ts_ns = v != 0;
    else if (level == SOL_SOCKET && name == SO_TIMESTAMP)
        s->ts_us = v != 0;
    else if (level == IPPROTO_IP && name == IP_PKTINFO)
        s->pktinfo = v != 0;
    return 0;
}

int getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len)
{
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(getsockopt)(fd, level, name, val, len);
    int v = 0;
    if (level == SOL_SOCKET && name == SO_TYPE)
        v = SOCK_DGRAM;
    else if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF))
        v = 212992;
    else if (level == SOL_SOCKET && name == SO_TIMESTAMPING)
        v = s->ts_flags;
    if (val && len && *len >= (socklen_t)sizeof(int)) {
        memcpy(val, &v, sizeof(int));
        *len = sizeof(int);
    }
    return 0;
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(recvmsg)(fd, m, flags);
    return sim_recv(fd, s, m, flags);
}

int recvmmsg(int fd, struct mmsghdr *v, unsigned int vlen, int flags, struct timespec *tmo)
{
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(recvmmsg)(fd, v, vlen, flags, tmo);
    unsigned int got = 0;
    while (got < vlen) {
        ssize_t r = sim_recv(fd, s, &v[got].msg_hdr, got ? (flags | MSG_DONTWAIT) : flags);
        if (r < 0)
            break;
        v[got].msg_len = (unsigned)r;
        got++;
        if (flags & MSG_WAITFORONE)
            flags |= MSG_DONTWAIT;
    }
    if (got == 0)
        return -1; /* errno from sim_recv */
    return (int)got;
}

ssize_t recvfrom(int fd, void *restrict buf, size_t len, int flags, __SOCKADDR_ARG addr,
                 socklen_t *restrict salen)
{
    struct sockaddr *sa = addr.__sockaddr__;
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(recvfrom)(fd, buf, len, flags, sa, salen);
    struct iovec iov = {buf, len};
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_name = sa;
    m.msg_namelen = salen ? *salen : 0;
    ssize_t r = sim_recv(fd, s, &m, flags);
    if (r >= 0 && salen)
        *salen = m.msg_namelen;
    return r;
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    if (!ssock_of(fd))
        return REAL(recv)(fd, buf, len, flags);
    return recvfrom(fd, buf, len, flags, NULL, NULL);
}

/* _FORTIFY_SOURCE builds (Debian's chronyd) call the checking variants. */
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    if (len > buflen)
        abort();
    return recv(fd, buf, len, flags);
}

ssize_t __recvfrom_chk(int fd, void *restrict buf, size_t len, size_t buflen, int flags,
                       struct sockaddr *restrict sa, socklen_t *restrict salen);
ssize_t __recvfrom_chk(int fd, void *restrict buf, size_t len, size_t buflen, int flags,
                       struct sockaddr *restrict sa, socklen_t *restrict salen)
{
    if (len > buflen)
        abort();
    return recvfrom(fd, buf, len, flags, sa, salen);
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout_ms, size_t fdslen);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout_ms, size_t fdslen)
{
    if (fdslen / sizeof(*fds) < n)
        abort();
    return poll(fds, n, timeout_ms);
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(sendmsg)(fd, m, flags);
    return sim_send(s, m->msg_iov, m->msg_iovlen, m->msg_name, m->msg_namelen);
}

int sendmmsg(int fd, struct mmsghdr *v, unsigned int vlen, int flags)
{
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(sendmmsg)(fd, v, vlen, flags);
    unsigned int i;
    for (i = 0; i < vlen; i++) {
        ssize_t r = sim_send(s, v[i].msg_hdr.msg_iov, v[i].msg_hdr.msg_iovlen,
                             v[i].msg_hdr.msg_name, v[i].msg_hdr.msg_namelen);
        if (r < 0)
            break;
        v[i].msg_len = (unsigned)r;
    }
    return i ? (int)i : -1;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, __CONST_SOCKADDR_ARG addr,
               socklen_t salen)
{
    const struct sockaddr *sa = addr.__sockaddr__;
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(sendto)(fd, buf, len, flags, sa, salen);
    struct iovec iov = {(void *)buf, len};
    return sim_send(s, &iov, 1, sa, salen);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    struct ssock *s = ssock_of(fd);
    if (!s)
        return REAL(send)(fd, buf, len, flags);
    struct iovec iov = {(void *)buf, len};
    return sim_send(s, &iov, 1, NULL, 0);
}
