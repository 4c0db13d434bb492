/* Request variables by Apache's names (server/util_expr_eval.c's
 * request_var_names and friends), computed on demand. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "httpd/conn.h"
#include "httpd/vars.h"

static const char *num(rl_request_t *r, long v)
{
    return rl_arena_printf(r->arena, "%ld", v);
}

static const char *time_var(rl_request_t *r, const char *name)
{
    struct tm tm;
    time_t t = r->start.tv_sec;
    localtime_r(&t, &tm);
    if (strcmp(name, "TIME_YEAR") == 0) return num(r, tm.tm_year + 1900);
    if (strcmp(name, "TIME_MON") == 0) return rl_arena_printf(r->arena, "%02d", tm.tm_mon + 1);
    if (strcmp(name, "TIME_DAY") == 0) return rl_arena_printf(r->arena, "%02d", tm.tm_mday);
    if (strcmp(name, "TIME_HOUR") == 0) return rl_arena_printf(r->arena, "%02d", tm.tm_hour);
    if (strcmp(name, "TIME_MIN") == 0) return rl_arena_printf(r->arena, "%02d", tm.tm_min);
    if (strcmp(name, "TIME_SEC") == 0) return rl_arena_printf(r->arena, "%02d", tm.tm_sec);
    if (strcmp(name, "TIME_WDAY") == 0) return num(r, tm.tm_wday);
    if (strcmp(name, "TIME") == 0)
        return rl_arena_printf(r->arena, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900,
                               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return NULL;
}

static const char *prefixed(rl_request_t *r, const char *name)
{
    const char *colon = strchr(name, ':');
    if (colon == NULL)
        return NULL;
    const char *arg = colon + 1;
    size_t n = (size_t)(colon - name);
    if ((n == 4 && strncmp(name, "HTTP", 4) == 0) || (n == 10 && strncmp(name, "REQ_NOVARY", 10) == 0))
        return rl_req_header(r, arg);
    if (n == 4 && strncmp(name, "RESP", 4) == 0) {
        const char *v = rl_hdrs_get(&r->out, arg);
        return v ? v : rl_hdrs_get(&r->err_out, arg);
    }
    if ((n == 3 && strncmp(name, "ENV", 3) == 0) || (n == 6 && strncmp(name, "REQENV", 6) == 0)) {
        const char *v = rl_hdrs_get(&r->env, arg);
        return v || n == 6 ? v : getenv(arg);
    }
    if (n == 5 && strncmp(name, "OSENV", 5) == 0)
        return getenv(arg);
    if (n == 4 && strncmp(name, "NOTE", 4) == 0)
        return rl_hdrs_get(&r->notes, arg);
    return NULL;
}

const char *rl_req_var(void *ctx, const char *name)
{
    rl_request_t *r = ctx;
    const char *v = prefixed(r, name);
    if (v || strchr(name, ':'))
        return v;
    if (strcmp(name, "REQUEST_URI") == 0) return r->uri;
    if (strcmp(name, "REQUEST_METHOD") == 0) return r->method;
    if (strcmp(name, "REQUEST_FILENAME") == 0 || strcmp(name, "SCRIPT_FILENAME") == 0)
        return r->filename;
    if (strcmp(name, "QUERY_STRING") == 0) return r->args;
    if (strcmp(name, "THE_REQUEST") == 0) return r->the_request;
    if (strcmp(name, "SERVER_PROTOCOL") == 0) return r->protocol;
    if (strcmp(name, "REMOTE_ADDR") == 0) return rl_conn_peer_ip(r->conn);
    if (strcmp(name, "REMOTE_PORT") == 0) return num(r, rl_sockaddr_port(rl_req_peer(r)));
    if (strcmp(name, "SERVER_ADDR") == 0) return rl_conn_local_str(r->conn);
    if (strcmp(name, "SERVER_NAME") == 0)   /* UseCanonicalName Off */
        return r->hostname ? r->hostname : rl_req_server_name(r);
    if (strcmp(name, "SERVER_PORT") == 0) return num(r, rl_req_server_port(r));
    if (strcmp(name, "SERVER_ADMIN") == 0) return r->server->admin;
    if (strcmp(name, "SERVER_SOFTWARE") == 0) return r->cf->server_banner;
    if (strcmp(name, "CONTEXT_DOCUMENT_ROOT") == 0 && r->context_root)
        return r->context_root;
    if (strcmp(name, "DOCUMENT_ROOT") == 0 || strcmp(name, "CONTEXT_DOCUMENT_ROOT") == 0)
        return r->doc_root ? r->doc_root : r->server->document_root;
    if (strcmp(name, "CONTEXT_PREFIX") == 0)
        return r->context_prefix ? r->context_prefix : "";
    if (strcmp(name, "REQUEST_SCHEME") == 0) return "http";
    if (strcmp(name, "HTTPS") == 0) return "off";
    if (strcmp(name, "IPV6") == 0)
        return rl_req_peer(r)->ss.ss_family == AF_INET6 ? "on" : "off";
    if (strcmp(name, "PATH_INFO") == 0) return r->path_info;
    if (strcmp(name, "HANDLER") == 0) return r->handler;
    if (strcmp(name, "CONTENT_TYPE") == 0) return r->content_type;
    if (strcmp(name, "REQUEST_STATUS") == 0) return num(r, r->status);
    if (strcmp(name, "HTTP_HOST") == 0) return rl_req_header(r, "Host");
    if (strncmp(name, "HTTP_", 5) == 0) {
        /* HTTP_USER_AGENT -> User-Agent */
        char *h = rl_arena_strdup(r->arena, name + 5);
        for (char *c = h; *c; c++)
            if (*c == '_')
                *c = '-';
        return rl_req_header(r, h);
    }
    return time_var(r, name);
}

int rl_req_expr(rl_request_t *r, const rl_expr_t *e)
{
    rl_expr_env_t env = { .var = rl_req_var, .ctx = r, .arena = r->arena };
    int rc = rl_expr_eval(e, &env);
    if (rc < 0)
        rl_req_log(r, RL_LOG_ERR, "core", "AH01337: Failed to evaluate expression: %s",
                   env.error ? env.error : "unknown error");
    return rc;
}
