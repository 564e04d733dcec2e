/*
 * fuzz_path: sl_path_normalise and sl_path_max_enc (src/proto/path.c).
 *
 * Input: the request-target (REQUEST_URI), any bytes, in an exact-size heap
 * block.  The output buffers are exact-size heap blocks of the documented
 * sizes (len + 2, sl_path_max_enc() offsets), so a byte written or read
 * too far is caught.  Checks:
 *   - the result is 0 or -EINVAL with one of the SL_PATH_E* reasons, never
 *     -ENOBUFS with those sizes;
 *   - it agrees (accepted or not, and the path) with a reference written
 *     here the plain way: decode the whole path, split it at every '/',
 *     keep a stack of segments;
 *   - the path starts with '/', holds no NUL, no empty, "." or ".."
 *     segment, and is no longer than the input (or "/");
 *   - the offsets are ascending, inside the path, on '/' bytes, never the
 *     leading one; there are none without a %2F in the input, and every
 *     slash but the first is one when the input's only real slash is its
 *     first byte;
 *   - written back out (the encoded slashes as %2F, '%', '?', '#' escaped)
 *     the path normalises to itself with the same offsets.
 * The same input is also normalised as a decoded path (sl_path.decoded:
 * DOCUMENT_URI, PATH_INFO), against the reference without its decoding,
 * cutting and absolute form; it has no offsets and normalises to itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/path.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int hex(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int is_scheme_char(unsigned char c, int first)
{
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (first)
        return alpha;
    return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/*
 * The reference: 0 and the path in out (NUL-terminated), or -1.  out has
 * room for len + 2 bytes.  Segment starts and lengths live in seg_at /
 * seg_len (room for len + 1 each).
 */
static int reference(const unsigned char *s, size_t len, int decoded,
                     char *out, size_t *seg_at, size_t *seg_len)
{
    size_t end = 0, i = 0;
    while (end < len && (decoded || (s[end] != '?' && s[end] != '#')))
        end++;
    /* absolute form */
    if (!decoded && end > 0 && is_scheme_char(s[0], 1)) {
        size_t k = 1;
        while (k < end && is_scheme_char(s[k], 0))
            k++;
        if (end - k >= 3 && s[k] == ':' && s[k + 1] == '/' && s[k + 2] == '/') {
            k += 3;
            while (k < end && s[k] != '/')
                k++;
            if (k == end) {
                strcpy(out, "/");
                return 0;
            }
            i = k;
        }
    }
    if (i == end || s[i] != '/')
        return -1;
    /* decode all of it */
    char *d = malloc(end - i + 1);
    CHECK(d != NULL);
    size_t n = 0;
    for (size_t k = i; k < end;) {
        int c = s[k];
        if (c == '%' && !decoded) {
            if (end - k < 3 || hex(s[k + 1]) < 0 || hex(s[k + 2]) < 0) {
                free(d);
                return -1;
            }
            c = hex(s[k + 1]) << 4 | hex(s[k + 2]);
            k += 3;
        } else {
            k++;
        }
        if (c == 0) {
            free(d);
            return -1;
        }
        d[n++] = (char)c;
    }
    /* split at every '/', keep a stack */
    size_t top = 0, k = 1;
    int trailing = 0;
    for (;;) {
        size_t e = k;
        while (e < n && d[e] != '/')
            e++;
        size_t l = e - k;
        trailing = 0;
        if (l == 0 || (l == 1 && d[k] == '.')) {
            trailing = 1;
        } else if (l == 2 && d[k] == '.' && d[k + 1] == '.') {
            if (top == 0) {
                free(d);
                return -1;
            }
            top--;
            trailing = 1;
        } else {
            seg_at[top] = k;
            seg_len[top] = l;
            top++;
        }
        if (e >= n)
            break;
        k = e + 1;
    }
    size_t o = 0;
    out[o++] = '/';
    for (size_t t = 0; t < top; t++) {
        memcpy(out + o, d + seg_at[t], seg_len[t]);
        o += seg_len[t];
        if (t + 1 < top || trailing)
            out[o++] = '/';
    }
    out[o] = '\0';
    free(d);
    return 0;
}

/* Normalise with exact-size blocks; the caller frees p->buf and p->enc. */
static int run(const char *src, size_t len, sl_path *p, int decoded)
{
    size_t ecap = decoded ? 0 : sl_path_max_enc(src, len);
    memset(p, 0, sizeof *p);
    p->decoded = decoded;
    p->cap = len + 2;
    p->buf = malloc(p->cap);
    p->enc_cap = ecap;
    p->enc = ecap ? malloc(ecap * sizeof *p->enc) : NULL;
    CHECK(p->buf != NULL && (ecap == 0 || p->enc != NULL));
    return sl_path_normalise(p, src, len);
}

/* The input as a path decoded already. */
static void check_decoded(const char *src, size_t size, char *ref,
                          size_t *seg_at, size_t *seg_len)
{
    sl_path p;
    int rc = run(src, size, &p, 1);
    int want = reference((const unsigned char *)src, size, 1, ref, seg_at, seg_len);
    CHECK(rc == 0 || rc == -EINVAL);
    CHECK((rc == 0) == (want == 0));
    if (rc == 0) {
        CHECK(strcmp(p.buf, ref) == 0 && p.nenc == 0);
        sl_path q;
        CHECK(run(p.buf, p.len, &q, 1) == 0);
        CHECK(q.len == p.len && memcmp(q.buf, p.buf, p.len) == 0);
        free(q.buf);
        free(q.enc);
    } else {
        CHECK(strcmp(p.error, SL_PATH_ENUL) == 0 || strcmp(p.error, SL_PATH_ECLIMB) == 0 ||
              strcmp(p.error, SL_PATH_ERELATIVE) == 0);
    }
    free(p.buf);
    free(p.enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size ? size : 1);
    CHECK(src != NULL);
    memcpy(src, data, size);

    sl_path p;
    int rc = run(src, size, &p, 0);
    CHECK(rc == 0 || rc == -EINVAL);

    char *ref = malloc(size + 2);
    size_t *seg_at = malloc((size + 1) * sizeof(size_t));
    size_t *seg_len = malloc((size + 1) * sizeof(size_t));
    CHECK(ref != NULL && seg_at != NULL && seg_len != NULL);
    check_decoded(src, size, ref, seg_at, seg_len);
    int want = reference(data, size, 0, ref, seg_at, seg_len);

    if (rc < 0) {
        CHECK(want < 0);
        CHECK(p.error != NULL && p.len == 0 && p.nenc == 0);
        CHECK(strcmp(p.error, SL_PATH_EESCAPE) == 0 || strcmp(p.error, SL_PATH_ENUL) == 0 ||
              strcmp(p.error, SL_PATH_ECLIMB) == 0 || strcmp(p.error, SL_PATH_ERELATIVE) == 0);
        goto out;
    }
    CHECK(want == 0);
    CHECK(p.len < p.cap && p.buf[p.len] == '\0' && strlen(p.buf) == p.len);
    CHECK(strcmp(p.buf, ref) == 0);
    CHECK(p.buf[0] == '/' && (p.len <= size || p.len == 1));
    CHECK(strstr(p.buf, "//") == NULL && strstr(p.buf, "/./") == NULL &&
          strstr(p.buf, "/../") == NULL);
    CHECK(!(p.len >= 2 && strcmp(p.buf + p.len - 2, "/.") == 0));
    CHECK(!(p.len >= 3 && strcmp(p.buf + p.len - 3, "/..") == 0));

    /* The offsets. */
    CHECK(p.nenc <= p.enc_cap);
    for (size_t i = 0; i < p.nenc; i++) {
        CHECK(p.enc[i] > 0 && p.enc[i] < p.len && p.buf[p.enc[i]] == '/');
        CHECK(i == 0 || p.enc[i - 1] < p.enc[i]);
    }
    if (p.enc_cap == 0)
        CHECK(p.nenc == 0);
    size_t end = 0;
    while (end < size && data[end] != '?' && data[end] != '#')
        end++;
    const char *first = memchr(src, '/', end);
    if (first != NULL && first == src && memchr(src + 1, '/', end - 1) == NULL) {
        size_t slashes = 0;
        for (size_t i = 1; i < p.len; i++)
            slashes += p.buf[i] == '/';
        CHECK(p.nenc == slashes);
    }

    /* Written back out, it normalises to itself. */
    {
        char *again = malloc(3 * p.len + 1);
        CHECK(again != NULL);
        size_t n = 0, k = 0;
        for (size_t i = 0; i < p.len; i++) {
            unsigned char c = (unsigned char)p.buf[i];
            int enc = k < p.nenc && p.enc[k] == i;
            if (enc)
                k++;
            if (enc || c == '%' || c == '?' || c == '#') {
                static const char hx[] = "0123456789ABCDEF";
                again[n++] = '%';
                again[n++] = hx[c >> 4];
                again[n++] = hx[c & 15];
            } else {
                again[n++] = (char)c;
            }
        }
        sl_path q;
        CHECK(run(again, n, &q, 0) == 0);
        CHECK(q.len == p.len && memcmp(q.buf, p.buf, p.len) == 0);
        CHECK(q.nenc == p.nenc);
        CHECK(p.nenc == 0 || memcmp(q.enc, p.enc, p.nenc * sizeof *p.enc) == 0);
        free(q.buf);
        free(q.enc);
        free(again);
    }

out:
    free(p.buf);
    free(p.enc);
    free(ref);
    free(seg_at);
    free(seg_len);
    free(src);
    return 0;
}
