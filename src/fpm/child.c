/* relais-fpm's child: php-fpm's request loop (fpm_main.c's main loop and
 * fastcgi.c's server side), one blocking connection at a time. Blocking
 * I/O is right here: a child runs one request at a time anyway, and PHP
 * itself is synchronous. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <poll.h>
#include <syslog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/sock.h"
#include "fcgi/fcgi.h"
#include "fpm/accesslog.h"
#include "fpm/child.h"
#include "fpm/status.h"
#include "sapi/sapi.h"

/* The input buffer starts small (params and small bodies) and grows to
 * hold a whole record of the largest size when one comes. */
#define IN_START (16 * 1024)
#define IN_CAP (RL_FCGI_HEADER_LEN + RL_FCGI_MAX_CONTENT + 255 + 4096)
#define OUT_FLUSH (16 * 1024)      /* php-fpm: 8 KiB; fewer writes, little memory */
#define MAX_PARAMS_BYTES (1024 * 1024)
#define DRAIN_MS 5000             /* the rest of a request's body, at most */

static volatile sig_atomic_t soft_quit;

/* One FastCGI connection and the request on it. */
typedef struct {
    rl_fpm_child_t *child;
    int fd;
    rl_fcgi_parser_t parser;
    uint8_t *in;
    size_t in_len;             /* bytes in <in> */
    size_t in_cap;             /* its size: IN_START, or IN_CAP */
    size_t in_pos;             /* parsed up to here */
    rl_buf_t out;
    rl_buf_t carry;
    rl_arena_t *arena;         /* the request's */
    uint16_t id;               /* the request's id; 0: none */
    bool keep;
    bool stdin_done;
    bool ended;                /* END_REQUEST sent */
    bool broken;               /* the connection failed */
    /* the STDIN record being read */
    const uint8_t *body;
    size_t body_len;
    /* params */
    size_t nparams, cap;
    const char **names, **values;
    size_t *name_lens, *value_lens;
    char peer[64];
    double cpu_user, cpu_system;   /* % of the last request's duration */
    bool counted_idle;         /* the board counts this child as idle */
    rl_buf_t headers;          /* the script's header lines, NUL after each */
    /* the params the child itself reads, noted as they arrive (a later
     * one replaces an earlier one, as in the SAPI) */
    const char *known[5];
} fconn_t;

enum { P_SCRIPT_NAME, P_METHOD, P_QUERY, P_SCRIPT_FILENAME, P_CONTENT_LENGTH };
static const char *const known_names[] = {
    [P_SCRIPT_NAME] = "SCRIPT_NAME", [P_METHOD] = "REQUEST_METHOD",
    [P_QUERY] = "QUERY_STRING", [P_SCRIPT_FILENAME] = "SCRIPT_FILENAME",
    [P_CONTENT_LENGTH] = "CONTENT_LENGTH",
};

static void on_quit(int signo)
{
    (void)signo;
    soft_quit = 1;
}

void rl_fpm_child_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_quit;       /* no SA_RESTART: accept() and reads return EINTR */
    sigaction(SIGQUIT, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
}

static rl_fpm_slot_t *slot(fconn_t *c)
{
    return &c->child->sb->slots[c->child->slot];
}

static void set_stage(fconn_t *c, int stage)
{
    __atomic_store_n(&slot(c)->stage, stage, __ATOMIC_RELEASE);
}

/* Adds <d> to a pool figure the master also sets each second, never below
 * zero (php-fpm's fpm_scoreboard_update_commit()). */
static void board_add(int *v, int d)
{
    int old = __atomic_load_n(v, __ATOMIC_RELAXED);
    while (old + d >= 0 &&
           !__atomic_compare_exchange_n(v, &old, old + d, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* php-fpm's fpm_request_accepting(): idle again. */
static void board_accepting(fconn_t *c)
{
    if (c->counted_idle)
        return;
    c->counted_idle = true;
    board_add(&c->child->sb->idle, 1);
    board_add(&c->child->sb->active, -1);
}

/* php-fpm's fpm_request_reading_headers(): a request starts. */
static void board_request(fconn_t *c)
{
    rl_fpm_scoreboard_t *sb = c->child->sb;
    c->counted_idle = false;
    board_add(&sb->idle, -1);
    board_add(&sb->active, 1);
    __atomic_add_fetch(&sb->accepted_conn, 1, __ATOMIC_RELAXED);
}

/* ---- output ---- */

static int write_all(fconn_t *c, const char *p, size_t n)
{
    while (n > 0 && !c->broken) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            c->broken = true;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return c->broken ? -1 : 0;
}

static int flush_out(fconn_t *c)
{
    int rc = c->broken ? -1 : write_all(c, rl_buf_head(&c->out), rl_buf_unread(&c->out));
    rl_buf_clear(&c->out);
    return rc;
}

static int end_request(fconn_t *c, uint32_t app_status, uint8_t proto)
{
    if (c->ended)
        return 0;
    c->ended = true;
    if (proto == RL_FCGI_REQUEST_COMPLETE)
        rl_fcgi_encode_stream_end(&c->out, RL_FCGI_STDOUT, c->id);
    rl_fcgi_encode_end_request(&c->out, c->id, app_status, proto);
    return flush_out(c);
}

/* Sends <len> bytes of output as STDOUT records without copying them:
 * each record's header and padding around the caller's bytes. */
static int write_records(fconn_t *c, const char *data, size_t len)
{
    static const uint8_t zeros[8];
    while (len > 0 && !c->broken) {
        size_t n = len < RL_FCGI_CHUNK ? len : RL_FCGI_CHUNK;
        rl_fcgi_header_t h = { RL_FCGI_VERSION_1, RL_FCGI_STDOUT, c->id, (uint16_t)n,
                               rl_fcgi_padding(n) };
        uint8_t head[RL_FCGI_HEADER_LEN];
        rl_fcgi_header_encode(head, &h);
        struct iovec iov[3] = { { head, sizeof(head) }, { (void *)data, n },
                                { (void *)zeros, h.padding_length } };
        size_t want = sizeof(head) + n + h.padding_length;
        ssize_t w = writev(c->fd, iov, h.padding_length ? 3 : 2);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            c->broken = true;
            return -1;
        }
        if ((size_t)w < want) {
            /* a partial write: send the rest of this record as it is */
            rl_buf_t rest = { 0 };
            rl_buf_append(&rest, head, sizeof(head));
            rl_buf_append(&rest, data, n);
            rl_buf_append(&rest, zeros, h.padding_length);
            int rc = write_all(c, rl_buf_head(&rest) + w, want - (size_t)w);
            rl_buf_release(&rest);
            if (rc < 0)
                return -1;
        }
        data += n;
        len -= n;
    }
    return c->broken ? -1 : 0;
}

static int io_write(void *ctx, const char *data, size_t len)
{
    fconn_t *c = ctx;
    if (c->broken)
        return -1;
    if (c->ended)
        return 0;
    /* large output goes out as it is, small output is gathered: the buffer
     * never grows past OUT_FLUSH */
    if (rl_buf_unread(&c->out) + len >= OUT_FLUSH) {
        if (flush_out(c) < 0)
            return -1;
        if (len >= OUT_FLUSH / 2)
            return write_records(c, data, len);
    }
    rl_fcgi_encode_stream(&c->out, RL_FCGI_STDOUT, c->id, data, len);
    return 0;
}

static int io_flush(void *ctx)
{
    fconn_t *c = ctx;
    return c->ended ? 0 : flush_out(c);
}

static void stderr_record(fconn_t *c, const char *prefix, const char *line, size_t len)
{
    if (c->broken || c->ended || c->id == 0 || !rl_sapi_fcgi_logging())
        return;
    size_t plen = strlen(prefix);
    if (len > RL_FCGI_MAX_CONTENT - plen)
        len = RL_FCGI_MAX_CONTENT - plen;
    char rec[RL_FCGI_MAX_CONTENT];
    memcpy(rec, prefix, plen);
    memcpy(rec + plen, line, len);
    rl_fcgi_encode_record(&c->out, RL_FCGI_STDERR, c->id, rec, plen + len);
}

/* The child's own log lines go to its stderr as php-fpm's children write
 * them ("NOTICE: PHP message: ..."): /dev/null, or the master with
 * catch_workers_output. */
static void child_stderr(int level, const char *prefix, const char *line, size_t len)
{
    const char *name = level <= LOG_ERR ? "ERROR" : level == LOG_WARNING ? "WARNING" : "NOTICE";
    if (level >= LOG_DEBUG)
        return;
    dprintf(STDERR_FILENO, "%s: %s%.*s\n", name, prefix, (int)len, line);
}

/* PHP's messages: FCGI_STDERR "PHP message: ..." and the child's stderr. */
static void io_log(void *ctx, int level, const char *line, size_t len)
{
    stderr_record(ctx, "PHP message: ", line, len);
    child_stderr(level, "PHP message: ", line, len);
}

/* The SAPI's own lines ("Primary script unknown"): as they are. */
static void io_log_own(void *ctx, int level, const char *line, size_t len)
{
    stderr_record(ctx, "", line, len);
    child_stderr(level, "", line, len);
}

/* The script's header lines, kept for access.format's %{Name}o. */
static void io_header(void *ctx, const char *line, size_t len)
{
    fconn_t *c = ctx;
    if (c->child->access_fd < 0 || rl_buf_unread(&c->headers) + len > 16384)
        return;
    rl_buf_append(&c->headers, line, len);
    rl_buf_append(&c->headers, "", 1);
}

/* ---- input ---- */

/* Reads more bytes. Returns 1, 0 at EOF, -1 on error; with <idle>, a
 * SIGQUIT makes it return -1 too. */
static int read_more(fconn_t *c, bool idle)
{
    if (c->in_pos > 0) {
        memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
        c->in_len -= c->in_pos;
        c->in_pos = 0;
    }
    if (c->in_len == c->in_cap && c->in_cap < IN_CAP) {
        uint8_t *in = realloc(c->in, IN_CAP);
        if (!in)
            return -1;
        c->in = in;
        c->in_cap = IN_CAP;
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            return 1;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR && !(idle && soft_quit))
            continue;
        return -1;
    }
}

/* The next whole record. Returns 1, 0 at a clean EOF, -1 on error. */
static int next_record(fconn_t *c, rl_fcgi_record_t *rec, bool idle)
{
    for (;;) {
        ssize_t used = rl_fcgi_parse(&c->parser, c->in + c->in_pos, c->in_len - c->in_pos, rec);
        if (used < 0) {
            c->broken = true;
            return -1;
        }
        if (used > 0) {
            c->in_pos += (size_t)used;
            return 1;
        }
        int r = read_more(c, idle);
        if (r <= 0) {
            if (r == 0 && c->in_len == 0 && idle)
                return 0;
            c->broken = true;
            return -1;
        }
    }
}

static void answer_values(fconn_t *c, const rl_fcgi_record_t *rec)
{
    char num[16];
    snprintf(num, sizeof(num), "%d", c->child->pool->pm_max_children);
    rl_fcgi_pair_t out[3];
    size_t n = 0;
    size_t off = 0;
    rl_fcgi_pair_t p;
    while (off < rec->len) {
        ssize_t used = rl_fcgi_decode_pair(rec->data + off, rec->len - off, &p);
        if (used <= 0)
            break;
        off += (size_t)used;
        const char *v = NULL;
        if (rl_str_eq_c(p.name, RL_FCGI_MAX_CONNS) || rl_str_eq_c(p.name, RL_FCGI_MAX_REQS))
            v = num;
        else if (rl_str_eq_c(p.name, RL_FCGI_MPXS_CONNS))
            v = "0";
        if (v && n < 3)
            out[n++] = (rl_fcgi_pair_t){ p.name, rl_str_c(v) };
    }
    rl_fcgi_encode_get_values_result(&c->out, out, n);
    flush_out(c);
}

/* Management records and BEGIN_REQUESTs that come while a request is on. */
static void stray_record(fconn_t *c, const rl_fcgi_record_t *rec)
{
    if (rec->request_id == 0) {
        if (rec->type == RL_FCGI_GET_VALUES)
            answer_values(c, rec);
        else {
            rl_fcgi_encode_unknown_type(&c->out, rec->type);
            flush_out(c);
        }
    } else if (rec->type == RL_FCGI_BEGIN_REQUEST && rec->request_id != c->id) {
        rl_fcgi_encode_end_request(&c->out, rec->request_id, 0, RL_FCGI_CANT_MPX_CONN);
        flush_out(c);
    }
}

static ssize_t io_read_body(void *ctx, char *buf, size_t len)
{
    fconn_t *c = ctx;
    while (c->body_len == 0) {
        if (c->stdin_done)
            return 0;
        if (c->broken)
            return -1;
        rl_fcgi_record_t rec;
        if (next_record(c, &rec, false) <= 0)
            return -1;
        if (rec.request_id != c->id || rec.request_id == 0) {
            stray_record(c, &rec);
            continue;
        }
        if (rec.type == RL_FCGI_ABORT_REQUEST) {
            c->broken = true;
            return -1;
        }
        if (rec.type != RL_FCGI_STDIN)
            continue;
        if (rec.len == 0) {
            c->stdin_done = true;
            return 0;
        }
        c->body = rec.data;
        c->body_len = rec.len;
    }
    size_t n = len < c->body_len ? len : c->body_len;
    memcpy(buf, c->body, n);
    c->body += n;
    c->body_len -= n;
    return (ssize_t)n;
}

static int io_finish(void *ctx)
{
    fconn_t *c = ctx;
    int rc = end_request(c, 0, RL_FCGI_REQUEST_COMPLETE);
    slot(c)->finished_mono_us = rl_fpm_mono_us();
    set_stage(c, RL_FPM_STAGE_FINISHING);
    if (!c->keep)
        shutdown(c->fd, SHUT_WR);
    return rc;
}

static void add_param(fconn_t *c, const rl_fcgi_pair_t *p)
{
    if (c->nparams == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        const char **n = rl_arena_alloc(c->arena, cap * sizeof(*n));
        const char **v = rl_arena_alloc(c->arena, cap * sizeof(*v));
        size_t *nl = rl_arena_alloc(c->arena, cap * sizeof(*nl));
        size_t *vl = rl_arena_alloc(c->arena, cap * sizeof(*vl));
        if (c->nparams) {
            memcpy(n, c->names, c->nparams * sizeof(*n));
            memcpy(v, c->values, c->nparams * sizeof(*v));
            memcpy(nl, c->name_lens, c->nparams * sizeof(*nl));
            memcpy(vl, c->value_lens, c->nparams * sizeof(*vl));
        }
        c->names = n, c->values = v, c->name_lens = nl, c->value_lens = vl, c->cap = cap;
    }
    c->names[c->nparams] = rl_arena_strndup(c->arena, p->name.p, p->name.len);
    c->name_lens[c->nparams] = p->name.len;
    c->values[c->nparams] = rl_arena_strndup(c->arena, p->value.p, p->value.len);
    c->value_lens[c->nparams] = p->value.len;
    for (size_t k = 0; k < RL_NELEMS(known_names); k++)
        if (rl_str_eq_c(p->name, known_names[k]))
            c->known[k] = c->values[c->nparams];
    c->nparams++;
}

static const char *param(const fconn_t *c, const char *name)
{
    for (size_t i = 0; i < c->nparams; i++)
        if (strcmp(c->names[i], name) == 0)
            return c->values[i];
    return NULL;
}

/* Reads BEGIN_REQUEST and the PARAMS. Returns 1 with a request, 0 when the
 * connection ended cleanly between requests, -1 on error. */
static int read_request(fconn_t *c, bool first)
{
    rl_fcgi_record_t rec;
    for (;;) {
        /* a connection just accepted is served whatever comes; between
         * two requests of a kept one, SIGQUIT ends the wait */
        int r = next_record(c, &rec, !first);
        if (r <= 0)
            return r;
        if (rec.request_id == 0) {
            stray_record(c, &rec);
            continue;
        }
        if (rec.type != RL_FCGI_BEGIN_REQUEST)
            continue;               /* leftovers of an earlier request */
        if (rec.body.begin.role != RL_FCGI_RESPONDER) {
            rl_fcgi_encode_end_request(&c->out, rec.request_id, 0, RL_FCGI_UNKNOWN_ROLE);
            flush_out(c);
            if (!(rec.body.begin.flags & RL_FCGI_KEEP_CONN))
                return 0;
            continue;
        }
        c->id = rec.request_id;
        c->keep = (rec.body.begin.flags & RL_FCGI_KEEP_CONN) != 0;
        break;
    }
    rl_fpm_slot_t *s = slot(c);
    s->accepted_us = rl_fpm_now_us();
    s->accepted_mono_us = rl_fpm_mono_us();
    s->finished_mono_us = 0;
    set_stage(c, RL_FPM_STAGE_READING);
    board_request(c);
    rl_fcgi_pairs_t d;
    rl_fcgi_pairs_init(&d, &c->carry, MAX_PARAMS_BYTES);
    size_t total = 0;
    for (;;) {
        if (next_record(c, &rec, false) <= 0)
            return -1;
        if (rec.request_id != c->id) {
            stray_record(c, &rec);
            continue;
        }
        if (rec.type == RL_FCGI_ABORT_REQUEST)
            return -1;
        if (rec.type != RL_FCGI_PARAMS)
            continue;
        if (rec.len == 0)
            break;
        total += rec.len;
        if (total > MAX_PARAMS_BYTES)
            return -1;
        rl_fcgi_pairs_feed(&d, rec.data, rec.len);
        rl_fcgi_pair_t p;
        int k;
        while ((k = rl_fcgi_pairs_next(&d, &p)) == 1)
            add_param(c, &p);
        if (k < 0)
            return -1;
    }
    return rl_fcgi_pairs_end(&d) == RL_OK ? 1 : -1;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    if (!src)
        src = "";
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The status and ping pages, answered without PHP as php-fpm does. */
static bool internal_page(fconn_t *c)
{
    const rl_fpm_pool_t *wp = c->child->pool;
    const rl_fpm_pool_t *served = wp->shared ? wp->shared : wp;
    const char *uri = c->known[P_SCRIPT_NAME];
    if (!uri)
        return false;
    bool status = served->pm_status_path && strcmp(uri, served->pm_status_path) == 0;
    bool ping = served->ping_path && strcmp(uri, served->ping_path) == 0;
    if (!status && !ping)
        return false;
    const char *method = c->known[P_METHOD];
    bool head = method && strcmp(method, "HEAD") == 0;
    rl_buf_t page = { 0 };
    if (ping) {
        rl_fpm_ping_render(served->ping_response, head, &page);
    } else {
        rl_fpm_status_t st = {
            .sb = c->child->status_sb,
            .listen_queue = -1,
            .listen_queue_len = wp->listen_backlog,
            .now_us = rl_fpm_now_us(),
            .self = getpid(),
        };
        const char *q = c->known[P_QUERY];
        rl_fpm_status_render(&st, q ? q : "", head, &page);
    }
    io_write(c, rl_buf_head(&page), rl_buf_unread(&page));
    rl_buf_release(&page);
    return true;
}

static void cpu_times(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* php-fpm's access.log line, written by the child after the request. */
static void access_log(fconn_t *c);

/* Runs the request read into <c>. Returns -1 when the child must end. */
static int run_request(fconn_t *c)
{
    rl_fpm_slot_t *s = slot(c);
    rl_fpm_child_t *ch = c->child;
    set_stage(c, RL_FPM_STAGE_INFO);
    copy_str(s->method, sizeof(s->method), c->known[P_METHOD]);
    /* php-fpm shows PHP's request_uri: SCRIPT_NAME */
    copy_str(s->request_uri, sizeof(s->request_uri), c->known[P_SCRIPT_NAME]);
    copy_str(s->query, sizeof(s->query), c->known[P_QUERY]);
    copy_str(s->script, sizeof(s->script), c->known[P_SCRIPT_FILENAME]);
    const char *cl = c->known[P_CONTENT_LENGTH];
    s->content_length = cl ? strtoull(cl, NULL, 10) : 0;
    double u0, s0, u1, s1;
    cpu_times(&u0, &s0);
    int rc = 0;
    rl_sapi_result_t res;
    memset(&res, 0, sizeof(res));
    res.status = 200;
    if (internal_page(c)) {
        s->script[0] = '\0';
    } else {
        set_stage(c, RL_FPM_STAGE_RUNNING);
        rl_sapi_io_t io = {
            .ctx = c, .read_body = io_read_body, .write = io_write, .flush = io_flush,
            .finish = io_finish, .log = io_log, .log_own = io_log_own,
            .header = io_header,
        };
        rl_sapi_request_t req = {
            .nparams = c->nparams, .names = c->names, .name_lens = c->name_lens,
            .values = c->values, .value_lens = c->value_lens,
            .limit_extensions = ch->pool->limit_extensions,
        };
        rc = rl_sapi_run(&req, &io, &res);
        copy_str(s->script, sizeof(s->script), res.script);
        copy_str(s->request_uri, sizeof(s->request_uri), res.request_uri[0] ? res.request_uri : s->request_uri);
        copy_str(s->auth_user, sizeof(s->auth_user), res.auth_user);
    }
    set_stage(c, RL_FPM_STAGE_ENDING);
    end_request(c, 0, RL_FCGI_REQUEST_COMPLETE);
    uint64_t dur = rl_fpm_mono_us() - s->accepted_mono_us;
    s->duration_us = dur;
    s->memory = res.memory_peak;
    s->status = res.status;
    cpu_times(&u1, &s1);
    c->cpu_user = dur ? (u1 - u0) * 1e8 / (double)dur : 0;
    c->cpu_system = dur ? (s1 - s0) * 1e8 / (double)dur : 0;
    s->cpu = c->cpu_user + c->cpu_system;
    s->requests++;
    if (ch->access_fd >= 0)
        access_log(c);
    return rc;
}

/* Reads what is left of the request's FCGI_STDIN (a script that did not
 * read its body, or Apache's mod_proxy_fcgi, which sends the empty STDIN
 * record in a write of its own, possibly after the answer is out), for at
 * most DRAIN_MS. Closing with those bytes unread would reset the
 * connection, and Apache would answer 503; php-fpm instead half-closes and
 * waits for the client's close (fcgi_close()), which keeps the child busy
 * for a round trip of the web server on every request. */
static void drain_stdin(fconn_t *c)
{
    uint64_t deadline = rl_fpm_mono_us() + DRAIN_MS * 1000;
    c->body_len = 0;
    while (!c->stdin_done && !c->broken) {
        if (rl_fcgi_parser_between(&c->parser) && c->in_pos == c->in_len) {
            uint64_t now = rl_fpm_mono_us();
            struct pollfd pf = { c->fd, POLLIN, 0 };
            if (now >= deadline || poll(&pf, 1, (int)((deadline - now) / 1000) + 1) <= 0)
                break;
        }
        char buf[4096];
        if (io_read_body(c, buf, sizeof(buf)) <= 0)
            break;
    }
}

/* Serves the requests of one connection. Returns -1 when the child ends. */
static int serve_conn(fconn_t *c)
{
    for (bool first = true;; first = false) {
        c->id = 0;
        c->keep = false;
        c->stdin_done = false;
        c->ended = false;
        c->body_len = 0;
        c->nparams = c->cap = 0;
        memset(c->known, 0, sizeof(c->known));
        rl_buf_clear(&c->headers);
        rl_arena_reset(c->arena);
        int r = read_request(c, first);
        if (r <= 0)
            return 0;
        int rc = run_request(c);
        drain_stdin(c);
        if (rc < 0)
            return -1;
        set_stage(c, RL_FPM_STAGE_IDLE);
        board_accepting(c);
        int max = c->child->pool->pm_max_requests;
        if (max > 0 && slot(c)->requests >= (uint64_t)max)
            return -1;
        if (soft_quit || !c->keep || c->broken)
            return 0;
    }
}

/* listen.allowed_clients: a comma-separated list of addresses. */
static bool allowed(const rl_fpm_pool_t *wp, rl_sockaddr_t *peer, char *ip, size_t iplen)
{
    rl_sockaddr_normalize(peer);
    rl_sockaddr_format(peer, ip, iplen, false);
    const char *list = wp->listen_allowed_clients;
    if (!list || !*list || wp->listen_domain != RL_FPM_LISTEN_INET)
        return true;
    rl_sockaddr_t a = *peer;
    for (const char *p = list; *p; ) {
        size_t n = strcspn(p, ",");
        char one[64];
        if (n < sizeof(one)) {
            memcpy(one, p, n);
            one[n] = '\0';
            char *t = one;
            while (*t == ' ')
                t++;
            rl_sockaddr_t b;
            if (rl_sockaddr_from_ip(t, 0, &b) == RL_OK) {
                rl_sockaddr_normalize(&b);
                if (rl_sockaddr_ip_equal(&a, &b))
                    return true;
            }
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

/* Closes the connection. What the client sent of the request has been
 * read to its end (drain_stdin()), so closing sends a FIN, never a reset. */
static void close_conn(fconn_t *c)
{
    close(c->fd);
}

int rl_fpm_child_run(rl_fpm_child_t *ch)
{
    fconn_t c;
    memset(&c, 0, sizeof(c));
    c.child = ch;
    c.in = malloc(IN_START);
    c.in_cap = IN_START;
    c.arena = rl_arena_create(0);
    if (!c.in)
        return 70;
    rl_fpm_slot_t *s = &ch->sb->slots[ch->slot];
    int code = 0;
    while (!soft_quit) {
        s->stage = RL_FPM_STAGE_IDLE;
        board_accepting(&c);
        rl_sockaddr_t peer;
        peer.len = sizeof(peer.ss);
        int fd = accept4(ch->listen_fd, (struct sockaddr *)&peer.ss, &peer.len, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED)
                continue;
            break;
        }
        if (!allowed(ch->pool, &peer, c.peer, sizeof(c.peer))) {
            fprintf(stderr, "WARNING: Connection disallowed: IP address '%s' has been dropped.\n",
                    c.peer);
            close(fd);
            continue;
        }
        c.fd = fd;
        c.broken = false;
        c.in_len = c.in_pos = 0;
        rl_fcgi_parser_init(&c.parser);
        rl_buf_clear(&c.out);
        int r = serve_conn(&c);
        close_conn(&c);
        if (r < 0)
            break;
    }
    s->stage = RL_FPM_STAGE_ENDING;
    free(c.in);
    rl_buf_release(&c.out);
    rl_buf_release(&c.carry);
    rl_buf_release(&c.headers);
    rl_arena_destroy(c.arena);
    return code;
}

static const char *lookup_param(void *ctx, const char *name)
{
    return param(ctx, name);
}

/* %{Name}o: the first of the script's header lines that matches. */
static const char *lookup_header(void *ctx, const char *name)
{
    fconn_t *c = ctx;
    const char *p = rl_buf_head(&c->headers), *end = p + rl_buf_unread(&c->headers);
    for (; p && p < end; p += strlen(p) + 1) {
        const char *v = rl_fpm_access_header_value(p, name);
        if (v)
            return v;
    }
    return NULL;
}

/* access.suppress_path[]: a successful request for one of these paths is
 * not logged (php-fpm 8.2). */
static bool suppressed(const rl_fpm_pool_t *wp, const rl_fpm_slot_t *s)
{
    if (s->status < 200 || s->status >= 300)
        return false;
    for (const rl_fpm_kv_t *kv = wp->access_suppress_paths; kv; kv = kv->next)
        if (kv->value && strcmp(kv->value, s->request_uri) == 0)
            return true;
    return false;
}

static void access_log(fconn_t *c)
{
    const rl_fpm_pool_t *wp = c->child->pool;
    const rl_fpm_slot_t *s = slot(c);
    if (suppressed(wp, s))
        return;
    rl_fpm_access_t a = {
        .pool = wp->name, .slot = s, .ppid = getppid(),
        .peer = wp->listen_domain == RL_FPM_LISTEN_INET && c->peer[0] ? c->peer : NULL,
        .cpu_user = c->cpu_user, .cpu_system = c->cpu_system,
        .param = lookup_param, .param_ctx = c,
        .header = lookup_header, .header_ctx = c,
    };
    rl_buf_t line = { 0 };
    if (rl_fpm_access_format(wp->access_format ? wp->access_format : RL_FPM_ACCESS_FORMAT_DEFAULT,
                             &a, &line) == RL_FPM_ACCESS_TRUNCATED)
        dprintf(STDERR_FILENO, "NOTICE: the log buffer is full (%d). The access log request has "
                "been truncated.\n", RL_FPM_ACCESS_BUFFER);
    if (write(c->child->access_fd, rl_buf_head(&line), rl_buf_unread(&line)) < 0)
        dprintf(STDERR_FILENO, "ERROR: failed to write the access log: %s\n", strerror(errno));
    rl_buf_release(&line);
}
