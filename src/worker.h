/*
 * worker.h: a worker process: one libuv loop on the inherited listeners,
 * one thread pool, the application, and the requests in flight.
 */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

#include <uv.h>
#include "app.h"
#include "config.h"
#include "conn.h"
#include "fcgi.h"
#include "request.h"

typedef struct sl_listener {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } u;
    struct sl_worker *worker;
    enum sl_proto proto;
    int paused;                     /* a connection waits for uv_accept() */
} sl_listener;

/* Bytes a pool thread flushed, waiting for the loop to write them. */
typedef struct sl_flush {
    struct sl_flush *next;
    sl_req *req;
    sl_buf bytes;
} sl_flush;

typedef struct sl_worker {
    uv_loop_t loop;
    const sl_config *cfg;
    sl_app *app;
    sl_listener listeners[SL_MAX_LISTENERS];
    int nlisteners;
    uv_signal_t signals[3];
    int nsignals;
    uv_async_t flush_async;
    uv_mutex_t flush_lock;
    sl_flush *flush_head, *flush_tail;
    uv_thread_t loop_thread;
    sl_conn *conns;
    unsigned nconns;
    unsigned inflight;              /* requests handed to handlers */
    int draining;
    fcgi_limits limits;
    /* Bounds on what one peer can make us hold. */
    size_t max_params;
    size_t max_body;
    unsigned max_reqs_per_conn;
    /* One read buffer for every connection: bytes that do not make a whole
     * record are copied to the connection's own buffer. */
    char *rbuf;
    size_t rbuf_size;
} sl_worker;

/*
 * Run a worker on the listening sockets fds[0..cfg->nlisteners) until it is
 * told to stop and has drained.  Returns the process exit status.
 */
int sl_worker_main(const sl_config *cfg, const int *fds);

/* A request has all its input: route it and run its handler. */
void sl_worker_dispatch(sl_worker *w, sl_req *req);

/* The connection of a running request went away or the web server aborted
 * it: mark it cancelled and tell the application. */
void sl_worker_cancel(sl_worker *w, sl_req *req);

/* A connection was closed and freed: resume accepting, or maybe the drain
 * is complete. */
void sl_worker_conn_gone(sl_worker *w);

/* Answer a request whose input is refused (413, 431, 400) at once, without
 * reading the rest of it. */
void sl_worker_reject(sl_worker *w, sl_req *req, int status, const char *detail);

/* True on the worker's loop thread. */
int sl_worker_on_loop(const sl_worker *w);

/* sl_resp_flush() from a pool thread: hand the bytes to the loop. */
int sl_worker_queue_flush(sl_worker *w, sl_req *req, sl_buf *bytes);

/* End a running request (loop thread): encode, send, free. */
void sl_worker_finish(sl_worker *w, sl_req *req);

/* A handler is done with `rc`: an error, or an invalid status or header,
 * becomes a 500 (while nothing was flushed yet); then finish. */
void sl_worker_complete(sl_worker *w, sl_req *req, int rc);

#endif
