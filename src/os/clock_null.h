/* The null clock driver for -x (and for hosts where the clock cannot be controlled).
 *
 * It never touches the system clock. Like chronyd's null driver it keeps a virtual clock:
 * virtual = system + offset, where offset grows at the frequency the engine sets and jumps by
 * the steps it asks for. The engine steers the virtual clock exactly as it would steer the
 * real one, so its frequency and offset estimates — and the reports built from them — stay
 * meaningful, and a server answers with the corrected (virtual) time.
 */
#ifndef TEMPUS_OS_CLOCK_NULL_H
#define TEMPUS_OS_CLOCK_NULL_H

#include <stdint.h>

#include "core/clock_ops.h"

struct clocknull;

/* A null clock over read_system_ns (NULL = CLOCK_REALTIME; tests pass a fake), starting with
 * offset 0 and frequency 0. NULL on ENOMEM. */
struct clocknull *clocknull_new(int64_t (*read_system_ns)(void *ctx), void *ctx);
void clocknull_free(struct clocknull *c);

/* Fills ops (ctx = c). Steps and frequency changes apply to the virtual clock only. */
void clocknull_ops(struct clocknull *c, struct clock_ops *ops);

/* Maps a system-clock instant (a kernel receive timestamp, say) to the virtual clock. */
int64_t clocknull_from_system_ns(const struct clocknull *c, int64_t system_ns);

/* The virtual clock's offset from the system clock at system_ns, seconds (positive = the
 * virtual clock is ahead), and the last frequency set, ppm. */
double clocknull_offset_s(const struct clocknull *c, int64_t system_ns);
double clocknull_freq_ppm(const struct clocknull *c);

/* The last leap and sync status the engine set (for reports). */
enum clock_leap clocknull_leap(const struct clocknull *c);
int clocknull_synced(const struct clocknull *c);

/* The last TAI - UTC offset the engine set, s (0 = none): recorded, never applied. */
int clocknull_tai_s(const struct clocknull *c);

/* Largest |frequency| accepted: the same as the Linux driver's, so -x behaves alike. */
#define CLOCKNULL_MAX_FREQ_PPM 100000.0

#endif
