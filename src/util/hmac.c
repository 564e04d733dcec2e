/* hmac.c: HMAC-SHA256 through libcrypto, and friends (see hmac.h). */
#include <errno.h>
#include <sys/random.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "util/hmac.h"

int sl_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                   unsigned char out[SL_HMAC_LEN])
{
    unsigned int olen = 0;
    /* HMAC() takes an int key length; a longer key is refused, not cut. */
    if (klen > 0x7fffffff)
        return -EINVAL;
    /* A NULL key with klen 0 means "reuse the last key" to some OpenSSL
     * versions: always pass a real pointer. */
    static const unsigned char none[1];
    if (HMAC(EVP_sha256(), klen > 0 ? key : none, (int)klen, msg, mlen, out, &olen) == NULL ||
        olen != SL_HMAC_LEN)
        return -ENOMEM;
    return 0;
}

int sl_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int sl_random_bytes(void *out, size_t n)
{
    unsigned char *p = out;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}
