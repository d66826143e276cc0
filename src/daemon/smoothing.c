/* smoothing: the daemon's side of `smoothtime` (daemon/smoothing.h). */
#include "daemon/smoothing.h"

#include <math.h>
#include <string.h>

#include "base/log.h"
#include "daemon/clockguard.h"
#include "daemon/executor.h"
#include "os/loop.h"
#include "wire/cmdmon.h"
#include "wire/ntp.h"

/* smoothtime (docs/design/smoothing.md). The served time follows the engine's best estimate
 * of the time, the clock plus the correction its running slew has still to apply (as chronyd
 * serves its "cooked" time), plus the smoothing offset, which takes up every jump of that
 * estimate (a new correction) and every change of its base frequency. All on the system
 * clock's timeline (CLOCK_REALTIME: the raw time under -x; the slewed clock otherwise, which
 * runs at the rate of the engine's monotonic time that the slews are timed in). */

/* The running slew's remaining correction at system time sys_ns, s. */
static double sm_remaining(const struct smoothing *s, int64_t sys_ns)
{
    if (s->slew_ns <= 0 || s->remaining_s == 0.0)
        return 0.0;
    int64_t left = s->slew_start_ns + s->slew_ns - sys_ns;
    if (left <= 0)
        return 0.0;
    if (left > s->slew_ns)
        left = s->slew_ns;
    return s->remaining_s * (double)left / (double)s->slew_ns;
}

static void sm_corrected(void *ctx, double remaining_s, double duration_s, double base_ppm)
{
    struct smoothing *s = ctx;
    int64_t now = loop_real_ns();
    double jump = remaining_s - sm_remaining(s, now);
    if (jump != 0.0)
        smooth_offset_change(&s->smooth, now, jump);
    if (s->base_known && base_ppm != s->base_ppm)
        smooth_freq_change(&s->smooth, now, base_ppm - s->base_ppm);
    s->base_ppm = base_ppm;
    s->base_known = 1;
    s->remaining_s = remaining_s;
    s->slew_start_ns = now;
    s->slew_ns = duration_s > 0.0 ? (int64_t)(duration_s * 1e9) : 0;
}

/* The engine's clock operations, forwarded to the guarded clock; a step resets the
 * smoothing (chronyd does the same) and ends the slew. */
static int64_t sm_read(void *ctx)
{
    struct smoothing *s = ctx;
    return s->inner_ops.read_real_ns(s->inner_ops.ctx);
}

static int sm_set_freq(void *ctx, double freq_ppm)
{
    struct smoothing *s = ctx;
    return s->inner_ops.set_freq_ppm(s->inner_ops.ctx, freq_ppm);
}

static int sm_step(void *ctx, double offset_s)
{
    struct smoothing *s = ctx;
    int r = s->inner_ops.step_s(s->inner_ops.ctx, offset_s);
    if (r == 0) {
        smooth_step(&s->smooth, loop_real_ns());
        s->remaining_s = 0.0;
        s->slew_ns = 0;
    }
    return r;
}

static int sm_set_leap(void *ctx, enum clock_leap leap)
{
    struct smoothing *s = ctx;
    return s->inner_ops.set_leap(s->inner_ops.ctx, leap);
}

static int sm_set_sync_status(void *ctx, int synced, double est_error_s, double max_error_s)
{
    struct smoothing *s = ctx;
    return s->inner_ops.set_sync_status(s->inner_ops.ctx, synced, est_error_s, max_error_s);
}

static int sm_set_tai(void *ctx, int tai_offset_s)
{
    struct smoothing *s = ctx;
    return s->inner_ops.set_tai_s(s->inner_ops.ctx, tai_offset_s);
}

void smoothing_init(struct smoothing *s, double max_freq_ppm, double max_wander_ppm_per_s,
                    int leap_only, struct clock_ops *ops, const struct clockguard *guard)
{
    memset(s, 0, sizeof *s);
    smooth_init(&s->smooth, max_freq_ppm, max_wander_ppm_per_s, leap_only);
    s->on = 1;
    s->guard = guard;
    s->inner_ops = *ops;
    ops->ctx = s;
    ops->read_real_ns = sm_read;
    ops->set_freq_ppm = sm_set_freq;
    ops->step_s = sm_step;
    ops->set_leap = sm_set_leap;
    ops->set_sync_status = sm_set_sync_status;
    ops->set_tai_s = s->inner_ops.set_tai_s ? sm_set_tai : NULL;
    ops->corrected = sm_corrected;
}

void smoothing_set_executor(struct smoothing *s, struct executor *ex)
{
    s->ex = ex;
}

/* Smoothing starts: the served time does not jump, so the smoothing offset takes up the part
 * of the running correction not applied yet. */
static void activate(struct smoothing *s)
{
    int64_t now = loop_real_ns();
    if (!smooth_activate(&s->smooth, now))
        return;
    double r = s->smooth.leap_only ? 0.0 : sm_remaining(s, now);
    if (r != 0.0)
        smooth_offset_change(&s->smooth, now, r);
    log_info("Time smoothing activated%s", s->smooth.leap_only ? " (leap seconds only)" : "");
    if (s->ex)
        executor_ref_changed(s->ex);
}

void smoothing_updated(struct smoothing *s, double skew_ppm)
{
    if (!s->smooth.active && smooth_skew_activates(&s->smooth, skew_ppm))
        activate(s);
}

/* What the served time is ahead of the clock by at system time sys_ns, s. */
static double sm_served_ahead_s(const struct smoothing *s, int64_t sys_ns)
{
    double off = smooth_offset_s(&s->smooth, sys_ns);
    return s->smooth.leap_only ? off : off + sm_remaining(s, sys_ns);
}

/* The server's time: the engine's clock plus the above (only while smoothing is active: before,
 * the clock as without smoothtime). */
int64_t smoothing_serve_map(const struct smoothing *s, int64_t system_ns)
{
    int64_t t = clockguard_from_system_ns(s->guard, system_ns);
    if (!s->smooth.active)
        return t;
    return t + (int64_t)llround(sm_served_ahead_s(s, system_ns) * 1e9);
}

/* While the served time is smoothed: refid 127.127.1.255, and the reference time shifted as
 * the served time is (chronyd 4.3 does both, measured). Refreshed at least once a second. */
void smoothing_serve_ref(const struct smoothing *s, struct server_ref *ref)
{
    int64_t now = loop_real_ns();
    if (!s->smooth.active)
        return;
    /* chronyd 4.3 (measured): 127.127.1.255 with a smoothing offset of 2 us, the source's
     * refid with 3 ns: the offset counts once above the clock's precision */
    struct server_params sp;
    server_params_default(&sp);
    if (smooth_serving(&s->smooth, now) &&
        fabs(smooth_offset_s(&s->smooth, now)) > ldexp(1.0, sp.precision_log2))
        ref->refid = NTP_REFID_SMOOTH;
    if (ref->ref_time_ns != 0)
        ref->ref_time_ns += (int64_t)llround(sm_served_ahead_s(s, now) * 1e9);
}

/* SMOOTHING (option -1) and SMOOTHTIME (0 reset, 1 activate). */
int smoothing_cmd(void *ctx, int option, struct cmdmon_rep_smoothing *out)
{
    struct smoothing *s = ctx;
    int64_t now = loop_real_ns();
    if (option < 0) {
        struct smooth_report r;
        smooth_report(&s->smooth, now, &r);
        out->flags = (r.active ? 1u : 0u) | (r.leap_only ? 2u : 0u);
        out->offset = r.offset_s;
        out->freq_ppm = r.freq_ppm;
        out->wander_ppm = r.wander_ppm_per_s;
        out->last_update_ago = r.last_update_ago_s;
        out->remaining_time = r.remaining_s;
        return CMDMON_STT_SUCCESS;
    }
    if (option == 0) {
        smooth_reset(&s->smooth, now);
        executor_ref_changed(s->ex);
    } else {
        activate(s);
    }
    return CMDMON_STT_SUCCESS;
}
