/* MD5 (RFC 1321), pure. Used for the IPv6 reference ID (RFC 5905 §7.3: the first four octets
 * of the MD5 hash of the IPv6 address) and available for MD5 symmetric keys. Not for
 * anything that needs collision resistance.
 */
#ifndef TEMPUS_BASE_MD5_H
#define TEMPUS_BASE_MD5_H

#include <stddef.h>
#include <stdint.h>

#include "base/hashblock.h"

#define MD5_DIGEST_LEN 16

/* Incremental state; initialise with md5_init(). */
struct md5 {
    uint32_t state[4];
    struct hashblock buf; /* the message's unhashed tail and length */
};

void md5_init(struct md5 *m);

/* Hashes len bytes of data (borrowed); data may be NULL when len is 0. */
void md5_update(struct md5 *m, const void *data, size_t len);

/* Writes the 16-byte digest to out. m must be re-initialised before reuse. */
void md5_final(struct md5 *m, uint8_t out[MD5_DIGEST_LEN]);

/* One-shot digest of len bytes. */
void md5_digest(const void *data, size_t len, uint8_t out[MD5_DIGEST_LEN]);

#endif
