/*
 * conn_input.c: what a connection's input means (see conn.h): FastCGI
 * records and the SCGI request, the requests they make, and the requests
 * refused before their input is all in.  The connection as a stream is
 * conn.c's.
 *
 * A request refused before its input is all in (413, 431, 400) is answered
 * at once, and the rest of its input is read and dropped: closing, or
 * stopping reading, with bytes unread would reset the connection, and the
 * web server, still sending the body, would answer 502 instead of ours.
 * On a kept FastCGI connection that is until the request's empty STDIN;
 * otherwise the web server sends no more once it has the answer and waits
 * for our close to end it (SCGI, and FastCGI without FCGI_KEEP_CONN), so
 * the connection closes by lingering (conn.c).  Both are bounded, in bytes
 * by cs->max_dropped, in time by the read timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/cgi.h"
#include "proto/scgi.h"
#include "util/log.h"
#include "worker/conn.h"

/* Requests still running are detached and cancelled; the rest are freed,
 * and the refused ones forgotten. */
void sl_conn_release_requests(sl_conn *c)
{
    while (c->reqs != NULL) {
        sl_req *r = c->reqs;
        c->reqs = r->next;
        r->next = NULL;
        r->conn = NULL;
        if (r->state == SL_REQ_RUNNING)
            sl_conns_host_cancel(c->conns, r);
        else
            sl_conns_host_req_free(c->conns, r);
    }
    c->nreqs = 0;
    c->conns->arriving -= c->arriving;
    c->arriving = 0;
    free(c->refused);
    c->refused = NULL;
    c->nrefused = c->refused_cap = 0;
}

static void unlink_req(sl_conn *c, sl_req *req)
{
    for (sl_req **p = &c->reqs; *p != NULL; p = &(*p)->next) {
        if (*p == req) {
            *p = req->next;
            req->next = NULL;
            c->nreqs--;
            return;
        }
    }
}

/* A request's input is complete (or will never be): one fewer arriving. */
static void arrived(sl_conn *c)
{
    c->arriving--;
    c->conns->arriving--;
}

/* Nothing left in progress on a connection not kept: close it; else set
 * the timeout for what is left. */
static void maybe_close(sl_conn *c)
{
    if (sl_conn_in_progress(c) == 0 && (!c->keep || c->conns->draining))
        sl_conn_close_after_writes(c);
    else
        sl_conn_arm_timer(c);
}

void sl_conn_request_done(sl_conn *c, sl_req *req)
{
    unlink_req(c, req);
    req->conn = NULL;
    sl_conn_idle_from_now(c);
    maybe_close(c);
}

static sl_req *find_req(sl_conn *c, uint16_t id)
{
    for (sl_req *r = c->reqs; r != NULL; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

static void send_end_request(sl_conn *c, uint16_t id, uint8_t pstatus)
{
    sl_buf b;
    sl_buf_init(&b);
    if (fcgi_encode_end_request(&b, id, 0, pstatus) < 0) {
        sl_buf_free(&b);
        sl_conn_close(c, "out of memory");
        return;
    }
    sl_conn_send(c, &b);
}

/* ---- refused requests ------------------------------------------------- */

/* Index of a refused FastCGI request id whose input still comes, or -1. */
static int refused_find(const sl_conn *c, uint16_t id)
{
    for (unsigned i = 0; i < c->nrefused; i++)
        if (c->refused[i] == id)
            return (int)i;
    return -1;
}

static int refused_add(sl_conn *c, uint16_t id)
{
    if (c->nrefused == c->refused_cap) {
        /* At most --max-conn-requests of them: they count as in progress. */
        unsigned cap = c->refused_cap ? c->refused_cap * 2 : 2;
        uint16_t *p = realloc(c->refused, cap * sizeof *p);
        if (p == NULL)
            return -ENOMEM;
        c->refused = p;
        c->refused_cap = cap;
    }
    c->refused[c->nrefused++] = id;
    return 0;
}

/* That refused request's input has ended: it is over. */
static void refused_done(sl_conn *c, int i)
{
    c->refused[i] = c->refused[--c->nrefused];
    if (c->nrefused == 0) {
        c->dropped = 0;
        if (c->refused_cap > 8) {
            free(c->refused);
            c->refused = NULL;
            c->refused_cap = 0;
        }
    }
    arrived(c);
    sl_conn_idle_from_now(c);
    maybe_close(c);
}

/*
 * Answer `r` with `status` before its input is all in, and drop the rest of
 * that input as it comes (see the top of this file): on a kept FastCGI
 * connection until its empty STDIN, whatever CONTENT_LENGTH says (records
 * frame it); otherwise by lingering once nothing else is in progress.
 */
static void refuse(sl_conn *c, sl_req *r, int status, const char *detail)
{
    if (c->proto == SL_PROTO_FASTCGI && c->keep && !c->conns->draining) {
        if (refused_add(c, r->id) < 0) {
            sl_conn_close(c, "out of memory");
            return;
        }
    } else {
        arrived(c);
        c->linger = 1;
    }
    sl_conns_host_reject(c->conns, r, status, detail);
}

/* ---- FastCGI ---------------------------------------------------------- */

/*
 * A request ended at its BEGIN_REQUEST (another role, or overloaded): on a
 * connection not kept with nothing else in progress, the answer is the
 * last, and the rest of that request may still be coming: linger.
 */
static void end_at_begin(sl_conn *c, uint16_t id, uint8_t pstatus)
{
    send_end_request(c, id, pstatus);
    if (!c->closing && !c->keep && sl_conn_in_progress(c) == 0) {
        c->linger = 1;
        sl_conn_close_after_writes(c);
    }
}

static void fcgi_begin(sl_conn *c, const fcgi_event *ev)
{
    sl_conns *cs = c->conns;
    if (find_req(c, ev->id) != NULL || refused_find(c, ev->id) >= 0) {
        sl_conn_close(c, "BEGIN_REQUEST for a request id already in progress");
        return;
    }
    c->keep = (ev->flags & FCGI_KEEP_CONN) != 0;
    if (ev->role != FCGI_RESPONDER) {
        end_at_begin(c, ev->id, FCGI_UNKNOWN_ROLE);
        return;
    }
    /*
     * Per connection (--max-conn-requests), and per worker for requests
     * still arriving (see sl_conns_init): each holds its parameters and body
     * as they come.
     */
    if (sl_conn_in_progress(c) >= cs->max_reqs_per_conn || cs->arriving >= cs->max_arriving) {
        end_at_begin(c, ev->id, FCGI_OVERLOADED);
        return;
    }
    sl_req *r = sl_conns_host_req_new(cs, c, SL_PROTO_FASTCGI, ev->id);
    if (r == NULL) {
        sl_conn_close(c, "out of memory");
        return;
    }
    r->keep_conn = c->keep;
    r->next = c->reqs;
    c->reqs = r;
    c->nreqs++;
    c->arriving++;
    cs->arriving++;
}

/*
 * The parameters are in: refuse what cannot be served before its body is
 * read.  Returns 1 when the request was answered.
 */
static int check_request_head(sl_conn *c, sl_req *r)
{
    if (r->params_dropped) {
        refuse(c, r, 431, "the request's parameters exceed --max-params-size");
        return 1;
    }
    if (sl_cgi_content_length(sl_req_known(r, SL_P_CLEN), &r->content_length) < 0) {
        refuse(c, r, 400, "CONTENT_LENGTH is not a number");
        return 1;
    }
    if (r->content_length > c->conns->max_body) {
        refuse(c, r, 413, "the request body exceeds --max-body-size");
        return 1;
    }
    return 0;
}

static void fcgi_params(sl_conn *c, const fcgi_event *ev)
{
    sl_req *r = find_req(c, ev->id);
    if (r == NULL)
        return;     /* not an active request: ignored, as the spec says */
    if (r->state != SL_REQ_PARAMS) {
        sl_conn_close(c, "PARAMS after the end of the parameters");
        return;
    }
    /*
     * Past the limit the parameters are counted and dropped, not stored, so
     * the request can still get its 431 once they end.
     */
    if (!r->params_dropped && ev->len > c->conns->max_params - r->raw_params.len) {
        r->params_dropped = 1;
        sl_buf_free(&r->raw_params);
    }
    if (!r->params_dropped && sl_buf_append(&r->raw_params, ev->data, ev->len) < 0) {
        sl_conn_close(c, "out of memory");
        return;
    }
    if (!ev->end)
        return;
    if (!r->params_dropped) {
        const char *err = sl_req_params_from_fcgi(r);
        if (err != NULL) {
            sl_conn_close(c, err);
            return;
        }
    }
    check_request_head(c, r);
}

/* STDIN for no request in progress: a refused request's, dropped until its
 * end; any other is ignored, as the spec says. */
static void fcgi_stdin_dropped(sl_conn *c, const fcgi_event *ev)
{
    int i = refused_find(c, ev->id);
    if (i < 0 || sl_conn_drop(c, ev->len) < 0)
        return;
    if (ev->end)
        refused_done(c, i);
}

static void fcgi_stdin(sl_conn *c, const fcgi_event *ev)
{
    sl_req *r = find_req(c, ev->id);
    if (r == NULL) {
        fcgi_stdin_dropped(c, ev);
        return;
    }
    if (r->state != SL_REQ_BODY) {
        sl_conn_close(c, r->state == SL_REQ_PARAMS ? "STDIN before the end of PARAMS"
                                                   : "STDIN after the end of the body");
        return;
    }
    if (ev->len > r->content_length - r->body.len) {
        sl_conn_close(c, "STDIN longer than CONTENT_LENGTH");
        return;
    }
    if (sl_buf_append(&r->body, ev->data, ev->len) < 0) {
        sl_conn_close(c, "out of memory");
        return;
    }
    if (!ev->end)
        return;
    if (r->body.len < r->content_length) {
        sl_conn_close(c, "STDIN shorter than CONTENT_LENGTH");
        return;
    }
    arrived(c);
    sl_conns_host_dispatch(c->conns, r);
}

static void fcgi_abort(sl_conn *c, const fcgi_event *ev)
{
    sl_req *r = find_req(c, ev->id);
    if (r == NULL) {
        /* A refused request was answered already: only forget it. */
        int i = refused_find(c, ev->id);
        if (i >= 0)
            refused_done(c, i);
        return;
    }
    unlink_req(c, r);
    r->conn = NULL;
    send_end_request(c, ev->id, FCGI_REQUEST_COMPLETE);
    if (r->state == SL_REQ_RUNNING) {
        sl_conns_host_cancel(c->conns, r);
    } else {
        arrived(c);
        sl_conns_host_req_free(c->conns, r);
    }
    if (c->closing)
        return;
    sl_conn_idle_from_now(c);
    maybe_close(c);
}

static void fcgi_get_values(sl_conn *c, const fcgi_event *ev)
{
    if (sl_buf_append(&c->mgmt, ev->data, ev->len) < 0) {
        sl_conn_close(c, "out of memory");
        return;
    }
    if (!ev->last)
        return;
    sl_buf b;
    sl_buf_init(&b);
    int rc = fcgi_encode_get_values_result(&b, c->mgmt.data, c->mgmt.len,
                                           &c->conns->limits);
    /* Its room goes too: a peer could otherwise make every connection
     * keep a record's worth. */
    sl_buf_free(&c->mgmt);
    if (rc < 0) {
        sl_buf_free(&b);
        sl_conn_close(c, "malformed GET_VALUES");
        return;
    }
    sl_conn_send(c, &b);
}

static void fcgi_unknown(sl_conn *c, const fcgi_event *ev)
{
    /* Types that only an application sends have no business coming here. */
    switch (ev->rec_type) {
    case FCGI_END_REQUEST:
    case FCGI_STDOUT:
    case FCGI_STDERR:
    case FCGI_GET_VALUES_RESULT:
    case FCGI_UNKNOWN_TYPE: {
        char why[80];
        snprintf(why, sizeof why, "record type %u is sent only by applications",
                 ev->rec_type);
        sl_conn_close(c, why);
        return;
    }
    }
    sl_buf b;
    sl_buf_init(&b);
    if (fcgi_encode_unknown_type(&b, ev->rec_type) < 0) {
        sl_buf_free(&b);
        sl_conn_close(c, "out of memory");
        return;
    }
    sl_conn_send(c, &b);
}

static void fcgi_event_dispatch(sl_conn *c, const fcgi_event *ev)
{
    switch (ev->type) {
    case FCGI_EV_BEGIN: fcgi_begin(c, ev); break;
    case FCGI_EV_PARAMS: fcgi_params(c, ev); break;
    case FCGI_EV_STDIN: fcgi_stdin(c, ev); break;
    case FCGI_EV_ABORT: fcgi_abort(c, ev); break;
    case FCGI_EV_GET_VALUES: fcgi_get_values(c, ev); break;
    case FCGI_EV_UNKNOWN: fcgi_unknown(c, ev); break;
    case FCGI_EV_ERROR: sl_conn_close(c, ev->reason); break;
    case FCGI_EV_DATA:
    case FCGI_EV_NONE: break;
    }
}

/* Decode and act on records until the input runs out, the connection
 * closes, or too much of what it made us write is queued. */
static size_t fcgi_feed(sl_conn *c, const char *data, size_t len)
{
    size_t off = 0;
    while (!c->closing && !c->out_paused) {
        fcgi_event ev;
        size_t n = fcgi_decode(&c->dec, data + off, len - off, &ev);
        off += n;
        if (ev.type == FCGI_EV_NONE && n == 0)
            break;
        fcgi_event_dispatch(c, &ev);
    }
    return off;
}

/* ---- SCGI ------------------------------------------------------------- */

/* The connection's one request, arriving; NULL when out of memory. */
static sl_req *scgi_new_req(sl_conn *c)
{
    sl_req *r = sl_conns_host_req_new(c->conns, c, SL_PROTO_SCGI, 0);
    if (r == NULL)
        return NULL;
    r->next = c->reqs;
    c->reqs = r;
    c->nreqs = 1;
    c->arriving++;
    c->conns->arriving++;
    c->scgi_req_started = 1;
    c->keep = 0;
    return r;
}

static const char *scgi_start(sl_conn *c, const scgi_header *h)
{
    sl_req *r = scgi_new_req(c);
    if (r == NULL)
        return "out of memory";
    size_t off = 0;
    const char *name, *value;
    while (scgi_pairs_next(h, &off, &name, &value) == 1)
        if (sl_req_add_param(r, name, strlen(name), value, strlen(value)) < 0)
            return "out of memory";
    if (sl_req_index_params(r) < 0)
        return "out of memory";
    r->state = SL_REQ_BODY;
    check_request_head(c, r);
    return NULL;
}

/*
 * A header block longer than --max-params-size: 431 without reading it,
 * as FastCGI parameters past the limit are dropped.  The block and the
 * body are dropped by the lingering close that follows.
 */
static const char *scgi_too_large(sl_conn *c)
{
    sl_req *r = scgi_new_req(c);
    if (r == NULL)
        return "out of memory";
    r->params_dropped = 1;
    r->state = SL_REQ_BODY;
    check_request_head(c, r);
    return NULL;
}

static size_t scgi_feed(sl_conn *c, const char *data, size_t len)
{
    size_t off = 0;
    if (!c->scgi_req_started) {
        scgi_header h;
        const char *reason = NULL;
        int rc = scgi_parse_header(data, len, c->conns->max_params, &h, &reason);
        if (rc == SCGI_NEED_MORE)
            return 0;
        if (rc == SCGI_TOO_LARGE) {
            const char *err = scgi_too_large(c);
            if (err != NULL)
                sl_conn_close(c, err);
            return len;
        }
        if (rc == SCGI_ERROR) {
            sl_conn_close(c, reason ? reason : "malformed SCGI header");
            return 0;
        }
        const char *err = scgi_start(c, &h);
        if (err != NULL) {
            sl_conn_close(c, err);
            return 0;
        }
        off = h.consumed;
    }
    if (c->closing)
        return len;
    sl_req *r = c->reqs;
    if (r == NULL || r->state != SL_REQ_BODY)
        return len;     /* bytes past the body: nothing may follow */
    size_t want = (size_t)(r->content_length - r->body.len);
    size_t have = len - off;
    size_t take = have < want ? have : want;
    if (sl_buf_append(&r->body, data + off, take) < 0) {
        sl_conn_close(c, "out of memory");
        return 0;
    }
    off += take;
    if (r->body.len == r->content_length) {
        arrived(c);
        sl_conns_host_dispatch(c->conns, r);
    }
    return len;
}

/* ---- both ------------------------------------------------------------- */

size_t sl_conn_feed(sl_conn *c, const char *data, size_t len)
{
    return c->proto == SL_PROTO_FASTCGI ? fcgi_feed(c, data, len)
                                        : scgi_feed(c, data, len);
}
