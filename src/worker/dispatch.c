/*
 * dispatch.c: a request's life in a worker, from the moment all its input
 * is in (sl_conns_host_dispatch: the worker is its connections' host) to
 * the moment its last byte is queued (sl_worker_finish).
 *
 * Loop handlers run right in sl_conns_host_dispatch(); pool handlers go to
 * libuv's thread pool, sized by --threads through UV_THREADPOOL_SIZE (each
 * worker is its own process, so the pool is the worker's own).  Every
 * request ends in sl_worker_finish() on the loop thread, also one that timed
 * out or was cancelled: there its result is discarded.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "api/args.h"
#include "api/errors.h"
#include "util/accesslog.h"
#include "util/backtrace.h"
#include "util/escape.h"
#include "util/log.h"
#include "worker/worker.h"

/* The answer buffer a worker keeps (w->answer), at most. */
#define ANSWER_KEEP (64 * 1024)

/* A pool handler streaming faster than its peer reads waits past this. */
#define FLOW_LIMIT (256 * 1024)

/* What a flushed piece costs us while queued: its bytes, and the write
 * request, queue entry and buffer slack that carry it (a handler flushing
 * a line at a time must be held back by those too). */
static size_t flow_charge(size_t len)
{
    return len + 512;
}

int sl_worker_on_loop(const sl_worker *w)
{
    uv_thread_t self = uv_thread_self();
    return uv_thread_equal(&self, &w->loop_thread);
}

/* ---- the running list and the scoreboard ----------------------------- */

static void running_add(sl_worker *w, sl_req *req)
{
    req->wprev = NULL;
    req->wnext = w->running;
    if (w->running != NULL)
        w->running->wprev = req;
    w->running = req;
}

static void running_del(sl_worker *w, sl_req *req)
{
    if (req->wprev != NULL)
        req->wprev->wnext = req->wnext;
    else if (w->running == req)
        w->running = req->wnext;
    if (req->wnext != NULL)
        req->wnext->wprev = req->wprev;
    req->wprev = req->wnext = NULL;
}

/* X-Request-ID from the web server when it is short and plain, so it can go
 * into logs and headers as is; otherwise one of ours. */
static void set_request_id(sl_worker *w, sl_req *req)
{
    const char *id = sl_req_known(req, SL_P_REQID);
    size_t n = id ? strlen(id) : 0;
    if (n > 0 && n < sizeof req->request_id &&
        strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789._:-") == n) {
        memcpy(req->request_id, id, n + 1);
        return;
    }
    /* prefix-counter in hex: built by hand, it is on every request's path */
    char *p = req->request_id;
    size_t plen = strlen(w->id_prefix);
    memcpy(p, w->id_prefix, plen);
    p += plen;
    *p++ = '-';
    uint64_t v = ++w->id_counter;
    char hex[17];
    int i = 16;
    hex[i] = '\0';
    do {
        hex[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v != 0);
    memcpy(p, hex + i, (size_t)(17 - i));
}

/* "GET /items/{id:int}", bounded by the buffer.  A crash report writes it
 * as is, from a signal handler: the peer's method is escaped here. */
static void set_what(sl_req *req)
{
    size_t cap = sizeof req->what;
    size_t n = sl_escape_cut(req->what, cap - 1, sl_req_method(req));
    req->what[n++] = ' ';
    sl_escape_cut(req->what + n, cap - n, req->match.pattern);
}

_Static_assert(sizeof ((sl_route_name *)0)->what == sizeof ((sl_req *)0)->what,
               "a kept name is a request's what");

/*
 * The matched route's scoreboard id, and req->what (set_what): both are of
 * the route and the method alone, and cost an escaping of each and a scan
 * of the scoreboard's names; made once per route and method, then copied.
 * An id is kept once the scoreboard has one for the route: the overflow
 * route may still become one (a new generation registers its routes).
 */
static void name_route(sl_worker *w, sl_req *req)
{
    const char *method = sl_req_method(req);
    const void *route = req->match.target;
    size_t ml = strlen(method);
    sl_route_name *e = &w->route_names[((uintptr_t)route / 16) % SL_ROUTE_NAMES];
    if (e->route == route && ml < sizeof e->method && memcmp(e->method, method, ml + 1) == 0) {
        req->route_id = e->route_id;
        memcpy(req->what, e->what, e->what_len + 1);
        return;
    }
    if (w->sb != NULL)
        req->route_id = sl_sb_route_id(w->sb, method, req->match.pattern);
    set_what(req);
    if (ml >= sizeof e->method || (w->sb != NULL && req->route_id == SL_SB_ROUTE_OVERFLOW))
        return;
    e->route = route;
    memcpy(e->method, method, ml + 1);
    e->route_id = req->route_id;
    e->what_len = strlen(req->what);
    memcpy(e->what, req->what, e->what_len + 1);
}

static uint64_t request_bytes_in(const sl_req *req)
{
    return req->params_size + req->body.len;
}

/* Copy s into dst[size], cut to fit. */
static void copy_cut(char *dst, size_t size, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= size)
        n = size - 1;
    memcpy(dst, s ? s : "", n);
    dst[n] = '\0';
}

/* Note the request in the worker's slot, for the access log line the
 * master writes should this worker die with it. */
static void track(sl_worker *w, sl_req *req)
{
    if (w->slot == NULL)
        return;
    for (int i = 0; i < SL_SB_INFLIGHT; i++) {
        sl_sb_inflight *e = &w->slot->inflight[i];
        if (__atomic_load_n(&e->start_ms, __ATOMIC_RELAXED) != 0)
            continue;
        copy_cut(e->method, sizeof e->method, sl_req_method(req));
        copy_cut(e->uri, sizeof e->uri, sl_req_known(req, SL_P_URI));
        copy_cut(e->remote, sizeof e->remote, sl_req_known(req, SL_P_REMOTE));
        copy_cut(e->request_id, sizeof e->request_id, req->request_id);
        e->route = SL_SB_ROUTE_UNMATCHED;
        __atomic_store_n(&e->start_ms, sl_sb_wall_ms(), __ATOMIC_RELEASE);
        req->sb_entry = i + 1;
        return;
    }
}

static void untrack(sl_worker *w, sl_req *req)
{
    if (req->sb_entry != 0 && w->slot != NULL)
        __atomic_store_n(&w->slot->inflight[req->sb_entry - 1].start_ms, 0, __ATOMIC_RELEASE);
    req->sb_entry = 0;
}

/* Every request is counted once: begin when its input is in, end when it
 * is answered (or times out). */
static void begin(sl_worker *w, sl_req *req)
{
    req->state = SL_REQ_RUNNING;
    req->app = w->app;
    req->start_ns = uv_hrtime();
    w->inflight++;
    running_add(w, req);
    set_request_id(w, req);
    if (w->sb != NULL)
        sl_sb_request_begin(w->sb, w->slot);
    track(w, req);
}

/* The access log line of `req`, answered with `status` after `us` µs. */
static void access_log(sl_worker *w, const sl_req *req, int status, uint64_t us)
{
    if (w->access_fd < 0)
        return;
    const char *uri = sl_req_known(req, SL_P_URI);
    sl_access_fields f = {
        .remote = sl_req_known(req, SL_P_REMOTE),
        .method = sl_req_method(req),
        .uri = uri ? uri : req->path,
        .status = status,
        .bytes = req->bytes_out,
        .duration_us = us,
        .queue_us = req->handler_ns > req->start_ns ? (req->handler_ns - req->start_ns) / 1000 : 0,
        .route = sl_req_route(req),
        .pid = getpid(),
        .request_id = req->request_id,
    };
    sl_access_write(w->access_fd, w->cfg->access_log_format, &f);
}

static void account(sl_worker *w, sl_req *req, int status)
{
    uint64_t us = (uv_hrtime() - req->start_ns) / 1000;
    untrack(w, req);
    if (w->sb != NULL)
        sl_sb_request_end(w->sb, w->slot, req->route_id, status, us,
                          request_bytes_in(req), req->bytes_out);
    access_log(w, req, status, us);
}

/* ---- ending ------------------------------------------------------------ */

void sl_worker_finish(sl_worker *w, sl_req *req)
{
    /* Read once: the sink below is a call the compiler cannot see into,
     * and an ordinary request must not pay for reading it twice. */
    int cancelled = req->cancelled;
    req->state = SL_REQ_DONE;
    running_del(w, req);
    if (req->conn != NULL && !cancelled) {
        /* Encoded into the worker's kept buffer: the kernel takes nearly
         * every answer at once, and only what it leaves is copied. */
        sl_buf *bytes = &w->answer;
        bytes->len = 0;
        if (sl_resp_encode(req, bytes, 1) < 0) {
            sl_conn_close(req->conn, "out of memory");
        } else {
            sl_conn *c = req->conn;
            sl_conn_send_copy(c, bytes);
            sl_conn_request_done(c, req);
        }
        if (bytes->cap > ANSWER_KEEP)
            sl_buf_free(bytes);
    } else if (req->host->sink != NULL) {
        req->host->sink(req);
    }
    /* A timed-out request was counted and logged when it timed out. */
    if (!req->timed_out)
        account(w, req, cancelled ? 499 : req->status);
    sl_worker_req_free(w, req);
    w->inflight--;
    w->served++;
    sl_worker_check_recycle(w);
    sl_worker_maybe_done(w);
}

/* The handler's response is not the one it meant: none of its headers go
 * out with sluice's 500 (a Cache-Control would let the error be cached). */
static void fail_500(sl_req *req)
{
    req->headers.len = 0;
    sl_error_answer(req, 500, NULL, NULL);
}

void sl_worker_complete(sl_worker *w, sl_req *req, int rc)
{
    /* req->what is "METHOD /pattern" with the peer's method escaped. */
    if (rc != SL_OK) {
        sl_error("handler for %s failed: %s", req->what,
                 rc < 0 ? strerror(-rc) : "invalid return value");
        if (!req->head_sent)
            fail_500(req);
    } else if (req->resp_error != NULL && !req->head_sent) {
        sl_error("handler for %s set an invalid response (%s): sending 500",
                 req->what, req->resp_error);
        fail_500(req);
    }
    sl_worker_finish(w, req);
}

/* ---- streaming from pool threads --------------------------------------- */

/*
 * Bytes a pool handler flushed are written by the loop.  The handler's
 * thread waits once FLOW_LIMIT bytes of its response are queued but not yet
 * written, so a web server that stops reading stops the producer instead of
 * growing our memory.  The count lives in a small shared object, since the
 * request may be gone before its last write completes.
 */
struct sl_flow {
    unsigned refs;
    size_t unsent;
};

static void flow_put_locked(sl_flow *f)
{
    if (--f->refs == 0)
        free(f);
}

void sl_worker_flow_release(sl_worker *w, sl_flow *f)
{
    uv_mutex_lock(&w->flush_lock);
    flow_put_locked(f);
    uv_mutex_unlock(&w->flush_lock);
}

static void flow_written(void *arg, size_t len)
{
    sl_flush *f = arg;
    sl_worker *w = f->worker;
    uv_mutex_lock(&w->flush_lock);
    f->flow->unsent -= flow_charge(len);
    flow_put_locked(f->flow);
    uv_cond_broadcast(&w->flush_cond);
    uv_mutex_unlock(&w->flush_lock);
    free(f);
}

/* Flushed bytes from pool threads, written in the order they came. */
static void drain_flushes(sl_worker *w)
{
    uv_mutex_lock(&w->flush_lock);
    sl_flush *f = w->flush_head;
    w->flush_head = w->flush_tail = NULL;
    uv_mutex_unlock(&w->flush_lock);
    while (f != NULL) {
        sl_flush *next = f->next;
        size_t len = f->bytes.len;
        if (f->req->conn != NULL && !f->req->cancelled) {
            sl_conn_send_cb(f->req->conn, &f->bytes, flow_written, f);
        } else {
            sl_buf_free(&f->bytes);
            flow_written(f, len);
        }
        f = next;
    }
}

void sl_worker_on_flush_async(uv_async_t *a)
{
    drain_flushes(a->data);
}

static int queue_flush(sl_worker *w, sl_req *req, sl_buf *bytes)
{
    sl_flush *f = malloc(sizeof *f);
    if (f == NULL) {
        sl_buf_free(bytes);
        return -ENOMEM;
    }
    f->next = NULL;
    f->req = req;
    f->worker = w;
    f->bytes = *bytes;
    sl_buf_init(bytes);
    uv_mutex_lock(&w->flush_lock);
    if (req->flow == NULL && (req->flow = calloc(1, sizeof *req->flow)) != NULL)
        req->flow->refs = 1;
    if (req->flow == NULL) {
        uv_mutex_unlock(&w->flush_lock);
        sl_buf_free(&f->bytes);
        free(f);
        return -ENOMEM;
    }
    while (req->flow->unsent > FLOW_LIMIT && !__atomic_load_n(&req->cancelled, __ATOMIC_RELAXED))
        uv_cond_wait(&w->flush_cond, &w->flush_lock);
    f->flow = req->flow;
    f->flow->refs++;
    f->flow->unsent += flow_charge(f->bytes.len);
    if (w->flush_tail != NULL)
        w->flush_tail->next = f;
    else
        w->flush_head = f;
    w->flush_tail = f;
    uv_mutex_unlock(&w->flush_lock);
    uv_async_send(&w->flush_async);
    return 0;
}

int sl_worker_host_flush(sl_req *req, sl_buf *bytes)
{
    sl_worker *w = sl_req_worker(req);
    if (!sl_worker_on_loop(w))
        return queue_flush(w, req, bytes);
    if (req->conn != NULL)
        sl_conn_send(req->conn, bytes);
    sl_buf_free(bytes);
    return 0;
}

int sl_worker_host_end(sl_req *req)
{
    sl_worker *w = sl_req_worker(req);
    if (!sl_worker_on_loop(w))
        return -EINVAL;
    sl_worker_complete(w, req, SL_OK);
    return 0;
}

/* ---- a request that crashed a worker ------------------------------------ */

/*
 * What makes a request the same request when the web server sends it again
 * after the worker running it died: method, REQUEST_URI, X-Request-ID
 * (nginx keeps $request_id on a retry), the client's address and port, and
 * the body.  nginx retries with the very parameters it built once, so all
 * of them match; the client's port sets apart the same URL asked for on
 * another client connection, which must not get a 500 for a crash that
 * was not its own.  Reads bytes already in memory and nothing else, so the
 * crash handler may call it.
 */
static uint64_t request_digest(const sl_req *req)
{
    static const enum sl_known_param known[] = {SL_P_METHOD, SL_P_URI, SL_P_REQID,
                                                 SL_P_REMOTE};
    uint64_t h = SL_SB_DIGEST_INIT;
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        const char *v = sl_req_known(req, known[i]);
        h = sl_sb_digest(h, v, v != NULL ? strlen(v) : 0);
    }
    const char *port = sl_req_param(req, "REMOTE_PORT");
    h = sl_sb_digest(h, port, port != NULL ? strlen(port) : 0);
    return sl_sb_digest(h, req->body.data, req->body.len);
}

/* The crash handler's hook (see sl_bt_on_crash), with the `what` of the
 * request the crashing thread runs: only that request is recorded, not the
 * others in flight in the worker, whose retries must run.  `what` is always
 * a request's own req->what (run_on_loop, work_cb), so the request is found
 * from it, and on the hot path setting what a thread runs stays one store. */
void sl_worker_record_crash(const char *what)
{
    const sl_req *req = (const sl_req *)(const void *)(what - offsetof(sl_req, what));
    const sl_worker *w = sl_req_worker(req);
    if (w->sb != NULL)
        sl_sb_crash_record(w->sb, request_digest(req), sl_sb_mono_ms());
}

/* Whether this request crashed a worker moments ago.  While nothing did,
 * one atomic load. */
static int crashed_lately(sl_worker *w, const sl_req *req)
{
    if (w->sb == NULL || !sl_sb_crash_pending(w->sb))
        return 0;
    return sl_sb_crash_seen(w->sb, request_digest(req), sl_sb_mono_ms());
}

/* ---- running handlers ---------------------------------------------------- */

static sl_handler req_handler(const sl_req *req)
{
    sl_handler h;
    memcpy(&h, &req->match.target->handler, sizeof h);
    return h;
}

static void work_cb(uv_work_t *work)
{
    sl_req *req = work->data;
    req->thread = pthread_self();
    req->handler_ns = uv_hrtime();
    __atomic_store_n(&req->on_thread, 1, __ATOMIC_RELEASE);
    sl_bt_set_current(req->what);
    req->handler_rc = req_handler(req)(req);
    sl_bt_set_current(NULL);
    __atomic_store_n(&req->on_thread, 0, __ATOMIC_RELEASE);
}

/*
 * A loop handler runs between two ticks of the watch: name it in the slot
 * now, so that if it blocks the loop, the master's report says what it was.
 */
static int run_on_loop(sl_worker *w, sl_req *req)
{
    if (w->slot != NULL) {
        __atomic_store_n(&w->slot->current_route, req->route_id, __ATOMIC_RELAXED);
        __atomic_store_n(&w->slot->current_start_ms, sl_sb_mono_ms(), __ATOMIC_RELAXED);
    }
    req->handler_ns = uv_hrtime();
    sl_bt_set_current(req->what);
    int rc = req_handler(req)(req);
    sl_bt_set_current(NULL);
    return rc;
}

static void after_work_cb(uv_work_t *work, int status)
{
    sl_req *req = work->data;
    sl_worker *w = sl_req_worker(req);
    /* Bytes the handler flushed must go out before its final ones. */
    drain_flushes(w);
    int rc = status < 0 ? status : req->handler_rc;
    if (rc == SL_LATER)
        rc = -EINVAL;   /* only loop handlers may answer later */
    sl_worker_complete(w, req, rc);
}

/* Answer from the route table's verdict when no handler is to run. */
static void route_error(sl_req *req, int m)
{
    switch (m) {
    case SL_MATCH_NOT_FOUND:
        sl_error_answer(req, 404, NULL, NULL);
        return;
    case SL_MATCH_BAD_METHOD:
        sl_resp_header(req, "Allow", req->match.allow);
        sl_error_answer(req, 405, NULL, NULL);
        return;
    default:
        sl_args_bad_path(req);
    }
}

/* Past --limit-concurrency a request is refused at once, never queued out
 * of sight: the web server passes the 503 on, with its Retry-After. */
static int over_limit(sl_worker *w)
{
    return w->cfg->limit_concurrency > 0 &&
           w->inflight > (unsigned)w->cfg->limit_concurrency;
}

void sl_conns_host_dispatch(sl_conns *cs, sl_req *req)
{
    sl_worker *w = sl_conns_worker(cs);
    begin(w, req);
    const char *why;
    int rc = sl_req_resolve_path(req, &why);
    if (rc < 0) {
        /* The client's path, refused as nginx refuses it: say why. */
        sl_error_answer(req, rc == -EINVAL ? 400 : 500, rc == -EINVAL ? why : NULL, NULL);
        sl_worker_finish(w, req);
        return;
    }
    if (sl_endpoint_answer(&w->endpoints, w->conns.draining, req)) {
        sl_worker_finish(w, req);
        return;
    }
    if (over_limit(w)) {
        sl_resp_header(req, "Retry-After", "1");
        sl_error_answer(req, 503, "the worker is at --limit-concurrency; retry shortly", NULL);
        sl_worker_finish(w, req);
        return;
    }
    int m = sl_router_match(w->app->router, sl_req_method(req), req->path,
                            strlen(req->path), req->path_enc, req->path_nenc,
                            &req->match);
    if (m != SL_MATCH_OK) {
        route_error(req, m);
        sl_worker_finish(w, req);
        return;
    }
    name_route(w, req);
    if (req->sb_entry != 0)
        w->slot->inflight[req->sb_entry - 1].route = req->route_id;
    if (crashed_lately(w, req)) {
        /* Its retry, most likely: run it and the next worker dies too. */
        sl_error("request %s (id %s) crashed a worker moments ago: answered 500 "
                 "without running it", req->what, req->request_id);
        sl_error_answer(req, 500, "this request crashed a worker moments ago and "
                                  "is not run again", NULL);
        sl_worker_finish(w, req);
        return;
    }
    /* A route record: its inputs are validated (or answered) here. */
    if (req->match.target->decl != NULL && sl_args_run(req) != 0) {
        sl_worker_finish(w, req);
        return;
    }
    if (req->match.target->flags & SL_LOOP) {
        rc = run_on_loop(w, req);
        if (rc == SL_LATER) {
            req->later = 1;
            return;
        }
        sl_worker_complete(w, req, rc);
        return;
    }
    req->work.data = req;
    rc = uv_queue_work(&w->loop, &req->work, work_cb, after_work_cb);
    if (rc < 0)
        sl_worker_complete(w, req, rc);
}

void sl_conns_host_reject(sl_conns *cs, sl_req *req, int status, const char *detail)
{
    sl_worker *w = sl_conns_worker(cs);
    begin(w, req);
    sl_info("refused request from %s: %d %s", req->conn ? sl_conn_peer(req->conn) : "?",
            status, detail);
    sl_error_answer(req, status, detail, NULL);
    sl_worker_finish(w, req);
}

void sl_worker_cancel(sl_worker *w, sl_req *req)
{
    __atomic_store_n(&req->cancelled, 1, __ATOMIC_RELAXED);
    /* A pool thread waiting to stream more must wake up and see it. */
    uv_mutex_lock(&w->flush_lock);
    uv_cond_broadcast(&w->flush_cond);
    uv_mutex_unlock(&w->flush_lock);
    if (req->later && req->on_cancel != NULL)
        req->on_cancel(req);
}

void sl_conns_host_cancel(sl_conns *cs, sl_req *req)
{
    sl_worker_cancel(sl_conns_worker(cs), req);
}

/*
 * Past --timeout: the web server gets a 504 now (or, when part of the
 * response is already out, its end), the request is logged, and the
 * handler's eventual result is discarded.  The request itself stays on the
 * running list until its handler returns: a pool thread it holds is still
 * held, and the watch retires the worker if that lasts.
 */
void sl_worker_time_out(sl_worker *w, sl_req *req)
{
    uint64_t ms = (uv_hrtime() - req->start_ns) / 1000000;
    req->timed_out = 1;
    /* The peer's method and path, escaped as in the access log. */
    sl_buf m, p;
    sl_buf_init(&m);
    sl_buf_init(&p);
    int ok = sl_escape_append(&m, sl_req_method(req), 0) == 0 &&
             sl_escape_append(&p, req->path ? req->path : "?", 0) == 0;
    sl_error("request %s %s (route %s, id %s) timed out after %llu ms in worker %d: 504",
             ok ? m.data : "?", ok ? p.data : "?", sl_req_route(req),
             req->request_id, (unsigned long long)ms, (int)getpid());
    sl_buf_free(&m);
    sl_buf_free(&p);
    sl_conn *c = req->conn;
    if (c != NULL) {
        sl_buf b;
        sl_buf_init(&b);
        if (!__atomic_load_n(&req->head_sent, __ATOMIC_ACQUIRE)) {
            /* The handler still owns the request's response: a problem
             * answer of its own, made without touching it. */
            sl_error_encode_detached(&b, req, 504, "the request took longer than --timeout");
        } else if (req->proto == SL_PROTO_FASTCGI) {
            fcgi_encode_stream_end(&b, FCGI_STDOUT, req->id);
            fcgi_encode_end_request(&b, req->id, 0, FCGI_REQUEST_COMPLETE);
        }
        sl_conn_send(c, &b);
        sl_conn_request_done(c, req);
    }
    account(w, req, 504);
    sl_worker_cancel(w, req);
}
