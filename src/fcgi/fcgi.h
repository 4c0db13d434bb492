/* FastCGI 1.0 records and name-value pairs, for both ends of the protocol:
 * relaisd is the client (writes BEGIN_REQUEST/PARAMS/STDIN, reads STDOUT/
 * STDERR/END_REQUEST), relais-fpm the server (the other way round).
 *
 * Pure codec: no I/O, no allocation except through a caller's rl_buf_t.
 * Encoders append whole records to an rl_buf_t (aborting on OOM like
 * rl_buf_append(), since the server produces that output itself). Decoders
 * hand out views into the caller's input.
 *
 * Return convention (parsers): bytes consumed, 0 when more input is needed,
 * -1 on a protocol error (the parser's <error> then says why). */
#ifndef RL_FCGI_H
#define RL_FCGI_H

#include "core/rl.h"
#include "core/str.h"
#include "core/buf.h"

#define RL_FCGI_VERSION_1      1
#define RL_FCGI_HEADER_LEN     8
#define RL_FCGI_MAX_CONTENT    65535
/* Content bytes per record the encoders write when splitting a stream: the
 * largest multiple of 8 that fits, so full records need no padding (as
 * php-fpm does). */
#define RL_FCGI_CHUNK          65528
/* The largest length a name-value pair can carry (31 bits). */
#define RL_FCGI_MAX_PAIR_LEN   0x7fffffffu

/* Record types (FCGI_*). */
enum {
    RL_FCGI_BEGIN_REQUEST     = 1,
    RL_FCGI_ABORT_REQUEST     = 2,
    RL_FCGI_END_REQUEST       = 3,
    RL_FCGI_PARAMS            = 4,
    RL_FCGI_STDIN             = 5,
    RL_FCGI_STDOUT            = 6,
    RL_FCGI_STDERR            = 7,
    RL_FCGI_DATA              = 8,
    RL_FCGI_GET_VALUES        = 9,
    RL_FCGI_GET_VALUES_RESULT = 10,
    RL_FCGI_UNKNOWN_TYPE      = 11,
};

/* BEGIN_REQUEST roles and flags. */
enum {
    RL_FCGI_RESPONDER  = 1,
    RL_FCGI_AUTHORIZER = 2,
    RL_FCGI_FILTER     = 3,
};
#define RL_FCGI_KEEP_CONN 1

/* END_REQUEST protocolStatus. */
enum {
    RL_FCGI_REQUEST_COMPLETE = 0,
    RL_FCGI_CANT_MPX_CONN    = 1,
    RL_FCGI_OVERLOADED       = 2,
    RL_FCGI_UNKNOWN_ROLE     = 3,
};

/* Variable names of GET_VALUES. */
#define RL_FCGI_MAX_CONNS  "FCGI_MAX_CONNS"
#define RL_FCGI_MAX_REQS   "FCGI_MAX_REQS"
#define RL_FCGI_MPXS_CONNS "FCGI_MPXS_CONNS"

/* Bit of <type> in a parser's <pieces> mask. */
#define RL_FCGI_TYPE_BIT(type) (1u << (type))
/* The stream record types: those a parser hands out piece by piece by
 * default. */
#define RL_FCGI_STREAMS                                                     \
    (RL_FCGI_TYPE_BIT(RL_FCGI_PARAMS) | RL_FCGI_TYPE_BIT(RL_FCGI_STDIN) |   \
     RL_FCGI_TYPE_BIT(RL_FCGI_STDOUT) | RL_FCGI_TYPE_BIT(RL_FCGI_STDERR) |  \
     RL_FCGI_TYPE_BIT(RL_FCGI_DATA))

/* A record header (FCGI_Header) in host byte order. */
typedef struct {
    uint8_t version;
    uint8_t type;
    uint16_t request_id;
    uint16_t content_length;
    uint8_t padding_length;
} rl_fcgi_header_t;

/* Writes the 8 bytes of a header into <out>; reserved is zero. */
void rl_fcgi_header_encode(uint8_t out[RL_FCGI_HEADER_LEN], const rl_fcgi_header_t *h);
/* Reads the 8 bytes of <in> into <h>. No validation. */
void rl_fcgi_header_decode(const uint8_t in[RL_FCGI_HEADER_LEN], rl_fcgi_header_t *h);
/* Padding that brings <content_length> to a multiple of 8. */
static inline uint8_t rl_fcgi_padding(size_t content_length)
{
    return (uint8_t)((8 - (content_length & 7)) & 7);
}

/* One event of the record parser: a whole record, or a piece of a stream
 * record's content. */
typedef struct {
    uint8_t type;
    uint16_t request_id;
    uint16_t content_length;   /* of the whole record */
    uint8_t padding_length;
    /* This piece of the content: a view into the buffer given to the call
     * that returned it. A record not handed out in pieces comes whole
     * (offset 0, last). An empty record comes as one empty, last piece. */
    const uint8_t *data;
    size_t len;
    size_t offset;             /* of <data> in the record's content */
    bool last;                 /* <data> ends the record's content */
    /* Decoded fixed bodies, set for these types (always whole). */
    union {
        struct { uint16_t role; uint8_t flags; } begin;          /* BEGIN_REQUEST */
        struct { uint32_t app_status; uint8_t protocol_status; } end; /* END_REQUEST */
        struct { uint8_t type; } unknown;                        /* UNKNOWN_TYPE */
    } body;
} rl_fcgi_record_t;

/* The incremental record parser. */
typedef struct {
    /* Types whose content is handed out as it arrives (RL_FCGI_TYPE_BIT of
     * each); others are handed out only when their whole content is in the
     * buffer. Set by rl_fcgi_parser_init() to RL_FCGI_STREAMS; 0 makes every
     * record come whole. BEGIN_REQUEST, END_REQUEST and UNKNOWN_TYPE always
     * come whole. Changeable between calls. */
    unsigned pieces;
    const char *error;         /* on error: reason for the error log */

    /* Private. */
    uint8_t state_;
    uint8_t pad_left_;         /* padding still to skip */
    rl_fcgi_header_t hdr_;     /* the record being handed out in pieces */
    size_t done_;              /* its content bytes handed out so far */
} rl_fcgi_parser_t;

/* Prepares <p> for the first record of a connection. */
void rl_fcgi_parser_init(rl_fcgi_parser_t *p);

/* Parses at most <len> bytes of <buf> and hands out one event in <out>:
 * a whole record, or the next piece of a record whose type is in <pieces>
 * (at least one content byte; the header is consumed with it). Padding is
 * skipped: after the content when it is in <buf>, else at the start of the
 * next call that hands out an event.
 *
 * Returns the bytes consumed (> 0, an event in <out>), 0 when more input is
 * needed (nothing consumed: call again with the same bytes at the start of
 * <buf> and more after them), -1 on a protocol error: a version other than 1,
 * or a fixed-size record of the wrong size (BEGIN_REQUEST, END_REQUEST and
 * UNKNOWN_TYPE carry 8 bytes, ABORT_REQUEST none). Errors are sticky.
 * Request ids and roles are not judged here: that is the caller's protocol
 * logic. Never allocates. */
ssize_t rl_fcgi_parse(rl_fcgi_parser_t *p, const uint8_t *buf, size_t len,
                      rl_fcgi_record_t *out);

/* True when <p> stands between records, with no content owed (padding still
 * to skip does not count): a clean place for the peer to close. */
bool rl_fcgi_parser_between(const rl_fcgi_parser_t *p);

/* ---- name-value pairs ---- */

typedef struct {
    rl_str_t name;
    rl_str_t value;
} rl_fcgi_pair_t;

/* Bytes the encoding of a pair takes. */
size_t rl_fcgi_pair_size(rl_str_t name, rl_str_t value);
/* Appends the encoding of a pair (1-byte lengths below 128, else 4-byte).
 * Returns false, appending nothing, when a length exceeds
 * RL_FCGI_MAX_PAIR_LEN. */
bool rl_fcgi_encode_pair(rl_buf_t *b, rl_str_t name, rl_str_t value);

/* Decodes one pair from <buf>[0..<len>) into <out> (views into <buf>).
 * Returns the bytes consumed, 0 when the pair is not all there. Never -1:
 * every length is valid. */
ssize_t rl_fcgi_decode_pair(const uint8_t *buf, size_t len, rl_fcgi_pair_t *out);

/* An incremental decoder of a pair stream (PARAMS, whose pairs may span
 * records) fed the content in pieces split anywhere. Pairs wholly inside a
 * piece are views into it; a pair split across pieces is assembled in the
 * caller's <carry> buffer, whose size <max_pair> bounds (0: no bound). */
typedef struct {
    const char *error;         /* on error: reason for the error log */

    /* Private. */
    rl_buf_t *carry_;
    size_t max_pair_;
    const uint8_t *piece_;     /* the current piece, not yet decoded */
    size_t piece_len_;
    bool carried_;             /* the last pair handed out is in carry_ */
} rl_fcgi_pairs_t;

/* Prepares <d> for a new stream, using <carry> (emptied) for pairs split
 * across pieces. */
void rl_fcgi_pairs_init(rl_fcgi_pairs_t *d, rl_buf_t *carry, size_t max_pair);
/* Gives <d> the next piece of the stream. Call only once rl_fcgi_pairs_next()
 * has returned 0 for the previous one. <piece> must stay valid until then. */
void rl_fcgi_pairs_feed(rl_fcgi_pairs_t *d, const uint8_t *piece, size_t len);
/* Hands out the next pair in <out>, valid until the next call on <d> and
 * as long as the piece. Returns 1 with a pair, 0 when the piece is used up
 * (feed the next), -1 when a pair exceeds <max_pair>. */
int rl_fcgi_pairs_next(rl_fcgi_pairs_t *d, rl_fcgi_pair_t *out);
/* At the end of the stream: RL_OK, or RL_ERROR when a pair is incomplete
 * ("truncated name-value pair"). */
int rl_fcgi_pairs_end(rl_fcgi_pairs_t *d);

/* ---- encoders: whole records appended to <b> ---- */

/* One record of <type> with <len> (<= RL_FCGI_MAX_CONTENT) content bytes,
 * padded to a multiple of 8. */
void rl_fcgi_encode_record(rl_buf_t *b, uint8_t type, uint16_t request_id,
                           const void *content, size_t len);
void rl_fcgi_encode_begin_request(rl_buf_t *b, uint16_t request_id, uint16_t role,
                                  uint8_t flags);
void rl_fcgi_encode_abort_request(rl_buf_t *b, uint16_t request_id);
void rl_fcgi_encode_end_request(rl_buf_t *b, uint16_t request_id, uint32_t app_status,
                                uint8_t protocol_status);
/* <len> bytes of a stream (STDIN, STDOUT, STDERR, DATA, or pre-encoded
 * PARAMS) as records of at most RL_FCGI_CHUNK bytes; nothing when <len> is
 * 0. The stream's end is rl_fcgi_encode_stream_end(). */
void rl_fcgi_encode_stream(rl_buf_t *b, uint8_t type, uint16_t request_id,
                           const void *data, size_t len);
/* The empty record that ends a stream of <type>. */
void rl_fcgi_encode_stream_end(rl_buf_t *b, uint8_t type, uint16_t request_id);
/* <n> pairs as a PARAMS stream (pairs may span records), then the empty
 * PARAMS record that ends it. Returns false, appending nothing, when a
 * length exceeds RL_FCGI_MAX_PAIR_LEN. */
bool rl_fcgi_encode_params(rl_buf_t *b, uint16_t request_id, const rl_fcgi_pair_t *pairs,
                           size_t n);
/* A GET_VALUES record (request id 0) asking for <n> names. Returns false,
 * appending nothing, when they do not fit one record. */
bool rl_fcgi_encode_get_values(rl_buf_t *b, const rl_str_t *names, size_t n);
/* A GET_VALUES_RESULT record (request id 0). Same return as above. */
bool rl_fcgi_encode_get_values_result(rl_buf_t *b, const rl_fcgi_pair_t *pairs, size_t n);
/* An UNKNOWN_TYPE record (request id 0) naming <type>. */
void rl_fcgi_encode_unknown_type(rl_buf_t *b, uint8_t type);

#endif
