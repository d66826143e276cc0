/* Fuzz target: the configuration parser (daemon/conf) through a fake file system, with what
 * tempusd does next: the -p printout, the engine mapping of every source, sourcedirs.
 *
 * Input: the text of up to FUZZ_N_FILES files separated by lines "@@@": /etc/tempus.conf
 * (parsed), /f/1.conf, /f/2.conf and /f/3.sources (reachable with include, confdir /f and
 * sourcedir /f). "localhost" resolves to 127.0.0.1, other names fail.
 * Checks: a failed parse names a line and a message; conf_free releases everything
 * (LeakSanitizer); printing and the engine mapping never crash. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/log.h"
#include "core/engine.h"
#include "daemon/conf.h"
#include "daemon/conf_engine.h"
#include "daemon/conf_print.h"
#include "fuzz_common.h"

#include "../unit/daemon/conf_fakefs.h"

#define FUZZ_N_FILES 4

static const char *const fuzz_paths[FUZZ_N_FILES] = {"/etc/tempus.conf", "/f/1.conf", "/f/2.conf",
                                                     "/f/3.sources"};

static void quiet(void *ctx, enum log_level level, const char *msg)
{
    (void)ctx;
    (void)level;
    (void)msg;
}

static FILE *sink(void)
{
    static FILE *f;
    if (f == NULL)
        f = fopen("/dev/null", "w");
    FUZZ_CHECK(f != NULL);
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_sink(quiet, NULL);
    /* The input, cut at "@@@\n" lines, is the text of the files in order; the rest do not
     * exist. Include loops must be cut off by the parser: a read past the 10000th fails the
     * input. */
    struct conf_fakefile files[FUZZ_N_FILES + 1];
    size_t lens[FUZZ_N_FILES + 1];
    memset(files, 0, sizeof files);
    memset(lens, 0, sizeof lens);
    const char *p = (const char *)data, *end = p + size;
    for (int i = 0; i < FUZZ_N_FILES; i++) {
        files[i].path = fuzz_paths[i];
        if (p == NULL)
            continue;
        const char *sep = NULL;
        if (i < FUZZ_N_FILES - 1)
            for (const char *q = p; q + 4 <= end; q++)
                if (memcmp(q, "@@@\n", 4) == 0 && (q == p || q[-1] == '\n')) {
                    sep = q;
                    break;
                }
        files[i].text = p;
        lens[i] = (size_t)((sep ? sep : end) - p);
        p = sep ? sep + 4 : NULL;
    }
    struct conf_fakefs fs = {.files = files, .lens = lens, .max_reads = 10000};
    struct conf_env env = {&fs, conf_fakefs_read, conf_fakefs_glob, conf_fakefs_resolve};

    struct conf c;
    struct conf_error err;
    memset(&err, 0, sizeof err);
    conf_init(&c);
    int rc = conf_parse_text(&c, &env, fuzz_paths[0], files[0].text, lens[0], &err);
    FUZZ_CHECK(fs.reads < fs.max_reads);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL);
    FUZZ_CHECK(memchr(err.file, '\0', sizeof err.file) != NULL);
    if (rc < 0) {
        FUZZ_CHECK(err.msg[0] != '\0');
        conf_print_error(&err, sink());
    }
    (void)conf_print_lines(&c, sink());
    if (rc == 0) {
        struct engine_params ep;
        conf_engine_params(&c, &ep);
        for (size_t i = 0; i < c.n_sources; i++) {
            struct engine_source_params sp;
            conf_engine_source_params(&c, &c.sources[i], &sp);
        }
        struct conf_source *extra = NULL;
        size_t n_extra = 0;
        if (conf_load_sourcedirs(&c, &env, &extra, &n_extra) == 0) {
            for (size_t i = 0; i < n_extra; i++) {
                FUZZ_CHECK(extra[i].name != NULL);
                conf_source_free(&extra[i]);
            }
            free(extra);
        }
    }
    conf_free(&c);
    return 0;
}
