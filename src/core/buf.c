/* Byte buffers. Growth doubles; consumed space is reclaimed by moving the
 * unread tail to the front only when that avoids a reallocation. */
#include <stdio.h>
#include <stdlib.h>
#include "core/buf.h"

bool rl_buf_reserve(rl_buf_t *b, size_t n, size_t limit)
{
    if (b->cap - b->len >= n)
        return true;
    size_t unread = b->len - b->pos;
    if (b->pos && b->cap - unread >= n) {
        memmove(b->data, b->data + b->pos, unread);
        b->pos = 0;
        b->len = unread;
        return true;
    }
    if (unread + n < n || (limit && unread + n > limit))
        return false;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < unread + n)
        cap *= 2;
    if (limit && cap > limit)
        cap = limit;
    char *d = malloc(cap);
    if (d == NULL)
        return false;
    if (unread)
        memcpy(d, b->data + b->pos, unread);
    free(b->data);
    b->data = d;
    b->cap = cap;
    b->pos = 0;
    b->len = unread;
    return true;
}

void rl_buf_append(rl_buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (!rl_buf_reserve(b, n, 0)) {
        fprintf(stderr, "relais: out of memory growing a buffer by %zu\n", n);
        abort();
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void rl_buf_vappendf(rl_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        rl_buf_append(b, small, (size_t)n);
        return;
    }
    if (!rl_buf_reserve(b, (size_t)n + 1, 0))
        abort();
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void rl_buf_appendf(rl_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rl_buf_vappendf(b, fmt, ap);
    va_end(ap);
}

void rl_buf_consume(rl_buf_t *b, size_t n)
{
    b->pos += n;
    if (b->pos >= b->len)
        b->pos = b->len = 0;
}

void rl_buf_release(rl_buf_t *b)
{
    free(b->data);
    *b = RL_BUF_INIT;
}
