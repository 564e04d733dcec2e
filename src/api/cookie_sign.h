/*
 * cookie_sign.h: signed cookie values (sluice.h: sl_resp_set_signed_cookie,
 * sl_req_signed_cookie), pure: no request, no I/O.  The form is
 *
 *     base64url(value) "." base64url(HMAC-SHA256(key, name "=" base64url(value)))
 *
 * all cookie-octets.  The verifier reads what peers send: fuzzed
 * (fuzz/fuzz_cookie.c).
 */
#ifndef SLUICE_COOKIE_SIGN_H
#define SLUICE_COOKIE_SIGN_H

#include <stddef.h>
#include "util/buf.h"

/* The signature's part of a signed value: "." and 43 characters. */
#define SL_SIGNED_OVERHEAD 44

/* Append the signed form of value[0..vlen) for cookie `name` under
 * key[0..klen) to `out`, NUL-terminated after it.  0, or -ENOMEM. */
int sl_sign_value(sl_buf *out, const void *key, size_t klen, const char *name,
                  const void *value, size_t vlen);

/*
 * Verify s[0..n), sent as cookie `name`, under key[0..klen): its value
 * decoded into dst (room for n bytes; NUL-terminated after it), *outlen
 * its length.  0; -EBADMSG (not of the form, a bad signature, a NUL in
 * the value); -ENOMEM.  The signature is compared in constant time.
 */
int sl_verify_value(const void *key, size_t klen, const char *name, const char *s,
                    size_t n, char *dst, size_t *outlen);

#endif
