/* The service manager's readiness protocol (sd_notify(3)) without libsystemd: one AF_UNIX
 * datagram of "KEY=value" lines ("READY=1", "STOPPING=1", "STATUS=text") sent to the socket
 * named by $NOTIFY_SOCKET, a path ("/run/systemd/notify") or an abstract name ("@name").
 * Nothing is sent when the variable is not set, so tempusd runs the same outside systemd. */
#ifndef TEMPUS_OS_NOTIFY_H
#define TEMPUS_OS_NOTIFY_H

#include <stddef.h>

/* sizeof(sockaddr_un.sun_path) on Linux. */
#define NOTIFY_PATH_MAX 108

/* Where the messages go; filled by notify_init, then read only. */
struct notify {
    int enabled;                /* 1: path holds a usable address */
    char path[NOTIFY_PATH_MAX]; /* sun_path bytes; abstract names start with '\0' */
    size_t path_len;            /* bytes of path used (no trailing NUL for abstract names) */
};

/* Reads $NOTIFY_SOCKET into n and unsets the variable, as sd_notify does, so that processes
 * tempusd might start do not talk to the service manager in its name. Returns 1 when set and
 * usable, 0 when not set (n disabled), -EINVAL for a name that is neither an absolute path nor
 * "@name" or is too long, -EAFNOSUPPORT for other kinds ("vsock:..."); n is disabled then. */
int notify_init(struct notify *n);

/* Parses a $NOTIFY_SOCKET value (without reading the environment): same results as
 * notify_init. value may be NULL (not set). */
int notify_parse(struct notify *n, const char *value);

/* Sends msg (newline-separated "KEY=value" lines, e.g. "READY=1\nSTATUS=Running") as one
 * datagram. Returns 0 when sent or when n is disabled, else -errno (the daemon carries on:
 * a lost notification is the service manager's timeout to handle). */
int notify_send(const struct notify *n, const char *msg);

#endif
