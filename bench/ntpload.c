/* ntpload: an NTP client load generator for measuring servers on loopback.
 *
 * Sends mode-3 (client) requests from many source addresses in 127.0.0.0/8 and many source ports
 * at a fixed rate (open loop) or as fast as the server answers (closed loop with a bounded
 * window), checks every reply (length, mode, version, origin timestamp == the request's transmit
 * timestamp, arrival socket) and reports replies/s, loss and latency percentiles.
 *
 * Source addresses: the sockets are bound to 0.0.0.0 on an ephemeral port and every request
 * carries an IP_PKTINFO control message naming its source address, so N addresses x P ports
 * distinct sources need only P sockets. Replies to 127.x.y.z:port come back to the socket of that
 * port. Only 127.0.0.0/8 servers are accepted (the machine's rule: loopback only).
 *
 * Every run is bounded: at most MAX_DURATION_S seconds of sending and MAX_COUNT requests, then
 * at most one reply timeout of draining.
 *
 * Exit status: 0 ok, 1 usage or setup error, 2 a reply failed a check (bad origin, malformed,
 * duplicate, wrong socket), 3 loss above --max-loss.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NTP_LEN        48
#define RX_BUF_LEN     128 /* larger than any valid reply to a 48-byte request: detects growth */
#define MAX_BATCH      256
#define MAX_SOCKS      256
#define MAX_DURATION_S 60
#define MAX_COUNT      100000000ULL
#define RING_LOG2      20 /* outstanding-request slots: 1M covers 1 s of timeout at 1M req/s */
#define RING_SIZE      (1ULL << RING_LOG2)
#define RING_MASK      (RING_SIZE - 1)
#define NS_PER_S       1000000000ULL

/* Latency histogram: 100 ns steps to 1 ms, 10 us steps to 100 ms, 1 ms steps to 10 s, then one
 * overflow bucket. Fixed memory whatever the count; resolution well below loopback latencies. */
#define H1_N     10000
#define H2_N     9900
#define H3_N     9900
#define H_N      (H1_N + H2_N + H3_N + 1)
#define H1_STEP  100ULL
#define H2_STEP  10000ULL
#define H3_STEP  1000000ULL
#define H1_LIMIT (H1_N * H1_STEP)
#define H2_LIMIT (H1_LIMIT + H2_N * H2_STEP)
#define H3_LIMIT (H2_LIMIT + H3_N * H3_STEP)

#define TE_STEP   100
#define TE_OFF_NS 500000LL /* -0.5 ms .. +4.5 ms */
#define TE_N      50000

enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_REPLIED, SLOT_EXPIRED };

struct slot {
    uint64_t tx_mono_ns;
    uint64_t origin;
    uint32_t sock;
    uint32_t state;
};

struct options {
    struct sockaddr_in server;
    double rate;         /* requests/s; 0 = closed loop at max rate */
    double duration_s;   /* sending phase */
    uint64_t count;      /* max requests */
    uint32_t n_addrs;    /* distinct source addresses */
    uint32_t n_socks;    /* distinct source ports */
    uint32_t batch;      /* requests per sendmmsg */
    uint32_t window;     /* max in flight in max-rate mode */
    uint64_t timeout_ns; /* a request without reply after this is lost */
    uint32_t version;    /* NTP version of the requests */
    double max_loss_pct; /* exit 3 above this; < 0: no check */
    const char *label;   /* first CSV column */
    bool csv, header, quiet;
    bool txerr; /* -T: kernel receive stamps on the sockets, each reply's (stamp - its T3) */
};

struct stats {
    uint64_t sent, send_errors;
    uint64_t replied, late, dup, bad_origin, malformed, wrong_sock, kod, expired;
    uint64_t first_tx_ns, last_tx_ns, last_rx_ns;
    uint64_t latency_max_ns;
    uint64_t hist[H_N];
    /* -T: how much earlier than it left the server (the kernel's receive stamp of the reply:
     * on loopback the server's send runs the delivery) its transmit timestamp says it left,
     * TE_STEP ns buckets from -TE_OFF_NS; clamped at both ends */
    uint64_t te_n, te_hist[TE_N];
    int64_t te_min_ns, te_max_ns;
};

struct load {
    struct options opt;
    int fds[MAX_SOCKS];
    struct slot *ring;
    uint64_t tail; /* all requests below this sequence number are resolved */
    uint32_t key;  /* XORed into the low half of each origin: hides the sequence number */
    uint64_t prng; /* xorshift64 state for the random high half of each origin */
    struct stats st;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static size_t hist_bucket(uint64_t ns)
{
    if (ns < H1_LIMIT)
        return (size_t)(ns / H1_STEP);
    if (ns < H2_LIMIT)
        return H1_N + (size_t)((ns - H1_LIMIT) / H2_STEP);
    if (ns < H3_LIMIT)
        return H1_N + H2_N + (size_t)((ns - H2_LIMIT) / H3_STEP);
    return H_N - 1;
}

/* Upper bound of a bucket in ns (the conservative value to report). */
static uint64_t hist_upper_ns(size_t b)
{
    if (b < H1_N)
        return (b + 1) * H1_STEP;
    if (b < H1_N + H2_N)
        return H1_LIMIT + (b - H1_N + 1) * H2_STEP;
    if (b < H_N - 1)
        return H2_LIMIT + (b - H1_N - H2_N + 1) * H3_STEP;
    return UINT64_MAX;
}

/* Latency in ns at quantile q (0..1) of the on-time replies; 0 when there are none. */
static uint64_t hist_quantile_ns(const struct stats *st, double q)
{
    if (st->replied == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)st->replied);
    if (rank >= st->replied)
        rank = st->replied - 1;
    uint64_t seen = 0;
    for (size_t b = 0; b < H_N; b++) {
        seen += st->hist[b];
        if (seen > rank)
            return b == H_N - 1 ? st->latency_max_ns : hist_upper_ns(b);
    }
    return st->latency_max_ns;
}

/* i-th source address: 127.A.B.C with A in 1..254, C in 1..254, spread over 127/8 and never
 * 127.0.0.x, so sources cannot collide with the server's own 127.0.0.1. */
static uint32_t source_addr(uint32_t i)
{
    uint32_t c = 1 + i % 254;
    uint32_t b = (i / 254) % 256;
    uint32_t a = 1 + (i / (254 * 256)) % 254;
    return (127U << 24) | (a << 16) | (b << 8) | c;
}

/* Requests are numbered; request s comes from address s % n_addrs through socket
 * (s / run) % n_socks with run = max(n_addrs, batch): every (address, port) pair is used within
 * n_addrs * n_socks requests when n_addrs >= batch, and a batch never spans two sockets. */
static uint64_t run_length(const struct options *o)
{
    return o->n_addrs > o->batch ? o->n_addrs : o->batch;
}

static void resolve_tail(struct load *ld, uint64_t now)
{
    while (ld->tail < ld->st.sent) {
        struct slot *sl = &ld->ring[ld->tail & RING_MASK];
        if (sl->state == SLOT_PENDING) {
            if (now - sl->tx_mono_ns < ld->opt.timeout_ns)
                break;
            sl->state = SLOT_EXPIRED;
            ld->st.expired++;
        }
        ld->tail++;
    }
}

static uint64_t in_flight(const struct load *ld)
{
    return ld->st.sent - ld->st.replied - ld->st.expired;
}

/* Sends up to n requests (n <= batch, all from one socket); returns how many were sent. */
static uint32_t send_batch(struct load *ld, uint32_t n)
{
    static unsigned char pkts[MAX_BATCH][NTP_LEN];
    static union {
        size_t align; /* cmsghdr alignment */
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
    } cbufs[MAX_BATCH];
    static struct mmsghdr msgs[MAX_BATCH];
    static struct iovec iovs[MAX_BATCH];
    const struct options *o = &ld->opt;
    uint64_t first = ld->st.sent;
    uint64_t run = run_length(o);
    uint32_t sock = (uint32_t)((first / run) % o->n_socks);
    uint64_t left_in_run = run - first % run;
    if (n > left_in_run)
        n = (uint32_t)left_in_run;
    /* Never overwrite a slot that is still pending: expire it early (counts as lost). */
    while (first + n - ld->tail > RING_SIZE) {
        struct slot *sl = &ld->ring[ld->tail & RING_MASK];
        if (sl->state == SLOT_PENDING) {
            sl->state = SLOT_EXPIRED;
            ld->st.expired++;
        }
        ld->tail++;
    }

    uint64_t origins[MAX_BATCH];
    for (uint32_t i = 0; i < n; i++) {
        uint64_t seq = first + i;
        unsigned char *p = pkts[i];
        memset(p, 0, NTP_LEN);
        p[0] = (unsigned char)((o->version << 3) | 3); /* LI 0, VN, mode 3 (client) */
        p[2] = 6;                                      /* poll 2^6 s */
        p[3] = 0x20;                                   /* precision, as chrony's client */
        origins[i] =
            (xorshift64(&ld->prng) & 0xffffffff00000000ULL) | (uint32_t)((uint32_t)seq ^ ld->key);
        put_be64(p + 40, origins[i]);
        iovs[i].iov_base = p;
        iovs[i].iov_len = NTP_LEN;
        memset(&cbufs[i], 0, sizeof(cbufs[i]));
        struct msghdr *mh = &msgs[i].msg_hdr;
        memset(mh, 0, sizeof(*mh));
        mh->msg_name = (void *)&o->server;
        mh->msg_namelen = sizeof(o->server);
        mh->msg_iov = &iovs[i];
        mh->msg_iovlen = 1;
        mh->msg_control = cbufs[i].buf;
        mh->msg_controllen = sizeof(cbufs[i].buf);
        struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
        cm->cmsg_level = IPPROTO_IP;
        cm->cmsg_type = IP_PKTINFO;
        cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof(pi));
        pi.ipi_spec_dst.s_addr = htonl(source_addr((uint32_t)(seq % o->n_addrs)));
        memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
    }
    uint64_t now = mono_ns();
    int r = sendmmsg(ld->fds[sock], msgs, n, 0);
    if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ENOBUFS)
            ld->st.send_errors++;
        return 0;
    }
    for (int i = 0; i < r; i++) {
        struct slot *sl = &ld->ring[(first + (uint64_t)i) & RING_MASK];
        sl->tx_mono_ns = now;
        sl->origin = origins[i];
        sl->sock = sock;
        sl->state = SLOT_PENDING;
    }
    if (first == 0)
        ld->st.first_tx_ns = now;
    ld->st.last_tx_ns = now;
    ld->st.sent += (uint64_t)r;
    return (uint32_t)r;
}

/* -T: the reply's transmit timestamp (NTP era 0) against the kernel's receive stamp. */
static void tx_error(struct stats *st, const unsigned char *p, int64_t stamp_ns)
{
    uint64_t t3 = get_be64(p + 40);
    int64_t sec = (int64_t)(t3 >> 32) - 2208988800LL;
    int64_t t3_ns = sec * (int64_t)NS_PER_S + (int64_t)(((t3 & 0xffffffffULL) * NS_PER_S) >> 32);
    int64_t e = stamp_ns - t3_ns;
    if (st->te_n == 0 || e < st->te_min_ns)
        st->te_min_ns = e;
    if (st->te_n == 0 || e > st->te_max_ns)
        st->te_max_ns = e;
    st->te_n++;
    int64_t b = (e + TE_OFF_NS) / TE_STEP;
    st->te_hist[b < 0 ? 0 : b >= TE_N ? TE_N - 1 : b]++;
}

static double te_quantile_us(const struct stats *st, double q)
{
    uint64_t want = (uint64_t)(q * (double)st->te_n), seen = 0;
    for (size_t b = 0; b < TE_N; b++) {
        seen += st->te_hist[b];
        if (seen > want)
            return (double)((int64_t)(b + 1) * TE_STEP - TE_OFF_NS) / 1e3;
    }
    return (double)st->te_max_ns / 1e3;
}

static void check_reply(struct load *ld, uint32_t sock, const unsigned char *p, size_t len,
                        int flags, uint64_t now, int64_t stamp_ns)
{
    struct stats *st = &ld->st;
    if (len < NTP_LEN || (flags & MSG_TRUNC) || (p[0] & 7) != 4 ||
        (uint32_t)((p[0] >> 3) & 7) != ld->opt.version) {
        st->malformed++;
        return;
    }
    uint64_t origin = get_be64(p + 24);
    uint32_t seq32 = (uint32_t)origin ^ ld->key;
    /* Reconstruct the full sequence number from its low 32 bits: it is at most 2^32 behind. */
    uint64_t back = (uint32_t)((uint32_t)st->sent - seq32);
    if (back == 0 || back > st->sent || back > RING_SIZE) {
        st->bad_origin++;
        return;
    }
    uint64_t seq = st->sent - back;
    struct slot *sl = &ld->ring[seq & RING_MASK];
    if (sl->origin != origin || sl->state == SLOT_FREE) {
        st->bad_origin++;
        return;
    }
    if (sl->sock != sock) {
        st->wrong_sock++;
        return;
    }
    switch (sl->state) {
    case SLOT_PENDING: {
        sl->state = SLOT_REPLIED;
        st->replied++;
        uint64_t lat = now - sl->tx_mono_ns;
        st->hist[hist_bucket(lat)]++;
        if (lat > st->latency_max_ns)
            st->latency_max_ns = lat;
        st->last_rx_ns = now;
        if (p[1] == 0)
            st->kod++; /* stratum 0: a kiss-o'-death (e.g. RATE) or an unsynchronised server */
        else if (stamp_ns)
            tx_error(st, p, stamp_ns);
        break;
    }
    case SLOT_REPLIED:
        st->dup++;
        break;
    default:
        st->late++;
        break;
    }
}

/* Reads everything queued on one socket. */
static void receive_sock(struct load *ld, uint32_t sock)
{
    enum { RB = 64 };
    static unsigned char bufs[RB][RX_BUF_LEN];
    static struct mmsghdr msgs[RB];
    static struct iovec iovs[RB];
    static struct {
        _Alignas(struct cmsghdr) char buf[CMSG_SPACE(sizeof(struct timespec))];
    } ctl[RB];
    for (;;) {
        for (int i = 0; i < RB; i++) {
            iovs[i].iov_base = bufs[i];
            iovs[i].iov_len = RX_BUF_LEN;
            memset(&msgs[i], 0, sizeof(msgs[i]));
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            if (ld->opt.txerr) {
                msgs[i].msg_hdr.msg_control = ctl[i].buf;
                msgs[i].msg_hdr.msg_controllen = sizeof ctl[i].buf;
            }
        }
        int r = recvmmsg(ld->fds[sock], msgs, RB, MSG_DONTWAIT, NULL);
        if (r <= 0)
            return;
        uint64_t now = mono_ns();
        for (int i = 0; i < r; i++) {
            int64_t stamp_ns = 0;
            struct msghdr *h = &msgs[i].msg_hdr;
            for (struct cmsghdr *c = ld->opt.txerr ? CMSG_FIRSTHDR(h) : NULL; c;
                 c = CMSG_NXTHDR(h, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec t;
                    memcpy(&t, CMSG_DATA(c), sizeof t);
                    stamp_ns = (int64_t)t.tv_sec * (int64_t)NS_PER_S + t.tv_nsec;
                }
            }
            check_reply(ld, sock, bufs[i], msgs[i].msg_len, h->msg_flags, now, stamp_ns);
        }
        if (r < RB)
            return;
    }
}

static int open_sockets(struct load *ld)
{
    for (uint32_t i = 0; i < ld->opt.n_socks; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            perror("ntpload: socket");
            return -1;
        }
        int size = 4 << 20;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        /* DF set: the kernel then leaves the IP ID 0 instead of hashing one per datagram for an
         * unconnected socket (__ip_select_ident, ~9 % of the generator's CPU on loopback). */
        int one = 1;
        if (ld->opt.txerr && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0) {
            perror("ntpload: SO_TIMESTAMPNS");
            close(fd);
            return -1;
        }
        int pmtu = IP_PMTUDISC_DO;
        (void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
        /* 0.0.0.0 so that replies to any 127.x.y.z source on this port reach this socket;
         * only 127/8 destinations are ever used. */
        struct sockaddr_in any;
        memset(&any, 0, sizeof(any));
        any.sin_family = AF_INET;
        any.sin_addr.s_addr = htonl(INADDR_ANY);
        any.sin_port = 0;
        if (bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0) {
            perror("ntpload: bind");
            close(fd);
            return -1;
        }
        ld->fds[i] = fd;
    }
    return 0;
}

/* The main loop: send what is due, read what arrived, expire what is too old. */
static void run(struct load *ld)
{
    const struct options *o = &ld->opt;
    struct pollfd pfds[MAX_SOCKS];
    for (uint32_t i = 0; i < o->n_socks; i++) {
        pfds[i].fd = ld->fds[i];
        pfds[i].events = POLLIN;
    }
    uint64_t start = mono_ns();
    uint64_t send_end = start + (uint64_t)(o->duration_s * (double)NS_PER_S);
    uint64_t hard_end = send_end + o->timeout_ns + NS_PER_S / 10;
    bool sending = true;
    uint64_t drain_end = 0;
    for (;;) {
        uint64_t now = mono_ns();
        if (sending && (now >= send_end || ld->st.sent >= o->count || interrupted)) {
            sending = false;
            drain_end = now + o->timeout_ns;
        }
        if (now >= hard_end || (!sending && (now >= drain_end || in_flight(ld) == 0)))
            break;
        uint64_t wait_ns = 0;
        bool sent_any = false;
        if (sending) {
            uint64_t quota;
            if (o->rate > 0) {
                uint64_t due = (uint64_t)((double)(now - start) * o->rate / (double)NS_PER_S) + 1;
                if (due > o->count)
                    due = o->count;
                quota = due > ld->st.sent ? due - ld->st.sent : 0;
                if (quota == 0) {
                    double next = (double)(ld->st.sent) / o->rate * (double)NS_PER_S;
                    uint64_t next_ns = start + (uint64_t)next;
                    wait_ns = next_ns > now ? next_ns - now : 0;
                }
            } else {
                uint64_t fl = in_flight(ld);
                quota = fl < o->window ? o->window - fl : 0;
                if (quota > o->count - ld->st.sent)
                    quota = o->count - ld->st.sent;
                if (quota == 0)
                    wait_ns = NS_PER_S / 1000;
            }
            if (quota > o->batch)
                quota = o->batch;
            if (quota > 0)
                sent_any = send_batch(ld, (uint32_t)quota) > 0;
            if (now + wait_ns > send_end)
                wait_ns = send_end > now ? send_end - now : 0;
        } else {
            wait_ns = NS_PER_S / 1000;
        }
        struct timespec ts = {.tv_sec = (time_t)(wait_ns / NS_PER_S),
                              .tv_nsec = (long)(wait_ns % NS_PER_S)};
        if (sent_any)
            ts.tv_sec = 0, ts.tv_nsec = 0;
        int r = ppoll(pfds, o->n_socks, &ts, NULL);
        if (r > 0) {
            for (uint32_t i = 0; i < o->n_socks; i++)
                if (pfds[i].revents & POLLIN)
                    receive_sock(ld, i);
        }
        resolve_tail(ld, mono_ns());
    }
    /* Whatever is still pending now is lost. */
    resolve_tail(ld, UINT64_MAX / 2);
    while (ld->tail < ld->st.sent) {
        struct slot *sl = &ld->ring[ld->tail & RING_MASK];
        if (sl->state == SLOT_PENDING) {
            sl->state = SLOT_EXPIRED;
            ld->st.expired++;
        }
        ld->tail++;
    }
}

static void report(const struct load *ld)
{
    const struct options *o = &ld->opt;
    const struct stats *st = &ld->st;
    double send_span = (double)(st->last_tx_ns - st->first_tx_ns) / 1e9;
    double rx_span = (double)(st->last_rx_ns - st->first_tx_ns) / 1e9;
    double offered = send_span > 0 ? (double)(st->sent - 1) / send_span : 0;
    double rps = rx_span > 0 ? (double)st->replied / rx_span : 0;
    double loss = st->sent ? 100.0 * (double)(st->sent - st->replied) / (double)st->sent : 0;
    double p50 = (double)hist_quantile_ns(st, 0.50) / 1e3;
    double p90 = (double)hist_quantile_ns(st, 0.90) / 1e3;
    double p99 = (double)hist_quantile_ns(st, 0.99) / 1e3;
    double p999 = (double)hist_quantile_ns(st, 0.999) / 1e3;
    double maxl = (double)st->latency_max_ns / 1e3;
    uint64_t sources = (uint64_t)o->n_addrs * o->n_socks;
    if (o->csv) {
        if (o->header)
            printf("label,rate,sources,sent,offered_per_s,replies,replies_per_s,loss_pct,late,dup,"
                   "bad_origin,malformed,wrong_sock,kod,send_errors,p50_us,p90_us,p99_us,p999_us,"
                   "max_us\n");
        printf("%s,%.0f,%" PRIu64 ",%" PRIu64 ",%.0f,%" PRIu64 ",%.0f,%.4f,%" PRIu64 ",%" PRIu64
               ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
               ",%.1f,%.1f,%.1f,%.1f,%.1f\n",
               o->label, o->rate, sources, st->sent, offered, st->replied, rps, loss, st->late,
               st->dup, st->bad_origin, st->malformed, st->wrong_sock, st->kod, st->send_errors,
               p50, p90, p99, p999, maxl);
    } else {
        printf("%s: sent %" PRIu64 " (%.0f/s offered) replies %" PRIu64 " (%.0f/s) loss %.3f%% "
               "late %" PRIu64 " dup %" PRIu64 " bad-origin %" PRIu64 " malformed %" PRIu64
               " wrong-socket %" PRIu64 " kod %" PRIu64 " send-errors %" PRIu64
               " latency us p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f sources %" PRIu64 "\n",
               o->label, st->sent, offered, st->replied, rps, loss, st->late, st->dup,
               st->bad_origin, st->malformed, st->wrong_sock, st->kod, st->send_errors, p50, p90,
               p99, p999, maxl, sources);
    }
    if (o->txerr && st->te_n)
        fprintf(stderr,
                "%s: transmit timestamp early by (reply's kernel receive stamp - its T3, us): "
                "min %.1f p1 %.1f p50 %.1f p90 %.1f p99 %.1f max %.1f n %" PRIu64 "\n",
                o->label, (double)st->te_min_ns / 1e3, te_quantile_us(st, 0.01),
                te_quantile_us(st, 0.50), te_quantile_us(st, 0.90), te_quantile_us(st, 0.99),
                (double)st->te_max_ns / 1e3, st->te_n);
    fflush(stdout);
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: ntpload [OPTION]...\n"
            "Send NTP client requests to a server on loopback and measure its replies.\n\n"
            "  -s, --server ADDR      server IPv4 address in 127.0.0.0/8 (127.0.0.1)\n"
            "  -p, --port PORT        server port (123)\n"
            "  -r, --rate R           offered requests/s; 0 = as fast as answered (0)\n"
            "  -w, --window N         max requests in flight at rate 0 (1024)\n"
            "  -d, --duration S       seconds of sending, at most %d (2)\n"
            "  -n, --count N          max requests (10000000)\n"
            "  -a, --addresses N      distinct source addresses 127.A.B.C (256)\n"
            "  -P, --ports N          distinct source ports, one socket each, at most %d (4)\n"
            "  -b, --batch N          requests per sendmmsg, at most %d (32)\n"
            "  -t, --timeout MS       a reply later than this is lost (1000)\n"
            "  -V, --ntp-version N    NTP version of the requests, 1..4 (4)\n"
            "  -L, --max-loss PCT     exit 3 if more than PCT %% of requests are lost\n"
            "  -l, --label TEXT       label of the result line (ntpload)\n"
            "  -c, --csv              print a CSV header and row\n"
            "  -H, --no-header        with --csv, no header\n"
            "  -q, --quiet            no warnings\n"
            "  -T, --tx-error         kernel receive stamps on replies: print (stamp - the\n"
            "                         reply's transmit timestamp) percentiles on stderr\n"
            "Exit: 0 ok, 1 usage/setup error, 2 a reply failed a check, 3 loss above -L.\n",
            MAX_DURATION_S, MAX_SOCKS, MAX_BATCH);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min && v <= max))
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {{"server", required_argument, NULL, 's'},
                                             {"port", required_argument, NULL, 'p'},
                                             {"rate", required_argument, NULL, 'r'},
                                             {"window", required_argument, NULL, 'w'},
                                             {"duration", required_argument, NULL, 'd'},
                                             {"count", required_argument, NULL, 'n'},
                                             {"addresses", required_argument, NULL, 'a'},
                                             {"ports", required_argument, NULL, 'P'},
                                             {"batch", required_argument, NULL, 'b'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"ntp-version", required_argument, NULL, 'V'},
                                             {"max-loss", required_argument, NULL, 'L'},
                                             {"label", required_argument, NULL, 'l'},
                                             {"csv", no_argument, NULL, 'c'},
                                             {"no-header", no_argument, NULL, 'H'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"tx-error", no_argument, NULL, 'T'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof(*o));
    o->server.sin_family = AF_INET;
    o->server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    o->server.sin_port = htons(123);
    o->duration_s = 2;
    o->count = 10000000;
    o->n_addrs = 256;
    o->n_socks = 4;
    o->batch = 32;
    o->window = 1024;
    o->timeout_ns = NS_PER_S;
    o->version = 4;
    o->max_loss_pct = -1;
    o->label = "ntpload";
    o->header = true;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, "s:p:r:w:d:n:a:P:b:t:V:L:l:cHqTh", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (inet_pton(AF_INET, optarg, &o->server.sin_addr) != 1 ||
                (ntohl(o->server.sin_addr.s_addr) >> 24) != 127) {
                fprintf(stderr, "ntpload: server must be an IPv4 address in 127.0.0.0/8\n");
                return -1;
            }
            break;
        case 'p':
            if (parse_u64(optarg, 1, 65535, &v) < 0)
                goto bad;
            o->server.sin_port = htons((uint16_t)v);
            break;
        case 'r':
            if (parse_double(optarg, 0, 1e7, &o->rate) < 0)
                goto bad;
            break;
        case 'w':
            if (parse_u64(optarg, 1, RING_SIZE / 2, &v) < 0)
                goto bad;
            o->window = (uint32_t)v;
            break;
        case 'd':
            if (parse_double(optarg, 0.001, MAX_DURATION_S, &o->duration_s) < 0)
                goto bad;
            break;
        case 'n':
            if (parse_u64(optarg, 1, MAX_COUNT, &o->count) < 0)
                goto bad;
            break;
        case 'a':
            if (parse_u64(optarg, 1, 254ULL * 256 * 254, &v) < 0)
                goto bad;
            o->n_addrs = (uint32_t)v;
            break;
        case 'P':
            if (parse_u64(optarg, 1, MAX_SOCKS, &v) < 0)
                goto bad;
            o->n_socks = (uint32_t)v;
            break;
        case 'b':
            if (parse_u64(optarg, 1, MAX_BATCH, &v) < 0)
                goto bad;
            o->batch = (uint32_t)v;
            break;
        case 't':
            if (parse_u64(optarg, 1, 10000, &v) < 0)
                goto bad;
            o->timeout_ns = v * 1000000ULL;
            break;
        case 'V':
            if (parse_u64(optarg, 1, 4, &v) < 0)
                goto bad;
            o->version = (uint32_t)v;
            break;
        case 'L':
            if (parse_double(optarg, 0, 100, &o->max_loss_pct) < 0)
                goto bad;
            break;
        case 'l':
            o->label = optarg;
            break;
        case 'c':
            o->csv = true;
            break;
        case 'H':
            o->header = false;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'T':
            o->txerr = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
        continue;
    bad:
        fprintf(stderr, "ntpload: invalid value '%s' for -%c\n", optarg, c);
        return -1;
    }
    if (optind != argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct load ld;
    if (parse_options(argc, argv, &ld.opt) < 0)
        return 1;
    ld.ring = calloc(RING_SIZE, sizeof(*ld.ring));
    if (!ld.ring) {
        fprintf(stderr, "ntpload: out of memory\n");
        return 1;
    }
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = mono_ns();
    ld.prng = seed | 1;
    ld.key = (uint32_t)(xorshift64(&ld.prng) >> 32);
    if (open_sockets(&ld) < 0)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    run(&ld);
    report(&ld);

    for (uint32_t i = 0; i < ld.opt.n_socks; i++)
        close(ld.fds[i]);
    free(ld.ring);
    const struct stats *st = &ld.st;
    if (st->bad_origin || st->malformed || st->dup || st->wrong_sock) {
        if (!ld.opt.quiet)
            fprintf(stderr, "ntpload: %" PRIu64 " replies failed a check\n",
                    st->bad_origin + st->malformed + st->dup + st->wrong_sock);
        return 2;
    }
    double loss = st->sent ? 100.0 * (double)(st->sent - st->replied) / (double)st->sent : 100;
    if (ld.opt.max_loss_pct >= 0 && loss > ld.opt.max_loss_pct) {
        if (!ld.opt.quiet)
            fprintf(stderr, "ntpload: loss %.3f%% above %.3f%%\n", loss, ld.opt.max_loss_pct);
        return 3;
    }
    return 0;
}
