/* base/log: the sink sees what passes the level filter, formatted, and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/log.h"

struct capture {
    int count;
    enum log_level last_level;
    char last[128];
};

static void capture_sink(void *ctx, enum log_level level, const char *msg)
{
    struct capture *c = ctx;
    c->count++;
    c->last_level = level;
    strncpy(c->last, msg, sizeof c->last - 1);
}

static void test_filter_and_format(void **state)
{
    struct capture c = {0};
    (void)state;
    log_set_sink(capture_sink, &c);
    log_set_min_level(LOG_LEVEL_INFO);
    log_debug("dropped %d", 1);
    assert_int_equal(c.count, 0);
    log_warn("kept %d %s", 42, "x");
    assert_int_equal(c.count, 1);
    assert_int_equal(c.last_level, LOG_LEVEL_WARN);
    assert_string_equal(c.last, "kept 42 x");
    log_set_sink(NULL, NULL);
    log_error("nowhere");
    assert_int_equal(c.count, 1);
    assert_false(log_enabled(LOG_LEVEL_ERR));
}

static void test_level_names(void **state)
{
    (void)state;
    assert_string_equal(log_level_name(LOG_LEVEL_ERR), "ERROR");
    assert_string_equal(log_level_name(LOG_LEVEL_DEBUG), "DEBUG");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_and_format),
        cmocka_unit_test(test_level_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
