/* Key file loading and checks: see keyfile.h. */
#include "daemon/keyfile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "os/files.h"

static void warn_line(void *ctx, const char *msg)
{
    (void)ctx;
    log_warn("%s", msg);
}

struct keys *keyfile_load(const char *path)
{
    char *buf = malloc(KEYFILE_MAX_BYTES + 1);
    struct keys *k;
    int n;
    if (!buf)
        return NULL;
    n = files_read(path, buf, KEYFILE_MAX_BYTES + 1);
    if (n < 0) {
        log_error("Could not open keyfile %s : %s", path, strerror(-n));
        n = 0;
    } else if (n >= KEYFILE_MAX_BYTES) {
        log_error("Keyfile %s is larger than %d bytes: not used", path, KEYFILE_MAX_BYTES);
        n = 0;
    }
    k = keys_parse(buf, (size_t)n, path, warn_line, NULL);
    free(buf);
    if (k)
        log_info("Loaded %zu symmetric keys from %s", keys_count(k), path);
    return k;
}

void keyfile_check_sources(const struct conf *c, const struct keys *keys)
{
    for (size_t i = 0; i < c->n_sources; i++) {
        const struct conf_source *s = &c->sources[i];
        const struct keys_key *key;
        if (s->key_id == 0)
            continue;
        key = keys_find(keys, s->key_id);
        if (!key)
            log_warn("Key %" PRIu32 " is missing", s->key_id);
        else if (key->len * 8 < KEYS_SHORT_BITS)
            log_warn("Key %" PRIu32 " is too short", s->key_id);
    }
}
