/* Reading a relaisd configuration in a unit test: the text is written to
 * <dir>/t.conf (dir made by the suite's setup with mkdtemp) after a
 * ServerRoot and an ErrorLog that goes nowhere. Include after cmocka.h;
 * the includer defines `static char dir[] = "/tmp/rl-x-XXXXXX";` first. */
#ifndef RL_TEST_CONF_FIXTURE_H
#define RL_TEST_CONF_FIXTURE_H

#include <stdio.h>
#include "httpd/config.h"

/* The configuration, or NULL with the message in <err>. */
static rl_config_t *load(const char *text, char *err, size_t errlen)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/t.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "ServerRoot %s\nErrorLog /dev/null\n%s", dir, text);
    fclose(f);
    rl_cli_conf_t cli = { .config_file = path, .server_root = dir };
    return rl_config_load(&cli, NULL, err, errlen);
}

/* The configuration; the test fails with the message when it is refused. */
static rl_config_t *load_ok(const char *text)
{
    char err[1024] = "";
    rl_config_t *cf = load(text, err, sizeof(err));
    if (cf == NULL)
        fail_msg("config failed: %s", err);
    return cf;
}

#endif
