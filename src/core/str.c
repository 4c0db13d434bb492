/* String views and the allocation wrappers that implement the OOM policy. */
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include "core/str.h"

static void oom(size_t n)
{
    fprintf(stderr, "relais: out of memory allocating %zu bytes\n", n);
    abort();
}

void *rl_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *rl_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom(n * size);
    return p;
}

void *rl_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

char *rl_xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        oom(strlen(s));
    return d;
}

rl_str_t rl_str_trim(rl_str_t s)
{
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.len--;
    }
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
        s.len--;
    return s;
}

ssize_t rl_str_chr(rl_str_t s, char c)
{
    const char *q = s.len ? memchr(s.p, c, s.len) : NULL;
    return q ? q - s.p : -1;
}

bool rl_str_has_token(rl_str_t list, const char *tok)
{
    rl_str_t t = rl_str_c(tok);
    while (list.len) {
        ssize_t comma = rl_str_chr(list, ',');
        rl_str_t item = rl_str(list.p, comma < 0 ? list.len : (size_t)comma);
        if (rl_str_caseeq(rl_str_trim(item), t))
            return true;
        if (comma < 0)
            break;
        list.p += comma + 1;
        list.len -= (size_t)comma + 1;
    }
    return false;
}

bool rl_str_to_u64(rl_str_t s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        unsigned d = (unsigned)(s.p[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

void rl_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
