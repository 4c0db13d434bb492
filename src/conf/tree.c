/* The Apache configuration reader: lines become nodes, and the directives
 * Apache runs while reading (Include, Define, <IfModule> & co., LoadModule,
 * ServerRoot) are run here, so the tree handed to the directive engine is
 * the configuration as Apache would see it.
 *
 * The shape follows httpd's server/config.c on purpose: a file is read by
 * read_block() as ap_build_config() reads it, the body of a true conditional
 * by read_block() too (ap_build_cont_config()), a false body by soak()
 * (ap_soak_end_container()), and an Include by the same path walk as
 * process_resource_config_fnmatch(). Errors then come out in Apache's words
 * and with Apache's nesting of "Syntax error on line N of FILE: " prefixes.
 * Where Apache's own behaviour is accidental, tree.h says what we do. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf/lexer.h"
#include "conf/tree.h"

struct rl_conf_define_s {
    const char *name;
    const char *value;          /* NULL: defined without a value */
    rl_conf_define_t *next;
};

/* File-system calls go through this table so that the fuzzer, which
 * includes this file, can confine the reader to a scratch directory. */
static struct {
    int (*open)(const char *path, int flags, ...);
    DIR *(*opendir)(const char *path);
    int (*stat)(const char *path, struct stat *st);
} sys = { open, opendir, stat };

/* What ends the block being read. */
typedef enum {
    BLOCK_FILE,     /* a file or a string: its end */
    BLOCK_SECTION,  /* a <Name ...> node: </Name> */
    BLOCK_COND,     /* the body of a true <IfX>: </IfX> */
} block_kind_t;

typedef struct {
    block_kind_t kind;
    const char *name;           /* of the opener, as written, without '<' */
    int line;                   /* of the opener */
} block_t;

/* Where the next node goes: conditionals and includes share their parent's. */
typedef struct {
    rl_conf_node_t *parent;
    rl_conf_node_t **tail;
} sink_t;

/* err_state: an error message is wrapped in "Syntax error on line N of F: "
 * by every file it passes through, except the recursion error, which is
 * wrapped once (Apache would nest it 128 times). */
enum { ERR_NESTED = 0, ERR_WRAP_ONCE, ERR_FROZEN };

static int read_block(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink,
                      const block_t *blk);
static int include_path(rl_conf_reader_t *r, sink_t *sink, const char *path,
                        bool optional, int dirdepth);

/* ---- errors and warnings ------------------------------------------------- */

/* Sets the message of an error on <line> of the file being read (0: the
 * caller will say). Returns RL_ERROR for tail calls. */
static int error_at(rl_conf_reader_t *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int error_at(rl_conf_reader_t *r, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errbuf, sizeof(r->errbuf), fmt, ap);
    va_end(ap);
    r->fail_line = line;
    return RL_ERROR;
}

/* Prefixes the error with its position in <file>, which is being left. */
static void wrap(rl_conf_reader_t *r, const char *file)
{
    if (r->err_state == ERR_FROZEN)
        return;
    bool first = r->err_file == NULL;
    if (first) {
        r->err_file = file;
        r->err_line = r->fail_line;
    }
    char inner[sizeof(r->errbuf)];
    memcpy(inner, r->errbuf, sizeof(inner));
    int n = snprintf(NULL, 0, "Syntax error on line %d of %s: %s", r->fail_line, file, inner);
    if (!first && (n < 0 || (size_t)n >= sizeof(r->errbuf))) {
        r->err_state = ERR_FROZEN;  /* keep the inner message whole rather than more prefixes */
        return;
    }
    snprintf(r->errbuf, sizeof(r->errbuf), "Syntax error on line %d of %s: %s", r->fail_line,
             file, inner);
    if (r->err_state == ERR_WRAP_ONCE)
        r->err_state = ERR_FROZEN;
}

static void warn(rl_conf_reader_t *r, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void warn(rl_conf_reader_t *r, const char *file, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rl_conf_warning_t *w = rl_arena_calloc(r->arena, sizeof(*w));
    w->file = file;
    w->line = line;
    w->msg = rl_arena_strdup(r->arena, msg);
    *r->warn_tail = w;
    r->warn_tail = &w->next;
}

static void reset_errors(rl_conf_reader_t *r)
{
    r->errbuf[0] = '\0';
    r->err_file = NULL;
    r->err_line = 0;
    r->fail_line = 0;
    r->err_state = ERR_NESTED;
    r->include_depth = 0;
    r->nesting = 0;
}

/* ---- paths --------------------------------------------------------------- */

/* Removes "." and empty components and resolves ".." lexically, as
 * apr_filepath_merge() does; drops a trailing slash. */
static char *normalize(rl_arena_t *a, const char *path)
{
    bool abs = path[0] == '/';
    size_t base = abs ? 1 : 0, o = base;
    char *out = rl_arena_alloc(a, strlen(path) + 2);
    if (abs)
        out[0] = '/';
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - s);
        if (n == 0 || (n == 1 && s[0] == '.'))
            continue;
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            char *last = o > base ? memrchr(out + base, '/', o - base) : NULL;
            const char *seg = last ? last + 1 : out + base;
            if (o > base && strncmp(seg, "..", (size_t)(out + o - seg)) != 0) {
                o = last ? (size_t)(last - out) : base;
                continue;
            }
            if (abs)
                continue;           /* "/.." is "/" */
        }
        if (o > base)
            out[o++] = '/';
        memcpy(out + o, s, n);
        o += n;
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    return out;
}

/* <path> made absolute against the server root (ap_server_root_relative()). */
static char *root_relative(rl_conf_reader_t *r, const char *path)
{
    if (path[0] == '/' || r->server_root == NULL)
        return normalize(r->arena, path);
    return normalize(r->arena, rl_arena_printf(r->arena, "%s/%s", r->server_root, path));
}

static char *join(rl_conf_reader_t *r, const char *dir, const char *name)
{
    if (dir == NULL)
        return rl_arena_strdup(r->arena, name);
    size_t n = strlen(dir);
    return rl_arena_printf(r->arena, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists <dir> (NULL: the current one) as sorted full paths: the entries
 * matching <pattern> (NULL: all but . and ..), only directories when
 * <dirs_only>. Returns the count, or -1 with errno set. */
static int list_dir(rl_conf_reader_t *r, const char *dir, const char *pattern, bool dirs_only,
                    char ***names)
{
    DIR *d = sys.opendir(dir ? dir : ".");
    if (d == NULL)
        return -1;
    size_t n = 0, cap = 16;
    char **v = rl_xmalloc(cap * sizeof(*v));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (pattern && fnmatch(pattern, e->d_name, FNM_PERIOD) != 0)
            continue;
        char *full = join(r, dir, e->d_name);
        struct stat st;
        if (dirs_only && (sys.stat(full, &st) != 0 || !S_ISDIR(st.st_mode)))
            continue;
        if (n == cap)
            v = rl_xrealloc(v, (cap *= 2) * sizeof(*v));
        v[n++] = full;
    }
    closedir(d);
    qsort(v, n, sizeof(*v), cmp_names);
    *names = rl_arena_alloc(r->arena, (n ? n : 1) * sizeof(**names));
    memcpy(*names, v, n * sizeof(*v));
    free(v);
    return (int)n;
}

/* ---- defines and ${} ------------------------------------------------------ */

static rl_conf_define_t **find_define(rl_conf_reader_t *r, const char *name)
{
    rl_conf_define_t **d = &r->defines;
    while (*d && strcmp((*d)->name, name) != 0)
        d = &(*d)->next;
    return d;
}

void rl_conf_define(rl_conf_reader_t *r, const char *name, const char *value)
{
    rl_conf_define_t **d = find_define(r, name);
    if (*d == NULL) {
        *d = rl_arena_calloc(r->arena, sizeof(**d));
        (*d)->name = rl_arena_strdup(r->arena, name);
    }
    if (value)
        (*d)->value = rl_arena_strdup(r->arena, value);
}

void rl_conf_undefine(rl_conf_reader_t *r, const char *name)
{
    rl_conf_define_t **d = find_define(r, name);
    if (*d)
        *d = (*d)->next;
}

bool rl_conf_is_defined(rl_conf_reader_t *r, const char *name)
{
    return *find_define(r, name) != NULL;
}

const char *rl_conf_lookup(rl_conf_reader_t *r, const char *name)
{
    rl_conf_define_t *d = *find_define(r, name);
    return d && d->value ? d->value : getenv(name);
}

static size_t max_line(const rl_conf_reader_t *r)
{
    return r->htaccess ? RL_CONF_MAX_LINE_HTACCESS : RL_CONF_MAX_LINE;
}

/* Replaces each ${NAME} of <line> as ap_resolve_env() does: no recursion,
 * an unknown NAME stays as written (with a warning unless it has a ':', as
 * in RewriteMap's ${map:key}). Returns <line> when it has no "${", an arena
 * copy otherwise, or NULL when the result is over the line limit. */
static char *expand(rl_conf_reader_t *r, rl_conf_src_t *src, char *line)
{
    if (strstr(line, "${") == NULL)
        return line;
    rl_buf_t out = RL_BUF_INIT;
    const char *s = line;
    while (*s) {
        const char *d = strstr(s, "${"), *e = d ? strchr(d + 2, '}') : NULL;
        size_t pre = e ? (size_t)(d - s) : strlen(s), vlen = 0;
        const char *v = NULL;
        if (e) {
            char *name = rl_arena_strndup(r->arena, d + 2, (size_t)(e - d - 2));
            v = rl_conf_lookup(r, name);
            if (v == NULL && strchr(name, ':') == NULL)
                warn(r, src->name, src->lineno, "AH00111: Config variable ${%s} is not defined",
                     name);
            vlen = v ? strlen(v) : (size_t)(e - d + 1);
            if (v == NULL)
                v = d;
        }
        if (out.len + pre + vlen > max_line(r)) {
            rl_buf_release(&out);
            error_at(r, src->lineno, "Line too long after ${} expansion (the limit is %zu bytes)",
                 max_line(r));
            return NULL;
        }
        rl_buf_append(&out, s, pre);
        rl_buf_append(&out, v, vlen);
        s = e ? e + 1 : s + pre;
    }
    char *res = rl_arena_strndup(r->arena, out.data ? out.data : "", out.len);
    rl_buf_release(&out);
    return res;
}

/* ---- nodes --------------------------------------------------------------- */

static rl_conf_node_t *new_node(rl_conf_reader_t *r, rl_conf_src_t *src, const char *name,
                                const char *args, int line, bool section)
{
    rl_conf_node_t *n = rl_arena_calloc(r->arena, sizeof(*n));
    n->name = name;
    n->args_raw = rl_arena_strdup(r->arena, args);
    n->file = src->name;
    n->line = line;
    n->section = section;
    n->argc = rl_conf_split(r->arena, n->args_raw, &n->argv);
    if (n->argc < 0) {
        error_at(r, line, "Unterminated quoted argument to %s%s%s", section ? "<" : "", name,
             section ? ">" : "");
        return NULL;
    }
    return n;
}

static void append(sink_t *sink, rl_conf_node_t *n)
{
    n->parent = sink->parent;
    *sink->tail = n;
    sink->tail = &n->next;
}

/* ---- the meta directives ---------------------------------------------- */

#define INCLUDE_USAGE \
    "Name(s) of the config file(s) to be included; fails if the wildcard does not match at " \
    "least one file"
#define INCLUDE_OPT_USAGE \
    "Name or pattern of the config file(s) to be included; ignored if the file does not " \
    "exist or the pattern does not match any files"

/* Reads the files that <rest> (a path relative to <dir>, NULL: the current
 * directory) matches, wildcards allowed in any component, in Apache's order:
 * sorted per directory, depth first. */
static int include_walk(rl_conf_reader_t *r, sink_t *sink, char *dir, const char *rest,
                        bool optional, int depth)
{
    const char *slash;
    char *comp;
    for (;;) {                      /* plain components need no directory listing */
        slash = strchr(rest, '/');
        comp = slash ? rl_arena_strndup(r->arena, rest, (size_t)(slash - rest))
                     : rl_arena_strdup(r->arena, rest);
        if (rl_conf_has_wildcard(comp))
            break;
        dir = join(r, dir, comp);
        if (slash == NULL)
            return include_path(r, sink, dir, optional, 0);
        rest = slash + 1;
    }
    if (depth >= RL_CONF_MAX_DIR_DEPTH)
        return error_at(r, 0, "Include/IncludeOptional: too many wildcard levels in %s", rest);
    char **names;
    int n = list_dir(r, dir, comp, slash != NULL, &names);
    if (n < 0) {
        if (optional && errno == ENOENT)
            return RL_OK;
        return error_at(r, 0, "Include/IncludeOptional: Could not open directory %s: %s",
                    dir ? dir : ".", strerror(errno));
    }
    if (n == 0 && !optional)
        return error_at(r, 0, "Include/IncludeOptional: No matches for the wildcard '%s' in '%s', "
                    "failing", comp, dir ? dir : ".");
    for (int i = 0; i < n; i++) {
        int rc = slash ? include_walk(r, sink, names[i], slash + 1, optional, depth + 1)
                       : include_path(r, sink, names[i], optional, 0);
        if (rc != RL_OK)
            return rc;
    }
    return RL_OK;
}

static int run_include(rl_conf_reader_t *r, sink_t *sink, rl_conf_node_t *n, bool optional)
{
    const char *name = optional ? "IncludeOptional" : "Include";
    if (r->htaccess)
        return error_at(r, n->line, "%s not allowed here", name);
    if (n->argc != 1 || n->argv[0][0] == '\0')
        return error_at(r, n->line, "%s takes one argument, %s", name,
                    optional ? INCLUDE_OPT_USAGE : INCLUDE_USAGE);
    if (r->include_depth >= RL_CONF_MAX_INCLUDE_DEPTH) {
        error_at(r, n->line, "Exceeded maximum include depth of %d, There appears to be a "
             "recursion.", RL_CONF_MAX_INCLUDE_DEPTH);
        r->err_state = ERR_WRAP_ONCE;
        return RL_ERROR;
    }
    char *path = root_relative(r, n->argv[0]);
    r->include_depth++;
    int rc;
    if (!rl_conf_has_wildcard(path))
        rc = include_path(r, sink, path, optional, 0);
    else if (path[0] == '/')
        rc = include_walk(r, sink, rl_arena_strdup(r->arena, "/"), path + 1, optional, 0);
    else
        rc = include_walk(r, sink, NULL, path, optional, 0);
    r->include_depth--;
    if (rc != RL_OK)
        r->fail_line = n->line;
    return rc;
}

static int run_include_required(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink,
                                rl_conf_node_t *n)
{
    (void)src;
    return run_include(r, sink, n, false);
}

static int run_include_optional(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink,
                                rl_conf_node_t *n)
{
    (void)src;
    return run_include(r, sink, n, true);
}

static int run_define(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink, rl_conf_node_t *n)
{
    (void)src; (void)sink;
    if (r->htaccess)
        return error_at(r, n->line, "Define not allowed here");
    if (n->argc < 1 || n->argc > 2 || n->argv[0][0] == '\0')
        return error_at(r, n->line, "Define takes 1-2 arguments, Define a variable, optionally to "
                    "a value.  Same as passing -D to the command line.");
    if (strchr(n->argv[0], ':'))
        return error_at(r, n->line, "Variable name must not contain ':'");
    rl_conf_define(r, n->argv[0], n->argc == 2 && n->argv[1][0] ? n->argv[1] : NULL);
    return RL_OK;
}

static int run_undefine(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink, rl_conf_node_t *n)
{
    (void)src; (void)sink;
    if (r->htaccess)
        return error_at(r, n->line, "UnDefine not allowed here");
    if (n->argc != 1 || n->argv[0][0] == '\0')
        return error_at(r, n->line, "UnDefine takes one argument, Undefine the existence of a "
                    "variable. Undo a Define.");
    if (strchr(n->argv[0], ':'))
        return error_at(r, n->line, "Variable name must not contain ':'");
    rl_conf_undefine(r, n->argv[0]);
    return RL_OK;
}

static int run_load_module(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink,
                           rl_conf_node_t *n)
{
    (void)src; (void)sink;
    if (r->htaccess)
        return error_at(r, n->line, "LoadModule not allowed here");
    if (n->argc != 2 || n->argv[0][0] == '\0' || n->argv[1][0] == '\0')
        return error_at(r, n->line, "LoadModule takes two arguments, a module name and the name "
                    "of a shared object file to load it from");
    const char *msg = NULL;
    if (r->load_module)
        msg = r->load_module(r->ctx, n->argv[0], root_relative(r, n->argv[1]));
    return msg ? error_at(r, n->line, "%s", msg) : RL_OK;
}

static int run_load_file(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink,
                         rl_conf_node_t *n)
{
    (void)src; (void)sink;
    if (r->htaccess)
        return error_at(r, n->line, "LoadFile not allowed here");
    if (n->argc < 1)
        return error_at(r, n->line, "LoadFile requires at least one argument, shared object file "
                    "or library to load into the server at runtime");
    return RL_OK;
}

static int run_server_root(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink,
                           rl_conf_node_t *n)
{
    (void)src;
    if (r->htaccess)
        return error_at(r, n->line, "ServerRoot not allowed here");
    if (n->argc != 1 || n->argv[0][0] == '\0')
        return error_at(r, n->line, "ServerRoot takes one argument, Common directory of "
                    "server-related files (logs, confs, etc.)");
    char *root = root_relative(r, n->argv[0]);
    struct stat st;
    if (sys.stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
        return error_at(r, n->line, "ServerRoot must be a valid directory");
    r->server_root = root;
    append(sink, n);
    return RL_OK;
}

typedef int (*meta_cb)(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink,
                       rl_conf_node_t *n);

static const struct {
    const char *name;
    meta_cb run;
} metas[] = {
    { "Include", run_include_required },
    { "IncludeOptional", run_include_optional },
    { "Define", run_define },
    { "UnDefine", run_undefine },
    { "LoadModule", run_load_module },
    { "LoadFile", run_load_file },
    { "ServerRoot", run_server_root },
};

static meta_cb find_meta(const char *name)
{
    for (size_t i = 0; i < RL_NELEMS(metas); i++)
        if (strcasecmp(metas[i].name, name) == 0)
            return metas[i].run;
    return NULL;
}

/* ---- conditional sections --------------------------------------------------- */

typedef int (*cond_cb)(rl_conf_reader_t *r, int line, const char *args, bool *yes);

static int eval_ifdefine(rl_conf_reader_t *r, int line, const char *args, bool *yes);
static int eval_ifmodule(rl_conf_reader_t *r, int line, const char *args, bool *yes);
static int eval_ifversion(rl_conf_reader_t *r, int line, const char *args, bool *yes);
static int eval_iffile(rl_conf_reader_t *r, int line, const char *args, bool *yes);
static int eval_ifdirective(rl_conf_reader_t *r, int line, const char *args, bool *yes);
static int eval_ifsection(rl_conf_reader_t *r, int line, const char *args, bool *yes);

static const struct {
    const char *name;
    cond_cb eval;
} conds[] = {
    { "IfDefine", eval_ifdefine },
    { "IfModule", eval_ifmodule },
    { "IfVersion", eval_ifversion },
    { "IfFile", eval_iffile },
    { "IfDirective", eval_ifdirective },
    { "IfSection", eval_ifsection },
};

static int find_cond(const char *name)
{
    for (size_t i = 0; i < RL_NELEMS(conds); i++)
        if (strcasecmp(conds[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The "[!]word" argument of a conditional, split as start_cond_section()
 * does (the first word counts, quotes are removed). NULL: error set. */
static const char *cond_arg(rl_conf_reader_t *r, int line, const char *cond, const char *args,
                            bool *negate)
{
    *negate = args[0] == '!';
    const char *p = args + *negate;
    char *w = rl_conf_getword(r->arena, &p, NULL);
    if (w[0] == '\0') {
        error_at(r, line, "<%s> directive requires additional arguments", cond);
        return NULL;
    }
    return w;
}

static int eval_ifdefine(rl_conf_reader_t *r, int line, const char *args, bool *yes)
{
    bool neg;
    const char *w = cond_arg(r, line, "IfDefine", args, &neg);
    if (w == NULL)
        return RL_ERROR;
    *yes = rl_conf_is_defined(r, w) != neg;
    return RL_OK;
}

static int eval_ifmodule(rl_conf_reader_t *r, int line, const char *args, bool *yes)
{
    bool neg;
    const char *w = cond_arg(r, line, "IfModule", args, &neg);
    if (w == NULL)
        return RL_ERROR;
    *yes = (r->module_loaded && r->module_loaded(r->ctx, w)) != neg;
    return RL_OK;
}

static int eval_iffile(rl_conf_reader_t *r, int line, const char *args, bool *yes)
{
    bool neg;
    const char *w = cond_arg(r, line, "IfFile", args, &neg);
    if (w == NULL)
        return RL_ERROR;
    struct stat st;
    *yes = (sys.stat(root_relative(r, w), &st) == 0) != neg;
    return RL_OK;
}

/* Whether <name> ("Include", or "<IfModule" for a section) is a directive:
 * the reader's own are, the others are the daemon's to say. */
static bool directive_known(rl_conf_reader_t *r, const char *name)
{
    if (name[0] == '<' ? find_cond(name + 1) >= 0 : find_meta(name) != NULL)
        return true;
    return r->directive_known && r->directive_known(r->ctx, name);
}

static int eval_ifdirective(rl_conf_reader_t *r, int line, const char *args, bool *yes)
{
    bool neg;
    const char *w = cond_arg(r, line, "IfDirective", args, &neg);
    if (w == NULL)
        return RL_ERROR;
    *yes = directive_known(r, w) != neg;
    return RL_OK;
}

static int eval_ifsection(rl_conf_reader_t *r, int line, const char *args, bool *yes)
{
    bool neg;
    const char *w = cond_arg(r, line, "IfSection", args, &neg);
    if (w == NULL)
        return RL_ERROR;
    *yes = directive_known(r, rl_arena_printf(r->arena, "<%s", w)) != neg;
    return RL_OK;
}

#define VERSION_INVALID \
    "Version appears to be invalid. It must have the format major[.minor[.patch]] where " \
    "major, minor and patch are numbers."

/* Compares our version with "major[.minor[.patch]]" (missing parts are 0)
 * into *<cmp> (-1, 0, 1: ours is lower, equal, higher). False: bad syntax. */
static bool compare_version(const char *s, int *cmp)
{
    long v[3] = { 0, 0, 0 };
    const long ours[3] = { RL_CONF_HTTPD_MAJOR, RL_CONF_HTTPD_MINOR, RL_CONF_HTTPD_PATCH };
    if (*s < '0' || *s > '9')
        return false;
    for (int c = 0;; s++) {
        for (; *s >= '0' && *s <= '9'; s++)
            if (v[c] < 100000000)
                v[c] = v[c] * 10 + (*s - '0');
        if (++c == 3 || *s != '.')
            break;
    }
    if (*s != '\0')
        return false;
    *cmp = 0;
    for (int i = 0; i < 3 && *cmp == 0; i++)
        *cmp = ours[i] > v[i] ? 1 : ours[i] < v[i] ? -1 : 0;
    return true;
}

/* Matches our version ("2.4.71") against the regular expression <re>. -1: it does not compile. */
static int match_version(const char *re, size_t len)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, len, 0, &err, &off, NULL);
    if (code == NULL)
        return -1;
    char ver[32];
    int n = snprintf(ver, sizeof(ver), "%d.%d.%d", RL_CONF_HTTPD_MAJOR, RL_CONF_HTTPD_MINOR,
                     RL_CONF_HTTPD_PATCH);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    int rc = pcre2_match(code, (PCRE2_SPTR)ver, (size_t)n, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    return rc >= 0;
}

/* Evaluates <op> <ver> as mod_version's start_ifversion() does. */
static int version_test(rl_conf_reader_t *r, int line, const char *op, const char *ver,
                        bool *yes)
{
    const char *p = op;
    bool reverse = *p == '!';
    if (reverse && p[1])
        p++;
    char c = *p;
    p += c != '\0';
    if (c == '\0' || !(*p == '\0' || (*p == '=' && !p[1] && c != '~')) ||
        (c != '=' && c != '~' && c != '<' && c != '>'))
        return error_at(r, line, "unrecognized operator '%s'", op);
    int cmp, m = 0;
    size_t len = strlen(ver);
    if (c == '~' || (c == '=' && ver[0] == '/')) {
        if (c == '=' && (len < 2 || ver[len - 1] != '/'))
            return error_at(r, line, "Missing delimiting / of regular expression.");
        m = c == '=' ? match_version(ver + 1, len - 2) : match_version(ver, len);
        if (m < 0)
            return error_at(r, line, "Unable to compile regular expression");
    } else {
        if (!compare_version(ver, &cmp))
            return error_at(r, line, VERSION_INVALID);
        m = c == '=' ? cmp == 0 : c == '<' ? cmp < 0 || (*p && cmp == 0)
                                           : cmp > 0 || (*p && cmp == 0);
    }
    *yes = (m != 0) != reverse;
    return RL_OK;
}

static int eval_ifversion(rl_conf_reader_t *r, int line, const char *args, bool *yes)
{
    char **argv;
    int argc = rl_conf_split(r->arena, args, &argv);
    if (argc < 0)
        return error_at(r, line, "Unterminated quoted argument to <IfVersion");
    if (argc > 2)
        return error_at(r, line, "<IfVersion takes one, two or three arguments, a comparison "
                    "operator, a version (and a delimiter)");
    return version_test(r, line, argc == 2 ? argv[0] : "=",
                        argc == 2 ? argv[1] : argc == 1 ? argv[0] : "", yes);
}

/* ---- sections and blocks ------------------------------------------------- */

/* Skips the body of a false conditional or of a section inside it, up to the
 * </<name>> that closes it; sections inside must still nest. Nothing in it
 * is expanded or run. */
static int soak(rl_conf_reader_t *r, rl_conf_src_t *src, const char *name, int open_line)
{
    if (r->nesting >= RL_CONF_MAX_NESTING)
        return error_at(r, src->lineno, "Sections nested too deeply (the limit is %d levels)",
                    RL_CONF_MAX_NESTING);
    r->nesting++;
    int rc;
    for (;;) {
        char *line;
        int got = rl_conf_src_getline(src, &line);
        if (got <= 0) {
            rc = got < 0 ? error_at(r, src->lineno + 1, "%s", src->err)
                         : error_at(r, open_line, "Expected </%s> before end of configuration", name);
            break;
        }
        if (line[0] != '<')
            continue;
        const char *p = line;
        char *word = rl_conf_getword(r->arena, &p, NULL);
        size_t len = strlen(word);
        if (word[1] == '/') {
            if (word[len - 1] != '>')
                rc = error_at(r, src->lineno, "%s> directive missing closing '>'", word);
            else if (word[len - 1] = '\0', strcasecmp(word + 2, name) != 0)
                rc = error_at(r, src->lineno, "Expected </%s> but saw </%s>", name, word + 2);
            else
                rc = RL_OK;
            break;
        }
        if (len > 1 && word[len - 1] == '>')
            word[len - 1] = '\0';
        if ((rc = soak(r, src, word + 1, src->lineno)) != RL_OK)
            break;
    }
    r->nesting--;
    return rc;
}

/* A "</Name>" line: RL_DONE when it closes <blk>. */
static int close_block(rl_conf_reader_t *r, rl_conf_src_t *src, const block_t *blk, char *word)
{
    size_t len = strlen(word);
    if (word[len - 1] != '>')
        return error_at(r, src->lineno, "%s> directive missing closing '>'", word);
    word[len - 1] = '\0';
    const char *name = word + 2;
    if (blk->kind == BLOCK_SECTION) {
        if (strcasecmp(name, blk->name) != 0)
            return error_at(r, src->lineno, "Expected </%s> but saw </%s>", blk->name, name);
        return RL_DONE;
    }
    if (blk->kind == BLOCK_COND && strcasecmp(name, blk->name) == 0)
        return RL_DONE;
    return error_at(r, src->lineno, "</%s> without matching <%s> section", name, name);
}

/* A "<Name args>" line (<word> is "Name" or "Name>", <rest> what follows):
 * a conditional is evaluated, any other section becomes a node whose body
 * is read into it. */
static int open_section(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink, char *word,
                        const char *rest)
{
    int line = src->lineno, ci;
    size_t len = strlen(word);
    bool closed = len && word[len - 1] == '>';
    if (closed)
        word[--len] = '\0';
    ci = find_cond(word);
    const char *args = "";
    if (!closed || *rest) {
        const char *gt = strrchr(rest, '>');
        if (gt == NULL)
            return error_at(r, line, "<%s> directive missing closing '>'",
                        ci >= 0 ? conds[ci].name : word);
        while (gt > rest && rl_conf_isspace((unsigned char)gt[-1]))
            gt--;
        args = rl_arena_strndup(r->arena, rest, (size_t)(gt - rest));
    }
    if (ci >= 0) {
        bool yes = false;
        if (conds[ci].eval(r, line, args, &yes) != RL_OK)
            return RL_ERROR;
        block_t b = { BLOCK_COND, word, line };
        return yes ? read_block(r, src, sink, &b) : soak(r, src, word, line);
    }
    rl_conf_node_t *n = new_node(r, src, word, args, line, true);
    if (n == NULL)
        return RL_ERROR;
    append(sink, n);
    sink_t child = { n, &n->first_child };
    block_t b = { BLOCK_SECTION, n->name, line };
    return read_block(r, src, &child, &b);
}

/* One logical line that is not a comment. */
static int read_line(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink, const block_t *blk,
                     char *line)
{
    char *text = expand(r, src, line);
    if (text == NULL)
        return RL_ERROR;
    const char *p = text;
    bool open_quote;
    char *word = rl_conf_getword(r->arena, &p, &open_quote);
    if (open_quote)
        return error_at(r, src->lineno, "Unterminated quoted directive name");
    if (word[0] == '\0')
        return RL_OK;   /* a line that expanded to blanks */
    if (word[0] == '<' && word[1] == '/')
        return close_block(r, src, blk, word);
    if (word[0] == '<')
        return open_section(r, src, sink, word + 1, p);
    rl_conf_node_t *n = new_node(r, src, word, p, src->lineno, false);
    if (n == NULL)
        return RL_ERROR;
    meta_cb meta = find_meta(word);
    if (meta)
        return meta(r, src, sink, n);
    append(sink, n);
    return RL_OK;
}

static int at_end(rl_conf_reader_t *r, rl_conf_src_t *src, const block_t *blk)
{
    switch (blk->kind) {
    case BLOCK_SECTION:
        return error_at(r, blk->line, "%s:%d: <%s> was not closed.", src->name, blk->line,
                    blk->name);
    case BLOCK_COND:
        return error_at(r, blk->line, "Expected </%s> before end of configuration", blk->name);
    default:
        return RL_DONE;
    }
}

/* Reads lines into <sink> until what ends <blk>. */
static int read_block(rl_conf_reader_t *r, rl_conf_src_t *src, sink_t *sink, const block_t *blk)
{
    if (r->nesting >= RL_CONF_MAX_NESTING)
        return error_at(r, src->lineno, "Sections nested too deeply (the limit is %d levels)",
                    RL_CONF_MAX_NESTING);
    r->nesting++;
    int rc;
    for (;;) {
        char *line;
        int got = rl_conf_src_getline(src, &line);
        if (got < 0) {
            rc = error_at(r, src->lineno + 1, "%s", src->err);
            break;
        }
        if (got == 0) {
            rc = at_end(r, src, blk);
            break;
        }
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if ((rc = read_line(r, src, sink, blk, line)) != RL_OK)
            break;
    }
    r->nesting--;
    return rc == RL_DONE ? RL_OK : rc;
}

/* ---- files ----------------------------------------------------------------- */

static int read_into(rl_conf_reader_t *r, sink_t *sink, const char *path)
{
    int fd = sys.open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return error_at(r, 0, "Could not open configuration file %s: %s", path, strerror(errno));
    rl_conf_src_t src;
    rl_conf_src_init_fd(&src, rl_arena_strdup(r->arena, path), fd, max_line(r));
    block_t b = { BLOCK_FILE, NULL, 0 };
    int rc = read_block(r, &src, sink, &b);
    rl_conf_src_close(&src);
    if (rc != RL_OK)
        wrap(r, src.name);
    return rc;
}

/* Reads the file <path>, or every file below the directory <path> in sorted
 * order. <optional>: a path that does not exist is fine. */
static int include_path(rl_conf_reader_t *r, sink_t *sink, const char *path, bool optional,
                        int dirdepth)
{
    struct stat st;
    int exists = sys.stat(path, &st) == 0;
    if (!exists || !S_ISDIR(st.st_mode))
        return !exists && optional ? RL_OK : read_into(r, sink, path);
    if (dirdepth >= RL_CONF_MAX_DIR_DEPTH)
        return error_at(r, 0, "Directory %s exceeds the maximum include directory nesting level "
                    "of %d. You have probably a recursion somewhere.", path,
                    RL_CONF_MAX_DIR_DEPTH);
    char **names;
    int n = list_dir(r, path, NULL, false, &names);
    if (n < 0)
        return error_at(r, 0, "Could not open config directory %s: %s", path, strerror(errno));
    for (int i = 0; i < n; i++) {
        int rc = include_path(r, sink, names[i], optional, dirdepth + 1);
        if (rc != RL_OK)
            return rc;
    }
    return RL_OK;
}

/* ---- public -------------------------------------------------------------- */

void rl_conf_reader_init(rl_conf_reader_t *r, rl_arena_t *a, const char *server_root)
{
    memset(r, 0, sizeof(*r));
    r->arena = a;
    r->warn_tail = &r->warnings;
    if (server_root && server_root[0])
        r->server_root = normalize(a, server_root);
}

static rl_conf_node_t *new_root(rl_conf_reader_t *r, const char *file)
{
    rl_conf_node_t *root = rl_arena_calloc(r->arena, sizeof(*root));
    root->name = "";
    root->args_raw = "";
    root->argv = rl_arena_calloc(r->arena, sizeof(char *));
    root->file = file;
    root->section = true;
    return root;
}

rl_conf_node_t *rl_conf_read_file(rl_conf_reader_t *r, const char *path)
{
    reset_errors(r);
    char *full = root_relative(r, path);
    rl_conf_node_t *root = new_root(r, full);
    sink_t sink = { root, &root->first_child };
    if (include_path(r, &sink, full, false, 0) != RL_OK) {
        if (r->err_file == NULL)
            r->err_file = full;
        return NULL;
    }
    return root;
}

rl_conf_node_t *rl_conf_read_string(rl_conf_reader_t *r, const char *origin, const char *text)
{
    reset_errors(r);
    origin = rl_arena_strdup(r->arena, origin ? origin : "-c/-C directives");
    rl_conf_node_t *root = new_root(r, origin);
    sink_t sink = { root, &root->first_child };
    rl_conf_src_t src;
    rl_conf_src_init_mem(&src, origin, text, strlen(text), max_line(r));
    block_t b = { BLOCK_FILE, NULL, 0 };
    int rc = read_block(r, &src, &sink, &b);
    rl_conf_src_close(&src);
    if (rc != RL_OK) {
        wrap(r, origin);
        return NULL;
    }
    return root;
}

void rl_conf_splice(rl_conf_node_t *root, rl_conf_node_t *from, bool at_front)
{
    rl_conf_node_t *first = from->first_child, *last = NULL;
    if (first == NULL)
        return;
    for (rl_conf_node_t *c = first; c; c = c->next) {
        c->parent = root;
        last = c;
    }
    from->first_child = NULL;
    if (at_front) {
        last->next = root->first_child;
        root->first_child = first;
        return;
    }
    rl_conf_node_t **t = &root->first_child;
    while (*t)
        t = &(*t)->next;
    *t = first;
}

void rl_conf_reader_warnings(const rl_conf_reader_t *r, rl_buf_t *out)
{
    if (out == NULL)
        return;
    for (const rl_conf_warning_t *w = r->warnings; w; w = w->next)
        rl_buf_appendf(out, "%s (line %d of %s)\n", w->msg, w->line, w->file);
}

static void dump_level(const rl_conf_node_t *n, rl_buf_t *out, int depth)
{
    for (; n; n = n->next) {
        const char *sp = n->args_raw[0] ? " " : "";
        if (!n->section) {
            rl_buf_appendf(out, "%*s%s%s%s\n", depth * 4, "", n->name, sp, n->args_raw);
            continue;
        }
        rl_buf_appendf(out, "%*s<%s%s%s>\n", depth * 4, "", n->name, sp, n->args_raw);
        dump_level(n->first_child, out, depth + 1);
        rl_buf_appendf(out, "%*s</%s>\n", depth * 4, "", n->name);
    }
}

void rl_conf_dump(const rl_conf_node_t *root, rl_buf_t *out)
{
    dump_level(root->first_child, out, 0);
}
