/* os/seccomp: each filter level in a forked child. What tempusd does after start (clock
 * reads, UDP sockets, files written and renamed, a resolver thread) must survive level 1 and
 * 2; new processes, programs and raw sockets must kill the child (level 1/2) or raise a
 * catchable SIGSYS (level -1/-2). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "os/seccomp.h"

/* The child's exit code when SIGSYS was caught (level -1/-2 trap). */
#define TRAPPED 42

static void on_sigsys(int sig)
{
    (void)sig;
    _exit(TRAPPED);
}

static void *thread_fn(void *arg)
{
    return arg;
}

/* What a running tempusd does; returns 0 when everything worked. */
static int daemon_like_work(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) || clock_gettime(CLOCK_MONOTONIC, &ts))
        return 1;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return 2;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) ||
        getsockname(fd, (struct sockaddr *)&sin, &len))
        return 3;
    char buf[48] = {0x23};
    if (sendto(fd, buf, sizeof buf, 0, (struct sockaddr *)&sin, sizeof sin) != sizeof buf ||
        recv(fd, buf, sizeof buf, 0) != sizeof buf)
        return 4;
    close(fd);
    if (getrandom(buf, 8, 0) != 8)
        return 5;
    /* getaddrinfo_a's helper thread */
    pthread_t t;
    void *out = NULL;
    if (pthread_create(&t, NULL, thread_fn, buf) || pthread_join(t, &out) || out != buf)
        return 6;
    /* the drift file's way: write a temporary file, fsync, rename, then remove it */
    char tmp[64], path[64];
    snprintf(tmp, sizeof tmp, "/tmp/tempus-seccomp-%d.tmp", (int)getpid());
    snprintf(path, sizeof path, "/tmp/tempus-seccomp-%d", (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "1.0 2.0\n") < 0 || fflush(f) || fsync(fileno(f)) || fclose(f))
        return 7;
    if (rename(tmp, path) || unlink(path))
        return 8;
    /* the filter is really on */
    f = fopen("/proc/self/status", "r");
    if (!f)
        return 9;
    char line[256];
    int mode = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Seccomp: %d", &mode) == 1)
            break;
    fclose(f);
    return mode == 2 ? 0 : 10;
}

enum forbidden { DO_NOTHING, DO_FORK, DO_EXEC, DO_RAW_SOCKET, DO_PTRACE, DO_FORK_IN_OLD_THREAD };

static void do_forbidden(enum forbidden what)
{
    switch (what) {
    case DO_NOTHING:
        break;
    case DO_FORK: {
        /* a plain clone without CLONE_THREAD, as fork() makes */
        long pid = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
        if (pid == 0)
            _exit(0);
        break;
    }
    case DO_EXEC: {
        char *argv[] = {"/bin/true", NULL};
        execv("/bin/true", argv);
        break;
    }
    case DO_RAW_SOCKET:
        (void)socket(AF_PACKET, SOCK_RAW, 0);
        break;
    case DO_PTRACE:
        (void)syscall(SYS_ptrace, 0L, 0L, 0L, 0L);
        break;
    case DO_FORK_IN_OLD_THREAD:
        break; /* done by old_thread_fn */
    }
}

/* A thread started before the filter (as a resolver thread from start-up) that makes a
 * forbidden call once told to through the pipe: the filter must cover it too (TSYNC). */
static int go_pipe[2];

static void *old_thread_fn(void *arg)
{
    char c;
    (void)arg;
    if (read(go_pipe[0], &c, 1) == 1)
        do_forbidden(DO_FORK);
    return NULL;
}

/* Runs the work, then the forbidden call, in a child under level; returns its wait status. */
static int run_child(int level, enum forbidden what)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        (void)setrlimit(RLIMIT_CORE, &no_core);
        signal(SIGSYS, on_sigsys);
        pthread_t old;
        if (what == DO_FORK_IN_OLD_THREAD &&
            (pipe(go_pipe) || pthread_create(&old, NULL, old_thread_fn, NULL)))
            _exit(99);
        if (seccomp_apply(level) != 0)
            _exit(100);
        int r = daemon_like_work();
        if (r)
            _exit(100 + r);
        do_forbidden(what);
        if (what == DO_FORK_IN_OLD_THREAD) {
            if (write(go_pipe[1], "x", 1) != 1)
                _exit(98);
            pthread_join(old, NULL);
        }
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void assert_exit(int status, int code)
{
    if (!WIFEXITED(status))
        fail_msg("child killed by signal %d, expected exit %d", WTERMSIG(status), code);
    assert_int_equal(WEXITSTATUS(status), code);
}

static void assert_killed(int status)
{
    if (!WIFSIGNALED(status))
        fail_msg("child exited %d, expected to be killed", WEXITSTATUS(status));
    /* SECCOMP_RET_KILL_PROCESS terminates as if by an uncatchable SIGSYS */
    assert_int_equal(WTERMSIG(status), SIGSYS);
}

static int need_seccomp(void **state)
{
    (void)state;
    if (!seccomp_available())
        skip();
    return 0;
}

static void test_levels_checked(void **state)
{
    (void)state;
    assert_int_equal(seccomp_apply(3), -EINVAL);
    assert_int_equal(seccomp_apply(-3), -EINVAL);
    assert_int_equal(seccomp_apply(0), 0);
    if (!seccomp_available()) {
        assert_int_equal(seccomp_apply(1), -ENOSYS);
        assert_int_equal(seccomp_apply(-2), -ENOSYS);
    }
}

static void test_allow_list_lets_daemon_work(void **state)
{
    need_seccomp(state);
    assert_exit(run_child(1, DO_NOTHING), 0);
    assert_exit(run_child(-1, DO_NOTHING), 0);
}

static void test_allow_list_kills(void **state)
{
    need_seccomp(state);
    assert_killed(run_child(1, DO_FORK));
    assert_killed(run_child(1, DO_EXEC));
    assert_killed(run_child(1, DO_RAW_SOCKET));
    assert_killed(run_child(1, DO_PTRACE));
    assert_killed(run_child(1, DO_FORK_IN_OLD_THREAD));
}

static void test_allow_list_traps_when_negative(void **state)
{
    need_seccomp(state);
    assert_exit(run_child(-1, DO_FORK), TRAPPED);
    assert_exit(run_child(-1, DO_RAW_SOCKET), TRAPPED);
}

static void test_block_list(void **state)
{
    need_seccomp(state);
    assert_exit(run_child(2, DO_NOTHING), 0);
    /* a raw socket is not on the block-list: level 2 lets it through (it may fail) */
    assert_exit(run_child(2, DO_RAW_SOCKET), 0);
    assert_killed(run_child(2, DO_FORK));
    assert_killed(run_child(2, DO_EXEC));
    assert_killed(run_child(2, DO_PTRACE));
    assert_exit(run_child(-2, DO_EXEC), TRAPPED);
}

int main(void)
{
    /* valgrind runs the program on its own syscall layer: a filter would police valgrind's
     * calls, not ours (scripts/check-valgrind.sh sets this). */
    if (getenv("TEMPUS_VALGRIND"))
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_checked),
        cmocka_unit_test(test_allow_list_lets_daemon_work),
        cmocka_unit_test(test_allow_list_kills),
        cmocka_unit_test(test_allow_list_traps_when_negative),
        cmocka_unit_test(test_block_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
