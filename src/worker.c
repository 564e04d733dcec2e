/*
 * worker.c: a worker process (see worker.h).
 *
 * Requests reach sl_worker_dispatch() with all their input.  Loop handlers
 * run right there; pool handlers go to libuv's thread pool, sized by
 * --threads through UV_THREADPOOL_SIZE (each worker is its own process, so
 * the pool is the worker's own).  Every request ends in sl_worker_finish()
 * on the loop thread.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "worker.h"

static void maybe_done(sl_worker *w);

int sl_worker_on_loop(const sl_worker *w)
{
    uv_thread_t self = uv_thread_self();
    return uv_thread_equal(&self, &w->loop_thread);
}

static void log_handler_error(sl_req *req, int rc)
{
    sl_error("handler for %s %s failed: %s", sl_req_method(req),
             sl_req_route(req), rc < 0 ? strerror(-rc) : "invalid return value");
}

void sl_worker_finish(sl_worker *w, sl_req *req)
{
    req->state = SL_REQ_DONE;
    if (req->conn != NULL && !req->cancelled) {
        sl_buf bytes;
        sl_buf_init(&bytes);
        if (sl_resp_encode(req, &bytes, 1) < 0) {
            sl_buf_free(&bytes);
            sl_conn_close(req->conn, "out of memory");
        } else {
            sl_conn *c = req->conn;
            sl_conn_send(c, &bytes);
            sl_conn_request_done(c, req);
        }
    }
    sl_req_free(req);
    w->inflight--;
    maybe_done(w);
}

void sl_worker_complete(sl_worker *w, sl_req *req, int rc)
{
    if (rc != SL_OK) {
        log_handler_error(req, rc);
        if (!req->head_sent)
            sl_resp_problem(req, 500, NULL);
    } else if (req->resp_error != NULL && !req->head_sent) {
        sl_error("handler for %s %s set an invalid response (%s): sending 500",
                 sl_req_method(req), sl_req_route(req), req->resp_error);
        sl_resp_problem(req, 500, NULL);
    }
    sl_worker_finish(w, req);
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
        if (f->req->conn != NULL && !f->req->cancelled)
            sl_conn_send(f->req->conn, &f->bytes);
        sl_buf_free(&f->bytes);
        free(f);
        f = next;
    }
}

static void on_flush_async(uv_async_t *a)
{
    drain_flushes(a->data);
}

int sl_worker_queue_flush(sl_worker *w, sl_req *req, sl_buf *bytes)
{
    sl_flush *f = malloc(sizeof *f);
    if (f == NULL) {
        sl_buf_free(bytes);
        return -ENOMEM;
    }
    f->next = NULL;
    f->req = req;
    f->bytes = *bytes;
    sl_buf_init(bytes);
    uv_mutex_lock(&w->flush_lock);
    if (w->flush_tail != NULL)
        w->flush_tail->next = f;
    else
        w->flush_head = f;
    w->flush_tail = f;
    uv_mutex_unlock(&w->flush_lock);
    uv_async_send(&w->flush_async);
    return 0;
}

static sl_handler req_handler(const sl_req *req)
{
    sl_handler h;
    memcpy(&h, &req->match.target->handler, sizeof h);
    return h;
}

static void work_cb(uv_work_t *work)
{
    sl_req *req = work->data;
    req->handler_rc = req_handler(req)(req);
}

static void after_work_cb(uv_work_t *work, int status)
{
    sl_req *req = work->data;
    sl_worker *w = req->worker;
    /* Bytes the handler flushed must go out before its final ones. */
    drain_flushes(w);
    int rc = status < 0 ? status : req->handler_rc;
    if (rc == SL_LATER)
        rc = -EINVAL;   /* only loop handlers may answer later */
    sl_worker_complete(w, req, rc);
}

/* Answer from the route table's verdict when no handler is to run. */
static int route_error(sl_req *req, int m)
{
    char detail[160];
    switch (m) {
    case SL_MATCH_NOT_FOUND:
        return sl_resp_problem(req, 404, NULL);
    case SL_MATCH_BAD_METHOD:
        sl_resp_problem(req, 405, NULL);
        return sl_resp_header(req, "Allow", req->match.allow);
    default:
        snprintf(detail, sizeof detail, "path parameter '%s': %s",
                 req->match.bad_param ? req->match.bad_param : "?",
                 req->match.bad_reason ? req->match.bad_reason : "invalid");
        return sl_resp_problem(req, 422, detail);
    }
}

void sl_worker_dispatch(sl_worker *w, sl_req *req)
{
    req->state = SL_REQ_RUNNING;
    req->app = w->app;
    req->worker = w;
    w->inflight++;
    int rc = sl_req_resolve_path(req);
    if (rc < 0) {
        sl_resp_problem(req, rc == -EINVAL ? 400 : 500,
                        rc == -EINVAL ? "malformed percent-encoding in the path" : NULL);
        sl_worker_finish(w, req);
        return;
    }
    int m = sl_router_match(w->app->router, sl_req_method(req), req->path,
                            strlen(req->path), &req->match);
    if (m != SL_MATCH_OK) {
        route_error(req, m);
        sl_worker_finish(w, req);
        return;
    }
    if (req->match.target->flags & SL_LOOP) {
        rc = req_handler(req)(req);
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

void sl_worker_reject(sl_worker *w, sl_req *req, int status, const char *detail)
{
    req->state = SL_REQ_RUNNING;
    req->app = w->app;
    req->worker = w;
    w->inflight++;
    sl_info("refused request from %s: %d %s", req->conn ? req->conn->peer : "?",
            status, detail);
    sl_resp_problem(req, status, detail);
    sl_worker_finish(w, req);
}

void sl_worker_cancel(sl_worker *w, sl_req *req)
{
    (void)w;
    __atomic_store_n(&req->cancelled, 1, __ATOMIC_RELAXED);
    if (req->later && req->on_cancel != NULL)
        req->on_cancel(req);
}

/* ---- stopping --------------------------------------------------------- */

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Drained: close what keeps the loop alive, so uv_run() returns. */
static void maybe_done(sl_worker *w)
{
    if (!w->draining || w->nconns > 0 || w->inflight > 0)
        return;
    for (int i = 0; i < w->nsignals; i++)
        close_handle((uv_handle_t *)&w->signals[i]);
    close_handle((uv_handle_t *)&w->flush_async);
}

/* Connections that waited on a paused listener are taken now. */
static void resume_accepting(sl_worker *w)
{
    for (int i = 0; i < w->nlisteners; i++) {
        sl_listener *l = &w->listeners[i];
        if (!l->paused || w->draining || w->nconns >= (unsigned)w->cfg->max_connections)
            continue;
        if (sl_conn_accept(w, &l->u.stream, l->proto) == 0)
            l->paused = 0;
    }
}

void sl_worker_conn_gone(sl_worker *w)
{
    resume_accepting(w);
    maybe_done(w);
}

static void start_drain(sl_worker *w)
{
    if (w->draining)
        return;
    w->draining = 1;
    sl_info("stopping: draining %u connections, %u requests in flight",
            w->nconns, w->inflight);
    for (int i = 0; i < w->nlisteners; i++)
        close_handle(&w->listeners[i].u.handle);
    sl_conn *c = w->conns;
    while (c != NULL) {
        sl_conn *next = c->next;
        sl_conn_drain(c);
        c = next;
    }
    maybe_done(w);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    start_drain(s->data);
}

/* ---- starting --------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    sl_listener *l = server->data;
    if (status < 0) {
        sl_warn("accept: %s", uv_strerror(status));
        return;
    }
    sl_worker *w = l->worker;
    if (w->draining)
        return;
    /*
     * At the connection limit the connection is left unaccepted: libuv then
     * stops watching this listener until uv_accept() is called, and the
     * kernel's queue holds the rest (or hands them to another worker).
     */
    if (w->nconns >= (unsigned)w->cfg->max_connections ||
        sl_conn_accept(w, server, l->proto) < 0) {
        if (!l->paused)
            sl_warn("%u connections: accepting paused", w->nconns);
        l->paused = 1;
    }
}

static int open_listener(sl_worker *w, sl_listener *l, int fd, enum sl_proto proto)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int rc;
    l->worker = w;
    l->proto = proto;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_UNIX) {
        uv_pipe_init(&w->loop, &l->u.pipe, 0);
        rc = uv_pipe_open(&l->u.pipe, fd);
    } else {
        uv_tcp_init(&w->loop, &l->u.tcp);
        rc = uv_tcp_open(&l->u.tcp, fd);
    }
    l->u.handle.data = l;
    if (rc == 0)
        rc = uv_listen(&l->u.stream, w->cfg->backlog, on_connection);
    return rc;
}

static int setup_signals(sl_worker *w)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGQUIT};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&w->loop, &w->signals[i]);
        w->signals[i].data = w;
        w->nsignals++;
        int rc = uv_signal_start(&w->signals[i], on_signal, sigs[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int worker_init(sl_worker *w, const sl_config *cfg, const int *fds)
{
    char err[512];
    w->cfg = cfg;
    w->loop_thread = uv_thread_self();
    w->limits.max_conns = (unsigned)cfg->max_connections;
    w->limits.max_reqs = (unsigned)cfg->max_connections * (unsigned)cfg->max_conn_requests;
    w->limits.mpxs_conns = 1;
    w->max_params = (size_t)cfg->max_params_size;
    w->max_body = (size_t)cfg->max_body_size;
    w->max_reqs_per_conn = (unsigned)cfg->max_conn_requests;
    w->rbuf_size = 64 * 1024;
    w->rbuf = malloc(w->rbuf_size);
    if (w->rbuf == NULL)
        return -ENOMEM;
    int rc = uv_mutex_init(&w->flush_lock);
    if (rc == 0)
        rc = uv_async_init(&w->loop, &w->flush_async, on_flush_async);
    if (rc < 0)
        return rc;
    w->flush_async.data = w;
    if ((rc = setup_signals(w)) < 0)
        return rc;
    w->app = sl_app_load(cfg->app_path, &w->loop, err, sizeof err);
    if (w->app == NULL) {
        sl_error("%s", err);
        return -EINVAL;
    }
    if (w->app->on_start != NULL && (rc = w->app->on_start(w->app)) != 0) {
        sl_error("the application's worker start hook failed (%d)", rc);
        return -ECANCELED;
    }
    for (int i = 0; i < cfg->nlisteners; i++) {
        rc = open_listener(w, &w->listeners[i], fds[i], cfg->listeners[i].proto);
        w->nlisteners++;
        if (rc < 0) {
            sl_error("listen on %s: %s", cfg->listeners[i].text, uv_strerror(rc));
            return rc;
        }
    }
    return 0;
}

int sl_worker_main(const sl_config *cfg, const int *fds)
{
    char n[16];
    snprintf(n, sizeof n, "%d", cfg->threads);
    setenv("UV_THREADPOOL_SIZE", n, 1);
    sl_log_set_role("worker");
    sl_worker *w = calloc(1, sizeof *w);
    if (w == NULL || uv_loop_init(&w->loop) < 0)
        return 1;
    int rc = worker_init(w, cfg, fds);
    if (rc == 0) {
        sl_info("worker ready: %d threads", cfg->threads);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        if (w->app->on_stop != NULL)
            w->app->on_stop(w->app);
    } else {
        /* Close what was opened so the loop can be closed cleanly. */
        w->draining = 1;
        for (int i = 0; i < w->nlisteners; i++)
            close_handle(&w->listeners[i].u.handle);
        maybe_done(w);
        uv_run(&w->loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&w->loop);
    uv_mutex_destroy(&w->flush_lock);
    sl_app_free(w->app);
    free(w->rbuf);
    free(w);
    return rc == 0 ? 0 : 3;
}
