/*
 * fuzz_multipart: the multipart/form-data parser (src/proto/multipart.c),
 * the Content-Type and Content-Disposition parameters it reads
 * (src/proto/hparam.c) and the file name sanitiser (src/proto/filename.c).
 *
 * Input: byte 0 picks the limits (bits 0-1) and seeds the cutting (the
 * rest); then a request Content-Type up to the first '\n'; then the body.
 * The boundary is the Content-Type's when sl_mp_boundary() accepts it,
 * else the line itself when sl_mp_init() does, else "X".
 *
 * Checks: sl_mp_boundary() gives a slice of its input of 1 to 70 bytes, or
 * a reason.  The body parsed whole, a byte at a time and in pseudo-random
 * pieces (each piece in a heap block of its exact size) gives the same
 * events, content joined; content slices lie in the piece or in the
 * parser's delimiter and, parsed whole, follow one another through the
 * body; part strings are NUL-terminated at their length inside the header
 * buffer; events come in the order PART DATA* PART_END ... END; an error is
 * final and comes with a reason; no more body is counted than was given.
 * Every file name, and the body's first bytes, go through
 * sl_filename_sanitise() at two capacities: valid UTF-8, no '/', '\',
 * control characters or leading or trailing dots and spaces, shorter than
 * the capacity, and unchanged when sanitised again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/filename.h"
#include "proto/multipart.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const sl_mp_limits presets[4] = {
    { 1000, 8192, 0, 0, 0 },
    { 3, 64, 512, 16, 32 },
    { 2, 200, 0, 0, 8 },
    { 1, 4, 100, 1, 1 },
};

typedef struct tr {
    unsigned char *p;
    size_t n, cap;
    size_t run;             /* offset of the open DATA run's length, or 0 */
    int last;               /* last event type */
} tr;

static void put(tr *t, const void *s, size_t n)
{
    if (t->n + n > t->cap) {
        t->cap = (t->n + n) * 2 + 64;
        t->p = realloc(t->p, t->cap);
        CHECK(t->p != NULL);
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
}

static void put_str(tr *t, const char *s, size_t n)
{
    uint32_t len = (uint32_t)n;
    put(t, &len, sizeof len);
    put(t, s, n);
}

static void check_name(const char *s, size_t n, size_t cap)
{
    char *dst = malloc(cap), *again = malloc(cap);
    CHECK(dst != NULL && again != NULL);
    size_t k = sl_filename_sanitise(dst, cap, s, n);
    CHECK(k < cap && dst[k] == '\0' && strlen(dst) == k);
    CHECK(sl_utf8_valid(dst, k));
    CHECK(memchr(dst, '/', k) == NULL && memchr(dst, '\\', k) == NULL);
    if (k > 0) {
        CHECK(dst[0] != '.' && dst[0] != ' ');
        CHECK(dst[k - 1] != '.' && dst[k - 1] != ' ');
    }
    for (size_t i = 0; i < k;) {
        uint32_t cp;
        size_t l = sl_utf8_seq((const unsigned char *)dst + i, k - i, &cp);
        CHECK(l > 0);
        CHECK(cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f));
        CHECK(!(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069));
        i += l;
    }
    size_t k2 = sl_filename_sanitise(again, cap, dst, k);
    CHECK(k2 == k && memcmp(again, dst, k) == 0);
    free(dst);
    free(again);
}

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* mode 0: whole; 1: a byte at a time; 2: pseudo-random pieces. */
static tr run(const char *b, size_t blen, const sl_mp_limits *lim,
              const char *body, size_t n, int mode, unsigned seed)
{
    sl_mp_parser p;
    sl_mp_event ev;
    tr t = { NULL, 0, 0, 0, SL_MP_NONE };
    size_t from = 0, last_end = 0;
    int done = 0, in_part = 0;
    uint64_t content = 0;

    CHECK(sl_mp_init(&p, b, blen, lim) == 0);
    rng_state = seed;
    while (!done) {
        size_t len = n - from;
        if (mode == 1 && len > 1)
            len = 1;
        else if (mode == 2 && len > 0)
            len = rng() % (len < 64 ? len + 1 : 64);
        char *piece = malloc(len ? len : 1);
        CHECK(piece != NULL);
        memcpy(piece, body + from, len);
        size_t off = 0;
        for (;;) {
            size_t k = sl_mp_parse(&p, piece + off, len - off, &ev);
            CHECK(k <= len - off);
            off += k;
            if (ev.type == SL_MP_NONE) {
                if (k == 0)
                    break;
                continue;
            }
            if (ev.type != SL_MP_DATA)
                t.run = 0;
            unsigned char ty = (unsigned char)ev.type;
            switch (ev.type) {
            case SL_MP_PART:
                CHECK(!in_part);
                in_part = 1;
                put(&t, &ty, 1);
                CHECK(ev.part.name >= p.hdr &&
                      ev.part.name + ev.part.name_len < p.hdr +
                      lim->max_header_bytes);
                CHECK(strlen(ev.part.name) == ev.part.name_len);
                put_str(&t, ev.part.name, ev.part.name_len);
                if (ev.part.filename) {
                    CHECK(ev.part.filename >= p.hdr &&
                          ev.part.filename + ev.part.filename_len <
                          p.hdr + lim->max_header_bytes);
                    CHECK(strlen(ev.part.filename) == ev.part.filename_len);
                    put_str(&t, ev.part.filename, ev.part.filename_len);
                    if (mode == 0) {
                        check_name(ev.part.filename, ev.part.filename_len,
                                   SL_FILENAME_MAX + 1);
                        check_name(ev.part.filename, ev.part.filename_len,
                                   1 + seed % 12);
                    }
                } else {
                    put(&t, "-", 1);
                }
                if (ev.part.content_type) {
                    CHECK(strlen(ev.part.content_type) ==
                          ev.part.content_type_len);
                    put_str(&t, ev.part.content_type,
                            ev.part.content_type_len);
                } else {
                    put(&t, "-", 1);
                }
                break;
            case SL_MP_DATA:
                CHECK(in_part && ev.len > 0);
                if (ev.data >= piece && ev.data + ev.len <= piece + len) {
                    /* Parsed whole: slices follow one another. */
                    if (mode == 0) {
                        CHECK((size_t)(ev.data - piece) >= last_end);
                        last_end = (size_t)(ev.data - piece) + ev.len;
                    }
                } else {
                    CHECK(ev.data >= p.delim &&
                          ev.data + ev.len <= p.delim + sizeof(p.delim));
                }
                content += ev.len;
                if (t.run == 0) {
                    put(&t, &ty, 1);
                    uint32_t z = 0;
                    t.run = t.n;
                    put(&t, &z, sizeof z);
                }
                put(&t, ev.data, ev.len);
                {
                    uint32_t l;
                    memcpy(&l, t.p + t.run, sizeof l);
                    l += (uint32_t)ev.len;
                    memcpy(t.p + t.run, &l, sizeof l);
                }
                break;
            case SL_MP_PART_END:
                CHECK(in_part);
                in_part = 0;
                put(&t, &ty, 1);
                break;
            case SL_MP_END:
                CHECK(!in_part);
                put(&t, &ty, 1);
                break;
            case SL_MP_ERROR:
                CHECK(ev.reason != NULL);
                put(&t, &ty, 1);
                put_str(&t, ev.reason, strlen(ev.reason));
                {
                    sl_mp_event again;
                    CHECK(sl_mp_parse(&p, piece, len, &again) == 0);
                    CHECK(again.type == SL_MP_ERROR &&
                          again.reason == ev.reason);
                }
                done = 1;
                break;
            default:
                abort();
            }
            if (done)
                break;
        }
        free(piece);
        from += len;
        if (from == n && !done) {
            int rc = sl_mp_finish(&p, &ev);
            unsigned char ty = (unsigned char)ev.type;
            if (rc < 0) {
                CHECK(ev.type == SL_MP_ERROR && ev.reason != NULL);
                put(&t, &ty, 1);
                put_str(&t, ev.reason, strlen(ev.reason));
            } else {
                CHECK(ev.type == SL_MP_END && t.n > 0 &&
                      t.p[t.n - 1] == SL_MP_END);
            }
            done = 1;
        }
    }
    CHECK(p.total <= n && content <= n);
    sl_mp_free(&p);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const sl_mp_limits *lim = &presets[data[0] & 3];
    unsigned seed = data[0] >> 2;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    const char *nl = memchr(in, '\n', len);
    size_t ctlen = nl ? (size_t)(nl - in) : len;
    const char *body = nl ? nl + 1 : in + len;
    size_t n = (size_t)(in + len - body);

    /* The Content-Type, in a block of its exact size. */
    char *ct = malloc(ctlen ? ctlen : 1);
    CHECK(ct != NULL);
    memcpy(ct, in, ctlen);
    const char *b = NULL, *reason = NULL;
    size_t blen = 0;
    char bnd[SL_MP_BOUNDARY_MAX];
    if (sl_mp_boundary(ct, ctlen, &b, &blen, &reason) == 0) {
        CHECK(b >= ct && b + blen <= ct + ctlen);
        CHECK(blen >= 1 && blen <= SL_MP_BOUNDARY_MAX);
        memcpy(bnd, b, blen);
    } else {
        sl_mp_parser probe;
        CHECK(reason != NULL);
        if (ctlen <= SL_MP_BOUNDARY_MAX &&
            sl_mp_init(&probe, ct, ctlen, lim) == 0) {
            sl_mp_free(&probe);
            memcpy(bnd, ct, ctlen);
            blen = ctlen;
        } else {
            bnd[0] = 'X';
            blen = 1;
        }
    }
    free(ct);

    tr whole = run(bnd, blen, lim, body, n, 0, seed);
    tr bytes = run(bnd, blen, lim, body, n, 1, seed);
    tr cut = run(bnd, blen, lim, body, n, 2, seed * 7919u + (unsigned)n);
    CHECK(whole.n == bytes.n && memcmp(whole.p, bytes.p, whole.n) == 0);
    CHECK(whole.n == cut.n && memcmp(whole.p, cut.p, whole.n) == 0);
    free(whole.p);
    free(bytes.p);
    free(cut.p);

    check_name(body, n < 300 ? n : 300, SL_FILENAME_MAX + 1);
    check_name(body, n < 300 ? n : 300, 1 + seed % 12);
    return 0;
}
