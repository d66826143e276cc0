/* core/engine's saved registers (engine_source_export/import, the dump files' samples):
 * a register saved by one engine and loaded by a fresh one over the same clock (a restart)
 * gives the same estimates at once, for a kept (kernel) clock and for a virtual one. In
 * engine_world.h's world. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/ntp_time.h"
#include "base/prng.h"
#include "core/engine.h"
#include "engine_world.h"
#include "wire/ntp.h"

/* One engine runs an hour against a server, its register is saved; a second engine over the
 * same world (a restart: the kernel clock kept the first one's adjustment, or with kept = 0
 * the raw clock is the world's clock itself) loads it and must estimate the same offset
 * and frequency before any new packet. */
static void restart_keeps_estimates(int kept)
{
    struct world w;
    world_init(&w, 1, 21);
    w.x_s = 0.004;
    w.f0_ppm = 30.0;
    struct clock_ops ops = world_clock_ops(&w);
    struct engine_io io = {.ctx = &w, .send = world_send};
    struct engine_params p;
    engine_params_default(&p);
    p.mono_is_raw = !kept; /* as tempusd -x */
    w.e = engine_new(&p, &ops, 1, 0);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.iburst = 1;
    sp.maxpoll_log2 = 6;
    int id = world_add_src(&w, &sp, 1);
    assert_int_equal(id, 0);
    world_run(&w, &io, 3600 * 1000000000LL, 0);
    struct report_source before;
    assert_int_equal(engine_source_report(w.e, 0, w.t_ns, &before), 0);
    assert_true(before.n_samples >= 8);
    struct report_tracking tr;
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);

    struct engine_saved_sample saved[256];
    int n = engine_source_export(w.e, id, kept, w.t_ns, saved, 256);
    assert_int_equal(n, (int)before.n_samples);
    for (int k = 1; k < n; k++)
        assert_true(saved[k].real_ns > saved[k - 1].real_ns);
    assert_true(saved[n - 1].real_ns <= world_read_ns(&w));
    assert_int_equal(engine_source_export(w.e, id + 7, kept, w.t_ns, saved, 256), -ENOENT);
    /* A smaller buffer gets the newest samples. */
    struct engine_saved_sample few[3];
    assert_int_equal(engine_source_export(w.e, id, kept, w.t_ns, few, 3), 3);
    assert_int_equal(few[2].real_ns, saved[n - 1].real_ns);
    engine_free(w.e);

    /* Down for 60 s. A kept clock runs on with its adjustment; the virtual one (kept = 0)
     * vanishes: the world's clock is then the raw clock, so the world drops the
     * adjustment and its offset returns to the raw clock's. */
    double adj = w.adj_ppm;
    if (!kept) {
        w.x_s = 0.004 + 30.0e-6 * (double)w.t_ns * 1e-9;
        w.adj_ppm = 0.0;
    }
    world_advance(&w, w.t_ns + 60 * 1000000000LL);
    w.nq = 0;
    int64_t start = w.t_ns;
    struct engine_params p2;
    engine_params_default(&p2);
    p2.mono_is_raw = !kept;
    p2.have_initial_freq = 1;
    p2.initial_freq_ppm = tr.freq_ppm;
    p2.initial_skew_ppm = tr.skew_ppm;
    w.e = engine_new(&p2, &ops, 2, start);
    if (kept)
        assert_true(fabs(w.adj_ppm - adj) < 0.5); /* the drift file's value */
    id = world_add_src(&w, &sp, 1);
    assert_int_equal(engine_source_import(w.e, id, kept, saved, n, start), n);
    struct report_source after;
    assert_int_equal(engine_source_report(w.e, 0, start, &after), 0);
    assert_int_equal(after.n_samples, before.n_samples);
    assert_int_equal(after.reach, 0); /* not selectable before a reply */
    assert_true(after.since_sample_s >= 60 && after.since_sample_s < 200);
    assert_true(fabs(after.resid_freq_ppm - before.resid_freq_ppm) < 0.2);
    assert_true(fabs(after.skew_ppm - before.skew_ppm) < 0.05);
    /* The estimate of the local clock's offset now is the world's truth. */
    assert_true(fabs(after.est_offset_s - w.x_s) < 20e-6);

    /* Bad input leaves the register alone. */
    struct engine_saved_sample bad[2] = {saved[n - 1], saved[n - 2]};
    assert_int_equal(engine_source_import(w.e, id, kept, bad, 2, start), -EINVAL);
    bad[0] = saved[n - 2];
    bad[1] = saved[n - 1];
    bad[1].offset_s = NAN;
    assert_int_equal(engine_source_import(w.e, id, kept, bad, 2, start), -EINVAL);
    bad[1] = saved[n - 1];
    bad[1].real_ns = world_read_ns(&w) + 1000000000LL; /* from the future */
    assert_int_equal(engine_source_import(w.e, id, kept, bad, 2, start), -EINVAL);
    bad[1] = saved[n - 1];
    bad[1].stratum = 17;
    assert_int_equal(engine_source_import(w.e, id, kept, bad, 2, start), -EINVAL);
    assert_int_equal(engine_source_import(w.e, id, kept, bad, 0, start), -EINVAL);
    assert_int_equal(engine_source_import(w.e, id + 5, kept, saved, n, start), -ENOENT);
    assert_int_equal(engine_source_report(w.e, 0, start, &after), 0);
    assert_int_equal(after.n_samples, before.n_samples);

    /* And it synchronises from the first new reply, near the truth. */
    world_run(&w, &io, start + 20 * 1000000000LL, start);
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);
    assert_true(fabs(w.x_s) < 200e-6);
    engine_free(w.e);
}

static void test_restart_kernel_clock(void **state)
{
    (void)state;
    restart_keeps_estimates(1);
}

static void test_restart_virtual_clock(void **state)
{
    (void)state;
    restart_keeps_estimates(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_kernel_clock),
        cmocka_unit_test(test_restart_virtual_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
