/* chronyc's value formatters; thresholds and widths from chronyc-output-formats.md §1.3. */
#include "client/fmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "base/ntp_time.h"

const char *fmt_interval(char *buf, size_t len, uint32_t s)
{
    if (s == UINT32_MAX)
        snprintf(buf, len, "   -");
    else if (s < 1200)
        snprintf(buf, len, "%4" PRIu32, s);
    else if (s < 36000)
        snprintf(buf, len, "%3" PRIu32 "m", s / 60);
    else if (s < 345600)
        snprintf(buf, len, "%3" PRIu32 "h", s / 3600);
    else if (s / 86400 <= 999)
        snprintf(buf, len, "%3" PRIu32 "d", s / 86400);
    else
        snprintf(buf, len, "%3" PRIu32 "y", s / 86400 / 365);
    return buf;
}

const char *fmt_offset(char *buf, size_t len, double v, bool sign)
{
    double x = fabs(v);
    double y = sign ? v : x;
    static const struct {
        double limit, scale;
        const char *unit;
    } big[] = {
        {99999.5, 1.0, "s"},
        {99999.5 * 60, 60.0, "m"},
        {99999.5 * 3600, 3600.0, "h"},
        {99999.5 * 86400, 86400.0, "d"},
    };
    if (x < 9999.5e-9)
        snprintf(buf, len, sign ? "%+5.0fns" : "%4.0fns", y * 1e9);
    else if (x < 9999.5e-6)
        snprintf(buf, len, sign ? "%+5.0fus" : "%4.0fus", y * 1e6);
    else if (x < 9999.5e-3)
        snprintf(buf, len, sign ? "%+5.0fms" : "%4.0fms", y * 1e3);
    else if (x < 999.5)
        snprintf(buf, len, sign ? "%+6.1fs" : "%5.1fs", y);
    else {
        for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
            if (x < big[i].limit) {
                snprintf(buf, len, sign ? "%+6.0f%s" : "%5.0f%s", y / big[i].scale, big[i].unit);
                return buf;
            }
        }
        snprintf(buf, len, sign ? "%+6.0fy" : "%5.0fy", y / (86400.0 * 365));
    }
    return buf;
}

const char *fmt_freq(char *buf, size_t len, double v, bool sign)
{
    if (fabs(v) < 99999.5)
        snprintf(buf, len, sign ? "%+10.3f" : "%10.3f", v);
    else
        snprintf(buf, len, sign ? "%+10.0f" : "%10.0f", v);
    return buf;
}

static void split_utc(uint64_t sec, int64_t *y, unsigned *mo, unsigned *d, unsigned *h,
                      unsigned *mi, unsigned *s, unsigned *wday)
{
    int64_t days = (int64_t)(sec / 86400);
    unsigned rem = (unsigned)(sec % 86400);
    int m, md;
    ntp_time_civil_from_days(days, y, &m, &md);
    *mo = (unsigned)m;
    *d = (unsigned)md;
    *h = rem / 3600;
    *mi = rem / 60 % 60;
    *s = rem % 60;
    *wday = (unsigned)((days + 4) % 7); /* 1970-01-01 was a Thursday */
}

const char *fmt_utc(char *buf, size_t len, const struct cmdmon_timespec *ts)
{
    static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t y;
    unsigned mo, d, h, mi, s, wd;
    split_utc(ts->sec, &y, &mo, &d, &h, &mi, &s, &wd);
    snprintf(buf, len, "%s %s %02u %02u:%02u:%02u %" PRId64, wdays[wd], months[mo - 1], d, h, mi, s,
             y);
    return buf;
}

const char *fmt_utc_iso(char *buf, size_t len, uint64_t sec)
{
    int64_t y;
    unsigned mo, d, h, mi, s, wd;
    split_utc(sec, &y, &mo, &d, &h, &mi, &s, &wd);
    snprintf(buf, len, "%04" PRId64 "-%02u-%02u %02u:%02u:%02u", y, mo, d, h, mi, s);
    return buf;
}

const char *fmt_ts_csv(char *buf, size_t len, const struct cmdmon_timespec *ts)
{
    snprintf(buf, len, "%" PRIu64 ".%09" PRIu32, ts->sec, ts->nsec);
    return buf;
}

const char *fmt_leap(unsigned leap, bool short_form)
{
    static const char *const lf[] = {"Normal", "Insert second", "Delete second",
                                     "Not synchronised"};
    static const char *const sf[] = {"N", "+", "-", "?"};
    if (leap > 3)
        return short_form ? "?" : "Invalid";
    return short_form ? sf[leap] : lf[leap];
}

const char *fmt_refid_text(char *buf, size_t len, uint32_t ref_id)
{
    size_t n = 0;
    for (int shift = 24; shift >= 0 && n + 1 < len; shift -= 8) {
        unsigned c = (ref_id >> shift) & 0xFFu;
        if (c >= 0x20 && c <= 0x7E)
            buf[n++] = (char)c;
    }
    buf[n] = '\0';
    return buf;
}

const char *fmt_bits(char *buf, size_t len, unsigned v, unsigned n)
{
    size_t i = 0;
    for (unsigned b = n; b > 0 && i + 1 < len; b--)
        buf[i++] = (v >> (b - 1)) & 1u ? '1' : '0';
    buf[i] = '\0';
    return buf;
}
