/* mod_env (SetEnv, UnsetEnv, PassEnv) and mod_setenvif (SetEnvIf,
 * SetEnvIfNoCase, BrowserMatch, BrowserMatchNoCase): the request's
 * environment (Apache's subprocess_env), which reaches "Require env",
 * "CustomLog ... env=", %{ENV:x} and, later, the FastCGI parameters.
 *
 * As in Apache, SetEnvIf at server level runs as soon as the request is
 * read, in sections after the walks (before access checks); SetEnv runs in
 * the fixups, after access checks, so "Require env" does not see it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include "httpd/config.h"
#include "httpd/conn.h"
#include "httpd/request.h"

/* ---- mod_env ---- */

typedef struct env_op_s {
    const char *name;
    const char *value;         /* NULL: unset */
    struct env_op_s *next;
} env_op_t;

typedef struct {
    env_op_t *ops;             /* in order of the configuration */
} env_dir_t;

extern rl_module_t rl_env_module, rl_setenvif_module;

static void *env_create_dir(rl_arena_t *a) { return rl_arena_calloc(a, sizeof(env_dir_t)); }

/* The outer section's operations run first, the nearer ones after. */
static void *env_merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    env_dir_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    m->ops = base->ops && add->ops ? RL_LIST_CONCAT(a, base->ops, add->ops, env_op_t)
                                   : add->ops ? add->ops : base->ops;
    return m;
}

static const char *add_op(rl_cmd_parms_t *p, env_dir_t *d, const char *name, const char *value)
{
    env_op_t *x = rl_arena_calloc(p->arena, sizeof(*x));
    x->name = rl_arena_strdup(p->arena, name);
    x->value = value ? rl_arena_strdup(p->arena, value) : NULL;
    env_op_t **t = &d->ops;
    while (*t)
        t = &(*t)->next;
    *t = x;
    return NULL;
}

static const char *set_env(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    return add_op(p, conf, argv[0], argc == 2 ? argv[1] : "");
}

static const char *unset_env(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    return add_op(p, conf, argv[0], NULL);
}

static const char *pass_env(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    const char *v = getenv(argv[0]);
    if (v == NULL)
        return NULL;   /* Apache warns (AH01506) and goes on */
    return add_op(p, conf, argv[0], v);
}

static int env_fixups(rl_request_t *r)
{
    env_dir_t *d = RL_DIR_CONF(r->dir, rl_env_module);
    for (env_op_t *x = d ? d->ops : NULL; x; x = x->next) {
        if (x->value)
            rl_hdrs_set(r->arena, &r->env, x->name, x->value);
        else
            rl_hdrs_unset(&r->env, x->name);
    }
    return RL_DECLINED;
}

static const rl_cmd_t env_cmds[] = {
    { "SetEnv", set_env, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO, RL_ARGS_TAKE12,
      "an environment variable name and optional value to pass to CGI." },
    { "UnsetEnv", unset_env, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO, RL_ARGS_ITERATE,
      "a list of variables to remove from the CGI environment." },
    { "PassEnv", pass_env, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO, RL_ARGS_ITERATE,
      "a list of environment variables to pass to CGI." },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_env_module = {
    .name = "env",
    .cmds = env_cmds,
    .create_dir = env_create_dir,
    .merge_dir = env_merge_dir,
    .fixups = env_fixups,
};

/* ---- mod_setenvif ---- */

typedef enum {
    ATTR_HEADER, ATTR_HEADER_RE, ATTR_ENV, ATTR_REMOTE_HOST, ATTR_REMOTE_ADDR,
    ATTR_SERVER_ADDR, ATTR_METHOD, ATTR_PROTOCOL, ATTR_URI,
} attr_kind_t;

typedef struct sei_s {
    attr_kind_t kind;
    const char *name;          /* header or variable name */
    pcre2_code *name_re;       /* ATTR_HEADER_RE */
    pcre2_code *re;
    env_op_t *ops;             /* values may hold $0..$9 */
    struct sei_s *next;
} sei_t;

typedef struct {
    sei_t *rules;
} sei_conf_t;

static void *sei_create(rl_arena_t *a) { return rl_arena_calloc(a, sizeof(sei_conf_t)); }

static void *sei_merge(rl_arena_t *a, void *basev, void *addv)
{
    sei_conf_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    m->rules = base->rules && add->rules ? RL_LIST_CONCAT(a, base->rules, add->rules, sei_t)
                                         : add->rules ? add->rules : base->rules;
    return m;
}

static pcre2_code *compile(rl_cmd_parms_t *p, const char *re, bool icase)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, icase ? PCRE2_CASELESS : 0,
                                  &ec, &off, NULL);
    if (c)
        rl_arena_on_cleanup(p->arena, (rl_cleanup_cb)pcre2_code_free, c);
    return c;
}

static attr_kind_t attr_kind(const char *a)
{
    static const struct { const char *name; attr_kind_t kind; } special[] = {
        { "Remote_Host", ATTR_REMOTE_HOST }, { "Remote_Addr", ATTR_REMOTE_ADDR },
        { "Server_Addr", ATTR_SERVER_ADDR }, { "Request_Method", ATTR_METHOD },
        { "Request_Protocol", ATTR_PROTOCOL }, { "Request_URI", ATTR_URI },
    };
    for (size_t i = 0; i < RL_NELEMS(special); i++)
        if (strcasecmp(a, special[i].name) == 0)
            return special[i].kind;
    /* a name that is not a plain token is a regex over header names */
    for (const char *c = a; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_'))
            return ATTR_HEADER_RE;
    return ATTR_HEADER;
}

/* SetEnvIf attribute regex [!]var[=value] ...; data: 1 NoCase, 2 Browser,
 * 3 Browser NoCase. */
static const char *set_envif(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    bool browser = p->cmd->data >= 2, icase = p->cmd->data & 1;
    int first = browser ? 1 : 2;
    if (argc < first + 1)
        return rl_arena_printf(p->arena, "Missing %s in %s", argc < first ? "regular expression"
                               : "envariable name", p->cmd->name);
    sei_t *x = rl_arena_calloc(p->arena, sizeof(*x));
    const char *attr = browser ? "User-Agent" : argv[0];
    x->kind = attr_kind(attr);
    x->name = rl_arena_strdup(p->arena, attr);
    if (x->kind == ATTR_HEADER_RE && (x->name_re = compile(p, attr, true)) == NULL)
        return "Regular expression could not be compiled.";
    if ((x->re = compile(p, argv[first - 1], icase)) == NULL)
        return "Regular expression could not be compiled.";
    env_op_t **t = &x->ops;
    for (int i = first; i < argc; i++) {
        env_op_t *op = rl_arena_calloc(p->arena, sizeof(*op));
        const char *w = argv[i];
        const char *eq = strchr(w, '=');
        if (*w == '!') {
            op->name = rl_arena_strdup(p->arena, w + 1);
        } else {
            op->name = eq ? rl_arena_strndup(p->arena, w, (size_t)(eq - w)) : rl_arena_strdup(p->arena, w);
            op->value = eq ? rl_arena_strdup(p->arena, eq + 1) : "1";
        }
        *t = op;
        t = &op->next;
    }
    sei_conf_t *c = conf;
    sei_t **rt = &c->rules;
    while (*rt)
        rt = &(*rt)->next;
    *rt = x;
    return NULL;
}

static const char *attr_value(rl_request_t *r, const sei_t *x)
{
    switch (x->kind) {
    case ATTR_REMOTE_HOST:
    case ATTR_REMOTE_ADDR: return rl_conn_peer_ip(r->conn);
    case ATTR_SERVER_ADDR: return rl_conn_local_str(r->conn);
    case ATTR_METHOD: return r->method;
    case ATTR_PROTOCOL: return r->protocol;
    case ATTR_URI: return r->uri;
    case ATTR_HEADER: {
        const char *v = rl_req_header(r, x->name);
        /* not a header: an environment variable set earlier */
        return v ? v : rl_hdrs_get(&r->env, x->name);
    }
    default: return NULL;
    }
}

static void apply(rl_request_t *r, const sei_t *x, const char *subject, pcre2_match_data *md, int rc)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    for (const env_op_t *op = x->ops; op; op = op->next) {
        if (op->value == NULL) {
            rl_hdrs_unset(&r->env, op->name);
            continue;
        }
        rl_buf_t b = RL_BUF_INIT;
        for (const char *s = op->value; *s; s++) {
            if (*s == '$' && s[1] >= '0' && s[1] <= '9') {
                int n = *++s - '0';
                if (n < rc && ov[2 * n] != PCRE2_UNSET)
                    rl_buf_append(&b, subject + ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
            } else {
                rl_buf_append(&b, s, 1);
            }
        }
        rl_hdrs_set(r->arena, &r->env, op->name, rl_arena_strndup(r->arena, b.data ? b.data : "", b.len));
        rl_buf_release(&b);
    }
}

static bool try_match(rl_request_t *r, const sei_t *x, const char *subject)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(x->re, NULL);
    int rc = pcre2_match(x->re, (PCRE2_SPTR)subject, strlen(subject), 0, 0, md, NULL);
    if (rc > 0)
        apply(r, x, subject, md, rc);
    pcre2_match_data_free(md);
    return rc > 0;
}

static void run_rules(rl_request_t *r, const sei_conf_t *c)
{
    for (const sei_t *x = c ? c->rules : NULL; x; x = x->next) {
        if (x->kind != ATTR_HEADER_RE) {
            const char *v = attr_value(r, x);
            try_match(r, x, v ? v : "");
            continue;
        }
        for (unsigned i = 0; i < r->nheaders; i++) {
            const rl_http_header_t *h = &r->headers[i];
            pcre2_match_data *md = pcre2_match_data_create(1, NULL);
            int rc = pcre2_match(x->name_re, (PCRE2_SPTR)h->name.p, h->name.len, 0, 0, md, NULL);
            pcre2_match_data_free(md);
            if (rc > 0 && try_match(r, x, h->value.p))
                break;
        }
    }
}

static int sei_post_read(rl_request_t *r)
{
    run_rules(r, RL_SRV_CONF(r->server, rl_setenvif_module));
    return RL_DECLINED;
}

static int sei_header_parser(rl_request_t *r)
{
    run_rules(r, RL_DIR_CONF(r->dir, rl_setenvif_module));
    return RL_DECLINED;
}

/* Server-level rules go to the per-server list, section rules to the
 * per-directory one. */
static const char *set_envif_where(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    if (p->context == RL_CTX_SERVER || p->context == RL_CTX_VHOST)
        conf = rl_cmd_srvconf(p, &rl_setenvif_module);
    return set_envif(p, conf, argc, argv);
}

#define SEI(name, data, usage) \
    { name, set_envif_where, data, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO, RL_ARGS_1PLUS, usage }

static const rl_cmd_t sei_cmds[] = {
    SEI("SetEnvIf", 0, "A header-name, regex and a list of variables."),
    SEI("SetEnvIfNoCase", 1, "a header-name, regex and a list of variables."),
    SEI("BrowserMatch", 2, "A browser regex and a list of variables."),
    SEI("BrowserMatchNoCase", 3, "A browser regex and a list of variables."),
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_setenvif_module = {
    .name = "setenvif",
    .cmds = sei_cmds,
    .create_server = sei_create,
    .create_dir = sei_create,
    .merge_server = sei_merge,
    .merge_dir = sei_merge,
    .post_read = sei_post_read,
    .header_parser = sei_header_parser,
};
