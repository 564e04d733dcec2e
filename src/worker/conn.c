#define _GNU_SOURCE
/*
 * conn.c: a connection from the web server, as a stream (see conn.h):
 * accepting, reading, writing, its timeouts, and closing.  What its input
 * means, the requests it carries, is conn_input.c's.
 *
 * Bytes are read into the worker's shared read buffer and decoded in
 * place; the codec hands out slices of it, valid until the read callback
 * returns.  Only what does not make a whole record is copied into the
 * connection's own buffer (c->in), and decoding resumes there on the next
 * read.  An idle connection so holds no buffer at all.
 *
 * One timer per connection: while a request is arriving it is the read
 * timeout, started once and not pushed back by each byte (a peer trickling
 * one byte a second is still closed); while idle, the keep-alive timeout,
 * which only the end of a request moves (records that are no request, like
 * GET_VALUES, do not keep a connection); while closing after the last
 * answer, the time the peer may go without reading any of it.
 *
 * What we write is bounded too: past OUT_HIGH of queued writes the
 * connection is not read (nor what was read decoded) until they drain, so
 * a peer that sends records each answered (GET_VALUES, unknown types) and
 * reads nothing fills its own socket, not our heap.
 *
 * A connection not kept after a refused request closes by lingering (see
 * conn_input.c): our side is shut down after the answer, and what still
 * comes is dropped until the peer closes, as nginx closes on its clients.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include "util/log.h"
#include "worker/conn.h"

/* A draining worker closes a connection idle this long (see sl_conn_drain). */
#define DRAIN_IDLE_MS 1000

/*
 * Queued writes past OUT_HIGH stop reading; below OUT_LOW it resumes.  A
 * queued write costs its bytes and OUT_OVERHEAD: the write request and the
 * buffer's slack, so that a flood of 16-byte answers is held back by what
 * it really takes.  An answer that fits the socket is never queued.
 */
#define OUT_HIGH (64 * 1024)
#define OUT_LOW (16 * 1024)
#define OUT_OVERHEAD 512

static int conn_receiving(const sl_conn *c);
static void set_deadline(sl_conn *c, uint64_t deadline);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void feed_pending(sl_conn *c);

typedef struct write_req {
    uv_write_t req;
    sl_buf buf;
    void (*done)(void *arg, size_t len);    /* NULL, or told when written */
    void *arg;
    size_t total;                           /* what the caller handed us */
    size_t charge;                          /* its part of c->out_queued */
} write_req;

static void on_close(uv_handle_t *h)
{
    sl_conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    sl_conns *cs = c->conns;
    sl_buf_free(&c->in);
    sl_buf_free(&c->mgmt);
    free(c->refused);
    free(c);
    /* Counted until now, closing phase included (--max-connections). */
    cs->n--;
    sl_conns_host_gone(cs);
}

static void close_handles(sl_conn *c)
{
    uv_close((uv_handle_t *)&c->timer, on_close);
    uv_close(&c->u.handle, on_close);
}

/* Off the list (which sl_conns_drain walks); still counted in cs->n
 * until its handles are closed. */
static void unlink_conn(sl_conn *c)
{
    sl_conns *cs = c->conns;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        cs->list = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

void sl_conn_close(sl_conn *c, const char *reason)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (reason != NULL)
        sl_warn("closing connection from %s: %s", sl_conn_peer(c), reason);
    sl_conn_release_requests(c);
    unlink_conn(c);
    close_handles(c);
}

/* Close what sl_conn_close_after_writes() left open, once. */
static void close_handles_once(sl_conn *c)
{
    if (!uv_is_closing(&c->u.handle))
        close_handles(c);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    sl_conn *c = s->handle->data;
    free(s);
    /* Lingering, the peer closes first (or the timer cuts it). */
    if (!c->linger || c->peer_eof || status < 0)
        close_handles_once(c);
}

/* The read timeout also bounds how long a peer may leave our last answer
 * unread, counted from the last time it took some of it. */
static uint64_t closing_grace_ms(const sl_conn *c)
{
    return (uint64_t)c->conns->read_timeout * 1000;
}

/*
 * Close after the queued writes are out.  Until then the connection still
 * counts (--max-connections, a draining worker waits for it), holds no
 * input, and is cut once its peer has read none of what is left for
 * closing_grace_ms().  With c->linger, our side is shut down after the
 * writes and the connection read, and what comes dropped, until the peer
 * closes, for closing_grace_ms() at most.
 */
void sl_conn_close_after_writes(sl_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    sl_conn_release_requests(c);
    unlink_conn(c);
    /*
     * Every answer is out already (uv_try_write took it), and no peer is
     * to linger for: the shutdown would only tell us so, a system call and
     * a turn of the loop later.  Close now; the FIN goes all the same.
     */
    if (!c->linger && c->pending_writes == 0) {
        close_handles(c);
        return;
    }
    if (!c->linger)
        uv_read_stop(&c->u.stream);
    else if (c->out_paused && uv_read_start(&c->u.stream, on_alloc, on_read) < 0)
        c->linger = 0;
    c->out_paused = 0;
    /* Input is no use any more; while it is being decoded, feed() frees it. */
    if (!c->feeding)
        sl_buf_free(&c->in);
    sl_buf_free(&c->mgmt);
    uv_timer_stop(&c->timer);
    c->timer_due = 0;
    c->closing_queue = uv_stream_get_write_queue_size(&c->u.stream);
    set_deadline(c, uv_now(c->conns->loop) + closing_grace_ms(c));
    uv_shutdown_t *s = malloc(sizeof *s);
    if (s == NULL || uv_shutdown(s, &c->u.stream, on_shutdown) < 0) {
        free(s);
        close_handles(c);
    }
}

/* ---- writing ------------------------------------------------------------ */

static void out_charge(sl_conn *c, size_t charge)
{
    sl_conns *cs = c->conns;
    c->out_queued += charge;
    cs->out_queued += charge;
    if (cs->out_queued > cs->out_peak)
        cs->out_peak = cs->out_queued;
    if (c->out_queued > OUT_HIGH && !c->out_paused && !c->closing) {
        c->out_paused = 1;
        uv_read_stop(&c->u.stream);
    }
}

/* A queued write is done: resume reading once the queue is short again,
 * first decoding what was read and left while paused. */
static void out_release(sl_conn *c, size_t charge)
{
    c->out_queued -= charge;
    c->conns->out_queued -= charge;
    if (!c->out_paused || c->out_queued > OUT_LOW || c->closing)
        return;
    /* Reading first: what the pending input makes us do may need it (a
     * lingering close), and new bytes only come after this returns. */
    c->out_paused = 0;
    if (uv_read_start(&c->u.stream, on_alloc, on_read) < 0) {
        sl_conn_close(c, "cannot read");
        return;
    }
    feed_pending(c);
}

static void on_write(uv_write_t *wr, int status)
{
    write_req *w = (write_req *)wr;
    sl_conn *c = wr->handle->data;
    if (w->done != NULL)
        w->done(w->arg, w->total);
    size_t charge = w->charge;
    sl_buf_free(&w->buf);
    free(w);
    c->pending_writes--;
    if (status < 0 && status != UV_ECANCELED && !c->closing)
        sl_conn_close(c, uv_strerror(status));
    out_release(c, charge);
}

/*
 * Most answers fit the socket buffer: written here and now, they need no
 * write request, no callback, and no change to what epoll watches.  Only
 * what the kernel did not take is queued.  How much was written (0 when
 * writes are queued already: they go first).
 */
static size_t try_write(sl_conn *c, const sl_buf *b)
{
    if (c->pending_writes > 0)
        return 0;
    uv_buf_t ub = uv_buf_init(b->data, (unsigned)b->len);
    int n = uv_try_write(&c->u.stream, &ub, 1);
    return n > 0 ? (size_t)n : 0;
}

static void queue_write(sl_conn *c, sl_buf *b, size_t off,
                        void (*done)(void *, size_t), void *arg);

void sl_conn_send_cb(sl_conn *c, sl_buf *b, void (*done)(void *, size_t), void *arg)
{
    size_t len = b->len;
    if (c->closing || len == 0) {
        sl_buf_free(b);
        if (done != NULL)
            done(arg, len);
        return;
    }
    size_t off = try_write(c, b);
    if (off == len) {
        sl_buf_free(b);
        if (done != NULL)
            done(arg, len);
        return;
    }
    queue_write(c, b, off, done, arg);
}

void sl_conn_send_copy(sl_conn *c, sl_buf *b)
{
    size_t len = b->len;
    /* Closing: dropped, as sl_conn_send_cb() drops them. */
    size_t off = c->closing || len == 0 ? len : try_write(c, b);
    b->len = 0;
    if (off == len)
        return;
    sl_buf rest;
    sl_buf_init(&rest);
    if (sl_buf_append(&rest, b->data + off, len - off) < 0) {
        sl_conn_close(c, "out of memory");
        return;
    }
    queue_write(c, &rest, 0, NULL, NULL);
}

/* Queue b's bytes from `off` on (b is taken, and left empty). */
static void queue_write(sl_conn *c, sl_buf *b, size_t off,
                        void (*done)(void *, size_t), void *arg)
{
    size_t len = b->len;
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
    w->charge = len - off + OUT_OVERHEAD;
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
    out_charge(c, w->charge);
}

void sl_conn_send(sl_conn *c, sl_buf *b)
{
    sl_conn_send_cb(c, b, NULL, NULL);
}

/* ---- reading and timeouts --------------------------------------------- */

static int conn_receiving(const sl_conn *c)
{
    return c->in.len > 0 || !fcgi_decoder_between_records(&c->dec) || c->arriving > 0;
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
    if (c->closing) {
        /* After its last answer (sl_conn_close_after_writes): wait on
         * while the peer takes some of what is left, cut it once it takes
         * none. */
        size_t left = uv_stream_get_write_queue_size(&c->u.stream);
        if (left > 0 && left < c->closing_queue) {
            c->closing_queue = left;
            set_deadline(c, now + closing_grace_ms(c));
            return;
        }
        if (left > 0)
            sl_warn("closing connection from %s: %zu bytes of our answer unread for %d s",
                    sl_conn_peer(c), left, c->conns->read_timeout);
        else if (c->linger)
            sl_debug("closing connection from %s: it did not close after our answer",
                     sl_conn_peer(c));
        close_handles_once(c);
        return;
    }
    if (c->receiving) {
        char why[96];
        snprintf(why, sizeof why, "read timeout: request not complete after %d s",
                 c->conns->read_timeout);
        sl_conn_close(c, why);
    } else {
        sl_debug("closing idle connection from %s", sl_conn_peer(c));
        sl_conn_close(c, NULL);
    }
}

static void set_deadline(sl_conn *c, uint64_t deadline)
{
    c->deadline = deadline;
    if (deadline == UINT64_MAX || (c->timer_due != 0 && c->timer_due <= deadline))
        return;
    uint64_t now = uv_now(c->conns->loop);
    c->timer_due = deadline;
    uv_timer_start(&c->timer, on_timeout, deadline > now ? deadline - now : 0, 0);
}

/*
 * After every read and every finished request: the read timeout runs from
 * the first byte of a request until all of it is in (a refused one's
 * dropped input included); the keep-alive timeout runs while nothing is in
 * progress, from the end of the last request (sl_conn_idle_from_now);
 * neither while handlers run.
 */
void sl_conn_arm_timer(sl_conn *c)
{
    if (c->closing)
        return;
    uint64_t now = uv_now(c->conns->loop);
    if (conn_receiving(c)) {
        if (!c->receiving) {
            c->receiving = 1;
            set_deadline(c, now + (uint64_t)c->conns->read_timeout * 1000);
        }
        return;
    }
    c->receiving = 0;
    set_deadline(c, sl_conn_in_progress(c) > 0 ? UINT64_MAX : c->idle_deadline);
}

/* The end of a request: the keep-alive timeout starts again from here. */
void sl_conn_idle_from_now(sl_conn *c)
{
    uint64_t now = uv_now(c->conns->loop);
    c->idle_deadline = now + (c->conns->draining ? DRAIN_IDLE_MS
                              : (uint64_t)c->conns->keepalive_timeout * 1000);
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
    uint64_t soon = uv_now(c->conns->loop) + DRAIN_IDLE_MS;
    c->keep = 0;
    if (c->idle_deadline > soon)
        c->idle_deadline = soon;
    if (sl_conn_in_progress(c) == 0 && !conn_receiving(c))
        set_deadline(c, c->idle_deadline);
}

/*
 * Count bytes of refused input dropped.  Past cs->max_dropped the rest is
 * not worth reading: close once our answers are out.  0, or -1 when so.
 */
int sl_conn_drop(sl_conn *c, size_t n)
{
    c->dropped += n;
    if (c->dropped <= c->conns->max_dropped)
        return 0;
    sl_warn("closing connection from %s: the input of a refused request runs past "
            "%llu bytes", sl_conn_peer(c), c->conns->max_dropped);
    if (!c->closing) {
        c->linger = 0;
        sl_conn_close_after_writes(c);
    } else {
        close_handles_once(c);
    }
    return -ECONNABORTED;
}

/*
 * A connection with partial bytes pending reads into its own buffer, after
 * them; every other read goes to the worker's shared buffer.
 */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    sl_conn *c = h->data;
    sl_conns *cs = c->conns;
    if (c->in.len == 0) {
        buf->base = cs->rbuf;
        buf->len = cs->rbuf_size;
        return;
    }
    if (sl_buf_reserve(&c->in, cs->rbuf_size) < 0) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    buf->base = c->in.data + c->in.len;
    buf->len = c->in.cap - c->in.len;
}

static size_t feed(sl_conn *c, const char *data, size_t len)
{
    c->feeding = 1;
    size_t used = sl_conn_feed(c, data, len);
    c->feeding = 0;
    /* Closed meanwhile: what is left of the input will not be read. */
    if (c->closing)
        sl_buf_free(&c->in);
    return used;
}

/* Decode what waits in the connection's own buffer (c->in). */
static void feed_pending(sl_conn *c)
{
    if (c->in.len > 0) {
        size_t used = feed(c, c->in.data, c->in.len);
        if (c->closing)
            return;
        sl_buf_consume(&c->in, used);
        /* Nothing pending: give the storage back until it is needed. */
        if (c->in.len == 0)
            sl_buf_free(&c->in);
    }
    sl_conn_arm_timer(c);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    sl_conn *c = s->data;
    if (c->closing) {
        /* Lingering (sl_conn_close_after_writes): dropped until the
         * peer closes; sl_conn_drop() cuts it past the bound. */
        if (n >= 0) {
            sl_conn_drop(c, (size_t)n);
            return;
        }
        c->peer_eof = 1;
        uv_read_stop(s);
        /* Our answer is out once the shutdown is done (on_shutdown). */
        if (c->pending_writes == 0 && uv_stream_get_write_queue_size(s) == 0)
            close_handles_once(c);
        return;
    }
    if (n == UV_ENOBUFS) {
        sl_conn_close(c, "out of memory");
        return;
    }
    if (n < 0) {
        /*
         * EOF between requests is the normal end of a kept connection; so
         * is EOF while we drop what is left of refused requests: the web
         * server stopped sending what we did not want.
         */
        int refused_only = c->arriving > 0 && c->arriving == c->nrefused;
        int quiet = n == UV_EOF && (!conn_receiving(c) || refused_only);
        sl_conn_close(c, quiet ? NULL : n == UV_EOF ? "connection closed mid-request"
                                                    : uv_strerror((int)n));
        return;
    }
    if (n == 0)
        return;
    if (buf->base != c->conns->rbuf) {
        c->in.len += (size_t)n;
        feed_pending(c);
        return;
    }
    size_t used = feed(c, buf->base, (size_t)n);
    if (!c->closing && used < (size_t)n &&
        sl_buf_append(&c->in, buf->base + used, (size_t)n - used) < 0)
        sl_conn_close(c, "out of memory");
    sl_conn_arm_timer(c);
}

/* c->peer: see sl_conn_peer(). */
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

/*
 * A TCP peer's address is read at accept, while it still can be (a peer
 * that resets is gone from getpeername()); a unix socket's peer, the web
 * server's pid from the credentials the socket keeps for its whole life,
 * only once a log line wants it: most connections never do, and it is a
 * system call and a formatting on every one of them.
 */
const char *sl_conn_peer(sl_conn *c)
{
    if (c->peer[0] == '\0')
        describe_peer(c);
    return c->peer;
}

/* Is this TCP peer in --allow-from (or FCGI_WEB_SERVER_ADDRS)? */
static int peer_allowed(const sl_conn *c)
{
    const sl_conns *cs = c->conns;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (c->u.handle.type != UV_TCP || cs->nallow == 0)
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
    for (int i = 0; i < cs->nallow; i++) {
        const sl_cidr *r = &cs->allow[i];
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

int sl_conn_accept(sl_conns *cs, uv_stream_t *server, enum sl_proto proto)
{
    sl_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->conns = cs;
    c->proto = proto;
    sl_buf_init(&c->in);
    sl_buf_init(&c->mgmt);
    fcgi_decoder_init(&c->dec);
    if (server->type == UV_TCP)
        uv_tcp_init(cs->loop, &c->u.tcp);
    else
        uv_pipe_init(cs->loop, &c->u.pipe, 0);
    uv_timer_init(cs->loop, &c->timer);
    c->handles_open = 2;
    c->u.handle.data = c;
    c->timer.data = c;
    c->next = cs->list;
    if (cs->list != NULL)
        cs->list->prev = c;
    cs->list = c;
    cs->n++;
    if (uv_accept(server, &c->u.stream) < 0) {
        sl_conn_close(c, NULL);
        return 0;
    }
    if (server->type == UV_TCP)
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
    sl_conn_idle_from_now(c);
    sl_conn_arm_timer(c);
    return 0;
}

/* ---- the set ------------------------------------------------------------- */

int sl_conns_init(sl_conns *cs, uv_loop_t *loop, const sl_config *cfg)
{
    memset(cs, 0, sizeof *cs);
    cs->loop = loop;
    cs->limits.max_conns = (unsigned)cfg->max_connections;
    /* In 64 bits, saturated: 1,000,000 x 65,535 does not fit 32. */
    uint64_t max_reqs = (uint64_t)cfg->max_connections * (uint64_t)cfg->max_conn_requests;
    cs->limits.max_reqs = max_reqs > UINT_MAX ? UINT_MAX : (unsigned)max_reqs;
    cs->limits.mpxs_conns = 1;
    cs->max_params = (size_t)cfg->max_params_size;
    cs->max_body = (size_t)cfg->max_body_size;
    cs->max_reqs_per_conn = (unsigned)cfg->max_conn_requests;
    /*
     * Requests still arriving hold their parameters and body as they come:
     * at most one per connection we accept on average, so a web server that
     * does not multiplex (nginx, Caddy) never meets the bound, while one
     * that does cannot make a worker hold --max-conn-requests on every one
     * of --max-connections connections; one connection keeps its own
     * --max-conn-requests.
     */
    cs->max_arriving = (unsigned)(cfg->max_connections > cfg->max_conn_requests
                                  ? cfg->max_connections : cfg->max_conn_requests);
    /*
     * A refused request's rest of input is read and dropped so that the web
     * server sees the answer (see conn_input.c): up to what we would accept
     * of a body, and at least 64 MiB, which covers what nginx lets through
     * as usually set (client_max_body_size: 1m by default, 16m shipped).
     */
    cs->max_dropped = (unsigned long long)cfg->max_body_size;
    if (cs->max_dropped < 64ULL << 20)
        cs->max_dropped = 64ULL << 20;
    cs->read_timeout = cfg->read_timeout;
    cs->keepalive_timeout = cfg->keepalive_timeout;
    cs->allow = cfg->allow;
    cs->nallow = cfg->nallow;
    cs->rbuf_size = 64 * 1024;
    cs->rbuf = malloc(cs->rbuf_size);
    return cs->rbuf != NULL ? 0 : -ENOMEM;
}

void sl_conns_free(sl_conns *cs)
{
    free(cs->rbuf);
    cs->rbuf = NULL;
}

void sl_conns_drain(sl_conns *cs)
{
    cs->draining = 1;
    sl_conn *c = cs->list;
    while (c != NULL) {
        sl_conn *next = c->next;
        sl_conn_drain(c);
        c = next;
    }
}
