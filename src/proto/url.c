/* url.c: percent-decoding, query strings and form bodies (see url.h). */
#include <errno.h>
#include <string.h>
#include "proto/url.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decode one byte at src[*i] (advancing *i); -EINVAL on a malformed escape.
 * Reads never reach past len, and each output byte is produced only after
 * its input was read, which is what lets dst alias src.
 */
static int decode_one(const char *src, size_t len, size_t *i, int plus)
{
    char c = src[*i];

    if (c == '+' && plus) {
        *i += 1;
        return ' ';
    }
    if (c != '%') {
        *i += 1;
        return (unsigned char)c;
    }
    if (len - *i < 3)
        return -EINVAL;
    int hi = hexval(src[*i + 1]), lo = hexval(src[*i + 2]);
    if (hi < 0 || lo < 0)
        return -EINVAL;
    *i += 3;
    return hi << 4 | lo;
}

/* Decode into at most cap bytes: the length, -EINVAL when malformed,
 * -ENOBUFS when it does not fit. */
static long decode_bounded(char *dst, size_t cap, const char *src,
                           size_t len, int plus)
{
    size_t i = 0, j = 0;

    while (i < len) {
        int c = decode_one(src, len, &i, plus);
        if (c < 0)
            return -EINVAL;
        if (j >= cap)
            return -ENOBUFS;
        dst[j++] = (char)c;
    }
    return (long)j;
}

long sl_percent_decode(char *dst, const char *src, size_t len, int plus)
{
    /* The output is never longer than the input, so cap = len suffices. */
    return decode_bounded(dst, len, src, len, plus);
}

/*
 * Compare a raw (encoded) query name with `name` while decoding, so no
 * buffer is needed.  A malformed name equals nothing.  A decoded NUL never
 * equals the end of `name`: we stop at name's terminator first.
 */
static int name_equals(const char *raw, size_t rlen, const char *name)
{
    size_t i = 0, k = 0;

    while (i < rlen) {
        int c = decode_one(raw, rlen, &i, 1);
        if (c < 0 || name[k] == '\0' || (unsigned char)name[k] != c)
            return 0;
        k++;
    }
    return name[k] == '\0';
}

/*
 * Pairs are separated by '&' only (';' is data).  Empty pairs ("a=1&&b")
 * are skipped.
 */
int sl_query_next(const char *query, size_t qlen, size_t *pos,
                  const char **name, size_t *nlen,
                  const char **value, size_t *vlen)
{
    if (query == NULL && qlen > 0)
        return -EINVAL;
    while (*pos < qlen) {
        const char *pair = query + *pos;
        const char *amp = memchr(pair, '&', qlen - *pos);
        size_t plen = amp ? (size_t)(amp - pair) : qlen - *pos;
        *pos += plen + (amp ? 1 : 0);
        if (plen == 0)
            continue;

        const char *eq = memchr(pair, '=', plen);
        *name = pair;
        *nlen = eq ? (size_t)(eq - pair) : plen;
        *value = eq ? eq + 1 : pair + plen;
        *vlen = plen - (size_t)(*value - pair);
        return 1;
    }
    return 0;
}

/*
 * Only the pair whose decoded name matches is decoded; malformed escapes
 * elsewhere in the query are not our concern.
 */
long sl_query_get_next(const char *query, size_t qlen, const char *name,
                       size_t *pos, char *dst, size_t cap)
{
    const char *n, *v;
    size_t nl, vl, at;

    if (name == NULL || pos == NULL || (query == NULL && qlen > 0))
        return -EINVAL;
    at = *pos;
    while (sl_query_next(query, qlen, &at, &n, &nl, &v, &vl) == 1) {
        if (!name_equals(n, nl, name))
            continue;
        if (cap == 0)
            return -ENOBUFS;
        long r = decode_bounded(dst, cap - 1, v, vl, 1);
        if (r == -ENOBUFS)
            return r;
        *pos = at;
        if (r < 0)
            return r;
        dst[r] = '\0';
        return r;
    }
    return -ENOENT;
}

long sl_query_get(const char *query, size_t qlen, const char *name,
                  char *dst, size_t cap)
{
    size_t pos = 0;

    return sl_query_get_next(query, qlen, name, &pos, dst, cap);
}

size_t sl_query_count(const char *query, size_t qlen, const char *name)
{
    const char *n, *v;
    size_t nl, vl, pos = 0, count = 0;

    if (name == NULL)
        return 0;
    while (sl_query_next(query, qlen, &pos, &n, &nl, &v, &vl) == 1)
        count += name_equals(n, nl, name);
    return count;
}
