/* The engine's private header: struct engine and struct source, and the small helpers the
 * engine's files share (engine.c, engine_ctl.c, engine_report.c, engine_dump.c,
 * engine_peer.c). Not installed, included by nothing else: everything outside the engine goes
 * through core/engine.h. */
#ifndef TEMPUS_CORE_ENGINE_INT_H
#define TEMPUS_CORE_ENGINE_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/prng.h"
#include "core/discipline.h"
#include "core/engine.h"
#include "core/sfilter.h"
#include "core/srcstats.h"
#include "core/tzif.h"
#include "core/xleave.h"
#include "wire/ntp.h"

#define ENGINE_MAX_SOURCES 64
#ifndef WANDER_PPM
#define WANDER_PPM 0.005 /* extrapolation allowance for offset variance, ppm */
#endif

struct source {
    int id;
    char name[64];
    struct addr remote;
    uint32_t remote_refid;
    uint32_t local_refid; /* our address towards it as a refid, 0 = unknown */
    struct engine_source_params sp;
    unsigned auth_opts; /* ENGINE_SELECT_* added by authselect (update_auth_opts) */

    /* Polling. */
    int online;
    int poll; /* current log2 interval: the longer of own_poll and chr_poll */
    double poll_score;
    int own_poll; /* what tempus's rule (n_eff, model-sigma bound) asks for */
    double own_score;
    int chr_poll; /* what chrony 4.3's rule would poll at: the packet ceiling */
    double chr_score;
    /* The request budget (engine.c budget_*): a SAVER polls at maxpoll while its virtual
     * chrony-rule schedule (v_*, the fastest climb chrony's rule allows) counts the requests
     * chronyd would have sent; the SPENDER (the selected source) polls faster on them. */
    int budget_role;
    int v_started; /* the virtual schedule runs (after the first burst) */
    int v_poll;
    double v_score;
    int v_n;
    double v_next_s;
    int64_t next_tx_mono;
    int burst_good, burst_total; /* remaining in the running burst; total 0 = no burst */
    int initial_burst;           /* the burst started by iburst is running */

    /* The outstanding request. */
    int awaiting;
    int unsent;             /* the last poll sent nothing (missing key): no poll back-off for it */
    struct ntp_ts64 cookie; /* random transmit timestamp we sent */
    int64_t tx_real_ns;     /* local real time the request left */
    int64_t tx_mono_ns;
    double tx_corr_s;   /* discipline correction at transmit */
    double iv_factor;   /* the current interval's random lengthening (1..1.02) */
    double tx_steps_s;  /* the discipline's steps_s at transmit */
    int tx_kernel;      /* tx_real_ns is a kernel TX timestamp (engine_tx_timestamp) */
    int last_tx_kernel; /* the last valid response's T1 was one (ntpdata) */
    uint32_t total_kernel_tx;
    struct ntp_ts64 last_rx_xmt; /* transmit timestamp of the last valid response (test 1) */
    unsigned reach;
    struct xleave xl;

    /* Symmetric mode (peers): the peer's last transmit field and when it arrived, which our
     * next packet carries back as origin and receive (its T1 and T2 for its measurement). */
    int have_peer_xmt;
    struct ntp_ts64 peer_xmt;
    int64_t peer_rx_real_ns;
    int64_t peer_rx_mono_ns;                /* 0 = none yet */
    int peer_poll;                          /* the poll field of its last packet */
    double peer_rx_corr_s, peer_rx_steps_s; /* the discipline's at its arrival */
    /* Interleaved symmetric mode (`peer ... xleave`): our packet carries the precise
     * transmit time of our previous one, and origin = the peer's receive field (its receive
     * time of our previous packet); an interleaved answer's origin is our receive field. */
    struct ntp_ts64 peer_rx_field; /* receive field of the peer's last packet */
    int sym_sent;                  /* our last packet went interleaved */
    struct ntp_ts64 sym_sent_rx;   /* its receive field */
    struct xleave_exchange sym_t4; /* the arrival that receive field names: an interleaved
                                    * measurement's T4 (only the t4_ fields are used) */

    struct srcstats st;
    struct sfilter flt; /* `filter N`: good samples wait here for N polls */
    int kod_rate;

    /* Last packet and measurement (ntpdata). */
    struct ntp_packet pkt;
    int have_pkt;
    int pkt_valid; /* pkt passed tests 1-3, 5 */
    double offset_theta_s, delay_s, disp_s, resp_s;
    uint16_t test_flags;
    uint32_t total_tx, total_rx, total_valid, total_good;

    /* Last good sample. */
    int have_sample;
    double last_sample_t;
    double last_meas_s; /* local clock offset at the time, positive = ahead */
    double last_meas_corr_s;
    double last_err_s;
    int stratum, leap;

    /* Selection. */
    int sel_state;
    int untrusted_penalty; /* select_cand.untrusted_penalty between runs */
    double sel_score;      /* select_cand.score between runs (selectdata's Score) */
    double lo_s, hi_s, weight;
};

struct engine {
    struct engine_params p;
    const struct clock_ops *clock;
    const struct keys *keys; /* borrowed: engine_set_keys() */
    struct prng prng;
    int64_t start_mono_ns;
    double now_s;

    struct source *src[ENGINE_MAX_SOURCES];
    int nsrc;
    int next_id;

    struct discipline d;
    int selected;  /* index into src, -1 */
    double credit; /* requests saved against chrony's rule, not yet spent (budget_*) */
    int synced;
    int holding; /* startup hold done? 0 = still holding */
    double last_update_t, prev_update_t;
    int64_t ref_time_real_ns;
    double last_offset_s, rms_offset2;
    uint32_t n_updates;
    double freq;       /* system raw frequency estimate, s/s */
    double skew;       /* s/s */
    double prior_freq; /* the frequency prior's centre (raw s/s): 0, or the drift file's value */
    double est_offset_s, est_var;
    double root_delay_s, root_disp_s;
    uint32_t ref_id;
    struct addr ref_addr;
    int stratum;
    int leap;
    int makestep_pending;
    int maxchange_ignored;
    struct srcstats_chooser q_choice;    /* the wander / drift model of every source's fit */
    int64_t leap_midnight_real_ns;       /* the midnight a leap was last armed for, 0 = none */
    const struct tzif_leaps *leap_table; /* leapsectz, borrowed; NULL = none */
    int tai_set_s;                       /* TAI - UTC last given to set_tai_s, 0 = never */
};

static inline double tsec(const struct engine *e, int64_t mono_ns)
{
    return (double)(mono_ns - e->start_mono_ns) * 1e-9;
}

static inline int64_t read_real(const struct engine *e)
{
    return e->clock && e->clock->read_real_ns ? e->clock->read_real_ns(e->clock->ctx) : 0;
}

static inline int find_index(const struct engine *e, int id)
{
    for (int i = 0; i < e->nsrc; i++)
        if (e->src[i]->id == id)
            return i;
    return -1;
}

static inline int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static inline void start_burst(struct source *s, int good, int total)
{
    s->burst_good = good;
    s->burst_total = total;
}

/* The options in effect: configured, plus authselect's. */
static inline int eff_noselect(const struct source *s)
{
    return s->sp.noselect || (s->auth_opts & ENGINE_SELECT_NOSELECT);
}

static inline double poll_interval_s(const struct source *s)
{
    return ldexp(1.0, s->poll);
}

/* Runs selection at engine time t without a new sample (nothing updates the clock unless
 * the selection changes it): select_and_update(e, t, NULL) of engine.c. */
void engine_select_now(struct engine *e, double t);

/* Moves the source's poll scores by delta (both rules): adjust_poll of engine.c. */
void engine_poll_adjust(struct source *s, double delta);

/* engine_peer.c: symmetric mode (peers). */

/* Fills our symmetric packet p for source s before it is built (header, origin, receive,
 * transmit = s->cookie, our real transmit time or, interleaved, our previous one's) and
 * remembers what the answer will be matched against (sym_sent, sym_sent_rx, sym_t4). */
void engine_peer_fill(struct engine *e, struct source *s, int64_t now_mono_ns,
                      const struct engine_io *io, struct ntp_packet *p);

/* Keeps a new packet p of the peer (arrived at rx_real_ns / now_mono_ns), valid or not, for
 * our next packet to answer. */
void engine_peer_note(const struct engine *e, struct source *s, const struct ntp_packet *p,
                      int64_t rx_real_ns, int64_t now_mono_ns);

/* 1 when p answers our last packet interleaved (its origin is that packet's receive field);
 * only asked when the basic test 2 failed. */
int engine_peer_interleaved(const struct source *s, const struct ntp_packet *p);

/* An interleaved answer's timestamps: T1 from cur (our last transmission), T4 the arrival
 * our last packet's receive field named; T2, T3 from p (ns, near rx_real_ns). */
void engine_peer_exchange(const struct source *s, const struct xleave_exchange *cur,
                          const struct ntp_packet *p, int64_t rx_real_ns, struct xleave_exchange *x,
                          int64_t *T2, int64_t *T3);

/* After a new packet of the peer: pushes our next packet to at least half an interval later
 * (the phase rule; see engine_peer.c). */
void engine_peer_phase(struct source *s, int64_t now_mono_ns);

#endif
