/* Arenas: bump allocation in a chain of blocks. Large allocations get a block
 * of their own so a request that saw one big header does not keep a big
 * block for the next request after reset. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/arena.h"

#define ALIGN 16
#define DEFAULT_SIZE 4096

typedef struct block_s {
    struct block_s *next;
    size_t size;   /* usable bytes after the header */
    size_t used;
    _Alignas(ALIGN) unsigned char data[];
} block_t;

struct rl_arena_s {
    block_t *head;         /* current block, allocation happens here */
    block_t *first;        /* kept across reset */
    rl_cleanup_t *cleanups;
    size_t total;          /* bytes handed out, for limits */
};

static block_t *block_new(size_t size)
{
    block_t *b = malloc(sizeof(*b) + size);
    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

rl_arena_t *rl_arena_create(size_t size)
{
    if (size == 0)
        size = DEFAULT_SIZE;
    rl_arena_t *a = rl_xmalloc(sizeof(*a));
    a->first = a->head = block_new(size);
    if (a->first == NULL)
        abort();
    a->cleanups = NULL;
    a->total = 0;
    return a;
}

static void run_cleanups(rl_arena_t *a)
{
    /* handlers may register further cleanups: loop until none is left */
    while (a->cleanups) {
        rl_cleanup_t *c = a->cleanups;
        a->cleanups = NULL;
        for (; c; c = c->next)
            if (c->handler)
                c->handler(c->data);
    }
}

static void free_blocks(block_t *b, block_t *keep)
{
    while (b) {
        block_t *next = b->next;
        if (b != keep)
            free(b);
        b = next;
    }
}

void rl_arena_destroy(rl_arena_t *a)
{
    if (a == NULL)
        return;
    run_cleanups(a);
    free_blocks(a->head, NULL);
    free(a);
}

void rl_arena_reset(rl_arena_t *a)
{
    run_cleanups(a);
    free_blocks(a->head, a->first);
    a->first->next = NULL;
    a->first->used = 0;
    a->head = a->first;
    a->total = 0;
}

void *rl_arena_alloc_try(rl_arena_t *a, size_t n, size_t limit)
{
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < n || (limit && a->total + need > limit))
        return NULL;
    block_t *b = a->head;
    if (b->size - b->used < need) {
        size_t size = need > a->first->size / 2 ? need : a->first->size;
        block_t *nb = block_new(size);
        if (nb == NULL)
            return NULL;
        if (size == need && b->size - b->used >= ALIGN) {
            /* a dedicated block: keep filling the current one afterwards */
            nb->next = b->next;
            b->next = nb;
            nb->used = need;
            a->total += need;
            return nb->data;
        }
        nb->next = b;
        a->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    return p;
}

void *rl_arena_alloc(rl_arena_t *a, size_t n)
{
    void *p = rl_arena_alloc_try(a, n, 0);
    if (p == NULL)
        abort();
    return p;
}

void *rl_arena_calloc(rl_arena_t *a, size_t n)
{
    void *p = rl_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *rl_arena_strndup(rl_arena_t *a, const char *s, size_t n)
{
    char *d = rl_arena_alloc(a, n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *rl_arena_strdup(rl_arena_t *a, const char *s)
{
    return s ? rl_arena_strndup(a, s, strlen(s)) : NULL;
}

rl_str_t rl_arena_strdup_str(rl_arena_t *a, rl_str_t s)
{
    return rl_str(rl_arena_strndup(a, s.p, s.len), s.len);
}

char *rl_arena_printf(rl_arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *d = rl_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

size_t rl_arena_used(const rl_arena_t *a)
{
    return a->total;
}

rl_cleanup_t *rl_arena_cleanup_add(rl_arena_t *a)
{
    rl_cleanup_t *c = rl_arena_calloc(a, sizeof(*c));
    c->next = a->cleanups;
    a->cleanups = c;
    return c;
}

void rl_arena_on_cleanup(rl_arena_t *a, rl_cleanup_cb handler, void *data)
{
    rl_cleanup_t *c = rl_arena_cleanup_add(a);
    c->handler = handler;
    c->data = data;
}

void *rl_arena_list_concat(rl_arena_t *a, const void *first, const void *second,
                           size_t size, size_t next_off)
{
    void *head = NULL, **tail = &head;
    for (int pass = 0; pass < 2; pass++) {
        for (const char *x = pass ? second : first; x; x = *(char *const *)(x + next_off)) {
            char *c = rl_arena_alloc(a, size);
            memcpy(c, x, size);
            *(void **)(c + next_off) = NULL;
            *tail = c;
            tail = (void **)(c + next_off);
        }
    }
    return head;
}
