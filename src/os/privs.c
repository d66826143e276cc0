/* os/privs: setuid with kept capabilities (see privs.h). */
#include "os/privs.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os/files.h"

int privs_have_cap(int cap)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof data);
    if (cap < 0 || cap >= 32 * _LINUX_CAPABILITY_U32S_3)
        return 0;
    if (syscall(SYS_capget, &hdr, data) != 0)
        return 0;
    return (data[cap / 32].effective >> (cap % 32)) & 1u;
}

static int set_caps(int keep_sys_time)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof data);
    unsigned caps[2] = {CAP_NET_BIND_SERVICE, CAP_SYS_TIME};
    int ncaps = keep_sys_time ? 2 : 1;
    for (int i = 0; i < ncaps; i++) {
        data[caps[i] / 32].effective |= 1u << (caps[i] % 32);
        data[caps[i] / 32].permitted |= 1u << (caps[i] % 32);
    }
    return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -errno;
}

int privs_drop(const char *user, int keep_sys_time)
{
    if (geteuid() != 0)
        return 0;
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw)
        return errno ? -errno : -ENOENT;
    if (pw->pw_uid == 0 && pw->pw_gid == 0)
        return 0;
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    /* Keep the permitted set across setuid(), then trim it to what is still needed. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return -errno;
    if (setgroups(0, NULL) != 0 && errno != EPERM)
        return -errno;
    if (setgid(gid) != 0 || setuid(uid) != 0)
        return -errno;
    int r = set_caps(keep_sys_time);
    (void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    return r;
}

int privs_make_user_dir(const char *dir, mode_t mode, const char *user)
{
    struct stat st;
    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    int r = files_mkdir_p(dir, mode);
    if (r < 0)
        return r;
    if (geteuid() != 0 || !user)
        return 0;
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw)
        return errno ? -errno : -ENOENT;
    if (pw->pw_uid == 0 && pw->pw_gid == 0)
        return 0;
    return chown(dir, pw->pw_uid, pw->pw_gid) == 0 ? 0 : -errno;
}
