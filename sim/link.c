/* Simulated one-way links (see link.h). */
#include "sim/link.h"

#include <math.h>
#include <string.h>

static const char *const dist_names[] = {"none", "exp", "uniform", "normal"};

int simlink_dist_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof(dist_names) / sizeof(dist_names[0])); i++)
        if (!strcmp(name, dist_names[i]))
            return i;
    return -1;
}

const char *simlink_dist_name(enum simlink_dist d)
{
    if ((int)d < 0 || (size_t)d >= sizeof(dist_names) / sizeof(dist_names[0]))
        return "?";
    return dist_names[d];
}

void simlink_init(struct simlink *l, const struct simlink_params *p, struct prng *parent)
{
    memset(l, 0, sizeof(*l));
    l->p = *p;
    prng_split(parent, &l->rng);
}

int64_t simlink_transit_ns(struct simlink *l)
{
    double u_loss = prng_uniform(&l->rng);
    double j = 0;
    switch (l->p.dist) {
    case SIMLINK_DIST_EXP:
        j = prng_exponential(&l->rng, l->p.jitter_s);
        break;
    case SIMLINK_DIST_UNIFORM:
        j = prng_uniform_range(&l->rng, 0, 2 * l->p.jitter_s);
        break;
    case SIMLINK_DIST_NORMAL:
        j = fabs(prng_gaussian(&l->rng, 0, l->p.jitter_s));
        break;
    case SIMLINK_DIST_NONE:
        break;
    }
    l->sent++;
    if (l->down || u_loss < l->p.loss) {
        l->lost++;
        return -1;
    }
    double d = l->p.delay_s + j;
    if (d < 0)
        d = 0;
    return (int64_t)llround(d * 1e9);
}
