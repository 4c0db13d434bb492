/* mod_log_config: LogFormat, CustomLog, TransferLog. Formats are compiled
 * once into items; a request's line is rendered into a stack buffer and
 * written with one write(2) (lines from several workers never interleave). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "http/date.h"
#include "httpd/config.h"
#include "httpd/request.h"
#include "httpd/conn.h"

typedef struct item_s {
    char code;                 /* 0 literal, else the % letter */
    bool final;                /* %>s */
    const char *arg;           /* %{arg}x, or the literal text */
    size_t arg_len;
    int *statuses;             /* %400,501{...}i conditions */
    unsigned nstatuses;
    bool negate;
} item_t;

typedef struct {
    item_t *items;
    unsigned n;
} format_t;

typedef struct named_s {
    const char *name;
    format_t *fmt;
    struct named_s *next;
} named_t;

typedef struct custom_log_s {
    const char *path;
    format_t *fmt;
    const char *env;           /* env=VAR / env=!VAR condition */
    bool env_negate;
    rl_log_t *log;
    rl_buf_t pending;          /* lines not written yet (this process's) */
    struct custom_log_s *dirty_next;
    bool dirty;
    struct custom_log_s *next;
} custom_log_t;

/* Logs with pending lines. Lines are written when the worker's loop is
 * about to sleep, or once 32 KiB are pending: under load one write(2)
 * carries many lines, and an idle server has written everything. */
static custom_log_t *dirty_logs;
#define PENDING_MAX (32 * 1024)

void rl_log_config_flush(void)
{
    while (dirty_logs) {
        custom_log_t *l = dirty_logs;
        dirty_logs = l->dirty_next;
        l->dirty = false;
        if (l->pending.len)
            rl_log_write_raw(l->log, l->pending.data, l->pending.len);
        rl_buf_clear(&l->pending);
    }
}

typedef struct {
    named_t *formats;
    format_t *default_fmt;     /* LogFormat without a nickname */
    custom_log_t *logs;
    bool has_logs;
} logcfg_srv_t;

extern rl_module_t rl_log_config_module;

static const char *predefined[][2] = {
    { "common", "%h %l %u %t \"%r\" %>s %b" },
    { "combined", "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" },
    { "vhost_combined", "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" },
    { "referer", "%{Referer}i -> %U" },
    { "agent", "%{User-agent}i" },
};

static void *create_srv(rl_arena_t *a) { return rl_arena_calloc(a, sizeof(logcfg_srv_t)); }

/* A virtual host with no CustomLog of its own logs into the main server's. */
static void *merge_srv(rl_arena_t *a, void *basev, void *addv)
{
    logcfg_srv_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    *m = *add;
    if (!add->has_logs)
        m->logs = base->logs;
    if (!add->default_fmt)
        m->default_fmt = base->default_fmt;
    named_t **t = &m->formats;
    while (*t)
        t = &(*t)->next;
    *t = base->formats;
    return m;
}

static const char *parse_item(rl_arena_t *a, const char **sp, item_t *it)
{
    const char *s = *sp;        /* just after '%' */
    memset(it, 0, sizeof(*it));
    for (;;) {
        if (*s == '!') {
            it->negate = true;
            s++;
        } else if (*s >= '0' && *s <= '9') {
            int v = 0;
            while (*s >= '0' && *s <= '9')
                v = v * 10 + (*s++ - '0');
            it->statuses = rl_xrealloc(it->statuses, sizeof(int) * (it->nstatuses + 1));
            it->statuses[it->nstatuses++] = v;
            if (*s == ',')
                s++;
        } else if (*s == '<' || *s == '>') {
            it->final = *s++ == '>';
        } else if (*s == '{') {
            const char *e = strchr(s, '}');
            if (e == NULL)
                return "Unterminated %{...} in LogFormat";
            it->arg = rl_arena_strndup(a, s + 1, (size_t)(e - s - 1));
            it->arg_len = (size_t)(e - s - 1);
            s = e + 1;
        } else {
            break;
        }
    }
    if (it->statuses) {
        int *c = rl_arena_alloc(a, sizeof(int) * it->nstatuses);
        memcpy(c, it->statuses, sizeof(int) * it->nstatuses);
        free(it->statuses);
        it->statuses = c;
    }
    if (*s == '\0')
        return "Incomplete % directive in LogFormat";
    if (!strchr("%aAbBDefhHiIklLmnoOpPqrRsStTuUvVX", *s))
        return rl_arena_printf(a, "Unrecognized LogFormat directive %%%c", *s);
    it->code = *s;
    *sp = s + 1;
    return NULL;
}

static const char *compile(rl_arena_t *a, const char *src, format_t **out)
{
    item_t items[256];
    unsigned n = 0;
    rl_buf_t lit = RL_BUF_INIT;
    const char *s = src;
    const char *err = NULL;
    while (*s && !err) {
        if (n >= RL_NELEMS(items) - 1) {
            err = "LogFormat has too many items";
            break;
        }
        if (*s == '%' && s[1] != '%') {
            if (lit.len) {
                items[n++] = (item_t){ .arg = rl_arena_strndup(a, lit.data, lit.len),
                                       .arg_len = lit.len };
                rl_buf_clear(&lit);
            }
            s++;
            err = parse_item(a, &s, &items[n]);
            if (!err && items[n].code == '%') {
                rl_buf_append(&lit, "%", 1);
                continue;
            }
            n++;
            continue;
        }
        if (*s == '%') {
            s += 2;
            rl_buf_append(&lit, "%", 1);
            continue;
        }
        if (*s == '\\' && s[1]) {
            char c = s[1] == 'n' ? '\n' : s[1] == 't' ? '\t' : s[1];
            rl_buf_append(&lit, &c, 1);
            s += 2;
            continue;
        }
        rl_buf_append(&lit, s++, 1);
    }
    if (!err && lit.len)
        items[n++] = (item_t){ .arg = rl_arena_strndup(a, lit.data, lit.len), .arg_len = lit.len };
    rl_buf_release(&lit);
    if (err)
        return err;
    format_t *f = rl_arena_alloc(a, sizeof(*f));
    f->items = rl_arena_alloc(a, sizeof(item_t) * (n ? n : 1));
    memcpy(f->items, items, sizeof(item_t) * n);
    f->n = n;
    *out = f;
    return NULL;
}

static format_t *find_format(logcfg_srv_t *s, const char *name)
{
    for (named_t *f = s->formats; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            return f->fmt;
    return NULL;
}

static const char *set_log_format(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    logcfg_srv_t *s = conf;
    format_t *f;
    const char *err = compile(p->arena, argv[0], &f);
    if (err)
        return err;
    if (argc == 1) {
        s->default_fmt = f;
        return NULL;
    }
    named_t *n = rl_arena_alloc(p->arena, sizeof(*n));
    n->name = rl_arena_strdup(p->arena, argv[1]);
    n->fmt = f;
    n->next = s->formats;
    s->formats = n;
    return NULL;
}

static const char *set_custom_log(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    logcfg_srv_t *s = conf;
    custom_log_t *l = rl_arena_calloc(p->arena, sizeof(*l));
    rl_config_t *cf = RL_CMD_STATE(p)->cf;
    l->path = argv[0][0] == '|' ? rl_arena_strdup(p->arena, argv[0]) : rl_config_path(cf, argv[0]);
    const char *fmt = argc >= 2 ? argv[1] : NULL;
    if (fmt) {
        l->fmt = find_format(s, fmt);
        if (l->fmt == NULL) {
            if (!strchr(fmt, '%')) {
                for (size_t i = 0; i < RL_NELEMS(predefined); i++)
                    if (strcmp(predefined[i][0], fmt) == 0)
                        fmt = predefined[i][1];
            }
            const char *err = compile(p->arena, fmt, &l->fmt);
            if (err)
                return err;
        }
    }
    if (argc == 3) {
        if (strncmp(argv[2], "env=", 4) != 0)
            return "error in condition clause";
        l->env = argv[2] + 4;
        if (*l->env == '!') {
            l->env_negate = true;
            l->env++;
        }
    }
    s->has_logs = true;
    custom_log_t **t = &s->logs;
    while (*t)
        t = &(*t)->next;
    *t = l;
    return NULL;
}

/* ---- rendering ---- */

/* Apache escapes quotes, backslashes and non-printables in logged strings. */
static void put_escaped(rl_buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            rl_buf_append(b, e, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            if (c == '\n') rl_buf_append(b, "\\n", 2);
            else if (c == '\t') rl_buf_append(b, "\\t", 2);
            else if (c == '\r') rl_buf_append(b, "\\r", 2);
            else rl_buf_appendf(b, "\\x%02x", c);
        } else {
            rl_buf_append(b, s + i, 1);
        }
    }
}

/* Unset values log as "-"; an empty one (an empty header) as nothing, as
 * Apache's mod_log_config does. */
static void put_str(rl_buf_t *b, const char *s)
{
    if (s == NULL)
        rl_buf_append(b, "-", 1);
    else
        put_escaped(b, s, strlen(s));
}

static void put_time(rl_buf_t *b, const rl_request_t *r, const char *arg)
{
    char out[128];
    time_t t = r->start.tv_sec;
    if (arg == NULL) {
        rl_clf_time_format(t, out);
        rl_buf_append_c(b, out);
        return;
    }
    const char *fmt = arg;
    bool end = strncmp(fmt, "end:", 4) == 0;
    if (strncmp(fmt, "begin:", 6) == 0 || end)
        fmt = strchr(fmt, ':') + 1;
    if (end)
        t = time(NULL);
    if (strcmp(fmt, "sec") == 0) rl_buf_appendf(b, "%ld", (long)t);
    else if (strcmp(fmt, "msec") == 0) rl_buf_appendf(b, "%lld", (long long)r->start.tv_sec * 1000 + r->start.tv_nsec / 1000000);
    else if (strcmp(fmt, "usec") == 0) rl_buf_appendf(b, "%lld", (long long)r->start.tv_sec * 1000000 + r->start.tv_nsec / 1000);
    else if (strcmp(fmt, "msec_frac") == 0) rl_buf_appendf(b, "%03ld", r->start.tv_nsec / 1000000);
    else if (strcmp(fmt, "usec_frac") == 0) rl_buf_appendf(b, "%06ld", r->start.tv_nsec / 1000);
    else {
        struct tm tm;
        localtime_r(&t, &tm);
        size_t n = strftime(out, sizeof(out), fmt, &tm);
        rl_buf_append(b, out, n);
    }
}

static void put_item(rl_buf_t *b, rl_request_t *r, const item_t *it)
{
    char tmp[64];
    switch (it->code) {
    case 'a': case 'h': rl_buf_append_c(b, rl_conn_peer_ip(r->conn)); break;
    case 'A': rl_buf_append_c(b, rl_conn_local_str(r->conn)); break;
    case 'b': if (r->bytes_sent) rl_buf_appendf(b, "%llu", (unsigned long long)r->bytes_sent);
              else rl_buf_append(b, "-", 1);
              break;
    case 'B': rl_buf_appendf(b, "%llu", (unsigned long long)r->bytes_sent); break;
    case 'D': case 'T': {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t us = (now.tv_sec - r->start.tv_sec) * 1000000LL + (now.tv_nsec - r->start.tv_nsec) / 1000;
        if (it->code == 'D' || (it->arg && strcmp(it->arg, "us") == 0)) rl_buf_appendf(b, "%lld", (long long)us);
        else if (it->arg && strcmp(it->arg, "ms") == 0) rl_buf_appendf(b, "%lld", (long long)us / 1000);
        else rl_buf_appendf(b, "%lld", (long long)us / 1000000);
        break;
    }
    case 'e': put_str(b, it->arg ? rl_hdrs_get(&r->env, it->arg) : NULL); break;
    case 'f': put_str(b, r->filename); break;
    case 'H': rl_buf_append_c(b, r->protocol ? r->protocol : "-"); break;
    case 'i': put_str(b, it->arg ? rl_req_header(r, it->arg) : NULL); break;
    case 'I': rl_buf_appendf(b, "%llu", (unsigned long long)r->head_bytes); break;
    case 'k': rl_buf_appendf(b, "%u", rl_conn_keepalives(r->conn)); break;
    case 'l': rl_buf_append(b, "-", 1); break;
    case 'L': rl_buf_append(b, "-", 1); break;
    case 'm': put_str(b, r->method); break;
    case 'n': put_str(b, it->arg ? rl_hdrs_get(&r->notes, it->arg) : NULL); break;
    case 'o': {
        const char *v = it->arg ? rl_hdrs_get(&r->out, it->arg) : NULL;
        put_str(b, v ? v : it->arg ? rl_hdrs_get(&r->err_out, it->arg) : NULL);
        break;
    }
    case 'O': case 'S': rl_buf_appendf(b, "%llu", (unsigned long long)rl_conn_response_bytes(r->conn)); break;
    case 'p': rl_buf_appendf(b, "%d", it->arg && strcmp(it->arg, "remote") == 0
                             ? rl_sockaddr_port(rl_req_peer(r)) : rl_req_server_port(r)); break;
    case 'P': rl_buf_appendf(b, "%d", (int)getpid()); break;
    case 'q': if (r->args) { rl_buf_append(b, "?", 1); put_escaped(b, r->args, strlen(r->args)); } break;
    case 'r': put_str(b, r->the_request); break;
    case 'R': put_str(b, r->handler); break;
    case 's': rl_buf_appendf(b, "%d", r->status); break;
    case 't': put_time(b, r, it->arg); break;
    case 'u': put_str(b, rl_hdrs_get(&r->notes, "REMOTE_USER")); break;
    case 'U': put_str(b, r->uri); break;
    case 'v': rl_buf_append_c(b, rl_req_server_name(r)); break;
    case 'V': rl_buf_append_c(b, r->hostname ? r->hostname : rl_req_server_name(r)); break;
    case 'X': rl_buf_append(b, r->keepalive ? "+" : "-", 1); break;
    default:
        snprintf(tmp, sizeof(tmp), "-");
        rl_buf_append_c(b, tmp);
    }
}

static bool status_ok(const item_t *it, int status)
{
    if (it->nstatuses == 0)
        return true;
    bool in = false;
    for (unsigned i = 0; i < it->nstatuses; i++)
        in |= it->statuses[i] == status;
    return it->negate ? !in : in;
}

static void render(rl_buf_t *b, rl_request_t *r, const format_t *f)
{
    for (unsigned i = 0; i < f->n; i++) {
        const item_t *it = &f->items[i];
        if (it->code == 0)
            rl_buf_append(b, it->arg, it->arg_len);
        else if (!status_ok(it, r->status))
            rl_buf_append(b, "-", 1);
        else
            put_item(b, r, it);
    }
    rl_buf_append(b, "\n", 1);
}

/* Called by the connection when a response is complete. */
void rl_log_config_request(rl_request_t *r)
{
    logcfg_srv_t *s = RL_SRV_CONF(r->server, rl_log_config_module);
    if (s == NULL || s->logs == NULL)
        return;
    for (custom_log_t *l = s->logs; l; l = l->next) {
        if (l->log == NULL)
            continue;
        if (l->env && (rl_hdrs_get(&r->env, l->env) != NULL) == l->env_negate)
            continue;
        render(&l->pending, r, l->fmt);
        if (!l->dirty) {
            l->dirty = true;
            l->dirty_next = dirty_logs;
            dirty_logs = l;
        }
        if (l->pending.len >= PENDING_MAX) {
            rl_log_write_raw(l->log, l->pending.data, l->pending.len);
            rl_buf_clear(&l->pending);
        }
    }
}

static const char *post_config(rl_config_t *cf, rl_server_t *srv)
{
    logcfg_srv_t *s = RL_SRV_CONF(srv, rl_log_config_module);
    static format_t *common;
    if (common == NULL && compile(cf->arena, predefined[0][1], &common))
        return "internal error compiling the common log format";
    for (custom_log_t *l = s->logs; l; l = l->next) {
        if (l->fmt == NULL)
            l->fmt = s->default_fmt ? s->default_fmt : common;
        if (l->log || !cf->open_logs)
            continue;
        /* a log file named twice (main server and vhosts) is opened once */
        for (rl_server_t *o = cf->main; o && !l->log; o = o->next) {
            logcfg_srv_t *os = RL_SRV_CONF(o, rl_log_config_module);
            for (custom_log_t *x = os->logs; x && !l->log; x = x->next)
                if (x != l && x->log && strcmp(x->path, l->path) == 0)
                    l->log = x->log;
        }
        if (l->log)
            continue;
        char err[256];
        l->log = rl_log_open(l->path, err, sizeof(err));
        if (l->log == NULL)
            return rl_arena_printf(cf->arena, "AH00649: could not open transfer log file %s: %s",
                                   l->path, err);
        rl_arena_on_cleanup(cf->arena, (rl_cleanup_cb)rl_log_close, l->log);
    }
    return NULL;
}

static const char *set_transfer_log(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    return set_custom_log(p, conf, 1, argv);
}

static const rl_cmd_t log_cmds[] = {
    { "LogFormat", set_log_format, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE12,
      "a log format string (see docs) and an optional format name" },
    { "CustomLog", set_custom_log, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE23,
      "a file name, a custom log format string or format name, and an optional "
      "\"env=\" or \"expr=\" clause (see docs)" },
    { "TransferLog", set_transfer_log, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE1,
      "the filename of the access log" },
    { "BufferedLogs", rl_cmd_set_ignored, 0, RL_CTX_SERVER, 0, RL_ARGS_FLAG,
      "Enable Buffered Logging (experimental)" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_log_config_module = {
    .name = "log_config",
    .always = true,
    .cmds = log_cmds,
    .create_server = create_srv,
    .merge_server = merge_srv,
    .post_config = post_config,
};
