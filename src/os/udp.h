/* UDP sockets for NTP: IPv4 and IPv6, kernel receive timestamps, the local address a datagram
 * arrived on, and fresh random source ports for client requests (RFC 9109).
 *
 * ARCHITECTURE.md's surface: plain SOCK_DGRAM made non-blocking with fcntl; recvmsg with one
 * iovec; sendmsg; receive timestamps from SO_TIMESTAMPING (software), else SO_TIMESTAMPNS, else
 * a CLOCK_REALTIME read right after recvmsg. A socket option that cannot be set is not fatal.
 */
#ifndef TEMPUS_OS_UDP_H
#define TEMPUS_OS_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"

struct sockaddr_storage;

/* udp_open() flags */
#define UDP_OPEN_NO_TIMESTAMPS 0x1 /* skip kernel timestamps (tests the fallback path) */
#define UDP_OPEN_REUSEADDR     0x2 /* SO_REUSEADDR, for a server port */
#define UDP_OPEN_REUSEPORT     0x4 /* SO_REUSEPORT: one of several sockets on a port (workers) */
/* Kernel software transmit timestamps of every datagram sent (client request sockets): each
 * comes back on the socket's error queue (poll reports POLLERR) with the datagram, for
 * udp_recv_txts(). Ignored with UDP_OPEN_NO_TIMESTAMPS. */
#define UDP_OPEN_TX_TIMESTAMPS 0x8
/* Server sockets: IP_PKTINFO / IPV6_RECVPKTINFO only when bound to the wildcard address. A
 * socket bound to one address receives only what was sent to that address, and its replies
 * leave from it without a control message: udp_batch_recv() gives every datagram the bound
 * address as rx.local (ifindex 0) and udp_batch_send() sends without a pktinfo, instead of the
 * kernel writing and reading one per datagram in and out (~2-3 % of a reply's CPU time on
 * loopback: docs/design/ntp-wire-and-server.md). udp_recv() too gives the bound address. */
#define UDP_OPEN_PKTINFO_IF_WILDCARD 0x10
/* Server sockets: receive timestamps from SO_TIMESTAMPNS (one timespec per datagram) instead
 * of SO_TIMESTAMPING (scm_timestamping's three): the same software stamp for ~1.5 % less of
 * a reply's CPU time. Transmit stamps asked for per datagram (udp_reply.txts) still come
 * back on the error queue, as SCM_TIMESTAMPNS (udp_parse_txts() takes both). Ignored with
 * UDP_OPEN_TX_TIMESTAMPS, which needs SO_TIMESTAMPING. */
#define UDP_OPEN_RX_TIMESTAMPNS 0x20

/* Where a receive timestamp came from, as chrony's measurements log prints it. */
enum udp_ts_source {
    UDP_TS_DAEMON = 'D', /* clock read after recvmsg */
    UDP_TS_KERNEL = 'K', /* SO_TIMESTAMPING / SO_TIMESTAMPNS software stamp */
};

/* What the kernel told us about one received datagram. */
struct udp_rx {
    struct addr remote; /* sender, with port */
    struct addr local;  /* address it was sent to (IP_PKTINFO), port = the socket's */
    int ifindex;        /* interface it arrived on, 0 if unknown */
    int64_t rx_real_ns; /* CLOCK_REALTIME at reception, ns since the Unix epoch */
    enum udp_ts_source ts_source;
};

/* Opens a non-blocking UDP socket bound to local (its family picks IPv4/IPv6; port 0 = an
 * ephemeral port the kernel picks at random, which is what client requests use). IPv6
 * sockets are IPV6_V6ONLY. Returns the fd or -errno. */
int udp_open(const struct addr *local, int flags);

/* Asks for a receive buffer of bytes on fd: SO_RCVBUFFORCE (with CAP_NET_ADMIN), else
 * SO_RCVBUF, which the kernel caps at net.core.rmem_max; never shrinks the buffer. Returns the
 * size the kernel reports afterwards (twice the request: it counts its own bookkeeping), or
 * -errno. A server socket needs one to absorb bursts while the daemon is busy elsewhere. */
int udp_set_rcvbuf(int fd, int bytes);

/* 1 when fd delivers kernel receive timestamps, 0 when it falls back to a clock read. */
int udp_has_kernel_timestamps(int fd);

/* 1 when fd was set up for kernel transmit timestamps of every datagram (UDP_OPEN_TX_TIMESTAMPS
 * and the kernel accepted it), else 0. */
int udp_has_tx_timestamps(int fd);

/* A transmit timestamp the kernel looped back on a socket's error queue. */
struct udp_txts {
    int64_t tx_real_ns;     /* CLOCK_REALTIME when the datagram left (the software stamp) */
    uint32_t key;           /* the error's ee_data (the OPT_ID counter; 0 without OPT_ID) */
    const uint8_t *payload; /* the UDP payload that was sent, inside the caller's buffer;
                             * NULL when the kernel returned none (OPT_TSONLY) or its headers
                             * could not be read */
    size_t payload_len;
    struct addr to; /* where the datagram went (its IP and UDP headers); ADDR_UNSPEC with no
                     * payload */
};

struct msghdr;

/* Parses one message as recvmsg(MSG_ERRQUEUE) left it in msg, its single iovec holding
 * data_len bytes: the looped datagram (a link-layer header, if any, IPv4 or IPv6, UDP) and the
 * control messages SCM_TIMESTAMPING (or SCM_TIMESTAMPNS: a UDP_OPEN_RX_TIMESTAMPNS socket) and
 * IP_RECVERR / IPV6_RECVERR with a
 * sock_extended_err of origin SO_EE_ORIGIN_TIMESTAMPING, kind SCM_TSTAMP_SND. Returns 1 with
 * *out set for a software transmit timestamp, 0 for anything else (an ICMP error, a stamp of
 * another kind, a zero stamp). Pure (no system call): unit-tested with crafted messages. */
int udp_parse_txts(const struct msghdr *msg, size_t data_len, struct udp_txts *out);

/* Reads one message of fd's error queue into buf (cap bytes; the looped datagram with its
 * headers: 128 bytes hold a 48-byte NTP packet). Returns 1 with *out set (out->payload points
 * into buf) for a transmit timestamp, 0 for another error-queue message (consumed), -EAGAIN
 * when the queue is empty, or another -errno. */
int udp_recv_txts(int fd, uint8_t *buf, size_t cap, struct udp_txts *out);

/* The port fd is bound to (host order), or -errno. */
int udp_local_port(int fd);

/* Receives one datagram into buf (cap bytes). Returns its length (truncated datagrams are
 * dropped: -EMSGSIZE), -EAGAIN when nothing is queued, or another -errno. */
int udp_recv(int fd, uint8_t *buf, size_t cap, struct udp_rx *rx);

/* One datagram of a batch. */
struct udp_msg {
    uint8_t *buf; /* the batch's, cap bytes */
    size_t cap;
    int len; /* received length, or -EMSGSIZE (truncated: drop it) */
    struct udp_rx rx;
};

/* Most datagrams one batch holds. */
#define UDP_BATCH_MAX 64

/* A reusable batch for the server socket: buffers, addresses and control messages set up once,
 * so that a datagram costs the system call's share and the parsing, nothing else. */
struct udp_batch;

/* A batch of n (1..UDP_BATCH_MAX) datagrams of cap bytes each. NULL on ENOMEM. */
struct udp_batch *udp_batch_new(int n, size_t cap);
void udp_batch_free(struct udp_batch *b);

/* The batch's datagrams (n of them): valid after udp_batch_recv() up to the count it returned. */
struct udp_msg *udp_batch_msgs(struct udp_batch *b);

/* Receives up to n datagrams with one recvmmsg() (ARCHITECTURE.md's surface: one iovec per
 * message), each as udp_recv() would, except that rx.local.port is 0 (no getsockname per
 * datagram) and datagrams without a kernel timestamp share one clock read. Returns the count
 * (> 0), -EAGAIN when nothing is queued, or another -errno. */
int udp_batch_recv(int fd, struct udp_batch *b);

/* Reply slots: the batch has n of them, each a buffer the caller writes a reply into, the
 * index of the datagram it answers, and its length. Set up once: sending one costs the
 * destination, the length and the source address (pktinfo), nothing else. */
#define UDP_REPLY_MAX 128 /* an NTPv3 reply with a SHA512 MAC: 48 + 4 + 64 */
struct udp_reply {
    uint8_t buf[UDP_REPLY_MAX];
    int to;   /* index of the received datagram it answers (its sender, its local address) */
    int len;  /* bytes of buf to send, <= UDP_REPLY_MAX */
    int txts; /* 1: ask the kernel for this reply's transmit timestamp (a SO_TIMESTAMPING
               * control message, Linux >= 4.13; it comes back on the socket's error queue,
               * udp_recv_txts()); 0: none. Set it on every slot used. */
};

/* The batch's n reply slots. */
struct udp_reply *udp_batch_replies(struct udp_batch *b);

/* Sends reply slots first .. first+count-1, each back to the sender of its datagram from the
 * address that datagram was sent to (IP_PKTINFO / IPV6_PKTINFO, with its interface). With
 * use_mmsg, with one sendmmsg() (outside ARCHITECTURE.md's default surface, hence optional);
 * if the kernel (or a seccomp filter, or a system call interposer) refuses sendmmsg itself
 * (ENOSYS, EINVAL, EPERM, EACCES, ENOTSOCK, EBADF, EOPNOTSUPP with nothing sent), the batch
 * remembers it, sends with sendmsg from then on, and udp_batch_mmsg_refused() says so. A
 * reply the kernel refuses does not stop the ones after it. Returns the number sent. */
int udp_batch_send(int fd, struct udp_batch *b, int first, int count, int use_mmsg);

/* 1 once the kernel refused a reply's transmit-timestamp request (EINVAL: a kernel before
 * 4.13): that reply was sent again without it, and the caller should stop asking. */
int udp_batch_txts_refused(const struct udp_batch *b);

/* 1 once sendmmsg was refused on this batch (it then uses sendmsg). */
int udp_batch_mmsg_refused(const struct udp_batch *b);

/* For tests: makes this batch behave as if sendmmsg had been refused (on = 1) or lifts it. */
void udp_batch_refuse_mmsg(struct udp_batch *b, int on);

/* Sends len bytes to `to`. from (may be NULL) selects the source address on a wildcard-bound
 * socket (replies leave from the address the request came to), with ifindex (0 = any).
 * 0 or -errno. */
int udp_send(int fd, const uint8_t *buf, size_t len, const struct addr *to, const struct addr *from,
             int ifindex);

/* udp_send() without pktinfo, asking the kernel for this one datagram's software transmit
 * timestamp (a SO_TIMESTAMPING control message, Linux >= 4.13; the stamp comes back on fd's
 * error queue: udp_recv_txts()). A kernel that refuses the control message (EINVAL) gets
 * the datagram without it: *stamped (may be NULL) says which. 0 or -errno. */
int udp_send_txts(int fd, const uint8_t *buf, size_t len, const struct addr *to, int *stamped);

/* For the server workers: makes the SO_REUSEPORT group fd belongs to (n sockets bound to
 * one address and port, fd among them) hand every datagram to socket number hash(source
 * address) mod n, numbered in the order they were bound, instead of the kernel's hash of
 * source and destination address and port: a client then always reaches the same socket
 * whatever its source port (a classic BPF program, SO_ATTACH_REUSEPORT_CBPF, Linux >= 4.5).
 * v6: the group is of IPv6 sockets. 0 or -errno (the kernel's own spreading stays). */
int udp_steer_by_address(int fd, int n, int v6);

/* The socket number (0..n-1) udp_steer_by_address()'s program picks for a datagram from a
 * (the same computation in C: tests, logs). */
int udp_steer_index(const struct addr *a, int n);

/* Waits up to timeout_ms (-1: no limit) for any of fds[0..n) (n <= 8) to be readable, with
 * poll(). Returns a bit mask of the readable ones (bit i: fds[i]; 0 on timeout or EINTR), or
 * -errno. */
int udp_wait_readable(const int *fds, int n, int timeout_ms);

/* Closes fd; negative fds are ignored. */
void udp_close(int fd);

/* struct addr <-> sockaddr. udp_to_sockaddr returns the sockaddr length or -EAFNOSUPPORT;
 * udp_from_sockaddr returns 0 or -EAFNOSUPPORT. */
int udp_to_sockaddr(const struct addr *a, struct sockaddr_storage *ss);
int udp_from_sockaddr(const struct sockaddr_storage *ss, struct addr *a);

#endif
