/* daemon/ntpserve: the NTP server's packet path over one UDP socket — receive a batch with
 * recvmmsg, check each request against the compiled allow/deny table, answer it with
 * core/server (client log and rate limiting included) into the batch's reply slots, and send
 * the replies with sendmmsg (default; `batchreplies off`: one sendmsg each, its transmit
 * timestamp read right before it). No allocation and no logging per datagram.
 *
 * One struct ntpserve per socket and thread: the daemon's main loop has one (the executor), a
 * worker thread its own. What it borrows (client log, access table, clock hooks) must outlive
 * it and must not change under a running ntpserve_run(); the reference snapshot is copied
 * (ntpserve_set_ref()).
 */
#ifndef TEMPUS_DAEMON_NTPSERVE_H
#define TEMPUS_DAEMON_NTPSERVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/access.h"
#include "core/clientlog.h"
#include "core/clock_ops.h"
#include "core/server.h"
#include "os/udp.h"

/* Counters of one ntpserve (serverstats-like); the executor's and the workers' totals are
 * sums of these (ntpserve_stats_add). */
struct ntpserve_stats {
    uint64_t ntp_rx;         /* datagrams on the socket (truncated ones not counted) */
    uint64_t ntp_denied;     /* dropped by allow/deny */
    uint64_t ntp_replies;    /* replies the kernel took */
    uint64_t ntp_dropped;    /* malformed, not a request, rate-limited without KoD, ... */
    uint64_t send_errors;    /* replies the kernel refused */
    uint64_t ntp_kernel_rx;  /* requests past allow/deny with a kernel receive timestamp */
    uint64_t peer_taken;     /* datagrams the classify hook took (peers' mode 2 answers) */
    uint64_t batches;        /* recvmmsg calls that returned datagrams */
    uint64_t batches_full;   /* ... of them UDP_BATCH_MAX (more was probably queued) */
    uint64_t empty_reads;    /* recvmmsg calls that found nothing (EAGAIN) */
    uint64_t txts_requested; /* interleaved replies sent asking for a kernel TX timestamp */
    uint64_t ntp_kernel_tx;  /* kernel TX timestamps a client's record took (its next
                              * interleaved reply carries it) */
};

/* What the hook says about a datagram (from a configured peer, or not). */
enum ntpserve_class {
    NTPSERVE_CLIENT = 0, /* a request to answer after the allow/deny check */
    NTPSERVE_PEER = 1,   /* a configured peer's request: answered without the check */
    NTPSERVE_TAKEN = 2,  /* the hook consumed it (say, a peer's answer for the engine) */
};

/* Calls out of the packet path. All but ctx may be NULL. Called on the thread that runs
 * ntpserve_run(): a worker's hooks must be thread-safe. */
struct ntpserve_hooks {
    void *ctx;
    /* A system (CLOCK_REALTIME) time in ns on the engine's clock (tempusd -x: offset and
     * frequency of its virtual clock). NULL: the system clock is the engine's clock. Called
     * twice per batch (the path interpolates linearly in between: see ntpserve.c). */
    int64_t (*map_rx_ns)(void *ctx, int64_t system_ns);
    /* Classifies datagram m (mode = its mode field) when set; NULL: every datagram is a
     * client's. The executor sets it only while `peer` sources exist. */
    enum ntpserve_class (*classify)(void *ctx, const struct udp_msg *m, int mode);
    /* Offered each kernel transmit timestamp of the socket first when set: 1 = it was of a
     * datagram the caller sent itself (a peer's symmetric packet), taken; 0 = a reply's. */
    int (*tx_stamp)(void *ctx, const struct udp_txts *ts);
};

struct ntpserve_params {
    struct server_params server; /* precision, interleaved, answer_unknown_active */
    uint64_t seed;               /* timestamp fuzz */
    /* 1 (default): the replies of a batch leave with sendmmsg (in chunks of
     * NTPSERVE_SEND_CHUNK, a full batch in one, each with one transmit clock read just before
     * it, reply j of it
     * stamped that + j x the send pace: ntpserve_pace_add()), falling
     * back to sendmsg for good if the kernel or a filter refuses sendmmsg. 0: one sendmsg
     * per reply, its transmit timestamp read right before it (chronyd's way). */
    int send_batch;
    /* 1: every interleaved reply asks the kernel for its transmit timestamp, which becomes
     * the one the client's next interleaved reply carries (ntpserve_read_txts() must then be
     * called when the socket's error queue has something: see there). Basic replies never
     * ask: the basic-mode path pays one store per reply. 0 (default): daemon timestamps. */
    int tx_timestamps;
};

/* Replies per sendmmsg call, and per transmit clock read in batch mode, for a batch that was
 * not full (UDP_BATCH_MAX): bounds how early a reply's transmit timestamp can be (~1.5 us a
 * reply here). A full batch means a queue (a flood): its replies leave with one sendmmsg
 * (session 7: a system call costs ~2-3 us on this VM, and chunks of 16 cost 3 more per 64
 * replies, ~7 % of a reply's CPU time at saturation). In either, reply j of a chunk carries
 * the clock read before the chunk was answered plus j times the send pace
 * (ntpserve_pace_add()): its transmit timestamp follows the kernel's sends instead of staying
 * at the chunk's start. */
#define NTPSERVE_SEND_CHUNK 16

/* The send pace: ns per reply from the clock read before a chunk is answered to the clock
 * read after its sendmmsg returned, as a lower bound (7/8 of the least sample of the last
 * NTPSERVE_PACE_WINDOW to 2 x NTPSERVE_PACE_WINDOW chunks). Samples come only from chunks of
 * at least NTPSERVE_PACE_MIN_REPLIES (the system call's own cost then shared by enough replies)
 * and of at most NTPSERVE_PACE_MAX_NS a reply (more: preempted, or the clock stepped). */
#define NTPSERVE_PACE_MIN_REPLIES 16
#define NTPSERVE_PACE_MAX_NS      20000
#define NTPSERVE_PACE_WINDOW      64

struct ntpserve_pace {
    int64_t pace_ns;     /* what replies use: 0 until a window is complete */
    int64_t cur_min_ns;  /* least sample of the window being filled (INT64_MAX: none) */
    int64_t prev_min_ns; /* least sample of the last complete window (0: none yet) */
    int n;               /* samples in the current window */
};

/* An empty estimate (pace 0: every reply of a chunk carries the chunk's clock read). */
void ntpserve_pace_init(struct ntpserve_pace *p);

/* Adds a chunk of count replies that took elapsed_ns from the clock read before it was
 * answered to the return of its send. The pace becomes 7/8 of the least sample of the
 * current and the last complete window: a lower sample lowers it at once, a higher one
 * raises it only once a whole window saw nothing lower, so a chunk the scheduler delayed
 * does not make later replies' transmit timestamps (read + j x pace) late. Samples outside
 * the bounds above are ignored. Pure; exported for the unit tests. */
void ntpserve_pace_add(struct ntpserve_pace *p, int64_t elapsed_ns, int count);

/* Defaults: server_params_default(), seed 0, send_batch 1. */
void ntpserve_params_default(struct ntpserve_params *p);

struct ntpserve;

/* A new path with its own receive batch (UDP_BATCH_MAX datagrams of pkt_max bytes) and
 * reply slots. clientlog (may be NULL: no client log, no rate limiting, no interleaved mode),
 * clock (read for transmit timestamps only when hooks->map_rx_ns is NULL: tests) and hooks are
 * borrowed. Answers nothing until ntpserve_set_ref() and ntpserve_set_access(). NULL on
 * ENOMEM. */
struct ntpserve *ntpserve_new(const struct ntpserve_params *p, size_t pkt_max,
                              struct clientlog *clientlog, const struct clock_ops *clock,
                              const struct ntpserve_hooks *hooks);
void ntpserve_free(struct ntpserve *ns);

/* Publishes a new reference snapshot (copied; server_prepare()). Until the first one, every
 * request is answered as unsynchronised. */
void ntpserve_set_ref(struct ntpserve *ns, const struct server_ref *ref);

/* The symmetric keys requests with a MAC are checked against (borrowed; NULL: none, every
 * MAC is dropped). */
void ntpserve_set_keys(struct ntpserve *ns, const struct keys *keys);

/* The allow/deny table requests are checked against (borrowed; NULL: deny everyone). */
void ntpserve_set_access(struct ntpserve *ns, const struct access_table *t);

/* Replaces the hooks (copied; NULL: none). Not during ntpserve_run(). */
void ntpserve_set_hooks(struct ntpserve *ns, const struct ntpserve_hooks *hooks);

/* Sends replies with sendmmsg (1) or sendmsg (0) from now on. */
void ntpserve_set_send_batch(struct ntpserve *ns, int on);

/* 1 while replies leave with sendmmsg: 0 after the kernel refused it (the caller may log the
 * fallback once). */
int ntpserve_send_batch_active(const struct ntpserve *ns);

/* One batch on fd: one recvmmsg of up to UDP_BATCH_MAX datagrams, every one answered or
 * dropped, the replies sent. Returns the number of datagrams received (> 0), -EAGAIN when
 * none was queued, or another -errno from recvmmsg. */
int ntpserve_run(struct ntpserve *ns, int fd);

/* Runs batches (ntpserve_run()) while they come back full, at most max_batches of them: one
 * wake-up of the caller's poll() then drains a flood's queue instead of a batch of it, and
 * the bound leaves the caller's timers their turn (max_batches x UDP_BATCH_MAX requests, about
 * 1 ms of work). Returns the datagrams received in all, or what the first ntpserve_run()
 * returned when it found none (-EAGAIN, -errno). */
int ntpserve_drain(struct ntpserve *ns, int fd, int max_batches);

/* Batches a drain runs at most per wake-up (the main loop's and a worker's). */
#define NTPSERVE_DRAIN_BATCHES 16

/* Receive buffer asked for on server sockets (udp_set_rcvbuf): a flood arrives in bursts
 * (a client's sendmmsg, the scheduler) and the default (net.core.rmem_default, 208 KiB: about
 * 270 small datagrams) overflows while the daemon answers the previous burst. */
#define NTPSERVE_RCVBUF_BYTES (4 << 20)

#ifdef NTPSERVE_BATCH_HIST
/* Build with -DNTPSERVE_BATCH_HIST (a debugging aid, off by default): how many batches held
 * 0..UDP_BATCH_MAX datagrams (index 0: the empty reads). */
const uint64_t *ntpserve_batch_hist(const struct ntpserve *ns);
#endif

/* Reads the kernel transmit timestamps on fd's error queue (tx_timestamps): each becomes its
 * client's saved transmit time (server_tx_timestamp()). Call it before a batch while
 * ntpserve_txts_outstanding() says stamps are due, and whenever fd woke poll() without a
 * datagram (a late stamp: poll() reports POLLERR until the queue is read). Returns the number
 * of stamps read. */
int ntpserve_read_txts(struct ntpserve *ns, int fd);

/* 1 while replies asked for transmit timestamps that were not read yet. */
int ntpserve_txts_outstanding(const struct ntpserve *ns);

/* The current send pace, ns per reply (0 until measured; ntpserve_pace_add()). */
int64_t ntpserve_send_pace_ns(const struct ntpserve *ns);

/* The counters since ntpserve_new(). */
const struct ntpserve_stats *ntpserve_get_stats(const struct ntpserve *ns);

/* sum += s, counter by counter (the executor's and the workers' totals). */
void ntpserve_stats_add(struct ntpserve_stats *sum, const struct ntpserve_stats *s);

/* The server state (verdict counters). */
const struct server *ntpserve_server(const struct ntpserve *ns);

#endif
