/* daemon/ntpserve: the server's batch path on loopback. Requests from several client sockets
 * (several 127/8 addresses) reach the server socket before it reads, so that one recvmmsg
 * takes them all; the ones that must be dropped in the middle of the batch (a denied address,
 * a malformed datagram, a reply-mode packet, a truncated one) leave the others' replies intact:
 * right bytes, right client, same order, sent from the address the request came to. Both send
 * modes (sendmmsg in chunks, sendmsg per reply), batches longer than a chunk, the counters,
 * and the reference snapshot in the replies. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/access.h"
#include "core/clientlog.h"
#include "daemon/ntpserve.h"
#include "os/loop.h"
#include "os/udp.h"
#include "wire/ntp.h"

#include "../addr_util.h"

static struct addr a4(int a, int b, int c, int d, uint16_t port)
{
    struct addr x = tu_v4(a, b, c, d);
    x.port = port;
    return x;
}

static int wait_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms);
}

/* A client request whose transmit timestamp is (tag, ~tag). */
static void request(uint8_t *pkt, uint32_t tag, int mode)
{
    memset(pkt, 0, 48);
    pkt[0] = (uint8_t)(4 << 3 | mode);
    pkt[NTP_OFF_POLL] = 6;
    ntp_put_ts(pkt + NTP_OFF_TRANSMIT, (struct ntp_ts64){tag, ~tag});
}

struct fixture {
    int srv;
    struct addr srv_addr;
    int cli[3]; /* 127.0.0.2 (allowed), 127.0.0.66 (denied), 127.0.0.3 (allowed) */
    struct clientlog *cl;
    struct access_table *acc;
    struct ntpserve *ns;
};

/* A synchronised stratum-3 reference, updated a second before now_real_ns. */
static void set_ref(struct ntpserve *ns, int64_t now_real_ns)
{
    struct server_ref ref;
    memset(&ref, 0, sizeof ref);
    ref.synced = 1;
    ref.stratum = 3;
    ref.refid = 0x0A000001u;
    ref.ref_time_ns = now_real_ns - 1000000000LL;
    ntpserve_set_ref(ns, &ref);
}

/* The fixture's server made again with these parameters and clock (access and reference as
 * setup's, the reference updated a second before now_real_ns). */
static void renew_server(struct fixture *f, const struct ntpserve_params *np,
                         const struct clock_ops *clock, int64_t now_real_ns)
{
    ntpserve_free(f->ns);
    f->ns = ntpserve_new(np, 1024, f->cl, clock, NULL);
    assert_non_null(f->ns);
    ntpserve_set_access(f->ns, f->acc);
    set_ref(f->ns, now_real_ns);
}

static void setup(struct fixture *f, int send_batch)
{
    struct addr any = a4(127, 0, 0, 1, 0);
    f->srv = udp_open(&any, 0);
    assert_true(f->srv >= 0);
    f->srv_addr = a4(127, 0, 0, 1, (uint16_t)udp_local_port(f->srv));
    static const int last[3] = {2, 66, 3};
    for (int i = 0; i < 3; i++) {
        struct addr c = a4(127, 0, 0, last[i], 0);
        f->cli[i] = udp_open(&c, 0);
        assert_true(f->cli[i] >= 0);
    }
    struct access_rule rules[] = {
        {.allow = 1, .subnet = {.addr = a4(127, 0, 0, 0, 0), .prefix_len = 8}},
        {.allow = 0, .subnet = {.addr = a4(127, 0, 0, 66, 0), .prefix_len = 32}},
    };
    f->acc = access_compile(rules, 2);
    assert_non_null(f->acc);
    struct clientlog_params cp;
    clientlog_params_default(&cp);
    cp.limit[CLIENTLOG_NTP] = (struct clientlog_ratelimit){1, -8, 64, 2, -1};
    f->cl = clientlog_new(&cp);
    assert_non_null(f->cl);
    struct ntpserve_params np;
    ntpserve_params_default(&np);
    assert_int_equal(np.send_batch, 1);
    np.send_batch = send_batch;
    np.seed = 7;
    f->ns = ntpserve_new(&np, 1024, f->cl, NULL, NULL);
    assert_non_null(f->ns);
    ntpserve_set_access(f->ns, f->acc);
    set_ref(f->ns, loop_real_ns());
}

static void teardown(struct fixture *f)
{
    ntpserve_free(f->ns);
    access_free(f->acc);
    clientlog_free(f->cl);
    udp_close(f->srv);
    for (int i = 0; i < 3; i++)
        udp_close(f->cli[i]);
}

/* Receives the next reply on fd and checks that it answers tag from the server's address. */
static void expect_reply(const struct fixture *f, int fd, uint32_t tag, int64_t t0, int64_t t1)
{
    uint8_t got[128];
    struct udp_rx rx;
    assert_true(wait_readable(fd, 2000) > 0);
    assert_int_equal(udp_recv(fd, got, sizeof got, &rx), 48);
    assert_int_equal(rx.remote.family, ADDR_INET4);
    assert_memory_equal(rx.remote.bytes, f->srv_addr.bytes, 4);
    assert_int_equal(rx.remote.port, f->srv_addr.port);
    assert_int_equal(got[0] & 7, 4);
    assert_int_equal((got[0] >> 3) & 7, 4);
    assert_int_equal(got[NTP_OFF_STRATUM], 3);
    assert_int_equal(ntp_get_u32(got + NTP_OFF_REFID), 0x0A000001u);
    struct ntp_ts64 o = ntp_get_ts(got + NTP_OFF_ORIGIN);
    assert_int_equal(o.sec, tag);
    assert_int_equal(o.frac, ~tag);
    /* receive and transmit within the exchange (ms resolution is enough here) */
    int64_t rx_ns = ntp_time_to_ns(ntp_get_ts(got + NTP_OFF_RECEIVE), t0);
    int64_t tx_ns = ntp_time_to_ns(ntp_get_ts(got + NTP_OFF_TRANSMIT), t0);
    assert_true(rx_ns >= t0 - 1000000 && rx_ns <= t1 + 1000000);
    assert_true(tx_ns >= rx_ns - 1000 && tx_ns <= t1 + 1000000);
}

static void expect_nothing(int fd)
{
    uint8_t got[128];
    struct udp_rx rx;
    assert_int_equal(udp_recv(fd, got, sizeof got, &rx), -EAGAIN);
}

/* Sends everything, then lets the server read until its queue is empty. Returns the number of
 * ntpserve_run() calls that found datagrams. */
static int serve_all(struct fixture *f, int expect_total)
{
    int batches = 0, total = 0;
    assert_true(wait_readable(f->srv, 2000) > 0);
    for (;;) {
        int n = ntpserve_run(f->ns, f->srv);
        if (n == -EAGAIN)
            break;
        assert_true(n > 0);
        total += n;
        batches++;
    }
    assert_int_equal(total, expect_total);
    return batches;
}

static void drops_in_the_middle(int send_batch)
{
    struct fixture f;
    setup(&f, send_batch);
    int64_t t0 = loop_real_ns();
    /* 0 A, 1 C, 2 A, 3 denied, 4 A, 5 C malformed, 6 C mode 4, 7 A, 8 C truncated (2000
     * bytes > the batch's 1024), 9 C */
    uint8_t pkt[2000];
    struct {
        int cli, mode, len;
    } plan[10] = {{0, 3, 48}, {2, 3, 48}, {0, 3, 48}, {1, 3, 48},   {0, 3, 48},
                  {2, 3, 47}, {2, 4, 48}, {0, 3, 48}, {2, 3, 2000}, {2, 3, 48}};
    for (int i = 0; i < 10; i++) {
        memset(pkt, 0, sizeof pkt);
        request(pkt, 1000u + (uint32_t)i, plan[i].mode);
        assert_int_equal(
            udp_send(f.cli[plan[i].cli], pkt, (size_t)plan[i].len, &f.srv_addr, NULL, 0), 0);
    }
    /* all ten queued before the server reads: one batch */
    for (int tries = 0; tries < 100; tries++) {
        uint8_t probe[16];
        if (recv(f.srv, probe, sizeof probe, MSG_PEEK | MSG_DONTWAIT) > 0)
            break;
        (void)wait_readable(f.srv, 20);
    }
    assert_int_equal(serve_all(&f, 10), 1);
    int64_t t1 = loop_real_ns();
    expect_reply(&f, f.cli[0], 1000, t0, t1);
    expect_reply(&f, f.cli[0], 1002, t0, t1);
    expect_reply(&f, f.cli[0], 1004, t0, t1);
    expect_reply(&f, f.cli[0], 1007, t0, t1);
    expect_nothing(f.cli[0]);
    expect_reply(&f, f.cli[2], 1001, t0, t1);
    expect_reply(&f, f.cli[2], 1009, t0, t1);
    expect_nothing(f.cli[2]);
    expect_nothing(f.cli[1]);
    const struct ntpserve_stats *st = ntpserve_get_stats(f.ns);
    assert_int_equal(st->ntp_rx, 9); /* the truncated one is not a request */
    assert_int_equal(st->ntp_denied, 1);
    assert_int_equal(st->ntp_dropped, 2);
    assert_int_equal(st->ntp_replies, 6);
    assert_int_equal(st->send_errors, 0);
    assert_int_equal(ntpserve_server(f.ns)->counts[SERVER_REPLY], 6);
    assert_int_equal(ntpserve_server(f.ns)->counts[SERVER_DROP_MALFORMED], 1);
    assert_int_equal(ntpserve_server(f.ns)->counts[SERVER_DROP_MODE], 1);
    assert_int_equal(ntpserve_send_batch_active(f.ns), send_batch);
    /* the client log saw the two allowed clients only */
    assert_int_equal(clientlog_count(f.cl), 2);
    teardown(&f);
}

static void test_drops_in_the_middle_sendmmsg(void **state)
{
    (void)state;
    drops_in_the_middle(1);
}

static void test_drops_in_the_middle_sendmsg(void **state)
{
    (void)state;
    drops_in_the_middle(0);
}

/* More replies than a send chunk, from two clients interleaved: every reply, in order. */
static void test_long_batch(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 1);
    int64_t t0 = loop_real_ns();
    uint8_t pkt[48];
    const int n = UDP_BATCH_MAX; /* 4 chunks */
    for (int i = 0; i < n; i++) {
        request(pkt, 5000u + (uint32_t)i, 3);
        assert_int_equal(udp_send(f.cli[i % 3 == 2 ? 2 : 0], pkt, 48, &f.srv_addr, NULL, 0), 0);
    }
    (void)serve_all(&f, n);
    int64_t t1 = loop_real_ns();
    for (int i = 0; i < n; i++)
        if (i % 3 != 2)
            expect_reply(&f, f.cli[0], 5000u + (uint32_t)i, t0, t1);
    for (int i = 0; i < n; i++)
        if (i % 3 == 2)
            expect_reply(&f, f.cli[2], 5000u + (uint32_t)i, t0, t1);
    expect_nothing(f.cli[0]);
    expect_nothing(f.cli[2]);
    assert_int_equal(ntpserve_get_stats(f.ns)->ntp_replies, (uint64_t)n);
    teardown(&f);
}

/* ntpserve_drain: batches while they come back full, at most max_batches, and the counters
 * of batches, full ones and empty reads. 150 requests: a bound of 1 takes one full batch; the
 * next drain the 64 + 22 left (and stops at the short batch: no empty read); then -EAGAIN.
 * Every request answered or dropped, every reply received. */
static void test_drain(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 1);
    assert_true(udp_set_rcvbuf(f.srv, 1 << 20) > 0); /* 150 requests must all be queued */
    const int n = 150;
    int64_t t0 = loop_real_ns();
    uint8_t pkt[48];
    for (int i = 0; i < n; i++) {
        request(pkt, 9000u + (uint32_t)i, 3);
        assert_int_equal(udp_send(f.cli[i % 2 ? 2 : 0], pkt, 48, &f.srv_addr, NULL, 0), 0);
    }
    assert_true(wait_readable(f.srv, 2000) > 0);
    assert_int_equal(ntpserve_drain(f.ns, f.srv, 1), UDP_BATCH_MAX);
    const struct ntpserve_stats *st = ntpserve_get_stats(f.ns);
    assert_int_equal(st->batches, 1);
    assert_int_equal(st->batches_full, 1);
    assert_int_equal(ntpserve_drain(f.ns, f.srv, NTPSERVE_DRAIN_BATCHES), n - UDP_BATCH_MAX);
    assert_int_equal(st->batches, 3);
    assert_int_equal(st->batches_full, 2);
    assert_int_equal(st->empty_reads, 0);
    /* two addresses, 75 requests each: the fixture's rate limit (burst 64) drops some */
    assert_int_equal(st->ntp_replies + st->ntp_dropped, (uint64_t)n);
    assert_true(st->ntp_replies >= 2 * 64);
    assert_int_equal(ntpserve_drain(f.ns, f.srv, NTPSERVE_DRAIN_BATCHES), -EAGAIN);
    assert_int_equal(st->empty_reads, 1);
    assert_int_equal(st->batches, 3);
    int64_t t1 = loop_real_ns();
    uint64_t got = 0;
    for (int c = 0; c < 3; c += 2) {
        uint8_t buf[128];
        struct udp_rx rx;
        while (wait_readable(f.cli[c], 100) > 0 && udp_recv(f.cli[c], buf, sizeof buf, &rx) == 48) {
            int64_t tx_ns = ntp_time_to_ns(ntp_get_ts(buf + NTP_OFF_TRANSMIT), t0);
            assert_true(tx_ns >= t0 - 1000000 && tx_ns <= t1 + 1000000);
            got++;
        }
    }
    assert_int_equal(got, st->ntp_replies);
    teardown(&f);
}

/* No access table: nobody is answered; an empty socket: -EAGAIN. */
static void test_no_table_denies(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 1);
    assert_int_equal(ntpserve_run(f.ns, f.srv), -EAGAIN);
    ntpserve_set_access(f.ns, NULL);
    uint8_t pkt[48];
    request(pkt, 1, 3);
    assert_int_equal(udp_send(f.cli[0], pkt, 48, &f.srv_addr, NULL, 0), 0);
    (void)serve_all(&f, 1);
    assert_int_equal(ntpserve_get_stats(f.ns)->ntp_denied, 1);
    (void)wait_readable(f.cli[0], 100);
    expect_nothing(f.cli[0]);
    teardown(&f);
}

/* The kernel refuses sendmmsg (a seccomp filter returning ENOSYS, as an old kernel or a
 * stricter filter would): the replies still leave, with sendmsg, and the path says so. In a
 * child process, since a filter cannot be removed. */
/* The daemon's transmit clock for xleave_txts(): 10 s behind the kernel's, so that a reply's
 * transmit time says which of the two took it. */
#define DAEMON_BEHIND_NS (10LL * 1000000000LL)
static int64_t behind_read(void *ctx)
{
    (void)ctx;
    return loop_real_ns() - DAEMON_BEHIND_NS;
}

/* Interleaved replies ask the kernel for their transmit timestamp (tx_timestamps): the stamp
 * comes back on the server socket's error queue, ntpserve_read_txts() gives it to the
 * client's record, and the client's next interleaved reply carries it instead of the clock
 * read before the send. Basic replies ask for nothing; with tx_timestamps 0 nothing does. */
static void xleave_txts(int send_batch, int txts)
{
    struct clock_ops daemon_clock;
    memset(&daemon_clock, 0, sizeof daemon_clock);
    daemon_clock.read_real_ns = behind_read;
    struct fixture f;
    setup(&f, send_batch);
    struct ntpserve_params np;
    ntpserve_params_default(&np);
    assert_int_equal(np.tx_timestamps, 0);
    np.send_batch = send_batch;
    np.tx_timestamps = txts;
    np.seed = 9;
    renew_server(&f, &np, &daemon_clock, loop_real_ns());

    uint8_t req[48], rep[64], prev[48];
    struct udp_rx rx;
    int64_t sent_after[4];
    int64_t sent_before[4];
    for (int k = 0; k < 4; k++) {
        /* k = 0: basic (a chrony xleave client's first request); then interleaved: origin =
         * the server's receive timestamp of the last reply, receive = our own (anything
         * unlike the transmit), transmit = new */
        request(req, 0x100u + (uint32_t)k, 3);
        if (k > 0) {
            memcpy(req + NTP_OFF_ORIGIN, prev + NTP_OFF_RECEIVE, 8);
            ntp_put_ts(req + NTP_OFF_RECEIVE, (struct ntp_ts64){0x200u + (uint32_t)k, 5});
        }
        assert_int_equal(udp_send(f.cli[0], req, 48, &f.srv_addr, NULL, 0), 0);
        assert_true(wait_readable(f.srv, 2000) > 0);
        if (ntpserve_txts_outstanding(f.ns))
            assert_int_equal(ntpserve_read_txts(f.ns, f.srv), 1);
        sent_before[k] = loop_real_ns();
        assert_int_equal(ntpserve_run(f.ns, f.srv), 1);
        sent_after[k] = loop_real_ns();
        assert_int_equal(ntpserve_txts_outstanding(f.ns), txts && k > 0);
        assert_true(wait_readable(f.cli[0], 2000) > 0);
        assert_int_equal(udp_recv(f.cli[0], rep, sizeof rep, &rx), 48);
        if (k == 0) {
            assert_memory_equal(rep + NTP_OFF_ORIGIN, req + NTP_OFF_TRANSMIT, 8);
        } else {
            /* interleaved: origin = our receive field; transmit = reply k-1's send time, the
             * kernel's when reply k-1 asked for it (interleaved itself), else the daemon's */
            assert_memory_equal(rep + NTP_OFF_ORIGIN, req + NTP_OFF_RECEIVE, 8);
            int64_t t3 = ntp_time_to_ns(ntp_get_ts(rep + NTP_OFF_TRANSMIT), sent_after[k]);
            int64_t behind = txts && k >= 2 ? 0 : DAEMON_BEHIND_NS;
            assert_true(t3 >= sent_before[k - 1] - behind - 1000);
            assert_true(t3 <= sent_after[k - 1] - behind + 1000);
        }
        memcpy(prev, rep, 48);
    }
    const struct ntpserve_stats *st = ntpserve_get_stats(f.ns);
    assert_int_equal(st->txts_requested, txts ? 3 : 0);
    /* replies 1 and 2's stamps were read before requests 2 and 3; reply 3's is queued */
    assert_int_equal(st->ntp_kernel_tx, txts ? 2 : 0);
    uint8_t ebuf[256];
    struct udp_txts ts;
    if (txts) {
        assert_int_equal(ntpserve_read_txts(f.ns, f.srv), 1);
        assert_int_equal(st->ntp_kernel_tx, 3);
    }
    assert_int_equal(udp_recv_txts(f.srv, ebuf, sizeof ebuf, &ts), -EAGAIN);
    assert_int_equal(ntpserve_read_txts(f.ns, f.srv), 0);
    assert_int_equal(ntpserve_txts_outstanding(f.ns), 0);
    struct clientlog_stats cs;
    clientlog_get_stats(f.cl, &cs);
    assert_int_equal(cs.ntp_interleaved_hits, 3);
    teardown(&f);
}

static void test_xleave_kernel_tx_sendmmsg(void **state)
{
    (void)state;
    xleave_txts(1, 1);
}

static void test_xleave_kernel_tx_sendmsg(void **state)
{
    (void)state;
    xleave_txts(0, 1);
}

static void test_xleave_daemon_tx(void **state)
{
    (void)state;
    xleave_txts(1, 0);
}

static void test_sendmmsg_refused_falls_back(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sock_filter prog[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)__NR_sendmmsg, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog fp = {.len = (unsigned short)(sizeof prog / sizeof prog[0]),
                                .filter = prog};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp) != 0)
            _exit(77);
        struct fixture f;
        setup(&f, 1);
        int64_t t0 = loop_real_ns();
        uint8_t pkt[48];
        for (int i = 0; i < 3; i++) {
            request(pkt, 900u + (uint32_t)i, 3);
            if (udp_send(f.cli[0], pkt, 48, &f.srv_addr, NULL, 0) != 0)
                _exit(2);
        }
        (void)wait_readable(f.srv, 2000);
        usleep(20000);
        int n = 0;
        while (n < 3) {
            int r = ntpserve_run(f.ns, f.srv);
            if (r <= 0)
                _exit(3);
            n += r;
        }
        /* no cmocka asserts in the child: a failure must only show in its exit status */
        for (int i = 0; i < 3; i++) {
            uint8_t got[128];
            struct udp_rx rx;
            if (wait_readable(f.cli[0], 2000) <= 0 ||
                udp_recv(f.cli[0], got, sizeof got, &rx) != 48)
                _exit(5);
            struct ntp_ts64 o = ntp_get_ts(got + NTP_OFF_ORIGIN);
            int64_t tx_ns = ntp_time_to_ns(ntp_get_ts(got + NTP_OFF_TRANSMIT), t0);
            if (o.sec != 900u + (uint32_t)i || (got[0] & 7) != 4 || tx_ns < t0 - 1000000 ||
                memcmp(rx.remote.bytes, f.srv_addr.bytes, 4) != 0)
                _exit(6);
        }
        if (ntpserve_send_batch_active(f.ns) != 0 || ntpserve_get_stats(f.ns)->ntp_replies != 3 ||
            ntpserve_get_stats(f.ns)->send_errors != 0)
            _exit(4);
        teardown(&f);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        skip(); /* no seccomp filters here */
        return;
    }
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ntpserve_pace_add: nothing until a whole window of samples; then 7/8 of the least sample of
 * the current and the last complete window: down at once, up only after a whole window saw
 * nothing lower; samples of small chunks, of no time or of too much time are ignored. */
static void test_pace_estimator(void **state)
{
    (void)state;
    struct ntpserve_pace p;
    ntpserve_pace_init(&p);
    assert_int_equal(p.pace_ns, 0);
    /* ignored: too few replies, no time, a step back, too slow (preempted) */
    ntpserve_pace_add(&p, 1000 * (NTPSERVE_PACE_MIN_REPLIES - 1), NTPSERVE_PACE_MIN_REPLIES - 1);
    ntpserve_pace_add(&p, 0, 64);
    ntpserve_pace_add(&p, -5000, 64);
    ntpserve_pace_add(&p, 64LL * NTPSERVE_PACE_MAX_NS + 64, 64);
    assert_int_equal(p.n, 0);
    /* a first window of 1000 ns a reply: the pace appears with its last sample */
    for (int i = 0; i < NTPSERVE_PACE_WINDOW - 1; i++) {
        ntpserve_pace_add(&p, 64000, 64);
        assert_int_equal(p.pace_ns, 0);
    }
    ntpserve_pace_add(&p, 64000, 64);
    assert_int_equal(p.pace_ns, 875);
    /* a faster chunk lowers it at once */
    ntpserve_pace_add(&p, 16 * 800, 16);
    assert_int_equal(p.pace_ns, 700);
    /* slower ones for the rest of that window and most of the next: it stays */
    for (int i = 0; i < 2 * NTPSERVE_PACE_WINDOW - 2; i++) {
        ntpserve_pace_add(&p, 64 * 2000, 64);
        assert_int_equal(p.pace_ns, 700);
    }
    /* a whole window without anything below 2000: it rises */
    ntpserve_pace_add(&p, 64 * 2000, 64);
    assert_int_equal(p.pace_ns, 1750);
}

/* A fake transmit clock: every read 100 us after the last one, reads counted. */
static int64_t fake_now_ns;
static int fake_reads;
static int64_t stepping_read(void *ctx)
{
    (void)ctx;
    fake_reads++;
    fake_now_ns += 100000;
    return fake_now_ns;
}

/* The send pace in the daemon path, with a transmit clock that advances 100 us a read: a full
 * batch is one chunk (one clock read before it, one after its sendmmsg: 2 reads), a partial
 * one of more than NTPSERVE_SEND_CHUNK replies goes in chunks of it (20 replies: 16 + 4, 3
 * reads); once a window of chunks has been timed, the replies of a full batch carry the read
 * + j x the pace, and the last of them is still no later than the read after the send. */
static void test_pace_in_batches(void **state)
{
    (void)state;
    struct clock_ops fake;
    memset(&fake, 0, sizeof fake);
    fake.read_real_ns = stepping_read;
    fake_now_ns = loop_real_ns();
    struct fixture f;
    setup(&f, 1);
    /* no rate limiting: one client sends them all (the server goes first: it holds the log) */
    ntpserve_free(f.ns);
    f.ns = NULL;
    clientlog_free(f.cl);
    struct clientlog_params cp;
    clientlog_params_default(&cp);
    f.cl = clientlog_new(&cp);
    assert_non_null(f.cl);
    struct ntpserve_params np;
    ntpserve_params_default(&np);
    np.seed = 11;
    renew_server(&f, &np, &fake, fake_now_ns);

    int full_paced = 0, partial_seen = 0;
    uint32_t tag = 9000;
    for (int round = 0; round < 300 && !(full_paced >= 3 && partial_seen); round++) {
        /* every 8th round 20 requests (a partial batch), else a full one */
        const int want = round % 8 == 7 ? 20 : UDP_BATCH_MAX;
        uint8_t pkt[48];
        for (int i = 0; i < want; i++) {
            request(pkt, tag + (uint32_t)i, 3);
            assert_int_equal(udp_send(f.cli[0], pkt, 48, &f.srv_addr, NULL, 0), 0);
        }
        int served = 0;
        while (served < want) {
            assert_true(wait_readable(f.srv, 2000) > 0);
            const int64_t pace = ntpserve_send_pace_ns(f.ns);
            const int reads0 = fake_reads;
            int n = ntpserve_run(f.ns, f.srv);
            assert_true(n > 0);
            const int reads = fake_reads - reads0;
            const int64_t after = fake_now_ns;
            int64_t tx[UDP_BATCH_MAX];
            for (int i = 0; i < n; i++) {
                uint8_t got[128];
                struct udp_rx rx;
                assert_true(wait_readable(f.cli[0], 2000) > 0);
                assert_int_equal(udp_recv(f.cli[0], got, sizeof got, &rx), 48);
                assert_int_equal(ntp_get_ts(got + NTP_OFF_ORIGIN).sec,
                                 tag + (uint32_t)(served + i));
                tx[i] = ntp_time_to_ns(ntp_get_ts(got + NTP_OFF_TRANSMIT), after);
            }
            if (n == UDP_BATCH_MAX) {
                assert_int_equal(reads, 2);
                if (pace > 0) {
                    for (int i = 1; i < n; i++) {
                        int64_t d = tx[i] - tx[0] - (int64_t)i * pace;
                        /* both fuzzed below the precision (2^-20 s, < 954 ns) */
                        assert_true(d > -1908 && d < 1908);
                    }
                    assert_true(tx[n - 1] <= after);
                    full_paced++;
                }
            } else if (n == 20) {
                assert_int_equal(reads, 3);
                partial_seen = 1;
            }
            served += n;
        }
        tag += (uint32_t)want;
    }
    /* 100 us over 64 replies a chunk: 1562 ns a reply, the pace 7/8 of it */
    assert_true(full_paced >= 3);
    assert_true(partial_seen);
    assert_true(ntpserve_send_pace_ns(f.ns) > 0 && ntpserve_send_pace_ns(f.ns) <= 1367);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drops_in_the_middle_sendmmsg),
        cmocka_unit_test(test_drops_in_the_middle_sendmsg),
        cmocka_unit_test(test_long_batch),
        cmocka_unit_test(test_drain),
        cmocka_unit_test(test_no_table_denies),
        cmocka_unit_test(test_sendmmsg_refused_falls_back),
        cmocka_unit_test(test_xleave_kernel_tx_sendmmsg),
        cmocka_unit_test(test_xleave_kernel_tx_sendmsg),
        cmocka_unit_test(test_xleave_daemon_tx),
        cmocka_unit_test(test_pace_estimator),
        cmocka_unit_test(test_pace_in_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
