/* One direction of a simulated network path: a fixed base delay plus a random jitter drawn
 * from a distribution, independent loss, and outages (the link drops everything while down).
 * Each link has its own generator, split from the run's seed, so changing one link's traffic
 * does not change another's delays. */
#ifndef TEMPUS_SIM_LINK_H
#define TEMPUS_SIM_LINK_H

#include <stdint.h>

#include "base/prng.h"

enum simlink_dist {
    SIMLINK_DIST_NONE = 0,    /* no jitter */
    SIMLINK_DIST_EXP = 1,     /* exponential with mean = jitter (queueing-like, one tail) */
    SIMLINK_DIST_UNIFORM = 2, /* uniform in [0, 2 * jitter): mean = jitter */
    SIMLINK_DIST_NORMAL = 3,  /* |normal| with sd = jitter (half-normal) */
};

struct simlink_params {
    double delay_s; /* base (minimum) one-way delay */
    enum simlink_dist dist;
    double jitter_s; /* the distribution's parameter, see enum simlink_dist */
    double loss;     /* probability a packet is lost, 0..1 */
};

struct simlink {
    struct simlink_params p;
    struct prng rng;
    int down;      /* outage: everything is lost */
    uint64_t sent; /* packets offered */
    uint64_t lost; /* packets dropped (loss or outage) */
};

/* Parses "none", "exp", "uniform", "normal"; -1 when unknown. */
int simlink_dist_parse(const char *name);
const char *simlink_dist_name(enum simlink_dist d);

void simlink_init(struct simlink *l, const struct simlink_params *p, struct prng *parent);

/* The delay of the next packet in ns (>= 0), or -1 if it is lost. Always draws the same
 * number of random values per packet, so loss does not shift later delays. */
int64_t simlink_transit_ns(struct simlink *l);

#endif
