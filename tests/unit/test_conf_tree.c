/* Unit tests for src/conf/lexer.c and src/conf/tree.c: the Apache
 * configuration reader. Expected messages and behaviours were checked
 * against Apache 2.4 (apache2 -t) where the two are meant to agree.
 *
 * Each test gets a fresh mkdtemp() directory as the server root and writes
 * its files there at run time. tree.c is included to reach normalize(),
 * compare_version() and the file-system table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "conf/tree.c"

typedef struct {
    char dir[64];
    rl_arena_t *arena;
    rl_conf_reader_t r;
    char *asked[32];           /* module / directive names the hooks were asked about */
    int nasked;
    char *loaded[32];          /* LoadModule "name path" pairs */
    int nloaded;
    rl_buf_t out;
} fx_t;

/* ---- fixture helpers ---- */

static int setup(void **state)
{
    fx_t *f = rl_xcalloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/rl-conf-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->arena = rl_arena_create(0);
    rl_conf_reader_init(&f->r, f->arena, f->dir);
    f->r.ctx = f;
    f->out = RL_BUF_INIT;
    *state = f;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fx_t *f = *state;
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < f->nasked; i++)
        free(f->asked[i]);
    for (int i = 0; i < f->nloaded; i++)
        free(f->loaded[i]);
    rl_buf_release(&f->out);
    rl_arena_destroy(f->arena);
    free(f);
    return 0;
}

/* Writes <text> to <dir>/<rel>, creating directories on the way. */
static void wfile(fx_t *f, const char *rel, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    for (char *s = path + strlen(f->dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void wdir(fx_t *f, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    mkdir(path, 0755);
}

/* "<dir>/<rel>" in the arena, for expected messages and file names. */
static const char *P(fx_t *f, const char *rel)
{
    return rl_arena_printf(f->arena, "%s/%s", f->dir, rel);
}

static const char *dump(fx_t *f, const rl_conf_node_t *root)
{
    assert_non_null(root);
    f->out.len = f->out.pos = 0;
    rl_conf_dump(root, &f->out);
    return rl_arena_strndup(f->arena, f->out.data ? f->out.data : "", f->out.len);
}

static rl_conf_node_t *str_ok(fx_t *f, const char *text)
{
    rl_conf_node_t *root = rl_conf_read_string(&f->r, "t.conf", text);
    if (root == NULL)
        fail_msg("unexpected error: %s", f->r.errbuf);
    return root;
}

/* Reads <text> as string "t.conf" and expects errbuf to be <want>. */
static void str_err(fx_t *f, const char *text, const char *want)
{
    rl_conf_node_t *root = rl_conf_read_string(&f->r, "t.conf", text);
    if (root != NULL)
        fail_msg("'%s': no error, want '%s'", text, want);
    assert_string_equal(f->r.errbuf, want);
}

static void check_dump(fx_t *f, const char *text, const char *want)
{
    assert_string_equal(dump(f, str_ok(f, text)), want);
}

static rl_conf_node_t *file_ok(fx_t *f, const char *rel)
{
    rl_conf_node_t *root = rl_conf_read_file(&f->r, rel);
    if (root == NULL)
        fail_msg("unexpected error: %s", f->r.errbuf);
    return root;
}

static void file_err(fx_t *f, const char *rel, const char *want)
{
    if (rl_conf_read_file(&f->r, rel) != NULL)
        fail_msg("%s: no error, want '%s'", rel, want);
    assert_string_equal(f->r.errbuf, want);
}

static rl_conf_node_t *child(const rl_conf_node_t *n, int i)
{
    rl_conf_node_t *c = n->first_child;
    while (c && i--)
        c = c->next;
    assert_non_null(c);
    return c;
}

static int nchildren(const rl_conf_node_t *n)
{
    int k = 0;
    for (rl_conf_node_t *c = n->first_child; c; c = c->next)
        k++;
    return k;
}

static void check_args(const rl_conf_node_t *n, int argc, ...)
{
    assert_int_equal(n->argc, argc);
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        assert_string_equal(n->argv[i], va_arg(ap, const char *));
    va_end(ap);
    assert_null(n->argv[argc]);
}

static void check_pos(const rl_conf_node_t *n, const char *file, int line)
{
    assert_string_equal(n->file, file);
    assert_int_equal(n->line, line);
}

/* hooks */
static bool stub_module_loaded(void *ctx, const char *name)
{
    fx_t *f = ctx;
    if (f->nasked < 32)
        f->asked[f->nasked++] = rl_xstrdup(name);
    return strcmp(name, "mod_ssl.c") == 0 || strcmp(name, "ssl_module") == 0 ||
           strcmp(name, "rewrite_module") == 0;
}

static const char *stub_load_module(void *ctx, const char *name, const char *path)
{
    fx_t *f = ctx;
    if (strcmp(name, "broken_module") == 0)
        return "Cannot load modules/mod_broken.so into server: no such file";
    char buf[PATH_MAX + 64];
    snprintf(buf, sizeof(buf), "%s %s", name, path);
    if (f->nloaded < 32)
        f->loaded[f->nloaded++] = rl_xstrdup(buf);
    return NULL;
}

static bool stub_directive_known(void *ctx, const char *name)
{
    fx_t *f = ctx;
    if (f->nasked < 32)
        f->asked[f->nasked++] = rl_xstrdup(name);
    return strcasecmp(name, "DocumentRoot") == 0 || strcasecmp(name, "<VirtualHost") == 0;
}

/* ---- lexer ---- */

static void test_lexer_words(void **state)
{
    fx_t *f = *state;
    char **v;
    assert_int_equal(rl_conf_split(f->arena, "  a  b\tc ", &v), 3);
    assert_string_equal(v[2], "c");
    assert_null(v[3]);
    assert_int_equal(rl_conf_split(f->arena, "", &v), 0);
    assert_null(v[0]);
    assert_int_equal(rl_conf_split(f->arena, "\"unterminated", &v), -1);
    assert_int_equal(rl_conf_split(f->arena, "'x", &v), -1);
    const char *p = "\"a b\" rest";
    assert_string_equal(rl_conf_getword(f->arena, &p, NULL), "a b");
    assert_string_equal(p, "rest");
    assert_string_equal(rl_conf_getword(f->arena, &p, NULL), "rest");
    assert_string_equal(rl_conf_getword(f->arena, &p, NULL), "");
    assert_true(rl_conf_has_wildcard("*.conf"));
    assert_true(rl_conf_has_wildcard("a?"));
    assert_true(rl_conf_has_wildcard("[ab].conf"));
    assert_false(rl_conf_has_wildcard("[ab.conf"));
    assert_false(rl_conf_has_wildcard("a\\*b"));
    assert_false(rl_conf_has_wildcard("/etc/apache2/ports.conf"));
}

static void test_lexer_lines(void **state)
{
    (void)state;
    rl_conf_src_t s;
    const char *text = "  one  \r\ntwo\\\n three\\\r\nfour\n\\\nlast\\";
    rl_conf_src_init_mem(&s, "m", text, strlen(text), 100);
    char *line;
    assert_int_equal(rl_conf_src_getline(&s, &line), 1);
    assert_string_equal(line, "one");
    assert_int_equal(s.lineno, 1);
    assert_int_equal(rl_conf_src_getline(&s, &line), 1);
    assert_string_equal(line, "two threefour");
    assert_int_equal(s.lineno, 4);
    assert_int_equal(rl_conf_src_getline(&s, &line), 1);
    assert_string_equal(line, "last\\");   /* no LF after the backslash: no continuation */
    assert_int_equal(s.lineno, 6);
    assert_int_equal(rl_conf_src_getline(&s, &line), 0);
    rl_conf_src_close(&s);

    rl_conf_src_init_mem(&s, "m", "0123456789\nx", 12, 5);
    assert_int_equal(rl_conf_src_getline(&s, &line), -1);
    assert_string_equal(s.err, "Line too long (the limit is 5 bytes)");
    rl_conf_src_close(&s);
}

/* ---- lines, comments, quoting ---- */

static void test_comments_and_blanks(void **state)
{
    fx_t *f = *state;
    rl_conf_node_t *root = str_ok(f,
        "# a comment\n"
        "   \t# an indented comment\n"
        "\n"
        "   \n"
        "\tServerName   www.example.com   \n"
        "Header set X a#b # not a comment\n"
        "#ServerAdmin commented\n");
    assert_int_equal(nchildren(root), 2);
    rl_conf_node_t *n = child(root, 0);
    assert_string_equal(n->name, "ServerName");
    check_args(n, 1, "www.example.com");
    check_pos(n, "t.conf", 5);
    assert_string_equal(n->args_raw, "www.example.com");
    assert_false(n->section);
    assert_ptr_equal(n->parent, root);
    n = child(root, 1);
    /* Apache has no trailing comments: '#' mid-line is an argument */
    check_args(n, 7, "set", "X", "a#b", "#", "not", "a", "comment");
    check_pos(n, "t.conf", 6);
}

static void test_continuation(void **state)
{
    fx_t *f = *state;
    rl_conf_node_t *root = str_ok(f,
        "ServerAdmin a\\\n"
        "  b\\\n"
        " c\n"
        "# a comment continued \\\n"
        "ServerName swallowed.example\n"
        "Foo x\\ \n"
        "Bar y\r\n"
        "Baz q\\\r\n"
        "r\r\n");
    assert_int_equal(nchildren(root), 4);
    rl_conf_node_t *n = child(root, 0);
    /* joined as is, numbered by the last physical line as Apache does */
    assert_string_equal(n->args_raw, "a  b c");
    check_args(n, 3, "a", "b", "c");
    check_pos(n, "t.conf", 3);
    /* a backslash followed by a blank is no continuation */
    n = child(root, 1);
    assert_string_equal(n->name, "Foo");
    check_args(n, 1, "x\\");
    check_pos(n, "t.conf", 6);
    n = child(root, 2);
    check_args(n, 1, "y");
    check_pos(n, "t.conf", 7);
    n = child(root, 3);
    check_args(n, 1, "qr");
    check_pos(n, "t.conf", 9);
}

static void test_quoting(void **state)
{
    fx_t *f = *state;
    rl_conf_node_t *root = str_ok(f,
        "A \"a b\" 'c d' \"e\\\"f\" 'g\\'h' x\\\\y \"p\\\\q\\r\" \"a\"b mid\"quote\n"
        "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %O\" common\n"
        "B \"\" ''\n"
        "RewriteRule ^/(.*)\\.php$ \"fcgi://127.0.0.1:9000/var/www/$1.php\" [P,L]\n"
        "C 'say \"hi\"' \"it's\"\n");
    rl_conf_node_t *n = child(root, 0);
    check_args(n, 9, "a b", "c d", "e\"f", "g'h", "x\\y", "p\\q\\r", "a", "b", "mid\"quote");
    assert_string_equal(n->args_raw,
        "\"a b\" 'c d' \"e\\\"f\" 'g\\'h' x\\\\y \"p\\\\q\\r\" \"a\"b mid\"quote");
    check_args(child(root, 1), 2, "%h %l %u %t \"%r\" %>s %O", "common");
    check_args(child(root, 2), 2, "", "");
    check_args(child(root, 3), 3, "^/(.*)\\.php$", "fcgi://127.0.0.1:9000/var/www/$1.php",
               "[P,L]");
    check_args(child(root, 4), 2, "say \"hi\"", "it's");
}

static void test_unterminated_quote(void **state)
{
    fx_t *f = *state;
    /* Apache would take the rest of the line; relais calls it an error */
    str_err(f, "ServerName ok\nDocumentRoot \"/var/www\n",
            "Syntax error on line 2 of t.conf: Unterminated quoted argument to DocumentRoot");
    str_err(f, "\n\nHeader set X 'abc\n",
            "Syntax error on line 3 of t.conf: Unterminated quoted argument to Header");
    str_err(f, "<Directory \"/x>\n</Directory>\n",
            "Syntax error on line 1 of t.conf: Unterminated quoted argument to <Directory>");
    str_err(f, "\"Foo bar\n", "Syntax error on line 1 of t.conf: Unterminated quoted directive name");
}

/* ---- sections ---- */

static void test_nested_sections(void **state)
{
    fx_t *f = *state;
    rl_conf_node_t *root = str_ok(f,
        "Listen 80\n"
        "<VirtualHost *:80>\n"
        "    ServerName a.example\n"
        "    <Directory \"/var/www/a\">\n"
        "        <Files ~ \"\\.php$\">\n"
        "            Require all granted\n"
        "        </files>\n"
        "        Options -Indexes\n"
        "    </DIRECTORY>\n"
        "    <If \"%{HTTP_HOST} > 'a'\">\n"
        "    </If>\n"
        "</VirtualHost>\n"
        "<Location /x> trailing text is ignored\n"
        "</Location> so it is here\n"
        "<Foo>\n"
        "</Foo>\n");
    assert_int_equal(nchildren(root), 4);
    assert_string_equal(root->name, "");
    assert_true(root->section);
    rl_conf_node_t *vh = child(root, 1);
    assert_true(vh->section);
    assert_string_equal(vh->name, "VirtualHost");
    check_args(vh, 1, "*:80");
    assert_string_equal(vh->args_raw, "*:80");
    check_pos(vh, "t.conf", 2);
    assert_ptr_equal(vh->parent, root);
    assert_int_equal(nchildren(vh), 3);
    rl_conf_node_t *dir = child(vh, 1);
    assert_string_equal(dir->name, "Directory");
    check_args(dir, 1, "/var/www/a");
    assert_string_equal(dir->args_raw, "\"/var/www/a\"");
    assert_ptr_equal(dir->parent, vh);
    rl_conf_node_t *files = child(dir, 0);
    check_args(files, 2, "~", "\\.php$");
    check_pos(files, "t.conf", 5);
    rl_conf_node_t *req = child(files, 0);
    check_args(req, 2, "all", "granted");
    check_pos(req, "t.conf", 6);
    assert_ptr_equal(req->parent, files);
    check_pos(child(dir, 1), "t.conf", 8);
    rl_conf_node_t *iff = child(vh, 2);
    assert_string_equal(iff->args_raw, "\"%{HTTP_HOST} > 'a'\"");
    check_args(iff, 1, "%{HTTP_HOST} > 'a'");
    assert_null(iff->first_child);
    rl_conf_node_t *loc = child(root, 2);
    check_args(loc, 1, "/x");
    rl_conf_node_t *foo = child(root, 3);
    assert_true(foo->section);
    assert_int_equal(foo->argc, 0);
    assert_string_equal(foo->args_raw, "");
}

static void test_section_errors(void **state)
{
    fx_t *f = *state;
    str_err(f, "<Directory /x\n</Directory>\n",
            "Syntax error on line 1 of t.conf: <Directory> directive missing closing '>'");
    str_err(f, "<Directory /x>\n</Directory\n",
            "Syntax error on line 2 of t.conf: </Directory> directive missing closing '>'");
    str_err(f, "ServerName x\n</Files>\n",
            "Syntax error on line 2 of t.conf: </Files> without matching <Files> section");
    str_err(f, "<Directory /x>\n  Require all granted\n</Files>\n",
            "Syntax error on line 3 of t.conf: Expected </Directory> but saw </Files>");
    str_err(f, "<VirtualHost *:80>\n<Directory /x>\n</VirtualHost>\n",
            "Syntax error on line 3 of t.conf: Expected </Directory> but saw </VirtualHost>");
    str_err(f, "# c\n<VirtualHost *:80>\n  ServerName x\n",
            "Syntax error on line 2 of t.conf: t.conf:2: <VirtualHost> was not closed.");
    str_err(f, "<VirtualHost *:80>\n<Directory />\n</Directory>\n<Files x>\n",
            "Syntax error on line 4 of t.conf: t.conf:4: <Files> was not closed.");
    assert_string_equal(f->r.err_file, "t.conf");
    assert_int_equal(f->r.err_line, 4);
}

/* ---- Define, UnDefine, ${VAR} ---- */

static void test_define_and_vars(void **state)
{
    fx_t *f = *state;
    setenv("RL_TEST_ENV_DIR", "/from/env", 1);
    setenv("RL_TEST_SHADOWED", "env", 1);
    check_dump(f,
        "Define docroot /srv/www\n"
        "Define RL_TEST_SHADOWED define\n"
        "Define directive DocumentRoot\n"
        "${directive} ${docroot}/html\n"
        "ErrorLog ${RL_TEST_ENV_DIR}/error.log\n"
        "X ${RL_TEST_SHADOWED}\n"
        "Define docroot ${docroot}/v2\n"
        "Y ${docroot} $HOME $ ${ ${unclosed\n"
        "Define spaced \"a b\"\n"
        "Z ${spaced} \"${spaced}\"\n",
        "DocumentRoot /srv/www/html\n"
        "ErrorLog /from/env/error.log\n"
        "X define\n"
        "Y /srv/www/v2 $HOME $ ${ ${unclosed\n"
        "Z a b \"a b\"\n");
    assert_null(f->r.warnings);
    rl_conf_node_t *root = str_ok(f, "Z ${spaced} \"${spaced}\"\n");
    check_args(child(root, 0), 3, "a", "b", "a b");
    unsetenv("RL_TEST_ENV_DIR");
    unsetenv("RL_TEST_SHADOWED");
}

static void test_undefined_var_warning(void **state)
{
    fx_t *f = *state;
    unsetenv("RL_TEST_NOPE");
    check_dump(f,
        "# ${RL_TEST_IN_COMMENT} is not looked at\n"
        "ErrorLog ${RL_TEST_NOPE}/error.log\n"
        "RewriteRule ^ ${map:key}\n"
        "Define RL_TEST_NOPE_TOO\n"
        "X ${RL_TEST_NOPE_TOO}\n",
        "ErrorLog ${RL_TEST_NOPE}/error.log\n"
        "RewriteRule ^ ${map:key}\n"
        "X ${RL_TEST_NOPE_TOO}\n");
    rl_conf_warning_t *w = f->r.warnings;
    assert_non_null(w);
    assert_string_equal(w->msg, "AH00111: Config variable ${RL_TEST_NOPE} is not defined");
    assert_string_equal(w->file, "t.conf");
    assert_int_equal(w->line, 2);
    w = w->next;
    assert_non_null(w);   /* a Define without a value gives no ${} value */
    assert_string_equal(w->msg, "AH00111: Config variable ${RL_TEST_NOPE_TOO} is not defined");
    assert_int_equal(w->line, 5);
    assert_null(w->next);
    rl_buf_t out = RL_BUF_INIT;
    rl_conf_reader_warnings(&f->r, &out);
    rl_buf_append(&out, "", 1);
    assert_string_equal(out.data,
        "AH00111: Config variable ${RL_TEST_NOPE} is not defined (line 2 of t.conf)\n"
        "AH00111: Config variable ${RL_TEST_NOPE_TOO} is not defined (line 5 of t.conf)\n");
    rl_buf_release(&out);
    rl_conf_reader_warnings(&f->r, NULL);
}

static void test_define_api(void **state)
{
    fx_t *f = *state;
    rl_conf_define(&f->r, "FROM_CLI", NULL);          /* relaisd -D FROM_CLI */
    rl_conf_define(&f->r, "WITH_VALUE", "v1");
    assert_true(rl_conf_is_defined(&f->r, "FROM_CLI"));
    assert_false(rl_conf_is_defined(&f->r, "from_cli"));
    assert_null(rl_conf_lookup(&f->r, "FROM_CLI"));
    assert_string_equal(rl_conf_lookup(&f->r, "WITH_VALUE"), "v1");
    rl_conf_define(&f->r, "WITH_VALUE", NULL);        /* keeps the value, as Apache does */
    assert_string_equal(rl_conf_lookup(&f->r, "WITH_VALUE"), "v1");
    check_dump(f,
        "<IfDefine FROM_CLI>\n"
        "A ${WITH_VALUE}\n"
        "</IfDefine>\n"
        "UnDefine FROM_CLI\n"
        "UnDefine WITH_VALUE\n"
        "UnDefine NEVER_DEFINED\n"
        "<IfDefine !FROM_CLI>\n"
        "B\n"
        "</IfDefine>\n"
        "Define EMPTY \"\"\n",
        "A v1\nB\n");
    assert_false(rl_conf_is_defined(&f->r, "FROM_CLI"));
    assert_false(rl_conf_is_defined(&f->r, "WITH_VALUE"));
    assert_true(rl_conf_is_defined(&f->r, "EMPTY"));
    assert_null(rl_conf_lookup(&f->r, "EMPTY"));
    rl_conf_undefine(&f->r, "EMPTY");
    assert_false(rl_conf_is_defined(&f->r, "EMPTY"));
}

static void test_define_errors(void **state)
{
    fx_t *f = *state;
    str_err(f, "Define A:B x\n", "Syntax error on line 1 of t.conf: Variable name must not contain ':'");
    str_err(f, "UnDefine a:b\n", "Syntax error on line 1 of t.conf: Variable name must not contain ':'");
    str_err(f, "Define\n", "Syntax error on line 1 of t.conf: Define takes 1-2 arguments, Define "
            "a variable, optionally to a value.  Same as passing -D to the command line.");
    str_err(f, "define a b c\n", "Syntax error on line 1 of t.conf: Define takes 1-2 arguments, "
            "Define a variable, optionally to a value.  Same as passing -D to the command line.");
    str_err(f, "UnDefine\n", "Syntax error on line 1 of t.conf: UnDefine takes one argument, "
            "Undefine the existence of a variable. Undo a Define.");
}

/* ---- conditionals ---- */

static void test_ifdefine(void **state)
{
    fx_t *f = *state;
    rl_conf_define(&f->r, "ON", NULL);
    rl_conf_node_t *root = str_ok(f,
        "<IfDefine ON>\n"
        "  A\n"
        "  <IfDefine !OFF>\n"
        "    B\n"
        "  </IfDefine>\n"
        "</IfDefine>\n"
        "<IfDefine OFF>\n"
        "  <VirtualHost *:80>\n"
        "    <IfDefine nested>\n"
        "      ${never_expanded}\n"
        "    </IfDefine>\n"
        "    NotHere \"unterminated is not looked at\n"
        "  </VirtualHost>\n"
        "</IfDefine>\n"
        "<VirtualHost *:80>\n"
        "  <ifdefine \"ON\" ignored words>\n"
        "    C\n"
        "  </IFDEFINE>\n"
        "</VirtualHost>\n"
        "<IfDefine ! ON>\n"
        "D\n"
        "</IfDefine>\n");
    assert_string_equal(dump(f, root),
        "A\nB\n<VirtualHost *:80>\n    C\n</VirtualHost>\n");
    check_pos(child(root, 0), "t.conf", 2);
    check_pos(child(root, 1), "t.conf", 4);
    assert_ptr_equal(child(root, 1)->parent, root);
    rl_conf_node_t *vh = child(root, 2);
    check_pos(vh, "t.conf", 15);
    check_pos(child(vh, 0), "t.conf", 17);
    assert_ptr_equal(child(vh, 0)->parent, vh);
    assert_null(f->r.warnings);
}

static void test_conditional_errors(void **state)
{
    fx_t *f = *state;
    str_err(f, "<IfDefine>\n</IfDefine>\n",
            "Syntax error on line 1 of t.conf: <IfDefine> directive requires additional arguments");
    str_err(f, "<IfModule !>\n</IfModule>\n",
            "Syntax error on line 1 of t.conf: <IfModule> directive requires additional arguments");
    str_err(f, "<IfDefine FOO\n</IfDefine>\n",
            "Syntax error on line 1 of t.conf: <IfDefine> directive missing closing '>'");
    /* a true body must end in its file */
    str_err(f, "<IfDefine !FOO>\nA\n",
            "Syntax error on line 1 of t.conf: Expected </IfDefine> before end of configuration");
    /* a false one too */
    str_err(f, "X\n<IfDefine FOO>\nA\n",
            "Syntax error on line 2 of t.conf: Expected </IfDefine> before end of configuration");
    /* sections in a false body must still nest */
    str_err(f, "<IfDefine FOO>\n<Directory /x>\n</Files>\n</IfDefine>\n",
            "Syntax error on line 3 of t.conf: Expected </Directory> but saw </Files>");
    str_err(f, "<IfDefine FOO>\n<Directory /x>\n</IfDefine>\n",
            "Syntax error on line 3 of t.conf: Expected </Directory> but saw </IfDefine>");
    str_err(f, "<IfDefine FOO>\n</IfDefine\n",
            "Syntax error on line 2 of t.conf: </IfDefine> directive missing closing '>'");
    /* a conditional cannot close a section opened outside it */
    str_err(f, "<Directory /x>\n<IfDefine !FOO>\n</Directory>\n</IfDefine>\n",
            "Syntax error on line 3 of t.conf: </Directory> without matching <Directory> section");
    str_err(f, "<IfDefine !FOO>\n<Directory /x>\n</IfDefine>\n",
            "Syntax error on line 3 of t.conf: Expected </Directory> but saw </IfDefine>");
    str_err(f, "<IfModule !mod_x.c>\n</IfDefine>\n",
            "Syntax error on line 2 of t.conf: </IfDefine> without matching <IfDefine> section");
}

static void test_ifmodule(void **state)
{
    fx_t *f = *state;
    const char *text =
        "<IfModule mod_ssl.c>\n  Listen 443\n</IfModule>\n"
        "<IfModule ssl_module>\n  SSLEngine on\n</IfModule>\n"
        "<IfModule !mod_rewrite.c>\n  NoRewriteByFile\n</IfModule>\n"
        "<IfModule !rewrite_module>\n  NoRewriteByName\n</IfModule>\n"
        "<ifmodule mod_gnutls.c>\n  GnuTLS\n</IFMODULE>\n"
        "<IfModule \"ssl_module\" junk>\n  Quoted\n</IfModule>\n";
    /* without a hook no module is loaded */
    check_dump(f, text, "NoRewriteByFile\nNoRewriteByName\n");
    f->r.module_loaded = stub_module_loaded;
    check_dump(f, text, "Listen 443\nSSLEngine on\nNoRewriteByFile\nQuoted\n");
    assert_int_equal(f->nasked, 6);
    assert_string_equal(f->asked[0], "mod_ssl.c");
    assert_string_equal(f->asked[1], "ssl_module");
    assert_string_equal(f->asked[2], "mod_rewrite.c");
    assert_string_equal(f->asked[3], "rewrite_module");
    assert_string_equal(f->asked[4], "mod_gnutls.c");
    assert_string_equal(f->asked[5], "ssl_module");
}

static void check_version(fx_t *f, const char *cond, bool want)
{
    char text[256];
    snprintf(text, sizeof(text), "<IfVersion %s>\nYes\n</IfVersion>\n", cond);
    rl_conf_node_t *root = rl_conf_read_string(&f->r, "t.conf", text);
    if (root == NULL)
        fail_msg("<IfVersion %s>: %s", cond, f->r.errbuf);
    if ((root->first_child != NULL) != want)
        fail_msg("<IfVersion %s>: got %d, want %d", cond, root->first_child != NULL, want);
}

static void test_ifversion(void **state)
{
    fx_t *f = *state;
    /* we answer as 2.4.71, the version relaisd announces */
    check_version(f, "2.4.71", true);
    check_version(f, "= 2.4.71", true);
    check_version(f, "== 2.4.71", true);
    check_version(f, "2.4", false);                 /* 2.4 is 2.4.0 */
    check_version(f, "== 2.4", false);
    check_version(f, "!= 2.4.71", false);
    check_version(f, "!= 2.4.70", true);
    check_version(f, "> 2.4", true);
    check_version(f, "> 2.4.71", false);
    check_version(f, ">= 2.4.71", true);
    check_version(f, ">= 2.4.72", false);
    check_version(f, "< 2.5", true);
    check_version(f, "< 2.4.71", false);
    check_version(f, "<= 2.4.71", true);
    check_version(f, "<= 2.4.70", false);
    check_version(f, "!< 2.4", true);
    check_version(f, "> 2", true);
    check_version(f, "< 3", true);
    check_version(f, "> 1.99.99", true);
    check_version(f, "2.", false);
    check_version(f, "~ ^2\\.4", true);
    check_version(f, "~ ^2\\.2", false);
    check_version(f, "!~ ^2\\.2", true);
    check_version(f, "/^2\\.4\\.7[0-9]$/", true);
    check_version(f, "= /^2\\.4\\.7[0-9]$/", true);
    check_version(f, "!= /^2\\.4\\.7[0-9]$/", false);
    check_version(f, "\"~\" \"^2\"", true);
    check_version(f, ">= 2.4 ", true);
    str_err(f, "<IfVersion =~ x>\n</IfVersion>\n",
            "Syntax error on line 1 of t.conf: unrecognized operator '=~'");
    str_err(f, "<IfVersion ~= 2>\n</IfVersion>\n",
            "Syntax error on line 1 of t.conf: unrecognized operator '~='");
    str_err(f, "<IfVersion \"\" 2>\n</IfVersion>\n",
            "Syntax error on line 1 of t.conf: unrecognized operator ''");
    str_err(f, "<IfVersion ! 2>\n</IfVersion>\n",
            "Syntax error on line 1 of t.conf: unrecognized operator '!'");
    const char *bad = "Syntax error on line 1 of t.conf: " VERSION_INVALID;
    str_err(f, "<IfVersion 2.4.x>\n</IfVersion>\n", bad);
    str_err(f, "<IfVersion >=2.4>\n</IfVersion>\n", bad);
    str_err(f, "<IfVersion 2.4.62.1>\n</IfVersion>\n", bad);
    str_err(f, "<IfVersion>\n</IfVersion>\n", bad);
    str_err(f, "<IfVersion >\n</IfVersion>\n", bad);
    str_err(f, "<IfVersion a b c>\n</IfVersion>\n",
            "Syntax error on line 1 of t.conf: <IfVersion takes one, two or three arguments, "
            "a comparison operator, a version (and a delimiter)");
    str_err(f, "<IfVersion = /abc>\n</IfVersion>\n",
            "Syntax error on line 1 of t.conf: Missing delimiting / of regular expression.");
    str_err(f, "<IfVersion ~ (>\n</IfVersion>\n",
            "Syntax error on line 1 of t.conf: Unable to compile regular expression");
}

static void test_compare_version(void **state)
{
    (void)state;
    int c;
    assert_true(compare_version("2.4.71", &c));
    assert_int_equal(c, 0);
    assert_true(compare_version("99999999999999999999", &c));
    assert_int_equal(c, -1);
    assert_true(compare_version("2..", &c));
    assert_int_equal(c, 1);
    assert_false(compare_version(".2", &c));
    assert_false(compare_version("", &c));
    assert_false(compare_version("2.4-dev", &c));
}

static void test_iffile(void **state)
{
    fx_t *f = *state;
    wfile(f, "present.conf", "");
    wdir(f, "adir");
    const char *abs = P(f, "present.conf");
    char *text = rl_arena_printf(f->arena,
        "<IfFile present.conf>\nA\n</IfFile>\n"
        "<IfFile %s>\nB\n</IfFile>\n"
        "<IfFile !missing.conf>\nC\n</IfFile>\n"
        "<IfFile missing.conf>\nNo\n</IfFile>\n"
        "<IfFile !present.conf>\nNo\n</IfFile>\n"
        "<IfFile \"adir\" trailing>\nD\n</IfFile>\n"
        "<iffile ./adir/../present.conf>\nE\n</IFFILE>\n", abs);
    check_dump(f, text, "A\nB\nC\nD\nE\n");
    str_err(f, "<IfFile>\n</IfFile>\n",
            "Syntax error on line 1 of t.conf: <IfFile> directive requires additional arguments");
}

static void test_ifdirective_ifsection(void **state)
{
    fx_t *f = *state;
    const char *text =
        "<IfDirective DocumentRoot>\nA\n</IfDirective>\n"
        "<IfDirective !Nope>\nB\n</IfDirective>\n"
        "<IfDirective include>\nC\n</IfDirective>\n"
        "<IfSection VirtualHost>\nD\n</IfSection>\n"
        "<IfSection IfModule>\nE\n</IfSection>\n"
        "<IfSection !Nope>\nF\n</IfSection>\n";
    /* the reader's own directives are known even without a hook */
    check_dump(f, text, "B\nC\nE\nF\n");
    f->r.directive_known = stub_directive_known;
    check_dump(f, text, "A\nB\nC\nD\nE\nF\n");
    assert_int_equal(f->nasked, 4);
    assert_string_equal(f->asked[0], "DocumentRoot");
    assert_string_equal(f->asked[1], "Nope");
    assert_string_equal(f->asked[2], "<VirtualHost");
    assert_string_equal(f->asked[3], "<Nope");
}

/* ---- Include ---- */

static void test_include_glob_order(void **state)
{
    fx_t *f = *state;
    wfile(f, "main.conf",
          "A\n"
          "Include conf.d/*.conf\n"
          "<VirtualHost *:80>\n"
          "    include  conf.d/b.conf\n"
          "    Z\n"
          "</VirtualHost>\n");
    wfile(f, "conf.d/b.conf", "# b\nB1\nB2\n");
    wfile(f, "conf.d/a.conf", "A1\n<Directory /a>\n  A2\n</Directory>\n");
    wfile(f, "conf.d/c.conf", "C1\n");
    wfile(f, "conf.d/Upper.conf", "U1\n");
    wfile(f, "conf.d/.hidden.conf", "Hidden\n");
    wfile(f, "conf.d/notes.txt", "Notes\n");
    wdir(f, "conf.d/empty.conf");            /* a matching directory with nothing inside */
    rl_conf_node_t *root = file_ok(f, "main.conf");
    assert_string_equal(dump(f, root),
        "A\nU1\nA1\n<Directory /a>\n    A2\n</Directory>\nB1\nB2\nC1\n"
        "<VirtualHost *:80>\n    B1\n    B2\n    Z\n</VirtualHost>\n");
    assert_string_equal(root->file, P(f, "main.conf"));
    check_pos(child(root, 0), P(f, "main.conf"), 1);
    check_pos(child(root, 1), P(f, "conf.d/Upper.conf"), 1);
    check_pos(child(root, 3), P(f, "conf.d/a.conf"), 2);
    check_pos(child(child(root, 3), 0), P(f, "conf.d/a.conf"), 3);
    check_pos(child(root, 5), P(f, "conf.d/b.conf"), 3);
    rl_conf_node_t *vh = child(root, 7);
    check_pos(vh, P(f, "main.conf"), 3);
    check_pos(child(vh, 0), P(f, "conf.d/b.conf"), 2);
    assert_ptr_equal(child(vh, 0)->parent, vh);
    assert_ptr_equal(child(vh, 1)->parent, vh);
    check_pos(child(vh, 2), P(f, "main.conf"), 5);
}

static void test_include_directory_and_wildcard_dirs(void **state)
{
    fx_t *f = *state;
    wfile(f, "d/b.conf", "B\n");
    wfile(f, "d/.h.conf", "H\n");
    wfile(f, "d/README", "R\n");
    wfile(f, "d/sub/c.conf", "C\n");
    wfile(f, "sites/one/conf/x.conf", "One\n");
    wfile(f, "sites/two/conf/x.conf", "Two\n");
    wfile(f, "sites/two/conf/y.conf", "Two-y\n");
    wfile(f, "sites/file.conf", "NotADir\n");
    wfile(f, "sites/three/other/x.conf", "NotMatched\n");
    wfile(f, "main.conf", "Include d\nInclude d/\nIncludeOptional sites/*/conf/*.conf\n");
    /* a directory reads every file in it, dot files too, in byte order */
    check_dump(f, "Include d\n", "H\nR\nB\nC\n");
    assert_string_equal(dump(f, file_ok(f, "main.conf")),
                        "H\nR\nB\nC\nH\nR\nB\nC\nOne\nTwo\nTwo-y\n");
    /* Include fails per directory that has no match */
    wdir(f, "sites/four");
    wdir(f, "sites/four/conf");
    str_err(f, "Include sites/*/conf/*.conf\n",
            rl_arena_printf(f->arena, "Syntax error on line 1 of t.conf: Include/IncludeOptional: "
                            "No matches for the wildcard '*.conf' in '%s', failing",
                            P(f, "sites/four/conf")));
    str_err(f, "Include nod*/x.conf\n",
            rl_arena_printf(f->arena, "Syntax error on line 1 of t.conf: Include/IncludeOptional: "
                            "No matches for the wildcard 'nod*' in '%s', failing", f->dir));
    str_err(f, "Include nodir/*.conf\n",
            rl_arena_printf(f->arena, "Syntax error on line 1 of t.conf: Include/IncludeOptional: "
                            "Could not open directory %s: No such file or directory",
                            P(f, "nodir")));
    check_dump(f, "Include sites/[t]wo/conf/?.conf\n", "Two\nTwo-y\n");
}

static void test_include_optional(void **state)
{
    fx_t *f = *state;
    wdir(f, "empty");
    check_dump(f,
        "A\n"
        "IncludeOptional empty/*.conf\n"
        "IncludeOptional nodir/*.conf\n"
        "IncludeOptional nodir/x/*.conf\n"
        "IncludeOptional missing.conf\n"
        "IncludeOptional /nonexistent/dir/file.conf\n"
        "IncludeOptional empty\n"
        "B\n", "A\nB\n");
    str_err(f, "Include empty/*.conf\n",
            rl_arena_printf(f->arena, "Syntax error on line 1 of t.conf: Include/IncludeOptional: "
                            "No matches for the wildcard '*.conf' in '%s', failing", P(f, "empty")));
    /* optional is about existence: a broken included file is still an error */
    wfile(f, "broken.conf", "<Directory /x>\n");
    str_err(f, "IncludeOptional broken.conf\n",
            rl_arena_printf(f->arena, "Syntax error on line 1 of t.conf: Syntax error on line 1 of "
                            "%s: %s:1: <Directory> was not closed.",
                            P(f, "broken.conf"), P(f, "broken.conf")));
}

static void test_include_errors(void **state)
{
    fx_t *f = *state;
    wfile(f, "main.conf", "A\n\nInclude nope.conf\n");
    file_err(f, "main.conf",
             rl_arena_printf(f->arena, "Syntax error on line 3 of %s: Could not open configuration "
                             "file %s: No such file or directory", P(f, "main.conf"),
                             P(f, "nope.conf")));
    assert_string_equal(f->r.err_file, P(f, "main.conf"));
    assert_int_equal(f->r.err_line, 3);
    /* the top-level file: no "Syntax error" prefix, as httpd says it */
    file_err(f, "absent.conf",
             rl_arena_printf(f->arena, "Could not open configuration file %s: No such file or "
                             "directory", P(f, "absent.conf")));
    assert_string_equal(f->r.err_file, P(f, "absent.conf"));
    assert_int_equal(f->r.err_line, 0);
    /* an error two includes down names every level, as Apache does */
    wfile(f, "top.conf", "# top\nInclude mid.conf\n");
    wfile(f, "mid.conf", "X\nY\n<IfModule !x>\nInclude sites/*.conf\n</IfModule>\n");
    wfile(f, "sites/a.conf", "<VirtualHost *:80>\n</Files>\n");
    file_err(f, "top.conf",
             rl_arena_printf(f->arena, "Syntax error on line 2 of %s: Syntax error on line 4 of "
                             "%s: Syntax error on line 2 of %s: Expected </VirtualHost> but saw "
                             "</Files>", P(f, "top.conf"), P(f, "mid.conf"), P(f, "sites/a.conf")));
    assert_string_equal(f->r.err_file, P(f, "sites/a.conf"));
    assert_int_equal(f->r.err_line, 2);
    /* a section must end in the file that opens it */
    wfile(f, "open.conf", "<VirtualHost *:80>\n");
    wfile(f, "close.conf", "Include open.conf\n</VirtualHost>\n");
    file_err(f, "close.conf",
             rl_arena_printf(f->arena, "Syntax error on line 1 of %s: Syntax error on line 1 of "
                             "%s: %s:1: <VirtualHost> was not closed.", P(f, "close.conf"),
                             P(f, "open.conf"), P(f, "open.conf")));
    str_err(f, "Include\n", "Syntax error on line 1 of t.conf: Include takes one argument, "
            "Name(s) of the config file(s) to be included; fails if the wildcard does not "
            "match at least one file");
    str_err(f, "IncludeOptional a b\n", "Syntax error on line 1 of t.conf: IncludeOptional "
            "takes one argument, Name or pattern of the config file(s) to be included; "
            "ignored if the file does not exist or the pattern does not match any files");
    str_err(f, "Include \"\"\n", "Syntax error on line 1 of t.conf: Include takes one argument, "
            "Name(s) of the config file(s) to be included; fails if the wildcard does not "
            "match at least one file");
}

static void test_include_recursion(void **state)
{
    fx_t *f = *state;
    wfile(f, "loop.conf", "# loops\nInclude loop.conf\n");
    file_err(f, "loop.conf",
             rl_arena_printf(f->arena, "Syntax error on line 2 of %s: Exceeded maximum include "
                             "depth of 128, There appears to be a recursion.", P(f, "loop.conf")));
    wfile(f, "a.conf", "Include b.conf\n");   /* the 129th Include is a.conf's */
    wfile(f, "b.conf", "\nInclude a.conf\n");
    file_err(f, "a.conf",
             rl_arena_printf(f->arena, "Syntax error on line 1 of %s: Exceeded maximum include "
                             "depth of 128, There appears to be a recursion.", P(f, "a.conf")));
    /* a file may include itself under a guard */
    wfile(f, "once.conf",
          "<IfDefine !ONCE>\n  Define ONCE\n  First\n  Include once.conf\n</IfDefine>\nEvery\n");
    assert_string_equal(dump(f, file_ok(f, "once.conf")), "First\nEvery\nEvery\n");
    /* a directory that contains itself: the kernel stops the symlink loop */
    wdir(f, "self");
    wfile(f, "self/x.conf", "X\n");
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/self/again", f->dir);
    assert_int_equal(symlink(".", path), 0);
    assert_null(rl_conf_read_file(&f->r, "self"));
    assert_true(strncmp(f->r.errbuf, "Could not open configuration file ", 34) == 0);
    assert_non_null(strstr(f->r.errbuf, "/self/again/again/again/"));
    assert_non_null(strstr(f->r.errbuf, ": Too many levels of symbolic links"));
    /* directories nested deeper than Apache's AP_MAX_INCLUDE_DIR_DEPTH */
    rl_buf_t rel = RL_BUF_INIT;
    rl_buf_append_c(&rel, "deep");
    for (int i = 0; i < RL_CONF_MAX_DIR_DEPTH + 2; i++) {
        rl_buf_append(&rel, "", 1);
        wdir(f, rel.data);
        rel.len--;
        rl_buf_append_c(&rel, "/d");
    }
    rl_buf_append(&rel, "", 1);
    file_err(f, "deep", rl_arena_printf(f->arena, "Directory %s/%.*s exceeds the maximum include "
             "directory nesting level of 128. You have probably a recursion somewhere.",
             f->dir, 4 + 2 * RL_CONF_MAX_DIR_DEPTH, rel.data));
    rl_buf_release(&rel);
}

/* ---- ServerRoot, LoadModule ---- */

static void test_server_root(void **state)
{
    fx_t *f = *state;
    wfile(f, "main.conf",
          "Include a.conf\n"
          "ServerRoot other/\n"
          "Include a.conf\n"
          "ServerRoot \"../sub\"\n"
          "Include a.conf\n"
          "<IfFile b.conf>\nHasB\n</IfFile>\n");
    wfile(f, "a.conf", "Top\n");
    wfile(f, "other/a.conf", "Other\n");
    wfile(f, "sub/a.conf", "Sub\n");
    wfile(f, "sub/b.conf", "");
    rl_conf_node_t *root = file_ok(f, "main.conf");
    assert_string_equal(dump(f, root),
        "Top\nServerRoot other/\nOther\nServerRoot \"../sub\"\nSub\nHasB\n");
    assert_string_equal(f->r.server_root, P(f, "sub"));
    rl_conf_node_t *sr = child(root, 1);
    check_args(sr, 1, "other/");
    check_pos(sr, P(f, "main.conf"), 2);
    str_err(f, "ServerRoot /nonexistent/dir\n",
            "Syntax error on line 1 of t.conf: ServerRoot must be a valid directory");
    str_err(f, "ServerRoot a.conf\n",
            "Syntax error on line 1 of t.conf: ServerRoot must be a valid directory");
    str_err(f, "ServerRoot\n", "Syntax error on line 1 of t.conf: ServerRoot takes one argument, "
            "Common directory of server-related files (logs, confs, etc.)");
    /* init normalises the root it is given */
    rl_conf_reader_t r2;
    rl_conf_reader_init(&r2, f->arena, "/etc/apache2//");
    assert_string_equal(r2.server_root, "/etc/apache2");
    rl_conf_reader_init(&r2, f->arena, "");
    assert_null(r2.server_root);
}

static void test_load_module(void **state)
{
    fx_t *f = *state;
    const char *text =
        "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
        "LoadModule rewrite_module modules/mod_rewrite.so\n"
        "LoadFile libxml2.so.2 /usr/lib/x.so\n"
        "<IfModule !x>\n  LoadModule \"quoted_module\" 'modules/with space.so'\n</IfModule>\n"
        "<IfModule x>\n  LoadModule never_module never.so\n</IfModule>\n"
        "After\n";
    /* no hook: accepted; LoadModule and LoadFile leave no node */
    check_dump(f, text, "After\n");
    f->r.load_module = stub_load_module;
    check_dump(f, text, "After\n");
    assert_int_equal(f->nloaded, 3);
    assert_string_equal(f->loaded[0],
                        "mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so");
    assert_string_equal(f->loaded[1],
                        rl_arena_printf(f->arena, "rewrite_module %s/modules/mod_rewrite.so", f->dir));
    assert_string_equal(f->loaded[2],
                        rl_arena_printf(f->arena, "quoted_module %s/modules/with space.so", f->dir));
    str_err(f, "A\nLoadModule broken_module modules/mod_broken.so\n",
            "Syntax error on line 2 of t.conf: Cannot load modules/mod_broken.so into server: "
            "no such file");
    str_err(f, "LoadModule x_module\n", "Syntax error on line 1 of t.conf: LoadModule takes two "
            "arguments, a module name and the name of a shared object file to load it from");
    str_err(f, "LoadFile\n", "Syntax error on line 1 of t.conf: LoadFile requires at least one "
            "argument, shared object file or library to load into the server at runtime");
}

/* ---- strings (-C / -c), splice, dump ---- */

static void test_read_string_and_splice(void **state)
{
    fx_t *f = *state;
    wfile(f, "apache2.conf", "<IfDefine FROM_C>\nMain ${FROM_C}\n</IfDefine>\nLast\n");
    rl_conf_node_t *pre = rl_conf_read_string(&f->r, "-C", "Define FROM_C yes\nServerName pre");
    assert_non_null(pre);
    check_pos(child(pre, 0), "-C", 2);
    assert_string_equal(pre->file, "-C");
    rl_conf_node_t *root = file_ok(f, "apache2.conf");
    rl_conf_node_t *post = rl_conf_read_string(&f->r, "-c", "ServerAdmin post\n");
    assert_non_null(post);
    rl_conf_splice(root, pre, true);
    rl_conf_splice(root, post, false);
    assert_null(pre->first_child);
    assert_null(post->first_child);
    assert_string_equal(dump(f, root), "ServerName pre\nMain yes\nLast\nServerAdmin post\n");
    for (rl_conf_node_t *c = root->first_child; c; c = c->next)
        assert_ptr_equal(c->parent, root);
    rl_conf_node_t *empty = rl_conf_read_string(&f->r, "-c", "");
    assert_non_null(empty);
    rl_conf_splice(root, empty, false);
    assert_int_equal(nchildren(root), 4);
    assert_null(rl_conf_read_string(&f->r, "-c", "</Directory>"));
    assert_string_equal(f->r.errbuf,
                        "Syntax error on line 1 of -c: </Directory> without matching <Directory> "
                        "section");
    assert_null(rl_conf_read_string(&f->r, NULL, "<Directory"));
    assert_string_equal(f->r.errbuf, "Syntax error on line 1 of -c/-C directives: <Directory> "
                        "directive missing closing '>'");
    /* a good read clears the error */
    assert_non_null(rl_conf_read_string(&f->r, "-c", "A"));
    assert_string_equal(f->r.errbuf, "");
    assert_null(f->r.err_file);
}

static void test_dump_format(void **state)
{
    fx_t *f = *state;
    check_dump(f,
        "<VirtualHost *:80>\n"
        "ServerName a\n"
        "<Directory   \"/x y\"   >\n"
        "Options\n"
        "</Directory>\n"
        "</VirtualHost>\n",
        "<VirtualHost *:80>\n"
        "    ServerName a\n"
        "    <Directory \"/x y\">\n"
        "        Options\n"
        "    </Directory>\n"
        "</VirtualHost>\n");
}

/* ---- limits, htaccess ---- */

static void test_limits(void **state)
{
    fx_t *f = *state;
    size_t n = RL_CONF_MAX_LINE + 4096;
    char *big = rl_xmalloc(n + 32);
    memcpy(big, "A\nX ", 4);
    memset(big + 4, 'y', n);
    strcpy(big + 4 + n, "\nB\n");
    str_err(f, big, "Syntax error on line 2 of t.conf: Line too long (the limit is 1048576 bytes)");
    /* a continued line counts whole: 998 bytes and a backslash per physical line */
    for (size_t i = 1000; i < n; i += 1000)
        big[i] = '\\', big[i + 1] = '\n';
    str_err(f, big, "Syntax error on line 1052 of t.conf: Line too long (the limit is 1048576 "
            "bytes)");
    free(big);
    /* ${} expansion cannot grow a line past the limit */
    char *half = rl_xcalloc(1, RL_CONF_MAX_LINE / 2 + 1);
    memset(half, 'h', RL_CONF_MAX_LINE / 2);
    rl_conf_define(&f->r, "HALF", half);
    free(half);
    str_err(f, "X ${HALF}${HALF}\n", "Syntax error on line 1 of t.conf: Line too long after ${} "
            "expansion (the limit is 1048576 bytes)");
    wfile(f, "nul.conf", "A\n");
    FILE *fp = fopen(P(f, "nul.conf"), "a");
    fwrite("B\0C\n", 1, 4, fp);
    fclose(fp);
    file_err(f, "nul.conf", rl_arena_printf(f->arena, "Syntax error on line 2 of %s: Line "
             "contains a NUL byte (is %s a text file?)", P(f, "nul.conf"), P(f, "nul.conf")));
    /* nesting */
    rl_buf_t deep = RL_BUF_INIT;
    for (int i = 0; i < RL_CONF_MAX_NESTING + 5; i++)
        rl_buf_append_c(&deep, "<D>\n");
    rl_buf_append(&deep, "", 1);
    str_err(f, deep.data, "Syntax error on line 512 of t.conf: Sections nested too deeply (the "
            "limit is 512 levels)");
    deep.len = 0;
    rl_buf_append_c(&deep, "<IfDefine NO>\n");
    for (int i = 0; i < RL_CONF_MAX_NESTING + 5; i++)
        rl_buf_append_c(&deep, "<D>\n");
    rl_buf_append(&deep, "", 1);
    str_err(f, deep.data, "Syntax error on line 512 of t.conf: Sections nested too deeply (the "
            "limit is 512 levels)");
    rl_buf_release(&deep);
}

static void test_htaccess(void **state)
{
    fx_t *f = *state;
    f->r.htaccess = true;
    f->r.module_loaded = stub_module_loaded;
    check_dump(f, "<IfModule mod_ssl.c>\nRequire all granted\n</IfModule>\n",
               "Require all granted\n");
    const char *names[] = { "Include x", "IncludeOptional x", "Define X", "UnDefine X",
                            "LoadModule a b", "LoadFile a", "ServerRoot /" };
    const char *msgs[] = { "Include", "IncludeOptional", "Define", "UnDefine", "LoadModule",
                           "LoadFile", "ServerRoot" };
    for (size_t i = 0; i < RL_NELEMS(names); i++)
        str_err(f, names[i], rl_arena_printf(f->arena, "Syntax error on line 1 of t.conf: %s not "
                "allowed here", msgs[i]));
    char line[RL_CONF_MAX_LINE_HTACCESS + 8];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    str_err(f, line, "Syntax error on line 1 of t.conf: Line too long (the limit is 8190 bytes)");
}

/* ---- paths ---- */

static void test_normalize(void **state)
{
    fx_t *f = *state;
    static const char *const cases[][2] = {
        { "/etc/apache2", "/etc/apache2" },
        { "/etc/apache2/", "/etc/apache2" },
        { "/etc//apache2/./sites-enabled/", "/etc/apache2/sites-enabled" },
        { "/etc/apache2/../nginx", "/etc/nginx" },
        { "/..", "/" },
        { "/../../x", "/x" },
        { "/", "/" },
        { "//", "/" },
        { "a/b/../../..", ".." },
        { "../a/../../b", "../../b" },
        { "./", "." },
        { "", "." },
        { "a/./b/", "a/b" },
        { "/a/*/../b", "/a/b" },
        { "/a/..b/c", "/a/..b/c" },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++)
        assert_string_equal(normalize(f->arena, cases[i][0]), cases[i][1]);
}

/* ---- Debian's layout ---- */

static void write_debian_tree(fx_t *f)
{
    wfile(f, "apache2.conf",
        "# This is the main Apache server configuration file.  It contains the\n"
        "# configuration directives that give the server its instructions.\n"
        "#ServerRoot \"/etc/apache2\"\n"
        "\n"
        "DefaultRuntimeDir ${APACHE_RUN_DIR}\n"
        "PidFile ${APACHE_PID_FILE}\n"
        "Timeout 300\n"
        "KeepAlive On\n"
        "User ${APACHE_RUN_USER}\n"
        "Group ${APACHE_RUN_GROUP}\n"
        "ErrorLog ${APACHE_LOG_DIR}/error.log\n"
        "LogLevel warn\n"
        "\n"
        "# Include module configuration:\n"
        "IncludeOptional mods-enabled/*.load\n"
        "IncludeOptional mods-enabled/*.conf\n"
        "\n"
        "# Include list of ports to listen on\n"
        "Include ports.conf\n"
        "\n"
        "<Directory />\n"
        "\tOptions FollowSymLinks\n"
        "\tAllowOverride None\n"
        "\tRequire all denied\n"
        "</Directory>\n"
        "\n"
        "<Directory /var/www/>\n"
        "\tOptions Indexes FollowSymLinks\n"
        "\tAllowOverride None\n"
        "\tRequire all granted\n"
        "</Directory>\n"
        "\n"
        "#<Directory /srv/>\n"
        "#\tOptions Indexes FollowSymLinks\n"
        "#</Directory>\n"
        "\n"
        "AccessFileName .htaccess\n"
        "<FilesMatch \"^\\.ht\">\n"
        "\tRequire all denied\n"
        "</FilesMatch>\n"
        "\n"
        "LogFormat \"%v:%p %h %l %u %t \\\"%r\\\" %>s %O \\\"%{Referer}i\\\" "
        "\\\"%{User-Agent}i\\\"\" vhost_combined\n"
        "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %O\" common\n"
        "\n"
        "IncludeOptional conf-enabled/*.conf\n"
        "IncludeOptional sites-enabled/*.conf\n"
        "\n"
        "# vim: syntax=apache ts=4 sw=4 sts=4 sr noet\n");
    wfile(f, "ports.conf",
        "Listen 80\n\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\n\n"
        "<IfModule mod_gnutls.c>\n\tListen 443\n</IfModule>\n");
    wfile(f, "mods-enabled/mpm_event.load",
        "# Conflicts: mpm_worker mpm_prefork\n"
        "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n");
    wfile(f, "mods-enabled/mpm_event.conf",
        "<IfModule mpm_event_module>\n"
        "\tStartServers\t\t\t 2\n"
        "\tMaxRequestWorkers\t  150\n"
        "</IfModule>\n");
    wfile(f, "mods-enabled/dir.load", "LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so\n");
    wfile(f, "mods-enabled/dir.conf",
        "<IfModule mod_dir.c>\n"
        "\tDirectoryIndex index.html index.cgi index.pl index.php index.xhtml index.htm\n"
        "</IfModule>\n");
    wfile(f, "mods-enabled/ssl.conf", "<IfModule mod_ssl.c>\n\tSSLRandomSeed startup builtin\n"
        "</IfModule>\n");
    wfile(f, "conf-enabled/security.conf", "ServerTokens OS\nServerSignature On\n");
    wfile(f, "sites-enabled/000-default.conf",
        "<VirtualHost *:80>\n"
        "\t#ServerName www.example.com\n"
        "\tServerAdmin webmaster@localhost\n"
        "\tDocumentRoot /var/www/html\n"
        "\tErrorLog ${APACHE_LOG_DIR}/error.log\n"
        "\tCustomLog ${APACHE_LOG_DIR}/access.log combined\n"
        "</VirtualHost>\n");
}

/* The daemon's module hooks as a test double: LoadModule records, <IfModule>
 * accepts "x_module", "mod_x.c" and the always-built-in ones. */
static char debian_loaded[8][64];
static int debian_nloaded;

static const char *debian_load(void *ctx, const char *name, const char *path)
{
    (void)ctx; (void)path;
    if (debian_nloaded < 8)
        snprintf(debian_loaded[debian_nloaded++], 64, "%s", name);
    return NULL;
}

static bool debian_is_loaded(void *ctx, const char *name)
{
    (void)ctx;
    char base[64];
    size_t n = strlen(name);
    if (sscanf(name, "mod_%63[^.].c", base) != 1)
        snprintf(base, sizeof(base), "%.*s",
                 (int)(n > 7 && strcmp(name + n - 7, "_module") == 0 ? n - 7 : n), name);
    if (strcmp(base, "so") == 0 || strcmp(base, "version") == 0)
        return true;
    char want[80];
    snprintf(want, sizeof(want), "%s_module", base);
    for (int i = 0; i < debian_nloaded; i++)
        if (strcmp(debian_loaded[i], want) == 0)
            return true;
    return false;
}

static void set_debian_env(void)
{
    setenv("APACHE_RUN_USER", "www-data", 1);
    setenv("APACHE_RUN_GROUP", "www-data", 1);
    setenv("APACHE_PID_FILE", "/var/run/apache2/apache2.pid", 1);
    setenv("APACHE_RUN_DIR", "/var/run/apache2", 1);
    setenv("APACHE_LOCK_DIR", "/var/lock/apache2", 1);
    setenv("APACHE_LOG_DIR", "/var/log/apache2", 1);
}

static void test_debian_layout(void **state)
{
    fx_t *f = *state;
    write_debian_tree(f);
    set_debian_env();
    debian_nloaded = 0;
    f->r.load_module = debian_load;
    f->r.module_loaded = debian_is_loaded;
    rl_conf_node_t *root = file_ok(f, "apache2.conf");
    assert_string_equal(dump(f, root),
        "DefaultRuntimeDir /var/run/apache2\n"
        "PidFile /var/run/apache2/apache2.pid\n"
        "Timeout 300\n"
        "KeepAlive On\n"
        "User www-data\n"
        "Group www-data\n"
        "ErrorLog /var/log/apache2/error.log\n"
        "LogLevel warn\n"
        "DirectoryIndex index.html index.cgi index.pl index.php index.xhtml index.htm\n"
        "StartServers 2\n"
        "MaxRequestWorkers 150\n"
        "Listen 80\n"
        "<Directory />\n"
        "    Options FollowSymLinks\n"
        "    AllowOverride None\n"
        "    Require all denied\n"
        "</Directory>\n"
        "<Directory /var/www/>\n"
        "    Options Indexes FollowSymLinks\n"
        "    AllowOverride None\n"
        "    Require all granted\n"
        "</Directory>\n"
        "AccessFileName .htaccess\n"
        "<FilesMatch \"^\\.ht\">\n"
        "    Require all denied\n"
        "</FilesMatch>\n"
        "LogFormat \"%v:%p %h %l %u %t \\\"%r\\\" %>s %O \\\"%{Referer}i\\\" "
        "\\\"%{User-Agent}i\\\"\" vhost_combined\n"
        "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %O\" common\n"
        "ServerTokens OS\n"
        "ServerSignature On\n"
        "<VirtualHost *:80>\n"
        "    ServerAdmin webmaster@localhost\n"
        "    DocumentRoot /var/www/html\n"
        "    ErrorLog /var/log/apache2/error.log\n"
        "    CustomLog /var/log/apache2/access.log combined\n"
        "</VirtualHost>\n");
    assert_int_equal(debian_nloaded, 2);
    assert_string_equal(debian_loaded[0], "dir_module");       /* dir.load < mpm_event.load */
    assert_string_equal(debian_loaded[1], "mpm_event_module");
    assert_null(f->r.warnings);
    rl_conf_node_t *fm = child(root, 15);
    assert_string_equal(fm->name, "FilesMatch");
    check_args(fm, 1, "^\\.ht");
    check_pos(fm, P(f, "apache2.conf"), 38);
    rl_conf_node_t *vh = child(root, 20);
    check_pos(vh, P(f, "sites-enabled/000-default.conf"), 1);
    check_pos(child(vh, 1), P(f, "sites-enabled/000-default.conf"), 4);
    check_args(child(root, 16), 2,
               "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"",
               "vhost_combined");
}

/* Reads the system's /etc/apache2 when there is one (Debian's stock tree). */
static void test_system_apache2_tree(void **state)
{
    fx_t *f = *state;
    struct stat st;
    if (stat("/etc/apache2/apache2.conf", &st) != 0)
        skip();
    set_debian_env();
    debian_nloaded = 0;
    rl_conf_reader_init(&f->r, f->arena, "/etc/apache2");
    f->r.load_module = debian_load;
    f->r.module_loaded = debian_is_loaded;
    rl_conf_node_t *root = file_ok(f, "apache2.conf");
    assert_non_null(root->first_child);
    assert_true(debian_nloaded > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lexer_words, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lexer_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comments_and_blanks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continuation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quoting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unterminated_quote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_section_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_define_and_vars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undefined_var_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_define_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_define_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ifdefine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditional_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ifmodule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ifversion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compare_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iffile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ifdirective_ifsection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_include_glob_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_include_directory_and_wildcard_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_include_optional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_include_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_include_recursion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_module, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_string_and_splice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_htaccess, setup, teardown),
        cmocka_unit_test_setup_teardown(test_normalize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debian_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_apache2_tree, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
