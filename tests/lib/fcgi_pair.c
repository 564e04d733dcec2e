/* fcgi_pair.c: encoding one FastCGI name-value pair (see fcgi_pair.h). */
#include <errno.h>
#include "fcgi_pair.h"

/* The largest length a pair can carry: 31 bits. */
#define PAIR_LEN_MAX 0x7fffffffUL

/* Append a pair length: 1 byte below 128, else 4 bytes with the top bit. */
static size_t put_pair_len(unsigned char *p, size_t n)
{
    if (n < 128) {
        p[0] = (unsigned char)n;
        return 1;
    }
    p[0] = (unsigned char)(((n >> 24) & 0x7f) | 0x80);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
    return 4;
}

int fcgi_pair_encode(sl_buf *out, const char *name, size_t nlen,
                     const char *value, size_t vlen)
{
    unsigned char lens[8];
    size_t hl;

    if (nlen > PAIR_LEN_MAX || vlen > PAIR_LEN_MAX)
        return -E2BIG;
    /* Reserve once so a failure leaves `out` as it was. */
    if (vlen > (size_t)-1 - sizeof(lens) - nlen)
        return -ENOMEM;
    hl = put_pair_len(lens, nlen);
    hl += put_pair_len(lens + hl, vlen);
    if (sl_buf_reserve(out, hl + nlen + vlen) < 0)
        return -ENOMEM;
    sl_buf_append(out, lens, hl);
    sl_buf_append(out, name, nlen);
    sl_buf_append(out, value, vlen);
    return 0;
}
