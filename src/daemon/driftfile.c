/* daemon/driftfile: chrony's drift file (see driftfile.h). */
#include "daemon/driftfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "os/files.h"

/* chrony's maxdrift default bounds any believable frequency. */
#define DRIFT_MAX_PPM 500000.0

int driftfile_parse(const char *text, double *freq_ppm, double *skew_ppm)
{
    double f, s;
    if (sscanf(text, "%lf %lf", &f, &s) != 2)
        return -1;
    if (!isfinite(f) || !isfinite(s) || fabs(f) > DRIFT_MAX_PPM || s < 0.0)
        return -1;
    *freq_ppm = f;
    *skew_ppm = s;
    return 0;
}

int driftfile_format(char *buf, size_t len, double freq_ppm, double skew_ppm)
{
    return snprintf(buf, len, "%20.6f %20.6f\n", freq_ppm, skew_ppm);
}

int driftfile_load(const char *path, double *freq_ppm, double *skew_ppm)
{
    char buf[256];
    int n = files_read(path, buf, sizeof buf);
    if (n < 0)
        return n;
    return driftfile_parse(buf, freq_ppm, skew_ppm) ? -EINVAL : 0;
}

int driftfile_save(const char *path, double freq_ppm, double skew_ppm)
{
    char buf[64];
    int n = driftfile_format(buf, sizeof buf, freq_ppm, skew_ppm);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -EINVAL;
    return files_write_atomic(path, buf, (size_t)n);
}
