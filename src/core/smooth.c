/* core/smooth: server time smoothing (see smooth.h, docs/design/smoothing.md). */
#include "core/smooth.h"

#include <math.h>
#include <string.h>

/* Lower bounds of the limits: 0 would make the spline infinitely long (a division by 0). */
#define MIN_FREQ_PPM   1e-6
#define MIN_WANDER_PPM 1e-9

static double clamp(double x, double lo, double hi)
{
    return !(x >= lo) ? lo : x > hi ? hi : x; /* NaN -> lo */
}

void smooth_init(struct smooth *s, double max_freq_ppm, double max_wander_ppm_per_s, int leap_only)
{
    memset(s, 0, sizeof *s);
    s->max_freq = clamp(max_freq_ppm, MIN_FREQ_PPM, SMOOTH_MAX_FREQ_PPM) * 1e-6;
    s->max_wander = clamp(max_wander_ppm_per_s, MIN_WANDER_PPM, SMOOTH_MAX_WANDER_PPM) * 1e-6;
    s->leap_only = leap_only ? 1 : 0;
}

static double total_len(const struct smooth *s)
{
    double t = 0.0;
    for (int i = 0; i < SMOOTH_PIECES; i++)
        t += s->len_s[i];
    return t;
}

static double elapsed_s(const struct smooth *s, int64_t now_ns)
{
    return now_ns > s->t0_ns ? (double)(now_ns - s->t0_ns) * 1e-9 : 0.0;
}

/* Offset, frequency and wander of the spline at now_ns; 1 if it is done (all three 0). */
static int eval(const struct smooth *s, int64_t now_ns, double *off, double *freq, double *wander)
{
    double left = elapsed_s(s, now_ns), o = s->off0_s, v = s->freq0;
    *wander = 0.0;
    if (left >= total_len(s) && (left > 0.0 || (o == 0.0 && v == 0.0))) {
        *off = *freq = 0.0; /* done: exactly 0, not a rounding residue */
        return 1;
    }
    for (int i = 0; i < SMOOTH_PIECES; i++) {
        double a = s->wander[i], len = s->len_s[i];
        if (len <= 0.0)
            continue;
        if (left < len) { /* inside this piece */
            o += v * left + 0.5 * a * left * left;
            v += a * left;
            *wander = a;
            break;
        }
        o += v * len + 0.5 * a * len * len;
        v += a * len;
        left -= len;
    }
    *off = o;
    *freq = v;
    return 0;
}

/* The shortest path of (offset x, frequency v) to (0, 0) with |wander| <= W and |frequency|
 * <= F (bang-bang with a speed limit): wander d*W until the peak frequency d*p, cruise at it
 * if p had to be capped at F, then -d*W down to 0. d is the side the offset must move to
 * after stopping the present frequency at once (stopping alone moves it by v|v|/2W). */
static void solve(struct smooth *s)
{
    const double W = s->max_wander, F = s->max_freq, x = s->off0_s, v = s->freq0;
    for (int i = 0; i < SMOOTH_PIECES; i++)
        s->len_s[i] = s->wander[i] = 0.0;
    if (x == 0.0 && v == 0.0)
        return;
    double rest = x + v * fabs(v) / (2.0 * W);
    if (rest == 0.0) { /* stopping the frequency lands on 0 */
        s->wander[0] = v > 0.0 ? -W : W;
        s->len_s[0] = fabs(v) / W;
        return;
    }
    double d = rest > 0.0 ? -1.0 : 1.0;
    /* uncapped: x + (p^2 - v^2)/(2dW) + p^2/(2dW) = 0, and p >= d*v (shown in the note) */
    double p = sqrt(fmax(0.0, (v * v - 2.0 * d * W * x) / 2.0));
    if (p <= F) {
        s->wander[0] = d * W;
        s->len_s[0] = fmax(0.0, (p - d * v) / W);
        s->wander[2] = -d * W;
        s->len_s[2] = p / W;
        return;
    }
    double peak = d * F;
    s->wander[0] = peak >= v ? W : -W;
    s->len_s[0] = fabs(peak - v) / W;
    double moved = (v + peak) / 2.0 * s->len_s[0] + d * F * F / (2.0 * W);
    s->len_s[1] = fmax(0.0, -(x + moved) / peak);
    s->wander[2] = -d * W;
    s->len_s[2] = F / W;
}

/* Restarts the spline at now_ns from its present state changed by doff_s and dfreq. */
static void accumulate(struct smooth *s, int64_t now_ns, double doff_s, double dfreq)
{
    double o, v, a;
    (void)eval(s, now_ns, &o, &v, &a);
    s->t0_ns = now_ns;
    s->off0_s = o + doff_s;
    s->freq0 = v + dfreq;
    s->last_update_ns = now_ns;
    solve(s);
}

double smooth_offset_s(const struct smooth *s, int64_t now_ns)
{
    double o, v, a;
    (void)eval(s, now_ns, &o, &v, &a);
    return o;
}

double smooth_freq(const struct smooth *s, int64_t now_ns)
{
    double o, v, a;
    (void)eval(s, now_ns, &o, &v, &a);
    return v;
}

int smooth_serving(const struct smooth *s, int64_t now_ns)
{
    double o, v, a;
    return s->active && !eval(s, now_ns, &o, &v, &a);
}

void smooth_freq_change(struct smooth *s, int64_t now_ns, double dfreq_ppm)
{
    /* the served time keeps its rate: what the clock gains more, the offset loses */
    if (s->active && !s->leap_only && dfreq_ppm != 0.0 && isfinite(dfreq_ppm))
        accumulate(s, now_ns, 0.0, -dfreq_ppm * 1e-6);
}

void smooth_offset_change(struct smooth *s, int64_t now_ns, double offset_s)
{
    if (s->active && !s->leap_only && offset_s != 0.0 && isfinite(offset_s))
        accumulate(s, now_ns, -offset_s, 0.0);
}

void smooth_leap(struct smooth *s, int64_t now_ns, int leap)
{
    /* an inserted second sets the clock back 1 s: the served time stays, 1 s ahead */
    if (s->active && leap != 0)
        accumulate(s, now_ns, leap > 0 ? 1.0 : -1.0, 0.0);
}

static void zero(struct smooth *s, int64_t now_ns)
{
    s->t0_ns = now_ns;
    s->off0_s = s->freq0 = 0.0;
    for (int i = 0; i < SMOOTH_PIECES; i++)
        s->len_s[i] = s->wander[i] = 0.0;
    s->last_update_ns = now_ns;
}

void smooth_step(struct smooth *s, int64_t now_ns)
{
    zero(s, now_ns);
}

void smooth_reset(struct smooth *s, int64_t now_ns)
{
    zero(s, now_ns);
}

int smooth_activate(struct smooth *s, int64_t now_ns)
{
    if (s->active)
        return 0;
    zero(s, now_ns);
    s->active = 1;
    return 1;
}

int smooth_skew_activates(const struct smooth *s, double skew_ppm)
{
    return skew_ppm / 10000.0 < s->max_wander * 1e6;
}

void smooth_report(const struct smooth *s, int64_t now_ns, struct smooth_report *r)
{
    double o, v, a;
    memset(r, 0, sizeof *r);
    r->active = s->active;
    r->leap_only = s->leap_only;
    int done = eval(s, now_ns, &o, &v, &a);
    r->offset_s = o;
    r->freq_ppm = v * 1e6;
    r->wander_ppm_per_s = a * 1e6;
    if (s->last_update_ns != 0 && now_ns > s->last_update_ns)
        r->last_update_ago_s = (double)(now_ns - s->last_update_ns) * 1e-9;
    if (!done)
        r->remaining_s = fmax(0.0, total_len(s) - elapsed_s(s, now_ns));
}
