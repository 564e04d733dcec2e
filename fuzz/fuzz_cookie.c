/*
 * fuzz_cookie: the signed-cookie verifier sl_verify_value
 * (src/api/cookie_sign.c) and the base64url decoder under it
 * (src/util/base64url.c): what a peer's Cookie header reaches.
 *
 * Input: byte 0 picks a position; the rest is a cookie value.  Checks:
 * - sl_verify_value on the input (exact-size heap buffers) either refuses
 *   it (-EBADMSG) or decodes a value of at most its length, NUL-free and
 *   NUL-terminated, which signed again gives the input byte for byte (one
 *   encoding per value: no variant of a signed cookie verifies);
 * - the input signed as a value verifies back to itself (refused only
 *   when it holds a NUL), is all cookie-octets, and with any one byte
 *   changed (the position from byte 0) no longer verifies;
 * - sl_b64url_decode, when it accepts the input, encodes back to it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api/cookie.h"
#include "api/cookie_sign.h"
#include "util/base64url.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char KEY[] = "fuzzing-key-0123456789abcdef";
#define KLEN (sizeof KEY - 1)

static int verify(const char *s, size_t n, char **out, size_t *len)
{
    char *in = malloc(n ? n : 1), *dst = malloc(n + 1);
    CHECK(in != NULL && dst != NULL);
    memcpy(in, s, n);
    int rc = sl_verify_value(KEY, KLEN, "s", in, n, dst, len);
    free(in);
    if (rc != 0) {
        CHECK(rc == -EBADMSG);
        free(dst);
        *out = NULL;
        return rc;
    }
    CHECK(*len <= n && dst[*len] == '\0' && memchr(dst, '\0', *len) == NULL);
    *out = dst;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t pos = data[0];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;

    /* the input as a signed value */
    char *v;
    size_t vlen;
    if (verify(s, n, &v, &vlen) == 0) {
        sl_buf b;
        sl_buf_init(&b);
        CHECK(sl_sign_value(&b, KEY, KLEN, "s", v, vlen) == 0);
        CHECK(b.len == n && memcmp(b.data, s, n) == 0);
        sl_buf_free(&b);
        free(v);
    }

    /* the input as a value: signed, verified, tampered */
    sl_buf b;
    sl_buf_init(&b);
    CHECK(sl_sign_value(&b, KEY, KLEN, "s", s, n) == 0);
    CHECK(sl_cookie_value_ok(b.data, b.len));
    int rc = verify(b.data, b.len, &v, &vlen);
    if (memchr(s, '\0', n) != NULL) {
        CHECK(rc == -EBADMSG);
    } else {
        CHECK(rc == 0 && vlen == n && memcmp(v, s, n) == 0);
        free(v);
    }
    pos %= b.len;
    b.data[pos] ^= (char)(1 + data[0] % 127);
    CHECK(verify(b.data, b.len, &v, &vlen) == -EBADMSG);
    sl_buf_free(&b);

    /* base64url alone */
    unsigned char *dec = malloc(n * 3 / 4 + 1);
    size_t dlen;
    CHECK(dec != NULL);
    if (sl_b64url_decode(dec, &dlen, s, n) == 0) {
        sl_buf e;
        sl_buf_init(&e);
        CHECK(sl_b64url_encode(&e, dec, dlen) == 0);
        CHECK(e.len == n && memcmp(e.data, s, n) == 0);
        sl_buf_free(&e);
    }
    free(dec);
    return 0;
}
