/* php-fpm 8.2's access.log lines (fpm_log.c), byte for byte as php-fpm8.2
 * writes them once a request has ended:
 *
 *   access.format = "%R - %u %t \"%m %r%Q%q\" %s %f %{mili}d %{kilo}M %C%%"
 *   127.0.0.1 -  27/Nov/2026:12:27:35 +0000 "GET /index.php?a=1" 200 /srv/index.php 0.762 2048 0.00%
 *
 *   %%  '%'                          %n  the pool's name ("-": none)
 *   %C  cpu % of the request, "%.2f"; %{total}C, %{user}C, %{system}C
 *   %d  duration, "%.3f" seconds; %{seconds}d, %{milli}d / %{mili}d
 *       ("%.3f" ms), %{micro}d (µs, an integer)
 *   %e  %{NAME}e: the FastCGI parameter NAME, "-" when absent
 *   %f  the script ("-": none)       %l  content length (CONTENT_LENGTH)
 *   %m  the method ("-": none)       %M  peak memory in bytes; %{kilo}M, %{mega}M
 *   %o  %{Name}o: a response header the script set, "-" when none or empty
 *   %p  the child's pid              %P  its parent's (the master's)
 *   %q  the query string             %Q  '?' when there is a query string
 *   %r  the request uri (PHP's: SCRIPT_NAME, no query)
 *   %R  the address of the FastCGI peer (the web server, not REMOTE_ADDR);
 *       "-" on a unix socket
 *   %s  the status                   %u  the authenticated user ("" when none)
 *   %t  when the request was accepted, local time "%d/%b/%Y:%H:%M:%S %z";
 *       %{strftime format}t; %T, %{...}T: the same for the time of writing
 *
 * Modifier names are case-insensitive; a %{...} longer than 128 bytes is
 * cut. A lone '%' at the end of the format writes nothing. Formats are
 * those rl_fpm_access_format_check() accepts (fpm/conf.h). */
#ifndef RL_FPM_ACCESSLOG_H
#define RL_FPM_ACCESSLOG_H

#include "core/rl.h"
#include "core/buf.h"
#include "fpm/scoreboard.h"

#define RL_FPM_ACCESS_FORMAT_DEFAULT "%R - %u %t \"%m %r\" %s"
#define RL_FPM_ACCESS_BUFFER 1024    /* php-fpm's FPM_LOG_BUFFER: a line's limit */
#define RL_FPM_ACCESS_TRUNCATED 1    /* rl_fpm_access_format(): the line was cut */

/* Returns the value of <name> (NUL-terminated, valid until the line is
 * written) or NULL when there is none. */
typedef const char *(*rl_fpm_access_lookup_cb)(void *ctx, const char *name);

typedef struct {
    const char *pool;             /* %n */
    const rl_fpm_slot_t *slot;    /* the ended request: %C %d %f %l %m %M %p %q %Q %r %s %t %u */
    double cpu_user;              /* %{user}C: % of the duration in user mode */
    double cpu_system;            /* %{system}C; %C is slot->cpu */
    pid_t ppid;                   /* %P */
    const char *peer;             /* %R: the FastCGI peer's address; NULL: "-" */
    uint64_t now_us;              /* %T; 0: the wall clock now */
    rl_fpm_access_lookup_cb param;    /* %{NAME}e: the request's FastCGI params */
    void *param_ctx;
    rl_fpm_access_lookup_cb header;   /* %{Name}o, see rl_fpm_access_header_value() */
    void *header_ctx;
} rl_fpm_access_t;

/* Appends to <out> the line <format> gives for <a>, with its '\n', as
 * php-fpm writes it. Returns RL_OK; RL_FPM_ACCESS_TRUNCATED when the line
 * reached RL_FPM_ACCESS_BUFFER bytes: it is cut there, and when a %-token
 * overflowed, its last byte is a NUL, as php-fpm's (php-fpm also logs the
 * NOTICE "the log buffer is full (1024). The access log request has been
 * truncated."); RL_ERROR when php-fpm would refuse <format> (nothing
 * appended). A line that comes out empty is not written at all (RL_OK,
 * nothing appended), as php-fpm. */
int rl_fpm_access_format(const char *format, const rl_fpm_access_t *a, rl_buf_t *out);

/* php-fpm's match of %{<name>}o against one header line <line> the script
 * set ("X-Test: v1"): <name> found in the line (case counts) and ": " right
 * after its length, so in practice the name exactly ("%{Fo}o" would also
 * take "Xy: Foo"). Returns the value, or NULL when <line> does not match
 * or its value is empty. The first line that matches wins; PHP's default
 * "Content-type" is not among the lines php-fpm looks at. */
const char *rl_fpm_access_header_value(const char *line, const char *name);

#endif
