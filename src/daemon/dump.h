/* Dump files (dumpdir, `tempusc dump`, exit, -r): one source's measurement history, saved
 * as DIR/<address>.dat like chronyd's (dumpdir/192.168.1.1.dat) and loaded back at start
 * with -r so the source's statistics are there before its first new reply.
 *
 * The content is tempus's own, versioned and checked text (chronyd's is not meant to be
 * read by other programs, and its samples are in chronyd's own frame):
 *
 *   tempus-dump 1
 *   source 192.168.1.1
 *   saved 1780000000123456789                      local real time, ns since the epoch
 *   samples 2
 *   <real_ns> <offset_s> <delay_s> <disp_s> <root_delay_s> <root_disp_s> <stratum> <leap>
 *   ...
 *   check 89abcdef01234567                         FNV-1a 64 of every byte before it
 *
 * Offsets are of the system clock (engine_source_export's frame), positive = ahead.
 * Written atomically (os/files: temp file, fsync, rename): a kill -9 leaves the old file or
 * the new one. A file with another version, for another source, truncated, altered, saved
 * in the future or more than DUMP_MAX_AGE_S ago is refused with the reason. */
#ifndef TEMPUS_DAEMON_DUMP_H
#define TEMPUS_DAEMON_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "core/engine.h"

#define DUMP_VERSION     1
#define DUMP_MAX_SAMPLES 256
/* Older samples are not believed: the kernel clock they are measured against may have been
 * reset from the RTC (a reboot) or stepped by someone else since. chronyd has no limit. */
#define DUMP_MAX_AGE_S 86400
/* A saved time this far ahead of the clock is still taken (the clock was slewed back). */
#define DUMP_FUTURE_SLACK_S 10

struct dump_data {
    char source[ADDR_TEXT_MAX]; /* the source's address as text (no port) */
    int64_t saved_real_ns;      /* when it was written, local real clock */
    int n;
    struct engine_saved_sample s[DUMP_MAX_SAMPLES]; /* oldest first */
};

enum dump_status {
    DUMP_OK = 0,
    DUMP_E_FORMAT,    /* not a tempus dump file, or another version */
    DUMP_E_SYNTAX,    /* a line that does not parse */
    DUMP_E_TRUNCATED, /* ends early */
    DUMP_E_CHECK,     /* the checksum does not match (altered or torn) */
    DUMP_E_SOURCE,    /* written for another source */
    DUMP_E_FUTURE,    /* saved after now */
    DUMP_E_STALE,     /* saved more than DUMP_MAX_AGE_S ago */
    DUMP_E_SAMPLES,   /* sample values the engine refused */
    DUMP_E_IO,        /* could not be read or written */
};

/* Text of a status for the log, e.g. "truncated". */
const char *dump_status_str(enum dump_status st);

/* Formats d into buf (cap bytes). Returns the length, or -1 when it does not fit. */
int dump_format(const struct dump_data *d, char *buf, size_t cap);

/* Parses len bytes of text (need not be NUL-terminated) into *d. *line (may be NULL) gets
 * the line a DUMP_E_SYNTAX was found on. Checks the format only: dump_check() judges the
 * content. */
enum dump_status dump_parse(const char *text, size_t len, struct dump_data *d, int *line);

/* Whether parsed d may be loaded for the source whose address text is source at now_real_ns:
 * DUMP_OK, DUMP_E_SOURCE, DUMP_E_FUTURE or DUMP_E_STALE. */
enum dump_status dump_check(const struct dump_data *d, const char *source, int64_t now_real_ns);

/* DIR/<address>.dat into path (cap bytes). -1 when it does not fit. */
int dump_path(char *path, size_t cap, const char *dir, const struct addr *a);

/* Writes d to path atomically. DUMP_OK or DUMP_E_IO (*err gets -errno). */
enum dump_status dump_save(const char *path, const struct dump_data *d, int *err);

/* Reads and parses path into *d, then dump_check()s it. -ENOENT in *err (DUMP_E_IO) when
 * there is no file. */
enum dump_status dump_load(const char *path, const char *source, int64_t now_real_ns,
                           struct dump_data *d, int *err);

#endif
