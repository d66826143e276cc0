/* The config parser's core: lines, normalization, comments, include/confdir, errors.
 * Directive handlers live in conf_directives.c and conf_sources.c. Pure: files and names
 * come through struct conf_env. Behaviour (limits, messages, ordering) is chronyd 4.3's as
 * measured with chronyd -p (docs/design/config.md). */
#include "daemon/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/engine.h"
#include "daemon/conf_internal.h"

int conf_fail(struct conf_parser *P, const char *fmt, ...)
{
    va_list ap;
    char msg[600];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    P->err->line = P->line;
    snprintf(P->err->file, sizeof P->err->file, "%s", P->file);
    if (P->line <= 0)
        snprintf(P->err->msg, sizeof P->err->msg, "%s", msg);
    else if (P->file[0] == '\0')
        snprintf(P->err->msg, sizeof P->err->msg, "%s at line %d", msg, P->line);
    else
        snprintf(P->err->msg, sizeof P->err->msg, "%s at line %d in file %s", msg, P->line,
                 P->file);
    return -1;
}

int conf_fail_parse(struct conf_parser *P, const char *word)
{
    return conf_fail(P, "Could not parse %s directive", word);
}

void conf_warn_unimplemented(struct conf_parser *P, const char *what)
{
    P->c->n_warnings++;
    if (P->file[0] == '\0')
        log_warn("%s is not implemented yet and has no effect (line %d)", what, P->line);
    else
        log_warn("%s is not implemented yet and has no effect (line %d in file %s)", what, P->line,
                 P->file);
}

int conf_count_words(const char *s)
{
    int n = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p != ' ' && (p == s || p[-1] == ' '))
            n++;
    }
    return n;
}

int conf_next_word(const char **p, char *buf, size_t len)
{
    const char *s = *p;
    size_t n = 0;

    while (*s == ' ')
        s++;
    if (*s == '\0')
        return -1;
    while (s[n] != '\0' && s[n] != ' ')
        n++;
    if (len > 0) {
        size_t k = n < len - 1 ? n : len - 1;
        memcpy(buf, s, k);
        buf[k] = '\0';
    }
    s += n;
    while (*s == ' ')
        s++;
    *p = s;
    return 0;
}

char *conf_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

int conf_strings_add(struct conf_strings *l, const char *s)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    l->v = v;
    if ((v[l->n] = conf_strdup(s)) == NULL)
        return -1;
    l->n++;
    return 0;
}

void conf_strings_free(struct conf_strings *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void conf_normalize(char *line)
{
    char *out = line;
    const char *in = line;
    int space = 0;

    while (*in != '\0' && isspace((unsigned char)*in))
        in++;
    if (strchr("!;#%", *in) != NULL && *in != '\0') {
        line[0] = '\0';
        return;
    }
    for (; *in != '\0'; in++) {
        if (isspace((unsigned char)*in)) {
            space = 1;
            continue;
        }
        if (space && out != line)
            *out++ = ' ';
        space = 0;
        *out++ = *in;
    }
    *out = '\0';
}

void conf_source_init(struct conf_source *s)
{
    /* chrony's per-source defaults are written once, in the engine; the configuration adds
     * only what the engine does not know (port, pool size, NTS port) and its own encodings
     * (presend 100 = off, version 0 = chosen by the key). */
    struct engine_source_params d;
    engine_source_params_default(&d);
    memset(s, 0, sizeof *s);
    s->type = CONF_SOURCE_SERVER;
    s->port = 123;
    s->minpoll = d.minpoll_log2;
    s->maxpoll = d.maxpoll_log2;
    s->presend = 100;
    s->minstratum = d.minstratum;
    s->polltarget = d.polltarget;
    s->minsamples = d.minsamples;
    s->maxsamples = d.maxsamples;
    s->filter = d.filter;
    s->maxsources = 4;
    s->nts_port = 4460;
    s->maxdelay_s = d.maxdelay_s;
    s->maxdelayratio = d.maxdelayratio;
    s->maxdelaydevratio = d.maxdelaydevratio;
    s->mindelay_s = d.mindelay_s;
    s->asymmetry = d.asymmetry;
    s->offset_s = d.offset_s;
}

void conf_source_free(struct conf_source *s)
{
    if (s == NULL)
        return;
    free(s->name);
    free(s->file);
    s->name = NULL;
    s->file = NULL;
}

void conf_init(struct conf *c)
{
    /* chrony's selection and discipline defaults are the engine's (written once there) */
    struct engine_params d;
    engine_params_default(&d);
    memset(c, 0, sizeof *c);
    c->acquisitionport = -1;
    c->minsamples = 6;
    c->combinelimit = d.combinelimit;
    c->maxdistance_s = d.maxdistance_s;
    c->maxjitter_s = d.maxjitter_s;
    c->minsources = d.minsources;
    c->reselectdist_s = d.reselectdist_s;
    c->stratumweight_s = d.stratumweight_s;
    c->corrtimeratio = d.corrtimeratio;
    c->maxclockerror_ppm = d.maxclockerror_ppm;
    c->maxdrift_ppm = d.maxdrift_ppm;
    c->maxupdateskew_ppm = d.maxupdateskew_ppm;
    /* chrony's 83333.333 ppm exactly (1/12 s per s); the engine's default, 83333.333, is
     * what tempus-sim's scenarios ran with, and moving it moves them (slew05, seed) */
    c->maxslewrate_ppm = 1e6 / 12.0;
    c->clientloglimit = 524288;
    c->local_stratum = 10;
    c->local_distance_s = 1.0;
    c->port = 123;
    c->ratelimit = (struct conf_ratelimit){0, 3, 8, 2, -1};
    addr_parse("127.0.0.1", &c->bindcmdaddress4);
    addr_parse("::1", &c->bindcmdaddress6);
    c->bindcmdpath = conf_strdup(CONF_DEFAULT_CMD_SOCKET);
    c->cmdport = 323;
    c->cmdratelimit = (struct conf_ratelimit){0, -4, 8, 2, -1};
    c->ntsrefresh_s = 2419200;
    c->ntsport = 4460;
    c->ntsprocesses = 1;
    c->maxntsconnections = 100;
    c->ntsrotate_s = 604800;
    c->ntsratelimit = (struct conf_ratelimit){0, 6, 8, 2, -1};
    c->logbanner = 32;
    c->logchange_s = 1.0;
    c->rtcdevice = conf_strdup(CONF_DEFAULT_RTC_DEVICE);
    c->hwclockfile = conf_strdup(CONF_DEFAULT_HWCLOCK);
    c->pidfile = conf_strdup(CONF_DEFAULT_PIDFILE);
    c->user = conf_strdup(CONF_DEFAULT_USER);
}

void conf_free(struct conf *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_sources; i++)
        conf_source_free(&c->sources[i]);
    free(c->sources);
    for (size_t i = 0; i < c->n_refclocks; i++) {
        free(c->refclocks[i].driver);
        free(c->refclocks[i].parameter);
    }
    free(c->refclocks);
    conf_strings_free(&c->sourcedirs);
    conf_strings_free(&c->initstepslew_hosts);
    free(c->access);
    free(c->broadcasts);
    for (size_t i = 0; i < c->n_ntstrustedcerts; i++)
        free(c->ntstrustedcerts[i].path);
    free(c->ntstrustedcerts);
    conf_strings_free(&c->ntsservercerts);
    conf_strings_free(&c->ntsserverkeys);
    for (size_t i = 0; i < c->n_hwtimestamps; i++)
        free(c->hwtimestamps[i].iface);
    free(c->hwtimestamps);
    conf_strings_free(&c->lines);
    char **strs[] = {&c->bindacqdevice, &c->dumpdir,           &c->driftfile,  &c->leapsectz,
                     &c->tempcomp_file, &c->tempcomp_points,   &c->binddevice, &c->ntpsigndsocket,
                     &c->bindcmdpath,   &c->bindcmddevice,     &c->ntsdumpdir, &c->ntsntpserver,
                     &c->logdir,        &c->mailonchange_addr, &c->rtcfile,    &c->rtcdevice,
                     &c->hwclockfile,   &c->keyfile,           &c->pidfile,    &c->user};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

static int parse_text(struct conf_parser *P, const char *text, size_t len);

/* Parses one more file of an include chain (include, confdir). */
static int parse_nested(struct conf_parser *P, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    int r;

    if (P->depth >= CONF_MAX_INCLUDE_DEPTH)
        return conf_fail(P, "Maximum include level reached");
    if (++*P->files_read > CONF_MAX_FILES)
        return conf_fail(P, "Too many included files (more than %d)", CONF_MAX_FILES);
    r = P->env->read_file != NULL ? P->env->read_file(P->env->ctx, path, &data, &len) : -ENOENT;
    if (r < 0)
        return conf_fail(P, "Could not open %s : %s", path, strerror(-r));

    struct conf_parser sub = *P;
    sub.file = path;
    sub.line = 0;
    sub.depth = P->depth + 1;
    r = parse_text(&sub, data, len);
    free(data);
    return r;
}

static void free_paths(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

static int do_include(struct conf_parser *P, const char *word, const char *args)
{
    char **paths = NULL;
    size_t n = 0;
    int r = 0;

    if (conf_count_words(args) < 1)
        return conf_fail(P, "Missing arguments for %s directive", word);
    if (conf_count_words(args) > 1)
        return conf_fail(P, "Too many arguments for %s directive", word);
    if (P->env->glob == NULL || P->env->glob(P->env->ctx, args, &paths, &n) < 0)
        return conf_fail(P, "Could not search for files matching %s", args);
    for (size_t i = 0; i < n && r == 0; i++)
        r = parse_nested(P, paths[i]);
    free_paths(paths, n);
    return r;
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

/* chronyd's selection of *.conf / *.sources in dirs: sorted by basename; when a basename is
 * in several directories only the one from the earliest directory counts. Dirs that cannot
 * be read contribute nothing. *out is a malloc'd array of malloc'd paths. */
static int collect_dir_files(const struct conf_env *env, char *const *dirs, size_t n_dirs,
                             const char *suffix, char ***out, size_t *n_out)
{
    char **all = NULL;
    size_t n_all = 0;

    *out = NULL;
    *n_out = 0;
    for (size_t d = 0; d < n_dirs; d++) {
        char pattern[1100];
        char **paths = NULL;
        size_t n = 0;
        snprintf(pattern, sizeof pattern, "%s/*%s", dirs[d], suffix);
        if (env->glob == NULL || env->glob(env->ctx, pattern, &paths, &n) < 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            int dup = 0;
            for (size_t k = 0; k < n_all && !dup; k++)
                dup = strcmp(base_name(all[k]), base_name(paths[i])) == 0;
            /* A pattern without a match may come back as itself: skip what isn't a match. */
            size_t pl = strlen(paths[i]), sl = strlen(suffix);
            if (dup || pl < sl || strcmp(paths[i] + pl - sl, suffix) != 0 ||
                strchr(base_name(paths[i]), '*') != NULL) {
                free(paths[i]);
                continue;
            }
            char **grown = realloc(all, (n_all + 1) * sizeof *all);
            if (grown == NULL) {
                for (size_t k = i; k < n; k++)
                    free(paths[k]);
                free(paths);
                free_paths(all, n_all);
                return -1;
            }
            all = grown;
            all[n_all++] = paths[i];
        }
        free(paths);
    }
    if (n_all > 1)
        qsort(all, n_all, sizeof *all, cmp_base);
    *out = all;
    *n_out = n_all;
    return 0;
}

static int do_confdir(struct conf_parser *P, const char *word, const char *args)
{
    char dirs[CONF_MAX_CONFDIRS][1024];
    char *dirp[CONF_MAX_CONFDIRS];
    int nd = conf_count_words(args);
    const char *p = args;
    char **files;
    size_t n;
    int r = 0;

    if (nd < 1 || nd > CONF_MAX_CONFDIRS)
        return conf_fail_parse(P, word);
    for (int i = 0; i < nd; i++) {
        conf_next_word(&p, dirs[i], sizeof dirs[i]);
        dirp[i] = dirs[i];
    }
    if (collect_dir_files(P->env, dirp, (size_t)nd, ".conf", &files, &n) < 0)
        return conf_fail(P, "Out of memory");
    for (size_t i = 0; i < n && r == 0; i++)
        r = parse_nested(P, files[i]);
    free_paths(files, n);
    return r;
}

/* One raw line (without its newline). */
static int parse_line(struct conf_parser *P, char *line)
{
    char word[64];
    const char *args;

    conf_normalize(line);
    if (line[0] == '\0')
        return 0;
    if (conf_strings_add(&P->c->lines, line) < 0)
        return conf_fail(P, "Out of memory");
    args = line;
    conf_next_word(&args, word, sizeof word);
    if (strcasecmp(word, "include") == 0 || strcasecmp(word, "confdir") == 0) {
        /* chronyd -p leaves include and confdir lines out: their files' lines stand in. */
        free(P->c->lines.v[--P->c->lines.n]);
        if (strcasecmp(word, "include") == 0)
            return do_include(P, word, args);
        return do_confdir(P, word, args);
    }
    return conf_directive(P, word, args);
}

static int parse_text(struct conf_parser *P, const char *text, size_t len)
{
    size_t pos = 0;
    char buf[CONF_MAX_LINE];

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        size_t with_nl = n + (nl != NULL ? 1 : 0);

        P->line++;
        if (with_nl >= CONF_MAX_LINE)
            return conf_fail(P, "String too long");
        memcpy(buf, text + pos, n);
        buf[n] = '\0'; /* an embedded NUL ends the line early, as in chronyd */
        pos += with_nl;
        if (parse_line(P, buf) < 0)
            return -1;
    }
    return 0;
}

int conf_parse_text(struct conf *c, const struct conf_env *env, const char *name, const char *text,
                    size_t len, struct conf_error *err)
{
    static const struct conf_env no_env;
    int files_read = 1;
    struct conf_parser P = {c, env != NULL ? env : &no_env, err, name, 0, 1, &files_read};

    memset(err, 0, sizeof *err);
    return parse_text(&P, text, len);
}

int conf_parse_file(struct conf *c, const struct conf_env *env, const char *path,
                    struct conf_error *err)
{
    static const struct conf_env no_env;
    int files_read = 0;
    struct conf_parser P = {c, env != NULL ? env : &no_env, err, path, 0, 0, &files_read};

    memset(err, 0, sizeof *err);
    P.file = "";
    return parse_nested(&P, path);
}

int conf_parse_args(struct conf *c, const struct conf_env *env, int n, const char *const *args,
                    struct conf_error *err)
{
    static const struct conf_env no_env;
    int files_read = 0;
    struct conf_parser P = {c, env != NULL ? env : &no_env, err, "", 0, 1, &files_read};
    char buf[CONF_MAX_LINE];

    memset(err, 0, sizeof *err);
    for (int i = 0; i < n; i++) {
        P.line = i + 1;
        if (strlen(args[i]) + 1 >= CONF_MAX_LINE)
            return conf_fail(&P, "String too long");
        snprintf(buf, sizeof buf, "%s", args[i]);
        if (parse_line(&P, buf) < 0)
            return -1;
    }
    return 0;
}
