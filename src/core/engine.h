/* The engine: every NTP source's association, sample filtering, selection and the clock
 * discipline, behind a few entry points. Pure and deterministic: time comes in as arguments,
 * packets leave through struct engine_io, the clock is steered through struct clock_ops, and
 * randomness (transmit-timestamp cookies, poll jitter) comes from the seed.
 *
 * Callers: the daemon's executor (src/daemon) and the simulator (sim/). Both drive it the
 * same way:
 *   e = engine_new(&params, &clock, seed, now);
 *   id = engine_add_source(e, &sp, &addr, "name", now);
 *   loop: engine_run_timers(e, now, &io) when now >= engine_next_timeout_mono_ns(e);
 *         engine_receive(e, id, bytes, len, rx_real_ns, now, &io) for each reply.
 * Times named _mono_ns are a monotonic clock (ns, any origin); _real_ns are the local real
 * clock, ns since the Unix epoch, as read through clock_ops.
 */
#ifndef TEMPUS_CORE_ENGINE_H
#define TEMPUS_CORE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "core/clock_ops.h"
#include "core/keys.h"
#include "core/report.h"
#include "core/tzif.h"
#include "wire/ntp.h"

struct engine;

enum engine_source_kind {
    ENGINE_SOURCE_SERVER = 0, /* server / pool member: we send mode 3 */
    ENGINE_SOURCE_PEER = 1,   /* peer: we send mode 1 */
};

/* One server/pool/peer line's options, with chrony's defaults from
 * engine_source_params_default(). Field names follow the directive options. */
struct engine_source_params {
    enum engine_source_kind kind;
    int minpoll_log2; /* default 6; may be as low as -6 */
    int maxpoll_log2; /* default 10 */
    int iburst;
    int burst;
    int prefer;
    int noselect;
    int trust;
    int require;
    int xleave;
    int version;             /* NTP version of our requests, default 4; 0: 4, or 3 when the key's
                              * digest is longer than 20 octets (chrony's default) */
    uint32_t key_id;         /* symmetric key (engine_set_keys()); 0: none */
    int minstratum;          /* default 0 */
    int polltarget;          /* default 8 */
    int minsamples;          /* default -1: engine's choice */
    int maxsamples;          /* default -1: engine's choice */
    int filter;              /* default 0: off */
    int presend_log2;        /* default 0: off */
    double maxdelay_s;       /* default 3.0 */
    double maxdelayratio;    /* default 0: off */
    double maxdelaydevratio; /* default 10.0 */
    double mindelay_s;       /* default 0: off */
    double asymmetry;        /* default 1.0 (chrony: unset = estimated) */
    double offset_s;         /* default 0 */
};

/* Selection and discipline directives, with chrony's defaults from engine_params_default(). */
struct engine_params {
    /* 1: every source polls by chrony's rule; 0 (default): the request budget moves the
     * requests saved on sources that barely count to the one that does, never more in all
     * (engine.c budget_*, docs/design/engine.md "Session 8") */
    int no_request_budget;
    double makestep_threshold_s; /* makestep: 0 = never step */
    int makestep_limit;          /* updates during which a step is allowed; -1 = always */
    double maxchange_offset_s;   /* 0 = off */
    int maxchange_delay;
    int maxchange_ignore;
    double maxslewrate_ppm;   /* default 83333.333 */
    double maxupdateskew_ppm; /* default 1000 */
    double corrtimeratio;     /* default 3 */
    double maxclockerror_ppm; /* default 1 */
    double maxdrift_ppm;      /* default 500000 */
    int minsources;           /* default 1 */
    double maxdistance_s;     /* default 3 */
    double maxjitter_s;       /* default 1 */
    double reselectdist_s;    /* default 100e-6 */
    double stratumweight_s;   /* default 1e-3 */
    double combinelimit;      /* default 3 */
    int have_initial_freq;    /* a drift file value is known */
    double initial_freq_ppm;  /* from the drift file */
    double initial_skew_ppm;  /* from the drift file */
    /* 0 (default): the monotonic clock given as now_mono_ns runs at the rate the engine
     * sets (Linux CLOCK_MONOTONIC under adjtimex, the simulator). 1: it does not (a virtual
     * clock over an untouched system clock, -x): a correction is then counted as a ppm per
     * mono second instead of a/(1+a). */
    int mono_is_raw;
    /* `local stratum N [orphan]`: local_stratum 0 = no local directive. With local_orphan,
     * sources whose stratum is >= local_stratum are not selectable (state 'O'), except that
     * when nothing else is, the reachable one at exactly local_stratum with the smallest
     * reference ID is selected if that ID is below our own (engine_set_source_local_refid):
     * chrony's orphan mode. Without orphan, local changes nothing in selection. */
    int local_stratum;
    int local_orphan;
    /* authselectmode (ENGINE_AUTHSELECT_*; 0 = ignore): selection options added by
     * authentication (a source with key_id != 0 is authenticated), recounted over every
     * source that is not configured noselect at each add, remove and selectopts, as chronyd
     * 4.3 does; reports show them in eff_options only, not in conf_options. */
    int authselect;
};

#define ENGINE_AUTHSELECT_IGNORE  0 /* nothing added */
#define ENGINE_AUTHSELECT_MIX     1 /* both kinds present: authenticated ones require+trust */
#define ENGINE_AUTHSELECT_PREFER  2 /* an authenticated one present: the others noselect */
#define ENGINE_AUTHSELECT_REQUIRE 3 /* unauthenticated ones always noselect */

void engine_params_default(struct engine_params *p);
void engine_source_params_default(struct engine_source_params *p);

/* How packets leave. send() borrows pkt for the call only. */
struct engine_io {
    void *ctx;
    /* Sends len bytes to the source's remote address; 0 or -errno (counted, not fatal). */
    int (*send)(void *ctx, int source_id, const uint8_t *pkt, size_t len);
    /* Optional: fills the reference fields of our symmetric (peer) packets (leap, stratum,
     * precision, root delay and dispersion, refid, reference time) with what we serve now;
     * the daemon's hook knows its `local` reference. NULL: the engine's own reference. */
    void (*peer_header)(void *ctx, int64_t now_mono_ns, struct ntp_packet *p);
};

/* Creates an engine steering clock (borrowed; must outlive the engine). NULL on ENOMEM. */
struct engine *engine_new(const struct engine_params *p, const struct clock_ops *clock,
                          uint64_t seed, int64_t now_mono_ns);
void engine_free(struct engine *e);

/* Adds a source; name (borrowed, copied) is what reports show. Returns its id (>= 0), or
 * a negative errno-style code. */
int engine_add_source(struct engine *e, const struct engine_source_params *sp,
                      const struct addr *remote, const char *name, int64_t now_mono_ns);
int engine_remove_source(struct engine *e, int source_id);

/* The symmetric keys (core/keys) that sources with a key_id use: requests carry a MAC of the
 * key, replies must carry a good one of the same key (test 5). keys is borrowed and must
 * live until the next call (the daemon swaps tables on `rekey`); NULL: no keys, and sources
 * with a key_id send nothing (chronyd: "Key N is missing"). */
void engine_set_keys(struct engine *e, const struct keys *keys);

/* The table engine_set_keys() gave, or NULL. */
const struct keys *engine_keys(const struct engine *e);

/* Runs what is due at now: polls, bursts, reachability updates, discipline steps. */
void engine_run_timers(struct engine *e, int64_t now_mono_ns, const struct engine_io *io);

/* When engine_run_timers() must next be called. */
int64_t engine_next_timeout_mono_ns(const struct engine *e);

/* A datagram that arrived from source_id's remote address and port, received at rx_real_ns
 * on the local real clock. Bad packets are counted and dropped. */
void engine_receive(struct engine *e, int source_id, const uint8_t *pkt, size_t len,
                    int64_t rx_real_ns, int64_t now_mono_ns, const struct engine_io *io);

/* A transmit timestamp of source_id's outstanding request arrived (the kernel's, from the
 * socket's error queue): tx_real_ns on the engine's clock (mapped as receive timestamps are)
 * is when the request really left, later than the clock read before the send by the system
 * call's time. It becomes the request's T1 if the request is still unanswered. cookie: the
 * request's 8 transmit octets as sent (the datagram the kernel looped back), or NULL when
 * the caller knows the stamp is of the request outstanding (a socket per request). The
 * reply may have come first: the caller then holds it (briefly) and calls this before
 * engine_receive(); a stamp after the reply is refused, and T1 stays the clock read, except
 * for an `xleave` client source whose last request was answered: its stamp becomes T1 of
 * the exchange the next interleaved reply measures (core/xleave: xleave_late_tx).
 * Returns 0 when taken; -ENOENT for an unknown source; -ESTALE when no request is
 * outstanding (or, late, its exchange is not the one kept) or the cookie is another
 * request's; -ERANGE when tx_real_ns is more than
 * ENGINE_TX_TS_EARLY_NS before the clock read or ENGINE_TX_TS_LATE_NS after it (a stamp of
 * another clock, or of a datagram stuck in a queue: T1 stays the read). */
#define ENGINE_TX_TS_EARLY_NS 1000000LL   /* 1 ms: rounding of the -x clock mapping */
#define ENGINE_TX_TS_LATE_NS  100000000LL /* 100 ms */
int engine_tx_timestamp(struct engine *e, int source_id, const uint8_t *cookie, int64_t tx_real_ns);

/* ---- Reports (core/report.h). Times are those of the call; nothing is changed. ---- */

/* Fills *r with the tracking report at now. */
void engine_tracking(const struct engine *e, int64_t now_mono_ns, struct report_tracking *r);

/* Number of sources; report indices run 0 .. count-1 in the order they were added (a
 * removed source shifts later ones down, as chronyd's source array). */
int engine_source_count(const struct engine *e);

/* Fills *r for the source at index (0 .. count-1). 0, or -ENOENT for a bad index. */
int engine_source_report(const struct engine *e, int index, int64_t now_mono_ns,
                         struct report_source *r);

/* Index of source_id in report order, or -ENOENT. */
int engine_source_index(const struct engine *e, int source_id);

/* The reference the server side answers with (leap, stratum, refid, times, root values). */
void engine_reference(const struct engine *e, int64_t now_mono_ns, struct report_reference *r);

/* ---- Commands (chronyc burst/online/offline/makestep). ---- */

/* Starts a burst on source_id: up to n_total requests until n_good good samples. 0/-ENOENT. */
int engine_burst(struct engine *e, int source_id, int n_good, int n_total, int64_t now_mono_ns);

/* Online (polls) or offline (no polls) for source_id. 0/-ENOENT. */
int engine_set_online(struct engine *e, int source_id, int online, int64_t now_mono_ns);

/* Steps the clock by the current offset estimate at the next update (chronyc makestep). */
void engine_makestep(struct engine *e);

/* Which source option engine_set_source_param() changes (chronyc minpoll, maxpoll, ...). */
enum engine_source_param {
    ENGINE_PARAM_MINPOLL = 0,          /* log2 s, -6..24; maxpoll follows if below */
    ENGINE_PARAM_MAXPOLL = 1,          /* log2 s, -6..24; minpoll follows if above */
    ENGINE_PARAM_MAXDELAY = 2,         /* s, > 0 */
    ENGINE_PARAM_MAXDELAYRATIO = 3,    /* 0 = off */
    ENGINE_PARAM_MAXDELAYDEVRATIO = 4, /* 0 = off */
    ENGINE_PARAM_MINSTRATUM = 5,       /* 0..15 */
    ENGINE_PARAM_POLLTARGET = 6,       /* 6..60 */
};

/* Changes one option of source_id at run time, as chronyd's modify commands: a value out of
 * its range is clamped into it. The current poll moves into the new minpoll..maxpoll at
 * once. 0, -ENOENT for an unknown id, -EINVAL for an unknown `which` or a NaN value. */
int engine_set_source_param(struct engine *e, int source_id, enum engine_source_param which,
                            double value);

/* Our own reference ID towards source_id: the refid of the local address its replies come to
 * (ntp_refid_from_addr()), 0 = unknown. Used by orphan mode (the orphan with the smallest
 * reference ID serves, the others follow it) and by test D: a reply from a server at stratum
 * > 1 whose reference ID is ours is from a server synchronised to us (a loop) and gives no
 * sample. 0 or -ENOENT. */
int engine_set_source_local_refid(struct engine *e, int source_id, uint32_t refid);

/* The `local` directive at run time (chronyc local): stratum 0 = off; see engine_params.
 * Selection is rerun at the next sample. */
void engine_set_local(struct engine *e, int stratum, int orphan);

/* ---- Run-time changes (chronyc makestep THRESHOLD LIMIT, maxupdateskew, dfreq, doffset,
 * selectopts, offset, reset sources), as chronyd's cmdmon handlers. ---- */

/* makestep THRESHOLD LIMIT: a step is made when the offset exceeds threshold_s during the
 * next limit updates (-1: always), counted from now as chronyd does. threshold_s <= 0 steps
 * any offset. -EINVAL for a NaN threshold. */
int engine_set_makestep(struct engine *e, double threshold_s, int limit);

/* maxupdateskew PPM: the largest skew of an estimate that may change the frequency.
 * -EINVAL for NaN or a negative value. */
int engine_set_maxupdateskew(struct engine *e, double ppm);

/* reselectdist S: the distance a new source must beat the selected one by. -EINVAL for NaN
 * or a negative value. */
int engine_set_reselectdist(struct engine *e, double distance_s);

/* dfreq: adds dfreq_ppm to the clock's frequency error now, as chronyd's
 * LCL_AccumulateDeltaFrequency (positive: the clock is taken to run faster, so it is slowed
 * and tracking's frequency grows by dfreq_ppm). The next update replaces it with the
 * estimate. -EINVAL for NaN; -EIO when the clock refused the change. */
int engine_adjust_freq(struct engine *e, double dfreq_ppm, int64_t now_mono_ns);

/* doffset: slews the clock by -offset_s (offset_s > 0: the clock is ahead and is slowed), on
 * top of the slew running. -EINVAL for NaN; -EIO when the clock refused the change. */
int engine_adjust_offset(struct engine *e, double offset_s, int64_t now_mono_ns);

/* Selection options of engine_set_select_opts() (the bits of chrony's SELECT_DATA). */
#define ENGINE_SELECT_NOSELECT 0x1u
#define ENGINE_SELECT_PREFER   0x2u
#define ENGINE_SELECT_TRUST    0x4u
#define ENGINE_SELECT_REQUIRE  0x8u

/* selectopts: the options in mask take their value from options (ENGINE_SELECT_* bits);
 * selection is rerun at once (no clock update). 0 or -ENOENT. */
int engine_set_select_opts(struct engine *e, int source_id, unsigned mask, unsigned options,
                           int64_t now_mono_ns);

/* offset: the source's offset correction becomes offset_s (as the `offset` option); the
 * samples already kept are corrected by the change so the estimate does not jump. 0,
 * -ENOENT, or -EINVAL for NaN. */
int engine_set_source_offset(struct engine *e, int source_id, double offset_s);

/* leapsectz: the leap-second table (core/tzif.h; borrowed, must outlive the engine), NULL =
 * none. At each clock update on the last day of June or December, a leap that the sources'
 * vote does not announce is taken from the table (chronyd combines its sources and the time
 * zone the same way); tracking's leap status and the served LI follow. */
void engine_set_leap_table(struct engine *e, const struct tzif_leaps *table);

/* reset sources: every source forgets its samples and reachability; selection is rerun, so
 * the engine is unsynchronised until new samples arrive. */
void engine_reset_sources(struct engine *e, int64_t now_mono_ns);

/* ---- Saved registers (dump files: dumpdir, `dump`, -r). ---- */

/* One sample of a source's register in a form that outlives the engine: when it was taken
 * on the local real clock and its offset in a frame that a later engine can map back. */
struct engine_saved_sample {
    int64_t real_ns;     /* local real time of the sample, ns since the Unix epoch */
    double offset_s;     /* offset in the saved frame (below), positive = clock ahead */
    double delay_s;      /* round-trip delay */
    double disp_s;       /* peer dispersion */
    double root_delay_s; /* server's root delay + delay */
    double root_disp_s;  /* server's root dispersion + peer dispersion */
    int stratum;
    int leap;
};

/* Copies source_id's register, oldest first, into out (at most cap samples). kept = 1: the
 * clock the engine steers outlives it with its last adjustment (the kernel clock): offsets
 * are of that clock continuing at its current rate; kept = 0 (the -x virtual clock over an
 * untouched system clock): offsets are of the raw clock, i.e. the system clock. Brings the
 * discipline's account up to now. Returns the number copied, or -ENOENT. */
int engine_source_export(struct engine *e, int source_id, int kept, int64_t now_mono_ns,
                         struct engine_saved_sample *out, int cap);

/* Replaces source_id's register with n saved samples (oldest first; kept as for export, for
 * this engine's clock) and refits it; the newest sample gives the source's stratum and leap.
 * Reachability stays 0, so the source is selectable only after its next reply. Samples
 * beyond the register's size are dropped from the oldest. Returns the number kept,
 * -ENOENT, or -EINVAL (n < 1, times not increasing or after now, a value not finite, a
 * negative delay or dispersion, stratum outside 0..16, leap outside 0..3): the register is
 * then untouched. */
int engine_source_import(struct engine *e, int source_id, int kept,
                         const struct engine_saved_sample *in, int n, int64_t now_mono_ns);

#endif
