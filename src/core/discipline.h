/* The clock model: steers the local clock through clock_ops by frequency only (a base
 * frequency that cancels the oscillator's error plus a temporary slew that removes an
 * offset over a chosen duration), or by a step. Keeps an exact account of every correction
 * applied, corr_s, so that local = raw + corr_s: callers convert measurements on the local
 * clock into offsets of the raw (uncorrected) clock, which drifts smoothly. */
#ifndef TEMPUS_CORE_DISCIPLINE_H
#define TEMPUS_CORE_DISCIPLINE_H

#include <stdint.h>

#include "core/clock_ops.h"

struct discipline {
    const struct clock_ops *clock; /* borrowed */
    double t_s;                    /* engine time up to which corr_s is integrated */
    double corr_s;                 /* total correction applied: local = raw + corr_s */
    double base_ppm;               /* frequency adjustment cancelling the raw clock's error */
    double slew_ppm;               /* extra adjustment while a slew runs */
    double slew_end_s;             /* engine time the slew ends; <= t_s when none */
    double applied_ppm;            /* what the clock runs with now */
    double max_ppm;                /* largest |adjustment| (clock's max, maxdrift) */
    double maxslew_ppm;            /* largest |slew_ppm| (maxslewrate) */
    int control_failed;            /* a clock operation failed: estimating only */
    uint32_t n_steps;
    double steps_s;  /* sum of the steps' corrections (part of corr_s), seconds */
    int leap;        /* armed leap (enum clock_leap) */
    int mono_is_raw; /* engine time does not follow the adjustment (engine_params) */
};

/* Starts at engine time t_s with the clock's adjustment set to base_ppm (e.g. minus the
 * drift file's frequency). clock is borrowed. */
void discipline_init(struct discipline *d, const struct clock_ops *clock, double t_s,
                     double base_ppm, double max_ppm, double maxslew_ppm);

/* Integrates corrections up to t_s and ends a slew that is due. Call before reading corr_s. */
void discipline_advance(struct discipline *d, double t_s);

/* Correction still to be applied by the running slew, seconds (positive = the clock will
 * be moved forward). */
double discipline_remaining(const struct discipline *d, double t_s);

/* Sets the base frequency adjustment and removes offset_s (local clock ahead by offset_s,
 * as estimated now) by slewing over duration_s, lengthened as needed to keep within
 * maxslew and max_ppm. Replaces any running slew. Returns the duration used. */
double discipline_correct(struct discipline *d, double t_s, double offset_s, double duration_s,
                          double base_ppm);

/* Steps the clock to remove offset_s (local ahead by offset_s) and cancels the slew.
 * 0, or the clock's negative error code. */
int discipline_step(struct discipline *d, double t_s, double offset_s);

/* Arms or clears a leap second (enum clock_leap) if it changed. */
void discipline_set_leap(struct discipline *d, int leap);

/* The base adjustment (ppm) that makes the local clock run at the true rate, given the raw
 * clock's frequency raw_freq (s/s, positive = fast) fitted against engine time while the
 * current base_ppm was in effect. Not just -raw_freq: the kernel scales the oscillator's
 * rate by (1 + adjustment) and engine (mono) time runs at the disciplined rate, so the
 * fitted slope is f / ((1 + f)(1 + base)) for an oscillator error f, which needs
 * -f / (1 + f) = -raw_freq (1 + base). With a mono that ignores the adjustment (a virtual
 * clock), -raw_freq. At -500 ppm the difference is 0.25 ppm. */
double discipline_base_for_freq(const struct discipline *d, double raw_freq);

/* The raw frequency (s/s) that base_ppm cancels once in effect: the inverse of
 * discipline_base_for_freq() at its fixed point, -a / (1 + a) (-a with a raw mono). */
double discipline_freq_for_base(const struct discipline *d, double base_ppm);

/* Combines a frequency estimate f (s/s) of variance v with a prior on the oscillator's
 * frequency: a mixture, weight 1 - p_wide of a normal of sd narrow and p_wide of one of sd
 * wide, both centred on centre (all s/s). Stores the posterior mean in *f_out and its variance
 * in *v_out. An estimate far outside the narrow part (an oscillator hundreds of ppm off) is
 * explained by the wide part and passes almost unchanged; a noisy one near it is pulled in by
 * the ratio of the variances. v <= 0 returns f, v. */
void discipline_freq_prior(double f, double v, double centre, double narrow, double wide,
                           double p_wide, double *f_out, double *v_out);

/* Engine time of the next thing the discipline must do (end of slew), or a huge value. */
double discipline_next_event(const struct discipline *d);

#endif
