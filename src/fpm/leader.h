/* A pool's leader: the process that becomes the pool's user, starts PHP
 * (so that PHP's start-up memory and opcache are the pool's alone), then
 * makes the pool's children on the master's demand.
 *
 * Children are made by a double fork: the leader forks a go-between that
 * forks the child and exits, so the child is re-parented to the master
 * (a PR_SET_CHILD_SUBREAPER): the master waits for, counts and kills the
 * children as php-fpm's master does, while they share the leader's PHP.
 *
 * The master and the leader talk over a SOCK_SEQPACKET pair, one message
 * per datagram:
 *   leader -> master  READY (after PHP started) with the executor globals'
 *                     address, for the slowlog
 *   master -> leader  SPAWN <slot>
 *   leader -> master  SPAWNED <slot> <pid>, with the read end of the
 *                     child's stderr pipe (catch_workers_output) as
 *                     SCM_RIGHTS
 *   master -> leader  REOPEN with the reopened access log (SIGUSR1): the
 *                     children made from now on write there
 * The leader exits when the master's end closes. */
#ifndef RL_FPM_LEADER_H
#define RL_FPM_LEADER_H

#include <stdint.h>
#include "fpm/conf.h"
#include "fpm/scoreboard.h"
#include "sapi/sapi.h"

enum { RL_FPM_MSG_READY = 1, RL_FPM_MSG_SPAWN, RL_FPM_MSG_SPAWNED, RL_FPM_MSG_REOPEN };

typedef struct {
    int op;
    int slot;
    pid_t pid;
    int err;                  /* errno of a failed fork */
    uint64_t eg;              /* READY: executor globals */
} rl_fpm_msg_t;

typedef struct {
    const rl_fpm_conf_t *conf;
    const rl_fpm_pool_t *pool;
    const rl_sapi_opts_t *php;
    int ctl_fd;               /* the leader's end of the pair */
    int listen_fd;
    int access_fd;            /* -1 */
    int slowlog_fd;           /* -1 */
    rl_fpm_scoreboard_t *sb;
    const rl_fpm_scoreboard_t *status_sb;  /* see rl_fpm_child_t */
    pid_t master;
} rl_fpm_leader_t;

/* Runs the leader in a freshly forked process; never returns. */
void rl_fpm_leader_main(rl_fpm_leader_t *l) __attribute__((noreturn));

/* Sends <m> (and <fd> unless -1) over <sock>. Returns RL_OK or RL_ERROR. */
int rl_fpm_msg_send(int sock, const rl_fpm_msg_t *m, int fd);
/* Receives one message, and a passed fd into <*fd> (-1 if none). Returns
 * 1, 0 when the peer closed, -1 on error. */
int rl_fpm_msg_recv(int sock, rl_fpm_msg_t *m, int *fd);

/* Process titles as php-fpm sets them ("php-fpm: pool www"): call
 * rl_fpm_title_init() first thing in main(). */
void rl_fpm_title_init(int argc, char **argv);
void rl_fpm_title_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
