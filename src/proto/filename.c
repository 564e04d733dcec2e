/* filename.c: peer file names made safe (see filename.h). */
#include <string.h>
#include "proto/filename.h"

size_t sl_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t k, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xc2)
        return 0;
    k = c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
    if (k == 0 || n < k)
        return 0;
    for (i = 1; i < k; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) ||
        (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
        return 0;
    *cp = c & (0x7f >> k);
    for (i = 1; i < k; i++)
        *cp = *cp << 6 | (s[i] & 0x3f);
    return k;
}

int sl_utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    uint32_t cp;

    while (i < n) {
        size_t k = sl_utf8_seq((const unsigned char *)s + i, n - i, &cp);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

/*
 * The next unit of a file name at s[*i..n), cleaned (step 2 of
 * sl_filename_sanitise()): its bytes in out[], and how many (0: the
 * unit is dropped).  Advances *i.
 */
static size_t clean_unit(const unsigned char *s, size_t n, size_t *i,
                         unsigned char out[4])
{
    uint32_t cp;
    size_t k = sl_utf8_seq(s + *i, n - *i, &cp);

    if (k == 0) {
        *i += 1;
        out[0] = '_';
        return 1;
    }
    memcpy(out, s + *i, k);
    *i += k;
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
        (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
        return 0;
    return k;
}

static int dot_or_space(const unsigned char *u, size_t k)
{
    return k == 1 && (u[0] == '.' || u[0] == ' ');
}

typedef struct name_measure {
    size_t trimmed;         /* length without trailing dots and spaces */
    size_t lastdot;         /* offset of the last '.', or (size_t)-1 */
} name_measure;

/*
 * Walk the cleaned name (step 2, and the leading half of step 3) of
 * s[0..n): the units whose offsets in it lie within [from, to) are copied
 * to dst (dst[0] for offset `from`), whole.  Returns the bytes copied; the
 * measures go to *m when m is not NULL.
 */
static size_t walk_name(const char *s, size_t n, size_t from, size_t to,
                        char *dst, name_measure *m)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char unit[4];
    size_t i = 0, off = 0, copied = 0;
    int lead = 1;

    if (m != NULL) {
        m->trimmed = 0;
        m->lastdot = (size_t)-1;
    }
    while (i < n) {
        size_t k = clean_unit(u, n, &i, unit);
        if (k == 0 || (lead && dot_or_space(unit, k)))
            continue;
        lead = 0;
        if (dst != NULL && off >= from && off + k <= to) {
            memcpy(dst + (off - from), unit, k);
            copied = off + k - from;
        }
        if (m != NULL) {
            if (k == 1 && unit[0] == '.')
                m->lastdot = off;
            if (!dot_or_space(unit, k))
                m->trimmed = off + k;
        }
        off += k;
    }
    return copied;
}

size_t sl_filename_sanitise(char *dst, size_t cap, const char *src,
                               size_t len)
{
    size_t base = 0, i, max, ext = 0, w;
    name_measure m;

    if (cap == 0)
        return 0;
    max = cap - 1;
    for (i = 0; i < len; i++)
        if (src[i] == '/' || src[i] == '\\')
            base = i + 1;
    src += base;
    len -= base;
    walk_name(src, len, 0, 0, NULL, &m);
    if (m.trimmed <= max) {
        w = walk_name(src, len, 0, m.trimmed, dst, NULL);
        dst[w] = '\0';
        return w;
    }
    /* Too long: keep a short extension, cut the stem before it. */
    if (m.lastdot != (size_t)-1 && m.lastdot > 0 && m.lastdot < m.trimmed &&
        m.trimmed - m.lastdot <= 16 && 2 * (m.trimmed - m.lastdot) <= max)
        ext = m.trimmed - m.lastdot;
    w = walk_name(src, len, 0, max - ext, dst, NULL);
    while (w > 0 && (dst[w - 1] == '.' || dst[w - 1] == ' '))
        w--;
    if (ext > 0 && w == 0) {
        /* Not one character of the stem fits before it: no extension. */
        ext = 0;
        w = walk_name(src, len, 0, max, dst, NULL);
        while (w > 0 && (dst[w - 1] == '.' || dst[w - 1] == ' '))
            w--;
    }
    if (ext > 0)
        w += walk_name(src, len, m.lastdot, m.trimmed, dst + w, NULL);
    dst[w] = '\0';
    return w;
}
