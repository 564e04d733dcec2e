/*
 * path.c: the request path as nginx's $uri has it (see path.h).
 *
 * One pass, like nginx's ngx_http_parse_complex_uri: bytes are decoded and
 * appended to the output, and each separator ends the segment written
 * since the last one, which is then kept, dropped (".") or dropped with
 * the segment before it (".."); empty segments are never kept.  The output
 * only ever grows at its end or is cut back, so the offsets of its encoded
 * slashes form a stack: a slash is pushed when written, popped when the
 * output is cut back over it or when it turns into a real separator.
 */
#include <errno.h>
#include <string.h>
#include "proto/path.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Where the path part of src[0..len) ends: the first '?' or '#'. */
static size_t path_end(const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (src[i] == '?' || src[i] == '#')
            return i;
    return len;
}

/*
 * An absolute-form target, "scheme://authority/path": the index where its
 * path starts (end when it has none).  0 when src is not one.  The scheme
 * is RFC 3986's: a letter, then letters, digits, '+', '-', '.'.
 */
static size_t skip_absolute(const char *src, size_t end)
{
    size_t i = 0;
    char c = end > 0 ? src[0] : '\0';

    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        return 0;
    for (i = 1; i < end; i++) {
        c = src[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
            break;
    }
    if (end - i < 3 || memcmp(src + i, "://", 3) != 0)
        return 0;
    const char *slash = memchr(src + i + 3, '/', end - i - 3);
    return slash ? (size_t)(slash - src) : end;
}

/* The last slash written (at `at`) becomes a real separator. */
static void make_real(sl_path *p, size_t at)
{
    if (p->nenc > 0 && p->enc[p->nenc - 1] == at)
        p->nenc--;
}

static int is_encoded(const sl_path *p, size_t at)
{
    return p->nenc > 0 && p->enc[p->nenc - 1] == at;
}

/*
 * The segment buf[seg..*o) has ended: at a separator (sep: 1 real,
 * 2 encoded) or at the end of the path (sep: 0).  *o and *seg move on.
 */
static int end_segment(sl_path *p, size_t *o, size_t *seg, int sep)
{
    char *b = p->buf;
    size_t n = *o - *seg, s = *seg;

    if (n == 0 || (n == 1 && b[s] == '.')) {
        /* An empty or "." segment: its slash and the next one collapse. */
        *o = s;
        if (sep == 1)
            make_real(p, s - 1);
        return 0;
    }
    if (n == 2 && b[s] == '.' && b[s + 1] == '.') {
        size_t before = s - 1;      /* the slash before ".." */
        if (before == 0) {
            p->error = SL_PATH_ECLIMB;
            return -EINVAL;
        }
        size_t q = before - 1;      /* the slash before the segment before */
        while (b[q] != '/')
            q--;                    /* b[0] is '/': stops there at worst */
        /* is_encoded() sees the last slash only: ask before cutting. */
        int real = sep == 1 || !is_encoded(p, before);
        while (p->nenc > 0 && p->enc[p->nenc - 1] > q)
            p->nenc--;
        if (real)
            make_real(p, q);
        *o = *seg = q + 1;
        return 0;
    }
    if (sep == 0)
        return 0;
    /* A kept segment: write its separator. */
    if (*o + 1 >= p->cap)
        return -ENOBUFS;
    if (sep == 2) {
        if (p->nenc >= p->enc_cap)
            return -ENOBUFS;
        p->enc[p->nenc++] = (uint32_t)*o;
    }
    b[(*o)++] = '/';
    *seg = *o;
    return 0;
}

/* Bytes the main loop must look at; all others are copied as they are.
 * In a path that is decoded already, '%', '?' and '#' are data. */
static const unsigned char special[256] = {
    ['\0'] = 1, ['#'] = 1, ['%'] = 1, ['/'] = 1, ['?'] = 1,
};
static const unsigned char special_decoded[256] = {
    ['\0'] = 1, ['/'] = 1,
};

static int normalise(sl_path *p, const char *src, size_t len)
{
    size_t i = 0;

    /* Offsets are 32-bit; a path of 4 GiB is nothing a server accepts. */
    if (len >= UINT32_MAX) {
        p->error = SL_PATH_ELONG;
        return -EINVAL;
    }
    if (p->cap < 2)
        return -ENOBUFS;
    const unsigned char *look = p->decoded ? special_decoded : special;
    if (p->decoded && (len == 0 || src[0] != '/')) {
        p->error = SL_PATH_ERELATIVE;
        return -EINVAL;
    }
    if (len == 0 || src[0] != '/') {
        size_t end = path_end(src, len);
        i = skip_absolute(src, end);
        if (i == 0) {
            p->error = SL_PATH_ERELATIVE;
            return -EINVAL;
        }
        if (i == end) {         /* "http://host": the path is "/" */
            p->buf[0] = '/';
            p->buf[1] = '\0';
            p->len = 1;
            return 0;
        }
    }
    /* src[i] is a real '/'; the path ends at '?', '#' or len. */
    p->buf[0] = '/';
    size_t o = 1, seg = 1;
    for (i++; i < len;) {
        int c = (unsigned char)src[i], encoded = 0;
        if (!look[c]) {
            if (o + 1 >= p->cap)
                return -ENOBUFS;
            p->buf[o++] = (char)c;
            i++;
            continue;
        }
        if (c == '?' || c == '#')
            break;
        if (c == '%') {
            /* '?' and '#' are no hex digits: an escape never runs past
             * the end of the path. */
            int hi = len - i >= 3 ? hexval(src[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(src[i + 2]) : -1;
            if (lo < 0) {
                p->error = SL_PATH_EESCAPE;
                return -EINVAL;
            }
            c = hi << 4 | lo;
            encoded = 1;
            i += 3;
        } else {
            i++;
        }
        if (c == '\0') {
            p->error = SL_PATH_ENUL;
            return -EINVAL;
        }
        if (c == '/') {
            int rc = end_segment(p, &o, &seg, encoded ? 2 : 1);
            if (rc < 0)
                return rc;
            continue;
        }
        if (o + 1 >= p->cap)
            return -ENOBUFS;
        p->buf[o++] = (char)c;
    }
    int rc = end_segment(p, &o, &seg, 0);
    if (rc < 0)
        return rc;
    p->buf[o] = '\0';
    p->len = o;
    return 0;
}

int sl_path_normalise(sl_path *p, const char *src, size_t len)
{
    p->len = 0;
    p->nenc = 0;
    p->error = NULL;
    int rc = normalise(p, src, len);
    if (rc < 0) {
        p->len = 0;
        p->nenc = 0;
    }
    return rc;
}

size_t sl_path_max_enc(const char *src, size_t len)
{
    const char *p = src, *end = src + len;
    size_t n = 0;

    /* Counting past the path's end too only makes room to spare. */
    while ((p = memchr(p, '%', (size_t)(end - p))) != NULL) {
        if (end - p >= 3 && p[1] == '2' && (p[2] | 0x20) == 'f')
            n++;
        p++;
    }
    return n;
}
