/* hparam.c: parameters of MIME header values (see hparam.h). */
#include <errno.h>
#include <string.h>
#include "proto/filename.h"
#include "proto/hparam.h"

int sl_is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 8187 attr-char. */
static int is_attr_char(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL;
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sl_hparam_ieq(const char *s, size_t n, const char *lower)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (lower[i] == '\0' || c != (unsigned char)lower[i])
            return 0;
    }
    return lower[n] == '\0';
}

static void skip_ows(const char *s, size_t end, size_t *pos)
{
    while (*pos < end && is_ows((unsigned char)s[*pos]))
        *pos += 1;
}

int sl_hparam_next(const char *s, size_t end, size_t *pos, sl_hspan *name,
                   sl_hspan *val, const char **reason)
{
    size_t p = *pos;

    for (;;) {
        skip_ows(s, end, &p);
        if (p == end) {
            *pos = p;
            return 0;
        }
        if (s[p] != ';') {
            *reason = "junk where a ';' should be";
            return -EINVAL;
        }
        p++;
        skip_ows(s, end, &p);
        if (p < end && s[p] != ';')
            break;
    }
    name->off = p;
    while (p < end && sl_is_tchar((unsigned char)s[p]))
        p++;
    name->len = p - name->off;
    if (name->len == 0) {
        *reason = "a parameter without a name";
        return -EINVAL;
    }
    skip_ows(s, end, &p);
    if (p == end || s[p] != '=') {
        *reason = "a parameter without '='";
        return -EINVAL;
    }
    p++;
    skip_ows(s, end, &p);
    if (p < end && s[p] == '"') {
        val->off = ++p;
        while (p < end && s[p] != '"') {
            if (s[p] == '\\' && end - p > 1 && (s[p + 1] == '"' ||
                                                s[p + 1] == '\\'))
                p++;
            p++;
        }
        if (p == end) {
            *reason = "a quoted parameter value without its closing quote";
            return -EINVAL;
        }
        val->len = p - val->off;
        val->quoted = 1;
        p++;
    } else {
        val->off = p;
        while (p < end && s[p] != ';') {
            if (s[p] == '"') {
                *reason = "a quote inside an unquoted parameter value";
                return -EINVAL;
            }
            p++;
        }
        val->len = p - val->off;
        while (val->len > 0 && is_ows((unsigned char)s[val->off + val->len - 1]))
            val->len--;
        val->quoted = 0;
    }
    *pos = p;
    return 1;
}

/*
 * filename* (RFC 8187): charset'language'value-chars, decoded in place
 * into s (the output never outgrows the input: a byte that is not ASCII
 * comes as %XX, three bytes, and gives at most two).  0 with *n the new
 * length, or -EINVAL with *reason.
 */
static int decode_ext_value(char *s, size_t *n, const char **reason)
{
    size_t len = *n, r, w = 0;
    const char *q1 = memchr(s, '\'', len), *q2;
    int utf8;

    q2 = q1 ? memchr(q1 + 1, '\'', len - (size_t)(q1 + 1 - s)) : NULL;
    if (q2 == NULL) {
        *reason = "filename* without charset'language'";
        return -EINVAL;
    }
    if (sl_hparam_ieq(s, (size_t)(q1 - s), "utf-8"))
        utf8 = 1;
    else if (sl_hparam_ieq(s, (size_t)(q1 - s), "iso-8859-1"))
        utf8 = 0;
    else {
        *reason = "filename* in a charset other than UTF-8 or ISO-8859-1";
        return -EINVAL;
    }
    for (r = (size_t)(q2 + 1 - s); r < len; r++) {
        unsigned char c = (unsigned char)s[r];
        if (c == '%') {
            int hi = len - r > 2 ? hexval((unsigned char)s[r + 1]) : -1;
            int lo = hi >= 0 ? hexval((unsigned char)s[r + 2]) : -1;
            if (lo < 0) {
                *reason = "a malformed escape in filename*";
                return -EINVAL;
            }
            c = (unsigned char)(hi << 4 | lo);
            r += 2;
        } else if (!is_attr_char(c)) {
            *reason = "a character filename* does not allow";
            return -EINVAL;
        }
        if (c < 0x20 || c == 0x7f) {
            *reason = "a control character in filename*";
            return -EINVAL;
        }
        if (!utf8 && c >= 0x80) {
            s[w++] = (char)(0xc0 | c >> 6);
            s[w++] = (char)(0x80 | (c & 0x3f));
        } else {
            s[w++] = (char)c;
        }
    }
    if (utf8 && !sl_utf8_valid(s, w)) {
        *reason = "filename* is not valid UTF-8";
        return -EINVAL;
    }
    *n = w;
    return 0;
}

/* Undo \" and \\ in a quoted value, in place; other backslashes stay. */
static size_t unquote(char *s, size_t n)
{
    size_t r, w = 0;

    for (r = 0; r < n; r++) {
        if (s[r] == '\\' && n - r > 1 && (s[r + 1] == '"' || s[r + 1] == '\\'))
            r++;
        s[w++] = s[r];
    }
    return w;
}

enum { P_NAME, P_FILENAME, P_FILENAME_EXT, P_COUNT };

int sl_form_disposition_parse(char *hdr, size_t off, size_t len,
                              sl_form_disposition *d, const char **reason)
{
    size_t end = off + len, pos = off;
    sl_hspan name, val, got[P_COUNT];
    int have[P_COUNT] = { 0, 0, 0 };
    int rc, k;

    memset(got, 0, sizeof(got));
    memset(d, 0, sizeof(*d));
    while (pos < end && sl_is_tchar((unsigned char)hdr[pos]))
        pos++;
    if (!sl_hparam_ieq(hdr + off, pos - off, "form-data")) {
        *reason = "Content-Disposition is not form-data";
        return -EINVAL;
    }
    while ((rc = sl_hparam_next(hdr, end, &pos, &name, &val, reason)) == 1) {
        if (sl_hparam_ieq(hdr + name.off, name.len, "name"))
            k = P_NAME;
        else if (sl_hparam_ieq(hdr + name.off, name.len, "filename"))
            k = P_FILENAME;
        else if (sl_hparam_ieq(hdr + name.off, name.len, "filename*"))
            k = P_FILENAME_EXT;
        else
            continue;
        if (have[k]) {
            *reason = "a Content-Disposition parameter given twice";
            return -EINVAL;
        }
        have[k] = 1;
        got[k] = val;
    }
    if (rc < 0)
        return rc;
    if (!have[P_NAME]) {
        *reason = "a part without a name";
        return -EINVAL;
    }
    for (k = 0; k < P_COUNT; k++) {
        char *s = hdr + got[k].off;
        size_t n = got[k].len;
        if (!have[k])
            continue;
        if (got[k].quoted)
            n = unquote(s, n);
        if (k == P_FILENAME_EXT && decode_ext_value(s, &n, reason) < 0)
            return -EINVAL;
        s[n] = '\0';
        got[k].len = n;
    }
    d->name = hdr + got[P_NAME].off;
    d->name_len = got[P_NAME].len;
    k = have[P_FILENAME_EXT] ? P_FILENAME_EXT : P_FILENAME;
    if (have[k]) {
        d->filename = hdr + got[k].off;
        d->filename_len = got[k].len;
    }
    return 0;
}
