/* Logical lines and words of Apache configuration files, with Apache's
 * exact rules (util.c: ap_cfg_getline(), ap_getword_conf()), so that a file
 * splits into the same arguments here as in httpd. Files are read in chunks
 * rather than whole: a line limit then also stops /dev/zero. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "conf/lexer.h"

/* The read size; the fuzzer, which includes this file, makes it tiny. */
#ifndef RL_CONF_CHUNK
#define RL_CONF_CHUNK (64 * 1024)
#endif

void rl_conf_src_init_fd(rl_conf_src_t *s, const char *name, int fd, size_t max_line)
{
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->fd = fd;
    s->max_line = max_line;
    s->line = RL_BUF_INIT;
}

void rl_conf_src_init_mem(rl_conf_src_t *s, const char *name, const char *text, size_t len,
                          size_t max_line)
{
    rl_conf_src_init_fd(s, name, -1, max_line);
    s->data = text;
    s->len = len;
    s->eof = true;
}

void rl_conf_src_close(rl_conf_src_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->chunk);
    s->chunk = NULL;
    rl_buf_release(&s->line);
}

static bool refill(rl_conf_src_t *s)
{
    if (s->chunk == NULL)
        s->chunk = rl_xmalloc(RL_CONF_CHUNK);
    ssize_t n;
    do
        n = read(s->fd, s->chunk, RL_CONF_CHUNK);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        snprintf(s->err, sizeof(s->err), "Error reading %s at line %d: %s", s->name,
                 s->lineno + 1, strerror(errno));
        return false;
    }
    s->data = s->chunk;
    s->pos = 0;
    s->len = (size_t)n;
    s->eof = n == 0;
    return true;
}

static bool append_line(rl_conf_src_t *s, const char *p, size_t n)
{
    if (memchr(p, '\0', n) != NULL) {
        snprintf(s->err, sizeof(s->err), "Line contains a NUL byte (is %s a text file?)",
                 s->name);
        return false;
    }
    if (s->line.len + n > s->max_line) {
        snprintf(s->err, sizeof(s->err), "Line too long (the limit is %zu bytes)",
                 s->max_line);
        return false;
    }
    if (!rl_buf_reserve(&s->line, n + 1, 0)) {
        snprintf(s->err, sizeof(s->err), "Out of memory reading a line");
        return false;
    }
    memcpy(s->line.data + s->line.len, p, n);
    s->line.len += n;
    return true;
}

/* Appends the next physical line, without its LF, to s->line. Returns 1 with
 * *<lf> telling whether a LF ended it, 0 at the end, -1 on error. */
static int read_physical(rl_conf_src_t *s, bool *lf)
{
    bool any = false;
    *lf = false;
    for (;;) {
        if (s->pos == s->len) {
            if (s->eof)
                return any ? 1 : 0;
            if (!refill(s))
                return -1;
            continue;
        }
        const char *p = s->data + s->pos;
        size_t avail = s->len - s->pos;
        const char *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) : avail;
        if (!append_line(s, p, take))
            return -1;
        s->pos += take + (nl != NULL);
        any = true;
        if (nl) {
            *lf = true;
            return 1;
        }
    }
}

int rl_conf_src_getline(rl_conf_src_t *s, char **line)
{
    s->line.len = 0;
    bool any = false;
    for (;;) {
        bool lf;
        int rc = read_physical(s, &lf);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            if (!any)
                return 0;
            break;
        }
        any = true;
        s->lineno++;
        /* continuation: match \\[\r]\n as ap_cfg_getline() does */
        size_t n = s->line.len;
        if (lf && n && s->line.data[n - 1] == '\r')
            n--;
        if (lf && n && s->line.data[n - 1] == '\\') {
            s->line.len = n - 1;
            continue;
        }
        break;
    }
    if (!rl_buf_reserve(&s->line, 1, 0)) {
        snprintf(s->err, sizeof(s->err), "Out of memory reading a line");
        return -1;
    }
    char *b = s->line.data, *e = b + s->line.len;
    while (b < e && rl_conf_isspace((unsigned char)*b))
        b++;
    while (e > b && rl_conf_isspace((unsigned char)e[-1]))
        e--;
    *e = '\0';
    *line = b;
    return 1;
}

/* Finds the word at <p>: its content is [*start, *end), quoted by *<quote>
 * (0 if bare); *<next> is where the following word may start. Returns false
 * when only blanks are left. */
static bool scan_word(const char *p, const char **start, const char **end, char *quote,
                      const char **next, bool *unterminated)
{
    while (rl_conf_isspace((unsigned char)*p))
        p++;
    if (*p == '\0') {
        *next = p;
        return false;
    }
    const char *s;
    if (*p == '"' || *p == '\'') {
        char q = *p;
        s = p + 1;
        while (*s && *s != q) {
            if (*s == '\\' && (s[1] == q || s[1] == '\\'))
                s += 2;
            else
                s++;
        }
        *start = p + 1;
        *end = s;
        *quote = q;
        if (*s == q)
            s++;
        else if (unterminated)
            *unterminated = true;
    } else {
        s = p;
        while (*s && !rl_conf_isspace((unsigned char)*s))
            s++;
        *start = p;
        *end = s;
        *quote = 0;
    }
    while (rl_conf_isspace((unsigned char)*s))
        s++;
    *next = s;
    return true;
}

/* Copies [s, e) unescaping \\ and, inside quotes, \<quote>. */
static char *copy_word(rl_arena_t *a, const char *s, const char *e, char quote)
{
    char *d = rl_arena_alloc(a, (size_t)(e - s) + 1), *o = d;
    for (; s < e; s++) {
        if (s[0] == '\\' && s + 1 < e && (s[1] == '\\' || (quote && s[1] == quote)))
            s++;
        *o++ = *s;
    }
    *o = '\0';
    return d;
}

char *rl_conf_getword(rl_arena_t *a, const char **p, bool *unterminated)
{
    const char *s, *e, *next;
    char q;
    if (unterminated)
        *unterminated = false;
    if (!scan_word(*p, &s, &e, &q, &next, unterminated)) {
        *p = next;
        return rl_arena_strdup(a, "");
    }
    *p = next;
    return copy_word(a, s, e, q);
}

int rl_conf_split(rl_arena_t *a, const char *text, char ***argv)
{
    const char *p = text, *s, *e;
    char q;
    bool bad = false;
    int n = 0;
    while (scan_word(p, &s, &e, &q, &p, &bad))
        n++;
    if (bad)
        return -1;
    char **v = rl_arena_alloc(a, (size_t)(n + 1) * sizeof(*v));
    p = text;
    for (int i = 0; i < n; i++) {
        scan_word(p, &s, &e, &q, &p, NULL);
        v[i] = copy_word(a, s, e, q);
    }
    v[n] = NULL;
    *argv = v;
    return n;
}

bool rl_conf_has_wildcard(const char *pattern)
{
    int nesting = 0;
    for (const char *p = pattern; *p; p++) {
        switch (*p) {
        case '?':
        case '*':
            return true;
        case '\\':
            if (*++p == '\0')
                return false;
            break;
        case '[':
            nesting++;
            break;
        case ']':
            if (nesting)
                return true;
            break;
        }
    }
    return false;
}
