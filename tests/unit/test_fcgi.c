/*
 * test_fcgi.c: unit tests for the FastCGI codec (src/proto/fcgi.c).
 *
 * Most decoder tests build a byte stream, state the events it must give,
 * and hand both to check_stream(), which decodes the stream whole, byte by
 * byte, split at every position (and every pair of positions when short),
 * and in pseudo-random chunks.  Every chunk is copied into a buffer of
 * exactly its size so that AddressSanitizer catches any overread.  Content
 * pieces of one record are concatenated before events are compared, since
 * how content is cut up depends on how the input arrives.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fcgi_pair.h"
#include "proto/fcgi.h"

/*
 * Check's ck_assert*() record every passing assertion in a file, which makes
 * them far too slow for the inner loops below; these only act on failure.
 */
#define REQUIRE(c)                                                      \
    do {                                                                \
        if (!(c))                                                       \
            ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c);          \
    } while (0)
#define REQUIRE_MSG(c, ...)                                             \
                    do {                                                                \
                    if (!(c))                                                       \
                    ck_abort_msg(__VA_ARGS__);                                  \
                    } while (0)
                    
                    /* ---- recorded events ---------------------------------------------------- */
                    
                    typedef struct ev_rec {
                    enum fcgi_event_type type;
    uint16_t id;
    uint16_t role;
    uint8_t flags;
    uint8_t rec_type;
    int end;
    int complete;           /* content: saw the piece with last = 1 */
    const char *reason;
    sl_buf content;
} ev_rec;

typedef struct ev_list {
    ev_rec *v;
    size_t n, cap;
    int errored;
} ev_list;

static void list_init(ev_list *l)
{
    memset(l, 0, sizeof(*l));
}

static void list_free(ev_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        sl_buf_free(&l->v[i].content);
    free(l->v);
    list_init(l);
}

static ev_rec *list_push(ev_list *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        REQUIRE(l->v != NULL);
    }
    ev_rec *r = &l->v[l->n++];
    memset(r, 0, sizeof(*r));
    sl_buf_init(&r->content);
    return r;
}

static int is_content(enum fcgi_event_type t)
{
    return t == FCGI_EV_PARAMS || t == FCGI_EV_STDIN || t == FCGI_EV_DATA ||
           t == FCGI_EV_GET_VALUES;
}

/* Record one event, merging content pieces of the same record. */
static void list_add(ev_list *l, const fcgi_event *ev)
{
    ev_rec *open = NULL;

    if (l->n > 0 && is_content(l->v[l->n - 1].type) &&
        !l->v[l->n - 1].complete)
        open = &l->v[l->n - 1];
    if (open != NULL) {
        /* Pieces of one record come back to back. */
        REQUIRE(ev->type == open->type);
        REQUIRE(ev->id == open->id);
        REQUIRE(ev->end == 0);
        REQUIRE(ev->len > 0);
        REQUIRE(sl_buf_append(&open->content, ev->data, ev->len) == 0);
        open->complete = ev->last;
        return;
    }
    ev_rec *r = list_push(l);
    r->type = ev->type;
    r->id = ev->id;
    r->role = ev->role;
    r->flags = ev->flags;
    r->rec_type = ev->rec_type;
    r->end = ev->end;
    r->reason = ev->reason;
    if (is_content(ev->type)) {
        if (ev->end) {
            REQUIRE(ev->len == 0);
            REQUIRE(ev->last == 1);
        } else {
            REQUIRE(ev->len > 0);
        }
        REQUIRE(sl_buf_append(&r->content, ev->data, ev->len) == 0);
        r->complete = ev->last;
    } else {
        r->complete = 1;
    }
    if (ev->type == FCGI_EV_ERROR) {
        REQUIRE(ev->reason != NULL);
        l->errored = 1;
    }
}

/* Decode one chunk, as a connection would, recording events. */
static void feed(fcgi_decoder *d, ev_list *l, const char *in, size_t len)
{
    size_t off = 0, rounds = 0;
    fcgi_event ev;

    for (;;) {
        REQUIRE(rounds++ < 2 * len + 16);
        /* No arithmetic on NULL (the final empty call passes NULL). */
        const char *at = in ? in + off : in;
        size_t n = fcgi_decode(d, at, len - off, &ev);
        REQUIRE(n <= len - off);
        if (l->errored) {
            /* Sticky: error again, nothing consumed. */
            REQUIRE(ev.type == FCGI_EV_ERROR);
            REQUIRE(n == 0);
            return;
        }
        if (is_content(ev.type) && ev.len > 0) {
            /* The slice lies inside what this call consumed. */
            REQUIRE(ev.data >= at);
            REQUIRE(ev.data + ev.len <= at + n);
        }
        off += n;
        if (ev.type == FCGI_EV_NONE) {
            if (n == 0) {
                /* Our decoder always takes everything it is given. */
                REQUIRE(off == len);
                return;
            }
            continue;
        }
        list_add(l, &ev);
        if (ev.type == FCGI_EV_ERROR)
            return;
    }
}

/* Decode `in` cut at the given positions (ascending, inside 0..len). */
static void decode_cuts(const char *in, size_t len, const size_t *cuts,
                        size_t ncuts, ev_list *out)
{
    fcgi_decoder d;
    size_t start = 0;

    fcgi_decoder_init(&d);
    list_init(out);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t stop = i < ncuts ? cuts[i] : len;
        size_t n = stop - start;
        /* An exact-size copy, so reading past it is an ASan error. */
        char *chunk = malloc(n ? n : 1);
        REQUIRE(chunk != NULL);
        if (n)
            memcpy(chunk, in + start, n);
        feed(&d, out, chunk, n);
        free(chunk);
        start = stop;
    }
    /* One more empty call: sticky error, or plain "need more". */
    feed(&d, out, NULL, 0);
}

static void decode_whole(const char *in, size_t len, ev_list *out)
{
    decode_cuts(in, len, NULL, 0, out);
}

static void lists_equal(const ev_list *a, const ev_list *b, const char *how)
{
    REQUIRE_MSG(a->n == b->n, "%s: %zu events, expected %zu", how, a->n,
                b->n);
    for (size_t i = 0; i < a->n; i++) {
        const ev_rec *x = &a->v[i], *y = &b->v[i];
        REQUIRE_MSG(x->type == y->type, "%s: event %zu type %d, want %d",
                    how, i, x->type, y->type);
        REQUIRE(x->id == y->id);
        REQUIRE(x->role == y->role);
        REQUIRE(x->flags == y->flags);
        REQUIRE(x->rec_type == y->rec_type);
        REQUIRE(x->end == y->end);
        REQUIRE(x->complete == y->complete);
        REQUIRE(x->content.len == y->content.len);
        if (x->content.len)
            REQUIRE(memcmp(x->content.data, y->content.data,
                           x->content.len) == 0);
        if (x->type == FCGI_EV_ERROR)
            REQUIRE(strcmp(x->reason, y->reason) == 0);
    }
}

/* Compare against expectations; error reasons are matched as substrings. */
static void matches_expected(const ev_list *got, const ev_list *want)
{
    REQUIRE_MSG(got->n == want->n, "%zu events, expected %zu", got->n,
                want->n);
    for (size_t i = 0; i < got->n; i++) {
        const ev_rec *x = &got->v[i], *y = &want->v[i];
        REQUIRE_MSG(x->type == y->type, "event %zu type %d, want %d", i,
                    x->type, y->type);
        REQUIRE(x->id == y->id);
        REQUIRE(x->role == y->role);
        REQUIRE(x->flags == y->flags);
        REQUIRE(x->rec_type == y->rec_type);
        REQUIRE(x->end == y->end);
        REQUIRE(x->complete == y->complete);
        REQUIRE(x->content.len == y->content.len);
        if (x->content.len)
            REQUIRE(memcmp(x->content.data, y->content.data,
                           x->content.len) == 0);
        if (y->reason)
            REQUIRE_MSG(strstr(x->reason, y->reason) != NULL,
                        "reason \"%s\" lacks \"%s\"", x->reason, y->reason);
    }
}

/* A small deterministic generator for chunk sizes. */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Is `pos` within 12 bytes of the start or end of a well-framed record? */
static int near_boundary(const char *in, size_t len, size_t pos)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t off = 0;

    for (;;) {
        if (pos + 12 >= off && pos <= off + 12)
            return 1;
        if (len - off < 8 || p[off] != 1 || off > pos + 12)
            return 0;
        off += 8 + ((size_t)p[off + 4] << 8 | p[off + 5]) + p[off + 6];
        if (off > len)
            return 0;
    }
}

/*
 * Decode `in` every way we can think of; each must give `want`.
 * Exhaustive splits only when the stream is short enough to be quick.
 */
static void check_stream(const char *in, size_t len, const ev_list *want)
{
    ev_list whole, other;
    size_t cuts[2];

    decode_whole(in, len, &whole);
    matches_expected(&whole, want);

    /* Byte by byte. */
    size_t *all = malloc((len ? len : 1) * sizeof(*all));
    REQUIRE(all != NULL);
    for (size_t i = 0; i + 1 < len; i++)
        all[i] = i + 1;
    decode_cuts(in, len, all, len ? len - 1 : 0, &other);
    lists_equal(&other, &whole, "byte by byte");
    list_free(&other);

    /*
     * Split once, at every position; in long streams, at a stride plus
     * every position near a record boundary.
     */
    for (size_t i = 0; i <= len; i++) {
        if (len > 4096 && i % 61 != 0 && !near_boundary(in, len, i))
            continue;
        cuts[0] = i;
        decode_cuts(in, len, cuts, 1, &other);
        lists_equal(&other, &whole, "split once");
        list_free(&other);
    }

    /* Split twice, at every pair of positions, for short streams. */
    if (len <= 96) {
        for (size_t i = 0; i <= len; i++) {
            for (size_t j = i; j <= len; j++) {
                cuts[0] = i;
                cuts[1] = j;
                decode_cuts(in, len, cuts, 2, &other);
                lists_equal(&other, &whole, "split twice");
                list_free(&other);
            }
        }
    }

    /* Pseudo-random chunk sizes. */
    for (uint32_t seed = 1; seed <= 8; seed++) {
        uint32_t s = seed;
        size_t n = 0, pos = 0;
        while (len > 0) {
            pos += 1 + lcg(&s) % (seed < 5 ? 13 : 9000);
            if (pos >= len)
                break;
            all[n++] = pos;
        }
        decode_cuts(in, len, all, n, &other);
        lists_equal(&other, &whole, "random chunks");
        list_free(&other);
    }
    free(all);
    list_free(&whole);
}

/* ---- building streams and expectations ---------------------------------- */

static void raw_header(sl_buf *b, uint8_t ver, uint8_t type, uint16_t id,
                       uint16_t clen, uint8_t plen)
{
    unsigned char h[8] = { ver, type, (unsigned char)(id >> 8),
                           (unsigned char)id, (unsigned char)(clen >> 8),
                           (unsigned char)clen, plen, 0 };
    ck_assert_int_eq(sl_buf_append(b, h, 8), 0);
}

/* A record; padding is filled with junk the decoder must ignore. */
static void rec(sl_buf *b, uint8_t type, uint16_t id, const void *content,
                size_t clen, uint8_t plen)
{
    raw_header(b, FCGI_VERSION_1, type, id, (uint16_t)clen, plen);
    ck_assert_int_eq(sl_buf_append(b, content, clen), 0);
    for (unsigned i = 0; i < plen; i++)
        ck_assert_int_eq(sl_buf_append(b, "\x01", 1), 0);
}

static void rec_str(sl_buf *b, uint8_t type, uint16_t id, const char *s,
                    uint8_t plen)
{
    rec(b, type, id, s, strlen(s), plen);
}

static void begin_rec(sl_buf *b, uint16_t id, uint16_t role, uint8_t flags)
{
    unsigned char body[8] = { (unsigned char)(role >> 8), (unsigned char)role,
                              flags, 9, 9, 9, 9, 9 };
    rec(b, FCGI_BEGIN_REQUEST, id, body, 8, 0);
}

static void want_begin(ev_list *l, uint16_t id, uint16_t role, uint8_t flags)
{
    ev_rec *r = list_push(l);
    r->type = FCGI_EV_BEGIN;
    r->id = id;
    r->role = role;
    r->flags = flags;
    r->complete = 1;
}

static void want_simple(ev_list *l, enum fcgi_event_type t, uint16_t id)
{
    ev_rec *r = list_push(l);
    r->type = t;
    r->id = id;
    r->complete = 1;
}

static void want_unknown(ev_list *l, uint16_t id, uint8_t rec_type)
{
    ev_rec *r = list_push(l);
    r->type = FCGI_EV_UNKNOWN;
    r->id = id;
    r->rec_type = rec_type;
    r->complete = 1;
}

static void want_content(ev_list *l, enum fcgi_event_type t, uint16_t id,
                         const void *data, size_t len)
{
    ev_rec *r = list_push(l);
    r->type = t;
    r->id = id;
    r->end = len == 0;
    r->complete = 1;
    ck_assert_int_eq(sl_buf_append(&r->content, data, len), 0);
}

static void want_str(ev_list *l, enum fcgi_event_type t, uint16_t id,
                     const char *s)
{
    want_content(l, t, id, s, strlen(s));
}

static void want_error(ev_list *l, uint16_t id, const char *reason)
{
    ev_rec *r = list_push(l);
    r->type = FCGI_EV_ERROR;
    r->id = id;
    r->complete = 1;
    r->reason = reason;
}

/* Check a built stream against built expectations, then free both. */
static void check_and_free(sl_buf *b, ev_list *want)
{
    check_stream(b->data, b->len, want);
    sl_buf_free(b);
    list_free(want);
}

/* ---- decoder: record types ---------------------------------------------- */

START_TEST(test_begin_roles)
{
    static const uint16_t roles[] = { FCGI_RESPONDER, FCGI_AUTHORIZER,
                                      FCGI_FILTER, 0x1234 };
    static const uint8_t flags[] = { 0, FCGI_KEEP_CONN, 0xff };

    for (size_t r = 0; r < 4; r++) {
        for (size_t f = 0; f < 3; f++) {
            sl_buf b;
            ev_list w;
            sl_buf_init(&b);
            list_init(&w);
            begin_rec(&b, 1, roles[r], flags[f]);
            begin_rec(&b, 0xffff, roles[r], flags[f]);
            want_begin(&w, 1, roles[r], flags[f]);
            want_begin(&w, 0xffff, roles[r], flags[f]);
            check_and_free(&b, &w);
        }
    }
}
END_TEST

START_TEST(test_begin_padded)
{
    sl_buf b;
    ev_list w;
    unsigned char body[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };

    sl_buf_init(&b);
    list_init(&w);
    rec(&b, FCGI_BEGIN_REQUEST, 3, body, 8, 200);
    rec_str(&b, FCGI_PARAMS, 3, "", 0);
    want_begin(&w, 3, FCGI_RESPONDER, FCGI_KEEP_CONN);
    want_str(&w, FCGI_EV_PARAMS, 3, "");
    check_and_free(&b, &w);
}
END_TEST

START_TEST(test_abort)
{
    sl_buf b;
    ev_list w;

    sl_buf_init(&b);
    list_init(&w);
    rec(&b, FCGI_ABORT_REQUEST, 5, NULL, 0, 0);
    /* Lenient: content on ABORT is skipped. */
    rec_str(&b, FCGI_ABORT_REQUEST, 6, "junk!", 3);
    rec_str(&b, FCGI_STDIN, 6, "after", 0);
    want_simple(&w, FCGI_EV_ABORT, 5);
    want_simple(&w, FCGI_EV_ABORT, 6);
    want_str(&w, FCGI_EV_STDIN, 6, "after");
    check_and_free(&b, &w);
}
END_TEST

START_TEST(test_content_streams)
{
    static const struct { uint8_t type; enum fcgi_event_type ev; } t[] = {
        { FCGI_PARAMS, FCGI_EV_PARAMS },
        { FCGI_STDIN, FCGI_EV_STDIN },
        { FCGI_DATA, FCGI_EV_DATA },
    };

    for (size_t i = 0; i < 3; i++) {
        sl_buf b;
        ev_list w;
        sl_buf_init(&b);
        list_init(&w);
        rec_str(&b, t[i].type, 2, "hello", 3);
        rec_str(&b, t[i].type, 2, " world", 0);
        rec_str(&b, t[i].type, 2, "", 0);
        want_str(&w, t[i].ev, 2, "hello");
        want_str(&w, t[i].ev, 2, " world");
        want_str(&w, t[i].ev, 2, "");
        check_and_free(&b, &w);
    }
}
END_TEST

START_TEST(test_get_values)
{
    sl_buf b, q;
    ev_list w;

    sl_buf_init(&b);
    sl_buf_init(&q);
    list_init(&w);
    ck_assert_int_eq(fcgi_pair_encode(&q, "FCGI_MAX_CONNS", 14, "", 0), 0);
    rec(&b, FCGI_GET_VALUES, 0, q.data, q.len, 0);
    rec(&b, FCGI_GET_VALUES, 0, NULL, 0, 7);
    want_content(&w, FCGI_EV_GET_VALUES, 0, q.data, q.len);
    want_content(&w, FCGI_EV_GET_VALUES, 0, NULL, 0);
    check_and_free(&b, &w);
    sl_buf_free(&q);
}
END_TEST

/* Types only an application sends: reported as UNKNOWN, content skipped. */
START_TEST(test_app_only_types)
{
    static const uint8_t types[] = { FCGI_END_REQUEST, FCGI_STDOUT,
                                     FCGI_STDERR, FCGI_GET_VALUES_RESULT,
                                     FCGI_UNKNOWN_TYPE };

    for (size_t i = 0; i < 5; i++) {
        sl_buf b;
        ev_list w;
        sl_buf_init(&b);
        list_init(&w);
        rec_str(&b, types[i], 0, "skipped content", 1);
        rec_str(&b, types[i], 7, "", 5);
        rec_str(&b, FCGI_STDIN, 7, "x", 0);
        want_unknown(&w, 0, types[i]);
        want_unknown(&w, 7, types[i]);
        want_str(&w, FCGI_EV_STDIN, 7, "x");
        check_and_free(&b, &w);
    }
}
END_TEST

START_TEST(test_unknown_types)
{
    static const uint8_t types[] = { 0, 12, 100, 255 };

    for (size_t i = 0; i < 4; i++) {
        sl_buf b;
        ev_list w;
        sl_buf_init(&b);
        list_init(&w);
        rec_str(&b, types[i], 0, "management?", 5);
        rec_str(&b, types[i], 9, "", 0);
        rec_str(&b, FCGI_PARAMS, 9, "", 0);
        want_unknown(&w, 0, types[i]);
        want_unknown(&w, 9, types[i]);
        want_str(&w, FCGI_EV_PARAMS, 9, "");
        check_and_free(&b, &w);
    }
}
END_TEST

/* ---- decoder: event shape and timing ------------------------------------ */

/* Content arriving in three reads gives three events; `last` on the third. */
START_TEST(test_content_three_reads)
{
    sl_buf b;
    fcgi_decoder d;
    fcgi_event ev;

    sl_buf_init(&b);
    rec_str(&b, FCGI_STDIN, 4, "abcdefghi", 7);
    fcgi_decoder_init(&d);

    /* header + "abc" */
    ck_assert_uint_eq(fcgi_decode(&d, b.data, 11, &ev), 11);
    ck_assert_int_eq(ev.type, FCGI_EV_STDIN);
    ck_assert_uint_eq(ev.id, 4);
    ck_assert_ptr_eq(ev.data, b.data + 8);
    ck_assert_uint_eq(ev.len, 3);
    ck_assert_int_eq(ev.last, 0);
    ck_assert_int_eq(ev.end, 0);
    /* "def" */
    ck_assert_uint_eq(fcgi_decode(&d, b.data + 11, 3, &ev), 3);
    ck_assert_int_eq(ev.type, FCGI_EV_STDIN);
    ck_assert_ptr_eq(ev.data, b.data + 11);
    ck_assert_uint_eq(ev.len, 3);
    ck_assert_int_eq(ev.last, 0);
    /* "ghi" + 7 padding: the piece, then the padding on the next call. */
    ck_assert_uint_eq(fcgi_decode(&d, b.data + 14, 10, &ev), 3);
    ck_assert_int_eq(ev.type, FCGI_EV_STDIN);
    ck_assert_uint_eq(ev.len, 3);
    ck_assert_int_eq(ev.last, 1);
    ck_assert_int_eq(ev.end, 0);
    ck_assert_uint_eq(fcgi_decode(&d, b.data + 17, 7, &ev), 7);
    ck_assert_int_eq(ev.type, FCGI_EV_NONE);
    ck_assert_uint_eq(fcgi_decode(&d, b.data + 24, 0, &ev), 0);
    ck_assert_int_eq(ev.type, FCGI_EV_NONE);
    sl_buf_free(&b);
}
END_TEST

START_TEST(test_empty_record_shape)
{
    sl_buf b;
    fcgi_decoder d;
    fcgi_event ev;

    sl_buf_init(&b);
    rec(&b, FCGI_PARAMS, 0x0102, NULL, 0, 3);
    fcgi_decoder_init(&d);
    /* Emitted as soon as the header is complete, before the padding. */
    ck_assert_uint_eq(fcgi_decode(&d, b.data, b.len, &ev), 8);
    ck_assert_int_eq(ev.type, FCGI_EV_PARAMS);
    ck_assert_uint_eq(ev.id, 0x0102);
    ck_assert_uint_eq(ev.len, 0);
    ck_assert_int_eq(ev.last, 1);
    ck_assert_int_eq(ev.end, 1);
    ck_assert_uint_eq(fcgi_decode(&d, b.data + 8, 3, &ev), 3);
    ck_assert_int_eq(ev.type, FCGI_EV_NONE);
    sl_buf_free(&b);
}
END_TEST

/* UNKNOWN and ABORT come with the header, before any content arrives. */
START_TEST(test_header_only_events)
{
    sl_buf b;
    fcgi_decoder d;
    fcgi_event ev;

    sl_buf_init(&b);
    rec_str(&b, FCGI_STDOUT, 1, "12345678", 0);
    rec_str(&b, FCGI_ABORT_REQUEST, 1, "xy", 6);
    fcgi_decoder_init(&d);
    ck_assert_uint_eq(fcgi_decode(&d, b.data, 8, &ev), 8);
    ck_assert_int_eq(ev.type, FCGI_EV_UNKNOWN);
    ck_assert_uint_eq(ev.rec_type, FCGI_STDOUT);
    ck_assert_uint_eq(ev.id, 1);
    ck_assert_uint_eq(fcgi_decode(&d, b.data + 8, 8, &ev), 8);
    ck_assert_int_eq(ev.type, FCGI_EV_NONE);
    ck_assert_uint_eq(fcgi_decode(&d, b.data + 16, 8, &ev), 8);
    ck_assert_int_eq(ev.type, FCGI_EV_ABORT);
    ck_assert_uint_eq(ev.id, 1);
    ck_assert_uint_eq(fcgi_decode(&d, b.data + 24, 8, &ev), 8);
    ck_assert_int_eq(ev.type, FCGI_EV_NONE);
    sl_buf_free(&b);
}
END_TEST

START_TEST(test_truncated_header)
{
    sl_buf b;

    sl_buf_init(&b);
    begin_rec(&b, 1, FCGI_RESPONDER, 0);
    /* Any prefix of a header, or of the BEGIN body: no event, no error. */
    for (size_t n = 0; n < 16; n++) {
        ev_list got, none;
        list_init(&none);
        decode_whole(b.data, n, &got);
        matches_expected(&got, &none);
        list_free(&got);
    }
    sl_buf_free(&b);
}
END_TEST

START_TEST(test_truncated_content)
{
    sl_buf b;
    fcgi_decoder d;
    fcgi_event ev;

    sl_buf_init(&b);
    rec_str(&b, FCGI_STDIN, 1, "0123456789", 0);
    fcgi_decoder_init(&d);
    ck_assert_uint_eq(fcgi_decode(&d, b.data, 12, &ev), 12);
    ck_assert_int_eq(ev.type, FCGI_EV_STDIN);
    ck_assert_uint_eq(ev.len, 4);
    ck_assert_int_eq(ev.last, 0);
    ck_assert_uint_eq(fcgi_decode(&d, b.data + 12, 0, &ev), 0);
    ck_assert_int_eq(ev.type, FCGI_EV_NONE);
    sl_buf_free(&b);
}
END_TEST

/* ---- decoder: sizes ----------------------------------------------------- */

START_TEST(test_padding_all)
{
    char content[3] = { 'a', 'b', 'c' };

    for (unsigned p = 0; p <= 255; p++) {
        sl_buf b;
        ev_list w;
        sl_buf_init(&b);
        list_init(&w);
        rec(&b, FCGI_STDIN, 1, content, 3, (uint8_t)p);
        rec(&b, FCGI_STDIN, 1, NULL, 0, (uint8_t)p);
        rec(&b, FCGI_ABORT_REQUEST, 1, NULL, 0, (uint8_t)p);
        want_content(&w, FCGI_EV_STDIN, 1, content, 3);
        want_content(&w, FCGI_EV_STDIN, 1, NULL, 0);
        want_simple(&w, FCGI_EV_ABORT, 1);
        check_and_free(&b, &w);
    }
}
END_TEST

START_TEST(test_max_record)
{
    sl_buf b;
    ev_list w;
    char *big = malloc(65535);

    for (size_t i = 0; i < 65535; i++)
        big[i] = (char)(i * 7 + i / 251);
    sl_buf_init(&b);
    list_init(&w);
    rec(&b, FCGI_STDIN, 0xffff, big, 65535, 255);
    rec(&b, FCGI_PARAMS, 0xffff, big, 65535, 255);
    rec(&b, FCGI_STDIN, 0xffff, NULL, 0, 255);
    want_content(&w, FCGI_EV_STDIN, 0xffff, big, 65535);
    want_content(&w, FCGI_EV_PARAMS, 0xffff, big, 65535);
    want_content(&w, FCGI_EV_STDIN, 0xffff, NULL, 0);
    check_and_free(&b, &w);
    free(big);
}
END_TEST

/* Three requests on one connection, records interleaved. */
START_TEST(test_multiplexed)
{
    sl_buf b;
    ev_list w;

    sl_buf_init(&b);
    list_init(&w);
    begin_rec(&b, 1, FCGI_RESPONDER, FCGI_KEEP_CONN);
    begin_rec(&b, 2, FCGI_AUTHORIZER, FCGI_KEEP_CONN);
    rec_str(&b, FCGI_PARAMS, 1, "p1", 6);
    begin_rec(&b, 3, FCGI_FILTER, 0);
    rec_str(&b, FCGI_PARAMS, 2, "p2", 1);
    rec_str(&b, FCGI_PARAMS, 3, "p3", 0);
    rec_str(&b, FCGI_PARAMS, 1, "", 0);
    rec_str(&b, FCGI_PARAMS, 3, "", 0);
    rec_str(&b, FCGI_STDIN, 3, "s3", 2);
    rec_str(&b, FCGI_PARAMS, 2, "", 0);
    rec_str(&b, FCGI_STDIN, 1, "s1", 0);
    rec_str(&b, FCGI_ABORT_REQUEST, 2, "", 0);
    rec_str(&b, FCGI_DATA, 3, "d3", 0);
    rec_str(&b, FCGI_STDIN, 1, "", 0);
    rec_str(&b, FCGI_STDIN, 3, "", 0);
    rec_str(&b, FCGI_DATA, 3, "", 0);

    want_begin(&w, 1, FCGI_RESPONDER, FCGI_KEEP_CONN);
    want_begin(&w, 2, FCGI_AUTHORIZER, FCGI_KEEP_CONN);
    want_str(&w, FCGI_EV_PARAMS, 1, "p1");
    want_begin(&w, 3, FCGI_FILTER, 0);
    want_str(&w, FCGI_EV_PARAMS, 2, "p2");
    want_str(&w, FCGI_EV_PARAMS, 3, "p3");
    want_str(&w, FCGI_EV_PARAMS, 1, "");
    want_str(&w, FCGI_EV_PARAMS, 3, "");
    want_str(&w, FCGI_EV_STDIN, 3, "s3");
    want_str(&w, FCGI_EV_PARAMS, 2, "");
    want_str(&w, FCGI_EV_STDIN, 1, "s1");
    want_simple(&w, FCGI_EV_ABORT, 2);
    want_str(&w, FCGI_EV_DATA, 3, "d3");
    want_str(&w, FCGI_EV_STDIN, 1, "");
    want_str(&w, FCGI_EV_STDIN, 3, "");
    want_str(&w, FCGI_EV_DATA, 3, "");
    check_and_free(&b, &w);
}
END_TEST

/* ---- decoder: malformed input ------------------------------------------- */

START_TEST(test_bad_version)
{
    static const struct { uint8_t v; const char *reason; } t[] = {
        { 0, "unsupported FastCGI version 0" },
        { 2, "unsupported FastCGI version 2" },
        { 3, "unsupported FastCGI version 3" },
        { 255, "unsupported FastCGI version 255" },
    };

    for (size_t i = 0; i < 4; i++) {
        sl_buf b;
        ev_list w;
        sl_buf_init(&b);
        list_init(&w);
        begin_rec(&b, 1, FCGI_RESPONDER, 0);
        raw_header(&b, t[i].v, FCGI_BEGIN_REQUEST, 1, 8, 0);
        ck_assert_int_eq(sl_buf_append(&b, "\0\1\0\0\0\0\0\0", 8), 0);
        want_begin(&w, 1, FCGI_RESPONDER, 0);
        want_error(&w, 1, t[i].reason);
        check_and_free(&b, &w);

        /* Exact text, not only a prefix. */
        fcgi_decoder d;
        fcgi_event ev;
        unsigned char h[8] = { t[i].v, FCGI_STDIN, 0, 1, 0, 0, 0, 0 };
        fcgi_decoder_init(&d);
        fcgi_decode(&d, (const char *)h, 8, &ev);
        ck_assert_int_eq(ev.type, FCGI_EV_ERROR);
        ck_assert_str_eq(ev.reason, t[i].reason);
    }
}
END_TEST

START_TEST(test_begin_bad_length)
{
    static const uint16_t lens[] = { 0, 1, 7, 9, 16, 0xffff };

    for (size_t i = 0; i < 6; i++) {
        sl_buf b;
        ev_list w;
        sl_buf_init(&b);
        list_init(&w);
        raw_header(&b, 1, FCGI_BEGIN_REQUEST, 1, lens[i], 0);
        ck_assert_int_eq(sl_buf_append(&b, "\0\1\0\0\0\0\0\0\0\0", 10), 0);
        want_error(&w, 1, "BEGIN_REQUEST");
        check_and_free(&b, &w);
    }
}
END_TEST

START_TEST(test_request_id_zero)
{
    static const uint8_t types[] = { FCGI_BEGIN_REQUEST, FCGI_ABORT_REQUEST,
                                     FCGI_PARAMS, FCGI_STDIN, FCGI_DATA };

    for (size_t i = 0; i < 5; i++) {
        sl_buf b;
        ev_list w;
        unsigned char body[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
        sl_buf_init(&b);
        list_init(&w);
        rec(&b, types[i], 0, body, 8, 0);
        want_error(&w, 0, "request id 0");
        check_and_free(&b, &w);
    }
}
END_TEST

START_TEST(test_get_values_nonzero_id)
{
    static const uint16_t ids[] = { 1, 2, 0xffff };

    for (size_t i = 0; i < 3; i++) {
        sl_buf b;
        ev_list w;
        sl_buf_init(&b);
        list_init(&w);
        rec(&b, FCGI_GET_VALUES, 0, NULL, 0, 0);
        rec(&b, FCGI_GET_VALUES, ids[i], NULL, 0, 0);
        want_content(&w, FCGI_EV_GET_VALUES, 0, NULL, 0);
        want_error(&w, ids[i], "GET_VALUES");
        check_and_free(&b, &w);
    }
}
END_TEST

/* After an error nothing more is decoded, even perfectly good records. */
START_TEST(test_error_sticky)
{
    sl_buf b;
    fcgi_decoder d;
    fcgi_event ev;

    sl_buf_init(&b);
    rec_str(&b, FCGI_STDIN, 1, "ok", 0);
    rec_str(&b, FCGI_STDIN, 0, "bad", 0);
    rec_str(&b, FCGI_STDIN, 1, "never", 0);

    fcgi_decoder_init(&d);
    ck_assert_uint_eq(fcgi_decode(&d, b.data, b.len, &ev), 10);
    ck_assert_int_eq(ev.type, FCGI_EV_STDIN);
    /* The first error call consumes the offending header. */
    ck_assert_uint_eq(fcgi_decode(&d, b.data + 10, b.len - 10, &ev), 8);
    ck_assert_int_eq(ev.type, FCGI_EV_ERROR);
    const char *reason = ev.reason;
    for (size_t off = 18; off <= b.len; off++) {
        ck_assert_uint_eq(fcgi_decode(&d, b.data + off, b.len - off, &ev), 0);
        ck_assert_int_eq(ev.type, FCGI_EV_ERROR);
        ck_assert_str_eq(ev.reason, reason);
    }
    sl_buf_free(&b);
}
END_TEST

/* Garbage such as an HTTP request is rejected once a header is in. */
START_TEST(test_http_garbage)
{
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ev_list w;

    list_init(&w);
    want_error(&w, 0, "unsupported FastCGI version 71");
    /* 'G' is 71; the id is bytes 2..3 of the header: "T " */
    w.v[0].id = (uint16_t)(('T' << 8) | ' ');
    check_stream(req, strlen(req), &w);
    list_free(&w);
}
END_TEST

/*
 * Random well-framed streams (any type, any id, random sizes): whatever the
 * events are, every way of splitting the input must give the same ones.
 */
START_TEST(test_random_streams)
{
    uint32_t s = 12345;

    for (int round = 0; round < 60; round++) {
        sl_buf b;
        ev_list whole;
        char content[300];
        sl_buf_init(&b);
        int nrec = 1 + (int)(lcg(&s) % 6);
        for (int r = 0; r < nrec; r++) {
            uint8_t type = (uint8_t)(lcg(&s) % 13);
            uint16_t id = (uint16_t)(lcg(&s) % 4);
            size_t clen = lcg(&s) % 4 == 0 ? 8 : lcg(&s) % sizeof(content);
            for (size_t i = 0; i < clen; i++)
                content[i] = (char)lcg(&s);
            if (lcg(&s) % 8 == 0)
                clen = 0;
            rec(&b, type, id, content, clen, (uint8_t)(lcg(&s) % 20));
        }
        decode_whole(b.data, b.len, &whole);
        check_stream(b.data, b.len, &whole);
        list_free(&whole);
        sl_buf_free(&b);
    }
}
END_TEST

/* ---- name-value pairs --------------------------------------------------- */

/* Encode one pair of the given sizes and read it back. */
static void pair_roundtrip(size_t nlen, size_t vlen)
{
    sl_buf b;
    char *name = malloc(nlen + 1), *value = malloc(vlen + 1);
    const char *n, *v, *reason = NULL;
    size_t nl, vl, off = 0;

    for (size_t i = 0; i < nlen; i++)
        name[i] = (char)('A' + i % 26);
    for (size_t i = 0; i < vlen; i++)
        value[i] = (char)(i % 251);
    sl_buf_init(&b);
    ck_assert_int_eq(fcgi_pair_encode(&b, name, nlen, value, vlen), 0);
    size_t hl = (nlen < 128 ? 1 : 4) + (vlen < 128 ? 1 : 4);
    ck_assert_uint_eq(b.len, hl + nlen + vlen);
    ck_assert_int_eq(fcgi_pair_encode(&b, "Z", 1, "", 0), 0);

    /* Exact-size copy so overreads show up. */
    char *p = malloc(b.len);
    memcpy(p, b.data, b.len);
    ck_assert_int_eq(fcgi_pairs_next(p, b.len, &off, &n, &nl, &v, &vl,
                                     &reason), 1);
    ck_assert_uint_eq(nl, nlen);
    ck_assert_uint_eq(vl, vlen);
    ck_assert(memcmp(n, name, nlen) == 0);
    ck_assert(vlen == 0 || memcmp(v, value, vlen) == 0);
    ck_assert_int_eq(fcgi_pairs_next(p, b.len, &off, &n, &nl, &v, &vl,
                                     &reason), 1);
    ck_assert_uint_eq(nl, 1);
    ck_assert_uint_eq(vl, 0);
    ck_assert_int_eq(fcgi_pairs_next(p, b.len, &off, &n, &nl, &v, &vl,
                                     &reason), 0);
    ck_assert_uint_eq(off, b.len);

    /* Every strict prefix that cuts into the pair is malformed. */
    for (size_t cut = 1; cut < hl + nlen + vlen; cut += (cut < 300 ? 1 : 997)) {
        size_t o = 0;
        char *q = malloc(cut);
        memcpy(q, b.data, cut);
        ck_assert_int_eq(fcgi_pairs_next(q, cut, &o, &n, &nl, &v, &vl,
                                         &reason), -EINVAL);
        ck_assert_uint_eq(o, 0);
        free(q);
    }
    free(p);
    free(name);
    free(value);
    sl_buf_free(&b);
}

START_TEST(test_pairs_sizes)
{
    static const size_t names[] = { 1, 2, 127, 128, 65535 };
    static const size_t values[] = { 0, 1, 127, 128, 65535 };

    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 5; j++)
            pair_roundtrip(names[i], values[j]);
}
END_TEST

START_TEST(test_pair_encode_forms)
{
    sl_buf b;
    char big[200];

    memset(big, 'x', sizeof(big));
    sl_buf_init(&b);
    ck_assert_int_eq(fcgi_pair_encode(&b, big, 127, big, 128), 0);
    ck_assert_uint_eq((unsigned char)b.data[0], 127);
    ck_assert(memcmp(b.data + 1, "\x80\x00\x00\x80", 4) == 0);
    sl_buf_free(&b);

    ck_assert_int_eq(fcgi_pair_encode(&b, big, 200, "", 0), 0);
    ck_assert(memcmp(b.data, "\x80\x00\x00\xc8\x00", 5) == 0);
    sl_buf_free(&b);
}
END_TEST

START_TEST(test_pair_encode_e2big)
{
    sl_buf b;

    sl_buf_init(&b);
    /* The lengths are checked before anything is read. */
    ck_assert_int_eq(fcgi_pair_encode(&b, "n", 0x80000000UL, "", 0), -E2BIG);
    ck_assert_int_eq(fcgi_pair_encode(&b, "n", 1, "v", 0x80000000UL),
                     -E2BIG);
    ck_assert_int_eq(fcgi_pair_encode(&b, "n", (size_t)-1, "v", 1), -E2BIG);
    ck_assert_uint_eq(b.len, 0);
    sl_buf_free(&b);
}
END_TEST

START_TEST(test_pairs_nonminimal)
{
    /* 4-byte lengths for short strings are valid. */
    static const char s[] = "\x80\x00\x00\x03\x80\x00\x00\x00" "abc"
                            "\x01\x80\x00\x00\x02" "Xyz";
    const char *n, *v, *reason;
    size_t nl, vl, off = 0, len = sizeof(s) - 1;

    ck_assert_int_eq(fcgi_pairs_next(s, len, &off, &n, &nl, &v, &vl,
                                     &reason), 1);
    ck_assert_uint_eq(nl, 3);
    ck_assert(memcmp(n, "abc", 3) == 0);
    ck_assert_uint_eq(vl, 0);
    ck_assert_int_eq(fcgi_pairs_next(s, len, &off, &n, &nl, &v, &vl,
                                     &reason), 1);
    ck_assert_uint_eq(nl, 1);
    ck_assert(memcmp(n, "X", 1) == 0);
    ck_assert_uint_eq(vl, 2);
    ck_assert(memcmp(v, "yz", 2) == 0);
    ck_assert_int_eq(fcgi_pairs_next(s, len, &off, &n, &nl, &v, &vl,
                                     &reason), 0);
}
END_TEST

/* One malformed stream: -1, *off untouched, a reason containing `why`. */
static void pairs_bad(const void *s, size_t len, size_t off, const char *why)
{
    const char *n = NULL, *v = NULL, *reason = NULL;
    size_t nl = 0, vl = 0, o = off;
    char *p = malloc(len ? len : 1);

    memcpy(p, s, len);
    ck_assert_int_eq(fcgi_pairs_next(p, len, &o, &n, &nl, &v, &vl, &reason),
                     -EINVAL);
    ck_assert_uint_eq(o, off);
    ck_assert_ptr_nonnull(reason);
    ck_assert_msg(strstr(reason, why) != NULL, "reason \"%s\"", reason);
    free(p);
}

START_TEST(test_pairs_malformed)
{
    pairs_bad("\x00\x01x", 3, 0, "empty parameter name");
    pairs_bad("\x00\x00", 2, 0, "empty parameter name");
    pairs_bad("\x80\x00\x00\x00\x00", 5, 0, "empty parameter name");
    pairs_bad("\x05\x00" "abc", 5, 0, "name");
    pairs_bad("\x03\x05" "abcde", 7, 0, "value");
    pairs_bad("\x03", 1, 0, "length");
    pairs_bad("\x80", 1, 0, "length");
    pairs_bad("\x80\x00", 2, 0, "length");
    pairs_bad("\x80\x00\x00", 3, 0, "length");
    pairs_bad("\x01\x80\x00\x00", 4, 0, "length");
    /* Huge lengths against a short stream, with no overflow on the way. */
    pairs_bad("\xff\xff\xff\xff\x01" "ab", 7, 0, "name");
    pairs_bad("\x7f\xff\xff\xff\x01" "ab", 7, 0, "name");
    pairs_bad("\x01\xff\xff\xff\xff" "ab", 7, 0, "value");
    pairs_bad("\x81\x00\x00\x00\xff\xff\xff\xff" "a", 9, 0, "name");
    pairs_bad("\x01\x80\x00\x00\x01" "a", 6, 0, "value");
    /* A good pair followed by a bad one: fails at the second. */
    pairs_bad("\x01\x01" "ab" "\x02\x7f" "cd", 8, 4, "value");
    pairs_bad("ab", 2, 3, "past the end");
}
END_TEST

START_TEST(test_pairs_empty_stream)
{
    const char *n, *v, *reason;
    size_t nl, vl, off = 0;

    ck_assert_int_eq(fcgi_pairs_next(NULL, 0, &off, &n, &nl, &v, &vl,
                                     &reason), 0);
    ck_assert_uint_eq(off, 0);
}
END_TEST

/* Random bytes: never an overread, *off only moves forward, within len. */
START_TEST(test_pairs_random)
{
    uint32_t s = 777;

    for (int round = 0; round < 2000; round++) {
        size_t len = lcg(&s) % 40;
        char *p = malloc(len ? len : 1);
        const char *n, *v, *reason;
        size_t nl, vl, off = 0, prev = 0;
        int rc;
        for (size_t i = 0; i < len; i++) {
            /* Mostly small lengths, so some pairs parse. */
            uint32_t r = lcg(&s);
            p[i] = (char)(r % 4 == 0 ? r >> 8 : r % 6);
        }
        while ((rc = fcgi_pairs_next(p, len, &off, &n, &nl, &v, &vl,
                                     &reason)) == 1) {
            REQUIRE(off > prev && off <= len);
            REQUIRE(n >= p && v + vl == p + off && nl > 0);
            prev = off;
        }
        REQUIRE(off == prev);
        REQUIRE(rc == 0 ? off == len : reason != NULL);
        free(p);
    }
}
END_TEST

/* PARAMS split over records, with a 4-byte length straddling a boundary. */
START_TEST(test_params_to_pairs)
{
    sl_buf pairs, b, acc;
    char big[300];
    fcgi_decoder d;
    fcgi_event ev;
    const char *n, *v, *reason;
    size_t nl, vl, off = 0, pos = 0;

    memset(big, 'v', sizeof(big));
    sl_buf_init(&pairs);
    sl_buf_init(&b);
    sl_buf_init(&acc);
    ck_assert_int_eq(fcgi_pair_encode(&pairs, "SCRIPT_NAME", 11, "/x", 2), 0);
    ck_assert_int_eq(fcgi_pair_encode(&pairs, "BIG", 3, big, 300), 0);
    ck_assert_int_eq(fcgi_pair_encode(&pairs, "EMPTY", 5, "", 0), 0);
    rec(&b, FCGI_PARAMS, 1, pairs.data, 16, 0);     /* ends inside a length */
    rec(&b, FCGI_PARAMS, 1, pairs.data + 16, pairs.len - 16, 3);
    rec(&b, FCGI_PARAMS, 1, NULL, 0, 0);

    fcgi_decoder_init(&d);
    for (;;) {
        size_t c = fcgi_decode(&d, b.data + pos, b.len - pos, &ev);
        pos += c;
        if (ev.type == FCGI_EV_PARAMS && ev.end)
            break;
        if (ev.type == FCGI_EV_PARAMS)
            ck_assert_int_eq(sl_buf_append(&acc, ev.data, ev.len), 0);
        ck_assert(ev.type == FCGI_EV_PARAMS || c > 0);
    }
    ck_assert_uint_eq(pos, b.len);
    ck_assert_int_eq(fcgi_pairs_next(acc.data, acc.len, &off, &n, &nl, &v,
                                     &vl, &reason), 1);
    ck_assert(nl == 11 && memcmp(n, "SCRIPT_NAME", 11) == 0);
    ck_assert(vl == 2 && memcmp(v, "/x", 2) == 0);
    ck_assert_int_eq(fcgi_pairs_next(acc.data, acc.len, &off, &n, &nl, &v,
                                     &vl, &reason), 1);
    ck_assert(nl == 3 && vl == 300 && memcmp(v, big, 300) == 0);
    ck_assert_int_eq(fcgi_pairs_next(acc.data, acc.len, &off, &n, &nl, &v,
                                     &vl, &reason), 1);
    ck_assert(nl == 5 && vl == 0);
    ck_assert_int_eq(fcgi_pairs_next(acc.data, acc.len, &off, &n, &nl, &v,
                                     &vl, &reason), 0);
    sl_buf_free(&pairs);
    sl_buf_free(&b);
    sl_buf_free(&acc);
}
END_TEST

/* ---- encoders ----------------------------------------------------------- */

/*
 * An independent reader for encoder output: checks every record's framing
 * and collects the content of records of `type` for `id`.  Returns the
 * number of records.
 */
static size_t read_records(const sl_buf *b, uint8_t type, uint16_t id,
                           sl_buf *content)
{
    const unsigned char *p = (const unsigned char *)b->data;
    size_t off = 0, count = 0;

    while (off < b->len) {
        ck_assert_uint_ge(b->len - off, 8);
        const unsigned char *h = p + off;
        size_t clen = (size_t)h[4] << 8 | h[5], plen = h[6];
        ck_assert_uint_eq(h[0], 1);
        ck_assert_uint_eq(h[1], type);
        ck_assert_uint_eq((unsigned)(h[2] << 8 | h[3]), id);
        ck_assert_uint_eq(h[7], 0);
        ck_assert_uint_le(clen, 65535);
        ck_assert_uint_lt(plen, 8);
        ck_assert_uint_eq((clen + plen) % 8, 0);
        ck_assert_uint_ge(b->len - off - 8, clen + plen);
        ck_assert_int_eq(sl_buf_append(content, h + 8, clen), 0);
        for (size_t i = 0; i < plen; i++)
            ck_assert_uint_eq(h[8 + clen + i], 0);
        off += 8 + clen + plen;
        count++;
    }
    return count;
}

static void stream_case(size_t len, size_t want_records)
{
    sl_buf out, got;
    char *data = malloc(len ? len : 1);

    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i ^ (i >> 8) ^ (i >> 16));
    sl_buf_init(&out);
    sl_buf_init(&got);
    ck_assert_int_eq(fcgi_encode_stream(&out, FCGI_STDOUT, 0x0201, data, len),
                     0);
    ck_assert_uint_eq(read_records(&out, FCGI_STDOUT, 0x0201, &got),
                      want_records);
    ck_assert_uint_eq(got.len, len);
    ck_assert(len == 0 || memcmp(got.data, data, len) == 0);
    sl_buf_free(&out);
    sl_buf_free(&got);
    free(data);
}

START_TEST(test_stream_200k)
{
    stream_case(200 * 1024, 4);
}
END_TEST

START_TEST(test_stream_sizes)
{
    stream_case(0, 0);
    stream_case(1, 1);
    stream_case(7, 1);
    stream_case(8, 1);
    stream_case(9, 1);
    stream_case(65527, 1);
    stream_case(65528, 1);
    stream_case(65529, 2);
    stream_case(65535, 2);
    stream_case(65536, 2);
    stream_case(2 * 65528, 2);
    stream_case(2 * 65528 + 1, 3);
}
END_TEST

START_TEST(test_stream_stderr_appends)
{
    sl_buf out, got;

    sl_buf_init(&out);
    sl_buf_init(&got);
    ck_assert_int_eq(fcgi_encode_stream(&out, FCGI_STDERR, 3, "oops", 4), 0);
    ck_assert_int_eq(fcgi_encode_stream(&out, FCGI_STDERR, 3, "!", 1), 0);
    ck_assert_int_eq(fcgi_encode_stream_end(&out, FCGI_STDERR, 3), 0);
    ck_assert_uint_eq(read_records(&out, FCGI_STDERR, 3, &got), 3);
    ck_assert_uint_eq(got.len, 5);
    ck_assert(memcmp(got.data, "oops!", 5) == 0);
    ck_assert_uint_eq(out.len, 16 + 16 + 8);
    sl_buf_free(&out);
    sl_buf_free(&got);
}
END_TEST

/* Encode as STDIN so our own decoder can read it back. */
START_TEST(test_stream_decoder_roundtrip)
{
    size_t len = 150000;
    char *data = malloc(len);
    sl_buf out;
    ev_list w;

    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i * 31);
    sl_buf_init(&out);
    list_init(&w);
    ck_assert_int_eq(fcgi_encode_stream(&out, FCGI_STDIN, 9, data, len), 0);
    ck_assert_int_eq(fcgi_encode_stream_end(&out, FCGI_STDIN, 9), 0);
    want_content(&w, FCGI_EV_STDIN, 9, data, 65528);
    want_content(&w, FCGI_EV_STDIN, 9, data + 65528, 65528);
    want_content(&w, FCGI_EV_STDIN, 9, data + 131056, len - 131056);
    want_content(&w, FCGI_EV_STDIN, 9, NULL, 0);
    check_and_free(&out, &w);
    free(data);
}
END_TEST

START_TEST(test_stream_end_bytes)
{
    sl_buf out;

    sl_buf_init(&out);
    ck_assert_int_eq(fcgi_encode_stream_end(&out, FCGI_STDOUT, 0xabcd), 0);
    ck_assert_uint_eq(out.len, 8);
    ck_assert(memcmp(out.data, "\x01\x06\xab\xcd\x00\x00\x00\x00", 8) == 0);
    sl_buf_free(&out);
}
END_TEST

START_TEST(test_end_request_bytes)
{
    sl_buf out;
    static const unsigned char want[] = {
        1, FCGI_END_REQUEST, 0x12, 0x34, 0, 8, 0, 0,
        0xde, 0xad, 0xbe, 0xef, FCGI_OVERLOADED, 0, 0, 0,
        1, FCGI_END_REQUEST, 0, 1, 0, 8, 0, 0,
        0, 0, 0, 0, FCGI_REQUEST_COMPLETE, 0, 0, 0,
    };

    sl_buf_init(&out);
    ck_assert_int_eq(fcgi_encode_end_request(&out, 0x1234, 0xdeadbeefu,
                                             FCGI_OVERLOADED), 0);
    ck_assert_int_eq(fcgi_encode_end_request(&out, 1, 0,
                                             FCGI_REQUEST_COMPLETE), 0);
    ck_assert_uint_eq(out.len, sizeof(want));
    ck_assert(memcmp(out.data, want, sizeof(want)) == 0);
    sl_buf_free(&out);
}
END_TEST

START_TEST(test_unknown_type_bytes)
{
    sl_buf out;
    static const unsigned char want[] = {
        1, FCGI_UNKNOWN_TYPE, 0, 0, 0, 8, 0, 0,
        200, 0, 0, 0, 0, 0, 0, 0,
    };

    sl_buf_init(&out);
    ck_assert_int_eq(fcgi_encode_unknown_type(&out, 200), 0);
    ck_assert_uint_eq(out.len, sizeof(want));
    ck_assert(memcmp(out.data, want, sizeof(want)) == 0);
    sl_buf_free(&out);
}
END_TEST

/* Run a GET_VALUES query; return the result content in *content. */
static void get_values(const sl_buf *query, const fcgi_limits *lim,
                       sl_buf *content)
{
    sl_buf out;

    sl_buf_init(&out);
    ck_assert_int_eq(fcgi_encode_get_values_result(&out, query->data,
                                                   query->len, lim), 0);
    ck_assert_uint_eq(read_records(&out, FCGI_GET_VALUES_RESULT, 0, content),
                      1);
    sl_buf_free(&out);
}

static void expect_pair(const sl_buf *c, size_t *off, const char *name,
                        const char *value)
{
    const char *n, *v, *reason;
    size_t nl, vl;

    ck_assert_int_eq(fcgi_pairs_next(c->data, c->len, off, &n, &nl, &v, &vl,
                                     &reason), 1);
    ck_assert_uint_eq(nl, strlen(name));
    ck_assert(memcmp(n, name, nl) == 0);
    ck_assert_uint_eq(vl, strlen(value));
    ck_assert(memcmp(v, value, vl) == 0);
}

static void query_add(sl_buf *q, const char *name)
{
    ck_assert_int_eq(fcgi_pair_encode(q, name, strlen(name), "", 0), 0);
}

START_TEST(test_get_values_result)
{
    fcgi_limits lim = { 100, 1000, 1 };
    sl_buf q, c;
    size_t off = 0;

    sl_buf_init(&q);
    sl_buf_init(&c);
    query_add(&q, FCGI_MPXS_CONNS);
    query_add(&q, "FCGI_UNKNOWN_THING");
    query_add(&q, FCGI_MAX_REQS);
    query_add(&q, FCGI_MPXS_CONNS);
    query_add(&q, "FCGI_MAX");
    query_add(&q, "FCGI_MAX_CONNSX");
    query_add(&q, FCGI_MAX_REQS);
    query_add(&q, FCGI_MAX_CONNS);
    get_values(&q, &lim, &c);
    expect_pair(&c, &off, FCGI_MPXS_CONNS, "1");
    expect_pair(&c, &off, FCGI_MAX_REQS, "1000");
    expect_pair(&c, &off, FCGI_MAX_CONNS, "100");
    ck_assert_uint_eq(off, c.len);
    sl_buf_free(&q);
    sl_buf_free(&c);
}
END_TEST

START_TEST(test_get_values_result_extremes)
{
    fcgi_limits lim = { 0, UINT_MAX, 0 };
    sl_buf q, c;
    size_t off = 0;

    sl_buf_init(&q);
    sl_buf_init(&c);
    query_add(&q, FCGI_MAX_CONNS);
    query_add(&q, FCGI_MAX_REQS);
    /* A value in the query is ignored. */
    ck_assert_int_eq(fcgi_pair_encode(&q, FCGI_MPXS_CONNS, 15, "7", 1), 0);
    get_values(&q, &lim, &c);
    expect_pair(&c, &off, FCGI_MAX_CONNS, "0");
    expect_pair(&c, &off, FCGI_MAX_REQS, "4294967295");
    expect_pair(&c, &off, FCGI_MPXS_CONNS, "0");
    ck_assert_uint_eq(off, c.len);
    sl_buf_free(&q);
    sl_buf_free(&c);
}
END_TEST

START_TEST(test_get_values_result_empty)
{
    fcgi_limits lim = { 1, 1, 0 };
    sl_buf out, q;

    sl_buf_init(&out);
    sl_buf_init(&q);
    ck_assert_int_eq(fcgi_encode_get_values_result(&out, NULL, 0, &lim), 0);
    ck_assert_uint_eq(out.len, 8);
    ck_assert(memcmp(out.data, "\x01\x0a\x00\x00\x00\x00\x00\x00", 8) == 0);
    sl_buf_free(&out);

    /* Only unknown names: also an empty result. */
    query_add(&q, "NOPE");
    ck_assert_int_eq(fcgi_encode_get_values_result(&out, q.data, q.len,
                                                   &lim), 0);
    ck_assert_uint_eq(out.len, 8);
    ck_assert(memcmp(out.data, "\x01\x0a\x00\x00\x00\x00\x00\x00", 8) == 0);
    sl_buf_free(&out);
    sl_buf_free(&q);
}
END_TEST

START_TEST(test_get_values_result_malformed)
{
    fcgi_limits lim = { 1, 1, 0 };
    sl_buf out, q;

    sl_buf_init(&out);
    sl_buf_init(&q);
    ck_assert_int_eq(sl_buf_append(&out, "keep", 4), 0);
    query_add(&q, FCGI_MAX_CONNS);
    ck_assert_int_eq(sl_buf_append(&q, "\x05\x00" "ab", 4), 0);
    ck_assert_int_eq(fcgi_encode_get_values_result(&out, q.data, q.len,
                                                   &lim), -EINVAL);
    ck_assert_int_eq(fcgi_encode_get_values_result(&out, "\x80", 1, &lim),
                     -EINVAL);
    ck_assert_int_eq(fcgi_encode_get_values_result(&out, "\x00", 1, &lim),
                     -EINVAL);
    /* Nothing written on failure. */
    ck_assert_uint_eq(out.len, 4);
    sl_buf_free(&out);
    sl_buf_free(&q);
}
END_TEST

/*
 * Names we do not know are left out, however odd: an empty one, or one
 * longer than 255 bytes (4-byte length form), among known ones.
 */
START_TEST(test_get_values_result_odd_names)
{
    fcgi_limits lim = { 100, 1000, 1 };
    static char longname[300];
    sl_buf q, c;
    size_t off = 0;

    memset(longname, 'N', sizeof(longname));
    sl_buf_init(&q);
    sl_buf_init(&c);
    query_add(&q, FCGI_MAX_CONNS);
    ck_assert_int_eq(fcgi_pair_encode(&q, "", 0, "", 0), 0);
    ck_assert_int_eq(fcgi_pair_encode(&q, longname, sizeof(longname), "", 0),
                     0);
    ck_assert_int_eq(fcgi_pair_encode(&q, "", 0, "value", 5), 0);
    query_add(&q, FCGI_MPXS_CONNS);
    ck_assert_int_eq(fcgi_pair_encode(&q, longname, 255, "", 0), 0);
    ck_assert_int_eq(fcgi_pair_encode(&q, longname, 256, "", 0), 0);
    query_add(&q, FCGI_MAX_REQS);
    get_values(&q, &lim, &c);
    expect_pair(&c, &off, FCGI_MAX_CONNS, "100");
    expect_pair(&c, &off, FCGI_MPXS_CONNS, "1");
    expect_pair(&c, &off, FCGI_MAX_REQS, "1000");
    ck_assert_uint_eq(off, c.len);

    sl_buf_free(&q);
    sl_buf_free(&c);

    /* Only an empty name: an empty answer. */
    sl_buf only, none;
    sl_buf_init(&only);
    sl_buf_init(&none);
    ck_assert_int_eq(fcgi_pair_encode(&only, "", 0, "", 0), 0);
    get_values(&only, &lim, &none);
    ck_assert_uint_eq(none.len, 0);
    sl_buf_free(&only);
    sl_buf_free(&none);
}
END_TEST

/* ---- runner ------------------------------------------------------------- */

static Suite *fcgi_suite(void)
{
    Suite *s = suite_create("fcgi");
    TCase *dec = tcase_create("decoder");
    TCase *bad = tcase_create("malformed");
    TCase *pairs = tcase_create("pairs");
    TCase *enc = tcase_create("encoders");

    /* Exhaustive splitting of the large records takes a while under ASan. */
    tcase_set_timeout(dec, 300);
    tcase_add_test(dec, test_begin_roles);
    tcase_add_test(dec, test_begin_padded);
    tcase_add_test(dec, test_abort);
    tcase_add_test(dec, test_content_streams);
    tcase_add_test(dec, test_get_values);
    tcase_add_test(dec, test_app_only_types);
    tcase_add_test(dec, test_unknown_types);
    tcase_add_test(dec, test_content_three_reads);
    tcase_add_test(dec, test_empty_record_shape);
    tcase_add_test(dec, test_header_only_events);
    tcase_add_test(dec, test_truncated_header);
    tcase_add_test(dec, test_truncated_content);
    tcase_add_test(dec, test_padding_all);
    tcase_add_test(dec, test_max_record);
    tcase_add_test(dec, test_multiplexed);
    tcase_add_test(dec, test_random_streams);
    suite_add_tcase(s, dec);

    tcase_add_test(bad, test_bad_version);
    tcase_add_test(bad, test_begin_bad_length);
    tcase_add_test(bad, test_request_id_zero);
    tcase_add_test(bad, test_get_values_nonzero_id);
    tcase_add_test(bad, test_error_sticky);
    tcase_add_test(bad, test_http_garbage);
    suite_add_tcase(s, bad);

    tcase_add_test(pairs, test_pairs_sizes);
    tcase_add_test(pairs, test_pair_encode_forms);
    tcase_add_test(pairs, test_pair_encode_e2big);
    tcase_add_test(pairs, test_pairs_nonminimal);
    tcase_add_test(pairs, test_pairs_malformed);
    tcase_add_test(pairs, test_pairs_empty_stream);
    tcase_add_test(pairs, test_pairs_random);
    tcase_add_test(pairs, test_params_to_pairs);
    suite_add_tcase(s, pairs);

    tcase_set_timeout(enc, 120);
    tcase_add_test(enc, test_stream_200k);
    tcase_add_test(enc, test_stream_sizes);
    tcase_add_test(enc, test_stream_stderr_appends);
    tcase_add_test(enc, test_stream_decoder_roundtrip);
    tcase_add_test(enc, test_stream_end_bytes);
    tcase_add_test(enc, test_end_request_bytes);
    tcase_add_test(enc, test_unknown_type_bytes);
    tcase_add_test(enc, test_get_values_result);
    tcase_add_test(enc, test_get_values_result_extremes);
    tcase_add_test(enc, test_get_values_result_empty);
    tcase_add_test(enc, test_get_values_result_malformed);
    tcase_add_test(enc, test_get_values_result_odd_names);
    suite_add_tcase(s, enc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fcgi_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
