/*
 * cookie.h: the Cookie header read by name, and Set-Cookie lines made and
 * checked (sl_req_cookie, sl_resp_set_cookie, sl_resp_delete_cookie in
 * sluice.h).  What cookie_sign.c and session.c build on.
 */
#ifndef SLUICE_COOKIE_H
#define SLUICE_COOKIE_H

#include <stddef.h>
#include <sluice.h>
#include "util/buf.h"

/* What every browser keeps of one cookie: the Set-Cookie value's bytes. */
#define SL_COOKIE_MAX 4096

/* 1 when `name` is a non-empty HTTP token (RFC 6265 cookie-name). */
int sl_cookie_name_ok(const char *name);
/* 1 when v[0..n) is all RFC 6265 cookie-octets (n may be 0). */
int sl_cookie_value_ok(const char *v, size_t n);

/*
 * The Set-Cookie value for `name`=`value` with `opts` (NULL: defaults)
 * into `out` (appended, NUL-terminated); `deleting`: an empty value, an
 * Expires of 1970 and Max-Age=0 instead of opts' max_age and expires.
 * 0; -EINVAL (see sl_resp_set_cookie); -EMSGSIZE (past SL_COOKIE_MAX,
 * out then holds the value anyway); -ENOMEM.
 */
int sl_cookie_format(sl_buf *out, const char *name, const char *value,
                     const sl_cookie *opts, int deleting);

/* "Thu, 01 Jan 1970 00:00:00 GMT" (RFC 9110 IMF-fixdate) for Unix time t,
 * 0 <= t <= 253402300799 (9999-12-31), into out[40].  0, or -EINVAL. */
int sl_http_date(char out[40], int64_t t);

/* The request's cookie `name` and its length, parsed once per request.
 * 0; -ENOENT; -ENOMEM. */
int sl_cookie_lookup(sl_req *req, const char *name, const char **value, size_t *len);

/* `n` bytes owned by the request until it ends, or NULL. */
char *sl_req_keep(sl_req *req, size_t n);

/* Add a made Set-Cookie value to the response: 0, -EALREADY, -ENOMEM. */
int sl_cookie_add(sl_req *req, const char *set_cookie);

#endif
