/* The run-time engine changes behind chronyc makestep THRESHOLD LIMIT, maxupdateskew, dfreq,
 * doffset, selectopts, offset and reset sources: each through cmdsrv (request bytes in, status
 * out) against a real engine synchronised in a small in-test world (a clock with an offset
 * and a frequency error, one or two servers answering from true time over a 50 us link), and
 * each checked by its effect on the clock or the reports. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/ntp_time.h"
#include "core/engine.h"
#include "daemon/cmdsrv.h"
#include "wire/cmdmon.h"
#include "wire/ntp.h"

#include "../core/engine_world.h"

#define SEC 1000000000LL

/* The engine in tests/unit/core's world, and the control server under test. */
struct fixture {
    struct world w;
    struct cmdsrv *s;
    int changed; /* engine_changed hook calls */
};

/* Two servers answering from true time over a 50 us link each way, no jitter. */
static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    world_init(&f->w, 2, 1);
    for (int i = 0; i < 2; i++)
        f->w.jit_up_s[i] = f->w.jit_down_s[i] = 0.0;
}

static void run_until(struct fixture *f, int64_t end_ns)
{
    (void)world_run(&f->w, &f->w.io, end_ns, end_ns);
}

static void on_changed(void *ctx)
{
    struct fixture *f = ctx;
    f->changed++;
}

/* The engine with nsrv servers (192.0.2.1, .2) at minpoll/maxpoll 0 with iburst. */
static void world_new(struct fixture *f, const struct engine_params *p, int nsrv)
{
    /* The world's mono clock is true time: it does not follow the adjustment. */
    struct engine_params ep = *p;
    ep.mono_is_raw = 1;
    assert_non_null(world_engine_new(&f->w, &ep, 3));
    for (int i = 0; i < nsrv; i++) {
        struct engine_source_params sp;
        engine_source_params_default(&sp);
        sp.iburst = 1;
        sp.minpoll_log2 = 0;
        sp.maxpoll_log2 = 0;
        struct addr a = {.family = ADDR_INET4, .bytes = {192, 0, 2, (uint8_t)(i + 1)}, .port = 123};
        char name[16];
        snprintf(name, sizeof name, "192.0.2.%d", i + 1);
        assert_int_equal(engine_add_source(f->w.e, &sp, &a, name, 0), i);
    }
    struct cmdsrv_params cp;
    memset(&cp, 0, sizeof cp);
    cp.seed = 5;
    struct cmdsrv_hooks h = {.ctx = f, .engine_changed = on_changed};
    f->s = cmdsrv_new(&cp, f->w.e, NULL, &h);
    assert_non_null(f->s);
}

/* Both servers with default engine parameters, run for 20 s: synchronised (tr). */
static void synced_pair(struct fixture *f, struct report_tracking *tr)
{
    fixture_init(f);
    struct engine_params p;
    engine_params_default(&p);
    world_new(f, &p, 2);
    run_until(f, 20 * SEC);
    engine_tracking(f->w.e, f->w.t_ns, tr);
    assert_true(tr->synced);
}

static void world_free(struct fixture *f)
{
    cmdsrv_free(f->s);
    engine_free(f->w.e);
}

/* Sends req (command set by the caller's body) over the Unix socket; returns the status. */
static int command(struct fixture *f, unsigned code, struct cmdmon_request *body)
{
    uint8_t buf[1024], out[CMDMON_MAX_REP_LEN];
    body->version = CMDMON_PROTO_VERSION;
    body->command = (uint16_t)code;
    body->sequence = 77;
    int n = cmdmon_request_encode(body, buf, sizeof buf);
    assert_true(n > 0);
    size_t m = cmdsrv_handle(f->s, CMDSRV_UNIX, NULL, buf, (size_t)n, f->w.t_ns,
                             world_read_ns(&f->w), out, sizeof out);
    assert_true(m > 0 && m <= (size_t)n);
    struct cmdmon_reply rep;
    assert_int_equal(cmdmon_reply_decode(out, m, &rep), CMDMON_REP_OK);
    assert_int_equal(rep.command, code);
    return rep.status;
}

static void set_ip(struct cmdmon_ip *ip, int last)
{
    memset(ip, 0, sizeof *ip);
    ip->family = CMDMON_FAMILY_INET4;
    ip->addr[0] = 192;
    ip->addr[1] = 0;
    ip->addr[2] = 2;
    ip->addr[3] = (uint8_t)last;
}

/* makestep THRESHOLD LIMIT: without a makestep directive a 2 s error is slewed; limit 0 still
 * forbids steps; limit -1 lets the next update step it away. */
static void test_makestep(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.w.x_s = 2.0;
    struct engine_params p;
    engine_params_default(&p);
    world_new(&f, &p, 1);
    struct cmdmon_request q;
    memset(&q, 0, sizeof q);
    q.u.makestep.threshold_s = 0.1;
    q.u.makestep.limit = 0;
    assert_int_equal(command(&f, CMDMON_REQ_MODIFY_MAKESTEP, &q), CMDMON_STT_SUCCESS);
    assert_true(f.changed > 0);
    run_until(&f, 6 * SEC);
    assert_int_equal(f.w.steps, 0);
    assert_true(f.w.x_s > 1.0); /* slewing at most 83333 ppm */
    memset(&q, 0, sizeof q);
    q.u.makestep.threshold_s = 0.1;
    q.u.makestep.limit = -1;
    assert_int_equal(command(&f, CMDMON_REQ_MODIFY_MAKESTEP, &q), CMDMON_STT_SUCCESS);
    run_until(&f, 12 * SEC);
    assert_int_equal(f.w.steps, 1);
    assert_true(fabs(f.w.x_s) < 0.01);
    /* Limit 5 from now (more than 5 updates were made): the limit counts updates from the
     * command, not from the start. */
    struct report_tracking tr;
    engine_tracking(f.w.e, f.w.t_ns, &tr);
    assert_true(tr.n_updates > 5);
    assert_int_equal(engine_set_makestep(f.w.e, 0.1, 5), 0);
    f.w.x_s += 1.0;
    run_until(&f, 17 * SEC);
    assert_int_equal(f.w.steps, 2);
    assert_int_equal(engine_set_makestep(f.w.e, NAN, 1), -EINVAL);
    world_free(&f);
}

/* makestep (the command): steps at the next update; with the clock not controlled (-x)
 * FAILED and nothing moves, as chronyd -x 4.3 answers ("500 Failure"). */
static void test_makestep_now(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.w.x_s = 2.0;
    struct engine_params p;
    engine_params_default(&p);
    world_new(&f, &p, 1);
    run_until(&f, 5 * SEC);
    assert_true(f.w.x_s > 1.0); /* slewing */
    struct cmdsrv_params cp;
    memset(&cp, 0, sizeof cp);
    cp.seed = 6;
    cp.clock_fixed = 1;
    struct cmdsrv *plain = f.s;
    f.s = cmdsrv_new(&cp, f.w.e, NULL, NULL);
    assert_non_null(f.s);
    struct cmdmon_request q;
    memset(&q, 0, sizeof q);
    assert_int_equal(command(&f, CMDMON_REQ_MAKESTEP, &q), CMDMON_STT_FAILED);
    run_until(&f, 7 * SEC);
    assert_int_equal(f.w.steps, 0);
    cmdsrv_free(f.s);
    f.s = plain;
    assert_int_equal(command(&f, CMDMON_REQ_MAKESTEP, &q), CMDMON_STT_SUCCESS);
    run_until(&f, 9 * SEC);
    assert_int_equal(f.w.steps, 1);
    assert_true(fabs(f.w.x_s) < 0.01);
    world_free(&f);
}

/* maxupdateskew 0: no estimate is good enough to change the frequency, so a 50 ppm error is
 * never learnt; the default learns it. A negative value is refused. */
static void test_maxupdateskew(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        struct fixture f;
        fixture_init(&f);
        f.w.f0_ppm = 50.0;
        struct engine_params p;
        engine_params_default(&p);
        world_new(&f, &p, 1);
        struct cmdmon_request q;
        memset(&q, 0, sizeof q);
        q.u.fval = k == 0 ? 0.0 : 1000.0;
        assert_int_equal(command(&f, CMDMON_REQ_MODIFY_MAXUPDATESKEW, &q), CMDMON_STT_SUCCESS);
        run_until(&f, 60 * SEC);
        struct report_tracking tr;
        engine_tracking(f.w.e, f.w.t_ns, &tr);
        assert_true(tr.synced);
        if (k == 0)
            assert_true(fabs(tr.freq_ppm) < 1e-9);
        else
            assert_true(fabs(tr.freq_ppm - 50.0) < 2.0);
        assert_int_equal(engine_set_maxupdateskew(f.w.e, -1.0), -EINVAL);
        /* reselectdist: accepted as chronyd does; a negative distance is refused. */
        memset(&q, 0, sizeof q);
        q.u.fval = 0.01;
        assert_int_equal(command(&f, CMDMON_REQ_RESELECTDISTANCE, &q), CMDMON_STT_SUCCESS);
        q.u.fval = -1.0;
        assert_int_equal(command(&f, CMDMON_REQ_RESELECTDISTANCE, &q), CMDMON_STT_FAILED);
        assert_int_equal(engine_set_reselectdist(f.w.e, NAN), -EINVAL);
        world_free(&f);
    }
}

/* dfreq and doffset, as chronyd -x 4.3 showed: `dfreq 10` makes tracking's frequency 10 ppm
 * higher (the clock is slowed by 10 ppm); `doffset 0.5` takes 0.5 s off the correction
 * still to make (a clock 2 s slow becomes 1.5 s slow) and slews the clock back by 0.5 s. */
static void test_dfreq_doffset(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    struct engine_params p;
    engine_params_default(&p);
    world_new(&f, &p, 1);
    run_until(&f, 20 * SEC);
    struct report_tracking t0, t1;
    engine_tracking(f.w.e, f.w.t_ns, &t0);
    assert_true(t0.synced);
    double adj0 = f.w.adj_ppm;
    struct cmdmon_request q;
    memset(&q, 0, sizeof q);
    q.u.fval = 10.0;
    assert_int_equal(command(&f, CMDMON_REQ_DFREQ, &q), CMDMON_STT_SUCCESS);
    engine_tracking(f.w.e, f.w.t_ns, &t1);
    assert_true(fabs(t1.freq_ppm - t0.freq_ppm - 10.0) < 1e-3);
    assert_true(fabs(f.w.adj_ppm - (adj0 - 10.0)) < 1e-3);

    /* doffset with the source offline (no update replaces the slew): the correction to make
     * becomes 0.5 s less, and the clock is slewed back by 0.5 s within 10 s. */
    assert_int_equal(engine_set_online(f.w.e, 0, 0, f.w.t_ns), 0);
    run_until(&f, 21 * SEC); /* the last reply arrives; the last slew ends */
    engine_tracking(f.w.e, f.w.t_ns, &t0);
    double x0 = f.w.x_s;
    memset(&q, 0, sizeof q);
    q.u.fval = 0.5;
    assert_int_equal(command(&f, CMDMON_REQ_DOFFSET2, &q), CMDMON_STT_SUCCESS);
    engine_tracking(f.w.e, f.w.t_ns, &t1);
    assert_true(fabs(t1.current_correction_s - (t0.current_correction_s - 0.5)) < 1e-3);
    run_until(&f, 30 * SEC);
    assert_true(fabs(f.w.x_s - x0 + 0.5) < 0.01);
    /* A second doffset adds to the slew still running. */
    memset(&q, 0, sizeof q);
    q.u.fval = -0.3;
    assert_int_equal(command(&f, CMDMON_REQ_DOFFSET2, &q), CMDMON_STT_SUCCESS);
    memset(&q, 0, sizeof q);
    q.u.fval = -0.2;
    assert_int_equal(command(&f, CMDMON_REQ_DOFFSET2, &q), CMDMON_STT_SUCCESS);
    engine_tracking(f.w.e, f.w.t_ns, &t1);
    assert_true(fabs(t1.current_correction_s - 0.5) < 1e-3);
    run_until(&f, 40 * SEC);
    assert_true(fabs(f.w.x_s - x0) < 0.01);
    assert_int_equal(engine_adjust_freq(f.w.e, NAN, f.w.t_ns), -EINVAL);
    assert_int_equal(engine_adjust_offset(f.w.e, NAN, f.w.t_ns), -EINVAL);
    world_free(&f);
}

static struct report_source source(struct fixture *f, int i)
{
    struct report_source r;
    assert_int_equal(engine_source_report(f->w.e, i, f->w.t_ns, &r), 0);
    return r;
}

/* selectopts (4.4+ request): +noselect makes the selected source unselectable at once,
 * -noselect gives it back, +prefer/+trust/+require show in select data; an unknown address or
 * a refclock (UNSPEC + ref_id) is NOSUCHSOURCE. */
static void test_selectopts(void **state)
{
    (void)state;
    struct fixture f;
    struct report_tracking tr;
    synced_pair(&f, &tr);
    int sel = tr.selected_source_id;
    assert_true(sel == 0 || sel == 1);
    assert_int_equal(source(&f, sel).state, REPORT_STATE_SELECTED);

    struct cmdmon_request q;
    memset(&q, 0, sizeof q);
    set_ip(&q.u.selectopts.address, sel + 1);
    q.u.selectopts.mask = CMDMON_SELECT_NOSELECT;
    q.u.selectopts.options = CMDMON_ADD_FLAG_NOSELECT;
    assert_int_equal(command(&f, CMDMON_REQ_MODIFY_SELECTOPTS, &q), CMDMON_STT_SUCCESS);
    struct report_source r = source(&f, sel);
    assert_int_equal(r.state, REPORT_STATE_NONSELECTABLE);
    assert_int_equal(r.conf_options & REPORT_OPT_NOSELECT, REPORT_OPT_NOSELECT);
    run_until(&f, 25 * SEC);
    engine_tracking(f.w.e, f.w.t_ns, &tr);
    assert_int_equal(tr.selected_source_id, 1 - sel); /* the other one took over */

    /* -noselect +prefer +trust +require: mask 0xF, options prefer|trust|require. */
    memset(&q, 0, sizeof q);
    set_ip(&q.u.selectopts.address, sel + 1);
    q.u.selectopts.mask = 0xF;
    q.u.selectopts.options =
        CMDMON_ADD_FLAG_PREFER | CMDMON_ADD_FLAG_TRUST | CMDMON_ADD_FLAG_REQUIRE;
    assert_int_equal(command(&f, CMDMON_REQ_MODIFY_SELECTOPTS, &q), CMDMON_STT_SUCCESS);
    r = source(&f, sel);
    assert_int_equal(r.conf_options, REPORT_OPT_PREFER | REPORT_OPT_TRUST | REPORT_OPT_REQUIRE);
    assert_true(r.state != REPORT_STATE_NONSELECTABLE);
    /* Options outside the mask are left alone. */
    memset(&q, 0, sizeof q);
    set_ip(&q.u.selectopts.address, sel + 1);
    q.u.selectopts.mask = CMDMON_SELECT_TRUST;
    q.u.selectopts.options = CMDMON_ADD_FLAG_NOSELECT;
    assert_int_equal(command(&f, CMDMON_REQ_MODIFY_SELECTOPTS, &q), CMDMON_STT_SUCCESS);
    assert_int_equal(source(&f, sel).conf_options, REPORT_OPT_PREFER | REPORT_OPT_REQUIRE);
    run_until(&f, 30 * SEC);
    engine_tracking(f.w.e, f.w.t_ns, &tr);
    assert_int_equal(tr.selected_source_id, sel); /* prefer wins it back */

    memset(&q, 0, sizeof q);
    set_ip(&q.u.selectopts.address, 9);
    q.u.selectopts.mask = CMDMON_SELECT_NOSELECT;
    assert_int_equal(command(&f, CMDMON_REQ_MODIFY_SELECTOPTS, &q), CMDMON_STT_NOSUCHSOURCE);
    memset(&q, 0, sizeof q);
    q.u.selectopts.ref_id = 0x47505300; /* "GPS": no refclocks */
    q.u.selectopts.mask = CMDMON_SELECT_TRUST;
    assert_int_equal(command(&f, CMDMON_REQ_MODIFY_SELECTOPTS, &q), CMDMON_STT_NOSUCHSOURCE);
    assert_int_equal(engine_set_select_opts(f.w.e, 42, 1, 1, f.w.t_ns), -ENOENT);
    world_free(&f);
}

/* offset (4.6+ request): a server 0.2 s ahead, corrected with `offset 192.0.2.1 -0.2`, is
 * taken as exact: the kept samples move with it (no jump in the estimate) and new ones agree. */
static void test_source_offset(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.w.srv_offset_s[0] = 0.2;
    struct engine_params p;
    engine_params_default(&p);
    world_new(&f, &p, 1);
    run_until(&f, 4 * SEC);
    assert_int_equal(engine_set_online(f.w.e, 0, 0, f.w.t_ns), 0); /* freeze the samples */
    struct report_source r0 = source(&f, 0);
    assert_true(r0.n_samples >= 2);
    struct cmdmon_request q;
    memset(&q, 0, sizeof q);
    set_ip(&q.u.offset.address, 1);
    q.u.offset.new_offset_s = -0.2;
    assert_int_equal(command(&f, CMDMON_REQ_MODIFY_OFFSET, &q), CMDMON_STT_SUCCESS);
    struct report_source r1 = source(&f, 0);
    /* est_offset is the local clock against the source: it gains 0.2 s. */
    assert_true(fabs(r1.est_offset_s - r0.est_offset_s - 0.2) < 1e-6);
    assert_true(fabs(r1.latest_meas_s - r0.latest_meas_s - 0.2) < 1e-6);
    assert_int_equal(r1.n_samples, r0.n_samples);
    assert_int_equal(engine_set_online(f.w.e, 0, 1, f.w.t_ns), 0);
    run_until(&f, 40 * SEC);
    /* The clock now follows the corrected source: true time (x = 0), not 0.2 s ahead. */
    assert_true(fabs(f.w.x_s) < 0.01);
    memset(&q, 0, sizeof q);
    set_ip(&q.u.offset.address, 3);
    assert_int_equal(command(&f, CMDMON_REQ_MODIFY_OFFSET, &q), CMDMON_STT_NOSUCHSOURCE);
    assert_int_equal(engine_set_source_offset(f.w.e, 0, NAN), -EINVAL);
    world_free(&f);
}

/* reset sources: as chronyd -x 4.3 showed, every source loses its samples and reach and the
 * daemon is unsynchronised at once; it synchronises again from new samples. */
static void test_reset_sources(void **state)
{
    (void)state;
    struct fixture f;
    struct report_tracking tr;
    synced_pair(&f, &tr);
    struct cmdmon_request q;
    memset(&q, 0, sizeof q);
    assert_int_equal(command(&f, CMDMON_REQ_RESET_SOURCES, &q), CMDMON_STT_SUCCESS);
    engine_tracking(f.w.e, f.w.t_ns, &tr);
    assert_false(tr.synced);
    assert_int_equal(tr.leap_status, 3);
    for (int i = 0; i < 2; i++) {
        struct report_source r = source(&f, i);
        assert_int_equal(r.reach, 0);
        assert_int_equal(r.n_samples, 0);
        assert_int_equal(r.state, REPORT_STATE_NONSELECTABLE);
    }
    run_until(&f, 30 * SEC);
    engine_tracking(f.w.e, f.w.t_ns, &tr);
    assert_true(tr.synced);
    world_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_makestep),      cmocka_unit_test(test_makestep_now),
        cmocka_unit_test(test_maxupdateskew), cmocka_unit_test(test_dfreq_doffset),
        cmocka_unit_test(test_selectopts),    cmocka_unit_test(test_source_offset),
        cmocka_unit_test(test_reset_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
