/* Privilege drop: after sockets are bound, become USER and keep only the capabilities the
 * daemon still needs (CAP_SYS_TIME to steer the clock, CAP_NET_BIND_SERVICE only when a port
 * below 1024 may still have to be bound at run time). Raw capget/capset/prctl: no libcap
 * dependency. */
#ifndef TEMPUS_OS_PRIVS_H
#define TEMPUS_OS_PRIVS_H

#include <sys/types.h>

/* Capabilities privs_drop() may keep (a bit mask). */
#define PRIVS_KEEP_SYS_TIME 1u /* CAP_SYS_TIME: the process steers the clock */
#define PRIVS_KEEP_NET_BIND 2u /* CAP_NET_BIND_SERVICE: a port < 1024 opened later */

/* Becomes user (name from the passwd database; NULL = stay the same user), then confines the
 * process whatever its user: the bounding set is cut to the kept capabilities (when the
 * process may change it), permitted = effective = keep (those of them it has), inheritable
 * and ambient emptied, no_new_privs set (nothing can regain privileges through execve). Like
 * chronyd, a user with uid 0 and gid 0 means "no user change", and a process that is not
 * root changes no user. 0, -ENOENT (no such user) or -errno. */
int privs_drop(const char *user, unsigned keep);

/* Creates dir (and its parents) with mode when it does not exist and, when running as root,
 * gives it to user (unless that is uid 0), as chronyd does its run directory: the daemon can
 * then keep its pid file and control socket there after dropping privileges. An existing
 * directory is left as it is. 0, or -errno (-ENOENT: no such user). */
int privs_make_user_dir(const char *dir, mode_t mode, const char *user);

/* 1 when capability cap (CAP_* from <linux/capability.h>) is effective, else 0. */
int privs_have_cap(int cap);

#endif
