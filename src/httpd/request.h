/* A request and the response being produced for it.
 *
 * A request lives in its own arena, emptied when the response has been
 * sent. Handlers describe the response as a status, header lists and a
 * queue of body chunks (memory or file ranges); the connection drains the
 * queue with writev/sendfile as the socket allows. */
#ifndef RL_REQUEST_H
#define RL_REQUEST_H

#include <sys/stat.h>
#include <time.h>
#include "core/buf.h"
#include "http/parser.h"
#include "httpd/httpd.h"

typedef struct rl_conn_s rl_conn_t;

typedef struct rl_hdr_s {
    const char *name;
    const char *value;
    struct rl_hdr_s *next;
} rl_hdr_t;

typedef struct {
    rl_hdr_t *head, *tail;
} rl_hdrs_t;

/* A piece of the response body. */
typedef struct rl_chunk_s {
    const char *data;          /* memory chunk, or NULL for a file chunk */
    bool owned;                /* streamed: malloc'd with the chunk, freed once sent */
    int fd;                    /* file chunk: fd owned by the request (cleanup) */
    uint64_t off, len;
    struct rl_chunk_s *next;
} rl_chunk_t;

enum {
    RL_M_GET, RL_M_HEAD, RL_M_POST, RL_M_PUT, RL_M_DELETE, RL_M_CONNECT,
    RL_M_OPTIONS, RL_M_TRACE, RL_M_PATCH, RL_M_PROPFIND, RL_M_PROPPATCH,
    RL_M_MKCOL, RL_M_COPY, RL_M_MOVE, RL_M_LOCK, RL_M_UNLOCK, RL_M_OTHER
};

struct rl_request_s {
    rl_arena_t *arena;
    rl_conn_t *conn;
    rl_config_t *cf;
    rl_server_t *server;        /* the virtual host */
    rl_dirconf_t *dir;          /* per-directory configuration after the walks */
    struct timespec start;

    /* the request as received */
    const char *the_request;    /* request line, for %r and logs */
    const char *method;
    int method_id;
    int version;                /* 10 or 11 */
    const char *protocol;       /* "HTTP/1.1" */
    const char *unparsed_uri;   /* target as sent: REQUEST_URI */
    const char *uri;            /* decoded, normalised path */
    const char *args;           /* query string without '?', NULL when none */
    const char *hostname;       /* Host without port, lowercase */
    int host_port;              /* Host's port, 0 when none */
    rl_http_header_t *headers;
    unsigned nheaders;
    bool asterisk;              /* "OPTIONS *" */

    /* request body */
    bool chunked;
    uint64_t content_length;    /* when !chunked */
    bool expect_continue;
    bool body_pending;          /* body bytes remain to be read or discarded */

    /* mapping */
    const char *filename;       /* the file the URI maps to */
    const char *path_info;
    const char *script_name;    /* SCRIPT_NAME when it is not the URI (PATH_INFO) */
    const char *canonical_dir;  /* directory used for the walk */
    struct stat finfo;
    bool finfo_ok;              /* stat succeeded */
    const char *content_type;
    const char *handler;
    const char *doc_root;       /* DocumentRoot used for the mapping */
    const char *context_prefix; /* URL prefix an Alias mapped (CONTEXT_PREFIX) */
    const char *context_root;   /* and its target (CONTEXT_DOCUMENT_ROOT) */
    int redirects;              /* internal redirects so far */
    bool in_error_redirect;     /* serving an ErrorDocument */
    int original_status;        /* the status an ErrorDocument answers for */
    bool handler_done;          /* the response is complete in <r> */
    const char *prev_status_line;

    /* the response */
    int status;
    rl_hdrs_t out;              /* sent on success */
    rl_hdrs_t err_out;          /* sent always (Apache's err_headers_out) */
    rl_chunk_t *body, **body_tail;
    uint64_t body_len;          /* announced Content-Length when known */
    bool header_only;           /* HEAD */
    bool keepalive;             /* the response allows another request */
    bool close_after;           /* close once sent (errors that desync) */
    uint64_t bytes_sent;        /* body bytes written, for %B/%b */
    uint64_t head_bytes;        /* request head size, for %I */
    rl_hdrs_t env;              /* Apache's subprocess_env (SetEnv, SetEnvIf, ...) */

    /* asynchronous handlers (FastCGI): see rl_req_suspend() */
    bool suspended;             /* the handler answers later */
    bool streaming;             /* body length unknown: chunked to HTTP/1.1 */
    bool stream_done;           /* the producer has finished */
    uint64_t stream_queued;     /* streamed bytes not yet written */
    uint64_t stream_spilled;    /* streamed file bytes not yet written */
    rl_buf_t *body_in;          /* the request body, collected for the handler */
    void (*on_body)(rl_request_t *r);   /* body collected (or none): go on */
    /* streamed request body: see rl_req_suspend() */
    bool (*on_body_data)(rl_request_t *r, const char *data, size_t len);
    void (*on_cancel)(rl_request_t *r); /* the request failed under the handler */
    void (*on_drain)(rl_request_t *r);  /* streamed data written: produce more */
    void *handler_ctx;
    rl_hdrs_t notes;
};

/* Header list helpers: names compare case-insensitively. */
void rl_hdrs_add(rl_arena_t *a, rl_hdrs_t *h, const char *name, const char *value);
void rl_hdrs_set(rl_arena_t *a, rl_hdrs_t *h, const char *name, const char *value);
const char *rl_hdrs_get(const rl_hdrs_t *h, const char *name);
void rl_hdrs_unset(rl_hdrs_t *h, const char *name);

/* The request header <name> (first occurrence), or NULL. */
const char *rl_req_header(const rl_request_t *r, const char *name);

/* Appends body chunks. The file chunk's fd becomes the request's (closed
 * with the arena). */
void rl_req_body_mem(rl_request_t *r, const char *data, size_t len);
void rl_req_body_file(rl_request_t *r, int fd, uint64_t off, uint64_t len);

/* Opens <path> read-only; the fd closes with the request. -1 + errno. */
int rl_req_open_file(rl_request_t *r, const char *path);

/* The default handler: static files (GET/HEAD/POST), OPTIONS, 405/501. */
int rl_static_handler(rl_request_t *r);

/* Apache's canned HTML page for <status> (arena string). */
const char *rl_http_error_page(rl_request_t *r, int status);

/* Prepares an error response with Apache's body for <status> (and the
 * ErrorDocument of the per-dir configuration if any). Returns RL_DONE. */
int rl_req_error(rl_request_t *r, int status);

/* Prepares a redirect to <location> with <status> (3xx). Returns RL_DONE. */
int rl_req_redirect(rl_request_t *r, int status, const char *location);

/* Restarts processing of <r> for <uri> (a local URL, percent-encoded, with
 * an optional query that becomes the new one), as Apache's internal
 * redirect: r->env becomes the old one with every name prefixed
 * "REDIRECT_", plus REDIRECT_STATUS (the status so far), REDIRECT_URL (the
 * old r->uri) and REDIRECT_QUERY_STRING (the old query, when there was
 * one); post-read hooks run again. With <is_error> (an ErrorDocument), the
 * status being answered for is kept. The response is left in <r>.
 * Returns RL_DONE (also after the limit of 10 redirects: a 500). */
int rl_req_internal_redirect(rl_request_t *r, const char *uri, bool is_error);

/* The file the decoded path <uri> maps to, as an Apache sub-request finds
 * it: URI translation (Alias, DocumentRoot), then the directory walk's
 * split, with its path info appended. Apache's PATH_TRANSLATED is this for
 * PATH_INFO. Changes nothing in <r>; NULL when the translation redirects
 * or fails. Arena string. */
const char *rl_req_lookup_file(rl_request_t *r, const char *uri);

/* Restarts processing of <r> for <uri> (a decoded path, with an optional
 * query replacing the current one) as if it had been asked for: the
 * environment stays as it is, no REDIRECT_* variables (mod_dir's index
 * files, which Apache serves through ap_internal_fast_redirect). Returns
 * RL_DONE, the response left in <r>. */
int rl_req_fast_redirect(rl_request_t *r, const char *uri);

/* Asynchronous handlers. A handler calls rl_req_suspend(r, on_body) and
 * returns RL_DONE; once the request body is collected into r->body_in
 * (NULL when there is none) the connection calls <on_body>. The handler
 * then sets the status and headers and calls rl_req_resume() (for a
 * streamed body, after setting r->streaming), rl_req_stream() as data
 * comes and rl_req_stream_end() at the end. r->on_drain, when set, is
 * called each time everything streamed so far has been written. */
void rl_req_suspend(rl_request_t *r, void (*on_body)(rl_request_t *r));
void rl_req_resume(rl_request_t *r);
/* A handler that sets r->on_body_data before rl_req_suspend() gets the
 * body as it arrives instead: on_body(r) first, at once, then
 * on_body_data(r, data, len) for each piece (de-chunked), and
 * on_body_data(r, NULL, 0) once at the end. Neither may answer the
 * request before returning (post an event instead). on_body_data returns
 * false to pause reading until rl_req_body_continue(). If the body fails
 * (400, 408, 413, client gone), r->on_cancel is called, then the
 * connection answers or closes. */
void rl_req_body_continue(rl_request_t *r);
void rl_req_stream(rl_request_t *r, const char *data, size_t len);
/* Streams <len> bytes of file <fd> from <off> (a response spilled to a
 * temporary file); the fd stays the handler's. */
void rl_req_stream_file(rl_request_t *r, int fd, uint64_t off, uint64_t len);
void rl_req_stream_end(rl_request_t *r);
/* Closes the client connection of a streamed response cut short. */
void rl_req_abort(rl_request_t *r);
/* The event loop of the request's worker. */
struct rl_loop_s *rl_req_loop(rl_request_t *r);

/* Runs the request phases (vhost already chosen): URI mapping, walks,
 * access, type, handler. The response is left in <r> ready to send. */
void rl_req_process(rl_request_t *r);

/* Logs an error about <r> into its server's error log, with the client. */
void rl_req_log(rl_request_t *r, int level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The client's and the local address of the request's connection. */
const rl_sockaddr_t *rl_req_peer(const rl_request_t *r);
const rl_sockaddr_t *rl_req_local(const rl_request_t *r);

/* The server's canonical name and port for self-referential URLs. */
const char *rl_req_server_name(const rl_request_t *r);
int rl_req_server_port(const rl_request_t *r);
/* The name and port of self-referential URLs and of SERVER_NAME and
 * SERVER_PORT, as Apache's ap_get_server_name_for_url/ap_get_server_port
 * with UseCanonicalName Off: the Host the client sent (an IPv6 address in
 * brackets), else ServerName; the Host's port, else ServerName's, else 80
 * (without any Host: the port the request came in on). */
const char *rl_req_url_host(rl_request_t *r);
int rl_req_url_port(const rl_request_t *r);
/* "http://host[:port]" for building absolute redirects. */
const char *rl_req_self_url(rl_request_t *r, const char *path);

#endif
