/* core/keys: chrony's key file format (every accepted form, every refused line with its
 * file:line message, duplicates) and MACs (made and checked, with digests computed by
 * Python's hashlib as H(key || packet), NTPv4 truncation to 20 octets, NTPv3 whole digests,
 * every way a MAC can be wrong). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/keys.h"

struct msgs {
    int n;
    char text[16][256];
};

static void collect(void *ctx, const char *msg)
{
    struct msgs *m = ctx;
    assert_true(m->n < 16);
    snprintf(m->text[m->n++], sizeof m->text[0], "%s", msg);
}

static struct keys *parse(const char *text, struct msgs *m)
{
    memset(m, 0, sizeof *m);
    return keys_parse(text, strlen(text), "/etc/tempus.keys", collect, m);
}

static void test_accepted_forms(void **state)
{
    static const char text[] = "# chrony.keys\n"
                               "\n"
                               "   ! another comment\n"
                               "; and %\n"
                               "%x\n"
                               "10 MD5 HEX:0102030405060708090A0B0C0D0E0F10\n"
                               "2 SHA1 ASCII:secretsha1\n"
                               "\t3   SHA256\tHEX:00112233445566778899aabbccddeeff  \r\n"
                               "4 SHA512 plainpass\n"
                               "5 noType\n"
                               "6 SHA384 ASCII:\n" /* empty after ASCII: refused */
                               "4294967295 ASCII:ASCII:x";
    struct msgs m;
    struct keys *k = parse(text, &m);
    const struct keys_key *e;
    (void)state;
    assert_non_null(k);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.text[0], "Could not decode key 6 at line 11 in file /etc/tempus.keys");
    assert_int_equal(keys_count(k), 6);
    /* sorted by ID */
    assert_int_equal(keys_at(k, 0)->id, 2);
    assert_int_equal(keys_at(k, 5)->id, 4294967295u);
    assert_null(keys_at(k, 6));

    e = keys_find(k, 10);
    assert_non_null(e);
    assert_int_equal(e->alg, HASH_MD5);
    assert_int_equal(e->len, 16);
    assert_int_equal(e->value[0], 1);
    assert_int_equal(e->value[15], 0x10);
    assert_int_equal(e->line, 6);
    e = keys_find(k, 2);
    assert_int_equal(e->alg, HASH_SHA1);
    assert_int_equal(e->len, 10);
    assert_memory_equal(e->value, "secretsha1", 10);
    e = keys_find(k, 3);
    assert_int_equal(e->alg, HASH_SHA256);
    assert_int_equal(e->len, 16);
    assert_int_equal(e->value[15], 0xff);
    e = keys_find(k, 4);
    assert_int_equal(e->alg, HASH_SHA512);
    assert_memory_equal(e->value, "plainpass", 9);
    e = keys_find(k, 5); /* two words: MD5 and the text */
    assert_int_equal(e->alg, HASH_MD5);
    assert_int_equal(e->len, 6);
    assert_memory_equal(e->value, "noType", 6);
    e = keys_find(k, 4294967295u);
    assert_int_equal(e->len, 7);
    assert_memory_equal(e->value, "ASCII:x", 7);
    assert_null(keys_find(k, 6));
    assert_null(keys_find(k, 0));
    assert_null(keys_find(k, 7));
    assert_null(keys_find(NULL, 2));
    assert_int_equal(keys_count(NULL), 0);
    keys_free(k);
    keys_free(NULL);
}

static void test_refused_lines(void **state)
{
    static const char text[] = "1 MD5 HEX:0102\n"         /* 1: ok */
                               "2 MD5 HEX:010\n"          /* 2: odd hex */
                               "3 MD5 HEX:01zz\n"         /* 3: not hex */
                               "4 MD5 HEX:\n"             /* 4: empty */
                               "5 md5 abc\n"              /* 5: type is case-sensitive */
                               "6 AES128 HEX:00\n"        /* 6: chrony's, not ours */
                               "7 SHA3-256 abc\n"         /* 7: chrony's, not ours */
                               "8 RIPEMD abc\n"           /* 8: nobody's */
                               "0 MD5 abc\n"              /* 9: ID 0 */
                               "4294967296 MD5 abc\n"     /* 10: ID too large */
                               "12a MD5 abc\n"            /* 11: not a number */
                               "-1 MD5 abc\n"             /* 12: not a number */
                               "13\n"                     /* 13: one word */
                               "14 MD5 abc extra\n"       /* 14: four words */
                               "1 SHA1 HEX:0304\n"        /* 15: duplicate of line 1 */
                               "15 SHA1 ASCII:fifteen\n"; /* 16: ok */
    struct msgs m;
    struct keys *k = parse(text, &m);
    static const char *const want[] = {
        "Could not decode key 2 at line 2 in file /etc/tempus.keys",
        "Could not decode key 3 at line 3 in file /etc/tempus.keys",
        "Could not decode key 4 at line 4 in file /etc/tempus.keys",
        "Invalid type in key 5 at line 5 in file /etc/tempus.keys",
        "Unsupported type AES128 in key 6 at line 6 in file /etc/tempus.keys (tempus has MD5 "
        "SHA1 SHA256 SHA384 SHA512)",
        "Unsupported type SHA3-256 in key 7 at line 7 in file /etc/tempus.keys (tempus has MD5 "
        "SHA1 SHA256 SHA384 SHA512)",
        "Invalid type in key 8 at line 8 in file /etc/tempus.keys",
        "Invalid key ID 0 at line 9 in file /etc/tempus.keys (IDs are 1 to 4294967295)",
        "Could not parse key at line 10 in file /etc/tempus.keys",
        "Could not parse key at line 11 in file /etc/tempus.keys",
        "Could not parse key at line 12 in file /etc/tempus.keys",
        "Could not parse key at line 13 in file /etc/tempus.keys",
        "Could not parse key at line 14 in file /etc/tempus.keys",
        "Duplicate key 1 at line 15 in file /etc/tempus.keys (the key at line 1 is used)",
    };
    (void)state;
    assert_non_null(k);
    assert_int_equal(m.n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < m.n; i++)
        assert_string_equal(m.text[i], want[i]);
    assert_int_equal(keys_count(k), 2);
    /* the first of two lines with ID 1 is kept */
    assert_int_equal(keys_find(k, 1)->alg, HASH_MD5);
    assert_int_equal(keys_find(k, 1)->value[1], 2);
    assert_int_equal(keys_find(k, 15)->line, 16);
    keys_free(k);
}

static void test_odd_inputs(void **state)
{
    struct msgs m;
    struct keys *k;
    char *big;
    (void)state;
    /* empty text, a NUL inside a line, a line over chrony's 2047 characters */
    k = keys_parse("", 0, NULL, NULL, NULL);
    assert_non_null(k);
    assert_int_equal(keys_count(k), 0);
    keys_free(k);

    memset(&m, 0, sizeof m);
    k = keys_parse("1 MD5 a\0b\n2 MD5 c", 17, "f", collect, &m);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.text[0], "Could not parse key at line 1 in file f");
    assert_int_equal(keys_count(k), 1);
    assert_non_null(keys_find(k, 2));
    keys_free(k);

    big = malloc(3000);
    memset(big, 'a', 3000);
    memcpy(big, "1 MD5 ", 6);
    big[2999] = '\0';
    k = parse(big, &m);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.text[0], "Line 1 in file /etc/tempus.keys is too long (more than 2047 "
                                   "characters)");
    assert_int_equal(keys_count(k), 0);
    keys_free(k);
    /* 2047 characters is fine: a 2041-byte key */
    big[2047] = '\0';
    k = parse(big, &m);
    assert_int_equal(m.n, 0);
    assert_int_equal(keys_find(k, 1)->len, 2041);
    keys_free(k);
    free(big);
}

static const uint8_t pkt48[48] = {0x23, [40] = 0xe9, 0x5a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};

static void unhex(const char *h, uint8_t *out)
{
    for (size_t i = 0; h[2 * i]; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

struct macvec {
    uint32_t id;
    unsigned version;
    size_t mac_len; /* key ID + digest as sent */
    const char *digest_hex;
};

static void test_macs(void **state)
{
    static const char text[] = "1 MD5 HEX:0102030405060708090A0B0C0D0E0F10\n"
                               "2 SHA1 abcdefghij\n"
                               "3 SHA256 secret256\n"
                               "4 SHA512 SSSSSSSSSS\n";
    /* digests of H(key || pkt48) from Python's hashlib */
    static const struct macvec vec[] = {
        {1, 4, 20, "5c7264776dd273d93b5f086bd2e6ba4d"},
        {1, 3, 20, "5c7264776dd273d93b5f086bd2e6ba4d"},
        {2, 4, 24, "97d4e143b853a6163127ce86beedb7b95526a1d0"},
        {3, 4, 24, "4b921f2594a81961a0b2fbf08d7ca17c9deae240"},
        {3, 3, 36, "4b921f2594a81961a0b2fbf08d7ca17c9deae240edc98b19cb59c885f9588c0c"},
        {4, 4, 24, "edd1f717db4b7beff3f3dc6d65828373c19c7c58"},
        {4, 3, 68,
         "edd1f717db4b7beff3f3dc6d65828373c19c7c58f918cab86c56ebe37218c5ee336d33db3c"
         "10879c62ca57cda05bbc253e26757339b97e2e2e2e3a079b60c668"},
    };
    struct msgs m;
    struct keys *k = parse(text, &m);
    (void)state;
    assert_int_equal(m.n, 0);
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        const struct keys_key *key = keys_find(k, vec[i].id);
        uint8_t buf[48 + 68 + 8], want[64];
        size_t dl = vec[i].mac_len - 4, n;
        memset(buf, 0xAA, sizeof buf);
        memcpy(buf, pkt48, 48);
        buf[0] = (uint8_t)(vec[i].version << 3 | 3);
        /* the test digests were made with version 4 in byte 0 */
        if (vec[i].version != 4)
            buf[0] = 0x23;
        assert_int_equal(keys_digest_len(key, vec[i].version), dl);
        n = keys_sign(key, vec[i].version, buf, 48, sizeof buf);
        assert_int_equal(n, 48 + vec[i].mac_len);
        assert_int_equal(buf[n], 0xAA); /* nothing written past it */
        assert_int_equal(buf[48] << 24 | buf[49] << 16 | buf[50] << 8 | buf[51], vec[i].id);
        unhex(vec[i].digest_hex, want);
        assert_memory_equal(buf + 52, want, dl);
        assert_true(keys_check(key, vec[i].version, buf, 48, buf + 48, vec[i].mac_len));
        /* one bit off anywhere: in the digest, in the key ID, in the packet */
        buf[52 + dl - 1] ^= 1;
        assert_false(keys_check(key, vec[i].version, buf, 48, buf + 48, vec[i].mac_len));
        buf[52 + dl - 1] ^= 1;
        buf[51] ^= 8;
        assert_false(keys_check(key, vec[i].version, buf, 48, buf + 48, vec[i].mac_len));
        buf[51] ^= 8;
        buf[44] ^= 0x80;
        assert_false(keys_check(key, vec[i].version, buf, 48, buf + 48, vec[i].mac_len));
        buf[44] ^= 0x80;
        /* a right digest of the wrong length: chronyd drops these too */
        assert_false(keys_check(key, vec[i].version, buf, 48, buf + 48, vec[i].mac_len - 4));
        assert_false(
            keys_check(key, vec[i].version == 4 ? 3 : 4, buf, 48, buf + 48, vec[i].mac_len) &&
            hash_len(key->alg) > 20);
        /* another key with the same bytes fails */
        assert_false(keys_check(keys_find(k, vec[i].id % 4 + 1), vec[i].version, buf, 48, buf + 48,
                                vec[i].mac_len));
        /* no room */
        assert_int_equal(keys_sign(key, vec[i].version, buf, 48, 48 + vec[i].mac_len - 1), 0);
    }
    keys_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_forms),
        cmocka_unit_test(test_refused_lines),
        cmocka_unit_test(test_odd_inputs),
        cmocka_unit_test(test_macs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
