/* base/addr: inet_pton's strict text forms in, inet_ntop's (RFC 5952) text out, subnets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/addr.h"

static const char *roundtrip(const char *in, char *buf, size_t len)
{
    struct addr a;
    if (addr_parse(in, &a) != 0)
        return "FAIL";
    return addr_format(&a, buf, len);
}

static void test_ipv4(void **state)
{
    struct addr a;
    char buf[ADDR_TEXT_MAX];
    (void)state;
    assert_int_equal(addr_parse("192.168.111.128", &a), 0);
    assert_int_equal(a.family, ADDR_INET4);
    assert_int_equal(a.bytes[0], 192);
    assert_int_equal(a.bytes[3], 128);
    assert_int_equal(a.port, 0);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "192.168.111.128");
    assert_string_equal(roundtrip("0.0.0.0", buf, sizeof buf), "0.0.0.0");
    assert_string_equal(roundtrip("255.255.255.255", buf, sizeof buf), "255.255.255.255");
    const char *bad[] = {"",         "1",        "1.2.3",     "1.2.3.4.5",  "256.1.1.1",
                         "01.2.3.4", "1.2.3.4 ", " 1.2.3.4",  "1..2.3",     "1.2.3.",
                         "a.b.c.d",  "1.2.3.-4", "1.2.3.0x1", "1.2.3.4/24", NULL};
    for (int i = 0; bad[i] != NULL; i++) {
        assert_int_equal(addr_parse(bad[i], &a), -1);
    }
    assert_int_equal(addr_parse(NULL, &a), -1);
}

static void test_ipv6(void **state)
{
    struct addr a;
    char buf[ADDR_TEXT_MAX];
    (void)state;
    assert_int_equal(addr_parse("::1", &a), 0);
    assert_int_equal(a.family, ADDR_INET6);
    assert_int_equal(a.bytes[15], 1);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "::1");
    assert_string_equal(roundtrip("::", buf, sizeof buf), "::");
    assert_string_equal(roundtrip("2001:DB8:0:0:0:0:0:1", buf, sizeof buf), "2001:db8::1");
    assert_string_equal(roundtrip("2001:db8:0:0:1:0:0:1", buf, sizeof buf), "2001:db8::1:0:0:1");
    assert_string_equal(roundtrip("2001:0db8:0000:0001:0001:0001:0001:0001", buf, sizeof buf),
                        "2001:db8:0:1:1:1:1:1");
    assert_string_equal(roundtrip("1:0:0:2:0:0:0:3", buf, sizeof buf), "1:0:0:2::3");
    assert_string_equal(roundtrip("fe80::", buf, sizeof buf), "fe80::");
    assert_string_equal(roundtrip("1:2:3:4:5:6:7::", buf, sizeof buf), "1:2:3:4:5:6:7:0");
    assert_string_equal(roundtrip("::ffff:1.2.3.4", buf, sizeof buf), "::ffff:1.2.3.4");
    assert_string_equal(roundtrip("::1.2.3.4", buf, sizeof buf), "::1.2.3.4");
    assert_string_equal(roundtrip("64:ff9b::1.2.3.4", buf, sizeof buf), "64:ff9b::102:304");
    assert_string_equal(roundtrip("1:2:3:4:5:6:7:8", buf, sizeof buf), "1:2:3:4:5:6:7:8");
    const char *bad[] = {":",
                         ":1",
                         "1:",
                         "1::2::3",
                         "1:2:3:4:5:6:7:8:9",
                         "12345::1",
                         "::g",
                         "fe80::1%eth0",
                         "::ffff:1.2.3",
                         "1:2:3:4:5:6:7::8",
                         "[::1]",
                         "::1.2.3.4:1",
                         ":::1",
                         NULL};
    for (int i = 0; bad[i] != NULL; i++) {
        assert_int_equal(addr_parse(bad[i], &a), -1);
    }
    /* Longest text form fits ADDR_TEXT_MAX. */
    assert_string_equal(roundtrip("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", buf, sizeof buf),
                        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_equal_and_subnet(void **state)
{
    struct addr a, b;
    struct addr_subnet s;
    (void)state;
    assert_int_equal(addr_parse("10.1.2.3", &a), 0);
    assert_int_equal(addr_parse("10.1.2.3", &b), 0);
    b.port = 123;
    assert_true(addr_equal(&a, &b));
    assert_int_equal(addr_parse("::ffff:10.1.2.3", &b), 0);
    assert_false(addr_equal(&a, &b));

    assert_int_equal(addr_subnet_parse("10.1.0.0/16", &s), 0);
    assert_int_equal(s.prefix_len, 16);
    assert_true(addr_in_subnet(&a, &s));
    assert_int_equal(addr_subnet_parse("10.2.0.0/16", &s), 0);
    assert_false(addr_in_subnet(&a, &s));
    assert_int_equal(addr_subnet_parse("10.1.2.0/23", &s), 0);
    assert_true(addr_in_subnet(&a, &s));
    assert_int_equal(addr_subnet_parse("10.1.2.2/31", &s), 0);
    assert_true(addr_in_subnet(&a, &s));
    assert_int_equal(addr_subnet_parse("10.1.2.4/31", &s), 0);
    assert_false(addr_in_subnet(&a, &s));
    assert_int_equal(addr_subnet_parse("0/0", &s), 0);
    assert_true(addr_in_subnet(&a, &s));
    assert_false(addr_in_subnet(&b, &s)); /* IPv6 never in an IPv4 subnet */
    assert_int_equal(addr_subnet_parse("::/0", &s), 0);
    assert_true(addr_in_subnet(&b, &s));
    assert_int_equal(addr_subnet_parse("2001:db8::/32", &s), 0);
    assert_int_equal(addr_parse("2001:db8:ffff::1", &b), 0);
    assert_true(addr_in_subnet(&b, &s));
    assert_int_equal(addr_parse("2001:db9::1", &b), 0);
    assert_false(addr_in_subnet(&b, &s));
}

static void test_subnet_shorthand(void **state)
{
    struct addr_subnet s;
    char buf[ADDR_TEXT_MAX];
    (void)state;
    assert_int_equal(addr_subnet_parse("192.168.111", &s), 0);
    assert_int_equal(s.prefix_len, 24);
    assert_string_equal(addr_format(&s.addr, buf, sizeof buf), "192.168.111.0");
    assert_int_equal(addr_subnet_parse("10", &s), 0);
    assert_int_equal(s.prefix_len, 8);
    assert_int_equal(addr_subnet_parse("172.16", &s), 0);
    assert_int_equal(s.prefix_len, 16);
    assert_int_equal(addr_subnet_parse("1.2.3/8", &s), 0);
    assert_int_equal(s.prefix_len, 8);
    assert_int_equal(addr_subnet_parse("01.2.3.4", &s), 0);
    assert_int_equal(s.prefix_len, 32);
    assert_string_equal(addr_format(&s.addr, buf, sizeof buf), "1.2.3.4");
    assert_int_equal(addr_subnet_parse("1.2.3.0/024", &s), 0);
    assert_int_equal(s.prefix_len, 24);
    assert_int_equal(addr_subnet_parse("1.2.3.0/+24", &s), 0);
    assert_int_equal(addr_subnet_parse("2001:db8::/129", &s), 0); /* caller judges bits */
    assert_int_equal(s.prefix_len, 129);
    assert_int_equal(addr_subnet_parse("2001:db8::1", &s), 0);
    assert_int_equal(s.prefix_len, 128);

    assert_int_equal(addr_subnet_parse("256", &s), ADDR_SUBNET_BAD);
    assert_int_equal(addr_subnet_parse("1.2.3.256", &s), ADDR_SUBNET_BAD);
    assert_int_equal(addr_subnet_parse("-1", &s), ADDR_SUBNET_BAD);
    assert_int_equal(addr_subnet_parse("4294967295", &s), ADDR_SUBNET_BAD);
    assert_int_equal(addr_subnet_parse("1.2.3.0/-1", &s), ADDR_SUBNET_BAD);
    assert_int_equal(addr_subnet_parse("1.2.3.0/", &s), ADDR_SUBNET_BAD);
    assert_int_equal(addr_subnet_parse("1.2.3.0/24x", &s), ADDR_SUBNET_BAD);
    assert_int_equal(addr_subnet_parse("host/24", &s), ADDR_SUBNET_BAD);
    assert_int_equal(addr_subnet_parse("1.2.3.4.5", &s), ADDR_SUBNET_NOT_ADDR);
    assert_int_equal(addr_subnet_parse("1..2", &s), ADDR_SUBNET_NOT_ADDR);
    assert_int_equal(addr_subnet_parse("localhost", &s), ADDR_SUBNET_NOT_ADDR);
    assert_int_equal(addr_subnet_parse("0x10", &s), ADDR_SUBNET_NOT_ADDR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_equal_and_subnet),
        cmocka_unit_test(test_subnet_shorthand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
