/* Apache 2.4's expression language (ap_expr) as `Require expr`, <If>,
 * <ElseIf> and mod_headers' "expr=" use it, compiled once at configuration
 * time and evaluated per request.
 *
 * The grammar and the messages are those of Apache 2.4.71 (checked against
 * Debian's apache2):
 *   cond  ::= "true" | "false" | "!" cond | cond "&&" cond | cond "||" cond
 *           | "(" cond ")" | -UNARY word | word -BINARY word
 *           | word ("==" | "=" | "!=" | "<" | "<=" | ">" | ">=") word
 *           | word ("-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge") word
 *           | word ("-in" | "in") "{" word ("," word)* "}"
 *           | word ("=~" | "!~") regex
 *   word  ::= digits | "'" string "'" | '"' string '"' | word "." word
 *           | %{VAR} | %{func:string} | func "(" word ")" | "$0".."$9"
 *   regex ::= "/" pattern "/" ["i"] | "m" delim pattern delim ["i"]
 * "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge" are synonyms; "&&"
 * binds tighter than "||" and "!" tighter than both. Strings interpolate
 * %{...} and $N in either quotes and know \n \r \t \b \f, octal \NNN and
 * \<any char>; a regex has no escapes (its delimiter cannot occur inside)
 * and is PCRE2 with Apache's defaults (dot matches newline, "$" only at the
 * very end), "i" for caseless.
 *
 * Unary operators: -d -e -f -s (stat), -L -h (lstat: a symlink), -x (lstat:
 * any execute bit), -n -z (non-empty, empty), -T (false for "", "0", "off",
 * "no", "false", any case), -R 'subnet' (REMOTE_ADDR in it). Binary:
 * -ipmatch 'subnet', -strmatch, -strcmatch (caseless), -fnmatch (a '/' only
 * matches a '/'), their right side being the fnmatch(3) pattern. A subnet is
 * a constant string as for Require ip: "10.1", "10.0.0.0/8",
 * "10.0.0.0/255.0.0.0", "2001:db8::/32"; an IPv4 subnet also matches
 * IPv4-mapped IPv6 addresses.
 *
 * Variables are checked at compile time against Apache's core list
 * (REQUEST_URI, REQUEST_FILENAME, QUERY_STRING, REMOTE_ADDR, HTTP_HOST,
 * HTTPS, TIME, ... in any case) and passed to the caller's callback under
 * their upper-case name. The functions of Apache that read request data go
 * to the callback too, as "<PREFIX>:<argument>":
 *   http, req        "HTTP:<header>"        request header
 *   req_novary       "REQ_NOVARY:<header>"  the same, without adding to Vary
 *   resp             "RESP:<header>"        response header
 *   note             "NOTE:<name>"          request note
 *   reqenv           "REQENV:<name>"        request environment (SetEnv...)
 *   env              "ENV:<name>"           note, then request env, then OS
 *   osenv            "OSENV:<name>"         the process environment
 * so "%{HTTP:Host}", "%{req:Host}" and "req('Host')" all ask for
 * "HTTP:Host". tolower, toupper, escape, unescape, base64, unbase64 and
 * filesize are computed here. Apache's md5, sha1, ldap and file functions
 * and its -F, -U, -A operators (subrequests) are refused at compile time,
 * as are Apache 2.5's sub/join/split. -ipmatch parses its left side as a
 * numeric address only (Apache would also resolve a host name).
 *
 * Memory: the compiled form lives in the arena given to the compiler (the
 * config generation's); the regular expressions are freed by a cleanup on
 * that arena. Evaluation allocates the strings it builds from the arena of
 * the environment (the request's). Compiled expressions are immutable. */
#ifndef RL_HTTP_EXPR_H
#define RL_HTTP_EXPR_H

#include "core/rl.h"
#include "core/arena.h"

typedef struct rl_expr_s rl_expr_t;

#define RL_EXPR_MAX_LEN   8192  /* bytes of source; Apache's config lines are shorter */
#define RL_EXPR_MAX_DEPTH 64    /* nesting of (), function calls and %{...} */
#define RL_EXPR_NCAPTURES 10    /* $0 .. $9 */

/* Returns the value of variable <name> ("REQUEST_URI", "HTTP:Host", ...: see
 * above) or NULL when it is unset, which evaluates as "". The value must stay
 * valid until the evaluation returns (the request's arena is the place). */
typedef const char *(*rl_expr_var_cb)(void *ctx, const char *name);

/* The captures of the last successful =~ whose regex has groups: $N is
 * subject[so[N] .. eo[N]). subject == NULL: none (every $N is ""). */
typedef struct {
    const char *subject;
    int so[RL_EXPR_NCAPTURES];
    int eo[RL_EXPR_NCAPTURES];
} rl_expr_captures_t;

typedef struct {
    rl_expr_var_cb var;     /* NULL: every variable is "" */
    void *ctx;              /* passed to var */
    rl_arena_t *arena;      /* required: strings built while evaluating */
    /* Optional, in and out: the captures $N start from, updated by each =~
     * that matches. Lets an <If "... =~ /(..)/"> hand $1 to later string
     * expressions; subject points into <arena>. NULL: start from none. */
    rl_expr_captures_t *captures;
    const char *error;      /* out: why an evaluation returned -1 / NULL */
} rl_expr_env_t;

/* Compiles the condition <src> (NUL-terminated, at most RL_EXPR_MAX_LEN
 * bytes) into arena <a>. Returns NULL on an error and writes Apache's message
 * for it into <err> (<errlen> bytes, always NUL-terminated when errlen > 0),
 * e.g. "syntax error, unexpected $end, expecting T_OP_OR or T_OP_AND or ')'",
 * "Variable 'FOO' does not exist", "Unterminated string or variable". Some
 * memory may stay in <a> after a failure, until <a> goes. */
rl_expr_t *rl_expr_compile(rl_arena_t *a, const char *src, char *err, size_t errlen);

/* As rl_expr_compile() for a string expression (mod_headers' "expr=",
 * LogMessage): <src> is the unquoted text of a string, e.g.
 * "%{REQUEST_URI} from %{REMOTE_ADDR}", where quotes are ordinary
 * characters. Evaluate it with rl_expr_eval_string(). */
rl_expr_t *rl_expr_compile_string(rl_arena_t *a, const char *src, char *err, size_t errlen);

/* Evaluates the condition <e> in <env>. Returns 1 (true), 0 (false) or -1
 * when it cannot be decided (a regex match failing other than by not
 * matching, memory short, a string expression), with env->error set. */
int rl_expr_eval(const rl_expr_t *e, rl_expr_env_t *env);

/* Evaluates the string expression <e>. Returns the string (in env->arena, or
 * a constant of <e>), or NULL with env->error set. */
const char *rl_expr_eval_string(const rl_expr_t *e, rl_expr_env_t *env);

#endif
