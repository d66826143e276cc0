/* Leap seconds from a zoneinfo (TZif) file, for `leapsectz` (chrony.conf: e.g. right/UTC).
 *
 * Pure: the caller reads the file (any way it likes) and hands the bytes to tzif_parse();
 * the leap-second records of versions 1 (32-bit times) and 2, 3, 4 (64-bit, the second
 * block) are kept. RFC 8536 §3.2: a record is (occurrence, correction): occurrence is the
 * time of the leap second on the file's own scale, which counts the earlier leap seconds,
 * so the UTC (POSIX) midnight that ends the leap day is occurrence - the previous
 * correction; correction is the total after it (+1 per inserted, -1 per deleted second).
 * TAI - UTC is 10 s + the correction in effect (chrony: TAI - UTC started at 10 s). A
 * version 4 file may end with a record that repeats the correction (the table's expiry):
 * kept as the expiry, not a leap. */
#ifndef TEMPUS_CORE_TZIF_H
#define TEMPUS_CORE_TZIF_H

#include <stddef.h>
#include <stdint.h>

#define TZIF_MAX_LEAPS 100 /* 27 up to now; chrony has no limit */

struct tzif_leaps {
    int n;
    int64_t midnight_s[TZIF_MAX_LEAPS]; /* UTC midnight ending each leap day, POSIX s */
    int corr[TZIF_MAX_LEAPS];           /* TAI - UTC - 10 from that midnight on */
    int base_corr;                      /* the correction before the first record */
    int64_t expiry_s;                   /* table valid until (v4 expiry record), 0 = unknown */
};

enum tzif_status {
    TZIF_OK = 0,
    TZIF_E_MAGIC,     /* not a TZif file */
    TZIF_E_TRUNCATED, /* shorter than its header says */
    TZIF_E_COUNTS,    /* header counts that RFC 8536 forbids or that are too large */
    TZIF_E_LEAPS,     /* leap records out of order or with a correction step other than 1 */
};

/* Text of a status for the log, e.g. "truncated". */
const char *tzif_status_str(enum tzif_status st);

/* Parses len bytes of a TZif file into *out (a file without leap records gives n = 0). */
enum tzif_status tzif_parse(const uint8_t *buf, size_t len, struct tzif_leaps *out);

/* The leap second at the end of the UTC day containing utc_s (POSIX seconds): 1 insert,
 * 2 delete, 0 none (enum clock_leap's values). *tai_offset_s (may be NULL) gets TAI - UTC at
 * utc_s. */
int tzif_leap_on_day(const struct tzif_leaps *l, int64_t utc_s, int *tai_offset_s);

/* chronyd's validation of a leapsectz zone: 30 June 2012 must end with an inserted second
 * and TAI - UTC must be 34 s that day and 35 s the next. 1 = passed. */
int tzif_check_2012(const struct tzif_leaps *l);

#endif
