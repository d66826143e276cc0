/* os/clock_linux against a fake clock_adjtime (every write path), one read-only call to the
 * real clock (modes = 0), and os/clock_null's virtual clock on a fake system clock. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "os/clock_linux.h"
#include "os/clock_null.h"

/* A kernel clock as far as the driver can tell: keeps the fields, logs each call. */
struct fake_kernel {
    long freq;
    long tick;
    int status;
    long maxerror, esterror;
    long tai; /* the kernel's TAI - UTC (constant with ADJ_TAI) */
    int64_t now_ns;
    struct timex calls[16];
    int ncalls;
    int fail_writes; /* -EPERM for every modes != 0 call */
};

static int fake_adjtime(void *ctx, struct timex *tx)
{
    struct fake_kernel *k = ctx;
    if (k->ncalls < 16)
        k->calls[k->ncalls] = *tx;
    k->ncalls++;
    if (tx->modes && k->fail_writes)
        return -EPERM;
    /* ADJ_STATUS without ADJ_NANO would flip the kernel to microsecond mode under anyone
     * else reading it: the driver must never do that. */
    if (tx->modes & ADJ_STATUS)
        assert_true(tx->modes & ADJ_NANO);
    if (tx->modes & ADJ_FREQUENCY)
        k->freq = tx->freq;
    if (tx->modes & ADJ_TICK)
        k->tick = tx->tick;
    if (tx->modes & ADJ_STATUS)
        k->status = tx->status;
    if (tx->modes & ADJ_MAXERROR)
        k->maxerror = tx->maxerror;
    if (tx->modes & ADJ_ESTERROR)
        k->esterror = tx->esterror;
    if (tx->modes & ADJ_TAI)
        k->tai = tx->constant;
    if (tx->modes & ADJ_SETOFFSET) {
        assert_true(tx->modes & ADJ_NANO);
        assert_true(tx->time.tv_usec >= 0 && tx->time.tv_usec < 1000000000L);
        k->now_ns += (int64_t)tx->time.tv_sec * 1000000000LL + tx->time.tv_usec;
    }
    tx->freq = k->freq;
    tx->tick = k->tick;
    tx->status = k->status;
    tx->maxerror = k->maxerror;
    tx->esterror = k->esterror;
    return TIME_OK;
}

static int64_t fake_read(void *ctx)
{
    return ((struct fake_kernel *)ctx)->now_ns;
}

static long nominal(void)
{
    return 1000000L / sysconf(_SC_CLK_TCK);
}

static void setup_fake(struct fake_kernel *k, struct clocklinux_sys *sys)
{
    memset(k, 0, sizeof *k);
    k->tick = nominal();
    k->status = STA_PLL | STA_UNSYNC | STA_NANO;
    k->now_ns = 1700000000LL * 1000000000LL;
    *sys = (struct clocklinux_sys){k, fake_adjtime, fake_read};
}

static void test_frequency_split_into_tick_and_freq(void **state)
{
    (void)state;
    struct fake_kernel k;
    struct clocklinux_sys sys;
    setup_fake(&k, &sys);
    struct clocklinux *c = clocklinux_new(&sys, 0);
    struct clock_ops ops;
    clocklinux_ops(c, &ops);
    assert_int_equal(k.ncalls, 0); /* creating the driver makes no call */
    double ppm_per_tick = 1e6 / (double)nominal();
    const double cases[] = {0.0, 12.5, -37.25, 480.0, -2345.678, 99999.0, -99999.0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(ops.set_freq_ppm(ops.ctx, cases[i]), 0);
        assert_true(labs(k.freq) <= 500L * 65536L);
        double got = (double)k.freq / 65536.0 + (double)(k.tick - nominal()) * ppm_per_tick;
        assert_true(fabs(got - cases[i]) < 1e-4);
        /* positive = the clock gains: the kernel's freq has the same sign convention */
        struct clocklinux_state st;
        assert_int_equal(clocklinux_read_state(&sys, &st), 0);
        assert_true(fabs(st.freq_ppm - cases[i]) < 1e-4);
    }
    /* beyond the range: clamped, not refused */
    assert_int_equal(ops.set_freq_ppm(ops.ctx, 5e5), 0);
    struct clocklinux_state st;
    assert_int_equal(clocklinux_read_state(&sys, &st), 0);
    assert_true(fabs(st.freq_ppm - CLOCKLINUX_MAX_FREQ_PPM) < 1e-3);
    assert_int_equal(ops.set_freq_ppm(ops.ctx, NAN), -EINVAL);
    clocklinux_free(c);
}

static void test_step_normalises_negative_offsets(void **state)
{
    (void)state;
    struct fake_kernel k;
    struct clocklinux_sys sys;
    setup_fake(&k, &sys);
    struct clocklinux *c = clocklinux_new(&sys, 0);
    struct clock_ops ops;
    clocklinux_ops(c, &ops);
    int64_t t0 = ops.read_real_ns(ops.ctx);
    assert_int_equal(ops.step_s(ops.ctx, -1.25), 0);
    struct timex *tx = &k.calls[k.ncalls - 1];
    assert_int_equal(tx->time.tv_sec, -2);
    assert_int_equal(tx->time.tv_usec, 750000000L);
    assert_int_equal(ops.read_real_ns(ops.ctx) - t0, -1250000000LL);
    assert_int_equal(ops.step_s(ops.ctx, 0.000000999), 0);
    assert_int_equal(k.calls[k.ncalls - 1].time.tv_usec, 999L);
    assert_int_equal(ops.step_s(ops.ctx, INFINITY), -EINVAL);
    clocklinux_free(c);
}

static void test_take_control_leap_and_sync_status(void **state)
{
    (void)state;
    struct fake_kernel k;
    struct clocklinux_sys sys;
    setup_fake(&k, &sys);
    k.status |= STA_PPSFREQ | STA_INS;
    struct clocklinux *c = clocklinux_new(&sys, 0);
    struct clock_ops ops;
    clocklinux_ops(c, &ops);
    assert_int_equal(clocklinux_take_control(c), 0);
    assert_int_equal(k.status & (STA_PLL | STA_FLL | STA_PPSFREQ | STA_INS), 0);
    assert_true(k.status & STA_UNSYNC);

    assert_int_equal(ops.set_leap(ops.ctx, CLOCK_LEAP_INSERT), 0);
    assert_true(k.status & STA_INS);
    assert_false(k.status & STA_DEL);
    assert_int_equal(ops.set_leap(ops.ctx, CLOCK_LEAP_DELETE), 0);
    assert_true(k.status & STA_DEL);
    assert_false(k.status & STA_INS);
    assert_int_equal(ops.set_leap(ops.ctx, CLOCK_LEAP_NONE), 0);
    assert_int_equal(k.status & (STA_INS | STA_DEL), 0);

    /* without rtcsync STA_UNSYNC stays set even when synchronised; errors still go in */
    assert_int_equal(ops.set_sync_status(ops.ctx, 1, 0.0015, 0.25), 0);
    assert_true(k.status & STA_UNSYNC);
    assert_int_equal(k.esterror, 1500);
    assert_int_equal(k.maxerror, 250000);
    clocklinux_free(c);

    c = clocklinux_new(&sys, 1);
    clocklinux_ops(c, &ops);
    assert_int_equal(ops.set_sync_status(ops.ctx, 1, 0.001, 100.0), 0);
    assert_false(k.status & STA_UNSYNC);
    assert_int_equal(k.maxerror, 16000000); /* capped at 16 s */
    assert_int_equal(ops.set_sync_status(ops.ctx, 0, 0.001, 0.1), 0);
    assert_true(k.status & STA_UNSYNC);
    clocklinux_free(c);
}

/* leapsectz's TAI offset: one ADJ_TAI call alone (no status, frequency or offset touched),
 * the value in the constant field; a refusal is passed up for the caller to log. */
static void test_tai_offset(void **state)
{
    (void)state;
    struct fake_kernel k;
    struct clocklinux_sys sys;
    setup_fake(&k, &sys);
    k.freq = 12345;
    struct clocklinux *c = clocklinux_new(&sys, 0);
    struct clock_ops ops;
    clocklinux_ops(c, &ops);
    assert_non_null(ops.set_tai_s);
    int status = k.status;
    assert_int_equal(ops.set_tai_s(ops.ctx, 37), 0);
    assert_int_equal(k.ncalls, 1);
    assert_int_equal(k.calls[0].modes, ADJ_TAI);
    assert_int_equal(k.tai, 37);
    assert_int_equal(k.status, status);
    assert_int_equal(k.freq, 12345);
    assert_int_equal(ops.set_tai_s(ops.ctx, -1), -EINVAL);
    assert_int_equal(k.ncalls, 1);
    k.fail_writes = 1;
    assert_int_equal(ops.set_tai_s(ops.ctx, 36), -EPERM);
    assert_int_equal(k.tai, 37);
    clocklinux_free(c);
}

static void test_eperm_is_reported(void **state)
{
    (void)state;
    struct fake_kernel k;
    struct clocklinux_sys sys;
    setup_fake(&k, &sys);
    k.fail_writes = 1;
    struct clocklinux *c = clocklinux_new(&sys, 0);
    struct clock_ops ops;
    clocklinux_ops(c, &ops);
    assert_int_equal(clocklinux_take_control(c), -EPERM);
    assert_int_equal(ops.set_freq_ppm(ops.ctx, 1.0), -EPERM);
    assert_int_equal(ops.step_s(ops.ctx, 1.0), -EPERM);
    clocklinux_free(c);
}

/* The only call to the real clock in the tests: modes = 0 reads. */
static void test_read_real_state(void **state)
{
    (void)state;
    struct clocklinux_state st;
    assert_int_equal(clocklinux_read_state(NULL, &st), 0);
    assert_true(st.tick_us > 0);
    assert_true(fabs(st.freq_ppm) < 200000.0);
    assert_true(st.state >= TIME_OK && st.state <= TIME_ERROR);
    int can = clocklinux_can_control();
    assert_true(can == 0 || can == 1);
}

struct fake_sys {
    int64_t now_ns;
};

static int64_t fake_system(void *ctx)
{
    return ((struct fake_sys *)ctx)->now_ns;
}

static void test_null_clock_virtual_offset(void **state)
{
    (void)state;
    struct fake_sys s = {1000LL * 1000000000LL};
    struct clocknull *c = clocknull_new(fake_system, &s);
    struct clock_ops ops;
    clocknull_ops(c, &ops);
    assert_int_equal(ops.read_real_ns(ops.ctx), s.now_ns);
    /* +100 ppm for 10 s = +1 ms ahead of the system clock */
    assert_int_equal(ops.set_freq_ppm(ops.ctx, 100.0), 0);
    s.now_ns += 10LL * 1000000000LL;
    assert_int_equal(ops.read_real_ns(ops.ctx) - s.now_ns, 1000000);
    /* frequency change keeps the accumulated offset */
    assert_int_equal(ops.set_freq_ppm(ops.ctx, -50.0), 0);
    s.now_ns += 2LL * 1000000000LL;
    assert_int_equal(ops.read_real_ns(ops.ctx) - s.now_ns, 1000000 - 100000);
    assert_true(fabs(clocknull_offset_s(c, s.now_ns) - 0.0009) < 1e-12);
    assert_true(fabs(clocknull_freq_ppm(c) + 50.0) < 1e-12);
    /* a step moves only the virtual clock */
    assert_int_equal(ops.step_s(ops.ctx, -0.5), 0);
    assert_int_equal(ops.read_real_ns(ops.ctx) - s.now_ns, 900000 - 500000000);
    /* kernel timestamps map through the same model */
    assert_int_equal(clocknull_from_system_ns(c, s.now_ns), s.now_ns + 900000 - 500000000);
    assert_int_equal(ops.set_leap(ops.ctx, CLOCK_LEAP_INSERT), 0);
    assert_int_equal(clocknull_leap(c), CLOCK_LEAP_INSERT);
    assert_int_equal(ops.set_sync_status(ops.ctx, 1, 0.001, 0.01), 0);
    assert_int_equal(clocknull_synced(c), 1);
    /* the TAI offset is recorded, the virtual clock does not move */
    assert_int_equal(clocknull_tai_s(c), 0);
    assert_int_equal(ops.set_tai_s(ops.ctx, 37), 0);
    assert_int_equal(clocknull_tai_s(c), 37);
    assert_int_equal(ops.read_real_ns(ops.ctx) - s.now_ns, 900000 - 500000000);
    assert_int_equal(ops.set_freq_ppm(ops.ctx, NAN), -EINVAL);
    clocknull_free(c);
}

static void test_null_clock_default_reads_system(void **state)
{
    (void)state;
    struct clocknull *c = clocknull_new(NULL, NULL);
    struct clock_ops ops;
    clocknull_ops(c, &ops);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t sys_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    int64_t v = ops.read_real_ns(ops.ctx);
    assert_true(v - sys_ns >= 0 && v - sys_ns < 100000000LL);
    clocknull_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frequency_split_into_tick_and_freq),
        cmocka_unit_test(test_step_normalises_negative_offsets),
        cmocka_unit_test(test_take_control_leap_and_sync_status),
        cmocka_unit_test(test_tai_offset),
        cmocka_unit_test(test_eperm_is_reported),
        cmocka_unit_test(test_read_real_state),
        cmocka_unit_test(test_null_clock_virtual_offset),
        cmocka_unit_test(test_null_clock_default_reads_system),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
