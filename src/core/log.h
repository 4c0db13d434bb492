/* Logs: Apache's error log, and the file machinery access logs reuse.
 *
 * One rl_log_t per ErrorLog/CustomLog target: a file opened O_APPEND,
 * /dev/stderr or /dev/stdout, a piped logger ("|command") or syslog. Each
 * error-log line is built in memory and written with a single write(2), so
 * worker processes appending to the same file never tear each other's lines.
 *
 * Error-log lines follow Apache 2.4's default ErrorLogFormat, without the tid
 * part since relais has no threads:
 *   [Fri Nov 27 05:01:27.123456 2026] [core:error] [pid 123] (2)No such file
 *   or directory: [client 127.0.0.1:4567] message
 * (one line; the "(errno)reason: " part only from rl_log_errno(), the client
 * part only when given). The message is escaped like Apache's
 * ap_escape_errorlog_item(): control and non-ASCII bytes become \n, \t,
 * \xhh..., a backslash is doubled; the whole line is cut at 8 KiB. */
#ifndef RL_LOG_H
#define RL_LOG_H

#include <stdarg.h>
#include "core/rl.h"

typedef enum {
    RL_LOG_EMERG,
    RL_LOG_ALERT,
    RL_LOG_CRIT,
    RL_LOG_ERR,       /* "error" */
    RL_LOG_WARN,      /* "warn", the default level */
    RL_LOG_NOTICE,
    RL_LOG_INFO,
    RL_LOG_DEBUG,
    RL_LOG_TRACE1,
    RL_LOG_TRACE2,
    RL_LOG_TRACE3,
    RL_LOG_TRACE4,
    RL_LOG_TRACE5,
    RL_LOG_TRACE6,
    RL_LOG_TRACE7,
    RL_LOG_TRACE8
} rl_log_level_t;

#define RL_LOG_LINE_MAX 8192   /* bytes of one error-log line, newline included */

typedef struct rl_log_s rl_log_t;

/* Opens a log target:
 *   "/path/file"         appended to, created with mode 0644 (minus umask)
 *   "/dev/stderr", "/dev/stdout"   fd 2 / fd 1 themselves, never closed
 *   "|command", "||command"        piped logger, run without a shell
 *                                  (arguments split on blanks, quotes honoured)
 *   "|$command"          piped logger run by /bin/sh -c
 *   "syslog[:facility[:tag]]"      syslog, facility local7 by default
 * Relative paths are the caller's business (resolve against ServerRoot
 * first). Writing to a piped logger that died raises SIGPIPE: daemons
 * ignore it (rl_signal_ignore_pipe()). The level is RL_LOG_WARN. Returns the log, or NULL with e.g.
 * "could not open log file /x/y.log: Permission denied" in <err>. */
rl_log_t *rl_log_open(const char *path, char *err, size_t errlen);

/* The process-wide log on fd 2 used before the config is read; never
 * closed (rl_log_close() ignores it). Its level can be changed. */
rl_log_t *rl_log_stderr(void);

/* Closes <l> and frees it; NULL ok. For a piped logger: closes the pipe,
 * gives the logger a second to exit on EOF, then SIGTERM, and reaps it. */
void rl_log_close(rl_log_t *l);

/* Reopens a file log at its path (after logrotate renamed it) onto the same
 * fd number, so forked children holding the fd follow. A no-op for other
 * kinds. Returns RL_OK, or RL_ERROR with errno set, the old file kept. */
int rl_log_reopen(rl_log_t *l);

/* The fd lines go to (-1 for syslog), e.g. to dup2 it onto stderr once
 * daemonized, as Apache does with the main ErrorLog. */
int rl_log_fd(const rl_log_t *l);

/* The pid of a piped logger, -1 for other kinds or when it is not running. */
pid_t rl_log_pipe_pid(const rl_log_t *l);

/* Restarts a piped logger that died (call it after the master reaped
 * rl_log_pipe_pid()); the new pipe takes the old write fd's number. A no-op
 * for other kinds. Returns RL_OK or RL_ERROR with errno set. */
int rl_log_respawn(rl_log_t *l);

/* "warn" -> RL_LOG_WARN, "trace3" -> RL_LOG_TRACE3 (Apache's keywords,
 * case-insensitive); -1 when unknown. */
int rl_log_parse_level(const char *name);

/* "error", "trace3", ... for a level. */
const char *rl_log_level_name(rl_log_level_t level);

/* Applies the arguments of a LogLevel directive: "warn", "info rewrite:trace3
 * core:debug". A plain level sets the default, "module:level" the level of a
 * module, named "rewrite", "mod_rewrite.c" or "rewrite_module". Nothing is
 * changed on error. Returns RL_OK or RL_ERROR with Apache's message in
 * <err>. */
int rl_log_set_levels(rl_log_t *l, int argc, char **argv, char *err, size_t errlen);

/* Sets the default level, leaving module levels alone. */
void rl_log_set_level(rl_log_t *l, rl_log_level_t level);

/* Whether a message of <level> from <module> (NULL: "core") is written.
 * <l> NULL means rl_log_stderr(). Call it before building a costly message.
 * Notices always are, as in Apache (start-up and shutdown lines). */
bool rl_log_enabled(const rl_log_t *l, const char *module, rl_log_level_t level);

/* Writes one error-log line when enabled. <module> NULL means "core",
 * <client> ("127.0.0.1:4567") may be NULL, <l> NULL means rl_log_stderr().
 * Preserves errno. */
void rl_log_error(rl_log_t *l, rl_log_level_t level, const char *module,
                  const char *client, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* As rl_log_error() with Apache's "(<err>)<strerror>: " before the client
 * part; <err> 0 omits it. */
void rl_log_errno(rl_log_t *l, rl_log_level_t level, const char *module,
                  const char *client, int err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

void rl_log_verror(rl_log_t *l, rl_log_level_t level, const char *module,
                   const char *client, int err, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

/* Writes <buf> as it is with one write(2) (access logs: the caller formats
 * and adds the newline; for syslog, one message without the newline).
 * Returns RL_OK, or RL_ERROR with errno set. */
int rl_log_write_raw(rl_log_t *l, const char *buf, size_t len);

#endif
