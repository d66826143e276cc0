/* Internals shared by conf.c, conf_sources.c and conf_directives.c: the parser state, error
 * and warning helpers, word splitting. Not for use outside src/daemon/conf*.c. */
#ifndef TEMPUS_DAEMON_CONF_INTERNAL_H
#define TEMPUS_DAEMON_CONF_INTERNAL_H

#include <stddef.h>

#include "daemon/conf.h"

/* One parse: where we are (file "" for command-line directives) and where results go. */
struct conf_parser {
    struct conf *c;
    const struct conf_env *env;
    struct conf_error *err;
    const char *file;
    int line;
    int depth;       /* files open in the current include chain */
    int *files_read; /* files read by this parse so far (shared by nested parsers) */
};

/* Fills P->err with msg (printf format) plus chronyd's location suffix " at line N[ in file
 * F]" and returns -1. */
int conf_fail(struct conf_parser *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "Could not parse <word> directive" at the current line; returns -1. */
int conf_fail_parse(struct conf_parser *P, const char *word);

/* Logs a "not implemented yet" warning for what (e.g. "ntsdumpdir directive") at the
 * current line and counts it. */
void conf_warn_unimplemented(struct conf_parser *P, const char *what);

/* Number of space-separated words in s (normalized text: single spaces, no ends). */
int conf_count_words(const char *s);

/* Copies the next word of *p (stopping at a space or the end) into buf (truncated to len),
 * advances *p past it and the following space. Returns 0, or -1 at the end of the text. */
int conf_next_word(const char **p, char *buf, size_t len);

/* Returns a malloc'd copy of s, or NULL. */
char *conf_strdup(const char *s);

/* Appends a copy of s; 0 or -1 (ENOMEM). */
int conf_strings_add(struct conf_strings *l, const char *s);
void conf_strings_free(struct conf_strings *l);

/* Runs the directive (normalized: "word args") at P's position. 0 or -1 with P->err set.
 * conf.c handles include/confdir before calling this. */
int conf_directive(struct conf_parser *P, const char *word, const char *args);

/* The server/pool/peer handler behind conf_directive(). */
int conf_parse_source_line(struct conf_parser *P, const char *word, const char *args);

/* Normalizes line in place as chronyd does: leading/trailing whitespace removed, inner runs
 * collapsed to one space, a comment line (first non-blank one of "!;#%") emptied. */
void conf_normalize(char *line);

#endif
