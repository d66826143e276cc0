/* os/udp: NTP datagrams with kernel receive timestamps (see udp.h). */
#include "os/udp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Kernel stamp kinds we enabled on a socket, kept per fd: a bitmap is enough for the few
 * sockets a daemon has, and keeps the API to plain fds. */
#define UDP_TRACKED_FDS 4096
static unsigned char fd_has_ts[UDP_TRACKED_FDS / 8];
static unsigned char fd_has_txts[UDP_TRACKED_FDS / 8];

static void mark_bit(unsigned char *map, int fd, int on)
{
    if (fd < 0 || fd >= UDP_TRACKED_FDS)
        return;
    if (on)
        map[fd / 8] |= (unsigned char)(1u << (fd % 8));
    else
        map[fd / 8] &= (unsigned char)~(1u << (fd % 8));
}

/* Sockets opened with UDP_OPEN_PKTINFO_IF_WILDCARD and bound to one address: that address
 * (family ADDR_UNSPEC for every other fd). Written only by udp_open() and udp_close(), before
 * and after any thread reads the socket. fds beyond the table keep their pktinfo. */
#define UDP_BOUND_FDS 1024
static struct addr fd_bound[UDP_BOUND_FDS];

/* The address fd is bound to when it receives no pktinfo (see fd_bound), else NULL. */
static const struct addr *bound_of(int fd)
{
    if (fd < 0 || fd >= UDP_BOUND_FDS || fd_bound[fd].family == ADDR_UNSPEC)
        return NULL;
    return &fd_bound[fd];
}

static void set_bound(int fd, const struct addr *a)
{
    if (fd < 0 || fd >= UDP_BOUND_FDS)
        return;
    if (a)
        fd_bound[fd] = *a;
    else
        memset(&fd_bound[fd], 0, sizeof fd_bound[fd]);
}

static int is_wildcard(const struct addr *a)
{
    size_t n = a->family == ADDR_INET6 ? 16 : 4;
    for (size_t i = 0; i < n; i++)
        if (a->bytes[i])
            return 0;
    return 1;
}

static void mark_ts(int fd, int on)
{
    mark_bit(fd_has_ts, fd, on);
    if (!on)
        mark_bit(fd_has_txts, fd, 0);
}

int udp_has_kernel_timestamps(int fd)
{
    if (fd < 0 || fd >= UDP_TRACKED_FDS)
        return 0;
    return (fd_has_ts[fd / 8] >> (fd % 8)) & 1;
}

int udp_has_tx_timestamps(int fd)
{
    if (fd < 0 || fd >= UDP_TRACKED_FDS)
        return 0;
    return (fd_has_txts[fd / 8] >> (fd % 8)) & 1;
}

int udp_to_sockaddr(const struct addr *a, struct sockaddr_storage *ss)
{
    /* Only the part the family uses is cleared: this runs once per reply. */
    if (a->family == ADDR_INET4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        memset(sin, 0, sizeof *sin);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, a->bytes, 4);
        return (int)sizeof *sin;
    }
    if (a->family == ADDR_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        memset(sin6, 0, sizeof *sin6);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(a->port);
        memcpy(&sin6->sin6_addr, a->bytes, 16);
        return (int)sizeof *sin6;
    }
    memset(ss, 0, sizeof *ss);
    return -EAFNOSUPPORT;
}

int udp_from_sockaddr(const struct sockaddr_storage *ss, struct addr *a)
{
    memset(a, 0, sizeof *a);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        a->family = ADDR_INET4;
        memcpy(a->bytes, &sin->sin_addr, 4);
        a->port = ntohs(sin->sin_port);
        return 0;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        /* An IPv4-mapped address is the IPv4 peer it stands for. */
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            a->family = ADDR_INET4;
            memcpy(a->bytes, &sin6->sin6_addr.s6_addr[12], 4);
        } else {
            a->family = ADDR_INET6;
            memcpy(a->bytes, &sin6->sin6_addr, 16);
        }
        a->port = ntohs(sin6->sin6_port);
        return 0;
    }
    return -EAFNOSUPPORT;
}

static void enable_timestamps(int fd, int tx, int ns_first)
{
    int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
    int on = 1;
    /* UDP_OPEN_RX_TIMESTAMPNS: the smaller control message (see udp.h) */
    if (ns_first && !tx && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0) {
        mark_ts(fd, 1);
        return;
    }
    /* Transmit stamps come back with the datagram (no OPT_TSONLY): its bytes tell which
     * request a stamp belongs to wherever a socket carries more than one (chronyd matches the
     * same way). A kernel (or interposer) that refuses the TX flag still gets the RX ones. */
    if (tx && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING,
                         &(int){flags | SOF_TIMESTAMPING_TX_SOFTWARE}, sizeof(int)) == 0) {
        mark_ts(fd, 1);
        mark_bit(fd_has_txts, fd, 1);
        return;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0) {
        mark_ts(fd, 1);
        return;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0)
        mark_ts(fd, 1);
}

int udp_open(const struct addr *local, int flags)
{
    struct sockaddr_storage ss;
    int sl = udp_to_sockaddr(local, &ss);
    if (sl < 0)
        return sl;
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return -errno;
    int on = 1;
    int err = 0;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        err = -errno;
        goto fail;
    }
    set_bound(fd, NULL);
    /* bound to one address (and the fd fits the table): where datagrams came to is known */
    const int lean =
        (flags & UDP_OPEN_PKTINFO_IF_WILDCARD) && !is_wildcard(local) && fd < UDP_BOUND_FDS;
    if (local->family == ADDR_INET6) {
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
        if (!lean)
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    } else if (!lean) {
        (void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    }
    if (flags & UDP_OPEN_REUSEADDR)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    /* Unlike the options above, a worker socket without SO_REUSEPORT would fail to bind or
     * take every datagram from the others: an error. */
    if ((flags & UDP_OPEN_REUSEPORT) && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on)) {
        err = -errno;
        goto fail;
    }
    mark_ts(fd, 0);
    if (!(flags & UDP_OPEN_NO_TIMESTAMPS))
        enable_timestamps(fd, (flags & UDP_OPEN_TX_TIMESTAMPS) != 0,
                          (flags & UDP_OPEN_RX_TIMESTAMPNS) != 0);
    if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0) {
        err = -errno;
        goto fail;
    }
    if (lean) {
        struct addr b = *local;
        b.port = 0; /* as udp_batch_recv() gives rx.local */
        set_bound(fd, &b);
    }
    return fd;
fail:
    mark_ts(fd, 0);
    set_bound(fd, NULL);
    close(fd);
    return err;
}

static int get_rcvbuf(int fd)
{
    int v = 0;
    socklen_t l = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l) != 0)
        return -errno;
    return v;
}

int udp_set_rcvbuf(int fd, int bytes)
{
    int cur = get_rcvbuf(fd);
    if (cur < 0)
        return cur;
    if (bytes <= 0 || cur / 2 >= bytes)
        return cur;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0)
        return -errno;
    /* SO_RCVBUF silently caps at rmem_max: what the kernel granted is what counts */
    cur = get_rcvbuf(fd);
    return cur;
}

int udp_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    struct addr a;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return -errno;
    int r = udp_from_sockaddr(&ss, &a);
    return r < 0 ? r : a.port;
}

static int64_t ts_to_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* Kernel timestamp and IP_PKTINFO of a received message into rx (rx_real_ns and ts_source
 * keep their fallback values when there is no stamp). */
static void parse_cmsgs(struct msghdr *msg, struct udp_rx *rx)
{
    /* The walk CMSG_NXTHDR does, inline (glibc's is a function call per message), counting
     * the bytes left rather than comparing pointers. */
    const char *p = msg->msg_control;
    size_t left = p ? msg->msg_controllen : 0;
    while (left >= sizeof(struct cmsghdr)) {
        struct cmsghdr *c = (struct cmsghdr *)(void *)p;
        size_t len = c->cmsg_len, adv = CMSG_ALIGN(len);
        if (len < sizeof(struct cmsghdr) || len > left)
            break;
        p += adv;
        left = adv < left ? left - adv : 0;
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct scm_timestamping))) {
            struct timespec ts0; /* ts[0], the software stamp; the others are unused */
            memcpy(&ts0, CMSG_DATA(c), sizeof ts0);
            if (ts0.tv_sec || ts0.tv_nsec) {
                rx->rx_real_ns = ts_to_ns(&ts0);
                rx->ts_source = UDP_TS_KERNEL;
            }
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            rx->rx_real_ns = ts_to_ns(&ts);
            rx->ts_source = UDP_TS_KERNEL;
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            rx->local.family = ADDR_INET4;
            memcpy(rx->local.bytes, &pi.ipi_addr, 4);
            rx->ifindex = pi.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo pi6;
            memcpy(&pi6, CMSG_DATA(c), sizeof pi6);
            rx->local.family = ADDR_INET6;
            memcpy(rx->local.bytes, &pi6.ipi6_addr, 16);
            rx->ifindex = (int)pi6.ipi6_ifindex;
        }
    }
}

int udp_recv(int fd, uint8_t *buf, size_t cap, struct udp_rx *rx)
{
    struct sockaddr_storage from;
    /* Room for pktinfo (v4 or v6) and a timestamping block, with alignment slack. */
    union {
        char buf[256];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr msg = {
        .msg_name = &from,
        .msg_namelen = sizeof from,
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof control.buf,
    };
    ssize_t n = recvmsg(fd, &msg, 0);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    int64_t fallback_ns = 0;
    {
        struct timespec now;
        if (clock_gettime(CLOCK_REALTIME, &now) == 0)
            fallback_ns = ts_to_ns(&now);
    }
    if (msg.msg_flags & MSG_TRUNC)
        return -EMSGSIZE;

    memset(rx, 0, sizeof *rx);
    (void)udp_from_sockaddr(&from, &rx->remote);
    rx->rx_real_ns = fallback_ns;
    rx->ts_source = UDP_TS_DAEMON;
    int port = udp_local_port(fd);
    parse_cmsgs(&msg, rx);
    const struct addr *bound = bound_of(fd);
    if (bound && rx->local.family == ADDR_UNSPEC)
        rx->local = *bound;
    if (port > 0)
        rx->local.port = (uint16_t)port;
    return (int)n;
}

/* The UDP payload inside a looped datagram (data, n bytes): an Ethernet-like link-layer
 * header if there is one (loopback gives 14 zero bytes and the EtherType), IPv4 (any IHL) or
 * IPv6 (no extension headers: we send none), UDP. 0 with *payload and *len set, or -1. */
static int looped_payload(const uint8_t *data, size_t n, const uint8_t **payload, size_t *len,
                          struct addr *to)
{
    size_t off = 0;
    if (n >= 15 && ((data[12] == 0x08 && data[13] == 0x00 && data[14] >> 4 == 4) ||
                    (data[12] == 0x86 && data[13] == 0xdd && data[14] >> 4 == 6)))
        off = 14;
    if (n < off + 1)
        return -1;
    size_t ip_len;
    memset(to, 0, sizeof *to);
    if (data[off] >> 4 == 4) {
        ip_len = (size_t)(data[off] & 0x0f) * 4;
        if (ip_len < 20 || n < off + ip_len || data[off + 9] != IPPROTO_UDP)
            return -1;
        to->family = ADDR_INET4;
        memcpy(to->bytes, data + off + 16, 4);
    } else if (data[off] >> 4 == 6) {
        ip_len = 40;
        if (n < off + ip_len || data[off + 6] != IPPROTO_UDP)
            return -1;
        to->family = ADDR_INET6;
        memcpy(to->bytes, data + off + 24, 16);
    } else {
        return -1;
    }
    off += ip_len;
    if (n < off + 8)
        return -1;
    size_t udp_len = (size_t)data[off + 4] << 8 | data[off + 5];
    if (udp_len < 8 || off + udp_len > n) {
        to->family = ADDR_UNSPEC;
        return -1;
    }
    to->port = (uint16_t)(data[off + 2] << 8 | data[off + 3]);
    *payload = data + off + 8;
    *len = udp_len - 8;
    return 0;
}

int udp_parse_txts(const struct msghdr *msg, size_t data_len, struct udp_txts *out)
{
    int have_ts = 0, have_err = 0;
    memset(out, 0, sizeof *out);
    const char *p = msg->msg_control;
    size_t left = p ? msg->msg_controllen : 0;
    while (left >= sizeof(struct cmsghdr)) {
        struct cmsghdr c;
        memcpy(&c, p, sizeof c);
        size_t len = c.cmsg_len, adv = CMSG_ALIGN(len);
        if (len < sizeof(struct cmsghdr) || len > left)
            break;
        const char *data = p + CMSG_LEN(0);
        if (c.cmsg_level == SOL_SOCKET && c.cmsg_type == SCM_TIMESTAMPING &&
            len >= CMSG_LEN(sizeof(struct scm_timestamping))) {
            struct timespec ts0; /* ts[0]: the software stamp */
            memcpy(&ts0, data, sizeof ts0);
            if (ts0.tv_sec > 0 || ts0.tv_nsec > 0) {
                out->tx_real_ns = ts_to_ns(&ts0);
                have_ts = 1;
            }
        } else if (c.cmsg_level == SOL_SOCKET && c.cmsg_type == SCM_TIMESTAMPNS &&
                   len >= CMSG_LEN(sizeof(struct timespec))) {
            /* a UDP_OPEN_RX_TIMESTAMPNS socket: the stamp of the looped datagram */
            struct timespec ts;
            memcpy(&ts, data, sizeof ts);
            if (!have_ts && (ts.tv_sec > 0 || ts.tv_nsec > 0)) {
                out->tx_real_ns = ts_to_ns(&ts);
                have_ts = 1;
            }
        } else if (((c.cmsg_level == IPPROTO_IP && c.cmsg_type == IP_RECVERR) ||
                    (c.cmsg_level == IPPROTO_IPV6 && c.cmsg_type == IPV6_RECVERR)) &&
                   len >= CMSG_LEN(sizeof(struct sock_extended_err))) {
            struct sock_extended_err ee;
            memcpy(&ee, data, sizeof ee);
            if (ee.ee_errno == ENOMSG && ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING &&
                ee.ee_info == SCM_TSTAMP_SND) {
                out->key = ee.ee_data;
                have_err = 1;
            }
        }
        p += adv;
        left = adv < left ? left - adv : 0;
    }
    if (!have_ts || !have_err)
        return 0;
    if (data_len > 0 && msg->msg_iovlen >= 1 && msg->msg_iov && msg->msg_iov[0].iov_base) {
        size_t n = data_len < msg->msg_iov[0].iov_len ? data_len : msg->msg_iov[0].iov_len;
        const uint8_t *pl;
        size_t pl_len;
        if (looped_payload(msg->msg_iov[0].iov_base, n, &pl, &pl_len, &out->to) == 0) {
            out->payload = pl;
            out->payload_len = pl_len;
        } else {
            memset(&out->to, 0, sizeof out->to);
        }
    }
    return 1;
}

int udp_recv_txts(int fd, uint8_t *buf, size_t cap, struct udp_txts *out)
{
    union {
        char buf[256];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof control.buf,
    };
    ssize_t n = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return udp_parse_txts(&msg, (size_t)n, out);
}

/* Room for one pktinfo control message (v4 or v6) and a transmit-timestamp request. */
struct udp_send_control {
    _Alignas(struct cmsghdr) char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
                                      CMSG_SPACE(sizeof(uint32_t))];
};

/* Appends a request for a software transmit timestamp of this one datagram to msg's control
 * messages (in control, after what put_pktinfo() left). */
static void put_txts(struct msghdr *msg, struct udp_send_control *control)
{
    size_t used = msg->msg_control ? msg->msg_controllen : 0;
    if (!msg->msg_control)
        memset(control, 0, sizeof *control);
    struct cmsghdr *c = (struct cmsghdr *)(void *)(control->buf + used);
    uint32_t flags = SOF_TIMESTAMPING_TX_SOFTWARE;
    memset(c, 0, CMSG_SPACE(sizeof flags));
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SO_TIMESTAMPING;
    c->cmsg_len = CMSG_LEN(sizeof flags);
    memcpy(CMSG_DATA(c), &flags, sizeof flags);
    msg->msg_control = control->buf;
    msg->msg_controllen = used + CMSG_SPACE(sizeof flags);
}

/* Sets msg's control to a pktinfo naming the source address `from` (when given and of to's
 * family), in control. */
static void put_pktinfo(struct msghdr *msg, struct udp_send_control *control, const struct addr *to,
                        const struct addr *from, int ifindex)
{
    struct cmsghdr *c;
    msg->msg_control = NULL;
    msg->msg_controllen = 0;
    if (!from || from->family != to->family)
        return;
    memset(control, 0, sizeof *control);
    msg->msg_control = control->buf;
    if (from->family == ADDR_INET4) {
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        memcpy(&pi.ipi_spec_dst, from->bytes, 4);
        pi.ipi_ifindex = ifindex;
        msg->msg_controllen = CMSG_SPACE(sizeof pi);
        c = CMSG_FIRSTHDR(msg);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
    } else if (from->family == ADDR_INET6) {
        struct in6_pktinfo pi6;
        memset(&pi6, 0, sizeof pi6);
        memcpy(&pi6.ipi6_addr, from->bytes, 16);
        pi6.ipi6_ifindex = (unsigned)ifindex;
        msg->msg_controllen = CMSG_SPACE(sizeof pi6);
        c = CMSG_FIRSTHDR(msg);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi6);
        memcpy(CMSG_DATA(c), &pi6, sizeof pi6);
    } else {
        msg->msg_control = NULL;
    }
}

/* One datagram by sendmsg: from `from` (a pktinfo, when given), and with txts a request for
 * its software transmit timestamp; a kernel that refuses the request (EINVAL) gets the
 * datagram again without control messages. *stamped (if given) says whether the request went
 * out. */
static int send_one(int fd, const uint8_t *buf, size_t len, const struct addr *to,
                    const struct addr *from, int ifindex, int txts, int *stamped)
{
    struct sockaddr_storage ss;
    int sl = udp_to_sockaddr(to, &ss);
    if (stamped)
        *stamped = 0;
    if (sl < 0)
        return sl;
    struct udp_send_control control;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {
        .msg_name = &ss,
        .msg_namelen = (socklen_t)sl,
        .msg_iov = &iov,
        .msg_iovlen = 1,
    };
    put_pktinfo(&msg, &control, to, from, ifindex);
    if (txts)
        put_txts(&msg, &control);
    ssize_t n = sendmsg(fd, &msg, 0);
    if (n >= 0) {
        if (txts && stamped)
            *stamped = 1;
    } else if (txts && errno == EINVAL) {
        msg.msg_control = NULL;
        msg.msg_controllen = 0;
        n = sendmsg(fd, &msg, 0);
    }
    if (n < 0)
        return -errno;
    return n == (ssize_t)len ? 0 : -EMSGSIZE;
}

int udp_send(int fd, const uint8_t *buf, size_t len, const struct addr *to, const struct addr *from,
             int ifindex)
{
    return send_one(fd, buf, len, to, from, ifindex, 0, NULL);
}

int udp_send_txts(int fd, const uint8_t *buf, size_t len, const struct addr *to, int *stamped)
{
    return send_one(fd, buf, len, to, NULL, 0, 1, stamped);
}

#define UDP_CONTROL_MAX 160 /* pktinfo (v4 or v6) and a timestamping block, aligned */

struct udp_rx_control {
    _Alignas(struct cmsghdr) char buf[UDP_CONTROL_MAX];
};

struct udp_batch {
    int n;
    int last_got; /* datagrams of the last recvmmsg (their headers need a reset) */
    int mmsg_refused;
    int txts_refused;
    /* the last recv's socket is bound to one address without pktinfo (bound_of): replies
     * leave without a pktinfo */
    int lean;
    struct udp_msg *msg;
    struct mmsghdr *mm;
    struct iovec *iov;
    struct sockaddr_storage *from;
    struct udp_rx_control *control;
    /* replies: slot k's header, iovec (-> replies[k].buf) and control set up once */
    struct udp_reply *replies;
    struct mmsghdr *out_mm;
    struct iovec *out_iov;
    struct udp_send_control *out_control;
    /* slot k's control: 1 holds an IPv4 pktinfo header, 2 that and a transmit-timestamp
     * request after it (so that 1 + txts says whether the slot is ready as it is), 3 none
     * (msg_control NULL: a lean socket's reply), 0 anything else */
    unsigned char *out_ctl_v4;
    uint8_t *bufs;
};

void udp_batch_free(struct udp_batch *b)
{
    if (!b)
        return;
    free(b->msg);
    free(b->mm);
    free(b->iov);
    free(b->from);
    free(b->control);
    free(b->replies);
    free(b->out_mm);
    free(b->out_iov);
    free(b->out_control);
    free(b->out_ctl_v4);
    free(b->bufs);
    free(b);
}

/* The layout the kernel gives a socket udp_open() set up, in this order (udp_recvmsg: the
 * socket's timestamps, then the IP control messages): checked and read without a walk. */
#define TS_SPACE  CMSG_SPACE(sizeof(struct scm_timestamping))
#define PI4_SPACE CMSG_SPACE(sizeof(struct in_pktinfo))
#define TS_LEN    CMSG_LEN(sizeof(struct scm_timestamping))
#define NS_SPACE  CMSG_SPACE(sizeof(struct timespec))
#define NS_LEN    CMSG_LEN(sizeof(struct timespec))
#define PI4_LEN   CMSG_LEN(sizeof(struct in_pktinfo))
#define TXR_SPACE CMSG_SPACE(sizeof(uint32_t))

/* Writes the IPv4 pktinfo control header into slot k's control buffer. */
static void out_ctl_init_v4(struct udp_batch *b, int k)
{
    struct cmsghdr *c = (struct cmsghdr *)(void *)b->out_control[k].buf;
    memset(&b->out_control[k], 0, sizeof b->out_control[k]);
    c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    b->out_mm[k].msg_hdr.msg_control = c;
    b->out_mm[k].msg_hdr.msg_controllen = PI4_SPACE;
    b->out_ctl_v4[k] = 1;
}

/* Slot k's IPv4 control (out_ctl_init_v4) with or without the transmit-timestamp request. */
static void out_ctl_v4_txts(struct udp_batch *b, int k, int txts)
{
    struct msghdr *m = &b->out_mm[k].msg_hdr;
    if (txts) {
        m->msg_controllen = PI4_SPACE;
        put_txts(m, &b->out_control[k]);
        b->out_ctl_v4[k] = 2;
    } else {
        m->msg_controllen = PI4_SPACE;
        b->out_ctl_v4[k] = 1;
    }
}

struct udp_batch *udp_batch_new(int n, size_t cap)
{
    if (n < 1 || n > UDP_BATCH_MAX || cap == 0)
        return NULL;
    struct udp_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    size_t k = (size_t)n;
    b->n = n;
    b->msg = calloc(k, sizeof *b->msg);
    b->mm = calloc(k, sizeof *b->mm);
    b->iov = calloc(k, sizeof *b->iov);
    b->from = calloc(k, sizeof *b->from);
    b->control = calloc(k, sizeof *b->control);
    b->replies = calloc(k, sizeof *b->replies);
    b->out_mm = calloc(k, sizeof *b->out_mm);
    b->out_iov = calloc(k, sizeof *b->out_iov);
    b->out_control = calloc(k, sizeof *b->out_control);
    b->out_ctl_v4 = calloc(k, 1);
    /* Buffers one cache line more than a whole number of lines apart: with cap 1024 exactly
     * (the daemon's), the 64 buffers' first lines, which the kernel writes and the daemon
     * reads, would fall in 4 of an L1 cache's 64 sets, 32 lines for 64 (session 8). */
    const size_t stride = (cap + 63) / 64 * 64 + 64;
    b->bufs = calloc(k, stride);
    if (!b->msg || !b->mm || !b->iov || !b->from || !b->control || !b->replies || !b->out_mm ||
        !b->out_iov || !b->out_control || !b->out_ctl_v4 || !b->bufs) {
        udp_batch_free(b);
        return NULL;
    }
    for (size_t i = 0; i < k; i++) {
        b->msg[i].buf = b->bufs + i * stride;
        b->msg[i].cap = cap;
        b->iov[i] = (struct iovec){.iov_base = b->msg[i].buf, .iov_len = cap};
        b->mm[i].msg_hdr = (struct msghdr){
            .msg_name = &b->from[i],
            .msg_namelen = sizeof b->from[i],
            .msg_iov = &b->iov[i],
            .msg_iovlen = 1,
            .msg_control = b->control[i].buf,
            .msg_controllen = sizeof b->control[i].buf,
        };
        b->out_iov[i] = (struct iovec){.iov_base = b->replies[i].buf, .iov_len = 0};
        b->out_mm[i].msg_hdr = (struct msghdr){
            .msg_iov = &b->out_iov[i],
            .msg_iovlen = 1,
        };
        out_ctl_init_v4(b, (int)i);
    }
    return b;
}

struct udp_msg *udp_batch_msgs(struct udp_batch *b)
{
    return b->msg;
}

struct udp_reply *udp_batch_replies(struct udp_batch *b)
{
    return b->replies;
}

int udp_batch_txts_refused(const struct udp_batch *b)
{
    return b->txts_refused;
}

int udp_batch_mmsg_refused(const struct udp_batch *b)
{
    return b->mmsg_refused;
}

void udp_batch_refuse_mmsg(struct udp_batch *b, int on)
{
    b->mmsg_refused = on ? 1 : 0;
}

/* The control messages of datagram i into rx: the usual layouts (a timestamp from
 * SO_TIMESTAMPING or SO_TIMESTAMPNS, then an IPv4 pktinfo, or nothing more on a socket bound
 * to `bound`) read in place, anything else by the general walk. */
__attribute__((always_inline)) static inline void batch_cmsgs(struct msghdr *msg, struct udp_rx *rx,
                                                              const struct addr *bound)
{
    const char *p = msg->msg_control;
    const size_t clen = msg->msg_controllen;
    const struct cmsghdr *c = (const struct cmsghdr *)(const void *)p;
    size_t first = 0; /* the timestamp's space: where the pktinfo would start */
    if (clen >= NS_SPACE && c->cmsg_level == SOL_SOCKET) {
        if (c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len == NS_LEN)
            first = NS_SPACE;
        else if (c->cmsg_type == SCM_TIMESTAMPING && c->cmsg_len == TS_LEN && clen >= TS_SPACE)
            first = TS_SPACE;
    }
    if (first) {
        const struct cmsghdr *c2 = (const struct cmsghdr *)(const void *)(p + first);
        int laid_out = 0;
        if (bound && clen == first) {
            rx->local = *bound;
            rx->ifindex = 0;
            laid_out = 1;
        } else if (clen == first + PI4_SPACE && c2->cmsg_len == PI4_LEN &&
                   c2->cmsg_level == IPPROTO_IP && c2->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c2), sizeof pi);
            rx->local.family = ADDR_INET4;
            memcpy(rx->local.bytes, &pi.ipi_addr, 4);
            rx->ifindex = pi.ipi_ifindex;
            laid_out = 1;
        }
        if (laid_out) {
            /* both start with the software stamp (scm_timestamping's ts[0]) */
            struct timespec ts0;
            memcpy(&ts0, CMSG_DATA(c), sizeof ts0);
            if (ts0.tv_sec || ts0.tv_nsec) {
                rx->rx_real_ns = ts_to_ns(&ts0);
                rx->ts_source = UDP_TS_KERNEL;
            } else
                rx->ts_source = UDP_TS_DAEMON;
            return;
        }
    }
    rx->ts_source = UDP_TS_DAEMON;
    rx->ifindex = 0;
    rx->local.family = ADDR_UNSPEC;
    parse_cmsgs(msg, rx);
    if (bound && rx->local.family == ADDR_UNSPEC)
        rx->local = *bound;
}

int udp_batch_recv(int fd, struct udp_batch *b)
{
    int64_t fallback_ns = 0;
    /* the kernel rewrote these of the datagrams it filled last time (and the flags) */
    for (int i = 0; i < b->last_got; i++) {
        b->mm[i].msg_hdr.msg_namelen = sizeof b->from[i];
        b->mm[i].msg_hdr.msg_controllen = sizeof b->control[i].buf;
    }
    b->last_got = 0;
    const struct addr *bound = bound_of(fd);
    b->lean = bound != NULL;
    int got = recvmmsg(fd, b->mm, (unsigned)b->n, 0, NULL);
    if (got < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    if (got == 0)
        return -EAGAIN;
    b->last_got = got;
    for (int i = 0; i < got; i++) {
        struct udp_msg *m = &b->msg[i];
        struct udp_rx *rx = &m->rx;
        struct msghdr *h = &b->mm[i].msg_hdr;
        const struct sockaddr_storage *ss = &b->from[i];
        m->len = h->msg_flags & MSG_TRUNC ? -EMSGSIZE : (int)b->mm[i].msg_len;
        rx->local.port = 0;
        if (ss->ss_family == AF_INET) {
            /* the common case, without udp_from_sockaddr()'s clearing of the whole address */
            const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
            rx->remote.family = ADDR_INET4;
            memcpy(rx->remote.bytes, &sin->sin_addr, 4);
            rx->remote.port = ntohs(sin->sin_port);
        } else {
            (void)udp_from_sockaddr(ss, &rx->remote);
        }
        batch_cmsgs(h, rx, bound);
        if (rx->ts_source != UDP_TS_KERNEL) {
            if (fallback_ns == 0) {
                struct timespec now;
                if (clock_gettime(CLOCK_REALTIME, &now) == 0)
                    fallback_ns = ts_to_ns(&now);
            }
            rx->rx_real_ns = fallback_ns;
        }
    }
    return got;
}

/* Slot k's header for its datagram: destination, length, source address, and the request of
 * a transmit timestamp when the slot asks for one. */
__attribute__((always_inline)) static inline void reply_hdr(struct udp_batch *b, int k)
{
    const struct udp_reply *r = &b->replies[k];
    const int to = r->to;
    const struct udp_rx *rx = &b->msg[to].rx;
    struct msghdr *m = &b->out_mm[k].msg_hdr;
    m->msg_name = &b->from[to];
    m->msg_namelen = b->mm[to].msg_hdr.msg_namelen;
    b->out_iov[k].iov_len = (size_t)r->len;
    if (b->lean) {
        /* a socket bound to one address: the kernel sends from it, no pktinfo */
        if (!r->txts) {
            if (b->out_ctl_v4[k] != 3) {
                m->msg_control = NULL;
                m->msg_controllen = 0;
                b->out_ctl_v4[k] = 3;
            }
            return;
        }
        m->msg_control = NULL;
        m->msg_controllen = 0;
        put_txts(m, &b->out_control[k]);
        b->out_ctl_v4[k] = 0;
        return;
    }
    if (rx->local.family == ADDR_INET4 && b->out_ctl_v4[k] == 1 + r->txts) {
        /* header, msg_control and msg_controllen in place (out_ctl_init_v4): the source
         * address and interface only (an IPv4 local address means an IPv4 socket and peer:
         * IPv6 sockets are V6ONLY) */
        struct in_pktinfo *pi = (struct in_pktinfo *)(void *)(b->out_control[k].buf + CMSG_LEN(0));
        memcpy(&pi->ipi_spec_dst, rx->local.bytes, 4);
        pi->ipi_ifindex = rx->ifindex;
        return;
    }
    if (rx->local.family == ADDR_INET4 && rx->remote.family == ADDR_INET4) {
        if (b->out_ctl_v4[k] != 1 && b->out_ctl_v4[k] != 2)
            out_ctl_init_v4(b, k); /* the slot held an IPv6 pktinfo, or nothing */
        out_ctl_v4_txts(b, k, r->txts);
        struct in_pktinfo *pi = (struct in_pktinfo *)(void *)(b->out_control[k].buf + CMSG_LEN(0));
        memcpy(&pi->ipi_spec_dst, rx->local.bytes, 4);
        pi->ipi_ifindex = rx->ifindex;
        return;
    }
    b->out_ctl_v4[k] = 0;
    put_pktinfo(m, &b->out_control[k], &rx->remote, &rx->local, rx->ifindex);
    if (r->txts)
        put_txts(m, &b->out_control[k]);
}

/* A reply whose transmit-timestamp request the kernel refused (EINVAL: no per-datagram
 * SO_TIMESTAMPING before Linux 4.13) goes again without it; the batch remembers. 1 if sent. */
static int resend_without_txts(int fd, struct udp_batch *b, int k, int err)
{
    if (err != EINVAL || !b->replies[k].txts)
        return 0;
    b->txts_refused = 1;
    b->replies[k].txts = 0;
    reply_hdr(b, k);
    return sendmsg(fd, &b->out_mm[k].msg_hdr, 0) >= 0;
}

/* sendmmsg's own refusals (as opposed to one datagram's). */
static int mmsg_refusal(int err)
{
    return err == ENOSYS || err == EINVAL || err == EPERM || err == EACCES || err == ENOTSOCK ||
           err == EBADF || err == EOPNOTSUPP;
}

int udp_batch_send(int fd, struct udp_batch *b, int first, int count, int use_mmsg)
{
    int sent = 0;
    if (first < 0 || count <= 0 || first + count > b->n)
        return 0;
    for (int k = first; k < first + count; k++)
        reply_hdr(b, k);
    int k = first, end = first + count;
    while (k < end) {
        if (use_mmsg && !b->mmsg_refused && end - k > 1) {
            int r = sendmmsg(fd, &b->out_mm[k], (unsigned)(end - k), 0);
            if (r > 0) {
                sent += r;
                k += r;
                continue;
            }
            /* The first datagram failed, or sendmmsg itself did: sendmsg tells which. */
            int err = r < 0 ? errno : 0;
            if (sendmsg(fd, &b->out_mm[k].msg_hdr, 0) >= 0) {
                sent++;
                if (mmsg_refusal(err))
                    b->mmsg_refused = 1;
            } else if (resend_without_txts(fd, b, k, errno)) {
                sent++;
            }
            k++;
            continue;
        }
        if (sendmsg(fd, &b->out_mm[k].msg_hdr, 0) >= 0 || resend_without_txts(fd, b, k, errno))
            sent++;
        k++;
    }
    return sent;
}

int udp_steer_by_address(int fd, int n, int v6)
{
    if (n < 1 || n > 65536)
        return -EINVAL;
    /* A = the source address (IPv6: its four words XORed), A = (A * 2^32/phi) >> 16 (a
     * multiplicative hash: the high bits of the product mix every bit of the address), return
     * A mod n. SKF_NET_OFF addresses the network header (the program runs at the UDP
     * payload). Constant per n, so it cannot be aimed at one socket any better than the
     * kernel's own hash could. */
    const uint32_t net = (uint32_t)SKF_NET_OFF;
    struct sock_filter v4prog[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, net + 12),
        BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9E3779B1u),
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, (uint32_t)n),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_filter v6prog[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, net + 8),
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, net + 12),
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, net + 16),
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, net + 20),
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
        BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9E3779B1u),
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, (uint32_t)n),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    /* cleared first: the padding after len goes to the kernel too (valgrind checks it) */
    struct sock_fprog prog;
    memset(&prog, 0, sizeof prog);
    prog.len =
        (unsigned short)(v6 ? sizeof v6prog / sizeof v6prog[0] : sizeof v4prog / sizeof v4prog[0]);
    prog.filter = v6 ? v6prog : v4prog;
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0)
        return -errno;
    return 0;
}

/* The socket number udp_steer_by_address()'s program picks for address a among n (what the
 * kernel computes, for tests and logs). */
int udp_steer_index(const struct addr *a, int n)
{
    uint32_t w;
    if (a->family == ADDR_INET6) {
        w = 0;
        for (int i = 0; i < 4; i++)
            w ^= (uint32_t)a->bytes[4 * i] << 24 | (uint32_t)a->bytes[4 * i + 1] << 16 |
                 (uint32_t)a->bytes[4 * i + 2] << 8 | a->bytes[4 * i + 3];
    } else {
        w = (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 | (uint32_t)a->bytes[2] << 8 |
            a->bytes[3];
    }
    return (int)(((w * 0x9E3779B1u) >> 16) % (uint32_t)n);
}

int udp_wait_readable(const int *fds, int n, int timeout_ms)
{
    struct pollfd p[8];
    if (n < 0 || n > 8)
        return -EINVAL;
    for (int i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    int r = poll(p, (nfds_t)n, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -errno;
    int mask = 0;
    for (int i = 0; i < n; i++)
        if (p[i].revents & (POLLIN | POLLERR))
            mask |= 1 << i;
    return mask;
}

void udp_close(int fd)
{
    if (fd < 0)
        return;
    mark_ts(fd, 0);
    set_bound(fd, NULL);
    close(fd);
}
