/* base64url.c: base64url without padding (see base64url.h). */
#include <errno.h>
#include "util/base64url.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t sl_b64url_len(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

int sl_b64url_encode(sl_buf *out, const void *src, size_t n)
{
    const unsigned char *s = src;
    if (n > ((size_t)-1 - 8) / 4 * 3 || sl_buf_reserve(out, sl_b64url_len(n) + 1) < 0)
        return -ENOMEM;
    char *p = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[v >> 12 & 63];
        *p++ = alphabet[v >> 6 & 63];
        *p++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)s[i] << 16;
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8;
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[v >> 12 & 63];
        *p++ = alphabet[v >> 6 & 63];
    }
    *p = '\0';
    out->len = (size_t)(p - out->data);
    return 0;
}

/* The value of an alphabet character, or -1. */
static int value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int sl_b64url_decode(unsigned char *dst, size_t *outlen, const char *src, size_t n)
{
    const unsigned char *s = (const unsigned char *)src;
    if (n % 4 == 1)
        return -EINVAL;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = value(s[i]);
        if (v < 0)
            return -EINVAL;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* What is left (2 or 4 bits) must be zero: "QQ" is 'A', "QR" is not. */
    if ((acc & ((1u << bits) - 1)) != 0)
        return -EINVAL;
    *outlen = o;
    return 0;
}
