/*
 * fcgi.h: the FastCGI 1.0 codec.
 *
 * Pure: bytes in, events out; response in, bytes out.  Nothing here knows
 * about sockets or libuv, so it can be unit-tested and fuzzed on its own.
 *
 * Decoding is pull style.  The caller keeps the received bytes and calls
 * fcgi_decode() with what it has; each call consumes some bytes and yields at
 * most one event.  Content is handed out as slices of the caller's buffer,
 * valid until the caller moves or frees those bytes: a record's content may
 * come out as several events when it arrives in pieces (`last` marks the
 * final piece of the record).
 *
 * The decoder checks framing only: version, record type, fixed body
 * lengths, padding.  Which request ids are active, and what order records
 * may come in for one request, is the connection's business.
 */
#ifndef SLUICE_FCGI_H
#define SLUICE_FCGI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/buf.h"

/* Protocol constants, from libfcgi's fastcgi.h. */
#include <fastcgi.h>

enum fcgi_event_type {
    FCGI_EV_NONE = 0,       /* need more bytes */
    FCGI_EV_BEGIN,          /* BEGIN_REQUEST: id, role, flags */
    FCGI_EV_ABORT,          /* ABORT_REQUEST: id */
    FCGI_EV_PARAMS,         /* PARAMS content piece; empty record: len 0, end 1 */
    FCGI_EV_STDIN,          /* STDIN content piece; empty record: len 0, end 1 */
    FCGI_EV_DATA,           /* DATA content piece (filter role; responders ignore) */
    FCGI_EV_GET_VALUES,     /* GET_VALUES content piece (id 0) */
    FCGI_EV_UNKNOWN,        /* a record type we do not know, or one only an
                               application sends (STDOUT, STDERR, END_REQUEST,
                               GET_VALUES_RESULT, UNKNOWN_TYPE): `type` says
                               which; its content is skipped */
    FCGI_EV_ERROR           /* malformed input; `reason` says why.  The
                               decoder stays in the error state. */
};

typedef struct fcgi_event {
    enum fcgi_event_type type;
    uint16_t id;            /* request id of the record */
    /* FCGI_EV_BEGIN */
    uint16_t role;
    uint8_t flags;
    /* FCGI_EV_UNKNOWN: the record type byte */
    uint8_t rec_type;
    /* content pieces: a slice of the caller's input */
    const char *data;
    size_t len;
    int last;               /* 1 on the last piece of the record's content */
    int end;                /* 1 when the record is empty (end of stream) */
    /* FCGI_EV_ERROR */
    const char *reason;     /* static string */
} fcgi_event;

typedef struct fcgi_decoder {
    int state;              /* private */
    unsigned char hdr[8];   /* private: header bytes collected so far */
    size_t hdr_len;
    uint8_t type;           /* current record */
    uint16_t id;
    size_t content_left;    /* content bytes of the current record still due */
    size_t padding_left;    /* padding bytes still to skip */
    size_t content_len;     /* content length of the current record */
    unsigned char body[8];  /* BEGIN/ABORT body collected so far */
    size_t body_len;
    const char *error;      /* set once FCGI_EV_ERROR was returned */
} fcgi_decoder;

void fcgi_decoder_init(fcgi_decoder *d);

/* 1 when the decoder is at a record boundary (no partial record pending). */
int fcgi_decoder_between_records(const fcgi_decoder *d);

/*
 * Decode from `in[0..len)`.  Returns the number of bytes consumed (possibly 0)
 * and fills *ev.  Call again while it consumes bytes or yields an event;
 * FCGI_EV_NONE with 0 consumed means "give me more bytes".  After
 * FCGI_EV_ERROR every later call returns FCGI_EV_ERROR again with 0 consumed.
 */
size_t fcgi_decode(fcgi_decoder *d, const char *in, size_t len, fcgi_event *ev);

/*
 * Name-value pairs, as carried by PARAMS and GET_VALUES streams: 1-byte
 * lengths below 128, 4-byte lengths (high bit set) otherwise.
 *
 * fcgi_pairs_next() reads one pair from a complete stream at *off and
 * advances *off.  Returns 1 with the pair in *name, *nlen, *value, *vlen
 * (slices of `p`, not NUL-terminated), 0 at the end of the stream, or
 * -EINVAL on a malformed stream (a length running past the end, or an empty
 * name), with *reason set; *off is left alone then.
 */
int fcgi_pairs_next(const char *p, size_t len, size_t *off,
                    const char **name, size_t *nlen,
                    const char **value, size_t *vlen, const char **reason);

/*
 * Encoders append whole records to `out`.  Each returns 0 or -ENOMEM.
 *
 * fcgi_encode_stream(): `len` bytes of STDOUT (or STDERR) for request `id`,
 * split into records of at most 65535 content bytes, each padded to a
 * multiple of 8.  len 0 writes nothing; use fcgi_encode_stream_end() for the
 * empty record that closes the stream.
 */
int fcgi_encode_stream(sl_buf *out, uint8_t type, uint16_t id,
                       const void *data, size_t len);
int fcgi_encode_stream_end(sl_buf *out, uint8_t type, uint16_t id);
/*
 * Building a record in place: the caller appends FCGI_HEADER_LEN bytes of
 * room at `start`, then the content; this writes the header there and
 * appends the padding.  0, -E2BIG when the content is more than one record
 * holds (nothing is changed then), or -ENOMEM.
 */
int fcgi_close_record(sl_buf *out, size_t start, uint8_t type, uint16_t id);
/* END_REQUEST with appStatus and protocolStatus (FCGI_REQUEST_COMPLETE, ...). */
int fcgi_encode_end_request(sl_buf *out, uint16_t id, uint32_t app_status,
                            uint8_t protocol_status);
/* UNKNOWN_TYPE for a record type we do not handle (id 0). */
int fcgi_encode_unknown_type(sl_buf *out, uint8_t type);

/* Values we answer GET_VALUES with. */
typedef struct fcgi_limits {
    unsigned max_conns;
    unsigned max_reqs;
    int mpxs_conns;         /* 0 or 1 */
} fcgi_limits;

/*
 * Answer a complete GET_VALUES content: a GET_VALUES_RESULT record holding
 * each known name asked for (FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS)
 * once, with its value; unknown names, also an empty one or one longer
 * than any of ours, are left out, as the specification says.  0, -ENOMEM,
 * or -EINVAL when the framing is malformed (a length past the end).
 */
int fcgi_encode_get_values_result(sl_buf *out, const char *query, size_t len,
                                  const fcgi_limits *lim);

#endif
