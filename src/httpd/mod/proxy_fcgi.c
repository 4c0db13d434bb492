/* mod_proxy_fcgi: hands a request to a FastCGI responder (php-fpm) and
 * streams its answer back, holding nothing but the event loop while PHP
 * works.
 *
 * Request body: streamed to the backend as it arrives, the client paused
 * while OUT_HIGH bytes wait for the backend. A chunked body has no length
 * and php-fpm needs CONTENT_LENGTH: it is spooled first (memory, then a
 * temporary file), as mod_proxy_fcgi does.
 *
 * Response: streamed to the client. While the client is slow and
 * STREAM_HIGH bytes already wait in memory, the rest goes to a temporary
 * file (up to SPILL_MAX) so that the PHP worker is freed as soon as it has
 * answered; past that, the backend is read no further until the client
 * drains.
 *
 * Backend connections: one per request, closed after it, unless the
 * backend's worker says enablereuse=on with max=N: then each worker
 * process keeps up to N connections to it (FCGI_KEEP_CONN), idle ones
 * for ttl, and requests beyond N wait for one. Without max= no connection
 * is kept: php-fpm's child stays bound to a kept connection, and more
 * kept connections than children would leave requests waiting in the
 * backlog behind idle ones (the "hostage" case of Apache's docs). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/loop.h"
#include "fcgi/fcgi.h"
#include "httpd/config.h"
#include "httpd/conn.h"
#include "httpd/request.h"
#include "httpd/mod/core.h"
#include "httpd/mod/proxy.h"

#define STREAM_HIGH (256 * 1024)         /* response bytes held in memory */
#define SPILL_MAX ((uint64_t)1 << 30)    /* then in a file, up to this */
#define OUT_HIGH (64 * 1024)             /* request bytes waiting for the backend */
#define SPOOL_MEM (64 * 1024)            /* chunked body held in memory, then a file */
#define HEAD_MAX (64 * 1024)
#define IDLE_TTL_MS 60000                /* kept connections without ttl= */

typedef struct fcgi_s fcgi_t;
typedef struct pool_s pool_t;

/* A connection to a backend; its events dispatch to the request using it. */
typedef struct bconn_s {
    rl_io_t io;
    rl_event_t rev, wev;
    pool_t *pool;
    fcgi_t *f;                 /* the request using it; NULL when idle */
    rl_loop_t *loop;
    bool connected;
    bool reused;               /* served a request before this one */
    struct bconn_s *next;      /* in the pool's idle list */
} bconn_t;

/* A backend's connections in this worker process. */
struct pool_s {
    rl_proxy_worker_t *worker;
    rl_sockaddr_t addr;        /* the worker's address, resolved once */
    bool addr_ok;
    unsigned nopen;            /* busy and idle */
    bconn_t *idle;
    fcgi_t *wait_head, *wait_tail;   /* requests waiting for a connection */
    pool_t *next;
};

struct fcgi_s {
    rl_request_t *r;
    rl_proxy_worker_t *worker;
    pool_t *pool;
    bconn_t *bc;
    const char *addr;          /* for logs: unix:/path or host:port */
    rl_event_t tev;            /* posted work, and the wait for a connection */
    rl_buf_t out;              /* records for the backend */
    rl_buf_t retry;            /* a bodiless request, to resend once */
    rl_buf_t in;               /* bytes from the backend */
    rl_buf_t head;             /* CGI response head being collected */
    rl_fcgi_parser_t parser;
    /* request body */
    bool spool;                /* chunked: spooled, sent once complete */
    rl_buf_t spool_mem;
    int spool_fd;
    uint64_t spool_len, spool_sent;
    bool stdin_closed;         /* the empty STDIN record is in <out> */
    bool client_paused;        /* we stopped the client's body */
    bool params_ready;         /* BEGIN_REQUEST and PARAMS are in <out> */
    bool sent_all;             /* the whole request is out */
    /* response */
    int spill_fd;
    uint64_t spill_off;
    bool keep;                 /* FCGI_KEEP_CONN asked */
    bool got_bytes;            /* the backend answered something */
    bool head_done, finished, paused, waiting;
    bool resumed;              /* the response has started (head to the client) */
    rl_buf_t early;            /* body bytes that came with the head */
    int fail_status, fail_err;
    const char *fail_what;
    fcgi_t *wait_next;
};

static void backend_read(fcgi_t *f);
static void backend_write(fcgi_t *f);
static void acquire(fcgi_t *f);
static void acquire_later(fcgi_t *f);
static void stream_out(fcgi_t *f, const char *p, size_t n);

static uint64_t io_timeout(const fcgi_t *f)
{
    return rl_proxy_timeout(f->r, f->worker);
}

static bool reuses(const rl_proxy_worker_t *w)
{
    return w->reuse == 1 && w->max > 0;
}

/* ---- the pool ---- */

static pool_t *pools;   /* this process's */

static pool_t *pool_of(rl_proxy_worker_t *w)
{
    for (pool_t *p = pools; p; p = p->next)
        if (p->worker == w)
            return p;
    pool_t *p = rl_xcalloc(1, sizeof(*p));
    p->worker = w;
    p->next = pools;
    pools = p;
    return p;
}

static void bconn_ev(rl_event_t *ev);

static void bconn_close(bconn_t *bc)
{
    rl_timer_del(bc->loop, &bc->rev);
    rl_timer_del(bc->loop, &bc->wev);
    rl_loop_unpost(bc->loop, &bc->rev);
    rl_loop_unpost(bc->loop, &bc->wev);
    rl_loop_forget_io(bc->loop, &bc->io);   /* close() takes it out of epoll */
    close(bc->io.fd);
    bc->pool->nopen--;
    free(bc);
}

static void wait_remove(fcgi_t *f)
{
    pool_t *p = f->pool;
    fcgi_t **pp = &p->wait_head;
    while (*pp && *pp != f)
        pp = &(*pp)->wait_next;
    if (*pp == NULL)
        return;
    *pp = f->wait_next;
    if (p->wait_tail == f) {
        p->wait_tail = NULL;
        for (fcgi_t *w = p->wait_head; w; w = w->wait_next)
            p->wait_tail = w;
    }
    f->waiting = false;
    rl_timer_del(rl_req_loop(f->r), &f->tev);
}

/* The first waiting request gets <bc> (or, with <bc> NULL, the right to
 * open a connection). */
static bool hand_to_waiter(pool_t *p, bconn_t *bc)
{
    fcgi_t *w = p->wait_head;
    if (w == NULL)
        return false;
    wait_remove(w);
    if (bc) {
        bc->f = w;
        w->bc = bc;
        rl_loop_post(bc->loop, &bc->wev);
    } else {
        acquire_later(w);
    }
    return true;
}

/* <f> is done with its connection: kept (or handed on) when <reusable>,
 * else closed. */
static void release(fcgi_t *f, bool reusable)
{
    bconn_t *bc = f->bc;
    if (bc == NULL)
        return;
    f->bc = NULL;
    bc->f = NULL;
    pool_t *p = bc->pool;
    rl_timer_del(bc->loop, &bc->rev);
    rl_timer_del(bc->loop, &bc->wev);
    rl_loop_unpost(bc->loop, &bc->rev);
    rl_loop_unpost(bc->loop, &bc->wev);
    if (!reusable) {
        bconn_close(bc);
        hand_to_waiter(p, NULL);
        return;
    }
    bc->reused = true;
    if (hand_to_waiter(p, bc))
        return;
    bc->next = p->idle;
    p->idle = bc;
    int64_t ttl = p->worker->ttl_ms != RL_UNSET ? p->worker->ttl_ms : IDLE_TTL_MS;
    rl_timer_add(bc->loop, &bc->rev, (uint64_t)ttl);
}

static void idle_remove(bconn_t *bc)
{
    bconn_t **pp = &bc->pool->idle;
    while (*pp && *pp != bc)
        pp = &(*pp)->next;
    if (*pp)
        *pp = bc->next;
}

/* An idle connection that becomes readable was closed by the backend (or
 * says something it should not): it goes. So does one idle for ttl. */
static void idle_event(bconn_t *bc)
{
    idle_remove(bc);
    bconn_close(bc);
}

static void bconn_ev(rl_event_t *ev)
{
    bconn_t *bc = ev->data;
    if (bc->f == NULL) {
        if (ev == &bc->rev)
            idle_event(bc);
        return;
    }
    if (ev == &bc->rev)
        backend_read(bc->f);
    else
        backend_write(bc->f);
}

/* A kept connection still open? (The backend may have closed it since.) */
static bool alive(bconn_t *bc)
{
    char c;
    ssize_t n = recv(bc->io.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ---- failures ---- */

static void fail(fcgi_t *f, int status, int err, const char *what)
{
    rl_request_t *r = f->r;
    if (f->finished)
        return;
    rl_req_log(r, RL_LOG_ERR, "proxy_fcgi", "(%d)%s: FCGI: %s %s", err,
               err ? strerror(err) : "Success", what, f->addr);
    release(f, false);
    if (f->waiting)
        wait_remove(f);
    f->finished = true;
    r->on_body_data = NULL;
    r->on_cancel = NULL;
    if (f->resumed) {
        rl_req_abort(r);   /* the head is out: only a cut connection says so */
        return;
    }
    r->handler_done = false;
    r->on_drain = NULL;
    rl_req_error(r, status);
    rl_req_resume(r);
}

/* A failure found where answering at once is not allowed (the body
 * callbacks): reported from the loop. */
static void fail_posted(rl_event_t *ev)
{
    fcgi_t *f = ev->data;
    fail(f, f->fail_status, f->fail_err, f->fail_what);
}

static void fail_later(fcgi_t *f, int status, int err, const char *what)
{
    f->fail_status = status;
    f->fail_err = err;
    f->fail_what = what;
    f->tev.handler = fail_posted;
    rl_loop_post(rl_req_loop(f->r), &f->tev);
}

/* ---- the parameters: Apache's CGI environment, in Apache's order ---- */

/* The variables set before the CGI ones (SetEnv, SetEnvIf, REDIRECT_*):
 * only those can share a name with a CGI variable, which then takes its
 * place (Apache's table overlay); the CGI ones are unique by making. */
static rl_hdr_t *env_before;

static void env_set(rl_request_t *r, const char *name, const char *value)
{
    if (value == NULL)
        return;
    for (rl_hdr_t *x = env_before ? r->env.head : NULL; x; x = x->next) {
        if (strcasecmp(x->name, name) == 0) {
            x->value = value;
            return;
        }
        if (x == env_before)
            break;
    }
    rl_hdrs_add(r->arena, &r->env, name, value);
}

/* "HTTP_" + the header's name, upper case, '-' as '_'. */
static char *http_var(rl_arena_t *a, const char *name)
{
    size_t n = strlen(name);
    char *v = rl_arena_alloc(a, n + 6);
    memcpy(v, "HTTP_", 5);
    for (size_t i = 0; i <= n; i++)
        v[5 + i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
    return v;
}

/* HTTP_* for every request header, a repeated one joined with ", " as
 * Apache merges them when it reads the head. */
static void http_params(rl_request_t *r)
{
    bool pass_auth = rl_core_cgi_pass_auth(r->dir);
    for (unsigned i = 0; i < r->nheaders; i++) {
        const char *name = r->headers[i].name.p;
        const char *value = r->headers[i].value.p;
        bool seen = false;
        for (unsigned j = 0; j < i && !seen; j++)
            seen = strcasecmp(r->headers[j].name.p, name) == 0;
        if (seen)
            continue;
        for (unsigned j = i + 1; j < r->nheaders; j++)
            if (strcasecmp(r->headers[j].name.p, name) == 0)
                value = rl_arena_printf(r->arena, "%s, %s", value, r->headers[j].value.p);
        if (strcasecmp(name, "Content-Type") == 0) {
            env_set(r, "CONTENT_TYPE", value);
            continue;
        }
        if (strcasecmp(name, "Content-Length") == 0) {
            env_set(r, "CONTENT_LENGTH", value);
            continue;
        }
        /* httpoxy; credentials only where the configuration says so */
        if (strcasecmp(name, "Proxy") == 0 ||
            ((strcasecmp(name, "Authorization") == 0 ||
              strcasecmp(name, "Proxy-Authorization") == 0) && !pass_auth))
            continue;
        env_set(r, http_var(r->arena, name), value);
    }
}

static void cgi_params(fcgi_t *f)
{
    rl_request_t *r = f->r;
    env_before = r->env.tail;
    http_params(r);
    if (f->spool)   /* php-fpm needs a length: the spooled body has one */
        env_set(r, "CONTENT_LENGTH", rl_arena_printf(r->arena, "%llu",
                                                     (unsigned long long)f->spool_len));
    env_set(r, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    env_set(r, "SERVER_SIGNATURE", "");
    env_set(r, "SERVER_SOFTWARE", r->cf->server_banner);
    env_set(r, "SERVER_NAME", rl_req_url_host(r));
    env_set(r, "SERVER_ADDR", rl_conn_local_str(r->conn));
    env_set(r, "SERVER_PORT", rl_arena_printf(r->arena, "%d", rl_req_url_port(r)));
    env_set(r, "REMOTE_ADDR", rl_conn_peer_ip(r->conn));
    const char *root = r->server->document_root ? r->server->document_root : "/var/www/html";
    env_set(r, "DOCUMENT_ROOT", root);
    env_set(r, "REQUEST_SCHEME", "http");
    env_set(r, "CONTEXT_PREFIX", r->context_prefix ? r->context_prefix : "");
    env_set(r, "CONTEXT_DOCUMENT_ROOT", r->context_root ? r->context_root : root);
    env_set(r, "SERVER_ADMIN", r->server->admin ? r->server->admin : "[no address given]");
    env_set(r, "SCRIPT_FILENAME", r->filename);
    env_set(r, "REMOTE_PORT", rl_arena_printf(r->arena, "%d", rl_sockaddr_port(rl_req_peer(r))));
    env_set(r, "GATEWAY_INTERFACE", "CGI/1.1");
    env_set(r, "SERVER_PROTOCOL", r->protocol);
    env_set(r, "REQUEST_METHOD", r->method);
    env_set(r, "QUERY_STRING", r->args ? r->args : "");
    env_set(r, "REQUEST_URI", r->unparsed_uri);
    env_set(r, "SCRIPT_NAME", r->script_name ? r->script_name : r->uri);
    if (r->path_info && *r->path_info) {
        /* PATH_INFO mapped as Apache's sub-request maps it (Alias too) */
        env_set(r, "PATH_INFO", r->path_info);
        env_set(r, "PATH_TRANSLATED", rl_req_lookup_file(r, r->path_info));
    }
    env_before = NULL;
    rl_proxy_fcgi_fixup_env(r);
}

/* BEGIN_REQUEST and PARAMS into f->out. false: too large. */
static bool encode_head(fcgi_t *f)
{
    rl_request_t *r = f->r;
    cgi_params(f);
    size_t n = 0;
    for (rl_hdr_t *h = r->env.head; h; h = h->next)
        n++;
    rl_fcgi_pair_t *pairs = rl_arena_alloc(r->arena, sizeof(*pairs) * (n ? n : 1));
    n = 0;
    for (rl_hdr_t *h = r->env.head; h; h = h->next)
        pairs[n++] = (rl_fcgi_pair_t){ rl_str_c(h->name), rl_str_c(h->value) };
    f->keep = reuses(f->worker);
    rl_fcgi_encode_begin_request(&f->out, 1, RL_FCGI_RESPONDER, f->keep ? RL_FCGI_KEEP_CONN : 0);
    if (!rl_fcgi_encode_params(&f->out, 1, pairs, n))
        return false;
    f->params_ready = true;
    return true;
}

/* ---- the request body ---- */

static bool spool_append(fcgi_t *f, const char *p, size_t n)
{
    if (f->spool_fd < 0 && f->spool_mem.len + n <= SPOOL_MEM) {
        rl_buf_append(&f->spool_mem, p, n);
        f->spool_len += n;
        return true;
    }
    if (f->spool_fd < 0) {
        const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        f->spool_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (f->spool_fd < 0)
            return false;
    }
    if (pwrite(f->spool_fd, p, n, (off_t)(f->spool_len - f->spool_mem.len)) != (ssize_t)n)
        return false;
    f->spool_len += n;
    return true;
}

/* Moves the next piece of the spooled body into f->out. */
static bool spool_refill(fcgi_t *f)
{
    char tmp[32768];
    uint64_t mem = f->spool_mem.len;
    if (f->spool_sent < mem) {
        size_t n = (size_t)(mem - f->spool_sent);
        rl_fcgi_encode_stream(&f->out, RL_FCGI_STDIN, 1, f->spool_mem.data + f->spool_sent, n);
        f->spool_sent += n;
    } else if (f->spool_sent < f->spool_len) {
        uint64_t left = f->spool_len - f->spool_sent;
        ssize_t n = pread(f->spool_fd, tmp, left < sizeof(tmp) ? left : sizeof(tmp),
                          (off_t)(f->spool_sent - mem));
        if (n <= 0)
            return false;
        rl_fcgi_encode_stream(&f->out, RL_FCGI_STDIN, 1, tmp, (size_t)n);
        f->spool_sent += (uint64_t)n;
    }
    if (f->spool_sent == f->spool_len) {
        rl_fcgi_encode_stream_end(&f->out, RL_FCGI_STDIN, 1);
        f->stdin_closed = true;
    }
    return true;
}

static void kick_backend(fcgi_t *f)
{
    if (f->bc && f->bc->connected)
        rl_loop_post(f->bc->loop, &f->bc->wev);
}

static void acquire_posted(rl_event_t *ev)
{
    acquire(ev->data);
}

static void acquire_later(fcgi_t *f)
{
    f->tev.handler = acquire_posted;
    rl_loop_post(rl_req_loop(f->r), &f->tev);
}

static bool body_data(rl_request_t *r, const char *p, size_t n)
{
    fcgi_t *f = r->handler_ctx;
    if (f->finished)
        return true;
    if (p == NULL) {
        if (f->spool) {
            if (!encode_head(f)) {
                fail_later(f, 500, E2BIG, "request parameters too large for");
                return true;
            }
            acquire_later(f);
        } else {
            rl_fcgi_encode_stream_end(&f->out, RL_FCGI_STDIN, 1);
            f->stdin_closed = true;
            kick_backend(f);
        }
        return true;
    }
    if (f->spool) {
        if (!spool_append(f, p, n)) {
            fail_later(f, 500, errno, "cannot spool the request body for");
            return false;
        }
        return true;
    }
    rl_fcgi_encode_stream(&f->out, RL_FCGI_STDIN, 1, p, n);
    kick_backend(f);
    if (rl_buf_unread(&f->out) < OUT_HIGH)
        return true;
    f->client_paused = true;
    return false;
}

/* ---- the response ---- */

/* A local "Location: /path" with status 200 is, as in CGI, an internal
 * redirect: the server answers with what /path gives, as a GET. */
static bool local_redirect(fcgi_t *f, const char *loc)
{
    rl_request_t *r = f->r;
    release(f, false);
    f->finished = true;
    f->head_done = true;   /* nothing more from this backend */
    r->out.head = r->out.tail = NULL;
    r->method = "GET";
    r->method_id = RL_M_GET;
    r->body_in = NULL;
    r->suspended = false;
    r->on_drain = NULL;
    r->on_body_data = NULL;
    r->on_cancel = NULL;
    rl_req_internal_redirect(r, loc, false);
    if (r->suspended) {
        r->on_body(r);     /* the new URI is FastCGI too */
        if (r->on_body_data)
            r->on_body_data(r, NULL, 0);
    } else {
        rl_req_resume(r);
    }
    return true;
}

/* Parses the CGI head (Status:, Location:, Content-Type:, the rest goes to
 * the client) and starts the response. false: malformed (502). */
static bool parse_head(fcgi_t *f, const char *h, size_t len)
{
    rl_request_t *r = f->r;
    /* an ErrorDocument script answers with the error's status unless it
     * says otherwise */
    r->status = r->in_error_redirect ? r->original_status : 200;
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
        else if (strcasecmp(name, "Location") == 0 || strcasecmp(name, "Content-Range") == 0 ||
                 strcasecmp(name, "Last-Modified") == 0)
            rl_hdrs_add(r->arena, &r->out, name, value);
        else if (strcasecmp(name, "Content-Length") != 0 &&
                 strcasecmp(name, "Transfer-Encoding") != 0 &&
                 strcasecmp(name, "Connection") != 0)
            /* as Apache's script-header scan: the rest goes to the headers
             * sent whatever happens (so "Header always unset X-Powered-By"
             * is what removes PHP's, as with Apache) */
            rl_hdrs_add(r->arena, &r->err_out, name, value);
        h = nl ? nl + 1 : end;
    }
    const char *loc = rl_hdrs_get(&r->out, "Location");
    if (loc && loc[0] == '/' && r->status == 200)
        return local_redirect(f, loc);
    if (loc && r->status == 200 && strstr(loc, "://"))
        r->status = 302;
    f->head_done = true;   /* the client gets it with what follows it in this read */
    return true;
}

/* Starts the response once the bytes at hand are handled. With the whole
 * answer in (<complete>), it goes out with a Content-Length: Apache
 * streams even those chunked, but a length costs nothing and lets an
 * HTTP/1.0 client keep its connection. Else chunked; for HEAD, neither. */
static void start_client(fcgi_t *f, bool complete)
{
    rl_request_t *r = f->r;
    if (f->resumed || !f->head_done)
        return;
    f->resumed = true;
    if (complete && !r->header_only) {
        size_t n = rl_buf_unread(&f->early);
        r->body_len = n;
        if (n)
            rl_req_body_mem(r, rl_arena_strndup(r->arena, rl_buf_head(&f->early), n), n);
        rl_buf_release(&f->early);
        rl_req_resume(r);
        return;
    }
    r->streaming = true;
    rl_req_resume(r);
    if (complete)
        rl_req_stream_end(r);
    else if (rl_buf_unread(&f->early))
        stream_out(f, rl_buf_head(&f->early), rl_buf_unread(&f->early));
    rl_buf_release(&f->early);
}

/* Body bytes for the client: in memory while little waits, else spilled
 * to a temporary file. */
static void stream_out(fcgi_t *f, const char *p, size_t n)
{
    rl_request_t *r = f->r;
    if (!f->resumed) {
        rl_buf_append(&f->early, p, n);
        if (rl_buf_unread(&f->early) >= OUT_HIGH)
            start_client(f, false);
        return;
    }
    if (r->stream_queued < STREAM_HIGH || f->spill_off + n > SPILL_MAX) {
        rl_req_stream(r, p, n);
        return;
    }
    if (r->stream_spilled == 0 && f->spill_off) {
        f->spill_off = 0;   /* all sent: start the file over */
        if (ftruncate(f->spill_fd, 0) < 0)
            rl_req_log(r, RL_LOG_WARN, "proxy_fcgi", "(%d)%s: truncating a spill file",
                       errno, strerror(errno));
    }
    if (f->spill_fd < 0) {
        const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        f->spill_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    }
    if (f->spill_fd < 0 || pwrite(f->spill_fd, p, n, (off_t)f->spill_off) != (ssize_t)n) {
        rl_req_stream(r, p, n);   /* no file: memory it is, and the backend waits */
        f->spill_off = SPILL_MAX;
        return;
    }
    rl_req_stream_file(r, f->spill_fd, f->spill_off, n);
    f->spill_off += n;
}

/* STDOUT bytes: the head first, then the body. */
static bool on_stdout(fcgi_t *f, const uint8_t *p, size_t n)
{
    if (f->head_done) {
        stream_out(f, (const char *)p, n);
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
            stream_out(f, s + i + skip, len - i - skip);
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

static void on_end(fcgi_t *f)
{
    bool reusable = f->keep && f->sent_all && rl_buf_unread(&f->in) == 0 &&
                    rl_fcgi_parser_between(&f->parser);
    release(f, reusable);
    f->finished = true;
    f->r->on_body_data = NULL;
    f->r->on_cancel = NULL;
    if (!f->head_done && !parse_head(f, "", 0))
        return;   /* an empty response: as Apache, the head is all there is */
    if (!f->head_done)
        return;   /* redirected */
    if (!f->resumed)
        start_client(f, true);
    else
        rl_req_stream_end(f->r);
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
        on_end(f);
        return false;
    default:
        return true;
    }
}

/* A kept connection that failed before any answer: the backend closed it
 * between requests. A bodiless request is sent again on a new one. */
static bool retry(fcgi_t *f)
{
    if (!f->bc->reused || f->got_bytes || f->retry.len == 0)
        return false;
    release(f, false);
    rl_buf_clear(&f->out);
    rl_buf_append(&f->out, f->retry.data, f->retry.len);
    rl_buf_release(&f->retry);
    f->sent_all = false;
    acquire(f);
    return true;
}

static void backend_read(fcgi_t *f)
{
    rl_request_t *r = f->r;
    rl_event_t *ev = &f->bc->rev;
    if (ev->timedout) {
        ev->timedout = 0;
        fail(f, 504, ETIMEDOUT, "timed out reading the response of");
        return;
    }
    for (;;) {
        if (r->stream_queued >= STREAM_HIGH && f->spill_off >= SPILL_MAX) {
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
        ssize_t n = read(f->bc->io.fd, rl_buf_tail(&f->in), rl_buf_room(&f->in));
        if (n > 0) {
            f->got_bytes = true;
            f->in.len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            ev->ready = 0;
            start_client(f, false);
            if (f->sent_all)
                rl_timer_add(f->bc->loop, ev, io_timeout(f));
            return;
        }
        if (retry(f))
            return;
        fail(f, 502, n == 0 ? ECONNRESET : errno, "connection closed early by");
        return;
    }
}

static void on_drain(rl_request_t *r)
{
    fcgi_t *f = r->handler_ctx;
    if (f->paused && !f->finished && f->bc) {
        f->paused = false;
        rl_loop_post(f->bc->loop, &f->bc->rev);
    }
}

static void backend_write(fcgi_t *f)
{
    bconn_t *bc = f->bc;
    rl_event_t *ev = &bc->wev;
    if (ev->timedout) {
        ev->timedout = 0;
        fail(f, bc->connected ? 504 : 503, ETIMEDOUT, bc->connected
             ? "timed out sending the request to" : "attempt to connect to");
        return;
    }
    if (!bc->connected) {
        int err = rl_sock_connect_result(bc->io.fd);
        if (err == EINPROGRESS || err == EAGAIN)
            return;
        if (err) {
            fail(f, 503, err, "attempt to connect to");
            return;
        }
        bc->connected = true;
        rl_timer_del(bc->loop, ev);
    }
    for (;;) {
        if (rl_buf_unread(&f->out) == 0 && f->spool && !f->stdin_closed && !spool_refill(f)) {
            fail(f, 500, errno, "cannot read the spooled request body for");
            return;
        }
        if (rl_buf_unread(&f->out) == 0)
            break;
        ssize_t n = send(bc->io.fd, rl_buf_head(&f->out), rl_buf_unread(&f->out), MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            ev->ready = 0;
            rl_timer_add(bc->loop, ev, io_timeout(f));
            return;
        }
        if (n < 0) {
            if (!retry(f))
                fail(f, 502, errno, "error sending the request to");
            return;
        }
        rl_buf_consume(&f->out, (size_t)n);
    }
    rl_timer_del(bc->loop, ev);
    rl_buf_clear(&f->out);
    if (f->client_paused) {
        f->client_paused = false;
        rl_req_body_continue(f->r);
    }
    if (f->stdin_closed && !f->sent_all) {
        f->sent_all = true;   /* all out: now the backend has its timeout to answer */
        rl_buf_release(&f->out);
        if (!f->got_bytes)
            rl_timer_add(bc->loop, &bc->rev, io_timeout(f));
        rl_loop_post(bc->loop, &bc->rev);
    }
}

/* ---- getting a connection ---- */

static void wait_timeout(rl_event_t *ev)
{
    fcgi_t *f = ev->data;
    ev->timedout = 0;
    wait_remove(f);
    fail(f, 503, ETIMEDOUT, "no free connection (max reached) to");
}

static bconn_t *connect_to(fcgi_t *f)
{
    pool_t *p = f->pool;
    if (!p->addr_ok) {
        char err[256];
        int rc = strncmp(f->addr, "unix:", 5) == 0 ? rl_sockaddr_unix(f->addr + 5, &p->addr)
                 : rl_sock_parse_listen(f->addr, &p->addr, err, sizeof(err));
        if (rc != RL_OK) {
            errno = errno ? errno : EINVAL;
            return NULL;
        }
        p->addr_ok = true;
    }
    bool connected;
    int fd = rl_sock_connect_fast(&p->addr, &connected);
    if (fd < 0)
        return NULL;
    bconn_t *bc = rl_xcalloc(1, sizeof(*bc));
    bc->io.fd = fd;
    bc->connected = connected;
    bc->pool = f->pool;
    bc->loop = rl_req_loop(f->r);
    bc->rev.data = bc->wev.data = bc;
    bc->rev.handler = bc->wev.handler = bconn_ev;
    bc->io.read = &bc->rev;
    bc->io.write = &bc->wev;
    if (rl_loop_add_io(bc->loop, &bc->io) != RL_OK) {
        int e = errno;
        close(fd);
        free(bc);
        errno = e;
        return NULL;
    }
    f->pool->nopen++;
    return bc;
}

/* The request is ready to go (head encoded, body streaming or spooled):
 * a kept connection, a new one, or a place in the queue. */
static void acquire(fcgi_t *f)
{
    pool_t *p = f->pool;
    if (!f->bc && reuses(p->worker)) {
        while (p->idle) {
            bconn_t *bc = p->idle;
            p->idle = bc->next;
            rl_timer_del(bc->loop, &bc->rev);
            if (alive(bc)) {
                bc->f = f;
                f->bc = bc;
                break;
            }
            bconn_close(bc);
        }
    }
    if (!f->bc && p->worker->max > 0 && p->nopen >= (unsigned)p->worker->max) {
        f->waiting = true;
        f->tev.handler = wait_timeout;
        if (p->wait_tail)
            p->wait_tail->wait_next = f;
        else
            p->wait_head = f;
        p->wait_tail = f;
        f->wait_next = NULL;
        rl_timer_add(rl_req_loop(f->r), &f->tev, rl_proxy_connect_timeout(f->r, f->worker));
        return;
    }
    if (!f->bc) {
        f->bc = connect_to(f);
        if (f->bc == NULL) {
            fail(f, 503, errno, "attempt to connect to");
            return;
        }
        f->bc->f = f;
        rl_timer_add(f->bc->loop, &f->bc->wev, rl_proxy_connect_timeout(f->r, f->worker));
    } else {
        f->bc->connected = true;
    }
    /* a kept connection may have been closed by the backend a moment
     * ago: keep a bodiless request to send again on a new one */
    if (f->bc->reused && !f->r->content_length && !f->r->chunked && f->retry.len == 0)
        rl_buf_append(&f->retry, rl_buf_head(&f->out), rl_buf_unread(&f->out));
    rl_loop_post(f->bc->loop, &f->bc->wev);
}

/* ---- the handler ---- */

/* The handler suspended: the body (if any) follows through body_data. */
static void start(rl_request_t *r)
{
    fcgi_t *f = r->handler_ctx;
    r->on_drain = on_drain;
    if (r->chunked && r->body_pending) {
        f->spool = true;   /* no length yet: spooled, sent once complete */
        return;
    }
    if (!encode_head(f)) {
        fail_later(f, 500, E2BIG, "request parameters too large for");
        return;
    }
    acquire_later(f);
}

/* The request failed under us (client gone, bad body): let go. */
static void let_go(fcgi_t *f)
{
    if (f->bc && f->params_ready && !f->finished) {
        /* best effort: tell the backend, then hang up */
        rl_buf_t b = RL_BUF_INIT;
        rl_fcgi_encode_abort_request(&b, 1);
        if (send(f->bc->io.fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            errno = 0;
        rl_buf_release(&b);
    }
    release(f, false);
    if (f->waiting)
        wait_remove(f);
    rl_loop_unpost(rl_req_loop(f->r), &f->tev);
    f->finished = true;
}

static void cancel(rl_request_t *r)
{
    let_go(r->handler_ctx);
}

static void cleanup(void *data)
{
    fcgi_t *f = data;
    let_go(f);
    rl_buf_release(&f->out);
    rl_buf_release(&f->retry);
    rl_buf_release(&f->in);
    rl_buf_release(&f->head);
    rl_buf_release(&f->early);
    rl_buf_release(&f->spool_mem);
    if (f->spool_fd >= 0)
        close(f->spool_fd);
    if (f->spill_fd >= 0)
        close(f->spill_fd);
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
    f->worker = w;
    f->pool = pool_of(w);
    f->addr = w->addr;
    f->spool_fd = f->spill_fd = -1;
    f->tev.data = f;
    rl_fcgi_parser_init(&f->parser);
    rl_arena_on_cleanup(r->arena, cleanup, f);
    r->handler_ctx = f;
    r->on_body_data = body_data;
    r->on_cancel = cancel;
    rl_req_suspend(r, start);
    return RL_DONE;
}

rl_module_t rl_proxy_fcgi_module = {
    .name = "proxy_fcgi",
    .handler = handler,
};
