/* Text / CSV / JSON report output (see out.h). */
#include "client/out.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "client/fmt.h"

void out_init(struct out *o, FILE *f, enum out_mode mode)
{
    memset(o, 0, sizeof *o);
    o->f = f;
    o->mode = mode;
    o->csv_first = true;
}

void out_text(struct out *o, const char *fmt, ...)
{
    if (o->mode != OUT_TEXT)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(o->f, fmt, ap);
    va_end(ap);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7F)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Starts a JSON member or element: comma, and "key": when key is given. */
static void json_member(struct out *o, const char *key)
{
    if (o->need_comma[o->depth])
        fputc(',', o->f);
    o->need_comma[o->depth] = true;
    if (key) {
        json_string(o->f, key);
        fputc(':', o->f);
    }
}

static void json_open(struct out *o, const char *key, char c)
{
    json_member(o, key);
    fputc(c, o->f);
    if (o->depth + 1 < OUT_MAX_DEPTH)
        o->depth++;
    o->need_comma[o->depth] = false;
    o->closer[o->depth] = c == '{' ? '}' : ']';
}

static void json_close(struct out *o)
{
    fputc(o->closer[o->depth], o->f);
    if (o->depth > 0)
        o->depth--;
}

void out_doc_begin(struct out *o, const char *command)
{
    if (o->mode != OUT_JSON)
        return;
    o->depth = 0;
    o->need_comma[0] = false;
    json_open(o, NULL, '{');
    out_json_str(o, "command", command);
}

void out_doc_end(struct out *o)
{
    if (o->mode != OUT_JSON)
        return;
    while (o->depth > 1)
        json_close(o);
    json_close(o);
    fputc('\n', o->f);
    o->need_comma[0] = false;
}

void out_doc_unwind(struct out *o)
{
    if (o->mode != OUT_JSON)
        return;
    while (o->depth > 1)
        json_close(o);
}

void out_list_begin(struct out *o, const char *key)
{
    if (o->mode == OUT_JSON)
        json_open(o, key, '[');
}

void out_list_end(struct out *o)
{
    if (o->mode == OUT_JSON)
        json_close(o);
}

void out_obj_begin(struct out *o, const char *key)
{
    if (o->mode == OUT_JSON)
        json_open(o, key, '{');
}

void out_obj_end(struct out *o)
{
    if (o->mode == OUT_JSON)
        json_close(o);
}

void out_rec_begin(struct out *o)
{
    if (o->mode == OUT_JSON) {
        if (o->depth > 0 && o->closer[o->depth] == '}') {
            o->rec_inline[o->depth] = true;
        } else {
            json_open(o, NULL, '{');
            o->rec_inline[o->depth] = false;
        }
    }
    o->csv_first = true;
}

void out_rec_end(struct out *o)
{
    if (o->mode == OUT_JSON) {
        if (o->rec_inline[o->depth])
            o->rec_inline[o->depth] = false;
        else
            json_close(o);
    } else if (o->mode == OUT_CSV)
        fputc('\n', o->f);
}

/* CSV conversion of a text conversion: drop flags and width, keep precision and length. */
static void csv_fmt(const char *textfmt, char *buf, size_t len)
{
    size_t n = 0;
    const char *p = textfmt;
    while (*p && n + 1 < len) {
        if (*p != '%') {
            buf[n++] = *p++;
            continue;
        }
        buf[n++] = *p++;
        while (*p && strchr("+- #0", *p))
            p++;
        while (isdigit((unsigned char)*p))
            p++;
        while (*p && n + 1 < len && !isalpha((unsigned char)*p) && *p != '%')
            buf[n++] = *p++; /* precision */
        while (*p && n + 1 < len && strchr("hlLqjzt", *p))
            buf[n++] = *p++;
        if (*p && n + 1 < len)
            buf[n++] = *p++;
    }
    buf[n] = '\0';
}

/* Emits one field: text (already formatted), csv (already formatted), json token. */
static void field(struct out *o, const char *key, const char *text, const char *csv,
                  const char *json, bool json_quote)
{
    switch (o->mode) {
    case OUT_TEXT:
        fputs(text, o->f);
        break;
    case OUT_CSV:
        if (!o->csv_first)
            fputc(',', o->f);
        o->csv_first = false;
        fputs(csv, o->f);
        break;
    case OUT_JSON:
        json_member(o, key);
        if (json_quote)
            json_string(o->f, json);
        else
            fputs(json, o->f);
        break;
    }
}

#define BUF 320

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
void out_str(struct out *o, const char *key, const char *textfmt, const char *s)
{
    char t[BUF];
    snprintf(t, sizeof t, textfmt, s);
    field(o, key, t, s, s, true);
}

void out_int(struct out *o, const char *key, const char *textfmt, long long v)
{
    char t[BUF], f[32], c[BUF], j[32];
    snprintf(t, sizeof t, textfmt, v);
    csv_fmt(textfmt, f, sizeof f);
    snprintf(c, sizeof c, f, v);
    snprintf(j, sizeof j, "%lld", v);
    field(o, key, t, c, j, false);
}

void out_uint(struct out *o, const char *key, const char *textfmt, unsigned long long v)
{
    char t[BUF], f[32], c[BUF], j[32];
    snprintf(t, sizeof t, textfmt, v);
    csv_fmt(textfmt, f, sizeof f);
    snprintf(c, sizeof c, f, v);
    snprintf(j, sizeof j, "%llu", v);
    field(o, key, t, c, j, false);
}

static void json_double(char *buf, size_t len, double v)
{
    if (!isfinite(v))
        snprintf(buf, len, "null");
    else
        snprintf(buf, len, "%.9g", v);
}

void out_dbl(struct out *o, const char *key, const char *textfmt, double v)
{
    char t[BUF], f[32], c[BUF], j[40];
    snprintf(t, sizeof t, textfmt, v);
    csv_fmt(textfmt, f, sizeof f);
    snprintf(c, sizeof c, f, v);
    json_double(j, sizeof j, v);
    field(o, key, t, c, j, false);
}
#pragma GCC diagnostic pop

void out_bool(struct out *o, const char *key, bool v)
{
    field(o, key, v ? "Yes" : "No", v ? "Yes" : "No", v ? "true" : "false", false);
}

void out_interval(struct out *o, const char *key, uint32_t s)
{
    char t[FMT_MAX], c[16];
    fmt_interval(t, sizeof t, s);
    snprintf(c, sizeof c, "%u", (unsigned)s);
    field(o, key, t, c, s == UINT32_MAX ? "null" : c, false);
}

void out_offset(struct out *o, const char *key, double v, bool sign)
{
    char t[FMT_MAX], c[BUF], j[40];
    fmt_offset(t, sizeof t, v, sign);
    snprintf(c, sizeof c, "%.9f", v);
    json_double(j, sizeof j, v);
    field(o, key, t, c, j, false);
}

void out_freq(struct out *o, const char *key, double v, bool sign)
{
    char t[FMT_MAX], c[BUF], j[40];
    fmt_freq(t, sizeof t, v, sign);
    snprintf(c, sizeof c, "%.3f", v);
    json_double(j, sizeof j, v);
    field(o, key, t, c, j, false);
}

void out_time(struct out *o, const char *key, const struct cmdmon_timespec *ts)
{
    char t[FMT_MAX], c[FMT_MAX];
    fmt_utc(t, sizeof t, ts);
    fmt_ts_csv(c, sizeof c, ts);
    field(o, key, t, c, c, false);
}

void out_leap(struct out *o, const char *key, unsigned leap, bool short_text)
{
    field(o, key, fmt_leap(leap, short_text), fmt_leap(leap, false), fmt_leap(leap, false), true);
}

void out_str2(struct out *o, const char *key, const char *text, const char *csv)
{
    field(o, key, text, csv, csv, true);
}

void out_custom(struct out *o, const char *key, const char *text, const char *csv, const char *json,
                bool json_is_string)
{
    field(o, key, text, csv, json, json_is_string);
}

void out_json_str(struct out *o, const char *key, const char *s)
{
    if (o->mode == OUT_JSON)
        field(o, key, "", "", s, true);
}

void out_json_num(struct out *o, const char *key, double v)
{
    char j[40];
    json_double(j, sizeof j, v);
    if (o->mode == OUT_JSON)
        field(o, key, "", "", j, false);
}
