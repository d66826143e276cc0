/* SHA-256 (FIPS 180-4 §6.2), pure. For NTP symmetric keys of type SHA256.
 */
#ifndef TEMPUS_BASE_SHA256_H
#define TEMPUS_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "base/hashblock.h"

#define SHA256_DIGEST_LEN 32

/* Incremental state; initialise with sha256_init(). */
struct sha256 {
    uint32_t state[8];
    struct hashblock buf; /* the message's unhashed tail and length */
};

void sha256_init(struct sha256 *s);

/* Hashes len bytes of data (borrowed); data may be NULL when len is 0. */
void sha256_update(struct sha256 *s, const void *data, size_t len);

/* Writes the 32-byte digest to out. s must be re-initialised before reuse. */
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_LEN]);

/* One-shot digest of len bytes. */
void sha256_digest(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);

#endif
