/* SHA-1 (FIPS 180-4 §6.1), pure. For NTP symmetric keys of type SHA1 (RFC 5905 MACs,
 * chrony's keyfile). Not for anything that needs collision resistance.
 */
#ifndef TEMPUS_BASE_SHA1_H
#define TEMPUS_BASE_SHA1_H

#include <stddef.h>
#include <stdint.h>

#include "base/hashblock.h"

#define SHA1_DIGEST_LEN 20

/* Incremental state; initialise with sha1_init(). */
struct sha1 {
    uint32_t state[5];
    struct hashblock buf; /* the message's unhashed tail and length */
};

void sha1_init(struct sha1 *s);

/* Hashes len bytes of data (borrowed); data may be NULL when len is 0. */
void sha1_update(struct sha1 *s, const void *data, size_t len);

/* Writes the 20-byte digest to out. s must be re-initialised before reuse. */
void sha1_final(struct sha1 *s, uint8_t out[SHA1_DIGEST_LEN]);

/* One-shot digest of len bytes. */
void sha1_digest(const void *data, size_t len, uint8_t out[SHA1_DIGEST_LEN]);

#endif
