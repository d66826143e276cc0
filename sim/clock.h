/* A simulated computer clock: an oscillator with a frequency error that drifts (constant
 * offset + random walk + a temperature-like sine), disciplined through struct clock_ops the
 * way the Linux kernel would be (frequency adjustment effective from the current instant,
 * quantised to the kernel's 2^-16 ppm and clamped to max_freq_ppm; steps; leap seconds
 * inserted or deleted when the local clock reaches the end of its UTC day).
 *
 * Time bases (all ns):
 *   true elapsed t      the world's time (simworld_now_ns), 0 at the start of the run;
 *   true real           epoch + t - leap seconds that have happened (POSIX UTC);
 *   local real          what read_real_ns returns: epoch + t + x(t) - local leaps, where x is
 *                       the integral of the clock's frequency error plus steps;
 *   local mono          the engine's monotonic clock: epoch-independent, runs at the same
 *                       rate as local real (like Linux CLOCK_MONOTONIC), never steps.
 * The clock never sees true time except through the world: it is told "now" by a pointer to
 * the caller's current true time, so the clock_ops table reads and adjusts at that instant.
 *
 * Calls must come in non-decreasing true time (the simulation only moves forward).
 */
#ifndef TEMPUS_SIM_CLOCK_H
#define TEMPUS_SIM_CLOCK_H

#include <stdint.h>

#include "base/prng.h"
#include "core/clock_ops.h"

/* Linux: 500 ppm via the frequency word plus up to 10 % via the tick length; chrony's
 * Linux driver uses +-100000 ppm (its maxslewrate default stays below, at 83333 ppm). */
#define SIMCLOCK_MAX_FREQ_PPM 100000.0
/* Linux adjtimex frequency resolution: units of 2^-16 ppm. */
#define SIMCLOCK_FREQ_RESOLUTION_PPM (1.0 / 65536.0)
/* Random-walk wander is applied as a step of the frequency at this true-time period. */
#define SIMCLOCK_WANDER_STEP_NS 1000000000LL

struct simclock_params {
    double offset_s;              /* local - true at the start */
    double freq_ppm;              /* constant frequency error of the oscillator (+ = fast) */
    double wander_ppm_per_sqrt_s; /* random walk: sd of the frequency change after 1 s */
    double temp_ppm;              /* amplitude of the sine swing of the frequency error */
    double temp_period_s;         /* its period (0 = no swing) */
    double temp_phase_rad;        /* its phase at t = 0 */
    double max_freq_ppm;          /* |adjustment| limit; 0 = SIMCLOCK_MAX_FREQ_PPM */
    double resolution_ppm; /* adjustment quantum; 0 = SIMCLOCK_FREQ_RESOLUTION_PPM, <0 = none */
    int mono_raw;          /* 1: mono runs at the oscillator's rate, ignoring the adjustment (like
                            * CLOCK_MONOTONIC_RAW, or tempusd -x's virtual clock); 0: like
                            * CLOCK_MONOTONIC, at the adjusted rate */
};

void simclock_params_default(struct simclock_params *p);

struct simclock {
    struct simclock_params p;
    const int64_t *now_ns; /* the world's current true time (borrowed) */
    int64_t epoch_real_ns; /* true real time at t = 0 */
    int64_t mono_origin_ns;
    struct prng rng;

    /* State at true time t_ns. */
    int64_t t_ns;
    double x_s;        /* integrated frequency error + steps, s */
    double y_s;        /* integrated frequency error only (mono), s */
    double wander_ppm; /* current random-walk frequency component */
    int64_t next_wander_ns;
    double adj_ppm; /* the adjustment set through clock_ops (quantised, clamped) */

    int64_t local_leaps_s;    /* leap seconds applied to local real (+1 per insertion) */
    enum clock_leap armed;    /* leap armed through set_leap */
    int64_t leap_boundary_ns; /* local real end of the day the leap was armed in */
    int64_t true_leap_ns;     /* true elapsed time of the world's leap, INT64_MAX if none */
    int true_leap_dir;        /* +1 insert, -1 delete */

    /* Counters and last-set values, for reports and tests. */
    int steps;
    double steps_abs_s; /* sum of |step| */
    int freq_sets;
    int leaps_applied;
    int synced;
    double est_error_s, max_error_s;
};

/* Initialises c. now_ns (borrowed) is the world's clock; epoch_real_ns the true real time at
 * t = 0; seed drives the wander. */
void simclock_init(struct simclock *c, const struct simclock_params *p, const int64_t *now_ns,
                   int64_t epoch_real_ns, uint64_t seed);

/* Schedules the world's leap second: dir +1 inserts, -1 deletes, at the end of the UTC day
 * containing true real time at t = 0 (true real time then repeats / skips a second).
 * Servers and truth use this; the local clock leaps only if armed through clock_ops. */
void simclock_set_true_leap(struct simclock *c, int dir);

/* The operations table; ctx is c. */
struct clock_ops simclock_ops(struct simclock *c);

/* Local real time at the current world time (= read_real_ns). */
int64_t simclock_real_ns(struct simclock *c);
/* Local monotonic time at the current world time. */
int64_t simclock_mono_ns(struct simclock *c);
/* True real (POSIX UTC) time at true elapsed t_ns, with the world's leap second. */
int64_t simclock_true_real_ns(const struct simclock *c, int64_t t_ns);
/* local real - true real at the current world time, s: the clock's true time error. */
double simclock_error_s(struct simclock *c);
/* The clock's rate error now, ppm: oscillator error + adjustment (+ = gaining). */
double simclock_freq_error_ppm(struct simclock *c);
/* The oscillator's own frequency error now (without the adjustment), ppm. */
double simclock_osc_freq_ppm(struct simclock *c);
/* An estimate of the true elapsed time at which local mono reaches mono_ns, never earlier
 * than now. Exact if the frequency stays as it is now; callers re-check and retry. */
int64_t simclock_true_at_mono(struct simclock *c, int64_t mono_ns);

#endif
