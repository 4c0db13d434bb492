/* mod_proxy, the part FastCGI needs: backends ("workers") and their
 * parameters, ProxyTimeout. See proxy.h for how a request reaches a
 * backend. */
#include <stdlib.h>
#include "httpd/config.h"
#include "httpd/mod/proxy.h"

extern rl_module_t rl_proxy_module, rl_proxy_fcgi_module;

typedef struct {
    int64_t timeout_ms;           /* ProxyTimeout, RL_UNSET: Timeout */
    rl_proxy_worker_t *workers;   /* <Proxy>, ProxyPass: in order of definition */
} proxy_srv_t;

static void *proxy_create_srv(rl_arena_t *a)
{
    proxy_srv_t *s = rl_arena_calloc(a, sizeof(*s));
    s->timeout_ms = RL_UNSET;
    return s;
}

static void *proxy_merge_srv(rl_arena_t *a, void *basev, void *addv)
{
    proxy_srv_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    m->timeout_ms = add->timeout_ms != RL_UNSET ? add->timeout_ms : base->timeout_ms;
    m->workers = add->workers;   /* the main server's are searched after */
    return m;
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

/* ---- backends ---- */

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

/* "unix:/run/php/x.sock|fcgi://localhost/..." -> "unix:/run/php/x.sock";
 * "fcgi://127.0.0.1:9000/..." -> "127.0.0.1:9000" (Apache's default port
 * for fcgi is 8000). NULL: not a FastCGI URL. */
static const char *addr_of(rl_arena_t *a, const char *url)
{
    if (strncasecmp(url, "unix:", 5) == 0) {
        const char *bar = strchr(url, '|');
        if (bar == NULL || bar == url + 5 || strncasecmp(bar + 1, "fcgi://", 7) != 0)
            return NULL;
        return rl_arena_strndup(a, url, (size_t)(bar - url));
    }
    if (strncasecmp(url, "fcgi://", 7) != 0)
        return NULL;
    url += 7;
    size_t n = strcspn(url, "/?");
    if (n == 0)
        return NULL;
    const char *end = url + n;
    const char *colon = url[0] == '[' ? strstr(url, "]:") : memchr(url, ':', n);
    if (colon && colon < end)
        return rl_arena_strndup(a, url, n);
    return rl_arena_printf(a, "%.*s:8000", (int)n, url);
}

static void worker_init(rl_proxy_worker_t *w)
{
    w->timeout_ms = w->connect_timeout_ms = w->ttl_ms = w->flushwait_ms = RL_UNSET;
    w->reuse = RL_UNSET;
}

rl_proxy_worker_t *rl_proxy_worker_define(rl_config_t *cf, rl_server_t *s, const char *url,
                                          const char **err)
{
    proxy_srv_t *ps = RL_SRV_CONF(s, rl_proxy_module);
    const char *addr = addr_of(cf->arena, url);
    if (addr == NULL) {
        *err = rl_arena_printf(cf->arena, "'%s' is not a FastCGI URL "
                               "(unix:/path.sock|fcgi://host/ or fcgi://host:port/)", url);
        return NULL;
    }
    rl_proxy_worker_t **tail = &ps->workers;
    for (; *tail; tail = &(*tail)->next)
        if (strcasecmp((*tail)->name, url) == 0)
            return *tail;
    rl_proxy_worker_t *w = rl_arena_calloc(cf->arena, sizeof(*w));
    w->name = rl_arena_strdup(cf->arena, url);
    w->addr = addr;
    worker_init(w);
    *tail = w;
    return w;
}

/* Implicit workers live as long as the process: one per distinct URL
 * prefix (scheme, socket, host), found again by name. */
static rl_proxy_worker_t *implicit;

static rl_proxy_worker_t *implicit_worker(const char *url)
{
    const char *host = strstr(url, "://");
    size_t n = host ? (size_t)(host + 3 - url) + strcspn(host + 3, "/?") : strlen(url);
    for (rl_proxy_worker_t *w = implicit; w; w = w->next)
        if (strlen(w->name) == n && strncasecmp(w->name, url, n) == 0)
            return w;
    rl_arena_t *a = rl_arena_create(512);
    rl_proxy_worker_t *w = rl_arena_calloc(a, sizeof(*w));
    w->name = rl_arena_strndup(a, url, n);
    w->addr = addr_of(a, w->name);
    worker_init(w);
    w->implicit = true;
    w->next = implicit;
    implicit = w;
    return w;
}

rl_proxy_worker_t *rl_proxy_worker_for(rl_request_t *r, const char *url)
{
    if (url == NULL || addr_of(r->arena, url) == NULL)
        return NULL;
    /* the longest name that prefixes <url>: the vhost's, then the main server's */
    rl_server_t *servers[2] = { r->server, r->cf->main };
    for (int i = 0; i < 2; i++) {
        const proxy_srv_t *s = RL_SRV_CONF(servers[i], rl_proxy_module);
        rl_proxy_worker_t *best = NULL;
        size_t best_n = 0;
        for (rl_proxy_worker_t *w = s ? s->workers : NULL; w; w = w->next) {
            size_t n = strlen(w->name);
            while (n && w->name[n - 1] == '/')
                n--;
            if (n >= best_n && strncasecmp(url, w->name, n) == 0 &&
                (url[n] == '\0' || url[n] == '/' || w->name[n - 1] == '/')) {
                best = w;
                best_n = n;
            }
        }
        if (best)
            return best;
    }
    return implicit_worker(url);
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

void rl_proxy_fcgi_fixup_env(rl_request_t *r)
{
    (void)r;   /* ProxyFCGIBackendType, ProxyFCGISetEnvIf: next */
}

static const rl_cmd_t proxy_cmds[] = {
    { "ProxyTimeout", set_proxy_timeout, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE1,
      "Set the timeout (in seconds) for a proxied connection. This overrides the server timeout" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_proxy_module = {
    .name = "proxy",
    .cmds = proxy_cmds,
    .create_server = proxy_create_srv,
    .merge_server = proxy_merge_srv,
};
