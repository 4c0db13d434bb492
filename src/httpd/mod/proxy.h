/* mod_proxy's configuration, as the FastCGI handler (mod/proxy_fcgi.c)
 * uses it: the backends ("workers" in Apache's words) and their
 * parameters, ProxyPass/ProxyPassMatch, <Proxy>/<ProxyMatch>, ProxySet,
 * ProxyTimeout, and mod_proxy_fcgi's own per-directory settings
 * (ProxyFCGIBackendType, ProxyFCGISetEnvIf). relais proxies to FastCGI
 * only: any other scheme is refused when the configuration is read.
 *
 * How a request reaches a backend:
 *   SetHandler "proxy:unix:/run/php/x.sock|fcgi://localhost"
 *       r->handler is "proxy:" + the backend URL, r->filename the file;
 *   ProxyPass /app/ fcgi://127.0.0.1:9000/srv/app/
 *       the translate hook sets r->handler "proxy-server", r->filename
 *       "proxy:fcgi://127.0.0.1:9000/srv/app/<rest>" (as Apache's
 *       proxy_fcgi_canon writes it: host lowercased, no ":8000", the path
 *       %-encoded) and the note "proxy-url" to the backend URL with the
 *       rest of the path as it is ("unix:/x.sock|fcgi://localhost/srv/app/
 *       <rest>" for a socket). The first ProxyPass/ProxyPassMatch that
 *       matches wins, in configuration order (the main server's before a
 *       virtual host's); a ProxyPass in a <Location> is tried before them
 *       (the last <Location> that matches and has one). "ProxyPass /x !"
 *       stops the search: no proxying.
 *
 * Worker names (as Apache 2.4.71 names them): a worker is named by its
 * URL without the "unix:/path|" part, scheme and host lowercased, without
 * the default port 8000: <Proxy "unix:/run/php/x.sock|fcgi://localhost/">
 * defines the worker "fcgi://localhost/", which connects to x.sock. A
 * request finds the worker whose name is the longest prefix of its URL
 * (socket part removed, normalised the same way, with the file's path for
 * a SetHandler URL), at least "fcgi://host[:port]" long; a name with $1..$9
 * (ProxyPassMatch) matches any text there. So SetHandler "proxy:unix:/x.sock|
 * fcgi://localhost" gets the parameters of <Proxy "fcgi://localhost/">.
 * A worker defined with a socket connects to it whatever socket the
 * request's URL names (Apache's uds_path); one defined without connects
 * where the URL says: for that, a copy with the URL's address is made at
 * the first request and kept (implicit = true).
 *
 * <Proxy> sections: their per-directory settings (Require, SetEnv,
 * ProxyFCGI*...) apply to ProxyPass'd requests whose URL, socket part
 * removed and before any encoding, starts with the section's path (or
 * matches its wildcard, or <ProxyMatch>'s regex, whose named groups set
 * MATCH_<NAME>), merged before <Location> as in Apache; not to SetHandler
 * requests (Apache sets their handler after its walks, neither does
 * relais). Parameters on the opening line and ProxySet inside define the
 * section's worker. */
#ifndef RL_MOD_PROXY_H
#define RL_MOD_PROXY_H

#include "httpd/request.h"

typedef struct rl_proxy_worker_s {
    const char *name;           /* Apache's worker name, e.g. "fcgi://localhost/"
                                 * for "unix:/run/php/x.sock|fcgi://localhost/" */
    const char *addr;           /* what to connect to, and the name logs use:
                                 * "unix:/run/php/x.sock" or "127.0.0.1:9000" */
    int64_t timeout_ms;         /* timeout=: RL_UNSET for ProxyTimeout, then Timeout */
    int64_t connect_timeout_ms; /* connectiontimeout=: RL_UNSET for the timeout */
    int reuse;                  /* RL_UNSET (Apache's FastCGI default: a connection
                                 * per request), 1 for enablereuse=on or
                                 * disablereuse=off, 0 for the opposite */
    int flush;                  /* flushpackets=: RL_UNSET, 0 off, 1 on, 2 auto */
    int64_t flushwait_ms;       /* flushwait= (with flushpackets=auto); 0 gives 10 */
    int max;                    /* max=: connections per worker process, 0 unlimited */
    int64_t ttl_ms;             /* ttl=: idle connections closed after, RL_UNSET */
    bool implicit;              /* made at run time (see above), not configured */
    bool match;                 /* the name holds $N: a ProxyPassMatch worker */
    struct rl_proxy_worker_s *next;
} rl_proxy_worker_t;

/* The backend URL of <r> ("unix:/x.sock|fcgi://host/path" or
 * "fcgi://host:port/path"), from its handler or its "proxy-url" note;
 * NULL when <r> does not go to a FastCGI backend. */
const char *rl_proxy_url(const rl_request_t *r);

/* The worker serving backend URL <url> (normally rl_proxy_url(r)): the
 * configured one found as described above, else an implicit worker with
 * default parameters, made once per process and kept for its lifetime
 * (the pointer identifies the backend's connection pool). NULL when <url>
 * is not a FastCGI URL. */
rl_proxy_worker_t *rl_proxy_worker_for(rl_request_t *r, const char *url);

/* Defines the worker for <url> for server <s> (configuration time, in the
 * configuration's arena), or returns the one already defined with that
 * name; parameters start unset. NULL with <err> set when <url> is not a
 * FastCGI URL ("unix:/path|fcgi://host/..." or "fcgi://host[:port]/...");
 * the message is Apache's for a malformed URL ("URL must be absolute!:
 * x") or says that relais only proxies to FastCGI. */
rl_proxy_worker_t *rl_proxy_worker_define(rl_config_t *cf, rl_server_t *s, const char *url,
                                          const char **err);

/* The I/O timeout for <w>: timeout=, else ProxyTimeout, else Timeout. */
uint64_t rl_proxy_timeout(const rl_request_t *r, const rl_proxy_worker_t *w);
/* The connect timeout for <w>: connectiontimeout=, else the I/O timeout. */
uint64_t rl_proxy_connect_timeout(const rl_request_t *r, const rl_proxy_worker_t *w);

/* Apache's r->filename for the FastCGI URL <url> ("unix:/x|" allowed in
 * front): "proxy:fcgi://host[:port]/path" with the host lowercased, the
 * port only when it is not 8000, the path %-encoded as mod_proxy does for
 * a reverse proxy. What mod_proxy_fcgi (FPM style) sends as
 * SCRIPT_FILENAME: for SetHandler "proxy:URL", pass URL + r->filename.
 * In <a>; NULL when <url> is not a valid fcgi URL. */
const char *rl_proxy_fcgi_canon(rl_arena_t *a, const char *url);

/* For request.c's walk of a proxied request (r->filename "proxy:..."):
 * stores into <secs> (at most <max>) the <Proxy>/<ProxyMatch> sections
 * that apply, in configuration order, and sets the MATCH_<NAME> variables
 * of <ProxyMatch>'s named groups. Returns how many. */
unsigned rl_proxy_walk(rl_request_t *r, rl_section_t **secs, unsigned max);

/* mod_proxy_fcgi's last word on the CGI environment in r->env before it is
 * sent: ProxyFCGIBackendType (SCRIPT_FILENAME "proxy:fcgi://host/path"
 * stays so for FPM, the default, and becomes "/path", without a "?query"
 * equal to the query string, for GENERIC), then ProxyFCGISetEnvIf, in
 * configuration order. Variables keep their place when set again. */
void rl_proxy_fcgi_fixup_env(rl_request_t *r);

#endif
