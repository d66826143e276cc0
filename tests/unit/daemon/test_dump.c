/* daemon/dump: the dump file's text round-trips exactly; every kind of damage is refused
 * with its reason; the content checks (source, age); save and load through a real file. */
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

#include "daemon/dump.h"

#define NOW_NS 1780000000000000000LL

static void fill(struct dump_data *d, int n)
{
    memset(d, 0, sizeof *d);
    snprintf(d->source, sizeof d->source, "192.0.2.7");
    d->saved_real_ns = NOW_NS - 5000000000LL;
    d->n = n;
    for (int k = 0; k < n; k++) {
        struct engine_saved_sample *s = &d->s[k];
        s->real_ns = NOW_NS - (int64_t)(n - k) * 64000000123LL;
        s->offset_s = -1.0 / 3.0 * 1e-3 + k * 1.234567890123e-7;
        s->delay_s = 0.000123456789 + k * 1e-9;
        s->disp_s = 1e-6 / 7.0;
        s->root_delay_s = 0.01 + s->delay_s;
        s->root_disp_s = 0.002 + s->disp_s;
        s->stratum = 2;
        s->leap = k == n - 1 ? 1 : 0;
    }
}

static int format(const struct dump_data *d, char *buf, size_t cap)
{
    int n = dump_format(d, buf, cap);
    assert_true(n > 0);
    return n;
}

static void test_roundtrip_exact(void **state)
{
    (void)state;
    static struct dump_data d, back;
    static char buf[100000];
    fill(&d, DUMP_MAX_SAMPLES);
    int n = format(&d, buf, sizeof buf);
    assert_int_equal(strncmp(buf,
                             "tempus-dump 1\nsource 192.0.2.7\nsaved 1779999995000000000\n"
                             "samples 256\n",
                             68),
                     0);
    int line = -1;
    assert_int_equal(dump_parse(buf, (size_t)n, &back, &line), DUMP_OK);
    assert_int_equal(line, 0);
    assert_string_equal(back.source, d.source);
    assert_int_equal(back.saved_real_ns, d.saved_real_ns);
    assert_int_equal(back.n, d.n);
    /* Bit for bit, doubles included (%.17g). */
    assert_memory_equal(back.s, d.s, sizeof d.s[0] * (size_t)d.n);
    /* Too small a buffer is an error, not a cut file. */
    assert_int_equal(dump_format(&d, buf, 1000), -1);
    d.n = DUMP_MAX_SAMPLES + 1;
    assert_int_equal(dump_format(&d, buf, sizeof buf), -1);
}

static void test_damage_refused(void **state)
{
    (void)state;
    static struct dump_data d, back;
    static char buf[10000], bad[10000];
    fill(&d, 3);
    int n = format(&d, buf, sizeof buf);

    /* Every cut is refused: truncated or (a cut in the check line) bad syntax. */
    for (int cut = 0; cut < n; cut++) {
        enum dump_status st = dump_parse(buf, (size_t)cut, &back, NULL);
        assert_true(st == DUMP_E_TRUNCATED || st == DUMP_E_SYNTAX || st == DUMP_E_FORMAT);
    }
    assert_int_equal(dump_parse(buf, (size_t)n - 1, &back, NULL), DUMP_E_TRUNCATED);
    assert_int_equal(dump_parse(buf, 0, &back, NULL), DUMP_E_TRUNCATED);
    /* Every single changed byte is caught. */
    for (int i = 0; i < n; i++) {
        memcpy(bad, buf, (size_t)n);
        bad[i] = bad[i] == '1' ? '2' : '1';
        assert_int_not_equal(dump_parse(bad, (size_t)n, &back, NULL), DUMP_OK);
    }
    /* Another version, another magic. */
    memcpy(bad, buf, (size_t)n);
    bad[12] = '2';
    assert_int_equal(dump_parse(bad, (size_t)n, &back, NULL), DUMP_E_FORMAT);
    assert_int_equal(dump_parse("chrony-dump 1\n", 14, &back, NULL), DUMP_E_FORMAT);
    /* Trailing bytes after the check line. */
    memcpy(bad, buf, (size_t)n);
    bad[n] = '\n';
    assert_int_equal(dump_parse(bad, (size_t)n + 1, &back, NULL), DUMP_E_SYNTAX);
    /* A NUL byte inside. */
    memcpy(bad, buf, (size_t)n);
    bad[20] = '\0';
    assert_int_equal(dump_parse(bad, (size_t)n, &back, NULL), DUMP_E_SYNTAX);
    /* Syntax errors name their line; values out of range are syntax errors. */
    const char *texts[] = {
        "tempus-dump 1\nsource 1.2.3.4\nsaved x\n",
        "tempus-dump 1\nsource 1.2.3.4\nsaved 5\nsamples 0\n",
        "tempus-dump 1\nsource 1.2.3.4\nsaved 5\nsamples 257\n",
        "tempus-dump 1\nsource 1.2.3.4\nsaved 5\nsamples 1\n1 nan 0 0 0 0 2 0\n",
        "tempus-dump 1\nsource 1.2.3.4\nsaved 5\nsamples 1\n1 0 0 0 0 0 17 0\n",
        "tempus-dump 1\nsource 1.2.3.4\nsaved 5\nsamples 1\n1 0 0 0 0 0 2 4\n",
        "tempus-dump 1\nsource 1.2.3.4\nsaved 5\nsamples 1\n1 0 0 0 0 0 2\n",
        "tempus-dump 1\nsource 1.2.3.4\nsaved 5\nsamples 1\n1 0 0 0 0 0 2 0 9\n",
        "tempus-dump 1\nsource 1.2.3.4\nsaved 5\nsamples 1\n1 0 0 0 0 0 2 0\ncheck 12\n",
    };
    const int lines[] = {3, 4, 4, 5, 5, 5, 5, 5, 6};
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        int line = 0;
        assert_int_equal(dump_parse(texts[k], strlen(texts[k]), &back, &line), DUMP_E_SYNTAX);
        assert_int_equal(line, lines[k]);
    }
    assert_string_equal(dump_status_str(DUMP_E_CHECK), "checksum mismatch");
    assert_string_equal(dump_status_str((enum dump_status)99), "unknown");
}

static void test_check_source_and_age(void **state)
{
    (void)state;
    static struct dump_data d;
    fill(&d, 2);
    assert_int_equal(dump_check(&d, "192.0.2.7", NOW_NS), DUMP_OK);
    assert_int_equal(dump_check(&d, "192.0.2.70", NOW_NS), DUMP_E_SOURCE);
    assert_int_equal(dump_check(&d, "192.0.2.7", d.saved_real_ns - 11000000000LL), DUMP_E_FUTURE);
    assert_int_equal(dump_check(&d, "192.0.2.7", d.saved_real_ns - 9000000000LL), DUMP_OK);
    assert_int_equal(dump_check(&d, "192.0.2.7", d.saved_real_ns + 86400000000000LL), DUMP_OK);
    assert_int_equal(dump_check(&d, "192.0.2.7", d.saved_real_ns + 86401000000000LL), DUMP_E_STALE);
    d.saved_real_ns = INT64_MIN;
    assert_int_equal(dump_check(&d, "192.0.2.7", INT64_MAX), DUMP_E_STALE);
}

static void test_path_save_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/tempus-dump-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512];
    struct addr a6;
    assert_int_equal(addr_parse("2001:db8::1", &a6), 0);
    a6.port = 4123;
    assert_true(dump_path(path, sizeof path, dir, &a6) > 0);
    char want[600];
    snprintf(want, sizeof want, "%s/2001:db8::1.dat", dir);
    assert_string_equal(path, want);
    assert_int_equal(dump_path(path, 10, dir, &a6), -1);

    static struct dump_data d, back;
    fill(&d, 5);
    int err = 1;
    assert_int_equal(dump_save(path, &d, &err), DUMP_OK);
    assert_int_equal(err, 0);
    assert_int_equal(dump_load(path, "192.0.2.7", NOW_NS, &back, &err), DUMP_OK);
    assert_int_equal(back.n, 5);
    assert_memory_equal(back.s, d.s, sizeof d.s[0] * 5);
    assert_int_equal(dump_load(path, "192.0.2.8", NOW_NS, &back, &err), DUMP_E_SOURCE);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(dump_load(path, "192.0.2.7", NOW_NS, &back, &err), DUMP_E_IO);
    assert_int_equal(err, -ENOENT);
    /* A file longer than any we write is refused before parsing. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int k = 0; k < 80000; k++)
        fputs("tempus-dump 1\n", f);
    fclose(f);
    assert_int_equal(dump_load(path, "192.0.2.7", NOW_NS, &back, &err), DUMP_E_SYNTAX);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_exact),
        cmocka_unit_test(test_damage_refused),
        cmocka_unit_test(test_check_source_and_age),
        cmocka_unit_test(test_path_save_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
