/*
 * fuzz_fcgi_roundtrip: the FastCGI encoders (src/proto/fcgi.c), checked by an
 * independent reader.
 *
 * The input is a connection stream, decoded with fcgi_decode.  Each
 * completed request (BEGIN + end of PARAMS + end of STDIN) is answered with
 * fcgi_encode_stream(STDOUT) of a body derived from its params (sometimes
 * longer than one record), fcgi_encode_stream_end and
 * fcgi_encode_end_request; each complete GET_VALUES record with
 * fcgi_encode_get_values_result; each UNKNOWN record with
 * fcgi_encode_unknown_type.  Every answer is re-read by the minimal reader
 * below (not the project's decoder) and must be: version 1 records with
 * padding to a multiple of 8 and exactly filling the output; only STDOUT,
 * END_REQUEST, GET_VALUES_RESULT, UNKNOWN_TYPE; STDOUT content equal to
 * what was encoded, closed by one empty STDOUT and then an 8-byte
 * END_REQUEST; GET_VALUES_RESULT pairs that parse, answer each known name
 * asked for exactly once with the right value.  abort() on any violation.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/fcgi.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAX_REQS 8
#define MAX_ACC (64 * 1024)

/* ---- the independent reader ---------------------------------------------- */

typedef struct { int type; unsigned id; const unsigned char *c; size_t clen; } rec;

/* Split out[0..len) into records; every byte must belong to one. */
static size_t read_records(const unsigned char *p, size_t len, rec *r,
                           size_t max)
{
    size_t off = 0, n = 0;

    while (off < len) {
        CHECK(len - off >= 8 && n < max);
        const unsigned char *h = p + off;
        size_t clen = (size_t)h[4] << 8 | h[5], plen = h[6];
        CHECK(h[0] == 1);
        CHECK(h[1] == FCGI_STDOUT || h[1] == FCGI_END_REQUEST ||
              h[1] == FCGI_GET_VALUES_RESULT || h[1] == FCGI_UNKNOWN_TYPE);
        CHECK(clen <= 65535 && plen < 256 && (clen + plen) % 8 == 0);
        CHECK(len - off - 8 >= clen + plen);
        r[n].type = h[1];
        r[n].id = (unsigned)h[2] << 8 | h[3];
        r[n].c = h + 8;
        r[n].clen = clen;
        n++;
        off += 8 + clen + plen;
    }
    return n;
}

/* Independent FastCGI pair reader for GET_VALUES: 1 ok, 0 end, -1
 * malformed framing.  An empty name is a name we do not know, left out of
 * the answer, not an error. */
static int pair(const unsigned char *p, size_t len, size_t *off,
                const unsigned char **n, size_t *nl,
                const unsigned char **v, size_t *vl)
{
    size_t o = *off, l[2];

    if (o == len)
        return 0;
    for (int k = 0; k < 2; k++) {
        if (o >= len)
            return -1;
        if (p[o] < 0x80) {
            l[k] = p[o++];
        } else {
            if (len - o < 4)
                return -1;
            l[k] = ((size_t)(p[o] & 0x7f) << 24) | (size_t)p[o + 1] << 16 |
                   (size_t)p[o + 2] << 8 | p[o + 3];
            o += 4;
        }
    }
    if (l[0] > len - o || l[1] > len - o - l[0])
        return -1;
    *n = p + o; *nl = l[0]; *v = p + o + l[0]; *vl = l[1];
    *off = o + l[0] + l[1];
    return 1;
}

/* ---- answers ---------------------------------------------------------- */

static void answer_request(uint16_t id, const sl_buf *params, size_t stdin_len,
                           int *big_done)
{
    sl_buf body, out;
    const char *name, *value, *why;
    size_t nlen, vlen, off = 0;
    unsigned sum = 0;

    sl_buf_init(&body);
    sl_buf_init(&out);
    CHECK(sl_buf_append_str(&body, "Status: 200 OK\r\n\r\n") == 0);
    while (fcgi_pairs_next(params->data, params->len, &off, &name, &nlen,
                           &value, &vlen, &why) == 1) {
        CHECK(sl_buf_append(&body, name, nlen) == 0);
        CHECK(sl_buf_append(&body, "=", 1) == 0);
        CHECK(sl_buf_append(&body, value, vlen) == 0);
        CHECK(sl_buf_append(&body, "\n", 1) == 0);
        for (size_t i = 0; i < vlen; i++)
            sum = sum * 31 + (unsigned char)value[i];
    }
    /*
     * Filler so that some bodies cross the 65528-byte record boundary: at
     * most one such body per input, or streams of many requests crawl.
     */
    size_t fill = sum % 600;
    if ((sum + stdin_len) % 8 == 0 && !*big_done) {
        fill = 65520 + sum % 32;
        *big_done = 1;
    }
    CHECK(sl_buf_reserve(&body, fill) == 0);
    for (size_t i = 0; i < fill; i++)
        body.data[body.len++] = "0123456789abcdef"[i & 15];
    uint32_t status = sum ^ (uint32_t)stdin_len;

    CHECK(fcgi_encode_stream(&out, FCGI_STDOUT, id, body.data, body.len) == 0);
    CHECK(fcgi_encode_stream_end(&out, FCGI_STDOUT, id) == 0);
    CHECK(fcgi_encode_end_request(&out, id, status, FCGI_REQUEST_COMPLETE) == 0);

    rec r[16];
    size_t n = read_records((unsigned char *)out.data, out.len, r, 16), got = 0;
    CHECK(n >= 2);
    for (size_t i = 0; i + 2 < n; i++) {        /* the STDOUT content */
        CHECK(r[i].type == FCGI_STDOUT && r[i].id == id && r[i].clen > 0);
        CHECK(got + r[i].clen <= body.len);
        CHECK(memcmp(r[i].c, body.data + got, r[i].clen) == 0);
        got += r[i].clen;
    }
    CHECK(got == body.len);
    CHECK(r[n - 2].type == FCGI_STDOUT && r[n - 2].id == id && r[n - 2].clen == 0);
    const unsigned char *e = r[n - 1].c;
    CHECK(r[n - 1].type == FCGI_END_REQUEST && r[n - 1].id == id);
    CHECK(r[n - 1].clen == 8);
    CHECK(((uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 |
           e[3]) == status && e[4] == FCGI_REQUEST_COMPLETE);
    sl_buf_free(&body);
    sl_buf_free(&out);
}

static void answer_get_values(const char *q, size_t qlen, unsigned seed)
{
    static const char *const names[3] = {
        FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS
    };
    fcgi_limits lim = { seed * 2654435761u, seed % 1000, (int)(seed & 1) };
    char want[3][16];
    unsigned asked = 0;
    const unsigned char *n, *v;
    size_t nl, vl, off = 0;
    int rc;
    sl_buf out;

    snprintf(want[0], 16, "%u", lim.max_conns);
    snprintf(want[1], 16, "%u", lim.max_reqs);
    snprintf(want[2], 16, "%d", lim.mpxs_conns);
    while ((rc = pair((const unsigned char *)q, qlen, &off, &n, &nl, &v, &vl)) == 1)
        for (int k = 0; k < 3; k++)
            if (nl == strlen(names[k]) && memcmp(n, names[k], nl) == 0)
                asked |= 1u << k;

    sl_buf_init(&out);
    CHECK(sl_buf_append(&out, "x", 1) == 0);    /* must stay untouched */
    int erc = fcgi_encode_get_values_result(&out, q, qlen, &lim);
    if (rc < 0) {
        CHECK(erc == -EINVAL && out.len == 1);
        sl_buf_free(&out);
        return;
    }
    CHECK(erc == 0 && out.data[0] == 'x');

    rec r[2];
    CHECK(read_records((unsigned char *)out.data + 1, out.len - 1, r, 1) == 1);
    CHECK(r[0].type == FCGI_GET_VALUES_RESULT && r[0].id == 0);
    unsigned seen = 0;
    off = 0;
    while ((rc = pair(r[0].c, r[0].clen, &off, &n, &nl, &v, &vl)) == 1) {
        int k;
        for (k = 0; k < 3; k++)
            if (nl == strlen(names[k]) && memcmp(n, names[k], nl) == 0)
                break;
        CHECK(k < 3 && !(seen & (1u << k)));
        seen |= 1u << k;
        CHECK(vl == strlen(want[k]) && memcmp(v, want[k], vl) == 0);
    }
    CHECK(rc == 0 && seen == asked);
    sl_buf_free(&out);
}

static void answer_unknown(uint8_t type)
{
    sl_buf out;
    rec r[2];
    static const unsigned char zeros[7];

    sl_buf_init(&out);
    CHECK(fcgi_encode_unknown_type(&out, type) == 0);
    CHECK(read_records((unsigned char *)out.data, out.len, r, 1) == 1);
    CHECK(r[0].type == FCGI_UNKNOWN_TYPE && r[0].id == 0 && r[0].clen == 8);
    CHECK(r[0].c[0] == type && memcmp(r[0].c + 1, zeros, 7) == 0);
    sl_buf_free(&out);
}

/* ---- the connection ---------------------------------------------------- */

typedef struct {
    int used, params_done, stdin_done;
    uint16_t id;
    sl_buf params;
    size_t stdin_len;
} req;

static req *find(req *t, uint16_t id, int create)
{
    req *free_slot = NULL;
    for (int i = 0; i < MAX_REQS; i++) {
        if (t[i].used && t[i].id == id)
            return &t[i];
        if (!t[i].used && free_slot == NULL)
            free_slot = &t[i];
    }
    if (!create || free_slot == NULL)
        return NULL;
    free_slot->used = 1;
    free_slot->id = id;
    return free_slot;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    req t[MAX_REQS];
    sl_buf gv;
    fcgi_decoder d;
    fcgi_event ev;
    size_t off = 0;
    int big_done = 0;

    memset(t, 0, sizeof(t));
    sl_buf_init(&gv);
    fcgi_decoder_init(&d);
    for (;;) {
        size_t n = fcgi_decode(&d, (const char *)data + off, size - off, &ev);
        off += n;
        if (ev.type == FCGI_EV_ERROR || (ev.type == FCGI_EV_NONE && n == 0))
            break;
        req *r = ev.type == FCGI_EV_BEGIN ? find(t, ev.id, 1)
                                          : find(t, ev.id, 0);
        switch (ev.type) {
        case FCGI_EV_BEGIN:
            if (r == NULL)
                break;
            r->params_done = r->stdin_done = 0;
            r->stdin_len = 0;
            r->params.len = 0;
            break;
        case FCGI_EV_PARAMS:
            if (r == NULL || r->params_done)
                break;
            if (ev.end)
                r->params_done = 1;
            else if (r->params.len + ev.len <= MAX_ACC)
                CHECK(sl_buf_append(&r->params, ev.data, ev.len) == 0);
            break;
        case FCGI_EV_STDIN:
            if (r == NULL || r->stdin_done)
                break;
            r->stdin_len += ev.len;
            r->stdin_done = ev.end;
            break;
        case FCGI_EV_ABORT:
            if (r != NULL)
                r->used = 0;
            break;
        case FCGI_EV_GET_VALUES:
            if (gv.len + ev.len <= MAX_ACC)
                CHECK(sl_buf_append(&gv, ev.data, ev.len) == 0);
            if (ev.last) {
                answer_get_values(gv.data, gv.len, (unsigned)off);
                gv.len = 0;
            }
            break;
        case FCGI_EV_UNKNOWN:
            answer_unknown(ev.rec_type);
            break;
        default:
            break;
        }
        if (r != NULL && r->used && r->params_done && r->stdin_done) {
            answer_request(r->id, &r->params, r->stdin_len, &big_done);
            r->used = 0;
        }
    }
    for (int i = 0; i < MAX_REQS; i++)
        sl_buf_free(&t[i].params);
    sl_buf_free(&gv);
    return 0;
}
