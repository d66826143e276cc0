/* os/udp: SO_REUSEPORT groups steered by source address (the server workers' sockets), on
 * loopback only. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "os/loop.h"
#include "os/udp.h"

#define MAX_SOCKS 4

static struct addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    struct addr x = {.family = ADDR_INET4, .port = port};
    x.bytes[0] = a;
    x.bytes[1] = b;
    x.bytes[2] = c;
    x.bytes[3] = d;
    return x;
}

/* n sockets on one loopback address and port (the first picks the port). Returns the port. */
static int open_group(const struct addr *where, int n, int *fds)
{
    struct addr local = *where;
    local.port = 0;
    for (int i = 0; i < n; i++) {
        fds[i] = udp_open(&local, UDP_OPEN_REUSEADDR | UDP_OPEN_REUSEPORT);
        if (fds[i] < 0)
            return fds[i];
        if (i == 0)
            local.port = (uint16_t)udp_local_port(fds[0]);
    }
    return local.port;
}

/* Receives everything queued on the n sockets within ~2 s until `want` datagrams arrived;
 * got[k] = the socket datagram k (its first payload byte) arrived on. */
static int collect(const int *fds, int n, int want, int *got)
{
    int seen = 0;
    int64_t end = loop_mono_ns() + 2000000000LL;
    while (seen < want && loop_mono_ns() < end) {
        int ready = udp_wait_readable(fds, n, 100);
        assert_true(ready >= 0);
        for (int i = 0; i < n; i++) {
            if (!(ready & (1 << i)))
                continue;
            uint8_t buf[64];
            struct udp_rx rx;
            int len;
            while ((len = udp_recv(fds[i], buf, sizeof buf, &rx)) > 0) {
                got[buf[0]] = i;
                seen++;
            }
        }
    }
    return seen;
}

/* 200 source addresses 127.1.x.y, each from two source ports, into groups of 2, 3 and 4
 * sockets: every datagram lands on socket udp_steer_index(source, n), both ports of an
 * address on the same socket, and every socket gets some. */
static void test_steer_v4(void **state)
{
    (void)state;
    struct addr server = v4(127, 0, 0, 1, 0);
    for (int n = 2; n <= MAX_SOCKS; n++) {
        int fds[MAX_SOCKS];
        int port = open_group(&server, n, fds);
        assert_true(port > 0);
        assert_int_equal(udp_steer_by_address(fds[0], n, 0), 0);
        server.port = (uint16_t)port;
        enum { N_SRC = 100 };
        int got[2 * N_SRC], per_sock[MAX_SOCKS] = {0};
        memset(got, -1, sizeof got);
        for (int k = 0; k < 2 * N_SRC; k++) {
            int i = k % N_SRC; /* k and k + N_SRC: one address, two ports */
            struct addr src = v4(127, 1, (uint8_t)(i / 50), (uint8_t)(1 + i % 50 * 5), 0);
            int c = udp_open(&src, 0);
            assert_true(c >= 0);
            uint8_t msg[48] = {(uint8_t)k};
            assert_int_equal(udp_send(c, msg, sizeof msg, &server, NULL, 0), 0);
            udp_close(c);
        }
        assert_int_equal(collect(fds, n, 2 * N_SRC, got), 2 * N_SRC);
        for (int k = 0; k < 2 * N_SRC; k++) {
            int i = k % N_SRC;
            struct addr src = v4(127, 1, (uint8_t)(i / 50), (uint8_t)(1 + i % 50 * 5), 0);
            assert_int_equal(got[k], udp_steer_index(&src, n));
            assert_int_equal(got[k], got[i]);
            per_sock[got[k]]++;
        }
        for (int i = 0; i < n; i++) {
            print_message("n=%d socket %d: %d datagrams\n", n, i, per_sock[i]);
            assert_true(per_sock[i] > 0);
            udp_close(fds[i]);
        }
    }
}

/* IPv6 (::1, the only loopback address): the datagrams land where udp_steer_index says. */
static void test_steer_v6(void **state)
{
    (void)state;
    struct addr server = {.family = ADDR_INET6};
    server.bytes[15] = 1;
    int fds[3];
    int port = open_group(&server, 3, fds);
    if (port == -EADDRNOTAVAIL || port == -EAFNOSUPPORT)
        skip(); /* no IPv6 loopback here */
    assert_true(port > 0);
    assert_int_equal(udp_steer_by_address(fds[0], 3, 1), 0);
    server.port = (uint16_t)port;
    int got[20];
    memset(got, -1, sizeof got);
    for (int k = 0; k < 20; k++) {
        struct addr src = server;
        src.port = 0;
        int c = udp_open(&src, 0);
        assert_true(c >= 0);
        uint8_t msg[48] = {(uint8_t)k};
        assert_int_equal(udp_send(c, msg, sizeof msg, &server, NULL, 0), 0);
        udp_close(c);
    }
    assert_int_equal(collect(fds, 3, 20, got), 20);
    for (int k = 0; k < 20; k++)
        assert_int_equal(got[k], udp_steer_index(&server, 3));
    for (int i = 0; i < 3; i++)
        udp_close(fds[i]);
}

/* The C mirror of the program: stable, in range, spread. */
static void test_steer_index(void **state)
{
    (void)state;
    int count[3] = {0};
    for (int i = 0; i < 3000; i++) {
        struct addr a = v4(10, (uint8_t)(i >> 8), (uint8_t)i, 7, 123);
        int k = udp_steer_index(&a, 3);
        assert_true(k >= 0 && k < 3);
        a.port = 9999; /* the port does not matter */
        assert_int_equal(udp_steer_index(&a, 3), k);
        count[k]++;
    }
    for (int k = 0; k < 3; k++)
        assert_true(count[k] > 800 && count[k] < 1200);
    struct addr a = v4(127, 0, 0, 1, 0);
    assert_int_equal(udp_steer_index(&a, 1), 0);
    assert_int_equal(udp_steer_by_address(-1, 0, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steer_v4),
        cmocka_unit_test(test_steer_v6),
        cmocka_unit_test(test_steer_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
