/* relaisd's configuration: the walk into servers and sections, Apache's
 * section order, the per-directory merge and its cache, Options merging,
 * virtual host selection and the messages of configuration errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "httpd/config.h"
#include "httpd/conn.h"
#include "httpd/dircache.h"
#include "httpd/mod/core.h"

static char dir[] = "/tmp/rl-conf-XXXXXX";

#include "conf_fixture.h"

static unsigned list_len(const rl_section_t *s)
{
    unsigned n = 0;
    for (; s; s = s->next)
        n++;
    return n;
}

/* Plain <Directory> sections sort by depth, regex ones come last, in the
 * order of the file. */
static void test_directory_order(void **state)
{
    (void)state;
    rl_config_t *cf = load_ok(
        "<DirectoryMatch \"^/srv/(a|b)\">\n</DirectoryMatch>\n"
        "<Directory /srv/www/deep>\n</Directory>\n"
        "<Directory />\n</Directory>\n"
        "<Directory /srv>\n</Directory>\n");
    const rl_section_t *s = cf->main->dirs;
    assert_int_equal(list_len(s), 4);
    assert_string_equal(s->path, "/");
    assert_string_equal(s->next->path, "/srv");
    assert_string_equal(s->next->next->path, "/srv/www/deep");
    assert_non_null(s->next->next->next->re);
    rl_config_free(cf);
}

static rl_dirconf_t *merged(rl_config_t *cf, unsigned n, ...)
{
    rl_section_t *secs[8];
    va_list ap;
    va_start(ap, n);
    for (unsigned i = 0; i < n; i++) {
        unsigned want = va_arg(ap, unsigned);
        rl_section_t *s = cf->main->dirs;
        for (unsigned k = 0; k < want; k++)
            s = s->next;
        secs[i] = s;
    }
    va_end(ap);
    return rl_dircache_get(cf, cf->main, secs, n, cf->arena);
}

/* Options: an absolute list replaces, +/- adjust what is inherited. */
static void test_options_merge(void **state)
{
    (void)state;
    rl_config_t *cf = load_ok(
        "<Directory /a>\nOptions Indexes FollowSymLinks\n</Directory>\n"
        "<Directory /a/b>\nOptions -Indexes +ExecCGI\n</Directory>\n"
        "<Directory /a/b/c>\nOptions None\n</Directory>\n");
    assert_int_equal(rl_core_options(cf->main->lookup_defaults), RL_OPT_SYM_LINKS);
    assert_int_equal(rl_core_options(merged(cf, 1, 0)), RL_OPT_INDEXES | RL_OPT_SYM_LINKS);
    assert_int_equal(rl_core_options(merged(cf, 2, 0, 1)), RL_OPT_SYM_LINKS | RL_OPT_EXECCGI);
    assert_int_equal(rl_core_options(merged(cf, 3, 0, 1, 2)), 0);
    rl_config_free(cf);
}

/* The same combination of sections is merged once. */
static void test_dircache_reuses(void **state)
{
    (void)state;
    rl_config_t *cf = load_ok("<Directory /a>\nOptions Indexes\n</Directory>\n"
                              "<Directory /a/b>\nOptions +ExecCGI\n</Directory>\n");
    rl_dirconf_t *x = merged(cf, 2, 0, 1);
    size_t n = rl_dircache_size(cf);
    assert_ptr_equal(merged(cf, 2, 0, 1), x);
    assert_int_equal(rl_dircache_size(cf), n);
    assert_ptr_not_equal(merged(cf, 1, 1), x);
    assert_int_equal(rl_dircache_size(cf), n + 1);
    rl_config_free(cf);
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    char err[1024];
    assert_null(load("Listen 127.0.0.1:8080\nFrobnicate on\n", err, sizeof(err)));
    assert_non_null(strstr(err, "Syntax error on line 4 of "));
    assert_non_null(strstr(err, "Invalid command 'Frobnicate'"));
    assert_null(load("DocumentRoot /a /b\n", err, sizeof(err)));
    assert_non_null(strstr(err, "DocumentRoot takes one argument, Root directory of the document tree"));
    assert_null(load("Options Indexes +ExecCGI\n", err, sizeof(err)));
    assert_non_null(strstr(err, "Either all Options must start with + or -, or no Option may."));
    assert_null(load("<VirtualHost *:80>\n<VirtualHost *:81>\n</VirtualHost>\n</VirtualHost>\n",
                     err, sizeof(err)));
    assert_non_null(strstr(err, "line 4 of"));
    assert_null(load("LoadModule nonesuch_module x.so\n", err, sizeof(err)));
    assert_non_null(strstr(err, "nonesuch_module"));
    /* once a LoadModule is seen, modules not loaded do not count */
    assert_null(load("LoadModule mime_module m.so\nDirectoryIndex a.html\n", err, sizeof(err)));
    assert_non_null(strstr(err, "LoadModule dir_module"));
}

static rl_sockaddr_t addr(const char *spec)
{
    rl_sockaddr_t a;
    char err[128];
    assert_int_equal(rl_sock_parse_listen(spec, &a, err, sizeof(err)), RL_OK);
    return a;
}

static void test_vhost_selection(void **state)
{
    (void)state;
    rl_config_t *cf = load_ok(
        "ServerName main.test\n"
        "<VirtualHost *:80>\nServerName first.test\n</VirtualHost>\n"
        "<VirtualHost *:80>\nServerName b.test\nServerAlias *.b.test alt.test\n</VirtualHost>\n"
        "<VirtualHost 127.0.0.2:80>\nServerName ip.test\n</VirtualHost>\n");
    rl_sockaddr_t lo = addr("127.0.0.1:80"), lo2 = addr("127.0.0.2:80"), other = addr("127.0.0.1:81");
    assert_string_equal(rl_vhost_select(cf, &lo, "b.test")->hostname, "b.test");
    assert_string_equal(rl_vhost_select(cf, &lo, "x.b.test")->hostname, "b.test");
    assert_string_equal(rl_vhost_select(cf, &lo, "alt.test")->hostname, "b.test");
    assert_string_equal(rl_vhost_select(cf, &lo, "unknown.test")->hostname, "first.test");
    assert_string_equal(rl_vhost_select(cf, &lo, NULL)->hostname, "first.test");
    /* an exact address beats *:80, whatever the Host */
    assert_string_equal(rl_vhost_select(cf, &lo2, "b.test")->hostname, "ip.test");
    /* no vhost on this port: the main server */
    assert_ptr_equal(rl_vhost_select(cf, &other, "b.test"), cf->main);
    rl_config_free(cf);
}

/* A virtual host inherits what it does not set from the main server. */
static void test_vhost_inherits(void **state)
{
    (void)state;
    rl_config_t *cf = load_ok("Timeout 30\nKeepAliveTimeout 7\nServerAdmin root@x\n"
                              "<VirtualHost *:80>\nKeepAliveTimeout 2\n</VirtualHost>\n");
    rl_server_t *v = cf->main->next;
    assert_int_equal(v->timeout_ms, 30000);
    assert_int_equal(v->keepalive_timeout_ms, 2000);
    assert_int_equal(cf->main->keepalive_timeout_ms, 7000);
    assert_string_equal(v->admin, "root@x");
    assert_int_equal(v->limit_req_line, 8190);
    rl_config_free(cf);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directory_order),
        cmocka_unit_test(test_options_merge),
        cmocka_unit_test(test_dircache_reuses),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_vhost_selection),
        cmocka_unit_test(test_vhost_inherits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
