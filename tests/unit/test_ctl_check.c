/* Tests for ctl/check (relaisctl configtest's cross-check): the mode-bit
 * decision, the handler directives that name a unix socket, and path
 * normalisation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>
#include "ctl/check.h"

static void test_may(void **state)
{
    (void)state;
    rl_ctl_cred_t www = { .uid = 33, .gid = 33, .groups = { 33, 1001 }, .ngroups = 2 };
    rl_ctl_cred_t root = { .uid = 0, .gid = 0 };
    /* a socket 0660 root:root: not for www-data; root passes */
    assert_false(rl_ctl_may(&www, 0660, 0, 0, 2));
    assert_true(rl_ctl_may(&root, 0660, 0, 0, 2));
    /* owner, group, supplementary group, other */
    assert_true(rl_ctl_may(&www, 0600, 33, 0, 2));
    assert_true(rl_ctl_may(&www, 0660, 0, 33, 2));
    assert_true(rl_ctl_may(&www, 0660, 0, 1001, 6));
    assert_false(rl_ctl_may(&www, 0606, 0, 1001, 2));  /* the group class applies, not other */
    assert_true(rl_ctl_may(&www, 0666, 0, 0, 2));
    assert_false(rl_ctl_may(&www, 0066, 33, 0, 2));    /* the owner class applies */
    /* directories: search (1), read and search (5) */
    assert_true(rl_ctl_may(&www, 0711, 0, 0, 1));
    assert_false(rl_ctl_may(&www, 0711, 0, 0, 5));
    assert_false(rl_ctl_may(&www, 0700, 0, 0, 1));
}

static void check_sock(const char *name, int argc, char **argv, const char *expected)
{
    char out[PATH_MAX];
    bool ok = rl_ctl_handler_socket(name, argc, argv, "/var/lib/apache2/fastcgi", out,
                                    sizeof(out));
    if (expected == NULL) {
        assert_false(ok);
        return;
    }
    assert_true(ok);
    assert_string_equal(out, expected);
}

static void test_handler_socket(void **state)
{
    (void)state;
    char *set[] = { "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost" };
    check_sock("SetHandler", 1, set, "/run/php/php8.2-fpm.sock");
    check_sock("sethandler", 1, set, "/run/php/php8.2-fpm.sock");
    char *set_upper[] = { "PROXY:UNIX:/x.sock|fcgi://localhost/" };
    check_sock("SetHandler", 1, set_upper, "/x.sock");
    char *tcp[] = { "proxy:fcgi://127.0.0.1:9000" };
    check_sock("SetHandler", 1, tcp, NULL);
    char *other[] = { "server-status" };
    check_sock("SetHandler", 1, other, NULL);
    char *pass[] = { "^/(.*\\.php)$", "unix:/run/php/a.sock|fcgi://localhost/srv/a/$1" };
    check_sock("ProxyPassMatch", 2, pass, "/run/php/a.sock");
    char *loc[] = { "unix:/run/php/b.sock|fcgi://localhost/", "timeout=30" };
    check_sock("ProxyPass", 2, loc, "/run/php/b.sock");
    char *http[] = { "/app", "http://127.0.0.1:8080/" };
    check_sock("ProxyPass", 2, http, NULL);
    char *ext[] = { "/usr/lib/cgi-bin/php-fcgi", "-socket", "/run/php/c.sock", "-pass-header",
                    "Authorization" };
    check_sock("FastCgiExternalServer", 5, ext, "/run/php/c.sock");
    char *rel[] = { "/usr/lib/cgi-bin/php-fcgi", "-socket", "php.sock" };
    check_sock("FastCgiExternalServer", 3, rel, "/var/lib/apache2/fastcgi/php.sock");
    char *host[] = { "/usr/lib/cgi-bin/php-fcgi", "-host", "127.0.0.1:9000" };
    check_sock("FastCgiExternalServer", 3, host, NULL);
    check_sock("DocumentRoot", 1, set, NULL);
}

static void check_norm(const char *in, const char *expected)
{
    char out[PATH_MAX];
    rl_ctl_normalize(in, out, sizeof(out));
    assert_string_equal(out, expected);
}

static void test_normalize(void **state)
{
    (void)state;
    check_norm("/run/php/x.sock", "/run/php/x.sock");
    check_norm("//run/./php//x.sock", "/run/php/x.sock");
    check_norm("/var/run/../run/php/", "/var/run/php");
    check_norm("/", "/");
    check_norm("/..", "/");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_may),
        cmocka_unit_test(test_handler_socket),
        cmocka_unit_test(test_normalize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
