/* Scenario servers' clocks and references: see refserver.h. */
#include "sim/refserver.h"

#include <math.h>
#include <string.h>

#include "wire/ntp.h"

#define NS_PER_S 1000000000LL

int64_t simref_clock_ns(const struct simclock *truth, int64_t t_ns, double offset_s,
                        double freq_ppm, int64_t t_set_ns)
{
    double off = offset_s + freq_ppm * 1e-6 * (double)(t_ns - t_set_ns) / NS_PER_S;
    return simclock_true_real_ns(truth, t_ns) + (int64_t)llround(off * NS_PER_S);
}

void simref_engine(struct engine *eng, int64_t mono_ns, struct server_ref *ref)
{
    struct report_reference rr;
    memset(ref, 0, sizeof(*ref));
    engine_reference(eng, mono_ns, &rr);
    ref->synced = rr.synced && rr.stratum >= 1 && rr.stratum < NTP_STRATUM_UNSYNC;
    ref->leap = (uint8_t)(rr.leap & 3);
    ref->stratum = (uint8_t)(ref->synced ? rr.stratum : 0);
    ref->refid = rr.ref_id;
    ref->ref_time_ns = rr.ref_time_real_ns;
    ref->root_delay = ntp_time_short_from_s(rr.root_delay_s);
    ref->root_disp_ns = (int64_t)llround(rr.root_dispersion_s * NS_PER_S);
    ref->freq_ppm = rr.freq_ppm;
}

void simref_fixed(const struct simscn_server *sv, int k, const struct simclock *truth, int64_t t_ns,
                  int64_t clk_ns, struct server_ref *ref)
{
    memset(ref, 0, sizeof(*ref));
    ref->synced = 1;
    if (truth->true_leap_dir && t_ns < truth->true_leap_ns)
        ref->leap = truth->true_leap_dir > 0 ? NTP_LEAP_INSERT : NTP_LEAP_DELETE;
    ref->stratum = (uint8_t)sv->stratum;
    ref->refid = sv->stratum == 1 ? ntp_refid_from_text("GPS") : 0x0a000000u + (uint32_t)k;
    ref->ref_time_ns = clk_ns - clk_ns % (16 * NS_PER_S);
    ref->root_delay = ntp_time_short_from_s(sv->stratum == 1 ? 0 : 1e-3);
    ref->root_disp_ns = 10000;
    ref->disp_rate_ppb = 1000; /* chrony's maxclockerror default, 1 ppm */
}
