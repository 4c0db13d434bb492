/* Sockets: Listen forms and errors, real listen/connect/accept on loopback
 * (IPv4, IPv6, dual-stack, unix), address formatting, IP patterns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "core/sock.h"

static bool have_ipv6(void)
{
    rl_sockaddr_t a;
    rl_sockaddr_from_ip("::1", 0, &a);
    int fd = rl_sock_listen(&a, 1, NULL, 0);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static void fmt(const rl_sockaddr_t *a, char *out, bool port)
{
    rl_sockaddr_format(a, out, RL_SOCKADDR_STRLEN, port);
}

/* ---- Listen syntax ---- */

static void test_parse_listen_forms(void **state)
{
    (void)state;
    static const struct { const char *arg; int family; const char *ip; int port; } cases[] = {
        { "80", AF_INET6, "::", 80 },
        { "8080", AF_INET6, "::", 8080 },
        { "65535", AF_INET6, "::", 65535 },
        { "*:80", AF_INET6, "::", 80 },
        { "0.0.0.0:80", AF_INET, "0.0.0.0", 80 },
        { "127.0.0.1:8080", AF_INET, "127.0.0.1", 8080 },
        { "[::]:80", AF_INET6, "::", 80 },
        { "[::1]:8080", AF_INET6, "::1", 8080 },
        { "[2001:db8::1]:443", AF_INET6, "2001:db8::1", 443 },
        { "1", AF_INET6, "::", 1 },
    };
    char err[256], ip[RL_SOCKADDR_STRLEN];
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        rl_sockaddr_t a;
        if (rl_sock_parse_listen(cases[i].arg, &a, err, sizeof(err)) != RL_OK)
            fail_msg("Listen %s: %s", cases[i].arg, err);
        assert_int_equal(a.ss.ss_family, cases[i].family);
        fmt(&a, ip, false);
        assert_string_equal(ip, cases[i].ip);
        assert_int_equal(rl_sockaddr_port(&a), cases[i].port);
    }

    rl_sockaddr_t a;
    assert_int_equal(rl_sock_parse_listen("localhost:8080", &a, err, sizeof(err)), RL_OK);
    fmt(&a, ip, false);
    assert_true(strcmp(ip, "127.0.0.1") == 0 || strcmp(ip, "::1") == 0);
    assert_int_equal(rl_sockaddr_port(&a), 8080);
}

static void test_parse_listen_errors(void **state)
{
    (void)state;
    static const struct { const char *arg; const char *err; } cases[] = {
        { "", "Invalid address or port" },
        { "0", "Invalid address or port" },
        { "65536", "Invalid address or port" },
        { "80x", "Port must be specified" },
        { "127.0.0.1:0", "Invalid address or port" },
        { "127.0.0.1:99999", "Invalid address or port" },
        { "127.0.0.1:", "Invalid address or port" },
        { "127.0.0.1:8o", "Invalid address or port" },
        { ":80", "Invalid address or port" },
        { "::1:80", "Invalid address or port" },
        { "[::1", "Invalid address or port" },
        { "[::1]80", "Invalid address or port" },
        { "[]:80", "Invalid address or port" },
        { "[127.0.0.1]:80", "Invalid address or port" },
        { "127.0.0.1", "Port must be specified" },
        { "[::1]", "Port must be specified" },
        { "*", "Port must be specified" },
        { "[fe80::1%eth0]:80", "Scope id is not supported" },
        { "no-such-host.invalid:80", "Could not resolve host name no-such-host.invalid" },
    };
    char err[256];
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        rl_sockaddr_t a;
        err[0] = '\0';
        if (rl_sock_parse_listen(cases[i].arg, &a, err, sizeof(err)) != RL_ERROR)
            fail_msg("Listen \"%s\" accepted", cases[i].arg);
        if (strcmp(err, cases[i].err) != 0)
            fail_msg("Listen \"%s\": \"%s\", want \"%s\"", cases[i].arg, err, cases[i].err);
    }
}

/* ---- listen / connect / accept ---- */

static int accept_wait(int lfd, rl_sockaddr_t *peer)
{
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    assert_int_equal(poll(&p, 1, 2000), 1);
    return rl_sock_accept(lfd, peer);
}

/* Connects to <target>, accepts, checks both ends agree; returns the peer. */
static void roundtrip(int lfd, const rl_sockaddr_t *target, rl_sockaddr_t *peer)
{
    char err[256];
    int cfd = rl_sock_connect_tcp(target, err, sizeof(err));
    assert_true(cfd >= 0);
    int afd = accept_wait(lfd, peer);
    assert_true(afd >= 0);
    struct pollfd p = { .fd = cfd, .events = POLLOUT };
    assert_int_equal(poll(&p, 1, 2000), 1);
    assert_int_equal(rl_sock_connect_result(cfd), 0);

    rl_sockaddr_t cl;
    assert_int_equal(rl_sock_local_addr(cfd, &cl), RL_OK);
    assert_true(rl_sockaddr_ip_equal(&cl, peer));
    assert_int_equal(rl_sockaddr_port(&cl), rl_sockaddr_port(peer));
    rl_sockaddr_t pp;
    assert_int_equal(rl_sock_peer_addr(afd, &pp), RL_OK);
    assert_int_equal(rl_sockaddr_port(&pp), rl_sockaddr_port(peer));

    assert_int_equal(write(cfd, "ping", 4), 4);
    char buf[8];
    assert_int_equal(poll(&(struct pollfd){ .fd = afd, .events = POLLIN }, 1, 2000), 1);
    assert_int_equal(read(afd, buf, sizeof(buf)), 4);
    assert_int_equal(rl_sock_set_nodelay(afd), RL_OK);
    assert_int_equal(rl_sock_cork(afd, true), RL_OK);
    assert_int_equal(rl_sock_cork(afd, false), RL_OK);
    close(afd);
    close(cfd);
}

static void test_listen_accept_ipv4(void **state)
{
    (void)state;
    rl_sockaddr_t a, local, peer;
    char err[256], s[RL_SOCKADDR_STRLEN], want[RL_SOCKADDR_STRLEN];
    assert_int_equal(rl_sock_parse_listen("127.0.0.1:0", &a, err, sizeof(err)), RL_ERROR);
    assert_int_equal(rl_sockaddr_from_ip("127.0.0.1", 0, &a), RL_OK);
    int lfd = rl_sock_listen(&a, 16, err, sizeof(err));
    assert_true(lfd >= 0);
    assert_int_equal(rl_sock_accept(lfd, &peer), -1);   /* non-blocking */
    assert_int_equal(errno, EAGAIN);

    assert_int_equal(rl_sock_local_addr(lfd, &local), RL_OK);
    int port = rl_sockaddr_port(&local);
    assert_true(port > 0);
    fmt(&local, s, true);
    snprintf(want, sizeof(want), "127.0.0.1:%d", port);
    assert_string_equal(s, want);

    roundtrip(lfd, &local, &peer);
    assert_int_equal(peer.ss.ss_family, AF_INET);
    fmt(&peer, s, false);
    assert_string_equal(s, "127.0.0.1");

    /* the same address again: Apache's message */
    int again = rl_sock_listen(&local, 16, err, sizeof(err));
    assert_int_equal(again, -1);
    snprintf(want, sizeof(want), "could not bind to address 127.0.0.1:%d: Address already in use",
             port);
    assert_string_equal(err, want);
    close(lfd);
}

static void test_listen_ipv6_and_dual_stack(void **state)
{
    (void)state;
    if (!have_ipv6())
        skip();
    rl_sockaddr_t a, local, peer, v4;
    char err[256], s[RL_SOCKADDR_STRLEN], want[RL_SOCKADDR_STRLEN];

    /* [::1] */
    rl_sockaddr_from_ip("::1", 0, &a);
    int lfd = rl_sock_listen(&a, 16, err, sizeof(err));
    assert_true(lfd >= 0);
    rl_sock_local_addr(lfd, &local);
    roundtrip(lfd, &local, &peer);
    fmt(&peer, s, true);
    snprintf(want, sizeof(want), "[::1]:%d", rl_sockaddr_port(&peer));
    assert_string_equal(s, want);
    close(lfd);

    /* "Listen 0"-like wildcard: [::] takes IPv4 too, the peer is plain IPv4 */
    rl_sockaddr_from_ip("::", 0, &a);
    lfd = rl_sock_listen(&a, 16, err, sizeof(err));
    assert_true(lfd >= 0);
    rl_sock_local_addr(lfd, &local);
    rl_sockaddr_from_ip("127.0.0.1", rl_sockaddr_port(&local), &v4);
    roundtrip(lfd, &v4, &peer);
    assert_int_equal(peer.ss.ss_family, AF_INET);
    fmt(&peer, s, false);
    assert_string_equal(s, "127.0.0.1");

    /* 0.0.0.0 on the same port is covered, and could not be bound */
    rl_sockaddr_from_ip("0.0.0.0", rl_sockaddr_port(&local), &v4);
    assert_true(rl_sock_listen_covers(&local, &v4));
    assert_int_equal(rl_sock_listen(&v4, 16, err, sizeof(err)), -1);
    close(lfd);
}

static void test_listen_unix(void **state)
{
    (void)state;
    char dir[] = "/tmp/rl_test_sock.XXXXXX", path[128], err[256], s[RL_SOCKADDR_STRLEN];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/fpm.sock", dir);
    rl_sockaddr_t a;
    assert_int_equal(rl_sockaddr_unix(path, &a), RL_OK);
    fmt(&a, s, true);
    assert_true(strncmp(s, "unix:/tmp/rl_test_sock.", 23) == 0);
    assert_int_equal(rl_sockaddr_port(&a), -1);

    int lfd = rl_sock_listen(&a, 16, err, sizeof(err));
    assert_true(lfd >= 0);
    close(lfd);   /* leaves the socket file behind, as a crash would */
    lfd = rl_sock_listen(&a, 16, err, sizeof(err));
    assert_true(lfd >= 0);

    int cfd = rl_sock_connect_unix(path, err, sizeof(err));
    assert_true(cfd >= 0);
    int afd = accept_wait(lfd, NULL);
    assert_true(afd >= 0);
    assert_int_equal(rl_sock_connect_result(cfd), 0);
    close(afd);
    close(cfd);
    close(lfd);

    /* a regular file at the path is not removed */
    unlink(path);
    FILE *f = fopen(path, "w");
    fclose(f);
    assert_int_equal(rl_sock_listen(&a, 16, err, sizeof(err)), -1);
    unlink(path);
    rmdir(dir);

    assert_int_equal(rl_sock_connect_unix("/nonexistent/php.sock", err, sizeof(err)), -1);
    assert_string_equal(err, "could not connect to unix:/nonexistent/php.sock: "
                             "No such file or directory");
    char longpath[200];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    assert_int_equal(rl_sockaddr_unix(longpath, &a), RL_ERROR);
    assert_int_equal(rl_sock_connect_unix(longpath, err, sizeof(err)), -1);
}

static void test_connect_refused(void **state)
{
    (void)state;
    rl_sockaddr_t a, local;
    char err[256];
    rl_sockaddr_from_ip("127.0.0.1", 0, &a);
    int lfd = rl_sock_listen(&a, 1, err, sizeof(err));
    rl_sock_local_addr(lfd, &local);
    close(lfd);   /* nobody listens there now */

    int fd = rl_sock_connect_tcp(&local, err, sizeof(err));
    if (fd >= 0) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        assert_int_equal(poll(&p, 1, 2000), 1);
        assert_int_equal(rl_sock_connect_result(fd), ECONNREFUSED);
        close(fd);
    } else {
        assert_int_equal(errno, ECONNREFUSED);
        assert_non_null(strstr(err, "Connection refused"));
    }
}

/* ---- addresses ---- */

static void test_format_and_compare(void **state)
{
    (void)state;
    rl_sockaddr_t v4, mapped, v6, v4b, any4, any6;
    char s[RL_SOCKADDR_STRLEN];
    rl_sockaddr_from_ip("10.0.0.1", 4567, &v4);
    rl_sockaddr_from_ip("::ffff:10.0.0.1", 80, &mapped);
    rl_sockaddr_from_ip("2001:db8::1", 80, &v6);
    rl_sockaddr_from_ip("10.0.0.2", 4567, &v4b);
    rl_sockaddr_from_ip("0.0.0.0", 80, &any4);
    rl_sockaddr_from_ip("::", 80, &any6);
    assert_int_equal(rl_sockaddr_from_ip("10.0.0", 80, &v4b), RL_ERROR);
    assert_int_equal(rl_sockaddr_from_ip("10.0.0.1", 70000, &v4b), RL_ERROR);
    rl_sockaddr_from_ip("10.0.0.2", 4567, &v4b);

    fmt(&mapped, s, true);
    assert_string_equal(s, "10.0.0.1:80");
    fmt(&v6, s, false);
    assert_string_equal(s, "2001:db8::1");
    assert_int_equal(rl_sockaddr_format(&v4, s, 6, true), 5);
    assert_string_equal(s, "10.0.");
    assert_int_equal(rl_sockaddr_format(&v4, s, sizeof(s), true), strlen("10.0.0.1:4567"));

    assert_true(rl_sockaddr_ip_equal(&v4, &mapped));
    assert_false(rl_sockaddr_ip_equal(&v4, &v4b));
    assert_false(rl_sockaddr_ip_equal(&v4, &v6));
    assert_true(rl_sockaddr_is_any(&any4));
    assert_true(rl_sockaddr_is_any(&any6));
    assert_false(rl_sockaddr_is_any(&v4));

    assert_true(rl_sock_listen_covers(&any6, &any4));
    assert_true(rl_sock_listen_covers(&any4, &any4));
    assert_false(rl_sock_listen_covers(&any4, &any6));
    assert_false(rl_sock_listen_covers(&any6, &v4));

    rl_sockaddr_normalize(&mapped);
    assert_int_equal(mapped.ss.ss_family, AF_INET);
    assert_int_equal(mapped.len, sizeof(struct sockaddr_in));
    assert_int_equal(rl_sockaddr_port(&mapped), 80);
}

/* ---- IP patterns ---- */

static void test_ip_patterns(void **state)
{
    (void)state;
    static const struct { const char *pattern; const char *ip; bool match; } cases[] = {
        { "10.1.2.3", "10.1.2.3", true },
        { "10.1.2.3", "10.1.2.4", false },
        { "10.1", "10.1.200.3", true },
        { "10.1", "10.2.0.1", false },
        { "10.1.", "10.1.0.9", true },
        { "10", "10.255.0.1", true },
        { "10", "11.0.0.1", false },
        { "192.168.2", "192.168.2.77", true },
        { "010.1.2.3", "10.1.2.3", true },
        { "10.1.0.0/16", "10.1.5.5", true },
        { "10.1.0.0/16", "10.2.5.5", false },
        { "10.1.0.0/255.255.0.0", "10.1.5.5", true },
        { "10.1.0.0/255.255.0.0", "10.0.5.5", false },
        { "10.1.2.3/16", "10.1.9.9", true },
        { "10.1.2.3/32", "10.1.2.3", true },
        { "0.0.0.0/1", "127.0.0.1", true },
        { "10.1.0.0/16", "::ffff:10.1.7.7", true },
        { "10.1", "::ffff:10.1.7.7", true },
        { "10.1.0.0/16", "2001:db8::1", false },
        { "2001:db8::a00:20ff:fea7:ccea", "2001:db8::a00:20ff:fea7:ccea", true },
        { "2001:db8::a00:20ff:fea7:ccea", "2001:db8::a00:20ff:fea7:cceb", false },
        { "2001:db8::a00:20ff:fea7:ccea/64", "2001:db8::1", true },
        { "2001:db8::a00:20ff:fea7:ccea/64", "2001:db8:0:1::1", false },
        { "2001:db8::/32", "2001:db8:ffff::1", true },
        { "2001:db8::/32", "10.1.2.3", false },
        { "::1", "::1", true },
        { "::1", "127.0.0.1", false },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        rl_ip_pattern_t p;
        rl_sockaddr_t a;
        if (rl_ip_pattern_parse(cases[i].pattern, &p) != RL_OK)
            fail_msg("pattern %s refused", cases[i].pattern);
        assert_int_equal(rl_sockaddr_from_ip(cases[i].ip, 0, &a), RL_OK);
        if (rl_ip_pattern_match(&p, &a) != cases[i].match)
            fail_msg("pattern %s vs %s: want %d", cases[i].pattern, cases[i].ip, cases[i].match);
    }

    /* a unix peer never matches */
    rl_ip_pattern_t p;
    rl_sockaddr_t un;
    rl_ip_pattern_parse("10.1", &p);
    rl_sockaddr_unix("/tmp/x.sock", &un);
    assert_false(rl_ip_pattern_match(&p, &un));
}

static void test_ip_pattern_errors(void **state)
{
    (void)state;
    static const struct { const char *pattern; int rc; } cases[] = {
        { "::ffff:1.2.3.4", RL_ERROR },       /* write 1.2.3.4 */
        { "10.1.2.3/33", RL_ERROR },
        { "10.1.2.3/0", RL_ERROR },
        { "10.1.2.3/", RL_ERROR },
        { "10.1.2.3/255.0.255", RL_ERROR },
        { "10.1.2.3/x", RL_ERROR },
        { "2001:db8::/129", RL_ERROR },
        { "2001:db8::/255.255.0.0", RL_ERROR },
        { "10.1/16", RL_ERROR },              /* a mask needs a full address */
        { "1.2.3.4.5", RL_ERROR },
        { "256.1", RL_ERROR },
        { "10..1", RL_ERROR },
        { ".10", RL_ERROR },
        { "1111111111111111", RL_ERROR },
        { "2001:zz::1", RL_ERROR },
        { "example.com", RL_DECLINED },
        { "localhost", RL_DECLINED },
        { "host-10.example", RL_DECLINED },
        { "", RL_DECLINED },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        rl_ip_pattern_t p;
        int rc = rl_ip_pattern_parse(cases[i].pattern, &p);
        if (rc != cases[i].rc)
            fail_msg("pattern \"%s\": %d, want %d", cases[i].pattern, rc, cases[i].rc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_listen_forms),
        cmocka_unit_test(test_parse_listen_errors),
        cmocka_unit_test(test_listen_accept_ipv4),
        cmocka_unit_test(test_listen_ipv6_and_dual_stack),
        cmocka_unit_test(test_listen_unix),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_format_and_compare),
        cmocka_unit_test(test_ip_patterns),
        cmocka_unit_test(test_ip_pattern_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
