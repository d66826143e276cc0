/* NTPv4 packet codec: see ntp.h for the parsing rules and where they come from. */
#include "wire/ntp.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/md5.h"

_Static_assert(NTP_OFF_TRANSMIT + 8 == NTP_HEADER_LEN, "NTP header is 48 octets");
_Static_assert(NTP_OFF_REFERENCE == NTP_OFF_REFID + 4, "reference follows refid");
_Static_assert(NTP_MAC_MIN_LEN == 4 + 16 && NTP_MAC_MAX_V4_LEN == 4 + 20, "MAC sizes");

static const char *const verdict_names[NTP_VERDICT_COUNT] = {
    [NTP_OK] = "ok",
    [NTP_BAD_SHORT] = "too short",
    [NTP_BAD_ALIGN] = "length not a multiple of 4",
    [NTP_BAD_VERSION] = "bad version",
    [NTP_BAD_EF_LENGTH] = "bad extension field length",
    [NTP_BAD_EF_OVERRUN] = "extension field past end",
    [NTP_BAD_EF_LAST_SHORT] = "last extension field too short",
    [NTP_BAD_MAC_LENGTH] = "bad MAC length",
};

const char *ntp_verdict_name(enum ntp_verdict v)
{
    if ((unsigned)v >= NTP_VERDICT_COUNT)
        return "?";
    return verdict_names[v];
}

static uint16_t get_u16(const uint8_t *buf)
{
    return (uint16_t)((unsigned)buf[0] << 8 | buf[1]);
}

static int8_t s8(uint8_t v)
{
    return (int8_t)(v < 128 ? (int)v : (int)v - 256);
}

void ntp_header_decode(const uint8_t *buf, struct ntp_packet *out)
{
    uint8_t lvm = buf[NTP_OFF_LVM];
    out->leap = (uint8_t)(lvm >> 6);
    out->version = (uint8_t)((lvm >> 3) & 7);
    out->mode = (uint8_t)(lvm & 7);
    out->stratum = buf[NTP_OFF_STRATUM];
    out->poll = s8(buf[NTP_OFF_POLL]);
    out->precision = s8(buf[NTP_OFF_PRECISION]);
    out->root_delay = ntp_get_u32(buf + NTP_OFF_ROOT_DELAY);
    out->root_dispersion = ntp_get_u32(buf + NTP_OFF_ROOT_DISP);
    out->refid = ntp_get_u32(buf + NTP_OFF_REFID);
    out->reference = ntp_get_ts(buf + NTP_OFF_REFERENCE);
    out->origin = ntp_get_ts(buf + NTP_OFF_ORIGIN);
    out->receive = ntp_get_ts(buf + NTP_OFF_RECEIVE);
    out->transmit = ntp_get_ts(buf + NTP_OFF_TRANSMIT);
}

void ntp_header_encode(const struct ntp_packet *p, uint8_t *buf)
{
    buf[NTP_OFF_LVM] = (uint8_t)((p->leap & 3u) << 6 | (p->version & 7u) << 3 | (p->mode & 7u));
    buf[NTP_OFF_STRATUM] = p->stratum;
    buf[NTP_OFF_POLL] = (uint8_t)p->poll;
    buf[NTP_OFF_PRECISION] = (uint8_t)p->precision;
    ntp_put_u32(buf + NTP_OFF_ROOT_DELAY, p->root_delay);
    ntp_put_u32(buf + NTP_OFF_ROOT_DISP, p->root_dispersion);
    ntp_put_u32(buf + NTP_OFF_REFID, p->refid);
    ntp_put_ts(buf + NTP_OFF_REFERENCE, p->reference);
    ntp_put_ts(buf + NTP_OFF_ORIGIN, p->origin);
    ntp_put_ts(buf + NTP_OFF_RECEIVE, p->receive);
    ntp_put_ts(buf + NTP_OFF_TRANSMIT, p->transmit);
}

static int is_zero4(const uint8_t *b)
{
    return (b[0] | b[1] | b[2] | b[3]) == 0;
}

enum ntp_verdict ntp_check(const uint8_t *buf, size_t len, struct ntp_layout *layout)
{
    struct ntp_layout l = {len, NTP_HEADER_LEN, 0, 0, 0, 0, 0};
    size_t pos = NTP_HEADER_LEN, last_ef_len = 0;
    unsigned version;

    if (len == NTP_HEADER_LEN) {
        /* The common case: a bare header. */
        version = (buf[0] >> 3) & 7u;
        if (version < NTP_MIN_VERSION || version > NTP_VERSION)
            return NTP_BAD_VERSION;
        if (layout)
            *layout = l;
        return NTP_OK;
    }
    if (len < NTP_HEADER_LEN)
        return NTP_BAD_SHORT;
    if (len % 4 != 0)
        return NTP_BAD_ALIGN;
    version = (buf[0] >> 3) & 7u;
    if (version < NTP_MIN_VERSION || version > NTP_VERSION)
        return NTP_BAD_VERSION;

    if (version < 4) {
        size_t rest = len - pos;
        if (rest == 4 && is_zero4(buf + pos)) {
            l.crypto_nak = 1;
        } else if (rest != 0) {
            if (rest < NTP_MAC_MIN_LEN || rest > NTP_MAC_MAX_LEN)
                return NTP_BAD_MAC_LENGTH;
            l.mac_off = pos;
            l.mac_len = rest;
        }
    } else {
        while (pos < len) {
            size_t rest = len - pos, ef_len;
            if (rest >= NTP_MAC_MIN_LEN && rest <= NTP_MAC_MAX_V4_LEN) {
                l.mac_off = pos;
                l.mac_len = rest;
                break;
            }
            if (rest == 4 && is_zero4(buf + pos)) {
                l.crypto_nak = 1;
                break;
            }
            /* rest >= 4 here (len and pos are multiples of 4). */
            ef_len = get_u16(buf + pos + 2);
            if (ef_len < NTP_EF_MIN_LEN || ef_len % 4 != 0)
                return NTP_BAD_EF_LENGTH;
            if (ef_len > rest)
                return NTP_BAD_EF_OVERRUN;
            pos += ef_len;
            l.ef_len += ef_len;
            l.n_ef++;
            last_ef_len = ef_len;
        }
        if (l.n_ef > 0 && l.mac_len == 0 && !l.crypto_nak && last_ef_len < NTP_EF_MIN_LAST_LEN)
            return NTP_BAD_EF_LAST_SHORT;
    }

    if (layout)
        *layout = l;
    return NTP_OK;
}

enum ntp_verdict ntp_parse(const uint8_t *buf, size_t len, struct ntp_packet *out,
                           struct ntp_layout *layout)
{
    enum ntp_verdict v = ntp_check(buf, len, layout);
    if (v == NTP_OK)
        ntp_header_decode(buf, out);
    return v;
}

void ntp_ef_iter_init(struct ntp_ef_iter *it, const uint8_t *buf, const struct ntp_layout *layout)
{
    it->pos = buf + layout->ef_off;
    it->remaining = layout->ef_len;
}

int ntp_ef_next(struct ntp_ef_iter *it, struct ntp_ef *ef)
{
    uint16_t len;
    if (it->remaining < NTP_EF_MIN_LEN)
        return 0;
    len = get_u16(it->pos + 2);
    /* The layout came from ntp_parse(); stay safe anyway if it did not. */
    if (len < NTP_EF_MIN_LEN || len > it->remaining)
        return 0;
    ef->type = get_u16(it->pos);
    ef->length = len;
    ef->body = it->pos + 4;
    ef->body_len = (size_t)len - 4;
    it->pos += len;
    it->remaining -= len;
    return 1;
}

size_t ntp_build(const struct ntp_packet *p, uint8_t *buf, size_t buflen)
{
    if (buflen < NTP_HEADER_LEN)
        return 0;
    ntp_header_encode(p, buf);
    return NTP_HEADER_LEN;
}

size_t ntp_append_ef(uint8_t *buf, size_t buflen, size_t off, uint16_t type, const void *body,
                     size_t body_len, size_t min_len)
{
    size_t flen;
    if (body_len > 65532 - 4 || off > buflen)
        return 0;
    flen = (4 + body_len + 3) & ~(size_t)3;
    if (flen < NTP_EF_MIN_LEN)
        flen = NTP_EF_MIN_LEN;
    if (min_len > flen)
        flen = (min_len + 3) & ~(size_t)3;
    if (flen > 65532 || flen > buflen - off)
        return 0;
    buf[off] = (uint8_t)(type >> 8);
    buf[off + 1] = (uint8_t)type;
    buf[off + 2] = (uint8_t)(flen >> 8);
    buf[off + 3] = (uint8_t)flen;
    if (body_len > 0)
        memcpy(buf + off + 4, body, body_len);
    memset(buf + off + 4 + body_len, 0, flen - 4 - body_len);
    return off + flen;
}

uint32_t ntp_refid_ipv4(const uint8_t addr[4])
{
    return ntp_get_u32(addr);
}

uint32_t ntp_refid_ipv6(const uint8_t addr[16])
{
    uint8_t d[MD5_DIGEST_LEN];
    md5_digest(addr, 16, d);
    return ntp_get_u32(d);
}

uint32_t ntp_refid_from_addr(const struct addr *a)
{
    switch (a->family) {
    case ADDR_INET4:
        return ntp_refid_ipv4(a->bytes);
    case ADDR_INET6:
        return ntp_refid_ipv6(a->bytes);
    case ADDR_UNSPEC:
    default:
        return 0;
    }
}

uint32_t ntp_refid_from_text(const char *text)
{
    uint32_t r = 0;
    int i;
    for (i = 0; i < 4 && text[i] != '\0'; i++)
        r |= (uint32_t)(uint8_t)text[i] << (24 - 8 * i);
    return r;
}

const char *ntp_refid_to_text(uint32_t refid, char out[5])
{
    int n = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = (uint8_t)(refid >> (24 - 8 * i));
        if (c == 0)
            break;
        if (c >= 0x20 && c < 0x7F)
            out[n++] = (char)c;
    }
    out[n] = '\0';
    return out;
}

int ntp_is_kod(const struct ntp_packet *p)
{
    return p->stratum == NTP_STRATUM_KOD &&
           (p->mode == NTP_MODE_SERVER || p->mode == NTP_MODE_PASSIVE ||
            p->mode == NTP_MODE_BROADCAST);
}

int ntp_is_kiss_code(uint32_t refid)
{
    static const uint32_t codes[] = {
        NTP_KISS_ACST, NTP_KISS_AUTH, NTP_KISS_AUTO, NTP_KISS_BCST, NTP_KISS_CRYP,
        NTP_KISS_DENY, NTP_KISS_DROP, NTP_KISS_RSTR, NTP_KISS_INIT, NTP_KISS_MCST,
        NTP_KISS_NKEY, NTP_KISS_RATE, NTP_KISS_RMOT, NTP_KISS_STEP, NTP_KISS_NTSN,
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i] == refid)
            return 1;
    return 0;
}

double ntp_root_delay_s(const struct ntp_packet *p)
{
    return ntp_time_short_to_s(p->root_delay);
}

double ntp_root_dispersion_s(const struct ntp_packet *p)
{
    return ntp_time_short_to_s(p->root_dispersion);
}

int ntp_stratum_effective(const struct ntp_packet *p)
{
    return p->stratum == NTP_STRATUM_KOD ? NTP_STRATUM_UNSYNC : p->stratum;
}
