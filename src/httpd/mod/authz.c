/* mod_authz_core and mod_authz_host: Require with the all, ip, local, env,
 * method and host providers, "not", and <RequireAll>/<RequireAny>/
 * <RequireNone> containers, evaluated with Apache's three-valued logic.
 * Inside <Limit>/<LimitExcept> a Require counts only for those methods: for
 * the others it is granted within <RequireAll>, neutral elsewhere (Apache's
 * "directive limited to other methods"). */
#include <stdio.h>
#include "httpd/config.h"
#include "httpd/request.h"
#include "httpd/vars.h"
#include "httpd/mod/core.h"

typedef enum { AZ_DENIED, AZ_GRANTED, AZ_NEUTRAL } az_result_t;

typedef enum {
    AZ_ALL_GRANTED, AZ_ALL_DENIED, AZ_IP, AZ_LOCAL, AZ_ENV, AZ_METHOD, AZ_HOST, AZ_EXPR,
    AZ_ANY, AZ_ALL, AZ_NONE,
} az_kind_t;

typedef struct az_s {
    az_kind_t kind;
    bool negate;
    rl_ip_pattern_t *ips;
    unsigned nips;
    char **words;
    unsigned nwords;
    rl_expr_t *expr;
    uint64_t limited;          /* methods it counts for: rl_core_method_bit() bits;
                                * a container's is the union of its children's */
    struct az_s *children, *next;
    const char *file;
    int line;
} az_t;

typedef struct {
    az_t *root;                /* an AZ_ANY container, NULL: no Require here */
    az_t *cur;                 /* while reading: the open container */
    int merging;               /* RL_UNSET, 0 Off, 1 And, 2 Or */
} az_dir_t;

extern rl_module_t rl_authz_core_module;

static void *create_dir(rl_arena_t *a)
{
    az_dir_t *d = rl_arena_calloc(a, sizeof(*d));
    d->merging = RL_UNSET;
    return d;
}

/* AuthMerging Off: the nearer section's Require replaces the inherited. */
static void *merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    az_dir_t *base = basev, *add = addv, *m = rl_arena_calloc(a, sizeof(*m));
    m->merging = add->merging;
    if (add->root == NULL) {
        m->root = base->root;
    } else if (base->root == NULL || add->merging <= 0) {
        m->root = add->root;
    } else {
        az_t *c = rl_arena_calloc(a, sizeof(*c));
        az_t *b = rl_arena_alloc(a, sizeof(*b)), *n = rl_arena_alloc(a, sizeof(*n));
        *b = *base->root;
        *n = *add->root;
        b->next = n;
        n->next = NULL;
        c->kind = add->merging == 1 ? AZ_ALL : AZ_ANY;
        c->children = b;
        c->limited = b->limited | n->limited;
        m->root = c;
    }
    return m;
}

static az_t *container(az_dir_t *d, rl_arena_t *a)
{
    if (d->cur)
        return d->cur;
    if (d->root == NULL) {
        d->root = rl_arena_calloc(a, sizeof(*d->root));
        d->root->kind = AZ_ANY;
    }
    return d->root;
}

static void add_child(az_t *parent, az_t *c)
{
    parent->limited |= c->limited;
    az_t **t = &parent->children;
    while (*t)
        t = &(*t)->next;
    *t = c;
}

/* The expression of "Require [not] expr ...": the rest of the line as
 * written, without the quotes around it when it is one quoted word. */
static const char *expr_source(rl_cmd_parms_t *p, int argc, char **argv)
{
    if (argc < 2)
        return NULL;
    if (argc == 2)
        return argv[1];
    const char *raw = strcasestr(p->raw_args, "expr");
    return raw ? rl_arena_strdup(p->arena, raw + 4 + strspn(raw + 4, " \t")) : NULL;
}

static const char *parse_provider(rl_cmd_parms_t *p, az_t *z, int argc, char **argv)
{
    const char *name = argv[0];
    if (strcasecmp(name, "all") == 0) {
        if (argc != 2 || (strcasecmp(argv[1], "granted") && strcasecmp(argv[1], "denied")))
            return "'all' requires the argument 'granted' or 'denied'";
        z->kind = strcasecmp(argv[1], "granted") == 0 ? AZ_ALL_GRANTED : AZ_ALL_DENIED;
    } else if (strcasecmp(name, "ip") == 0) {
        if (argc < 2)
            return "'ip' requires at least one address";
        z->kind = AZ_IP;
        z->nips = (unsigned)argc - 1;
        z->ips = rl_arena_calloc(p->arena, sizeof(*z->ips) * z->nips);
        for (int i = 1; i < argc; i++)
            if (rl_ip_pattern_parse(argv[i], &z->ips[i - 1]) != RL_OK)
                return rl_arena_printf(p->arena, "ip address '%s' appears to be invalid", argv[i]);
    } else if (strcasecmp(name, "local") == 0) {
        z->kind = AZ_LOCAL;
    } else if (strcasecmp(name, "env") == 0 || strcasecmp(name, "method") == 0 ||
               strcasecmp(name, "host") == 0 || strcasecmp(name, "forward-dns") == 0) {
        if (argc < 2)
            return rl_arena_printf(p->arena, "'%s' requires at least one argument", name);
        z->kind = strcasecmp(name, "env") == 0 ? AZ_ENV
                : strcasecmp(name, "method") == 0 ? AZ_METHOD : AZ_HOST;
        z->nwords = (unsigned)argc - 1;
        z->words = rl_arena_alloc(p->arena, sizeof(char *) * z->nwords);
        for (int i = 1; i < argc; i++)
            z->words[i - 1] = rl_arena_strdup(p->arena, argv[i]);
    } else if (strcasecmp(name, "expr") == 0) {
        char err[512];
        const char *src = expr_source(p, argc, argv);
        if (src == NULL)
            return "'expr' requires an expression";
        z->kind = AZ_EXPR;
        z->expr = rl_expr_compile(p->arena, src, err, sizeof(err));
        if (z->expr == NULL)
            return rl_arena_printf(p->arena, "Cannot parse expression in require line: %s", err);
    } else if (strcasecmp(name, "user") == 0 ||
               strcasecmp(name, "valid-user") == 0 || strcasecmp(name, "group") == 0) {
        return rl_arena_printf(p->arena, "the '%s' authorization provider is not "
                               "implemented by relais yet", name);
    } else {
        return rl_arena_printf(p->arena, "Unknown Authz provider: %s", name);
    }
    return NULL;
}

static const char *set_require(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    az_dir_t *d = conf;
    az_t *z = rl_arena_calloc(p->arena, sizeof(*z));
    z->file = p->file;
    z->line = p->line;
    z->limited = rl_core_limited();
    if (strcasecmp(argv[0], "not") == 0) {
        z->negate = true;
        argv++;
        argc--;
        if (argc < 1)
            return "Require not requires a provider";
    }
    const char *err = parse_provider(p, z, argc, argv);
    if (err)
        return err;
    if (z->negate && (z->kind == AZ_ALL_GRANTED || z->kind == AZ_ALL_DENIED))
        return "'Require not all ...' is not supported: use 'Require all' with the opposite";
    /* Apache refuses what could never have an effect */
    if (z->negate && container(d, p->arena)->kind == AZ_ANY)
        return "negative Require directive has no effect in <RequireAny> directive";
    add_child(container(d, p->arena), z);
    return NULL;
}

static const char *set_section(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc; (void)argv;
    az_dir_t *d = conf;
    az_t *z = rl_arena_calloc(p->arena, sizeof(*z));
    z->kind = (az_kind_t)p->cmd->data;
    z->file = p->file;
    z->line = p->line;
    az_t *parent = container(d, p->arena);
    if (z->kind == AZ_NONE && parent->kind == AZ_ANY)
        return "<RequireNone> directive has no effect in <RequireAny> directive";
    az_t *saved = d->cur;
    d->cur = z;
    const char *err = rl_config_walk(RL_CMD_STATE(p), p->node);
    d->cur = saved;
    if (err)
        return err;
    if (z->children == NULL)
        return rl_arena_printf(p->arena, "%s> directive contains no authorization directives",
                               p->cmd->name);
    bool positive = false;
    for (const az_t *c = z->children; c; c = c->next)
        positive |= !c->negate && c->kind != AZ_NONE;
    if (!positive)
        return rl_arena_printf(p->arena, "AH01624: %s> directive contains only negative "
                               "authorization directives", p->cmd->name);
    add_child(parent, z);
    return NULL;
}

static const char *set_merging(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)p; (void)argc;
    az_dir_t *d = conf;
    if (strcasecmp(argv[0], "off") == 0) d->merging = 0;
    else if (strcasecmp(argv[0], "and") == 0) d->merging = 1;
    else if (strcasecmp(argv[0], "or") == 0) d->merging = 2;
    else return "Invalid argument to AuthMerging";
    return NULL;
}

static bool is_loopback(const rl_sockaddr_t *a)
{
    static rl_ip_pattern_t v4, v6;
    static bool init;
    if (!init) {
        rl_ip_pattern_parse("127.0.0.0/8", &v4);
        rl_ip_pattern_parse("::1", &v6);
        init = true;
    }
    return rl_ip_pattern_match(&v4, a) || rl_ip_pattern_match(&v6, a);
}

static az_result_t eval(rl_request_t *r, const az_t *z, uint64_t method, bool in_all);

static az_result_t eval_provider(rl_request_t *r, const az_t *z)
{
    const rl_sockaddr_t *peer = rl_req_peer(r);
    switch (z->kind) {
    case AZ_ALL_GRANTED: return AZ_GRANTED;
    case AZ_ALL_DENIED: return AZ_DENIED;
    case AZ_IP:
        for (unsigned i = 0; i < z->nips; i++)
            if (rl_ip_pattern_match(&z->ips[i], peer))
                return AZ_GRANTED;
        return AZ_DENIED;
    case AZ_LOCAL:
        return is_loopback(peer) || rl_sockaddr_ip_equal(peer, rl_req_local(r))
               ? AZ_GRANTED : AZ_DENIED;
    case AZ_ENV:
        for (unsigned i = 0; i < z->nwords; i++)
            if (rl_hdrs_get(&r->env, z->words[i]))
                return AZ_GRANTED;
        return AZ_DENIED;
    case AZ_METHOD:
        for (unsigned i = 0; i < z->nwords; i++)
            if (strcmp(z->words[i], r->method) == 0)
                return AZ_GRANTED;
        return AZ_DENIED;
    case AZ_HOST:
        return AZ_DENIED;   /* no reverse DNS in the event loop; see README */
    case AZ_EXPR:
        return rl_req_expr(r, z->expr) == 1 ? AZ_GRANTED : AZ_DENIED;
    default:
        return AZ_NEUTRAL;
    }
}

/* <method>: the request's rl_core_method_bit(); <in_all>: <z> sits in a
 * <RequireAll> (or is the top). */
static az_result_t eval(rl_request_t *r, const az_t *z, uint64_t method, bool in_all)
{
    if (!(z->limited & method))
        return in_all ? AZ_GRANTED : AZ_NEUTRAL;
    if (z->kind < AZ_ANY) {
        az_result_t v = eval_provider(r, z);
        if (z->negate)
            return v == AZ_GRANTED ? AZ_DENIED : AZ_NEUTRAL;
        return v;
    }
    bool any_denied = false, all_neutral = true;
    for (const az_t *c = z->children; c; c = c->next) {
        az_result_t v = eval(r, c, method, z->kind == AZ_ALL);
        if (z->kind == AZ_ALL && v == AZ_DENIED)
            return AZ_DENIED;
        if (z->kind != AZ_ALL && v == AZ_GRANTED) {
            if (z->kind == AZ_ANY)
                return AZ_GRANTED;
            return AZ_DENIED;       /* RequireNone: a match denies */
        }
        any_denied |= v == AZ_DENIED;
        all_neutral &= v == AZ_NEUTRAL;
    }
    if (z->kind == AZ_ALL)
        return all_neutral ? AZ_NEUTRAL : AZ_GRANTED;
    if (z->kind == AZ_NONE)
        return AZ_NEUTRAL;
    return any_denied ? AZ_DENIED : AZ_NEUTRAL;
}

static int access_checker(rl_request_t *r)
{
    az_dir_t *d = RL_DIR_CONF(r->dir, rl_authz_core_module);
    if (d == NULL || d->root == NULL)
        return RL_OK;
    /* "Satisfy Any" and mod_access_compat let the client in */
    if (rl_hdrs_get(&r->notes, RL_NOTE_SATISFY_ANY_PASSED))
        return RL_OK;
    if (eval(r, d->root, rl_core_method_bit(r), true) == AZ_GRANTED)
        return RL_OK;
    rl_req_log(r, RL_LOG_ERR, "authz_core", "AH01630: client denied by server configuration: %s",
               r->filename ? r->filename : r->uri);
    return 403;
}

#define SEC(n, k) { n, set_section, k, RL_CTX_DIR | RL_CTX_HTACCESS, RL_OVR_AUTHCFG, RL_ARGS_RAW, NULL }

static const rl_cmd_t authz_cmds[] = {
    { "Require", set_require, 0, RL_CTX_DIR | RL_CTX_HTACCESS, RL_OVR_AUTHCFG, RL_ARGS_1PLUS,
      "specifies authorization directives which one must pass (or not) for a request to suceeed" },
    SEC("<RequireAny", AZ_ANY), SEC("<RequireAll", AZ_ALL), SEC("<RequireNone", AZ_NONE),
    { "AuthMerging", set_merging, 0, RL_CTX_DIR | RL_CTX_HTACCESS, RL_OVR_AUTHCFG, RL_ARGS_TAKE1,
      "Controls how a <Directory>, <Location>, or similar directive's authorization "
      "directives are combined with those of its predecessor" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_authz_core_module = {
    .name = "authz_core",
    .cmds = authz_cmds,
    .create_dir = create_dir,
    .merge_dir = merge_dir,
    .access = access_checker,
};

/* mod_authz_host's providers live above; the module exists for
 * LoadModule and <IfModule>. */
rl_module_t rl_authz_host_module = { .name = "authz_host" };
