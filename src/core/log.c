/* Logs (see log.h for the line format and the targets).
 *
 * A line is built in a stack buffer and written with one write(2) on an
 * O_APPEND fd: POSIX makes such appends atomic with respect to each other, so
 * every worker can write to the shared fd without locks. Piped loggers get
 * the same guarantee up to PIPE_BUF (4 KiB) per line, as with Apache. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "core/proc.h"
#include "core/str.h"

#define MODULE_NAME_MAX 40
#define PIPE_ARGS_MAX 64

typedef enum {
    KIND_FILE,     /* a path we opened */
    KIND_STD,      /* fd 1 or 2, not ours */
    KIND_PIPE,     /* a piped logger */
    KIND_SYSLOG
} kind_t;

typedef struct {
    char name[MODULE_NAME_MAX];   /* short form: "rewrite" */
    int level;
} module_level_t;

struct rl_log_s {
    kind_t kind;
    int fd;
    int level;
    char *target;             /* file path or piped command */
    pid_t pid;                /* piped logger */
    int facility;             /* syslog */
    module_level_t *modules;
    size_t nmodules;
};

static rl_log_t stderr_log = { KIND_STD, 2, RL_LOG_WARN, NULL, -1, 0, NULL, 0 };

static const char *const level_names[] = {
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
    "trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7", "trace8",
};


static rl_log_t *log_new(kind_t kind)
{
    rl_log_t *l = rl_xcalloc(1, sizeof(*l));
    l->kind = kind;
    l->fd = -1;
    l->pid = -1;
    l->level = RL_LOG_WARN;
    return l;
}

static void log_free(rl_log_t *l)
{
    free(l->target);
    free(l->modules);
    free(l);
}

/* ---- targets ---- */

static int open_file(rl_log_t *l, const char *path, char *err, size_t errlen)
{
    l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (l->fd < 0) {
        rl_errf(err, errlen, "could not open log file %s: %s", path, strerror(errno));
        return RL_ERROR;
    }
    l->target = rl_xstrdup(path);
    return RL_OK;
}

/* Splits <cmd> into <argv> (at most <max> words, NULL-terminated) using
 * <buf> (strlen(cmd) + 1 bytes) for the words, like apr_tokenize_to_argv():
 * blanks separate, quotes group, a backslash escapes the next character
 * outside single quotes. Returns the number of words. */
static size_t tokenize(const char *cmd, char *buf, char **argv, size_t max)
{
    size_t n = 0;
    const char *s = cmd;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || n == max)
            break;
        argv[n++] = buf;
        char quote = 0;
        for (; *s && (quote || (*s != ' ' && *s != '\t')); s++) {
            if (quote != '\'' && *s == '\\' && s[1])
                *buf++ = *++s;
            else if (quote == 0 && (*s == '"' || *s == '\''))
                quote = *s;
            else if (quote && *s == quote)
                quote = 0;
            else
                *buf++ = *s;
        }
        *buf++ = '\0';
    }
    argv[n] = NULL;
    return n;
}

/* Starts l->target reading from a new pipe; the write end goes to l->fd
 * (keeping its number when there is one). */
static int start_logger(rl_log_t *l)
{
    const char *cmd = l->target;
    char *argv[PIPE_ARGS_MAX + 1], *words = rl_xmalloc(strlen(cmd) + 1);
    int p[2], rc = RL_ERROR;

    if (cmd[0] == '$') {
        argv[0] = "/bin/sh", argv[1] = "-c", argv[2] = (char *)cmd + 1, argv[3] = NULL;
    } else if (tokenize(cmd, words, argv, PIPE_ARGS_MAX) == 0) {
        errno = EINVAL;
        goto out_free_words;
    }
    if (pipe2(p, O_CLOEXEC) != 0)
        goto out_free_words;
    pid_t pid = rl_proc_spawn(argv, p[0], -1, -1);
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        goto out_free_words;
    }
    if (l->fd >= 0) {
        dup3(p[1], l->fd, O_CLOEXEC);
        close(p[1]);
    } else {
        l->fd = p[1];
    }
    l->pid = pid;
    rc = RL_OK;
out_free_words:
    free(words);
    return rc;
}

static int open_pipe(rl_log_t *l, const char *cmd, char *err, size_t errlen)
{
    if (cmd[0] == '|')
        cmd++;
    l->target = rl_xstrdup(cmd);
    if (start_logger(l) != RL_OK) {
        rl_errf(err, errlen, "could not start piped log program %s: %s", cmd, strerror(errno));
        return RL_ERROR;
    }
    return RL_OK;
}

static const struct { const char *name; int facility; } facilities[] = {
    { "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV }, { "cron", LOG_CRON },
    { "daemon", LOG_DAEMON }, { "ftp", LOG_FTP }, { "kern", LOG_KERN },
    { "lpr", LOG_LPR }, { "mail", LOG_MAIL }, { "news", LOG_NEWS },
    { "syslog", LOG_SYSLOG }, { "user", LOG_USER }, { "uucp", LOG_UUCP },
    { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
    { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
    { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

/* <spec> is what follows "syslog": "", ":facility" or ":facility:tag". */
static int open_syslog(rl_log_t *l, const char *spec, char *err, size_t errlen)
{
    static char ident[64];
    const char *fac = spec[0] == ':' ? spec + 1 : "";
    const char *tag = strchr(fac, ':');
    size_t flen = tag ? (size_t)(tag - fac) : strlen(fac);

    l->facility = LOG_LOCAL7;   /* Apache's default */
    if (flen > 0) {
        size_t i;
        for (i = 0; i < RL_NELEMS(facilities); i++)
            if (strlen(facilities[i].name) == flen && strncasecmp(facilities[i].name, fac, flen) == 0)
                break;
        if (i == RL_NELEMS(facilities)) {
            rl_errf(err, errlen, "unknown syslog facility %.*s", (int)flen, fac);
            return RL_ERROR;
        }
        l->facility = facilities[i].facility;
    }
    snprintf(ident, sizeof(ident), "%s", tag && tag[1] ? tag + 1 : program_invocation_short_name);
    openlog(ident, LOG_NDELAY | LOG_PID, l->facility);
    return RL_OK;
}

rl_log_t *rl_log_open(const char *path, char *err, size_t errlen)
{
    rl_log_t *l;
    int rc = RL_OK;

    if (path[0] == '|') {
        l = log_new(KIND_PIPE);
        rc = open_pipe(l, path + 1, err, errlen);
    } else if (strncmp(path, "syslog", 6) == 0 && (path[6] == '\0' || path[6] == ':')) {
        l = log_new(KIND_SYSLOG);
        rc = open_syslog(l, path + 6, err, errlen);
    } else if (strcmp(path, "/dev/stderr") == 0 || strcmp(path, "/dev/stdout") == 0) {
        l = log_new(KIND_STD);
        l->fd = path[5] == 's' && path[8] == 'e' ? 2 : 1;
    } else {
        l = log_new(KIND_FILE);
        rc = open_file(l, path, err, errlen);
    }
    if (rc != RL_OK) {
        log_free(l);
        return NULL;
    }
    return l;
}

rl_log_t *rl_log_stderr(void)
{
    return &stderr_log;
}

/* Gives a piped logger a second to drain and exit on EOF, then SIGTERM. */
static void stop_logger(pid_t pid)
{
    for (int i = 0; i < 100; i++) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return;   /* reaped, or not (or no longer) our child */
        usleep(10 * 1000);
    }
    kill(pid, SIGTERM);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

void rl_log_close(rl_log_t *l)
{
    if (l == NULL || l == &stderr_log)
        return;
    if ((l->kind == KIND_FILE || l->kind == KIND_PIPE) && l->fd >= 0)
        close(l->fd);
    if (l->kind == KIND_PIPE && l->pid > 0)
        stop_logger(l->pid);
    log_free(l);
}

int rl_log_reopen(rl_log_t *l)
{
    if (l->kind != KIND_FILE)
        return RL_OK;
    int fd = open(l->target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return RL_ERROR;
    int rc = dup3(fd, l->fd, O_CLOEXEC) < 0 ? RL_ERROR : RL_OK;
    int saved_errno = errno;
    close(fd);
    errno = saved_errno;
    return rc;
}

int rl_log_fd(const rl_log_t *l)
{
    return l->kind == KIND_SYSLOG ? -1 : l->fd;
}

pid_t rl_log_pipe_pid(const rl_log_t *l)
{
    return l->kind == KIND_PIPE ? l->pid : -1;
}

int rl_log_respawn(rl_log_t *l)
{
    if (l->kind != KIND_PIPE)
        return RL_OK;
    l->pid = -1;
    return start_logger(l);
}

/* ---- levels ---- */

int rl_log_parse_level(const char *name)
{
    for (size_t i = 0; i < RL_NELEMS(level_names); i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *rl_log_level_name(rl_log_level_t level)
{
    return (size_t)level < RL_NELEMS(level_names) ? level_names[level] : "unknown";
}

/* "mod_rewrite.c", "rewrite_module", "rewrite" -> "rewrite". */
static rl_str_t module_short_name(rl_str_t s)
{
    if (rl_str_starts(s, RL_STR("mod_")))
        s.p += 4, s.len -= 4;
    if (s.len > 2 && memcmp(s.p + s.len - 2, ".c", 2) == 0)
        s.len -= 2;
    if (s.len > 7 && memcmp(s.p + s.len - 7, "_module", 7) == 0)
        s.len -= 7;
    return s;
}

static module_level_t *find_module(const rl_log_t *l, rl_str_t name)
{
    for (size_t i = 0; i < l->nmodules; i++)
        if (rl_str_caseeq_c(name, l->modules[i].name))
            return &l->modules[i];
    return NULL;
}

static void set_module_level(rl_log_t *l, rl_str_t name, int level)
{
    module_level_t *m = find_module(l, name);
    if (m == NULL) {
        l->modules = rl_xrealloc(l->modules, (l->nmodules + 1) * sizeof(*l->modules));
        m = &l->modules[l->nmodules++];
        snprintf(m->name, sizeof(m->name), "%.*s", RL_STR_FMT(name));
    }
    m->level = level;
}

/* Checks one LogLevel argument; fills <name> (empty for the default) and
 * <level>. */
static int parse_level_arg(const char *arg, rl_str_t *name, int *level, char *err, size_t errlen)
{
    const char *colon = strrchr(arg, ':');
    *name = RL_STR_NULL;
    *level = rl_log_parse_level(colon ? colon + 1 : arg);
    if (*level < 0) {
        rl_errf(err, errlen, "LogLevel requires level keyword: one of "
             "emerg/alert/crit/error/warn/notice/info/debug/trace1/.../trace8");
        return RL_ERROR;
    }
    if (colon) {
        *name = module_short_name(rl_str(arg, (size_t)(colon - arg)));
        if (name->len == 0 || name->len >= MODULE_NAME_MAX) {
            rl_errf(err, errlen, "Invalid module name in LogLevel argument '%s'", arg);
            return RL_ERROR;
        }
    }
    return RL_OK;
}

int rl_log_set_levels(rl_log_t *l, int argc, char **argv, char *err, size_t errlen)
{
    rl_str_t name;
    int level;

    if (argc < 1) {
        rl_errf(err, errlen, "LogLevel requires at least one argument");
        return RL_ERROR;
    }
    for (int i = 0; i < argc; i++)   /* all or nothing */
        if (parse_level_arg(argv[i], &name, &level, err, errlen) != RL_OK)
            return RL_ERROR;
    for (int i = 0; i < argc; i++) {
        parse_level_arg(argv[i], &name, &level, NULL, 0);
        if (name.len == 0)
            l->level = level;
        else
            set_module_level(l, name, level);
    }
    return RL_OK;
}

void rl_log_set_level(rl_log_t *l, rl_log_level_t level)
{
    l->level = (int)level;
}

bool rl_log_enabled(const rl_log_t *l, const char *module, rl_log_level_t level)
{
    /* Apache writes notices whatever the LogLevel ("unless it is a
     * startup/shutdown notice"): relais' are only those */
    if (level == RL_LOG_NOTICE)
        return true;
    if (l == NULL)
        l = &stderr_log;
    int max = l->level;
    if (l->nmodules > 0) {
        const module_level_t *m = find_module(l, module_short_name(rl_str_c(module ? module : "core")));
        if (m)
            max = m->level;
    }
    return (int)level <= max;
}

/* ---- writing ---- */

/* A line being built: at most RL_LOG_LINE_MAX - 1 bytes before the '\n'. */
typedef struct {
    char buf[RL_LOG_LINE_MAX + 1];
    size_t len;
} line_t;

#define LINE_ROOM(b) (RL_LOG_LINE_MAX - 1 - (b)->len)

static void line_printf(line_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line_printf(line_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->buf + b->len, LINE_ROOM(b) + 1, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += RL_MIN((size_t)n, LINE_ROOM(b));
}

/* Apache's ap_escape_errorlog_item(): printable ASCII as is, a backslash
 * doubled, the rest as \b \n \r \t \v or \xhh. Stops where the next
 * sequence would not fit. */
static void line_escape(line_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[4] = { '\\', 0, 0, 0 };
        size_t n = 2;
        switch (c) {
        case '\b': e[1] = 'b'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\v': e[1] = 'v'; break;
        case '\\': e[1] = '\\'; break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                e[0] = (char)c;
                n = 1;
            } else {
                e[1] = 'x', e[2] = hex[c >> 4], e[3] = hex[c & 15];
                n = 4;
            }
        }
        if (n > LINE_ROOM(b))
            break;
        memcpy(b->buf + b->len, e, n);
        b->len += n;
    }
}

static void line_time(line_t *b)
{
    static const char wdays[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    line_printf(b, "[%s %s %02d %02d:%02d:%02d.%06ld %d] ", wdays[tm.tm_wday],
                months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                (long)tv.tv_usec, tm.tm_year + 1900);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return RL_ERROR;
        }
        p += n;
        len -= (size_t)n;
    }
    return RL_OK;
}

static int syslog_priority(rl_log_level_t level)
{
    static const int prio[] = { LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR,
                                LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
    return level < RL_NELEMS(prio) ? prio[level] : LOG_DEBUG;
}

void rl_log_verror(rl_log_t *l, rl_log_level_t level, const char *module,
                   const char *client, int err, const char *fmt, va_list ap)
{
    if (l == NULL)
        l = &stderr_log;
    if (!rl_log_enabled(l, module, level))
        return;

    int saved_errno = errno;
    char msg[RL_LOG_LINE_MAX];
    line_t line;
    line.len = 0;
    if (l->kind != KIND_SYSLOG)   /* syslog adds its own time and pid */
        line_time(&line);
    line_printf(&line, "[%s:%s] ", module ? module : "core", rl_log_level_name(level));
    if (l->kind != KIND_SYSLOG)
        line_printf(&line, "[pid %ld] ", (long)getpid());
    if (err)
        line_printf(&line, "(%d)%s: ", err, strerror(err));
    if (client)
        line_printf(&line, "[client %s] ", client);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    line_escape(&line, msg);

    if (l->kind == KIND_SYSLOG) {
        line.buf[line.len] = '\0';
        syslog(l->facility | syslog_priority(level), "%s", line.buf);
    } else {
        line.buf[line.len++] = '\n';
        write_all(l->fd, line.buf, line.len);
    }
    errno = saved_errno;
}

void rl_log_error(rl_log_t *l, rl_log_level_t level, const char *module,
                  const char *client, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rl_log_verror(l, level, module, client, 0, fmt, ap);
    va_end(ap);
}

void rl_log_errno(rl_log_t *l, rl_log_level_t level, const char *module,
                  const char *client, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rl_log_verror(l, level, module, client, err, fmt, ap);
    va_end(ap);
}

int rl_log_write_raw(rl_log_t *l, const char *buf, size_t len)
{
    if (l->kind == KIND_SYSLOG) {
        while (len > 0 && buf[len - 1] == '\n')
            len--;
        syslog(l->facility | LOG_INFO, "%.*s", (int)RL_MIN(len, (size_t)INT32_MAX), buf);
        return RL_OK;
    }
    return write_all(l->fd, buf, len);
}
