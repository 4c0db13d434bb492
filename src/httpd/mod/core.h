/* The core module: server-wide settings, per-directory options and the
 * default (static file) handler's settings. */
#ifndef RL_MOD_CORE_H
#define RL_MOD_CORE_H

#include "httpd/httpd.h"

/* Options bits, Apache's. */
enum {
    RL_OPT_INDEXES      = 1 << 0,
    RL_OPT_INCLUDES     = 1 << 1,
    RL_OPT_SYM_LINKS    = 1 << 2,
    RL_OPT_EXECCGI      = 1 << 3,
    RL_OPT_INCNOEXEC    = 1 << 4,
    RL_OPT_SYM_OWNER    = 1 << 5,
    RL_OPT_MULTI        = 1 << 6,
    RL_OPT_ALL          = RL_OPT_INDEXES | RL_OPT_INCLUDES | RL_OPT_SYM_LINKS | RL_OPT_EXECCGI,
};

typedef struct rl_errdoc_s {
    int status;
    const char *text;          /* "text" (quoted), a URL, or a local path */
    struct rl_errdoc_s *next;
} rl_errdoc_t;

typedef struct {
    int options;               /* RL_UNSET until set absolutely */
    int options_add, options_remove;
    int override;              /* AllowOverride bits, RL_UNSET */
    int override_opts;         /* the Options a .htaccess may set (Options=...) */
    const char **override_list;
    int add_default_charset;   /* RL_UNSET, 0, 1 */
    const char *default_charset;
    rl_errdoc_t *errdocs;
    int64_t limit_req_body;    /* RL_UNSET */
    int server_signature;      /* RL_UNSET, 0 off, 1 on, 2 email */
    int hostname_lookups;
    int accept_path_info;      /* RL_UNSET, 0, 1, 2 (default) */
    int file_etag;             /* RL_UNSET or bits */
    int enable_sendfile;
    const char *handler;       /* SetHandler */
    const char *forced_type;   /* ForceType */
    int cgi_pass_auth;         /* CGIPassAuth: RL_UNSET, 0, 1 */
} rl_core_dir_t;

extern rl_module_t rl_core_module;

/* Effective options/merged values, with Apache's defaults applied. */
int rl_core_options(const rl_dirconf_t *d);
const rl_core_dir_t *rl_core_dir(const rl_dirconf_t *d);
int64_t rl_core_limit_body(const rl_dirconf_t *d);
int rl_core_signature(const rl_dirconf_t *d);
/* CGIPassAuth (default Off): are Authorization and Proxy-Authorization
 * passed to scripts (HTTP_AUTHORIZATION, HTTP_PROXY_AUTHORIZATION)? */
bool rl_core_cgi_pass_auth(const rl_dirconf_t *d);

/* <Limit method ...> and <LimitExcept method ...>: the methods the directive
 * being read applies to (Apache's cmd->limited), as a mask of the bits
 * rl_core_method_bit() gives; every bit outside those sections. Only
 * meaningful while the configuration is read (the access directives record
 * it: Require, Order, Allow, Deny, Satisfy). */
#define RL_LIMIT_ALL UINT64_MAX
uint64_t rl_core_limited(void);

/* The bit of <r>'s method in those masks. HEAD counts as GET, as in Apache;
 * a method relais does not know has the bit a <Limit> naming it registered,
 * else one no <Limit> names (<LimitExcept> covers it). */
uint64_t rl_core_method_bit(const rl_request_t *r);

/* Set in r->notes by mod_access_compat when "Satisfy Any" applies to the
 * request and its Allow/Deny rules let it in: mod_authz_core's Require is
 * then not consulted (Apache skips its authorization phase). */
#define RL_NOTE_SATISFY_ANY_PASSED "access_compat-satisfy-any"

#endif
