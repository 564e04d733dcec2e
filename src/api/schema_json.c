/*
 * schema_json.c: a request body read as Python's json.loads reads it
 * (CPython 3.11 Modules/_json.c and Lib/json/decoder.py), so that a body
 * that is not JSON gets FastAPI's json_invalid item with Python's position
 * and message.  See sl_schema_parse_json in schema.h.
 *
 * Python first decodes the bytes (UTF-8 with surrogatepass, a UTF-8 BOM
 * dropped), then scans characters; positions count characters.  This
 * scanner works on the bytes and counts characters only to report one.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api/schema_int.h"

/* Python refuses int() of more digits than this (sys.int_info's default
 * max_str_digits): a ValueError, which FastAPI answers 400. */
#define PY_MAX_INT_DIGITS 4300

struct scan {
    const char *s;
    size_t len;
    const char *msg;            /* the JSONDecodeError's, once set */
    size_t at;                  /* its byte offset */
    int unreadable;             /* 400: not a JSONDecodeError */
    int oom;
};

/* Every error of Python's scanner is a JSONDecodeError at a position,
 * "Expecting value" from a StopIteration included. */
static json_object *err(struct scan *sc, const char *msg, size_t at)
{
    if (sc->msg == NULL && !sc->unreadable && !sc->oom) {
        sc->msg = msg;
        sc->at = at;
    }
    return NULL;
}

static int failed(const struct scan *sc)
{
    return sc->msg || sc->unreadable || sc->oom;
}

static size_t ws(const struct scan *sc, size_t i)
{
    while (i < sc->len && (sc->s[i] == ' ' || sc->s[i] == '\t' ||
                           sc->s[i] == '\n' || sc->s[i] == '\r'))
        i++;
    return i;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Four hex digits at i: the value, or -1. */
static long hex4(const struct scan *sc, size_t i)
{
    long v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hexval(sc->s[i + k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Appends code point c as UTF-8; a lone surrogate (which Python keeps in
 * its str) becomes U+FFFD, so that a handler only ever sees UTF-8. */
static size_t put_utf8(char *o, uint32_t c)
{
    if (c >= 0xd800 && c <= 0xdfff)
        c = 0xfffd;
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xc0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | c >> 12);
        o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | c >> 18);
    o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/*
 * scanstring_unicode, strict: the string whose opening quote is at
 * begin - 1.  Sets *text and *n to its text, and *end past the closing
 * quote; the text is the input itself when it needs no change, else a
 * malloc'd copy also in *owned (NUL-terminated).  Returns 0, or -1 with
 * the error set.  Positions in the messages are the ones Python gives (the
 * escape's backslash, the quote for an unterminated string).  "e >= len"
 * below is Python's test: four hex digits need a character after them, as
 * the closing quote must follow anyway.
 */
static int scan_string(struct scan *sc, size_t begin, size_t *end,
                       const char **text, size_t *n, char **owned)
{
    const char *s = sc->s;
    size_t len = sc->len, i = begin, k = 0, j = begin;
    int plain = 1;
    *owned = NULL;
    /* where it ends, and whether its text is the input's as it is */
    while (j < len && s[j] != '"') {
        unsigned char c = (unsigned char)s[j];
        if (c == '\\' || c <= 0x1f || c == 0xed)
            plain = 0;
        j += c == '\\' ? 2 : 1;
    }
    if (plain && j < len) {
        *text = s + begin;
        *n = j - begin;
        *end = j + 1;
        return 0;
    }
    char *o = malloc((j < len ? j : len) - begin + 1);
    if (o == NULL) {
        sc->oom = 1;
        return -1;
    }
    for (;;) {
        j = i;
        while (j < len && s[j] != '"' && s[j] != '\\') {
            if ((unsigned char)s[j] <= 0x1f) {
                err(sc, "Invalid control character at", j);
                goto fail;
            }
            j++;
        }
        memcpy(o + k, s + i, j - i);
        k += j - i;
        if (j >= len) {
            err(sc, "Unterminated string starting at", begin - 1);
            goto fail;
        }
        if (s[j] == '"') {
            /* surrogates sent as UTF-8 (surrogatepass): U+FFFD, in place */
            for (size_t x = 0; x + 2 < k; x++)
                if ((unsigned char)o[x] == 0xed && (unsigned char)o[x + 1] >= 0xa0)
                    memcpy(o + x, "\xef\xbf\xbd", 3);
            *end = j + 1;
            *n = k;
            o[k] = '\0';
            *text = *owned = o;
            return 0;
        }
        /* a backslash at j */
        if (j + 1 >= len) {
            err(sc, "Unterminated string starting at", begin - 1);
            goto fail;
        }
        char c = s[j + 1];
        if (c != 'u') {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *p = memchr(from, c, sizeof from - 1);
            if (p == NULL) {
                err(sc, "Invalid \\escape", j);
                goto fail;
            }
            o[k++] = to[p - from];
            i = j + 2;
            continue;
        }
        size_t next = j + 2, e = next + 4;
        if (e >= len) {
            err(sc, "Invalid \\uXXXX escape", next - 1);
            goto fail;
        }
        long cp = hex4(sc, next);
        if (cp < 0) {
            err(sc, "Invalid \\uXXXX escape", e - 5);
            goto fail;
        }
        /* a high surrogate joins a following \u low surrogate */
        if (cp >= 0xd800 && cp <= 0xdbff && e + 6 < len && s[e] == '\\' &&
            s[e + 1] == 'u') {
            long c2 = hex4(sc, e + 2);
            if (c2 < 0) {
                err(sc, "Invalid \\uXXXX escape", e + 6 - 5);
                goto fail;
            }
            if (c2 >= 0xdc00 && c2 <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (c2 - 0xdc00);
                e += 6;
            }
        }
        k += put_utf8(o + k, (uint32_t)cp);
        i = e;
    }
fail:
    free(o);
    return -1;
}

static json_object *scan_value(struct scan *sc, size_t i, size_t *end,
                               int depth);

/* _match_number_unicode. */
static json_object *scan_number(struct scan *sc, size_t start, size_t *end)
{
    const char *s = sc->s;
    size_t len = sc->len, i = start;
    int is_float = 0;
    if (s[i] == '-' && ++i >= len)
        return err(sc, "Expecting value", start);
    if (s[i] >= '1' && s[i] <= '9') {
        while (++i < len && s[i] >= '0' && s[i] <= '9')
            ;
    } else if (s[i] == '0') {
        i++;
    } else {
        return err(sc, "Expecting value", start);
    }
    if (i + 1 < len && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
        is_float = 1;
        i += 2;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i + 1 < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = i++;
        if (i + 1 < len && (s[i] == '-' || s[i] == '+'))
            i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (s[i - 1] >= '0' && s[i - 1] <= '9')
            is_float = 1;
        else
            i = e;
    }
    *end = i;
    size_t n = i - start;
    char stack[64], *buf = n < sizeof stack ? stack : malloc(n + 1);
    if (buf == NULL) {
        sc->oom = 1;
        return NULL;
    }
    memcpy(buf, s + start, n);
    buf[n] = '\0';
    json_object *o = NULL;
    if (!is_float) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) {
            o = json_object_new_int64(v);
        } else if (n - (buf[0] == '-') > PY_MAX_INT_DIGITS) {
            sc->unreadable = 1;
        } else {
            /* Python's big int: kept as a double that prints its digits */
            o = json_object_new_double_s(strtod(buf, NULL), buf);
        }
    } else {
        o = sl_py_double(strtod(buf, NULL));
    }
    if (buf != stack)
        free(buf);
    if (o == NULL && !sc->unreadable)
        sc->oom = 1;
    return o;
}

static json_object *scan_object(struct scan *sc, size_t i, size_t *end,
                                int depth)
{
    json_object *o = json_object_new_object();
    if (o == NULL) {
        sc->oom = 1;
        return NULL;
    }
    i = ws(sc, i);
    if (i >= sc->len || sc->s[i] != '}') {
        for (;;) {
            if (i >= sc->len || sc->s[i] != '"') {
                err(sc, "Expecting property name enclosed in double quotes", i);
                goto fail;
            }
            size_t klen;
            const char *kt;
            char *owned, stack[128], *key;
            if (scan_string(sc, i + 1, &i, &kt, &klen, &owned))
                goto fail;
            /* json-c wants the key NUL-terminated */
            if (owned) {
                key = owned;
            } else if (klen < sizeof stack) {
                memcpy(stack, kt, klen);
                stack[klen] = '\0';
                key = stack;
            } else if ((key = owned = malloc(klen + 1)) != NULL) {
                memcpy(key, kt, klen);
                key[klen] = '\0';
            } else {
                sc->oom = 1;
                goto fail;
            }
            i = ws(sc, i);
            if (i >= sc->len || sc->s[i] != ':') {
                free(owned);
                err(sc, "Expecting ':' delimiter", i);
                goto fail;
            }
            i = ws(sc, i + 1);
            json_object *v = scan_value(sc, i, &i, depth + 1);
            if (failed(sc)) {
                free(owned);
                goto fail;
            }
            /* json-c keys are C strings: a key is cut at U+0000 */
            if (json_object_object_add(o, key, v)) {
                json_object_put(v);
                free(owned);
                sc->oom = 1;
                goto fail;
            }
            free(owned);
            i = ws(sc, i);
            if (i < sc->len && sc->s[i] == '}')
                break;
            if (i >= sc->len || sc->s[i] != ',') {
                err(sc, "Expecting ',' delimiter", i);
                goto fail;
            }
            i = ws(sc, i + 1);
        }
    }
    *end = i + 1;
    return o;
fail:
    json_object_put(o);
    return NULL;
}

static json_object *scan_array(struct scan *sc, size_t i, size_t *end,
                               int depth)
{
    json_object *o = json_object_new_array_ext(4);  /* bodies' are short */
    if (o == NULL) {
        sc->oom = 1;
        return NULL;
    }
    i = ws(sc, i);
    if (i >= sc->len || sc->s[i] != ']') {
        for (;;) {
            json_object *v = scan_value(sc, i, &i, depth + 1);
            if (failed(sc))
                goto fail;
            if (json_object_array_add(o, v)) {
                json_object_put(v);
                sc->oom = 1;
                goto fail;
            }
            i = ws(sc, i);
            if (i < sc->len && sc->s[i] == ']')
                break;
            if (i >= sc->len || sc->s[i] != ',') {
                err(sc, "Expecting ',' delimiter", i);
                goto fail;
            }
            i = ws(sc, i + 1);
        }
    }
    *end = i + 1;
    return o;
fail:
    json_object_put(o);
    return NULL;
}

static int word(const struct scan *sc, size_t i, const char *w)
{
    size_t n = strlen(w);
    return sc->len - i >= n && memcmp(sc->s + i, w, n) == 0;
}

/* scan_once_unicode: the value at i (JSON null is NULL, not an error). */
static json_object *scan_value(struct scan *sc, size_t i, size_t *end,
                               int depth)
{
    if (i >= sc->len)
        return err(sc, "Expecting value", i);
    if (depth > SL_SCHEMA_MAX_DEPTH) {
        /* Python's RecursionError, far deeper: not a JSONDecodeError */
        sc->unreadable = 1;
        return NULL;
    }
    json_object *o;
    size_t n;
    switch (sc->s[i]) {
    case '"': {
        const char *t;
        char *owned;
        if (scan_string(sc, i + 1, end, &t, &n, &owned))
            return NULL;
        o = json_object_new_string_len(t, (int)n);
        free(owned);
        if (o == NULL)
            sc->oom = 1;
        return o;
    }
    case '{':
        return scan_object(sc, i + 1, end, depth);
    case '[':
        return scan_array(sc, i + 1, end, depth);
    case 'n':
        if (word(sc, i, "null")) {
            *end = i + 4;
            return NULL;
        }
        break;
    case 't':
    case 'f': {
        int t = sc->s[i] == 't';
        if (word(sc, i, t ? "true" : "false")) {
            *end = i + (t ? 4 : 5);
            if ((o = json_object_new_boolean(t)) == NULL)
                sc->oom = 1;
            return o;
        }
        break;
    }
    case 'N':
        if (word(sc, i, "NaN")) {
            *end = i + 3;
            o = sl_py_double(NAN);
            if (o == NULL)
                sc->oom = 1;
            return o;
        }
        break;
    case 'I':
        if (word(sc, i, "Infinity")) {
            *end = i + 8;
            o = sl_py_double(INFINITY);
            if (o == NULL)
                sc->oom = 1;
            return o;
        }
        break;
    case '-':
        if (word(sc, i, "-Infinity")) {
            *end = i + 9;
            o = sl_py_double(-INFINITY);
            if (o == NULL)
                sc->oom = 1;
            return o;
        }
        break;
    }
    return scan_number(sc, i, end);
}

/* UTF-8 as Python's decode(..., 'surrogatepass') takes it. */
static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) { k = 2; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { k = 3; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { k = 4; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (n - i < k)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff)
            return 0;
        i += k;
    }
    return 1;
}

/* json.detect_encoding: anything but UTF-8 (the BOMs of UTF-16 and 32,
 * or NUL bytes where those encodings put them). */
static int other_encoding(const unsigned char *b, size_t n)
{
    if ((n >= 4 && (memcmp(b, "\xff\xfe\0\0", 4) == 0 ||
                    memcmp(b, "\0\0\xfe\xff", 4) == 0)) ||
        (n >= 2 && (memcmp(b, "\xff\xfe", 2) == 0 ||
                    memcmp(b, "\xfe\xff", 2) == 0)))
        return 1;
    if (n >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
        return 0;
    if (n >= 4)
        return b[0] == 0 || b[1] == 0;
    if (n == 2)
        return b[0] == 0 || b[1] == 0;
    return 0;
}

static int append_invalid(json_object *errors, const char *msg, size_t pos)
{
    if (json_object_array_length(errors) >= SL_SCHEMA_MAX_ERRORS)
        return 0;
    json_object *e = json_object_new_object(), *loc = json_object_new_array(),
                *ctx = json_object_new_object();
    if (e == NULL || loc == NULL || ctx == NULL)
        goto oom;
    json_object_object_add(e, "type", json_object_new_string("json_invalid"));
    json_object_object_add(e, "loc", loc);
    loc = NULL;
    json_object *l;
    json_object_object_get_ex(e, "loc", &l);
    json_object_array_add(l, json_object_new_string("body"));
    json_object_array_add(l, json_object_new_int64((int64_t)pos));
    json_object_object_add(e, "msg", json_object_new_string("JSON decode error"));
    json_object_object_add(e, "input", json_object_new_object());
    json_object_object_add(ctx, "error", json_object_new_string(msg));
    json_object_object_add(e, "ctx", ctx);
    ctx = NULL;
    if (json_object_array_add(errors, e))
        goto oom;
    return 0;
oom:
    json_object_put(e);
    json_object_put(loc);
    json_object_put(ctx);
    return -ENOMEM;
}

int sl_schema_parse_json(const char *data, size_t len, json_object **out,
                         json_object *errors)
{
    const unsigned char *b = (const unsigned char *)data;
    *out = NULL;
    if (len > 0 && data == NULL)
        return -EINVAL;
    if (other_encoding(b, len) || !valid_utf8(b, len))
        return SL_SCHEMA_UNREADABLE;
    if (len >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0) {
        data += 3;
        len -= 3;
    }
    struct scan sc = {.s = data ? data : "", .len = len};
    size_t end = 0, i = ws(&sc, 0);
    json_object *v = scan_value(&sc, i, &end, 0);
    if (!failed(&sc)) {
        end = ws(&sc, end);
        if (end != len)
            err(&sc, "Extra data", end);
    }
    if (sc.oom || sc.unreadable || sc.msg) {
        json_object_put(v);
        if (sc.oom)
            return -ENOMEM;
        if (sc.unreadable)
            return SL_SCHEMA_UNREADABLE;
        return append_invalid(errors, sc.msg, sl_utf8_chars(data, sc.at))
                   ? -ENOMEM : SL_SCHEMA_INVALID;
    }
    *out = v;
    return 0;
}
