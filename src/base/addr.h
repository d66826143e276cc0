/* Network addresses as values: IPv4, IPv6, with a port; subnets; text conversion.
 *
 * Pure (no inet_pton/getaddrinfo): the config parser, the access rules and the control
 * protocol codec all use it, and all must be fuzzable.
 */
#ifndef TEMPUS_BASE_ADDR_H
#define TEMPUS_BASE_ADDR_H

#include <stddef.h>
#include <stdint.h>

enum addr_family {
    ADDR_UNSPEC = 0,
    ADDR_INET4 = 4,
    ADDR_INET6 = 6,
};

struct addr {
    enum addr_family family;
    uint8_t bytes[16]; /* network order; IPv4 uses bytes[0..3] */
    uint16_t port;     /* host order; 0 when not meaningful */
};

/* An address with a prefix length: 192.168.111.0/24, 2001:db8::/32, or one host (/32, /128). */
struct addr_subnet {
    struct addr addr;
    int prefix_len;
};

/* Longest text form of an address without port (IPv6 with embedded IPv4), with NUL. */
#define ADDR_TEXT_MAX 46

/* Parses a numeric IPv4 dotted quad or IPv6 address (RFC 4291 text forms, "::", embedded
 * IPv4; no brackets, no port, no zone). Returns 0 and fills *out (port 0), or -1. */
int addr_parse(const char *text, struct addr *out);

/* Formats without port, in the canonical RFC 5952 form for IPv6. Returns buf. */
const char *addr_format(const struct addr *a, char *buf, size_t len);

/* 1 if same family and bytes (ports are ignored), else 0. */
int addr_equal(const struct addr *a, const struct addr *b);

/* 1 if a lies inside subnet s (same family, first prefix_len bits equal). */
int addr_in_subnet(const struct addr *a, const struct addr_subnet *s);

/* addr_subnet_parse() results besides 0. */
#define ADDR_SUBNET_NOT_ADDR (-1) /* not numeric: may be a host name (only without "/bits") */
#define ADDR_SUBNET_BAD      (-2) /* numeric but invalid (part > 255, bad or negative bits) */

/* Parses an allow/deny subnet as chrony does: "1.2.3.4", "2001:db8::/32", "1.2.3.0/24", and
 * the IPv4 shorthands "1", "1.2", "1.2.3" (8 bits per part unless "/bits" is given). Bits
 * above 32/128 are accepted here (the caller decides). Returns 0 and fills *out, or one of
 * ADDR_SUBNET_NOT_ADDR / ADDR_SUBNET_BAD. */
int addr_subnet_parse(const char *text, struct addr_subnet *out);

#endif
