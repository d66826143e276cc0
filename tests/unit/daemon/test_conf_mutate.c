/* daemon/conf under seeded mutation: thousands of damaged configs (flipped bytes, spliced
 * tokens, cut lines, odd numbers) must each give 0 or a located error, never a crash, a leak
 * or an out-of-range line number. Deterministic (fixed seed); run it in the ASan build to
 * make memory errors fatal. A stand-in until a libFuzzer target exists. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/conf.h"

static const char *const corpus[] = {
    "server 192.0.2.1 iburst minpoll 4 maxpoll 6 prefer",
    "pool 2.debian.pool.ntp.org iburst maxsources 3",
    "peer 192.0.2.5 key 7 xleave",
    "server a port 1123 maxdelay 0.3 offset +0.5 asymmetry 0.1 extfield F323 presend 9",
    "allow 192.168.111.0/24",
    "deny all 10/8",
    "cmdallow 2001:db8::/32",
    "local stratum 10 orphan distance 0.5",
    "makestep 1.0 3",
    "maxchange 1000 1 2",
    "driftfile /var/lib/tempus/drift",
    "log tracking measurements statistics",
    "refclock SHM 0 poll 3 refid GPS offset 0.2 lock PPS",
    "hwtimestamp eth0 minpoll -2 rxfilter ntp",
    "ratelimit interval 1 burst 16 leak 2",
    "smoothtime 400 0.001024 leaponly",
    "tempcomp /sys/x 30 26000 0.0 0.000183 0.0",
    "broadcast 64 192.0.2.255 1123",
    "bindcmdaddress /run/x.sock",
    "include /inc/a.conf",
    "confdir /d1 /d2",
    "sourcedir /s1",
    "initstepslew 10 192.0.2.1",
    "ntstrustedcerts 1 /etc/x.pem",
    "# comment",
    "! another",
    "",
};

static const char *const tokens[] = {
    " ",    "\t",     "\n",      "\r",      "#",       "!",       "%",           ";",
    "/",    ":",      ".",       "-",       "+",       "0",       "1e",          "x",
    "all",  "iburst", "minpoll", "stratum", "include", "confdir", "99999999999", "nan",
    "\xff", "F323",   "/0",      "::",      "1.2.3",   "server",  "\0",
};

struct fake_fs {
    int depth;
};

static int fake_read(void *ctx, const char *path, char **data, size_t *len)
{
    (void)ctx;
    /* Every include yields a file that includes itself: exercises the depth limit. */
    const char *text =
        strcmp(path, "/inc/a.conf") == 0 ? "rtcsync\ninclude /inc/a.conf\n" : "manual\n";
    if (strstr(path, "missing") != NULL)
        return -ENOENT;
    *len = strlen(text);
    *data = malloc(*len + 1);
    memcpy(*data, text, *len + 1);
    return 0;
}

static int fake_glob(void *ctx, const char *pattern, char ***paths, size_t *n)
{
    (void)ctx;
    if (strchr(pattern, '?') != NULL)
        return -1;
    *paths = malloc(sizeof **paths);
    (*paths)[0] = strdup(pattern);
    *n = 1;
    return 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint32_t next_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

static void test_mutations(void **state)
{
    struct fake_fs fs = {0};
    struct conf_env env = {&fs, fake_read, fake_glob, NULL};
    size_t ncorpus = sizeof corpus / sizeof corpus[0];
    size_t ntokens = sizeof tokens / sizeof tokens[0];
    static char text[16384];
    int accepted = 0, rejected = 0;
    (void)state;

    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        int nlines = 1 + (int)(next_rand() % 6);
        for (int l = 0; l < nlines; l++) {
            const char *line = corpus[next_rand() % ncorpus];
            size_t ll = strlen(line);
            if (len + ll + 2 >= sizeof text - 64)
                break;
            memcpy(text + len, line, ll);
            len += ll;
            text[len++] = '\n';
        }
        int nmut = (int)(next_rand() % 4);
        for (int m = 0; m < nmut && len > 0; m++) {
            size_t pos = next_rand() % len;
            switch (next_rand() % 4) {
            case 0: /* flip a byte */
                text[pos] = (char)(next_rand() & 0xff);
                break;
            case 1: { /* splice a token */
                const char *t = tokens[next_rand() % ntokens];
                size_t tl = strlen(t) > 0 ? strlen(t) : 1;
                if (len + tl < sizeof text - 64) {
                    memmove(text + pos + tl, text + pos, len - pos);
                    memcpy(text + pos, t, tl);
                    len += tl;
                }
                break;
            }
            case 2: /* cut */
                len = pos;
                break;
            default: { /* a very long run */
                size_t run = 1500 + next_rand() % 1200;
                if (len + run < sizeof text - 64) {
                    memmove(text + pos + run, text + pos, len - pos);
                    memset(text + pos, 'a', run);
                    len += run;
                }
                break;
            }
            }
        }
        int newlines = 0;
        for (size_t i = 0; i < len; i++)
            newlines += text[i] == '\n';

        struct conf c;
        struct conf_error err;
        conf_init(&c);
        int r = conf_parse_text(&c, iter % 7 == 0 ? NULL : &env, "m.conf", text, len, &err);
        if (r == 0) {
            accepted++;
        } else {
            assert_int_equal(r, -1);
            rejected++;
            assert_true(err.msg[0] != '\0');
            assert_true(err.line >= 0);
            if (strcmp(err.file, "m.conf") == 0)
                assert_true(err.line <= newlines + 1);
        }
        assert_true(c.lines.n <= (size_t)(newlines + 1) * 12);
        conf_free(&c);
    }
    /* The generator must exercise both outcomes, or it proves nothing. */
    assert_true(accepted > 1000);
    assert_true(rejected > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
