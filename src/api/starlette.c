/*
 * starlette.c: a request's text as Starlette reads it (see starlette.h).
 *
 * Python's own code is the reference, each function says which.  Sizes:
 * a decoded query is at most twice the raw one (a raw byte >= 0x80 is a
 * Latin-1 character, two bytes of UTF-8; an escape is 3 bytes in and at
 * most 3 out, U+FFFD), a cookie header likewise (an \ooo escape of 4
 * bytes gives one character, at most 2 bytes); every buffer is sized from
 * that before a byte is written.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api/starlette.h"

static size_t put_cp(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xc0 | cp >> 6);
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    d[0] = (char)(0xe0 | cp >> 12);
    d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    d[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

/*
 * CPython's UTF-8 decoder (Objects/stringlib/codecs.h) with "replace": a
 * lead byte that cannot start a sequence is one U+FFFD; a sequence cut
 * short by a byte outside its allowed range is one U+FFFD for what was
 * read, and that byte starts again (Unicode's "maximal subpart").
 */
size_t sl_utf8_replace(char *dst, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, o = 0;

    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            dst[o++] = (char)c;
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            o += put_cp(dst + o, 0xfffd);
            i++;
            continue;
        }
        size_t k = 1;
        for (; k <= need && i + k < len; k++) {
            unsigned b = s[i + k];
            if (b < lo || b > hi)
                break;
            lo = 0x80;
            hi = 0xbf;
        }
        if (k <= need) {        /* cut short: one U+FFFD for s[i..i+k) */
            o += put_cp(dst + o, 0xfffd);
            i += k;
            continue;
        }
        memcpy(dst + o, s + i, need + 1);
        o += need + 1;
        i += need + 1;
    }
    return o;
}

size_t sl_latin1_utf8(char *dst, const char *src, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++)
        o += put_cp(dst + o, (unsigned char)src[i]);
    return o;
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

/*
 * urllib.parse.unquote(s.replace('+', ' ')) on the Latin-1 reading of
 * src[0..len), into dst (at least 2 * len bytes): runs of ASCII are
 * unquote_to_bytes()'d and decoded as UTF-8 with "replace"; other bytes
 * are Latin-1 characters.  `tmp` holds a run's bytes (len bytes).
 */
static size_t unquote(char *dst, const char *src, size_t len, char *tmp)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, o = 0;

    /* Most names and values need nothing done: plain ASCII, as it is. */
    while (i < len && s[i] < 0x80 && s[i] != '%' && s[i] != '+')
        i++;
    if (i == len) {
        memcpy(dst, src, len);
        return len;
    }
    i = 0;

    while (i < len) {
        if (s[i] >= 0x80) {
            o += put_cp(dst + o, s[i]);
            i++;
            continue;
        }
        size_t t = 0;
        for (; i < len && s[i] < 0x80; i++) {
            int hi, lo;
            if (s[i] == '+') {
                tmp[t++] = ' ';
            } else if (s[i] == '%' && len - i >= 3 && (hi = hexval(s[i + 1])) >= 0 &&
                       (lo = hexval(s[i + 2])) >= 0 && s[i + 1] < 0x80 && s[i + 2] < 0x80) {
                tmp[t++] = (char)(hi << 4 | lo);
                i += 2;
            } else {
                tmp[t++] = (char)s[i];
            }
        }
        o += sl_utf8_replace(dst + o, tmp, t);
    }
    return o;
}

void sl_kvlist_free(sl_kvlist *l)
{
    free(l->kv);        /* the one block: pairs, then text, then scratch */
    l->kv = NULL;
    l->store = NULL;
    l->n = 0;
}

/* Room for n pairs, `bytes` of text and `scratch` bytes, in one block
 * (one allocation per request on the path of every declared route):
 * *tmp gets the scratch. */
static int kv_alloc(sl_kvlist *l, size_t n, size_t bytes, size_t scratch, char **tmp)
{
    size_t head = (n ? n : 1) * sizeof *l->kv;
    l->n = 0;
    l->store = NULL;
    if (bytes > SIZE_MAX - head - scratch - 1 || (l->kv = malloc(head + bytes + scratch + 1)) == NULL)
        return -ENOMEM;
    l->store = (char *)l->kv + head;
    *tmp = l->store + bytes;
    return 0;
}

/*
 * parse_qsl(qs, keep_blank_values=True) (Lib/urllib/parse.py, 3.11): split
 * at '&', skip empty pieces, split each at its first '='.
 */
int sl_query_pairs(const char *qs, size_t len, sl_kvlist *out)
{
    size_t npairs = 1;
    for (size_t i = 0; i < len; i++)
        npairs += qs[i] == '&';
    /* per pair: name and value at most twice their bytes, two NULs */
    char *tmp;
    if (len > (SIZE_MAX - 2 * npairs) / 3 ||
        kv_alloc(out, npairs, 2 * len + 2 * npairs, len, &tmp) < 0)
        return -ENOMEM;
    size_t pos = 0, o = 0;
    while (pos < len) {
        const char *pair = qs + pos;
        const char *amp = memchr(pair, '&', len - pos);
        size_t plen = amp ? (size_t)(amp - pair) : len - pos;
        pos += plen + 1;
        if (plen == 0)
            continue;
        const char *eq = memchr(pair, '=', plen);
        size_t nlen = eq ? (size_t)(eq - pair) : plen;
        sl_kv *kv = &out->kv[out->n++];
        kv->name = out->store + o;
        kv->nlen = unquote(out->store + o, pair, nlen, tmp);
        o += kv->nlen;
        out->store[o++] = '\0';
        kv->value = out->store + o;
        kv->vlen = eq ? unquote(out->store + o, eq + 1, plen - nlen - 1, tmp) : 0;
        o += kv->vlen;
        out->store[o++] = '\0';
    }
    return 0;
}

/* Python's str.strip() on Latin-1 characters: the ones str.isspace(). */
static int py_space(unsigned char c)
{
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0;
}

static void strip(const unsigned char **s, size_t *len)
{
    while (*len > 0 && py_space((*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && py_space((*s)[*len - 1]))
        (*len)--;
}

/*
 * http.cookies._unquote (Lib/http/cookies.py): a value of two characters
 * or more in double quotes loses them; inside, \ooo (the first digit 0-3)
 * is that character and a backslash before any other character but a
 * newline is that character.  Latin-1 in and out: every character stays
 * below 256.  Returns the length written to dst (at most len bytes).
 */
static size_t cookie_unquote(unsigned char *dst, const unsigned char *s, size_t len)
{
    if (len < 2 || s[0] != '"' || s[len - 1] != '"') {
        memcpy(dst, s, len);
        return len;
    }
    s++;
    len -= 2;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] == '\\' && len - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
            s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            dst[o++] = (unsigned char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
                                       (s[i + 3] - '0'));
            i += 4;
        } else if (s[i] == '\\' && len - i >= 2 && s[i + 1] != '\n') {
            dst[o++] = s[i + 1];
            i += 2;
        } else {
            dst[o++] = s[i++];
        }
    }
    return o;
}

/*
 * starlette.requests.cookie_parser: chunks at ';'; "k=v" split at the
 * first '=', a chunk without one is a value with the empty name; both
 * stripped; kept when either is non-empty, into a dict (a repeated name
 * keeps its first place and its last value).
 */
int sl_cookie_pairs(const char *c, size_t len, sl_kvlist *out)
{
    size_t nchunks = 1;
    for (size_t i = 0; i < len; i++)
        nchunks += c[i] == ';';
    char *scratch;
    if (len > (SIZE_MAX - 2 * nchunks) / 3 ||
        kv_alloc(out, nchunks, 2 * len + 2 * nchunks, len, &scratch) < 0)
        return -ENOMEM;
    unsigned char *tmp = (unsigned char *)scratch;
    size_t pos = 0, o = 0;
    while (pos <= len) {
        const unsigned char *chunk = (const unsigned char *)c + pos;
        const unsigned char *semi = memchr(chunk, ';', len - pos);
        size_t clen = semi ? (size_t)(semi - chunk) : len - pos;
        pos += clen + 1;
        const unsigned char *eq = memchr(chunk, '=', clen);
        const unsigned char *k = chunk, *v = chunk;
        size_t klen = 0, vlen = clen;
        if (eq != NULL) {
            klen = (size_t)(eq - chunk);
            v = eq + 1;
            vlen = clen - klen - 1;
        }
        strip(&k, &klen);
        strip(&v, &vlen);
        if (klen == 0 && vlen == 0)
            continue;
        size_t ulen = cookie_unquote(tmp, v, vlen);
        /* the name, in UTF-8, to compare with those kept */
        char *name = out->store + o;
        size_t nlen = sl_latin1_utf8(name, (const char *)k, klen);
        sl_kv *kv = NULL;
        for (size_t i = 0; i < out->n && kv == NULL; i++)
            if (out->kv[i].nlen == nlen && memcmp(out->kv[i].name, name, nlen) == 0)
                kv = &out->kv[i];
        if (kv == NULL) {
            kv = &out->kv[out->n++];
            kv->name = name;
            kv->nlen = nlen;
            o += nlen;
            out->store[o++] = '\0';
        }
        /* the value after it (an old value of the name stays unused) */
        kv->value = out->store + o;
        kv->vlen = sl_latin1_utf8(out->store + o, (const char *)tmp, ulen);
        o += kv->vlen;
        out->store[o++] = '\0';
    }
    return 0;
}

int sl_content_type_json(const char *ct)
{
    if (ct == NULL || ct[0] == '\0')
        return -1;
    /* email.message.Message.get_content_type(): the part before ';',
     * stripped and lower-cased; not exactly one '/': text/plain */
    const unsigned char *s = (const unsigned char *)ct;
    const unsigned char *semi = (const unsigned char *)strchr(ct, ';');
    size_t len = semi ? (size_t)(semi - s) : strlen(ct);
    strip(&s, &len);
    const unsigned char *slash = memchr(s, '/', len);
    if (slash == NULL || memchr(slash + 1, '/', len - (size_t)(slash - s) - 1) != NULL)
        return 0;
    size_t mlen = (size_t)(slash - s), slen = len - mlen - 1;
    const unsigned char *sub = slash + 1;
    if (mlen != 11 || strncasecmp((const char *)s, "application", 11) != 0)
        return 0;
    if (slen == 4 && strncasecmp((const char *)sub, "json", 4) == 0)
        return 1;
    return slen >= 5 && strncasecmp((const char *)sub + slen - 5, "+json", 5) == 0;
}
