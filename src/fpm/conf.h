/* relais-fpm's configuration: php-fpm 8.2's php-fpm.conf and pool files,
 * read verbatim, checked and completed as php-fpm does, with php-fpm's
 * messages (fpm_conf.c, fpm_unix.c, fpm_log.c, fpm_events.c of PHP 8.2).
 *
 *   [global]                 the master's settings (rl_fpm_global_t)
 *   [www]                    a pool (rl_fpm_pool_t); a name seen again
 *   user = www-data          (any case) continues that pool
 *   env[PATH] = /usr/bin     arrays: env, php_value, php_flag,
 *   php_admin_flag[x] = on   php_admin_value, php_admin_flag,
 *   include = pool.d/x.conf  access.suppress_path[]; include is a glob,
 *                            relative to the prefix (-p, else /usr)
 *
 * Values read as PHP's INI parser reads them (fpm/ini.h): quotes, ${ENV},
 * constants, yes/no. "$pool" in a pool's strings is the pool's name.
 * Numbers are php-fpm's (a leading '-', then digits), times take s, m, h
 * or d, booleans are what the INI parser gives ("1" or "").
 *
 * Messages go through an rl_zlog_t as php-fpm's go through zlog, in
 * php-fpm's order: a bad line stops the reading at once
 * ("ERROR: [/etc/php/8.2/fpm/pool.d/www.conf:12] unknown entry 'foo'",
 * then "ERROR: failed to load configuration file '...'"); then defaults are
 * filled in and the whole is checked ("ALERT: [pool www] pm.max_children
 * must be a positive value", "ERROR: failed to post process the
 * configuration"). Like php-fpm, the check opens (creating them) the
 * error_log, the access logs and the slowlogs it is asked for. */
#ifndef RL_FPM_CONF_H
#define RL_FPM_CONF_H

#include "core/rl.h"
#include "core/arena.h"
#include "fpm/zlog.h"

/* Where Debian's php-fpm8.2 looks by default. */
#define RL_FPM_PREFIX        "/usr"           /* -p: relative paths, includes */
#define RL_FPM_LOCALSTATEDIR "/var"           /* pid and error_log without -p */
#define RL_FPM_CONF_FILE     "/etc/php/8.2/fpm/php-fpm.conf"

#define RL_FPM_UNSET_PRIORITY 64              /* process.priority not set */
#define RL_FPM_BACKLOG_DEFAULT -1             /* listen.backlog: the system's */

typedef struct rl_fpm_kv_s rl_fpm_kv_t;
struct rl_fpm_kv_s {
    const char *key;          /* NULL for access.suppress_path */
    const char *value;
    rl_fpm_kv_t *next;
};

typedef enum {
    RL_FPM_PM_NONE = 0,       /* not set: an error */
    RL_FPM_PM_STATIC = 1,
    RL_FPM_PM_DYNAMIC = 2,
    RL_FPM_PM_ONDEMAND = 3,
} rl_fpm_pm_t;

typedef enum {
    RL_FPM_LISTEN_INET,       /* "port", "addr:port", "[v6]:port" */
    RL_FPM_LISTEN_UNIX,       /* a path */
} rl_fpm_listen_t;

typedef struct {
    const char *pid_file;
    const char *error_log;
    const char *syslog_ident;
    int syslog_facility;      /* LOG_DAEMON unless set */
    int log_level;            /* RL_ZLOG_*, 0: not set */
    int log_limit;
    int log_buffering;
    int emergency_restart_threshold;
    int emergency_restart_interval;   /* seconds */
    int process_control_timeout;      /* seconds */
    int process_max;
    int process_priority;     /* RL_FPM_UNSET_PRIORITY: not set */
    int daemonize;
    int rlimit_files;
    int rlimit_core;          /* -1: unlimited */
    const char *events_mechanism;     /* as written; NULL: the best one */
    const char *events_name;          /* the one chosen: "epoll", "poll", "select" */
    int systemd_interval;     /* milliseconds once checked; -1: not set */
    int systemd_watchdog;     /* WATCHDOG_USEC set it */
} rl_fpm_global_t;

typedef struct rl_fpm_pool_s rl_fpm_pool_t;
struct rl_fpm_pool_s {
    const char *name;
    const char *prefix;
    const char *user;
    const char *group;
    const char *listen_address;
    int listen_backlog;
    const char *listen_acl_users;
    const char *listen_acl_groups;
    const char *listen_owner;
    const char *listen_group;
    const char *listen_mode;
    const char *listen_allowed_clients;
    int process_priority;
    int process_dumpable;
    rl_fpm_pm_t pm;
    int pm_max_children;
    int pm_start_servers;
    int pm_min_spare_servers;
    int pm_max_spare_servers;
    int pm_max_spawn_rate;
    int pm_process_idle_timeout;      /* seconds */
    int pm_max_requests;
    const char *pm_status_path;
    const char *pm_status_listen;
    const char *ping_path;
    const char *ping_response;
    const char *access_log;
    const char *access_format;
    rl_fpm_kv_t *access_suppress_paths;
    const char *slowlog;
    int request_slowlog_timeout;      /* seconds */
    int request_slowlog_trace_depth;
    int request_terminate_timeout;    /* seconds */
    int request_terminate_timeout_track_finished;
    int rlimit_files;
    int rlimit_core;
    const char *chroot;
    const char *chdir;
    int catch_workers_output;
    int decorate_workers_output;
    int clear_env;
    const char *security_limit_extensions;
    const char *apparmor_hat;
    /* the arrays, newest first as php-fpm keeps them; php_flag entries
     * are in php_values as "1" / "0" */
    rl_fpm_kv_t *env;
    rl_fpm_kv_t *php_values;
    rl_fpm_kv_t *php_admin_values;

    /* set when the configuration is checked */
    rl_fpm_listen_t listen_domain;
    const char **limit_extensions;    /* NULL-terminated; NULL: none */
    rl_fpm_pool_t *shared;            /* a pm.status_listen pool: the pool it serves */
    rl_fpm_pool_t *next;
};

/* The command line's part in reading the configuration. */
typedef struct {
    const char *config;       /* -y; NULL: <prefix>/etc/php-fpm.conf or RL_FPM_CONF_FILE */
    const char *prefix;       /* -p; NULL: none */
    const char *pid;          /* -g; the file's pid wins */
    int test;                 /* 0, 1 (-t), 2 (-tt: dump too) */
    int force_daemon;         /* -1, 0 (-F), 1 (-D) */
    bool run_as_root;         /* -R */
    bool force_stderr;        /* -O */
    const rl_fpm_kv_t *ini;   /* -d name=value: ${name} finds them before the environment */
} rl_fpm_opts_t;

typedef struct {
    rl_arena_t *arena;
    rl_zlog_t *log;
    const char *file;         /* the configuration file read */
    const char *prefix;       /* -p */
    rl_fpm_global_t global;
    rl_fpm_pool_t *pools;     /* in order of appearance; status pools after them */
    int heartbeat;            /* milliseconds: php-fpm's timer for the timeouts */
} rl_fpm_conf_t;

/* Reads and checks the configuration named by <o> into <c>, allocating in
 * <a> and logging to <log> as php-fpm's fpm_conf_init_main() does. With
 * <o>->test, also looks the users and groups up, dumps the configuration
 * for -tt and logs "configuration file X test is successful" (+ an empty
 * line, as php-fpm). Returns RL_OK, or RL_ERROR once the reasons are
 * logged (the caller adds "FPM initialization failed"). */
int rl_fpm_conf_load(rl_fpm_conf_t *c, rl_arena_t *a, const rl_fpm_opts_t *o, rl_zlog_t *log);

/* Logs the configuration as php-fpm -tt does (NOTICE lines). */
void rl_fpm_conf_dump(const rl_fpm_conf_t *c);

/* The pool named <name> (case-insensitive, as php-fpm), or NULL. */
rl_fpm_pool_t *rl_fpm_conf_pool(const rl_fpm_conf_t *c, const char *name);

/* Checks an access.format as php-fpm does before it accepts it; logs the
 * WARNING php-fpm logs and returns RL_ERROR when it would refuse it. */
int rl_fpm_access_format_check(rl_zlog_t *log, const char *format);

#endif
