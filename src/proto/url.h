/*
 * url.h: percent-decoding (RFC 3986), and names and values of an
 * application/x-www-form-urlencoded string: a query string, or a form
 * body.
 *
 * Pure: no allocation, no I/O.
 */
#ifndef SLUICE_URL_H
#define SLUICE_URL_H

#include <stddef.h>

/*
 * Percent-decode src[0..len) into dst (at least len bytes).  '+' becomes a
 * space when `plus` is set (query strings).  Returns the decoded length, or
 * -EINVAL on a malformed escape (a '%' not followed by two hex digits).
 * dst may equal src.
 */
long sl_percent_decode(char *dst, const char *src, size_t len, int plus);

/*
 * Find `name` in an application/x-www-form-urlencoded query string and
 * decode its first value into dst (capacity cap, NUL-terminated).  Returns
 * the decoded length; -ENOENT when absent, -EINVAL when malformed (or
 * name is NULL), -ENOBUFS when the value does not fit.  A
 * name present without '=' has the empty value.
 */
long sl_query_get(const char *query, size_t qlen, const char *name,
                  char *dst, size_t cap);

/*
 * The pairs of an application/x-www-form-urlencoded string, a query string
 * or a form body (one format), in order.  Start with *pos = 0.  Returns 1
 * with the next pair's name and value as sent (slices of `query`, still
 * encoded: sl_percent_decode() with plus set decodes them, each into at
 * most its own length), 0 at the end, -EINVAL when query is NULL with
 * qlen > 0.  As in sl_query_get(): pairs are separated by '&' only, empty
 * ones are skipped, a pair without '=' has the empty value (*vlen 0), and
 * the name may be empty ("=v").
 */
int sl_query_next(const char *query, size_t qlen, size_t *pos,
                  const char **name, size_t *nlen,
                  const char **value, size_t *vlen);

/*
 * Every value of `name`, one a call: sl_query_get() from *pos on (start
 * with 0), moving *pos past the pair it decodes, so the next call finds
 * the next value; -ENOENT when there is none left.  On -EINVAL (a
 * malformed value) *pos moves past that pair too, so a caller may skip
 * it; on -ENOBUFS it stays, so a caller may retry with more room.
 */
long sl_query_get_next(const char *query, size_t qlen, const char *name,
                       size_t *pos, char *dst, size_t cap);

/* How many pairs have the decoded name `name` (0 when name is NULL). */
size_t sl_query_count(const char *query, size_t qlen, const char *name);

#endif
