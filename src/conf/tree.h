/* The Apache 2.4 configuration reader: reads a file and everything it
 * includes into a tree of directives and sections, evaluating on the way
 * the "meta" directives that Apache runs while it reads (EXEC_ON_READ):
 *
 *   Include, IncludeOptional        spliced in place: the included nodes take
 *                                   the place of the directive
 *   Define, UnDefine                change the defines; no node
 *   <IfDefine>, <IfModule>, <IfVersion>, <IfFile>, <IfDirective>, <IfSection>
 *                                   a true body is spliced into the parent, a
 *                                   false one is skipped (but must still nest)
 *   LoadModule                      calls the load_module hook; no node
 *   LoadFile                        checked and dropped (relais loads nothing)
 *   ServerRoot                      sets r->server_root; the node stays
 *
 * ${NAME} is replaced in every line read (not in comments or skipped bodies)
 * by the value of "Define NAME value", else the environment variable NAME;
 * an unknown name stays as written and records a warning (AH00111).
 *
 * Errors read as Apache's (httpd -t) do, on one line:
 *   Syntax error on line 12 of /etc/apache2/apache2.conf: <message>
 * and an error in an included file is prefixed once per Include level, as
 * Apache does:
 *   Syntax error on line 219 of /etc/apache2/apache2.conf: Syntax error on
 *   line 3 of /etc/apache2/sites-enabled/a.conf: <message>
 * The line of a directive is the last physical line of a continued line
 * (Apache's numbering). Everything the reader returns lives in r->arena.
 *
 * Where relais parts from httpd 2.4 on purpose:
 *  - a quote that is never closed is an error (httpd takes the rest of the line);
 *  - a true conditional body must be closed too (httpd accepts EOF there,
 *    but not in a false one): "Expected </IfDefine> before end of configuration";
 *  - an error inside a false body is reported at its own line, not the opener's;
 *  - a false body is not ${}-expanded, so it gives no AH00111 warnings;
 *  - an unclosed section reports the innermost one only, at its line:
 *    "Syntax error on line 4 of F: F:4: <Files> was not closed.";
 *  - lines are limited (see below), as is nesting; a NUL byte is an error. */
#ifndef RL_CONF_TREE_H
#define RL_CONF_TREE_H

#include "core/rl.h"
#include "core/arena.h"
#include "core/buf.h"

/* The Apache release whose behaviour <IfVersion> answers for. */
#define RL_CONF_HTTPD_MAJOR 2
#define RL_CONF_HTTPD_MINOR 4
#define RL_CONF_HTTPD_PATCH 71   /* keep equal to RL_SERVER_VERSION */

/* Limits. A logical line (after continuation and ${} expansion): 1 MiB
 * (Apache allows 16 MiB; real lines are far below either). Include levels:
 * Apache's AP_MAX_INCLUDE_DEPTH; directories included inside directories:
 * AP_MAX_INCLUDE_DIR_DEPTH. Nesting of sections, conditionals and included
 * files together: a guard for the recursion the reader uses. */
#define RL_CONF_MAX_LINE          (1024 * 1024)
#define RL_CONF_MAX_LINE_HTACCESS 8190
#define RL_CONF_MAX_INCLUDE_DEPTH 128
#define RL_CONF_MAX_DIR_DEPTH     128
#define RL_CONF_MAX_NESTING       512

typedef struct rl_conf_node_s rl_conf_node_t;
struct rl_conf_node_s {
    const char *name;          /* "DocumentRoot"; for a section "VirtualHost" (no '<'), as written */
    int argc;
    char **argv;               /* the arguments split as Apache does (quotes removed, \" and
                                * \\ unescaped), after ${} expansion; NULL-terminated. For a
                                * section, the arguments inside <...> */
    const char *args_raw;      /* the argument text after expansion, quotes kept (for
                                * RAW_ARGS directives such as "Require expr ..." and <If "...">);
                                * for a section, the text between the name and the last '>' */
    const char *file;          /* path as opened, or the origin of a string */
    int line;
    bool section;
    rl_conf_node_t *first_child, *next, *parent;
};

/* A warning recorded while reading (e.g. an undefined ${VAR}). */
typedef struct rl_conf_warning_s {
    const char *file;
    int line;
    const char *msg;           /* "AH00111: Config variable ${X} is not defined" */
    struct rl_conf_warning_s *next;
} rl_conf_warning_t;

typedef struct rl_conf_define_s rl_conf_define_t;

typedef struct rl_conf_reader_s {
    rl_arena_t *arena;          /* owns everything the reader returns */
    const char *server_root;    /* base of relative paths (Include, IncludeOptional,
                                 * LoadModule, IfFile, the file given to read_file);
                                 * a ServerRoot directive changes it as it is read */

    /* Hooks supplied by the daemon (all optional). */
    /* <IfModule name>: <name> as written, "mod_ssl.c" or "ssl_module". NULL: false. */
    bool (*module_loaded)(void *ctx, const char *name);
    /* LoadModule <name> <path>, <path> made absolute against server_root.
     * Returns NULL when fine, else the message to report. NULL hook: accepted. */
    const char *(*load_module)(void *ctx, const char *name, const char *path);
    /* <IfDirective name> gets the name as written; <IfSection name> gets
     * "<name". The reader's own directives are known without asking. NULL: false. */
    bool (*directive_known)(void *ctx, const char *name);
    void *ctx;

    /* Reading a .htaccess file: Include, IncludeOptional, Define, UnDefine,
     * LoadModule, LoadFile and ServerRoot are "not allowed here", and a line
     * is limited to RL_CONF_MAX_LINE_HTACCESS bytes. */
    bool htaccess;

    /* Results. */
    char errbuf[1024];          /* after a failed read: the message, see above */
    const char *err_file;       /* ... and where the innermost error is (line 0: none) */
    int err_line;
    rl_conf_warning_t *warnings;/* in order, accumulated over all reads */

    /* Private to the reader. */
    rl_conf_define_t *defines;
    rl_conf_warning_t **warn_tail;
    int include_depth, nesting;
    int fail_line, err_state;
} rl_conf_reader_t;

/* Prepares <r> to read into <a>. <server_root> (may be NULL: the current
 * directory) is copied; trailing slashes are dropped. Hooks are NULL. */
void rl_conf_reader_init(rl_conf_reader_t *r, rl_arena_t *a, const char *server_root);

/* Defines <name> as "Define" does: <IfDefine name> becomes true; with a
 * <value> (may be NULL) ${name} expands to it. NULL keeps an earlier value.
 * relaisd passes its -D names here before reading. */
void rl_conf_define(rl_conf_reader_t *r, const char *name, const char *value);
/* Removes <name> as "UnDefine" does (both the define and its value). */
void rl_conf_undefine(rl_conf_reader_t *r, const char *name);
/* True when <name> is defined (what <IfDefine> tests). */
bool rl_conf_is_defined(rl_conf_reader_t *r, const char *name);
/* The value ${name} expands to: the Define'd value, else getenv(), else NULL. */
const char *rl_conf_lookup(rl_conf_reader_t *r, const char *name);

/* Reads <path> (relative to server_root unless absolute; a directory reads
 * every file in it) and everything it includes. Returns the root: a
 * synthetic section (name "", line 0, file <path>) whose children are the
 * top-level directives; or NULL with errbuf set. A file that cannot be
 * opened gives "Could not open configuration file /x: No such file or
 * directory" without a "Syntax error" prefix. */
rl_conf_node_t *rl_conf_read_file(rl_conf_reader_t *r, const char *path);

/* Reads directives from <text>, as if it were a file named <origin> (for
 * relaisd -C / -c "directive", origin e.g. "-C"): returns its own root, or
 * NULL with errbuf "Syntax error on line N of <origin>: ...". Defines and
 * the server root carry over between reads with the same reader, so read -C
 * text before the main file and -c text after it, as Apache does. */
rl_conf_node_t *rl_conf_read_string(rl_conf_reader_t *r, const char *origin, const char *text);

/* Moves the children of <from> to the front (<at_front>) or the end of
 * <root>'s children; <from> is left empty. Both are roots or sections. */
void rl_conf_splice(rl_conf_node_t *root, rl_conf_node_t *from, bool at_front);

/* Appends one line per warning to <out> (NULL: does nothing):
 * "AH00111: Config variable ${X} is not defined (line 3 of /etc/x.conf)". */
void rl_conf_reader_warnings(const rl_conf_reader_t *r, rl_buf_t *out);

/* Writes the subtree below <root> back as configuration text, one directive
 * per line, sections indented by 4 spaces: the config as it was evaluated
 * (for relaisd -t -D DUMP_CONFIG and for tests). */
void rl_conf_dump(const rl_conf_node_t *root, rl_buf_t *out);

#endif
