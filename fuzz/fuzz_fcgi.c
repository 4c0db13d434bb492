/* libFuzzer driver for src/fcgi/fcgi.c.
 *
 * The input goes to the record parser whole and in three pieces (cut where
 * the data says), each step from a fresh copy of what a read buffer would
 * hold, with and without pieces of stream records: the completed records,
 * and the error if any, must be the same every way, every event's view must
 * lie inside the buffer given, and consumed never exceeds the length. The
 * input also goes to the name-value pair decoder, whole and split, and is
 * turned into pairs and a stream that must survive encode -> parse ->
 * decode unchanged. */
#include <assert.h>
#include <stdlib.h>
#include <stdio.h>

#include "fcgi/fcgi.h"

/* The unread bytes of <b>; NULL for a buffer never written (NULL + 0 is
 * undefined). */
static const char *head(const rl_buf_t *b)
{
    return b->data ? rl_buf_head(b) : NULL;
}

/* Appends a completed record to a transcript. */
static void note_record(rl_buf_t *t, const rl_fcgi_record_t *ev, const rl_buf_t *content)
{
    uint8_t h[5] = { ev->type, (uint8_t)(ev->request_id >> 8), (uint8_t)ev->request_id,
                     (uint8_t)(ev->content_length >> 8), (uint8_t)ev->content_length };
    rl_buf_append(t, h, sizeof(h));
    rl_buf_append(t, &ev->body, sizeof(ev->body));
    rl_buf_append(t, head(content), rl_buf_unread(content));
}

/* Parses data[0..len) fed in pieces ending at cut1, cut2, len (each step
 * from a fresh exact-size copy of the unconsumed bytes); writes the
 * completed records to <t>. Returns -1 on a protocol error, else 0. */
static int parse_split(const uint8_t *data, size_t len, unsigned pieces, size_t cut1,
                       size_t cut2, rl_buf_t *t, const char **error)
{
    size_t ends[3] = { cut1, cut2, len };
    size_t consumed = 0;
    rl_fcgi_parser_t p;
    rl_fcgi_record_t ev;
    rl_buf_t content = RL_BUF_INIT;
    int ret = 0;

    rl_fcgi_parser_init(&p);
    p.pieces = pieces;
    *error = NULL;
    for (int step = 0; step < 3; step++) {
        size_t n = ends[step] - consumed;
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, data + consumed, n);
        size_t off = 0;
        for (;;) {
            ssize_t rc = rl_fcgi_parse(&p, copy + off, n - off, &ev);
            if (rc < 0) {
                assert(p.error != NULL);
                *error = p.error;
                assert(rl_fcgi_parse(&p, copy + off, n - off, &ev) == -1);
                ret = -1;
                break;
            }
            if (rc == 0)
                break;
            assert((size_t)rc <= n - off);
            assert(ev.len <= (size_t)rc);
            assert(ev.len == 0 || (ev.data >= copy + off && ev.data + ev.len <= copy + n));
            assert(ev.offset + ev.len <= ev.content_length);
            assert(ev.len > 0 || ev.content_length == 0 || ev.last);
            if (ev.offset == 0)
                rl_buf_clear(&content);
            assert(rl_buf_unread(&content) == ev.offset);
            rl_buf_append(&content, ev.data, ev.len);
            if (ev.last) {
                assert(rl_buf_unread(&content) == ev.content_length);
                assert(rl_fcgi_parser_between(&p));
                note_record(t, &ev, &content);
            }
            off += (size_t)rc;
        }
        consumed += off;
        free(copy);
        if (ret < 0)
            break;
    }
    rl_buf_release(&content);
    return ret;
}

static void fuzz_records(const uint8_t *data, size_t len, size_t cut1, size_t cut2)
{
    rl_buf_t ref = RL_BUF_INIT, t = RL_BUF_INIT;
    const char *ref_err, *err;
    const unsigned masks[] = { 0, RL_FCGI_STREAMS, ~0u };

    int ref_rc = parse_split(data, len, 0, len, len, &ref, &ref_err);
    for (size_t m = 0; m < RL_NELEMS(masks); m++) {
        for (int split = 0; split < 2; split++) {
            rl_buf_clear(&t);
            int rc = split ? parse_split(data, len, masks[m], cut1, cut2, &t, &err)
                           : parse_split(data, len, masks[m], len, len, &t, &err);
            assert(rc == ref_rc);
            assert(err == ref_err);
            assert(rl_buf_unread(&t) == rl_buf_unread(&ref));
            assert(rl_buf_unread(&t) == 0
                   || memcmp(head(&t), head(&ref), rl_buf_unread(&t)) == 0);
        }
    }
    rl_buf_release(&ref);
    rl_buf_release(&t);
}

/* Decodes data[0..len) as a pair stream in pieces split at <cut>, with the
 * bound <max>; appends name and value lengths and bytes to <t>. Returns the
 * decoder's verdict: -1 error, 0 clean end, 1 truncated at the end. */
static int pairs_split(const uint8_t *data, size_t len, size_t cut, size_t max, rl_buf_t *t)
{
    rl_buf_t carry = RL_BUF_INIT;
    rl_fcgi_pairs_t d;
    rl_fcgi_pair_t pr;
    size_t ends[2] = { cut, len }, start = 0;
    int rc = 0;

    rl_fcgi_pairs_init(&d, &carry, max);
    for (int step = 0; step < 2 && rc >= 0; step++) {
        size_t n = ends[step] - start;
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, data + start, n);
        rl_fcgi_pairs_feed(&d, copy, n);
        while ((rc = rl_fcgi_pairs_next(&d, &pr)) == 1) {
            const char *lo = (const char *)copy, *clo = carry.data;
            bool in_piece = pr.name.p >= lo && pr.value.p + pr.value.len <= lo + n;
            bool in_carry = clo && pr.name.p >= clo && pr.value.p + pr.value.len <= clo + carry.len;
            assert(in_piece || in_carry);
            assert(pr.name.p + pr.name.len == pr.value.p);
            assert(max == 0 || pr.name.len + pr.value.len <= max);
            size_t lens[2] = { pr.name.len, pr.value.len };
            rl_buf_append(t, lens, sizeof(lens));
            rl_buf_append_str(t, pr.name);
            rl_buf_append_str(t, pr.value);
        }
        free(copy);
        start = ends[step];
    }
    if (rc >= 0)
        rc = rl_fcgi_pairs_end(&d) == RL_OK ? 0 : 1;
    else
        assert(d.error != NULL);
    rl_buf_release(&carry);
    return rc;
}

static void fuzz_pairs(const uint8_t *data, size_t len, size_t cut)
{
    rl_buf_t ref = RL_BUF_INIT, t = RL_BUF_INIT;

    /* the stateless decoder gives the reference */
    size_t off = 0;
    rl_fcgi_pair_t pr;
    ssize_t n;
    while ((n = rl_fcgi_decode_pair(data + off, len - off, &pr)) > 0) {
        assert((size_t)n <= len - off);
        assert((const uint8_t *)pr.name.p >= data + off);
        assert((const uint8_t *)pr.value.p + pr.value.len <= data + off + (size_t)n);
        size_t lens[2] = { pr.name.len, pr.value.len };
        rl_buf_append(&ref, lens, sizeof(lens));
        rl_buf_append_str(&ref, pr.name);
        rl_buf_append_str(&ref, pr.value);
        off += (size_t)n;
    }
    assert(n == 0);
    int want = off == len ? 0 : 1;

    for (int split = 0; split < 2; split++) {
        rl_buf_clear(&t);
        int rc = pairs_split(data, len, split ? cut : len, 0, &t);
        assert(rc == want);
        assert(rl_buf_unread(&t) == rl_buf_unread(&ref));
        assert(rl_buf_unread(&t) == 0
               || memcmp(head(&t), head(&ref), rl_buf_unread(&t)) == 0);
    }
    /* with a bound: whole and split agree */
    size_t max = len ? 1 + data[0] % 64 : 1;
    rl_buf_t t2 = RL_BUF_INIT;
    rl_buf_clear(&t);
    int a = pairs_split(data, len, len, max, &t);
    int b = pairs_split(data, len, cut, max, &t2);
    assert(a == b);
    assert(rl_buf_unread(&t) == rl_buf_unread(&t2));
    assert(rl_buf_unread(&t) == 0
           || memcmp(head(&t), head(&t2), rl_buf_unread(&t)) == 0);
    rl_buf_release(&t2);
    rl_buf_release(&ref);
    rl_buf_release(&t);
}

/* Pairs cut from the input (a length byte, then that many bytes, stretched
 * past 127 now and then), encoded as PARAMS, parsed in pieces and decoded:
 * they must come back unchanged. The input as STDOUT likewise. */
static void fuzz_roundtrip(const uint8_t *data, size_t len, size_t cut)
{
    rl_fcgi_pair_t pairs[64];
    size_t np = 0, off = 0;
    while (np < RL_NELEMS(pairs) && off < len) {
        size_t nl = data[off++];
        if (nl & 0x80)
            nl = (nl & 0x7f) * 37;
        nl = RL_MIN(nl, len - off);
        size_t vl = off < len ? data[off] * (size_t)(data[off] & 1 ? 300 : 1) : 0;
        vl = RL_MIN(vl, len - off - nl);
        pairs[np].name = rl_str((const char *)data + off, nl);
        pairs[np].value = rl_str((const char *)data + off + nl, vl);
        np++;
        off += nl + vl;
    }

    rl_buf_t b = RL_BUF_INIT;
    uint16_t id = len ? (uint16_t)(data[0] | 1) : 1;
    assert(rl_fcgi_encode_params(&b, id, pairs, np));
    rl_fcgi_encode_stream(&b, RL_FCGI_STDOUT, id, data, len);
    rl_fcgi_encode_stream_end(&b, RL_FCGI_STDOUT, id);
    assert(rl_buf_unread(&b) % 8 == 0);

    rl_fcgi_parser_t p;
    rl_fcgi_record_t ev;
    rl_fcgi_pairs_t d;
    rl_fcgi_pair_t pr;
    rl_buf_t carry = RL_BUF_INIT, out = RL_BUF_INIT;
    const uint8_t *in = (const uint8_t *)rl_buf_head(&b);
    size_t inlen = rl_buf_unread(&b), pos = 0, got = 0, step = 1 + cut % 4093;
    int ends = 0;

    rl_fcgi_parser_init(&p);
    rl_fcgi_pairs_init(&d, &carry, 0);
    /* a reader that gets <step> more bytes each time */
    for (size_t avail = RL_MIN(step, inlen); ; avail = RL_MIN(avail + step, inlen)) {
        ssize_t rc;
        while ((rc = rl_fcgi_parse(&p, in + pos, avail - pos, &ev)) > 0) {
            assert(ev.request_id == id);
            if (ev.type == RL_FCGI_PARAMS) {
                if (ev.content_length == 0) {
                    assert(rl_fcgi_pairs_end(&d) == RL_OK);
                    ends++;
                }
                rl_fcgi_pairs_feed(&d, ev.data, ev.len);
                while (rl_fcgi_pairs_next(&d, &pr) == 1) {
                    assert(got < np);
                    assert(rl_str_eq(pr.name, pairs[got].name));
                    assert(rl_str_eq(pr.value, pairs[got].value));
                    got++;
                }
            } else {
                assert(ev.type == RL_FCGI_STDOUT);
                rl_buf_append(&out, ev.data, ev.len);
                if (ev.content_length == 0)
                    ends++;
            }
            pos += (size_t)rc;
        }
        assert(rc == 0);
        if (avail == inlen)
            break;
    }
    assert(pos == inlen);
    assert(ends == 2);
    assert(got == np);
    assert(rl_buf_unread(&out) == len);
    assert(len == 0 || memcmp(head(&out), data, len) == 0);
    rl_buf_release(&carry);
    rl_buf_release(&out);
    rl_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cut1 = 0, cut2 = 0;

    if (size > 0) {
        cut1 = (data[0] * 131u + data[size - 1]) % (size + 1);
        cut2 = cut1 + (data[size / 2] * 7u) % (size - cut1 + 1);
    }
    fuzz_records(data, size, cut1, cut2);
    fuzz_pairs(data, size, cut1);
    fuzz_roundtrip(data, size, cut2);
    return 0;
}
