/* libFuzzer driver for src/http/expr.c, Apache's ap_expr.
 *
 * The first byte picks the mode (condition or string expression) and the
 * values the variable callback hands out; the rest, up to its first NUL, is
 * the expression. It is compiled twice (same result, same message; a short
 * error buffer holds a prefix of the message). A compiled condition is
 * evaluated twice (same result, in {-1, 0, 1}, -1 with a reason) and must
 * agree with "!(...)" and "(...) && true" compiled around it. A string
 * expression gives the same string twice, or NULL with a reason. The file
 * tests only stat(); nothing here writes to the file system. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "http/expr.h"

static unsigned flavour;

/* Values made from the name so that the fuzzer can steer them: a header's
 * value is its name ("HTTP:abc" gives "abc"). */
static const char *var_cb(void *ctx, const char *name)
{
    static const char *const addrs[] = {
        "127.0.0.1", "::1", "10.1.2.3", "::ffff:10.0.0.1", "2001:db8::1", "x", "",
    };
    static const char *const files[] = { "/", "/etc/passwd", "/nonexistent", "", "/dev/null" };
    const char *colon = strchr(name, ':');

    assert(ctx == &flavour);
    assert(name[0] != '\0');
    if (strcmp(name, "REMOTE_ADDR") == 0)
        return addrs[flavour % (sizeof(addrs) / sizeof(addrs[0]))];
    if (strcmp(name, "REQUEST_FILENAME") == 0)
        return files[flavour % (sizeof(files) / sizeof(files[0]))];
    if (colon)
        return colon + 1;
    return (flavour & 8) ? name : NULL;
}

static void check_compile(rl_arena_t *a, const char *src, bool string, rl_expr_t **out)
{
    char err[512], err2[512], small[6];
    rl_expr_t *e1 = string ? rl_expr_compile_string(a, src, err, sizeof(err))
                           : rl_expr_compile(a, src, err, sizeof(err));
    rl_expr_t *e2 = string ? rl_expr_compile_string(a, src, err2, sizeof(err2))
                           : rl_expr_compile(a, src, err2, sizeof(err2));
    rl_expr_t *e3 = string ? rl_expr_compile_string(a, src, small, sizeof(small))
                           : rl_expr_compile(a, src, small, sizeof(small));

    assert((e1 == NULL) == (e2 == NULL) && (e1 == NULL) == (e3 == NULL));
    assert(strcmp(err, err2) == 0);
    assert(strlen(small) < sizeof(small) && strncmp(err, small, strlen(small)) == 0);
    if (e1 == NULL)
        assert(err[0] != '\0');
    else
        assert(err[0] == '\0');
    *out = e1;
}

static int eval_cond(const rl_expr_t *e, rl_arena_t *a)
{
    rl_expr_captures_t cap = { 0 };
    rl_expr_env_t env = { var_cb, &flavour, a, (flavour & 16) ? &cap : NULL, NULL };
    int r = rl_expr_eval(e, &env);

    assert(r == -1 || r == 0 || r == 1);
    assert((r == -1) == (env.error != NULL));
    assert(rl_expr_eval_string(e, &env) == NULL && env.error != NULL);
    return r;
}

/* <src> wrapped as <pre>src<post>, when that still compiles. */
static int eval_wrapped(rl_arena_t *a, const char *pre, const char *src, const char *post)
{
    size_t n = strlen(pre) + strlen(src) + strlen(post) + 1;
    char *w = malloc(n), err[256];
    rl_expr_t *e;
    int r = -2;

    strcpy(w, pre);
    strcat(w, src);
    strcat(w, post);
    if ((e = rl_expr_compile(a, w, err, sizeof(err))) != NULL)
        r = eval_cond(e, a);
    free(w);
    return r;
}

static void fuzz_cond(rl_arena_t *a, const rl_expr_t *e, const char *src)
{
    int r = eval_cond(e, a), neg, and;

    assert(eval_cond(e, a) == r);
    neg = eval_wrapped(a, "!(", src, ")");
    assert(neg == -2 || neg == (r < 0 ? -1 : !r));
    and = eval_wrapped(a, "(", src, ") && true");
    assert(and == -2 || and == r);
}

static void fuzz_string(rl_arena_t *a, const rl_expr_t *e)
{
    rl_expr_env_t env = { var_cb, &flavour, a, NULL, NULL };
    const char *s1 = rl_expr_eval_string(e, &env);
    char *copy = s1 ? strdup(s1) : NULL;

    assert((s1 == NULL) == (env.error != NULL));
    const char *s2 = rl_expr_eval_string(e, &env);
    assert((s1 == NULL) == (s2 == NULL));
    assert(s1 == NULL || strcmp(copy, s2) == 0);
    assert(rl_expr_eval(e, &env) == -1 && env.error != NULL);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *src = malloc(size);
    rl_arena_t *a = rl_arena_create(0);
    rl_expr_t *e;
    bool string = data[0] & 1;

    flavour = data[0] >> 1;
    memcpy(src, data + 1, size - 1);
    src[size - 1] = '\0';
    check_compile(a, src, string, &e);
    if (e && string)
        fuzz_string(a, e);
    else if (e)
        fuzz_cond(a, e, src);
    rl_arena_destroy(a);
    free(src);
    return 0;
}
