/* smoothing: the daemon's side of `smoothtime` (docs/design/smoothing.md). It wraps the
 * engine's clock operations so that every correction of the clock reaches the core smoother
 * (core/smooth), and derives the time and reference served to NTP clients from the clock plus
 * the smoothing offset. */
#ifndef TEMPUS_DAEMON_SMOOTHING_H
#define TEMPUS_DAEMON_SMOOTHING_H

#include <stdint.h>

#include "core/clock_ops.h"
#include "core/server.h"
#include "core/smooth.h"

struct clockguard;
struct cmdmon_rep_smoothing;
struct executor;

struct smoothing {
    int on; /* smoothing_init() was called (0 in a zeroed struct: no smoothtime) */
    struct smooth smooth;
    struct clock_ops inner_ops;     /* the clock the engine's operations go to */
    const struct clockguard *guard; /* kernel timestamps to the clock in use; borrowed */
    struct executor *ex;            /* told when the served reference changes; may be NULL */
    double base_ppm;                /* the engine's base frequency adjustment as last corrected */
    int base_known;
    double remaining_s;    /* the running slew's correction at slew_start_ns */
    int64_t slew_start_ns; /* system time (CLOCK_REALTIME) */
    int64_t slew_ns;       /* its duration; 0: no slew */
};

/* Starts smoothing with chronyd's `smoothtime MAXFREQ MAXWANDER [leaponly]` and wraps *ops:
 * afterwards *ops forwards to the operations it held and tells the smoother what they do.
 * s must stay in place while *ops is in use; guard is borrowed. */
void smoothing_init(struct smoothing *s, double max_freq_ppm, double max_wander_ppm_per_s,
                    int leap_only, struct clock_ops *ops, const struct clockguard *guard);

/* The executor to tell when the served reference changes (activate, reset). */
void smoothing_set_executor(struct smoothing *s, struct executor *ex);

/* After a clock update with the clock's skew: chronyd's start rule (skew / 10000 below
 * MAXWANDER) activates smoothing. */
void smoothing_updated(struct smoothing *s, double skew_ppm);

/* The served time for kernel timestamp system_ns: the clock's, plus the smoothing offset and
 * the running slew's remainder while smoothing is active. */
int64_t smoothing_serve_map(const struct smoothing *s, int64_t system_ns);

/* The served reference while smoothing: refid 127.127.1.255 while the offset counts, the
 * reference time shifted as the served time is. */
void smoothing_serve_ref(const struct smoothing *s, struct server_ref *ref);

/* The control protocol's SMOOTHING (option -1: report into *out) and SMOOTHTIME (0 reset,
 * 1 activate); ctx is the struct smoothing. Returns a CMDMON_STT_ status. */
int smoothing_cmd(void *ctx, int option, struct cmdmon_rep_smoothing *out);

#endif
