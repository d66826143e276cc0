/* os/loop and os/signals: timers fire in order and not early, fds dispatch, cancel works,
 * a signal ends loop_run() through the flag. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "os/loop.h"
#include "os/signals.h"

struct rec {
    int order[8];
    int n;
    int64_t fired_at[8];
};

struct tctx {
    struct rec *rec;
    int tag;
};

static void on_timer(void *ctx, int64_t now)
{
    struct tctx *t = ctx;
    t->rec->fired_at[t->rec->n] = now;
    t->rec->order[t->rec->n++] = t->tag;
}

static void test_timers_order_and_not_early(void **state)
{
    (void)state;
    struct loop *l = loop_new();
    assert_non_null(l);
    struct rec rec = {0};
    struct tctx a = {&rec, 1}, b = {&rec, 2}, c = {&rec, 3};
    int64_t t0 = loop_mono_ns();
    assert_true(loop_add_timer(l, t0 + 30000000, on_timer, &b) > 0);
    assert_true(loop_add_timer(l, t0 + 10000000, on_timer, &a) > 0);
    int id_c = loop_add_timer(l, t0 + 20000000, on_timer, &c);
    assert_true(id_c > 0);
    assert_int_equal(loop_next_timer_mono_ns(l), t0 + 10000000);
    assert_int_equal(loop_cancel_timer(l, id_c), 0);
    assert_int_equal(loop_cancel_timer(l, id_c), -ENOENT);
    while (rec.n < 2 && loop_mono_ns() - t0 < 2000000000LL)
        assert_true(loop_run_once(l, 100000000) >= 0);
    assert_int_equal(rec.n, 2);
    assert_int_equal(rec.order[0], 1);
    assert_int_equal(rec.order[1], 2);
    assert_true(rec.fired_at[0] >= t0 + 10000000);
    assert_true(rec.fired_at[1] >= t0 + 30000000);
    /* and not absurdly late either (a loaded CI machine gets 500 ms) */
    assert_true(rec.fired_at[1] < t0 + 530000000);
    assert_int_equal(loop_next_timer_mono_ns(l), INT64_MAX);
    loop_free(l);
}

static void test_timer_table_full(void **state)
{
    (void)state;
    struct loop *l = loop_new();
    struct rec rec = {0};
    struct tctx a = {&rec, 1};
    for (int i = 0; i < LOOP_MAX_TIMERS; i++)
        assert_true(loop_add_timer(l, INT64_MAX - 1, on_timer, &a) > 0);
    assert_int_equal(loop_add_timer(l, 0, on_timer, &a), -ENOSPC);
    loop_free(l);
}

struct fdctx {
    int calls;
    char got;
};

static void on_readable(void *ctx, int fd)
{
    struct fdctx *f = ctx;
    f->calls++;
    assert_int_equal(read(fd, &f->got, 1), 1);
}

static void test_fd_dispatch(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct loop *l = loop_new();
    struct fdctx f = {0};
    assert_int_equal(loop_add_fd(l, p[0], on_readable, &f), 0);
    assert_int_equal(loop_add_fd(l, p[0], on_readable, &f), -EEXIST);
    /* nothing to read: waits the given time and dispatches nothing */
    int64_t t0 = loop_mono_ns();
    assert_int_equal(loop_run_once(l, 20000000), 0);
    assert_true(loop_mono_ns() - t0 >= 19000000);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(loop_run_once(l, 1000000000), 1);
    assert_int_equal(f.calls, 1);
    assert_int_equal(f.got, 'x');
    assert_int_equal(loop_remove_fd(l, p[0]), 0);
    assert_int_equal(loop_remove_fd(l, p[0]), -ENOENT);
    assert_int_equal(write(p[1], "y", 1), 1);
    assert_int_equal(loop_run_once(l, 10000000), 0);
    assert_int_equal(f.calls, 1);
    loop_free(l);
    close(p[0]);
    close(p[1]);
}

static int stop_on_signal(void *ctx)
{
    (void)ctx;
    return signals_pending() != 0;
}

static void raise_term(void *ctx, int64_t now)
{
    (void)ctx;
    (void)now;
    raise(SIGTERM);
}

static void test_signal_stops_loop(void **state)
{
    (void)state;
    assert_int_equal(signals_install(), 0);
    signals_clear();
    struct loop *l = loop_new();
    int64_t t0 = loop_mono_ns();
    assert_true(loop_add_timer(l, t0 + 5000000, raise_term, NULL) > 0);
    assert_int_equal(loop_run(l, stop_on_signal, NULL), 0);
    assert_int_equal(signals_pending(), SIGTERM);
    /* the process is still alive: the handler only set the flag */
    assert_true(loop_mono_ns() - t0 < 2000000000LL);
    signals_clear();
    assert_int_equal(signals_pending(), 0);
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_order_and_not_early),
        cmocka_unit_test(test_timer_table_full),
        cmocka_unit_test(test_fd_dispatch),
        cmocka_unit_test(test_signal_stops_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
