/* mod_alias: Alias, AliasMatch, Redirect and its forms, RedirectMatch.
 * Server-level entries are tried in order of appearance during URI
 * translation, redirects first, as Apache does. */
#include <stdio.h>
#include "httpd/config.h"
#include "httpd/request.h"

typedef struct alias_s {
    const char *fake;          /* URL path or regex source */
    size_t fake_len;
    const char *real;          /* file path, URL, or substitution */
    pcre2_code *re;
    int status;                /* 0 for Alias, 3xx/410 for redirects */
    bool whole;                /* "Redirect [status] URL" in a section: all of it */
    struct alias_s *next;
} alias_t;

typedef struct {
    alias_t *aliases;
    alias_t *redirects;
} alias_srv_t;

typedef struct {
    alias_t *redirects;        /* Redirect inside sections (.htaccess later) */
} alias_dir_t;

extern rl_module_t rl_alias_module;

static void *create_srv(rl_arena_t *a) { return rl_arena_calloc(a, sizeof(alias_srv_t)); }
static void *create_dir(rl_arena_t *a) { return rl_arena_calloc(a, sizeof(alias_dir_t)); }

/* A virtual host's entries come before the main server's. */
static void *merge_srv(rl_arena_t *a, void *basev, void *addv)
{
    alias_srv_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    m->aliases = RL_LIST_CONCAT(a, add->aliases, base->aliases, alias_t);
    m->redirects = RL_LIST_CONCAT(a, add->redirects, base->redirects, alias_t);
    return m;
}

static void *merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    alias_dir_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    m->redirects = RL_LIST_CONCAT(a, add->redirects, base->redirects, alias_t);
    return m;
}

static void append(alias_t **list, alias_t *x)
{
    while (*list)
        list = &(*list)->next;
    *list = x;
}

static const char *compile(rl_cmd_parms_t *p, alias_t *x, const char *re)
{
    int ec;
    PCRE2_SIZE off;
    x->re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL);
    if (x->re == NULL)
        return "Regular expression could not be compiled.";
    rl_arena_on_cleanup(p->arena, (rl_cleanup_cb)pcre2_code_free, x->re);
    return NULL;
}

static const char *add_alias(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    alias_srv_t *s = conf;
    alias_t *x = rl_arena_calloc(p->arena, sizeof(*x));
    x->real = argv[1][0] == '/' ? rl_arena_strdup(p->arena, argv[1])
                                : rl_config_path(((rl_conf_state_t *)p->ctx)->cf, argv[1]);
    if (p->cmd->data) {
        const char *err = compile(p, x, argv[0]);
        if (err)
            return err;
    }
    x->fake = rl_arena_strdup(p->arena, argv[0]);
    x->fake_len = strlen(x->fake);
    append(&s->aliases, x);
    return NULL;
}

static int redirect_status(const char *w)
{
    if (strcasecmp(w, "permanent") == 0) return 301;
    if (strcasecmp(w, "temp") == 0) return 302;
    if (strcasecmp(w, "seeother") == 0) return 303;
    if (strcasecmp(w, "gone") == 0) return 410;
    int64_t v;
    if (rl_parse_int64(w, &v) && v >= 300 && v <= 599)
        return (int)v;
    return 0;
}

/* Redirect [status] URL-path [URL], with Apache's reading of the first
 * argument; data: 0 Redirect, 1 RedirectMatch, 301/302 for
 * RedirectPermanent/RedirectTemp. */
static const char *add_redirect(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    bool match = p->cmd->data == 1;
    int status = p->cmd->data > 1 ? (int)p->cmd->data : redirect_status(argv[0]);
    bool grok = p->cmd->data <= 1 && argc >= 2 && status != 0;
    if (argc == 3 && !grok)
        return "Redirect: invalid first argument (of three)";
    /* Apache 2.4: in a section, "Redirect [status] URL" (no URL-path)
     * redirects every request the section applies to */
    bool whole = !match && p->cmd->data == 0 && p->section &&
                 ((grok && argc == 2) || (!grok && argc == 1) ||
                  (status && argc == 1 && (status < 300 || status > 399)));
    if (whole) {
        alias_t *x = rl_arena_calloc(p->arena, sizeof(*x));
        x->whole = true;
        x->status = status ? status : 302;
        x->fake = "";
        x->real = argc == 1 && status ? NULL : rl_arena_strdup(p->arena, argv[argc - 1]);
        if (x->real == NULL && x->status >= 300 && x->status <= 399)
            return "URL to redirect to is missing";
        append(&((alias_dir_t *)conf)->redirects, x);
        return NULL;
    }
    if (!grok && p->cmd->data <= 1)
        status = 302;
    const char *f = grok ? argv[1] : argv[0];
    const char *url = grok ? (argc == 3 ? argv[2] : NULL) : (argc >= 2 ? argv[1] : NULL);
    if (status >= 300 && status <= 399) {
        if (url == NULL)
            return "URL to redirect to is missing";
        if (!match && url[0] != '/' && !strstr(url, "://"))
            return "Redirect to non-URL";
    } else if (url) {
        return "Redirect URL not valid for this status";
    }
    alias_t *x = rl_arena_calloc(p->arena, sizeof(*x));
    x->status = status;
    x->fake = rl_arena_strdup(p->arena, f);
    x->fake_len = strlen(x->fake);
    x->real = url ? rl_arena_strdup(p->arena, url) : NULL;
    if (match) {
        const char *err = compile(p, x, f);
        if (err)
            return err;
    }
    if (p->context == RL_CTX_DIR || p->context == RL_CTX_HTACCESS)
        append(&((alias_dir_t *)conf)->redirects, x);
    else
        append(&((alias_srv_t *)rl_cmd_srvconf(p, &rl_alias_module))->redirects, x);
    return NULL;
}

/* Apache's alias_matches: a prefix match where runs of slashes in the
 * URI count as one. Returns the length of <uri> matched, 0 for none. */
static size_t alias_matches(const char *uri, const char *fake)
{
    const char *u = uri, *f = fake;
    while (*f) {
        if (*f == '/') {
            if (*u != '/')
                return 0;
            while (*f == '/') f++;
            while (*u == '/') u++;
        } else if (*u++ != *f++) {
            return 0;
        }
    }
    /* the match must end at a path segment boundary */
    if (f[-1] != '/' && *u && *u != '/')
        return 0;
    return (size_t)(u - uri);
}

/* Expands $0..$9 in <sub> from the match <md> over <subject>. */
static char *substitute(rl_arena_t *a, const char *sub, const char *subject, pcre2_match_data *md, int rc)
{
    rl_buf_t b = RL_BUF_INIT;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    for (const char *s = sub; *s; s++) {
        if (*s == '$' && s[1] >= '0' && s[1] <= '9') {
            int n = s[1] - '0';
            if (n < rc && ov[2 * n] != PCRE2_UNSET)
                rl_buf_append(&b, subject + ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
            s++;
        } else if (*s == '\\' && (s[1] == '$' || s[1] == '\\')) {
            rl_buf_append(&b, ++s, 1);
        } else {
            rl_buf_append(&b, s, 1);
        }
    }
    char *out = rl_arena_strndup(a, b.data ? b.data : "", b.len);
    rl_buf_release(&b);
    return out;
}

/* Tries <list> on the URI. Returns the target (file path or URL), and the
 * entry through <hit>, or NULL. */
static const char *try_list(rl_request_t *r, alias_t *list, alias_t **hit)
{
    const char *uri = r->uri;
    for (alias_t *x = list; x; x = x->next) {
        if (x->whole) {
            *hit = x;
            return x->real ? x->real : "";
        }
        if (x->re) {
            pcre2_match_data *md = pcre2_match_data_create_from_pattern(x->re, NULL);
            int rc = pcre2_match(x->re, (PCRE2_SPTR)uri, strlen(uri), 0, 0, md, NULL);
            const char *out = NULL;
            if (rc > 0)
                out = x->real ? substitute(r->arena, x->real, uri, md, rc) : "";
            pcre2_match_data_free(md);
            if (out) {
                *hit = x;
                return out;
            }
            continue;
        }
        size_t n = alias_matches(uri, x->fake);
        if (n) {
            *hit = x;
            if (x->real == NULL)
                return "";
            return rl_arena_printf(r->arena, "%s%s", x->real, uri + n);
        }
    }
    return NULL;
}

static int do_redirect(rl_request_t *r, alias_t *x, const char *target)
{
    if (x->status < 300 || x->status > 399)
        return x->status;
    /* Apache appends the query string, for RedirectMatch too, unless the
     * target has its own */
    if (r->args && !strchr(target, '?'))
        target = rl_arena_printf(r->arena, "%s?%s", target, r->args);
    if (target[0] == '/')
        target = rl_req_self_url(r, target);
    return rl_req_redirect(r, x->status, target);
}

static int translate(rl_request_t *r)
{
    alias_srv_t *s = RL_SRV_CONF(r->server, rl_alias_module);
    alias_t *hit = NULL;
    const char *t = try_list(r, s->redirects, &hit);
    if (t)
        return do_redirect(r, hit, t);
    t = try_list(r, s->aliases, &hit);
    if (t == NULL)
        return RL_DECLINED;
    r->filename = t;
    if (hit->re == NULL) {
        r->context_prefix = hit->fake;
        r->context_root = hit->real;
    }
    return RL_OK;
}

/* Redirects inside sections apply after the walks (Apache's fixup). */
static int fixups(rl_request_t *r)
{
    alias_dir_t *d = RL_DIR_CONF(r->dir, rl_alias_module);
    alias_t *hit = NULL;
    const char *t = d ? try_list(r, d->redirects, &hit) : NULL;
    return t ? do_redirect(r, hit, t) : RL_DECLINED;
}

static const rl_cmd_t alias_cmds[] = {
    { "Alias", add_alias, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE2,
      "a fakename and a realname, or a realname in a Location" },
    { "AliasMatch", add_alias, 1, RL_CTX_RSRC, 0, RL_ARGS_TAKE2,
      "a regular expression and a filename" },
    { "Redirect", add_redirect, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO, RL_ARGS_TAKE123,
      "an optional status, then document to be redirected and destination URL" },
    { "RedirectMatch", add_redirect, 1, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_TAKE123, "an optional status, then a regular expression and destination URL" },
    { "RedirectTemp", add_redirect, 302, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_TAKE2, "a document to be redirected, then the destination URL" },
    { "RedirectPermanent", add_redirect, 301, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_TAKE2, "a document to be redirected, then the destination URL" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_alias_module = {
    .name = "alias",
    .cmds = alias_cmds,
    .create_server = create_srv,
    .merge_server = merge_srv,
    .create_dir = create_dir,
    .merge_dir = merge_dir,
    .translate = translate,
    .fixups = fixups,
};
