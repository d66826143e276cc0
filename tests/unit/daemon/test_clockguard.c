/* daemon/clockguard: an EPERM from the clock driver switches to the null clock (the daemon
 * keeps running as with -x); -Q catches the first step without applying it, -q applies it. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/clockguard.h"

/* A driver standing in for the Linux clock: counts what reaches it, may refuse with EPERM. */
struct fake {
    int64_t now_ns;
    int eperm;
    int freq_calls, step_calls, leap_calls, sync_calls, tai_calls;
    int tai_err; /* what set_tai_s returns (-EINVAL: a kernel or simulator without it) */
    int tai_s;
    double last_step_s;
};

static int64_t f_read(void *ctx)
{
    return ((struct fake *)ctx)->now_ns;
}

static int f_freq(void *ctx, double ppm)
{
    struct fake *f = ctx;
    (void)ppm;
    f->freq_calls++;
    return f->eperm ? -EPERM : 0;
}

static int f_step(void *ctx, double s)
{
    struct fake *f = ctx;
    f->step_calls++;
    if (f->eperm)
        return -EPERM;
    f->last_step_s = s;
    f->now_ns += (int64_t)llround(s * 1e9);
    return 0;
}

static int f_leap(void *ctx, enum clock_leap leap)
{
    struct fake *f = ctx;
    (void)leap;
    f->leap_calls++;
    return f->eperm ? -EPERM : 0;
}

static int f_sync(void *ctx, int synced, double est, double max)
{
    struct fake *f = ctx;
    (void)synced;
    (void)est;
    (void)max;
    f->sync_calls++;
    return f->eperm ? -EPERM : 0;
}

static int f_tai(void *ctx, int tai_s)
{
    struct fake *f = ctx;
    f->tai_calls++;
    if (f->tai_err)
        return f->tai_err;
    f->tai_s = tai_s;
    return 0;
}

static struct clock_ops fake_ops(struct fake *f)
{
    return (struct clock_ops){.ctx = f,
                              .read_real_ns = f_read,
                              .set_freq_ppm = f_freq,
                              .step_s = f_step,
                              .set_leap = f_leap,
                              .set_sync_status = f_sync,
                              .max_freq_ppm = 100000.0,
                              .set_tai_s = f_tai};
}

static void test_eperm_switches_to_null(void **state)
{
    (void)state;
    struct fake f = {.now_ns = 1000000000000LL, .eperm = 1};
    struct clock_ops inner = fake_ops(&f);
    struct clockguard g;
    assert_int_equal(clockguard_init(&g, &inner, 0, f_read, &f), 0);
    struct clock_ops ops;
    clockguard_ops(&g, &ops);
    assert_false(g.using_null);
    assert_int_equal(clockguard_from_system_ns(&g, 5), 5);
    /* the refused write is retried on the null clock and succeeds */
    assert_int_equal(ops.set_freq_ppm(ops.ctx, 100.0), 0);
    assert_true(g.using_null);
    assert_int_equal(f.freq_calls, 1);
    /* from now on nothing reaches the driver, and time is the virtual clock's; a step is
     * refused (chronyd -x cannot step either) */
    assert_int_equal(ops.step_s(ops.ctx, 0.5), -EPERM);
    assert_int_equal(ops.set_leap(ops.ctx, CLOCK_LEAP_INSERT), 0);
    assert_int_equal(ops.set_sync_status(ops.ctx, 1, 0.001, 0.01), 0);
    assert_int_equal(f.step_calls, 0);
    assert_int_equal(f.leap_calls, 0);
    assert_int_equal(f.sync_calls, 0);
    f.now_ns += 10000000000LL; /* 10 s at +100 ppm: +1 ms */
    assert_int_equal(ops.read_real_ns(ops.ctx) - f.now_ns, 1000000LL);
    assert_true(fabs(clockguard_virtual_offset_s(&g, f.now_ns) - 0.001) < 1e-9);
    assert_int_equal(clockguard_from_system_ns(&g, f.now_ns), f.now_ns + 1000000LL);
    clockguard_fini(&g);
}

static void test_step_eperm_and_first_write_paths(void **state)
{
    (void)state;
    /* a step is the first write to be refused */
    struct fake f = {.now_ns = 0, .eperm = 1};
    struct clock_ops inner = fake_ops(&f);
    struct clockguard g;
    assert_int_equal(clockguard_init(&g, &inner, 0, f_read, &f), 0);
    struct clock_ops ops;
    clockguard_ops(&g, &ops);
    /* ... and the null clock is not stepped either (chronyd -x: "Could not step system
     * clock", the offset stays); later steps fail at once, without reaching the driver. */
    assert_int_equal(ops.step_s(ops.ctx, -2.0), -EPERM);
    assert_true(g.using_null);
    assert_int_equal(ops.read_real_ns(ops.ctx), 0);
    assert_int_equal(g.step_failures, 1);
    int calls = f.step_calls;
    assert_int_equal(ops.step_s(ops.ctx, 1.0), -EPERM);
    assert_int_equal(f.step_calls, calls);
    assert_int_equal(ops.read_real_ns(ops.ctx), 0);
    assert_int_equal(g.step_failures, 2);
    clockguard_fini(&g);
    /* a driver that works is used as is */
    struct fake ok = {.now_ns = 0};
    inner = fake_ops(&ok);
    assert_int_equal(clockguard_init(&g, &inner, 0, f_read, &ok), 0);
    clockguard_ops(&g, &ops);
    assert_int_equal(ops.step_s(ops.ctx, 1.5), 0);
    assert_int_equal(ok.step_calls, 1);
    assert_false(g.using_null);
    clockguard_fini(&g);
}

/* The TAI offset is optional: a refusal (EINVAL or EPERM) is returned but neither switches
 * to the null clock nor stops the other writes; accepted values reach the driver. */
static void test_tai_optional(void **state)
{
    (void)state;
    struct fake f = {.now_ns = 1000000000000LL};
    struct clock_ops inner = fake_ops(&f);
    struct clockguard g;
    assert_int_equal(clockguard_init(&g, &inner, 0, f_read, &f), 0);
    struct clock_ops ops;
    clockguard_ops(&g, &ops);
    assert_non_null(ops.set_tai_s);
    assert_int_equal(ops.set_tai_s(ops.ctx, 37), 0);
    assert_int_equal(f.tai_s, 37);
    assert_int_equal(g.tai_offset_s, 37);
    f.tai_err = -EPERM;
    assert_int_equal(ops.set_tai_s(ops.ctx, 38), -EPERM);
    f.tai_err = -EINVAL;
    assert_int_equal(ops.set_tai_s(ops.ctx, 38), -EINVAL);
    assert_false(g.using_null);
    assert_int_equal(g.tai_offset_s, 37);
    assert_int_equal(ops.set_freq_ppm(ops.ctx, 1.0), 0);
    assert_int_equal(f.freq_calls, 1);
    assert_int_equal(f.tai_calls, 3);
    clockguard_fini(&g);

    /* on the null clock (-x, or after an EPERM elsewhere) it is recorded there, not sent */
    struct fake f2 = {.now_ns = 0, .eperm = 1};
    inner = fake_ops(&f2);
    assert_int_equal(clockguard_init(&g, &inner, 0, f_read, &f2), 0);
    clockguard_ops(&g, &ops);
    assert_int_equal(ops.set_freq_ppm(ops.ctx, 1.0), 0);
    assert_true(g.using_null);
    assert_int_equal(ops.set_tai_s(ops.ctx, 37), 0);
    assert_int_equal(f2.tai_calls, 0);
    assert_int_equal(g.tai_offset_s, 37);
    clockguard_fini(&g);

    /* a driver without the operation */
    inner = fake_ops(&f);
    inner.set_tai_s = NULL;
    assert_int_equal(clockguard_init(&g, &inner, 0, f_read, &f), 0);
    clockguard_ops(&g, &ops);
    assert_int_equal(ops.set_tai_s(ops.ctx, 37), -ENOSYS);
    assert_int_equal(g.tai_offset_s, 0);
    clockguard_fini(&g);
}

static void test_oneshot(void **state)
{
    (void)state;
    struct fake f = {.now_ns = 0};
    struct clock_ops inner = fake_ops(&f);
    struct clockguard g;
    struct clock_ops ops;
    /* -Q: caught, never applied */
    assert_int_equal(clockguard_init(&g, &inner, 'Q', f_read, &f), 0);
    clockguard_ops(&g, &ops);
    assert_false(g.oneshot_done);
    assert_int_equal(ops.step_s(ops.ctx, 0.25), 0);
    assert_true(g.oneshot_done);
    assert_true(g.oneshot_offset_s == 0.25);
    assert_int_equal(f.step_calls, 0);
    clockguard_fini(&g);
    /* -q: caught and applied to the driver in use */
    assert_int_equal(clockguard_init(&g, &inner, 'q', f_read, &f), 0);
    clockguard_ops(&g, &ops);
    assert_int_equal(ops.step_s(ops.ctx, -0.125), 0);
    assert_true(g.oneshot_done);
    assert_true(g.oneshot_offset_s == -0.125);
    assert_int_equal(f.step_calls, 1);
    assert_true(f.last_step_s == -0.125);
    clockguard_fini(&g);
    /* -q -x: the null clock from the start; caught, not stepped (chronyd -q -x cannot step
     * either), the driver untouched */
    assert_int_equal(clockguard_init(&g, NULL, 'q', f_read, &f), 0);
    clockguard_ops(&g, &ops);
    assert_true(g.using_null);
    assert_int_equal(ops.step_s(ops.ctx, 1.0), 0);
    assert_true(g.oneshot_done);
    assert_true(g.oneshot_offset_s == 1.0);
    assert_int_equal(f.step_calls, 1);
    assert_int_equal(ops.read_real_ns(ops.ctx) - f.now_ns, 0);
    clockguard_fini(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eperm_switches_to_null),
        cmocka_unit_test(test_step_eperm_and_first_write_paths),
        cmocka_unit_test(test_oneshot),
        cmocka_unit_test(test_tai_optional),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
