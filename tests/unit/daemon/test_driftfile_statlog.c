/* daemon/driftfile and daemon/statlog: chrony's formats byte for byte (lines captured from
 * Debian's chronyd 4.3 on loopback), banners, and the drift file's round trip. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/driftfile.h"
#include "daemon/statlog.h"
#include "os/files.h"

#include "../addr_util.h"

/* 2026-11-25 18:35:37 UTC */
#define T_NS (1795631737LL * 1000000000LL)

static void test_driftfile_format_and_parse(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(driftfile_format(buf, sizeof buf, -12.345678, 0.5), 42);
    assert_string_equal(buf, "          -12.345678             0.500000\n");
    double f, s;
    assert_int_equal(driftfile_parse(buf, &f, &s), 0);
    assert_true(fabs(f + 12.345678) < 1e-9);
    assert_true(fabs(s - 0.5) < 1e-9);
    assert_int_equal(driftfile_parse("1.0\n", &f, &s), -1);
    assert_int_equal(driftfile_parse("", &f, &s), -1);
    assert_int_equal(driftfile_parse("nan 1", &f, &s), -1);
    assert_int_equal(driftfile_parse("600000 1", &f, &s), -1);
    assert_int_equal(driftfile_parse("1 -1", &f, &s), -1);

    char dir[] = "/tmp/tempus-test-drift-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/drift", dir);
    assert_int_equal(driftfile_load(path, &f, &s), -ENOENT);
    assert_int_equal(driftfile_save(path, 3.25, 0.125), 0);
    assert_int_equal(driftfile_load(path, &f, &s), 0);
    assert_true(f == 3.25 && s == 0.125);
    assert_int_equal(files_write_atomic(path, "garbage", 7), 0);
    assert_int_equal(driftfile_load(path, &f, &s), -EINVAL);
    unlink(path);
    rmdir(dir);
}

static void test_line_formats(void **state)
{
    (void)state;
    char buf[256];
    struct statlog_measurement m = {
        .real_ns = T_NS,
        .remote = tu_v4(127, 0, 0, 1),
        .leap = 'N',
        .stratum = 2,
        .tests = 0x3ff,
        .local_poll = -2,
        .remote_poll = 0,
        .score = 1.0,
        .offset_s = -1.881e-06,
        .peer_delay_s = 8.267e-06,
        .peer_disp_s = 8.703e-07,
        .ref_id = 0x7F7F0101,
        .mode = 4,
        .tx_source = 'K',
        .rx_source = 'K',
    };
    statlog_format_measurement(buf, sizeof buf, &m);
    assert_string_equal(buf, "2026-11-25 18:35:37 127.0.0.1       N  2 111 111 1111  -2  0 1.00 "
                             "-1.881e-06  8.267e-06  8.703e-07  0.000e+00  0.000e+00 7F7F0101 4B "
                             "K K");
    struct statlog_statistics s = {
        .real_ns = T_NS,
        .remote = tu_v4(127, 0, 0, 1),
        .sd_s = 1.125e-07,
        .est_offset_s = 1.827e-06,
        .offset_sd_s = 7.678e-08,
        .diff_freq = 7.966e-07,
        .skew = 1.047e-03,
        .stress = 4.0e-04,
        .n_samples = 3,
        .n_runs = 3,
    };
    statlog_format_statistics(buf, sizeof buf, &s);
    assert_string_equal(buf, "2026-11-25 18:35:37 127.0.0.1        1.125e-07  1.827e-06  7.678e-08 "
                             " 7.966e-07  1.047e-03 4.0e-04   3   0   3  0.00");
    struct statlog_tracking t = {
        .real_ns = T_NS,
        .ref_addr = tu_v4(127, 0, 0, 1),
        .stratum = 3,
        .freq_ppm = -2.849,
        .skew_ppm = 66.508,
        .offset_s = -2.970e-07,
        .leap = 'N',
        .n_combined = 1,
        .offset_sd_s = 1.510e-07,
        .remaining_s = -1.827e-06,
        .root_delay_s = 6.890e-06,
        .root_disp_s = 4.137e-07,
        .max_error_s = 1.015e+00,
    };
    statlog_format_tracking(buf, sizeof buf, &t);
    assert_string_equal(buf, "2026-11-25 18:35:37 127.0.0.1        3     -2.849     66.508 "
                             "-2.970e-07 N  1  1.510e-07 -1.827e-06  6.890e-06  4.137e-07  "
                             "1.015e+00");
    memset(&t.ref_addr, 0, sizeof t.ref_addr);
    t.stratum = 0;
    statlog_format_tracking(buf, sizeof buf, &t);
    assert_memory_equal(buf + 20, "0.0.0.0          0", 18);
}

static void test_banner_every_n_lines(void **state)
{
    (void)state;
    char dir[] = "/tmp/tempus-test-statlog-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct statlog *l = statlog_new(dir, STATLOG_TRACKING, 2);
    for (int i = 0; i < 3; i++)
        assert_int_equal(statlog_write(l, "line"), 0);
    statlog_free(l);
    char path[96], text[2048];
    snprintf(path, sizeof path, "%s/tracking.log", dir);
    assert_true(files_read(path, text, sizeof text) > 0);
    const char *h = statlog_header(STATLOG_TRACKING);
    assert_int_equal(strlen(h), 131); /* as chronyd 4.3 writes it */
    char eq[132];
    memset(eq, '=', 131);
    eq[131] = '\0';
    char want[2048];
    snprintf(want, sizeof want, "%s\n%s\n%s\nline\nline\n%s\n%s\n%s\nline\n", eq, h, eq, eq, h, eq);
    assert_string_equal(text, want);
    assert_int_equal(strlen(statlog_header(STATLOG_MEASUREMENTS)), 136);
    assert_int_equal(strlen(statlog_header(STATLOG_STATISTICS)), 116);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driftfile_format_and_parse),
        cmocka_unit_test(test_line_formats),
        cmocka_unit_test(test_banner_every_n_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
