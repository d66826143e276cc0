/* server/pool/peer lines and sourcedir's *.sources files.
 *
 * Option words are case-insensitive; every value must be a whole word (chronyd reads them
 * with sscanf "%d%n" and checks the length), so "minpoll 4x" is an error while the numeric
 * syntax itself is the C library's (+4, 1e3, 0x1p3, inf). */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/conf.h"
#include "daemon/conf_internal.h"

enum opt_kind { O_FLAG, O_INT, O_U32, O_DOUBLE, O_EXTFIELD };

struct source_option {
    const char *name;
    enum opt_kind kind;
    size_t off;
    int implemented; /* 0: warned about when used (see conf_directives.c) */
};

#define SOFF(field) offsetof(struct conf_source, field)

static const struct source_option options[] = {
    {"asymmetry", O_DOUBLE, SOFF(asymmetry), 1},
    {"auto_offline", O_FLAG, SOFF(auto_offline), 0},
    {"burst", O_FLAG, SOFF(burst), 1},
    {"certset", O_U32, SOFF(certset), 0},
    {"copy", O_FLAG, SOFF(copy), 0},
    {"extfield", O_EXTFIELD, SOFF(extfields), 0},
    {"filter", O_INT, SOFF(filter), 1},
    {"iburst", O_FLAG, SOFF(iburst), 1},
    {"key", O_U32, SOFF(key_id), 1},
    {"maxdelay", O_DOUBLE, SOFF(maxdelay_s), 1},
    {"maxdelaydevratio", O_DOUBLE, SOFF(maxdelaydevratio), 1},
    {"maxdelayquant", O_DOUBLE, SOFF(maxdelayquant), 0},
    {"maxdelayratio", O_DOUBLE, SOFF(maxdelayratio), 1},
    {"maxpoll", O_INT, SOFF(maxpoll), 1},
    {"maxsamples", O_INT, SOFF(maxsamples), 1},
    {"maxsources", O_INT, SOFF(maxsources), 1},
    {"mindelay", O_DOUBLE, SOFF(mindelay_s), 1},
    {"minpoll", O_INT, SOFF(minpoll), 1},
    {"minsamples", O_INT, SOFF(minsamples), 1},
    {"minstratum", O_INT, SOFF(minstratum), 1},
    {"noselect", O_FLAG, SOFF(noselect), 1},
    {"nts", O_FLAG, SOFF(nts), 0},
    {"ntsport", O_INT, SOFF(nts_port), 0},
    {"offline", O_FLAG, SOFF(offline), 1},
    {"offset", O_DOUBLE, SOFF(offset_s), 1},
    {"polltarget", O_INT, SOFF(polltarget), 1},
    {"port", O_INT, SOFF(port), 1},
    {"prefer", O_FLAG, SOFF(prefer), 1},
    {"presend", O_INT, SOFF(presend), 1},
    {"require", O_FLAG, SOFF(require), 1},
    {"trust", O_FLAG, SOFF(trust), 1},
    {"version", O_INT, SOFF(version), 1},
    {"xleave", O_FLAG, SOFF(xleave), 1},
};

/* Parses the arguments of a server/pool/peer line into *s (already conf_source_init()ed,
 * type set). On success s->name is owned by s. *unimpl gets the first unimplemented option
 * used, or NULL. 0 or -1. */
static int parse_source_args(const char *args, struct conf_source *s, const char **unimpl)
{
    char name[CONF_MAX_LINE], opt[64], val[CONF_MAX_LINE];
    const char *p = args;
    char *base = (char *)s;

    *unimpl = NULL;
    if (conf_next_word(&p, name, sizeof name) < 0)
        return -1;
    while (conf_next_word(&p, opt, sizeof opt) == 0) {
        const struct source_option *o = NULL;
        int n = 0;
        for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
            if (strcasecmp(opt, options[i].name) == 0) {
                o = &options[i];
                break;
            }
        }
        if (o == NULL)
            return -1;
        if (!o->implemented && *unimpl == NULL)
            *unimpl = o->name;
        if (o->kind == O_FLAG) {
            *(int *)(base + o->off) = 1;
            continue;
        }
        if (conf_next_word(&p, val, sizeof val) < 0)
            return -1;
        switch (o->kind) {
        case O_INT:
            if (sscanf(val, "%d%n", (int *)(base + o->off), &n) != 1)
                return -1;
            break;
        case O_U32: {
            uint32_t u;
            if (sscanf(val, "%" SCNu32 "%n", &u, &n) != 1)
                return -1;
            if (o->off == SOFF(key_id) && u == 0)
                return -1;
            *(uint32_t *)(base + o->off) = u;
            break;
        }
        case O_DOUBLE:
            if (sscanf(val, "%lf%n", (double *)(base + o->off), &n) != 1)
                return -1;
            break;
        case O_EXTFIELD: {
            uint32_t type;
            if (sscanf(val, "%" SCNx32 "%n", &type, &n) != 1 || type != 0xF323)
                return -1;
            s->extfields |= CONF_EXTFIELD_F323;
            break;
        }
        case O_FLAG:
            break;
        }
        if (val[n] != '\0')
            return -1;
    }
    s->name = conf_strdup(name);
    return s->name != NULL ? 0 : -1;
}

static int source_type(const char *word, enum conf_source_type *t)
{
    if (strcasecmp(word, "server") == 0)
        *t = CONF_SOURCE_SERVER;
    else if (strcasecmp(word, "pool") == 0)
        *t = CONF_SOURCE_POOL;
    else if (strcasecmp(word, "peer") == 0)
        *t = CONF_SOURCE_PEER;
    else
        return -1;
    return 0;
}

int conf_source_parse(const char *line, struct conf_source *s)
{
    char word[16];
    const char *p = line;
    const char *unimpl;

    conf_source_init(s);
    if (conf_next_word(&p, word, sizeof word) < 0 || source_type(word, &s->type) < 0)
        return -1;
    if (parse_source_args(p, s, &unimpl) < 0) {
        conf_source_free(s);
        return -1;
    }
    return 0;
}

int conf_parse_source_line(struct conf_parser *P, const char *word, const char *args)
{
    struct conf_source s;
    const char *unimpl;

    conf_source_init(&s);
    source_type(word, &s.type);
    if (parse_source_args(args, &s, &unimpl) < 0) {
        conf_source_free(&s);
        return conf_fail_parse(P, word);
    }
    s.line = P->line;
    s.file = conf_strdup(P->file);
    struct conf_source *v = realloc(P->c->sources, (P->c->n_sources + 1) * sizeof *v);
    if (v == NULL || s.file == NULL) {
        if (v != NULL)
            P->c->sources = v;
        conf_source_free(&s);
        return conf_fail(P, "Out of memory");
    }
    P->c->sources = v;
    v[P->c->n_sources++] = s;
    if (unimpl != NULL) {
        char what[96];
        snprintf(what, sizeof what, "%s option %s", word, unimpl);
        conf_warn_unimplemented(P, what);
    }
    return 0;
}

/* Appends the sources of one .sources file's text. Only lines that end with a newline
 * count; anything but a valid server/pool/peer line is skipped silently (chronyd). */
static int add_sources_text(const char *text, size_t len, const char *path,
                            struct conf_source **out, size_t *n)
{
    char buf[CONF_MAX_LINE];
    size_t pos = 0;
    int line = 0;

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        if (nl == NULL)
            break;
        size_t l = (size_t)(nl - (text + pos));
        line++;
        if (l + 1 >= CONF_MAX_LINE) {
            pos += l + 1;
            continue;
        }
        memcpy(buf, text + pos, l);
        buf[l] = '\0';
        pos += l + 1;
        conf_normalize(buf);
        struct conf_source s;
        if (buf[0] == '\0' || conf_source_parse(buf, &s) < 0)
            continue;
        s.line = line;
        s.file = conf_strdup(path);
        struct conf_source *v = realloc(*out, (*n + 1) * sizeof *v);
        if (v == NULL || s.file == NULL) {
            if (v != NULL)
                *out = v;
            conf_source_free(&s);
            return -1;
        }
        *out = v;
        v[(*n)++] = s;
    }
    return 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL ? s + 1 : path;
}

static int cmp_base(const void *a, const void *b)
{
    return strcmp(base_name(*(char *const *)a), base_name(*(char *const *)b));
}

int conf_load_sourcedirs(const struct conf *c, const struct conf_env *env, struct conf_source **out,
                         size_t *n)
{
    struct conf_strings files = {NULL, 0};
    int r = 0;

    *out = NULL;
    *n = 0;
    for (size_t d = 0; d < c->sourcedirs.n; d++) {
        char pattern[CONF_MAX_LINE + 16];
        char **paths = NULL;
        size_t np = 0;
        snprintf(pattern, sizeof pattern, "%s/*.sources", c->sourcedirs.v[d]);
        if (env == NULL || env->glob == NULL || env->glob(env->ctx, pattern, &paths, &np) < 0)
            continue;
        for (size_t i = 0; i < np; i++) {
            int dup = strchr(base_name(paths[i]), '*') != NULL;
            for (size_t k = 0; k < files.n && !dup; k++)
                dup = strcmp(base_name(files.v[k]), base_name(paths[i])) == 0;
            if (!dup && conf_strings_add(&files, paths[i]) < 0)
                r = -1;
            free(paths[i]);
        }
        free(paths);
    }
    if (files.n > 1)
        qsort(files.v, files.n, sizeof files.v[0], cmp_base);
    for (size_t i = 0; i < files.n && r == 0; i++) {
        char *data = NULL;
        size_t len = 0;
        if (env->read_file == NULL || env->read_file(env->ctx, files.v[i], &data, &len) < 0)
            continue;
        r = add_sources_text(data, len, files.v[i], out, n);
        free(data);
    }
    conf_strings_free(&files);
    return r;
}

int conf_source_same(const struct conf_source *a, const struct conf_source *b)
{
    /* every field but where the line was (line, file) */
    struct conf_source x = *a, y = *b;
    if ((x.name == NULL) != (y.name == NULL) || (x.name && strcmp(x.name, y.name) != 0))
        return 0;
    x.name = y.name = NULL;
    x.file = y.file = NULL;
    x.line = y.line = 0;
    return x.type == y.type && x.port == y.port && x.minpoll == y.minpoll &&
           x.maxpoll == y.maxpoll && x.presend == y.presend && x.minstratum == y.minstratum &&
           x.polltarget == y.polltarget && x.version == y.version && x.minsamples == y.minsamples &&
           x.maxsamples == y.maxsamples && x.filter == y.filter && x.maxsources == y.maxsources &&
           x.nts_port == y.nts_port && x.key_id == y.key_id && x.certset == y.certset &&
           x.extfields == y.extfields && x.iburst == y.iburst && x.burst == y.burst &&
           x.prefer == y.prefer && x.noselect == y.noselect && x.trust == y.trust &&
           x.require == y.require && x.xleave == y.xleave && x.nts == y.nts && x.copy == y.copy &&
           x.offline == y.offline && x.auto_offline == y.auto_offline &&
           x.maxdelay_s == y.maxdelay_s && x.maxdelayratio == y.maxdelayratio &&
           x.maxdelaydevratio == y.maxdelaydevratio && x.maxdelayquant == y.maxdelayquant &&
           x.mindelay_s == y.mindelay_s && x.asymmetry == y.asymmetry && x.offset_s == y.offset_s;
}
