/* php-fpm 8.2's status page (pm.status_path) and ping (ping.path), rendered
 * from a pool's scoreboard as the CGI response php-fpm8.2 gives, byte for
 * byte (fpm_status.c; checked against php-fpm 8.2.36):
 *
 *   Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n
 *   Cache-Control: no-cache, no-store, must-revalidate, max-age=0\r\n
 *   Content-Type: application/json\r\n
 *   \r\n
 *   {"pool":"www","process manager":"static",...}
 *
 * The caller decides whether the request is for these pages: php-fpm
 * compares the path with SCRIPT_NAME as PHP sees it, exactly (case and
 * trailing '/' count; REQUEST_URI and PATH_INFO play no part), the ping
 * path first. No Content-Length: the FastCGI stream's end tells.
 *
 * The query string picks the format as PHP's $_GET does: keys are
 * url-decoded and any key that is a prefix of the name counts ("j" or
 * "json=0" ask for json, "fu" for full); html wins over xml over json over
 * openmetrics; otherwise plain text. openmetrics ignores "full".
 *
 * With expose_php = On, php-fpm puts "X-Powered-By: PHP/<version>\r\n"
 * first (after a "Status:" line): the caller prepends it (Debian's php.ini
 * has it Off). */
#ifndef RL_FPM_STATUS_H
#define RL_FPM_STATUS_H

#include "core/rl.h"
#include "core/buf.h"
#include "fpm/scoreboard.h"

typedef struct {
    const rl_fpm_scoreboard_t *sb;   /* NULL: php-fpm's 500 "Internal error" */
    int listen_queue;        /* current, read by the caller from the socket; -1 unknown (0 shown) */
    int listen_queue_len;    /* the backlog ("listen queue len") */
    uint64_t now_us;         /* wall clock */
    pid_t self;              /* the child answering: its slot shows "Running" */
} rl_fpm_status_t;

/* Appends to <out> the whole CGI response (header lines, "\r\n", body
 * unless <head>) php-fpm gives for the status path with query string
 * <query> ("", "json", "json&full", "full&html", "openmetrics"...).
 *
 * Pool figures come from <st>->sb as php-fpm shows them ("total processes"
 * is idle + active). Per process (",full"), slots with a pid, in slot
 * order: a slot in RL_FPM_STAGE_IDLE shows its last request (duration,
 * cpu, memory), any other its current one (now - accepted_us, cpu and
 * memory 0). "request uri" is the slot's request_uri, then '?' and the
 * query when there is one: php-fpm stores SCRIPT_NAME there (PHP's
 * request_uri), not the REQUEST_URI parameter. In json, xml and html the
 * method, uri, query, user and script are escaped as PHP does (json_encode
 * dropping invalid UTF-8; htmlspecialchars ENT_COMPAT|ENT_XHTML|ENT_DISALLOWED,
 * where invalid UTF-8 gives an empty string); the pool name never is. Times are
 * local time (TZ), as php-fpm's strftime(). A board with a negative idle or
 * active count gives php-fpm's 500 "Internal error. Please review log file
 * for errors." */
void rl_fpm_status_render(const rl_fpm_status_t *st, const char *query, bool head, rl_buf_t *out);

/* Appends the ping answer with <response> ("pong"): text/plain, no body
 * when <head>. */
void rl_fpm_ping_render(const char *response, bool head, rl_buf_t *out);

#endif
