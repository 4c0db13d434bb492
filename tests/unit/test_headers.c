/* mod_headers (mod/headers.c, included for its statics) and mod_expires:
 * value formats, edit and merge, the order of the lists on a handler's
 * response and on relais' own errors, and Expires/Cache-Control. Requests
 * are made by hand, without a connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "http/date.h"
#include "httpd/mod/headers.c"

static char dir[] = "/tmp/rl-headers-XXXXXX";

#include "conf_fixture.h"

static rl_request_t *request(rl_config_t *cf, rl_arena_t *a)
{
    rl_request_t *r = rl_arena_calloc(a, sizeof(*r));
    r->arena = a;
    r->cf = cf;
    r->server = cf->main;
    r->dir = cf->main->lookup_defaults;
    r->status = 200;
    r->method = "GET";
    r->uri = "/x";
    clock_gettime(CLOCK_REALTIME, &r->start);
    return r;
}

static const char *value(rl_request_t *r, const char *fmt)
{
    tag_t *tags = NULL;
    assert_null(parse_format(r->arena, fmt, &tags));
    entry_t e = { .tags = tags };
    return entry_value(r, &e);
}

static void test_formats(void **state)
{
    (void)state;
    rl_arena_t *a = rl_arena_create(4096);
    rl_config_t *cf = load_ok("");
    rl_request_t *r = request(cf, a);
    rl_hdrs_add(a, &r->env, "FOO", "a\nb");
    assert_string_equal(value(r, "x %{FOO}e %{NOPE}e 100%% %"), "x a b (null) 100% %");
    assert_string_equal(value(r, "a\\tb\\nc\\\\d\\qe"), "a\tb\nc\\d\\qe");
    assert_string_equal(value(r, "%{HTTPS}s"), "(null)");
    assert_true(strncmp(value(r, "%t"), "t=", 2) == 0);
    assert_true(strncmp(value(r, "%D"), "D=", 2) == 0);
    assert_true(strncmp(value(r, "%l"), "l=", 2) == 0);
    tag_t *t;
    assert_string_equal(parse_format(a, "%{x}q", &t), "Unrecognized header format %q");
    rl_config_free(cf);
    rl_arena_destroy(a);
}

static const char *edit(rl_request_t *r, action_t action, const char *re, const char *repl,
                        const char *v)
{
    entry_t e = { .action = action, .re = compile_re(r->arena, re) };
    assert_non_null(e.re);
    assert_null(parse_format(r->arena, repl, &e.tags));
    return edit_value(r, &e, v);
}

static void test_edit(void **state)
{
    (void)state;
    rl_arena_t *a = rl_arena_create(4096);
    rl_config_t *cf = load_ok("");
    rl_request_t *r = request(cf, a);
    assert_string_equal(edit(r, H_EDIT, "a", "b", "banana"), "bbnana");
    assert_string_equal(edit(r, H_EDIT_ALL, "a", "b", "banana"), "bbnbnb");
    assert_string_equal(edit(r, H_EDIT, "x", "y", "banana"), "banana");
    assert_string_equal(edit(r, H_EDIT, "^(b)(a)", "$2$1&\\$1", "banana"), "ab&$1nana");
    assert_string_equal(edit(r, H_EDIT_ALL, "x*", "-", "ab"), "-a-b-");
    assert_string_equal(edit(r, H_EDIT_ALL, "$", ";", "ab"), "ab;");
    rl_config_free(cf);
    rl_arena_destroy(a);
}

static void test_merge_tokens(void **state)
{
    (void)state;
    assert_true(has_token("a, b,c", "b"));
    assert_true(has_token("a, b,c", "c"));
    assert_false(has_token("a, bc", "b"));
    assert_true(has_token("x=\"1,2\", y", "x=\"1,2\""));
    assert_false(has_token("x=\"1,2\", y", "2\""));
    assert_true(has_token("b, c", "b, c") == false);
}

/* The lists by path: a handler's response (the mark is there) gets both,
 * relais' own errors only "always", into a fresh table. */
static void test_lists(void **state)
{
    (void)state;
    rl_arena_t *a = rl_arena_create(4096);
    rl_config_t *cf = load_ok(
        "Header set X-On yes\n"
        "Header always set X-Al yes\n"
        "Header always unset Location\n"
        "Header append X-App two\n"
        "Header set Date never\n"
        "Header set Content-Type text/x-new\n"
        "RequestHeader set X-In in\n"
        "RequestHeader unset X-Gone\n");
    headers_dir_t *d = RL_DIR_CONF(cf->main->lookup_defaults, rl_headers_module);
    assert_non_null(d->list[L_OUT]);
    rl_request_t *r = request(cf, a);
    static rl_http_header_t in[] = {
        { { "X-Gone", 6 }, { "x", 1 } }, { { "Host", 4 }, { "h", 1 } },
    };
    r->headers = in;
    r->nheaders = 2;
    fixups(r);
    assert_int_equal(r->nheaders, 2);
    assert_string_equal(rl_req_header(r, "X-In"), "in");
    assert_null(rl_req_header(r, "X-Gone"));
    rl_hdrs_add(a, &r->out, "X-App", "one");
    assert_true(take_mark(r));
    assert_false(take_mark(r));
    run_list(r, d->list[L_ERR], &r->err_out, true, false);
    run_list(r, d->list[L_OUT], &r->out, true, false);
    assert_string_equal(rl_hdrs_get(&r->out, "X-App"), "one, two");
    assert_string_equal(rl_hdrs_get(&r->out, "X-On"), "yes");
    assert_null(rl_hdrs_get(&r->out, "Date"));
    assert_null(rl_hdrs_get(&r->out, "Content-Type"));
    assert_string_equal(r->content_type, "text/x-new");
    /* an error: r->out emptied (rl_req_error), Location set by the server */
    rl_request_t *e = request(cf, a);
    rl_hdrs_add(a, &e->err_out, "Location", "http://x/");
    assert_false(take_mark(e));
    rl_hdrs_t fresh = { 0 };
    run_list(e, d->list[L_ERR], &fresh, true, false);
    assert_null(fresh.head->next);
    assert_string_equal(fresh.head->name, "X-Al");
    rl_config_free(cf);
    rl_arena_destroy(a);
}

static void test_header_errors(void **state)
{
    (void)state;
    static const struct { const char *line, *msg; } cases[] = {
        { "Header set X y early foo bar", "Header has too many arguments" },
        { "Header set X y early foo", "Too many arguments to directive" },
        { "Header onsuccess echo X y z", "Header echo takes two arguments" },
        { "Header set X y expr=%{", "Can't parse envclause/expression: " },
        { "ExpiresByType text/html \"access plus 1 fortnight\"",
          "'ExpiresByType text/html access plus 1 fortnight': bad expires code, "
          "unrecognised <type>'fortnight'" },
        { "<Limit GET>\n<Limit POST>\nRequire all denied\n</Limit>\n</Limit>",
          "<Limit> directive excludes all methods" },
        { "php_admin_flag engine off", "Invalid command 'php_admin_flag', perhaps misspelled" },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        char err[1024] = "";
        assert_null(load(cases[i].line, err, sizeof(err)));
        if (strstr(err, cases[i].msg) == NULL)
            fail_msg("%s: %s", cases[i].line, err);
    }
}

static const char *expires(rl_config_t *cf, rl_arena_t *a, const char *type, int status,
                           const char *cc, time_t now, const char **exp)
{
    rl_request_t *r = request(cf, a);
    r->content_type = type;
    r->status = status;
    if (cc)
        rl_hdrs_add(a, &r->out, "Cache-Control", cc);
    rl_expires_apply(r, now);
    *exp = rl_hdrs_get(&r->out, "Expires");
    return rl_hdrs_get(&r->out, "Cache-Control");
}

static void test_expires(void **state)
{
    (void)state;
    rl_arena_t *a = rl_arena_create(4096);
    rl_config_t *cf = load_ok(
        "ExpiresActive On\n"
        "ExpiresByType text/html \"access plus 1 month 2 days 3 hours 4 minutes 5 seconds\"\n"
        "ExpiresByType image/* A60\n"
        "ExpiresByType text/css \"a 1 w\"\n"
        "ExpiresDefault \"now plus 1 year\"\n");
    time_t now = 1700000000;
    const char *exp;
    long html = 30L * 86400 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5;
    char want[64];
    snprintf(want, sizeof(want), "max-age=%ld", html);
    assert_string_equal(expires(cf, a, "text/html; charset=utf-8", 200, NULL, now, &exp), want);
    char date[RL_HTTP_DATE_LEN + 1];
    rl_http_date_format(now + html, date);
    assert_string_equal(exp, date);
    assert_string_equal(expires(cf, a, "image/png", 304, "public", now, &exp),
                        "public, max-age=60");
    assert_string_equal(expires(cf, a, "text/css", 302, NULL, now, &exp), "max-age=604800");
    assert_string_equal(expires(cf, a, NULL, 200, NULL, now, &exp), "max-age=31536000");
    assert_null(expires(cf, a, "text/html", 404, NULL, now, &exp));
    assert_null(exp);
    rl_config_free(cf);
    rl_arena_destroy(a);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/t.conf", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_edit),
        cmocka_unit_test(test_merge_tokens),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_expires),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
