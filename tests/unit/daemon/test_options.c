/* daemon/options: chronyd's command line, including directives mixed with options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/options.h"

#define ARGV(...)                                                                                  \
    (char *[])                                                                                     \
    {                                                                                              \
        "tempusd", __VA_ARGS__, NULL                                                               \
    }
#define ARGC(...)          ((int)(sizeof((char *[]){"tempusd", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, err, ...) options_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o, err, sizeof err)

static void test_flags_and_arguments(void **state)
{
    (void)state;
    struct options o;
    char err[128];
    assert_int_equal(PARSE(&o, err, "-d", "-x", "-f", "/tmp/c.conf", "-u", "nobody", "-L1", "-t",
                           "30", "-6", "-U", "-n", "-P", "5", "-F", "-1", "-m", "-r", "-R", "-s"),
                     0);
    assert_int_equal(o.debug, 1);
    assert_true(o.nofork);
    assert_true(o.no_clock_control);
    assert_string_equal(o.conf_file, "/tmp/c.conf");
    assert_string_equal(o.user, "nobody");
    assert_int_equal(o.log_level, 1);
    assert_int_equal(o.timeout_s, 30);
    assert_int_equal(o.family, 6);
    assert_true(o.no_root_check && o.mlock && o.reload_dump && o.restart && o.set_from_rtc);
    assert_int_equal(o.sched_priority, 5);
    assert_int_equal(o.scfilter, -1);
    assert_int_equal(o.n_directives, 0);
    assert_int_equal(o.oneshot, 0);
}

static void test_clusters_and_directives(void **state)
{
    (void)state;
    struct options o;
    char err[128];
    /* -Q implies no clock control; directives may come before and after options */
    assert_int_equal(PARSE(&o, err, "server 127.0.0.1 iburst", "-dQ", "maxsamples 1", "-4"), 0);
    assert_int_equal(o.oneshot, 'Q');
    assert_true(o.no_clock_control);
    assert_int_equal(o.debug, 1);
    assert_int_equal(o.family, 4);
    assert_int_equal(o.n_directives, 2);
    assert_string_equal(o.directives[0], "server 127.0.0.1 iburst");
    assert_string_equal(o.directives[1], "maxsamples 1");
    /* -q alone keeps clock control (the caller adds -x in tests) */
    assert_int_equal(PARSE(&o, err, "-q", "server x"), 0);
    assert_int_equal(o.oneshot, 'q');
    assert_false(o.no_clock_control);
    /* attached argument, and "--" */
    assert_int_equal(PARSE(&o, err, "-f/etc/x.conf", "--", "-not-an-option"), 0);
    assert_string_equal(o.conf_file, "/etc/x.conf");
    assert_int_equal(o.n_directives, 1);
    assert_string_equal(o.directives[0], "-not-an-option");
    assert_int_equal(o.timeout_s, -1);
}

static void test_errors(void **state)
{
    (void)state;
    struct options o;
    char err[128];
    assert_int_equal(PARSE(&o, err, "-z"), -1);
    assert_string_equal(err, "invalid option -- 'z'");
    assert_int_equal(PARSE(&o, err, "-d", "-f"), -1);
    assert_string_equal(err, "option requires an argument -- 'f'");
    assert_int_equal(PARSE(&o, err, "-L", "7"), -1);
    assert_int_equal(PARSE(&o, err, "-t", "abc"), -1);
    assert_int_equal(PARSE(&o, err, "--bogus"), -1);
    /* --help and --version win wherever they are, even after a bad option */
    assert_int_equal(PARSE(&o, err, "-z", "--version"), 0);
    assert_true(o.version);
    assert_int_equal(PARSE(&o, err, "-h"), 0);
    assert_true(o.help);
    char usage[2048];
    options_usage(usage, sizeof usage);
    assert_non_null(strstr(usage, "Usage: tempusd [OPTION]... [DIRECTIVE]..."));
    assert_non_null(strstr(usage, "  -x\t\tDon't control clock\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_and_arguments),
        cmocka_unit_test(test_clusters_and_directives),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
