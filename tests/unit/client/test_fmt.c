/* client/fmt and client/out: chronyc's value formatters at their unit and width boundaries
 * (chronyc-output-formats.md §1.3 and §12), and the CSV/JSON renderings of one field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/fmt.h"
#include "client/names.h"
#include "client/out.h"

static void test_interval(void **state)
{
    (void)state;
    static const struct {
        uint32_t s;
        const char *text;
    } t[] = {
        {0, "   0"},        {1199, "1199"},       {1200, " 20m"},   {35999, "599m"},
        {36000, " 10h"},    {345599, " 95h"},     {345600, "  4d"}, {86313600, "999d"},
        {86400000, "  2y"}, {UINT32_MAX, "   -"},
    };
    char b[FMT_MAX];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        assert_string_equal(fmt_interval(b, sizeof b, t[i].s), t[i].text);
}

static void test_offset(void **state)
{
    (void)state;
    char b[FMT_MAX];
    assert_string_equal(fmt_offset(b, sizeof b, 0.0, true), "   +0ns");
    assert_string_equal(fmt_offset(b, sizeof b, 2e-9, true), "   +2ns");
    assert_string_equal(fmt_offset(b, sizeof b, -10e-6, true), "  -10us");
    assert_string_equal(fmt_offset(b, sizeof b, 9999e-9, true), "+9999ns");
    assert_string_equal(fmt_offset(b, sizeof b, -12e-3, true), "  -12ms");
    assert_string_equal(fmt_offset(b, sizeof b, 999.4, true), "+999.4s");
    assert_string_equal(fmt_offset(b, sizeof b, -1000.0, true), " -1000s");
    assert_string_equal(fmt_offset(b, sizeof b, -100000.0, true), " -1667m");
    assert_string_equal(fmt_offset(b, sizeof b, 12.2, false), " 12.2s");
    assert_string_equal(fmt_offset(b, sizeof b, 1000.0, false), " 1000s");
    assert_string_equal(fmt_offset(b, sizeof b, 100000.0, false), " 1667m");
    assert_string_equal(fmt_offset(b, sizeof b, 1e12, false), "31710y");
    assert_string_equal(fmt_offset(b, sizeof b, -5689e-9, false), "5689ns");
}

static void test_freq_leap_bits(void **state)
{
    (void)state;
    char b[FMT_MAX];
    assert_string_equal(fmt_freq(b, sizeof b, 0.019, true), "    +0.019");
    assert_string_equal(fmt_freq(b, sizeof b, 99999.398, true), "+99999.398");
    assert_string_equal(fmt_freq(b, sizeof b, 123457.0, true), "   +123457");
    assert_string_equal(fmt_freq(b, sizeof b, 2000.0, false), "  2000.000");
    assert_string_equal(fmt_leap(0, false), "Normal");
    assert_string_equal(fmt_leap(3, false), "Not synchronised");
    assert_string_equal(fmt_leap(7, false), "Invalid");
    assert_string_equal(fmt_leap(1, true), "+");
    assert_string_equal(fmt_bits(b, sizeof b, 0x155, 4), "0101");
    assert_string_equal(fmt_refid_text(b, sizeof b, 0x47505300), "GPS");
    assert_string_equal(fmt_refid_text(b, sizeof b, 0x7F7F0101), "");
}

static void test_times(void **state)
{
    (void)state;
    char b[FMT_MAX];
    struct cmdmon_timespec ts = {0, 0};
    assert_string_equal(fmt_utc(b, sizeof b, &ts), "Thu Jan 01 00:00:00 1970");
    ts.sec = 1795626936;
    assert_string_equal(fmt_utc(b, sizeof b, &ts), "Wed Nov 25 17:15:36 2026");
    ts.sec = (uint64_t)1 << 32; /* tv_sec_high = 1 */
    assert_string_equal(fmt_utc(b, sizeof b, &ts), "Sun Feb 07 06:28:16 2106");
    ts.sec = 1700000000;
    ts.nsec = 5;
    assert_string_equal(fmt_ts_csv(b, sizeof b, &ts), "1700000000.000000005");
    assert_string_equal(fmt_utc_iso(b, sizeof b, 1700000000), "2023-11-14 22:13:20");
}

static void test_names(void **state)
{
    (void)state;
    char b[NAMES_MAX];
    struct cmdmon_ip ip;
    assert_int_equal(names_parse("::1", 0, &ip), 0);
    assert_int_equal(names_refid(&ip), 0xCF404DC8u); /* spec §9.5 */
    assert_string_equal(names_numeric(&ip, b, sizeof b), "::1");
    assert_int_equal(names_parse("::1", 4, &ip), -1);
    assert_int_equal(names_parse("ID#0000012345", 0, &ip), 0);
    assert_string_equal(names_numeric(&ip, b, sizeof b), "ID#0000012345");
    memset(&ip, 0, sizeof ip);
    assert_string_equal(names_numeric(&ip, b, sizeof b), "[UNSPEC]");
    struct cmdmon_ip mask, addr;
    assert_int_equal(names_parse_mask_addr("255.255.0.0/192.0.2.1", 0, &mask, &addr), 0);
    assert_int_equal(mask.addr[1], 255);
    assert_int_equal(mask.addr[2], 0);
    assert_int_equal(names_parse_mask_addr("2001:db8::/33", 0, &mask, &addr), 0);
    assert_int_equal(mask.addr[4], 0x80);
    assert_int_equal(mask.addr[5], 0);
}

static char *render(enum out_mode mode, void (*fn)(struct out *))
{
    static char buf[512];
    memset(buf, 0, sizeof buf);
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    struct out o;
    out_init(&o, f, mode);
    out_doc_begin(&o, "x");
    fn(&o);
    out_doc_end(&o);
    fclose(f);
    return buf;
}

static void one_row(struct out *o)
{
    out_list_begin(o, "rows");
    out_rec_begin(o);
    out_text(o, "[");
    out_dbl(o, "v", "%+6.1f", 2.25);
    out_text(o, "|");
    out_str(o, "s", "%-4s", "a\"b");
    out_text(o, "|");
    out_interval(o, "i", UINT32_MAX);
    out_text(o, "]\n");
    out_rec_end(o);
    out_list_end(o);
}

static void test_out_modes(void **state)
{
    (void)state;
    assert_string_equal(render(OUT_TEXT, one_row), "[  +2.2|a\"b |   -]\n");
    assert_string_equal(render(OUT_CSV, one_row), "2.2,a\"b,4294967295\n");
    assert_string_equal(
        render(OUT_JSON, one_row),
        "{\"command\":\"x\",\"rows\":[{\"v\":2.25,\"s\":\"a\\\"b\",\"i\":null}]}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interval),       cmocka_unit_test(test_offset),
        cmocka_unit_test(test_freq_leap_bits), cmocka_unit_test(test_times),
        cmocka_unit_test(test_names),          cmocka_unit_test(test_out_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
