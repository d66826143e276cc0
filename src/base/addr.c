/* Network addresses as values: text parsing (inet_pton's strict forms), RFC 5952 formatting
 * (the same text glibc's inet_ntop gives, so our reports read like chrony's), subnets. */
#include "base/addr.h"

#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Strict dotted quad as inet_pton accepts it: 4 decimal parts, each 0..255, no leading zero,
 * nothing after. Parses text[0..len). */
static int parse_ipv4(const char *text, size_t len, uint8_t out[4])
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t digits = 0;

        if (part > 0) {
            if (i >= len || text[i] != '.')
                return -1;
            i++;
        }
        while (i < len && text[i] >= '0' && text[i] <= '9') {
            if (digits > 0 && v == 0)
                return -1; /* leading zero */
            v = v * 10 + (unsigned)(text[i] - '0');
            if (v > 255)
                return -1;
            digits++;
            i++;
        }
        if (digits == 0)
            return -1;
        out[part] = (uint8_t)v;
    }
    return i == len ? 0 : -1;
}

static int parse_ipv6(const char *text, uint8_t out[16])
{
    uint16_t words[8];
    int n = 0, gap = -1;
    size_t len = strlen(text), i = 0;

    if (len >= 2 && text[0] == ':' && text[1] == ':') {
        gap = 0;
        i = 2;
    } else if (len >= 1 && text[0] == ':') {
        return -1;
    }
    while (i < len) {
        size_t start = i;
        unsigned v = 0;
        int digits = 0;

        while (i < len && hexval(text[i]) >= 0 && digits < 5) {
            v = (v << 4) | (unsigned)hexval(text[i]);
            digits++;
            i++;
        }
        if (i < len && text[i] == '.') {
            /* Embedded IPv4 takes the last two words. */
            uint8_t v4[4];
            if (n > 6 || parse_ipv4(text + start, len - start, v4) < 0)
                return -1;
            words[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
            words[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
            break; /* the IPv4 part ends the address */
        }
        if (digits == 0 || digits > 4 || n >= 8)
            return -1;
        words[n++] = (uint16_t)v;
        if (i == len)
            break;
        if (text[i] != ':')
            return -1;
        i++;
        if (i < len && text[i] == ':') {
            if (gap >= 0)
                return -1;
            gap = n;
            i++;
        } else if (i == len) {
            return -1; /* trailing single ':' */
        }
    }
    if (gap >= 0) {
        int fill = 8 - n;
        if (fill < 1)
            return -1;
        memmove(words + gap + fill, words + gap, (size_t)(n - gap) * sizeof words[0]);
        for (int k = 0; k < fill; k++)
            words[gap + k] = 0;
    } else if (n != 8) {
        return -1;
    }
    for (int k = 0; k < 8; k++) {
        out[2 * k] = (uint8_t)(words[k] >> 8);
        out[2 * k + 1] = (uint8_t)(words[k] & 0xff);
    }
    return 0;
}

int addr_parse(const char *text, struct addr *out)
{
    struct addr a;

    memset(&a, 0, sizeof a);
    if (text == NULL)
        return -1;
    if (strchr(text, ':') != NULL) {
        if (parse_ipv6(text, a.bytes) < 0)
            return -1;
        a.family = ADDR_INET6;
    } else {
        if (parse_ipv4(text, strlen(text), a.bytes) < 0)
            return -1;
        a.family = ADDR_INET4;
    }
    *out = a;
    return 0;
}

const char *addr_format(const struct addr *a, char *buf, size_t len)
{
    uint16_t w[8];
    int best = -1, best_len = 0;
    size_t pos = 0;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    if (a->family == ADDR_INET4) {
        snprintf(buf, len, "%u.%u.%u.%u", a->bytes[0], a->bytes[1], a->bytes[2], a->bytes[3]);
        return buf;
    }
    if (a->family != ADDR_INET6) {
        snprintf(buf, len, "?");
        return buf;
    }
    for (int k = 0; k < 8; k++)
        w[k] = (uint16_t)(a->bytes[2 * k] << 8 | a->bytes[2 * k + 1]);
    /* Longest run of zero words (first on a tie), only if at least two long (RFC 5952 4.2). */
    for (int k = 0; k < 8;) {
        int run = 0;
        while (k + run < 8 && w[k + run] == 0)
            run++;
        if (run > best_len) {
            best = k;
            best_len = run;
        }
        k += run > 0 ? run : 1;
    }
    if (best_len < 2)
        best = -1;
    /* IPv4-compatible (::a.b.c.d other than :: and ::1) and IPv4-mapped addresses end in
     * dotted form, as inet_ntop prints them. */
    int v4_tail = best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff));
    for (int k = 0; k < 8; k++) {
        int n;
        if (k == best) {
            n = snprintf(buf + pos, len - pos, "%s", k == 0 ? "::" : ":");
            k += best_len - 1;
        } else if (v4_tail && k == 6) {
            n = snprintf(buf + pos, len - pos, "%u.%u.%u.%u", a->bytes[12], a->bytes[13],
                         a->bytes[14], a->bytes[15]);
            k = 8;
        } else {
            n = snprintf(buf + pos, len - pos, "%x%s", w[k], k < 7 ? ":" : "");
        }
        if (n < 0 || (size_t)n >= len - pos)
            return buf;
        pos += (size_t)n;
    }
    return buf;
}

int addr_equal(const struct addr *a, const struct addr *b)
{
    size_t n;

    if (a->family != b->family)
        return 0;
    n = a->family == ADDR_INET4 ? 4 : a->family == ADDR_INET6 ? 16 : 0;
    return memcmp(a->bytes, b->bytes, n) == 0;
}

int addr_in_subnet(const struct addr *a, const struct addr_subnet *s)
{
    int bits = s->prefix_len, max = a->family == ADDR_INET4 ? 32 : 128;

    if (a->family != s->addr.family || a->family == ADDR_UNSPEC)
        return 0;
    if (bits > max)
        bits = max;
    if (bits < 0)
        bits = 0;
    for (int i = 0; bits > 0; i++, bits -= 8) {
        uint8_t mask = (uint8_t)(bits >= 8 ? 0xff : 0xff << (8 - bits));
        if ((a->bytes[i] & mask) != (s->addr.bytes[i] & mask))
            return 0;
    }
    return 1;
}

/* sscanf("%d")-like: optional sign, decimal digits, wrapping to int as glibc does for values
 * beyond int's range. Consumes the whole of text[0..len) or fails. */
static int parse_dec_part(const char *text, size_t len, long long *out)
{
    size_t i = 0;
    int neg = 0;
    unsigned long long v = 0;

    if (i < len && (text[i] == '+' || text[i] == '-'))
        neg = text[i++] == '-';
    if (i == len)
        return -1;
    for (; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        if (v < (1ULL << 62))
            v = v * 10 + (unsigned long long)(text[i] - '0');
        else
            v = 1ULL << 62; /* saturate like strtol, then wraps to something out of range */
    }
    /* (int)(long) truncation: keep the low 32 bits, signed. */
    uint32_t low = (uint32_t)(neg ? (0ULL - v) : v);
    *out = (int32_t)low;
    if (v >= (1ULL << 62))
        *out = -1;
    return 0;
}

int addr_subnet_parse(const char *text, struct addr_subnet *out)
{
    char host[ADDR_TEXT_MAX + 8];
    const char *slash = strchr(text, '/');
    size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
    int bits = -1;
    struct addr a;

    if (slash != NULL) {
        long long b;
        if (parse_dec_part(slash + 1, strlen(slash + 1), &b) < 0 || b < 0)
            return ADDR_SUBNET_BAD;
        bits = (int)b;
    }
    if (hlen >= sizeof host)
        return ADDR_SUBNET_NOT_ADDR;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    if (addr_parse(host, &a) == 0) {
        out->addr = a;
        out->prefix_len = bits >= 0 ? bits : a.family == ADDR_INET4 ? 32 : 128;
        return 0;
    }
    /* Shorthand IPv4 "1", "1.2", "1.2.3" (and loose "01.2.3.4"): 1..4 dotted numbers, each
     * 0..255; the prefix is 8 bits per part unless given. */
    if (hlen > 0 && strspn(host, "0123456789.+-") == hlen) {
        size_t start = 0;
        int parts = 0;
        memset(&a, 0, sizeof a);
        a.family = ADDR_INET4;
        for (;;) {
            size_t end = start;
            long long v;
            while (end < hlen && host[end] != '.')
                end++;
            if (parts == 4 || parse_dec_part(host + start, end - start, &v) < 0)
                return ADDR_SUBNET_NOT_ADDR;
            if (v < 0 || v > 255)
                return ADDR_SUBNET_BAD;
            a.bytes[parts++] = (uint8_t)v;
            if (end == hlen)
                break;
            start = end + 1;
        }
        out->addr = a;
        out->prefix_len = bits >= 0 ? bits : 8 * parts;
        return 0;
    }
    return slash != NULL ? ADDR_SUBNET_BAD : ADDR_SUBNET_NOT_ADDR;
}
