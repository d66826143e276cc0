/* Dispatch to the hash functions of base/. */
#include "base/hash.h"

#include <stdint.h>
#include <string.h>

#include "base/md5.h"
#include "base/sha1.h"
#include "base/sha256.h"
#include "base/sha512.h"

static const struct {
    const char *name;
    size_t len;
} algs[] = {
    [HASH_INVALID] = {"?", 0},
    [HASH_MD5] = {"MD5", MD5_DIGEST_LEN},
    [HASH_SHA1] = {"SHA1", SHA1_DIGEST_LEN},
    [HASH_SHA256] = {"SHA256", SHA256_DIGEST_LEN},
    [HASH_SHA384] = {"SHA384", SHA384_DIGEST_LEN},
    [HASH_SHA512] = {"SHA512", SHA512_DIGEST_LEN},
};

#define N_ALGS (sizeof algs / sizeof algs[0])

size_t hash_len(enum hash_alg alg)
{
    return (unsigned)alg < N_ALGS ? algs[alg].len : 0;
}

const char *hash_name(enum hash_alg alg)
{
    return (unsigned)alg < N_ALGS ? algs[alg].name : "?";
}

enum hash_alg hash_from_name(const char *name)
{
    for (unsigned i = 1; i < N_ALGS; i++)
        if (strcmp(name, algs[i].name) == 0)
            return (enum hash_alg)i;
    return HASH_INVALID;
}

size_t hash_digest2(enum hash_alg alg, const void *a, size_t a_len, const void *b, size_t b_len,
                    uint8_t *out, size_t out_size)
{
    uint8_t d[HASH_MAX_LEN];
    size_t n = hash_len(alg);
    union {
        struct md5 md5;
        struct sha1 sha1;
        struct sha256 sha256;
        struct sha512 sha512;
    } u;
    switch (alg) {
    case HASH_MD5:
        md5_init(&u.md5);
        md5_update(&u.md5, a, a_len);
        md5_update(&u.md5, b, b_len);
        md5_final(&u.md5, d);
        break;
    case HASH_SHA1:
        sha1_init(&u.sha1);
        sha1_update(&u.sha1, a, a_len);
        sha1_update(&u.sha1, b, b_len);
        sha1_final(&u.sha1, d);
        break;
    case HASH_SHA256:
        sha256_init(&u.sha256);
        sha256_update(&u.sha256, a, a_len);
        sha256_update(&u.sha256, b, b_len);
        sha256_final(&u.sha256, d);
        break;
    case HASH_SHA384:
    case HASH_SHA512:
        if (alg == HASH_SHA384)
            sha512_init_384(&u.sha512);
        else
            sha512_init(&u.sha512);
        sha512_update(&u.sha512, a, a_len);
        sha512_update(&u.sha512, b, b_len);
        sha512_final(&u.sha512, d);
        break;
    case HASH_INVALID:
    default:
        return 0;
    }
    if (n > out_size)
        n = out_size;
    memcpy(out, d, n);
    return n;
}
