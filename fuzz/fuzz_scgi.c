/*
 * fuzz_scgi: scgi_parse_header and scgi_pairs_next (src/proto/scgi.c).
 *
 * Input: byte 0 picks `max` (the header size limit), the rest is what the
 * peer sent.  Each parse sees its bytes at the very end of a heap block, so
 * ASan catches reads past `len`.  Checks: on SCGI_OK consumed <= len, the
 * block lies inside the input just before the ',', block_len <= max, the
 * pairs iterate inside the block with NUL-terminated names and values,
 * CONTENT_LENGTH comes first and agrees with content_length, "SCGI" is
 * "1"; on SCGI_ERROR and SCGI_TOO_LARGE a reason is set and *h is
 * untouched.  Split
 * invariance: every prefix gives SCGI_NEED_MORE until the first final
 * answer, and that answer (and the later ones tried) equals the answer for
 * the whole input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/scgi.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

typedef struct { int rc; const char *reason; scgi_header h; } result;

/* Parse in[0..len) placed at the end of `blk` (capacity cap). */
static result parse(char *blk, size_t cap, const char *in, size_t len,
                    size_t max)
{
    result r;
    char *p = blk + cap - len;

    if (len > 0)
        memmove(p, in, len);
    memset(&r.h, 0xa5, sizeof(r.h));
    r.reason = NULL;
    r.rc = scgi_parse_header(p, len, max, &r.h, &r.reason);
    if (r.rc == SCGI_ERROR || r.rc == SCGI_TOO_LARGE) {
        scgi_header junk;
        memset(&junk, 0xa5, sizeof(junk));
        CHECK(r.reason != NULL && memcmp(&junk, &r.h, sizeof(junk)) == 0);
        return r;
    }
    CHECK(r.rc == SCGI_NEED_MORE || r.rc == SCGI_OK);
    if (r.rc == SCGI_NEED_MORE)
        return r;

    const scgi_header *h = &r.h;
    CHECK(h->consumed <= len && h->block_len > 0 && h->block_len <= max);
    CHECK(h->block > p && h->block + h->block_len + 1 == p + h->consumed);
    CHECK(p[h->consumed - 1] == ',' && h->block[-1] == ':');

    const char *name, *value, *end = h->block + h->block_len;
    size_t off = 0, i = 0;
    int scgi = 0;
    while (scgi_pairs_next(h, &off, &name, &value)) {
        CHECK(name >= h->block && name < end && value > name && value < end);
        CHECK(memchr(name, '\0', (size_t)(end - name)) == value - 1);
        const char *z = memchr(value, '\0', (size_t)(end - value));
        CHECK(z != NULL && off == (size_t)(z + 1 - h->block));
        CHECK(*name != '\0');
        if (i++ == 0) {
            /* The rule of cgi.h: plain digits (leading zeros too), or ""
             * for no body. */
            unsigned long long v = 0;
            CHECK(strcmp(name, "CONTENT_LENGTH") == 0);
            for (const char *s = value; *s; s++) {
                CHECK(*s >= '0' && *s <= '9');
                v = v * 10 + (unsigned)(*s - '0');
            }
            CHECK(v == h->content_length);
        }
        if (strcmp(name, "SCGI") == 0)
            scgi = strcmp(value, "1") == 0;
    }
    CHECK(i > 0 && scgi && off == h->block_len);
    return r;
}

static int same(const result *a, const result *b, const char *pa,
                const char *pb)
{
    if (a->rc != b->rc)
        return 0;
    if (a->rc == SCGI_ERROR || a->rc == SCGI_TOO_LARGE)
        return a->reason == b->reason;
    if (a->rc == SCGI_OK)
        return a->h.consumed == b->h.consumed &&
               a->h.block_len == b->h.block_len &&
               a->h.block - pa == b->h.block - pb &&
               a->h.content_length == b->h.content_length;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t max = data[0] == 0xff ? (size_t)-1 : (size_t)data[0] * 64 + 1;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    char *blk = malloc(len ? len : 1), *full = malloc(len ? len : 1);
    CHECK(blk != NULL && full != NULL);

    result whole = parse(full, len ? len : 1, in, len, max);
    const char *pw = full + (len ? len : 1) - len;

    /* Prefixes: NEED_MORE until the first final answer, then the same. */
    size_t k;
    for (k = 0; k < len; k++) {
        result r = parse(blk, len, in, k, max);
        if (r.rc != SCGI_NEED_MORE) {
            CHECK(same(&r, &whole, blk + len - k, pw));
            break;
        }
    }
    size_t more[3] = { k + 1, (k + len) / 2, len - 1 };
    for (int i = 0; i < 3 && k < len; i++) {
        if (more[i] <= k || more[i] >= len)
            continue;
        result r = parse(blk, len, in, more[i], max);
        CHECK(same(&r, &whole, blk + len - more[i], pw));
    }
    free(blk);
    free(full);
    return 0;
}
