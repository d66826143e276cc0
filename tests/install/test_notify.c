/* os/notify: $NOTIFY_SOCKET parsing and the datagram, against sockets this test binds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "os/notify.h"

/* Binds a datagram socket at sun_path bytes (path_len of them) and returns it. */
static int bind_dgram(const char *path, size_t path_len)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, path_len);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len)),
                     0);
    return fd;
}

static void expect_datagram(int fd, const char *want)
{
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    assert_true(n >= 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void test_path_socket(void **state)
{
    (void)state;
    char dir[] = "/tmp/tempus-notify-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[NOTIFY_PATH_MAX];
    snprintf(path, sizeof path, "%s/notify", dir);
    int fd = bind_dgram(path, strlen(path) + 1);

    struct notify n;
    assert_int_equal(notify_parse(&n, path), 1);
    assert_int_equal(n.enabled, 1);
    assert_int_equal(notify_send(&n, "READY=1\nSTATUS=up"), 0);
    expect_datagram(fd, "READY=1\nSTATUS=up");
    assert_int_equal(notify_send(&n, "STOPPING=1"), 0);
    expect_datagram(fd, "STOPPING=1");

    close(fd);
    unlink(path);
    /* Nobody listening any more: the error comes back as a value. */
    assert_int_equal(notify_send(&n, "READY=1"), -ENOENT);
    rmdir(dir);
}

static void test_abstract_socket(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof name, "@tempus-test-notify-%ld", (long)getpid());
    char raw[64];
    raw[0] = '\0';
    memcpy(raw + 1, name + 1, strlen(name) - 1);
    int fd = bind_dgram(raw, strlen(name));

    struct notify n;
    assert_int_equal(notify_parse(&n, name), 1);
    assert_int_equal(n.path[0], '\0');
    assert_int_equal(n.path_len, strlen(name));
    assert_int_equal(notify_send(&n, "READY=1"), 0);
    expect_datagram(fd, "READY=1");
    close(fd);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    struct notify n;
    assert_int_equal(notify_parse(&n, NULL), 0);
    assert_int_equal(n.enabled, 0);
    assert_int_equal(notify_parse(&n, ""), 0);
    assert_int_equal(notify_parse(&n, "relative/path"), -EINVAL);
    assert_int_equal(n.enabled, 0);
    assert_int_equal(notify_parse(&n, "vsock:2:1234"), -EAFNOSUPPORT);
    assert_int_equal(n.enabled, 0);
    char longp[NOTIFY_PATH_MAX + 8];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    assert_int_equal(notify_parse(&n, longp), -EINVAL);
    /* The longest that fits: 107 bytes and the NUL. */
    longp[NOTIFY_PATH_MAX - 1] = '\0';
    assert_int_equal(notify_parse(&n, longp), 1);
    /* Disabled: nothing sent, no error. */
    assert_int_equal(notify_parse(&n, NULL), 0);
    assert_int_equal(notify_send(&n, "READY=1"), 0);
}

static void test_init_unsets(void **state)
{
    (void)state;
    struct notify n;
    assert_int_equal(setenv("NOTIFY_SOCKET", "/run/nowhere/notify", 1), 0);
    assert_int_equal(notify_init(&n), 1);
    assert_string_equal(n.path, "/run/nowhere/notify");
    assert_null(getenv("NOTIFY_SOCKET"));
    /* A second call sees nothing: the variable is gone. */
    assert_int_equal(notify_init(&n), 0);
    assert_int_equal(n.enabled, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_socket),
        cmocka_unit_test(test_abstract_socket),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_init_unsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
