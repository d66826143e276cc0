/* daemon/dump: dump files (see dump.h). */
#include "daemon/dump.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/files.h"

#define MAGIC "tempus-dump"
/* The longest line dump_format() writes is ~170 bytes. */
#define LINE_MAX_LEN 256
/* Header (~100 bytes) + samples + check line. */
#define FILE_MAX_LEN (512 + DUMP_MAX_SAMPLES * LINE_MAX_LEN)

static const char *const status_text[] = {
    [DUMP_OK] = "OK",
    [DUMP_E_FORMAT] = "not a tempus dump file of version 1",
    [DUMP_E_SYNTAX] = "syntax error",
    [DUMP_E_TRUNCATED] = "truncated",
    [DUMP_E_CHECK] = "checksum mismatch",
    [DUMP_E_SOURCE] = "written for another source",
    [DUMP_E_FUTURE] = "saved in the future",
    [DUMP_E_STALE] = "too old",
    [DUMP_E_SAMPLES] = "invalid samples",
    [DUMP_E_IO] = "could not read or write it",
};

const char *dump_status_str(enum dump_status st)
{
    if ((unsigned)st >= sizeof status_text / sizeof status_text[0])
        return "unknown";
    return status_text[st];
}

static uint64_t fnv1a(const char *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int dump_format(const struct dump_data *d, char *buf, size_t cap)
{
    if (d->n < 0 || d->n > DUMP_MAX_SAMPLES)
        return -1;
    size_t len = 0;
    int w = snprintf(buf, cap, "%s %d\nsource %s\nsaved %" PRId64 "\nsamples %d\n", MAGIC,
                     DUMP_VERSION, d->source, d->saved_real_ns, d->n);
    if (w < 0 || (size_t)w >= cap)
        return -1;
    len = (size_t)w;
    for (int k = 0; k < d->n; k++) {
        const struct engine_saved_sample *s = &d->s[k];
        /* %.17g: every double reads back to the same value. */
        w = snprintf(buf + len, cap - len, "%" PRId64 " %.17g %.17g %.17g %.17g %.17g %d %d\n",
                     s->real_ns, s->offset_s, s->delay_s, s->disp_s, s->root_delay_s,
                     s->root_disp_s, s->stratum, s->leap);
        if (w < 0 || (size_t)w >= cap - len)
            return -1;
        len += (size_t)w;
    }
    w = snprintf(buf + len, cap - len, "check %016" PRIx64 "\n", fnv1a(buf, len));
    if (w < 0 || (size_t)w >= cap - len)
        return -1;
    return (int)(len + (size_t)w);
}

/* Splits off the next line of text[*pos..len) into out (NUL-terminated, without '\n').
 * 1 = a line, 0 = end of text, -2 = text ends inside the line (no '\n'), -1 = a line too
 * long or with a NUL byte. */
static int next_line(const char *text, size_t len, size_t *pos, char *out)
{
    if (*pos >= len)
        return 0;
    size_t i = *pos, n = 0;
    while (i < len && text[i] != '\n') {
        if (text[i] == '\0' || n + 1 >= LINE_MAX_LEN)
            return -1;
        out[n++] = text[i++];
    }
    if (i >= len)
        return -2;
    out[n] = '\0';
    *pos = i + 1;
    return 1;
}

/* Whole-token number parsers: no sign games beyond strtoll/strtod's, no trailing text. */
static int parse_i64(const char *tok, int64_t *v)
{
    if (!tok || !*tok)
        return -1;
    char *end;
    errno = 0;
    long long x = strtoll(tok, &end, 10);
    if (errno || *end)
        return -1;
    *v = (int64_t)x;
    return 0;
}

static int parse_int(const char *tok, int lo, int hi, int *v)
{
    int64_t x;
    if (parse_i64(tok, &x) || x < lo || x > hi)
        return -1;
    *v = (int)x;
    return 0;
}

static int parse_double(const char *tok, double *v)
{
    if (!tok || !*tok)
        return -1;
    char *end;
    double x = strtod(tok, &end);
    if (*end || !isfinite(x))
        return -1;
    *v = x;
    return 0;
}

/* Splits line at single spaces into at most max tokens. Returns the count, or -1 for more. */
static int tokens(char *line, char **tok, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (n >= max)
            return -1;
        tok[n++] = t;
    }
    return n;
}

enum dump_status dump_parse(const char *text, size_t len, struct dump_data *d, int *line)
{
    char buf[LINE_MAX_LEN], *tok[9];
    size_t pos = 0;
    int ln = 0, r;
    memset(d, 0, sizeof *d);
    if (line)
        *line = 0;
#define NEXT()                                                                                     \
    do {                                                                                           \
        ln++;                                                                                      \
        if (line)                                                                                  \
            *line = ln;                                                                            \
        r = next_line(text, len, &pos, buf);                                                       \
        if (r == 0)                                                                                \
            return DUMP_E_TRUNCATED;                                                               \
        if (r < 0)                                                                                 \
            return r == -2 ? DUMP_E_TRUNCATED : DUMP_E_SYNTAX;                                     \
    } while (0)

    NEXT();
    int version;
    if (tokens(buf, tok, 2) != 2 || strcmp(tok[0], MAGIC) != 0 ||
        parse_int(tok[1], 0, 1000, &version) || version != DUMP_VERSION)
        return DUMP_E_FORMAT;
    NEXT();
    if (tokens(buf, tok, 2) != 2 || strcmp(tok[0], "source") != 0 ||
        strlen(tok[1]) >= ADDR_TEXT_MAX)
        return DUMP_E_SYNTAX;
    snprintf(d->source, sizeof d->source, "%s", tok[1]);
    NEXT();
    if (tokens(buf, tok, 2) != 2 || strcmp(tok[0], "saved") != 0 ||
        parse_i64(tok[1], &d->saved_real_ns))
        return DUMP_E_SYNTAX;
    NEXT();
    int n;
    if (tokens(buf, tok, 2) != 2 || strcmp(tok[0], "samples") != 0 ||
        parse_int(tok[1], 1, DUMP_MAX_SAMPLES, &n))
        return DUMP_E_SYNTAX;
    for (int k = 0; k < n; k++) {
        NEXT();
        struct engine_saved_sample *s = &d->s[k];
        if (tokens(buf, tok, 8) != 8 || parse_i64(tok[0], &s->real_ns) ||
            parse_double(tok[1], &s->offset_s) || parse_double(tok[2], &s->delay_s) ||
            parse_double(tok[3], &s->disp_s) || parse_double(tok[4], &s->root_delay_s) ||
            parse_double(tok[5], &s->root_disp_s) || parse_int(tok[6], 0, 16, &s->stratum) ||
            parse_int(tok[7], 0, 3, &s->leap))
            return DUMP_E_SYNTAX;
        d->n = k + 1;
    }
    size_t body = pos;
    NEXT();
    if (tokens(buf, tok, 2) != 2 || strcmp(tok[0], "check") != 0 || strlen(tok[1]) != 16)
        return DUMP_E_SYNTAX;
    char *end;
    uint64_t want = strtoull(tok[1], &end, 16);
    if (*end || !strchr("0123456789abcdef", tok[1][0]))
        return DUMP_E_SYNTAX;
    if (pos != len)
        return DUMP_E_SYNTAX; /* nothing may follow the check line */
#undef NEXT
    if (fnv1a(text, body) != want)
        return DUMP_E_CHECK;
    if (line)
        *line = 0;
    return DUMP_OK;
}

enum dump_status dump_check(const struct dump_data *d, const char *source, int64_t now_real_ns)
{
    if (strcmp(d->source, source) != 0)
        return DUMP_E_SOURCE;
    /* In seconds, as doubles: the saved time is anything an int64 holds. */
    double age_s = ((double)now_real_ns - (double)d->saved_real_ns) * 1e-9;
    if (age_s < -DUMP_FUTURE_SLACK_S)
        return DUMP_E_FUTURE;
    if (age_s > DUMP_MAX_AGE_S)
        return DUMP_E_STALE;
    return DUMP_OK;
}

int dump_path(char *path, size_t cap, const char *dir, const struct addr *a)
{
    char text[ADDR_TEXT_MAX]; /* the address alone, as chronyd names the file */
    addr_format(a, text, sizeof text);
    int w = snprintf(path, cap, "%s/%s.dat", dir, text);
    return w < 0 || (size_t)w >= cap ? -1 : w;
}

enum dump_status dump_save(const char *path, const struct dump_data *d, int *err)
{
    char *buf = malloc(FILE_MAX_LEN);
    *err = 0;
    if (!buf) {
        *err = -ENOMEM;
        return DUMP_E_IO;
    }
    int n = dump_format(d, buf, FILE_MAX_LEN);
    int r = n < 0 ? -EOVERFLOW : files_write_atomic(path, buf, (size_t)n);
    free(buf);
    *err = r;
    return r == 0 ? DUMP_OK : DUMP_E_IO;
}

enum dump_status dump_load(const char *path, const char *source, int64_t now_real_ns,
                           struct dump_data *d, int *err)
{
    char *buf = malloc(FILE_MAX_LEN + 1);
    *err = 0;
    if (!buf) {
        *err = -ENOMEM;
        return DUMP_E_IO;
    }
    int n = files_read(path, buf, FILE_MAX_LEN + 1);
    enum dump_status st;
    if (n < 0) {
        *err = n;
        st = DUMP_E_IO;
    } else if (n >= FILE_MAX_LEN) {
        st = DUMP_E_SYNTAX; /* longer than any file we write */
    } else {
        st = dump_parse(buf, (size_t)n, d, NULL);
        if (st == DUMP_OK)
            st = dump_check(d, source, now_real_ns);
    }
    free(buf);
    return st;
}
