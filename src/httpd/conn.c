/* The connection state machine. The read event's handler is the state:
 *
 *   read_head   waiting for (the rest of) a request head
 *   discard     reading and dropping a request body nobody consumes
 *   write_resp  (write event) sending the response
 *   keepalive   idle between requests: no buffer, no arena
 *   linger      response sent on a closing connection: drain, then close
 *
 * A request is processed synchronously once its head is in: static files
 * need no waiting, and later handlers (FastCGI) suspend through the same
 * write path. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "http/date.h"
#include "http/status.h"
#include "http/uri.h"
#include "httpd/conn.h"
#include "httpd/mod/core.h"
#include "httpd/mod/headers.h"
#include "httpd/mod/status.h"
#include "httpd/scoreboard.h"

#define HEAD_BUF_INITIAL 2048
#define MAX_HEADERS_CAP 1000
#define FREE_ARENAS_MAX 16
#define LINGER_MS 2000
#define ACCEPT_BATCH 64
/* A body collected for a handler is held in memory up to this size (the
 * FastCGI issue spools larger ones to a file; until then they get 413). */
#define COLLECT_MAX (16u << 20)

typedef struct rl_wlistener_s {
    rl_io_t io;
    rl_event_t rev;
    rl_listener_t *ls;
    rl_worker_t *w;
    struct rl_wlistener_s *next;
} wlistener_t;

/* An IP address and port in sockaddr_in6's 28 bytes: idle connections are
 * many, and rl_sockaddr_t's sockaddr_storage would be most of one. */
typedef union {
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} ipaddr_t;

static void addr_pack(ipaddr_t *d, const rl_sockaddr_t *a)
{
    memset(d, 0, sizeof(*d));
    memcpy(d, &a->ss, a->len < sizeof(*d) ? a->len : sizeof(*d));
}

static void addr_unpack(rl_sockaddr_t *a, const ipaddr_t *d)
{
    memset(a, 0, sizeof(*a));
    a->len = d->in.sin_family == AF_INET ? sizeof(d->in) : sizeof(d->in6);
    memcpy(&a->ss, d, a->len);
}

struct rl_conn_s {
    rl_io_t io;
    rl_event_t rev, wev;
    rl_worker_t *w;
    rl_conn_t *prev, *next;
    ipaddr_t peer, local;        /* packed: rl_sockaddr_t takes 136 bytes */
    char *peer_str;              /* "ip:port", formatted on demand, in the arena */
    char *peer_ip;
    char *local_str;
    rl_buf_t in;                 /* request bytes; released when idle */
    rl_buf_t out;                /* response head; released when idle */
    rl_arena_t *arena;           /* request arena; NULL when idle */
    rl_request_t *r;
    rl_http_request_parser_t *parser;
    rl_chunk_t *cur;             /* body chunk being sent */
    uint64_t cur_done;           /* bytes of <cur> sent */
    uint64_t resp_bytes;         /* response bytes written (%O) */
    uint64_t discard_left;       /* body bytes still to drop (Content-Length) */
    rl_http_chunked_t *dechunk;  /* chunked body being dropped */
    uint64_t body_limit;         /* LimitRequestBody for a chunked body (0: none) */
    uint64_t head_started;       /* ms: when the first byte of this head came */
    uint64_t head_bytes;         /* head bytes seen so far (for MinRate) */
    unsigned requests;           /* requests served on this connection */
    uint8_t sb_state;            /* rl_sb_cstate_t: what the scoreboard counts it as */
    uint8_t sb_rec;              /* 1 + its ExtendedStatus record, 0: none */
    bool closing;                /* close once the response is out */
    bool drain_first;            /* dropping the body before answering */
    bool collect_full;           /* a collected body outgrew COLLECT_MAX */
    bool body_paused;            /* the handler takes no more body for now */
};

static void read_head(rl_event_t *ev);
static void write_resp(rl_event_t *ev);
static void keepalive_read(rl_event_t *ev);
static void finish_request(rl_conn_t *c);
static void start_response(rl_conn_t *c);
static void start_discard(rl_conn_t *c);
static bool drops_connection(int status);

/* ---- accessors ---- */

/* The unpacked copies stay valid until the next call for another
 * connection (a worker is one thread). */
const rl_sockaddr_t *rl_conn_peer(const rl_conn_t *c)
{
    static rl_sockaddr_t peer;
    addr_unpack(&peer, &c->peer);
    return &peer;
}

const rl_sockaddr_t *rl_conn_local(const rl_conn_t *c)
{
    static rl_sockaddr_t local;
    addr_unpack(&local, &c->local);
    return &local;
}
unsigned rl_conn_keepalives(const rl_conn_t *c) { return c->requests ? c->requests - 1 : 0; }
uint64_t rl_conn_response_bytes(const rl_conn_t *c) { return c->resp_bytes; }
const char *rl_conn_boundary(rl_conn_t *c) { return c->w->boundary; }

/* Address strings live in the request arena (an idle connection keeps
 * none); without a request, in a small rotating static buffer that the
 * caller uses at once (a log line). */
static char *addr_str(rl_conn_t *c, const rl_sockaddr_t *a, bool port)
{
    static char tmp[4][RL_SOCKADDR_STRLEN];
    static unsigned k;
    char buf[RL_SOCKADDR_STRLEN];
    rl_sockaddr_format(a, buf, sizeof(buf), port);
    if (c->arena)
        return rl_arena_strdup(c->arena, buf);
    k = (k + 1) % 4;
    memcpy(tmp[k], buf, sizeof(buf));
    return tmp[k];
}

const char *rl_conn_peer_str(rl_conn_t *c)
{
    if (c->peer_str == NULL || c->arena == NULL)
        c->peer_str = addr_str(c, rl_conn_peer(c), true);
    return c->peer_str;
}

const char *rl_conn_peer_ip(rl_conn_t *c)
{
    if (c->peer_ip == NULL || c->arena == NULL)
        c->peer_ip = addr_str(c, rl_conn_peer(c), false);
    return c->peer_ip;
}

const char *rl_conn_local_str(rl_conn_t *c)
{
    if (c->local_str == NULL || c->arena == NULL)
        c->local_str = addr_str(c, rl_conn_local(c), false);
    return c->local_str;
}

/* ---- the scoreboard (mod_status): a few plain stores per request ---- */

static inline void sb_state(rl_conn_t *c, unsigned st)
{
    rl_sb_conn_state(c->w->sb, &c->sb_state, st);
}

static int64_t ts_us(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000 + t->tv_nsec / 1000;
}

/* <r>'s head is in, its virtual host chosen: the connection is busy. */
static void sb_request_start(rl_conn_t *c, rl_request_t *r)
{
    sb_state(c, RL_SB_C_BUSY);
    if (!(c->w->sb_flags & RL_STATUS_EXTENDED))
        return;
    /* sin_port and sin6_port share their offset */
    const struct sockaddr_in *local = (const struct sockaddr_in *)&c->local;
    int idx = rl_sb_record_start(c->w->sb, (const struct sockaddr *)&c->peer, sizeof(c->peer),
                                 rl_req_server_name(r), ntohs(local->sin_port), r->the_request,
                                 c->w->sb_flags & RL_STATUS_REQUEST_TAIL, c->requests,
                                 ts_us(&r->start));
    c->sb_rec = (uint8_t)(idx + 1);
}

/* The end of the request: the access log line, and the counters. */
static void request_logged(rl_conn_t *c)
{
    rl_request_t *r = c->r;
    rl_log_config_request(r);
    int64_t now = rl_sb_now_us();
    rl_sb_request_done(c->w->sb, c->resp_bytes, now - ts_us(&r->start));
    if (c->sb_rec) {
        rl_sb_record_end(c->w->sb, c->sb_rec - 1, true, c->resp_bytes, now);
        c->sb_rec = 0;
    }
}

/* ---- life and death ---- */

static rl_arena_t *arena_get(rl_worker_t *w)
{
    if (w->nfree_arenas)
        return w->free_arenas[--w->nfree_arenas];
    return rl_arena_create(8192);
}

static void arena_put(rl_worker_t *w, rl_arena_t *a)
{
    rl_arena_reset(a);
    if (w->nfree_arenas < FREE_ARENAS_MAX)
        w->free_arenas[w->nfree_arenas++] = a;
    else
        rl_arena_destroy(a);
}

/* Drops the request state: back to a bare connection. */
static void request_free(rl_conn_t *c)
{
    if (c->arena) {
        arena_put(c->w, c->arena);
        c->arena = NULL;
    }
    c->peer_str = c->peer_ip = c->local_str = NULL;   /* they were in the arena */
    c->r = NULL;
    c->parser = NULL;
    c->dechunk = NULL;
    c->cur = NULL;
    c->drain_first = false;
    c->collect_full = false;
    c->body_limit = 0;
    c->body_paused = false;
}

static void conn_close(rl_conn_t *c)
{
    rl_worker_t *w = c->w;
    rl_timer_del(w->loop, &c->rev);
    rl_timer_del(w->loop, &c->wev);
    rl_loop_unpost(w->loop, &c->rev);
    rl_loop_unpost(w->loop, &c->wev);
    rl_loop_del_io(w->loop, &c->io);
    close(c->io.fd);
    if (c->sb_rec)
        rl_sb_record_end(w->sb, c->sb_rec - 1, false, 0, rl_sb_now_us());
    sb_state(c, RL_SB_C_NONE);
    request_free(c);
    rl_buf_release(&c->in);
    rl_buf_release(&c->out);
    if (c->prev) c->prev->next = c->next;
    else w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    w->nconns--;
    free(c);
    if (w->stopping && w->nconns == 0)
        rl_loop_stop(w->loop);
}

static void noop(rl_event_t *ev) { (void)ev; }

/* Lingering close (as Apache): stop sending, read and drop what the client
 * still sends for a short while, so that it sees our response and not a
 * reset. */
static void linger_read(rl_event_t *ev)
{
    rl_conn_t *c = ev->data;
    char tmp[4096];
    if (ev->timedout) {
        conn_close(c);
        return;
    }
    for (;;) {
        ssize_t n = recv(c->io.fd, tmp, sizeof(tmp), 0);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            ev->ready = 0;
            return;
        }
        conn_close(c);
        return;
    }
}

static void linger_close(rl_conn_t *c)
{
    if (shutdown(c->io.fd, SHUT_WR) != 0) {
        conn_close(c);
        return;
    }
    request_free(c);
    rl_buf_release(&c->in);
    rl_buf_release(&c->out);
    c->rev.handler = linger_read;
    c->wev.handler = noop;
    sb_state(c, RL_SB_C_CLOSING);
    rl_timer_add(c->w->loop, &c->rev, LINGER_MS);
    linger_read(&c->rev);
}

/* ---- accepting ---- */

static void conn_open(rl_worker_t *w, int fd, const rl_sockaddr_t *peer)
{
    rl_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    c->w = w;
    rl_sockaddr_t local;
    if (rl_sock_local_addr(fd, &local) != RL_OK) {
        close(fd);
        free(c);
        return;
    }
    addr_pack(&c->peer, peer);
    addr_pack(&c->local, &local);
    rl_sock_set_nodelay(fd);
    c->io.fd = fd;
    c->io.read = &c->rev;
    c->io.write = &c->wev;
    c->rev.data = c->wev.data = c;
    /* like an idle keep-alive connection: no buffer until bytes arrive */
    c->rev.handler = keepalive_read;
    c->wev.handler = noop;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    sb_state(c, RL_SB_C_READ);
    if (rl_loop_add_io(w->loop, &c->io) != RL_OK) {
        conn_close(c);
        return;
    }
    c->head_started = rl_loop_now(w->loop);
    rl_server_t *s = w->cf->main;
    rl_timer_add(w->loop, &c->rev, (uint64_t)s->rt_header * 1000);
    /* data usually comes with the connection: try at once */
    c->rev.ready = 1;
    keepalive_read(&c->rev);
}

static void accept_ready(rl_event_t *ev)
{
    wlistener_t *wl = ev->data;
    rl_worker_t *w = wl->w;
    for (int i = 0; i < ACCEPT_BATCH && !w->stopping; i++) {
        rl_sockaddr_t peer;
        int fd = rl_sock_accept(wl->io.fd, &peer);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                ev->ready = 0;
                return;
            }
            if (errno == EMFILE || errno == ENFILE) {
                rl_log_error(w->cf->main->error_log, RL_LOG_ERR, "mpm_event", NULL, "(%d)%s: "
                             "AH00488: apr_socket_accept: too many open files", errno,
                             strerror(errno));
                ev->ready = 0;
                return;
            }
            continue;
        }
        conn_open(w, fd, &peer);
    }
    /* more may wait: come back after the other events */
    rl_loop_post(w->loop, ev);
}

int rl_worker_listen(rl_worker_t *w)
{
    w->sb = rl_sb_worker_ready();
    w->sb_flags = rl_status_flags(w->cf);
    for (rl_listener_t *ls = w->cf->listeners; ls; ls = ls->next) {
        if (ls->fd < 0)
            continue;   /* covered by another listener */
        wlistener_t *wl = rl_xcalloc(1, sizeof(*wl));
        wl->ls = ls;
        wl->w = w;
        wl->io.fd = ls->fd;
        wl->io.read = &wl->rev;
        wl->rev.data = wl;
        wl->rev.handler = accept_ready;
        if (rl_loop_add_io(w->loop, &wl->io) != RL_OK) {
            free(wl);
            return RL_ERROR;
        }
        wl->next = w->listeners;
        w->listeners = wl;
    }
    return RL_OK;
}

/* Stops accepting, and closes this process's copies of the listening
 * sockets: once every process has, new connections are refused (graceful
 * stop); during a restart the master keeps them open for the new workers. */
static void listeners_close(rl_worker_t *w)
{
    while (w->listeners) {
        wlistener_t *wl = w->listeners;
        w->listeners = wl->next;
        rl_loop_unpost(w->loop, &wl->rev);
        rl_loop_del_io(w->loop, &wl->io);
        close(wl->io.fd);
        wl->ls->fd = -1;
        free(wl);
    }
}

void rl_worker_graceful(rl_worker_t *w)
{
    w->stopping = true;
    atomic_store_explicit(&w->sb->state, RL_SB_STOPPING, memory_order_relaxed);
    listeners_close(w);
    for (rl_conn_t *c = w->conns, *next; c; c = next) {
        next = c->next;
        /* idle keep-alive connections go; one just accepted (no request
         * yet) is served: its client is already sending it */
        if ((c->rev.handler == keepalive_read && c->requests > 0) ||
            (c->rev.handler == read_head && c->in.len == 0 && c->arena == NULL))
            conn_close(c);
    }
    if (w->nconns == 0)
        rl_loop_stop(w->loop);
}

void rl_worker_close_all(rl_worker_t *w)
{
    w->stopping = true;
    listeners_close(w);
    while (w->conns)
        conn_close(w->conns);
    rl_loop_stop(w->loop);
}

/* ---- reading a request head ---- */

static size_t head_limit(const rl_server_t *s)
{
    size_t lim = (size_t)s->limit_req_line + 2 +
                 (size_t)(s->limit_req_fields ? s->limit_req_fields : 100) *
                 ((size_t)s->limit_req_fieldsize + 2) + 2;
    return lim > (1u << 20) ? (1u << 20) : lim;
}

static void send_error_and_close(rl_conn_t *c, int status, const char *why);

/* mod_reqtimeout: every <rate> bytes received extend the deadline by a
 * second, up to <max>. */
static void head_timer(rl_conn_t *c)
{
    const rl_server_t *s = c->w->cf->main;
    uint64_t t = c->head_started + (uint64_t)s->rt_header * 1000;
    if (s->rt_header_rate > 0 && s->rt_header_max > s->rt_header) {
        t += c->head_bytes * 1000 / (uint64_t)s->rt_header_rate;
        uint64_t max = c->head_started + (uint64_t)s->rt_header_max * 1000;
        if (t > max)
            t = max;
    }
    uint64_t now = rl_loop_now(c->w->loop);
    rl_timer_add(c->w->loop, &c->rev, t > now ? t - now : 0);
}

static bool ensure_parser(rl_conn_t *c)
{
    if (c->arena)
        return true;
    rl_server_t *s = c->w->cf->main;
    c->arena = arena_get(c->w);
    c->parser = rl_arena_alloc(c->arena, sizeof(*c->parser));
    unsigned cap = s->limit_req_fields ? (unsigned)s->limit_req_fields : MAX_HEADERS_CAP;
    rl_http_header_t *h = rl_arena_alloc(c->arena, sizeof(*h) * cap);
    rl_http_parser_init(c->parser, h, cap);
    c->parser->max_line = (size_t)s->limit_req_line;
    c->parser->max_field = (size_t)s->limit_req_fieldsize;
    c->parser->max_fields = (unsigned)s->limit_req_fields;
    return true;
}

static void process_head(rl_conn_t *c, size_t head_len);

/* Reads what is there into c->in. Returns bytes read (> 0), 0 when nothing
 * is available now, -1 on EOF or error (the connection is then closed). */
static ssize_t fill(rl_conn_t *c, size_t limit)
{
    if (!rl_buf_reserve(&c->in, rl_buf_room(&c->in) ? 0 : 4096, limit) ||
        rl_buf_room(&c->in) == 0)
        return -2;
    size_t room = rl_buf_room(&c->in);
    ssize_t n = recv(c->io.fd, rl_buf_tail(&c->in), room, 0);
    if (n > 0) {
        c->in.len += (size_t)n;
        /* less than asked: the socket is drained (as nginx assumes with
         * edge-triggered epoll), no need for a recv that says EAGAIN */
        if ((size_t)n < room)
            c->rev.ready = 0;
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        c->rev.ready = 0;
        return 0;
    }
    return -1;
}

static void read_head(rl_event_t *ev)
{
    rl_conn_t *c = ev->data;
    rl_server_t *s = c->w->cf->main;
    if (ev->timedout) {
        ev->timedout = 0;
        if (c->in.len == 0 && c->requests == 0 && c->head_bytes == 0) {
            conn_close(c);
            return;
        }
        rl_log_error(s->error_log, RL_LOG_INFO, "reqtimeout", rl_conn_peer_str(c), "AH01382: Request header "
                     "read timeout");
        send_error_and_close(c, 408, NULL);
        return;
    }
    if (c->in.cap == 0 && !rl_buf_reserve(&c->in, HEAD_BUF_INITIAL, 0)) {
        conn_close(c);
        return;
    }
    ensure_parser(c);
    size_t limit = head_limit(s);
    for (;;) {
        ssize_t p = rl_http_parse_request(c->parser, rl_buf_head(&c->in), rl_buf_unread(&c->in));
        if (p > 0) {
            rl_timer_del(c->w->loop, &c->rev);
            process_head(c, (size_t)p);
            return;
        }
        if (p < 0) {
            send_error_and_close(c, c->parser->status, c->parser->error);
            return;
        }
        ssize_t n = fill(c, limit);
        if (n == 0) {
            head_timer(c);
            return;
        }
        if (n == -2) {
            send_error_and_close(c, 431, "request head larger than the server accepts");
            return;
        }
        if (n < 0) {
            conn_close(c);
            return;
        }
        c->head_bytes += (uint64_t)n;
    }
}

static void keepalive_read(rl_event_t *ev)
{
    rl_conn_t *c = ev->data;
    if (ev->timedout) {
        conn_close(c);
        return;
    }
    /* read straight into a buffer: given back at once when nothing came */
    if (!rl_buf_reserve(&c->in, HEAD_BUF_INITIAL, 0)) {
        conn_close(c);
        return;
    }
    size_t room = rl_buf_room(&c->in);
    ssize_t n = recv(c->io.fd, rl_buf_tail(&c->in), room, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        conn_close(c);
        return;
    }
    if (n < 0) {
        ev->ready = 0;
        rl_buf_release(&c->in);
        return;
    }
    c->in.len += (size_t)n;
    if ((size_t)n < room)
        ev->ready = 0;
    rl_timer_del(c->w->loop, ev);
    c->head_started = rl_loop_now(c->w->loop);
    c->head_bytes = (uint64_t)n;
    sb_state(c, RL_SB_C_READ);
    ev->handler = read_head;
    head_timer(c);
    read_head(ev);
}

/* ---- building the request ---- */

static int method_id(rl_str_t m)
{
    static const char *names[] = {
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
        "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK",
    };
    for (int i = 0; i < (int)RL_NELEMS(names); i++)
        if (rl_str_eq_c(m, names[i]))
            return i;
    return RL_M_OTHER;
}

/* Host header or absolute-form authority into r->hostname / host_port.
 * Returns false when it is malformed. */
static bool set_host(rl_request_t *r, rl_str_t host)
{
    host = rl_str_trim(host);
    if (host.len == 0)
        return true;
    size_t n = host.len;
    const char *p = host.p;
    size_t end = n;
    if (p[0] == '[') {
        const char *rb = memchr(p, ']', n);
        if (rb == NULL)
            return false;
        end = (size_t)(rb - p) + 1;
    } else {
        const char *colon = memchr(p, ':', n);
        if (colon)
            end = (size_t)(colon - p);
    }
    if (end < n) {
        if (p[end] != ':')
            return false;
        uint64_t port = 0;
        if (end + 1 < n && !rl_str_to_u64(rl_str(p + end + 1, n - end - 1), 65535, &port))
            return false;
        r->host_port = (int)port;
    }
    char *h = rl_arena_strndup(r->arena, p[0] == '[' ? p + 1 : p, p[0] == '[' ? end - 2 : end);
    for (char *x = h; *x; x++) {
        unsigned char ch = (unsigned char)*x;
        if (ch <= ' ' || ch == '/' || ch == '\\' || ch == '@' || ch >= 0x7f)
            return false;
        *x = (char)tolower(ch);
    }
    /* a trailing dot names the same host */
    size_t hl = strlen(h);
    if (hl && h[hl - 1] == '.')
        h[hl - 1] = '\0';
    r->hostname = h;
    return true;
}

/* NUL-terminates the views the parser handed out, in place: each is
 * followed by a delimiter (SP, CR, LF, HT) in the buffer. */
static char *cstr(rl_str_t s)
{
    char *p = (char *)s.p;
    p[s.len] = '\0';
    return p;
}

static rl_request_t *request_new(rl_conn_t *c)
{
    rl_request_t *r = rl_arena_calloc(c->arena, sizeof(*r));
    r->arena = c->arena;
    r->conn = c;
    r->cf = c->w->cf;
    r->server = r->cf->main;
    r->body_tail = &r->body;
    clock_gettime(CLOCK_REALTIME, &r->start);
    return r;
}

/* Everything about the head that can make it an error before any module
 * sees it. Returns 0 or the status to answer. */
static int check_head(rl_conn_t *c, rl_request_t *r)
{
    rl_http_request_parser_t *p = c->parser;
    int st = rl_http_body_framing(p, &r->chunked, &r->content_length);
    if (st != RL_OK)
        return st;
    r->body_pending = r->chunked || r->content_length > 0;
    const rl_http_header_t *host = rl_http_find_header(p, "Host", NULL);
    if (host && rl_http_find_header(p, "Host", host))
        return 400;
    rl_str_t path, query, authority;
    int form = rl_uri_split(p->target, &path, &query, &authority);
    if (r->method_id == RL_M_CONNECT) {
        /* no proxy here: the default handler's answer, as Apache's */
        rl_hdrs_set(r->arena, &r->err_out, "Allow", "GET,POST,OPTIONS,HEAD,TRACE");
        return 405;
    }
    if (form < 0)
        return -form;
    if (form == RL_URI_ASTERISK && r->method_id != RL_M_OPTIONS)
        return 400;
    r->asterisk = form == RL_URI_ASTERISK;
    if (form == RL_URI_ABSOLUTE) {
        if (!set_host(r, authority))
            return 400;
    } else if (host && !set_host(r, host->value)) {
        return 400;
    }
    if (r->version == 11 && host == NULL && form != RL_URI_ABSOLUTE) {
        rl_hdrs_set(r->arena, &r->notes, "error-notes", NULL);
        return 400;
    }
    if (query.p)
        r->args = rl_arena_strndup(r->arena, query.p, query.len);
    if (!r->asterisk) {
        char *u = rl_arena_alloc(r->arena, RL_URI_NORMALIZE_SIZE(path.len) + 1);
        ssize_t n = rl_uri_normalize(path.p, path.len, u, false);
        if (n < 0)
            return (int)-n;
        u[n] = '\0';
        r->uri = u;
    } else {
        r->uri = "*";
    }
    const char *expect = rl_req_header(r, "Expect");
    if (expect && r->version >= 11) {
        if (strcasecmp(expect, "100-continue") != 0)
            return 417;
        r->expect_continue = true;
    }
    return 0;
}

static void fill_request(rl_conn_t *c, rl_request_t *r, size_t head_len)
{
    rl_http_request_parser_t *p = c->parser;
    r->the_request = rl_arena_strndup(r->arena, p->request_line.p, p->request_line.len);
    r->method = cstr(p->method);
    r->method_id = method_id(p->method);
    r->version = p->version;
    r->protocol = r->version == 11 ? "HTTP/1.1" : "HTTP/1.0";
    r->unparsed_uri = rl_arena_strndup(r->arena, p->target.p, p->target.len);
    r->headers = p->headers;
    r->nheaders = p->nheaders;
    for (unsigned i = 0; i < p->nheaders; i++) {
        cstr(p->headers[i].name);
        cstr(p->headers[i].value);
    }
    r->head_bytes = head_len;
    r->header_only = r->method_id == RL_M_HEAD;
}

/* A request that failed before processing: its status with Apache's page;
 * the connection closes afterwards (the framing may be unknown). */
static void early_error(rl_conn_t *c, rl_request_t *r, int status)
{
    r->close_after = true;
    r->dir = r->server->lookup_defaults;
    rl_req_error(r, status);
    start_response(c);
}

/* ---- asynchronous handlers ---- */

void rl_req_suspend(rl_request_t *r, void (*on_body)(rl_request_t *r))
{
    r->suspended = true;
    r->on_body = on_body;
    r->handler_done = true;
}

rl_loop_t *rl_req_loop(rl_request_t *r)
{
    return r->conn->w->loop;
}

static void free_stream(void *data)
{
    rl_request_t *r = data;
    rl_chunk_t *ch = r->body;
    while (ch) {
        rl_chunk_t *next = ch->next;
        if (ch->owned)
            free(ch);
        ch = next;
    }
    r->body = NULL;
}

/* The handler waits for the body: read it into r->body_in (as the discard
 * machinery reads, with LimitRequestBody), then call on_body. */
static void collect_body(rl_conn_t *c)
{
    rl_request_t *r = c->r;
    c->rev.handler = noop;
    rl_arena_on_cleanup(r->arena, free_stream, r);
    if (!r->body_pending) {
        r->on_body(r);
        if (r->on_body_data)
            r->on_body_data(r, NULL, 0);
        return;
    }
    if (r->expect_continue)
        send(c->io.fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
    if (r->on_body_data) {
        r->on_body(r);   /* it starts; the body follows as it comes */
    } else {
        r->body_in = rl_arena_calloc(r->arena, sizeof(*r->body_in));
        rl_arena_on_cleanup(r->arena, (rl_cleanup_cb)rl_buf_release, r->body_in);
    }
    int64_t limit = rl_core_limit_body(r->dir ? r->dir : r->server->lookup_defaults);
    c->drain_first = true;
    c->body_limit = limit > 0 ? (uint64_t)limit : 0;
    start_discard(c);
}

void rl_req_body_continue(rl_request_t *r)
{
    rl_conn_t *c = r->conn;
    if (c->body_paused) {
        c->body_paused = false;
        rl_loop_post(c->w->loop, &c->rev);
    }
}

void rl_req_resume(rl_request_t *r)
{
    r->suspended = false;
    start_response(r->conn);
}

static void kick_writer(rl_conn_t *c)
{
    if (c->wev.handler == write_resp)
        rl_loop_post(c->w->loop, &c->wev);
}

void rl_req_stream(rl_request_t *r, const char *data, size_t len)
{
    rl_conn_t *c = r->conn;
    if (r->header_only || len == 0)
        return;
    rl_chunk_t *ch = malloc(sizeof(*ch) + len + 24);
    if (ch == NULL) {
        rl_req_abort(r);
        return;
    }
    char *p = (char *)(ch + 1);
    int n = r->version >= 11 ? snprintf(p, 24, "%zx\r\n", len) : 0;
    memcpy(p + n, data, len);
    size_t total = (size_t)n + len;
    if (r->version >= 11) {
        memcpy(p + total, "\r\n", 2);
        total += 2;
    }
    *ch = (rl_chunk_t){ .data = p, .owned = true, .fd = -1, .len = total };
    *r->body_tail = ch;
    r->body_tail = &ch->next;
    if (c->cur == NULL)
        c->cur = ch;
    r->stream_queued += total;
    kick_writer(c);
}

/* Queues an owned chunk: memory (<data> copied, <len> bytes) or, with
 * <data> NULL, a range of file <fd>. */
static bool stream_push(rl_request_t *r, const char *data, size_t len, int fd, uint64_t off)
{
    rl_chunk_t *ch = malloc(sizeof(*ch) + (data ? len : 0));
    if (ch == NULL)
        return false;
    *ch = (rl_chunk_t){ .owned = true, .fd = fd, .off = off, .len = len };
    if (data) {
        ch->data = memcpy(ch + 1, data, len);
        r->stream_queued += len;
    } else {
        r->stream_spilled += len;
    }
    *r->body_tail = ch;
    r->body_tail = &ch->next;
    if (r->conn->cur == NULL)
        r->conn->cur = ch;
    return true;
}

void rl_req_stream_file(rl_request_t *r, int fd, uint64_t off, uint64_t len)
{
    if (r->header_only || len == 0)
        return;
    char size[24];
    int n = snprintf(size, sizeof(size), "%llx\r\n", (unsigned long long)len);
    bool ok = r->version < 11 ? stream_push(r, NULL, len, fd, off)
            : stream_push(r, size, (size_t)n, -1, 0) && stream_push(r, NULL, len, fd, off) &&
              stream_push(r, "\r\n", 2, -1, 0);
    if (!ok) {
        rl_req_abort(r);
        return;
    }
    kick_writer(r->conn);
}

void rl_req_stream_end(rl_request_t *r)
{
    rl_conn_t *c = r->conn;
    r->stream_done = true;
    if (r->version >= 11 && !r->header_only) {
        static const char last[] = "0\r\n\r\n";
        rl_chunk_t *ch = rl_arena_calloc(r->arena, sizeof(*ch));
        *ch = (rl_chunk_t){ .data = last, .fd = -1, .len = 5 };
        *r->body_tail = ch;
        r->body_tail = &ch->next;
        if (c->cur == NULL)
            c->cur = ch;
    }
    kick_writer(c);
}

void rl_req_abort(rl_request_t *r)
{
    request_logged(r->conn);
    conn_close(r->conn);
}

static void process_head(rl_conn_t *c, size_t head_len)
{
    rl_request_t *r = request_new(c);
    c->r = r;
    c->requests++;
    c->resp_bytes = 0;
    fill_request(c, r, head_len);
    rl_buf_consume(&c->in, head_len);
    int st = check_head(c, r);
    r->server = rl_vhost_select(r->cf, rl_conn_local(c), r->hostname);
    sb_request_start(c, r);
    if (st) {
        rl_log_error(r->server->error_log, RL_LOG_INFO, "core", rl_conn_peer_str(c), "AH00566: "
                     "request failed: %d", st);
        early_error(c, r, st);
        return;
    }
    if (r->asterisk) {
        /* Apache answers "OPTIONS *" with a bare 200 (no Allow) */
        r->status = 200;
        r->dir = r->server->lookup_defaults;
    } else if (r->method_id == RL_M_TRACE && !r->server->trace_enable) {
        rl_req_log(r, RL_LOG_ERR, "core", "AH00669: TRACE denied by server configuration");
        r->dir = r->server->lookup_defaults;
        rl_hdrs_set(r->arena, &r->err_out, "Allow", "GET,POST,OPTIONS,HEAD,TRACE");
        rl_req_error(r, 405);
    } else if (r->method_id == RL_M_TRACE) {
        rl_req_trace(r, c->parser);
    } else {
        rl_req_process(r);
    }
    if (r->status == 413)
        r->close_after = true;   /* the body was not read: nothing after it is safe */
    if (r->suspended) {
        collect_body(c);
        return;
    }
    if (r->body_pending && !r->expect_continue && !drops_connection(r->status)) {
        /* nothing consumes the body: as Apache's default handler, read and
         * drop it before answering, so that a bad chunk gets its 400, an
         * oversized chunked body its 413 and a stalled one its 408, never
         * a 200 followed by a silent close. (A client waiting for
         * 100-continue is answered at once, and the connection closed.) */
        int64_t limit = rl_core_limit_body(r->dir ? r->dir : r->server->lookup_defaults);
        c->drain_first = true;
        c->body_limit = limit > 0 ? (uint64_t)limit : 0;
        start_discard(c);
        return;
    }
    start_response(c);
}

/* TRACE (Apache's TraceEnable On default): echo the request head. */
void rl_req_trace(rl_request_t *r, const rl_http_request_parser_t *p)
{
    rl_buf_t b = RL_BUF_INIT;
    rl_buf_appendf(&b, "%s\r\n", r->the_request);
    for (unsigned i = 0; i < p->nheaders; i++)
        rl_buf_appendf(&b, "%s: %s\r\n", p->headers[i].name.p, p->headers[i].value.p);
    rl_buf_append(&b, "\r\n", 2);
    char *body = rl_arena_strndup(r->arena, b.data, b.len);
    rl_req_body_mem(r, body, b.len);
    r->body_len = b.len;
    rl_buf_release(&b);
    r->status = 200;
    r->content_type = "message/http";
    r->dir = r->server->lookup_defaults;
}

/* ---- virtual hosts ---- */

static bool name_match(const char *pattern, const char *host)
{
    if (strpbrk(pattern, "*?["))
        return fnmatch(pattern, host, FNM_CASEFOLD) == 0;
    return strcmp(pattern, host) == 0;
}

/* Apache's selection: the vhosts whose address matches the connection's
 * local address exactly win over "*:port" ones; among them the first whose
 * ServerName or ServerAlias matches Host, else the first of them. None:
 * the main server. */
rl_server_t *rl_vhost_select(rl_config_t *cf, const rl_sockaddr_t *local, const char *host)
{
    int port = rl_sockaddr_port(local);
    for (int pass = 0; pass < 2; pass++) {
        rl_server_t *first = NULL;
        for (rl_server_t *s = cf->main->next; s; s = s->next) {
            bool match = false;
            for (unsigned i = 0; i < s->naddrs && !match; i++) {
                int p = rl_sockaddr_port(&s->addrs[i]);
                if (p && p != port)
                    continue;
                match = pass == 0 ? !s->addr_any[i] && rl_sockaddr_ip_equal(&s->addrs[i], local)
                                  : s->addr_any[i];
            }
            if (!match)
                continue;
            if (first == NULL)
                first = s;
            if (host == NULL)
                break;
            if (s->hostname && strcasecmp(s->hostname, host) == 0)
                return s;
            for (unsigned i = 0; i < s->naliases; i++)
                if (name_match(s->aliases[i], host))
                    return s;
        }
        if (first)
            return first;
    }
    return cf->main;
}

/* ---- the response ---- */

static bool drops_connection(int status)
{
    return status == 400 || status == 408 || status == 411 || status == 413 ||
           status == 414 || status == 500 || status == 501 || status == 503 || status == 431 ||
           status == 417;
}

static bool wants_keepalive(rl_conn_t *c, rl_request_t *r)
{
    const rl_server_t *s = r->server;
    if (r->streaming && r->version < 11)
        return false;   /* the end of the body is the end of the connection */
    if (r->close_after || c->w->stopping || !s->keepalive || drops_connection(r->status))
        return false;
    /* Apache counts the keep-alives after the first request: with
     * MaxKeepAliveRequests N a connection carries N + 1 requests */
    if (s->max_keepalive_requests > 0 && c->requests > (unsigned)s->max_keepalive_requests)
        return false;
    const char *conn = rl_req_header(r, "Connection");
    if (conn && rl_str_has_token(rl_str_c(conn), "close"))
        return false;
    if (r->version < 11 && !(conn && rl_str_has_token(rl_str_c(conn), "keep-alive")))
        return false;
    /* a body we would have to drop and the client waits for 100-continue */
    if (r->body_pending && r->expect_continue)
        return false;
    return true;
}

static bool status_has_body(int status)
{
    return !(status == 204 || status == 304 || (status >= 100 && status < 200));
}

static void put_header(rl_buf_t *b, const char *name, const char *value)
{
    rl_buf_append_c(b, name);
    rl_buf_append(b, ": ", 2);
    rl_buf_append_c(b, value);
    rl_buf_append(b, "\r\n", 2);
}

static void build_head(rl_conn_t *c, rl_request_t *r)
{
    rl_buf_t *b = &c->out;
    rl_buf_clear(b);
    /* Apache answers HTTP/1.0 requests with HTTP/1.1 too (RFC 9110 2.5) */
    rl_buf_appendf(b, "HTTP/1.1 %s\r\n", rl_http_status_line(r->status));
    put_header(b, "Date", rl_http_date_now(rl_loop_time(c->w->loop)));
    put_header(b, "Server", r->cf->server_banner);
    /* Apache's order: err_headers_out, then headers_out */
    for (rl_hdr_t *h = r->err_out.head; h; h = h->next)
        if (h->value)
            put_header(b, h->name, h->value);
    for (rl_hdr_t *h = r->out.head; h; h = h->next)
        if (h->value)
            put_header(b, h->name, h->value);
    if (r->streaming) {
        /* HEAD: no length is known, no body follows (as Apache) */
        if (r->version >= 11 && status_has_body(r->status) && !r->header_only)
            put_header(b, "Transfer-Encoding", "chunked");
    } else if (status_has_body(r->status) || r->method_id == RL_M_HEAD) {
        if (r->status != 304)
            rl_buf_appendf(b, "Content-Length: %llu\r\n", (unsigned long long)r->body_len);
    }
    if (r->keepalive) {
        /* as Apache: Keep-Alive and Connection only to a client that sent
         * the keep-alive token (an HTTP/1.1 client needs neither) */
        const char *conn = rl_req_header(r, "Connection");
        if (conn && rl_str_has_token(rl_str_c(conn), "keep-alive")) {
            const rl_server_t *s = r->server;
            long left = s->max_keepalive_requests > 0
                      ? (long)s->max_keepalive_requests - (long)c->requests + 1 : 0;
            if (s->max_keepalive_requests > 0)
                rl_buf_appendf(b, "Keep-Alive: timeout=%lld, max=%ld\r\n",
                               (long long)(s->keepalive_timeout_ms / 1000), left);
            else
                rl_buf_appendf(b, "Keep-Alive: timeout=%lld\r\n",
                               (long long)(s->keepalive_timeout_ms / 1000));
            put_header(b, "Connection", "Keep-Alive");
        }
    } else {
        put_header(b, "Connection", "close");
    }
    if (r->content_type && status_has_body(r->status))
        put_header(b, "Content-Type", r->content_type);
    rl_buf_append(b, "\r\n", 2);
}

static void start_response(rl_conn_t *c)
{
    rl_request_t *r = c->r;
    if (r->status == 0)
        r->status = 200;
    r->keepalive = wants_keepalive(c, r);
    c->closing = !r->keepalive;
    /* bytes arriving while the response is out (a pipelined request, the
     * rest of a body) wait for finish_request(): read_head would parse them
     * with this request's parser */
    c->rev.handler = noop;
    if (r->header_only || !status_has_body(r->status)) {
        r->body = NULL;
        r->body_tail = &r->body;
    }
    /* mod_expires, mod_headers: their say on the header fields, now final
     * (Apache's output filters run at this point) */
    rl_headers_before_head(r);
    build_head(c, r);
    c->cur = r->body;
    c->cur_done = 0;
    c->wev.handler = write_resp;
    write_resp(&c->wev);
}

/* A streamed chunk is written: it leaves the queue and its memory goes. */
static void stream_pop(rl_request_t *r, rl_chunk_t *ch)
{
    r->body = ch->next;
    if (r->body_tail == &ch->next)
        r->body_tail = &r->body;
    if (ch->data)
        r->stream_queued -= ch->len;
    else
        r->stream_spilled -= ch->len;
    free(ch);
}

/* Sends the head (with the first memory chunks, in one writev) and then
 * the body chunks. Returns RL_OK when all is out, RL_AGAIN, RL_ERROR. */
static int send_some(rl_conn_t *c)
{
    rl_request_t *r = c->r;
    for (;;) {
        struct iovec iov[16];
        int n = 0;
        size_t head = rl_buf_unread(&c->out);
        if (head)
            iov[n++] = (struct iovec){ rl_buf_head(&c->out), head };
        rl_chunk_t *ch = c->cur;
        uint64_t done = c->cur_done;
        for (; ch && ch->data && n < 16; ch = ch->next, done = 0)
            iov[n++] = (struct iovec){ (char *)ch->data + done, (size_t)(ch->len - done) };
        ssize_t w;
        if (n > 0) {
            bool more = ch != NULL;   /* a file chunk follows: hold the segment */
            struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
            w = sendmsg(c->io.fd, &mh, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        } else if (c->cur) {
            off_t off = (off_t)(c->cur->off + c->cur_done);
            uint64_t left = c->cur->len - c->cur_done;
            w = sendfile(c->io.fd, c->cur->fd, &off, left > (1u << 30) ? (1u << 30) : left);
            if (w == 0) {
                rl_req_log(r, RL_LOG_ERR, "core", "AH00574: file %s shrank while being sent",
                           r->filename ? r->filename : "");
                return RL_ERROR;
            }
        } else {
            return RL_OK;
        }
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return RL_AGAIN;
            return RL_ERROR;
        }
        c->resp_bytes += (uint64_t)w;
        size_t used = (size_t)w < head ? (size_t)w : head;
        rl_buf_consume(&c->out, used);
        uint64_t rest = (uint64_t)w - used;
        r->bytes_sent += rest;
        while (rest && c->cur) {
            uint64_t left = c->cur->len - c->cur_done;
            if (rest < left) {
                c->cur_done += rest;
                rest = 0;
            } else {
                rest -= left;
                rl_chunk_t *sent = c->cur;
                c->cur = c->cur->next;
                c->cur_done = 0;
                if (sent->owned)
                    stream_pop(r, sent);
            }
        }
        while (c->cur && c->cur->len == 0)
            c->cur = c->cur->next;
    }
}

static void write_resp(rl_event_t *ev)
{
    rl_conn_t *c = ev->data;
    if (ev->timedout) {
        ev->timedout = 0;
        rl_log_error(c->r->server->error_log, RL_LOG_INFO, "core", rl_conn_peer_str(c), "AH01075: "
                     "timed out sending the response");
        conn_close(c);
        return;
    }
    int rc = send_some(c);
    if (rc == RL_AGAIN) {
        ev->ready = 0;
        if (!c->r->streaming || c->r->stream_done)
            sb_state(c, RL_SB_C_WRITING);   /* the handler is done: write completion */
        rl_timer_add(c->w->loop, ev, (uint64_t)c->r->server->timeout_ms);
        return;
    }
    rl_timer_del(c->w->loop, ev);
    if (rc == RL_ERROR) {
        c->r->keepalive = false;
        request_logged(c);
        conn_close(c);
        return;
    }
    rl_request_t *r = c->r;
    if (r->streaming && !(r->stream_done && c->cur == NULL)) {
        /* everything so far is out: the producer may go on */
        if (r->on_drain && !r->stream_done)
            r->on_drain(r);
        return;
    }
    ev->handler = noop;
    finish_request(c);
}

/* ---- between requests ---- */

static void next_request(rl_conn_t *c)
{
    rl_worker_t *w = c->w;
    request_free(c);
    rl_buf_clear(&c->out);
    c->head_started = rl_loop_now(w->loop);
    c->head_bytes = 0;
    if (rl_buf_unread(&c->in)) {
        /* a pipelined request is already here */
        sb_state(c, RL_SB_C_READ);
        c->rev.handler = read_head;
        head_timer(c);
        rl_loop_post(w->loop, &c->rev);
        return;
    }
    rl_buf_release(&c->in);
    rl_buf_release(&c->out);
    if (w->stopping) {
        conn_close(c);
        return;
    }
    c->rev.handler = keepalive_read;
    sb_state(c, RL_SB_C_KEEPALIVE);
    rl_timer_add(w->loop, &c->rev, (uint64_t)w->cf->main->keepalive_timeout_ms);
    if (c->rev.ready || c->rev.eof)
        rl_loop_post(w->loop, &c->rev);
}

/* Hands body bytes to a handler that streams them; false once it pauses. */
static void body_to_handler(rl_conn_t *c, const char *p, size_t n)
{
    rl_request_t *r = c->r;
    if (n && c->drain_first && r->on_body_data && !r->on_body_data(r, p, n))
        c->body_paused = true;
}

/* Drops <n> body bytes at <p> (or hands them to the handler that collects
 * or streams them); returns how many belonged to the body. */
static size_t discard_bytes(rl_conn_t *c, char *p, size_t n, bool *done, bool *bad)
{
    rl_buf_t *keep = c->r ? c->r->body_in : NULL;
    if (c->dechunk) {
        size_t out;
        ssize_t k = rl_http_chunked_decode(c->dechunk, p, n, &out);
        if (k < 0) {
            *bad = true;
            return n;
        }
        if (keep && out)
            rl_buf_append(keep, p, out);
        if (keep && keep->len > COLLECT_MAX)
            c->collect_full = *bad = true;
        *done = rl_http_chunked_done(c->dechunk);
        if (c->body_limit && c->dechunk->total > c->body_limit)
            *bad = true;
        else
            body_to_handler(c, p, out);
        return (size_t)k;
    }
    size_t k = n < c->discard_left ? n : (size_t)c->discard_left;
    if (keep && k)
        rl_buf_append(keep, p, k);
    if (keep && keep->len > COLLECT_MAX) {
        c->collect_full = *bad = true;
        return n;
    }
    body_to_handler(c, p, k);
    c->discard_left -= k;
    *done = c->discard_left == 0;
    return k;
}

/* The body read before answering was bad: <status> is the answer, and
 * the connection closes. */
static void body_failed(rl_conn_t *c, int status)
{
    rl_request_t *r = c->r;
    bool streamed = r->on_body_data != NULL;
    c->drain_first = false;
    c->rev.handler = noop;
    if (streamed) {
        /* the handler let go of the request first */
        if (r->on_cancel)
            r->on_cancel(r);
        r->on_body_data = NULL;
        r->on_drain = NULL;
        if (!r->suspended) {
            /* its answer has begun: only a cut connection tells the client */
            rl_req_log(r, RL_LOG_INFO, "core", "AH00567: request body failed (%d) "
                       "after the response began", status);
            rl_req_abort(r);
            return;
        }
        r->suspended = false;
        r->streaming = false;
    }
    if (status == 408)
        rl_req_log(r, RL_LOG_INFO, "reqtimeout", "AH01382: Request body read timeout");
    else
        rl_req_log(r, RL_LOG_INFO, "core", "AH00567: %s", c->collect_full
                   ? "request body larger than relais holds for a handler (16 MiB)"
                   : status == 413
                   ? "chunked request body larger than LimitRequestBody"
                   : c->dechunk && c->dechunk->error ? c->dechunk->error
                   : "invalid request body");
    r->err_out.head = r->err_out.tail = NULL;
    early_error(c, r, status);
}

static void discard_read(rl_event_t *ev)
{
    rl_conn_t *c = ev->data;
    bool done = false, bad = false;
    if (ev->timedout) {
        ev->timedout = 0;
        if (c->drain_first)
            body_failed(c, 408);
        else
            conn_close(c);
        return;
    }
    if (c->body_paused)
        return;   /* rl_req_body_continue() posts this event again */
    /* what arrived with the head first */
    if (rl_buf_unread(&c->in)) {
        size_t k = discard_bytes(c, rl_buf_head(&c->in), rl_buf_unread(&c->in), &done, &bad);
        rl_buf_consume(&c->in, k);
    }
    char tmp[16384];
    while (!done && !bad) {
        if (c->body_paused) {
            rl_timer_del(c->w->loop, ev);   /* the handler's timeouts rule now */
            return;
        }
        ssize_t n = recv(c->io.fd, tmp, sizeof(tmp), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            ev->ready = 0;
            rl_timer_add(c->w->loop, ev, (uint64_t)c->r->server->rt_body * 1000);
            return;
        }
        if (n <= 0) {
            conn_close(c);
            return;
        }
        size_t k = discard_bytes(c, tmp, (size_t)n, &done, &bad);
        if (k < (size_t)n && !bad) {
            /* the next pipelined request starts here: keep it */
            if (!rl_buf_reserve(&c->in, (size_t)n - k, 0)) {
                conn_close(c);
                return;
            }
            rl_buf_append(&c->in, tmp + k, (size_t)n - k);
        }
    }
    rl_timer_del(c->w->loop, ev);
    if (bad && c->drain_first) {
        bool too_large = c->collect_full ||
                         (c->dechunk && c->body_limit && c->dechunk->total > c->body_limit);
        body_failed(c, too_large ? 413 : c->dechunk && c->dechunk->status == 413 ? 413 : 400);
        return;
    }
    if (bad) {
        conn_close(c);
        return;
    }
    if (c->drain_first) {
        rl_request_t *r = c->r;
        c->drain_first = false;
        r->body_pending = false;
        if (r->on_body_data)
            r->on_body_data(r, NULL, 0);   /* streamed: the handler answers */
        else if (r->suspended)
            r->on_body(r);
        else
            start_response(c);
        return;
    }
    next_request(c);
}

static void start_discard(rl_conn_t *c)
{
    rl_request_t *r = c->r;
    if (r->chunked) {
        c->dechunk = rl_arena_alloc(c->arena, sizeof(*c->dechunk));
        rl_http_chunked_init(c->dechunk);
    } else {
        c->discard_left = r->content_length;
    }
    c->rev.handler = discard_read;
    discard_read(&c->rev);
}

static void finish_request(rl_conn_t *c)
{
    rl_request_t *r = c->r;
    request_logged(c);
    if (c->closing) {
        /* lingering is for a client that may still be sending */
        if (r->close_after || r->body_pending || rl_buf_unread(&c->in))
            linger_close(c);
        else
            conn_close(c);
        return;
    }
    if (r->body_pending)
        sb_state(c, RL_SB_C_READ);   /* dropping the rest of the body */
    if (r->body_pending && c->rev.handler == discard_read) {
        /* answered while the body still streamed in: drop the rest */
        c->drain_first = false;
        r->on_body_data = NULL;
        c->body_paused = false;
        rl_loop_post(c->w->loop, &c->rev);
        return;
    }
    if (r->body_pending) {
        start_discard(c);
        return;
    }
    next_request(c);
}

/* The request line as c->in holds it now. The parser's view is current
 * after a parse error, but not after a timeout: its last call may have
 * seen an earlier buffer that has grown (and moved) since. */
static char *buffered_request_line(rl_conn_t *c)
{
    const char *p = rl_buf_head(&c->in), *end = p + rl_buf_unread(&c->in);
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    const char *e = p;
    while (e < end && *e != '\r' && *e != '\n')
        e++;
    return rl_arena_strndup(c->arena, p, (size_t)(e - p));
}

/* Answers a request that could not be parsed and closes: the framing is
 * unknown, nothing after it can be trusted. */
static void send_error_and_close(rl_conn_t *c, int status, const char *why)
{
    rl_timer_del(c->w->loop, &c->rev);
    ensure_parser(c);
    rl_request_t *r = request_new(c);
    c->r = r;
    c->requests++;
    c->resp_bytes = 0;
    r->method = "GET";
    r->version = c->parser->version == 10 ? 10 : 11;
    r->protocol = r->version == 10 ? "HTTP/1.0" : "HTTP/1.1";
    if (c->parser->request_line.p && status != 414 && rl_buf_unread(&c->in))
        r->the_request = buffered_request_line(c);
    else
        r->the_request = "-";
    sb_request_start(c, r);
    if (why)
        rl_log_error(r->server->error_log, RL_LOG_INFO, "core", rl_conn_peer_str(c),
                     "AH00567: %s", why);
    /* the two limits whose reason Apache puts on its 400 page */
    if (why && status == 400 &&
        (strcmp(why, "Size of a request header field exceeds server limit.") == 0 ||
         strcmp(why, "The number of request header fields exceeds this server's limit.") == 0))
        rl_hdrs_set(r->arena, &r->notes, "error-notes", why);
    rl_buf_clear(&c->in);
    early_error(c, r, status);
}
