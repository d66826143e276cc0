/* os/files: atomic writes, pid files, directories (see files.h). */
#include "os/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync()s the directory holding path, so that the rename itself is durable. */
static void sync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir)
            return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int files_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int r = write_all(fd, data, len);
    if (r == 0 && fsync(fd) != 0)
        r = -errno;
    if (close(fd) != 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) != 0)
        r = -errno;
    if (r != 0) {
        (void)unlink(tmp);
        return r;
    }
    sync_parent(path);
    return 0;
}

int files_remove(const char *path)
{
    return unlink(path) == 0 ? 0 : -errno;
}

int files_remove_suffix(const char *dir, const char *suffix)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return -errno;
    size_t sl = strlen(suffix);
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl <= sl || strcmp(de->d_name + nl - sl, suffix) != 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (unlinkat(dirfd(dp), de->d_name, 0) == 0)
            removed++;
    }
    closedir(dp);
    return removed;
}

int files_read(const char *path, char *buf, size_t cap)
{
    if (cap == 0)
        return -EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t used = 0;
    while (used < cap - 1) {
        ssize_t n = read(fd, buf + used, cap - 1 - used);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            close(fd);
            return e;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    buf[used] = '\0';
    return (int)used;
}

int files_mkdir_p(const char *dir, mode_t mode)
{
    char p[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0)
        return -EINVAL;
    if (n >= sizeof p)
        return -ENAMETOOLONG;
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            return -errno;
        p[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int files_pidfile_owner(const char *path)
{
    char buf[32];
    if (files_read(path, buf, sizeof buf) <= 0)
        return 0;
    char *end;
    long pid = strtol(buf, &end, 10);
    if (end == buf || pid <= 0 || pid > INT_MAX || pid == (long)getpid())
        return 0;
    /* Alive if signal 0 can be delivered, or exists but belongs to someone else. */
    if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
        return (int)pid;
    return 0;
}

int files_pidfile_claim(const char *path, int *other_pid)
{
    int owner = files_pidfile_owner(path);
    if (other_pid)
        *other_pid = owner;
    if (owner > 0)
        return -EEXIST;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    return files_write_atomic(path, buf, (size_t)n);
}

void files_pidfile_release(const char *path)
{
    char buf[32];
    if (files_read(path, buf, sizeof buf) <= 0)
        return;
    if (strtol(buf, NULL, 10) == (long)getpid())
        (void)unlink(path);
}
