/* os/udp: datagrams to ourselves on loopback (IPv4 and IPv6), kernel receive timestamps and
 * their fallback, IP_PKTINFO, random ephemeral source ports, and os/resolve on numbers. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* after <time.h>: errqueue.h uses struct timespec */
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>

#include <cmocka.h>

#include "os/loop.h"
#include "os/resolve.h"
#include "os/udp.h"

static struct addr loopback(int family, uint16_t port)
{
    struct addr a;
    memset(&a, 0, sizeof a);
    a.family = family == 6 ? ADDR_INET6 : ADDR_INET4;
    if (family == 6) {
        a.bytes[15] = 1;
    } else {
        a.bytes[0] = 127;
        a.bytes[3] = 1;
    }
    a.port = port;
    return a;
}

static int wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 2000);
}

static void roundtrip(int family, int flags, int expect_kernel)
{
    struct addr any = loopback(family, 0);
    int srv = udp_open(&any, flags | UDP_OPEN_REUSEADDR);
    if (srv == -EAFNOSUPPORT || srv == -EADDRNOTAVAIL) {
        skip();
        return;
    }
    assert_true(srv >= 0);
    int cli = udp_open(&any, flags);
    assert_true(cli >= 0);
    int srv_port = udp_local_port(srv);
    int cli_port = udp_local_port(cli);
    assert_true(srv_port > 0);
    assert_true(cli_port > 0);
    assert_int_equal(udp_has_kernel_timestamps(srv), expect_kernel);

    struct addr to = loopback(family, (uint16_t)srv_port);
    uint8_t out[48] = {0x23};
    out[47] = 0x5a;
    int64_t before = loop_real_ns();
    assert_int_equal(udp_send(cli, out, sizeof out, &to, NULL, 0), 0);
    assert_int_equal(wait_readable(srv), 1);
    uint8_t in[64];
    struct udp_rx rx;
    assert_int_equal(udp_recv(srv, in, sizeof in, &rx), 48);
    int64_t after = loop_real_ns();
    assert_memory_equal(in, out, 48);
    assert_int_equal(rx.remote.port, cli_port);
    assert_int_equal(rx.local.port, srv_port);
    assert_int_equal(rx.local.family, to.family);
    assert_memory_equal(rx.local.bytes, to.bytes, 16);
    assert_true(rx.ifindex > 0);
    assert_int_equal(rx.ts_source, expect_kernel ? UDP_TS_KERNEL : UDP_TS_DAEMON);
    assert_true(rx.rx_real_ns >= before);
    assert_true(rx.rx_real_ns <= after);

    /* the reply leaves from the address the request came to */
    assert_int_equal(udp_send(srv, in, 48, &rx.remote, &rx.local, rx.ifindex), 0);
    assert_int_equal(wait_readable(cli), 1);
    struct udp_rx rx2;
    assert_int_equal(udp_recv(cli, in, sizeof in, &rx2), 48);
    assert_int_equal(rx2.remote.port, srv_port);
    assert_memory_equal(rx2.remote.bytes, to.bytes, 16);

    assert_int_equal(udp_recv(cli, in, sizeof in, &rx2), -EAGAIN);
    udp_close(srv);
    udp_close(cli);
}

static void test_ipv4_kernel_timestamps(void **state)
{
    (void)state;
    roundtrip(4, 0, 1);
}

/* The daemon's per-request socket (wildcard address, kernel-chosen port, as the executor
 * opens one per request) gets the reply with a kernel software stamp, taken before the
 * clock read that follows recvmsg and after the send. */
static void test_request_socket_reply_kernel_stamp(void **state)
{
    (void)state;
    struct addr lo = loopback(4, 0);
    struct addr any = lo;
    memset(any.bytes, 0, sizeof any.bytes);
    int srv = udp_open(&lo, UDP_OPEN_REUSEADDR);
    int req = udp_open(&any, 0);
    assert_true(srv >= 0);
    assert_true(req >= 0);
    assert_int_equal(udp_has_kernel_timestamps(req), 1);
    struct addr to = loopback(4, (uint16_t)udp_local_port(srv));
    uint8_t b[48] = {0x23};
    assert_int_equal(udp_send(req, b, sizeof b, &to, NULL, 0), 0);
    assert_int_equal(wait_readable(srv), 1);
    struct udp_rx rx;
    assert_int_equal(udp_recv(srv, b, sizeof b, &rx), 48);
    int64_t sent = loop_real_ns();
    assert_int_equal(udp_send(srv, b, sizeof b, &rx.remote, &rx.local, rx.ifindex), 0);
    assert_int_equal(wait_readable(req), 1);
    /* a pause between arrival and recvmsg: a daemon stamp would carry it, the kernel's not */
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    struct udp_rx r2;
    assert_int_equal(udp_recv(req, b, sizeof b, &r2), 48);
    int64_t read = loop_real_ns();
    assert_int_equal(r2.ts_source, UDP_TS_KERNEL);
    assert_true(r2.rx_real_ns >= sent);
    assert_true(r2.rx_real_ns <= read - 15 * 1000 * 1000);
    assert_true(r2.rx_real_ns - sent < 1000 * 1000 * 1000); /* loose: a loaded machine */
    udp_close(srv);
    udp_close(req);
}

/* An error-queue message as the kernel builds it: the looped datagram (link-layer header,
 * IPv4 or IPv6, UDP, payload) and the control messages SCM_TIMESTAMPING (with_ts 1) or
 * SCM_TIMESTAMPNS (2) and IP(V6)_RECVERR. */
struct crafted {
    uint8_t data[160];
    size_t data_len;
    _Alignas(struct cmsghdr) char control[256];
    struct iovec iov;
    struct msghdr msg;
};

static void craft(struct crafted *c, int v6, const uint8_t *payload, size_t plen, int64_t ts_ns,
                  int with_ts, int with_err, uint32_t origin, uint32_t info)
{
    memset(c, 0, sizeof *c);
    size_t off = 14;
    c->data[12] = v6 ? 0x86 : 0x08;
    c->data[13] = v6 ? 0xdd : 0x00;
    if (v6) {
        c->data[off] = 0x60;
        c->data[off + 4] = (uint8_t)((plen + 8) >> 8);
        c->data[off + 5] = (uint8_t)(plen + 8);
        c->data[off + 6] = IPPROTO_UDP;
        off += 40;
    } else {
        c->data[off] = 0x45;
        c->data[off + 9] = IPPROTO_UDP;
        off += 20;
    }
    c->data[off + 0] = 0x12; /* source port */
    c->data[off + 2] = 0x00; /* destination port 123 */
    c->data[off + 3] = 123;
    c->data[off + 4] = (uint8_t)((plen + 8) >> 8);
    c->data[off + 5] = (uint8_t)(plen + 8);
    off += 8;
    memcpy(c->data + off, payload, plen);
    c->data_len = off + plen;
    c->iov = (struct iovec){.iov_base = c->data, .iov_len = sizeof c->data};
    c->msg.msg_iov = &c->iov;
    c->msg.msg_iovlen = 1;
    c->msg.msg_control = c->control;
    c->msg.msg_controllen = 0;
    struct cmsghdr *h = (struct cmsghdr *)(void *)c->control;
    if (with_ts == 2) { /* SCM_TIMESTAMPNS: a UDP_OPEN_RX_TIMESTAMPNS socket's */
        struct timespec t;
        t.tv_sec = (time_t)(ts_ns / 1000000000);
        t.tv_nsec = (long)(ts_ns % 1000000000);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_TIMESTAMPNS;
        h->cmsg_len = CMSG_LEN(sizeof t);
        memcpy(CMSG_DATA(h), &t, sizeof t);
        c->msg.msg_controllen += CMSG_SPACE(sizeof t);
        h = (struct cmsghdr *)(void *)(c->control + c->msg.msg_controllen);
    } else if (with_ts) {
        struct scm_timestamping t;
        memset(&t, 0, sizeof t);
        t.ts[0].tv_sec = (time_t)(ts_ns / 1000000000);
        t.ts[0].tv_nsec = (long)(ts_ns % 1000000000);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_TIMESTAMPING;
        h->cmsg_len = CMSG_LEN(sizeof t);
        memcpy(CMSG_DATA(h), &t, sizeof t);
        c->msg.msg_controllen += CMSG_SPACE(sizeof t);
        h = (struct cmsghdr *)(void *)(c->control + c->msg.msg_controllen);
    }
    if (with_err) {
        struct sock_extended_err ee;
        memset(&ee, 0, sizeof ee);
        ee.ee_errno = ENOMSG;
        ee.ee_origin = (uint8_t)origin;
        ee.ee_info = info;
        ee.ee_data = 7;
        h->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
        h->cmsg_type = v6 ? IPV6_RECVERR : IP_RECVERR;
        h->cmsg_len = CMSG_LEN(sizeof ee + sizeof(struct sockaddr_in6));
        memcpy(CMSG_DATA(h), &ee, sizeof ee);
        c->msg.msg_controllen += CMSG_SPACE(sizeof ee + sizeof(struct sockaddr_in6));
    }
}

static void test_parse_txts_crafted(void **state)
{
    (void)state;
    uint8_t ntp[48];
    for (size_t i = 0; i < sizeof ntp; i++)
        ntp[i] = (uint8_t)(i * 7 + 1);
    const int64_t t = 1795000000123456789LL;
    struct crafted c;
    struct udp_txts ts;
    for (int v6 = 0; v6 <= 1; v6++) {
        craft(&c, v6, ntp, sizeof ntp, t, 1, 1, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND);
        assert_int_equal(udp_parse_txts(&c.msg, c.data_len, &ts), 1);
        assert_true(ts.tx_real_ns == t);
        assert_int_equal(ts.key, 7);
        assert_non_null(ts.payload);
        assert_int_equal(ts.payload_len, sizeof ntp);
        assert_memory_equal(ts.payload, ntp, sizeof ntp);
        /* a cut datagram: the stamp without the payload */
        assert_int_equal(udp_parse_txts(&c.msg, c.data_len - 1, &ts), 1);
        assert_null(ts.payload);
        /* OPT_TSONLY: no data at all */
        assert_int_equal(udp_parse_txts(&c.msg, 0, &ts), 1);
        assert_null(ts.payload);
        /* a stamp of another kind (scheduler, ACK), an ICMP error, a half message */
        craft(&c, v6, ntp, sizeof ntp, t, 1, 1, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SCHED);
        assert_int_equal(udp_parse_txts(&c.msg, c.data_len, &ts), 0);
        craft(&c, v6, ntp, sizeof ntp, t, 1, 1, SO_EE_ORIGIN_ICMP, SCM_TSTAMP_SND);
        assert_int_equal(udp_parse_txts(&c.msg, c.data_len, &ts), 0);
        craft(&c, v6, ntp, sizeof ntp, t, 0, 1, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND);
        assert_int_equal(udp_parse_txts(&c.msg, c.data_len, &ts), 0);
        craft(&c, v6, ntp, sizeof ntp, t, 1, 0, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND);
        assert_int_equal(udp_parse_txts(&c.msg, c.data_len, &ts), 0);
        /* a zero stamp (hardware only) is no software stamp */
        craft(&c, v6, ntp, sizeof ntp, 0, 1, 1, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND);
        assert_int_equal(udp_parse_txts(&c.msg, c.data_len, &ts), 0);
        /* the stamp as SCM_TIMESTAMPNS (UDP_OPEN_RX_TIMESTAMPNS); zero: none */
        craft(&c, v6, ntp, sizeof ntp, t, 2, 1, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND);
        assert_int_equal(udp_parse_txts(&c.msg, c.data_len, &ts), 1);
        assert_true(ts.tx_real_ns == t);
        assert_int_equal(ts.payload_len, sizeof ntp);
        craft(&c, v6, ntp, sizeof ntp, 0, 2, 1, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND);
        assert_int_equal(udp_parse_txts(&c.msg, c.data_len, &ts), 0);
        /* a control length beyond the buffer stops the walk */
        craft(&c, v6, ntp, sizeof ntp, t, 1, 1, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND);
        c.msg.msg_controllen = CMSG_LEN(0) + 4;
        assert_int_equal(udp_parse_txts(&c.msg, c.data_len, &ts), 0);
    }
    /* not UDP: no payload, the stamp still counts */
    craft(&c, 0, ntp, sizeof ntp, t, 1, 1, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND);
    c.data[14 + 9] = IPPROTO_TCP;
    assert_int_equal(udp_parse_txts(&c.msg, c.data_len, &ts), 1);
    assert_null(ts.payload);
}

/* A socket with UDP_OPEN_TX_TIMESTAMPS gets the kernel's stamp of each datagram it sends on
 * its error queue (poll says POLLERR), with the datagram: after the clock read before the
 * send, before the one after the error queue was read. */
static void tx_stamps(int family)
{
    struct addr any = loopback(family, 0);
    int srv = udp_open(&any, UDP_OPEN_REUSEADDR);
    if (srv == -EAFNOSUPPORT || srv == -EADDRNOTAVAIL) {
        skip();
        return;
    }
    assert_true(srv >= 0);
    int cli = udp_open(&any, UDP_OPEN_TX_TIMESTAMPS);
    assert_true(cli >= 0);
    assert_int_equal(udp_has_tx_timestamps(cli), 1);
    assert_int_equal(udp_has_tx_timestamps(srv), 0);
    uint8_t buf[256];
    struct udp_txts ts;
    assert_int_equal(udp_recv_txts(cli, buf, sizeof buf, &ts), -EAGAIN);
    struct addr to = loopback(family, (uint16_t)udp_local_port(srv));
    uint8_t out[48];
    for (int k = 0; k < 2; k++) {
        memset(out, 0x40 + k, sizeof out);
        int64_t before = loop_real_ns();
        assert_int_equal(udp_send(cli, out, sizeof out, &to, NULL, 0), 0);
        struct pollfd p = {.fd = cli, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 2000), 1);
        assert_true(p.revents & POLLERR);
        assert_int_equal(udp_recv_txts(cli, buf, sizeof buf, &ts), 1);
        int64_t after = loop_real_ns();
        assert_true(ts.tx_real_ns >= before);
        assert_true(ts.tx_real_ns <= after);
        assert_non_null(ts.payload);
        assert_int_equal(ts.payload_len, sizeof out);
        assert_memory_equal(ts.payload, out, sizeof out);
        assert_int_equal(udp_recv_txts(cli, buf, sizeof buf, &ts), -EAGAIN);
        /* the datagram itself went out and the ordinary receive path is untouched */
        struct udp_rx rx;
        assert_int_equal(wait_readable(srv), 1);
        assert_int_equal(udp_recv(srv, buf, sizeof buf, &rx), 48);
        assert_memory_equal(buf, out, sizeof out);
        assert_int_equal(udp_recv(cli, buf, sizeof buf, &rx), -EAGAIN);
    }
    /* without the flag: no stamps */
    int plain = udp_open(&any, 0);
    assert_true(plain >= 0);
    assert_int_equal(udp_send(plain, out, sizeof out, &to, NULL, 0), 0);
    assert_int_equal(wait_readable(srv), 1);
    assert_int_equal(udp_recv_txts(plain, buf, sizeof buf, &ts), -EAGAIN);
    udp_close(plain);
    udp_close(srv);
    udp_close(cli);
    assert_int_equal(udp_has_tx_timestamps(cli), 0);
}

/* udp_send_txts(): one datagram's stamp from a socket that asks for none by itself (the
 * server socket, whose peer packets need their T1), with the datagram, and only that one. */
static void send_txts(int flags)
{
    struct addr any = loopback(4, 0);
    int srv = udp_open(&any, UDP_OPEN_REUSEADDR);
    assert_true(srv >= 0);
    int sock = udp_open(&any, UDP_OPEN_REUSEADDR | flags);
    assert_true(sock >= 0);
    struct addr to = loopback(4, (uint16_t)udp_local_port(srv));
    uint8_t out[48], buf[256];
    memset(out, 0x5a, sizeof out);
    struct udp_txts ts;
    int stamped = -1;
    int64_t before = loop_real_ns();
    assert_int_equal(udp_send_txts(sock, out, sizeof out, &to, &stamped), 0);
    assert_int_equal(stamped, 1);
    struct pollfd p = {.fd = sock, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
    assert_true(p.revents & POLLERR);
    assert_int_equal(udp_recv_txts(sock, buf, sizeof buf, &ts), 1);
    assert_true(ts.tx_real_ns >= before && ts.tx_real_ns <= loop_real_ns());
    assert_non_null(ts.payload);
    assert_int_equal(ts.payload_len, sizeof out);
    assert_memory_equal(ts.payload, out, sizeof out);
    assert_int_equal(ts.to.port, to.port);
    struct udp_rx rx;
    assert_int_equal(wait_readable(srv), 1);
    assert_int_equal(udp_recv(srv, buf, sizeof buf, &rx), 48);
    /* a plain send on the same socket: no stamp */
    assert_int_equal(udp_send(sock, out, sizeof out, &to, NULL, 0), 0);
    assert_int_equal(wait_readable(srv), 1);
    assert_int_equal(udp_recv_txts(sock, buf, sizeof buf, &ts), -EAGAIN);
    udp_close(sock);
    udp_close(srv);
}

static void test_send_txts(void **state)
{
    (void)state;
    send_txts(0);
    send_txts(UDP_OPEN_RX_TIMESTAMPNS); /* tempusd's server socket (SCM_TIMESTAMPNS) */
}

static void test_tx_timestamps_ipv4(void **state)
{
    (void)state;
    tx_stamps(4);
}

static void test_tx_timestamps_ipv6(void **state)
{
    (void)state;
    tx_stamps(6);
}

static void test_ipv4_fallback_timestamps(void **state)
{
    (void)state;
    roundtrip(4, UDP_OPEN_NO_TIMESTAMPS, 0);
}

static void test_ipv6(void **state)
{
    (void)state;
    roundtrip(6, 0, 1);
}

static void test_truncated_is_dropped(void **state)
{
    (void)state;
    struct addr any = loopback(4, 0);
    int a = udp_open(&any, 0), b = udp_open(&any, 0);
    assert_true(a >= 0 && b >= 0);
    struct addr to = loopback(4, (uint16_t)udp_local_port(b));
    uint8_t big[100] = {0};
    assert_int_equal(udp_send(a, big, sizeof big, &to, NULL, 0), 0);
    assert_int_equal(wait_readable(b), 1);
    uint8_t small[48];
    struct udp_rx rx;
    assert_int_equal(udp_recv(b, small, sizeof small, &rx), -EMSGSIZE);
    udp_close(a);
    udp_close(b);
}

/* RFC 9109: every request socket gets its own port, unpredictable: 16 sockets bound to port 0
 * get (nearly) all different ports, not a sequence. */
/* udp_set_rcvbuf: grows the buffer (to exactly twice the request where SO_RCVBUFFORCE is
 * allowed, i.e. as root), never shrinks it, reports what the kernel granted. */
static void test_set_rcvbuf(void **state)
{
    (void)state;
    struct addr any = loopback(4, 0);
    int fd = udp_open(&any, 0);
    assert_true(fd >= 0);
    int g0 = udp_set_rcvbuf(fd, 0);
    assert_true(g0 > 0);
    assert_int_equal(udp_set_rcvbuf(fd, g0 / 4), g0);
    int g1 = udp_set_rcvbuf(fd, 1 << 20);
    assert_true(g1 >= g0);
    if (geteuid() == 0)
        assert_int_equal(g1, 2 << 20);
    assert_int_equal(udp_set_rcvbuf(fd, 1 << 10), g1);
    udp_close(fd);
    assert_int_equal(udp_set_rcvbuf(-1, 1 << 20), -EBADF);
}

static void test_random_source_ports(void **state)
{
    (void)state;
    struct addr any = loopback(4, 0);
    int ports[16], fds[16];
    for (int i = 0; i < 16; i++) {
        fds[i] = udp_open(&any, 0);
        assert_true(fds[i] >= 0);
        ports[i] = udp_local_port(fds[i]);
    }
    int distinct = 0, sequential = 0;
    for (int i = 0; i < 16; i++) {
        int dup = 0;
        for (int k = 0; k < i; k++)
            dup |= ports[k] == ports[i];
        distinct += !dup;
        if (i > 0 && (ports[i] == ports[i - 1] + 1 || ports[i] == ports[i - 1] - 1))
            sequential++;
    }
    for (int i = 0; i < 16; i++)
        udp_close(fds[i]);
    assert_int_equal(distinct, 16);
    assert_true(sequential < 8);
}

static void test_resolve_numeric(void **state)
{
    (void)state;
    struct addr out[4];
    assert_int_equal(resolve_name("127.0.0.1", 0, 123, out, 4), 1);
    assert_int_equal(out[0].family, ADDR_INET4);
    assert_int_equal(out[0].bytes[0], 127);
    assert_int_equal(out[0].port, 123);
    assert_int_equal(resolve_name("::1", 0, 11123, out, 4), 1);
    assert_int_equal(out[0].family, ADDR_INET6);
    assert_int_equal(out[0].bytes[15], 1);
    assert_int_equal(out[0].port, 11123);
    /* the family filter of -4 / -6 */
    assert_int_equal(resolve_name("::1", 4, 123, out, 4), -ENOENT);
    assert_int_equal(resolve_name("localhost", 4, 123, out, 4) >= 1, 1);
    assert_int_equal(out[0].family, ADDR_INET4);
}

/* Host names resolve beside the caller: start, poll until done. Only names from /etc/hosts
 * ("localhost"): a test must not send DNS queries off this machine. */
static void test_resolve_async(void **state)
{
    (void)state;
    assert_true(resolve_is_numeric("127.0.0.1"));
    assert_true(resolve_is_numeric("::1"));
    assert_false(resolve_is_numeric("localhost"));
    struct resolve_req *r = resolve_start("localhost", 4, 11123);
    assert_non_null(r);
    struct addr out[4];
    int n = -EINPROGRESS;
    int64_t t0 = loop_mono_ns();
    while (n == -EINPROGRESS && loop_mono_ns() - t0 < 5000000000LL) {
        n = resolve_poll(r, out, 4);
        if (n == -EINPROGRESS)
            poll(NULL, 0, 5);
    }
    assert_int_equal(n, 1);
    assert_int_equal(out[0].family, ADDR_INET4);
    assert_int_equal(out[0].bytes[0], 127);
    assert_int_equal(out[0].port, 11123);
    resolve_free(r);
    /* freeing a lookup that may still be running cancels or waits for it */
    resolve_free(resolve_start("localhost", 0, 123));
    resolve_free(NULL);
}

/* recvmmsg batches: several datagrams from two senders arrive in one udp_batch_recv() with
 * their source addresses and ports, the local address (IP_PKTINFO, port 0 by contract) and
 * kernel timestamps; replies sent with udp_batch_send() (sendmsg, sendmmsg, and sendmsg after a
 * refused sendmmsg) reach the right sender with the right bytes, in order; -EAGAIN when empty; a
 * truncated datagram is marked, not delivered whole. */
/* A server socket as the daemon opens one (flags: 0, or the lean server flags), bound to the
 * loopback address, or to the wildcard one with wild. Checks that the lean flags took effect:
 * no IP_PKTINFO / IPV6_RECVPKTINFO on a socket bound to one address, pktinfo on a wildcard
 * one; SO_TIMESTAMPNS instead of SO_TIMESTAMPING. */
static int open_server(int family, int flags, int wild)
{
    struct addr a = loopback(family, 0);
    if (wild)
        memset(a.bytes, 0, sizeof a.bytes);
    int fd = udp_open(&a, flags);
    if (fd < 0)
        return fd;
    int v = -1;
    socklen_t l = sizeof v;
    if (family == 6)
        assert_int_equal(getsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &v, &l), 0);
    else
        assert_int_equal(getsockopt(fd, IPPROTO_IP, IP_PKTINFO, &v, &l), 0);
    assert_int_equal(v != 0, wild || !(flags & UDP_OPEN_PKTINFO_IF_WILDCARD));
    l = sizeof v;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &v, &l), 0);
    assert_int_equal(v != 0, (flags & UDP_OPEN_RX_TIMESTAMPNS) != 0);
    assert_int_equal(udp_has_kernel_timestamps(fd), 1);
    return fd;
}

#define LEAN (UDP_OPEN_PKTINFO_IF_WILDCARD | UDP_OPEN_RX_TIMESTAMPNS)

static void batch_roundtrip(int family, int flags, int wild)
{
    struct addr any = loopback(family, 0);
    int srv = open_server(family, flags, wild), c1 = udp_open(&any, 0), c2 = udp_open(&any, 0);
    assert_true(srv >= 0 && c1 >= 0 && c2 >= 0);
    struct addr to = loopback(family, (uint16_t)udp_local_port(srv));
    struct udp_batch *b = udp_batch_new(8, 64);
    assert_non_null(b);
    assert_int_equal(udp_batch_recv(srv, b), -EAGAIN);
    uint8_t pkt[100];
    for (int i = 0; i < 6; i++) {
        memset(pkt, 'a' + i, sizeof pkt);
        assert_int_equal(udp_send(i % 2 ? c2 : c1, pkt, i == 5 ? 100 : 48, &to, NULL, 0), 0);
    }
    assert_true(wait_readable(srv) > 0);
    int n = udp_batch_recv(srv, b);
    assert_int_equal(n, 6);
    struct udp_msg *m = udp_batch_msgs(b);
    for (int i = 0; i < 6; i++) {
        int port = udp_local_port(i % 2 ? c2 : c1);
        assert_int_equal(m[i].rx.remote.port, port);
        assert_int_equal(m[i].rx.local.family, to.family);
        assert_memory_equal(m[i].rx.local.bytes, to.bytes, 16);
        assert_int_equal(m[i].rx.local.port, 0);
        assert_int_equal(m[i].rx.ts_source, UDP_TS_KERNEL);
        assert_true(m[i].rx.rx_real_ns > 0);
        if (i == 5) {
            assert_int_equal(m[i].len, -EMSGSIZE);
            continue;
        }
        assert_int_equal(m[i].len, 48);
        assert_int_equal(m[i].buf[0], 'a' + i);
    }
    /* one reply alone (sendmsg), then two in one sendmmsg, then two with sendmmsg refused */
    uint8_t got[64];
    struct udp_rx rx;
    struct udp_reply *out = udp_batch_replies(b);
    for (int k = 0; k < 5; k++) {
        memset(out[k].buf, 'V' + k, 48);
        out[k].to = k;
        out[k].len = 48;
    }
    assert_int_equal(udp_batch_send(srv, b, 0, 1, 1), 1);
    assert_int_equal(udp_batch_send(srv, b, 1, 2, 1), 2);
    assert_int_equal(udp_batch_mmsg_refused(b), 0);
    udp_batch_refuse_mmsg(b, 1);
    assert_int_equal(udp_batch_send(srv, b, 3, 2, 1), 2);
    assert_int_equal(udp_batch_send(srv, b, 3, 0, 1), 0);
    assert_int_equal(udp_batch_send(srv, b, 7, 2, 1), 0); /* past the slots */
    /* c1 sent datagrams 0, 2, 4; c2 1, 3 */
    const char want1[] = {'V', 'X', 'Z'}, want2[] = {'W', 'Y'};
    for (int k = 0; k < 3; k++) {
        assert_true(wait_readable(c1) > 0);
        assert_int_equal(udp_recv(c1, got, sizeof got, &rx), 48);
        assert_int_equal(got[0], want1[k]);
        /* the reply came from the address the request was sent to (pktinfo, or the lean
         * socket's own) */
        assert_true(addr_equal(&rx.remote, &to));
        assert_int_equal(rx.local.family, to.family);
    }
    for (int k = 0; k < 2; k++) {
        assert_true(wait_readable(c2) > 0);
        assert_int_equal(udp_recv(c2, got, sizeof got, &rx), 48);
        assert_int_equal(got[0], want2[k]);
    }
    assert_int_equal(udp_recv(c2, got, sizeof got, &rx), -EAGAIN);
    udp_batch_free(b);
    udp_batch_free(NULL);
    assert_null(udp_batch_new(0, 64));
    assert_null(udp_batch_new(UDP_BATCH_MAX + 1, 64));
    udp_close(srv);
    udp_close(c1);
    udp_close(c2);
}

/* A batch's receive buffers hold cap bytes each without overlapping, and with the daemon's
 * cap of 1024 their first lines (what the kernel writes and the server reads first) fall in
 * 64 different sets of a 64-set cache instead of 4 (1024-byte stride: every 16th line). */
static void test_batch_buffer_layout(void **state)
{
    (void)state;
    const size_t caps[] = {48, 64, 1000, 1024};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        struct udp_batch *b = udp_batch_new(UDP_BATCH_MAX, caps[c]);
        assert_non_null(b);
        struct udp_msg *m = udp_batch_msgs(b);
        unsigned char set_used[64] = {0};
        int sets = 0;
        for (int i = 0; i < UDP_BATCH_MAX; i++) {
            assert_int_equal(m[i].cap, caps[c]);
            if (i > 0)
                assert_true(m[i].buf >= m[i - 1].buf + caps[c]);
            memset(m[i].buf, 0x5A, m[i].cap); /* all of it writable (ASan) */
            size_t set = ((uintptr_t)m[i].buf / 64) % 64;
            sets += !set_used[set];
            set_used[set] = 1;
        }
        if (caps[c] == 1024)
            assert_int_equal(sets, 64);
        udp_batch_free(b);
    }
}

/* Reply slots that ask for a transmit timestamp (txts) get one on the server socket's error
 * queue, with the reply and where it went; the others none. Slots switch between the two, with
 * sendmmsg and with sendmsg. */
static void batch_txts(int family, int flags, int wild)
{
    struct addr any = loopback(family, 0);
    int srv = open_server(family, flags, wild), c1 = udp_open(&any, 0);
    if (srv == -EAFNOSUPPORT || srv == -EADDRNOTAVAIL) {
        skip();
        return;
    }
    assert_true(srv >= 0 && c1 >= 0);
    struct addr to = loopback(family, (uint16_t)udp_local_port(srv));
    struct addr c1_addr = loopback(family, (uint16_t)udp_local_port(c1));
    struct udp_batch *b = udp_batch_new(8, 64);
    assert_non_null(b);
    uint8_t pkt[48] = {0x23}, got[64], ebuf[256];
    struct udp_rx rx;
    struct udp_txts ts;
    for (int i = 0; i < 4; i++)
        assert_int_equal(udp_send(c1, pkt, sizeof pkt, &to, NULL, 0), 0);
    assert_true(wait_readable(srv) > 0);
    assert_int_equal(udp_batch_recv(srv, b), 4); /* loopback queues them at the send */
    struct udp_reply *out = udp_batch_replies(b);
    for (int round = 0; round < 3; round++) {
        if (round == 2)
            udp_batch_refuse_mmsg(b, 1);
        for (int k = 0; k < 4; k++) {
            memset(out[k].buf, 'a' + 4 * round + k, 48);
            out[k].to = k;
            out[k].len = 48;
            out[k].txts = (k + round) % 2;
        }
        int64_t before = loop_real_ns();
        assert_int_equal(udp_batch_send(srv, b, 0, 4, 1), 4);
        for (int k = 0; k < 4; k++) {
            assert_true(wait_readable(c1) > 0);
            assert_int_equal(udp_recv(c1, got, sizeof got, &rx), 48);
            assert_int_equal(got[0], 'a' + 4 * round + k);
            assert_true(addr_equal(&rx.remote, &to));
        }
        int64_t after = loop_real_ns();
        for (int k = 0; k < 4; k++) {
            if (!out[k].txts)
                continue;
            assert_int_equal(udp_recv_txts(srv, ebuf, sizeof ebuf, &ts), 1);
            assert_true(ts.tx_real_ns >= before && ts.tx_real_ns <= after);
            assert_non_null(ts.payload);
            assert_int_equal(ts.payload_len, 48);
            assert_int_equal(ts.payload[0], 'a' + 4 * round + k);
            assert_true(addr_equal(&ts.to, &c1_addr));
        }
        assert_int_equal(udp_recv_txts(srv, ebuf, sizeof ebuf, &ts), -EAGAIN);
    }
    assert_int_equal(udp_batch_txts_refused(b), 0);
    udp_batch_free(b);
    udp_close(srv);
    udp_close(c1);
}

static void test_batch_txts_ipv4(void **state)
{
    (void)state;
    batch_txts(4, 0, 0);
}

static void test_batch_txts_ipv6(void **state)
{
    (void)state;
    batch_txts(6, 0, 0);
}

static void test_batch_ipv4(void **state)
{
    (void)state;
    batch_roundtrip(4, 0, 0);
}

static void test_batch_ipv6(void **state)
{
    (void)state;
    batch_roundtrip(6, 0, 0);
}

/* The daemon's server sockets (UDP_OPEN_PKTINFO_IF_WILDCARD | UDP_OPEN_RX_TIMESTAMPNS): bound
 * to one address, datagrams arrive with that address as rx.local and no pktinfo, replies
 * leave from it without one; bound to the wildcard, pktinfo as before; the receive stamps
 * from SO_TIMESTAMPNS, and the transmit stamps a reply asks for come back (SCM_TIMESTAMPNS on
 * the error queue). */
static void test_batch_lean_ipv4(void **state)
{
    (void)state;
    batch_roundtrip(4, LEAN, 0);
    batch_roundtrip(4, LEAN, 1);
    batch_txts(4, LEAN, 0);
    batch_txts(4, LEAN, 1);
}

static void test_batch_lean_ipv6(void **state)
{
    (void)state;
    batch_roundtrip(6, LEAN, 0);
    batch_roundtrip(6, LEAN, 1);
    batch_txts(6, LEAN, 0);
    batch_txts(6, LEAN, 1);
}

/* udp_recv() on a lean socket: the bound address and port as rx.local, a kernel stamp within
 * the exchange. */
static void test_recv_lean(void **state)
{
    (void)state;
    int srv = open_server(4, LEAN, 0);
    struct addr any = loopback(4, 0);
    int cli = udp_open(&any, 0);
    assert_true(srv >= 0 && cli >= 0);
    struct addr to = loopback(4, (uint16_t)udp_local_port(srv));
    uint8_t pkt[48] = {0x23};
    struct udp_rx rx;
    int64_t before = loop_real_ns();
    assert_int_equal(udp_send(cli, pkt, sizeof pkt, &to, NULL, 0), 0);
    assert_true(wait_readable(srv) > 0);
    assert_int_equal(udp_recv(srv, pkt, sizeof pkt, &rx), 48);
    int64_t after = loop_real_ns();
    assert_true(addr_equal(&rx.local, &to));
    assert_int_equal(rx.ifindex, 0);
    assert_int_equal(rx.ts_source, UDP_TS_KERNEL);
    assert_true(rx.rx_real_ns >= before && rx.rx_real_ns <= after);
    udp_close(srv);
    /* a new socket on the same fd number without the flags is not lean */
    int plain = udp_open(&any, 0);
    assert_true(plain >= 0);
    to = loopback(4, (uint16_t)udp_local_port(plain));
    assert_int_equal(udp_send(cli, pkt, sizeof pkt, &to, NULL, 0), 0);
    assert_true(wait_readable(plain) > 0);
    assert_int_equal(udp_recv(plain, pkt, sizeof pkt, &rx), 48);
    assert_true(addr_equal(&rx.local, &to));
    assert_int_not_equal(rx.ifindex, 0); /* from the pktinfo */
    udp_close(plain);
    udp_close(cli);
}

/* Linux turns receive timestamping on for the whole stack through a static key that the
 * first timestamping socket enables asynchronously (a work item): on a machine where no other
 * program keeps one open, the first datagrams arrive unstamped. Keep one socket open for the
 * whole run and wait (at most 2 s) until its own datagrams carry kernel stamps. Returns the
 * socket, or -1 (the tests then report the missing stamps). */
static int warm_up_kernel_timestamps(void)
{
    struct addr any = loopback(4, 0);
    int fd = udp_open(&any, 0);
    if (fd < 0)
        return -1;
    struct addr self = loopback(4, (uint16_t)udp_local_port(fd));
    uint8_t b[48] = {0x23};
    for (int i = 0; i < 200; i++) {
        struct udp_rx rx;
        if (udp_send(fd, b, sizeof b, &self, NULL, 0) == 0 && wait_readable(fd) == 1 &&
            udp_recv(fd, b, sizeof b, &rx) == 48 && rx.ts_source == UDP_TS_KERNEL)
            break;
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return fd;
}

int main(void)
{
    int warm = warm_up_kernel_timestamps();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_kernel_timestamps),
        cmocka_unit_test(test_ipv4_fallback_timestamps),
        cmocka_unit_test(test_request_socket_reply_kernel_stamp),
        cmocka_unit_test(test_parse_txts_crafted),
        cmocka_unit_test(test_tx_timestamps_ipv4),
        cmocka_unit_test(test_send_txts),
        cmocka_unit_test(test_tx_timestamps_ipv6),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_truncated_is_dropped),
        cmocka_unit_test(test_batch_ipv4),
        cmocka_unit_test(test_batch_buffer_layout),
        cmocka_unit_test(test_batch_ipv6),
        cmocka_unit_test(test_batch_txts_ipv4),
        cmocka_unit_test(test_batch_txts_ipv6),
        cmocka_unit_test(test_batch_lean_ipv4),
        cmocka_unit_test(test_batch_lean_ipv6),
        cmocka_unit_test(test_recv_lean),
        cmocka_unit_test(test_set_rcvbuf),
        cmocka_unit_test(test_random_source_ports),
        cmocka_unit_test(test_resolve_numeric),
        cmocka_unit_test(test_resolve_async),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (warm >= 0)
        udp_close(warm);
    return failed;
}
