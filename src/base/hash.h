/* One interface over the hash functions of NTP symmetric keys: MD5, SHA1, SHA256, SHA384,
 * SHA512 (chrony's keyfile types; its other types, SHA3-*, TIGER, WHIRLPOOL and the AES CMACs,
 * are not provided). Pure.
 */
#ifndef TEMPUS_BASE_HASH_H
#define TEMPUS_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Values are chrony 4.3's hash identifiers: `authdata` reports them in its Type column
 * (measured against chronyd 4.3: MD5 1, SHA1 2, SHA256 3, SHA512 5). */
enum hash_alg {
    HASH_INVALID = 0,
    HASH_MD5 = 1,
    HASH_SHA1 = 2,
    HASH_SHA256 = 3,
    HASH_SHA384 = 4,
    HASH_SHA512 = 5,
};

#define HASH_MAX_LEN 64 /* SHA-512 */

/* Digest length in bytes (16, 20, 32, 48, 64), 0 for HASH_INVALID or an unknown value. */
size_t hash_len(enum hash_alg alg);

/* The keyfile name of alg ("MD5", "SHA1", ...), "?" for an unknown value. */
const char *hash_name(enum hash_alg alg);

/* The algorithm of a keyfile type name, case-sensitive as chrony ("md5" is not a type);
 * HASH_INVALID if not one of ours. */
enum hash_alg hash_from_name(const char *name);

/* Digest of a || b (both borrowed, either may be NULL with length 0), its first
 * min(hash_len(alg), out_size) bytes written to out. Returns the number of bytes written (0
 * for an unknown alg). No allocation. */
size_t hash_digest2(enum hash_alg alg, const void *a, size_t a_len, const void *b, size_t b_len,
                    uint8_t *out, size_t out_size);

#endif
