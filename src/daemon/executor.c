/* daemon/executor: engine actions <-> sockets (see executor.h). */
#include "daemon/executor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/access.h"
#include "core/clientlog.h"
#include "core/engine.h"
#include "core/report.h"
#include "core/server.h"
#include "daemon/ntpserve.h"
#include "daemon/workers.h"
#include "os/loop.h"
#include "os/udp.h"
#include "wire/ntp.h"

/* NTP packets we accept: a 48-byte header plus extension fields and a MAC. */
#define PKT_MAX  1024
#define NS_PER_S 1000000000LL
/* chronyd renews the local reference's reference time when it is older than this */
#define LOCAL_REF_MAX_AGE_NS (64LL * NS_PER_S)
/* A reply that arrives before the kernel's transmit timestamp of its request is held this
 * long for it (then it goes to the engine with the clock read before the send as T1). On
 * loopback and most NICs the stamp comes first; chronyd 4 waits for late ones too. */
#define TXTS_HOLD_NS (1000LL * 1000LL)
/* error-queue messages read per readable event (a request socket has one) */
#define TXTS_DRAIN_MAX 16
/* With server workers, the reference they answer from is published after every engine call
 * and `local` change, and at least this often (local's distance test, its reference time,
 * the clock mapping's base). */
#define PUBLISH_INTERVAL_NS NS_PER_S

struct xsource {
    int id;
    struct addr remote;
    int peer;
    int fd;               /* this source's current request socket (watched), -1 when none */
    int next_fd;          /* the socket for its next request, opened ahead; -1 when none */
    int last_rx_kernel;   /* the last datagram had a kernel receive timestamp */
    uint32_t n_rx_kernel; /* datagrams with a kernel receive timestamp */
    struct addr local;    /* our address its replies came to (IP_PKTINFO), for orphan */
    /* Kernel transmit timestamps: the request last sent awaits one (its socket has them) */
    int tx_pending;
    /* ... whose reply went to the engine without it (the hold ran out): a late stamp is still
     * offered, for an xleave source's next interleaved measurement (engine_tx_timestamp) */
    int tx_late;
    /* a reply that came before that timestamp, held until it does or until held_until */
    int held_len; /* 0: none */
    int64_t held_until_mono_ns;
    struct udp_rx held_rx;
    uint8_t held[PKT_MAX];
};

struct executor {
    struct executor_params p;
    struct loop *loop;
    struct engine *engine;
    const struct clock_ops *clock;
    struct executor_callbacks cb;
    struct engine_io io;
    struct xsource sources[EXECUTOR_MAX_SOURCES];
    int n_sources;
    int server_fd4, server_fd6;
    int acq_fd4, acq_fd6;
    int timer_id;
    struct clientlog *clientlog;
    struct executor_stats stats;
    int n_peers;
    /* The reply template (core/server) is rebuilt lazily: after an engine call (the reference
     * may have changed), a `local` change, or a second (local's distance test, leap). */
    int ref_dirty;
    int64_t ref_mono_ns;
    int64_t local_ref_ns; /* the local reference's reference time (0: none yet) */
    struct executor_local_state local_st;
    uint8_t buf[PKT_MAX];
    /* the server sockets' packet path (one batch, one reply template) and the compiled
     * allow/deny table it checks (rebuilt by executor_set_rules()) */
    struct ntpserve *ntp;
    struct access_table *access;
    int peer_delivered; /* a peer's datagram went to the engine during this batch */
    int mmsg_noted;     /* the sendmmsg -> sendmsg fallback was logged */
    /* serverworkers: the threads that answer NTP clients instead of on_server_readable(),
     * and the timer that republishes their reference every PUBLISH_INTERVAL_NS */
    struct workers *workers;
    int workers_running;
    int publish_timer_id;
    int started; /* executor_start() was called */
    /* a kernel transmit timestamp was taken by the engine at least once: only then is a reply
     * held for one (a kernel or interposer that accepts the option but never delivers a stamp
     * costs no delay) */
    int txts_seen;
    int hold_timer_id;
    int test_txts_order; /* executor_test_txts_order() */
};

static int addr_same_host(const struct addr *a, const struct addr *b)
{
    return a->family == b->family && !memcmp(a->bytes, b->bytes, sizeof a->bytes);
}

_Static_assert(EXECUTOR_MAX_RULES <= ACCESS_MAX_RULES, "every rule fits a compiled table");

/* The packet path's form of the rules (core/access). NULL on ENOMEM. */
static struct access_table *compile_rules(const struct access_rule *rules, size_t n)
{
    return access_compile(rules, n < EXECUTOR_MAX_RULES ? n : EXECUTOR_MAX_RULES);
}

int executor_access_allowed(const struct access_rule *rules, size_t n, const struct addr *addr)
{
    return access_walk(rules, n, addr);
}

static struct xsource *find_source_by_id(struct executor *x, int id)
{
    for (int i = 0; i < x->n_sources; i++)
        if (x->sources[i].id == id)
            return &x->sources[i];
    return NULL;
}

static struct xsource *find_source_by_addr(struct executor *x, const struct addr *from)
{
    for (int i = 0; i < x->n_sources; i++)
        if (addr_same_host(&x->sources[i].remote, from) && x->sources[i].remote.port == from->port)
            return &x->sources[i];
    return NULL;
}

static void on_timer(void *ctx, int64_t now_mono_ns);

/* Keeps exactly one loop timer armed at the engine's next deadline. */
static void rearm(struct executor *x)
{
    if (x->timer_id > 0)
        (void)loop_cancel_timer(x->loop, x->timer_id);
    x->timer_id = 0;
    int64_t next = engine_next_timeout_mono_ns(x->engine);
    if (next == INT64_MAX)
        return;
    int id = loop_add_timer(x->loop, next, on_timer, x);
    if (id > 0)
        x->timer_id = id;
    else
        log_error("Could not arm the engine timer (%d)", id);
}

static void publish_workers(struct executor *x);

static void after_engine(struct executor *x)
{
    publish_workers(x);
    x->ref_dirty = 1;
    rearm(x);
    if (x->cb.after_engine)
        x->cb.after_engine(x->cb.ctx);
}

static void on_timer(void *ctx, int64_t now_mono_ns)
{
    struct executor *x = ctx;
    x->timer_id = 0;
    engine_run_timers(x->engine, now_mono_ns, &x->io);
    after_engine(x);
}

static int64_t map_rx(struct executor *x, const struct udp_rx *rx)
{
    return x->cb.map_rx_ns ? x->cb.map_rx_ns(x->cb.ctx, rx->rx_real_ns) : rx->rx_real_ns;
}

static void deliver(struct executor *x, struct xsource *s, const uint8_t *buf, int len,
                    const struct udp_rx *rx)
{
    x->stats.source_rx++;
    s->last_rx_kernel = rx->ts_source == UDP_TS_KERNEL;
    if (rx->local.family != ADDR_UNSPEC && !addr_equal(&s->local, &rx->local)) {
        s->local = rx->local;
        /* our refid towards it: orphan mode's comparison and test D (sync loop) */
        engine_set_source_local_refid(x->engine, s->id, ntp_refid_from_addr(&s->local));
    }
    if (s->last_rx_kernel) {
        x->stats.kernel_rx_ts++;
        s->n_rx_kernel++;
    }
    engine_receive(x->engine, s->id, buf, (size_t)len, map_rx(x, rx), loop_mono_ns(), &x->io);
}

/* A kernel transmit timestamp (from an error queue) for s's outstanding request: its T1.
 * The looped datagram's transmit field names the request (the engine checks it; without
 * the datagram, only a socket of s's own may say the stamp is s's: need_cookie = 0). */
static int take_txts(struct executor *x, struct xsource *s, const struct udp_txts *ts,
                     int need_cookie)
{
    const uint8_t *cookie =
        ts->payload && ts->payload_len >= NTP_HEADER_LEN ? ts->payload + NTP_OFF_TRANSMIT : NULL;
    if (!(s->tx_pending || s->tx_late) || (need_cookie && !cookie))
        return -ESTALE;
    int64_t t = x->cb.map_rx_ns ? x->cb.map_rx_ns(x->cb.ctx, ts->tx_real_ns) : ts->tx_real_ns;
    int r = engine_tx_timestamp(x->engine, s->id, cookie, t);
    if (r != 0)
        return r;
    s->tx_pending = 0;
    s->tx_late = 0;
    x->stats.kernel_tx_ts++;
    x->txts_seen = 1;
    return 0;
}

static void deliver_held(struct executor *x, struct xsource *s)
{
    if (s->held_len <= 0)
        return;
    int len = s->held_len;
    s->held_len = 0;
    deliver(x, s, s->held, len, &s->held_rx);
}

static void on_hold_timer(void *ctx, int64_t now_mono_ns);

/* Keeps the hold timer at the earliest held reply's deadline. */
static void rearm_hold(struct executor *x)
{
    if (x->hold_timer_id > 0)
        (void)loop_cancel_timer(x->loop, x->hold_timer_id);
    x->hold_timer_id = 0;
    int64_t next = INT64_MAX;
    for (int i = 0; i < x->n_sources; i++)
        if (x->sources[i].held_len > 0 && x->sources[i].held_until_mono_ns < next)
            next = x->sources[i].held_until_mono_ns;
    if (next == INT64_MAX)
        return;
    int id = loop_add_timer(x->loop, next, on_hold_timer, x);
    if (id > 0)
        x->hold_timer_id = id;
}

/* Held replies whose timestamp did not come in time go to the engine with T1 as it is. */
static void on_hold_timer(void *ctx, int64_t now_mono_ns)
{
    struct executor *x = ctx;
    x->hold_timer_id = 0;
    int delivered = 0;
    for (int i = 0; i < x->n_sources; i++) {
        struct xsource *s = &x->sources[i];
        if (s->held_len > 0 && s->held_until_mono_ns <= now_mono_ns) {
            s->tx_pending = 0;
            s->tx_late = 1;
            x->stats.tx_ts_missed++;
            deliver_held(x, s);
            delivered = 1;
        }
    }
    rearm_hold(x);
    if (delivered)
        after_engine(x);
}

/* Reads fd's error queue (kernel transmit timestamps; s as for take_txts()). Returns 1 when a
 * held reply went to the engine. */
static int drain_txts(struct executor *x, int fd, struct xsource *s)
{
    int delivered = 0;
    for (int i = 0; i < TXTS_DRAIN_MAX; i++) {
        uint8_t buf[256];
        struct udp_txts ts;
        int r = udp_recv_txts(fd, buf, sizeof buf, &ts);
        if (r < 0)
            break;
        if (r == 0 || x->test_txts_order == 2)
            continue;
        struct xsource *owner = NULL;
        if (s) {
            if (take_txts(x, s, &ts, 0) == 0)
                owner = s;
        } else {
            /* a shared socket: the request is found by its cookie */
            for (int k = 0; k < x->n_sources && !owner; k++)
                if (take_txts(x, &x->sources[k], &ts, 1) == 0)
                    owner = &x->sources[k];
        }
        if (owner && owner->held_len > 0) {
            deliver_held(x, owner);
            delivered = 1;
        }
    }
    if (delivered)
        rearm_hold(x);
    return delivered;
}

/* A reply for s: to the engine now, or held while its request's transmit timestamp is due
 * (once the kernel has shown it delivers them). Returns 1 when it went to the engine. */
static int deliver_or_hold(struct executor *x, struct xsource *s, const uint8_t *buf, int len,
                           const struct udp_rx *rx)
{
    int delivered = 0;
    if (s->held_len > 0) { /* a second datagram: the first goes as it is */
        deliver_held(x, s);
        delivered = 1;
    }
    if (s->tx_pending && x->txts_seen && len <= PKT_MAX) {
        memcpy(s->held, buf, (size_t)len);
        s->held_len = len;
        s->held_rx = *rx;
        s->held_until_mono_ns = loop_mono_ns() + TXTS_HOLD_NS;
        x->stats.tx_ts_held++;
        rearm_hold(x);
        return delivered;
    }
    deliver(x, s, buf, len, rx);
    return 1;
}

/* A request socket of one source: only that source's address and port count. */
static void on_source_readable(void *ctx, int fd)
{
    struct executor *x = ctx;
    int delivered = 0;
    struct xsource *own = NULL;
    for (int i = 0; i < x->n_sources; i++)
        if (x->sources[i].fd == fd)
            own = &x->sources[i];
    if (own && udp_has_tx_timestamps(fd) && x->test_txts_order != 1)
        delivered |= drain_txts(x, fd, own);
    for (int i = 0; i < 16; i++) {
        struct udp_rx rx;
        int n = udp_recv(fd, x->buf, sizeof x->buf, &rx);
        if (n == -EAGAIN)
            break;
        if (n < 0) {
            /* ICMP errors (port unreachable) surface here; the engine sees a lost reply. */
            if (n != -EMSGSIZE && n != -ECONNREFUSED)
                log_debug("recv: %s", strerror(-n));
            continue;
        }
        struct xsource *s = find_source_by_addr(x, &rx.remote);
        if (!s || s->fd != fd) {
            x->stats.source_ignored++;
            continue;
        }
        delivered |= deliver_or_hold(x, s, x->buf, n, &rx);
    }
    if (own && udp_has_tx_timestamps(fd) && x->test_txts_order == 1)
        delivered |= drain_txts(x, fd, own);
    if (delivered)
        after_engine(x);
}

/* The shared acquisition socket: demultiplex by remote address. */
static void on_acq_readable(void *ctx, int fd)
{
    struct executor *x = ctx;
    int delivered = 0;
    if (udp_has_tx_timestamps(fd))
        delivered |= drain_txts(x, fd, NULL);
    for (int i = 0; i < 64; i++) {
        struct udp_rx rx;
        int n = udp_recv(fd, x->buf, sizeof x->buf, &rx);
        if (n == -EAGAIN)
            break;
        if (n < 0)
            continue;
        struct xsource *s = find_source_by_addr(x, &rx.remote);
        if (!s) {
            x->stats.source_ignored++;
            continue;
        }
        delivered |= deliver_or_hold(x, s, x->buf, n, &rx);
    }
    if (delivered)
        after_engine(x);
}

int executor_local_in_use(int synced, double root_distance_s, int local_enabled,
                          double local_distance_s)
{
    return local_enabled && (!synced || root_distance_s > local_distance_s);
}

int executor_local_rule(const struct executor_params *p, struct executor_local_state *st,
                        const struct executor_local_in *in)
{
    if (!p->local_enabled)
        return 0;
    int usable = in->synced;
    /* orphan: a source at our local stratum is followed only when its refid is below ours;
     * one above it can only be following us (or another orphan) */
    if (usable && p->local_orphan &&
        (in->source_stratum > p->local_stratum ||
         (in->source_stratum == p->local_stratum &&
          !(in->own_refid != 0 && in->source_refid < in->own_refid))))
        usable = 0;
    st->upstream_usable = usable;
    if (usable) {
        if (p->local_activate_s > 0.0 && in->root_distance_s < p->local_activate_s)
            st->activated = 1;
        if (in->root_distance_s <= p->local_distance_s) {
            st->ever_synced = 1;
            st->last_sync_mono_ns = in->now_mono_ns;
            return 0;
        }
    }
    if (p->local_activate_s > 0.0 && !st->activated)
        return 0;
    double wait_s = st->ever_synced ? p->local_waitsynced_s : p->local_waitunsynced_s;
    int64_t since = st->ever_synced ? st->last_sync_mono_ns : st->start_mono_ns;
    if (wait_s > 0.0 && (double)(in->now_mono_ns - since) < wait_s * 1e9)
        return 0;
    return 1;
}

int executor_local_active(struct executor *x, int64_t now_mono_ns)
{
    if (!x->p.local_enabled)
        return 0;
    struct report_reference r;
    engine_reference(x->engine, now_mono_ns, &r);
    struct executor_local_in in = {
        .synced = r.synced,
        .root_distance_s = r.root_delay_s / 2 + r.root_dispersion_s,
        .source_stratum = (int)r.stratum - 1,
        .source_refid = r.ref_id,
        .now_mono_ns = now_mono_ns,
    };
    for (int i = 0; i < x->n_sources; i++) {
        const struct xsource *s = &x->sources[i];
        if (s->local.family != ADDR_UNSPEC && ntp_refid_from_addr(&s->remote) == r.ref_id) {
            in.own_refid = ntp_refid_from_addr(&s->local);
            break;
        }
    }
    return executor_local_rule(&x->p, &x->local_st, &in);
}

/* What the server answers with: the engine's reference, or the local reference when the
 * engine is not synchronised (or its root distance is beyond local's distance). Runs once per
 * template rebuild, not per request: the floating point stays here. */
static void current_ref(struct executor *x, struct server_ref *ref, int64_t now_mono)
{
    struct report_reference r;
    engine_reference(x->engine, now_mono, &r);
    memset(ref, 0, sizeof *ref);
    int local = executor_local_active(x, now_mono);
    /* an upstream orphan mode rejects is no reference to serve (chronyd: not selectable) */
    if (!local && x->p.local_enabled && !x->local_st.upstream_usable)
        r.synced = 0;
    if (r.synced && !local) {
        struct report_reference later;
        ref->synced = 1;
        ref->leap = (uint8_t)r.leap;
        ref->stratum = (uint8_t)r.stratum;
        ref->refid = r.ref_id;
        ref->ref_time_ns = r.ref_time_real_ns;
        double rd = r.root_delay_s * 65536.0;
        ref->root_delay = rd > 4294967295.0 ? 0xffffffffu : (uint32_t)(rd + 0.5);
        /* The engine grows root dispersion linearly with the time since its last update
         * (skew + maxclockerror): its value now and one second later give the rate that
         * core/server applies per request in integer arithmetic. */
        engine_reference(x->engine, now_mono + NS_PER_S, &later);
        double rate_ppb = (later.root_dispersion_s - r.root_dispersion_s) * 1e9;
        ref->root_disp_ns = (int64_t)(r.root_dispersion_s * 1e9);
        ref->disp_time_ns = x->clock->read_real_ns(x->clock->ctx);
        ref->disp_rate_ppb = rate_ppb <= 0.0            ? 0u
                             : rate_ppb >= 4294967295.0 ? 0xffffffffu
                                                        : (uint32_t)(rate_ppb + 0.5);
        ref->freq_ppm = r.freq_ppm;
    } else if (local) {
        /* chronyd's local reference: refid 127.127.1.1, zero root delay and dispersion,
         * reference time now - 1 s, renewed when older than 64 s (spec: chrony.conf §7.2). */
        int64_t now_real = x->clock->read_real_ns(x->clock->ctx);
        if (x->local_ref_ns == 0 || now_real - x->local_ref_ns > LOCAL_REF_MAX_AGE_NS ||
            now_real < x->local_ref_ns)
            x->local_ref_ns = now_real - NS_PER_S;
        ref->synced = 1;
        ref->leap = 0;
        ref->stratum = (uint8_t)x->p.local_stratum;
        ref->refid = 0x7F7F0101u;
        ref->ref_time_ns = x->local_ref_ns;
        ref->freq_ppm = r.freq_ppm;
    }
    if (ref->synced && x->cb.serve_ref)
        x->cb.serve_ref(x->cb.ctx, ref);
}

void executor_ref_changed(struct executor *x)
{
    x->ref_dirty = 1;
    publish_workers(x);
}

static void refresh_ref(struct executor *x)
{
    int64_t now = loop_mono_ns();
    if (!x->ref_dirty && now - x->ref_mono_ns < NS_PER_S && now >= x->ref_mono_ns)
        return;
    struct server_ref ref;
    current_ref(x, &ref, now);
    ntpserve_set_ref(x->ntp, &ref);
    x->ref_dirty = 0;
    x->ref_mono_ns = now;
}

/* The workers' reference: what refresh_ref() gives the main thread's packet path, and the
 * system -> engine clock mapping at two points 2^WORKERS_MAP_SHIFT ns apart. */
static void publish_workers(struct executor *x)
{
    if (!x->workers)
        return;
    struct workers_ref r;
    memset(&r, 0, sizeof r);
    current_ref(x, &r.ref, loop_mono_ns());
    int64_t (*map)(void *, int64_t) = x->cb.serve_map_ns ? x->cb.serve_map_ns : x->cb.map_rx_ns;
    if (map) {
        int64_t base = loop_real_ns(), later = base + (1LL << WORKERS_MAP_SHIFT);
        r.map_base_ns = base;
        r.map_delta_ns = map(x->cb.ctx, base) - base;
        r.map_slope = map(x->cb.ctx, later) - later - r.map_delta_ns;
    }
    workers_publish(x->workers, &r);
}

static void on_publish_timer(void *ctx, int64_t now_mono_ns)
{
    struct executor *x = ctx;
    publish_workers(x);
    x->publish_timer_id =
        loop_add_timer(x->loop, now_mono_ns + PUBLISH_INTERVAL_NS, on_publish_timer, x);
}

/* The packet path's hook while peers exist: a configured peer's symmetric packets (mode 1,
 * and mode 2 from a peer that has no association with us) go to the engine, without the
 * allow/deny check (configuring the peer is the permission) and without an immediate answer:
 * our own next poll answers them, as chronyd 4.3 does (observed on loopback: two chronyd
 * peers exchange only mode 1, each on its own schedule). */
static enum ntpserve_class classify(void *ctx, const struct udp_msg *m, int mode)
{
    struct executor *x = ctx;
    struct xsource *s = find_source_by_addr(x, &m->rx.remote);
    if (!s || !s->peer)
        return NTPSERVE_CLIENT;
    if (mode == 1 || mode == 2) {
        deliver(x, s, m->buf, m->len, &m->rx);
        x->peer_delivered = 1;
        return NTPSERVE_TAKEN;
    }
    return NTPSERVE_CLIENT;
}

/* The engine's peer_header hook: our symmetric packets announce what we serve (core/server's
 * reference, the local reference included). */
static void io_peer_header(void *ctx, int64_t now_mono_ns, struct ntp_packet *p)
{
    struct executor *x = ctx;
    struct server_ref ref;
    struct server_params sp;
    server_params_default(&sp);
    current_ref(x, &ref, now_mono_ns);
    p->precision = sp.precision_log2;
    if (!ref.synced) {
        p->leap = NTP_LEAP_UNSYNC;
        p->stratum = 0;
        return;
    }
    int64_t now_real = x->clock->read_real_ns(x->clock->ctx);
    int64_t since = ref.disp_time_ns ? now_real - ref.disp_time_ns : now_real - ref.ref_time_ns;
    double disp_s = (double)ref.root_disp_ns * 1e-9;
    if (since > 0)
        disp_s += (double)since * 1e-9 * (double)ref.disp_rate_ppb * 1e-9;
    p->leap = ref.leap;
    p->stratum = ref.stratum;
    p->refid = ref.refid;
    p->reference = ntp_time_from_ns(ref.ref_time_ns);
    p->root_delay = ref.root_delay;
    p->root_dispersion = ntp_time_short_from_s(disp_s);
}

static int64_t map_rx_hook(void *ctx, int64_t system_ns)
{
    struct executor *x = ctx;
    return x->cb.map_rx_ns(x->cb.ctx, system_ns);
}

static int64_t serve_map_hook(void *ctx, int64_t system_ns)
{
    struct executor *x = ctx;
    return x->cb.serve_map_ns(x->cb.ctx, system_ns);
}

/* The packet path's tx_stamp hook: a kernel transmit timestamp of one of our peer packets
 * (sent on the server socket) is its T1. */
static int peer_tx_stamp(void *ctx, const struct udp_txts *ts)
{
    struct executor *x = ctx;
    struct xsource *s = find_source_by_addr(x, &ts->to);
    if (!s || !s->peer)
        return 0;
    (void)take_txts(x, s, ts, 1);
    return 1;
}

/* The packet path's hooks: classify only while peers exist (a call per datagram otherwise). */
static void set_hooks(struct executor *x)
{
    struct ntpserve_hooks h = {
        .ctx = x,
        .map_rx_ns = x->cb.serve_map_ns ? serve_map_hook
                     : x->cb.map_rx_ns  ? map_rx_hook
                                        : NULL,
        .classify = x->n_peers > 0 ? classify : NULL,
        .tx_stamp = x->n_peers > 0 ? peer_tx_stamp : NULL,
    };
    ntpserve_set_hooks(x->ntp, &h);
}

/* A peer packet of ours still awaits its kernel TX stamp (it left on the server socket). */
static int peer_tx_pending(const struct executor *x)
{
    if (x->n_peers == 0)
        return 0;
    for (int i = 0; i < x->n_sources; i++)
        if (x->sources[i].peer && x->sources[i].tx_pending)
            return 1;
    return 0;
}

static void on_server_readable(void *ctx, int fd)
{
    struct executor *x = ctx;
    refresh_ref(x);
    x->peer_delivered = 0;
    /* kernel TX timestamps first: of interleaved replies (a client's next request may be in
     * this batch) and of our peer packets (the peer may answer within a few hundred us, in
     * the same wake-up; read after it, the stamp would find the exchange closed) */
    if (ntpserve_txts_outstanding(x->ntp) || peer_tx_pending(x))
        (void)ntpserve_read_txts(x->ntp, fd);
    /* full batches in a row, then back to poll() and the timers */
    int got = ntpserve_drain(x->ntp, fd, NTPSERVE_DRAIN_BATCHES);
    /* woken without a datagram: the error queue (a stamp that came late), which poll() keeps
     * reporting until it is read */
    if (got == -EAGAIN)
        (void)ntpserve_read_txts(x->ntp, fd);
    if (x->peer_delivered)
        after_engine(x);
    if (x->p.send_batch && !x->mmsg_noted && !ntpserve_send_batch_active(x->ntp)) {
        x->mmsg_noted = 1;
        log_info("sendmmsg refused: the NTP replies leave with sendmsg, one at a time");
    }
}

static int open_request_socket(struct executor *x, const struct xsource *s)
{
    int v6 = s->remote.family == ADDR_INET6;
    struct addr local = v6 ? x->p.bindacq6 : x->p.bindacq4;
    local.family = v6 ? ADDR_INET6 : ADDR_INET4;
    local.port = 0;
    return udp_open(&local, UDP_OPEN_TX_TIMESTAMPS);
}

/* A new socket, hence a new random source port, for every request (RFC 9109). The socket is
 * opened one request ahead, so that the time between the engine's transmit timestamp and the
 * datagram leaving is one sendmsg(), not socket set-up (which costs tens of microseconds and
 * would show as delay and offset error). The previous request's socket is closed after the
 * send: a late reply to it is of no use any more. */
static int send_fresh(struct executor *x, struct xsource *s, const uint8_t *pkt, size_t len)
{
    if (s->next_fd < 0)
        s->next_fd = open_request_socket(x, s);
    int fd = s->next_fd;
    s->next_fd = -1;
    if (fd < 0) {
        x->stats.send_errors++;
        return fd;
    }
    if (s->held_len > 0) {
        /* the last reply's timestamp never came and its hold outlived the poll: too late */
        s->held_len = 0;
        rearm_hold(x);
    }
    int r = udp_send(fd, pkt, len, &s->remote, NULL, 0);
    if (r < 0)
        x->stats.send_errors++;
    s->tx_pending = r == 0 && udp_has_tx_timestamps(fd);
    s->tx_late = 0;
    if (s->fd >= 0) {
        (void)loop_remove_fd(x->loop, s->fd);
        udp_close(s->fd);
    }
    s->fd = fd;
    if (loop_add_fd(x->loop, fd, on_source_readable, x) != 0) {
        udp_close(fd);
        s->fd = -1;
        x->stats.send_errors++;
        return -ENOSPC;
    }
    s->next_fd = open_request_socket(x, s);
    return r;
}

static int io_send(void *ctx, int source_id, const uint8_t *pkt, size_t len)
{
    struct executor *x = ctx;
    struct xsource *s = find_source_by_id(x, source_id);
    if (!s)
        return -ENOENT;
    int v6 = s->remote.family == ADDR_INET6;
    int fd = -1;
    if (s->peer && (v6 ? x->server_fd6 : x->server_fd4) >= 0) {
        /* the peer's packets leave on the server socket (chronyd's too): its kernel TX stamp
         * comes back on that socket's error queue, to peer_tx_stamp() */
        int stamped;
        int r = udp_send_txts(v6 ? x->server_fd6 : x->server_fd4, pkt, len, &s->remote, &stamped);
        if (r < 0)
            x->stats.send_errors++;
        s->tx_pending = r == 0 && stamped;
        s->tx_late = 0;
        return r;
    } else if (x->p.acquisition_port > 0) {
        int *afd = v6 ? &x->acq_fd6 : &x->acq_fd4;
        if (*afd < 0) {
            struct addr local = v6 ? x->p.bindacq6 : x->p.bindacq4;
            local.family = v6 ? ADDR_INET6 : ADDR_INET4;
            local.port = (uint16_t)x->p.acquisition_port;
            *afd = udp_open(&local, UDP_OPEN_REUSEADDR | UDP_OPEN_TX_TIMESTAMPS);
            if (*afd < 0) {
                x->stats.send_errors++;
                return *afd;
            }
            (void)loop_add_fd(x->loop, *afd, on_acq_readable, x);
        }
        fd = *afd;
    } else {
        return send_fresh(x, s, pkt, len);
    }
    int r = udp_send(fd, pkt, len, &s->remote, NULL, 0);
    if (r < 0)
        x->stats.send_errors++;
    s->tx_pending = r == 0 && udp_has_tx_timestamps(fd);
    s->tx_late = 0;
    return r;
}

struct executor *executor_new(const struct executor_params *p, struct loop *loop,
                              struct engine *engine, const struct clock_ops *clock,
                              const struct executor_callbacks *cb)
{
    struct executor *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->p = *p;
    x->loop = loop;
    x->engine = engine;
    x->clock = clock;
    if (cb)
        x->cb = *cb;
    x->io.ctx = x;
    x->io.send = io_send;
    x->io.peer_header = io_peer_header;
    x->server_fd4 = x->server_fd6 = x->acq_fd4 = x->acq_fd6 = -1;
    x->ref_dirty = 1;
    x->local_st.start_mono_ns = loop_mono_ns();
    struct clientlog_params cp;
    clientlog_params_default(&cp);
    cp.disabled = p->noclientlog;
    if (p->clientloglimit)
        cp.limit_bytes = p->clientloglimit;
    if (p->ntp_ratelimit.enabled)
        cp.limit[CLIENTLOG_NTP] = p->ntp_ratelimit;
    cp.seed = p->seed ^ 0x9e3779b97f4a7c15ULL;
    x->clientlog = clientlog_new(&cp);
    struct ntpserve_params np;
    ntpserve_params_default(&np);
    np.seed = p->seed;
    np.send_batch = p->send_batch;
    np.tx_timestamps = 1;
    /* Symmetric requests only from configured peers (issue 5). chronyd 4.3 answers a mode 1
     * packet from an allowed host that is no peer with mode 2 at once (measured on loopback);
     * setting this to 1 would do the same. */
    np.server.answer_unknown_active = 0;
    x->ntp = x->clientlog ? ntpserve_new(&np, PKT_MAX, x->clientlog, clock, NULL) : NULL;
    if (x->ntp)
        set_hooks(x);
    if (x->ntp)
        x->access = compile_rules(x->p.rules, x->p.n_rules);
    if (!x->access) {
        ntpserve_free(x->ntp);
        clientlog_free(x->clientlog);
        free(x);
        return NULL;
    }
    ntpserve_set_access(x->ntp, x->access);
    return x;
}

static void close_fd(struct executor *x, int *fd)
{
    if (*fd >= 0) {
        (void)loop_remove_fd(x->loop, *fd);
        udp_close(*fd);
        *fd = -1;
    }
}

void executor_free(struct executor *x)
{
    if (!x)
        return;
    if (x->ntp) {
        const struct ntpserve_stats *n = ntpserve_get_stats(x->ntp);
        if (n->batches)
            log_info("NTP server: %llu requests in %llu batches (%llu full), %llu empty reads, "
                     "send pace %lld ns",
                     (unsigned long long)n->ntp_rx, (unsigned long long)n->batches,
                     (unsigned long long)n->batches_full, (unsigned long long)n->empty_reads,
                     (long long)ntpserve_send_pace_ns(x->ntp));
#ifdef NTPSERVE_BATCH_HIST
        const uint64_t *h = ntpserve_batch_hist(x->ntp);
        char line[1024];
        size_t used = 0;
        for (int i = 0; i <= UDP_BATCH_MAX && used < sizeof line; i++)
            if (h[i])
                used += (size_t)snprintf(line + used, sizeof line - used, " %d:%llu", i,
                                         (unsigned long long)h[i]);
        log_info("NTP server batch sizes:%s", used ? line : " none");
#endif
    }
    if (x->timer_id > 0)
        (void)loop_cancel_timer(x->loop, x->timer_id);
    if (x->publish_timer_id > 0)
        (void)loop_cancel_timer(x->loop, x->publish_timer_id);
    if (x->hold_timer_id > 0)
        (void)loop_cancel_timer(x->loop, x->hold_timer_id);
    if (x->workers) {
        workers_stop(x->workers);
        for (int i = 0; x->workers_running && i < workers_count(x->workers); i++) {
            struct ntpserve_stats c;
            workers_get_stats(x->workers, i, &c);
            log_info("NTP server worker %d: %llu requests, %llu replies, %llu denied, "
                     "%llu dropped, %llu batches (%llu full)",
                     i, (unsigned long long)c.ntp_rx, (unsigned long long)c.ntp_replies,
                     (unsigned long long)c.ntp_denied, (unsigned long long)c.ntp_dropped,
                     (unsigned long long)c.batches, (unsigned long long)c.batches_full);
        }
        workers_free(x->workers); /* before the access table the workers borrow */
    }
    for (int i = 0; i < x->n_sources; i++) {
        close_fd(x, &x->sources[i].fd);
        udp_close(x->sources[i].next_fd);
    }
    close_fd(x, &x->server_fd4);
    close_fd(x, &x->server_fd6);
    close_fd(x, &x->acq_fd4);
    close_fd(x, &x->acq_fd6);
    ntpserve_free(x->ntp);
    access_free(x->access);
    clientlog_free(x->clientlog);
    free(x);
}

static int open_server(struct executor *x, enum addr_family fam, int *fd)
{
    struct addr local = fam == ADDR_INET6 ? x->p.bind6 : x->p.bind4;
    local.family = fam;
    local.port = (uint16_t)x->p.server_port;
    int r = udp_open(&local,
                     UDP_OPEN_REUSEADDR | UDP_OPEN_PKTINFO_IF_WILDCARD | UDP_OPEN_RX_TIMESTAMPNS);
    if (r < 0) {
        char t[ADDR_TEXT_MAX];
        log_warn("Could not open NTP socket on %s port %d : %s", addr_format(&local, t, sizeof t),
                 x->p.server_port, strerror(-r));
        return 0;
    }
    if (!udp_has_kernel_timestamps(r))
        log_warn("No kernel receive timestamps on the NTP socket: using daemon timestamps");
    /* a flood comes in bursts: room for them while the loop is elsewhere (the default
     * buffer, about 270 requests, overflowed with the CPU idle half the time) */
    int rb = udp_set_rcvbuf(r, NTPSERVE_RCVBUF_BYTES);
    if (rb >= 0 && rb < NTPSERVE_RCVBUF_BYTES)
        log_info("NTP socket receive buffer: %d bytes (net.core.rmem_max limits it)", rb);
    *fd = r;
    (void)loop_add_fd(x->loop, r, on_server_readable, x);
    return 1;
}

static void start_workers(struct executor *x);

/* serverworkers: the workers' sockets instead of the main thread's. 0 when none could be
 * opened (the caller then opens its own). */
static int open_workers(struct executor *x)
{
    struct workers_params wp = {
        .n = x->p.server_workers,
        .family = x->p.family,
        .port = x->p.server_port,
        .bind4 = x->p.bind4,
        .bind6 = x->p.bind6,
        .noclientlog = x->p.noclientlog,
        .clientloglimit = x->p.clientloglimit,
        .ntp_ratelimit = x->p.ntp_ratelimit,
        .send_batch = x->p.send_batch,
        .seed = x->p.seed ^ 0x94d049bb133111ebULL,
    };
    struct workers *w = workers_new(&wp);
    int n = w ? workers_open(w) : 0;
    if (n <= 0) {
        log_warn("Could not set up %d NTP server workers: the main thread answers",
                 x->p.server_workers);
        workers_free(w);
        return 0;
    }
    workers_set_access(w, x->access);
    x->workers = w;
    publish_workers(x);
    if (x->started) /* opened at run time (the first `allow`) */
        start_workers(x);
    return n;
}

int executor_open_server(struct executor *x)
{
    if (x->p.server_port <= 0)
        return 0;
    if (x->p.server_workers > 0 && !x->workers) {
        int nw = open_workers(x);
        if (nw > 0)
            return nw;
    }
    int n = 0;
    if (x->p.family != 6 && !(x->p.bind6.family == ADDR_INET6 && x->p.bind4.family != ADDR_INET4))
        n += open_server(x, ADDR_INET4, &x->server_fd4);
    /* A bindaddress of one family only (say 127.0.0.1 for a loopback test) keeps the other
     * family's socket closed, so that nothing listens where nobody asked. */
    if (x->p.family != 4 && !(x->p.bind4.family == ADDR_INET4 && x->p.bind6.family != ADDR_INET6))
        n += open_server(x, ADDR_INET6, &x->server_fd6);
    return n;
}

int executor_add_source(struct executor *x, int source_id, const struct addr *remote, int peer)
{
    if (find_source_by_id(x, source_id))
        return -EEXIST;
    if (x->n_sources >= EXECUTOR_MAX_SOURCES)
        return -ENOSPC;
    x->sources[x->n_sources++] =
        (struct xsource){.id = source_id, .remote = *remote, .peer = peer, .fd = -1, .next_fd = -1};
    if (peer)
        x->n_peers++;
    set_hooks(x);
    if (peer && x->workers) {
        char t[ADDR_TEXT_MAX];
        log_warn("NTP server workers answer on the NTP port: symmetric traffic of peer %s is "
                 "not served",
                 addr_format(remote, t, sizeof t));
    }
    return 0;
}

int executor_remove_source(struct executor *x, int source_id)
{
    for (int i = 0; i < x->n_sources; i++) {
        if (x->sources[i].id != source_id)
            continue;
        close_fd(x, &x->sources[i].fd);
        udp_close(x->sources[i].next_fd);
        if (x->sources[i].peer)
            x->n_peers--;
        set_hooks(x);
        memmove(&x->sources[i], &x->sources[i + 1],
                sizeof x->sources[0] * (size_t)(x->n_sources - i - 1));
        x->n_sources--;
        return 0;
    }
    return -ENOENT;
}

void executor_set_keys(struct executor *x, const struct keys *keys)
{
    ntpserve_set_keys(x->ntp, keys);
}

void executor_set_rules(struct executor *x, const struct access_rule *rules, size_t n)
{
    if (n > EXECUTOR_MAX_RULES)
        n = EXECUTOR_MAX_RULES;
    struct access_table *t = compile_rules(rules, n);
    if (!t) {
        /* keep the old rules (and the table that goes with them) rather than none */
        log_error("Could not compile the allow/deny rules: out of memory");
        return;
    }
    if (n > 0)
        memcpy(x->p.rules, rules, n * sizeof rules[0]);
    x->p.n_rules = n;
    ntpserve_set_access(x->ntp, t);
    /* the workers borrow the table too: once this returns none reads the old one */
    if (x->workers)
        workers_set_access(x->workers, t);
    access_free(x->access);
    x->access = t;
}

void executor_set_local_params(struct executor *x, const struct executor_params *p)
{
    if (p->local_enabled && !x->p.local_enabled) {
        memset(&x->local_st, 0, sizeof x->local_st);
        x->local_st.start_mono_ns = loop_mono_ns();
    }
    x->p.local_enabled = p->local_enabled ? 1 : 0;
    x->p.local_stratum = p->local_stratum;
    x->p.local_distance_s = p->local_distance_s;
    x->p.local_orphan = p->local_orphan;
    x->p.local_activate_s = p->local_activate_s;
    x->p.local_waitsynced_s = p->local_waitsynced_s;
    x->p.local_waitunsynced_s = p->local_waitunsynced_s;
    engine_set_local(x->engine, p->local_enabled ? p->local_stratum : 0, p->local_orphan);
    x->ref_dirty = 1;
    publish_workers(x);
}

void executor_set_local(struct executor *x, int on, int stratum, double distance_s)
{
    if (on && !x->p.local_enabled) {
        memset(&x->local_st, 0, sizeof x->local_st);
        x->local_st.start_mono_ns = loop_mono_ns();
    }
    x->p.local_enabled = on ? 1 : 0;
    if (on) {
        x->p.local_stratum = stratum;
        x->p.local_distance_s = distance_s;
    }
    x->ref_dirty = 1;
    publish_workers(x);
}

const struct clientlog *executor_clientlog(const struct executor *x)
{
    return x->clientlog;
}

static void start_workers(struct executor *x)
{
    if (!x->workers || x->workers_running)
        return;
    int r = workers_start(x->workers);
    if (r < 0) {
        log_warn("Could not start NTP server workers (%s): the main thread answers", strerror(-r));
        workers_free(x->workers);
        x->workers = NULL;
        x->p.server_workers = 0;
        (void)executor_open_server(x);
        return;
    }
    x->workers_running = 1;
    x->publish_timer_id =
        loop_add_timer(x->loop, loop_mono_ns() + PUBLISH_INTERVAL_NS, on_publish_timer, x);
    log_info("NTP server: %d worker threads", workers_count(x->workers));
}

void executor_start(struct executor *x)
{
    rearm(x);
    /* also after commands (cmdsrv's engine_changed): they may have moved the clock */
    publish_workers(x);
    x->started = 1;
    start_workers(x);
}

int executor_server_workers(const struct executor *x)
{
    return x->workers_running ? workers_count(x->workers) : 0;
}

void executor_get_stats(const struct executor *x, struct executor_stats *s)
{
    *s = x->stats;
    ntpserve_stats_add(&s->server, ntpserve_get_stats(x->ntp));
    if (x->workers) {
        struct ntpserve_stats w;
        workers_get_stats(x->workers, -1, &w);
        ntpserve_stats_add(&s->server, &w);
    }
}

void executor_ntp_stats(struct executor *x, struct clientlog_stats *out)
{
    if (x->workers)
        workers_clientlog_stats(x->workers, out);
    else
        clientlog_get_stats(x->clientlog, out);
}

uint32_t executor_clients_capacity(const struct executor *x)
{
    return x->workers ? workers_clients_capacity(x->workers) : clientlog_capacity(x->clientlog);
}

int executor_client_report(struct executor *x, uint32_t index, int64_t now_real_ns,
                           struct clientlog_report *out)
{
    if (x->workers)
        return workers_client_report(x->workers, index, now_real_ns, out);
    return clientlog_report(x->clientlog, index, now_real_ns, out);
}

int executor_last_rx_kernel(const struct executor *x, int source_id)
{
    for (int i = 0; i < x->n_sources; i++)
        if (x->sources[i].id == source_id)
            return x->sources[i].last_rx_kernel;
    return -ENOENT;
}

int executor_source_rx_ts(const struct executor *x, const struct addr *a, int *last_kernel,
                          uint32_t *n_kernel)
{
    for (int i = 0; i < x->n_sources; i++) {
        const struct xsource *s = &x->sources[i];
        if (addr_same_host(&s->remote, a) && (a->port == 0 || s->remote.port == a->port)) {
            *last_kernel = s->last_rx_kernel;
            *n_kernel = s->n_rx_kernel;
            return 0;
        }
    }
    return -ENOENT;
}

int executor_source_local_addr(const struct executor *x, const struct addr *a, struct addr *local)
{
    for (int i = 0; i < x->n_sources; i++) {
        const struct xsource *s = &x->sources[i];
        if (addr_same_host(&s->remote, a) && (a->port == 0 || s->remote.port == a->port)) {
            if (s->local.family == ADDR_UNSPEC)
                return -ENOENT;
            *local = s->local;
            local->port = 0;
            return 0;
        }
    }
    return -ENOENT;
}

void executor_test_txts_order(struct executor *x, int mode)
{
    x->test_txts_order = mode;
}

int executor_server_port(const struct executor *x, int family)
{
    if (x->workers)
        return workers_port(x->workers, family);
    int fd = family == 6 ? x->server_fd6 : x->server_fd4;
    if (fd < 0)
        return 0;
    int p = udp_local_port(fd);
    return p > 0 ? p : 0;
}
