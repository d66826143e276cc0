/* The in-memory file system of the config tests: see conf_fakefs.h. */
#include "conf_fakefs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int conf_fakefs_read(void *ctx, const char *path, char **data, size_t *len)
{
    struct conf_fakefs *fs = ctx;
    if (fs->max_reads > 0 && fs->reads >= fs->max_reads)
        return -ELOOP;
    fs->reads++;
    for (size_t i = 0; fs->files[i].path != NULL; i++) {
        const struct conf_fakefile *f = &fs->files[i];
        if (f->text == NULL || strcmp(f->path, path) != 0)
            continue;
        size_t n = fs->lens ? fs->lens[i] : strlen(f->text);
        *data = malloc(n + 1);
        if (*data == NULL)
            return -ENOMEM;
        memcpy(*data, f->text, n);
        (*data)[n] = '\0';
        *len = n;
        return 0;
    }
    return -ENOENT;
}

int conf_fakefs_glob(void *ctx, const char *pattern, char ***paths, size_t *n)
{
    struct conf_fakefs *fs = ctx;
    size_t nfiles = 0;
    for (const struct conf_fakefile *f = fs->files; f->path != NULL; f++)
        nfiles++;
    *n = 0;
    *paths = calloc(nfiles + 1, sizeof **paths);
    if (*paths == NULL)
        return -1;
    const char *star = strchr(pattern, '*');
    if (star == NULL) {
        (*paths)[(*n)++] = strdup(pattern);
        return 0;
    }
    size_t dlen = (size_t)(star - pattern), sl = strlen(star + 1);
    int dir_exists = 0;
    for (const struct conf_fakefile *f = fs->files; f->path != NULL; f++) {
        const char *p = f->path;
        size_t pl = strlen(p);
        if (f->text == NULL || strncmp(p, pattern, dlen) != 0 || strchr(p + dlen, '/') != NULL)
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

int conf_fakefs_resolve(void *ctx, const char *name, struct addr *out)
{
    (void)ctx;
    if (strcmp(name, "localhost") == 0)
        return addr_parse("127.0.0.1", out);
    return -1;
}
