/*
 * url.h: percent-decoding (RFC 3986) and looking a name up in an
 * application/x-www-form-urlencoded query string.
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

#endif
