/* mod_reqtimeout: RequestReadTimeout. relais applies Apache's defaults
 * (header=20-40,MinRate=500 body=20,MinRate=500) even when the module is
 * not loaded: a server without them is open to slowloris, and Debian loads
 * the module by default anyway. */
#include <stdio.h>
#include <stdlib.h>
#include "httpd/config.h"

static const char *parse_stage(rl_cmd_parms_t *p, const char *v, int *t, int *max, int *rate)
{
    /* "20-40,MinRate=500", "20", "0" (disabled) */
    char *end;
    long a = strtol(v, &end, 10), b = 0, r = 0;
    if (end == v || a < 0)
        return rl_arena_printf(p->arena, "RequestReadTimeout: invalid timeout '%s'", v);
    if (*end == '-') {
        const char *s = end + 1;
        b = strtol(s, &end, 10);
        if (end == s || b < a)
            return "RequestReadTimeout: Maximum timeout must be larger than initial timeout";
    }
    if (*end == ',') {
        if (strncasecmp(end + 1, "minrate=", 8) != 0)
            return rl_arena_printf(p->arena, "RequestReadTimeout: unknown option '%s'", end + 1);
        const char *s = end + 9;
        r = strtol(s, &end, 10);
        if (end == s || r < 1)
            return "RequestReadTimeout: Minimum data rate must be larger than 0";
    }
    if (*end)
        return rl_arena_printf(p->arena, "RequestReadTimeout: cannot parse '%s'", v);
    *t = (int)a;
    *max = (int)b;
    *rate = (int)r;
    return NULL;
}

static const char *set_rrt(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    rl_server_t *s = RL_CMD_STATE(p)->server;
    (void)conf;
    for (int i = 0; i < argc; i++) {
        const char *err;
        if (strncasecmp(argv[i], "header=", 7) == 0)
            err = parse_stage(p, argv[i] + 7, &s->rt_header, &s->rt_header_max, &s->rt_header_rate);
        else if (strncasecmp(argv[i], "body=", 5) == 0)
            err = parse_stage(p, argv[i] + 5, &s->rt_body, &s->rt_body_max, &s->rt_body_rate);
        else if (strncasecmp(argv[i], "handshake=", 10) == 0)
            err = NULL;   /* TLS arrives later */
        else
            err = rl_arena_printf(p->arena, "RequestReadTimeout: unknown stage '%s'", argv[i]);
        if (err)
            return err;
    }
    return NULL;
}

static const char *post_config(rl_config_t *cf, rl_server_t *s)
{
    (void)cf;
    if (s->rt_header == RL_UNSET) {
        s->rt_header = s == cf->main ? 20 : cf->main->rt_header;
        s->rt_header_max = s == cf->main ? 40 : cf->main->rt_header_max;
        s->rt_header_rate = s == cf->main ? 500 : cf->main->rt_header_rate;
    }
    if (s->rt_body == RL_UNSET) {
        s->rt_body = s == cf->main ? 20 : cf->main->rt_body;
        s->rt_body_max = s == cf->main ? 0 : cf->main->rt_body_max;
        s->rt_body_rate = s == cf->main ? 500 : cf->main->rt_body_rate;
    }
    return NULL;
}

static const rl_cmd_t rrt_cmds[] = {
    { "RequestReadTimeout", set_rrt, 0, RL_CTX_RSRC, 0, RL_ARGS_1PLUS,
      "Set various timeout parameters for TLS handshake and/or reading request headers and body" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_reqtimeout_module = {
    .name = "reqtimeout",
    .cmds = rrt_cmds,
};

/* The defaults are filled in by core (post_config runs for loaded modules
 * only, and relais applies them always). */
const char *rl_reqtimeout_defaults(rl_config_t *cf, rl_server_t *s)
{
    return post_config(cf, s);
}
