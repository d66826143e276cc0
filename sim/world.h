/* The simulator's event queue: events ordered by true time (ns since the start of the run),
 * ties broken by scheduling order, so a run is a pure function of the scenario and the seed.
 *
 * An event is a callback with two small integers and an optional payload (a packet in flight)
 * copied into the queue. Events are kept in a pool with a free list and ordered by an index
 * heap, so scheduling does not allocate once the pool has grown to the run's working set.
 */
#ifndef TEMPUS_SIM_WORLD_H
#define TEMPUS_SIM_WORLD_H

#include <stddef.h>
#include <stdint.h>

/* Largest payload an event carries: an NTP packet with a few extension fields. */
#define SIMWORLD_DATA_MAX 1024

struct simworld;

/* Called when the event is due; data/len is the payload (valid during the call only). The
 * world's clock (simworld_now_ns) equals the event's time during the call. */
struct simworld_cb {
    void (*fn)(void *ctx, int a, int b, const uint8_t *data, size_t len);
    void *ctx;
};

/* A new, empty world whose clock reads 0. NULL on ENOMEM. */
struct simworld *simworld_new(void);
void simworld_free(struct simworld *w);

/* Current true time, ns since the start of the run. */
int64_t simworld_now_ns(const struct simworld *w);

/* The same as a stable pointer (valid until simworld_free), for clocks that read "now". */
const int64_t *simworld_now_ptr(const struct simworld *w);

/* Schedules cb at true time t_ns (clamped to now: the past cannot be scheduled), with
 * integers a, b and a copy of len bytes of data (len <= SIMWORLD_DATA_MAX). 0 or -ENOMEM /
 * -EINVAL. */
int simworld_schedule(struct simworld *w, int64_t t_ns, struct simworld_cb cb, int a, int b,
                      const uint8_t *data, size_t len);

/* Time of the earliest pending event, or INT64_MAX when none is pending. */
int64_t simworld_next_ns(const struct simworld *w);

/* Advances the clock to the earliest pending event and runs it. Returns 1 if an event ran,
 * 0 if the queue was empty. */
int simworld_run_one(struct simworld *w);

/* Runs events due at or before end_ns, then sets the clock to end_ns. Returns the number of
 * events run. */
uint64_t simworld_run_until(struct simworld *w, int64_t end_ns);

/* Events pending (for tests). */
size_t simworld_pending(const struct simworld *w);

#endif
