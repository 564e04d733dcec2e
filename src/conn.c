#define _GNU_SOURCE
/*
 * conn.c: a connection from the web server (see conn.h).
 *
 * Bytes are read into c->in and decoded in place; the codec hands out
 * slices of c->in, which stay valid until the read callback returns and
 * the decoded bytes are dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include "conn.h"
#include "log.h"
#include "scgi.h"
#include "worker.h"

#define READ_CHUNK 65536

typedef struct write_req {
    uv_write_t req;
    sl_buf buf;
} write_req;

static void on_close(uv_handle_t *h)
{
    sl_conn *c = h->data;
    sl_worker *w = c->worker;
    sl_buf_free(&c->in);
    sl_buf_free(&c->mgmt);
    free(c);
    sl_worker_conn_gone(w);
}

static void unlink_conn(sl_conn *c)
{
    sl_worker *w = c->worker;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    w->nconns--;
}

/* Requests still running are detached and cancelled; the rest are freed. */
static void release_requests(sl_conn *c)
{
    while (c->reqs != NULL) {
        sl_req *r = c->reqs;
        c->reqs = r->next;
        r->next = NULL;
        r->conn = NULL;
        if (r->state == SL_REQ_RUNNING)
            sl_worker_cancel(c->worker, r);
        else
            sl_req_free(r);
    }
    c->nreqs = 0;
}

void sl_conn_close(sl_conn *c, const char *reason)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (reason != NULL)
        sl_warn("closing connection from %s: %s", c->peer, reason);
    release_requests(c);
    unlink_conn(c);
    uv_close(&c->u.handle, on_close);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    (void)status;
    sl_conn *c = s->handle->data;
    free(s);
    uv_close(&c->u.handle, on_close);
}

/* Close after the queued writes are out. */
static void close_after_writes(sl_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    release_requests(c);
    unlink_conn(c);
    uv_read_stop(&c->u.stream);
    uv_shutdown_t *s = malloc(sizeof *s);
    if (s == NULL || uv_shutdown(s, &c->u.stream, on_shutdown) < 0) {
        free(s);
        uv_close(&c->u.handle, on_close);
    }
}

static void on_write(uv_write_t *wr, int status)
{
    write_req *w = (write_req *)wr;
    sl_conn *c = wr->handle->data;
    sl_buf_free(&w->buf);
    free(w);
    c->pending_writes--;
    if (status < 0 && status != UV_ECANCELED && !c->closing)
        sl_conn_close(c, uv_strerror(status));
}

void sl_conn_send(sl_conn *c, sl_buf *b)
{
    if (c->closing || b->len == 0) {
        sl_buf_free(b);
        return;
    }
    write_req *w = malloc(sizeof *w);
    if (w == NULL) {
        sl_buf_free(b);
        sl_conn_close(c, "out of memory");
        return;
    }
    w->buf = *b;
    sl_buf_init(b);
    uv_buf_t ub = uv_buf_init(w->buf.data, (unsigned)w->buf.len);
    int rc = uv_write(&w->req, &c->u.stream, &ub, 1, on_write);
    if (rc < 0) {
        sl_buf_free(&w->buf);
        free(w);
        sl_conn_close(c, uv_strerror(rc));
        return;
    }
    c->pending_writes++;
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

void sl_conn_request_done(sl_conn *c, sl_req *req)
{
    unlink_req(c, req);
    req->conn = NULL;
    if (c->nreqs == 0 && (!c->keep || c->worker->draining))
        close_after_writes(c);
}

void sl_conn_drain(sl_conn *c)
{
    c->keep = 0;
    if (c->nreqs == 0)
        close_after_writes(c);
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

/* ---- FastCGI ---------------------------------------------------------- */

static void fcgi_begin(sl_conn *c, const fcgi_event *ev)
{
    if (find_req(c, ev->id) != NULL) {
        sl_conn_close(c, "BEGIN_REQUEST for a request id already in progress");
        return;
    }
    c->keep = (ev->flags & FCGI_KEEP_CONN) != 0;
    if (ev->role != FCGI_RESPONDER) {
        send_end_request(c, ev->id, FCGI_UNKNOWN_ROLE);
        if (!c->keep && c->nreqs == 0)
            close_after_writes(c);
        return;
    }
    if (c->nreqs >= c->worker->max_reqs_per_conn) {
        send_end_request(c, ev->id, FCGI_OVERLOADED);
        return;
    }
    sl_req *r = sl_req_new(c, SL_PROTO_FASTCGI, ev->id);
    if (r == NULL) {
        sl_conn_close(c, "out of memory");
        return;
    }
    r->keep_conn = c->keep;
    r->worker = c->worker;
    r->next = c->reqs;
    c->reqs = r;
    c->nreqs++;
}

/* The PARAMS stream is complete: split it into name-value pairs. */
static const char *fcgi_params_done(sl_req *r)
{
    const char *name, *value, *reason = NULL;
    size_t nlen, vlen, off = 0;
    int rc;
    while ((rc = fcgi_pairs_next(r->raw_params.data, r->raw_params.len, &off,
                                 &name, &nlen, &value, &vlen, &reason)) == 1) {
        if (memchr(name, '\0', nlen) != NULL || memchr(value, '\0', vlen) != NULL)
            return "NUL byte in a parameter";
        if (sl_req_add_param(r, name, nlen, value, vlen) < 0)
            return "out of memory";
    }
    if (rc < 0)
        return reason ? reason : "malformed parameters";
    if (sl_req_index_params(r) < 0)
        return "out of memory";
    sl_buf_free(&r->raw_params);
    const char *cl = sl_req_param(r, "CONTENT_LENGTH");
    r->content_length = cl ? strtoull(cl, NULL, 10) : 0;
    r->state = SL_REQ_BODY;
    return NULL;
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
    if (ev->len > c->worker->max_params - r->raw_params.len ||
        r->raw_params.len > c->worker->max_params) {
        sl_conn_close(c, "parameters exceed the limit");
        return;
    }
    if (sl_buf_append(&r->raw_params, ev->data, ev->len) < 0) {
        sl_conn_close(c, "out of memory");
        return;
    }
    if (ev->end) {
        const char *err = fcgi_params_done(r);
        if (err != NULL)
            sl_conn_close(c, err);
    }
}

static void fcgi_stdin(sl_conn *c, const fcgi_event *ev)
{
    sl_req *r = find_req(c, ev->id);
    if (r == NULL)
        return;
    if (r->state != SL_REQ_BODY) {
        sl_conn_close(c, r->state == SL_REQ_PARAMS ? "STDIN before the end of PARAMS"
                                                   : "STDIN after the end of the body");
        return;
    }
    if (ev->len > c->worker->max_body - r->body.len) {
        sl_conn_close(c, "request body exceeds the limit");
        return;
    }
    if (sl_buf_append(&r->body, ev->data, ev->len) < 0) {
        sl_conn_close(c, "out of memory");
        return;
    }
    if (r->body.len > r->content_length) {
        sl_conn_close(c, "STDIN longer than CONTENT_LENGTH");
        return;
    }
    if (ev->end)
        sl_worker_dispatch(c->worker, r);
}

static void fcgi_abort(sl_conn *c, const fcgi_event *ev)
{
    sl_req *r = find_req(c, ev->id);
    if (r == NULL)
        return;
    unlink_req(c, r);
    r->conn = NULL;
    send_end_request(c, ev->id, FCGI_REQUEST_COMPLETE);
    if (r->state == SL_REQ_RUNNING)
        sl_worker_cancel(c->worker, r);
    else
        sl_req_free(r);
    if (c->nreqs == 0 && !c->keep)
        close_after_writes(c);
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
                                           &c->worker->limits);
    c->mgmt.len = 0;
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

static size_t fcgi_feed(sl_conn *c)
{
    size_t off = 0;
    while (!c->closing) {
        fcgi_event ev;
        size_t n = fcgi_decode(&c->dec, c->in.data + off, c->in.len - off, &ev);
        off += n;
        if (ev.type == FCGI_EV_NONE && n == 0)
            break;
        fcgi_event_dispatch(c, &ev);
    }
    return off;
}

/* ---- SCGI ------------------------------------------------------------- */

static const char *scgi_start(sl_conn *c, const scgi_header *h)
{
    sl_req *r = sl_req_new(c, SL_PROTO_SCGI, 0);
    if (r == NULL)
        return "out of memory";
    r->worker = c->worker;
    r->next = c->reqs;
    c->reqs = r;
    c->nreqs = 1;
    c->scgi_req_started = 1;
    if (h->content_length > c->worker->max_body)
        return "request body exceeds the limit";
    r->content_length = h->content_length;
    size_t off = 0;
    const char *name, *value;
    while (scgi_pairs_next(h, &off, &name, &value) == 1)
        if (sl_req_add_param(r, name, strlen(name), value, strlen(value)) < 0)
            return "out of memory";
    if (sl_req_index_params(r) < 0)
        return "out of memory";
    r->state = SL_REQ_BODY;
    return NULL;
}

static size_t scgi_feed(sl_conn *c)
{
    size_t off = 0;
    if (!c->scgi_req_started) {
        scgi_header h;
        const char *reason = NULL;
        int rc = scgi_parse_header(c->in.data, c->in.len, c->worker->max_params, &h, &reason);
        if (rc == SCGI_NEED_MORE)
            return 0;
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
    sl_req *r = c->reqs;
    if (r == NULL || r->state != SL_REQ_BODY)
        return c->in.len;   /* bytes past the body: nothing may follow */
    size_t want = (size_t)(r->content_length - r->body.len);
    size_t have = c->in.len - off;
    size_t take = have < want ? have : want;
    if (sl_buf_append(&r->body, c->in.data + off, take) < 0) {
        sl_conn_close(c, "out of memory");
        return 0;
    }
    off += take;
    if (r->body.len == r->content_length) {
        c->keep = 0;
        sl_worker_dispatch(c->worker, r);
    }
    return off;
}

/* ---- reading ---------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    sl_conn *c = h->data;
    if (sl_buf_reserve(&c->in, READ_CHUNK) < 0) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    buf->base = c->in.data + c->in.len;
    buf->len = c->in.cap - c->in.len;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    sl_conn *c = s->data;
    if (n == UV_ENOBUFS) {
        sl_conn_close(c, "out of memory");
        return;
    }
    if (n < 0) {
        /* EOF between requests is the normal end of a kept connection. */
        sl_conn_close(c, n == UV_EOF || c->nreqs == 0 ? NULL : uv_strerror((int)n));
        return;
    }
    c->in.len += (size_t)n;
    size_t used = c->proto == SL_PROTO_FASTCGI ? fcgi_feed(c) : scgi_feed(c);
    if (!c->closing)
        sl_buf_consume(&c->in, used);
}

static void describe_peer(sl_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    snprintf(c->peer, sizeof c->peer, "unix socket");
    if (c->u.handle.type == UV_TCP) {
        if (uv_tcp_getpeername(&c->u.tcp, (struct sockaddr *)&ss, &len) == 0) {
            char ip[INET6_ADDRSTRLEN] = "?";
            int port = 0;
            if (ss.ss_family == AF_INET6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                uv_ip6_name(a, ip, sizeof ip);
                port = ntohs(a->sin6_port);
            } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                uv_ip4_name(a, ip, sizeof ip);
                port = ntohs(a->sin_port);
            }
            snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
        }
        return;
    }
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t clen = sizeof cred;
    if (uv_fileno(&c->u.handle, &fd) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
        snprintf(c->peer, sizeof c->peer, "unix socket peer pid %ld", (long)cred.pid);
}

void sl_conn_accept(sl_worker *w, uv_stream_t *server, enum sl_proto proto)
{
    sl_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->worker = w;
    c->proto = proto;
    sl_buf_init(&c->in);
    sl_buf_init(&c->mgmt);
    fcgi_decoder_init(&c->dec);
    if (server->type == UV_TCP)
        uv_tcp_init(&w->loop, &c->u.tcp);
    else
        uv_pipe_init(&w->loop, &c->u.pipe, 0);
    c->u.handle.data = c;
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    if (uv_accept(server, &c->u.stream) < 0) {
        sl_conn_close(c, NULL);
        return;
    }
    if (server->type == UV_TCP)
        uv_tcp_nodelay(&c->u.tcp, 1);
    describe_peer(c);
    if (uv_read_start(&c->u.stream, on_alloc, on_read) < 0)
        sl_conn_close(c, "cannot read");
}
