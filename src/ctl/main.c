/* relaisctl: apache2ctl, a2enmod & co. and an FPM control for the relais
 * stack, in one program (see apachectl.h, links.h, fpmctl.h, check.h).
 *
 *   relaisctl [options] <action> [arguments]
 *
 * Options before the action: -d dir (the tree), -f file (relaisd's -f),
 * -y file (the FPM configuration), --no-fpm, -W/--strict, -q (for the
 * link actions). A first word that is an option of none of these goes,
 * with everything after it, to relaisd (relaisctl -S, -M, -V), as
 * apache2ctl passes unknown arguments to apache2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl/apachectl.h"
#include "ctl/check.h"
#include "ctl/fpmctl.h"
#include "ctl/links.h"

#define MAX_ARGS 1024

static void usage(const char *prog)
{
    fprintf(stderr,
        "Usage: %s [-d dir] [-f file] start|stop|restart|graceful|graceful-stop|configtest|"
        "status|help\n"
        "       %s [-d dir] [-f file] <relaisd args>\n"
        "       %s [-y php-fpm.conf] [--no-fpm] [-W] configtest\n"
        "       %s [-y php-fpm.conf] fpm-test|fpm-reload|fpm-reopen|fpm-stop\n"
        "       %s [-d dir] enmod|dismod|enconf|disconf|ensite|dissite [-q] [-f] NAME...\n"
        "       %s -h            (for help on <relaisd args>)\n",
        prog, prog, prog, prog, prog, prog);
}

typedef struct {
    rl_ctl_t c;
    bool quiet;
    const char *action;
    char *rest[MAX_ARGS];     /* the words after the action (or all, for relaisd) */
    int nrest;
} cli_t;

/* An option relaisctl knows at <argv>[<i>]; returns how many words it
 * took (0: not one of ours). */
static int own_option(cli_t *cli, int argc, char **argv, int i, bool links)
{
    const char *a = argv[i];
    bool arg = i + 1 < argc;
    if (strcmp(a, "-d") == 0 && arg) return cli->c.server_root = argv[i + 1], 2;
    if (strcmp(a, "-f") == 0 && arg && !links) return cli->c.config_file = argv[i + 1], 2;
    if (strcmp(a, "-y") == 0 && arg) return cli->c.fpm_conf = argv[i + 1], 2;
    if (strncmp(a, "--fpm-config=", 13) == 0) return cli->c.fpm_conf = a + 13, 1;
    if (strcmp(a, "--no-fpm") == 0) return cli->c.no_fpm = true, 1;
    if (strcmp(a, "-W") == 0 || strcmp(a, "--strict") == 0) return cli->c.strict = true, 1;
    if (strcmp(a, "-q") == 0 && !links) return cli->quiet = true, 1;
    return 0;
}

static bool is_links(const char *a)
{
    static const char *const k[] = { "enmod", "dismod", "enconf", "disconf", "ensite",
                                     "dissite" };
    for (size_t i = 0; a && i < RL_NELEMS(k); i++)
        if (strcmp(a, k[i]) == 0)
            return true;
    return false;
}

static void parse(cli_t *cli, int argc, char **argv)
{
    int i = 1;
    while (i < argc && cli->action == NULL) {
        int took = own_option(cli, argc, argv, i, false);
        if (took) {
            i += took;
            continue;
        }
        if (argv[i][0] != '-')
            cli->action = argv[i++];
        break;                      /* else: relaisd's arguments from here */
    }
    bool links = is_links(cli->action);
    if (links && cli->quiet)
        cli->rest[cli->nrest++] = "-q";
    for (; i < argc && cli->nrest < MAX_ARGS; i++) {
        int took = cli->action && !links ? own_option(cli, argc, argv, i, false) : 0;
        if (links && strcmp(argv[i], "-d") == 0 && i + 1 < argc)
            took = own_option(cli, argc, argv, i, true);
        if (took) {
            i += took - 1;
            continue;
        }
        cli->rest[cli->nrest++] = argv[i];
    }
}

static int links(cli_t *cli)
{
    static const struct { const char *name; rl_ctl_kind_t kind; bool enable; } k[] = {
        { "enmod", RL_CTL_MOD, true }, { "dismod", RL_CTL_MOD, false },
        { "enconf", RL_CTL_CONF, true }, { "disconf", RL_CTL_CONF, false },
        { "ensite", RL_CTL_SITE, true }, { "dissite", RL_CTL_SITE, false },
    };
    char hint[PATH_MAX + 32];
    rl_ctl_links_t o = { .confdir = cli->c.confdir, .ctl_hint = hint };
    for (size_t i = 0; i < RL_NELEMS(k); i++)
        if (strcmp(cli->action, k[i].name) == 0)
            o.kind = k[i].kind, o.enable = k[i].enable;
    if (strcmp(cli->c.confdir, "/etc/apache2") == 0)
        snprintf(hint, sizeof(hint), "relaisctl");
    else
        snprintf(hint, sizeof(hint), "relaisctl -d %s", cli->c.confdir);
    return rl_ctl_links_run(&o, cli->nrest, cli->rest);
}

int main(int argc, char **argv)
{
    static cli_t cli;
    parse(&cli, argc, argv);
    const char *a = cli.action;
    if ((a == NULL && cli.nrest == 0) || (a && (strcmp(a, "help") == 0 ||
                                                strcmp(a, "usage") == 0))) {
        usage(argv[0]);
        return 1;
    }
    rl_ctl_setup(&cli.c);
    if (a && strncmp(a, "fpm-", 4) == 0) {
        if (cli.nrest) {
            usage(argv[0]);
            return 2;
        }
        int rc = rl_ctl_fpm(&cli.c, a);
        if (rc == 2)
            usage(argv[0]);
        return rc;
    }
    if (rl_ctl_envvars(&cli.c) != RL_OK)
        return 1;
    if (a && is_links(a))
        return links(&cli);
    if (a == NULL)
        return rl_ctl_apachectl(&cli.c, "", cli.nrest, cli.rest);
    /* the action and its words, for relaisd and "Action '...' failed." */
    char *words[MAX_ARGS + 1];
    words[0] = (char *)a;
    memcpy(words + 1, cli.rest, sizeof(char *) * (size_t)cli.nrest);
    return rl_ctl_apachectl(&cli.c, a, cli.nrest + 1, words);
}
