/* Interleaved client mode (`xleave`): chrony's client side of draft-ietf-ntp-interleaved-modes.
 *
 * A request names the server's receive timestamp of our previous request as its origin; a
 * server that still holds it answers interleaved, with the precise (kernel) transmit time of
 * its previous reply, which measures the previous exchange. The engine keeps one struct
 * xleave per source and asks it which exchange a valid response measures. Pure: the caller
 * passes the random generator and all times. See docs/design/daemon.md ("Client side of
 * `xleave`") for the rules taken from chronyd 4.3. */
#ifndef TEMPUS_CORE_XLEAVE_H
#define TEMPUS_CORE_XLEAVE_H

#include <stdint.h>

#include "base/prng.h"
#include "wire/ntp.h"

/* Requests go basic after this many unanswered interleaved ones (chronyd 4.3). */
#define XLEAVE_MAX_MISSED 4

/* One request/response exchange's local times, kept for the interleaved response that will
 * carry the server's precise transmit time of it. Times on the engine's real (_real_ns) and
 * monotonic (_mono_ns) scales, with the discipline's correction and accumulated steps (s) at
 * each end. */
struct xleave_exchange {
    int64_t t1_real_ns, t1_mono_ns; /* our request left (kernel TX stamp or the clock read) */
    double t1_corr_s, t1_steps_s;   /* discipline correction and steps at T1 */
    int t1_kernel;                  /* t1_real_ns is a kernel TX timestamp */
    int64_t t4_real_ns, t4_mono_ns; /* its response arrived */
    double t4_corr_s, t4_steps_s;
};

/* Per-source state between exchanges; all-zero is the initial state. */
struct xleave {
    int sent;                  /* the outstanding request went out interleaved */
    struct ntp_ts64 rx_cookie; /* its random receive field: an interleaved response's origin */
    struct ntp_ts64 remote_rx; /* receive field of the last valid response (its request's T2) */
    int missed;                /* requests sent since the last valid response */
    int last_basic;            /* the last valid response was in basic mode */
    int have_prev;             /* prev and remote_rx hold the last valid response's exchange */
    struct xleave_exchange prev;
};

/* Called for every request about to be sent (p complete but for origin/receive, version
 * set). With `enabled` (the source's xleave option, client mode) and a previous exchange
 * known and fewer than XLEAVE_MAX_MISSED requests unanswered, makes p interleaved: origin =
 * the server's receive timestamp of our previous request, receive = a fresh random cookie
 * (never 0, never equal to p->transmit) drawn from prng. Only version 4 interleaves. */
void xleave_prepare(struct xleave *x, int enabled, struct prng *prng, struct ntp_packet *p);

/* Test 2 in both modes for a response to the outstanding request (awaiting != 0) whose
 * transmit field was `cookie`: 1 when p's origin is the cookie (basic) or, for a request sent
 * interleaved, its receive cookie (*interleaved = 1); else 0. */
int xleave_test2(const struct xleave *x, int awaiting, struct ntp_ts64 cookie,
                 const struct ntp_packet *p, int *interleaved);

/* For a valid response p (test 2 passed with `interleaved`) to the exchange `cur` (T1 of the
 * outstanding request, T4 = p's arrival): the exchange it measures into *out and the remote
 * T2 and T3 in ns on the local real scale. Basic: cur itself, T2/T3 from p. Interleaved: the
 * previous exchange, T2 = the previous response's receive field, T3 = p's transmit. Then cur
 * becomes the previous exchange. Returns 0 when the response must give no sample (test A):
 * interleaved right after a basic response, whose exchange was measured already (chronyd
 * 4.3), else 1. */
int xleave_exchange_of(struct xleave *x, const struct xleave_exchange *cur,
                       const struct ntp_packet *p, int interleaved, struct xleave_exchange *out,
                       int64_t *T2, int64_t *T3);

/* A kernel transmit timestamp of our last request that came after its response was
 * processed: when the exchange kept for the next interleaved response is that request's
 * (its T1 is still clock_t1_real_ns, the clock read, not a kernel stamp), its T1 becomes
 * kernel_t1_real_ns and 1 is returned; else 0 and nothing changes. */
int xleave_late_tx(struct xleave *x, int64_t clock_t1_real_ns, int64_t kernel_t1_real_ns);

#endif
