/* libFuzzer driver for src/conf/lexer.c and src/conf/tree.c, the Apache
 * configuration reader.
 *
 * The input is read twice with fresh readers: as a string (origin: the path
 * below) and, when it has no NUL byte, from that path as a file, read in
 * 7-byte chunks so that lines straddle reads. Both must give the same tree
 * or the same error. A good tree is walked: every node has a name, a file, a
 * line and consistent parent links, and no meta directive is left in it.
 *
 * The reader's file-system calls are confined to a scratch directory made
 * at start-up (with files to Include), so "Include /" cannot read the host. */
#define RL_CONF_CHUNK 7
#include "sandbox.h"
#include <assert.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf/lexer.c"
#include "conf/tree.c"


static bool inside(const char *path)
{
    return strncmp(path, sandbox, sandbox_len) == 0 &&
           (path[sandbox_len] == '/' || path[sandbox_len] == '\0');
}

static int guarded_open(const char *path, int flags, ...)
{
    if (!inside(path)) {
        errno = EACCES;
        return -1;
    }
    return open(path, flags);
}

static DIR *guarded_opendir(const char *path)
{
    if (!inside(path)) {
        errno = EACCES;
        return NULL;
    }
    return opendir(path);
}

static int guarded_stat(const char *path, struct stat *st)
{
    if (!inside(path)) {
        errno = EACCES;
        return -1;
    }
    return stat(path, st);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    sandbox_make("/tmp/fuzz-conf-XXXXXX");
    put("a.conf", "A 1\n<Directory /x>\n  B \"two words\"\n</Directory>\n");
    put("conf.d/1.conf", "Define FROM_INCLUDE 1\nOne ${FROM_INCLUDE}\n");
    put("conf.d/2.conf", "<IfModule mod_two.c>\nTwo\n</IfModule>\n");
    put("conf.d/sub/3.conf", "Three \\\n  continued\n");
    put("conf.d/.hidden", "Hidden\n");
    put("loop.conf", "Include loop.conf\n");
    put("open.conf", "<VirtualHost *:80>\n");
    put("mods/x.load", "LoadModule x_module mods/x.so\nLoadModule bad_module mods/bad.so\n");
    put("srv/a.conf", "InSrv\n");
    setenv("FUZZ_ENV", "from-env", 1);
    sys.open = guarded_open;
    sys.opendir = guarded_opendir;
    sys.stat = guarded_stat;
    return 0;
}

static bool hook_module(void *ctx, const char *name)
{
    (void)ctx;
    return name[0] == 'm' || strstr(name, "ssl") != NULL;
}

static const char *hook_load(void *ctx, const char *name, const char *path)
{
    (void)ctx;
    assert(path[0] == '/');
    return strstr(name, "bad") ? "Cannot load module" : NULL;
}

static bool hook_known(void *ctx, const char *name)
{
    (void)ctx;
    return strlen(name) % 2 == 0;
}

static void check_tree(const rl_conf_node_t *parent, int depth)
{
    static const char *const gone[] = { "Include", "IncludeOptional", "Define", "UnDefine",
                                        "LoadModule", "LoadFile" };
    static const char *const conds_gone[] = { "IfDefine", "IfModule", "IfVersion", "IfFile",
                                              "IfDirective", "IfSection" };
    assert(depth <= RL_CONF_MAX_NESTING);
    for (const rl_conf_node_t *n = parent->first_child; n; n = n->next) {
        assert(n->parent == parent);
        assert(n->name && n->args_raw && n->file && n->file[0]);
        assert(n->line >= 1);
        assert(n->argc >= 0 && n->argv && n->argv[n->argc] == NULL);
        for (int i = 0; i < n->argc; i++)
            assert(n->argv[i] != NULL);
        if (n->section) {
            for (size_t i = 0; i < RL_NELEMS(conds_gone); i++)
                assert(strcasecmp(n->name, conds_gone[i]) != 0);
            check_tree(n, depth + 1);
        } else {
            assert(n->first_child == NULL);
            assert(n->name[0] != '\0');
            for (size_t i = 0; i < RL_NELEMS(gone); i++)
                assert(strcasecmp(n->name, gone[i]) != 0);
        }
    }
}

static void setup_reader(rl_conf_reader_t *r, rl_arena_t *a)
{
    rl_conf_reader_init(r, a, sandbox);
    r->module_loaded = hook_module;
    r->load_module = hook_load;
    r->directive_known = hook_known;
    rl_conf_define(r, "CLI", NULL);
    rl_conf_define(r, "VALUE", "v a l");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    bool has_nul = memchr(data, '\0', size) != NULL;

    rl_arena_t *a1 = rl_arena_create(0), *a2 = rl_arena_create(0);
    rl_conf_reader_t r1, r2;
    setup_reader(&r1, a1);
    setup_reader(&r2, a2);
    rl_buf_t d1 = RL_BUF_INIT, d2 = RL_BUF_INIT;

    FILE *f = fopen(input_path, "w");   /* first: the input may include itself */
    if (f == NULL)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);

    rl_conf_node_t *t1 = rl_conf_read_string(&r1, input_path, text);
    if (t1) {
        assert(r1.errbuf[0] == '\0');
        check_tree(t1, 0);
        rl_conf_dump(t1, &d1);
    } else {
        assert(strncmp(r1.errbuf, "Syntax error on line ", 21) == 0);
        assert(r1.err_file != NULL && r1.err_line >= 0);
    }
    rl_buf_t w = RL_BUF_INIT;
    rl_conf_reader_warnings(&r1, &w);
    rl_buf_release(&w);

    if (!has_nul) {
        rl_conf_node_t *t2 = rl_conf_read_file(&r2, "in.conf");
        assert((t1 == NULL) == (t2 == NULL));
        if (t2) {
            check_tree(t2, 0);
            rl_conf_dump(t2, &d2);
            assert(d1.len == d2.len && (d1.len == 0 || memcmp(d1.data, d2.data, d1.len) == 0));
        } else {
            assert(strcmp(r1.errbuf, r2.errbuf) == 0);
        }
    }

    rl_buf_release(&d1);
    rl_buf_release(&d2);
    rl_arena_destroy(a1);
    rl_arena_destroy(a2);
    free(text);
    return 0;
}
