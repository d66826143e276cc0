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

/* 1 when name is a numeric IPv4/IPv6 address (resolve_name() then never blocks). */
int resolve_is_numeric(const char *name);

/* An asynchronous resolution (getaddrinfo_a). */
struct resolve_req;

/* Starts resolving name; NULL when it cannot be started (ENOMEM, EAGAIN). */
struct resolve_req *resolve_start(const char *name, int family_filter, unsigned port);

/* -EINPROGRESS while running; then as resolve_name(): the number of addresses copied to out
 * (>= 1), -ENOENT, -EAGAIN (temporary failure: try again later) or -EINVAL. */
int resolve_poll(struct resolve_req *r, struct addr *out, size_t max);

/* Cancels (if still running; waits for the lookup to let go of r) and frees. NULL: no-op. */
void resolve_free(struct resolve_req *r);

#endif
