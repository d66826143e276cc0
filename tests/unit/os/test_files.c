/* os/files: atomic replacement survives kill -9 mid-write; pid files refuse a live second
 * owner and take over a stale one; mkdir -p. os/privs: the drop keeps CAP_SYS_TIME only. */
#include <errno.h>
#include <linux/capability.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "os/files.h"
#include "os/privs.h"
#include "os/proc.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/tempus-test-files-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_write_and_read(void **state)
{
    (void)state;
    char path[128], buf[64];
    snprintf(path, sizeof path, "%s/drift", dir);
    assert_int_equal(files_read(path, buf, sizeof buf), -ENOENT);
    assert_int_equal(files_write_atomic(path, "one\n", 4), 0);
    assert_int_equal(files_read(path, buf, sizeof buf), 4);
    assert_string_equal(buf, "one\n");
    assert_int_equal(files_write_atomic(path, "second\n", 7), 0);
    assert_int_equal(files_read(path, buf, sizeof buf), 7);
    assert_string_equal(buf, "second\n");
    /* no temp file left behind */
    char tmp[140];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1);
    /* a failed write leaves the old file alone */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/no/such/dir/drift", dir);
    assert_true(files_write_atomic(bad, "x", 1) < 0);
}

/* A child rewrites the file as fast as it can, alternating two contents of different
 * lengths; it is killed with SIGKILL at random moments. Whatever is on disk must be exactly
 * one of the two. */
static void test_kill9_leaves_old_or_new(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/kill9", dir);
    static char a[3000], b[5000];
    memset(a, 'A', sizeof a);
    memset(b, 'B', sizeof b);
    assert_int_equal(files_write_atomic(path, a, sizeof a), 0);
    for (int round = 0; round < 10; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            for (int i = 0;; i++)
                (void)files_write_atomic(path, i % 2 ? a : b, i % 2 ? sizeof a : sizeof b);
        }
        struct timespec ts = {0, 1000000L + 700000L * round};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        static char buf[6000];
        int n = files_read(path, buf, sizeof buf);
        assert_true(n == (int)sizeof a || n == (int)sizeof b);
        for (int i = 0; i < n; i++)
            assert_int_equal(buf[i], n == (int)sizeof a ? 'A' : 'B');
    }
}

static void test_pidfile(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/tempusd.pid", dir);
    int other = -1;
    assert_int_equal(files_pidfile_claim(path, &other), 0);
    assert_int_equal(other, 0);
    /* a second process is refused and told who owns it */
    pid_t pid = fork();
    if (pid == 0) {
        int o = 0;
        int r = files_pidfile_claim(path, &o);
        _exit(r == -EEXIST && o == (int)getppid() ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    files_pidfile_release(path);
    assert_int_equal(access(path, F_OK), -1);

    /* a stale file (its process is gone) is taken over */
    pid = fork();
    if (pid == 0)
        _exit(0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", (int)pid);
    assert_int_equal(files_write_atomic(path, buf, (size_t)n), 0);
    assert_int_equal(files_pidfile_owner(path), 0);
    assert_int_equal(files_pidfile_claim(path, NULL), 0);
    files_pidfile_release(path);
}

static void test_mkdir_p(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    assert_int_equal(files_mkdir_p(path, 0750), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(files_mkdir_p(path, 0750), 0);
    char file[140];
    snprintf(file, sizeof file, "%s/f", path);
    assert_int_equal(files_write_atomic(file, "x", 1), 0);
    assert_int_equal(files_mkdir_p(file, 0750), -ENOTDIR);
}

static void test_privs_drop_keeps_sys_time(void **state)
{
    (void)state;
    struct passwd *pw = getpwnam("nobody");
    if (geteuid() != 0 || !pw || !privs_have_cap(CAP_SETUID)) {
        skip();
        return;
    }
    uid_t nobody = pw->pw_uid;
    pid_t pid = fork();
    if (pid == 0) {
        int r = privs_drop("nobody", 1);
        int ok = r == 0 && getuid() == nobody && geteuid() == nobody &&
                 privs_have_cap(CAP_SYS_TIME) && !privs_have_cap(CAP_SYS_ADMIN) &&
                 !privs_have_cap(CAP_SETUID);
        _exit(ok ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(privs_drop("no-such-user-tempus", 1), -ENOENT);
    /* root:root means no drop (chronyd's rule) */
    assert_int_equal(privs_drop("root", 1), 0);
    assert_int_equal(geteuid(), 0);
}

/* Runs proc_detach() in a child whose stderr is a pipe; the detached grandchild reports
 * msg (NULL = success). Returns the foreground process's exit status; *out gets its stderr. */
static int detach_and_report(const char *msg, char *out, size_t cap)
{
    int err[2];
    assert_int_equal(pipe(err), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(err[0]);
        dup2(err[1], 2);
        int fd = proc_detach();
        if (fd < 0)
            _exit(3);
        /* the detached process: stdio now points at /dev/null */
        proc_detach_done(fd, msg);
        _exit(0);
    }
    close(err[1]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    ssize_t n = read(err[0], out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
    close(err[0]);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_detach_reports_outcome(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(detach_and_report(NULL, out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(detach_and_report("Fatal error : Could not open x", out, sizeof out), 1);
    assert_string_equal(out, "Fatal error : Could not open x\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_and_read),
        cmocka_unit_test(test_kill9_leaves_old_or_new),
        cmocka_unit_test(test_pidfile),
        cmocka_unit_test(test_mkdir_p),
        cmocka_unit_test(test_privs_drop_keeps_sys_time),
        cmocka_unit_test(test_detach_reports_outcome),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
