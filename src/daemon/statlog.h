/* chrony's log files: measurements.log, statistics.log, tracking.log in logdir, with chrony's
 * line formats and banners (../shared/spec/chrony-conf-directives.md, "log"; the banner text
 * and widths were checked against Debian's chronyd 4.3 on loopback). Line formatting is pure
 * (statlog_format_*) and unit-tested; statlog_write appends. Files are opened in append mode
 * at the first write and kept open. */
#ifndef TEMPUS_DAEMON_STATLOG_H
#define TEMPUS_DAEMON_STATLOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"

enum statlog_kind {
    STATLOG_MEASUREMENTS = 0,
    STATLOG_STATISTICS = 1,
    STATLOG_TRACKING = 2,
};

/* One line of measurements.log: a measurement that passed the packet tests. */
struct statlog_measurement {
    int64_t real_ns; /* when, on the daemon's clock */
    struct addr remote;
    char leap; /* 'N', '+', '-', '?' */
    int stratum;
    unsigned tests; /* REPORT_TEST_* bits (1 = passed), test 1 = bit 9 .. D = bit 0 */
    int local_poll, remote_poll;
    double score;
    double offset_s, peer_delay_s, peer_disp_s, root_delay_s, root_disp_s;
    uint32_t ref_id;
    int mode; /* 4 server, 1/2 peer */
    int interleaved;
    char tx_source, rx_source; /* 'D' daemon, 'K' kernel, 'H' hardware */
};

/* One line of statistics.log: the regression after a new sample. */
struct statlog_statistics {
    int64_t real_ns;
    struct addr remote;
    double sd_s, est_offset_s, offset_sd_s;
    double diff_freq; /* s/s */
    double skew;      /* s/s */
    double stress;
    int n_samples, best_start, n_runs;
    double asymmetry;
};

/* One line of tracking.log: a clock update. ref_name (may be NULL) replaces the address for
 * reference clocks and local mode. */
struct statlog_tracking {
    int64_t real_ns;
    struct addr ref_addr; /* ADDR_UNSPEC prints 0.0.0.0 */
    const char *ref_name;
    int stratum;
    double freq_ppm, skew_ppm, offset_s;
    char leap;
    int n_combined;
    double offset_sd_s, remaining_s, root_delay_s, root_disp_s, max_error_s;
};

/* Formats a line without newline into buf; returns snprintf's length. */
int statlog_format_measurement(char *buf, size_t len, const struct statlog_measurement *m);
int statlog_format_statistics(char *buf, size_t len, const struct statlog_statistics *s);
int statlog_format_tracking(char *buf, size_t len, const struct statlog_tracking *t);

/* The column header of a log (without the '=' lines, which are as long as it). */
const char *statlog_header(enum statlog_kind kind);

struct statlog;

/* A log LOGDIR/<kind>.log with a banner before every banner_every-th line (0 = never; chrony
 * default 32). Does not open the file yet. NULL on ENOMEM. */
struct statlog *statlog_new(const char *logdir, enum statlog_kind kind, int banner_every);
void statlog_free(struct statlog *l);

/* Appends line (and the banner when due). 0 or -errno; a failing log never stops the daemon. */
int statlog_write(struct statlog *l, const char *line);

/* Closes the file so that the next write reopens it (cyclelogs). */
void statlog_cycle(struct statlog *l);

#endif
