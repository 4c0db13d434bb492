/* Arenas: memory that lives as long as one thing (a config generation, a
 * connection, a request) and is released all at once, running the cleanup
 * handlers registered on it in reverse order of registration. */
#ifndef RL_ARENA_H
#define RL_ARENA_H

#include "core/rl.h"
#include "core/str.h"

typedef struct rl_arena_s rl_arena_t;
typedef void (*rl_cleanup_cb)(void *data);

typedef struct rl_cleanup_s {
    rl_cleanup_cb handler;
    void *data;
    struct rl_cleanup_s *next;
} rl_cleanup_t;

/* Creates an arena whose first block holds about <size> bytes (0: a default).
 * Aborts on OOM. */
rl_arena_t *rl_arena_create(size_t size);
/* Runs the cleanups and frees everything; <a> is invalid afterwards. NULL ok. */
void rl_arena_destroy(rl_arena_t *a);
/* Runs the cleanups and forgets every allocation, keeping the first block so
 * the next use does not call malloc. */
void rl_arena_reset(rl_arena_t *a);

/* Allocates <n> bytes aligned for any type. Aborts on OOM: use
 * rl_arena_alloc_try() when <n> comes from input. */
void *rl_arena_alloc(rl_arena_t *a, size_t n);
/* As rl_arena_alloc() but zero-filled. */
void *rl_arena_calloc(rl_arena_t *a, size_t n);
/* As rl_arena_alloc() but returns NULL when memory is short or <n> exceeds
 * <limit> bytes in total for this arena (0: no limit). */
void *rl_arena_alloc_try(rl_arena_t *a, size_t n, size_t limit);
/* Copies into the arena as a NUL-terminated string. */
char *rl_arena_strdup(rl_arena_t *a, const char *s);
char *rl_arena_strndup(rl_arena_t *a, const char *s, size_t n);
rl_str_t rl_arena_strdup_str(rl_arena_t *a, rl_str_t s);
/* printf into the arena. */
char *rl_arena_printf(rl_arena_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Bytes handed out so far (blocks included), for limits and tests. */
size_t rl_arena_used(const rl_arena_t *a);

/* Copies the singly linked lists <first> then <second> (either may be
 * NULL) into <a>, node by node: nodes of <size> bytes whose "next" pointer
 * sits at <next_off>. Returns the head of the copy. The originals are not
 * changed, so a list may be shared by several merged configurations. */
void *rl_arena_list_concat(rl_arena_t *a, const void *first, const void *second,
                           size_t size, size_t next_off);
#define RL_LIST_CONCAT(a, first, second, type) \
    ((type *)rl_arena_list_concat((a), (first), (second), sizeof(type), offsetof(type, next)))

/* Registers a cleanup run when the arena is reset or destroyed. The returned
 * struct is to be filled by the caller (handler, data). */
rl_cleanup_t *rl_arena_cleanup_add(rl_arena_t *a);
/* Shortcut: registers <handler>(<data>). */
void rl_arena_on_cleanup(rl_arena_t *a, rl_cleanup_cb handler, void *data);

#endif
