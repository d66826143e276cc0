/* SHA-512 and SHA-384 (FIPS 180-4 §6.4, §6.5), pure. For NTP symmetric keys of types SHA512
 * and SHA384 (their digests are longer than NTPv4's 20-octet MAC limit: chrony sends them
 * whole in NTPv3 and truncated to 20 octets in NTPv4).
 */
#ifndef TEMPUS_BASE_SHA512_H
#define TEMPUS_BASE_SHA512_H

#include <stddef.h>
#include <stdint.h>

#include "base/hashblock.h"

#define SHA512_DIGEST_LEN 64
#define SHA384_DIGEST_LEN 48

/* Incremental state of either; initialise with sha512_init() or sha512_init_384(). */
struct sha512 {
    uint64_t state[8];
    struct hashblock buf; /* the message's unhashed tail and length */
    size_t digest_len;    /* 64 (SHA-512) or 48 (SHA-384) */
};

void sha512_init(struct sha512 *s);
void sha512_init_384(struct sha512 *s);

/* Hashes len bytes of data (borrowed); data may be NULL when len is 0. */
void sha512_update(struct sha512 *s, const void *data, size_t len);

/* Writes the digest (s->digest_len bytes: 64 or 48) to out. s must be re-initialised before
 * reuse. */
void sha512_final(struct sha512 *s, uint8_t *out);

/* One-shot digests of len bytes. */
void sha512_digest(const void *data, size_t len, uint8_t out[SHA512_DIGEST_LEN]);
void sha384_digest(const void *data, size_t len, uint8_t out[SHA384_DIGEST_LEN]);

#endif
