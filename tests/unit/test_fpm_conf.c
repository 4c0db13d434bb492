/* Unit tests for src/fpm/ini.c, src/fpm/zlog.c and src/fpm/conf.c: php-fpm
 * 8.2's configuration, read verbatim. Every expected message and value was
 * checked against php-fpm8.2 -t / -tt on the same input (the e2e test
 * tests/e2e/test_fpm_conf.py keeps comparing the two).
 *
 * conf.c is included to swap its file-system table: the tests decide
 * whether they run as root and what the environment holds. Each test gets a
 * fresh mkdtemp() directory, "@D" in the texts below. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fpm/conf.c"

typedef struct {
    char dir[64];
    rl_arena_t *arena;
    rl_zlog_t log;
    rl_buf_t out;              /* what went to "stderr", without timestamps */
    rl_fpm_conf_t conf;
    rl_fpm_opts_t opts;
    rl_buf_t events;           /* rl_ini_parse() statements */
} fx_t;

static uid_t euid = 0;
static uid_t fake_geteuid(void) { return euid; }

static char *fake_getenv(const char *name)
{
    if (strcmp(name, "FX_HOME") == 0)
        return "/home/fx";
    if (strcmp(name, "FX_ON") == 0)
        return "on";
    return NULL;
}

/* Keeps a line without its "[27-Nov-2026 05:01:27] " */
static void sink(void *ctx, const char *line, size_t len)
{
    fx_t *f = ctx;
    if (len > 23 && line[0] == '[' && line[21] == ']' && line[22] == ' ') {
        line += 23;
        len -= 23;
    }
    rl_buf_append(&f->out, line, len);
}

static int setup(void **state)
{
    fx_t *f = rl_xcalloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/rl-fpm-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->arena = rl_arena_create(0);
    rl_zlog_init(&f->log);
    f->log.sink = sink;
    f->log.sink_ctx = f;
    f->opts.force_daemon = -1;
    f->opts.test = 1;
    euid = 0;
    sys.geteuid = fake_geteuid;
    sys.getenv = fake_getenv;
    *state = f;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fx_t *f = *state;
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    rl_zlog_close(&f->log);
    rl_buf_release(&f->out);
    rl_buf_release(&f->events);
    rl_arena_destroy(f->arena);
    free(f);
    return 0;
}

/* <text> with every "@D" replaced by the test's directory. */
static const char *D(fx_t *f, const char *text)
{
    rl_buf_t b = RL_BUF_INIT;
    for (const char *s = text; *s; ) {
        const char *at = strstr(s, "@D");
        size_t n = at ? (size_t)(at - s) : strlen(s);
        rl_buf_append(&b, s, n);
        if (!at)
            break;
        rl_buf_append_c(&b, f->dir);
        s = at + 2;
    }
    const char *r = rl_arena_strndup(f->arena, b.data ? b.data : "", b.len);
    rl_buf_release(&b);
    return r;
}

static void wfile(fx_t *f, const char *rel, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    for (char *s = path + strlen(f->dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(D(f, text), fp);
    fclose(fp);
}

/* Loads <text> as @D/c.conf; returns the rc, messages in f->out. */
static int load(fx_t *f, const char *text)
{
    wfile(f, "c.conf", text);
    f->opts.config = D(f, "@D/c.conf");
    rl_buf_clear(&f->out);
    rl_zlog_close(&f->log);              /* each load is a fresh php-fpm */
    rl_zlog_init(&f->log);
    f->log.sink = sink;
    f->log.sink_ctx = f;
    return rl_fpm_conf_load(&f->conf, f->arena, &f->opts, &f->log);
}

static const char *out(fx_t *f)
{
    return rl_arena_strndup(f->arena, f->out.data ? f->out.data : "", f->out.len);
}

/* Expects <text> to fail with exactly the messages <want> (@D expanded). */
static void load_err(fx_t *f, const char *text, const char *want)
{
    if (load(f, text) == RL_OK)
        fail_msg("no error for:\n%s\noutput:\n%s", text, out(f));
    assert_string_equal(out(f), D(f, want));
}

static void load_ok(fx_t *f, const char *text)
{
    if (load(f, text) != RL_OK)
        fail_msg("error for:\n%s\noutput:\n%s", text, out(f));
}

#define GLOBAL "[global]\nerror_log = @D/err.log\n"
#define POOL "[www]\nlisten = @D/www.sock\nuser = nobody\npm = static\npm.max_children = 5\n"
#define OK_LINE(f) D(f, "NOTICE: configuration file @D/c.conf test is successful\n\n")

/* ---- the INI dialect ---- */

static void ini_event(void *ctx, rl_ini_event_t ev, const char *name, const char *key, const char *value)
{
    fx_t *f = ctx;
    if (ev == RL_INI_SECTION)
        rl_buf_appendf(&f->events, "[%s]", name);
    else if (ev == RL_INI_ENTRY)
        rl_buf_appendf(&f->events, "%s=%s%s%s;", name, value ? "<" : "", value ? value : "NULL",
                       value ? ">" : "");
    else
        rl_buf_appendf(&f->events, "%s[%s]=<%s>;", name, key, value);
}

static const char *ini_var(void *ctx, const char *name)
{
    (void)ctx;
    return fake_getenv(name);
}

/* The statements of <line> ("a=<1>;b[k]=<2>;[s]"), then "!" and the
 * syntax error if there is one. */
static const char *ini(fx_t *f, const char *line)
{
    rl_ini_parser_t p = { ini_event, ini_var, f };
    char err[256];
    rl_buf_clear(&f->events);
    if (rl_ini_parse(&p, line, strlen(line), err, sizeof(err)) != RL_OK)
        rl_buf_appendf(&f->events, "!%s", err);
    return rl_arena_strndup(f->arena, f->events.data ? f->events.data : "", f->events.len);
}

static void test_ini_values(void **state)
{
    fx_t *f = *state;
    assert_string_equal(ini(f, "user = www-data\n"), "user=<www-data>;");
    assert_string_equal(ini(f, "listen=/run/php/php8.2-fpm.sock ; comment\n"),
                        "listen=</run/php/php8.2-fpm.sock>;");
    assert_string_equal(ini(f, "a = b c   d  \n"), "a=<b c   d>;");
    assert_string_equal(ini(f, "a = \"x ; y\" 'z;' w\n"), "a=<x ; yz; w>;");
    assert_string_equal(ini(f, "a = foo \"bar\"  baz\n"), "a=<foobarbaz>;");
    assert_string_equal(ini(f, "a = \"q\\\"x\\\\y\\$z\\n\"\n"), "a=<q\"x\\y$z\\n>;");
    assert_string_equal(ini(f, "a = \"C:\\path\\\"\n"), "a=<C:\\path\\>;");
    assert_string_equal(ini(f, "a =\n"), "a=<>;");
    assert_string_equal(ini(f, "a = $pool.sock\n"), "a=<$pool.sock>;");
    assert_string_equal(ini(f, "a = ${FX_HOME}/x \"${FX_HOME}\" ${NOPE}.\n"),
                        "a=</home/fx/x/home/fx.>;");
    assert_string_equal(ini(f, "a = ${ FX_HOME }\n"), "a=</home/fx>;");
    /* booleans and null */
    assert_string_equal(ini(f, "a = yes\nb = On\nc = TRUE\nd = off\ne = none\nf = null\n"),
                        "a=<1>;b=<1>;c=<1>;d=<>;e=<>;f=<>;");
    assert_string_equal(ini(f, "a = yesno\nb = \"yes\"\n"), "a=<yesno>;b=<yes>;");
    /* constants and expressions */
    assert_string_equal(ini(f, "a = E_ALL & ~E_NOTICE\n"), "a=<32759>;");
    assert_string_equal(ini(f, "a = E_ALL & ~E_DEPRECATED & ~E_STRICT\n"), "a=<22527>;");
    assert_string_equal(ini(f, "a = 1 | 2 & 4\nb = 2^7\nc = !0\nd = ~1 2\ne = (1)\n"),
                        "a=<0>;b=<5>;c=<1>;d=<-2>;e=<1>;");
    assert_string_equal(ini(f, "a = 4294967297 | 0\nb = 0x10 | 0\nc = 3+4\n"),
                        "a=<1>;b=<0>;c=<3+4>;");
    assert_string_equal(ini(f, "a = E_all\nb = PHP_OS\nc = _X\n"), "a=<E_all>;b=<Linux>;c=<_X>;");
    assert_string_equal(ini(f, "a = PHP_MAJOR_VERSION \"-\" PHP_MINOR_VERSION\nb = E_ALL.x\n"),
                        "a=<8-2>;b=<E_ALL.x>;");
    /* arrays and sections */
    assert_string_equal(ini(f, "php_value[memory_limit] = 128M\n"), "php_value[memory_limit]=<128M>;");
    assert_string_equal(ini(f, " env [ PATH ] = /bin\n"), "env[PATH ]=</bin>;");
    assert_string_equal(ini(f, "php_value[E_ALL] = 1\nphp_value[\"a b\"] = 2\n"),
                        "php_value[32767]=<1>;php_value[a b]=<2>;");
    assert_string_equal(ini(f, "[www]\n"), "[www]");
    assert_string_equal(ini(f, "[ a b ]  ; c\n"), "[ a b ]");
    assert_string_equal(ini(f, "[\"q\" x]\n"), "[qx]");
    assert_string_equal(ini(f, "[E_ALL]\n"), "[E_ALL]");
    /* a bare name, a lone CR splitting a line, a UTF-8 BOM, NUL */
    assert_string_equal(ini(f, "# comment\n"), "# comment=NULL;");
    assert_string_equal(ini(f, "a = 1\rb = 2\n"), "a=<1>;b=<2>;");
    assert_string_equal(ini(f, "\xef\xbb\xbf" "a = 1\n"), "a=<1>;");
    assert_string_equal(ini(f, "a = 1;\n"), "a=<1>;");
}

static void test_ini_errors(void **state)
{
    fx_t *f = *state;
    /* the statement is complete before the error that follows it */
    assert_string_equal(ini(f, "a = b = c\n"),
                        "a=<b >;!syntax error, unexpected '=' in Unknown on line 1");
    assert_string_equal(ini(f, "a = yes please\n"),
                        "a=<1>;!syntax error, unexpected TC_CONSTANT in Unknown on line 1");
    assert_string_equal(ini(f, "a(b) = 1\n"),
                        "a=NULL;!syntax error, unexpected '(' in Unknown on line 1");
    assert_string_equal(ini(f, "yes = 1\n"), "!syntax error, unexpected BOOL_TRUE in Unknown on line 1");
    assert_string_equal(ini(f, "null = 1\n"), "!syntax error, unexpected NULL_NULL in Unknown on line 1");
    assert_string_equal(ini(f, "$x = 1\n"), "!syntax error, unexpected '$' in Unknown on line 1");
    assert_string_equal(ini(f, "a = \"open\n"), "!syntax error, unexpected end of file, expecting "
                        "TC_DOLLAR_CURLY or TC_QUOTED_STRING or '\"' in Unknown on line 2");
    assert_string_equal(ini(f, "[global\n"),
                        "!syntax error, unexpected end of file, expecting ']' in Unknown on line 1");
    assert_string_equal(ini(f, "[a] $\n"), "[a]!syntax error, unexpected '$' in Unknown on line 2");
    assert_string_equal(ini(f, "php_value[a]\n"),
                        "!syntax error, unexpected END_OF_LINE, expecting '=' in Unknown on line 2");
    assert_string_equal(ini(f, "php_value[a] b\n"),
                        "!syntax error, unexpected TC_LABEL, expecting '=' in Unknown on line 1");
    assert_string_equal(ini(f, "a = (1\n"), "!syntax error, unexpected END_OF_LINE, expecting "
                        "'^' or '|' or '&' or ')' in Unknown on line 2");
    assert_string_equal(ini(f, "a = 1 |\n"),
                        "!syntax error, unexpected END_OF_LINE in Unknown on line 2");
    assert_string_equal(ini(f, "a = ${\n"),
                        "!syntax error, unexpected end of file, expecting TC_VARNAME in Unknown on line 1");
    assert_string_equal(ini(f, "a = ${x\n"),
                        "!syntax error, unexpected end of file, expecting '}' in Unknown on line 1");
    assert_string_equal(ini(f, "a = 'x\n"), "!syntax error, unexpected end of file in Unknown on line 1");
    /* an unclosed raw string at the end is the end; '' ends the value */
    assert_string_equal(ini(f, "a = b 'x\n"), "a=<b >;");
    assert_string_equal(ini(f, "a = ''\n"), "a=<>;'=NULL;");
}

/* ---- the log lines ---- */

static void test_zlog(void **state)
{
    fx_t *f = *state;
    rl_zlog(&f->log, RL_ZLOG_ERROR, "[pool %s] boom", "www");
    rl_zlog(&f->log, RL_ZLOG_DEBUG, "hidden");
    rl_zlog_errno(&f->log, 2, "failed to open '%s'", "x");
    rl_zlog_raw(&f->log, "PHP:  %s\n", "raw");
    assert_string_equal(out(f), "ERROR: [pool www] boom\n"
                                "ERROR: failed to open 'x': No such file or directory (2)\n"
                                "PHP:  raw\n");
    assert_string_equal(rl_zlog_level_name(0), "unknown value");
    assert_string_equal(rl_zlog_level_name(RL_ZLOG_WARNING), "WARNING");
    /* a line of 2048 bytes or more is cut to log_limit - 1 */
    char big[3000];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    rl_buf_clear(&f->out);
    f->log.limit = 600;
    rl_zlog(&f->log, RL_ZLOG_NOTICE, "%s", big);
    assert_int_equal(f->out.len, 600 - 23);
    assert_memory_equal(f->out.data + f->out.len - 4, "...\n", 4);
    rl_buf_clear(&f->out);
    rl_zlog(&f->log, RL_ZLOG_NOTICE, "%.*s", 2047 - 23 - 8, big);
    assert_int_equal(f->out.len, 2048 - 23);
    rl_zlog_set_level(&f->log, 0);
    assert_int_equal(f->log.level, RL_ZLOG_NOTICE);
}

/* ---- the configuration ---- */

static void test_stock_like(void **state)
{
    fx_t *f = *state;
    wfile(f, "pool.d/www.conf",
          "[www]\nuser = www-data\ngroup = www-data\nlisten = @D/php8.2-fpm.sock\n"
          "listen.owner = www-data\nlisten.group = www-data\npm = dynamic\npm.max_children = 5\n"
          "pm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 3\n");
    load_ok(f, "[global]\npid = @D/php8.2-fpm.pid\nerror_log = @D/php8.2-fpm.log\n"
               "include=@D/pool.d/*.conf\n");
    assert_string_equal(out(f), OK_LINE(f));
    rl_fpm_pool_t *wp = rl_fpm_conf_pool(&f->conf, "WWW");
    assert_non_null(wp);
    assert_string_equal(wp->user, "www-data");
    assert_int_equal(wp->pm, RL_FPM_PM_DYNAMIC);
    assert_int_equal(wp->pm_start_servers, 2);
    assert_int_equal(wp->listen_backlog, -1);
    assert_int_equal(wp->listen_domain, RL_FPM_LISTEN_UNIX);
    assert_string_equal(wp->security_limit_extensions, ".php .phar");
    assert_string_equal(wp->limit_extensions[0], ".php");
    assert_string_equal(wp->limit_extensions[1], ".phar");
    assert_null(wp->limit_extensions[2]);
    assert_int_equal(f->conf.global.daemonize, 1);
    assert_string_equal(f->conf.global.events_name, "epoll");
    assert_int_equal(f->conf.global.systemd_interval, 10000);
    assert_int_equal(f->conf.global.syslog_facility, LOG_DAEMON);
    /* the error_log is open and written to */
    struct stat st;
    assert_int_equal(stat(D(f, "@D/php8.2-fpm.log"), &st), 0);
    assert_true(st.st_size > 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_values(void **state)
{
    fx_t *f = *state;
    load_ok(f, GLOBAL "emergency_restart_interval = 1m\nprocess_control_timeout = 10s\n"
               "systemd_interval = 5\nrlimit_core = unlimited\nlog_level = Warn\n"
               "syslog.facility = local3\ndaemonize = no\n"
               POOL "request_terminate_timeout = 2h\npm.process_idle_timeout = 1d\n"
               "request_slowlog_timeout = 1.5m\nslowlog = @D/slow.log\n"
               "catch_workers_output = yes\nclear_env = \"no\"\nprocess.dumpable = ${FX_ON}\n"
               "listen.backlog = -5\nrlimit_files = -\nlisten = 127.0.0.1:9000\n"
               "security.limit_extensions = \" .php  \t.php7 \"\n");
    const rl_fpm_global_t *g = &f->conf.global;
    assert_int_equal(g->emergency_restart_interval, 60);
    assert_int_equal(g->process_control_timeout, 10);
    assert_int_equal(g->systemd_interval, 5000);
    assert_int_equal(g->rlimit_core, -1);
    assert_int_equal(g->log_level, RL_ZLOG_WARNING);
    assert_int_equal(g->syslog_facility, LOG_LOCAL3);
    assert_int_equal(g->daemonize, 0);
    rl_fpm_pool_t *wp = f->conf.pools;
    assert_int_equal(wp->request_terminate_timeout, 7200);
    assert_int_equal(wp->pm_process_idle_timeout, 86400);
    assert_int_equal(wp->request_slowlog_timeout, 60);
    assert_int_equal(wp->catch_workers_output, 1);
    assert_int_equal(wp->clear_env, 0);
    assert_int_equal(wp->process_dumpable, 1);
    assert_int_equal(wp->listen_backlog, -5);
    assert_int_equal(wp->rlimit_files, 0);
    assert_int_equal(wp->listen_domain, RL_FPM_LISTEN_INET);
    assert_string_equal(wp->limit_extensions[0], ".php");
    assert_string_equal(wp->limit_extensions[1], ".php7");
    assert_null(wp->limit_extensions[2]);
    assert_int_equal(f->conf.heartbeat, 20000);
    /* log_level = warning: the NOTICE of success is not written */
    assert_string_equal(out(f), "");
}

static void test_arrays_and_pool(void **state)
{
    fx_t *f = *state;
    load_ok(f, GLOBAL POOL "env[PATH] = /usr/bin\nenv[TMP] = /tmp/$pool\n"
               "php_value[memory_limit] = 128M\nphp_flag[display_errors] = off\n"
               "php_admin_value[error_log] = log/$pool.err\nphp_admin_flag[log_errors] = on\n"
               "php_value[session.cookie_path] = rel\nphp_value[other] = rel\n"
               "access.suppress_path[] = /ping\naccess.suppress_path[] = /status\n"
               "listen = @D/$pool.sock\nping.path = /ping\n");
    rl_fpm_pool_t *wp = f->conf.pools;
    assert_string_equal(wp->listen_address, D(f, "@D/www.sock"));
    /* newest first, as php-fpm keeps (and dumps) them */
    assert_string_equal(wp->env->key, "TMP");
    assert_string_equal(wp->env->value, "/tmp/www");
    assert_string_equal(wp->env->next->key, "PATH");
    assert_string_equal(wp->php_values->key, "other");
    assert_string_equal(wp->php_values->value, "rel");
    assert_string_equal(wp->php_values->next->value, "/usr/rel");   /* a path setting */
    assert_string_equal(wp->php_values->next->next->key, "display_errors");
    assert_string_equal(wp->php_values->next->next->value, "0");
    assert_string_equal(wp->php_values->next->next->next->value, "128M");
    assert_string_equal(wp->php_admin_values->value, "1");
    assert_string_equal(wp->php_admin_values->next->value, "/usr/log/www.err");
    assert_string_equal(wp->access_suppress_paths->value, "/status");
    assert_null(wp->access_suppress_paths->key);
    assert_string_equal(wp->ping_response, "pong");
}

static void test_read_errors(void **state)
{
    fx_t *f = *state;
    load_err(f, GLOBAL POOL "foo = bar\n",
             "ERROR: [@D/c.conf:8] unknown entry 'foo'\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL "user = x\n" POOL,
             "ERROR: [@D/c.conf:3] unknown entry 'user'\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL POOL "PM = sometimes\n",
             "ERROR: [@D/c.conf:8] unable to parse value for entry 'pm': invalid process manager "
             "(static, dynamic or ondemand)\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL POOL "pm.max_children = 3x\n",
             "ERROR: [@D/c.conf:8] unable to parse value for entry 'pm.max_children': is not a "
             "valid number (greater or equal than zero)\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL POOL "request_terminate_timeout = 5x\n",
             "ERROR: [@D/c.conf:8] unable to parse value for entry 'request_terminate_timeout': "
             "unknown suffix used in time value\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL POOL "catch_workers_output = maybe\n",
             "ERROR: [@D/c.conf:8] unable to parse value for entry 'catch_workers_output': "
             "invalid boolean value\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL "pid = $pool.pid\n" POOL,
             "ERROR: [@D/c.conf:3] unable to parse value for entry 'pid': Can't use '$pool' when "
             "the pool is not defined\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL "env[x] = 1\n" POOL,
             "ERROR: [@D/c.conf:3] Array are not allowed in the global section\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL POOL "env[X] =\n",
             "ERROR: [@D/c.conf:8] empty value\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL POOL "php_flag[x] = maybe\n",
             "ERROR: [@D/c.conf:8] error while parsing 'php_flag[x]' : invalid boolean value\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL POOL "access.suppress_path[x] = a\n",
             "ERROR: [@D/c.conf:8] Keys provided to field 'access.suppress_path' are ignored\n"
             "ERROR: [@D/c.conf:8] Values provided to field 'access.suppress_path' must begin "
             "with '/'\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL POOL "Include = x\n",
             "ERROR: [@D/c.conf:8] unknown entry 'Include'\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL POOL "listen.setfib = 1\n",
             "ERROR: [@D/c.conf:8] unknown entry 'listen.setfib'\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL POOL "a = b = c\n",
             "ERROR: [@D/c.conf:8] unknown entry 'a'\n"
             "PHP:  syntax error, unexpected '=' in Unknown on line 1\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    load_err(f, GLOBAL POOL "bare\n",
             "ERROR: [@D/c.conf:8] value is NULL for a ZEND_INI_PARSER_ENTRY\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    f->opts.config = D(f, "@D/missing.conf");
    rl_buf_clear(&f->out);
    assert_int_equal(rl_fpm_conf_load(&f->conf, f->arena, &f->opts, &f->log), RL_ERROR);
    assert_string_equal(out(f), D(f, "ERROR: failed to open configuration file '@D/missing.conf': "
                                     "No such file or directory (2)\n"
                                     "ERROR: failed to load configuration file '@D/missing.conf'\n"));
}

static void test_includes(void **state)
{
    fx_t *f = *state;
    wfile(f, "d/b.conf", "[b]\nlisten=@D/b.sock\nuser=nobody\npm=static\npm.max_children=1\n");
    wfile(f, "d/a.conf", "[a]\nlisten=@D/a.sock\nuser=nobody\npm=static\npm.max_children=1\n");
    mkdir(D(f, "@D/d/sub.conf"), 0755);
    /* relative to the prefix, in glob's order, directories skipped */
    f->opts.prefix = f->dir;
    load_ok(f, GLOBAL "include = d/*.conf\n" POOL);
    assert_string_equal(f->conf.pools->name, "a");
    assert_string_equal(f->conf.pools->next->name, "b");
    assert_string_equal(f->conf.pools->next->next->name, "www");
    /* no match: a warning */
    f->opts.prefix = NULL;
    load_ok(f, GLOBAL "include = @D/*.none\n" POOL);
    assert_string_equal(out(f), D(f, "WARNING: Nothing matches the include pattern '@D/*.none' "
                                     "from @D/c.conf at line 3.\n"
                                     "NOTICE: configuration file @D/c.conf test is successful\n\n"));
    /* a directory that is not there: glob(GLOB_ERR) gives up */
    load_err(f, GLOBAL "include = @D/none/*.conf\n" POOL,
             "ERROR: Unable to globalize '@D/none/*.conf' (ret=2) from @D/c.conf at line 3.\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    /* an error inside; the line count goes on from the included file's */
    wfile(f, "inc.conf", "\n\nbar = 1\n");
    load_err(f, GLOBAL "include = @D/inc.conf\n" POOL,
             "ERROR: [@D/inc.conf:3] unknown entry 'bar'\n"
             "ERROR: Unable to include @D/inc.conf from @D/c.conf at line 3\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    wfile(f, "inc.conf", "\n\n\n\n\n[global]\n");
    load_err(f, GLOBAL "include = @D/inc.conf\nfoo = 1\n" POOL,
             "ERROR: [@D/c.conf:8] unknown entry 'foo'\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    /* recursion stops at five files */
    wfile(f, "loop.conf", "include = @D/loop.conf\n");
    load_err(f, GLOBAL "include = @D/loop.conf\n" POOL,
             "ERROR: failed to include more than 5 files recursively\n"
             "ERROR: Unable to include @D/loop.conf from @D/loop.conf at line 1\n"
             "ERROR: Unable to include @D/loop.conf from @D/loop.conf at line 1\n"
             "ERROR: Unable to include @D/loop.conf from @D/loop.conf at line 1\n"
             "ERROR: Unable to include @D/loop.conf from @D/loop.conf at line 1\n"
             "ERROR: Unable to include @D/loop.conf from @D/c.conf at line 1\n"
             "ERROR: failed to load configuration file '@D/c.conf'\n");
    /* a pool continued from another file, with a different case */
    wfile(f, "more.conf", "[WWW]\npm.max_children = 9\n");
    load_ok(f, GLOBAL POOL "include = @D/more.conf\n");
    assert_int_equal(f->conf.pools->pm_max_children, 9);
    assert_null(f->conf.pools->next);
}

static void test_post_process(void **state)
{
    fx_t *f = *state;
    const char *pm_fail = "ERROR: failed to post process the configuration\n";
    load_err(f, GLOBAL, rl_arena_printf(f->arena, "ERROR: No pool defined. at least one pool "
                                        "section must be specified in config file\n%s", pm_fail));
    load_err(f, GLOBAL "[www]\nlisten = @D/s\npm = static\npm.max_children = 1\n",
             rl_arena_printf(f->arena, "ALERT: [pool www] user has not been defined\n%s", pm_fail));
    load_err(f, GLOBAL "[www]\nuser = nobody\npm = static\npm.max_children = 1\n",
             rl_arena_printf(f->arena, "ALERT: [pool www] no listen address have been defined!\n%s",
                             pm_fail));
    load_err(f, GLOBAL POOL "pm.max_children = -3\n",
             rl_arena_printf(f->arena, "ALERT: [pool www] pm.max_children must be a positive "
                             "value\n%s", pm_fail));
    load_err(f, GLOBAL POOL "pm = dynamic\n",
             rl_arena_printf(f->arena, "ALERT: [pool www] pm.min_spare_servers(0) must be a "
                             "positive value\n%s", pm_fail));
    load_err(f, GLOBAL POOL "pm = dynamic\npm.min_spare_servers = 1\npm.max_spare_servers = 2\n"
             "pm.start_servers = 5\n",
             rl_arena_printf(f->arena, "ALERT: [pool www] pm.start_servers(5) must not be less than "
                             "pm.min_spare_servers(1) and not greater than "
                             "pm.max_spare_servers(2)\n%s", pm_fail));
    load_err(f, GLOBAL POOL "ping.path = ping\n",
             rl_arena_printf(f->arena, "ERROR: [pool www] the ping path 'ping' must start with a "
                             "'/'\n%s", pm_fail));
    load_err(f, GLOBAL POOL "pm.status_listen = @D/www.sock\n",
             rl_arena_printf(f->arena, "ERROR: [pool www_status] unable to set listen address as "
                             "it's already used in another pool 'www'\n%s", pm_fail));
    load_err(f, GLOBAL POOL "request_slowlog_timeout = 5\n",
             rl_arena_printf(f->arena, "ERROR: [pool www] 'slowlog' must be specified for use with "
                             "'request_slowlog_timeout'\n%s", pm_fail));
    load_err(f, GLOBAL POOL "chdir = relative\n",
             rl_arena_printf(f->arena, "ERROR: [pool www] the chdir path '/usr/relative' does not "
                             "exist or is not a directory\n%s", pm_fail));
    load_err(f, GLOBAL POOL "access.log = @D/nodir/a.log\n",
             rl_arena_printf(f->arena, "ERROR: failed to open access log (@D/nodir/a.log): No such "
                             "file or directory (2)\n%s", pm_fail));
    load_err(f, GLOBAL POOL "access.log = @D/a.log\naccess.format = %{bad}d\n",
             rl_arena_printf(f->arena, "WARNING: only 'seconds', 'milli', 'milliseconds', 'micro' or "
                             "'microseconds' are allowed as a modifier for %%d ('bad')\n"
                             "ERROR: [pool www] wrong format for access.format '%%{bad}d'\n%s",
                             pm_fail));
    load_err(f, GLOBAL "events.mechanism = kqueue\n" POOL,
             rl_arena_printf(f->arena, "ERROR: event mechanism 'kqueue' is not available on this "
                             "system\n%s", pm_fail));
    load_err(f, GLOBAL "log_limit = 100\n" POOL,
             rl_arena_printf(f->arena, "ERROR: log_limit must be greater than 512\n%s", pm_fail));
    /* a computed default is announced */
    load_ok(f, GLOBAL POOL "pm = dynamic\npm.min_spare_servers = 1\npm.max_spare_servers = 4\n");
    assert_string_equal(out(f), D(f, "NOTICE: [pool www] pm.start_servers is not set. It's been set "
                                     "to 2.\nNOTICE: configuration file @D/c.conf test is "
                                     "successful\n\n"));
}

static void test_users(void **state)
{
    fx_t *f = *state;
    /* not root: no user needed, and -t does not mention it */
    euid = 1000;
    load_ok(f, GLOBAL "[www]\nlisten = @D/s\npm = static\npm.max_children = 1\n");
    assert_string_equal(out(f), OK_LINE(f));
    /* -R: root without user */
    euid = 0;
    f->opts.run_as_root = true;
    load_ok(f, GLOBAL "[www]\nlisten = @D/s\npm = static\npm.max_children = 1\n");
    f->opts.run_as_root = false;
    load_err(f, GLOBAL POOL "user = nosuchuser-rl\n",
             "ERROR: [pool www] cannot get uid for user 'nosuchuser-rl'\n");
    load_err(f, GLOBAL POOL "group = nosuchgroup-rl\n",
             "ERROR: [pool www] cannot get gid for group 'nosuchgroup-rl'\n");
    load_ok(f, GLOBAL POOL "user = 12345\ngroup = 54321\n");
}

static void test_dump(void **state)
{
    fx_t *f = *state;
    f->opts.test = 2;
    load_ok(f, GLOBAL POOL "php_value[a] = 1\nphp_flag[b] = on\nenv[C] = c\n");
    const char *o = out(f);
    assert_non_null(strstr(o, "NOTICE: [global]\nNOTICE: \tpid = undefined\n"));
    assert_non_null(strstr(o, D(f, "NOTICE: \terror_log = @D/err.log\n")));
    assert_non_null(strstr(o, "NOTICE: \tlog_level = unknown value\n"));
    assert_non_null(strstr(o, "NOTICE: \tsystemd_interval = 10s\nNOTICE:  \nNOTICE: [www]\n"));
    assert_non_null(strstr(o, "NOTICE: \tprocess.priority = undefined\n"
                              "NOTICE: \tprocess.dumpable = no\nNOTICE: \tpm = static\n"));
    assert_non_null(strstr(o, "NOTICE: \tsecurity.limit_extensions = .php .phar\n"
                              "NOTICE: \tenv[C] = c\nNOTICE: \tphp_value[b] = 1\n"
                              "NOTICE: \tphp_value[a] = 1\nNOTICE:  \n"));
    assert_non_null(strstr(o, D(f, "NOTICE: configuration file @D/c.conf test is successful\n\n")));
}

static void test_access_format(void **state)
{
    fx_t *f = *state;
    static const char *const good[] = { "%R - %u %t \"%m %r\" %s", "%{mili}d %{kilo}M %{user}C",
                                        "%{REQUEST_URI}e", "%{%H}t x", "%%", "%", "abc%",
                                        "%{a}{b}e x" };
    for (size_t i = 0; i < RL_NELEMS(good); i++)
        if (rl_fpm_access_format_check(&f->log, good[i]) != RL_OK)
            fail_msg("refused: %s (%s)", good[i], out(f));
    static const struct { const char *fmt, *msg; } bad[] = {
        { "%e", "WARNING: the name of the environment variable must be set between embraces for %e\n" },
        { "%o", "WARNING: the name of the header must be set between embraces for %o\n" },
        { "%{x}n", "WARNING: embrace is not allowed for modifier %n\n" },
        { "%Z", "WARNING: Invalid token in the access.format (%Z)\n" },
        { "%{foo", "WARNING: missing closing embrace in the access.format\n" },
        { "%{foo}", "WARNING: missing closing embrace in the access.format\n" },
        { "%{bad}M", "WARNING: only 'bytes', 'kilo', 'kilobytes', 'mega' or 'megabytes' are allowed "
                     "as a modifier for %M ('bad')\n" },
    };
    for (size_t i = 0; i < RL_NELEMS(bad); i++) {
        rl_buf_clear(&f->out);
        assert_int_equal(rl_fpm_access_format_check(&f->log, bad[i].fmt), RL_ERROR);
        assert_string_equal(out(f), bad[i].msg);
    }
}

static void test_paths(void **state)
{
    fx_t *f = *state;
    mkdir(D(f, "@D/pfx"), 0755);
    f->opts.prefix = D(f, "@D");
    f->opts.pid = "cli.pid";
    load_ok(f, "[global]\nerror_log = err.log\n"
               "[www]\nprefix = pfx\nlisten = www.sock\nuser = nobody\npm = static\n"
               "pm.max_children = 1\naccess.log = a.log\nslowlog = s.log\nchdir = .\n");
    assert_string_equal(f->conf.global.pid_file, D(f, "@D/cli.pid"));
    assert_string_equal(f->conf.global.error_log, D(f, "@D/err.log"));
    rl_fpm_pool_t *wp = f->conf.pools;
    assert_string_equal(wp->prefix, D(f, "@D/pfx"));
    assert_string_equal(wp->listen_address, D(f, "@D/pfx/www.sock"));
    assert_string_equal(wp->access_log, D(f, "@D/pfx/a.log"));
    assert_string_equal(wp->access_format, "%R - %u %t \"%m %r\" %s");
    assert_string_equal(wp->slowlog, D(f, "@D/pfx/s.log"));
    assert_string_equal(wp->chdir, D(f, "@D/pfx/."));
    /* the file's pid wins over -g */
    load_ok(f, "[global]\npid = /run/x.pid\nerror_log = err.log\n" POOL);
    assert_string_equal(f->conf.global.pid_file, "/run/x.pid");
    /* the default file under -p */
    f->opts.config = NULL;
    assert_int_equal(rl_fpm_conf_load(&f->conf, f->arena, &f->opts, &f->log), RL_ERROR);
    assert_non_null(strstr(out(f), D(f, "'@D/etc/php-fpm.conf'")));
    f->opts.prefix = "/nonexistent-rl";
    rl_buf_clear(&f->out);
    assert_int_equal(rl_fpm_conf_load(&f->conf, f->arena, &f->opts, &f->log), RL_ERROR);
    assert_string_equal(out(f), "ERROR: the global prefix '/nonexistent-rl' does not exist or is "
                                "not a directory\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ini_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ini_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stock_like, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arrays_and_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_includes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
