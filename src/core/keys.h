/* Symmetric keys for NTP authentication (RFC 5905 MACs): chrony's key file, parsed from
 * text (no I/O: the daemon reads the file), and the MACs made and checked with a key.
 *
 * Key file format (chrony 4.3 keys.c, conf.c CPS_ParseKey; spec chrony-conf-directives):
 * one key per line, `ID [TYPE] KEY`, words separated by white space; blank lines and lines
 * whose first non-blank character is one of `!;#%` are comments. ID is decimal
 * 1..4294967295. TYPE is MD5 (the default), SHA1, SHA256, SHA384 or SHA512, case-sensitive
 * as in chrony; chrony's other types (SHA3-224/256/384/512, TIGER, WHIRLPOOL, AES128,
 * AES256) are refused with a message that says tempus does not support them. KEY is
 * `HEX:` + an even number of hex digits, `ASCII:` + text, or text (no white space).
 *
 * Like chronyd, a bad line does not stop the daemon: the line's key is refused with a
 * message naming the file and line (passed to the warn callback) and the other keys are
 * used. Where chrony keeps one of two keys with the same ID at random, tempus keeps the
 * first and refuses the later ones with a message.
 *
 * MAC (RFC 5905 §7.3, chrony ntp_auth.c): key ID (32 bits) + H(key || packet before the
 * MAC). In NTPv4 the digest is truncated to 20 octets (RFC 7822: a MAC is at most 24
 * octets); in NTPv1-3 it is sent whole (SHA512: 64 octets). A received MAC is good only if
 * its digest has exactly that length (measured against chronyd 4.3: a full 32-octet SHA256
 * digest in NTPv4, or a truncated one in NTPv3, is dropped).
 */
#ifndef TEMPUS_CORE_KEYS_H
#define TEMPUS_CORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"

#define KEYS_MAX_LINE      2047 /* chrony: longer lines are not read whole */
#define KEYS_V4_DIGEST_MAX 20   /* NTPv4: digest truncated to 20 octets */
#define KEYS_DIGEST_MAX    HASH_MAX_LEN
#define KEYS_SHORT_BITS    80 /* chronyd warns "Key N is too short" below this */

/* One key. value points into the table that holds it (valid while the table lives). */
struct keys_key {
    uint32_t id;
    enum hash_alg alg;
    const uint8_t *value;
    size_t len;    /* bytes, >= 1 */
    unsigned line; /* line in the file (for messages) */
};

/* A parsed key file: keys sorted by ID, one heap block. */
struct keys;

/* Called once per refused line with a message like "Could not parse key at line 3 in file
 * F" (no trailing newline; borrowed for the call only). */
typedef void (*keys_warn_fn)(void *ctx, const char *msg);

/* Parses len bytes of key file text (borrowed; NUL bytes are refused lines). file names the
 * file in messages. warn may be NULL. Returns a new table (the caller owns it: keys_free()),
 * possibly empty; NULL only when memory runs out. */
struct keys *keys_parse(const char *text, size_t len, const char *file, keys_warn_fn warn,
                        void *ctx);

/* Frees a table; NULL is a no-op. */
void keys_free(struct keys *k);

/* Number of keys, and the i-th in ID order (i < keys_count()). k may be NULL (0 keys). */
size_t keys_count(const struct keys *k);
const struct keys_key *keys_at(const struct keys *k, size_t i);

/* The key with this ID, or NULL (also when k is NULL or id is 0). Binary search. */
const struct keys_key *keys_find(const struct keys *k, uint32_t id);

/* Digest length a MAC of this key has in a packet of this NTP version: the whole digest,
 * truncated to 20 octets in NTPv4. */
size_t keys_digest_len(const struct keys_key *key, unsigned version);

/* Appends the MAC (key ID + digest of buf[0..len)) at buf + len. buf_size is the room of buf
 * in total. Returns the new length (len + 4 + keys_digest_len()), or 0 if it does not fit.
 * No allocation. */
size_t keys_sign(const struct keys_key *key, unsigned version, uint8_t *buf, size_t len,
                 size_t buf_size);

/* Checks a received MAC: mac points at the key ID (mac_len octets: ID + digest), the MAC
 * covers pkt[0..data_len). version is the packet's. Returns 1 if the key's ID matches, the
 * digest has exactly the length keys_digest_len() gives (chrony's truncation rule: 20 for a
 * v4 MAC of at most 24 octets, else the whole digest) and every octet matches (compared in
 * constant time), else 0. */
int keys_check(const struct keys_key *key, unsigned version, const uint8_t *pkt, size_t data_len,
               const uint8_t *mac, size_t mac_len);

#endif
