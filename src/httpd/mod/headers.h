/* mod_headers and mod_expires: what they do to a response's header fields
 * once the status and the handler's fields are final, just before the head
 * is written (Apache does it in output filters, which run then). */
#ifndef RL_MOD_HEADERS_H
#define RL_MOD_HEADERS_H

#include "httpd/request.h"

/* Applies mod_expires (ExpiresActive, ExpiresByType, ExpiresDefault), then
 * mod_headers' Header directives, to r->out / r->err_out / r->content_type,
 * under r->dir. The connection calls it once per response, right before
 * building the head, for every response: handlers', streamed ones, errors. */
void rl_headers_before_head(rl_request_t *r);

/* mod_expires' part of the above (in mod/expires.c). <now> is the time
 * the Date field will show. */
void rl_expires_apply(rl_request_t *r, time_t now);

#endif
