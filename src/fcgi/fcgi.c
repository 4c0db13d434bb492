/* FastCGI 1.0 codec (the Open Market specification of 29 April 1996).
 *
 * Both daemons use it: relaisd as the client, relais-fpm as the server, so it
 * knows nothing of sockets or requests. The record parser works on whatever
 * the caller has buffered and hands out content as views; stream records can
 * be handed out piece by piece so that a proxy forwards a 64 KiB STDOUT
 * record as it arrives instead of buffering it. Name-value pairs that a
 * PARAMS stream splits across records are glued together in a buffer the
 * caller owns and bounds. */
#include <assert.h>
#include "fcgi/fcgi.h"

/* States of the record parser. */
enum {
    ST_HEADER  = 0,   /* between records: the next byte starts a header */
    ST_CONTENT = 1,   /* handing out the content of hdr_ in pieces */
    ST_PADDING = 2,   /* content done; pad_left_ padding bytes to skip */
    ST_ERROR   = 3,   /* a protocol error was returned; stays so */
};

static const uint8_t zeros[8];

void rl_fcgi_header_encode(uint8_t out[RL_FCGI_HEADER_LEN], const rl_fcgi_header_t *h)
{
    out[0] = h->version;
    out[1] = h->type;
    out[2] = (uint8_t)(h->request_id >> 8);
    out[3] = (uint8_t)h->request_id;
    out[4] = (uint8_t)(h->content_length >> 8);
    out[5] = (uint8_t)h->content_length;
    out[6] = h->padding_length;
    out[7] = 0;
}

void rl_fcgi_header_decode(const uint8_t in[RL_FCGI_HEADER_LEN], rl_fcgi_header_t *h)
{
    h->version = in[0];
    h->type = in[1];
    h->request_id = (uint16_t)(in[2] << 8 | in[3]);
    h->content_length = (uint16_t)(in[4] << 8 | in[5]);
    h->padding_length = in[6];
}

/* ---- record parser ---- */

void rl_fcgi_parser_init(rl_fcgi_parser_t *p)
{
    memset(p, 0, sizeof(*p));
    p->pieces = RL_FCGI_STREAMS;
    p->state_ = ST_HEADER;
}

bool rl_fcgi_parser_between(const rl_fcgi_parser_t *p)
{
    return p->state_ == ST_HEADER || p->state_ == ST_PADDING;
}

/* Returns why header <h> is not acceptable, or NULL. */
static const char *check_header(const rl_fcgi_header_t *h)
{
    if (h->version != RL_FCGI_VERSION_1)
        return "unsupported FastCGI version";
    switch (h->type) {
    case RL_FCGI_BEGIN_REQUEST:
        return h->content_length == 8 ? NULL : "BEGIN_REQUEST record not 8 bytes long";
    case RL_FCGI_END_REQUEST:
        return h->content_length == 8 ? NULL : "END_REQUEST record not 8 bytes long";
    case RL_FCGI_UNKNOWN_TYPE:
        return h->content_length == 8 ? NULL : "UNKNOWN_TYPE record not 8 bytes long";
    case RL_FCGI_ABORT_REQUEST:
        return h->content_length == 0 ? NULL : "ABORT_REQUEST record with content";
    default:
        return NULL;
    }
}

/* Whether records of <type> go out in pieces under <p>'s mask. */
static bool in_pieces(const rl_fcgi_parser_t *p, uint8_t type)
{
    if (type >= 32 || type == RL_FCGI_BEGIN_REQUEST || type == RL_FCGI_END_REQUEST
        || type == RL_FCGI_UNKNOWN_TYPE)
        return false;
    return (p->pieces & RL_FCGI_TYPE_BIT(type)) != 0;
}

static void decode_body(rl_fcgi_record_t *r)
{
    const uint8_t *d = r->data;

    switch (r->type) {
    case RL_FCGI_BEGIN_REQUEST:
        r->body.begin.role = (uint16_t)(d[0] << 8 | d[1]);
        r->body.begin.flags = d[2];
        break;
    case RL_FCGI_END_REQUEST:
        r->body.end.app_status = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16
                                 | (uint32_t)d[2] << 8 | d[3];
        r->body.end.protocol_status = d[4];
        break;
    case RL_FCGI_UNKNOWN_TYPE:
        r->body.unknown.type = d[0];
        break;
    default:
        break;
    }
}

/* Hands out the next piece of p->hdr_'s content from <buf>[<pos>..<len>),
 * then skips what padding is there. Returns the new position. */
static size_t deliver(rl_fcgi_parser_t *p, const uint8_t *buf, size_t len, size_t pos,
                      rl_fcgi_record_t *out)
{
    size_t want = p->hdr_.content_length - p->done_;
    size_t n = RL_MIN(len - pos, want);

    memset(out, 0, sizeof(*out));
    out->type = p->hdr_.type;
    out->request_id = p->hdr_.request_id;
    out->content_length = p->hdr_.content_length;
    out->padding_length = p->hdr_.padding_length;
    out->data = buf + pos;
    out->len = n;
    out->offset = p->done_;
    out->last = n == want;
    p->done_ += n;
    pos += n;
    if (!out->last)
        return pos;
    decode_body(out);
    size_t pad = RL_MIN(len - pos, (size_t)p->hdr_.padding_length);
    pos += pad;
    p->pad_left_ = (uint8_t)(p->hdr_.padding_length - pad);
    p->state_ = p->pad_left_ ? ST_PADDING : ST_HEADER;
    return pos;
}

ssize_t rl_fcgi_parse(rl_fcgi_parser_t *p, const uint8_t *buf, size_t len,
                      rl_fcgi_record_t *out)
{
    size_t pos = 0;

    if (p->state_ == ST_ERROR)
        return -1;
    if (p->state_ == ST_CONTENT) {
        if (len == 0)
            return 0;
        return (ssize_t)deliver(p, buf, len, 0, out);
    }
    /* Padding is skipped only together with an event, so that a positive
     * return always carries one; until then the caller keeps those bytes. */
    if (p->state_ == ST_PADDING)
        pos = p->pad_left_;
    if (len < pos + RL_FCGI_HEADER_LEN)
        return 0;

    rl_fcgi_header_t h;
    rl_fcgi_header_decode(buf + pos, &h);
    p->error = check_header(&h);
    if (p->error) {
        p->state_ = ST_ERROR;
        return -1;
    }
    size_t avail = len - pos - RL_FCGI_HEADER_LEN;
    if (in_pieces(p, h.type) && h.content_length > 0 ? avail == 0
                                                     : avail < h.content_length)
        return 0;
    p->hdr_ = h;
    p->done_ = 0;
    p->pad_left_ = 0;
    p->state_ = ST_CONTENT;
    return (ssize_t)deliver(p, buf, len, pos + RL_FCGI_HEADER_LEN, out);
}

/* ---- name-value pairs ---- */

static size_t len_size(size_t n)
{
    return n < 128 ? 1 : 4;
}

static size_t put_len(uint8_t *o, size_t n)
{
    if (n < 128) {
        o[0] = (uint8_t)n;
        return 1;
    }
    o[0] = (uint8_t)(0x80 | (n >> 24));
    o[1] = (uint8_t)(n >> 16);
    o[2] = (uint8_t)(n >> 8);
    o[3] = (uint8_t)n;
    return 4;
}

static size_t get_len(const uint8_t *i)
{
    if (!(i[0] & 0x80))
        return i[0];
    return (size_t)(i[0] & 0x7f) << 24 | (size_t)i[1] << 16 | (size_t)i[2] << 8 | i[3];
}

size_t rl_fcgi_pair_size(rl_str_t name, rl_str_t value)
{
    return len_size(name.len) + len_size(value.len) + name.len + value.len;
}

/* Writes the two lengths of a pair into <o> (8 bytes); returns their size. */
static size_t put_lens(uint8_t *o, rl_str_t name, rl_str_t value)
{
    size_t n = put_len(o, name.len);
    return n + put_len(o + n, value.len);
}

static bool pair_ok(rl_str_t name, rl_str_t value)
{
    return name.len <= RL_FCGI_MAX_PAIR_LEN && value.len <= RL_FCGI_MAX_PAIR_LEN;
}

bool rl_fcgi_encode_pair(rl_buf_t *b, rl_str_t name, rl_str_t value)
{
    uint8_t lens[8];

    if (!pair_ok(name, value))
        return false;
    rl_buf_append(b, lens, put_lens(lens, name, value));
    rl_buf_append_str(b, name);
    rl_buf_append_str(b, value);
    return true;
}

/* Of a pair whose first <len> bytes are in <p>: returns its whole size once
 * both lengths are there (setting *<known>), else how many bytes it takes to
 * learn more. */
static uint64_t pair_need(const uint8_t *p, size_t len, bool *known)
{
    *known = false;
    if (len < 1)
        return 1;
    size_t nsz = p[0] & 0x80 ? 4 : 1;
    if (len < nsz + 1)
        return nsz + 1;
    size_t vsz = p[nsz] & 0x80 ? 4 : 1;
    if (len < nsz + vsz)
        return nsz + vsz;
    *known = true;
    return (uint64_t)nsz + vsz + get_len(p) + get_len(p + nsz);
}

/* Fills <out> from a complete pair at <p>; returns its size. */
static size_t split_pair(const uint8_t *p, rl_fcgi_pair_t *out)
{
    size_t nsz = p[0] & 0x80 ? 4 : 1;
    size_t vsz = p[nsz] & 0x80 ? 4 : 1;
    size_t nlen = get_len(p), vlen = get_len(p + nsz);
    const char *s = (const char *)p + nsz + vsz;

    out->name = rl_str(s, nlen);
    out->value = rl_str(s + nlen, vlen);
    return nsz + vsz + nlen + vlen;
}

ssize_t rl_fcgi_decode_pair(const uint8_t *buf, size_t len, rl_fcgi_pair_t *out)
{
    bool known;
    uint64_t need = pair_need(buf, len, &known);

    if (!known || need > len)
        return 0;
    return (ssize_t)split_pair(buf, out);
}

void rl_fcgi_pairs_init(rl_fcgi_pairs_t *d, rl_buf_t *carry, size_t max_pair)
{
    memset(d, 0, sizeof(*d));
    d->carry_ = carry;
    d->max_pair_ = max_pair;
    rl_buf_clear(carry);
}

void rl_fcgi_pairs_feed(rl_fcgi_pairs_t *d, const uint8_t *piece, size_t len)
{
    d->piece_ = piece;
    d->piece_len_ = len;
}

/* The carry's unread bytes (NULL + 0 is undefined, hence the test). */
static const uint8_t *carry_head(const rl_buf_t *c)
{
    return c->data ? (const uint8_t *)c->data + c->pos : NULL;
}

static int pairs_fail(rl_fcgi_pairs_t *d, const char *why)
{
    d->error = why;
    d->piece_len_ = 0;
    return -1;
}

/* Moves bytes of the piece into the carry until it holds a whole pair.
 * Returns 1 when it does, 0 when the piece ran out, -1 on error. */
static int pairs_assemble(rl_fcgi_pairs_t *d)
{
    rl_buf_t *c = d->carry_;

    for (;;) {
        bool known;
        uint64_t want = pair_need(carry_head(c), rl_buf_unread(c), &known);
        if (known && d->max_pair_ && want > d->max_pair_)
            return pairs_fail(d, "name-value pair too large");
        if (known && rl_buf_unread(c) == want)
            return 1;
        if (d->piece_len_ == 0)
            return 0;
        size_t take = (size_t)RL_MIN(want - rl_buf_unread(c), (uint64_t)d->piece_len_);
        if (!rl_buf_reserve(c, take, 0))
            return pairs_fail(d, "out of memory for a name-value pair");
        memcpy(rl_buf_tail(c), d->piece_, take);
        c->len += take;
        d->piece_ += take;
        d->piece_len_ -= take;
    }
}

int rl_fcgi_pairs_next(rl_fcgi_pairs_t *d, rl_fcgi_pair_t *out)
{
    rl_buf_t *c = d->carry_;

    if (d->error)
        return -1;
    if (d->carried_) {
        rl_buf_clear(c);
        d->carried_ = false;
    }
    if (rl_buf_unread(c) == 0) {
        bool known;
        uint64_t want = pair_need(d->piece_, d->piece_len_, &known);
        if (known && d->max_pair_ && want > d->max_pair_)
            return pairs_fail(d, "name-value pair too large");
        if (known && want <= d->piece_len_) {
            size_t n = split_pair(d->piece_, out);
            d->piece_ += n;
            d->piece_len_ -= n;
            return 1;
        }
        if (d->piece_len_ == 0)
            return 0;
    }
    int rc = pairs_assemble(d);
    if (rc != 1)
        return rc;
    split_pair(carry_head(c), out);
    d->carried_ = true;
    return 1;
}

int rl_fcgi_pairs_end(rl_fcgi_pairs_t *d)
{
    if (d->error)
        return RL_ERROR;
    if (d->piece_len_ > 0 || (!d->carried_ && rl_buf_unread(d->carry_) > 0)) {
        d->error = "truncated name-value pair";
        return RL_ERROR;
    }
    return RL_OK;
}

/* ---- encoders ---- */

/* Writes a byte stream as records of at most RL_FCGI_CHUNK bytes. The open
 * record's header is patched when it closes; its place is kept relative to
 * b->pos because rl_buf_reserve() may move the unread data. */
typedef struct {
    rl_buf_t *b;
    size_t hdr_rel;
    size_t clen;
    bool open;
    uint8_t type;
    uint16_t id;
} writer_t;

static void w_close(writer_t *w)
{
    if (!w->open)
        return;
    rl_fcgi_header_t h = { RL_FCGI_VERSION_1, w->type, w->id, (uint16_t)w->clen,
                           rl_fcgi_padding(w->clen) };
    rl_fcgi_header_encode((uint8_t *)rl_buf_head(w->b) + w->hdr_rel, &h);
    rl_buf_append(w->b, zeros, h.padding_length);
    w->open = false;
}

static void w_put(writer_t *w, const void *data, size_t n)
{
    const char *s = data;

    while (n > 0) {
        if (!w->open) {
            w->hdr_rel = rl_buf_unread(w->b);
            rl_buf_append(w->b, zeros, RL_FCGI_HEADER_LEN);
            w->clen = 0;
            w->open = true;
        }
        size_t take = RL_MIN(n, RL_FCGI_CHUNK - w->clen);
        rl_buf_append(w->b, s, take);
        w->clen += take;
        s += take;
        n -= take;
        if (w->clen == RL_FCGI_CHUNK)
            w_close(w);
    }
}

void rl_fcgi_encode_record(rl_buf_t *b, uint8_t type, uint16_t request_id,
                           const void *content, size_t len)
{
    assert(len <= RL_FCGI_MAX_CONTENT);
    uint8_t hdr[RL_FCGI_HEADER_LEN];
    rl_fcgi_header_t h = { RL_FCGI_VERSION_1, type, request_id, (uint16_t)len,
                           rl_fcgi_padding(len) };
    rl_fcgi_header_encode(hdr, &h);
    rl_buf_append(b, hdr, sizeof(hdr));
    rl_buf_append(b, content, len);
    rl_buf_append(b, zeros, h.padding_length);
}

void rl_fcgi_encode_begin_request(rl_buf_t *b, uint16_t request_id, uint16_t role,
                                  uint8_t flags)
{
    uint8_t body[8] = { (uint8_t)(role >> 8), (uint8_t)role, flags, 0, 0, 0, 0, 0 };
    rl_fcgi_encode_record(b, RL_FCGI_BEGIN_REQUEST, request_id, body, sizeof(body));
}

void rl_fcgi_encode_abort_request(rl_buf_t *b, uint16_t request_id)
{
    rl_fcgi_encode_record(b, RL_FCGI_ABORT_REQUEST, request_id, NULL, 0);
}

void rl_fcgi_encode_end_request(rl_buf_t *b, uint16_t request_id, uint32_t app_status,
                                uint8_t protocol_status)
{
    uint8_t body[8] = { (uint8_t)(app_status >> 24), (uint8_t)(app_status >> 16),
                        (uint8_t)(app_status >> 8), (uint8_t)app_status,
                        protocol_status, 0, 0, 0 };
    rl_fcgi_encode_record(b, RL_FCGI_END_REQUEST, request_id, body, sizeof(body));
}

void rl_fcgi_encode_stream(rl_buf_t *b, uint8_t type, uint16_t request_id,
                           const void *data, size_t len)
{
    writer_t w = { .b = b, .type = type, .id = request_id };
    w_put(&w, data, len);
    w_close(&w);
}

void rl_fcgi_encode_stream_end(rl_buf_t *b, uint8_t type, uint16_t request_id)
{
    rl_fcgi_encode_record(b, type, request_id, NULL, 0);
}

bool rl_fcgi_encode_params(rl_buf_t *b, uint16_t request_id, const rl_fcgi_pair_t *pairs,
                           size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!pair_ok(pairs[i].name, pairs[i].value))
            return false;

    writer_t w = { .b = b, .type = RL_FCGI_PARAMS, .id = request_id };
    for (size_t i = 0; i < n; i++) {
        uint8_t lens[8];
        w_put(&w, lens, put_lens(lens, pairs[i].name, pairs[i].value));
        w_put(&w, pairs[i].name.p, pairs[i].name.len);
        w_put(&w, pairs[i].value.p, pairs[i].value.len);
    }
    w_close(&w);
    rl_fcgi_encode_stream_end(b, RL_FCGI_PARAMS, request_id);
    return true;
}

/* Appends the header of a management record of <total> content bytes. */
static void mgmt_header(rl_buf_t *b, uint8_t type, size_t total)
{
    uint8_t hdr[RL_FCGI_HEADER_LEN];
    rl_fcgi_header_t h = { RL_FCGI_VERSION_1, type, 0, (uint16_t)total,
                           rl_fcgi_padding(total) };
    rl_fcgi_header_encode(hdr, &h);
    rl_buf_append(b, hdr, sizeof(hdr));
}

/* Adds the size of a pair to *<total>; false once past one record. */
static bool add_pair_size(size_t *total, rl_str_t name, rl_str_t value)
{
    if (name.len > RL_FCGI_MAX_CONTENT || value.len > RL_FCGI_MAX_CONTENT)
        return false;
    *total += rl_fcgi_pair_size(name, value);
    return *total <= RL_FCGI_MAX_CONTENT;
}

bool rl_fcgi_encode_get_values(rl_buf_t *b, const rl_str_t *names, size_t n)
{
    size_t total = 0;

    for (size_t i = 0; i < n; i++)
        if (!add_pair_size(&total, names[i], RL_STR_NULL))
            return false;
    mgmt_header(b, RL_FCGI_GET_VALUES, total);
    for (size_t i = 0; i < n; i++)
        rl_fcgi_encode_pair(b, names[i], RL_STR_NULL);
    rl_buf_append(b, zeros, rl_fcgi_padding(total));
    return true;
}

bool rl_fcgi_encode_get_values_result(rl_buf_t *b, const rl_fcgi_pair_t *pairs, size_t n)
{
    size_t total = 0;

    for (size_t i = 0; i < n; i++)
        if (!add_pair_size(&total, pairs[i].name, pairs[i].value))
            return false;
    mgmt_header(b, RL_FCGI_GET_VALUES_RESULT, total);
    for (size_t i = 0; i < n; i++)
        rl_fcgi_encode_pair(b, pairs[i].name, pairs[i].value);
    rl_buf_append(b, zeros, rl_fcgi_padding(total));
    return true;
}

void rl_fcgi_encode_unknown_type(rl_buf_t *b, uint8_t type)
{
    uint8_t body[8] = { type, 0, 0, 0, 0, 0, 0, 0 };
    rl_fcgi_encode_record(b, RL_FCGI_UNKNOWN_TYPE, 0, body, sizeof(body));
}
