/* String views: a pointer and a length, never owning, never NUL-terminated
 * by contract. Parsers hand these out pointing into their input buffer. */
#ifndef RL_STR_H
#define RL_STR_H

#include <string.h>
#include <strings.h>
#include "core/rl.h"

typedef struct {
    const char *p;
    size_t len;
} rl_str_t;

#define RL_STR(lit) ((rl_str_t){ (lit), sizeof(lit) - 1 })
#define RL_STR_NULL ((rl_str_t){ NULL, 0 })
/* printf("%.*s", RL_STR_FMT(s)) */
#define RL_STR_FMT(s) (int)(s).len, (s).p

static inline rl_str_t rl_str(const char *p, size_t len) { return (rl_str_t){ p, len }; }
static inline rl_str_t rl_str_c(const char *cstr) { return (rl_str_t){ cstr, cstr ? strlen(cstr) : 0 }; }

static inline bool rl_str_eq(rl_str_t a, rl_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}
static inline bool rl_str_caseeq(rl_str_t a, rl_str_t b)
{
    return a.len == b.len && (a.len == 0 || strncasecmp(a.p, b.p, a.len) == 0);
}
static inline bool rl_str_caseeq_c(rl_str_t a, const char *c) { return rl_str_caseeq(a, rl_str_c(c)); }
static inline bool rl_str_eq_c(rl_str_t a, const char *c) { return rl_str_eq(a, rl_str_c(c)); }
static inline bool rl_str_starts(rl_str_t s, rl_str_t prefix)
{
    return s.len >= prefix.len && memcmp(s.p, prefix.p, prefix.len) == 0;
}

/* Trims spaces and horizontal tabs from both ends. */
rl_str_t rl_str_trim(rl_str_t s);
/* Finds <c> in <s>; returns its index or -1. */
ssize_t rl_str_chr(rl_str_t s, char c);
/* Case-insensitive search for token <tok> in a comma-separated list such as a
 * Connection header ("keep-alive, Upgrade"). */
bool rl_str_has_token(rl_str_t list, const char *tok);
/* Parses a non-negative decimal integer that fills all of <s>; no sign, no
 * spaces. Returns false on an empty string, a non-digit or overflow past
 * <max>. */
bool rl_str_to_u64(rl_str_t s, uint64_t max, uint64_t *out);

#endif
