/* The filter of a source's `filter N` option: of the good samples of N polls (polls without
 * a reply counted), the one with the smallest peer distance goes on to the register. Meant,
 * as chrony's, for very short polls on a LAN, where many noisy measurements are cheap. */
#ifndef TEMPUS_CORE_SFILTER_H
#define TEMPUS_CORE_SFILTER_H

#include "core/srcstats.h"

struct sfilter {
    int length; /* N polls per output sample; 0 = off */
    int polls;  /* polls counted since the last output (at most length) */
    int n;      /* good samples seen since the last output */
    struct srcstats_sample best;
};

/* Sets up an empty filter of `length` polls (<= 0: off). */
void sfilter_init(struct sfilter *f, int length);

/* Forgets the held sample and the poll count (source reset, clock step). */
void sfilter_clear(struct sfilter *f);

/* Counts a poll (a request sent, or one that could not be sent). */
void sfilter_poll(struct sfilter *f);

/* Takes a good sample. Returns 1 with the chosen sample in *out once `length` polls have
 * been counted since the last output (the filter is then empty again), else 0 (held). With
 * the filter off the sample passes through at once. */
int sfilter_add(struct sfilter *f, const struct srcstats_sample *in, struct srcstats_sample *out);

/* Moves the held sample's offsets by d_s (the source's `offset` option changed). */
void sfilter_shift(struct sfilter *f, double d_s);

#endif
