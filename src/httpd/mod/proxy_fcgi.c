/* mod_proxy_fcgi (first part): SetHandler "proxy:unix:/path.sock|fcgi://host/"
 * and "proxy:fcgi://host:port/" hand the request to a FastCGI responder
 * (php-fpm) without holding anything but the event loop while PHP works.
 *
 * One backend connection per request (no FCGI_KEEP_CONN yet); the request
 * body is collected first (as mod_proxy_fcgi does for chunked bodies),
 * the response streams to the client with back-pressure: the backend is
 * read only while less than STREAM_HIGH bytes wait for the client. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "core/loop.h"
#include "fcgi/fcgi.h"
#include "httpd/config.h"
#include "httpd/conn.h"
#include "httpd/request.h"
#include "httpd/mod/proxy.h"

#define STREAM_HIGH (256 * 1024)
#define HEAD_MAX (64 * 1024)

extern rl_module_t rl_proxy_fcgi_module;

typedef struct {
    rl_request_t *r;
    rl_io_t io;
    rl_event_t rev, wev;
    rl_proxy_worker_t *worker;
    const char *addr;          /* for logs: the socket path or host:port */
    rl_buf_t out;              /* records to the backend */
    rl_buf_t in;               /* bytes from the backend */
    rl_buf_t head;             /* CGI response head being collected */
    rl_fcgi_parser_t parser;
    bool connected, head_done, finished, paused;
} fcgi_t;

static uint64_t backend_timeout(const rl_request_t *r)
{
    const fcgi_t *f = r->handler_ctx;
    return rl_proxy_timeout(r, f->worker);
}

static void backend_close(fcgi_t *f)
{
    if (f->io.fd >= 0) {
        rl_loop_t *l = rl_req_loop(f->r);
        rl_timer_del(l, &f->rev);
        rl_timer_del(l, &f->wev);
        rl_loop_unpost(l, &f->rev);
        rl_loop_unpost(l, &f->wev);
        rl_loop_del_io(l, &f->io);
        close(f->io.fd);
        f->io.fd = -1;
    }
}

static void cleanup(void *data)
{
    fcgi_t *f = data;
    backend_close(f);
    rl_buf_release(&f->out);
    rl_buf_release(&f->in);
    rl_buf_release(&f->head);
}

/* ---- the parameters: Apache's CGI environment, in Apache's order ---- */

static void param(rl_request_t *r, rl_hdrs_t *p, const char *name, const char *value)
{
    if (value)
        rl_hdrs_add(r->arena, p, name, value);
}

static void http_params(rl_request_t *r, rl_hdrs_t *p)
{
    for (unsigned i = 0; i < r->nheaders; i++) {
        const char *name = r->headers[i].name.p;
        if (strcasecmp(name, "Content-Type") == 0) {
            param(r, p, "CONTENT_TYPE", r->headers[i].value.p);
            continue;
        }
        if (strcasecmp(name, "Content-Length") == 0) {
            param(r, p, "CONTENT_LENGTH", r->headers[i].value.p);
            continue;
        }
        /* httpoxy; credentials only through the configuration (SetEnvIf) */
        if (strcasecmp(name, "Proxy") == 0 || strcasecmp(name, "Authorization") == 0 ||
            strcasecmp(name, "Proxy-Authorization") == 0)
            continue;
        char *v = rl_arena_printf(r->arena, "HTTP_%s", name);
        for (char *c = v + 5; *c; c++)
            *c = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
        const char *prev = rl_hdrs_get(p, v);
        if (prev)   /* a repeated header: joined as Apache does */
            rl_hdrs_set(r->arena, p, v, rl_arena_printf(r->arena, "%s, %s", prev,
                                                          r->headers[i].value.p));
        else
            param(r, p, v, r->headers[i].value.p);
    }
}

static void cgi_params(rl_request_t *r, rl_hdrs_t *p)
{
    for (rl_hdr_t *e = r->env.head; e; e = e->next)
        param(r, p, e->name, e->value);
    http_params(r, p);
    /* php-fpm needs a length: a chunked body was collected, now it has one */
    if (r->chunked)
        param(r, p, "CONTENT_LENGTH", rl_arena_printf(r->arena, "%zu",
                                                      r->body_in ? rl_buf_unread(r->body_in) : 0));
    param(r, p, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    param(r, p, "SERVER_SIGNATURE", "");
    param(r, p, "SERVER_SOFTWARE", r->cf->server_banner);
    param(r, p, "SERVER_NAME", rl_req_server_name(r));
    param(r, p, "SERVER_ADDR", rl_conn_local_str(r->conn));
    param(r, p, "SERVER_PORT", rl_arena_printf(r->arena, "%d", r->host_port ? r->host_port
                                               : r->hostname ? 80 : rl_req_server_port(r)));
    param(r, p, "REMOTE_ADDR", rl_conn_peer_ip(r->conn));
    const char *root = r->server->document_root ? r->server->document_root : "/var/www/html";
    param(r, p, "DOCUMENT_ROOT", root);
    param(r, p, "REQUEST_SCHEME", "http");
    param(r, p, "CONTEXT_PREFIX", r->context_prefix ? r->context_prefix : "");
    param(r, p, "CONTEXT_DOCUMENT_ROOT", r->context_root ? r->context_root : root);
    param(r, p, "SERVER_ADMIN", r->server->admin ? r->server->admin : "[no address given]");
    param(r, p, "SCRIPT_FILENAME", r->filename);
    param(r, p, "REMOTE_PORT", rl_arena_printf(r->arena, "%d", rl_sockaddr_port(rl_req_peer(r))));
    param(r, p, "GATEWAY_INTERFACE", "CGI/1.1");
    param(r, p, "SERVER_PROTOCOL", r->protocol);
    param(r, p, "REQUEST_METHOD", r->method);
    param(r, p, "QUERY_STRING", r->args ? r->args : "");
    param(r, p, "REQUEST_URI", r->unparsed_uri);
    param(r, p, "SCRIPT_NAME", r->script_name ? r->script_name : r->uri);
    if (r->path_info && *r->path_info) {
        param(r, p, "PATH_INFO", r->path_info);
        param(r, p, "PATH_TRANSLATED", rl_arena_printf(r->arena, "%s%s", root, r->path_info));
    }
}

static bool encode_request(fcgi_t *f)
{
    rl_request_t *r = f->r;
    rl_hdrs_t params = { 0 };
    cgi_params(r, &params);
    size_t n = 0;
    for (rl_hdr_t *h = params.head; h; h = h->next)
        n++;
    rl_fcgi_pair_t *pairs = rl_arena_alloc(r->arena, sizeof(*pairs) * (n ? n : 1));
    n = 0;
    for (rl_hdr_t *h = params.head; h; h = h->next)
        pairs[n++] = (rl_fcgi_pair_t){ rl_str_c(h->name), rl_str_c(h->value) };
    rl_fcgi_encode_begin_request(&f->out, 1, RL_FCGI_RESPONDER, 0);
    if (!rl_fcgi_encode_params(&f->out, 1, pairs, n))
        return false;
    if (r->body_in && r->body_in->len)
        rl_fcgi_encode_stream(&f->out, RL_FCGI_STDIN, 1, rl_buf_head(r->body_in),
                              rl_buf_unread(r->body_in));
    rl_fcgi_encode_stream_end(&f->out, RL_FCGI_STDIN, 1);
    return true;
}

/* ---- failures ---- */

static void fail(fcgi_t *f, int status, int err, const char *what)
{
    rl_request_t *r = f->r;
    rl_req_log(r, RL_LOG_ERR, "proxy_fcgi", "(%d)%s: FCGI: %s %s", err,
               err ? strerror(err) : "Success", what, f->addr);
    backend_close(f);
    f->finished = true;
    if (f->head_done) {
        rl_req_abort(r);   /* the head is out: only a cut connection says so */
        return;
    }
    r->handler_done = false;
    rl_req_error(r, status);
    rl_req_resume(r);
}

/* ---- the response ---- */

/* A local "Location: /path" with status 200 is, as in CGI, an internal
 * redirect: the server answers with what /path gives, as a GET. */
static bool local_redirect(fcgi_t *f, const char *loc)
{
    rl_request_t *r = f->r;
    backend_close(f);
    f->finished = true;
    f->head_done = true;   /* nothing more from this backend */
    r->out.head = r->out.tail = NULL;
    r->method = "GET";
    r->method_id = RL_M_GET;
    r->body_in = NULL;
    r->suspended = false;
    r->on_drain = NULL;
    rl_req_internal_redirect(r, loc, false);
    if (r->suspended)
        r->on_body(r);     /* the new URI is FastCGI too */
    else
        rl_req_resume(r);
    return true;
}

/* Parses the CGI head (Status:, Location:, Content-Type:, the rest goes to
 * the client) and starts the response. false: malformed (502). */
static bool parse_head(fcgi_t *f, const char *h, size_t len)
{
    rl_request_t *r = f->r;
    r->status = 200;
    const char *end = h + len;
    while (h < end) {
        const char *nl = memchr(h, '\n', (size_t)(end - h));
        size_t n = nl ? (size_t)(nl - h) : (size_t)(end - h);
        if (n && h[n - 1] == '\r')
            n--;
        const char *colon = memchr(h, ':', n);
        if (colon == NULL || colon == h)
            return false;
        char *name = rl_arena_strndup(r->arena, h, (size_t)(colon - h));
        rl_str_t v = rl_str_trim(rl_str(colon + 1, n - (size_t)(colon + 1 - h)));
        char *value = rl_arena_strndup(r->arena, v.p, v.len);
        if (strcasecmp(name, "Status") == 0)
            r->status = atoi(value) >= 100 && atoi(value) <= 999 ? atoi(value) : 500;
        else if (strcasecmp(name, "Content-Type") == 0)
            r->content_type = value;
        else if (strcasecmp(name, "Content-Length") != 0 &&
                 strcasecmp(name, "Transfer-Encoding") != 0 &&
                 strcasecmp(name, "Connection") != 0)
            rl_hdrs_add(r->arena, &r->out, name, value);
        h = nl ? nl + 1 : end;
    }
    const char *loc = rl_hdrs_get(&r->out, "Location");
    if (loc && loc[0] == '/' && r->status == 200)
        return local_redirect(f, loc);
    if (loc && r->status == 200 && strstr(loc, "://"))
        r->status = 302;
    r->streaming = true;
    f->head_done = true;
    rl_req_resume(r);
    return true;
}

/* STDOUT bytes: the head first, then the body. */
static bool on_stdout(fcgi_t *f, const uint8_t *p, size_t n)
{
    if (f->head_done) {
        rl_req_stream(f->r, (const char *)p, n);
        return true;
    }
    rl_buf_append(&f->head, p, n);
    const char *s = rl_buf_head(&f->head);
    size_t len = rl_buf_unread(&f->head);
    for (size_t i = 0; i + 1 < len; i++) {
        size_t skip = 0;
        if (s[i] == '\n' && s[i + 1] == '\n')
            skip = 2;
        else if (i + 3 < len && memcmp(s + i, "\r\n\r\n", 4) == 0)
            skip = 4;
        if (!skip)
            continue;
        if (!parse_head(f, s, i + (skip == 4 ? 2 : 1)))
            return false;
        if (f->finished)
            return true;   /* redirected: the rest of this response is not sent */
        if (len > i + skip)
            rl_req_stream(f->r, s + i + skip, len - i - skip);
        return true;
    }
    return len <= HEAD_MAX;
}

static void on_stderr(fcgi_t *f, const uint8_t *p, size_t n)
{
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    if (n)
        rl_req_log(f->r, RL_LOG_ERR, "proxy_fcgi", "AH01071: Got error '%.*s'", (int)n, p);
}

/* Handles what the parser hands out. false: stop (failed or finished). */
static bool on_record(fcgi_t *f, const rl_fcgi_record_t *rec)
{
    switch (rec->type) {
    case RL_FCGI_STDOUT:
        if (rec->len && !on_stdout(f, rec->data, rec->len)) {
            fail(f, 502, 0, "malformed response header from");
            return false;
        }
        return true;
    case RL_FCGI_STDERR:
        on_stderr(f, rec->data, rec->len);
        return true;
    case RL_FCGI_END_REQUEST:
        backend_close(f);
        f->finished = true;
        if (!f->head_done) {
            /* an empty response: as Apache, the head is all there is */
            if (!parse_head(f, "", 0))
                return false;
        }
        rl_req_stream_end(f->r);
        return false;
    default:
        return true;
    }
}

static void backend_read(rl_event_t *ev)
{
    fcgi_t *f = ev->data;
    rl_request_t *r = f->r;
    if (ev->timedout) {
        ev->timedout = 0;
        fail(f, 504, ETIMEDOUT, "timed out reading the response of");
        return;
    }
    for (;;) {
        if (r->stream_queued >= STREAM_HIGH) {
            f->paused = true;   /* resumed by on_drain */
            return;
        }
        rl_fcgi_record_t rec;
        ssize_t k;
        while ((k = rl_fcgi_parse(&f->parser, (const uint8_t *)rl_buf_head(&f->in),
                                  rl_buf_unread(&f->in), &rec)) > 0) {
            rl_buf_consume(&f->in, (size_t)k);
            if (!on_record(f, &rec) || f->finished)
                return;
        }
        if (k < 0) {
            fail(f, 502, EPROTO, "protocol error from");
            return;
        }
        if (!rl_buf_reserve(&f->in, 16384, 0)) {
            fail(f, 502, ENOMEM, "out of memory reading");
            return;
        }
        ssize_t n = read(f->io.fd, rl_buf_tail(&f->in), rl_buf_room(&f->in));
        if (n > 0) {
            f->in.len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            ev->ready = 0;
            rl_timer_add(rl_req_loop(r), ev, backend_timeout(r));
            return;
        }
        fail(f, 502, n == 0 ? ECONNRESET : errno, "connection closed early by");
        return;
    }
}

static void on_drain(rl_request_t *r)
{
    fcgi_t *f = r->handler_ctx;
    if (f->paused && !f->finished) {
        f->paused = false;
        rl_loop_post(rl_req_loop(r), &f->rev);
    }
}

static void noop_ev(rl_event_t *ev) { (void)ev; }

static void backend_write(rl_event_t *ev)
{
    fcgi_t *f = ev->data;
    if (ev->timedout) {
        ev->timedout = 0;
        fail(f, 504, ETIMEDOUT, "timed out sending the request to");
        return;
    }
    if (!f->connected) {
        int err = rl_sock_connect_result(f->io.fd);
        if (err) {
            fail(f, 503, err, "attempt to connect to");
            return;
        }
        f->connected = true;
    }
    while (rl_buf_unread(&f->out)) {
        ssize_t n = send(f->io.fd, rl_buf_head(&f->out), rl_buf_unread(&f->out), MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            ev->ready = 0;
            rl_timer_add(rl_req_loop(f->r), ev, backend_timeout(f->r));
            return;
        }
        if (n < 0) {
            fail(f, 503, errno, "error sending the request to");
            return;
        }
        rl_buf_consume(&f->out, (size_t)n);
    }
    rl_timer_del(rl_req_loop(f->r), ev);
    rl_buf_release(&f->out);
    f->wev.handler = noop_ev;   /* the request is out: writability is no news */
    rl_timer_add(rl_req_loop(f->r), &f->rev, backend_timeout(f->r));
}

/* The body is in (or there is none): connect and send the request. */
static void start(rl_request_t *r)
{
    fcgi_t *f = r->handler_ctx;
    char err[256];
    if (!encode_request(f)) {
        fail(f, 500, E2BIG, "request parameters too large for");
        return;
    }
    f->io.fd = strncmp(f->addr, "unix:", 5) == 0
             ? rl_sock_connect_unix(f->addr + 5, err, sizeof(err)) : -1;
    if (f->io.fd < 0 && strncmp(f->addr, "unix:", 5) != 0) {
        rl_sockaddr_t a;
        if (rl_sock_parse_listen(f->addr, &a, err, sizeof(err)) == RL_OK)
            f->io.fd = rl_sock_connect_tcp(&a, err, sizeof(err));
    }
    if (f->io.fd < 0) {
        fail(f, 503, errno, "attempt to connect to");
        return;
    }
    f->rev.data = f->wev.data = f;
    f->rev.handler = backend_read;
    f->wev.handler = backend_write;
    f->io.read = &f->rev;
    f->io.write = &f->wev;
    if (rl_loop_add_io(rl_req_loop(r), &f->io) != RL_OK) {
        fail(f, 503, errno, "cannot watch the connection to");
        return;
    }
    r->on_drain = on_drain;
    backend_write(&f->wev);
}

static int handler(rl_request_t *r)
{
    rl_proxy_worker_t *w = rl_proxy_worker_for(r, rl_proxy_url(r));
    if (w == NULL)
        return RL_DECLINED;
    fcgi_t *f = rl_arena_calloc(r->arena, sizeof(*f));
    size_t ul = strlen(r->uri), pl = r->path_info ? strlen(r->path_info) : 0;
    if (pl && pl < ul && strcmp(r->uri + ul - pl, r->path_info) == 0)
        r->script_name = rl_arena_strndup(r->arena, r->uri, ul - pl);
    f->r = r;
    f->io.fd = -1;
    f->worker = w;
    f->addr = w->addr;
    rl_fcgi_parser_init(&f->parser);
    rl_arena_on_cleanup(r->arena, cleanup, f);
    r->handler_ctx = f;
    rl_req_suspend(r, start);
    return RL_DONE;
}

rl_module_t rl_proxy_fcgi_module = {
    .name = "proxy_fcgi",
    .handler = handler,
};

