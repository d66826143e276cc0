/* The main loop: one thread, one poll() with a timeout from its own timer list.
 *
 * ARCHITECTURE.md's system-call surface: the loop waits only in poll(); signals are seen as
 * EINTR plus a flag (os/signals.h); time comes from clock_gettime(CLOCK_MONOTONIC/REALTIME).
 * Capacities are fixed at compile time (LOOP_MAX_FDS, LOOP_MAX_TIMERS): nothing grows at run
 * time. Callbacks may add or cancel timers and fds, including their own.
 */
#ifndef TEMPUS_OS_LOOP_H
#define TEMPUS_OS_LOOP_H

#include <stdint.h>

#define LOOP_MAX_FDS    256
#define LOOP_MAX_TIMERS 64
/* Longest single wait in poll(), ns: bounds how late a signal that lands between the flag
 * check and poll() is noticed (no self-pipe is allowed in the wait set). */
#define LOOP_MAX_WAIT_NS 1000000000LL

struct loop;

/* Called when fd is readable (or has an error pending: the callback's recv sees it). */
typedef void (*loop_fd_fn)(void *ctx, int fd);
/* Called once when a timer is due; now_mono_ns is the loop's time of dispatch. */
typedef void (*loop_timer_fn)(void *ctx, int64_t now_mono_ns);
/* Called after every wake-up (signal or not); returns nonzero to stop loop_run(). */
typedef int (*loop_check_fn)(void *ctx);

/* Monotonic clock (CLOCK_MONOTONIC), ns since an arbitrary origin. */
int64_t loop_mono_ns(void);
/* Real-time clock (CLOCK_REALTIME), ns since the Unix epoch. */
int64_t loop_real_ns(void);

/* A new loop, or NULL on ENOMEM. */
struct loop *loop_new(void);
/* Frees the loop (does not close its fds); NULL is a no-op. */
void loop_free(struct loop *l);

/* Watches fd for input. 0, -EEXIST if already watched, -ENOSPC when full. */
int loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *ctx);
/* Stops watching fd. 0 or -ENOENT. */
int loop_remove_fd(struct loop *l, int fd);

/* Arms a one-shot timer at when_mono_ns. Returns its id (> 0) or -ENOSPC. */
int loop_add_timer(struct loop *l, int64_t when_mono_ns, loop_timer_fn fn, void *ctx);
/* Cancels a pending timer. 0 or -ENOENT (already fired or never armed). */
int loop_cancel_timer(struct loop *l, int id);
/* Earliest pending timer, or INT64_MAX when none. */
int64_t loop_next_timer_mono_ns(const struct loop *l);

/* Waits at most until the next timer or max_wait_ns (capped at LOOP_MAX_WAIT_NS), dispatches
 * ready fds, then due timers. Returns the number of callbacks run, -EINTR when a signal
 * interrupted the wait, or another -errno from poll(). */
int loop_run_once(struct loop *l, int64_t max_wait_ns);

/* Runs loop_run_once() until check (may be NULL) returns nonzero or loop_quit() is called.
 * Returns 0, or -errno on a poll() failure other than EINTR. */
int loop_run(struct loop *l, loop_check_fn check, void *ctx);
/* Makes loop_run() return after the current dispatch. */
void loop_quit(struct loop *l);

#endif
