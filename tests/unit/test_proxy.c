/* mod_proxy for FastCGI (mod/proxy.c): proxy_fcgi_canon's filenames,
 * ProxyPass translation, workers and their parameters, the <Proxy> walk,
 * and the FastCGI environment's last changes (ProxyFCGIBackendType,
 * ProxyFCGISetEnvIf). Requests are made by hand, without a connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "httpd/config.h"
#include "httpd/dircache.h"
#include "httpd/mod/proxy.h"

extern rl_module_t rl_proxy_module;

static char dir[] = "/tmp/rl-proxy-XXXXXX";

#include "conf_fixture.h"

/* No connection to name in log lines: the error log is off. */
static rl_config_t *load_quiet(const char *text)
{
    rl_config_t *cf = load_ok(text);
    cf->main->error_log = NULL;
    return cf;
}

static rl_request_t *request(rl_config_t *cf, const char *uri)
{
    rl_request_t *r = rl_arena_calloc(cf->arena, sizeof(*r));
    r->arena = cf->arena;
    r->cf = cf;
    r->server = cf->main;
    r->dir = cf->main->lookup_defaults;
    r->method = "GET";
    r->uri = r->unparsed_uri = uri;
    return r;
}

static void test_canon(void **state)
{
    static const char *const cases[][2] = {
        { "fcgi://LocalHost:8000/srv/a b.php", "proxy:fcgi://localhost/srv/a%20b.php" },
        { "unix:/x.sock|fcgi://localhost/srv/%.php", "proxy:fcgi://localhost/srv/%25.php" },
        { "fcgi://127.0.0.1:9000/a/~b;c=d+e,f", "proxy:fcgi://127.0.0.1:9000/a/~b;c=d+e,f" },
        { "fcgi://[::1]:9000/x", "proxy:fcgi://[::1]:9000/x" },
        { "fcgi://localhost", "proxy:fcgi://localhost/" },
        { "fcgi://user:pw@Host/x", "proxy:fcgi://host/x" },
        { "fcgi://h/\"\xfc?#", "proxy:fcgi://h/%22%FC%3F%23" },
        { "unix:/x.sock|fcgi:", "proxy:fcgi://localhost/" },
        { "fcgi://h:0/x", NULL }, { "fcgi://h:abc/", NULL }, { "fcgi://9000/", NULL },
        { "fcgi:///x", NULL }, { "http://h/", NULL }, { "unix:/x.sock|nocolon", NULL },
    };
    (void)state;
    rl_arena_t *a = rl_arena_create(4096);
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        const char *got = rl_proxy_fcgi_canon(a, cases[i][0]);
        if (cases[i][1] == NULL)
            assert_null(got);
        else
            assert_string_equal(got, cases[i][1]);
    }
    rl_arena_destroy(a);
}

static const char *translated(rl_config_t *cf, const char *uri, int *rc)
{
    rl_request_t *r = request(cf, uri);
    *rc = rl_proxy_module.translate(r);
    if (*rc != RL_OK)
        return NULL;
    assert_string_equal(r->handler, "proxy-server");
    return rl_arena_printf(cf->arena, "%s %s", r->filename, rl_proxy_url(r));
}

static void test_translate(void **state)
{
    (void)state;
    rl_config_t *cf = load_quiet(
        "ProxyPass /app/static/ !\n"
        "ProxyPass /app/ \"unix:/run/a.sock|fcgi://localhost/srv/app/\"\n"
        "ProxyPass /app/ fcgi://never/\n"
        "ProxyPassMatch \"^/m/(.*\\.php)$\" fcgi://127.0.0.1:9000/srv/m/$1\n"
        "ProxyPassMatch \"^/n/.*\\.php$\" fcgi://localhost/srv/n\n"
        "ProxyPass /raw/ fcgi://localhost/raw/ nocanon\n"
        "<Location /loc/>\nProxyPass fcgi://localhost/srv/loc/\n</Location>\n"
        "<Location /loc/off/>\nProxyPass !\n</Location>\n");
    int rc;
    assert_string_equal(translated(cf, "/app//a b.php", &rc),
                        "proxy:fcgi://localhost/srv/app/a%20b.php "
                        "unix:/run/a.sock|fcgi://localhost/srv/app/a b.php");
    assert_string_equal(translated(cf, "/m/x.php", &rc),
                        "proxy:fcgi://127.0.0.1:9000/srv/m/x.php fcgi://127.0.0.1:9000/srv/m/x.php");
    assert_string_equal(translated(cf, "/n/k.php", &rc),
                        "proxy:fcgi://localhost/srv/n/n/k.php fcgi://localhost/srv/n/n/k.php");
    assert_string_equal(translated(cf, "/loc/l.php", &rc),
                        "proxy:fcgi://localhost/srv/loc/l.php fcgi://localhost/srv/loc/l.php");
    rl_request_t *r = request(cf, "/raw/a b");
    r->unparsed_uri = "/raw/a%20b";
    assert_int_equal(rl_proxy_module.translate(r), RL_OK);
    assert_string_equal(r->filename, "proxy:fcgi://localhost/raw/a%20b");
    assert_null(translated(cf, "/app/static/x.css", &rc));
    assert_int_equal(rc, RL_DECLINED);
    assert_null(translated(cf, "/loc/off/x.php", &rc));
    assert_int_equal(rc, RL_DECLINED);
    assert_null(translated(cf, "/application", &rc));   /* a segment boundary */
    assert_int_equal(rc, RL_DECLINED);
    rl_config_free(cf);
}

static void test_workers(void **state)
{
    (void)state;
    rl_config_t *cf = load_quiet(
        "Timeout 30\nProxyTimeout 7\n"
        "<Proxy \"fcgi://one/\">\nProxySet timeout=1 connectiontimeout=500ms\n</Proxy>\n"
        "<Proxy \"unix:/run/s2.sock|fcgi://two/\" timeout=2 enablereuse=on>\n</Proxy>\n"
        "ProxyPass /p/ \"unix:/run/s1.sock|fcgi://three/srv/\" flushpackets=auto flushwait=0 "
        "ttl=30 max=4 disablereuse=on connectiontimeout=3\n"
        "ProxyPassMatch ^/m/(.*)$ fcgi://127.0.0.1:$1/x timeout=9\n");
    rl_request_t *r = request(cf, "/x.php");
    r->handler = "proxy:unix:/run/s1.sock|fcgi://One";
    r->filename = "/var/www/x.php";
    /* <Proxy "fcgi://one/">'s parameters, the URL's socket */
    rl_proxy_worker_t *w = rl_proxy_worker_for(r, rl_proxy_url(r));
    assert_non_null(w);
    assert_string_equal(w->name, "fcgi://one/");
    assert_string_equal(w->addr, "unix:/run/s1.sock");
    assert_true(w->implicit);
    assert_int_equal(w->timeout_ms, 1000);
    assert_int_equal(rl_proxy_connect_timeout(r, w), 500);
    assert_ptr_equal(rl_proxy_worker_for(r, rl_proxy_url(r)), w);
    /* a worker defined with a socket keeps it */
    r->handler = "proxy:unix:/run/other.sock|fcgi://two";
    w = rl_proxy_worker_for(r, rl_proxy_url(r));
    assert_string_equal(w->addr, "unix:/run/s2.sock");
    assert_false(w->implicit);
    assert_int_equal(w->timeout_ms, 2000);
    assert_int_equal(w->reuse, 1);
    /* ProxyPass's parameters */
    r->handler = "proxy:unix:/run/s1.sock|fcgi://three/srv/";
    w = rl_proxy_worker_for(r, rl_proxy_url(r));
    assert_string_equal(w->name, "fcgi://three/srv/");
    assert_int_equal(w->flush, 2);
    assert_int_equal(w->flushwait_ms, 10);
    assert_int_equal(w->ttl_ms, 30000);
    assert_int_equal(w->max, 4);
    assert_int_equal(w->reuse, 0);
    assert_int_equal(rl_proxy_timeout(r, w), 7000);
    assert_int_equal(rl_proxy_connect_timeout(r, w), 3000);
    /* nobody's: an implicit worker with the defaults */
    r->handler = "proxy:fcgi://127.0.0.2:9001";
    w = rl_proxy_worker_for(r, rl_proxy_url(r));
    assert_string_equal(w->name, "fcgi://127.0.0.2:9001");
    assert_string_equal(w->addr, "127.0.0.2:9001");
    assert_int_equal(w->timeout_ms, RL_UNSET);
    /* a ProxyPassMatch worker with the port from the regex */
    r->handler = "proxy:fcgi://127.0.0.1:9123/x/y.php";
    w = rl_proxy_worker_for(r, rl_proxy_url(r));
    assert_string_equal(w->addr, "127.0.0.1:9123");
    assert_int_equal(w->timeout_ms, 9000);
    r->handler = "proxy:http://h/";
    assert_null(rl_proxy_worker_for(r, rl_proxy_url(r)));
    rl_config_free(cf);
}

static void test_walk(void **state)
{
    (void)state;
    rl_config_t *cf = load_quiet(
        "<Proxy \"fcgi://localhost/srv/a/\">\n</Proxy>\n"
        "<Proxy \"unix:/run/x.sock|fcgi://localhost/\">\n</Proxy>\n"
        "<ProxyMatch \"^fcgi://localhost/srv/(?<Part>[a-z]+)/\">\n</ProxyMatch>\n"
        "<Proxy \"fcgi://localhost/*/b/*\">\n</Proxy>\n");
    rl_request_t *r = request(cf, "/a/x.php");
    rl_section_t *secs[8];
    rl_hdrs_set(r->arena, &r->notes, "proxy-url", "unix:/run/x.sock|fcgi://localhost/srv/a/x");
    assert_int_equal(rl_proxy_walk(r, secs, 8), 2);
    assert_string_equal(secs[0]->path, "fcgi://localhost/srv/a/");
    assert_string_equal(rl_hdrs_get(&r->env, "MATCH_PART"), "a");
    rl_hdrs_set(r->arena, &r->notes, "proxy-url", "fcgi://localhost/srv/b/x");
    assert_int_equal(rl_proxy_walk(r, secs, 8), 2);
    assert_string_equal(secs[1]->path, "fcgi://localhost/*/b/*");
    assert_string_equal(rl_hdrs_get(&r->env, "MATCH_PART"), "b");
    rl_config_free(cf);
}

static const char *env_names(rl_request_t *r)
{
    const char *s = "";
    for (rl_hdr_t *h = r->env.head; h; h = h->next)
        s = rl_arena_printf(r->arena, "%s%s%s", s, *s ? " " : "", h->name);
    return s;
}

static void test_fixup_env(void **state)
{
    (void)state;
    rl_config_t *cf = load_quiet(
        "<Location />\n"
        "ProxyFCGIBackendType GENERIC\n"
        "ProxyFCGISetEnvIf \"reqenv('QUERY_STRING') =~ /a=(\\d+)/\" A \"got $1 %{reqenv:B}\"\n"
        "ProxyFCGISetEnvIf true !B\n"
        "ProxyFCGISetEnvIf false C never\n"
        "ProxyFCGISetEnvIf true D\n"
        "ProxyFCGISetEnvIf true SCRIPT_FILENAME \"%{reqenv:SCRIPT_FILENAME}!\"\n"
        "</Location>\n");
    rl_request_t *r = request(cf, "/x.php");
    r->args = "a=12";
    r->dir = rl_dircache_get(cf, cf->main, &cf->main->locations, 1, cf->arena);
    rl_hdrs_add(r->arena, &r->env, "B", "bee");
    rl_hdrs_add(r->arena, &r->env, "SCRIPT_FILENAME", "proxy:fcgi://localhost/srv/x.php?a=12");
    rl_hdrs_add(r->arena, &r->env, "QUERY_STRING", "a=12");
    rl_proxy_fcgi_fixup_env(r);
    assert_string_equal(env_names(r), "SCRIPT_FILENAME QUERY_STRING A D");
    assert_string_equal(rl_hdrs_get(&r->env, "SCRIPT_FILENAME"), "/srv/x.php!");
    assert_string_equal(rl_hdrs_get(&r->env, "A"), "got 12 bee");
    assert_string_equal(rl_hdrs_get(&r->env, "D"), "");
    rl_config_free(cf);
}

static void test_errors(void **state)
{
    static const char *const cases[][2] = {
        { "ProxyPass /x http://h/", "relais only proxies to FastCGI backends" },
        { "ProxyPass /x fcgi://h/ nope=1", "ProxyPass unknown Worker parameter" },
        { "ProxyPass /x fcgi://h/ route=12345678901234567890123456789012345678901234567890"
          "12345678901234", "ProxyPass Route length must be < 64 characters" },
        { "ProxySet fcgi://h/ timeout=1", "ProxySet can not find 'fcgi://h/' Worker." },
        { "<Proxy fcgi://h/>\n<If true>\n</If>\n</Proxy>", "<If> inside <Proxy> is not supported" },
        { "ProxyFCGISetEnvIf \"true\" \"\" x", "ProxyFCGISetEnvIf takes two or three arguments" },
    };
    (void)state;
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        char err[1024] = "";
        assert_null(load(cases[i][0], err, sizeof(err)));
        if (strstr(err, cases[i][1]) == NULL)
            fail_msg("%s: %s", cases[i][0], err);
    }
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
        cmocka_unit_test(test_canon),
        cmocka_unit_test(test_translate),
        cmocka_unit_test(test_workers),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_fixup_env),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
