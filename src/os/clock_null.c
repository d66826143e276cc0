/* os/clock_null: a virtual clock on top of the untouched system clock (see clock_null.h). */
#include "os/clock_null.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct clocknull {
    int64_t (*read_system_ns)(void *ctx);
    void *ctx;
    /* offset(t) = base_offset_ns + freq_ppm * 1e-6 * (t - base_system_ns) */
    int64_t base_system_ns;
    double base_offset_ns;
    double freq_ppm;
    enum clock_leap leap;
    int synced;
    int tai_offset_s;
};

static int64_t system_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct clocknull *clocknull_new(int64_t (*read_system_ns)(void *ctx), void *ctx)
{
    struct clocknull *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->read_system_ns = read_system_ns ? read_system_ns : system_now;
    c->ctx = ctx;
    c->base_system_ns = c->read_system_ns(c->ctx);
    return c;
}

void clocknull_free(struct clocknull *c)
{
    free(c);
}

static double offset_ns_at(const struct clocknull *c, int64_t system_ns)
{
    return c->base_offset_ns + c->freq_ppm * 1e-6 * (double)(system_ns - c->base_system_ns);
}

int64_t clocknull_from_system_ns(const struct clocknull *c, int64_t system_ns)
{
    return system_ns + (int64_t)llround(offset_ns_at(c, system_ns));
}

double clocknull_offset_s(const struct clocknull *c, int64_t system_ns)
{
    return offset_ns_at(c, system_ns) / 1e9;
}

double clocknull_freq_ppm(const struct clocknull *c)
{
    return c->freq_ppm;
}

enum clock_leap clocknull_leap(const struct clocknull *c)
{
    return c->leap;
}

int clocknull_synced(const struct clocknull *c)
{
    return c->synced;
}

int clocknull_tai_s(const struct clocknull *c)
{
    return c->tai_offset_s;
}

static int64_t op_read(void *ctx)
{
    struct clocknull *c = ctx;
    return clocknull_from_system_ns(c, c->read_system_ns(c->ctx));
}

static int op_set_freq(void *ctx, double freq_ppm)
{
    struct clocknull *c = ctx;
    if (!isfinite(freq_ppm))
        return -EINVAL;
    if (freq_ppm > CLOCKNULL_MAX_FREQ_PPM)
        freq_ppm = CLOCKNULL_MAX_FREQ_PPM;
    if (freq_ppm < -CLOCKNULL_MAX_FREQ_PPM)
        freq_ppm = -CLOCKNULL_MAX_FREQ_PPM;
    /* Re-base so that the offset accumulated so far is kept and only the rate changes. */
    int64_t now = c->read_system_ns(c->ctx);
    c->base_offset_ns = offset_ns_at(c, now);
    c->base_system_ns = now;
    c->freq_ppm = freq_ppm;
    return 0;
}

static int op_step(void *ctx, double offset_s)
{
    struct clocknull *c = ctx;
    if (!isfinite(offset_s))
        return -EINVAL;
    c->base_offset_ns += offset_s * 1e9;
    return 0;
}

static int op_set_leap(void *ctx, enum clock_leap leap)
{
    struct clocknull *c = ctx;
    c->leap = leap;
    return 0;
}

static int op_set_tai(void *ctx, int tai_offset_s)
{
    struct clocknull *c = ctx;
    c->tai_offset_s = tai_offset_s;
    return 0;
}

static int op_set_sync_status(void *ctx, int synced, double est_error_s, double max_error_s)
{
    struct clocknull *c = ctx;
    (void)est_error_s;
    (void)max_error_s;
    c->synced = synced;
    return 0;
}

void clocknull_ops(struct clocknull *c, struct clock_ops *ops)
{
    memset(ops, 0, sizeof *ops);
    ops->ctx = c;
    ops->read_real_ns = op_read;
    ops->set_freq_ppm = op_set_freq;
    ops->step_s = op_step;
    ops->set_leap = op_set_leap;
    ops->set_sync_status = op_set_sync_status;
    ops->max_freq_ppm = CLOCKNULL_MAX_FREQ_PPM;
    ops->set_tai_s = op_set_tai;
}
