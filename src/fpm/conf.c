/* relais-fpm's configuration reader (see conf.h).
 *
 * The order of everything here is php-fpm's, because the order is visible:
 * php-fpm stops at the first error and its messages are the interface
 * sysadmins know. Reading: each physical line goes to the INI parser on its
 * own (fpm/ini.c) and its statements to the callbacks below, as in
 * fpm_conf_load_ini_file(); one line number is shared by all the files, so
 * after an include it goes on counting from the included file's end, as
 * php-fpm's does. Checking: post_process() and check_pools() follow
 * fpm_conf_post_process() and fpm_conf_process_all_pools() step by step.
 *
 * Defaults: a new pool starts from the values php-fpm gives one when it
 * allocates it (listen.backlog -1, pm.max_spawn_rate 32, clear_env yes...),
 * which the file then overrides; the rest (ping.response, access.format,
 * security.limit_extensions, pm.start_servers...) is filled in by the
 * checks, where php-fpm fills it in. Some of php-fpm's "unset" markers are
 * values a file can write (process.priority = 64 means unset), so they are
 * kept as php-fpm has them rather than RL_UNSET. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "conf/directive.h"
#include "core/buf.h"
#include "fpm/conf.h"
#include "fpm/ini.h"

/* File-system and account calls go through this table so that the fuzzer,
 * which includes this file, can confine the reader to a scratch directory. */
static struct {
    int (*open)(const char *path, int flags, ...);
    int (*glob)(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g);
    int (*stat)(const char *path, struct stat *st);
    struct passwd *(*getpwnam)(const char *name);
    struct group *(*getgrnam)(const char *name);
    uid_t (*geteuid)(void);
    int (*isatty)(int fd);
    char *(*getenv)(const char *name);
    void (*use_syslog)(rl_zlog_t *z, const char *ident, int facility);
} sys = { open, glob, stat, getpwnam, getgrnam, geteuid, isatty, getenv, rl_zlog_use_syslog };

#define MAX_INCLUDE_DEPTH 5       /* files open at once, the main one included */
#define SYSTEMD_HEARTBEAT 10000   /* ms: systemd_interval's default */

typedef struct {
    rl_fpm_conf_t *c;
    const rl_fpm_opts_t *o;
    rl_zlog_t *log;
    rl_fpm_pool_t *current;   /* the pool being read; NULL in [global] */
    const char *filename;     /* php-fpm's ini_filename */
    int lineno;               /* php-fpm's ini_lineno, shared by all files */
    int recursion;
    const char *include;      /* an include seen on the current line */
    bool error;
} reader_t;

#define LOG(r, level, ...) rl_zlog((r)->log, RL_ZLOG_##level, __VA_ARGS__)

static bool is_dir(const char *path)
{
    struct stat st;
    return sys.stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- values ---- */

#define FIELD(conf, p, type) ((type *)((char *)(conf) + (p)->cmd->data))

/* "$pool" becomes the pool's name, everywhere in <v>. */
static const char *expand_pool(rl_cmd_parms_t *p, const char *v, const char **out)
{
    reader_t *r = p->ctx;
    const char *tok = strstr(v, "$pool");
    if (tok == NULL) {
        *out = rl_arena_strdup(p->arena, v);
        return NULL;
    }
    if (r->current == NULL)
        return "Can't use '$pool' when the pool is not defined";
    rl_buf_t b = RL_BUF_INIT;
    for (; tok; v = tok + 5, tok = strstr(v, "$pool")) {
        rl_buf_append(&b, v, (size_t)(tok - v));
        rl_buf_append_c(&b, r->current->name);
    }
    rl_buf_append_c(&b, v);
    *out = rl_arena_strndup(p->arena, b.data, b.len);
    rl_buf_release(&b);
    return NULL;
}

static const char *set_string(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    return expand_pool(p, argv[0], FIELD(conf, p, const char *));
}

/* php-fpm's numbers: an optional leading '-', digits, read with atoi(). */
static const char *parse_integer(const char *v, int *out)
{
    for (const char *s = v; *s; s++)
        if (!(s == v && *s == '-') && !isdigit((unsigned char)*s))
            return "is not a valid number (greater or equal than zero)";
    *out = (int)strtol(v, NULL, 10);
    return NULL;
}

static const char *set_integer(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    return parse_integer(argv[0], FIELD(conf, p, int));
}

/* Seconds, or with a suffix s, m, h or d; what precedes it is read with
 * atoi() ("1.5m" is 60, "m" is 0). */
static const char *set_time(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    const char *v = argv[0];
    size_t len = strlen(v);
    if (len == 0)
        return "invalid time value";
    char suffix = v[len - 1];
    long mult = 1;
    if (suffix == 'm')
        mult = 60;
    else if (suffix == 'h')
        mult = 3600;
    else if (suffix == 'd')
        mult = 86400;
    else if (suffix != 's' && !isdigit((unsigned char)suffix))
        return "unknown suffix used in time value";
    char *num = rl_arena_strndup(p->arena, v, isdigit((unsigned char)suffix) ? len : len - 1);
    int n = (int)strtol(num, NULL, 10);
    *FIELD(conf, p, int) = (int)(unsigned)(n * (unsigned long)mult);
    return NULL;
}

/* The INI parser turned bare yes/on/true into "1" and no/off/false/none
 * into ""; php-fpm also takes those words spelt in lower case (from
 * "quotes" or ${ENV}) and "0". */
static const char *parse_boolean(const char *v, int *out)
{
    static const char *const yes[] = { "1", "yes", "true", "on" };
    static const char *const no[] = { "", "0", "no", "false", "off", "none" };
    for (size_t i = 0; i < RL_NELEMS(yes); i++)
        if (strcmp(v, yes[i]) == 0)
            return *out = 1, NULL;
    for (size_t i = 0; i < RL_NELEMS(no); i++)
        if (strcmp(v, no[i]) == 0)
            return *out = 0, NULL;
    return "invalid boolean value";
}

static const char *set_boolean(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    return parse_boolean(argv[0], FIELD(conf, p, int));
}

static const char *set_log_level(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    static const struct { const char *name; int level; } levels[] = {
        { "debug", RL_ZLOG_DEBUG }, { "notice", RL_ZLOG_NOTICE }, { "warning", RL_ZLOG_WARNING },
        { "warn", RL_ZLOG_WARNING }, { "error", RL_ZLOG_ERROR }, { "alert", RL_ZLOG_ALERT },
    };
    (void)argc;
    for (size_t i = 0; i < RL_NELEMS(levels); i++)
        if (strcasecmp(argv[0], levels[i].name) == 0) {
            *FIELD(conf, p, int) = levels[i].level;
            return NULL;
        }
    return "invalid value for 'log_level'";
}

static const char *set_facility(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    static const struct { const char *name; int facility; } facilities[] = {
        { "AUTH", LOG_AUTH }, { "AUTHPRIV", LOG_AUTHPRIV }, { "CRON", LOG_CRON },
        { "DAEMON", LOG_DAEMON }, { "FTP", LOG_FTP }, { "KERN", LOG_KERN }, { "LPR", LOG_LPR },
        { "MAIL", LOG_MAIL }, { "NEWS", LOG_NEWS }, { "SYSLOG", LOG_SYSLOG },
        { "USER", LOG_USER }, { "UUCP", LOG_UUCP }, { "LOCAL0", LOG_LOCAL0 },
        { "LOCAL1", LOG_LOCAL1 }, { "LOCAL2", LOG_LOCAL2 }, { "LOCAL3", LOG_LOCAL3 },
        { "LOCAL4", LOG_LOCAL4 }, { "LOCAL5", LOG_LOCAL5 }, { "LOCAL6", LOG_LOCAL6 },
        { "LOCAL7", LOG_LOCAL7 },
    };
    (void)argc;
    for (size_t i = 0; i < RL_NELEMS(facilities); i++)
        if (strcasecmp(argv[0], facilities[i].name) == 0) {
            *FIELD(conf, p, int) = facilities[i].facility;
            return NULL;
        }
    return "invalid value";
}

static const char *set_rlimit_core(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    if (strcasecmp(argv[0], "unlimited") == 0) {
        *FIELD(conf, p, int) = -1;
        return NULL;
    }
    int v;
    const char *err = parse_integer(argv[0], &v);
    if (err)
        return err;
    if (v < 0)
        return "must be greater than zero or 'unlimited'";
    *FIELD(conf, p, int) = v;
    return NULL;
}

static const char *set_pm(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    rl_fpm_pm_t *pm = FIELD(conf, p, rl_fpm_pm_t);
    if (strcasecmp(argv[0], "static") == 0)
        *pm = RL_FPM_PM_STATIC;
    else if (strcasecmp(argv[0], "dynamic") == 0)
        *pm = RL_FPM_PM_DYNAMIC;
    else if (strcasecmp(argv[0], "ondemand") == 0)
        *pm = RL_FPM_PM_ONDEMAND;
    else
        return "invalid process manager (static, dynamic or ondemand)";
    return NULL;
}

/* ---- the directives, in php-fpm's order ---- */

#define GO(f) offsetof(rl_fpm_global_t, f)
#define PO(f) offsetof(rl_fpm_pool_t, f)
#define G(name, set, field) { name, set, GO(field), RL_CTX_GLOBAL, 0, RL_ARGS_TAKE1, NULL }
#define P(name, set, field) { name, set, PO(field), RL_CTX_POOL, 0, RL_ARGS_TAKE1, NULL }

static const rl_cmd_t fpm_cmds[] = {
    G("pid", set_string, pid_file),
    G("error_log", set_string, error_log),
    G("syslog.ident", set_string, syslog_ident),
    G("syslog.facility", set_facility, syslog_facility),
    G("log_buffering", set_boolean, log_buffering),
    G("log_level", set_log_level, log_level),
    G("log_limit", set_integer, log_limit),
    G("emergency_restart_threshold", set_integer, emergency_restart_threshold),
    G("emergency_restart_interval", set_time, emergency_restart_interval),
    G("process_control_timeout", set_time, process_control_timeout),
    G("process.max", set_integer, process_max),
    G("process.priority", set_integer, process_priority),
    G("daemonize", set_boolean, daemonize),
    G("rlimit_files", set_integer, rlimit_files),
    G("rlimit_core", set_rlimit_core, rlimit_core),
    G("events.mechanism", set_string, events_mechanism),
    G("systemd_interval", set_time, systemd_interval),

    P("prefix", set_string, prefix),
    P("user", set_string, user),
    P("group", set_string, group),
    P("listen", set_string, listen_address),
    P("listen.backlog", set_integer, listen_backlog),
    P("listen.acl_users", set_string, listen_acl_users),
    P("listen.acl_groups", set_string, listen_acl_groups),
    P("listen.owner", set_string, listen_owner),
    P("listen.group", set_string, listen_group),
    P("listen.mode", set_string, listen_mode),
    P("listen.allowed_clients", set_string, listen_allowed_clients),
    P("process.priority", set_integer, process_priority),
    P("process.dumpable", set_boolean, process_dumpable),
    P("pm", set_pm, pm),
    P("pm.max_children", set_integer, pm_max_children),
    P("pm.start_servers", set_integer, pm_start_servers),
    P("pm.min_spare_servers", set_integer, pm_min_spare_servers),
    P("pm.max_spare_servers", set_integer, pm_max_spare_servers),
    P("pm.max_spawn_rate", set_integer, pm_max_spawn_rate),
    P("pm.process_idle_timeout", set_time, pm_process_idle_timeout),
    P("pm.max_requests", set_integer, pm_max_requests),
    P("pm.status_path", set_string, pm_status_path),
    P("pm.status_listen", set_string, pm_status_listen),
    P("ping.path", set_string, ping_path),
    P("ping.response", set_string, ping_response),
    P("access.log", set_string, access_log),
    P("access.format", set_string, access_format),
    P("slowlog", set_string, slowlog),
    P("request_slowlog_timeout", set_time, request_slowlog_timeout),
    P("request_slowlog_trace_depth", set_integer, request_slowlog_trace_depth),
    P("request_terminate_timeout", set_time, request_terminate_timeout),
    P("request_terminate_timeout_track_finished", set_boolean, request_terminate_timeout_track_finished),
    P("rlimit_files", set_integer, rlimit_files),
    P("rlimit_core", set_rlimit_core, rlimit_core),
    P("chroot", set_string, chroot),
    P("chdir", set_string, chdir),
    P("catch_workers_output", set_boolean, catch_workers_output),
    P("decorate_workers_output", set_boolean, decorate_workers_output),
    P("clear_env", set_boolean, clear_env),
    P("security.limit_extensions", set_string, security_limit_extensions),
    P("apparmor_hat", set_string, apparmor_hat),
};

/* ---- pools ---- */

/* A pool as php-fpm's fpm_worker_pool_config_alloc() makes it, appended. */
static rl_fpm_pool_t *pool_create(rl_fpm_conf_t *c, const char *name)
{
    rl_fpm_pool_t *wp = rl_arena_calloc(c->arena, sizeof(*wp));
    wp->name = name;
    wp->listen_backlog = RL_FPM_BACKLOG_DEFAULT;
    wp->pm_max_spawn_rate = 32;
    wp->pm_process_idle_timeout = 10;
    wp->process_priority = RL_FPM_UNSET_PRIORITY;
    wp->clear_env = 1;
    wp->decorate_workers_output = 1;
    rl_fpm_pool_t **tail = &c->pools;
    while (*tail)
        tail = &(*tail)->next;
    *tail = wp;
    return wp;
}

rl_fpm_pool_t *rl_fpm_conf_pool(const rl_fpm_conf_t *c, const char *name)
{
    for (rl_fpm_pool_t *wp = c->pools; wp; wp = wp->next)
        if (strcasecmp(wp->name, name) == 0)
            return wp;
    return NULL;
}

/* ---- the INI statements ---- */

static void on_section(reader_t *r, const char *name)
{
    if (strcasecmp(name, "global") == 0) {
        r->current = NULL;
        return;
    }
    r->current = rl_fpm_conf_pool(r->c, name);
    if (r->current == NULL)
        r->current = pool_create(r->c, rl_arena_strdup(r->c->arena, name));
}

static void on_entry(reader_t *r, const char *name, const char *value)
{
    if (value == NULL) {
        LOG(r, ERROR, "[%s:%d] value is NULL for a ZEND_INI_PARSER_ENTRY", r->filename, r->lineno);
        r->error = true;
        return;
    }
    if (strcmp(name, "include") == 0) {
        if (r->include) {
            LOG(r, ERROR, "[%s:%d] two includes at the same time !", r->filename, r->lineno);
            r->error = true;
            return;
        }
        r->include = rl_arena_strdup(r->c->arena, value);
        return;
    }
    unsigned where = r->current ? RL_CTX_POOL : RL_CTX_GLOBAL;
    void *conf = r->current ? (void *)r->current : (void *)&r->c->global;
    for (size_t i = 0; i < RL_NELEMS(fpm_cmds); i++) {
        const rl_cmd_t *cmd = &fpm_cmds[i];
        if (!(cmd->where & where) || strcasecmp(cmd->name, name) != 0)
            continue;
        rl_cmd_parms_t parms = { .cmd = cmd, .arena = r->c->arena, .file = r->filename,
                                 .line = r->lineno, .context = where, .ctx = r };
        char *argv[2] = { (char *)value, NULL };
        const char *err = rl_cmd_invoke(&parms, conf, 1, argv);
        if (err) {
            LOG(r, ERROR, "[%s:%d] unable to parse value for entry '%s': %s", r->filename,
                r->lineno, cmd->name, err);
            r->error = true;
        }
        return;
    }
    LOG(r, ERROR, "[%s:%d] unknown entry '%s'", r->filename, r->lineno, name);
    r->error = true;
}

/* Prepends key = value to <list>, as php-fpm's fpm_conf_set_array(). */
static const char *add_pair(reader_t *r, rl_fpm_kv_t **list, const char *key, const char *value,
                            bool flag)
{
    rl_fpm_kv_t *kv = rl_arena_calloc(r->c->arena, sizeof(*kv));
    kv->key = key ? rl_arena_strdup(r->c->arena, key) : NULL;
    if (flag) {
        int b;
        const char *err = parse_boolean(value, &b);
        if (err)
            return err;
        kv->value = b ? "1" : "0";
    } else {
        rl_cmd_parms_t parms = { .arena = r->c->arena, .ctx = r };
        const char *err = expand_pool(&parms, value, &kv->value);
        if (err)
            return err;
    }
    kv->next = *list;
    *list = kv;
    return NULL;
}

static void on_array(reader_t *r, const char *name, const char *key, const char *value)
{
    bool suppress = strcmp(name, "access.suppress_path") == 0;
    if (suppress) {
        if (*key) {
            LOG(r, ERROR, "[%s:%d] Keys provided to field 'access.suppress_path' are ignored",
                r->filename, r->lineno);
            r->error = true;
        }
        if (*value != '/') {
            LOG(r, ERROR, "[%s:%d] Values provided to field 'access.suppress_path' must begin with '/'",
                r->filename, r->lineno);
            r->error = true;
        }
        if (r->error)
            return;
    } else if (!*key) {
        LOG(r, ERROR, "[%s:%d] You must provide a key for field '%s'", r->filename, r->lineno, name);
        r->error = true;
        return;
    }
    rl_fpm_pool_t *wp = r->current;
    if (wp == NULL) {
        LOG(r, ERROR, "[%s:%d] Array are not allowed in the global section", r->filename, r->lineno);
        r->error = true;
        return;
    }
    const char *err;
    if (strcmp(name, "env") == 0) {
        if (!*value) {
            LOG(r, ERROR, "[%s:%d] empty value", r->filename, r->lineno);
            r->error = true;
            return;
        }
        err = add_pair(r, &wp->env, key, value, false);
    } else if (strcmp(name, "php_value") == 0 || strcmp(name, "php_flag") == 0) {
        err = add_pair(r, &wp->php_values, key, value, name[4] == 'f');
    } else if (strcmp(name, "php_admin_value") == 0 || strcmp(name, "php_admin_flag") == 0) {
        err = add_pair(r, &wp->php_admin_values, key, value, name[10] == 'f');
    } else if (suppress) {
        err = add_pair(r, &wp->access_suppress_paths, NULL, value, false);
    } else {
        LOG(r, ERROR, "[%s:%d] unknown directive '%s'", r->filename, r->lineno, name);
        r->error = true;
        return;
    }
    if (err) {
        LOG(r, ERROR, "[%s:%d] error while parsing '%s[%s]' : %s", r->filename, r->lineno, name,
            key, err);
        r->error = true;
    }
}

static void on_statement(void *ctx, rl_ini_event_t ev, const char *name, const char *key,
                         const char *value)
{
    reader_t *r = ctx;
    if (r->error)       /* php-fpm ignores the rest of a line after an error */
        return;
    if (ev == RL_INI_SECTION)
        on_section(r, name);
    else if (ev == RL_INI_ENTRY)
        on_entry(r, name, value);
    else
        on_array(r, name, key, value);
}

/* ${name}: the -d definitions (php-fpm looks in php.ini's too), then the
 * environment. */
static const char *on_var(void *ctx, const char *name)
{
    reader_t *r = ctx;
    for (const rl_fpm_kv_t *kv = r->o->ini; kv; kv = kv->next)
        if (strcmp(kv->key, name) == 0)
            return kv->value;
    return sys.getenv(name);
}

/* ---- files ---- */

/* php-fpm's fpm_evaluate_full_path(): a relative <*path> is put under the
 * pool's prefix, else the global one (-p), else <default_prefix>, else
 * /usr. With <expand>, a leading "$prefix" stands for that prefix. */
static int full_path(reader_t *r, const char **path, const rl_fpm_pool_t *wp,
                     const char *default_prefix, bool expand)
{
    if (*path == NULL || **path == '/')
        return 0;
    const char *prefix = wp ? wp->prefix : NULL;
    if (prefix == NULL)
        prefix = r->c->prefix;
    if (prefix == NULL)
        prefix = default_prefix ? default_prefix : RL_FPM_PREFIX;
    const char *rest = *path;
    if (expand) {
        const char *tok = strstr(rest, "$prefix");
        if (tok != NULL) {
            if (tok != rest) {
                LOG(r, ERROR, "'$prefix' must be use at the beginning of the value");
                return -1;
            }
            rest = rest[7] ? rest + 7 : NULL;
        }
    }
    *path = rest ? rl_arena_printf(r->c->arena, "%s/%s", prefix, rest)
                 : rl_arena_strdup(r->c->arena, prefix);
    if (**path != '/' && wp != NULL)
        return full_path(r, path, NULL, default_prefix, expand);
    return 0;
}

static int load_file(reader_t *r, const char *path);

/* include = <pattern>: every file it matches, in glob's order. */
static void include_files(reader_t *r, const char *pattern)
{
    const char *from = r->filename;
    glob_t g;
    int rc = sys.glob(pattern, GLOB_ERR | GLOB_MARK, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        LOG(r, WARNING, "Nothing matches the include pattern '%s' from %s at line %d.", pattern,
            from, r->lineno);
        return;
    }
    if (rc != 0) {
        LOG(r, ERROR, "Unable to globalize '%s' (ret=%d) from %s at line %d.", pattern, rc, from,
            r->lineno);
        r->error = true;
        return;
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        size_t len = strlen(g.gl_pathv[i]);
        if (len < 1 || g.gl_pathv[i][len - 1] == '/')     /* directories */
            continue;
        const char *file = rl_arena_strdup(r->c->arena, g.gl_pathv[i]);
        if (load_file(r, file) < 0) {
            LOG(r, ERROR, "Unable to include %s from %s at line %d", file, from, r->lineno);
            r->error = true;
            break;
        }
    }
    globfree(&g);
}

/* Reads the whole of <fd>; a read error ends the data where it happened,
 * as php-fpm's byte-by-byte loop ends there. */
static void read_all(int fd, rl_buf_t *b)
{
    for (;;) {
        rl_buf_reserve(b, 64 * 1024, 0);
        ssize_t n = read(fd, rl_buf_tail(b), rl_buf_room(b));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        b->len += (size_t)n;
    }
}

/* One physical line (<n> bytes, without its '\n'). Returns false when
 * reading stops. */
static bool read_line(reader_t *r, const char *path, const char *p, size_t n, rl_buf_t *line)
{
    rl_buf_clear(line);
    rl_buf_append(line, p, n);
    rl_buf_append(line, "\n", 1);
    rl_ini_parser_t ini = { on_statement, on_var, r };
    char err[512];
    int rc = rl_ini_parse(&ini, line->data, line->len, err, sizeof(err));
    r->filename = path;
    if (rc != RL_OK)
        rl_zlog_raw(r->log, "PHP:  %s\n", err);
    if (r->error || rc != RL_OK) {
        r->include = NULL;
        return false;
    }
    if (r->include) {
        const char *pattern = r->include;
        r->include = NULL;
        full_path(r, &pattern, NULL, NULL, false);
        include_files(r, pattern);
        if (r->error)
            return false;
    }
    return true;
}

/* php-fpm's fpm_conf_load_ini_file(). Returns 0, or -1 once logged. */
static int load_file(reader_t *r, const char *path)
{
    if (path[0] == '\0') {
        LOG(r, ERROR, "configuration filename is empty");
        return -1;
    }
    int fd = sys.open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rl_zlog_errno(r->log, errno, "failed to open configuration file '%s'", path);
        return -1;
    }
    if (r->recursion++ >= MAX_INCLUDE_DEPTH) {
        LOG(r, ERROR, "failed to include more than %d files recursively", MAX_INCLUDE_DEPTH);
        close(fd);
        return -1;
    }
    rl_buf_t data = RL_BUF_INIT, line = RL_BUF_INIT;
    read_all(fd, &data);
    close(fd);
    const char *p = data.data ? data.data : "", *end = p + data.len;
    int rc = 0;
    r->lineno = 0;
    for (;;) {
        r->lineno++;
        r->filename = path;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (n > 0 && !read_line(r, path, p, n, &line)) {
            rc = -1;
            break;
        }
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    rl_buf_release(&data);
    rl_buf_release(&line);
    r->recursion--;
    return rc;
}

/* ---- checks: the pools ---- */

static bool is_inet(const char *address)
{
    return strchr(address, ':') != NULL || strlen(address) == strspn(address, "0123456789");
}

static bool check_dynamic(reader_t *r, rl_fpm_pool_t *wp)
{
    if (wp->pm_min_spare_servers <= 0) {
        LOG(r, ALERT, "[pool %s] pm.min_spare_servers(%d) must be a positive value", wp->name,
            wp->pm_min_spare_servers);
        return false;
    }
    if (wp->pm_max_spare_servers <= 0) {
        LOG(r, ALERT, "[pool %s] pm.max_spare_servers(%d) must be a positive value", wp->name,
            wp->pm_max_spare_servers);
        return false;
    }
    if (wp->pm_min_spare_servers > wp->pm_max_children ||
        wp->pm_max_spare_servers > wp->pm_max_children) {
        LOG(r, ALERT, "[pool %s] pm.min_spare_servers(%d) and pm.max_spare_servers(%d) cannot be "
            "greater than pm.max_children(%d)", wp->name, wp->pm_min_spare_servers,
            wp->pm_max_spare_servers, wp->pm_max_children);
        return false;
    }
    if (wp->pm_max_spare_servers < wp->pm_min_spare_servers) {
        LOG(r, ALERT, "[pool %s] pm.max_spare_servers(%d) must not be less than "
            "pm.min_spare_servers(%d)", wp->name, wp->pm_max_spare_servers, wp->pm_min_spare_servers);
        return false;
    }
    if (wp->pm_start_servers <= 0) {
        wp->pm_start_servers = wp->pm_min_spare_servers +
                               (wp->pm_max_spare_servers - wp->pm_min_spare_servers) / 2;
        LOG(r, NOTICE, "[pool %s] pm.start_servers is not set. It's been set to %d.", wp->name,
            wp->pm_start_servers);
    } else if (wp->pm_start_servers < wp->pm_min_spare_servers ||
               wp->pm_start_servers > wp->pm_max_spare_servers) {
        LOG(r, ALERT, "[pool %s] pm.start_servers(%d) must not be less than pm.min_spare_servers(%d) "
            "and not greater than pm.max_spare_servers(%d)", wp->name, wp->pm_start_servers,
            wp->pm_min_spare_servers, wp->pm_max_spare_servers);
        return false;
    }
    if (wp->pm_max_spawn_rate < 1) {
        LOG(r, ALERT, "[pool %s] pm.max_spawn_rate must be a positive value", wp->name);
        return false;
    }
    return true;
}

static bool edge_triggered(const rl_fpm_conf_t *c)
{
    return strcmp(c->global.events_name, "epoll") == 0;
}

static bool check_pm(reader_t *r, rl_fpm_pool_t *wp)
{
    if (wp->pm != RL_FPM_PM_STATIC && wp->pm != RL_FPM_PM_DYNAMIC && wp->pm != RL_FPM_PM_ONDEMAND) {
        LOG(r, ALERT, "[pool %s] the process manager is missing (static, dynamic or ondemand)", wp->name);
        return false;
    }
    if (wp->pm_max_children < 1) {
        LOG(r, ALERT, "[pool %s] pm.max_children must be a positive value", wp->name);
        return false;
    }
    if (wp->pm == RL_FPM_PM_DYNAMIC)
        return check_dynamic(r, wp);
    if (wp->pm == RL_FPM_PM_ONDEMAND) {
        if (!edge_triggered(r->c)) {
            LOG(r, ALERT, "[pool %s] ondemand process manager can ONLY be used when "
                "events.mechanism is either epoll (Linux) or kqueue (*BSD).", wp->name);
            return false;
        }
        if (wp->pm_process_idle_timeout < 1) {
            LOG(r, ALERT, "[pool %s] pm.process_idle_timeout(%ds) must be greater than 0s", wp->name,
                wp->pm_process_idle_timeout);
            return false;
        }
        if (wp->listen_backlog < RL_FPM_BACKLOG_DEFAULT) {
            LOG(r, WARNING, "[pool %s] listen.backlog(%d) was too low for the ondemand process "
                "manager. I updated it for you to %d.", wp->name, wp->listen_backlog,
                RL_FPM_BACKLOG_DEFAULT);
            wp->listen_backlog = RL_FPM_BACKLOG_DEFAULT;
        }
        wp->pm_start_servers = 0;
        wp->pm_min_spare_servers = 0;
        wp->pm_max_spare_servers = 0;
    }
    return true;
}

/* pm.status_listen: php-fpm serves the status page from a pool of its own,
 * "<name>_status", appended to the pools (and so checked after them). */
static void add_status_pool(reader_t *r, rl_fpm_pool_t *wp)
{
    rl_fpm_pool_t *sp = pool_create(r->c, rl_arena_printf(r->c->arena, "%s_status", wp->name));
    if (wp->pm_status_path == NULL)
        wp->pm_status_path = "/";
    sp->listen_address = wp->pm_status_listen;
    sp->listen_acl_groups = wp->listen_acl_groups;
    sp->listen_acl_users = wp->listen_acl_users;
    sp->listen_allowed_clients = wp->listen_allowed_clients;
    sp->listen_group = wp->listen_group;
    sp->listen_owner = wp->listen_owner;
    sp->listen_mode = wp->listen_mode;
    sp->user = wp->user;
    sp->group = wp->group;
    sp->pm_status_path = wp->pm_status_path;
    sp->pm = RL_FPM_PM_ONDEMAND;
    sp->pm_max_children = 2;
    sp->shared = wp;
}

/* ping.path and pm.status_path: "/" then [alnum]/_-.~ only. */
static bool check_url_path(reader_t *r, rl_fpm_pool_t *wp, const char *what, const char *path,
                           bool short_ok)
{
    if (*path != '/') {
        LOG(r, ERROR, "[pool %s] the %s path '%s' must start with a '/'", wp->name, what, path);
        return false;
    }
    if (!short_ok && strlen(path) < 2) {
        LOG(r, ERROR, "[pool %s] the %s path '%s' is not long enough", wp->name, what, path);
        return false;
    }
    for (const char *s = path; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("/-_.~", *s)) {
            LOG(r, ERROR, "[pool %s] the %s path '%s' must contain only the following characters "
                "'[alphanum]/_-.~'", wp->name, what, path);
            return false;
        }
    return true;
}

static bool check_status_ping(reader_t *r, rl_fpm_pool_t *wp)
{
    if (wp->pm_status_listen)
        add_status_pool(r, wp);
    if (wp->pm_status_path && *wp->pm_status_path &&
        !check_url_path(r, wp, "status", wp->pm_status_path, wp->pm_status_listen || wp->shared))
        return false;
    if (wp->ping_path && *wp->ping_path) {
        if (!check_url_path(r, wp, "ping", wp->ping_path, false))
            return false;
        if (wp->ping_response == NULL) {
            wp->ping_response = "pong";
        } else if (!*wp->ping_response) {
            LOG(r, ERROR, "[pool %s] the ping response page '%s' is not long enough", wp->name,
                wp->ping_response);
            return false;
        }
    } else {
        wp->ping_response = NULL;
    }
    return true;
}

static void heartbeat(rl_fpm_conf_t *c, int seconds)
{
    int ms = (int)((unsigned)seconds * 1000u) / 3;
    c->heartbeat = c->heartbeat ? RL_MIN(c->heartbeat, ms) : ms;
}

static bool check_slowlog(reader_t *r, rl_fpm_pool_t *wp)
{
    bool have = wp->slowlog && *wp->slowlog;
    if (have)
        full_path(r, &wp->slowlog, wp, NULL, false);
    if (wp->request_slowlog_timeout) {
        if (!have) {
            LOG(r, ERROR, "[pool %s] 'slowlog' must be specified for use with 'request_slowlog_timeout'",
                wp->name);
            return false;
        }
        int fd = sys.open(wp->slowlog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
        if (fd < 0) {
            rl_zlog_errno(r->log, errno, "Unable to create or open slowlog(%s)", wp->slowlog);
            return false;
        }
        close(fd);
        heartbeat(r->c, wp->request_slowlog_timeout);
        if (wp->request_terminate_timeout &&
            wp->request_slowlog_timeout > wp->request_terminate_timeout) {
            LOG(r, ERROR, "[pool %s] 'request_slowlog_timeout' (%d) can't be greater than "
                "'request_terminate_timeout' (%d)", wp->name, wp->request_slowlog_timeout,
                wp->request_terminate_timeout);
            return false;
        }
    }
    if (wp->request_slowlog_trace_depth) {
        if (!have) {
            LOG(r, ERROR, "[pool %s] 'slowlog' must be specified for use with "
                "'request_slowlog_trace_depth'", wp->name);
            return false;
        }
        if (wp->request_slowlog_trace_depth <= 0) {
            LOG(r, ERROR, "[pool %s] 'request_slowlog_trace_depth' (%d) must be a positive value",
                wp->name, wp->request_slowlog_trace_depth);
            return false;
        }
    } else {
        wp->request_slowlog_trace_depth = 20;
    }
    return true;
}

static bool check_chroot_chdir(reader_t *r, rl_fpm_pool_t *wp)
{
    if (wp->chroot && *wp->chroot) {
        full_path(r, &wp->chroot, wp, NULL, true);
        if (*wp->chroot != '/') {
            LOG(r, ERROR, "[pool %s] the chroot path '%s' must start with a '/'", wp->name, wp->chroot);
            return false;
        }
        if (!is_dir(wp->chroot)) {
            LOG(r, ERROR, "[pool %s] the chroot path '%s' does not exist or is not a directory",
                wp->name, wp->chroot);
            return false;
        }
    }
    if (wp->chdir && *wp->chdir) {
        full_path(r, &wp->chdir, wp, NULL, false);
        if (*wp->chdir != '/') {
            LOG(r, ERROR, "[pool %s] the chdir path '%s' must start with a '/'", wp->name, wp->chdir);
            return false;
        }
        if (wp->chroot) {
            char *in = rl_arena_printf(r->c->arena, "%s/%s", wp->chroot, wp->chdir);
            if (!is_dir(in)) {
                LOG(r, ERROR, "[pool %s] the chdir path '%s' within the chroot path '%s' ('%s') "
                    "does not exist or is not a directory", wp->name, wp->chdir, wp->chroot, in);
                return false;
            }
        } else if (!is_dir(wp->chdir)) {
            LOG(r, ERROR, "[pool %s] the chdir path '%s' does not exist or is not a directory",
                wp->name, wp->chdir);
            return false;
        }
    }
    return true;
}

static void split_extensions(reader_t *r, rl_fpm_pool_t *wp)
{
    if (wp->security_limit_extensions == NULL)
        wp->security_limit_extensions = ".php .phar";
    char *list = rl_arena_strdup(r->c->arena, wp->security_limit_extensions);
    size_t n = 0;
    for (const char *s = list; *s; ) {
        s += strspn(s, " \t");
        if (*s) {
            n++;
            s += strcspn(s, " \t");
        }
    }
    if (n == 0)
        return;
    wp->limit_extensions = rl_arena_calloc(r->c->arena, (n + 1) * sizeof(char *));
    char *save = NULL;
    n = 0;
    for (char *e = strtok_r(list, " \t", &save); e; e = strtok_r(NULL, " \t", &save))
        wp->limit_extensions[n++] = e;
}

/* The php.ini settings whose relative paths php-fpm puts under the prefix
 * (its FPM_PHP_INI_TO_EXPAND). */
static const char *const ini_paths[] = {
    "error_log", "extension_dir", "mime_magic.magicfile", "sendmail_path",
    "session.cookie_path", "session_pgsql.sem_file_name", "soap.wsdl_cache_dir",
    "uploadprogress.file.filename_template", "xdebug.output_dir", "xdebug.profiler_output_dir",
    "xdebug.trace_output_dir", "xmms.path", "axis2.client_home", "blenc.key_file",
    "coin_acceptor.device",
};

static void expand_ini_paths(reader_t *r, rl_fpm_pool_t *wp, rl_fpm_kv_t *list, bool admin)
{
    for (rl_fpm_kv_t *kv = list; kv; kv = kv->next) {
        if (admin && strcasecmp(kv->key, "error_log") == 0 && strcasecmp(kv->value, "syslog") == 0)
            continue;
        for (size_t i = 0; i < RL_NELEMS(ini_paths); i++)
            if (strcasecmp(kv->key, ini_paths[i]) == 0)
                full_path(r, &kv->value, wp, NULL, false);
    }
}

/* The first checks of a pool: prefix, user, listen, priority. */
static bool check_basics(reader_t *r, rl_fpm_pool_t *wp)
{
    if (wp->prefix && *wp->prefix) {
        full_path(r, &wp->prefix, NULL, NULL, false);
        if (!is_dir(wp->prefix)) {
            LOG(r, ERROR, "[pool %s] the prefix '%s' does not exist or is not a directory",
                wp->name, wp->prefix);
            return false;
        }
    }
    if (wp->user == NULL && sys.geteuid() == 0 && !r->o->run_as_root) {
        LOG(r, ALERT, "[pool %s] user has not been defined", wp->name);
        return false;
    }
    if (wp->listen_address == NULL || !*wp->listen_address) {
        LOG(r, ALERT, "[pool %s] no listen address have been defined!", wp->name);
        return false;
    }
    wp->listen_domain = is_inet(wp->listen_address) ? RL_FPM_LISTEN_INET : RL_FPM_LISTEN_UNIX;
    if (wp->listen_domain == RL_FPM_LISTEN_UNIX && *wp->listen_address != '/')
        full_path(r, &wp->listen_address, wp, NULL, false);
    if (wp->process_priority != RL_FPM_UNSET_PRIORITY &&
        (wp->process_priority < -19 || wp->process_priority > 20)) {
        LOG(r, ERROR, "[pool %s] process.priority must be included into [-19,20]", wp->name);
        return false;
    }
    return true;
}

static bool check_pool(reader_t *r, rl_fpm_pool_t *wp)
{
    if (!check_basics(r, wp) || !check_pm(r, wp) || !check_status_ping(r, wp))
        return false;
    if (wp->access_log && *wp->access_log) {
        full_path(r, &wp->access_log, wp, NULL, false);
        if (wp->access_format == NULL)
            wp->access_format = "%R - %u %t \"%m %r\" %s";
    }
    if (wp->request_terminate_timeout)
        heartbeat(r->c, wp->request_terminate_timeout);
    if (!check_slowlog(r, wp) || !check_chroot_chdir(r, wp))
        return false;
    split_extensions(r, wp);
    if (wp->chroot == NULL) {
        expand_ini_paths(r, wp, wp->php_values, false);
        expand_ini_paths(r, wp, wp->php_admin_values, true);
    }
    return true;
}

/* php-fpm's fpm_conf_process_all_pools(). */
static bool check_pools(reader_t *r)
{
    if (r->c->pools == NULL) {
        LOG(r, ERROR, "No pool defined. at least one pool section must be specified in config file");
        return false;
    }
    for (rl_fpm_pool_t *wp = r->c->pools; wp; wp = wp->next)
        if (!check_pool(r, wp))
            return false;
    for (rl_fpm_pool_t *wp = r->c->pools; wp; wp = wp->next)
        for (rl_fpm_pool_t *wp2 = r->c->pools; wp2; wp2 = wp2->next)
            if (wp != wp2 && *wp->listen_address && *wp2->listen_address &&
                strcmp(wp->listen_address, wp2->listen_address) == 0) {
                LOG(r, ERROR, "[pool %s] unable to set listen address as it's already used in "
                    "another pool '%s'", wp2->name, wp->name);
                return false;
            }
    return true;
}

/* ---- checks: the access log format ---- */

/* One %-token with its {modifier}; <c> is the letter. */
static bool check_token(rl_zlog_t *log, char c, const char *mod)
{
    static const char *const d_mods[] = { "seconds", "milli", "milliseconds", "mili",
                                          "miliseconds", "micro", "microseconds", NULL };
    static const char *const m_mods[] = { "bytes", "kilo", "kilobytes", "mega", "megabytes", NULL };
    static const char *const c_mods[] = { "total", "user", "system", NULL };
    const char *const *mods = c == 'd' ? d_mods : c == 'M' ? m_mods : c == 'C' ? c_mods : NULL;
    if (mods && *mod) {
        while (*mods && strcasecmp(*mods, mod) != 0)
            mods++;
        if (*mods == NULL) {
            if (c == 'd')
                rl_zlog(log, RL_ZLOG_WARNING, "only 'seconds', 'milli', 'milliseconds', 'micro' or "
                        "'microseconds' are allowed as a modifier for %%%c ('%s')", c, mod);
            else if (c == 'M')
                rl_zlog(log, RL_ZLOG_WARNING, "only 'bytes', 'kilo', 'kilobytes', 'mega' or "
                        "'megabytes' are allowed as a modifier for %%%c ('%s')", c, mod);
            else
                rl_zlog(log, RL_ZLOG_WARNING, "only 'total', 'user' or 'system' are allowed as a "
                        "modifier for %%%c ('%s')", c, mod);
            return false;
        }
        return true;
    }
    if ((c == 'e' || c == 'o') && !*mod) {
        rl_zlog(log, RL_ZLOG_WARNING, "the name of the %s must be set between embraces for %%%c",
                c == 'e' ? "environment variable" : "header", c);
        return false;
    }
    if (!strchr("%CdefmMnlopPqQrRsTtu", c)) {
        rl_zlog(log, RL_ZLOG_WARNING, "Invalid token in the access.format (%%%c)", c);
        return false;
    }
    if (*mod && !strchr("CdeMoTt", c)) {
        rl_zlog(log, RL_ZLOG_WARNING, "embrace is not allowed for modifier %%%c", c);
        return false;
    }
    return true;
}

int rl_fpm_access_format_check(rl_zlog_t *log, const char *format)
{
    char mod[129] = "";
    bool token = false;
    for (const char *s = format; *s; s++) {
        if (!token) {
            if (*s == '%') {
                token = true;
                mod[0] = '\0';
            }
            continue;
        }
        if (*s == '{') {
            /* php-fpm also wants something after the '}' (and reads past
             * the end of the format when there is no '}': we stop) */
            const char *end = strchr(s + 1, '}');
            if (end == NULL || end[1] == '\0') {
                rl_zlog(log, RL_ZLOG_WARNING, "missing closing embrace in the access.format");
                return RL_ERROR;
            }
            size_t l = RL_MIN((size_t)(end - s - 1), sizeof(mod) - 1);
            memcpy(mod, s + 1, l);
            mod[l] = '\0';
            s = end;
            continue;
        }
        token = false;
        if (!check_token(log, *s, mod))
            return RL_ERROR;
    }
    return RL_OK;
}

/* ---- checks: the whole ---- */

static void systemd_conf(reader_t *r)
{
    rl_fpm_global_t *g = &r->c->global;
    const char *watchdog = sys.getenv("WATCHDOG_USEC");
    int interval = 0;
    if (watchdog) {
        interval = (int)(atol(watchdog) / 2000L);
        LOG(r, DEBUG, "WATCHDOG_USEC=%s, interval=%d", watchdog, interval);
    }
    if (interval > 1000) {
        if (g->systemd_interval > 0)
            LOG(r, WARNING, "systemd watchdog configured (%ds). Change systemd_interval option "
                "(%ds) to avoid conflict", interval / 1000, g->systemd_interval);
        g->systemd_watchdog = 1;
        g->systemd_interval = interval;
    } else if (g->systemd_interval < 0) {
        g->systemd_interval = SYSTEMD_HEARTBEAT;
    } else {
        g->systemd_interval = (int)((unsigned)g->systemd_interval * 1000u);
    }
}

/* php-fpm's fpm_stdio_open_error_log(): lines go there from now on unless
 * php-fpm stays in the foreground of a terminal. */
static bool open_error_log(reader_t *r)
{
    rl_fpm_global_t *g = &r->c->global;
    bool use = g->daemonize || (!sys.isatty(STDERR_FILENO) && !r->o->force_stderr);
    if (strcasecmp(g->error_log, "syslog") == 0) {
        if (use)
            sys.use_syslog(r->log, g->syslog_ident, g->syslog_facility);
        return true;
    }
    int fd = sys.open(g->error_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
    if (fd < 0) {
        rl_zlog_errno(r->log, errno, "failed to open error_log (%s)", g->error_log);
        return false;
    }
    if (use)
        rl_zlog_use_fd(r->log, fd);
    else
        close(fd);
    return true;
}

/* events.mechanism: those php-fpm has on Linux, the best first. */
static bool choose_events(reader_t *r)
{
    static const char *const names[] = { "epoll", "poll", "select" };
    rl_fpm_global_t *g = &r->c->global;
    if (g->events_mechanism == NULL) {
        g->events_name = names[0];
        return true;
    }
    for (size_t i = 0; i < RL_NELEMS(names); i++)
        if (strcasecmp(g->events_mechanism, names[i]) == 0) {
            g->events_name = names[i];
            return true;
        }
    LOG(r, ERROR, "event mechanism '%s' is not available on this system", g->events_mechanism);
    return false;
}

static bool open_access_logs(reader_t *r)
{
    for (rl_fpm_pool_t *wp = r->c->pools; wp; wp = wp->next) {
        if (wp->access_log == NULL)
            continue;
        int fd = sys.open(wp->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                          S_IRUSR | S_IWUSR);
        if (fd < 0) {
            rl_zlog_errno(r->log, errno, "failed to open access log (%s)", wp->access_log);
            return false;
        }
        close(fd);
    }
    for (rl_fpm_pool_t *wp = r->c->pools; wp; wp = wp->next)
        if (wp->access_log && *wp->access_log &&
            rl_fpm_access_format_check(r->log, wp->access_format) != RL_OK) {
            LOG(r, ERROR, "[pool %s] wrong format for access.format '%s'", wp->name, wp->access_format);
            return false;
        }
    return true;
}

/* php-fpm's fpm_conf_post_process(). */
static bool post_process(reader_t *r)
{
    rl_fpm_global_t *g = &r->c->global;
    if (g->pid_file)
        full_path(r, &g->pid_file, NULL, RL_FPM_LOCALSTATEDIR, false);
    if (r->o->force_daemon >= 0)
        g->daemonize = r->o->force_daemon;
    rl_zlog_set_level(r->log, g->log_level);
    if (g->log_limit < RL_ZLOG_MIN_LIMIT) {
        LOG(r, ERROR, "log_limit must be greater than %d", RL_ZLOG_MIN_LIMIT);
        return false;
    }
    r->log->limit = g->log_limit;
    if (g->process_max < 0) {
        LOG(r, ERROR, "process_max can't be negative");
        return false;
    }
    if (g->process_priority != RL_FPM_UNSET_PRIORITY &&
        (g->process_priority < -19 || g->process_priority > 20)) {
        LOG(r, ERROR, "process.priority must be included into [-19,20]");
        return false;
    }
    if (g->error_log == NULL)
        g->error_log = "log/php-fpm.log";
    systemd_conf(r);
    if (g->syslog_ident == NULL)
        g->syslog_ident = "php-fpm";
    if (g->syslog_facility < 0)
        g->syslog_facility = LOG_DAEMON;
    if (strcasecmp(g->error_log, "syslog") != 0)
        full_path(r, &g->error_log, NULL, RL_FPM_LOCALSTATEDIR, false);
    return open_error_log(r) && choose_events(r) && check_pools(r) && open_access_logs(r);
}

/* ---- -t: accounts ---- */

static bool is_id(const char *name)
{
    return strlen(name) == strspn(name, "0123456789");
}

static bool check_account(reader_t *r, const rl_fpm_pool_t *wp, const char *name, bool group,
                          bool syserror)
{
    if (name == NULL || is_id(name))
        return true;
    errno = 0;
    bool found = group ? sys.getgrnam(name) != NULL : sys.getpwnam(name) != NULL;
    int err = errno;
    if (found)
        return true;
    const char *fmt = group ? "[pool %s] cannot get gid for group '%s'"
                            : "[pool %s] cannot get uid for user '%s'";
    if (syserror)
        rl_zlog_errno(r->log, err, fmt, wp->name, name);
    else
        rl_zlog(r->log, RL_ZLOG_ERROR, fmt, wp->name, name);
    return false;
}

/* php-fpm's fpm_unix_test_config(), run by -t only. */
static bool test_accounts(reader_t *r, const rl_fpm_pool_t *wp)
{
    return check_account(r, wp, wp->user, false, false) &&
           check_account(r, wp, wp->group, true, false) &&
           check_account(r, wp, wp->listen_owner, false, true) &&
           check_account(r, wp, wp->listen_group, true, true);
}

/* ---- -tt ---- */

#define STR(s) ((s) ? (s) : "undefined")
#define YESNO(b) ((b) ? "yes" : "no")
#define DUMP(c, ...) rl_zlog((c)->log, RL_ZLOG_NOTICE, __VA_ARGS__)

static void dump_priority(const rl_fpm_conf_t *c, int priority)
{
    if (priority == RL_FPM_UNSET_PRIORITY)
        DUMP(c, "\tprocess.priority = undefined");
    else
        DUMP(c, "\tprocess.priority = %d", priority);
}

static void dump_global(const rl_fpm_conf_t *c)
{
    const rl_fpm_global_t *g = &c->global;
    DUMP(c, "[global]");
    DUMP(c, "\tpid = %s", STR(g->pid_file));
    DUMP(c, "\terror_log = %s", STR(g->error_log));
    DUMP(c, "\tsyslog.ident = %s", STR(g->syslog_ident));
    DUMP(c, "\tsyslog.facility = %d", g->syslog_facility);
    DUMP(c, "\tlog_buffering = %s", YESNO(g->log_buffering));
    DUMP(c, "\tlog_level = %s", rl_zlog_level_name(g->log_level));
    DUMP(c, "\tlog_limit = %d", g->log_limit);
    DUMP(c, "\temergency_restart_interval = %ds", g->emergency_restart_interval);
    DUMP(c, "\temergency_restart_threshold = %d", g->emergency_restart_threshold);
    DUMP(c, "\tprocess_control_timeout = %ds", g->process_control_timeout);
    DUMP(c, "\tprocess.max = %d", g->process_max);
    dump_priority(c, g->process_priority);
    DUMP(c, "\tdaemonize = %s", YESNO(g->daemonize));
    DUMP(c, "\trlimit_files = %d", g->rlimit_files);
    DUMP(c, "\trlimit_core = %d", g->rlimit_core);
    DUMP(c, "\tevents.mechanism = %s", g->events_name);
    DUMP(c, "\tsystemd_interval = %ds", g->systemd_interval / 1000);
    DUMP(c, " ");
}

static void dump_pool(const rl_fpm_conf_t *c, const rl_fpm_pool_t *wp)
{
    static const char *const pm_names[] = { "ondemand", "static", "dynamic", "ondemand" };
    DUMP(c, "[%s]", STR(wp->name));
    DUMP(c, "\tprefix = %s", STR(wp->prefix));
    DUMP(c, "\tuser = %s", STR(wp->user));
    DUMP(c, "\tgroup = %s", STR(wp->group));
    DUMP(c, "\tlisten = %s", STR(wp->listen_address));
    DUMP(c, "\tlisten.backlog = %d", wp->listen_backlog);
    DUMP(c, "\tlisten.acl_users = %s", STR(wp->listen_acl_users));
    DUMP(c, "\tlisten.acl_groups = %s", STR(wp->listen_acl_groups));
    DUMP(c, "\tlisten.owner = %s", STR(wp->listen_owner));
    DUMP(c, "\tlisten.group = %s", STR(wp->listen_group));
    DUMP(c, "\tlisten.mode = %s", STR(wp->listen_mode));
    DUMP(c, "\tlisten.allowed_clients = %s", STR(wp->listen_allowed_clients));
    dump_priority(c, wp->process_priority);
    DUMP(c, "\tprocess.dumpable = %s", YESNO(wp->process_dumpable));
    DUMP(c, "\tpm = %s", pm_names[wp->pm]);
    DUMP(c, "\tpm.max_children = %d", wp->pm_max_children);
    DUMP(c, "\tpm.start_servers = %d", wp->pm_start_servers);
    DUMP(c, "\tpm.min_spare_servers = %d", wp->pm_min_spare_servers);
    DUMP(c, "\tpm.max_spare_servers = %d", wp->pm_max_spare_servers);
    DUMP(c, "\tpm.max_spawn_rate = %d", wp->pm_max_spawn_rate);
    DUMP(c, "\tpm.process_idle_timeout = %d", wp->pm_process_idle_timeout);
    DUMP(c, "\tpm.max_requests = %d", wp->pm_max_requests);
    DUMP(c, "\tpm.status_path = %s", STR(wp->pm_status_path));
    DUMP(c, "\tpm.status_listen = %s", STR(wp->pm_status_listen));
    DUMP(c, "\tping.path = %s", STR(wp->ping_path));
    DUMP(c, "\tping.response = %s", STR(wp->ping_response));
    DUMP(c, "\taccess.log = %s", STR(wp->access_log));
    DUMP(c, "\taccess.format = %s", STR(wp->access_format));
    for (const rl_fpm_kv_t *kv = wp->access_suppress_paths; kv; kv = kv->next)
        DUMP(c, "\taccess.suppress_path[] = %s", kv->value);
    DUMP(c, "\tslowlog = %s", STR(wp->slowlog));
    DUMP(c, "\trequest_slowlog_timeout = %ds", wp->request_slowlog_timeout);
    DUMP(c, "\trequest_slowlog_trace_depth = %d", wp->request_slowlog_trace_depth);
    DUMP(c, "\trequest_terminate_timeout = %ds", wp->request_terminate_timeout);
    DUMP(c, "\trequest_terminate_timeout_track_finished = %s",
         YESNO(wp->request_terminate_timeout_track_finished));
    DUMP(c, "\trlimit_files = %d", wp->rlimit_files);
    DUMP(c, "\trlimit_core = %d", wp->rlimit_core);
    DUMP(c, "\tchroot = %s", STR(wp->chroot));
    DUMP(c, "\tchdir = %s", STR(wp->chdir));
    DUMP(c, "\tcatch_workers_output = %s", YESNO(wp->catch_workers_output));
    DUMP(c, "\tdecorate_workers_output = %s", YESNO(wp->decorate_workers_output));
    DUMP(c, "\tclear_env = %s", YESNO(wp->clear_env));
    DUMP(c, "\tsecurity.limit_extensions = %s", STR(wp->security_limit_extensions));
    for (const rl_fpm_kv_t *kv = wp->env; kv; kv = kv->next)
        DUMP(c, "\tenv[%s] = %s", kv->key, kv->value);
    for (const rl_fpm_kv_t *kv = wp->php_values; kv; kv = kv->next)
        DUMP(c, "\tphp_value[%s] = %s", kv->key, kv->value);
    for (const rl_fpm_kv_t *kv = wp->php_admin_values; kv; kv = kv->next)
        DUMP(c, "\tphp_admin_value[%s] = %s", kv->key, kv->value);
    DUMP(c, " ");
}

void rl_fpm_conf_dump(const rl_fpm_conf_t *c)
{
    dump_global(c);
    for (const rl_fpm_pool_t *wp = c->pools; wp; wp = wp->next)
        if (wp->shared == NULL)
            dump_pool(c, wp);
}

/* ---- the whole ---- */

static void conf_init(rl_fpm_conf_t *c, rl_arena_t *a, const rl_fpm_opts_t *o, rl_zlog_t *log)
{
    memset(c, 0, sizeof(*c));
    c->arena = a;
    c->log = log;
    c->prefix = o->prefix;
    rl_fpm_global_t *g = &c->global;
    g->daemonize = 1;
    g->syslog_facility = -1;
    g->process_priority = RL_FPM_UNSET_PRIORITY;
    g->systemd_interval = -1;
    g->log_buffering = 1;
    g->log_limit = RL_ZLOG_DEFAULT_LIMIT;
}

int rl_fpm_conf_load(rl_fpm_conf_t *c, rl_arena_t *a, const rl_fpm_opts_t *o, rl_zlog_t *log)
{
    conf_init(c, a, o, log);
    reader_t r = { .c = c, .o = o, .log = log };
    if (o->prefix && *o->prefix && !is_dir(o->prefix)) {
        LOG(&r, ERROR, "the global prefix '%s' does not exist or is not a directory", o->prefix);
        return RL_ERROR;
    }
    if (o->pid && *o->pid)
        c->global.pid_file = rl_arena_strdup(a, o->pid);
    if (o->config && *o->config)
        c->file = rl_arena_strdup(a, o->config);
    else if (o->prefix)
        c->file = rl_arena_printf(a, "%s/etc/php-fpm.conf", o->prefix);
    else
        c->file = RL_FPM_CONF_FILE;
    if (load_file(&r, c->file) < 0) {
        LOG(&r, ERROR, "failed to load configuration file '%s'", c->file);
        return RL_ERROR;
    }
    if (!post_process(&r)) {
        LOG(&r, ERROR, "failed to post process the configuration");
        return RL_ERROR;
    }
    if (o->test) {
        for (const rl_fpm_pool_t *wp = c->pools; wp; wp = wp->next)
            if (!test_accounts(&r, wp))
                return RL_ERROR;
        if (o->test > 1)
            rl_fpm_conf_dump(c);
        LOG(&r, NOTICE, "configuration file %s test is successful\n", c->file);
    }
    return RL_OK;
}
