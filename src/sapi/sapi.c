/* relais' PHP SAPI: PHP 8.2 (Debian's libphp8.2) in relais-fpm's children.
 *
 * It behaves as php-fpm's fpm_main.c between the FastCGI params and the
 * END_REQUEST, so that a script cannot tell the two apart: the name
 * "fpm-fcgi", the "cgi-fcgi" module (fastcgi_finish_request(),
 * apache_request_headers(), cgi.* and fastcgi.* ini entries), $_SERVER
 * built from the process environment then the params (last param first,
 * as php-fpm's hash lists them), cgi.fix_pathinfo's rewriting of
 * SCRIPT_FILENAME / PATH_INFO / PATH_TRANSLATED / SCRIPT_NAME, .user.ini
 * files, the error pages and the "Status:" line.
 *
 * The params live in a small table (request_t.params) that the path fixes
 * edit as php-fpm edits its fcgi hash: a value replaced keeps its place, a
 * value removed is marked deleted, old values stay valid until the next
 * request (they come from one arena, reset per request).
 *
 * PHP's state is global, one request at a time: <cur> is the request being
 * run, NULL outside rl_sapi_run() (output then goes to stdout, logs to
 * stderr: -i, -m, start-up errors). */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <fcntl.h>
#include <unistd.h>

#include "php.h"
#include "php_globals.h"
#include "php_ini.h"
#include "php_ini_builder.h"
#include "php_main.h"
#include "php_variables.h"
#include "php_output.h"
#include "SAPI.h"
#include "fopen_wrappers.h"
#include "http_status_codes.h"
#include "zend_exceptions.h"
#include "zend_extensions.h"
#include "zend_ini.h"
#include "zend_ini_scanner.h"
#include "zend_smart_str.h"
#include "ext/standard/dl.h"
#include "ext/standard/head.h"
#include "ext/standard/info.h"
#include "ext/standard/url.h"

#include "core/arena.h"
#include "sapi/sapi.h"

/* Where Debian's php-fpm reads its php.ini and conf.d (the library's own
 * defaults are /etc/php/8.2/embed). */
#ifndef RL_SAPI_FPM_INI_DIR
#define RL_SAPI_FPM_INI_DIR "/etc/php/8.2/fpm"
#endif

#define MAX_HEADER_LINE 1024

/* php-fpm's FastCGI output buffer (fcgi_request.out_buf) less a record
 * header: what a script may still print after fastcgi_finish_request()
 * before the write that would flush it fails and aborts the script */
#define FINISHED_SLACK (8192 - 8)

typedef struct {
    char *name;
    char *val;              /* NULL: deleted */
    uint32_t hash;
    int next;               /* the next param of the same bucket, -1: none */
} param_t;

typedef struct {
    const rl_sapi_io_t *io;
    const char *const *limit_ext;
    param_t *params;
    size_t nparams;
    int body_fd;            /* REQUEST_BODY_FILE: -1 not opened, -2 none */
    int status;             /* the status sent, 0 before the headers */
    bool finished;          /* fastcgi_finish_request() */
    size_t after_finish;    /* output bytes dropped since */
    bool aborted;           /* io->write failed */
} request_t;

/* php-fpm's cgi-fcgi module globals (ini entries) */
typedef struct {
    bool rfc2616_headers;
    bool nph;
    bool fix_pathinfo;
    bool discard_path;
    bool fcgi_script_path_encoded;
    bool force_redirect;       /* listed as php-fpm lists them; unused */
    char *redirect_status_env;
    bool fcgi_logging;
    char *error_header;
    char *fpm_config;
    HashTable user_config_cache;
} cgi_globals_t;

typedef struct {
    time_t expires;
    HashTable *config;
} user_config_t;

static cgi_globals_t cgi_globals;
static request_t *cur;
static rl_arena_t *arena;
static param_t *params_buf;
static size_t params_cap;
static char *cmdline_ini;
static bool started;
static void (*orig_import_env)(zval *array_ptr);

/* --- AddressSanitizer ------------------------------------------------------- */

#ifdef __SANITIZE_ADDRESS__
#include <dlfcn.h>
/* PHP loads extensions (opcache, conf.d's) with dlopen(RTLD_DEEPBIND),
 * which ASan's runtime refuses (google/sanitizers#611). Under ASan only,
 * this dlopen() shadows libc's for libphp and drops the flag, as PHP's own
 * sanitizer builds do. */
void *dlopen(const char *file, int mode);
void *dlopen(const char *file, int mode)
{
    static void *(*next)(const char *, int);
    if (!next)
        next = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
    return next(file, mode & ~RTLD_DEEPBIND);
}
#endif

/* --- the params table ---------------------------------------------------- */

/* A name appears once: a later value replaces an earlier one, as in
 * php-fpm's fcgi_hash. Looked up through PARAM_BUCKETS chains (php-fpm
 * hashes too), which keeps a request's ~40 params from costing ~800
 * strcmp()s. */
#define PARAM_BUCKETS 128
static int param_heads[PARAM_BUCKETS];

static uint32_t param_hash(const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * 16777619u;
    return h;
}

static param_t *param_find(request_t *r, const char *name, uint32_t h)
{
    for (int i = param_heads[h % PARAM_BUCKETS]; i >= 0; i = r->params[i].next)
        if (r->params[i].hash == h && strcmp(r->params[i].name, name) == 0)
            return &r->params[i];
    return NULL;
}

static char *param_get(request_t *r, const char *name)
{
    param_t *p = param_find(r, name, param_hash(name));
    return p ? p->val : NULL;
}

/* Sets <name> to <val> (in place when it exists), or deletes it when <val>
 * is NULL. With <copy>, stores copies in the request's arena; else the
 * caller's strings, which must live as long as the request. Returns the
 * value stored, or NULL. A value replaced stays readable until the request
 * ends. */
static char *param_set(request_t *r, const char *name, const char *val, bool copy)
{
    uint32_t h = param_hash(name);
    param_t *p = param_find(r, name, h);
    char *v = val && copy ? rl_arena_strdup(arena, val) : (char *)val;
    if (p) {
        p->val = v;
        return v;
    }
    if (!val)
        return NULL;
    if (r->nparams == params_cap) {
        size_t cap = params_cap ? params_cap * 2 : 64;
        param_t *np = realloc(params_buf, cap * sizeof(*np));
        if (!np)
            abort();
        params_buf = np;
        params_cap = cap;
        r->params = np;
    }
    p = &r->params[r->nparams];
    p->name = copy ? rl_arena_strdup(arena, name) : (char *)name;
    p->val = v;
    p->hash = h;
    p->next = param_heads[h % PARAM_BUCKETS];
    param_heads[h % PARAM_BUCKETS] = (int)r->nparams++;
    return v;
}

static char *param_put(request_t *r, const char *name, const char *val)
{
    return param_set(r, name, val, true);
}

/* The caller's params are NUL-terminated copies that live as long as the
 * request (rl_sapi_request_t): they are used as they are. */
static void params_load(request_t *r, const rl_sapi_request_t *req)
{
    r->params = params_buf;
    r->nparams = 0;
    for (size_t i = 0; i < PARAM_BUCKETS; i++)
        param_heads[i] = -1;
    param_set(r, "FCGI_ROLE", "RESPONDER", false);
    for (size_t i = 0; i < req->nparams; i++)
        param_set(r, req->names[i], req->values[i], false);
}

/* --- logging --------------------------------------------------------------- */

static void log_line(int level, bool own, const char *line)
{
    if (cur && cur->io) {
        const rl_sapi_io_t *io = cur->io;
        if (own && io->log_own)
            io->log_own(io->ctx, level, line, strlen(line));
        else if (io->log)
            io->log(io->ctx, level, line, strlen(line));
        return;
    }
    fprintf(stderr, "%s\n", line);
}

static void log_own(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_own(int level, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_line(level, true, buf);
}

/* PHP's messages when error_log is unset: php-fpm logs them at NOTICE */
static void sapi_log_message(const char *message, int syslog_type)
{
    (void)syslog_type;
    log_line(LOG_NOTICE, false, message);
}

/* --- output ---------------------------------------------------------------- */

static bool out_write(const char *data, size_t len)
{
    if (cur->aborted || cur->finished)
        return false;
    if (len && cur->io->write(cur->io->ctx, data, len) < 0) {
        cur->aborted = true;
        return false;
    }
    return true;
}

static size_t sapi_ub_write(const char *str, size_t len)
{
    if (!cur)
        return fwrite(str, 1, len, stdout);
    if (cur->finished && !cur->aborted && cur->after_finish + len < FINISHED_SLACK) {
        cur->after_finish += len;
        return len;
    }
    if (!out_write(str, len)) {
        /* the client is gone, or the response was finished: as php-fpm,
         * the script stops here unless ignore_user_abort */
        php_handle_aborted_connection();
        return 0;
    }
    return len;
}

static void sapi_flush_cb(void *server_context)
{
    (void)server_context;
    if (!cur) {
        if (fflush(stdout) == EOF)
            php_handle_aborted_connection();
        return;
    }
    if (cur->finished)
        return;
    sapi_send_headers();
    if (cur->aborted || (cur->io->flush && cur->io->flush(cur->io->ctx) < 0)) {
        cur->aborted = true;
        php_handle_aborted_connection();
    }
}

static bool is_status_header(const sapi_header_struct *h)
{
    return h->header_len > sizeof("Status:") - 1
        && strncasecmp(h->header, "Status:", sizeof("Status:") - 1) == 0;
}

static const char *status_reason(int code)
{
    for (const http_response_status_code_pair *p = http_status_map; p->code; p++) {
        if (p->code == code)
            return p->str;
    }
    return NULL;
}

/* The "Status:" line php-fpm writes, into <out>; returns false when a
 * "Status:" header of the script's stands for it. Sets *<status>. */
static bool status_line(sapi_headers_struct *hs, smart_str *out, int *status)
{
    const char *line = hs->http_status_line;
    const char *sp = line ? strchr(line, ' ') : NULL;
    char buf[MAX_HEADER_LINE];
    int n;

    if (cgi_globals.rfc2616_headers && line) {
        n = snprintf(buf, sizeof(buf), "%s", line);
        if (sp)
            *status = atoi(sp + 1);
    } else if (sp && sp - line >= 5 && strncasecmp(line, "HTTP/", 5) == 0) {
        n = snprintf(buf, sizeof(buf), "Status:%s", sp);
        *status = atoi(sp + 1);
    } else {
        zend_llist_position pos;
        for (sapi_header_struct *h = zend_llist_get_first_ex(&hs->headers, &pos); h;
             h = zend_llist_get_next_ex(&hs->headers, &pos)) {
            if (is_status_header(h))
                return false;
        }
        const char *reason = status_reason(hs->http_response_code);
        if (reason)
            n = snprintf(buf, sizeof(buf), "Status: %d %s", hs->http_response_code, reason);
        else
            n = snprintf(buf, sizeof(buf), "Status: %d", hs->http_response_code);
    }
    if (n < 0)
        n = 0;
    smart_str_appendl(out, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
    smart_str_appendl(out, "\r\n", 2);
    return true;
}

/* The header string of the Content-type PHP adds by default (the request's
 * sapi_send_headers()), to tell it from those the script set. */
static const char *default_content_type;

/* Headers are added as PHP adds them; this only notes which one is PHP's
 * default Content-type: added while send_default_content_type is still
 * on, with the default mimetype (a script's header('Content-type: ...')
 * turns the flag off first). */
static int sapi_header_handler_cb(sapi_header_struct *h, sapi_header_op_enum op,
                                  sapi_headers_struct *hs)
{
    static const char ct[] = "Content-type: ";
    if (op == SAPI_HEADER_ADD && hs->send_default_content_type && hs->mimetype &&
        h->header_len > sizeof(ct) - 1 && strncmp(h->header, ct, sizeof(ct) - 1) == 0 &&
        strcmp(h->header + sizeof(ct) - 1, hs->mimetype) == 0)
        default_content_type = h->header;
    return SAPI_HEADER_ADD;
}

/* The CGI header block, as php-fpm's sapi_cgi_send_headers() writes it */
static int sapi_send_headers_cb(sapi_headers_struct *hs)
{
    smart_str out = {0};
    bool ignore_status = false;
    int status = hs->http_response_code;
    zend_llist_position pos;

    if (SG(request_info).no_headers == 1 || !cur)
        return SAPI_HEADER_SENT_SUCCESSFULLY;
    if (cgi_globals.nph || hs->http_response_code != 200)
        ignore_status = status_line(hs, &out, &status);
    for (sapi_header_struct *h = zend_llist_get_first_ex(&hs->headers, &pos); h;
         h = zend_llist_get_next_ex(&hs->headers, &pos)) {
        if (!h->header_len)
            continue;
        if (is_status_header(h)) {
            if (ignore_status)
                continue;
            ignore_status = true;
            status = atoi(h->header + sizeof("Status:") - 1);
        } else if (status == 304 && h->header_len > sizeof("Content-Type:") - 1
                   && strncasecmp(h->header, "Content-Type:", sizeof("Content-Type:") - 1) == 0) {
            continue;
        }
        smart_str_appendl(&out, h->header, h->header_len);
        smart_str_appendl(&out, "\r\n", 2);
        if (cur->io->header && !is_status_header(h) && h->header != default_content_type)
            cur->io->header(cur->io->ctx, h->header, h->header_len);
    }
    smart_str_appendl(&out, "\r\n", 2);
    cur->status = status;
    out_write(ZSTR_VAL(out.s), ZSTR_LEN(out.s));
    smart_str_free(&out);
    return SAPI_HEADER_SENT_SUCCESSFULLY;
}

/* --- input ----------------------------------------------------------------- */

static ssize_t body_read(char *buf, size_t len)
{
    if (cur->body_fd == -1) {
        const char *file = param_get(cur, "REQUEST_BODY_FILE");
        cur->body_fd = -2;
        if (file && *file) {
            cur->body_fd = open(file, O_RDONLY | O_CLOEXEC);
            if (cur->body_fd < 0) {
                php_error(E_WARNING, "REQUEST_BODY_FILE: open('%s') failed: %s (%d)",
                          file, strerror(errno), errno);
                cur->body_fd = -3;
                return 0;
            }
        }
    }
    if (cur->body_fd == -3)
        return 0;
    if (cur->body_fd >= 0)
        return read(cur->body_fd, buf, len);
    return cur->io->read_body ? cur->io->read_body(cur->io->ctx, buf, len) : 0;
}

static size_t sapi_read_post(char *buf, size_t count)
{
    size_t done = 0;
    size_t remaining;

    if (!cur || SG(request_info).content_length < 0)
        return 0;
    remaining = (size_t)SG(request_info).content_length - SG(read_post_bytes);
    if (remaining < count)
        count = remaining;
    while (done < count) {
        ssize_t n = body_read(buf + done, count - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    return done;
}

static char *sapi_read_cookies(void)
{
    return cur ? param_get(cur, "HTTP_COOKIE") : NULL;
}

static char *sapi_getenv_cb(const char *name, size_t name_len)
{
    char key[256];

    if (name[name_len] != '\0') {
        if (name_len >= sizeof(key))
            return NULL;
        memcpy(key, name, name_len);
        key[name_len] = '\0';
        name = key;
    }
    return cur ? param_get(cur, name) : getenv(name);
}

/* --- $_SERVER and $_ENV ----------------------------------------------------- */

/* The params in php-fpm's order: the last inserted first */
static void params_register(zval *array, bool filter)
{
    int arg = Z_ARR_P(array) == Z_ARR(PG(http_globals)[TRACK_VARS_ENV]) ? PARSE_ENV : PARSE_SERVER;

    if (!cur)
        return;
    for (size_t i = cur->nparams; i-- > 0;) {
        char *val = cur->params[i].val;
        size_t new_len = val ? strlen(val) : 0;
        if (!val)
            continue;
        if (!filter || sapi_module.input_filter(arg, cur->params[i].name, &val, new_len, &new_len))
            php_register_variable_safe(cur->params[i].name, val, new_len, array);
    }
}

static bool dup_filled(zval *array, zval *from)
{
    if (Z_TYPE_P(from) != IS_ARRAY || Z_ARR_P(array) == Z_ARR_P(from)
        || zend_hash_num_elements(Z_ARRVAL_P(from)) == 0)
        return false;
    zend_array_destroy(Z_ARR_P(array));
    Z_ARR_P(array) = zend_array_dup(Z_ARR_P(from));
    return true;
}

/* php_import_environment_variables as php-fpm: the process environment
 * then the params, or a copy of $_ENV / $_SERVER once one is built */
static void import_env(zval *array)
{
    if (dup_filled(array, &PG(http_globals)[TRACK_VARS_ENV])
        || dup_filled(array, &PG(http_globals)[TRACK_VARS_SERVER]))
        return;
    orig_import_env(array);
    params_register(array, true);
}

/* php_load_environment_variables (getenv() with no argument) */
static void load_env(zval *array)
{
    orig_import_env(array);
    params_register(array, false);
}

static void sapi_register_variables(zval *array)
{
    const char *uri = SG(request_info).request_uri;
    size_t len;
    char *self;

    php_import_environment_variables(array);
    if (cgi_globals.fix_pathinfo) {
        const char *pi = sapi_getenv_cb("PATH_INFO", sizeof("PATH_INFO") - 1);
        size_t ulen = uri ? strlen(uri) : 0, plen = pi ? strlen(pi) : 0;
        len = ulen + plen;
        self = emalloc(len + 1);
        memcpy(self, uri ? uri : "", ulen);
        memcpy(self + ulen, pi ? pi : "", plen);
        self[len] = '\0';
    } else {
        self = estrdup(uri ? uri : "");
        len = strlen(self);
    }
    char *val = self;
    if (sapi_module.input_filter(PARSE_SERVER, "PHP_SELF", &val, len, &len))
        php_register_variable_safe("PHP_SELF", val, len, array);
    efree(self);
}

/* --- per-directory and user ini (.user.ini) ------------------------------- */

static void user_config_dtor(zval *zv)
{
    user_config_t *e = Z_PTR_P(zv);
    zend_hash_destroy(e->config);
    free(e->config);
    free(e);
}

/* Parses the user ini files from <doc_root> down to <path> (a directory
 * with its trailing slash), or <path> alone when it is outside. */
static void user_config_scan(char *path, size_t path_len, const char *doc_root,
                             size_t doc_root_len, HashTable *into)
{
    char *root = estrndup(doc_root, doc_root_len);
    char *s1 = root, *s2 = path, *p;
    size_t n = doc_root_len;

    if (path_len <= doc_root_len) {
        s1 = path;
        s2 = root;
        n = path_len;
    }
    if (strncmp(s1, s2, n) == 0) {
        p = s2 + doc_root_len;
        while ((p = strchr(p, '/')) != NULL) {
            *p = '\0';
            php_parse_user_ini_file(path, PG(user_ini_filename), into);
            *p = '/';
            p++;
        }
    } else {
        php_parse_user_ini_file(path, PG(user_ini_filename), into);
    }
    efree(root);
}

static void user_config_activate(char *path, size_t path_len, const char *doc_root,
                                 size_t doc_root_len)
{
    time_t now = (time_t)sapi_get_request_time();
    user_config_t *e = zend_hash_str_find_ptr(&cgi_globals.user_config_cache, path, path_len);

    if (!e) {
        e = calloc(1, sizeof(*e));
        e->config = malloc(sizeof(HashTable));
        if (!e->config)
            abort();
        zend_hash_init(e->config, 0, NULL, config_zval_dtor, 1);
        zend_hash_str_update_ptr(&cgi_globals.user_config_cache, path, path_len, e);
    }
    if (now > e->expires) {
        zend_hash_clean(e->config);
        user_config_scan(path, path_len, doc_root, doc_root_len, e->config);
        e->expires = now + PG(user_ini_cache_ttl);
    }
    php_ini_activate_config(e->config, PHP_INI_PERDIR, PHP_INI_STAGE_HTACCESS);
}

static void host_config_activate(void)
{
    const char *name = param_get(cur, "SERVER_NAME");
    if (!name)
        return;
    size_t len = strlen(name);
    char *lower = estrndup(name, len);
    zend_str_tolower(lower, len);
    php_ini_activate_per_host_config(lower, len);
    efree(lower);
}

/* sapi activate: [HOST=] and [PATH=] sections of php.ini, .user.ini files */
static int sapi_activate_cb(void)
{
    const char *pt = SG(request_info).path_translated;

    if (!cur || !pt)
        return FAILURE;
    if (php_ini_has_per_host_config())
        host_config_activate();
    if (!php_ini_has_per_dir_config() && !(PG(user_ini_filename) && *PG(user_ini_filename)))
        return SUCCESS;

    size_t len = strlen(pt);
    char *path = emalloc(len + 2);
    memcpy(path, pt, len + 1);
    len = zend_dirname(path, len);
    path[len++] = '/';
    path[len] = '\0';
    php_ini_activate_per_dir_config(path, len);
    if (PG(user_ini_filename) && *PG(user_ini_filename)) {
        const char *root = param_get(cur, "DOCUMENT_ROOT");
        if (root) {
            size_t rlen = strlen(root);
            if (rlen && root[rlen - 1] == '/')
                rlen--;
            user_config_activate(path, len, root, rlen);
        }
    }
    efree(path);
    return SUCCESS;
}

/* --- php_value and php_admin_value ------------------------------------------ */

/* Sets the master value of an ini entry and who may change it afterwards,
 * as php-fpm's fpm_php_zend_ini_alter_master(). FAILURE: no such entry. */
static int ini_alter_master(const char *name, const char *value, int mode)
{
    zend_ini_entry *ini = zend_hash_str_find_ptr(EG(ini_directives), name, strlen(name));
    zend_string *val;

    if (!ini)
        return FAILURE;
    val = zend_string_init(value, strlen(value), 1);
    if (!ini->on_modify
        || ini->on_modify(ini, val, ini->mh_arg1, ini->mh_arg2, ini->mh_arg3,
                          PHP_INI_STAGE_ACTIVATE) == SUCCESS) {
        if (ini->value && !ini->modified)
            zend_string_release_ex(ini->value, 1);
        ini->value = val;
        ini->modifiable = mode;
    } else {
        zend_string_release_ex(val, 1);
    }
    return SUCCESS;
}

static void disable_classes(const char *list)
{
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, " ,");
        if (n)
            zend_disable_class(p, n);
        p += n;
        p += strspn(p, " ,");
    }
}

/* php-fpm's fpm_php_apply_defines_ex(): -1 when PHP knows no such entry */
static int apply_define(const char *name, const char *value, int mode)
{
    if (strcmp(name, "extension") == 0 && *value) {
        zval zv;
        php_dl(value, MODULE_PERSISTENT, &zv, 1);
        return Z_TYPE(zv) == IS_TRUE;
    }
    if (ini_alter_master(name, value, mode) == FAILURE)
        return -1;
    if (strcmp(name, "disable_functions") == 0 && *value)
        zend_disable_functions(value);
    else if (strcmp(name, "disable_classes") == 0 && *value)
        disable_classes(value);
    return 1;
}

/* zend_parse_ini_string() callback for the PHP_VALUE / PHP_ADMIN_VALUE params */
static void fastcgi_ini_parser(zval *key, zval *val, zval *unused, int type, void *arg)
{
    const int *mode = arg;
    (void)unused;

    if (!mode || !key)
        return;
    if (type != ZEND_INI_PARSER_ENTRY) {
        log_own(LOG_ERR, "Passing INI directive through FastCGI: only classic entries are allowed");
        return;
    }
    if (Z_STRLEN_P(key) == 0) {
        log_own(LOG_ERR, "Passing INI directive through FastCGI: empty key");
        return;
    }
    if (!val) {
        log_own(LOG_ERR, "Passing INI directive through FastCGI: empty value for key '%s'",
                Z_STRVAL_P(key));
        return;
    }
    if (apply_define(Z_STRVAL_P(key), Z_STRVAL_P(val), *mode) == -1)
        log_own(LOG_ERR, "Passing INI directive through FastCGI: unable to set '%s'",
                Z_STRVAL_P(key));
}

static void params_ini(const char *param, int mode)
{
    const char *ini = param_get(cur, param);
    if (!ini)
        return;
    char *tmp;
    spprintf(&tmp, 0, "%s\n", ini);
    zend_parse_ini_string(tmp, 1, ZEND_INI_SCANNER_NORMAL, fastcgi_ini_parser, &mode);
    efree(tmp);
}

int rl_sapi_pool_ini(const rl_sapi_pool_value_t *values, char *err, size_t errlen)
{
    size_t used = 0;
    int rc = 0;

    if (errlen)
        err[0] = '\0';
    /* php-fpm applies every php_value first, then the php_admin_values */
    for (int admin = 0; admin < 2; admin++) {
        for (const rl_sapi_pool_value_t *v = values; v; v = v->next) {
            if (v->admin != (admin == 1) || !v->name || !v->value)
                continue;
            if (apply_define(v->name, v->value, admin ? ZEND_INI_SYSTEM : ZEND_INI_USER) != -1)
                continue;
            rc = -1;
            if (used < errlen) {
                int n = snprintf(err + used, errlen - used, "%sUnable to set %s '%s'",
                                 used ? "\n" : "", admin ? "php_admin_value" : "php_value",
                                 v->name);
                used += n > 0 ? (size_t)n : 0;
            }
        }
    }
    return rc;
}

/* --- request info: cgi.fix_pathinfo ---------------------------------------- */

/* The params init_request_info() reads and rewrites */
typedef struct {
    char *script;               /* script_path_translated */
    char *path_info;
    char *script_name;
    char *path_translated;
    char *redirect_url;
    char *document_root;
    char *orig_path_info;
    char *orig_script_name;
    char *orig_script_filename;
    char *orig_path_translated;
    bool apache_was_here;
} paths_t;

/* "proxy:fcgi://host:port/path?query" (mod_proxy_fcgi) or
 * "proxy:balancer://..." becomes "/path", in place */
static bool strip_proxy_prefix(char *filename, const char *prefix)
{
    size_t plen = strlen(prefix);
    bool stripped = false;
    char *p;

    if (!filename || strncasecmp(filename, prefix, plen) != 0)
        return false;
    for (p = filename + plen; *p && *p != '/'; p++)
        ;
    if (*p) {
        memmove(filename, p, strlen(p) + 1);
        stripped = true;
    }
    p = strchr(filename, '?');
    if (p)
        *p = '\0';
    return stripped;
}

/* PATH_INFO came after a regular file at <pt>: rewrite PATH_INFO,
 * SCRIPT_NAME, SCRIPT_FILENAME and PATH_TRANSLATED around it */
static void found_script_path_info(paths_t *p, char *pt, size_t len)
{
    size_t ptlen = strlen(pt), slen = len - ptlen;
    size_t pilen = p->path_info ? strlen(p->path_info) : 0;
    char *path_info;
    bool tflag;

    if (p->apache_was_here) {
        path_info = p->script + ptlen;
        tflag = slen != 0 && (!p->orig_path_info || strcmp(p->orig_path_info, path_info) != 0);
    } else {
        path_info = (p->path_info && pilen > slen) ? p->path_info + pilen - slen : NULL;
        tflag = path_info && p->orig_path_info != path_info;
    }
    if (tflag) {
        char *decoded = NULL;
        if (p->orig_path_info) {
            char old;
            param_put(cur, "ORIG_PATH_INFO", p->orig_path_info);
            old = path_info[0];
            path_info[0] = '\0';
            if (!p->orig_script_name || strcmp(p->orig_script_name, p->path_info) != 0) {
                if (p->orig_script_name)
                    param_put(cur, "ORIG_SCRIPT_NAME", p->orig_script_name);
                SG(request_info).request_uri = param_put(cur, "SCRIPT_NAME", p->path_info);
            } else {
                SG(request_info).request_uri = p->orig_script_name;
            }
            path_info[0] = old;
        } else if (p->apache_was_here && p->script_name) {
            /* ProxyPass: PATH_INFO is also at the end of SCRIPT_NAME */
            size_t dlen = 0, snlen = strlen(p->script_name), start = 0;
            if (cgi_globals.fcgi_script_path_encoded && strchr(path_info, '%')) {
                decoded = rl_arena_strdup(arena, path_info);
                dlen = php_raw_url_decode(decoded, strlen(path_info));
            }
            if ((snlen > slen && strcmp(p->script_name + (start = snlen - slen), path_info) == 0)
                || (decoded && snlen > dlen
                    && strcmp(p->script_name + (start = snlen - dlen), decoded) == 0)) {
                param_put(cur, "ORIG_SCRIPT_NAME", p->orig_script_name);
                p->script_name[start] = '\0';
                SG(request_info).request_uri = param_put(cur, "SCRIPT_NAME", p->script_name);
            }
        }
        p->path_info = param_put(cur, "PATH_INFO", decoded ? decoded : path_info);
    }
    if (!p->orig_script_filename || strcmp(p->orig_script_filename, pt) != 0) {
        if (p->orig_script_filename)
            param_put(cur, "ORIG_SCRIPT_FILENAME", p->orig_script_filename);
        p->script = param_put(cur, "SCRIPT_FILENAME", pt);
    }
}

/* PATH_TRANSLATED = DOCUMENT_ROOT + PATH_INFO, or, without a document
 * root, the script's path minus SCRIPT_NAME + PATH_INFO */
static void found_script_path_translated(paths_t *p, const char *pt)
{
    size_t base;
    const char *from;

    if (p->document_root) {
        base = strlen(p->document_root);
        if (base && p->document_root[base - 1] == '/')
            base--;
        from = p->document_root;
    } else if (p->script_name && strstr(pt, p->script_name)) {
        base = strlen(pt) - strlen(p->script_name);
        from = pt;
    } else {
        return;
    }
    char *t = rl_arena_printf(arena, "%.*s%s", (int)base, from, p->path_info ? p->path_info : "");
    if (p->orig_path_translated)
        param_put(cur, "ORIG_PATH_TRANSLATED", p->orig_path_translated);
    p->path_translated = param_put(cur, "PATH_TRANSLATED", t);
}

/* The script does not exist as named (or ends with '/'): look for a
 * regular file at each '/' from the right, the rest being PATH_INFO */
static void split_path_info(paths_t *p, size_t len)
{
    char *pt = rl_arena_strdup(arena, p->script);
    char *slash;
    struct stat st;

    while ((slash = strrchr(pt, '/')) || (slash = strrchr(pt, '\\'))) {
        *slash = '\0';
        if (stat(pt, &st) == 0 && S_ISREG(st.st_mode)) {
            found_script_path_info(p, pt, len);
            found_script_path_translated(p, pt);
            break;
        }
    }
    if (!slash) {
        if (p->orig_script_filename)
            param_put(cur, "ORIG_SCRIPT_FILENAME", p->orig_script_filename);
        p->script = param_put(cur, "SCRIPT_FILENAME", NULL);
        SG(sapi_headers).http_response_code = 404;
    }
    if (!SG(request_info).request_uri) {
        if (!p->orig_script_name || strcmp(p->orig_script_name, p->script_name) != 0) {
            if (p->orig_script_name)
                param_put(cur, "ORIG_SCRIPT_NAME", p->orig_script_name);
            SG(request_info).request_uri = param_put(cur, "SCRIPT_NAME", p->script_name);
        } else {
            SG(request_info).request_uri = p->orig_script_name;
        }
    }
}

/* The script exists as named */
static void keep_script(paths_t *p)
{
    if (!p->orig_script_filename
        || (p->script != p->orig_script_filename && strcmp(p->script, p->orig_script_filename) != 0)) {
        if (p->orig_script_filename)
            param_put(cur, "ORIG_SCRIPT_FILENAME", p->orig_script_filename);
        p->script = param_put(cur, "SCRIPT_FILENAME", p->script);
    }
    if (!p->apache_was_here && p->redirect_url) {
        /* mod_fastcgi's Action: PATH_INFO / PATH_TRANSLATED were ours */
        if (p->orig_path_info) {
            param_put(cur, "ORIG_PATH_INFO", p->orig_path_info);
            param_put(cur, "PATH_INFO", NULL);
        }
        if (p->orig_path_translated) {
            param_put(cur, "ORIG_PATH_TRANSLATED", p->orig_path_translated);
            param_put(cur, "PATH_TRANSLATED", NULL);
        }
    }
    if (p->script_name != p->orig_script_name) {
        if (p->orig_script_name)
            param_put(cur, "ORIG_SCRIPT_NAME", p->orig_script_name);
        SG(request_info).request_uri = param_put(cur, "SCRIPT_NAME", p->script_name);
    } else {
        SG(request_info).request_uri = p->script_name;
    }
}

static void fix_pathinfo(paths_t *p)
{
    char real[PATH_MAX];
    size_t len;

    p->redirect_url = param_get(cur, "REDIRECT_URL");
    p->document_root = param_get(cur, "DOCUMENT_ROOT");
    p->orig_path_translated = p->path_translated;
    p->orig_path_info = p->path_info;
    p->orig_script_name = p->script_name;
    if (!p->document_root && PG(doc_root))
        p->document_root = param_put(cur, "DOCUMENT_ROOT", PG(doc_root));
    if (!p->apache_was_here && p->path_translated && p->redirect_url
        && p->path_translated != p->script && strcmp(p->path_translated, p->script) != 0) {
        /* Apache's mod_fastcgi: SCRIPT_FILENAME is php-cgi itself */
        p->script = p->path_translated;
        p->script_name = p->redirect_url;
    }
    if ((len = strlen(p->script)) > 0
        && (p->script[len - 1] == '/' || !tsrm_realpath(p->script, real)))
        split_path_info(p, len);
    else
        keep_script(p);
}

/* Some servers put "..": refuse such a path (php-fpm's is_valid_path) */
static bool is_valid_path(const char *path)
{
    const char *p;

    if (!path)
        return false;
    for (p = strstr(path, ".."); p; p = strstr(p + 1, "..")) {
        if ((p == path || p[-1] == '/' || p[-1] == '\\') && (!p[2] || p[2] == '/' || p[2] == '\\'))
            return false;
    }
    return true;
}

static void iis_path_info(paths_t *p)
{
    const char *sw = param_get(cur, "SERVER_SOFTWARE");
    char *pi;

    if (!sw || !p->script_name || !p->path_info
        || strncmp(sw, "Microsoft-IIS", sizeof("Microsoft-IIS") - 1) != 0
        || strncmp(p->path_info, p->script_name, strlen(p->script_name)) != 0)
        return;
    pi = param_put(cur, "ORIG_PATH_INFO", p->path_info) + strlen(p->script_name);
    p->path_info = param_put(cur, "PATH_INFO", *pi ? pi : NULL);
}

/* SG(request_info) and the params, as php-fpm's init_request_info() */
static void init_request_info(void)
{
    paths_t p = {0};
    char *filename = param_get(cur, "SCRIPT_FILENAME");

    p.path_translated = param_get(cur, "PATH_TRANSLATED");
    p.script = filename ? filename : p.path_translated;
    memset(&SG(request_info), 0, offsetof(sapi_request_info, request_body));
    SG(request_info).request_method = param_get(cur, "REQUEST_METHOD");
    SG(request_info).proto_num = 1000;
    SG(request_info).content_type = NULL;
    SG(request_info).auth_user = SG(request_info).auth_password = NULL;
    SG(request_info).auth_digest = NULL;
    SG(sapi_headers).http_response_code = 200;

    if (p.script) {
        const char *length = param_get(cur, "CONTENT_LENGTH");
        const char *type = param_get(cur, "CONTENT_TYPE");
        p.path_info = param_get(cur, "PATH_INFO");
        p.script_name = param_get(cur, "SCRIPT_NAME");
        p.orig_script_filename = filename;
        iis_path_info(&p);
        p.apache_was_here = strip_proxy_prefix(filename, "proxy:fcgi://");
        p.apache_was_here |= strip_proxy_prefix(filename, "proxy:balancer://");
        if (p.apache_was_here && !cgi_globals.fcgi_script_path_encoded)
            php_raw_url_decode(filename, strlen(filename));
        if (cgi_globals.fix_pathinfo) {
            fix_pathinfo(&p);
        } else {
            SG(request_info).request_uri = p.path_info ? p.path_info : p.script_name;
            if (!cgi_globals.discard_path && p.path_translated)
                p.script = p.path_translated;
        }
        if (is_valid_path(p.script))
            SG(request_info).path_translated = estrdup(p.script);
        SG(request_info).query_string = param_get(cur, "QUERY_STRING");
        SG(request_info).content_type = type ? type : "";
        SG(request_info).content_length = length ? atol(length) : 0;
        php_handle_auth_data(param_get(cur, "HTTP_AUTHORIZATION"));
    }
    params_ini("PHP_VALUE", ZEND_INI_USER);
    params_ini("PHP_ADMIN_VALUE", ZEND_INI_SYSTEM);
}

/* --- functions of the cgi-fcgi module ------------------------------------- */

static PHP_FUNCTION(fastcgi_finish_request)
{
    ZEND_PARSE_PARAMETERS_NONE();

    if (!cur || cur->finished)
        RETURN_FALSE;
    php_output_end_all();
    php_header();
    if (!cur->aborted && cur->io->finish && cur->io->finish(cur->io->ctx) < 0)
        cur->aborted = true;
    cur->finished = true;
    RETURN_TRUE;
}

static PHP_FUNCTION(apache_request_headers)
{
    ZEND_PARSE_PARAMETERS_NONE();

    array_init(return_value);
    if (!cur)
        return;
    for (size_t i = cur->nparams; i-- > 0;) {
        param_t *p = &cur->params[i];
        if (p->val)
            sapi_add_request_header(p->name, (unsigned)strlen(p->name), p->val,
                                    (unsigned)strlen(p->val), return_value);
    }
}

/* php-fpm's status is the process manager's: not available to scripts */
static PHP_FUNCTION(fpm_get_status)
{
    ZEND_PARSE_PARAMETERS_NONE();
    RETURN_FALSE;
}

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_fastcgi_finish_request, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_apache_request_headers, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_MASK_EX(arginfo_fpm_get_status, 0, 0, MAY_BE_ARRAY | MAY_BE_FALSE)
ZEND_END_ARG_INFO()

static const zend_function_entry cgi_functions[] = {
    ZEND_FE(fastcgi_finish_request, arginfo_fastcgi_finish_request)
    ZEND_FE(apache_request_headers, arginfo_apache_request_headers)
    ZEND_FALIAS(getallheaders, apache_request_headers, arginfo_apache_request_headers)
    ZEND_FE(fpm_get_status, arginfo_fpm_get_status)
    ZEND_FE_END
};

PHP_INI_BEGIN()
    STD_PHP_INI_BOOLEAN("cgi.rfc2616_headers", "0", PHP_INI_ALL, OnUpdateBool,
                        rfc2616_headers, cgi_globals_t, cgi_globals)
    STD_PHP_INI_BOOLEAN("cgi.nph", "0", PHP_INI_ALL, OnUpdateBool, nph, cgi_globals_t,
                        cgi_globals)
    STD_PHP_INI_BOOLEAN("cgi.force_redirect", "1", PHP_INI_SYSTEM, OnUpdateBool, force_redirect,
                        cgi_globals_t, cgi_globals)
    STD_PHP_INI_ENTRY("cgi.redirect_status_env", NULL, PHP_INI_SYSTEM, OnUpdateString,
                      redirect_status_env, cgi_globals_t, cgi_globals)
    STD_PHP_INI_BOOLEAN("cgi.fix_pathinfo", "1", PHP_INI_SYSTEM, OnUpdateBool, fix_pathinfo,
                        cgi_globals_t, cgi_globals)
    STD_PHP_INI_BOOLEAN("cgi.discard_path", "0", PHP_INI_SYSTEM, OnUpdateBool, discard_path,
                        cgi_globals_t, cgi_globals)
    STD_PHP_INI_BOOLEAN("fastcgi.script_path_encoded", "1", PHP_INI_SYSTEM, OnUpdateBool,
                        fcgi_script_path_encoded, cgi_globals_t, cgi_globals)
    STD_PHP_INI_BOOLEAN("fastcgi.logging", "1", PHP_INI_SYSTEM, OnUpdateBool, fcgi_logging,
                        cgi_globals_t, cgi_globals)
    STD_PHP_INI_ENTRY("fastcgi.error_header", NULL, PHP_INI_SYSTEM, OnUpdateString,
                      error_header, cgi_globals_t, cgi_globals)
    STD_PHP_INI_ENTRY("fpm.config", NULL, PHP_INI_SYSTEM, OnUpdateString, fpm_config,
                      cgi_globals_t, cgi_globals)
PHP_INI_END()

static PHP_MINIT_FUNCTION(cgi)
{
    (void)type;
    zend_hash_init(&cgi_globals.user_config_cache, 0, NULL, user_config_dtor, 1);
    REGISTER_INI_ENTRIES();
    return SUCCESS;
}

static PHP_MSHUTDOWN_FUNCTION(cgi)
{
    (void)type;
    zend_hash_destroy(&cgi_globals.user_config_cache);
    UNREGISTER_INI_ENTRIES();
    return SUCCESS;
}

static PHP_MINFO_FUNCTION(cgi)
{
    php_info_print_table_start();
    php_info_print_table_row(2, "php-fpm", "active");
    php_info_print_table_end();
    DISPLAY_INI_ENTRIES();
}

static zend_module_entry cgi_module_entry = {
    STANDARD_MODULE_HEADER,
    "cgi-fcgi",
    cgi_functions,
    PHP_MINIT(cgi),
    PHP_MSHUTDOWN(cgi),
    NULL,
    NULL,
    PHP_MINFO(cgi),
    PHP_VERSION,
    STANDARD_MODULE_PROPERTIES
};

static int sapi_startup_cb(sapi_module_struct *module)
{
    return php_module_startup(module, &cgi_module_entry);
}

static sapi_module_struct relais_sapi_module = {
    .name = "fpm-fcgi",
    .pretty_name = "FPM/FastCGI",
    .startup = sapi_startup_cb,
    .shutdown = php_module_shutdown_wrapper,
    .activate = sapi_activate_cb,
    .ub_write = sapi_ub_write,
    .flush = sapi_flush_cb,
    .getenv = sapi_getenv_cb,
    .sapi_error = php_error,
    .send_headers = sapi_send_headers_cb,
    .header_handler = sapi_header_handler_cb,
    .read_post = sapi_read_post,
    .read_cookies = sapi_read_cookies,
    .register_server_variables = sapi_register_variables,
    .log_message = sapi_log_message,
};

/* --- start-up ---------------------------------------------------------------- */

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* php.ini as Debian's php-fpm finds it: -c, else PHPRC, else
 * /etc/php/8.2/fpm/php.ini (the library's compiled-in place is
 * /etc/php/8.2/embed). Returns whether PHP_INI_SCAN_DIR was set here. */
static bool ini_paths(const rl_sapi_opts_t *opts)
{
    sapi_module.php_ini_ignore_cwd = 1;
    sapi_module.php_ini_ignore = opts->no_php_ini ? 1 : 0;
    if (opts->php_ini)
        sapi_module.php_ini_path_override = strdup(opts->php_ini);
    else if (!getenv("PHPRC") && (is_file(RL_SAPI_FPM_INI_DIR "/php.ini")
                                  || is_file(RL_SAPI_FPM_INI_DIR "/php-fpm-fcgi.ini")))
        sapi_module.php_ini_path_override = strdup(RL_SAPI_FPM_INI_DIR);
    if (getenv("PHP_INI_SCAN_DIR") || !is_dir(RL_SAPI_FPM_INI_DIR "/conf.d"))
        return false;
    return setenv("PHP_INI_SCAN_DIR", RL_SAPI_FPM_INI_DIR "/conf.d", 1) == 0;
}

static void ini_defines(const rl_sapi_ini_t *defines)
{
    struct php_ini_builder b;

    if (!defines)
        return;
    php_ini_builder_init(&b);
    for (const rl_sapi_ini_t *d = defines; d; d = d->next) {
        char *arg;
        if (d->value) {
            if (asprintf(&arg, "%s=%s", d->name, d->value) < 0)
                abort();
        } else {
            arg = strdup(d->name);
        }
        php_ini_builder_define(&b, arg);
        free(arg);
    }
    cmdline_ini = php_ini_builder_finish(&b);
    sapi_module.ini_entries = cmdline_ini;
}

/* Debian's libphp8.2 has pcntl built in, Debian's php-fpm does not: a
 * script could fork or take over the signals of the child it runs in.
 * Its functions are removed as disable_functions removes them (on top of
 * php.ini's list), so that function_exists('pcntl_fork') is false as under
 * php-fpm. The module itself stays (extension_loaded() and -m still show
 * it): unloading a built-in module is not something PHP supports. */
static void hide_pcntl(void)
{
    zend_module_entry *m = zend_hash_str_find_ptr(&module_registry, "pcntl", sizeof("pcntl") - 1);
    if (!m || !m->functions)
        return;
    for (const zend_function_entry *f = m->functions; f->fname; f++)
        zend_hash_str_del(CG(function_table), f->fname, strlen(f->fname));
}

int rl_sapi_startup(const rl_sapi_opts_t *opts)
{
    static const rl_sapi_opts_t none = {0};
    bool scan_dir_set;

    if (started)
        return 0;
    if (!opts)
        opts = &none;
    signal(SIGPIPE, SIG_IGN);
    zend_signal_startup();
    sapi_startup(&relais_sapi_module);
    scan_dir_set = ini_paths(opts);
    ini_defines(opts->defines);
    if (sapi_module.startup(&sapi_module) == FAILURE) {
        if (scan_dir_set)
            unsetenv("PHP_INI_SCAN_DIR");
        sapi_shutdown();
        return -1;
    }
    /* php-fpm does not have it in its environment: keep it out of $_SERVER */
    if (scan_dir_set)
        unsetenv("PHP_INI_SCAN_DIR");
    hide_pcntl();
    orig_import_env = php_import_environment_variables;
    php_import_environment_variables = import_env;
    php_load_environment_variables = load_env;
    arena = rl_arena_create(16384);
    started = true;
    return 0;
}

bool rl_sapi_fcgi_logging(void)
{
    return cgi_globals.fcgi_logging;
}

void rl_sapi_shutdown(void)
{
    if (!started)
        return;
    SG(server_context) = NULL;
    php_module_shutdown();
    sapi_shutdown();
    free(sapi_module.php_ini_path_override);
    sapi_module.php_ini_path_override = NULL;
    free(cmdline_ini);
    cmdline_ini = NULL;
    free(params_buf);
    params_buf = NULL;
    params_cap = 0;
    rl_arena_destroy(arena);
    arena = NULL;
    started = false;
}

/* --- one request ------------------------------------------------------------ */

static bool limit_extensions_deny(const char *path)
{
    const char *const *ext = cur->limit_ext;
    size_t len = strlen(path);

    if (!ext)
        return false;
    for (; *ext; ext++) {
        size_t n = strlen(*ext);
        if (len > n && strcmp(path + len - n, *ext) == 0)
            return false;
    }
    log_own(LOG_NOTICE, "Access to the script '%s' has been denied (see security.limit_extensions)",
            path);
    return true;
}

static void error_page(int status, const char *body)
{
    zend_try {
        SG(sapi_headers).http_response_code = status;
        PUTS(body);
    } zend_catch {
    } zend_end_try();
}

/* Opens and runs the primary script (SG(request_info).path_translated) */
static void execute_primary(void)
{
    zend_file_handle fh;
    char *script = estrdup(SG(request_info).path_translated);

    if (php_fopen_primary_script(&fh) == FAILURE) {
        int err = errno;
        log_own(LOG_ERR, "Unable to open primary script: %s (%s)", script, strerror(err));
        if (err == EACCES)
            error_page(403, "Access denied.\n");
        else
            error_page(404, "No input file specified.\n");
    } else {
        EG(exit_status) = 0;
        php_execute_script(&fh);
    }
    if (!fh.in_list)
        zend_destroy_file_handle(&fh);
    efree(script);
}

/* Everything between php_request_startup() and php_request_shutdown() */
static void serve(void)
{
    if (!SG(request_info).request_method)
        return;
    if (!SG(request_info).path_translated) {
        log_own(LOG_DEBUG, "Primary script unknown");
        error_page(404, "File not found.\n");
        return;
    }
    if (limit_extensions_deny(SG(request_info).path_translated)) {
        error_page(403, "Access denied.\n");
        return;
    }
    execute_primary();
}

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* The result fields php-fpm's scoreboard takes before the shutdown */
static void result_fill(rl_sapi_result_t *res)
{
    res->status = SG(sapi_headers).http_response_code;
    res->memory_peak = zend_memory_peak_usage(1);
    res->content_length = SG(request_info).content_length > 0
        ? (uint64_t)SG(request_info).content_length : 0;
    copy_str(res->method, sizeof(res->method), SG(request_info).request_method);
    copy_str(res->script, sizeof(res->script), SG(request_info).path_translated);
    copy_str(res->request_uri, sizeof(res->request_uri), SG(request_info).request_uri);
    copy_str(res->query, sizeof(res->query), SG(request_info).query_string);
    copy_str(res->auth_user, sizeof(res->auth_user), SG(request_info).auth_user);
}

static void error_header(void)
{
    if (EG(exit_status) == 255 && cgi_globals.error_header && *cgi_globals.error_header
        && !SG(headers_sent)) {
        sapi_header_line ctr = {0};
        ctr.line = cgi_globals.error_header;
        ctr.line_len = strlen(cgi_globals.error_header);
        sapi_header_op(SAPI_HEADER_REPLACE, &ctr);
    }
}

/* php_request_startup() failed: answer 500 by hand */
static void startup_failed(void)
{
    static const char page[] = "Status: 500 Internal Server Error\r\n"
                               "Content-type: text/html; charset=UTF-8\r\n\r\n";
    out_write(page, sizeof(page) - 1);
    cur->status = 500;
}

static void request_end(void)
{
    efree(SG(request_info).path_translated);
    SG(request_info).path_translated = NULL;
    php_request_shutdown(NULL);
}

/* The request inside PHP's outermost bailout guard. Returns 0 or -1. */
static int run_guarded(rl_sapi_result_t *res)
{
    volatile int rc = 0;
    volatile bool in_request = false;

    zend_first_try {
        init_request_info();
        if (php_request_startup() == FAILURE) {
            result_fill(res);
            startup_failed();
            rc = -1;
        } else {
            in_request = true;
            serve();
            error_header();
            result_fill(res);
            in_request = false;
            request_end();
        }
    } zend_catch {
        /* a bailout that escaped PHP's own guards: do not trust PHP more */
        rc = -1;
        if (in_request) {
            zend_try {
                request_end();
            } zend_end_try();
        }
    } zend_end_try();
    return rc;
}

int rl_sapi_run(const rl_sapi_request_t *req, const rl_sapi_io_t *io, rl_sapi_result_t *res)
{
    request_t r = { .io = io, .limit_ext = req->limit_extensions, .body_fd = -1 };
    rl_sapi_result_t scratch;
    int rc;

    if (!res)
        res = &scratch;
    memset(res, 0, sizeof(*res));
    if (!started)
        return -1;
    rl_arena_reset(arena);
    cur = &r;
    default_content_type = NULL;
    params_load(&r, req);
    SG(server_context) = &r;
    EG(exit_status) = 0;

    rc = run_guarded(res);

    if (r.status)
        res->status = r.status;
    res->finished_early = r.finished;
    res->aborted = r.aborted;
    if (r.body_fd >= 0)
        close(r.body_fd);
    memset(&SG(request_info), 0, offsetof(sapi_request_info, request_body));
    SG(server_context) = NULL;
    cur = NULL;
    return rc;
}

/* --- -v, -m, -i ------------------------------------------------------------- */

void rl_sapi_print_version(void)
{
    printf("PHP %s (%s) (built: %s %s)\nCopyright (c) The PHP Group\n%s", PHP_VERSION,
           sapi_module.name, __DATE__, __TIME__, get_zend_version());
    fflush(stdout);
}

static int module_cmp(Bucket *a, Bucket *b)
{
    return strcasecmp(((zend_module_entry *)Z_PTR(a->val))->name,
                      ((zend_module_entry *)Z_PTR(b->val))->name);
}

static int extension_cmp(const zend_llist_element **a, const zend_llist_element **b)
{
    return strcmp(((zend_extension *)(*a)->data)->name, ((zend_extension *)(*b)->data)->name);
}

static void print_extension(void *ext)
{
    printf("%s\n", ((zend_extension *)ext)->name);
}

void rl_sapi_print_modules(void)
{
    HashTable sorted;
    zend_llist exts;
    zend_module_entry *m;

    zend_hash_init(&sorted, 50, NULL, NULL, 1);
    zend_hash_copy(&sorted, &module_registry, NULL);
    zend_hash_sort(&sorted, module_cmp, 0);
    printf("[PHP Modules]\n");
    ZEND_HASH_MAP_FOREACH_PTR(&sorted, m) {
        printf("%s\n", m->name);
    } ZEND_HASH_FOREACH_END();
    zend_hash_destroy(&sorted);

    printf("\n[Zend Modules]\n");
    zend_llist_copy(&exts, &zend_extensions);
    exts.dtor = NULL;
    zend_llist_sort(&exts, extension_cmp);
    zend_llist_apply(&exts, print_extension);
    zend_llist_destroy(&exts);
    printf("\n");
    fflush(stdout);
}

void rl_sapi_print_info(void)
{
    sapi_module.phpinfo_as_text = 1;
    SG(server_context) = NULL;
    if (php_request_startup() == SUCCESS) {
        SG(headers_sent) = 1;
        SG(request_info).no_headers = 1;
        php_print_info(0xFFFFFFFF);
        php_request_shutdown(NULL);
    }
    sapi_module.phpinfo_as_text = 0;
    fflush(stdout);
}

uintptr_t rl_sapi_executor_globals(void)
{
    return (uintptr_t)&executor_globals;
}
