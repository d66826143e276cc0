/* NTP time formats: see ntp_time.h. Everything is integer fixed point except the explicit
 * double helpers, so conversions are exact and identical on every platform. */
#include "base/ntp_time.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define NS_PER_S    1000000000ULL
#define FRAC_PER_S  4294967296ULL /* 2^32 */
#define FRAC_HALF   2147483648ULL /* 2^31 */
#define SHORT_PER_S 65536ULL

/* Two's-complement reinterpretation without implementation-defined conversions. */
static int64_t s64_from_u64(uint64_t u)
{
    if (u <= (uint64_t)INT64_MAX)
        return (int64_t)u;
    return -(int64_t)(~u) - 1;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Fraction (0..2^32-1) -> ns, rounded to nearest: 0..1000000000 (the top value carries). */
static int64_t frac_to_ns(uint32_t frac)
{
    return (int64_t)(((uint64_t)frac * NS_PER_S + FRAC_HALF) >> 32);
}

uint64_t ntp_time_ts_to_u64(struct ntp_ts64 ts)
{
    return ((uint64_t)ts.sec << 32) | ts.frac;
}

struct ntp_ts64 ntp_time_ts_from_u64(uint64_t v)
{
    struct ntp_ts64 ts = {(uint32_t)(v >> 32), (uint32_t)(v & 0xFFFFFFFFu)};
    return ts;
}

int ntp_time_is_zero(struct ntp_ts64 ts)
{
    return (ts.sec | ts.frac) == 0;
}

int ntp_time_equal(struct ntp_ts64 a, struct ntp_ts64 b)
{
    return a.sec == b.sec && a.frac == b.frac;
}

struct ntp_ts64 ntp_time_from_ns(int64_t real_ns)
{
    int64_t sec = floor_div(real_ns, (int64_t)NS_PER_S);
    uint64_t rem = (uint64_t)(real_ns - sec * (int64_t)NS_PER_S); /* 0..999999999 */
    struct ntp_ts64 ts;
    /* Unix seconds modulo 2^32, shifted to the NTP epoch. */
    ts.sec = (uint32_t)(((uint64_t)sec + NTP_TIME_UNIX_OFFSET_S) & 0xFFFFFFFFu);
    /* Largest rem gives 4294967292: no carry into the seconds. */
    ts.frac = (uint32_t)((rem * FRAC_PER_S + NS_PER_S / 2) / NS_PER_S);
    return ts;
}

int64_t ntp_time_fixed_to_ns(int64_t fixed_32_32)
{
    uint64_t mag;
    int64_t ns;
    int neg = fixed_32_32 < 0;
    /* Magnitude as unsigned (INT64_MIN included). */
    mag = neg ? (uint64_t)0 - (uint64_t)fixed_32_32 : (uint64_t)fixed_32_32;
    ns = (int64_t)(mag >> 32) * (int64_t)NS_PER_S + frac_to_ns((uint32_t)(mag & 0xFFFFFFFFu));
    return neg ? -ns : ns;
}

int64_t ntp_time_diff_ns(struct ntp_ts64 a, struct ntp_ts64 b)
{
    return ntp_time_fixed_to_ns(s64_from_u64(ntp_time_ts_to_u64(a) - ntp_time_ts_to_u64(b)));
}

double ntp_time_diff_s(struct ntp_ts64 a, struct ntp_ts64 b)
{
    int64_t d = s64_from_u64(ntp_time_ts_to_u64(a) - ntp_time_ts_to_u64(b));
    return (double)d / (double)FRAC_PER_S;
}

int64_t ntp_time_to_ns(struct ntp_ts64 ts, int64_t pivot_ns)
{
    /* The signed 32.32 distance from the pivot picks the nearest era. */
    uint64_t p = ntp_time_ts_to_u64(ntp_time_from_ns(pivot_ns));
    int64_t d = ntp_time_fixed_to_ns(s64_from_u64(ntp_time_ts_to_u64(ts) - p));
    if (d > 0 && pivot_ns > INT64_MAX - d)
        return INT64_MAX;
    if (d < 0 && pivot_ns < INT64_MIN - d)
        return INT64_MIN;
    return pivot_ns + d;
}

int64_t ntp_time_to_ns_split(struct ntp_ts64 ts, int64_t split_unix_s)
{
    uint32_t split_ntp =
        (uint32_t)(((uint64_t)split_unix_s + NTP_TIME_UNIX_OFFSET_S) & 0xFFFFFFFFu);
    uint32_t off = ts.sec - split_ntp; /* mod 2^32 */
    return (split_unix_s + (int64_t)off) * (int64_t)NS_PER_S + frac_to_ns(ts.frac);
}

uint32_t ntp_time_short_from_s(double s)
{
    double x;
    uint32_t r;
    if (!(s > 0.0)) /* negative, zero and NaN */
        return 0;
    if (s >= 4294967295.0 / 65536.0) /* also keeps the round-up below from wrapping */
        return 0xFFFFFFFFu;
    x = s * 65536.0;
    r = (uint32_t)x;
    if ((double)r < x) /* round up, as chrony */
        r++;
    return r;
}

uint32_t ntp_time_short_from_ns(int64_t ns)
{
    uint64_t v;
    if (ns <= 0)
        return 0;
    if ((uint64_t)ns >= SHORT_PER_S * NS_PER_S)
        return 0xFFFFFFFFu;
    v = ((uint64_t)ns * SHORT_PER_S + NS_PER_S - 1) / NS_PER_S;
    return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)v;
}

double ntp_time_short_to_s(uint32_t v)
{
    return (double)v / 65536.0;
}

int64_t ntp_time_short_to_ns(uint32_t v)
{
    return (int64_t)(((uint64_t)v * NS_PER_S + SHORT_PER_S / 2) >> 16);
}

int64_t ntp_time_days_from_civil(int64_t year, int month, int day)
{
    /* H. Hinnant's days_from_civil: years start in March so the leap day is last. */
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t ntp_time_ns_from_civil(int64_t year, int month, int day, int hour, int minute, int second)
{
    int64_t days = ntp_time_days_from_civil(year, month, day);
    return ((days * 24 + hour) * 60 + minute) * 60 * (int64_t)NS_PER_S +
           (int64_t)second * (int64_t)NS_PER_S;
}

void ntp_time_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    /* H. Hinnant's civil_from_days (public domain), over 400-year eras. */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)m;
    *year = yoe + era * 400 + (m <= 2);
}

void ntp_time_civil_from_ns(int64_t real_ns, struct ntp_time_civil *out)
{
    int64_t secs = floor_div(real_ns, (int64_t)NS_PER_S);
    int64_t days = floor_div(secs, 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    ntp_time_civil_from_days(days, &y, &out->month, &out->day);
    out->year = y;
    out->hour = (int)(sod / 3600);
    out->minute = (int)(sod / 60 % 60);
    out->second = (int)(sod % 60);
    out->nsec = (int)(real_ns - secs * (int64_t)NS_PER_S);
    out->wday = (int)(days - floor_div(days + 4, 7) * 7 + 4); /* 1970-01-01 was a Thursday */
    out->yday = (int)(days - ntp_time_days_from_civil(y, 1, 1));
}

const char *ntp_time_format_utc(int64_t real_ns, char *buf, size_t len)
{
    static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct ntp_time_civil c;
    if (len == 0)
        return buf;
    ntp_time_civil_from_ns(real_ns, &c);
    snprintf(buf, len, "%s %s %02d %02d:%02d:%02d %" PRId64, wdays[c.wday], months[c.month - 1],
             c.day, c.hour, c.minute, c.second, c.year);
    return buf;
}
