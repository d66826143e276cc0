/* The Linux clock driver: struct clock_ops on clock_adjtime(CLOCK_REALTIME).
 *
 * Frequency through ADJ_FREQUENCY (|f| <= 500 ppm) plus ADJ_TICK for the rest (±100000 ppm
 * in all, like chronyd); steps through ADJ_SETOFFSET|ADJ_NANO; leap through STA_INS/STA_DEL;
 * maxerror/esterror and STA_UNSYNC for the sync status (STA_UNSYNC is cleared only with
 * rtcsync, as chronyd on Linux). ADJ_STATUS always goes with ADJ_NANO. The kernel PLL/FLL is
 * switched off by clocklinux_take_control(), never by creating the driver.
 *
 * The system calls go through struct clocklinux_sys so that unit tests drive every write path
 * against a fake: the real clock is only ever read (modes = 0) in tests.
 */
#ifndef TEMPUS_OS_CLOCK_LINUX_H
#define TEMPUS_OS_CLOCK_LINUX_H

#include <stdint.h>

#include "core/clock_ops.h"

struct timex;

/* The two system calls the driver makes. */
struct clocklinux_sys {
    void *ctx;
    /* clock_adjtime(CLOCK_REALTIME, tx): returns the clock state (>= 0) or -errno. */
    int (*adjtime)(void *ctx, struct timex *tx);
    /* clock_gettime(CLOCK_REALTIME) in ns since the Unix epoch. */
    int64_t (*read_real_ns)(void *ctx);
};

/* The real system calls. */
extern const struct clocklinux_sys clocklinux_real_sys;

/* What a read-only clock_adjtime (modes = 0) reports, in the driver's units. */
struct clocklinux_state {
    double freq_ppm; /* freq + (tick - nominal) * 100 ppm, positive = clock gains */
    long tick_us;    /* microseconds added per kernel tick */
    int status;      /* STA_* bits */
    double maxerror_s;
    double esterror_s;
    int state;  /* TIME_OK, TIME_INS, ... (the call's return value) */
    int pll_on; /* STA_PLL or STA_FLL set: some other daemon steers the clock */
};

/* Reads the clock's state without changing it (modes = 0). 0 or -errno. */
int clocklinux_read_state(const struct clocklinux_sys *sys, struct clocklinux_state *st);

/* 1 when this process may set the clock (CAP_SYS_TIME in its effective set), else 0.
 * Read-only: asks capget(), never tries a write. */
int clocklinux_can_control(void);

struct clocklinux;

/* A driver on sys (borrowed; NULL = clocklinux_real_sys). rtcsync: clear STA_UNSYNC when
 * synchronised. Makes no system call. NULL on ENOMEM. */
struct clocklinux *clocklinux_new(const struct clocklinux_sys *sys, int rtcsync);
void clocklinux_free(struct clocklinux *c);

/* Takes the clock over: PLL/FLL off, offset adjustment cancelled, STA_UNSYNC set, the
 * current frequency kept. 0 or -errno (-EPERM without CAP_SYS_TIME). */
int clocklinux_take_control(struct clocklinux *c);

/* Fills ops with this driver's operations (ctx = c). max_freq_ppm = CLOCKLINUX_MAX_FREQ_PPM. */
void clocklinux_ops(struct clocklinux *c, struct clock_ops *ops);

/* Frequency range reachable with tick (±10 % of nominal in the kernel) kept well inside. */
#define CLOCKLINUX_MAX_FREQ_PPM 100000.0

#endif
