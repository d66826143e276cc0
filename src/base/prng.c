/* xoshiro256** 1.0 (Blackman & Vigna, public domain algorithm) seeded by splitmix64.
 * Written from the published description; see prng.h. */
#include "base/prng.h"

#include <math.h>
#include <stdint.h>

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void prng_seed(struct prng *p, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        p->s[i] = splitmix64(&x);
    /* splitmix64 is a bijection of distinct counters, so the state is never all zero. */
}

uint64_t prng_next_u64(struct prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t prng_next_u32(struct prng *p)
{
    return (uint32_t)(prng_next_u64(p) >> 32);
}

uint64_t prng_below(struct prng *p, uint64_t n)
{
    uint64_t threshold, r;
    if (n == 0)
        return 0;
    /* Reject the low (2^64 mod n) values so every residue is equally likely. */
    threshold = (0 - n) % n;
    do {
        r = prng_next_u64(p);
    } while (r < threshold);
    return r % n;
}

double prng_uniform(struct prng *p)
{
    return (double)(prng_next_u64(p) >> 11) * 0x1.0p-53;
}

double prng_uniform_range(struct prng *p, double lo, double hi)
{
    return lo + (hi - lo) * prng_uniform(p);
}

double prng_normal(struct prng *p)
{
    /* Box-Muller with u1 in (0, 1] so log() is finite. */
    double u1 = 1.0 - prng_uniform(p);
    double u2 = prng_uniform(p);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

double prng_gaussian(struct prng *p, double mean, double sd)
{
    return mean + sd * prng_normal(p);
}

double prng_exponential(struct prng *p, double mean)
{
    if (!(mean > 0.0))
        return 0.0;
    return -mean * log(1.0 - prng_uniform(p));
}

void prng_fill(struct prng *p, void *buf, size_t len)
{
    /* Little-endian byte order of each output, so the bytes do not depend on the host. */
    uint8_t *b = buf;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = prng_next_u64(p);
        for (size_t j = 0; j < 8 && i + j < len; j++)
            b[i + j] = (uint8_t)(v >> (8 * j));
    }
}

void prng_split(struct prng *p, struct prng *child)
{
    prng_seed(child, prng_next_u64(p));
}
