/* base/ntp_time: NTP timestamps and eras, short format, civil time, UTC text. */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/ntp_time.h"
#include "base/prng.h"

#define NS 1000000000LL

static int64_t utc_ns(int64_t y, int mo, int d, int h, int mi, int s)
{
    return ntp_time_ns_from_civil(y, mo, d, h, mi, s);
}

static void test_known_values(void **state)
{
    struct ntp_ts64 ts;
    (void)state;
    /* Unix epoch = NTP 2208988800 (0x83AA7E80) in era 0. */
    ts = ntp_time_from_ns(0);
    assert_int_equal(ts.sec, 2208988800u);
    assert_int_equal(ts.sec, 0x83AA7E80u);
    assert_int_equal(ts.frac, 0);
    /* Half a second is 2^31. */
    ts = ntp_time_from_ns(NS / 2);
    assert_int_equal(ts.frac, 0x80000000u);
    /* 1900-01-01 00:00:00 is NTP 0. */
    assert_int_equal(utc_ns(1900, 1, 1, 0, 0, 0), -2208988800LL * NS);
    ts = ntp_time_from_ns(utc_ns(1900, 1, 1, 0, 0, 0));
    assert_true(ntp_time_is_zero(ts));
    /* Era 1 starts 2036-02-07 06:28:16 UTC: 2^32 s after 1900. */
    assert_int_equal(utc_ns(2036, 2, 7, 6, 28, 16), (4294967296LL - 2208988800LL) * NS);
    ts = ntp_time_from_ns(utc_ns(2036, 2, 7, 6, 28, 16));
    assert_int_equal(ts.sec, 0);
    ts = ntp_time_from_ns(utc_ns(2036, 2, 7, 6, 28, 15));
    assert_int_equal(ts.sec, 0xFFFFFFFFu);
    /* A value from the captured vectors: eeb195f6.71804d03 = 2026-11-25T17:14:30.443363965. */
    ts.sec = 0xeeb195f6u;
    ts.frac = 0x71804d03u;
    assert_int_equal(ntp_time_to_ns(ts, utc_ns(2026, 1, 1, 0, 0, 0)),
                     utc_ns(2026, 11, 25, 17, 14, 30) + 443363965);
    assert_int_equal(ntp_time_ts_to_u64(ts), 0xeeb195f671804d03ULL);
    assert_true(ntp_time_equal(ntp_time_ts_from_u64(0xeeb195f671804d03ULL), ts));
}

static void test_rollover_2036(void **state)
{
    int64_t before = utc_ns(2036, 2, 7, 6, 28, 15) + 999999999;
    int64_t after = utc_ns(2036, 2, 7, 6, 28, 16) + 1;
    struct ntp_ts64 tb = ntp_time_from_ns(before), ta = ntp_time_from_ns(after);
    int64_t pivot = utc_ns(2036, 2, 7, 0, 0, 0);
    (void)state;
    assert_int_equal(tb.sec, 0xFFFFFFFFu);
    assert_int_equal(ta.sec, 0);
    /* Pivot on either side of the boundary resolves both correctly. */
    assert_int_equal(ntp_time_to_ns(tb, pivot), before);
    assert_int_equal(ntp_time_to_ns(ta, pivot), after);
    assert_int_equal(ntp_time_to_ns(tb, after + 100 * NS), before);
    /* The fixed window (1976..2112) too. */
    assert_int_equal(ntp_time_to_ns_split(tb, NTP_TIME_ERA_SPLIT_UNIX_S), before);
    assert_int_equal(ntp_time_to_ns_split(ta, NTP_TIME_ERA_SPLIT_UNIX_S), after);
    /* Differences across the wrap. */
    assert_int_equal(ntp_time_diff_ns(ta, tb), 2);
    assert_int_equal(ntp_time_diff_ns(tb, ta), -2);
    assert_true(fabs(ntp_time_diff_s(ta, tb) - 2e-9) < 1e-9);
}

static void test_2038_and_2106(void **state)
{
    int64_t y2038 = utc_ns(2038, 1, 19, 3, 14, 8); /* 2^31 Unix seconds */
    int64_t y2106 = utc_ns(2106, 2, 7, 6, 28, 16); /* 2^32 Unix seconds */
    int64_t now = utc_ns(2026, 11, 25, 0, 0, 0);
    struct ntp_ts64 t;
    (void)state;
    assert_int_equal(y2038, 2147483648LL * NS);
    assert_int_equal(y2106, 4294967296LL * NS);
    t = ntp_time_from_ns(y2038);
    assert_int_equal(t.sec, (uint32_t)(2147483648u + 2208988800u));
    assert_int_equal(ntp_time_to_ns(t, now), y2038);
    assert_int_equal(ntp_time_to_ns_split(t, NTP_TIME_ERA_SPLIT_UNIX_S), y2038);
    /* 2106 has the same NTP seconds as 1970: the pivot decides. */
    t = ntp_time_from_ns(y2106);
    assert_int_equal(t.sec, 2208988800u);
    assert_int_equal(ntp_time_to_ns(t, utc_ns(2100, 1, 1, 0, 0, 0)), y2106);
    assert_int_equal(ntp_time_to_ns(t, utc_ns(1980, 1, 1, 0, 0, 0)), 0);
    /* chrony's fixed window starting 1976 reads it as 2106, and 1975 as 2111. */
    assert_int_equal(ntp_time_to_ns_split(t, NTP_TIME_ERA_SPLIT_UNIX_S), y2106);
    t = ntp_time_from_ns(utc_ns(1975, 12, 31, 23, 59, 59));
    assert_int_equal(ntp_time_to_ns_split(t, NTP_TIME_ERA_SPLIT_UNIX_S),
                     utc_ns(1975, 12, 31, 23, 59, 59) + 4294967296LL * NS);
    t = ntp_time_from_ns(utc_ns(1976, 1, 1, 0, 0, 0));
    assert_int_equal(ntp_time_to_ns_split(t, NTP_TIME_ERA_SPLIT_UNIX_S),
                     utc_ns(1976, 1, 1, 0, 0, 0));
    /* Before 1900: era -1. */
    t = ntp_time_from_ns(utc_ns(1899, 12, 31, 23, 59, 59));
    assert_int_equal(t.sec, 0xFFFFFFFFu);
    assert_int_equal(ntp_time_to_ns(t, utc_ns(1900, 6, 1, 0, 0, 0)),
                     utc_ns(1899, 12, 31, 23, 59, 59));
}

static void test_random_round_trips(void **state)
{
    struct prng p;
    (void)state;
    prng_seed(&p, 20261125);
    for (int i = 0; i < 200000; i++) {
        /* Any instant in about 1748..2191, a pivot within 60 years of it. */
        uint64_t r = prng_below(&p, 14000000000ULL * (uint64_t)NS);
        int64_t ns = r >= 7000000000ULL * (uint64_t)NS
                         ? (int64_t)(r - 7000000000ULL * (uint64_t)NS)
                         : -(int64_t)(7000000000ULL * (uint64_t)NS - r);
        int64_t off = (int64_t)(prng_next_u64(&p) % (120ULL * 31557600ULL * (uint64_t)NS)) -
                      60LL * 31557600LL * NS;
        struct ntp_ts64 t = ntp_time_from_ns(ns);
        int64_t back = ntp_time_to_ns(t, ns + off);
        assert_true(back - ns <= 1 && ns - back <= 1);
        /* Differences of two random timestamps within 60 years, to the ns. */
        {
            int64_t ns2 = ns + off;
            int64_t d = ntp_time_diff_ns(ntp_time_from_ns(ns2), t);
            assert_true(d - off <= 1 && off - d <= 1);
        }
    }
    /* Inside the fixed window, split conversion is exact as well. */
    for (int i = 0; i < 100000; i++) {
        int64_t ns = NTP_TIME_ERA_SPLIT_UNIX_S * NS +
                     (int64_t)(prng_next_u64(&p) % (4294967295ULL * (uint64_t)NS));
        int64_t back = ntp_time_to_ns_split(ntp_time_from_ns(ns), NTP_TIME_ERA_SPLIT_UNIX_S);
        assert_true(back - ns <= 1 && ns - back <= 1);
    }
}

static void test_fixed_and_diff(void **state)
{
    struct ntp_ts64 a = {10, 0}, b = {0xFFFFFFFFu, 0x80000000u};
    (void)state;
    assert_int_equal(ntp_time_fixed_to_ns(1LL << 32), NS);
    assert_int_equal(ntp_time_fixed_to_ns(-(1LL << 32)), -NS);
    assert_int_equal(ntp_time_fixed_to_ns(1LL << 31), NS / 2);
    assert_int_equal(ntp_time_fixed_to_ns(1), 0); /* 0.23 ns rounds to 0 */
    assert_int_equal(ntp_time_fixed_to_ns(3), 1); /* 0.70 ns rounds to 1 */
    assert_int_equal(ntp_time_diff_ns(a, b), 10 * NS + NS / 2);
    assert_int_equal(ntp_time_diff_ns(b, a), -(10 * NS + NS / 2));
    assert_true(ntp_time_diff_s(a, b) == 10.5);
    /* The extremes of the +-68-year window. */
    assert_int_equal(ntp_time_fixed_to_ns(INT64_MAX), 2147483647LL * NS + NS);
    assert_int_equal(ntp_time_fixed_to_ns(INT64_MIN), -2147483648LL * NS);
}

static void test_short_format(void **state)
{
    (void)state;
    assert_int_equal(ntp_time_short_from_s(1.0), 0x10000u);
    assert_int_equal(ntp_time_short_from_s(0.0), 0);
    assert_int_equal(ntp_time_short_from_s(-1.0), 0);
    assert_int_equal(ntp_time_short_from_s(NAN), 0);
    assert_int_equal(ntp_time_short_from_s(1e-9), 1); /* rounds up */
    assert_int_equal(ntp_time_short_from_s(1.0 / 65536.0), 1);
    assert_int_equal(ntp_time_short_from_s(1.5 / 65536.0), 2);
    assert_int_equal(ntp_time_short_from_s(65535.99999), 0xFFFFFFFFu);
    assert_int_equal(ntp_time_short_from_s(65536.0), 0xFFFFFFFFu);
    assert_int_equal(ntp_time_short_from_s(1e30), 0xFFFFFFFFu);
    assert_int_equal(ntp_time_short_from_s(INFINITY), 0xFFFFFFFFu);

    assert_int_equal(ntp_time_short_from_ns(NS), 0x10000u);
    assert_int_equal(ntp_time_short_from_ns(0), 0);
    assert_int_equal(ntp_time_short_from_ns(-5), 0);
    assert_int_equal(ntp_time_short_from_ns(1), 1);
    assert_int_equal(ntp_time_short_from_ns(15258), 1); /* 2^-16 s = 15258.789 ns */
    assert_int_equal(ntp_time_short_from_ns(15259), 2);
    assert_int_equal(ntp_time_short_from_ns(65536LL * NS - 1), 0xFFFFFFFFu);
    assert_int_equal(ntp_time_short_from_ns(INT64_MAX), 0xFFFFFFFFu);

    assert_true(ntp_time_short_to_s(0x10000u) == 1.0);
    assert_true(ntp_time_short_to_s(0x18000u) == 1.5);
    assert_int_equal(ntp_time_short_to_ns(0x10000u), NS);
    assert_int_equal(ntp_time_short_to_ns(1), 15259);
    /* Integer and double encoders agree. */
    for (int64_t ns = 1; ns < 70000LL * NS; ns = ns * 3 + 7)
        assert_int_equal(ntp_time_short_from_ns(ns), ntp_time_short_from_s((double)ns / 1e9));
}

static void test_civil(void **state)
{
    struct ntp_time_civil c;
    (void)state;
    ntp_time_civil_from_ns(0, &c);
    assert_int_equal(c.year, 1970);
    assert_int_equal(c.month, 1);
    assert_int_equal(c.day, 1);
    assert_int_equal(c.wday, 4);
    assert_int_equal(c.yday, 0);
    ntp_time_civil_from_ns(-NS / 2, &c); /* 1969-12-31 23:59:59.5 */
    assert_int_equal(c.year, 1969);
    assert_int_equal(c.month, 12);
    assert_int_equal(c.day, 31);
    assert_int_equal(c.hour, 23);
    assert_int_equal(c.minute, 59);
    assert_int_equal(c.second, 59);
    assert_int_equal(c.nsec, 500000000);
    assert_int_equal(c.wday, 3);
    assert_int_equal(c.yday, 364);
    ntp_time_civil_from_ns(utc_ns(2000, 2, 29, 12, 0, 0), &c);
    assert_int_equal(c.month, 2);
    assert_int_equal(c.day, 29);
    assert_int_equal(c.yday, 59);
    assert_int_equal(c.wday, 2);
    assert_int_equal(ntp_time_days_from_civil(2000, 3, 1) - ntp_time_days_from_civil(2000, 2, 28),
                     2);
    assert_int_equal(ntp_time_days_from_civil(1900, 3, 1) - ntp_time_days_from_civil(1900, 2, 28),
                     1);
}

/* Day numbers to dates: known days, and the inverse of ntp_time_days_from_civil far out
 * (tempusc prints 64-bit NTP-era times through it). */
static void test_civil_from_days(void **state)
{
    (void)state;
    int64_t y;
    int m, d;
    ntp_time_civil_from_days(0, &y, &m, &d);
    assert_true(y == 1970 && m == 1 && d == 1);
    ntp_time_civil_from_days(-1, &y, &m, &d);
    assert_true(y == 1969 && m == 12 && d == 31);
    ntp_time_civil_from_days(11016, &y, &m, &d);
    assert_true(y == 2000 && m == 2 && d == 29);
    ntp_time_civil_from_days(-25567, &y, &m, &d); /* the NTP epoch */
    assert_true(y == 1900 && m == 1 && d == 1);
    static const int64_t days[] = {-719468, -146097,   -36525,     59,
                                   60,      365,       24855,      49710,
                                   2932896, 100000000, -100000000, INT64_C(1) << 40};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        ntp_time_civil_from_days(days[i], &y, &m, &d);
        assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
        assert_true(ntp_time_days_from_civil(y, m, d) == days[i]);
    }
    for (int64_t k = -800; k < 800; k++) { /* every day of a few years, both sides */
        ntp_time_civil_from_days(k * 3, &y, &m, &d);
        assert_true(ntp_time_days_from_civil(y, m, d) == k * 3);
    }
}

static void test_format_utc(void **state)
{
    char buf[NTP_TIME_UTC_TEXT_MAX], ref[64];
    struct prng p;
    (void)state;
    assert_string_equal(ntp_time_format_utc(0, buf, sizeof buf), "Thu Jan 01 00:00:00 1970");
    assert_string_equal(ntp_time_format_utc(1676287582LL * NS + 999999999, buf, sizeof buf),
                        "Mon Feb 13 11:26:22 2023");
    assert_string_equal(ntp_time_format_utc(utc_ns(2026, 11, 25, 17, 15, 36), buf, sizeof buf),
                        "Wed Nov 25 17:15:36 2026");
    assert_string_equal(ntp_time_format_utc(-1, buf, sizeof buf), "Wed Dec 31 23:59:59 1969");
    /* Truncation keeps a NUL. */
    ntp_time_format_utc(0, buf, 4);
    assert_string_equal(buf, "Thu");
    /* Against the C library for random instants over the whole ns range (1678..2261). */
    prng_seed(&p, 7);
    for (int i = 0; i < 20000; i++) {
        int64_t s = (int64_t)prng_below(&p, 18400000000ULL) - 9200000000LL;
        time_t t = (time_t)s;
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        strftime(ref, sizeof ref, "%a %b %d %H:%M:%S %Y", &tm);
        assert_string_equal(ntp_time_format_utc(s * NS, buf, sizeof buf), ref);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),    cmocka_unit_test(test_rollover_2036),
        cmocka_unit_test(test_2038_and_2106),   cmocka_unit_test(test_random_round_trips),
        cmocka_unit_test(test_fixed_and_diff),  cmocka_unit_test(test_short_format),
        cmocka_unit_test(test_civil),           cmocka_unit_test(test_format_utc),
        cmocka_unit_test(test_civil_from_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
