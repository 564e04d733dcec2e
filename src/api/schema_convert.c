/*
 * schema_convert.c: Pydantic's lax conversions of strings and floats
 * (pydantic-core src/input/shared.rs: str_as_bool, str_as_int,
 * str_as_float, float_as_int), which FastAPI's parameters (always text)
 * and JSON bodies go through.  See schema_int.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "api/schema_int.h"

/* Rust's char::is_whitespace (White_Space): the length of the space at s,
 * 0 if none. */
static size_t space_at(const unsigned char *s, size_t n)
{
    if (n >= 1 && ((s[0] >= 0x09 && s[0] <= 0x0d) || s[0] == 0x20))
        return 1;
    if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
        return 2;
    if (n >= 3 && s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
        return 3;
    if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
        (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
        return 3;
    if (n >= 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
        return 3;
    if (n >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    return 0;
}

/* Is the space that ends at s + n (a UTF-8 sequence) Rust's whitespace? */
static size_t space_before(const unsigned char *s, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++)
        if (space_at(s + n - k, k) == k)
            return k;
    return 0;
}

static void trim(const char **s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)*s;
    size_t n = *len, k;
    while (n && (k = space_at(p, n)) != 0) {
        p += k;
        n -= k;
    }
    while (n && (k = space_before(p, n)) != 0)
        n -= k;
    *s = (const char *)p;
    *len = n;
}

static int ieq(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

/* str_as_bool: 1 true, 0 false, -1 not a boolean. */
int sl_lax_bool(const char *s, size_t len)
{
    if ((len == 1 && s[0] == '0') || ieq(s, len, "f") || ieq(s, len, "n") ||
        ieq(s, len, "no") || ieq(s, len, "off") || ieq(s, len, "false"))
        return 0;
    if ((len == 1 && s[0] == '1') || ieq(s, len, "t") || ieq(s, len, "y") ||
        ieq(s, len, "on") || ieq(s, len, "yes") || ieq(s, len, "true"))
        return 1;
    return -1;
}

/*
 * A JSON integer (jiter's NumberInt) over all of s: 0 with *v, SE_INT_PARSING
 * if it is not one, SE_INT_PARSING_SIZE beyond int64 (Pydantic has big
 * ints up to 4300 digits; sluice does not).
 */
static int json_int(const char *s, size_t len, int64_t *v)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && s[i] == '-') {
        neg = 1;
        i++;
    }
    if (i >= len)
        return SE_INT_PARSING;
    if (s[i] == '0') {
        if (i + 1 != len)
            return SE_INT_PARSING;
        *v = 0;
        return 0;
    }
    uint64_t acc = 0;
    int big = 0;
    for (size_t j = i; j < len; j++) {
        if (s[j] < '0' || s[j] > '9')
            return SE_INT_PARSING;
        unsigned d = (unsigned)(s[j] - '0');
        if (acc > (UINT64_MAX - d) / 10)
            big = 1;
        else
            acc = acc * 10 + d;
    }
    if (big || acc > (uint64_t)INT64_MAX + (uint64_t)neg)
        return SE_INT_PARSING_SIZE;
    *v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

/* Rust's strip_underscores: "1_000" -> "1000"; none if leading, trailing
 * or doubled.  out has len bytes; returns the new length or -1. */
static long strip_underscores(const char *s, size_t len, char *out)
{
    if (len == 0 || s[0] == '_' || s[len - 1] == '_' ||
        memchr(s, '_', len) == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '_') {
            if (i + 1 < len && s[i + 1] == '_')
                return -1;
            continue;
        }
        out[k++] = s[i];
    }
    return (long)k;
}

/* clean_int_str: what Pydantic tidies before a second try ("+5", " 5 ",
 * "007", "5.00", "1_000").  out has len + 1 bytes; -1 for none. */
static long clean_int(const char *s, size_t len, char *out)
{
    size_t before = len;
    int neg = 0;
    trim(&s, &len);
    if (len && s[0] == '+') {
        if (len > 1 && s[1] == '-')
            return -1;
        s++, len--;
    }
    if (len && s[0] == '-') {
        if (len > 1 && (s[1] == '-' || s[1] == '+'))
            return -1;
        neg = 1;
        s++, len--;
    }
    /* strip_leading_zeros */
    if (len == 0)
        return -1;
    if (s[0] == '0') {
        size_t i;
        for (i = 1; i < len; i++) {
            char c = s[i];
            if (c == '0' || c == '_')
                continue;
            if ((c >= '1' && c <= '9') || c == '-') {
                s += i, len -= i;
                break;
            }
            if (c == '.') {
                s += i - 1, len -= i - 1;
                break;
            }
            return -1;
        }
        if (i == len) {
            s += len - 1;
            len = 1;
        }
    } else if (!((s[0] >= '1' && s[0] <= '9') || s[0] == '-')) {
        return -1;
    }
    const char *dot = memchr(s, '.', len);
    if (dot) {
        size_t i = (size_t)(dot - s), j;
        for (j = i + 1; j < len && s[j] == '0'; j++)
            ;
        if (j == len && len > i + 1)
            len = i;
    }
    if (neg)
        out[0] = '-';
    long k = strip_underscores(s, len, out + neg);
    if (k >= 0)
        return k + neg;
    if (before == len)
        return -1;
    memcpy(out + neg, s, len);
    return (long)len + neg;
}

/* str_as_int: 0 with *v, or the error type. */
int sl_lax_int(const char *s, size_t len, int64_t *v)
{
    int r = json_int(s, len, v);
    if (r != SE_INT_PARSING)
        return r;
    char stack[64], *buf = len + 1 <= sizeof stack ? stack : malloc(len + 1);
    if (buf == NULL)
        return -ENOMEM;
    long k = clean_int(s, len, buf);
    r = k < 0 ? SE_INT_PARSING : json_int(buf, (size_t)k, v);
    if (buf != stack)
        free(buf);
    return r == SE_INT_PARSING_SIZE ? r : r ? SE_INT_PARSING : 0;
}

/* Rust's f64::from_str over all of s (no spaces): 0 with *d, or -1. */
static int rust_parse_f64(const char *s, size_t len, double *d)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    const char *r = s + i;
    size_t rl = len - i;
    if (ieq(r, rl, "inf") || ieq(r, rl, "infinity")) {
        *d = neg ? -INFINITY : INFINITY;
        return 0;
    }
    if (ieq(r, rl, "nan")) {
        *d = neg ? -NAN : NAN;
        return 0;
    }
    size_t digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return -1;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, e++;
        if (e == 0)
            return -1;
    }
    if (i != len)
        return -1;
    char stack[64], *buf = len + 1 <= sizeof stack ? stack : malloc(len + 1);
    if (buf == NULL)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *d = strtod(buf, NULL);     /* the grammar above is strtod's in "C" */
    if (buf != stack)
        free(buf);
    return 0;
}

/* str_as_float: trimmed, then with underscores taken out (untrimmed). */
int sl_lax_float(const char *s, size_t len, double *d)
{
    const char *t = s;
    size_t tl = len;
    trim(&t, &tl);
    if (rust_parse_f64(t, tl, d) == 0)
        return 0;
    char stack[64], *buf = len <= sizeof stack ? stack : malloc(len ? len : 1);
    if (buf == NULL)
        return -ENOMEM;
    long k = strip_underscores(s, len, buf);
    int r = k >= 0 && rust_parse_f64(buf, (size_t)k, d) == 0 ? 0
                                                            : SE_FLOAT_PARSING;
    if (buf != stack)
        free(buf);
    return r;
}

/* float_as_int: 0 with *v, or the error type. */
int sl_lax_float_as_int(double d, int64_t *v)
{
    if (!isfinite(d))
        return SE_FINITE_NUMBER;
    if (fmod(d, 1.0) != 0.0)
        return SE_INT_FROM_FLOAT;
    if (d > -9223372036854775808.0 && d < 9223372036854775808.0) {
        *v = (int64_t)d;
        return 0;
    }
    return SE_INT_PARSING_SIZE;
}
