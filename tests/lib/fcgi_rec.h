/*
 * fcgi_rec.h: reading and writing FastCGI records in the tests, as a web
 * server would: whole records of any type (sluice's decoder reads only
 * what a web server sends), and the records a web server sends.
 */
#ifndef SLUICE_TEST_FCGI_REC_H
#define SLUICE_TEST_FCGI_REC_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

typedef struct fcgi_rec {
    uint8_t version;
    uint8_t type;
    uint16_t id;
    const char *content;    /* a slice of the input */
    size_t clen;
    size_t plen;
} fcgi_rec;

/* The record at p[0..len): 1 with *rec and *used (its whole size, padding
 * included), 0 when it is not all there yet. */
int fcgi_rec_next(const char *p, size_t len, fcgi_rec *rec, size_t *used);

/* Append a record (content of at most 65535 bytes, padded to 8). */
void fcgi_rec_put(sl_buf *out, uint8_t type, uint16_t id, const void *content,
                  size_t clen);
/* Append BEGIN_REQUEST for a responder, with FCGI_KEEP_CONN or not. */
void fcgi_rec_begin(sl_buf *out, uint16_t id, int keep);
/* Append a stream (PARAMS, STDIN) in records of at most `chunk` bytes,
 * then its empty record. */
void fcgi_rec_stream(sl_buf *out, uint8_t type, uint16_t id, const void *data,
                     size_t len, size_t chunk);

/* What an answer carries: the STDOUT bytes of request `id` in p[0..len)
 * appended to *stdout_bytes; returns 1 once its END_REQUEST was read (its
 * protocol status in *pstatus), 0 before, -1 on a malformed record or one
 * an application should not send.  *used: the bytes read. */
int fcgi_rec_answer(const char *p, size_t len, uint16_t id, sl_buf *stdout_bytes,
                    int *pstatus, size_t *used);

#endif
