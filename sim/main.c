/* tempus-sim: runs a simulator scenario and prints CSV of the true clock error and a summary
 * line (see docs/design/simulator.md). */
#include "tempus_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/run.h"
#include "sim/scenario.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: tempus-sim SCENARIO [--seed N | --seeds N] [--csv] [--log] [--duration T]\n"
            "  --seed N\tRun with seed N (default 1)\n"
            "  --seeds N\tRun seeds 1..N, print each summary and the median\n"
            "  --csv\t\tPrint CSV rows (t_s,offset_s,freq_err_ppm,poll_log2,selected,"
            "steps,packets)\n"
            "  --log\t\tPrint the client's changes (selection, steps, leaps) to stderr\n"
            "  --duration T\tOverride the scenario's duration (e.g. 2h)\n"
            "  --warmup T\tOverride the scenario's warm-up (statistics start)\n"
            "  -v, --version\tPrint version and exit\n"
            "  -h, --help\tPrint usage and exit\n");
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len + 1 < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static int parse_count(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    unsigned long long seed = 1, nseeds = 0;
    int csv = 0, log = 0;
    const char *duration = NULL, *warmup = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
            printf("tempus-sim (tempus) version %s\n", TEMPUS_VERSION);
            return 0;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--csv")) {
            csv = 1;
        } else if (!strcmp(a, "--log")) {
            log = 1;
        } else if (!strcmp(a, "--seed") && i + 1 < argc) {
            if (parse_count(argv[++i], &seed) < 0) {
                fprintf(stderr, "tempus-sim: bad seed '%s'\n", argv[i]);
                return 1;
            }
        } else if (!strcmp(a, "--seeds") && i + 1 < argc) {
            if (parse_count(argv[++i], &nseeds) < 0 || nseeds < 1 || nseeds > 10000) {
                fprintf(stderr, "tempus-sim: bad seed count '%s'\n", argv[i]);
                return 1;
            }
        } else if (!strcmp(a, "--duration") && i + 1 < argc) {
            duration = argv[++i];
        } else if (!strcmp(a, "--warmup") && i + 1 < argc) {
            warmup = argv[++i];
        } else if (a[0] != '-' && !path) {
            path = a;
        } else {
            usage(stderr);
            return 1;
        }
    }
    if (!path) {
        usage(stderr);
        return 1;
    }
    if (csv && nseeds) {
        fprintf(stderr, "tempus-sim: --csv needs a single run (--seed), not --seeds\n");
        return 1;
    }
    char *text = read_file(path);
    if (!text) {
        fprintf(stderr, "tempus-sim: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    static struct simscn scn;
    char err[256];
    simscn_default(&scn);
    int rc = simscn_parse(&scn, text, err, sizeof(err));
    free(text);
    if (rc < 0) {
        fprintf(stderr, "tempus-sim: %s: %s\n", path, err);
        return 1;
    }
    double v;
    if (duration) {
        if (simscn_parse_duration_s(duration, &v) < 0 || v <= 0 || v > 1e7) {
            fprintf(stderr, "tempus-sim: bad duration '%s'\n", duration);
            return 1;
        }
        scn.duration_ns = (long long)(v * 1e9);
    }
    if (warmup) {
        if (simscn_parse_duration_s(warmup, &v) < 0 || v < 0 || v > 1e7) {
            fprintf(stderr, "tempus-sim: bad warm-up '%s'\n", warmup);
            return 1;
        }
        scn.warmup_ns = (long long)(v * 1e9);
    }
    if (scn.warmup_ns > scn.duration_ns)
        scn.warmup_ns = scn.duration_ns;

    char label[64];
    if (!nseeds) {
        struct simrun_result res;
        if (simrun_run_log(&scn, seed, csv ? stdout : NULL, log ? stderr : NULL, &res) < 0) {
            fprintf(stderr, "tempus-sim: out of memory\n");
            return 1;
        }
        snprintf(label, sizeof(label), "seed=%llu", seed);
        simrun_print_summary(stdout, label, &res);
        return 0;
    }
    struct simrun_result *res = calloc(nseeds, sizeof(*res));
    if (!res) {
        fprintf(stderr, "tempus-sim: out of memory\n");
        return 1;
    }
    for (unsigned long long s = 1; s <= nseeds; s++) {
        if (simrun_run(&scn, s, NULL, &res[s - 1]) < 0) {
            fprintf(stderr, "tempus-sim: out of memory\n");
            free(res);
            return 1;
        }
        snprintf(label, sizeof(label), "seed=%llu", s);
        simrun_print_summary(stdout, label, &res[s - 1]);
    }
    struct simrun_result med;
    simrun_median(res, (int)nseeds, &med);
    snprintf(label, sizeof(label), "median seeds=%llu", nseeds);
    simrun_print_summary(stdout, label, &med);
    free(res);
    return 0;
}
