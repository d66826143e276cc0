/* The drift file: chrony's format, one line "%20.6f %20.6f\n" = frequency in ppm (positive =
 * the uncorrected clock runs fast) and its skew (error bound) in ppm. Read once at start,
 * written atomically (os/files: temp file, fsync, rename) at most once an hour and at exit,
 * so a kill -9 at any moment leaves the previous or the new value, never a torn file. */
#ifndef TEMPUS_DAEMON_DRIFTFILE_H
#define TEMPUS_DAEMON_DRIFTFILE_H

#include <stddef.h>

/* Parses text: both numbers are required. 0 with *freq_ppm and *skew_ppm set, or -1 (chronyd
 * then logs "Could not read valid frequency and skew from driftfile"); out-of-range values
 * (|freq| > 500000 ppm, skew < 0, NaN) are rejected too. */
int driftfile_parse(const char *text, double *freq_ppm, double *skew_ppm);

/* Formats the line into buf. Returns its length (snprintf's). */
int driftfile_format(char *buf, size_t len, double freq_ppm, double skew_ppm);

/* Reads path. 0, -ENOENT (no file yet: not an error to report), or -EINVAL (bad content). */
int driftfile_load(const char *path, double *freq_ppm, double *skew_ppm);

/* Writes path atomically. 0 or -errno. */
int driftfile_save(const char *path, double freq_ppm, double skew_ppm);

#endif
