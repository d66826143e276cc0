/* Report output in three modes from one description: chronyc's text, chronyc's CSV (-c), and
 * tempus JSON (-j, docs/JSON.md).
 *
 * A printer calls out_text for literal text (headers, labels, legends: text mode only) and
 * one out_* value call per field. Text mode prints the value with its chronyc width; CSV
 * prints the bare value ("%+6.1f" becomes "%.1f": flags and width dropped, precision kept),
 * comma-separated, one line per record; JSON prints "key": value inside the current object.
 */
#ifndef TEMPUS_CLIENT_OUT_H
#define TEMPUS_CLIENT_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "wire/cmdmon.h"

enum out_mode {
    OUT_TEXT,
    OUT_CSV,
    OUT_JSON,
};

#define OUT_MAX_DEPTH 8

struct out {
    FILE *f; /* borrowed */
    enum out_mode mode;
    int depth;                      /* JSON nesting */
    bool need_comma[OUT_MAX_DEPTH]; /* JSON: a value was written at this depth */
    char closer[OUT_MAX_DEPTH];     /* JSON: '}' or ']' closing this depth */
    bool rec_inline[OUT_MAX_DEPTH]; /* JSON: a record written into the enclosing object */
    bool csv_first;                 /* CSV: no field yet in this record */
};

void out_init(struct out *o, FILE *f, enum out_mode mode);

/* Literal text, printf-style; printed in text mode only. */
void out_text(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A whole report document: JSON {"command": name, ...}; nothing in text and CSV. */
void out_doc_begin(struct out *o, const char *command);
void out_doc_end(struct out *o);

/* Closes every open list and object of the current document (before an error member). */
void out_doc_unwind(struct out *o);

/* A JSON array "key": [ ... ] of records (tables); nothing in text and CSV. */
void out_list_begin(struct out *o, const char *key);
void out_list_end(struct out *o);

/* A JSON object: as an array element when key is NULL, else "key": {...}. */
void out_obj_begin(struct out *o, const char *key);
void out_obj_end(struct out *o);

/* One CSV line; in JSON an object in a list, or, at document level, members of the
 * document itself (single-record reports such as tracking). */
void out_rec_begin(struct out *o);
void out_rec_end(struct out *o);

/* Values. textfmt is the printf conversion chronyc uses in text mode. */
void out_str(struct out *o, const char *key, const char *textfmt, const char *s);
void out_int(struct out *o, const char *key, const char *textfmt, long long v);
void out_uint(struct out *o, const char *key, const char *textfmt, unsigned long long v);
void out_dbl(struct out *o, const char *key, const char *textfmt, double v);
void out_bool(struct out *o, const char *key, bool v);         /* Yes / No */
void out_interval(struct out *o, const char *key, uint32_t s); /* JSON null for "none" */
void out_offset(struct out *o, const char *key, double v, bool sign);
void out_freq(struct out *o, const char *key, double v, bool sign);
void out_time(struct out *o, const char *key, const struct cmdmon_timespec *ts);
void out_leap(struct out *o, const char *key, unsigned leap, bool short_text);
/* A value whose text differs from its CSV/JSON string (text printed as is). */
void out_str2(struct out *o, const char *key, const char *text, const char *csv);
/* A field given in all three renderings; json is a JSON token (json_is_string: quoted). */
void out_custom(struct out *o, const char *key, const char *text, const char *csv, const char *json,
                bool json_is_string);
/* JSON-only value (explanations and raw fields chronyc does not print). */
void out_json_str(struct out *o, const char *key, const char *s);
void out_json_num(struct out *o, const char *key, double v);

#endif
