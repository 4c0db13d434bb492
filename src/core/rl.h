/* Conventions every unit shares: return codes and a few tiny helpers.
 *
 * Functions that do work return RL_OK, RL_ERROR, RL_AGAIN (wait for an event)
 * or RL_DECLINED (not mine: try the next handler). Parsers return the bytes
 * consumed, 0 for "need more input", -1 for a protocol error. */
#ifndef RL_RL_H
#define RL_RL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#define RL_OK        0
#define RL_ERROR    -1
#define RL_AGAIN    -2
#define RL_DONE     -4
#define RL_DECLINED -5

#define RL_UNSET    -1   /* "not set in this scope" for numbers and flags */

#define RL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RL_MAX(a, b) ((a) > (b) ? (a) : (b))
#define RL_NELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define RL_CONTAINER_OF(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

/* The OOM policy: small, fixed-size allocations go through these and abort
 * the process on failure (there is nothing sane left to do). Allocations whose
 * size comes from input (bodies, headers) must use plain malloc() and fail the
 * request instead. */
void *rl_xmalloc(size_t n);
void *rl_xcalloc(size_t n, size_t size);
void *rl_xrealloc(void *p, size_t n);
char *rl_xstrdup(const char *s);

/* Formats a message into the caller's error buffer <err> of <errlen> bytes
 * (the "char *err, size_t errlen" pair of many functions); NULL or 0: the
 * message is dropped. */
void rl_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
