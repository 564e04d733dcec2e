/*
 * fuzz_query: sl_percent_decode and sl_query_get (src/proto/url.c), against a
 * small reference implementation written here.
 *
 * Input: byte 0 picks a small capacity (0..15); then "NAME\tNAME...\n"
 * (names to look up) and the query string.  Checks: sl_percent_decode in
 * both '+' modes, out of place (exact-size dst) and in place, agrees with
 * the reference and with itself, length <= input length; sl_query_get for
 * each given name, and for the decoded name of each pair in the query,
 * with the small capacity and a large one, returns what the reference
 * returns, never more than cap - 1 bytes, NUL-terminated, and writes only
 * inside dst (exact-size heap block).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/url.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int hex(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reference decoder: length, or -EINVAL on a bad escape. */
static long ref_decode(char *dst, const char *s, size_t len, int plus)
{
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (len - i < 3)
                return -EINVAL;
            int h = hex((unsigned char)s[i + 1]), l = hex((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return -EINVAL;
            dst[j++] = (char)(h * 16 + l);
            i += 2;
        } else {
            dst[j++] = plus && c == '+' ? ' ' : (char)c;
        }
    }
    return (long)j;
}

/* Reference sl_query_get. */
static long ref_get(const char *q, size_t qlen, const char *name, char *dst,
                    size_t cap)
{
    size_t nl = strlen(name), pos = 0;
    char *tmp = malloc(qlen + 1);
    long rc = -ENOENT;

    CHECK(tmp != NULL);
    while (pos < qlen) {
        const char *pair = q + pos, *amp = memchr(pair, '&', qlen - pos);
        size_t plen = amp ? (size_t)(amp - pair) : qlen - pos;
        pos += plen + 1;
        if (plen == 0)
            continue;
        const char *eq = memchr(pair, '=', plen);
        size_t rl = eq ? (size_t)(eq - pair) : plen;
        long d = ref_decode(tmp, pair, rl, 1);
        if (d < 0 || (size_t)d != nl || memcmp(tmp, name, nl) != 0)
            continue;
        size_t vl = eq ? plen - rl - 1 : 0;
        d = ref_decode(tmp, eq ? eq + 1 : pair + plen, vl, 1);
        if (d < 0 || cap == 0 || (size_t)d > cap - 1) {
            rc = -EINVAL;
        } else {
            memcpy(dst, tmp, (size_t)d);
            dst[d] = '\0';
            rc = d;
        }
        break;
    }
    free(tmp);
    return rc;
}

static void check_get(const char *q, size_t qlen, const char *name, size_t cap)
{
    char *dst = malloc(cap ? cap : 1), *ref = malloc(cap + 1);
    CHECK(dst != NULL && ref != NULL);
    long a = sl_query_get(q, qlen, name, dst, cap);
    long b = ref_get(q, qlen, name, ref, cap);
    /* Absent, a value, or an error: which error (malformed, or too long
     * for cap) depends on which the decoder meets first. */
    CHECK(a == b || (a < 0 && b < 0 && a != -ENOENT && b != -ENOENT));
    if (a >= 0) {
        CHECK((size_t)a < cap && dst[a] == '\0');
        CHECK(memcmp(dst, ref, (size_t)a) == 0);
    }
    free(dst);
    free(ref);
}

static void check_decode(const char *s, size_t len, int plus)
{
    char *out = malloc(len ? len : 1), *in = malloc(len ? len : 1);
    char *ref = malloc(len + 1);
    CHECK(out != NULL && in != NULL && ref != NULL);
    if (len > 0)
        memcpy(in, s, len);
    long a = sl_percent_decode(out, s, len, plus);
    long b = sl_percent_decode(in, in, len, plus);
    long c = ref_decode(ref, s, len, plus);
    CHECK(a == c && b == c && a <= (long)len);
    if (a > 0)
        CHECK(memcmp(out, ref, (size_t)a) == 0 && memcmp(in, ref, (size_t)a) == 0);
    free(out);
    free(in);
    free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t small = data[0] & 15;
    const char *p = (const char *)data + 1, *end = p + size - 1;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *names = nl ? p : end, *names_end = nl ? nl : end;
    const char *q = nl ? nl + 1 : p;
    size_t qlen = (size_t)(end - q);

    /* The query in an exact-size block. */
    char *query = malloc(qlen ? qlen : 1);
    CHECK(query != NULL);
    if (qlen > 0)
        memcpy(query, q, qlen);
    check_decode(query, qlen, 0);
    check_decode(query, qlen, 1);

    /* Names from the first line (at most 8), then from the query's pairs. */
    char name[256];
    int count = 0;
    for (const char *s = names; s < names_end && count < 8; count++) {
        const char *t = memchr(s, '\t', (size_t)(names_end - s));
        size_t n = (size_t)((t ? t : names_end) - s);
        if (n >= sizeof(name))
            n = sizeof(name) - 1;
        memcpy(name, s, n);
        name[n] = '\0';                 /* stops at an embedded NUL too */
        check_get(query, qlen, name, small);
        check_get(query, qlen, name, 4096);
        s = t ? t + 1 : names_end;
    }
    for (size_t pos = 0; pos < qlen && count < 16; count++) {
        const char *amp = memchr(query + pos, '&', qlen - pos);
        size_t plen = amp ? (size_t)(amp - query - pos) : qlen - pos;
        const char *eq = memchr(query + pos, '=', plen);
        size_t rl = eq ? (size_t)(eq - query - pos) : plen;
        if (rl < sizeof(name)) {
            long d = ref_decode(name, query + pos, rl, 1);
            if (d >= 0) {
                name[d] = '\0';
                check_get(query, qlen, name, small);
                check_get(query, qlen, name, qlen + 1);
            }
        }
        pos += plen + 1;
    }
    free(query);
    return 0;
}
