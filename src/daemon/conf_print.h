/* Printing a parsed configuration: tempusd -p. */
#ifndef TEMPUS_DAEMON_CONF_PRINT_H
#define TEMPUS_DAEMON_CONF_PRINT_H

#include <stdio.h>

#include "daemon/conf.h"

/* Prints what chronyd -p prints: every directive line as read, whitespace-normalized, one
 * per line (included files' lines in place; include and confdir lines themselves left out;
 * .sources files not read). Returns 0 or -1 on a write error. */
int conf_print_lines(const struct conf *c, FILE *out);

/* Prints the error as chronyd does on a fatal config error: "Fatal error : <msg>". */
void conf_print_error(const struct conf_error *err, FILE *out);

#endif
