/* The clock the engine steers, injected as a table of operations.
 *
 * os/ implements it with clock_adjtime() (the real clock) or as a null clock for -x;
 * the simulator implements it on a simulated clock; tests use fakes. The engine never
 * touches a clock any other way, which is what keeps core/ pure and deterministic.
 *
 * Conventions: offsets in seconds as double (positive = the local clock is ahead), frequency
 * in ppm as double (positive = the local clock runs fast, i.e. is corrected by a negative
 * adjustment), times as int64 nanoseconds since the Unix epoch (good to year 2262).
 * Every operation returns 0 or a negative errno-style code; the engine treats a failure of
 * a control operation as "the clock cannot be controlled" and keeps estimating.
 */
#ifndef TEMPUS_CORE_CLOCK_OPS_H
#define TEMPUS_CORE_CLOCK_OPS_H

#include <stdint.h>

enum clock_leap {
    CLOCK_LEAP_NONE = 0,
    CLOCK_LEAP_INSERT = 1, /* 23:59:60 at the end of this UTC day */
    CLOCK_LEAP_DELETE = 2, /* 23:59:59 skipped at the end of this UTC day */
};

struct clock_ops {
    void *ctx;
    /* Current local real time (the disciplined clock), ns since the Unix epoch. */
    int64_t (*read_real_ns)(void *ctx);
    /* Sets the frequency adjustment in ppm applied on top of the clock's nominal rate:
     * +1.0 makes the clock gain one microsecond per second. Absolute, not incremental. */
    int (*set_freq_ppm)(void *ctx, double freq_ppm);
    /* Steps the clock: local time becomes local time + offset_s. */
    int (*step_s)(void *ctx, double offset_s);
    /* Arms (or clears) a leap second at the end of the current UTC day. */
    int (*set_leap)(void *ctx, enum clock_leap leap);
    /* Tells the kernel (and so other programs) whether the clock is synchronised and how
     * good it is: estimated and maximum error in seconds. */
    int (*set_sync_status)(void *ctx, int synced, double est_error_s, double max_error_s);
    /* Largest |set_freq_ppm| the clock accepts; the engine keeps within it. */
    double max_freq_ppm;
    /* Optional (NULL = none): sets the kernel's TAI - UTC offset in whole seconds, from the
     * leapsectz table (chronyd does it with its default leapsecmode system), so programs
     * reading CLOCK_TAI get it. A failure (-EINVAL, -EPERM) is not a clock-control failure:
     * only CLOCK_TAI stays wrong. Last in the table so positional initialisers still work. */
    int (*set_tai_s)(void *ctx, int tai_offset_s);
    /* Optional (NULL = none), told after every correction the engine starts (core/discipline
     * discipline_correct()): the running slew will still move the clock by remaining_s
     * (positive = forward) over duration_s of engine time, on top of the base frequency
     * adjustment base_ppm. The daemon's time smoothing (`smoothtime`) follows the engine's
     * best estimate of the time (the clock plus remaining_s) with it. */
    void (*corrected)(void *ctx, double remaining_s, double duration_s, double base_ppm);
};

#endif
