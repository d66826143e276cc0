/* os/loop: poll() over a fixed fd table and a fixed timer table (see loop.h). */
#include "os/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>

struct loop_fd {
    int fd; /* -1: free */
    loop_fd_fn fn;
    void *ctx;
};

struct loop_timer {
    int id; /* 0: free */
    int64_t when_mono_ns;
    loop_timer_fn fn;
    void *ctx;
};

struct loop {
    struct loop_fd fds[LOOP_MAX_FDS];
    struct loop_timer timers[LOOP_MAX_TIMERS];
    /* one past the highest slot in use: the scans of every turn stop there (a daemon uses a
     * handful of the slots, and a full scan cost ~2000 instructions per turn) */
    int fd_end, timer_end;
    int next_timer_id;
    int quit;
};

static int64_t read_clock_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t loop_mono_ns(void)
{
    return read_clock_ns(CLOCK_MONOTONIC);
}

int64_t loop_real_ns(void)
{
    return read_clock_ns(CLOCK_REALTIME);
}

struct loop *loop_new(void)
{
    struct loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    for (int i = 0; i < LOOP_MAX_FDS; i++)
        l->fds[i].fd = -1;
    l->next_timer_id = 1;
    return l;
}

void loop_free(struct loop *l)
{
    free(l);
}

int loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *ctx)
{
    int free_slot = -1;
    for (int i = 0; i < LOOP_MAX_FDS; i++) {
        if (l->fds[i].fd == fd)
            return -EEXIST;
        if (l->fds[i].fd < 0 && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0)
        return -ENOSPC;
    l->fds[free_slot] = (struct loop_fd){fd, fn, ctx};
    if (free_slot >= l->fd_end)
        l->fd_end = free_slot + 1;
    return 0;
}

int loop_remove_fd(struct loop *l, int fd)
{
    for (int i = 0; i < l->fd_end; i++) {
        if (l->fds[i].fd == fd && fd >= 0) {
            l->fds[i].fd = -1;
            while (l->fd_end > 0 && l->fds[l->fd_end - 1].fd < 0)
                l->fd_end--;
            return 0;
        }
    }
    return -ENOENT;
}

int loop_add_timer(struct loop *l, int64_t when_mono_ns, loop_timer_fn fn, void *ctx)
{
    for (int i = 0; i < LOOP_MAX_TIMERS; i++) {
        if (l->timers[i].id == 0) {
            int id = l->next_timer_id;
            /* Ids stay positive and unique among live timers: skip 0 on wrap. */
            l->next_timer_id = id == INT32_MAX ? 1 : id + 1;
            l->timers[i] = (struct loop_timer){id, when_mono_ns, fn, ctx};
            if (i >= l->timer_end)
                l->timer_end = i + 1;
            return id;
        }
    }
    return -ENOSPC;
}

static void trim_timers(struct loop *l)
{
    while (l->timer_end > 0 && l->timers[l->timer_end - 1].id == 0)
        l->timer_end--;
}

int loop_cancel_timer(struct loop *l, int id)
{
    if (id <= 0)
        return -ENOENT;
    for (int i = 0; i < l->timer_end; i++) {
        if (l->timers[i].id == id) {
            l->timers[i].id = 0;
            trim_timers(l);
            return 0;
        }
    }
    return -ENOENT;
}

int64_t loop_next_timer_mono_ns(const struct loop *l)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < l->timer_end; i++)
        if (l->timers[i].id && l->timers[i].when_mono_ns < next)
            next = l->timers[i].when_mono_ns;
    return next;
}

/* Runs every timer due at now, earliest first; timers a callback arms for a time <= now run
 * in the same pass (bounded by the table size, so a timer re-arming itself at now cannot spin
 * forever). */
static int run_due_timers(struct loop *l, int64_t now)
{
    int ran = 0;
    for (int pass = 0; pass < LOOP_MAX_TIMERS; pass++) {
        int best = -1;
        for (int i = 0; i < l->timer_end; i++) {
            if (l->timers[i].id && l->timers[i].when_mono_ns <= now &&
                (best < 0 || l->timers[i].when_mono_ns < l->timers[best].when_mono_ns))
                best = i;
        }
        if (best < 0)
            break;
        struct loop_timer t = l->timers[best];
        l->timers[best].id = 0;
        trim_timers(l);
        t.fn(t.ctx, now);
        ran++;
    }
    return ran;
}

int loop_run_once(struct loop *l, int64_t max_wait_ns)
{
    struct pollfd pfds[LOOP_MAX_FDS];
    int slot_of[LOOP_MAX_FDS];
    nfds_t n = 0;
    for (int i = 0; i < l->fd_end; i++) {
        if (l->fds[i].fd >= 0) {
            pfds[n] = (struct pollfd){.fd = l->fds[i].fd, .events = POLLIN};
            slot_of[n] = i;
            n++;
        }
    }

    int64_t now = loop_mono_ns();
    int64_t wait_ns = max_wait_ns < LOOP_MAX_WAIT_NS ? max_wait_ns : LOOP_MAX_WAIT_NS;
    int64_t next = loop_next_timer_mono_ns(l);
    if (next != INT64_MAX && next - now < wait_ns)
        wait_ns = next - now;
    if (wait_ns < 0)
        wait_ns = 0;
    /* Round up so that a timer is never dispatched early and the loop does not spin. */
    int timeout_ms = (int)((wait_ns + 999999) / 1000000);

    int r = poll(pfds, n, timeout_ms);
    if (r < 0)
        return -errno;

    int ran = 0;
    for (nfds_t k = 0; k < n && r > 0; k++) {
        if (!pfds[k].revents)
            continue;
        struct loop_fd *f = &l->fds[slot_of[k]];
        /* A callback may have removed this fd (or replaced it) in the meantime. */
        if (f->fd != pfds[k].fd)
            continue;
        f->fn(f->ctx, f->fd);
        ran++;
    }
    ran += run_due_timers(l, loop_mono_ns());
    return ran;
}

int loop_run(struct loop *l, loop_check_fn check, void *ctx)
{
    l->quit = 0;
    while (!l->quit) {
        if (check && check(ctx))
            break;
        int r = loop_run_once(l, LOOP_MAX_WAIT_NS);
        if (r < 0 && r != -EINTR)
            return r;
    }
    return 0;
}

void loop_quit(struct loop *l)
{
    l->quit = 1;
}
