/* base/sha1, base/sha256, base/sha512 (+384) and base/hash against FIPS 180-2 / NIST CSRC
 * example vectors ("abc", the empty message, the 448- and 896-bit messages, one million
 * 'a'), and at the padding boundaries (55..129 bytes) against digests computed with Python's
 * hashlib (OpenSSL), an independent implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/hash.h"
#include "base/md5.h"
#include "base/sha1.h"
#include "base/sha256.h"
#include "base/sha512.h"

static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char m896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                           "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

enum msg { M_EMPTY, M_ABC, M_448, M_896, M_MILLION };

struct vec {
    enum msg msg;
    enum hash_alg alg;
    const char *hex;
};

static const struct vec fips[] = {
    {M_EMPTY, HASH_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {M_EMPTY, HASH_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {M_EMPTY, HASH_SHA384,
     "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b"
     "95b"},
    {M_EMPTY, HASH_SHA512,
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877ee"
     "c2f63b931bd47417a81a538327af927da3e"},
    {M_ABC, HASH_SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {M_ABC, HASH_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {M_ABC, HASH_SHA384,
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c82"
     "5a7"},
    {M_ABC, HASH_SHA512,
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3fee"
     "bbd454d4423643ce80e2a9ac94fa54ca49f"},
    {M_448, HASH_SHA1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    {M_448, HASH_SHA256, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {M_448, HASH_SHA384,
     "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c84"
     "52b"},
    {M_448, HASH_SHA512,
     "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789"
     "ca031ad85c7a71dd70354ec631238ca3445"},
    {M_896, HASH_SHA1, "a49b2446a02c645bf419f995b67091253a04a259"},
    {M_896, HASH_SHA256, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    {M_896, HASH_SHA384,
     "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746"
     "039"},
    {M_896, HASH_SHA512,
     "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b54"
     "33ac7d329eeb6dd26545e96e55b874be909"},
    {M_MILLION, HASH_SHA1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
    {M_MILLION, HASH_SHA256, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    {M_MILLION, HASH_SHA384,
     "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8"
     "985"},
    {M_MILLION, HASH_SHA512,
     "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c"
     "31beb009c5c2c49aa2e4eadb217ad8cc09b"},
};

/* Messages of length L with byte i = (7 * i) % 251; digests MD5, SHA1, SHA256, SHA384, SHA512. */
static const struct {
    size_t len;
    const char *hex[5];
} boundary[] = {
    {55,
     {"a3c81137436036ad8b477da25301a150", "a83f94113f5292bb7ed9d7df07178ad7d931341a",
      "8af594de0e003fdee5c8bb088216c824349b4137070f559574f4a4bddd27b714",
      "86c58d643a4e3cbd260da7217a508978705fb5f13b5ab67a775a10dbe88e46211ec8631b46d6d8518c7ffa55c5b4"
      "d3f3",
      "90a77e79f6052885cb52ad3d6ac586fcf7947a135ffd961bd9fd2b8fcdedf43c66b3cb3cbb5111351c58cc5e3d34"
      "9aec35bf0d741ddc3625edbe1ebe4e903039"}},
    {56,
     {"64c7901679c62fee89dae9fdc90f6cdc", "372e1b20329e0b2862472089ac00c55505116275",
      "db81bc2bfd43620591df192139062da77d4c376f1888ea3d2190bd07c8d901f9",
      "b1c9c85c82f0506b7cb96bd223ead19a24169d64b121a8297cae103b63a9edc52dbcb7632587136e9fab68adf3a2"
      "e447",
      "0f25b2ab8f5e12033456f27cac35d4905646d764ebbd2cf7451ce79d08a0c24e047732c04d8522e34ee8879a4237"
      "5d625997a8595249ce1b331d95247ecba7ce"}},
    {63,
     {"ca2a2c51613f550d77bfa700fa71b2f3", "6944938dc131b6453b7d9637cfcbad8a3db28104",
      "bd535b38bf0d0d1a09d370b7e34b2696cea3767801a45d5611a4aaa6954e8527",
      "b7d54226e82f1c2f8df5afa8d3e84992c6bc8c3cb5d47ad4b68a231e9fab5182ad45b1badc7abb63ba6ee23b69d3"
      "bb12",
      "86c3dc352fcf21a42857184f5da696d2813236c467c8035c47e8171931ffacf2bdf257ba06d87e7fe3dcce8ce2fd"
      "bb59ddf10069e30968207fa7389311becdb1"}},
    {64,
     {"c1e181645d10867b9810b9ab454f39fd", "aec4b7f13a2b75ec13bc0c3f13fa55caf97e621d",
      "292be91abe8c0909fe3d26575af5755eee74d23816dc68c3ba41765136967654",
      "ade0afdd52592bace61ef2a286b2e40f7bc6e46e4d4cac580c9f191ea738dd7c5db62f482d94053268bd8f7d6995"
      "13a5",
      "9297fd26ad130320d7606e3f1559c24c3e1ae494623f32f648c8bfb3d8aa511f030bc0da3ced04b805184bb517e2"
      "79ee8ba4480a8f5bcc30f6579d82a095b1ed"}},
    {111,
     {"2b60d439cbc769d009545e421fe67d0f", "bc4bd1d43a2f77b0b800569fdcca14d79026f068",
      "8e2fd1aa2d84835ec4d8c415fdcddff613de1c716daaf658078f10474736e639",
      "d5e8553eb173386fd81a97c28e4a08601a5905c0cc5303eede0157579b3c48785d2f20b06a72848b36b383e793da"
      "bac4",
      "5216d13709f87553bb90f2b3132e9288ab8a4b5da592ddf50e4318297b0063cf3796a6a5fd64ae324a260f0d52a4"
      "9888912baa009d38bfb354be1d914af93439"}},
    {112,
     {"f0c433855caf8bb978bab9475116badf", "6493717e791a3f85a4f539a2cd6b35ab29750c8f",
      "6636edfe65fc8ecc85cf96ef838fc95086867aef6123859e9b9f20805b247cbc",
      "ded6b6b8bfea17c567cd8d4dd435265aa30a802f74a8ab05a96aebc9c125aa0f12ba6b1ac74edf31686f946ea4cb"
      "e64d",
      "d649bd41483483d5084f9e6fd7dc99cfd6652784e8b8c460446c7df8a42d10ccb7ef1d1cd98db5515ae852b18bb5"
      "20653bb05f09ef06a3be70794275fd510136"}},
    {119,
     {"bbee0fa54927be9cec551823419525d6", "43610a35bbf6783ba62fc82d421abc8b2f3e1abf",
      "d367ab298e74477421127b0b448667c37c006c636f5738f081c39388756e5fad",
      "89058cd342fae912f77c5db6e301ef0882b5f16c35b9003dde35deb1d809f52dd07b460294899e39792f4cb35d26"
      "a8dd",
      "386bffb70da8271ab4c80fc8d2b3e13aa871bcae514439ad3df4e7ac0a5afd523e6bea258fcb82e72d2f399bd910"
      "938e9501719e06394c2647fe57449bcb0a18"}},
    {127,
     {"5fb11d06c9273fdf705c65afd0a39694", "66ac6c2e5cd910ce898e7bd293ed6851b716b8c1",
      "770cba7b80c7615a327db5812ccd3f80895d801b587448fcd0b2c1a10f5c88a3",
      "68009c05dc8647b1ada0608a257c13ad481b5c537e9fcd130d8bc41f5ee7dfff4b6f6a9db4251f9e37eaab825916"
      "2432",
      "5f7a1b38d6f68c860a848b423714bf00dbfa03caa8fcf8bb1655db4f8ae5aa5dc6c9bbb5b598ef994f61812e3cfa"
      "28080eca5f3618af5d10213ff898a836eac6"}},
    {128,
     {"3eba58a155f6aa0ef467626f0e78d53b", "ddde2e96d57b78eda0da1151110a11eaa1d21d7b",
      "cb5311e1d7aa8e11d6af7081f3ffc3e4efa008c7483a1a791fe170bf37546ba7",
      "81a480b144ad0b7596cd061775f2f44c1de29de92ccfa06a34fd8a0a65693f7aa8e00b12cfedb09d1ba04a4fe91c"
      "38ef",
      "605ace9e1ce61b88274cad94302e92eb00cf23718c85b0f22c7ede8f080f02baab0d21d6f123dcc04de19f0b83bf"
      "0ffb4962a575c03335e7772d938ed66adca4"}},
    {129,
     {"a80321e4a33967fbffb1b55d8a9382a3", "8101d2f29d6595918892dc4a9792dc43fb08a506",
      "b9e17b1020711e1a6f25633f677a750b3d54399773eb191acac2cb8c7c8b2541",
      "b11446e7209026b5f7a2dc1bb91a0f75cf10093636477d008d4b3cef369d918f031b6f15a0f483706f0e8d394e3c"
      "8ee2",
      "5474d0cb46dbfa325fc3245adcf3b6a173fcb7c255fbba729f08ede4959d17a313c1b68c81bf15b1aad1419bd958"
      "29dd86080144a9d2466fde82b47cccf4545f"}},
    {200,
     {"54d1434448caf5a019be2b09287f3949", "2e7e8f63209d35158386d0cb3449389a7820a412",
      "fcfa8eb2ae47de09df3e42e48371d9ea7446fb378097f8ef9bf743d9856f50b6",
      "f2910de18809c3c81d0b27ec0b37737854021bf7fb0fe15a97198c571b137194dcacdd2563915ec446a742946f45"
      "cc89",
      "31e2886d6ae62baf3a2da009dc35ad16e38cfa02f2905b9771a032a5ab8268365e89c172e79d151a0ce825b32e19"
      "75a38749943fc6985499fcb9354fe042a64c"}},
};
static void hex_of(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static uint8_t *message(enum msg m, size_t *len)
{
    uint8_t *buf;
    switch (m) {
    case M_EMPTY:
        *len = 0;
        return calloc(1, 1);
    case M_ABC:
        *len = 3;
        buf = malloc(3);
        memcpy(buf, "abc", 3);
        return buf;
    case M_448:
        *len = strlen(m448);
        buf = malloc(*len);
        memcpy(buf, m448, *len);
        return buf;
    case M_896:
        *len = strlen(m896);
        buf = malloc(*len);
        memcpy(buf, m896, *len);
        return buf;
    case M_MILLION:
    default:
        *len = 1000000;
        buf = malloc(*len);
        memset(buf, 'a', *len);
        return buf;
    }
}

/* The module's own one-shot function (not the dispatcher) for each algorithm. */
static void direct(enum hash_alg alg, const uint8_t *p, size_t n, uint8_t *d)
{
    switch (alg) {
    case HASH_MD5:
        md5_digest(p, n, d);
        break;
    case HASH_SHA1:
        sha1_digest(p, n, d);
        break;
    case HASH_SHA256:
        sha256_digest(p, n, d);
        break;
    case HASH_SHA384:
        sha384_digest(p, n, d);
        break;
    case HASH_SHA512:
    default:
        sha512_digest(p, n, d);
        break;
    }
}

static void test_fips_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fips / sizeof fips[0]; i++) {
        size_t len, n = hash_len(fips[i].alg);
        uint8_t *m = message(fips[i].msg, &len);
        uint8_t d[HASH_MAX_LEN];
        char hex[2 * HASH_MAX_LEN + 1];
        direct(fips[i].alg, m, len, d);
        hex_of(d, n, hex);
        assert_string_equal(hex, fips[i].hex);
        /* the dispatcher, with the message split in two at an odd place */
        memset(d, 0, sizeof d);
        assert_int_equal(
            hash_digest2(fips[i].alg, m, len / 3, m + len / 3, len - len / 3, d, sizeof d), n);
        hex_of(d, n, hex);
        assert_string_equal(hex, fips[i].hex);
        free(m);
    }
}

static void test_boundaries_and_chunks(void **state)
{
    static const enum hash_alg order[5] = {HASH_MD5, HASH_SHA1, HASH_SHA256, HASH_SHA384,
                                           HASH_SHA512};
    (void)state;
    for (size_t i = 0; i < sizeof boundary / sizeof boundary[0]; i++) {
        uint8_t m[256];
        size_t len = boundary[i].len;
        for (size_t j = 0; j < len; j++)
            m[j] = (uint8_t)((7 * j) % 251);
        for (int a = 0; a < 5; a++) {
            uint8_t d[HASH_MAX_LEN];
            char hex[2 * HASH_MAX_LEN + 1];
            size_t n = hash_len(order[a]);
            direct(order[a], m, len, d);
            hex_of(d, n, hex);
            assert_string_equal(hex, boundary[i].hex[a]);
            /* every split point gives the same digest */
            for (size_t cut = 0; cut <= len; cut += 13) {
                memset(d, 0, sizeof d);
                hash_digest2(order[a], m, cut, m + cut, len - cut, d, sizeof d);
                hex_of(d, n, hex);
                assert_string_equal(hex, boundary[i].hex[a]);
            }
        }
        /* byte-at-a-time updates */
        {
            struct sha512 s5;
            struct sha256 s2;
            struct sha1 s1;
            uint8_t d[HASH_MAX_LEN];
            char hex[2 * HASH_MAX_LEN + 1];
            sha512_init(&s5);
            sha256_init(&s2);
            sha1_init(&s1);
            for (size_t j = 0; j < len; j++) {
                sha512_update(&s5, m + j, 1);
                sha256_update(&s2, m + j, 1);
                sha1_update(&s1, m + j, 1);
            }
            sha512_final(&s5, d);
            hex_of(d, 64, hex);
            assert_string_equal(hex, boundary[i].hex[4]);
            sha256_final(&s2, d);
            hex_of(d, 32, hex);
            assert_string_equal(hex, boundary[i].hex[2]);
            sha1_final(&s1, d);
            hex_of(d, 20, hex);
            assert_string_equal(hex, boundary[i].hex[1]);
        }
    }
}

static void test_truncation_and_names(void **state)
{
    uint8_t full[HASH_MAX_LEN], part[HASH_MAX_LEN];
    (void)state;
    /* an NTPv4 MAC keeps the first 20 bytes of a longer digest */
    assert_int_equal(hash_digest2(HASH_SHA512, "k", 1, "pkt", 3, full, sizeof full), 64);
    memset(part, 0xEE, sizeof part);
    assert_int_equal(hash_digest2(HASH_SHA512, "k", 1, "pkt", 3, part, 20), 20);
    assert_memory_equal(part, full, 20);
    assert_int_equal(part[20], 0xEE);
    assert_int_equal(hash_digest2(HASH_INVALID, "k", 1, "p", 1, part, sizeof part), 0);
    assert_int_equal(hash_digest2((enum hash_alg)99, "k", 1, "p", 1, part, sizeof part), 0);

    assert_int_equal(hash_len(HASH_MD5), 16);
    assert_int_equal(hash_len(HASH_SHA1), 20);
    assert_int_equal(hash_len(HASH_SHA256), 32);
    assert_int_equal(hash_len(HASH_SHA384), 48);
    assert_int_equal(hash_len(HASH_SHA512), 64);
    assert_int_equal(hash_len((enum hash_alg)6), 0);
    assert_int_equal(hash_from_name("MD5"), HASH_MD5);
    assert_int_equal(hash_from_name("SHA1"), HASH_SHA1);
    assert_int_equal(hash_from_name("SHA256"), HASH_SHA256);
    assert_int_equal(hash_from_name("SHA384"), HASH_SHA384);
    assert_int_equal(hash_from_name("SHA512"), HASH_SHA512);
    /* chronyd 4.3 refuses "md5" ("Invalid type in key N"): names are case-sensitive */
    assert_int_equal(hash_from_name("md5"), HASH_INVALID);
    assert_int_equal(hash_from_name("SHA3-256"), HASH_INVALID);
    assert_int_equal(hash_from_name("?"), HASH_INVALID);
    assert_int_equal(hash_from_name(""), HASH_INVALID);
    assert_string_equal(hash_name(HASH_SHA384), "SHA384");
    assert_string_equal(hash_name((enum hash_alg)42), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_boundaries_and_chunks),
        cmocka_unit_test(test_truncation_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
