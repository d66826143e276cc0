/* The engine's symmetric mode (peers, basic and interleaved): what our packet carries, what a
 * peer's packet leaves for our next one, the interleaved measurement's timestamps, and the
 * phase rule that keeps two peers' packets from crossing. transmit() and receive_packet() of
 * engine.c call these where a packet is a peer's (docs/design/engine.md, "Symmetric peers"). */
#include "core/engine.h"

#include "core/discipline.h"
#include "core/engine_int.h"
#include "core/report.h"
#include "core/xleave.h"
#include "wire/ntp.h"

#define PEER_PRECISION_LOG2 (-20) /* our symmetric packets' precision (core/server's default) */

/* The header of our symmetric packets: the reference we serve (the io's peer_header hook,
 * which knows the daemon's local reference), else the engine's own. */
static void peer_header(const struct engine *e, int64_t now_mono_ns, const struct engine_io *io,
                        struct ntp_packet *p)
{
    if (io && io->peer_header) {
        io->peer_header(io->ctx, now_mono_ns, p);
        return;
    }
    struct report_reference r;
    engine_reference(e, now_mono_ns, &r);
    p->precision = PEER_PRECISION_LOG2;
    if (!r.synced) {
        p->leap = NTP_LEAP_UNSYNC;
        p->stratum = 0;
        return;
    }
    p->leap = (uint8_t)r.leap;
    p->stratum = (uint8_t)r.stratum;
    p->refid = r.ref_id;
    p->reference = ntp_time_from_ns(r.ref_time_real_ns);
    p->root_delay = ntp_time_short_from_s(r.root_delay_s);
    p->root_dispersion = ntp_time_short_from_s(r.root_dispersion_s);
}

/* Symmetric mode's phase rule, after a new packet of the peer: our next packet goes at least
 * half an interval after it. Peers whose packets cross on the wire (each sent before the
 * other's arrived) both fail test 2, and peers polling at one rate stay in such a phase for
 * long (tempusd against chronyd 4.3 started together on loopback: 8 % of the packets invalid,
 * reach 267; two tempusd: every other one); half an interval apart, each packet answers the
 * other's last. Stable: the peer, seeing ours half an interval after its own, keeps its
 * schedule. Only when the peer polls no faster than we do (else the wait would repeat before
 * we ever sent; its packets answer ours anyway), not during a burst. tempus's own rule:
 * chronyd 4.3 keeps its peers apart by other means (observed: it lengthens its interval by
 * ~10 % for a while, or answers at once). */
void engine_peer_phase(struct source *s, int64_t now_mono_ns)
{
    if (s->peer_poll < s->poll || s->burst_total > 0)
        return;
    int64_t half = (int64_t)(poll_interval_s(s) * 0.5e9);
    if (s->next_tx_mono < now_mono_ns + half)
        s->next_tx_mono = now_mono_ns + half;
}

void engine_peer_fill(struct engine *e, struct source *s, int64_t now_mono_ns,
                      const struct engine_io *io, struct ntp_packet *p)
{
    /* Symmetric mode: the packet is both our request and our answer to the peer's last
     * one, so it carries our reference (the peer may synchronise to us), the peer's
     * transmit field as origin, our receive time of it, and our real transmit time
     * (the peer's T3: no random cookie), as chronyd 4.3 sends them. */
    discipline_advance(&e->d, tsec(e, now_mono_ns));
    peer_header(e, now_mono_ns, io, p);
    s->sym_sent = s->sp.xleave && s->have_peer_xmt && !ntp_time_is_zero(s->peer_rx_field) &&
                  s->total_tx > 0 && p->version == 4;
    if (s->have_peer_xmt) {
        p->origin = s->sym_sent ? s->peer_rx_field : s->peer_xmt;
        p->receive = ntp_time_from_ns(s->peer_rx_real_ns);
    }
    s->sym_sent_rx = p->receive;
    s->sym_t4 = (struct xleave_exchange){
        .t4_real_ns = s->peer_rx_real_ns,
        .t4_mono_ns = s->peer_rx_mono_ns,
        .t4_corr_s = s->peer_rx_corr_s,
        .t4_steps_s = s->peer_rx_steps_s,
    };
    /* interleaved: the transmit time of our previous packet (a kernel stamp when one
     * came), which the peer received at the time its last packet named */
    s->cookie = ntp_time_from_ns(s->sym_sent ? s->tx_real_ns : read_real(e));
    if (ntp_time_is_zero(s->cookie))
        s->cookie.frac = 1;
}

void engine_peer_note(const struct engine *e, struct source *s, const struct ntp_packet *p,
                      int64_t rx_real_ns, int64_t now_mono_ns)
{
    s->have_peer_xmt = 1;
    s->peer_xmt = p->transmit;
    s->peer_rx_real_ns = rx_real_ns;
    s->peer_rx_mono_ns = now_mono_ns;
    s->peer_poll = p->poll;
    s->peer_rx_corr_s = e->d.corr_s;
    s->peer_rx_steps_s = e->d.steps_s;
    s->peer_rx_field = p->receive;
}

int engine_peer_interleaved(const struct source *s, const struct ntp_packet *p)
{
    /* interleaved symmetric: the origin is the receive field of our last packet */
    return s->awaiting && s->sym_sent && !ntp_time_is_zero(s->sym_sent_rx) &&
           ntp_time_equal(p->origin, s->sym_sent_rx);
}

void engine_peer_exchange(const struct source *s, const struct xleave_exchange *cur,
                          const struct ntp_packet *p, int64_t rx_real_ns, struct xleave_exchange *x,
                          int64_t *T2, int64_t *T3)
{
    /* our last packet (T1) reached the peer at T2 (its receive field); the peer's
     * previous packet left at T3 (its transmit field, precise) and reached us at T4,
     * before T1: both intervals are negative, their difference is the round trip */
    *x = s->sym_t4;
    x->t1_real_ns = cur->t1_real_ns;
    x->t1_mono_ns = cur->t1_mono_ns;
    x->t1_corr_s = cur->t1_corr_s;
    x->t1_steps_s = cur->t1_steps_s;
    x->t1_kernel = cur->t1_kernel;
    *T2 = ntp_time_to_ns(p->receive, rx_real_ns);
    *T3 = ntp_time_to_ns(p->transmit, rx_real_ns);
}
