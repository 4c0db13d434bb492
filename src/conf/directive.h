/* The directive engine shared by both configuration syntaxes.
 *
 * A daemon describes its directives as rows (name, where allowed, argument
 * shape, setter, offset). The engine checks the argument count and the
 * context, calls the setter, and turns the setter's short message into an
 * error naming the directive, the file and the line. Defaults never live
 * here: a setter only records what the file said; the merge functions fill
 * in what was left unset (RL_UNSET). */
#ifndef RL_DIRECTIVE_H
#define RL_DIRECTIVE_H

#include "core/rl.h"
#include "core/arena.h"

/* Where a directive may appear (bits). The httpd contexts follow Apache's
 * RSRC_CONF / ACCESS_CONF / OR_* split; the FPM ones are [global] and pools. */
enum {
    RL_CTX_SERVER   = 1u << 0,  /* main server, outside any section */
    RL_CTX_VHOST    = 1u << 1,  /* inside <VirtualHost> */
    RL_CTX_DIR      = 1u << 2,  /* <Directory>, <Location>, <Files> and their Match forms */
    RL_CTX_HTACCESS = 1u << 3,  /* .htaccess, subject to the override bits below */
    RL_CTX_GLOBAL   = 1u << 4,  /* php-fpm [global] */
    RL_CTX_POOL     = 1u << 5,  /* php-fpm [pool] */
    RL_CTX_RSRC     = RL_CTX_SERVER | RL_CTX_VHOST,
    RL_CTX_ANY      = RL_CTX_SERVER | RL_CTX_VHOST | RL_CTX_DIR,
};

/* AllowOverride groups a directive belongs to (Apache's OR_*). */
enum {
    RL_OVR_LIMIT    = 1u << 0,
    RL_OVR_OPTIONS  = 1u << 1,
    RL_OVR_FILEINFO = 1u << 2,
    RL_OVR_AUTHCFG  = 1u << 3,
    RL_OVR_INDEXES  = 1u << 4,
    RL_OVR_ALL      = 0x1f,
};

typedef enum {
    RL_ARGS_RAW,      /* any number, setter sees argv as split; raw text in parms */
    RL_ARGS_NONE,
    RL_ARGS_TAKE1,
    RL_ARGS_TAKE2,
    RL_ARGS_TAKE3,
    RL_ARGS_TAKE12,
    RL_ARGS_TAKE13,
    RL_ARGS_TAKE23,
    RL_ARGS_TAKE123,
    RL_ARGS_ITERATE,  /* one or more: the setter is called once per argument */
    RL_ARGS_ITERATE2, /* first argument, then once per further argument: setter(argv[0], argv[i]) */
    RL_ARGS_FLAG,     /* On|Off */
    RL_ARGS_1PLUS,    /* one or more, all at once */
} rl_args_t;

typedef struct rl_cmd_s rl_cmd_t;
typedef struct rl_cmd_parms_s rl_cmd_parms_t;

/* A setter records the arguments into <conf>. Returns NULL, or a short
 * message without the directive name or position (the engine adds them). */
typedef const char *(*rl_cmd_set_cb)(rl_cmd_parms_t *p, void *conf, int argc, char **argv);

struct rl_cmd_s {
    const char *name;
    rl_cmd_set_cb set;
    intptr_t data;          /* offset into conf for the generic setters, or anything */
    unsigned where;         /* RL_CTX_* bits */
    unsigned override;      /* RL_OVR_* bits: allowed in .htaccess under these */
    rl_args_t args;
    const char *usage;      /* Apache's one-line help, shown on argument errors */
};

struct rl_cmd_parms_s {
    const rl_cmd_t *cmd;
    rl_arena_t *arena;      /* the configuration generation */
    const char *file;
    int line;
    const char *raw_args;   /* the argument text as written (for RL_ARGS_RAW) */
    unsigned context;       /* the RL_CTX_* bit of where the directive is */
    const char *section;    /* path or pattern of the enclosing section, or NULL */
    void *ctx;              /* the daemon's own state */
    const struct rl_conf_node_s *node; /* the directive or section being set */
};

/* Calls the setter of <cmd> for <argc>/<argv> after checking the argument
 * count and that <p->context> is allowed. Returns NULL or an error message
 * (allocated in p->arena) in Apache's words, e.g. "DocumentRoot takes one
 * argument, Root directory of the document tree". */
const char *rl_cmd_invoke(rl_cmd_parms_t *p, void *conf, int argc, char **argv);

/* Generic setters: store into the field at offset cmd->data of conf. */
const char *rl_cmd_set_flag(rl_cmd_parms_t *p, void *conf, int argc, char **argv);    /* int: 1/0 */
const char *rl_cmd_set_int(rl_cmd_parms_t *p, void *conf, int argc, char **argv);     /* int >= 0 */
const char *rl_cmd_set_size(rl_cmd_parms_t *p, void *conf, int argc, char **argv);    /* int64_t bytes >= 0 */
const char *rl_cmd_set_string(rl_cmd_parms_t *p, void *conf, int argc, char **argv); /* const char * */
const char *rl_cmd_set_ignored(rl_cmd_parms_t *p, void *conf, int argc, char **argv); /* accepts anything */

/* Parses On/Off (case-insensitive); returns 1, 0 or -1. */
int rl_parse_flag(const char *s);
/* Parses a whole non-negative decimal number; false on garbage or overflow. */
bool rl_parse_int64(const char *s, int64_t *out);

#endif
