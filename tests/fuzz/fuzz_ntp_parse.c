/* Fuzz target: the NTP packet parser (wire/ntp). Any datagram: ntp_parse and ntp_check agree,
 * an accepted layout stays inside the datagram, the extension-field iterator walks exactly
 * the fields the layout counts, and the header re-encodes byte for byte. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "wire/ntp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ntp_packet p;
    struct ntp_layout lay, lay2;
    enum ntp_verdict v = ntp_parse(data, size, &p, &lay);
    enum ntp_verdict v2 = ntp_check(data, size, &lay2);
    FUZZ_CHECK(v == v2);
    FUZZ_CHECK((int)v >= 0 && v < NTP_VERDICT_COUNT);
    FUZZ_CHECK(ntp_verdict_name(v)[0] != '?');
    if (size >= NTP_HEADER_LEN) {
        struct ntp_packet h;
        uint8_t enc[NTP_HEADER_LEN];
        ntp_header_decode(data, &h);
        ntp_header_encode(&h, enc);
        FUZZ_CHECK(memcmp(enc, data, NTP_HEADER_LEN) == 0);
        char text[5];
        ntp_refid_to_text(h.refid, text);
        FUZZ_CHECK(strlen(text) <= 4);
        (void)ntp_is_kod(&h);
        (void)ntp_is_kiss_code(h.refid);
        FUZZ_CHECK(ntp_root_delay_s(&h) >= 0.0 && ntp_root_dispersion_s(&h) >= 0.0);
        int st = ntp_stratum_effective(&h);
        FUZZ_CHECK(st >= 1 && st <= 255);
    }
    if (v != NTP_OK)
        return 0;

    FUZZ_CHECK(size >= NTP_HEADER_LEN && size % 4 == 0);
    FUZZ_CHECK(p.version >= NTP_MIN_VERSION && p.version <= NTP_VERSION);
    FUZZ_CHECK(lay.len == size && lay2.len == size);
    FUZZ_CHECK(lay.ef_len == lay2.ef_len && lay.n_ef == lay2.n_ef && lay.mac_len == lay2.mac_len &&
               lay.crypto_nak == lay2.crypto_nak);
    FUZZ_CHECK(lay.ef_off == NTP_HEADER_LEN);
    FUZZ_CHECK(lay.ef_off + lay.ef_len <= size);
    if (lay.mac_len > 0) {
        FUZZ_CHECK(lay.mac_len >= NTP_MAC_MIN_LEN && lay.mac_len <= NTP_MAC_MAX_LEN);
        FUZZ_CHECK(lay.mac_off == lay.ef_off + lay.ef_len);
        FUZZ_CHECK(lay.mac_off + lay.mac_len == size);
    }
    FUZZ_CHECK(!(lay.mac_len > 0 && lay.crypto_nak));
    if (lay.crypto_nak)
        FUZZ_CHECK(lay.ef_off + lay.ef_len + 4 == size);
    if (lay.mac_len == 0 && !lay.crypto_nak)
        FUZZ_CHECK(lay.ef_off + lay.ef_len == size);

    struct ntp_ef_iter it;
    struct ntp_ef ef;
    unsigned n = 0;
    size_t total = 0;
    ntp_ef_iter_init(&it, data, &lay);
    while (ntp_ef_next(&it, &ef)) {
        FUZZ_CHECK(ef.length >= NTP_EF_MIN_LEN && ef.length % 4 == 0);
        FUZZ_CHECK(ef.body_len + 4 == ef.length);
        FUZZ_CHECK(ef.body >= data + NTP_HEADER_LEN && ef.body + ef.body_len <= data + size);
        total += ef.length;
        n++;
        FUZZ_CHECK(n <= lay.n_ef);
    }
    FUZZ_CHECK(n == lay.n_ef && total == lay.ef_len);

    /* The builder: the decoded header and the extension fields rebuilt give the same bytes. */
    uint8_t out[NTP_MAX_PACKET_LEN];
    if (size <= sizeof out) {
        size_t off = ntp_build(&p, out, sizeof out);
        FUZZ_CHECK(off == NTP_HEADER_LEN);
        ntp_ef_iter_init(&it, data, &lay);
        while (ntp_ef_next(&it, &ef)) {
            off = ntp_append_ef(out, sizeof out, off, ef.type, ef.body, ef.body_len, 0);
            FUZZ_CHECK(off != 0);
        }
        FUZZ_CHECK(off == lay.ef_off + lay.ef_len);
        FUZZ_CHECK(memcmp(out, data, off) == 0);
    }
    return 0;
}
