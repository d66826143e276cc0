/* NTPv4 packets (RFC 5905 §7.3) with extension fields (RFC 7822): parse and build,
 * byte-exact, no allocation, no copies of extension bodies.
 *
 * Parsing follows chrony 4.3's rules (ntp_core.c parse_packet) where RFC 7822 leaves the
 * receiver a choice: the length must be >= 48 and a multiple of 4; in NTPv4 a remainder of
 * 20..24 octets after the header or after an extension field is a MAC (key ID + 16/20-octet
 * digest); a 4-octet all-zero remainder is a crypto-NAK; anything else is a sequence of
 * extension fields, each >= 16 octets, a multiple of 4, within the packet. In addition
 * (RFC 7822 §7.5) the last extension field of a packet without a MAC must be >= 28 octets.
 * In NTPv1-3 anything after the header must be a MAC of 20..68 octets (key ID + up to a
 * 64-octet digest) or a crypto-NAK.
 *
 * Field values are kept raw (root delay/dispersion as 16.16, stratum as sent): policy (0 ->
 * 16 on receive, kiss codes) lives in helpers and in the engine.
 */
#ifndef TEMPUS_WIRE_NTP_H
#define TEMPUS_WIRE_NTP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/addr.h"
#include "base/ntp_time.h"

#define NTP_HEADER_LEN      48
#define NTP_VERSION         4
#define NTP_MIN_VERSION     1
#define NTP_PORT            123
#define NTP_EF_MIN_LEN      16   /* RFC 7822: any extension field */
#define NTP_EF_MIN_LAST_LEN 28   /* RFC 7822: last field when there is no MAC */
#define NTP_MAC_MIN_LEN     20   /* key ID + 16-octet digest (MD5) */
#define NTP_MAC_MAX_V4_LEN  24   /* key ID + 20-octet digest: the NTPv4 maximum */
#define NTP_MAC_MAX_LEN     68   /* key ID + 64-octet digest (SHA-512, NTPv3 only) */
#define NTP_MAX_PACKET_LEN  1024 /* a sensible receive buffer; parse accepts any length */

/* Offsets of the header fields (RFC 5905 Fig. 8). */
#define NTP_OFF_LVM        0
#define NTP_OFF_STRATUM    1
#define NTP_OFF_POLL       2
#define NTP_OFF_PRECISION  3
#define NTP_OFF_ROOT_DELAY 4
#define NTP_OFF_ROOT_DISP  8
#define NTP_OFF_REFID      12
#define NTP_OFF_REFERENCE  16
#define NTP_OFF_ORIGIN     24
#define NTP_OFF_RECEIVE    32
#define NTP_OFF_TRANSMIT   40

enum ntp_leap {
    NTP_LEAP_NONE = 0,
    NTP_LEAP_INSERT = 1, /* last minute of the day has 61 s */
    NTP_LEAP_DELETE = 2, /* last minute of the day has 59 s */
    NTP_LEAP_UNSYNC = 3, /* unknown / unsynchronised */
};

enum ntp_mode {
    NTP_MODE_RESERVED = 0,
    NTP_MODE_ACTIVE = 1,  /* symmetric active */
    NTP_MODE_PASSIVE = 2, /* symmetric passive */
    NTP_MODE_CLIENT = 3,
    NTP_MODE_SERVER = 4,
    NTP_MODE_BROADCAST = 5,
    NTP_MODE_CONTROL = 6,
    NTP_MODE_PRIVATE = 7,
};

/* Stratum values (RFC 5905 §7.3). */
#define NTP_STRATUM_KOD     0  /* on the wire: unspecified / kiss-o'-death */
#define NTP_STRATUM_UNSYNC  16 /* internal: unsynchronised (sent as 0) */
#define NTP_STRATUM_MAX_SYN 15

/* Kiss codes and special reference IDs (big-endian ASCII as a host-order uint32). */
#define NTP_REFID(a, b, c, d)                                                                      \
    (((uint32_t)(uint8_t)(a) << 24) | ((uint32_t)(uint8_t)(b) << 16) |                             \
     ((uint32_t)(uint8_t)(c) << 8) | (uint32_t)(uint8_t)(d))
#define NTP_KISS_ACST    NTP_REFID('A', 'C', 'S', 'T')
#define NTP_KISS_AUTH    NTP_REFID('A', 'U', 'T', 'H')
#define NTP_KISS_AUTO    NTP_REFID('A', 'U', 'T', 'O')
#define NTP_KISS_BCST    NTP_REFID('B', 'C', 'S', 'T')
#define NTP_KISS_CRYP    NTP_REFID('C', 'R', 'Y', 'P')
#define NTP_KISS_DENY    NTP_REFID('D', 'E', 'N', 'Y')
#define NTP_KISS_DROP    NTP_REFID('D', 'R', 'O', 'P')
#define NTP_KISS_RSTR    NTP_REFID('R', 'S', 'T', 'R')
#define NTP_KISS_INIT    NTP_REFID('I', 'N', 'I', 'T')
#define NTP_KISS_MCST    NTP_REFID('M', 'C', 'S', 'T')
#define NTP_KISS_NKEY    NTP_REFID('N', 'K', 'E', 'Y')
#define NTP_KISS_RATE    NTP_REFID('R', 'A', 'T', 'E')
#define NTP_KISS_RMOT    NTP_REFID('R', 'M', 'O', 'T')
#define NTP_KISS_STEP    NTP_REFID('S', 'T', 'E', 'P')
#define NTP_KISS_NTSN    NTP_REFID('N', 'T', 'S', 'N') /* RFC 8915 NTS NAK */
#define NTP_REFID_LOCAL  0x7F7F0101u                   /* 127.127.1.1: local reference */
#define NTP_REFID_SMOOTH 0x7F7F01FFu                   /* 127.127.1.255: serving smoothed time */
#define NTP_REFID_UNSYNC 0u

/* Extension field types tempus knows by name. */
#define NTP_EF_NTS_UNIQUE_ID     0x0104
#define NTP_EF_NTS_COOKIE        0x0204
#define NTP_EF_NTS_COOKIE_PLACEH 0x0304
#define NTP_EF_NTS_AUTH          0x0404
#define NTP_EF_CHRONY_EXP        0xF323 /* chrony experimental (magic 0xF5BEDD9A) */

/* A decoded header. Fields are raw wire values, host order. */
struct ntp_packet {
    uint8_t leap;             /* enum ntp_leap, 0..3 */
    uint8_t version;          /* 0..7 */
    uint8_t mode;             /* enum ntp_mode, 0..7 */
    uint8_t stratum;          /* as sent: 0 = unspecified/KoD */
    int8_t poll;              /* log2 s */
    int8_t precision;         /* log2 s */
    uint32_t root_delay;      /* NTP short 16.16 s */
    uint32_t root_dispersion; /* NTP short 16.16 s */
    uint32_t refid;           /* big-endian bytes as a host-order value */
    struct ntp_ts64 reference;
    struct ntp_ts64 origin;
    struct ntp_ts64 receive;
    struct ntp_ts64 transmit;
};

/* Where things are in a parsed datagram (offsets into the caller's buffer). */
struct ntp_layout {
    size_t len;     /* whole datagram */
    size_t ef_off;  /* first extension field (== NTP_HEADER_LEN) */
    size_t ef_len;  /* bytes of extension fields (0: none) */
    unsigned n_ef;  /* number of extension fields */
    size_t mac_off; /* MAC start (key ID), valid when mac_len > 0 */
    size_t mac_len; /* 0: no MAC; else 20..24 (v4) or 20..68 (v1-3) */
    int crypto_nak; /* 1: a 4-octet zero "crypto-NAK" follows the header/fields */
};

/* Parse outcomes. Keep ntp_verdict_name() in step. */
enum ntp_verdict {
    NTP_OK = 0,
    NTP_BAD_SHORT,         /* shorter than the 48-octet header */
    NTP_BAD_ALIGN,         /* length not a multiple of 4 */
    NTP_BAD_VERSION,       /* version 0 or 5..7 */
    NTP_BAD_EF_LENGTH,     /* an extension field shorter than 16 or not a multiple of 4 */
    NTP_BAD_EF_OVERRUN,    /* an extension field runs past the end of the datagram */
    NTP_BAD_EF_LAST_SHORT, /* last field < 28 octets with no MAC after it (RFC 7822) */
    NTP_BAD_MAC_LENGTH,    /* trailer of a v1-3 packet is not a 20..68-octet MAC */
    NTP_VERDICT_COUNT
};

/* Stable lower-case name of a verdict ("ok", "too short", ...); "?" if out of range. */
const char *ntp_verdict_name(enum ntp_verdict v);

/* Decodes the 48-octet header only (no length or version checks). buf must hold 48 bytes. */
void ntp_header_decode(const uint8_t *buf, struct ntp_packet *out);

/* Encodes the header into 48 bytes of buf. Out-of-range leap/version/mode are masked. */
void ntp_header_encode(const struct ntp_packet *p, uint8_t *buf);

/* Parses and validates a datagram (borrowed). On NTP_OK fills *out and *layout (layout may
 * be NULL); on a bad verdict their contents are unspecified. */
enum ntp_verdict ntp_parse(const uint8_t *buf, size_t len, struct ntp_packet *out,
                           struct ntp_layout *layout);

/* Validates a datagram like ntp_parse() without decoding the header (the server reads the
 * few fields it needs from the bytes). layout may be NULL. */
enum ntp_verdict ntp_check(const uint8_t *buf, size_t len, struct ntp_layout *layout);

/* One extension field, pointing into the parsed buffer (borrowed, not copied). */
struct ntp_ef {
    uint16_t type;
    uint16_t length;     /* whole field incl. 4-octet header and padding */
    const uint8_t *body; /* length - 4 bytes (value plus padding) */
    size_t body_len;
};

struct ntp_ef_iter {
    const uint8_t *pos;
    size_t remaining;
};

/* Starts iterating the extension fields of a buffer that ntp_parse() accepted with layout. */
void ntp_ef_iter_init(struct ntp_ef_iter *it, const uint8_t *buf, const struct ntp_layout *layout);

/* Next field into *ef: 1, or 0 at the end. */
int ntp_ef_next(struct ntp_ef_iter *it, struct ntp_ef *ef);

/* Writes the header into buf (buflen >= 48). Returns 48, or 0 if buflen is too small. */
size_t ntp_build(const struct ntp_packet *p, uint8_t *buf, size_t buflen);

/* Appends an extension field at offset off of buf: type, length, body (borrowed, may be NULL
 * when body_len is 0), zero padding to a multiple of 4 and to at least max(16, min_len)
 * octets (pass NTP_EF_MIN_LAST_LEN for a last field without MAC). Returns the new end offset,
 * or 0 if it does not fit in buflen or the field would exceed 65532 octets. */
size_t ntp_append_ef(uint8_t *buf, size_t buflen, size_t off, uint16_t type, const void *body,
                     size_t body_len, size_t min_len);

/* Big-endian helpers for the fields (buf must hold 4 or 8 bytes). Inline: the server's hot
 * path uses them on every reply. */
static inline uint32_t ntp_get_u32(const uint8_t *buf)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t v;
    memcpy(&v, buf, 4);
    return __builtin_bswap32(v);
#else
    return (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 |
           (uint32_t)buf[3];
#endif
}

static inline void ntp_put_u32(uint8_t *buf, uint32_t v)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* One store instead of four: compilers do not always merge the byte stores. */
    v = __builtin_bswap32(v);
    memcpy(buf, &v, 4);
#else
    buf[0] = (uint8_t)(v >> 24);
    buf[1] = (uint8_t)(v >> 16);
    buf[2] = (uint8_t)(v >> 8);
    buf[3] = (uint8_t)v;
#endif
}

static inline struct ntp_ts64 ntp_get_ts(const uint8_t *buf)
{
    struct ntp_ts64 ts = {ntp_get_u32(buf), ntp_get_u32(buf + 4)};
    return ts;
}

static inline void ntp_put_ts(uint8_t *buf, struct ntp_ts64 ts)
{
    ntp_put_u32(buf, ts.sec);
    ntp_put_u32(buf + 4, ts.frac);
}

/* Reference ID of an IPv4 address (its 4 octets, big-endian). */
uint32_t ntp_refid_ipv4(const uint8_t addr[4]);

/* Reference ID of an IPv6 address: the first 4 octets of MD5(16 address octets), big-endian. */
uint32_t ntp_refid_ipv6(const uint8_t addr[16]);

/* Reference ID of an address value by family; 0 for ADDR_UNSPEC. */
uint32_t ntp_refid_from_addr(const struct addr *a);

/* Reference ID from up to 4 ASCII characters, left-justified, zero-padded ("GPS" ->
 * 0x47505300). Longer strings are truncated to 4. */
uint32_t ntp_refid_from_text(const char *text);

/* The refid as text like chronyc prints it in parentheses: up to 4 characters, stopping at
 * the first NUL, non-printable bytes dropped. out must hold 5 bytes. Returns out. */
const char *ntp_refid_to_text(uint32_t refid, char out[5]);

/* 1 if p is a kiss-o'-death: stratum 0 in a server/passive/broadcast reply (RFC 5905 §7.4).
 * The kiss code is then p->refid. Whether to believe it (origin check, LI 3) is the
 * caller's decision. */
int ntp_is_kod(const struct ntp_packet *p);

/* 1 if refid is one of the RFC 5905/8915 kiss codes above. */
int ntp_is_kiss_code(uint32_t refid);

/* Root delay / dispersion in seconds. */
double ntp_root_delay_s(const struct ntp_packet *p);
double ntp_root_dispersion_s(const struct ntp_packet *p);

/* Stratum as used internally: 0 on the wire -> 16 (unsynchronised), else as sent. */
int ntp_stratum_effective(const struct ntp_packet *p);

#endif
