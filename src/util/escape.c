/* escape.c: peer bytes made safe for logs and labels (see escape.h). */
#include <errno.h>
#include <string.h>
#include "util/escape.h"

static const char hex[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || len > n || (len == 2 && s[0] < 0xC2))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

static int unsafe(unsigned char c)
{
    return c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
}

/* "\xHH" for c into out[4]. */
static void put_hex(char *out, unsigned char c)
{
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[c >> 4];
    out[3] = hex[c & 15];
}

int sl_escape_append(sl_buf *b, const char *s, int utf8)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    /* Every byte may become four, and the NUL: reserve once. */
    if (n > ((size_t)-1 - 1) / 4 || sl_buf_reserve(b, n * 4 + 1) < 0)
        return -ENOMEM;
    char *out = b->data + b->len;
    for (size_t i = 0; i < n;) {
        size_t u = utf8 ? utf8_len(p + i, n - i) : 0;
        if (u > 0) {
            memcpy(out, p + i, u);
            out += u;
            i += u;
        } else if (unsafe(p[i])) {
            put_hex(out, p[i++]);
            out += 4;
        } else {
            *out++ = (char)p[i++];
        }
    }
    *out = '\0';
    b->len = (size_t)(out - b->data);
    return 0;
}

size_t sl_escape_cut(char *dst, size_t size, const char *s)
{
    /*
     * On every request's path (a method, a route pattern), and almost
     * always nothing to escape: find that out in one pass and copy.
     */
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    while (u[n] >= 0x20 && u[n] < 0x7f && u[n] != '"' && u[n] != '\\')
        n++;
    if (u[n] == '\0' && n < size) {
        memcpy(dst, s, n + 1);
        return n;
    }
    size_t o = 0;
    for (const unsigned char *p = u; *p != '\0'; p++) {
        size_t need = unsafe(*p) ? 4 : 1;
        if (need > size - 1 - o)
            break;
        if (need == 4)
            put_hex(dst + o, *p);
        else
            dst[o] = (char)*p;
        o += need;
    }
    dst[o] = '\0';
    return o;
}
