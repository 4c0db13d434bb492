/* mod_access_compat: Apache 2.2's host-based access control, which 2.4
 * keeps for old configurations and applications' .htaccess files
 * (WordPress, DokuWiki, phpMyAdmin...):
 *
 *   Order Deny,Allow | Allow,Deny | Mutual-failure
 *   Allow from all | IP | partial IP | IP/bits | IP/mask | host | env=[!]VAR ...
 *   Deny from ...
 *   Satisfy All | Any
 *
 * Evaluated in the access phase, before mod_authz_core's Require. With
 * "Satisfy All" (the default) both must let the client in; with "Satisfy
 * Any" either: a client the Allow/Deny rules admit skips Require, one they
 * refuse is left to Require (RL_NOTE_SATISFY_ANY_PASSED tells mod_authz_core).
 *
 * As in Apache, the module has no merge function: the nearest section that
 * uses any of its directives replaces everything inherited (an inner
 * section with only "Satisfy Any" starts again from "Order Deny,Allow" and
 * no rules). Inside <Limit>/<LimitExcept>, each directive counts only for
 * those methods.
 *
 * Host names match the client's name in /etc/hosts only (Apache would ask
 * DNS, twice): relais does not block its event loop on resolvers. */
#include <arpa/inet.h>
#include <stdio.h>
#include "httpd/config.h"
#include "httpd/conn.h"
#include "httpd/request.h"
#include "httpd/mod/core.h"

#define HOSTS_FILE "/etc/hosts"
#define NMETHODS 64            /* one slot per rl_core_method_bit() bit */

typedef enum { ORDER_DENY_ALLOW, ORDER_ALLOW_DENY, ORDER_MUTUAL_FAILURE } order_t;
typedef enum { SATISFY_NOSPEC, SATISFY_ALL, SATISFY_ANY } satisfy_t;
typedef enum { FROM_ENV, FROM_NOT_ENV, FROM_ALL, FROM_IP, FROM_HOST } from_t;

/* An address and the first name /etc/hosts gives it. */
typedef struct host_s {
    char ip[INET6_ADDRSTRLEN];
    const char *name;
    struct host_s *next;
} host_t;

typedef struct rule_s {
    from_t kind;
    uint64_t limited;          /* the methods it counts for */
    const char *name;          /* env variable or host (domain) name */
    rl_ip_pattern_t ip;
    const host_t *hosts;       /* FROM_HOST: /etc/hosts as read with the configuration */
    struct rule_s *next;
} rule_t;

typedef struct {
    bool used;                 /* a directive of this module appears in this section */
    uint8_t order[NMETHODS];
    uint8_t satisfy[NMETHODS];
    rule_t *allows, *denies;
} ac_dir_t;

extern rl_module_t rl_access_compat_module;

static void *create_dir(rl_arena_t *a)
{
    ac_dir_t *d = rl_arena_calloc(a, sizeof(*d));
    /* calloc: ORDER_DENY_ALLOW and SATISFY_NOSPEC for every method */
    return d;
}

/* Apache's module has no merger: the nearer configuration wins whole. */
static void *merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    (void)a;
    ac_dir_t *add = addv;
    return add->used ? add : basev;
}

/* Sets <slots> to <v> for every method of the <Limit> being read. */
static void set_limited(uint8_t *slots, uint8_t v)
{
    uint64_t limited = rl_core_limited();
    for (unsigned i = 0; i < NMETHODS; i++)
        if (limited & (UINT64_C(1) << i))
            slots[i] = v;
}

static const char *set_order(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)p; (void)argc;
    ac_dir_t *d = conf;
    order_t o;
    if (strcasecmp(argv[0], "allow,deny") == 0)
        o = ORDER_ALLOW_DENY;
    else if (strcasecmp(argv[0], "deny,allow") == 0)
        o = ORDER_DENY_ALLOW;
    else if (strcasecmp(argv[0], "mutual-failure") == 0)
        o = ORDER_MUTUAL_FAILURE;
    else
        return "unknown order";
    d->used = true;
    set_limited(d->order, (uint8_t)o);
    return NULL;
}

static const char *set_satisfy(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)p; (void)argc;
    ac_dir_t *d = conf;
    satisfy_t v;
    if (strcasecmp(argv[0], "all") == 0)
        v = SATISFY_ALL;
    else if (strcasecmp(argv[0], "any") == 0)
        v = SATISFY_ANY;
    else
        return "Satisfy either 'any' or 'all'.";
    d->used = true;
    set_limited(d->satisfy, (uint8_t)v);
    return NULL;
}

/* /etc/hosts as address -> first name, read into <a>; NULL when unreadable. */
static const host_t *read_hosts(rl_arena_t *a)
{
    FILE *f = fopen(HOSTS_FILE, "re");
    if (f == NULL)
        return NULL;
    host_t *head = NULL, **tail = &head;
    char line[1024];
    while (fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *save, *ip = strtok_r(line, " \t\r\n", &save);
        char *name = ip ? strtok_r(NULL, " \t\r\n", &save) : NULL;
        unsigned char bin[16];
        int af = ip && strchr(ip, ':') ? AF_INET6 : AF_INET;
        if (name == NULL || inet_pton(af, ip, bin) != 1)
            continue;
        host_t *h = rl_arena_calloc(a, sizeof(*h));
        inet_ntop(af, bin, h->ip, sizeof(h->ip));   /* canonical text, as the peer's */
        h->name = rl_arena_strdup(a, name);
        *tail = h;
        tail = &h->next;
    }
    fclose(f);
    return head;
}

/* Parses "all", "env=[!]VAR", an IP pattern or a host name into <x>, with
 * APR's messages for what looks like an address but is not one. */
static const char *parse_from(rl_cmd_parms_t *p, const char *where, rule_t *x)
{
    if (strncasecmp(where, "env=!", 5) == 0) {
        x->kind = FROM_NOT_ENV;
        x->name = rl_arena_strdup(p->arena, where + 5);
        return NULL;
    }
    if (strncasecmp(where, "env=", 4) == 0) {
        x->kind = FROM_ENV;
        x->name = rl_arena_strdup(p->arena, where + 4);
        return NULL;
    }
    if (strcasecmp(where, "all") == 0) {
        x->kind = FROM_ALL;
        return NULL;
    }
    const char *slash = strchr(where, '/');
    x->kind = FROM_IP;
    if (slash) {
        /* with a mask, the address must be a whole one */
        char ip[64];
        unsigned char bin[16];
        size_t n = (size_t)(slash - where);
        rl_ip_pattern_t probe;
        snprintf(ip, sizeof(ip), "%.*s", (int)n, where);
        if (n >= sizeof(ip) || rl_ip_pattern_parse(ip, &probe) == RL_DECLINED)
            return "An IP address was expected";
        if (inet_pton(strchr(ip, ':') ? AF_INET6 : AF_INET, ip, bin) != 1 ||
            rl_ip_pattern_parse(ip, &probe) != RL_OK)
            return "The specified IP address is invalid.";
        if (rl_ip_pattern_parse(where, &x->ip) != RL_OK)
            return "The specified network mask is invalid.";
        return NULL;
    }
    switch (rl_ip_pattern_parse(where, &x->ip)) {
    case RL_OK:
        return NULL;
    case RL_DECLINED:
        x->kind = FROM_HOST;
        x->name = rl_arena_strdup(p->arena, where);
        x->hosts = read_hosts(p->arena);
        return NULL;
    default:
        return "The specified IP address is invalid.";
    }
}

/* "Allow from a b c": the engine calls this once per word after "from". */
static const char *set_allow_deny(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    ac_dir_t *d = conf;
    if (strcasecmp(argv[0], "from") != 0)
        return "allow and deny must be followed by 'from'";
    rule_t *x = rl_arena_calloc(p->arena, sizeof(*x));
    x->limited = rl_core_limited();
    const char *err = parse_from(p, argv[1], x);
    if (err)
        return err;
    d->used = true;
    rule_t **t = p->cmd->data ? &d->allows : &d->denies;
    while (*t)
        t = &(*t)->next;
    *t = x;
    return NULL;
}

/* Apache's in_domain(): <name> is <domain> or ends with ".<domain>" (or
 * with <domain> when it starts with a dot). */
static bool in_domain(const char *domain, const char *name)
{
    size_t dl = strlen(domain), nl = strlen(name);
    if (nl < dl || strcasecmp(domain, name + nl - dl) != 0)
        return false;
    return nl == dl || domain[0] == '.' || name[nl - dl - 1] == '.';
}

static const char *host_name(const rule_t *x, const char *ip)
{
    for (const host_t *h = x->hosts; h; h = h->next)
        if (strcmp(h->ip, ip) == 0)
            return h->name;
    return NULL;
}

/* Does a rule of <list> for the request's method match? */
static bool find_rule(rl_request_t *r, const rule_t *list, uint64_t method)
{
    for (const rule_t *x = list; x; x = x->next) {
        if (!(x->limited & method))
            continue;
        switch (x->kind) {
        case FROM_ALL:
            return true;
        case FROM_ENV:
            if (rl_hdrs_get(&r->env, x->name))
                return true;
            break;
        case FROM_NOT_ENV:
            if (!rl_hdrs_get(&r->env, x->name))
                return true;
            break;
        case FROM_IP:
            if (rl_ip_pattern_match(&x->ip, rl_req_peer(r)))
                return true;
            break;
        case FROM_HOST: {
            const char *name = host_name(x, rl_conn_peer_ip(r->conn));
            if (name && in_domain(x->name, name))
                return true;
            break;
        }
        }
    }
    return false;
}

static bool allowed(rl_request_t *r, const ac_dir_t *a, uint64_t method, unsigned m)
{
    switch (a->order[m]) {
    case ORDER_ALLOW_DENY:
        return find_rule(r, a->allows, method) && !find_rule(r, a->denies, method);
    case ORDER_DENY_ALLOW:
        return !find_rule(r, a->denies, method) || find_rule(r, a->allows, method);
    default:
        return find_rule(r, a->allows, method) && !find_rule(r, a->denies, method);
    }
}

static int access_checker(rl_request_t *r)
{
    ac_dir_t *a = RL_DIR_CONF(r->dir, rl_access_compat_module);
    rl_hdrs_unset(&r->notes, RL_NOTE_SATISFY_ANY_PASSED);   /* a fast redirect's */
    if (a == NULL || !a->used)
        return RL_DECLINED;
    uint64_t method = rl_core_method_bit(r);
    unsigned m = (unsigned)__builtin_ctzll(method);
    bool any = a->satisfy[m] == SATISFY_ANY;
    if (allowed(r, a, method, m)) {
        if (any)
            rl_hdrs_set(r->arena, &r->notes, RL_NOTE_SATISFY_ANY_PASSED, "1");
        return RL_DECLINED;
    }
    rl_req_log(r, RL_LOG_ERR, "access_compat", "AH01797: client denied by server "
               "configuration: %s%s", r->filename ? "" : "uri ",
               r->filename ? r->filename : r->uri);
    return any ? RL_DECLINED : 403;    /* Satisfy Any: Require decides */
}

static const rl_cmd_t access_compat_cmds[] = {
    { "order", set_order, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_LIMIT, RL_ARGS_TAKE1,
      "'allow,deny', 'deny,allow', or 'mutual-failure'" },
    { "allow", set_allow_deny, 1, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_LIMIT, RL_ARGS_ITERATE2,
      "'from' followed by hostnames or IP-address wildcards" },
    { "deny", set_allow_deny, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_LIMIT, RL_ARGS_ITERATE2,
      "'from' followed by hostnames or IP-address wildcards" },
    { "Satisfy", set_satisfy, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_AUTHCFG, RL_ARGS_TAKE1,
      "access policy if both allow and require used ('all' or 'any')" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_access_compat_module = {
    .name = "access_compat",
    .cmds = access_compat_cmds,
    .create_dir = create_dir,
    .merge_dir = merge_dir,
    .access = access_checker,
};
