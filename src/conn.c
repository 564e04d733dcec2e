#define _GNU_SOURCE
/*
 * conn.c: a connection from the web server (see conn.h).
 *
 * Bytes are read into the worker's shared read buffer and decoded in
 * place; the codec hands out slices of it, valid until the read callback
 * returns.  Only what does not make a whole record is copied into the
 * connection's own buffer (c->in), and decoding resumes there on the next
 * read.  An idle connection so holds no buffer at all.
 *
 * One timer per connection: while a request is arriving it is the read
 * timeout, started once and not pushed back by each byte (a peer trickling
 * one byte a second is still closed); while idle, the keep-alive timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include "cgi.h"
#include "conn.h"
#include "log.h"
#include "scgi.h"
#include "worker.h"

/* A draining worker closes a connection idle this long (see sl_conn_drain). */
#define DRAIN_IDLE_MS 1000

static void conn_arm_timer(sl_conn *c);
static int conn_receiving(const sl_conn *c);
static void set_deadline(sl_conn *c, uint64_t deadline);

typedef struct write_req {
    uv_write_t req;
    sl_buf buf;
    void (*done)(void *arg, size_t len);    /* NULL, or told when written */
    void *arg;
    size_t total;                           /* what the caller handed us */
} write_req;

static void on_close(uv_handle_t *h)
{
    sl_conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    sl_worker *w = c->worker;
    sl_buf_free(&c->in);
    sl_buf_free(&c->mgmt);
    free(c);
    sl_worker_conn_gone(w);
}

static void close_handles(sl_conn *c)
{
    uv_close((uv_handle_t *)&c->timer, on_close);
    uv_close(&c->u.handle, on_close);
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
    close_handles(c);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    (void)status;
    sl_conn *c = s->handle->data;
    free(s);
    close_handles(c);
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
    uv_timer_stop(&c->timer);
    uv_shutdown_t *s = malloc(sizeof *s);
    if (s == NULL || uv_shutdown(s, &c->u.stream, on_shutdown) < 0) {
        free(s);
        close_handles(c);
    }
}

static void on_write(uv_write_t *wr, int status)
{
    write_req *w = (write_req *)wr;
    sl_conn *c = wr->handle->data;
    if (w->done != NULL)
        w->done(w->arg, w->total);
    sl_buf_free(&w->buf);
    free(w);
    c->pending_writes--;
    if (status < 0 && status != UV_ECANCELED && !c->closing)
        sl_conn_close(c, uv_strerror(status));
}

void sl_conn_send_cb(sl_conn *c, sl_buf *b, void (*done)(void *, size_t), void *arg)
{
    size_t len = b->len, off = 0;
    if (c->closing || len == 0) {
        sl_buf_free(b);
        if (done != NULL)
            done(arg, len);
        return;
    }
    /*
     * Most answers fit the socket buffer: written here and now, they need
     * no write request, no callback, and no change to what epoll watches.
     * Only what the kernel did not take is queued.
     */
    if (c->pending_writes == 0) {
        uv_buf_t ub = uv_buf_init(b->data, (unsigned)len);
        int n = uv_try_write(&c->u.stream, &ub, 1);
        if (n == (int)len) {
            sl_buf_free(b);
            if (done != NULL)
                done(arg, len);
            return;
        }
        if (n > 0)
            off = (size_t)n;
    }
    write_req *w = malloc(sizeof *w);
    if (w == NULL) {
        sl_buf_free(b);
        sl_conn_close(c, "out of memory");
        if (done != NULL)
            done(arg, len);
        return;
    }
    w->buf = *b;
    w->done = done;
    w->arg = arg;
    w->total = len;
    sl_buf_init(b);
    uv_buf_t ub = uv_buf_init(w->buf.data + off, (unsigned)(w->buf.len - off));
    int rc = uv_write(&w->req, &c->u.stream, &ub, 1, on_write);
    if (rc < 0) {
        sl_buf_free(&w->buf);
        free(w);
        sl_conn_close(c, uv_strerror(rc));
        if (done != NULL)
            done(arg, len);
        return;
    }
    c->pending_writes++;
}

void sl_conn_send(sl_conn *c, sl_buf *b)
{
    sl_conn_send_cb(c, b, NULL, NULL);
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
    else
        conn_arm_timer(c);
}

/*
 * Draining, with a web server that keeps a pool of our connections: a
 * connection closed while idle may be the one it picks for its next
 * request a moment later, before it has seen our FIN, and that request
 * fails.  So a connection in use is closed right after its answer (the FIN
 * travels with the END_REQUEST, and nginx drops it from its pool on
 * reading them), and an idle one only after a second more of idleness: it
 * is then at the cold end of nginx's last-used-first pool.
 */
void sl_conn_drain(sl_conn *c)
{
    c->keep = 0;
    if (c->nreqs == 0 && !conn_receiving(c))
        set_deadline(c, uv_now(&c->worker->loop) + DRAIN_IDLE_MS);
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

/*
 * The PARAMS stream is complete: it becomes the request's parameter store,
 * rewritten in place pair by pair as "name\0value\0".  A stored pair never
 * takes more room than it was sent in (two length bytes or more became two
 * NULs), so what is written never overtakes what is still to be read, and
 * no second copy of the parameters is ever held.  The store's old room
 * takes the stream's place, ready for the next request on this worker.
 */
static const char *fcgi_params_done(sl_req *r)
{
    const char *name, *value, *reason = NULL;
    size_t nlen, vlen, off = 0;
    int rc;
    sl_buf stream = r->raw_params;
    r->raw_params = r->pstore;
    r->raw_params.len = 0;
    r->pstore = stream;
    r->pstore.len = 0;
    while ((rc = fcgi_pairs_next(stream.data, stream.len, &off,
                                 &name, &nlen, &value, &vlen, &reason)) == 1) {
        /* In the stream a value directly follows its name: one scan. */
        if (memchr(name, '\0', nlen + vlen) != NULL)
            return "NUL byte in a parameter";
        if (sl_req_add_param(r, name, nlen, value, vlen) < 0)
            return "out of memory";
    }
    if (rc < 0)
        return reason ? reason : "malformed parameters";
    if (sl_req_index_params(r) < 0)
        return "out of memory";
    r->state = SL_REQ_BODY;
    return NULL;
}

/*
 * The parameters are in: refuse what cannot be served before its body is
 * read.  Returns 1 when the request was answered.
 */
static int check_request_head(sl_conn *c, sl_req *r)
{
    if (r->params_dropped) {
        sl_worker_reject(c->worker, r, 431, "the request's parameters exceed --max-params-size");
        return 1;
    }
    if (sl_cgi_content_length(sl_req_known(r, SL_P_CLEN), &r->content_length) < 0) {
        sl_worker_reject(c->worker, r, 400, "CONTENT_LENGTH is not a number");
        return 1;
    }
    if (r->content_length > c->worker->max_body) {
        sl_worker_reject(c->worker, r, 413, "the request body exceeds --max-body-size");
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
    if (!r->params_dropped && ev->len > c->worker->max_params - r->raw_params.len) {
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
        const char *err = fcgi_params_done(r);
        if (err != NULL) {
            sl_conn_close(c, err);
            return;
        }
    }
    check_request_head(c, r);
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

static size_t fcgi_feed(sl_conn *c, const char *data, size_t len)
{
    size_t off = 0;
    while (!c->closing) {
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
    size_t off = 0;
    const char *name, *value;
    while (scgi_pairs_next(h, &off, &name, &value) == 1)
        if (sl_req_add_param(r, name, strlen(name), value, strlen(value)) < 0)
            return "out of memory";
    if (sl_req_index_params(r) < 0)
        return "out of memory";
    r->state = SL_REQ_BODY;
    c->keep = 0;
    check_request_head(c, r);
    return NULL;
}

static size_t scgi_feed(sl_conn *c, const char *data, size_t len)
{
    size_t off = 0;
    if (!c->scgi_req_started) {
        scgi_header h;
        const char *reason = NULL;
        int rc = scgi_parse_header(data, len, c->worker->max_params, &h, &reason);
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
        return len;     /* bytes past the body: nothing may follow */
    size_t want = (size_t)(r->content_length - r->body.len);
    size_t have = len - off;
    size_t take = have < want ? have : want;
    if (sl_buf_append(&r->body, data + off, take) < 0) {
        sl_conn_close(c, "out of memory");
        return 0;
    }
    off += take;
    if (r->body.len == r->content_length)
        sl_worker_dispatch(c->worker, r);
    return len;
}

/* ---- reading and timeouts --------------------------------------------- */

static int conn_receiving(const sl_conn *c)
{
    if (c->in.len > 0 || !fcgi_decoder_between_records(&c->dec))
        return 1;
    for (const sl_req *r = c->reqs; r != NULL; r = r->next)
        if (r->state == SL_REQ_PARAMS || r->state == SL_REQ_BODY)
            return 1;
    return 0;
}

/*
 * The connection's deadline is c->deadline (loop time, ms; UINT64_MAX:
 * none).  The uv timer is only moved when the deadline comes earlier than
 * it is set for; when it fires early, it is set again for what is left.  So
 * a busy kept connection, whose keep-alive deadline moves with every
 * request, costs a timer operation per keep-alive period, not per request.
 */

static void on_timeout(uv_timer_t *t)
{
    sl_conn *c = t->data;
    uint64_t now = uv_now(t->loop);
    c->timer_due = 0;
    if (c->deadline == UINT64_MAX)
        return;
    if (now < c->deadline) {
        set_deadline(c, c->deadline);
        return;
    }
    if (c->receiving) {
        char why[96];
        snprintf(why, sizeof why, "read timeout: request not complete after %d s",
                 c->worker->cfg->read_timeout);
        sl_conn_close(c, why);
    } else {
        sl_debug("closing idle connection from %s", c->peer);
        sl_conn_close(c, NULL);
    }
}

static void set_deadline(sl_conn *c, uint64_t deadline)
{
    c->deadline = deadline;
    if (deadline == UINT64_MAX || (c->timer_due != 0 && c->timer_due <= deadline))
        return;
    uint64_t now = uv_now(&c->worker->loop);
    c->timer_due = deadline;
    uv_timer_start(&c->timer, on_timeout, deadline > now ? deadline - now : 0, 0);
}

/*
 * After every read and every finished request: the read timeout runs from
 * the first byte of a request until all of it is in; the keep-alive
 * timeout runs while nothing is in progress; neither while handlers run.
 */
static void conn_arm_timer(sl_conn *c)
{
    if (c->closing)
        return;
    const sl_config *cfg = c->worker->cfg;
    uint64_t now = uv_now(&c->worker->loop);
    if (conn_receiving(c)) {
        if (!c->receiving) {
            c->receiving = 1;
            set_deadline(c, now + (uint64_t)cfg->read_timeout * 1000);
        }
        return;
    }
    c->receiving = 0;
    if (c->nreqs > 0)
        set_deadline(c, UINT64_MAX);
    else if (c->worker->draining)
        set_deadline(c, now + DRAIN_IDLE_MS);
    else
        set_deadline(c, now + (uint64_t)cfg->keepalive_timeout * 1000);
}

/*
 * A connection with partial bytes pending reads into its own buffer, after
 * them; every other read goes to the worker's shared buffer.
 */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    sl_conn *c = h->data;
    sl_worker *w = c->worker;
    if (c->in.len == 0) {
        buf->base = w->rbuf;
        buf->len = w->rbuf_size;
        return;
    }
    if (sl_buf_reserve(&c->in, w->rbuf_size) < 0) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    buf->base = c->in.data + c->in.len;
    buf->len = c->in.cap - c->in.len;
}

static size_t feed(sl_conn *c, const char *data, size_t len)
{
    return c->proto == SL_PROTO_FASTCGI ? fcgi_feed(c, data, len)
                                        : scgi_feed(c, data, len);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    sl_conn *c = s->data;
    if (n == UV_ENOBUFS) {
        sl_conn_close(c, "out of memory");
        return;
    }
    if (n < 0) {
        /* EOF between requests is the normal end of a kept connection. */
        int quiet = n == UV_EOF && !conn_receiving(c);
        sl_conn_close(c, quiet ? NULL : n == UV_EOF ? "connection closed mid-request"
                                                    : uv_strerror((int)n));
        return;
    }
    if (n == 0)
        return;
    if (buf->base == c->worker->rbuf) {
        size_t used = feed(c, buf->base, (size_t)n);
        if (!c->closing && used < (size_t)n &&
            sl_buf_append(&c->in, buf->base + used, (size_t)n - used) < 0)
            sl_conn_close(c, "out of memory");
    } else {
        c->in.len += (size_t)n;
        size_t used = feed(c, c->in.data, c->in.len);
        if (!c->closing)
            sl_buf_consume(&c->in, used);
        /* Nothing pending: give the storage back until it is needed. */
        if (c->in.len == 0)
            sl_buf_free(&c->in);
    }
    conn_arm_timer(c);
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

/* Is this TCP peer in --allow-from (or FCGI_WEB_SERVER_ADDRS)? */
static int peer_allowed(const sl_conn *c)
{
    const sl_config *cfg = c->worker->cfg;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (c->u.handle.type != UV_TCP || cfg->nallow == 0)
        return 1;
    if (uv_tcp_getpeername(&c->u.tcp, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    unsigned char addr[16];
    int family = ss.ss_family;
    if (family == AF_INET) {
        memcpy(addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    } else {
        const unsigned char *a6 = (const unsigned char *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
        static const unsigned char v4mapped[12] = {0,0,0,0,0,0,0,0,0,0,0xff,0xff};
        /* An IPv4 peer on a dual-stack socket is compared as IPv4. */
        if (memcmp(a6, v4mapped, 12) == 0) {
            family = AF_INET;
            memcpy(addr, a6 + 12, 4);
        } else {
            memcpy(addr, a6, 16);
        }
    }
    for (int i = 0; i < cfg->nallow; i++) {
        const sl_cidr *r = &cfg->allow[i];
        if (r->family != family)
            continue;
        int full = r->bits / 8, rest = r->bits % 8;
        if (memcmp(addr, r->addr, (size_t)full) != 0)
            continue;
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if (rest == 0 || (addr[full] & mask) == (r->addr[full] & mask))
            return 1;
    }
    return 0;
}

int sl_conn_accept(sl_worker *w, uv_stream_t *server, enum sl_proto proto)
{
    sl_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->worker = w;
    c->proto = proto;
    sl_buf_init(&c->in);
    sl_buf_init(&c->mgmt);
    fcgi_decoder_init(&c->dec);
    if (server->type == UV_TCP)
        uv_tcp_init(&w->loop, &c->u.tcp);
    else
        uv_pipe_init(&w->loop, &c->u.pipe, 0);
    uv_timer_init(&w->loop, &c->timer);
    c->handles_open = 2;
    c->u.handle.data = c;
    c->timer.data = c;
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    if (uv_accept(server, &c->u.stream) < 0) {
        sl_conn_close(c, NULL);
        return 0;
    }
    describe_peer(c);
    if (!peer_allowed(c)) {
        sl_conn_close(c, "refused: not in --allow-from");
        return 0;
    }
    if (server->type == UV_TCP)
        uv_tcp_nodelay(&c->u.tcp, 1);
    if (uv_read_start(&c->u.stream, on_alloc, on_read) < 0) {
        sl_conn_close(c, "cannot read");
        return 0;
    }
    conn_arm_timer(c);
    return 0;
}
