/* respond-bench: the cost of tempus's reply builder (core/server + core/clientlog) alone, with
 * no sockets: how much of the per-reply instruction budget the pure layer uses, measurable
 * before tempusd serves and without the kernel's noise.
 *
 * Builds a ring of NTP client requests from -a distinct 127/8 addresses, then calls
 * server_answer_now() (server_answer() + server_finish() in one) -n times as the daemon does
 * (receive timestamps advancing as at -r requests/s, the transmit time given, as the daemon gives
 * it after its own clock read), and prints the verdict counts and the wall-clock ns per reply. For
 * an exact instruction count, run it under valgrind --tool=callgrind --toggle-collect=answer_finish
 * ... and divide the total by -n (bench/run-instr-bench.sh does).
 *
 * Exit status: 0 if every request got a reply (none is expected to be rate limited with the
 * parameters used), 1 on usage errors, 2 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/addr.h"
#include "base/prng.h"
#include "core/clientlog.h"
#include "core/clock_ops.h"
#include "core/server.h"

#define RING 4096 /* distinct request packets, reused round-robin */

static int64_t real_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What the daemon runs per request (the template built once before): core/server's answer and
 * finish in one (server_answer_now), the transmit time given (the clock read is the caller's).
 * callgrind counts exactly this function (--toggle-collect=answer_finish). */
__attribute__((noinline)) enum server_verdict
answer_finish(struct server *srv, struct clientlog *cl, const struct server_rx *rx, uint8_t *out,
              size_t size, size_t *out_len, int64_t tx_ns);
__attribute__((noinline)) enum server_verdict
answer_finish(struct server *srv, struct clientlog *cl, const struct server_rx *rx, uint8_t *out,
              size_t size, size_t *out_len, int64_t tx_ns)
{
    /* the daemon's default (sendmmsg) path: answer and finish in one call, the transmit time
     * read before it; `nobatchreplies` splits it into server_answer() + server_finish() */
    return server_answer_now(srv, cl, rx, out, size, out_len, tx_ns);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: respond-bench [-n REQUESTS] [-a ADDRESSES] [-r RATE] [-N] [-R]\n"
                 "  -n  requests to answer (1000000)\n"
                 "  -a  distinct client addresses (2000)\n"
                 "  -r  request rate the receive timestamps advance at, per s (100000)\n"
                 "  -N  noclientlog\n"
                 "  -R  ratelimit interval -8 burst 64 (never reached by these clients)\n");
}

int main(int argc, char **argv)
{
    unsigned long long n = 1000000, n_addrs = 2000, rate = 100000;
    int noclientlog = 0, ratelimit = 0, c;
    while ((c = getopt(argc, argv, "n:a:r:NRh")) != -1) {
        char *end = NULL;
        errno = 0;
        switch (c) {
        case 'n':
            n = strtoull(optarg, &end, 10);
            break;
        case 'a':
            n_addrs = strtoull(optarg, &end, 10);
            break;
        case 'r':
            rate = strtoull(optarg, &end, 10);
            break;
        case 'N':
            noclientlog = 1;
            break;
        case 'R':
            ratelimit = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
        if (end && (*end || errno)) {
            usage(stderr);
            return 1;
        }
    }
    if (n == 0 || n_addrs == 0 || n_addrs > 254ULL * 256 * 254 || rate == 0 || optind != argc) {
        usage(stderr);
        return 1;
    }

    struct clientlog_params clp;
    clientlog_params_default(&clp);
    clp.disabled = noclientlog;
    clp.seed = 12345;
    if (ratelimit) {
        clientlog_ratelimit_default(&clp.limit[CLIENTLOG_NTP]);
        clp.limit[CLIENTLOG_NTP].interval_log2 = -8;
        clp.limit[CLIENTLOG_NTP].burst = 64;
    }
    struct clientlog *cl = clientlog_new(&clp);
    if (!cl) {
        fprintf(stderr, "respond-bench: clientlog_new failed\n");
        return 1;
    }
    struct server_params sp;
    server_params_default(&sp);
    static struct server srv;
    server_init(&srv, &sp, 1);
    struct server_ref ref;
    memset(&ref, 0, sizeof(ref));
    ref.synced = 1;
    ref.stratum = 10;
    ref.refid = 0x7f7f0101; /* 127.127.1.1: chrony's refid for `local` */
    ref.ref_time_ns = real_ns(NULL);
    ref.root_disp_ns = 0;
    ref.disp_rate_ppb = 1000;
    server_prepare(&srv, &ref);

    static uint8_t pkts[RING][48];
    static struct addr froms[RING];
    struct prng prng;
    prng_seed(&prng, 42);
    for (uint32_t i = 0; i < RING; i++) {
        memset(pkts[i], 0, 48);
        pkts[i][0] = 0x23; /* LI 0, VN 4, mode 3 */
        pkts[i][2] = 6;
        pkts[i][3] = 0x20;
        prng_fill(&prng, pkts[i] + 40, 8);
    }

    uint64_t replies = 0, per_addr_step = 1000000000ULL / rate;
    int64_t rx_ns = real_ns(NULL);
    uint8_t out[64];
    uint64_t t0 = mono_ns();
    for (unsigned long long k = 0; k < n; k++) {
        uint32_t slot = (uint32_t)(k % RING);
        uint32_t ai = (uint32_t)(k % n_addrs);
        struct addr *from = &froms[slot];
        memset(from, 0, sizeof(*from));
        from->family = ADDR_INET4;
        from->bytes[0] = 127;
        from->bytes[1] = (uint8_t)(1 + ai / (254 * 256) % 254);
        from->bytes[2] = (uint8_t)(ai / 254 % 256);
        from->bytes[3] = (uint8_t)(1 + ai % 254);
        from->port = (uint16_t)(40000 + ai % 1000);
        rx_ns += (int64_t)per_addr_step;
        struct server_rx rx = {.pkt = pkts[slot], .len = 48, .from = from, .rx_ns = rx_ns};
        size_t out_len = 0;
        enum server_verdict v =
            answer_finish(&srv, cl, &rx, out, sizeof(out), &out_len, rx_ns + 20000);
        if (server_verdict_sends(v) && out_len == 48)
            replies++;
    }
    uint64_t t1 = mono_ns();
    printf("respond-bench: %llu requests from %llu addresses (%s%s): %" PRIu64
           " replies, %.1f ns per reply, clientlog %u/%u records\n",
           n, n_addrs, noclientlog ? "noclientlog" : "clientlog", ratelimit ? ", ratelimit" : "",
           replies, (double)(t1 - t0) / (double)n, clientlog_count(cl), clientlog_capacity(cl));
    for (int v = 0; v < SERVER_VERDICT_COUNT; v++)
        if (srv.counts[v])
            printf("  %s %" PRIu64 "\n", server_verdict_name((enum server_verdict)v),
                   srv.counts[v]);
    clientlog_free(cl);
    return replies == n ? 0 : 2;
}
