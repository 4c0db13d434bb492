/* Reading an Apache configuration: the tree from conf/tree.c is walked once,
 * directives are dispatched to the modules' tables, sections become
 * rl_section_t records, and virtual hosts inherit from the main server. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <netinet/in.h>
#include "httpd/config.h"
#include "httpd/dircache.h"
#include "http/expr.h"

/* ---- modules -------------------------------------------------------- */

rl_module_t *rl_module_find(const char *name)
{
    char base[64];
    size_t n = strlen(name);
    if (n > 6 && strncmp(name, "mod_", 4) == 0 && strcmp(name + n - 2, ".c") == 0) {
        n -= 6;
        name += 4;
    } else if (n > 7 && strcmp(name + n - 7, "_module") == 0) {
        n -= 7;
    }
    if (n >= sizeof(base))
        return NULL;
    memcpy(base, name, n);
    base[n] = '\0';
    for (unsigned i = 0; i < rl_nmodules; i++)
        if (strcmp(rl_modules[i]->name, base) == 0)
            return rl_modules[i];
    return NULL;
}

static const rl_cmd_t *find_cmd(const char *name, rl_module_t **mod)
{
    for (unsigned i = 0; i < rl_nmodules; i++) {
        const rl_cmd_t *c = rl_modules[i]->cmds;
        for (; c && c->name; c++) {
            if (strcasecmp(c->name, name) == 0) {
                *mod = rl_modules[i];
                return c;
            }
        }
    }
    return NULL;
}

/* A configuration without any LoadModule line gets every module relais has,
 * like a statically built Apache; once one LoadModule is seen, modules count
 * only when loaded, as in Debian's trees (a2enmod/a2dismod keep meaning). */
bool rl_module_active(const rl_config_t *cf, const rl_module_t *m)
{
    return m->always || cf->loaded[m->index] || (!cf->any_loadmodule && !m->explicit_only);
}

static bool hook_module_loaded(void *ctx, const char *name)
{
    rl_config_t *cf = ctx;
    rl_module_t *m = rl_module_find(name);
    return m && rl_module_active(cf, m);
}

static const char *hook_load_module(void *ctx, const char *name, const char *path)
{
    rl_config_t *cf = ctx;
    (void)path;
    rl_module_t *m = rl_module_find(name);
    if (m == NULL)
        return rl_arena_printf(cf->arena,
            "Can't load module %s: relais has no such built-in module "
            "(relaisd -M lists the modules it has)", name);
    cf->loaded[m->index] = true;
    cf->any_loadmodule = true;
    return NULL;
}

/* ---- per-directory configurations -------------------------------------- */

rl_dirconf_t *rl_dirconf_create(rl_arena_t *a)
{
    rl_dirconf_t *d = rl_arena_calloc(a, sizeof(*d));
    for (unsigned i = 0; i < rl_nmodules; i++)
        if (rl_modules[i]->create_dir)
            d->m[i] = rl_modules[i]->create_dir(a);
    return d;
}

rl_dirconf_t *rl_dirconf_merge(rl_arena_t *a, const rl_dirconf_t *base, const rl_dirconf_t *add)
{
    rl_dirconf_t *d = rl_arena_calloc(a, sizeof(*d));
    for (unsigned i = 0; i < rl_nmodules; i++) {
        rl_module_t *m = rl_modules[i];
        if (m->merge_dir && base->m[i] && add->m[i])
            d->m[i] = m->merge_dir(a, base->m[i], add->m[i]);
        else
            d->m[i] = add->m[i] ? add->m[i] : base->m[i];
    }
    return d;
}

const char *rl_cmd_ignored_listed(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc; (void)argv;
    rl_config_t *cf = RL_CMD_STATE(p)->cf;
    const char *name = p->cmd->name;
    size_t n = strlen(name);
    for (const char *x = cf->ignored; x && (x = strstr(x, name)); x += n)
        if ((x == cf->ignored || x[-1] == ' ') && (x[n] == ' ' || x[n] == '\0'))
            return NULL;
    cf->ignored = cf->ignored ? rl_arena_printf(p->arena, "%s %s", cf->ignored, name) : name;
    return NULL;
}

const char *rl_config_path(rl_config_t *cf, const char *path)
{
    if (path[0] == '/' || cf->server_root == NULL)
        return rl_arena_strdup(cf->arena, path);
    return rl_arena_printf(cf->arena, "%s/%s", cf->server_root, path);
}

/* ---- servers ------------------------------------------------------------ */

static rl_server_t *server_create(rl_config_t *cf)
{
    rl_server_t *s = rl_arena_calloc(cf->arena, sizeof(*s));
    s->timeout_ms = RL_UNSET;
    s->keepalive = RL_UNSET;
    s->keepalive_timeout_ms = RL_UNSET;
    s->max_keepalive_requests = RL_UNSET;
    s->limit_req_line = RL_UNSET;
    s->limit_req_fieldsize = RL_UNSET;
    s->limit_req_fields = RL_UNSET;
    s->trace_enable = RL_UNSET;
    s->rt_header = s->rt_body = RL_UNSET;
    for (unsigned i = 0; i < rl_nmodules; i++)
        if (rl_modules[i]->create_server)
            s->m[i] = rl_modules[i]->create_server(cf->arena);
    s->m[0] = s;   /* the core module's per-server slot is the server itself */
    s->lookup_defaults = rl_dirconf_create(cf->arena);
    return s;
}

#define INHERIT(f) do { if (v->f == RL_UNSET) v->f = main->f; } while (0)

/* A virtual host takes what it did not set from the main server. */
static void server_inherit(rl_config_t *cf, rl_server_t *main, rl_server_t *v)
{
    INHERIT(timeout_ms);
    INHERIT(keepalive);
    INHERIT(keepalive_timeout_ms);
    INHERIT(max_keepalive_requests);
    INHERIT(limit_req_line);
    INHERIT(limit_req_fieldsize);
    INHERIT(limit_req_fields);
    INHERIT(trace_enable);
    if (v->admin == NULL)
        v->admin = main->admin;
    /* Apache: a vhost without ServerName answers to the main server's name
     * (ap_fini_vhost_config), and without DocumentRoot uses the main one */
    if (v->hostname == NULL) {
        v->hostname = main->hostname;
        v->port = main->port;
    }
    if (v->document_root == NULL)
        v->document_root = main->document_root;
    if (v->access_file_name == NULL)
        v->access_file_name = main->access_file_name;
    if (v->error_log_path == NULL) {
        v->error_log = main->error_log;
        v->error_log_path = main->error_log_path;
    }
    if (v->loglevel_argc == 0) {
        v->loglevel_argc = main->loglevel_argc;
        v->loglevel_argv = main->loglevel_argv;
    }
    for (unsigned i = 0; i < rl_nmodules; i++) {
        rl_module_t *m = rl_modules[i];
        if (m->merge_server && main->m[i] && v->m[i])
            v->m[i] = m->merge_server(cf->arena, main->m[i], v->m[i]);
        else if (v->m[i] == NULL)
            v->m[i] = main->m[i];
    }
    v->lookup_defaults = rl_dirconf_merge(cf->arena, main->lookup_defaults, v->lookup_defaults);
}

static void server_defaults(rl_server_t *s)
{
    if (s->timeout_ms == RL_UNSET) s->timeout_ms = 60000;
    if (s->keepalive == RL_UNSET) s->keepalive = 1;
    if (s->keepalive_timeout_ms == RL_UNSET) s->keepalive_timeout_ms = 5000;
    if (s->max_keepalive_requests == RL_UNSET) s->max_keepalive_requests = 100;
    if (s->limit_req_line == RL_UNSET) s->limit_req_line = 8190;
    if (s->limit_req_fieldsize == RL_UNSET) s->limit_req_fieldsize = 8190;
    if (s->limit_req_fields == RL_UNSET) s->limit_req_fields = 100;
    if (s->trace_enable == RL_UNSET) s->trace_enable = 1;
}

/* ---- sections ------------------------------------------------------------ */

static bool has_wildcard(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static unsigned path_depth(const char *p)
{
    unsigned n = 0;
    for (; *p; p++)
        if (*p == '/')
            n++;
    return n;
}

static const char *compile_re(rl_conf_state_t *st, const char *pattern, pcre2_code **out)
{
    int ec;
    PCRE2_SIZE off;
    *out = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL);
    if (*out == NULL) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        return rl_arena_printf(st->cf->arena, "Regular expression could not be compiled: "
                               "%s at offset %zu", (char *)msg, (size_t)off);
    }
    rl_arena_on_cleanup(st->cf->arena, (rl_cleanup_cb)pcre2_code_free, *out);
    return NULL;
}

static void section_append(rl_section_t **list, rl_section_t *sec)
{
    while (*list)
        list = &(*list)->next;
    *list = sec;
}

/* "<Directory ~ re>", "<DirectoryMatch re>", "<Files name>" ... */
static const char *section_open(rl_conf_state_t *st, const rl_conf_node_t *n,
                                rl_section_kind_t kind, bool match)
{
    const char *name = n->name;
    if (n->argc < 1)
        return rl_arena_printf(st->cf->arena, "<%s> directive requires additional arguments",
                               name);
    if (n->argc > 2 || (n->argc == 2 && strcmp(n->argv[0], "~") != 0))
        return rl_arena_printf(st->cf->arena, "<%s> directive requires one argument "
                               "(or \"~ regex\")", name);
    if (n->argc == 2)
        match = true;
    const char *path = n->argv[n->argc - 1];
    rl_section_t *sec = rl_arena_calloc(st->cf->arena, sizeof(*sec));
    sec->kind = kind;
    sec->file = n->file;
    sec->line = n->line;
    sec->id = st->cf->nsections++;
    if (match) {
        const char *err = compile_re(st, path, &sec->re);
        if (err)
            return err;
    } else if (kind == RL_SEC_DIRECTORY) {
        if (path[0] != '/' && strcmp(path, "/") != 0)
            path = rl_config_path(st->cf, path);
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/')
            len--;
        path = rl_arena_strndup(st->cf->arena, path, len);
        sec->wildcard = has_wildcard(path);
    } else {
        sec->wildcard = has_wildcard(path);
    }
    sec->path = rl_arena_strdup(st->cf->arena, path);
    sec->path_len = strlen(sec->path);
    sec->depth = match ? UINT32_MAX : path_depth(sec->path);
    sec->conf = rl_dirconf_create(st->cf->arena);
    if (kind == RL_SEC_FILES && st->section && st->section->kind == RL_SEC_DIRECTORY)
        sec->within = st->section;

    rl_conf_state_t sub = *st;
    sub.context = st->context == RL_CTX_HTACCESS ? RL_CTX_HTACCESS : RL_CTX_DIR;
    sub.dir = sec->conf;
    sub.section = sec;
    sub.last_if = NULL;
    const char *err = rl_config_walk(&sub, n);
    if (err)
        return err;
    rl_section_t **list = kind == RL_SEC_DIRECTORY ? &st->server->dirs
                        : kind == RL_SEC_FILES ? &st->server->files
                        : &st->server->locations;
    section_append(list, sec);
    return NULL;
}

static const char *vhost_open(rl_conf_state_t *st, const rl_conf_node_t *n)
{
    rl_config_t *cf = st->cf;
    if (st->context != RL_CTX_SERVER)
        return "<VirtualHost> cannot occur within <VirtualHost> section";
    if (n->argc < 1)
        return "<VirtualHost> directive requires at least one address";
    rl_server_t *s = server_create(cf);
    s->is_virtual = true;
    s->defn_file = n->file;
    s->defn_line = n->line;
    s->naddrs = (unsigned)n->argc;
    s->addrs = rl_arena_calloc(cf->arena, sizeof(*s->addrs) * s->naddrs);
    s->addr_any = rl_arena_calloc(cf->arena, sizeof(bool) * s->naddrs);
    for (int i = 0; i < n->argc; i++) {
        char e[256], spec[64];
        const char *a = n->argv[i];
        if (strncmp(a, "_default_", 9) == 0 || a[0] == '*') {
            const char *colon = strrchr(a, ':');
            snprintf(spec, sizeof(spec), "0.0.0.0:%s", colon ? colon + 1 : "0");
            if (colon && strcmp(colon + 1, "*") == 0)
                snprintf(spec, sizeof(spec), "0.0.0.0:0");
            s->addr_any[i] = true;
            a = spec;
            if (strcmp(a, "0.0.0.0:0") == 0) {
                memset(&s->addrs[i], 0, sizeof(s->addrs[i]));
                continue;
            }
        }
        if (!strchr(a, ':') || (a[0] == '[' && !strstr(a, "]:"))) {
            /* an address without a port matches every port (Apache: "*") */
            const char *spec = rl_arena_printf(cf->arena, "%s:1", a);
            if (rl_sock_parse_listen(spec, &s->addrs[i], e, sizeof(e)) != RL_OK)
                return rl_arena_printf(cf->arena, "Could not resolve host name %s -- ignoring!", a);
            struct sockaddr_in *sin = (struct sockaddr_in *)&s->addrs[i].ss;
            sin->sin_port = 0;
            continue;
        }
        if (rl_sock_parse_listen(a, &s->addrs[i], e, sizeof(e)) != RL_OK)
            return rl_arena_printf(cf->arena, "<VirtualHost %s>: %s", n->argv[i], e);
    }
    rl_conf_state_t sub = *st;
    sub.server = s;
    sub.dir = s->lookup_defaults;
    sub.context = RL_CTX_VHOST;
    sub.last_if = NULL;
    const char *err = rl_config_walk(&sub, n);
    if (err)
        return err;
    rl_server_t **p = &cf->main->next;
    while (*p)
        p = &(*p)->next;
    *p = s;
    return NULL;
}

/* The expression of <If "..."> / <ElseIf ...>: the text as written, without
 * the quotes around it. */
static const char *if_source(rl_conf_state_t *st, const rl_conf_node_t *n)
{
    if (n->argc == 1)
        return n->argv[0];
    const char *raw = n->args_raw ? n->args_raw : "";
    size_t len = strlen(raw);
    if (len >= 2 && raw[0] == '"' && raw[len - 1] == '"')
        return rl_arena_strndup(st->cf->arena, raw + 1, len - 2);
    return raw;
}

/* <If>, <ElseIf> (which 1) and <Else> (which 2): per-directory settings
 * applied when the expression holds, merged after <Location>. */
static const char *if_open(rl_conf_state_t *st, const rl_conf_node_t *n, int which)
{
    rl_arena_t *a = st->cf->arena;
    if (st->section && st->section->kind == RL_SEC_IF)
        return rl_arena_printf(a, "<%s> inside <If> is not supported by relais yet", n->name);
    if (which && st->last_if == NULL)
        return "<Else> or <ElseIf> section without previous <If> or <ElseIf> section in same scope";
    if (which == 2 && n->argc)
        return "<Else> does not take an argument";
    rl_section_t *sec = rl_arena_calloc(a, sizeof(*sec));
    sec->kind = RL_SEC_IF;
    sec->file = n->file;
    sec->line = n->line;
    sec->id = st->cf->nsections++;
    sec->path = n->name;
    sec->within = st->section;
    if (which < 2) {
        char err[512];
        const char *src = if_source(st, n);
        if (*src == '\0')
            return rl_arena_printf(a, "<%s> requires an expression", n->name);
        sec->expr = rl_expr_compile(a, src, err, sizeof(err));
        if (sec->expr == NULL)
            return rl_arena_printf(a, "Cannot parse condition clause: %s", err);
    }
    sec->conf = rl_dirconf_create(a);
    rl_conf_state_t sub = *st;
    sub.context = st->context == RL_CTX_HTACCESS ? RL_CTX_HTACCESS : RL_CTX_DIR;
    sub.dir = sec->conf;
    sub.section = sec;
    sub.last_if = NULL;
    const char *err = rl_config_walk(&sub, n);
    if (err)
        return err;
    if (which)
        st->last_if->els = sec;
    else
        section_append(&st->server->ifs, sec);
    st->last_if = which == 2 ? NULL : sec;
    return NULL;
}

static const char *core_section(rl_conf_state_t *st, const rl_conf_node_t *n, bool *handled)
{
    static const struct { const char *name; rl_section_kind_t kind; bool match; } secs[] = {
        { "Directory", RL_SEC_DIRECTORY, false }, { "DirectoryMatch", RL_SEC_DIRECTORY, true },
        { "Files", RL_SEC_FILES, false },         { "FilesMatch", RL_SEC_FILES, true },
        { "Location", RL_SEC_LOCATION, false },   { "LocationMatch", RL_SEC_LOCATION, true },
    };
    *handled = true;
    if (strcasecmp(n->name, "VirtualHost") == 0)
        return vhost_open(st, n);
    if (strcasecmp(n->name, "If") == 0)
        return if_open(st, n, 0);
    if (strcasecmp(n->name, "ElseIf") == 0)
        return if_open(st, n, 1);
    if (strcasecmp(n->name, "Else") == 0)
        return if_open(st, n, 2);
    for (size_t i = 0; i < RL_NELEMS(secs); i++) {
        if (strcasecmp(n->name, secs[i].name) != 0)
            continue;
        if (st->context == RL_CTX_HTACCESS && secs[i].kind != RL_SEC_FILES)
            return rl_arena_printf(st->cf->arena, "<%s not allowed here", n->name);
        if (secs[i].kind == RL_SEC_FILES) {
            if (st->context == RL_CTX_DIR && st->section && st->section->kind != RL_SEC_DIRECTORY)
                return rl_arena_printf(st->cf->arena, "<%s> not allowed here", n->name);
        } else if (st->context == RL_CTX_DIR) {
            return rl_arena_printf(st->cf->arena, "<%s> cannot occur within <%s> section",
                                   n->name, st->section ? "Directory" : "this");
        }
        return section_open(st, n, secs[i].kind, secs[i].match);
    }
    *handled = false;
    return NULL;
}

/* ---- the walk ------------------------------------------------------------- */

static const char *invalid_command(rl_conf_state_t *st, const char *name, rl_module_t *mod)
{
    if (mod)
        return rl_arena_printf(st->cf->arena,
            "Invalid command '%s', perhaps misspelled or defined by a module not included "
            "in the server configuration (relais has it in mod_%s: add "
            "\"LoadModule %s_module modules/mod_%s.so\")", name, mod->name, mod->name, mod->name);
    return rl_arena_printf(st->cf->arena,
        "Invalid command '%s', perhaps misspelled or defined by a module not included "
        "in the server configuration", name);
}

/* AllowOverrideList: directives allowed in .htaccess whatever AllowOverride says. */
static bool override_listed(const rl_conf_state_t *st, const char *name)
{
    for (const char *const *l = st->override_list; l && *l; l++)
        if (strcasecmp(*l, name) == 0)
            return true;
    return false;
}

static const char *run_directive(rl_conf_state_t *st, const rl_conf_node_t *n)
{
    rl_module_t *mod = NULL;
    char name[128];
    snprintf(name, sizeof(name), "%s%s", n->section ? "<" : "", n->name);
    const rl_cmd_t *cmd = find_cmd(name, &mod);
    if (cmd == NULL || !rl_module_active(st->cf, mod))
        return invalid_command(st, name, cmd ? mod : NULL);
    if (st->context == RL_CTX_HTACCESS && (cmd->where & RL_CTX_HTACCESS) &&
        !(cmd->override & st->allow_override) && !override_listed(st, cmd->name))
        return rl_arena_printf(st->cf->arena, "%s not allowed here", name);
    rl_cmd_parms_t p = {
        .cmd = cmd, .arena = st->cf->arena, .file = n->file, .line = n->line,
        .raw_args = n->args_raw ? n->args_raw : "", .context = st->context,
        .section = st->section ? st->section->path : NULL, .ctx = st, .node = n,
    };
    void *conf;
    if (cmd->where & (RL_CTX_DIR | RL_CTX_HTACCESS))
        conf = st->dir->m[mod->index];
    else
        conf = st->server->m[mod->index];
    return rl_cmd_invoke(&p, conf, n->argc, n->argv);
}

static const char *node_error(rl_conf_state_t *st, const rl_conf_node_t *n, const char *msg)
{
    /* an error already placed (from a nested walk) keeps its own position */
    if (strncmp(msg, "AH00526: ", 9) == 0)
        return msg;
    return rl_arena_printf(st->cf->arena, "AH00526: Syntax error on line %d of %s:\n%s",
                           n->line, n->file, msg);
}

const char *rl_config_walk(rl_conf_state_t *st, const rl_conf_node_t *node)
{
    for (const rl_conf_node_t *n = node->first_child; n; n = n->next) {
        const char *err = NULL;
        bool handled = false;
        rl_section_t *prev_if = st->last_if;
        if (n->section)
            err = core_section(st, n, &handled);
        if (!handled)
            err = run_directive(st, n);
        /* <ElseIf>/<Else> must follow their <If> directly */
        if (st->last_if == prev_if)
            st->last_if = NULL;
        if (err)
            return node_error(st, n, err);
    }
    return NULL;
}

/* ---- .htaccess ----------------------------------------------------------------- */

const char *rl_config_read_htaccess(rl_config_t *cf, rl_server_t *s, rl_arena_t *a,
                                    const char *path, const char *dir, unsigned ovr,
                                    const char *const *list, int opts, unsigned *next_id,
                                    rl_htaccess_t *out)
{
    /* setters allocate from the configuration's arena and number sections
     * from it: a copy points them at this file's arena and ids */
    rl_config_t shadow = *cf;
    shadow.arena = a;
    shadow.nsections = *next_id;
    rl_server_t srv = *s;
    srv.dirs = srv.files = srv.locations = srv.ifs = NULL;
    rl_conf_reader_t rd;
    rl_conf_reader_init(&rd, a, cf->server_root);
    rd.module_loaded = hook_module_loaded;
    rd.ctx = &shadow;
    rd.htaccess = true;
    rl_conf_node_t *tree = rl_conf_read_file(&rd, path);
    if (tree == NULL)
        return rd.err_line ? rl_arena_printf(a, "%s:%d: %s", rd.err_file, rd.err_line, rd.errbuf)
                           : rl_arena_printf(a, "%s: %s", path, rd.errbuf);
    rl_section_t *sec = rl_arena_calloc(a, sizeof(*sec));
    sec->kind = RL_SEC_DIRECTORY;
    sec->path = rl_arena_strdup(a, dir);
    sec->path_len = strlen(dir);
    sec->depth = path_depth(dir);
    sec->file = path;
    sec->id = shadow.nsections++;
    sec->conf = rl_dirconf_create(a);
    rl_conf_state_t st = { .cf = &shadow, .server = &srv, .dir = sec->conf,
                           .context = RL_CTX_HTACCESS, .section = sec,
                           .allow_override = ovr, .override_list = list,
                           .override_opts = opts };
    const char *err = NULL;
    for (const rl_conf_node_t *n = tree->first_child; n && !err; n = n->next) {
        /* one node at a time, to name the line of an error */
        rl_conf_node_t one = *n;
        one.next = NULL;
        rl_conf_node_t parent = { .first_child = &one };
        err = rl_config_walk(&st, &parent);
        if (err) {
            const char *msg = strchr(err, '\n');
            err = rl_arena_printf(a, "%s:%d: %s", n->file, n->line, msg ? msg + 1 : err);
        }
    }
    *next_id = shadow.nsections;
    out->dir = sec;
    out->files = srv.files;
    out->ifs = srv.ifs;
    return err;
}

/* ---- after the read ---------------------------------------------------------- */

static int section_cmp(const void *a, const void *b)
{
    const rl_section_t *x = *(rl_section_t *const *)a, *y = *(rl_section_t *const *)b;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Apache's order for the directory walk: plain sections by depth (fewest
 * components first, then in order of appearance), then regex sections in
 * order of appearance (their depth is UINT32_MAX). */
static rl_section_t *sections_sorted(rl_arena_t *a, rl_section_t *main, rl_section_t *own)
{
    size_t n = 0;
    for (rl_section_t *s = main; s; s = s->next) n++;
    for (rl_section_t *s = own; s; s = s->next) n++;
    if (n == 0)
        return NULL;
    rl_section_t **v = rl_arena_alloc(a, n * sizeof(*v));
    size_t i = 0;
    for (rl_section_t *s = main; s; s = s->next) v[i++] = s;
    for (rl_section_t *s = own; s; s = s->next) v[i++] = s;
    qsort(v, n, sizeof(*v), section_cmp);
    /* copy the records: a section may sit in several servers' lists */
    rl_section_t *head = NULL, **tail = &head;
    for (i = 0; i < n; i++) {
        rl_section_t *c = rl_arena_alloc(a, sizeof(*c));
        *c = *v[i];
        c->next = NULL;
        *tail = c;
        tail = &c->next;
    }
    return head;
}

static const char *banner(rl_config_t *cf)
{
    switch (cf->server_tokens) {
    case RL_TOKENS_PROD: return RL_SERVER_BANNER_PRODUCT;
    case RL_TOKENS_MAJOR: return RL_SERVER_BANNER_PRODUCT "/2";
    case RL_TOKENS_MINOR: return RL_SERVER_BANNER_PRODUCT "/2.4";
    case RL_TOKENS_MIN: return RL_SERVER_BANNER_PRODUCT "/" RL_SERVER_VERSION;
    case RL_TOKENS_OS: return RL_SERVER_BANNER_PRODUCT "/" RL_SERVER_VERSION " (Unix)";
    default: return RL_SERVER_BANNER_PRODUCT "/" RL_SERVER_VERSION " (Unix) relais/0.1";
    }
}

/* Error logs: one rl_log_t per distinct path, shared by the servers. */
static const char *open_error_logs(rl_config_t *cf)
{
    rl_server_t *main = cf->main;
    if (main->error_log_path == NULL)
        main->error_log_path = rl_config_path(cf, "logs/error_log");
    for (rl_server_t *s = main; s; s = s->next) {
        if (s->error_log_path == NULL)
            s->error_log_path = main->error_log_path;
        if (s != main && s->error_log_path == main->error_log_path) {
            s->error_log = main->error_log;
            continue;
        }
        for (rl_server_t *o = main; o != s; o = o->next)
            if (strcmp(o->error_log_path, s->error_log_path) == 0)
                s->error_log = o->error_log;
        if (s->error_log == NULL) {
            char err[256];
            if (cf->open_logs)
                s->error_log = rl_log_open(s->error_log_path, err, sizeof(err));
            else
                s->error_log = rl_log_open("/dev/stderr", err, sizeof(err));
            if (s->error_log == NULL)
                return rl_arena_printf(cf->arena, "(%s)AH00091: could not open error log "
                                       "file %s.", err, s->error_log_path);
            rl_arena_on_cleanup(cf->arena, (rl_cleanup_cb)rl_log_close, s->error_log);
        }
        char err[256];
        rl_log_set_level(s->error_log, RL_LOG_WARN);
        if (s->loglevel_argc)
            rl_log_set_levels(s->error_log, s->loglevel_argc, s->loglevel_argv, err, sizeof(err));
    }
    return NULL;
}

const char *rl_reqtimeout_defaults(rl_config_t *cf, rl_server_t *s);

static const char *post_config(rl_config_t *cf)
{
    rl_server_t *main = cf->main;
    server_defaults(main);
    cf->server_banner = banner(cf);
    if (main->hostname == NULL) {
        char host[256] = "localhost";
        gethostname(host, sizeof(host) - 1);
        main->hostname = rl_arena_strdup(cf->arena, host);
    }

    rl_section_t *mdirs = main->dirs, *mfiles = main->files, *mlocs = main->locations;
    rl_section_t *mifs = main->ifs;
    main->dirs = sections_sorted(cf->arena, mdirs, NULL);
    for (rl_server_t *v = main->next; v; v = v->next) {
        server_inherit(cf, main, v);
        v->dirs = sections_sorted(cf->arena, mdirs, v->dirs);
        v->files = RL_LIST_CONCAT(cf->arena, mfiles, v->files, rl_section_t);
        v->locations = RL_LIST_CONCAT(cf->arena, mlocs, v->locations, rl_section_t);
        v->ifs = RL_LIST_CONCAT(cf->arena, mifs, v->ifs, rl_section_t);
    }
    for (rl_server_t *s = main; s; s = s->next)
        rl_reqtimeout_defaults(cf, s);
    const char *e = open_error_logs(cf);
    if (e)
        return e;
    for (rl_server_t *s = main; s; s = s->next) {
        for (unsigned i = 0; i < rl_nmodules; i++) {
            rl_module_t *m = rl_modules[i];
            if (m->post_config && rl_module_active(cf, m)) {
                const char *err = m->post_config(cf, s);
                if (err)
                    return err;
            }
        }
    }
    return NULL;
}

static const char *read_directives(rl_conf_state_t *st, rl_conf_reader_t *r,
                                   const char **list, unsigned n, const char *origin)
{
    for (unsigned i = 0; i < n; i++) {
        rl_conf_node_t *root = rl_conf_read_string(r, origin, list[i]);
        if (root == NULL)
            return rl_arena_strdup(st->cf->arena, r->errbuf);
        const char *err = rl_config_walk(st, root);
        if (err)
            return err;
    }
    return NULL;
}

rl_config_t *rl_config_load(const rl_cli_conf_t *cli, rl_buf_t *warnings, char *err, size_t errlen)
{
    rl_arena_t *a = rl_arena_create(64 * 1024);
    rl_config_t *cf = rl_arena_calloc(a, sizeof(*cf));
    cf->arena = a;
    cf->workers = RL_UNSET;
    cf->server_tokens = RL_TOKENS_FULL;
    cf->server_root = rl_arena_strdup(a, cli->server_root ? cli->server_root : "/etc/apache2");
    for (unsigned i = 0; i < rl_nmodules; i++)
        rl_modules[i]->index = i;
    cf->open_logs = cli->open_logs;
    cf->main = server_create(cf);

    rl_conf_reader_t *r = rl_arena_calloc(a, sizeof(*r));
    rl_conf_reader_init(r, a, cf->server_root);
    r->module_loaded = hook_module_loaded;
    r->load_module = hook_load_module;
    r->ctx = cf;
    for (unsigned i = 0; i < cli->ndefines; i++)
        rl_conf_define(r, cli->defines[i], NULL);

    rl_conf_state_t st = { .cf = cf, .server = cf->main, .dir = cf->main->lookup_defaults,
                           .context = RL_CTX_SERVER, .warnings = warnings };
    const char *e = read_directives(&st, r, cli->pre_directives, cli->npre, "-C");
    if (e == NULL) {
        cf->config_file = rl_config_path(cf, cli->config_file ? cli->config_file
                                                              : "apache2.conf");
        cf->tree = rl_conf_read_file(r, cf->config_file);
        cf->server_root = r->server_root;
        if (cf->tree == NULL)
            e = rl_arena_strdup(a, r->errbuf);
        else
            e = rl_config_walk(&st, cf->tree);
    }
    if (e == NULL)
        e = read_directives(&st, r, cli->post_directives, cli->npost, "-c");
    if (e == NULL)
        e = post_config(cf);
    unsigned na = 0;
    for (unsigned i = 0; i < rl_nmodules; i++)
        if (rl_module_active(cf, rl_modules[i]))
            cf->active[na++] = rl_modules[i];
    rl_conf_reader_warnings(r, warnings);
    if (e) {
        snprintf(err, errlen, "%s", e);
        rl_arena_destroy(a);
        return NULL;
    }
    return cf;
}

void rl_config_free(rl_config_t *cf)
{
    if (cf)
        rl_arena_destroy(cf->arena);
}
