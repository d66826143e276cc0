/* The message padding and block buffering that MD5 (RFC 1321 §3.1-3.2) and SHA-1/SHA-2
 * (FIPS 180-4 §5.1.1-5.1.2, §6) share, pure: the message is cut into blocks of 64 or 128
 * octets for the algorithm's compression function, and the last one is padded with 0x80,
 * zeros, and the message length in bits (64 bits little-endian for MD5, 64 or 128 bits
 * big-endian for the SHA family). Each algorithm keeps only its chaining state and its
 * compression function.
 */
#ifndef TEMPUS_BASE_HASHBLOCK_H
#define TEMPUS_BASE_HASHBLOCK_H

#include <stddef.h>
#include <stdint.h>

#define HASHBLOCK_MAX 128 /* octets: SHA-384/512's block */

/* How the message length ends the padding. */
enum hashblock_len {
    HASHBLOCK_LEN64_LE = 0,  /* MD5 */
    HASHBLOCK_LEN64_BE = 1,  /* SHA-1, SHA-256 */
    HASHBLOCK_LEN128_BE = 2, /* SHA-384, SHA-512 (messages < 2^61 octets: upper word 0) */
};

/* An algorithm's compression function: folds one block of block_size octets into state. */
typedef void (*hashblock_fn)(void *state, const uint8_t *block);

/* The buffered tail of a message; initialise with hashblock_init(). */
struct hashblock {
    uint64_t total_len; /* octets hashed so far */
    size_t block_len;   /* octets waiting in block */
    size_t block_size;  /* 64 or 128 */
    uint8_t block[HASHBLOCK_MAX];
};

/* Empty buffer for blocks of block_size octets (64 or 128). */
void hashblock_init(struct hashblock *b, size_t block_size);

/* Hashes len octets of data (borrowed; may be NULL when len is 0): every block completed is
 * given to fn with state. */
void hashblock_update(struct hashblock *b, const void *data, size_t len, hashblock_fn fn,
                      void *state);

/* Pads the message as len_kind says and compresses the last block(s); the digest is then in
 * state. b must be re-initialised before reuse. */
void hashblock_final(struct hashblock *b, enum hashblock_len len_kind, hashblock_fn fn,
                     void *state);

#endif
