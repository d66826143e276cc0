#include "core/select.h"

#include <math.h>
#include <stdlib.h>

/* 1: of two disjoint regions covered by the same largest number of intervals, the one nearest
 * to the current best source's offset wins (before: the lowest). Such ties come from a wide
 * interval (few samples, large skew, e.g. a fresh source 64 s after its iburst) that overlaps
 * both a group of liars and the honest group: the lowest region followed the liars in
 * falseticker_2of5 (11 of 41 seeds, 0.1-1.1 s) and timeshift (the fast server selected for a
 * median 583 s of 6 h; now 0, RMS 212 -> 170 us over 41 seeds). */
#ifndef SELECT_TIE_NEAREST
#define SELECT_TIE_NEAREST 1
#endif

const char *select_state_text(int state)
{
    switch (state) {
    case SELECT_NOSELECT:
        return "has the noselect option";
    case SELECT_UNSYNC:
        return "source is not synchronised (leap 3 or bad stratum)";
    case SELECT_MISSING:
        return "too few samples yet";
    case SELECT_DISTANCE:
        return "root distance larger than maxdistance";
    case SELECT_JITTERY:
        return "jitter larger than maxjitter";
    case SELECT_WAITS:
        return "waiting for more sources (minsources)";
    case SELECT_STALE:
        return "no recent samples (stale or unreachable)";
    case SELECT_ORPHAN:
        return "orphan: its stratum is at or above the local orphan stratum";
    case SELECT_UNTRUSTED:
        return "disagrees with the trusted sources";
    case SELECT_FALSETICKER:
        return "falseticker: its interval or offset does not agree with the majority";
    case SELECT_WAITS_REQUIRE:
        return "waiting for a source with the require option";
    case SELECT_NOT_PREFERRED:
        return "not preferred (a prefer source is selectable)";
    case SELECT_WAITS_UPDATE:
        return "waiting for a new measurement";
    case SELECT_DISTANT:
        return "too distant (or frequency too different) to be combined";
    case SELECT_COMBINED:
        return "combined with the selected source";
    case SELECT_BEST:
        return "";
    case SELECT_CANDIDATE:
        return "candidate";
    default:
        return "unknown";
    }
}

struct endpoint {
    double v;
    int d; /* +1 opens, -1 closes */
};

static int cmp_ep(const void *a, const void *b)
{
    const struct endpoint *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return y->d - x->d; /* opens before closes: touching intervals intersect */
}

/* Finds the region covered by most intervals among those with mask set; returns the depth.
 * Of several disjoint regions with that depth (a wide interval overlapping two groups that
 * disagree), the one nearest to pref's offset (the current best source; -1 = none) is taken,
 * else the lowest. */
static int intersect(const struct select_cand *c, int n, const int *mask, int pref, double *lo,
                     double *hi)
{
    struct endpoint ep[2 * 64];
    int m = 0;
    for (int i = 0; i < n && m < 2 * 64 - 1; i++) {
        if (!mask[i])
            continue;
        ep[m].v = c[i].lo_s;
        ep[m++].d = 1;
        ep[m].v = c[i].hi_s;
        ep[m++].d = -1;
    }
    qsort(ep, (size_t)m, sizeof(ep[0]), cmp_ep);
    int depth = 0, best = 0;
    double dist = HUGE_VAL;
    for (int k = 0; k < m; k++) {
        depth += ep[k].d;
        if (ep[k].d <= 0 || depth < best)
            continue;
        /* the region ends at the next endpoint */
        double rlo = ep[k].v, rhi = k + 1 < m ? ep[k + 1].v : ep[k].v;
        double d = HUGE_VAL;
        if (SELECT_TIE_NEAREST && pref >= 0 && mask[pref]) {
            double x = c[pref].offset_s;
            d = x < rlo ? rlo - x : x > rhi ? x - rhi : 0.0;
        }
        if (depth > best || d < dist) {
            best = depth;
            *lo = rlo;
            *hi = rhi;
            dist = d;
        }
    }
    return best;
}

static int overlaps(const struct select_cand *c, double lo, double hi)
{
    return c->lo_s <= hi && c->hi_s >= lo;
}

/* chronyd's "does not fully agree with sources that have the trust option": a source without
 * trust must lie inside the trusted interval, not only touch it (chronyd 4.3 -x, observed on
 * loopback: every T had an end outside the trusted source's interval, every D or + none). */
static int inside(const struct select_cand *c, double lo, double hi)
{
    return c->lo_s >= lo && c->hi_s <= hi;
}

static double sel_var(const struct select_cand *c, const struct select_params *p)
{
    double sys = p->sys_frac * c->distance_s;
    return c->var_s2 + sys * sys;
}

/* Statistical agreement among the survivors of the intervals: intervals are bounds (root
 * distance), far wider than the offsets' scatter on a good path, so a source drifting away
 * from the others (timeshift: 0.28 ppm) stays inside them for a long time while its offset
 * already disagrees with every other source by tens of standard deviations. Such a source
 * (agreeing within consist_k sigmas with fewer than half of the others) is marked a
 * falseticker, but only while the ones that remain are a strict majority of at least 2. */
static void reject_inconsistent(struct select_cand *c, int n, const struct select_params *p)
{
    int idx[64], m = 0;
    for (int i = 0; i < n; i++)
        if (c[i].state == SELECT_CANDIDATE)
            idx[m++] = i;
    if (m < 3)
        return;
    int out[64], nout = 0;
    for (int a = 0; a < m; a++) {
        const struct select_cand *x = &c[idx[a]];
        int agree = 0;
        for (int b = 0; b < m; b++) {
            if (b == a)
                continue;
            const struct select_cand *y = &c[idx[b]];
            double d = x->offset_s - y->offset_s;
            if (d * d <= p->consist_k * p->consist_k * (sel_var(x, p) + sel_var(y, p)))
                agree++;
        }
        out[a] = 2 * agree < m - 1;
        nout += out[a];
    }
    if (nout == 0 || 2 * (m - nout) <= m || m - nout < 2)
        return;
    for (int a = 0; a < m; a++)
        if (out[a])
            c[idx[a]].state = SELECT_FALSETICKER;
}

/* The distance that ranks survivors: root distance plus the stratum weight per stratum
 * above the lowest survivor's. */
static double rank(const struct select_cand *c, int minstr, const struct select_params *p)
{
    return c->distance_s + (c->stratum - minstr) * p->stratumweight_s;
}

void select_run(struct select_cand *c, int n, const struct select_params *p, int current_best,
                struct select_result *res)
{
    int mask[64];
    int ncand = 0, ntrust = 0;

    res->best = -1;
    res->n_survivors = 0;
    res->n_combined = 0;
    res->offset_s = 0.0;
    res->var_s2 = 0.0;
    res->freq = 0.0;
    res->freq_var = 0.0;
    res->skew = 0.0;
    res->leap = 0;
    res->why = "no selectable sources";
    if (n > 64)
        n = 64;

    for (int i = 0; i < n; i++) {
        double h = c[i].interval_s > 0.0 ? c[i].interval_s : c[i].distance_s;
        c[i].lo_s = c[i].offset_s - h;
        c[i].hi_s = c[i].offset_s + h;
        c[i].weight = 0.0;
        mask[i] = c[i].state == SELECT_CANDIDATE;
        ncand += mask[i];
        ntrust += mask[i] && c[i].trust;
    }
    if (ncand == 0)
        return;

    double lo = 0, hi = 0;
    if (ntrust > 0) {
        /* Trusted sources decide the interval among themselves; the others must agree. */
        int tmask[64];
        for (int i = 0; i < n; i++)
            tmask[i] = mask[i] && c[i].trust;
        int depth = intersect(c, n, tmask, current_best < n ? current_best : -1, &lo, &hi);
        if (2 * depth <= ntrust) {
            for (int i = 0; i < n; i++)
                if (mask[i])
                    c[i].state = SELECT_FALSETICKER;
            res->why = "no majority among the trusted sources";
            return;
        }
        for (int i = 0; i < n; i++)
            if (mask[i] && (c[i].trust ? !overlaps(&c[i], lo, hi) : !inside(&c[i], lo, hi)))
                c[i].state = c[i].trust ? SELECT_FALSETICKER : SELECT_UNTRUSTED;
    } else {
        int depth = intersect(c, n, mask, current_best < n ? current_best : -1, &lo, &hi);
        if (2 * depth <= ncand) {
            for (int i = 0; i < n; i++)
                if (mask[i])
                    c[i].state = SELECT_FALSETICKER;
            res->why = "no majority: sources do not agree";
            return;
        }
        for (int i = 0; i < n; i++)
            if (mask[i] && !overlaps(&c[i], lo, hi))
                c[i].state = SELECT_FALSETICKER;
    }

    if (p->consist_k > 0.0)
        reject_inconsistent(c, n, p);

    int nsurv = 0, have_prefer = 0, have_require = 0, require_ok = 0;
    for (int i = 0; i < n; i++) {
        if (c[i].require)
            have_require = 1;
        if (c[i].state != SELECT_CANDIDATE)
            continue;
        nsurv++;
        have_prefer |= c[i].prefer;
        require_ok |= c[i].require;
    }
    res->n_survivors = nsurv;

    /* Leap: more than half of the survivors must announce the same. */
    int votes[3] = {0, 0, 0};
    for (int i = 0; i < n; i++)
        if (c[i].state == SELECT_CANDIDATE && c[i].leap >= 0 && c[i].leap <= 2)
            votes[c[i].leap]++;
    if (2 * votes[1] > nsurv)
        res->leap = 1;
    else if (2 * votes[2] > nsurv)
        res->leap = 2;

    if (nsurv < p->minsources || (have_require && !require_ok)) {
        int st = nsurv < p->minsources ? SELECT_WAITS : SELECT_WAITS_REQUIRE;
        for (int i = 0; i < n; i++)
            if (c[i].state == SELECT_CANDIDATE)
                c[i].state = st;
        res->why = st == SELECT_WAITS ? "fewer selectable sources than minsources"
                                      : "no source with the require option is selectable";
        return;
    }
    if (have_prefer)
        for (int i = 0; i < n; i++)
            if (c[i].state == SELECT_CANDIDATE && !c[i].prefer)
                c[i].state = SELECT_NOT_PREFERRED;

    int minstr = 1 << 30;
    for (int i = 0; i < n; i++)
        if (c[i].state == SELECT_CANDIDATE && c[i].stratum < minstr)
            minstr = c[i].stratum;
    int best = -1;
    double best_rank = 0.0;
    for (int i = 0; i < n; i++) {
        if (c[i].state != SELECT_CANDIDATE)
            continue;
        double r = rank(&c[i], minstr, p);
        if (best < 0 || r < best_rank) {
            best = i;
            best_rank = r;
        }
    }
    /* Hysteresis (chronyd's reselection score, selectdata's Score): the selected source
     * stays until another has been better by more than reselectdist long enough for the
     * product of its distance ratios to exceed the limit. */
    if (current_best >= 0 && current_best < n && c[current_best].state == SELECT_CANDIDATE) {
        double sel_rank = rank(&c[current_best], minstr, p);
        int top = -1;
        for (int i = 0; i < n; i++) {
            if (c[i].score < 1.0)
                c[i].score = 1.0;
            if (c[i].state != SELECT_CANDIDATE)
                continue;
            double d = rank(&c[i], minstr, p) + p->reselectdist_s;
            if ((c[i].updated || c[current_best].updated) && d > 0.0)
                c[i].score = fmax(1.0, c[i].score * sel_rank / d);
            if (i != current_best && (top < 0 || c[i].score > c[top].score))
                top = i;
        }
        best = top >= 0 && c[top].score > SELECT_SCORE_LIMIT ? top : current_best;
    }
    if (best != current_best)
        for (int i = 0; i < n; i++)
            c[i].score = 1.0;

    /* Combine: survivors close enough in distance and frequency, weighted by inverse
     * variance with a systematic allowance proportional to each one's distance (a path's
     * asymmetry is not visible in its scatter). */
    double lim = p->combinelimit * (c[best].distance_s + p->reselectdist_s);
    double sw = 0.0, so = 0.0, sfw = 0.0, sf = 0.0, sv = 0.0;
    for (int i = 0; i < n; i++) {
        if (c[i].state != SELECT_CANDIDATE)
            continue;
        int comb = i == best;
        if (!comb && p->combinelimit > 0.0 && c[i].distance_s <= lim &&
            fabs(c[i].freq - c[best].freq) <=
                p->combinelimit * (c[i].skew + c[best].skew + p->clock_error) &&
            (!c[best].prefer || c[i].prefer))
            comb = 1;
        /* recently untrusted: not combined until its penalty is served (selected ones are
         * exempt, as chronyd's distant penalty) */
        if (comb && i != best && c[i].untrusted_penalty > 0 && --c[i].untrusted_penalty > 0)
            comb = 0;
        if (!comb) {
            c[i].state = SELECT_DISTANT;
            continue;
        }
        double sys = p->sys_frac * c[i].distance_s;
        double w = 1.0 / (c[i].var_s2 + sys * sys + 1e-24);
        c[i].weight = w;
        c[i].state = i == best ? SELECT_BEST : SELECT_COMBINED;
        sw += w;
        so += w * c[i].offset_s;
        double fv = c[i].skew * c[i].skew / 4.0 + 1e-30;
        sfw += 1.0 / fv;
        sf += c[i].freq / fv;
        res->n_combined++;
    }
    for (int i = 0; i < n; i++) {
        if (c[i].weight > 0.0) {
            c[i].weight /= sw;
            double sys = p->sys_frac * c[i].distance_s;
            sv += c[i].weight * c[i].weight * (c[i].var_s2 + sys * sys);
        }
    }
    res->best = best;
    res->offset_s = so / sw;
    res->var_s2 = sv;
    res->freq = sf / sfw;
    res->freq_var = 1.0 / sfw;
    res->skew = 2.0 * sqrt(res->freq_var);
    res->why = "";
}
