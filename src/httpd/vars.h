/* The variables of a request by Apache's names, for ap_expr (Require expr,
 * and later <If> and mod_rewrite's %{...}). */
#ifndef RL_VARS_H
#define RL_VARS_H

#include "http/expr.h"
#include "httpd/request.h"

/* Returns the value of the variable <name> for the request <ctx> (an
 * rl_request_t *), as ap_expr names them: "REQUEST_URI", "HTTP:Host",
 * "ENV:x", ... NULL when unset. Strings are in the request's arena. */
const char *rl_req_var(void *ctx, const char *name);

/* Evaluates <e> for <r>: 1 true, 0 false, -1 error (logged). */
int rl_req_expr(rl_request_t *r, const rl_expr_t *e);

#endif
