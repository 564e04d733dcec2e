/*
 * worker.h: a worker process: one libuv loop on the inherited listeners,
 * one thread pool, the application, and the requests in flight.
 */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "api/app.h"
#include "api/request.h"
#include "config/config.h"
#include "proto/fcgi.h"
#include "worker/conn.h"
#include "worker/endpoints.h"
#include "worker/scoreboard.h"

typedef struct sl_listener {
    sl_stream u;
    struct sl_worker *worker;
    enum sl_proto proto;
    int paused;                     /* a connection waits for uv_accept() */
    int index;                      /* in the config's listeners */
    int at_limit;                   /* closed at --max-connections:
                                       SL_LISTENER_CLOSING, _CLOSED or 0 */
    int reopen;                     /* reopen once closed */
} sl_listener;

enum { SL_LISTENER_CLOSING = 1, SL_LISTENER_CLOSED };

/* How much of a streaming response is queued but not yet written. */
typedef struct sl_flow sl_flow;

/* Bytes a pool thread flushed, waiting for the loop to write them. */
typedef struct sl_flush {
    struct sl_flush *next;
    struct sl_worker *worker;
    sl_req *req;
    sl_flow *flow;
    sl_buf bytes;
} sl_flush;

/* Other workers a worker compares itself with before it accepts. */
#define SL_WORKER_PEERS 16

/*
 * A route's names for a method, kept (see dispatch.c, name_route): its
 * scoreboard id, and req->what, "GET /items/{id:int}" escaped.
 */
#define SL_ROUTE_NAMES 8
typedef struct sl_route_name {
    const void *route;              /* the route's target; NULL: empty */
    char method[16];                /* the method as the peer sent it */
    unsigned route_id;
    size_t what_len;
    char what[128];                 /* as sl_req.what */
} sl_route_name;

/* What the master hands a new worker. */
typedef struct sl_worker_args {
    const sl_config *cfg;
    const int *fds;                 /* cfg->nlisteners listening sockets */
    sl_scoreboard *sb;
    int slot;
    int log_fd;                     /* the error log itself */
    int ctl_fd;                     /* its end of the control socket (ctl.h);
                                       -1: none */
} sl_worker_args;

typedef struct sl_worker {
    uv_loop_t loop;
    const sl_config *cfg;
    sl_app *app;
    sl_listener listeners[SL_MAX_LISTENERS];
    int nlisteners;
    uv_signal_t signals[4];
    int nsignals;
    uv_async_t flush_async;
    uv_mutex_t flush_lock;
    uv_cond_t flush_cond;
    sl_flush *flush_head, *flush_tail;
    uv_thread_t loop_thread;
    sl_conns conns;                 /* its connections; conns.draining: the
                                       worker is stopping */
    unsigned inflight;              /* requests handed to handlers */
    sl_req *running;                /* those requests, newest first */
    sl_req *req_cache;              /* freed requests, kept for reuse */
    unsigned req_cached;
    sl_req_host req_host;           /* every request's host (flush, end) */
    /* The scoreboard and this worker's slot in it. */
    sl_scoreboard *sb;
    sl_sb_slot *slot;
    sl_endpoints endpoints;         /* health, status, metrics */
    uv_timer_t watch;
    uv_check_t accept_turn;         /* the end of a turn that accepted, or
                                       of one that left a connection waiting */
    uv_timer_t accept_delay;        /* accept it a moment later: others are
                                       idler, or this turn took its share */
    int took_this_turn;             /* connections taken this turn */
    /* The other workers' slots that were ready at the last look (the
     * watch's tick): who might take a connection instead. */
    unsigned peers[SL_WORKER_PEERS];
    int npeers;
    uint64_t ticks;
    unsigned idle_ticks;            /* ticks since the last request ended */
    int trim_due;                   /* the heap grew since the last trim */
    unsigned inflight_peak;         /* highest in flight since the last trim */
    uint64_t rss;
    uint64_t served;
    uint64_t max_requests;          /* --max-requests plus jitter; 0: off */
    int retiring;                   /* asked the master for a replacement */
    sl_route_name route_names[SL_ROUTE_NAMES];
    sl_buf answer;                  /* an answer being encoded (dispatch.c),
                                       kept for the next */
    /* Request ids: a per-worker random prefix and a counter. */
    char id_prefix[16];
    uint64_t id_counter;
    /* Logs. */
    int log_fd;
    int access_fd;                  /* -1: no access log */
    uv_pipe_t app_stderr;           /* what the app writes to stderr */
    int app_stderr_open;
    sl_buf app_line;
    int ctl_fd;                     /* the master's control socket; -1: none */
    uv_poll_t ctl_poll;
    /* The end of a worker's life (see sl_worker_maybe_done). */
    int app_started;                /* start hook done: drain and stop are due */
    int finishing;                  /* drained: the stop hook is scheduled */
    uv_timer_t finish;              /* ... for the next turn of the loop */
} sl_worker;

/*
 * Run a worker until it is told to stop and has drained.  Returns the
 * process exit status.
 */
int sl_worker_main(const sl_worker_args *args);

/* The worker whose connections these are (it embeds them). */
static inline sl_worker *sl_conns_worker(sl_conns *cs)
{
    return (sl_worker *)((uintptr_t)cs - offsetof(sl_worker, conns));
}

/* The worker whose request this is: its host is the worker's req_host. */
static inline sl_worker *sl_req_worker(const sl_req *req)
{
    return (sl_worker *)((uintptr_t)req->host - offsetof(sl_worker, req_host));
}

/* worker.c: look again for the other ready workers (w->peers). */
void sl_worker_find_peers(sl_worker *w);

/* ---- reqcache.c ----------------------------------------------------------
 * The connections' host (conn.h) for making and freeing requests:
 * sl_conns_host_req_new gives one kept from an earlier request when there
 * is one. */

/* The worker is done with a request: its flow is released, and it is kept
 * for the next one or freed. */
void sl_worker_req_free(sl_worker *w, sl_req *req);
/* Free the requests kept for reuse. */
void sl_worker_req_cache_free(sl_worker *w);

/* ---- dispatch.c ---------------------------------------------------------- */

/* dispatch.c is the connections' host (conn.h) for a request's life:
 * sl_conns_host_dispatch routes a request and runs its handler,
 * sl_conns_host_reject answers a refused one at once, sl_conns_host_cancel
 * cancels a running one. */

/* A request whose input is all in: route it and run its handler (the
 * connections' sl_conns_host_dispatch, which the in-process test client
 * calls with no connection).  It ends in sl_worker_finish(). */
static inline void sl_worker_dispatch(sl_worker *w, sl_req *req)
{
    sl_conns_host_dispatch(&w->conns, req);
}

/* A running request's connection went away, the web server aborted it, or
 * it timed out: mark it cancelled and tell the application. */
void sl_worker_cancel(sl_worker *w, sl_req *req);

/* Past --timeout: answer 504 now and discard the handler's result. */
void sl_worker_time_out(sl_worker *w, sl_req *req);

/* True on the worker's loop thread. */
int sl_worker_on_loop(const sl_worker *w);

/* The host of the worker's requests (sl_req_host): sl_resp_flush() sends
 * at once on the loop thread, and from a pool thread hands the bytes to
 * the loop, waiting while too much of the response is still unwritten;
 * sl_resp_end() completes the request, on the loop thread only. */
int sl_worker_host_flush(sl_req *req, sl_buf *bytes);
int sl_worker_host_end(sl_req *req);
/* flush_async's callback: the loop writes what pool threads flushed. */
void sl_worker_on_flush_async(uv_async_t *a);
/* A request with a flow is freed: drop its reference. */
void sl_worker_flow_release(sl_worker *w, sl_flow *f);

/* The crash handler's hook (sl_bt_on_crash): the request whose `what` the
 * crashing thread runs goes into the pool's table of recent crashes, so
 * that its retry is answered 500 instead of run.  Async-signal-safe. */
void sl_worker_record_crash(const char *what);

/* End a running request (loop thread): encode, send, count, log, free. */
void sl_worker_finish(sl_worker *w, sl_req *req);

/* A handler is done with `rc`: an error, or an invalid status or header,
 * becomes a 500 (while nothing was flushed yet); then finish. */
void sl_worker_complete(sl_worker *w, sl_req *req, int rc);

/* ---- worker.c ------------------------------------------------------------ */

/* worker.c is the connections' host (conn.h) for their end:
 * sl_conns_host_gone resumes accepting, or finds the drain complete. */

/* If draining and nothing is left, let the loop end. */
void sl_worker_maybe_done(sl_worker *w);

/* w->app is loaded: make it ready to serve (its routes' rows in the
 * scoreboard, its OpenAPI document and docs page, its start hook; then
 * w->app_started).  The start hook's
 * result: 0, or what it returned.  The in-process test client starts its
 * app here too, so what a worker does at start applies to both. */
int sl_worker_app_start(sl_worker *w);

/* ---- watch.c ------------------------------------------------------------- */

void sl_watch_start(sl_worker *w);
/* After each request: retire past --max-requests. */
void sl_worker_check_recycle(sl_worker *w);
/* Ask the master, once, to replace this worker (enum sl_sb_reason). */
void sl_worker_retire(sl_worker *w, int reason, const char *why);

#endif
