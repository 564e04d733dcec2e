/* mp_run.c: the multipart tests' harness (see mp_run.h). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mp_run.h"

typedef struct tbuf {
    char *p;
    size_t n, cap;
} tbuf;

/*
 * Check's own asserts report progress through a pipe, each one a system
 * call; the hot loops below check with this instead.
 */
#define CHECK(c) do {                                                       \
        if (!(c))                                                           \
            ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c);              \
    } while (0)

static void put(tbuf *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        CHECK(t->p != NULL);
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void put_esc(tbuf *t, const char *s, size_t n)
{
    char tmp[8];
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e) {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            put(t, tmp, 4);
        } else {
            if (strchr("[]{}<>$#!\\", c))
                put(t, "\\", 1);
            put(t, (const char *)&c, 1);
        }
    }
}

const sl_mp_limits mp_roomy = { 100, 4096, 0, 0, 0 };

/*
 * Parse body[0..n) with boundary b, cut at cuts[0..ncuts) (ascending, may
 * repeat: empty pieces), each piece in an exact-size heap block.  Returns
 * the transcript (malloc'd).  Also checks what every event must satisfy.
 */
static char *run(const char *b, const char *body, size_t n, const size_t *cuts,
                 size_t ncuts, const sl_mp_limits *lim)
{
    sl_mp_parser p;
    sl_mp_event ev;
    tbuf t = { NULL, 0, 0 };
    int done = 0;

    put(&t, "", 0);
    CHECK(sl_mp_init(&p, b, strlen(b), lim) == 0);
    for (size_t c = 0; c <= ncuts && !done; c++) {
        size_t from = c == 0 ? 0 : cuts[c - 1], to = c == ncuts ? n : cuts[c];
        size_t len = to - from, off = 0;
        char *piece = malloc(len ? len : 1);
        CHECK(piece != NULL);
        memcpy(piece, body + from, len);
        for (;;) {
            size_t k = sl_mp_parse(&p, piece + off, len - off, &ev);
            CHECK(k <= len - off);
            off += k;
            if (ev.type == SL_MP_NONE) {
                if (k == 0) {
                    CHECK(off == len);
                    break;
                }
                continue;
            }
            switch (ev.type) {
            case SL_MP_PART:
                CHECK(ev.part.name != NULL);
                CHECK(strlen(ev.part.name) == ev.part.name_len);
                put(&t, "[", 1);
                put_esc(&t, ev.part.name, ev.part.name_len);
                put(&t, "]", 1);
                if (ev.part.filename) {
                    CHECK(strlen(ev.part.filename) == ev.part.filename_len);
                    put(&t, "{", 1);
                    put_esc(&t, ev.part.filename, ev.part.filename_len);
                    put(&t, "}", 1);
                }
                if (ev.part.content_type) {
                    CHECK(strlen(ev.part.content_type) ==
                          ev.part.content_type_len);
                    put(&t, "<", 1);
                    put_esc(&t, ev.part.content_type,
                            ev.part.content_type_len);
                    put(&t, ">", 1);
                }
                break;
            case SL_MP_DATA:
                CHECK(ev.len > 0);
                /* A slice of this piece, or of the parser's delimiter. */
                CHECK((ev.data >= piece && ev.data + ev.len <= piece + len) ||
                          (ev.data >= p.delim &&
                           ev.data + ev.len <= p.delim + sizeof(p.delim)));
                put_esc(&t, ev.data, ev.len);
                break;
            case SL_MP_PART_END:
                put(&t, "$", 1);
                break;
            case SL_MP_END:
                put(&t, "#", 1);
                break;
            case SL_MP_ERROR: {
                char tmp[16];
                CHECK(ev.reason != NULL);
                snprintf(tmp, sizeof tmp, "!%d:", (int)ev.error);
                put(&t, tmp, strlen(tmp));
                put(&t, ev.reason, strlen(ev.reason));
                done = 1;
                /* Sticky. */
                sl_mp_event again;
                CHECK(sl_mp_parse(&p, "x", 1, &again) == 0);
                CHECK(again.type == SL_MP_ERROR);
                CHECK(strcmp(again.reason, ev.reason) == 0);
                break;
            }
            default:
                ck_abort_msg("event type %d", (int)ev.type);
            }
            if (done)
                break;
        }
        free(piece);
    }
    if (!done) {
        int rc = sl_mp_finish(&p, &ev);
        if (rc < 0) {
            char tmp[16];
            CHECK(ev.type == SL_MP_ERROR);
            snprintf(tmp, sizeof tmp, "!%d:", (int)ev.error);
            put(&t, tmp, strlen(tmp));
            put(&t, ev.reason, strlen(ev.reason));
        } else {
            CHECK(ev.type == SL_MP_END);
            CHECK(t.n > 0 && t.p[t.n - 1] == '#');
        }
    }
    CHECK(p.total <= n);
    sl_mp_free(&p);
    return t.p;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state >> 33;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * The transcript of body[0..n), after checking that a byte at a time,
 * every single cut and 60 random sets of cuts give the same.
 */
char *mp_parse(const char *b, const char *body, size_t n,
               const sl_mp_limits *lim)
{
    char *whole = run(b, body, n, NULL, 0, lim);
    size_t *cuts = malloc((n + 8) * sizeof(size_t));
    ck_assert_ptr_nonnull(cuts);

    for (size_t i = 0; i + 1 < n; i++)
        cuts[i] = i + 1;
    char *t = run(b, body, n, cuts, n ? n - 1 : 0, lim);
    ck_assert_msg(strcmp(t, whole) == 0, "byte by byte:\n%s\nwhole:\n%s", t,
                  whole);
    free(t);
    for (size_t k = 0; k <= n; k++) {
        t = run(b, body, n, &k, 1, lim);
        if (strcmp(t, whole) != 0)
            ck_abort_msg("cut at %zu:\n%s\nwhole:\n%s", k, t, whole);
        free(t);
    }
    rng_state = n;
    for (int r = 0; r < 60; r++) {
        size_t m = 1 + rng() % 8;
        for (size_t i = 0; i < m; i++)
            cuts[i] = n ? rng() % (n + 1) : 0;
        qsort(cuts, m, sizeof(size_t), cmp_size);
        t = run(b, body, n, cuts, m, lim);
        if (strcmp(t, whole) != 0)
            ck_abort_msg("random cuts:\n%s\nwhole:\n%s", t, whole);
        free(t);
    }
    free(cuts);
    return whole;
}

char *mp_escape(const char *s, size_t n)
{
    tbuf t = { NULL, 0, 0 };

    put(&t, "", 0);
    put_esc(&t, s, n);
    return t.p;
}

/* tests/unit/multipart/NAME.form: the Content-Type, LF, the body. */
char *mp_fixture(const char *name, char **ctype, size_t *n)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/unit/multipart/%s.form",
             top ? top : ".", name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)len + 1);
    ck_assert(fread(buf, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    buf[len] = '\0';
    char *lf = memchr(buf, '\n', (size_t)len);
    ck_assert_ptr_nonnull(lf);
    *lf = '\0';
    *ctype = buf;
    *n = (size_t)len - (size_t)(lf + 1 - buf);
    return lf + 1;
}

