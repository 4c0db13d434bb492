/* Range header parsing and multipart/byteranges framing.
 *
 * The merge loop follows Apache's ap_set_byterange() (byterange_filter.c)
 * step by step, because its results are visible on the wire: which ranges
 * merge, when the header is ignored, when 416 is sent. See range.h for the
 * rules and the one place we are more lenient. */
#include <stdio.h>
#include "http/range.h"

#define MAX_OFF ((uint64_t)INT64_MAX)   /* apr_off_t's limit */

typedef enum {
    SPEC_OK,
    SPEC_BAD,      /* syntax error: ignore the whole header */
    SPEC_FROM_0    /* "0-": the whole representation, stop parsing */
} spec_rc_t;

/* Parses one range-spec <s> (trimmed, non-empty) into [*start, *end]. The end
 * is not clamped to the size yet; the start may be >= size. */
static spec_rc_t parse_spec(rl_str_t s, uint64_t size, uint64_t *start, uint64_t *end)
{
    ssize_t dash = rl_str_chr(s, '-');
    uint64_t a, b;
    if (dash < 0)
        return SPEC_BAD;
    if (dash == 0) {                       /* "-N": the last N bytes */
        if (!rl_str_to_u64(rl_str(s.p + 1, s.len - 1), MAX_OFF, &b) || b < 1)
            return SPEC_BAD;
        *start = b < size ? size - b : 0;
        *end = size - 1;
        return SPEC_OK;
    }
    if (!rl_str_to_u64(rl_str(s.p, (size_t)dash), MAX_OFF, &a))
        return SPEC_BAD;
    rl_str_t rest = rl_str(s.p + dash + 1, s.len - (size_t)dash - 1);
    if (rest.len == 0) {                   /* "N-" */
        *start = a;
        *end = size - 1;
        return a == 0 ? SPEC_FROM_0 : SPEC_OK;
    }
    if (!rl_str_to_u64(rest, MAX_OFF, &b) || a > b)
        return SPEC_BAD;
    *start = a;
    *end = b;
    return SPEC_OK;
}

/* The merge state of Apache's loop: the range being grown, and the output. */
typedef struct {
    rl_range_t *out;
    unsigned cap;
    unsigned n;
    bool overflow;
    uint64_t sum;           /* total length of the ranges emitted */
    unsigned overlaps;
    unsigned reversals;
    bool in_merge;          /* cur holds a range not yet emitted */
    rl_range_t cur;
} merge_t;

static void emit(merge_t *m)
{
    if (m->n >= m->cap)
        m->overflow = true;
    else
        m->out[m->n] = m->cur;
    m->n++;
    uint64_t len = m->cur.end - m->cur.start + 1;
    m->sum = m->sum > UINT64_MAX - len ? UINT64_MAX : m->sum + len;
}

static void merge(merge_t *m, uint64_t start, uint64_t end)
{
    if (!m->in_merge) {
        m->cur = (rl_range_t){ start, end };
        m->in_merge = true;
        return;
    }
    bool merged = start >= m->cur.start && end <= m->cur.end;
    if (start < m->cur.start && end + 1 >= m->cur.start) {
        m->cur.start = start;
        m->reversals++;
        merged = true;
    }
    if (end >= m->cur.end && start <= m->cur.end + 1) {
        m->cur.end = end;
        merged = true;
    }
    if (merged) {
        m->overlaps++;
        return;
    }
    emit(m);
    m->cur = (rl_range_t){ start, end };
}

/* Splits off the next comma-separated element of <*list>, trimmed. */
static rl_str_t next_elem(rl_str_t *list)
{
    ssize_t comma = rl_str_chr(*list, ',');
    size_t len = comma < 0 ? list->len : (size_t)comma;
    rl_str_t e = rl_str_trim(rl_str(list->p, len));
    size_t skip = comma < 0 ? len : len + 1;
    list->p += skip;
    list->len -= skip;
    return e;
}

int rl_http_range_parse_ex(rl_str_t header, uint64_t size,
                           const rl_range_limits_t *lim, rl_range_t *out,
                           unsigned cap, unsigned *n)
{
    *n = 0;
    if (size == 0 || header.len < 6 || strncasecmp(header.p, "bytes=", 6) != 0)
        return RL_DECLINED;
    rl_str_t list = rl_str(header.p + 6, header.len - 6);
    merge_t m = { .out = out, .cap = cap };
    bool unsatisfiable = false;

    while (list.len) {
        rl_str_t spec = next_elem(&list);
        uint64_t start, end;
        if (spec.len == 0)
            continue;
        spec_rc_t rc = parse_spec(spec, size, &start, &end);
        if (rc == SPEC_BAD)
            return RL_DECLINED;
        if (rc == SPEC_FROM_0) {
            /* Apache forgets the ranges so far (not the counters) */
            m.n = 0;
            m.sum = 0;
            m.overflow = false;
            m.cur = (rl_range_t){ 0, size - 1 };
            m.in_merge = true;
            break;
        }
        if (start >= size) {
            unsatisfiable = true;
            continue;
        }
        merge(&m, start, RL_MIN(end, size - 1));
    }

    if (m.in_merge)
        emit(&m);
    else if (m.n == 0 && unsatisfiable)
        return 416;
    if (m.n == 0 || m.sum > size || m.overflow
        || m.n > lim->max_ranges || m.overlaps > lim->max_overlaps
        || m.reversals > lim->max_reversals)
        return RL_DECLINED;
    *n = m.n;
    return RL_OK;
}

int rl_http_range_parse(rl_str_t header, uint64_t size, rl_range_t *out,
                        unsigned max, unsigned *n)
{
    rl_range_limits_t lim = { max, RL_RANGE_OVERLAPS_DEFAULT, RL_RANGE_REVERSALS_DEFAULT };
    return rl_http_range_parse_ex(header, size, &lim, out, max, n);
}

unsigned rl_http_range_count(rl_str_t header)
{
    unsigned n = 1;
    for (size_t i = 0; i < header.len; i++)
        if (header.p[i] == ',' && n < UINT_MAX)
            n++;
    return n;
}

size_t rl_http_content_range(char out[RL_CONTENT_RANGE_MAX], const rl_range_t *r,
                             uint64_t size)
{
    int len = snprintf(out, RL_CONTENT_RANGE_MAX, "bytes %llu-%llu/%llu",
                       (unsigned long long)r->start, (unsigned long long)r->end,
                       (unsigned long long)size);
    return len < 0 ? 0 : (size_t)len;
}

size_t rl_http_content_range_unsatisfied(char out[RL_CONTENT_RANGE_MAX], uint64_t size)
{
    int len = snprintf(out, RL_CONTENT_RANGE_MAX, "bytes */%llu",
                       (unsigned long long)size);
    return len < 0 ? 0 : (size_t)len;
}

/* ---- multipart/byteranges ------------------------------------------------ */

size_t rl_http_multipart_boundary(char out[RL_BOUNDARY_MAX + 1], uint64_t rnd)
{
    int len = snprintf(out, RL_BOUNDARY_MAX + 1, "%llx", (unsigned long long)rnd);
    return len < 0 ? 0 : (size_t)len;
}

void rl_http_multipart_part_head(rl_buf_t *out, const char *boundary,
                                 const char *type, const rl_range_t *r,
                                 uint64_t size)
{
    rl_buf_append_c(out, "\r\n--");
    rl_buf_append_c(out, boundary);
    if (type) {
        rl_buf_append_c(out, "\r\nContent-type: ");
        rl_buf_append_c(out, type);
    }
    rl_buf_appendf(out, "\r\nContent-range: bytes %llu-%llu/%llu\r\n\r\n",
                   (unsigned long long)r->start, (unsigned long long)r->end,
                   (unsigned long long)size);
}

void rl_http_multipart_end(rl_buf_t *out, const char *boundary)
{
    rl_buf_append_c(out, "\r\n--");
    rl_buf_append_c(out, boundary);
    rl_buf_append_c(out, "--\r\n");
}

static uint64_t digits(uint64_t v)
{
    uint64_t d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

uint64_t rl_http_multipart_length(const char *boundary, const char *type,
                                  const rl_range_t *r, unsigned n, uint64_t size)
{
    uint64_t blen = strlen(boundary);
    uint64_t head = (sizeof("\r\n--") - 1) + blen
                  + (type ? sizeof("\r\nContent-type: ") - 1 + strlen(type) : 0)
                  + (sizeof("\r\nContent-range: bytes ") - 1)
                  + 1 /* '-' */ + 1 /* '/' */ + digits(size)
                  + (sizeof("\r\n\r\n") - 1);
    uint64_t total = (sizeof("\r\n--") - 1) + blen + (sizeof("--\r\n") - 1);
    for (unsigned i = 0; i < n; i++)
        total += head + digits(r[i].start) + digits(r[i].end)
               + (r[i].end - r[i].start + 1);
    return total;
}
