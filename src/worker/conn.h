/*
 * conn.h: the connections from the web server: reading bytes, feeding them
 * to the FastCGI or SCGI codec, keeping the requests they carry, and
 * writing their responses.  conn.c has the stream, conn_input.c what its
 * input means.
 *
 * A worker's connections are one object, sl_conns, which the worker embeds:
 * the loop, the limits and timeouts, the read buffer they share, the list
 * and the counters.  What a connection needs done beyond itself (a request
 * made or freed, dispatched, refused, cancelled; a connection gone) it asks
 * of its host, through the sl_conns_host_* functions declared at the end:
 * the worker defines them, and a test its own.
 */
#ifndef SLUICE_CONN_H
#define SLUICE_CONN_H

#include <stdint.h>
#include <uv.h>
#include "api/request.h"
#include "config/config.h"
#include "proto/fcgi.h"
#include "util/buf.h"

typedef struct sl_conns sl_conns;

/* A libuv stream of either kind a listener or a connection can be. */
typedef union sl_stream {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_pipe_t pipe;
    uv_tcp_t tcp;
} sl_stream;

typedef struct sl_conn {
    sl_stream u;
    uv_timer_t timer;               /* read, keep-alive and closing timeouts */
    int handles_open;               /* stream and timer, until both close */
    int receiving;                  /* the read timeout is running */
    uint64_t deadline;              /* loop ms; UINT64_MAX: none */
    uint64_t timer_due;             /* what the uv timer is set for; 0: off */
    uint64_t idle_deadline;         /* keep-alive: set when a request ends */
    sl_conns *conns;                /* the set it belongs to */
    struct sl_conn *prev, *next;    /* its list */
    enum sl_proto proto;
    sl_buf in;                      /* received, not yet decoded */
    fcgi_decoder dec;
    sl_buf mgmt;                    /* GET_VALUES content, until complete */
    sl_req *reqs;                   /* requests in progress on it */
    unsigned nreqs;
    unsigned arriving;              /* of them and the refused ones, those
                                       whose input is still coming */
    /* Refused requests on a kept FastCGI connection whose rest of input
     * is read and dropped until their empty STDIN: their ids. */
    uint16_t *refused;
    unsigned nrefused, refused_cap;
    unsigned long long dropped;     /* bytes dropped since none were refused */
    int linger;                     /* close by lingering (conn.c) */
    int peer_eof;                   /* lingering: the peer has closed too */
    unsigned pending_writes;
    size_t out_queued;              /* what queued writes cost, see conn.c */
    int out_paused;                 /* reading stopped until they drain */
    size_t closing_queue;           /* closing: bytes unwritten at last look */
    int keep;                       /* stay open after the current requests */
    int closing;                    /* uv_close or shutdown started */
    int feeding;                    /* decoding: c->in is in use */
    int scgi_req_started;           /* SCGI: the one request is under way */
    char peer[64];                  /* for log lines: sl_conn_peer() */
} sl_conn;

struct sl_conns {
    uv_loop_t *loop;
    /* From the configuration (sl_conns_init). */
    fcgi_limits limits;             /* what GET_VALUES answers */
    size_t max_params;              /* --max-params-size */
    size_t max_body;                /* --max-body-size */
    unsigned max_reqs_per_conn;     /* --max-conn-requests */
    unsigned max_arriving;          /* requests still arriving; past it:
                                       FCGI_OVERLOADED */
    unsigned long long max_dropped; /* input read and dropped per refusal */
    int read_timeout;               /* seconds */
    int keepalive_timeout;          /* seconds */
    const sl_cidr *allow;           /* TCP peers allowed; nallow 0: any */
    int nallow;
    /* One read buffer for every connection: bytes that do not make a whole
     * record are copied to the connection's own buffer. */
    char *rbuf;
    size_t rbuf_size;
    sl_conn *list;                  /* open connections (not those closing) */
    unsigned n;                     /* every connection until its handles
                                       are closed (--max-connections) */
    unsigned arriving;              /* requests whose input is still coming */
    /* What the connections' queued writes cost, and the most since the
     * owner last reset out_peak (the worker's heap trim). */
    size_t out_queued;
    size_t out_peak;
    /* The owner is stopping: requests end their connection, idle ones
     * close a moment later (sl_conns_drain). */
    int draining;
};

/* Set up for `loop` with the limits and timeouts of `cfg` (which must
 * outlive cs: --allow-from is read from it).  0, or -ENOMEM. */
int sl_conns_init(sl_conns *cs, uv_loop_t *loop, const sl_config *cfg);
/* Free the read buffer; every connection must be gone (cs->n 0). */
void sl_conns_free(sl_conns *cs);
/* The owner stops: cs->draining, and every connection closes when idle
 * and is not kept afterwards (see sl_conn_drain). */
void sl_conns_drain(sl_conns *cs);

/* Accept a connection on `server` (a listener of `proto`).  0, or -ENOMEM
 * when the connection was left waiting on the listener. */
int sl_conn_accept(sl_conns *cs, uv_stream_t *server, enum sl_proto proto);

/* Queue encoded bytes for writing; takes the buffer's storage (b is left
 * empty).  Ignored once the connection is closing. */
void sl_conn_send(sl_conn *c, sl_buf *b);
/* The same, and done(arg, bytes) once the bytes are written or dropped. */
void sl_conn_send_cb(sl_conn *c, sl_buf *b, void (*done)(void *, size_t), void *arg);
/* The same for bytes that stay the caller's: b is left empty, its storage
 * kept; only what the kernel does not take at once is copied to be queued. */
void sl_conn_send_copy(sl_conn *c, sl_buf *b);

/* A request of this connection has ended: unlink it, and close the
 * connection when it is not kept and nothing else is in progress (a
 * refused request's input still arriving is in progress). */
void sl_conn_request_done(sl_conn *c, sl_req *req);

/* Who the peer is, for log lines: "unix socket peer pid N", "ADDR:PORT". */
const char *sl_conn_peer(sl_conn *c);

/* Close now, logging `reason` (NULL: a normal close, not logged). */
void sl_conn_close(sl_conn *c, const char *reason);

/* The worker is stopping: close when idle, and do not keep afterwards. */
void sl_conn_drain(sl_conn *c);

/* ---- between conn.c (the stream) and conn_input.c (what it carries) ---- */

/* conn_input.c: decode in[0..len) and act on it; returns the bytes used
 * (the rest waits in c->in).  Stops early once the connection is closing
 * or c->out_paused. */
size_t sl_conn_feed(sl_conn *c, const char *in, size_t len);
/* conn_input.c: the connection closes: its running requests are cancelled,
 * the rest freed, the refused ones forgotten. */
void sl_conn_release_requests(sl_conn *c);

/* conn.c: close once the queued writes are out; lingering (c->linger) when
 * the peer may still be sending what we refused. */
void sl_conn_close_after_writes(sl_conn *c);
/* conn.c: after input or a request's end: the right timeout for now. */
void sl_conn_arm_timer(sl_conn *c);
/* conn.c: a request has ended: the keep-alive timeout starts again. */
void sl_conn_idle_from_now(sl_conn *c);
/* conn.c: n bytes of refused input were dropped; past cs->max_dropped the
 * connection is closed.  0, or -ECONNABORTED when it was. */
int sl_conn_drop(sl_conn *c, size_t n);

/* Requests in progress, refused ones whose input still comes included. */
static inline unsigned sl_conn_in_progress(const sl_conn *c)
{
    return c->nreqs + c->nrefused;
}

/* ---- the host --------------------------------------------------------------
 *
 * Defined by whoever embeds the connections (the worker: reqcache.c,
 * dispatch.c, worker.c), not called through pointers: making, dispatching
 * and freeing a request are on every request's path.
 */

/* A new request on `c` (status 200, its host set).  NULL: out of memory. */
sl_req *sl_conns_host_req_new(sl_conns *cs, sl_conn *c, enum sl_proto proto,
                              uint16_t id);
/* A request that never ran (or whose connection went first) is freed. */
void sl_conns_host_req_free(sl_conns *cs, sl_req *req);
/* A request has all its input: run it.  It ends with sl_conn_request_done()
 * while its connection lasts. */
void sl_conns_host_dispatch(sl_conns *cs, sl_req *req);
/* Answer a request whose input is refused (413, 431, 400) at once; the
 * connection reads the rest of its input and drops it. */
void sl_conns_host_reject(sl_conns *cs, sl_req *req, int status, const char *detail);
/* The connection of a running request went away, or the web server
 * aborted it: req->conn is NULL already. */
void sl_conns_host_cancel(sl_conns *cs, sl_req *req);
/* A connection was closed and freed (cs->n is one lower). */
void sl_conns_host_gone(sl_conns *cs);

#endif
