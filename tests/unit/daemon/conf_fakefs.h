/* An in-memory file system for daemon/conf's struct conf_env: read_file and glob over a table
 * of files, and a resolver that knows only "localhost". Used by test_conf.c and
 * tests/fuzz/fuzz_conf.c. */
#ifndef TEMPUS_TESTS_UNIT_DAEMON_CONF_FAKEFS_H
#define TEMPUS_TESTS_UNIT_DAEMON_CONF_FAKEFS_H

#include <stddef.h>

#include "base/addr.h"

struct conf_fakefile {
    const char *path; /* NULL ends the table */
    const char *text; /* NULL: the file does not exist */
};

struct conf_fakefs {
    const struct conf_fakefile *files;
    const size_t *lens; /* lens[i]: octets of files[i].text (may hold NULs); NULL: strlen */
    unsigned reads;     /* read_file calls */
    unsigned max_reads; /* 0: no limit; past it a read fails with -ELOOP */
};

/* conf_env.read_file (ctx is a struct conf_fakefs): a malloc'd, NUL-terminated copy of the
 * file's text, or -ENOENT. */
int conf_fakefs_read(void *ctx, const char *path, char **data, size_t *len);

/* conf_env.glob: "literal" is returned as itself (like GLOB_NOMAGIC); "DIR/<star>SUFFIX"
 * gives the table's files directly in DIR that end in SUFFIX, in the table's order; a DIR
 * with no file at all is unreadable (-1). */
int conf_fakefs_glob(void *ctx, const char *pattern, char ***paths, size_t *n);

/* conf_env.resolve: "localhost" is 127.0.0.1, anything else fails (-1). */
int conf_fakefs_resolve(void *ctx, const char *name, struct addr *out);

#endif
