/* Tests for ctl/links (relaisctl enmod & co.): the relative link targets
 * a2enmod makes (File::Spec->abs2rel), its reading of "# Depends:" and
 * "# Conflicts:", and a run on a small tree: dependencies first, a
 * conflict refused, the .conf linked with the .load, dismod refused while
 * a dependent module is enabled. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ctl/links.h"

static void check_rel(const char *target, const char *base, const char *expected)
{
    char out[PATH_MAX];
    assert_int_equal(rl_ctl_relpath(target, base, out, sizeof(out)), RL_OK);
    assert_string_equal(out, expected);
}

static void test_relpath(void **state)
{
    (void)state;
    check_rel("/etc/apache2/mods-available/rewrite.load", "/etc/apache2/mods-enabled",
              "../mods-available/rewrite.load");
    check_rel("/a/b/c", "/a/d", "../b/c");
    check_rel("/a/b", "/a/b", ".");
    check_rel("/a/./b//c", "/a/x/../y", "../b/c");
    check_rel("/srv/mods/x.load", "/etc/apache2/mods-enabled", "../../../srv/mods/x.load");
    check_rel("/a/b/c", "/", "a/b/c");
    char small[4];
    assert_int_equal(rl_ctl_relpath("/a/bcdef", "/", small, sizeof(small)), RL_ERROR);
}

static void check_deps(const char *text, const char *type, const char *const *expected)
{
    char **v = rl_ctl_deps_parse(text, type);
    size_t i = 0;
    for (; expected[i]; i++) {
        assert_non_null(v[i]);
        assert_string_equal(v[i], expected[i]);
    }
    assert_null(v[i]);
    free(v);
}

static void test_deps(void **state)
{
    (void)state;
    static const char *const none[] = { NULL };
    static const char *const proxy[] = { "proxy", NULL };
    static const char *const two[] = { "mpm_worker", "mpm_prefork", NULL };
    check_deps("# Depends: proxy\nLoadModule proxy_fcgi_module x.so\n", "Depends", proxy);
    check_deps("# Conflicts: mpm_worker mpm_prefork  \nLoadModule x y\n", "Conflicts", two);
    check_deps("# Conflicts: mpm_worker\tmpm_prefork\n", "Conflicts", two);
    /* comment and empty lines before it are fine ... */
    check_deps("# a comment\n\n   \n# Depends: proxy\n", "Depends", proxy);
    /* ... another line first ends the search, as in a2enmod */
    check_deps("LoadModule x y\n# Depends: proxy\n", "Depends", none);
    /* the exact form: "# Depends:" then blanks */
    check_deps("#Depends: proxy\n", "Depends", none);
    check_deps("# Depends:proxy\n", "Depends", none);
    check_deps("# depends: proxy\n", "Depends", none);
    check_deps("# Depends: proxy\n", "Conflicts", none);
    check_deps("", "Depends", none);
    check_deps("# Depends: proxy", "Depends", proxy);            /* no newline at the end */
}

/* ---- a run on a tree ---- */

static char tree[] = "/tmp/test_ctl_links.XXXXXX";

static void put(const char *rel, const char *text)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", tree, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static bool linked(const char *rel, const char *expected_target)
{
    char p[PATH_MAX], t[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", tree, rel);
    ssize_t n = readlink(p, t, sizeof(t) - 1);
    if (n < 0)
        return false;
    t[n] = '\0';
    assert_string_equal(t, expected_target);
    return true;
}

static int run(rl_ctl_kind_t kind, bool enable, const char *a1, const char *a2)
{
    rl_ctl_links_t o = { .confdir = tree, .ctl_hint = "relaisctl", .kind = kind,
                         .enable = enable };
    char *argv[] = { "-q", (char *)a1, (char *)a2, NULL };
    return rl_ctl_links_run(&o, a2 ? 3 : 2, argv);
}

static void test_run(void **state)
{
    (void)state;
    assert_int_equal(run(RL_CTL_MOD, true, "proxy_fcgi", NULL), 0);
    assert_true(linked("mods-enabled/proxy.load", "../mods-available/proxy.load"));
    assert_true(linked("mods-enabled/proxy.conf", "../mods-available/proxy.conf"));
    assert_true(linked("mods-enabled/proxy_fcgi.load", "../mods-available/proxy_fcgi.load"));
    /* again: nothing to do, still 0 */
    assert_int_equal(run(RL_CTL_MOD, true, "proxy_fcgi.load", NULL), 0);
    /* proxy_fcgi depends on proxy */
    assert_int_equal(run(RL_CTL_MOD, false, "proxy", NULL), 1);
    assert_true(linked("mods-enabled/proxy.load", "../mods-available/proxy.load"));
    /* mpm_prefork conflicts with the enabled mpm_event */
    assert_int_equal(run(RL_CTL_MOD, true, "mpm_prefork", NULL), 1);
    assert_false(linked("mods-enabled/mpm_prefork.load", ""));
    assert_int_equal(run(RL_CTL_MOD, true, "nope", NULL), 1);
    /* globs, in the enabled ones for dismod */
    assert_int_equal(run(RL_CTL_MOD, false, "proxy_*", NULL), 0);
    assert_int_equal(run(RL_CTL_MOD, false, "proxy", NULL), 0);
    assert_false(linked("mods-enabled/proxy.load", ""));
    assert_false(linked("mods-enabled/proxy.conf", ""));
    /* sites and confs; a conf whose module is not enabled is refused */
    assert_int_equal(run(RL_CTL_SITE, true, "one", NULL), 0);
    assert_true(linked("sites-enabled/one.conf", "../sites-available/one.conf"));
    assert_int_equal(run(RL_CTL_SITE, false, "one", NULL), 0);
    assert_false(linked("sites-enabled/one.conf", ""));
    assert_int_equal(run(RL_CTL_CONF, true, "php", NULL), 1);
    assert_int_equal(run(RL_CTL_MOD, true, "proxy_fcgi", NULL), 0);
    assert_int_equal(run(RL_CTL_CONF, true, "php", NULL), 0);
    assert_true(linked("conf-enabled/php.conf", "../conf-available/php.conf"));
    /* an unknown option: 2, as Getopt::Long */
    assert_int_equal(run(RL_CTL_CONF, true, "-x", "php"), 2);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tree))
        return -1;
    static const char *const dirs[] = { "mods-available", "mods-enabled", "conf-available",
        "conf-enabled", "sites-available", "sites-enabled" };
    for (size_t i = 0; i < RL_NELEMS(dirs); i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", tree, dirs[i]);
        mkdir(p, 0755);
    }
    put("mods-available/proxy.load", "LoadModule proxy_module x.so\n");
    put("mods-available/proxy.conf", "<IfModule mod_proxy.c>\n</IfModule>\n");
    put("mods-available/proxy_fcgi.load", "# Depends: proxy\nLoadModule proxy_fcgi_module x\n");
    put("mods-available/mpm_event.load", "# Conflicts: mpm_worker mpm_prefork\nLoadModule a b\n");
    put("mods-available/mpm_prefork.load", "# Conflicts: mpm_event mpm_worker\nLoadModule a b\n");
    put("conf-available/php.conf", "# Depends: proxy_fcgi\nSetHandler x\n");
    put("sites-available/one.conf", "<VirtualHost *:80>\n</VirtualHost>\n");
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/mods-enabled/mpm_event.load", tree);
    return symlink("../mods-available/mpm_event.load", p);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relpath),
        cmocka_unit_test(test_deps),
        cmocka_unit_test(test_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
