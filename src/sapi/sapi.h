/* relais' PHP SAPI: PHP 8.2 hosted in-process through Debian's libphp8.2
 * (libphp8.2-embed), for relais-fpm's children. The only unit that
 * includes PHP's headers; nothing of PHP leaks through this header.
 *
 * It reports itself as "fpm-fcgi" (what php-fpm reports, what opcache and
 * applications test php_sapi_name() against) and does, per request, what
 * php-fpm's fpm_main.c does between reading the FastCGI params and the
 * END_REQUEST: $_SERVER from the params (with cgi.fix_pathinfo's
 * SCRIPT_FILENAME / PATH_INFO / PATH_TRANSLATED fixes, the "proxy:fcgi://"
 * prefix Apache's mod_proxy_fcgi may send stripped), the
 * security.limit_extensions check ("Access denied."), the primary script
 * check ("File not found." and "Primary script unknown"), the script run,
 * headers sent CGI-style ("Status: 404 Not Found\r\n..."), HEAD,
 * fastcgi_finish_request(), php_value / php_admin_value per pool.
 *
 * Life cycle, in a pool leader then in its children (forked after
 * rl_sapi_startup(), so they share its start-up work and opcache):
 *   rl_sapi_startup() once; rl_sapi_pool_ini() once; then per request
 *   rl_sapi_run(); rl_sapi_shutdown() when the child ends.
 *
 * I/O is the caller's: the SAPI reads the body and writes the output
 * through an rl_sapi_io_t, blocking. */
#ifndef RL_SAPI_H
#define RL_SAPI_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

/* What the command line says about php.ini, as php-fpm's -c, -n, -d. */
typedef struct rl_sapi_ini_s rl_sapi_ini_t;
struct rl_sapi_ini_s {
    const char *name;
    const char *value;
    rl_sapi_ini_t *next;
};

typedef struct {
    const char *php_ini;       /* -c: a file or a directory; NULL: PHP's search */
    bool no_php_ini;           /* -n */
    const rl_sapi_ini_t *defines;  /* -d name=value, in order */
} rl_sapi_opts_t;

/* A pool's php_value[] / php_flag[] (admin = false) and php_admin_value[] /
 * php_admin_flag[] (admin = true), applied as php-fpm applies them:
 * admin values cannot be changed by ini_set() afterwards; "extension" and
 * "zend_extension" load the module. */
typedef struct rl_sapi_pool_value_s rl_sapi_pool_value_t;
struct rl_sapi_pool_value_s {
    const char *name;
    const char *value;
    bool admin;
    rl_sapi_pool_value_t *next;
};

/* Callbacks to the connection, all blocking. <ctx> is rl_sapi_io_t.ctx. */
typedef struct {
    void *ctx;
    /* Up to <len> bytes of the request body (FCGI_STDIN): bytes read,
     * 0 at its end, -1 when the connection failed. */
    ssize_t (*read_body)(void *ctx, char *buf, size_t len);
    /* Output bytes for FCGI_STDOUT: first the CGI header block the SAPI
     * formats ("Status: ...\r\n" when not 200, each header, "\r\n"), then
     * the body (none for HEAD). Returns 0, or -1 when the client is gone
     * (the SAPI then marks the connection aborted: connection_aborted()). */
    int (*write)(void *ctx, const char *data, size_t len);
    /* flush(): send what is buffered now. Returns 0 or -1 as write. */
    int (*flush)(void *ctx);
    /* fastcgi_finish_request(): the response is complete (FCGI_END_REQUEST
     * may go out, the connection be released); later writes are dropped by
     * the SAPI itself. Returns 0 or -1. */
    int (*finish)(void *ctx);
    /* A line PHP logs (its error_log unset), without the "PHP message: "
     * prefix or a newline. <level> is always LOG_NOTICE, as php-fpm
     * (zlog_msg(ZLOG_NOTICE, "PHP message: ", ...)) whatever PHP's
     * severity. php-fpm sends such lines as FCGI_STDERR "PHP message:
     * <line>" (whatever its log_level) and writes them to its error log
     * at NOTICE. The SAPI's own lines go to log_own() when it is set. */
    void (*log)(void *ctx, int level, const char *line, size_t len);
    /* Optional (NULL: they go to log()). The SAPI's own lines, which
     * php-fpm sends on FCGI_STDERR as they are, without "PHP message: ",
     * whatever its log_level, and logs at <level>:
     *   LOG_DEBUG   "Primary script unknown"
     *   LOG_NOTICE  "Access to the script '%s' has been denied (see
     *               security.limit_extensions)"
     *   LOG_ERR     "Unable to open primary script: %s (%s)",
     *               "Passing INI directive through FastCGI: ..." */
    void (*log_own)(void *ctx, int level, const char *line, size_t len);
    /* Optional. Each header line the script set ("X-Test: v1", PHP's
     * charset added to a Content-type), as the block sends it: no Status
     * line, not PHP's default Content-type. For access.format's %{Name}o,
     * which looks at those only (php-fpm). */
    void (*header)(void *ctx, const char *line, size_t len);
} rl_sapi_io_t;

/* One request: the FastCGI params as received, in order. */
typedef struct {
    size_t nparams;
    const char *const *names;  /* NUL-terminated copies */
    const size_t *name_lens;
    const char *const *values;
    const size_t *value_lens;
    const char *const *limit_extensions;  /* NULL-terminated; NULL: any file */
} rl_sapi_request_t;

/* What a request did, for the scoreboard, the access log and the status
 * page. */
typedef struct {
    int status;                /* the HTTP status sent (200 when none set) */
    bool finished_early;       /* fastcgi_finish_request() was called */
    bool aborted;              /* the client went away */
    size_t memory_peak;        /* zend_memory_peak_usage(1) of the request */
    char method[16];           /* REQUEST_METHOD */
    char script[512];          /* SCRIPT_FILENAME after the fixes; "" if none */
    char request_uri[512];     /* SG(request_info).request_uri: php-fpm's %r,
                                * i.e. SCRIPT_NAME after the fixes */
    char query[512];
    char auth_user[64];        /* PHP_AUTH_USER of a Basic Authorization
                                * (SG(request_info).auth_user, php-fpm's %u) */
    uint64_t content_length;
} rl_sapi_result_t;

/* Starts PHP in this process: the INI files as php-fpm reads them (our
 * module is named "fpm-fcgi", so php-fpm-fcgi.ini wins over php.ini in a
 * directory), PHP_INI_SCAN_DIR, the -d defines, then module start-up.
 *
 * Debian's libphp8.2 looks in /etc/php/8.2/embed by default; Debian's
 * php-fpm in /etc/php/8.2/fpm. So, as php-fpm: -c (a file or a directory)
 * wins, else PHPRC, else /etc/php/8.2/fpm (when it holds a php.ini); the
 * scan dir is PHP_INI_SCAN_DIR when set, else /etc/php/8.2/fpm/conf.d
 * (PHP_INI_SCAN_DIR is set during start-up only, then removed, so it does
 * not reach $_SERVER). -n reads no file and no scan dir. php.ini in the
 * current directory is never read.
 *
 * Before it, the caller has set up its signal handlers (PHP forwards to
 * those it finds); it calls zend_signal_startup() and sets SIGPIPE to
 * SIG_IGN. Returns 0, or -1 with PHP's own message on stderr. */
int rl_sapi_startup(const rl_sapi_opts_t *opts);

/* Applies a pool's php_value/php_admin_value list at the system level, in
 * the leader before the children are forked: every request starts from
 * them. As php-fpm: every php_value first, then every php_admin_value, each
 * group in the order given. An entry PHP refuses is skipped with php-fpm's
 * message in <err> (e.g. "Unable to set php_value 'foo'", several ones
 * separated by '\n'); returns 0 when all were applied, else -1 (the caller
 * logs <err> and goes on, as php-fpm does). A failed "extension" is not an
 * error here (PHP warns on stderr itself), "zend_extension" is refused
 * (php-fpm 8.2 knows no such ini entry either). */
int rl_sapi_pool_ini(const rl_sapi_pool_value_t *values, char *err, size_t errlen);

/* Runs one request. Always completes the response through <io> (an error
 * page if need be); returns 0, or -1 when the process should not serve
 * another request (PHP's state is unsafe, e.g. request start-up failed
 * mid-way: a "Status: 500" header block has been written). Fills <res>
 * (may be NULL).
 *
 * $_SERVER is, as php-fpm's, the process environment then the params (the
 * last received first) then PHP_SELF, REQUEST_TIME_FLOAT, REQUEST_TIME:
 * the caller clears the environment of a child (clear_env) and sets env[]
 * before the first request. "FCGI_ROLE" = "RESPONDER" is added as php-fpm
 * adds it. The PHP_VALUE / PHP_ADMIN_VALUE params are applied as php-fpm
 * does: to the master values, so they stay for the child's next requests.
 * Output after fastcgi_finish_request() is dropped: the first 8 KiB
 * silently, then the script is aborted unless ignore_user_abort (php-fpm's
 * FastCGI buffer). */
int rl_sapi_run(const rl_sapi_request_t *req, const rl_sapi_io_t *io, rl_sapi_result_t *res);

/* fastcgi.logging (php.ini, default On): whether PHP's messages and the
 * SAPI's own lines go to the web server as FCGI_STDERR too, or only to
 * the child's stderr. */
bool rl_sapi_fcgi_logging(void);

/* Module and SAPI shutdown, at the end of a child or leader. */
void rl_sapi_shutdown(void);

/* The address of PHP's executor globals in this process (the same in every
 * child forked from it), for rl_sapi_backtrace(). */
uintptr_t rl_sapi_executor_globals(void);

/* Writes the PHP backtrace of process <pid> (a child running a request),
 * read from outside with process_vm_readv at <eg> (its executor globals),
 * as php-fpm's slowlog lines:
 *   "[0x00007f1e8a2130a0] sleep() /srv/www/slow.php:3\n"
 * at most <depth> frames, into <out>. Returns the bytes written, or -1
 * (the process is gone, or its memory could not be read). Does not stop
 * the process. */
ssize_t rl_sapi_backtrace(pid_t pid, uintptr_t eg, int depth, char *out, size_t outlen);

/* For -v, -m and -i: "PHP 8.2.36 (fpm-fcgi) ..." / the module list /
 * phpinfo() as text, printed to stdout after rl_sapi_startup(). */
void rl_sapi_print_version(void);
void rl_sapi_print_modules(void);
void rl_sapi_print_info(void);

#endif
