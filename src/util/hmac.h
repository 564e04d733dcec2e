/*
 * hmac.h: HMAC-SHA256 (RFC 2104, FIPS 180-4), a constant-time comparison
 * and random bytes: what signing a cookie needs.  HMAC is libcrypto's
 * (OpenSSL): a reviewed implementation maintained for side channels, which
 * a hand-written SHA-256 here would not be.
 */
#ifndef SLUICE_HMAC_H
#define SLUICE_HMAC_H

#include <stddef.h>

#define SL_HMAC_LEN 32          /* an HMAC-SHA256 tag, in bytes */

/* HMAC-SHA256 of msg[0..mlen) under key[0..klen) into out[SL_HMAC_LEN].
 * 0, or -ENOMEM when libcrypto fails. */
int sl_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                   unsigned char out[SL_HMAC_LEN]);

/* 1 when a[0..n) and b[0..n) are equal, 0 otherwise, in a time that depends
 * on n only (not on where they differ). */
int sl_ct_equal(const void *a, const void *b, size_t n);

/* n bytes from the kernel's random source (getrandom).  0, or -errno. */
int sl_random_bytes(void *out, size_t n);

#endif
