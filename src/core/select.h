/* Source selection: rejects falsetickers by intersecting the sources' confidence intervals,
 * applies trust/prefer/require/minsources, picks the best source (with hysteresis) and
 * combines the survivors into one estimate of the local clock's offset and frequency.
 * Works on candidates (offsets, distances, variances), not packets. */
#ifndef TEMPUS_CORE_SELECT_H
#define TEMPUS_CORE_SELECT_H

/* Why a candidate is where it is: selectdata's state characters. */
enum select_state {
    SELECT_NOSELECT = 'N',
    SELECT_UNSYNC = 's',
    SELECT_MISSING = 'M',
    SELECT_DISTANCE = 'd',
    SELECT_JITTERY = '~',
    SELECT_WAITS = 'w',
    SELECT_STALE = 'S',
    SELECT_ORPHAN = 'O',
    SELECT_UNTRUSTED = 'T',
    SELECT_FALSETICKER = 'x',
    SELECT_WAITS_REQUIRE = 'W',
    SELECT_NOT_PREFERRED = 'P',
    SELECT_WAITS_UPDATE = 'U',
    SELECT_DISTANT = 'D',
    SELECT_COMBINED = '+',
    SELECT_BEST = '*',
    SELECT_CANDIDATE = '?', /* input: passed the caller's checks */
};

struct select_cand {
    /* Input. Set state to SELECT_CANDIDATE, or to the reason the caller excluded it. */
    int state;
    double offset_s;   /* local clock offset now, positive = ahead */
    double var_s2;     /* variance of offset_s (statistical) */
    double distance_s; /* root distance: ranks the sources, limits combining */
    double interval_s; /* half-width of the correctness interval (0: distance_s) */
    double freq;       /* raw frequency estimate, s/s */
    double skew;       /* its bound, s/s */
    int stratum;
    int leap; /* 0..3 */
    int prefer, trust, require;
    /* In and out, kept by the caller between runs (0 at first): selections left during which
     * this source, not trusted, is not combined (SELECT_DISTANT) because its interval was
     * outside the trusted sources' (SELECT_UNTRUSTED) recently. Set to
     * SELECT_UNTRUSTED_PENALTY by the caller when the run marked it untrusted. */
    int untrusted_penalty;
    /* In and out, kept by the caller between runs (0 at first, read as 1): chronyd's
     * reselection score against the selected source, selectdata's Score. Each run in which
     * this source or the selected one has a new sample (updated, input) multiplies it by the
     * selected source's rank distance over this one's plus reselectdist, floored at 1; a
     * source whose score exceeds SELECT_SCORE_LIMIT replaces the selected one, and every
     * score is then 1 again. The selected source's own stays 1. */
    double score;
    int updated;
    /* Output. */
    double lo_s, hi_s; /* correctness interval */
    double weight;     /* share in the combination (0 when not combined) */
};

/* chronyd 4.3 -x, observed: with a trusted source (trust, or authselectmode mix), a source
 * without trust whose interval is not inside the trusted interval is T, and one that was T
 * stays D (not combined) for about 3 s at 12 selections a second afterwards (in chronyd's
 * distant-source penalty, 32 selections, or 1 before its reachability register filled). */
#define SELECT_UNTRUSTED_PENALTY 32

/* chronyc's selectdata documentation: "If the score reaches 10, the best source will be
 * reselected and the scores will be reset to 1." */
#define SELECT_SCORE_LIMIT 10.0

struct select_params {
    int minsources;
    double reselectdist_s;
    double stratumweight_s;
    double combinelimit;
    double clock_error; /* maxclockerror, s/s */
    double sys_frac;    /* per-source systematic error allowance, fraction of distance */
    /* > 0: a survivor whose offset is more than this many standard deviations (statistical
     * plus systematic allowance) from fewer than half of the other survivors, while a
     * majority remains, is a falseticker too. 0: off. */
    double consist_k;
};

struct select_result {
    int best; /* index of the selected candidate, -1 when none */
    int n_survivors;
    int n_combined;
    double offset_s; /* combined local offset now, positive = ahead */
    double var_s2;
    double freq;     /* combined raw frequency, s/s */
    double freq_var; /* its variance */
    double skew;     /* combined skew bound, s/s */
    int leap;        /* leap voted by more than half of the survivors, else 0 */
    const char *why; /* when best < 0: why nothing was selected, in words */
};

/* Runs selection over c[0..n-1] (states and scores updated in place). current_best is the
 * index selected last time (-1 if none): it stays selected while it survives and no other
 * survivor's score exceeds SELECT_SCORE_LIMIT; without one, the survivor of smallest rank
 * distance (root distance + stratum weight) is selected. */
void select_run(struct select_cand *c, int n, const struct select_params *p, int current_best,
                struct select_result *res);

/* Words for a state, for reports ("not agreeing with the majority (falseticker)", ...). */
const char *select_state_text(int state);

#endif
