/* NTP time formats and the project's instant type.
 *
 * The project's instant is int64 nanoseconds since the Unix epoch (1970-01-01 00:00:00 UTC,
 * POSIX time: no leap seconds), named *_real_ns / *_ns. It covers 1677..2262.
 *
 * NTP timestamps (RFC 5905 §6) are 32-bit seconds since 1900-01-01 (era 0; era 1 starts
 * 2036-02-07 06:28:16 UTC) plus a 32-bit fraction (units of 2^-32 s). A 32-bit seconds
 * field is ambiguous modulo 2^32 s (~136 years): converting to an instant needs an era
 * choice, either by a pivot (the instant nearest a reference time, e.g. the local clock) or
 * by a fixed 136-year window (chrony's NTP_ERA_SPLIT). Differences between timestamps use
 * wrap-around arithmetic and are exact while the true difference is under 68 years.
 * The all-zero timestamp means "unset" (never 1900).
 *
 * NTP short format: unsigned 16.16 seconds (root delay, root dispersion).
 *
 * All functions are pure and total (no errors) unless said otherwise.
 */
#ifndef TEMPUS_BASE_NTP_TIME_H
#define TEMPUS_BASE_NTP_TIME_H

#include <stddef.h>
#include <stdint.h>

/* NTP seconds (era 0) at the Unix epoch: 70 years incl. 17 leap days. */
#define NTP_TIME_UNIX_OFFSET_S 2208988800u

/* Start of the fixed era window used by ntp_time_to_ns_split(): 1976-01-01 00:00:00 UTC
 * (Unix s). chrony uses build time - 50 years; a fixed value keeps builds reproducible.
 * The window covers 1976-01-01 .. 2112-02-07. */
#define NTP_TIME_ERA_SPLIT_UNIX_S 189302400

#define NTP_TIME_NS_PER_S 1000000000LL

/* A 64-bit NTP timestamp in host order. Both fields zero = unset. */
struct ntp_ts64 {
    uint32_t sec;
    uint32_t frac;
};

/* Packs as the 64-bit fixed-point value sec.frac (sec in the high half), and back. */
uint64_t ntp_time_ts_to_u64(struct ntp_ts64 ts);
struct ntp_ts64 ntp_time_ts_from_u64(uint64_t v);

/* 1 if ts is the all-zero "unset" timestamp. */
int ntp_time_is_zero(struct ntp_ts64 ts);

/* 1 if a and b are bit-identical. */
int ntp_time_equal(struct ntp_ts64 a, struct ntp_ts64 b);

/* Instant -> NTP timestamp, fraction rounded to nearest (so ns -> ts -> ns is exact within
 * 1 ns). Times before 1900 or from 2036-02-07 on wrap into the era implied by the value
 * modulo 2^32 s, as the wire format requires. Note an instant exactly on an era boundary
 * encodes as all-zero, i.e. "unset" (the same ambiguity every NTP implementation has). */
struct ntp_ts64 ntp_time_from_ns(int64_t real_ns);

/* NTP timestamp -> instant: the instant congruent to ts (mod 2^32 s) nearest pivot_ns
 * (e.g. the local clock's reading). Exact within 1 ns. Result clamps to INT64 range. */
int64_t ntp_time_to_ns(struct ntp_ts64 ts, int64_t pivot_ns);

/* NTP timestamp -> instant in the fixed window starting at split_unix_s (Unix seconds):
 * result in [split, split + 2^32 s). Pass NTP_TIME_ERA_SPLIT_UNIX_S for chrony's rule. */
int64_t ntp_time_to_ns_split(struct ntp_ts64 ts, int64_t split_unix_s);

/* a - b in nanoseconds using wrap-around (mod 2^32 s) arithmetic: correct while the true
 * difference is within +-68 years. Rounded to nearest ns. */
int64_t ntp_time_diff_ns(struct ntp_ts64 a, struct ntp_ts64 b);

/* a - b in seconds (same wrap-around rule), computed in fixed point before conversion. */
double ntp_time_diff_s(struct ntp_ts64 a, struct ntp_ts64 b);

/* A 32.32 signed fixed-point duration (as from the difference of two timestamps) in ns,
 * rounded to nearest. */
int64_t ntp_time_fixed_to_ns(int64_t fixed_32_32);

/* NTP short format (16.16) from seconds, as chrony: rounded up to the next 2^-16 s,
 * negative or NaN -> 0, >= 65536 s -> 0xFFFFFFFF. */
uint32_t ntp_time_short_from_s(double s);

/* The same from nanoseconds, integers only (the server's hot path). Rounded up, negative
 * -> 0, saturating. */
uint32_t ntp_time_short_from_ns(int64_t ns);

/* NTP short format -> seconds (exact in a double). */
double ntp_time_short_to_s(uint32_t v);

/* NTP short format -> nanoseconds, rounded to nearest. */
int64_t ntp_time_short_to_ns(uint32_t v);

/* Broken-down UTC time of an instant (proleptic Gregorian; pure civil-from-days). */
struct ntp_time_civil {
    int64_t year;
    int month;  /* 1..12 */
    int day;    /* 1..31 */
    int hour;   /* 0..23 */
    int minute; /* 0..59 */
    int second; /* 0..59 */
    int nsec;   /* 0..999999999 */
    int wday;   /* 0 = Sunday .. 6 */
    int yday;   /* 0..365 */
};

/* Splits an instant into UTC fields (floor semantics for negative instants). */
void ntp_time_civil_from_ns(int64_t real_ns, struct ntp_time_civil *out);

/* The proleptic Gregorian date of a day number (days since 1970-01-01, any int64 within
 * +-2^62): the inverse of ntp_time_days_from_civil. */
void ntp_time_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31; not
 * range-checked beyond that). */
int64_t ntp_time_days_from_civil(int64_t year, int month, int day);

/* Instant of a UTC date and time (whole seconds). Fields are not range-checked. */
int64_t ntp_time_ns_from_civil(int64_t year, int month, int day, int hour, int minute, int second);

/* Longest output of ntp_time_format_utc() plus NUL ("Wed Nov 25 17:15:36 2026" = 24). */
#define NTP_TIME_UTC_TEXT_MAX 32

/* Formats the instant's whole seconds as chronyc's UTC TIME: strftime "%a %b %d %H:%M:%S %Y"
 * in the C locale, e.g. "Mon Feb 13 11:26:22 2023", "Thu Jan 01 00:00:00 1970" for 0.
 * Truncates to len (always NUL-terminated when len > 0). Returns buf. */
const char *ntp_time_format_utc(int64_t real_ns, char *buf, size_t len);

#endif
