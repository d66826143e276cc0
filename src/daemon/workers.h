/* Optional NTP server worker threads (`serverworkers N`, a tempus extension; off by default so
 * that the default daemon keeps ARCHITECTURE.md's single-threaded system-call surface).
 *
 * N threads, each with its own UDP socket(s) bound to the NTP port with SO_REUSEPORT. A
 * classic BPF program on the group (os/udp udp_steer_by_address) hands every client address
 * to one worker, so that each worker keeps its own clients' records (client log, rate
 * limiting, interleaved timestamps) without sharing them: clientloglimit is split among the
 * workers. Each worker runs the batch receive/answer loop (daemon/ntpserve, the main thread's
 * own path) on its sockets, with its own client log.
 *
 * The main thread keeps the engine, the control sockets and the timers. It publishes:
 *  - the reference snapshot (struct workers_ref: what core/server answers from, and the
 *    system -> engine clock mapping) through a lock-free sequence lock (os/snapshot):
 *    publishing never waits, a worker re-reads it only when its version changed;
 *  - the allow/deny table (core/access, compiled by the executor, shared read-only): a new
 *    one is swapped in under every worker's mutex, after which the executor frees the old one
 *    (a worker holds its mutex for a whole batch, so none can still read the old table); the
 *    symmetric keys the same way.
 * A worker's mutex guards its client log and counters; the main thread takes it to read them
 * (clients, serverstats) for the time of one copy. The packet path never allocates or logs.
 *
 * Every function here is for the main thread only.
 */
#ifndef TEMPUS_DAEMON_WORKERS_H
#define TEMPUS_DAEMON_WORKERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "core/access.h"
#include "core/clientlog.h"
#include "core/keys.h"
#include "core/server.h"
#include "daemon/executor.h"
#include "daemon/ntpserve.h"

struct workers_params {
    int n;                    /* 1..CONF_MAX_SERVERWORKERS */
    int family;               /* 0 = both, 4 or 6 */
    int port;                 /* the NTP port */
    struct addr bind4, bind6; /* bindaddress; ADDR_UNSPEC = wildcard */
    int noclientlog;
    size_t clientloglimit; /* the whole table's bytes (0 = default), split among workers */
    struct clientlog_ratelimit ntp_ratelimit;
    int send_batch; /* batchreplies: sendmmsg (ntpserve_params.send_batch) */
    uint64_t seed;
};

/* What the workers answer from: the reference (core/server) and the mapping of the system
 * clock (CLOCK_REALTIME, the kernel's receive timestamps) to the engine's clock, linear
 * between two publications: engine = system + delta + (system - base) * slope / 2^30. */
#define WORKERS_MAP_SHIFT 30
struct workers_ref {
    struct server_ref ref;
    int64_t map_base_ns;
    int64_t map_delta_ns;
    int64_t map_slope; /* ns per 2^WORKERS_MAP_SHIFT ns */
};

struct workers;

/* Allocates the workers' state (nothing opened, no thread). NULL on ENOMEM or a bad n. */
struct workers *workers_new(const struct workers_params *p);

/* Opens every worker's socket(s) (before the privilege drop: the NTP port is privileged) and
 * steers the groups by address. Returns how many families were opened (0: none, the caller
 * falls back to its own socket), failures logged. */
int workers_open(struct workers *w);

/* Starts the threads (once; after workers_open). 0 or -errno (then none runs). */
int workers_start(struct workers *w);

/* Stops the threads and joins them (idempotent). Called at shut-down: SIGTERM reaches the
 * main thread only (the workers block every signal). */
void workers_stop(struct workers *w);

/* Stops, closes and frees; NULL is a no-op. */
void workers_free(struct workers *w);

/* Publishes r for the workers (they pick it up at their next batch). Never waits. */
void workers_publish(struct workers *w, const struct workers_ref *r);

/* The compiled allow/deny table (core/access; borrowed, shared by all workers; NULL: deny
 * everyone, the state after workers_new). Waits until no worker is in the middle of a batch
 * (at most one batch each): once this returns no worker reads the previous table, which the
 * caller may then free. */
void workers_set_access(struct workers *w, const struct access_table *t);

/* Symmetric keys for MAC'd requests (core/keys; borrowed, NULL: none). Swapped under every
 * worker's mutex: once this returns no worker uses the previous keys, which the caller may
 * then free. */
void workers_set_keys(struct workers *w, const struct keys *keys);

/* Number of workers. */
int workers_count(const struct workers *w);

/* Worker i's ntpserve counters, or the sum over all workers (i = -1). */
void workers_get_stats(struct workers *w, int i, struct ntpserve_stats *out);

/* serverstats: the workers' client log counters, summed (span: the largest). */
void workers_clientlog_stats(struct workers *w, struct clientlog_stats *out);

/* clients: one index space over the workers' tables (worker 0's slots, then worker 1's ...).
 * capacity is the total; report fills *out from slot index (1) or says it is empty (0). */
uint32_t workers_clients_capacity(const struct workers *w);
int workers_client_report(struct workers *w, uint32_t index, int64_t now_real_ns,
                          struct clientlog_report *out);

/* The port the workers' family socket is bound to (0 when none). */
int workers_port(const struct workers *w, int family);

#endif
