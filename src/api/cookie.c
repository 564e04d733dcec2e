/*
 * cookie.c: cookies by name from the Cookie header, and Set-Cookie lines
 * (see cookie.h and sluice.h).  The header is parsed by starlette.c, as
 * declared cookie parameters are, so a handler and a declaration read the
 * same value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api/cookie.h"
#include "api/request.h"
#include "api/starlette.h"

/* RFC 9110 tchar: visible ASCII but the separators. */
static int tchar(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("\"(),/:;<=>?@[\\]{}", c) == NULL;
}

int sl_cookie_name_ok(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
        if (!tchar(*p))
            return 0;
    return 1;
}

/* cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E */
static int octet(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

int sl_cookie_value_ok(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!octet((unsigned char)v[i]))
            return 0;
    return 1;
}

/* A Path: any CHAR but controls and ';' (RFC 6265 path-value). */
static int path_ok(const char *p)
{
    for (const unsigned char *s = (const unsigned char *)p; *s != '\0'; s++)
        if (*s < 0x20 || *s >= 0x7f || *s == ';')
            return 0;
    return 1;
}

/* A Domain: a host name (letters, digits, '-', '.'), not empty. */
static int domain_ok(const char *d)
{
    if (d[0] == '\0')
        return 0;
    for (const unsigned char *s = (const unsigned char *)d; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

int sl_http_date(char out[40], int64_t t)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    time_t tt = (time_t)t;
    if (t < 0 || t > INT64_C(253402300799) || gmtime_r(&tt, &tm) == NULL)
        return -EINVAL;
    /* Not strftime: %a and %b follow the locale, the header does not. */
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return 0;
}

int sl_cookie_format(sl_buf *out, const char *name, const char *value,
                     const sl_cookie *opts, int deleting)
{
    static const sl_cookie defaults = {0};
    const sl_cookie *o = opts != NULL ? opts : &defaults;
    if (deleting)
        value = "";
    if (!sl_cookie_name_ok(name) || value == NULL ||
        !sl_cookie_value_ok(value, strlen(value)))
        return -EINVAL;
    if ((!deleting && (o->max_age < 0 || o->expires < 0)) || o->samesite < SL_SAMESITE_LAX ||
        o->samesite > SL_SAMESITE_OMIT)
        return -EINVAL;
    if ((o->path != NULL && !path_ok(o->path)) || (o->domain != NULL && !domain_ok(o->domain)))
        return -EINVAL;
    char date[40];
    int64_t expires = deleting ? 0 : o->expires;
    if ((deleting || o->expires > 0) && sl_http_date(date, expires) < 0)
        return -EINVAL;
    size_t start = out->len;
    int rc = 0;
    rc |= sl_buf_append_str(out, name);
    rc |= sl_buf_append(out, "=", 1);
    rc |= sl_buf_append_str(out, value);
    if (deleting || o->expires > 0) {
        rc |= sl_buf_append_str(out, "; Expires=");
        rc |= sl_buf_append_str(out, date);
    }
    if (deleting || o->max_age > 0) {
        char n[32];
        snprintf(n, sizeof n, "; Max-Age=%lld", deleting ? 0LL : (long long)o->max_age);
        rc |= sl_buf_append_str(out, n);
    }
    if (o->domain != NULL) {
        rc |= sl_buf_append_str(out, "; Domain=");
        rc |= sl_buf_append_str(out, o->domain);
    }
    const char *path = o->path != NULL ? o->path : "/";
    if (path[0] != '\0') {
        rc |= sl_buf_append_str(out, "; Path=");
        rc |= sl_buf_append_str(out, path);
    }
    /* SameSite=None without Secure is refused by browsers: None adds it. */
    if (o->secure || o->samesite == SL_SAMESITE_NONE)
        rc |= sl_buf_append_str(out, "; Secure");
    if (o->httponly)
        rc |= sl_buf_append_str(out, "; HttpOnly");
    static const char *const samesite[] = {"; SameSite=Lax", "; SameSite=Strict",
                                           "; SameSite=None", ""};
    rc |= sl_buf_append_str(out, samesite[o->samesite]);
    if (rc == 0)
        rc = sl_buf_append(out, "", 1);     /* the NUL, not counted */
    if (rc != 0)
        return -ENOMEM;
    out->len--;
    return out->len - start > SL_COOKIE_MAX ? -EMSGSIZE : 0;
}

char *sl_req_keep(sl_req *req, size_t n)
{
    if (n > (size_t)-1 - sizeof(sl_keep))
        return NULL;
    sl_keep *k = malloc(sizeof *k + n);
    if (k == NULL)
        return NULL;
    k->next = req->keep;
    req->keep = k;
    return k->data;
}

int sl_cookie_lookup(sl_req *req, const char *name, const char **value, size_t *len)
{
    if (!req->cookies_parsed) {
        const char *c = sl_req_header(req, "Cookie");
        sl_kvlist l = {0};
        if (c != NULL && sl_cookie_pairs(c, strlen(c), &l) < 0)
            return -ENOMEM;
        req->cookie_kv = l.kv;
        req->ncookies = l.n;
        req->cookies_parsed = 1;
    }
    const sl_kv *kv = req->cookie_kv;
    size_t nlen = strlen(name);
    for (size_t i = 0; i < req->ncookies; i++)
        if (kv[i].nlen == nlen && memcmp(kv[i].name, name, nlen) == 0) {
            *value = kv[i].value;
            *len = kv[i].vlen;
            return 0;
        }
    return -ENOENT;
}

const char *sl_req_cookie(sl_req *req, const char *name)
{
    const char *v;
    size_t n;
    return name != NULL && sl_cookie_lookup(req, name, &v, &n) == 0 ? v : NULL;
}

int sl_cookie_add(sl_req *req, const char *set_cookie)
{
    if (req->head_sent)
        return -EALREADY;
    return sl_resp_header(req, "Set-Cookie", set_cookie);
}

static int set_cookie(sl_req *req, const char *name, const char *value,
                      const sl_cookie *opts, int deleting)
{
    if (req->head_sent)
        return -EALREADY;
    sl_buf b;
    sl_buf_init(&b);
    int rc = sl_cookie_format(&b, name, value, opts, deleting);
    if (rc == 0)
        rc = sl_cookie_add(req, b.data);
    sl_buf_free(&b);
    return rc;
}

int sl_resp_set_cookie(sl_req *req, const char *name, const char *value,
                       const sl_cookie *opts)
{
    return set_cookie(req, name, value, opts, 0);
}

int sl_resp_delete_cookie(sl_req *req, const char *name, const sl_cookie *opts)
{
    return set_cookie(req, name, "", opts, 1);
}
