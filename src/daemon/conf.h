/* The configuration: chrony.conf syntax and semantics (chrony 4.3), parsed into struct conf.
 *
 * Pure: text in, struct conf or a file:line error out. Everything outside the text (include
 * and confdir files, sourcedir listings, host names in allow/deny) comes through an injected
 * struct conf_env, so the parser is unit-tested with a fake file system and fuzzed; the real
 * one is conf_files_env() (conf_files.h). Directives that are parsed but not implemented by
 * tempusd yet are logged at LOG_LEVEL_WARN with file:line (never silently accepted).
 *
 * Usage:
 *   struct conf c; struct conf_error err;
 *   conf_init(&c);
 *   if (conf_parse_file(&c, &env, "/etc/tempus.conf", &err) < 0) report err.msg;
 *   ... use c ...; conf_free(&c);
 * See docs/design/config.md.
 */
#ifndef TEMPUS_DAEMON_CONF_H
#define TEMPUS_DAEMON_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "tempus_config.h"

/* -f's default: TEMPUS_CONF_FILE from the build (meson.build: SYSCONFDIR/tempus.conf,
 * /etc/tempus.conf for the /usr and /usr/local prefixes). */
#ifdef TEMPUS_CONF_FILE
#define CONF_DEFAULT_FILE TEMPUS_CONF_FILE
#else
#define CONF_DEFAULT_FILE "/etc/tempus.conf"
#endif
#define CONF_DEFAULT_PIDFILE    "/run/tempus/tempusd.pid"
#define CONF_DEFAULT_CMD_SOCKET "/run/tempus/tempusd.sock"
/* serverworkers: most NTP server threads (tempus extension) */
#define CONF_MAX_SERVERWORKERS  64
#define CONF_DEFAULT_USER       "_tempus"
#define CONF_DEFAULT_RTC_DEVICE "/dev/rtc"
#define CONF_DEFAULT_HWCLOCK    "/etc/adjtime"

/* chronyd: a line with its newline must be shorter than this many bytes. */
#define CONF_MAX_LINE 2048
/* chronyd: at most this many files open in one include chain (the main file counts). */
#define CONF_MAX_INCLUDE_DEPTH 10
/* Ours: at most this many files read by one parse. chronyd has no limit, but includes that
 * fan out (each file including itself twice...) grow exponentially within the depth limit. */
#define CONF_MAX_FILES 1000
/* chronyd: confdir takes 1..10 directories. */
#define CONF_MAX_CONFDIRS 10

/* The outside world, borrowed for the duration of a parse. Every function may be NULL (then
 * that access fails as if the file/name did not exist). */
struct conf_env {
    void *ctx;
    /* Reads the whole file: *data (malloc'd, NUL-terminated, caller frees) and *len.
     * 0 or -errno. */
    int (*read_file)(void *ctx, const char *path, char **data, size_t *len);
    /* glob(3) with chronyd's flags: a pattern without wildcards yields itself; a wildcard
     * matching nothing yields no paths (0); a directory that cannot be read is -1. *paths is
     * a malloc'd array of malloc'd strings, sorted, which the caller frees. */
    int (*glob)(void *ctx, const char *pattern, char ***paths, size_t *n);
    /* Resolves a host name to its first address (allow/deny by name). 0 or -1. */
    int (*resolve)(void *ctx, const char *name, struct addr *out);
};

/* A parse error: msg is chronyd's text, e.g. "Could not parse server directive at line 3 in
 * file /etc/tempus.conf"; file ("" for command-line directives or when not tied to a file)
 * and line (0 when not tied to a line) locate it. */
struct conf_error {
    char file[512];
    int line;
    char msg[1024];
};

enum conf_source_type {
    CONF_SOURCE_SERVER = 0,
    CONF_SOURCE_POOL = 1,
    CONF_SOURCE_PEER = 2,
};

/* Bits of conf_source.extfields. */
#define CONF_EXTFIELD_F323 1

/* One server/pool/peer line, with chrony's defaults (conf_source_init()). Poll values are
 * stored as given; clamping (minpoll -7..24 etc.) is the engine's (conf_engine.c). */
struct conf_source {
    enum conf_source_type type;
    char *name;  /* host name or address text, resolved later; owned */
    int port;    /* 123 */
    int minpoll; /* log2 s, 6 */
    int maxpoll; /* log2 s, 10 */
    int presend; /* log2 s; 100 = off (chrony's internal "off") */
    int minstratum;
    int polltarget;  /* 8 */
    int version;     /* 0 = default (4) */
    int minsamples;  /* -1 = the global minsamples */
    int maxsamples;  /* -1 = the global maxsamples */
    int filter;      /* 0 = off */
    int maxsources;  /* pool: 4 */
    int nts_port;    /* 4460 */
    uint32_t key_id; /* 0 = none */
    uint32_t certset;
    int extfields; /* CONF_EXTFIELD_* */
    int iburst, burst, prefer, noselect, trust, require, xleave, nts, copy, offline, auto_offline;
    double maxdelay_s;       /* 3.0 */
    double maxdelayratio;    /* 0 = off */
    double maxdelaydevratio; /* 10.0 */
    double maxdelayquant;    /* 0 = off */
    double mindelay_s;       /* 0 = off */
    double asymmetry;        /* 1.0 = estimate it */
    double offset_s;         /* 0 */
    int line;                /* where it was configured */
    char *file;              /* owned; "" for command-line directives */
};

/* One refclock line. Driver names are kept as written (PPS, SHM, SOCK, PHC). */
struct conf_refclock {
    char *driver;                 /* owned */
    char *parameter;              /* owned: device/segment with its ":opt" driver options */
    int poll;                     /* log2 s, 4 */
    int dpoll;                    /* log2 s, 0 */
    int filter;                   /* 64 */
    int rate;                     /* 1 */
    int min_samples, max_samples; /* -1 = global */
    int stratum;                  /* 0 */
    int max_lock_age;             /* 2 */
    int prefer, noselect, trust, require, tai, local, pps;
    char refid[5]; /* "" = derived from the driver name and position */
    char lock[5];  /* "" = none */
    double offset_s, delay_s, precision_s, max_dispersion_s, pulse_width_s;
    int line;
};

/* allow/deny/cmdallow/cmddeny, in configuration order. */
struct conf_access {
    int cmd;                   /* 1: cmdallow/cmddeny */
    int allow;                 /* 1: allow, 0: deny */
    int all;                   /* "all": also clears more specific rules */
    int any_family;            /* no subnet given: every IPv4 and IPv6 address */
    struct addr_subnet subnet; /* when !any_family */
    int line;
};

struct conf_broadcast {
    int interval_s;
    struct addr addr;
    int port; /* 123 */
};

struct conf_ratelimit {
    int enabled;
    int interval; /* log2 s */
    int burst;
    int leak;
    int kod; /* `ratelimit kod K` (tempus): 1 in 2^K drops is a RATE KoD; -1 = no KoD */
};

struct conf_hwtimestamp {
    char *iface;        /* owned; "*" = all */
    int minpoll;        /* 0 */
    int min_samples;    /* 2 */
    int max_samples;    /* 16 */
    double precision_s; /* 100e-9 */
    double tx_comp_s, rx_comp_s;
    int nocrossts;
    int rxfilter; /* CONF_RXFILTER_* */
};

#define CONF_RXFILTER_ANY  0 /* most specific filter that covers NTP */
#define CONF_RXFILTER_NONE 1
#define CONF_RXFILTER_NTP  2
#define CONF_RXFILTER_ALL  3
#define CONF_RXFILTER_PTP  4

enum conf_leapsec_mode {
    CONF_LEAPSEC_SYSTEM = 0,
    CONF_LEAPSEC_STEP,
    CONF_LEAPSEC_SLEW,
    CONF_LEAPSEC_IGNORE,
};

enum conf_authselect_mode {
    CONF_AUTHSELECT_MIX = 0,
    CONF_AUTHSELECT_REQUIRE,
    CONF_AUTHSELECT_PREFER,
    CONF_AUTHSELECT_IGNORE,
};

/* Bits of conf.log_flags (log directive). */
#define CONF_LOG_RAWMEASUREMENTS 0x01
#define CONF_LOG_MEASUREMENTS    0x02
#define CONF_LOG_STATISTICS      0x04
#define CONF_LOG_TRACKING        0x08
#define CONF_LOG_RTC             0x10
#define CONF_LOG_REFCLOCKS       0x20
#define CONF_LOG_TEMPCOMP        0x40
#define CONF_LOG_SELECTION       0x80

/* A growable array of owned strings. */
struct conf_strings {
    char **v;
    size_t n;
};

struct conf_ntscert {
    uint32_t set_id;
    char *path; /* owned */
};

/* The whole configuration. Strings are owned (NULL = not set); every value holds chrony's
 * default until a directive sets it (conf_init()). */
struct conf {
    /* Time sources */
    struct conf_source *sources;
    size_t n_sources;
    struct conf_refclock *refclocks;
    size_t n_refclocks;
    struct conf_strings sourcedirs; /* in order; .sources read by conf_load_sourcedirs() */
    struct conf_strings initstepslew_hosts;
    double initstepslew_threshold_s; /* valid when initstepslew_hosts.n > 0 or set */
    int initstepslew_set;
    int manual;
    int acquisitionport;                          /* -1: a random port per request */
    struct addr bindacqaddress4, bindacqaddress6; /* ADDR_UNSPEC = any */
    char *bindacqdevice;
    int dscp;
    char *dumpdir;
    int maxsamples; /* 0 = no limit beyond the hard 64 */
    int minsamples; /* 6 */

    /* Source selection */
    enum conf_authselect_mode authselectmode;
    double combinelimit;    /* 3 */
    double maxdistance_s;   /* 3 */
    double maxjitter_s;     /* 1 */
    int minsources;         /* 1 */
    double reselectdist_s;  /* 1e-4 */
    double stratumweight_s; /* 1e-3 */

    /* System clock */
    double clockprecision_s; /* 0 = measure */
    double corrtimeratio;    /* 3 */
    char *driftfile;
    int fallbackdrift_min, fallbackdrift_max; /* 0, 0 = off */
    enum conf_leapsec_mode leapsecmode;
    char *leapsectz;
    int makestep_set;
    double makestep_threshold_s;
    int makestep_limit;
    int maxchange_set;
    double maxchange_offset_s;
    int maxchange_start, maxchange_ignore;
    double maxclockerror_ppm; /* 1 */
    double maxdrift_ppm;      /* 500000 */
    double maxupdateskew_ppm; /* 1000 */
    double maxslewrate_ppm;   /* 83333.333 */
    char *tempcomp_file;      /* tempcomp: the sensor file */
    double tempcomp_interval_s;
    char *tempcomp_points; /* tempcomp with a points file */
    double tempcomp_t0, tempcomp_k0, tempcomp_k1, tempcomp_k2;

    /* NTP server */
    struct conf_access *access; /* allow/deny/cmdallow/cmddeny */
    size_t n_access;
    struct addr bindaddress4, bindaddress6;
    char *binddevice;
    struct conf_broadcast *broadcasts;
    size_t n_broadcasts;
    unsigned long clientloglimit; /* 524288 bytes */
    int noclientlog;
    /* tempus: the NTP replies of a receive batch leave with sendmmsg (the default since
     * session 3; `batchreplies` is still accepted) unless `nobatchreplies`: one sendmsg each */
    int batchreplies;
    int nobatchreplies;
    int serverworkers; /* tempus: NTP server threads with SO_REUSEPORT sockets; 0 = none */
    int local_enabled;
    int local_stratum; /* 10 */
    int local_orphan;
    double local_distance_s; /* 1.0 */
    /* later chrony's (4.6, 4.7) `local` options, 0 = off (chronyd 4.3 rejects them) */
    double local_activate_s, local_waitsynced_s, local_waitunsynced_s;
    char *ntpsigndsocket;
    int port;                        /* 123 */
    struct conf_ratelimit ratelimit; /* off; when on 3/8/2 */
    int smoothtime_set;
    double smoothtime_max_freq_ppm, smoothtime_max_wander_ppm_per_s;
    int smoothtime_leaponly;

    /* Command access */
    struct addr bindcmdaddress4, bindcmdaddress6; /* default 127.0.0.1, ::1 */
    char *bindcmdpath; /* Unix socket; "" = disabled ("bindcmdaddress /") */
    char *bindcmddevice;
    int cmdport;                        /* 323 */
    struct conf_ratelimit cmdratelimit; /* off; when on -4/8/2 */

    /* NTS */
    char *ntsdumpdir;
    int ntsrefresh_s; /* 2419200 */
    struct conf_ntscert *ntstrustedcerts;
    size_t n_ntstrustedcerts;
    int nosystemcert;
    int nocerttimecheck;
    int ntsport; /* 4460 */
    struct conf_strings ntsservercerts, ntsserverkeys;
    int ntsprocesses;      /* 1 */
    int maxntsconnections; /* 100 */
    char *ntsntpserver;
    int ntsrotate_s;                    /* 604800 */
    struct conf_ratelimit ntsratelimit; /* off; when on 6/8/2 */

    /* Logging */
    int log_flags;      /* CONF_LOG_* */
    int logbanner;      /* 32 */
    double logchange_s; /* 1.0 */
    char *logdir;
    char *mailonchange_addr;
    double mailonchange_threshold_s;

    /* RTC */
    int rtcsync;
    char *rtcfile;
    double rtcautotrim_s;
    char *rtcdevice; /* /dev/rtc */
    int rtconutc;
    char *hwclockfile; /* /etc/adjtime */

    /* Misc */
    struct conf_hwtimestamp *hwtimestamps;
    size_t n_hwtimestamps;
    char *keyfile;
    int lock_all;
    char *pidfile; /* CONF_DEFAULT_PIDFILE */
    int ptpport;   /* 0 = off */
    int sched_priority;
    char *user; /* CONF_DEFAULT_USER */

    /* What chronyd -p prints: every directive line, whitespace-normalized, in the order
     * read (included files' lines in place; include and confdir lines themselves left out). */
    struct conf_strings lines;
    /* How many "not implemented" warnings the parse logged. */
    int n_warnings;
};

/* Sets every value to chrony's default. */
void conf_init(struct conf *c);
/* Frees what c owns; c must be conf_init()ed again before reuse. NULL is a no-op. */
void conf_free(struct conf *c);

/* Parses the file at path (through env->read_file) into c (values accumulate: later
 * directives override earlier ones). 0, or -1 with *err filled; c then holds what was parsed
 * before the error, and c->lines ends with the bad line as chronyd -p prints it. */
int conf_parse_file(struct conf *c, const struct conf_env *env, const char *path,
                    struct conf_error *err);

/* Parses text[0..len) as if it were the file named name. Same results as conf_parse_file. */
int conf_parse_text(struct conf *c, const struct conf_env *env, const char *name, const char *text,
                    size_t len, struct conf_error *err);

/* chronyd's directives-as-arguments: each of the n strings is one line (numbered from 1,
 * errors name no file). */
int conf_parse_args(struct conf *c, const struct conf_env *env, int n, const char *const *args,
                    struct conf_error *err);

/* Sets *s to a source with chrony's defaults (name NULL, type server). */
void conf_source_init(struct conf_source *s);

/* Parses one server/pool/peer line (already a directive word and its arguments, e.g.
 * "server ntp.example iburst"): 0 and *s filled (s->name owned by s; free with
 * conf_source_free()), or -1. Pure. */
int conf_source_parse(const char *line, struct conf_source *s);
void conf_source_free(struct conf_source *s);

/* Reads the *.sources files of c->sourcedirs (chronyd's rules: basename order, the first
 * directory wins a name, only server/pool/peer lines, bad lines skipped silently, a final
 * line without newline ignored) and returns their sources: *out (malloc'd array, free each
 * with conf_source_free() then the array) and *n. 0, or -1 on memory exhaustion. */
int conf_load_sourcedirs(const struct conf *c, const struct conf_env *env, struct conf_source **out,
                         size_t *n);

/* 1 when a and b are the same source line for `reload sources`: name, type, port and every
 * option equal (chronyd's comparison); where they were written (file, line) does not count. */
int conf_source_same(const struct conf_source *a, const struct conf_source *b);

#endif
