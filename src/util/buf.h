/*
 * buf.h: a growable byte buffer.
 *
 * Used for read buffers, encoded responses and accumulated params.  Every
 * growth is checked against a caller-given limit so that no peer can make
 * us allocate without bound.
 */
#ifndef SLUICE_BUF_H
#define SLUICE_BUF_H

#include <stddef.h>

typedef struct sl_buf {
    char *data;     /* NULL until the first append */
    size_t len;     /* bytes in use */
    size_t cap;     /* bytes allocated */
} sl_buf;

/* Empty buffer; no allocation. */
void sl_buf_init(sl_buf *b);
/* Free the storage and reset to empty. */
void sl_buf_free(sl_buf *b);
/* Make room for at least `extra` more bytes.  0, or -ENOMEM. */
int sl_buf_reserve(sl_buf *b, size_t extra);
/* Append n bytes.  0, or -ENOMEM. */
int sl_buf_append(sl_buf *b, const void *p, size_t n);
/* Append a NUL-terminated string (without its NUL). */
int sl_buf_append_str(sl_buf *b, const char *s);
/* Drop the first n bytes (n <= len), moving the rest to the front. */
void sl_buf_consume(sl_buf *b, size_t n);

#endif
