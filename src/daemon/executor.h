/* The executor: turns the engine's actions into os/ calls and network events into engine
 * calls. It owns every NTP socket of the daemon:
 *  - per server/pool source, a fresh socket on a random port for each request (RFC 9109;
 *    chronyd's default without acquisitionport), watched until the next request;
 *  - with acquisitionport N, one shared socket per family bound to N;
 *  - the server socket(s) on `port` (IPv4 and IPv6), which answer mode 3 requests through
 *    core/server (allow/deny checked first; `local stratum` when unsynchronised) and carry
 *    the symmetric mode traffic of `peer` sources.
 * It keeps one loop timer armed at engine_next_timeout_mono_ns() and calls after_engine()
 * after every engine call, which is where the daemon looks at reports (logs, one-shot).
 */
#ifndef TEMPUS_DAEMON_EXECUTOR_H
#define TEMPUS_DAEMON_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "core/access.h"
#include "core/clientlog.h"
#include "core/clock_ops.h"
#include "core/keys.h"
#include "daemon/ntpserve.h"

struct engine;
struct loop;
struct conf_access;
struct clientlog;

/* Allow/deny rules (NTP service and control access) are core/access's struct access_rule. */

#define EXECUTOR_MAX_RULES   256
#define EXECUTOR_MAX_SOURCES 128

struct executor_params {
    int family;               /* 0 = both, 4 or 6 (-4 / -6) */
    int server_port;          /* 0 = no server socket */
    struct addr bind4, bind6; /* bindaddress; ADDR_UNSPEC = wildcard */
    int acquisition_port;     /* <= 0: random port per request */
    struct addr bindacq4, bindacq6;
    struct access_rule rules[EXECUTOR_MAX_RULES];
    size_t n_rules;
    int local_enabled; /* local stratum N when not synchronised */
    int local_stratum;
    double local_distance_s;
    /* `local orphan`, and later chrony's activate (4.6) and waitsynced/waitunsynced (4.7):
     * see executor_local_rule(). 0 = off. */
    int local_orphan;
    double local_activate_s, local_waitsynced_s, local_waitunsynced_s;
    int noclientlog;
    size_t clientloglimit;
    /* `ratelimit`: enabled 0 = off (all-zero params); kod_log2 -1 = no KoD */
    struct clientlog_ratelimit ntp_ratelimit;
    /* 1 (the daemon's default; `nobatchreplies` = 0): the replies of one recvmmsg batch leave
     * with sendmmsg in chunks of NTPSERVE_SEND_CHUNK, each with one transmit timestamp taken
     * just before it, falling back to sendmsg by itself where sendmmsg is refused (so the
     * default does not need it: ARCHITECTURE.md). 0: one sendmsg per reply, its transmit
     * timestamp taken right before it (chronyd's way). */
    int send_batch;
    /* serverworkers (tempus extension): > 0 answers NTP clients in that many threads with
     * SO_REUSEPORT sockets of their own (daemon/workers) instead of the main thread's server
     * socket; 0 (default): single-threaded. The daemon leaves it 0 when a peer is configured
     * (symmetric traffic needs the main thread on the NTP port). */
    int server_workers;
    uint64_t seed;
};

struct executor_callbacks {
    void *ctx;
    /* Maps a kernel receive timestamp (CLOCK_REALTIME) to the engine's clock. */
    int64_t (*map_rx_ns)(void *ctx, int64_t system_ns);
    /* Called after every engine call (packet in, timers run). May be NULL. */
    void (*after_engine)(void *ctx);
    /* `smoothtime` (NULL without it): the time served to NTP clients for a kernel timestamp
     * (map_rx_ns plus the smoothing offset), used instead of map_rx_ns on the server path
     * only; and the served reference adjusted for it (refid 127.127.1.255 and the reference
     * time shifted while smoothing). Both set or both NULL. */
    int64_t (*serve_map_ns)(void *ctx, int64_t system_ns);
    void (*serve_ref)(void *ctx, struct server_ref *ref);
};

/* Counters (serverstats-like). */
struct executor_stats {
    /* the server sockets': the executor's own ntpserve plus every worker's */
    struct ntpserve_stats server;
    uint64_t source_rx;      /* datagrams handed to the engine */
    uint64_t source_ignored; /* from an unexpected address/port */
    uint64_t send_errors;    /* requests to sources that did not leave */
    uint64_t kernel_rx_ts;   /* source datagrams with a kernel receive timestamp */
    /* client requests: T1 from a kernel transmit timestamp; replies held for one; held
     * replies that went to the engine without one (T1 = the clock read before the send) */
    uint64_t kernel_tx_ts;
    uint64_t tx_ts_held;
    uint64_t tx_ts_missed;
};

struct executor;

/* The served time's smoothing changed (a command, its activation): the server's reference is
 * rebuilt now rather than within the second. */
void executor_ref_changed(struct executor *x);

/* A new executor (nothing opened yet). engine, loop and clock are borrowed and must outlive
 * it. NULL on ENOMEM. */
struct executor *executor_new(const struct executor_params *p, struct loop *loop,
                              struct engine *engine, const struct clock_ops *clock,
                              const struct executor_callbacks *cb);
/* Closes every socket and frees; NULL is a no-op. */
void executor_free(struct executor *x);

/* Opens the server socket(s) if server_port != 0. Failures are logged, not fatal (an IPv6
 * socket on a host without IPv6 is a warning). Returns how many were opened. */
int executor_open_server(struct executor *x);

/* Registers the engine source source_id with its remote address (and port). peer: its
 * traffic goes through the server socket when there is one. 0, -ENOSPC, -EEXIST. */
int executor_add_source(struct executor *x, int source_id, const struct addr *remote, int peer);

/* Forgets the source source_id (after engine_remove_source()): closes its request sockets,
 * so that a source added again with the same address and port gets its replies. 0 or
 * -ENOENT. */
int executor_remove_source(struct executor *x, int source_id);

/* Replaces the allow/deny rules of NTP service (chronyc allow/deny at run time); n is
 * clamped to EXECUTOR_MAX_RULES. rules is copied. */
void executor_set_rules(struct executor *x, const struct access_rule *rules, size_t n);

/* The symmetric keys the NTP server checks and signs with (borrowed until the next call;
 * NULL: none, every request with a MAC is dropped). */
void executor_set_keys(struct executor *x, const struct keys *keys);

/* `local` at run time: on (stratum, distance_s) or off. */
void executor_set_local(struct executor *x, int on, int stratum, double distance_s);
/* `local` at run time with every option (LOCAL3): p's local_* fields are taken. */
void executor_set_local_params(struct executor *x, const struct executor_params *p);

/* The NTP server's client log (clients, serverstats); borrowed, lives as long as x. */
const struct clientlog *executor_clientlog(const struct executor *x);

/* Arms the engine's timer (call once the sources are added). */
void executor_start(struct executor *x);

/* The answer allow/deny gives for addr (1 allowed, 0 denied): the most specific matching
 * rule wins, the later of two equally specific ones, and an `all` rule overrides earlier
 * more specific ones; no match = denied (chronyd's default). Pure. */
int executor_access_allowed(const struct access_rule *rules, size_t n, const struct addr *addr);

/* The one rule for `local`: 1 when the server answers from the local reference instead of
 * the engine's, i.e. local is enabled and the engine is not synchronised or its root distance
 * (seconds) exceeds `local distance`. Both what clients are served and what `tracking`
 * reports follow it, so they cannot disagree. */
int executor_local_in_use(int synced, double root_distance_s, int local_enabled,
                          double local_distance_s);

/* What executor_local_rule() remembers between calls (zero it, then set start_mono_ns). */
struct executor_local_state {
    int activated;             /* root distance was below `activate` at some point */
    int ever_synced;           /* the upstream reference was usable at some point */
    int64_t last_sync_mono_ns; /* the last time it was (valid when ever_synced) */
    int64_t start_mono_ns;     /* when `local` was enabled (waitunsynced counts from it) */
    int upstream_usable;       /* out: the last call found the upstream reference usable */
};

/* What the engine says now, for executor_local_rule(). */
struct executor_local_in {
    int synced;             /* the engine has a selected source */
    double root_distance_s; /* its root delay / 2 + root dispersion */
    int source_stratum;     /* the selected source's stratum (our stratum - 1) */
    uint32_t source_refid;  /* its refid (from its address) */
    uint32_t own_refid;     /* our address towards it as a refid (0: unknown) */
    int64_t now_mono_ns;
};

/* The full `local` rule with p's local_* options; updates st. 1 when the local reference is
 * in use. The upstream reference is usable when synced and, with orphan, its source's
 * stratum is below local stratum, or equal and its refid below own_refid (chrony's orphan
 * mode: the orphan with the smallest refid serves, the others follow it). Local is used
 * when upstream is unusable or its root distance exceeds `distance`, and then only
 * once the root distance was below `activate` at some point (activate > 0), and only
 * `waitsynced` seconds after upstream was last usable, or, when it never was, `waitunsynced`
 * seconds after start. */
int executor_local_rule(const struct executor_params *p, struct executor_local_state *st,
                        const struct executor_local_in *in);

/* executor_local_rule() for the executor's engine now (what the server answers with and
 * what `tracking` shows). */
int executor_local_active(struct executor *x, int64_t now_mono_ns);

void executor_get_stats(const struct executor *x, struct executor_stats *s);

/* 1 when source_id's last datagram carried a kernel receive timestamp, 0 when it was a
 * daemon timestamp, -ENOENT for an unknown source (measurements.log's RX column). */
int executor_last_rx_kernel(const struct executor *x, int source_id);

/* Receive timestamping of the source with address a (and port, when a->port != 0), for
 * ntpdata: *last_kernel 1 when its last datagram had a kernel receive timestamp, *n_kernel
 * how many of its datagrams had one. 0, or -ENOENT when no source has that address. */
int executor_source_rx_ts(const struct executor *x, const struct addr *a, int *last_kernel,
                          uint32_t *n_kernel);

/* The NTP server's client log counters for serverstats: the executor's log, or with
 * server workers the sum of theirs. */
void executor_ntp_stats(struct executor *x, struct clientlog_stats *out);

/* `clients`: the NTP server's client records, one index space (with workers, over all of
 * their tables). capacity = number of slots; report fills *out from one slot: 1, or 0 when
 * it is empty. */
uint32_t executor_clients_capacity(const struct executor *x);
int executor_client_report(struct executor *x, uint32_t index, int64_t now_real_ns,
                           struct clientlog_report *out);

/* Number of server worker threads running (0: the main thread answers). */
int executor_server_workers(const struct executor *x);

/* Our address that the replies of the source with address a (and port, when a->port != 0)
 * came to (IP_PKTINFO), for ntpdata's Local address. 0 with *local set, or -ENOENT (no such
 * source, or no reply with that information yet). */
int executor_source_local_addr(const struct executor *x, const struct addr *a, struct addr *local);

/* For tests: the order the request sockets' error queues are read in. 0 (normal): the
 * kernel transmit timestamps first, then the replies; 1: the replies first (each is held,
 * then released by its request's stamp); 2: the stamps are read and thrown away (held
 * replies go to the engine after the hold, with the clock read as T1). */
void executor_test_txts_order(struct executor *x, int mode);

/* The server sockets' ports (0 when closed), for tests and logs. */
int executor_server_port(const struct executor *x, int family);

#endif
