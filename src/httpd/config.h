/* Reading an Apache configuration into a configuration generation. */
#ifndef RL_HTTPD_CONFIG_H
#define RL_HTTPD_CONFIG_H

#include "core/buf.h"
#include "httpd/httpd.h"

/* What the command line contributes to a configuration read. */
typedef struct {
    const char *config_file;     /* -f, relative to server_root unless absolute */
    const char *server_root;     /* -d */
    const char **defines;        /* -D NAME */
    unsigned ndefines;
    const char **pre_directives; /* -C: before the config file */
    unsigned npre;
    const char **post_directives;/* -c: after it */
    unsigned npost;
    bool open_logs;              /* false for -t and -k: check only */
} rl_cli_conf_t;

/* The state of a configuration read, passed to setters as parms->ctx. */
typedef struct {
    rl_config_t *cf;
    rl_server_t *server;         /* current server (main or vhost) */
    rl_dirconf_t *dir;           /* current per-directory configuration */
    unsigned context;            /* RL_CTX_* */
    rl_section_t *section;       /* current section, NULL outside */
    rl_section_t *last_if;       /* the previous sibling, when an <If>/<ElseIf> */
    unsigned allow_override;     /* for .htaccess reads: RL_OVR_* bits */
    const char *const *override_list;  /* ... and AllowOverrideList names, NULL-ended */
    int override_opts;           /* ... and the Options it may set (RL_OPT_*) */
    rl_buf_t *warnings;          /* lines printed by -t */
} rl_conf_state_t;

#define RL_CMD_STATE(p) ((rl_conf_state_t *)(p)->ctx)
/* The per-server configuration of <m> for the server being read. */
static inline void *rl_cmd_srvconf(rl_cmd_parms_t *p, rl_module_t *m)
{
    return RL_CMD_STATE(p)->server->m[m->index];
}

/* Reads and checks a whole configuration. Returns NULL with <err> set to an
 * Apache-style message ("AH00526: Syntax error on line 3 of /x.conf:\n...").
 * Warnings (undefined variables, ignored directives) are appended to
 * <warnings> when non-NULL. Opens no sockets; opens the log files. */
rl_config_t *rl_config_load(const rl_cli_conf_t *cli, rl_buf_t *warnings,
                            char *err, size_t errlen);
void rl_config_free(rl_config_t *cf);

/* Runs the directives of <node>'s children in the state <st>; used by
 * section directives of modules (e.g. <RequireAll>). NULL or an error. */
const char *rl_config_walk(rl_conf_state_t *st, const rl_conf_node_t *node);

/* A .htaccess file read for one directory: the file as a <Directory>
 * section of that directory, and its own <Files> (within it) and <If>
 * sections, to walk with the configuration's. */
typedef struct {
    rl_section_t *dir;
    rl_section_t *files;
    rl_section_t *ifs;
} rl_htaccess_t;

/* Reads the .htaccess file <path> of directory <dir> for server <s>, into
 * arena <a>: its directives are checked against the overrides <ovr>
 * (RL_OVR_*), the directive names <list> (AllowOverrideList, NULL-ended
 * or NULL) and the Options it may set <opts> (RL_OPT_*). Its sections get ids from *<next_id> on (advanced). Returns
 * NULL, or the error as "<path>:<line>: <message>" (arena string). */
const char *rl_config_read_htaccess(rl_config_t *cf, rl_server_t *s, rl_arena_t *a,
                                    const char *path, const char *dir, unsigned ovr,
                                    const char *const *list, int opts, unsigned *next_id,
                                    rl_htaccess_t *out);

/* Creates an empty per-directory configuration / merges two of them. */
rl_dirconf_t *rl_dirconf_create(rl_arena_t *a);
rl_dirconf_t *rl_dirconf_merge(rl_arena_t *a, const rl_dirconf_t *base, const rl_dirconf_t *add);

/* Finds a module by its Apache name: "mod_mime.c", "mime_module" or "mime". */
rl_module_t *rl_module_find(const char *name);

/* A setter that accepts anything and lists the directive among those
 * relaisd -t reports as ignored. */
const char *rl_cmd_ignored_listed(rl_cmd_parms_t *p, void *conf, int argc, char **argv);

/* Is <m> part of the configuration (built in statically or loaded)? */
bool rl_module_active(const rl_config_t *cf, const rl_module_t *m);

/* Resolves <path> against the server root unless absolute (arena copy). */
const char *rl_config_path(rl_config_t *cf, const char *path);

#endif
