/* The engine's symmetric mode (peers): our packets' header and the phase rule that keeps two
 * peers' packets from crossing. The rest of symmetric mode lives in transmit() and
 * receive_packet() of engine.c (docs/design/engine.md, "Symmetric peers"). */
#include "core/engine.h"

#include "core/engine_int.h"
#include "core/report.h"
#include "wire/ntp.h"

#define PEER_PRECISION_LOG2 (-20) /* our symmetric packets' precision (core/server's default) */

/* The header of our symmetric packets: the reference we serve (the io's peer_header hook,
 * which knows the daemon's local reference), else the engine's own. */
void engine_peer_header(const struct engine *e, int64_t now_mono_ns, const struct engine_io *io,
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
