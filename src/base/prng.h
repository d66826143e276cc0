/* A seeded, deterministic pseudo-random generator: xoshiro256** seeded by splitmix64.
 *
 * The engine uses it for transmit-timestamp cookies and poll jitter, the server for the
 * low bits of timestamps and rate-limit leaks, the simulator for link delays and clock
 * wander. Same seed -> same sequence on every platform (integer core; the floating-point
 * helpers use only IEEE double arithmetic and <math.h> log/sqrt/cos).
 *
 * NOT cryptographic: the daemon seeds it from getrandom() at start, which makes the cookies
 * unpredictable enough for the origin check (an off-path attacker must guess 64 bits of a
 * sequence it never sees), but do not use it for keys.
 *
 * The state lives in the caller's struct: no static state.
 */
#ifndef TEMPUS_BASE_PRNG_H
#define TEMPUS_BASE_PRNG_H

#include <stddef.h>
#include <stdint.h>

struct prng {
    uint64_t s[4];
};

/* Seeds from one 64-bit value (any value, including 0, gives a valid state). */
void prng_seed(struct prng *p, uint64_t seed);

/* Next 64 random bits. */
uint64_t prng_next_u64(struct prng *p);

/* Next 32 random bits (the high half of the next u64). */
uint32_t prng_next_u32(struct prng *p);

/* Uniform integer in [0, n) without modulo bias; n == 0 returns 0. */
uint64_t prng_below(struct prng *p, uint64_t n);

/* Uniform double in [0, 1) with 53 random bits. */
double prng_uniform(struct prng *p);

/* Uniform double in [lo, hi). */
double prng_uniform_range(struct prng *p, double lo, double hi);

/* Standard normal deviate (mean 0, standard deviation 1), Box-Muller. */
double prng_normal(struct prng *p);

/* Normal deviate with the given mean and standard deviation. */
double prng_gaussian(struct prng *p, double mean, double sd);

/* Exponential deviate with the given mean (mean <= 0 returns 0). */
double prng_exponential(struct prng *p, double mean);

/* Fills len bytes of buf with random bytes. */
void prng_fill(struct prng *p, void *buf, size_t len);

/* Derives an independent generator (e.g. one per simulated link) from p's stream: child is
 * seeded with the next output of p. Deterministic. */
void prng_split(struct prng *p, struct prng *child);

#endif
