/* os/notify: sd_notify's datagram (see notify.h). */
#include "os/notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == NOTIFY_PATH_MAX,
               "NOTIFY_PATH_MAX is sun_path's size");

int notify_parse(struct notify *n, const char *value)
{
    memset(n, 0, sizeof *n);
    if (!value || !value[0])
        return 0;
    size_t len = strlen(value);
    if (value[0] == '@') {
        /* Abstract namespace: a leading NUL, then the name, no terminating NUL counted. */
        if (len > NOTIFY_PATH_MAX)
            return -EINVAL;
        n->path[0] = '\0';
        memcpy(n->path + 1, value + 1, len - 1);
        n->path_len = len;
    } else if (value[0] == '/') {
        if (len >= NOTIFY_PATH_MAX)
            return -EINVAL;
        memcpy(n->path, value, len + 1);
        n->path_len = len + 1;
    } else if (strchr(value, ':')) {
        return -EAFNOSUPPORT; /* "vsock:CID:PORT" and the like: not for a time daemon */
    } else {
        return -EINVAL;
    }
    n->enabled = 1;
    return 1;
}

int notify_init(struct notify *n)
{
    int r = notify_parse(n, getenv("NOTIFY_SOCKET"));
    (void)unsetenv("NOTIFY_SOCKET");
    return r;
}

int notify_send(const struct notify *n, const char *msg)
{
    if (!n->enabled)
        return 0;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, n->path, n->path_len);
    socklen_t sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n->path_len);

    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    size_t len = strlen(msg);
    ssize_t sent = sendto(fd, msg, len, MSG_NOSIGNAL, (const struct sockaddr *)&sa, sa_len);
    int r = sent < 0 ? -errno : (size_t)sent == len ? 0 : -EMSGSIZE;
    close(fd);
    return r;
}
