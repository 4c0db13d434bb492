/* mod_fastcgi's external servers, the way PHP was run before
 * mod_proxy_fcgi:
 *     AddHandler php7-fcgi .php
 *     Action php7-fcgi /php7-fcgi
 *     Alias /php7-fcgi /usr/lib/cgi-bin/php7-fcgi
 *     FastCgiExternalServer /usr/lib/cgi-bin/php7-fcgi -socket /run/php/php7.0-fpm.sock
 * mod_actions turns /x.php into /php7-fcgi/x.php, the Alias maps that to
 * /usr/lib/cgi-bin/php7-fcgi/x.php, and a request whose file is (below) an
 * external server's filename goes to that server: filename the server's,
 * the rest PATH_INFO, the file need not exist. The CGI environment is
 * mod_fastcgi's: Apache's usual one (SCRIPT_FILENAME is the server's
 * filename) plus the -pass-header headers under their own names; with the
 * REDIRECT_URL of the Action, php-fpm runs PATH_TRANSLATED.
 *
 * relais starts no FastCGI application: the requests are handed to the
 * FastCGI runtime of mod_proxy_fcgi (r->handler "proxy:unix:...|fcgi://
 * localhost" or "proxy:fcgi://host:port", a worker defined per server with
 * -idle-timeout and -flush). Unlike mod_fastcgi, whose list is global, a
 * definition belongs to its server: a <VirtualHost> has its own, and the
 * main server's as well. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "httpd/config.h"
#include "httpd/request.h"
#include "httpd/mod/proxy.h"

#define DEFAULT_IPC_DIR "/var/lib/apache2/fastcgi"   /* Debian's fastcgi.conf */
#define DEFAULT_IDLE_TIMEOUT 30                       /* seconds, mod_fastcgi's */

typedef struct fcgi_server_s {
    const char *path;          /* the filename requests map to */
    size_t path_len;
    const char *handler;       /* "proxy:" + the backend URL */
    const char **pass;         /* -pass-header names */
    unsigned npass;
    struct fcgi_server_s *next;
} fcgi_server_t;

typedef struct {
    fcgi_server_t *servers;    /* this server's, then the main server's */
    const char *ipc_dir;       /* FastCgiIpcDir (main server only) */
    bool defined;              /* a server was defined (main server only) */
    unsigned nsockets;         /* socket servers so far (main server only) */
} fastcgi_srv_t;

/* What FastCgiExternalServer's options say, before the worker exists. */
typedef struct {
    const char *socket, *host;
    int64_t idle, conn_timeout;
    bool flush;
} fcgi_opts_t;

extern rl_module_t rl_fastcgi_module, rl_proxy_fcgi_module;

static void *create_srv(rl_arena_t *a) { return rl_arena_calloc(a, sizeof(fastcgi_srv_t)); }

static void *merge_srv(rl_arena_t *a, void *basev, void *addv)
{
    fastcgi_srv_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    *m = *add;
    m->servers = RL_LIST_CONCAT(a, add->servers, base->servers, fcgi_server_t);
    return m;
}

static fastcgi_srv_t *main_conf(rl_cmd_parms_t *p)
{
    return RL_SRV_CONF(RL_CMD_STATE(p)->cf->main, rl_fastcgi_module);
}

/* ---- FastCgiExternalServer ---- */

/* Apache's ap_no2slash, on an arena copy. */
static char *no2slash(rl_arena_t *a, const char *path)
{
    char *s = rl_arena_strdup(a, path), *d = s;
    for (const char *c = s; *c; c++)
        if (*c != '/' || d == s || d[-1] != '/')
            *d++ = *c;
    *d = '\0';
    return s;
}

static const char *invalid(rl_cmd_parms_t *p, const char *path, const char *opt, const char *err)
{
    return rl_arena_printf(p->arena, "%s %s: invalid value for %s: %s", p->cmd->name, path,
                           opt, err);
}

/* A whole number >= <min> for <opt>. NULL or the error. */
static const char *seconds(rl_cmd_parms_t *p, const char *path, const char *opt,
                           const char *v, int64_t min, int64_t *out)
{
    if (v == NULL)
        return invalid(p, path, opt, "\"\"");
    if (!rl_parse_int64(v, out) || *out > INT32_MAX)
        return invalid(p, path, opt, rl_arena_printf(p->arena, "\"%s\" must be a positive "
                                                     "integer", v));
    if (*out < min)
        return invalid(p, path, opt, rl_arena_printf(p->arena, "\"%s\" must be >= %lld", v,
                                                     (long long)min));
    return NULL;
}

/* -host host:port, as mod_fastcgi's get_host_n_port checks it. */
static const char *check_host(rl_cmd_parms_t *p, const char *path, const char *v)
{
    if (v == NULL || *v == '\0')
        return invalid(p, path, "-host", "\"\"");
    const char *colon = strrchr(v, ':');
    if (colon == NULL)
        return invalid(p, path, "-host", "missing port specification");
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        return invalid(p, path, "-host", rl_arena_printf(p->arena, "bad port number \"%s\"",
                                                         colon + 1));
    return NULL;
}

/* One option <opt> with its value <v> (NULL at the end of the line).
 * Sets *<takes> when <v> was its value. NULL or the error. */
static const char *parse_opt(rl_cmd_parms_t *p, const char *path, const char *opt,
                             const char *v, fcgi_server_t *x, fcgi_opts_t *o, bool *takes)
{
    *takes = strcasecmp(opt, "-flush") != 0 && strcasecmp(opt, "-nph") != 0;
    if (strcasecmp(opt, "-host") == 0) {
        o->host = v;
        return check_host(p, path, v);
    }
    if (strcasecmp(opt, "-idle-timeout") == 0)
        return seconds(p, path, opt, v, 1, &o->idle);
    if (strcasecmp(opt, "-appConnTimeout") == 0)
        return seconds(p, path, opt, v, 0, &o->conn_timeout);
    if (strcasecmp(opt, "-flush") == 0) {
        o->flush = true;
        return NULL;
    }
    if (strcasecmp(opt, "-nph") == 0)
        return NULL;           /* accepted: the response is read as CGI's */
    bool named = strcasecmp(opt, "-socket") == 0 || strcasecmp(opt, "-pass-header") == 0 ||
                 strcasecmp(opt, "-user") == 0 || strcasecmp(opt, "-group") == 0;
    if (!named)
        return rl_arena_printf(p->arena, "%s %s: invalid option: %s", p->cmd->name, path, opt);
    if (v == NULL || *v == '\0')
        return invalid(p, path, opt, "\"\"");
    if (strcasecmp(opt, "-socket") == 0)
        o->socket = v;
    else if (strcasecmp(opt, "-pass-header") == 0)
        x->pass[x->npass++] = rl_arena_strdup(p->arena, v);
    /* -user and -group are for suexec, which relais has not */
    return NULL;
}

/* Reads the options after the filename into <x> and <o>. NULL or the error. */
static const char *parse_opts(rl_cmd_parms_t *p, const char *path, int argc, char **argv,
                              fcgi_server_t *x, fcgi_opts_t *o)
{
    x->pass = rl_arena_alloc(p->arena, sizeof(char *) * (size_t)argc);
    for (int i = 1; i < argc; i++) {
        bool takes;
        const char *err = parse_opt(p, path, argv[i], i + 1 < argc ? argv[i + 1] : NULL,
                                    x, o, &takes);
        if (err)
            return err;
        i += takes;
    }
    if (o->socket && o->host)
        return rl_arena_printf(p->arena, "%s %s: -host and -socket are mutually exclusive "
                               "options", p->cmd->name, path);
    if (!o->socket && !o->host)
        return rl_arena_printf(p->arena, "%s %s: -socket or -host option missing",
                               p->cmd->name, path);
    return NULL;
}

/* The backend URL of <o>: a relative -socket is in FastCgiIpcDir. Each
 * socket gets a host name of its own, so that its worker is its own too
 * (Apache names workers without the socket part): "fcgi://localhost"
 * would also catch a SetHandler "proxy:unix:other.sock|fcgi://localhost". */
static const char *backend_url(rl_cmd_parms_t *p, const fcgi_opts_t *o)
{
    fastcgi_srv_t *m = main_conf(p);
    if (o->host)
        return rl_arena_printf(p->arena, "fcgi://%s", o->host);
    const char *dir = m->ipc_dir ? m->ipc_dir : DEFAULT_IPC_DIR;
    return rl_arena_printf(p->arena, "unix:%s%s%s|fcgi://fastcgi-%04u",
                           o->socket[0] == '/' ? "" : dir, o->socket[0] == '/' ? "" : "/",
                           o->socket, ++m->nsockets);
}

static const char *define_worker(rl_cmd_parms_t *p, const char *url, const fcgi_opts_t *o)
{
    rl_conf_state_t *st = RL_CMD_STATE(p);
    const char *err = NULL;
    rl_proxy_worker_t *w = rl_proxy_worker_define(st->cf, st->server, url, &err);
    if (w == NULL)
        return err;
    w->timeout_ms = (o->idle ? o->idle : DEFAULT_IDLE_TIMEOUT) * 1000;
    if (o->conn_timeout)       /* 0: mod_fastcgi's blocking connect */
        w->connect_timeout_ms = o->conn_timeout * 1000;
    if (o->flush)
        w->flush = 1;
    return NULL;
}

/* FastCgiExternalServer filename -socket path | -host host:port [option...] */
static const char *set_external(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    fastcgi_srv_t *s = conf;
    const char *path = no2slash(p->arena, rl_config_path(RL_CMD_STATE(p)->cf, argv[0]));
    for (const fcgi_server_t *x = s->servers; x; x = x->next)
        if (strcmp(x->path, path) == 0)
            return rl_arena_printf(p->arena, "%s: redefinition of previously defined class "
                                   "\"%s\"", p->cmd->name, path);
    fcgi_server_t *x = rl_arena_calloc(p->arena, sizeof(*x));
    fcgi_opts_t o = { 0 };
    const char *err = parse_opts(p, path, argc, argv, x, &o);
    if (err)
        return err;
    const char *url = backend_url(p, &o);
    if ((err = define_worker(p, url, &o)))
        return err;
    x->path = path;
    x->path_len = strlen(path);
    x->handler = rl_arena_printf(p->arena, "proxy:%s", url);
    x->next = s->servers;
    s->servers = x;
    main_conf(p)->defined = true;
    return NULL;
}

/* FastCgiIpcDir dir: where relative -socket paths are. */
static const char *set_ipc_dir(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    fastcgi_srv_t *s = conf;
    if (s->ipc_dir)
        return rl_arena_printf(p->arena, "%s %s: already defined as \"%s\"", p->cmd->name,
                               argv[0], s->ipc_dir);
    if (s->defined)
        return rl_arena_printf(p->arena, "The %s command must preceed static FastCGI server "
                               "definitions", p->cmd->name);
    s->ipc_dir = no2slash(p->arena, rl_config_path(RL_CMD_STATE(p)->cf, argv[0]));
    return NULL;
}

static const char *refuse_server(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc; (void)argv;
    return rl_arena_printf(p->arena, "%s: relais does not start FastCGI applications; run "
                           "them yourself (php-fpm) and use FastCgiExternalServer",
                           p->cmd->name);
}

static const char *refuse_auth(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc; (void)argv;
    return rl_arena_printf(p->arena, "%s (mod_fastcgi) is not implemented by relais: ignoring "
                           "it would let every request through", p->cmd->name);
}

/* ---- requests ---- */

/* The external server whose filename is <filename> or a directory above
 * it; *<rest> is what follows (Apache's fcgi_util_fs_get_by_id). */
static const fcgi_server_t *find_server(const fastcgi_srv_t *s, const char *filename,
                                        const char **rest)
{
    for (const fcgi_server_t *x = s->servers; filename && x; x = x->next) {
        if (strncmp(filename, x->path, x->path_len) == 0 &&
            (filename[x->path_len] == '\0' || filename[x->path_len] == '/')) {
            *rest = filename + x->path_len;
            return x;
        }
    }
    return NULL;
}

/* -pass-header: the header under its own name, made a valid environment
 * name as ap_create_environment does ("X-Foo" -> "X_Foo"). */
static void pass_headers(rl_request_t *r, const fcgi_server_t *x)
{
    for (unsigned i = 0; i < x->npass; i++) {
        const char *v = rl_req_header(r, x->pass[i]);
        if (v == NULL)
            continue;
        char *name = rl_arena_strdup(r->arena, x->pass[i]);
        for (char *c = name; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_') || (c == name && *c >= '0' && *c <= '9'))
                *c = '_';
        rl_hdrs_set(r->arena, &r->env, name, v);
    }
}

/* mod_fastcgi's fixup: a request for an external server's file gets its
 * handler. Apache's directory walk stops at the first component that does
 * not exist, so a filename that is not there is the server's and the rest
 * PATH_INFO; relais' walk keeps the whole name: split it here. */
static int fixups(rl_request_t *r)
{
    const char *rest = NULL;
    const fcgi_server_t *x = find_server(RL_SRV_CONF(r->server, rl_fastcgi_module),
                                         r->filename, &rest);
    if (x == NULL)
        return RL_DECLINED;
    struct stat st;
    if (*rest && stat(x->path, &st) != 0) {
        r->path_info = rl_arena_printf(r->arena, "%s%s", rest, r->path_info ? r->path_info : "");
        r->filename = x->path;
        r->finfo_ok = false;
    }
    r->handler = x->handler;
    rl_hdrs_set(r->arena, &r->notes, "fastcgi-server", x->path);
    pass_headers(r, x);
    return RL_OK;
}

/* Runs after mod_proxy_fcgi's handler: gets the external servers' requests
 * when that module is not loaded (the runtime is there all the same), and
 * refuses "fastcgi-script" files no external server serves: relais starts
 * no dynamic application, and the file must not go out as text. */
static int handler(rl_request_t *r)
{
    if (r->handler == NULL)
        return RL_DECLINED;
    if (rl_hdrs_get(&r->notes, "fastcgi-server") && strncmp(r->handler, "proxy:", 6) == 0 &&
        rl_proxy_fcgi_module.handler)
        return rl_proxy_fcgi_module.handler(r);
    if (strcmp(r->handler, "fastcgi-script") != 0)
        return RL_DECLINED;
    rl_req_log(r, RL_LOG_ERR, "fastcgi", "FastCGI: no FastCgiExternalServer for \"%s\" "
               "(relais starts no dynamic FastCGI application)", r->filename);
    return 500;
}

#define IGN(name) { name, rl_cmd_ignored_listed, 0, RL_CTX_RSRC, 0, RL_ARGS_RAW, NULL }
#define AUTH(name) { name, refuse_auth, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_AUTHCFG, RL_ARGS_RAW, NULL }

static const rl_cmd_t fastcgi_cmds[] = {
    { "FastCgiExternalServer", set_external, 0, RL_CTX_RSRC, 0, RL_ARGS_1PLUS,
      "a path and either a -socket or -host option" },
    { "FastCgiIpcDir", set_ipc_dir, 0, RL_CTX_SERVER, 0, RL_ARGS_TAKE1,
      "the directory of the FastCGI applications' sockets" },
    { "FastCgiServer", refuse_server, 0, RL_CTX_RSRC, 0, RL_ARGS_RAW, NULL },
    { "AppClass", refuse_server, 0, RL_CTX_RSRC, 0, RL_ARGS_RAW, NULL },
    /* only for the dynamic applications relais does not start */
    IGN("FastCgiConfig"), IGN("FCGIConfig"), IGN("FastCgiWrapper"), IGN("FastCgiSuexec"),
    AUTH("FastCgiAuthenticator"), AUTH("FastCgiAuthenticatorAuthoritative"),
    AUTH("FastCgiAuthorizer"), AUTH("FastCgiAuthorizerAuthoritative"),
    AUTH("FastCgiAccessChecker"), AUTH("FastCgiAccessCheckerAuthoritative"),
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_fastcgi_module = {
    .name = "fastcgi",
    .cmds = fastcgi_cmds,
    .create_server = create_srv,
    .merge_server = merge_srv,
    .fixups = fixups,
    .handler = handler,
};
