#include "core/tzif.h"

#include <string.h>

#define HEADER_LEN 44
#define DAY_S      86400

static const char *const status_text[] = {
    [TZIF_OK] = "OK",
    [TZIF_E_MAGIC] = "not a TZif file",
    [TZIF_E_TRUNCATED] = "truncated",
    [TZIF_E_COUNTS] = "invalid header counts",
    [TZIF_E_LEAPS] = "invalid leap second records",
};

const char *tzif_status_str(enum tzif_status st)
{
    if ((unsigned)st >= sizeof status_text / sizeof status_text[0])
        return "unknown";
    return status_text[st];
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t be64s(const uint8_t *p)
{
    uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);
    return (int64_t)v; /* two's complement (C23; every C11 target tempus builds for) */
}

static int32_t be32s(const uint8_t *p)
{
    return (int32_t)be32(p);
}

struct header {
    int version; /* 1 .. */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static enum tzif_status read_header(const uint8_t *p, size_t len, struct header *h)
{
    if (len < HEADER_LEN)
        return len >= 4 && memcmp(p, "TZif", 4) == 0 ? TZIF_E_TRUNCATED : TZIF_E_MAGIC;
    if (memcmp(p, "TZif", 4) != 0)
        return TZIF_E_MAGIC;
    /* Version 0 is '\0'; later versions are ASCII digits. */
    h->version = p[4] == 0 ? 1 : p[4] >= '2' && p[4] <= '9' ? p[4] - '0' : -1;
    if (h->version < 0)
        return TZIF_E_MAGIC;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    /* RFC 8536 §3.1; the bound keeps the size arithmetic far from overflow. */
    if (h->typecnt == 0 || h->charcnt == 0 || (h->isutcnt && h->isutcnt != h->typecnt) ||
        (h->isstdcnt && h->isstdcnt != h->typecnt) || h->timecnt > 1000000 || h->typecnt > 256 ||
        h->charcnt > 1000000 || h->leapcnt > TZIF_MAX_LEAPS)
        return TZIF_E_COUNTS;
    return TZIF_OK;
}

/* Size of a data block with time_size-byte times (4 in v1, 8 after). */
static size_t block_len(const struct header *h, size_t time_size)
{
    return (size_t)h->timecnt * time_size + h->timecnt + (size_t)h->typecnt * 6 + h->charcnt +
           (size_t)h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

enum tzif_status tzif_parse(const uint8_t *buf, size_t len, struct tzif_leaps *out)
{
    memset(out, 0, sizeof *out);
    struct header h;
    enum tzif_status st = read_header(buf, len, &h);
    if (st != TZIF_OK)
        return st;
    size_t pos = HEADER_LEN, tsize = 4;
    if (len - pos < block_len(&h, 4))
        return TZIF_E_TRUNCATED;
    if (h.version >= 2) {
        /* Skip the v1 block: the 64-bit one follows with its own header. */
        pos += block_len(&h, 4);
        struct header h2;
        st = read_header(buf + pos, len - pos, &h2);
        if (st != TZIF_OK)
            return st;
        h = h2;
        pos += HEADER_LEN;
        tsize = 8;
        if (len - pos < block_len(&h, 8))
            return TZIF_E_TRUNCATED;
    }
    const uint8_t *lp =
        buf + pos + (size_t)h.timecnt * tsize + h.timecnt + (size_t)h.typecnt * 6 + h.charcnt;
    int prev = 0;
    int64_t prev_occ = 0;
    for (uint32_t k = 0; k < h.leapcnt; k++, lp += tsize + 4) {
        int64_t occ = tsize == 8 ? be64s(lp) : (int64_t)be32s(lp);
        int32_t corr = be32s(lp + tsize);
        /* Bounded so that the arithmetic below cannot overflow (any real table is far
         * inside: a few hundred leaps, times within a few billion seconds). */
        if (corr < -1000 || corr > 1000 || occ < -(INT64_C(1) << 60) || occ > INT64_C(1) << 60)
            return TZIF_E_LEAPS;
        if (k == 0 && corr != 1 && corr != -1) {
            /* A v4 table truncated at the start: the first record is only a baseline. */
            if (h.version < 4)
                return TZIF_E_LEAPS;
            out->base_corr = corr;
            prev = corr;
            prev_occ = occ;
            continue;
        }
        if (k > 0 && occ <= prev_occ)
            return TZIF_E_LEAPS;
        if (corr == prev && k + 1 == h.leapcnt && k > 0 && h.version >= 4) {
            out->expiry_s = occ - prev;
            break;
        }
        if (corr - prev != 1 && corr - prev != -1)
            return TZIF_E_LEAPS;
        int64_t midnight = occ - prev;
        /* The second sits at the end of a UTC day: on the file's scale, occurrence is
         * 23:59:60 of an insert (the midnight's value), or the midnight less the second
         * that a delete removes. */
        if (corr < prev)
            midnight += 1;
        if (midnight % DAY_S != 0)
            return TZIF_E_LEAPS;
        /* Occurrences one second apart can name the same midnight (an insert, then another
         * insert a second later): two leaps at one midnight is no table (found by fuzz_tzif). */
        if (out->n > 0 && midnight <= out->midnight_s[out->n - 1])
            return TZIF_E_LEAPS;
        out->midnight_s[out->n] = midnight;
        out->corr[out->n] = corr;
        out->n++;
        prev = corr;
        prev_occ = occ;
    }
    return TZIF_OK;
}

int tzif_leap_on_day(const struct tzif_leaps *l, int64_t utc_s, int *tai_offset_s)
{
    int64_t day_start = utc_s / DAY_S * DAY_S;
    if (utc_s < 0 && utc_s % DAY_S != 0)
        day_start -= DAY_S;
    int64_t day_end = day_start + DAY_S;
    int corr = l->base_corr, leap = 0;
    for (int k = 0; k < l->n; k++) {
        if (l->midnight_s[k] <= utc_s)
            corr = l->corr[k];
        if (l->midnight_s[k] == day_end)
            leap = l->corr[k] > (k > 0 ? l->corr[k - 1] : l->base_corr) ? 1 : 2;
    }
    if (tai_offset_s)
        *tai_offset_s = 10 + corr;
    return leap;
}

int tzif_check_2012(const struct tzif_leaps *l)
{
    const int64_t jun30 = 1341014400; /* 2012-06-30 00:00:00 UTC */
    int tai_before = 0, tai_after = 0;
    int leap = tzif_leap_on_day(l, jun30, &tai_before);
    (void)tzif_leap_on_day(l, jun30 + DAY_S, &tai_after);
    return leap == 1 && tai_before == 34 && tai_after == 35;
}
