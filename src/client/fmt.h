/* Value formatters of chronyc's text reports (shared/spec/chronyc-output-formats.md §1.3).
 * Each writes a NUL-terminated string into buf (len bytes) and returns buf. */
#ifndef TEMPUS_CLIENT_FMT_H
#define TEMPUS_CLIENT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/cmdmon.h"

#define FMT_MAX 64 /* enough for every formatter here */

/* INTERVAL: seconds as 4 columns with m/h/d/y units; 0xFFFFFFFF prints "   -". */
const char *fmt_interval(char *buf, size_t len, uint32_t s);

/* OFFSET: seconds with ns/us/ms/s/m/h/d/y units; signed: 7 columns with sign,
 * unsigned: 6 columns of |v|. */
const char *fmt_offset(char *buf, size_t len, double v, bool sign);

/* FREQ: ppm, 10 columns, 3 decimals below 99999.5. */
const char *fmt_freq(char *buf, size_t len, double v, bool sign);

/* UTC TIME "%a %b %d %H:%M:%S %Y" of ts->sec (C locale names; 64-bit seconds). */
const char *fmt_utc(char *buf, size_t len, const struct cmdmon_timespec *ts);

/* "YYYY-MM-DD HH:MM:SS" (UTC) of sec, for manual list. */
const char *fmt_utc_iso(char *buf, size_t len, uint64_t sec);

/* CSV form of a time: "<sec>.<nsec %09u>". */
const char *fmt_ts_csv(char *buf, size_t len, const struct cmdmon_timespec *ts);

/* LEAP: long ("Normal", "Insert second", ...) or short ("N", "+", "-", "?") form. */
const char *fmt_leap(unsigned leap, bool short_form);

/* A reference ID as text: its 4 bytes from the most significant, printable ASCII only. */
const char *fmt_refid_text(char *buf, size_t len, uint32_t ref_id);

/* The low n bits of v as '0'/'1', most significant first. */
const char *fmt_bits(char *buf, size_t len, unsigned v, unsigned n);

#endif
