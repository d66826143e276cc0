/* daemon/workers: NTP server worker threads (see workers.h and docs/design/workers.md). */
#include "daemon/workers.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "daemon/conf.h"
#include "daemon/ntpserve.h"
#include "os/snapshot.h"
#include "os/thread.h"
#include "os/udp.h"

/* As the executor's server socket: a request is at most PKT_MAX octets. */
#define PKT_MAX 1024
/* A worker looks at the stop flag at least this often (the shut-down delay it adds). */
#define POLL_MS 200
/* Full batches a worker answers in a row before it polls again. */
#define MAX_BATCHES 16
/* The clock mapping is extrapolated at most this far from its base (a publication comes every
 * second; this bounds d * slope below 2^63 for any slope below 100 %). */
#define MAP_MAX_D_NS (1LL << 32)

_Static_assert(sizeof(struct workers_ref) <= SNAPSHOT_BYTES, "workers_ref must fit a snapshot");

struct worker {
    struct workers *w;
    int index;
    int fds[2];
    int v6[2]; /* fds[j] is an IPv6 socket */
    int nfds;
    struct thread thread;
    /* Held for each batch; the main thread takes it to read the client log and counters, and
     * (all of them) to swap the access table or the keys. */
    struct thread_mutex mu;
    struct clientlog *log;
    /* the batch path (daemon/ntpserve) with this worker's client log; its counters and
     * template are the worker's */
    struct ntpserve *ns;
    /* the worker's own copy of the last publication (no other thread touches it) */
    uint64_t ref_version;
    struct workers_ref ref;
};

struct workers {
    struct workers_params p;
    int n;
    struct worker **k;
    struct snapshot snap;
    atomic_int stop;
    int started;
    int mutexes; /* how many k[i]->mu were initialised */
};

static void lock_all(struct workers *w);
static void unlock_all(struct workers *w);

/* ntpserve's clock hook, on the worker's thread: the engine's clock at system time sys_ns,
 * from the published linear mapping (see struct workers_ref). */
static int64_t map_hook(void *ctx, int64_t sys_ns)
{
    const struct worker *k = ctx;
    int64_t d = sys_ns - k->ref.map_base_ns;
    d = d > MAP_MAX_D_NS ? MAP_MAX_D_NS : d < -MAP_MAX_D_NS ? -MAP_MAX_D_NS : d;
    return sys_ns + k->ref.map_delta_ns + d * k->ref.map_slope / (1LL << WORKERS_MAP_SHIFT);
}

/* A new publication since the last batch: take it (ntpserve rebuilds its reply template). */
static void refresh(struct worker *k)
{
    uint64_t v = snapshot_version(&k->w->snap);
    if (v == k->ref_version)
        return;
    k->ref_version = snapshot_read(&k->w->snap, &k->ref, sizeof k->ref);
    ntpserve_set_ref(k->ns, &k->ref.ref);
}

/* One batch from fd (daemon/ntpserve); returns how many datagrams it held. */
static int serve_batch(struct worker *k, int fd)
{
    thread_mutex_lock(&k->mu);
    refresh(k);
    int n = ntpserve_run(k->ns, fd);
    thread_mutex_unlock(&k->mu);
    return n;
}

static void worker_main(void *arg)
{
    struct worker *k = arg;
    while (!atomic_load_explicit(&k->w->stop, memory_order_acquire)) {
        int ready = udp_wait_readable(k->fds, k->nfds, POLL_MS);
        if (ready <= 0)
            continue;
        for (int j = 0; j < k->nfds; j++) {
            if (!(ready & (1 << j)))
                continue;
            for (int b = 0; b < MAX_BATCHES && serve_batch(k, k->fds[j]) == UDP_BATCH_MAX; b++)
                ;
        }
    }
}

static void worker_free(struct worker *k)
{
    if (!k)
        return;
    for (int j = 0; j < k->nfds; j++)
        udp_close(k->fds[j]);
    ntpserve_free(k->ns);
    clientlog_free(k->log);
    free(k);
}

struct workers *workers_new(const struct workers_params *p)
{
    if (p->n < 1 || p->n > CONF_MAX_SERVERWORKERS)
        return NULL;
    struct workers *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->p = *p;
    w->n = p->n;
    snapshot_init(&w->snap);
    atomic_init(&w->stop, 0);
    w->k = calloc((size_t)p->n, sizeof *w->k);
    if (!w->k)
        goto fail;
    size_t limit = p->clientloglimit ? p->clientloglimit : CLIENTLOG_DEFAULT_LIMIT;
    for (int i = 0; i < p->n; i++) {
        /* each in an allocation of its own, cache-line aligned: no false sharing */
        size_t size = (sizeof(struct worker) + 63) & ~(size_t)63;
        struct worker *k = aligned_alloc(64, size);
        if (!k)
            goto fail;
        memset(k, 0, sizeof *k);
        w->k[i] = k;
        k->w = w;
        k->index = i;
        struct clientlog_params cp;
        clientlog_params_default(&cp);
        cp.disabled = p->noclientlog;
        cp.limit_bytes = limit / (size_t)p->n;
        if (p->ntp_ratelimit.enabled)
            cp.limit[CLIENTLOG_NTP] = p->ntp_ratelimit;
        cp.seed = p->seed ^ (0xbf58476d1ce4e5b9ULL * (uint64_t)(i + 1));
        k->log = clientlog_new(&cp);
        struct ntpserve_params np;
        ntpserve_params_default(&np);
        np.seed = p->seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
        np.send_batch = p->send_batch;
        struct ntpserve_hooks h = {.ctx = k, .map_rx_ns = map_hook, .classify = NULL};
        /* no access table yet: every request is denied until workers_set_access() */
        k->ns = k->log ? ntpserve_new(&np, PKT_MAX, k->log, NULL, &h) : NULL;
        if (!k->ns || thread_mutex_init(&k->mu) != 0)
            goto fail;
        w->mutexes++;
    }
    return w;
fail:
    workers_free(w);
    return NULL;
}

/* Opens worker sockets for one family: every worker's, or none. */
static int open_family(struct workers *w, enum addr_family fam)
{
    struct addr local = fam == ADDR_INET6 ? w->p.bind6 : w->p.bind4;
    local.family = fam;
    local.port = (uint16_t)w->p.port;
    int fds[CONF_MAX_SERVERWORKERS];
    for (int i = 0; i < w->n; i++) {
        fds[i] = udp_open(&local, UDP_OPEN_REUSEADDR | UDP_OPEN_REUSEPORT |
                                      UDP_OPEN_PKTINFO_IF_WILDCARD | UDP_OPEN_RX_TIMESTAMPNS);
        if (fds[i] < 0) {
            char t[ADDR_TEXT_MAX];
            log_warn("Could not open NTP worker socket on %s port %d : %s",
                     addr_format(&local, t, sizeof t), w->p.port, strerror(-fds[i]));
            for (int j = 0; j < i; j++)
                udp_close(fds[j]);
            return 0;
        }
        /* room for bursts, as the main thread's socket (executor.c) */
        (void)udp_set_rcvbuf(fds[i], NTPSERVE_RCVBUF_BYTES);
    }
    /* The group numbers its sockets in bind order: worker i's is number i. */
    int r = udp_steer_by_address(fds[0], w->n, fam == ADDR_INET6);
    if (r < 0)
        log_warn("Could not steer NTP clients to workers by address (%s): the kernel spreads "
                 "them by address and port",
                 strerror(-r));
    if (!udp_has_kernel_timestamps(fds[0]))
        log_warn("No kernel receive timestamps on the NTP socket: using daemon timestamps");
    for (int i = 0; i < w->n; i++) {
        struct worker *k = w->k[i];
        k->v6[k->nfds] = fam == ADDR_INET6;
        k->fds[k->nfds++] = fds[i];
    }
    return 1;
}

int workers_open(struct workers *w)
{
    int n = 0;
    const struct workers_params *p = &w->p;
    /* as executor_open_server(): a bindaddress of one family keeps the other closed */
    if (p->family != 6 && !(p->bind6.family == ADDR_INET6 && p->bind4.family != ADDR_INET4))
        n += open_family(w, ADDR_INET4);
    if (p->family != 4 && !(p->bind4.family == ADDR_INET4 && p->bind6.family != ADDR_INET6))
        n += open_family(w, ADDR_INET6);
    return n;
}

int workers_start(struct workers *w)
{
    if (w->started)
        return 0;
    for (int i = 0; i < w->n; i++) {
        int r = thread_start(&w->k[i]->thread, worker_main, w->k[i]);
        if (r < 0) {
            workers_stop(w);
            return r;
        }
        w->started = 1;
    }
    w->started = 1;
    return 0;
}

void workers_stop(struct workers *w)
{
    if (!w)
        return;
    atomic_store_explicit(&w->stop, 1, memory_order_release);
    for (int i = 0; i < w->n; i++)
        if (w->k[i])
            thread_join(&w->k[i]->thread);
}

void workers_free(struct workers *w)
{
    if (!w)
        return;
    workers_stop(w);
    if (w->k) {
        for (int i = 0; i < w->n; i++) {
            if (i < w->mutexes && w->k[i])
                thread_mutex_destroy(&w->k[i]->mu);
            worker_free(w->k[i]);
        }
    }
    free(w->k);
    free(w);
}

void workers_publish(struct workers *w, const struct workers_ref *r)
{
    snapshot_publish(&w->snap, r, sizeof *r);
}

void workers_set_access(struct workers *w, const struct access_table *t)
{
    /* Every worker reads the table only in a batch, under its own mutex: with all of them
     * held, none is reading, and each next batch sees the new table (the mutex orders it). */
    lock_all(w);
    for (int i = 0; i < w->n; i++)
        ntpserve_set_access(w->k[i]->ns, t);
    unlock_all(w);
}

/* Takes every worker's mutex, in index order (a worker only ever holds its own, so this
 * cannot deadlock): while they are held no worker is inside a batch. */
static void lock_all(struct workers *w)
{
    for (int i = 0; i < w->n; i++)
        thread_mutex_lock(&w->k[i]->mu);
}

static void unlock_all(struct workers *w)
{
    for (int i = w->n - 1; i >= 0; i--)
        thread_mutex_unlock(&w->k[i]->mu);
}

void workers_set_keys(struct workers *w, const struct keys *keys)
{
    lock_all(w);
    for (int i = 0; i < w->n; i++)
        ntpserve_set_keys(w->k[i]->ns, keys);
    unlock_all(w);
}

int workers_count(const struct workers *w)
{
    return w->n;
}

void workers_get_stats(struct workers *w, int i, struct ntpserve_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int j = 0; j < w->n; j++) {
        if (i >= 0 && j != i)
            continue;
        thread_mutex_lock(&w->k[j]->mu);
        ntpserve_stats_add(out, ntpserve_get_stats(w->k[j]->ns));
        thread_mutex_unlock(&w->k[j]->mu);
    }
}

void workers_clientlog_stats(struct workers *w, struct clientlog_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int j = 0; j < w->n; j++) {
        struct clientlog_stats s;
        thread_mutex_lock(&w->k[j]->mu);
        clientlog_get_stats(w->k[j]->log, &s);
        thread_mutex_unlock(&w->k[j]->mu);
        out->ntp_hits += s.ntp_hits;
        out->nke_hits += s.nke_hits;
        out->cmd_hits += s.cmd_hits;
        out->ntp_drops += s.ntp_drops;
        out->nke_drops += s.nke_drops;
        out->cmd_drops += s.cmd_drops;
        out->log_drops += s.log_drops;
        out->ntp_auth_hits += s.ntp_auth_hits;
        out->ntp_interleaved_hits += s.ntp_interleaved_hits;
        out->ntp_timestamps += s.ntp_timestamps;
        out->ntp_kod_sent += s.ntp_kod_sent;
        /* each worker's span is of its own clients; the largest is a lower bound of the
         * whole's (exact would need the oldest and newest of each) */
        if (s.ntp_span_seconds > out->ntp_span_seconds)
            out->ntp_span_seconds = s.ntp_span_seconds;
    }
}

uint32_t workers_clients_capacity(const struct workers *w)
{
    uint32_t cap = 0;
    for (int j = 0; j < w->n; j++)
        cap += clientlog_capacity(w->k[j]->log); /* fixed at creation: no lock needed */
    return cap;
}

int workers_client_report(struct workers *w, uint32_t index, int64_t now_real_ns,
                          struct clientlog_report *out)
{
    for (int j = 0; j < w->n; j++) {
        uint32_t cap = clientlog_capacity(w->k[j]->log);
        if (index >= cap) {
            index -= cap;
            continue;
        }
        thread_mutex_lock(&w->k[j]->mu);
        int r = clientlog_report(w->k[j]->log, index, now_real_ns, out);
        thread_mutex_unlock(&w->k[j]->mu);
        return r;
    }
    return 0;
}

int workers_port(const struct workers *w, int family)
{
    const struct worker *k = w->k[0];
    for (int j = 0; j < k->nfds; j++) {
        if ((family == 6) != k->v6[j])
            continue;
        int port = udp_local_port(k->fds[j]);
        return port > 0 ? port : 0;
    }
    return 0;
}
