/* daemon/ntpserve: the NTP server's packet path (see ntpserve.h). */
#include "daemon/ntpserve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "os/loop.h"

/* The system->engine clock mapping (hooks.map_rx_ns) is linear between clock changes (a -x
 * virtual clock: offset + freq * t; the identity otherwise), and every clock change happens in
 * an engine call or a command, between batches. So per batch it is evaluated twice, at the
 * batch's first receive time and 2^30 ns later, and every timestamp of the batch is mapped by
 * integer interpolation: exact to well under 1 ns within MAP_SPAN_NS of the first point. */
#define MAP_SLOPE_SHIFT 30
#define MAP_SPAN_NS     (50LL * 1000000LL)

struct ntpserve {
    struct ntpserve_params p;
    struct server server;
    struct clientlog *clientlog;
    const struct clock_ops *clock;
    struct ntpserve_hooks hooks;
    const struct access_table *access;
    struct udp_batch *batch;
    struct ntpserve_stats stats;
    /* system -> engine clock mapping of the current batch (MAP_SLOPE_SHIFT) */
    int map_valid;
    int64_t map_base_ns, map_delta_ns, map_slope; /* slope: ns per 2^MAP_SLOPE_SHIFT ns */
    struct server_pending pend[UDP_BATCH_MAX];
    struct ntpserve_pace pace; /* ns per reply a batch's sends take (ntpserve_pace_add()) */
    /* p.tx_timestamps, until the kernel refuses a per-datagram request */
    int txts_on;
    uint32_t txts_outstanding; /* requested, not read yet */
#ifdef NTPSERVE_BATCH_HIST
    uint64_t hist[UDP_BATCH_MAX + 1];
#endif
};

void ntpserve_params_default(struct ntpserve_params *p)
{
    memset(p, 0, sizeof *p);
    server_params_default(&p->server);
    p->send_batch = 1;
}

struct ntpserve *ntpserve_new(const struct ntpserve_params *p, size_t pkt_max,
                              struct clientlog *clientlog, const struct clock_ops *clock,
                              const struct ntpserve_hooks *hooks)
{
    struct ntpserve *ns = calloc(1, sizeof *ns);
    if (!ns)
        return NULL;
    ns->batch = udp_batch_new(UDP_BATCH_MAX, pkt_max);
    if (!ns->batch) {
        free(ns);
        return NULL;
    }
    ns->p = *p;
    ns->txts_on = p->tx_timestamps ? 1 : 0;
    ntpserve_pace_init(&ns->pace);
    ns->clientlog = clientlog;
    ns->clock = clock;
    if (hooks)
        ns->hooks = *hooks;
    server_init(&ns->server, &p->server, p->seed);
    struct server_ref unsynced;
    memset(&unsynced, 0, sizeof unsynced);
    server_prepare(&ns->server, &unsynced);
    return ns;
}

void ntpserve_free(struct ntpserve *ns)
{
    if (!ns)
        return;
    udp_batch_free(ns->batch);
    free(ns);
}

void ntpserve_set_ref(struct ntpserve *ns, const struct server_ref *ref)
{
    server_prepare(&ns->server, ref);
}

void ntpserve_set_keys(struct ntpserve *ns, const struct keys *keys)
{
    ns->server.keys = keys;
}

void ntpserve_set_access(struct ntpserve *ns, const struct access_table *t)
{
    ns->access = t;
}

void ntpserve_set_hooks(struct ntpserve *ns, const struct ntpserve_hooks *hooks)
{
    if (hooks)
        ns->hooks = *hooks;
    else
        memset(&ns->hooks, 0, sizeof ns->hooks);
    ns->map_valid = 0;
}

void ntpserve_set_send_batch(struct ntpserve *ns, int on)
{
    ns->p.send_batch = on ? 1 : 0;
}

int ntpserve_send_batch_active(const struct ntpserve *ns)
{
    return ns->p.send_batch && !udp_batch_mmsg_refused(ns->batch);
}

const struct ntpserve_stats *ntpserve_get_stats(const struct ntpserve *ns)
{
    return &ns->stats;
}

void ntpserve_stats_add(struct ntpserve_stats *sum, const struct ntpserve_stats *s)
{
    sum->ntp_rx += s->ntp_rx;
    sum->ntp_denied += s->ntp_denied;
    sum->ntp_replies += s->ntp_replies;
    sum->ntp_dropped += s->ntp_dropped;
    sum->send_errors += s->send_errors;
    sum->ntp_kernel_rx += s->ntp_kernel_rx;
    sum->peer_taken += s->peer_taken;
    sum->batches += s->batches;
    sum->batches_full += s->batches_full;
    sum->empty_reads += s->empty_reads;
    sum->txts_requested += s->txts_requested;
    sum->ntp_kernel_tx += s->ntp_kernel_tx;
}

const struct server *ntpserve_server(const struct ntpserve *ns)
{
    return &ns->server;
}

/* A system (CLOCK_REALTIME) time on the engine's clock (see MAP_SLOPE_SHIFT). Inlined: it
 * runs once per request and a call costs as much as its body. */
__attribute__((always_inline)) static inline int64_t map_fast(struct ntpserve *ns,
                                                              int64_t system_ns)
{
    if (!ns->hooks.map_rx_ns)
        return system_ns;
    int64_t d = system_ns - ns->map_base_ns;
    if (!ns->map_valid || (uint64_t)(d + MAP_SPAN_NS) > (uint64_t)(2 * MAP_SPAN_NS)) {
        ns->map_base_ns = system_ns;
        ns->map_delta_ns = ns->hooks.map_rx_ns(ns->hooks.ctx, system_ns) - system_ns;
        int64_t later = system_ns + (1LL << MAP_SLOPE_SHIFT);
        ns->map_slope = ns->hooks.map_rx_ns(ns->hooks.ctx, later) - later - ns->map_delta_ns;
        ns->map_valid = 1;
        d = 0;
    }
    /* |d| <= MAP_SPAN_NS < 2^26 and |slope| < 2^30 (any frequency below 100 %): < 2^56.
     * The shift rounds down (a division would round towards 0): at most 1 ns apart. */
    return system_ns + ns->map_delta_ns + ((d * ns->map_slope) >> MAP_SLOPE_SHIFT);
}

/* The engine's clock now, for a transmit timestamp. */
static int64_t tx_now(struct ntpserve *ns)
{
    if (!ns->hooks.map_rx_ns) {
        if (ns->clock) /* tests: a fake clock */
            return ns->clock->read_real_ns(ns->clock->ctx);
        return loop_real_ns();
    }
    return map_fast(ns, loop_real_ns());
}

static int allowed(const struct access_table *t, const struct addr *a)
{
    if (!t)
        return 0;
    if (a->family == ADDR_INET4) {
        uint32_t ip;
        memcpy(&ip, a->bytes, 4);
        return access_check4(t, ntohl(ip));
    }
    return access_check(t, a);
}

/* Sends reply slots first .. first+count-1 and counts the outcome. */
static void send_replies(struct ntpserve *ns, int fd, int first, int count, int use_mmsg)
{
    int sent = udp_batch_send(fd, ns->batch, first, count, use_mmsg);
    ns->stats.ntp_replies += (uint64_t)sent;
    ns->stats.send_errors += (uint64_t)(count - sent);
}

void ntpserve_pace_init(struct ntpserve_pace *p)
{
    p->pace_ns = 0;
    p->cur_min_ns = INT64_MAX;
    p->prev_min_ns = 0;
    p->n = 0;
}

void ntpserve_pace_add(struct ntpserve_pace *p, int64_t elapsed_ns, int count)
{
    if (count < NTPSERVE_PACE_MIN_REPLIES || elapsed_ns <= 0 ||
        elapsed_ns > (int64_t)count * NTPSERVE_PACE_MAX_NS)
        return;
    int64_t sample = elapsed_ns / count;
    if (sample < p->cur_min_ns)
        p->cur_min_ns = sample;
    if (++p->n == NTPSERVE_PACE_WINDOW) {
        p->prev_min_ns = p->cur_min_ns;
        p->cur_min_ns = INT64_MAX;
        p->n = 0;
    }
    if (p->prev_min_ns == 0) /* no complete window yet */
        return;
    int64_t m = p->prev_min_ns < p->cur_min_ns ? p->prev_min_ns : p->cur_min_ns;
    p->pace_ns = m * 7 / 8;
}

int64_t ntpserve_send_pace_ns(const struct ntpserve *ns)
{
    return ns->pace.pace_ns;
}

/* Sends a batch-mode chunk whose transmit clock was read at tx, and learns the pace from it. */
static void send_chunk(struct ntpserve *ns, int fd, int first, int count, int64_t tx)
{
    send_replies(ns, fd, first, count, 1);
    if (count >= NTPSERVE_PACE_MIN_REPLIES)
        ntpserve_pace_add(&ns->pace, tx_now(ns) - tx, count);
}

#ifdef NTPSERVE_BATCH_HIST
const uint64_t *ntpserve_batch_hist(const struct ntpserve *ns)
{
    return ns->hist;
}
#endif

int ntpserve_drain(struct ntpserve *ns, int fd, int max_batches)
{
    int total = 0;
    for (int b = 0; b < max_batches; b++) {
        int n = ntpserve_run(ns, fd);
        if (n <= 0)
            return total > 0 ? total : n;
        total += n;
        if (n < UDP_BATCH_MAX)
            break;
    }
    return total;
}

int ntpserve_run(struct ntpserve *ns, int fd)
{
    int n = udp_batch_recv(fd, ns->batch);
    struct ntpserve_stats *st = &ns->stats;
#ifdef NTPSERVE_BATCH_HIST
    ns->hist[n > 0 ? n : 0]++;
#endif
    if (n <= 0) {
        if (n == -EAGAIN)
            st->empty_reads++;
        return n;
    }
    st->batches++;
    st->batches_full += n == UDP_BATCH_MAX;
    struct udp_msg *msgs = udp_batch_msgs(ns->batch);
    struct udp_reply *out = udp_batch_replies(ns->batch);
    /* sendmmsg mode: a chunk's transmit clock is read once, before its first request is
     * answered, each reply is finished at once (server_answer_now) with that + its place in
     * the chunk x the send pace, and the chunk leaves as soon as it is full (a full batch:
     * one chunk). sendmsg mode: answered now, finished right before its own send. */
    const int batch_mode = ns->p.send_batch && !udp_batch_mmsg_refused(ns->batch);
    const int chunk = n == UDP_BATCH_MAX ? UDP_BATCH_MAX : NTPSERVE_SEND_CHUNK;
    int nout = 0, chunk_start = 0, chunk_end = batch_mode ? chunk : INT_MAX;
    int64_t tx = 0;
    ns->map_valid = 0; /* a command may have changed the clock since the last batch */
    /* The batch's mapping in locals (the stores below would make the compiler reload it):
     * evaluated at the first datagram's time; the identity when there is no hook. */
    (void)map_fast(ns, msgs[0].rx.rx_real_ns);
    const int64_t base = ns->hooks.map_rx_ns ? ns->map_base_ns : msgs[0].rx.rx_real_ns;
    const int64_t delta = ns->hooks.map_rx_ns ? ns->map_delta_ns : 0;
    const int64_t slope = ns->hooks.map_rx_ns ? ns->map_slope : 0;
    /* The client log's lines for the whole batch, loaded ahead (clientlog_prefetch()). */
    if (ns->clientlog && n > 1)
        clientlog_prefetch(ns->clientlog, &msgs[0].rx.remote, sizeof msgs[0], n);
    for (int i = 0; i < n; i++) {
        const struct udp_msg *m = &msgs[i];
        int from_peer = 0;
        if (m->len < 0)
            continue;
        if (ns->hooks.classify) {
            enum ntpserve_class c =
                ns->hooks.classify(ns->hooks.ctx, m, m->len > 0 ? m->buf[0] & 7 : 0);
            if (c == NTPSERVE_TAKEN) { /* not a request: the engine's */
                st->peer_taken++;
                continue;
            }
            from_peer = c == NTPSERVE_PEER;
        }
        st->ntp_rx++;
        if (!from_peer && !allowed(ns->access, &m->rx.remote)) {
            st->ntp_denied++;
            continue;
        }
        if (m->rx.ts_source == UDP_TS_KERNEL)
            st->ntp_kernel_rx++;
        int64_t t = m->rx.rx_real_ns;
        struct server_rx srx = {
            .pkt = m->buf,
            .len = (size_t)m->len,
            .from = &m->rx.remote,
            .rx_ns = (uint64_t)(t - base + MAP_SPAN_NS) <= (uint64_t)(2 * MAP_SPAN_NS)
                         ? t + delta + (((t - base) * slope) >> MAP_SLOPE_SHIFT)
                         : map_fast(ns, t),
            .from_peer = from_peer,
        };
        size_t len;
        enum server_verdict v;
        if (batch_mode) {
            if (nout == chunk_start)
                tx = tx_now(ns);
            /* the kernel sends this reply after the chunk's earlier ones: at least the pace
             * each later than the clock read */
            v = server_answer_now(&ns->server, ns->clientlog, &srx, out[nout].buf, UDP_REPLY_MAX,
                                  &len, tx + (int64_t)(nout - chunk_start) * ns->pace.pace_ns);
        } else {
            v = server_answer(&ns->server, ns->clientlog, &srx, out[nout].buf, UDP_REPLY_MAX, &len,
                              &ns->pend[nout]);
        }
        if (!server_verdict_sends(v) || len == 0) {
            st->ntp_dropped++;
            continue;
        }
        out[nout].to = i;
        out[nout].len = (int)len;
        out[nout].txts = 0;
        if (__builtin_expect(v == SERVER_REPLY_INTERLEAVED, 0) && ns->txts_on) {
            /* the stamp of this reply goes into the client's next one */
            out[nout].txts = 1;
            ns->txts_outstanding++;
            st->txts_requested++;
        }
        nout++;
        if (nout == chunk_end) { /* never in sendmsg mode */
            send_chunk(ns, fd, chunk_start, chunk, tx);
            chunk_start = nout;
            chunk_end = nout + chunk;
        }
    }
    if (batch_mode) {
        if (nout > chunk_start)
            send_chunk(ns, fd, chunk_start, nout - chunk_start, tx);
    } else {
        /* sendmsg: each transmit timestamp read right before its own system call */
        for (int k = 0; k < nout; k++) {
            server_finish(&ns->server, ns->clientlog, out[k].buf, &ns->pend[k], tx_now(ns));
            send_replies(ns, fd, k, 1, 0);
        }
    }
    if (__builtin_expect(ns->txts_outstanding > 0, 0) && udp_batch_txts_refused(ns->batch))
        ns->txts_on = 0; /* a kernel before 4.13: daemon timestamps from now on */
    return n;
}

int ntpserve_read_txts(struct ntpserve *ns, int fd)
{
    int got = 0;
    for (int i = 0; i < UDP_BATCH_MAX; i++) {
        uint8_t buf[256];
        struct udp_txts ts;
        int r = udp_recv_txts(fd, buf, sizeof buf, &ts);
        if (r < 0) {
            /* empty: whatever was not delivered by now will not be (or comes late and wakes
             * poll() by itself) */
            ns->txts_outstanding = 0;
            break;
        }
        if (r == 0 || !ts.payload || ts.to.family == ADDR_UNSPEC)
            continue;
        if (ns->hooks.tx_stamp && ns->hooks.tx_stamp(ns->hooks.ctx, &ts))
            continue;
        got++;
        if (ns->txts_outstanding > 0)
            ns->txts_outstanding--;
        int64_t t =
            ns->hooks.map_rx_ns ? ns->hooks.map_rx_ns(ns->hooks.ctx, ts.tx_real_ns) : ts.tx_real_ns;
        if (server_tx_timestamp(ns->clientlog, &ts.to, ts.payload, ts.payload_len, t))
            ns->stats.ntp_kernel_tx++;
    }
    return got;
}

int ntpserve_txts_outstanding(const struct ntpserve *ns)
{
    return ns->txts_outstanding > 0;
}
