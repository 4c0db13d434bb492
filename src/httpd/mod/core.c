/* The core module: ServerRoot and friends, the main server's identity,
 * per-directory Options/AllowOverride/ErrorDocument, limits, timeouts, and
 * the MPM directives (accepted, listed by -t as ignored). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "httpd/config.h"
#include "httpd/request.h"
#include "httpd/mod/core.h"
#include "httpd/mod/status.h"

#define ST(p) ((rl_conf_state_t *)(p)->ctx)
#define SRV_OFF(f) offsetof(rl_server_t, f)

static void *create_dir(rl_arena_t *a)
{
    rl_core_dir_t *d = rl_arena_calloc(a, sizeof(*d));
    d->options = RL_UNSET;
    d->override = RL_UNSET;
    d->override_opts = RL_UNSET;
    d->add_default_charset = RL_UNSET;
    d->limit_req_body = RL_UNSET;
    d->server_signature = RL_UNSET;
    d->hostname_lookups = RL_UNSET;
    d->accept_path_info = RL_UNSET;
    d->file_etag = RL_UNSET;
    d->enable_sendfile = RL_UNSET;
    d->cgi_pass_auth = RL_UNSET;
    return d;
}

#define MERGE(f) d->f = add->f != RL_UNSET ? add->f : base->f
#define MERGE_P(f) d->f = add->f ? add->f : base->f

static void *merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    const rl_core_dir_t *base = basev, *add = addv;
    rl_core_dir_t *d = rl_arena_alloc(a, sizeof(*d));
    *d = *add;
    if (add->options != RL_UNSET) {
        d->options = add->options;
    } else {
        /* relative Options (+X -Y) apply to what the base has */
        int o = base->options == RL_UNSET ? RL_OPT_SYM_LINKS : base->options;
        if (add->options_add || add->options_remove || base->options != RL_UNSET)
            d->options = (o | add->options_add) & ~add->options_remove;
        else
            d->options = RL_UNSET;
        d->options_add = base->options == RL_UNSET ? base->options_add | add->options_add : 0;
        d->options_remove = base->options == RL_UNSET ? base->options_remove | add->options_remove : 0;
        if (d->options != RL_UNSET)
            d->options_add = d->options_remove = 0;
    }
    MERGE(override);
    MERGE(override_opts);
    MERGE_P(override_list);
    MERGE(add_default_charset);
    MERGE_P(default_charset);
    MERGE(limit_req_body);
    MERGE(server_signature);
    MERGE(hostname_lookups);
    MERGE(accept_path_info);
    MERGE(file_etag);
    MERGE(enable_sendfile);
    MERGE(cgi_pass_auth);
    MERGE_P(handler);
    MERGE_P(forced_type);
    /* ErrorDocuments: the nearer section's entry wins, others are inherited */
    d->errdocs = add->errdocs;
    for (rl_errdoc_t *e = base->errdocs; e; e = e->next) {
        bool have = false;
        for (rl_errdoc_t *x = add->errdocs; x; x = x->next)
            have |= x->status == e->status;
        if (!have) {
            rl_errdoc_t *c = rl_arena_alloc(a, sizeof(*c));
            *c = *e;
            c->next = d->errdocs;
            d->errdocs = c;
        }
    }
    return d;
}

const rl_core_dir_t *rl_core_dir(const rl_dirconf_t *d)
{
    return RL_DIR_CONF(d, rl_core_module);
}

int rl_core_options(const rl_dirconf_t *d)
{
    const rl_core_dir_t *c = rl_core_dir(d);
    if (c->options != RL_UNSET)
        return c->options;
    return (RL_OPT_SYM_LINKS | c->options_add) & ~c->options_remove;
}

int64_t rl_core_limit_body(const rl_dirconf_t *d)
{
    const rl_core_dir_t *c = rl_core_dir(d);
    return c->limit_req_body == RL_UNSET ? 1073741824 : c->limit_req_body;
}

int rl_core_signature(const rl_dirconf_t *d)
{
    const rl_core_dir_t *c = rl_core_dir(d);
    return c->server_signature == RL_UNSET ? 0 : c->server_signature;
}

bool rl_core_cgi_pass_auth(const rl_dirconf_t *d)
{
    return rl_core_dir(d)->cgi_pass_auth == 1;
}

/* ---- server-wide ---- */

static const char *set_server_root(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc;
    if (ST(p)->context != RL_CTX_SERVER)
        return "ServerRoot cannot occur within a section";
    size_t n = strlen(argv[0]);
    while (n > 1 && argv[0][n - 1] == '/')
        n--;
    ST(p)->cf->server_root = rl_arena_strndup(p->arena, argv[0], n);
    return NULL;
}

static const char *set_listen(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc;
    rl_config_t *cf = ST(p)->cf;
    rl_listener_t *l = rl_arena_calloc(p->arena, sizeof(*l));
    char err[256];
    if (rl_sock_parse_listen(argv[0], &l->addr, err, sizeof(err)) != RL_OK)
        return rl_arena_strdup(p->arena, err);
    l->fd = -1;
    l->spec = rl_arena_strdup(p->arena, argv[0]);
    rl_listener_t **t = &cf->listeners;
    for (; *t; t = &(*t)->next) {
        if (rl_sockaddr_ip_equal(&(*t)->addr, &l->addr) &&
            rl_sockaddr_port(&(*t)->addr) == rl_sockaddr_port(&l->addr))
            return rl_arena_printf(p->arena, "Cannot define multiple Listeners on the "
                                   "same IP:port (%s)", argv[0]);
    }
    *t = l;
    return NULL;
}

static const char *set_cf_string(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc;
    if (ST(p)->context != RL_CTX_SERVER)
        return rl_arena_printf(p->arena, "%s cannot occur within <VirtualHost> section",
                               p->cmd->name);
    const char **f = (const char **)((char *)ST(p)->cf + p->cmd->data);
    *f = rl_arena_strdup(p->arena, argv[0]);
    return NULL;
}

static const char *set_server_name(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    rl_server_t *s = conf;
    const char *n = argv[0];
    const char *scheme = strstr(n, "://");
    if (scheme)
        n = scheme + 3;
    const char *colon = strrchr(n, ':');
    if (colon && !strchr(colon, ']')) {
        int64_t port;
        if (!rl_parse_int64(colon + 1, &port) || port < 1 || port > 65535)
            return rl_arena_printf(p->arena, "The port number \"%s\" is outside the "
                                   "appropriate range (i.e., 1..65535).", colon + 1);
        s->port = (int)port;
        s->hostname = rl_arena_strndup(p->arena, n, (size_t)(colon - n));
    } else {
        s->hostname = rl_arena_strdup(p->arena, n);
    }
    for (char *c = (char *)s->hostname; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return NULL;
}

static const char *set_server_alias(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    rl_server_t *s = conf;
    if (!s->is_virtual)
        return "ServerAlias only used in <VirtualHost>";
    const char **v = rl_arena_alloc(p->arena, sizeof(*v) * (s->naliases + 1));
    if (s->naliases)
        memcpy(v, s->aliases, sizeof(*v) * s->naliases);
    char *a = rl_arena_strdup(p->arena, argv[0]);
    for (char *c = a; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    v[s->naliases++] = a;
    s->aliases = v;
    return NULL;
}

static const char *set_document_root(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    rl_server_t *s = conf;
    const char *root = rl_config_path(ST(p)->cf, argv[0]);
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    s->document_root = rl_arena_strndup(p->arena, root, n);
    return NULL;
}

static const char *set_error_log(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    rl_server_t *s = conf;
    const char *a = argv[0];
    if (a[0] == '|' || strncmp(a, "syslog", 6) == 0 || strcmp(a, "/dev/stderr") == 0)
        s->error_log_path = rl_arena_strdup(p->arena, a);
    else
        s->error_log_path = rl_config_path(ST(p)->cf, a);
    return NULL;
}

static const char *set_log_level(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    char err[256];
    rl_server_t *s = ST(p)->server;
    (void)conf;
    if (ST(p)->context == RL_CTX_DIR)
        return NULL;   /* per-directory LogLevel: accepted, the server's level applies */
    rl_log_t *probe = rl_log_stderr();
    if (rl_log_set_levels(probe, argc, argv, err, sizeof(err)) != RL_OK)
        return rl_arena_strdup(p->arena, err);
    rl_log_set_levels(probe, 1, (char *[]){ "warn" }, err, sizeof(err));
    s->loglevel_argc = argc;
    s->loglevel_argv = rl_arena_alloc(p->arena, sizeof(char *) * (size_t)argc);
    for (int i = 0; i < argc; i++)
        s->loglevel_argv[i] = rl_arena_strdup(p->arena, argv[i]);
    return NULL;
}

static const char *set_seconds_ms(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    int64_t v;
    if (!rl_parse_int64(argv[0], &v) || v > 86400 * 365)
        return rl_arena_printf(p->arena, "%s requires a number of seconds", p->cmd->name);
    /* "KeepAliveTimeout 300 ms" is already in milliseconds */
    if (argc == 2 && strcasecmp(argv[1], "ms") != 0)
        return rl_arena_printf(p->arena, "%s: unknown unit '%s'", p->cmd->name, argv[1]);
    if (argc == 1)
        v *= 1000;
    *(int64_t *)((char *)conf + p->cmd->data) = v;
    return NULL;
}

static const char *set_server_tokens(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    static const struct { const char *name; int v; } t[] = {
        { "Prod", RL_TOKENS_PROD }, { "ProductOnly", RL_TOKENS_PROD },
        { "Major", RL_TOKENS_MAJOR }, { "Minor", RL_TOKENS_MINOR },
        { "Min", RL_TOKENS_MIN }, { "Minimal", RL_TOKENS_MIN },
        { "OS", RL_TOKENS_OS }, { "Full", RL_TOKENS_FULL },
    };
    (void)conf; (void)argc;
    for (size_t i = 0; i < RL_NELEMS(t); i++) {
        if (strcasecmp(argv[0], t[i].name) == 0) {
            ST(p)->cf->server_tokens = t[i].v;
            return NULL;
        }
    }
    /* Apache treats anything else as Full */
    ST(p)->cf->server_tokens = RL_TOKENS_FULL;
    return NULL;
}

static const char *set_workers(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc;
    int64_t v;
    if (!rl_parse_int64(argv[0], &v) || v < 1 || v > 1024)
        return "RelaisWorkers requires a number of worker processes between 1 and 1024";
    ST(p)->cf->workers = (int)v;
    return NULL;
}

static const char *set_trace_enable(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)p; (void)argc;
    rl_server_t *s = conf;
    if (strcasecmp(argv[0], "on") == 0 || strcasecmp(argv[0], "extended") == 0)
        s->trace_enable = 1;
    else if (strcasecmp(argv[0], "off") == 0)
        s->trace_enable = 0;
    else
        return "TraceEnable must be one of 'on', 'off', or 'extended'";
    return NULL;
}

/* ---- per directory ---- */

/* The bits of one Options word, -1 when it is not one. */
static int option_bits(const char *w)
{
    static const struct { const char *name; int bits; } o[] = {
        { "Indexes", RL_OPT_INDEXES }, { "Includes", RL_OPT_INCLUDES },
        { "IncludesNOEXEC", RL_OPT_INCLUDES | RL_OPT_INCNOEXEC },
        { "FollowSymLinks", RL_OPT_SYM_LINKS }, { "SymLinksIfOwnerMatch", RL_OPT_SYM_OWNER },
        { "ExecCGI", RL_OPT_EXECCGI }, { "MultiViews", RL_OPT_MULTI },
        { "All", RL_OPT_ALL }, { "None", 0 },
    };
    for (size_t j = 0; j < RL_NELEMS(o); j++)
        if (strcasecmp(w, o[j].name) == 0)
            return o[j].bits;
    return -1;
}

static const char *set_options(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    rl_core_dir_t *d = conf;
    int absolute = 0, add = 0, remove = 0, relative = 0, plain = 0;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        char sign = (*w == '+' || *w == '-') ? *w++ : 0;
        int bits = option_bits(w);
        if (bits < 0)
            return rl_arena_printf(p->arena, "Illegal option %s", w);
        /* a .htaccess may set only what AllowOverride Options=... lists */
        if (p->context == RL_CTX_HTACCESS && (bits & ~ST(p)->override_opts))
            return rl_arena_printf(p->arena, "Option %s not allowed here", w);
        if (sign && (strcasecmp(w, "All") == 0 || strcasecmp(w, "None") == 0))
            return rl_arena_printf(p->arena, "Illegal option %c%s", sign, w);
        sign ? relative++ : plain++;
        if (sign == '+') add |= bits, remove &= ~bits;
        else if (sign == '-') remove |= bits, add &= ~bits;
        else absolute |= bits;
    }
    if (relative && plain)
        return "Either all Options must start with + or -, or no Option may.";
    if (plain) {
        d->options = absolute;
        d->options_add = d->options_remove = 0;
    } else if (d->options != RL_UNSET) {
        d->options = (d->options | add) & ~remove;
    } else {
        d->options_add = (d->options_add | add) & ~remove;
        d->options_remove = (d->options_remove | remove) & ~add;
    }
    return NULL;
}

static const char *set_override_list(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    rl_core_dir_t *d = conf;
    if (p->context != RL_CTX_DIR || p->section == NULL)
        return "AllowOverrideList not allowed here";
    const char **l = rl_arena_calloc(p->arena, ((size_t)argc + 1) * sizeof(*l));
    int n = 0;
    for (int i = 0; i < argc; i++)
        if (strcasecmp(argv[i], "None") != 0)
            l[n++] = rl_arena_strdup(p->arena, argv[i]);
    d->override_list = l;
    return NULL;
}

/* Every Option, for AllowOverride Options or All (Apache's default set). */
#define OPTS_ANY (RL_OPT_ALL | RL_OPT_SYM_OWNER | RL_OPT_MULTI | RL_OPT_INCNOEXEC)

/* "Options=Indexes,MultiViews": the Options a .htaccess may set. */
static const char *override_options(rl_cmd_parms_t *p, const char *list, int *opts)
{
    char *copy = rl_arena_strdup(p->arena, list);
    for (char *w = strtok(copy, ","); w; w = strtok(NULL, ",")) {
        int bits = option_bits(w);
        if (bits < 0 || strcasecmp(w, "None") == 0)
            return rl_arena_printf(p->arena, "Illegal option %s", w);
        *opts |= bits;
    }
    return NULL;
}

static const char *set_allow_override(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    static const struct { const char *name; int bits; } o[] = {
        { "Limit", RL_OVR_LIMIT }, { "Options", RL_OVR_OPTIONS },
        { "FileInfo", RL_OVR_FILEINFO }, { "AuthConfig", RL_OVR_AUTHCFG },
        { "Indexes", RL_OVR_INDEXES }, { "All", RL_OVR_ALL }, { "None", 0 },
        { "Nonfatal=Override", 0 }, { "Nonfatal=Unknown", 0 }, { "Nonfatal=All", 0 },
    };
    rl_core_dir_t *d = conf;
    if (p->context != RL_CTX_DIR || p->section == NULL)
        return "AllowOverride not allowed here";
    int bits = 0, opts = RL_UNSET;   /* unset: every Option, as Apache */
    for (int i = 0; i < argc; i++) {
        int b = -1;
        for (size_t j = 0; j < RL_NELEMS(o); j++)
            if (strcasecmp(argv[i], o[j].name) == 0)
                b = o[j].bits;
        if (strcasecmp(argv[i], "Options") == 0)
            opts = OPTS_ANY;
        if (b < 0 && strncasecmp(argv[i], "Options=", 8) == 0) {
            opts = 0;
            const char *err = override_options(p, argv[i] + 8, &opts);
            if (err)
                return err;
            b = RL_OVR_OPTIONS;
        }
        if (b < 0)
            return rl_arena_printf(p->arena, "Illegal override option %s", argv[i]);
        bits |= b;
    }
    d->override = bits;
    d->override_opts = opts;
    return NULL;
}

static const char *set_error_document(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    rl_core_dir_t *d = conf;
    int64_t status;
    if (!rl_parse_int64(argv[0], &status) || status < 400 || status > 599)
        return rl_arena_printf(p->arena, "Unsupported HTTP response code %s", argv[0]);
    rl_errdoc_t *e = rl_arena_calloc(p->arena, sizeof(*e));
    e->status = (int)status;
    e->text = strcasecmp(argv[1], "default") == 0 ? NULL : rl_arena_strdup(p->arena, argv[1]);
    e->next = d->errdocs;
    d->errdocs = e;
    return NULL;
}

static const char *set_default_charset(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    rl_core_dir_t *d = conf;
    if (strcasecmp(argv[0], "off") == 0) {
        d->add_default_charset = 0;
    } else if (strcasecmp(argv[0], "on") == 0) {
        d->add_default_charset = 1;
        d->default_charset = "iso-8859-1";
    } else {
        d->add_default_charset = 1;
        d->default_charset = rl_arena_strdup(p->arena, argv[0]);
    }
    return NULL;
}

static const char *set_signature(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)p; (void)argc;
    rl_core_dir_t *d = conf;
    if (strcasecmp(argv[0], "on") == 0) d->server_signature = 1;
    else if (strcasecmp(argv[0], "off") == 0) d->server_signature = 0;
    else if (strcasecmp(argv[0], "email") == 0) d->server_signature = 2;
    else return "ServerSignature: use one of: off | on | email";
    return NULL;
}

static const char *set_hostname_lookups(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)p; (void)argc;
    rl_core_dir_t *d = conf;
    if (strcasecmp(argv[0], "on") == 0) d->hostname_lookups = 1;
    else if (strcasecmp(argv[0], "off") == 0) d->hostname_lookups = 0;
    else if (strcasecmp(argv[0], "double") == 0) d->hostname_lookups = 2;
    else return "parameter must be 'on', 'off', or 'double'";
    return NULL;
}

static const char *set_accept_path_info(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)p; (void)argc;
    rl_core_dir_t *d = conf;
    if (strcasecmp(argv[0], "on") == 0) d->accept_path_info = 1;
    else if (strcasecmp(argv[0], "off") == 0) d->accept_path_info = 0;
    else if (strcasecmp(argv[0], "default") == 0) d->accept_path_info = 2;
    else return "AcceptPathInfo must be set to on, off or default";
    return NULL;
}

/* CGIPassAuth On|Off: a flag of sections and .htaccess only, checked in
 * Apache's order (the place, then the value; words after it are ignored). */
static const char *set_cgi_pass_auth(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    if (p->context == RL_CTX_VHOST)
        return "CGIPassAuth not allowed in <VirtualHost> context";
    if (p->context == RL_CTX_SERVER)
        return "CGIPassAuth not allowed here";
    int v = argc ? rl_parse_flag(argv[0]) : -1;
    if (v < 0)
        return "CGIPassAuth must be On or Off";
    ((rl_core_dir_t *)conf)->cgi_pass_auth = v;
    return NULL;
}

static const char *set_dir_string(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    const char **f = (const char **)((char *)conf + p->cmd->data);
    *f = strcasecmp(argv[0], "none") == 0 ? NULL : rl_arena_strdup(p->arena, argv[0]);
    return NULL;
}

/* ---- <Limit> and <LimitExcept> ---- */

/* The methods the directive being read applies to. The configuration is
 * read by one thread, once per generation: a plain variable will do. */
static uint64_t limited = RL_LIMIT_ALL;

/* Methods relais has no id for: Apache's other built-in ones (WebDAV's
 * versioning) have bits from EXT_FIRST on; others get the next bits when
 * a <Limit> names them (Apache registers them as extension methods); a
 * method never named has UNNAMED_BIT. */
enum { EXT_FIRST = 20, EXT_MAX = 40 };
#define UNNAMED_BIT (UINT64_C(1) << 63)
static char ext_methods[EXT_MAX][32] = {
    "VERSION-CONTROL", "CHECKOUT", "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL", "REPORT",
    "MKWORKSPACE", "MKACTIVITY", "BASELINE-CONTROL", "MERGE",
};
static unsigned n_ext_methods = 11;

uint64_t rl_core_limited(void)
{
    return limited;
}

static uint64_t ext_method_bit(const char *name)
{
    for (unsigned i = 0; i < n_ext_methods; i++)
        if (strcmp(ext_methods[i], name) == 0)
            return UINT64_C(1) << (EXT_FIRST + i);
    return 0;
}

uint64_t rl_core_method_bit(const rl_request_t *r)
{
    if (r->method_id == RL_M_HEAD)
        return UINT64_C(1) << RL_M_GET;
    if (r->method_id != RL_M_OTHER)
        return UINT64_C(1) << r->method_id;
    uint64_t bit = ext_method_bit(r->method);
    return bit ? bit : UNNAMED_BIT;
}

/* The bit of the method <name> (case-sensitive, as Apache's method
 * numbers), registering an unknown one. Returns 0 with <*err> set. */
static uint64_t limit_method_bit(rl_cmd_parms_t *p, const char *name, const char **err)
{
    static const char *names[] = {
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
        "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK",
    };
    for (int i = 0; i < (int)RL_NELEMS(names); i++)
        if (strcmp(name, names[i]) == 0)
            return UINT64_C(1) << (i == RL_M_HEAD ? RL_M_GET : i);
    uint64_t bit = ext_method_bit(name);
    if (bit)
        return bit;
    if (p->context == RL_CTX_HTACCESS)
        *err = rl_arena_printf(p->arena, "Could not register method '%s' for %s from "
                               ".htaccess configuration", name, p->cmd->name);
    else if (n_ext_methods == EXT_MAX || strlen(name) >= sizeof(ext_methods[0]))
        *err = rl_arena_printf(p->arena, "relais cannot register the method '%s': "
                               "too many or too long method names", name);
    else {
        strcpy(ext_methods[n_ext_methods], name);
        return UINT64_C(1) << (EXT_FIRST + n_ext_methods++);
    }
    return 0;
}

/* <Limit GET POST>: the directives inside apply as usual, except that the
 * access ones (Require, Order, Allow, Deny, Satisfy) only count for those
 * methods; <LimitExcept GET> for all others. Nesting narrows further. */
static const char *set_limit(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc; (void)argv;
    const rl_conf_node_t *n = p->node;
    bool except = p->cmd->data != 0;
    if (n->argc == 0)
        return rl_arena_printf(p->arena, "%s> directive requires additional arguments",
                               p->cmd->name);
    uint64_t mask = 0;
    for (int i = 0; i < n->argc; i++) {
        const char *err = NULL;
        if (strcmp(n->argv[i], "TRACE") == 0 && !except)
            return "TRACE cannot be controlled by <Limit>, see TraceEnable";
        uint64_t bit = limit_method_bit(p, n->argv[i], &err);
        if (bit == 0)
            return err;
        mask |= bit;
    }
    if (except)
        mask = ~mask;
    if ((limited & mask) == 0)
        return rl_arena_printf(p->arena, "%s> directive excludes all methods", p->cmd->name);
    if ((limited & mask) == limited)
        return rl_arena_printf(p->arena, "%s> directive specifies methods already excluded",
                               p->cmd->name);
    uint64_t saved = limited;
    limited &= mask;
    const char *err = rl_config_walk(ST(p), n);
    limited = saved;
    return err;
}

/* ---- mod_php's directives ---- */

/* php_value, php_flag, php_admin_value, php_admin_flag: relais has no
 * mod_php, PHP runs in php-fpm. Apache without mod_php calls them invalid
 * commands; relais says so too, and where the setting goes instead. */
static const char *set_php(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf;
    const char *name = p->cmd->name;
    bool admin = strncmp(name, "php_admin_", 10) == 0;
    const char *key = argc > 0 ? argv[0] : "name";
    const char *val = argc > 1 ? argv[1] : "value";
    const char *ini = admin ? "" : rl_arena_printf(p->arena, ", or \"%s = %s\" in a .user.ini "
                                                   "file in the directory (PHP reads it itself)",
                                                   key, val);
    return rl_arena_printf(p->arena,
        "Invalid command '%s', perhaps misspelled or defined by a module not included in the "
        "server configuration (%s belongs to mod_php, which relais does not have: PHP runs in "
        "php-fpm; put \"%s[%s] = %s\" in the php-fpm pool's configuration file instead%s)",
        name, name, name, key, val, ini);
}

#define DIR_OFF(f) offsetof(rl_core_dir_t, f)
#define PHP(name) { name, set_php, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_ALL, RL_ARGS_RAW, NULL }
#define MPM(name) { name, rl_cmd_ignored_listed, 0, RL_CTX_SERVER, 0, RL_ARGS_RAW, NULL }

static const rl_cmd_t core_cmds[] = {
    { "ServerRoot", set_server_root, 0, RL_CTX_SERVER, 0, RL_ARGS_TAKE1,
      "Common directory of server-related files (logs, confs, etc.)" },
    { "Listen", set_listen, 0, RL_CTX_SERVER, 0, RL_ARGS_TAKE12,
      "A port number or a numeric IP address and a port number, and an optional protocol" },
    { "ServerName", set_server_name, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE1,
      "The hostname and port of the server" },
    { "ServerAlias", set_server_alias, 0, RL_CTX_RSRC, 0, RL_ARGS_ITERATE,
      "A name or names alternately used to access the server" },
    { "ServerAdmin", rl_cmd_set_string, SRV_OFF(admin), RL_CTX_RSRC, 0, RL_ARGS_TAKE1,
      "The email address of the server administrator" },
    { "DocumentRoot", set_document_root, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE1,
      "Root directory of the document tree" },
    { "ErrorLog", set_error_log, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE1,
      "The filename of the error log" },
    { "LogLevel", set_log_level, 0, RL_CTX_ANY, 0, RL_ARGS_1PLUS,
      "Level of verbosity in error logging" },
    { "AccessFileName", rl_cmd_set_string, SRV_OFF(access_file_name), RL_CTX_RSRC, 0,
      RL_ARGS_1PLUS, "Name(s) of per-directory config files (default: .htaccess)" },
    { "PidFile", set_cf_string, offsetof(rl_config_t, pidfile), RL_CTX_SERVER, 0,
      RL_ARGS_TAKE1, "A file for logging the server process ID" },
    { "ServerTokens", set_server_tokens, 0, RL_CTX_SERVER, 0, RL_ARGS_TAKE1,
      "Tokens to be sent in the Server header" },
    { "Timeout", set_seconds_ms, SRV_OFF(timeout_ms), RL_CTX_RSRC, 0, RL_ARGS_TAKE12,
      "Timeout duration (sec)" },
    { "KeepAlive", rl_cmd_set_flag, SRV_OFF(keepalive), RL_CTX_RSRC, 0, RL_ARGS_FLAG,
      "Whether persistent connections should be On or Off" },
    { "KeepAliveTimeout", set_seconds_ms, SRV_OFF(keepalive_timeout_ms), RL_CTX_RSRC, 0,
      RL_ARGS_TAKE12, "Keep-Alive timeout duration (sec)" },
    { "MaxKeepAliveRequests", rl_cmd_set_int, SRV_OFF(max_keepalive_requests), RL_CTX_RSRC, 0,
      RL_ARGS_TAKE1, "Maximum number of Keep-Alive requests per connection, or 0 for infinite" },
    { "LimitRequestLine", rl_cmd_set_int, SRV_OFF(limit_req_line), RL_CTX_RSRC, 0,
      RL_ARGS_TAKE1, "Limit on maximum size of an HTTP request line" },
    { "LimitRequestFieldsize", rl_cmd_set_int, SRV_OFF(limit_req_fieldsize), RL_CTX_RSRC, 0,
      RL_ARGS_TAKE1, "Limit on maximum size of an HTTP request header field" },
    { "LimitRequestFields", rl_cmd_set_int, SRV_OFF(limit_req_fields), RL_CTX_RSRC, 0,
      RL_ARGS_TAKE1, "Limit (0 = unlimited) on max number of header fields in a request message" },
    { "LimitRequestBody", rl_cmd_set_size, DIR_OFF(limit_req_body), RL_CTX_ANY | RL_CTX_HTACCESS,
      RL_OVR_ALL, RL_ARGS_TAKE1, "Limit (in bytes) on maximum size of request message body" },
    { "Options", set_options, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_OPTIONS, RL_ARGS_1PLUS,
      "Set a number of attributes for a given directory" },
    { "AllowOverride", set_allow_override, 0, RL_CTX_DIR, 0, RL_ARGS_1PLUS,
      "Controls what groups of directives can be configured by per-directory config files" },
    { "AllowOverrideList", set_override_list, 0, RL_CTX_DIR, 0, RL_ARGS_1PLUS,
      "Controls what individual directives can be configured by per-directory config files" },
    { "ErrorDocument", set_error_document, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_TAKE2, "Change responses for HTTP errors" },
    { "AddDefaultCharset", set_default_charset, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_TAKE1, "The name of the default charset to add to any Content-Type without one or 'Off' to disable" },
    { "ServerSignature", set_signature, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_ALL,
      RL_ARGS_TAKE1, "En-/disable server signature (on|off|email)" },
    { "HostnameLookups", set_hostname_lookups, 0, RL_CTX_ANY, 0, RL_ARGS_TAKE1,
      "\"on\" to enable, \"off\" to disable reverse DNS lookups, or \"double\" to enable double-reverse DNS lookups" },
    { "AcceptPathInfo", set_accept_path_info, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_TAKE1, "Set to on or off for PATH_INFO to be accepted by handlers, or default for the per-handler preference" },
    { "SetHandler", set_dir_string, DIR_OFF(handler), RL_CTX_ANY | RL_CTX_HTACCESS,
      RL_OVR_FILEINFO, RL_ARGS_TAKE1, "A handler name that overrides any other configured handler" },
    { "CGIPassAuth", set_cgi_pass_auth, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_AUTHCFG,
      RL_ARGS_RAW, "Controls whether HTTP authorization headers, normally hidden, will be "
      "passed to scripts" },
    { "ForceType", set_dir_string, DIR_OFF(forced_type), RL_CTX_ANY | RL_CTX_HTACCESS,
      RL_OVR_FILEINFO, RL_ARGS_TAKE1, "A mime type that overrides other configured type" },
    { "DefaultType", rl_cmd_set_ignored, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_TAKE1, "the default media type for otherwise untyped files (DEPRECATED)" },
    { "EnableSendfile", rl_cmd_set_flag, DIR_OFF(enable_sendfile), RL_CTX_ANY | RL_CTX_HTACCESS,
      RL_OVR_FILEINFO, RL_ARGS_FLAG, "Controls whether sendfile may be used to transmit files" },
    { "EnableMMAP", rl_cmd_set_ignored, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_TAKE1, "Controls whether memory-mapping may be used to read files" },
    { "FileETag", rl_cmd_set_ignored, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_FILEINFO,
      RL_ARGS_1PLUS, "One or more of 'INode', 'MTime', 'Size', 'Digest', 'None', or 'All'" },
    { "UseCanonicalName", rl_cmd_set_ignored, 0, RL_CTX_ANY, 0, RL_ARGS_TAKE1,
      "How to work out the ServerName : Port when constructing URLs" },
    { "TraceEnable", set_trace_enable, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE1,
      "'on' (default), 'off' or 'extended' to trace request body content" },
    { "AllowEncodedSlashes", rl_cmd_set_ignored, 0, RL_CTX_RSRC, 0, RL_ARGS_TAKE12,
      "Allow URLs containing '/' encoded as '%2F'" },
    { "MergeSlashes", rl_cmd_set_ignored, 0, RL_CTX_RSRC, 0, RL_ARGS_FLAG,
      "Controls whether consecutive slashes in the URI path are merged" },
    { "HttpProtocolOptions", rl_cmd_set_ignored, 0, RL_CTX_RSRC, 0, RL_ARGS_1PLUS,
      "'Allow0.9' or 'Require1.0' (default); 'RegisteredMethods' or 'LenientMethods' (default); 'Unsafe' or 'Strict' (default)" },
    { "Protocols", rl_cmd_set_ignored, 0, RL_CTX_RSRC, 0, RL_ARGS_1PLUS,
      "Controls which protocols are allowed" },
    { "DefaultRuntimeDir", rl_cmd_set_ignored, 0, RL_CTX_SERVER, 0, RL_ARGS_TAKE1,
      "The location of the directory Apache changes to before dumping core" },
    { "Mutex", rl_cmd_set_ignored, 0, RL_CTX_SERVER, 0, RL_ARGS_RAW, "mutex (or \"default\") and mechanism" },
    { "<Limit", set_limit, 0, RL_CTX_ANY | RL_CTX_HTACCESS, RL_OVR_LIMIT | RL_OVR_AUTHCFG,
      RL_ARGS_RAW, "Container for authentication directives when accessed using specified "
      "HTTP methods" },
    { "<LimitExcept", set_limit, 1, RL_CTX_ANY | RL_CTX_HTACCESS,
      RL_OVR_LIMIT | RL_OVR_AUTHCFG, RL_ARGS_RAW, "Container for authentication directives "
      "to be applied when any HTTP method other than those specified is used to access the "
      "resource" },
    PHP("php_value"), PHP("php_flag"), PHP("php_admin_value"), PHP("php_admin_flag"),
    /* core directives in Apache 2.4; mod_status reads them */
    { "ExtendedStatus", rl_status_set_flag, 0, RL_CTX_RSRC, 0, RL_ARGS_FLAG,
      "\"On\" to track extended status information, \"Off\" to disable" },
    { "SeeRequestTail", rl_status_set_flag, 1, RL_CTX_RSRC, 0, RL_ARGS_FLAG,
      "For extended status, \"On\" to see the last 63 chars of the request line, \"Off\" "
      "(default) to see the first 63" },
    { "RelaisWorkers", set_workers, 0, RL_CTX_SERVER, 0, RL_ARGS_TAKE1,
      "Number of worker processes (default: one per CPU)" },
    MPM("StartServers"), MPM("ServerLimit"), MPM("ThreadsPerChild"), MPM("ThreadLimit"),
    MPM("MaxRequestWorkers"), MPM("MaxClients"), MPM("MinSpareThreads"),
    MPM("MaxSpareThreads"), MPM("MinSpareServers"), MPM("MaxSpareServers"),
    MPM("MaxConnectionsPerChild"), MPM("MaxRequestsPerChild"),
    MPM("AsyncRequestWorkerFactor"), MPM("ListenBacklog"), MPM("MaxMemFree"),
    MPM("ThreadStackSize"), MPM("GracefulShutdownTimeout"), MPM("ScoreBoardFile"),
    MPM("ReceiveBufferSize"), MPM("SendBufferSize"),
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_core_module = {
    .name = "core",
    .always = true,
    .cmds = core_cmds,
    .create_dir = create_dir,
    .merge_dir = merge_dir,
};
