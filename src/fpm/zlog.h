/* php-fpm's log lines (its zlog), so that relais-fpm's messages read as
 * php-fpm's, byte for byte:
 *
 *   [27-Nov-2026 05:01:27] ERROR: [pool www] user has not been defined
 *
 * Before the configuration names an error_log, lines go to stderr. Once
 * rl_zlog_use_fd() gave it, they go to that file, and those of level
 * NOTICE and above are copied to stderr too (php-fpm does this until it is
 * launched: -t output appears in both). With error_log = syslog the lines
 * go to syslog and read "[NOTICE] message", on stderr as well. A line of
 * 2048 bytes or more is cut to log_limit - 1 bytes ending in "...". */
#ifndef RL_FPM_ZLOG_H
#define RL_FPM_ZLOG_H

#include <stdarg.h>
#include "core/rl.h"

typedef enum {
    RL_ZLOG_DEBUG = 1,
    RL_ZLOG_NOTICE,
    RL_ZLOG_WARNING,
    RL_ZLOG_ERROR,
    RL_ZLOG_ALERT,
} rl_zlog_level_t;

#define RL_ZLOG_DEFAULT_LIMIT 1024   /* log_limit */
#define RL_ZLOG_MIN_LIMIT 512
#define RL_ZLOG_BUF 2048             /* a line this long or longer is cut */

/* Receives every line written to stderr (with its newline); for tests. */
typedef void (*rl_zlog_sink_cb)(void *ctx, const char *line, size_t len);

typedef struct {
    int level;             /* lines below it are dropped: RL_ZLOG_NOTICE */
    int limit;             /* log_limit */
    int fd;                /* the error_log file, or -1 */
    bool syslog;           /* error_log = syslog */
    int stderr_fd;         /* 2 */
    rl_zlog_sink_cb sink;  /* when set, replaces the writes to stderr */
    void *sink_ctx;
} rl_zlog_t;

/* Sets up <z>: stderr only, level NOTICE, the default limit. */
void rl_zlog_init(rl_zlog_t *z);

/* Closes the error_log file or syslog; <z> writes to stderr again. */
void rl_zlog_close(rl_zlog_t *z);

/* "DEBUG", "NOTICE", "WARNING", "ERROR", "ALERT"; "unknown value" for
 * anything else (php-fpm's -tt prints that for an unset log_level). */
const char *rl_zlog_level_name(int level);

/* Changes the level when <level> is one of RL_ZLOG_*; else does nothing,
 * as php-fpm's zlog_set_level() does. */
void rl_zlog_set_level(rl_zlog_t *z, int level);

/* Writes one line of <level>. */
void rl_zlog(rl_zlog_t *z, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void rl_zlog_v(rl_zlog_t *z, int level, int err, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* As rl_zlog() with php-fpm's ": strerror (errno)" after the message
 * (its ZLOG_SYSERROR, which reads as ERROR). */
void rl_zlog_errno(rl_zlog_t *z, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes the bytes as they are to stderr: what PHP itself prints there,
 * such as "PHP:  syntax error, ... on line 1\n". */
void rl_zlog_raw(rl_zlog_t *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends the lines to the error_log file <fd> from now on (<z> owns it),
 * or to syslog as <ident> with <facility>. */
void rl_zlog_use_fd(rl_zlog_t *z, int fd);
void rl_zlog_use_syslog(rl_zlog_t *z, const char *ident, int facility);

#endif
