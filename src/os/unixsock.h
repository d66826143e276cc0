/* The Unix datagram control socket of tempusd (chrony's cmdmon over AF_UNIX).
 *
 * Access control is the directory: unixsock_open() creates the socket's directory with mode
 * 0700 owned by the daemon's user if it is missing, and refuses an existing one that grants
 * anything to others or belongs to another user (chronyd: "Disabled command socket"). A stale
 * file at the path is unlinked before bind(). Per ARCHITECTURE.md: plain SOCK_DGRAM made
 * non-blocking with fcntl; recvfrom/sendto.
 */
#ifndef TEMPUS_OS_UNIXSOCK_H
#define TEMPUS_OS_UNIXSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Longest socket path (sizeof sun_path - 1 on Linux). */
#define UNIXSOCK_PATH_MAX 107

/* The sender of a datagram: its bound path ("" for an unbound socket, which cannot be
 * answered). */
struct unixsock_peer {
    char path[UNIXSOCK_PATH_MAX + 1];
};

/* Creates path's directory if missing (mode 0700, chowned to uid/gid when they are not
 * (uid_t)-1), checks an existing one (no "other" bits, owner uid), unlinks a stale file
 * at path, binds a non-blocking datagram socket there. Returns the fd, or -errno: -EPERM for
 * a directory that fails the check, -ENAMETOOLONG for a long path. */
int unixsock_open(const char *path, uid_t uid, gid_t gid);

/* Receives one datagram (at most cap bytes; a longer one is truncated and reported with its
 * real length so the caller can drop it). Returns the length, -EAGAIN when none is queued,
 * or another -errno. */
int unixsock_recv(int fd, uint8_t *buf, size_t cap, struct unixsock_peer *from);

/* Sends len bytes to the peer's path. 0 or -errno (-ENOTCONN for an unbound peer). */
int unixsock_send(int fd, const uint8_t *buf, size_t len, const struct unixsock_peer *to);

/* Closes fd and unlinks path (path may be NULL); negative fds are ignored. */
void unixsock_close(int fd, const char *path);

#endif
