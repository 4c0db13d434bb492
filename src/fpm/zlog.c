/* php-fpm's log lines (see zlog.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "fpm/zlog.h"

static const char *const level_names[] = {
    [RL_ZLOG_DEBUG] = "DEBUG",
    [RL_ZLOG_NOTICE] = "NOTICE",
    [RL_ZLOG_WARNING] = "WARNING",
    [RL_ZLOG_ERROR] = "ERROR",
    [RL_ZLOG_ALERT] = "ALERT",
};

static const int syslog_prio[] = {
    [RL_ZLOG_DEBUG] = LOG_DEBUG,
    [RL_ZLOG_NOTICE] = LOG_NOTICE,
    [RL_ZLOG_WARNING] = LOG_WARNING,
    [RL_ZLOG_ERROR] = LOG_ERR,
    [RL_ZLOG_ALERT] = LOG_ALERT,
};

void rl_zlog_init(rl_zlog_t *z)
{
    memset(z, 0, sizeof(*z));
    z->level = RL_ZLOG_NOTICE;
    z->limit = RL_ZLOG_DEFAULT_LIMIT;
    z->fd = -1;
    z->stderr_fd = STDERR_FILENO;
}

void rl_zlog_close(rl_zlog_t *z)
{
    if (z->fd >= 0)
        close(z->fd);
    if (z->syslog)
        closelog();
    z->fd = -1;
    z->syslog = false;
}

const char *rl_zlog_level_name(int level)
{
    if (level < RL_ZLOG_DEBUG || level > RL_ZLOG_ALERT)
        return "unknown value";
    return level_names[level];
}

void rl_zlog_set_level(rl_zlog_t *z, int level)
{
    if (level >= RL_ZLOG_DEBUG && level <= RL_ZLOG_ALERT)
        z->level = level;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void to_stderr(rl_zlog_t *z, const char *p, size_t n)
{
    if (z->sink)
        z->sink(z->sink_ctx, p, n);
    else
        write_all(z->stderr_fd, p, n);
}

void rl_zlog_raw(rl_zlog_t *z, const char *fmt, ...)
{
    char buf[RL_ZLOG_BUF * 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        to_stderr(z, buf, RL_MIN((size_t)n, sizeof(buf) - 1));
}

/* "[27-Nov-2026 05:01:27] NOTICE: " or, for syslog, "[NOTICE] ". */
static size_t prefix(const rl_zlog_t *z, int level, char *buf, size_t size)
{
    if (z->syslog)
        return (size_t)snprintf(buf, size, "[%s] ", level_names[level]);
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, size, "[%d-%b-%Y %H:%M:%S] ", &tm);
    return n + (size_t)snprintf(buf + n, size - n, "%s: ", level_names[level]);
}

void rl_zlog_v(rl_zlog_t *z, int level, int err, const char *fmt, va_list ap)
{
    if (level < z->level || level < RL_ZLOG_DEBUG || level > RL_ZLOG_ALERT)
        return;
    int saved = errno;
    char buf[RL_ZLOG_BUF + 1];
    size_t len = prefix(z, level, buf, RL_ZLOG_BUF);
    len += (size_t)vsnprintf(buf + len, RL_ZLOG_BUF - len, fmt, ap);
    if (err >= 0 && len < RL_ZLOG_BUF)
        len += (size_t)snprintf(buf + len, RL_ZLOG_BUF - len, ": %s (%d)", strerror(err), err);
    if (len >= RL_ZLOG_BUF) {
        /* cut to log_limit - 1 bytes, the last three "..." */
        len = (size_t)RL_MIN(z->limit, RL_ZLOG_BUF) - 1;
        memcpy(buf + len - 3, "...", 3);
    }
    if (z->syslog)
        syslog(syslog_prio[level], "%.*s", (int)len, buf);
    buf[len++] = '\n';
    if (z->fd >= 0)
        write_all(z->fd, buf, len);
    if ((z->fd < 0 && !z->syslog) || level >= RL_ZLOG_NOTICE)
        to_stderr(z, buf, len);
    errno = saved;
}

void rl_zlog(rl_zlog_t *z, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rl_zlog_v(z, level, -1, fmt, ap);
    va_end(ap);
}

void rl_zlog_errno(rl_zlog_t *z, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rl_zlog_v(z, RL_ZLOG_ERROR, err, fmt, ap);
    va_end(ap);
}

void rl_zlog_use_fd(rl_zlog_t *z, int fd)
{
    if (z->fd >= 0 && z->fd != fd)
        close(z->fd);
    z->fd = fd;
}

void rl_zlog_use_syslog(rl_zlog_t *z, const char *ident, int facility)
{
    openlog(ident, LOG_PID | LOG_CONS, facility);
    z->syslog = true;
}
