/*
 * multipart.h: a streaming multipart/form-data parser (RFC 7578, on the
 * framing of RFC 2046 section 5.1).  A part's file name is made safe by
 * sl_filename_sanitise() (filename.h); its Content-Disposition is read by
 * hparam.h.
 *
 * Pure: bytes in, events out, like fcgi_decode().  Nothing here knows about
 * sockets, files or libuv.  The one allocation is the header buffer, made
 * once by sl_mp_init() at the size the caller's limit says; the parser
 * holds at most the boundary delimiter and one part's header block.
 *
 * Pull style.  The caller hands sl_mp_parse() the body bytes it has, in
 * pieces of any size; each call consumes some and yields at most one event.
 * Call again while a call consumes bytes or yields an event; SL_MP_NONE
 * with 0 consumed means "give me more bytes".  When the body is complete,
 * sl_mp_finish() says whether it ended properly.  A body cut anywhere,
 * even inside a delimiter or the CRLF before it, gives the same events:
 * only the cutting of the content into SL_MP_DATA pieces differs.
 *
 * Events, in order, for a well-formed body:
 *
 *   ( SL_MP_PART  SL_MP_DATA*  SL_MP_PART_END )*  SL_MP_END
 *
 * or SL_MP_ERROR at any point, after which the parser stays in error.
 *
 * What is accepted (RFC 2046 and RFC 7578; see multipart.c for how this
 * compares with Starlette and python-multipart):
 *  - A preamble before the first delimiter and an epilogue after the close
 *    delimiter are ignored; the first delimiter may start the body.
 *  - A delimiter is CRLF "--" boundary; the CRLF belongs to it, not to the
 *    content.  Transport padding (spaces, tabs) may follow it before the
 *    CRLF.  A delimiter followed by anything but "--", padding or CRLF is
 *    content, as is any near miss.
 *  - Part headers: "Name: value" lines ended by CRLF (exactly), then an
 *    empty line.  No folded lines, no bare CR or LF, no control bytes but
 *    HT; names are tokens.  Content-Disposition must be there once, of
 *    type form-data, with a name parameter; Content-Type at most once.
 *    Other headers (Content-Transfer-Encoding too) are ignored, as
 *    Starlette does.
 *  - "--boundary--" alone is an empty form (no parts).
 */
#ifndef SLUICE_MULTIPART_H
#define SLUICE_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

/* RFC 2046: a boundary is 1 to 70 characters. */
#define SL_MP_BOUNDARY_MAX 70
/* The largest header buffer sl_mp_init() agrees to allocate. */
#define SL_MP_HEADER_LIMIT_MAX 65536

enum sl_mp_event_type {
    SL_MP_NONE = 0,         /* need more bytes */
    SL_MP_PART,             /* a part begins: ev->part holds its headers */
    SL_MP_DATA,             /* a piece of the part's content, len > 0 */
    SL_MP_PART_END,         /* the part's content is complete */
    SL_MP_END,              /* the close delimiter: the form is complete */
    SL_MP_ERROR             /* ev->error and ev->reason say why */
};

/*
 * Why a body was refused.  The limits are the caller's (sl_mp_limits); a
 * request layer answers them 413 and the rest 422 (or 400).
 */
enum sl_mp_error {
    SL_MP_OK = 0,
    SL_MP_EMALFORMED,       /* not multipart/form-data as the RFCs have it,
                               or the body ends before the close delimiter */
    SL_MP_EPARTS,           /* more parts than max_parts */
    SL_MP_EHEADERS,         /* a part's header block over max_header_bytes */
    SL_MP_ETOTAL,           /* the body over max_total bytes */
    SL_MP_EPART_SIZE        /* a part's content over max_field or max_file */
};

typedef struct sl_mp_limits {
    unsigned max_parts;         /* parts in the body, >= 1 */
    size_t max_header_bytes;    /* one part's header block, from after its
                                   boundary line through the empty line's
                                   CRLF; 4 .. SL_MP_HEADER_LIMIT_MAX */
    uint64_t max_total;         /* bytes of body up to the close delimiter
                                   (the epilogue is not counted); 0: none */
    uint64_t max_field;         /* content of a part without a filename; 0:
                                   none */
    uint64_t max_file;          /* content of a part with a filename; 0: none */
} sl_mp_limits;

/*
 * A part's headers, decoded.  Strings are NUL-terminated and also have
 * their length; they live in the parser's header buffer and stay valid
 * until the next part's headers are read, so through this part's
 * SL_MP_PART_END.  None holds a NUL, CR or LF.
 */
typedef struct sl_mp_part {
    const char *name;           /* the name parameter, unquoted (may be "") */
    size_t name_len;
    /*
     * The file name as sent, or NULL when the part has none (a field).
     * From filename* (RFC 8187, UTF-8 or ISO-8859-1, given as UTF-8) when
     * present, else from filename, unquoted (\" and \\ unescaped, other
     * backslashes kept, so a Windows path survives for the sanitiser).  A
     * browser sends filename="" for a file input left empty.  Not safe as
     * a path: see sl_filename_sanitise().
     */
    const char *filename;
    size_t filename_len;
    const char *content_type;   /* the Content-Type value, trimmed, or NULL
                                   (RFC 7578: text/plain then) */
    size_t content_type_len;
} sl_mp_part;

typedef struct sl_mp_event {
    enum sl_mp_event_type type;
    sl_mp_part part;            /* SL_MP_PART */
    /*
     * SL_MP_DATA: a slice of the caller's input, or, for bytes that looked
     * like the start of a delimiter when a piece ended and turned out to be
     * content, of the parser's own copy of them.  Valid until the next call
     * or until the caller moves its bytes, whichever comes first.
     */
    const char *data;
    size_t len;
    enum sl_mp_error error;     /* SL_MP_ERROR */
    const char *reason;         /* SL_MP_ERROR: a static string */
} sl_mp_event;

typedef struct sl_mp_parser {
    /* Read only for the caller: */
    uint64_t total;             /* body bytes consumed, epilogue excluded */
    unsigned parts;             /* parts begun */
    /* Private: */
    int state;
    sl_mp_limits lim;
    char delim[4 + SL_MP_BOUNDARY_MAX + 1]; /* CRLF "--" boundary, and one
                                               byte seen after it */
    size_t dlen;                /* 4 + boundary length */
    size_t held;                /* delimiter bytes matched so far */
    int in_part;                /* between a part's headers and its end */
    uint64_t part_size;         /* content bytes of the current part */
    uint64_t part_max;          /* its limit, 0: none */
    int part_is_file;           /* it has a filename */
    char *hdr;                  /* the header buffer, lim.max_header_bytes */
    size_t hlen;
    size_t line;                /* start of the header line being read */
    int colon;                  /* the line has had its ':' */
    enum sl_mp_error pending;   /* an error to report on the next call */
    const char *pending_reason;
    enum sl_mp_error error;     /* set once SL_MP_ERROR was returned */
    const char *reason;
} sl_mp_parser;

/*
 * The boundary of a request's Content-Type, which must be
 * multipart/form-data (any case) with one boundary parameter, quoted or
 * not, of 1 to 70 characters of RFC 2046's set (a space neither last nor
 * unquoted).  Other parameters are ignored.  0 with *b (a slice of
 * `ctype`) and *blen; -EINVAL with *reason (static) otherwise.
 */
int sl_mp_boundary(const char *ctype, size_t len, const char **b,
                   size_t *blen, const char **reason);

/*
 * Start a parser for a body with boundary b[0..blen) (as sl_mp_boundary()
 * gives it; it is copied).  0; -EINVAL for a boundary or limits out of
 * range; -ENOMEM.  sl_mp_free() releases it, whatever state it is in.
 */
int sl_mp_init(sl_mp_parser *p, const char *b, size_t blen,
               const sl_mp_limits *lim);
void sl_mp_free(sl_mp_parser *p);

/*
 * Parse from in[0..len).  Returns the bytes consumed and fills *ev (see
 * above).  After SL_MP_END the rest of the body, the epilogue, is consumed
 * and ignored; after SL_MP_ERROR every call returns the same error with 0
 * consumed.
 */
size_t sl_mp_parse(sl_mp_parser *p, const char *in, size_t len,
                   sl_mp_event *ev);

/*
 * The body is complete: 0 when SL_MP_END was reached; otherwise -EINVAL
 * with *ev the error (SL_MP_EMALFORMED for a body that stops early), and
 * the parser in the error state.
 */
int sl_mp_finish(sl_mp_parser *p, sl_mp_event *ev);

#endif
