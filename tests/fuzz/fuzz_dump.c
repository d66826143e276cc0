/* Fuzz target: dump files (daemon/dump.h) as -r reads them. dump_parse() must refuse or
 * accept any bytes without a crash; an accepted file must format back to text that parses
 * to the same data, and its samples go through engine_source_import() into a fresh engine
 * on a fake clock (refused or loaded, the engine's reports stay callable and finite). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/addr.h"
#include "core/clock_ops.h"
#include "core/engine.h"
#include "core/report.h"
#include "daemon/dump.h"
#include "fuzz_common.h"

static int64_t now_real_ns;

static int64_t f_read(void *ctx)
{
    (void)ctx;
    return now_real_ns;
}

static int f_freq(void *ctx, double ppm)
{
    (void)ctx;
    FUZZ_CHECK(!isnan(ppm));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dump_data d, back;
    static char text[DUMP_MAX_SAMPLES * 256 + 512];
    int line = -1;
    enum dump_status st = dump_parse((const char *)data, size, &d, &line);
    FUZZ_CHECK(dump_status_str(st) != NULL);
    if (st != DUMP_OK) {
        FUZZ_CHECK(st != DUMP_E_SYNTAX || line > 0);
        return 0;
    }
    FUZZ_CHECK(d.n >= 1 && d.n <= DUMP_MAX_SAMPLES);
    int n = dump_format(&d, text, sizeof text);
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(dump_parse(text, (size_t)n, &back, NULL) == DUMP_OK);
    FUZZ_CHECK(back.n == d.n && back.saved_real_ns == d.saved_real_ns);
    FUZZ_CHECK(!strcmp(back.source, d.source));
    FUZZ_CHECK(!memcmp(back.s, d.s, sizeof d.s[0] * (size_t)d.n));
    (void)dump_check(&d, "127.0.0.1", d.saved_real_ns);

    /* Load into an engine whose clock reads just after the newest sample. */
    now_real_ns = d.s[d.n - 1].real_ns < INT64_MAX - 1000000000LL
                      ? d.s[d.n - 1].real_ns + 1000000000LL
                      : INT64_MAX;
    struct clock_ops ops = {.read_real_ns = f_read, .set_freq_ppm = f_freq, .max_freq_ppm = 500};
    struct engine *e = engine_new(NULL, &ops, 1, 0);
    FUZZ_CHECK(e != NULL);
    struct engine_source_params sp;
    engine_source_params_default(&sp);
    struct addr a;
    FUZZ_CHECK(addr_parse("127.0.0.1", &a) == 0);
    int id = engine_add_source(e, &sp, &a, "127.0.0.1", 0);
    FUZZ_CHECK(id >= 0);
    int kept = (int)(size & 1);
    int r = engine_source_import(e, id, kept, d.s, d.n, 0);
    struct report_source rs;
    FUZZ_CHECK(engine_source_report(e, 0, 1000000000, &rs) == 0);
    if (r > 0) {
        FUZZ_CHECK((int)rs.n_samples == r);
        struct engine_saved_sample out[DUMP_MAX_SAMPLES];
        FUZZ_CHECK(engine_source_export(e, id, kept, 0, out, DUMP_MAX_SAMPLES) == r);
    } else {
        FUZZ_CHECK(rs.n_samples == 0);
    }
    struct report_tracking tr;
    engine_tracking(e, 1000000000, &tr);
    engine_free(e);
    return 0;
}
