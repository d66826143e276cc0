/* Interleaved client mode (`xleave`). See core/xleave.h and docs/design/daemon.md. */
#include "core/xleave.h"

#include "base/ntp_time.h"

/* Receive = a random value that only has to come back: chronyd puts its local receive time
 * there, which tells observers our clock; the server treats it as opaque. */
void xleave_prepare(struct xleave *x, int enabled, struct prng *prng, struct ntp_packet *p)
{
    x->sent = enabled && x->have_prev && x->missed < XLEAVE_MAX_MISSED && p->version == 4;
    x->missed++;
    if (!x->sent)
        return;
    uint64_t r;
    do
        r = prng_next_u64(prng);
    while (r == 0 || ntp_time_equal(ntp_time_ts_from_u64(r), p->transmit));
    x->rx_cookie = ntp_time_ts_from_u64(r);
    p->origin = x->remote_rx;
    p->receive = x->rx_cookie;
}

int xleave_test2(const struct xleave *x, int awaiting, struct ntp_ts64 cookie,
                 const struct ntp_packet *p, int *interleaved)
{
    int basic = awaiting && ntp_time_equal(p->origin, cookie);
    *interleaved = !basic && awaiting && x->sent && ntp_time_equal(p->origin, x->rx_cookie);
    return basic || *interleaved;
}

int xleave_exchange_of(struct xleave *x, const struct xleave_exchange *cur,
                       const struct ntp_packet *p, int interleaved, struct xleave_exchange *out,
                       int64_t *T2, int64_t *T3)
{
    int ok = 1;
    if (interleaved) {
        *out = x->prev;
        *T2 = ntp_time_to_ns(x->remote_rx, out->t4_real_ns);
        /* the previous exchange was measured in basic mode already */
        ok = !x->last_basic;
    } else {
        *out = *cur;
        *T2 = ntp_time_to_ns(p->receive, cur->t4_real_ns);
    }
    *T3 = ntp_time_to_ns(p->transmit, out->t4_real_ns);
    x->prev = *cur;
    x->remote_rx = p->receive;
    x->have_prev = 1;
    x->last_basic = !interleaved;
    x->missed = 0;
    return ok;
}

int xleave_late_tx(struct xleave *x, int64_t clock_t1_real_ns, int64_t kernel_t1_real_ns)
{
    if (!x->have_prev || x->prev.t1_kernel || x->prev.t1_real_ns != clock_t1_real_ns)
        return 0;
    x->prev.t1_real_ns = kernel_t1_real_ns;
    x->prev.t1_kernel = 1;
    return 1;
}
