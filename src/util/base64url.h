/*
 * base64url.h: RFC 4648 section 5 ("URL and filename safe") without
 * padding, the alphabet of signed cookie values: its characters are all
 * cookie-octets, so an encoded value needs no quoting.
 */
#ifndef SLUICE_BASE64URL_H
#define SLUICE_BASE64URL_H

#include <stddef.h>
#include "util/buf.h"

/* The encoded length of n bytes. */
size_t sl_b64url_len(size_t n);

/* Append src[0..n) encoded, NUL-terminated after it (not counted).
 * 0, or -ENOMEM. */
int sl_b64url_encode(sl_buf *out, const void *src, size_t n);

/*
 * Decode src[0..n) into dst (room for n * 3 / 4 bytes); *outlen gets the
 * size.  Strict, since what it reads comes from peers: only the alphabet,
 * no padding, no whitespace, no length of 1 mod 4, and unused trailing
 * bits zero (one encoding per value, so a signature cannot be varied).
 * 0, or -EINVAL.
 */
int sl_b64url_decode(unsigned char *dst, size_t *outlen, const char *src, size_t n);

#endif
