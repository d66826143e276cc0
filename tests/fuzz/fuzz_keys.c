/* Fuzz target: core/keys, the key file parser (text in, table out), and the MACs made and
 * checked with every key it accepts.
 *
 * Input: the key file text, whole.
 * Checks: every line that is not blank or a comment gives exactly one key or one message
 * (duplicates included); messages are non-empty and name the file; keys have IDs >= 1 in
 * strictly increasing order, a known type, a value of >= 1 byte inside the input's length;
 * keys_find() finds each one; a MAC made with each key in NTPv4 and NTPv3 has the key's
 * digest length (20 at most in v4), checks, and fails with one bit changed. */
#include <stdint.h>
#include <string.h>

#include "core/keys.h"
#include "fuzz_common.h"

struct count {
    size_t n;
};

static void on_warn(void *ctx, const char *msg)
{
    struct count *c = ctx;
    FUZZ_CHECK(msg[0] != '\0');
    FUZZ_CHECK(strstr(msg, "fuzz.keys") != NULL);
    c->n++;
}

static int blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Lines with something other than blanks that is not a comment. */
static size_t content_lines(const uint8_t *p, size_t n)
{
    size_t lines = 0, i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != '\n' && blank(p[j]))
            j++;
        if (j < n && p[j] != '\n' && !(p[j] == '!' || p[j] == ';' || p[j] == '#' || p[j] == '%'))
            lines++;
        while (j < n && p[j] != '\n')
            j++;
        i = j + 1;
    }
    return lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct count c = {0};
    struct keys *k = keys_parse((const char *)data, size, "fuzz.keys", on_warn, &c);
    size_t n;
    FUZZ_CHECK(k != NULL);
    n = keys_count(k);
    FUZZ_CHECK(n + c.n == content_lines(data, size));
    for (size_t i = 0; i < n; i++) {
        const struct keys_key *e = keys_at(k, i);
        uint8_t pkt[48 + 4 + KEYS_DIGEST_MAX];
        FUZZ_CHECK(e != NULL && e->id >= 1);
        FUZZ_CHECK(i == 0 || keys_at(k, i - 1)->id < e->id);
        FUZZ_CHECK(hash_len(e->alg) > 0);
        FUZZ_CHECK(e->len >= 1 && e->len <= size);
        FUZZ_CHECK(keys_find(k, e->id) == e);
        for (unsigned version = 3; version <= 4; version++) {
            size_t dl = keys_digest_len(e, version), len;
            FUZZ_CHECK(dl >= 16 && (version == 3 || dl <= KEYS_V4_DIGEST_MAX));
            memset(pkt, 0, 48);
            pkt[0] = (uint8_t)(version << 3 | 3);
            pkt[40] = (uint8_t)i;
            len = keys_sign(e, version, pkt, 48, sizeof pkt);
            FUZZ_CHECK(len == 48 + 4 + dl);
            FUZZ_CHECK(keys_check(e, version, pkt, 48, pkt + 48, len - 48));
            pkt[len - 1] ^= 1;
            FUZZ_CHECK(!keys_check(e, version, pkt, 48, pkt + 48, len - 48));
        }
    }
    FUZZ_CHECK(keys_at(k, n) == NULL);
    FUZZ_CHECK(keys_find(k, 0) == NULL);
    keys_free(k);
    return 0;
}
