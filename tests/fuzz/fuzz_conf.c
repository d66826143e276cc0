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

#define FUZZ_N_FILES 4

static const char *const fuzz_paths[FUZZ_N_FILES] = {"/etc/tempus.conf", "/f/1.conf", "/f/2.conf",
                                                     "/f/3.sources"};

struct fake_fs {
    const char *text[FUZZ_N_FILES];
    size_t len[FUZZ_N_FILES];
    unsigned reads;
};

static int fake_read(void *ctx, const char *path, char **data, size_t *len)
{
    struct fake_fs *fs = ctx;
    FUZZ_CHECK(++fs->reads < 10000); /* include loops must be cut off by the parser */
    for (int i = 0; i < FUZZ_N_FILES; i++) {
        if (fs->text[i] == NULL || strcmp(path, fuzz_paths[i]) != 0)
            continue;
        *data = malloc(fs->len[i] + 1);
        if (*data == NULL)
            return -ENOMEM;
        memcpy(*data, fs->text[i], fs->len[i]);
        (*data)[fs->len[i]] = '\0';
        *len = fs->len[i];
        return 0;
    }
    return -ENOENT;
}

/* glob(3) over the four files: "DIR/<star>SUFFIX" patterns, or a literal path. */
static int fake_glob(void *ctx, const char *pattern, char ***paths, size_t *n)
{
    struct fake_fs *fs = ctx;
    *n = 0;
    *paths = calloc(FUZZ_N_FILES + 1, sizeof **paths);
    if (*paths == NULL)
        return -1;
    const char *star = strchr(pattern, '*');
    if (star == NULL) {
        (*paths)[(*n)++] = strdup(pattern);
        return 0;
    }
    size_t dlen = (size_t)(star - pattern), sl = strlen(star + 1);
    int dir_exists = 0;
    for (int i = 0; i < FUZZ_N_FILES; i++) {
        const char *p = fuzz_paths[i];
        size_t pl = strlen(p);
        if (fs->text[i] == NULL || strncmp(p, pattern, dlen) != 0 || strchr(p + dlen, '/') != NULL)
            continue;
        dir_exists = 1;
        if (pl >= dlen + sl && strcmp(p + pl - sl, star + 1) == 0)
            (*paths)[(*n)++] = strdup(p);
    }
    if (!dir_exists) {
        free(*paths);
        *paths = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

static int fake_resolve(void *ctx, const char *name, struct addr *out)
{
    (void)ctx;
    if (strcmp(name, "localhost") == 0)
        return addr_parse("127.0.0.1", out);
    return -1;
}

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
    struct fake_fs fs;
    memset(&fs, 0, sizeof fs);
    const char *p = (const char *)data, *end = p + size;
    for (int i = 0; i < FUZZ_N_FILES; i++) {
        fs.text[i] = p;
        const char *sep = NULL;
        if (i < FUZZ_N_FILES - 1)
            for (const char *q = p; q + 4 <= end; q++)
                if (memcmp(q, "@@@\n", 4) == 0 && (q == p || q[-1] == '\n')) {
                    sep = q;
                    break;
                }
        fs.len[i] = (size_t)((sep ? sep : end) - p);
        if (sep == NULL)
            break;
        p = sep + 4;
    }
    struct conf_env env = {&fs, fake_read, fake_glob, fake_resolve};

    struct conf c;
    struct conf_error err;
    memset(&err, 0, sizeof err);
    conf_init(&c);
    int rc = conf_parse_text(&c, &env, fuzz_paths[0], fs.text[0], fs.len[0], &err);
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
