/* mod_dir: the trailing-slash redirect for directories (DirectorySlash),
 * DirectoryIndex, which turns a directory request into a request for the
 * first index file that exists, and FallbackResource, the front controller
 * for URLs no file answers (both by Apache's fast internal redirect: no
 * REDIRECT_* variables). */
#include <stdio.h>
#include <sys/stat.h>
#include "http/uri.h"
#include "httpd/config.h"
#include "httpd/request.h"

typedef struct {
    const char **index;        /* NULL: unset; an empty list after "disabled" */
    unsigned nindex;
    int slash;                 /* RL_UNSET, 0, 1 */
    const char *fallback;      /* FallbackResource; NULL: unset, "disabled" */
} dir_dir_t;

extern rl_module_t rl_dir_module;

static void *create_dir(rl_arena_t *a)
{
    dir_dir_t *d = rl_arena_calloc(a, sizeof(*d));
    d->slash = RL_UNSET;
    return d;
}

static void *merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    dir_dir_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    *m = add->index ? *add : *base;
    m->slash = add->slash != RL_UNSET ? add->slash : base->slash;
    m->fallback = add->fallback ? add->fallback : base->fallback;
    return m;
}

static const char *set_index(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    dir_dir_t *d = conf;
    if (argc == 1 && strcasecmp(argv[0], "disabled") == 0) {
        d->index = rl_arena_alloc(p->arena, sizeof(char *));
        d->nindex = 0;
        return NULL;
    }
    d->index = rl_arena_alloc(p->arena, sizeof(char *) * (size_t)argc);
    d->nindex = (unsigned)argc;
    for (int i = 0; i < argc; i++)
        d->index[i] = rl_arena_strdup(p->arena, argv[i]);
    return NULL;
}

/* FallbackResource: no file and no handler; the fallback is served in
 * place of the request (REQUEST_URI stays the client's), as Apache's
 * fixup_dflt, when it is a file or a proxied URL. */
static int fallback(rl_request_t *r, const dir_dir_t *d)
{
    if (d->fallback == NULL || strcasecmp(d->fallback, "disabled") == 0 || r->redirects > 0)
        return RL_DECLINED;
    const char *uri = r->args ? rl_arena_printf(r->arena, "%s?%s", d->fallback, r->args)
                              : d->fallback;
    const char *file = rl_req_lookup_file(r, d->fallback);
    struct stat st;
    if (file && strncmp(file, "proxy:", 6) != 0 && (stat(file, &st) != 0 || !S_ISREG(st.st_mode)))
        return RL_DECLINED;   /* Apache then answers with what the request had: 404 */
    return rl_req_fast_redirect(r, uri);
}

static int fixups(rl_request_t *r)
{
    dir_dir_t *d = RL_DIR_CONF(r->dir, rl_dir_module);
    if (!r->finfo_ok && r->handler == NULL && r->filename &&
        strncmp(r->filename, "proxy:", 6) != 0)
        return fallback(r, d);
    if (!r->finfo_ok || !S_ISDIR(r->finfo.st_mode) || r->handler)
        return RL_DECLINED;
    size_t ulen = strlen(r->uri);
    if (ulen == 0 || r->uri[ulen - 1] != '/') {
        if (d->slash == 0)
            return RL_DECLINED;
        if (r->method_id != RL_M_GET && r->method_id != RL_M_HEAD)
            return RL_DECLINED;
        /* as Apache: the normalised path, escaped again, plus the slash
         * ("/a/../b" and "/%62" both redirect to "/b/") */
        char *esc = rl_arena_alloc(r->arena, 3 * ulen + 1);
        size_t n = rl_uri_escape_path(esc, r->uri, ulen);
        const char *loc = rl_arena_printf(r->arena, "%.*s/%s%s", (int)n, esc,
                                          r->args ? "?" : "", r->args ? r->args : "");
        return rl_req_redirect(r, 301, rl_req_self_url(r, loc));
    }
    static const char *dflt[] = { "index.html" };
    const char **names = d->index ? d->index : dflt;
    unsigned n = d->index ? d->nindex : 1;
    for (unsigned i = 0; i < n; i++) {
        const char *name = names[i];
        const char *uri = name[0] == '/' ? name : rl_arena_printf(r->arena, "%s%s", r->uri, name);
        if (name[0] != '/') {
            struct stat st;
            const char *path = rl_arena_printf(r->arena, "%s%s", r->filename, name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
        }
        return rl_req_fast_redirect(r, uri);
    }
    return RL_DECLINED;
}

static const rl_cmd_t dir_cmds[] = {
    { "DirectoryIndex", set_index, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_INDEXES,
      RL_ARGS_1PLUS, "a list of file names" },
    { "DirectorySlash", rl_cmd_set_flag, offsetof(dir_dir_t, slash),
      RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_INDEXES, RL_ARGS_FLAG,
      "On or Off" },
    { "FallbackResource", rl_cmd_set_string, offsetof(dir_dir_t, fallback),
      RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_INDEXES, RL_ARGS_TAKE1,
      "Set a default handler" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_dir_module = {
    .name = "dir",
    .cmds = dir_cmds,
    .create_dir = create_dir,
    .merge_dir = merge_dir,
    .fixups = fixups,
};
