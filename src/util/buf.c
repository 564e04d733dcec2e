/* buf.c: the growable byte buffer (see buf.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "util/buf.h"

void sl_buf_init(sl_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void sl_buf_free(sl_buf *b)
{
    free(b->data);
    sl_buf_init(b);
}

int sl_buf_reserve(sl_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > (size_t)-1 / 2 - b->len)
        return -ENOMEM;
    size_t want = b->len + extra;
    /*
     * The first allocation is what is asked for (at least 256 bytes), and
     * only growth doubles: a buffer filled once, like a request's
     * parameters, then takes its size and not up to twice it, for every
     * request in flight.
     */
    size_t cap = b->cap ? b->cap : want > 256 ? want : 256;
    while (cap < want)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int sl_buf_append(sl_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int rc = sl_buf_reserve(b, n);
    if (rc < 0)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int sl_buf_append_str(sl_buf *b, const char *s)
{
    return sl_buf_append(b, s, strlen(s));
}

void sl_buf_consume(sl_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}
