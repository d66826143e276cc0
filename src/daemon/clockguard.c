/* daemon/clockguard: EPERM fallback and one-shot capture around the clock driver (see
 * clockguard.h). */
#include "daemon/clockguard.h"

#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "os/clock_null.h"

static int start_null(struct clockguard *g)
{
    g->null = clocknull_new(g->read_system_ns, g->read_system_ctx);
    if (!g->null)
        return -ENOMEM;
    clocknull_ops(g->null, &g->inner);
    g->using_null = 1;
    return 0;
}

int clockguard_init(struct clockguard *g, const struct clock_ops *inner, int oneshot,
                    int64_t (*read_system_ns)(void *ctx), void *read_system_ctx)
{
    memset(g, 0, sizeof *g);
    g->oneshot = oneshot;
    g->read_system_ns = read_system_ns;
    g->read_system_ctx = read_system_ctx;
    if (inner) {
        g->inner = *inner;
        return 0;
    }
    return start_null(g);
}

void clockguard_fini(struct clockguard *g)
{
    clocknull_free(g->null);
    g->null = NULL;
}

void clockguard_use_null(struct clockguard *g, int err)
{
    if (g->using_null)
        return;
    log_warn("Could not control system clock (%s) : running as with -x (clock not adjusted)",
             strerror(-err));
    if (start_null(g) != 0)
        log_error("Could not create the null clock : out of memory");
}

int64_t clockguard_from_system_ns(const struct clockguard *g, int64_t system_ns)
{
    return g->using_null ? clocknull_from_system_ns(g->null, system_ns) : system_ns;
}

double clockguard_virtual_offset_s(const struct clockguard *g, int64_t system_ns)
{
    return g->using_null ? clocknull_offset_s(g->null, system_ns) : 0.0;
}

static int64_t g_read(void *ctx)
{
    struct clockguard *g = ctx;
    return g->inner.read_real_ns(g->inner.ctx);
}

static int g_set_freq(void *ctx, double ppm)
{
    struct clockguard *g = ctx;
    int r = g->inner.set_freq_ppm(g->inner.ctx, ppm);
    if (r == -EPERM) {
        clockguard_use_null(g, r);
        r = g->inner.set_freq_ppm(g->inner.ctx, ppm);
    }
    return r;
}

static int g_step(void *ctx, double offset_s)
{
    struct clockguard *g = ctx;
    if (g->oneshot) {
        g->oneshot_done = 1;
        g->oneshot_offset_s = offset_s;
        /* -Q prints only; -q on the null clock (-x) does not step either: chronyd -q -x
         * reports "(step)" and then "Could not step system clock" (the daemon logs that). */
        if (g->oneshot == 'Q' || g->using_null)
            return 0;
    }
    /* chronyd logs the error before the step ("wrong by"; positive = the clock is behind). */
    if (!g->oneshot)
        log_warn("System clock wrong by %.6f seconds", offset_s);
    int r = g->using_null && !g->oneshot ? -EPERM : g->inner.step_s(g->inner.ctx, offset_s);
    if (r == -EPERM && !g->using_null) {
        clockguard_use_null(g, r);
        r = g->oneshot ? g->inner.step_s(g->inner.ctx, offset_s) : -EPERM;
    }
    /* The null clock (-x, or the EPERM fallback) is not stepped: chronyd -x 4.3's null driver
     * cannot step ("Could not step system clock", the offset stays; measured with a source
     * 2 s off), and `makestep` answers 500 there (cmdsrv). */
    if (r == 0 && !g->oneshot)
        log_warn("System clock was stepped by %.6f seconds", offset_s);
    if (r != 0) {
        g->step_failures++;
        log_error("Could not step system clock");
    }
    return r;
}

static int g_set_leap(void *ctx, enum clock_leap leap)
{
    struct clockguard *g = ctx;
    int r = g->inner.set_leap(g->inner.ctx, leap);
    if (r == -EPERM) {
        clockguard_use_null(g, r);
        r = g->inner.set_leap(g->inner.ctx, leap);
    }
    return r;
}

static int g_set_sync(void *ctx, int synced, double est, double max)
{
    struct clockguard *g = ctx;
    int r = g->inner.set_sync_status(g->inner.ctx, synced, est, max);
    if (r == -EPERM) {
        clockguard_use_null(g, r);
        r = g->inner.set_sync_status(g->inner.ctx, synced, est, max);
    }
    return r;
}

/* Optional, so a refusal (EINVAL from an old kernel or a simulator, EPERM) is a debug line:
 * it neither switches to the null clock nor counts as a clock-control failure. */
static int g_set_tai(void *ctx, int tai_offset_s)
{
    struct clockguard *g = ctx;
    if (!g->inner.set_tai_s)
        return -ENOSYS;
    int r = g->inner.set_tai_s(g->inner.ctx, tai_offset_s);
    if (r == 0) {
        g->tai_offset_s = tai_offset_s;
        log_debug("Kernel TAI offset set to %d seconds", tai_offset_s);
    } else {
        log_debug("Could not set kernel TAI offset to %d seconds : %s", tai_offset_s, strerror(-r));
    }
    return r;
}

void clockguard_ops(struct clockguard *g, struct clock_ops *ops)
{
    *ops = (struct clock_ops){
        .ctx = g,
        .read_real_ns = g_read,
        .set_freq_ppm = g_set_freq,
        .step_s = g_step,
        .set_leap = g_set_leap,
        .set_sync_status = g_set_sync,
        .max_freq_ppm = g->inner.max_freq_ppm,
        .set_tai_s = g_set_tai,
    };
}
