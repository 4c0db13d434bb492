/* php-fpm's status and ping pages (see status.h).
 *
 * The four shapes (text, json, xml, html) carry the same fields in the same
 * order, so each page is a list of items (a name, a value, whether it is a
 * string and whether it gets escaped) that one emitter per shape wraps.
 * Escaping follows what PHP does in php-fpm: json_encode() with
 * JSON_INVALID_UTF8_IGNORE, and htmlspecialchars() with ENT_COMPAT and the
 * XHTML rules for disallowed characters (U+FFFD instead), giving "" for
 * invalid UTF-8. Both read UTF-8 the way PHP's get_next_char() does. (Both,
 * and the query's parsing, were diffed against php8.2's json_encode(),
 * htmlspecialchars(ENT_COMPAT|ENT_XHTML|ENT_DISALLOWED) and parse_str() on
 * thousands of random strings.) */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "fpm/status.h"

#define EXPIRES "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
#define NO_CACHE "Cache-Control: no-cache, no-store, must-revalidate, max-age=0\r\n"
#define TIME_FMT "%d/%b/%Y:%H:%M:%S %z"

enum { Q_HTML = 1, Q_XML = 2, Q_JSON = 4, Q_OPENMETRICS = 8, Q_FULL = 16 };

typedef enum { SHAPE_TEXT, SHAPE_JSON, SHAPE_XML, SHAPE_HTML } shape_t;

/* One field of the page. */
typedef struct {
    const char *name;       /* json's name; xml's is it with '-' for ' ' */
    const char *str;        /* a string value, or NULL: num */
    const char *query;      /* the uri's query: '?' and it follow when not "" */
    char num[32];
    bool escape;
} item_t;

/* ---- the query string, as PHP's $_GET sees it ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Url-decodes the key [p, end) into <key> and makes it a PHP variable name:
 * leading spaces go, ' ' and '.' become '_', "[...]" ends it. */
static void php_key(const char *p, const char *end, char *key, size_t cap)
{
    size_t n = 0;
    for (; p < end && n + 1 < cap; p++) {
        int c = (unsigned char)*p;
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && end - p >= 3 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            c = hexval(p[1]) * 16 + hexval(p[2]);
            p += 2;
        }
        if (c != ' ' || n > 0)
            key[n++] = (char)c;
    }
    key[n] = '\0';                           /* PHP stops at a NUL too */
    for (char *k = key; *k; k++) {
        if (*k == '[' && strchr(k, ']')) {
            *k = '\0';
            break;
        }
        if (*k == ' ' || *k == '.' || *k == '[')
            *k = '_';
    }
}

/* php-fpm's lookup compares only the key's length: a prefix matches. */
static bool key_is(const char *key, const char *name)
{
    size_t n = strlen(key);
    return n > 0 && strncmp(key, name, n) == 0;
}

static unsigned parse_query(const char *q)
{
    static const char *const names[] = { "html", "xml", "json", "openmetrics", "full" };
    unsigned flags = 0;
    while (q && *q) {
        const char *end = q + strcspn(q, "&");
        const char *eq = memchr(q, '=', (size_t)(end - q));
        char key[256];
        php_key(q, eq ? eq : end, key, sizeof(key));
        for (unsigned i = 0; i < RL_NELEMS(names); i++)
            if (key_is(key, names[i]))
                flags |= 1u << i;
        q = *end ? end + 1 : end;
    }
    return flags;
}

/* ---- escaping ---- */

static bool utf8_lead(unsigned c) { return c < 0x80 || (c >= 0xc2 && c <= 0xf4); }
static bool utf8_trail(unsigned c) { return c >= 0x80 && c <= 0xbf; }

/* The code point at s[*pos], or -1 for an invalid sequence; *pos moves past
 * what PHP's get_next_char() consumes either way. */
static int32_t next_utf8(const unsigned char *s, size_t len, size_t *pos)
{
    size_t i = *pos, avail = len - i, need;
    unsigned c = s[i];
    if (c < 0x80) {
        *pos = i + 1;
        return (int32_t)c;
    }
    need = c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
    if (need == 0) {
        *pos = i + 1;
        return -1;
    }
    bool ok = avail >= need;
    for (size_t k = 1; ok && k < need; k++)
        ok = utf8_trail(s[i + k]);
    if (!ok) {
        /* PHP skips up to the first byte that could start a character */
        size_t k = 1;
        while (k < need && avail > k && !utf8_lead(s[i + k]))
            k++;
        *pos = i + k;
        return -1;
    }
    uint32_t cp = c & (0xffu >> (need + 1));
    for (size_t k = 1; k < need; k++)
        cp = (cp << 6) | (s[i + k] & 0x3fu);
    *pos = i + need;
    if ((need == 2 && cp < 0x80) || (need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return -1;
    return (int32_t)cp;
}

static void json_escape(rl_buf_t *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t len = strlen(str), pos = 0;
    while (pos < len) {
        int32_t cp = next_utf8(s, len, &pos);
        if (cp < 0)
            continue;                       /* JSON_INVALID_UTF8_IGNORE */
        const char *e = cp == '"' ? "\\\"" : cp == '\\' ? "\\\\" : cp == '/' ? "\\/" : cp == '\b' ? "\\b"
                      : cp == '\f' ? "\\f" : cp == '\n' ? "\\n" : cp == '\r' ? "\\r" : cp == '\t' ? "\\t" : NULL;
        if (e)
            rl_buf_append_c(out, e);
        else if (cp >= 0x20 && cp < 0x80)
            rl_buf_append(out, s + pos - 1, 1);
        else if (cp < 0x10000)
            rl_buf_appendf(out, "\\u%04x", (unsigned)cp);
        else
            rl_buf_appendf(out, "\\u%04x\\u%04x", 0xd800u + (((unsigned)cp - 0x10000u) >> 10),
                           0xdc00u + (((unsigned)cp - 0x10000u) & 0x3ffu));
    }
}

static bool xhtml_allowed(int32_t cp)
{
    return cp == 0x09 || cp == 0x0a || cp == 0x0d || (cp >= 0x20 && cp <= 0xd7ff) ||
           (cp >= 0xe000 && cp <= 0x10ffff && cp != 0xfffe && cp != 0xffff);
}

static void html_escape(rl_buf_t *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t len = strlen(str), pos = 0, start = out->len;
    while (pos < len) {
        size_t at = pos;
        int32_t cp = next_utf8(s, len, &pos);
        if (cp < 0) {
            out->len = start;               /* PHP gives "" for the whole */
            return;
        }
        const char *e = cp == '&' ? "&amp;" : cp == '"' ? "&quot;" : cp == '<' ? "&lt;"
                      : cp == '>' ? "&gt;" : xhtml_allowed(cp) ? NULL : "\xef\xbf\xbd";
        if (e)
            rl_buf_append_c(out, e);
        else
            rl_buf_append(out, s + at, pos - at);
    }
}

/* ---- items ---- */

static void put_value(rl_buf_t *out, const item_t *it, shape_t shape)
{
    void (*esc)(rl_buf_t *, const char *) = shape == SHAPE_JSON ? json_escape : html_escape;
    const char *v = it->str ? it->str : it->num;
    if (it->escape && shape != SHAPE_TEXT)
        esc(out, v);
    else
        rl_buf_append_c(out, v);
    if (it->query && it->query[0]) {
        rl_buf_append_c(out, "?");
        if (it->escape && shape != SHAPE_TEXT)
            esc(out, it->query);
        else
            rl_buf_append_c(out, it->query);
    }
}

static void put_xml_name(rl_buf_t *out, const char *name)
{
    for (const char *p = name; *p; p++)
        rl_buf_append(out, *p == ' ' ? "-" : p, 1);
}

/* Emits <n> items in <shape>; <rows>: the pool's part (a line each in xml
 * and html) rather than a process's. */
static void put_items(rl_buf_t *out, const item_t *it, size_t n, shape_t shape, bool rows)
{
    for (size_t i = 0; i < n; i++, it++) {
        switch (shape) {
        case SHAPE_TEXT: {
            char label[32];
            snprintf(label, sizeof(label), "%s:", strcmp(it->name, "request uri") ? it->name : "request URI");
            rl_buf_appendf(out, "%-22s", label);
            put_value(out, it, shape);
            rl_buf_append_c(out, "\n");
            break;
        }
        case SHAPE_JSON:
            rl_buf_appendf(out, "%s\"%s\":%s", i ? "," : "", it->name, it->str ? "\"" : "");
            put_value(out, it, shape);
            rl_buf_append_c(out, it->str ? "\"" : "");
            break;
        case SHAPE_XML:
            rl_buf_append_c(out, "<");
            put_xml_name(out, it->name);
            rl_buf_append_c(out, ">");
            put_value(out, it, shape);
            rl_buf_append_c(out, "</");
            put_xml_name(out, it->name);
            rl_buf_append_c(out, rows ? ">\n" : ">");
            break;
        case SHAPE_HTML:
            if (rows)
                rl_buf_appendf(out, "<tr><th>%s</th>", it->name);
            rl_buf_append_c(out, "<td>");
            put_value(out, it, shape);
            rl_buf_append_c(out, rows ? "</td></tr>\n" : "</td>");
            break;
        }
    }
}

static item_t num_item(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static item_t num_item(const char *name, const char *fmt, ...)
{
    item_t it = { .name = name };
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it.num, sizeof(it.num), fmt, ap);
    va_end(ap);
    return it;
}

static item_t str_item(const char *name, const char *s, bool escape)
{
    return (item_t){ .name = name, .str = s, .escape = escape };
}

/* A start time: local time for text and html, epoch seconds otherwise. */
static item_t time_item(const char *name, uint64_t us, shape_t shape)
{
    time_t t = (time_t)(us / 1000000u);
    item_t it = { .name = name };
    struct tm tm;
    if (shape == SHAPE_JSON || shape == SHAPE_XML || !localtime_r(&t, &tm))
        snprintf(it.num, sizeof(it.num), "%lld", (long long)t);
    else
        strftime(it.num, sizeof(it.num), TIME_FMT, &tm);
    return it;
}

/* ---- the pool's part ---- */

typedef struct {
    const rl_fpm_scoreboard_t *sb;
    uint64_t now_us;
    int lq, lq_max;
    unsigned lq_len;
} figures_t;

static uint64_t since(uint64_t now_us, uint64_t start_us)
{
    uint64_t now = now_us / 1000000u, start = start_us / 1000000u;
    return now > start ? now - start : 0;
}

static void pool_items(const figures_t *f, shape_t shape, item_t it[14])
{
    const rl_fpm_scoreboard_t *sb = f->sb;
    size_t n = 0;
    it[n++] = str_item("pool", sb->pool, false);
    it[n++] = str_item("process manager", sb->pm, false);
    it[n++] = time_item("start time", sb->start_us, shape);
    it[n++] = num_item("start since", "%" PRIu64, since(f->now_us, sb->start_us));
    it[n++] = num_item("accepted conn", "%" PRIu64, __atomic_load_n(&sb->accepted_conn, __ATOMIC_RELAXED));
    it[n++] = num_item("listen queue", "%d", f->lq);
    it[n++] = num_item("max listen queue", "%d", f->lq_max);
    it[n++] = num_item("listen queue len", "%u", f->lq_len);
    it[n++] = num_item("idle processes", "%d", sb->idle);
    it[n++] = num_item("active processes", "%d", sb->active);
    it[n++] = num_item("total processes", "%d", sb->idle + sb->active);
    it[n++] = num_item("max active processes", "%d", sb->max_active);
    it[n++] = num_item("max children reached", "%u", (unsigned)sb->max_children_reached);
    it[n++] = num_item("slow requests", "%" PRIu64, __atomic_load_n(&sb->slow_requests, __ATOMIC_RELAXED));
}

static void openmetrics(rl_buf_t *out, const figures_t *f)
{
    const rl_fpm_scoreboard_t *sb = f->sb;
    rl_buf_appendf(out,
        "# HELP phpfpm_up Could pool %s using a %s PM on PHP-FPM be reached?\n"
        "# TYPE phpfpm_up gauge\nphpfpm_up 1\n"
        "# HELP phpfpm_start_since The number of seconds since FPM has started.\n"
        "# TYPE phpfpm_start_since counter\nphpfpm_start_since %" PRIu64 "\n"
        "# HELP phpfpm_accepted_connections The number of requests accepted by the pool.\n"
        "# TYPE phpfpm_accepted_connections counter\nphpfpm_accepted_connections %" PRIu64 "\n"
        "# HELP phpfpm_listen_queue The number of requests in the queue of pending connections.\n"
        "# TYPE phpfpm_listen_queue gauge\nphpfpm_listen_queue %d\n"
        "# HELP phpfpm_max_listen_queue The maximum number of requests in the queue of pending "
        "connections since FPM has started.\n"
        "# TYPE phpfpm_max_listen_queue counter\nphpfpm_max_listen_queue %d\n"
        "# TYPE phpfpm_listen_queue_length gauge\n"
        "# HELP phpfpm_listen_queue_length The size of the socket queue of pending connections.\n"
        "phpfpm_listen_queue_length %u\n",
        sb->pool, sb->pm, since(f->now_us, sb->start_us),
        __atomic_load_n(&sb->accepted_conn, __ATOMIC_RELAXED), f->lq, f->lq_max, f->lq_len);
    rl_buf_appendf(out,
        "# HELP phpfpm_idle_processes The number of idle processes.\n"
        "# TYPE phpfpm_idle_processes gauge\nphpfpm_idle_processes %d\n"
        "# HELP phpfpm_active_processes The number of active processes.\n"
        "# TYPE phpfpm_active_processes gauge\nphpfpm_active_processes %d\n"
        "# HELP phpfpm_total_processes The number of idle + active processes.\n"
        "# TYPE phpfpm_total_processes gauge\nphpfpm_total_processes %d\n"
        "# HELP phpfpm_max_active_processes The maximum number of active processes since FPM has started.\n"
        "# TYPE phpfpm_max_active_processes counter\nphpfpm_max_active_processes %d\n"
        "# HELP phpfpm_max_children_reached The number of times, the process limit has been reached, "
        "when pm tries to start more children (works only for pm 'dynamic' and 'ondemand').\n"
        "# TYPE phpfpm_max_children_reached counter\nphpfpm_max_children_reached %u\n"
        "# HELP phpfpm_slow_requests The number of requests that exceeded your 'request_slowlog_timeout' value.\n"
        "# TYPE phpfpm_slow_requests counter\nphpfpm_slow_requests %" PRIu64 "\n# EOF\n",
        sb->idle, sb->active, sb->idle + sb->active, sb->max_active, (unsigned)sb->max_children_reached,
        __atomic_load_n(&sb->slow_requests, __ATOMIC_RELAXED));
}

/* ---- the processes ---- */

/* A copy of a slot taken as it is (its child may be writing it), with
 * its strings ended for sure. */
static void snapshot(const rl_fpm_slot_t *s, rl_fpm_slot_t *c)
{
    memcpy(c, s, sizeof(*c));
    c->method[sizeof(c->method) - 1] = '\0';
    c->request_uri[sizeof(c->request_uri) - 1] = '\0';
    c->query[sizeof(c->query) - 1] = '\0';
    c->script[sizeof(c->script) - 1] = '\0';
    c->auth_user[sizeof(c->auth_user) - 1] = '\0';
}

static const char *or_dash(const char *s)
{
    return s[0] ? s : "-";
}

static void proc_items(const rl_fpm_status_t *st, const rl_fpm_slot_t *p, shape_t shape, item_t it[13])
{
    bool self = p->pid == st->self;
    int stage = self ? RL_FPM_STAGE_RUNNING : p->stage;
    bool idle = stage == RL_FPM_STAGE_IDLE;
    uint64_t duration = idle ? p->duration_us : st->now_us > p->accepted_us ? st->now_us - p->accepted_us : 0;
    size_t n = 0;
    it[n++] = num_item("pid", "%d", (int)p->pid);
    it[n++] = str_item("state", rl_fpm_stage_name(stage), false);
    it[n++] = time_item("start time", p->start_us, shape);
    it[n++] = num_item("start since", "%" PRIu64, since(st->now_us, p->start_us));
    it[n++] = num_item("requests", "%" PRIu64, p->requests);
    it[n++] = num_item("request duration", "%" PRIu64, duration);
    it[n++] = str_item("request method", or_dash(p->method), true);
    it[n] = str_item("request uri", or_dash(p->request_uri), true);
    it[n++].query = p->query;
    it[n++] = num_item("content length", "%" PRIu64, p->content_length);
    it[n++] = str_item("user", or_dash(p->auth_user), true);
    it[n++] = str_item("script", or_dash(p->script), true);
    it[n++] = num_item("last request cpu", "%.2f", idle ? p->cpu : 0.);
    it[n++] = num_item("last request memory", "%" PRIu64, idle ? p->memory : 0);
}

static void processes(rl_buf_t *out, const rl_fpm_status_t *st, shape_t shape)
{
    static const char *const pre[] = {
        [SHAPE_TEXT] = "", [SHAPE_JSON] = ", \"processes\":[", [SHAPE_XML] = "<processes>\n",
        [SHAPE_HTML] = "<table border=\"1\">\n<tr><th>pid</th><th>state</th><th>start time</th>"
                       "<th>start since</th><th>requests</th><th>request duration</th>"
                       "<th>request method</th><th>request uri</th><th>content length</th>"
                       "<th>user</th><th>script</th><th>last request cpu</th>"
                       "<th>last request memory</th></tr>\n",
    };
    static const char *const open[] = { "\n************************\n", "{", "<process>", "<tr>" };
    static const char *const close[] = { "", "}", "</process>\n", "</tr>\n" };
    static const char *const post[] = { "", "]}", "</processes>\n</status>", "</table></body></html>" };
    rl_buf_append_c(out, pre[shape]);
    bool first = true;
    for (int i = 0; i < st->sb->nslots; i++) {
        rl_fpm_slot_t p;
        snapshot(&st->sb->slots[i], &p);
        if (p.pid == 0)
            continue;
        if (shape == SHAPE_JSON && !first)
            rl_buf_append_c(out, ",");
        first = false;
        item_t it[13];
        proc_items(st, &p, shape, it);
        rl_buf_append_c(out, open[shape]);
        put_items(out, it, RL_NELEMS(it), shape, false);
        rl_buf_append_c(out, close[shape]);
    }
    rl_buf_append_c(out, post[shape]);
}

/* ---- the page ---- */

static void pool_part(rl_buf_t *out, const figures_t *f, shape_t shape, bool full)
{
    static const char *const pre[] = {
        [SHAPE_TEXT] = "", [SHAPE_JSON] = "{", [SHAPE_XML] = "<?xml version=\"1.0\" ?>\n<status>\n",
        [SHAPE_HTML] = "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" "
                       "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n"
                       "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n"
                       "<head><title>PHP-FPM Status Page</title></head>\n<body>\n<table>\n",
    };
    static const char *const post[] = { "", "}", "</status>", "</body></html>" };
    item_t it[14];
    pool_items(f, shape, it);
    rl_buf_append_c(out, pre[shape]);
    put_items(out, it, RL_NELEMS(it), shape, true);
    if (shape == SHAPE_HTML)
        rl_buf_append_c(out, "</table>\n");
    if (!full)
        rl_buf_append_c(out, post[shape]);
}

static void internal_error(rl_buf_t *out, bool head)
{
    rl_buf_append_c(out, "Status: 500 Internal Server Error\r\nContent-type: text/plain;charset=UTF-8\r\n"
                         EXPIRES NO_CACHE "\r\n");
    if (!head)
        rl_buf_append_c(out, "Internal error. Please review log file for errors.");
}

void rl_fpm_status_render(const rl_fpm_status_t *st, const char *query, bool head, rl_buf_t *out)
{
    const rl_fpm_scoreboard_t *sb = st->sb;
    if (sb == NULL || sb->idle < 0 || sb->active < 0) {
        internal_error(out, head);
        return;
    }
    rl_buf_append_c(out, EXPIRES NO_CACHE);
    if (head) {
        /* php-fpm stops before it names a type: PHP's default one */
        rl_buf_append_c(out, "Content-type: text/html; charset=UTF-8\r\n\r\n");
        return;
    }
    unsigned q = parse_query(query);
    shape_t shape = q & Q_HTML ? SHAPE_HTML : q & Q_XML ? SHAPE_XML : q & Q_JSON ? SHAPE_JSON : SHAPE_TEXT;
    static const char *const types[] = {
        [SHAPE_TEXT] = "Content-type: text/plain;charset=UTF-8\r\n\r\n",
        [SHAPE_JSON] = "Content-Type: application/json\r\n\r\n",
        [SHAPE_XML] = "Content-type: text/xml;charset=UTF-8\r\n\r\n",
        [SHAPE_HTML] = "Content-type: text/html;charset=UTF-8\r\n\r\n",
    };
    int lq = RL_MAX(st->listen_queue, 0);
    figures_t f = { sb, st->now_us, lq, RL_MAX(sb->max_listen_queue, lq), (unsigned)st->listen_queue_len };
    if (shape == SHAPE_TEXT && (q & Q_OPENMETRICS)) {
        rl_buf_append_c(out, "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n\r\n");
        openmetrics(out, &f);
        return;
    }
    rl_buf_append_c(out, types[shape]);
    pool_part(out, &f, shape, q & Q_FULL);
    if (q & Q_FULL)
        processes(out, st, shape);
}

void rl_fpm_ping_render(const char *response, bool head, rl_buf_t *out)
{
    rl_buf_append_c(out, "Content-type: text/plain;charset=UTF-8\r\n" EXPIRES NO_CACHE "\r\n");
    if (!head && response)
        rl_buf_append_c(out, response);
}
