/* HTTP/1.1 request parsing (RFC 9112), the way Apache 2.4 does it with
 * "HttpProtocolOptions Strict": the request head, the body framing it
 * implies, and the chunked transfer coding.
 *
 * Nothing here allocates or does I/O. Results are string views into the
 * caller's buffer. Errors carry the HTTP status to answer and a short reason
 * for the error log, worded like Apache's where Apache has one.
 *
 * Return convention (parsers): bytes consumed, 0 when more input is needed,
 * -1 on a protocol error (the parser's <status> and <error> are then set). */
#ifndef RL_HTTP_PARSER_H
#define RL_HTTP_PARSER_H

#include "core/rl.h"
#include "core/str.h"

#define RL_HTTP_DEFAULT_MAX_LINE   8190  /* LimitRequestLine */
#define RL_HTTP_DEFAULT_MAX_FIELD  8190  /* LimitRequestFieldSize */
#define RL_HTTP_DEFAULT_MAX_FIELDS 100   /* LimitRequestFields */
/* Empty lines tolerated before a request line (Apache's
 * DEFAULT_LIMIT_BLANK_LINES): one more is a 400. */
#define RL_HTTP_MAX_BLANK_LINES    10

typedef struct {
    rl_str_t name;    /* a token, as sent (case preserved) */
    rl_str_t value;   /* without leading and trailing SP/HT; may be empty */
} rl_http_header_t;

typedef struct {
    /* Limits, set by rl_http_parser_init() and changeable before parsing.
     * Lengths count a line without its CRLF/LF. */
    size_t max_line;      /* request line; longer: 414 */
    size_t max_field;     /* one header field line; longer: 400 */
    unsigned max_fields;  /* header fields; more: 400 (0: only headers_cap) */

    /* Results. They point into the buffer given to the call that returned
     * them, so they are valid as long as that buffer is. */
    rl_str_t request_line; /* the whole request line, for the access log */
    rl_str_t method;       /* a token, case-sensitive */
    rl_str_t target;       /* request-target as sent; see uri.h */
    rl_str_t version_str;  /* "HTTP/1.1" */
    int version;           /* 10 or 11; 9 for a refused HTTP/0.9 request */
    rl_http_header_t *headers;  /* caller's array, in order of arrival */
    unsigned nheaders;
    unsigned headers_cap;

    int status;            /* on error: 400, 414 or 505 */
    const char *error;     /* on error: reason for the error log */

    /* Private: where to resume, so that a head arriving a byte at a time
     * is scanned once (offsets, not pointers: the buffer may move). */
    size_t pos_;           /* bytes of the head examined so far */
    size_t line_start_;    /* offset of the line being scanned */
    size_t head_start_;    /* offset of the request line */
    size_t line_end_;      /* offset of the request line's terminator */
    unsigned blank_;       /* empty lines skipped before the request line */
    uint8_t state_;
    bool cr_;              /* the last byte examined was a CR */
} rl_http_request_parser_t;

/* Prepares <p> for a first request: default limits, the caller's array of
 * <cap> headers (which bounds the fields accepted, like max_fields). */
void rl_http_parser_init(rl_http_request_parser_t *p, rl_http_header_t *headers,
                         unsigned cap);

/* Forgets the previous request (results and resume state) and keeps the
 * limits and the header array. Call it before parsing the next request. */
void rl_http_parser_reset(rl_http_request_parser_t *p);

/* Parses a request head (request line, header fields, empty line) from
 * <buf>[0..<len>). Empty lines before the request line are skipped (up to
 * RL_HTTP_MAX_BLANK_LINES). Lines end with CRLF or a bare LF; a CR not
 * followed by LF is an error.
 *
 * Incremental: when it returns 0, call it again with the same bytes at the
 * start of <buf> (which may have moved) and more after them; only the new
 * bytes are examined. Limits are enforced as soon as the buffered bytes
 * exceed them, before the line end arrives.
 *
 * Returns the bytes of the head (leading empty lines and final empty line
 * included: the body or the next pipelined request starts there), 0 when
 * the head is not complete yet, -1 on error with <status> and <error> set
 * and, when the request line was complete, <request_line> too. */
ssize_t rl_http_parse_request(rl_http_request_parser_t *p, const char *buf, size_t len);

/* Finds the first header named <name> (case-insensitive) after <prev>
 * (NULL: from the start). Returns NULL when there is none; loop with the
 * previous result to visit repeated fields. */
const rl_http_header_t *rl_http_find_header(const rl_http_request_parser_t *p,
                                            const char *name,
                                            const rl_http_header_t *prev);

/* Largest Content-Length or chunk size accepted (an off_t must hold it). */
#define RL_HTTP_MAX_BODY_LENGTH ((uint64_t)INT64_MAX)

/* Works out how the body of a parsed request is framed (RFC 9112 6.3).
 * Sets *<chunked> and *<content_length> (0 and 0 when there is no body).
 * Returns RL_OK, or a status with <p>'s status and error set:
 *   400  Transfer-Encoding together with Content-Length (a smuggling
 *        vector: refused rather than resolved);
 *   400  Content-Length not a plain decimal number up to
 *        RL_HTTP_MAX_BODY_LENGTH, or repeated with different values
 *        ("5, 5" and two "Content-Length: 5" are accepted);
 *   400  Transfer-Encoding whose final coding is not "chunked", or that
 *        lists "chunked" twice;
 *   501  "chunked" preceded by another coding ("gzip, chunked"): valid,
 *        but we do not decode it.
 * "Transfer-Encoding: chunked" is honoured in HTTP/1.0 requests too. */
int rl_http_body_framing(rl_http_request_parser_t *p, bool *chunked,
                         uint64_t *content_length);

/* The chunked transfer coding, decoded incrementally and in place. */
typedef struct {
    /* Limits, set by rl_http_chunked_init(). */
    size_t max_line;      /* chunk-size line with extensions; longer: 413 */
    size_t max_field;     /* one trailer field line; longer: 400 */
    unsigned max_fields;  /* trailer fields; more: 400 */

    uint64_t total;       /* body bytes decoded so far (for LimitRequestBody) */
    int status;           /* on error: 400 or 413 */
    const char *error;    /* on error: reason for the error log */

    /* Private. */
    uint64_t remaining_;  /* data bytes left in the current chunk, or the
                           * chunk size being read */
    size_t line_len_;     /* bytes of the current line so far */
    unsigned fields_;     /* trailer fields seen */
    uint8_t state_;
} rl_http_chunked_t;

/* Prepares <c> for a new body, with default limits. */
void rl_http_chunked_init(rl_http_chunked_t *c);

/* Decodes the chunked body bytes in <buf>[0..<len>), in place: the data is
 * moved to <buf>[0..*<out_len>). Chunk extensions and trailer fields are
 * checked and dropped. Input may be split anywhere between calls.
 * Returns the bytes consumed: <len> while the body goes on, fewer when the
 * body ended inside <buf> (the rest belongs to the next request; it is left
 * untouched), 0 once the body has ended, -1 on error with <status> and
 * <error> set. */
ssize_t rl_http_chunked_decode(rl_http_chunked_t *c, char *buf, size_t len,
                               size_t *out_len);

/* True once the last chunk, the trailers and the final CRLF were seen. */
bool rl_http_chunked_done(const rl_http_chunked_t *c);

#endif
