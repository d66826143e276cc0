/* Addresses and access rules for unit tests (header-only): test_access.c, test_executor.c,
 * test_driftfile_statlog.c and test_ntpserve.c build them the same way. */
#ifndef TEMPUS_TESTS_UNIT_ADDR_UTIL_H
#define TEMPUS_TESTS_UNIT_ADDR_UTIL_H

#include <stdint.h>
#include <string.h>

#include "base/addr.h"
#include "core/access.h"

/* a.b.c.d, port 0. */
static inline struct addr tu_v4(int a, int b, int c, int d)
{
    struct addr x;
    memset(&x, 0, sizeof x);
    x.family = ADDR_INET4;
    x.bytes[0] = (uint8_t)a;
    x.bytes[1] = (uint8_t)b;
    x.bytes[2] = (uint8_t)c;
    x.bytes[3] = (uint8_t)d;
    return x;
}

/* w0::w7 (the first and last 16-bit groups, the rest zero), port 0. */
static inline struct addr tu_v6(uint16_t w0, uint16_t w7)
{
    struct addr x;
    memset(&x, 0, sizeof x);
    x.family = ADDR_INET6;
    x.bytes[0] = (uint8_t)(w0 >> 8);
    x.bytes[1] = (uint8_t)w0;
    x.bytes[14] = (uint8_t)(w7 >> 8);
    x.bytes[15] = (uint8_t)w7;
    return x;
}

/* allow/deny [all] net/len; len < 0: a rule without an address (every address of both
 * families). */
static inline struct access_rule tu_rule(int allow, int all, struct addr net, int len)
{
    struct access_rule r;
    memset(&r, 0, sizeof r);
    r.allow = allow;
    r.all = all;
    if (len >= 0) {
        r.subnet.addr = net;
        r.subnet.prefix_len = len;
    } else {
        r.subnet.prefix_len = -1;
    }
    return r;
}

#endif
