/* Key file parser and MACs: see keys.h for the format and the rules. */
#include "core/keys.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

struct keys {
    size_t n;
    struct keys_key *key; /* n entries, sorted by id, in the same block */
    uint8_t *blob;        /* key values */
};

/* chrony's types that tempus does not implement: refused with a message saying so. */
static const char *const unsupported[] = {"SHA3-224", "SHA3-256",  "SHA3-384", "SHA3-512",
                                          "TIGER",    "WHIRLPOOL", "AES128",   "AES256"};

static void warnf(keys_warn_fn warn, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warnf(keys_warn_fn warn, void *ctx, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    if (!warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    warn(ctx, msg);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A word of the line: [*pos, end) without leading blanks. */
struct word {
    const char *s;
    size_t len;
};

static int next_word(const char **pos, const char *end, struct word *w)
{
    const char *p = *pos;
    while (p < end && is_space(*p))
        p++;
    w->s = p;
    while (p < end && !is_space(*p))
        p++;
    w->len = (size_t)(p - w->s);
    *pos = p;
    return w->len > 0;
}

static int word_is(const struct word *w, const char *s)
{
    return w->len == strlen(s) && memcmp(w->s, s, w->len) == 0;
}

/* Decimal 1..2^32-1, digits only. */
static int parse_id(const struct word *w, uint32_t *id)
{
    uint64_t v = 0;
    if (w->len == 0 || w->len > 10)
        return 0;
    for (size_t i = 0; i < w->len; i++) {
        if (w->s[i] < '0' || w->s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(w->s[i] - '0');
    }
    if (v > UINT32_MAX)
        return 0;
    *id = (uint32_t)v;
    return 1;
}

/* Decodes the key value into out (room >= w->len). Returns its length, 0 if it is empty or
 * bad hex. */
static size_t decode_value(const struct word *w, uint8_t *out)
{
    if (w->len >= 4 && memcmp(w->s, "HEX:", 4) == 0) {
        size_t n = w->len - 4;
        const char *h = w->s + 4;
        if (n % 2 != 0)
            return 0;
        for (size_t i = 0; i < n / 2; i++) {
            int hi = hex_val(h[2 * i]), lo = hex_val(h[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return 0;
            out[i] = (uint8_t)(hi << 4 | lo);
        }
        return n / 2;
    }
    if (w->len >= 6 && memcmp(w->s, "ASCII:", 6) == 0) {
        memcpy(out, w->s + 6, w->len - 6);
        return w->len - 6;
    }
    memcpy(out, w->s, w->len);
    return w->len;
}

static int by_id(const void *a, const void *b)
{
    const struct keys_key *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    /* equal IDs: the earlier line first, so that it is the one kept */
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Parses one line (no newline) into *k with its value at blob + *blob_used. Returns 1 for a
 * key, 0 for a comment or blank line, -1 for a refused line (warned). */
static int parse_line(const char *line, size_t len, unsigned lineno, const char *file,
                      keys_warn_fn warn, void *ctx, struct keys_key *k, uint8_t *blob,
                      size_t *blob_used)
{
    const char *pos = line, *end = line + len;
    struct word w[4];
    const struct word *type_w, *val_w;
    size_t n_words = 0, vlen;
    enum hash_alg alg;
    uint32_t id;

    while (pos < end && is_space(*pos))
        pos++;
    if (pos == end || (*pos != '\0' && strchr("!;#%", *pos)))
        return 0;
    if (memchr(line, '\0', len) != NULL) {
        warnf(warn, ctx, "Could not parse key at line %u in file %s", lineno, file);
        return -1;
    }
    if (len > KEYS_MAX_LINE) {
        warnf(warn, ctx, "Line %u in file %s is too long (more than %d characters)", lineno, file,
              KEYS_MAX_LINE);
        return -1;
    }
    while (n_words < 4 && next_word(&pos, end, &w[n_words]))
        n_words++;
    /* ID KEY or ID TYPE KEY: two or three words */
    if (n_words < 2 || n_words > 3 || !parse_id(&w[0], &id)) {
        warnf(warn, ctx, "Could not parse key at line %u in file %s", lineno, file);
        return -1;
    }
    if (id == 0) {
        warnf(warn, ctx, "Invalid key ID 0 at line %u in file %s (IDs are 1 to 4294967295)", lineno,
              file);
        return -1;
    }
    type_w = n_words == 3 ? &w[1] : NULL;
    val_w = n_words == 3 ? &w[2] : &w[1];
    alg = HASH_MD5;
    if (type_w) {
        char name[16];
        alg = HASH_INVALID;
        if (type_w->len < sizeof name) {
            memcpy(name, type_w->s, type_w->len);
            name[type_w->len] = '\0';
            alg = hash_from_name(name);
        }
        if (alg == HASH_INVALID) {
            for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
                if (word_is(type_w, unsupported[i])) {
                    warnf(warn, ctx,
                          "Unsupported type %s in key %u at line %u in file %s (tempus has "
                          "MD5 SHA1 SHA256 SHA384 SHA512)",
                          unsupported[i], (unsigned)id, lineno, file);
                    return -1;
                }
            warnf(warn, ctx, "Invalid type in key %u at line %u in file %s", (unsigned)id, lineno,
                  file);
            return -1;
        }
    }
    vlen = decode_value(val_w, blob + *blob_used);
    if (vlen == 0) {
        warnf(warn, ctx, "Could not decode key %u at line %u in file %s", (unsigned)id, lineno,
              file);
        return -1;
    }
    k->id = id;
    k->alg = alg;
    k->value = NULL; /* set once the blob has its final address */
    k->len = vlen;
    k->line = lineno;
    *blob_used += vlen;
    return 1;
}

struct keys *keys_parse(const char *text, size_t len, const char *file, keys_warn_fn warn,
                        void *ctx)
{
    size_t n_lines = 1, n = 0, used = 0, off = 0, kept = 0;
    unsigned lineno = 0;
    struct keys *k;
    struct keys_key *tmp;
    uint8_t *blob;

    if (!file)
        file = "(keys)";
    for (size_t i = 0; i < len; i++)
        n_lines += text[i] == '\n';
    /* Keys are never longer than the text that holds them: one blob of len bytes. */
    tmp = calloc(n_lines, sizeof *tmp);
    blob = malloc(len > 0 ? len : 1);
    if (!tmp || !blob) {
        free(tmp);
        free(blob);
        return NULL;
    }
    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t ll = nl ? (size_t)(nl - (text + off)) : len - off;
        lineno++;
        if (parse_line(text + off, ll, lineno, file, warn, ctx, &tmp[n], blob, &used) == 1) {
            tmp[n].value = blob + (used - tmp[n].len);
            n++;
        }
        off += ll + 1;
    }
    qsort(tmp, n, sizeof *tmp, by_id);
    for (size_t i = 0; i < n; i++) {
        if (kept > 0 && tmp[kept - 1].id == tmp[i].id) {
            warnf(warn, ctx, "Duplicate key %u at line %u in file %s (the key at line %u is used)",
                  (unsigned)tmp[i].id, tmp[i].line, file, tmp[kept - 1].line);
            continue;
        }
        tmp[kept++] = tmp[i];
    }
    k = malloc(sizeof *k);
    if (!k) {
        free(tmp);
        free(blob);
        return NULL;
    }
    k->n = kept;
    k->key = tmp;
    k->blob = blob;
    return k;
}

void keys_free(struct keys *k)
{
    if (!k)
        return;
    free(k->key);
    free(k->blob);
    free(k);
}

size_t keys_count(const struct keys *k)
{
    return k ? k->n : 0;
}

const struct keys_key *keys_at(const struct keys *k, size_t i)
{
    return k && i < k->n ? &k->key[i] : NULL;
}

const struct keys_key *keys_find(const struct keys *k, uint32_t id)
{
    size_t lo = 0, hi;
    if (!k || id == 0)
        return NULL;
    hi = k->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->key[mid].id == id)
            return &k->key[mid];
        if (k->key[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t keys_digest_len(const struct keys_key *key, unsigned version)
{
    size_t n = hash_len(key->alg);
    size_t max = version == 4 ? KEYS_V4_DIGEST_MAX : KEYS_DIGEST_MAX;
    return n < max ? n : max;
}

size_t keys_sign(const struct keys_key *key, unsigned version, uint8_t *buf, size_t len,
                 size_t buf_size)
{
    size_t d = keys_digest_len(key, version);
    if (len > buf_size || buf_size - len < 4 + d)
        return 0;
    buf[len] = (uint8_t)(key->id >> 24);
    buf[len + 1] = (uint8_t)(key->id >> 16);
    buf[len + 2] = (uint8_t)(key->id >> 8);
    buf[len + 3] = (uint8_t)key->id;
    if (hash_digest2(key->alg, key->value, key->len, buf, len, buf + len + 4, d) != d)
        return 0;
    return len + 4 + d;
}

int keys_check(const struct keys_key *key, unsigned version, const uint8_t *pkt, size_t data_len,
               const uint8_t *mac, size_t mac_len)
{
    uint8_t d[HASH_MAX_LEN];
    size_t n = keys_digest_len(key, version);
    uint32_t id;
    unsigned diff = 0;
    if (mac_len != 4 + n)
        return 0;
    id = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 | (uint32_t)mac[2] << 8 | mac[3];
    if (id != key->id)
        return 0;
    if (hash_digest2(key->alg, key->value, key->len, pkt, data_len, d, n) != n)
        return 0;
    for (size_t i = 0; i < n; i++) /* no early exit: the time taken says nothing */
        diff |= (unsigned)(d[i] ^ mac[4 + i]);
    return diff == 0;
}
