/* Tests for http/mime: mime.types loading, AddType / RemoveType overlays and
 * mod_mime's multi-extension rule. The expectations of test_apache_table
 * were checked against Apache/2.4.71 serving the same names with the same
 * AddType / RemoveType lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "http/mime.h"

static const char types_file[] =
    "# MIME type            Extensions\n"
    "\n"
    "   # an indented comment\n"
    "text/html\t\t\t\thtml htm shtml\n"
    "image/png\t\t\t\tpng\n"
    "text/plain   txt text  pot\r\n"
    "application/gzip\tgz\n"
    "text/x-csrc\t\t\tc\n"
    "application/x-nothing\n"                 /* a type without extension */
    "application/old\t\tdup\n"
    "application/new\t\tdup\n"                /* the last one wins */
    "Application/Mixed\tMiXeD\n"              /* ext lower-cased, type kept */
    "video/x-flv flv # not a comment\n";      /* '#' only at line start */

static char types_path[64];

static int setup(void **state)
{
    strcpy(types_path, "/tmp/test_mime_XXXXXX");
    int fd = mkstemp(types_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, types_file, sizeof(types_file) - 1),
                     (ssize_t)(sizeof(types_file) - 1));
    close(fd);
    *state = rl_arena_create(0);
    return 0;
}

static int teardown(void **state)
{
    unlink(types_path);
    rl_arena_destroy(*state);
    return 0;
}

static const char *lookup(const rl_mime_t *m, const char *name)
{
    return rl_mime_lookup(m, rl_str_c(name));
}

static void check_type(const rl_mime_t *m, const char *name, const char *type,
                       int line)
{
    const char *t = lookup(m, name);
    bool same = type == NULL ? t == NULL : (t != NULL && strcmp(t, type) == 0);
    if (!same)
        fail_msg("line %d: %s: got %s, expected %s", line, name, t ? t : "NULL",
                 type ? type : "NULL");
}
#define assert_type(m, name, type) check_type((m), (name), (type), __LINE__)

static void test_load(void **state)
{
    rl_arena_t *a = *state;
    char err[256] = "";
    rl_mime_t *m = rl_mime_load(a, types_path, err, sizeof(err));
    assert_non_null(m);
    assert_string_equal(err, "");
    /* html htm shtml png txt text pot gz c dup mixed flv # not a comment */
    assert_int_equal(rl_mime_count(m), 16);
    assert_string_equal(rl_mime_lookup_ext(m, RL_STR("html")), "text/html");
    assert_string_equal(rl_mime_lookup_ext(m, RL_STR("HTM")), "text/html");
    assert_string_equal(rl_mime_lookup_ext(m, RL_STR("shtml")), "text/html");
    assert_string_equal(rl_mime_lookup_ext(m, RL_STR("pot")), "text/plain");
    assert_string_equal(rl_mime_lookup_ext(m, RL_STR("dup")), "application/new");
    assert_string_equal(rl_mime_lookup_ext(m, RL_STR("mixed")), "Application/Mixed");
    assert_string_equal(rl_mime_lookup_ext(m, RL_STR("flv")), "video/x-flv");
    assert_string_equal(rl_mime_lookup_ext(m, RL_STR("#")), "video/x-flv");
    assert_null(rl_mime_lookup_ext(m, RL_STR("nothing")));
    assert_null(rl_mime_lookup_ext(m, RL_STR("application/x-nothing")));
    assert_null(rl_mime_lookup_ext(m, RL_STR("")));
    assert_null(rl_mime_lookup_ext(m, RL_STR("htmlx")));
    assert_null(rl_mime_lookup_ext(m, RL_STR("htm ")));
    /* a view that is not NUL-terminated */
    assert_string_equal(rl_mime_lookup_ext(m, rl_str("htmlxyz", 4)), "text/html");
}

static void test_load_missing(void **state)
{
    rl_arena_t *a = *state;
    char err[256] = "";
    assert_null(rl_mime_load(a, "/nonexistent/mime.types", err, sizeof(err)));
    assert_string_equal(err, "could not open mime types config file "
                             "/nonexistent/mime.types: No such file or directory");
    assert_null(rl_mime_load(a, "/nonexistent/mime.types", NULL, 0));
}

/* The names Apache was asked for, with
 *   AddType text/X-Foo .foo
 *   AddType application/x-bar bar
 *   <Directory .../sub> RemoveType .html; AddType text/plain .PNG </Directory> */
static void test_apache_table(void **state)
{
    rl_arena_t *a = *state;
    rl_mime_t *base = rl_mime_load(a, types_path, NULL, 0);
    rl_mime_t *srv = rl_mime_overlay(a, base);
    rl_mime_add(srv, "text/X-Foo", ".foo");
    rl_mime_add(srv, "application/x-bar", "bar");
    rl_mime_t *dir = rl_mime_overlay(a, srv);
    rl_mime_remove(dir, ".html");
    rl_mime_add(dir, "text/plain", ".PNG");

    static const struct { const char *name, *srv, *dir; } cases[] = {
        { "a.html.en",      "text/html",        NULL },
        { "a.en.html",      "text/html",        NULL },
        { ".png",           NULL,               NULL },
        { "A.PNG",          "image/png",        "text/plain" },
        { "b.foo.txt",      "text/plain",       "text/plain" },
        { "b.txt.foo",      "text/x-foo",       "text/x-foo" },
        { "bad..html",      "text/html",        NULL },
        { "noext",          NULL,               NULL },
        { "x.gz.html",      "text/html",        "application/gzip" },
        { "x.html.gz",      "application/gzip", "application/gzip" },
        { "x.tar.gz",       "application/gzip", "application/gzip" },
        { "a.HTML",         "text/html",        NULL },
        { "file.",          NULL,               NULL },
        { "..html",         NULL,               NULL },
        { "a.b.c.unknown",  "text/x-csrc",      "text/x-csrc" },
        { "a.html.unknown", "text/html",        NULL },
        { "c.Foo",          "text/x-foo",       "text/x-foo" },
        { "c.bar",          "application/x-bar", "application/x-bar" },
        { "d.html.foo.en",  "text/x-foo",       "text/x-foo" },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        assert_type(srv, cases[i].name, cases[i].srv);
        assert_type(dir, cases[i].name, cases[i].dir);
    }
    /* the base table is untouched by its overlays */
    assert_type(base, "c.foo", NULL);
    assert_type(base, "a.html", "text/html");
    assert_int_equal(rl_mime_count(dir), 2);
    assert_int_equal(rl_mime_count(srv), 2);
}

static void test_paths_and_dots(void **state)
{
    rl_arena_t *a = *state;
    rl_mime_t *m = rl_mime_load(a, types_path, NULL, 0);
    assert_type(m, "/var/www/html/index.html", "text/html");
    assert_type(m, "/var/www/x.html/readme", NULL);        /* dir's dot ignored */
    assert_type(m, "/var/www/x.html/", NULL);
    assert_type(m, "/var/www/.hidden.txt", "text/plain");   /* ".hidden" is the base */
    assert_type(m, "...txt", NULL);
    assert_type(m, "..a.txt", "text/plain");
    assert_type(m, "a...txt", "text/plain");
    assert_type(m, "a.txt.", "text/plain");
    assert_type(m, "a.txt..", "text/plain");
    assert_type(m, "", NULL);
    assert_type(m, ".", NULL);
    assert_type(m, "/", NULL);
    assert_type(m, "index.HtMl", "text/html");
    assert_type(m, "txt", NULL);                            /* a base name only */
    assert_type(m, "a.txt.html.en.unknown", "text/html");
    assert_type(m, "a.html.txt", "text/plain");
    assert_string_equal(rl_mime_lookup(m, rl_str("a.html.txt", 6)), "text/html");
    assert_string_equal(rl_mime_lookup(m, rl_str("a.txt.html", 5)), "text/plain");
}

static void test_add_override_and_remove(void **state)
{
    rl_arena_t *a = *state;
    rl_mime_t *m = rl_mime_load(a, types_path, NULL, 0);
    /* AddType on the base table itself overrides mime.types */
    rl_mime_add(m, "Text/X-Web", "HTML");
    assert_type(m, "a.html", "text/x-web");
    rl_mime_add(m, "application/x-php", ".php");
    assert_type(m, "index.php", "application/x-php");
    assert_type(m, "index.PHP", "application/x-php");
    /* only one leading dot is dropped, as in Apache */
    rl_mime_add(m, "a/b", "..dd");
    assert_null(rl_mime_lookup_ext(m, RL_STR("dd")));
    assert_string_equal(rl_mime_lookup_ext(m, RL_STR(".dd")), "a/b");
    /* an empty extension is ignored */
    size_t n = rl_mime_count(m);
    rl_mime_add(m, "a/b", ".");
    rl_mime_add(m, "a/b", "");
    assert_int_equal(rl_mime_count(m), n);

    /* RemoveType hides mime.types; a deeper AddType brings a type back */
    rl_mime_t *d1 = rl_mime_overlay(a, m);
    rl_mime_remove(d1, "txt");
    assert_type(d1, "a.txt", NULL);
    assert_type(d1, "a.html.txt", "text/x-web");   /* earlier extension stays */
    rl_mime_t *d2 = rl_mime_overlay(a, d1);
    rl_mime_add(d2, "text/markdown", "txt");
    assert_type(d2, "a.txt", "text/markdown");
    assert_type(d1, "a.txt", NULL);
    assert_type(m, "a.txt", "text/plain");
    /* re-adding in the same table replaces */
    rl_mime_add(d2, "text/x-rst", "txt");
    assert_type(d2, "a.txt", "text/x-rst");
    assert_int_equal(rl_mime_count(d2), 1);
    rl_mime_remove(d2, "txt");
    assert_type(d2, "a.txt", NULL);

    /* an empty table with no parent */
    rl_mime_t *e = rl_mime_create(a, NULL);
    assert_type(e, "a.html", NULL);
    assert_int_equal(rl_mime_count(e), 0);
}

static void test_many_entries(void **state)
{
    rl_arena_t *a = *state;
    rl_mime_t *m = rl_mime_create(a, NULL);
    char ext[32], type[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(ext, sizeof(ext), "E%d", i);
        snprintf(type, sizeof(type), "x/t%d", i);
        rl_mime_add(m, type, ext);
    }
    assert_int_equal(rl_mime_count(m), 5000);
    for (int i = 0; i < 5000; i++) {
        char name[40];
        snprintf(name, sizeof(name), "file.e%d", i);
        snprintf(type, sizeof(type), "x/t%d", i);
        assert_type(m, name, type);
    }
    assert_type(m, "file.e5000", NULL);
}

static void test_system_mime_types(void **state)
{
    rl_arena_t *a = *state;
    if (access("/etc/mime.types", R_OK) != 0)
        skip();
    char err[256];
    rl_mime_t *m = rl_mime_load(a, "/etc/mime.types", err, sizeof(err));
    assert_non_null(m);
    assert_true(rl_mime_count(m) > 500);
    assert_type(m, "index.html", "text/html");
    assert_type(m, "logo.PNG", "image/png");
    assert_type(m, "style.css", "text/css");
    assert_type(m, "a.html.en", "text/html");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apache_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths_and_dots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_override_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_mime_types, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
