/* mod_actions: Action (a handler or a content type -> a CGI script URL)
 * and Script (a request method -> a script). As in Apache, the handler
 * runs after every other module's (APR_HOOK_LAST), just before the static
 * files', and restarts the request for
 *     <script><the URI, escaped again>[?<query>]
 * with Apache's internal redirect: the script sees the original URI as its
 * PATH_INFO, and REDIRECT_URL, REDIRECT_STATUS, REDIRECT_HANDLER... This is
 * how the mod_fastcgi style of PHP works (mod/fastcgi.c). */
#include "http/uri.h"
#include "httpd/config.h"
#include "httpd/request.h"

typedef struct action_s {
    const char *type;          /* a handler name or a content type */
    const char *script;        /* URL path of the script */
    bool virtual;              /* "virtual": the file need not exist */
    struct action_s *next;
} action_t;

typedef struct script_s {
    const char *method;        /* as the request line spells it */
    const char *script;
    struct script_s *next;
} script_t;

typedef struct {
    action_t *actions;         /* nearer sections first: the first hit wins */
    script_t *scripts;
    bool configured;           /* Action or Script appears */
} actions_dir_t;

extern rl_module_t rl_actions_module;

static void *create_dir(rl_arena_t *a) { return rl_arena_calloc(a, sizeof(actions_dir_t)); }

static void *merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    actions_dir_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    m->actions = add->actions ? RL_LIST_CONCAT(a, add->actions, base->actions, action_t)
                              : base->actions;
    m->scripts = add->scripts ? RL_LIST_CONCAT(a, add->scripts, base->scripts, script_t)
                              : base->scripts;
    m->configured = base->configured || add->configured;
    return m;
}

/* Action action-type cgi-script [virtual] */
static const char *set_action(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    actions_dir_t *d = conf;
    if (argc == 3 && strcasecmp(argv[2], "virtual") != 0)
        return rl_arena_printf(p->arena, "unrecognized option '%s'", argv[2]);
    action_t *x = rl_arena_alloc(p->arena, sizeof(*x));
    x->type = rl_arena_strdup(p->arena, argv[0]);
    x->script = rl_arena_strdup(p->arena, argv[1]);
    x->virtual = argc == 3;
    x->next = d->actions;      /* a later Action for the same type wins */
    d->actions = x;
    d->configured = true;
    return NULL;
}

/* Script method cgi-script */
static const char *set_script(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    actions_dir_t *d = conf;
    if (strcmp(argv[0], "TRACE") == 0)
        return "TRACE not allowed for Script";
    script_t *x = rl_arena_alloc(p->arena, sizeof(*x));
    x->method = rl_arena_strdup(p->arena, argv[0]);
    x->script = rl_arena_strdup(p->arena, argv[1]);
    x->next = d->scripts;
    d->scripts = x;
    d->configured = true;
    return NULL;
}

/* The Script for the request's method; GET only with a query string. */
static const char *method_script(const actions_dir_t *d, const rl_request_t *r)
{
    if (r->method_id == RL_M_GET && r->args == NULL)
        return NULL;
    for (const script_t *x = d->scripts; x; x = x->next)
        if (strcmp(x->method, r->method) == 0)
            return x->script;
    return NULL;
}

static const action_t *find_action(const actions_dir_t *d, const char *type, size_t n)
{
    for (const action_t *x = d->actions; x; x = x->next)
        if (strlen(x->type) == n && strncasecmp(x->type, type, n) == 0)
            return x;
    return NULL;
}

/* What names the action: the handler, else the content type without its
 * parameters (Apache's ap_field_noparam). Sets *<n> to its length. */
static const char *action_name(const rl_request_t *r, size_t *n)
{
    const char *name = r->handler ? r->handler : r->content_type;
    if (name == NULL)
        return NULL;
    *n = r->handler ? strlen(name) : strcspn(name, ";");
    while (!r->handler && *n && (name[*n - 1] == ' ' || name[*n - 1] == '\t'))
        (*n)--;
    return name;
}

static int handler(rl_request_t *r)
{
    const actions_dir_t *d = RL_DIR_CONF(r->dir, rl_actions_module);
    if (d == NULL || !d->configured)
        return RL_DECLINED;
    const char *script = method_script(d, r);
    /* a Script that redirects to itself twice is not one that answers */
    if (script && r->redirects >= 2)
        return RL_DECLINED;
    size_t n = 0;
    const char *name = action_name(r, &n);
    const action_t *a = name ? find_action(d, name, n) : NULL;
    if (a) {
        if (!a->virtual && !r->finfo_ok) {
            rl_req_log(r, RL_LOG_INFO, "actions", "AH00652: File does not exist: %s",
                       r->filename);
            return 404;
        }
        script = a->script;
        /* the script sees it as REDIRECT_HANDLER */
        rl_hdrs_set(r->arena, &r->env, "HANDLER", rl_arena_strndup(r->arena, name, n));
    }
    if (script == NULL)
        return RL_DECLINED;
    size_t ulen = strlen(r->uri);
    char *esc = rl_arena_alloc(r->arena, 3 * ulen + 1);
    esc[rl_uri_escape_path(esc, r->uri, ulen)] = '\0';
    return rl_req_internal_redirect(r, rl_arena_printf(r->arena, "%s%s%s%s", script, esc,
                                    r->args ? "?" : "", r->args ? r->args : ""), false);
}

static const rl_cmd_t actions_cmds[] = {
    { "Action", set_action, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO, RL_ARGS_TAKE23,
      "a media type followed by a script name" },
    { "Script", set_script, 0, RL_CTX_ANY, 0, RL_ARGS_TAKE2,
      "a method followed by a script name" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_actions_module = {
    .name = "actions",
    .cmds = actions_cmds,
    .create_dir = create_dir,
    .merge_dir = merge_dir,
    .handler = handler,
};
