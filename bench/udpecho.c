/* udpecho: the bare batched UDP echo that sets the machine's ceiling for the server benchmark.
 *
 * One thread, one socket, recvmmsg/sendmmsg in batches: everything a UDP server must do in the
 * kernel and almost nothing in user space. To pass the load generator's checks it turns each
 * NTP request into a same-size "reply" by setting the mode to 4 (server) and copying the
 * request's transmit timestamp into the origin field; nothing else is computed.
 *
 * Bounded: exits on SIGINT/SIGTERM, or after --lifetime seconds (default 300), or after --count
 * datagrams if given. Prints the number of datagrams echoed to stderr at exit.
 *
 * To tell the kernel's share of a real server's cost from its own (docs/design/bench.md), -K
 * asks the kernel for what tempusd asks of it: a software receive timestamp (SO_TIMESTAMPING)
 * and IP_PKTINFO on every datagram, and every reply sent from the address its request came to
 * (an IP_PKTINFO control message); -c N sends the replies of a batch in sendmmsg calls of at
 * most N; -P waits in poll() and reads with MSG_DONTWAIT, as tempusd's loop does, instead of
 * blocking in recvmmsg. -k FLAGS asks for parts of -K, to price them one by one: t a software
 * receive timestamp (SO_TIMESTAMPING), n the same from SO_TIMESTAMPNS (a single timespec
 * instead of scm_timestamping's three), i IP_PKTINFO on every received datagram, o an
 * IP_PKTINFO control message on every reply (its source address: the request's destination
 * with i, else the bound address); -K is -k tio.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH   64
#define BUF_LEN 1024
#define CTL_LEN 256 /* a timestamping block and a pktinfo, aligned */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: udpecho [-s ADDR] [-p PORT] [-T LIFETIME_S] [-n COUNT] [-C N] [-K] "
                 "[-k FLAGS] [-c N] [-P]\n"
                 "Echo NTP requests on ADDR:PORT (127.0.0.1:123) as mode-4 datagrams of the "
                 "same size.\n"
                 "-C N spoils the origin timestamp of every Nth reply (tests the load "
                 "generator's check).\n"
                 "-K kernel receive timestamps and IP_PKTINFO in, IP_PKTINFO out (as tempusd)\n"
                 "-k FLAGS parts of -K: t SO_TIMESTAMPING, n SO_TIMESTAMPNS, i IP_PKTINFO in, o "
                 "IP_PKTINFO out\n"
                 "-c N at most N replies per sendmmsg (64)\n"
                 "-P wait in poll(), read with MSG_DONTWAIT (as tempusd's loop)\n");
}

int main(int argc, char **argv)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(123);
    unsigned long lifetime_s = 300;
    uint64_t max_count = UINT64_MAX;
    unsigned long corrupt_every = 0; /* test aid: spoil the origin of every Nth reply */
    int ts_ing = 0, ts_ns = 0, pktinfo_in = 0, pktinfo_out = 0, use_poll = 0;
    unsigned long chunk = BATCH;
    int c;
    while ((c = getopt(argc, argv, "s:p:T:n:C:Kk:c:Ph")) != -1) {
        char *end;
        switch (c) {
        case 's':
            if (inet_pton(AF_INET, optarg, &addr.sin_addr) != 1 ||
                (ntohl(addr.sin_addr.s_addr) >> 24) != 127) {
                fprintf(stderr, "udpecho: address must be in 127.0.0.0/8\n");
                return 1;
            }
            break;
        case 'p': {
            unsigned long p = strtoul(optarg, &end, 10);
            if (*end || p == 0 || p > 65535) {
                fprintf(stderr, "udpecho: bad port\n");
                return 1;
            }
            addr.sin_port = htons((uint16_t)p);
            break;
        }
        case 'T':
            lifetime_s = strtoul(optarg, &end, 10);
            if (*end || lifetime_s == 0 || lifetime_s > 3600) {
                fprintf(stderr, "udpecho: bad lifetime\n");
                return 1;
            }
            break;
        case 'n':
            max_count = strtoull(optarg, &end, 10);
            if (*end || max_count == 0) {
                fprintf(stderr, "udpecho: bad count\n");
                return 1;
            }
            break;
        case 'C':
            corrupt_every = strtoul(optarg, &end, 10);
            if (*end) {
                fprintf(stderr, "udpecho: bad -C\n");
                return 1;
            }
            break;
        case 'K':
            ts_ing = pktinfo_in = pktinfo_out = 1;
            break;
        case 'k':
            for (const char *f = optarg; *f; f++) {
                if (*f == 't')
                    ts_ing = 1;
                else if (*f == 'n')
                    ts_ns = 1;
                else if (*f == 'i')
                    pktinfo_in = 1;
                else if (*f == 'o')
                    pktinfo_out = 1;
                else {
                    fprintf(stderr, "udpecho: bad -k flag %c\n", *f);
                    return 1;
                }
            }
            break;
        case 'c':
            chunk = strtoul(optarg, &end, 10);
            if (*end || chunk == 0 || chunk > BATCH) {
                fprintf(stderr, "udpecho: bad -c\n");
                return 1;
            }
            break;
        case 'P':
            use_poll = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("udpecho: socket");
        return 1;
    }
    int size = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    const int rx_control = ts_ing || ts_ns || pktinfo_in;
    {
        int on = 1;
        int ts = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
        if ((ts_ing && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &ts, sizeof(ts)) < 0) ||
            (ts_ns && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0) ||
            (pktinfo_in && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) < 0)) {
            perror("udpecho: -K/-k");
            close(fd);
            return 1;
        }
    }
    if (use_poll && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        perror("udpecho: -P");
        close(fd);
        return 1;
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        perror("udpecho: bind");
        close(fd);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked recvmmsg returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    alarm((unsigned)lifetime_s);

    static unsigned char bufs[BATCH][BUF_LEN];
    static struct sockaddr_in peers[BATCH];
    static struct iovec iovs[BATCH];
    static struct mmsghdr msgs[BATCH];
    /* -K: received control messages, and the pktinfo each reply is sent with */
    static _Alignas(struct cmsghdr) unsigned char rx_ctl[BATCH][CTL_LEN];
    static _Alignas(
        struct cmsghdr) unsigned char tx_ctl[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
    for (int i = 0; i < BATCH; i++) {
        iovs[i].iov_base = bufs[i];
        iovs[i].iov_len = BUF_LEN;
        msgs[i].msg_hdr.msg_name = &peers[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (pktinfo_out) {
            struct msghdr h = {.msg_control = tx_ctl[i], .msg_controllen = sizeof tx_ctl[i]};
            struct cmsghdr *cm = CMSG_FIRSTHDR(&h);
            cm->cmsg_level = IPPROTO_IP;
            cm->cmsg_type = IP_PKTINFO;
            cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        }
    }
    uint64_t echoed = 0;
    int n = 0;
    while (!stop && echoed < max_count) {
        /* Reset only what the last round changed: the per-reply work stays minimal. */
        for (int i = 0; i < n; i++) {
            iovs[i].iov_len = BUF_LEN;
            msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
        }
        if (rx_control) {
            for (int i = 0; i < (n ? n : BATCH); i++) {
                msgs[i].msg_hdr.msg_control = rx_ctl[i];
                msgs[i].msg_hdr.msg_controllen = CTL_LEN;
            }
        } else if (pktinfo_out) {
            for (int i = 0; i < n; i++) {
                msgs[i].msg_hdr.msg_control = NULL;
                msgs[i].msg_hdr.msg_controllen = 0;
            }
        }
        if (use_poll) {
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            if (poll(&pf, 1, -1) < 0) {
                n = 0;
                if (errno == EINTR)
                    continue;
                perror("udpecho: poll");
                break;
            }
        }
        n = recvmmsg(fd, msgs, BATCH, use_poll ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
        if (n < 0) {
            n = 0;
            if (errno == EINTR || errno == EAGAIN)
                continue;
            perror("udpecho: recvmmsg");
            break;
        }
        for (int i = 0; i < n; i++) {
            unsigned char *p = bufs[i];
            iovs[i].iov_len = msgs[i].msg_len; /* same size back */
            if (rx_control || pktinfo_out) {
                /* reply from the address the request came to, as tempusd: read the pktinfo
                 * (after the timestamp) and the stamp itself, as a server would */
                struct in_pktinfo pi;
                memset(&pi, 0, sizeof pi);
                pi.ipi_addr = addr.sin_addr;
                if (rx_control)
                    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm;
                         cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
                        if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
                            memcpy(&pi, CMSG_DATA(cm), sizeof pi);
                    }
                pi.ipi_spec_dst = pi.ipi_addr;
                pi.ipi_addr.s_addr = 0;
                if (pktinfo_out) {
                    memcpy(CMSG_DATA((struct cmsghdr *)(void *)tx_ctl[i]), &pi, sizeof pi);
                    msgs[i].msg_hdr.msg_control = tx_ctl[i];
                    msgs[i].msg_hdr.msg_controllen = sizeof tx_ctl[i];
                } else {
                    msgs[i].msg_hdr.msg_control = NULL;
                    msgs[i].msg_hdr.msg_controllen = 0;
                }
            }
            if (msgs[i].msg_len >= 48) {
                p[0] = (unsigned char)((p[0] & 0x38) | 4); /* keep VN, LI 0, mode 4 */
                memcpy(p + 24, p + 40, 8);                 /* origin = request's transmit */
                p[1] = 10; /* stratum 10, as a "local stratum 10" server: not a kiss-o-death */
                if (corrupt_every && (echoed + (uint64_t)i + 1) % corrupt_every == 0)
                    p[31] ^= 0x80;
            }
        }
        int done = 0;
        while (done < n) {
            unsigned left = (unsigned)(n - done);
            int r = sendmmsg(fd, msgs + done, left < chunk ? left : (unsigned)chunk, 0);
            if (r < 0) {
                if (errno == EINTR && !stop)
                    continue;
                done++; /* skip it: a lost reply, which the load generator counts */
                continue;
            }
            done += r;
        }
        echoed += (uint64_t)n;
    }
    fprintf(stderr, "udpecho: echoed %" PRIu64 " datagrams\n", echoed);
    close(fd);
    return 0;
}
