/* The real struct conf_env: files through stdio, glob(3) with chronyd's flags, names through
 * getaddrinfo(). Not pure; the parser (conf.c) never touches the system itself. */
#ifndef TEMPUS_DAEMON_CONF_FILES_H
#define TEMPUS_DAEMON_CONF_FILES_H

#include "daemon/conf.h"

/* Fills *env with the system's file reader, glob and resolver. family 4 or 6 restricts name
 * lookups (allow/deny by name) to that family, as tempusd -4 / -6; 0 = both. */
void conf_files_env(struct conf_env *env, int family);

#endif
