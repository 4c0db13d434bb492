/* The directive engine: argument-count and context checks in Apache's
 * words, and the generic setters. */
#include <errno.h>
#include <stdlib.h>
#include "conf/directive.h"

static const char *arg_error(rl_cmd_parms_t *p, const char *what)
{
    const rl_cmd_t *c = p->cmd;
    return rl_arena_printf(p->arena, "%s %s%s%s", c->name, what,
                           c->usage ? ", " : "", c->usage ? c->usage : "");
}

static const char *check_count(rl_cmd_parms_t *p, int argc, char **argv)
{
    switch (p->cmd->args) {
    case RL_ARGS_RAW:
        return NULL;
    case RL_ARGS_NONE:
        return argc == 0 ? NULL : arg_error(p, "takes no arguments");
    case RL_ARGS_TAKE1:
        return argc == 1 ? NULL : arg_error(p, "takes one argument");
    case RL_ARGS_TAKE2:
        return argc == 2 ? NULL : arg_error(p, "takes two arguments");
    case RL_ARGS_TAKE3:
        return argc == 3 ? NULL : arg_error(p, "takes three arguments");
    case RL_ARGS_TAKE12:
        return argc == 1 || argc == 2 ? NULL : arg_error(p, "takes 1-2 arguments");
    case RL_ARGS_TAKE13:
        return argc == 1 || argc == 3 ? NULL : arg_error(p, "takes one or three arguments");
    case RL_ARGS_TAKE23:
        return argc == 2 || argc == 3 ? NULL : arg_error(p, "takes two or three arguments");
    case RL_ARGS_TAKE123:
        return argc >= 1 && argc <= 3 ? NULL : arg_error(p, "takes one, two or three arguments");
    case RL_ARGS_ITERATE:
    case RL_ARGS_1PLUS:
        return argc >= 1 ? NULL : arg_error(p, "requires at least one argument");
    case RL_ARGS_ITERATE2:
        return argc >= 2 ? NULL : arg_error(p, "requires at least two arguments");
    case RL_ARGS_FLAG:
        if (argc == 1 && rl_parse_flag(argv[0]) >= 0)
            return NULL;
        return rl_arena_printf(p->arena, "%s must be On or Off", p->cmd->name);
    }
    return NULL;
}

static const char *context_name(unsigned ctx)
{
    switch (ctx) {
    case RL_CTX_SERVER: return "the main server configuration";
    case RL_CTX_VHOST: return "<VirtualHost>";
    case RL_CTX_DIR: return "<Directory>, <Location> or <Files>";
    case RL_CTX_HTACCESS: return ".htaccess";
    case RL_CTX_GLOBAL: return "[global]";
    case RL_CTX_POOL: return "a pool section";
    }
    return "this context";
}

const char *rl_cmd_invoke(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    const rl_cmd_t *c = p->cmd;
    if (!(c->where & p->context)) {
        if (p->context == RL_CTX_VHOST)
            return rl_arena_printf(p->arena, "%s cannot occur within <VirtualHost> section", c->name);
        if (p->context == RL_CTX_DIR)
            return rl_arena_printf(p->arena, "%s not allowed here", c->name);
        return rl_arena_printf(p->arena, "%s not allowed in %s", c->name, context_name(p->context));
    }
    const char *err = check_count(p, argc, argv);
    if (err)
        return err;
    if (c->args == RL_ARGS_ITERATE) {
        for (int i = 0; i < argc; i++)
            if ((err = c->set(p, conf, 1, &argv[i])))
                return err;
        return NULL;
    }
    if (c->args == RL_ARGS_ITERATE2) {
        for (int i = 1; i < argc; i++) {
            char *pair[2] = { argv[0], argv[i] };
            if ((err = c->set(p, conf, 2, pair)))
                return err;
        }
        return NULL;
    }
    return c->set(p, conf, argc, argv);
}

int rl_parse_flag(const char *s)
{
    if (strcasecmp(s, "on") == 0)
        return 1;
    if (strcasecmp(s, "off") == 0)
        return 0;
    return -1;
}

bool rl_parse_int64(const char *s, int64_t *out)
{
    uint64_t v;
    if (!rl_str_to_u64(rl_str_c(s), INT64_MAX, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

#define FIELD(conf, p, type) ((type *)((char *)(conf) + (p)->cmd->data))

const char *rl_cmd_set_flag(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    int v = rl_parse_flag(argv[0]);
    if (v < 0)
        return rl_arena_printf(p->arena, "%s must be On or Off", p->cmd->name);
    *FIELD(conf, p, int) = v;
    return NULL;
}

const char *rl_cmd_set_int(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    int64_t v;
    if (!rl_parse_int64(argv[0], &v) || v > INT32_MAX)
        return rl_arena_printf(p->arena, "%s requires a non-negative integer, not '%s'",
                               p->cmd->name, argv[0]);
    *FIELD(conf, p, int) = (int)v;
    return NULL;
}

const char *rl_cmd_set_size(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    int64_t v;
    if (!rl_parse_int64(argv[0], &v))
        return rl_arena_printf(p->arena, "%s requires a non-negative integer, not '%s'",
                               p->cmd->name, argv[0]);
    *FIELD(conf, p, int64_t) = v;
    return NULL;
}

const char *rl_cmd_set_string(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    *FIELD(conf, p, const char *) = rl_arena_strdup(p->arena, argv[0]);
    return NULL;
}

const char *rl_cmd_set_ignored(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)p; (void)conf; (void)argc; (void)argv;
    return NULL;
}
