/*
 * starlette.h: a request's text as Starlette hands it to FastAPI, so that
 * declared parameters see the very strings a FastAPI application would:
 *
 *   - the query string: urllib.parse.parse_qsl(qs.decode("latin-1"),
 *     keep_blank_values=True): pairs split at '&' only, empty ones
 *     skipped, a pair without '=' has the empty value, '+' is a space,
 *     %XX escapes decoded and the bytes read as UTF-8 (each ill-formed
 *     sequence one U+FFFD), a malformed escape kept as it is, and a raw
 *     byte 0x80-0xff kept as the Latin-1 character it is;
 *   - the Cookie header: starlette.requests.cookie_parser (chunks split at
 *     ';', "name=value" or a bare value with the empty name, both
 *     stripped, a quoted value unquoted as http.cookies does: \" and \ooo);
 *   - header values: Latin-1 (every byte one character);
 *   - whether a Content-Type is JSON: email.message's reading of it, as
 *     fastapi/routing.py asks: application/json or application/...+json.
 *
 * Everything here returns UTF-8.  Pure: no I/O.
 */
#ifndef SLUICE_STARLETTE_H
#define SLUICE_STARLETTE_H

#include <stddef.h>

/* Python's bytes.decode("utf-8", "replace"): src[0..len) into dst (at
 * least 3 * len bytes), each maximal ill-formed subsequence one U+FFFD.
 * Returns the bytes written (no NUL added). */
size_t sl_utf8_replace(char *dst, const char *src, size_t len);

/* Latin-1 to UTF-8: src[0..len) into dst (at least 2 * len bytes).
 * Returns the bytes written (no NUL added). */
size_t sl_latin1_utf8(char *dst, const char *src, size_t len);

/* Name-value pairs, decoded; both NUL-terminated (they may hold a NUL
 * before it: use the lengths). */
typedef struct sl_kv {
    const char *name, *value;
    size_t nlen, vlen;
} sl_kv;

typedef struct sl_kvlist {
    sl_kv *kv;              /* one allocation, which holds store too */
    size_t n;
    char *store;            /* the decoded bytes */
} sl_kvlist;

/* The pairs of query string qs[0..len), in order, repeats kept.  0, or
 * -ENOMEM (then *out is empty). */
int sl_query_pairs(const char *qs, size_t len, sl_kvlist *out);

/* The cookies of a Cookie header value c[0..len), in the order their
 * names first appear, a repeated name keeping its last value.  0, or
 * -ENOMEM. */
int sl_cookie_pairs(const char *c, size_t len, sl_kvlist *out);

void sl_kvlist_free(sl_kvlist *l);

/* 1 when Content-Type ct is JSON as FastAPI decides it, 0 when it is not,
 * -1 when there is none (NULL or empty: FastAPI then reads JSON too). */
int sl_content_type_json(const char *ct);

#endif
