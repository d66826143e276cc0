/* Block buffering and padding of the MD5/SHA message schedule (RFC 1321 §3.1-3.2, FIPS 180-4
 * §5.1). */
#include "base/hashblock.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

void hashblock_init(struct hashblock *b, size_t block_size)
{
    assert(block_size == 64 || block_size == HASHBLOCK_MAX);
    b->total_len = 0;
    b->block_len = 0;
    b->block_size = block_size;
}

void hashblock_update(struct hashblock *b, const void *data, size_t len, hashblock_fn fn,
                      void *state)
{
    const uint8_t *p = data;
    const size_t bs = b->block_size;
    if (len == 0) /* data may be NULL: no memcpy from it */
        return;
    b->total_len += len;
    if (b->block_len > 0) { /* fill the waiting block first */
        size_t take = bs - b->block_len;
        if (take > len)
            take = len;
        memcpy(b->block + b->block_len, p, take);
        b->block_len += take;
        p += take;
        len -= take;
        if (b->block_len < bs)
            return;
        fn(state, b->block);
        b->block_len = 0;
    }
    /* whole blocks straight from the caller's data (the compression functions read octets,
     * any alignment will do) */
    for (; len >= bs; p += bs, len -= bs)
        fn(state, p);
    if (len > 0) {
        memcpy(b->block, p, len);
        b->block_len = len;
    }
}

void hashblock_final(struct hashblock *b, enum hashblock_len len_kind, hashblock_fn fn, void *state)
{
    const uint64_t bits = b->total_len * 8;
    const size_t len_octets = len_kind == HASHBLOCK_LEN128_BE ? 16 : 8;
    const size_t bs = b->block_size;
    /* 0x80, then zeros up to the length field at the end of this block, or of the next one
     * when the length does not fit behind the 0x80 */
    b->block[b->block_len++] = 0x80;
    if (b->block_len > bs - len_octets) {
        memset(b->block + b->block_len, 0, bs - b->block_len);
        fn(state, b->block);
        b->block_len = 0;
    }
    memset(b->block + b->block_len, 0, bs - b->block_len);
    for (size_t i = 0; i < 8; i++) { /* octet i of the length, least significant first */
        const uint8_t v = (uint8_t)(bits >> (8 * i));
        if (len_kind == HASHBLOCK_LEN64_LE)
            b->block[bs - 8 + i] = v;
        else
            b->block[bs - 1 - i] = v;
    }
    fn(state, b->block);
    b->block_len = 0;
}
