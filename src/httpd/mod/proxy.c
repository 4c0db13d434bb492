/* mod_proxy for FastCGI backends: workers and their parameters,
 * ProxyPass/ProxyPassMatch (the translate hook), <Proxy>/<ProxyMatch>,
 * ProxySet and ProxyTimeout; and mod_proxy_fcgi's per-directory settings,
 * ProxyFCGIBackendType and ProxyFCGISetEnvIf, which the FastCGI handler
 * applies through rl_proxy_fcgi_fixup_env(). proxy.h gives the rules;
 * the syntax, the defaults and the messages are Apache 2.4.71's (checked
 * against Debian's apache2), except that any scheme but fcgi is refused.
 *
 * The per-directory settings live in this module's slot (Apache keeps the
 * ProxyFCGI* ones in mod_proxy_fcgi's): proxy_fcgi.c is the runtime only. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include "http/expr.h"
#include "httpd/config.h"
#include "httpd/vars.h"
#include "httpd/mod/proxy.h"

#define DEFAULT_PORT 8000           /* ap_proxy_port_of_scheme("fcgi") */
#define NO_MATCH 1                  /* a ProxyPass that does not apply: try the next */
#define REGEX_OPTS (PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY)  /* Apache's RegexDefaultOptions */
#define PATH_SAFE "~$-_.+!*'(),;:@&="  /* what ap_proxy_canonenc leaves in a path */

enum { W_PREFIX = 1, W_MATCH = 2 };  /* which workers a lookup considers */
enum { BACKEND_FPM = 1, BACKEND_GENERIC = 2 };

extern rl_module_t rl_proxy_module;

/* ProxyPass / ProxyPassMatch at server level, or ProxyPass in a <Location>. */
typedef struct pass_s {
    const char *fake;           /* URL-path prefix, or the regex's source */
    pcre2_code *re;             /* ProxyPassMatch, "~", a wildcard <Location> */
    const char *uds;            /* "unix:/path|" as written, or "" */
    const char *real;           /* the URL without it; "!" excludes */
    bool nocanon;
    const rl_section_t *loc;    /* the <Location>, NULL at server level */
    struct pass_s *next;
} pass_t;

/* <Proxy> / <ProxyMatch>: a section of per-directory settings. */
typedef struct psec_s {
    rl_section_t *sec;
    const char *path;           /* without a "proxy:" in front */
    pcre2_code *re;             /* <ProxyMatch> */
    bool wildcard;              /* fnmatch(3) pattern */
    struct psec_s *next;
} psec_t;

typedef struct {
    int64_t timeout_ms;           /* ProxyTimeout, RL_UNSET: Timeout */
    rl_proxy_worker_t *workers;   /* this server's, in order of definition */
    pass_t *passes;               /* server-level ProxyPass(Match), in order */
    pass_t *loc_passes;           /* ProxyPass in <Location>, in order */
    psec_t *sections;             /* <Proxy>, <ProxyMatch>, in order */
} proxy_srv_t;

/* ProxyFCGISetEnvIf */
typedef struct fcgi_env_s {
    const char *name;
    rl_expr_t *cond;
    rl_expr_t *value;             /* NULL: "!name" unsets */
    struct fcgi_env_s *next;
} fcgi_env_t;

typedef struct {
    int backend;                  /* RL_UNSET (FPM behaviour), BACKEND_* */
    fcgi_env_t *env;
} proxy_dir_t;

/* A backend URL cut as Apache's workers see it. */
typedef struct {
    const char *uds;              /* "unix:/path|" as written, "" when none */
    const char *sock;             /* that path, NULL when none */
    const char *scheme;           /* lowercased */
    const char *host;             /* lowercased, without brackets */
    const char *port_text;        /* after the ':', "" when none ("$1" kept) */
    int port;                     /* 0: none given */
    const char *path;             /* from the first '/', '?' or '#' on */
} url_t;

static void *create_srv(rl_arena_t *a)
{
    proxy_srv_t *s = rl_arena_calloc(a, sizeof(*s));
    s->timeout_ms = RL_UNSET;
    return s;
}

/* The main server's ProxyPass and <Proxy> come before a virtual host's
 * (Apache appends the override to the base); the workers stay apart and
 * are both searched (see lookup()). */
static void *merge_srv(rl_arena_t *a, void *basev, void *addv)
{
    proxy_srv_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    m->timeout_ms = add->timeout_ms != RL_UNSET ? add->timeout_ms : base->timeout_ms;
    m->workers = add->workers;
    m->passes = RL_LIST_CONCAT(a, base->passes, add->passes, pass_t);
    m->loc_passes = RL_LIST_CONCAT(a, base->loc_passes, add->loc_passes, pass_t);
    m->sections = RL_LIST_CONCAT(a, base->sections, add->sections, psec_t);
    return m;
}

static void *create_dir(rl_arena_t *a)
{
    proxy_dir_t *d = rl_arena_calloc(a, sizeof(*d));
    d->backend = RL_UNSET;
    return d;
}

static void *merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    proxy_dir_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    m->backend = add->backend != RL_UNSET ? add->backend : base->backend;
    m->env = base->env && add->env ? RL_LIST_CONCAT(a, base->env, add->env, fcgi_env_t)
                                   : add->env ? add->env : base->env;
    return m;
}

/* ---- URLs ---- */

/* Apache's ap_proxy_de_socketfy: <url> without its "unix:/path|" part
 * ("unix:/x|fcgi:" gives "fcgi://localhost"). NULL: nothing that looks
 * like a scheme after the bar. */
static const char *de_socketfy(rl_arena_t *a, const char *url)
{
    const char *bar = strncasecmp(url, "unix:", 5) == 0 ? strchr(url + 5, '|') : NULL;
    if (bar == NULL)
        return url;
    const char *colon = strchr(bar + 1, ':');
    if (colon == NULL)
        return NULL;
    return colon[1] ? bar + 1 : rl_arena_printf(a, "%s//localhost", bar + 1);
}

static char *lower(char *s)
{
    for (char *c = s; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return s;
}

static const char *not_absolute(rl_arena_t *a, const char *url)
{
    return rl_arena_printf(a, "URL must be absolute!: %s", url);
}

/* Splits "host[:port]" / "[v6][:port]" of <n> bytes at <h>. With <match>
 * (ProxyPassMatch) the port may hold $1..$9. Returns Apache's message
 * (apr_uri_parse's failure) or NULL. */
static const char *split_host(rl_arena_t *a, const char *url, const char *h, size_t n,
                              url_t *u, bool match)
{
    const char *end = h + n, *colon;
    if (h[0] == '[') {
        const char *close = memchr(h, ']', n);
        if (close == NULL || (close + 1 < end && close[1] != ':'))
            return rl_arena_printf(a, "Unable to parse URL: %s", url);
        u->host = rl_arena_strndup(a, h + 1, (size_t)(close - h - 1));
        colon = close + 1 < end ? close + 1 : NULL;
    } else {
        colon = memrchr(h, ':', n);
        u->host = rl_arena_strndup(a, h, colon ? (size_t)(colon - h) : n);
    }
    lower((char *)u->host);
    u->port_text = colon ? rl_arena_strndup(a, colon + 1, (size_t)(end - colon - 1)) : "";
    for (const char *c = u->port_text; *c; c++) {
        if (match && c[0] == '$' && isdigit((unsigned char)c[1]))
            return NULL;   /* a port from the regex: known per request */
        if (!isdigit((unsigned char)*c))
            return rl_arena_printf(a, "Unable to parse URL: %s", url);
    }
    u->port = atoi(u->port_text);
    return NULL;
}

/* Parses the backend URL <url> as Apache's worker definition does.
 * Returns its message for a malformed URL, or NULL. */
static const char *parse_url(rl_arena_t *a, const char *url, url_t *u, bool match)
{
    memset(u, 0, sizeof(*u));
    u->uds = "";
    const char *s = de_socketfy(a, url);
    if (s == NULL)
        return "invalid \"unix:\" URL";
    if (s != url && strncasecmp(url, "unix:", 5) == 0) {
        const char *bar = strchr(url + 5, '|');
        u->uds = rl_arena_strndup(a, url, (size_t)(bar + 1 - url));
        u->sock = rl_arena_strndup(a, url + 5, (size_t)(bar - url - 5));
    }
    size_t n = 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '+' || s[n] == '-' || s[n] == '.')
        n++;
    if (n == 0 || !isalpha((unsigned char)s[0]) || s[n] != ':')
        return not_absolute(a, url);
    u->scheme = lower(rl_arena_strndup(a, s, n));
    s += n + 1;
    if (strncmp(s, "//", 2) != 0) {
        if (u->sock == NULL)
            return not_absolute(a, url);
        u->host = "localhost";
        u->port_text = "";
        u->path = s;
        return NULL;
    }
    s += 2;
    size_t hl = strcspn(s, "/?#");
    u->path = s + hl;
    const char *at = memrchr(s, '@', hl);
    if (at) {
        hl -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    const char *err = split_host(a, url, s, hl, u, match);
    if (err == NULL && u->host[0] == '\0')
        u->host = u->sock ? "localhost" : NULL;
    return err ? err : u->host ? NULL : not_absolute(a, url);
}

/* What relais says of a URL it cannot proxy to. */
static const char *not_fcgi(rl_arena_t *a, const char *url, const char *scheme)
{
    return rl_arena_printf(a, "to '%s': relais only proxies to FastCGI backends "
                           "(fcgi://host:port/... or \"unix:/path.sock|fcgi://localhost/...\"), "
                           "not to the scheme '%s'", url, scheme);
}

/* parse_url() and the scheme check: NULL or the message. */
static const char *check_url(rl_arena_t *a, const char *url, url_t *u, bool match)
{
    const char *err = parse_url(a, url, u, match);
    if (err == NULL && strcmp(u->scheme, "fcgi") != 0)
        err = not_fcgi(a, url, u->scheme);
    return err;
}

static const char *bracketed(rl_arena_t *a, const char *host)
{
    return strchr(host, ':') ? rl_arena_printf(a, "[%s]", host) : host;
}

/* Apache's worker name: "fcgi://host[:port]/path", without the default
 * port; a port from a regex ("$1") stays in the name, where it matches. */
static const char *worker_name(rl_arena_t *a, const url_t *u)
{
    const char *port = "";
    if (strchr(u->port_text, '$'))
        port = rl_arena_printf(a, ":%s", u->port_text);
    else if (u->port && u->port != DEFAULT_PORT)
        port = rl_arena_printf(a, ":%d", u->port);
    return rl_arena_printf(a, "%s://%s%s%s", u->scheme, bracketed(a, u->host), port, u->path);
}

/* What to connect to: "unix:/path" or "host:port". */
static const char *addr_of(rl_arena_t *a, const char *root, const url_t *u)
{
    if (u->sock)
        return rl_arena_printf(a, "unix:%s%s%s", u->sock[0] == '/' || !root ? "" : root,
                               u->sock[0] == '/' || !root ? "" : "/", u->sock);
    return rl_arena_printf(a, "%s:%d", bracketed(a, u->host), u->port ? u->port : DEFAULT_PORT);
}

/* apr_fnmatch_test: does <s> hold a wildcard? */
static bool fnmatch_test(const char *s)
{
    int open = 0;
    for (; *s; s++) {
        if (*s == '?' || *s == '*' || (*s == ']' && open))
            return true;
        if (*s == '[')
            open++;
        else if (*s == '\\' && *++s == '\0')
            return false;
    }
    return false;
}

/* Apache's ap_proxy_strcmp_ematch: 0 when <str> matches <expected>, where
 * a run of $N matches any text and "\x" is x. */
static int ematch(const char *str, const char *expected)
{
    size_t x = 0, y = 0;
    for (; expected[y]; ++y, ++x) {
        if (expected[y] == '$' && isdigit((unsigned char)expected[y + 1])) {
            do
                y += 2;
            while (expected[y] == '$' && isdigit((unsigned char)expected[y + 1]));
            if (!expected[y])
                return 0;
            while (str[x]) {
                int ret = ematch(&str[x++], &expected[y]);
                if (ret != 1)
                    return ret;
            }
            return -1;
        }
        if (!str[x])
            return -1;
        if (expected[y] == '\\' && !expected[++y])
            return -2;
        if (str[x] != expected[y])
            return 1;
    }
    return 0;
}

/* Splits "host[:port]" as apr_parse_addr_port does: false when there is no
 * host, or a port that is not 1..65535. */
static bool addr_port(rl_arena_t *a, const char *s, size_t n, const char **host, int *port)
{
    const char *end = s + n, *p = end;
    while (p > s && isdigit((unsigned char)p[-1]))
        p--;
    *port = 0;
    if (p > s && p < end && p[-1] == ':') {
        long v = strtol(p, NULL, 10);
        if (end - p > 5 || v < 1 || v > 65535)
            return false;
        *port = (int)v;
        end = p - 1;
    }
    if (end > s && s[0] == '[' && end[-1] == ']') {
        s++;
        end--;
    } else if (memchr(s, ':', (size_t)(end - s))) {
        return false;
    }
    if (end == s || p == s)
        return false;
    *host = lower(rl_arena_strndup(a, s, (size_t)(end - s)));
    return true;
}

/* ap_proxy_canonenc for a reverse-proxied path: what is neither
 * alphanumeric nor PATH_SAFE nor '/' becomes %XX. */
static const char *encode_path(rl_arena_t *a, const char *path)
{
    char *out = rl_arena_alloc(a, 3 * strlen(path) + 1), *o = out;
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if (*c == '/' || (*c < 0x80 && isalnum(*c)) || strchr(PATH_SAFE, *c))
            *o++ = (char)*c;
        else
            o += sprintf(o, "%%%02X", *c);
    }
    *o = '\0';
    return out;
}

/* proxy_fcgi_canon: see rl_proxy_fcgi_canon(); <raw> (nocanon) keeps the
 * path as it is. */
static const char *canon(rl_arena_t *a, const char *url, bool raw)
{
    const char *s = de_socketfy(a, url);
    if (s == NULL || strncasecmp(s, "fcgi://", 7) != 0)
        return NULL;
    s += 7;
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    const char *at = memrchr(s, '@', n), *host;
    if (at) {
        n -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    int port;
    if (!addr_port(a, s, n, &host, &port))
        return NULL;
    const char *path = slash ? slash + 1 : "";
    return rl_arena_printf(a, "proxy:fcgi://%s%s%s/%s", bracketed(a, host),
                           port && port != DEFAULT_PORT ? ":" : "",
                           port && port != DEFAULT_PORT ? rl_arena_printf(a, "%d", port) : "",
                           raw ? path : encode_path(a, path));
}

const char *rl_proxy_fcgi_canon(rl_arena_t *a, const char *url)
{
    return url ? canon(a, url, false) : NULL;
}

/* ---- worker parameters ---- */

typedef enum {
    P_ANY,          /* accepted as it is */
    P_INT,          /* atoi() within [lo, hi], else msg */
    P_BUFSIZE,      /* 0 or >= 512 */
    P_FACTOR,       /* loadfactor: 1..100, decimals allowed */
    P_TIME,         /* ap_timeout_parameter_parse, unit <unit>, >= 1 ms */
    P_ONOFF,
    P_FLUSH,        /* on|off|auto */
    P_STATUS,       /* [+-]letters of Apache's worker states */
    P_LENGTH,       /* shorter than hi characters */
} param_kind_t;

typedef enum { S_NONE, S_TIMEOUT, S_CTIMEOUT, S_TTL, S_MAX, S_REUSE, S_NOREUSE,
               S_FLUSH, S_FLUSHWAIT } param_store_t;

static const struct {
    const char *key;
    param_kind_t kind;
    long lo, hi;
    const char *msg;            /* Apache's message */
    const char *unit;           /* P_TIME: the default unit */
    const char *bad;            /* P_TIME: Apache's message for a malformed value */
    param_store_t store;
} params[] = {
#define NUM(key, lo, hi, msg, store) { key, P_INT, lo, hi, msg, NULL, NULL, store }
#define TIME(key, unit, msg, bad, store) { key, P_TIME, 0, 0, msg, unit, bad, store }
#define KIND(key, kind, hi, msg, store) { key, kind, 0, hi, msg, NULL, NULL, store }
#define ANY(key) { key, P_ANY, 0, 0, NULL, NULL, NULL, S_NONE }
    KIND("loadfactor", P_FACTOR, 0, "LoadFactor must be a number between 1..100", S_NONE),
    NUM("retry", 0, INT32_MAX, "Retry must be a positive value", S_NONE),
    NUM("ttl", 1, INT32_MAX, "TTL must be at least one second", S_TTL),
    NUM("min", 0, INT32_MAX, "Min must be a positive number", S_NONE),
    NUM("max", 0, INT32_MAX, "Max must be a positive number", S_MAX),
    NUM("smax", 0, INT32_MAX, "Smax must be a positive number", S_NONE),
    TIME("acquire", "ms", "Acquire must be at least one millisecond",
         "Acquire timeout has wrong format", S_NONE),
    NUM("timeout", 1, INT32_MAX, "Timeout must be at least one second", S_TIMEOUT),
    KIND("iobuffersize", P_BUFSIZE, 0,
         "IOBufferSize must be >= 512 bytes, or 0 for system default.", S_NONE),
    KIND("receivebuffersize", P_BUFSIZE, 0,
         "ReceiveBufferSize must be >= 512 bytes, or 0 for system default.", S_NONE),
    KIND("keepalive", P_ONOFF, 0, "KeepAlive must be On|Off", S_NONE),
    KIND("disablereuse", P_ONOFF, 0, "DisableReuse must be On|Off", S_NOREUSE),
    KIND("enablereuse", P_ONOFF, 0, "EnableReuse must be On|Off", S_REUSE),
    KIND("route", P_LENGTH, 64, "Route length must be < %d characters", S_NONE),
    KIND("redirect", P_LENGTH, 64, "Redirect length must be < %d characters", S_NONE),
    KIND("status", P_STATUS, 0, "Unknown status parameter option", S_NONE),
    KIND("flushpackets", P_FLUSH, 0, "flushpackets must be on|off|auto", S_FLUSH),
    NUM("flushwait", 0, 1000,
        "flushwait must be <= 1000, or 0 for system default of 10 millseconds.", S_FLUSHWAIT),
    TIME("ping", "s", "Ping/Pong timeout must be at least one millisecond",
         "Ping/Pong timeout has wrong format", S_NONE),
    NUM("lbset", 0, 99, "lbset must be between 0 and 99", S_NONE),
    TIME("connectiontimeout", "s", "Connectiontimeout must be at least one millisecond.",
         "Connectiontimeout has wrong format", S_CTIMEOUT),
    KIND("flusher", P_LENGTH, 16, "flusher name length must be < %d characters", S_NONE),
    KIND("upgrade", P_LENGTH, 16, "upgrade protocol length must be < %d characters", S_NONE),
    NUM("responsefieldsize", 0, INT32_MAX,
        "ResponseFieldSize must be greater than 0 bytes, or 0 for system default.", S_NONE),
    KIND("secret", P_LENGTH, 64, "Secret length must be < %d characters", S_NONE),
    /* mod_proxy_hcheck's, accepted without it (relais has no health checks) */
    ANY("hcmethod"), ANY("hcinterval"), ANY("hcpasses"), ANY("hcfails"), ANY("hcuri"),
    ANY("hcexpr"), ANY("hctemplate"),
#undef NUM
#undef TIME
#undef KIND
#undef ANY
};

/* ap_timeout_parameter_parse: a number and a unit (s, ms, mi, h; <unit>
 * when none), in milliseconds. */
static bool parse_time(const char *v, const char *unit, int64_t *ms)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    const char *u = *end ? end : unit;
    if (u[0] == 's')
        *ms = n * 1000;
    else if (u[0] == 'h')
        *ms = n * 3600000;
    else if (u[0] == 'm' && u[1] == 's')
        *ms = n;
    else if (u[0] == 'm' && u[1] == 'i')
        *ms = n * 60000;
    else
        return false;
    return true;
}

/* status=: each letter of Apache's worker states, "+" or "-" before any. */
static bool status_ok(const char *v)
{
    for (const char *c = v; *c; c++) {
        if (*c == '+' || *c == '-')
            c++;
        if (*c == '\0' || !strchr("OINGUDSEHRFC", toupper((unsigned char)*c)))
            return false;
    }
    return true;
}

static long atoi_long(const char *v)
{
    long long n = strtoll(v, NULL, 10);
    return n > INT32_MAX ? INT32_MAX : n < INT32_MIN ? INT32_MIN : (long)n;
}

/* Checks <val> for the parameter <i>; stores its number in <num>.
 * Returns Apache's message or NULL. */
static const char *param_value(rl_arena_t *a, size_t i, const char *val, int64_t *num)
{
    switch (params[i].kind) {
    case P_ANY:
        return NULL;
    case P_INT:
        *num = atoi_long(val);
        return *num < params[i].lo || *num > params[i].hi ? params[i].msg : NULL;
    case P_BUFSIZE:
        *num = atoi_long(val);
        return *num < 512 && *num ? params[i].msg : NULL;
    case P_FACTOR:
        *num = (int64_t)(atof(val) * 100.0);
        return *num < 100 || *num > 10000 ? params[i].msg : NULL;
    case P_TIME:
        if (!parse_time(val, params[i].unit, num))
            return params[i].bad;
        return *num < 1 ? params[i].msg : NULL;
    case P_ONOFF:
        *num = rl_parse_flag(val);
        return *num < 0 ? params[i].msg : NULL;
    case P_FLUSH:
        *num = strcasecmp(val, "auto") == 0 ? 2 : rl_parse_flag(val);
        return *num < 0 ? params[i].msg : NULL;
    case P_STATUS:
        return status_ok(val) ? NULL : params[i].msg;
    case P_LENGTH:
        return (long)strlen(val) >= params[i].hi
            ? rl_arena_printf(a, params[i].msg, (int)params[i].hi) : NULL;
    }
    return NULL;
}

/* Apache's set_worker_param for <key>=<val>: NULL or its message. */
static const char *set_param(rl_arena_t *a, rl_proxy_worker_t *w, const char *key, const char *val)
{
    size_t i = 0;
    while (i < RL_NELEMS(params) && strcasecmp(key, params[i].key) != 0)
        i++;
    if (i == RL_NELEMS(params))
        return "unknown Worker parameter";
    int64_t v = 0;
    const char *err = param_value(a, i, val, &v);
    if (err)
        return err;
    switch (params[i].store) {
    case S_NONE: break;
    case S_TIMEOUT: w->timeout_ms = v * 1000; break;
    case S_CTIMEOUT: w->connect_timeout_ms = v; break;
    case S_TTL: w->ttl_ms = v * 1000; break;
    case S_MAX: w->max = (int)v; break;
    case S_REUSE: w->reuse = (int)v; break;
    case S_NOREUSE: w->reuse = !v; break;
    case S_FLUSH: w->flush = (int)v; break;
    case S_FLUSHWAIT: w->flushwait_ms = v ? v : 10; break;
    }
    return NULL;
}

/* "key=value" in <kv>: sets it on <w>; NULL, or Apache's message. */
static const char *set_kv(rl_arena_t *a, rl_proxy_worker_t *w, const char *kv)
{
    const char *eq = strchr(kv, '=');
    return set_param(a, w, rl_arena_strndup(a, kv, (size_t)(eq - kv)), eq + 1);
}

/* ---- workers ---- */

static void worker_init(rl_proxy_worker_t *w)
{
    w->timeout_ms = w->connect_timeout_ms = w->ttl_ms = w->flushwait_ms = RL_UNSET;
    w->reuse = w->flush = RL_UNSET;
}

/* The length of "scheme://host[:port]" at the start of the name <key>. */
static size_t min_match(const char *key)
{
    const char *s = strstr(key, "://");
    return s ? (size_t)(s + 3 - key) + strcspn(s + 3, "/") : strlen(key);
}

/* Apache's ap_proxy_get_worker_ex over <list>: the longest name that is a
 * prefix of <key> (matches it, for a $N name), at least its
 * "scheme://host" long and longer than *<best_len>. */
static rl_proxy_worker_t *lookup(rl_proxy_worker_t *list, const char *key, unsigned mask,
                                 rl_proxy_worker_t *best, size_t *best_len)
{
    size_t klen = strlen(key), min = min_match(key);
    for (rl_proxy_worker_t *w = list; w; w = w->next) {
        size_t n = strlen(w->name);
        if (n > klen || n < min || n <= *best_len)
            continue;
        if (w->match ? (mask & W_MATCH) && ematch(key, w->name) == 0
                     : (mask & W_PREFIX) && strncmp(key, w->name, n) == 0) {
            best = w;
            *best_len = n;
        }
    }
    return best;
}

/* The worker of server <s> that <url> (parsed into <u>) would share, as
 * Apache's configuration finds it. */
static rl_proxy_worker_t *config_lookup(rl_arena_t *a, rl_server_t *s, const url_t *u,
                                        unsigned mask)
{
    proxy_srv_t *ps = RL_SRV_CONF(s, rl_proxy_module);
    size_t best = 0;
    return lookup(ps->workers, worker_name(a, u), mask, NULL, &best);
}

static rl_proxy_worker_t *define(rl_config_t *cf, rl_server_t *s, const url_t *u, unsigned mask)
{
    proxy_srv_t *ps = RL_SRV_CONF(s, rl_proxy_module);
    rl_proxy_worker_t *w = rl_arena_calloc(cf->arena, sizeof(*w));
    worker_init(w);
    w->name = worker_name(cf->arena, u);
    w->addr = addr_of(cf->arena, cf->server_root, u);
    w->match = mask == W_MATCH;
    rl_proxy_worker_t **tail = &ps->workers;
    while (*tail)
        tail = &(*tail)->next;
    *tail = w;
    return w;
}

rl_proxy_worker_t *rl_proxy_worker_define(rl_config_t *cf, rl_server_t *s, const char *url,
                                          const char **err)
{
    url_t u;
    if ((*err = check_url(cf->arena, url, &u, false)) != NULL)
        return NULL;
    const char *name = worker_name(cf->arena, &u);
    for (rl_proxy_worker_t *w = ((proxy_srv_t *)RL_SRV_CONF(s, rl_proxy_module))->workers; w;
         w = w->next)
        if (strcmp(w->name, name) == 0)
            return w;
    return define(cf, s, &u, W_PREFIX);
}

const char *rl_proxy_url(const rl_request_t *r)
{
    if (r->handler == NULL)
        return NULL;
    if (strcasecmp(r->handler, "proxy-server") == 0)
        return rl_hdrs_get(&r->notes, "proxy-url");
    if (strncasecmp(r->handler, "proxy:", 6) == 0)
        return r->handler + 6;
    return NULL;
}

/* The name a request's URL is matched with: Apache's r->filename without
 * "proxy:" (for SetHandler "proxy:URL", that of URL + the file). */
static const char *match_key(rl_request_t *r, const char *url, const url_t *u)
{
    const char *c = NULL;
    if (r->filename && strncmp(r->filename, "proxy:", 6) == 0)
        c = r->filename;
    else if (r->filename && r->handler && strncasecmp(r->handler, "proxy:", 6) == 0 &&
             strcmp(r->handler + 6, url) == 0)
        c = canon(r->arena, rl_arena_printf(r->arena, "%s%s", url, r->filename), false);
    else
        c = canon(r->arena, url, false);
    return c ? c + 6 : worker_name(r->arena, u);
}

/* Workers made at run time, for the life of the process: one per
 * (configured worker or none, address). */
typedef struct rt_worker_s {
    rl_proxy_worker_t w;
    const rl_proxy_worker_t *base;
    struct rt_worker_s *next;
} rt_worker_t;

static rt_worker_t *rt_workers;

static rl_proxy_worker_t *rt_worker(const rl_proxy_worker_t *base, const char *addr,
                                    const char *key)
{
    for (rt_worker_t *x = rt_workers; x; x = x->next)
        if (x->base == base && strcmp(x->w.addr, addr) == 0)
            return &x->w;
    rt_worker_t *x = rl_xcalloc(1, sizeof(*x));
    if (base) {
        x->w = *base;
    } else {
        worker_init(&x->w);
        x->w.name = rl_xstrdup(key);
        ((char *)x->w.name)[min_match(key)] = '\0';
    }
    x->w.addr = rl_xstrdup(addr);
    x->w.implicit = true;
    x->w.next = NULL;
    x->base = base;
    x->next = rt_workers;
    rt_workers = x;
    return &x->w;
}

rl_proxy_worker_t *rl_proxy_worker_for(rl_request_t *r, const char *url)
{
    url_t u;
    if (url == NULL || parse_url(r->arena, url, &u, false) || strcmp(u.scheme, "fcgi") != 0)
        return NULL;
    const char *key = match_key(r, url, &u);
    /* Apache searches the main server's workers, then the virtual host's */
    const proxy_srv_t *m = RL_SRV_CONF(r->cf->main, rl_proxy_module);
    const proxy_srv_t *s = RL_SRV_CONF(r->server, rl_proxy_module);
    size_t best_len = 0;
    rl_proxy_worker_t *w = lookup(m->workers, key, W_PREFIX | W_MATCH, NULL, &best_len);
    if (s != m)
        w = lookup(s->workers, key, W_PREFIX | W_MATCH, w, &best_len);
    const char *addr = addr_of(r->arena, r->cf->server_root, &u);
    if (w && (strncmp(w->addr, "unix:", 5) == 0 || strcmp(w->addr, addr) == 0))
        return w;
    return rt_worker(w, addr, key);
}

uint64_t rl_proxy_timeout(const rl_request_t *r, const rl_proxy_worker_t *w)
{
    if (w && w->timeout_ms != RL_UNSET)
        return (uint64_t)w->timeout_ms;
    const proxy_srv_t *s = RL_SRV_CONF(r->server, rl_proxy_module);
    return (uint64_t)(s && s->timeout_ms != RL_UNSET ? s->timeout_ms : r->server->timeout_ms);
}

uint64_t rl_proxy_connect_timeout(const rl_request_t *r, const rl_proxy_worker_t *w)
{
    if (w && w->connect_timeout_ms != RL_UNSET)
        return (uint64_t)w->connect_timeout_ms;
    return rl_proxy_timeout(r, w);
}

/* ---- ProxyPass, ProxyPassMatch ---- */

static pcre2_code *compile(rl_cmd_parms_t *p, const char *re)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, REGEX_OPTS,
                                  &ec, &off, NULL);
    if (c)
        rl_arena_on_cleanup(p->arena, (rl_cleanup_cb)pcre2_code_free, c);
    return c;
}

static bool is_section(const rl_conf_node_t *n, const char *a, const char *b)
{
    return n && n->section && (strcasecmp(n->name, a) == 0 || (b && strcasecmp(n->name, b) == 0));
}

static bool in_proxy_section(const rl_cmd_parms_t *p)
{
    return is_section(p->node->parent, "Proxy", "ProxyMatch");
}

/* ap_check_cmd_context(NOT_IN_DIRECTORY|NOT_IN_FILES) */
static const char *pass_context(rl_cmd_parms_t *p)
{
    static const char *const banned[][2] = {
        { "Directory", "DirectoryMatch" }, { "Files", "FilesMatch" },
        { "If", "ElseIf" }, { "Else", NULL },
    };
    for (size_t i = 0; i < RL_NELEMS(banned); i++)
        for (const rl_conf_node_t *n = p->node->parent; n; n = n->parent)
            if (is_section(n, banned[i][0], banned[i][1]))
                return rl_arena_printf(p->arena, "%s cannot occur within <%s> section",
                                       p->cmd->name, n->name);
    return NULL;
}

static void pass_append(pass_t **list, pass_t *x)
{
    while (*list)
        list = &(*list)->next;
    *list = x;
}

/* Applies the key=value words <kv> to the worker of a ProxyPass to <u>:
 * a new one, or the one it shares (whose parameters stay, as in Apache). */
static const char *pass_worker(rl_cmd_parms_t *p, const url_t *u, unsigned mask,
                               char **kv, int nkv)
{
    rl_conf_state_t *st = RL_CMD_STATE(p);
    rl_proxy_worker_t *w = config_lookup(p->arena, st->server, u, mask);
    if (w) {
        for (int i = 0; i < nkv && st->warnings; i++)
            rl_buf_appendf(st->warnings, "AH01146: Ignoring parameter '%s' for worker '%s' "
                           "because of worker sharing (line %d of %s)\n",
                           kv[i], w->name, p->line, p->file);
        return NULL;
    }
    w = define(st->cf, st->server, u, mask);
    for (int i = 0; i < nkv; i++) {
        const char *err = set_kv(p->arena, w, kv[i]);
        if (err)
            return rl_arena_printf(p->arena, "ProxyPass %s", err);
    }
    return NULL;
}

/* Reads the words of ProxyPass into <x>: path (unless in a <Location>),
 * URL, flags and key=value parameters (into <kv>). */
static const char *pass_words(rl_cmd_parms_t *p, pass_t *x, int argc, char **argv,
                              char **kv, int *nkv, const char **url, bool *regex)
{
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (x->fake == NULL && strcmp(w, "~") == 0) {
            if (p->cmd->data)
                return "ProxyPassMatch invalid syntax ('~' usage).";
            *regex = true;
        } else if (x->fake == NULL) {
            x->fake = w;
        } else if (*url == NULL) {
            *url = w;
        } else if (strcasecmp(w, "nocanon") == 0) {
            x->nocanon = true;
        } else if (strcasecmp(w, "interpolate") == 0 || strcasecmp(w, "noquery") == 0) {
            continue;   /* ProxyPassInterpolateEnv is not there; noquery is for HTTP */
        } else if (strchr(w, '=') == NULL) {
            return x->loc && **url == '/'
                ? "ProxyPass|ProxyPassMatch can not have a path when defined in a location."
                : "Invalid ProxyPass|ProxyPassMatch parameter. Parameter must be in the "
                  "form 'key=value'.";
        } else if (strncasecmp(w, "mapping=", 8) == 0) {
            if (strcasecmp(w + 8, "encoded") != 0 && strcasecmp(w + 8, "servlet") != 0)
                return "unknown mapping";   /* accepted, not applied */
        } else {
            kv[(*nkv)++] = argv[i];
        }
    }
    return *url ? NULL : "ProxyPass|ProxyPassMatch needs a path when not defined in a location";
}

/* ProxyPass [path] !|url [key=value ...]; data 1: ProxyPassMatch. */
static const char *set_pass(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf;
    const char *err = pass_context(p), *url = NULL;
    if (err)
        return err;
    rl_conf_state_t *st = RL_CMD_STATE(p);
    pass_t *x = rl_arena_calloc(p->arena, sizeof(*x));
    bool in_section = p->context == RL_CTX_DIR;
    if (in_section) {
        x->loc = st->section;
        x->fake = st->section ? st->section->path : "";
    }
    bool regex = p->cmd->data;
    char **kv = rl_arena_alloc(p->arena, sizeof(char *) * (size_t)(argc + 1));
    int nkv = 0;
    if ((err = pass_words(p, x, argc, argv, kv, &nkv, &url, &regex)))
        return err;
    const char *real = de_socketfy(p->arena, url);
    if (real == NULL)
        return "ProxyPass|ProxyPassMatch uses an invalid \"unix:\" URL";
    size_t uds_len = real == url ? 0 : (size_t)(strchr(url, '|') + 1 - url);
    x->uds = rl_arena_strndup(p->arena, url, uds_len);
    x->real = rl_arena_strdup(p->arena, real);
    x->fake = rl_arena_strdup(p->arena, x->fake);
    regex |= in_section && fnmatch_test(x->fake);
    if (regex && (x->re = compile(p, x->fake)) == NULL)
        return "Regular expression could not be compiled.";
    if (strcmp(x->real, "!") != 0) {
        url_t u;
        if ((err = check_url(p->arena, url, &u, x->re != NULL)))
            return rl_arena_printf(p->arena, "ProxyPass %s", err);
        if ((err = pass_worker(p, &u, x->re ? W_MATCH : W_PREFIX, kv, nkv)))
            return err;
    }
    if (in_proxy_section(p))
        return NULL;   /* Apache accepts it; it never applies */
    proxy_srv_t *ps = rl_cmd_srvconf(p, &rl_proxy_module);
    pass_append(in_section ? &ps->loc_passes : &ps->passes, x);
    return NULL;
}

/* ---- <Proxy>, <ProxyMatch>, ProxySet ---- */

static bool is_balancer(const char *name)
{
    return strncasecmp(name, "balancer://", 11) == 0;
}

/* The worker named <name> by ProxySet or <Proxy name key=value>: found
 * (Apache's lookup) or, with <create>, defined. <prefix> starts messages. */
static rl_proxy_worker_t *section_worker(rl_cmd_parms_t *p, const char *name, unsigned mask,
                                         bool create, const char *prefix, const char **err)
{
    rl_conf_state_t *st = RL_CMD_STATE(p);
    url_t u;
    *err = parse_url(p->arena, name, &u, mask == W_MATCH);
    rl_proxy_worker_t *w = *err ? NULL : config_lookup(p->arena, st->server, &u, mask ? mask
                                                       : W_PREFIX | W_MATCH);
    if (w)
        return w;
    if (!create) {
        *err = rl_arena_printf(p->arena, "ProxySet can not find '%s' Worker.", name);
        return NULL;
    }
    if (*err == NULL && strcmp(u.scheme, "fcgi") != 0)
        *err = not_fcgi(p->arena, name, u.scheme);
    if (*err) {
        *err = rl_arena_printf(p->arena, "%s %s", prefix, *err);
        return NULL;
    }
    return define(st->cf, st->server, &u, mask ? mask : W_PREFIX);
}

/* ProxySet [url] key=value ...: the URL is that of the enclosing <Proxy>. */
static const char *set_proxyset(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf;
    const rl_conf_node_t *parent = p->node->parent;
    bool in_section = in_proxy_section(p);
    const char *name = in_section ? (parent->argc ? parent->argv[0] : "") : argc ? argv[0] : "";
    unsigned mask = !in_section ? 0 : is_section(parent, "ProxyMatch", NULL) ? W_MATCH : W_PREFIX;
    const char *err;
    if (is_balancer(name))
        return rl_arena_printf(p->arena, "ProxySet %s", not_fcgi(p->arena, name, "balancer"));
    if (de_socketfy(p->arena, name) == NULL)
        return "ProxySet uses an invalid \"unix:\" URL";
    rl_proxy_worker_t *w = section_worker(p, name, mask, in_section, "ProxySet", &err);
    if (w == NULL)
        return err;
    for (int i = in_section ? 0 : 1; i < argc; i++) {
        if (strchr(argv[i], '=') == NULL)
            return "Invalid ProxySet parameter. Parameter must be in the form 'key=value'";
        if ((err = set_kv(p->arena, w, argv[i])))
            return rl_arena_printf(p->arena, "ProxySet: %s %s; %s", err, argv[i], name);
    }
    return NULL;
}

/* <Proxy url key=value ...>: the parameters define the section's worker. */
static const char *section_params(rl_cmd_parms_t *p, const psec_t *x, int argc, char **argv)
{
    const char *name = p->cmd->name, *err;
    if (p->cmd->data)
        return "Multiple <ProxyMatch> arguments not (yet) supported.";
    if (x->wildcard)
        return rl_arena_printf(p->arena, "%s> arguments are not supported for wildchar url.", name);
    if (strchr(x->path, ':') == NULL)
        return rl_arena_printf(p->arena, "%s> arguments are not supported for non url.", name);
    if (is_balancer(x->path))
        return rl_arena_printf(p->arena, "%s %s", name, not_fcgi(p->arena, x->path, "balancer"));
    if (de_socketfy(p->arena, x->path) == NULL)
        return "<Proxy/ProxyMatch > uses an invalid \"unix:\" URL";
    rl_proxy_worker_t *w = section_worker(p, x->path, W_PREFIX, true, name, &err);
    if (w == NULL)
        return err;
    for (int i = 1; i < argc; i++) {
        if (strchr(argv[i], '=') == NULL)
            return "Invalid Proxy parameter. Parameter must be in the form 'key=value'";
        if ((err = set_kv(p->arena, w, argv[i])))
            return rl_arena_printf(p->arena, "%s %s %s; %s", name, err, argv[i], x->path);
    }
    return NULL;
}

/* An <If> in a <Proxy> would be tested as if in a <Location>. */
static const char *refuse_if(rl_cmd_parms_t *p)
{
    for (const rl_conf_node_t *n = p->node->first_child; n; n = n->next)
        if (is_section(n, "If", "ElseIf") || is_section(n, "Else", NULL))
            return rl_arena_printf(p->arena, "AH00526: Syntax error on line %d of %s:\n"
                                   "<%s> inside <%s> is not supported by relais yet",
                                   n->line, n->file, n->name, p->node->name);
    return NULL;
}

/* Reads the directives of the section <x> into a per-directory
 * configuration of its own. */
static const char *section_walk(rl_cmd_parms_t *p, psec_t *x)
{
    rl_conf_state_t *st = RL_CMD_STATE(p);
    rl_section_t *sec = rl_arena_calloc(p->arena, sizeof(*sec));
    sec->kind = RL_SEC_LOCATION;   /* merged like one; only rl_proxy_walk() picks it */
    sec->path = x->path;
    sec->path_len = strlen(x->path);
    sec->re = x->re;
    sec->wildcard = x->wildcard;
    sec->id = st->cf->nsections++;
    sec->file = p->node->file;
    sec->line = p->node->line;
    sec->conf = rl_dirconf_create(p->arena);
    x->sec = sec;
    rl_conf_state_t sub = *st;
    sub.context = RL_CTX_DIR;
    sub.dir = sec->conf;
    sub.section = sec;
    sub.last_if = NULL;
    return rl_config_walk(&sub, p->node);
}

/* <Proxy url-or-wildcard [key=value ...]>, data 1: <ProxyMatch regex>. */
static const char *set_section(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf;
    if (p->context != RL_CTX_SERVER && p->context != RL_CTX_VHOST) {
        const rl_conf_node_t *up = p->node->parent;
        if (up && up->section && up->name[0])
            return rl_arena_printf(p->arena, "%s not allowed in <%s> context", p->cmd->name,
                                   up->name);
        return rl_arena_printf(p->arena, "%s not allowed here", p->cmd->name);
    }
    psec_t *x = rl_arena_calloc(p->arena, sizeof(*x));
    const char *path = argc ? argv[0] : "", *err;
    x->path = rl_arena_strdup(p->arena, strncasecmp(path, "proxy:", 6) == 0 ? path + 6 : path);
    if (p->cmd->data && (x->re = compile(p, x->path)) == NULL)
        return "Regex could not be compiled";
    x->wildcard = !p->cmd->data && fnmatch_test(x->path);
    if ((err = refuse_if(p)) || (err = section_walk(p, x)))
        return err;
    proxy_srv_t *ps = rl_cmd_srvconf(p, &rl_proxy_module);
    psec_t **tail = &ps->sections;
    while (*tail)
        tail = &(*tail)->next;
    *tail = x;
    return argc > 1 ? section_params(p, x, argc, argv) : NULL;
}

static const char *set_proxy_timeout(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)p; (void)argc;
    int64_t v;
    if (!rl_parse_int64(argv[0], &v) || v < 1 || v > 86400)
        return "Proxy Timeout must be at least 1 second.";
    ((proxy_srv_t *)conf)->timeout_ms = v * 1000;
    return NULL;
}

/* ---- ProxyFCGIBackendType, ProxyFCGISetEnvIf ---- */

static const char *set_backend_type(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)p; (void)argc;
    proxy_dir_t *d = conf;
    if (strcasecmp(argv[0], "GENERIC") == 0)
        d->backend = BACKEND_GENERIC;
    else if (strcasecmp(argv[0], "FPM") == 0)
        d->backend = BACKEND_FPM;
    else
        return "ProxyFCGIBackendType requires one of the following arguments: 'GENERIC', 'FPM'";
    return NULL;
}

/* ProxyFCGISetEnvIf cond [!]name [value] */
static const char *set_fcgi_env(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    char err[512];
    fcgi_env_t *x = rl_arena_calloc(p->arena, sizeof(*x));
    const char *value = argc == 3 ? argv[2] : "";
    if (!*argv[0] || !*argv[1])   /* Apache reads an empty word as the end */
        return rl_arena_printf(p->arena, "%s takes two or three arguments, %s", p->cmd->name,
                               p->cmd->usage);
    if ((x->cond = rl_expr_compile(p->arena, argv[0], err, sizeof(err))) == NULL)
        return rl_arena_printf(p->arena, "Could not parse expression \"%s\": %s", argv[0], err);
    if (argv[1][0] == '!' && argc == 3)
        return rl_arena_printf(p->arena, "Third argument (\"%s\") is not allowed when using "
                               "ProxyFCGISetEnvIf's unset mode (%s)", argv[2], argv[1]);
    if (argv[1][0] == '!' && argv[1][1] == '\0')
        return "ProxyFCGISetEnvIf: \"!\" is not a valid variable name";
    if (argv[1][0] != '!' &&
        (x->value = rl_expr_compile_string(p->arena, value, err, sizeof(err))) == NULL)
        return rl_arena_printf(p->arena, "Could not parse expression \"%s\": %s", value, err);
    x->name = rl_arena_strdup(p->arena, argv[1][0] == '!' ? argv[1] + 1 : argv[1]);
    fcgi_env_t **tail = &((proxy_dir_t *)conf)->env;
    while (*tail)
        tail = &(*tail)->next;
    *tail = x;
    return NULL;
}

/* ---- translation ---- */

/* Apache's alias_match for ProxyPass: <fake> is a prefix of <uri> where
 * a run of '/' in one matches a run in the other, ending at a segment
 * boundary. Returns the length of <uri> matched, 0 for none. */
static size_t alias_match(const char *uri, const char *fake)
{
    const char *u = uri, *f = fake;
    if (*f == '\0')
        return 0;
    while (*f && *u) {
        if (*f == '/') {
            if (*u != '/')
                return 0;
            while (*f == '/')
                f++;
            while (*u == '/')
                u++;
        } else if (*u++ != *f++) {
            return 0;
        }
    }
    if (*f)
        return 0;
    if (f[-1] != '/' && *u && *u != '/')
        return 0;
    return (size_t)(u - uri);
}

static pcre2_match_data *match_re(const pcre2_code *re, const char *subject)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, 0, md, NULL) >= 0)
        return md;
    pcre2_match_data_free(md);
    return NULL;
}

/* ap_pregsub: $0..$9 of the match <md> over <subject>, "\x" for x. */
static char *regsub(rl_arena_t *a, const char *tpl, const char *subject, pcre2_match_data *md)
{
    rl_buf_t b = RL_BUF_INIT;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    uint32_t n = pcre2_get_ovector_count(md);
    for (const char *s = tpl; *s; s++) {
        if (*s == '$' && isdigit((unsigned char)s[1])) {
            uint32_t g = (uint32_t)(*++s - '0');
            if (g < n && ov[2 * g] != PCRE2_UNSET)
                rl_buf_append(&b, subject + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
            continue;
        }
        if (*s == '\\' && s[1])
            s++;
        rl_buf_append(&b, s, 1);
    }
    char *out = rl_arena_strndup(a, b.data ? b.data : "", b.len);
    rl_buf_release(&b);
    return out;
}

/* Where the ProxyPass(Match) <x> sends <use>, the URI it matched. */
static const char *target(rl_request_t *r, const pass_t *x, const char *use, size_t len)
{
    if (x->re == NULL)
        return rl_arena_printf(r->arena, "%s%s", x->real, use + len);
    pcre2_match_data *md = match_re(x->re, use);
    const char *found = md ? regsub(r->arena, x->real, use, md) : x->real;
    if (md)
        pcre2_match_data_free(md);
    /* no substitution in the URL: the whole URI is appended, as in Apache */
    return strcmp(found, x->real) ? found : rl_arena_printf(r->arena, "%s%s", x->real, use);
}

/* An ASCII control character or a space, which nocanon cannot send. */
static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* The request goes to the backend URL <found>. */
static int proxied(rl_request_t *r, const pass_t *x, const char *found, bool raw)
{
    const char *slash = strstr(found, "://");
    if (raw && slash && has_ctl(slash + 3)) {
        rl_req_log(r, RL_LOG_ERR, "proxy", "AH10414: To be forwarded path contains control "
                   "characters or spaces");
        return 403;
    }
    const char *fn = canon(r->arena, found, raw);
    if (fn == NULL) {
        rl_req_log(r, RL_LOG_ERR, "proxy", "AH01059: error parsing URL %s: Invalid host/port",
                   found);
        return 400;
    }
    r->filename = fn;
    r->handler = "proxy-server";
    rl_hdrs_set(r->arena, &r->notes, "proxy-url",
                rl_arena_printf(r->arena, "%s%s", x->uds, found));
    if (raw)
        rl_hdrs_set(r->arena, &r->notes, "proxy-nocanon", "1");
    return RL_OK;
}

/* Apache's ap_proxy_trans_match: RL_OK (proxied), RL_DECLINED ("!": not
 * proxied, search no more), NO_MATCH, or an HTTP status. */
static int try_pass(rl_request_t *r, const pass_t *x)
{
    size_t len = 0;
    pcre2_match_data *md = NULL;
    if (x->re ? (md = match_re(x->re, r->uri)) == NULL : (len = alias_match(r->uri, x->fake)) == 0)
        return NO_MATCH;
    if (md)
        pcre2_match_data_free(md);
    if (strcmp(x->real, "!") == 0)
        return RL_DECLINED;
    const char *use = r->uri;
    if (x->nocanon) {
        pcre2_match_data *raw = x->re ? match_re(x->re, r->unparsed_uri) : NULL;
        if (x->re ? raw != NULL : alias_match(r->unparsed_uri, x->fake) == len)
            use = r->unparsed_uri;
        else
            rl_req_log(r, RL_LOG_WARN, "proxy", "AH01136: Unescaped URL path matched "
                       "ProxyPass; ignoring unsafe nocanon");
        if (raw)
            pcre2_match_data_free(raw);
    }
    return proxied(r, x, target(r, x, use, len), use != r->uri);
}

/* Does the <Location> <s> apply to <uri>? (request.c's test) */
static bool location_applies(const rl_section_t *s, const char *uri)
{
    if (s->re) {
        pcre2_match_data *md = match_re(s->re, uri);
        if (md)
            pcre2_match_data_free(md);
        return md != NULL;
    }
    if (s->wildcard)
        return fnmatch(s->path, uri, FNM_PATHNAME) == 0;
    size_t n = s->path_len;
    return strncmp(uri, s->path, n) == 0 &&
           (n == 0 || s->path[n - 1] == '/' || uri[n] == '/' || uri[n] == '\0');
}

/* ProxyPass runs first (Apache's hook is FIRST); a <Location>'s ProxyPass
 * (the last <Location> that applies and has one) before the server's. */
static int translate(rl_request_t *r)
{
    rl_hdrs_unset(&r->notes, "proxy-url");
    if (r->asterisk || r->uri == NULL || r->uri[0] != '/' || rl_hdrs_get(&r->env, "no-proxy"))
        return RL_DECLINED;
    const proxy_srv_t *ps = RL_SRV_CONF(r->server, rl_proxy_module);
    const pass_t *loc = NULL;
    for (const pass_t *x = ps->loc_passes; x; x = x->next)
        if (location_applies(x->loc, r->uri))
            loc = x;
    int rc = loc ? try_pass(r, loc) : NO_MATCH;
    for (const pass_t *x = ps->passes; x && rc == NO_MATCH; x = x->next)
        rc = try_pass(r, x);
    return rc == NO_MATCH ? RL_DECLINED : rc;
}

/* ---- <Proxy> sections of a proxied request ---- */

/* Sets <name> in <env> in place (apr_table_setn): a variable set again
 * keeps its position, later copies go. */
static void env_set(rl_request_t *r, const char *name, const char *value)
{
    rl_hdr_t *first = NULL, **pp = &r->env.head, *last = NULL;
    while (*pp) {
        if (strcasecmp((*pp)->name, name) == 0) {
            if (first) {
                *pp = (*pp)->next;
                continue;
            }
            first = *pp;
            first->value = value;
        }
        last = *pp;
        pp = &(*pp)->next;
    }
    r->env.tail = last;
    if (first == NULL)
        rl_hdrs_add(r->arena, &r->env, name, value);
}

/* <ProxyMatch>'s named groups become MATCH_<NAME> (Apache's ap_regname). */
static void match_names(rl_request_t *r, const pcre2_code *re, pcre2_match_data *md,
                        const char *subject)
{
    uint32_t count = 0, size = 0;
    PCRE2_SPTR table;
    pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &size);
    pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    for (uint32_t i = 0; i < count; i++, table += size) {
        uint32_t g = (uint32_t)(table[0] << 8 | table[1]);
        if (g >= pcre2_get_ovector_count(md) || ov[2 * g] == PCRE2_UNSET)
            continue;
        char *name = rl_arena_printf(r->arena, "MATCH_%s", (const char *)table + 2);
        for (char *c = name; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        env_set(r, name, rl_arena_strndup(r->arena, subject + ov[2 * g],
                                          ov[2 * g + 1] - ov[2 * g]));
    }
}

static bool section_applies(rl_request_t *r, const psec_t *x, const char *name)
{
    if (x->re) {
        pcre2_match_data *md = match_re(x->re, name);
        if (md) {
            match_names(r, x->re, md, name);
            pcre2_match_data_free(md);
        }
        return md != NULL;
    }
    if (x->wildcard)
        return fnmatch(x->path, name, 0) == 0;
    return strncmp(name, x->path, strlen(x->path)) == 0;
}

unsigned rl_proxy_walk(rl_request_t *r, rl_section_t **secs, unsigned max)
{
    const char *url = rl_hdrs_get(&r->notes, "proxy-url");
    const char *name = url ? de_socketfy(r->arena, url) : NULL;
    const proxy_srv_t *ps = RL_SRV_CONF(r->server, rl_proxy_module);
    unsigned n = 0;
    for (const psec_t *x = name && ps ? ps->sections : NULL; x && n < max; x = x->next)
        if (section_applies(r, x, name))
            secs[n++] = x->sec;
    return n;
}

/* A ProxyPass'd request goes to the proxy whatever SetHandler or
 * AddHandler say, as Apache's proxy handler takes every proxy request. */
static int fixups(rl_request_t *r)
{
    if (r->filename && strncmp(r->filename, "proxy:", 6) == 0 &&
        rl_hdrs_get(&r->notes, "proxy-url"))
        r->handler = "proxy-server";
    return RL_DECLINED;
}

/* ---- the FastCGI environment ---- */

/* Apache's r->filename of a FastCGI request: the "proxy:fcgi://" form
 * for SetHandler too. */
static const char *apache_filename(rl_request_t *r)
{
    if (r->filename == NULL || strncmp(r->filename, "proxy:", 6) == 0 || r->handler == NULL ||
        strncasecmp(r->handler, "proxy:", 6) != 0)
        return r->filename;
    const char *c = canon(r->arena, rl_arena_printf(r->arena, "%s%s", r->handler + 6,
                                                    r->filename), false);
    return c ? c : r->filename;
}

/* Variables for ProxyFCGISetEnvIf: as ap_expr sees them at this point. */
static const char *fcgi_var(void *ctx, const char *name)
{
    rl_request_t *r = ctx;
    if (strcmp(name, "SCRIPT_FILENAME") == 0 || strcmp(name, "REQUEST_FILENAME") == 0)
        return apache_filename(r);
    if (strncmp(name, "ENV:", 4) == 0 && rl_hdrs_get(&r->notes, name + 4))
        return rl_hdrs_get(&r->notes, name + 4);
    return rl_req_var(ctx, name);
}

/* GENERIC: SCRIPT_FILENAME "proxy:fcgi://host/path?args" becomes "/path". */
static void generic_filename(rl_request_t *r)
{
    const char *v = rl_hdrs_get(&r->env, "SCRIPT_FILENAME");
    if (v == NULL || strncmp(v, "proxy:fcgi://", 13) != 0)
        return;
    char *f = rl_arena_strdup(r->arena, v + 13);
    char *q = strrchr(f, '?');
    if (r->args && *r->args && q && strcmp(q + 1, r->args) == 0)
        *q = '\0';
    const char *slash = strchr(f, '/');
    if (slash)
        env_set(r, "SCRIPT_FILENAME", slash);
    else
        rl_hdrs_unset(&r->env, "SCRIPT_FILENAME");
}

/* One ProxyFCGISetEnvIf: false when its condition cannot be evaluated
 * (Apache then fails the request; relais stops the list there). */
static bool apply_env(rl_request_t *r, const fcgi_env_t *x)
{
    rl_expr_captures_t cap = { 0 };
    rl_expr_env_t env = { .var = fcgi_var, .ctx = r, .arena = r->arena, .captures = &cap };
    int rc = rl_expr_eval(x->cond, &env);
    if (rc < 0) {
        rl_req_log(r, RL_LOG_ERR, "proxy_fcgi", "AH10241: fix_cgivars: Condition eval "
                   "returned %d: %s", rc, env.error ? env.error : "unknown error");
        return false;
    }
    if (rc == 0)
        return true;
    if (x->value == NULL) {
        rl_hdrs_unset(&r->env, x->name);
        return true;
    }
    const char *v = rl_expr_eval_string(x->value, &env);
    if (v)
        env_set(r, x->name, v);
    else
        rl_req_log(r, RL_LOG_INFO, "proxy_fcgi", "AH03514: Error evaluating expression for "
                   "replacement of %s: '%s'", x->name, env.error ? env.error : "");
    return true;
}

void rl_proxy_fcgi_fixup_env(rl_request_t *r)
{
    const proxy_dir_t *d = r->dir ? RL_DIR_CONF(r->dir, rl_proxy_module) : NULL;
    if (d == NULL)
        return;
    if (d->backend == BACKEND_GENERIC)
        generic_filename(r);
    for (const fcgi_env_t *x = d->env; x && apply_env(r, x); x = x->next)
        ;
}

#define ANYWHERE (RL_CTX_ANY | RL_CTX_HTACCESS)

static const rl_cmd_t proxy_cmds[] = {
    { "ProxyPass", set_pass, 0, RL_CTX_ANY, 0, RL_ARGS_RAW, "a virtual path and a URL" },
    { "ProxyPassMatch", set_pass, 1, RL_CTX_ANY, 0, RL_ARGS_RAW, "a virtual path and a URL" },
    { "<Proxy", set_section, 0, RL_CTX_ANY | RL_CTX_HTACCESS, 0, RL_ARGS_RAW,
      "Container for directives affecting resources located in the proxied location" },
    { "<ProxyMatch", set_section, 1, RL_CTX_ANY | RL_CTX_HTACCESS, 0, RL_ARGS_RAW,
      "Container for directives affecting resources located in the proxied location, "
      "in regular expression syntax" },
    { "ProxySet", set_proxyset, 0, RL_CTX_ANY, 0, RL_ARGS_RAW,
      "A balancer or worker name with list of params" },
    { "ProxyTimeout", set_proxy_timeout, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE1,
      "Set the timeout (in seconds) for a proxied connection. This overrides the server timeout" },
    { "ProxyFCGIBackendType", set_backend_type, 0, ANYWHERE, RL_OVR_FILEINFO, RL_ARGS_TAKE1,
      "Specify the type of FastCGI server: 'Generic', 'FPM'" },
    { "ProxyFCGISetEnvIf", set_fcgi_env, 0, ANYWHERE, RL_OVR_FILEINFO, RL_ARGS_TAKE23,
      "expr-condition env-name expr-value" },
    /* mod_status' proxy section (Debian's status.conf sets it when proxy is
     * loaded): accepted, listed by -t as ignored */
    { "ProxyStatus", rl_cmd_ignored_listed, 0, RL_CTX_ANY, 0, RL_ARGS_RAW, NULL },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_proxy_module = {
    .name = "proxy",
    .cmds = proxy_cmds,
    .create_server = create_srv,
    .merge_server = merge_srv,
    .create_dir = create_dir,
    .merge_dir = merge_dir,
    .translate = translate,
    .fixups = fixups,
};
