/* mod_rewrite's engine: RewriteCond and RewriteRule lines parsed into
 * rules, RewriteMap definitions, and rule lists applied to a request with
 * Apache 2.4's semantics (mod_rewrite.c's apply_rewrite_list and what it
 * calls). The module (mod/rewrite.c) holds the directives, the merging of
 * configurations and the hooks that decide what a result means; the
 * engine needs no connection beyond what a variable asks for
 * (%{REMOTE_ADDR}), so the unit tests drive it with a bare request.
 *
 * Memory: rules, conditions and maps live in the arena they were parsed
 * into (the configuration generation, or a .htaccess file's); what a run
 * produces goes to the request's arena. */
#ifndef RL_MOD_REWRITE_H
#define RL_MOD_REWRITE_H

#include "httpd/request.h"

#define RL_REWRITE_NMATCH 10   /* $0..$9, %0..%9 */

/* Notes where [T=] and [H=] wait for the fixups (Apache's names). */
#define RL_REWRITE_NOTE_TYPE "rewrite-forced-mimetype"
#define RL_REWRITE_NOTE_HANDLER "rewrite-forced-handler"

typedef struct rl_rewrite_cond_s rl_rewrite_cond_t;
typedef struct rl_rewrite_rule_s rl_rewrite_rule_t;

typedef enum { RL_REWRITE_MAP_TXT, RL_REWRITE_MAP_RND, RL_REWRITE_MAP_INT } rl_rewrite_map_type_t;

/* A RewriteMap of a server. */
typedef struct rl_rewrite_map_s {
    const char *name;
    rl_rewrite_map_type_t type;
    const char *file;                     /* txt:, rnd: */
    char *(*func)(rl_arena_t *a, const char *key);   /* int: */
    /* txt/rnd: the file's entries, sorted, read again when it changes */
    struct rl_rewrite_entry_s *entries;
    size_t nentries;
    struct timespec mtime;
    rl_arena_t *data;
    struct rl_rewrite_map_s *next;
} rl_rewrite_map_t;

/* What rl_rewrite_apply() did (Apache's ACTION_*). */
enum {
    RL_REWRITE_NONE = 0,       /* no rule changed the URL */
    RL_REWRITE_NORMAL = 1,     /* r->filename (and r->args) rewritten */
    RL_REWRITE_NOESCAPE = 2,   /* the same, by an [NE] rule */
    RL_REWRITE_STATUS = 4,     /* answer with ctx->status */
};

typedef struct {
    const char *src;                      /* NULL: nothing to refer to */
    int so[RL_REWRITE_NMATCH], eo[RL_REWRITE_NMATCH];
} rl_rewrite_backref_t;

/* One run of a rule list. The caller sets the first three fields (the
 * rest zero) and reads the results. */
typedef struct {
    rl_request_t *r;
    const char *perdir;        /* the section's directory with its '/', NULL
                                * for server rules */
    const rl_rewrite_map_t *maps;   /* RewriteMap of r's server */
    /* results */
    int status;                /* RL_REWRITE_STATUS's, or the 3xx of [R] */
    bool reduced;              /* "http://thishost/x" became "/x" */
    bool unsafe_prefix;        /* the result starts with an expansion, and
                                * the rule has no [UnsafePrefixStat] */
    /* the engine's own */
    const char *uri;
    rl_rewrite_backref_t rr, rc;          /* $N of the rule, %N of a condition */
    const char *vary, *vary_this;
    bool track;
    char qfirst, qlast;
} rl_rewrite_ctx_t;

/* Parses the arguments of "RewriteCond <args>" as written (Apache's own
 * splitting: quotes, "\ " inside a word). Returns NULL with *<out> set, or
 * the message, in Apache's words, without the directive's name. */
const char *rl_rewrite_cond_parse(rl_arena_t *a, const char *args, rl_rewrite_cond_t **out);

/* Parses "RewriteRule <args>"; the rule takes the conditions <conds>[0..n)
 * read before it. Returns NULL with *<out> set, or the message. */
const char *rl_rewrite_rule_parse(rl_arena_t *a, const char *args, rl_rewrite_cond_t **conds,
                                  unsigned n, rl_rewrite_rule_t **out);

/* "RewriteMap <name> <spec>": txt:, rnd: (a file, relative to <root>
 * unless absolute; it must exist) or int:tolower|toupper|escape|unescape.
 * prg:, dbm:, dbd:, fastdbd: are refused. Returns NULL with *<out> set, or
 * the message. The file's entries, read at the first lookup and again when
 * it changes, are freed with arena <a>. */
const char *rl_rewrite_map_parse(rl_arena_t *a, const char *name, const char *spec,
                                 const char *root, rl_rewrite_map_t **out);

/* Applies <rules>[0..n) to c->r: the URL is r->filename (r->uri when
 * NULL; at section level with r->path_info appended and c->perdir cut
 * off). A rule that applies rewrites r->filename and r->args, sets E=
 * variables, cookies, Vary, notes for T=/H=, and may end the run ([L],
 * [END], [PT] with "passthrough:" in front, [P] with "proxy:", [R] with an
 * absolute URL). Returns an RL_REWRITE_* value. */
int rl_rewrite_apply(rl_rewrite_ctx_t *c, rl_rewrite_rule_t *const *rules, unsigned n);

/* Did an [END] rule apply to <r> (or to the request it was redirected
 * from)? */
bool rl_rewrite_ended(const rl_request_t *r);

/* URL helpers, as mod_rewrite has them:
 * the length of "scheme://" when <u> is an absolute URL, else 0, and
 * whether the scheme takes a query; */
size_t rl_rewrite_absolute(const char *u, bool *qs);
/* <s> escaped for a URL path (ap_escape_uri); */
char *rl_rewrite_escape(rl_arena_t *a, const char *s);
/* the URL <u> with its path escaped, <scheme> from rl_rewrite_absolute(); */
const char *rl_rewrite_escape_absolute(rl_arena_t *a, const char *u, size_t scheme);
/* <in> with its prefix directory <match> replaced by <subst>, or <in>
 * itself when it does not start with it (RewriteBase); */
const char *rl_rewrite_subst_prefix(rl_arena_t *a, const char *in, const char *match,
                                    const char *subst);
/* <root> joined with <path>, "//", "." and ".." resolved, NULL when it
 * would climb above <root>; */
const char *rl_rewrite_join(rl_arena_t *a, const char *root, const char *path);
/* <r>'s DocumentRoot; */
const char *rl_rewrite_docroot(const rl_request_t *r);
/* adds the names of <names> ("A, B") to the response's Vary, once each. */
void rl_rewrite_add_vary(rl_request_t *r, const char *names);

#endif
