/*
 * scgi.h: the SCGI codec.
 *
 * A request is a netstring holding the header block, "LEN:" + LEN bytes of
 * NUL-terminated name/value strings + ",", followed by exactly
 * CONTENT_LENGTH bytes of body.  The first header must be CONTENT_LENGTH
 * (by sl_cgi_content_length()'s rule, cgi.h), and an "SCGI" header with
 * value "1" must be present.  The
 * response is the CGI-style bytes, then the server closes the connection.
 *
 * Pure: the caller accumulates bytes and asks whether the header block is
 * complete.
 */
#ifndef SLUICE_SCGI_H
#define SLUICE_SCGI_H

#include <errno.h>
#include <stddef.h>

enum {
    SCGI_NEED_MORE = 0,     /* header block not complete yet */
    SCGI_OK = 1,            /* header block complete and valid */
    SCGI_ERROR = -EINVAL,   /* malformed; *reason says why */
    SCGI_TOO_LARGE = -E2BIG /* well formed so far, but declared longer than
                               `max`; *reason says so.  The request can be
                               refused (431) without reading the block. */
};

typedef struct scgi_header {
    const char *block;      /* the header strings: name\0value\0... */
    size_t block_len;
    size_t consumed;        /* bytes of input up to and including the ',' */
    unsigned long long content_length;
} scgi_header;

/*
 * Parse the netstring header block at the start of in[0..len).  `max` bounds
 * the declared header length: a longer one is SCGI_TOO_LARGE as soon as its
 * length digits are read, before any of it is buffered.  On SCGI_OK fills *h
 * (slices of `in`).  On SCGI_ERROR and SCGI_TOO_LARGE sets *reason to a
 * static string and leaves *h alone.
 */
int scgi_parse_header(const char *in, size_t len, size_t max, scgi_header *h,
                      const char **reason);

/*
 * Walk the pairs of a validated header block: returns 1 with the next pair
 * (NUL-terminated slices of the block), 0 at the end.  Start with *off = 0.
 */
int scgi_pairs_next(const scgi_header *h, size_t *off, const char **name,
                    const char **value);

#endif
