/* Simulated servers' replies (see server.h). */
#include "sim/server.h"

#include <string.h>

#include "base/ntp_time.h"
#include "wire/ntp.h"

size_t simserver_answer(const uint8_t *req, size_t len, const struct simserver_ref *ref,
                        int64_t rx_real_ns, uint8_t *out, size_t outlen)
{
    struct ntp_packet rq;
    if (outlen < NTP_HEADER_LEN || ntp_parse(req, len, &rq, NULL) != NTP_OK ||
        rq.mode != NTP_MODE_CLIENT)
        return 0;
    int unsync =
        ref->leap == NTP_LEAP_UNSYNC || ref->stratum <= 0 || ref->stratum >= NTP_STRATUM_UNSYNC;
    struct ntp_packet rp;
    memset(&rp, 0, sizeof(rp));
    rp.leap = (uint8_t)(unsync ? NTP_LEAP_UNSYNC : ref->leap);
    rp.version = rq.version;
    rp.mode = NTP_MODE_SERVER;
    rp.stratum = (uint8_t)(unsync ? 0 : ref->stratum);
    rp.poll = rq.poll;
    rp.precision = (int8_t)ref->precision_log2;
    rp.root_delay = ntp_time_short_from_s(unsync ? 1.0 : ref->root_delay_s);
    rp.root_dispersion = ntp_time_short_from_s(unsync ? 1.0 : ref->root_dispersion_s);
    rp.refid = unsync ? 0 : ref->refid;
    if (ref->ref_time_real_ns)
        rp.reference = ntp_time_from_ns(ref->ref_time_real_ns);
    rp.origin = rq.transmit;
    rp.receive = ntp_time_from_ns(rx_real_ns);
    return ntp_build(&rp, out, outlen);
}

void simserver_set_tx(uint8_t *reply, int64_t tx_real_ns)
{
    ntp_put_ts(reply + NTP_OFF_TRANSMIT, ntp_time_from_ns(tx_real_ns));
}
