/* tempusc commands: one table, command name -> request builder -> reply printer.
 *
 * Each command parses its words, sends its request(s) through the transport and prints
 * with the report printers, as chronyc does (spec §10: which exchanges each command makes;
 * chronyc-output-formats.md §1.5: status lines and exit codes).
 */
#ifndef TEMPUS_CLIENT_CMD_H
#define TEMPUS_CLIENT_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "client/out.h"
#include "client/transport.h"
#include "wire/cmdmon.h"

struct cmd_ctx {
    struct transport *t; /* borrowed */
    struct out out;
    bool numeric;      /* -n (and -c): no reverse DNS */
    bool source_names; /* -N: configured names via NTP_SOURCE_NAME */
    bool explain;      /* -E: say why sources are not selected (tempus extension) */
    bool end_dot;      /* -e: a line with "." after each command (chronyc 4.4+) */
    int family;        /* 0, 4 or 6 */
    bool quit;         /* set by quit/exit */
};

/* Runs one command line (words separated by blanks). Returns 0 on success, 1 on failure,
 * as chronyc's exit status. Blank lines and comments succeed and print nothing. */
int cmd_run_line(struct cmd_ctx *c, const char *line);

/* Builds the request of a state-changing command without sending it (for tests and for
 * checking against chronyc's encodings). Returns 0, or -1 for a syntax error or a command
 * that is not a single request. */
int cmd_build_request(struct cmd_ctx *c, const char *line, struct cmdmon_request *req);

/* chronyc-like command summary. */
void cmd_help(FILE *f);

/* NULL-terminated list of command words (for completion). */
const char *const *cmd_names(void);

#endif
