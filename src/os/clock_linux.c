/* os/clock_linux: clock_ops on clock_adjtime (see clock_linux.h). */
#include "os/clock_linux.h"

#include <errno.h>
#include <linux/capability.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

/* ADJ_FREQUENCY takes ppm in 16.16 fixed point, at most ±500 ppm (the kernel's MAXFREQ). */
#define FREQ_SCALE     65536.0
#define KERNEL_MAX_PPM 500.0
/* Kernel maxerror/esterror are in microseconds; chronyd caps what it reports at 16 s. */
#define MAX_ERROR_S 16.0

struct clocklinux {
    const struct clocklinux_sys *sys;
    int rtcsync;
    long nominal_tick_us; /* 1e6 / USER_HZ */
};

static int real_adjtime(void *ctx, struct timex *tx)
{
    (void)ctx;
    int r = clock_adjtime(CLOCK_REALTIME, tx);
    return r < 0 ? -errno : r;
}

static int64_t real_read_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

const struct clocklinux_sys clocklinux_real_sys = {NULL, real_adjtime, real_read_ns};

static long nominal_tick(void)
{
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        hz = 100;
    return 1000000L / hz;
}

int clocklinux_read_state(const struct clocklinux_sys *sys, struct clocklinux_state *st)
{
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    if (!sys)
        sys = &clocklinux_real_sys;
    int r = sys->adjtime(sys->ctx, &tx);
    if (r < 0)
        return r;
    memset(st, 0, sizeof *st);
    st->tick_us = tx.tick;
    /* (tick - nominal) microseconds per tick, USER_HZ ticks per second: */
    st->freq_ppm = (double)tx.freq / FREQ_SCALE +
                   (double)(tx.tick - nominal_tick()) * 1e6 / (double)nominal_tick();
    st->status = tx.status;
    st->maxerror_s = (double)tx.maxerror / 1e6;
    st->esterror_s = (double)tx.esterror / 1e6;
    st->state = r;
    st->pll_on = (tx.status & (STA_PLL | STA_FLL)) != 0;
    return 0;
}

int clocklinux_can_control(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data) != 0)
        return 0;
    return (data[CAP_SYS_TIME / 32].effective >> (CAP_SYS_TIME % 32)) & 1u;
}

struct clocklinux *clocklinux_new(const struct clocklinux_sys *sys, int rtcsync)
{
    struct clocklinux *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->sys = sys ? sys : &clocklinux_real_sys;
    c->rtcsync = rtcsync;
    c->nominal_tick_us = nominal_tick();
    return c;
}

void clocklinux_free(struct clocklinux *c)
{
    free(c);
}

/* Read-modify-write of the status bits: ADJ_STATUS replaces them all. */
static int update_status(struct clocklinux *c, int clear, int set, int extra_modes,
                         const struct timex *extra)
{
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    int r = c->sys->adjtime(c->sys->ctx, &tx);
    if (r < 0)
        return r;
    int status = (tx.status & ~clear) | set;
    if (extra)
        tx = *extra;
    else
        memset(&tx, 0, sizeof tx);
    tx.modes = (unsigned)(ADJ_STATUS | ADJ_NANO | extra_modes);
    tx.status = status;
    r = c->sys->adjtime(c->sys->ctx, &tx);
    return r < 0 ? r : 0;
}

int clocklinux_take_control(struct clocklinux *c)
{
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    /* Cancel any offset the kernel is still slewing (ADJ_OFFSET with PLL off is a plain
     * cancel), and switch the PLL/FLL and PPS discipline off: we set frequency ourselves. */
    tx.offset = 0;
    return update_status(c, STA_PLL | STA_FLL | STA_PPSFREQ | STA_PPSTIME | STA_INS | STA_DEL,
                         STA_UNSYNC, ADJ_OFFSET, &tx);
}

static int64_t op_read(void *ctx)
{
    struct clocklinux *c = ctx;
    return c->sys->read_real_ns(c->sys->ctx);
}

static int op_set_freq(void *ctx, double freq_ppm)
{
    struct clocklinux *c = ctx;
    if (!isfinite(freq_ppm))
        return -EINVAL;
    if (freq_ppm > CLOCKLINUX_MAX_FREQ_PPM)
        freq_ppm = CLOCKLINUX_MAX_FREQ_PPM;
    if (freq_ppm < -CLOCKLINUX_MAX_FREQ_PPM)
        freq_ppm = -CLOCKLINUX_MAX_FREQ_PPM;
    /* One microsecond more per tick is 1e6 / nominal_tick ppm (100 ppm at USER_HZ = 100):
     * tick takes whole steps of that, ADJ_FREQUENCY the remainder (always within ±500). */
    double ppm_per_tick = 1e6 / (double)c->nominal_tick_us;
    long tick_adj = (long)lround(freq_ppm / ppm_per_tick);
    double rest_ppm = freq_ppm - (double)tick_adj * ppm_per_tick;
    if (rest_ppm > KERNEL_MAX_PPM)
        rest_ppm = KERNEL_MAX_PPM;
    if (rest_ppm < -KERNEL_MAX_PPM)
        rest_ppm = -KERNEL_MAX_PPM;
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_FREQUENCY | ADJ_TICK;
    tx.freq = (long)lround(rest_ppm * FREQ_SCALE);
    tx.tick = c->nominal_tick_us + tick_adj;
    int r = c->sys->adjtime(c->sys->ctx, &tx);
    return r < 0 ? r : 0;
}

static int op_step(void *ctx, double offset_s)
{
    struct clocklinux *c = ctx;
    if (!isfinite(offset_s) || fabs(offset_s) > 1e9)
        return -EINVAL;
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_SETOFFSET | ADJ_NANO;
    /* The kernel wants a normalised timeval with tv_usec holding ns: 0 <= nsec < 1e9. */
    double sec = floor(offset_s);
    long nsec = lround((offset_s - sec) * 1e9);
    if (nsec >= 1000000000L) {
        sec += 1.0;
        nsec -= 1000000000L;
    }
    tx.time.tv_sec = (time_t)sec;
    tx.time.tv_usec = nsec;
    int r = c->sys->adjtime(c->sys->ctx, &tx);
    return r < 0 ? r : 0;
}

static int op_set_leap(void *ctx, enum clock_leap leap)
{
    struct clocklinux *c = ctx;
    int set = leap == CLOCK_LEAP_INSERT ? STA_INS : leap == CLOCK_LEAP_DELETE ? STA_DEL : 0;
    return update_status(c, STA_INS | STA_DEL, set, 0, NULL);
}

/* ADJ_TAI alone (not in ARCHITECTURE.md's surface, hence optional for the caller): the
 * kernel's TAI - UTC, s, in the constant field (chronyd sets it the same way). */
static int op_set_tai(void *ctx, int tai_offset_s)
{
    struct clocklinux *c = ctx;
    if (tai_offset_s < 0)
        return -EINVAL;
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_TAI;
    tx.constant = tai_offset_s;
    int r = c->sys->adjtime(c->sys->ctx, &tx);
    return r < 0 ? r : 0;
}

static long error_us(double s)
{
    if (!(s >= 0.0)) /* also NaN */
        s = MAX_ERROR_S;
    if (s > MAX_ERROR_S)
        s = MAX_ERROR_S;
    return (long)lround(s * 1e6);
}

static int op_set_sync_status(void *ctx, int synced, double est_error_s, double max_error_s)
{
    struct clocklinux *c = ctx;
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.esterror = error_us(est_error_s);
    tx.maxerror = error_us(max_error_s);
    /* Without rtcsync STA_UNSYNC stays set, so the kernel's 11-minute mode never writes the
     * RTC (chronyd's behaviour on Linux). */
    int unsync = !(synced && c->rtcsync);
    return update_status(c, unsync ? 0 : STA_UNSYNC, unsync ? STA_UNSYNC : 0,
                         ADJ_ESTERROR | ADJ_MAXERROR, &tx);
}

void clocklinux_ops(struct clocklinux *c, struct clock_ops *ops)
{
    memset(ops, 0, sizeof *ops);
    ops->ctx = c;
    ops->read_real_ns = op_read;
    ops->set_freq_ppm = op_set_freq;
    ops->step_s = op_step;
    ops->set_leap = op_set_leap;
    ops->set_sync_status = op_set_sync_status;
    ops->max_freq_ppm = CLOCKLINUX_MAX_FREQ_PPM;
    ops->set_tai_s = op_set_tai;
}
