/* Addresses for tempusc: wire IPAddr <-> text, reverse DNS, reference IDs, and the address
 * argument syntaxes of chronyc's commands. Name resolution (getaddrinfo/getnameinfo) lives
 * here and nowhere else in the client. */
#ifndef TEMPUS_CLIENT_NAMES_H
#define TEMPUS_CLIENT_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/cmdmon.h"

#define NAMES_MAX 1025 /* NI_MAXHOST */

/* Numeric text: dotted quad, RFC 5952 IPv6, "ID#%010u", "[UNSPEC]" (family 0), "?" else. */
const char *names_numeric(const struct cmdmon_ip *ip, char *buf, size_t len);

/* chronyc's name column: numeric when numeric is set (or for ID/UNSPEC), otherwise the
 * reverse DNS name, falling back to numeric. With truncate, a looked-up name longer than 25
 * characters becomes its first 24 characters and '>'. */
const char *names_lookup(const struct cmdmon_ip *ip, bool numeric, bool truncate, char *buf,
                         size_t len);

/* The reference ID chrony gives an address: IPv4 itself, IPv6 the first 4 bytes of its MD5. */
uint32_t names_refid(const struct cmdmon_ip *ip);

/* Parses an address argument: numeric IPv4/IPv6, "ID#nnnnnnnnnn", or a host name resolved
 * with getaddrinfo (family: 0 any, 4 or 6 only). Returns 0, or -1 if it does not resolve. */
int names_parse(const char *text, int family, struct cmdmon_ip *out);

/* Parses a subnet as allow/deny take it: "" (everything: UNSPEC, 0 bits), "ADDR", "ADDR/BITS",
 * and the IPv4 shorthands "1", "1.2", "1.2.3" (8, 16, 24 bits). Returns 0 or -1. */
int names_parse_subnet(const char *text, struct cmdmon_ip *ip, int32_t *bits);

/* Parses online/offline/burst's selector: "ADDR" (all-ones mask), "ADDR/BITS" (prefix mask)
 * or "MASK/ADDR". Returns 0 or -1. */
int names_parse_mask_addr(const char *text, int family, struct cmdmon_ip *mask,
                          struct cmdmon_ip *addr);

/* True if text is a numeric IPv4/IPv6 address. */
bool names_is_numeric(const char *text);

#endif
