/*
 * fuzz_fcgi_decode: the FastCGI decoder (src/proto/fcgi.c) over a whole
 * connection byte stream.
 *
 * Input: byte 0 low nibble = n, the next n bytes are chunk sizes (size+1,
 * cycled) for a third, input-chosen way of splitting; the rest is the
 * stream.  The stream is fed whole, byte by byte, and in those chunks, each
 * call seeing exactly the unconsumed bytes at the end of a heap block (so
 * ASan catches any read past `len`).  Checks:
 *   - consumed <= len; every non-error event consumes at least one byte;
 *   - content slices lie inside the consumed part of the given buffer;
 *   - event fields are consistent (ids, len > 0 unless end, ...);
 *   - ERROR is sticky: later calls consume 0 and repeat the reason;
 *   - the three feeds give the same event sequence (content concatenated
 *     per record);
 *   - completed PARAMS streams (accumulated per id, bounded) and GET_VALUES
 *     records go through fcgi_pairs_next: slices inside, progress, and *off
 *     untouched on -1.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/fcgi.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAX_STREAMS 8
#define MAX_PARAMS (64 * 1024)

/* Normalized event log: one entry per event, content pieces merged. */
typedef struct {
    sl_buf log;
    size_t open;            /* offset of the open content entry's length, or 0 */
    int have_open;
} norm;

static void put(sl_buf *b, const void *p, size_t n)
{
    CHECK(sl_buf_append(b, p, n) == 0);
}

static void norm_event(norm *nm, const fcgi_event *ev)
{
    int content = ev->type == FCGI_EV_PARAMS || ev->type == FCGI_EV_STDIN ||
                  ev->type == FCGI_EV_DATA || ev->type == FCGI_EV_GET_VALUES;

    if (content && nm->have_open) {
        /* Continuation of the open record: append, update last. */
        put(&nm->log, ev->data, ev->len);
        uint32_t l;
        memcpy(&l, nm->log.data + nm->open, 4);
        l += (uint32_t)ev->len;
        memcpy(nm->log.data + nm->open, &l, 4);
        nm->log.data[nm->open - 1] = (char)ev->last;
        nm->have_open = !ev->last;
        return;
    }
    CHECK(!nm->have_open);          /* no other event inside a record */
    unsigned char h[9] = {
        (unsigned char)ev->type, (unsigned char)(ev->id >> 8),
        (unsigned char)ev->id, (unsigned char)(ev->role >> 8),
        (unsigned char)ev->role, ev->flags, ev->rec_type,
        (unsigned char)ev->end, (unsigned char)ev->last
    };
    put(&nm->log, h, sizeof(h));
    if (ev->type == FCGI_EV_ERROR)
        put(&nm->log, ev->reason, strlen(ev->reason));
    if (content) {
        uint32_t l = (uint32_t)ev->len;
        nm->open = nm->log.len;
        put(&nm->log, &l, 4);
        put(&nm->log, ev->data, ev->len);
        nm->have_open = !ev->last;
    }
}

static void check_event(const fcgi_event *ev, const char *in, size_t len,
                        size_t n)
{
    CHECK(n <= len);
    switch (ev->type) {
    case FCGI_EV_NONE:
        return;
    case FCGI_EV_ERROR:
        CHECK(ev->reason != NULL);
        return;
    case FCGI_EV_PARAMS: case FCGI_EV_STDIN: case FCGI_EV_DATA:
    case FCGI_EV_GET_VALUES:
        CHECK((ev->type == FCGI_EV_GET_VALUES) == (ev->id == 0));
        if (ev->end) {
            CHECK(ev->len == 0 && ev->last);
        } else {
            CHECK(ev->len > 0);
            CHECK(ev->data >= in && ev->data + ev->len <= in + n);
        }
        break;
    case FCGI_EV_BEGIN: case FCGI_EV_ABORT:
        CHECK(ev->id != 0);
        break;
    case FCGI_EV_UNKNOWN:
        CHECK(ev->rec_type != FCGI_BEGIN_REQUEST &&
              ev->rec_type != FCGI_ABORT_REQUEST &&
              ev->rec_type != FCGI_PARAMS && ev->rec_type != FCGI_STDIN &&
              ev->rec_type != FCGI_DATA && ev->rec_type != FCGI_GET_VALUES);
        break;
    default:
        abort();
    }
    CHECK(n > 0);                   /* every real event makes progress */
}

/*
 * Feed `s` in chunks (sizes from `sz`, cycled, +1; nsz == 0: all at once)
 * and log normalized events.  The unconsumed bytes always sit at the very
 * end of one heap block, so a read past `len` hits the redzone.
 */
static void feed(const char *s, size_t len, const unsigned char *sz,
                 size_t nsz, norm *nm)
{
    fcgi_decoder d;
    fcgi_event ev;
    char *blk = malloc(len ? len : 1), *end = blk + len;
    size_t have = 0, pos = 0, k = 0;

    CHECK(blk != NULL);
    fcgi_decoder_init(&d);
    for (;;) {
        /* New bytes arrive after the unconsumed ones. */
        size_t chunk = nsz ? (size_t)sz[k++ % nsz] + 1 : len;
        if (chunk > len - pos)
            chunk = len - pos;
        if (have > 0)
            memmove(end - have - chunk, end - have, have);
        if (chunk > 0)
            memcpy(end - chunk, s + pos, chunk);
        have += chunk;
        pos += chunk;

        for (;;) {
            const char *in = end - have;
            size_t n = fcgi_decode(&d, in, have, &ev);
            check_event(&ev, in, have, n);
            have -= n;
            if (ev.type == FCGI_EV_ERROR) {
                norm_event(nm, &ev);
                /* Sticky: more calls, even with bytes, change nothing. */
                const char *why = ev.reason;
                CHECK(fcgi_decode(&d, end - have, have, &ev) == 0);
                CHECK(ev.type == FCGI_EV_ERROR && ev.reason == why);
                CHECK(fcgi_decode(&d, s, len, &ev) == 0);
                CHECK(ev.type == FCGI_EV_ERROR && ev.reason == why);
                free(blk);
                return;
            }
            if (ev.type == FCGI_EV_NONE)
                break;
            norm_event(nm, &ev);
        }
        if (pos == len)
            break;
    }
    free(blk);
}

/* A complete pairs stream: walk it, checking slices and progress. */
static void walk_pairs(const char *p, size_t len)
{
    const char *name, *value, *reason = NULL;
    size_t nlen, vlen, off = 0, prev;
    int rc;

    /* Exact-size copy so that reads past the end are caught. */
    char *c = malloc(len ? len : 1);
    CHECK(c != NULL);
    if (len > 0)
        memcpy(c, p, len);
    for (;;) {
        prev = off;
        rc = fcgi_pairs_next(c, len, &off, &name, &nlen, &value, &vlen,
                             &reason);
        if (rc != 1)
            break;
        CHECK(off > prev && off <= len);
        CHECK(nlen > 0 && name >= c + prev && name + nlen <= c + off);
        CHECK(value == name + nlen && value + vlen == c + off);
    }
    if (rc == 0)
        CHECK(off == len);
    else
        CHECK(rc == -EINVAL && off == prev && reason != NULL);
    free(c);
}

/* Walk the normalized log of the whole feed for PARAMS / GET_VALUES. */
static void check_pairs(const sl_buf *log)
{
    struct { uint16_t id; sl_buf b; } st[MAX_STREAMS];
    size_t nst = 0, i = 0;

    while (i < log->len) {
        const unsigned char *h = (const unsigned char *)log->data + i;
        int type = h[0];
        uint16_t id = (uint16_t)(h[1] << 8 | h[2]);
        i += 9;
        if (type == FCGI_EV_ERROR)
            break;
        if (type != FCGI_EV_PARAMS && type != FCGI_EV_STDIN &&
            type != FCGI_EV_DATA && type != FCGI_EV_GET_VALUES)
            continue;
        uint32_t l;
        memcpy(&l, log->data + i, 4);
        const char *data = log->data + i + 4;
        i += 4 + l;
        if (type == FCGI_EV_GET_VALUES) {
            if (h[8])                   /* only complete records */
                walk_pairs(data, l);
            continue;
        }
        if (type != FCGI_EV_PARAMS)
            continue;
        size_t k;
        for (k = 0; k < nst && st[k].id != id; k++)
            ;
        if (k == nst) {
            if (nst == MAX_STREAMS)
                continue;
            st[nst].id = id;
            sl_buf_init(&st[nst++].b);
        }
        if (l == 0) {                   /* end of the stream */
            walk_pairs(st[k].b.data, st[k].b.len);
            st[k].b.len = 0;
        } else if (st[k].b.len + l <= MAX_PARAMS) {
            put(&st[k].b, data, l);
        }
    }
    for (size_t k = 0; k < nst; k++)
        sl_buf_free(&st[k].b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char one[1] = { 0 }, seven[1] = { 6 };
    norm whole = {0}, bytes = {0}, chunks = {0};

    if (size == 0)
        return 0;
    size_t nsz = data[0] & 15;
    if (nsz > size - 1)
        nsz = size - 1;
    const unsigned char *sz = data + 1;
    const char *s = (const char *)data + 1 + nsz;
    size_t len = size - 1 - nsz;

    feed(s, len, NULL, 0, &whole);
    feed(s, len, one, 1, &bytes);
    feed(s, len, nsz ? sz : seven, nsz ? nsz : 1, &chunks);
    CHECK(whole.log.len == bytes.log.len && whole.log.len == chunks.log.len);
    CHECK(whole.log.len == 0 ||
          (memcmp(whole.log.data, bytes.log.data, whole.log.len) == 0 &&
           memcmp(whole.log.data, chunks.log.data, whole.log.len) == 0));
    check_pairs(&whole.log);
    sl_buf_free(&whole.log);
    sl_buf_free(&bytes.log);
    sl_buf_free(&chunks.log);
    return 0;
}
