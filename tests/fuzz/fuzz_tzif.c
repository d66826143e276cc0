/* Fuzz target: core/tzif's parser (leapsectz) on any bytes, then the day lookup over the
 * table it gives. Checks: no crash or sanitizer report; an accepted table is ordered, holds
 * at most TZIF_MAX_LEAPS midnights on day boundaries with corrections one apart, and the
 * lookup answers 0, 1 or 2 for any day. */
#include <stdint.h>

#include "core/tzif.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tzif_leaps l;
    enum tzif_status st = tzif_parse(data, size, &l);
    FUZZ_CHECK(tzif_status_str(st) != NULL);
    if (st != TZIF_OK)
        return 0;
    FUZZ_CHECK(l.n >= 0 && l.n <= TZIF_MAX_LEAPS);
    for (int k = 0; k < l.n; k++) {
        FUZZ_CHECK(l.midnight_s[k] % 86400 == 0);
        int prev = k > 0 ? l.corr[k - 1] : l.base_corr;
        FUZZ_CHECK(l.corr[k] - prev == 1 || l.corr[k] - prev == -1);
        if (k > 0)
            FUZZ_CHECK(l.midnight_s[k] > l.midnight_s[k - 1]);
        int tai;
        int leap = tzif_leap_on_day(&l, l.midnight_s[k] - 1, &tai);
        FUZZ_CHECK(leap == (l.corr[k] > prev ? 1 : 2));
        FUZZ_CHECK(tai == 10 + prev);
        FUZZ_CHECK(tzif_leap_on_day(&l, l.midnight_s[k], &tai) >= 0);
        FUZZ_CHECK(tai == 10 + l.corr[k]);
    }
    (void)tzif_check_2012(&l);
    int tai;
    FUZZ_CHECK(tzif_leap_on_day(&l, INT64_MIN / 2, &tai) >= 0);
    FUZZ_CHECK(tzif_leap_on_day(&l, INT64_MAX / 2, &tai) >= 0);
    return 0;
}
