/* Access rules (`allow`/`deny`, `cmdallow`/`cmddeny`) and their compiled form for the packet
 * path.
 *
 * The rules are chrony's: the most specific subnet that contains the address decides; of two
 * equally specific ones the later wins; an `all` rule (`allow all X`, `deny all X`) overrides
 * every earlier rule inside X, more specific or not; a rule without an address (`allow`,
 * `deny` alone) covers every address of both families; nothing matching = denied.
 * access_walk() states them directly, one rule after the other.
 *
 * access_compile() turns a rule list into a sorted table of address intervals: the rules'
 * subnets cut each family's address space into intervals on which the same rules match, so the
 * walk's answer is constant on each; the table holds the first address of each interval (equal
 * neighbours merged) and its verdict, found by a branch-free binary search (one allow subnet:
 * 3 intervals, 2 steps). Compiled once per rule change, never on the packet path; equivalence
 * with the walk is tested on random rules and addresses.
 *
 * Pure: no allocation but access_compile()'s one.
 */
#ifndef TEMPUS_CORE_ACCESS_H
#define TEMPUS_CORE_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"

/* One rule. subnet.addr.family ADDR_UNSPEC = every address (prefix_len ignored); a
 * prefix_len outside 0..32 (IPv4) or 0..128 (IPv6) is clamped for matching, but its raw value
 * is the rule's specificity, as in chronyd's rule list. */
struct access_rule {
    int allow;
    int all; /* overrides earlier rules inside its subnet */
    struct addr_subnet subnet;
};

#define ACCESS_MAX_RULES 256
/* Interval starts per family: two per rule and the start of the address space. */
#define ACCESS_MAX_BOUNDS (2 * ACCESS_MAX_RULES + 1)

/* The compiled rules: per family, n interval starts in ascending order (the first is the
 * family's lowest address) and each interval's verdict (1 allowed, 0 denied). */
#define ACCESS_SMALL 4 /* IPv4 tables up to this many intervals: compared in one go */

struct access_table {
    uint32_t n4, n6;
    int other; /* verdict for an address of no family */
    /* start4[0 .. n4-1] widened, the rest 2^32 (above every address): up to ACCESS_SMALL
     * intervals, the one an address is in is the count of these it reaches */
    uint64_t small4[ACCESS_SMALL];
    uint32_t start4[ACCESS_MAX_BOUNDS];
    uint64_t start6[ACCESS_MAX_BOUNDS][2]; /* high, low 64 bits */
    uint8_t allow4[ACCESS_MAX_BOUNDS];
    uint8_t allow6[ACCESS_MAX_BOUNDS];
};

/* 1 if the rules allow addr (port ignored), 0 if not: the reference form of the rules. */
int access_walk(const struct access_rule *rules, size_t n, const struct addr *addr);

/* Compiles n (<= ACCESS_MAX_RULES; more are ignored) rules into a new table (the caller owns
 * it: access_free()). NULL on ENOMEM. */
struct access_table *access_compile(const struct access_rule *rules, size_t n);

/* Frees a table from access_compile(); NULL is a no-op. */
void access_free(struct access_table *t);

/* access_walk()'s answer for an IPv4 address in host order, from the table. Inline: it runs
 * once per request. */
static inline int access_check4(const struct access_table *t, uint32_t ip)
{
    if (t->n4 <= ACCESS_SMALL) {
        /* the interval is the number of starts at or below ip (the first is 0) */
        const uint64_t *s = t->small4;
        return t->allow4[(ip >= s[1]) + (ip >= s[2]) + (ip >= s[3])];
    }
    const uint32_t *b = t->start4;
    uint32_t n = t->n4;
    while (n > 1) {
        uint32_t half = n / 2;
        b = b[half] <= ip ? b + half : b;
        n -= half;
    }
    return t->allow4[b - t->start4];
}

/* The same for any address (IPv6 by its two 64-bit halves). */
int access_check(const struct access_table *t, const struct addr *addr);

#endif
