/* mod_rewrite: RewriteEngine, RewriteOptions, RewriteBase, RewriteCond,
 * RewriteRule and RewriteMap, with Apache 2.4's semantics; the rules
 * themselves are mod/rewrite_engine.c's (rewrite.h).
 *
 * Rules of the server or a virtual host run in the translate hook, before
 * ProxyPass and Alias, on the decoded URI: a result that is a URL-path is
 * mapped under DocumentRoot (unless its first component exists on disk, as
 * Apache's prefix_stat decides), [PT] hands it to the next translators as
 * the new URI. Rules of a section (<Directory>, .htaccess) run in the
 * fixups on the file the URI mapped to, with the section's directory cut
 * off; a result inside the section gets RewriteBase (or the document root
 * taken off) and becomes an internal redirect, which this module's handler
 * makes once the other fixups (SetEnv) have run, as in Apache.
 *
 * Configurations merge as Apache's do: a section without Rewrite*
 * directives leaves the outer one as it is; one with them replaces its
 * rules unless RewriteOptions Inherit; a virtual host has its own engine
 * state and rules unless it inherits. */
#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "httpd/config.h"
#include "httpd/request.h"
#include "httpd/mod/core.h"
#include "httpd/mod/proxy.h"
#include "httpd/mod/rewrite.h"

#define REDIRECT_HANDLER "redirect-handler"

/* RewriteOptions */
enum {
    OPT_INHERIT = 1 << 0,
    OPT_INHERIT_BEFORE = 1 << 1,
    OPT_NOSLASH = 1 << 2,
    OPT_ANYURI = 1 << 3,
    OPT_MERGEBASE = 1 << 4,
    OPT_INHERIT_DOWN = 1 << 5,
    OPT_INHERIT_DOWN_BEFORE = 1 << 6,
    OPT_IGNORE_INHERIT = 1 << 7,
    OPT_IGNORE_CONTEXT_INFO = 1 << 8,
    OPT_LEGACY_PREFIX_DOCROOT = 1 << 9,
    OPT_LONGOPT = 1 << 10,
};

/* A list of rules, and the conditions read but not yet attached. */
typedef struct {
    rl_rewrite_rule_t **rules;
    unsigned nrules, cap;
    rl_rewrite_cond_t **pending;
    unsigned npending, pcap;
} rw_list_t;

typedef struct {
    int state;                  /* RL_UNSET, 0, 1 */
    int options;
    bool options_set;
    rl_rewrite_map_t *maps;
    rw_list_t list;
} rw_srv_t;

typedef struct {
    bool touched;               /* a Rewrite* directive was here (Apache creates
                                 * the module's section config only then) */
    int state;
    int options;
    bool options_set;
    const char *base;           /* RewriteBase */
    bool base_set;
    const char *directory;      /* the section's directory, with a '/' */
    rw_list_t list;
} rw_dir_t;

extern rl_module_t rl_rewrite_module, rl_proxy_module;

/* ---- configuration records ---- */

static void *create_srv(rl_arena_t *a)
{
    rw_srv_t *s = rl_arena_calloc(a, sizeof(*s));
    s->state = RL_UNSET;
    return s;
}

static void *create_dir(rl_arena_t *a)
{
    rw_dir_t *d = rl_arena_calloc(a, sizeof(*d));
    d->state = RL_UNSET;
    return d;
}

static rl_rewrite_rule_t **rules_cat(rl_arena_t *a, const rw_list_t *x, const rw_list_t *y,
                                      unsigned *n)
{
    *n = x->nrules + y->nrules;
    rl_rewrite_rule_t **v = rl_arena_alloc(a, sizeof(*v) * (*n ? *n : 1));
    for (unsigned i = 0; i < x->nrules; i++)
        v[i] = x->rules[i];
    for (unsigned i = 0; i < y->nrules; i++)
        v[x->nrules + i] = y->rules[i];
    return v;
}

/* Apache's inheritance: the parent's rules after the own ones (Inherit),
 * before them (InheritBefore), or not at all. */
static void inherit(rl_arena_t *a, rw_list_t *out, const rw_list_t *base, const rw_list_t *add,
                    int opts, int base_opts)
{
    bool ignore = opts & OPT_IGNORE_INHERIT;
    if ((opts & OPT_INHERIT) || ((base_opts & OPT_INHERIT_DOWN) && !ignore))
        out->rules = rules_cat(a, add, base, &out->nrules);
    else if ((opts & OPT_INHERIT_BEFORE) || ((base_opts & OPT_INHERIT_DOWN_BEFORE) && !ignore))
        out->rules = rules_cat(a, base, add, &out->nrules);
    else
        *out = *add;
    out->cap = out->nrules;         /* appending to a merge copies it */
    out->pending = NULL;
    out->npending = out->pcap = 0;
}

/* A virtual host: its own engine state and options (Apache 2.4 does not
 * inherit them), the main server's rules and maps when it inherits. */
static void *merge_srv(rl_arena_t *a, void *basev, void *addv)
{
    rw_srv_t *base = basev, *add = addv, *m = rl_arena_calloc(a, sizeof(*m));
    m->state = add->state;
    m->options_set = add->options_set;
    m->options = add->options;
    inherit(a, &m->list, &base->list, &add->list, m->options, base->options);
    m->maps = add->maps;
    if ((m->options & (OPT_INHERIT | OPT_INHERIT_BEFORE)) ||
        ((base->options & (OPT_INHERIT_DOWN | OPT_INHERIT_DOWN_BEFORE)) &&
         !(m->options & OPT_IGNORE_INHERIT)))
        m->maps = add->maps ? RL_LIST_CONCAT(a, add->maps, base->maps, rl_rewrite_map_t)
                            : base->maps;
    return m;
}

/* A section without Rewrite* directives leaves the outer configuration
 * as it is (Apache has no config of the module for it). */
static void *merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    rw_dir_t *base = basev, *add = addv;
    if (!add->touched)
        return base;
    if (!base->touched)
        return add;
    rw_dir_t *m = rl_arena_calloc(a, sizeof(*m));
    m->touched = true;
    m->state = add->state != RL_UNSET ? add->state : base->state;
    m->options_set = add->options_set || base->options_set;
    m->options = add->options_set ? add->options : base->options;
    if (m->options & OPT_MERGEBASE) {
        m->base = add->base_set ? add->base : base->base;
        m->base_set = add->base_set || base->base_set;
    } else {
        m->base = add->base;
        m->base_set = add->base_set;
    }
    m->directory = add->directory;
    inherit(a, &m->list, &base->list, &add->list, m->options, base->options);
    return m;
}

/* ---- directives ---- */

static bool in_section(const rl_cmd_parms_t *p)
{
    return p->context == RL_CTX_DIR || p->context == RL_CTX_HTACCESS;
}

/* The per-directory record of the directive, marked as used, with the
 * section's directory (Apache's cmd->path, with a trailing '/'). */
static rw_dir_t *dir_conf(rl_cmd_parms_t *p, void *conf)
{
    rw_dir_t *d = conf;
    d->touched = true;
    if (in_section(p) && d->directory == NULL && p->section) {
        size_t n = strlen(p->section);
        d->directory = n && p->section[n - 1] == '/'
                       ? rl_arena_strdup(p->arena, p->section)
                       : rl_arena_printf(p->arena, "%s/", p->section);
    }
    return d;
}

static rw_srv_t *srv_conf(rl_cmd_parms_t *p)
{
    return rl_cmd_srvconf(p, &rl_rewrite_module);
}

static const char *set_engine(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    rw_dir_t *d = dir_conf(p, conf);
    d->state = rl_parse_flag(argv[0]);
    if (!in_section(p))   /* server: the server's state and its base directory's */
        srv_conf(p)->state = d->state;
    return NULL;
}

static int option_bit(const char *w)
{
    static const struct { const char *name; int bit; } opts[] = {
        { "inherit", OPT_INHERIT }, { "inheritbefore", OPT_INHERIT_BEFORE },
        { "inheritdown", OPT_INHERIT_DOWN }, { "inheritdownbefore", OPT_INHERIT_DOWN_BEFORE },
        { "ignoreinherit", OPT_IGNORE_INHERIT }, { "allownoslash", OPT_NOSLASH },
        { "allowanyuri", OPT_ANYURI }, { "mergebase", OPT_MERGEBASE },
        { "ignorecontextinfo", OPT_IGNORE_CONTEXT_INFO },
        { "legacyprefixdocroot", OPT_LEGACY_PREFIX_DOCROOT },
        { "longurloptimization", OPT_LONGOPT },
    };
    for (size_t i = 0; i < RL_NELEMS(opts); i++)
        if (strcasecmp(w, opts[i].name) == 0)
            return opts[i].bit;
    return strncasecmp(w, "MaxRedirects=", 13) == 0 ? 0 : -1;
}

/* RewriteOptions (one word per call): adds to what the scope set. */
static const char *set_options(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    int bit = option_bit(argv[0]);
    if (bit < 0)
        return rl_arena_printf(p->arena, "RewriteOptions: unknown option '%s'", argv[0]);
    rw_dir_t *d = dir_conf(p, conf);
    d->options |= bit;
    d->options_set = true;
    if (!in_section(p)) {
        rw_srv_t *s = srv_conf(p);
        s->options |= bit;
        s->options_set = true;
    }
    return NULL;
}

static const char *set_base(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    if (!in_section(p))
        return "RewriteBase: only valid in per-directory config files";
    if (argv[0][0] == '\0')
        return "RewriteBase: empty URL not allowed";
    if (argv[0][0] != '/')
        return "RewriteBase: argument is not a valid URL";
    rw_dir_t *d = dir_conf(p, conf);
    d->base = rl_arena_strdup(p->arena, argv[0]);
    d->base_set = true;
    return NULL;
}

static void list_push(rl_arena_t *a, void ***v, unsigned *n, unsigned *cap, void *x)
{
    if (*n == *cap) {
        unsigned ncap = *cap ? *cap * 2 : 4;
        void **nv = rl_arena_alloc(a, sizeof(*nv) * ncap);
        for (unsigned i = 0; i < *n; i++)
            nv[i] = (*v)[i];
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = x;
}

/* The list directives go to: the server's or the section's. */
static rw_list_t *target_list(rl_cmd_parms_t *p, void *conf)
{
    rw_dir_t *d = dir_conf(p, conf);
    return in_section(p) ? &d->list : &srv_conf(p)->list;
}

static const char *add_cond(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc; (void)argv;
    rl_rewrite_cond_t *c;
    const char *err = rl_rewrite_cond_parse(p->arena, p->raw_args, &c);
    if (err)
        return rl_arena_printf(p->arena, "RewriteCond: %s", err);
    rw_list_t *l = target_list(p, conf);
    list_push(p->arena, (void ***)&l->pending, &l->npending, &l->pcap, c);
    return NULL;
}

/* RewriteRule: takes the conditions read since the last rule. */
static const char *add_rule(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc; (void)argv;
    rw_list_t *l = target_list(p, conf);
    rl_rewrite_rule_t *r;
    const char *err = rl_rewrite_rule_parse(p->arena, p->raw_args, l->pending, l->npending, &r);
    if (err)
        return rl_arena_printf(p->arena, "RewriteRule: %s", err);
    l->pending = NULL;
    l->npending = l->pcap = 0;
    list_push(p->arena, (void ***)&l->rules, &l->nrules, &l->cap, r);
    return NULL;
}

static const char *add_map(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc;
    rl_rewrite_map_t *m;
    const char *err = rl_rewrite_map_parse(p->arena, argv[0], argv[1],
                                           RL_CMD_STATE(p)->cf->server_root, &m);
    if (err)
        return rl_arena_printf(p->arena, "RewriteMap: %s", err);
    rw_srv_t *s = srv_conf(p);
    m->next = s->maps;   /* a later definition of the name wins */
    s->maps = m;
    return NULL;
}

/* Does the first component of <path> exist (Apache's prefix_stat)? */
static bool prefix_exists(rl_request_t *r, const char *path)
{
    if (path[0] != '/' || strncmp(path, "/../", 4) == 0 || strcmp(path, "/..") == 0)
        return false;
    size_t n = 1 + strcspn(path + 1, "/");
    struct stat st;
    return stat(rl_arena_strndup(r->arena, path, n), &st) == 0;
}

/* Apache's ap_core_translate for the URL-path <path>: under DocumentRoot,
 * never above it. */
static int core_translate(rl_request_t *r, const char *path)
{
    if (path[0] != '/') {
        rl_req_log(r, RL_LOG_ERR, "core", "AH00126: Invalid URI in request %s", r->the_request);
        return 400;
    }
    const char *f = rl_rewrite_join(r->arena, rl_rewrite_docroot(r), path);
    if (f == NULL) {
        rl_req_log(r, RL_LOG_ERR, "core", "AH00127: Cannot map %s to file", r->the_request);
        return 403;
    }
    r->filename = f;
    r->doc_root = rl_rewrite_docroot(r);
    return RL_OK;
}

/* "/~user/x" -> the user's home + "/x" (Apache's expand_tildepaths). */
static const char *tilde_path(rl_request_t *r, const char *uri)
{
    if (uri[0] != '/' || uri[1] != '~')
        return uri;
    size_t n = strcspn(uri + 2, "/");
    if (n == 0)
        return uri;
    struct passwd *pw = getpwnam(rl_arena_strndup(r->arena, uri + 2, n));
    if (pw == NULL)
        return uri;
    const char *rest = uri + 2 + n;
    if (*rest == '\0')
        return rl_arena_strdup(r->arena, pw->pw_dir);
    size_t hl = strlen(pw->pw_dir);
    if (hl && pw->pw_dir[hl - 1] == '/')
        hl--;
    return rl_arena_printf(r->arena, "%.*s%s", (int)hl, pw->pw_dir, rest);
}

static void apply_forced(rl_request_t *r)
{
    const char *t = rl_hdrs_get(&r->notes, RL_REWRITE_NOTE_TYPE);
    if (t && *t)
        r->content_type = t;
    t = rl_hdrs_get(&r->notes, RL_REWRITE_NOTE_HANDLER);
    if (t && *t)
        r->handler = t;
}

/* ---- hooks ---- */

/* A [P] result: to mod_proxy's FastCGI handler, as ProxyPass would. */
static int proxy_result(rl_request_t *r, bool noescape)
{
    const char *url = r->filename + 6;
    if (!rl_module_active(r->cf, &rl_proxy_module)) {
        rl_req_log(r, RL_LOG_ERR, "rewrite", "AH00669: attempt to make remote request from "
                   "mod_rewrite without proxy enabled: %s", r->filename);
        return 403;
    }
    const char *fn = rl_proxy_fcgi_canon(r->arena, url);
    if (fn == NULL) {
        rl_req_log(r, RL_LOG_ERR, "rewrite", "[P] to %s: relais proxies to FastCGI "
                   "(fcgi://, unix:...|fcgi://) only", url);
        return 500;
    }
    r->filename = fn;
    r->handler = "proxy-server";
    rl_hdrs_set(r->arena, &r->notes, "proxy-url", url);
    if (noescape)
        rl_hdrs_set(r->arena, &r->notes, "proxy-nocanon", "1");
    return RL_OK;
}

/* The answer to a result that is an absolute URL: a redirect (302
 * unless the rule said which 3xx), the URL escaped unless [NE], the query
 * escaped unless [NE] or as it came. */
static int redirect(rl_request_t *r, const rl_rewrite_ctx_t *c, int st, const char *oargs,
                    size_t skip)
{
    const char *url = r->filename;
    if (st != RL_REWRITE_NOESCAPE)
        url = rl_rewrite_escape_absolute(r->arena, url, skip);
    if (r->args) {
        bool keep = st == RL_REWRITE_NOESCAPE || (oargs && strcmp(r->args, oargs) == 0);
        url = rl_arena_printf(r->arena, "%s?%s", url,
                              keep ? r->args : rl_rewrite_escape(r->arena, r->args));
    }
    int n = c->status >= 300 && c->status <= 399 ? c->status : 302;
    rl_req_log(r, RL_LOG_TRACE1, "rewrite", "redirect to %s [REDIRECT/%d]", url, n);
    return rl_req_redirect(r, n, url);
}

/* A rewritten query with a control character or a space, which would
 * reach the handler raw (Apache answers 403: AH10410, AH10411). */
static bool bad_args(rl_request_t *r, int st, size_t skip, const char *ah)
{
    if (r->args == NULL || (skip && st != RL_REWRITE_NOESCAPE))
        return false;   /* the redirect escapes it */
    for (const unsigned char *s = (const unsigned char *)r->args; *s; s++) {
        if (*s <= 0x20 || *s == 0x7f) {
            rl_req_log(r, RL_LOG_DEBUG, "rewrite", "%s: Rewritten query string contains "
                       "control characters or spaces", ah);
            return true;
        }
    }
    return false;
}

/* SCRIPT_URL and SCRIPT_URI, set whenever the server's engine is on: the
 * URI of the request the client made. Already set: the request runs again
 * for an index file (Apache's sub-request takes the main request's). */
static void script_url(rl_request_t *r)
{
    const char *v = rl_hdrs_get(&r->env, "SCRIPT_URL");
    if (v == NULL)
        v = rl_hdrs_get(&r->env, "REDIRECT_SCRIPT_URL");
    if (v == NULL)
        v = r->uri;
    rl_hdrs_set(r->arena, &r->env, "SCRIPT_URL", v);
    rl_hdrs_set(r->arena, &r->env, "SCRIPT_URI", rl_req_self_url(r, v));
}

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* A server-level result that is a URL-path or a file: a file when its
 * first component exists, else mapped under DocumentRoot. Also mapped:
 * a result reduced from our own URL, and one that an expansion starts
 * and that leaves the document root (CVE-2024-38475) unless the rule
 * says [UnsafePrefixStat]. */
static int local_result(rl_request_t *r, const rw_srv_t *conf, const rl_rewrite_ctx_t *c)
{
    r->filename = tilde_path(r, r->filename);
    if (r->filename[0] != '/')
        return 400;
    bool reduced = c->reduced && !(conf->options & OPT_LEGACY_PREFIX_DOCROOT);
    bool unsafe = c->unsafe_prefix && !under(r->filename, rl_rewrite_docroot(r));
    if (!prefix_exists(r, r->filename) || reduced || unsafe)
        return core_translate(r, r->filename);
    /* Apache's walk checks the canonical path: relais' takes the name */
    const char *f = rl_rewrite_join(r->arena, "/", r->filename);
    if (f == NULL)
        return 403;
    r->filename = f;
    rl_req_log(r, RL_LOG_TRACE1, "rewrite", "go-ahead with %s [OK]", r->filename);
    return RL_OK;
}

/* Rules of the server or virtual host (Apache's hook_uri2file). */
static int translate(rl_request_t *r)
{
    rw_srv_t *conf = RL_SRV_CONF(r->server, rl_rewrite_module);
    rw_dir_t *d = RL_DIR_CONF(r->dir, rl_rewrite_module);
    if (conf == NULL || d == NULL || conf->state != 1 || rl_rewrite_ended(r))
        return RL_DECLINED;
    if (!(d->options & OPT_ANYURI) && (r->asterisk || r->uri == NULL || r->uri[0] != '/'))
        return RL_DECLINED;
    const char *oargs = r->args, *ofilename = r->filename;
    script_url(r);
    if (r->filename == NULL)
        r->filename = r->uri;
    rl_rewrite_ctx_t c = { .r = r, .maps = conf->maps };
    int st = rl_rewrite_apply(&c, conf->list.rules, conf->list.nrules);
    if (st == 0) {
        r->filename = ofilename;
        return RL_DECLINED;
    }
    size_t skip = rl_rewrite_absolute(r->filename, NULL);
    if (bad_args(r, st, skip, "AH10410"))
        return 403;
    if (st == RL_REWRITE_STATUS)
        return c.status;
    if (strncmp(r->filename, "proxy:", 6) == 0)
        return proxy_result(r, st == RL_REWRITE_NOESCAPE);
    if (skip > 0)
        return redirect(r, &c, st, oargs, skip);
    if (strncmp(r->filename, "passthrough:", 12) == 0) {
        r->uri = r->filename + 12;   /* for Alias, ProxyPass and the rest */
        r->filename = ofilename;
        return RL_DECLINED;
    }
    return local_result(r, conf, &c);
}

/* Apache's directory walk stops at the first component of the path that
 * does not exist: r->filename ends there, the rest is PATH_INFO. relais'
 * walk keeps the whole name; the per-directory rules see Apache's split. */
static void apache_split(rl_request_t *r)
{
    if (r->finfo_ok || r->path_info || r->filename == NULL || r->filename[0] != '/')
        return;
    struct stat st;
    for (const char *s = strchr(r->filename + 1, '/'); s; s = strchr(s + 1, '/')) {
        const char *prefix = rl_arena_strndup(r->arena, r->filename, (size_t)(s - r->filename));
        if (stat(prefix, &st) != 0) {
            r->path_info = rl_arena_strdup(r->arena, s);
            r->filename = prefix;
            return;
        }
    }
}

/* May the section's rules run for <r>? 0, or the status to answer. */
static int dir_allowed(rl_request_t *r, const rw_dir_t *d, bool proxyreq)
{
    if (!proxyreq && !(d->options & OPT_NOSLASH) && r->filename) {
        /* "/dir" for the .htaccess in dir: mod_dir adds the slash first */
        size_t l = strlen(d->directory) - 1;
        if (strlen(r->filename) == l && d->directory[l] == '/' &&
            strncmp(r->filename, d->directory, l) == 0)
            return RL_DECLINED;
    }
    if (rl_rewrite_ended(r))
        return RL_DECLINED;
    if (!(rl_core_options(r->dir) & (RL_OPT_SYM_LINKS | RL_OPT_SYM_OWNER))) {
        rl_req_log(r, RL_LOG_ERR, "rewrite", "AH00670: Options FollowSymLinks and "
                   "SymLinksIfOwnerMatch are both off, so the RewriteRule directive is also "
                   "forbidden due to its similar ability to circumvent directory restrictions "
                   ": %s", r->filename);
        return 403;
    }
    return 0;
}

/* A section's result that is another server's URL: RewriteBase replaces
 * the directory if the path still starts with it (without its leading
 * '/'), then the redirect. */
static int dir_redirect(rl_request_t *r, const rw_dir_t *d, const rl_rewrite_ctx_t *c, int st,
                        const char *oargs, size_t skip)
{
    const char *cp = strchr(r->filename + skip, '/');
    if (d->base && cp && cp[1]) {
        cp++;
        const char *dir = d->directory[0] == '/' ? d->directory + 1 : d->directory;
        const char *cp2 = rl_rewrite_subst_prefix(r->arena, cp, dir, d->base + 1);
        if (cp2 != cp)
            r->filename = rl_arena_printf(r->arena, "%.*s%s", (int)(cp - r->filename),
                                          r->filename, cp2);
    }
    return redirect(r, c, st, oargs, skip);
}

/* A section's result that is a local path: the URL to redirect to, from
 * RewriteBase or by taking the document root (or the Alias target) off. */
static const char *dir_url(rl_request_t *r, const rw_dir_t *d)
{
    const char *f = r->filename, *tmp = f;
    if (d->base) {
        f = rl_rewrite_subst_prefix(r->arena, f, d->directory, d->base);
    } else {
        const char *root = rl_rewrite_docroot(r);
        size_t l = strlen(root);
        if (l && root[l - 1] == '/')
            l--;
        if (strncmp(f, root, l) == 0 && f[l] == '/')
            f += l;
    }
    if (f == tmp && !(d->options & OPT_IGNORE_CONTEXT_INFO))
        f = rl_rewrite_subst_prefix(r->arena, f,
                                    r->context_root ? r->context_root : rl_rewrite_docroot(r),
                                    r->context_prefix ? r->context_prefix : "");
    return f;
}

/* Runs the section's rules (Apache's hook_fixup). RL_DECLINED when they
 * changed nothing (the request as it was), RL_OK when it goes on
 * elsewhere (internal redirect, proxy), else a status or RL_DONE. */
static int dir_rules(rl_request_t *r, const rw_dir_t *d)
{
    bool proxyreq = r->filename && strncmp(r->filename, "proxy:", 6) == 0;
    int rc = dir_allowed(r, d, proxyreq);
    if (rc)
        return rc;
    const char *ofilename = r->filename, *opath = r->path_info, *oargs = r->args;
    apache_split(r);
    const char *split = r->filename, *spi = r->path_info;
    if (r->filename == NULL)
        r->filename = r->uri;
    const rw_srv_t *conf = RL_SRV_CONF(r->server, rl_rewrite_module);
    rl_rewrite_ctx_t c = { .r = r, .perdir = d->directory, .maps = conf->maps };
    int st = rl_rewrite_apply(&c, d->list.rules, d->list.nrules);
    if (st == 0 || st == RL_REWRITE_STATUS) {
        r->filename = ofilename;
        r->path_info = opath;
        return st ? c.status : RL_DECLINED;
    }
    size_t skip = rl_rewrite_absolute(r->filename, NULL);
    if (bad_args(r, st, skip, "AH10411"))
        return 403;
    if (strncmp(r->filename, "proxy:", 6) == 0)
        return proxy_result(r, st == RL_REWRITE_NOESCAPE);
    if (skip > 0)
        return dir_redirect(r, d, &c, st, oargs, skip);
    if (strncmp(r->filename, "passthrough:", 12) == 0)
        r->filename += 12;   /* [PT] means nothing in a section */
    if (r->filename[0] != '/')
        return 400;
    if (split && strcmp(r->filename, split) == 0) {
        rl_req_log(r, RL_LOG_TRACE1, "rewrite", "[perdir %s] initial URL equal rewritten URL: "
                   "%s [IGNORING REWRITE]", d->directory, r->filename);
        r->filename = ofilename;
        if (r->path_info == spi)   /* else [DPI] dropped it */
            r->path_info = opath;
        return RL_DECLINED;
    }
    const char *url = dir_url(r, d);
    rl_req_log(r, RL_LOG_TRACE1, "rewrite", "[perdir %s] internal redirect with %s "
               "[INTERNAL REDIRECT]", d->directory, url);
    r->filename = rl_arena_printf(r->arena, "redirect:%s", url);
    r->handler = REDIRECT_HANDLER;
    return RL_OK;
}

static int fixups(rl_request_t *r)
{
    rw_dir_t *d = RL_DIR_CONF(r->dir, rl_rewrite_module);
    int rc = RL_DECLINED;
    if (d && d->touched && d->state == 1 && d->directory)
        rc = dir_rules(r, d);
    if (rc == RL_OK || rc == RL_DECLINED)
        apply_forced(r);
    return rc;
}

/* The internal redirect a section's rules asked for, once the other
 * fixups have run (Apache's handler_redirect). */
static int handler(rl_request_t *r)
{
    if (r->handler == NULL || strcmp(r->handler, REDIRECT_HANDLER) != 0 ||
        r->filename == NULL || strncmp(r->filename, "redirect:", 9) != 0)
        return RL_DECLINED;
    const char *url = r->filename + 9;
    if (r->args)
        url = rl_arena_printf(r->arena, "%s?%s", url, r->args);
    /* the Vary of the rules goes with the redirect (redirect-keeps-vary) */
    const char *vary = rl_hdrs_get(&r->out, "Vary");
    int rc = rl_req_internal_redirect(r, url, false);
    if (vary) {
        const char *now = rl_hdrs_get(&r->out, "Vary");
        rl_hdrs_unset(&r->out, "Vary");
        rl_rewrite_add_vary(r, vary);
        if (now)
            rl_rewrite_add_vary(r, now);
    }
    return rc;
}

#define SECTIONS (RL_CTX_ANY | RL_CTX_HTACCESS)

static const rl_cmd_t rewrite_cmds[] = {
    { "RewriteEngine", set_engine, 0, SECTIONS, RL_OVR_FILEINFO, RL_ARGS_FLAG,
      "On or Off to enable or disable (default) the whole rewriting engine" },
    { "RewriteOptions", set_options, 0, SECTIONS, RL_OVR_FILEINFO, RL_ARGS_ITERATE,
      "List of option strings to set" },
    { "RewriteBase", set_base, 0, SECTIONS, RL_OVR_FILEINFO, RL_ARGS_TAKE1,
      "the base URL of the per-directory context" },
    { "RewriteCond", add_cond, 0, SECTIONS, RL_OVR_FILEINFO, RL_ARGS_RAW,
      "an input string and a to be applied regexp-pattern" },
    { "RewriteRule", add_rule, 0, SECTIONS, RL_OVR_FILEINFO, RL_ARGS_RAW,
      "an URL-applied regexp-pattern and a substitution URL" },
    { "RewriteMap", add_map, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE23,
      "a mapname and a filename and options" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_rewrite_module = {
    .name = "rewrite",
    .cmds = rewrite_cmds,
    .create_server = create_srv,
    .merge_server = merge_srv,
    .create_dir = create_dir,
    .merge_dir = merge_dir,
    .translate = translate,
    .fixups = fixups,
    .handler = handler,
};
