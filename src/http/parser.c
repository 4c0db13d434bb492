/* HTTP/1.1 request head parser, body framing and chunked decoder.
 *
 * The head parser is built for a non-blocking server that calls it each time
 * bytes arrive. It keeps offsets (never pointers: the caller's buffer may be
 * moved or grown between calls) of where it stopped, examines every byte
 * once, and validates each line as soon as its end arrives, so a bad request
 * is refused without waiting for the whole head. The results are filled from
 * the buffer of the call that completes the head, in a second cheap pass.
 *
 * Errors are raised in the order of the bytes that cause them, whatever the
 * way the input was split: feeding a head whole or in pieces gives the same
 * answer (the fuzz driver checks this). */
#include "http/parser.h"

enum {
    S_BLANK = 0,    /* before the request line: empty lines are skipped */
    S_REQLINE,      /* inside the request line */
    S_FIELD_START,  /* at the start of a field line or of the final empty line */
    S_FIELD,        /* inside a field line */
    S_DONE,         /* head complete: pos_ is its length */
    S_ERROR         /* status and error are set */
};

#define ERR_BARE_CR "Request line or header field contains a CR not followed by LF"
#define ERR_FIELDS  "The number of request header fields exceeds this server's limit."
#define ERR_FIELD_SIZE "Size of a request header field exceeds server limit."
#define ERR_EXCESS_WS \
    "HTTP Request Line; Excess whitespace (disallowed by HttpProtocolOptions Strict)"

/* tchar from RFC 9110 5.6.2 */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Controls other than HT, and DEL: never allowed in a field value. */
static bool is_bad_value_char(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int fail(rl_http_request_parser_t *p, int status, const char *why)
{
    p->status = status;
    p->error = why;
    p->state_ = S_ERROR;
    return -1;
}

void rl_http_parser_init(rl_http_request_parser_t *p, rl_http_header_t *headers,
                         unsigned cap)
{
    memset(p, 0, sizeof(*p));
    p->max_line = RL_HTTP_DEFAULT_MAX_LINE;
    p->max_field = RL_HTTP_DEFAULT_MAX_FIELD;
    p->max_fields = RL_HTTP_DEFAULT_MAX_FIELDS;
    p->headers = headers;
    p->headers_cap = cap;
}

void rl_http_parser_reset(rl_http_request_parser_t *p)
{
    rl_http_request_parser_t keep = *p;
    rl_http_parser_init(p, keep.headers, keep.headers_cap);
    p->max_line = keep.max_line;
    p->max_field = keep.max_field;
    p->max_fields = keep.max_fields;
}

/* "HTTP/1.1" -> 11, "HTTP/1.0" -> 10, any other well-formed "HTTP/x.y"
 * (x not 0) -> 505 as Apache does for versions it cannot speak, anything
 * else -> 400 (Apache strict refuses "http/1.1" and "HTTP/01.1" too). */
static int parse_version(rl_http_request_parser_t *p, rl_str_t v)
{
    const char *s = v.p;
    if (v.len == 8 && memcmp(s, "HTTP/", 5) == 0 && s[5] >= '1' && s[5] <= '9'
        && s[6] == '.' && s[7] >= '0' && s[7] <= '9') {
        if (s[5] == '1' && (s[7] == '0' || s[7] == '1')) {
            p->version = 10 + (s[7] - '0');
            return 0;
        }
        return fail(p, 505, "HTTP Request Line; Unsupported HTTP version");
    }
    return fail(p, 400, "HTTP Request Line; Unrecognized protocol");
}

/* After a part of the request line: exactly one SP must follow. */
static int check_separator(rl_http_request_parser_t *p, const char *s, size_t n, size_t i)
{
    if (s[i] != ' ')
        return fail(p, 400, "HTTP Request Line; Invalid whitespace");
    if (i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '\t'))
        return fail(p, 400, ERR_EXCESS_WS);
    return 0;
}

/* The version runs to the end of the line: whitespace in it is either
 * trailing (excess) or followed by more words (injected text). */
static int check_version_end(rl_http_request_parser_t *p)
{
    rl_str_t v = p->version_str;

    for (size_t t = 0; t < v.len; t++) {
        if (v.p[t] == ' ' || v.p[t] == '\t') {
            p->version_str.len = t;
            if (rl_str_trim(rl_str(v.p + t, v.len - t)).len == 0)
                return fail(p, 400, ERR_EXCESS_WS);
            return fail(p, 400, "HTTP Request Line; Extraneous text found "
                                "(perhaps whitespace was injected?)");
        }
    }
    return 0;
}

/* Splits and checks the request line <s>[0..<n>): method SP target SP
 * version. Fills the request-line results of <p>. */
static int parse_request_line(rl_http_request_parser_t *p, const char *s, size_t n)
{
    size_t i = 0, t;

    p->request_line = rl_str(s, n);
    if (s[0] == ' ' || s[0] == '\t')
        return fail(p, 400, "HTTP Request Line; Invalid whitespace");
    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || (i < n && s[i] != ' ' && s[i] != '\t'))
        return fail(p, 400, "HTTP Request Line; Invalid method token");
    p->method = rl_str(s, i);
    if (i == n)
        return fail(p, 400, "HTTP Request Line; Missing URI");
    if (check_separator(p, s, n, i) < 0)
        return -1;
    t = ++i;
    while (i < n && (unsigned char)s[i] > 0x20 && s[i] != 0x7f)
        i++;
    if (i == t)
        return fail(p, 400, "HTTP Request Line; Missing URI");
    if (i < n && s[i] != ' ' && s[i] != '\t')
        return fail(p, 400, "HTTP Request Line; URI incorrectly encoded");
    p->target = rl_str(s + t, i - t);
    if (i == n) {
        p->version = 9;
        return fail(p, 400, "HTTP Request Line; Rejected HTTP/0.9 request");
    }
    if (check_separator(p, s, n, i) < 0)
        return -1;
    p->version_str = rl_str(s + i + 1, n - i - 1);
    if (check_version_end(p) < 0)
        return -1;
    return parse_version(p, p->version_str);
}

/* Checks the field line <s>[0..<n>) (n > 0) and stores it in <h>:
 * token ":" OWS value OWS, no obs-fold, no controls in the value. */
static int parse_field(rl_http_request_parser_t *p, const char *s, size_t n,
                       rl_http_header_t *h)
{
    size_t i = 0, v;

    if (s[0] == ' ' || s[0] == '\t')
        return fail(p, 400, p->nheaders == 0
                    ? "Line folding encountered before first header line"
                    : "Request header field line folding (obs-fold) is not accepted");
    if (memchr(s, ':', n) == NULL)
        return fail(p, 400, "Request header field is missing ':' separator.");
    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || s[i] != ':')
        return fail(p, 400, "Request header field name is malformed");
    h->name = rl_str(s, i);
    for (v = ++i; i < n; i++) {
        if (is_bad_value_char((unsigned char)s[i]))
            return fail(p, 400, "Request header value is malformed");
    }
    h->value = rl_str_trim(rl_str(s + v, n - v));
    return 0;
}

static unsigned field_limit(const rl_http_request_parser_t *p)
{
    if (p->max_fields != 0 && p->max_fields < p->headers_cap)
        return p->max_fields;
    return p->headers_cap;
}

/* Offset just past the LF that ends the line whose terminator starts at
 * <end> (a CR or the LF itself). */
static size_t after_eol(const char *buf, size_t end)
{
    return buf[end] == '\r' ? end + 2 : end + 1;
}

/* Second pass, once the whole head is in <buf>: every line was checked by
 * the first pass, so this only re-splits them into <buf>'s own pointers. */
static void fill_results(rl_http_request_parser_t *p, const char *buf)
{
    size_t off, end = p->pos_;

    parse_request_line(p, buf + p->head_start_, p->line_end_ - p->head_start_);
    p->nheaders = 0;
    for (off = after_eol(buf, p->line_end_); off < end; ) {
        const char *nl = memchr(buf + off, '\n', end - off);
        size_t n = (size_t)(nl - (buf + off));
        if (n > 0 && nl[-1] == '\r')
            n--;
        if (n == 0)
            break;
        parse_field(p, buf + off, n, &p->headers[p->nheaders]);
        p->nheaders++;
        off = (size_t)(nl - buf) + 1;
    }
}

/* A line ended: its terminator starts at <end>, the next line at <next>.
 * Returns 0 to go on, 1 when the head is complete, -1 on error. */
static int end_of_line(rl_http_request_parser_t *p, const char *buf, size_t end, size_t next)
{
    const char *line = buf + p->line_start_;
    size_t n = end - p->line_start_;

    switch (p->state_) {
    case S_BLANK:
        if (++p->blank_ > RL_HTTP_MAX_BLANK_LINES)
            return fail(p, 400, "Too many empty lines before the request line");
        break;
    case S_REQLINE:
        p->line_end_ = end;
        if (parse_request_line(p, line, n) < 0)
            return -1;
        p->state_ = S_FIELD_START;
        break;
    case S_FIELD_START:
        return 1;
    case S_FIELD:
        if (p->nheaders >= field_limit(p) ||
            parse_field(p, line, n, &p->headers[p->nheaders]) < 0) {
            if (p->state_ != S_ERROR)
                fail(p, 400, ERR_FIELDS);
            /* the request line as this buffer has it, for the log */
            parse_request_line(p, buf + p->head_start_, p->line_end_ - p->head_start_);
            return -1;
        }
        p->nheaders++;
        p->state_ = S_FIELD_START;
        break;
    }
    p->line_start_ = next;
    return 0;
}

/* Skips the content bytes of a line from <i>; returns where a CR or LF (or
 * the end of input) is, or -1 when the line outgrew its limit. */
static ssize_t scan_content(rl_http_request_parser_t *p, const char *buf, size_t i, size_t len)
{
    if (p->state_ == S_BLANK) {
        p->state_ = S_REQLINE;
        p->head_start_ = p->line_start_;
    } else if (p->state_ == S_FIELD_START) {
        p->state_ = S_FIELD;
    }
    while (i < len && buf[i] != '\r' && buf[i] != '\n')
        i++;
    if (p->state_ == S_REQLINE && i - p->line_start_ > p->max_line)
        return fail(p, 414, "Request line exceeds LimitRequestLine");
    if (p->state_ == S_FIELD && i - p->line_start_ > p->max_field)
        return fail(p, 400, ERR_FIELD_SIZE);
    return (ssize_t)i;
}

/* After an error: when the request line was complete, point request_line
 * (and method, target) into <buf>, the caller's current buffer, for the
 * log; views from an earlier call may point into memory since moved. */
static ssize_t failed_in(rl_http_request_parser_t *p, const char *buf)
{
    int status = p->status;
    const char *why = p->error;
    if (p->line_end_ > p->head_start_)
        parse_request_line(p, buf + p->head_start_, p->line_end_ - p->head_start_);
    p->status = status;
    p->error = why;
    p->state_ = S_ERROR;
    return -1;
}

ssize_t rl_http_parse_request(rl_http_request_parser_t *p, const char *buf, size_t len)
{
    size_t i;
    int rc = 0;

    if (p->state_ == S_ERROR)
        return -1;
    if (p->state_ == S_DONE) {
        fill_results(p, buf);
        return (ssize_t)p->pos_;
    }
    if (len < p->pos_)              /* not the same input: start over */
        rl_http_parser_reset(p);
    for (i = p->pos_; i < len && rc == 0; ) {
        if (p->cr_) {
            p->cr_ = false;
            if (buf[i] != '\n') {
                fail(p, 400, ERR_BARE_CR);
                return failed_in(p, buf);
            }
            rc = end_of_line(p, buf, i - 1, i + 1);
            i++;
        } else if (buf[i] == '\r') {
            p->cr_ = true;
            i++;
        } else if (buf[i] == '\n') {
            rc = end_of_line(p, buf, i, i + 1);
            i++;
        } else {
            ssize_t j = scan_content(p, buf, i, len);
            if (j < 0)
                return failed_in(p, buf);
            i = (size_t)j;
        }
    }
    p->pos_ = i;
    if (rc < 0)
        return -1;
    if (rc == 0)
        return 0;
    p->state_ = S_DONE;
    fill_results(p, buf);
    return (ssize_t)i;
}

const rl_http_header_t *rl_http_find_header(const rl_http_request_parser_t *p,
                                            const char *name,
                                            const rl_http_header_t *prev)
{
    rl_str_t n = rl_str_c(name);
    unsigned i = prev ? (unsigned)(prev - p->headers) + 1 : 0;

    for (; i < p->nheaders; i++) {
        if (rl_str_caseeq(p->headers[i].name, n))
            return &p->headers[i];
    }
    return NULL;
}

/* ---- body framing ---- */

static int framing_fail(rl_http_request_parser_t *p, int status, const char *why)
{
    p->status = status;
    p->error = why;
    return status;
}

/* Next comma-separated element of <list>, trimmed; advances <list>.
 * Returns false at the end of the list. */
static bool next_element(rl_str_t *list, rl_str_t *elt)
{
    ssize_t comma;

    if (list->p == NULL)
        return false;
    comma = rl_str_chr(*list, ',');
    if (comma < 0) {
        *elt = rl_str_trim(*list);
        list->p = NULL;
        return true;
    }
    *elt = rl_str_trim(rl_str(list->p, (size_t)comma));
    list->p += comma + 1;
    list->len -= (size_t)comma + 1;
    return true;
}

/* Every Content-Length value, and every element of a list value, must be
 * the same plain number (RFC 9110 8.6 lets us accept identical repeats). */
static int framing_length(rl_http_request_parser_t *p, uint64_t *content_length)
{
    const rl_http_header_t *h = NULL;
    bool first = true;

    while ((h = rl_http_find_header(p, "Content-Length", h)) != NULL) {
        rl_str_t list = h->value, elt;
        while (next_element(&list, &elt)) {
            uint64_t v;
            if (!rl_str_to_u64(elt, RL_HTTP_MAX_BODY_LENGTH, &v))
                return framing_fail(p, 400, "client sent invalid Content-Length");
            if (!first && v != *content_length)
                return framing_fail(p, 400, "client sent conflicting Content-Length values");
            *content_length = v;
            first = false;
        }
    }
    return RL_OK;
}

/* The codings of every Transfer-Encoding field, in order: "chunked" must
 * come last and once (RFC 9112 6.1); we decode no other coding. Empty list
 * elements are ignored as RFC 9110 5.6.1 asks. */
static int framing_te(rl_http_request_parser_t *p, bool *chunked)
{
    const rl_http_header_t *h = NULL;
    bool seen_chunked = false, other = false;

    while ((h = rl_http_find_header(p, "Transfer-Encoding", h)) != NULL) {
        rl_str_t list = h->value, elt;
        while (next_element(&list, &elt)) {
            if (elt.len == 0)
                continue;
            if (seen_chunked)
                return framing_fail(p, 400, "client sent unknown Transfer-Encoding");
            if (rl_str_caseeq_c(elt, "chunked"))
                seen_chunked = true;
            else
                other = true;
        }
    }
    if (!seen_chunked)
        return framing_fail(p, 400, "client sent unknown Transfer-Encoding");
    if (other)
        return framing_fail(p, 501, "client sent a Transfer-Encoding that is not implemented");
    *chunked = true;
    return RL_OK;
}

int rl_http_body_framing(rl_http_request_parser_t *p, bool *chunked,
                         uint64_t *content_length)
{
    bool te = rl_http_find_header(p, "Transfer-Encoding", NULL) != NULL;
    bool cl = rl_http_find_header(p, "Content-Length", NULL) != NULL;

    *chunked = false;
    *content_length = 0;
    if (te && cl)
        return framing_fail(p, 400, "Request has both Transfer-Encoding and Content-Length");
    if (te)
        return framing_te(p, chunked);
    if (cl)
        return framing_length(p, content_length);
    return RL_OK;
}

/* ---- chunked transfer coding (RFC 9112 7.1) ---- */

enum {
    C_SIZE_START = 0, /* first hex digit of a chunk size */
    C_SIZE,           /* more hex digits */
    C_SIZE_BWS,       /* blanks after the size: ';' or the line end follows */
    C_EXT,            /* chunk extensions: checked for controls, skipped */
    C_SIZE_LF,        /* CR ending the size line seen; LF must follow */
    C_DATA,           /* remaining_ data bytes to pass on */
    C_DATA_END,       /* the CRLF (or LF) after the data */
    C_DATA_LF,        /* CR after the data seen; LF must follow */
    C_TRAILER_START,  /* start of a trailer field line or of the final empty line */
    C_TRAILER_NAME,   /* inside a trailer field name */
    C_TRAILER_VALUE,  /* inside a trailer field value */
    C_TRAILER_LF,     /* CR ending a trailer line seen; LF must follow */
    C_END_LF,         /* CR of the final empty line seen; LF must follow */
    C_DONE,           /* body complete */
    C_ERROR           /* status and error are set */
};

void rl_http_chunked_init(rl_http_chunked_t *c)
{
    memset(c, 0, sizeof(*c));
    c->max_line = RL_HTTP_DEFAULT_MAX_FIELD;    /* Apache uses LimitRequestFieldSize */
    c->max_field = RL_HTTP_DEFAULT_MAX_FIELD;
    c->max_fields = RL_HTTP_DEFAULT_MAX_FIELDS;
}

bool rl_http_chunked_done(const rl_http_chunked_t *c)
{
    return c->state_ == C_DONE;
}

static int cfail(rl_http_chunked_t *c, int status, const char *why)
{
    c->status = status;
    c->error = why;
    c->state_ = C_ERROR;
    return -1;
}

static int hex_value(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* One more byte on the size line (not its CRLF). Too long a line, like an
 * overflowing size, is a 413 as in Apache (APR_ENOSPC). */
static int size_line_byte(rl_http_chunked_t *c)
{
    if (++c->line_len_ > c->max_line)
        return cfail(c, 413, "Chunk size line exceeds the server limit");
    return 0;
}

/* One more byte on a trailer line (not its CRLF). */
static int trailer_byte(rl_http_chunked_t *c)
{
    if (++c->line_len_ > c->max_field)
        return cfail(c, 400, "Size of a trailer field exceeds server limit.");
    return 0;
}

/* The size line ended (after its LF). */
static int size_line_done(rl_http_chunked_t *c)
{
    c->line_len_ = 0;
    c->state_ = c->remaining_ == 0 ? C_TRAILER_START : C_DATA;
    return 0;
}

/* <ch> ends the size line or is an error. */
static int size_line_end(rl_http_chunked_t *c, unsigned char ch)
{
    if (ch == '\r') {
        c->state_ = C_SIZE_LF;
        return 0;
    }
    if (ch == '\n')
        return size_line_done(c);
    return cfail(c, 400, "Invalid chunk size");
}

static int chunk_size_digit(rl_http_chunked_t *c, int d)
{
    if (size_line_byte(c) < 0)
        return -1;
    if (c->remaining_ > (RL_HTTP_MAX_BODY_LENGTH - (uint64_t)d) / 16)
        return cfail(c, 413, "Chunk size overflow");
    c->remaining_ = c->remaining_ * 16 + (uint64_t)d;
    c->state_ = C_SIZE;
    return 0;
}

/* After the size digits: blanks, then ';' and extensions, or the line end. */
static int size_line_after_digits(rl_http_chunked_t *c, unsigned char ch)
{
    if (ch == ' ' || ch == '\t' || ch == ';') {
        c->state_ = ch == ';' ? C_EXT : C_SIZE_BWS;
        return size_line_byte(c);
    }
    return size_line_end(c, ch);
}

/* The LF ending the CRLF (or bare LF) after chunk data. */
static int data_line_end(rl_http_chunked_t *c, unsigned char ch)
{
    if (ch != '\n')
        return cfail(c, 400, "Chunk data is not followed by CRLF");
    c->state_ = C_SIZE_START;
    return 0;
}

static int trailer_start(rl_http_chunked_t *c, unsigned char ch)
{
    if (ch == '\r') {
        c->state_ = C_END_LF;
        return 0;
    }
    if (ch == '\n') {
        c->state_ = C_DONE;
        return 0;
    }
    if (!is_tchar(ch))
        return cfail(c, 400, ch == ' ' || ch == '\t'
                     ? "Trailer field line folding (obs-fold) is not accepted"
                     : "Trailer field name is malformed");
    if (c->fields_++ >= c->max_fields)
        return cfail(c, 400, "The number of trailer fields exceeds this server's limit.");
    c->line_len_ = 0;
    c->state_ = C_TRAILER_NAME;
    return trailer_byte(c);
}

/* Feeds one byte outside chunk data: the byte-level state machine. */
static int chunked_step(rl_http_chunked_t *c, unsigned char ch)
{
    int d;

    switch (c->state_) {
    case C_SIZE_START:
    case C_SIZE:
        if ((d = hex_value(ch)) >= 0)
            return chunk_size_digit(c, d);
        if (c->state_ == C_SIZE_START)
            return cfail(c, 400, "Invalid chunk size");
        return size_line_after_digits(c, ch);
    case C_SIZE_BWS:
        return size_line_after_digits(c, ch);
    case C_EXT:
        if (ch == '\r' || ch == '\n')
            return size_line_end(c, ch);
        if (is_bad_value_char(ch))
            return cfail(c, 400, "Invalid chunk extension");
        return size_line_byte(c);
    case C_SIZE_LF:
        if (ch != '\n')
            return cfail(c, 400, "Chunk size line contains a CR not followed by LF");
        return size_line_done(c);
    case C_DATA_END:
        if (ch == '\r') {
            c->state_ = C_DATA_LF;
            return 0;
        }
        return data_line_end(c, ch);
    case C_DATA_LF:
        return data_line_end(c, ch);
    case C_TRAILER_START:
        return trailer_start(c, ch);
    case C_TRAILER_NAME:
        if (ch == ':')
            c->state_ = C_TRAILER_VALUE;
        else if (!is_tchar(ch))
            return cfail(c, 400, "Trailer field name is malformed");
        return trailer_byte(c);
    case C_TRAILER_VALUE:
        if (ch == '\r' || ch == '\n') {
            c->state_ = ch == '\r' ? C_TRAILER_LF : C_TRAILER_START;
            return 0;
        }
        if (is_bad_value_char(ch))
            return cfail(c, 400, "Trailer field value is malformed");
        return trailer_byte(c);
    case C_TRAILER_LF:
    case C_END_LF:
        if (ch != '\n')
            return cfail(c, 400, "Trailer section contains a CR not followed by LF");
        c->state_ = c->state_ == C_END_LF ? C_DONE : C_TRAILER_START;
        return 0;
    }
    return cfail(c, 400, "Chunked decoder misused");
}

ssize_t rl_http_chunked_decode(rl_http_chunked_t *c, char *buf, size_t len,
                               size_t *out_len)
{
    size_t i = 0, out = 0;

    *out_len = 0;
    if (c->state_ == C_ERROR)
        return -1;
    while (i < len && c->state_ != C_DONE) {
        if (c->state_ == C_DATA) {
            /* data moves towards the front: out <= i always */
            size_t n = (size_t)RL_MIN(c->remaining_, (uint64_t)(len - i));
            memmove(buf + out, buf + i, n);
            out += n;
            i += n;
            c->remaining_ -= n;
            c->total += n;
            if (c->remaining_ == 0)
                c->state_ = C_DATA_END;
            continue;
        }
        if (chunked_step(c, (unsigned char)buf[i]) < 0) {
            *out_len = out;
            return -1;
        }
        i++;
    }
    *out_len = out;
    return (ssize_t)i;
}
