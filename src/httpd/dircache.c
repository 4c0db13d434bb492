/* Open-addressing hash table from (server, section ids) to merged
 * per-directory configurations. The merges are few and bounded by the
 * configuration, not by requests: the number of sections is fixed, and the
 * table stops growing at a cap (then merges go to the request's arena). */
#include <stdlib.h>
#include "httpd/config.h"
#include "httpd/dircache.h"

#define CAP_MAX 8192

typedef struct {
    const rl_server_t *server;
    uint32_t ids[RL_DIRCACHE_MAX_IDS];
    unsigned n;
    uint64_t hash;
    rl_dirconf_t *conf;
} entry_t;

typedef struct rl_dircache_s {
    entry_t **slots;
    size_t cap, used;
} dircache_t;

static uint64_t key_hash(const rl_server_t *s, rl_section_t **secs, unsigned n)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)s;
    for (unsigned i = 0; i < n; i++) {
        h ^= secs[i]->id + 0x9e3779b97f4a7c15ull;
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static bool key_eq(const entry_t *e, const rl_server_t *s, rl_section_t **secs,
                   unsigned n, uint64_t h)
{
    if (e->hash != h || e->server != s || e->n != n)
        return false;
    for (unsigned i = 0; i < n; i++)
        if (e->ids[i] != secs[i]->id)
            return false;
    return true;
}

static rl_dirconf_t *merge_all(rl_arena_t *a, rl_server_t *s, rl_section_t **secs, unsigned n)
{
    rl_dirconf_t *d = s->lookup_defaults;
    for (unsigned i = 0; i < n; i++)
        d = rl_dirconf_merge(a, d, secs[i]->conf);
    return d;
}

static void grow(rl_config_t *cf, dircache_t *c)
{
    size_t cap = c->cap ? c->cap * 2 : 64;
    entry_t **slots = rl_xcalloc(cap, sizeof(*slots));
    for (size_t i = 0; i < c->cap; i++) {
        entry_t *e = c->slots[i];
        if (e == NULL)
            continue;
        size_t j = e->hash & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = e;
    }
    (void)cf;
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
}

static void cache_free(void *data)
{
    dircache_t *c = data;
    free(c->slots);
}

rl_dirconf_t *rl_dircache_get(rl_config_t *cf, rl_server_t *s, rl_section_t **secs,
                              unsigned n, rl_arena_t *scratch)
{
    if (n == 0)
        return s->lookup_defaults;
    dircache_t *c = cf->dircache;
    if (c == NULL) {
        c = cf->dircache = rl_arena_calloc(cf->arena, sizeof(*c));
        rl_arena_on_cleanup(cf->arena, cache_free, c);
    }
    uint64_t h = key_hash(s, secs, n);
    if (c->cap) {
        for (size_t j = h & (c->cap - 1); c->slots[j]; j = (j + 1) & (c->cap - 1))
            if (key_eq(c->slots[j], s, secs, n, h))
                return c->slots[j]->conf;
    }
    if (n > RL_DIRCACHE_MAX_IDS || c->used >= CAP_MAX)
        return merge_all(scratch, s, secs, n);
    if ((c->used + 1) * 2 > c->cap)
        grow(cf, c);
    entry_t *e = rl_arena_calloc(cf->arena, sizeof(*e));
    e->server = s;
    e->n = n;
    e->hash = h;
    for (unsigned i = 0; i < n; i++)
        e->ids[i] = secs[i]->id;
    e->conf = merge_all(cf->arena, s, secs, n);
    size_t j = h & (c->cap - 1);
    while (c->slots[j])
        j = (j + 1) & (c->cap - 1);
    c->slots[j] = e;
    c->used++;
    return e->conf;
}

size_t rl_dircache_size(const rl_config_t *cf)
{
    return cf->dircache ? cf->dircache->used : 0;
}
