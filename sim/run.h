/* One simulation run: builds the world a scenario describes (the client engine under test on
 * a simulated clock, reference and engine servers, links, scripted events), runs it to the
 * end and measures the client's true time error. Deterministic for (scenario, seed). */
#ifndef TEMPUS_SIM_RUN_H
#define TEMPUS_SIM_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "sim/scenario.h"

/* Statistics are sampled every SIMRUN_STAT_STEP_NS of true time. */
#define SIMRUN_STAT_STEP_NS 100000000LL
/* "Within 1 ms". */
#define SIMRUN_SETTLE_S 1e-3

struct simrun_result {
    double t_settle_s;         /* from then until the end of warm-up, |error| <= 1 ms; -1 never */
    double rms_s;              /* RMS |time error| after warm-up */
    double max_s;              /* max |time error| after warm-up */
    double rms_freq_ppm;       /* RMS frequency error after warm-up */
    int steps;                 /* clock steps made by the engine (and scripted ones excluded) */
    int late_steps;            /* of which after warm-up */
    uint64_t packets;          /* requests the client sent */
    double liar_sel_s;         /* time the selected source's clock was > 1 ms off true time */
    double unsync_s;           /* time after warm-up with no selected source */
    double final_err_s;        /* time error at the end */
    uint64_t events;           /* events processed (performance) */
    int64_t timer_late_max_ns; /* worst lateness of an engine timer, in its mono time */
    uint64_t spins;            /* engine asked for a time already passed (SPIN_GUARD) */
};

/* Runs scenario s with seed. When csv is non-NULL, writes a header and a row every
 * s->sample_ns: t_s, offset_s (local - true), freq_err_ppm, poll_log2, selected (server
 * number, 0 = none), steps, packets. 0, or -ENOMEM. */
int simrun_run(const struct simscn *s, uint64_t seed, FILE *csv, struct simrun_result *out);

/* The same, also writing "# T s: ..." lines to log (when non-NULL) as the client's state
 * changes: selected source, steps, leap seconds applied, scripted events. */
int simrun_run_log(const struct simscn *s, uint64_t seed, FILE *csv, FILE *log,
                   struct simrun_result *out);

/* Writes the summary line ("summary seed=1 t1ms_s=... rms_us=...") for r. label is "seed=N"
 * or "median seeds=N". */
void simrun_print_summary(FILE *out, const char *label, const struct simrun_result *r);

/* Field-by-field median of n results into *med (n >= 1; r is reordered). */
void simrun_median(struct simrun_result *r, int n, struct simrun_result *med);

#endif
