/* Unit tests for src/fcgi/fcgi.c: records, name-value pairs, encoders, the
 * incremental parser fed in every way a socket can split its input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "fcgi/fcgi.h"

/* a deterministic PRNG so that failures reproduce */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The unread bytes of <b>; NULL for a buffer never written (NULL + 0 is
 * undefined). */
static const uint8_t *bytes(const rl_buf_t *b)
{
    return b->data ? (const uint8_t *)rl_buf_head(b) : NULL;
}

static void assert_bytes(const rl_buf_t *b, const uint8_t *want, size_t n)
{
    assert_int_equal(rl_buf_unread(b), n);
    assert_memory_equal(bytes(b), want, n);
}

static void assert_str(rl_str_t s, const char *p, size_t n)
{
    assert_int_equal(s.len, n);
    if (n)
        assert_memory_equal(s.p, p, n);
}

static char *filled(size_t n, char seed)
{
    char *s = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(seed + i % 23);
    return s;
}

/* ---- a caller of the parser: records put back together ---- */

#define MAXRECS 64

typedef struct {
    uint8_t type;
    uint16_t id;
    uint16_t clen;
    rl_buf_t content;
    rl_fcgi_record_t last;   /* the event that ended it (fixed bodies) */
} rec_t;

typedef struct {
    rec_t r[MAXRECS];
    size_t n;
    size_t events;
    int rc;                  /* -1 when the parser failed */
    const char *error;
    size_t leftover;         /* bytes the parser left unconsumed at the end */
} recs_t;

static void recs_free(recs_t *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        rl_buf_release(&rs->r[i].content);
}

static void take_event(recs_t *rs, const rl_fcgi_record_t *ev, const uint8_t *buf,
                       size_t len)
{
    /* views are inside the input and pieces arrive in order */
    assert_true(ev->len == 0 || (ev->data >= buf && ev->data + ev->len <= buf + len));
    rs->events++;
    if (ev->offset == 0) {
        assert_true(rs->n < MAXRECS);
        rec_t *r = &rs->r[rs->n++];
        r->type = ev->type;
        r->id = ev->request_id;
        r->clen = ev->content_length;
        r->content = RL_BUF_INIT;
    }
    rec_t *r = &rs->r[rs->n - 1];
    assert_int_equal(r->type, ev->type);
    assert_int_equal(r->id, ev->request_id);
    assert_int_equal(rl_buf_unread(&r->content), ev->offset);
    rl_buf_append(&r->content, ev->data, ev->len);
    if (ev->last) {
        assert_int_equal(rl_buf_unread(&r->content), ev->content_length);
        r->last = *ev;
    }
}

/* Feeds <in> to a fresh parser as a socket would: pieces of the sizes <cut>
 * gives, appended to a read buffer whose unconsumed bytes stay. */
static void parse_fed(const uint8_t *in, size_t len, unsigned pieces,
                      size_t (*cut)(size_t left), recs_t *rs)
{
    rl_fcgi_parser_t p;
    rl_fcgi_record_t ev;
    rl_buf_t rb = RL_BUF_INIT;
    size_t fed = 0;

    memset(rs, 0, sizeof(*rs));
    rl_fcgi_parser_init(&p);
    p.pieces = pieces;
    while (fed < len) {
        size_t n = cut(len - fed);
        rl_buf_append(&rb, in + fed, n);
        fed += n;
        for (;;) {
            ssize_t rc = rl_fcgi_parse(&p, bytes(&rb), rl_buf_unread(&rb), &ev);
            if (rc < 0) {
                rs->rc = -1;
                rs->error = p.error;
                assert_non_null(p.error);
                goto out;
            }
            if (rc == 0)
                break;
            assert_true((size_t)rc <= rl_buf_unread(&rb));
            take_event(rs, &ev, bytes(&rb), rl_buf_unread(&rb));
            rl_buf_consume(&rb, (size_t)rc);
        }
    }
out:
    rs->leftover = rl_buf_unread(&rb);
    rl_buf_release(&rb);
}

static size_t cut_whole(size_t left) { return left; }
static size_t cut_byte(size_t left) { (void)left; return 1; }
static size_t cut_random(size_t left) { return 1 + rng() % RL_MIN(left, (size_t)9000); }
static size_t cut_small(size_t left) { return 1 + rng() % RL_MIN(left, (size_t)17); }

static void assert_same_recs(const recs_t *a, const recs_t *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->r[i].type, b->r[i].type);
        assert_int_equal(a->r[i].id, b->r[i].id);
        assert_int_equal(a->r[i].clen, b->r[i].clen);
        assert_int_equal(rl_buf_unread(&a->r[i].content), rl_buf_unread(&b->r[i].content));
        if (rl_buf_unread(&a->r[i].content))
            assert_memory_equal(bytes(&a->r[i].content), bytes(&b->r[i].content),
                                rl_buf_unread(&a->r[i].content));
        assert_memory_equal(&a->r[i].last.body, &b->r[i].last.body,
                            sizeof(a->r[i].last.body));
    }
}

/* Parses a whole buffer holding exactly one record; returns it. */
static rl_fcgi_record_t parse_one(const rl_buf_t *b, unsigned pieces)
{
    rl_fcgi_parser_t p;
    rl_fcgi_record_t ev;

    rl_fcgi_parser_init(&p);
    p.pieces = pieces;
    ssize_t rc = rl_fcgi_parse(&p, bytes(b), rl_buf_unread(b), &ev);
    assert_int_equal(rc, rl_buf_unread(b));
    assert_true(ev.last);
    assert_int_equal(ev.offset, 0);
    assert_true(rl_fcgi_parser_between(&p));
    return ev;
}

/* ---- byte layouts from the specification ---- */

static void test_header_codec(void **state)
{
    (void)state;
    rl_fcgi_header_t h = { 1, RL_FCGI_STDOUT, 0x1234, 0xfedc, 0xab }, g;
    uint8_t out[8];
    rl_fcgi_header_encode(out, &h);
    const uint8_t want[8] = { 1, 6, 0x12, 0x34, 0xfe, 0xdc, 0xab, 0 };
    assert_memory_equal(out, want, 8);
    rl_fcgi_header_decode(out, &g);
    assert_int_equal(g.version, 1);
    assert_int_equal(g.type, RL_FCGI_STDOUT);
    assert_int_equal(g.request_id, 0x1234);
    assert_int_equal(g.content_length, 0xfedc);
    assert_int_equal(g.padding_length, 0xab);
    assert_int_equal(rl_fcgi_padding(0), 0);
    assert_int_equal(rl_fcgi_padding(1), 7);
    assert_int_equal(rl_fcgi_padding(8), 0);
    assert_int_equal(rl_fcgi_padding(65535), 1);
}

static void test_begin_request_layout(void **state)
{
    (void)state;
    rl_buf_t b = RL_BUF_INIT;
    rl_fcgi_encode_begin_request(&b, 1, RL_FCGI_RESPONDER, RL_FCGI_KEEP_CONN);
    /* FCGI_Header {1, FCGI_BEGIN_REQUEST, requestId 1, contentLength 8, pad 0}
     * FCGI_BeginRequestBody {roleB1 0, roleB0 1, flags 1, reserved[5]} */
    const uint8_t want[] = { 1, 1, 0, 1, 0, 8, 0, 0,
                             0, 1, 1, 0, 0, 0, 0, 0 };
    assert_bytes(&b, want, sizeof(want));

    rl_buf_clear(&b);
    rl_fcgi_encode_begin_request(&b, 0x0102, RL_FCGI_FILTER, 0);
    const uint8_t want2[] = { 1, 1, 1, 2, 0, 8, 0, 0,
                              0, 3, 0, 0, 0, 0, 0, 0 };
    assert_bytes(&b, want2, sizeof(want2));
    rl_buf_release(&b);
}

static void test_params_layout(void **state)
{
    (void)state;
    rl_buf_t b = RL_BUF_INIT;
    char *v200 = filled(200, 'a');
    rl_fcgi_pair_t pairs[] = {
        { RL_STR("HTTP_HOST"), RL_STR("x") },
        { RL_STR("V"), rl_str(v200, 200) },
    };
    assert_true(rl_fcgi_encode_params(&b, 1, pairs, 2));

    /* content: 09 01 "HTTP_HOST" "x" = 12 bytes,
     *          01 80 00 00 c8 "V" v200 = 206 bytes; 218 = 0xda, padding 6 */
    uint8_t want[8 + 218 + 6 + 8];
    size_t n = 0;
    const uint8_t hdr[] = { 1, 4, 0, 1, 0, 0xda, 6, 0 };
    memcpy(want + n, hdr, 8), n += 8;
    want[n++] = 9;
    want[n++] = 1;
    memcpy(want + n, "HTTP_HOST", 9), n += 9;
    want[n++] = 'x';
    const uint8_t lens[] = { 1, 0x80, 0, 0, 0xc8 };
    memcpy(want + n, lens, 5), n += 5;
    want[n++] = 'V';
    memcpy(want + n, v200, 200), n += 200;
    memset(want + n, 0, 6), n += 6;
    const uint8_t end[] = { 1, 4, 0, 1, 0, 0, 0, 0 };
    memcpy(want + n, end, 8), n += 8;
    assert_int_equal(n, sizeof(want));
    assert_bytes(&b, want, sizeof(want));
    free(v200);
    rl_buf_release(&b);
}

/* ---- name-value pairs ---- */

static void test_pair_lengths(void **state)
{
    (void)state;
    const size_t lens[] = { 0, 1, 127, 128, 255, 65535, 70000 };
    for (size_t i = 0; i < RL_NELEMS(lens); i++) {
        for (size_t j = 0; j < RL_NELEMS(lens); j++) {
            size_t nl = lens[i], vl = lens[j];
            char *name = filled(nl, 'A'), *value = filled(vl, 'a');
            rl_buf_t b = RL_BUF_INIT;
            assert_true(rl_fcgi_encode_pair(&b, rl_str(name, nl), rl_str(value, vl)));
            size_t hl = (nl < 128 ? 1 : 4) + (vl < 128 ? 1 : 4);
            assert_int_equal(rl_buf_unread(&b), hl + nl + vl);
            assert_int_equal(rl_fcgi_pair_size(rl_str(name, nl), rl_str(value, vl)),
                             hl + nl + vl);
            const uint8_t *p = bytes(&b);
            if (nl < 128) {
                assert_int_equal(p[0], nl);
            } else {
                assert_int_equal(p[0], 0x80 | (nl >> 24));
                assert_int_equal(p[1], (nl >> 16) & 0xff);
                assert_int_equal(p[2], (nl >> 8) & 0xff);
                assert_int_equal(p[3], nl & 0xff);
            }

            rl_fcgi_pair_t pr;
            assert_int_equal(rl_fcgi_decode_pair(p, rl_buf_unread(&b), &pr),
                             rl_buf_unread(&b));
            assert_str(pr.name, name, nl);
            assert_str(pr.value, value, vl);
            /* one byte short: need more, never an error */
            assert_int_equal(rl_fcgi_decode_pair(p, rl_buf_unread(&b) - 1, &pr), 0);
            free(name);
            free(value);
            rl_buf_release(&b);
        }
    }
    /* 127 fits the short form, 128 takes the long one */
    rl_buf_t b = RL_BUF_INIT;
    char *s = filled(128, 'x');
    rl_fcgi_encode_pair(&b, rl_str(s, 127), rl_str(s, 128));
    const uint8_t want[] = { 127, 0x80, 0, 0, 128 };
    assert_memory_equal(bytes(&b), want, 5);
    free(s);
    rl_buf_release(&b);
}

static void test_pair_too_long(void **state)
{
    (void)state;
    rl_buf_t b = RL_BUF_INIT;
    /* lengths are judged before any byte is read */
    rl_str_t huge = rl_str("x", (size_t)RL_FCGI_MAX_PAIR_LEN + 1);
    rl_fcgi_pair_t pairs[] = { { RL_STR("A"), RL_STR("b") }, { RL_STR("N"), huge } };
    assert_false(rl_fcgi_encode_pair(&b, huge, RL_STR("")));
    assert_false(rl_fcgi_encode_params(&b, 1, pairs, 2));
    assert_false(rl_fcgi_encode_get_values_result(&b, pairs, 2));
    assert_int_equal(rl_buf_unread(&b), 0);
    rl_buf_release(&b);
}

/* Runs <stream> through the pair decoder in pieces cut by <cut>; checks the
 * pairs against <want>. */
static void decode_pieces(const uint8_t *stream, size_t len, size_t (*cut)(size_t),
                          const rl_fcgi_pair_t *want, size_t nwant)
{
    rl_buf_t carry = RL_BUF_INIT;
    rl_fcgi_pairs_t d;
    rl_fcgi_pair_t pr;
    size_t got = 0, off = 0;

    rl_fcgi_pairs_init(&d, &carry, 0);
    while (off < len) {
        size_t n = cut(len - off);
        rl_fcgi_pairs_feed(&d, stream + off, n);
        int rc;
        while ((rc = rl_fcgi_pairs_next(&d, &pr)) == 1) {
            assert_true(got < nwant);
            assert_str(pr.name, want[got].name.p, want[got].name.len);
            assert_str(pr.value, want[got].value.p, want[got].value.len);
            got++;
        }
        assert_int_equal(rc, 0);
        off += n;
    }
    assert_int_equal(got, nwant);
    assert_int_equal(rl_fcgi_pairs_end(&d), RL_OK);
    rl_buf_release(&carry);
}

static void test_pair_stream_split_anywhere(void **state)
{
    (void)state;
    char *big = filled(70000, 'q');
    rl_fcgi_pair_t pairs[] = {
        { RL_STR("SCRIPT_FILENAME"), RL_STR("/var/www/index.php") },
        { RL_STR("EMPTY"), RL_STR("") },
        { rl_str(big, 128), RL_STR("long name") },
        { RL_STR("HTTP_COOKIE"), rl_str(big, 70000) },
        { RL_STR(""), RL_STR("") },
        { RL_STR("Z"), rl_str(big, 127) },
    };
    rl_buf_t b = RL_BUF_INIT;
    for (size_t i = 0; i < RL_NELEMS(pairs); i++)
        assert_true(rl_fcgi_encode_pair(&b, pairs[i].name, pairs[i].value));

    decode_pieces(bytes(&b), rl_buf_unread(&b), cut_whole, pairs, RL_NELEMS(pairs));
    decode_pieces(bytes(&b), rl_buf_unread(&b), cut_byte, pairs, RL_NELEMS(pairs));
    for (int i = 0; i < 50; i++) {
        decode_pieces(bytes(&b), rl_buf_unread(&b), cut_random, pairs, RL_NELEMS(pairs));
        decode_pieces(bytes(&b), rl_buf_unread(&b), cut_small, pairs, RL_NELEMS(pairs));
    }
    /* every split point into two pieces over the small pairs at the front */
    for (size_t cut = 0; cut <= 60; cut++) {
        rl_buf_t carry = RL_BUF_INIT;
        rl_fcgi_pairs_t d;
        rl_fcgi_pair_t pr;
        rl_fcgi_pairs_init(&d, &carry, 0);
        rl_fcgi_pairs_feed(&d, bytes(&b), cut);
        size_t got = 0;
        while (rl_fcgi_pairs_next(&d, &pr) == 1)
            got++;
        rl_fcgi_pairs_feed(&d, bytes(&b) + cut, 60 - cut);
        while (rl_fcgi_pairs_next(&d, &pr) == 1)
            got++;
        /* 60 bytes: 15+1+18+2 + 5+1+5+0 = 47, then 13 bytes of the third */
        assert_int_equal(got, 2);
        assert_int_equal(rl_fcgi_pairs_end(&d), RL_ERROR);
        assert_string_equal(d.error, "truncated name-value pair");
        rl_buf_release(&carry);
    }
    free(big);
    rl_buf_release(&b);
}

static void test_pair_errors(void **state)
{
    (void)state;
    rl_buf_t carry = RL_BUF_INIT;
    rl_fcgi_pairs_t d;
    rl_fcgi_pair_t pr;

    /* truncated lengths at the end of the stream */
    const uint8_t trunc[][5] = { { 0x80 }, { 0x80, 0, 0 }, { 3 }, { 0x80, 0, 0, 1, 0x80 } };
    const size_t tlen[] = { 1, 3, 1, 5 };
    for (size_t i = 0; i < RL_NELEMS(tlen); i++) {
        rl_fcgi_pairs_init(&d, &carry, 0);
        rl_fcgi_pairs_feed(&d, trunc[i], tlen[i]);
        assert_int_equal(rl_fcgi_pairs_next(&d, &pr), 0);
        assert_int_equal(rl_fcgi_pairs_end(&d), RL_ERROR);
        assert_int_equal(rl_fcgi_decode_pair(trunc[i], tlen[i], &pr), 0);
    }
    /* a value cut short */
    const uint8_t shortv[] = { 1, 4, 'N', 'a', 'b' };
    rl_fcgi_pairs_init(&d, &carry, 0);
    rl_fcgi_pairs_feed(&d, shortv, sizeof(shortv));
    assert_int_equal(rl_fcgi_pairs_next(&d, &pr), 0);
    assert_int_equal(rl_fcgi_pairs_end(&d), RL_ERROR);

    /* a pair over the caller's bound, whole or announced by its lengths */
    const uint8_t big[] = { 0x80, 0, 0x10, 0, 1, 'x' };
    rl_fcgi_pairs_init(&d, &carry, 1024);
    rl_fcgi_pairs_feed(&d, big, sizeof(big));
    assert_int_equal(rl_fcgi_pairs_next(&d, &pr), -1);
    assert_string_equal(d.error, "name-value pair too large");
    assert_int_equal(rl_fcgi_pairs_next(&d, &pr), -1);
    assert_int_equal(rl_fcgi_pairs_end(&d), RL_ERROR);
    /* the same with the lengths split across pieces */
    rl_fcgi_pairs_init(&d, &carry, 1024);
    rl_fcgi_pairs_feed(&d, big, 2);
    assert_int_equal(rl_fcgi_pairs_next(&d, &pr), 0);
    rl_fcgi_pairs_feed(&d, big + 2, sizeof(big) - 2);
    assert_int_equal(rl_fcgi_pairs_next(&d, &pr), -1);
    /* at the bound exactly: fine */
    const uint8_t ok[] = { 2, 1, 'a', 'b', 'c' };
    rl_fcgi_pairs_init(&d, &carry, 5);
    rl_fcgi_pairs_feed(&d, ok, 3);
    assert_int_equal(rl_fcgi_pairs_next(&d, &pr), 0);
    rl_fcgi_pairs_feed(&d, ok + 3, 2);
    assert_int_equal(rl_fcgi_pairs_next(&d, &pr), 1);
    assert_str(pr.name, "ab", 2);
    assert_str(pr.value, "c", 1);
    assert_int_equal(rl_fcgi_pairs_next(&d, &pr), 0);
    assert_int_equal(rl_fcgi_pairs_end(&d), RL_OK);
    /* an empty stream is fine */
    rl_fcgi_pairs_init(&d, &carry, 0);
    rl_fcgi_pairs_feed(&d, NULL, 0);
    assert_int_equal(rl_fcgi_pairs_next(&d, &pr), 0);
    assert_int_equal(rl_fcgi_pairs_end(&d), RL_OK);
    rl_buf_release(&carry);
}

/* ---- every record type, encoded then parsed ---- */

static void test_roundtrip_fixed(void **state)
{
    (void)state;
    rl_buf_t b = RL_BUF_INIT;
    rl_fcgi_record_t r;

    rl_fcgi_encode_begin_request(&b, 7, RL_FCGI_AUTHORIZER, RL_FCGI_KEEP_CONN);
    r = parse_one(&b, RL_FCGI_STREAMS);
    assert_int_equal(r.type, RL_FCGI_BEGIN_REQUEST);
    assert_int_equal(r.request_id, 7);
    assert_int_equal(r.body.begin.role, RL_FCGI_AUTHORIZER);
    assert_int_equal(r.body.begin.flags, RL_FCGI_KEEP_CONN);
    assert_int_equal(r.len, 8);

    rl_buf_clear(&b);
    rl_fcgi_encode_abort_request(&b, 65535);
    const uint8_t abort_want[] = { 1, 2, 0xff, 0xff, 0, 0, 0, 0 };
    assert_bytes(&b, abort_want, 8);
    r = parse_one(&b, RL_FCGI_STREAMS);
    assert_int_equal(r.type, RL_FCGI_ABORT_REQUEST);
    assert_int_equal(r.request_id, 65535);
    assert_int_equal(r.len, 0);

    const uint8_t statuses[] = { RL_FCGI_REQUEST_COMPLETE, RL_FCGI_CANT_MPX_CONN,
                                 RL_FCGI_OVERLOADED, RL_FCGI_UNKNOWN_ROLE };
    for (size_t i = 0; i < RL_NELEMS(statuses); i++) {
        rl_buf_clear(&b);
        rl_fcgi_encode_end_request(&b, 3, 0xdeadbeef, statuses[i]);
        const uint8_t want[] = { 1, 3, 0, 3, 0, 8, 0, 0,
                                 0xde, 0xad, 0xbe, 0xef, statuses[i], 0, 0, 0 };
        assert_bytes(&b, want, sizeof(want));
        r = parse_one(&b, 0);
        assert_int_equal(r.type, RL_FCGI_END_REQUEST);
        assert_int_equal(r.body.end.app_status, 0xdeadbeef);
        assert_int_equal(r.body.end.protocol_status, statuses[i]);
    }

    rl_buf_clear(&b);
    rl_fcgi_encode_unknown_type(&b, 42);
    const uint8_t unk_want[] = { 1, 11, 0, 0, 0, 8, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0 };
    assert_bytes(&b, unk_want, sizeof(unk_want));
    r = parse_one(&b, RL_FCGI_STREAMS);
    assert_int_equal(r.type, RL_FCGI_UNKNOWN_TYPE);
    assert_int_equal(r.request_id, 0);
    assert_int_equal(r.body.unknown.type, 42);

    /* a type this codec does not know comes whole, for UNKNOWN_TYPE */
    rl_buf_clear(&b);
    rl_fcgi_encode_record(&b, 42, 0, "abc", 3);
    r = parse_one(&b, ~0u);
    assert_int_equal(r.type, 42);
    assert_int_equal(r.len, 3);
    assert_int_equal(r.padding_length, 5);
    rl_buf_release(&b);
}

static void test_roundtrip_streams(void **state)
{
    (void)state;
    const uint8_t types[] = { RL_FCGI_STDIN, RL_FCGI_STDOUT, RL_FCGI_STDERR, RL_FCGI_DATA };
    const size_t lens[] = { 1, 7, 8, 9, 65527, 65528, 65529, 65535, 65536, 200000 };
    char *data = filled(200000, '0');

    for (size_t t = 0; t < RL_NELEMS(types); t++) {
        for (size_t l = 0; l < RL_NELEMS(lens); l++) {
            rl_buf_t b = RL_BUF_INIT;
            rl_fcgi_encode_stream(&b, types[t], 9, data, lens[l]);
            rl_fcgi_encode_stream_end(&b, types[t], 9);
            size_t nrec = (lens[l] + RL_FCGI_CHUNK - 1) / RL_FCGI_CHUNK;
            size_t total = 0;
            for (size_t i = 0; i < nrec; i++) {
                size_t c = RL_MIN(lens[l] - i * RL_FCGI_CHUNK, (size_t)RL_FCGI_CHUNK);
                total += 8 + c + rl_fcgi_padding(c);
            }
            assert_int_equal(rl_buf_unread(&b), total + 8);
            /* every record a multiple of 8 bytes (php-fpm's and Apache's
             * layout) */
            assert_int_equal(rl_buf_unread(&b) % 8, 0);

            recs_t rs;
            parse_fed(bytes(&b), rl_buf_unread(&b), 0, cut_whole, &rs);
            assert_int_equal(rs.rc, 0);
            assert_int_equal(rs.n, nrec + 1);
            size_t off = 0;
            for (size_t i = 0; i < nrec; i++) {
                assert_int_equal(rs.r[i].type, types[t]);
                assert_int_equal(rs.r[i].id, 9);
                assert_true(rs.r[i].clen <= RL_FCGI_MAX_CONTENT);
                if (rs.r[i].clen)
                    assert_memory_equal(bytes(&rs.r[i].content), data + off, rs.r[i].clen);
                off += rs.r[i].clen;
            }
            assert_int_equal(off, lens[l]);
            assert_int_equal(rs.r[nrec].clen, 0);
            assert_int_equal(rs.leftover, 0);
            recs_free(&rs);
            rl_buf_release(&b);
        }
    }
    /* nothing to write: no record (an empty one would end the stream) */
    rl_buf_t b = RL_BUF_INIT;
    rl_fcgi_encode_stream(&b, RL_FCGI_STDOUT, 1, NULL, 0);
    assert_int_equal(rl_buf_unread(&b), 0);
    free(data);
}

static void test_get_values(void **state)
{
    (void)state;
    rl_buf_t b = RL_BUF_INIT;
    rl_str_t names[] = { RL_STR(RL_FCGI_MAX_CONNS), RL_STR(RL_FCGI_MAX_REQS),
                         RL_STR(RL_FCGI_MPXS_CONNS) };
    assert_true(rl_fcgi_encode_get_values(&b, names, 3));
    rl_fcgi_record_t r = parse_one(&b, RL_FCGI_STREAMS);
    assert_int_equal(r.type, RL_FCGI_GET_VALUES);
    assert_int_equal(r.request_id, 0);
    assert_int_equal(r.content_length, 16 + 15 + 17);
    assert_int_equal(r.padding_length, 0);
    const uint8_t *p = r.data;
    size_t left = r.len;
    for (size_t i = 0; i < 3; i++) {
        rl_fcgi_pair_t pr;
        ssize_t n = rl_fcgi_decode_pair(p, left, &pr);
        assert_true(n > 0);
        assert_true(rl_str_eq(pr.name, names[i]));
        assert_int_equal(pr.value.len, 0);
        p += n;
        left -= (size_t)n;
    }
    assert_int_equal(left, 0);

    rl_buf_clear(&b);
    rl_fcgi_pair_t res[] = { { RL_STR(RL_FCGI_MAX_CONNS), RL_STR("50") },
                             { RL_STR(RL_FCGI_MPXS_CONNS), RL_STR("0") } };
    assert_true(rl_fcgi_encode_get_values_result(&b, res, 2));
    r = parse_one(&b, 0);
    assert_int_equal(r.type, RL_FCGI_GET_VALUES_RESULT);
    assert_int_equal(r.content_length, 18 + 18);
    assert_int_equal(r.padding_length, 4);
    rl_fcgi_pair_t pr;
    ssize_t n = rl_fcgi_decode_pair(r.data, r.len, &pr);
    assert_int_equal(n, 18);
    assert_str(pr.value, "50", 2);
    n = rl_fcgi_decode_pair(r.data + 18, r.len - 18, &pr);
    assert_int_equal(n, 18);
    assert_str(pr.name, "FCGI_MPXS_CONNS", 15);
    assert_str(pr.value, "0", 1);

    /* empty results are a valid (empty) record */
    rl_buf_clear(&b);
    assert_true(rl_fcgi_encode_get_values_result(&b, NULL, 0));
    assert_int_equal(rl_buf_unread(&b), 8);

    /* what does not fit one record is refused, nothing written */
    rl_buf_clear(&b);
    char *big = filled(65531, 'n');
    rl_str_t bign[] = { rl_str(big, 65531) };   /* 4 + 1 + 65531 > 65535 */
    assert_false(rl_fcgi_encode_get_values(&b, bign, 1));
    rl_str_t fits[] = { rl_str(big, 65535 - 5) };
    assert_true(rl_fcgi_encode_get_values(&b, fits, 1));
    assert_int_equal(rl_buf_unread(&b), 8 + 65535 + 1);
    free(big);
    rl_buf_release(&b);
}

/* ---- PARAMS across records ---- */

static void test_params_large(void **state)
{
    (void)state;
    char *big = filled(100000, 'p');
    rl_fcgi_pair_t pairs[40];
    size_t n = 0;
    char names[30][16];
    for (int i = 0; i < 30; i++) {
        snprintf(names[i], sizeof(names[i]), "HTTP_X_%d", i);
        pairs[n++] = (rl_fcgi_pair_t){ rl_str_c(names[i]), rl_str(big, 1000 + 37 * i) };
    }
    pairs[n++] = (rl_fcgi_pair_t){ RL_STR("HTTP_COOKIE"), rl_str(big, 70000) };
    pairs[n++] = (rl_fcgi_pair_t){ rl_str(big, 65535), RL_STR("v") };
    pairs[n++] = (rl_fcgi_pair_t){ RL_STR("QUERY_STRING"), RL_STR("") };

    rl_buf_t b = RL_BUF_INIT;
    assert_true(rl_fcgi_encode_params(&b, 5, pairs, n));
    size_t stream = 0;
    for (size_t i = 0; i < n; i++)
        stream += rl_fcgi_pair_size(pairs[i].name, pairs[i].value);
    assert_true(stream > 2 * 65535);

    const unsigned masks[] = { 0, RL_FCGI_STREAMS };
    size_t (*cuts[])(size_t) = { cut_whole, cut_random, cut_small };
    for (size_t m = 0; m < 2; m++) {
        for (size_t c = 0; c < RL_NELEMS(cuts); c++) {
            recs_t rs;
            parse_fed(bytes(&b), rl_buf_unread(&b), masks[m], cuts[c], &rs);
            assert_int_equal(rs.rc, 0);
            assert_int_equal(rs.n, (stream + RL_FCGI_CHUNK - 1) / RL_FCGI_CHUNK + 1);
            /* the pair stream is the concatenation of the records */
            rl_buf_t all = RL_BUF_INIT;
            for (size_t i = 0; i < rs.n; i++) {
                assert_int_equal(rs.r[i].type, RL_FCGI_PARAMS);
                assert_int_equal(rs.r[i].id, 5);
                assert_true(rs.r[i].clen <= RL_FCGI_MAX_CONTENT);
                rl_buf_append(&all, bytes(&rs.r[i].content), rs.r[i].clen);
            }
            assert_int_equal(rs.r[rs.n - 1].clen, 0);
            assert_int_equal(rl_buf_unread(&all), stream);
            decode_pieces(bytes(&all), stream, cut_whole, pairs, n);
            rl_buf_release(&all);
            recs_free(&rs);
        }
    }

    /* the server's way: each PARAMS piece straight into the pair decoder */
    for (int round = 0; round < 20; round++) {
        rl_fcgi_parser_t p;
        rl_fcgi_record_t ev;
        rl_fcgi_pairs_t d;
        rl_fcgi_pair_t pr;
        rl_buf_t carry = RL_BUF_INIT, rb = RL_BUF_INIT;
        size_t fed = 0, got = 0;
        bool ended = false;
        rl_fcgi_parser_init(&p);
        rl_fcgi_pairs_init(&d, &carry, 1 << 20);
        while (!ended) {
            size_t k = cut_random(rl_buf_unread(&b) - fed);
            rl_buf_append(&rb, bytes(&b) + fed, k);
            fed += k;
            ssize_t rc;
            while ((rc = rl_fcgi_parse(&p, bytes(&rb), rl_buf_unread(&rb), &ev)) > 0) {
                assert_int_equal(ev.type, RL_FCGI_PARAMS);
                if (ev.content_length == 0) {
                    assert_int_equal(rl_fcgi_pairs_end(&d), RL_OK);
                    ended = true;
                }
                rl_fcgi_pairs_feed(&d, ev.data, ev.len);
                int prc;
                while ((prc = rl_fcgi_pairs_next(&d, &pr)) == 1) {
                    assert_true(rl_str_eq(pr.name, pairs[got].name));
                    assert_true(rl_str_eq(pr.value, pairs[got].value));
                    got++;
                }
                assert_int_equal(prc, 0);
                rl_buf_consume(&rb, (size_t)rc);
            }
            assert_int_equal(rc, 0);
        }
        assert_int_equal(got, n);
        assert_int_equal(fed, rl_buf_unread(&b));
        rl_buf_release(&carry);
        rl_buf_release(&rb);
    }
    free(big);
    rl_buf_release(&b);
}

/* ---- the parser fed every way ---- */

/* A conversation of both directions, with odd lengths and foreign padding. */
static void build_mixed(rl_buf_t *b, char *data)
{
    rl_fcgi_pair_t pairs[] = { { RL_STR("REQUEST_METHOD"), RL_STR("POST") },
                               { RL_STR("CONTENT_LENGTH"), RL_STR("70001") } };
    rl_str_t names[] = { RL_STR(RL_FCGI_MAX_CONNS) };

    rl_fcgi_encode_get_values(b, names, 1);
    rl_fcgi_encode_begin_request(b, 1, RL_FCGI_RESPONDER, RL_FCGI_KEEP_CONN);
    rl_fcgi_encode_params(b, 1, pairs, 2);
    rl_fcgi_encode_stream(b, RL_FCGI_STDIN, 1, data, 70001);
    rl_fcgi_encode_stream_end(b, RL_FCGI_STDIN, 1);
    rl_fcgi_encode_stream(b, RL_FCGI_STDOUT, 1, data + 3, 13);
    rl_fcgi_encode_stream(b, RL_FCGI_STDERR, 1, data + 5, 1);
    /* a peer that pads generously (allowed: up to 255) or not at all */
    const uint8_t hdr[] = { 1, RL_FCGI_STDOUT, 0, 1, 0, 3, 200, 0 };
    rl_buf_append(b, hdr, 8);
    rl_buf_append(b, "abc", 3);
    for (int i = 0; i < 200; i++)
        rl_buf_append(b, "P", 1);
    const uint8_t hdr2[] = { 1, RL_FCGI_STDOUT, 0, 1, 0xff, 0xff, 255, 0 };
    rl_buf_append(b, hdr2, 8);
    rl_buf_append(b, data, 65535);
    for (int i = 0; i < 255; i++)
        rl_buf_append(b, "", 1);
    rl_fcgi_encode_stream_end(b, RL_FCGI_STDOUT, 1);
    rl_fcgi_encode_abort_request(b, 2);
    rl_fcgi_encode_record(b, 77, 0, "xyz", 3);
    rl_fcgi_encode_unknown_type(b, 77);
    rl_fcgi_encode_end_request(b, 1, 255, RL_FCGI_REQUEST_COMPLETE);
}

static void test_parse_split_identical(void **state)
{
    (void)state;
    char *data = filled(70001, '!');
    rl_buf_t b = RL_BUF_INIT;
    build_mixed(&b, data);

    recs_t ref, rs;
    parse_fed(bytes(&b), rl_buf_unread(&b), 0, cut_whole, &ref);
    assert_int_equal(ref.rc, 0);
    assert_int_equal(ref.leftover, 0);
    assert_int_equal(ref.n, 1 + 1 + 2 + 3 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1);
    assert_int_equal(ref.events, ref.n);
    assert_int_equal(ref.r[0].type, RL_FCGI_GET_VALUES);
    assert_int_equal(ref.r[1].last.body.begin.role, RL_FCGI_RESPONDER);
    assert_int_equal(ref.r[ref.n - 1].last.body.end.app_status, 255);
    assert_int_equal(ref.r[ref.n - 2].last.body.unknown.type, 77);

    const unsigned masks[] = { 0, RL_FCGI_STREAMS, ~0u };
    for (size_t m = 0; m < RL_NELEMS(masks); m++) {
        parse_fed(bytes(&b), rl_buf_unread(&b), masks[m], cut_byte, &rs);
        assert_same_recs(&ref, &rs);
        assert_int_equal(rs.leftover, 0);
        if (masks[m] == 0)
            assert_int_equal(rs.events, ref.n);
        else
            assert_true(rs.events > 70001);   /* a byte at a time, as it came */
        recs_free(&rs);
        for (int i = 0; i < 30; i++) {
            parse_fed(bytes(&b), rl_buf_unread(&b), masks[m], i & 1 ? cut_small : cut_random,
                      &rs);
            assert_same_recs(&ref, &rs);
            assert_int_equal(rs.leftover, 0);
            recs_free(&rs);
        }
    }
    recs_free(&ref);
    free(data);
    rl_buf_release(&b);
}

static void test_partial_stdout(void **state)
{
    (void)state;
    /* a proxy forwards STDOUT as it arrives, never holding 64 KiB */
    char *data = filled(65535, 'o');
    rl_buf_t b = RL_BUF_INIT;
    rl_fcgi_encode_record(&b, RL_FCGI_STDOUT, 1, data, 65535);
    rl_fcgi_parser_t p;
    rl_fcgi_record_t ev;
    rl_fcgi_parser_init(&p);

    assert_int_equal(rl_fcgi_parse(&p, bytes(&b), 7, &ev), 0);
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b), 8, &ev), 0);   /* no content yet */
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b), 8 + 1000, &ev), 8 + 1000);
    assert_int_equal(ev.type, RL_FCGI_STDOUT);
    assert_int_equal(ev.content_length, 65535);
    assert_int_equal(ev.offset, 0);
    assert_int_equal(ev.len, 1000);
    assert_false(ev.last);
    assert_ptr_equal(ev.data, bytes(&b) + 8);
    assert_false(rl_fcgi_parser_between(&p));
    size_t off = 1008;
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b) + off, 0, &ev), 0);
    while (off < 8 + 65535) {
        size_t k = RL_MIN((size_t)4096, rl_buf_unread(&b) - off);
        ssize_t rc = rl_fcgi_parse(&p, bytes(&b) + off, k, &ev);
        assert_true(rc > 0 && (size_t)rc <= k);
        assert_int_equal(ev.offset, off - 8);
        assert_ptr_equal(ev.data, bytes(&b) + off);
        assert_memory_equal(ev.data, data + ev.offset, ev.len);
        off += (size_t)rc;
    }
    assert_true(ev.last);
    assert_int_equal(off, rl_buf_unread(&b));   /* the padding byte went with it */
    assert_true(rl_fcgi_parser_between(&p));

    /* whole-record mode waits for the whole content */
    rl_fcgi_parser_init(&p);
    p.pieces = 0;
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b), 8 + 65534, &ev), 0);
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b), 8 + 65535, &ev), 8 + 65535);
    assert_true(ev.last);
    assert_int_equal(ev.len, 65535);
    assert_true(rl_fcgi_parser_between(&p));   /* padding owed, none missing */
    free(data);
    rl_buf_release(&b);
}

static void test_padding(void **state)
{
    (void)state;
    rl_buf_t b = RL_BUF_INIT;
    rl_fcgi_encode_stream(&b, RL_FCGI_STDOUT, 1, "hello", 5);
    const uint8_t want[] = { 1, 6, 0, 1, 0, 5, 3, 0, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };
    assert_bytes(&b, want, sizeof(want));
    rl_fcgi_encode_end_request(&b, 1, 0, RL_FCGI_REQUEST_COMPLETE);

    rl_fcgi_parser_t p;
    rl_fcgi_record_t ev;
    rl_fcgi_parser_init(&p);
    /* content without its padding: handed out, padding owed */
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b), 13, &ev), 13);
    assert_true(ev.last);
    assert_int_equal(ev.len, 5);
    /* part of the padding, then more: the padding is skipped with the next
     * record, not before */
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b) + 13, 2, &ev), 0);
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b) + 13, 3 + 15, &ev), 0);
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b) + 13, 3 + 16, &ev), 19);
    assert_int_equal(ev.type, RL_FCGI_END_REQUEST);

    /* some of the padding arrives with the content */
    rl_fcgi_parser_init(&p);
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b), 14, &ev), 14);
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b) + 14, 2 + 16, &ev), 18);
    assert_int_equal(ev.body.end.protocol_status, RL_FCGI_REQUEST_COMPLETE);

    /* all of it */
    rl_fcgi_parser_init(&p);
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b), rl_buf_unread(&b), &ev), 16);
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b) + 16, 16, &ev), 16);
    rl_buf_release(&b);
}

/* ---- protocol errors ---- */

static void expect_parse_error(const uint8_t *in, size_t len, const char *why)
{
    rl_fcgi_parser_t p;
    rl_fcgi_record_t ev;
    const unsigned masks[] = { 0, RL_FCGI_STREAMS };
    for (size_t m = 0; m < 2; m++) {
        rl_fcgi_parser_init(&p);
        p.pieces = masks[m];
        assert_int_equal(rl_fcgi_parse(&p, in, len, &ev), -1);
        assert_non_null(p.error);
        if (strstr(p.error, why) == NULL)
            fail_msg("reason '%s' does not contain '%s'", p.error, why);
        /* sticky */
        assert_int_equal(rl_fcgi_parse(&p, in, len, &ev), -1);
    }
    /* known from the header alone, before the content */
    rl_fcgi_parser_init(&p);
    assert_int_equal(rl_fcgi_parse(&p, in, 8, &ev), -1);
}

static void test_errors(void **state)
{
    (void)state;
    uint8_t rec[32] = { 0 };
    const uint8_t v0[] = { 0, 6, 0, 1, 0, 0, 0, 0 };
    const uint8_t v2[] = { 2, 1, 0, 1, 0, 8, 0, 0 };
    expect_parse_error(v0, 8, "version");
    expect_parse_error(v2, 8, "version");

    const struct { uint8_t type; uint8_t clen; const char *why; } bad[] = {
        { RL_FCGI_BEGIN_REQUEST, 9, "BEGIN_REQUEST" },
        { RL_FCGI_BEGIN_REQUEST, 0, "BEGIN_REQUEST" },
        { RL_FCGI_END_REQUEST, 7, "END_REQUEST" },
        { RL_FCGI_END_REQUEST, 16, "END_REQUEST" },
        { RL_FCGI_UNKNOWN_TYPE, 1, "UNKNOWN_TYPE" },
        { RL_FCGI_ABORT_REQUEST, 1, "ABORT_REQUEST" },
    };
    for (size_t i = 0; i < RL_NELEMS(bad); i++) {
        const uint8_t h[8] = { 1, bad[i].type, 0, 1, 0, bad[i].clen, 0, 0 };
        memcpy(rec, h, 8);
        expect_parse_error(rec, 8 + bad[i].clen, bad[i].why);
    }

    /* an error after a good record: the good one is handed out first */
    rl_buf_t b = RL_BUF_INIT;
    rl_fcgi_encode_stream(&b, RL_FCGI_STDOUT, 1, "ok", 2);
    rl_buf_append(&b, v2, 8);
    recs_t rs;
    parse_fed(bytes(&b), rl_buf_unread(&b), RL_FCGI_STREAMS, cut_byte, &rs);
    assert_int_equal(rs.rc, -1);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.leftover, 6 + 8);   /* padding goes only with an event */
    recs_free(&rs);

    /* a truncated stream is "need more", not an error */
    rl_fcgi_parser_t p;
    rl_fcgi_record_t ev;
    rl_fcgi_parser_init(&p);
    p.pieces = 0;
    assert_int_equal(rl_fcgi_parse(&p, bytes(&b), 9, &ev), 0);
    assert_true(rl_fcgi_parser_between(&p));
    rl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_codec),
        cmocka_unit_test(test_begin_request_layout),
        cmocka_unit_test(test_params_layout),
        cmocka_unit_test(test_pair_lengths),
        cmocka_unit_test(test_pair_too_long),
        cmocka_unit_test(test_pair_stream_split_anywhere),
        cmocka_unit_test(test_pair_errors),
        cmocka_unit_test(test_roundtrip_fixed),
        cmocka_unit_test(test_roundtrip_streams),
        cmocka_unit_test(test_get_values),
        cmocka_unit_test(test_params_large),
        cmocka_unit_test(test_parse_split_identical),
        cmocka_unit_test(test_partial_stdout),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
