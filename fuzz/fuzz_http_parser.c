/* libFuzzer driver for src/http/parser.c and src/http/uri.c.
 *
 * The input is fed to the request head parser whole and in three pieces (cut
 * where the data says), each piece from a fresh copy so the buffer moves as a
 * growing read buffer does; both runs must agree. The bytes after a parsed
 * head go to the chunked decoder the same two ways; the target and the raw
 * input go through rl_uri_split / rl_uri_normalize, whose output must be a
 * canonical path that cannot leave a root it is joined to. */
#include <assert.h>
#include <stdlib.h>
#include <stdio.h>

#include "http/parser.h"
#include "http/uri.h"

#define NHDRS 16

static bool inside(rl_str_t s, const char *buf, size_t len)
{
    return s.p >= buf && s.p + s.len <= buf + len;
}

static void check_token(rl_str_t s)
{
    assert(s.len > 0);
    for (size_t i = 0; i < s.len; i++)
        assert(s.p[i] > 0x20 && s.p[i] != 0x7f && s.p[i] != ':');
}

static void check_success(const rl_http_request_parser_t *p, const char *buf, size_t len,
                          ssize_t rc)
{
    assert(rc > 0 && (size_t)rc <= len);
    assert(p->version == 10 || p->version == 11);
    assert(inside(p->request_line, buf, (size_t)rc));
    assert(inside(p->method, buf, (size_t)rc));
    assert(inside(p->target, buf, (size_t)rc));
    assert(inside(p->version_str, buf, (size_t)rc));
    check_token(p->method);
    assert(p->target.len > 0);
    assert(p->nheaders <= p->headers_cap);
    for (unsigned i = 0; i < p->nheaders; i++) {
        rl_str_t v = p->headers[i].value;
        assert(inside(p->headers[i].name, buf, (size_t)rc));
        assert(inside(v, buf, (size_t)rc));
        check_token(p->headers[i].name);
        assert(memchr(v.p, '\r', v.len) == NULL && memchr(v.p, '\n', v.len) == NULL);
        assert(memchr(v.p, '\0', v.len) == NULL);
        /* trimmed of OWS */
        assert(v.len == 0 || (v.p[0] != ' ' && v.p[0] != '\t'));
        assert(v.len == 0 || (v.p[v.len - 1] != ' ' && v.p[v.len - 1] != '\t'));
    }
}

/* Parses buf[0..len) with <p> fed in pieces ending at cut1, cut2, len, each
 * from a fresh copy. */
static ssize_t parse_split(rl_http_request_parser_t *p, const char *buf, size_t len,
                           size_t cut1, size_t cut2, char **copy_out)
{
    size_t ends[3] = { cut1, cut2, len };
    ssize_t rc = 0;

    *copy_out = NULL;
    for (int k = 0; k < 3 && rc == 0; k++) {
        free(*copy_out);
        *copy_out = malloc(ends[k] + 1);
        memcpy(*copy_out, buf, ends[k]);
        rc = rl_http_parse_request(p, *copy_out, ends[k]);
    }
    return rc;
}

static void same_str(rl_str_t a, const char *abuf, rl_str_t b, const char *bbuf)
{
    assert(a.len == b.len);
    assert(a.len == 0 || a.p - abuf == b.p - bbuf);
}

static void compare(const rl_http_request_parser_t *a, const char *abuf, ssize_t arc,
                    const rl_http_request_parser_t *b, const char *bbuf, ssize_t brc)
{
    assert(arc == brc);
    if (arc < 0) {
        assert(a->status == b->status);
        assert(strcmp(a->error, b->error) == 0);
        return;
    }
    if (arc == 0)
        return;
    same_str(a->method, abuf, b->method, bbuf);
    same_str(a->target, abuf, b->target, bbuf);
    same_str(a->version_str, abuf, b->version_str, bbuf);
    assert(a->nheaders == b->nheaders);
    for (unsigned i = 0; i < a->nheaders; i++) {
        same_str(a->headers[i].name, abuf, b->headers[i].name, bbuf);
        same_str(a->headers[i].value, abuf, b->headers[i].value, bbuf);
    }
}

/* Canonical: starts with '/', no empty segment but a trailing one, no "."
 * or ".." segment. */
static void check_canonical(const char *s, size_t n)
{
    assert(n >= 1 && s[0] == '/');
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '/')
            continue;
        size_t seg = i + 1, end = seg;
        while (end < n && s[end] != '/')
            end++;
        assert(end > seg || end == n);
        assert(!(end - seg == 1 && s[seg] == '.'));
        assert(!(end - seg == 2 && s[seg] == '.' && s[seg + 1] == '.'));
    }
}

static void fuzz_normalize(const char *in, size_t len, bool slashes)
{
    char *out = malloc(RL_URI_NORMALIZE_SIZE(len));
    ssize_t n = rl_uri_normalize(in, len, out, slashes);

    assert(n == -400 || n == -404 || (n > 0 && (size_t)n <= RL_URI_NORMALIZE_SIZE(len)));
    if (n > 0) {
        check_canonical(out, (size_t)n);
        assert(memchr(out, '\0', (size_t)n) == NULL);
        /* escaping for a Location header and reading it back is lossless */
        char *esc = malloc(3 * (size_t)n);
        size_t e = rl_uri_escape_path(esc, out, (size_t)n);
        assert(e == rl_uri_escape_path(NULL, out, (size_t)n));
        char *back = malloc(RL_URI_NORMALIZE_SIZE(e));
        ssize_t m = rl_uri_normalize(esc, e, back, false);
        assert(m == n && memcmp(back, out, (size_t)n) == 0);
        free(back);
        free(esc);
    }
    free(out);
}

static void fuzz_target(rl_str_t target)
{
    rl_str_t path, query, host;
    int form = rl_uri_split(target, &path, &query, &host);

    assert(form == -400 || form == RL_URI_ORIGIN || form == RL_URI_ABSOLUTE
           || form == RL_URI_ASTERISK);
    if (form < 0)
        return;
    assert(path.len > 0);
    assert(form == RL_URI_ASTERISK || path.p[0] == '/');
    assert(memchr(path.p, '?', path.len) == NULL && memchr(path.p, '#', path.len) == NULL);
    if (form == RL_URI_ABSOLUTE)
        assert(host.len > 0 && memchr(host.p, '@', host.len) == NULL);
    if (form != RL_URI_ASTERISK)
        fuzz_normalize(path.p, path.len, target.len & 1);
}

/* Decodes <body> whole and in pieces; both must agree. */
static void fuzz_chunked(const char *body, size_t len, size_t cut)
{
    rl_http_chunked_t a, b;
    char *wbuf = malloc(len + 1), *sbuf = malloc(len + 1);
    size_t wout, s1, s2 = 0;
    ssize_t wrc, rc1, rc2 = 0;

    rl_http_chunked_init(&a);
    rl_http_chunked_init(&b);
    b.max_line = a.max_line = 40;
    b.max_fields = a.max_fields = 3;
    memcpy(wbuf, body, len);
    wrc = rl_http_chunked_decode(&a, wbuf, len, &wout);
    assert(wrc >= -1 && wrc <= (ssize_t)len && wout <= len);
    assert(wrc < 0 || wout <= (size_t)wrc);
    assert(wrc < 0 || (size_t)wrc == len || rl_http_chunked_done(&a));

    memcpy(sbuf, body, len);
    rc1 = rl_http_chunked_decode(&b, sbuf, cut, &s1);
    if (rc1 >= 0 && !rl_http_chunked_done(&b)) {
        assert((size_t)rc1 == cut);
        rc2 = rl_http_chunked_decode(&b, sbuf + cut, len - cut, &s2);
        /* the second piece's data lands at sbuf + cut; gather it */
        memmove(sbuf + s1, sbuf + cut, s2);
    }
    if (wrc < 0) {
        assert(rc1 < 0 || rc2 < 0);
        assert(a.status == b.status && strcmp(a.error, b.error) == 0);
    } else {
        assert(rc1 >= 0 && rc2 >= 0);
        assert((size_t)(rc1 + rc2) == (size_t)wrc);
        assert(s1 + s2 == wout && memcmp(wbuf, sbuf, wout) == 0);
        assert(a.total == wout && b.total == wout);
        assert(rl_http_chunked_done(&a) == rl_http_chunked_done(&b));
    }
    free(wbuf);
    free(sbuf);
}

static void fuzz_request(const char *buf, size_t len, size_t cut1, size_t cut2, bool small)
{
    rl_http_header_t h1[NHDRS], h2[NHDRS];
    rl_http_request_parser_t a, b;
    char *copy;
    ssize_t arc, brc;

    rl_http_parser_init(&a, h1, NHDRS);
    rl_http_parser_init(&b, h2, NHDRS);
    if (small) {
        a.max_line = b.max_line = 48;
        a.max_field = b.max_field = 24;
        a.max_fields = b.max_fields = 4;
    }
    arc = rl_http_parse_request(&a, buf, len);
    assert(arc >= -1 && arc <= (ssize_t)len);
    if (arc < 0)
        assert((a.status == 400 || a.status == 414 || a.status == 505) && a.error);
    if (arc > 0)
        check_success(&a, buf, len, arc);

    brc = parse_split(&b, buf, len, cut1, cut2, &copy);
    compare(&a, buf, arc, &b, copy, brc);
    free(copy);
    if (arc <= 0)
        return;

    bool chunked;
    uint64_t clen;
    int fr = rl_http_body_framing(&a, &chunked, &clen);
    assert(fr == RL_OK || fr == 400 || fr == 501);
    assert(fr != RL_OK || !chunked || clen == 0);
    fuzz_target(a.target);
    if (chunked || (size_t)arc < len) {
        size_t rest = len - (size_t)arc;
        fuzz_chunked(buf + arc, rest, rest ? cut1 % (rest + 1) : 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t cut1 = 0, cut2 = 0;

    if (size > 0) {
        cut1 = (data[0] * 131u + data[size - 1]) % (size + 1);
        cut2 = cut1 + (data[size / 2] * 7u) % (size - cut1 + 1);
    }
    fuzz_request(buf, size, cut1, cut2, false);
    fuzz_request(buf, size, cut1, cut2, true);
    /* the raw input as a path and as a body too, to reach them directly */
    fuzz_normalize(buf, size, size & 1);
    fuzz_target(rl_str(buf, size));
    fuzz_chunked(buf, size, cut1);

    char *html = malloc(6 * size + 1);
    assert(rl_html_escape(html, buf, size) == rl_html_escape(NULL, buf, size));
    free(html);
    return 0;
}
