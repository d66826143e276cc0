/* os/unixsock: the Unix datagram control socket (see unixsock.h). */
#include "os/unixsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int make_dir(const char *path, uid_t uid, gid_t gid)
{
    char dir[UNIXSOCK_PATH_MAX + 1];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0; /* relative name in the working directory: nothing to check */
    if (slash == dir)
        return -EPERM; /* a socket directly in / cannot be protected by its directory */
    *slash = '\0';
    if (mkdir(dir, 0700) == 0) {
        if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(dir, uid, gid) != 0)
            return -errno;
        return 0;
    }
    if (errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(dir, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    uid_t want = uid != (uid_t)-1 ? uid : geteuid();
    /* chronyd's rule for an existing directory: nothing for "others", owned by the daemon's
     * user. An existing directory is never changed (it may be shared, like /tmp). */
    if ((st.st_mode & 0007) != 0 || st.st_uid != want)
        return -EPERM;
    return 0;
}

static int fill_sun(const char *path, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0)
        return -ENOTCONN;
    if (n >= sizeof sun->sun_path)
        return -ENAMETOOLONG;
    memcpy(sun->sun_path, path, n);
    return 0;
}

int unixsock_open(const char *path, uid_t uid, gid_t gid)
{
    struct sockaddr_un sun;
    int r = fill_sun(path, &sun);
    if (r < 0)
        return r == -ENOTCONN ? -EINVAL : r;
    r = make_dir(path, uid, gid);
    if (r < 0)
        return r;
    if (unlink(path) != 0 && errno != ENOENT)
        return -errno;
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0)
        return -errno;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        r = -errno;
        close(fd);
        return r;
    }
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) != 0) {
        /* Not fatal: the directory is the access control. */
    }
    return fd;
}

int unixsock_recv(int fd, uint8_t *buf, size_t cap, struct unixsock_peer *from)
{
    struct sockaddr_un sun;
    socklen_t slen = sizeof sun;
    memset(&sun, 0, sizeof sun);
    ssize_t n = recvfrom(fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&sun, &slen);
    if (n < 0)
        return -errno;
    from->path[0] = '\0';
    size_t off = offsetof(struct sockaddr_un, sun_path);
    if (slen > off && sun.sun_family == AF_UNIX && sun.sun_path[0] != '\0') {
        size_t plen = (size_t)slen - off;
        if (plen > UNIXSOCK_PATH_MAX)
            plen = UNIXSOCK_PATH_MAX;
        memcpy(from->path, sun.sun_path, plen);
        from->path[plen] = '\0';
    }
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int unixsock_send(int fd, const uint8_t *buf, size_t len, const struct unixsock_peer *to)
{
    struct sockaddr_un sun;
    int r = fill_sun(to->path, &sun);
    if (r < 0)
        return r;
    if (sendto(fd, buf, len, 0, (struct sockaddr *)&sun, sizeof sun) < 0)
        return -errno;
    return 0;
}

void unixsock_close(int fd, const char *path)
{
    if (fd < 0)
        return;
    close(fd);
    if (path && path[0])
        (void)unlink(path);
}
