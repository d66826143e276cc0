/* Server time smoothing (chrony.conf `smoothtime MAXFREQ MAXWANDER [leaponly]`).
 *
 * The time the NTP server serves is the daemon's clock plus a smoothing offset. When the
 * daemon changes its clock's frequency (a slew, a frequency correction) or a leap second is
 * applied, the offset absorbs the change, so the served time stays continuous in value and
 * in rate; the offset then goes back to zero along a quadratic spline whose frequency stays
 * within MAXFREQ ppm and whose rate of frequency change (the wander) stays within MAXWANDER
 * ppm/s: up to three pieces of constant wander (+-MAXWANDER, 0, -+MAXWANDER), the shortest
 * such path (time-optimal). chronyd's own figures agree (a 2.016 us offset at +0.651 ppm with
 * 0.001 ppm/s: 1576.9 s remaining, measured on chronyd 4.3; see docs/design/smoothing.md).
 *
 * Signs as chronyc `smoothing`: offset > 0 = clients get time ahead of the daemon's clock;
 * frequency > 0 = served time runs faster; wander = d(frequency)/dt.
 *
 * Smoothing starts inactive: smooth_activate() (the `smoothtime activate` command, or the
 * daemon when 1/10000 of its clock's skew falls below MAXWANDER, as chronyd), then changes are
 * accumulated. In leap-only mode only leap seconds are; other changes are ignored.
 * A step of the clock resets it (offset and frequency 0), as chronyd.
 *
 * Pure: times come in as int64 ns on the daemon's real clock (any fixed epoch works).
 */
#ifndef TEMPUS_CORE_SMOOTH_H
#define TEMPUS_CORE_SMOOTH_H

#include <stdint.h>

#define SMOOTH_MAX_FREQ_PPM   10000.0 /* chrony.conf: MAXFREQ up to 10000 ppm */
#define SMOOTH_MAX_WANDER_PPM 1.0     /* chrony.conf: MAXWANDER up to 1 ppm/s */
#define SMOOTH_PIECES         3

struct smooth {
    double max_freq;   /* MAXFREQ as a fraction (s/s) */
    double max_wander; /* MAXWANDER as a fraction per second (1/s) */
    int leap_only;
    int active;
    int64_t last_update_ns; /* last change accumulated (or reset, activation); 0: never */
    /* the spline: at t0_ns the offset is off0_s and the frequency freq0; then piece i has
     * constant wander wander[i] for len_s[i] seconds; after the last one, 0 and 0 */
    int64_t t0_ns;
    double off0_s, freq0;
    double len_s[SMOOTH_PIECES], wander[SMOOTH_PIECES];
};

/* The state as chronyc `smoothing` shows it (cmdmon reply 13). */
struct smooth_report {
    int active, leap_only;
    double offset_s, freq_ppm, wander_ppm_per_s;
    double last_update_ago_s, remaining_s;
};

/* Initialises s: MAXFREQ in ppm, MAXWANDER in ppm/s (clamped to 0..SMOOTH_MAX_*; a
 * MAXWANDER of 0 never moves the offset back), leap_only for `leaponly`. Inactive. */
void smooth_init(struct smooth *s, double max_freq_ppm, double max_wander_ppm_per_s, int leap_only);

/* The smoothing offset (served time - daemon's clock, s) and frequency (fraction) at now_ns.
 * Times before the spline's start give its start. 0 once the spline is done. */
double smooth_offset_s(const struct smooth *s, int64_t now_ns);
double smooth_freq(const struct smooth *s, int64_t now_ns);

/* 1 while the served time differs from the daemon's clock (active and the spline not done):
 * the server then announces refid 127.127.1.255. */
int smooth_serving(const struct smooth *s, int64_t now_ns);

/* The daemon's clock frequency changed by dfreq_ppm (positive: the clock now gains more) at
 * now_ns. Accumulated when active and not leap-only. */
void smooth_freq_change(struct smooth *s, int64_t now_ns, double dfreq_ppm);

/* The daemon's clock jumped by offset_s at now_ns (positive: ahead) and the jump is to be
 * smoothed: accumulated when active and not leap-only. */
void smooth_offset_change(struct smooth *s, int64_t now_ns, double offset_s);

/* A leap second was applied at now_ns: leap > 0 inserted (the clock went back 1 s), < 0
 * deleted. Accumulated when active (also in leap-only mode). */
void smooth_leap(struct smooth *s, int64_t now_ns, int leap);

/* The clock was stepped: offset and frequency back to 0 (chronyd does the same). */
void smooth_step(struct smooth *s, int64_t now_ns);

/* `smoothtime reset`: offset and frequency 0, still active if it was. */
void smooth_reset(struct smooth *s, int64_t now_ns);

/* `smoothtime activate` (and the daemon's skew rule). Returns 1 if it was inactive. */
int smooth_activate(struct smooth *s, int64_t now_ns);

/* chronyd's automatic activation: 1/10000 of the clock's skew (ppm) below MAXWANDER. */
int smooth_skew_activates(const struct smooth *s, double skew_ppm);

/* The state at now_ns for the SMOOTHING report. */
void smooth_report(const struct smooth *s, int64_t now_ns, struct smooth_report *r);

#endif
