/* The request phases, in Apache's order: translate the URI to a file
 * (mod_alias or DocumentRoot), walk the directory, <Files> and <Location>
 * sections into one per-directory configuration (cached), check access,
 * find the type and handler, run fixups, then the handler. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include "http/uri.h"
#include "httpd/config.h"
#include "httpd/conn.h"
#include "httpd/dircache.h"
#include "httpd/htaccess.h"
#include "httpd/request.h"
#include "httpd/vars.h"
#include "httpd/mod/core.h"
#include "httpd/mod/proxy.h"

#define MAX_REDIRECTS 10
#define MAX_SECTIONS 128

/* ---- header lists ---- */

void rl_hdrs_add(rl_arena_t *a, rl_hdrs_t *h, const char *name, const char *value)
{
    rl_hdr_t *x = rl_arena_alloc(a, sizeof(*x));
    x->name = name;
    x->value = value;
    x->next = NULL;
    if (h->tail)
        h->tail->next = x;
    else
        h->head = x;
    h->tail = x;
}

void rl_hdrs_unset(rl_hdrs_t *h, const char *name)
{
    rl_hdr_t **p = &h->head, *last = NULL;
    while (*p) {
        if (strcasecmp((*p)->name, name) == 0) {
            *p = (*p)->next;
            continue;
        }
        last = *p;
        p = &(*p)->next;
    }
    h->tail = last;
}

void rl_hdrs_set(rl_arena_t *a, rl_hdrs_t *h, const char *name, const char *value)
{
    rl_hdrs_unset(h, name);
    rl_hdrs_add(a, h, name, value);
}

const char *rl_hdrs_get(const rl_hdrs_t *h, const char *name)
{
    for (rl_hdr_t *x = h->head; x; x = x->next)
        if (strcasecmp(x->name, name) == 0)
            return x->value;
    return NULL;
}

const char *rl_req_header(const rl_request_t *r, const char *name)
{
    size_t n = strlen(name);
    for (unsigned i = 0; i < r->nheaders; i++) {
        const rl_http_header_t *h = &r->headers[i];
        if (h->name.len == n && strncasecmp(h->name.p, name, n) == 0)
            return h->value.p;   /* values are NUL-terminated by the connection */
    }
    return NULL;
}

/* ---- body ---- */

static rl_chunk_t *chunk_new(rl_request_t *r)
{
    rl_chunk_t *c = rl_arena_calloc(r->arena, sizeof(*c));
    c->fd = -1;
    *r->body_tail = c;
    r->body_tail = &c->next;
    return c;
}

void rl_req_body_mem(rl_request_t *r, const char *data, size_t len)
{
    rl_chunk_t *c = chunk_new(r);
    c->data = data;
    c->len = len;
}

static void close_fd(void *data)
{
    close((int)(intptr_t)data);
}

void rl_req_body_file(rl_request_t *r, int fd, uint64_t off, uint64_t len)
{
    rl_chunk_t *c = chunk_new(r);
    c->fd = fd;
    c->off = off;
    c->len = len;
}

int rl_req_open_file(rl_request_t *r, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0)
        rl_arena_on_cleanup(r->arena, close_fd, (void *)(intptr_t)fd);
    return fd;
}

static void body_reset(rl_request_t *r)
{
    r->body = NULL;
    r->body_tail = &r->body;
    r->body_len = 0;
}

/* ---- logging and naming ---- */

void rl_req_log(rl_request_t *r, int level, const char *module, const char *fmt, ...)
{
    rl_log_t *log = r->server->error_log;
    if (log == NULL || !rl_log_enabled(log, module, level))
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rl_log_error(log, level, module, rl_conn_peer_str(r->conn), "%s", msg);
}

const rl_sockaddr_t *rl_req_peer(const rl_request_t *r) { return rl_conn_peer(r->conn); }
const rl_sockaddr_t *rl_req_local(const rl_request_t *r) { return rl_conn_local(r->conn); }

const char *rl_req_server_name(const rl_request_t *r)
{
    return r->server->hostname ? r->server->hostname : r->cf->main->hostname;
}

int rl_req_server_port(const rl_request_t *r)
{
    return r->server->port ? r->server->port : rl_sockaddr_port(rl_req_local(r));
}

const char *rl_req_url_host(rl_request_t *r)
{
    const char *host = r->hostname ? r->hostname : rl_req_server_name(r);
    return strchr(host, ':') ? rl_arena_printf(r->arena, "[%s]", host) : host;
}

int rl_req_url_port(const rl_request_t *r)
{
    if (!r->hostname)
        return rl_req_server_port(r);
    return r->host_port ? r->host_port : r->server->port ? r->server->port : 80;
}

const char *rl_req_self_url(rl_request_t *r, const char *path)
{
    int port = rl_req_url_port(r);
    if (port == 80)
        return rl_arena_printf(r->arena, "http://%s%s", rl_req_url_host(r), path);
    return rl_arena_printf(r->arena, "http://%s:%d%s", rl_req_url_host(r), port, path);
}

/* ---- responses ---- */

int rl_req_redirect(rl_request_t *r, int status, const char *location)
{
    rl_hdrs_set(r->arena, &r->err_out, "Location", location);
    return rl_req_error(r, status);
}

static const rl_errdoc_t *find_errdoc(rl_request_t *r, int status)
{
    if (r->dir == NULL)
        return NULL;
    for (const rl_errdoc_t *e = rl_core_dir(r->dir)->errdocs; e; e = e->next)
        if (e->status == status)
            return e->text ? e : NULL;
    return NULL;
}

/* ErrorDocument: text, a URL (302 to it), or a local path (internal
 * redirect with the REDIRECT_* variables set). Returns RL_DECLINED when the
 * built-in page is to be used. */
static int error_document(rl_request_t *r, int status)
{
    const rl_errdoc_t *e = find_errdoc(r, status);
    if (e == NULL || r->redirects >= MAX_REDIRECTS)
        return RL_DECLINED;
    const char *t = e->text;
    if (strchr(t, ' ') == NULL && t[0] == '/' && !r->in_error_redirect) {
        r->in_error_redirect = true;
        r->original_status = status;
        /* as Apache's ap_die: the document is asked for with GET; the
         * method and the error notes reach it as REDIRECT_REQUEST_METHOD
         * and REDIRECT_ERROR_NOTES */
        rl_hdrs_set(r->arena, &r->env, "REQUEST_METHOD", r->method);
        const char *notes = rl_hdrs_get(&r->notes, "error-notes");
        if (notes)
            rl_hdrs_set(r->arena, &r->env, "ERROR_NOTES", notes);
        r->method = "GET";
        r->method_id = RL_M_GET;
        return rl_req_internal_redirect(r, t, true);
    }
    if (strchr(t, ' ') == NULL && strstr(t, "://")) {
        rl_hdrs_set(r->arena, &r->err_out, "Location", t);
        r->status = 302;
        body_reset(r);
        const char *body = rl_http_error_page(r, 302);
        rl_req_body_mem(r, body, strlen(body));
        r->body_len = strlen(body);
        return RL_DONE;
    }
    r->status = status;
    body_reset(r);
    const char *text = t[0] == '"' ? t + 1 : t;
    rl_req_body_mem(r, text, strlen(text));
    r->body_len = strlen(text);
    r->content_type = "text/html";
    return RL_DONE;
}

int rl_req_error(rl_request_t *r, int status)
{
    r->status = status;
    r->out.head = r->out.tail = NULL;      /* errors keep only err_out */
    r->handler_done = true;
    body_reset(r);
    if (status >= 400 && error_document(r, status) == RL_DONE)
        return RL_DONE;
    r->status = status;
    const char *body = rl_http_error_page(r, status);
    r->content_type = "text/html; charset=iso-8859-1";
    rl_req_body_mem(r, body, strlen(body));
    r->body_len = strlen(body);
    return RL_DONE;
}

/* ---- mapping ---- */

static bool dir_section_matches(const rl_section_t *s, const char *dir, size_t len)
{
    if (s->re) {
        /* Apache matches the directory with its trailing slash: the example
         * of its documentation is "^/www/(.+/)?[0-9]{3}/" */
        char tmp[4096];
        if (len > 0 && dir[len - 1] != '/' && len + 2 <= sizeof(tmp)) {
            memcpy(tmp, dir, len);
            tmp[len++] = '/';
            tmp[len] = '\0';
            dir = tmp;
        }
        pcre2_match_data *md = pcre2_match_data_create(1, NULL);
        int rc = pcre2_match(s->re, (PCRE2_SPTR)dir, len, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        return rc >= 0;
    }
    if (strcmp(s->path, "/") == 0)
        return true;
    if (s->wildcard) {
        /* compare the pattern with as many components of <dir> */
        size_t n = 0;
        unsigned comps = 0;
        while (n < len) {
            n++;
            while (n < len && dir[n] != '/')
                n++;
            if (++comps == s->depth)
                break;
        }
        char tmp[4096];
        if (comps != s->depth || n >= sizeof(tmp))
            return false;
        memcpy(tmp, dir, n);
        tmp[n] = '\0';
        return fnmatch(s->path, tmp, FNM_PATHNAME) == 0;
    }
    return len >= s->path_len && memcmp(dir, s->path, s->path_len) == 0 &&
           (len == s->path_len || dir[s->path_len] == '/');
}

static bool name_matches(const rl_section_t *s, const char *name)
{
    if (s->re) {
        pcre2_match_data *md = pcre2_match_data_create(1, NULL);
        int rc = pcre2_match(s->re, (PCRE2_SPTR)name, strlen(name), 0, 0, md, NULL);
        pcre2_match_data_free(md);
        return rc >= 0;
    }
    if (s->wildcard)
        return fnmatch(s->path, name, 0) == 0;
    return strcmp(s->path, name) == 0;
}

static bool location_matches(const rl_section_t *s, const char *uri)
{
    if (s->re || s->wildcard)
        return s->re ? name_matches(s, uri) : fnmatch(s->path, uri, FNM_PATHNAME) == 0;
    /* Apache 2.4: a prefix match on whole segments; "/foo" matches "/foo"
     * and "/foo/x", not "/foobar" */
    size_t n = s->path_len;
    return strncmp(uri, s->path, n) == 0 &&
           (n == 0 || s->path[n - 1] == '/' || uri[n] == '/' || uri[n] == '\0');
}

/* Does the section <s> (an <If>'s enclosing one) apply to <r>? */
static bool section_applies(rl_request_t *r, const rl_section_t *s, const char *dir, size_t dlen)
{
    const char *base;
    switch (s->kind) {
    case RL_SEC_DIRECTORY:
        return dir_section_matches(s, dir, dlen);
    case RL_SEC_LOCATION:
        return location_matches(s, r->uri);
    case RL_SEC_FILES:
        if (r->filename == NULL)
            return false;
        base = strrchr(r->filename, '/');
        base = base ? base + 1 : r->filename;
        return name_matches(s, base) && (!s->within || dir_section_matches(s->within, dir, dlen));
    default:
        return false;
    }
}

/* Does <d> set AllowOverride or AllowOverrideList (so that .htaccess
 * files may count below it)? */
static bool sets_override(const rl_dirconf_t *d)
{
    const rl_core_dir_t *c = rl_core_dir(d);
    return (c->override != RL_UNSET && c->override != 0) || (c->override_list && *c->override_list);
}

/* The directory walk's level of a plain <Directory>: "/" is 0, "/var" 1. */
static unsigned section_level(const rl_section_t *s)
{
    return s->path_len == 1 && s->path[0] == '/' ? 0 : s->depth;
}

typedef struct {
    rl_section_t *secs[MAX_SECTIONS];
    unsigned n;
    const rl_htaccess_t *ht[32];   /* the .htaccess files read, in walk order */
    unsigned nht;
} walk_t;

/* At the walk's level whose directory is dir[0..len): the .htaccess file
 * there, if the overrides in force let it count. 0 or an HTTP status. */
static int htaccess_at(rl_request_t *r, walk_t *w, const char *dir, size_t len)
{
    const rl_core_dir_t *c = rl_core_dir(rl_dircache_get(r->cf, r->server, w->secs, w->n,
                                                         r->arena));
    unsigned ovr = c->override == RL_UNSET ? 0 : (unsigned)c->override;
    const char *const *list = (const char *const *)c->override_list;
    if ((ovr == 0 && !(list && *list)) || w->n >= MAX_SECTIONS || w->nht >= RL_NELEMS(w->ht))
        return 0;
    int opts = c->override_opts == RL_UNSET ? -1 : c->override_opts;   /* -1: any */
    const rl_htaccess_t *ht;
    int st = rl_htaccess_get(r, rl_arena_strndup(r->arena, dir, len), ovr, list, opts, &ht);
    if (st == 0 && ht) {
        w->secs[w->n++] = ht->dir;
        w->ht[w->nht++] = ht;
    }
    return st;
}

/* Apache's directory walk: the plain <Directory> sections level by level
 * from "/", each level's .htaccess after them where overrides allow it,
 * then the regex sections. 0 or an HTTP status (a .htaccess failed). */
static int walk_dirs(rl_request_t *r, walk_t *w, const char *dir, size_t dlen)
{
    rl_section_t *s = r->server->dirs;
    bool overrides = sets_override(r->server->lookup_defaults);
    size_t len = 1;
    for (unsigned level = 0;; level++) {
        for (; s && s->depth != UINT32_MAX && section_level(s) <= level; s = s->next) {
            if (w->n < MAX_SECTIONS && dir_section_matches(s, dir, dlen)) {
                w->secs[w->n++] = s;
                overrides |= sets_override(s->conf);
            }
        }
        int st = overrides ? htaccess_at(r, w, dir, len) : 0;
        if (st)
            return st;
        if (len >= dlen)
            break;
        const char *slash = strchr(dir + len + (len > 1), '/');
        len = slash ? (size_t)(slash - dir) : dlen;
    }
    for (; s && w->n < MAX_SECTIONS; s = s->next)
        if (dir_section_matches(s, dir, dlen))
            w->secs[w->n++] = s;
    return 0;
}

static void walk_files(rl_request_t *r, walk_t *w, rl_section_t *list, const char *dir,
                       size_t dlen)
{
    const char *base = strrchr(r->filename, '/');
    base = base ? base + 1 : r->filename;
    for (rl_section_t *s = list; s && w->n < MAX_SECTIONS; s = s->next) {
        if (s->within && !dir_section_matches(s->within, dir, dlen))
            continue;
        if (*base && name_matches(s, base))
            w->secs[w->n++] = s;
    }
}

static void walk_ifs(rl_request_t *r, walk_t *w, rl_section_t *list, const char *dir,
                     size_t dlen)
{
    for (rl_section_t *s = list; s && w->n < MAX_SECTIONS; s = s->next) {
        if (s->within && !section_applies(r, s->within, dir, dlen))
            continue;
        for (rl_section_t *x = s; x; x = x->els) {
            if (x->expr == NULL || rl_req_expr(r, x->expr) == 1) {
                w->secs[w->n++] = x;
                break;
            }
        }
    }
}

/* Finds which sections apply (with the .htaccess files along the way) and
 * gets their merge from the cache. 0, or the HTTP status a .htaccess file
 * gave (r->dir is then what was merged before it). */
static int walk_sections(rl_request_t *r)
{
    walk_t w;
    w.n = w.nht = 0;
    const char *dir = r->canonical_dir;
    size_t dlen = strlen(dir);
    /* a proxied request (mod/proxy.c) has <Proxy> sections, no <Directory>/<Files> */
    bool proxied = r->filename && strncmp(r->filename, "proxy:", 6) == 0;
    if (proxied) {
        w.n = rl_proxy_walk(r, w.secs, MAX_SECTIONS);
    } else {
        int st = walk_dirs(r, &w, dir, dlen);
        if (st) {
            r->dir = rl_dircache_get(r->cf, r->server, w.secs, w.n, r->arena);
            return st;
        }
    }
    if (r->filename && !proxied) {
        walk_files(r, &w, r->server->files, dir, dlen);
        for (unsigned i = 0; i < w.nht; i++)
            walk_files(r, &w, w.ht[i]->files, dir, dlen);
    }
    for (rl_section_t *s = r->server->locations; s && w.n < MAX_SECTIONS; s = s->next)
        if (location_matches(s, r->uri))
            w.secs[w.n++] = s;
    walk_ifs(r, &w, r->server->ifs, dir, dlen);
    for (unsigned i = 0; i < w.nht; i++)
        walk_ifs(r, &w, w.ht[i]->ifs, dir, dlen);
    r->dir = rl_dircache_get(r->cf, r->server, w.secs, w.n, r->arena);
    return 0;
}

/* Checks <path>'s components below <root> for symbolic links the options
 * forbid. Returns 0 or 403. */
static int check_symlinks(rl_request_t *r, const char *root, const char *path)
{
    int opts = rl_core_options(r->dir);
    if (opts & RL_OPT_SYM_LINKS)
        return 0;
    size_t rlen = strlen(root);
    char tmp[4096];
    size_t plen = strlen(path);
    if (plen >= sizeof(tmp) || strncmp(path, root, rlen) != 0)
        return 0;
    memcpy(tmp, path, plen + 1);
    for (size_t i = rlen + 1; i <= plen; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char c = tmp[i];
        tmp[i] = '\0';
        struct stat lst, st;
        if (lstat(tmp, &lst) == 0 && S_ISLNK(lst.st_mode)) {
            bool ok = (opts & RL_OPT_SYM_OWNER) && stat(tmp, &st) == 0 && st.st_uid == lst.st_uid;
            if (!ok) {
                rl_req_log(r, RL_LOG_ERR, "core", "AH00037: Symbolic link not allowed or "
                           "link target not accessible: %s", tmp);
                return 403;
            }
        }
        tmp[i] = c;
    }
    return 0;
}

/* Stats the file; when it does not exist, looks for the longest existing
 * prefix that is a regular file (the rest is PATH_INFO), as Apache's
 * directory walk does. */
static void map_file(rl_request_t *r)
{
    if (strncmp(r->filename, "proxy:", 6) == 0) {   /* ProxyPass: no file behind it */
        r->finfo_ok = false;
        r->path_info = NULL;
        r->canonical_dir = "";
        return;
    }
    char *path = rl_arena_strdup(r->arena, r->filename);
    size_t len = strlen(path);
    r->path_info = NULL;
    r->finfo_ok = stat(path, &r->finfo) == 0;
    if (!r->finfo_ok) {
        for (size_t i = len; i > 1; i--) {
            if (path[i - 1] != '/' && i != len)
                continue;
            if (i == len)
                continue;
            char c = path[i - 1];
            path[i - 1] = '\0';
            struct stat st;
            if (stat(path, &st) == 0) {
                if (S_ISREG(st.st_mode)) {
                    r->finfo = st;
                    r->finfo_ok = true;
                    path[i - 1] = c;
                    r->path_info = rl_arena_strdup(r->arena, path + i - 1);
                    path[i - 1] = '\0';
                    r->filename = path;
                } else {
                    path[i - 1] = c;
                }
                break;
            }
            path[i - 1] = c;
        }
    }
    /* the walk's directory: the file's own when it is one, else its parent */
    if (r->finfo_ok && S_ISDIR(r->finfo.st_mode)) {
        size_t n = strlen(r->filename);
        while (n > 1 && r->filename[n - 1] == '/')
            n--;
        r->canonical_dir = rl_arena_strndup(r->arena, r->filename, n);
    } else {
        const char *slash = strrchr(r->filename, '/');
        r->canonical_dir = slash && slash != r->filename
            ? rl_arena_strndup(r->arena, r->filename, (size_t)(slash - r->filename)) : "/";
    }
}

static int translate(rl_request_t *r)
{
    for (rl_module_t **mp = r->cf->active; *mp; mp++) {
        rl_module_t *m = *mp;
        if (!m->translate)
            continue;
        int rc = m->translate(r);
        if (rc != RL_DECLINED)
            return rc;
    }
    const char *root = r->server->document_root;
    if (root == NULL)
        root = "/var/www/html";   /* Debian's compiled-in DocumentRoot */
    r->doc_root = root;
    r->filename = rl_arena_printf(r->arena, "%s%s", strcmp(root, "/") ? root : "", r->uri);
    return RL_OK;
}

typedef int (*hook_cb)(rl_request_t *r);

/* Runs one hook of every loaded module: RL_OK/RL_DECLINED go on, anything
 * else stops (a status or RL_DONE). With <first>, the first RL_OK stops too. */
static int run_hook(rl_request_t *r, size_t off, bool first)
{
    for (rl_module_t **mp = r->cf->active; *mp; mp++) {
        hook_cb h = *(hook_cb *)((char *)*mp + off);
        if (!h)
            continue;
        int rc = h(r);
        if (rc == RL_OK && first)
            return RL_OK;
        if (rc != RL_OK && rc != RL_DECLINED)
            return rc;
    }
    return RL_DECLINED;
}

static int run_phases(rl_request_t *r)
{
    int rc = translate(r);
    if (rc != RL_OK)
        return rc;
    map_file(r);
    if ((rc = walk_sections(r)))
        return rc;
    /* LimitRequestBody is per directory: known now, checked before any
     * handler could start reading the body */
    int64_t limit = rl_core_limit_body(r->dir);
    if (!r->chunked && limit > 0 && r->content_length > (uint64_t)limit) {
        rl_req_log(r, RL_LOG_ERR, "core", "AH00130: Requested content-length of %llu is "
                   "larger than the configured limit of %lld",
                   (unsigned long long)r->content_length, (long long)limit);
        return 413;
    }
    if ((rc = check_symlinks(r, r->doc_root ? r->doc_root : "/", r->filename)))
        return rc;
    if ((rc = run_hook(r, offsetof(rl_module_t, header_parser), false)) != RL_DECLINED)
        return rc;
    if ((rc = run_hook(r, offsetof(rl_module_t, access), false)) != RL_DECLINED)
        return rc;
    if ((rc = run_hook(r, offsetof(rl_module_t, type), true)) > RL_OK || rc == RL_DONE)
        return rc;
    if ((rc = run_hook(r, offsetof(rl_module_t, fixups), false)) != RL_DECLINED)
        return rc;
    rc = run_hook(r, offsetof(rl_module_t, handler), true);
    if (rc == RL_DECLINED)
        rc = rl_static_handler(r);
    return rc;
}

static void finish_phases(rl_request_t *r, int rc)
{
    if (rc >= 100 && !r->handler_done)
        rl_req_error(r, rc);
    else if (rc >= 100 && rc != r->status)
        rl_req_error(r, rc);
}

/* ---- internal redirects ---- */

/* What a restarted request starts from (Apache's new request_rec): the
 * mapping of the old URI is forgotten, the per-directory configuration is
 * the server's again. */
static void restart(rl_request_t *r, const char *path)
{
    r->uri = path;
    r->filename = r->path_info = r->script_name = r->canonical_dir = NULL;
    r->finfo_ok = false;
    r->handler = r->content_type = NULL;
    r->doc_root = r->context_prefix = r->context_root = NULL;
    r->handler_done = false;
    r->dir = r->server->lookup_defaults;
    body_reset(r);
}

/* Apache's rename_original_env: the new environment is the old one with
 * every name prefixed "REDIRECT_", then REDIRECT_STATUS, the old status.
 * Apache adds REDIRECT_URL and REDIRECT_QUERY_STRING (the previous URI and
 * query) when it builds a CGI environment (ap_add_common_vars, from
 * r->prev); relais sets them here at once, so the pair of an earlier
 * redirect is carried over only when a CGI environment was built since
 * (GATEWAY_INTERFACE is there: ap_add_cgi_vars). */
static void rename_env(rl_request_t *r, const char *prev_uri, const char *prev_args)
{
    rl_hdrs_t env = { 0 };
    bool cgi = rl_hdrs_get(&r->env, "GATEWAY_INTERFACE") != NULL;
    for (rl_hdr_t *e = r->env.head; e; e = e->next) {
        if (!cgi && (strcmp(e->name, "REDIRECT_URL") == 0 ||
                     strcmp(e->name, "REDIRECT_QUERY_STRING") == 0))
            continue;
        rl_hdrs_set(r->arena, &env, rl_arena_printf(r->arena, "REDIRECT_%s", e->name), e->value);
    }
    rl_hdrs_set(r->arena, &env, "REDIRECT_STATUS", rl_arena_printf(r->arena, "%d", r->status));
    if (prev_args)
        rl_hdrs_set(r->arena, &env, "REDIRECT_QUERY_STRING", prev_args);
    rl_hdrs_set(r->arena, &env, "REDIRECT_URL", prev_uri);
    r->env = env;
}

static int too_many_redirects(rl_request_t *r)
{
    rl_req_log(r, RL_LOG_ERR, "core", "AH00124: Request exceeded the limit of %d internal "
               "redirects due to probable configuration error.", MAX_REDIRECTS);
    r->in_error_redirect = true;
    return rl_req_error(r, 500);
}

/* Runs the phases of the restarted request (unless <rc> already refused
 * its URI) and leaves its response in <r>. An ErrorDocument keeps the
 * status it answers for, or gets the built-in page of that status when it
 * fails itself. */
static int rerun(rl_request_t *r, int rc, bool is_error)
{
    if (rc == RL_OK)
        rc = run_hook(r, offsetof(rl_module_t, post_read), false);
    if (rc == RL_DECLINED)
        rc = run_phases(r);
    if (is_error && rc >= 100) {
        r->status = r->original_status;
        body_reset(r);
        const char *body = rl_http_error_page(r, r->original_status);
        r->content_type = "text/html; charset=iso-8859-1";
        rl_req_body_mem(r, body, strlen(body));
        r->body_len = strlen(body);
    } else if (is_error) {
        r->status = r->original_status;
    } else {
        finish_phases(r, rc);
    }
    r->handler_done = true;
    return RL_DONE;
}

/* The decoded, normalised path of the local URL <uri> up to <len> bytes
 * (arena string), or NULL with *<status> set to 400 or 404. */
static char *redirect_path(rl_request_t *r, const char *uri, size_t len, int *status)
{
    char *path = rl_arena_alloc(r->arena, RL_URI_NORMALIZE_SIZE(len) + 1);
    ssize_t n = len && uri[0] == '/' ? rl_uri_normalize(uri, len, path, false) : -400;
    if (n < 0) {
        *status = (int)-n;
        return NULL;
    }
    path[n] = '\0';
    return path;
}

/* A copy of <r> for <uri> whose changes do not reach <r> (the lists it
 * owns start empty): Apache's sub-request, for a lookup. */
static void sub_request(rl_request_t *sub, const rl_request_t *r, const char *uri)
{
    *sub = *r;
    sub->out = sub->err_out = sub->notes = sub->env = (rl_hdrs_t){ 0 };
    restart(sub, uri);
}

const char *rl_req_lookup_file(rl_request_t *r, const char *uri)
{
    rl_request_t sub;
    sub_request(&sub, r, uri);
    if (translate(&sub) != RL_OK || sub.filename == NULL)
        return NULL;
    map_file(&sub);
    return rl_arena_printf(r->arena, "%s%s", sub.filename, sub.path_info ? sub.path_info : "");
}

int rl_req_internal_redirect(rl_request_t *r, const char *uri, bool is_error)
{
    if (++r->redirects > MAX_REDIRECTS)
        return too_many_redirects(r);
    const char *q = strchr(uri, '?');
    size_t len = q ? (size_t)(q - uri) : strlen(uri);
    int rc = RL_OK;
    char *path = redirect_path(r, uri, len, &rc);
    rename_env(r, r->uri, r->args);
    r->args = q ? rl_arena_strdup(r->arena, q + 1) : NULL;
    r->out.head = r->out.tail = NULL;
    r->notes.head = r->notes.tail = NULL;
    restart(r, path ? path : rl_arena_strndup(r->arena, uri, len));
    if (!is_error)
        r->status = 200;
    return rerun(r, rc, is_error);
}

int rl_req_fast_redirect(rl_request_t *r, const char *uri)
{
    if (++r->redirects > MAX_REDIRECTS)
        return too_many_redirects(r);
    const char *q = strchr(uri, '?');
    if (q)
        r->args = rl_arena_strdup(r->arena, q + 1);
    restart(r, rl_arena_strndup(r->arena, uri, q ? (size_t)(q - uri) : strlen(uri)));
    r->status = 200;
    int rc = run_phases(r);
    finish_phases(r, rc);
    r->handler_done = true;
    return RL_DONE;
}

void rl_req_process(rl_request_t *r)
{
    body_reset(r);
    r->status = 200;
    r->dir = r->server->lookup_defaults;
    int rc = run_hook(r, offsetof(rl_module_t, post_read), false);
    if (rc == RL_DECLINED)
        rc = run_phases(r);
    finish_phases(r, rc);
}
