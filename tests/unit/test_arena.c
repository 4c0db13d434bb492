/* Unit tests for the memory units of src/core: arenas (alignment, growth,
 * limits, reset, cleanups, list copies), buffers and string views. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"

static void test_alloc_alignment_and_growth(void **state)
{
    (void)state;
    rl_arena_t *a = rl_arena_create(256);
    for (size_t n = 1; n < 5000; n += 37) {
        char *p = rl_arena_alloc(a, n);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xab, n);           /* ASan: the whole block is ours */
    }
    char *big = rl_arena_alloc(a, 100000);   /* a block of its own */
    memset(big, 1, 100000);
    assert_true(rl_arena_used(a) >= 100000);
    char *z = rl_arena_calloc(a, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(z[i], 0);
    rl_arena_destroy(a);
}

static void test_alloc_try_limit(void **state)
{
    (void)state;
    rl_arena_t *a = rl_arena_create(0);
    assert_non_null(rl_arena_alloc_try(a, 1000, 2048));
    assert_null(rl_arena_alloc_try(a, 2000, 2048));     /* over the limit */
    assert_null(rl_arena_alloc_try(a, SIZE_MAX, 0));     /* overflow */
    rl_arena_destroy(a);
}

static int order[8], norder;
static void record(void *data) { order[norder++] = (int)(intptr_t)data; }

static void test_cleanups_run_in_reverse_on_reset(void **state)
{
    (void)state;
    rl_arena_t *a = rl_arena_create(0);
    norder = 0;
    rl_arena_on_cleanup(a, record, (void *)1);
    rl_arena_on_cleanup(a, record, (void *)2);
    rl_arena_on_cleanup(a, record, (void *)3);
    rl_arena_reset(a);
    assert_int_equal(norder, 3);
    assert_int_equal(order[0], 3);
    assert_int_equal(order[2], 1);
    assert_int_equal(rl_arena_used(a), 0);
    /* usable after reset; destroy runs the new cleanups only */
    rl_arena_on_cleanup(a, record, (void *)4);
    rl_arena_destroy(a);
    assert_int_equal(norder, 4);
    assert_int_equal(order[3], 4);
}

static void test_strings(void **state)
{
    (void)state;
    rl_arena_t *a = rl_arena_create(0);
    assert_string_equal(rl_arena_strndup(a, "hello world", 5), "hello");
    assert_string_equal(rl_arena_printf(a, "%s-%d", "x", 42), "x-42");
    assert_null(rl_arena_strdup(a, NULL));
    rl_arena_destroy(a);
    assert_true(rl_str_eq(rl_str_trim(RL_STR(" \tab \t")), RL_STR("ab")));
    assert_true(rl_str_has_token(RL_STR("keep-alive, Upgrade"), "upgrade"));
    assert_false(rl_str_has_token(RL_STR("keep-alive-x"), "keep-alive"));
    uint64_t v;
    assert_true(rl_str_to_u64(RL_STR("18446744073709551615"), UINT64_MAX, &v));
    assert_true(v == UINT64_MAX);
    assert_false(rl_str_to_u64(RL_STR("18446744073709551616"), UINT64_MAX, &v));
    assert_false(rl_str_to_u64(RL_STR("12a"), UINT64_MAX, &v));
    assert_false(rl_str_to_u64(RL_STR(""), UINT64_MAX, &v));
    assert_false(rl_str_to_u64(RL_STR("101"), 100, &v));
}

typedef struct node_s {
    int v;
    struct node_s *next;
} node_t;

static void test_list_concat_copies(void **state)
{
    (void)state;
    rl_arena_t *a = rl_arena_create(0);
    node_t n3 = { 3, NULL }, n2 = { 2, NULL }, n1 = { 1, &n2 };
    node_t *c = RL_LIST_CONCAT(a, &n1, &n3, node_t);
    int want[] = { 1, 2, 3 }, i = 0;
    for (node_t *x = c; x; x = x->next, i++) {
        assert_int_equal(x->v, want[i]);
        assert_true(x != &n1 && x != &n2 && x != &n3);
    }
    assert_int_equal(i, 3);
    assert_ptr_equal(n1.next, &n2);        /* the originals are untouched */
    assert_null(n2.next);
    assert_null(RL_LIST_CONCAT(a, NULL, NULL, node_t));
    assert_int_equal(RL_LIST_CONCAT(a, NULL, &n3, node_t)->v, 3);
    rl_arena_destroy(a);
}

static void test_buffers(void **state)
{
    (void)state;
    rl_buf_t b = RL_BUF_INIT;
    rl_buf_append_c(&b, "hello ");
    rl_buf_appendf(&b, "%s %d", "world", 7);
    assert_int_equal(rl_buf_unread(&b), 13);
    assert_memory_equal(rl_buf_head(&b), "hello world 7", 13);
    rl_buf_consume(&b, 6);
    assert_memory_equal(rl_buf_head(&b), "world 7", 7);
    /* reserve moves the unread part to the front when that is enough */
    size_t cap = b.cap;
    assert_true(rl_buf_reserve(&b, cap - 7, 0));
    assert_int_equal(b.pos, 0);
    assert_int_equal(b.cap, cap);
    assert_false(rl_buf_reserve(&b, 1 << 20, 4096));   /* over the limit: unchanged */
    assert_memory_equal(rl_buf_head(&b), "world 7", 7);
    rl_buf_consume(&b, 7);
    assert_int_equal(b.len, 0);                          /* emptied: rewound */
    char big[1000];
    memset(big, 'q', sizeof(big));
    rl_buf_appendf(&b, "%.*s", (int)sizeof(big), big);  /* longer than the fast path */
    assert_int_equal(rl_buf_unread(&b), 1000);
    rl_buf_release(&b);
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_alignment_and_growth),
        cmocka_unit_test(test_alloc_try_limit),
        cmocka_unit_test(test_cleanups_run_in_reverse_on_reset),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_list_concat_copies),
        cmocka_unit_test(test_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
