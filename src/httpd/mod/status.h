/* mod_status: the server-status handler, and the two core directives of
 * Apache 2.4 it depends on (ExtendedStatus, SeeRequestTail), which core's
 * table lists with the setter below. */
#ifndef RL_MOD_STATUS_H
#define RL_MOD_STATUS_H

#include "conf/directive.h"
#include "httpd/httpd.h"

enum {
    RL_STATUS_EXTENDED = 1u << 0,      /* record per-request details */
    RL_STATUS_REQUEST_TAIL = 1u << 1,  /* SeeRequestTail: keep a long request line's end */
};

/* The RL_STATUS_* flags of <cf>: ExtendedStatus (default On when
 * mod_status is loaded, as in Apache 2.4; Off otherwise) and SeeRequestTail
 * (default Off). Read once per worker, by the connection code. */
unsigned rl_status_flags(const rl_config_t *cf);

/* Setter of ExtendedStatus (cmd->data 0) and SeeRequestTail (cmd->data 1):
 * On|Off, main server only. NULL or an error. */
const char *rl_status_set_flag(rl_cmd_parms_t *p, void *conf, int argc, char **argv);

#endif
