/* core/access: chrony's allow/deny semantics by the rule walk, and the compiled interval table
 * against the walk on random rule sets (IPv4, IPv6, family-less, nested, `all`, odd prefix
 * lengths) and random addresses, most of them at and next to the rules' boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/prng.h"
#include "core/access.h"

#include "../addr_util.h"

/* Both forms give want for a. */
static void check(const struct access_rule *rules, size_t n, struct addr a, int want)
{
    struct access_table *t = access_compile(rules, n);
    assert_non_null(t);
    assert_int_equal(access_walk(rules, n, &a), want);
    assert_int_equal(access_check(t, &a), want);
    access_free(t);
}

static void test_semantics(void **state)
{
    (void)state;
    struct addr none, h1 = tu_v4(192, 168, 1, 5), h2 = tu_v4(192, 168, 2, 5),
                      h3 = tu_v4(10, 0, 0, 1);
    memset(&none, 0, sizeof none);
    /* nothing configured: denied */
    check(NULL, 0, h1, 0);
    check(NULL, 0, tu_v6(0x2001, 1), 0);
    /* the seed's rule */
    struct access_rule seed[] = {tu_rule(1, 0, tu_v4(192, 168, 111, 0), 24)};
    check(seed, 1, tu_v4(192, 168, 111, 0), 1);
    check(seed, 1, tu_v4(192, 168, 111, 255), 1);
    check(seed, 1, tu_v4(192, 168, 112, 0), 0);
    check(seed, 1, tu_v4(192, 168, 110, 255), 0);
    check(seed, 1, tu_v6(0xc0a8, 1), 0);
    /* the more specific rule wins, whatever the order */
    struct access_rule r1[] = {tu_rule(1, 0, tu_v4(192, 168, 0, 0), 16), tu_rule(0, 0, h1, 24)};
    check(r1, 2, h1, 0);
    check(r1, 2, h2, 1);
    check(r1, 2, h3, 0);
    struct access_rule r2[] = {tu_rule(0, 0, h1, 24), tu_rule(1, 0, tu_v4(192, 168, 0, 0), 16)};
    check(r2, 2, h1, 0);
    check(r2, 2, h2, 1);
    /* equally specific: the later one */
    struct access_rule r3[] = {tu_rule(1, 0, h1, 24), tu_rule(0, 0, tu_v4(192, 168, 1, 0), 24)};
    check(r3, 2, h1, 0);
    /* `all` overrides earlier, more specific rules inside it, not later ones */
    struct access_rule r4[] = {tu_rule(0, 0, h1, 24), tu_rule(1, 1, tu_v4(192, 168, 0, 0), 16),
                               tu_rule(0, 0, tu_v4(192, 168, 2, 0), 24)};
    check(r4, 3, h1, 1);
    check(r4, 3, h2, 0);
    /* a rule without an address covers both families and only them */
    struct access_rule r5[] = {tu_rule(1, 0, none, -1), tu_rule(0, 0, h3, 32)};
    check(r5, 2, h3, 0);
    check(r5, 2, h2, 1);
    check(r5, 2, tu_v6(0x2001, 1), 1);
    check(r5, 2, none, 1);
    /* the whole space, and its top address */
    struct access_rule r6[] = {tu_rule(1, 0, tu_v4(0, 0, 0, 0), 0),
                               tu_rule(0, 0, tu_v4(255, 255, 255, 255), 32)};
    check(r6, 2, tu_v4(255, 255, 255, 254), 1);
    check(r6, 2, tu_v4(255, 255, 255, 255), 0);
    check(r6, 2, tu_v4(0, 0, 0, 0), 1);
    /* IPv6 nesting, and a rule reaching the top of the space */
    struct access_rule r7[] = {tu_rule(1, 0, tu_v6(0x2001, 0), 16),
                               tu_rule(0, 0, tu_v6(0x2001, 0x100), 120),
                               tu_rule(1, 0, tu_v6(0xffff, 0), 1)};
    check(r7, 3, tu_v6(0x2001, 0x1ff), 0);
    check(r7, 3, tu_v6(0x2001, 0x200), 1);
    check(r7, 3, tu_v6(0x2001, 0x0ff), 1);
    check(r7, 3, tu_v6(0x2002, 0), 0);
    check(r7, 3, tu_v6(0xffff, 0xffff), 1);
    check(r7, 3, h1, 0);
    /* prefix lengths beyond the family's bits match like the full length, but are more
     * specific than it */
    struct access_rule r8[] = {tu_rule(0, 0, h1, 40), tu_rule(1, 0, h1, 24)};
    check(r8, 2, h1, 0);
    check(r8, 2, tu_v4(192, 168, 1, 6), 1);
}

/* A random subnet near one of a few bases, so that rules nest and overlap. */
static struct access_rule random_rule(struct prng *p)
{
    static const uint8_t bases4[][4] = {{192, 168, 1, 0}, {10, 0, 0, 0}, {255, 255, 255, 255}};
    struct access_rule r;
    memset(&r, 0, sizeof r);
    r.allow = (int)prng_below(p, 2);
    r.all = prng_below(p, 6) == 0;
    uint64_t kind = prng_below(p, 10);
    if (kind == 0) {
        r.subnet.prefix_len = -1; /* no address */
    } else if (kind < 6) {
        r.subnet.addr.family = ADDR_INET4;
        memcpy(r.subnet.addr.bytes, bases4[prng_below(p, 3)], 4);
        r.subnet.addr.bytes[2] ^= (uint8_t)prng_below(p, 4);
        r.subnet.addr.bytes[3] ^= (uint8_t)prng_below(p, 256);
        r.subnet.prefix_len = (int)prng_below(p, 38) - 2; /* -2 .. 35 */
    } else {
        r.subnet.addr.family = ADDR_INET6;
        r.subnet.addr.bytes[0] = prng_below(p, 2) ? 0x20 : 0xff;
        r.subnet.addr.bytes[1] = (uint8_t)prng_below(p, 2);
        r.subnet.addr.bytes[7] = (uint8_t)prng_below(p, 4);
        r.subnet.addr.bytes[8] = (uint8_t)prng_below(p, 4);
        r.subnet.addr.bytes[15] = (uint8_t)prng_below(p, 256);
        if (r.subnet.addr.bytes[0] == 0xff)
            memset(r.subnet.addr.bytes + 9, 0xff, 6);
        r.subnet.prefix_len = (int)prng_below(p, 134) - 2; /* -2 .. 131 */
    }
    return r;
}

/* An address next to rule r's subnet: its first or last address, or one beside them. */
static struct addr near_rule(struct prng *p, const struct access_rule *r)
{
    struct addr a = r->subnet.addr;
    int bits = a.family == ADDR_INET4 ? 32 : 128;
    int len = r->subnet.prefix_len < 0      ? 0
              : r->subnet.prefix_len > bits ? bits
                                            : r->subnet.prefix_len;
    int last = (int)prng_below(p, 2);
    for (int b = len; b < bits; b++) { /* fill the host part with the first/last address */
        uint8_t m = (uint8_t)(0x80u >> (b % 8));
        if (last)
            a.bytes[b / 8] |= m;
        else
            a.bytes[b / 8] &= (uint8_t)~m;
    }
    int step = (int)prng_below(p, 3) - 1; /* -1, 0, +1 */
    int nbytes = bits / 8;
    for (int i = nbytes - 1; i >= 0 && step != 0; i--) {
        int v = a.bytes[i] + step;
        a.bytes[i] = (uint8_t)v;
        if (v >= 0 && v <= 255)
            break;
    }
    return a;
}

static void test_compiled_matches_walk(void **state)
{
    (void)state;
    struct prng p;
    prng_seed(&p, 20261126);
    static struct access_rule rules[ACCESS_MAX_RULES];
    long checks = 0, allowed = 0;
    for (int round = 0; round < 400; round++) {
        size_t n = round < 300 ? 1 + prng_below(&p, 12) : prng_below(&p, ACCESS_MAX_RULES + 1);
        for (size_t i = 0; i < n; i++)
            rules[i] = random_rule(&p);
        struct access_table *t = access_compile(rules, n);
        assert_non_null(t);
        assert_true(t->n4 >= 1 && t->n4 <= ACCESS_MAX_BOUNDS);
        assert_true(t->n6 >= 1 && t->n6 <= ACCESS_MAX_BOUNDS);
        for (int k = 0; k < 300; k++) {
            struct addr a;
            uint64_t how = prng_below(&p, 4);
            if (n > 0 && how < 3) {
                const struct access_rule *r = &rules[prng_below(&p, n)];
                if (r->subnet.addr.family == ADDR_UNSPEC)
                    continue;
                a = near_rule(&p, r);
            } else {
                memset(&a, 0, sizeof a);
                a.family = prng_below(&p, 2) ? ADDR_INET4 : ADDR_INET6;
                prng_fill(&p, a.bytes, a.family == ADDR_INET4 ? 4 : 16);
            }
            int want = access_walk(rules, n, &a);
            assert_int_equal(access_check(t, &a), want);
            if (a.family == ADDR_INET4) {
                uint32_t ip = (uint32_t)a.bytes[0] << 24 | (uint32_t)a.bytes[1] << 16 |
                              (uint32_t)a.bytes[2] << 8 | a.bytes[3];
                assert_int_equal(access_check4(t, ip), want);
            }
            checks++;
            allowed += want;
        }
        struct addr none;
        memset(&none, 0, sizeof none);
        assert_int_equal(access_check(t, &none), access_walk(rules, n, &none));
        access_free(t);
    }
    /* the random rules must exercise both answers */
    assert_true(allowed > checks / 10 && allowed < checks * 9 / 10);
    access_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semantics),
        cmocka_unit_test(test_compiled_matches_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
