/* core/tzif (leapsectz): TZif files of versions 1, 2 and 4 built by the test, damaged ones,
 * the system's right/UTC when tzdata has it, and the engine combining the table with its
 * sources' leap vote on the last day of June/December (in engine_world.h's world, with the
 * epoch and the servers' LI set per run). */
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
#include "core/tzif.h"
#include "engine_world.h"
#include "wire/ntp.h"

static int armed_leap; /* the leap the last leap_after_sync()'s engine armed */
/* What the last leap_after_sync()'s engine gave the clock's set_tai_s: calls, last value,
 * and the last call's real time (ns). */
static int tai_calls, tai_last;
static int64_t tai_at_ns;
static int64_t run_ns = 3600 * 1000000000LL; /* how long leap_after_sync() runs */

/* ---- TZif files built here ---- */

/* The 27 leap seconds so far: the UTC midnights (y, m) they end the day before, all inserts. */
static const int leap_dates[27][2] = {
    {1972, 7}, {1973, 1}, {1974, 1}, {1975, 1}, {1976, 1}, {1977, 1}, {1978, 1},
    {1979, 1}, {1980, 1}, {1981, 7}, {1982, 7}, {1983, 7}, {1985, 7}, {1988, 1},
    {1990, 1}, {1991, 1}, {1992, 7}, {1993, 7}, {1994, 7}, {1996, 1}, {1997, 7},
    {1999, 1}, {2006, 1}, {2009, 1}, {2012, 7}, {2015, 7}, {2017, 1},
};

static int64_t midnight_of(int i)
{
    return ntp_time_ns_from_civil(leap_dates[i][0], leap_dates[i][1], 1, 0, 0, 0) / 1000000000LL;
}

static size_t put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

static size_t put64(uint8_t *p, int64_t v)
{
    put32(p, (uint32_t)((uint64_t)v >> 32));
    put32(p + 4, (uint32_t)v);
    return 8;
}

/* One header + data block: one type "UTC", no transitions, the leap records. */
static size_t block(uint8_t *p, int version, int tsize, const int64_t *occ, const int32_t *corr,
                    int n)
{
    size_t k = 0;
    memcpy(p, "TZif", 4);
    p[4] = version == 1 ? 0 : (uint8_t)('0' + version);
    memset(p + 5, 0, 15);
    k = 20;
    k += put32(p + k, 0);           /* isutcnt */
    k += put32(p + k, 0);           /* isstdcnt */
    k += put32(p + k, (uint32_t)n); /* leapcnt */
    k += put32(p + k, 0);           /* timecnt */
    k += put32(p + k, 1);           /* typecnt */
    k += put32(p + k, 4);           /* charcnt */
    k += put32(p + k, 0);           /* utoff */
    p[k++] = 0;                     /* isdst */
    p[k++] = 0;                     /* desigidx */
    memcpy(p + k, "UTC", 4);
    k += 4;
    for (int i = 0; i < n; i++) {
        k += tsize == 8 ? put64(p + k, occ[i]) : put32(p + k, (uint32_t)occ[i]);
        k += put32(p + k, (uint32_t)corr[i]);
    }
    return k;
}

static size_t build(uint8_t *p, int version, const int64_t *occ, const int32_t *corr, int n)
{
    size_t k = block(p, version, 4, occ, corr, n);
    if (version >= 2) {
        k += block(p + k, version, 8, occ, corr, n);
        memcpy(p + k, "\nUTC0\n", 6);
        k += 6;
    }
    return k;
}

/* The real table as zic writes it: occurrence on the file's scale = midnight + earlier leaps. */
static int real_table(int64_t *occ, int32_t *corr)
{
    for (int i = 0; i < 27; i++) {
        occ[i] = midnight_of(i) + i;
        corr[i] = i + 1;
    }
    return 27;
}

static void check_real(const struct tzif_leaps *l)
{
    assert_int_equal(l->n, 27);
    for (int i = 0; i < 27; i++) {
        assert_int_equal(l->midnight_s[i], midnight_of(i));
        assert_int_equal(l->corr[i], i + 1);
    }
    assert_true(tzif_check_2012(l));
    int tai = 0;
    int64_t dec31_2016 = ntp_time_ns_from_civil(2016, 12, 31, 12, 0, 0) / 1000000000LL;
    assert_int_equal(tzif_leap_on_day(l, dec31_2016, &tai), 1);
    assert_int_equal(tai, 36);
    assert_int_equal(tzif_leap_on_day(l, dec31_2016 + 43199, &tai), 1); /* 23:59:59 */
    assert_int_equal(tzif_leap_on_day(l, dec31_2016 + 43200, &tai), 0); /* next midnight */
    assert_int_equal(tai, 37);
    assert_int_equal(tzif_leap_on_day(l, dec31_2016 - 86400, &tai), 0); /* Dec 30 */
    assert_int_equal(tzif_leap_on_day(l, 0, &tai), 0);
    assert_int_equal(tai, 10);
    assert_int_equal(tzif_leap_on_day(l, -86400 * 365, &tai), 0);
}

static void test_versions_1_2_4(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    int64_t occ[30];
    int32_t corr[30];
    int n = real_table(occ, corr);
    struct tzif_leaps l;
    for (int v = 1; v <= 4; v++) {
        if (v == 3)
            continue;
        size_t len = build(buf, v, occ, corr, n);
        assert_int_equal(tzif_parse(buf, len, &l), TZIF_OK);
        check_real(&l);
        assert_int_equal(l.expiry_s, 0);
    }
    /* Version 2 uses the 64-bit block: a v1 block with wrong leaps is not looked at. */
    size_t k = block(buf, 2, 4, occ, corr, 0);
    k += block(buf + k, 2, 8, occ, corr, n);
    assert_int_equal(tzif_parse(buf, k, &l), TZIF_OK);
    check_real(&l);
    /* Version 4: an expiry record repeats the last correction. */
    occ[27] = ntp_time_ns_from_civil(2026, 12, 28, 0, 0, 0) / 1000000000LL + 27;
    corr[27] = 27;
    size_t len = build(buf, 4, occ, corr, 28);
    assert_int_equal(tzif_parse(buf, len, &l), TZIF_OK);
    check_real(&l);
    assert_int_equal(l.expiry_s, occ[27] - 27);
    /* ... which version 2 does not allow. */
    len = build(buf, 2, occ, corr, 28);
    assert_int_equal(tzif_parse(buf, len, &l), TZIF_E_LEAPS);
    /* No leap records (a plain zone, e.g. posix/UTC): parsed, and chronyd's check fails. */
    len = build(buf, 2, occ, corr, 0);
    assert_int_equal(tzif_parse(buf, len, &l), TZIF_OK);
    assert_int_equal(l.n, 0);
    assert_false(tzif_check_2012(&l));
}

static void test_deleted_second_and_truncated_v4(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    /* A (hypothetical) deleted second at the end of 2030-06-30 after the 27 inserts: zic
     * writes 23:59:59 of the file's scale, midnight - 1 + 27. */
    int64_t occ[30];
    int32_t corr[30];
    int n = real_table(occ, corr);
    int64_t m = ntp_time_ns_from_civil(2030, 7, 1, 0, 0, 0) / 1000000000LL;
    occ[n] = m - 1 + 27;
    corr[n] = 26;
    size_t len = build(buf, 2, occ, corr, n + 1);
    struct tzif_leaps l;
    assert_int_equal(tzif_parse(buf, len, &l), TZIF_OK);
    assert_int_equal(l.n, 28);
    assert_int_equal(l.midnight_s[27], m);
    int tai;
    assert_int_equal(tzif_leap_on_day(&l, m - 1, &tai), 2);
    assert_int_equal(tai, 37);
    assert_int_equal(tzif_leap_on_day(&l, m, &tai), 0);
    assert_int_equal(tai, 36);
    /* v4 truncated at the start: the first record (correction 24) is a baseline. */
    len = build(buf, 4, occ + 23, corr + 23, 4);
    assert_int_equal(tzif_parse(buf, len, &l), TZIF_OK);
    assert_int_equal(l.base_corr, 24);
    assert_int_equal(l.n, 3);
    assert_true(tzif_check_2012(&l));
    /* ... an error before version 4. */
    len = build(buf, 3, occ + 23, corr + 23, 4);
    assert_int_equal(tzif_parse(buf, len, &l), TZIF_E_LEAPS);
}

static void test_damaged_refused(void **state)
{
    (void)state;
    static uint8_t buf[4096], bad[4096];
    int64_t occ[30];
    int32_t corr[30];
    int n = real_table(occ, corr);
    size_t len = build(buf, 2, occ, corr, n);
    struct tzif_leaps l;
    /* Every cut short of the footer is refused (the footer itself is not needed). */
    for (size_t cut = 0; cut + 6 < len; cut++) {
        enum tzif_status st = tzif_parse(buf, cut, &l);
        assert_true(st == TZIF_E_TRUNCATED || st == TZIF_E_MAGIC);
    }
    assert_int_equal(tzif_parse(buf, 3, &l), TZIF_E_MAGIC);
    memcpy(bad, buf, len);
    bad[0] = 'X';
    assert_int_equal(tzif_parse(bad, len, &l), TZIF_E_MAGIC);
    memcpy(bad, buf, len);
    bad[4] = '1'; /* versions are NUL, '2', '3', '4' ... */
    assert_int_equal(tzif_parse(bad, len, &l), TZIF_E_MAGIC);
    memcpy(bad, buf, len);
    bad[39] = 0; /* typecnt 0 */
    assert_int_equal(tzif_parse(bad, len, &l), TZIF_E_COUNTS);
    memcpy(bad, buf, len);
    put32(bad + 28, 0x7fffffff); /* leapcnt */
    assert_int_equal(tzif_parse(bad, len, &l), TZIF_E_COUNTS);
    memcpy(bad, buf, len);
    put32(bad + 20, 3); /* isutcnt neither 0 nor typecnt */
    assert_int_equal(tzif_parse(bad, len, &l), TZIF_E_COUNTS);
    /* Out of order, a jump of two, not at a midnight. */
    int64_t o2[30];
    int32_t c2[30];
    memcpy(o2, occ, sizeof occ);
    memcpy(c2, corr, sizeof corr);
    o2[5] = o2[4];
    len = build(bad, 2, o2, c2, n);
    assert_int_equal(tzif_parse(bad, len, &l), TZIF_E_LEAPS);
    memcpy(o2, occ, sizeof occ);
    c2[5] = 7;
    len = build(bad, 2, o2, c2, n);
    assert_int_equal(tzif_parse(bad, len, &l), TZIF_E_LEAPS);
    memcpy(c2, corr, sizeof corr);
    o2[5] += 3600;
    len = build(bad, 2, o2, c2, n);
    assert_int_equal(tzif_parse(bad, len, &l), TZIF_E_LEAPS);
    assert_string_equal(tzif_status_str(TZIF_E_TRUNCATED), "truncated");
    assert_string_equal(tzif_status_str((enum tzif_status)42), "unknown");
}

/* The system's right/UTC (Debian's tzdata), when installed: the same 27 leap seconds. */
static void test_system_right_utc(void **state)
{
    (void)state;
    FILE *f = fopen("/usr/share/zoneinfo/right/UTC", "rb");
    if (!f)
        skip();
    static uint8_t buf[65536];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct tzif_leaps l;
    assert_int_equal(tzif_parse(buf, len, &l), TZIF_OK);
    check_real(&l);
}

/* ---- The engine: sources' vote and the table ---- */

/* Synchronises an engine to one server whose replies carry LI srv_li, over the day that
 * starts at (y, m, d) 00:00 UTC + start_h hours, and returns tracking's leap status after
 * run_ns (an hour). */
static int rec_tai(void *ctx, int tai_s)
{
    struct world *w = ctx;
    tai_calls++;
    tai_last = tai_s;
    tai_at_ns = w->epoch_ns + w->t_ns;
    return 0;
}

static int leap_after_sync(int y, int m, int d, int start_h, int srv_li,
                           const struct tzif_leaps *table)
{
    struct world w;
    world_init(&w, 1, 5);
    w.epoch_ns = ntp_time_ns_from_civil(y, m, d, start_h, 0, 0);
    w.srv_leap = srv_li;
    struct clock_ops ops = world_clock_ops(&w);
    ops.set_tai_s = rec_tai;
    tai_calls = tai_last = 0;
    tai_at_ns = 0;
    struct engine_io io = {.ctx = &w, .send = world_send};
    w.e = engine_new(NULL, &ops, 3, 0);
    engine_set_leap_table(w.e, table);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    sp.iburst = 1;
    sp.maxpoll_log2 = 6;
    assert_int_equal(world_add_src(&w, &sp, 1), 0);
    world_run(&w, &io, run_ns, 0);
    struct report_tracking tr;
    engine_tracking(w.e, w.t_ns, &tr);
    assert_true(tr.synced);
    struct report_reference ref;
    engine_reference(w.e, w.t_ns, &ref);
    assert_int_equal(ref.leap, tr.leap_status);
    engine_free(w.e);
    armed_leap = w.armed_leap;
    return tr.leap_status;
}

/* The real 27-leap table as a version 2 file, parsed into l. */
static void parse_real_table(struct tzif_leaps *l)
{
    static uint8_t buf[4096];
    int64_t occ[30];
    int32_t corr[30];
    int n = real_table(occ, corr);
    size_t len = build(buf, 2, occ, corr, n);
    assert_int_equal(tzif_parse(buf, len, l), TZIF_OK);
}

static void test_engine_combines_table_and_sources(void **state)
{
    (void)state;
    static struct tzif_leaps l;
    parse_real_table(&l);

    /* 31 Dec 2016, sources silent: the table announces the insert, and the clock arms it. */
    assert_int_equal(leap_after_sync(2016, 12, 31, 10, 0, &l), 1);
    assert_int_equal(armed_leap, CLOCK_LEAP_INSERT);
    /* Without the table: nothing. */
    assert_int_equal(leap_after_sync(2016, 12, 31, 10, 0, NULL), 0);
    assert_true(armed_leap <= 0);
    /* The day before: nothing, even though the sources announce it (only the last day). */
    assert_int_equal(leap_after_sync(2016, 12, 30, 10, 1, &l), 0);
    assert_true(armed_leap <= 0);
    /* 30 June 2016, no leap in the table: the sources' vote still counts (chronyd: the
     * zone is an additional source) ... */
    assert_int_equal(leap_after_sync(2016, 6, 30, 10, 1, &l), 1);
    /* ... and wins over the table when they disagree (a delete voted, an insert listed). */
    assert_int_equal(leap_after_sync(2016, 12, 31, 10, 2, &l), 2);
    assert_int_equal(armed_leap, CLOCK_LEAP_DELETE);
}

/* The kernel's TAI offset (chronyd's leapsecmode system): given to the clock once when the
 * engine first synchronises, again only when the table's value changes, never near the
 * leap itself, and never without a table. */
static void test_engine_sets_tai_offset(void **state)
{
    (void)state;
    static struct tzif_leaps l;
    parse_real_table(&l);

    /* 1 March 2016: TAI - UTC = 36 s (since 1 July 2015), set once in an hour of updates */
    assert_int_equal(leap_after_sync(2016, 3, 1, 10, 0, &l), 0);
    assert_int_equal(tai_calls, 1);
    assert_int_equal(tai_last, 36);
    /* 1 March 2017: 37 s */
    assert_int_equal(leap_after_sync(2017, 3, 1, 10, 0, &l), 0);
    assert_int_equal(tai_calls, 1);
    assert_int_equal(tai_last, 37);
    /* No table: never */
    assert_int_equal(leap_after_sync(2016, 3, 1, 10, 0, NULL), 0);
    assert_int_equal(tai_calls, 0);
    /* Across the leap of 31 Dec 2016 (23:00 to 01:00): 36, then 37 after midnight, but not
     * in the seconds around it (the kernel moves its TAI offset itself at the leap). */
    run_ns = 7200 * 1000000000LL;
    assert_int_equal(leap_after_sync(2016, 12, 31, 23, 0, &l), 0);
    run_ns = 3600 * 1000000000LL;
    assert_int_equal(tai_calls, 2);
    assert_int_equal(tai_last, 37);
    int64_t midnight = ntp_time_ns_from_civil(2017, 1, 1, 0, 0, 0);
    assert_true(tai_at_ns >= midnight + 5000000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_1_2_4),
        cmocka_unit_test(test_deleted_second_and_truncated_v4),
        cmocka_unit_test(test_damaged_refused),
        cmocka_unit_test(test_system_right_utc),
        cmocka_unit_test(test_engine_combines_table_and_sources),
        cmocka_unit_test(test_engine_sets_tai_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
