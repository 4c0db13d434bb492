/* mod_proxy's configuration, as the FastCGI handler (mod/proxy_fcgi.c)
 * uses it: the backends ("workers" in Apache's words) and their
 * parameters, ProxyPass/ProxyPassMatch, ProxyTimeout, and
 * mod_proxy_fcgi's own per-directory settings.
 *
 * How a request reaches a backend:
 *   SetHandler "proxy:unix:/run/php/x.sock|fcgi://localhost"
 *       r->handler is "proxy:" + the backend URL, r->filename the file;
 *   ProxyPass /app/ fcgi://127.0.0.1:9000/srv/app/
 *       the translate hook sets r->handler "proxy-server", r->filename
 *       "proxy:fcgi://127.0.0.1:9000/srv/app/<rest>" and the note
 *       "proxy-url" to the backend URL with the rest of the path
 *       ("unix:/x.sock|fcgi://localhost/srv/app/<rest>" for a socket). */
#ifndef RL_MOD_PROXY_H
#define RL_MOD_PROXY_H

#include "httpd/request.h"

typedef struct rl_proxy_worker_s {
    const char *name;           /* the URL as configured, e.g.
                                 * "unix:/run/php/x.sock|fcgi://localhost/" */
    const char *addr;           /* what to connect to, and the name logs use:
                                 * "unix:/run/php/x.sock" or "127.0.0.1:9000" */
    int64_t timeout_ms;         /* timeout=: RL_UNSET for ProxyTimeout, then Timeout */
    int64_t connect_timeout_ms; /* connectiontimeout=: RL_UNSET for the timeout */
    int reuse;                  /* enablereuse= / disablereuse=: RL_UNSET, 0, 1 */
    int flush;                  /* flushpackets=: 0 off, 1 on, 2 auto */
    int64_t flushwait_ms;       /* flushwait= (with flushpackets=auto) */
    int max;                    /* max=: connections per worker process, 0 unlimited */
    int64_t ttl_ms;             /* ttl=: idle connections closed after, RL_UNSET */
    bool implicit;              /* made for a SetHandler URL nobody configured */
    struct rl_proxy_worker_s *next;
} rl_proxy_worker_t;

/* The backend URL of <r> ("unix:/x.sock|fcgi://host/path" or
 * "fcgi://host:port/path"), from its handler or its "proxy-url" note;
 * NULL when <r> does not go to a FastCGI backend. */
const char *rl_proxy_url(const rl_request_t *r);

/* The worker serving backend URL <url>: the configured one (<Proxy>,
 * ProxyPass) whose name <url> starts with, else an implicit worker with
 * default parameters, made once per process and kept for its lifetime
 * (the pointer identifies the backend's connection pool). NULL when <url>
 * is not a FastCGI URL. */
rl_proxy_worker_t *rl_proxy_worker_for(rl_request_t *r, const char *url);

/* Defines the worker named <url> for server <s> (configuration time,
 * in the configuration's arena), or returns the one already defined with
 * that name; parameters start unset. NULL with <err> set when <url> is not
 * a FastCGI URL ("unix:/path|fcgi://host/..." or "fcgi://host[:port]/..."). */
rl_proxy_worker_t *rl_proxy_worker_define(rl_config_t *cf, rl_server_t *s, const char *url,
                                          const char **err);

/* The I/O timeout for <w>: timeout=, else ProxyTimeout, else Timeout. */
uint64_t rl_proxy_timeout(const rl_request_t *r, const rl_proxy_worker_t *w);
/* The connect timeout for <w>: connectiontimeout=, else the I/O timeout. */
uint64_t rl_proxy_connect_timeout(const rl_request_t *r, const rl_proxy_worker_t *w);

/* mod_proxy_fcgi's last word on the CGI environment in r->env before it is
 * sent: ProxyFCGIBackendType (SCRIPT_FILENAME of a ProxyPass'd request
 * keeps its "proxy:fcgi://host/" prefix for FPM, loses it for GENERIC)
 * and ProxyFCGISetEnvIf, in configuration order. */
void rl_proxy_fcgi_fixup_env(rl_request_t *r);

#endif
