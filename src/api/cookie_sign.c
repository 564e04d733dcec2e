/*
 * cookie_sign.c: signed cookies (see cookie_sign.h) and the API on top of
 * them: the app's secret, signed Set-Cookie lines, signed values read back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "api/app.h"
#include "api/cookie.h"
#include "api/cookie_sign.h"
#include "api/request.h"
#include "util/base64url.h"
#include "util/hmac.h"

/* A shorter secret is guessable offline from one signed cookie. */
#define MIN_SECRET 16
/* The base64url length of an HMAC-SHA256 tag. */
#define MAC_B64 43

/* The MAC of name "=" b64[0..n) into mac. */
static int mac_of(const void *key, size_t klen, const char *name, const char *b64,
                  size_t n, unsigned char mac[SL_HMAC_LEN])
{
    size_t nlen = strlen(name);
    if (n > (size_t)-1 - nlen - 1)
        return -ENOMEM;
    char *msg = malloc(nlen + 1 + n + 1);
    if (msg == NULL)
        return -ENOMEM;
    memcpy(msg, name, nlen);
    msg[nlen] = '=';
    memcpy(msg + nlen + 1, b64, n);
    int rc = sl_hmac_sha256(key, klen, msg, nlen + 1 + n, mac);
    free(msg);
    return rc;
}

int sl_sign_value(sl_buf *out, const void *key, size_t klen, const char *name,
                  const void *value, size_t vlen)
{
    size_t start = out->len;
    unsigned char mac[SL_HMAC_LEN];
    int rc = sl_b64url_encode(out, value, vlen);
    if (rc == 0)
        rc = mac_of(key, klen, name, out->data + start, out->len - start, mac);
    if (rc == 0)
        rc = sl_buf_append(out, ".", 1);
    if (rc == 0)
        rc = sl_b64url_encode(out, mac, sizeof mac);
    if (rc < 0)
        out->len = start;
    return rc;
}

int sl_verify_value(const void *key, size_t klen, const char *name, const char *s,
                    size_t n, char *dst, size_t *outlen)
{
    /* value "." mac: the mac is the last 43 characters, after a '.'. */
    if (n < SL_SIGNED_OVERHEAD || s[n - SL_SIGNED_OVERHEAD] != '.')
        return -EBADMSG;
    size_t vlen = n - SL_SIGNED_OVERHEAD;
    unsigned char sent[SL_HMAC_LEN + 3], mac[SL_HMAC_LEN];
    size_t mlen = 0;
    if (sl_b64url_decode(sent, &mlen, s + vlen + 1, MAC_B64) < 0 || mlen != SL_HMAC_LEN)
        return -EBADMSG;
    int rc = mac_of(key, klen, name, s, vlen, mac);
    if (rc < 0)
        return rc;
    if (!sl_ct_equal(sent, mac, SL_HMAC_LEN))
        return -EBADMSG;
    /* Signed by us, so well-formed; checked all the same. */
    if (sl_b64url_decode((unsigned char *)dst, outlen, s, vlen) < 0 ||
        memchr(dst, '\0', *outlen) != NULL)
        return -EBADMSG;
    dst[*outlen] = '\0';
    return 0;
}

int sl_app_set_secret(sl_app *app, const void *key, size_t len)
{
    if (app == NULL || key == NULL || len < MIN_SECRET)
        return -EINVAL;
    /* HMAC hashes a key longer than its block (64 bytes) first: doing it
     * here gives the same MACs and a fixed place to keep it. */
    if (len > sizeof app->secret) {
        sl_sha256(key, len, app->secret);
        app->secret_len = SL_SHA256_LEN;
    } else {
        memcpy(app->secret, key, len);
        app->secret_len = len;
    }
    return 0;
}

int sl_resp_set_signed_cookie(sl_req *req, const char *name, const char *value,
                              const sl_cookie *opts)
{
    if (req->app == NULL || req->app->secret_len == 0)
        return -ENOKEY;
    if (!sl_cookie_name_ok(name) || value == NULL)
        return -EINVAL;
    sl_buf v;
    sl_buf_init(&v);
    int rc = sl_sign_value(&v, req->app->secret, req->app->secret_len, name, value,
                           strlen(value));
    if (rc == 0)
        rc = sl_resp_set_cookie(req, name, v.data, opts);
    sl_buf_free(&v);
    return rc;
}

int sl_req_signed_cookie(sl_req *req, const char *name, const char **value)
{
    *value = NULL;
    if (req->app == NULL || req->app->secret_len == 0)
        return -ENOKEY;
    if (name == NULL)
        return -EINVAL;
    const char *s;
    size_t n;
    int rc = sl_cookie_lookup(req, name, &s, &n);
    if (rc < 0)
        return rc;
    char *dst = sl_req_keep(req, n + 1);
    if (dst == NULL)
        return -ENOMEM;
    size_t len;
    rc = sl_verify_value(req->app->secret, req->app->secret_len, name, s, n, dst, &len);
    if (rc == 0)
        *value = dst;
    return rc;
}
