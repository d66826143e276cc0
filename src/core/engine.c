/* The engine's core: the life of an engine (new/free), polling and bursts, transmitting,
 * selection and the clock update (core/select, core/discipline), and receiving (packet tests,
 * KoD, samples into core/srcstats). The rest of the engine: engine_ctl.c (sources and
 * run-time settings), engine_report.c (tracking, sources, ntpdata), engine_dump.c (saved
 * registers), engine_peer.c (symmetric mode); engine_int.h holds the shared structures.
 * See docs/design/engine.md for the why of each constant. */
#include "core/engine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/ntp_time.h"
#include "base/prng.h"
#include "core/discipline.h"
#include "core/engine_int.h"
#include "core/select.h"
#include "core/sfilter.h"
#include "core/srcstats.h"
#include "core/xleave.h"
#include "wire/ntp.h"

#define MAX_RESPONSE_TIME_S 4.0  /* test A: server's T3 - T2 */
#define MAX_ROOT_DISTANCE_S 16.0 /* test 7 */
#define BURST_INTERVAL_S    2.0  /* iburst/burst spacing, or 2^poll/4 if shorter */
#define LEAP_GUARD_S        5.0  /* samples this close to a leap second are dropped */
#define STARTUP_HOLD_S      10.0 /* longest wait for all initial bursts before an update */
#ifndef POLL_RANDOMNESS
/* Each poll interval is lengthened by a uniform 0..2 %: chronyd 4.3's observed intervals at
 * poll 10 under the syscall-level simulator span 1024..1044 s (mean 1031), at poll 6 64..65.3
 * s. Sources do not stay in lock-step, and the mean interval is chronyd's (tempus's former
 * +-1/32, whose positive half the shorter-poll rule cut off, averaged 0.8 % short of 2^poll:
 * 2-4 % more requests than chronyd on the WAN worlds). */
#define POLL_RANDOMNESS 0.02
#endif
#ifndef SYS_FRAC
#define SYS_FRAC 0.02 /* systematic error allowance in combining, x distance */
#endif

#ifndef DUR_MAX_IV
#define DUR_MAX_IV 1.0 /* longest slew, in update intervals */
#endif
#ifndef DUR_MIN_IV
#define DUR_MIN_IV 0.0 /* shortest slew, in update intervals (at least DUR_MIN_S) */
#endif
#ifndef DUR_MIN_S
#define DUR_MIN_S 1.0 /* shortest slew, seconds */
#endif
#ifndef NEFF_POLL
#define NEFF_POLL 2.0 /* poll adaptation: weight of the effective sample count */
#endif
/* Which poll rule sets the interval (docs/design/engine.md, "Polling and packets"):
 * 2 = chrony 4.3's documented rule (the bar's packet count, and measured the most accurate
 * use of it), 1 = the longer of tempus's own rule and chrony's, 0 = tempus's own rule alone
 * (more packets than chrony on LAN paths). -DCHRONY_POLL=1 is kept as a name for 2. */
#if defined(CHRONY_POLL) && CHRONY_POLL
#define POLL_RULE 2
#endif
#ifndef POLL_RULE
#define POLL_RULE 2
#endif
/* chrony's rule reads chrony's own register (srcstats' shadow of it): its size after
 * chrony's runs test and its line's prediction error. 0: tempus's register and model
 * (fewer packets than chronyd sends; 41 seeds, RMS geometric mean: lan 26.4 -> 18.1 us,
 * temp 1458 -> 1290, temp_lan 84.6 -> 26.5; asymmetric 56.5 -> 71.6 is the one real loss;
 * docs/design/experiments/shadow-h9/README.md). */
#ifndef CHR_SHADOW
#define CHR_SHADOW 1
#endif
#ifndef CHR_SHADOW_NERR
#define CHR_SHADOW_NERR 0 /* 1: the shadow's register size only, tempus's prediction error */
#endif
#ifndef PREFER_LAPSE_MASK
/* prefer lapses after the last two polls got no valid reply (one lost reply is common) */
#define PREFER_LAPSE_MASK 3u
#endif
/* x maxclockerror: how a source's correctness interval widens with the age of its samples.
 * The distance that ranks the sources and limits combining grows by (skew + maxclockerror) x
 * age, so a source that stopped answering hands over (failover); the interval that decides
 * who is a falseticker grows by the source's own skew only, as chronyd 4.3's (its
 * selection.log, timeshift seed 1: a 1011 s old sample's interval is 366 us wide each side,
 * a fresh one's 363). With maxclockerror in it a sample at poll 10 widened the interval to
 * ~1 ms before the next, so a source drifting away (timeshift: 0.28 ppm, 1 ms/h) stayed a
 * truechimer for hours and, fresh, took most of the weight (41 seeds: timeshift RMS 0.621x,
 * no other world moves). */
#ifndef SEL_CLOCK_ERR
#define SEL_CLOCK_ERR 0.0
#endif
#ifndef FREQ_AGE
#define FREQ_AGE 1 /* 1: the frequency in use ages by AGE_Q before a blend (select_and_update) */
#endif
/* Standard deviations of disagreement that make a survivor a falseticker against a majority
 * (select_params.consist_k). 41 seeds against intervals alone: timeshift 0.560 +- 0.047 at
 * 10 (0.563 at 5, 0.672 at 20); at 10 no other world moves at all (at 5 failover,
 * falseticker_2of5 and liar_late 1.001-1.002). */
#ifndef CONSIST_K
#define CONSIST_K 10.0
#endif
#ifndef AGE_Q
#define AGE_Q 1e-18 /* (s/s)^2/s: 0.001 ppm/sqrt(s), srcstats' default wander rate */
#endif
/* A prior on the oscillator's raw frequency, combined with every frequency estimate from a
 * fit of >= FREQ_MIN_N samples (discipline_freq_prior): 1 - P_WIDE of a normal of sd
 * FREQ_PRIOR_PPM plus P_WIDE of one of sd FREQ_PRIOR_WIDE_PPM, centred on 0 or on the drift
 * file's value. A burst's line through 3-6 samples over a few seconds on a noisy path claims a
 * skew of ~100 ppm (its noise scale from 1-4 degrees of freedom) and is often that far off:
 * ref_temp 120.8 ppm at 2 s for a 10 ppm clock, loss20 seed 8 110 ppm for a 20 ppm clock,
 * applied whole they ran the clock 1-12 ms off before the next sample. Against the prior such
 * an estimate moves the frequency part of the way; a LAN burst's (skew a few ppm) or a later
 * fit's (spans of minutes, skews < 1 ppm) passes nearly unchanged, and one far outside the
 * narrow part (a -500 ppm oscillator) is explained by the wide part. A 2-sample line is
 * exempt: its variance comes from the delays (an error bound, pessimistic), and pulling it
 * cost freq500 and stratum2 (engine.md "Start-up frequency", 41 seeds: 20 ppm best for
 * ref_temp's t1ms, 30 / 50 ppm keep less of the gain). */
#ifndef FREQ_PRIOR_PPM
#define FREQ_PRIOR_PPM 20.0
#endif
#ifndef FREQ_PRIOR_WIDE_PPM
#define FREQ_PRIOR_WIDE_PPM 1000.0
#endif
#ifndef FREQ_PRIOR_WIDE_P
#define FREQ_PRIOR_WIDE_P 0.1
#endif
#ifndef FREQ_MIN_N
#define FREQ_MIN_N 3
#endif
#ifndef SIGMA_POLL
#define SIGMA_POLL 3.0 /* poll adaptation: prediction error bound in model sigmas */
#endif

/* The request budget (docs/design/engine.md, "Session 8: the request budget"): requests go
 * where they count, never more of them than chrony's rule would send. With at least
 * BUDGET_NSRC reachable sources, one that is not selected and carries less than BUDGET_W of
 * the combined estimate (a saver) polls at maxpoll; the reachable source with the largest
 * weight (the spender) polls BUDGET_SHIFT steps below chrony's rule (never below minpoll)
 * while the engine's credit lasts (>= BUDGET_MIN to start, >= 1 for each request). Every
 * source runs a virtual chrony-rule schedule from the end of its first burst, climbing as
 * fast as that rule allows (n grows by one per request; no runs-test trims, no error branch:
 * chronyd can only poll as often or more); a saver's and the spender's virtual requests are
 * credited, their real regular requests debited. Measured (41 seeds, tempus-sim, against
 * chrony's rule alone): wan4 0.799 +- 0.041, falseticker 0.795, falseticker_2of5 0.813,
 * liar_late 0.971, fewer packets. With 3 sources timeshift lost (x1.34: a drifting server on
 * the best link outvoted later), hence BUDGET_NSRC 4; saving from the first burst on (0.666
 * in wan4) took 600 s to within 1 ms, hence SAVER_MIN_N and SAVE_AFTER_CLIMB. */
#ifndef BUDGET
#define BUDGET 1
#endif
#ifndef BUDGET_SHIFT
#define BUDGET_SHIFT 2
#endif
#ifndef BUDGET_W
#define BUDGET_W 0.25
#endif
#ifndef BUDGET_MIN
#define BUDGET_MIN 2.0
#endif
#ifndef BUDGET_NSRC
#define BUDGET_NSRC 4
#endif
#ifndef SAVER_MIN_N
#define SAVER_MIN_N 8 /* samples a source has before it saves */
#endif
#ifndef SAVE_AFTER_CLIMB
#define SAVE_AFTER_CLIMB                                                                           \
    1 /* 1: savers only once the selected source's chrony poll left minpoll                        \
       */
#endif
#ifndef SPEND_REACH
#define SPEND_REACH 1u /* the spender's last poll must have been answered */
#endif
#define BUDGET_IV 1.02 /* chronyd's longest random lengthening of an interval */
enum { BUDGET_NORMAL = 0, BUDGET_SAVER, BUDGET_SPENDER };

static int64_t mono_of(const struct engine *e, double t_s)
{
    /* Rounded up (plus 1 ns) so that tsec() of the result is never before t_s; saturated
     * at INT64_MAX ("never") for times beyond the int64 ns range, e.g. the end of a slew of
     * a decades-large offset (a fuzzer finding: the conversion overflowed to INT64_MIN and
     * the daemon spun on a timer in the past). */
    double ns = ceil(t_s * 1e9) + 1.0;
    if (!(ns < 9.0e18 - (double)e->start_mono_ns))
        return INT64_MAX;
    if (ns < 0.0)
        ns = 0.0;
    return e->start_mono_ns + (int64_t)ns;
}

struct engine *engine_new(const struct engine_params *p, const struct clock_ops *clock,
                          uint64_t seed, int64_t now_mono_ns)
{
    struct engine *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    if (p)
        e->p = *p;
    else
        engine_params_default(&e->p);
    e->clock = clock;
    prng_seed(&e->prng, seed);
    e->start_mono_ns = now_mono_ns;
    e->selected = -1;
    e->stratum = 0;
    e->leap = 3;
    double maxf = e->p.maxdrift_ppm > 0 ? e->p.maxdrift_ppm : 500000.0;
    if (clock && clock->max_freq_ppm > 0 && clock->max_freq_ppm < maxf)
        maxf = clock->max_freq_ppm;
    double base = e->p.have_initial_freq ? -e->p.initial_freq_ppm : 0.0;
    discipline_init(&e->d, clock, 0.0, base, maxf, e->p.maxslewrate_ppm);
    e->d.mono_is_raw = e->p.mono_is_raw;
    e->freq = discipline_freq_for_base(&e->d, base);
    e->skew = e->p.have_initial_freq ? fmax(e->p.initial_skew_ppm, 0.01) * 1e-6 : 1e-3;
    e->prior_freq = e->p.have_initial_freq ? e->freq : 0.0;
    if (clock && clock->set_sync_status)
        clock->set_sync_status(clock->ctx, 0, 16.0, 16.0);
    return e;
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->nsrc; i++)
        free(e->src[i]);
    free(e);
}

static void select_and_update(struct engine *e, double t, struct source *trigger);

/* The source's poll range in effect: sub-second polling only for sources with a LAN-like
 * delay; the others poll at 1 s at least, also above a maxpoll below 0 (chronyd 4.3,
 * measured). */
static void poll_range(const struct source *s, int *minp, int *maxp)
{
    *minp = s->sp.minpoll_log2;
    *maxp = s->sp.maxpoll_log2;
    if (*minp < 0 && !(s->st.n > 0 && s->st.min_delay_s <= 0.01)) {
        *minp = 0;
        if (*maxp < 0)
            *maxp = 0;
    }
}

/* Moves one poll score by delta; whole units change the poll, clamped to the source's
 * range. */
static void adjust_one(const struct source *s, int *poll, double *score, double delta)
{
    *score += delta;
    int minp, maxp;
    poll_range(s, &minp, &maxp);
    while (*score >= 1.0) {
        *score -= 1.0;
        (*poll)++;
    }
    while (*score < 0.0) {
        *score += 1.0;
        (*poll)--;
    }
    if (*poll < minp) {
        *poll = minp;
        *score = 0.0;
    }
    if (*poll > maxp) {
        *poll = maxp;
        *score = 0.99;
    }
}

/* The poll a source's budget role gives on top of chrony's rule (chr_poll): a saver polls at
 * maxpoll, the spender BUDGET_SHIFT steps below chrony's rule, within [minpoll, maxpoll]. */
static int role_poll(const struct source *s)
{
    int minp, maxp;
    poll_range(s, &minp, &maxp);
    if (s->budget_role == BUDGET_SAVER)
        return s->chr_poll > maxp ? s->chr_poll : maxp;
    if (s->budget_role == BUDGET_SPENDER)
        return s->chr_poll - BUDGET_SHIFT > minp ? s->chr_poll - BUDGET_SHIFT : minp;
    return s->chr_poll;
}

/* Two poll rules run side by side on the same samples: tempus's own (d_own) and chrony
 * 4.3's (d_chr); POLL_RULE picks the interval. chrony's rule by default: the bar allows
 * chrony's packet count, and over 41 seeds spending all of it measured better on WAN paths
 * than tempus's rule sending 15-20 % fewer (wan4 266 -> 234 us, failover 442 -> 336). A
 * budget role (saver, spender) then moves the poll off chrony's rule. */
static void adjust_poll2(struct source *s, double d_own, double d_chr)
{
    adjust_one(s, &s->own_poll, &s->own_score, d_own);
    adjust_one(s, &s->chr_poll, &s->chr_score, d_chr);
    if (POLL_RULE == 2)
        s->poll = s->chr_poll;
    else if (POLL_RULE == 1)
        s->poll = s->own_poll > s->chr_poll ? s->own_poll : s->chr_poll;
    else
        s->poll = s->own_poll;
    s->poll_score =
        POLL_RULE == 0 || (POLL_RULE == 1 && s->poll == s->own_poll) ? s->own_score : s->chr_score;
    if (POLL_RULE == 2 && s->budget_role != BUDGET_NORMAL)
        s->poll = role_poll(s);
}

/* A miss, a failed test or a KoD: the virtual schedule moves too, by delta scaled to the
 * real interval (a miss at maxpoll stands for as many of chronyd's polls as fit in it). */
static void adjust_poll(struct source *s, double delta)
{
    if (s->v_started && delta > 0.0)
        adjust_one(s, &s->v_poll, &s->v_score, delta * ldexp(1.0, s->poll - s->v_poll));
    adjust_poll2(s, delta, delta);
}

/* Runs every source's virtual chrony-rule schedule up to engine time t: from the end of
 * its first burst, requests at 2^v_poll x BUDGET_IV, each moving v_score as a good sample
 * would with n growing by one (the fastest climb chrony's rule allows); a saver's and the
 * spender's virtual requests are credited. Offline sources and peers have none. */
static void budget_advance(struct engine *e, double t)
{
    for (int i = 0; i < e->nsrc; i++) {
        struct source *s = e->src[i];
        if (!s->online || s->sp.kind == ENGINE_SOURCE_PEER || s->total_tx == 0 ||
            s->initial_burst) {
            s->v_started = 0;
            continue;
        }
        if (!s->v_started) {
            s->v_started = 1;
            s->v_poll = s->chr_poll;
            s->v_score = s->chr_score;
            s->v_n = s->st.n_chr > 0 ? s->st.n_chr : 0;
            s->v_next_s = tsec(e, s->tx_mono_ns) + ldexp(BUDGET_IV, s->v_poll);
        }
        while (s->v_next_s <= t) {
            if (s->budget_role != BUDGET_NORMAL)
                e->credit += 1.0;
            if (s->v_n < 64)
                s->v_n++;
            double n = s->v_n, pt = s->sp.polltarget;
            adjust_one(s, &s->v_poll, &s->v_score, (n / pt - 1.0) / pt * (n < pt ? 2.0 : 1.0));
            s->v_next_s += ldexp(BUDGET_IV, s->v_poll);
        }
    }
}

/* Gives s a budget role (only with its virtual schedule running). A saver that stops being
 * one takes the virtual poll when it is further up (chronyd would be there by now, or
 * lower). */
static void budget_set_role(struct source *s, int role)
{
    if (role == s->budget_role)
        return;
    if (role != BUDGET_NORMAL && !s->v_started)
        role = BUDGET_NORMAL;
    if (s->budget_role == BUDGET_SAVER &&
        (s->v_poll > s->chr_poll || (s->v_poll == s->chr_poll && s->v_score > s->chr_score))) {
        s->chr_poll = s->v_poll;
        s->chr_score = s->v_score;
    }
    s->budget_role = role;
    if (POLL_RULE == 2)
        s->poll = role_poll(s);
}

/* The roles after a selection at engine time t: the reachable source with the largest weight
 * spends while the credit lasts (failover: the dead preferred source stays selected for a
 * while, its last poll unanswered); a reachable source not selected with a combining weight
 * below BUDGET_W saves. Peers, `burst` sources, sources in a burst or after a KoD RATE keep
 * chrony's rule. */
static void budget_update(struct engine *e, double t)
{
    budget_advance(e, t);
    int spender = -1, nreach = 0;
    for (int i = 0; i < e->nsrc; i++)
        nreach += e->src[i]->online && e->src[i]->reach != 0 && !eff_noselect(e->src[i]);
    int climbed =
        e->selected >= 0 && e->src[e->selected]->chr_poll > e->src[e->selected]->sp.minpoll_log2;
    for (int i = 0; i < e->nsrc; i++) {
        const struct source *s = e->src[i];
        if ((s->reach & SPEND_REACH) == SPEND_REACH && s->weight > 0.0 &&
            (spender < 0 || s->weight > e->src[spender]->weight))
            spender = i;
    }
    for (int i = 0; i < e->nsrc; i++) {
        struct source *s = e->src[i];
        int role = BUDGET_NORMAL;
        if (BUDGET && POLL_RULE == 2 && !e->p.no_request_budget && e->selected >= 0 &&
            nreach >= BUDGET_NSRC && s->online && s->sp.kind != ENGINE_SOURCE_PEER &&
            !s->sp.burst && s->burst_total == 0 && !s->kod_rate) {
            if (i == spender)
                role = e->credit >= BUDGET_MIN ? BUDGET_SPENDER : BUDGET_NORMAL;
            else if (i != e->selected && s->reach != 0 && s->weight < BUDGET_W &&
                     s->st.n >= SAVER_MIN_N && (climbed || !SAVE_AFTER_CLIMB))
                role = BUDGET_SAVER;
        }
        budget_set_role(s, role);
    }
}

static void transmit(struct engine *e, struct source *s, int64_t now_mono_ns,
                     const struct engine_io *io)
{
    if (s->awaiting) {
        /* The previous request got no valid reply. */
        s->reach = (s->reach << 1) & 0xffu;
        /* A poll that sent nothing (missing key) does not back off: chronyd 4.3 keeps such
         * a source at its first poll (measured: minpoll 0 maxpoll 4 stays 0). */
        if (!s->unsent)
            adjust_poll(s, e->selected >= 0 && e->src[e->selected] == s ? 0.1 : 0.25);
        if (s->reach == 0 && s->sel_state != SELECT_STALE)
            select_and_update(e, tsec(e, now_mono_ns), NULL); /* it just became unreachable */
    }
    sfilter_poll(&s->flt); /* a poll counts towards `filter` whether or not it is answered */
    const struct keys_key *key = NULL;
    if (s->sp.key_id != 0) {
        key = keys_find(e->keys, s->sp.key_id);
        if (!key) {
            /* chronyd sends nothing with a missing key; the poll counts as unanswered. */
            s->awaiting = 1;
            s->unsent = 1;
            return;
        }
    }
    s->unsent = 0;
    struct ntp_packet p;
    memset(&p, 0, sizeof(p));
    p.leap = 0;
    /* xleave keeps version 4 with a long digest (chronyd: only version 4 interleaves) */
    p.version = (uint8_t)(s->sp.version ? s->sp.version
                          : key && hash_len(key->alg) > KEYS_V4_DIGEST_MAX && !s->sp.xleave ? 3
                                                                                            : 4);
    p.mode = s->sp.kind == ENGINE_SOURCE_PEER ? NTP_MODE_ACTIVE : NTP_MODE_CLIENT;
    p.poll = (int8_t)s->poll;
    p.precision = 32;
    int peer = s->sp.kind == ENGINE_SOURCE_PEER;
    if (peer) {
        engine_peer_fill(e, s, now_mono_ns, io, &p);
    } else {
        uint64_t r;
        do
            r = prng_next_u64(&e->prng);
        while (r == 0);
        s->cookie = ntp_time_ts_from_u64(r);
    }
    p.transmit = s->cookie;
    xleave_prepare(&s->xl, s->sp.xleave && !peer, &e->prng, &p);
    uint8_t buf[NTP_HEADER_LEN + 4 + KEYS_DIGEST_MAX];
    size_t len = ntp_build(&p, buf, sizeof(buf));
    if (key)
        len = keys_sign(key, p.version, buf, len, sizeof(buf));
    /* T1 of our own measurement: as late as possible (the transmit field above had to be
     * read before the packet was built) */
    if (!peer)
        discipline_advance(&e->d, tsec(e, now_mono_ns));
    s->tx_real_ns = read_real(e);
    s->tx_mono_ns = now_mono_ns;
    s->tx_corr_s = e->d.corr_s;
    s->tx_steps_s = e->d.steps_s;
    s->tx_kernel = 0;
    s->awaiting = 1;
    s->total_tx++;
    if (io && io->send)
        io->send(io->ctx, s->id, buf, len);
}

static void schedule_next(struct engine *e, struct source *s, int64_t now_mono_ns)
{
    double iv = poll_interval_s(s);
    if (s->burst_total > 0) {
        double b = iv / 4.0 < BURST_INTERVAL_S ? iv / 4.0 : BURST_INTERVAL_S;
        if (b < 0.1)
            b = 0.1;
        iv = b;
    } else {
        s->iv_factor = 1.0 + POLL_RANDOMNESS * prng_uniform(&e->prng);
        iv *= s->iv_factor;
    }
    s->next_tx_mono = now_mono_ns + (int64_t)(iv * 1e9);
}

/* After a reply the next request is due one interval of the (possibly changed) poll after
 * the last request, as chronyd schedules it: a shorter poll takes effect now rather than
 * after the interval chosen at the transmission (at poll 10, 17 minutes of ignoring it), and
 * a longer one too (before, the request already scheduled at the old poll went out first:
 * one request more than chronyd at each poll step, 16 instead of 15 at minpoll 6 in wan4).
 * The interval keeps its random lengthening (iv_factor). Not during a burst. */
static void reschedule(struct source *s, int64_t now_mono_ns)
{
    if (s->burst_total > 0)
        return;
    int64_t due = s->tx_mono_ns + (int64_t)(poll_interval_s(s) * s->iv_factor * 1e9);
    s->next_tx_mono = due > now_mono_ns ? due : now_mono_ns;
}

/* A good reply counts towards the running burst; at its last one the regular polls resume
 * one (randomly lengthened) interval after this request. */
static void end_burst_if_done(struct engine *e, struct source *s)
{
    if (s->burst_total > 0 && --s->burst_good <= 0) {
        s->burst_total = 0;
        s->initial_burst = 0;
        s->iv_factor = 1.0 + POLL_RANDOMNESS * prng_uniform(&e->prng);
        s->next_tx_mono = s->tx_mono_ns + (int64_t)(poll_interval_s(s) * s->iv_factor * 1e9);
    }
}

static void run_source_timer(struct engine *e, struct source *s, int64_t now_mono_ns,
                             const struct engine_io *io)
{
    if (!s->online || now_mono_ns < s->next_tx_mono)
        return;
    if (s->budget_role == BUDGET_SPENDER && s->burst_total == 0 && e->credit < 1.0) {
        /* the credit ran out: chrony's rule's interval from the last request */
        budget_set_role(s, BUDGET_NORMAL);
        int64_t due = s->tx_mono_ns + (int64_t)(poll_interval_s(s) * s->iv_factor * 1e9);
        if (due > now_mono_ns) {
            s->next_tx_mono = due;
            return;
        }
    }
    if (s->burst_total == 0 && s->budget_role != BUDGET_NORMAL)
        e->credit -= 1.0;
    if (s->burst_total > 0) {
        s->burst_total--;
        if (s->burst_total == 0)
            s->initial_burst = 0;
    } else if (s->sp.burst && s->poll > s->sp.minpoll_log2) {
        int n = 1 << (s->poll - s->sp.minpoll_log2 > 2 ? 2 : s->poll - s->sp.minpoll_log2);
        start_burst(s, 1, n - 1);
    }
    transmit(e, s, now_mono_ns, io);
    schedule_next(e, s, now_mono_ns);
}

void engine_run_timers(struct engine *e, int64_t now_mono_ns, const struct engine_io *io)
{
    e->now_s = tsec(e, now_mono_ns);
    discipline_advance(&e->d, e->now_s);
    budget_advance(e, e->now_s);
    for (int i = 0; i < e->nsrc; i++)
        run_source_timer(e, e->src[i], now_mono_ns, io);
}

int64_t engine_next_timeout_mono_ns(const struct engine *e)
{
    int64_t t = INT64_MAX;
    for (int i = 0; i < e->nsrc; i++)
        if (e->src[i]->online && e->src[i]->next_tx_mono < t)
            t = e->src[i]->next_tx_mono;
    double ev = discipline_next_event(&e->d);
    if (ev < 1e299) {
        int64_t m = mono_of(e, ev);
        if (m < t)
            t = m;
    }
    return t;
}

/* ---- Selection and clock update ---- */

static int source_is_startup_ready(const struct engine *e)
{
    if (e->holding)
        return 1;
    if (e->now_s >= STARTUP_HOLD_S)
        return 1;
    for (int i = 0; i < e->nsrc; i++) {
        const struct source *s = e->src[i];
        if (s->initial_burst && s->online && s->st.n < 2 && !eff_noselect(s))
            return 0;
    }
    return 1;
}

static void build_candidate(const struct engine *e, struct source *s, double t,
                            struct select_cand *c)
{
    memset(c, 0, sizeof(*c));
    double var;
    double y = srcstats_predict(&s->st, t, WANDER_PPM, &var);
    c->offset_s = y + e->d.corr_s;
    /* The prediction of a source without recent samples loses weight in the combination
     * at least at the wander of a common crystal, even when the chooser's q (which the fit
     * used) is 0: a source that stopped answering is then handed over smoothly to the others
     * (failover 307 -> 299 us, 41 seeds; nothing else moves). */
    if (s->st.n > 0) {
        double age = t - srcstats_last(&s->st)->t_s;
        if (age > 0.0)
            var += AGE_Q * age * age * age / 3.0;
    }
    c->var_s2 = var;
    c->distance_s = srcstats_distance(&s->st, t, e->p.maxclockerror_ppm);
    c->interval_s = srcstats_distance(&s->st, t, SEL_CLOCK_ERR * e->p.maxclockerror_ppm);
    c->freq = srcstats_freq(&s->st, t);
    c->skew = s->st.skew;
    c->stratum = s->stratum < s->sp.minstratum ? s->sp.minstratum : s->stratum;
    c->leap = s->leap;
    c->prefer = s->sp.prefer;
    /* A preferred source that missed its last polls (reach's low bits 0) no longer keeps
     * the others out: with prefer they are 'P', so nothing updates the clock until its reach
     * is 0 (8 polls: 2.3 h at poll 10; chronyd keeps it selected as long). Unpreferred, it
     * stays best while its distance is smallest, and the others are combined with it,
     * weighted by their variances, as its prediction ages (failover 336 -> 307 us). */
    if (s->st.n > 0 && (s->reach & PREFER_LAPSE_MASK) == 0)
        c->prefer = 0;
    c->trust = s->sp.trust || (s->auth_opts & ENGINE_SELECT_TRUST);
    c->require = s->sp.require || (s->auth_opts & ENGINE_SELECT_REQUIRE);
    c->untrusted_penalty = s->untrusted_penalty;
    if (eff_noselect(s))
        c->state = SELECT_NOSELECT;
    else if (s->st.n == 0)
        c->state = SELECT_MISSING;
    else if (s->leap == 3 || s->stratum >= 16)
        c->state = SELECT_UNSYNC;
    else if (s->reach == 0)
        c->state = SELECT_STALE;
    else if (s->st.n < 2 && e->synced == 0 && s->sp.maxsamples != 1)
        c->state = SELECT_MISSING;
    else if (c->distance_s > e->p.maxdistance_s)
        c->state = SELECT_DISTANCE;
    else if (s->st.sd_s > e->p.maxjitter_s && s->st.n >= 3)
        c->state = SELECT_JITTERY;
    else if (e->p.local_orphan && e->p.local_stratum > 0 && c->stratum >= e->p.local_stratum)
        c->state = SELECT_ORPHAN;
    else
        c->state = SELECT_CANDIDATE;
}

/* chrony's orphan mode: when no source below the local stratum is selectable, the reachable
 * orphan at exactly the local stratum with the smallest reference ID becomes a candidate if
 * that ID is below ours towards it, so among orphan servers polling each other the one with
 * the smallest ID serves its local reference and the others follow it. */
static void orphan_fallback(const struct engine *e, struct select_cand *c)
{
    if (!e->p.local_orphan || e->p.local_stratum <= 0)
        return;
    int best = -1;
    for (int i = 0; i < e->nsrc; i++) {
        if (c[i].state == SELECT_CANDIDATE)
            return;
        if (c[i].state == SELECT_ORPHAN && c[i].stratum == e->p.local_stratum &&
            e->src[i]->reach != 0 &&
            (best < 0 || e->src[i]->remote_refid < e->src[best]->remote_refid))
            best = i;
    }
    if (best >= 0 && e->src[best]->local_refid != 0 &&
        e->src[best]->remote_refid < e->src[best]->local_refid)
        c[best].state = SELECT_CANDIDATE;
}

static void set_unsynced(struct engine *e)
{
    if (e->synced && e->clock && e->clock->set_sync_status)
        e->clock->set_sync_status(e->clock->ctx, 0, 16.0, 16.0);
    e->synced = 0;
    e->selected = -1;
}

/* Runs selection at engine time t; updates the clock when trigger (the source that just
 * gave a sample) is the selected or a combined source. */
static int near_leap(const struct engine *e, int64_t real_ns);

static void select_and_update_inner(struct engine *e, double t, struct source *trigger);

static void select_and_update(struct engine *e, double t, struct source *trigger)
{
    select_and_update_inner(e, t, trigger);
    budget_update(e, t);
}

static void select_and_update_inner(struct engine *e, double t, struct source *trigger)
{
    struct select_cand c[ENGINE_MAX_SOURCES];
    struct select_params sp = {
        .minsources = e->p.minsources,
        .reselectdist_s = e->p.reselectdist_s,
        .stratumweight_s = e->p.stratumweight_s,
        .combinelimit = e->p.combinelimit,
        .clock_error = e->p.maxclockerror_ppm * 1e-6,
        .sys_frac = SYS_FRAC,
        .consist_k = CONSIST_K,
    };
    struct select_result res;

    discipline_advance(&e->d, t);
    for (int i = 0; i < e->nsrc; i++) {
        build_candidate(e, e->src[i], t, &c[i]);
        c[i].score = e->src[i]->sel_score;
        c[i].updated = e->src[i] == trigger;
    }
    orphan_fallback(e, c);
    select_run(c, e->nsrc, &sp, e->selected, &res);
    for (int i = 0; i < e->nsrc; i++) {
        e->src[i]->sel_state = c[i].state;
        /* chronyd's penalty is 1 until the reachability register filled (8 polls) */
        e->src[i]->untrusted_penalty = c[i].state != SELECT_UNTRUSTED ? c[i].untrusted_penalty
                                       : e->src[i]->total_tx >= 8     ? SELECT_UNTRUSTED_PENALTY
                                                                      : 1;
        e->src[i]->lo_s = c[i].lo_s;
        e->src[i]->hi_s = c[i].hi_s;
        e->src[i]->weight = c[i].weight;
        e->src[i]->sel_score = c[i].score;
    }
    if (res.best < 0) {
        if (e->selected >= 0)
            log_info("engine: no source selected: %s", res.why);
        set_unsynced(e);
        return;
    }
    if (!source_is_startup_ready(e)) {
        for (int i = 0; i < e->nsrc; i++)
            if (e->src[i]->sel_state == SELECT_BEST || e->src[i]->sel_state == SELECT_COMBINED ||
                e->src[i]->sel_state == SELECT_DISTANT)
                e->src[i]->sel_state = SELECT_WAITS;
        return;
    }
    e->holding = 1;
    int ti = -1;
    for (int i = 0; i < e->nsrc; i++)
        if (e->src[i] == trigger)
            ti = i;
    e->selected = res.best;
    if (ti < 0 || c[ti].weight <= 0.0)
        return; /* the new sample does not take part: nothing new to correct with */

    struct source *best = e->src[res.best];
    double x = res.offset_s;

    /* maxchange: ignore implausibly large offsets after the start-up updates. */
    if (e->p.maxchange_offset_s > 0.0 && (int)e->n_updates >= e->p.maxchange_delay &&
        fabs(x) > e->p.maxchange_offset_s) {
        if (e->p.maxchange_ignore < 0 || e->maxchange_ignored < e->p.maxchange_ignore) {
            e->maxchange_ignored++;
            log_warn("engine: adjustment of %.3f seconds exceeds maxchange, ignored", -x);
            return;
        }
    }

    /* Frequency: the combined regression's, when its skew is credible; blended with the
     * drift file's value while that is the better of the two. */
    double freq = e->freq, skew = e->skew;
    if (res.skew * 1e6 <= e->p.maxupdateskew_ppm) {
        double vn = res.freq_var;
        if (FREQ_PRIOR_PPM > 0.0 && e->src[res.best]->st.n >= FREQ_MIN_N) {
            discipline_freq_prior(res.freq, vn, e->prior_freq, FREQ_PRIOR_PPM * 1e-6,
                                  FREQ_PRIOR_WIDE_PPM * 1e-6, FREQ_PRIOR_WIDE_P, &res.freq, &vn);
            res.skew = 2.0 * sqrt(vn);
        }
        if (e->n_updates == 0 && e->p.have_initial_freq) {
            double vp = pow(fmax(e->p.initial_skew_ppm, 0.01) * 1e-6, 2);
            freq = (res.freq / vn + discipline_freq_for_base(&e->d, e->d.base_ppm) / vp) /
                   (1.0 / vn + 1.0 / vp);
            skew = 2.0 * sqrt(1.0 / (1.0 / vn + 1.0 / vp));
        } else if (res.skew > 3.0 * e->skew && e->n_updates > 0) {
            /* A much worse estimate than the one in use (e.g. a source change): blend. The
             * one in use has aged by the oscillator's wander since it was made; without
             * that a skew that once came out tiny (a 3-sample register after a level shift:
             * 0.003 ppm) made every later estimate "much worse" and froze the frequency. */
#if FREQ_AGE
            double vo = e->skew * e->skew / 4.0 + AGE_Q * fmax(t - e->last_update_t, 0.0);
#else
            double vo = e->skew * e->skew / 4.0;
#endif
            freq = (res.freq / vn + e->freq / vo) / (1.0 / vn + 1.0 / vo);
            skew = 2.0 * sqrt(1.0 / (1.0 / vn + 1.0 / vo));
        } else {
            freq = res.freq;
            skew = res.skew;
        }
    }
    e->freq = freq;
    e->skew = skew;

    int step = 0;
    if (e->makestep_pending) {
        step = 1;
        e->makestep_pending = 0;
    } else if (e->p.makestep_threshold_s > 0.0 && fabs(x) > e->p.makestep_threshold_s &&
               (e->p.makestep_limit < 0 || (int)e->n_updates < e->p.makestep_limit)) {
        step = 1;
    }
    if (step) {
        log_debug("engine: stepping the clock by %+.6f seconds", -x);
        discipline_step(&e->d, t, x);
        /* Held filter samples are measured against the clock before the step. */
        for (int i = 0; i < e->nsrc; i++)
            sfilter_clear(&e->src[i]->flt);
        e->d.base_ppm = discipline_base_for_freq(&e->d, freq);
        discipline_correct(&e->d, t, 0.0, 1.0, e->d.base_ppm);
    } else {
        /* Slew duration: a correction much larger than its uncertainty is made quickly,
         * one comparable to the noise is spread over the interval between updates. */
        double sd = sqrt(res.var_s2);
        double iv = e->n_updates > 0 ? t - e->last_update_t : 1.0;
        if (iv < 1.0)
            iv = 1.0;
        double dur = fabs(x) > 0.0 ? e->p.corrtimeratio * 0.5 * sd * iv / fabs(x) : 1.0;
        if (dur < DUR_MIN_IV * iv)
            dur = DUR_MIN_IV * iv;
        if (dur < DUR_MIN_S)
            dur = DUR_MIN_S;
        if (dur > DUR_MAX_IV * iv)
            dur = DUR_MAX_IV * iv;
        discipline_correct(&e->d, t, x, dur, discipline_base_for_freq(&e->d, freq));
    }

    e->prev_update_t = e->last_update_t;
    e->last_update_t = t;
    e->ref_time_real_ns = read_real(e);
    e->last_offset_s = x;
    e->rms_offset2 = e->n_updates == 0 ? x * x : 0.9 * e->rms_offset2 + 0.1 * x * x;
    e->n_updates++;
    e->est_offset_s = x;
    e->est_var = res.var_s2;
    const struct srcstats_sample *ls = srcstats_last(&best->st);
    e->root_delay_s = ls ? ls->root_delay_s : 0.0;
    e->root_disp_s = (ls ? ls->root_disp_s : 0.0) + fabs(x) + sqrt(res.var_s2);
    e->ref_id = best->remote_refid;
    e->ref_addr = best->remote;
    e->stratum = best->stratum + 1;
    e->synced = 1;

    /* Leap seconds: armed on the last day of June or December, voted by the survivors; when
     * they announce none, the leapsectz table's (chronyd's rule). On other days the status
     * is normal, which tracking and served packets show. */
    int64_t real = e->ref_time_real_ns;
    struct ntp_time_civil cv;
    ntp_time_civil_from_ns(real, &cv);
    int last_day = (cv.month == 6 && cv.day == 30) || (cv.month == 12 && cv.day == 31);
    int leap = res.leap, tai_s = 0;
    int tz_leap = e->leap_table
                      ? tzif_leap_on_day(e->leap_table, real / 1000000000LL - (real < 0), &tai_s)
                      : 0;
    if (leap == 0)
        leap = tz_leap;
    if (!last_day)
        leap = 0;
    /* The kernel's TAI offset from the table, when it changes (chronyd, leapsecmode system);
     * not within LEAP_GUARD_S of an armed leap, where the kernel moves it itself. */
    if (tai_s != 0 && tai_s != e->tai_set_s && !near_leap(e, real) && e->clock &&
        e->clock->set_tai_s) {
        e->tai_set_s = tai_s;
        e->clock->set_tai_s(e->clock->ctx, tai_s);
    }
    e->leap = leap;
    discipline_set_leap(&e->d, leap);
    if (leap)
        e->leap_midnight_real_ns =
            ntp_time_ns_from_civil(cv.year, cv.month, cv.day, 0, 0, 0) + 86400LL * 1000000000LL;
    if (e->clock && e->clock->set_sync_status) {
        double est = sqrt(res.var_s2) + fabs(x);
        e->clock->set_sync_status(e->clock->ctx, 1, est, e->root_delay_s / 2 + e->root_disp_s);
    }
}

/* ---- Receiving ---- */

/* 1 when real_ns is within LEAP_GUARD_S of the midnight a leap second was armed for. */
static int near_leap(const struct engine *e, int64_t real_ns)
{
    if (e->leap_midnight_real_ns == 0)
        return 0;
    int64_t d = real_ns - e->leap_midnight_real_ns;
    return d > -(int64_t)(LEAP_GUARD_S * 1e9) && d < (int64_t)(LEAP_GUARD_S * 1e9);
}

static void receive_packet(struct engine *e, struct source *s, const uint8_t *pkt, size_t len,
                           int64_t rx_real_ns, int64_t now_mono_ns);

void engine_receive(struct engine *e, int source_id, const uint8_t *pkt, size_t len,
                    int64_t rx_real_ns, int64_t now_mono_ns, const struct engine_io *io)
{
    (void)io;
    int idx = find_index(e, source_id);
    if (idx < 0)
        return;
    struct source *s = e->src[idx];
    int64_t before = s->peer_rx_mono_ns;
    receive_packet(e, s, pkt, len, rx_real_ns, now_mono_ns);
    if (s->peer_rx_mono_ns != before)
        engine_peer_phase(s, now_mono_ns);
}

/* One datagram of source s: packet tests, the sample, selection and the clock update. */
static void receive_packet(struct engine *e, struct source *s, const uint8_t *pkt, size_t len,
                           int64_t rx_real_ns, int64_t now_mono_ns)
{
    double t_now = tsec(e, now_mono_ns);
    e->now_s = t_now;
    discipline_advance(&e->d, t_now);
    s->total_rx++;

    struct ntp_packet p;
    struct ntp_layout lay;
    if (ntp_parse(pkt, len, &p, &lay) != NTP_OK)
        return;
    int want_peer = s->sp.kind == ENGINE_SOURCE_PEER;
    if (want_peer ? (p.mode != NTP_MODE_ACTIVE && p.mode != NTP_MODE_PASSIVE)
                  : p.mode != NTP_MODE_SERVER)
        return;

    int t1 = !(s->have_pkt && ntp_time_equal(p.transmit, s->last_rx_xmt)) &&
             !(want_peer && s->have_peer_xmt && ntp_time_equal(p.transmit, s->peer_xmt));
    int interleaved;
    int t2 = xleave_test2(&s->xl, s->awaiting, s->cookie, &p, &interleaved);
    int sym_il = want_peer && !t2 && engine_peer_interleaved(s, &p);
    if (sym_il)
        t2 = interleaved = 1;
    int t3 = !ntp_time_is_zero(p.origin) && !ntp_time_is_zero(p.receive) &&
             !ntp_time_is_zero(p.transmit);
    /* Test 5: with a key, the reply must carry a good MAC of that key (chrony:
     * NAU_CheckResponseAuth); without one, anything goes. */
    int t5 = 1, authenticated = 0;
    if (s->sp.key_id != 0) {
        const struct keys_key *key = keys_find(e->keys, s->sp.key_id);
        t5 = authenticated =
            key && lay.mac_len > 0 &&
            keys_check(key, p.version, pkt, lay.mac_off, pkt + lay.mac_off, lay.mac_len);
    }
    /* A peer's new packet, valid or not (the first ones carry no origin), is what our next
     * one answers (chronyd 4.3 does the same: observed on loopback). */
    if (want_peer && t1 && t5 && !ntp_time_is_zero(p.transmit))
        engine_peer_note(e, s, &p, rx_real_ns, now_mono_ns);
    /* KoD: believed only when it answers our outstanding request. */
    if (ntp_is_kod(&p) && t1 && t2 && t5) {
        s->awaiting = 0;
        if (p.leap == NTP_LEAP_UNSYNC && p.refid == NTP_KISS_RATE) {
            log_warn("engine: received KoD RATE from %s", s->name);
            s->kod_rate++;
            s->burst_total = 0;
            s->initial_burst = 0;
            adjust_poll(s, 1.0);
            s->next_tx_mono += (int64_t)(4.0 * poll_interval_s(s) * 1e9);
        }
        s->reach = (s->reach << 1) & 0xffu;
        return;
    }
    int valid = t1 && t2 && t3 && t5;
    int stratum = ntp_stratum_effective(&p);
    int t6 = p.leap != NTP_LEAP_UNSYNC && stratum >= 1 && stratum < 16;
    double root_delay = ntp_root_delay_s(&p), root_disp = ntp_root_dispersion_s(&p);
    int t7 = root_delay / 2.0 + root_disp < MAX_ROOT_DISTANCE_S;

    uint16_t flags =
        (uint16_t)((t1 ? REPORT_TEST_1 : 0) | (t2 ? REPORT_TEST_2 : 0) | (t3 ? REPORT_TEST_3 : 0) |
                   (t5 ? REPORT_TEST_5 : 0) | (t6 ? REPORT_TEST_6 : 0) | (t7 ? REPORT_TEST_7 : 0) |
                   (authenticated ? REPORT_FLAG_AUTHENTICATED : 0) |
                   (interleaved ? REPORT_FLAG_INTERLEAVED : 0));
    if (!valid) {
        s->test_flags = flags;
        return;
    }
    s->awaiting = 0;
    s->total_valid++;
    s->pkt = p;
    s->have_pkt = 1;
    s->pkt_valid = 1;
    s->last_rx_xmt = p.transmit;

    /* On-wire calculation in integer nanoseconds. A step made while the request was out
     * moved the local clock by step_s between T1 and T4: T1 is put on the clock's new
     * timeline (and the correction at transmit with it), so a reply in flight across a
     * start-up step is used, as chronyd uses it, instead of costing a request more per
     * source (step100: 4 burst requests per server, as chronyd, instead of 5). */
    struct xleave_exchange cur = {
        .t1_real_ns = s->tx_real_ns,
        .t1_mono_ns = s->tx_mono_ns,
        .t1_corr_s = s->tx_corr_s,
        .t1_steps_s = s->tx_steps_s,
        .t1_kernel = s->tx_kernel,
        .t4_real_ns = rx_real_ns,
        .t4_mono_ns = now_mono_ns,
        .t4_corr_s = e->d.corr_s,
        .t4_steps_s = e->d.steps_s,
    };
    struct xleave_exchange x;
    int64_t T2, T3;
    int xl_ok = 1;
    if (sym_il) {
        engine_peer_exchange(s, &cur, &p, rx_real_ns, &x, &T2, &T3);
    } else {
        xl_ok = xleave_exchange_of(&s->xl, &cur, &p, interleaved, &x, &T2, &T3);
    }
    s->last_tx_kernel = x.t1_kernel;
    double step_s = x.t4_steps_s - x.t1_steps_s;
    int64_t T1 = x.t1_real_ns + (int64_t)llround(step_s * 1e9), T4 = x.t4_real_ns;
    double local_iv = (double)(T4 - T1) * 1e-9;
    double remote_iv = (double)(T3 - T2) * 1e-9;
    double theta = ((double)(T2 - T1) + (double)(T3 - T4)) * 0.5e-9 + s->sp.offset_s;
    double prec = ldexp(1.0, p.precision) + 1e-9;
    double delay = fabs(local_iv - remote_iv);
    if (delay < prec)
        delay = prec;
    double disp = prec + s->st.skew * fabs(local_iv);
    s->offset_theta_s = theta;
    s->delay_s = delay;
    s->disp_s = disp;
    s->resp_s = remote_iv;

    if (t6 && t7) {
        s->reach = ((s->reach << 1) | 1u) & 0xffu;
    } else {
        s->reach = (s->reach << 1) & 0xffu;
    }
    s->stratum = stratum;
    s->leap = p.leap;

    double t_mid = tsec(e, x.t1_mono_ns + (x.t4_mono_ns - x.t1_mono_ns) / 2);
    double meas = -theta; /* local clock offset, positive = ahead */
    double corr_mid = 0.5 * (x.t1_corr_s + step_s + x.t4_corr_s);
    double y = meas - corr_mid;

    /* Tests A-D. */
    int tA = delay - disp <= s->sp.maxdelay_s && prec <= s->sp.maxdelay_s &&
             (remote_iv <= MAX_RESPONSE_TIME_S || want_peer) &&
             ((remote_iv >= 0.0 && local_iv >= 0.0) || sym_il) && xl_ok;
    int tB = 1, tC = 1, tD = 1;
    double age = s->st.n > 0 ? t_mid - srcstats_last(&s->st)->t_s : 0.0;
    double growth = age * (s->st.skew + e->p.maxclockerror_ppm * 1e-6);
    if (s->st.n >= 6 && s->sp.maxdelayratio >= 1.0 &&
        delay > s->sp.maxdelayratio * s->st.min_delay_s + growth)
        tB = 0;
    double pred_var;
    double pred = srcstats_predict(&s->st, t_mid, WANDER_PPM, &pred_var);
#if CHR_SHADOW && !CHR_SHADOW_NERR
    /* before the sample joins the register (a dead store when the shadow is off) */
    double pred_chr = srcstats_chr_predict(&s->st, t_mid);
#endif
    if (s->st.n >= 6 && s->sp.maxdelaydevratio > 0.0) {
        double inc = (delay - s->st.min_delay_s) / 2.0;
        if (inc > s->sp.maxdelaydevratio * s->st.sd_s + growth && fabs(y - pred) <= inc)
            tC = 0;
    }
    /* Test D (sync loop): a server above stratum 1 whose reference ID is our address
     * towards it is synchronised to us (chrony's test D). Passes while our address is
     * unknown. */
    if (stratum > 1 && s->local_refid != 0 && p.refid == s->local_refid)
        tD = 0;
    flags |= (uint16_t)((tA ? REPORT_TEST_A : 0) | (tB ? REPORT_TEST_B : 0) |
                        (tC ? REPORT_TEST_C : 0) | (tD ? REPORT_TEST_D : 0));
    s->test_flags = flags;

    int good = t6 && t7 && tA && tB && tC && tD;
    if (good && near_leap(e, rx_real_ns))
        good = 0;
    if (!good) {
        adjust_poll(s, tD ? 0.02 : 0.1);
        reschedule(s, now_mono_ns);
        return;
    }
    s->total_good++;

    /* The register before this sample, for the poll adaptation below. */
    int n_before = s->st.n;
    double neff_before = s->st.n_eff, mind_before = s->st.min_delay_s, sd_before = s->st.sd_s;

    struct srcstats_sample smp = {
        .t_s = t_mid,
        .y_s = y,
        .meas_s = meas,
        .delay_s = delay,
        .disp_s = disp,
        .root_delay_s = root_delay + delay,
        .root_disp_s = root_disp + disp,
        .stratum = stratum,
        .leap = p.leap,
    };
    /* `filter N`: of N polls' good samples the one with the smallest peer distance goes on,
     * at its own time (the rest of this function reads it, not the newest reply). */
    if (s->sp.filter > 0) {
        struct srcstats_sample in = smp;
        if (!sfilter_add(&s->flt, &in, &smp)) {
            reschedule(s, now_mono_ns);
            end_burst_if_done(e, s);
            return;
        }
        t_mid = smp.t_s;
        y = smp.y_s;
        meas = smp.meas_s;
        corr_mid = meas - y;
        delay = smp.delay_s;
        disp = smp.disp_s;
        pred = srcstats_predict(&s->st, t_mid, WANDER_PPM, &pred_var);
#if CHR_SHADOW && !CHR_SHADOW_NERR
        pred_chr = srcstats_chr_predict(&s->st, t_mid);
#endif
    }
    /* The oscillator's wander rate (and drift model): the candidate that has predicted new
     * samples best, over all sources (srcstats_chooser_update). */
    double z2[SRCSTATS_N_Q];
    if (srcstats_cv(&s->st, &smp, z2) == 0) {
        int kb = srcstats_chooser_update(&e->q_choice, z2);
        for (int i = 0; i < e->nsrc; i++)
            srcstats_set_model(&e->src[i]->st, kb);
    }
    srcstats_add(&s->st, &smp);

    /* Poll adaptation. chrony's rule: a sample further from the model's prediction than
     * the peer distance shortens the poll by log2(error/distance); otherwise the score moves
     * by (n/polltarget - 1)/polltarget (doubled below polltarget), n = samples in the
     * register after the runs test. tempus's rule also bounds the error by SIGMA_POLL
     * sigmas of the model's own prediction and counts n = NEFF_POLL x the effective sample
     * count given the wander (a short-term-stable clock keeps long polls, a wandering one
     * gets short polls). */
    double pt = s->sp.polltarget;
    double err = fabs(y - pred), pdist = delay / 2.0 + disp, d_own, d_chr;
#if CHR_SHADOW && !CHR_SHADOW_NERR
    double err_chr = fabs(y - pred_chr);
#else
    double err_chr = err;
#endif
    if (n_before >= 3 && err_chr > pdist) {
        d_chr = -log2(err_chr / pdist);
    } else {
        double n = CHR_SHADOW ? s->st.n_chr : (s->st.n < 64 ? s->st.n : 64);
        d_chr = (n / pt - 1.0) / pt * (n < pt ? 2.0 : 1.0);
    }
    {
        double ex = delay - mind_before;
        double sig = sqrt(pred_var + ex * ex / 12.0 + pow(0.1 * sd_before, 2));
        if (n_before >= 4 && SIGMA_POLL * sig < pdist)
            pdist = SIGMA_POLL * sig;
    }
    if (n_before >= 3 && err > pdist) {
        d_own = -log2(err / pdist);
    } else {
        double n = n_before >= 3 ? NEFF_POLL * neff_before + 1 : n_before + 1;
        d_own = (n / pt - 1.0) / pt * (n < pt ? 2.0 : 1.0);
    }
    adjust_poll2(s, d_own, d_chr);

    reschedule(s, now_mono_ns);

    s->have_sample = 1;
    s->last_sample_t = t_mid;
    s->last_meas_s = meas;
    s->last_meas_corr_s = corr_mid;
    s->last_err_s = smp.root_delay_s / 2.0 + smp.root_disp_s;

    end_burst_if_done(e, s);
    select_and_update(e, t_now, s);
}

int engine_tx_timestamp(struct engine *e, int source_id, const uint8_t *cookie, int64_t tx_real_ns)
{
    int idx = find_index(e, source_id);
    if (idx < 0)
        return -ENOENT;
    struct source *s = e->src[idx];
    /* After the reply only in interleaved client mode: the reply measured the exchange
     * before, and the next interleaved reply measures this one (chronyd 4 also takes a late
     * stamp there); a basic reply's sample is never rewritten. */
    int late = !s->awaiting && s->sp.xleave && s->sp.kind != ENGINE_SOURCE_PEER;
    if ((!s->awaiting && !late) || s->tx_kernel)
        return -ESTALE;
    if (cookie && !ntp_time_equal(ntp_get_ts(cookie), s->cookie))
        return -ESTALE;
    /* s->tx_real_ns is still the clock read before the send (tx_kernel is 0) */
    if (tx_real_ns < s->tx_real_ns - ENGINE_TX_TS_EARLY_NS ||
        tx_real_ns > s->tx_real_ns + ENGINE_TX_TS_LATE_NS)
        return -ERANGE;
    if (late && !xleave_late_tx(&s->xl, s->tx_real_ns, tx_real_ns))
        return -ESTALE;
    s->tx_real_ns = tx_real_ns;
    s->tx_kernel = 1;
    s->total_kernel_tx++;
    return 0;
}

/* ---- For the engine's other files (engine_int.h) ---- */

void engine_select_now(struct engine *e, double t)
{
    select_and_update(e, t, NULL);
}

void engine_poll_adjust(struct source *s, double delta)
{
    adjust_poll(s, delta);
}
