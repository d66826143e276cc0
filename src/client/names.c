/* Address text, resolution and reference IDs for tempusc (see names.h). */
#include "client/names.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/md5.h"

const char *names_numeric(const struct cmdmon_ip *ip, char *buf, size_t len)
{
    switch (ip->family) {
    case CMDMON_FAMILY_INET4:
        if (!inet_ntop(AF_INET, ip->addr, buf, (socklen_t)len))
            snprintf(buf, len, "?");
        break;
    case CMDMON_FAMILY_INET6:
        if (!inet_ntop(AF_INET6, ip->addr, buf, (socklen_t)len))
            snprintf(buf, len, "?");
        break;
    case CMDMON_FAMILY_ID:
        snprintf(buf, len, "ID#%010u", (unsigned)ip->id);
        break;
    case CMDMON_FAMILY_UNSPEC:
        snprintf(buf, len, "[UNSPEC]");
        break;
    default:
        snprintf(buf, len, "?");
        break;
    }
    return buf;
}

const char *names_lookup(const struct cmdmon_ip *ip, bool numeric, bool truncate, char *buf,
                         size_t len)
{
    if (numeric || (ip->family != CMDMON_FAMILY_INET4 && ip->family != CMDMON_FAMILY_INET6))
        return names_numeric(ip, buf, len);

    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (ip->family == CMDMON_FAMILY_INET4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, ip->addr, 4);
        sl = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, ip->addr, 16);
        sl = sizeof *sin6;
    }
    char host[NAMES_MAX];
    if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, NULL, 0, NI_NAMEREQD) != 0)
        return names_numeric(ip, buf, len);
    if (truncate && strlen(host) > 25) {
        host[24] = '>';
        host[25] = '\0';
    }
    snprintf(buf, len, "%s", host);
    return buf;
}

uint32_t names_refid(const struct cmdmon_ip *ip)
{
    if (ip->family == CMDMON_FAMILY_INET4)
        return (uint32_t)ip->addr[0] << 24 | (uint32_t)ip->addr[1] << 16 |
               (uint32_t)ip->addr[2] << 8 | ip->addr[3];
    if (ip->family == CMDMON_FAMILY_INET6) {
        uint8_t d[MD5_DIGEST_LEN];
        md5_digest(ip->addr, 16, d);
        return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
    }
    return 0;
}

static int parse_numeric(const char *text, struct cmdmon_ip *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->addr) == 1) {
        out->family = CMDMON_FAMILY_INET4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out->addr) == 1) {
        out->family = CMDMON_FAMILY_INET6;
        return 0;
    }
    return -1;
}

bool names_is_numeric(const char *text)
{
    struct cmdmon_ip ip;
    return parse_numeric(text, &ip) == 0;
}

int names_parse(const char *text, int family, struct cmdmon_ip *out)
{
    memset(out, 0, sizeof *out);
    if (!strncmp(text, "ID#", 3)) {
        char *end;
        unsigned long id = strtoul(text + 3, &end, 10);
        if (end == text + 3 || *end || id > UINT32_MAX)
            return -1;
        out->family = CMDMON_FAMILY_ID;
        out->id = (uint32_t)id;
        return 0;
    }
    if (parse_numeric(text, out) == 0) {
        if ((family == 4 && out->family != CMDMON_FAMILY_INET4) ||
            (family == 6 && out->family != CMDMON_FAMILY_INET6))
            return -1;
        return 0;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(text, NULL, &hints, &res) != 0 || !res)
        return -1;
    int rc = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            out->family = CMDMON_FAMILY_INET4;
            memcpy(out->addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
            rc = 0;
            break;
        }
        if (ai->ai_family == AF_INET6) {
            out->family = CMDMON_FAMILY_INET6;
            memcpy(out->addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
            rc = 0;
            break;
        }
    }
    freeaddrinfo(res);
    return rc;
}

static void prefix_mask(uint16_t family, int bits, struct cmdmon_ip *mask)
{
    memset(mask, 0, sizeof *mask);
    mask->family = family;
    int total = family == CMDMON_FAMILY_INET4 ? 32 : 128;
    for (int i = 0; i < total && i < bits; i++)
        mask->addr[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

int names_parse_subnet(const char *text, struct cmdmon_ip *ip, int32_t *bits)
{
    memset(ip, 0, sizeof *ip);
    *bits = 0;
    if (!*text)
        return 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    if (parse_numeric(buf, ip) == 0) {
        *bits = ip->family == CMDMON_FAMILY_INET4 ? 32 : 128;
    } else {
        /* IPv4 shorthand: 1 to 3 dotted numbers, the prefix covering what is given. */
        unsigned p[4] = {0, 0, 0, 0};
        int n = 0;
        char *s = buf;
        while (n < 4) {
            char *end;
            unsigned long v = strtoul(s, &end, 10);
            if (end == s || v > 255)
                return -1;
            p[n++] = (unsigned)v;
            if (*end == '\0')
                break;
            if (*end != '.')
                return -1;
            s = end + 1;
        }
        if (n < 1 || n > 3)
            return -1;
        ip->family = CMDMON_FAMILY_INET4;
        for (int i = 0; i < 4; i++)
            ip->addr[i] = (uint8_t)p[i];
        *bits = 8 * n;
    }
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || b < 0 || b > (ip->family == CMDMON_FAMILY_INET4 ? 32 : 128))
            return -1;
        *bits = (int32_t)b;
    }
    return 0;
}

int names_parse_mask_addr(const char *text, int family, struct cmdmon_ip *mask,
                          struct cmdmon_ip *addr)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    char *slash = strchr(buf, '/');
    if (!slash) {
        if (names_parse(buf, family, addr) != 0)
            return -1;
        prefix_mask(addr->family, 128, mask);
        return 0;
    }
    *slash = '\0';
    const char *right = slash + 1;
    if (names_is_numeric(right)) { /* MASK/ADDR */
        if (parse_numeric(buf, mask) != 0 || parse_numeric(right, addr) != 0 ||
            mask->family != addr->family)
            return -1;
        return 0;
    }
    char *end;
    long bits = strtol(right, &end, 10);
    if (end == right || *end || bits < 0 || names_parse(buf, family, addr) != 0 ||
        bits > (addr->family == CMDMON_FAMILY_INET4 ? 32 : 128))
        return -1;
    prefix_mask(addr->family, (int)bits, mask);
    return 0;
}
