/* Name resolution with getaddrinfo().
 *
 * getaddrinfo() blocks, so the daemon calls it only where no time keeping is under way: at
 * start-up, before the first poll is sent, and never from the packet path or a timer that
 * the engine depends on (docs/design/daemon.md). Numeric addresses never touch DNS.
 */
#ifndef TEMPUS_OS_RESOLVE_H
#define TEMPUS_OS_RESOLVE_H

#include <stddef.h>

#include "base/addr.h"

/* family_filter: 0 any, 4 IPv4 only, 6 IPv6 only (tempusd -4 / -6). */

/* Resolves name (host name or numeric address) to at most max addresses, each with port.
 * Duplicates are dropped. Returns how many were found (>= 1), or -ENOENT (no address),
 * -EAGAIN (temporary failure: try later), -EINVAL (bad name). */
int resolve_name(const char *name, int family_filter, unsigned port, struct addr *out, size_t max);

#endif
