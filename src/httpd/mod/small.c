/* Modules with little or no behaviour of their own in relais: unixd (User,
 * Group), so (LoadModule, handled by the reader), version, http, logio,
 * mpm_event (its directives are core's), and the MPMs relais replaces. */
#include "core/proc.h"
#include "httpd/config.h"

#define ST(p) ((rl_conf_state_t *)(p)->ctx)

static const char *set_user_group(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc;
    if (ST(p)->context != RL_CTX_SERVER)
        return rl_arena_printf(p->arena, "%s cannot occur within <VirtualHost> section",
                               p->cmd->name);
    /* Apache resolves them while reading (AH00543/AH00544), so that -t
     * catches a typo instead of every worker dying at start */
    char err[256];
    uid_t uid = 1;
    gid_t gid = 0;
    bool user = p->cmd->data == offsetof(rl_config_t, user);
    if (user ? rl_proc_resolve_user(argv[0], &uid, err, sizeof(err)) != RL_OK
             : rl_proc_resolve_group(argv[0], &gid, err, sizeof(err)) != RL_OK)
        return rl_arena_printf(p->arena, "%s: relaisd: %s", user ? "AH00543" : "AH00544", err);
    if (user && uid == 0)
        return "Error: relais will not serve pages as root (as Apache, which refuses "
               "User root): set User to an unprivileged user";
    const char **f = (const char **)((char *)ST(p)->cf + p->cmd->data);
    *f = rl_arena_strdup(p->arena, argv[0]);
    return NULL;
}

static const rl_cmd_t unixd_cmds[] = {
    { "User", set_user_group, offsetof(rl_config_t, user), RL_CTX_RSRC, 0, RL_ARGS_TAKE1,
      "Effective user id for this server" },
    { "Group", set_user_group, offsetof(rl_config_t, group), RL_CTX_RSRC, 0, RL_ARGS_TAKE1,
      "Effective group id for this server" },
    { "ChrootDir", rl_cmd_set_ignored, 0, RL_CTX_SERVER, 0, RL_ARGS_TAKE1,
      "The directory to chroot(2) into" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_unixd_module = { .name = "unixd", .always = true, .cmds = unixd_cmds };
rl_module_t rl_so_module = { .name = "so", .always = true };
rl_module_t rl_version_module = { .name = "version", .always = true };
rl_module_t rl_http_module = { .name = "http", .always = true };
rl_module_t rl_logio_module = { .name = "logio", .always = true };
rl_module_t rl_watchdog_module = { .name = "watchdog", .always = true };
/* relais' engine is event-driven whatever the configuration loads */
rl_module_t rl_mpm_event_module = { .name = "mpm_event", .always = true };
rl_module_t rl_mpm_worker_module = { .name = "mpm_worker", .explicit_only = true };
rl_module_t rl_mpm_prefork_module = { .name = "mpm_prefork", .explicit_only = true };
