/* A pool's child: accepts FastCGI connections on the pool's socket and
 * answers one request at a time through the SAPI, as php-fpm's children do.
 *
 * FastCGI server side: BEGIN_REQUEST (responder role; others get
 * END_REQUEST FCGI_UNKNOWN_ROLE), PARAMS, STDIN read as PHP asks for the
 * body, STDOUT in records of up to 64 KiB, END_REQUEST with the script's
 * exit status; FCGI_KEEP_CONN keeps the connection for the next request;
 * management records: GET_VALUES answered (FCGI_MAX_CONNS and
 * FCGI_MAX_REQS = pm.max_children, FCGI_MPXS_CONNS = 0), others get
 * UNKNOWN_TYPE. A second BEGIN_REQUEST while one runs gets
 * FCGI_CANT_MPX_CONN. The status and ping paths are answered without PHP.
 *
 * Signals: SIGQUIT ends the child once the current request is done (an
 * idle child leaves at once), SIGTERM kills it; both set up before PHP
 * starts so that PHP forwards them. */
#ifndef RL_FPM_CHILD_H
#define RL_FPM_CHILD_H

#include "core/rl.h"
#include "fpm/conf.h"
#include "fpm/scoreboard.h"

typedef struct {
    const rl_fpm_pool_t *pool;
    int listen_fd;
    rl_fpm_scoreboard_t *sb;
    int slot;
    const rl_fpm_scoreboard_t *status_sb;  /* the board the status page shows:
                                            * <sb>, or that of the pool a
                                            * pm.status_listen pool serves */
    int access_fd;            /* -1: no access.log */
    int slowlog_fd;           /* -1 */
} rl_fpm_child_t;

/* Installs the child's signal dispositions (SIGQUIT soft quit, SIGTERM and
 * SIGINT default). Called by the leader before PHP starts: children
 * inherit them, and PHP's deferring handlers forward to them. */
void rl_fpm_child_signals(void);

/* Serves requests until pm.max_requests, SIGQUIT or a fatal error, then
 * returns the exit code for the process. */
int rl_fpm_child_run(rl_fpm_child_t *c);

#endif
