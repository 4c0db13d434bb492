/* relaisd's central types: the configuration generation, servers (the main
 * server and its virtual hosts), modules, and the per-directory
 * configuration vector.
 *
 * Lifetimes: everything here belongs to one configuration generation and
 * lives in its arena (rl_config_t.arena). A graceful restart reads a new
 * generation; the old one is freed when no worker uses it any more (workers
 * are processes, so "freed" means the old worker exits). */
#ifndef RL_HTTPD_H
#define RL_HTTPD_H

#include <regex.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "core/rl.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/sock.h"
#include "conf/directive.h"
#include "conf/tree.h"
#include "http/mime.h"

#define RL_SERVER_VERSION "2.4.71"
#define RL_SERVER_BANNER_PRODUCT "Apache"   /* see README: applications look for it */
#define RL_MAX_MODULES 48

typedef struct rl_config_s rl_config_t;
typedef struct rl_server_s rl_server_t;
typedef struct rl_module_s rl_module_t;
typedef struct rl_request_s rl_request_t;
typedef struct rl_section_s rl_section_t;

/* A per-directory configuration: one slot per module. */
typedef struct {
    void *m[RL_MAX_MODULES];
} rl_dirconf_t;

/* Request-processing hooks return RL_OK (done with this phase, go on),
 * RL_DECLINED (not mine), RL_DONE (response already produced) or an HTTP
 * status >= 100 (answer with that error). */
struct rl_module_s {
    const char *name;            /* "mime" for mime_module / mod_mime.c */
    bool always;                 /* compiled into Apache statically: needs no LoadModule */
    bool explicit_only;          /* an MPM relais replaces, or a stub (mod/stubs.c):
                                  * active only when LoadModule names it */
    const rl_cmd_t *cmds;
    void *(*create_server)(rl_arena_t *a);
    void *(*merge_server)(rl_arena_t *a, void *base, void *add);
    void *(*create_dir)(rl_arena_t *a);
    void *(*merge_dir)(rl_arena_t *a, void *base, void *add);
    /* after the whole configuration is read; returns NULL or an error */
    const char *(*post_config)(rl_config_t *cf, rl_server_t *s);
    int (*post_read)(rl_request_t *r);      /* once the head is read (server level) */
    int (*translate)(rl_request_t *r);      /* URI -> filename, redirects */
    int (*header_parser)(rl_request_t *r);  /* after the walks, before access */
    int (*access)(rl_request_t *r);         /* Require and friends */
    int (*type)(rl_request_t *r);           /* content type, handler name */
    int (*fixups)(rl_request_t *r);
    int (*handler)(rl_request_t *r);        /* produce the response */
    unsigned index;                         /* set at start-up */
};

extern rl_module_t *rl_modules[];           /* NULL-terminated, in hook order */
extern unsigned rl_nmodules;

/* <Directory>, <Location>, <Files> and their Match forms. */
typedef enum {
    RL_SEC_DIRECTORY,
    RL_SEC_FILES,
    RL_SEC_LOCATION,
    RL_SEC_IF,
} rl_section_kind_t;

struct rl_section_s {
    rl_section_kind_t kind;
    const char *path;          /* as written (without trailing slash for dirs) */
    size_t path_len;
    unsigned depth;            /* number of '/' components: Apache sorts by it */
    pcre2_code *re;            /* Match forms and "~" */
    bool wildcard;             /* fnmatch pattern (no regex, has * ? [) */
    unsigned id;               /* order of appearance, for the merge cache */
    const char *file;
    int line;
    rl_dirconf_t *conf;
    struct rl_section_s *within;  /* the section this one is nested in */
    struct rl_expr_s *expr;       /* <If>/<ElseIf>; NULL for <Else> */
    struct rl_section_s *els;     /* the <ElseIf>/<Else> that follows an <If> */
    rl_section_t *next;
};

/* A virtual host (or the main server): Apache's server_rec. */
struct rl_server_s {
    const char *hostname;           /* ServerName (without port) */
    int port;                       /* ServerName's port, 0 when none */
    const char **aliases;           /* ServerAlias, may contain wildcards */
    unsigned naliases;
    const char *admin;
    const char *document_root;      /* absolute, no trailing slash */
    const char *access_file_name;   /* AccessFileName (.htaccess) */
    bool is_virtual;
    rl_sockaddr_t *addrs;           /* <VirtualHost> addresses */
    unsigned naddrs;
    bool *addr_any;                 /* "*:port" entries */
    const char *defn_file;
    int defn_line;
    rl_log_t *error_log;
    const char *error_log_path;
    int loglevel_argc;
    char **loglevel_argv;
    /* core limits (per server, as in Apache) */
    int64_t timeout_ms;
    int keepalive;
    int64_t keepalive_timeout_ms;
    int max_keepalive_requests;
    int limit_req_line;
    int limit_req_fieldsize;
    int limit_req_fields;
    int trace_enable;               /* TraceEnable: RL_UNSET, 0 off, 1 on/extended */
    /* mod_reqtimeout: seconds, -max seconds, bytes/s that extend the timeout */
    int rt_header, rt_header_max, rt_header_rate;
    int rt_body, rt_body_max, rt_body_rate;
    void *m[RL_MAX_MODULES];        /* per-server module configurations */
    rl_dirconf_t *lookup_defaults;  /* per-dir defaults for this server */
    rl_section_t *dirs;             /* <Directory>, sorted for the walk */
    rl_section_t *files;
    rl_section_t *locations;
    rl_section_t *ifs;              /* <If> chains, merged after everything else */
    rl_server_t *next;
};

/* A listening socket and the servers whose addresses it serves. */
typedef struct rl_listener_s {
    rl_sockaddr_t addr;
    int fd;
    const char *spec;               /* as written in Listen */
    struct rl_listener_s *next;
} rl_listener_t;

struct rl_config_s {
    rl_arena_t *arena;
    const char *server_root;
    const char *config_file;
    rl_server_t *main;              /* the main server; vhosts follow it in main->next */
    rl_listener_t *listeners;
    const char *user, *group;
    const char *pidfile;
    rl_mime_t *mime;
    const char *types_config;
    int workers;                    /* worker processes */
    int max_connections;            /* per worker, 0: unlimited */
    int server_tokens;              /* RL_TOKENS_* */
    const char *server_banner;      /* computed from ServerTokens */
    const char *ignored;            /* directives accepted and ignored, for -t */
    bool loaded[RL_MAX_MODULES];
    bool open_logs;                 /* false for -t: check only */
    bool any_loadmodule;            /* a LoadModule line was read */
    rl_module_t *active[RL_MAX_MODULES + 1];  /* the modules in use, NULL-ended:
                                     * what the request hooks walk */
    rl_conf_node_t *tree;
    unsigned nsections;
    struct rl_dircache_s *dircache; /* merged per-dir configurations */
};

enum { RL_TOKENS_PROD, RL_TOKENS_MAJOR, RL_TOKENS_MINOR, RL_TOKENS_MIN,
       RL_TOKENS_OS, RL_TOKENS_FULL };

/* Module configuration accessors. */
#define RL_SRV_CONF(s, mod) ((s)->m[(mod).index])
#define RL_DIR_CONF(d, mod) ((d)->m[(mod).index])

#endif
