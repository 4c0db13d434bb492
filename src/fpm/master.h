/* relais-fpm's master: php-fpm's fpm_run() and event loop. It opens the
 * pools' sockets, writes the pid file, forks one leader per pool (see
 * leader.h), asks the leaders for children as the process manager decides
 * (static, dynamic, ondemand, with php-fpm's algorithms and messages),
 * reaps the children (it is their sub-reaper), enforces
 * request_terminate_timeout and writes the slowlog, and handles the
 * signals: USR1 reopens the logs, USR2 reloads (the sockets are kept
 * across a re-exec: connections wait in the backlog, none is refused),
 * QUIT stops gracefully, TERM and INT stop at once. */
#ifndef RL_FPM_MASTER_H
#define RL_FPM_MASTER_H

#include "fpm/conf.h"
#include "fpm/zlog.h"
#include "sapi/sapi.h"

typedef struct {
    rl_fpm_conf_t *conf;
    const rl_fpm_opts_t *opts;
    const rl_sapi_opts_t *php;
    rl_zlog_t *log;
    char **argv;              /* a copy, for the re-exec of a reload */
} rl_fpm_master_t;

/* Runs relais-fpm until it stops. Returns the process's exit code. */
int rl_fpm_master_run(rl_fpm_master_t *m);

#endif
