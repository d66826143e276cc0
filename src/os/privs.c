/* os/privs: setuid with kept capabilities (see privs.h). */
#include "os/privs.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os/files.h"

static int get_caps(struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3])
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    memset(data, 0, sizeof(struct __user_cap_data_struct) * _LINUX_CAPABILITY_U32S_3);
    return syscall(SYS_capget, &hdr, data) == 0 ? 0 : -errno;
}

int privs_have_cap(int cap)
{
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    if (cap < 0 || cap >= 32 * _LINUX_CAPABILITY_U32S_3 || get_caps(data) != 0)
        return 0;
    return (data[cap / 32].effective >> (cap % 32)) & 1u;
}

static int kept(unsigned keep, int cap)
{
    return (cap == CAP_SYS_TIME && (keep & PRIVS_KEEP_SYS_TIME)) ||
           (cap == CAP_NET_BIND_SERVICE && (keep & PRIVS_KEEP_NET_BIND));
}

/* Bounding set: what execve() could ever grant. Needs CAP_SETPCAP (root has it before the
 * drop); without it (started unprivileged) the set stays as the parent left it. The kernel's
 * last capability is found by PR_CAPBSET_READ failing (EINVAL), so newer kernels' extra
 * capabilities go too. */
static int cut_bounding_set(unsigned keep)
{
    if (!privs_have_cap(CAP_SETPCAP))
        return 0;
    for (int cap = 0; cap < 64; cap++) {
        int r = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);
        if (r < 0)
            break;
        if (r == 1 && !kept(keep, cap) && prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) != 0)
            return -errno;
    }
    return 0;
}

/* permitted = effective = keep & permitted now; inheritable empty. */
static int set_caps(unsigned keep)
{
    struct __user_cap_data_struct now[_LINUX_CAPABILITY_U32S_3];
    int r = get_caps(now);
    if (r < 0)
        return r;
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof data);
    const int caps[2] = {CAP_NET_BIND_SERVICE, CAP_SYS_TIME};
    for (int i = 0; i < 2; i++) {
        int c = caps[i];
        uint32_t bit = 1u << (c % 32);
        if (kept(keep, c) && (now[c / 32].permitted & bit)) {
            data[c / 32].effective |= bit;
            data[c / 32].permitted |= bit;
        }
    }
    return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -errno;
}

static int change_user(const char *user)
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw)
        return errno ? -errno : -ENOENT;
    if (pw->pw_uid == 0 && pw->pw_gid == 0)
        return 0;
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    /* Keep the permitted set across setuid(); set_caps() trims it afterwards. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return -errno;
    if (setgroups(0, NULL) != 0 && errno != EPERM)
        return -errno;
    if (setgid(gid) != 0 || setuid(uid) != 0)
        return -errno;
    (void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    return 0;
}

int privs_drop(const char *user, unsigned keep)
{
    /* The bounding set first: dropping from it needs CAP_SETPCAP, which goes with the rest. */
    int r = cut_bounding_set(keep);
    if (r < 0)
        return r;
    if (user && geteuid() == 0 && (r = change_user(user)) < 0)
        return r;
    /* Ambient capabilities survive execve for unprivileged programs: none (EINVAL on
     * kernels before 4.3, which have none). */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return -errno;
    if ((r = set_caps(keep)) < 0)
        return r;
    /* tempusd never executes anything; the seccomp filter (-F) sets this flag too. */
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : -errno;
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
