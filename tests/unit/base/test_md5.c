/* base/md5: RFC 1321 test suite, incremental updates, long input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/md5.h"
#include "base/prng.h"

static void hex(const uint8_t d[MD5_DIGEST_LEN], char out[33])
{
    for (int i = 0; i < MD5_DIGEST_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_rfc1321_suite(void **state)
{
    static const char *const cases[][2] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890"
         "123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    uint8_t d[MD5_DIGEST_LEN];
    char h[33];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        md5_digest(cases[i][0], strlen(cases[i][0]), d);
        hex(d, h);
        assert_string_equal(h, cases[i][1]);
    }
}

static void test_incremental_equals_oneshot(void **state)
{
    uint8_t data[300], d1[MD5_DIGEST_LEN], d2[MD5_DIGEST_LEN];
    struct prng p;
    (void)state;
    prng_seed(&p, 3);
    prng_fill(&p, data, sizeof data);
    for (size_t len = 0; len <= sizeof data; len++) {
        struct md5 m;
        size_t done = 0;
        md5_digest(data, len, d1);
        md5_init(&m);
        while (done < len) {
            size_t take = (size_t)prng_below(&p, 70);
            if (take > len - done)
                take = len - done;
            md5_update(&m, data + done, take);
            done += take;
        }
        md5_update(&m, NULL, 0);
        md5_final(&m, d2);
        assert_memory_equal(d1, d2, MD5_DIGEST_LEN);
    }
}

static void test_million_a(void **state)
{
    uint8_t block[1000], d[MD5_DIGEST_LEN];
    char h[33];
    struct md5 m;
    (void)state;
    memset(block, 'a', sizeof block);
    md5_init(&m);
    for (int i = 0; i < 1000; i++)
        md5_update(&m, block, sizeof block);
    md5_final(&m, d);
    hex(d, h);
    assert_string_equal(h, "7707d6ae4e027c70eea2a935c2296f21");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1321_suite),
        cmocka_unit_test(test_incremental_equals_oneshot),
        cmocka_unit_test(test_million_a),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
