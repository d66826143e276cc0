/* Simulated NTP servers' answers: a real NTPv4 reply built with wire/ntp from a request and
 * the server's view of time. Used for reference servers (stratum 1: true time plus an
 * optional offset and drift, which is also how a falseticker is modelled) and for servers
 * whose clock is a tempus engine (their reference comes from engine_reference()). */
#ifndef TEMPUS_SIM_SERVER_H
#define TEMPUS_SIM_SERVER_H

#include <stddef.h>
#include <stdint.h>

/* What the server puts in its replies besides the timestamps. */
struct simserver_ref {
    int leap;    /* LI: 0..3 (3 = unsynchronised) */
    int stratum; /* 1..15; 0 or 16 = unsynchronised (sent as 0) */
    uint32_t refid;
    int64_t ref_time_real_ns; /* reference timestamp, 0 = unset */
    double root_delay_s;
    double root_dispersion_s;
    int precision_log2;
};

/* Builds the reply to the request req (len bytes) into out (outlen >= 48): mode 4, version
 * and poll echoed, origin = the request's transmit, receive = rx_real_ns (the server's clock
 * when the request arrived). The transmit timestamp is left for simserver_set_tx(). Returns
 * the reply's length (48), or 0 when the request is not answered (not a valid mode 3
 * request). */
size_t simserver_answer(const uint8_t *req, size_t len, const struct simserver_ref *ref,
                        int64_t rx_real_ns, uint8_t *out, size_t outlen);

/* Fills the reply's transmit timestamp with the server's clock at the moment it leaves. */
void simserver_set_tx(uint8_t *reply, int64_t tx_real_ns);

#endif
