/* HTTP/1.1 connections of a worker: the state machine that reads request
 * heads, runs requests, writes responses and keeps connections alive.
 *
 * Memory: an idle keep-alive connection holds only its rl_conn_t (a few
 * hundred bytes): its read buffer, response buffer and request arena are
 * given back to the worker between requests. */
#ifndef RL_CONN_H
#define RL_CONN_H

#include "core/loop.h"
#include "httpd/httpd.h"
#include "httpd/request.h"

typedef struct rl_worker_s rl_worker_t;

struct rl_worker_s {
    rl_loop_t *loop;
    rl_config_t *cf;
    struct rl_wlistener_s *listeners;
    rl_conn_t *conns;            /* every open connection, for shutdown */
    unsigned nconns;
    bool stopping;               /* graceful stop: no accepts, close when idle */
    rl_arena_t **free_arenas;    /* request arenas kept for reuse */
    unsigned nfree_arenas;
    char boundary[24];           /* multipart/byteranges boundary */
    struct rl_sb_proc_s *sb;     /* this process's scoreboard slot (mod_status) */
    unsigned sb_flags;           /* RL_STATUS_* of the configuration */
};

/* Starts accepting on the configuration's listeners in <w>'s loop. */
int rl_worker_listen(rl_worker_t *w);
/* Stops accepting and closes idle connections; the loop stops once no
 * connection is left. */
void rl_worker_graceful(rl_worker_t *w);
/* Closes every connection at once. */
void rl_worker_close_all(rl_worker_t *w);

/* Accessors used by modules and logs. */
const rl_sockaddr_t *rl_conn_peer(const rl_conn_t *c);
const rl_sockaddr_t *rl_conn_local(const rl_conn_t *c);
const char *rl_conn_peer_str(rl_conn_t *c);   /* "ip:port" */
const char *rl_conn_peer_ip(rl_conn_t *c);
const char *rl_conn_local_str(rl_conn_t *c);
unsigned rl_conn_keepalives(const rl_conn_t *c);
uint64_t rl_conn_response_bytes(const rl_conn_t *c);
const char *rl_conn_boundary(rl_conn_t *c);

/* Selects the virtual host for <r> from its connection's local address
 * and <r>->hostname. */
rl_server_t *rl_vhost_select(rl_config_t *cf, const rl_sockaddr_t *local, const char *host);

/* Evaluates the conditional headers of <r> against <etag> and the file's
 * mtime: 0 (go on), 304 or 412. */
int rl_req_conditional(rl_request_t *r, const char *etag);

void rl_log_config_request(rl_request_t *r);
/* Writes the access-log lines still pending in this process. */
void rl_log_config_flush(void);

/* TRACE: the response echoes the request head parsed by <p>. */
void rl_req_trace(rl_request_t *r, const rl_http_request_parser_t *p);

#endif
