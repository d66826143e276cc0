/* Access rules and their compiled interval table: see access.h. */
#include "core/access.h"

#include <stdlib.h>
#include <string.h>

int access_walk(const struct access_rule *rules, size_t n, const struct addr *addr)
{
    const struct access_rule *best = NULL;
    int best_len = -1;
    for (size_t i = 0; i < n; i++) {
        const struct access_rule *r = &rules[i];
        int len;
        if (r->subnet.addr.family == ADDR_UNSPEC) {
            len = 0;
        } else {
            if (!addr_in_subnet(addr, &r->subnet))
                continue;
            len = r->subnet.prefix_len;
        }
        if (r->all || len >= best_len) {
            best = r;
            best_len = len;
        }
    }
    return best ? best->allow : 0;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int clamp_bits(int bits, int max)
{
    return bits < 0 ? 0 : bits > max ? max : bits;
}

/* A 128-bit value as two halves; IPv4 uses lo only. */
struct u128 {
    uint64_t hi, lo;
};

static int u128_cmp(const void *a, const void *b)
{
    const struct u128 *x = a, *y = b;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return 0;
}

/* The first address of rule r's subnet in *start and one past its last in *end (*end_valid 0
 * when the subnet reaches the top of the address space). */
static void subnet_range(const struct addr_subnet *s, struct u128 *start, struct u128 *end,
                         int *end_valid)
{
    if (s->addr.family == ADDR_INET4) {
        int bits = clamp_bits(s->prefix_len, 32);
        uint32_t mask = bits == 0 ? 0 : ~0u << (32 - bits);
        uint32_t a = get32(s->addr.bytes) & mask;
        uint32_t last = a | ~mask;
        *start = (struct u128){0, a};
        *end = (struct u128){0, (uint64_t)last + 1};
        *end_valid = last != 0xFFFFFFFFu;
        return;
    }
    int bits = clamp_bits(s->prefix_len, 128);
    uint64_t mhi = bits == 0 ? 0 : bits >= 64 ? ~0ull : ~0ull << (64 - bits);
    uint64_t mlo = bits <= 64 ? 0 : bits == 128 ? ~0ull : ~0ull << (128 - bits);
    uint64_t hi = get64(s->addr.bytes) & mhi, lo = get64(s->addr.bytes + 8) & mlo;
    uint64_t lhi = hi | ~mhi, llo = lo | ~mlo;
    *start = (struct u128){hi, lo};
    *end_valid = !(lhi == ~0ull && llo == ~0ull);
    *end = (struct u128){llo == ~0ull ? lhi + 1 : lhi, llo + 1};
}

static struct addr addr_of(enum addr_family fam, struct u128 v)
{
    struct addr a;
    memset(&a, 0, sizeof a);
    a.family = fam;
    if (fam == ADDR_INET4) {
        put32(a.bytes, (uint32_t)v.lo);
    } else {
        put32(a.bytes, (uint32_t)(v.hi >> 32));
        put32(a.bytes + 4, (uint32_t)v.hi);
        put32(a.bytes + 8, (uint32_t)(v.lo >> 32));
        put32(a.bytes + 12, (uint32_t)v.lo);
    }
    return a;
}

/* Interval starts of one family (sorted, unique) with the walk's verdict at each; equal
 * neighbours merged. Returns the count (>= 1). */
static uint32_t compile_family(const struct access_rule *rules, size_t n, enum addr_family fam,
                               struct u128 *pts, uint8_t *allow)
{
    size_t np = 0;
    pts[np++] = (struct u128){0, 0};
    for (size_t i = 0; i < n; i++) {
        struct u128 s, e;
        int ev;
        if (rules[i].subnet.addr.family != fam)
            continue;
        subnet_range(&rules[i].subnet, &s, &e, &ev);
        pts[np++] = s;
        if (ev)
            pts[np++] = e;
    }
    qsort(pts, np, sizeof pts[0], u128_cmp);
    uint32_t out = 0;
    for (size_t i = 0; i < np; i++) {
        if (i > 0 && u128_cmp(&pts[i], &pts[i - 1]) == 0)
            continue;
        struct addr a = addr_of(fam, pts[i]);
        uint8_t v = (uint8_t)(access_walk(rules, n, &a) ? 1 : 0);
        if (out > 0 && allow[out - 1] == v)
            continue;
        pts[out] = pts[i];
        allow[out++] = v;
    }
    return out;
}

struct access_table *access_compile(const struct access_rule *rules, size_t n)
{
    struct access_table *t = calloc(1, sizeof *t);
    struct u128 *pts = malloc(ACCESS_MAX_BOUNDS * sizeof *pts);
    if (!t || !pts) {
        free(t);
        free(pts);
        return NULL;
    }
    if (n > ACCESS_MAX_RULES)
        n = ACCESS_MAX_RULES;
    t->n4 = compile_family(rules, n, ADDR_INET4, pts, t->allow4);
    for (uint32_t i = 0; i < t->n4; i++)
        t->start4[i] = (uint32_t)pts[i].lo;
    for (uint32_t i = 0; i < ACCESS_SMALL; i++)
        t->small4[i] = i < t->n4 ? t->start4[i] : 1ull << 32;
    t->n6 = compile_family(rules, n, ADDR_INET6, pts, t->allow6);
    for (uint32_t i = 0; i < t->n6; i++) {
        t->start6[i][0] = pts[i].hi;
        t->start6[i][1] = pts[i].lo;
    }
    struct addr none;
    memset(&none, 0, sizeof none);
    t->other = access_walk(rules, n, &none) ? 1 : 0;
    free(pts);
    return t;
}

void access_free(struct access_table *t)
{
    free(t);
}

int access_check(const struct access_table *t, const struct addr *addr)
{
    if (addr->family == ADDR_INET4)
        return access_check4(t, get32(addr->bytes));
    if (addr->family != ADDR_INET6)
        return t->other;
    uint64_t hi = get64(addr->bytes), lo = get64(addr->bytes + 8);
    uint32_t base = 0, n = t->n6;
    while (n > 1) {
        uint32_t half = n / 2;
        const uint64_t *s = t->start6[base + half];
        if (s[0] < hi || (s[0] == hi && s[1] <= lo))
            base += half;
        n -= half;
    }
    return t->allow6[base];
}
