/* mod_mime: the content type of a file from its extensions (TypesConfig
 * plus AddType), and handlers by extension (AddHandler, for the FastCGI
 * issue). Like Apache, every extension of the name counts ("a.html.en"),
 * and the last one that maps to something wins. */
#include <ctype.h>
#include <stdio.h>
#include "httpd/config.h"
#include "httpd/request.h"
#include "httpd/mod/core.h"

typedef struct ext_map_s {
    const char *ext;           /* lowercase, without the dot */
    const char *value;         /* type or handler; NULL removes */
    struct ext_map_s *next;
} ext_map_t;

typedef struct {
    ext_map_t *types;
    ext_map_t *handlers;
} mime_dir_t;

typedef struct {
    const char *types_config;
} mime_srv_t;

extern rl_module_t rl_mime_module;

static void *create_srv(rl_arena_t *a) { return rl_arena_calloc(a, sizeof(mime_srv_t)); }
static void *create_dir(rl_arena_t *a) { return rl_arena_calloc(a, sizeof(mime_dir_t)); }

/* The nearer section's entries come first: lookups take the first hit. */
static void *merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    mime_dir_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    m->types = add->types ? RL_LIST_CONCAT(a, add->types, base->types, ext_map_t) : base->types;
    m->handlers = add->handlers ? RL_LIST_CONCAT(a, add->handlers, base->handlers, ext_map_t) : base->handlers;
    return m;
}

static const char *add_ext(rl_cmd_parms_t *p, ext_map_t **list, const char *value, const char *ext)
{
    if (*ext == '.')
        ext++;
    ext_map_t *x = rl_arena_alloc(p->arena, sizeof(*x));
    char *e = rl_arena_strdup(p->arena, ext);
    for (char *c = e; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    x->ext = e;
    x->value = value ? rl_arena_strdup(p->arena, value) : NULL;
    x->next = *list;
    *list = x;
    return NULL;
}

static const char *set_add_type(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    mime_dir_t *d = conf;
    return add_ext(p, p->cmd->data ? &d->handlers : &d->types, argv[0], argv[1]);
}

static const char *set_remove(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    mime_dir_t *d = conf;
    return add_ext(p, p->cmd->data ? &d->handlers : &d->types, NULL, argv[0]);
}

static const char *set_types_config(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc;
    rl_conf_state_t *st = RL_CMD_STATE(p);
    if (st->context != RL_CTX_SERVER)
        return "TypesConfig cannot occur within <VirtualHost> section";
    st->cf->types_config = rl_config_path(st->cf, argv[0]);
    return NULL;
}

static const char *post_config(rl_config_t *cf, rl_server_t *s)
{
    if (s != cf->main || cf->mime)
        return NULL;
    char err[512];
    const char *path = cf->types_config ? cf->types_config : "/etc/mime.types";
    cf->mime = rl_mime_load(cf->arena, path, err, sizeof(err));
    if (cf->mime == NULL)
        return rl_arena_printf(cf->arena, "AH01597: could not open mime types config file %s: %s",
                               path, err);
    return NULL;
}

static const char *map_lookup(const ext_map_t *list, const char *ext, size_t n, bool *found)
{
    for (; list; list = list->next) {
        if (strlen(list->ext) == n && strncasecmp(list->ext, ext, n) == 0) {
            *found = true;
            return list->value;
        }
    }
    *found = false;
    return NULL;
}

/* Walks the extensions of the last path component of <filename>. */
static void by_extensions(rl_request_t *r, const mime_dir_t *d, const char **type,
                          const char **handler)
{
    const char *base = strrchr(r->filename, '/');
    base = base ? base + 1 : r->filename;
    const char *dot = strchr(base, '.');
    while (dot) {
        const char *ext = dot + 1;
        const char *end = strchr(ext, '.');
        size_t n = end ? (size_t)(end - ext) : strlen(ext);
        bool found;
        const char *t = map_lookup(d->types, ext, n, &found);
        if (!found && r->cf->mime)
            t = rl_mime_lookup_ext(r->cf->mime, rl_str(ext, n));
        if (t)
            *type = t;
        const char *h = map_lookup(d->handlers, ext, n, &found);
        if (found)
            *handler = h;
        dot = end;
    }
}

static int type_checker(rl_request_t *r)
{
    const rl_core_dir_t *core = rl_core_dir(r->dir);
    if (r->filename == NULL)
        return RL_DECLINED;
    if (r->finfo_ok && S_ISDIR(r->finfo.st_mode)) {
        r->content_type = "httpd/unix-directory";
        return RL_OK;
    }
    const char *type = NULL, *handler = NULL;
    by_extensions(r, RL_DIR_CONF(r->dir, rl_mime_module), &type, &handler);
    if (core->forced_type)
        type = core->forced_type;
    r->content_type = type;
    r->handler = core->handler ? core->handler : handler;
    return RL_OK;
}

static const rl_cmd_t mime_cmds[] = {
    { "TypesConfig", set_types_config, 0, RL_CTX_SERVER, 0, RL_ARGS_TAKE1,
      "the MIME types config file" },
    { "AddType", set_add_type, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_ITERATE2, "a mime type followed by one or more file extensions" },
    { "AddHandler", set_add_type, 1, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_ITERATE2, "a handler name followed by one or more file extensions" },
    { "RemoveType", set_remove, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_ITERATE, "one or more file extensions" },
    { "RemoveHandler", set_remove, 1, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_ITERATE, "one or more file extensions" },
    { "AddCharset", rl_cmd_set_ignored, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_1PLUS, "a charset (e.g., iso-2022-jp), followed by one or more file extensions" },
    { "AddEncoding", rl_cmd_set_ignored, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_1PLUS, "an encoding (e.g., gzip), followed by one or more file extensions" },
    { "AddLanguage", rl_cmd_set_ignored, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_1PLUS, "a language (e.g., fr), followed by one or more file extensions" },
    { "AddOutputFilter", rl_cmd_set_ignored, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_1PLUS, "output filter name followed by one or more file extensions" },
    { "DefaultLanguage", rl_cmd_set_ignored, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_TAKE1, "language to use for documents with no other language file extension" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_mime_module = {
    .name = "mime",
    .cmds = mime_cmds,
    .create_server = create_srv,
    .create_dir = create_dir,
    .merge_dir = merge_dir,
    .post_config = post_config,
    .type = type_checker,
};
