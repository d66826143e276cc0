/* os/privs: the drop in a forked child (the test process keeps its own privileges). Run as
 * root: user change to nobody and the capability sets, bounding set, ambient set and
 * no_new_privs read back with capget/prctl. Keeping CAP_SYS_TIME here only holds the
 * capability: nothing in this test touches the clock. Skips when not root or without a user
 * nobody. */
#include <errno.h>
#include <linux/capability.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "os/privs.h"

/* The child's findings, one bit each (0 = all as expected). */
enum {
    BAD_DROP = 1,
    BAD_UID = 2,
    BAD_EFF = 4,
    BAD_PRM = 8,
    BAD_INH = 16,
    BAD_BND = 32,
    BAD_AMB = 64,
    BAD_NNP = 128,
};

static uint64_t cap_bits(unsigned keep)
{
    uint64_t m = 0;
    if (keep & PRIVS_KEEP_SYS_TIME)
        m |= 1ull << CAP_SYS_TIME;
    if (keep & PRIVS_KEEP_NET_BIND)
        m |= 1ull << CAP_NET_BIND_SERVICE;
    return m;
}

/* In a child: privs_drop(user, keep), then every set checked against keep. */
static int child_drop(const char *user, unsigned keep, uid_t want_uid)
{
    pid_t pid = fork();
    if (pid == 0) {
        int bad = 0;
        if (privs_drop(user, keep) != 0)
            _exit(BAD_DROP);
        if (getuid() != want_uid || geteuid() != want_uid)
            bad |= BAD_UID;
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
        memset(d, 0, sizeof d);
        if (syscall(SYS_capget, &hdr, d) != 0)
            _exit(BAD_DROP);
        uint64_t eff = d[0].effective | (uint64_t)d[1].effective << 32;
        uint64_t prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
        uint64_t inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
        if (eff != cap_bits(keep))
            bad |= BAD_EFF;
        if (prm != cap_bits(keep))
            bad |= BAD_PRM;
        if (inh != 0)
            bad |= BAD_INH;
        for (int cap = 0; cap < 64; cap++) {
            int r = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);
            if (r < 0)
                break;
            if (r != (int)((cap_bits(keep) >> cap) & 1))
                bad |= BAD_BND;
            if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)cap, 0, 0) > 0)
                bad |= BAD_AMB;
        }
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
            bad |= BAD_NNP;
        _exit(bad);
    }
    assert_true(pid > 0);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static uid_t nobody_uid(void)
{
    struct passwd *pw = getpwnam("nobody");
    return pw ? pw->pw_uid : (uid_t)-1;
}

static int skip_unless_root_and_nobody(void)
{
    if (geteuid() != 0 || nobody_uid() == (uid_t)-1) {
        skip();
        return 1;
    }
    return 0;
}

static void test_drop_to_nobody_keeping_sys_time(void **state)
{
    (void)state;
    if (skip_unless_root_and_nobody())
        return;
    assert_int_equal(child_drop("nobody", PRIVS_KEEP_SYS_TIME, nobody_uid()), 0);
}

static void test_drop_to_nobody_keeping_nothing(void **state)
{
    (void)state;
    if (skip_unless_root_and_nobody())
        return;
    assert_int_equal(child_drop("nobody", 0, nobody_uid()), 0);
}

static void test_drop_keeping_both(void **state)
{
    (void)state;
    if (skip_unless_root_and_nobody())
        return;
    assert_int_equal(child_drop("nobody", PRIVS_KEEP_SYS_TIME | PRIVS_KEEP_NET_BIND, nobody_uid()),
                     0);
}

/* No user change (user NULL, or a uid-0 user): still uid 0, but with the capabilities trimmed
 * all the same. */
static void test_stay_root_trimmed(void **state)
{
    (void)state;
    if (skip_unless_root_and_nobody())
        return;
    assert_int_equal(child_drop(NULL, PRIVS_KEEP_NET_BIND, 0), 0);
    assert_int_equal(child_drop("root", 0, 0), 0);
}

/* An unknown user is an error and the child has not changed (the caller exits). */
static void test_unknown_user(void **state)
{
    (void)state;
    if (skip_unless_root_and_nobody())
        return;
    assert_int_equal(child_drop("no-such-user-tempus-test", 0, 0), BAD_DROP);
}

/* After the drop, lost privileges stay lost: setuid(0) fails, a capability not kept cannot be
 * raised again. */
static void test_no_way_back(void **state)
{
    (void)state;
    if (skip_unless_root_and_nobody())
        return;
    pid_t pid = fork();
    if (pid == 0) {
        if (privs_drop("nobody", PRIVS_KEEP_SYS_TIME) != 0)
            _exit(1);
        if (setuid(0) == 0)
            _exit(2);
        if (privs_have_cap(CAP_NET_BIND_SERVICE) || !privs_have_cap(CAP_SYS_TIME))
            _exit(3);
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
        memset(d, 0, sizeof d);
        d[0].effective = d[0].permitted = 1u << CAP_SYS_ADMIN;
        if (syscall(SYS_capset, &hdr, d) == 0)
            _exit(4);
        _exit(0);
    }
    assert_true(pid > 0);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_to_nobody_keeping_sys_time),
        cmocka_unit_test(test_drop_to_nobody_keeping_nothing),
        cmocka_unit_test(test_drop_keeping_both),
        cmocka_unit_test(test_stay_root_trimmed),
        cmocka_unit_test(test_unknown_user),
        cmocka_unit_test(test_no_way_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
