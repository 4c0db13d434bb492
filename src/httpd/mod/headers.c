/* mod_headers: Header and RequestHeader, with Apache 2.4.71's syntax,
 * messages and order of work:
 *
 *   Header [onsuccess|always] add|set|setifempty|append|merge|unset|echo|
 *          edit|edit*|note header [value|regex [replacement]]
 *          [early|env=[!]var|expr=condition]
 *   RequestHeader (the same without the condition, echo and note)
 *
 * Values are text with \n \r \t escapes and Apache's format tags (%%, %t,
 * %D, %{VAR}e, %{VAR}s, %l, %i, %b), or "expr=" and an ap_expr string.
 *
 * When each list runs, as in Apache:
 *   - RequestHeader: in the fixups, after the other modules' (SetEnv is
 *     visible), so the handler (a FastCGI backend) sees the result;
 *   - Header (onsuccess): on the response a handler produced, whatever its
 *     status (a script's 404 too), just before the head is written;
 *   - Header always: on every response, errors and redirects relais
 *     generates included; on those, only "always" applies, to a fresh table
 *     (Apache swaps its tables there: an "always unset" cannot remove what
 *     the server had already set, such as a redirect's Location);
 *   - "early": right after the request is read, server and vhost level.
 * "A handler produced it" is known by a mark this module leaves in r->out
 * in its fixups: relais' error path (rl_req_error) empties r->out, as
 * Apache's drops the output filters.
 *
 * Content-Type is the response's type (r->content_type): set and edit
 * change it. The fields the connection writes itself (Date, Server,
 * Content-Length, Transfer-Encoding, Connection, Keep-Alive) cannot be set
 * or removed: Apache too keeps its own Date and Server. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "core/loop.h"
#include "http/expr.h"
#include "httpd/config.h"
#include "httpd/request.h"
#include "httpd/vars.h"
#include "httpd/mod/headers.h"

typedef enum {
    H_ADD, H_SET, H_SETIFEMPTY, H_APPEND, H_MERGE, H_UNSET, H_ECHO, H_EDIT, H_EDIT_ALL, H_NOTE,
} action_t;

typedef enum { L_IN, L_OUT, L_ERR } list_t;   /* RequestHeader, Header, Header always */

/* A piece of a value: text, or a format tag computed per request. */
typedef struct tag_s {
    char kind;                 /* 0: text; else the tag letter: t D e s l i b */
    const char *arg;           /* the text, or the tag's {argument} */
    struct tag_s *next;
} tag_t;

typedef struct entry_s {
    action_t action;
    const char *header;
    tag_t *tags;               /* the value (edit: the replacement) */
    rl_expr_t *value_expr;     /* "expr=" value, instead of tags */
    pcre2_code *re;            /* edit: the match; echo: on request header names */
    bool early;
    const char *env;           /* env=VAR, env=!VAR: "VAR", "!VAR" */
    rl_expr_t *cond;           /* expr=condition */
    struct entry_s *next;
} entry_t;

typedef struct {
    entry_t *list[3];          /* by list_t, in the order of the configuration */
} headers_dir_t;

extern rl_module_t rl_headers_module;

/* The node r->out carries from the fixups on: its name is this very
 * string (compared by address), its value NULL (the head skips it). */
static const char handler_mark[] = "";

static void *create_dir(rl_arena_t *a)
{
    return rl_arena_calloc(a, sizeof(headers_dir_t));
}

/* Outer sections' directives run first, the nearer ones after. */
static void *merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    headers_dir_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    for (int i = 0; i < 3; i++)
        m->list[i] = base->list[i] && add->list[i]
                   ? RL_LIST_CONCAT(a, base->list[i], add->list[i], entry_t)
                   : add->list[i] ? add->list[i] : base->list[i];
    return m;
}

/* ---- reading the directives ---- */

/* Literal text up to the next '%', with \\ \r \n \t unescaped (any other
 * backslash stays). */
static const char *parse_text(rl_arena_t *a, const char *s, tag_t *t)
{
    size_t n = strcspn(s, "%");
    char *d = rl_arena_alloc(a, n + 1), *o = d;
    const char *end = s + n;
    while (s < end) {
        if (*s != '\\' || s + 1 == end) {
            *o++ = *s++;
            continue;
        }
        char c = s[1];
        char e = c == '\\' ? '\\' : c == 'r' ? '\r' : c == 'n' ? '\n' : c == 't' ? '\t' : 0;
        if (e) {
            *o++ = e;
            s += 2;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    t->kind = 0;
    t->arg = d;
    return end;
}

/* Parses <s> into tags at <*out>. NULL or Apache's message. */
static const char *parse_format(rl_arena_t *a, const char *s, tag_t **out)
{
    while (*s) {
        tag_t *t = rl_arena_calloc(a, sizeof(*t));
        *out = t;
        out = &t->next;
        if (*s != '%') {
            s = parse_text(a, s, t);
            continue;
        }
        s++;
        if (*s == '%' || *s == '\0') {   /* "%%", or a '%' at the end */
            t->arg = "%";
            s += *s != '\0';
            continue;
        }
        t->arg = "";
        if (*s == '{') {
            const char *close = strchr(++s, '}');
            size_t n = close ? (size_t)(close - s) : strlen(s);
            t->arg = rl_arena_strndup(a, s, n);
            s += n + (close != NULL);
        }
        if (*s == '\0' || !strchr("tDeslib", *s))
            return rl_arena_printf(a, "Unrecognized header format %%%c", *s);
        t->kind = *s++;
    }
    return NULL;
}

static pcre2_code *compile_re(rl_arena_t *a, const char *re)
{
    int ec;
    PCRE2_SIZE off;
    /* Apache's default regex options: "." matches newlines, "$" only at the end */
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
                                  PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY, &ec, &off, NULL);
    if (c)
        rl_arena_on_cleanup(a, (rl_cleanup_cb)pcre2_code_free, c);
    return c;
}

static bool parse_action(const char *s, action_t *a)
{
    static const struct { const char *name; action_t a; } names[] = {
        { "set", H_SET }, { "setifempty", H_SETIFEMPTY }, { "add", H_ADD },
        { "append", H_APPEND }, { "merge", H_MERGE }, { "unset", H_UNSET },
        { "echo", H_ECHO }, { "edit", H_EDIT }, { "edit*", H_EDIT_ALL }, { "note", H_NOTE },
    };
    for (size_t i = 0; i < RL_NELEMS(names); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *a = names[i].a;
            return true;
        }
    }
    return false;
}

/* "early", "env=[!]var" or "expr=..." into <e>. */
static const char *parse_condition(rl_arena_t *a, const char *c, entry_t *e)
{
    char err[512];
    if (strcasecmp(c, "early") == 0) {
        e->early = true;
    } else if (strncasecmp(c, "env=", 4) == 0) {
        if (c[4] == '\0' || (c[4] == '!' && c[5] == '\0'))
            return "error: missing environment variable name. envclause should be in the "
                   "form env=envar ";
        e->env = rl_arena_strdup(a, c + 4);
    } else if (strncasecmp(c, "expr=", 5) == 0) {
        if ((e->cond = rl_expr_compile(a, c + 5, err, sizeof(err))) == NULL)
            return rl_arena_printf(a, "Can't parse envclause/expression: %s", err);
    } else {
        return rl_arena_printf(a, "Unknown parameter: %s", c);
    }
    return NULL;
}

/* Apache's header_inout_cmd(): the checks in its order, with its words. */
static const char *parse_entry(rl_cmd_parms_t *p, entry_t *e, list_t list, const char *action,
                               const char *hdr, const char *value, const char *subs,
                               const char *cond)
{
    if (!parse_action(action, &e->action))
        return "first argument must be 'add', 'set', 'setifempty', 'append', 'merge', "
               "'unset', 'echo', 'note', 'edit', or 'edit*'.";
    if (e->action == H_NOTE && list == L_IN)
        return "RequestHeader does not support the 'note' action";
    const char *format = value;
    if (e->action == H_EDIT || e->action == H_EDIT_ALL) {
        if (subs == NULL)
            return "Header edit requires a match and a substitution";
        if ((e->re = compile_re(p->arena, value)) == NULL)
            return "Header edit regex could not be compiled";
        format = subs;
    } else {
        if (cond != NULL)
            return "Too many arguments to directive";
        cond = subs;
    }
    if (e->action == H_UNSET || e->action == H_ECHO) {
        if (value) {
            if (cond)
                return e->action == H_UNSET ? "header unset takes two arguments"
                                            : "Header echo takes two arguments";
            cond = value;
        }
        format = NULL;
        if (e->action == H_ECHO && list == L_IN)
            return "Header echo only valid on Header directives";
        if (e->action == H_ECHO && (e->re = compile_re(p->arena, hdr)) == NULL)
            return "Header echo regex could not be compiled";
    } else if (value == NULL) {
        return "Header requires three arguments";
    }
    const char *err = cond ? parse_condition(p->arena, cond, e) : NULL;
    if (err)
        return err;
    const char *colon = strchr(hdr, ':');
    e->header = colon ? rl_arena_strndup(p->arena, hdr, (size_t)(colon - hdr))
                      : rl_arena_strdup(p->arena, hdr);
    if (format && strncmp(format, "expr=", 5) == 0) {
        char msg[512];
        e->value_expr = rl_expr_compile_string(p->arena, format + 5, msg, sizeof(msg));
        return e->value_expr ? NULL
             : rl_arena_printf(p->arena, "Can't parse value expression : %s", msg);
    }
    return format ? parse_format(p->arena, format, &e->tags) : NULL;
}

/* Header [condition] action header [value] [replacement] [condition];
 * RequestHeader action header [value] [replacement] [condition]. */
static const char *set_header(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    headers_dir_t *d = conf;
    list_t list = p->cmd->data ? L_IN : L_OUT;
    int i = 0;
    const char *w[5] = { "", "", NULL, NULL, NULL };
    if (list == L_OUT && argc > 0 && strcasecmp(argv[0], "always") == 0)
        list = L_ERR, i++;
    else if (list == L_OUT && argc > 0 && strcasecmp(argv[0], "onsuccess") == 0)
        i++;
    if (argc - i > 5)
        return rl_arena_printf(p->arena, "%s has too many arguments", p->cmd->name);
    for (int k = 0; i < argc; i++, k++)
        w[k] = argv[i];
    entry_t *e = rl_arena_calloc(p->arena, sizeof(*e));
    const char *err = parse_entry(p, e, list, w[0], w[1], w[2], w[3], w[4]);
    if (err)
        return err;
    entry_t **t = &d->list[list];
    while (*t)
        t = &(*t)->next;
    *t = e;
    return NULL;
}

/* ---- values ---- */

/* CR and LF in an environment value become spaces (a value cannot break
 * the head). */
static const char *unwrap(rl_request_t *r, const char *v)
{
    if (strpbrk(v, "\r\n") == NULL)
        return v;
    char *c = rl_arena_strdup(r->arena, v);
    for (char *x = c; *x; x++)
        if (*x == '\r' || *x == '\n')
            *x = ' ';
    return c;
}

static const char *tag_value(rl_request_t *r, const tag_t *t)
{
    struct timespec now;
    double load[3];
    switch (t->kind) {
    case 0:
        return t->arg;
    case 't':
        return rl_arena_printf(r->arena, "t=%lld", (long long)r->start.tv_sec * 1000000 +
                               r->start.tv_nsec / 1000);
    case 'D':
        clock_gettime(CLOCK_REALTIME, &now);
        return rl_arena_printf(r->arena, "D=%lld",
                               (long long)(now.tv_sec - r->start.tv_sec) * 1000000 +
                               (now.tv_nsec - r->start.tv_nsec) / 1000);
    case 'e': {
        const char *v = rl_hdrs_get(&r->env, t->arg);
        return v ? unwrap(r, v) : "(null)";
    }
    case 'l':
        if (getloadavg(load, 3) != 3)
            load[0] = load[1] = load[2] = 0;
        return rl_arena_printf(r->arena, "l=%.2f/%.2f/%.2f", load[0], load[1], load[2]);
    case 'i':
        return "i=100";        /* an event loop has no idle threads to count */
    case 'b':
        return "b=0";
    default:
        return "(null)";       /* %{VAR}s: no TLS in relais */
    }
}

static const char *entry_value(rl_request_t *r, const entry_t *e)
{
    if (e->value_expr) {
        rl_expr_env_t env = { .var = rl_req_var, .ctx = r, .arena = r->arena };
        const char *v = rl_expr_eval_string(e->value_expr, &env);
        if (v == NULL) {
            rl_req_log(r, RL_LOG_ERR, "headers", "AH02557: Can't evaluate value expression: %s",
                       env.error ? env.error : "unknown error");
            return "";
        }
        return v;
    }
    if (e->tags && e->tags->next == NULL && e->tags->kind == 0)
        return e->tags->arg;
    rl_buf_t b = RL_BUF_INIT;
    for (const tag_t *t = e->tags; t; t = t->next)
        rl_buf_append_c(&b, tag_value(r, t));
    const char *v = rl_arena_strndup(r->arena, b.data ? b.data : "", b.len);
    rl_buf_release(&b);
    return v;
}

/* Apache's ap_pregsub(): $0-$9 are the match's groups; a backslash makes
 * the next character literal. */
static void regsub(rl_buf_t *b, const char *repl, const char *subject, const PCRE2_SIZE *ov,
                   int n)
{
    for (const char *s = repl; *s; s++) {
        int g = -1;
        if (*s == '$' && s[1] >= '0' && s[1] <= '9')
            g = *++s - '0';
        else if (*s == '\\' && s[1])
            s++;
        if (g < 0)
            rl_buf_append(b, s, 1);
        else if (g < n && ov[2 * g] != PCRE2_UNSET)
            rl_buf_append(b, subject + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
    }
}

/* edit: the first match of the regex replaced; edit*: every match. */
static const char *edit_value(rl_request_t *r, const entry_t *e, const char *value)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(e->re, NULL);
    const char *repl = NULL;
    rl_buf_t b = RL_BUF_INIT;
    size_t len = strlen(value), at = 0;
    bool matched = false;
    while (at <= len) {
        int n = pcre2_match(e->re, (PCRE2_SPTR)value, len, at, 0, md, NULL);
        if (n < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (repl == NULL)
            repl = entry_value(r, e);
        rl_buf_append(&b, value + at, ov[0] - at);
        regsub(&b, repl, value, ov, n);
        matched = true;
        at = ov[1];
        if (e->action == H_EDIT)
            break;
        if (ov[1] == ov[0]) {             /* an empty match: step over one byte */
            if (at < len)
                rl_buf_append(&b, value + at, 1);
            at++;
        }
    }
    if (matched && at < len)
        rl_buf_append(&b, value + at, len - at);
    pcre2_match_data_free(md);
    const char *out = matched ? rl_arena_strndup(r->arena, b.data ? b.data : "", b.len) : value;
    rl_buf_release(&b);
    return out;
}

/* ---- the actions ---- */

/* Fields the connection writes itself: mod_headers leaves them alone. */
static bool connection_field(const char *name)
{
    static const char *own[] = { "Date", "Server", "Content-Length", "Transfer-Encoding",
                                 "Connection", "Keep-Alive" };
    for (size_t i = 0; i < RL_NELEMS(own); i++)
        if (strcasecmp(name, own[i]) == 0)
            return true;
    return false;
}

static rl_hdr_t *first(rl_hdrs_t *h, const char *name)
{
    for (rl_hdr_t *x = h->head; x; x = x->next)
        if (x->value && x->name != handler_mark && strcasecmp(x->name, name) == 0)
            return x;
    return NULL;
}

/* merge: is <v> already one of the comma-separated tokens of <list>
 * (quoted strings kept whole)? */
static bool has_token(const char *list, const char *v)
{
    size_t vl = strlen(v);
    const char *s = list;
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        const char *start = s;
        while (*s && *s != ',') {
            if (*s++ == '"')
                while (*s && *s++ != '"')
                    ;
        }
        if ((size_t)(s - start) == vl && strncmp(start, v, vl) == 0)
            return true;
        if (*s)
            s++;
    }
    return false;
}

static void echo(rl_request_t *r, const entry_t *e, rl_hdrs_t *h)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    for (unsigned i = 0; i < r->nheaders; i++) {
        const rl_http_header_t *in = &r->headers[i];
        if (pcre2_match(e->re, (PCRE2_SPTR)in->name.p, in->name.len, 0, 0, md, NULL) >= 0 &&
            !connection_field(in->name.p))
            rl_hdrs_add(r->arena, h, in->name.p, in->value.p);
    }
    pcre2_match_data_free(md);
}

/* Runs <e> on the list <h>; <resp>: a response list (Content-Type is
 * r->content_type, the connection's own fields are out of reach). */
static void run_entry(rl_request_t *r, const entry_t *e, rl_hdrs_t *h, bool resp)
{
    rl_hdr_t *x;
    bool ctype = resp && strcasecmp(e->header, "Content-Type") == 0;
    if (resp && connection_field(e->header) && e->action != H_ECHO && e->action != H_NOTE)
        return;
    switch (e->action) {
    case H_ADD:
        rl_hdrs_add(r->arena, h, e->header, entry_value(r, e));
        break;
    case H_SETIFEMPTY:
        if (ctype ? r->content_type != NULL : first(h, e->header) != NULL)
            break;
        /* fall through */
    case H_SET:
        if (ctype)
            r->content_type = entry_value(r, e);
        else
            rl_hdrs_set(r->arena, h, e->header, entry_value(r, e));
        break;
    case H_APPEND:
    case H_MERGE: {
        const char *v = entry_value(r, e);
        if ((x = first(h, e->header)) == NULL)
            rl_hdrs_add(r->arena, h, e->header, v);
        else if (e->action == H_APPEND || !has_token(x->value, v))
            x->value = rl_arena_printf(r->arena, "%s, %s", x->value, v);
        break;
    }
    case H_UNSET:
        rl_hdrs_unset(h, e->header);
        break;
    case H_ECHO:
        echo(r, e, h);
        break;
    case H_EDIT:
    case H_EDIT_ALL:
        if (ctype && r->content_type)
            r->content_type = edit_value(r, e, r->content_type);
        for (x = h->head; x; x = x->next)
            if (x->value && x->name != handler_mark && strcasecmp(x->name, e->header) == 0)
                x->value = edit_value(r, e, x->value);
        break;
    case H_NOTE:
        if ((x = first(h, e->header)) != NULL)
            rl_hdrs_set(r->arena, &r->notes, entry_value(r, e), x->value);
        break;
    }
}

/* Apache's do_headers_fixup(): the entries of <e> whose condition holds,
 * the "early" ones only when <early>. */
static void run_list(rl_request_t *r, const entry_t *e, rl_hdrs_t *h, bool resp, bool early)
{
    for (; e; e = e->next) {
        if (e->early != early)
            continue;
        if (e->cond) {
            /* an expression that fails is logged and ignored (the entry runs) */
            if (rl_req_expr(r, e->cond) == 0)
                continue;
        } else if (e->env) {
            bool neg = e->env[0] == '!';
            if ((rl_hdrs_get(&r->env, e->env + neg) != NULL) == neg)
                continue;
        }
        run_entry(r, e, h, resp);
    }
}

/* ---- request headers ---- */

/* RequestHeader works on a list copy of the request's header array, which
 * is then rebuilt (in the request's arena: values NUL-terminated, as the
 * connection leaves them). */
static void request_headers(rl_request_t *r, const entry_t *list, bool early)
{
    rl_hdrs_t h = { 0 };
    unsigned n = 0;
    for (unsigned i = 0; i < r->nheaders; i++)
        rl_hdrs_add(r->arena, &h, r->headers[i].name.p, r->headers[i].value.p);
    run_list(r, list, &h, false, early);
    for (rl_hdr_t *x = h.head; x; x = x->next)
        n++;
    rl_http_header_t *a = rl_arena_alloc(r->arena, sizeof(*a) * (n ? n : 1));
    n = 0;
    for (rl_hdr_t *x = h.head; x; x = x->next, n++) {
        a[n].name = rl_str_c(x->name);
        a[n].value = rl_str_c(x->value);
    }
    r->headers = a;
    r->nheaders = n;
}

/* ---- hooks ---- */

static headers_dir_t *dir_conf(rl_request_t *r)
{
    return r->dir ? RL_DIR_CONF(r->dir, rl_headers_module) : NULL;
}

static bool any_early(const entry_t *e)
{
    for (; e; e = e->next)
        if (e->early)
            return true;
    return false;
}

/* "early": the server's (or vhost's) entries, before anything else. */
static int post_read(rl_request_t *r)
{
    headers_dir_t *d = dir_conf(r);
    if (d == NULL)
        return RL_DECLINED;
    if (any_early(d->list[L_IN]))
        request_headers(r, d->list[L_IN], true);
    run_list(r, d->list[L_ERR], &r->err_out, true, true);
    run_list(r, d->list[L_OUT], &r->out, true, true);
    return RL_DECLINED;
}

static int fixups(rl_request_t *r)
{
    headers_dir_t *d = dir_conf(r);
    if (d == NULL)
        return RL_DECLINED;
    if (d->list[L_IN])
        request_headers(r, d->list[L_IN], false);
    if (!d->list[L_OUT] && !d->list[L_ERR])
        return RL_DECLINED;
    for (rl_hdr_t *x = r->out.head; x; x = x->next)
        if (x->name == handler_mark)
            return RL_DECLINED;
    rl_hdrs_add(r->arena, &r->out, handler_mark, NULL);
    return RL_DECLINED;
}

/* Was the response made by a handler (the mark is still in r->out)? The
 * mark goes either way. */
static bool take_mark(rl_request_t *r)
{
    bool found = false;
    rl_hdr_t **p = &r->out.head, *last = NULL;
    while (*p) {
        if ((*p)->name == handler_mark) {
            *p = (*p)->next;
            found = true;
            continue;
        }
        last = *p;
        p = &(*p)->next;
    }
    r->out.tail = last;
    return found;
}

void rl_headers_before_head(rl_request_t *r)
{
    /* "OPTIONS *" and TRACE's echo: Apache answers them before any of this */
    if (r->dir == NULL || r->asterisk || (r->method_id == RL_M_TRACE && r->status == 200))
        return;
    rl_expires_apply(r, rl_loop_time(rl_req_loop(r)));
    bool handler = take_mark(r);
    headers_dir_t *d = dir_conf(r);
    if (d == NULL || (!d->list[L_OUT] && !d->list[L_ERR]))
        return;
    if (handler) {
        run_list(r, d->list[L_ERR], &r->err_out, true, false);
        run_list(r, d->list[L_OUT], &r->out, true, false);
        return;
    }
    rl_hdrs_t fresh = { 0 };
    run_list(r, d->list[L_ERR], &fresh, true, false);
    for (rl_hdr_t *x = fresh.head; x; x = x->next)
        rl_hdrs_add(r->arena, &r->err_out, x->name, x->value);
}

static const rl_cmd_t headers_cmds[] = {
    { "Header", set_header, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO, RL_ARGS_RAW,
      "an optional condition, an action, header and value followed by optional env clause" },
    { "RequestHeader", set_header, 1, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_RAW, "an action, header and value followed by optional env clause" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_headers_module = {
    .name = "headers",
    .cmds = headers_cmds,
    .create_dir = create_dir,
    .merge_dir = merge_dir,
    .post_read = post_read,
    .fixups = fixups,
};
