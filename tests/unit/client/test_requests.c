/* client/cmd: the request encoder reproduces, byte for byte (sequence number aside), the 73
 * requests real chronyc 4.3 and 4.8 encoded for state-changing commands
 * (shared/vectors/cmdmon/chronyc-requests.tsv). Where 4.3 and 4.8 differ, tempusc matches
 * one of them on purpose: LOCAL2 unless a 4.6+ option is given (as 4.3), ADD_SOURCE with
 * max_unreach (as 4.8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "client/cmd.h"
#include "wire/cmdmon.h"

struct row {
    char version[8];
    char command[512];
    uint8_t bytes[1024];
    int len;
};

static int load(struct row *rows, int max)
{
    char path[512];
    static char line[8192];
    const char *shared = getenv("TEMPUS_SHARED");
    snprintf(path, sizeof path, "%s/vectors/cmdmon/chronyc-requests.tsv",
             shared ? shared : "/work/shared");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char *ver = strtok(line, "\t"), *cmd = strtok(NULL, "\t"), *hex = strtok(NULL, "\t");
        assert_non_null(hex);
        snprintf(rows[n].version, sizeof rows[n].version, "%s", ver);
        snprintf(rows[n].command, sizeof rows[n].command, "%s", cmd);
        int len = 0;
        for (; hex[0] && hex[1] && hex[0] != '\n'; hex += 2) {
            unsigned v;
            assert_int_equal(sscanf(hex, "%2x", &v), 1);
            rows[n].bytes[len++] = (uint8_t)v;
        }
        rows[n].len = len;
        n++;
    }
    fclose(f);
    return n;
}

/* Encodes what tempusc builds for row->command, with the captured sequence number. */
static int encode_ours(const struct row *row, uint8_t *buf, size_t cap)
{
    struct cmd_ctx c;
    struct cmdmon_request req;
    memset(&c, 0, sizeof c);
    c.numeric = true;
    if (cmd_build_request(&c, row->command, &req) != 0)
        return -1;
    req.version = CMDMON_PROTO_VERSION;
    req.sequence = (uint32_t)row->bytes[8] << 24 | (uint32_t)row->bytes[9] << 16 |
                   (uint32_t)row->bytes[10] << 8 | row->bytes[11];
    return cmdmon_request_encode(&req, buf, cap);
}

static bool same(const struct row *row, const uint8_t *buf, int len)
{
    return len == row->len && memcmp(buf, row->bytes, (size_t)len) == 0;
}

static void test_chronyc_requests(void **state)
{
    (void)state;
    static struct row rows[128];
    int n = load(rows, 128);
    assert_int_equal(n, 73);
    int matched = 0;
    for (int i = 0; i < n; i++) {
        uint8_t buf[1024];
        int len = encode_ours(&rows[i], buf, sizeof buf);
        if (len < 0)
            fail_msg("cannot build '%s'", rows[i].command);
        bool ok = same(&rows[i], buf, len);
        /* Which generation tempusc follows where the two differ. */
        bool add = !strncmp(rows[i].command, "add ", 4);
        bool local46 = strstr(rows[i].command, "activate") != NULL;
        bool local = !strncmp(rows[i].command, "local ", 6);
        bool expect_match;
        if (add)
            expect_match = !strcmp(rows[i].version, "4.8");
        else if (local && !local46 && strcmp(rows[i].command, "local off") != 0)
            expect_match = !strcmp(rows[i].version, "4.3");
        else if (!strcmp(rows[i].command, "local off"))
            expect_match = !strcmp(rows[i].version, "4.3");
        else
            expect_match = true;
        if (expect_match && !ok) {
            int d = 0;
            while (d < len && d < rows[i].len && buf[d] == rows[i].bytes[d])
                d++;
            fail_msg("%s '%s': differs at byte %d (%d vs %d bytes)", rows[i].version,
                     rows[i].command, d, len, rows[i].len);
        }
        if (!expect_match && ok)
            fail_msg("%s '%s' unexpectedly identical", rows[i].version, rows[i].command);
        /* The other generation of add differs only in max_unreach (body offset 348). */
        if (add && !ok) {
            assert_int_equal(len, rows[i].len);
            for (int b = 0; b < len; b++)
                if (buf[b] != rows[i].bytes[b] && (b < 20 + 348 || b >= 20 + 352))
                    fail_msg("'%s': 4.3 row differs at byte %d", rows[i].command, b);
        }
        matched += ok;
    }
    assert_true(matched >= 66);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    struct cmd_ctx c;
    struct cmdmon_request req;
    memset(&c, 0, sizeof c);
    c.numeric = true;
    static const char *const bad[] = {
        "burst 2",
        "burst x/4",
        "minpoll 192.0.2.1",
        "maxdelay 192.0.2.1 abc",
        "allow 300",
        "allow 192.0.2.0/33",
        "local stratum 99",
        "smoothtime now",
        "manual sometimes",
        "add server",
        "add router 192.0.2.1",
        "add server 192.0.2.1 port",
        "selectopts 192.0.2.1 prefer",
        "makestep 0.1",
        "reload",
        "offline 192.0.2.0/99",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cmd_build_request(&c, bad[i], &req) == 0)
            fail_msg("'%s' accepted", bad[i]);
    assert_int_equal(cmd_build_request(&c, "burst 2/4 127.0.0.1", &req), 0);
    assert_int_equal(req.command, CMDMON_REQ_BURST);
    assert_int_equal(req.u.mask_addr.n_good_samples, 2);
    assert_int_equal(req.u.mask_addr.mask.addr[3], 0xff);
    assert_int_equal(cmd_build_request(&c, "online ::1", &req), 0);
    assert_int_equal(req.u.mask_addr.mask.addr[15], 0xff);
    assert_int_equal(cmd_build_request(&c, "deny all", &req), 0);
    assert_int_equal(req.command, CMDMON_REQ_DENYALL);
    assert_int_equal(req.u.subnet.subnet_bits, 0);
    assert_int_equal(cmd_build_request(&c, "cmdallow 1.2", &req), 0);
    assert_int_equal(req.u.subnet.subnet_bits, 16);
    assert_int_equal(req.u.subnet.ip.addr[1], 2);
    assert_int_equal(cmd_build_request(&c, "local stratum 3 orphan", &req), 0);
    assert_int_equal(req.command, CMDMON_REQ_LOCAL2);
    assert_true(req.u.local.wait_unsynced_s == 300.0);
    assert_int_equal(cmd_build_request(&c, "delete ID#0000012345", &req), 0);
    assert_int_equal(req.u.ip.family, CMDMON_FAMILY_ID);
    assert_int_equal(req.u.ip.id, 12345);
}

int main(void)
{
    setenv("TZ", "UTC", 1); /* settime parses local time; the captures ran in UTC */
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chronyc_requests),
        cmocka_unit_test(test_syntax_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
