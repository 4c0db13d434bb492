/* Tests for httpd/envvars: reading back what Debian's envvars exports
 * (env -0's list), sourcing a file through /bin/sh as apache2ctl does,
 * and relaisd's rule that variables already set win. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "httpd/envvars.h"

typedef struct {
    char names[512][64];
    char values[512][256];
    int n;
} got_t;

static void keep(void *ctx, const char *name, const char *value)
{
    got_t *g = ctx;
    if (g->n < 512) {
        snprintf(g->names[g->n], sizeof(g->names[0]), "%s", name);
        snprintf(g->values[g->n], sizeof(g->values[0]), "%s", value);
        g->n++;
    }
}

static const char *value_of(const got_t *g, const char *name)
{
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->names[i], name) == 0)
            return g->values[i];
    return NULL;
}

static void test_parse(void **state)
{
    (void)state;
    static const char list[] = "A=1\0PWD=/x\0B=two words\0SHLVL=1\0_=/usr/bin/env\0"
                               "C=\0BAD\0=nameless\0D=x=y\0E=multi\nline\0" "9X=no\0F=last";
    static got_t g;
    memset(&g, 0, sizeof(g));
    int n = rl_envvars_parse(list, sizeof(list) - 1, keep, &g);
    assert_int_equal(n, 6);
    assert_string_equal(value_of(&g, "A"), "1");
    assert_string_equal(value_of(&g, "B"), "two words");
    assert_string_equal(value_of(&g, "C"), "");
    assert_string_equal(value_of(&g, "D"), "x=y");
    assert_string_equal(value_of(&g, "E"), "multi\nline");
    assert_string_equal(value_of(&g, "F"), "last");     /* no NUL at the end */
    assert_null(value_of(&g, "PWD"));
    assert_null(value_of(&g, "SHLVL"));
    assert_null(value_of(&g, "_"));
    assert_int_equal(rl_envvars_parse("", 0, keep, &g), 0);
}

static char dir[] = "/tmp/test_envvars.XXXXXX";

static void write_file(const char *name, const char *text)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Debian's envvars in small: SUFFIX from APACHE_CONFDIR, exports, an
 * echo that must not end up in the list, a plain assignment that is not
 * exported. */
static const char debian_like[] =
    "unset HOME\n"
    "if [ \"${APACHE_CONFDIR##/etc/apache2-}\" != \"${APACHE_CONFDIR}\" ] ; then\n"
    "  SUFFIX=\"-${APACHE_CONFDIR##/etc/apache2-}\"\nelse\n  SUFFIX=\nfi\n"
    "export APACHE_RUN_USER=www-data\n"
    "export APACHE_LOG_DIR=/var/log/apache2$SUFFIX\n"
    "echo noise\n"
    "NOT_EXPORTED=1\n";

static void test_source(void **state)
{
    (void)state;
    char file[PATH_MAX];
    snprintf(file, sizeof(file), "%s/envvars", dir);
    write_file("envvars", debian_like);
    unsetenv("APACHE_CONFDIR");
    static got_t g;
    memset(&g, 0, sizeof(g));
    char err[512];
    assert_int_equal(rl_envvars_source(file, "/etc/apache2-two", keep, &g, err, sizeof(err)),
                     RL_OK);
    assert_string_equal(value_of(&g, "APACHE_RUN_USER"), "www-data");
    assert_string_equal(value_of(&g, "APACHE_LOG_DIR"), "/var/log/apache2-two");
    assert_null(value_of(&g, "NOT_EXPORTED"));
    assert_null(value_of(&g, "APACHE_CONFDIR"));   /* a shell variable only */
    assert_null(value_of(&g, "HOME"));

    write_file("broken", "if then fi (\n");
    snprintf(file, sizeof(file), "%s/broken", dir);
    assert_int_equal(rl_envvars_source(file, dir, keep, &g, err, sizeof(err)), RL_ERROR);
    assert_non_null(strstr(err, "could not read"));
}

static void test_setup_keeps_what_is_set(void **state)
{
    (void)state;
    write_file("envvars", debian_like);
    setenv("APACHE_RUN_USER", "mine", 1);
    unsetenv("APACHE_LOG_DIR");
    unsetenv("APACHE_ENVVARS");
    unsetenv("APACHE_CONFDIR");
    char err[512];
    /* -d <dir> */
    assert_int_equal(rl_envvars_setup(dir, NULL, err, sizeof(err)), RL_OK);
    assert_string_equal(getenv("APACHE_RUN_USER"), "mine");
    assert_string_equal(getenv("APACHE_LOG_DIR"), "/var/log/apache2");

    /* -f <dir>/x.conf without -d: the config file's directory */
    unsetenv("APACHE_LOG_DIR");
    char cfg[PATH_MAX];
    snprintf(cfg, sizeof(cfg), "%s/apache2.conf", dir);
    assert_int_equal(rl_envvars_setup(NULL, cfg, err, sizeof(err)), RL_OK);
    assert_string_equal(getenv("APACHE_LOG_DIR"), "/var/log/apache2");

    /* APACHE_ENVVARS wins */
    write_file("other", "export APACHE_LOG_DIR=/elsewhere\n");
    char other[PATH_MAX];
    snprintf(other, sizeof(other), "%s/other", dir);
    setenv("APACHE_ENVVARS", other, 1);
    unsetenv("APACHE_LOG_DIR");
    assert_int_equal(rl_envvars_setup(dir, NULL, err, sizeof(err)), RL_OK);
    assert_string_equal(getenv("APACHE_LOG_DIR"), "/elsewhere");
    unsetenv("APACHE_ENVVARS");
}

static void test_no_file_no_change(void **state)
{
    (void)state;
    char err[512];
    unsetenv("APACHE_LOG_DIR");
    assert_int_equal(rl_envvars_setup("/nonexistent-dir", "/nonexistent-dir/x.conf", err,
                                      sizeof(err)), RL_OK);
    assert_null(getenv("APACHE_LOG_DIR"));
}

static void test_import_all(void **state)
{
    (void)state;
    write_file("envvars", debian_like);
    setenv("APACHE_RUN_USER", "mine", 1);
    setenv("HOME", "/root", 1);
    char file[PATH_MAX], err[512];
    snprintf(file, sizeof(file), "%s/envvars", dir);
    assert_int_equal(rl_envvars_import_all(file, "/etc/apache2", err, sizeof(err)), RL_OK);
    assert_string_equal(getenv("APACHE_RUN_USER"), "www-data");    /* the file wins */
    assert_null(getenv("HOME"));                                   /* and unsets */
    assert_non_null(getenv("PATH"));
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = { "envvars", "broken", "other" };
    for (size_t i = 0; i < 3; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_source),
        cmocka_unit_test(test_setup_keeps_what_is_set),
        cmocka_unit_test(test_no_file_no_change),
        cmocka_unit_test(test_import_all),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
