/* php-fpm's access.log lines (see accesslog.h).
 *
 * The line is built the way php-fpm builds it, in a buffer of
 * RL_FPM_ACCESS_BUFFER bytes where each %-token is snprintf()'d into what
 * is left: that is what decides where and how a long line is cut (a token
 * that overflows leaves snprintf()'s NUL as the last byte), so the same
 * arithmetic is kept here rather than an ever-growing buffer. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "fpm/accesslog.h"

#define TIME_FMT "%d/%b/%Y:%H:%M:%S %z"

typedef struct {
    char buf[RL_FPM_ACCESS_BUFFER + 1];
    size_t len;
} line_t;

/* A token's text: <p> (NUL-terminated), often pointing into <tmp>. */
typedef struct {
    const char *p;
    char tmp[160];
} value_t;

static bool is(const char *mod, const char *a, const char *b)
{
    return strcasecmp(mod, a) == 0 || (b && strcasecmp(mod, b) == 0);
}

static const char *fmt(value_t *v, const char *f, ...) __attribute__((format(printf, 2, 3)));
static const char *fmt(value_t *v, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(v->tmp, sizeof(v->tmp), f, ap);
    va_end(ap);
    return v->p = v->tmp;
}

static const char *or_dash(const char *s)
{
    return s && s[0] ? s : "-";
}

static int cpu(const rl_fpm_access_t *a, const char *mod, value_t *v)
{
    double pct;
    if (!*mod || is(mod, "total", NULL))
        pct = a->slot->cpu;
    else if (is(mod, "user", NULL))
        pct = a->cpu_user;
    else if (is(mod, "system", NULL))
        pct = a->cpu_system;
    else
        return RL_ERROR;
    fmt(v, "%.2f", pct);
    return RL_OK;
}

static int duration(const rl_fpm_access_t *a, const char *mod, value_t *v)
{
    uint64_t sec = a->slot->duration_us / 1000000u, usec = a->slot->duration_us % 1000000u;
    if (!*mod || is(mod, "seconds", NULL))
        fmt(v, "%.3f", (double)sec + (double)usec / 1000000.);
    else if (is(mod, "milliseconds", "milli") || is(mod, "miliseconds", "mili"))
        fmt(v, "%.3f", (double)sec * 1000. + (double)usec / 1000.);
    else if (is(mod, "microseconds", "micro"))
        fmt(v, "%" PRIu64, a->slot->duration_us);
    else
        return RL_ERROR;
    return RL_OK;
}

static int memory(const rl_fpm_access_t *a, const char *mod, value_t *v)
{
    uint64_t m = a->slot->memory;
    if (!*mod || is(mod, "bytes", NULL))
        fmt(v, "%" PRIu64, m);
    else if (is(mod, "kilobytes", "kilo"))
        fmt(v, "%" PRIu64, m / 1024);
    else if (is(mod, "megabytes", "mega"))
        fmt(v, "%" PRIu64, m / 1024 / 1024);
    else
        return RL_ERROR;
    return RL_OK;
}

/* %t (accepted) and %T (now), with an optional strftime format. */
static void when(const rl_fpm_access_t *a, char c, const char *mod, value_t *v)
{
    uint64_t us = c == 't' ? a->slot->accepted_us : a->now_us ? a->now_us : rl_fpm_now_us();
    time_t t = (time_t)(us / 1000000u);
    struct tm tm;
    v->p = v->tmp;
    /* php-fpm's buffer: 128 bytes with the NUL; "" when it is too short */
    if (!localtime_r(&t, &tm) || strftime(v->tmp, 128, *mod ? mod : TIME_FMT, &tm) == 0)
        v->tmp[0] = '\0';
}

static const char *lookup(rl_fpm_access_lookup_cb cb, void *ctx, const char *name)
{
    return cb ? cb(ctx, name) : NULL;
}

/* %{NAME}e: "-" when absent, an empty value stays empty. */
static int param(const rl_fpm_access_t *a, const char *mod, value_t *v)
{
    v->p = *mod ? lookup(a->param, a->param_ctx, mod) : NULL;
    if (v->p == NULL)
        v->p = "-";
    return *mod ? RL_OK : RL_ERROR;
}

/* %{Name}o: "-" when absent or empty. */
static int header(const rl_fpm_access_t *a, const char *mod, value_t *v)
{
    v->p = or_dash(*mod ? lookup(a->header, a->header_ctx, mod) : NULL);
    return *mod ? RL_OK : RL_ERROR;
}

/* The text of token <c> with modifier <mod>; RL_ERROR where php-fpm
 * refuses the format. */
static int token(const rl_fpm_access_t *a, char c, const char *mod, value_t *v)
{
    const rl_fpm_slot_t *s = a->slot;
    if (*mod && !strchr("CdeMoTt", c))
        return RL_ERROR;                    /* "embrace is not allowed" */
    switch (c) {
    case '%': v->p = "%"; return RL_OK;
    case 'C': return cpu(a, mod, v);
    case 'd': return duration(a, mod, v);
    case 'e': return param(a, mod, v);
    case 'f': v->p = or_dash(s->script); return RL_OK;
    case 'l': fmt(v, "%" PRIu64, s->content_length); return RL_OK;
    case 'm': v->p = or_dash(s->method); return RL_OK;
    case 'M': return memory(a, mod, v);
    case 'n': v->p = or_dash(a->pool); return RL_OK;
    case 'o': return header(a, mod, v);
    case 'p': fmt(v, "%ld", (long)s->pid); return RL_OK;
    case 'P': fmt(v, "%ld", (long)a->ppid); return RL_OK;
    case 'q': v->p = s->query; return RL_OK;
    case 'Q': v->p = s->query[0] ? "?" : ""; return RL_OK;
    case 'r': v->p = s->request_uri; return RL_OK;
    case 'R': v->p = or_dash(a->peer); return RL_OK;
    case 's': fmt(v, "%d", s->status); return RL_OK;
    case 't': case 'T': when(a, c, mod, v); return RL_OK;
    case 'u': v->p = s->auth_user; return RL_OK;
    default: return RL_ERROR;               /* "Invalid token" */
    }
}

/* snprintf(b, BUFFER - len, "%s", text) and len += its return, as php-fpm. */
static void put_token(line_t *l, const char *text)
{
    size_t n = strlen(text), room = RL_FPM_ACCESS_BUFFER - l->len - 1;
    memcpy(l->buf + l->len, text, RL_MIN(n, room));
    l->buf[l->len + RL_MIN(n, room)] = '\0';
    l->len += n;
}

/* Reads "{...}" at <s> into <mod>; returns what follows, or NULL when
 * php-fpm finds no closing embrace (or nothing after it). */
static const char *modifier(const char *s, char mod[129])
{
    const char *end = strchr(s + 1, '}');
    if (end == NULL || end[1] == '\0')
        return NULL;
    size_t n = RL_MIN((size_t)(end - s - 1), (size_t)128);
    memcpy(mod, s + 1, n);
    mod[n] = '\0';
    return end + 1;
}

/* Builds the line in <l>. Returns RL_OK, RL_FPM_ACCESS_TRUNCATED or RL_ERROR. */
static int build(const char *format, const rl_fpm_access_t *a, line_t *l)
{
    char mod[129] = "";
    bool tok = false;
    for (const char *s = format; *s; ) {
        if (l->len >= RL_FPM_ACCESS_BUFFER)
            return RL_FPM_ACCESS_TRUNCATED;
        if (!tok) {
            if (*s == '%') {
                tok = true;
                mod[0] = '\0';
            } else {
                l->buf[l->len++] = *s;
            }
            s++;
            continue;
        }
        if (*s == '{') {
            if ((s = modifier(s, mod)) == NULL)
                return RL_ERROR;
            continue;
        }
        tok = false;
        value_t v;
        if (token(a, *s++, mod, &v) != RL_OK)
            return RL_ERROR;
        put_token(l, v.p);
        if (l->len >= RL_FPM_ACCESS_BUFFER) {
            l->len = RL_FPM_ACCESS_BUFFER;
            return RL_FPM_ACCESS_TRUNCATED;
        }
    }
    return RL_OK;
}

int rl_fpm_access_format(const char *format, const rl_fpm_access_t *a, rl_buf_t *out)
{
    rl_fpm_slot_t slot = *a->slot;          /* strings surely ended */
    slot.method[sizeof(slot.method) - 1] = '\0';
    slot.request_uri[sizeof(slot.request_uri) - 1] = '\0';
    slot.query[sizeof(slot.query) - 1] = '\0';
    slot.script[sizeof(slot.script) - 1] = '\0';
    slot.auth_user[sizeof(slot.auth_user) - 1] = '\0';
    rl_fpm_access_t copy = *a;
    copy.slot = &slot;
    line_t l;
    memset(&l, 0, sizeof(l));
    int rc = build(format ? format : RL_FPM_ACCESS_FORMAT_DEFAULT, &copy, &l);
    if (rc != RL_ERROR && l.buf[0] != '\0') {
        l.buf[l.len] = '\n';
        rl_buf_append(out, l.buf, l.len + 1);
    }
    return rc;
}

const char *rl_fpm_access_header_value(const char *line, const char *name)
{
    /* php-fpm's very test: <name> anywhere in the line, then ": " right
     * after as many bytes as <name> has */
    size_t n = strlen(name);
    if (!strstr(line, name) || strlen(line) <= n + 2 || line[n] != ':' || line[n + 1] != ' ')
        return NULL;
    return line + n + 2;
}
