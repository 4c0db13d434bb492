/* relais-fpm: php-fpm's command line. -t/-tt read and check the
 * configuration with php-fpm's messages and exit codes; -v, -m, -i start
 * PHP and describe it; otherwise the master runs the pools (master.h).
 *
 * Options are read as php-fpm's php_getopt() reads them: short ones may be
 * grouped (-tt) and take their argument attached or next (-yfile, -y file),
 * long ones take it after '=' or next (--fpm-config=file); anything else,
 * operands included, prints the usage and exits 64. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "fpm/conf.h"
#include "fpm/ini.h"
#include "fpm/leader.h"
#include "fpm/master.h"
#include "fpm/zlog.h"
#include "sapi/sapi.h"


/* php-fpm's exit codes (sysexits.h) */
#define EXIT_USAGE 64
#define EXIT_CONFIG 78

typedef struct {
    rl_fpm_opts_t opts;
    rl_fpm_kv_t *ini_tail;
    const char *php_ini;      /* -c: kept for the SAPI */
    bool no_php_ini;          /* -n */
    bool help, version, info, modules;
} cli_t;

static const struct {
    char opt;
    bool arg;
    const char *name;
} options[] = {
    { 'c', true, "php-ini" }, { 'd', true, "define" }, { 'e', false, "profile-info" },
    { 'h', false, "help" }, { 'i', false, "info" }, { 'm', false, "modules" },
    { 'n', false, "no-php-ini" }, { '?', false, "usage" }, { 'v', false, "version" },
    { 'y', true, "fpm-config" }, { 't', false, "test" }, { 'p', true, "prefix" },
    { 'g', true, "pid" }, { 'R', false, "allow-to-run-as-root" }, { 'D', false, "daemonize" },
    { 'F', false, "nodaemonize" }, { 'O', false, "force-stderr" },
};

static const char *prog = "relais-fpm";

/* php-fpm names itself by the base of argv[0] when it has a '/' */
static void set_prog(const char *argv0)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    if (slash && slash[1])
        prog = slash + 1;
}

static void usage(void)
{
    printf("Usage: %s [-n] [-e] [-h] [-i] [-m] [-v] [-t] [-p <prefix>] [-g <pid>] "
           "[-c <file>] [-d foo[=bar]] [-y <file>] [-D] [-F [-O]]\n"
           "  -c <path>|<file> Look for php.ini file in this directory\n"
           "  -n               No php.ini file will be used\n"
           "  -d foo[=bar]     Define INI entry foo with value 'bar'\n"
           "  -e               Generate extended information for debugger/profiler\n"
           "  -h               This help\n"
           "  -i               PHP information\n"
           "  -m               Show compiled in modules\n"
           "  -v               Version number\n"
           "  -p, --prefix <dir>\n"
           "                   Specify alternative prefix path to FastCGI process manager "
           "(default: %s).\n"
           "  -g, --pid <file>\n"
           "                   Specify the PID file location.\n"
           "  -y, --fpm-config <file>\n"
           "                   Specify alternative path to FastCGI process manager config file.\n"
           "  -t, --test       Test FPM configuration and exit\n"
           "  -D, --daemonize  force to run in background, and ignore daemonize option from "
           "config file\n"
           "  -F, --nodaemonize\n"
           "                   force to stay in foreground, and ignore daemonize option from "
           "config file\n"
           "  -O, --force-stderr\n"
           "                   force output to stderr in nodaemonize even if stderr is not a TTY\n"
           "  -R, --allow-to-run-as-root\n"
           "                   Allow pool to run as root (disabled by default)\n", prog, RL_FPM_PREFIX);
}

static void bad_usage(void)
{
    usage();
    exit(EXIT_USAGE);
}

/* -d name[=value]; value "1" without '=' as in PHP. */
static void add_define(cli_t *c, rl_arena_t *a, const char *arg)
{
    rl_fpm_kv_t *kv = rl_arena_calloc(a, sizeof(*kv));
    const char *eq = strchr(arg, '=');
    kv->key = eq ? rl_arena_strndup(a, arg, (size_t)(eq - arg)) : arg;
    kv->value = eq ? eq + 1 : "1";
    if (c->ini_tail)
        c->ini_tail->next = kv;
    else
        c->opts.ini = kv;
    c->ini_tail = kv;
}

static void apply(cli_t *c, rl_arena_t *a, char opt, const char *arg)
{
    switch (opt) {
    case 'c': c->php_ini = arg; break;
    case 'n': c->no_php_ini = true; break;
    case 'd': add_define(c, a, arg); break;
    case 'y': c->opts.config = arg; break;
    case 'p': c->opts.prefix = arg; break;
    case 'g': c->opts.pid = arg; break;
    case 't': c->opts.test++; break;
    case 'R': c->opts.run_as_root = true; break;
    case 'D': c->opts.force_daemon = 1; break;
    case 'F': c->opts.force_daemon = 0; break;
    case 'O': c->opts.force_stderr = true; break;
    case 'h': case '?': c->help = true; break;
    case 'v': c->version = true; break;
    case 'i': c->info = true; break;
    case 'm': c->modules = true; break;
    default: break;           /* -e */
    }
}

static int find_short(char opt)
{
    for (size_t i = 0; i < RL_NELEMS(options); i++)
        if (options[i].opt == opt)
            return (int)i;
    return -1;
}

/* --name, --name=value, --name value. Returns the next argv index. */
static int parse_long(cli_t *c, rl_arena_t *a, int argc, char **argv, int i)
{
    const char *name = argv[i] + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    for (size_t k = 0; k < RL_NELEMS(options); k++) {
        if (strlen(options[k].name) != len || strncmp(options[k].name, name, len) != 0)
            continue;
        const char *arg = NULL;
        if (options[k].arg) {
            if (eq)
                arg = eq + 1;
            else if (i + 1 < argc)
                arg = argv[++i];
            else
                bad_usage();
        }
        apply(c, a, options[k].opt, arg);
        return i + 1;
    }
    bad_usage();
    return argc;
}

static void parse_cli(cli_t *c, rl_arena_t *a, int argc, char **argv)
{
    c->opts.force_daemon = -1;
    for (int i = 1; i < argc; ) {
        const char *s = argv[i];
        if (s[0] != '-' || s[1] == '\0')
            bad_usage();
        if (s[1] == '-') {
            i = parse_long(c, a, argc, argv, i);
            continue;
        }
        for (s++; *s; s++) {
            int k = find_short(*s);
            if (k < 0)
                bad_usage();
            if (!options[k].arg) {
                apply(c, a, *s, NULL);
                continue;
            }
            if (s[1])
                apply(c, a, *s, s + 1);
            else if (i + 1 < argc)
                apply(c, a, *s, argv[++i]);
            else
                bad_usage();
            break;
        }
        i++;
    }
}

/* -c, -n, -d for the SAPI. */
static rl_sapi_opts_t php_opts(const cli_t *c, rl_arena_t *a)
{
    rl_sapi_opts_t o = { .php_ini = c->php_ini, .no_php_ini = c->no_php_ini };
    rl_sapi_ini_t **tail = (rl_sapi_ini_t **)&o.defines;
    for (const rl_fpm_kv_t *kv = c->opts.ini; kv; kv = kv->next) {
        rl_sapi_ini_t *d = rl_arena_calloc(a, sizeof(*d));
        d->name = kv->key;
        d->value = kv->value;
        *tail = d;
        tail = &d->next;
    }
    return o;
}

/* A copy of argv for the re-exec of a reload: the process title is written
 * over the original. */
static char **copy_argv(rl_arena_t *a, int argc, char **argv)
{
    char **v = rl_arena_calloc(a, sizeof(char *) * ((size_t)argc + 1));
    for (int i = 0; i < argc; i++)
        v[i] = rl_arena_strdup(a, argv[i]);
    return v;
}

/* -v, -m, -i: they need PHP itself. */
static int php_info(const cli_t *c, const rl_sapi_opts_t *php)
{
    if (rl_sapi_startup(php) < 0)
        return 1;
    if (c->version) {
        rl_sapi_print_version();
        printf("    with relais-fpm, a process manager for php-fpm %s configurations\n",
               rl_ini_php_version());
    }
    else if (c->modules)
        rl_sapi_print_modules();
    else
        rl_sapi_print_info();
    fflush(stdout);
    rl_sapi_shutdown();
    return 0;
}

int main(int argc, char **argv)
{
    rl_arena_t *a = rl_arena_create(0);
    cli_t cli = { 0 };
    set_prog(argv[0]);
    char **saved_argv = copy_argv(a, argc, argv);
    parse_cli(&cli, a, argc, argv);
    rl_sapi_opts_t php = php_opts(&cli, a);
    if (cli.help) {
        usage();
        rl_arena_destroy(a);
        return 0;
    }
    if (cli.version || cli.info || cli.modules) {
        int rc = php_info(&cli, &php);
        rl_arena_destroy(a);
        return rc;
    }
    rl_fpm_title_init(argc, argv);

    rl_zlog_t log;
    rl_zlog_init(&log);
    rl_fpm_conf_t conf;
    int rc = rl_fpm_conf_load(&conf, a, &cli.opts, &log);
    if (rc != RL_OK) {
        rl_zlog(&log, RL_ZLOG_ERROR, "FPM initialization failed");
        rl_zlog_close(&log);
        rl_arena_destroy(a);
        return EXIT_CONFIG;
    }
    if (cli.opts.test) {
        rl_zlog_close(&log);
        rl_arena_destroy(a);
        return 0;
    }
    rl_fpm_master_t m = { .conf = &conf, .opts = &cli.opts, .php = &php, .log = &log,
                          .argv = saved_argv };
    rc = rl_fpm_master_run(&m);
    if (rc == 70)
        rl_zlog(&log, RL_ZLOG_ERROR, "FPM initialization failed");
    rl_zlog_close(&log);
    rl_arena_destroy(a);
    return rc;
}
