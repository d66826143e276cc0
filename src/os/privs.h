/* Privilege drop: after sockets are bound, become USER and keep only the capabilities the
 * daemon still needs (CAP_SYS_TIME to steer the clock, CAP_NET_BIND_SERVICE to re-bind
 * port 123). Raw capget/capset: no libcap dependency. */
#ifndef TEMPUS_OS_PRIVS_H
#define TEMPUS_OS_PRIVS_H

/* Becomes user (name from the passwd database) keeping CAP_SYS_TIME when keep_sys_time, and
 * CAP_NET_BIND_SERVICE. Like chronyd, a user with uid 0 and gid 0 means "no drop", and a
 * process that is not root does nothing. 0, -ENOENT (no such user) or -errno. */
int privs_drop(const char *user, int keep_sys_time);

/* 1 when capability cap (CAP_* from <linux/capability.h>) is effective, else 0. */
int privs_have_cap(int cap);

#endif
