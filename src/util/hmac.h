/*
 * hmac.h: HMAC-SHA256 (RFC 2104, FIPS 180-4), a constant-time comparison
 * and random bytes: what signing a cookie needs (hmac.c says why they
 * are written here).
 */
#ifndef SLUICE_HMAC_H
#define SLUICE_HMAC_H

#include <stddef.h>

#define SL_SHA256_LEN 32        /* a SHA-256 digest, in bytes */
#define SL_HMAC_LEN 32          /* an HMAC-SHA256 tag, in bytes */

/* SHA-256 of msg[0..len) into out[SL_SHA256_LEN]. */
void sl_sha256(const void *msg, size_t len, unsigned char out[SL_SHA256_LEN]);

/* HMAC-SHA256 of msg[0..mlen) under key[0..klen) into out[SL_HMAC_LEN];
 * any key length (a key longer than 64 bytes is hashed first).  0. */
int sl_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                   unsigned char out[SL_HMAC_LEN]);

/* 1 when a[0..n) and b[0..n) are equal, 0 otherwise, in a time that depends
 * on n only (not on where they differ). */
int sl_ct_equal(const void *a, const void *b, size_t n);

/* n bytes from the kernel's random source (getrandom).  0, or -errno. */
int sl_random_bytes(void *out, size_t n);

#endif
