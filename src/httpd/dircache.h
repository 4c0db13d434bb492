/* The per-directory configuration cache: the merge of the sections that
 * matched a request, keyed by their identities, computed once per distinct
 * combination and kept for the life of the configuration generation. */
#ifndef RL_DIRCACHE_H
#define RL_DIRCACHE_H

#include "httpd/httpd.h"

#define RL_DIRCACHE_MAX_IDS 64

/* Returns the merge of <server>'s defaults with <secs>[0..n) in order. The
 * result is cached in the configuration; <scratch> is used (and the result
 * lives there) only when the cache is full or n exceeds its key size. */
rl_dirconf_t *rl_dircache_get(rl_config_t *cf, rl_server_t *server,
                              rl_section_t **secs, unsigned n, rl_arena_t *scratch);
size_t rl_dircache_size(const rl_config_t *cf);

#endif
