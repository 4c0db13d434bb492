/* Byte buffers for I/O and for building responses.
 *
 * A buffer holds data in [data + pos, data + len). Readers consume from pos,
 * writers append at len. The memory is malloc'd (not arena) so that a
 * connection can give it back while idle: see rl_buf_release(). */
#ifndef RL_BUF_H
#define RL_BUF_H

#include <stdarg.h>
#include "core/rl.h"
#include "core/str.h"

typedef struct {
    char *data;
    size_t pos;   /* first unread byte */
    size_t len;   /* one past the last written byte */
    size_t cap;
} rl_buf_t;

#define RL_BUF_INIT ((rl_buf_t){ NULL, 0, 0, 0 })

static inline size_t rl_buf_unread(const rl_buf_t *b) { return b->len - b->pos; }
static inline char *rl_buf_head(const rl_buf_t *b) { return b->data + b->pos; }
static inline char *rl_buf_tail(const rl_buf_t *b) { return b->data + b->len; }
static inline size_t rl_buf_room(const rl_buf_t *b) { return b->cap - b->len; }
static inline rl_str_t rl_buf_str(const rl_buf_t *b) { return rl_str(b->data + b->pos, b->len - b->pos); }

/* Makes room for <n> more bytes after len, moving unread data to the front
 * first when that is enough. Returns false when memory is short or the buffer
 * would exceed <limit> bytes (0: no limit); the buffer is unchanged then. */
bool rl_buf_reserve(rl_buf_t *b, size_t n, size_t limit);
/* Appends; aborts on OOM (for output that the server itself produces). */
void rl_buf_append(rl_buf_t *b, const void *p, size_t n);
static inline void rl_buf_append_str(rl_buf_t *b, rl_str_t s) { rl_buf_append(b, s.p, s.len); }
static inline void rl_buf_append_c(rl_buf_t *b, const char *s) { rl_buf_append(b, s, strlen(s)); }
void rl_buf_appendf(rl_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rl_buf_vappendf(rl_buf_t *b, const char *fmt, va_list ap);
/* Marks <n> unread bytes as consumed; an emptied buffer rewinds to 0. */
void rl_buf_consume(rl_buf_t *b, size_t n);
/* Forgets the contents, keeps the memory. */
static inline void rl_buf_clear(rl_buf_t *b) { b->pos = b->len = 0; }
/* Frees the memory; the buffer is empty and usable again. */
void rl_buf_release(rl_buf_t *b);

#endif
