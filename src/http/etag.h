/* Entity tags and conditional requests (RFC 9110 sections 8.8 and 13).
 *
 * ETags are made as Apache 2.4 makes them for files (ap_make_etag_ex() in
 * http_etag.c): the FileETag components in hex, mtime in microseconds,
 * "W/" when the file changed less than a second before the request.
 *
 * Preconditions are evaluated in RFC 9110 section 13.2.2's order; see
 * rl_http_conditional() for the few Apache details kept and etag.c for
 * where Apache's own order differs. */
#ifndef RL_HTTP_ETAG_H
#define RL_HTTP_ETAG_H

#include <sys/stat.h>
#include <time.h>
#include "core/rl.h"
#include "core/str.h"

/* FileETag components. */
#define RL_ETAG_INODE   1u
#define RL_ETAG_MTIME   2u
#define RL_ETAG_SIZE    4u
#define RL_ETAG_ALL     (RL_ETAG_INODE | RL_ETAG_MTIME | RL_ETAG_SIZE)
#define RL_ETAG_DEFAULT (RL_ETAG_MTIME | RL_ETAG_SIZE)   /* Apache 2.4's default */
/* Longest tag plus NUL: W/"<16 hex>-<16 hex>-<16 hex>" */
#define RL_ETAG_MAX 56

/* Writes the ETag of the file <st> with the FileETag components <bits> and
 * a NUL into <out>:
 *   "\"<size hex>-<mtime usec hex>\""            (RL_ETAG_DEFAULT)
 *   "\"<inode hex>-<size hex>-<mtime usec hex>\"" (RL_ETAG_ALL)
 * lower-case hex without leading zeros, components in the order inode, size,
 * mtime. The tag is weak ("W/" prefix) when <request_usec> (the request's
 * time, microseconds since the epoch) is less than one second after the
 * mtime, or before it. Returns its length, or 0 (nothing written) when
 * <bits> is 0 (FileETag None: send no ETag) or <outlen> is too small
 * (RL_ETAG_MAX always suffices). */
size_t rl_http_etag(char *out, size_t outlen, const struct stat *st,
                    unsigned bits, int64_t request_usec);

/* Weak comparison (RFC 9110 8.8.3.2): are <a> and <b>, two entity-tags with
 * or without "W/", the same opaque tag? Strong comparison when <strong>:
 * both must also be strong. Malformed tags never match. */
bool rl_http_etag_match(rl_str_t a, rl_str_t b, bool strong);

/* Does the If-Match / If-None-Match list <list> ("*" or entity-tags separated
 * by commas) hold <etag>? "*" matches any existing representation (even
 * without an ETag); otherwise an empty <etag> matches nothing. Malformed
 * list members are skipped. */
bool rl_http_etag_list_match(rl_str_t list, rl_str_t etag, bool strong);

/* Everything the preconditions depend on. Absent headers have .p == NULL. */
typedef struct {
    rl_str_t method;              /* "GET", "HEAD", "POST"... */
    rl_str_t if_match;
    rl_str_t if_unmodified_since;
    rl_str_t if_none_match;
    rl_str_t if_modified_since;
    bool has_range;               /* the request has a Range header */
    rl_str_t etag;                /* the ETag we send (as rl_http_etag()
                                   * made it); empty: none */
    bool has_mtime;               /* false: no Last-Modified */
    time_t mtime;                 /* Last-Modified, seconds */
    time_t now;                   /* the request's time, seconds */
} rl_cond_input_t;

/* Evaluates the preconditions on an existing representation (RFC 9110
 * 13.2.2), in order:
 *  1. If-Match: "*" or a strongly matching tag, else 412;
 *  2. without If-Match, If-Unmodified-Since: a valid date older than mtime
 *     gives 412 (an invalid date is ignored);
 *  3. If-None-Match: "*" or a weakly matching tag gives 304 for GET and
 *     HEAD, 412 for other methods;
 *  4. without If-None-Match, for GET and HEAD, If-Modified-Since: a valid
 *     date not later than <now> and not older than mtime gives 304; as in
 *     Apache, with a Range header a mtime less than 60 s before <now> is
 *     not trusted for this (no 304).
 * If-Range is the caller's, after this: see rl_http_if_range_ok().
 * Returns 0 (go on), 304 or 412. */
int rl_http_conditional(const rl_cond_input_t *in);

/* Is the If-Range value <if_range> still good for the representation with
 * <etag> and Last-Modified <mtime> at the request time <now>? An entity-tag
 * must be strong and equal to <etag> (strong comparison); a date must equal
 * <mtime> and, as Apache requires, <mtime> must be at least 60 s before <now>
 * (otherwise Last-Modified is not a strong validator). false: send the whole
 * representation (200) instead of the ranges. */
bool rl_http_if_range_ok(rl_str_t if_range, rl_str_t etag, time_t mtime, time_t now);

#endif
