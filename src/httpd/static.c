/* The default handler (Apache's core default_handler): serves files with
 * ETag/Last-Modified, conditional requests and byte ranges; answers OPTIONS;
 * refuses other methods. Also the canned error pages. */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>
#include "http/date.h"
#include "http/etag.h"
#include "http/range.h"
#include "http/status.h"
#include "httpd/conn.h"
#include "httpd/request.h"
#include "httpd/mod/core.h"

/* Apache's list with TraceEnable On, its default (TRACE is answered) */
#define ALLOW_STATIC "GET,POST,OPTIONS,HEAD,TRACE"

const char *rl_http_error_page(rl_request_t *r, int status)
{
    rl_buf_t sig = RL_BUF_INIT, out = RL_BUF_INIT;
    int mode = r->dir ? rl_core_signature(r->dir) : 0;
    if (mode)
        rl_http_signature(&sig, (rl_signature_t)mode, r->cf->server_banner,
                          rl_req_server_name(r), (unsigned)rl_req_server_port(r), r->server->admin);
    rl_error_ctx_t ctx = {
        .method = r->method,
        .location = rl_hdrs_get(&r->err_out, "Location"),
        .expect = rl_req_header(r, "Expect"),
        .admin = r->server->admin ? r->server->admin : "[no address given]",
        .notes = rl_hdrs_get(&r->notes, "error-notes"),
        .signature = sig.data ? rl_arena_strndup(r->arena, sig.data, sig.len) : NULL,
    };
    rl_http_error_body(&out, status, &ctx);
    const char *page = rl_arena_strndup(r->arena, out.data, out.len);
    rl_buf_release(&sig);
    rl_buf_release(&out);
    return page;
}

static int options(rl_request_t *r)
{
    rl_hdrs_set(r->arena, &r->out, "Allow", ALLOW_STATIC);
    r->status = 200;
    r->body_len = 0;
    r->content_type = NULL;
    r->handler_done = true;
    return RL_DONE;
}

static const char *with_charset(rl_request_t *r, const char *type)
{
    const rl_core_dir_t *c = rl_core_dir(r->dir);
    if (type == NULL || c->add_default_charset != 1 || strchr(type, ';'))
        return type;
    if (strcasecmp(type, "text/plain") && strcasecmp(type, "text/html"))
        return type;
    return rl_arena_printf(r->arena, "%s; charset=%s", type, c->default_charset);
}

static int send_ranges(rl_request_t *r, int fd, const char *type)
{
    const char *h = rl_req_header(r, "Range");
    uint64_t size = (uint64_t)r->finfo.st_size;
    if (h == NULL || (r->method_id != RL_M_GET))
        return RL_DECLINED;
    const char *ifr = rl_req_header(r, "If-Range");
    if (ifr && !rl_http_if_range_ok(rl_str_c(ifr), rl_str_c(rl_hdrs_get(&r->out, "ETag")),
                                    r->finfo.st_mtime, r->start.tv_sec))
        return RL_DECLINED;
    rl_range_t *ranges = rl_arena_alloc(r->arena, sizeof(*ranges) * RL_RANGES_DEFAULT);
    unsigned n = 0;
    int rc = rl_http_range_parse(rl_str_c(h), size, ranges, RL_RANGES_DEFAULT, &n);
    if (rc == RL_DECLINED)
        return RL_DECLINED;
    if (rc == 416) {
        rl_hdrs_t keep = r->out;
        rl_req_error(r, 416);
        r->out = keep;
        return RL_DONE;
    }
    r->status = 206;
    if (n == 1) {
        char cr[RL_CONTENT_RANGE_MAX];
        rl_http_content_range(cr, &ranges[0], size);
        rl_hdrs_add(r->arena, &r->out, "Content-Range", rl_arena_strdup(r->arena, cr));
        r->content_type = type;
        r->body_len = ranges[0].end - ranges[0].start + 1;
        rl_req_body_file(r, fd, ranges[0].start, r->body_len);
        return RL_DONE;
    }
    const char *boundary = rl_conn_boundary(r->conn);
    r->content_type = rl_arena_printf(r->arena, RL_MULTIPART_BYTERANGES "%s", boundary);
    r->body_len = rl_http_multipart_length(boundary, type, ranges, n, size);
    for (unsigned i = 0; i < n; i++) {
        rl_buf_t b = RL_BUF_INIT;
        rl_http_multipart_part_head(&b, boundary, type, &ranges[i], size);
        rl_req_body_mem(r, rl_arena_strndup(r->arena, b.data, b.len), b.len);
        rl_buf_release(&b);
        rl_req_body_file(r, fd, ranges[i].start, ranges[i].end - ranges[i].start + 1);
    }
    rl_buf_t b = RL_BUF_INIT;
    rl_http_multipart_end(&b, boundary);
    rl_req_body_mem(r, rl_arena_strndup(r->arena, b.data, b.len), b.len);
    rl_buf_release(&b);
    return RL_DONE;
}

static int not_found(rl_request_t *r)
{
    rl_req_log(r, RL_LOG_INFO, "core", "AH00128: File does not exist: %s", r->filename);
    return 404;
}

static int directory(rl_request_t *r)
{
    if (rl_core_options(r->dir) & RL_OPT_INDEXES) {
        rl_req_log(r, RL_LOG_ERR, "autoindex", "AH01276: Cannot serve directory %s: "
                   "directory listings are not available in relais yet", r->filename);
        return 403;
    }
    rl_req_log(r, RL_LOG_ERR, "autoindex", "AH01276: Cannot serve directory %s: No matching "
               "DirectoryIndex found, and server-generated directory index forbidden by "
               "Options directive", r->filename);
    return 403;
}

static rl_str_t hdr(rl_request_t *r, const char *name)
{
    const char *v = rl_req_header(r, name);
    return v ? rl_str_c(v) : RL_STR_NULL;
}

int rl_req_conditional(rl_request_t *r, const char *etag)
{
    rl_cond_input_t in = {
        .method = rl_str_c(r->method),
        .if_match = hdr(r, "If-Match"),
        .if_unmodified_since = hdr(r, "If-Unmodified-Since"),
        .if_none_match = hdr(r, "If-None-Match"),
        .if_modified_since = hdr(r, "If-Modified-Since"),
        .has_range = rl_req_header(r, "Range") != NULL,
        .etag = rl_str_c(etag),
        .has_mtime = true,
        .mtime = r->finfo.st_mtime,
        .now = r->start.tv_sec,
    };
    return rl_http_conditional(&in);
}

int rl_static_handler(rl_request_t *r)
{
    if (r->method_id == RL_M_OPTIONS)
        return options(r);
    if (r->method_id != RL_M_GET && r->method_id != RL_M_HEAD && r->method_id != RL_M_POST) {
        rl_hdrs_set(r->arena, &r->err_out, "Allow", ALLOW_STATIC);
        return r->method_id == RL_M_OTHER ? 501 : 405;
    }
    if (!r->finfo_ok)
        return not_found(r);
    if (S_ISDIR(r->finfo.st_mode))
        return directory(r);
    if (r->path_info && *r->path_info) {
        const rl_core_dir_t *c = rl_core_dir(r->dir);
        if (c->accept_path_info != 1)
            return not_found(r);
    }
    if (!S_ISREG(r->finfo.st_mode))
        return 403;
    int fd = rl_req_open_file(r, r->filename);
    if (fd < 0) {
        rl_req_log(r, RL_LOG_ERR, "core", "(%d)%s: AH00132: file permissions deny server "
                   "access: %s", errno, strerror(errno), r->filename);
        return 403;
    }
    char etag[RL_ETAG_MAX], lm[32];
    int64_t now_us = (int64_t)r->start.tv_sec * 1000000 + r->start.tv_nsec / 1000;
    rl_http_etag(etag, sizeof(etag), &r->finfo, RL_ETAG_DEFAULT, now_us);
    rl_http_date_format(r->finfo.st_mtime, lm);
    rl_hdrs_add(r->arena, &r->out, "Last-Modified", rl_arena_strdup(r->arena, lm));
    rl_hdrs_add(r->arena, &r->out, "ETag", rl_arena_strdup(r->arena, etag));
    rl_hdrs_add(r->arena, &r->out, "Accept-Ranges", "bytes");
    int cond = rl_req_conditional(r, etag);
    if (cond == 304) {
        r->status = 304;
        r->handler_done = true;
        r->body_len = 0;
        return RL_DONE;
    }
    if (cond == 412) {
        /* as Apache's default handler: the entity's headers, no error page */
        r->status = 412;
        r->handler_done = true;
        r->body_len = 0;
        r->content_type = with_charset(r, r->content_type);
        return RL_DONE;
    }
    const char *type = with_charset(r, r->content_type);
    r->status = 200;
    r->handler_done = true;
    if (send_ranges(r, fd, type) == RL_DONE)
        return RL_DONE;
    r->content_type = type;
    r->body_len = (uint64_t)r->finfo.st_size;
    if (r->body_len)
        rl_req_body_file(r, fd, 0, r->body_len);
    return RL_DONE;
}
