/* Extension -> MIME type tables.
 *
 * Each table is an open-addressing hash (linear probing, power-of-two size,
 * at most 3/4 full) of lower-cased extensions, keyed by FNV-1a computed
 * case-insensitively so that a lookup needs neither a copy nor a lower-cased
 * key. A RemoveType is an entry whose type is "": it stops the walk to the
 * parents and yields nothing. Growth leaves the old slot array in the arena;
 * tables are built once per configuration, so that is a few KB at most. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "http/mime.h"

typedef struct {
    const char *ext;   /* lower-case, NUL-terminated; NULL: free slot */
    size_t len;
    uint32_t hash;
    const char *type;  /* "" for RemoveType */
} mime_entry_t;

struct rl_mime_s {
    rl_arena_t *arena;
    const rl_mime_t *parent;
    mime_entry_t *slots;
    size_t cap;        /* power of two */
    size_t used;
};

static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static uint32_t hash_ci(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= lower((unsigned char)p[i]);
        h *= 16777619u;
    }
    return h;
}

static bool key_eq(const mime_entry_t *e, const char *p, size_t n, uint32_t h)
{
    if (e->hash != h || e->len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)e->ext[i] != lower((unsigned char)p[i]))
            return false;
    return true;
}

static mime_entry_t *find_slot(const rl_mime_t *m, const char *p, size_t n, uint32_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        mime_entry_t *e = &m->slots[i];
        if (e->ext == NULL || key_eq(e, p, n, h))
            return e;
    }
}

static void grow(rl_mime_t *m)
{
    mime_entry_t *old = m->slots;
    size_t oldcap = m->cap;
    m->cap *= 2;
    m->slots = rl_arena_calloc(m->arena, m->cap * sizeof(*m->slots));
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].ext == NULL)
            continue;
        *find_slot(m, old[i].ext, old[i].len, old[i].hash) = old[i];
    }
}

static rl_mime_t *create(rl_arena_t *a, const rl_mime_t *parent, size_t cap)
{
    rl_mime_t *m = rl_arena_calloc(a, sizeof(*m));
    m->arena = a;
    m->parent = parent;
    m->cap = cap;
    m->slots = rl_arena_calloc(a, cap * sizeof(*m->slots));
    return m;
}

rl_mime_t *rl_mime_create(rl_arena_t *a, const rl_mime_t *parent)
{
    return create(a, parent, 8);
}

rl_mime_t *rl_mime_overlay(rl_arena_t *a, const rl_mime_t *parent)
{
    return create(a, parent, 8);
}

/* Sets <ext>[0..<n>) to <type> (already in the arena). */
static void set(rl_mime_t *m, const char *ext, size_t n, const char *type)
{
    if (n == 0)
        return;
    if ((m->used + 1) * 4 > m->cap * 3)
        grow(m);
    uint32_t h = hash_ci(ext, n);
    mime_entry_t *e = find_slot(m, ext, n, h);
    if (e->ext == NULL) {
        char *k = rl_arena_alloc(m->arena, n + 1);
        for (size_t i = 0; i < n; i++)
            k[i] = (char)lower((unsigned char)ext[i]);
        k[n] = '\0';
        e->ext = k;
        e->len = n;
        e->hash = h;
        m->used++;
    }
    e->type = type;
}

static void set_directive(rl_mime_t *m, const char *type, const char *ext)
{
    if (ext[0] == '.')
        ext++;
    set(m, ext, strlen(ext), type);
}

void rl_mime_add(rl_mime_t *m, const char *type, const char *ext)
{
    char *t = rl_arena_strdup(m->arena, type);
    for (char *q = t; *q; q++)
        *q = (char)lower((unsigned char)*q);
    set_directive(m, t, ext);
}

void rl_mime_remove(rl_mime_t *m, const char *ext)
{
    set_directive(m, "", ext);
}

size_t rl_mime_count(const rl_mime_t *m)
{
    return m->used;
}

const char *rl_mime_lookup_ext(const rl_mime_t *m, rl_str_t ext)
{
    if (ext.len == 0)
        return NULL;
    uint32_t h = hash_ci(ext.p, ext.len);
    for (; m; m = m->parent) {
        const mime_entry_t *e = find_slot(m, ext.p, ext.len, h);
        if (e->ext != NULL)
            return e->type[0] ? e->type : NULL;
    }
    return NULL;
}

const char *rl_mime_lookup(const rl_mime_t *m, rl_str_t filename)
{
    const char *p = filename.p, *end = filename.p + filename.len;
    for (const char *q = p; q < end; q++)
        if (*q == '/')
            p = q + 1;
    while (p < end && *p == '.')
        p++;
    while (p < end && *p != '.')
        p++;

    const char *type = NULL;
    while (p < end) {
        const char *ext = ++p;   /* skip the dot */
        while (p < end && *p != '.')
            p++;
        const char *t = rl_mime_lookup_ext(m, rl_str(ext, (size_t)(p - ext)));
        if (t)
            type = t;
    }
    return type;
}

/* ---- mime.types ---------------------------------------------------------- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static void load_line(rl_mime_t *m, const char *line)
{
    const char *p = line;
    while (is_blank(*p))
        p++;
    if (*p == '#' || *p == '\0')
        return;
    const char *t = p;
    while (*p && !is_blank(*p))
        p++;
    size_t tlen = (size_t)(p - t);
    const char *type = NULL;
    for (;;) {
        while (is_blank(*p))
            p++;
        if (*p == '\0')
            break;
        const char *ext = p;
        while (*p && !is_blank(*p))
            p++;
        if (type == NULL)
            type = rl_arena_strndup(m->arena, t, tlen);
        set(m, ext, (size_t)(p - ext), type);
    }
}

rl_mime_t *rl_mime_load(rl_arena_t *a, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        if (err && errlen)
            snprintf(err, errlen, "could not open mime types config file %s: %s",
                     path, strerror(errno));
        return NULL;
    }
    rl_mime_t *m = create(a, NULL, 2048);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0)
        load_line(m, line);
    bool failed = ferror(f);
    int saved = errno;
    free(line);
    fclose(f);
    if (failed) {
        if (err && errlen)
            snprintf(err, errlen, "could not read mime types config file %s: %s",
                     path, strerror(saved));
        return NULL;
    }
    return m;
}
