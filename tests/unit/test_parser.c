/* Unit tests for src/http/parser.c: request head, body framing, chunked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "http/parser.h"

#define NHDRS 128
static rl_http_header_t hdrs[NHDRS];
static rl_http_request_parser_t P;

static ssize_t parse_n(const char *s, size_t n)
{
    rl_http_parser_init(&P, hdrs, NHDRS);
    return rl_http_parse_request(&P, s, n);
}

static ssize_t parse(const char *s)
{
    return parse_n(s, strlen(s));
}

static void assert_str(rl_str_t s, const char *want)
{
    if (s.len != strlen(want) || memcmp(s.p, want, s.len) != 0)
        fail_msg("got '%.*s', want '%s'", RL_STR_FMT(s), want);
}

/* Parses <req> and expects an error with <status>, and <why> in the reason
 * when not NULL. */
static void expect_error_n(const char *req, size_t n, int status, const char *why)
{
    ssize_t rc = parse_n(req, n);
    if (rc != -1)
        fail_msg("'%.*s': rc %zd, want -1", (int)n, req, rc);
    assert_int_equal(P.status, status);
    assert_non_null(P.error);
    if (why && strstr(P.error, why) == NULL)
        fail_msg("reason '%s' does not contain '%s'", P.error, why);
}

static void expect_error(const char *req, int status, const char *why)
{
    expect_error_n(req, strlen(req), status, why);
}

/* a deterministic PRNG so that failures reproduce */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- request line ---- */

/* An error found after the buffer moved (a grown read buffer) reports the
 * request line from the new buffer, never from the old memory. */
static void test_error_after_buffer_moved(void **state)
{
    (void)state;
    static const char *tails[] = { "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
                                   "X-Bad: a\rb\r\n" };
    for (size_t t = 0; t < 2; t++) {
        const char *head = "GET /moved HTTP/1.1\r\nHost: a\r\n";
        char *first = strdup(head);
        rl_http_parser_init(&P, hdrs, NHDRS);
        P.max_field = 16;
        assert_int_equal(rl_http_parse_request(&P, first, strlen(first)), 0);
        size_t n = strlen(head) + strlen(tails[t]);
        char *second = malloc(n + 1);
        snprintf(second, n + 1, "%s%s", head, tails[t]);
        memset(first, 'Z', strlen(first));        /* the old buffer is gone */
        assert_int_equal(rl_http_parse_request(&P, second, n), -1);
        assert_int_equal(P.status, 400);
        assert_ptr_equal(P.request_line.p, second);
        assert_str(P.request_line, "GET /moved HTTP/1.1");
        free(first);
        free(second);
    }
}

static void test_simple_get(void **state)
{
    (void)state;
    const char *req = "GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\n"
                      "Accept: */*\r\n\r\n";
    assert_int_equal(parse(req), strlen(req));
    assert_str(P.method, "GET");
    assert_str(P.target, "/index.html?a=1");
    assert_str(P.version_str, "HTTP/1.1");
    assert_str(P.request_line, "GET /index.html?a=1 HTTP/1.1");
    assert_int_equal(P.version, 11);
    assert_int_equal(P.nheaders, 2);
    assert_str(P.headers[0].name, "Host");
    assert_str(P.headers[0].value, "example.com");
    assert_str(P.headers[1].name, "Accept");
    assert_str(P.headers[1].value, "*/*");
    /* results point into the input */
    assert_ptr_equal(P.method.p, req);
    assert_ptr_equal(P.headers[0].name.p, req + 30);
}

static void test_http10_no_headers(void **state)
{
    (void)state;
    assert_int_equal(parse("POST /x HTTP/1.0\r\n\r\nbody"), 20);
    assert_int_equal(P.version, 10);
    assert_int_equal(P.nheaders, 0);
    assert_str(P.method, "POST");
}

static void test_custom_method_token(void **state)
{
    (void)state;
    assert_true(parse("M-SEARCH! * HTTP/1.1\r\n\r\n") > 0);
    assert_str(P.method, "M-SEARCH!");
    assert_str(P.target, "*");
    /* methods are case-sensitive tokens: kept as sent */
    assert_true(parse("get / HTTP/1.1\r\n\r\n") > 0);
    assert_str(P.method, "get");
}

static void test_leading_empty_lines(void **state)
{
    (void)state;
    const char *req = "\r\n\n\r\nGET / HTTP/1.1\r\n\r\n";
    assert_int_equal(parse(req), strlen(req));
    assert_ptr_equal(P.method.p, req + 5);
    assert_str(P.request_line, "GET / HTTP/1.1");

    char buf[128] = "";
    for (int i = 0; i < RL_HTTP_MAX_BLANK_LINES; i++)
        strcat(buf, "\r\n");
    strcat(buf, "GET / HTTP/1.1\r\n\r\n");
    assert_int_equal(parse(buf), strlen(buf));
    memmove(buf + 2, buf, strlen(buf) + 1);
    memcpy(buf, "\r\n", 2);
    expect_error(buf, 400, "empty lines");
}

static void test_bare_lf(void **state)
{
    (void)state;
    const char *req = "GET / HTTP/1.1\nHost: a\r\nX: y\n\nrest";
    assert_int_equal(parse(req), strlen(req) - 4);
    assert_int_equal(P.nheaders, 2);
    assert_str(P.headers[0].value, "a");
    assert_str(P.headers[1].value, "y");
    assert_str(P.version_str, "HTTP/1.1");
}

static void test_bare_cr(void **state)
{
    (void)state;
    expect_error("GET / HTTP/1.1\rHost: a\r\n\r\n", 400, "CR");
    expect_error("GET /a\rb HTTP/1.1\r\n\r\n", 400, "CR");
    expect_error("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, "CR");
    expect_error("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400, "CR");
    expect_error("\rGET / HTTP/1.1\r\n\r\n", 400, "CR");
    /* a CR at the end of the input is not an error yet */
    assert_int_equal(parse("GET / HTTP/1.1\r"), 0);
}

static void test_whitespace_in_request_line(void **state)
{
    (void)state;
    expect_error("GET  / HTTP/1.1\r\n\r\n", 400, "Excess whitespace");
    expect_error("GET /  HTTP/1.1\r\n\r\n", 400, "Excess whitespace");
    expect_error("GET / HTTP/1.1 \r\n\r\n", 400, "Excess whitespace");
    expect_error("GET\t/ HTTP/1.1\r\n\r\n", 400, "Invalid whitespace");
    expect_error("GET /\tHTTP/1.1\r\n\r\n", 400, "Invalid whitespace");
    expect_error(" GET / HTTP/1.1\r\n\r\n", 400, "Invalid whitespace");
    expect_error("GET / HTTP/1.1 x\r\n\r\n", 400, "Extraneous text");
    expect_error("GET /a b HTTP/1.1\r\n\r\n", 400, "Extraneous text");
}

static void test_bad_method_and_target(void **state)
{
    (void)state;
    expect_error("GE(T / HTTP/1.1\r\n\r\n", 400, "Invalid method token");
    expect_error("GE\"T / HTTP/1.1\r\n\r\n", 400, "Invalid method token");
    expect_error("GET\r\n\r\n", 400, "Missing URI");
    expect_error("GET \r\n\r\n", 400, "Missing URI");
    expect_error("GET /a\x01 HTTP/1.1\r\n\r\n", 400, "URI incorrectly encoded");
    expect_error("GET /a\x7f HTTP/1.1\r\n\r\n", 400, "URI incorrectly encoded");
    expect_error_n("GET /a\0b HTTP/1.1\r\n\r\n", 21, 400, "URI incorrectly encoded");
    expect_error_n("G\0T / HTTP/1.1\r\n\r\n", 18, 400, "Invalid method token");
    /* obs-text is let through, as Apache does */
    assert_true(parse("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n") > 0);
    assert_str(P.target, "/caf\xc3\xa9");
}

static void test_versions(void **state)
{
    (void)state;
    expect_error("GET / HTTP/2.0\r\n\r\n", 505, "Unsupported");
    expect_error("GET / HTTP/1.2\r\n\r\n", 505, "Unsupported");
    expect_error("GET / HTTP/9.9\r\n\r\n", 505, NULL);
    expect_error("GET / HTTX/1.1\r\n\r\n", 400, "Unrecognized protocol");
    expect_error("GET / http/1.1\r\n\r\n", 400, "Unrecognized protocol");
    expect_error("GET / HTTP/1.10\r\n\r\n", 400, "Unrecognized protocol");
    expect_error("GET / HTTP/01.1\r\n\r\n", 400, "Unrecognized protocol");
    expect_error("GET / HTTP/0.9\r\n\r\n", 400, "Unrecognized protocol");
    expect_error("GET / HTTP/1.\r\n\r\n", 400, "Unrecognized protocol");
    expect_error("GET / HTTP/1.1\x01\r\n\r\n", 400, "Unrecognized protocol");
    expect_error("GET /\r\n\r\n", 400, "HTTP/0.9");
    assert_int_equal(P.version, 9);
    assert_str(P.request_line, "GET /");
}

/* ---- header fields ---- */

static void test_header_values(void **state)
{
    (void)state;
    const char *req = "GET / HTTP/1.1\r\nA:b\r\nB: \t spaced  out \t \r\nC:\r\n"
                      "D: \r\nE: x\xff\x80y\r\nF: a\tb\r\n\r\n";
    assert_int_equal(parse(req), strlen(req));
    assert_int_equal(P.nheaders, 6);
    assert_str(P.headers[0].value, "b");
    assert_str(P.headers[1].value, "spaced  out");
    assert_str(P.headers[2].value, "");
    assert_str(P.headers[3].value, "");
    assert_str(P.headers[4].value, "x\xff\x80y");
    assert_str(P.headers[5].value, "a\tb");
    assert_str(P.headers[5].name, "F");
}

static void test_header_errors(void **state)
{
    (void)state;
    expect_error("GET / HTTP/1.1\r\nHost a\r\n\r\n", 400, "missing ':' separator");
    expect_error("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "name is malformed");
    expect_error("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400, "name is malformed");
    expect_error("GET / HTTP/1.1\r\n: a\r\n\r\n", 400, "name is malformed");
    expect_error("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", 400, "name is malformed");
    expect_error("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", 400, "obs-fold");
    expect_error("GET / HTTP/1.1\r\nHost: a\r\n\tb\r\n\r\n", 400, "obs-fold");
    expect_error("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, "before first header");
    expect_error("GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400, "value is malformed");
    expect_error("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400, "value is malformed");
    expect_error("GET / HTTP/1.1\r\nX: \x1b[31m\r\n\r\n", 400, "value is malformed");
    expect_error_n("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26, 400, "value is malformed");
    expect_error_n("GET / HTTP/1.1\r\nX\0: ab\r\n\r\n", 26, 400, "name is malformed");
}

static void test_error_keeps_request_line_for_log(void **state)
{
    (void)state;
    expect_error("PUT /up HTTP/1.1\r\nBad\r\n\r\n", 400, NULL);
    assert_str(P.request_line, "PUT /up HTTP/1.1");
    assert_str(P.method, "PUT");
    assert_str(P.target, "/up");
}

static void test_find_header(void **state)
{
    (void)state;
    const char *req = "GET / HTTP/1.1\r\nhost: a\r\nAccept: x\r\nHOST: b\r\n\r\n";
    assert_true(parse(req) > 0);
    const rl_http_header_t *h = rl_http_find_header(&P, "Host", NULL);
    assert_non_null(h);
    assert_str(h->value, "a");
    h = rl_http_find_header(&P, "Host", h);
    assert_non_null(h);
    assert_str(h->value, "b");
    assert_null(rl_http_find_header(&P, "Host", h));
    assert_null(rl_http_find_header(&P, "Hos", NULL));
    assert_null(rl_http_find_header(&P, "Hostt", NULL));
}

/* ---- limits ---- */

/* "GET /xxx...x HTTP/1.1": a request line of exactly <n> bytes */
static char *request_line_of(size_t n)
{
    char *s = malloc(n + 64);
    size_t fixed = strlen("GET / HTTP/1.1");
    assert_true(n >= fixed);
    memcpy(s, "GET /", 5);
    memset(s + 5, 'x', n - fixed);
    strcpy(s + 5 + n - fixed, " HTTP/1.1");
    return s;
}

static void test_limit_request_line(void **state)
{
    (void)state;
    char *s = request_line_of(100);
    rl_http_parser_init(&P, hdrs, NHDRS);
    P.max_line = 100;
    strcat(s, "\r\n\r\n");
    assert_int_equal(rl_http_parse_request(&P, s, strlen(s)), 104);

    /* incomplete, exactly at the limit, and at the limit plus a CR: wait */
    rl_http_parser_reset(&P);
    assert_int_equal(P.max_line, 100);
    assert_int_equal(rl_http_parse_request(&P, s, 100), 0);
    assert_int_equal(rl_http_parse_request(&P, s, 101), 0);
    free(s);

    /* one past: 414, whether or not the line end arrived */
    s = request_line_of(101);
    rl_http_parser_init(&P, hdrs, NHDRS);
    P.max_line = 100;
    assert_int_equal(rl_http_parse_request(&P, s, 101), -1);
    assert_int_equal(P.status, 414);
    strcat(s, "\r\n\r\n");
    rl_http_parser_init(&P, hdrs, NHDRS);
    P.max_line = 100;
    assert_int_equal(rl_http_parse_request(&P, s, strlen(s)), -1);
    assert_int_equal(P.status, 414);
    free(s);

    /* the default limit: 8190 */
    s = request_line_of(RL_HTTP_DEFAULT_MAX_LINE);
    strcat(s, "\r\n\r\n");
    assert_true(parse(s) > 0);
    free(s);
    s = request_line_of(RL_HTTP_DEFAULT_MAX_LINE + 1);
    expect_error_n(s, RL_HTTP_DEFAULT_MAX_LINE + 1, 414, NULL);
    free(s);
}

static void test_limit_field_size(void **state)
{
    (void)state;
    char buf[256];
    /* "X: " + 47 bytes = a 50-byte field line */
    snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: %047d\r\n\r\n", 0);
    rl_http_parser_init(&P, hdrs, NHDRS);
    P.max_field = 50;
    assert_int_equal(rl_http_parse_request(&P, buf, strlen(buf)), strlen(buf));

    snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: %048d\r\n\r\n", 0);
    rl_http_parser_init(&P, hdrs, NHDRS);
    P.max_field = 50;
    assert_int_equal(rl_http_parse_request(&P, buf, strlen(buf)), -1);
    assert_int_equal(P.status, 400);
    assert_string_equal(P.error, "Size of a request header field exceeds server limit.");

    /* detected before the line end arrives: 16 + 51 bytes */
    rl_http_parser_init(&P, hdrs, NHDRS);
    P.max_field = 50;
    assert_int_equal(rl_http_parse_request(&P, buf, 16 + 50), 0);
    assert_int_equal(rl_http_parse_request(&P, buf, 16 + 51), -1);
    assert_int_equal(P.status, 400);
}

static void test_limit_field_count(void **state)
{
    (void)state;
    char buf[2048] = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 10; i++)
        strcat(buf, "A: b\r\n");
    strcat(buf, "\r\n");
    rl_http_parser_init(&P, hdrs, NHDRS);
    P.max_fields = 10;
    assert_int_equal(rl_http_parse_request(&P, buf, strlen(buf)), strlen(buf));
    assert_int_equal(P.nheaders, 10);

    strcpy(buf + strlen(buf) - 2, "A: b\r\n\r\n");
    rl_http_parser_init(&P, hdrs, NHDRS);
    P.max_fields = 10;
    assert_int_equal(rl_http_parse_request(&P, buf, strlen(buf)), -1);
    assert_int_equal(P.status, 400);
    assert_string_equal(P.error, "The number of request header fields exceeds this server's limit.");

    /* the caller's array bounds the count too */
    rl_http_parser_init(&P, hdrs, 3);
    assert_int_equal(rl_http_parse_request(&P, buf, strlen(buf)), -1);
    assert_int_equal(P.status, 400);
    rl_http_parser_init(&P, hdrs, 11);
    P.max_fields = 0;   /* unlimited but for the array */
    assert_int_equal(rl_http_parse_request(&P, buf, strlen(buf)), strlen(buf));

    /* default: 100 */
    char *big = malloc(16 + 101 * 6 + 3);
    strcpy(big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 100; i++)
        strcat(big, "A: b\r\n");
    strcat(big, "\r\n");
    assert_true(parse(big) > 0);
    assert_int_equal(P.nheaders, 100);
    strcpy(big + strlen(big) - 2, "A: b\r\n\r\n");
    expect_error(big, 400, "number of request header fields");
    free(big);
}

/* ---- incremental parsing ---- */

static void test_pipelined(void **state)
{
    (void)state;
    const char *a = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
    const char *b = "\r\nHEAD /2 HTTP/1.0\r\n\r\n";
    const char *c = "GET /3 HTTP/1.1\r\nHost: c\r\n";     /* incomplete */
    char buf[256];
    snprintf(buf, sizeof(buf), "%s%s%s", a, b, c);
    size_t len = strlen(buf), off = 0;

    rl_http_parser_init(&P, hdrs, NHDRS);
    ssize_t n = rl_http_parse_request(&P, buf, len);
    assert_int_equal(n, strlen(a));
    assert_str(P.target, "/1");
    off += (size_t)n;
    rl_http_parser_reset(&P);
    n = rl_http_parse_request(&P, buf + off, len - off);
    assert_int_equal(n, strlen(b));
    assert_str(P.target, "/2");
    assert_int_equal(P.version, 10);
    off += (size_t)n;
    rl_http_parser_reset(&P);
    assert_int_equal(rl_http_parse_request(&P, buf + off, len - off), 0);
}

/* Compares the results of <a> over <abuf> and <b> over <bbuf>. */
static void assert_same_results(const rl_http_request_parser_t *a, const char *abuf,
                                const rl_http_request_parser_t *b, const char *bbuf)
{
#define SAME(f) do { \
        assert_int_equal(a->f.len, b->f.len); \
        assert_int_equal(a->f.p - abuf, b->f.p - bbuf); } while (0)
    SAME(method);
    SAME(target);
    SAME(version_str);
    SAME(request_line);
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->nheaders, b->nheaders);
    for (unsigned i = 0; i < a->nheaders; i++) {
        SAME(headers[i].name);
        SAME(headers[i].value);
    }
#undef SAME
}

/* Feeds <req> one more byte at a time, each time from a fresh copy (the
 * buffer moves, as a growing read buffer does), and checks the outcome
 * equals a whole parse. */
static void check_bytewise(const char *req, size_t len)
{
    static rl_http_header_t h2[NHDRS];
    rl_http_request_parser_t whole, inc;
    ssize_t want, rc = 0;
    size_t n;

    rl_http_parser_init(&whole, hdrs, NHDRS);
    want = rl_http_parse_request(&whole, req, len);
    rl_http_parser_init(&inc, h2, NHDRS);
    for (n = 0; n <= len; n++) {
        char *copy = malloc(n + 1);
        memcpy(copy, req, n);
        rc = rl_http_parse_request(&inc, copy, n);
        if (rc != 0) {
            assert_int_equal(rc, want);
            if (rc > 0)
                assert_same_results(&whole, req, &inc, copy);
            else
                assert_string_equal(inc.error, whole.error);
            assert_int_equal(inc.status, whole.status);
            free(copy);
            return;
        }
        free(copy);
    }
    assert_int_equal(want, 0);
}

static const char *corpus[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "\r\n\r\nPOST /form?x=1 HTTP/1.0\nContent-Length: 3\n\nabc",
    "GET / HTTP/1.1\r\nHost: a\r\nX:  v  \r\nY:\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    "GET  / HTTP/1.1\r\n\r\n",
    "GET / HTTP/2.0\r\n\r\n",
    "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
    "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
    "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
    "GET /\r\n\r\n",
    "GET / HTTP/1.1\r\nA: b\r\n",
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n",
};

static void test_bytewise(void **state)
{
    (void)state;
    for (size_t i = 0; i < RL_NELEMS(corpus); i++)
        check_bytewise(corpus[i], strlen(corpus[i]));
    char *s = request_line_of(RL_HTTP_DEFAULT_MAX_LINE + 10);
    check_bytewise(s, strlen(s));
    free(s);
}

static void test_random_splits(void **state)
{
    (void)state;
    static rl_http_header_t h2[NHDRS];
    for (int round = 0; round < 2000; round++) {
        const char *req = corpus[rng() % RL_NELEMS(corpus)];
        size_t len = strlen(req);
        rl_http_request_parser_t whole, inc;
        rl_http_parser_init(&whole, hdrs, NHDRS);
        ssize_t want = rl_http_parse_request(&whole, req, len), rc = 0;
        rl_http_parser_init(&inc, h2, NHDRS);
        size_t n = 0;
        while (rc == 0 && n < len) {
            n += 1 + rng() % 8;
            if (n > len)
                n = len;
            rc = rl_http_parse_request(&inc, req, n);
        }
        assert_int_equal(rc, want);
        if (rc > 0)
            assert_same_results(&whole, req, &inc, req);
        else if (rc < 0)
            assert_int_equal(inc.status, whole.status);
    }
}

static void test_sticky_states(void **state)
{
    (void)state;
    const char *req = "GET / HTTP/1.1\r\n\r\nXYZ";
    assert_int_equal(parse(req), 18);
    /* called again without reset: same answer, results refreshed */
    assert_int_equal(rl_http_parse_request(&P, req, strlen(req)), 18);
    assert_str(P.method, "GET");
    expect_error("GET  / HTTP/1.1\r\n\r\n", 400, NULL);
    assert_int_equal(rl_http_parse_request(&P, "GET / HTTP/1.1\r\n\r\n", 18), -1);
    rl_http_parser_reset(&P);
    assert_int_equal(rl_http_parse_request(&P, "GET / HTTP/1.1\r\n\r\n", 18), 18);
}

/* ---- body framing ---- */

static int framing(const char *req, bool *chunked, uint64_t *len)
{
    if (parse(req) <= 0)
        fail_msg("head did not parse: %s", P.error ? P.error : "incomplete");
    return rl_http_body_framing(&P, chunked, len);
}

static void expect_framing_error(const char *req, int status)
{
    bool ch;
    uint64_t len;
    assert_int_equal(framing(req, &ch, &len), status);
    assert_int_equal(P.status, status);
    assert_non_null(P.error);
}

static void test_framing_none_and_length(void **state)
{
    (void)state;
    bool ch = true;
    uint64_t len = 7;
    assert_int_equal(framing("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &ch, &len), RL_OK);
    assert_false(ch);
    assert_int_equal(len, 0);
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 42\r\n\r\n", &ch, &len), RL_OK);
    assert_int_equal(len, 42);
    assert_false(ch);
    assert_int_equal(framing("POST / HTTP/1.1\r\ncontent-length: 0\r\n\r\n", &ch, &len), RL_OK);
    assert_int_equal(len, 0);
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", &ch, &len), RL_OK);
    assert_int_equal(len, 5);
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                             &ch, &len), RL_OK);
    assert_int_equal(len, 5);
    assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n",
                             &ch, &len), RL_OK);
    assert_int_equal(len, INT64_MAX);
}

static void test_framing_bad_length(void **state)
{
    (void)state;
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length: 5a\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length: 5,\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400);
    assert_string_equal(P.error, "client sent invalid Content-Length");
}

static void test_framing_transfer_encoding(void **state)
{
    (void)state;
    bool ch = false;
    uint64_t len = 7;
    assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &ch, &len), RL_OK);
    assert_true(ch);
    assert_int_equal(len, 0);
    ch = false;
    assert_int_equal(framing("POST / HTTP/1.1\r\ntransfer-encoding: Chunked\r\n\r\n", &ch, &len), RL_OK);
    assert_true(ch);
    ch = false;
    assert_int_equal(framing("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &ch, &len), RL_OK);
    assert_true(ch);
    ch = false;
    assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding: , chunked,\r\n\r\n", &ch, &len), RL_OK);
    assert_true(ch);

    expect_framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    expect_framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501);
    expect_framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: foo\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400);
    expect_framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", 400);
    assert_string_equal(P.error, "client sent unknown Transfer-Encoding");
}

/* ---- chunked ---- */

static rl_http_chunked_t C;

/* Decodes <in> whole; returns rc, the output in <out>. */
static ssize_t chunked_whole(const char *in, size_t len, char *out, size_t *out_len)
{
    rl_http_chunked_init(&C);
    memcpy(out, in, len);
    return rl_http_chunked_decode(&C, out, len, out_len);
}

#define ALL ((size_t)-1)    /* consumed: the whole input */

static void expect_chunked(const char *in, const char *body, size_t consumed)
{
    if (consumed == ALL)
        consumed = strlen(in);
    char buf[512];
    size_t n;
    ssize_t rc = chunked_whole(in, strlen(in), buf, &n);
    if (rc < 0)
        fail_msg("'%s': %s", in, C.error);
    assert_int_equal(rc, consumed);
    assert_true(rl_http_chunked_done(&C));
    assert_int_equal(n, strlen(body));
    assert_memory_equal(buf, body, n);
    assert_int_equal(C.total, strlen(body));
}

static void expect_chunked_error(const char *in, int status)
{
    char buf[512];
    size_t n;
    if (chunked_whole(in, strlen(in), buf, &n) != -1)
        fail_msg("'%s' decoded", in);
    assert_int_equal(C.status, status);
    assert_non_null(C.error);
}

static void test_chunked_basic(void **state)
{
    (void)state;
    expect_chunked("5\r\nhello\r\n0\r\n\r\n", "hello", ALL);
    expect_chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", ALL);
    expect_chunked("a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n",
                   "0123456789abcdefghij", ALL);
    expect_chunked("0\r\n\r\n", "", ALL);
    expect_chunked("000000000000000000000003\r\nabc\r\n0\r\n\r\n", "abc", ALL);
    /* bare LF everywhere */
    expect_chunked("3\nabc\n0\n\n", "abc", ALL);
    /* the rest is the next request, untouched */
    const char *in = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    char buf[128];
    size_t n;
    assert_int_equal(chunked_whole(in, strlen(in), buf, &n), 13);
    assert_memory_equal(buf + 13, "GET / HTTP/1.1\r\n\r\n", 18);
    assert_memory_equal(buf, "abc", 3);
    /* finished: nothing more is consumed */
    assert_int_equal(rl_http_chunked_decode(&C, buf + 13, 18, &n), 0);
    assert_int_equal(n, 0);
}

static void test_chunked_extensions_and_trailers(void **state)
{
    (void)state;
    expect_chunked("5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello", ALL);
    expect_chunked("5 ;a=\"q s\"\r\nhello\r\n0\r\n\r\n", "hello", ALL);
    expect_chunked("5\t; a ; b\r\nhello\r\n0\r\n\r\n", "hello", ALL);
    expect_chunked("5  \r\nhello\r\n0\r\n\r\n", "hello", ALL);
    expect_chunked("2\r\nhi\r\n0\r\nX-Sum: abc\r\nX-B:\r\n\r\n", "hi", ALL);
    expect_chunked("2\r\nhi\r\n0\r\nX-Sum: abc\n\n", "hi", ALL);

    expect_chunked_error("5;a\x01\r\nhello\r\n0\r\n\r\n", 400);
    expect_chunked_error("0\r\nBad Trailer: x\r\n\r\n", 400);
    expect_chunked_error("0\r\nNoColon\r\n\r\n", 400);
    expect_chunked_error("0\r\n: x\r\n\r\n", 400);
    expect_chunked_error("0\r\nX: a\r\n folded\r\n\r\n", 400);
    expect_chunked_error("0\r\nX: a\x01\r\n\r\n", 400);
    expect_chunked_error("0\r\nX: a\rb\r\n\r\n", 400);
    expect_chunked_error("0\r\nX: a\r\n\rx", 400);
}

static void test_chunked_errors(void **state)
{
    (void)state;
    expect_chunked_error("x\r\n", 400);
    expect_chunked_error("\r\n", 400);
    expect_chunked_error("-5\r\nhello\r\n", 400);
    expect_chunked_error("+5\r\nhello\r\n", 400);
    expect_chunked_error("0x5\r\nhello\r\n", 400);
    expect_chunked_error("5x\r\nhello\r\n", 400);
    expect_chunked_error("5 5\r\nhello\r\n", 400);
    expect_chunked_error(" 5\r\nhello\r\n", 400);
    expect_chunked_error("5\rhello\r\n", 400);
    expect_chunked_error("5\r\nhelloX\r\n0\r\n\r\n", 400);
    expect_chunked_error("5\r\nhello\rX\n0\r\n\r\n", 400);
    expect_chunked_error("5\r\nhello\r\n\r\n0\r\n\r\n", 400);
    assert_string_equal(C.error, "Invalid chunk size");
    /* sizes past INT64_MAX: 413, as Apache's APR_ENOSPC */
    expect_chunked_error("8000000000000000\r\n", 413);
    expect_chunked_error("10000000000000000\r\n", 413);
    expect_chunked_error("ffffffffffffffffffff\r\n", 413);
    assert_string_equal(C.error, "Chunk size overflow");

    char buf[64];
    size_t n;
    assert_int_equal(chunked_whole("7fffffffffffffff\r\nab", 20, buf, &n), 20);
    assert_int_equal(n, 2);
    assert_false(rl_http_chunked_done(&C));
    /* errors are sticky */
    assert_int_equal(chunked_whole("x", 1, buf, &n), -1);
    assert_int_equal(rl_http_chunked_decode(&C, buf, 1, &n), -1);
}

static void test_chunked_limits(void **state)
{
    (void)state;
    char buf[128];
    size_t n;
    const char *in = "5;abcdef\r\nhello\r\n0\r\n\r\n";   /* size line: 8 bytes */
    rl_http_chunked_init(&C);
    C.max_line = 8;
    memcpy(buf, in, strlen(in));
    assert_int_equal(rl_http_chunked_decode(&C, buf, strlen(in), &n), strlen(in));
    rl_http_chunked_init(&C);
    C.max_line = 7;
    memcpy(buf, in, strlen(in));
    assert_int_equal(rl_http_chunked_decode(&C, buf, strlen(in), &n), -1);
    assert_int_equal(C.status, 413);

    in = "0\r\nAb: cd\r\n\r\n";     /* trailer line: 6 bytes */
    rl_http_chunked_init(&C);
    C.max_field = 6;
    memcpy(buf, in, strlen(in));
    assert_int_equal(rl_http_chunked_decode(&C, buf, strlen(in), &n), strlen(in));
    rl_http_chunked_init(&C);
    C.max_field = 5;
    memcpy(buf, in, strlen(in));
    assert_int_equal(rl_http_chunked_decode(&C, buf, strlen(in), &n), -1);
    assert_int_equal(C.status, 400);

    in = "0\r\nA: 1\r\nB: 2\r\n\r\n";
    rl_http_chunked_init(&C);
    C.max_fields = 2;
    memcpy(buf, in, strlen(in));
    assert_int_equal(rl_http_chunked_decode(&C, buf, strlen(in), &n), strlen(in));
    rl_http_chunked_init(&C);
    C.max_fields = 1;
    memcpy(buf, in, strlen(in));
    assert_int_equal(rl_http_chunked_decode(&C, buf, strlen(in), &n), -1);
    assert_int_equal(C.status, 400);
}

/* Decodes <in> cut at the points in <cuts> (sorted, < len); returns rc of
 * the call that ended it (or the last), the output and total consumed. */
static ssize_t chunked_split(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                             char *out, size_t *out_len, size_t *consumed)
{
    char piece[512];
    size_t start = 0, k = 0;
    ssize_t rc = 0;
    rl_http_chunked_t c;

    rl_http_chunked_init(&c);
    *out_len = *consumed = 0;
    for (k = 0; k <= ncuts; k++) {
        size_t end = k < ncuts ? cuts[k] : len, n;
        memcpy(piece, in + start, end - start);
        rc = rl_http_chunked_decode(&c, piece, end - start, &n);
        memcpy(out + *out_len, piece, n);
        *out_len += n;
        if (rc < 0)
            return rc;
        *consumed += (size_t)rc;
        if (rl_http_chunked_done(&c))
            return rc;
        start = end;
    }
    return rc;
}

static const char *chunked_corpus[] = {
    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT",
    "1;a=b\r\nx\r\n00\r\nTrailer-A: 1\r\nB:2\r\n\r\n",
    "3\nabc\n0\n\n",
    "5\r\nhelloX\r\n",
    "10\r\n0123456789abcdef\r\n0\r\nX: a\rb\r\n\r\n",
    "5;ext\x01\r\nhello",
    "fffffffffffffffffff\r\n",
    "2\r\nab\r\n0\r\n\r",
};

static void test_chunked_every_split(void **state)
{
    (void)state;
    for (size_t t = 0; t < RL_NELEMS(chunked_corpus); t++) {
        const char *in = chunked_corpus[t];
        size_t len = strlen(in), wlen, wcons, slen, scons;
        char wout[512], sout[512];
        ssize_t want = chunked_split(in, len, NULL, 0, wout, &wlen, &wcons);
        /* every single cut point, then byte by byte */
        for (size_t cut = 1; cut < len; cut++) {
            ssize_t rc = chunked_split(in, len, &cut, 1, sout, &slen, &scons);
            assert_int_equal(rc < 0, want < 0);
            if (want >= 0) {
                assert_int_equal(scons, wcons);
                assert_int_equal(slen, wlen);
                assert_memory_equal(sout, wout, wlen);
            }
        }
        size_t cuts[512];
        for (size_t i = 1; i < len; i++)
            cuts[i - 1] = i;
        ssize_t rc = chunked_split(in, len, cuts, len - 1, sout, &slen, &scons);
        assert_int_equal(rc < 0, want < 0);
        if (want >= 0) {
            assert_int_equal(scons, wcons);
            assert_memory_equal(sout, wout, wlen);
        }
    }
}

static void test_chunked_random_splits(void **state)
{
    (void)state;
    for (int round = 0; round < 3000; round++) {
        const char *in = chunked_corpus[rng() % RL_NELEMS(chunked_corpus)];
        size_t len = strlen(in), cuts[8], ncuts = 0, wlen, wcons, slen, scons;
        char wout[512], sout[512];
        size_t at = 0;
        while (ncuts < 8 && len > 1) {
            at += 1 + rng() % 6;
            if (at >= len)
                break;
            cuts[ncuts++] = at;
        }
        ssize_t want = chunked_split(in, len, NULL, 0, wout, &wlen, &wcons);
        ssize_t rc = chunked_split(in, len, cuts, ncuts, sout, &slen, &scons);
        assert_int_equal(rc < 0, want < 0);
        if (want >= 0) {
            assert_int_equal(scons, wcons);
            assert_int_equal(slen, wlen);
            assert_memory_equal(sout, wout, wlen);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_error_after_buffer_moved),
        cmocka_unit_test(test_http10_no_headers),
        cmocka_unit_test(test_custom_method_token),
        cmocka_unit_test(test_leading_empty_lines),
        cmocka_unit_test(test_bare_lf),
        cmocka_unit_test(test_bare_cr),
        cmocka_unit_test(test_whitespace_in_request_line),
        cmocka_unit_test(test_bad_method_and_target),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_header_values),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_error_keeps_request_line_for_log),
        cmocka_unit_test(test_find_header),
        cmocka_unit_test(test_limit_request_line),
        cmocka_unit_test(test_limit_field_size),
        cmocka_unit_test(test_limit_field_count),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_bytewise),
        cmocka_unit_test(test_random_splits),
        cmocka_unit_test(test_sticky_states),
        cmocka_unit_test(test_framing_none_and_length),
        cmocka_unit_test(test_framing_bad_length),
        cmocka_unit_test(test_framing_transfer_encoding),
        cmocka_unit_test(test_chunked_basic),
        cmocka_unit_test(test_chunked_extensions_and_trailers),
        cmocka_unit_test(test_chunked_errors),
        cmocka_unit_test(test_chunked_limits),
        cmocka_unit_test(test_chunked_every_split),
        cmocka_unit_test(test_chunked_random_splits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
