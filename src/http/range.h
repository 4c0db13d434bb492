/* Byte ranges (RFC 9110 section 14) as Apache 2.4's byterange filter serves
 * them, and the multipart/byteranges framing.
 *
 * What Apache does, and so what we do:
 *  - only "bytes=" (any case) is understood; anything else: ignore the header;
 *  - one syntactically bad range-spec (non-digit, sign, overflow past 2^63-1,
 *    "5-3", "-0") makes the whole header ignored (200 with everything);
 *  - unsatisfiable specs (first byte >= size) are dropped; if none is left
 *    the answer is 416;
 *  - "N-" with N = 0 ends the parsing: whatever came before or after, the
 *    answer is the single range 0-(size-1), a 206;
 *  - each spec is merged into the one before it when they overlap or touch
 *    (in either order: "10-20,0-9" gives 0-20); a spec that cannot be merged
 *    starts a new range. Merging is with the previous range only, never a
 *    sort, so "0-10,20-30,5-25" gives 0-10 and 5-30;
 *  - if the lengths of the resulting ranges add up to more than the size, the
 *    header is ignored; covering the file exactly is still a 206;
 *  - the header is ignored when there are more resulting ranges than
 *    MaxRanges (default 200), more merges than MaxRangeOverlaps (20) or more
 *    merges of an earlier start than MaxRangeReversals (20);
 *  - an empty representation (size 0) never gets ranges.
 * Where we differ: RFC 9110 list syntax is accepted, i.e. spaces or tabs
 * around the commas and empty list elements ("bytes=0-1, 5-6", "bytes=,0-1");
 * Apache 2.4.71 ignores such a header and answers 200. */
#ifndef RL_HTTP_RANGE_H
#define RL_HTTP_RANGE_H

#include <limits.h>
#include "core/rl.h"
#include "core/str.h"
#include "core/buf.h"

typedef struct {
    uint64_t start;   /* first byte */
    uint64_t end;     /* last byte, inclusive; end < size */
} rl_range_t;

#define RL_RANGES_UNLIMITED        UINT_MAX
#define RL_RANGES_DEFAULT          200   /* MaxRanges default */
#define RL_RANGE_OVERLAPS_DEFAULT  20    /* MaxRangeOverlaps default */
#define RL_RANGE_REVERSALS_DEFAULT 20    /* MaxRangeReversals default */

typedef struct {
    unsigned max_ranges;     /* MaxRanges: 0 is "none" */
    unsigned max_overlaps;   /* MaxRangeOverlaps */
    unsigned max_reversals;  /* MaxRangeReversals */
} rl_range_limits_t;

/* Parses the Range header value <header> for a representation of <size>
 * bytes, with MaxRanges <max> and the default overlap and reversal limits.
 * <out> must have room for <max> ranges (max = RL_RANGES_UNLIMITED is not
 * possible here: use rl_http_range_parse_ex()). Returns
 *   RL_OK        <*n> ranges (>= 1) in <out>, in the order of the header:
 *                answer 206, multipart when *n > 1;
 *   RL_DECLINED  ignore the header: answer 200 with the whole representation;
 *   416          nothing satisfiable: answer 416. */
int rl_http_range_parse(rl_str_t header, uint64_t size, rl_range_t *out,
                        unsigned max, unsigned *n);

/* As rl_http_range_parse() with explicit <lim>its. <out> has room for <cap>
 * ranges; a header that would give more is declined, so <cap> should be at
 * least min(lim->max_ranges, rl_http_range_count(header)). */
int rl_http_range_parse_ex(rl_str_t header, uint64_t size,
                           const rl_range_limits_t *lim, rl_range_t *out,
                           unsigned cap, unsigned *n);

/* An upper bound of the ranges rl_http_range_parse_ex() can return for
 * <header> (its commas plus one), to size <out>. */
unsigned rl_http_range_count(rl_str_t header);

/* "bytes 0-4/100" for a single-range 206 (Content-Range value) into <out>
 * with a NUL. Returns its length. */
#define RL_CONTENT_RANGE_MAX 72   /* "bytes " + 3 * 20 digits + "-" + "/" + NUL */
size_t rl_http_content_range(char out[RL_CONTENT_RANGE_MAX], const rl_range_t *r,
                             uint64_t size);

/* The value for a 416, "bytes *" "/100" (written as two C literals here to
 * keep this comment open), which RFC 9110 recommends; note that Apache 2.4
 * sends no Content-Range with its 416. Returns its length. */
size_t rl_http_content_range_unsatisfied(char out[RL_CONTENT_RANGE_MAX], uint64_t size);

/* ---- multipart/byteranges ----------------------------------------------- */

#define RL_BOUNDARY_MAX 16
/* The Content-Type of a multi-range 206 is this followed by the boundary. */
#define RL_MULTIPART_BYTERANGES "multipart/byteranges; boundary="

/* Writes Apache's boundary for the random number <rnd> (lower-case hex, no
 * leading zeros: at most 16 characters) and a NUL into <out>. Apache draws
 * one per server start; draw <rnd> with getrandom() once per configuration.
 * Returns its length. */
size_t rl_http_multipart_boundary(char out[RL_BOUNDARY_MAX + 1], uint64_t rnd);

/* Appends the head of one part, exactly as Apache writes it:
 *   "\r\n--BOUNDARY\r\nContent-type: text/html\r\nContent-range: bytes 0-4/100\r\n\r\n"
 * (no Content-type line when <type> is NULL). The part's bytes follow. */
void rl_http_multipart_part_head(rl_buf_t *out, const char *boundary,
                                 const char *type, const rl_range_t *r,
                                 uint64_t size);

/* Appends the closing "\r\n--BOUNDARY--\r\n". */
void rl_http_multipart_end(rl_buf_t *out, const char *boundary);

/* The Content-Length of the whole multipart body for <n> ranges: part heads,
 * part bytes and the closing delimiter. */
uint64_t rl_http_multipart_length(const char *boundary, const char *type,
                                  const rl_range_t *r, unsigned n, uint64_t size);

#endif
