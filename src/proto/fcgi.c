/*
 * fcgi.c: the FastCGI 1.0 codec (see fcgi.h).
 *
 * The decoder is a small state machine over one record at a time:
 *
 *   HEADER -> BODY     (BEGIN_REQUEST: collect the 8-byte body)
 *          -> CONTENT  (PARAMS, STDIN, DATA, GET_VALUES: hand out slices)
 *          -> SKIP     (ABORT_REQUEST and unknown types: drop the content)
 *   then   -> PADDING  -> HEADER
 *
 * Event timing, which the connection layer relies on:
 *
 *  - FCGI_EV_BEGIN comes once all 8 body bytes are in.
 *  - FCGI_EV_ABORT and FCGI_EV_UNKNOWN come as soon as the 8-byte header is
 *    complete; their content (if any) and padding are then skipped silently
 *    by later calls.
 *  - Content records (PARAMS, STDIN, DATA, GET_VALUES) with content give one
 *    event per piece of content that arrives, each with len > 0; the final
 *    piece has last = 1.  An empty content record gives exactly one event,
 *    at header completion, with len 0, last 1, end 1 (for GET_VALUES, `end`
 *    just means "empty query").
 *  - Padding never produces an event.
 *  - The call that first reports FCGI_EV_ERROR consumes the offending header
 *    (and anything before it in that call); later calls consume nothing.
 *
 * The decoder never allocates and never copies content.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "proto/fcgi.h"

enum {
    ST_HEADER = 0,          /* collecting the 8-byte header */
    ST_BODY,                /* collecting the BEGIN_REQUEST body */
    ST_CONTENT,             /* handing out content slices */
    ST_SKIP,                /* dropping content we do not use */
    ST_PADDING,             /* dropping padding */
    ST_ERROR
};

/*
 * Stream chunk size.  The largest multiple of 8 that fits the 16-bit content
 * length, so a full record needs no padding and every record stays 8-byte
 * aligned, as the specification recommends.
 */
#define STREAM_CHUNK 65528

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static size_t pad_for(size_t n)
{
    return (8 - (n & 7)) & 7;
}

void fcgi_decoder_init(fcgi_decoder *d)
{
    memset(d, 0, sizeof(*d));
    d->state = ST_HEADER;
}

static void fail(fcgi_decoder *d, fcgi_event *ev, const char *reason)
{
    d->state = ST_ERROR;
    d->error = reason;
    ev->type = FCGI_EV_ERROR;
    ev->id = d->id;
    ev->reason = reason;
}

/*
 * "unsupported FastCGI version N" for every N, as static strings: the
 * reason must outlive the call, and the decoder has nowhere to format one.
 */
#define VERSION_MSG_(n) "unsupported FastCGI version " #n
#define VERSION_MSG(n) VERSION_MSG_(n)
#define VERSION_ROW(p)                                                  \
    VERSION_MSG(p##0), VERSION_MSG(p##1), VERSION_MSG(p##2),            \
    VERSION_MSG(p##3), VERSION_MSG(p##4), VERSION_MSG(p##5),            \
    VERSION_MSG(p##6), VERSION_MSG(p##7), VERSION_MSG(p##8),            \
    VERSION_MSG(p##9)

static const char *const version_msgs[256] = {
    VERSION_ROW(), VERSION_ROW(1), VERSION_ROW(2), VERSION_ROW(3),
    VERSION_ROW(4), VERSION_ROW(5), VERSION_ROW(6), VERSION_ROW(7),
    VERSION_ROW(8), VERSION_ROW(9), VERSION_ROW(10), VERSION_ROW(11),
    VERSION_ROW(12), VERSION_ROW(13), VERSION_ROW(14), VERSION_ROW(15),
    VERSION_ROW(16), VERSION_ROW(17), VERSION_ROW(18), VERSION_ROW(19),
    VERSION_ROW(20), VERSION_ROW(21), VERSION_ROW(22), VERSION_ROW(23),
    VERSION_ROW(24),
    VERSION_MSG(250), VERSION_MSG(251), VERSION_MSG(252), VERSION_MSG(253),
    VERSION_MSG(254), VERSION_MSG(255)
};

/* The event type for a content-carrying record type, or NONE. */
static enum fcgi_event_type content_event(uint8_t type)
{
    switch (type) {
    case FCGI_PARAMS: return FCGI_EV_PARAMS;
    case FCGI_STDIN: return FCGI_EV_STDIN;
    case FCGI_DATA: return FCGI_EV_DATA;
    case FCGI_GET_VALUES: return FCGI_EV_GET_VALUES;
    default: return FCGI_EV_NONE;
    }
}

/*
 * A header is complete: check it and pick the next state.  May set an event
 * (ABORT, UNKNOWN, an empty content record, or ERROR).
 */
static void start_record(fcgi_decoder *d, fcgi_event *ev)
{
    const unsigned char *h = d->hdr;

    d->hdr_len = 0;
    d->type = h[1];
    d->id = (uint16_t)((h[2] << 8) | h[3]);
    d->content_len = (size_t)((h[4] << 8) | h[5]);
    d->content_left = d->content_len;
    d->padding_left = h[6];
    d->body_len = 0;
    ev->id = d->id;

    if (h[0] != FCGI_VERSION_1) {
        fail(d, ev, version_msgs[h[0]]);
        return;
    }

    enum fcgi_event_type cev = content_event(d->type);

    /* Ids: request records need one, GET_VALUES must not have one. */
    if (d->type == FCGI_GET_VALUES && d->id != FCGI_NULL_REQUEST_ID) {
        fail(d, ev, "GET_VALUES with a non-zero request id");
        return;
    }
    if ((d->type == FCGI_BEGIN_REQUEST || d->type == FCGI_ABORT_REQUEST ||
         (cev != FCGI_EV_NONE && d->type != FCGI_GET_VALUES)) &&
        d->id == FCGI_NULL_REQUEST_ID) {
        fail(d, ev, "request record with request id 0");
        return;
    }

    switch (d->type) {
    case FCGI_BEGIN_REQUEST:
        if (d->content_len != sizeof(FCGI_BeginRequestBody)) {
            fail(d, ev, "BEGIN_REQUEST content length is not 8");
            return;
        }
        d->state = ST_BODY;
        return;
    case FCGI_ABORT_REQUEST:
        /* The body should be empty; be lenient and skip whatever is there. */
        ev->type = FCGI_EV_ABORT;
        d->state = ST_SKIP;
        return;
    default:
        break;
    }

    if (cev == FCGI_EV_NONE) {
        /* Unknown or application-only type: report it, skip the rest. */
        ev->type = FCGI_EV_UNKNOWN;
        ev->rec_type = d->type;
        d->state = ST_SKIP;
        return;
    }

    if (d->content_len == 0) {
        ev->type = cev;
        ev->last = 1;
        ev->end = 1;
        d->state = ST_PADDING;
        return;
    }
    d->state = ST_CONTENT;
}

/* Collect BEGIN_REQUEST body bytes; emit BEGIN once all 8 are in. */
static size_t take_body(fcgi_decoder *d, const char *in, size_t len,
                        fcgi_event *ev)
{
    size_t n = min_size(d->content_left, len);

    /* content_left + body_len == 8 always, so this stays inside body[]. */
    memcpy(d->body + d->body_len, in, n);
    d->body_len += n;
    d->content_left -= n;
    if (d->content_left == 0) {
        ev->type = FCGI_EV_BEGIN;
        ev->id = d->id;
        ev->role = (uint16_t)((d->body[0] << 8) | d->body[1]);
        ev->flags = d->body[2];
        d->state = ST_PADDING;
    }
    return n;
}

/* Hand out the next slice of content, without copying. */
static size_t take_content(fcgi_decoder *d, const char *in, size_t len,
                           fcgi_event *ev)
{
    size_t n = min_size(d->content_left, len);

    ev->type = content_event(d->type);
    ev->id = d->id;
    ev->data = in;
    ev->len = n;
    d->content_left -= n;
    if (d->content_left == 0) {
        ev->last = 1;
        d->state = ST_PADDING;
    }
    return n;
}

int fcgi_decoder_between_records(const fcgi_decoder *d)
{
    return d->state == ST_HEADER && d->hdr_len == 0;
}

size_t fcgi_decode(fcgi_decoder *d, const char *in, size_t len, fcgi_event *ev)
{
    size_t off = 0;
    size_t n;

    memset(ev, 0, sizeof(*ev));
    if (d->state == ST_ERROR) {
        ev->type = FCGI_EV_ERROR;
        ev->id = d->id;
        ev->reason = d->error;
        return 0;
    }

    /* Run states until one yields an event or the input runs out. */
    while (ev->type == FCGI_EV_NONE) {
        switch (d->state) {
        case ST_HEADER:
            if (off == len)
                return off;
            n = min_size(FCGI_HEADER_LEN - d->hdr_len, len - off);
            memcpy(d->hdr + d->hdr_len, in + off, n);
            d->hdr_len += n;
            off += n;
            if (d->hdr_len == FCGI_HEADER_LEN)
                start_record(d, ev);
            break;
        case ST_BODY:
            if (off == len)
                return off;
            off += take_body(d, in + off, len - off, ev);
            break;
        case ST_CONTENT:
            if (off == len)
                return off;
            off += take_content(d, in + off, len - off, ev);
            break;
        case ST_SKIP:
            if (d->content_left == 0) {
                d->state = ST_PADDING;
                break;
            }
            if (off == len)
                return off;
            n = min_size(d->content_left, len - off);
            d->content_left -= n;
            off += n;
            break;
        case ST_PADDING:
            if (d->padding_left == 0) {
                d->state = ST_HEADER;
                break;
            }
            if (off == len)
                return off;
            n = min_size(d->padding_left, len - off);
            d->padding_left -= n;
            off += n;
            break;
        default:
            fail(d, ev, "decoder in a bad state");
            break;
        }
    }
    return off;
}

/*
 * Read one pair length at *off.  Only reads bytes below `len`; the 4-byte
 * form is masked to 31 bits, so the result is at most 0x7fffffff.
 */
static inline int read_pair_len(const unsigned char *p, size_t len, size_t *off,
                                size_t *out)
{
    if (*off >= len)
        return -EINVAL;
    if ((p[*off] & 0x80) == 0) {
        *out = p[*off];
        *off += 1;
        return 0;
    }
    if (len - *off < 4)
        return -EINVAL;
    const unsigned char *q = p + *off;
    *out = ((size_t)(q[0] & 0x7f) << 24) | ((size_t)q[1] << 16) |
           ((size_t)q[2] << 8) | (size_t)q[3];
    *off += 4;
    return 0;
}

/*
 * One pair at *off (see fcgi_pairs_next()); `empty_ok` lets an empty name
 * through, for GET_VALUES, whose unknown names are skipped rather than
 * refused.
 */
static int next_pair(const char *p, size_t len, size_t *off, const char **name,
                     size_t *nlen, const char **value, size_t *vlen,
                     const char **reason, int empty_ok)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t pos = *off;
    size_t nl, vl;

    if (pos == len)
        return 0;
    if (pos > len) {
        *reason = "parameter offset past the end";
        return -EINVAL;
    }
    if (read_pair_len(u, len, &pos, &nl) < 0 ||
        read_pair_len(u, len, &pos, &vl) < 0) {
        *reason = "truncated parameter length";
        return -EINVAL;
    }
    /*
     * pos <= len here, so the subtractions cannot wrap; comparing against
     * what is left, rather than adding lengths, cannot overflow either.
     */
    if (nl > len - pos) {
        *reason = "parameter name runs past the end";
        return -EINVAL;
    }
    if (vl > len - pos - nl) {
        *reason = "parameter value runs past the end";
        return -EINVAL;
    }
    if (nl == 0 && !empty_ok) {
        *reason = "empty parameter name";
        return -EINVAL;
    }
    *name = p + pos;
    *nlen = nl;
    *value = p + pos + nl;
    *vlen = vl;
    *off = pos + nl + vl;
    return 1;
}

int fcgi_pairs_next(const char *p, size_t len, size_t *off,
                    const char **name, size_t *nlen,
                    const char **value, size_t *vlen, const char **reason)
{
    return next_pair(p, len, off, name, nlen, value, vlen, reason, 0);
}

/* Append a record header; the caller has reserved the room. */
static void write_header(unsigned char *h, uint8_t type, uint16_t id, size_t clen,
                         size_t plen)
{
    h[0] = FCGI_VERSION_1;
    h[1] = type;
    h[2] = (unsigned char)(id >> 8);
    h[3] = (unsigned char)id;
    h[4] = (unsigned char)(clen >> 8);
    h[5] = (unsigned char)clen;
    h[6] = (unsigned char)plen;
    h[7] = 0;
}

/*
 * Writing into room the caller has reserved (sl_buf_reserve(), the bound
 * checked once for the whole record or stream): a header, content bytes,
 * padding.
 */
static void put_header(sl_buf *out, uint8_t type, uint16_t id, size_t clen,
                       size_t plen)
{
    write_header((unsigned char *)out->data + out->len, type, id, clen, plen);
    out->len += FCGI_HEADER_LEN;
}

static void put_bytes(sl_buf *out, const void *p, size_t n)
{
    if (n > 0)
        memcpy(out->data + out->len, p, n);
    out->len += n;
}

static void put_padding(sl_buf *out, size_t plen)
{
    memset(out->data + out->len, 0, plen);
    out->len += plen;
}

int fcgi_close_record(sl_buf *out, size_t start, uint8_t type, uint16_t id)
{
    static const unsigned char zeros[8];
    size_t n = out->len - start - FCGI_HEADER_LEN;

    if (n > STREAM_CHUNK)
        return -E2BIG;
    size_t plen = pad_for(n);
    if (sl_buf_append(out, zeros, plen) < 0)
        return -ENOMEM;
    write_header((unsigned char *)out->data + start, type, id, n, plen);
    return 0;
}

/* Append one whole record: header, content, zero padding to 8 bytes. */
static int put_record(sl_buf *out, uint8_t type, uint16_t id,
                      const void *content, size_t clen)
{
    size_t plen = pad_for(clen);

    if (sl_buf_reserve(out, FCGI_HEADER_LEN + clen + plen) < 0)
        return -ENOMEM;
    put_header(out, type, id, clen, plen);
    put_bytes(out, content, clen);
    put_padding(out, plen);
    return 0;
}

int fcgi_encode_stream(sl_buf *out, uint8_t type, uint16_t id,
                       const void *data, size_t len)
{
    const char *p = data;

    if (len == 0)
        return 0;
    /*
     * Reserve everything up front, so that -ENOMEM leaves `out` unchanged
     * rather than holding half a response.  Each record costs at most a
     * header plus 7 bytes of padding on top of its content.
     */
    size_t nrec = len / STREAM_CHUNK + 1;
    size_t extra = nrec * (FCGI_HEADER_LEN + 7);
    if (len > (size_t)-1 - extra)
        return -ENOMEM;
    if (sl_buf_reserve(out, len + extra) < 0)
        return -ENOMEM;

    while (len > 0) {
        size_t n = min_size(len, STREAM_CHUNK);
        size_t plen = pad_for(n);
        put_header(out, type, id, n, plen);
        put_bytes(out, p, n);
        put_padding(out, plen);
        p += n;
        len -= n;
    }
    return 0;
}

int fcgi_encode_stream_end(sl_buf *out, uint8_t type, uint16_t id)
{
    return put_record(out, type, id, NULL, 0);
}

int fcgi_encode_end_request(sl_buf *out, uint16_t id, uint32_t app_status,
                            uint8_t protocol_status)
{
    unsigned char b[8] = {
        (unsigned char)(app_status >> 24), (unsigned char)(app_status >> 16),
        (unsigned char)(app_status >> 8), (unsigned char)app_status,
        protocol_status, 0, 0, 0
    };

    return put_record(out, FCGI_END_REQUEST, id, b, sizeof(b));
}

int fcgi_encode_unknown_type(sl_buf *out, uint8_t type)
{
    unsigned char b[8] = { type, 0, 0, 0, 0, 0, 0, 0 };

    return put_record(out, FCGI_UNKNOWN_TYPE, FCGI_NULL_REQUEST_ID, b,
                      sizeof(b));
}

/* Index of a GET_VALUES name we answer, or -1. */
static int known_value(const char *name, size_t nlen)
{
    static const char *const names[] = {
        FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS
    };

    for (int i = 0; i < 3; i++) {
        if (nlen == strlen(names[i]) && memcmp(name, names[i], nlen) == 0)
            return i;
    }
    return -1;
}

/* Append one short pair to a fixed buffer; the caller sized it. */
static size_t put_short_pair(unsigned char *p, const char *name,
                             const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);

    p[0] = (unsigned char)nl;
    p[1] = (unsigned char)vl;
    memcpy(p + 2, name, nl);
    memcpy(p + 2 + nl, value, vl);
    return 2 + nl + vl;
}

int fcgi_encode_get_values_result(sl_buf *out, const char *query, size_t len,
                                  const fcgi_limits *lim)
{
    /*
     * Three names of at most 15 bytes and values of at most 10 digits, with
     * 1-byte lengths: at most 3 * (2 + 15 + 10) = 81 bytes.
     */
    unsigned char content[96];
    size_t clen = 0;
    unsigned seen = 0;
    const char *name, *value, *reason;
    size_t nlen, vlen, off = 0;
    char num[16];
    int rc;

    /*
     * Validate the framing of the whole query first so a bad one writes
     * nothing.  A name we do not know, however odd (empty, or longer than
     * any of ours), is only left out of the answer, as the specification
     * says: the peer may ask for values of later versions or other servers.
     */
    while ((rc = next_pair(query, len, &off, &name, &nlen, &value, &vlen,
                           &reason, 1)) == 1)
        ;
    if (rc < 0)
        return -EINVAL;

    off = 0;
    while (next_pair(query, len, &off, &name, &nlen, &value, &vlen, &reason,
                     1) == 1) {
        int k = known_value(name, nlen);
        if (k < 0 || (seen & (1u << k)))
            continue;
        seen |= 1u << k;
        switch (k) {
        case 0:
            snprintf(num, sizeof(num), "%u", lim->max_conns);
            clen += put_short_pair(content + clen, FCGI_MAX_CONNS, num);
            break;
        case 1:
            snprintf(num, sizeof(num), "%u", lim->max_reqs);
            clen += put_short_pair(content + clen, FCGI_MAX_REQS, num);
            break;
        default:
            clen += put_short_pair(content + clen, FCGI_MPXS_CONNS,
                                   lim->mpxs_conns ? "1" : "0");
            break;
        }
    }
    return put_record(out, FCGI_GET_VALUES_RESULT, FCGI_NULL_REQUEST_ID,
                      content, clen);
}
