/* mod_rewrite: the engine (mod/rewrite_engine.c through rewrite.h) on
 * requests made by hand, without a connection, and the module's hooks and
 * configuration merging (mod/rewrite.c) on configurations read from text.
 * What Debian's Apache does with whole requests is checked by
 * tests/interop/test_rewrite.py against tests/rewrite/cases.json. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "httpd/config.h"
#include "httpd/dircache.h"
#include "httpd/mod/rewrite.h"

extern rl_module_t rl_rewrite_module;

static char dir[] = "/tmp/rl-rewrite-XXXXXX";
static rl_arena_t *arena;

static rl_config_t *load(const char *text, char *err, size_t errlen)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/t.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "ServerRoot %s\nErrorLog /dev/null\nDocumentRoot %s/root\n%s", dir, dir, text);
    fclose(f);
    rl_cli_conf_t cli = { .config_file = path, .server_root = dir };
    return rl_config_load(&cli, NULL, err, errlen);
}

static rl_config_t *load_ok(const char *text)
{
    char err[1024] = "";
    rl_config_t *cf = load(text, err, sizeof(err));
    if (cf == NULL)
        fail_msg("config failed: %s", err);
    for (rl_server_t *s = cf->main; s; s = s->next)
        s->error_log = NULL;   /* no connection to name in log lines */
    return cf;
}

static void load_fails(const char *text, const char *msg)
{
    char err[1024] = "";
    rl_config_t *cf = load(text, err, sizeof(err));
    assert_null(cf);
    if (strstr(err, msg) == NULL)
        fail_msg("error \"%s\" does not say \"%s\"", err, msg);
}

static rl_http_header_t hdrs[8];
static rl_server_t bare = { .hostname = "localhost", .limit_req_line = 8190 };

/* A request for <uri> (a decoded path) with <query>, Host: h.test and the
 * headers "Name: value" of the NULL-ended list that follows. */
static rl_request_t *request(rl_config_t *cf, const char *uri, const char *query, ...)
{
    rl_request_t *r = rl_arena_calloc(arena, sizeof(*r));
    r->arena = arena;
    r->cf = cf;
    r->server = cf ? cf->main : &bare;
    r->dir = cf ? cf->main->lookup_defaults : NULL;
    r->method = "GET";
    r->the_request = "GET / HTTP/1.1";
    r->uri = r->unparsed_uri = uri;
    r->args = query;
    r->hostname = "h.test";
    r->headers = hdrs;
    va_list ap;
    va_start(ap, query);
    for (const char *h; (h = va_arg(ap, const char *)) && r->nheaders < 8;) {
        const char *colon = strchr(h, ':');
        hdrs[r->nheaders].name = rl_str(h, (size_t)(colon - h));
        hdrs[r->nheaders++].value = rl_str_c(colon + 2);
    }
    va_end(ap);
    return r;
}

/* Parses the rule lines of <text> ("RewriteCond ...\nRewriteRule ...\n")
 * into <rules>; returns how many. */
static unsigned rules(const char *text, rl_rewrite_rule_t **out, unsigned max)
{
    rl_rewrite_cond_t *conds[8];
    unsigned n = 0, nc = 0;
    char *copy = rl_arena_strdup(arena, text), *save = NULL;
    for (char *ln = strtok_r(copy, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        const char *err;
        if (strncmp(ln, "RewriteCond ", 12) == 0) {
            err = rl_rewrite_cond_parse(arena, ln + 12, &conds[nc++]);
        } else {
            rl_rewrite_cond_t **c = rl_arena_alloc(arena, sizeof(*c) * (nc ? nc : 1));
            memcpy(c, conds, sizeof(*c) * nc);
            assert_true(n < max);
            err = rl_rewrite_rule_parse(arena, ln + 12, c, nc, &out[n++]);
            nc = 0;
        }
        if (err)
            fail_msg("%s: %s", ln, err);
    }
    return n;
}

/* Runs the server-level rules of <text> on <r>; returns what the run did. */
static int run(rl_request_t *r, const char *text, const rl_rewrite_map_t *maps)
{
    rl_rewrite_rule_t *list[16];
    unsigned n = rules(text, list, 16);
    rl_rewrite_ctx_t c = { .r = r, .maps = maps };
    if (r->filename == NULL)
        r->filename = r->uri;
    int st = rl_rewrite_apply(&c, list, n);
    if (st == RL_REWRITE_STATUS)
        r->status = c.status;
    return st;
}

static int setup(void **state)
{
    (void)state;
    arena = rl_arena_create(64 * 1024);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rl_arena_destroy(arena);
    return 0;
}

/* ---- parsing ---- */

static void test_parse_errors(void **state)
{
    (void)state;
    static const char *const conds[][2] = {
        { "%{HTTP_HOST}", "bad argument line '%{HTTP_HOST}'" },
        { "%{HTTP_HOST} x [XX]", "unknown flag 'XX'" },
        { "%{HTTP_HOST} x NC", "bad flag delimiters" },
        { "%{HTTP_HOST} ^(a", "cannot compile regular expression '^(a'" },
        { "/x -U", "-U" },
        { "%{X} -lt 10", "bad flag delimiters" },   /* Apache: "-lt10" */
    };
    for (size_t i = 0; i < RL_NELEMS(conds); i++) {
        rl_rewrite_cond_t *c = NULL;
        const char *err = rl_rewrite_cond_parse(arena, conds[i][0], &c);
        assert_non_null(err);
        if (strstr(err, conds[i][1]) == NULL)
            fail_msg("%s: %s", conds[i][0], err);
    }
    static const char *const bad[][2] = {
        { "^/x", "bad argument line '^/x'" },
        { "^/x /y [L,XYZ]", "unknown flag 'XYZ'" },
        { "^/x /y L", "bad flag delimiters" },
        { "^/(x /y", "cannot compile regular expression '^/(x'" },
        { "^/x /y [R=999]", "invalid HTTP response code '999' for flag 'R'" },
    };
    for (size_t i = 0; i < RL_NELEMS(bad); i++) {
        rl_rewrite_rule_t *r = NULL;
        const char *err = rl_rewrite_rule_parse(arena, bad[i][0], NULL, 0, &r);
        assert_non_null(err);
        if (strstr(err, bad[i][1]) == NULL)
            fail_msg("%s: %s", bad[i][0], err);
    }
    rl_rewrite_rule_t *r;
    assert_null(rl_rewrite_rule_parse(arena, "\"^/a b\" '/c d' \"[ L , QSA ,E=x:y]\"", NULL, 0,
                                      &r));
    assert_non_null(rl_rewrite_rule_parse(arena, "^/a /b [ L ]", NULL, 0, &r));
    assert_null(rl_rewrite_rule_parse(arena, "^/a\\ b /c", NULL, 0, &r));
}

/* ---- expansion ---- */

static void test_expand(void **state)
{
    (void)state;
    rl_request_t *r = request(NULL, "/a/bc", "q=1", "X-Test: hello", "User-Agent: UA", NULL);
    setenv("RL_REWRITE_TEST", "osenv", 1);
    rl_rewrite_map_t *lower;
    assert_null(rl_rewrite_map_parse(arena, "lower", "int:tolower", NULL, &lower));
    run(r, "RewriteCond %{HTTP:X-Test} ^h(el)(x)?\n"
           "RewriteRule ^/(a)/(b)(c)?$ /t/$1$2$3$4-%1%2-%{QUERY_STRING}-\\$1\\%{X}-"
           "%{ENV:RL_REWRITE_TEST}-${lower:ABC}-${nomap:k|d$1}-%{HTTP_USER_AGENT}-%{ABC}-"
           "%{request_uri}-%{UNKNOWN_VAR}-%{open\n", lower);
    assert_string_equal(r->filename, "/t/abc-el-q=1-$1%{X}-osenv-abc-da-UA--/a/bc--%{open");
    /* a header a condition read; not one the substitution read */
    assert_string_equal(rl_hdrs_get(&r->out, "Vary"), "X-Test");
    unsetenv("RL_REWRITE_TEST");
}

static void test_backref_escape(void **state)
{
    (void)state;
    rl_request_t *r = request(NULL, "/b/a b&c+d/é", NULL, NULL);
    run(r, "RewriteRule ^/b/(.*)$ /x?q=$1 [B]\n", NULL);
    assert_string_equal(r->args, "q=a+b%26c%2bd%2f%c3%a9");
    r = request(NULL, "/b/a b&c", NULL, NULL);
    run(r, "RewriteRule ^/b/(.*)$ /x?q=$1 [B=&,BNP]\n", NULL);
    assert_string_equal(r->args, "q=a b%26c");
}

static void test_env_and_cookies(void **state)
{
    (void)state;
    rl_request_t *r = request(NULL, "/e/v", NULL, NULL);
    rl_hdrs_set(arena, &r->env, "GONE", "1");
    assert_int_equal(run(r, "RewriteRule ^/e/(.*)$ - [E=A:$1,E=B:x:y,E=C,E=!GONE,"
                            "CO=n:v:.h.test:10:/p:secure:HttpOnly:Lax,CO=;m;1;h.test]\n", NULL),
                     RL_REWRITE_NONE);
    assert_string_equal(rl_hdrs_get(&r->env, "A"), "v");
    assert_string_equal(rl_hdrs_get(&r->env, "B"), "x:y");
    assert_string_equal(rl_hdrs_get(&r->env, "C"), "");
    assert_null(rl_hdrs_get(&r->env, "GONE"));
    rl_hdr_t *h = r->err_out.head;
    assert_non_null(h);
    assert_true(strncmp(h->value, "n=v; path=/p; domain=.h.test; expires=", 38) == 0);
    assert_non_null(strstr(h->value, " GMT; secure; HttpOnly; SameSite=Lax"));
    assert_string_equal(h->next->value, "m=1; path=/; domain=h.test");
}

/* ---- queries and flags ---- */

static void test_query(void **state)
{
    (void)state;
    static const char *const cases[][4] = {
        /* rule, query in, filename out, query out (NULL: none) */
        { "RewriteRule ^/x$ /y?a=1", "b=2", "/y", "a=1" },
        { "RewriteRule ^/x$ /y?a=1 [QSA]", "b=2", "/y", "a=1&b=2" },
        { "RewriteRule ^/x$ /y?a=1 [QSA]", NULL, "/y", "a=1" },
        { "RewriteRule ^/x$ /y [QSD]", "b=2", "/y", NULL },
        { "RewriteRule ^/x$ /y", "b=2", "/y", "b=2" },
        { "RewriteRule ^/x$ /y?", "b=2", "/y", NULL },
        { "RewriteRule ^/x$ /y? [QSA]", "b=2", "/y", "b=2" },
        { "RewriteRule ^/x$ /y?a& [QSA]", NULL, "/y", "a" },
        { "RewriteRule ^/x$ /y?a?b [QSL]", NULL, "/y?a", "b" },
        { "RewriteRule ^/x$ /y?a?b", NULL, "/y", "a?b" },
        { "RewriteRule ^/x$ mailto:a@b?subject=x", "c", "mailto:a@b", "subject=x" },
        { "RewriteRule ^/x$ ftp://h/f?x", "c", "ftp://h/f?x", NULL },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        rl_request_t *r = request(NULL, "/x", cases[i][1], NULL);
        assert_int_not_equal(run(r, cases[i][0], NULL), RL_REWRITE_NONE);
        assert_string_equal(r->filename, cases[i][2]);
        if (cases[i][3])
            assert_string_equal(r->args, cases[i][3]);
        else if (r->args)
            fail_msg("%s: query \"%s\"", cases[i][0], r->args);
    }
}

static void test_flow(void **state)
{
    (void)state;
    /* S skips, C chains (a failing link skips the rest of the chain), L ends */
    rl_request_t *r = request(NULL, "/s", NULL, NULL);
    run(r, "RewriteRule ^/s$ - [S=1]\nRewriteRule ^ /no\nRewriteRule ^/s$ /yes [L]\n"
           "RewriteRule ^ /after\n", NULL);
    assert_string_equal(r->filename, "/yes");
    r = request(NULL, "/c", NULL, NULL);
    run(r, "RewriteRule ^/c$ /c1 [C]\nRewriteRule ^/x$ /c2 [C]\nRewriteRule ^ /c3\n"
           "RewriteRule ^/c1$ /after\n", NULL);
    assert_string_equal(r->filename, "/after");
    /* N loops; N=n bounds it with a 500 */
    r = request(NULL, "/n/aaa", NULL, NULL);
    run(r, "RewriteRule ^/n/(.*)a(.*)$ /n/$1b$2 [N]\n", NULL);
    assert_string_equal(r->filename, "/n/bbb");
    r = request(NULL, "/n/aaaa", NULL, NULL);
    assert_int_equal(run(r, "RewriteRule ^/n/(.*)a(.*)$ /n/$1b$2 [N=3]\n", NULL),
                     RL_REWRITE_STATUS);
    assert_int_equal(r->status, 500);
    /* a negated pattern has no $N; NC; NE is reported */
    r = request(NULL, "/ABC", NULL, NULL);
    assert_int_equal(run(r, "RewriteRule !^/x(.*) /n$1 [NC]\nRewriteRule ^/n$ /m [NE,NC]\n",
                         NULL), RL_REWRITE_NOESCAPE);
    assert_string_equal(r->filename, "/m");
    /* PT, P, R, F, G, R=4xx */
    r = request(NULL, "/p", NULL, NULL);
    run(r, "RewriteRule ^/p$ /q [PT]\nRewriteRule ^ /never\n", NULL);
    assert_string_equal(r->filename, "passthrough:/q");
    r = request(NULL, "/p", NULL, NULL);
    run(r, "RewriteRule ^/p$ fcgi://127.0.0.1:9000/x.php [P]\n", NULL);
    assert_string_equal(r->filename, "proxy:fcgi://127.0.0.1:9000/x.php");
    r = request(NULL, "/r", NULL, NULL);
    rl_rewrite_rule_t *list[2];
    rules("RewriteRule ^/r$ /t [R=301]\n", list, 2);
    rl_rewrite_ctx_t c = { .r = r };
    r->filename = r->uri;
    assert_int_equal(rl_rewrite_apply(&c, list, 1), RL_REWRITE_NORMAL);
    assert_int_equal(c.status, 301);
    assert_string_equal(r->filename, "http://h.test/t");
    static const char *const statuses[][2] = {
        { "RewriteRule ^ - [F]", "403" }, { "RewriteRule ^ - [G]", "410" },
        { "RewriteRule ^ /x [R=404]", "404" }, { "RewriteRule ^ /x [F]\nRewriteRule ^ /y", "403" },
    };
    for (size_t i = 0; i < RL_NELEMS(statuses); i++) {
        r = request(NULL, "/f", NULL, NULL);
        assert_int_equal(run(r, statuses[i][0], NULL), RL_REWRITE_STATUS);
        assert_int_equal(r->status, atoi(statuses[i][1]));
    }
    /* END is remembered for the request */
    r = request(NULL, "/e", NULL, NULL);
    run(r, "RewriteRule ^/e$ /f [END]\nRewriteRule ^ /never\n", NULL);
    assert_string_equal(r->filename, "/f");
    assert_true(rl_rewrite_ended(r));
    assert_false(rl_rewrite_ended(request(NULL, "/e", NULL, NULL)));
}

/* A '?' that an expansion brings in may not start the query
 * (CVE-2024-38474) unless [UnsafeAllow3F]; one after a literal '?' may. */
static void test_question_mark(void **state)
{
    (void)state;
    rl_request_t *r = request(NULL, "/q/a?b", NULL, NULL);
    assert_int_equal(run(r, "RewriteRule ^/q/(.*)$ /x/$1\n", NULL), RL_REWRITE_STATUS);
    assert_int_equal(r->status, 403);
    r = request(NULL, "/q/a?b", NULL, NULL);
    assert_int_equal(run(r, "RewriteRule ^/q/(.*)$ /x/$1 [UnsafeAllow3F]\n", NULL),
                     RL_REWRITE_NORMAL);
    assert_string_equal(r->args, "b");
    r = request(NULL, "/q/a?b", NULL, NULL);
    assert_int_equal(run(r, "RewriteRule ^/q/(.*)$ /x?v=$1\n", NULL), RL_REWRITE_NORMAL);
    assert_string_equal(r->args, "v=a?b");
    r = request(NULL, "/q", NULL, "X-Q: a?b", NULL);
    assert_int_equal(run(r, "RewriteRule ^/q$ /x/%{HTTP:X-Q}\n", NULL), RL_REWRITE_STATUS);
}

/* ---- conditions ---- */

static void test_conditions(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        /* condition(s), header X-V, "1" when the rule applies */
        { "RewriteCond %{HTTP:X-V} -ge10", "10", "1" },
        { "RewriteCond %{HTTP:X-V} -gt10", "10", "0" },
        { "RewriteCond %{HTTP:X-V} -lt10", "9", "1" },
        { "RewriteCond %{HTTP:X-V} -le10", "11", "0" },
        { "RewriteCond %{HTTP:X-V} -eq7", "7", "1" },
        { "RewriteCond %{HTTP:X-V} -ne7", "7", "0" },
        { "RewriteCond %{HTTP:X-V} !-ne7", "7", "1" },
        { "RewriteCond %{HTTP:X-V} =abc", "abc", "1" },
        { "RewriteCond %{HTTP:X-V} =ABC [NC]", "abc", "1" },
        { "RewriteCond %{HTTP:X-V} =\"\"", "", "1" },
        { "RewriteCond %{HTTP:X-V} <b", "abc", "0" },   /* the longer is greater */
        { "RewriteCond %{HTTP:X-V} <bb", "a", "1" },
        { "RewriteCond %{HTTP:X-V} >=aa", "aa", "1" },
        { "RewriteCond %{HTTP:X-V} <=aa", "ab", "0" },
        { "RewriteCond %{HTTP:X-V} >a", "b", "1" },
        { "RewriteCond %{HTTP:X-V} !^a", "b", "1" },
        { "RewriteCond %{HTTP:X-V} ^A [NC]", "a", "1" },
        { "RewriteCond %{HTTP:X-V} x [OR]\nRewriteCond %{HTTP:X-V} y", "y", "1" },
        { "RewriteCond %{HTTP:X-V} x [OR]\nRewriteCond %{HTTP:X-V} y\n"
          "RewriteCond %{HTTP:X-V} z", "y", "0" },
        { "RewriteCond expr \"%{HTTP:X-V} == 'e'\"", "e", "1" },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        char hv[64], text[256];
        snprintf(hv, sizeof(hv), "X-V: %s", cases[i][1]);
        snprintf(text, sizeof(text), "%s\nRewriteRule ^ /yes\n", cases[i][0]);
        rl_request_t *r = request(NULL, "/c", NULL, hv, NULL);
        int st = run(r, text, NULL);
        if ((st == RL_REWRITE_NORMAL) != (cases[i][2][0] == '1'))
            fail_msg("%s with \"%s\": %d", cases[i][0], cases[i][1], st);
    }
}

static void test_file_tests(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof(text),
             "RewriteCond %s/root/link -l\nRewriteRule ^/t$ /l [L]\n"
             "RewriteCond %s/root/f -s\nRewriteRule ^/t$ /s [L]\n"
             "RewriteCond %s/root/empty -f\nRewriteCond %s/root/empty !-s\n"
             "RewriteCond %s/root -d\nRewriteCond %s/root -F\nRewriteCond %s/none !-F\n"
             "RewriteRule ^/u$ /f [L]\n", dir, dir, dir, dir, dir, dir, dir);
    rl_request_t *r = request(NULL, "/t", NULL, NULL);
    run(r, text, NULL);
    assert_string_equal(r->filename, "/l");
    r = request(NULL, "/u", NULL, NULL);
    run(r, text, NULL);
    assert_string_equal(r->filename, "/f");
}

static void test_txt_map(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/map.txt", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "# comment\nred ff0000\n red 1\nred 2\nblue 0000ff extra\nempty\n");
    fclose(f);
    rl_rewrite_map_t *m;
    assert_non_null(rl_rewrite_map_parse(arena, "m", "txt:/nonexistent", NULL, &m));
    assert_non_null(rl_rewrite_map_parse(arena, "m", "prg:/bin/cat", NULL, &m));
    assert_null(rl_rewrite_map_parse(arena, "m", "txt:map.txt", dir, &m));
    const char *text = "RewriteRule ^/(.*)$ /${m:$1|none}\n";
    static const char *const cases[][2] = {
        { "/red", "/ff0000" }, { "/blue", "/0000ff" }, { "/green", "/none" }, { "/empty", "/none" },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        rl_request_t *r = request(NULL, cases[i][0], NULL, NULL);
        run(r, text, m);
        assert_string_equal(r->filename, cases[i][1]);
    }
    /* an edited map is read again */
    f = fopen(path, "w");
    fprintf(f, "red 00ff00\n");
    fclose(f);
    struct timespec ts[2] = { { 0, UTIME_NOW }, { time(NULL) + 5, 0 } };
    utimensat(AT_FDCWD, path, ts, 0);
    rl_request_t *r = request(NULL, "/red", NULL, NULL);
    run(r, text, m);
    assert_string_equal(r->filename, "/00ff00");
}

/* ---- URL helpers ---- */

static void test_url_helpers(void **state)
{
    (void)state;
    bool qs;
    assert_int_equal(rl_rewrite_absolute("HTTPS://x/", &qs), 8);
    assert_true(qs);
    assert_int_equal(rl_rewrite_absolute("ldap://x/", &qs), 7);
    assert_false(qs);
    assert_int_equal(rl_rewrite_absolute("/http://x", NULL), 0);
    assert_int_equal(rl_rewrite_absolute("unix:/x|fcgi://y/", NULL), 0);
    assert_string_equal(rl_rewrite_escape(arena, "/a b?c%d#e&f=g"), "/a%20b%3fc%25d%23e&f=g");
    assert_string_equal(rl_rewrite_escape_absolute(arena, "http://h x/a b", 7),
                        "http://h x/a%20b");
    assert_string_equal(rl_rewrite_escape_absolute(arena, "http://h/", 7), "http://h/");
    assert_string_equal(rl_rewrite_escape_absolute(arena, "ldap://h/a b?c d?e", 7),
                        "ldap://h/a%20b?c%20d?e");
    assert_string_equal(rl_rewrite_subst_prefix(arena, "/srv/w/x", "/srv/w/", "/base"),
                        "/base/x");
    assert_string_equal(rl_rewrite_subst_prefix(arena, "/srv/w/x", "/srv/w", "/"), "/x");
    assert_string_equal(rl_rewrite_subst_prefix(arena, "/srv/wx", "/srv/w/", "/b"), "/srv/wx");
    assert_string_equal(rl_rewrite_subst_prefix(arena, "/srv/w/x", "/srv/w/", ""), "x");
    assert_string_equal(rl_rewrite_join(arena, "/r", "/a//b/./c/../d/"), "/r/a/b/d/");
    assert_string_equal(rl_rewrite_join(arena, "/", "/a/.."), "/");
    assert_null(rl_rewrite_join(arena, "/r", "/a/../../x"));
    rl_request_t *r = request(NULL, "/", NULL, NULL);
    rl_rewrite_add_vary(r, "A, B");
    rl_rewrite_add_vary(r, "b,C");
    assert_string_equal(rl_hdrs_get(&r->out, "Vary"), "A,B,C");
}

/* ---- the module ---- */

static rl_server_t *vhost(rl_config_t *cf, const char *name)
{
    for (rl_server_t *s = cf->main; s; s = s->next)
        if (s->hostname && strcmp(s->hostname, name) == 0)
            return s;
    fail_msg("no vhost %s", name);
    return NULL;
}

static void test_server_rules(void **state)
{
    (void)state;
    rl_config_t *cf = load_ok(
        "RewriteEngine On\nRewriteRule ^/main$ /m.php\n"
        "<VirtualHost *:80>\nServerName inh.test\nRewriteEngine On\nRewriteOptions Inherit\n"
        "RewriteRule ^/own$ /o.php\n</VirtualHost>\n"
        "<VirtualHost *:80>\nServerName none.test\n</VirtualHost>\n");
    rl_request_t *r = request(cf, "/main", "x=1", NULL);
    assert_int_equal(rl_rewrite_module.translate(r), RL_OK);
    char want[512];
    snprintf(want, sizeof(want), "%s/root/m.php", dir);
    assert_string_equal(r->filename, want);
    assert_string_equal(rl_hdrs_get(&r->env, "SCRIPT_URL"), "/main");
    assert_string_equal(rl_hdrs_get(&r->env, "SCRIPT_URI"), "http://h.test/main");
    r = request(cf, "/main", NULL, NULL);
    r->server = vhost(cf, "inh.test");
    r->dir = r->server->lookup_defaults;
    assert_int_equal(rl_rewrite_module.translate(r), RL_OK);
    r = request(cf, "/main", NULL, NULL);
    r->server = vhost(cf, "none.test");
    r->dir = r->server->lookup_defaults;
    assert_int_equal(rl_rewrite_module.translate(r), RL_DECLINED);
    assert_null(rl_hdrs_get(&r->env, "SCRIPT_URL"));   /* the engine is the vhost's own */
    rl_config_free(cf);
}

static void test_server_results(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof(text),
             "RewriteEngine On\nRewriteRule ^/fs$ %s/root/f\nRewriteRule ^/up$ /../../etc\n"
             "RewriteRule ^/pt$ /alias [PT]\nRewriteRule ^/ext$ http://e.test/a\\%%20b?c [R=301]\n"
             "RewriteRule ^/self$ http://h.test/x\n", dir);
    rl_config_t *cf = load_ok(text);
    rl_request_t *r = request(cf, "/fs", NULL, NULL);
    assert_int_equal(rl_rewrite_module.translate(r), RL_OK);
    char want[512];
    snprintf(want, sizeof(want), "%s/root/f", dir);
    assert_string_equal(r->filename, want);
    r = request(cf, "/up", NULL, NULL);
    assert_int_equal(rl_rewrite_module.translate(r), 403);
    r = request(cf, "/pt", NULL, NULL);
    assert_int_equal(rl_rewrite_module.translate(r), RL_DECLINED);
    assert_string_equal(r->uri, "/alias");
    assert_null(r->filename);
    r = request(cf, "/ext", "q=1", NULL);
    r->body_tail = &r->body;
    assert_int_equal(rl_rewrite_module.translate(r), RL_DONE);
    assert_int_equal(r->status, 301);
    assert_string_equal(rl_hdrs_get(&r->err_out, "Location"), "http://e.test/a%2520b?c");
    r = request(cf, "/self", NULL, NULL);
    r->hostname = "other.test";
    r->body_tail = &r->body;
    assert_int_equal(rl_rewrite_module.translate(r), RL_DONE);   /* not this host: redirect */
    rl_config_free(cf);
}

/* The per-directory configuration a walk would merge for sections
 * <idx>... of the main server (in the sorted order). */
static rl_dirconf_t *merged(rl_config_t *cf, unsigned n, ...)
{
    rl_section_t *secs[8];
    va_list ap;
    va_start(ap, n);
    for (unsigned i = 0; i < n; i++) {
        rl_section_t *s = cf->main->dirs;
        for (unsigned k = va_arg(ap, unsigned); k > 0; k--)
            s = s->next;
        secs[i] = s;
    }
    va_end(ap);
    return rl_dircache_get(cf, cf->main, secs, n, arena);
}

/* Runs the fixups of <r> for the file <file> under sections <d>. */
static int fixup(rl_request_t *r, rl_dirconf_t *d, const char *file)
{
    r->dir = d;
    r->filename = rl_arena_printf(arena, "%s/root%s", dir, file);
    struct stat st;
    r->finfo_ok = stat(r->filename, &st) == 0;
    r->finfo = st;
    return rl_rewrite_module.fixups(r);
}

static void test_directory_rules(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof(text),
             "<Directory %s/root>\nRewriteEngine On\nRewriteBase /base/\n"
             "RewriteRule ^x$ index.php?p=1 [QSA]\nRewriteRule ^f$ f\n</Directory>\n"
             "<Directory %s/root/sub>\nOptions FollowSymLinks\n</Directory>\n"
             "<Directory %s/root/own>\nRewriteEngine On\nRewriteOptions Inherit\n"
             "RewriteRule ^y$ /abs.php\n</Directory>\n", dir, dir, dir);
    rl_config_t *cf = load_ok(text);
    rl_request_t *r = request(cf, "/x", "q=2", NULL);
    assert_int_equal(fixup(r, merged(cf, 1, 0), "/x"), RL_OK);
    assert_string_equal(r->handler, "redirect-handler");
    assert_string_equal(r->filename, "redirect:/base/index.php");
    assert_string_equal(r->args, "p=1&q=2");
    /* the same file again: not redirected */
    r = request(cf, "/f", NULL, NULL);
    assert_int_equal(fixup(r, merged(cf, 1, 0), "/f"), RL_DECLINED);
    assert_null(r->handler);
    /* a section without Rewrite* keeps the parent's, with its directory */
    r = request(cf, "/sub/x", NULL, NULL);
    assert_int_equal(fixup(r, merged(cf, 2, 0, 1), "/sub/x"), RL_DECLINED);
    r = request(cf, "/sub/x", NULL, NULL);
    assert_int_equal(fixup(r, merged(cf, 2, 0, 1), "/x"), RL_OK);
    /* Inherit: the parent's rules after the own ones, with this directory */
    r = request(cf, "/own/y", NULL, NULL);
    assert_int_equal(fixup(r, merged(cf, 2, 0, 2), "/own/y"), RL_OK);
    assert_string_equal(r->filename, "redirect:/abs.php");
    r = request(cf, "/own/x", NULL, NULL);
    assert_int_equal(fixup(r, merged(cf, 2, 0, 2), "/own/x"), RL_OK);
    assert_string_equal(r->filename, "redirect:/own/index.php");   /* no RewriteBase here */
    rl_config_free(cf);
}

static void test_config_errors(void **state)
{
    (void)state;
    load_fails("RewriteBase /x\n", "RewriteBase: only valid in per-directory config files");
    load_fails("<Directory />\nRewriteBase x\n</Directory>\n",
               "RewriteBase: argument is not a valid URL");
    load_fails("<Directory />\nRewriteMap m int:tolower\n</Directory>\n", "RewriteMap not allowed");
    load_fails("RewriteOptions Inherit Nope\n", "RewriteOptions: unknown option 'Nope'");
    load_fails("RewriteRule ^/x /y [R=abc,Q]\n", "RewriteRule: unknown flag 'Q'");
    load_fails("RewriteCond %{X} x\nRewriteRule ^/(x /y\n", "RewriteRule: cannot compile");
    load_fails("RewriteMap m int:nope\n", "RewriteMap: internal map not found:nope");
    load_fails("RewriteMap m prg:/bin/cat\n", "not supported by relais");
    load_fails("RewriteEngine maybe\n", "RewriteEngine must be On or Off");
    rl_config_free(load_ok("RewriteOptions Inherit AllowNoSlash MaxRedirects=3\n"
                           "RewriteRule ^/x /y [UnsafeAllow3F,UnsafePrefixStat,END,DPI,NS]\n"));
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    char path[512];
    snprintf(path, sizeof(path), "%s/root", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/root/f", dir);
    FILE *f = fopen(path, "w");
    fputs("data\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/root/empty", dir);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof(path), "%s/root/link", dir);
    if (symlink("f", path) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backref_escape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_and_cookies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_question_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_tests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_txt_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_helpers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
