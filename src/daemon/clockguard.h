/* The clock the engine steers, guarded.
 *
 * Forwards struct clock_ops to the Linux driver or to the null clock. A write refused with
 * EPERM (no CAP_SYS_TIME: a container, a dropped capability) switches to the null clock for
 * good, with one plain warning, instead of killing the daemon: tempusd then keeps running
 * as with -x. In one-shot mode (-q/-Q) it catches the step the engine makes at its first
 * update: that offset is the answer; -Q never applies it, nor does -q on the null clock
 * (chronyd -q -x: "Could not step system clock"). A running daemon on the null clock is not
 * stepped either: the step fails with -EPERM ("System clock wrong by X seconds", "Could not
 * step system clock", as chronyd -x 4.3), and the engine leaves the offset alone. */
#ifndef TEMPUS_DAEMON_CLOCKGUARD_H
#define TEMPUS_DAEMON_CLOCKGUARD_H

#include <stdint.h>

#include "core/clock_ops.h"

struct clocknull;

struct clockguard {
    struct clock_ops inner; /* the driver in use */
    struct clocknull *null; /* owned; set once the null clock is in use */
    int using_null;
    int oneshot; /* 0, 'q' or 'Q' */
    int oneshot_done;
    double oneshot_offset_s; /* what the engine stepped by: X of "System clock wrong by X" */
    int step_failures;
    int tai_offset_s; /* the last TAI - UTC the driver accepted, s (0 = none) */
    /* System clock for a null clock created later (NULL = CLOCK_REALTIME; tests fake it). */
    int64_t (*read_system_ns)(void *ctx);
    void *read_system_ctx;
};

/* Starts on driver inner (copied; NULL = the null clock from the start). Returns 0 or
 * -ENOMEM. */
int clockguard_init(struct clockguard *g, const struct clock_ops *inner, int oneshot,
                    int64_t (*read_system_ns)(void *ctx), void *read_system_ctx);

/* Frees the null clock, if any. */
void clockguard_fini(struct clockguard *g);

/* The operations to give the engine (ctx = g). */
void clockguard_ops(struct clockguard *g, struct clock_ops *ops);

/* Switches to the null clock now (err: why, for the warning). */
void clockguard_use_null(struct clockguard *g, int err);

/* A kernel timestamp (system clock) on the clock in use. */
int64_t clockguard_from_system_ns(const struct clockguard *g, int64_t system_ns);

/* The null clock's lead over the system clock at system_ns, s (0 on the real clock). */
double clockguard_virtual_offset_s(const struct clockguard *g, int64_t system_ns);

#endif
