/* Privilege drop: after sockets are bound, become USER and keep only the capabilities the
 * daemon still needs (CAP_SYS_TIME to steer the clock, CAP_NET_BIND_SERVICE to re-bind
 * port 123). Raw capget/capset: no libcap dependency. */
#ifndef TEMPUS_OS_PRIVS_H
#define TEMPUS_OS_PRIVS_H

#include <sys/types.h>

/* Becomes user (name from the passwd database) keeping CAP_SYS_TIME when keep_sys_time, and
 * CAP_NET_BIND_SERVICE. Like chronyd, a user with uid 0 and gid 0 means "no drop", and a
 * process that is not root does nothing. 0, -ENOENT (no such user) or -errno. */
int privs_drop(const char *user, int keep_sys_time);

/* Creates dir (and its parents) with mode when it does not exist and, when running as root,
 * gives it to user (unless that is uid 0), as chronyd does its run directory: the daemon can
 * then keep its pid file and control socket there after dropping privileges. An existing
 * directory is left as it is. 0, or -errno (-ENOENT: no such user). */
int privs_make_user_dir(const char *dir, mode_t mode, const char *user);

/* 1 when capability cap (CAP_* from <linux/capability.h>) is effective, else 0. */
int privs_have_cap(int cap);

#endif
